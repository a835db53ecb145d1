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
// Two more masks change nothing where what reads the value cannot tell: a mask keeping the low eight bits of a value
// only ever stored as a byte (`w[i] = 'a' + r % 4` narrows the sum to a char, and `mov BYTE PTR […], al` stores
// the low eight bits whatever the rest holds); and the sign bias strength.ts puts before a signed x / 2^k or
// x % 2^k (docs: strength.ts), which is zero when x cannot be negative: x ≥ 0 if every write gives a non-negative
// value (a byte, a length, a mask by a non-negative constant, `x >>> k` for k ≥ 1, a copy of one). Then the
// remainder x − ((x + 0) & −2^k) is x & (2^k − 1), as gcc writes `(seed >> 16 & 32767) % 4` (hashtable's
// next_random, inlined into random_word's loop: one `and` for six instructions).
//
// Requires: a Fn, after strength.ts (the bias it makes). Gives: no `& m` of a byte that m leaves whole, none before a
// byte store, no sign bias of a value that cannot be negative.

import { def, uses, type Fn, type Inst, type Val, type VReg } from './ir.ts';
import { eliminateDeadCode } from './dce.ts';

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
      if (d) { if (!writes.has(d)) writes.set(d, []); writes.get(d)!.push(inst); }
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

/** The registers written once, with the instruction that writes them (parameters are written by the caller). */
function singleWrites(f: Fn): Map<VReg, Inst> {
  const count = new Map<VReg, number>(), inst = new Map<VReg, Inst>();
  for (const b of f.blocks) {
    for (const { inst: i } of b.insts) {
      const d = def(i);
      if (d) { count.set(d, (count.get(d) ?? 0) + 1); inst.set(d, i); }
    }
  }
  for (const [v, n] of count) if (n !== 1 || f.params.includes(v)) inst.delete(v);
  return inst;
}

/** Whether an instruction's result is never negative, given the registers known not to be. */
function givesNonNegative(i: Inst, known: ReadonlySet<VReg>): boolean {
  const nonNegative = (x: Val): boolean => (x.k === 'imm' ? x.n >= 0 : x.k === 'v' && known.has(x.v));
  switch (i.op) {
    case 'load': return (i.mem.k === 'elem' && i.mem.bytes) || i.mem.k === 'len';
    case 'copy': return nonNegative(i.src);
    case 'set': return true;
    case 'arith':
      if (i.aop === '&') return nonNegative(i.a) || nonNegative(i.b);
      if (i.aop === '>>>') return i.b.k === 'imm' && (i.b.n & 31) >= 1;
      if (i.aop === '>>') return nonNegative(i.a);
      return false;
    default: return false;
  }
}

/** The registers that are never negative (the greatest fixed point, as byteRegisters). */
export function nonNegativeRegisters(f: Fn): Set<VReg> {
  const writes = new Map<VReg, Inst[]>();
  for (const b of f.blocks) {
    for (const { inst } of b.insts) {
      const d = def(inst);
      if (d) { if (!writes.has(d)) writes.set(d, []); writes.get(d)!.push(inst); }
    }
  }
  const known = new Set([...writes.keys()].filter(v => v.ty === 'int' && !f.params.includes(v)));
  for (let changed = true; changed;) {
    changed = false;
    for (const v of known) {
      if (!writes.get(v)!.every(i => givesNonNegative(i, known))) { known.delete(v); changed = true; }
    }
  }
  return known;
}

/**
 * The masks only byte stores read, and the sign biases of values that cannot be negative, taken out (the comment at
 * the top); returns whether it changed anything.
 */
