// The resolver and type checker: names to declarations (namespaces, `open`, locals in block scopes), a type for
// every expression, the instantiation of every polymorphic call, and the language's static rules. Every error is
// recorded (as `file:line:col: message`) and checking goes on, so a file's errors come out together. Null-safety's
// flow-sensitive part (which locals are known non-null where) is in flow.ts.

import { forEachStmtExpr, subExprs, type Decl, type Expr, type Stmt, type TypeExpr, type Pos, type QName, type VarDecl, type Param } from './ast.ts';
import { Diagnostics } from './diagnostics.ts';
import {
  type Ty, type StructInfo, INT, UNSIGNED, BOOL, CHAR, STRING, VOID, NULL, EXN, ERROR,
  isNumeric, isNullable, showTy, sameTy, assignable, substTy, unify, varsOf,
} from './types.ts';
import { Flow, assignedLocals, type LocalVar } from './flow.ts';
import { BUILTINS, type Builtin } from './builtins.ts';

export type { LocalVar };

export interface FunInfo {
  readonly name: string;
  /** The TAL label. */
  readonly tal: string;
  readonly tparams: string[];
  params: LocalVar[];
  ret: Ty;
  decl: Extract<Decl, { k: 'fun' }>;
  file: string;
  /** Every local the body declares, in order (each gets its own stack slot). */
  locals: LocalVar[];
}

export interface GlobalInfo {
  readonly name: string;
  readonly tal: string;
  ty: Ty;
  readonly isConst: boolean;
  decl: Extract<Decl, { k: 'global' }>;
  file: string;
}

export interface ExnInfo { readonly name: string; readonly tal: string; readonly tag: number }

export type Ref =
  | { k: 'local'; v: LocalVar }
  | { k: 'global'; g: GlobalInfo }
  | { k: 'fun'; f: FunInfo }
  | { k: 'builtin'; b: Builtin }
  | { k: 'exn'; e: ExnInfo };

export interface CallInfo {
  /** What is called: a function by name, a builtin, or a function value (an expression). */
  target: { k: 'fun'; f: FunInfo } | { k: 'builtin'; b: Builtin } | { k: 'value' };
  /** The instantiation of the callee's type variables (polymorphic functions and builtins). */
  inst: Map<string, Ty>;
}

/** The checked program: the declarations, and side tables keyed by AST node. */
export interface Checked {
  structs: StructInfo[];
  funs: FunInfo[];
  globals: GlobalInfo[];
  exns: ExnInfo[];
  types: Map<Expr, Ty>;
  refs: Map<Expr, Ref>;
  calls: Map<Expr, CallInfo>;
  /** `new S(...)`: the struct type built. */
  news: Map<Expr, Ty>;
  decls: Map<VarDecl, LocalVar>;
  main: FunInfo | undefined;
}

interface Scope { vars: Map<string, LocalVar>; parent?: Scope }

export interface SourceFile { file: string; decls: Decl[] }

const tal = (ns: string | undefined, name: string): string => (ns ? `${ns}__${name}` : name);

/** Check a whole program (its files in order; library files first). */
export function checkProgram(files: SourceFile[], diags: Diagnostics): Checked {
  return new Checker(diags).run(files);
}

class Checker {
  private readonly structs = new Map<string, StructInfo>();
  private readonly funs = new Map<string, FunInfo>();
  private readonly globals = new Map<string, GlobalInfo>();
  private readonly exns = new Map<string, ExnInfo>();
  private readonly out: Checked = {
    structs: [], funs: [], globals: [], exns: [], types: new Map(), refs: new Map(), calls: new Map(), news: new Map(),
    decls: new Map(), main: undefined,
  };
  private file = '';
  /** Namespaces opened in the current file, plus the one being declared. */
  private opened: string[] = [];
  private ns: string | undefined;
  // per function
  private fun: FunInfo | undefined;
  private tvars = new Set<string>();
  private scope: Scope | undefined;
  private flow = new Flow();
  private loops = 0;
  private switches = 0;

