// find written in popc against GNU find: on a generated tree of some 500 entries (files, directories, symbolic
// links (one dangling), empty directories, deep nesting, names with spaces and non-ASCII bytes, an unreadable
// directory; 2,000 entries with KTAL_LONG=1) and on a real tree of this machine (/usr/include/linux, or with
// KTAL_LONG=1 /usr/share/doc), for a table of argument combinations, popc's find
// natively, under talrun in user mode and under talrun --kernel (the tree through --mount, at the same path) prints
// exactly what GNU find prints (LC_ALL=C, so its quotes are ASCII), on stdout and stderr, with the same status;
// find compiled at each of popc's levels (-O0, the stack machine, and -O2, the optimiser).
// The runs are as uid 1000 when the tests run as root, so that the unreadable directory really is unreadable.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync,
  existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../../compiler/popc.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { runProgram } from '../../kernel/talrun.ts';
import { LEVELS, flag, type Level } from '../util/levels.ts';

const root = join(import.meta.dirname, '..', '..');
const asRoot = process.getuid?.() === 0;
const uid = asRoot ? 1000 : undefined;

const work = mkdtempSync(join(tmpdir(), 'ktal-find-'));
chmodSync(work, 0o755);
test.after.always(() => {
  spawnSync('chmod', ['-R', 'u+rwx', work]);
  rmSync(work, { recursive: true, force: true });
});

const source = readFileSync(join(root, 'compiler/examples/find.pop'), 'utf8');
/** find at each level: the compilation, the executable and where it is written for native runs. */
const builds = new Map(LEVELS.map(level => {
  const built = compile(source, 'find.pop', { optimise: level });
  const exe = join(work, `find${flag(level)}`);
  if (built.elf) { writeFileSync(exe, built.elf); chmodSync(exe, 0o755); }
  return [level, { built, elf: built.elf!, exe }] as const;
}));

const LONG = process.env.KTAL_LONG === '1';

/** A deterministic tree: about 2,000 entries with KTAL_LONG=1, about 500 in the default run (the same shapes). */
function makeTree(dir: string): number {
  let seed = 12345;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const names = ['alpha', 'beta', 'gamma', 'delta', 'notes.txt', 'data.bin', 'a b c', 'caf\u00e9', 'x.c', 'README',
    '.hidden', 'zeta.txt'];
  let count = 0;
  const fill = (d: string, depth: number): void => {
    const n = depth === 0 ? (LONG ? 24 : 6) : 3 + rnd(10);
    for (let i = 0; i < n; i++) {
      const name = `${names[rnd(names.length)]}${i}`;
      const p = join(d, name);
      const kind = rnd(10);
      count++;
      if (kind < 4 || depth >= 4) writeFileSync(p, 'x'.repeat(rnd(100)));
      else if (kind < 8) { mkdirSync(p); fill(p, depth + 1); }
      else if (kind < 9) mkdirSync(p); // empty
      else symlinkSync(rnd(2) ? names[0] + '0' : 'nowhere', p);
    }
  };
  fill(dir, 0);
  // Deep nesting, a name with a raw non-UTF-8 byte, a directory nobody else may read.
  let deep = dir;
  for (let i = 0; i < 30; i++) { deep = join(deep, `d${i}`); mkdirSync(deep); count++; }
  writeFileSync(join(deep, 'bottom.txt'), 'deep'); count++;
  writeFileSync(Buffer.concat([Buffer.from(dir + '/raw-'), Buffer.from([0xe9, 0xff]), Buffer.from('.txt')]),
    'raw'); count++;
  const locked = join(dir, 'locked');
  mkdirSync(locked); count++;
  writeFileSync(join(locked, 'secret.txt'), 's'); count++;
  chmodSync(locked, 0o700);
  return count;
}

const tree = join(work, 'tree');
mkdirSync(tree);
const entries = makeTree(tree);

interface Run { stdout: string; stderr: string; status: number | null }

