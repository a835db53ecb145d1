// The resolved program: the tables every stage after parsing shares (as chibicc's chibicc.h holds the types all its
// files use). The resolver (resolve.ts) fills the declaration tables, the checker (check.ts) the side tables keyed by
// AST node, and the code generator (codegen.ts) reads them all. Data only: no stage's logic lives here.

import type { Decl, Expr, Pos, QName, Stmt, VarDecl } from './ast.ts';
import type { Ty, StructInfo, UnionInfo, Variant } from './types.ts';
import type { Builtin, CheckKind } from './builtins.ts';

/** One source file as parsed: the program is the list of them, library files (included ones) first. */
export interface SourceFile {
  file: string;
  decls: Decl[];
  /** A file of the standard library (compiler/lib/), included by the program: the program's names do not reach it. */
  library?: true;
}

export interface LocalVar {
  name: string;
  ty: Ty;
  /** The index in the function's locals; -1 for parameters. */
  id: number;
  pos: Pos;
  /** A closure's copy of a variable of a function around it (docs/popcorn.md "Closures"): never assigned. */
  captured?: boolean;
}

/** A variable a closure captures: the enclosing function's variable, and the closure's own copy of it. */
export interface Capture { outer: LocalVar; inner: LocalVar }

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
  /** A nested or anonymous function: the function it is declared in. */
  parent?: FunInfo;
  /**
   * A closure (a nested function that uses variables of the functions around it): what its environment holds, in
   * order. Its copies (`inner`) are among its locals, set from the environment on entry.
   */
  captures?: Capture[];
}

export interface GlobalInfo {
  readonly name: string;
  readonly tal: string;
  ty: Ty;
  readonly isConst: boolean;
  decl: Extract<Decl, { k: 'global' }>;
  file: string;
  /** Its initializer is not a constant: it runs before pop_main (`Checked.inits`); till then the type's default. */
  initializedAtRun?: boolean;
}

/**
 * A case label of a switch on a union: the variant it names, and for `case B(x)`, `case C*(x, y)` or `case C(*(x, y))`
 * the locals its names bind (undefined for `_`), `tuple` when the pattern takes the variant's tuple apart.
 */
export interface UnionCase { variant: Variant; binds: (LocalVar | undefined)[]; tuple: boolean }

/**
 * An exception: its tag (the sum case it is, docs/popcorn.md "Exceptions") and, for `exception E(T);`, the type of the
 * value it carries (filled in with the other declarations' types).
 */
export interface ExnInfo {
  readonly name: string;
  readonly tal: string;
  readonly tag: number;
  payload?: Ty;
  /** A built-in exception: the run-time check that raises it. */
  readonly check?: CheckKind;
}

/** What a name in an expression refers to. */
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
  unions: UnionInfo[];
  /** A union value built: `new U.B(e)`, `^U.B(e)` or a nullary `U.A` (a field expression), with its variant. */
  variants: Map<Expr, { ty: Extract<Ty, { k: 'union' }>; variant: Variant }>;
  /** The case labels of switches on unions. */
  unionCases: Map<Expr, UnionCase>;
  decls: Map<VarDecl, LocalVar>;
  /** `E(v)` and `new E(v)` where E is an exception carrying a value: the exception constructed. */
  exnValues: Map<Expr, ExnInfo>;
  /** `case F(v):` in a switch on an exception: the local that receives the value F carries. */
  caseBinds: Map<Expr, LocalVar>;
  /** `try … handle x …`: the local x (the exception caught). */
  handlerVars: Map<Stmt, LocalVar>;
  /**
   * Where a closure is made (its name or `fun` used as a value) or called by name: the locals of the function there
   * whose values its environment gets, in the order of its captures.
   */
  closureEnvs: Map<Expr, LocalVar[]>;
  main: FunInfo | undefined;
  /**
   * The functions that run the globals' non-constant initializers before pop_main, one per file that has any, in
   * the program's file order (each initializer in its file's declaration order), as Popcorn evaluates them.
   */
  inits: FunInfo[];
}

/**
 * The function that flushes standard output's buffer, Core::flush, when the program includes Core (the buffer lives
 * there). The program's epilogue, the exit paths and the failure writers call it, so output is never lost however
 * the program ends.
 */
export function stdoutFlush(c: Checked): FunInfo | undefined {
  return c.funs.find(f => f.tal === 'f_Core__flush' && f.decl.body !== undefined && f.params.length === 0);
}

/** The word a `case` label stands for: an integer or character constant, its negation, or an exception's tag. */
export function caseValue(c: Checked, v: Expr): number {
  if (v.k === 'int' || v.k === 'char') return v.value | 0;
  if (v.k === 'unary' && v.e.k === 'int') return -v.e.value | 0;
  const r = c.refs.get(v.k === 'call' ? v.fn : v);
  if (r?.k === 'exn') return r.e.tag;
  throw new Error('internal: bad case value');
}
