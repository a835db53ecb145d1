// Which functions may raise, over the whole program: the analysis behind popc's exception propagation (the scheme
// is in docs/popcorn.md "Exceptions"). A function may raise when its body has, outside every `try` body, a `raise`,
// a switch on an exception without `default` (it raises again what no case caught), or a call of a function that
// may raise; a fixed point over the call graph, as an effect analysis does (OCaml's exception analysis and CIL's
// call-graph passes work the same way). Only those functions take the second return address an exception leaves
// by, so a function that cannot raise costs exactly what it did before exceptions existed. A call through a
// function value may raise, as in Popcorn: a function value's type says nothing of what it raises (`b f(a)` is one
// type for every function), so every function value takes the second return address (docs/popcorn.md "Exceptions
// through function values"): a closure used as a value is compiled as a raising function, a top-level one's value
// wrapper passes on what it raises. `optimiserDeclines` picks the functions the optimiser leaves to the stack
// machine (docs/popcorn.md).
//
// A failed run-time check (bounds, null, zero divisor, union variant) raises its built-in exception. Whether it
// leaves its function is decided here too, so that only a program that can catch one pays for it: a function's
// checks are *catchable* when it is called, directly or through callers that let the exception pass, from inside
// a `try` body whose handler can take a built-in exception (a handler that is not a switch on the exception, a
// switch with a `default`, or one with a case naming a built-in one). A catchable function with a check outside
// every `try` of its own that takes it, or with a call of such a function, raises its checks out
// (`checksRaise`); it is a raising function like any other. Everywhere else a failed check stops the program at
// its site as before. A function that is not catchable but calls one whose checks raise stops the program (as
// uncaught) where the exception lands in it, so it keeps its own type and its callers are unchanged.

import { forEachStmtExpr, subExprs, type Expr, type Stmt } from './ast.ts';
import { stdoutFlush, type Checked, type FunInfo } from './program.ts';
import { isNullable } from './types.ts';

/** What raises in the program: every function that may let an exception out, and those of them whose checks do. */
export interface ExceptionFlow {
  /** The functions that may raise: they take the second return address. */
  readonly raising: Set<FunInfo>;
  /** The functions whose failed checks outside their own `try` bodies raise out of them (a subset of `raising`). */
  readonly checksRaise: Set<FunInfo>;
  /** Whether the program has a `try` at all: without one no check raises, and none of this costs anything. */
  readonly handles: boolean;
}

/** The functions of `c` that may raise (whole program), its checks' exceptions included. */
export function raisingFunctions(c: Checked): Set<FunInfo> {
  return exceptionFlow(c).raising;
}

/** The whole program's exception flow: what may raise, and whose checks raise (the rule above). */
export function exceptionFlow(c: Checked): ExceptionFlow {
  const taken = addressTaken(c);
  const explicit = explicitlyRaising(c, taken);
  const facts = new Map(c.funs.filter(f => f.decl.body).map(f => [f, checkFacts(c, f.decl.body!, taken)]));
  // Core::flush is called by the entry and the failure routines with the plain convention: its checks, if it had
  // any, stop the program where they are (it has none today: FILE is not nullable and it indexes nothing).
  const flush = stdoutFlush(c);
  if (flush) facts.delete(flush);
  const checksRaise = checkRaisingFunctions(facts);
  const handles = [...facts.values()].some(x => x.handles);
  return { raising: new Set([...explicit, ...checksRaise]), checksRaise, handles };
}

/**
 * The functions whose address is taken (used as a value, not only called): a function value's type is plain cdecl
 * with the second return address (a function value may raise), so these cannot promise to keep registers, and a
 * closure among them is compiled as a raising function (its own code is its value's).
 */
export function addressTaken(c: Checked): Set<FunInfo> {
  const out = new Set<FunInfo>();
  const ex = (e: Expr): void => {
    if (e.k === 'var' || e.k === 'lambda') {
      const r = c.refs.get(e);
      if (r?.k === 'fun') out.add(r.f);
      return;
    }
    if (e.k === 'call' && c.calls.get(e)?.target.k !== 'value') { e.args.forEach(ex); return; }
    subExprs(e).forEach(ex);
  };
  for (const f of c.funs) forEachStmtExpr(f.decl.body, ex);
  for (const g of c.globals) if (g.decl.init) ex(g.decl.init);
  return out;
}

/** Whether f's own code is the code of its function value: a closure (it takes an environment) used as a value. */
export function isValueCode(f: FunInfo, taken: Set<FunInfo>): boolean {
  return (f.captures?.length ?? 0) > 0 && taken.has(f);
}

/** The functions that may let out an exception a `raise` (or a switch's implicit one) raises. */
function explicitlyRaising(c: Checked, taken: Set<FunInfo>): Set<FunInfo> {
  // A closure whose code is its value's takes the second return address every function value has.
  const raising = new Set<FunInfo>(c.funs.filter(f => f.decl.body && isValueCode(f, taken)));
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
    if (t?.k === 'value') return true; // a function value may raise (above)
  }
  return subExprs(e).some(x => exprRaises(c, x, raising));
}

/** What a function's body says about checks: its direct calls (with whether a handler of its own takes a check's
 * exception there) and whether it has a check whose exception no handler of its own takes. */
interface CheckFacts {
  readonly calls: { callee: FunInfo; caught: boolean }[];
  escapingCheck: boolean;
  /** Whether the body has a `try`. */
  handles: boolean;
}

