// The compile-and-run corpus (test/popc/run): every NAME.pop compiles with popc, its executable passes the checker,
// and it runs natively on the host's Linux, under talrun in user mode and under talrun in kernel mode (CPL 0), with
// the same standard output (NAME.out) and exit status (NAME.status, else 0) in all three, at -O0 and at -O2.
// Optional NAME.args holds the arguments one per line, NAME.stdin the standard input. A status above 128 is a signal
// (natively, the signal).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import { compile } from '../../compiler/popc.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { runProgram } from '../../kernel/talrun.ts';
import { scratch } from '../util/native.ts';
import { LEVELS, flag } from '../util/levels.ts';

const DIR = join(import.meta.dirname, '..', 'popc', 'run');
const names = readdirSync(DIR).filter(f => f.endsWith('.pop')).map(f => f.slice(0, -4)).sort();
const bin = scratch('ktal-popc-run-');
test.after.always(() => bin.done());

function optional(name: string, ext: string): Buffer | undefined {
  const p = join(DIR, `${name}.${ext}`);
  return existsSync(p) ? readFileSync(p) : undefined;
}

test('the corpus has at least 50 programs, each with its expected output', t => {
  t.true(names.length >= 50, `only ${names.length} programs`);
  for (const n of names) t.true(existsSync(join(DIR, `${n}.out`)), `${n}.pop has no ${n}.out`);
});

for (const level of LEVELS) for (const name of names) {
  test(`${name} ${flag(level)}: compiles, verifies, and runs the same natively, in user mode and in kernel mode`, t => {
    const file = join(DIR, `${name}.pop`);
    const r = compile(readFileSync(file, 'utf8'), file, { optimise: level });
    t.deepEqual(r.diagnostics, [], 'popc reported errors');
    t.is(r.assemblerErrors, undefined, 'talas refused popc output');
    if (!r.elf) return;
    const c = checkElf(r.elf);
    t.true(c.ok, c.ok ? ''
      : `the checker refused popc's output: ${c.error.cls}: ${c.error.message} at ${c.error.insn ?? ''}`);
    if (!c.ok) return;

    const expected = readFileSync(join(DIR, `${name}.out`), 'utf8');
    const status = Number((optional(name, 'status')?.toString() ?? '0').trim());
    const argsText = optional(name, 'args')?.toString() ?? '';
    const args = argsText === '' ? [] : argsText.replace(/\n$/, '').split('\n');
    const stdin = optional(name, 'stdin') ?? Buffer.alloc(0);

    const exe = bin.file(`${name}${flag(level)}`, r.elf, 0o755);
    const native = spawnSync(exe, args, { input: stdin, timeout: 10_000 });
    if (native.error) throw native.error;
    t.is(native.stdout.toString('latin1'), expected, 'native stdout');
    // A signal counts as a shell reports it (128 + its number), as talrun does.
    const nativeStatus = native.status ?? 128 + constants.signals[native.signal!];
    t.is(nativeStatus, status, `native status (stderr: ${native.stderr.toString()})`);

    for (const kernel of [false, true]) {
      const mode = kernel ? 'kernel mode' : 'user mode';
      const run = runProgram(r.elf, [name, ...args], { stdin, kernel });
      t.is(Buffer.from(run.stdout).toString('latin1'), expected, `${mode} stdout`);
      t.is(run.status, status, `${mode} status (${run.message ?? Buffer.from(run.stderr).toString()})`);
      t.is(Buffer.from(run.stderr).toString('latin1'), native.stderr.toString('latin1'), `${mode} stderr`);
    }
  });
}
