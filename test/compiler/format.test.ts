// printf, fprintf and sprintf (compiler/format.ts, lib/core.pop's fmt_*): the format parser, and the formatting
// against an oracle nobody here wrote — GNU coreutils' printf(1), which formats each conversion with the C library's
// printf. fast-check draws conversions (flags, width, precision, each a number or `*` with an int argument that may
// be negative, conversion) and values over everything C defines;
// one Popcorn program prints them all with printf and with sprintf, compiled at each level and run natively, and its
// output must equal printf(1)'s for the same format and values. Plus the order of effects (every argument before
// any output, as a C call's) and a program's own printf left alone.
import test from 'ava';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { compile } from '../../compiler/popc.ts';
import { formatDiagnostics } from '../../compiler/diagnostics.ts';
import { parseFormat, columnOf } from '../../compiler/format.ts';
import { runNative, scratch } from '../util/native.ts';
import { LEVELS, flag, type Level } from '../util/levels.ts';

const PRINTF = '/usr/bin/printf';
const bin = scratch('ktal-format-');
test.after.always(() => bin.done());

function build(src: string, level: Level, name: string): string {
  const r = compile(src, `${name}.pop`, { optimise: level });
  if (r.diagnostics.length) throw new Error(formatDiagnostics(r.diagnostics, r.sources));
  if (!r.elf) throw new Error(r.assemblerErrors ?? 'no executable');
  return bin.file(`${name}${flag(level)}`, r.elf, 0o755);
}

test('parseFormat splits literal text, %% and conversions with their flags, width and precision', t => {
  const bytes = [...Buffer.from('a%%b%-08.3ld%c%')];
  const { pieces, errors } = parseFormat(bytes);
  t.deepEqual(pieces, [
    { k: 'literal', bytes: [...Buffer.from('a%b')] },
    { k: 'conversion', c: { spec: '%-08.3ld', offset: 4, flags: '-0', width: 8, precision: 3, conv: 'd' } },
    { k: 'conversion', c: { spec: '%c', offset: 12, flags: '', width: undefined, precision: undefined, conv: 'c' } },
  ]);
  t.deepEqual(errors, [{ k: 'unterminated', offset: 14, spec: '%' }]);
  t.deepEqual(parseFormat([...Buffer.from('%q %*5d %.*3s')]).errors, [
    { k: 'unknown', offset: 0, spec: '%q' }, { k: 'unknown', offset: 3, spec: '%*5d' },
    { k: 'unknown', offset: 8, spec: '%.*3s' },
  ]);
  t.deepEqual(parseFormat([...Buffer.from('%-*.*d')]).pieces, [{ k: 'conversion', c: {
    spec: '%-*.*d', offset: 0, flags: '-', width: undefined, precision: undefined, widthArg: true,
    precisionArg: true, conv: 'd' } }]);
  t.deepEqual(parseFormat([...Buffer.from('%.s')]).pieces,
    [{ k: 'conversion', c: { spec: '%.s', offset: 0, flags: '', width: undefined, precision: 0, conv: 's' } }]);
});

test('columnOf counts an escape as the lexer reads it', t => {
  const bytes = [...Buffer.from('\t"x\\%d')];
  // "\t\"x\\%d": the quote at column 5; \t 6-7, \" 8-9, x 10, \\ 11-12, % 13.
  t.deepEqual(columnOf({ line: 2, col: 5 }, bytes, 4), { line: 2, col: 13 });
});

/**
 * One conversion C defines, with its arguments (a `*` width's and precision's, then the value): the format text,
 * the Popcorn arguments, printf(1)'s arguments.
 */
interface Case { spec: string; pop: string[]; shell: string[] }

const INT32 = fc.oneof(fc.integer({ min: -2147483648, max: 2147483647 }), fc.integer({ min: -20, max: 20 }),
  fc.constantFrom(0, -2147483648, 2147483647));
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-';

