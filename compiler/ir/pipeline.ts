// The optimiser's passes, in the order they run (as QBE's main.c calls its passes one after another, each stating
// what it needs). popc -O generates every function through this file instead of codegen.ts's stack machine; the
// module around the functions (data, failure routines, the entry) is codegen.ts's in both cases.

import type { Checked, FunInfo } from '../program.ts';
import type { FunctionGenerator, ModuleServices } from '../codegen.ts';
import { lower } from './lower.ts';
import { simplifyCfg } from './cfg.ts';
import { fold } from './fold.ts';
import { eliminateDeadCode } from './dce.ts';
import { coalesce } from './coalesce.ts';
import { eliminateCommonSubexpressions } from './cse.ts';
import { reduceStrength } from './strength.ts';
import { liveness } from './liveness.ts';
import { allocate } from './regalloc.ts';
import { assignScratch } from './scratch.ts';
import { emitFunction } from './emit.ts';
import type { Fn } from './ir.ts';

/** Lower and optimise one function: the IR the allocator and the emitter take. */
export function optimisedIr(c: Checked, f: FunInfo, m: Pick<ModuleServices, 'stringLiteral' | 'saves'>): Fn {
  const fn = lower(c, f, m);     // the checked AST to blocks of three-address code, loops tested at the bottom
  simplifyCfg(fn);               // unreachable blocks dropped, jumps to empty blocks threaded
  coalesce(fn);                  // t = a + 1; x = t  →  x = a + 1 (before propagation makes t read twice)
  fold(fn);                      // constants and copies propagated and folded in each block, constant branches
  simplifyCfg(fn);               // what constant branches made unreachable
  reduceStrength(fn);            // x / 2^k and x % 2^k as shifts and masks, constants to the right of a + k
  eliminateCommonSubexpressions(fn); // an operation or a load a register already holds (on every path): a copy
  fold(fn);                      // the copies that made, propagated
  eliminateDeadCode(fn);         // values nobody reads (a post-increment's old value, copies propagated away)
  coalesce(fn);                  // the copies propagation left as the last reader of a temporary
  return fn;
}

/** The function generator popc -O hands to codegen.ts. */
export function optimiser(c: Checked): FunctionGenerator {
  return (f, m) => {
    const fn = optimisedIr(c, f, m);
    const lv = liveness(fn);       // live sets per block and after each instruction
    const ra = allocate(fn, lv);   // linear scan over ebx, esi, edi, ebp; spill slots for the rest
    assignScratch(fn, lv, ra);     // spilled values into eax, ecx, edx where no call or fixed use crosses them
    return emitFunction(fn, lv, ra, m);
  };
}
