// The decoder of the TAL subset of IA-32 (docs/tal.md §1-2). It is part of the trusted base: the checker types
// exactly what this returns, so it accepts only encodings whose meaning it knows completely, and classifies
// everything else (see RefusalClass). Checked against objdump in test/tal/decoder-oracle.test.ts.

import {
  type Insn, type Refusal, type RefusalClass, type Operand, type MemOperand, type Scale,
  NO_REG, ESP, EBP, CC_NAMES,
} from './insn.ts';

const ALU_OPS = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'] as const;
// Shift group /n → mnemonic; rcl (2), rcr (3) and the undocumented sal alias (6) are outside the subset.
const SHIFT_OPS: readonly (string | null)[] = ['rol', 'ror', null, null, 'shl', 'shr', null, 'sar'];
const F7_OPS: readonly (string | null)[] = ['test', null, 'not', 'neg', 'mul', 'imul', 'div', 'idiv'];

/** Thrown inside the decoder only; turned into a Refusal by decode(). */
class Refuse {
  constructor(readonly reason: RefusalClass, readonly text: string, readonly length = 1) {}
}

/** A cursor over the code bytes; reading past the end refuses the instruction as truncated. */
class Cursor {
  pos: number;
  constructor(public code: Uint8Array, public start: number) { this.pos = start; }
  reset(code: Uint8Array, start: number): this {
    this.code = code;
    this.start = this.pos = start;
    return this;
  }
  u8(): number {
    if (this.pos >= this.code.length) throw new Refuse('truncated', '(truncated)', Math.max(1, this.code.length - this.start));
    return this.code[this.pos++];
  }
  i8(): number { return (this.u8() << 24) >> 24; }
  i32(): number {
    const b0 = this.u8(), b1 = this.u8(), b2 = this.u8(), b3 = this.u8();
    return b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
  }
}

interface ModRM { mod: number; reg: number; rm: Operand }
/**
 * What modrm() returns: one object, overwritten by each call (an instruction has one ModRM byte, and every caller
 * takes what it needs before decoding anything else), so that decoding allocates only the instruction and its
 * memory operand.
 */
const MODRM: ModRM = { mod: 0, reg: 0, rm: { kind: 'reg', reg: 0, size: 4 } };
function modrmResult(mod: number, reg: number, rm: Operand): ModRM {
  MODRM.mod = mod;
  MODRM.reg = reg;
  MODRM.rm = rm;
  return MODRM;
}

/** Decodes a ModRM byte and its SIB/displacement. Register operands get `regSize`, memory operands `memSize`. */
function modrm(c: Cursor, regSize: 1 | 4, memSize: 0 | 1 | 4): ModRM {
  const m = c.u8();
  const mod = m >> 6, reg = (m >> 3) & 7, rmField = m & 7;
  if (mod === 3) return modrmResult(mod, reg, regSize === 4 ? R32[rmField] : R8[rmField]);
  let base: number = rmField, index: number = NO_REG, scale: Scale = 1, disp = 0;
  if (rmField === 4) {
    const sib = c.u8();
    const ss = sib >> 6, idx = (sib >> 3) & 7, b = sib & 7;
    // index 100 means "no index"; objdump spells the redundant forms with a pseudo-register eiz. GNU as
    // emits a SIB without index only for an esp base, so that is the only such form the subset has.
    if (idx === 4) {
      if (ss !== 0 || b !== ESP) throw new Refuse('unsupported', '(redundant SIB)', c.pos - c.start);
    } else {
      index = idx;
      scale = (1 << ss) as Scale;
    }
    if (b === EBP && mod === 0) { base = NO_REG; disp = c.i32(); }
    else base = b;
  } else if (rmField === 5 && mod === 0) {
    base = NO_REG;
    disp = c.i32();
  }
  if (mod === 1) disp = c.i8();
  else if (mod === 2) disp = c.i32();
  // objdump prints "+0x0" when displacement bytes are present; remember that for the formatter. Every memory operand
  // is made with every field, in one order, so that they all have one shape (the checker reads them at every access).
  const explicitDisp = mod !== 0 || base === NO_REG;
  const mem: MemOperand = { kind: 'mem', size: memSize, base, index, scale, disp, explicitDisp, moffs: false };
  return modrmResult(mod, reg, mem);
}

