// The resolver: declarations to the program's tables (program.ts) and names to what they declare. It walks the
// files with their namespace context (`namespace N { … }`, `open N;`), enters every struct, exception, function and
// global, resolves the types written in declarations, and answers the checker's lookups: a name as written is
// tried qualified as written, else in the current namespace, then unqualified, then in each opened namespace. As
// AssemblyScript keeps its resolver apart from its compiler, bodies are not looked at here: check.ts types them and
// asks the resolver for names and types. A name it cannot find gets a hint when the standard library declares it.

import type { Decl, Pos, QName, Param, TypeExpr } from './ast.ts';
import { Diag, type DiagnosticDef, type DiagnosticArg, type Diagnostics, type Diagnostic } from './diagnostics.ts';
import { type Ty, type StructInfo, INT, UNSIGNED, BOOL, CHAR, STRING, VOID, EXN, ERROR, varsOf } from './types.ts';
import { BUILTINS, BUILTIN_EXCEPTIONS, type Builtin } from './builtins.ts';
import { findInLibrary } from './library.ts';
import type { Checked, SourceFile, FunInfo, GlobalInfo, ExnInfo, LocalVar } from './program.ts';

/** The TAL name of a declaration: namespace-qualified as `N__name`. */
const talName = (ns: string | undefined, name: string): string => (ns ? `${ns}__${name}` : name);

/** A name as written: `Core::print_string` or `print_string`. */
export const showName = (q: QName): string => (q.ns ? `${q.ns}::${q.name}` : q.name);

export class Resolver {
  private readonly structs = new Map<string, StructInfo>();
  private readonly funs = new Map<string, FunInfo>();
  private readonly globals = new Map<string, GlobalInfo>();
  private readonly exns = new Map<string, ExnInfo>();
  /** The program's tables: the resolver fills the declarations; the checker adds its side tables. */
  readonly program: Checked = {
    structs: [], funs: [], globals: [], exns: [], types: new Map(), refs: new Map(), calls: new Map(), news: new Map(),
    decls: new Map(), exnValues: new Map(), caseBinds: new Map(), handlerVars: new Map(), main: undefined,
  };
  /** The file being walked (diagnostics name it). */
  file = '';
  /** Namespaces opened in the current file. */
  private opened: string[] = [];
  private ns: string | undefined;
  /** The type variables in scope: those of the function or struct being resolved or checked. */
  tvars = new Set<string>();
  private files: readonly string[] = [];

  constructor(private readonly diags: Diagnostics) {}

  error<A extends DiagnosticArg[]>(pos: Pos, def: DiagnosticDef<A>, ...args: A): Diagnostic {
    return this.diags.error(this.file, pos, def, ...args);
  }

  /** Enter every declaration of the program (its files in order, library files first). */
  declareAll(files: SourceFile[]): void {
    this.files = files.map(f => f.file);
    for (const b of BUILTIN_EXCEPTIONS) {
      const e: ExnInfo = { name: b.name, tal: b.name, tag: this.exns.size + 1, check: b.check };
      this.exns.set(b.name, e);
      this.program.exns.push(e);
    }
    // Pass 1: names of structs and exceptions (types may refer to later ones).
    this.eachDecl(files, d => {
      if (d.k === 'struct') {
        const key = talName(this.ns, d.name);
        if (this.structs.has(key)) return void this.error(d.pos, Diag.DuplicateStruct, d.name);
        const s: StructInfo = { tal: key, name: d.name, nullable: d.nullable, tparams: d.tparams, fields: [] };
        this.structs.set(key, s);
        this.program.structs.push(s);
      } else if (d.k === 'exception') {
        const key = talName(this.ns, d.name);
        if (this.exns.has(key)) return void this.error(d.pos, Diag.DuplicateException, d.name);
        const e: ExnInfo = { name: d.name, tal: key, tag: this.exns.size + 1 };
        this.exns.set(key, e);
        this.program.exns.push(e);
      }
    });
    // Pass 2: struct fields, function signatures, globals.
    this.eachDecl(files, d => {
      if (d.k === 'struct') this.declareFields(d);
      else if (d.k === 'fun') this.declareFunction(d);
      else if (d.k === 'global') this.declareGlobal(d);
      else if (d.k === 'exception' && d.payload) this.declarePayload(d, d.payload);
    });
  }

