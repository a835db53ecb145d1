// The type checker: a type for every expression of every body, the instantiation of every polymorphic call, and
// the language's static rules (returns, reachability, initialization, break/continue). Names and the types written in
// declarations come from the resolver (resolve.ts), which runs first; null-safety's flow-sensitive part (which locals
// are known non-null where) is in flow.ts. Every error is recorded with its code (diagnostics.ts) and checking goes
// on, so a file's errors come out together.

import {
  forEachStmtExpr, subExprs, type Decl, type Expr, type FunDecl, type Stmt, type Pos, type QName, type VarDecl,
} from './ast.ts';
import { Diag, type DiagnosticDef, type DiagnosticArg, type Diagnostics, type Diagnostic } from './diagnostics.ts';
import {
  type Ty, type StructInfo, type UnionInfo, type Variant, INT, UNSIGNED, BOOL, CHAR, STRING, NULL, EXN, ERROR, VOID,
  isNumeric, isNullable, showTy, sameTy, assignable, substTy, unify, varsOf, hasDefault, exnconPayload,
} from './types.ts';
import { Flow, assignedLocals } from './flow.ts';
import { isFormatFunction, lowerFormatCall } from './format.ts';
import { type ArmLabel, become, constructorPackage, knownType, lowerConstructorSwitch, makeCall } from './exncon.ts';
import type { Builtin } from './builtins.ts';
import { Resolver, showName } from './resolve.ts';
import { refuseWordArrayUses } from './bytearrays.ts';
import type { Checked, SourceFile, FunInfo, GlobalInfo, LocalVar, CallInfo, UnionCase } from './program.ts';

/** A block's names: its locals and its nested functions (`funs`, made on first use). */
interface Scope { vars: Map<string, LocalVar>; funs?: Map<string, FunInfo>; parent?: Scope }

/** Resolve and check a whole program (its files in order; library files first). */
export function checkProgram(files: SourceFile[], diags: Diagnostics): Checked {
  const checked = new Checker(diags).run(files);
  // A bool or char array is bytes, a type variable's array words: where they would meet (bytearrays.ts).
  if (!diags.count) refuseWordArrayUses(checked, diags);
  return checked;
}

class Checker {
  private readonly names: Resolver;
  private readonly out: Checked;
  // per function
  private fun: FunInfo | undefined;
  private scope: Scope | undefined;
  private flow = new Flow();
  private loops = 0;
  private switches = 0;
  /** While a nested function is checked, the scopes of the functions around it (innermost first). */
  private enclosing: Scope[] = [];
  private nestedCount = 0;
  /** The switches lowered for an arm naming a constructor variable (exncon.ts), for their temporaries' names. */
  private constructorSwitches = 0;
  /** The globals of type <T>exncon, each held in a one-element array (constructorGlobals), and their reads. */
  private readonly constructorCells = new Set<GlobalInfo>();
  private readonly cellReads = new WeakSet<Expr>();
  /**
   * The places a closure is made or called by name, resolved once the whole top-level function around them is
   * checked (a closure's captures are known only then: a function nested in it may make it capture more).
   */
  private closureSites: { site: Expr; user: FunInfo; target: FunInfo }[] = [];

  constructor(diags: Diagnostics) {
    this.names = new Resolver(diags);
    this.out = this.names.program;
  }

  private error<A extends DiagnosticArg[]>(pos: Pos, def: DiagnosticDef<A>, ...args: A): Diagnostic {
    return this.names.error(pos, def, ...args);
  }

  run(files: SourceFile[]): Checked {
    this.names.declareAll(files);
    this.constructorGlobals();
    // Global initializers and function bodies, with each declaration's file and namespace context.
    this.names.eachDecl(files, d => {
      if (d.k === 'global') {
        const g = this.names.declaredGlobal(d);
        if (g?.decl === d) this.checkGlobalInit(g); // a duplicate was reported; its initializer is not checked twice
      } else if (d.k === 'fun' && d.body) {
        const f = this.names.declaredFun(d);
        if (f.decl === d) { this.checkFunction(f); this.resolveClosureSites(); }
        else if (f.decl.body !== d.body) {
          // A second definition (reported): its body is still checked, as a function of its own.
          const { params, ret } = this.names.signature(d);
          const file = this.names.file;
          this.checkFunction({ name: d.name, tal: f.tal, tparams: d.tparams, params, ret, decl: d, file, locals: [] });
        }
      }
    });
    this.names.checkDefinitions(files);
    return this.out;
  }

  // ---------------------------------------------------------------------------------------------------------
  // globals

  private checkGlobalInit(g: GlobalInfo): void {
    if (g.decl.size) {
      const sized = this.sizedInit(g.decl.name, g.ty, g.decl.size, g.decl.init, g.decl.pos, true);
      if (!sized.ok) { g.ty = ERROR; return; } // reported: no more errors about it
      g.decl.init = sized.init;
    }
    if (this.constructorCells.has(g)) {
      if (!g.decl.init) {
        this.error(g.decl.pos, Diag.GlobalNeedsInitializer, g.name, showTy((g.ty as { elem: Ty }).elem));
        return;
      }
      g.decl.init = { k: 'arraylit', elems: [g.decl.init], pos: g.decl.init.pos };
      g.decl.type = knownType(g.ty, g.decl.type.pos); // the initializer's temporary is the array
    }
    const init = g.decl.init;
    this.fun = undefined;
    if (!init) {
      if (!hasDefault(g.ty)) this.error(g.decl.pos, Diag.GlobalNeedsInitializer, g.name, showTy(g.ty));
      return;
    }
    // A function-typed global may be initialized with a function. Its value is a package, which code makes (a data
    // word is never one, docs/tal.md §4.8): it is set before pop_main, and is null (its cell) until then.
    const isFunction = init.k === 'var' && g.ty.k === 'fn' && this.names.fun(init.name) !== undefined;
    if (isFunction) { this.checkRunInitializer(g, init); return; }
    if (isConstantInit(init)) {
      this.expectInit(init, g.ty, `global ${g.name}`);
      return;
    }
    // A global holds its type's default until its initializer has run (it may be read before: by an earlier
    // initializer): a type with no default needs a constant initializer.
    if (!hasDefault(g.ty)) {
      this.error(init.pos, Diag.GlobalInitializerNotConstant, g.name, showTy(g.ty));
      return;
    }
    this.checkRunInitializer(g, init);
  }

  /**
   * A non-constant initializer becomes `g = init;` in its file's initializer function, which the entry runs before
   * pop_main (as Popcorn does); it is checked there, with the declaration's file and namespace in scope. An array
   * literal goes through a local first (`{…}` initializes a variable).
   */
  private checkRunInitializer(g: GlobalInfo, init: Expr): void {
    const fn = this.initializerOf(this.names.file);
    this.fun = fn;
    this.scope = { vars: new Map() };
    this.flow = new Flow();
    const body = (fn.decl.body as Extract<Stmt, { k: 'block' }>).body;
    let value = init;
    if (init.k === 'arraylit') {
      const temp: VarDecl = { name: `${g.name} initializer`, type: g.decl.type, init, pos: init.pos };
      const decl: Stmt = { k: 'decl', decls: [temp], pos: init.pos };
      this.stmt(decl);
      body.push(decl);
      value = { k: 'var', name: { name: temp.name }, pos: init.pos };
      this.out.refs.set(value, { k: 'local', v: this.out.decls.get(temp)! });
      this.out.types.set(value, g.ty);
    } else {
      this.expectInit(init, g.ty, `global ${g.name}`);
    }
    const target: Expr = { k: 'var', name: { name: g.name }, pos: g.decl.pos };
    this.out.refs.set(target, { k: 'global', g });
    this.out.types.set(target, g.ty);
    const assign: Expr = { k: 'assign', op: '=', target, value, pos: init.pos };
    this.out.types.set(assign, g.ty);
    body.push({ k: 'expr', e: assign, pos: init.pos });
    g.initializedAtRun = true;
    this.fun = undefined;
    this.scope = undefined;
  }

  /** The function that runs `file`'s non-constant global initializers (made when the first one is met). */
  private initializerOf(file: string): FunInfo {
    const known = this.out.inits.find(f => f.file === file);
    if (known) return known;
    const pos = { line: 1, col: 1 };
    const name = `__popc_init_${this.out.inits.length}`;
    const decl: Extract<Decl, { k: 'fun' }> = {
      k: 'fun', name, tparams: [], ret: { k: 'prim', name: 'void', pos }, params: [],
      body: { k: 'block', body: [], pos }, pos,
    };
    const f: FunInfo = { name, tal: name, tparams: [], params: [], ret: VOID, decl, file, locals: [] };
    this.out.inits.push(f);
    this.out.funs.push(f);
    return f;
  }

  private expectInit(init: Expr, ty: Ty, what: string): void {
    if (init.k === 'arraylit') {
      if (ty.k !== 'array') { this.error(init.pos, Diag.InitializerNotArray, what, showTy(ty)); return; }
      if (init.elems.length === 0) this.error(init.pos, Diag.EmptyArrayLiteral);
      for (const e of init.elems) this.expectInit(e, ty.elem, 'an array element');
      this.out.types.set(init, ty);
      return;
    }
    const t = this.expr(init, ty);
    if (!assignable(t, ty)) this.error(init.pos, Diag.InitializerMismatch, what, showTy(ty), showTy(t));
  }

  // ---------------------------------------------------------------------------------------------------------
  // functions and statements