// Register operands are the same few values again and again: made once, frozen (no one may change them).
const R32: readonly Operand[] = [0, 1, 2, 3, 4, 5, 6, 7].map(n => Object.freeze({ kind: 'reg', reg: n, size: 4 } as const));
const R8: readonly Operand[] = [0, 1, 2, 3, 4, 5, 6, 7].map(n => Object.freeze({ kind: 'reg', reg: n, size: 1 } as const));
function r32(n: number): Operand { return R32[n]; }
function r8(n: number): Operand { return R8[n]; }
function imm(v: number): Operand { return { kind: 'imm', value: v | 0 }; }
function moffs(c: Cursor, size: 1 | 4): Operand {
  // objdump prints the moffs form without a size: "mov eax,ds:0x..."
  return { kind: 'mem', size, base: NO_REG, index: NO_REG, scale: 1, disp: c.i32(), explicitDisp: false, moffs: true };
}

function insn(c: Cursor, address: number, op: string, operands: Operand[], cc = -1): Insn {
  return { address, length: c.pos - c.start, op, cc, operands };
}

/** Decodes one instruction at `code[offset]`, whose address is `address`. Never throws. */
/** The cursor decode() uses (decoding is not reentrant: nothing here calls out). */
const cursor = new Cursor(new Uint8Array(0), 0);

export function decode(code: Uint8Array, offset: number, address: number): Insn | Refusal {
  const c = cursor.reset(code, offset);
  try {
    return decodeOne(c, address);
  } catch (e) {
    if (e instanceof Refuse) {
      const length = Math.max(1, Math.min(e.length, code.length - offset));
      return { refused: true, address, length, text: e.text, reason: e.reason };
    }
    throw e;
  }
}

