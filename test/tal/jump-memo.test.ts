// The memo of jumps that passed (Checker.passedBefore) must not keep alive what the pass builds and drops. A file
// whose blocks each build four stacks of 768 fresh cells (sub esp, 1020; push eax, three times) and jump with each to
// a label of their own, then drop them: a memo that holds its entries' stacks strongly keeps every cell (about one
// per unit of the work budget, 64 bytes each), where the pass before the memo held one block's stack at a time. At
// 1,500 blocks (a 600 KB file, 4.6 million cells) that is some 300 MB: the checker, given a 192 MB heap, must still
// decide the file (a strong memo dies of heap exhaustion, an uncatchable abort; in the kernel, exec runs the checker
// in the process that runs the whole machine). A larger file does the same to the default heap (about 8 MB: 4 GB).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';

/** `targets` labels, each jumped to with `entries` stacks of 256 × `subs` fresh cells, dropped after the jump. */
export function retention(targets: number, entries: number, subs: number): string {
  const out = ['.intel_syntax noprefix', '.tal_import exit', '.text', '.tal_label main : code[r:stack]{esp: r}',
    'main:',
    '    xor eax, eax', '    test eax, eax'];
  for (let i = 0; i < targets; i++) {
    out.push(`    mov ebx, ${i}`);
    for (let e = 0; e < entries; e++) {
      for (let s = 0; s < subs; s++) out.push('    sub esp, 1020', '    push eax');
      out.push(`    jne s${i}`, `    add esp, ${1024 * subs}`);
    }
  }
  out.push('    push 0', '    call DWORD PTR [exit]');
  for (let i = 0; i < targets; i++) out.push(`.tal_label s${i} : code[r:stack]{ebx: S(${i}), esp: r}`, `s${i}:`,
    '    push 0', '    call DWORD PTR [exit]');
  return out.join('\n') + '\n';
}

test('the jump memo keeps no dropped stack alive: 4.6 million cells built and dropped, decided in a 192 MB heap', t => {
  const elf = assemble(retention(1500, 4, 3), 'retention.tal').elf;
  const dir = mkdtempSync(join(tmpdir(), 'ktal-memo-'));
  try {
    const file = join(dir, 'retention');
    writeFileSync(file, elf);
    const r = spawnSync(process.execPath,
      ['--max-old-space-size=192', '--import=tsx', join(import.meta.dirname, '..', 'util', 'check-file.ts'), file],
      { encoding: 'utf8', timeout: 240_000 });
    t.is(r.status, 0,
      `the checker died: signal ${r.signal}, ` +
      `${r.stderr.split('\n').filter(l => /heap|memory/i.test(l)).slice(0, 2).join(' ')}`);
    t.like(JSON.parse(r.stdout), { ok: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * `jumps` conditional jumps from one state to a label whose stack type names `cells` words: each compared in full, the
 * file needs about 2·cells units per jump (3,000 jumps over 190 words: 1.1 million, twice its budget of 587,104, and
 * the checker at ca8310a refuses it as too-complex); remembered, one comparison and then a few units per jump.
 */
function repeatedJumps(cells: number, jumps: number): string {
  const out = ['.intel_syntax noprefix', '.tal_import exit', '.text', '.tal_label main : code[r:stack]{esp: r}',
    'main:', '    xor eax, eax'];
  for (let i = 0; i < cells; i++) out.push('    push eax');
  out.push('    test eax, eax');
  for (let i = 0; i < jumps; i++) out.push('    jne use');
  out.push('    jmp use', `.tal_label use : code[r:stack]{esp: ${Array(cells).fill('int').join(' :: ')} :: r}`, 'use:',
    '    push 0', '    call DWORD PTR [exit]');
  return out.join('\n') + '\n';
}

test('the memo answers a repeated jump: 3,000 jumps from one state over a 190-word stack type cost a few units each',
  t => {
  const r = checkElf(assemble(repeatedJumps(190, 3000), 'repeated.tal').elf);
  t.true(r.ok, r.ok ? '' : `${r.error.cls}: ${r.error.message}`);
  t.true(r.work < 20_000, `${r.work} units`);
});