  constructor(private readonly diags: Diagnostics) {}

  private error(pos: Pos, msg: string): void { this.diags.error(this.file, pos, msg); }

  run(files: SourceFile[]): Checked {
    // Pass 1: names of structs and exceptions (types may refer to later ones).
    this.eachDecl(files, d => {
      if (d.k === 'struct') {
        const key = tal(this.ns, d.name);
        if (this.structs.has(key)) return this.error(d.pos, `struct ${d.name} is declared twice`);
        const s: StructInfo = { tal: key, name: d.name, nullable: d.nullable, tparams: d.tparams, fields: [] };
        this.structs.set(key, s);
        this.out.structs.push(s);
      } else if (d.k === 'exception') {
        const key = tal(this.ns, d.name);
        if (this.exns.has(key)) return this.error(d.pos, `exception ${d.name} is declared twice`);
        const e: ExnInfo = { name: d.name, tal: key, tag: this.exns.size + 1 };
        this.exns.set(key, e);
        this.out.exns.push(e);
      }
    });
    // Pass 2: struct fields, function signatures, globals.
    this.eachDecl(files, d => {
      if (d.k === 'struct') {
        const s = this.structs.get(tal(this.ns, d.name))!;
        this.tvars = new Set(d.tparams);
        const seen = new Set<string>();
        s.fields = d.fields.map(f => {
          if (seen.has(f.name)) this.error(f.pos, `field ${f.name} is declared twice in struct ${d.name}`);
          seen.add(f.name);
          const ty = this.resolveType(f.type);
          if (ty.k === 'void') this.error(f.pos, `field ${f.name} cannot be void`);
          return { name: f.name, ty };
        });
        this.tvars = new Set();
      } else if (d.k === 'fun') {
        const key = tal(this.ns, d.name);
        const prev = this.funs.get(key);
        this.tvars = new Set(d.tparams);
        const params = d.params.map((p, i) => this.param(p, i));
        const ret = this.resolveType(d.ret);
        this.tvars = new Set();
        if (prev) {
          if (prev.decl.body && d.body) return this.error(d.pos, `function ${d.name} is defined twice`);
          if (d.body) { prev.decl = d; prev.params = params; prev.file = this.file; }
          return;
        }
        for (const tv of d.tparams) {
          if (!params.some(p => varsOf(p.ty).has(tv))) this.error(d.pos, `type parameter ${tv} of ${d.name} must occur in the type of a parameter`);
        }
        const f: FunInfo = { name: d.name, tal: `f_${key}`, tparams: d.tparams, params, ret, decl: d, file: this.file, locals: [] };
        this.funs.set(key, f);
        this.out.funs.push(f);
        if (key === 'pop_main') this.out.main = f;
      } else if (d.k === 'global') {
        const key = tal(this.ns, d.name);
        if (this.globals.has(key)) return this.error(d.pos, `global ${d.name} is declared twice`);
        const ty = this.resolveType(d.type);
        if (ty.k === 'void') this.error(d.pos, `global ${d.name} cannot be void`);
        const g: GlobalInfo = { name: d.name, tal: `g_${key}`, ty: ty.k === 'void' ? ERROR : ty, isConst: d.isConst, decl: d, file: this.file };
        this.globals.set(key, g);
        this.out.globals.push(g);
      }
    });
    // Pass 3: global initializers and function bodies.
    this.eachDecl(files, d => {
      if (d.k === 'global') {
        const g = this.globals.get(tal(this.ns, d.name))!;
        if (g.decl === d) this.checkGlobalInit(g); // a duplicate was reported; its initializer is not checked twice
      } else if (d.k === 'fun' && d.body) {
        const f = this.funs.get(tal(this.ns, d.name))!;
        if (f.decl === d) this.checkFunction(f);
        else if (f.decl.body !== d.body) {
          // A second definition (reported): its body is still checked, as a function of its own.
          this.tvars = new Set(d.tparams);
          const params = d.params.map((p, i) => this.param(p, i));
          const ret = this.resolveType(d.ret);
          this.checkFunction({ name: d.name, tal: f.tal, tparams: d.tparams, params, ret, decl: d, file: this.file, locals: [] });
        }
      }
    });
    for (const f of this.out.funs) if (!f.decl.body) this.diags.error(f.file, f.decl.pos, `function ${f.name} is declared but never defined`);
    if (!this.out.main) this.diags.error(files[files.length - 1]?.file ?? '<input>', { line: 1, col: 1 }, 'no function void pop_main() in the program');
    else if (this.out.main.ret.k !== 'void' || this.out.main.params.length) this.diags.error(this.out.main.file, this.out.main.decl.pos, 'pop_main must be void pop_main()');
    return this.out;
  }