function decodeOne(c: Cursor, address: number): Insn {
  const b = c.u8();
  // The ALU block 00-3F: op r/m,r ; op r,r/m ; op al/eax,imm, for eight operations in rows of eight.
  if (b < 0x40) {
    const row = b >> 3, col = b & 7;
    if (col === 1) { const m = modrm(c, 4, 4); return insn(c, address, ALU_OPS[row], [m.rm, r32(m.reg)]); }
    if (col === 3) { const m = modrm(c, 4, 4); return insn(c, address, ALU_OPS[row], [r32(m.reg), m.rm]); }
    if (col === 5) return insn(c, address, ALU_OPS[row], [r32(0), imm(c.i32())]);
    if (col === 0 || col === 2 || col === 4) throw new Refuse('unsupported', `${ALU_OPS[row]} (byte form)`);
    // col 6/7: push/pop es cs ss ds, segment prefixes, daa das aaa aas, and the 0F escape.
    if (b === 0x0f) return decode0F(c, address);
    if (b === 0x26 || b === 0x2e || b === 0x36 || b === 0x3e) throw new Refuse('segment', 'segment override prefix');
    if (b === 0x06 || b === 0x07 || b === 0x0e || b === 0x16 || b === 0x17 || b === 0x1e || b === 0x1f) throw new Refuse('segment', 'push/pop of a segment register');
    throw new Refuse('unsupported', '(BCD arithmetic)');
  }
  if (b < 0x48) return insn(c, address, 'inc', [r32(b & 7)]);
  if (b < 0x50) return insn(c, address, 'dec', [r32(b & 7)]);
  if (b < 0x58) return insn(c, address, 'push', [r32(b & 7)]);
  if (b < 0x60) return insn(c, address, 'pop', [r32(b & 7)]);
  if (b >= 0x70 && b < 0x80) {
    const rel = c.i8();
    return insn(c, address, 'jcc', [{ kind: 'rel', target: (address + (c.pos - c.start) + rel) >>> 0 }], b & 15);
  }
  if (b >= 0xb0 && b < 0xb8) return insn(c, address, 'mov', [r8(b & 7), imm(c.u8())]);
  if (b >= 0xb8 && b < 0xc0) return insn(c, address, 'mov', [r32(b & 7), imm(c.i32())]);
  if (b >= 0xd8 && b < 0xe0) throw new Refuse('fpu-simd', 'x87 instruction');
  switch (b) {
    case 0x62: {
      // In 32-bit mode 62 with a register ModRM is the EVEX prefix (AVX-512), not bound.
      const m = c.u8();
      if (m >> 6 === 3) throw new Refuse('fpu-simd', 'EVEX-encoded instruction');
      throw new Refuse('interrupt', 'bound');
    }
    case 0x64: case 0x65: throw new Refuse('segment', 'segment override prefix');
    case 0x66: throw new Refuse('prefix', 'operand-size prefix');
    case 0x67: throw new Refuse('prefix', 'address-size prefix');
    case 0xf0: throw new Refuse('prefix', 'lock prefix');
    case 0xf2: case 0xf3: throw new Refuse('prefix', 'rep prefix');
    case 0x68: return insn(c, address, 'push', [imm(c.i32())]);
    case 0x6a: return insn(c, address, 'push', [imm(c.i8())]);
    case 0x69: { const m = modrm(c, 4, 4); return insn(c, address, 'imul', [r32(m.reg), m.rm, imm(c.i32())]); }
    case 0x6b: { const m = modrm(c, 4, 4); return insn(c, address, 'imul', [r32(m.reg), m.rm, imm(c.i8())]); }
    case 0x6c: case 0x6d: case 0x6e: case 0x6f: throw new Refuse('string-op', b < 0x6e ? 'ins' : 'outs');
    case 0x81: case 0x83: {
      const m = modrm(c, 4, 4);
      return insn(c, address, ALU_OPS[m.reg], [m.rm, imm(b === 0x81 ? c.i32() : c.i8())]);
    }
    case 0x85: { const m = modrm(c, 4, 4); return insn(c, address, 'test', [m.rm, r32(m.reg)]); }
    case 0x88: { const m = modrm(c, 1, 1); return insn(c, address, 'mov', [m.rm, r8(m.reg)]); }
    case 0x89: { const m = modrm(c, 4, 4); return insn(c, address, 'mov', [m.rm, r32(m.reg)]); }
    case 0x8a: { const m = modrm(c, 1, 1); return insn(c, address, 'mov', [r8(m.reg), m.rm]); }
    case 0x8b: { const m = modrm(c, 4, 4); return insn(c, address, 'mov', [r32(m.reg), m.rm]); }
    case 0x8c: case 0x8e: throw new Refuse('segment', 'mov to or from a segment register');
    case 0x8d: {
      const m = modrm(c, 4, 0);
      if (m.mod === 3) throw new Refuse('unsupported', 'lea with a register operand');
      return insn(c, address, 'lea', [r32(m.reg), m.rm]);
    }
    case 0x8f: {
      const m = modrm(c, 4, 4);
      if (m.reg !== 0) throw new Refuse('unsupported', '(bad)');
      return insn(c, address, 'pop', [m.rm]);
    }
    case 0x90: return insn(c, address, 'nop', []);
    case 0x99: return insn(c, address, 'cdq', []);
    case 0x9a: throw new Refuse('far-transfer', 'call far');
    case 0x9b: throw new Refuse('fpu-simd', 'fwait');
    case 0x9c: throw new Refuse('privileged', 'pushf');
    case 0x9d: throw new Refuse('privileged', 'popf');
    case 0xa0: return insn(c, address, 'mov', [r8(0), moffs(c, 1)]);
    case 0xa1: return insn(c, address, 'mov', [r32(0), moffs(c, 4)]);
    case 0xa2: return insn(c, address, 'mov', [moffs(c, 1), r8(0)]);
    case 0xa3: return insn(c, address, 'mov', [moffs(c, 4), r32(0)]);
    case 0xa4: case 0xa5: throw new Refuse('string-op', 'movs');
    case 0xa6: case 0xa7: throw new Refuse('string-op', 'cmps');
    case 0xaa: case 0xab: throw new Refuse('string-op', 'stos');
    case 0xac: case 0xad: throw new Refuse('string-op', 'lods');
    case 0xae: case 0xaf: throw new Refuse('string-op', 'scas');
    case 0xa9: return insn(c, address, 'test', [r32(0), imm(c.i32())]);
    case 0xc1: case 0xd1: case 0xd3: {
      const m = modrm(c, 4, 4);
      const op = SHIFT_OPS[m.reg];
      if (!op) throw new Refuse('unsupported', ['rcl', 'rcr', 'sal'][m.reg === 6 ? 2 : m.reg - 2]);
      const count: Operand = b === 0xc1 ? imm(c.u8()) : b === 0xd1 ? { kind: 'imm', value: 1, implied: true } : r8(1);
      const i = insn(c, address, op, [m.rm, count]);
      return i;
    }
    case 0xc3: return insn(c, address, 'ret', []);
    case 0xc2: throw new Refuse('unsupported', 'ret imm16');
    case 0xc4: case 0xc5: {
      // In 32-bit mode c4/c5 with a register ModRM are the VEX prefixes (AVX), not les/lds.
      const m = c.u8();
      if (m >> 6 === 3) throw new Refuse('fpu-simd', 'VEX-encoded instruction');
      throw new Refuse('segment', b === 0xc4 ? 'les' : 'lds');
    }
    case 0xc6: case 0xc7: {
      const m = modrm(c, b === 0xc6 ? 1 : 4, b === 0xc6 ? 1 : 4);
      if (m.reg !== 0) throw new Refuse('unsupported', '(bad)');
      return insn(c, address, 'mov', [m.rm, imm(b === 0xc6 ? c.u8() : c.i32())]);
    }
    case 0xc8: throw new Refuse('unsupported', 'enter');
    case 0xc9: throw new Refuse('unsupported', 'leave');
    case 0xca: case 0xcb: throw new Refuse('far-transfer', 'retf');
    case 0xcc: throw new Refuse('interrupt', 'int3');
    case 0xcd: { const n = c.u8(); throw new Refuse('interrupt', `int 0x${n.toString(16)}`, 2); }
    case 0xce: throw new Refuse('interrupt', 'into');
    case 0xcf: throw new Refuse('privileged', 'iret');
    case 0xe4: case 0xe5: case 0xec: case 0xed: throw new Refuse('privileged', 'in');
    case 0xe6: case 0xe7: case 0xee: case 0xef: throw new Refuse('privileged', 'out');
    case 0xe8: { const rel = c.i32(); return insn(c, address, 'call', [{ kind: 'rel', target: (address + 5 + rel) >>> 0 }]); }
    case 0xe9: { const rel = c.i32(); return insn(c, address, 'jmp', [{ kind: 'rel', target: (address + 5 + rel) >>> 0 }]); }
    case 0xea: throw new Refuse('far-transfer', 'jmp far');
    case 0xeb: { const rel = c.i8(); return insn(c, address, 'jmp', [{ kind: 'rel', target: (address + 2 + rel) >>> 0 }]); }
    case 0xf1: throw new Refuse('interrupt', 'int1');
    case 0xf4: throw new Refuse('privileged', 'hlt');
    case 0xfa: throw new Refuse('privileged', 'cli');
    case 0xfb: throw new Refuse('privileged', 'sti');
    case 0xf7: {
      const m = modrm(c, 4, 4);
      const op = F7_OPS[m.reg];
      if (!op) throw new Refuse('unsupported', '(bad)');
      return insn(c, address, op, op === 'test' ? [m.rm, imm(c.i32())] : [m.rm]);
    }
    case 0xff: {
      const m = modrm(c, 4, 4);
      switch (m.reg) {
        case 0: return insn(c, address, 'inc', [m.rm]);
        case 1: return insn(c, address, 'dec', [m.rm]);
        case 2: return insn(c, address, 'call', [m.rm]);
        case 3: throw new Refuse('far-transfer', 'call far', c.pos - c.start);
        case 4: return insn(c, address, 'jmp', [m.rm]);
        case 5: throw new Refuse('far-transfer', 'jmp far', c.pos - c.start);
        case 6: return insn(c, address, 'push', [m.rm]);
        default: throw new Refuse('unsupported', '(bad)');
      }
    }
  }
  throw new Refuse('unsupported', `opcode 0x${b.toString(16).padStart(2, '0')}`);
}

