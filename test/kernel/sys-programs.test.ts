// The system-call programs (test/programs/sys, listed in test/util/sysprograms.ts): each assembles, verifies and
// runs natively on the host's Linux with the expected output and exit status, in a fresh fixture directory.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { IMPORTS } from '../../tal/interface.ts';
import { scratch } from '../util/native.ts';
import { SYS_PROGRAMS, makeFixture, normalizeStdout, type SysProgram } from '../util/sysprograms.ts';

const fixture = makeFixture();
const bin = scratch('ktal-sysbin-');
chmodSync(bin.dir, 0o755); // the programs that run as another user must be able to reach their executables
test.after.always(() => {
  fixture.done();
  bin.done();
});

const isRoot = process.getuid?.() === 0;
/** Natively a program runs as another user only when we are root (or already that user). */
function canRunAs(p: SysProgram): boolean {
  return isRoot
    || ((p.uid === undefined || p.uid === process.getuid?.()) && (p.gid === undefined || p.gid === process.getgid?.()));
}

const executables = new Map<string, string>();
function executable(source: string): string {
  let exe = executables.get(source);
  if (!exe) {
    const { elf } = assemble(readFileSync(source, 'utf8'), source);
    const r = checkElf(elf);
    if (!r.ok) throw new Error(`${source} does not verify: ${r.error.cls}: ${r.error.message} at ${r.error.insn ?? ''}`);
    exe = bin.file(basename(source, '.tal'), elf, 0o755);
    executables.set(source, exe);
  }
  return exe;
}

test('every program in test/programs/sys is in the list, and the names are unique', t => {
  const listed = new Set(SYS_PROGRAMS.map(p => basename(p.source)));
  const files = readdirSync(join(import.meta.dirname, '..', 'programs', 'sys')).filter(f => f.endsWith('.tal'));
  for (const f of files) t.true(listed.has(f), `${f} is not in test/util/sysprograms.ts`);
  t.is(new Set(SYS_PROGRAMS.map(p => p.name)).size, SYS_PROGRAMS.length);
});

test('every system-call import is called by some program', t => {
  const used = new Set(SYS_PROGRAMS.flatMap(p =>
    [...readFileSync(p.source,
      'utf8').matchAll(/^\.tal_import (.*)$/gm)].flatMap(m => m[1].split(',').map(s => s.trim()))));
  for (const imp of IMPORTS) if (imp.syscall !== undefined) t.true(used.has(imp.name),
    `no program in test/programs/sys calls ${imp.name}`);
});

for (const p of SYS_PROGRAMS) {
  test(`${p.name}: verifies and runs natively with the expected output`, t => {
    const exe = executable(p.source);
    if (!canRunAs(p)) {
      t.log(`skipped the run: it needs uid ${p.uid} gid ${p.gid}, and we are not root`);
      t.pass();
      return;
    }
    const r = spawnSync(exe, p.args(fixture.dir),
      { cwd: fixture.dir, uid: p.uid, gid: p.gid, encoding: 'utf8', timeout: 10_000 });
    if (r.error) throw r.error;
    t.is(normalizeStdout(p, r.stdout), normalizeStdout(p, p.expectedStdout(fixture.dir)));
    t.is(r.stderr, '');
    t.is(r.signal, null);
    t.is(r.status, p.expectedStatus);
  });
}