  /** Visit every declaration with the file and namespace context set. */
  private eachDecl(files: SourceFile[], f: (d: Decl) => void): void {
    for (const sf of files) {
      this.file = sf.file;
      this.opened = [];
      const walk = (decls: Decl[]): void => {
        for (const d of decls) {
          if (d.k === 'open') {
            if (!this.opened.includes(d.ns)) this.opened.push(d.ns);
          } else if (d.k === 'namespace') {
            if (this.ns) { this.error(d.pos, 'namespaces do not nest'); continue; }
            this.ns = d.name;
            walk(d.decls);
            this.ns = undefined;
          } else f(d);
        }
      };
      walk(sf.decls);
    }
  }

  private param(p: Param, _i: number): LocalVar {
    const ty = this.resolveType(p.type);
    if (ty.k === 'void') this.error(p.pos, `parameter ${p.name} cannot be void`);
    return { name: p.name, ty, id: -1, pos: p.pos };
  }

  // ---------------------------------------------------------------------------------------------------------
  // names

  /** Candidate keys for a name: qualified as written, else the current namespace, then opened ones, then global. */
  private candidates(q: QName): string[] {
    if (q.ns) return [tal(q.ns, q.name)];
    const out: string[] = [];
    if (this.ns) out.push(tal(this.ns, q.name));
    out.push(q.name);
    for (const o of this.opened) out.push(tal(o, q.name));
    return out;
  }

  private lookup<T>(table: Map<string, T>, q: QName): T | undefined {
    for (const k of this.candidates(q)) {
      const v = table.get(k);
      if (v) return v;
    }
    return undefined;
  }

  private show(q: QName): string { return q.ns ? `${q.ns}::${q.name}` : q.name; }

