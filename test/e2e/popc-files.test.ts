// popc with several input files, through the command as a user runs it (`popc a.pop b.pop -o prog`, as Popcorn's
// compiler and cc take them): test/popc/popcorn/shape-queue is a queue module and its user sharing a header; the
// executable runs natively on the host's Linux and under talrun in user and kernel mode with the output and exit
// status the corpus expects. One file alone is an error naming what the other defines; an error in the second file
// is reported in that file, with a note at the first definition; with no -o the output is named after the first.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runProgram } from '../../kernel/talrun.ts';
import { runNative, scratch } from '../util/native.ts';

const root = join(import.meta.dirname, '..', '..');
const corpus = join(root, 'test/popc/popcorn');
const dir = join(corpus, 'shape-queue');
const tmp = scratch('ktal-popc-files-');
test.after.always(() => tmp.done());

/** popc run in `cwd`, as `popc ARGS`. */
const popc = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/popc.js'), ...args], { cwd, encoding: 'utf8', timeout: 120_000 });

test('popc queue.pop main.pop -o OUT: one program, the same natively, in user mode and in kernel mode', t => {
  const exe = join(tmp.dir, 'queue');
  const c = popc(dir, 'queue.pop', 'main.pop', '-o', exe);
  t.is(c.status, 0, c.stderr);
  t.is(c.stderr, '');
  const expected = readFileSync(join(corpus, 'shape-queue.out'), 'latin1');
  const status = Number(readFileSync(join(corpus, 'shape-queue.status'), 'utf8').trim());
  const native = runNative(exe);
  t.is(native.stdout, expected);
  t.is(native.status, status);
  const elf = readFileSync(exe);
  for (const kernel of [false, true]) {
    const run = runProgram(elf, ['queue'], { kernel });
    t.is(Buffer.from(run.stdout).toString('latin1'), expected, kernel ? 'kernel mode' : 'user mode');
    t.is(run.status, status, run.message);
  }
});

test('one file of the two: each function the other defines is named as declared and never defined', t => {
  const c = popc(dir, 'main.pop', '-o', join(tmp.dir, 'never'));
  t.is(c.status, 1);
  const heads = c.stderr.split('\n').filter(l => / error P\d{4}: /.test(l));
  t.deepEqual(heads.map(l => l.replace(/^.*error /, '')), [
    'P2101: global queues_made is declared extern, but no file defines it',
    'P2013: function queue_create is declared but never defined',
    'P2013: function queue_is_empty is declared but never defined',
    'P2013: function queue_push is declared but never defined',
    'P2013: function queue_pop is declared but never defined',
  ]);
  t.true(heads.every(l => l.startsWith('queue.h:')), c.stderr);
});

test('a definition in two files: the error in the second file, a note at the first; the output named after it', t => {
  const c = popc(join(root, 'test/popc/errors/shape-odr'), 'a.pop', 'b.pop');
  t.is(c.status, 1);
  t.true(c.stderr.includes('b.pop:9:5: error P2008: function helper is defined twice\n'), c.stderr);
  t.true(c.stderr.includes('b.pop:9:5: note: the first definition is at a.pop:5:5\n'), c.stderr);
  t.false(existsSync(join(root, 'test/popc/errors/shape-odr/a')));

  const ok = popc(tmp.dir, join(dir, 'queue.pop'), join(dir, 'main.pop'));
  t.is(ok.status, 0, ok.stderr);
  t.true(existsSync(join(tmp.dir, 'queue')), 'named after the first file');
});