  private checkFunction(f: FunInfo): void {
    this.fun = f;
    this.names.tvars = new Set(f.tparams);
    this.flow = new Flow();
    this.scope = { vars: new Map() };
    f.locals = [];
    for (const p of f.params) {
      if (this.scope.vars.has(p.name)) this.error(p.pos, Diag.DuplicateParameter, p.name);
      this.scope.vars.set(p.name, p);
    }
    const body = f.decl.body!;
    const ends = this.stmt(body);
    if (!ends && f.ret.k !== 'void') this.error(endPos(body), Diag.MissingReturn, f.name, article(showTy(f.ret)));
    this.fun = undefined;
    this.names.tvars = new Set();
    this.scope = undefined;
  }

  /**
   * A local declared (its type as written, or `inferred` for `_`). Popcorn lets a declaration in the same block
   * redeclare a name: the new variable (a slot of its own) hides the old one from there on, as a nested block's does.
   */
  private declare(v: VarDecl, inferred?: Ty): LocalVar {
    const ty = inferred ?? this.names.resolveType(v.type);
    const lv: LocalVar = { name: v.name, ty, id: this.fun!.locals.length, pos: v.pos };
    this.fun!.locals.push(lv);
    this.out.decls.set(v, lv);
    return lv;
  }

  /**
   * A local's declaration as Popcorn writes it: `_ x = e` takes e's type (its initializer is checked here:
   * `initChecked`), and a sized array `T a[N]` gets its elements (sizedInit) before the initializer is checked.
   */
  private declareLocal(d: VarDecl): { lv: LocalVar; initChecked: boolean } {
    if (d.type.k === 'named' && !d.type.name.ns && d.type.name.name === '_' && d.type.args.length === 0) {
      if (!d.init) {
        this.error(d.pos, Diag.InferNeedsInitializer, d.name);
        return { lv: this.declare(d, ERROR), initChecked: true };
      }
      if (d.init.k === 'arraylit') {
        this.error(d.init.pos, Diag.CannotInferFrom, d.name, 'an array literal');
        return { lv: this.declare(d, ERROR), initChecked: true };
      }
      const t = this.expr(d.init);
      if (t.k === 'null') this.error(d.init.pos, Diag.CannotInferFrom, d.name, 'null');
      return { lv: this.declare(d, t.k === 'null' ? ERROR : t), initChecked: true };
    }
    if (d.size) {
      const ty = this.names.resolveType(d.type);
      const sized = this.sizedInit(d.name, ty, d.size, d.init, d.pos, false);
      d.init = sized.init;
      // After an error about the size, the array's type is an error's (no more errors about it).
      return { lv: this.declare(d, sized.ok ? ty : ERROR), initChecked: !sized.ok };
    }
    return { lv: this.declare(d), initChecked: false };
  }

  /**
   * The initializer a sized array `T a[N]` (`= init`) stands for: N elements, those the initializer does not give
   * being T's default (0, false, null), as C's `int a[4] = {1, 2}` is {1, 2, 0, 0}. A global's is an array literal
   * (laid out in the data section); a local without an initializer is `new_array(N, default)`. The size is a
   * constant: a number, or a constant global of a number.
   */
  private sizedInit(name: string, ty: Ty, size: Expr, init: Expr | undefined, pos: Pos, global: boolean):
    { ok: boolean; init: Expr | undefined } {
    const n = this.constantSize(size);
    if (n === undefined || n < 0) { this.error(size.pos, Diag.ArraySizeNotConstant, name); return { ok: false, init }; }
    if (ty.k !== 'array') return { ok: true, init };
    const given = init?.k === 'arraylit' ? init.elems : undefined;
    if (init && !given) return { ok: true, init }; // an array value: checked as any initializer
    if (given && given.length > n) {
      this.error(given[n].pos, Diag.ArrayInitializerTooLong, name, n, given.length);
      return { ok: false, init };
    }
    if (given && given.length === n && n > 0) return { ok: true, init };
    const at = init?.pos ?? pos;
    const dflt = defaultValue(ty.elem, at);
    if (!dflt) {
      this.error(pos, Diag.ArrayElementsNeeded, showTy(ty.elem), name, n);
      return { ok: false, init };
    }
    if (!given && !global) {
      const fn: Expr = { k: 'var', name: { name: 'new_array' }, pos };
      return { ok: true, init: { k: 'call', fn, args: [{ k: 'int', value: n, pos }, dflt], pos } };
    }
    const elems = [...(given ?? [])];
    while (elems.length < n) elems.push(defaultValue(ty.elem, at)!);
    // `T a[0]` (a global): an empty literal is refused as always.
    return { ok: true, init: { k: 'arraylit', elems, pos: at } };
  }

  /**
   * A sized array's length: an integer constant expression (constInt's operators) whose names are constant globals
   * initialized with one (`int a[N + 1]` after `const int N = 10;`).
   */
  private constantSize(e: Expr): number | undefined {
    const named = (x: Expr): Expr | undefined => {
      if (x.k !== 'var') return undefined;
      const g = this.names.global(x.name);
      return g?.isConst && g.decl.init && !g.decl.size ? g.decl.init : undefined;
    };
    return constInt(e, named);
  }

  /** Check a statement; returns true if control never reaches its end (it returns, raises, breaks or continues). */
  private stmt(s: Stmt): boolean {
    switch (s.k) {
      case 'block': {
        this.scope = { vars: new Map(), parent: this.scope };
        let ends = false, reported = false;
        for (const x of s.body) {
          if (ends && x.k !== 'empty' && !reported) { this.error(x.pos, Diag.UnreachableCode); reported = true; }
          const xEnds = this.stmt(x);
          // Popcorn accepts a statement after a switch whose every case returns (its compiler did not know they all
          // do): that statement is never run, and no code is generated for it.
          if (xEnds && x.k === 'switch') reported = true;
          ends = xEnds || ends;
        }
        this.scope = this.scope.parent;
        return ends;
      }
      case 'expr':
        if (!hasEffect(s.e)) this.error(s.e.pos, Diag.ExpressionDoesNothing);
        this.expr(s.e);
        return false;
      case 'decl':
        for (const d of s.decls) {
          const { lv, initChecked } = this.declareLocal(d);
          if (lv.ty.k === 'void') { this.error(d.pos, Diag.VoidVariable, d.name); lv.ty = ERROR; }
          if (d.init) {
            if (!initChecked) this.expectInit(d.init, lv.ty, `${d.name}`);
            this.flow.assigned(lv, this.nonNullValue(d.init));
          } else if (!startsAsZero(lv.ty)) {
            this.error(d.pos, Diag.LocalNeedsInitializer, d.name, showTy(lv.ty));
          } else this.flow.assigned(lv, false);
          this.scope!.vars.set(d.name, lv);
        }
        return false;
      case 'if': {
        const { ifTrue, ifFalse } = this.cond(s.c);
        const before = this.flow.save();
        this.flow.restore(ifTrue);
        const thenEnds = this.stmt(s.then);
        const afterThen = this.flow.save();
        this.flow.restore(ifFalse);
        const elseEnds = s.else ? this.stmt(s.else) : false;
        const afterElse = this.flow.save();
        void before;
        if (thenEnds && elseEnds) this.flow.restore(afterElse);
        else if (thenEnds) this.flow.restore(afterElse);
        else if (elseEnds) this.flow.restore(afterThen);
        else this.flow.restore(Flow.meet(afterThen, afterElse));
        return thenEnds && elseEnds;
      }
      case 'while': case 'do': case 'for': return this.loop(s);
      case 'switch': {
        const t = this.expr(s.e);
        if (t.k === 'union') return this.unionSwitch(s, t);
        if (t.k === 'exn' && s.cases.some(c => c.values.some(v => this.labelVariable(v)))) {
          return this.constructorSwitch(s);
        }
        if (!isNumeric(t) && t.k !== 'exn') this.error(s.e.pos, Diag.SwitchType, showTy(t));
        const seen = new Set<number>();
        const before = this.flow.save();
        let allEnd = true;
        const outs: ReturnType<Flow['save']>[] = [];
        this.switches++;
        for (const c of s.cases) {
          // A case's scope holds what `case F(x):` binds.
          this.scope = { vars: new Map(), parent: this.scope };
          for (const v of c.values) {
            if (v.k === 'call' && c.values.length > 1 && t.k === 'exn') this.error(v.fn.pos, Diag.CaseBindsAlone);
            const value = this.caseValue(v, t);
            if (value !== undefined) {
              if (seen.has(value)) this.error(v.pos, Diag.DuplicateCase);
              seen.add(value);
            }
          }
          this.flow.restore(before);
          const ends = this.stmt({ k: 'block', body: c.body, pos: c.pos });
          this.scope = this.scope.parent!;
          if (!ends) outs.push(this.flow.save());
          allEnd &&= ends && !this.breaksOut(c.body);
        }
        this.flow.restore(before);
        if (s.dflt) {
          const ends = this.stmt({ k: 'block', body: s.dflt, pos: s.pos });
          if (!ends) outs.push(this.flow.save());
          allEnd &&= ends && !this.breaksOut(s.dflt);
        } else if (t.k !== 'exn') {
          outs.push(before);
          allEnd = false;
        } // a switch on an exception raises again what no case takes
        this.switches--;
        this.flow.restore(outs.length ? outs.reduce(Flow.meet) : before);
        return allEnd;
      }
      case 'break':
        if (this.loops === 0 && this.switches === 0) { this.error(s.pos, Diag.BreakOutside); return false; }
        return true;
      case 'continue':
        if (this.loops === 0) { this.error(s.pos, Diag.ContinueOutside); return false; }
        return true;
      case 'return': {
        const f = this.fun!;
        if (!s.e) {
          if (f.ret.k !== 'void') this.error(s.pos, Diag.ReturnNeedsValue, f.name, article(showTy(f.ret)));
          return true;
        }
        if (f.ret.k === 'void') { this.error(s.e.pos, Diag.ReturnFromVoid, f.name); this.expr(s.e); return true; }
        const t = this.expr(s.e, f.ret);
        if (!assignable(t, f.ret)) this.error(s.e.pos, Diag.ReturnMismatch, f.name, showTy(f.ret), showTy(t));
        return true;
      }
      case 'raise': {
        // `raise Oops;` where nothing is named Oops: say which kind of name was wanted.
        const named = s.e.k === 'var' ? s.e : s.e.k === 'call' && s.e.fn.k === 'var' ? s.e.fn : undefined;
        if (named && !this.nameExists(named)) {
          this.names.unknown(Diag.UnknownException, named.pos, named.name);
          return true;
        }
        const t = this.expr(s.e, EXN);
        if (t.k !== 'exn' && t.k !== 'error') this.error(s.e.pos, Diag.RaiseNotException, showTy(t));
        return true;
      }
      case 'try': return this.tryHandle(s);
      case 'empty': return false;
      case 'fun': {
        const f = this.nestedFunction(s.decl, s.decl.name);
        (this.scope!.funs ??= new Map()).set(s.decl.name, f);
        this.checkNested(f);
        return false;
      }
    }
  }

