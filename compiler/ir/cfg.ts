// Control-flow clean-up: drop the blocks no path from the entry reaches (the code after a `return`, `break` or a
// call that does not return, which lowering leaves in blocks of their own), and send jumps to an empty block that
// only jumps on straight to its target (the joins an `if` without `else` or a loop exit leave behind). QBE does the
// same in its `fillrpo` and jump-threading steps.
//
// Requires: a Fn from lower.ts. Gives: every block reachable from blocks[0], no jump to an empty forwarding block.

import { blockSuccessors, type Block, type Fn, type Term } from './ir.ts';

export function simplifyCfg(f: Fn): void {
  // Jump threading: the final target of a chain of empty blocks that only jump (a cycle of them stays as it is).
  const forward = (b: Block): Block => {
    const seen = new Set<Block>();
    let x = b;
    while (x.insts.length === 0 && x.term.op === 'jmp' && !seen.has(x) && x !== f.blocks[0]) {
      seen.add(x);
      x = x.term.to;
    }
    return x;
  };
  const thread = (t: Term): Term => {
    if (t.op === 'jmp') return { ...t, to: forward(t.to) };
    if (t.op === 'br') return { ...t, yes: forward(t.yes), no: forward(t.no) };
    return t;
  };
  for (const b of f.blocks) b.term = thread(b.term);
  const reached = new Set<Block>();
  const work = [f.blocks[0]];
  while (work.length) {
    const b = work.pop()!;
    if (reached.has(b)) continue;
    reached.add(b);
    work.push(...blockSuccessors(b)); // a handler is reached by its body's exceptional edges
  }
  f.blocks = f.blocks.filter(b => reached.has(b));
}
