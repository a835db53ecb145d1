// The encoder behind talas. It makes the same encoding choices as GNU as (tal/x86/README.md lists them), which
// test/tal/encoder-oracle.test.ts checks byte for byte. It is not trusted: whatever it emits is decoded and checked.
// Besides the TAL subset it encodes a few instructions the checker refuses (int, cli, mov crN, ...) so that the
// runtime stubs and the negative test programs can be written as assembly.

import { type AsmOperand, type AsmMem, type RegOperand, CC_NAMES, NO_REG, ESP, EBP, EAX } from './insn.ts';

export class EncodeError extends Error {}

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const SHIFTS: Record<string, number> = { rol: 0, ror: 1, shl: 4, sal: 4, shr: 5, sar: 7 };
const F7: Record<string, number> = { not: 2, neg: 3, mul: 4, imul: 5, div: 6, idiv: 7 };

// GNU's alternative spellings of the condition codes.
const CC_ALIASES: Record<string, string> = {
  z: 'e', nz: 'ne', c: 'b', nae: 'b', nc: 'ae', nb: 'ae', na: 'be', nbe: 'a',
  pe: 'p', po: 'np', nge: 'l', nl: 'ge', ng: 'le', nle: 'g',
};

/** The condition number of a jcc/setcc mnemonic (with GNU's aliases), or -1. */
export function conditionOf(mnemonic: string, prefix: 'j' | 'set'): number {
  if (!mnemonic.startsWith(prefix)) return -1;
  const c = mnemonic.slice(prefix.length);
  const i = (CC_NAMES as readonly string[]).indexOf(CC_ALIASES[c] ?? c);
  return i;
}

/** Lengths of the short and long forms of a relaxable branch, or null if the mnemonic has only one form. */
export function branchLengths(mnemonic: string): { short: number; long: number } | null {
  if (mnemonic === 'jmp') return { short: 2, long: 5 };
  if (conditionOf(mnemonic, 'j') >= 0) return { short: 2, long: 6 };
  return null;
}

const fitsI8 = (v: number) => v >= -128 && v <= 127;
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** A memory operand with an explicit DWORD PTR (GNU refuses to guess the size when no register says it). */
function isDword(o: AsmOperand | undefined): boolean {
  return o !== undefined && o.kind === 'mem' && o.size === 4;
}

function isReg(o: AsmOperand | undefined, size?: 1 | 4): o is RegOperand {
  return o !== undefined && o.kind === 'reg' && (size === undefined || o.size === size);
}

/** ModRM (+SIB, +displacement) for a register or memory r/m operand, with `reg` in the reg field. */
function modrm(reg: number, rm: AsmOperand): number[] {
  if (rm.kind === 'reg') return [0xc0 | (reg << 3) | rm.reg];
  if (rm.kind !== 'mem') throw new EncodeError('expected a register or memory operand');
  return memBytes(reg, rm);
}

function memBytes(reg: number, m: AsmMem): number[] {
  const { base, index, scale, disp } = m;
  if (index === ESP) throw new EncodeError('esp cannot be an index register');
  if (base === NO_REG && index === NO_REG) return [(reg << 3) | 5, ...le32(disp)];
  const ss = scale === 1 ? 0 : scale === 2 ? 1 : scale === 4 ? 2 : 3;
  if (base === NO_REG) return [(reg << 3) | 4, (ss << 6) | (index << 3) | 5, ...le32(disp)];
  // mod: no displacement, disp8 or disp32. [ebp] has no mod-00 form (that is disp32), so it takes disp8 0.
  let mod: number;
  if (disp === 0 && !m.wide && base !== EBP) mod = 0;
  else if (fitsI8(disp) && !m.wide) mod = 1;
  else mod = 2;
  const dispBytes = mod === 0 ? [] : mod === 1 ? [disp & 0xff] : le32(disp);
  if (index === NO_REG && base !== ESP) return [(mod << 6) | (reg << 3) | base, ...dispBytes];
  const idx = index === NO_REG ? 4 : index;
  return [(mod << 6) | (reg << 3) | 4, (ss << 6) | (idx << 3) | base, ...dispBytes];
}