  /**
   * A nested or anonymous function is lifted to a function of its own (a TAL label named after the enclosing one):
   * it sees the top-level names, its own parameters and locals, and the nested functions of the blocks around it,
   * and, as a closure, the variables of the functions around it that it uses (captureIn; docs/popcorn.md "Closures").
   */
  private nestedFunction(d: FunDecl, name: string): FunInfo {
    const outer = this.fun!;
    const { params, ret } = this.names.signature(d);
    this.names.tvars = new Set(outer.tparams); // signature() cleared the enclosing function's type variables
    const tal = `${outer.tal}__${name || 'fun'}_${this.nestedCount++}`;
    const f: FunInfo = {
      name: name || 'fun', tal, tparams: d.tparams, params, ret, decl: d, file: outer.file, locals: [], parent: outer,
    };
    this.out.funs.push(f);
    return f;
  }

  /** Check a nested function's body as a function, then go on with the enclosing one where it was. */
  private checkNested(f: FunInfo): void {
    const saved = {
      fun: this.fun, scope: this.scope, flow: this.flow, loops: this.loops, switches: this.switches,
      tvars: this.names.tvars,
    };
    this.enclosing = [saved.scope!, ...this.enclosing];
    this.loops = 0;
    this.switches = 0;
    this.checkFunction(f);
    this.enclosing = this.enclosing.slice(1);
    ({ fun: this.fun, scope: this.scope, flow: this.flow, loops: this.loops, switches: this.switches } = saved);
    this.names.tvars = saved.tvars;
  }

  /** A nested function by name: in the blocks of this function, then in those of the functions around it. */
  private findNested(name: string): FunInfo | undefined {
    for (const start of [this.scope, ...this.enclosing]) {
      for (let s = start; s; s = s.parent) {
        const f = s.funs?.get(name);
        if (f) return f;
      }
    }
    return undefined;
  }

  /**
   * A variable v of a function around `user`, as `user` sees it: v itself in its own function, else the copy a
   * closure keeps (made on first use, in `user` and in each function between, which must carry it in).
   */
  private captureIn(user: FunInfo, v: LocalVar): LocalVar {
    if (user.params.includes(v) || user.locals.includes(v) || !user.parent) return v;
    const outer = this.captureIn(user.parent, v);
    const captures = user.captures ??= [];
    const known = captures.find(c => c.outer === outer);
    if (known) return known.inner;
    const inner: LocalVar = { name: v.name, ty: v.ty, id: user.locals.length, pos: v.pos, captured: true };
    user.locals.push(inner);
    captures.push({ outer, inner });
    return inner;
  }

  /** A nested function named or made as a value, or called by name: the closure's environment is built there. */
  private closureSite(site: Expr, target: FunInfo): void {
    if (target.parent && this.fun) this.closureSites.push({ site, user: this.fun, target });
  }

  /**
   * The environments of the closure sites of the top-level function just checked. Resolving one may make a
   * function capture more (a closure called from another closure), so it runs until nothing changes.
   */
  private resolveClosureSites(): void {
    const count = (): number => this.closureSites.reduce((n, x) => n + (x.target.captures?.length ?? 0) +
      (x.user.captures?.length ?? 0), 0);
    for (let before = -1; before !== count();) {
      before = count();
      for (const x of this.closureSites) for (const c of x.target.captures ?? []) this.captureIn(x.user, c.outer);
    }
    for (const x of this.closureSites) {
      if (x.target.captures?.length) {
        this.out.closureEnvs.set(x.site, x.target.captures.map(c => this.captureIn(x.user, c.outer)));
      }
    }
    this.closureSites = [];
  }

  /** A local of an enclosing function (which a nested function captures). */
  private enclosingLocal(name: string): LocalVar | undefined {
    for (const start of this.enclosing) {
      for (let s: Scope | undefined = start; s; s = s.parent) {
        const v = s.vars.get(name);
        if (v) return v;
      }
    }
    return undefined;
  }

  /** Whether a case body contains a break that leaves the switch (not one inside a nested loop or switch). */
  private breaksOut(body: Stmt[]): boolean {
    const walk = (s: Stmt): boolean => {
      switch (s.k) {
        case 'break': return true;
        case 'block': return s.body.some(walk);
        case 'if': return walk(s.then) || (s.else ? walk(s.else) : false);
        default: return false;
      }
    };
    return body.some(walk);
  }

  private caseValue(v: Expr, t: Ty): number | undefined {
    if (t.k === 'exn') return this.exceptionCase(v);
    const c = this.constInt(v);
    if (c === undefined) { this.error(v.pos, Diag.CaseNotConstant); return undefined; }
    this.out.types.set(v, v.k === 'char' ? CHAR : INT);
    return c;
  }

  /**
   * A case of a switch on an exception: `case E:` (E carries nothing) or `case F(x):`, which binds x, in the case's
   * scope, to the value F carries. Returns E's tag.
   */
  private exceptionCase(v: Expr): number | undefined {
    const label = v.k === 'call' ? v.fn : v;
    if (label.k !== 'var') { this.error(v.pos, Diag.CaseNotException); return undefined; }
    const e = this.names.exception(label.name);
    if (!e) { this.names.unknown(Diag.UnknownException, label.pos, label.name); return undefined; }
    this.out.refs.set(label, { k: 'exn', e });
    this.out.types.set(label, EXN);
    this.out.types.set(v, EXN);
    if (v.k !== 'call') {
      if (e.payload) this.error(v.pos, Diag.ExceptionNeedsValue, e.name, showTy(e.payload));
      return e.tag;
    }
    if (!e.payload) { this.error(label.pos, Diag.ExceptionCarriesNothing, e.name); return e.tag; }
    const x = v.args[0];
    if (v.args.length !== 1 || x.k !== 'var' || x.name.ns) {
      this.error(label.pos, Diag.CaseBindsName, e.name);
      return e.tag;
    }
    const lv: LocalVar = { name: x.name.name, ty: e.payload, id: this.fun!.locals.length, pos: x.pos };
    this.fun!.locals.push(lv);
    this.scope!.vars.set(lv.name, lv);
    this.out.caseBinds.set(v, lv);
    this.flow.assigned(lv, false);
    return e.tag;
  }

  /**
   * `try body handle x handler`: the handler runs with x, a local of type exn, holding what the body raised (it may
   * have run any part of the body, so what the body assigned is not known non-null there).
   */
  private tryHandle(s: Extract<Stmt, { k: 'try' }>): boolean {
    const before = this.flow.save();
    const bodyEnds = this.stmt(s.body);
    const afterBody = this.flow.save();
    this.flow.restore(before);
    const assigned = assignedIn(s.body);
    this.flow.forget(v => assigned.has(v.name));
    this.scope = { vars: new Map(), parent: this.scope };
    const lv: LocalVar = { name: s.name, ty: EXN, id: this.fun!.locals.length, pos: s.pos };
    this.fun!.locals.push(lv);
    this.scope.vars.set(s.name, lv);
    this.out.handlerVars.set(s, lv);
    const handlerEnds = this.stmt(s.handler);
    this.scope = this.scope.parent!;
    if (bodyEnds && !handlerEnds) return false;
    if (!bodyEnds && !handlerEnds) this.flow.restore(Flow.meet(afterBody, this.flow.save()));
    else if (handlerEnds && !bodyEnds) this.flow.restore(afterBody);
    return bodyEnds && handlerEnds;
  }

  private constInt(e: Expr): number | undefined {
    if (e.k === 'int' || e.k === 'char') return e.value | 0;
    if (e.k === 'unary' && e.op === '-' && (e.e.k === 'int')) return -e.e.value | 0;
    return undefined;
  }

