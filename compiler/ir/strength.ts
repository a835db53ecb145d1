// Strength reduction of arithmetic by constants (the "reduction in strength" of Allen and Cocke's catalogue, 1971,
// as every C compiler does it): an unsigned division by a power of two is a logical right shift, an unsigned
// remainder by one is an `and` with the power less one, and a multiplication by a power of two a left shift; a
// constant left operand of a commutative operation moves to the right, where emit.ts takes it as an immediate
// (`imul r, r, 3` rather than loading 3 first). The results are the machine's: IA-32 wraps, and an unsigned
// division by 2^k is exactly the shift. A signed division is left alone: rounding toward zero needs a correction
// for negative dividends (a few instructions against `cdq`/`idiv`, which counts the same in instructions).
// No check goes: a division by a constant other than zero has none (emit.ts), and none is needed by a shift.
//
// Requires: a Fn (after fold.ts, so constants are in place). Gives: no unsigned division or remainder, nor a
// multiplication, by a power of two.

import { imm, type ArithOp, type Fn, type Inst } from './ir.ts';

const COMMUTATIVE: readonly ArithOp[] = ['+', '*', '&', '|', '^'];

/** k when n (as an unsigned word) is 2^k for k ≥ 1, else undefined. */
function log2(n: number): number | undefined {
  const u = n >>> 0;
  if (u < 2 || (u & (u - 1)) !== 0) return undefined;
  return 31 - Math.clz32(u);
}

function reduce(i: Extract<Inst, { op: 'arith' }>): Inst {
  if (i.a.k === 'imm' && i.b.k !== 'imm' && COMMUTATIVE.includes(i.aop)) return reduce({ ...i, a: i.b, b: i.a });
  if (i.b.k !== 'imm') return i;
  const k = log2(i.b.n);
  if (k === undefined) return i;
  const base = { op: 'arith', dst: i.dst, a: i.a, unsigned: i.unsigned } as const;
  if (i.aop === '*') return { ...base, aop: '<<', b: imm(k) };
  if (i.aop === '/' && i.unsigned) return { ...base, aop: '>>>', b: imm(k) };
  if (i.aop === '%' && i.unsigned) return { ...base, aop: '&', b: imm(i.b.n - 1) };
  return i;
}

export function reduceStrength(f: Fn): void {
  for (const b of f.blocks) {
    b.insts = b.insts.map(line => (line.inst.op === 'arith' ? { ...line, inst: reduce(line.inst) } : line));
  }
}
