// printf, fprintf and sprintf: their format strings checked at compile time against the arguments, and each call
// lowered to calls of Core's formatting functions (compiler/lib/core.pop, fmt_*), which are ordinary Popcorn: the
// trusted base gains nothing. The conversions are ISO C's (C99 7.19.6.1) for the types Popcorn has: %d %i %u %o %x %X
// %c %s %%, with the flags - + space # 0, a width and a precision; what C leaves undefined (# with %d, 0 with %s, a
// precision with %c) is refused as gcc's -Wformat warns of it. TALx86's Popcorn checked printf's format the same way
// (its printf was known to the compiler); `l` is accepted and ignored (long is int on IA-32). A width or precision
// written `*` is taken from an int argument before the value, as C's: a negative width is the flag `-` and its
// magnitude, a negative precision is none (C99 7.19.6.1p5); Core's fmt_*_star functions do that at run time.
//
// The lowering keeps C's order of effects: every argument is evaluated (right to left, as popc evaluates any call's)
// before anything is written, since the arguments are operands of the outermost fmt_* call and the stream is
// started innermost:
//   printf("x=%5d\n", e)  →  Core::fmt_done(Core::fmt_lit(Core::fmt_int(Core::fmt_lit(Core::fmt_start(tal_stdout),
//                                "x="), e, 'd', 0, 5, -1), "\n"))
//   printf("%*d", w, e)  →  Core::fmt_done(Core::fmt_int_star(Core::fmt_start(tal_stdout), w, -1, e, 'd', 0))
// (a star conversion's function takes the width, the precision and the value in the order of printf's arguments,
// so that they too run right to left).

import type { Expr, Pos, QName } from './ast.ts';
import { Diag, type DiagnosticArg, type DiagnosticDef } from './diagnostics.ts';
import { type Ty, showTy } from './types.ts';

/** The functions whose calls are lowered here, and where their format argument is. */
const FORMAT_ARG: Readonly<Record<string, number>> = { printf: 0, fprintf: 1, sprintf: 0 };

/** `printf`, `fprintf`, `sprintf`, unqualified or as Core::… (the checker asks only when no function of the name
 * is declared: a program's own printf stays its own). */
export function isFormatFunction(q: QName): boolean {
  return (q.ns === undefined || q.ns === 'Core') && Object.hasOwn(FORMAT_ARG, q.name);
}

/** The flags, as C writes them, and the names of Core's bits for them (lib/core.pop, FMT_*). */
const FLAG_BITS: Readonly<Record<string, string>> = {
  '-': 'FMT_MINUS', '0': 'FMT_ZERO', '+': 'FMT_PLUS', ' ': 'FMT_SPACE', '#': 'FMT_HASH',
};

/** One conversion of a format: its text (`%-5d`), where it starts (a byte offset), and its parts. */
export interface Conversion {
  spec: string;
  offset: number;
  flags: string;
  width?: number;
  precision?: number;
  /** The width, or the precision, is `*`: taken from an int argument (width first, then precision, then value). */
  widthArg?: boolean;
  precisionArg?: boolean;
  conv: string;
}
export type Piece = { k: 'literal'; bytes: number[] } | { k: 'conversion'; c: Conversion };
export type FormatError =
  | { k: 'unknown'; offset: number; spec: string }
  | { k: 'unterminated'; offset: number; spec: string };

const INTEGER_CONVERSIONS = 'diuoxX';
const CONVERSIONS = `${INTEGER_CONVERSIONS}cs`;
const isDigit = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x39;

/** A format split into literal text and conversions (`%%` is literal text), or the first error in it. */
export function parseFormat(bytes: readonly number[]): { pieces: Piece[]; errors: FormatError[] } {
  const pieces: Piece[] = [];
  const errors: FormatError[] = [];
  let lit: number[] = [];
  const text = (from: number, to: number): string => String.fromCharCode(...bytes.slice(from, to));
  let i = 0;
  while (i < bytes.length) {
    if (bytes[i] !== 0x25) { lit.push(bytes[i++]); continue; }
    const start = i++;
    if (bytes[i] === 0x25) { lit.push(0x25); i++; continue; }
    let flags = '';
    while (i < bytes.length && '-+ #0'.includes(String.fromCharCode(bytes[i]))) {
      flags += String.fromCharCode(bytes[i++]);
    }
    let width: number | undefined;
    let precision: number | undefined;
    // `*` stands for the whole width (or precision): digits after it are no conversion C has (`%*5d`).
    let widthArg = false, precisionArg = false, malformed = false;
    if (bytes[i] === 0x2a) { widthArg = true; i++; malformed = isDigit(bytes[i]); }
    while (isDigit(bytes[i])) width = (width ?? 0) * 10 + bytes[i++] - 0x30;
    if (bytes[i] === 0x2e) {
      i++;
      precision = 0;
      if (bytes[i] === 0x2a) { precisionArg = true; i++; malformed ||= isDigit(bytes[i]); }
      while (isDigit(bytes[i])) precision = precision * 10 + bytes[i++] - 0x30;
    }
    if (bytes[i] === 0x6c) i++; // l: long is int here
    if (i >= bytes.length) { errors.push({ k: 'unterminated', offset: start, spec: text(start, i) }); break; }
    const conv = String.fromCharCode(bytes[i++]);
    const spec = text(start, i);
    if (malformed || !CONVERSIONS.includes(conv)) { errors.push({ k: 'unknown', offset: start, spec }); continue; }
    if (lit.length) { pieces.push({ k: 'literal', bytes: lit }); lit = []; }
    const c: Conversion = { spec, offset: start, flags, width, precision, conv };
    if (widthArg) { c.widthArg = true; c.width = undefined; }
    if (precisionArg) { c.precisionArg = true; c.precision = undefined; }
    pieces.push({ k: 'conversion', c });
  }
  if (lit.length) pieces.push({ k: 'literal', bytes: lit });
  return { pieces, errors };
}