  private declareFields(d: Extract<Decl, { k: 'struct' }>): void {
    const s = this.structs.get(talName(this.ns, d.name))!;
    this.tvars = new Set(d.tparams);
    const seen = new Set<string>();
    s.fields = d.fields.map(f => {
      if (seen.has(f.name)) this.error(f.pos, Diag.DuplicateField, f.name, d.name);
      seen.add(f.name);
      const ty = this.resolveType(f.type);
      if (ty.k === 'void') this.error(f.pos, Diag.VoidField, f.name);
      return { name: f.name, ty };
    });
    this.tvars = new Set();
  }

  /** The type of the value an exception carries (`exception E(T);`): a closed type, never void. */
  private declarePayload(d: Extract<Decl, { k: 'exception' }>, t: TypeExpr): void {
    const e = this.exns.get(talName(this.ns, d.name));
    if (!e || e.payload) return; // a duplicate (reported)
    const ty = this.resolveType(t);
    if (ty.k === 'void') this.error(t.pos, Diag.VoidPayload, d.name);
    e.payload = ty.k === 'void' ? ERROR : ty;
  }

  private declareFunction(d: Extract<Decl, { k: 'fun' }>): void {
    const key = talName(this.ns, d.name);
    const prev = this.funs.get(key);
    const { params, ret } = this.signature(d);
    if (prev) {
      if (prev.decl.body && d.body) return void this.error(d.pos, Diag.DuplicateFunction, d.name);
      if (d.body) { prev.decl = d; prev.params = params; prev.file = this.file; }
      return;
    }
    for (const tv of d.tparams) {
      if (!params.some(p => varsOf(p.ty).has(tv))) this.error(d.pos, Diag.TypeParameterUnused, tv, d.name);
    }
    const f: FunInfo = {
      name: d.name, tal: `f_${key}`, tparams: d.tparams, params, ret, decl: d, file: this.file, locals: [],
    };
    this.funs.set(key, f);
    this.program.funs.push(f);
    if (key === 'pop_main') this.program.main = f;
  }

  private declareGlobal(d: Extract<Decl, { k: 'global' }>): void {
    const key = talName(this.ns, d.name);
    if (this.globals.has(key)) return void this.error(d.pos, Diag.DuplicateGlobal, d.name);
    const ty = this.resolveType(d.type);
    if (ty.k === 'void') this.error(d.pos, Diag.VoidGlobal, d.name);
    const g: GlobalInfo = {
      name: d.name, tal: `g_${key}`, ty: ty.k === 'void' ? ERROR : ty, isConst: d.isConst, decl: d, file: this.file,
    };
    this.globals.set(key, g);
    this.program.globals.push(g);
  }

  /** A function's parameters and result, resolved with its type parameters in scope. */
  signature(d: Extract<Decl, { k: 'fun' }>): { params: LocalVar[]; ret: Ty } {
    this.tvars = new Set(d.tparams);
    const params = d.params.map(p => this.param(p));
    const ret = this.resolveType(d.ret);
    this.tvars = new Set();
    return { params, ret };
  }

  private param(p: Param): LocalVar {
    const ty = this.resolveType(p.type);
    if (ty.k === 'void') this.error(p.pos, Diag.VoidParameter, p.name);
    return { name: p.name, ty, id: -1, pos: p.pos };
  }

  /** After the bodies: every declared function is defined, and the entry point exists with its type. */
  checkDefinitions(files: SourceFile[]): void {
    for (const f of this.program.funs) {
      if (!f.decl.body) this.diags.error(f.file, f.decl.pos, Diag.DeclaredNeverDefined, f.name);
    }
    const main = this.program.main;
    if (!main) this.diags.error(files[files.length - 1]?.file ?? '<input>', { line: 1, col: 1 }, Diag.NoMain);
    else if (main.ret.k !== 'void' || main.params.length) this.diags.error(main.file, main.decl.pos, Diag.BadMain);
  }

