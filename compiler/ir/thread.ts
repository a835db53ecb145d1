// Jump threading by tail duplication: an unconditional jump to a small block that ends in a branch or a return is
// replaced by a copy of that block (Mueller and Whalley, "Avoiding unconditional jumps by code replication", PLDI
// 1992; gcc's jump threading and tail duplication do the same). Three things come of it:
// - the branch is decided where the jumping block knows its operand: `t = 1; jmp join` into `join: br t != 0` (a
//   `bool` made of a condition and then tested, as an inlined predicate returns it, or `&&` as a value) becomes
//   `t = 1; br 1 != 0`, which fold.ts turns into a jump straight to the side taken;
// - a loop whose test is reached by a jump (the end of an `if` inside the body jumping over the `else` to the
//   step and test, a `continue`) tests at that jump instead of jumping to the test: one jump fewer an iteration;
// - a jump to a return is the return (the epilogue is a few pops).
// A block is copied when it has at most THREAD_LIMIT instructions, so the code grows by little; a jump to the block
// laid out right after the jumping one costs nothing (emit.ts falls through) and is left unless the branch is then
// decided.
//
// Requires: a Fn. Gives: fewer jumps to branches and returns; run fold.ts and cfg.ts after it.

import {
  def, mapTermUses, mapUses, termUses, uses, type Block, type Fn, type Inst, type Line, type Term, type Val, type VReg,
} from './ir.ts';

/** The largest block copied, in instructions (its terminator besides). */
export const THREAD_LIMIT = 3;

/** The registers known to hold a constant at the end of `insts` (set by a copy of a constant, not written since). */
function constantsAfter(insts: Block['insts'], known: Map<VReg, number>): Map<VReg, number> {
  for (const { inst } of insts) {
    const d = def(inst);
    if (!d) continue;
    const src = inst.op === 'copy' ? inst.src : undefined;
    const n = src?.k === 'imm' ? src.n : src?.k === 'v' ? known.get(src.v) : undefined;
    if (n === undefined) known.delete(d); else known.set(d, n);
  }
  return known;
}

/** Whether the branch ending `b` is decided when `p` jumps to it. */
function decidedFrom(p: Block, b: Block): boolean {
  if (b.term.op !== 'br') return false;
  const known = constantsAfter(b.insts, constantsAfter(p.insts, new Map()));
  const value = (x: Val): number | undefined => (x.k === 'imm' ? x.n : x.k === 'v' ? known.get(x.v) : undefined);
  const a = value(b.term.a), c = value(b.term.b);
  return a !== undefined && c !== undefined;
}

/**
 * The blocks reading each register. A register `b` writes before reading and that no other block reads is `b`'s
 * own temporary, renamed in each copy: one write each, as coalesce.ts wants them.
 */
function readers(f: Fn): Map<VReg, Set<Block>> {
  const out = new Map<VReg, Set<Block>>();
  const add = (v: VReg, b: Block): void => { let s = out.get(v); if (!s) out.set(v, s = new Set()); s.add(b); };
  for (const b of f.blocks) {
    for (const { inst } of b.insts) for (const u of uses(inst)) add(u, b);
    for (const u of termUses(b.term)) add(u, b);
  }
  return out;
}

/** A copy of b's instructions and terminator, its own temporaries renamed to fresh registers. */
function copyOf(f: Fn, b: Block, read: Map<VReg, Set<Block>>): { insts: Line[]; term: Term } {
  const renamed = new Map<VReg, VReg>();
  const seen = new Set<VReg>();
  for (const { inst } of b.insts) {
    for (const u of uses(inst)) seen.add(u);
    const d = def(inst);
    if (d && !seen.has(d) && !f.params.includes(d) && [...(read.get(d) ?? [])].every(x => x === b)) {
      const fresh: VReg = { id: f.vregs.length, ty: d.ty, name: d.name };
      f.vregs.push(fresh);
      renamed.set(d, fresh);
    }
    if (d) seen.add(d);
  }
  const value = (x: Val): Val => (x.k === 'v' && renamed.has(x.v) ? { k: 'v', v: renamed.get(x.v)! } : x);
  const insts = b.insts.map(l => {
    const i = mapUses(l.inst, value);
    const d = def(i);
    return { ...l, inst: d && renamed.has(d) ? { ...i, dst: renamed.get(d)! } as Inst : i };
  });
  return { insts, term: mapTermUses(b.term, value) };
}

export function threadJumps(f: Fn): boolean {
  let changed = false;
  f.blocks.forEach((p, k) => {
    if (p.term.op !== 'jmp') return;
    const b = p.term.to;
    if (b === p || b.insts.length > THREAD_LIMIT || (b.term.op !== 'br' && b.term.op !== 'ret')) return;
    if (b === f.blocks[k + 1] && !decidedFrom(p, b)) return;
    if (b.handler !== p.handler) return; // the copy would raise to p's handler (or out) instead of b's
    const copy = copyOf(f, b, readers(f)); // afresh: the copies made so far read registers too
    p.insts.push(...copy.insts);
    p.term = copy.term;
    p.termLine = b.termLine;
    changed = true;
  });
  return changed;
}