function need(cond: boolean, mnemonic: string, ops: AsmOperand[]): asserts cond {
  if (!cond) throw new EncodeError(`invalid operands for '${mnemonic}'${ops.length ? '' : ' (none given)'}`);
}

function invalid(mnemonic: string, ops: AsmOperand[]): never {
  throw new EncodeError(`invalid operands for '${mnemonic}'${ops.length ? '' : ' (none given)'}`);
}

function imm8(v: number, what = 'immediate'): number {
  if (v < -128 || v > 255) throw new EncodeError(`${what} ${v} does not fit in a byte`);
  return v & 0xff;
}

/** Encodes one instruction at `address` (which fixes rel operands). */
export function encode(mnemonic: string, ops: AsmOperand[], address: number): number[] {
  const [a, b, c] = ops;
  const n = ops.length;
  const m = mnemonic;

  const alu = ALU.indexOf(m);
  if (alu >= 0) {
    need(n === 2, m, ops);
    if (b.kind === 'imm') {
      need(isReg(a, 4) || isDword(a), m, ops);
      if (fitsI8(b.value) && !b.wide) return [0x83, ...modrm(alu, a), b.value & 0xff];
      if (isReg(a) && a.reg === EAX) return [(alu << 3) | 5, ...le32(b.value)];
      return [0x81, ...modrm(alu, a), ...le32(b.value)];
    }
    if (isReg(b, 4) && (isReg(a, 4) || (a.kind === 'mem' && a.size !== 1))) return [(alu << 3) | 1, ...modrm(b.reg, a)];
    if (isReg(a, 4) && b.kind === 'mem' && b.size !== 1) return [(alu << 3) | 3, ...modrm(a.reg, b)];
    return invalid(m, ops);
  }

  const sh = SHIFTS[m];
  if (sh !== undefined) {
    need(n === 1 || n === 2, m, ops);
    need(isReg(a, 4) || isDword(a), m, ops);
    if (n === 1 || (b.kind === 'imm' && b.value === 1 && !b.wide)) return [0xd1, ...modrm(sh, a)];
    if (isReg(b, 1) && b.reg === 1) return [0xd3, ...modrm(sh, a)];
    need(b.kind === 'imm', m, ops);
    return [0xc1, ...modrm(sh, a), imm8(b.value, 'shift count')];
  }

  const f7 = F7[m];
  if (f7 !== undefined && !(m === 'imul' && n > 1)) {
    need(n === 1 && (isReg(a, 4) || isDword(a)), m, ops);
    return [0xf7, ...modrm(f7, a)];
  }

  const jcc = conditionOf(m, 'j');
  if (jcc >= 0) {
    need(n === 1 && a.kind === 'rel', m, ops);
    return a.short ? shortBranch(0x70 | jcc, a.target, address) : [0x0f, 0x80 | jcc, ...le32(a.target - (address + 6))];
  }
  const setcc = conditionOf(m, 'set');
  if (setcc >= 0) {
    need(n === 1 && (isReg(a, 1) || (a.kind === 'mem' && a.size !== 4)), m, ops);
    return [0x0f, 0x90 | setcc, ...modrm(0, a)];
  }

  switch (m) {
    case 'mov': return encodeMov(ops);
    case 'movzx': case 'movsx':
      need(n === 2 && isReg(a, 4) && (isReg(b, 1) || (b.kind === 'mem' && b.size === 1)), m, ops);
      return [0x0f, m === 'movzx' ? 0xb6 : 0xbe, ...modrm(a.reg, b)];
    case 'lea':
      need(n === 2 && isReg(a, 4) && b.kind === 'mem', m, ops);
      return [0x8d, ...modrm(a.reg, b)];
    case 'test':
      need(n === 2, m, ops);
      if (b.kind === 'imm') {
        need(isReg(a, 4) || isDword(a), m, ops);
        if (isReg(a) && a.reg === EAX) return [0xa9, ...le32(b.value)];
        return [0xf7, ...modrm(0, a), ...le32(b.value)];
      }
      if (isReg(b, 4) && (isReg(a, 4) || (a.kind === 'mem' && a.size !== 1))) return [0x85, ...modrm(b.reg, a)];
      if (isReg(a, 4) && b.kind === 'mem' && b.size !== 1) return [0x85, ...modrm(a.reg, b)];
      return invalid(m, ops);
    case 'inc': case 'dec':
      need(n === 1, m, ops);
      if (isReg(a, 4)) return [(m === 'inc' ? 0x40 : 0x48) | a.reg];
      need(isDword(a), m, ops);
      return [0xff, ...modrm(m === 'inc' ? 0 : 1, a)];
    case 'imul':
      need(isReg(a, 4), m, ops);
      if (n === 2 && b.kind !== 'imm') {
        need(isReg(b, 4) || (b.kind === 'mem' && b.size !== 1), m, ops);
        return [0x0f, 0xaf, ...modrm(a.reg, b)];
      }
      {
        // imul r, imm is GNU's shorthand for imul r, r, imm.
        const src = n === 2 ? a : b;
        const k = n === 2 ? b : c;
        need(k !== undefined && k.kind === 'imm' && (isReg(src, 4) || (src.kind === 'mem' && src.size !== 1)), m, ops);
        if (fitsI8(k.value) && !k.wide) return [0x6b, ...modrm(a.reg, src), k.value & 0xff];
        return [0x69, ...modrm(a.reg, src), ...le32(k.value)];
      }
    case 'push':
      need(n === 1, m, ops);
      if (isReg(a, 4)) return [0x50 | a.reg];
      if (a.kind === 'imm') return fitsI8(a.value) && !a.wide ? [0x6a, a.value & 0xff] : [0x68, ...le32(a.value)];
      need(a.kind === 'mem' && a.size !== 1, m, ops);
      return [0xff, ...modrm(6, a)];
    case 'pop':
      need(n === 1, m, ops);
      if (isReg(a, 4)) return [0x58 | a.reg];
      need(a.kind === 'mem' && a.size !== 1, m, ops);
      return [0x8f, ...modrm(0, a)];
    case 'jmp':
      need(n === 1, m, ops);
      if (a.kind === 'rel')
        return a.short ? shortBranch(0xeb, a.target, address) : [0xe9, ...le32(a.target - (address + 5))];
      need(isReg(a, 4) || (a.kind === 'mem' && a.size !== 1), m, ops);
      return [0xff, ...modrm(4, a)];
    case 'call':
      need(n === 1, m, ops);
      if (a.kind === 'rel') return [0xe8, ...le32(a.target - (address + 5))];
      need(isReg(a, 4) || (a.kind === 'mem' && a.size !== 1), m, ops);
      return [0xff, ...modrm(2, a)];
    case 'ret':
      if (n === 0) return [0xc3];
      need(n === 1 && a.kind === 'imm', m, ops);
      if (a.value < -0x8000 || a.value > 0xffff) throw new EncodeError(`ret count ${a.value} does not fit in 16 bits`);
      return [0xc2, a.value & 0xff, (a.value >>> 8) & 0xff];
    case 'cdq': case 'cltd': need(n === 0, m, ops); return [0x99];
    case 'nop': need(n === 0, m, ops); return [0x90];
    // ---- outside the subset: for the runtime stubs and the negative tests ----
    case 'int':
      need(n === 1 && a.kind === 'imm', m, ops);
      // GNU as encodes `int 3` as the one-byte int3.
      if (a.value === 3 && !a.wide) return [0xcc];
      return [0xcd, imm8(a.value)];
    case 'int3': return [0xcc];
    case 'into': return [0xce];
    case 'cli': return [0xfa];
    case 'sti': return [0xfb];
    case 'hlt': return [0xf4];
    case 'iret': case 'iretd': return [0xcf];
    case 'pushf': case 'pushfd': return [0x9c];
    case 'popf': case 'popfd': return [0x9d];
    case 'leave': return [0xc9];
    case 'ud2': return [0x0f, 0x0b];
    case 'wrmsr': return [0x0f, 0x30];
    case 'rdtsc': return [0x0f, 0x31];
    case 'rdmsr': return [0x0f, 0x32];
    case 'cpuid': return [0x0f, 0xa2];
    case 'sysenter': return [0x0f, 0x34];
    case 'lgdt': case 'lidt': case 'invlpg':
      need(n === 1 && a.kind === 'mem', m, ops);
      return [0x0f, 0x01, ...modrm(m === 'lgdt' ? 2 : m === 'lidt' ? 3 : 7, a)];
    case 'in':
      need(n === 2 && isReg(a) && a.reg === EAX, m, ops);
      if (b.kind === 'dx') return [a.size === 1 ? 0xec : 0xed];
      need(b.kind === 'imm', m, ops);
      return [a.size === 1 ? 0xe4 : 0xe5, imm8(b.value, 'port')];
    case 'out':
      need(n === 2 && isReg(b) && b.reg === EAX, m, ops);
      if (a.kind === 'dx') return [b.size === 1 ? 0xee : 0xef];
      need(a.kind === 'imm', m, ops);
      return [b.size === 1 ? 0xe6 : 0xe7, imm8(a.value, 'port')];
  }
  throw new EncodeError(`unknown instruction '${m}'`);
}

