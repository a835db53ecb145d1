// Masks that change nothing: `x & m` where every value x can hold is a byte (0…255) and m keeps the low eight bits
// (m & 255 = 255) is x itself, and becomes the copy `x` (copies.ts then joins the two registers). A `char` passed to
// a function is narrowed to a byte by `c & 255` (docs/popcorn.md: char is 0…255), so an inlined character test
// (strscan's is_vowel(c), glob.pop's matcher) masked a value that came from a string's byte (a `movzx`) and was a byte
// already, once per character. The value-range propagation gcc's tree-vrp does, reduced to one range: a register is
// a byte if every instruction writing it gives a byte: a string's byte loaded (`movzx` zero-extends), a constant in
// 0…255, a comparison's 0 or 1 (`set`), a mask by a byte (`& 255`), or a copy of a byte register. Found as the
// greatest fixed point (every register a byte until a write shows otherwise); a parameter is never one (its caller's
// value is not seen).
//
// Requires: a Fn. Gives: no `& m` of a byte that m leaves whole.

import { def, type Fn, type Inst, type Val, type VReg } from './ir.ts';

/** Whether an operand is a byte, given the registers known to be. */
function byteValue(x: Val, bytes: ReadonlySet<VReg>): boolean {
  return x.k === 'imm' ? x.n >= 0 && x.n <= 255 : x.k === 'v' && bytes.has(x.v);
}

/** Whether an instruction's result is a byte, given the registers known to be. */
function givesByte(i: Inst, bytes: ReadonlySet<VReg>): boolean {
  switch (i.op) {
    case 'load': return i.mem.k === 'elem' && i.mem.bytes;
    case 'copy': return byteValue(i.src, bytes);
    case 'set': return true;
    case 'arith': return i.aop === '&' && (byteValue(i.a, bytes) || byteValue(i.b, bytes));
    default: return false;
  }
}

/** The registers that only ever hold a byte. */
export function byteRegisters(f: Fn): Set<VReg> {
  const writes = new Map<VReg, Inst[]>();
  for (const b of f.blocks) {
    for (const { inst } of b.insts) {
      const d = def(inst);
      if (d) writes.set(d, [...(writes.get(d) ?? []), inst]);
    }
  }
  const bytes = new Set([...writes.keys()].filter(v => v.ty === 'int' && !f.params.includes(v)));
  for (let changed = true; changed;) {
    changed = false;
    for (const v of bytes) {
      if (!writes.get(v)!.every(i => givesByte(i, bytes))) { bytes.delete(v); changed = true; }
    }
  }
  return bytes;
}

/** Replaces each mask of a byte that keeps its low eight bits by a copy; returns whether it changed anything. */
export function dropByteMasks(f: Fn): boolean {
  const bytes = byteRegisters(f);
  let changed = false;
  for (const b of f.blocks) {
    b.insts = b.insts.map(line => {
      const i = line.inst;
      if (i.op !== 'arith' || i.aop !== '&') return line;
      const keeps = (m: Val): boolean => m.k === 'imm' && (m.n & 255) === 255;
      const x = keeps(i.b) && byteValue(i.a, bytes) ? i.a : keeps(i.a) && byteValue(i.b, bytes) ? i.b : undefined;
      if (!x) return line;
      changed = true;
      return { ...line, inst: { op: 'copy', dst: i.dst, src: x } };
    });
  }
  return changed;
}
