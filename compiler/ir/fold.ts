// Constant folding, constant and copy propagation within each block (the local value numbering of Cooper and
// Torczon, "Engineering a Compiler", §8.4.1, reduced to copies and constants), and branches on constants turned into
// jumps. A register known to hold a constant or another register's value is replaced by it in every later operand
// of the block until either is written again. Integer arithmetic folds as IA-32 computes it (wrapping, shift counts
// modulo 32, INT_MIN / -1 = INT_MIN as popc defines it); a division by a constant zero is left alone, since its check
// must fail at run time.
//
// A constant is never propagated into a pointer's place (a field's or an element's base): the checker would see an
// integer used as a pointer, even on a path that cannot run. Nor into an operand whose register is a pointer type:
// only `int` registers' constants move.
//
// Requires: a Fn. Gives: the same Fn with fewer copies read and constant branches resolved (cfg.ts then drops what
// became unreachable).

import { imm, mapTermUses, mapUses, type ArithOp, type Cond, type Fn, type Inst, type Val, type VReg } from './ir.ts';

/** a OP b as the machine computes it, or undefined (a division by zero stays to fail at run time). */
export function foldArith(op: ArithOp, a: number, b: number, unsigned: boolean): number | undefined {
  switch (op) {
    case '+': return (a + b) | 0;
    case '-': return (a - b) | 0;
    case '*': return Math.imul(a, b);
    case '&': return a & b;
    case '|': return a | b;
    case '^': return a ^ b;
    case '<<': return a << (b & 31);
    case '>>': return unsigned ? (a >>> (b & 31)) | 0 : a >> (b & 31);
    case '>>>': return (a >>> (b & 31)) | 0;
    case '/':
      if (b === 0) return undefined;
      return unsigned ? ((a >>> 0) / (b >>> 0)) | 0 : b === -1 ? -a | 0 : Math.trunc(a / b) | 0;
    case '%':
      if (b === 0) return undefined;
      return unsigned ? ((a >>> 0) % (b >>> 0)) | 0 : b === -1 ? 0 : (a % b) | 0;
  }
}

export function foldCond(cc: Cond, a: number, b: number): boolean {
  const ua = a >>> 0, ub = b >>> 0;
  switch (cc) {
    case 'e': return a === b;
    case 'ne': return a !== b;
    case 'l': return a < b;
    case 'le': return a <= b;
    case 'g': return a > b;
    case 'ge': return a >= b;
    case 'b': return ua < ub;
    case 'be': return ua <= ub;
    case 'a': return ua > ub;
    case 'ae': return ua >= ub;
  }
}

/** An instruction simplified once its operands are known: a constant result or an identity becomes a copy. */
function simplify(i: Inst, isByte: (x: Val) => boolean): Inst {
  if (i.op === 'arith') {
    const { a, b } = i;
    if (a.k === 'imm' && b.k === 'imm') {
      const n = foldArith(i.aop, a.n, b.n, i.unsigned);
      if (n !== undefined) return { op: 'copy', dst: i.dst, src: imm(n) };
    }
    if (b.k === 'imm') {
      const n = b.n;
      if (n === 0 && ['+', '-', '|', '^', '<<', '>>', '>>>'].includes(i.aop)) return { op: 'copy', dst: i.dst, src: a };
      if (n === 1 && (i.aop === '*' || i.aop === '/')) return { op: 'copy', dst: i.dst, src: a };
      if (n === 0 && (i.aop === '*' || i.aop === '&')) return { op: 'copy', dst: i.dst, src: imm(0) };
      if (n === 255 && i.aop === '&' && isByte(a)) return { op: 'copy', dst: i.dst, src: a };
    }
  }
  if ((i.op === 'neg' || i.op === 'not') && i.a.k === 'imm') {
    return { op: 'copy', dst: i.dst, src: imm(i.op === 'neg' ? -i.a.n : ~i.a.n) };
  }
  if (i.op === 'set' && i.a.k === 'imm' && i.b.k === 'imm') {
    return { op: 'copy', dst: i.dst, src: imm(foldCond(i.cc, i.a.n, i.b.n) ? 1 : 0) };
  }
  return i;
}

export function fold(f: Fn): void {
  for (const b of f.blocks) {
    /** What a register is known to hold in this block: a constant, an address or another register. */
    const known = new Map<VReg, Val>();
    /** Registers known to hold a byte (0..255): a byte load, a `& 255`, a comparison's 0 or 1. */
    const bytes = new Set<VReg>();
    const forget = (v: VReg): void => {
      known.delete(v);
      bytes.delete(v);
      for (const [k, x] of known) if (x.k === 'v' && x.v === v) known.delete(k);
    };
    const subst = (x: Val): Val => {
      if (x.k !== 'v') return x;
      const k = known.get(x.v);
      if (!k) return x;
      if (k.k === 'imm' && x.v.ty !== 'int') return x;
      return k;
    };
    const isByte = (x: Val): boolean => (x.k === 'imm' ? x.n >= 0 && x.n <= 255 : x.k === 'v' && bytes.has(x.v));
    b.insts = b.insts.map(line => {
      let i = mapUses(line.inst, subst);
      // Constants never become a pointer's base.
      if ((i.op === 'load' || i.op === 'store') && i.mem.k !== 'global' && i.mem.base.k === 'imm') i = line.inst;
      i = simplify(i, isByte);
      const d = i.op === 'store' || (i.op === 'call' && !i.dst) ? undefined : i.dst;
      if (d) {
        forget(d);
        if (i.op === 'copy' && !(i.src.k === 'v' && i.src.v === d)) {
          known.set(d, i.src);
          if (isByte(i.src)) bytes.add(d);
        }
        if (i.op === 'load' && i.mem.k === 'elem' && i.mem.bytes) bytes.add(d);
        const masked = i.op === 'arith' && i.aop === '&' && i.b.k === 'imm' && i.b.n >= 0 && i.b.n <= 255;
        if (i.op === 'set' || masked) bytes.add(d);
      }
      return { ...line, inst: i };
    });
    b.term = mapTermUses(b.term, subst);
    const t = b.term;
    if (t.op === 'br' && !t.variant && t.a.k === 'imm' && t.b.k === 'imm') {
      b.term = { op: 'jmp', to: foldCond(t.cc, t.a.n, t.b.n) ? t.yes : t.no };
    }
  }
}
