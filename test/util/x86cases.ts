// The instruction cases both oracle suites share: every form talas can encode, in GNU `.intel_syntax noprefix`
// text, generated systematically (and a seeded random portion). The encoder suite compares our bytes with GNU
// as; the decoder suite decodes GNU's bytes and compares with objdump.
import fc from 'fast-check';
import { REG32_NAMES, REG8_NAMES, CC_NAMES, type RefusalClass } from '../../tal/x86/insn.ts';

export interface Case {
  text: string;
  /** For instructions outside the TAL subset: the class the decoder must refuse them with. */
  refuse?: RefusalClass;
}

const R32 = REG32_NAMES as readonly string[];
const R8 = REG8_NAMES as readonly string[];
const INDEXES = R32.filter(r => r !== 'esp');
const SCALES = [1, 2, 4, 8];

/** Immediates at the boundaries of the imm8 and imm32 forms, spelled in several ways. */
export const IMMS = ['0', '1', '-1', '127', '128', '-128', '-129', '255', '256', '0x7f', '0x80', '-0x80', '-0x81',
  '0x7fffffff', '-0x80000000', '0xffffffff', '0x12345678', '-0x12345678', '65536', '0xff'];
const IMM8S = ['0', '1', '127', '128', '255', '-1', '-128', '0x7f', '0xff', '0x80'];
const SHIFT_COUNTS = ['1', 'cl', '0', '2', '31', '32', '127', '128', '255'];
const DISPS = ['0', '1', '-1', '0x10', '-0x10', '127', '-128', '128', '-129', '0x12345678', '-0x12345678',
  '0x7fffffff'];

function withDisp(body: string, d: string): string {
  if (d.startsWith('-')) return `${body}${d}`;
  return `${body}+${d}`;
}

/** Every addressing form: base, base+disp, base+index*scale(+disp), index*scale+disp, absolute. */
export function memFull(): string[] {
  const out: string[] = [];
  for (const b of R32) {
    out.push(`[${b}]`);
    for (const d of DISPS) out.push(`[${withDisp(b, d)}]`);
  }
  out.push('[esp+8]', '[ebp+0]', '[ebp-4]', '[esp-4]');
  for (const b of R32) for (const i of INDEXES) for (const s of SCALES) out.push(`[${b}+${i}*${s}]`);
  for (const b of ['eax', 'esp', 'ebp', 'edi']) {
    for (const i of ['ebx', 'ebp', 'esi']) {
      for (const s of SCALES) for (const d of ['8', '-8', '0x1000', '127', '128', '-128',
        '-129']) out.push(`[${withDisp(`${b}+${i}*${s}`, d)}]`);
    }
  }
  for (const b of ['eax', 'esp', 'ebp']) for (const i of ['ecx', 'ebp', 'edi']) out.push(`[${b}+${i}]`);
  for (const i of INDEXES) {
    for (const s of SCALES) {
      out.push(`[${i}*${s}]`, `[${i}*${s}+0x1000]`, `[${i}*${s}-4]`, `[0x8049000+${i}*${s}]`);
    }
  }
  out.push('[0x8049000]', '[0]', '[0x10]', '[0xffffffff]', '[0x7fffffff]', '[-4]');
  return out;
}

/** A representative handful of addressing forms, for the instructions tried with many operand combinations. */
export const MEM_SMALL = ['[eax]', '[ebp]', '[esp]', '[esp+8]', '[ebx+0x10]', '[ecx-0x10]', '[edx+0x12345678]',
  '[ebp-4]',
  '[esi+ebx*4]', '[edi+eax*8+0x100]', '[ebp+ecx*2]', '[esp+edx*1-8]', '[eax*4+0x1000]', '[0x8049000]', '[eax+127]',
  '[eax+128]', '[eax-128]', '[eax-129]', '[ebx+esi]'];

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const SHIFTS = ['rol', 'ror', 'shl', 'shr', 'sar', 'sal'];
const F7 = ['not', 'neg', 'mul', 'imul', 'div', 'idiv'];
const CC_ALIASES = ['z', 'nz', 'c', 'nae', 'nc', 'nb', 'na', 'nbe', 'pe', 'po', 'nge', 'nl', 'ng', 'nle'];
/** Every spelling of a condition GNU as accepts (objdump's and the aliases). */
export const CONDITIONS = [...CC_NAMES, ...CC_ALIASES];

/** A size keyword or none, alternating by `i`, for operands whose size the register fixes. */
const dw = (m: string, i: number) => (i % 2 ? `DWORD PTR ${m}` : m);
const by = (m: string, i: number) => (i % 2 ? `BYTE PTR ${m}` : m);

