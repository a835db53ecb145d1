// Which functions may raise, over the whole program: the analysis behind popc's exception propagation (the scheme
// is in docs/popcorn.md "Exceptions"). A function may raise when its body has, outside every `try` body, a `raise`,
// a switch on an exception without `default` (it raises again what no case caught), or a call of a function that
// may raise; a fixed point over the call graph, as an effect analysis does (OCaml's exception analysis and CIL's
// call-graph passes work the same way). Only those functions take the second return address an exception leaves
// by, so a function that cannot raise costs exactly what it did before exceptions existed. A call through a
// function value never raises (a raising function's address is a wrapper that stops an escaping exception there:
// codegen.ts). `optimiserDeclines` picks the functions the optimiser leaves to the stack machine (docs/popcorn.md).

import { forEachStmtExpr, subExprs, type Expr, type Stmt } from './ast.ts';
import { isNullable } from './types.ts';
import type { Checked, FunInfo } from './program.ts';

/** The functions of `c` that may raise (whole program). */
export function raisingFunctions(c: Checked): Set<FunInfo> {
  const raising = new Set<FunInfo>();
  for (let changed = true; changed;) {
    changed = false;
    for (const f of c.funs) {
      if (!f.decl.body || raising.has(f)) continue;
      if (mayRaise(c, f.decl.body, raising)) { raising.add(f); changed = true; }
    }
  }
  return raising;
}

/** Whether `s`, run outside any handler of its own, may let an exception out. */
function mayRaise(c: Checked, s: Stmt, raising: Set<FunInfo>): boolean {
  const ex = (e: Expr | undefined): boolean => e !== undefined && exprRaises(c, e, raising);
  const all = (xs: readonly Stmt[]): boolean => xs.some(x => mayRaise(c, x, raising));
  switch (s.k) {
    case 'block': return all(s.body);
    case 'expr': return ex(s.e);
    case 'decl': return s.decls.some(d => ex(d.init));
    case 'if': return ex(s.c) || mayRaise(c, s.then, raising) || (s.else !== undefined && mayRaise(c, s.else, raising));
    case 'while': case 'do': return ex(s.c) || mayRaise(c, s.body, raising);
    case 'for':
      return (s.init !== undefined && mayRaise(c, s.init, raising)) || ex(s.c) || (s.step ?? []).some(ex)
        || mayRaise(c, s.body, raising);
    case 'switch':
      return ex(s.e) || s.cases.some(k => all(k.body)) || (s.dflt ? all(s.dflt) : c.types.get(s.e)?.k === 'exn');
    case 'return': return ex(s.e);
    case 'raise': return true;
    case 'try': return mayRaise(c, s.handler, raising); // what the body raises, the handler receives
    case 'break': case 'continue': case 'empty': case 'fun': return false; // a nested function raises on its own
  }
}

function exprRaises(c: Checked, e: Expr, raising: Set<FunInfo>): boolean {
  if (e.k === 'call') {
    const t = c.calls.get(e)?.target;
    if (t?.k === 'fun' && raising.has(t.f)) return true;
  }
  return subExprs(e).some(x => exprRaises(c, x, raising));
}

/**
 * Whether the optimiser (compiler/ir/) leaves `f` to the stack machine at every level: a `try` body of it has a
 * run-time check that may fail (an element, a nullable struct's or a union's field, a division), which raises a
 * built-in exception to the handler (docs/popcorn.md "Exceptions"); the optimiser's checks only stop the program.
 * Every other function, one that raises, handles or holds exceptions included, the optimiser generates.
 */
export function optimiserDeclines(c: Checked, f: FunInfo): boolean {
  const checks = (e: Expr): boolean => {
    if (e.k === 'index') return true;
    if (e.k === 'binary' && (e.op === '/' || e.op === '%')) return true;
    if (e.k === 'assign' && (e.op === '/=' || e.op === '%=')) return true;
    if (e.k === 'field' && !c.variants.has(e)) {
      const t = c.types.get(e.e);
      if (t?.k === 'union' || (t?.k === 'struct' && isNullable(t))) return true;
    }
    return subExprs(e).some(checks);
  };
  const inTry = (s: Stmt): boolean => {
    let found = false;
    forEachStmtExpr(s, e => { if (!found && checks(e)) found = true; });
    return found;
  };
  const st = (s: Stmt): boolean => {
    switch (s.k) {
      case 'block': return s.body.some(st);
      case 'if': return st(s.then) || (s.else !== undefined && st(s.else));
      case 'while': case 'do': return st(s.body);
      case 'for': return (s.init !== undefined && st(s.init)) || st(s.body);
      case 'switch': return s.cases.some(k => k.body.some(st)) || (s.dflt ?? []).some(st);
      case 'try': return inTry(s.body) || st(s.handler);
      default: return false;
    }
  };
  return f.decl.body !== undefined && st(f.decl.body);
}
