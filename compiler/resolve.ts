// The resolver: declarations to the program's tables (program.ts) and names to what they declare. It walks the
// files with their namespace context (`namespace N { … }`, `open N;`), enters every struct, exception, function and
// global, resolves the types written in declarations, and answers the checker's lookups: a name as written is
// tried qualified as written, else in the current namespace, then unqualified, then in each opened namespace. As
// AssemblyScript keeps its resolver apart from its compiler, bodies are not looked at here: check.ts types them and
// asks the resolver for names and types. A name it cannot find gets a hint when the standard library declares it.

import type { Decl, Pos, QName, Param, TypeExpr } from './ast.ts';
import { Diag, type DiagnosticDef, type DiagnosticArg, type Diagnostics, type Diagnostic } from './diagnostics.ts';
import {
  type Ty, type StructInfo, type UnionInfo, SHORT, USHORT, BYTE, UBYTE, INT, UNSIGNED, BOOL, CHAR, STRING, VOID, EXN,
  ERROR, varsOf, sameTy, showTy, exnconTy, resolvedTypeExprs,
} from './types.ts';
import { BUILTINS, BUILTIN_EXCEPTIONS, type Builtin } from './builtins.ts';
import { findInLibrary } from './library.ts';
import type { Checked, SourceFile, FunInfo, GlobalInfo, ExnInfo, LocalVar } from './program.ts';

/** The TAL name of a declaration: namespace-qualified as `N__name`. */
const talName = (ns: string | undefined, name: string): string => (ns ? `${ns}__${name}` : name);

/**
 * An `extern` declaration of a global or a type, checked against the definition once every file is entered: another
 * file must define it (not as `static`), with the same type.
 */
interface ExternDecl { file: string; key: string; d: Extract<Decl, { k: 'global' | 'externtype' }>; ty?: Ty }

/** A name as written: `Core::print_string` or `print_string`. */
export const showName = (q: QName): string => (q.ns ? `${q.ns}::${q.name}` : q.name);

export class Resolver {
  private readonly structs = new Map<string, StructInfo>();
  private readonly unions = new Map<string, UnionInfo>();
  private readonly funs = new Map<string, FunInfo>();
  private readonly globals = new Map<string, GlobalInfo>();
  private readonly exns = new Map<string, ExnInfo>();
  /** The program's tables: the resolver fills the declarations; the checker adds its side tables. */
  readonly program: Checked = {
    structs: [], funs: [], globals: [], exns: [], types: new Map(), refs: new Map(), calls: new Map(), news: new Map(),
    unions: [], variants: new Map(), unionCases: new Map(), decls: new Map(), exnValues: new Map(), caseBinds: new Map(),
    handlerVars: new Map(), closureEnvs: new Map(), main: undefined, inits: [],
  };
  /** The file being walked (diagnostics name it). */
  file = '';
  /** Namespaces opened in the current file. */
  private opened: string[] = [];
  private ns: string | undefined;
  /** The type variables in scope: those of the function or struct being resolved or checked. */
  tvars = new Set<string>();
  private files: readonly string[] = [];
  /** The standard library's files among them: a name the program defines is not visible there (lookup). */
  private libraryFiles = new Set<string>();
  /** The index of the file being walked in the program: a `static` name's key carries it (staticKey). */
  private fileIndex = 0;
  /** Where each struct and exception was declared (for the note of a second declaration). */
  private readonly places = new Map<string, { file: string; pos: Pos }>();
  private readonly externs: ExternDecl[] = [];
  /** Struct definitions met again in another file (a header included twice): they must be the same. */
  private readonly redefinitions = new Set<Decl>();

  constructor(private readonly diags: Diagnostics) {}

  error<A extends DiagnosticArg[]>(pos: Pos, def: DiagnosticDef<A>, ...args: A): Diagnostic {
    return this.diags.error(this.file, pos, def, ...args);
  }