/** The functions whose checks raise out of them: catchable ones with an escaping check or a call of such a one. */
function checkRaisingFunctions(facts: Map<FunInfo, CheckFacts>): Set<FunInfo> {
  // Catchable: called at a site some handler of the caller takes, or at any other site of a catchable caller.
  const catchable = new Set<FunInfo>();
  for (const fact of facts.values()) for (const s of fact.calls) if (s.caught) catchable.add(s.callee);
  for (let changed = true; changed;) {
    changed = false;
    for (const [f, fact] of facts) {
      if (!catchable.has(f)) continue;
      for (const s of fact.calls) {
        if (!s.caught && !catchable.has(s.callee)) { catchable.add(s.callee); changed = true; }
      }
    }
  }
  const raises = new Set<FunInfo>();
  for (let changed = true; changed;) {
    changed = false;
    for (const [f, fact] of facts) {
      if (raises.has(f) || !catchable.has(f)) continue;
      if (fact.escapingCheck || fact.calls.some(s => !s.caught && raises.has(s.callee))) {
        raises.add(f);
        changed = true;
      }
    }
  }
  return raises;
}

function checkFacts(c: Checked, body: Stmt, taken: Set<FunInfo>): CheckFacts {
  const facts: CheckFacts = { calls: [], escapingCheck: false, handles: false };
  const ex = (e: Expr | undefined, caught: boolean): void => {
    if (e === undefined) return;
    if (e.k === 'call') {
      const t = c.calls.get(e)?.target;
      if (t?.k === 'fun') facts.calls.push({ callee: t.f, caught });
      // A call through a function value may call any function used as a value (its value wrapper passes on what
      // its checks raise).
      if (t?.k === 'value') for (const f of taken) facts.calls.push({ callee: f, caught });
    }
    if (!caught && mayFailCheck(c, e)) facts.escapingCheck = true;
    subExprs(e).forEach(x => ex(x, caught));
  };
  const st = (s: Stmt, caught: boolean): void => {
    const all = (xs: readonly Stmt[]): void => xs.forEach(x => st(x, caught));
    switch (s.k) {
      case 'block': all(s.body); return;
      case 'expr': ex(s.e, caught); return;
      case 'decl': s.decls.forEach(d => ex(d.init, caught)); return;
      case 'if': ex(s.c, caught); st(s.then, caught); if (s.else) st(s.else, caught); return;
      case 'while': case 'do': ex(s.c, caught); st(s.body, caught); return;
      case 'for':
        if (s.init) st(s.init, caught);
        ex(s.c, caught); (s.step ?? []).forEach(x => ex(x, caught)); st(s.body, caught); return;
      case 'switch': ex(s.e, caught); s.cases.forEach(k => all(k.body)); if (s.dflt) all(s.dflt); return;
      case 'return': case 'raise': ex(s.e, caught); return;
      // The body's checks go to the handler; the handler's own ones to the handlers around the try.
      case 'try':
        facts.handles = true;
        st(s.body, caught || handlerTakesChecks(c, s)); st(s.handler, caught); return;
      case 'break': case 'continue': case 'empty': case 'fun': return;
    }
  };
  st(body, false);
  return facts;
}

/**
 * Whether a `try`'s handler can take a built-in exception: anything but a switch on the handler's variable without
 * a `default` and without a case naming a built-in one (that switch raises it again, to the handlers around).
 */
function handlerTakesChecks(c: Checked, s: Extract<Stmt, { k: 'try' }>): boolean {
  let h = s.handler;
  while (h.k === 'block' && h.body.length === 1) h = h.body[0];
  if (h.k !== 'switch' || h.dflt) return true;
  const r = c.refs.get(h.e);
  if (h.e.k !== 'var' || r?.k !== 'local' || r.v !== c.handlerVars.get(s)) return true;
  return h.cases.some(k => k.values.some(v => {
    const x = c.refs.get(v.k === 'call' ? v.fn : v);
    return x?.k === 'exn' && x.e.check !== undefined;
  }));
}

const nonZeroLiteral = (e: Expr): boolean => e.k === 'int' && e.value !== 0;

/** Whether `e` itself (not what is inside it) carries a run-time check that may fail (codegen.ts emits them). */
function mayFailCheck(c: Checked, e: Expr): boolean {
  switch (e.k) {
    case 'index': return true;
    case 'field': {
      if (c.variants.has(e)) return false; // `U.A`: a variant built, not read
      const t = c.types.get(e.e);
      return t === undefined || t.k === 'union' || isNullable(t);
    }
    // A literal divisor other than 0 never fails (the stack machine still tests it; the optimiser does not).
    case 'binary': return (e.op === '/' || e.op === '%') && !nonZeroLiteral(e.r);
    case 'assign': return (e.op === '/=' || e.op === '%=') && !nonZeroLiteral(e.value);
    default: return false;
  }
}

/**
 * Whether the optimiser (compiler/ir/) leaves `f` to the stack machine at every level: a `try` body of it has a
 * run-time check that may fail (an element, a nullable struct's or a union's field, a division), which raises a
 * built-in exception to the handler (docs/popcorn.md "Exceptions"); the optimiser's checks only stop the program.
 * So does a function whose own checks raise out of it (`checksRaise`, the rule above), and one that calls a raising
 * function while it cannot raise itself (not catchable: where the exception lands it stops the program, which only
 * the stack machine's landing does). Every other function, one that raises, handles or holds exceptions included,
 * the optimiser generates.
 */
export function optimiserDeclines(c: Checked, f: FunInfo, flow: ExceptionFlow = exceptionFlow(c)): boolean {
  if (flow.checksRaise.has(f)) return true;
  if (!flow.raising.has(f) && f.decl.body !== undefined && mayRaise(c, f.decl.body, flow.raising)) return true;
  const checks = (e: Expr): boolean => mayFailCheck(c, e) || subExprs(e).some(checks);
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