  private loop(s: Extract<Stmt, { k: 'while' | 'do' | 'for' }>): boolean {
    this.scope = { vars: new Map(), parent: this.scope };
    if (s.k === 'for' && s.init) this.stmt(s.init);
    // Locals assigned in the loop lose their narrowing at its head (they may have changed on the way round).
    const assigned = assignedIn(s);
    this.flow.forget(v => assigned.has(v.name));
    const head = this.flow.save();
    let ifFalse = head;
    this.loops++;
    if (s.k === 'do') {
      this.stmt(s.body);
      ifFalse = this.cond(s.c).ifFalse;
    } else {
      let ifTrue = head;
      if (s.c) ({ ifTrue, ifFalse } = this.cond(s.c));
      this.flow.restore(ifTrue);
      this.stmt(s.body);
      if (s.k === 'for') for (const e of s.step ?? []) this.expr(e);
    }
    this.loops--;
    this.flow.restore(Flow.meet(head, ifFalse));
    this.scope = this.scope.parent;
    const infinite = s.k !== 'do' && (!s.c || (s.c.k === 'bool' && s.c.value));
    return infinite && !containsBreak(s.body);
  }

  /** A boolean condition: its type is checked; returns the flow facts on each edge. */
  private cond(c: Expr): { ifTrue: ReturnType<Flow['save']>; ifFalse: ReturnType<Flow['save']> } {
    const facts = this.flow.condition(c, e => this.localOf(e));
    const t = this.expr(c);
    if (t.k !== 'bool') {
      const d = this.error(c.pos, Diag.ConditionNotBool, showTy(t));
      if (c.k === 'assign' && c.op === '=') d.hints.push("this '=' assigns: to compare, write '=='");
    }
    return facts;
  }

  private localOf(e: Expr): LocalVar | undefined {
    if (e.k !== 'var' || e.name.ns) return undefined;
    return this.findLocal(e.name.name);
  }

  private findLocal(name: string): LocalVar | undefined {
    for (let s = this.scope; s; s = s.parent) {
      const v = s.vars.get(name);
      if (v) return v;
    }
    return undefined;
  }

  /** Whether an expression's value is known non-null (a `new`, or a local known non-null). */
  private nonNullValue(e: Expr): boolean {
    if (e.k === 'new') return true;
    const v = this.localOf(e);
    return v !== undefined && this.flow.isNonNull(v);
  }

  // ---------------------------------------------------------------------------------------------------------
  // expressions

  /** The type of `e` (recorded); `expected` helps type `null` and polymorphic results. */
  expr(e: Expr, expected?: Ty): Ty {
    const t = this.exprInner(e, expected);
    this.out.types.set(e, t);
    return t;
  }

  private exprInner(e: Expr, expected?: Ty): Ty {
    switch (e.k) {
      case 'int': return INT;
      case 'char': return CHAR;
      case 'string': return STRING;
      case 'bool': return BOOL;
      case 'null': return NULL;
      case 'var': return this.constructorCell(e, expected) ?? this.constructorValue(e, expected) ?? this.varExpr(e);
      case 'unary': {
        const t = this.expr(e.e);
        if (e.op === '!') {
          if (t.k !== 'bool') this.error(e.pos, Diag.NotNeedsBool, showTy(t));
          return BOOL;
        }
        if (!isNumeric(t)) this.error(e.pos, Diag.OperatorNeedsNumber, e.op, showTy(t));
        return t.k === 'unsigned' ? UNSIGNED : INT;
      }
      case 'binary': return this.binary(e);
      case 'assign': {
        const target = this.lvalue(e.target);
        if (e.op === '=') {
          const v = this.expr(e.value, target);
          if (!assignable(v, target)) this.error(e.value.pos, Diag.AssignMismatch, showTy(v), showTy(target));
        } else {
          const v = this.expr(e.value);
          if (!isNumeric(target) || !isNumeric(v)) {
            this.error(e.pos, Diag.OperatorNeedsNumbers, e.op, showTy(target), showTy(v));
          }
        }
        const lv = this.localOf(e.target);
        if (lv) this.flow.assigned(lv, e.op === '=' && this.nonNullValue(e.value));
        return target;
      }
      case 'incdec': {
        const t = this.lvalue(e.target);
        if (!isNumeric(t)) this.error(e.pos, Diag.OperatorNeedsNumber, e.op, showTy(t));
        return t;
      }
      case 'cond': {
        const { ifTrue, ifFalse } = this.cond(e.c);
        const before = this.flow.save();
        this.flow.restore(ifTrue);
        const a = this.expr(e.a, expected);
        this.flow.restore(ifFalse);
        const b = this.expr(e.b, expected ?? a);
        this.flow.restore(before);
        const changed = assignedLocals(e.a, x => this.localOf(x), assignedLocals(e.b, x => this.localOf(x)));
        this.flow.forget(v => changed.has(v));
        if (a.k === 'null' && b.k === 'null' && expected && isNullable(expected)) return expected;
        if (assignable(b, a) && a.k !== 'null') return a;
        if (assignable(a, b)) return b;
        this.error(e.pos, Diag.BranchesDiffer, showTy(a), showTy(b));
        return a;
      }
      case 'call': return this.call(e, expected);
      case 'index': {
        const a = this.expr(e.a);
        const i = this.expr(e.i);
        if (!isNumeric(i)) this.error(e.i.pos, Diag.IndexNotNumber, showTy(i));
        if (a.k === 'array') return a.elem;
        if (a.k === 'string') return CHAR;
        this.error(e.pos, Diag.NotIndexable, showTy(a));
        return INT;
      }
      case 'field': {
        const nullary = this.nullaryVariant(e, expected);
        if (nullary) return nullary;
        const t = this.expr(e.e);
        if (t.k === 'union') return this.variantAccess(e, t);
        if (t.k !== 'struct') {
          this.error(e.pos, Diag.NoFields, showTy(t), e.name);
          return INT;
        }
        // A possibly-null struct's field compiles to a run-time null check, as Popcorn's did (docs/popcorn.md).
        this.checkAbstract(e.pos, t.s);
        const f = t.s.fields.find(x => x.name === e.name);
        if (!f) {
          this.error(e.pos, Diag.NoSuchField, t.s.name, e.name);
          return INT;
        }
        return substTy(f.ty, new Map(t.s.tparams.map((p, i) => [p, t.args[i]])));
      }
      case 'proj': {
        const t = this.expr(e.e);
        if (t.k !== 'tuple') { this.error(e.pos, Diag.NotATuple, showTy(t), e.index); return INT; }
        if (e.index < 1 || e.index > t.elems.length) {
          this.error(e.pos, Diag.NoSuchComponent, t.elems.length, e.index);
          return INT;
        }
        return t.elems[e.index - 1];
      }
      case 'new': {
        if (e.variant !== undefined) return this.variantNew(e, e.variant, expected);
        const s = this.names.struct(e.name);
        const held = s ? undefined : this.variableType(e.name);
        if (held) return this.constructorMake(e, e.name, held, e.args, e.pos, Diag.NewNotExncon);
        const x = s ? undefined : this.names.exception(e.name);
        if (x) return this.exceptionValue(e, x, e.args, e.pos);
        if (!s) {
          this.names.unknown(Diag.UnknownStruct, e.pos, e.name);
          for (const a of e.args) this.expr(a);
          return ERROR;
        }
        this.checkAbstract(e.pos, s);
        if (e.args.length !== s.fields.length) {
          this.error(e.pos, Diag.NewValueCount, s.name, s.fields.length, e.args.length);
        }
        const vars = new Set(s.tparams);
        const m = new Map<string, Ty>();
        if (expected && expected.k === 'struct' && expected.s === s)
          s.tparams.forEach((p, i) => m.set(p, expected.args[i]));
        e.args.forEach((a, i) => {
          const f = s.fields[i];
          const want = f ? substTy(f.ty, m) : undefined;
          const t = this.expr(a, want && varsOf(want).size === 0 ? want : undefined);
          if (f && !unify(f.ty, t, vars, m)) {
            this.error(a.pos, Diag.NewFieldMismatch, f.name, s.name, showTy(substTy(f.ty, m)), showTy(t));
          }
        });
        for (const p of s.tparams) if (!m.has(p)) {
          this.error(e.pos, Diag.CannotInferStructArgument, p, s.name);
          m.set(p, INT);
        }
        const t: Ty = { k: 'struct', s, args: s.tparams.map(p => m.get(p)!) };
        this.out.news.set(e, t);
        return t;
      }
      case 'tuple': {
        if (e.elems.length === 0) this.error(e.pos, Diag.EmptyTuple);
        const want = expected && expected.k === 'tuple' && expected.elems.length === e.elems.length ? expected.elems
          : undefined;
        return { k: 'tuple', elems: e.elems.map((x, i) => {
          const t = this.expr(x, want?.[i]);
          if (t.k === 'void') this.error(x.pos, Diag.VoidInTuple);
          if (t.k === 'null') {
            if (!want) return (this.error(x.pos, Diag.NullInUntypedTuple), INT);
            if (!isNullable(want[i])) this.error(x.pos, Diag.NullTupleComponent, i + 1, showTy(want[i]));
            return want[i];
          }
          return want && assignable(t, want[i]) ? want[i] : t.k === 'char' ? INT : t;
        }) };
      }
      case 'arraylit': {
        this.error(e.pos, Diag.ArrayLiteralNotInitializer);
        return INT;
      }
      case 'cast': {
        // Popcorn's (: T) e converts between its integer types (cutting to T's width, types.ts's truncation);
        // any other cast must be to e's own type.
        const to = this.names.resolveType(e.ty);
        const from = this.expr(e.e, to);
        if (!(isNumeric(from) && isNumeric(to)) && !assignable(from, to)) {
          this.error(e.pos, Diag.BadCast, showTy(from), showTy(to));
        }
        return to;
      }
      case 'inst': {
        const f = this.instantiated(e);
        if (f) this.error(e.pos, Diag.PolymorphicValue, f.name); // only a call may instantiate (see `call`)
        return ERROR;
      }
      case 'lambda': {
        // Lifted once: printf's arguments are typed before the call they are lowered into is checked (formatCall),
        // and a second function over the same body would find its variables in the first one's frame.
        const lifted = this.out.refs.get(e);
        if (lifted?.k === 'fun') return { k: 'fn', ret: lifted.f.ret, params: lifted.f.params.map(p => p.ty) };
        const f = this.nestedFunction(e.decl, '');
        this.out.refs.set(e, { k: 'fun', f });
        this.checkNested(f);
        this.closureSite(e, f);
        return { k: 'fn', ret: f.ret, params: f.params.map(p => p.ty) };
      }
      case 'seq': {
        let t: Ty = ERROR;
        e.es.forEach((x, i) => { t = this.expr(x, i === e.es.length - 1 ? expected : undefined); });
        return t;
      }
    }
  }