  /** Enter every declaration of the program (its files in order, library files first). */
  declareAll(files: SourceFile[]): void {
    this.files = files.map(f => f.file);
    this.libraryFiles = new Set(files.filter(f => f.library).map(f => f.file));
    for (const b of BUILTIN_EXCEPTIONS) {
      const e: ExnInfo = { name: b.name, tal: b.name, tag: this.exns.size + 1, check: b.check };
      this.exns.set(b.name, e);
      this.program.exns.push(e);
    }
    // Pass 1: names of structs and exceptions (types may refer to later ones).
    this.eachDecl(files, d => {
      if (d.k === 'struct') {
        const key = this.structKey(d);
        if (this.structs.has(key) || this.unions.has(key)) {
          // A header's struct, included by several files: the same definition again (checked field by field once
          // the fields are resolved, in declareFields), as C's compatible types across translation units.
          if (this.places.get(`struct ${key}`)?.file !== this.file) return void this.redefinitions.add(d);
          return void this.duplicate(d.pos, Diag.DuplicateStruct, d.name, `struct ${key}`);
        }
        const s: StructInfo = {
          tal: key, name: d.name, nullable: d.nullable, tparams: d.tparams, fields: [],
          abstractIn: d.abstract ? this.file : undefined,
        };
        this.structs.set(key, s);
        this.places.set(`struct ${key}`, { file: this.file, pos: d.pos });
        this.program.structs.push(s);
      } else if (d.k === 'exception') {
        const key = talName(this.ns, d.name);
        if (this.exns.has(key)) return void this.duplicate(d.pos, Diag.DuplicateException, d.name, `exception ${key}`);
        const e: ExnInfo = { name: d.name, tal: key, tag: this.exns.size + 1 };
        this.exns.set(key, e);
        this.places.set(`exception ${key}`, { file: this.file, pos: d.pos });
        this.program.exns.push(e);
      } else if (d.k === 'externtype') {
        this.externs.push({ file: this.file, key: talName(this.ns, d.name), d });
      } else if (d.k === 'union') this.declareUnion(d);
    });
    this.checkExterns('externtype');
    // Pass 2: struct fields, function signatures, globals.
    this.eachDecl(files, d => {
      if (d.k === 'struct') this.declareFields(d);
      else if (d.k === 'union') this.declareVariants(d);
      else if (d.k === 'fun') this.declareFunction(d);
      else if (d.k === 'global') this.declareGlobal(d);
      else if (d.k === 'exception' && d.payload) this.declarePayload(d, d.payload);
    });
    this.checkExterns('global');
  }

  /** A second declaration of a struct or an exception: the error, with a note where the first one is. */
  private duplicate(pos: Pos, def: DiagnosticDef<[string]>, name: string, place: string): void {
    const first = this.places.get(place);
    const d = this.error(pos, def, name);
    if (first) d.hints.push(`the first is at ${this.diags.place(first.file, first.pos)}`);
  }

  /** The key of a `static` name: its file's, so that two files may each have their own (not in a TAL label's way). */
  private staticKey(key: string): string { return `${key}__${this.fileIndex}s`; }

  /**
   * The key a function or a global declaration enters: `static` ones their file's own, and so a later declaration
   * without `static` of a name the file made static (C's rule for internal linkage).
   */
  private keyOf(d: Extract<Decl, { k: 'fun' | 'global' }>, table: ReadonlyMap<string, unknown>): string {
    const key = talName(this.ns, d.name);
    return d.storage === 'static' || table.has(this.staticKey(key)) ? this.staticKey(key) : key;
  }

  /**
   * Every `extern` type (after the structs are entered) and global (after the globals) is defined by some file, with
   * the type the declaration gives it. One defined nowhere is reported, then entered as declared, so that its uses
   * are not reported again.
   */
  private checkExterns(kind: 'global' | 'externtype'): void {
    for (const x of this.externs) {
      if (x.d.k !== kind) continue;
      this.file = x.file;
      if (x.d.k === 'global') {
        const g = this.globals.get(x.key);
        if (!g) {
          this.error(x.d.pos, Diag.ExternNeverDefined, `global ${x.d.name}`);
          this.globals.set(x.key, {
            name: x.d.name, tal: `g_${x.key}`, ty: x.ty ?? ERROR, isConst: false, decl: x.d, file: x.file,
          });
          continue;
        }
        if (x.ty && x.ty.k !== 'error' && g.ty.k !== 'error' && !sameTy(x.ty, g.ty)) {
          this.conflict(x.d.pos, x.d.name, showTy(x.ty), showTy(g.ty), g.file, g.decl.pos);
        }
      } else {
        const s = this.structs.get(x.key);
        if (!s) {
          this.error(x.d.pos, Diag.ExternNeverDefined, `struct ${x.d.name}`);
          const { name, tparams, nullable } = x.d;
          this.structs.set(x.key, { tal: x.key, name, nullable: nullable ?? false, tparams, fields: [] });
          this.places.set(`struct ${x.key}`, { file: x.file, pos: x.d.pos });
          continue;
        }
        const shape = (nullable: boolean, tparams: readonly string[]): string =>
          `${nullable ? '?' : ''}struct ${tparams.length ? `<${tparams.join(', ')}>` : ''}${s.name}`;
        if ((x.d.nullable !== undefined && x.d.nullable !== s.nullable) || x.d.tparams.length !== s.tparams.length) {
          const place = this.places.get(`struct ${x.key}`)!;
          this.conflict(x.d.pos, x.d.name, shape(x.d.nullable ?? s.nullable, x.d.tparams), shape(s.nullable, s.tparams),
            place.file, place.pos);
        }
      }
    }
  }

