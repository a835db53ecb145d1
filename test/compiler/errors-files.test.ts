// popc's negative corpus for programs of several files (test/popc/errors/NAME/, compiled together as
// `popc a.pop b.pop`, in the order of NAME/FILES if present, else sorted): the errors only a whole program shows,
// such as one definition in two files. Each file opens with the comment lines of test/compiler/errors.test.ts
// (`// expect: LINE:COL: CODE[: MESSAGE]`, `// note: HINT`) for the errors in that file; popc reports a program's
// errors file by file (in the order files first get one), each file's in source order.
import test from 'ava';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compileFiles } from '../../compiler/popc.ts';
import type { Diagnostic } from '../../compiler/diagnostics.ts';

const rel = 'test/popc/errors';
const dir = join(import.meta.dirname, '..', '..', rel);
const programs = readdirSync(dir).filter(f => statSync(join(dir, f)).isDirectory()).sort();

interface Expected { file: string; line: number; col: number; code: string; message?: string; hints?: string[] }

function expectations(file: string, text: string): Expected[] {
  const out: Expected[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('//')) break;
    const m = /^\/\/ expect: (\d+):(\d+): (P\d{4})(?:: (.*))?$/.exec(line);
    if (m) out.push({ file, line: Number(m[1]), col: Number(m[2]), code: m[3], message: m[4] });
    const note = /^\/\/ note: (.*)$/.exec(line);
    if (note) (out[out.length - 1].hints ??= []).push(note[1]);
  }
  return out;
}

function show(d: Expected | Diagnostic, e: Expected): string {
  let out = `${d.file}:${d.line}:${d.col}: ${d.code}`;
  if (e.message !== undefined) out += `: ${d.message}`;
  if (e.hints) out += (d.hints ?? []).map(h => `\n  note: ${h}`).join('');
  return out;
}

test('the corpus has programs of several files', t => {
  t.true(programs.length >= 1);
  for (const p of programs) t.true(readdirSync(join(dir, p)).filter(f => f.endsWith('.pop')).length >= 2, p);
});

for (const p of programs) {
  test(`${p}/: every error of the program, in its file, at its position`, t => {
    const order = join(dir, p, 'FILES');
    const files = existsSync(order)
      ? readFileSync(order, 'utf8').split('\n').filter(l => l.trim() !== '')
      : readdirSync(join(dir, p)).filter(f => f.endsWith('.pop')).sort();
    const inputs = files.map(f => ({ file: `${rel}/${p}/${f}`, text: readFileSync(join(dir, p, f), 'utf8') }));
    const expected = inputs.flatMap(i => expectations(i.file, i.text));
    t.true(expected.length > 0, 'no // expect: lines');
    const r = compileFiles(inputs);
    t.is(r.elf, undefined, 'no executable for a program with errors');
    const sorted = (ds: readonly (Expected | Diagnostic)[]): (Expected | Diagnostic)[] => [...ds].sort((a, b) =>
      files.indexOf(a.file.split('/').pop()!) - files.indexOf(b.file.split('/').pop()!) || a.line - b.line
      || a.col - b.col);
    const want = sorted(expected) as Expected[];
    t.is(sorted(r.diagnostics).map((d, i) => show(d, want[i] ?? d)).join('\n'), want.map(e => show(e, e)).join('\n'));
  });
}
