// The abstract syntax tree the parser builds. Every node carries its source position (line and column, 1-based) for
// diagnostics; types are resolved later (resolver/typecheck), not here.

export interface Pos { line: number; col: number }

// ---- types as written ----
export type TypeExpr =
  | { k: 'prim'; name: 'int' | 'unsigned' | 'bool' | 'char' | 'string' | 'void' | SubWord; pos: Pos }
  | { k: 'named'; name: QName; args: TypeExpr[]; pos: Pos } // struct names, type variables, exception
  | { k: 'array'; elem: TypeExpr; pos: Pos }
  | { k: 'tuple'; elems: TypeExpr[]; pos: Pos }
  | { k: 'fn'; ret: TypeExpr; params: TypeExpr[]; pos: Pos };

/** Popcorn's sub-word integers: `short` and `byte` (signed), `unsigned short` and `unsigned byte`. */
export type SubWord = 'short' | 'ushort' | 'byte' | 'ubyte';

/** A possibly qualified name: `Core::print_string` is { ns: 'Core', name: 'print_string' }. */
export interface QName { ns?: string; name: string }

// ---- expressions ----
export type Expr =
  | { k: 'int'; value: number; pos: Pos }
  | { k: 'char'; value: number; pos: Pos }
  | { k: 'string'; bytes: number[]; pos: Pos }
  | { k: 'bool'; value: boolean; pos: Pos }
  | { k: 'null'; pos: Pos }
  /** `amp`: written `&f` (Popcorn's address of a function, the same value as `f`). */
  | { k: 'var'; name: QName; amp?: boolean; pos: Pos }
  | { k: 'unary'; op: string; e: Expr; pos: Pos }
  | { k: 'binary'; op: string; l: Expr; r: Expr; pos: Pos }
  | { k: 'assign'; op: string; target: Expr; value: Expr; pos: Pos } // op: '=' or '+=' ...
  | { k: 'incdec'; op: '++' | '--'; prefix: boolean; target: Expr; pos: Pos }
  | { k: 'cond'; c: Expr; a: Expr; b: Expr; pos: Pos }
  | { k: 'call'; fn: Expr; args: Expr[]; pos: Pos }
  | { k: 'index'; a: Expr; i: Expr; pos: Pos }
  | { k: 'field'; e: Expr; name: string; pos: Pos }
  | { k: 'proj'; e: Expr; index: number; pos: Pos } // tuple .1, .2 ... (1-based, as Popcorn)
  /** `new S(…)`; with `variant`, a union's value: `new U.B(e)` or `^U.B(e)` (Popcorn's two spellings). */
  | { k: 'new'; name: QName; variant?: string; args: Expr[]; pos: Pos }
  | { k: 'tuple'; elems: Expr[]; pos: Pos } // ^(e1, ..., en)
  | { k: 'arraylit'; elems: Expr[]; pos: Pos } // {e1, ..., en}
  | { k: 'cast'; ty: TypeExpr; e: Expr; pos: Pos } // (: T) e
  | { k: 'inst'; e: Expr; args: TypeExpr[]; pos: Pos } // f@<T1, …>: explicit instantiation
  | { k: 'seq'; es: Expr[]; pos: Pos } // e1, e2, …: the comma operator (the value is the last one's)
  | { k: 'lambda'; decl: FunDecl; pos: Pos }; // fun T (params) { … }: an anonymous function

// ---- statements ----
/** `size`: a sized array's length as written (`int a[N];`); the checker turns it into an initializer. */
export interface VarDecl { name: string; type: TypeExpr; init?: Expr; size?: Expr; pos: Pos }
export type Stmt =
  | { k: 'block'; body: Stmt[]; pos: Pos }
  | { k: 'expr'; e: Expr; pos: Pos }
  | { k: 'decl'; decls: VarDecl[]; pos: Pos }
  | { k: 'if'; c: Expr; then: Stmt; else?: Stmt; pos: Pos }
  | { k: 'while'; c: Expr; body: Stmt; pos: Pos }
  | { k: 'do'; body: Stmt; c: Expr; pos: Pos }
  | { k: 'for'; init?: Stmt; c?: Expr; step?: Expr[]; body: Stmt; pos: Pos }
  | { k: 'switch'; e: Expr; cases: SwitchCase[]; dflt?: Stmt[]; pos: Pos }
  | { k: 'break'; pos: Pos }
  | { k: 'continue'; pos: Pos }
  | { k: 'return'; e?: Expr; pos: Pos }
  /** `raise E;`, `raise E(v);`, `raise(e);`: the exception value raised (a name, a construction or any exn). */
  | { k: 'raise'; e: Expr; pos: Pos }
  | { k: 'try'; body: Stmt; name: string; handler: Stmt; pos: Pos }
  /** A nested function (`[fun] T f(params) { … }` in a block): a function of its own, named in its block. */
  | { k: 'fun'; decl: FunDecl; pos: Pos }
  | { k: 'empty'; pos: Pos };
