// Built-in functions: the few that need the machine (size, new_array, new_string, std_args) and, in namespace Sys,
// one per import of the kernel interface (tal/interface.ts), typed from the import's own signature: int for int,
// string for a byte array. Everything else of the standard library (Core, List) is written in Popcorn itself
// (compiler/lib/).

import { IMPORTS } from '../tal/interface.ts';
import { type Ty, INT, STRING, VOID } from './types.ts';

export interface Builtin {
  /** As written, e.g. size or Sys::write. */
  readonly name: string;
  readonly tparams: readonly string[];
  readonly params: readonly Ty[];
  readonly ret: Ty;
  readonly kind: 'size' | 'new_array' | 'new_string' | 'std_args' | 'import';
  /** For imports: the import's name. */
  readonly importName?: string;
  /** Never returns (Sys::exit). */
  readonly noreturn?: boolean;
  /** For imports with a byte buffer: the argument indexes of the buffer, its offset and its count (or a fixed size). */
  readonly buffer?: { readonly buf: number; readonly off: number; readonly count: number | { readonly fixed: number } };
}

const A: Ty = { k: 'var', name: 'a' };

function importType(t: string): Ty {
  if (t === 'int') return INT;
  if (t === '*bytes' || t === '*rbytes') return STRING;
  throw new Error(`internal: no popc type for import parameter ${t}`);
}

function build(): Map<string, Builtin> {
  const m = new Map<string, Builtin>();
  m.set('size', { name: 'size', tparams: ['a'], params: [A], ret: INT, kind: 'size' });
  m.set('new_array',
    { name: 'new_array', tparams: ['a'], params: [INT, A], ret: { k: 'array', elem: A }, kind: 'new_array' });
  m.set('new_string', { name: 'new_string', tparams: [], params: [INT], ret: STRING, kind: 'new_string' });
  m.set('std_args', { name: 'std_args', tparams: [], params: [], ret: { k: 'array', elem: STRING }, kind: 'std_args' });
  for (const imp of IMPORTS) {
    if (imp.syscall === undefined) continue;
    m.set(`Sys__${imp.name}`, {
      name: `Sys::${imp.name}`, tparams: [], params: imp.params.map(importType), ret: imp.result === null ? VOID : INT,
      kind: 'import', importName: imp.name, noreturn: imp.result === null, buffer: imp.buffer,
    });
  }
  return m;
}

export const BUILTINS: ReadonlyMap<string, Builtin> = build();

/** A run-time check whose failure inside a `try` body raises an exception (docs/popcorn.md "Exceptions"). */
export type CheckKind = 'null' | 'bounds' | 'zero' | 'variant';

/**
 * The built-in exceptions, declared in every program before its own: what a failed null, bounds or zero-divisor
 * check, or a union's variant read directly from another variant (UnionVariant, docs/popcorn.md "Unions"), raises
 * where a handler of the same function can take it. Popcorn's runtime only aborted on these
 * (pop_runtime.c: pop_never_null, array_bounds_error, division_by_zero_error); the names are those Cyclone, Popcorn's
 * successor by the same group, gave its built-in exceptions (Null_Exception, Array_bounds), and Divide_by_zero
 * after them.
 */
export const BUILTIN_EXCEPTIONS: readonly { readonly name: string; readonly check: CheckKind }[] = [
  { name: 'Null_Exception', check: 'null' },
  { name: 'Array_bounds', check: 'bounds' },
  { name: 'Divide_by_zero', check: 'zero' },
  { name: 'UnionVariant', check: 'variant' },
];
