// popc's run-time failures name their site: each program below fails one check (bounds read and write, a string
// index, a null field read and write, division and remainder by zero, compound and unsigned division, an uncaught
// exception, UnionVariant from a union's variant read directly, failures inside library functions, a polymorphic function's bounds check) and must print exactly
// `FILE:LINE:COL: MESSAGE` on stderr (bounds checks add the index and the length) and exit with status 255 (a
// failed check and an uncaught exception alike, as Popcorn's runtime) identically natively, under talrun in user mode
// and under talrun --kernel. Positions are found in the source by a needle (the `[`, `.`, `/` or `raise` the failure
// is reported at), so the programs can change without renumbering. A field of a possibly-null struct is read or
// written through a run-time null check, as Popcorn compiled it (docs/popcorn.md "Null checks").
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../../compiler/popc.ts';
import { LIB_DIR } from '../../compiler/library.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { runProgram } from '../../kernel/talrun.ts';
import { scratch } from '../util/native.ts';
import { LEVELS, flag } from '../util/levels.ts';

const bin = scratch('ktal-popc-rterr-');
test.after.always(() => bin.done());

/** `line:col` (1-based) of the first `needle` in `text` after `after` (when given). */
function at(text: string, needle: string, after = ''): string {
  const i = text.indexOf(needle, after ? text.indexOf(after) : 0);
  if (i < 0 || (after && text.indexOf(after) < 0)) throw new Error(`no ${JSON.stringify(needle)} in the source`);
  const before = text.slice(0, i).split('\n');
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

const lib = (f: string): string => readFileSync(join(LIB_DIR, f), 'utf8');

interface Case {
  name: string;
  src: string;
  /** What it prints before it fails (standard output is flushed however a program ends), if not `before\n`. */
  stdout?: string;
  /** The stderr line without its newline. */
  stderr: (file: string, src: string) => string;
  status: number;
  /** Drop pop_main's first `if (x != null)` branch (its `je L…_else`) from the TAL. */
}

/** Every program prints and flushes a line first: the failure comes after output that was already written. */
const prog = (decls: string, body: string): string =>
  `#include "core.h"\nopen Core;\n${decls}\nvoid pop_main() {\n  print_string("before\\n"); flush();\n${body}\n}\n`;

const cases: Case[] = [
  {
    name: 'bounds_read',
    src: prog('int get(int a[], int i) { return a[i]; }', '  int a[] = new_array(8, 0);\n  print_int(get(a, 10));'),
    stderr: (f, s) => `${f}:${at(s, '[i]')}: array index out of bounds (index 10, length 8)`, status: 255,
  },
  {
    name: 'bounds_write',
    src: prog('', '  int a[] = new_array(3, 0);\n  int i = -1;\n  a[i] = 5;'),
    stderr: (f, s) => `${f}:${at(s, '[i] = 5')}: array index out of bounds (index -1, length 3)`, status: 255,
  },
  {
    name: 'bounds_compound',
    src: prog('int most_negative() { return -2147483647 - 1; }', '  int a[] = {1, 2};\n  a[most_negative()] += 1;'),
    stderr: (f, s) => `${f}:${at(s, '[most')}: array index out of bounds (index -2147483648, length 2)`, status: 255,
  },
  {
    name: 'string_index',
    src: prog('char last(string s, int n) { return s[n]; }', '  print_char(last("abc", 3));'),
    stderr: (f, s) => `${f}:${at(s, '[n]')}: string index out of bounds (index 3, length 3)`, status: 255,
  },
  {
    name: 'poly_bounds',
    src: prog('a nth<a>(a xs[], int i) { return xs[i]; }', '  string xs[] = {"x", "y"};\n  print_string(nth(xs, 2));'),
    stderr: (f, s) => `${f}:${at(s, '[i]')}: array index out of bounds (index 2, length 2)`, status: 255,
  },
  {
    name: 'null_read',
    src: prog('?struct node { int v; node next; }\nnode none() { return null; }', '  print_int(none().v);'),
    stderr: (f, s) => `${f}:${at(s, '.v)')}: null pointer dereference`, status: 255,
  },
  {
    name: 'null_write',
    src: prog('?struct node { int v; node next; }\nnode none() { return null; }', '  node n = none();\n  n.v = 2;'),
    stderr: (f, s) => `${f}:${at(s, '.v = 2')}: null pointer dereference`, status: 255,
  },
  {
    name: 'division',
    src: prog('int zero() { return 0; }', '  int y = zero();\n  print_int(7 / y);'),
    stderr: (f, s) => `${f}:${at(s, '/ y')}: division by zero`, status: 255,
  },
  {
    name: 'remainder',
    src: prog('int zero() { return 0; }', '  int y = zero();\n  print_int(7 % y);'),
    stderr: (f, s) => `${f}:${at(s, '% y')}: remainder by zero`, status: 255,
  },
  {
    name: 'compound_division',
    src: prog('int zero() { return 0; }', '  int x = 7;\n  x /= zero();\n  print_int(x);'),
    stderr: (f, s) => `${f}:${at(s, '/= zero')}: division by zero`, status: 255,
  },
  {
    name: 'unsigned_remainder',
    src: prog('unsigned int zero() { return 0; }', '  unsigned int x = 7;\n  print_int(x % zero());'),
    stderr: (f, s) => `${f}:${at(s, '% zero')}: remainder by zero`, status: 255,
  },
  {
    name: 'uncaught',
    src: prog('exception Not_found;\nint find(int a[], int x) {\n  for (int i = 0; i < size(a); i++) if (a[i] == x) ' +
      'return i;\n  raise Not_found();\n}',
      '  int a[] = {4, 5};\n  print_int(find(a, 6));'),
    stderr: (f, s) => `${f}:${at(s, 'raise')}: uncaught exception Not_found`, status: 255,
  },
  {
    name: 'library_exception',
    src: `#include "list.h"\n${prog('', '  <int>List::list l = null;\n  print_int(List::hd(l));')}`,
    stderr: () => `lib/list.pop:${at(lib('list.pop'), 'raise List_empty', ' hd<a>(')}: uncaught exception List_empty`,
    status: 255,
  },
  {
    name: 'library_bounds',
    src: `#include "dir.h"\n${prog('', '  print_string(Dir::substring("abc", 1, 5));')}`,
    stderr: () => `lib/dir.pop:${at(lib('dir.pop'), '[i];', 'substring(')}: string index out of bounds (index 3, length 3)`,
    status: 255,
  },
  {
    // A union's variant read directly when the value is another variant (a nullary one: the integer below the tuples).
    name: 'union_variant_nullary',
    src: prog('union <a>option { void None; a Some; }', '  <int>option o = option.None;\n  print_int(o.Some);'),
    stderr: (f, s) => `${f}:${at(s, '.Some)')}: uncaught exception UnionVariant`, status: 255,
  },
  {
    // … and another variant with a value (its tag word differs).
    name: 'union_variant_tag',
    src: prog('union answer { string Yes; string No; void Unsure; }',
      '  answer a = ^answer.No("no");\n  print_string(a.No);\n  print_string(a.Yes);'),
    stdout: 'before\nno', stderr: (f, s) => `${f}:${at(s, '.Yes')}: uncaught exception UnionVariant`, status: 255,
  },
];

for (const level of LEVELS) for (const c of cases) {
  const title = `${c.name} ${flag(level)}: the failing site and what failed on stderr, the same natively, in user mode `
    + 'and in kernel mode';
  test(title, t => {
    const file = `${c.name}.pop`;
    const r = compile(c.src, file, { optimise: level });
    t.deepEqual(r.diagnostics, [], 'popc reported errors');
    if (!r.elf) return t.fail(r.assemblerErrors ?? 'no executable');
    const elf = r.elf;
    const v = checkElf(elf);
    t.true(v.ok, v.ok ? '' : `the checker refused popc's output: ${v.error.cls}: ${v.error.message}`);
    const want = { stdout: c.stdout ?? 'before\n', stderr: `${c.stderr(file, c.src)}\n`, status: c.status };

    const native = spawnSync(bin.file(`${c.name}${flag(level)}`, elf, 0o755), [], { timeout: 10_000 });
    if (native.error) throw native.error;
    t.deepEqual({ stdout: native.stdout.toString(), stderr: native.stderr.toString(), status: native.status }, want,
      'native');
    for (const kernel of [false, true]) {
      const run = runProgram(elf, [c.name], { kernel });
      const got = { stdout: Buffer.from(run.stdout).toString(), stderr: Buffer.from(run.stderr).toString(),
        status: run.status };
      t.deepEqual(got, want, kernel ? 'kernel mode' : 'user mode');
    }
  });
}

test('a check costs nothing on the normal path: one jcc to a stub placed after the function', t => {
  const src = prog('int get(int a[], int i) { return a[i]; }', '  int a[] = new_array(8, 0);\n  print_int(get(a, 1));');
  const tal = compile(src, 'cost.pop').tal!;
  const body = tal.slice(tal.indexOf('\nf_get:'), tal.indexOf('\n.tal_label', tal.indexOf('\nf_get:')));
  const insns = body.split('\n').map(l => l.trim()).filter(l => l && !l.endsWith(':') && !l.startsWith('.'));
  t.deepEqual(insns.map(l => l.replace(/^jae L\d+_fail$/, 'jae STUB')), [
    'mov eax, DWORD PTR [esp+4]', 'mov ecx, DWORD PTR [esp+8]', 'cmp ecx, DWORD PTR [eax]', 'jae STUB',
    'mov eax, DWORD PTR [eax+ecx*4+4]', 'ret',
  ]);
  const stub = insns.find(l => l.startsWith('jae'))!.slice(4);
  const after = tal.slice(tal.indexOf(`\n${stub}:`));
  t.deepEqual(after.split('\n').slice(2, 6).map(l => l.trim()),
    ['push DWORD PTR [eax]', 'push ecx', `push OFFSET ${/push OFFSET (\S+)/.exec(after)![1]}`,
      'jmp __popc_fail_bounds']);
});
