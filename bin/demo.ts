// npm run demo: compile find (written in popc's Popcorn) and verify it; run it natively on this machine's Linux,
// then under talrun on the emulated machine in user mode (system calls trap through int 0x80) and in kernel mode
// (verified code at CPL 0, system calls are direct calls), and print the cycle difference. Then the same for the
// hand-written TAL examples, under two cost profiles; finally, the checker refusing an unsafe program, so that it
// never reaches kernel mode.
import { readFileSync, writeFileSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../tal/asm/assembler.ts';
import { checkElf } from '../tal/check/checker.ts';
import { formatCheckSummary, formatRefusal } from '../tal/messages.ts';
import { runProgram, type SyncRun } from '../kernel/talrun.ts';
import { compile } from '../compiler/popc.ts';

const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'ktal-demo-'));
const say = (s: string) => process.stdout.write(s + '\n');
const fmt = (n: number) => Math.round(n).toLocaleString('en');

try {
  {
    const src = join(root, 'compiler/examples/find.pop');
    const t0 = Date.now();
    const built = compile(readFileSync(src, 'utf8'), src);
    if (!built.elf) throw new Error(`popc failed: ${JSON.stringify(built.diagnostics)}`);
    const verdict = checkElf(built.elf);
    say(`== find: popc compiler/examples/find.pop → ${built.elf.length} bytes in ${Date.now() - t0} ms; talcheck → ` +
      `${verdict.ok ? formatCheckSummary('find', verdict.summary) : formatRefusal('find', verdict.error, built.elf)}`);
    const exe = join(work, 'find');
    writeFileSync(exe, built.elf);
    chmodSync(exe, 0o755);
    // The project's own tree, shown in the guest at the same path through a read-only host mount.
    const tree = root;
    const args = [tree, '-name', '*.ts', '-type', 'f'];
    const native = spawnSync(exe, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
    const gnu = spawnSync('find', args, { encoding: 'utf8', maxBuffer: 1 << 26 });
    say(`   native:  find ${args.join(' ')} → ${native.stdout.split('\n').length - 1} lines, exit ${native.status}; ` +
      `${native.stdout === gnu.stdout ? 'the same as GNU find' : 'DIFFERENT from GNU find'}`);
    const mounts = [{ host: tree, guest: tree, rw: false }];
    const user = runProgram(built.elf, ['find', ...args], { mounts });
    const kern = runProgram(built.elf, ['find', ...args], { mounts, kernel: true });
    const calls = [...user.syscalls.values()].reduce((a, b) => a + b, 0);
    for (const [mode, r] of [['user mode  ', user], ['kernel mode', kern]] as const) {
      const same = Buffer.from(r.stdout).toString('utf8') === native.stdout && r.status === native.status;
      say(`   talrun ${mode}: ${fmt(r.stats.instructions).padStart(12)} instructions, ` +
        `${fmt(r.stats.cycles).padStart(13)} cycles, ${r.stats.trapTotal} traps; ` +
        `${same ? 'same output' : 'DIFFERENT output'}`);
    }
    say(`   ${calls} system calls; kernel mode / user mode cycles (p4-northwood): ` +
      `${(kern.stats.cycles / user.stats.cycles).toFixed(3)}` +
      ` (${((1 - kern.stats.cycles / user.stats.cycles) * 100).toFixed(1)}% fewer; the paper measured 14% for its TAL ` +
        `find)`);
    say(`   the kernel's own work (path walks, directory records, copies), the same in both modes: ` +
      `${fmt(user.stats.kernelWork)} cycles\n`);
  }
  // cat reads a file of this machine's, shown in the guest through a read-only host mount.
  const input = join(root, 'tal/examples/hello.tal');
  const runs: [string, string[]][] = [['hello', []], ['echo', ['verified', 'code', 'runs']], ['fib', []], ['sort', []],
    ['cat', ['/host/hello.tal', '/host/hello.tal']]];
  const mounts = [{ host: join(root, 'tal/examples'), guest: '/host', rw: false }];
  say('Each example: assembled by talas, verified by talcheck, run natively, then under talrun in user mode and in');
  say('kernel mode (--kernel). Cycles are simulated (docs/machine.md); the last column is kernel / user.');
  for (const [name, args] of runs) {
    const src = join(root, 'tal/examples', `${name}.tal`);
    const exe = join(work, name);
    const { elf } = assemble(readFileSync(src, 'utf8'), src);
    writeFileSync(exe, elf);
    chmodSync(exe, 0o755);
    const r = checkElf(elf);
    say(`\n== ${name}: talas → ${elf.length} bytes; talcheck → ` +
      `${r.ok ? formatCheckSummary(name, r.summary) : formatRefusal(name, r.error, elf)}`);
    if (!r.ok) continue;
    const nativeArgs = args.map(a => a.replace('/host/', join(root, 'tal/examples') + '/'));
    const run = spawnSync(exe, nativeArgs, { encoding: 'utf8' });
    const out = run.stdout.split('\n');
    say(`   native: ${name} ${args.join(' ')}  (exit status ${run.status})`);
    for (const l of out.slice(0, 4)) if (l) say(`   | ${l}`);
    if (out.length > 5) say(`   | … (${out.length - 1} lines)`);
    for (const profile of ['p4-northwood', 'modern']) {
      const user = runProgram(elf, [name, ...args], { profile, mounts });
      const kern = runProgram(elf, [name, ...args], { profile, mounts, kernel: true });
      const same = (x: SyncRun) => Buffer.from(x.stdout).toString('utf8') === run.stdout && x.status === run.status;
      const calls = [...user.syscalls.values()].reduce((a, b) => a + b, 0);
      say(`   ${profile.padEnd(12)} user ${fmt(user.stats.cycles).padStart(11)} cycles, kernel ` +
        `${fmt(kern.stats.cycles).padStart(11)} cycles` +
        `  (${calls} system calls; ` +
          `${same(user) && same(kern) ? 'same output and status as native' : 'DIFFERENT from native'})  ` +
          `${(kern.stats.cycles / user.stats.cycles).toFixed(3)}`);
    }
  }
  const bad = join(root, 'test/negative/null-deref-untested.tal');
  const elf = assemble(readFileSync(bad, 'utf8'), bad).elf;
  say(`\n== talrun --kernel on a program that dereferences a pointer without testing it for null:`);
  const refused = runProgram(elf, ['null-deref-untested'], { kernel: true });
  say(`   exit status ${refused.status}, nothing run:\n   ${(refused.message ?? '').split('\n').join('\n   ')}`);
  void checkElf;
} finally {
  rmSync(work, { recursive: true, force: true });
}