  /** Visit every declaration with the file and namespace context set. */
  eachDecl(files: SourceFile[], visit: (d: Decl) => void): void {
    for (const sf of files) {
      this.file = sf.file;
      this.opened = [];
      const walk = (decls: Decl[]): void => {
        for (const d of decls) {
          if (d.k === 'open') {
            if (!this.opened.includes(d.ns)) this.opened.push(d.ns);
          } else if (d.k === 'namespace') {
            if (this.ns) { this.error(d.pos, Diag.NestedNamespace); continue; }
            this.ns = d.name;
            walk(d.decls);
            this.ns = undefined;
          } else visit(d);
        }
      };
      walk(sf.decls);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // lookup

  /** Candidate keys for a name: qualified as written, else the current namespace, then global, then opened ones. */
  private candidates(q: QName): string[] {
    if (q.ns) return [talName(q.ns, q.name)];
    const out: string[] = [];
    if (this.ns) out.push(talName(this.ns, q.name));
    out.push(q.name);
    for (const o of this.opened) out.push(talName(o, q.name));
    return out;
  }

  private lookup<T>(table: ReadonlyMap<string, T>, q: QName): T | undefined {
    for (const k of this.candidates(q)) {
      const v = table.get(k);
      if (v) return v;
    }
    return undefined;
  }

  struct(q: QName): StructInfo | undefined { return this.lookup(this.structs, q); }
  fun(q: QName): FunInfo | undefined { return this.lookup(this.funs, q); }
  global(q: QName): GlobalInfo | undefined { return this.lookup(this.globals, q); }
  exception(q: QName): ExnInfo | undefined { return this.lookup(this.exns, q); }
  builtin(q: QName): Builtin | undefined { return this.lookup(BUILTINS, q); }

  /** The function a declaration of the current namespace entered (a second definition finds the first). */
  declaredFun(d: Extract<Decl, { k: 'fun' }>): FunInfo { return this.funs.get(talName(this.ns, d.name))!; }
  declaredGlobal(d: Extract<Decl, { k: 'global' }>): GlobalInfo { return this.globals.get(talName(this.ns, d.name))!; }

  /**
   * Report a name that resolves to nothing (`def` says what kind of name), with a hint when the standard library
   * declares it: which file to include, or which namespace to open. `atName`: `pos` is where the name starts.
   */
  unknown(def: DiagnosticDef<[string]>, pos: Pos, q: QName, atName = true): void {
    const d = this.error(pos, def, showName(q));
    if (atName) d.span = showName(q).length;
    const lib = findInLibrary(q)[0];
    if (!lib) return;
    const qualified = showName({ ns: lib.ns, name: lib.name });
    const open = lib.ns && !q.ns ? ` (and open ${lib.ns}; or write ${qualified})` : '';
    if (!this.files.includes(lib.file)) {
      d.hints.push(`${qualified} is in ${lib.file}: #include "${lib.header}"${open}`);
    } else if (open) {
      d.hints.push(`${lib.name} is ${qualified}: write ${qualified}, or add open ${lib.ns}; to this file`);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // types

  resolveType(t: TypeExpr): Ty {
    switch (t.k) {
      case 'prim':
        return { int: INT, unsigned: UNSIGNED, bool: BOOL, char: CHAR, string: STRING, void: VOID }[t.name];
      case 'array': {
        const e = this.resolveType(t.elem);
        if (e.k === 'void') { this.error(t.pos, Diag.VoidArray); return ERROR; }
        return { k: 'array', elem: e };
      }
      case 'tuple': return { k: 'tuple', elems: t.elems.map(e => this.resolveType(e)) };
      case 'fn': return { k: 'fn', ret: this.resolveType(t.ret), params: t.params.map(p => this.resolveType(p)) };
      case 'named': {
        if (!t.name.ns && this.tvars.has(t.name.name) && t.args.length === 0) return { k: 'var', name: t.name.name };
        if (!t.name.ns && t.name.name === 'exn' && t.args.length === 0) return EXN;
        const s = this.struct(t.name);
        if (!s) {
          this.unknown(Diag.UnknownType, t.pos, t.name, t.args.length === 0);
          return ERROR;
        }
        const args = t.args.map(a => this.resolveType(a));
        if (args.length !== s.tparams.length) {
          this.error(t.pos, Diag.TypeArgumentCount, s.name, s.tparams.length, args.length);
          return { k: 'struct', s, args: s.tparams.map(() => INT) };
        }
        return { k: 'struct', s, args };
      }
    }
  }
}
