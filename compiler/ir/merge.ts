// Block merging: a block whose only way in is an unconditional jump from one other block is appended to that block
// (its instructions and its terminator), as QBE's and LLVM's CFG simplification merge a block into its single
// predecessor. Lowering leaves such pairs at every join with one side (the step of a loop after its body, the
// return of an inlined body, the code after a call inlined), and the passes that work within a block (fold.ts,
// cse.ts, coalesce.ts) see past the seam once it is gone: `s = k` at the end of an inlined body and `total += s`
// after it are one block.
//
// Requires: every block reachable (cfg.ts). Gives: no block entered only by a jump from a single other block.

import { successors, type Block, type Fn } from './ir.ts';

export function mergeBlocks(f: Fn): void {
  const preds = new Map<Block, number>();
  for (const b of f.blocks) for (const s of successors(b.term)) preds.set(s, (preds.get(s) ?? 0) + 1);
  const gone = new Set<Block>();
  for (const p of f.blocks) {
    if (gone.has(p)) continue;
    // Follow the chain: p may take in b, then what b jumped to, and so on.
    for (;;) {
      if (p.term.op !== 'jmp') break;
      const b = p.term.to;
      if (b === p || b === f.blocks[0] || preds.get(b) !== 1) break;
      if (b.handler !== p.handler) break; // a try body's blocks keep their handler, and the others none
      p.insts.push(...b.insts);
      p.term = b.term;
      p.termLine = b.termLine;
      gone.add(b);
    }
  }
  if (gone.size) f.blocks = f.blocks.filter(b => !gone.has(b));
}
