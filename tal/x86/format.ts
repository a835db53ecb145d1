// Prints a decoded instruction the way `objdump -d -M intel` does (one space instead of objdump's column padding),
// so that the decoder oracle can compare texts and taldump and the checker's messages read like objdump.

import { type Insn, type Operand, type MemOperand, NO_REG, REG32_NAMES, REG8_NAMES, CC_NAMES } from './insn.ts';

const hex = (n: number): string => '0x' + (n >>> 0).toString(16);

export function mnemonicOf(insn: Insn): string {
  if (insn.op === 'jcc') return 'j' + CC_NAMES[insn.cc];
  if (insn.op === 'setcc') return 'set' + CC_NAMES[insn.cc];
  return insn.op;
}

export function formatMem(m: MemOperand): string {
  const size = m.moffs || m.size === 0 ? '' : m.size === 1 ? 'BYTE PTR ' : 'DWORD PTR ';
  if (m.base === NO_REG && m.index === NO_REG) return `${size}ds:${hex(m.disp)}`;
  let body = m.base !== NO_REG ? REG32_NAMES[m.base] : '';
  if (m.index !== NO_REG) body += `${body ? '+' : ''}${REG32_NAMES[m.index]}*${m.scale}`;
  const explicit = m.explicitDisp ?? m.base === NO_REG;
  if (m.disp !== 0 || explicit) body += m.disp < 0 ? `-${hex(-m.disp)}` : `+${hex(m.disp)}`;
  return `${size}[${body}]`;
}

export function formatOperand(o: Operand, byteImm = false): string {
  switch (o.kind) {
    case 'reg': return o.size === 4 ? REG32_NAMES[o.reg] : REG8_NAMES[o.reg];
    case 'imm': return o.implied ? String(o.value) : hex(byteImm ? o.value & 0xff : o.value);
    case 'mem': return formatMem(o);
    case 'rel': return hex(o.target);
    case 'creg': return `cr${o.n}`;
  }
}

/** The instruction as objdump prints it, e.g. "mov DWORD PTR [ebp-0x4],eax". */
export function formatInsn(insn: Insn): string {
  const m = mnemonicOf(insn);
  if (insn.operands.length === 0) return m;
  // Byte-sized destinations take byte immediates (mov al,0xff; mov BYTE PTR [eax],0xff).
  const first = insn.operands[0];
  const byteDst = (first.kind === 'reg' || first.kind === 'mem') && first.size === 1;
  return `${m} ${insn.operands.map(o => formatOperand(o, byteDst)).join(',')}`;
}