const caseArb: fc.Arbitrary<Case> = fc.record({
  conv: fc.constantFrom('d', 'i', 'u', 'o', 'x', 'X', 'c', 's'),
  flags: fc.subarray(['-', '0', '+', ' ', '#']),
  width: fc.option(fc.integer({ min: 1, max: 14 }), { nil: undefined }), // a width of 0 would read as the flag 0
  precision: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
  n: INT32,
  s: fc.array(fc.constantFrom(...ALNUM), { maxLength: 10 }).map(a => a.join('')),
  c: fc.constantFrom(...ALNUM),
  // A width or precision as `*`, its argument: negative ones are the flag - and no precision (C99 7.19.6.1p5).
  starWidth: fc.option(fc.integer({ min: -14, max: 14 }), { nil: undefined, freq: 2 }),
  starPrecision: fc.option(fc.integer({ min: -3, max: 12 }), { nil: undefined, freq: 2 }),
}).map(({ conv, flags, width, precision, n, s, c, starWidth, starPrecision }) => {
  // What C leaves undefined is left out (popc refuses it): # with d i u c s, 0 with c s, a precision with c.
  let f = flags.filter(x => !(x === '#' && 'diucs'.includes(conv)) && !(x === '0' && 'cs'.includes(conv)));
  if ('cs'.includes(conv)) f = f.filter(x => x !== '+' && x !== ' ');
  const prec = conv === 'c' ? undefined : precision;
  const starPrec = conv === 'c' ? undefined : starPrecision;
  const stars = [...(starWidth !== undefined ? [starWidth] : []), ...(starPrec !== undefined ? [starPrec] : [])];
  const widthText = starWidth !== undefined ? '*' : String(width ?? '');
  const precText = starPrec !== undefined ? '.*' : prec === undefined ? '' : `.${prec}`;
  const spec = `%${f.join('')}${widthText}${precText}${conv}`;
  const popInt = (v: number): string => v < 0 ? `(${v === -2147483648 ? '-2147483647 - 1' : String(v)})` : String(v);
  const with_ = (pop: string, shell: string): Case =>
    ({ spec, pop: [...stars.map(popInt), pop], shell: [...stars.map(String), shell] });
  if (conv === 's') return with_(JSON.stringify(s), s);
  if (conv === 'c') return with_(`'${c}'`, c);
  // printf(1) reads its numbers as intmax_t: an unsigned conversion is given the word's unsigned value.
  return with_(popInt(n), 'uoxX'.includes(conv) ? String(n >>> 0) : String(n));
});

const hasPrintf = existsSync(PRINTF);

for (const level of LEVELS) {
  const title = `printf and sprintf format as the C library does (printf(1) the oracle) ${flag(level)}`;
  (hasPrintf ? test : test.skip)(title, t => {
    const cases = fc.sample(fc.array(caseArb, { minLength: 3, maxLength: 3 }), { numRuns: 150, seed: 18 + level });
    const lines: string[] = [];
    const shellFormat: string[] = [];
    const shellArgs: string[] = [];
    for (const three of cases) {
      const fmt = `[${three.map(c => c.spec).join('|')}]`;
      const args = three.flatMap(c => c.pop).join(', ');
      lines.push(`  printf("${fmt}\\n", ${args});`);
      lines.push(`  fprint_string(tal_stdout, sprintf("${fmt}\\n", ${args}));`);
      for (let k = 0; k < 2; k++) { shellFormat.push(`${fmt}\\n`); shellArgs.push(...three.flatMap(c => c.shell)); }
    }
    const src = `#include "core.h"\nvoid pop_main() {\n${lines.join('\n')}\n  fflush(tal_stdout);\n}\n`;
    const exe = build(src, level, 'oracle');
    const ours = runNative(exe);
    t.is(ours.status, 0, ours.stderr);
    const oracle = spawnSync(PRINTF, [shellFormat.join(''), ...shellArgs], { encoding: 'latin1' });
    t.is(oracle.status, 0, oracle.stderr);
    const want = oracle.stdout.split('\n');
    const got = ours.stdout.split('\n');
    t.is(got.length, want.length);
    for (let i = 0; i < want.length; i++) t.is(got[i], want[i], `line ${i + 1}: ${lines[i]}`);
  });
}

test('every argument is evaluated before anything is written, and printf returns the bytes it wrote', t => {
  const src = `#include "core.h"
int calls = 0;
int noisy(int v) { calls++; printf("<%d>", v); return v; }
void pop_main() {
  int n = printf("a%db%dc\\n", noisy(1), noisy(2));
  string s = sprintf("%s/%d", "x", noisy(3));
  printf("%d %s %d\\n", n, s, calls);
  fflush(tal_stdout);
}
`;
  for (const level of LEVELS) {
    const r = runNative(build(src, level, 'order'));
    // Arguments run right to left, as popc runs any call's; the text comes after both.
    t.is(r.stdout, '<2><1>a1b2c\n<3>6 x/3 3\n', flag(level));
  }
});

test("a program's own printf is its own, not lowered", t => {
  const src = `#include "core.h"
open Core;
void printf(string s, int n) { print_string(s); print_int(n * 10); print_newline(); }
void pop_main() { printf("%d", 4); flush(); }
`;
  t.is(runNative(build(src, 0, 'own')).stdout, '%d40\n');
});