/** The numeric-only cases in the TAL subset (no symbols, no branches to labels). */
export function subsetCases(): Case[] {
  const out: string[] = [];
  const mems = memFull();
  let k = 0;
  // ALU: every form, every register pair; all memory forms for add, a representative set for the rest.
  for (const op of ALU) {
    for (const a of R32) for (const b of R32) out.push(`${op} ${a}, ${b}`);
    for (const m of op === 'add' ? mems : MEM_SMALL) {
      const r = R32[k++ % 8];
      out.push(`${op} ${r}, ${dw(m, k)}`, `${op} ${dw(m, k + 1)}, ${r}`);
    }
    for (const r of R32) for (const v of IMMS) out.push(`${op} ${r}, ${v}`);
    for (const m of MEM_SMALL) for (const v of IMMS) out.push(`${op} DWORD PTR ${m}, ${v}`);
  }
  // test
  for (const a of R32) for (const b of R32) out.push(`test ${a}, ${b}`);
  for (const m of MEM_SMALL) for (const r of R32) out.push(`test ${dw(m, k++)}, ${r}`, `test ${r}, ${dw(m, k++)}`);
  for (const r of R32) for (const v of IMMS) out.push(`test ${r}, ${v}`);
  for (const m of MEM_SMALL) for (const v of IMMS) out.push(`test DWORD PTR ${m}, ${v}`);
  // mov, 32-bit
  for (const a of R32) for (const b of R32) out.push(`mov ${a}, ${b}`);
  for (const m of mems) {
    const r = R32[k++ % 8];
    out.push(`mov ${r}, ${dw(m, k)}`, `mov ${dw(m, k + 1)}, ${r}`);
  }
  for (const r of R32) for (const v of IMMS) out.push(`mov ${r}, ${v}`);
  for (const m of MEM_SMALL) for (const v of IMMS) out.push(`mov DWORD PTR ${m}, ${v}`);
  // mov, 8-bit
  for (const a of R8) for (const b of R8) out.push(`mov ${a}, ${b}`);
  for (const m of MEM_SMALL) for (const r of R8) out.push(`mov ${r}, ${by(m, k++)}`, `mov ${by(m, k++)}, ${r}`);
  for (const r of R8) for (const v of IMM8S) out.push(`mov ${r}, ${v}`);
  for (const m of MEM_SMALL) for (const v of IMM8S) out.push(`mov BYTE PTR ${m}, ${v}`);
  // The accumulator with an absolute address (A0-A3), and other registers with one (8A/8B/88/89 with disp32).
  for (const addr of ['0x8049000', '0', '0x10', '0xffffffff']) {
    for (const r of ['eax', 'ebx', 'esi']) out.push(`mov ${r}, [${addr}]`, `mov [${addr}], ${r}`,
      `mov ${r}, DWORD PTR [${addr}]`, `mov DWORD PTR [${addr}], ${r}`);
    for (const r of ['al', 'bl', 'ah']) out.push(`mov ${r}, [${addr}]`, `mov [${addr}], ${r}`,
      `mov ${r}, BYTE PTR [${addr}]`, `mov BYTE PTR [${addr}], ${r}`);
  }
  out.push('mov eax, [eax*1+0x8049000]', 'mov al, [ebx*4+0x8049000]');
  // movzx, movsx
  for (const op of ['movzx', 'movsx']) {
    for (const a of R32) for (const b of R8) out.push(`${op} ${a}, ${b}`);
    for (const m of MEM_SMALL) out.push(`${op} ${R32[k++ % 8]}, BYTE PTR ${m}`);
  }
  // lea: every addressing form
  for (const m of mems) out.push(`lea ${R32[k++ % 8]}, ${m}`);
  for (const r of INDEXES) out.push(`lea ${r}, [${r}+${r}*2]`);
  // Spellings: esp written second is swapped into the base; scale before the register; several constants;
  // upper case; character, binary and computed immediates.
  out.push('mov eax, [ebx+esp]', 'lea ecx, [ebp+esp]', 'mov eax, [eax+esp+8]', 'mov eax, [esi+4*ebx]',
    'lea eax, [8*ecx+0x10]',
    'mov eax, [ebx+ecx*4+8-4]', 'mov eax, [ 4 + ebx ]', 'MOV EAX, DWORD PTR [EBX+ECX*2]', 'Add Eax, 5', 'mov al, \'a\'',
    "cmp eax, 'z'", "push ' '", 'mov eax, 0b101', 'add eax, 0x10-0x20', 'sub esp, 4+4', 'mov ecx, -0x80000000+1');
  // inc dec not neg mul imul div idiv
  for (const op of ['inc', 'dec', ...F7]) {
    for (const r of R32) out.push(`${op} ${r}`);
    for (const m of MEM_SMALL) out.push(`${op} DWORD PTR ${m}`);
  }
  // imul, two and three operands
  for (const a of R32) for (const b of R32) out.push(`imul ${a}, ${b}`);
  for (const m of MEM_SMALL) out.push(`imul ${R32[k++ % 8]}, ${dw(m, k)}`);
  for (const v of IMMS) {
    out.push(`imul ${R32[k++ % 8]}, ${R32[k % 8]}, ${v}`, `imul ${R32[k++ % 8]}, ${v}`);
    for (const m of MEM_SMALL.slice(0, 6)) out.push(`imul ${R32[k++ % 8]}, ${dw(m, k)}, ${v}`);
  }
  // shifts
  for (const op of SHIFTS) {
    for (const r of R32) {
      out.push(`${op} ${r}`);
      for (const c of SHIFT_COUNTS) out.push(`${op} ${r}, ${c}`);
    }
    for (const m of MEM_SMALL) {
      out.push(`${op} DWORD PTR ${m}`);
      for (const c of SHIFT_COUNTS) out.push(`${op} DWORD PTR ${m}, ${c}`);
    }
  }
  // push, pop
  for (const r of R32) out.push(`push ${r}`, `pop ${r}`);
  for (const v of IMMS) out.push(`push ${v}`);
  for (const m of MEM_SMALL) out.push(`push ${dw(m, k++)}`, `pop ${dw(m, k++)}`);
  // indirect jmp and call
  for (const r of R32) out.push(`jmp ${r}`, `call ${r}`);
  for (const m of MEM_SMALL) out.push(`jmp ${dw(m, k++)}`, `call ${dw(m, k++)}`);
  // setcc, every spelling
  for (const cc of CONDITIONS) {
    for (const r of R8) out.push(`set${cc} ${r}`);
    for (const m of ['[eax]', '[esp+8]', '[ebx+ecx*4-4]', '[0x8049000]']) out.push(`set${cc} ${by(m, k++)}`);
  }
  out.push('cdq', 'cltd', 'nop', 'ret');
  return out.map(text => ({ text }));
}

