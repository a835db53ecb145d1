// npm run demo: assemble each example, verify it, show a refusal, run the verified programs natively and on the
// emulated machine (user mode, CPL 3) with its counters priced under two cost profiles.
// (The kernel-mode half of the demo — find in user mode against kernel mode — arrives with talrun.)
import { readFileSync, writeFileSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../tal/asm/assembler.ts';
import { checkElf, formatCheckError, formatCheckSummary } from '../tal/check/checker.ts';
import { runElf } from '../emulator/run.ts';
import { profileByName } from '../emulator/profiles.ts';

const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'ktal-demo-'));
const say = (s: string) => process.stdout.write(s + '\n');

try {
  // cat reads its standard input: the emulator's minimal monitor has no file system yet (that is the kernel's).
  const catInput = readFileSync(join(root, 'tal/examples/hello.tal'), 'utf8');
  const runs: [string, string[], string?][] = [['hello', []], ['echo', ['verified', 'code', 'runs']], ['fib', []], ['cat', [], catInput]];
  for (const [name, args, stdin] of runs) {
    const src = join(root, 'tal/examples', `${name}.tal`);
    const exe = join(work, name);
    const { elf } = assemble(readFileSync(src, 'utf8'), src);
    writeFileSync(exe, elf);
    chmodSync(exe, 0o755);
    const r = checkElf(elf);
    say(`\n== ${name}: talas → ${elf.length} bytes; talcheck → ${r.ok ? formatCheckSummary(name, r.summary) : formatCheckError(name, r.error)}`);
    if (!r.ok) continue;
    const run = spawnSync(exe, [...args], { encoding: 'utf8', input: stdin ?? '' });
    const out = run.stdout.split('\n');
    say(`   native run: ${name} ${args.join(' ')}${stdin ? ' < hello.tal' : ''}  (exit status ${run.status})`);
    for (const l of out.slice(0, 6)) if (l) say(`   | ${l}`);
    if (out.length > 7) say(`   | … (${out.length - 1} lines)`);
    const input = new TextEncoder().encode(stdin ?? '');
    // One run per profile (the machine charges cycles as it goes); the first also gives the comparison with native.
    const [p4, pti] = ['p4-northwood', 'modern-pti'].map(prof => ({ prof, r: runElf(elf, { argv: [name, ...args], stdin: input, profile: profileByName(prof) }) }));
    const emu = p4.r;
    const same = Buffer.from(emu.stdout).toString('utf8') === run.stdout && emu.exitCode === run.status;
    say(`   emulated, CPL 3: ${same ? 'same output and exit status as native' : 'DIFFERENT from native'}; ${emu.stats.instructions.toLocaleString('en')} instructions, ${emu.stats.trapTotal} traps (system calls through int 0x80)`);
    for (const { prof, r } of [p4, pti]) say(`     ${prof.padEnd(13)} ${Math.round(r.stats.cycles).toLocaleString('en')} cycles`);
  }
  const bad = join(root, 'test/negative/null-deref-untested.tal');
  const r = checkElf(assemble(readFileSync(bad, 'utf8'), bad).elf);
  say(`\n== a program that dereferences a pointer without testing it for null:`);
  say(r.ok ? 'ACCEPTED (this is a bug)' : formatCheckError('null-deref-untested', r.error));
} finally {
  rmSync(work, { recursive: true, force: true });
}
