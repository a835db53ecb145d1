// Liveness: which virtual registers hold a value some later instruction reads, at the start and end of each block
// and after each instruction. The classic backward data-flow equations (Aho, Lam, Sethi and Ullman, "Compilers",
// §9.2.5), iterated to the fixed point over the blocks in reverse layout order.
//
// Requires: every block reachable (cfg.ts). Gives: live sets the allocator, dead-code elimination and the emitter's
// label annotations use (a label's type names exactly the registers live into it).

import { def, successors, termUses, uses, type Block, type Fn, type VReg } from './ir.ts';

// A block in a `try` body (ir.ts: Handler) may leave for its handler at any of its raising calls or its raise: what
// the handler reads (but the exception variable, which the exceptional edge itself sets) is live throughout the
// block, a conservative reading that keeps those values where the handler finds them at every such point.

export interface Liveness {
  liveIn: Map<Block, Set<VReg>>;
  liveOut: Map<Block, Set<VReg>>;
  /** For each block, the live set after each of its instructions (index i: after insts[i]). */
  after: Map<Block, Set<VReg>[]>;
}

export function liveness(f: Fn): Liveness {
  const liveIn = new Map<Block, Set<VReg>>(), liveOut = new Map<Block, Set<VReg>>();
  for (const b of f.blocks) { liveIn.set(b, new Set()); liveOut.set(b, new Set()); }
  const forHandler = (b: Block): VReg[] => {
    const h = b.handler;
    return h ? [...liveIn.get(h.block)!].filter(v => v !== h.exn) : [];
  };
  const transfer = (b: Block, out: Set<VReg>): Set<VReg> => {
    const live = new Set(out);
    const handler = forHandler(b);
    for (const u of termUses(b.term)) live.add(u);
    for (let i = b.insts.length - 1; i >= 0; i--) {
      const ins = b.insts[i].inst;
      const d = def(ins);
      if (d) live.delete(d);
      for (const u of uses(ins)) live.add(u);
      for (const v of handler) live.add(v);
    }
    return live;
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (let k = f.blocks.length - 1; k >= 0; k--) {
      const b = f.blocks[k];
      const out = liveOut.get(b)!;
      for (const s of successors(b.term)) {
        for (const v of liveIn.get(s)!) if (!out.has(v)) { out.add(v); changed = true; }
      }
      for (const v of forHandler(b)) if (!out.has(v)) { out.add(v); changed = true; }
      const inn = transfer(b, out);
      if (inn.size !== liveIn.get(b)!.size) { liveIn.set(b, inn); changed = true; }
    }
  }
  const after = new Map<Block, Set<VReg>[]>();
  for (const b of f.blocks) {
    const sets: Set<VReg>[] = new Array<Set<VReg>>(b.insts.length);
    const live = new Set(liveOut.get(b)!);
    const handler = forHandler(b);
    for (const u of termUses(b.term)) live.add(u);
    for (let i = b.insts.length - 1; i >= 0; i--) {
      sets[i] = new Set(live);
      const ins = b.insts[i].inst;
      const d = def(ins);
      if (d) live.delete(d);
      for (const u of uses(ins)) live.add(u);
      for (const v of handler) live.add(v);
    }
    after.set(b, sets);
  }
  return { liveIn, liveOut, after };
}

/** The live set before instruction i of b. */
export function liveBefore(lv: Liveness, b: Block, i: number): Set<VReg> {
  const live = new Set(lv.after.get(b)![i]);
  const ins = b.insts[i].inst;
  const d = def(ins);
  if (d) live.delete(d);
  for (const u of uses(ins)) live.add(u);
  const h = b.handler;
  if (h) for (const v of lv.liveIn.get(h.block)!) if (v !== h.exn) live.add(v);
  return live;
}