/** Instructions outside the subset that the encoder knows (for runtime stubs and negative tests). */
export function refusedCases(): Case[] {
  const out: Case[] = [];
  const add = (refuse: RefusalClass, ...texts: string[]) => { for (const text of texts) out.push({ text, refuse }); };
  add('interrupt', 'int 0x80', 'int 0', 'int 1', 'int 3', 'int 0x3', 'int 0xff', 'int 4', 'int3', 'into', 'sysenter',
    'ud2');
  add('privileged', 'cli', 'sti', 'hlt', 'iret', 'iretd', 'pushf', 'popf', 'pushfd', 'popfd', 'wrmsr', 'rdmsr');
  for (const n of [0, 2, 3, 4]) for (const r of ['eax', 'ebx', 'edi']) add('privileged', `mov cr${n}, ${r}`,
    `mov ${r}, cr${n}`);
  for (const op of ['lidt', 'lgdt', 'invlpg']) for (const m of ['[eax]', '[ebx+8]', '[0x8049000]', '[esp]',
    '[ebp+ecx*4]']) add('privileged', `${op} ${m}`);
  add('privileged', 'in al, dx', 'in eax, dx', 'in al, 0x60', 'in eax, 0x60', 'in al, 0', 'in eax, 0xff',
    'out dx, al', 'out dx, eax', 'out 0x60, al', 'out 0x80, eax', 'out 0xff, al');
  add('unsupported', 'rdtsc', 'cpuid', 'leave', 'ret 8', 'ret 0', 'ret 0x1234', 'ret 0xffff', 'ret -1', 'ret -0x8000');
  return out;
}

