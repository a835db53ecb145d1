// Inlining: a call of a small function that is not recursive is replaced by a copy of the callee's optimised body,
// so that every pass after it sees the body in the caller's context (a constant argument folded into the callee's
// tests, a `bool` result branched on without being made, the callee's registers allocated with the caller's). This
// is the integration of Allen and Cocke's catalogue ("A catalogue of optimizing transformations", 1971) as gcc's
// ipa-inline and LLVM's inliner do it, over popc's IR: the call's block is split at the call, the callee's blocks
// (fresh virtual registers, fresh block ids) are laid out between the two halves, each parameter becomes a copy of
// its argument, and each `ret v` a copy of v into the call's result and a jump to the second half.
//
// Which calls (`inlinable`): a direct call of a popc function that
// - is not recursive: no chain of direct calls leads from it back to itself (`recursiveFunctions`), so expanding
//   the bodies callees-first ends; a recursive function's own calls of small helpers are still inlined;
// - is small: at most INLINE_LIMIT instructions and terminators in its optimised body. The figure is gcc's own for
//   -O2 (`max-inline-insns-auto`, 15 of its GIMPLE statements for a function not declared `inline`, gcc 10 and
//   later); popc's call costs about as many instructions itself (the arguments pushed, the call, the callee-saved
//   registers pushed and popped, the parameters loaded, `ret`, `add esp`), so a body that small costs hardly more
//   code inline than the call it replaces, and nothing at run time. Larger bodies are left called: with four
//   allocatable registers, a large body inside a caller's loop would spill the caller's own values;
// - is not polymorphic: its registers' TAL types name its type variables (`t_a`), which the caller does not bind;
// - is defined in the caller's file: a check's message and the `.tal_loc` lines name the function's file (emit.ts),
//   so a body from another file would report the wrong one.
// A call through a function value is not inlined (its target is not known). With exceptions: a callee with a
// handler is not inlined (its blocks' handlers are its own), nor one that may raise into a `try` body (its raise
// would have to go to the caller's handler, not out); a callee that may raise elsewhere is, since its raise then
// leaves the caller, as the exception would have; the copies of a body inlined in a `try` body are in it too.
//
// Requires: the caller's and each callee's Fn after the cleanup passes (cfg.ts and the rest; the callee's own calls
// already inlined). Gives: the caller with those calls replaced; run the cleanup passes again after it.

import { type Block, type Fn, type Inst, type Term, type Val, type VReg, mapTermUses, mapUses } from './ir.ts';

/** The largest body inlined, in IR instructions and terminators (gcc's -O2 `max-inline-insns-auto`: see above). */
export const INLINE_LIMIT = 15;

/** A body's size as inlining counts it: its instructions and its blocks' terminators. */
export function bodySize(f: Fn): number {
  return f.blocks.reduce((n, b) => n + b.insts.length + 1, 0);
}

/**
 * The functions (by label) from which a chain of direct calls leads back to themselves; `calls` gives each
 * function's direct callees. A depth-first search from each function (the programs have at most a few hundred).
 */
export function recursiveFunctions(calls: ReadonlyMap<string, ReadonlySet<string>>): Set<string> {
  const out = new Set<string>();
  for (const start of calls.keys()) {
    const seen = new Set<string>();
    const work = [...(calls.get(start) ?? [])];
    while (work.length) {
      const g = work.pop()!;
      if (g === start) { out.add(start); break; }
      if (seen.has(g)) continue;
      seen.add(g);
      work.push(...(calls.get(g) ?? []));
    }
  }
  return out;
}

/** Whether a call of `callee` from `caller` is inlined (the rules above; `recursive` from recursiveFunctions). */
export function inlinable(caller: Fn, callee: Fn, recursive: ReadonlySet<string>): boolean {
  return !recursive.has(callee.label) && callee.tparams.length === 0 && callee.file === caller.file
    && bodySize(callee) <= INLINE_LIMIT;
}

/**
 * Inline, in `f`, every direct call whose callee `bodyOf` gives (the callee's final IR, which is copied, never
 * changed) and `inlinable` accepts. Returns whether any call was inlined.
 */