function shortBranch(opcode: number, target: number, address: number): number[] {
  const rel = target - (address + 2);
  if (!fitsI8(rel)) throw new EncodeError(`branch target out of range for a short jump`);
  return [opcode, rel & 0xff];
}

function encodeMov(ops: AsmOperand[]): number[] {
  const [a, b] = ops;
  need(ops.length === 2, 'mov', ops);
  // Control registers (privileged: for tests of the machine and of refusals).
  if (a.kind === 'creg') { need(isReg(b, 4), 'mov', ops); return [0x0f, 0x22, 0xc0 | (a.n << 3) | b.reg]; }
  if (b.kind === 'creg') { need(isReg(a, 4), 'mov', ops); return [0x0f, 0x20, 0xc0 | (b.n << 3) | a.reg]; }
  const size = a.kind === 'reg' ? a.size : b.kind === 'reg' ? b.size : a.kind === 'mem' ? a.size : 0;
  if (size === 0) throw new EncodeError(`ambiguous operand size for 'mov' (say BYTE PTR or DWORD PTR)`);
  if (a.kind === 'mem' && a.size !== 0 && a.size !== size) return invalid('mov', ops);
  if (b.kind === 'mem' && b.size !== 0 && b.size !== size) return invalid('mov', ops);
  const byte = size === 1;
  if (b.kind === 'imm') {
    if (a.kind === 'reg') return byte ? [0xb0 | a.reg, imm8(b.value)] : [0xb8 | a.reg, ...le32(b.value)];
    need(a.kind === 'mem', 'mov', ops);
    return byte ? [0xc6, ...modrm(0, a), imm8(b.value)] : [0xc7, ...modrm(0, a), ...le32(b.value)];
  }
  // The accumulator with an absolute address has its own short form (A0-A3).
  if (isReg(a) && a.reg === EAX && b.kind === 'mem' && b.base === NO_REG && b.index === NO_REG)
    return [byte ? 0xa0 : 0xa1, ...le32(b.disp)];
  if (isReg(b) && b.reg === EAX && a.kind === 'mem' && a.base === NO_REG && a.index === NO_REG)
    return [byte ? 0xa2 : 0xa3, ...le32(a.disp)];
  if (b.kind === 'reg' && (a.kind === 'reg' || a.kind === 'mem')) {
    need(a.kind === 'mem' || a.size === b.size, 'mov', ops);
    return [byte ? 0x88 : 0x89, ...modrm(b.reg, a)];
  }
  if (a.kind === 'reg' && b.kind === 'mem') return [byte ? 0x8a : 0x8b, ...modrm(a.reg, b)];
  return invalid('mov', ops);
}