/** Instructions GNU as refuses (ambiguous sizes, mismatched operands, impossible addresses): talas must too. */
export function rejectedCases(): string[] {
  return [
    'movzx eax, [ebx]', 'movsx eax, [ebx]', 'add [eax], 1', 'mov [eax], 1', 'inc [eax]', 'dec [ebx+4]', 'not [eax]', 'test [eax], 1',
    'shl [eax], 1', 'mov eax, bl', 'mov al, ebx', 'mov BYTE PTR [eax], ebx', 'mov DWORD PTR [eax], bl', 'lea eax, ebx', 'movzx eax, ebx',
    'push al', 'pop bl', 'imul eax, bl', 'jmp al', 'call bl', 'sete eax', 'add eax, bl', 'add al, ebx', 'add eax, BYTE PTR [ebx]',
    'shl eax, 256', 'shl eax, bl', 'int 256', 'ret 0x10000', 'ret -0x8001',
    'mov eax, [esp*2]', 'mov eax, [eax+ebx+ecx]', 'mov eax, [eax*3]', 'mov eax, [ebx-ecx]', 'mov eax, [esp+esp]',
    'cmp eax', 'add eax', 'cdq eax', 'ret eax', 'mov eax', 'mov eax, ebx, ecx', 'lea eax, 5', 'push', 'mov eax, OFFSET [ebx]',
    'movzx eax, DWORD PTR [ebx]', 'imul eax, ebx, ecx', 'mov 5, eax', 'xor 1, eax',
  ];
}

// ---- branches to labels, with GNU's relaxation ----

export interface BranchProgram {
  /** Source lines: branches, `.skip` fillers and label definitions. */
  lines: string[];
  /** Indexes into `lines` of the branch instructions, with the label each targets. */
  branches: { line: number; mnemonic: string; label: string }[];
}

/** Short and long jmp/jcc (every spelling) and call, forward and backward, around the rel8 boundary. */
export function branchProgram(): BranchProgram {
  const lines: string[] = [];
  const branches: BranchProgram['branches'] = [];
  let n = 0;
  const mnemonics = ['jmp', 'call', ...CONDITIONS.map(c => `j${c}`)];
  const forward = [0, 1, 10, 125, 126, 127, 128, 129, 300];
  const backward = [0, 1, 10, 125, 126, 127, 128, 129, 300];
  for (const m of mnemonics) {
    for (const d of forward) {
      const label = `Tf${n++}`;
      branches.push({ line: lines.length, mnemonic: m, label });
      lines.push(`${m} ${label}`);
      if (d) lines.push(`.skip ${d}, 0x90`);
      lines.push(`${label}:`);
    }
    for (const d of backward) {
      const label = `Tb${n++}`;
      lines.push(`${label}:`);
      if (d) lines.push(`.skip ${d}, 0x90`);
      branches.push({ line: lines.length, mnemonic: m, label });
      lines.push(`${m} ${label}`);
    }
  }
  return { lines, branches };
}

/** Branches to numeric addresses: GNU always emits the long form (a relocation against an absolute address). */
export function absoluteBranchCases(): string[] {
  const out: string[] = [];
  for (const t of ['0x8048000', '0x8049000', '0x8048010', '0x10000000', '0x0']) {
    out.push(`jmp ${t}`, `call ${t}`);
    for (const cc of CC_NAMES) out.push(`j${cc} ${t}`);
  }
  return out;
}

// ---- operands naming symbols ----

/** Data symbols the symbol cases refer to (appended after the cases), each at a small offset in .data. */
export const SYMBOL_EPILOGUE = ['.data', 'dsym: .long 0', 'dsym4: .long 0', '.skip 0x78', 'dsym80: .long 0',
  '.skip 0x100'];

/** Operands naming symbols: always 32 bits wide; a bare symbol is memory, OFFSET sym an immediate. */
export function symbolCases(): string[] {
  const out: string[] = [];
  for (const s of ['dsym', 'dsym4', 'dsym80', 'dsym+4', 'dsym4-4', 'dsym+0x100']) {
    out.push(
      `mov eax, OFFSET ${s}`, `mov ebx, OFFSET ${s}`, `mov eax, ${s}`, `mov ecx, ${s}`, `mov ${s}, eax`, `mov ${s}, edx`,
      `mov al, ${s}`, `mov bl, ${s}`, `mov ${s}, al`, `mov eax, [${s}]`, `mov eax, DWORD PTR [${s}]`, `mov DWORD PTR [${s}], 5`,
      `mov BYTE PTR [${s}], 1`, `mov BYTE PTR ${s}, 1`, `mov DWORD PTR ${s}, 0x12345678`,
      `mov eax, [ebx+${s}]`, `mov eax, [${s}+ebx*4]`, `mov eax, DWORD PTR [esi+ebx*2+${s}]`, `mov eax, [esp+${s}]`,
      `movzx eax, BYTE PTR [${s}+ecx]`, `movsx eax, BYTE PTR ${s}`,
      `add eax, OFFSET ${s}`, `add ebx, OFFSET ${s}`, `cmp DWORD PTR [${s}], 0`, `cmp ${s}, eax`, `sub esp, OFFSET ${s}`,
      `add DWORD PTR [${s}], 1`, `and ecx, ${s}`,
      `test eax, OFFSET ${s}`, `test ebx, OFFSET ${s}`, `push OFFSET ${s}`, `push ${s}`, `push DWORD PTR [${s}]`, `pop DWORD PTR [${s}]`,
      `call DWORD PTR [${s}]`, `jmp DWORD PTR [${s}+ebx*4]`, `lea eax, [${s}]`, `lea eax, ${s}`, `lea eax, [ebx+${s}]`,
      `imul eax, ebx, OFFSET ${s}`, `imul eax, OFFSET ${s}`, `inc DWORD PTR [${s}]`, `sete BYTE PTR [${s}]`,
      `shl DWORD PTR [${s}], 1`, `mov eax, DWORD PTR ${s}[ebx*4]`, `mov eax, ${s}[ebx]`,
    );
  }
  return out;
}