  resolveType(t: TypeExpr): Ty {
    switch (t.k) {
      case 'prim':
        return { int: INT, unsigned: UNSIGNED, bool: BOOL, char: CHAR, string: STRING, void: VOID }[t.name];
      case 'array': {
        const e = this.resolveType(t.elem);
        if (e.k === 'void') { this.error(t.pos, 'an array of void'); return ERROR; }
        return { k: 'array', elem: e };
      }
      case 'tuple': return { k: 'tuple', elems: t.elems.map(e => this.resolveType(e)) };
      case 'fn': return { k: 'fn', ret: this.resolveType(t.ret), params: t.params.map(p => this.resolveType(p)) };
      case 'named': {
        if (!t.name.ns && this.tvars.has(t.name.name) && t.args.length === 0) return { k: 'var', name: t.name.name };
        if (!t.name.ns && t.name.name === 'exn' && t.args.length === 0) return EXN;
        const s = this.lookup(this.structs, t.name);
        if (!s) {
          this.error(t.pos, `unknown type ${this.show(t.name)}`);
          return ERROR;
        }
        const args = t.args.map(a => this.resolveType(a));
        if (args.length !== s.tparams.length) {
          this.error(t.pos, `struct ${s.name} takes ${s.tparams.length} type argument${s.tparams.length === 1 ? '' : 's'}, not ${args.length}`);
          return { k: 'struct', s, args: s.tparams.map(() => INT) };
        }
        return { k: 'struct', s, args };
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // globals

  private checkGlobalInit(g: GlobalInfo): void {
    const init = g.decl.init;
    this.fun = undefined;
    if (!init) {
      if (!this.hasDefault(g.ty)) this.error(g.decl.pos, `global ${g.name} of type ${showTy(g.ty)} needs an initializer`);
      return;
    }
    if (!isConstantInit(init)) {
      this.error(init.pos, `the initializer of global ${g.name} must be a constant (a number, character, string, true, false, null, or {…} of these)`);
      return;
    }
    this.expectInit(init, g.ty, `global ${g.name}`);
  }

  /** Types whose variables start as 0 (null, false, 0) when not initialized. */
  private hasDefault(t: Ty): boolean {
    return isNumeric(t) || t.k === 'bool' || isNullable(t);
  }

  private expectInit(init: Expr, ty: Ty, what: string): void {
    if (init.k === 'arraylit') {
      if (ty.k !== 'array') { this.error(init.pos, `${what} is ${showTy(ty)}, not an array`); return; }
      if (init.elems.length === 0) this.error(init.pos, 'an array literal needs at least one element');
      for (const e of init.elems) this.expectInit(e, ty.elem, 'an array element');
      this.out.types.set(init, ty);
      return;
    }
    const t = this.expr(init, ty);
    if (!assignable(t, ty)) this.error(init.pos, `${what} is ${showTy(ty)}, but the value is ${showTy(t)}`);
  }

  // ---------------------------------------------------------------------------------------------------------
  // functions and statements

  private checkFunction(f: FunInfo): void {
    this.fun = f;
    this.tvars = new Set(f.tparams);
    this.flow = new Flow();
    this.scope = { vars: new Map() };
    f.locals = [];
    for (const p of f.params) {
      if (this.scope.vars.has(p.name)) this.error(p.pos, `parameter ${p.name} is declared twice`);
      this.scope.vars.set(p.name, p);
    }
    const body = f.decl.body!;
    const ends = this.stmt(body);
    if (!ends && f.ret.k !== 'void') this.error(endPos(body), `function ${f.name} can reach its end without returning ${article(showTy(f.ret))}`);
    this.fun = undefined;
    this.tvars = new Set();
    this.scope = undefined;
  }

  private declare(v: VarDecl): LocalVar {
    const ty = this.resolveType(v.type);
    const lv: LocalVar = { name: v.name, ty, id: this.fun!.locals.length, pos: v.pos };
    if (this.scope!.vars.has(v.name)) this.error(v.pos, `${v.name} is already declared in this scope`);
    this.fun!.locals.push(lv);
    this.out.decls.set(v, lv);
    return lv;
  }

  /** Check a statement; returns true if control never reaches its end (it returns, raises, breaks or continues). */
  private stmt(s: Stmt): boolean {
    switch (s.k) {
      case 'block': {
        this.scope = { vars: new Map(), parent: this.scope };
        let ends = false, reported = false;
        for (const x of s.body) {
          if (ends && x.k !== 'empty' && !reported) { this.error(x.pos, 'unreachable code'); reported = true; }
          ends = this.stmt(x) || ends;
        }
        this.scope = this.scope.parent;
        return ends;
      }
      case 'expr':
        if (!['assign', 'incdec', 'call'].includes(s.e.k)) this.error(s.e.pos, 'this expression does nothing');
        this.expr(s.e);
        return false;
      case 'decl':
        for (const d of s.decls) {
          const lv = this.declare(d);
          if (lv.ty.k === 'void') { this.error(d.pos, `variable ${d.name} cannot be void`); lv.ty = ERROR; }
          if (d.init) {
            this.expectInit(d.init, lv.ty, `${d.name}`);
            this.flow.assigned(lv, this.nonNullValue(d.init));
          } else if (!this.hasDefault(lv.ty)) {
            this.error(d.pos, `${d.name} of type ${showTy(lv.ty)} must be initialized`);
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
        if (!isNumeric(t) && t.k !== 'exn') this.error(s.e.pos, `switch needs an int, a char or an exception, not ${showTy(t)}`);
        const seen = new Set<number>();
        const before = this.flow.save();
        let allEnd = true;
        const outs: ReturnType<Flow['save']>[] = [];
        this.switches++;
        for (const c of s.cases) {
          for (const v of c.values) {
            const value = this.caseValue(v, t);
            if (value !== undefined) {
              if (seen.has(value)) this.error(v.pos, 'this case value is already used');
              seen.add(value);
            }
          }
          this.flow.restore(before);
          const ends = this.stmt({ k: 'block', body: c.body, pos: c.pos });
          if (!ends) outs.push(this.flow.save());
          allEnd &&= ends && !this.breaksOut(c.body);
        }
        this.flow.restore(before);
        if (s.dflt) {
          const ends = this.stmt({ k: 'block', body: s.dflt, pos: s.pos });
          if (!ends) outs.push(this.flow.save());
          allEnd &&= ends && !this.breaksOut(s.dflt);
        } else {
          outs.push(before);
          allEnd = false;
        }
        this.switches--;
        this.flow.restore(outs.length ? outs.reduce(Flow.meet) : before);
        return allEnd;
      }
      case 'break':
        if (this.loops === 0 && this.switches === 0) { this.error(s.pos, 'break outside a loop or switch'); return false; }
        return true;
      case 'continue':
        if (this.loops === 0) { this.error(s.pos, 'continue outside a loop'); return false; }
        return true;
      case 'return': {
        const f = this.fun!;
        if (!s.e) {
          if (f.ret.k !== 'void') this.error(s.pos, `${f.name} must return ${article(showTy(f.ret))}`);
          return true;
        }
        if (f.ret.k === 'void') { this.error(s.e.pos, `${f.name} returns void: it cannot return a value`); this.expr(s.e); return true; }
        const t = this.expr(s.e, f.ret);
        if (!assignable(t, f.ret)) this.error(s.e.pos, `${f.name} returns ${showTy(f.ret)}, not ${showTy(t)}`);
        return true;
      }
      case 'raise': {
        const e = this.lookup(this.exns, s.name);
        if (!e) this.error(s.pos, `unknown exception ${this.show(s.name)}`);
        return true;
      }
      case 'try': {
        this.error(s.pos, 'try … handle is not supported by popc (see docs/popcorn.md: exceptions)');
        return false;
      }
      case 'empty': return false;
    }
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
    if (t.k === 'exn') {
      if (v.k !== 'var') { this.error(v.pos, 'a case of an exception switch names an exception'); return undefined; }
      const e = this.lookup(this.exns, v.name);
      if (!e) { this.error(v.pos, `unknown exception ${this.show(v.name)}`); return undefined; }
      this.out.refs.set(v, { k: 'exn', e });
      this.out.types.set(v, EXN);
      return e.tag;
    }
    const c = this.constInt(v);
    if (c === undefined) { this.error(v.pos, 'a case value must be a constant number or character'); return undefined; }
    this.out.types.set(v, v.k === 'char' ? CHAR : INT);
    return c;
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
    if (t.k !== 'bool') this.error(c.pos, `a condition must be a bool, not ${showTy(t)}`);
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
      case 'var': return this.varExpr(e);
      case 'unary': {
        const t = this.expr(e.e);
        if (e.op === '!') {
          if (t.k !== 'bool') this.error(e.pos, `! needs a bool, not ${showTy(t)}`);
          return BOOL;
        }
        if (!isNumeric(t)) this.error(e.pos, `${e.op} needs a number, not ${showTy(t)}`);
        return t.k === 'unsigned' ? UNSIGNED : INT;
      }
      case 'binary': return this.binary(e);
      case 'assign': {
        const target = this.lvalue(e.target);
        if (e.op === '=') {
          const v = this.expr(e.value, target);
          if (!assignable(v, target)) this.error(e.value.pos, `cannot assign ${showTy(v)} to ${showTy(target)}`);
        } else {
          const v = this.expr(e.value);
          if (!isNumeric(target) || !isNumeric(v)) this.error(e.pos, `${e.op} needs numbers, not ${showTy(target)} and ${showTy(v)}`);
        }
        const lv = this.localOf(e.target);
        if (lv) this.flow.assigned(lv, e.op === '=' && this.nonNullValue(e.value));
        return target;
      }
      case 'incdec': {
        const t = this.lvalue(e.target);
        if (!isNumeric(t)) this.error(e.pos, `${e.op} needs a number, not ${showTy(t)}`);
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
        this.error(e.pos, `the two branches of ?: have different types: ${showTy(a)} and ${showTy(b)}`);
        return a;
      }
      case 'call': return this.call(e, expected);
      case 'index': {
        const a = this.expr(e.a);
        const i = this.expr(e.i);
        if (!isNumeric(i)) this.error(e.i.pos, `an index must be a number, not ${showTy(i)}`);
        if (a.k === 'array') return a.elem;
        if (a.k === 'string') return CHAR;
        this.error(e.pos, `${showTy(a)} cannot be indexed`);
        return INT;
      }
      case 'field': {
        const t = this.expr(e.e);
        if (t.k !== 'struct') {
          this.error(e.pos, `${showTy(t)} has no fields (.${e.name})`);
          return INT;
        }
        this.checkNonNull(e.e, t);
        const f = t.s.fields.find(x => x.name === e.name);
        if (!f) {
          this.error(e.pos, `struct ${t.s.name} has no field ${e.name}`);
          return INT;
        }
        return substTy(f.ty, new Map(t.s.tparams.map((p, i) => [p, t.args[i]])));
      }
      case 'proj': {
        const t = this.expr(e.e);
        if (t.k !== 'tuple') { this.error(e.pos, `${showTy(t)} is not a tuple (.${e.index})`); return INT; }
        if (e.index < 1 || e.index > t.elems.length) { this.error(e.pos, `a ${t.elems.length}-tuple has no component ${e.index}`); return INT; }
        return t.elems[e.index - 1];
      }
      case 'new': {
        const s = this.lookup(this.structs, e.name);
        if (!s) {
          this.error(e.pos, `unknown struct ${this.show(e.name)}`);
          for (const a of e.args) this.expr(a);
          return ERROR;
        }
        if (e.args.length !== s.fields.length) this.error(e.pos, `new ${s.name} needs ${s.fields.length} values, not ${e.args.length}`);
        const vars = new Set(s.tparams);
        const m = new Map<string, Ty>();
        if (expected && expected.k === 'struct' && expected.s === s) s.tparams.forEach((p, i) => m.set(p, expected.args[i]));
        e.args.forEach((a, i) => {
          const f = s.fields[i];
          const want = f ? substTy(f.ty, m) : undefined;
          const t = this.expr(a, want && varsOf(want).size === 0 ? want : undefined);
          if (f && !unify(f.ty, t, vars, m)) this.error(a.pos, `field ${f.name} of ${s.name} is ${showTy(substTy(f.ty, m))}, not ${showTy(t)}`);
        });
        for (const p of s.tparams) if (!m.has(p)) {
          this.error(e.pos, `cannot infer the type argument ${p} of ${s.name}: give the variable a type`);
          m.set(p, INT);
        }
        const t: Ty = { k: 'struct', s, args: s.tparams.map(p => m.get(p)!) };
        this.out.news.set(e, t);
        return t;
      }
      case 'tuple': {
        if (e.elems.length === 0) this.error(e.pos, 'a tuple needs at least one component');
        const want = expected && expected.k === 'tuple' && expected.elems.length === e.elems.length ? expected.elems : undefined;
        return { k: 'tuple', elems: e.elems.map((x, i) => {
          const t = this.expr(x, want?.[i]);
          if (t.k === 'void') this.error(x.pos, 'a tuple cannot hold void');
          if (t.k === 'null') {
            if (!want) return (this.error(x.pos, 'the type of null here is unknown: give the tuple a type'), INT);
            if (!isNullable(want[i])) this.error(x.pos, `component ${i + 1} of the tuple is ${showTy(want[i])}, but the value is null`);
            return want[i];
          }
          return want && assignable(t, want[i]) ? want[i] : t.k === 'char' ? INT : t;
        }) };
      }
      case 'arraylit': {
        this.error(e.pos, 'an array literal {…} may only initialize a variable');
        return INT;
      }
    }
  }

  private checkNonNull(e: Expr, t: Ty): void {
    if (!isNullable(t)) return;
    const v = this.localOf(e);
    if (v && this.flow.isNonNull(v)) return;
    this.error(e.pos, v ? `${v.name} may be null here: test it (${v.name} != null) before use`
      : `this ?struct value may be null: assign it to a variable and test it before use`);
  }

  private varExpr(e: Extract<Expr, { k: 'var' }>): Ty {
    if (!e.name.ns) {
      const v = this.findLocal(e.name.name);
      if (v) { this.out.refs.set(e, { k: 'local', v }); return v.ty; }
    }
    const g = this.lookup(this.globals, e.name);
    if (g) { this.out.refs.set(e, { k: 'global', g }); return g.ty; }
    const f = this.lookup(this.funs, e.name);
    if (f) {
      this.out.refs.set(e, { k: 'fun', f });
      if (f.tparams.length) {
        this.error(e.pos, `the polymorphic function ${f.name} can only be called, not used as a value`);
        return ERROR;
      }
      return { k: 'fn', ret: f.ret, params: f.params.map(p => p.ty) };
    }
    const x = this.lookup(this.exns, e.name);
    if (x) { this.out.refs.set(e, { k: 'exn', e: x }); return EXN; }
    const b = this.builtin(e.name);
    if (b) { this.error(e.pos, `the built-in ${b.name} can only be called`); return ERROR; }
    this.error(e.pos, `unknown name ${this.show(e.name)}`);
    return ERROR;
  }

  private builtin(q: QName): Builtin | undefined {
    for (const k of this.candidates(q)) {
      const b = BUILTINS.get(k);
      if (b) return b;
    }
    return undefined;
  }

  private lvalue(e: Expr): Ty {
    switch (e.k) {
      case 'var': {
        const t = this.expr(e);
        const r = this.out.refs.get(e);
        if (r?.k === 'global' && r.g.isConst) this.error(e.pos, `${r.g.name} is a constant`);
        if (r && r.k !== 'local' && r.k !== 'global') this.error(e.pos, `${this.show(e.name)} cannot be assigned`);
        return t;
      }
      case 'index': {
        const t = this.expr(e);
        const a = this.out.types.get(e.a);
        if (a?.k === 'string' || a?.k === 'array') return t;
        return t;
      }
      case 'field': return this.expr(e);
      case 'proj':
        this.expr(e);
        this.error(e.pos, 'tuple components are read-only');
        return INT;
      default:
        this.expr(e);
        this.error(e.pos, 'this cannot be assigned');
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
      if (l.k !== 'bool' || r.k !== 'bool') this.error(e.pos, `${e.op} needs bools, not ${showTy(l)} and ${showTy(r)}`);
      return BOOL;
    }
    const l = this.expr(e.l);
    const r = this.expr(e.r, l);
    switch (e.op) {
      case '==': case '!=': {
        const ok = (isNumeric(l) && isNumeric(r)) || sameTy(l, r) || (l.k === 'null' && isNullable(r)) || (r.k === 'null' && isNullable(l))
          || (l.k === 'null' && r.k === 'null');
        if (!ok) this.error(e.pos, `cannot compare ${showTy(l)} with ${showTy(r)}`);
        if (l.k === 'string' && r.k === 'string') this.error(e.pos, 'strings are compared with strcmp, not ==');
        return BOOL;
      }
      case '<': case '<=': case '>': case '>=':
        if (!isNumeric(l) || !isNumeric(r)) this.error(e.pos, `${e.op} needs numbers, not ${showTy(l)} and ${showTy(r)}`);
        return BOOL;
      default:
        if (!isNumeric(l) || !isNumeric(r)) {
          this.error(e.pos, `${e.op} needs numbers, not ${showTy(l)} and ${showTy(r)}`);
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
    // A named function or builtin.
    if (e.fn.k === 'var') {
      const local = e.fn.name.ns ? undefined : this.findLocal(e.fn.name.name);
      const f = local ? undefined : this.lookup(this.funs, e.fn.name);
      if (f) {
        this.out.refs.set(e.fn, { k: 'fun', f });
        this.out.types.set(e.fn, { k: 'fn', ret: f.ret, params: f.params.map(p => p.ty) });
        const args = argTypes(f.params.map(p => p.ty));
        return this.apply(e, f.name, f.params.map(p => p.ty), f.ret, new Set(f.tparams), args, { k: 'fun', f }, expected);
      }
      const b = local || this.lookup(this.globals, e.fn.name) ? undefined : this.builtin(e.fn.name);
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
      if (ft.k !== 'error') this.error(e.pos, `${showTy(ft)} is not a function`);
      return ERROR;
    }
    return this.apply(e, 'this function', ft.params, ft.ret, new Set(), args, { k: 'value' }, expected);
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
      this.error(e.args[b.off].pos, `${name}: offset ${off} and count ${count} fall outside the string literal (length ${len})`);
    }
  }

  private apply(e: Extract<Expr, { k: 'call' }>, name: string, params: readonly Ty[], ret: Ty, vars: Set<string>, args: Ty[],
    target: CallInfo['target'], expected?: Ty): Ty {
    if (args.length !== params.length) {
      this.error(e.pos, `${name} takes ${params.length} argument${params.length === 1 ? '' : 's'}, not ${args.length}`);
      return vars.size ? INT : ret;
    }
    // The type the context expects decides first (as for `new`): `int x = id('c')` instantiates a as int, and
    // `<char>list r = rev(cs)` as char; the arguments bind what it leaves open.
    let m = new Map<string, Ty>();
    if (expected && vars.size && !unify(ret, expected, vars, m)) m = new Map();
    // null arguments last: null is allowed where the other arguments make the type nullable.
    const order = [...args.keys()].sort((i, j) => Number(args[i].k === 'null') - Number(args[j].k === 'null'));
    for (const i of order) {
      const a = args[i];
      if (a.k === 'void') { this.error(e.args[i].pos, 'a void value cannot be an argument'); continue; }
      if (!unify(params[i], a, vars, m)) {
        this.error(e.args[i].pos, `argument ${i + 1} of ${name} must be ${showTy(substTy(params[i], m))}, not ${showTy(a)}`);
      }
    }
    for (const v of vars) if (!m.has(v)) {
      if (!args.some(a => a.k === 'error')) this.error(e.pos, `cannot infer the type ${v} in this call to ${name}`);
      m.set(v, ERROR);
    }
    this.out.calls.set(e, { target, inst: m });
    return substTy(ret, m);
  }
}

/** The value of an integer constant expression (what the checker folds: literals, - ~ + - * & | ^ << >> >>>). */
function constInt(e: Expr): number | undefined {
  if (e.k === 'int' || e.k === 'char') return e.value | 0;
  if (e.k === 'unary' && (e.op === '-' || e.op === '+' || e.op === '~')) {
    const v = constInt(e.e);
    return v === undefined ? undefined : e.op === '-' ? -v | 0 : e.op === '~' ? ~v : v;
  }
  if (e.k === 'binary') {
    const a = constInt(e.l), b = constInt(e.r);
    if (a === undefined || b === undefined) return undefined;
    switch (e.op) {
      case '+': return (a + b) | 0;
      case '-': return (a - b) | 0;
      case '*': return Math.imul(a, b);
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

/** "an int", "a string". */
function article(what: string): string {
  return `${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what}`;
}

/** Constant initializers of globals (laid out in the data section at compile time). */
function isConstantInit(e: Expr): boolean {
  switch (e.k) {
    case 'int': case 'char': case 'string': case 'bool': case 'null': return true;
    case 'unary': return e.op === '-' && e.e.k === 'int';
    case 'arraylit': return e.elems.every(isConstantInit);
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