  /** Two declarations of one name disagree: the error here, with a note at the other one. */
  private conflict(pos: Pos, name: string, here: string, there: string, file: string, at: Pos): void {
    const d = this.error(pos, Diag.ConflictingTypes, name, here, there);
    d.hints.push(`${name} is declared as ${there} at ${this.diags.place(file, at)}`);
  }

  /** A struct's key: a `static` struct's is its file's own (staticKey), so another file may have one of the name. */
  private structKey(d: Extract<Decl, { k: 'struct' }>): string {
    const key = talName(this.ns, d.name);
    return d.storage === 'static' ? this.staticKey(key) : key;
  }

  /** A union's name (pass 1): structs and unions share one name space, as types. */
  private declareUnion(d: Extract<Decl, { k: 'union' }>): void {
    const key = talName(this.ns, d.name);
    if (this.unions.has(key) || this.structs.has(key)) return void this.error(d.pos, Diag.DuplicateUnion, d.name);
    const u: UnionInfo = { tal: key, name: d.name, tparams: d.tparams, variants: [] };
    this.unions.set(key, u);
    this.program.unions.push(u);
  }

  /** A union's variants (pass 2): nullary ones tagged 0, 1, … in order, the others numbered on after them. */
  private declareVariants(d: Extract<Decl, { k: 'union' }>): void {
    const u = this.unions.get(talName(this.ns, d.name));
    if (!u || u.variants.length) return; // a duplicate (reported)
    this.tvars = new Set(d.tparams);
    const seen = new Set<string>();
    const tys = d.variants.map(v => {
      if (seen.has(v.name)) this.error(v.pos, Diag.DuplicateVariant, v.name, d.name);
      seen.add(v.name);
      return this.resolveType(v.type);
    });
    let nullary = 0, valued = tys.filter(t => t.k === 'void').length;
    u.variants = d.variants.map((v, i) => ({
      name: v.name, ty: tys[i], tag: tys[i].k === 'void' ? nullary++ : valued++,
    }));
    this.tvars = new Set();
  }

  private declareFields(d: Extract<Decl, { k: 'struct' }>): void {
    const s = this.structs.get(this.structKey(d))!;
    this.tvars = new Set(d.tparams);
    const seen = new Set<string>();
    const fields = d.fields.map(f => {
      if (seen.has(f.name)) this.error(f.pos, Diag.DuplicateField, f.name, d.name);
      seen.add(f.name);
      const ty = this.resolveType(f.type);
      if (ty.k === 'void') this.error(f.pos, Diag.VoidField, f.name);
      return { name: f.name, ty, isConst: f.isConst };
    });
    this.tvars = new Set();
    if (!this.redefinitions.has(d)) { s.fields = fields; return; }
    const same = d.nullable === s.nullable && d.tparams.join() === s.tparams.join() && fields.length === s.fields.length
      && fields.every((f, i) => f.name === s.fields[i].name && sameTy(f.ty, s.fields[i].ty));
    if (!same) this.duplicate(d.pos, Diag.DuplicateStruct, d.name, `struct ${s.tal}`);
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
    const key = this.keyOf(d, this.funs);
    const prev = this.funs.get(key);
    const { params, ret } = this.signature(d);
    if (prev) {
      // A prototype (in this file, a header, or with extern) and the definition must agree; one definition only.
      const here: Ty = { k: 'fn', ret, params: params.map(p => p.ty) };
      const there: Ty = { k: 'fn', ret: prev.ret, params: prev.params.map(p => p.ty) };
      if (!sameTy(here, there) || prev.tparams.length !== d.tparams.length) {
        this.conflict(d.pos, d.name, showTy(here), showTy(there), prev.file, prev.decl.pos);
      } else if (prev.decl.body && d.body) {
        const e = this.error(d.pos, Diag.DuplicateFunction, d.name);
        e.hints.push(`the first definition is at ${this.diags.place(prev.file, prev.decl.pos)}`);
        return;
      }
      if (d.body && !prev.decl.body) { prev.decl = d; prev.params = params; prev.ret = ret; prev.file = this.file; }
      return;
    }
    for (const tv of d.tparams) {
      // One that occurs only in the result is given by the call's context or by f@<T> (Popcorn's `nil@<int>()`).
      const occurs = params.some(p => varsOf(p.ty).has(tv)) || varsOf(ret).has(tv);
      if (!occurs) this.error(d.pos, Diag.TypeParameterUnused, tv, d.name);
    }
    const f: FunInfo = {
      name: d.name, tal: `f_${key}`, tparams: d.tparams, params, ret, decl: d, file: this.file, locals: [],
    };
    this.funs.set(key, f);
    this.program.funs.push(f);
    if (key === 'pop_main') this.program.main = f;
  }

