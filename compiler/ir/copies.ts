// Copy coalescing over the whole function: registers joined by a copy (`x = y`) whose lifetimes do not interfere are
// made one register, and the copy, now `x = x`, is dropped. This is Chaitin's coalescing ("Register allocation and
// spilling via graph coloring", SIGPLAN 1982, §"subsumption"), over the interference graph built from liveness as he
// and Appel ("Modern Compiler Implementation", §11.1) build it: the register an instruction writes interferes with
// every register live after it, except, for a copy, its own source (the two hold the same value there).
//
// coalesce.ts only joins a temporary read once, right after it is made. What it leaves are the copies lowering and
// inlining make between values that live on: `char c = text[i]` loads into a temporary the condition reads and
// copies it into c; an inlined function's parameter is a copy of the caller's argument, read in the callee's blocks
// while the caller's register lives on. Each such pair holds the same value in two registers, so it takes two of the
// four the allocator hands out, and in a loop the value that should have had the other is spilled and reloaded on
// every iteration (strscan's scan loop reloaded its text twice a character for the sake of c's copy).
//
// Two registers join only if they have the same TAL type (every register has one, written into each label where it
// is live: ir.ts) and neither is a parameter: a spilled parameter stays in its argument slot, where scratch.ts cannot
// move it, so a local joined to one would lose the scratch register it could have had (the library's f_string_read
// took one more load a call so). The registers a function starts with (its parameters and whatever is live into its
// first block) interfere with one another. Copies are joined heaviest first (by the loop depth of the block they are
// in, regalloc.ts's loopDepths), so that when two copies compete for one class, the inner loop's wins.
//
// Joining makes lifetimes longer, and the linear scan (regalloc.ts) spills whole lifetimes: a joined register may
// push another out of a register where the two were not both live before. Measured on the code-quality suite
// (bench/quality), the loops gain more than that costs (strscan −9.6 %, hashtable −4 %; lists +0.5 %, where an
// inlined list builder's accumulator, joined to the caller's list, pushed the caller's cursor into a slot).
//
// Requires: every block reachable (cfg.ts). Gives: no copy between registers that could share a location.

import { def, mapTermUses, mapUses, type Fn, type Inst, type Val, type VReg } from './ir.ts';
import { liveness } from './liveness.ts';
import { loopDepths } from './regalloc.ts';

/** The interference graph: for each register, the registers it may not share a location with. */
function interference(f: Fn): Map<VReg, Set<VReg>> {
  const lv = liveness(f);
  const graph = new Map<VReg, Set<VReg>>();
  const edge = (a: VReg, b: VReg): void => {
    if (a === b) return;
    if (!graph.has(a)) graph.set(a, new Set());
    if (!graph.has(b)) graph.set(b, new Set());
    graph.get(a)!.add(b);
    graph.get(b)!.add(a);
  };
  const atEntry = [...new Set([...f.params, ...lv.liveIn.get(f.blocks[0])!])];
  for (const a of atEntry) for (const b of atEntry) edge(a, b);
  for (const b of f.blocks) {
    const after = lv.after.get(b)!;
    b.insts.forEach(({ inst }, k) => {
      const d = def(inst);
      if (!d) return;
      // Even a value nobody reads clobbers its register: a bounds-checked load kept for its check still writes.
      const source = inst.op === 'copy' && inst.src.k === 'v' ? inst.src.v : undefined;
      for (const v of after[k]) if (v !== source) edge(d, v);
    });
  }
  return graph;
}

/** The register an instruction writes renamed by `to` (stores write none). */
function renameDef(i: Inst, to: (v: VReg) => VReg): Inst {
  if (i.op === 'store') return i;
  if (i.op === 'call') return i.dst ? { ...i, dst: to(i.dst) } : i;
  return { ...i, dst: to(i.dst) } as Inst;
}

/** Joins the registers of non-interfering copies; returns whether it changed anything. */
export function coalesceCopies(f: Fn): boolean {
  const graph = interference(f);
  const depths = loopDepths(f);
  const copies: { dst: VReg; src: VReg; depth: number }[] = [];
  // A handler's variable is written by the exceptional edge, which no instruction stands for, so the interference
  // graph does not see that write: it is never joined with another register.
  const caught = new Set<VReg>(f.blocks.flatMap(b => (b.handler ? [b.handler.exn] : [])));
  f.blocks.forEach((b, bi) => {
    for (const { inst } of b.insts) {
      if (inst.op === 'copy' && inst.src.k === 'v' && inst.src.v !== inst.dst
        && !caught.has(inst.dst) && !caught.has(inst.src.v)) {
        copies.push({ dst: inst.dst, src: inst.src.v, depth: depths[bi] });
      }
    }
  });
  copies.sort((a, b) => b.depth - a.depth);
  // Union-find over the registers; a class's interference set is the union of its members'.
  const parent = new Map<VReg, VReg>();
  const find = (v: VReg): VReg => {
    let r = v;
    while (parent.has(r)) r = parent.get(r)!;
    return r;
  };
  const isParam = (v: VReg): boolean => f.params.includes(v);
  let joined = false;
  for (const c of copies) {
    const a = find(c.dst), b = find(c.src);
    if (a === b || a.ty !== b.ty || isParam(a) || isParam(b)) continue;
    const na = graph.get(a) ?? new Set<VReg>(), nb = graph.get(b) ?? new Set<VReg>();
    if ([...na].some(v => find(v) === b) || [...nb].some(v => find(v) === a)) continue;
    const [keep, gone] = [a, b];
    parent.set(gone, keep);
    const merged = new Set([...(graph.get(keep) ?? []), ...(graph.get(gone) ?? [])]);
    graph.set(keep, merged);
    for (const v of graph.get(gone) ?? []) graph.get(v)?.add(keep);
    joined = true;
  }
  if (!joined) return false;
  const value = (x: Val): Val => (x.k === 'v' && parent.has(x.v) ? { k: 'v', v: find(x.v) } : x);
  for (const b of f.blocks) {
    b.insts = b.insts
      .map(line => ({ ...line, inst: renameDef(mapUses(line.inst, value), find) }))
      .filter(({ inst }) => !(inst.op === 'copy' && inst.src.k === 'v' && inst.src.v === inst.dst));
    b.term = mapTermUses(b.term, value);
  }
  return true;
}
