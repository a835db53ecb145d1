// The programs written in popc's Popcorn (compiler/examples: echo, cat, wc, ls) against GNU coreutils on the same
// input: compiled (at -O0 and at -O2), verified, run natively and under talrun in user and kernel mode, with the
// same output and status.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../../compiler/popc.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { runProgram } from '../../kernel/talrun.ts';
import { LEVELS, flag, type Level } from '../util/levels.ts';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'ktal-popx-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));
mkdirSync(join(work, 'dir'));
writeFileSync(join(work, 'dir', 'one.txt'), 'one line\n');
writeFileSync(join(work, 'dir', 'two.txt'), 'two words\nand  more\t words here\n\nend');
writeFileSync(join(work, 'dir', '.hidden'), 'h');
writeFileSync(join(work, 'big.txt'),
  Array.from({ length: 5000 }, (_, i) => `line ${i} ${'w '.repeat(i % 7)}\n`).join(''));

function build(name: string, level: Level): Uint8Array {
  const source = readFileSync(join(root, 'compiler/examples', `${name}.pop`), 'utf8');
  const r = compile(source, `${name}.pop`, { optimise: level });
  if (!r.elf) throw new Error(`${name}: ${JSON.stringify(r.diagnostics)} ${r.assemblerErrors ?? ''}`);
  return r.elf;
}

interface Case { prog: string; args: string[]; stdin?: string; gnu: string[] }
const cases: Case[] = [
  { prog: 'echo', args: ['hello', 'popcorn', 'a b'], gnu: ['echo', 'hello', 'popcorn', 'a b'] },
  { prog: 'echo', args: [], gnu: ['echo'] },
  { prog: 'cat', args: ['dir/one.txt', 'dir/two.txt', 'big.txt'],
    gnu: ['cat', 'dir/one.txt', 'dir/two.txt', 'big.txt'] },
  { prog: 'cat', args: ['-', 'missing', 'dir/one.txt'], stdin: 'from stdin\n',
    gnu: ['cat', '-', 'missing', 'dir/one.txt'] },
  { prog: 'cat', args: [], stdin: 'only stdin', gnu: ['cat'] },
  { prog: 'wc', args: ['dir/one.txt', 'dir/two.txt', 'big.txt'], gnu: ['wc', 'dir/one.txt', 'dir/two.txt', 'big.txt'] },
  { prog: 'wc', args: ['dir/two.txt'], gnu: ['wc', 'dir/two.txt'] },
  { prog: 'wc', args: [], stdin: 'abc def\nghi\n', gnu: ['wc'] },
  { prog: 'ls', args: ['dir'], gnu: ['sh', '-c', 'ls -f dir | grep -v "^\\."'] },
  { prog: 'ls', args: ['-a', 'dir'], gnu: ['ls', '-f', 'dir'] },
];

for (const level of LEVELS) {
  const elfs = new Map<string, Uint8Array>();
  for (const name of ['echo', 'cat', 'wc', 'ls']) elfs.set(name, build(name, level));

  test(`every example compiles at ${flag(level)} and verifies`, t => {
    for (const [name, elf] of elfs) t.true(checkElf(elf).ok, name);
  });

  for (const c of cases) casePerLevel(c, level, elfs);
}

function casePerLevel(c: Case, level: Level, elfs: Map<string, Uint8Array>): void {
  test(`${c.prog} ${flag(level)} ${c.args.join(' ')}: native, user and kernel mode agree with GNU ${c.gnu[0]}`, t => {
    const exe = join(work, `${c.prog}${flag(level)}`);
    writeFileSync(exe, elfs.get(c.prog)!);
    chmodSync(exe, 0o755);
    const opt = { cwd: work, input: c.stdin ?? '', encoding: 'latin1' as const, env: { ...process.env, LC_ALL: 'C' } };
    const gnu = spawnSync(c.gnu[0], c.gnu.slice(1), opt);
    const nat = spawnSync(exe, c.args, opt);
    t.is(nat.stdout, gnu.stdout);
    t.is(nat.status, gnu.status);
    if (c.prog === 'cat') t.is(nat.stderr, gnu.stderr.replace(/'/g, ''));
    for (const kernel of [false, true]) {
      const r = runProgram(elfs.get(c.prog)!, [c.prog, ...c.args], {
        kernel, cwd: work, mounts: [{ host: work, guest: work, rw: false }], stdin: Buffer.from(c.stdin ?? ''),
      });
      // Under talrun the host tree is a hostfs mount, which lists . and .. first (Node cannot tell where the host's
      // getdents puts them: kernel/README.md, "Not done"); every other name comes in the host's order.
      const dots = c.args.includes('-a') ? (s: string) => s.split('\n').filter(l => l !== '.' && l !== '..').join('\n')
        : (s: string) => s;
      t.is(dots(Buffer.from(r.stdout).toString('latin1')), dots(gnu.stdout),
        `${kernel ? 'kernel' : 'user'} mode stdout`);
      t.is(r.status, gnu.status ?? -1, `${kernel ? 'kernel' : 'user'} mode status`);
    }
  });
}
