// The dispatch of an integer `switch` at -O as a balanced binary decision tree over its case values, as gcc lowers a
// switch it does not give a jump table (gcc/tree-switch-conversion.cc: "balanced binary tree of decision nodes", the
// case values first gathered into ranges; Sayle, "A Superoptimizer Analysis of Multiway Branch Code Generation", GCC
// Summit 2008, for the cost of either). popc cannot use a jump table: a table of code labels in data is not typable
// (a block label inside a function is polymorphic in the stack, a code pointer stored as a value must be closed:
// docs/tal.md), so the tree is the best shape the checker accepts: about log2(cases) compares where the stack machine
// (codegen.ts, -O0) tests each value in turn.
//
// The value line is cut into pieces, each a range of consecutive values with one destination (a case, or the
// default between and around the cases); a node splits its pieces in two halves with one compare (`x < first value
// of the right half`), a leaf is a piece and needs no compare at all, since the compares above it have bounded x
// to exactly that range. When every case value is non-negative the order is unsigned, so the negative values join
// the default piece past the largest case (one piece, not two: gcc's `x - low > high - low` range test, with low 0).
// A node whose only non-default pieces are single values tests them for equality when that takes fewer compares.
//
// Requires: the switch's value in a register later code does not change (lower.ts's `stable`). Gives: blocks of
// `br` terminators only, ending at a case's block or the default's.

import type { Block, Cond, Term, Val } from './ir.ts';
import { imm } from './ir.ts';

/** What the decision tree needs of the lowering: a block to start later, starting it, ending it with a jump. */
export interface TreeBuilder {
  later(): Block;
  start(b: Block): void;
  end(t: Term): void;
}

/** One case value and the block its case starts at. */
export interface CaseArm { value: number; to: Block }

/** A range of consecutive values [lo, hi] (in the tree's order) going to one block. */
interface Piece { lo: number; hi: number; to: Block }

const INT_MIN = -0x80000000, INT_MAX = 0x7fffffff, UINT_MAX = 0xffffffff;

/**
 * The pieces of the value line, in order: the arms (the first of two arms with one value wins, as in the chain of
 * compares) merged into ranges where consecutive values share a block, the gaps given to the default.
 */
export function pieces(arms: readonly CaseArm[], dflt: Block, unsigned: boolean): Piece[] {
  const seen = new Set<number>();
  const order = (n: number): number => (unsigned ? n >>> 0 : n | 0);
  const sorted = arms.filter(a => !seen.has(a.value | 0) && seen.add(a.value | 0))
    .map(a => ({ v: order(a.value), to: a.to })).sort((p, q) => p.v - q.v);
  const out: Piece[] = [];
  let next = unsigned ? 0 : INT_MIN; // the first value no piece covers yet
  for (const { v, to } of sorted) {
    if (v > next) out.push({ lo: next, hi: v - 1, to: dflt });
    const last = out[out.length - 1];
    if (last && last.to === to && last.hi === v - 1) last.hi = v;
    else out.push({ lo: v, hi: v, to });
    next = v + 1;
  }
  const top = unsigned ? UINT_MAX : INT_MAX;
  if (next <= top) out.push({ lo: next, hi: top, to: dflt });
  return out;
}

/** The number of compares the tree spends to reach a leaf, at most (for tests and the choice of a node's form). */
export function depth(n: number): number { return n <= 1 ? 0 : Math.ceil(Math.log2(n)); }

/**
 * Ends the current block with the decision tree sending `x` to the arm with its value, or to `dflt`. `x` must not
 * change while the tree runs (it is only read).
 */
export function lowerDecisionTree(b: TreeBuilder, x: Val, arms: readonly CaseArm[], dflt: Block): void {
  const unsigned = arms.every(a => (a.value | 0) >= 0);
  const less: Cond = unsigned ? 'b' : 'l';
  const node = (ps: Piece[]): void => {
    if (ps.length === 1) { b.end({ op: 'jmp', to: ps[0].to }); return; }
    const cases = ps.filter(p => p.to !== dflt);
    if (cases.every(p => p.lo === p.hi) && cases.length <= depth(ps.length)) {
      // Few single values in a wide default: an equality test each (`cmp x, v; je case`), then the default.
      const to = ps.some(p => p.to === dflt) ? dflt : cases[cases.length - 1].to;
      const tested = to === dflt ? cases : cases.slice(0, -1);
      for (const p of tested) {
        const no = b.later();
        b.end({ op: 'br', cc: 'e', a: x, b: imm(p.lo), yes: p.to, no });
        b.start(no);
      }
      b.end({ op: 'jmp', to });
      return;
    }
    const half = ps.length >> 1;
    const left = b.later(), right = b.later();
    b.end({ op: 'br', cc: less, a: x, b: imm(ps[half].lo), yes: left, no: right });
    b.start(left);
    node(ps.slice(0, half));
    b.start(right);
    node(ps.slice(half));
  };
  node(pieces(arms, dflt, unsigned));
}
