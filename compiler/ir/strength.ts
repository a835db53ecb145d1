// Strength reduction of arithmetic by constants, as gcc -O2 does it (and as Warren's "Hacker's Delight", §10-1,
// derives the signed case): a division or remainder by a power of two becomes shifts and masks, exactly, with no
// division instruction (whose zero test a constant divisor never needed) and none of its tens of cycles
// (docs/machine.md); and a commutative operation with a constant on the left has it moved to the right, where the
// emitter writes it as an immediate (`imul ebx, esi, 3`, `add ebx, 1`) instead of loading it into a register first.
//
// Unsigned x / 2^k is x >>> k and x % 2^k is x & (2^k - 1). Signed division rounds toward zero, so a negative x is
// first biased by 2^k - 1 (the bias is (x >> 31) >>> (32 - k): all ones shifted down, or zero): x / 2^k is
// (x + bias) >> k, and x % 2^k is x - ((x + bias) & -2^k). Division by 1 is fold.ts's; a signed one by 2^31 or by a
// negative power of two stays a division (an unsigned one by 2^31 is a shift). A multiplication by 2^k, signed or
// not, is a left shift (IA-32 wraps either way): a shift costs what an add does, `imul` a multiplier's latency.
//
// Requires: a Fn after fold.ts (constant divisors are immediates). Gives: no division or multiplication by a power of
// two, constants on the right of commutative operations.

import { imm, type Fn, type Inst, type Line, type Val, type VReg } from './ir.ts';

const COMMUTATIVE = new Set(['+', '*', '&', '|', '^']);

/** k when n is 2^k with 1 <= k <= 30, else undefined. */
function log2(n: number): number | undefined {
  if (n < 2 || (n & (n - 1)) !== 0) return undefined;
  return 31 - Math.clz32(n);
}

/** k when n, read as an unsigned word, is 2^k with 1 <= k <= 31, else undefined. */
function ulog2(n: number): number | undefined {
  const u = n >>> 0;
  if (u < 2 || (u & (u - 1)) !== 0) return undefined;
  return 31 - Math.clz32(u);
}

export function reduceStrength(f: Fn): void {
  const fresh = (): VReg => {
    const v: VReg = { id: f.vregs.length, ty: 'int', name: 'sr' };
    f.vregs.push(v);
    return v;
  };
  for (const b of f.blocks) {
    b.insts = b.insts.flatMap((line): Line[] => {
      const i = line.inst;
      if (i.op !== 'arith') return [line];
      const at = (inst: Inst): Line => ({ ...line, inst });
      const moved = COMMUTATIVE.has(i.aop) && i.a.k === 'imm' && i.b.k === 'v' ? { ...i, a: i.b, b: i.a } : i;
      if (moved.aop === '*' && moved.b.k === 'imm') {
        const m = ulog2(moved.b.n);
        return [at(m === undefined ? moved : { ...moved, aop: '<<', b: imm(m) })];
      }
      if (moved !== i) return [at(moved)];
      if ((i.aop !== '/' && i.aop !== '%') || i.b.k !== 'imm') return [line];
      const k = i.unsigned ? ulog2(i.b.n) : log2(i.b.n);
      if (k === undefined) return [line];
      const { dst, a } = i;
      const arith = (aop: Extract<Inst, { op: 'arith' }>['aop'], d: VReg, x: Val, y: Val): Line =>
        at({ op: 'arith', aop, dst: d, a: x, b: y, unsigned: false });
      if (i.unsigned)
        return [i.aop === '/' ? arith('>>>', dst, a, imm(k)) : arith('&', dst, a, imm(((i.b.n >>> 0) - 1) | 0))];
      // The bias: 2^k - 1 for a negative x, 0 otherwise (for k = 1, x's sign bit itself).
      const out: Line[] = [];
      const bias = fresh();
      if (k === 1) out.push(arith('>>>', bias, a, imm(31)));
      else {
        const sign = fresh();
        out.push(arith('>>', sign, a, imm(31)), arith('>>>', bias, { k: 'v', v: sign }, imm(32 - k)));
      }
      const biased = fresh();
      // bias + x, the bias on the left: it is made for this instruction alone, in the register the sum is made in.
      out.push(arith('+', biased, { k: 'v', v: bias }, a));
      if (i.aop === '/') out.push(arith('>>', dst, { k: 'v', v: biased }, imm(k)));
      else {
        const rounded = fresh();
        out.push(arith('&', rounded, { k: 'v', v: biased }, imm(-i.b.n)), arith('-', dst, a, { k: 'v', v: rounded }));
      }
      return out;
    });
  }
}
