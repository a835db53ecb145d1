// The checker's bounds facts (idx <u length(arr), learned from cmp and a conditional jump, docs/tal.md §4.4) for every
// pair of registers: the state keeps them as a 64-bit set in two integers (check/checker.ts, State.boundsLo and
// boundsHi), where a pair's bit depends on both registers, so each pair is tried, in both orders of the comparison.
// The rule is the specification's: after `cmp idx, [arr]; jae` (or `cmp [arr], idx; jbe`) the element access
// [arr+idx*4+4] is allowed on the fall-through edge; a write to idx or to arr ends the fact (the access is refused as
// unchecked-index); a write to any other register leaves it.
import test from 'ava';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { REG32_NAMES, ESP } from '../../tal/x86/insn.ts';

/** Every register but esp, by number. */
const REGS = [0, 1, 2, 3, 5, 6, 7];

/** An array in `arr`, index 0 in `idx`, the bounds test, then `between` (lines), then a load of element idx. */
function program(idx: number, arr: number, idxFirst: boolean, between: string[]): string {
  const [i, a] = [REG32_NAMES[idx], REG32_NAMES[arr]];
  // The loaded element goes to a third register: neither idx nor arr.
  const dest = REG32_NAMES[REGS.find(r => r !== idx && r !== arr)!];
  return [
    '.intel_syntax noprefix',
    '.tal_import exit, tal_new_array',
    '.text',
    '.tal_label main : code[r:stack]{esp: r}',
    'main:',
    '    push 0',
    '    push 4',
    '    call DWORD PTR [tal_new_array]',
    '    add esp, 8',
    ...(a === 'eax' ? [] : [`    mov ${a}, eax`]),
    `    xor ${i}, ${i}`,
    ...(idxFirst ? [`    cmp ${i}, DWORD PTR [${a}]`, '    jae out']
      : [`    cmp DWORD PTR [${a}], ${i}`, '    jbe out']),
    ...between,
    `    mov ${dest}, DWORD PTR [${a}+${i}*4+4]`,
    '.tal_label out : code[r:stack]{esp: r}',
    'out:',
    '    push 0',
    '    call DWORD PTR [exit]',
  ].join('\n') + '\n';
}

function verdict(text: string): string {
  const r = checkElf(assemble(text, 'bounds.tal').elf);
  return r.ok ? 'ok' : r.error.cls;
}

test('a bounds fact holds for every pair of registers, and only a write to one of the pair ends it', t => {
  let tried = 0;
  for (const idx of REGS) {
    for (const arr of REGS) {
      if (idx === arr) continue;
      const idxFirst = (idx + arr) % 2 === 0;
      const other = REGS.find(r => r !== idx && r !== arr && r !== ESP)!;
      const cases: [string, string[], string][] = [
        ['nothing between', [], 'ok'],
        ['another register written', [`    mov ${REG32_NAMES[other]}, 5`], 'ok'],
        ['the index written', [`    mov ${REG32_NAMES[idx]}, ${REG32_NAMES[idx]}`], 'unchecked-index'],
        ['the array written', [`    mov ${REG32_NAMES[arr]}, ${REG32_NAMES[arr]}`], 'unchecked-index'],
      ];
      for (const [what, between, want] of cases) {
        t.is(verdict(program(idx, arr, idxFirst, between)), want,
          `idx ${REG32_NAMES[idx]}, arr ${REG32_NAMES[arr]} (${idxFirst ? 'cmp idx, [arr]' : 'cmp [arr], idx'}): ` +
            `${what}`);
        tried++;
      }
    }
  }
  t.is(tried, 42 * 4);
});

test('facts about several pairs at once are kept apart: ending one leaves the others', t => {
  // ecx indexes two arrays (ebx and esi; the high and the low half of the set), edi indexes ebx: writing esi ends
  // only the fact about esi.
  const text = [
    '.intel_syntax noprefix',
    '.tal_import exit, tal_new_array',
    '.text',
    '.tal_label main : code[r:stack]{esp: r}',
    'main:',
    '    push 0', '    push 4', '    call DWORD PTR [tal_new_array]', '    add esp, 8', '    mov ebx, eax',
    '    push 0', '    push 4', '    call DWORD PTR [tal_new_array]', '    add esp, 8', '    mov esi, eax',
    '    xor ecx, ecx', '    xor edi, edi',
    '    cmp ecx, DWORD PTR [ebx]', '    jae out',
    '    cmp ecx, DWORD PTR [esi]', '    jae out',
    '    cmp edi, DWORD PTR [ebx]', '    jae out',
    '    mov esi, esi',
    '    mov eax, DWORD PTR [ebx+ecx*4+4]',
    '    mov eax, DWORD PTR [ebx+edi*4+4]',
    'ACCESS',
    '.tal_label out : code[r:stack]{esp: r}',
    'out:', '    push 0', '    call DWORD PTR [exit]',
  ].join('\n') + '\n';
  t.is(verdict(text.replace('ACCESS', '')), 'ok');
  t.is(verdict(text.replace('ACCESS', '    mov eax, DWORD PTR [esi+ecx*4+4]')), 'unchecked-index');
});
