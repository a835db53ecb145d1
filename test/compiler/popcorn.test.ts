// The Popcorn corpus (test/popc/popcorn, issue 18): programs written in Popcorn's own idioms, as TALx86's
// distribution and its users wrote them, not in popc's dialect. Each compiles unchanged, passes the checker, and runs
// natively on the host's Linux, under talrun in user mode and in kernel mode (CPL 0), with the same standard output
// (NAME.out), standard error (NAME.err, else empty) and exit status (NAME.status, else 0), at -O0 and at -O2.
// A program is NAME.pop, or a folder NAME/ whose .pop files are compiled together (popc a.pop b.pop), in the order
// of NAME/FILES if present, else sorted. Optional NAME.args holds the arguments one per line, NAME.stdin the input.
// Files are named to popc from the repository's root (test/popc/popcorn/NAME.pop), as failures' messages show them.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { constants } from 'node:os';
import { compileFiles } from '../../compiler/popc.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { runProgram } from '../../kernel/talrun.ts';
import { scratch } from '../util/native.ts';
import { LEVELS, flag } from '../util/levels.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'test', 'popc', 'popcorn');
const names = readdirSync(DIR)
  .filter(f => f.endsWith('.pop') || statSync(join(DIR, f)).isDirectory())
  .map(f => f.replace(/\.pop$/, '')).sort();
const bin = scratch('ktal-popcorn-');
test.after.always(() => bin.done());

function optional(name: string, ext: string): Buffer | undefined {
  const p = join(DIR, `${name}.${ext}`);
  return existsSync(p) ? readFileSync(p) : undefined;
}

/** The program's source files, in the order popc is given them. */
function sources(name: string): string[] {
  const single = join(DIR, `${name}.pop`);
  if (existsSync(single)) return [single];
  const folder = join(DIR, name);
  const order = join(folder, 'FILES');
  const files = existsSync(order)
    ? readFileSync(order, 'utf8').split('\n').filter(l => l.trim() !== '')
    : readdirSync(folder).filter(f => f.endsWith('.pop')).sort();
  return files.map(f => join(folder, f));
}

test('every program of the corpus has its expected output', t => {
  t.true(names.length >= 40, `only ${names.length} programs (issue 18 asks for at least 40)`);
  for (const n of names) t.true(existsSync(join(DIR, `${n}.out`)), `${n} has no ${n}.out`);
});

for (const level of LEVELS) for (const name of names) {
  test(`${name} ${flag(level)}: compiles unchanged, verifies, and runs the same natively and in both modes`, t => {
    const files = sources(name);
    // Named from the repository's root, as a run-time failure's message names its file (NAME.err holds it).
    const r = compileFiles(files.map(f => ({ file: relative(ROOT, f), text: readFileSync(f, 'utf8') })),
      { optimise: level });
    t.deepEqual(r.diagnostics, [], 'popc reported errors');
    t.is(r.assemblerErrors, undefined, 'talas refused popc output');
    if (!r.elf) return;
    const c = checkElf(r.elf);
    t.true(c.ok, c.ok ? ''
      : `the checker refused popc's output: ${c.error.cls}: ${c.error.message} at ${c.error.insn ?? ''}`);
    if (!c.ok) return;

    // Sites in messages (a failed check, an uncaught exception) name the file as popc was given it: NAME.err names
    // it relative to the corpus.
    const local = (text: string): string => text.split(`${DIR}/`).join('').split(`${relative(ROOT, DIR)}/`).join('');
    const expected = readFileSync(join(DIR, `${name}.out`), 'latin1');
    const expectedErr = optional(name, 'err')?.toString('latin1') ?? '';
    const status = Number((optional(name, 'status')?.toString() ?? '0').trim());
    const argsText = optional(name, 'args')?.toString() ?? '';
    const args = argsText === '' ? [] : argsText.replace(/\n$/, '').split('\n');
    const stdin = optional(name, 'stdin') ?? Buffer.alloc(0);

    const exe = bin.file(`${name}${flag(level)}`, r.elf, 0o755);
    const native = spawnSync(exe, args, { input: stdin, timeout: 10_000 });
    if (native.error) throw native.error;
    t.is(native.stdout.toString('latin1'), expected, 'native stdout');
    t.is(local(native.stderr.toString('latin1')), expectedErr, 'native stderr');
    const nativeStatus = native.status ?? 128 + constants.signals[native.signal!];
    t.is(nativeStatus, status, 'native status');

    for (const kernel of [false, true]) {
      const mode = kernel ? 'kernel mode' : 'user mode';
      const run = runProgram(r.elf, [name, ...args], { stdin, kernel });
      t.is(Buffer.from(run.stdout).toString('latin1'), expected, `${mode} stdout`);
      t.is(local(Buffer.from(run.stderr).toString('latin1')), expectedErr, `${mode} stderr`);
      t.is(run.status, status, `${mode} status (${run.message ?? ''})`);
    }
  });
}
