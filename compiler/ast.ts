// The abstract syntax tree the parser builds. Every node carries its source position (line and column, 1-based) for
// diagnostics; types are resolved later (resolver/typecheck), not here.

export interface Pos { line: number; col: number }

// ---- types as written ----
export type TypeExpr =
  | { k: 'prim'; name: 'int' | 'unsigned' | 'bool' | 'char' | 'string' | 'void'; pos: Pos }
  | { k: 'named'; name: QName; args: TypeExpr[]; pos: Pos } // struct names, type variables, exception
  | { k: 'array'; elem: TypeExpr; pos: Pos }
  | { k: 'tuple'; elems: TypeExpr[]; pos: Pos }
  | { k: 'fn'; ret: TypeExpr; params: TypeExpr[]; pos: Pos };

/** A possibly qualified name: `Core::print_string` is { ns: 'Core', name: 'print_string' }. */
export interface QName { ns?: string; name: string }

// ---- expressions ----
export type Expr =
  | { k: 'int'; value: number; pos: Pos }
  | { k: 'char'; value: number; pos: Pos }
  | { k: 'string'; bytes: number[]; pos: Pos }
  | { k: 'bool'; value: boolean; pos: Pos }
  | { k: 'null'; pos: Pos }
  | { k: 'var'; name: QName; pos: Pos }
  | { k: 'unary'; op: string; e: Expr; pos: Pos }
  | { k: 'binary'; op: string; l: Expr; r: Expr; pos: Pos }
  | { k: 'assign'; op: string; target: Expr; value: Expr; pos: Pos } // op: '=' or '+=' ...
  | { k: 'incdec'; op: '++' | '--'; prefix: boolean; target: Expr; pos: Pos }
  | { k: 'cond'; c: Expr; a: Expr; b: Expr; pos: Pos }
  | { k: 'call'; fn: Expr; args: Expr[]; pos: Pos }
  | { k: 'index'; a: Expr; i: Expr; pos: Pos }
  | { k: 'field'; e: Expr; name: string; pos: Pos }
  | { k: 'proj'; e: Expr; index: number; pos: Pos } // tuple .1, .2 ... (1-based, as Popcorn)
  | { k: 'new'; name: QName; args: Expr[]; pos: Pos }
  | { k: 'tuple'; elems: Expr[]; pos: Pos } // ^(e1, ..., en)
  | { k: 'arraylit'; elems: Expr[]; pos: Pos }; // {e1, ..., en}

// ---- statements ----
export interface VarDecl { name: string; type: TypeExpr; init?: Expr; pos: Pos }
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
  | { k: 'empty'; pos: Pos };
export interface SwitchCase { values: Expr[]; body: Stmt[]; pos: Pos }

/** The expressions directly inside `e`, in evaluation order. */
export function subExprs(e: Expr): Expr[] {
  switch (e.k) {
    case 'unary': case 'field': case 'proj': return [e.e];
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
export function forEachStmtExpr(s: Stmt | undefined, onExpr: (e: Expr) => void, onDecl: (d: VarDecl) => void = () => {}): void {
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
export interface Param { name: string; type: TypeExpr; pos: Pos }
export type Decl =
  | { k: 'struct'; name: string; nullable: boolean; tparams: string[]; fields: Param[]; pos: Pos }
  | { k: 'fun'; name: string; tparams: string[]; ret: TypeExpr; params: Param[]; body?: Stmt; pos: Pos }
  | { k: 'global'; name: string; type: TypeExpr; init?: Expr; isConst: boolean; pos: Pos }
  | { k: 'open'; ns: string; pos: Pos }
  | { k: 'namespace'; name: string; decls: Decl[]; pos: Pos }
  /** `exception E;` or, carrying a value, `exception E(T);`. */
  | { k: 'exception'; name: string; payload?: TypeExpr; pos: Pos }
  /** An `#include` line met by the parser: only when a file is parsed without the preprocessor (library.ts's index
   * of the library); the driver preprocesses every file first, which leaves no directive (`system`: `<file>`). */
  | { k: 'include'; file: string; system: boolean; pos: Pos };