  /**
   * The polymorphic function `f@<T1, …>` names, with its type arguments resolved into `typeArgs`; undefined (after
   * an error) when it names none or the count is wrong.
   */
  private instantiated(e: Extract<Expr, { k: 'inst' }>, typeArgs?: Map<string, Ty>): FunInfo | undefined {
    const args = e.args.map(a => this.names.resolveType(a));
    const v = e.e.k === 'var' ? e.e.name : undefined;
    const shadowed = v !== undefined && !v.ns && this.findLocal(v.name) !== undefined;
    const f = v && !shadowed ? (v.ns ? undefined : this.findNested(v.name)) ?? this.names.fun(v) : undefined;
    if (!f || f.tparams.length === 0) {
      this.error(e.pos, Diag.NotPolymorphic, e.e.k === 'var' ? showName(e.e.name) : 'this');
      return undefined;
    }
    this.out.refs.set(e.e, { k: 'fun', f });
    if (args.length !== f.tparams.length) {
      this.error(e.pos, Diag.InstantiationCount, f.name, f.tparams.length, args.length);
      return undefined;
    }
    f.tparams.forEach((p, i) => typeArgs?.set(p, args[i]));
    return f;
  }

  /** An abstract struct is built and taken apart only in its own file; elsewhere it is a type and nothing more. */
  private checkAbstract(pos: Pos, s: StructInfo): void {
    if (s.abstractIn !== undefined && s.abstractIn !== this.names.file) {
      this.error(pos, Diag.AbstractStruct, s.name, s.abstractIn);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // unions (docs/popcorn.md: unions)

  /** The union `name` names when it is not a variable (`U.A` builds a value; `u.B` reads one). */
  private unionNamed(e: Expr): UnionInfo | undefined {
    if (e.k !== 'var' || (!e.name.ns && this.findLocal(e.name.name)) || this.names.global(e.name)) return undefined;
    return this.names.union(e.name);
  }

  /** The variant `name` of `u`, or an error (undefined). */
  private variantOf(u: UnionInfo, name: string, pos: Pos): Variant | undefined {
    const v = u.variants.find(x => x.name === name);
    if (!v) this.error(pos, Diag.NoSuchVariant, u.name, name);
    return v;
  }

  /**
   * The instance a union value is built at: the expected type's when it is this union, else what the value's type
   * binds (a nullary variant binds nothing: its type arguments stay open, `error`, and it fits every instance).
   */
  private unionInstance(u: UnionInfo, expected: Ty | undefined, m: Map<string, Ty>): Extract<Ty, { k: 'union' }> {
    if (expected?.k === 'union' && expected.u === u) u.tparams.forEach((p, i) => {
      if (!m.has(p) && expected.args[i].k !== 'error') m.set(p, expected.args[i]);
    });
    return { k: 'union', u, args: u.tparams.map(p => m.get(p) ?? ERROR) };
  }

  /** `U.A`: a nullary variant's value (undefined when `e` is not one: a field of a struct, or a union's variant). */
  private nullaryVariant(e: Extract<Expr, { k: 'field' }>, expected?: Ty): Ty | undefined {
    const u = this.unionNamed(e.e);
    if (!u) return undefined;
    const v = this.variantOf(u, e.name, e.pos);
    if (!v) return ERROR;
    if (v.ty.k !== 'void') { this.error(e.pos, Diag.VariantNeedsValue, u.name, v.name, showTy(v.ty)); return ERROR; }
    const ty = this.unionInstance(u, expected, new Map());
    this.out.variants.set(e, { ty, variant: v });
    return ty;
  }

  /** `new U.B(x)` / `^U.B(x)` (and `new U.A()` for a nullary variant). */
  private variantNew(e: Extract<Expr, { k: 'new' }>, name: string, expected?: Ty): Ty {
    const u = this.names.union(e.name);
    const v = u && this.variantOf(u, name, e.pos);
    if (!u) this.names.unknown(Diag.UnknownType, e.pos, e.name);
    if (!u || !v) { for (const a of e.args) this.expr(a); return ERROR; }
    const m = new Map<string, Ty>();
    const ty = (): Extract<Ty, { k: 'union' }> => this.unionInstance(u, expected, m);
    if (v.ty.k === 'void') {
      if (e.args.length) this.error(e.pos, Diag.VariantHasNoValue, u.name, v.name);
      for (const a of e.args) this.expr(a);
      this.out.variants.set(e, { ty: ty(), variant: v });
      return this.out.variants.get(e)!.ty;
    }
    if (e.args.length !== 1) {
      this.error(e.pos, Diag.VariantValueCount, u.name, v.name, e.args.length);
      for (const a of e.args) this.expr(a);
      return ERROR;
    }
    const vars = new Set(u.tparams);
    ty(); // the expected instance binds first (`<int>option x = new option.Some(null)` …)
    const want = substTy(v.ty, m);
    const t = this.expr(e.args[0], varsOf(want).size === 0 ? want : undefined);
    if (!unify(v.ty, t, vars, m)) {
      this.error(e.args[0].pos, Diag.VariantValueMismatch, u.name, v.name, showTy(substTy(v.ty, m)), showTy(t));
    }
    for (const p of u.tparams) if (!m.has(p) && varsOf(v.ty).has(p)) {
      this.error(e.pos, Diag.CannotInferStructArgument, p, u.name);
      m.set(p, INT);
    }
    const built = ty();
    this.out.variants.set(e, { ty: built, variant: v });
    return built;
  }

  /** `u.B`: the value of variant B, which raises UnionVariant when u is another variant. */
  private variantAccess(e: Extract<Expr, { k: 'field' }>, open: Extract<Ty, { k: 'union' }>): Ty {
    const t = this.instanceOrInt(e.e, open);
    const v = this.variantOf(t.u, e.name, e.pos);
    if (!v) return ERROR;
    if (v.ty.k === 'void') { this.error(e.pos, Diag.VariantHasNoValue, t.u.name, v.name); return ERROR; }
    return substTy(v.ty, new Map(t.u.tparams.map((p, i) => [p, t.args[i]])));
  }

  /**
   * A switch on a union: each case names variants (`case A:`, `case A, B:`) or one variant with a pattern binding
   * its value (`case B(x):`, `case C*(x, y):`; `_` binds nothing), in a scope of the case's own. Without a default,
   * every variant must have a case. Returns whether control never reaches the switch's end.
   */
  /**
   * A union value taken apart whose instance is not known (`switch (option.None)`: only a nullary variant has such a
   * type) is taken apart at int, recorded as `e`'s type: its other variants cannot match, and code needs a type.
   */
  private instanceOrInt(e: Expr, t: Extract<Ty, { k: 'union' }>): Extract<Ty, { k: 'union' }> {
    if (!t.args.some(a => a.k === 'error')) return t;
    const args = t.args.map(a => (a.k === 'error' ? INT : a));
    const known: Extract<Ty, { k: 'union' }> = { k: 'union', u: t.u, args };
    this.out.types.set(e, known);
    return known;
  }

  private unionSwitch(s: Extract<Stmt, { k: 'switch' }>, open: Extract<Ty, { k: 'union' }>): boolean {
    const t = this.instanceOrInt(s.e, open);
    const inst = new Map(t.u.tparams.map((p, i) => [p, t.args[i]]));
    const seen = new Set<Variant>();
    const before = this.flow.save();
    const outs: ReturnType<Flow['save']>[] = [];
    let allEnd = true;
    this.switches++;
    for (const c of s.cases) {
      const binds = new Map<string, LocalVar>();
      for (const label of c.values) {
        const uc = this.unionCase(label, t, inst, c.values.length);
        if (!uc) continue;
        if (seen.has(uc.variant)) this.error(label.pos, Diag.DuplicateCase);
        seen.add(uc.variant);
        this.out.unionCases.set(label, uc);
        for (const b of uc.binds) if (b) binds.set(b.name, b);
      }
      this.flow.restore(before);
      this.scope = { vars: binds, parent: this.scope };
      for (const b of binds.values()) this.flow.assigned(b, false);
      const ends = this.stmt({ k: 'block', body: c.body, pos: c.pos });
      this.scope = this.scope.parent;
      if (!ends) outs.push(this.flow.save());
      allEnd &&= ends && !this.breaksOut(c.body);
    }
    this.flow.restore(before);
    const missing = t.u.variants.filter(v => !seen.has(v));
    if (s.dflt) {
      const ends = this.stmt({ k: 'block', body: s.dflt, pos: s.pos });
      if (!ends) outs.push(this.flow.save());
      allEnd &&= ends && !this.breaksOut(s.dflt);
    } else if (missing.length) {
      this.error(s.pos, Diag.SwitchNotExhaustive, t.u.name, missing.map(v => v.name).join(', '));
    }
    this.switches--;
    this.flow.restore(outs.length ? outs.reduce(Flow.meet) : before);
    return allEnd;
  }

  /** One case label of a switch on a union, with the locals its pattern declares (`labels`: how many the case has). */
  private unionCase(label: Expr, t: Extract<Ty, { k: 'union' }>, inst: Map<string, Ty>, labels: number,
  ): UnionCase | undefined {
    const u = t.u;
    const bad = (): undefined => void this.error(label.pos, Diag.BadUnionCase, u.name);
    const named = (x: Expr): Variant | undefined =>
      (x.k === 'var' && !x.name.ns ? this.variantOf(u, x.name.name, x.pos) : bad());
    if (label.k === 'var') {
      const v = named(label);
      return v && { variant: v, binds: [], tuple: false };
    }
    if (label.k !== 'call' || label.args.length !== 1) return bad();
    const v = named(label.fn);
    if (!v) return undefined;
    const arg = label.args[0];
    const names = arg.k === 'tuple' ? arg.elems : [arg];
    if (!names.every(n => n.k === 'var' && !n.name.ns)) return bad();
    // After an error the names are still bound (as errors), so that the case's body draws no more.
    let parts: Ty[] = names.map(() => ERROR);
    const ty = substTy(v.ty, inst);
    if (v.ty.k === 'void') this.error(label.pos, Diag.VariantHasNoValue, u.name, v.name);
    else if (arg.k === 'tuple' && (ty.k !== 'tuple' || ty.elems.length !== names.length)) {
      this.error(arg.pos, Diag.TuplePatternMismatch, v.name, showTy(ty), names.length);
    } else parts = arg.k === 'tuple' && ty.k === 'tuple' ? ty.elems : [ty];
    if (labels > 1) this.error(label.pos, Diag.PatternInCaseList);
    const seen = new Set<string>();
    const binds = names.map((n, i) => {
      const name = (n as Extract<Expr, { k: 'var' }>).name.name;
      if (name === '_') return undefined;
      if (seen.has(name)) this.error(n.pos, Diag.DuplicatePatternName, name);
      seen.add(name);
      const lv: LocalVar = { name, ty: parts[i], id: this.fun!.locals.length, pos: n.pos };
      this.fun!.locals.push(lv);
      return lv;
    });
    return { variant: v, binds, tuple: arg.k === 'tuple' };
  }

  /** Whether a name in an expression means anything: a local, a global, a function, an exception or a builtin. */
  private nameExists(e: Extract<Expr, { k: 'var' }>): boolean {
    if (!e.name.ns && this.findLocal(e.name.name)) return true;
    if (this.variableType(e.name)) return true; // a captured variable (raise c(v) with c a constructor held there)
    return !!(this.names.global(e.name) ?? this.names.fun(e.name) ?? this.names.exception(e.name)
      ?? this.names.builtin(e.name));
  }

  /** `E(v)`, `new E(v)`, `E()`, `new E()`: an exception value, carrying v when E is declared `exception E(T);`. */
  private exceptionValue(e: Expr, x: NonNullable<ReturnType<Resolver['exception']>>, args: Expr[], at: Pos): Ty {
    this.out.exnValues.set(e, x);
    if (!x.payload) {
      if (args.length) this.error(at, Diag.ExceptionCarriesNothing, x.name);
      for (const a of args) this.expr(a);
      return EXN;
    }
    if (args.length !== 1) {
      this.error(at, Diag.ExceptionNeedsValue, x.name, showTy(x.payload));
      for (const a of args) this.expr(a);
      return EXN;
    }
    const t = this.expr(args[0], x.payload);
    if (!assignable(t, x.payload)) this.error(args[0].pos, Diag.PayloadMismatch, x.name, showTy(x.payload), showTy(t));
    return EXN;
  }

  private varExpr(e: Extract<Expr, { k: 'var' }>): Ty {
    if (!e.name.ns) {
      const v = this.findLocal(e.name.name);
      if (v && e.amp) { this.error(e.pos, Diag.AddressOfNotFunction, v.name); return ERROR; }
      if (v) { this.out.refs.set(e, { k: 'local', v }); return v.ty; }
    }
    const nested = e.name.ns ? undefined : this.findNested(e.name.name);
    const captured = e.name.ns || nested ? undefined : this.enclosingLocal(e.name.name);
    if (captured) {
      if (e.amp) { this.error(e.pos, Diag.AddressOfNotFunction, captured.name); return ERROR; }
      // A lifted function is not polymorphic in the type variables of the function around it: its environment
      // could not say what they stand for.
      if (varsOf(captured.ty).size) {
        this.error(e.pos, Diag.CapturePolymorphic, captured.name, showTy(captured.ty), this.fun!.name);
        return ERROR;
      }
      this.out.refs.set(e, { k: 'local', v: this.captureIn(this.fun!, captured) });
      return captured.ty;
    }
    const g = nested ? undefined : this.names.global(e.name);
    if (g && e.amp) { this.error(e.pos, Diag.AddressOfNotFunction, g.name); return ERROR; }
    if (g) { this.out.refs.set(e, { k: 'global', g }); return g.ty; }
    const f = nested ?? this.names.fun(e.name);
    if (e.amp && !f) {
      this.error(e.pos, Diag.AddressOfNotFunction, showName(e.name));
      return ERROR;
    }
    if (f) {
      this.out.refs.set(e, { k: 'fun', f });
      this.closureSite(e, f);
      if (f.tparams.length) {
        this.error(e.pos, Diag.PolymorphicValue, f.name);
        return ERROR;
      }
      return { k: 'fn', ret: f.ret, params: f.params.map(p => p.ty) };
    }
    const x = this.names.exception(e.name);
    if (x) {
      this.out.refs.set(e, { k: 'exn', e: x });
      if (x.payload) this.error(e.pos, Diag.ExceptionNeedsValue, x.name, showTy(x.payload));
      return EXN;
    }
    const b = this.names.builtin(e.name);
    if (b) { this.error(e.pos, Diag.BuiltinNotValue, b.name); return ERROR; }
    this.names.unknown(Diag.UnknownName, e.pos, e.name);
    return ERROR;
  }

  private lvalue(e: Expr): Ty {
    switch (e.k) {
      case 'var': {
        const t = this.expr(e);
        const r = this.out.refs.get(e);
        if (r?.k === 'global' && r.g.isConst) this.error(e.pos, Diag.AssignConstant, r.g.name);
        if (r?.k === 'local' && r.v.captured) this.error(e.pos, Diag.AssignCaptured, r.v.name, this.fun!.name);
        if (r && r.k !== 'local' && r.k !== 'global') this.error(e.pos, Diag.AssignNonVariable, showName(e.name));
        return t;
      }
      case 'index': {
        const t = this.expr(e);
        const a = this.out.types.get(e.a);
        if (a?.k === 'string' || a?.k === 'array') return t;
        return t;
      }
      case 'field': {
        const t = this.expr(e);
        const st = this.out.types.get(e.e);
        if (st?.k === 'struct' && st.s.fields.find(f => f.name === e.name)?.isConst) {
          this.error(e.pos, Diag.AssignConstant, e.name);
        }
        // A union's value is read-only (its variant tuple is, docs/tal.md §3.5).
        if (this.out.variants.has(e) || this.out.types.get(e.e)?.k === 'union') this.error(e.pos, Diag.NotAssignable);
        return t;
      }
      case 'proj':
        this.expr(e);
        this.error(e.pos, Diag.TupleReadOnly);
        return INT;
      default:
        this.expr(e);
        this.error(e.pos, Diag.NotAssignable);
        return INT;
    }
  }

  private binary(e: Extract<Expr, { k: 'binary' }>): Ty {
    if (e.op === '&&' || e.op === '||') {
      // The right operand is checked with what the left one proves on the edge that evaluates it.
      const { ifTrue, ifFalse } = this.flow.condition(e.l, x => this.localOf(x));
      const l = this.expr(e.l);
      const before = this.flow.save();
      this.flow.restore(e.op === '&&' ? ifTrue : ifFalse);
      const r = this.expr(e.r);
      this.flow.restore(before);
      // The right operand may not run: what it assigns is unknown after.
      const changed = assignedLocals(e.r, x => this.localOf(x));
      this.flow.forget(v => changed.has(v));
      if (l.k !== 'bool' || r.k !== 'bool') this.error(e.pos, Diag.OperatorNeedsBools, e.op, showTy(l), showTy(r));
      return BOOL;
    }
    const l = this.expr(e.l);
    const r = this.expr(e.r, l);
    switch (e.op) {
      case '==': case '!=': {
        const ok = (isNumeric(l) && isNumeric(r)) || sameTy(l, r) || (l.k === 'null' && isNullable(r))
          || (r.k === 'null' && isNullable(l))
          || (l.k === 'null' && r.k === 'null');
        if (!ok) this.error(e.pos, Diag.CannotCompare, showTy(l), showTy(r));
        if (l.k === 'string' && r.k === 'string') this.error(e.pos, Diag.StringEquality);
        return BOOL;
      }
      case '<': case '<=': case '>': case '>=':
        if (!isNumeric(l) || !isNumeric(r)) this.error(e.pos, Diag.OperatorNeedsNumbers, e.op, showTy(l), showTy(r));
        return BOOL;
      default:
        if (!isNumeric(l) || !isNumeric(r)) {
          this.error(e.pos, Diag.OperatorNeedsNumbers, e.op, showTy(l), showTy(r));
          return INT;
        }
        return l.k === 'unsigned' || r.k === 'unsigned' ? UNSIGNED : INT;
    }
  }

  private call(e: Extract<Expr, { k: 'call' }>, expected?: Ty): Ty {
    // Arguments are checked in the order they run: right to left (what one assigns is known to the next).
    const argTypes = (params: readonly Ty[] | undefined): Ty[] => {
      const out: Ty[] = [];
      for (let i = e.args.length - 1; i >= 0; i--) {
        const want = params?.[i];
        out[i] = this.expr(e.args[i], want && varsOf(want).size === 0 ? want : undefined);
      }
      return out;
    };
    // An explicit instantiation f@<T, …>: the type arguments are given, the arguments are checked against them.
    if (e.fn.k === 'inst') {
      const typeArgs = new Map<string, Ty>();
      const f = this.instantiated(e.fn, typeArgs);
      if (!f) { argTypes(undefined); return ERROR; }
      const params = f.params.map(p => substTy(p.ty, typeArgs));
      const ret = substTy(f.ret, typeArgs);
      this.out.types.set(e.fn, { k: 'fn', ret, params });
      const args = argTypes(params);
      this.apply(e, f.name, params, ret, new Set(), args, { k: 'fun', f }, expected);
      this.out.calls.set(e, { target: { k: 'fun', f }, inst: typeArgs });
      this.closureSite(e, f);
      return ret;
    }
    // A named function or builtin.
    if (e.fn.k === 'var') {
      const held = this.variableType(e.fn.name);
      if (held && exnconPayload(held)) return this.constructorMake(e, e.fn.name, held, e.args, e.fn.pos);
      const local = e.fn.name.ns ? undefined : this.findLocal(e.fn.name.name);
      const nested = local || e.fn.name.ns ? undefined : this.findNested(e.fn.name.name);
      const captured = local || nested || e.fn.name.ns ? undefined : this.enclosingLocal(e.fn.name.name);
      const f = local || captured ? undefined : nested ?? this.names.fun(e.fn.name);
      const x = local || captured || f || this.names.global(e.fn.name) ? undefined : this.names.exception(e.fn.name);
      if (x) {
        this.out.refs.set(e.fn, { k: 'exn', e: x });
        this.out.types.set(e.fn, EXN);
        return this.exceptionValue(e, x, e.args, e.fn.pos);
      }
      if (!local && !captured && !f && isFormatFunction(e.fn.name)) return this.formatCall(e, e.fn.name.name, expected);
      if (f) {
        this.out.refs.set(e.fn, { k: 'fun', f });
        this.out.types.set(e.fn, { k: 'fn', ret: f.ret, params: f.params.map(p => p.ty) });
        this.closureSite(e, f);
        const args = argTypes(f.params.map(p => p.ty));
        return this.apply(e, f.name, f.params.map(p => p.ty), f.ret, new Set(f.tparams), args, { k: 'fun', f },
          expected);
      }
      const b = local || this.names.global(e.fn.name) ? undefined : this.names.builtin(e.fn.name);
      if (b) {
        this.out.refs.set(e.fn, { k: 'builtin', b });
        const args = argTypes(b.params);
        if (b.buffer) this.constantBuffer(e, b.name, b.buffer);
        return this.apply(e, b.name, b.params, b.ret, new Set(b.tparams), args, { k: 'builtin', b }, expected);
      }
    }
    const ft = this.expr(e.fn);
    const args = argTypes(ft.k === 'fn' ? ft.params : undefined);
    if (ft.k !== 'fn') {
      if (ft.k !== 'error') this.error(e.pos, Diag.NotAFunction, showTy(ft));
      return ERROR;
    }
    return this.apply(e, 'this function', ft.params, ft.ret, new Set(), args, { k: 'value' }, expected);
  }

  // ---- exception constructors as values (`<T>exncon`, lowered by exncon.ts) ----

  /** The type of the variable (a local, a captured one or a global) a name means, if it means one. */
  private variableType(name: QName): Ty | undefined {
    if (!name.ns) {
      const v = this.findLocal(name.name);
      if (v) return v.ty;
      if (this.findNested(name.name)) return undefined;
      const captured = this.enclosingLocal(name.name);
      if (captured) return captured.ty;
    }
    const g = this.names.global(name);
    return g && this.constructorCells.has(g) ? (g.ty as { elem: Ty }).elem : g?.ty;
  }

  /**
   * A global of type <T>exncon (Popcorn's GlobalExncon) is a one-element array of it: a global holds its type's
   * default until its initializer has run before pop_main, and a tuple of function values has none, an array does
   * (the empty one). Its initializer fills the element; every use of the name is a use of the element.
   */
  private constructorGlobals(): void {
    for (const g of this.out.globals) {
      if (exnconPayload(g.ty)) { this.constructorCells.add(g); g.ty = { k: 'array', elem: g.ty }; }
    }
  }

  /** A name meaning a global of type <T>exncon: read (or assigned) as its cell's element, `g[0]`. */
  private constructorCell(e: Extract<Expr, { k: 'var' }>, expected?: Ty): Ty | undefined {
    if (this.cellReads.has(e) || (!e.name.ns && (this.findLocal(e.name.name) || this.findNested(e.name.name)
      || this.enclosingLocal(e.name.name)))) return undefined;
    const g = this.names.global(e.name);
    if (!g || !this.constructorCells.has(g)) return undefined;
    const cell: Expr = { k: 'var', name: e.name, pos: e.pos };
    this.cellReads.add(cell);
    become<Expr>(e, { k: 'index', a: cell, i: { k: 'int', value: 0, pos: e.pos }, pos: e.pos });
    return this.expr(e, expected);
  }

  /** A case label naming a variable (not a declared exception): Popcorn's LocalExncon or GlobalExncon arm. */
  private labelVariable(v: Expr): Ty | undefined {
    const label = v.k === 'call' ? v.fn : v;
    return label.k === 'var' ? this.variableType(label.name) : undefined;
  }

  /**
   * A declared exception used as a value where a constructor is wanted (a `<T>exncon` is expected, or the exception
   * carries a value, so that it could not be an exn by itself): its constructor value, the package of its functions.
   */
  private constructorValue(e: Extract<Expr, { k: 'var' }>, expected?: Ty): Ty | undefined {
    if (e.amp || this.variableType(e.name) || (!e.name.ns && this.findNested(e.name.name))) return undefined;
    if (this.names.fun(e.name)) return undefined;
    const x = this.names.exception(e.name);
    if (!x) return undefined;
    const wanted = expected && exnconPayload(expected) !== undefined;
    if (!wanted && !(x.payload && expected?.k !== 'exn')) return undefined;
    become<Expr>(e, constructorPackage(e.name, x.payload ?? VOID, e.pos));
    return this.expr(e, expected);
  }

  /**
   * `c(v)`, `new c(v)`, `raise c(v)` (and `c()` for a constructor of nothing) where c is a variable holding a
   * constructor: the exception c makes, a call of its make function. `notConstructor` is reported when c's type is
   * not a constructor's (`new` only: a call of another variable is a call of a function value).
   */
  private constructorMake(
    e: Expr, name: QName, held: Ty, args: Expr[], at: Pos, notConstructor?: typeof Diag.NewNotExncon,
  ): Ty {
    const payload = exnconPayload(held);
    const shown = showName(name);
    if (!payload) {
      if (notConstructor) this.error(at, notConstructor, shown, showTy(held));
      for (const a of args) this.expr(a);
      return ERROR;
    }
    if (payload.k === 'void' ? args.length !== 0 : args.length !== 1) {
      if (payload.k === 'void') this.error(at, Diag.ExceptionCarriesNothing, shown);
      else this.error(at, Diag.ExceptionNeedsValue, shown, showTy(payload));
      for (const a of args) this.expr(a);
      return EXN;
    }
    if (payload.k !== 'void') {
      const t = this.expr(args[0], varsOf(payload).size ? undefined : payload);
      if (!assignable(t, payload)) {
        this.error(args[0].pos, Diag.ExnconValueMismatch, shown, showTy(held), showTy(payload), showTy(t));
        return EXN;
      }
    }
    become<Expr>(e, makeCall(name, args, at));
    return this.expr(e, EXN);
  }

  /**
   * A switch on an exception with an arm naming a variable that holds a constructor (Popcorn's `lookup_exn`): the
   * labels checked, then the switch lowered into tests in arm order (exncon.ts) and checked as what it has become.
   */
  private constructorSwitch(s: Extract<Stmt, { k: 'switch' }>): boolean {
    let ok = true;
    const arms = s.cases.map(c => c.values.map((v): ArmLabel | undefined => {
      const label = v.k === 'call' ? v.fn : v;
      if (label.k !== 'var') { this.error(v.pos, Diag.CaseNotException); ok = false; return undefined; }
      const shown = showName(label.name);
      const held = this.variableType(label.name);
      let payload: Ty | undefined;
      if (held) {
        payload = exnconPayload(held);
        if (!payload) { this.error(label.pos, Diag.CaseNotExncon, shown, showTy(held)); ok = false; return undefined; }
      } else {
        const x = this.names.exception(label.name);
        if (!x) { this.names.unknown(Diag.UnknownException, label.pos, label.name); ok = false; return undefined; }
        payload = x.payload ?? VOID;
      }
      let bind: string | undefined;
      if (v.k === 'call') {
        const x = v.args[0];
        if (payload.k === 'void') { this.error(label.pos, Diag.ExceptionCarriesNothing, shown); ok = false; }
        else if (v.args.length !== 1 || x.k !== 'var' || x.name.ns) {
          this.error(label.pos, Diag.CaseBindsName, shown);
          ok = false;
        }
        else if (c.values.length > 1) { this.error(label.pos, Diag.CaseBindsAlone); ok = false; }
        else bind = x.name.name;
      } else if (payload.k !== 'void') {
        this.error(v.pos, Diag.ExceptionNeedsValue, shown, showTy(payload));
        ok = false;
      }
      return { name: label.name, declared: !held, payload, bind, pos: label.pos };
    }));
    if (!ok) return false;
    const temp = `__exncon_switch${this.constructorSwitches++}`;
    become<Stmt>(s, lowerConstructorSwitch(s, arms as ArmLabel[][], temp));
    return this.stmt(s);
  }

  /** printf, fprintf, sprintf: the format checked against the arguments, and the call lowered to Core's fmt_*
   * functions (format.ts), then checked as the call it has become. */
  private formatCall(e: Extract<Expr, { k: 'call' }>, name: string, expected?: Ty): Ty {
    const lowered = lowerFormatCall(e, name, {
      typeOf: a => this.expr(a),
      error: (pos, def, ...args) => { this.error(pos, def, ...args); },
      hasCore: () => this.names.fun({ ns: 'Core', name: 'fmt_start' }) !== undefined,
      isFile: t => t.k === 'struct' && t.s.name === 'FILE' && this.names.struct({ name: 'FILE' }) === t.s,
    });
    if (!lowered) return name === 'sprintf' ? STRING : INT;
    return this.call(e, expected);
  }

  /**
   * A string literal passed as an import's buffer with a constant offset and count must hold them: the checker
   * refuses the call otherwise (at run time it would fail with -EFAULT).
   */
  private constantBuffer(e: Extract<Expr, { k: 'call' }>, name: string, b: NonNullable<Builtin['buffer']>): void {
    const buf = e.args[b.buf];
    const off = e.args[b.off] && constInt(e.args[b.off]);
    const count = typeof b.count === 'number' ? e.args[b.count] && constInt(e.args[b.count]) : b.count.fixed;
    if (buf?.k !== 'string' || off === undefined || count === undefined) return;
    const len = buf.bytes.length;
    if (off < 0 || count < 0 || off + count > len) {
      this.error(e.args[b.off].pos, Diag.BufferOutsideLiteral, name, off, count, len);
    }
  }

  private apply(e: Extract<Expr, { k: 'call' }>, name: string, params: readonly Ty[], ret: Ty, vars: Set<string>,
    args: Ty[],
    target: CallInfo['target'], expected?: Ty): Ty {
    if (args.length !== params.length) {
      this.error(e.pos, Diag.ArgumentCount, name, params.length, args.length);
      return vars.size ? INT : ret;
    }
    // The type the context expects decides first (as for `new`): `int x = id('c')` instantiates a as int, and
    // `<char>list r = rev(cs)` as char; the arguments bind what it leaves open.
    let m = new Map<string, Ty>();
    // An expected type with a part not known yet (a polymorphic union's nullary variant, `<_>option`) says nothing
    // about the instantiation: the arguments decide it.
    if (expected && !hasHole(expected) && vars.size && !unify(ret, expected, vars, m)) m = new Map();
    // null arguments last: null is allowed where the other arguments make the type nullable.
    const order = [...args.keys()].sort((i, j) => Number(args[i].k === 'null') - Number(args[j].k === 'null'));
    for (const i of order) {
      const a = args[i];
      if (a.k === 'void') { this.error(e.args[i].pos, Diag.VoidArgument); continue; }
      if (!unify(params[i], a, vars, m)) {
        this.error(e.args[i].pos, Diag.ArgumentMismatch, i + 1, name, showTy(substTy(params[i], m)), showTy(a));
      }
    }
    for (const v of vars) if (!m.has(v)) {
      if (!args.some(a => a.k === 'error')) this.error(e.pos, Diag.CannotInferCall, v, name);
      m.set(v, ERROR);
    }
    this.out.calls.set(e, { target, inst: m });
    return substTy(ret, m);
  }
}

/**
 * The value of an integer constant expression (what the checker folds: literals, - ~ + - * & | ^ << >> >>>);
 * `named` gives the constant a name stands for, if any (checked once: a constant defined by itself is not one).
 */
function constInt(e: Expr, named?: (e: Expr) => Expr | undefined, depth = 0): number | undefined {
  if (e.k === 'int' || e.k === 'char') return e.value | 0;
  if (depth > 100) return undefined;
  const of = (x: Expr): number | undefined => constInt(x, named, depth + 1);
  const def = named?.(e);
  if (def) return of(def);
  if (e.k === 'unary' && (e.op === '-' || e.op === '+' || e.op === '~')) {
    const v = of(e.e);
    return v === undefined ? undefined : e.op === '-' ? -v | 0 : e.op === '~' ? ~v : v;
  }
  if (e.k === 'binary') {
    const a = of(e.l), b = of(e.r);
    if (a === undefined || b === undefined) return undefined;
    switch (e.op) {
      case '+': return (a + b) | 0;
      case '-': return (a - b) | 0;
      case '*': return Math.imul(a, b);
      case '/': return b === 0 ? undefined : (a / b) | 0;
      case '%': return b === 0 ? undefined : a % b | 0;
      case '&': return a & b;
      case '|': return a | b;
      case '^': return a ^ b;
      case '<<': return a << b;
      case '>>': return a >> b;
      case '>>>': return (a >>> b) | 0;
    }
  }
  return undefined;
}

/** Whether an expression statement does something: Popcorn's `c ? f() : g();` and `i++, j--;` do. */
function hasEffect(e: Expr): boolean {
  switch (e.k) {
    case 'assign': case 'incdec': case 'call': return true;
    case 'cond': return hasEffect(e.a) || hasEffect(e.b);
    case 'seq': return e.es.some(hasEffect);
    case 'cast': return hasEffect(e.e);
    default: return false;
  }
}

/** The value a variable or array element of type `t` has when nothing is given: 0, false, null; none for others. */
function defaultValue(t: Ty, pos: Pos): Expr | undefined {
  if (t.k === 'char') return { k: 'char', value: 0, pos };
  if (isNumeric(t) && t.k !== 'error') return { k: 'int', value: 0, pos };
  if (t.k === 'bool') return { k: 'bool', value: false, pos };
  if (isNullable(t)) return { k: 'null', pos };
  return undefined;
}

/** "an int", "a string". */
function article(what: string): string {
  return `${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what}`;
}

/** The types a local may be declared without an initializer: it starts as the word 0 (0, false, null). */
function startsAsZero(t: Ty): boolean {
  return isNumeric(t) || t.k === 'bool' || isNullable(t);
}

/** Constant initializers of globals (laid out in the data section at compile time). */
function isConstantInit(e: Expr): boolean {
  switch (e.k) {
    case 'int': case 'char': case 'string': case 'bool': case 'null': return true;
    case 'unary': return e.op === '-' && e.e.k === 'int';
    case 'arraylit': return e.elems.every(isConstantInit);
    // `FILE tal_stdout = new FILE(1, "", 0)` (lib/core.pop): a record of constants, laid out in .data.
    case 'new': return e.args.every(isConstantInit);
    default: return false;
  }
}

function endPos(s: Stmt): Pos {
  return s.k === 'block' && s.body.length ? endPos(s.body[s.body.length - 1]) : s.pos;
}

/** Names of locals assigned anywhere in a statement (for the loop rule). */
function assignedIn(s: Stmt): Set<string> {
  const out = new Set<string>();
  const ex = (e: Expr): void => {
    if (e.k === 'assign' && e.target.k === 'var' && !e.target.name.ns) out.add(e.target.name.name);
    subExprs(e).forEach(ex);
  };
  forEachStmtExpr(s, ex, d => out.add(d.name));
  return out;
}

function containsBreak(s: Stmt): boolean {
  switch (s.k) {
    case 'break': return true;
    case 'block': return s.body.some(containsBreak);
    case 'if': return containsBreak(s.then) || (s.else ? containsBreak(s.else) : false);
    case 'switch': return false; // a break there leaves the switch
    default: return false; // nested loops own their breaks
  }
}

/** Whether a type has a part not known yet (`error`: an open instance of a polymorphic union). */
function hasHole(t: Ty): boolean {
  switch (t.k) {
    case 'error': return true;
    case 'array': return hasHole(t.elem);
    case 'tuple': return t.elems.some(hasHole);
    case 'struct': case 'union': return t.args.some(hasHole);
    case 'fn': return hasHole(t.ret) || t.params.some(hasHole);
    default: return false;
  }
}