function gnu(args: string[], cwd: string): Run {
  const r = spawnSync('find', args,
    { cwd, uid, gid: uid, env: { ...process.env, LC_ALL: 'C' }, encoding: 'latin1', maxBuffer: 1 << 28 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}
function native(level: Level, args: string[], cwd: string): Run {
  const r = spawnSync(builds.get(level)!.exe, args, { cwd, uid, gid: uid, encoding: 'latin1', maxBuffer: 1 << 28 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}
function emulated(level: Level, args: string[], cwd: string, kernel: boolean, mount: string): Run {
  const r = runProgram(builds.get(level)!.elf, ['find', ...args],
    { kernel, uid, gid: uid, cwd, mounts: [{ host: mount, guest: mount, rw: false }] });
  return { stdout: Buffer.from(r.stdout).toString('latin1'), stderr: Buffer.from(r.stderr).toString('latin1'),
    status: r.status };
}

function compareAll(t: import('ava').ExecutionContext, level: Level, args: string[], cwd: string, mount: string): void {
  const want = gnu(args, cwd);
  const runs: [string, Run][] = [
    ['native', native(level, args, cwd)],
    ['user', emulated(level, args, cwd, false, mount)],
    ['kernel', emulated(level, args, cwd, true, mount)],
  ];
  for (const [mode, got] of runs) {
    t.is(got.stdout, want.stdout, `${mode}: find ${args.join(' ')}: stdout`);
    t.is(got.stderr, want.stderr, `${mode}: find ${args.join(' ')}: stderr`);
    t.is(got.status, want.status, `${mode}: find ${args.join(' ')}: status`);
  }
}

for (const level of LEVELS) {
  const { built, elf: findElf } = builds.get(level)!;
  test(`popc ${flag(level)} compiles find and the checker accepts it`, t => {
    t.deepEqual(built.diagnostics, []);
    t.truthy(findElf);
    t.true(checkElf(findElf).ok);
  });

  const combos: string[][] = [
    [], ['-name', '*.txt'], ['-type', 'd'], ['-type', 'f', '-name', 'a*'], ['-maxdepth', '2'], ['-mindepth', '3'],
    ['-type', 'l'], ['-name', '[a-c]*'], ['-maxdepth', '1', '-type', 'd'], ['-name', '*e?[0-9]'],
    ['-name', 'a b c*', '-print'],
    ['-mindepth', '1', '-maxdepth', '1', '-name', '*'],
  ];

  test(`find ${flag(level)} on a generated tree of ${entries} entries: identical to GNU find in every mode`, t => {
    t.true(entries >= (LONG ? 1000 : 300), `${entries} entries`);
    for (const args of combos) compareAll(t, level, ['tree', ...args], work, work);
    // Starting points: several, one missing, one with a trailing slash, one a symbolic link.
    compareAll(t, level, ['tree/locked', 'missing', 'tree/', 'tree/alpha0', '-maxdepth', '1'], work, work);
    compareAll(t, level, [join(tree, 'locked')], work, work);
  });

  // A real tree of this machine: /usr/share/doc (thousands of entries) with KTAL_LONG=1; by default the kernel's
  // uapi headers (some 800 entries; .ci/run installs them), else /usr/share/doc.
  const real = [...(LONG ? [] : ['/usr/include/linux']), '/usr/share/doc'].find(existsSync);
  test(`find ${flag(level)} on a real tree (${real ?? 'none here'}): identical to GNU find in every mode`, t => {
    if (!real) return t.pass('no /usr/include/linux or /usr/share/doc here');
    const argLists = [[real], [real, '-name', '*.gz'], [real, '-maxdepth', '2', '-type', 'd'], [real, '-type', 'l']];
    for (const args of argLists) {
      compareAll(t, level, args, '/', real);
    }
  });

  test(`find ${flag(level)}: bad arguments: GNU-style messages and status 1`, t => {
    const argLists = [['tree', '-frobnicate'], ['tree', '-maxdepth'], ['tree', '-maxdepth', 'x'],
      ['tree', '-type', 'q']];
    for (const args of argLists) {
      const r = native(level, args, work);
      t.is(r.status, 1);
      t.regex(r.stderr, /^find: /);
      t.is(r.stdout, '');
    }
  });
}