function decode0F(c: Cursor, address: number): Insn {
  const b = c.u8();
  if (b >= 0x80 && b < 0x90) {
    const rel = c.i32();
    return insn(c, address, 'jcc', [{ kind: 'rel', target: (address + 6 + rel) >>> 0 }], b & 15);
  }
  if (b >= 0x90 && b < 0xa0) {
    const m = modrm(c, 1, 1);
    if (m.reg !== 0) throw new Refuse('unsupported', `set${CC_NAMES[b & 15]} with a non-zero reg field`);
    return insn(c, address, 'setcc', [m.rm], b & 15);
  }
  switch (b) {
    case 0xaf: { const m = modrm(c, 4, 4); return insn(c, address, 'imul', [r32(m.reg), m.rm]); }
    case 0xb6: { const m = modrm(c, 1, 1); return insn(c, address, 'movzx', [r32(m.reg), m.rm]); }
    case 0xbe: { const m = modrm(c, 1, 1); return insn(c, address, 'movsx', [r32(m.reg), m.rm]); }
    case 0x00: throw new Refuse('privileged', 'sldt/str/lldt/ltr/verr/verw');
    case 0x01: throw new Refuse('privileged', 'sgdt/sidt/lgdt/lidt/smsw/lmsw/invlpg');
    case 0x02: case 0x03: throw new Refuse('privileged', b === 2 ? 'lar' : 'lsl');
    case 0x05: throw new Refuse('interrupt', 'syscall');
    case 0x06: throw new Refuse('privileged', 'clts');
    case 0x07: throw new Refuse('privileged', 'sysret');
    case 0x08: throw new Refuse('privileged', 'invd');
    case 0x09: throw new Refuse('privileged', 'wbinvd');
    case 0x0b: case 0xb9: case 0xff: throw new Refuse('interrupt', b === 0x0b ? 'ud2' : b === 0xb9 ? 'ud1' : 'ud0');
    case 0x20: case 0x22: throw new Refuse('privileged', 'mov to or from a control register');
    case 0x21: case 0x23: throw new Refuse('privileged', 'mov to or from a debug register');
    case 0x24: case 0x26: throw new Refuse('privileged', 'mov to or from a test register');
    case 0x30: throw new Refuse('privileged', 'wrmsr');
    case 0x32: throw new Refuse('privileged', 'rdmsr');
    case 0x33: throw new Refuse('privileged', 'rdpmc');
    case 0x34: throw new Refuse('interrupt', 'sysenter');
    case 0x35: throw new Refuse('privileged', 'sysexit');
    case 0xa0: case 0xa1: case 0xa8: case 0xa9: throw new Refuse('segment', 'push/pop fs/gs');
    case 0xb2: case 0xb4: case 0xb5: throw new Refuse('segment', 'lss/lfs/lgs');
  }
  if (b === 0x0e || b === 0x0f || b === 0x77 || (b >= 0x10 && b <= 0x17) || (b >= 0x28 && b <= 0x2f) ||
      (b >= 0x38 && b <= 0x3a) || (b >= 0x50 && b <= 0x7f) || (b >= 0xc2 && b <= 0xc6) || b >= 0xd0 || b === 0xae)
    throw new Refuse('fpu-simd', 'x87/MMX/SSE instruction', 2);
  throw new Refuse('unsupported', `opcode 0x0f 0x${b.toString(16).padStart(2, '0')}`, 2);
}
