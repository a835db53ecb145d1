// A label inside an instruction (tal/check/checker.ts, Checker.run): the pass compares the end of each instruction
// with the offset of the label after its block's, where it used to look every byte of the instruction up in the
// label index. These programs hold that the comparison finds what the byte-by-byte search found: the first label
// inside, whatever the block (the first, one in the middle, one whose next label is far), with its name and address
// in the message; that an instruction ending exactly at a label is not refused; and that a label inside the last
// instruction of .text, after the last block's own label, is found too.
import test from 'ava';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';

const HEAD = ['.intel_syntax noprefix', '.tal_import exit', '.text'];
const EXIT = ['    push 0', '    call DWORD PTR [exit]'];
const label = (name: string) => [`.tal_label ${name} : code[r:stack]{esp: r}`, `${name}:`];

function check(lines: string[]) {
  const { elf } = assemble([...HEAD, ...lines].join('\n') + '\n', 'label-inside.tal');
  return checkElf(elf);
}

/** The address talas gave a label (from the checked program's label table). */
function labelAddr(lines: string[], name: string): number {
  const r = check(lines);
  if (!r.ok) throw new Error(r.error.message);
  const code = r.program.ann.code;
  for (let i = 0; i < code.size; i++) if (code.name(i) === name) return code.addrs[i];
  throw new Error(`no label ${name}`);
}

// mov eax, 0x90909090 (b8 90 90 90 90) with labels 2 and 3 bytes in: the message names the first of them.
const twoInside = [
  ...label('main'), '    xor eax, eax', '    jmp middle',
  ...label('middle'), '    xor ecx, ecx', '    .byte 0xb8, 0x90',
  ...label('in1'), '    .byte 0x90',
  ...label('in2'), '    .byte 0x90, 0x90', ...EXIT,
];

test('two labels inside one instruction of a middle block: the first is named, at its address', t => {
  const r = check(twoInside);
  if (r.ok) return t.fail('accepted');
  t.is(r.error.cls, 'bad-label');
  t.regex(r.error.message, /^label 'in1' at 0x[0-9a-f]+ is inside this instruction$/);
  t.is(r.error.label, 'middle');
  t.is(r.error.insn, 'mov eax,0x90909090');
  // The same bytes with the labels removed: the instruction is accepted, and the refusal above is at its address.
  const plain = check([...label('main'), '    xor eax, eax', '    jmp middle', ...label('middle'), '    xor ecx, ecx',
    '    .byte 0xb8, 0x90, 0x90, 0x90, 0x90', ...EXIT]);
  t.true(plain.ok, plain.ok ? '' : plain.error.message);
  // in1 put right after the instruction is 3 bytes further on than where it was (2 bytes into 5).
  const withIn1AtEnd = [...label('main'), '    xor eax, eax', '    jmp middle', ...label('middle'), '    xor ecx, ecx',
    '    .byte 0xb8, 0x90, 0x90, 0x90, 0x90', ...label('in1'), ...EXIT];
  const in1 = labelAddr(withIn1AtEnd, 'in1') - 3;
  t.is(r.error.message, `label 'in1' at 0x${in1.toString(16)} is inside this instruction`);
});

test('an instruction that ends exactly where the next label starts is not refused', t => {
  const r = check([...label('main'), '    mov eax, 0x90909090', ...label('next'), '    mov ecx, 5', ...EXIT]);
  t.true(r.ok, r.ok ? '' : r.error.message);
});

test('a label inside the first block\'s first instruction', t => {
  const r = check([...label('main'), '    .byte 0xb8', ...label('inner'), '    .byte 0x90, 0x90, 0x90, 0x90', ...EXIT]);
  if (r.ok) return t.fail('accepted');
  t.is(r.error.cls, 'bad-label');
  t.regex(r.error.message, /^label 'inner' at /);
  t.is(r.error.label, 'main');
});

test('a label inside an instruction far from its block\'s label, after many instructions of the block', t => {
  const body = Array.from({ length: 300 }, (_, i) => `    mov ecx, ${i}`);
  const r = check([...label('main'), ...body, '    .byte 0xb9, 0x01', ...label('late'), '    .byte 0x02, 0x03, 0x04',
    ...EXIT]);
  if (r.ok) return t.fail('accepted');
  t.is(r.error.cls, 'bad-label');
  t.regex(r.error.message, /^label 'late' at /);
  t.is(r.error.insn, 'mov ecx,0x4030201');
});

test('a label inside the last instruction of .text, in the last block', t => {
  const r = check([...label('main'), ...EXIT, ...label('tail'), '    .byte 0xb8, 0x01', ...label('last'),
    '    .byte 0x02, 0x03, 0x04']);
  if (r.ok) return t.fail('accepted');
  t.is(r.error.cls, 'bad-label');
  t.regex(r.error.message, /^label 'last' at /);
  t.is(r.error.label, 'tail');
});
