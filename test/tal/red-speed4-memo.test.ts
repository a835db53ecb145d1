// Red team of the fourth speed round (test/red/speed.md, "speed4"): the jump memo's far map. A stack's memo
// (tal/check/checker.ts, StackMemo) keeps its first MEMO_NEAR (8) target types in a list compared by reference and
// any more in a WeakMap. One block presents one stack to many labels, each with a type of its own (the registers
// it names differ), round after round: every jump after the first to a target must be answered by the memo, the
// ninth target on as much as the first eight. A memo that forgot the far targets compares the 190-word stack again
// at each of their jumps (753,170 units for 24 targets, against 27,270; measured with the far map's store removed).
import test from 'ava';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';

const REGS = ['eax', 'ecx', 'edx', 'esi', 'edi', 'ebp'];

/**
 * One block: six registers zeroed, `cells` words pushed, then `rounds` rounds of a jne to each of `targets` labels.
 * Label i names each register as int, S(0) or not at all (the digits of i in base 3), so no two share a type, and
 * every one accepts the block's state.
 */
function farTargets(targets: number, cells: number, rounds: number): string {
  const out = ['.intel_syntax noprefix', '.tal_import exit', '.text', '.tal_label main : code[r:stack]{esp: r}',
    'main:'];
  for (const r of REGS) out.push(`    xor ${r}, ${r}`);
  for (let i = 0; i < cells; i++) out.push('    push eax');
  out.push('    test eax, eax');
  for (let k = 0; k < rounds; k++) for (let i = 0; i < targets; i++) out.push(`    jne t${i}`);
  out.push('    jmp t0');
  const stack = Array(cells).fill('int').join(' :: ');
  for (let i = 0; i < targets; i++) {
    const named = REGS.map((r, j) => [r, Math.floor(i / 3 ** j) % 3] as const).filter(([, v]) => v > 0)
      .map(([r, v]) => `${r}: ${v === 1 ? 'int' : 'S(0)'}`);
    out.push(`.tal_label t${i} : code[r:stack]{${[...named, `esp: ${stack} :: r`].join(', ')}}`, `t${i}:`,
      '    push 0', '    call DWORD PTR [exit]');
  }
  return out.join('\n') + '\n';
}

test('a stack presented to 24 targets, 120 times each: the 16 past the memo list are answered by its map', t => {
  const r = checkElf(assemble(farTargets(24, 190, 120), 'far.tal').elf);
  t.true(r.ok, r.ok ? '' : `${r.error.cls}: ${r.error.message}`);
  // 24 first jumps compared in full (about 2 units a word: 9,000), then 2,856 memo hits of a few units each.
  t.true(r.work < 40_000, `${r.work} units`);
});

test('a map target jumped to again from another state is checked again, not answered by the memo', t => {
  // Label 15 names ecx as S(0) (and edx as int): after three rounds that passed, ecx is set to 5 (S(5), not
  // int, not S(0)) with the stack object unchanged, and the jump to the 15th target must be refused.
  const src = farTargets(24, 20, 3).replace('    jmp t0', '    mov ecx, 5\n    jne t15\n    jmp t0');
  const r = checkElf(assemble(src, 'far-stale.tal').elf);
  t.false(r.ok);
  if (!r.ok) {
    t.is(r.error.cls, 'jump-type');
    t.is(r.error.message, "jump to 't15': ecx has the wrong type");
  }
  // The same jump from the state that passed is answered.
  t.true(checkElf(assemble(farTargets(24, 20, 4), 'far-ok.tal').elf).ok);
});