/** What a conversion takes, by the argument's type; undefined if the type fits. */
function wanted(conv: string, t: Ty): string | undefined {
  if (t.k === 'error') return undefined;
  if (conv === 's') return t.k === 'string' ? undefined : 'a string';
  const ok = t.k === 'int' || t.k === 'unsigned' || t.k === 'char';
  if (ok) return undefined;
  return conv === 'c' ? 'a char' : 'an int';
}

/** Whether an argument of type `t` may give a `*` width or precision: an int, as C's (a char or a sub-word integer
 * is promoted to one; an unsigned is not, as gcc's -Wformat holds). */
function starFits(t: Ty): boolean {
  return t.k === 'error' || t.k === 'int' || t.k === 'char' || t.k === 'sub';
}

/** What each argument after the format is for, in order: a conversion's `*` width, `*` precision, or value. */
type ArgUse = { c: Conversion; role: 'width' | 'precision' | 'value' };

function argUses(conversions: readonly Conversion[]): ArgUse[] {
  return conversions.flatMap(c => [
    ...(c.widthArg ? [{ c, role: 'width' as const }] : []),
    ...(c.precisionArg ? [{ c, role: 'precision' as const }] : []),
    { c, role: 'value' as const },
  ]);
}

/** The flag C leaves undefined with a conversion, if the conversion has one, and whether its precision is. */
function undefinedFlag(c: Conversion): string | undefined {
  if (c.flags.includes('#') && 'diucs'.includes(c.conv)) return '#';
  if (c.flags.includes('0') && 'cs'.includes(c.conv)) return '0';
  return undefined;
}

/** The column of byte `offset` of a string literal at `pos` (its opening quote), writing each byte as popc's lexer
 * reads it back: printable ASCII as itself, the usual escapes in two columns, other bytes as \xHH. Exact unless the
 * source spelled a byte in a longer way than that (an octal escape). */
export function columnOf(pos: Pos, bytes: readonly number[], offset: number): Pos {
  let col = pos.col + 1;
  for (let i = 0; i < offset; i++) {
    const b = bytes[i];
    if (b === 0x5c || b === 0x22) col += 2;
    else if (b >= 0x20 && b < 0x7f) col += 1;
    else col += [0, 7, 8, 9, 10, 11, 12, 13].includes(b) ? 2 : 4;
  }
  return { line: pos.line, col };
}

/** What the lowering needs of the checker. */
export interface FormatHost {
  /** Check an argument and give its type (called right to left, the order arguments run in). */
  typeOf(e: Expr): Ty;
  error<A extends DiagnosticArg[]>(pos: Pos, def: DiagnosticDef<A>, ...args: A): void;
  /** Whether Core's formatting functions are declared (core.h included). */
  hasCore(): boolean;
  /** Whether a type is Core's FILE. */
  isFile(t: Ty): boolean;
}

/**
 * Check a call of printf, fprintf or sprintf and rewrite it, in place, into calls of Core's fmt_* functions, which the
 * checker then checks as any call. False (and diagnostics) when the call is wrong: it is left as it was.
 */
