// The positive corpus: every hand-written example under tal/examples/ assembles, verifies, and runs natively on the
// host's Linux with the expected output and exit status.
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { runNative, scratch } from '../util/native.ts';

interface Case { args?: string[]; stdin?: string; stdout: string | RegExp; stderr?: string | RegExp; status
  : number; files?: Record<string, string> }

function fibs(n: number): number[] {
  const out = [0, 1];
  while (out.length < n) out.push(out[out.length - 1] + out[out.length - 2]);
  return out.slice(0, n);
}

const dir = join(import.meta.dirname, '..', '..', 'tal', 'examples');

const cases: Record<string, Case[]> = {
  'hello.tal': [{ stdout: 'Hello, world!\n', status: 0 }],
  'fib.tal': [{ stdout: fibs(25).map(n => `${n}\n`).join(''), status: 55 }],
  'sort.tal': [{ stdout: [0, 3, 3, 7, 9, 14, 19, 25, 42, 61, 70, 88].map(n => `${n}\n`).join(''), status: 341 & 255 }],
  'list.tal': [{ stdout: Array.from({ length: 10 }, (_, i) => `${i + 1}\n`).join(''), status: 55 }],
  // raises through three frames (docs/tal.md §4.10): a bad argument is caught by main's handler
  'raise.tal': [
    { args: [], stdout: '0\n', stderr: '', status: 0 },
    { args: ['12', '30', '4', ''], stdout: '46\n', stderr: '', status: 0 },
    { args: ['4294967295', '2'], stdout: '1\n', stderr: '', status: 0 },
    { args: ['12', '3x', '4'], stdout: '', stderr: 'raise: not a number: 3x\n', status: 1 },
    { args: ['-1'], stdout: '', stderr: 'raise: not a number: -1\n', status: 1 },
  ],
  // Closures as existential packages: print, sum and count-above-3 over 3 1 4 1 5 9 2 6.
  'iter.tal': [{ stdout: '3\n1\n4\n1\n5\n9\n2\n6\n31\n4\n', stderr: '', status: 4 }],
  // A tagged-union evaluator: (3 + 4) * -(5 + One), One, Zero * 9, 6 * 7, Neg 7.
  'eval.tal': [{ stdout: '-42\n1\n0\n42\n-7\n', stderr: '', status: 5 }],
  // An abstract type with its operations, one client over two implementations.
  'bag.tal': [{ stdout: '12\n12\n', stderr: '', status: 0 }],
  'cat.tal': [
    { stdin: 'from stdin\n', stdout: 'from stdin\n', stderr: '', status: 0 },
    { args: ['a.txt', 'b.txt'], files: { 'a.txt': 'alpha\n', 'b.txt': 'beta\n' }, stdout: 'alpha\nbeta\n', stderr: '',
      status: 0 },
    { args: ['a.txt', '-', 'b.txt'], stdin: 'middle\n', files: { 'a.txt': 'A', 'b.txt': 'B' }, stdout: 'Amiddle\nB',
      status: 0 },
    { args: ['missing', 'a.txt'], files: { 'a.txt': 'still here\n' }, stdout: 'still here\n',
      stderr: 'cat: missing: No such file or directory\n', status: 1 },
    { args: ['.'], stdout: '', stderr: 'cat: .: Is a directory\n', status: 1 },
    { args: ['big.txt'], files: { 'big.txt': 'x'.repeat(200_000) + '\n' }, stdout: 'x'.repeat(200_000) + '\n',
      status: 0 },
  ],
  // serving is tested in test/e2e/echod.test.ts and test/e2e/echod-talrun.test.ts
  'echod.tal': [
    { args: [], stdout: '', stderr: 'usage: echod PORT (1..65535) [--sockperf]\n', status: 2 },
    { args: ['0'], stdout: '', stderr: 'usage: echod PORT (1..65535) [--sockperf]\n', status: 2 },
    { args: ['65536'], stdout: '', stderr: 'usage: echod PORT (1..65535) [--sockperf]\n', status: 2 },
    { args: ['80x'], stdout: '', stderr: 'usage: echod PORT (1..65535) [--sockperf]\n', status: 2 },
    { args: ['80', '--sockperfx'], stdout: '', stderr: 'usage: echod PORT (1..65535) [--sockperf]\n', status: 2 },
    { args: ['80', '--sockper'], stdout: '', stderr: 'usage: echod PORT (1..65535) [--sockperf]\n', status: 2 },
    { args: ['80', '--sockperf', 'x'], stdout: '', stderr: 'usage: echod PORT (1..65535) [--sockperf]\n', status: 2 },
    { args: ['0', '--sockperf'], stdout: '', stderr: 'usage: echod PORT (1..65535) [--sockperf]\n', status: 2 },
  ],
  'echo.tal': [
    { args: [], stdout: '\n', status: 0 },
    { args: ['hello', 'world'], stdout: 'hello world\n', status: 0 },
    { args: ['a', '', 'b c', 'ünïcödé'], stdout: 'a  b c ünïcödé\n', status: 0 },
  ],
};

const files = readdirSync(dir).filter(f => f.endsWith('.tal')).sort();

test('every example has expected runs', t => {
  for (const f of files) t.truthy(cases[f], `${f} has no cases in test/tal/examples.test.ts`);
});

for (const f of files) {
  test(`${f} verifies and runs natively`, t => {
    const { elf } = assemble(readFileSync(join(dir, f), 'utf8'), f);
    const r = checkElf(elf);
    t.true(r.ok, r.ok ? '' : `${r.error.cls}: ${r.error.message} at ${r.error.insn ?? ''}`);
    const s = scratch();
    try {
      const exe = s.file(f.replace(/\.tal$/, ''), elf, 0o755);
      for (const c of cases[f] ?? []) {
        for (const [name, content] of Object.entries(c.files ?? {})) s.file(name, content);
        const out = runNative(exe, c.args ?? [], { stdin: c.stdin, cwd: s.dir });
        const label = `${f} ${JSON.stringify(c.args ?? [])}`;
        if (typeof c.stdout === 'string') t.is(out.stdout, c.stdout, label);
        else t.regex(out.stdout, c.stdout, label);
        if (c.stderr !== undefined) {
          if (typeof c.stderr === 'string') t.is(out.stderr, c.stderr, label);
          else t.regex(out.stderr, c.stderr, label);
        }
        t.is(out.status, c.status, label);
      }
    } finally {
      s.done();
    }
  });
}