// ---- a seeded random portion ----

const reg32 = fc.constantFrom(...R32);
const reg8 = fc.constantFrom(...R8);
const anyInt32 = fc.oneof(
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  fc.integer({ min: -300, max: 300 }),
  fc.constantFrom(0, 1, -1, 127, 128, -128, -129, 255, 256, 0x7fffffff, -0x80000000),
);
const spell = (v: number): string => (v < 0 ? `-0x${(-v).toString(16)}` : v % 3 === 0 ? String(v)
  : `0x${v.toString(16)}`);
const memOperand = fc.record({
  base: fc.option(reg32, { nil: undefined }),
  index: fc.option(fc.constantFrom(...INDEXES), { nil: undefined }),
  scale: fc.constantFrom(1, 2, 4, 8),
  disp: fc.option(anyInt32, { nil: undefined }),
}).map(({ base, index, scale, disp }) => {
  const parts: string[] = [];
  if (base) parts.push(base);
  if (index) parts.push(`${index}*${scale}`);
  let body = parts.join('+');
  if (disp !== undefined || !body) {
    const d = disp ?? 0;
    body = body ? withDisp(body, spell(d)) : spell(d);
  }
  return `[${body}]`;
});
const imm = anyInt32.map(spell);

const randomInsn: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom(...ALU, 'mov', 'test'), reg32,
    fc.oneof(reg32, imm, memOperand.map(m => `DWORD PTR ${m}`))).map(([o, a, b]) => `${o} ${a}, ${b}`),
  fc.tuple(fc.constantFrom(...ALU, 'mov', 'test'), memOperand,
    fc.oneof(reg32, imm)).map(([o, m, b]) => `${o} DWORD PTR ${m}, ${b}`),
  fc.tuple(reg8,
    fc.oneof(reg8, memOperand.map(m => `BYTE PTR ${m}`),
    fc.integer({ min: -128, max: 255 }).map(spell))).map(([a, b]) => `mov ${a}, ${b}`),
  fc.tuple(memOperand,
    fc.oneof(reg8, fc.integer({ min: -128, max: 255 }).map(spell))).map(([m, b]) => `mov BYTE PTR ${m}, ${b}`),
  fc.tuple(fc.constantFrom('movzx', 'movsx'), reg32,
    fc.oneof(reg8, memOperand.map(m => `BYTE PTR ${m}`))).map(([o, a, b]) => `${o} ${a}, ${b}`),
  fc.tuple(reg32, memOperand).map(([r, m]) => `lea ${r}, ${m}`),
  fc.tuple(fc.constantFrom('inc', 'dec', ...F7, 'push', 'pop', 'jmp', 'call'),
    fc.oneof(reg32, memOperand.map(m => `DWORD PTR ${m}`))).map(([o, a]) => `${o} ${a}`),
  imm.map(v => `push ${v}`),
  fc.tuple(reg32, fc.oneof(reg32, memOperand.map(m => `DWORD PTR ${m}`)),
    fc.option(imm, { nil: undefined })).map(([a, b, c]) => `imul ${a}, ${b}${c === undefined ? '' : `, ${c}`}`),
  fc.tuple(fc.constantFrom(...SHIFTS), fc.oneof(reg32, memOperand.map(m => `DWORD PTR ${m}`)),
    fc.oneof(fc.constant('cl'), fc.integer({ min: 0, max: 255 }).map(spell))).map(([o, a, c]) => `${o} ${a}, ${c}`),
  fc.tuple(fc.constantFrom(...CONDITIONS),
    fc.oneof(reg8, memOperand.map(m => `BYTE PTR ${m}`))).map(([cc, a]) => `set${cc} ${a}`),
);

/** `n` random instructions of the subset, the same ones for the same seed. */
export function randomCases(n: number, seed: number): Case[] {
  return fc.sample(randomInsn, { numRuns: n, seed }).map(text => ({ text }));
}
