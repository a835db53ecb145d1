// Red team of the checker's speed work (issue 12, item 9; test/red/speed/README.md): the pass decodes into objects
// that every decode reuses (x86/decode.ts, decodeShared), and formats the instruction of a refusal only once it is
// refused. Each program here refuses an instruction right after one of another shape (an implied immediate, three
// operands, a memory operand with a SIB byte or a displacement, a branch target), so that a field left over from the
// previous instruction (an implied count printed as "1", a displacement printed as "+0x0", an operand list that did not
// shrink) would show in the message's instruction text.
import test from 'ava';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';

const cases: { before: string[]; bad: string; cls: string; insn: string }[] = [
  { before: ['    shl eax, 1'], bad: '    add esp, 3', cls: 'stack-pointer', insn: 'add esp,0x3' },
  { before: ['    add eax, 3'], bad: '    shl esp, 1', cls: 'stack-pointer', insn: 'shl esp,1' },
  { before: ['    imul ecx, ecx, 5'], bad: '    neg esp', cls: 'stack-pointer', insn: 'neg esp' },
  { before: ['    imul eax, DWORD PTR [esp+4], 0x1000'], bad: '    shl esp, 1', cls: 'stack-pointer',
    insn: 'shl esp,1' },
  { before: ['    mov DWORD PTR [esp], 7'], bad: '    mov eax, DWORD PTR [ebx+ecx*4+4]', cls: 'not-a-pointer',
    insn: 'mov eax,DWORD PTR [ebx+ecx*4+0x4]' },
  { before: ['    mov DWORD PTR [esp+4], 9'], bad: '    mov eax, DWORD PTR [eax]', cls: 'not-a-pointer',
    insn: 'mov eax,DWORD PTR [eax]' },
  { before: ['    mov DWORD PTR [esp+8], 0x12345678'], bad: '    .byte 0xcd, 0x80', cls: 'interrupt',
    insn: 'int 0x80' },
  { before: ['    test eax, eax', '    jne main'], bad: '    jmp eax', cls: 'call-non-code', insn: 'jmp eax' },
  { before: ['    mov DWORD PTR [esp+4], 0x11223344'], bad: '    ret', cls: 'ret-not-code', insn: 'ret' },
];

for (const c of cases) {
  test(`after ${c.before.join('; ').trim()}, the refused ${c.bad.trim()} is named as itself`, t => {
    const text = ['.intel_syntax noprefix', '.tal_import exit', '.text', '.tal_label main : code[r:stack]{esp: r}',
      'main:',
      '    sub esp, 12', '    mov DWORD PTR [esp], 0', '    mov DWORD PTR [esp+4], 0', '    mov DWORD PTR [esp+8], 0',
      '    xor eax, eax', '    xor ebx, ebx', '    xor ecx, ecx', ...c.before, c.bad, '    push 0', '    call DWORD PTR [exit]',
    ].join('\n') + '\n';
    const r = checkElf(assemble(text, 'red-speed-messages.tal').elf);
    if (r.ok) return t.fail('accepted');
    t.is(r.error.cls as string, c.cls, r.error.message);
    t.is(r.error.insn, c.insn);
  });
}
