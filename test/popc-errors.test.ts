// popc's negative corpus: every program under test/popc/errors/ that must not compile, with the diagnostics popc
// must give for it. Each file starts with comment lines
//   // expect: LINE:COL: MESSAGE
// one per diagnostic (all of a file's errors, not only the first), in source order. `ok-*.pop` are positive twins:
// the same constructs used correctly compile and pass the checker. A file marked `// known-bug: WHY` states what popc
// should say but does not yet; it runs as test.failing (when popc is fixed, drop the marker).
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { compile } from '../compiler/popc.ts';
import { checkElf } from '../tal/check/checker.ts';
import { runProgram } from '../kernel/talrun.ts';
import type { Diagnostic } from '../compiler/diagnostics.ts';

const root = join(import.meta.dirname, '..');
const rel = 'test/popc/errors';
const dir = join(root, rel);
const files = readdirSync(dir).filter(f => f.endsWith('.pop')).sort();

interface Expectation { expected: Diagnostic[]; knownBug?: string }

function expectations(file: string, text: string): Expectation {
  const expected: Diagnostic[] = [];
  let knownBug: string | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith('//')) break;
    const kb = /^\/\/ known-bug(?: \([^)]*\))?: (.*)$/.exec(line);
    if (kb) { knownBug = kb[1]; continue; }
    const m = /^\/\/ expect: (?:(\S+):)?(\d+):(\d+): (.*)$/.exec(line);
    if (m) expected.push({ file: m[1] ?? file, line: Number(m[2]), col: Number(m[3]), message: m[4] });
  }
  return { expected, knownBug };
}

/** popc's diagnostics in source order (stable: same-position ones keep popc's order). popc appends them pass by
 * pass (all struct names, then fields and signatures, then bodies), so a file's list is not always in line order. */
const inSourceOrder = (ds: Diagnostic[]): Diagnostic[] =>
  ds.map((d, i) => ({ d, i })).sort((a, b) => a.d.line - b.d.line || a.d.col - b.d.col || a.i - b.i).map(x => x.d);

const show = (ds: Diagnostic[]): string => ds.map(d => `${d.file}:${d.line}:${d.col}: ${d.message}`).join('\n');

const negative = files.filter(f => !f.startsWith('ok-'));
const positive = files.filter(f => f.startsWith('ok-'));

test('the corpus has at least 30 programs that must not compile, each with its expectations', t => {
  const strict = negative.filter(f => !expectations(f, readFileSync(join(dir, f), 'utf8')).knownBug);
  t.true(strict.length >= 30, `${strict.length} error programs`);
  t.true(positive.length >= 3);
  for (const f of negative) t.true(expectations(f, readFileSync(join(dir, f), 'utf8')).expected.length > 0, `${f} has no // expect: lines`);
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
    t.is(show(inSourceOrder(r.diagnostics)), show(expected));
    t.deepEqual(inSourceOrder(r.diagnostics), expected);
  });
}

for (const f of positive) {
  test(`${f}: compiles, passes the checker and runs`, t => {
    const name = `${rel}/${f}`;
    const r = compile(readFileSync(join(dir, f), 'utf8'), name);
    t.is(show(r.diagnostics), '');
    t.is(r.assemblerErrors, undefined);
    t.truthy(r.elf);
    const v = checkElf(r.elf!);
    t.true(v.ok, v.ok ? '' : JSON.stringify(v.error));
    const run = runProgram(r.elf!, [f], { maxInstructions: 5e6 });
    t.is(run.signal, null, run.message);
    t.is(run.status, 0, run.message);
  });
}

test('popc FILE prints FILE:LINE:COL: MESSAGE for every error on stderr and exits 1', t => {
  const f = `${rel}/multi-error-functions.pop`;
  const { expected } = expectations(f, readFileSync(join(root, f), 'utf8'));
  const r = spawnSync(process.execPath, ['bin/popc.js', f], { cwd: root, encoding: 'utf8' });
  t.is(r.status, 1, r.stderr);
  t.is(r.stdout, '');
  t.deepEqual(r.stderr.trimEnd().split('\n'), expected.map(d => `${d.file}:${d.line}:${d.col}: ${d.message}`));
});
