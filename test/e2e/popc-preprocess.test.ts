// popc's preprocessor end to end, through the command as a user runs it: test/popc/preprocess/shapes.pop uses
// macros, conditionals on -D/-U, a header next to it, a guarded header on -I and the library as <core.h>; its
// executable runs natively on the host's Linux, under talrun in user mode and in kernel mode, with the same output
// (shapes.out). Other -D values take the other branches; a missing -D reaches #error; an error in a header on -I
// is reported in the header, at the macro's invocation, with the note gcc gives.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runProgram } from '../../kernel/talrun.ts';
import { runNative, scratch } from '../util/native.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = join(root, 'test/popc/preprocess');
const tmp = scratch('ktal-popc-pp-');
test.after.always(() => tmp.done());

/** popc run in the fixture's directory, as `popc ARGS`. */
const popc = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/popc.js'), ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });

test('macros, conditionals and headers on -I: the same output natively, in user mode and in kernel mode', t => {
  const exe = join(tmp.dir, 'shapes');
  const c = popc('shapes.pop', '-I', 'include', '-D', 'SIDES=4', '-D', 'VERBOSE', '-U', 'UNUSED', '-o', exe);
  t.is(c.status, 0, c.stderr);
  t.is(c.stderr, '');
  const expected = readFileSync(join(dir, 'shapes.out'), 'utf8');
  const native = runNative(exe);
  t.is(native.stdout, expected);
  t.is(native.status, 0);
  const elf = readFileSync(exe);
  for (const kernel of [false, true]) {
    const run = runProgram(elf, ['shapes'], { kernel });
    t.is(Buffer.from(run.stdout).toString('latin1'), expected, kernel ? 'kernel mode' : 'user mode');
    t.is(run.status, 0, run.message);
  }
});

test('-DSIDES=3 chooses the #elif branch; -U removes a -D; without -D SIDES the program stops at #error', t => {
  const exe = join(tmp.dir, 'triangle');
  // cc's attached spellings too.
  const c = popc('shapes.pop', '-Iinclude', '-DSIDES=3', '-DUNUSED', '-UUNUSED', '-o', exe);
  t.is(c.status, 0, c.stderr);
  const out = runNative(exe).stdout;
  t.true(out.includes('((3 + 1) * (3 + 1)) = 16\n'), out);
  t.true(out.includes('a triangle\n'), out);
  t.false(out.includes('UNUSED'), out);

  const missing = popc('shapes.pop', '-I', 'include', '-o', join(tmp.dir, 'never'));
  t.is(missing.status, 1);
  t.deepEqual(missing.stderr.split('\n').slice(0, 3), [
    'shapes.pop:11:1: error P0009: #error compile with -D SIDES=N',
    '   11 | #error compile with -D SIDES=N',
    '      | ^',
  ]);
  const noHeader = popc('shapes.pop', '-D', 'SIDES=4');
  t.is(noHeader.status, 1);
  t.regex(noHeader.stderr, /^shapes\.pop:6:1: error P1010: cannot find include file <shapes\.h>/);
});

test('an error in a header on -I names the header, its line and the macro invocation', t => {
  const r = popc('bad-header.pop', '-I', 'include', '-o', join(tmp.dir, 'never'));
  t.is(r.status, 1);
  t.deepEqual(r.stderr.trimEnd().split('\n'), [
    'include/broken.h:3:25: error P3025: + needs numbers, not string and string',
    '    3 | void broken() { int s = DOUBLE("no"); }',
    '      |                         ^',
    "include/broken.h:3:25: note: in expansion of macro 'DOUBLE'",
  ]);
});

test('-D and -U take identifiers: anything else is a usage error (exit 2)', t => {
  const r = popc('shapes.pop', '-D', '2BAD=1');
  t.is(r.status, 2);
  t.is(r.stderr, 'popc: -D 2BAD: a macro name is an identifier\n');
});

test('an error inside an expansion is shown at the invocation, with a caret and no underline of the name', t => {
  const r = spawnSync(process.execPath, [join(root, 'bin/popc.js'), 'test/popc/errors/pp-error-in-macro.pop'],
    { cwd: root, encoding: 'utf8', timeout: 120_000 });
  t.is(r.status, 1);
  t.deepEqual(r.stderr.trimEnd().split('\n').slice(4), [
    'test/popc/errors/pp-error-in-macro.pop:8:12: error P2001: unknown name undefined_name',
    '    8 | void g() { CALL; }',
    '      |            ^',
    "test/popc/errors/pp-error-in-macro.pop:8:12: note: in expansion of macro 'CALL'",
  ]);
});
