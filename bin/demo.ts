// npm run demo: assemble each example, verify it, show a refusal, and run the verified programs natively.
// (The kernel-mode half of the demo — find in user mode against kernel mode — arrives with talrun.)
import { readFileSync, writeFileSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../tal/asm/assembler.ts';
import { checkElf, formatCheckError, formatCheckSummary } from '../tal/check/checker.ts';

const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'ktal-demo-'));
const say = (s: string) => process.stdout.write(s + '\n');

try {
  for (const [name, args] of [['hello', []], ['echo', ['verified', 'code', 'runs']], ['fib', []], ['cat', [join(root, 'tal/examples/hello.tal')]]] as const) {
    const src = join(root, 'tal/examples', `${name}.tal`);
    const exe = join(work, name);
    const { elf } = assemble(readFileSync(src, 'utf8'), src);
    writeFileSync(exe, elf);
    chmodSync(exe, 0o755);
    const r = checkElf(elf);
    say(`\n== ${name}: talas → ${elf.length} bytes; talcheck → ${r.ok ? formatCheckSummary(name, r.summary) : formatCheckError(name, r.error)}`);
    if (!r.ok) continue;
    const run = spawnSync(exe, [...args], { encoding: 'utf8' });
    const out = run.stdout.split('\n');
    say(`   native run: ${name} ${args.join(' ')}  (exit status ${run.status})`);
    for (const l of out.slice(0, 6)) if (l) say(`   | ${l}`);
    if (out.length > 7) say(`   | … (${out.length - 1} lines)`);
  }
  const bad = join(root, 'test/negative/null-deref-untested.tal');
  const r = checkElf(assemble(readFileSync(bad, 'utf8'), bad).elf);
  say(`\n== a program that dereferences a pointer without testing it for null:`);
  say(r.ok ? 'ACCEPTED (this is a bug)' : formatCheckError('null-deref-untested', r.error));
} finally {
  rmSync(work, { recursive: true, force: true });
}