export function lowerFormatCall(e: Extract<Expr, { k: 'call' }>, name: string, host: FormatHost): boolean {
  const at = FORMAT_ARG[name];
  const before = { errors: 0 };
  const error = <A extends DiagnosticArg[]>(pos: Pos, def: DiagnosticDef<A>, ...args: A): void => {
    before.errors++;
    host.error(pos, def, ...args);
  };
  const types: Ty[] = [];
  for (let i = e.args.length - 1; i >= 0; i--) types[i] = host.typeOf(e.args[i]);
  if (!host.hasCore()) { error(e.fn.pos, Diag.FormatNeedsCore, name); return false; }
  const format = e.args[at];
  if (!format || format.k !== 'string') {
    error(format?.pos ?? e.pos, Diag.FormatNotLiteral, name);
    return false;
  }
  if (name === 'fprintf' && !host.isFile(types[0]) && types[0].k !== 'error') {
    error(e.args[0].pos, Diag.FormatNotFile, showTy(types[0]));
  }
  const { pieces, errors } = parseFormat(format.bytes);
  const where = (offset: number): Pos => columnOf(format.pos, format.bytes, offset);
  for (const x of errors) {
    if (x.k === 'unknown') error(where(x.offset), Diag.FormatUnknownConversion, x.spec);
    else error(where(x.offset), Diag.FormatUnterminated, x.spec);
  }
  const conversions = pieces.flatMap(p => p.k === 'conversion' ? [p.c] : []);
  for (const c of conversions) {
    const flag = undefinedFlag(c);
    if (flag) error(where(c.offset), Diag.FormatFlagUndefined, flag, c.spec);
    if (c.conv === 'c' && (c.precision !== undefined || c.precisionArg)) {
      error(where(c.offset), Diag.FormatPrecisionUndefined, c.spec);
    }
  }
  const uses = argUses(conversions);
  const given = e.args.length - at - 1;
  uses.forEach(({ c, role }, i) => {
    const argIndex = at + 1 + i;
    if (i >= given) {
      if (i === given) error(where(c.offset), Diag.FormatMissingArgument, c.spec, uses.length, given);
      return;
    }
    const t = types[argIndex];
    if (role !== 'value') {
      if (!starFits(t)) error(e.args[argIndex].pos, Diag.FormatStarArgument, c.spec, role, argIndex + 1, showTy(t));
      return;
    }
    const want = wanted(c.conv, t);
    if (want) error(where(c.offset), Diag.FormatArgumentType, c.spec, want, argIndex + 1, showTy(t));
  });
  if (given > uses.length && errors.length === 0) {
    error(e.args[at + 1 + uses.length].pos, Diag.FormatExtraArgument, uses.length, given);
  }
  if (before.errors) return false;

  // The lowering: the stream started innermost, each piece written around it in order.
  const pos = e.pos;
  const core = (n: string): Expr => ({ k: 'var', name: { ns: 'Core', name: n }, pos });
  const call = (n: string, args: Expr[]): Expr => ({ k: 'call', fn: core(n), args, pos });
  const int = (n: number): Expr => n < 0
    ? { k: 'unary', op: '-', e: { k: 'int', value: -n, pos }, pos }
    : { k: 'int', value: n, pos };
  const flagsOf = (c: Conversion): Expr => [...new Set(c.flags)]
    .map(f => core(FLAG_BITS[f]))
    .reduce<Expr | undefined>((l, r) => l ? { k: 'binary', op: '|', l, r, pos } : r, undefined) ?? int(0);
  let stream: Expr = name === 'sprintf'
    ? call('fmt_start_string', [])
    : call('fmt_start', [name === 'fprintf' ? e.args[0] : { k: 'var', name: { name: 'tal_stdout' }, pos }]);
  let next = at + 1;
  for (const p of pieces) {
    if (p.k === 'literal') {
      stream = call('fmt_lit', [stream, { k: 'string', bytes: p.bytes, pos: format.pos }]);
      continue;
    }
    const c = p.c;
    if (c.widthArg || c.precisionArg) {
      // Without a star, the star function's width is 0 (none: a negative one would mean `-`), its precision -1.
      const width = c.widthArg ? e.args[next++] : int(c.width ?? 0);
      const precision = c.precisionArg ? e.args[next++] : int(c.precision ?? -1);
      const arg = e.args[next++];
      if (c.conv === 's') stream = call('fmt_str_star', [stream, width, precision, arg, flagsOf(c)]);
      else if (c.conv === 'c') stream = call('fmt_char_star', [stream, width, arg, flagsOf(c)]);
      else {
        const conv: Expr = { k: 'char', value: c.conv.charCodeAt(0), pos };
        stream = call('fmt_int_star', [stream, width, precision, arg, conv, flagsOf(c)]);
      }
      continue;
    }
    const arg = e.args[next++];
    const width = int(c.width ?? -1);
    const precision = int(c.precision ?? -1);
    if (c.conv === 's') stream = call('fmt_str', [stream, arg, flagsOf(c), width, precision]);
    else if (c.conv === 'c') stream = call('fmt_char', [stream, arg, flagsOf(c), width]);
    else {
      const conv: Expr = { k: 'char', value: c.conv.charCodeAt(0), pos };
      stream = call('fmt_int', [stream, arg, conv, flagsOf(c), width, precision]);
    }
  }
  e.fn = core(name === 'sprintf' ? 'fmt_string' : 'fmt_done');
  e.args = [stream];
  return true;
}
