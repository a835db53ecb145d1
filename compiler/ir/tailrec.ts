// Self tail calls as loops: `return f(a, b);` inside f itself (a call whose result is returned as it is, with
// nothing after it) becomes an assignment of the arguments to the parameters and a jump back to the function's first
// block, as Steele's "Debunking the 'expensive procedure call' myth" (1977) describes and gcc's tail-recursion pass
// (tree-tailcall.c) does. No frame is pushed, so a recursion as deep as its input runs in constant stack, and the
// types stay what the checker already follows: the parameters keep their types (each argument has its parameter's
// type, check.ts), and the first block's label gives them to the loop.
//
// The arguments are all evaluated before any parameter is written (a parallel assignment through fresh registers:
// `return gcd(b, a % b)` reads a after b has been given to it otherwise); coalesce.ts and fold.ts remove the copies
// that need no temporary. A polymorphic function's call of itself at other type arguments is left a call (its
// registers would change type around the loop), as are calls to other functions: tailsib.ts makes those, where the
// stack types allow it, a `jmp` to the callee after moving the arguments into the caller's own argument area.
//
// Requires: a Fn whose blocks are all reachable. Gives: no self call in tail position; run the cleanup passes after.

import type { Block, Fn, Inst, Val, VReg } from './ir.ts';

/** Whether the call ending block b (its last instruction) is in tail position: b returns its result, or nothing. */
function returnsResultOf(b: Block, call: Extract<Inst, { op: 'call' }>): boolean {
  const t = b.term.op === 'jmp' && b.term.to.insts.length === 0 ? b.term.to.term : b.term;
  if (t.op !== 'ret') return false;
  if (!t.v) return call.dst === undefined;
  return t.v.k === 'v' && t.v.v === call.dst;
}

export function selfTailCallsToLoops(f: Fn): boolean {
  let changed = false;
  const own = f.tparams.join(',');
  for (const b of f.blocks) {
    const last = b.insts[b.insts.length - 1]?.inst;
    if (last?.op !== 'call' || last.callee.k !== 'fun' || last.callee.label !== f.label) continue;
    if ((last.inst ?? []).join(',') !== own || !returnsResultOf(b, last)) continue;
    if (b.handler) continue; // in a try body the call's exception goes to its handler: not a tail call
    const line = b.insts[b.insts.length - 1].line;
    b.insts.pop();
    jumpBackWith(f, b, last.args.map(a => a.v), line, f.blocks[0]);
    changed = true;
  }
  return changed;
}

/**
 * Ends block b with the parameters given `args` (a parallel assignment through fresh registers) and a jump to
 * `head`, the block the function's body starts at; tailacc.ts ends its accumulated calls the same way.
 */
export function jumpBackWith(f: Fn, b: Block, args: Val[], line: number, head: Block): void {
  const temps: VReg[] = f.params.map(p => {
    const t: VReg = { id: f.vregs.length, ty: p.ty, name: p.name };
    f.vregs.push(t);
    return t;
  });
  args.forEach((a, n) => b.insts.push({ inst: { op: 'copy', dst: temps[n], src: a }, line }));
  f.params.forEach((p, n) => b.insts.push({ inst: { op: 'copy', dst: p, src: { k: 'v', v: temps[n] } }, line }));
  b.term = { op: 'jmp', to: head };
  b.termLine = line;
}
