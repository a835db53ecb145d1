// The optimiser's passes, in the order they run (as QBE's main.c calls its passes one after another, each stating
// what it needs). popc -O generates every function through this file instead of codegen.ts's stack machine; the
// module around the functions (data, failure routines, the entry) is codegen.ts's in both cases.
//
// Inlining (inline.ts) needs the callees' optimised bodies, so the generator keeps each function's final IR as it
// is made and makes a callee's before its caller's: the functions that are not recursive form a DAG of direct calls,
// which this walks callees first (recursiveFunctions names the others, whose calls are left as calls).

import { forEachStmtExpr, subExprs, type Expr } from '../ast.ts';
import type { Checked, FunInfo } from '../program.ts';
import { stackMachineOnly, type FunctionGenerator, type ModuleServices } from '../codegen.ts';
import { lower } from './lower.ts';
import { simplifyCfg } from './cfg.ts';
import { fold } from './fold.ts';
import { eliminateDeadCode } from './dce.ts';
import { coalesce } from './coalesce.ts';
import { eliminateCommonSubexpressions } from './cse.ts';
import { mergeBlocks } from './merge.ts';
import { threadJumps } from './thread.ts';
import { reduceStrength } from './strength.ts';
import { selfTailCallsToLoops } from './tailrec.ts';
import { tailCallsWithAccumulator } from './tailacc.ts';
import { inlineCalls, recursiveFunctions } from './inline.ts';
import { coalesceCopies } from './copies.ts';
import { dropByteMasks, dropUnseenMasks } from './masks.ts';
import { liveness } from './liveness.ts';
import { allocate } from './regalloc.ts';
import { assignScratch } from './scratch.ts';
import { exceptionFlow, raisingFunctions } from '../raises.ts';
import { emitFunction } from './emit.ts';
import { siblingTailCalls } from './tailsib.ts';
import type { Fn } from './ir.ts';

type Services = Pick<ModuleServices, 'stringLiteral' | 'saves'>;

/** The cleanup passes, run after lowering and again after inlining. */
function simplify(fn: Fn): void {
  simplifyCfg(fn);               // unreachable blocks dropped, jumps to empty blocks threaded
  mergeBlocks(fn);               // a block entered only by a jump from one other is appended to it
  threadJumps(fn);               // a jump to a small block that branches or returns: a copy of that block
  coalesce(fn);                  // t = a + 1; x = t  →  x = a + 1 (before propagation makes t read twice)
  fold(fn);                      // constants and copies propagated and folded in each block, constant branches
  reduceStrength(fn);            // x / 2^k and x % 2^k as shifts and masks, constants to the right of a + k
  simplifyCfg(fn);               // what constant branches made unreachable
  mergeBlocks(fn);               // the joins that left with one way in
  eliminateCommonSubexpressions(fn); // an operation or a load a register already holds (on every path): a copy
  fold(fn);                      // the copies that made, propagated
  simplifyCfg(fn);               // the branches that decided (merged blocks give fold.ts more to see)
  eliminateDeadCode(fn);         // values nobody reads (a post-increment's old value, copies propagated away)
  coalesce(fn);                  // the copies propagation left as the last reader of a temporary
  simplifyCfg(fn);               // the blocks dead-code elimination emptied, jumped over
}

/**
 * Lower and optimise one function, without inlining: the IR the allocator and the emitter take. `raising` is
 * raisingFunctions(c), when the caller has it already.
 */
export function optimisedIr(c: Checked, f: FunInfo, m: Services, raising = raisingFunctions(c)): Fn {
  // The checked AST to blocks of three-address code, loops tested at the bottom.
  const fn = lower(c, f, { ...m, raises: g => raising.has(g) });
  simplify(fn);
  return fn;
}

/** Each function's direct callees, by TAL label, from the checked AST (calls through function values left out). */
export function directCalls(c: Checked): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of c.funs) {
    const callees = new Set<string>();
    const ex = (e: Expr): void => {
      const target = e.k === 'call' ? c.calls.get(e)?.target : undefined;
      if (target?.k === 'fun') callees.add(target.f.tal);
      subExprs(e).forEach(ex);
    };
    forEachStmtExpr(f.decl.body, ex);
    out.set(f.tal, callees);
  }
  return out;
}

/** The whole program's optimised IR, each function made on demand and kept (callees before their callers). */
export class ProgramIr {
  private readonly done = new Map<string, Fn>();
  private readonly funs: Map<string, FunInfo>;
  private readonly recursive: Set<string>;
  private readonly raising: Set<FunInfo>;

  constructor(private readonly c: Checked, private readonly m: Services) {
    // A function the optimiser declines (compiler/raises.ts: a check in a try body, or checks that raise out of it)
    // is the stack machine's at every level: it is neither lowered nor inlined. One that raises is made here, with a
    // second return address.
    const flow = exceptionFlow(c);
    this.raising = flow.raising;
    // So is one that has to do with closures (codegen.ts's stackMachineOnly).
    this.funs = new Map(c.funs.filter(f => f.decl.body && !stackMachineOnly(c, f, flow)).map(f => [f.tal, f]));
    this.recursive = recursiveFunctions(directCalls(c));
  }

  /** The final IR of the function labelled `label`, or undefined if the program defines no body for it. */
  of(label: string): Fn | undefined {
    const known = this.done.get(label);
    if (known) return known;
    const f = this.funs.get(label);
    if (!f) return undefined;
    const fn = optimisedIr(this.c, f, this.m, this.raising);
    // return x + f(…) in f: x added to an accumulator, the parameters assigned, a jump back (and return f(…) too)
    if (tailCallsWithAccumulator(fn)) simplify(fn);
    if (selfTailCallsToLoops(fn)) simplify(fn); // return f(…) in f: the parameters assigned, a jump back
    // Only a function that is not recursive is ever inlined, and its callees are made first: the walk ends.
    if (inlineCalls(fn, g => (this.recursive.has(g) ? undefined : this.of(g)), this.recursive)) simplify(fn);
    this.done.set(label, fn);
    return fn;
  }
}

/** The function generator popc -O hands to codegen.ts. */
export function optimiser(c: Checked): FunctionGenerator {
  let program: ProgramIr | undefined;
  return (f, m) => {
    program ??= new ProgramIr(c, m);
    const fn = program.of(f.tal)!;
    dropByteMasks(fn);             // c & 255 of a c that is a string's byte: a copy
    dropUnseenMasks(fn);           // a mask only a byte store reads, the sign bias of an x % 2^k with x >= 0
    coalesceCopies(fn);            // registers joined by a copy that never hold different values made one
    const lv = liveness(fn);       // live sets per block and after each instruction
    const ra = allocate(fn, lv);   // linear scan over ebx, esi, edi, ebp; spill slots for the rest
    assignScratch(fn, lv, ra);     // spilled values into eax, ecx, edx where no call or fixed use crosses them
    const tails = siblingTailCalls(fn); // return g(…) whose types let g return for f: a jmp (emit.ts)
    return emitFunction(fn, lv, ra, m, tails);
  };
}