  private declareGlobal(d: Extract<Decl, { k: 'global' }>): void {
    // `extern T x;` names a global another file defines (checkExterns); with an initializer it is the definition.
    if (d.storage === 'extern' && !d.init) {
      const ty = this.resolveType(d.type);
      return void this.externs.push({ file: this.file, key: talName(this.ns, d.name), d, ty });
    }
    const key = this.keyOf(d, this.globals);
    const prev = this.globals.get(key);
    if (prev) {
      const e = this.error(d.pos, Diag.DuplicateGlobal, d.name);
      return void e.hints.push(`the first is at ${this.diags.place(prev.file, prev.decl.pos)}`);
    }
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
    else if ((main.ret.k !== 'void' && main.ret.k !== 'int') || main.params.length || main.tparams.length) {
      // Popcorn's two entry points: void pop_main() exits 0, int pop_main() exits with its result.
      this.diags.error(main.file, main.decl.pos, Diag.BadMain);
    }
  }

  /** Visit every declaration with the file and namespace context set. */
  eachDecl(files: SourceFile[], visit: (d: Decl) => void): void {
    for (const [i, sf] of files.entries()) {
      this.file = sf.file;
      this.fileIndex = i;
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
    const out: string[] = [];
    if (q.ns) out.push(talName(q.ns, q.name));
    else {
      if (this.ns) out.push(talName(this.ns, q.name));
      out.push(q.name);
      for (const o of this.opened) out.push(talName(o, q.name));
    }
    // The file's own static names come before the program's.
    return out.flatMap(k => [this.staticKey(k), k]);
  }

  /**
   * The first candidate the table has. In a library file, a function or global the program itself defines is
   * passed over: the library is compiled as written, so a program's own `size` or `length` does not take the place
   * of the built-in or library one the library calls (as in C, where a library's calls are bound in its own unit).
   */
  private lookup<T extends object>(table: ReadonlyMap<string, T>, q: QName): T | undefined {
    const inLibrary = this.libraryFiles.has(this.file);
    for (const k of this.candidates(q)) {
      const v = table.get(k);
      if (v && !(inLibrary && 'file' in v && typeof v.file === 'string' && !this.libraryFiles.has(v.file))) return v;
    }
    return undefined;
  }

  struct(q: QName): StructInfo | undefined { return this.lookup(this.structs, q); }
  union(q: QName): UnionInfo | undefined { return this.lookup(this.unions, q); }
  fun(q: QName): FunInfo | undefined { return this.lookup(this.funs, q); }
  global(q: QName): GlobalInfo | undefined { return this.lookup(this.globals, q); }
  exception(q: QName): ExnInfo | undefined { return this.lookup(this.exns, q); }
  builtin(q: QName): Builtin | undefined { return this.lookup(BUILTINS, q); }

  /** The function a declaration of the current namespace entered (a second definition finds the first). */
  declaredFun(d: Extract<Decl, { k: 'fun' }>): FunInfo { return this.funs.get(this.keyOf(d, this.funs))!; }
  /** The global a declaration entered; undefined for an `extern` one (checked by checkExterns). */
  declaredGlobal(d: Extract<Decl, { k: 'global' }>): GlobalInfo | undefined {
    return this.globals.get(this.keyOf(d, this.globals));
  }

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
    const known = resolvedTypeExprs.get(t);
    if (known) return known;
    switch (t.k) {
      case 'prim':
        return {
          int: INT, unsigned: UNSIGNED, bool: BOOL, char: CHAR, string: STRING, void: VOID,
          short: SHORT, ushort: USHORT, byte: BYTE, ubyte: UBYTE,
        }[t.name];
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
        // Popcorn's `<T>exncon`, a built-in type name as `exn` (TALC's popparse.mly: Exncon_id).
        if (!t.name.ns && t.name.name === 'exncon' && !this.struct(t.name) && !this.union(t.name)) {
          if (t.args.length !== 1) { this.error(t.pos, Diag.ExnconArgumentCount, t.args.length); return ERROR; }
          return exnconTy(this.resolveType(t.args[0]));
        }
        const u = this.struct(t.name) ? undefined : this.union(t.name);
        if (u) {
          const args = t.args.map(a => this.resolveType(a));
          if (args.length === u.tparams.length) return { k: 'union', u, args };
          this.error(t.pos, Diag.TypeArgumentCount, u.name, u.tparams.length, args.length);
          return { k: 'union', u, args: u.tparams.map(() => INT) };
        }
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
