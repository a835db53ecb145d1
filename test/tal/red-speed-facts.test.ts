// Red team of the checker's speed work (issue 12, item 9; test/red/speed/README.md): the bounds facts, now a 64-bit
// set in two integers (check/checker.ts, State.boundsLo/boundsHi), must end at every write to either register of the
// pair, whatever writes it: not only mov r32 (test/tal/bounds-facts.test.ts) but the writes that name the register
// another way or not at all: a byte register (al..bl, and ah..bh, which are registers 4-7 in the encoding but write
// registers 0-3), setcc, pop, cdq (edx), one-operand mul (eax and edx), imul with an immediate, movzx, lea, the zero
// idiom. A write of a byte register that names register 4-7 ending the facts of esp..edi instead of eax..ebx would
// let `mov ch, 1` raise a checked index by 256 and read past the array.
import test from 'ava';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { REG32_NAMES, REG8_NAMES } from '../../tal/x86/insn.ts';

const REGS = [0, 1, 2, 3, 5, 6, 7];

function program(idx: number, arr: number, idxFirst: boolean, between: string[]): string {
  const [i, a] = [REG32_NAMES[idx], REG32_NAMES[arr]];
  const dest = REG32_NAMES[REGS.find(r => r !== idx && r !== arr)!];
  return [
    '.intel_syntax noprefix',
    '.tal_import exit, tal_new_array',
    '.text',
    '.tal_label main : code[r:stack]{esp: r}',
    'main:',
    '    push 0', '    push 4', '    call DWORD PTR [tal_new_array]', '    add esp, 8',
    ...(a === 'eax' ? [] : [`    mov ${a}, eax`]),
    // Every register but the array an integer (one-operand mul reads eax, cdq reads eax).
    ...REGS.filter(r => r !== arr).map(r => `    xor ${REG32_NAMES[r]}, ${REG32_NAMES[r]}`),
    ...(idxFirst ? [`    cmp ${i}, DWORD PTR [${a}]`, '    jae out']
      : [`    cmp DWORD PTR [${a}], ${i}`, '    jbe out']),
    ...between,
    `    mov ${dest}, DWORD PTR [${a}+${i}*4+4]`,
    '.tal_label out : code[r:stack]{esp: r}',
    'out:', '    push 0', '    call DWORD PTR [exit]',
  ].join('\n') + '\n';
}

function verdict(text: string): string {
  const r = checkElf(assemble(text, 'red-speed-facts.tal').elf);
  return r.ok ? 'ok' : r.error.cls;
}

/** Writers: the lines, the registers they write, the registers they read as integers. */
function writers(w: number): { what: string; lines: string[]; writes: number[]; reads: number[] }[] {
  const r = REG32_NAMES[w];
  const out: { what: string; lines: string[]; writes: number[]; reads: number[] }[] = [
    { what: `pop ${r}`, lines: ['    push 7', `    pop ${r}`], writes: [w], reads: [] },
    { what: `imul ${r}, ${r === 'ecx' ? 'edx' : 'ecx'}, 3`, lines: [`    imul ${r}, ${r === 'ecx' ? 'edx' : 'ecx'}, 3`],
      writes: [w], reads: [r === 'ecx' ? 2 : 1] },
    { what: `lea ${r}, [${r === 'ecx' ? 'edx' : 'ecx'}*4+8]`,
      lines: [`    lea ${r}, [${r === 'ecx' ? 'edx' : 'ecx'}*4+8]`], writes: [w], reads: [r === 'ecx' ? 2 : 1] },
    { what: `xor ${r}, ${r}`, lines: [`    xor ${r}, ${r}`], writes: [w], reads: [] },
  ];
  if (w < 4) {
    out.push({ what: `mov ${REG8_NAMES[w]}, 1`, lines: [`    mov ${REG8_NAMES[w]}, 1`], writes: [w], reads: [w] });
    out.push({ what: `mov ${REG8_NAMES[w + 4]}, 1`, lines: [`    mov ${REG8_NAMES[w + 4]}, 1`], writes: [w],
      reads: [w] });
    out.push({ what: `sete ${REG8_NAMES[w + 4]}`, lines: ['    test esi, esi', `    sete ${REG8_NAMES[w + 4]}`],
      writes: [w], reads: [w, 6] });
    out.push({ what: `movzx ${r}, ${REG8_NAMES[w === 1 ? 2 : 1]}`,
      lines: [`    movzx ${r}, ${REG8_NAMES[w === 1 ? 2 : 1]}`], writes: [w], reads: [w === 1 ? 2 : 1] });
  }
  return out;
}

test('every kind of register write ends the bounds facts about that register, and only those', t => {
  let tried = 0;
  for (const idx of REGS) for (const arr of REGS) {
    if (idx === arr) continue;
    const idxFirst = (idx * 3 + arr) % 2 === 0;
    for (const w of REGS) {
      for (const c of writers(w)) {
        // A read of the array as an integer is refused as pointer arithmetic, and an array overwritten with an integer
        // is no array (bounds-facts.test.ts writes it with itself): neither says anything of the fact.
        if (c.reads.includes(arr) || c.writes.includes(arr)) continue;
        const want = c.writes.includes(idx) ? 'unchecked-index' : 'ok';
        t.is(verdict(program(idx, arr, idxFirst, c.lines)), want,
          `idx ${REG32_NAMES[idx]}, arr ${REG32_NAMES[arr]}: ${c.what}`);
        tried++;
      }
    }
    // cdq writes edx; one-operand mul writes eax and edx (it reads eax and its operand).
    if (arr !== 0 && arr !== 2) {
      t.is(verdict(program(idx, arr, idxFirst, ['    cdq'])), idx === 2 ? 'unchecked-index' : 'ok',
        `idx ${REG32_NAMES[idx]}, arr ${REG32_NAMES[arr]}: cdq`);
      const src = [1, 3, 5, 6, 7].find(r => r !== arr)!;
      t.is(verdict(program(idx, arr, idxFirst, [`    mul ${REG32_NAMES[src]}`])),
        idx === 0 || idx === 2 ? 'unchecked-index' : 'ok', `idx ${REG32_NAMES[idx]}, arr ${REG32_NAMES[arr]}: mul`);
      tried += 2;
    }
  }
  t.true(tried > 800, `${tried} programs`);
});
