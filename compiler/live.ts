// Live functions: the functions the program can reach, from its entry (pop_main, the globals' initializers and the
// flush at exit) through calls, function values and nested or anonymous functions, at every level. Only these are
// generated: a program that includes lib/core.pop no longer carries all of Core's sixty-odd functions through code
// generation, talas, the checker and the loader (a ten-line program was 4,000 lines of TAL). It is what a C
// toolchain does with `gcc -ffunction-sections` and `ld --gc-sections`, and what TALx86's Popcorn left to the linker.
//
// Not trusted, like all of popc: a function left out by mistake is a label talas reports undefined, never a program
// the checker accepts wrongly.

import type { FunDecl } from './ast.ts';
import { stdoutFlush, type Checked, type FunInfo } from './program.ts';

/**
 * Every function reachable from the entry. The walk goes over each reached body as plain data (every node's fields,
 * whatever its kind), so a construct added to the tree later is followed without a change here: a node is a use of
 * a function when the checker resolved it to one (`refs`), or when it is the declaration of a nested or anonymous
 * function (reached with the function around it, whose body holds it).
 */
export function liveFunctions(c: Checked): Set<FunInfo> {
  const byDecl = new Map<FunDecl, FunInfo>();
  for (const f of c.funs) byDecl.set(f.decl, f);
  const live = new Set<FunInfo>();
  const work: FunInfo[] = [];
  const reach = (f: FunInfo | undefined): void => {
    if (f && !live.has(f)) { live.add(f); work.push(f); }
  };
  const seen = new Set<object>();
  const walk = (node: unknown): void => {
    if (typeof node !== 'object' || node === null || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) { for (const x of node) walk(x); return; }
    const ref = c.refs.get(node as never);
    if (ref?.k === 'fun') reach(ref.f);
    reach(byDecl.get(node as FunDecl));
    for (const v of Object.values(node)) walk(v);
  };
  reach(c.main);
  for (const f of c.inits) reach(f);
  reach(stdoutFlush(c));
  // A global's initializer may name a function (a function-typed global); globals are all kept.
  for (const g of c.globals) walk(g.decl);
  while (work.length) walk(work.pop()!.decl);
  // A nested function is reached through its parent's body; its parent must be there for its environment.
  for (const f of [...live]) for (let p = f.parent; p; p = p.parent) live.add(p);
  return live;
}

/** The program with only its live functions (liveFunctions), in their order. */
export function dropDeadFunctions(c: Checked): Checked {
  const live = liveFunctions(c);
  return live.size === c.funs.length ? c : { ...c, funs: c.funs.filter(f => live.has(f)) };
}