export function dropUnseenMasks(f: Fn): boolean {
  const once = singleWrites(f), nonNegative = nonNegativeRegisters(f);
  // Every read of each register, and whether all of them are the value a byte store stores.
  const reads = new Map<VReg, number>(), byteStored = new Map<VReg, number>();
  for (const b of f.blocks) {
    for (const { inst } of b.insts) {
      for (const u of uses(inst)) reads.set(u, (reads.get(u) ?? 0) + 1);
      if (inst.op === 'store' && inst.mem.k === 'elem' && inst.mem.bytes && inst.src.k === 'v') {
        const u = inst.src.v, m = inst.mem;
        if (!(m.base.k === 'v' && m.base.v === u) && !(m.index.k === 'v' && m.index.v === u)) {
          byteStored.set(u, (byteStored.get(u) ?? 0) + 1);
        }
      }
    }
    if (b.term.op === 'br' || b.term.op === 'ret') {
      for (const x of b.term.op === 'br' ? [b.term.a, b.term.b] : [b.term.v]) {
        if (x?.k === 'v') reads.set(x.v, (reads.get(x.v) ?? 0) + 1);
      }
    }
  }
  const onlyStored = (v: VReg): boolean => (byteStored.get(v) ?? 0) > 0 && byteStored.get(v) === reads.get(v);
  // A register that holds 0 because it is the sign (or the bias made from the sign) of a value that cannot be negative.
  const zeroSign = (x: Val): boolean => {
    if (x.k !== 'v') return false;
    const i = once.get(x.v);
    if (i?.op !== 'arith' || i.b.k !== 'imm') return false;
    const ofNonNegative = i.a.k === 'v' && nonNegative.has(i.a.v);
    if (i.aop === '>>' && (i.b.n & 31) === 31) return ofNonNegative;
    if (i.aop === '>>>' && (i.b.n & 31) === 31 && ofNonNegative) return true;
    return i.aop === '>>>' && zeroSign(i.a);
  };
  const same = (x: Val, y: Val): boolean => x.k === 'v' && y.k === 'v' && x.v === y.v;
  let changed = false;
  for (const b of f.blocks) {
    const original = b.insts.map(l => l.inst);
    // Whether x is read at `k` with the value it had where `earlier` (an instruction of this block before k) read it.
    const unchanged = (x: Val, earlier: Inst | undefined, k: number): boolean => {
      const j = earlier ? original.indexOf(earlier) : -1;
      return j >= 0 && j < k && x.k === 'v' && !original.slice(j, k).some(w => def(w) === x.v);
    };
    b.insts = b.insts.map((line, k) => {
      const i = line.inst;
      if (i.op !== 'arith') return line;
      const to = (inst: Inst) => { changed = true; return { ...line, inst }; };
      if (i.aop === '&' && onlyStored(i.dst)) {
        if (i.b.k === 'imm' && (i.b.n & 255) === 255) return to({ op: 'copy', dst: i.dst, src: i.a });
        if (i.a.k === 'imm' && (i.a.n & 255) === 255) return to({ op: 'copy', dst: i.dst, src: i.b });
      }
      // bias + x with a zero bias is x.
      if (i.aop === '+' && zeroSign(i.a)) return to({ op: 'copy', dst: i.dst, src: i.b });
      if (i.aop === '+' && zeroSign(i.b)) return to({ op: 'copy', dst: i.dst, src: i.a });
      // x − ((x + 0) & −2^k), the bias gone, is x & (2^k − 1).
      if (i.aop === '-' && i.b.k === 'v') {
        const rounded = once.get(i.b.v);
        if (rounded?.op === 'arith' && rounded.aop === '&' && rounded.b.k === 'imm' && rounded.b.n < 0
          && (-rounded.b.n & (-rounded.b.n - 1)) === 0) {
          const biased = rounded.a.k === 'v' ? once.get(rounded.a.v) : undefined;
          // The x masked is the x subtracted from: the same register, not written since it was read.
          const unbiased = (same(rounded.a, i.a) && unchanged(i.a, rounded, k)) || (biased?.op === 'arith'
            && biased.aop === '+' && unchanged(i.a, biased, k) && original.indexOf(rounded) > original.indexOf(biased)
            && ((zeroSign(biased.a) && same(biased.b, i.a)) || (zeroSign(biased.b) && same(biased.a, i.a))));
          if (unbiased) return to({ ...i, aop: '&', b: { k: 'imm', n: -rounded.b.n - 1 } });
        }
      }
      return line;
    });
  }
  if (changed) eliminateDeadCode(f);
  return changed;
}
