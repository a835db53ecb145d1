// Popcorn's first-class, polymorphic exception constructors (`<T>exncon`, TALC 3.0's `ExnconType`; popsyntax.ml,
// poptype.ml, popcompile.ml's `lookup_exn`: LocalExncon | GlobalExncon | ExnconDecl), lowered by the checker into
// the closures popc already has, as printf is lowered into calls of Core (format.ts). Both code generators and the
// TAL checker see only tuples, function values and ordinary exception switches; docs/popcorn.md "Exception
// constructors as values" gives the rules.
//
// Our `exn` is a closed TAL sum of the program's exceptions, so a constructor cannot be a tag the checker would type
// dynamically; instead a constructor value is what it can do (types.ts's `exnconTy`):
//   E as a value   →  ^(fun exn (T v) { return new E(v); },                               make
//                       fun bool (exn x) { switch (x) { case E(v): return true; default: return false; } },  test
//                       fun T (exn x) { switch (x) { case E(v): return v; default: raise(x); } })     get
// (a constructor of nothing has no get, and its make takes nothing);
//   c(v), new c(v), raise c(v)   →  c.1(v)
//   switch (e) { case c(x): A  case E: B  default: C }   (an arm naming a variable c of type <T>exncon)
//     →  { exn tmp = e; switch (tmp) { default:
//            if (c.2(tmp)) { T x = c.3(tmp); A } else if (((: <void>exncon) E).2(tmp)) { B } else { C } } }
// The arms are tried in order, as Popcorn's switch tried them; the outer one-armed switch keeps `break` leaving the
// whole statement; without a default, the last else is `switch (tmp) {}`, which raises again what no arm took
// (keeping the first raise's site, as any switch without default).

import type { Expr, Pos, QName, Stmt, TypeExpr } from './ast.ts';
import { type Ty, EXN, exnconTy, resolvedTypeExprs } from './types.ts';

/** A type expression standing for a type the checker already knows (types.ts's `resolvedTypeExprs`). */
export function knownType(ty: Ty, pos: Pos): TypeExpr {
  const t: TypeExpr = { k: 'named', name: { name: '(resolved)' }, args: [], pos };
  resolvedTypeExprs.set(t, ty);
  return t;
}

const variable = (name: string, pos: Pos, ns?: string): Expr => ({ k: 'var', name: ns ? { ns, name } : { name }, pos });
const block = (body: Stmt[], pos: Pos): Stmt => ({ k: 'block', body, pos });
const ret = (e: Expr, pos: Pos): Stmt => ({ k: 'return', e, pos });

/** An anonymous function `fun R (params) body` (it captures nothing: a closure with an empty environment). */
function lambda(retTy: Ty, params: { name: string; ty: Ty }[], body: Stmt[], pos: Pos): Expr {
  return {
    k: 'lambda', pos,
    decl: {
      k: 'fun', name: '', tparams: [], ret: knownType(retTy, pos), body: block(body, pos), pos,
      params: params.map(p => ({ name: p.name, type: knownType(p.ty, pos), pos })),
    },
  };
}

/** A switch on x with one case for the exception `exception` (binding its value to v when it carries one). */
function exceptionSwitch(x: string, exception: QName, carries: boolean, hit: Stmt[], miss: Stmt[], pos: Pos): Stmt {
  const label: Expr = carries
    ? { k: 'call', fn: { k: 'var', name: exception, pos }, args: [variable('v', pos)], pos }
    : { k: 'var', name: exception, pos };
  return { k: 'switch', e: variable(x, pos), cases: [{ values: [label], body: hit, pos }], dflt: miss, pos };
}

/**
 * The value of the declared exception `exception` (carrying `payload`, `void` for nothing) used as a constructor:
 * the tuple of its make, test and get functions.
 */