export interface SwitchCase { values: Expr[]; body: Stmt[]; pos: Pos }

/** The expressions directly inside `e`, in evaluation order. */
export function subExprs(e: Expr): Expr[] {
  switch (e.k) {
    case 'unary': case 'field': case 'proj': case 'cast': case 'inst': return [e.e];
    case 'seq': return e.es;
    case 'binary': return [e.l, e.r];
    case 'assign': return [e.target, e.value];
    case 'incdec': return [e.target];
    case 'cond': return [e.c, e.a, e.b];
    case 'call': return [e.fn, ...e.args];
    case 'index': return [e.a, e.i];
    case 'new': return e.args;
    case 'tuple': case 'arraylit': return e.elems;
    default: return [];
  }
}

/**
 * Calls `onExpr` with each outermost expression of `s` and of every statement inside it (initializers included;
 * switch case labels, which are constants, not), and `onDecl` with each local declared.
 */
export function forEachStmtExpr(s: Stmt | undefined, onExpr: (e: Expr) => void,
  onDecl: (d: VarDecl) => void = () => {}): void {
  const ex = (e: Expr | undefined): void => { if (e) onExpr(e); };
  const st = (x: Stmt | undefined): void => {
    if (!x) return;
    switch (x.k) {
      case 'block': x.body.forEach(st); break;
      case 'expr': ex(x.e); break;
      case 'decl': x.decls.forEach(d => { onDecl(d); ex(d.init); }); break;
      case 'if': ex(x.c); st(x.then); st(x.else); break;
      case 'while': case 'do': ex(x.c); st(x.body); break;
      case 'for': st(x.init); ex(x.c); x.step?.forEach(ex); st(x.body); break;
      case 'switch': ex(x.e); x.cases.forEach(c => c.body.forEach(st)); x.dflt?.forEach(st); break;
      case 'return': case 'raise': ex(x.e); break;
      case 'try': st(x.body); st(x.handler); break;
      default: break;
    }
  };
  st(s);
}

// ---- declarations ----
/** C's storage classes on a top-level declaration: `static` (local to its file), `extern` (defined in another). */
export type Storage = 'static' | 'extern';
/** A parameter or a struct field (`isConst`: a `const` field, assigned only by `new`). */
export interface Param { name: string; type: TypeExpr; isConst?: boolean; pos: Pos }
export type FunDecl = Extract<Decl, { k: 'fun' }>;
export type Decl =
  | {
    k: 'struct'; name: string; nullable: boolean; abstract?: boolean; tparams: string[]; fields: Param[]; pos: Pos;
    storage?: Storage;
  }
  | {
    k: 'fun'; name: string; tparams: string[]; ret: TypeExpr; params: Param[]; body?: Stmt; pos: Pos; storage?: Storage;
  }
  | {
    k: 'global'; name: string; type: TypeExpr; init?: Expr; size?: Expr; isConst: boolean; pos: Pos; storage?: Storage;
  }
  /** `extern struct S;` (or `extern ?struct S;`, `extern <a>S;`): a type another file defines. */
  | { k: 'externtype'; name: string; tparams: string[]; nullable?: boolean; pos: Pos }
  | { k: 'open'; ns: string; pos: Pos }
  | { k: 'namespace'; name: string; decls: Decl[]; pos: Pos }
  /** `exception E;` or, carrying a value, `exception E(T);`. */
  | { k: 'exception'; name: string; payload?: TypeExpr; pos: Pos }
  /** `union <a>U { void A; int B; … }`: each field a variant (docs/popcorn.md: unions). */
  | { k: 'union'; name: string; tparams: string[]; variants: Param[]; pos: Pos }
  /** An `#include` line met by the parser: only when a file is parsed without the preprocessor (library.ts's index
   * of the library); the driver preprocesses every file first, which leaves no directive (`system`: `<file>`). */
  | { k: 'include'; file: string; system: boolean; pos: Pos };