export function inlineCalls(f: Fn, bodyOf: (label: string) => Fn | undefined, recursive: ReadonlySet<string>): boolean {
  let changed = false;
  // The blocks the copies add are scanned as well: a callee's body has its own small callees inlined already, and
  // what is left in it (calls of recursive or large functions) is not inlinable here either.
  for (let bi = 0; bi < f.blocks.length; bi++) {
    const b = f.blocks[bi];
    for (let k = 0; k < b.insts.length; k++) {
      const i = b.insts[k].inst;
      if (i.op !== 'call' || i.callee.k !== 'fun' || i.callee.label === f.label) continue;
      const callee = bodyOf(i.callee.label);
      if (!callee || !inlinable(f, callee, recursive)) continue;
      if (callee.blocks.some(x => x.handler) || (callee.raises && b.handler)) continue;
      inlineAt(f, bi, k, callee);
      changed = true;
      break; // the rest of this block is now the continuation block, scanned in its turn
    }
  }
  return changed;
}

/** Replace the call at instruction k of block bi by a copy of `callee`'s body. */
function inlineAt(f: Fn, bi: number, k: number, callee: Fn): void {
  const b = f.blocks[bi];
  const line = b.insts[k];
  const call = line.inst as Extract<Inst, { op: 'call' }>;
  let nextId = Math.max(...f.blocks.map(x => x.id)) + 1;
  const cont: Block = { id: nextId++, insts: b.insts.slice(k + 1), term: b.term, termLine: b.termLine,
    handler: b.handler };
  b.insts = b.insts.slice(0, k);

  // Each parameter the callee never writes reads its argument directly when the argument is a register of the
  // same type (the body writes none of the caller's registers, only its own fresh ones, so the argument stands
  // throughout) or an integer constant; any other parameter is a fresh register set from its argument.
  const written = new Set<VReg>();
  for (const x of callee.blocks) {
    for (const { inst } of x.insts) if (inst.op !== 'store' && inst.dst) written.add(inst.dst);
  }
  const regs = new Map<VReg, Val>();
  const fresh = (v: VReg): VReg => {
    const n: VReg = { id: f.vregs.length, ty: v.ty, name: v.name };
    f.vregs.push(n);
    return n;
  };
  const entryCopies: Inst[] = [];
  callee.params.forEach((p, n) => {
    const arg = call.args[n].v;
    const direct = !written.has(p)
      && ((arg.k === 'v' && arg.v.ty === p.ty) || (arg.k === 'imm' && p.ty === 'int'));
    if (direct) { regs.set(p, arg); return; }
    const r = fresh(p);
    regs.set(p, { k: 'v', v: r });
    entryCopies.push({ op: 'copy', dst: r, src: arg });
  });
  const reg = (v: VReg): VReg => {
    let x = regs.get(v);
    if (!x) { x = { k: 'v', v: fresh(v) }; regs.set(v, x); }
    if (x.k !== 'v') throw new Error(`internal: inlining writes the constant parameter ${v.name}`);
    return x.v;
  };
  const value = (x: Val): Val => (x.k === 'v' ? (regs.get(x.v) ?? { k: 'v', v: reg(x.v) }) : x);

  const copies = new Map<Block, Block>();
  for (const x of callee.blocks) {
    copies.set(x, { id: nextId++, insts: [], term: { op: 'unreachable' }, termLine: x.termLine, handler: b.handler });
  }
  for (const x of callee.blocks) {
    const y = copies.get(x)!;
    y.insts = x.insts.map(l => {
      const used = mapUses(l.inst, value);
      const inst = used.op === 'store' || !used.dst ? used : { ...used, dst: reg(used.dst) } as Inst;
      return { inst, line: l.line };
    });
    const t = mapTermUses(x.term, value);
    if (t.op === 'ret') {
      if (t.v && call.dst) y.insts.push({ inst: { op: 'copy', dst: call.dst, src: t.v }, line: x.termLine });
      y.term = { op: 'jmp', to: cont };
    } else y.term = retarget(t, copies);
  }
  b.insts.push(...entryCopies.map(inst => ({ inst, line: line.line })));
  b.term = { op: 'jmp', to: copies.get(callee.blocks[0])! };
  b.termLine = line.line;
  f.blocks.splice(bi + 1, 0, ...callee.blocks.map(x => copies.get(x)!), cont);
}

function retarget(t: Term, copies: ReadonlyMap<Block, Block>): Term {
  if (t.op === 'jmp') return { ...t, to: copies.get(t.to)! };
  if (t.op === 'br') return { ...t, yes: copies.get(t.yes)!, no: copies.get(t.no)! };
  return t;
}
