// Copy coalescing: `x = t` where t is a temporary written once, just before in the same block, and read only by
// this copy, becomes the instruction that computed t writing x directly (`t = a + 1; x = t` is `x = a + 1`), so that
// `i = i + 1` allocates as one register updated in place. The conservative case of Chaitin's coalescing, decided
// without an interference graph: nothing between t's definition and the copy reads or writes x (nor, in a `try`
// body, may raise: the handler reads x as it was before the copy).
//
// Requires: a Fn. Gives: fewer copies (dce.ts afterwards has nothing to add).

import { def, termUses, uses, type Fn, type Inst, type VReg } from './ir.ts';

function retarget(i: Inst, x: VReg): Inst {
  if (i.op === 'store') return i;
  return { ...i, dst: x } as Inst;
}

export function coalesce(f: Fn): void {
  const reads = new Map<VReg, number>(), writes = new Map<VReg, number>();
  for (const b of f.blocks) {
    for (const { inst } of b.insts) {
      for (const u of uses(inst)) reads.set(u, (reads.get(u) ?? 0) + 1);
      const d = def(inst);
      if (d) writes.set(d, (writes.get(d) ?? 0) + 1);
    }
    for (const u of termUses(b.term)) reads.set(u, (reads.get(u) ?? 0) + 1);
  }
  for (const p of f.params) writes.set(p, (writes.get(p) ?? 0) + 1);
  for (const b of f.blocks) {
    for (let k = 0; k < b.insts.length; k++) {
      const c = b.insts[k].inst;
      if (c.op !== 'copy' || c.src.k !== 'v') continue;
      const t = c.src.v, x = c.dst;
      if (t === x || reads.get(t) !== 1 || writes.get(t) !== 1) continue;
      let j = k - 1;
      while (j >= 0 && def(b.insts[j].inst) !== t) j--;
      if (j < 0) continue;
      const between = b.insts.slice(j + 1, k).map(l => l.inst);
      if (between.some(i => def(i) === x || uses(i).includes(x))) continue;
      // In a try body a call between may raise to the handler, which must still find x's old value there.
      if (b.handler && between.some(i => i.op === 'call')) continue;
      // The definition itself may read x (x = x + 1): it reads before it writes, which is what the copy did.
      b.insts[j] = { ...b.insts[j], inst: retarget(b.insts[j].inst, x) };
      b.insts.splice(k, 1);
      k--;
    }
  }
}
