// popc's negative corpus: every program under test/popc/errors/ that must not compile, with the diagnostics popc
// must give for it. Each file starts with comment lines
//   // expect: LINE:COL: CODE[: MESSAGE]
//   // note: HINT
// one `expect` per diagnostic (all of a file's errors, not only the first), in source order. The code
// (compiler/diagnostics.ts) is what is asserted; the message, when given, is checked too (it documents the intent),
// and so are the hints when `note` lines follow the `expect`. `ok-*.pop` are positive twins:
// the same constructs used correctly compile and pass the checker. A file marked `// known-bug: WHY` states what popc
// should say but does not yet; it runs as test.failing (when popc is fixed, drop the marker).
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { compile } from '../../compiler/popc.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { runProgram } from '../../kernel/talrun.ts';
import { Diag, template, formatDiagnostic, type Diagnostic } from '../../compiler/diagnostics.ts';

const root = join(import.meta.dirname, '..', '..');
const rel = 'test/popc/errors';
const dir = join(root, rel);
const files = readdirSync(dir).filter(f => f.endsWith('.pop')).sort();

/** One expected diagnostic: the message and hints are checked only when the file gives them. */
interface Expected { file: string; line: number; col: number; code: string; message?: string; hints?: string[] }
interface Expectation { expected: Expected[]; knownBug?: string }

function expectations(file: string, text: string): Expectation {
  const expected: Expected[] = [];
  let knownBug: string | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith('//')) break;
    const kb = /^\/\/ known-bug(?: \([^)]*\))?: (.*)$/.exec(line);
    if (kb) { knownBug = kb[1]; continue; }
    const m = /^\/\/ expect: (?:(\S+):)?(\d+):(\d+): (P\d{4})(?:: (.*))?$/.exec(line);
    if (m) expected.push({ file: m[1] ?? file, line: Number(m[2]), col: Number(m[3]), code: m[4], message: m[5] });
    const note = /^\/\/ note: (.*)$/.exec(line);
    if (note) (expected[expected.length - 1].hints ??= []).push(note[1]);
  }
  return { expected, knownBug };
}

/** popc's diagnostics in source order (stable: same-position ones keep popc's order). popc appends them pass by
 * pass (all struct names, then fields and signatures, then bodies), so a file's list is not always in line order. */
const inSourceOrder = (ds: Diagnostic[]): Diagnostic[] =>
  ds.map((d, i) => ({ d, i })).sort((a, b) => a.d.line - b.d.line || a.d.col - b.d.col || a.i - b.i).map(x => x.d);

/** A diagnostic as text, with only what the expectation `e` asserts (its message, its hints). */
function show(d: Expected, e: Expected = d): string {
  let out = `${d.file}:${d.line}:${d.col}: ${d.code}`;
  if (e.message !== undefined) out += `: ${d.message}`;
  if (e.hints) out += (d.hints ?? []).map(h => `\n  note: ${h}`).join('');
  return out;
}

const negative = files.filter(f => !f.startsWith('ok-'));
const positive = files.filter(f => f.startsWith('ok-'));

test('the corpus has at least 30 programs that must not compile, each with its expectations', t => {
  const strict = negative.filter(f => !expectations(f, readFileSync(join(dir, f), 'utf8')).knownBug);
  t.true(strict.length >= 30, `${strict.length} error programs`);
  t.true(positive.length >= 3);
  for (const f of negative) {
    t.true(expectations(f, readFileSync(join(dir, f), 'utf8')).expected.length > 0, `${f} has no // expect: lines`);
  }
  const multi = strict.filter(f => expectations(f, readFileSync(join(dir, f), 'utf8')).expected.length >= 5);
  t.true(multi.length >= 5, `programs with several errors: ${multi.join(', ')}`);
});

for (const f of negative) {
  const text = readFileSync(join(dir, f), 'utf8');
  const name = `${rel}/${f}`;
  const { expected, knownBug } = expectations(name, text);
  const run = knownBug ? test.failing : test;
  run(`${f}: ${knownBug ? `(known bug: ${knownBug}) ` : ''}every error, at its position`, t => {
    const r = compile(text, name);
    t.is(r.elf, undefined, 'no executable for a program with errors');
    const got = inSourceOrder(r.diagnostics);
    t.is(got.map((d, i) => show(d, expected[i])).join('\n'), expected.map(e => show(e)).join('\n'));
  });
}

for (const f of positive) {
  test(`${f}: compiles, passes the checker and runs`, t => {
    const name = `${rel}/${f}`;
    const r = compile(readFileSync(join(dir, f), 'utf8'), name);
    t.is(r.diagnostics.map(d => formatDiagnostic(d)).join('\n'), '');
    t.is(r.assemblerErrors, undefined);
    t.truthy(r.elf);
    const v = checkElf(r.elf!);
    t.true(v.ok, v.ok ? '' : JSON.stringify(v.error));
    const run = runProgram(r.elf!, [f], { maxInstructions: 5e6 });
    t.is(run.signal, null, run.message);
    t.is(run.status, 0, run.message);
  });
}

test('popc FILE prints every error gcc-style on stderr (position, code, message, line, caret) and exits 1', t => {
  const f = `${rel}/multi-error-functions.pop`;
  const { expected } = expectations(f, readFileSync(join(root, f), 'utf8'));
  const r = spawnSync(process.execPath, ['bin/popc.js', f], { cwd: root, encoding: 'utf8' });
  t.is(r.status, 1, r.stderr);
  t.is(r.stdout, '');
  const heads = r.stderr.split('\n').filter(l => l.startsWith(f));
  t.deepEqual(heads, expected.map(d => `${d.file}:${d.line}:${d.col}: error ${d.code}: ${d.message}`));
  // The first one in full: its line, and a caret under the column.
  t.deepEqual(r.stderr.split('\n').slice(0, 3), [
    `${f}:13:17: error P3032: struct point has no field z`,
    '   13 |   return p.x * p.z;',
    '      |                 ^',
  ]);
});

test('the format: a span is underlined with ~, and hints follow as note: lines', t => {
  const d: Diagnostic = {
    file: 'a.pop', line: 2, col: 3, code: 'P2001', message: 'unknown name print_strin', hints: ['h'], span: 11,
  };
  t.is(formatDiagnostic(d, 'void pop_main() {\n  print_strin("x");\n}\n'), [
    'a.pop:2:3: error P2001: unknown name print_strin',
    '    2 |   print_strin("x");',
    '      |   ^~~~~~~~~~~',
    'a.pop:2:3: note: h',
  ].join('\n'));
  t.is(formatDiagnostic({ ...d, hints: [] }), 'a.pop:2:3: error P2001: unknown name print_strin', 'no source: no line');
});

test('every code is unique, and docs/popcorn.md lists each with its message', t => {
  const defs = Object.values(Diag);
  t.is(new Set(defs.map(d => d.code)).size, defs.length);
  const doc = readFileSync(join(root, 'docs/popcorn.md'), 'utf8');
  for (const d of defs) t.true(doc.includes(`| ${d.code} | ${template(d)} |`), `${d.code} ${template(d)}`);
});

test('every code the corpus expects exists, and the corpus exercises most of the table', t => {
  const codes = new Set(Object.values(Diag).map(d => d.code));
  const expect = (f: string): Expected[] => expectations(f, readFileSync(join(dir, f), 'utf8')).expected;
  const used = new Set(negative.flatMap(f => expect(f).map(e => e.code)));
  for (const c of used) t.true(codes.has(c), c);
  t.true(used.size >= codes.size * 0.75, `${used.size} of ${codes.size} codes`);
});