export function constructorPackage(exception: QName, payload: Ty, pos: Pos): Expr {
  const carries = payload.k !== 'void';
  const made: Expr = { k: 'new', name: exception, args: carries ? [variable('v', pos)] : [], pos };
  const make = lambda(EXN, carries ? [{ name: 'v', ty: payload }] : [], [ret(made, pos)], pos);
  const test = lambda({ k: 'bool' }, [{ name: 'x', ty: EXN }], [exceptionSwitch('x', exception, carries,
    [ret({ k: 'bool', value: true, pos }, pos)], [ret({ k: 'bool', value: false, pos }, pos)], pos)], pos);
  if (!carries) return { k: 'tuple', elems: [make, test], pos };
  const get = lambda(payload, [{ name: 'x', ty: EXN }], [exceptionSwitch('x', exception, carries,
    [ret(variable('v', pos), pos)], [{ k: 'raise', e: variable('x', pos), pos }], pos)], pos);
  return { k: 'tuple', elems: [make, test, get], pos };
}

/** `c.i(args)`: a call of one of the functions of the constructor value `con` (1 make, 2 test, 3 get). */
function constructorCall(con: Expr, index: 1 | 2 | 3, args: Expr[], pos: Pos): Expr {
  return { k: 'call', fn: { k: 'proj', e: con, index, pos }, args, pos };
}

/** `c(v)`, `new c(v)`: the exception the constructor held in the variable `name` makes from `args`. */
export function makeCall(name: QName, args: Expr[], pos: Pos): Expr {
  return constructorCall({ k: 'var', name, pos }, 1, args, pos);
}

/** Turn `node` into `replacement` in place (the tree is shared by reference: parents keep pointing at `node`). */
export function become<T extends object>(node: T, replacement: T): void {
  for (const key of Object.keys(node)) delete (node as Record<string, unknown>)[key];
  Object.assign(node, replacement);
}

/** One label of an arm of a switch being lowered: the constructor it names and, for `case c(x):`, the binder. */
export interface ArmLabel {
  /** The label's name as written (a variable holding a constructor, or a declared exception). */
  name: QName;
  /** Whether the name is a declared exception (turned into its constructor value) rather than a variable. */
  declared: boolean;
  payload: Ty;
  bind?: string;
  pos: Pos;
}

/** The constructor an arm's label names: the variable, or the declared exception as a constructor value. */
function constructorOf(l: ArmLabel): Expr {
  const named: Expr = { k: 'var', name: l.name, pos: l.pos };
  return l.declared ? { k: 'cast', ty: knownType(exnconTy(l.payload), l.pos), e: named, pos: l.pos } : named;
}

/**
 * The statement a switch on an exception becomes when an arm names a variable holding a constructor (see the head
 * of this file). `arms` are the switch's cases in order, each with its labels; `temp` a name no program can write.
 */
export function lowerConstructorSwitch(s: Extract<Stmt, { k: 'switch' }>, arms: ArmLabel[][], temp: string): Stmt {
  const pos = s.pos;
  let rest: Stmt = s.dflt ? block(s.dflt, pos) : { k: 'switch', e: variable(temp, pos), cases: [], pos };
  for (let i = s.cases.length - 1; i >= 0; i--) {
    const c = s.cases[i];
    const tests = arms[i].map(l => constructorCall(constructorOf(l), 2, [variable(temp, l.pos)], l.pos));
    const cond = tests.reduce((a, b): Expr => ({ k: 'binary', op: '||', l: a, r: b, pos: c.pos }));
    const bound = arms[i].length === 1 ? arms[i][0] : undefined;
    const body: Stmt[] = bound?.bind === undefined ? c.body : [{
      k: 'decl', pos: c.pos, decls: [{
        name: bound.bind, type: knownType(bound.payload, bound.pos), pos: bound.pos,
        init: constructorCall(constructorOf(bound), 3, [variable(temp, bound.pos)], bound.pos),
      }],
    }, ...c.body];
    rest = { k: 'if', c: cond, then: block(body, c.pos), else: rest, pos: c.pos };
  }
  return block([
    { k: 'decl', pos, decls: [{ name: temp, type: knownType(EXN, pos), init: s.e, pos }] },
    { k: 'switch', e: variable(temp, pos), cases: [], dflt: [rest], pos },
  ], pos);
}
