// The decoder of the TAL subset of IA-32 (docs/tal.md §1-2). It is part of the trusted base: the checker types
// exactly what this returns, so it accepts only encodings whose meaning it knows completely, and classifies
// everything else (see RefusalClass). Checked against objdump in test/tal/decoder-oracle.test.ts.

import {
  type Insn, type Refusal, type RefusalClass, type Operand, type MemOperand, type ImmOperand, type RelOperand,
  type Scale, NO_REG, ESP, EBP, CC_NAMES, isRefusal,
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
 * takes what it needs before decoding anything else).
 */
const MODRM: ModRM = { mod: 0, reg: 0, rm: { kind: 'reg', reg: 0, size: 4 } };
function modrmResult(mod: number, reg: number, rm: Operand): ModRM {
  MODRM.mod = mod;
  MODRM.reg = reg;
  MODRM.rm = rm;
  return MODRM;
}

// ---- the decoded instruction, in objects reused by every decode ----
//
// Decoding allocates nothing: the instruction, its operand list and its operands are a few objects overwritten by
// each call (decodeShared hands them to the checker, which is done with one instruction before it decodes the next;
// decode copies them for everyone else). An instruction of the subset has at most one memory operand, one immediate
// and one branch target, so one object of each kind serves; register operands are shared constants.
const SHARED_MEM: MemOperand = { kind: 'mem', size: 4, base: NO_REG, index: NO_REG, scale: 1, disp: 0, explicitDisp: false, moffs: false };
const SHARED_IMM: ImmOperand = { kind: 'imm', value: 0, implied: false };
const SHARED_REL: RelOperand = { kind: 'rel', target: 0 };
/** The operand list for each arity (0 to 3), its elements overwritten; no instruction of the subset has more. */
const SHARED_LISTS: Operand[][] = [[], [SHARED_IMM], [SHARED_IMM, SHARED_IMM], [SHARED_IMM, SHARED_IMM, SHARED_IMM]];
const SHARED_INSN: Insn = { address: 0, length: 0, op: '', cc: -1, operands: SHARED_LISTS[0] };

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
  // objdump prints "+0x0" when displacement bytes are present; remember that for the formatter.
  const explicitDisp = mod !== 0 || base === NO_REG;
  return modrmResult(mod, reg, mem(memSize, base, index, scale, disp, explicitDisp, false));
}

/** The instruction's memory operand (SHARED_MEM, every field written). */
function mem(size: 0 | 1 | 4, base: number, index: number, scale: Scale, disp: number, explicitDisp: boolean,
  isMoffs: boolean): MemOperand {
  const m = SHARED_MEM;
  m.size = size;
  m.base = base;
  m.index = index;
  m.scale = scale;
  m.disp = disp;
  m.explicitDisp = explicitDisp;
  m.moffs = isMoffs;
  return m;
}

// Register operands are the same few values again and again: made once, frozen (no one may change them).
const R32: readonly Operand[] = [0, 1, 2, 3, 4, 5, 6, 7].map(n => Object.freeze({ kind: 'reg', reg: n, size: 4 } as const));
const R8: readonly Operand[] = [0, 1, 2, 3, 4, 5, 6, 7].map(n => Object.freeze({ kind: 'reg', reg: n, size: 1 } as const));
function imm(v: number): Operand {
  SHARED_IMM.value = v | 0;
  SHARED_IMM.implied = false;
  return SHARED_IMM;
}
/** The count 1 implied by the D1 shift opcodes. */
function impliedOne(): Operand {
  SHARED_IMM.value = 1;
  SHARED_IMM.implied = true;
  return SHARED_IMM;
}
function relTo(target: number): Operand {
  SHARED_REL.target = target;
  return SHARED_REL;
}
function moffs(c: Cursor, size: 1 | 4): Operand {
  // objdump prints the moffs form without a size: "mov eax,ds:0x..."
  return mem(size, NO_REG, NO_REG, 1, c.i32(), false, true);
}

/**
 * The decoded instruction (SHARED_INSN) with no operands, or with the operands a, b, d: one function per arity,
 * each small enough for the engine to inline at its many call sites.
 */
function emitInsn(c: Cursor, address: number, op: string, cc: number, ops: Operand[]): Insn {
  const i = SHARED_INSN;
  i.address = address;
  i.length = c.pos - c.start;
  i.op = op;
  i.cc = cc;
  i.operands = ops;
  return i;
}
function emit0(c: Cursor, address: number, op: string): Insn {
  return emitInsn(c, address, op, -1, SHARED_LISTS[0]);
}
function emit1(c: Cursor, address: number, op: string, cc: number, a: Operand): Insn {
  const ops = SHARED_LISTS[1];
  ops[0] = a;
  return emitInsn(c, address, op, cc, ops);
}
function emit2(c: Cursor, address: number, op: string, a: Operand, b: Operand): Insn {
  const ops = SHARED_LISTS[2];
  ops[0] = a;
  ops[1] = b;
  return emitInsn(c, address, op, -1, ops);
}
function emit3(c: Cursor, address: number, op: string, a: Operand, b: Operand, d: Operand): Insn {
  const ops = SHARED_LISTS[3];
  ops[0] = a;
  ops[1] = b;
  ops[2] = d;
  return emitInsn(c, address, op, -1, ops);
}

/** The cursor decode() uses (decoding is not reentrant: nothing here calls out). */
const cursor = new Cursor(new Uint8Array(0), 0);

/**
 * Decodes one instruction at `code[offset]`, whose address is `address`, into the shared objects: what it returns is
 * valid until the next call of decodeShared or decode, and must not be kept or changed (the checker's pass: it
 * finishes with each instruction before decoding the next, and formats a refused one before decoding again). Never
 * throws.
 */
export function decodeShared(code: Uint8Array, offset: number, address: number): Insn | Refusal {
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

/** Decodes one instruction at `code[offset]`, whose address is `address`, into objects of its own. Never throws. */
export function decode(code: Uint8Array, offset: number, address: number): Insn | Refusal {
  const d = decodeShared(code, offset, address);
  return isRefusal(d) ? d : { address: d.address, length: d.length, op: d.op, cc: d.cc, operands: d.operands.map(copyOperand) };
}

/** An operand of the shared objects as an object of its own, in the shape the decoder has always returned. */
function copyOperand(o: Operand): Operand {
  switch (o.kind) {
    case 'imm': return o.implied ? { kind: 'imm', value: o.value, implied: true } : { kind: 'imm', value: o.value };
    case 'mem': return { ...o };
    case 'rel': return { kind: 'rel', target: o.target };
    default: return o; // registers: frozen constants
  }
}

function decodeOne(c: Cursor, address: number): Insn {
  // Only the encodings of the subset are decoded here; every other byte goes to refuseOpcode. Kept apart, the
  // refusals made this function too large for the engine to inline modrm and emit into it (a fifth of a check's
  // decoding was those calls).
  const b = c.u8();
  // The ALU block 00-3F: op r/m,r ; op r,r/m ; op al/eax,imm, for eight operations in rows of eight.
  if (b < 0x40) {
    const row = b >> 3, col = b & 7;
    if (col === 1) { const m = modrm(c, 4, 4); return emit2(c, address, ALU_OPS[row], m.rm, R32[m.reg]); }
    if (col === 3) { const m = modrm(c, 4, 4); return emit2(c, address, ALU_OPS[row], R32[m.reg], m.rm); }
    if (col === 5) return emit2(c, address, ALU_OPS[row], R32[0], imm(c.i32()));
    if (b === 0x0f) return decode0F(c, address);
    return refuseOpcode(c, b);
  }
  if (b < 0x48) return emit1(c, address, 'inc', -1, R32[b & 7]);
  if (b < 0x50) return emit1(c, address, 'dec', -1, R32[b & 7]);
  if (b < 0x58) return emit1(c, address, 'push', -1, R32[b & 7]);
  if (b < 0x60) return emit1(c, address, 'pop', -1, R32[b & 7]);
  if (b >= 0x70 && b < 0x80) {
    const rel = c.i8();
    return emit1(c, address, 'jcc', b & 15, relTo((address + (c.pos - c.start) + rel) >>> 0));
  }
  if (b >= 0xb0 && b < 0xb8) return emit2(c, address, 'mov', R8[b & 7], imm(c.u8()));
  if (b >= 0xb8 && b < 0xc0) return emit2(c, address, 'mov', R32[b & 7], imm(c.i32()));
  switch (b) {
    case 0x68: return emit1(c, address, 'push', -1, imm(c.i32()));
    case 0x6a: return emit1(c, address, 'push', -1, imm(c.i8()));
    case 0x69: { const m = modrm(c, 4, 4); return emit3(c, address, 'imul', R32[m.reg], m.rm, imm(c.i32())); }
    case 0x6b: { const m = modrm(c, 4, 4); return emit3(c, address, 'imul', R32[m.reg], m.rm, imm(c.i8())); }
    case 0x81: case 0x83: {
      const m = modrm(c, 4, 4);
      return emit2(c, address, ALU_OPS[m.reg], m.rm, imm(b === 0x81 ? c.i32() : c.i8()));
    }
    case 0x85: { const m = modrm(c, 4, 4); return emit2(c, address, 'test', m.rm, R32[m.reg]); }
    case 0x88: { const m = modrm(c, 1, 1); return emit2(c, address, 'mov', m.rm, R8[m.reg]); }
    case 0x89: { const m = modrm(c, 4, 4); return emit2(c, address, 'mov', m.rm, R32[m.reg]); }
    case 0x8a: { const m = modrm(c, 1, 1); return emit2(c, address, 'mov', R8[m.reg], m.rm); }
    case 0x8b: { const m = modrm(c, 4, 4); return emit2(c, address, 'mov', R32[m.reg], m.rm); }
    case 0x8d: {
      const m = modrm(c, 4, 0);
      if (m.mod === 3) throw new Refuse('unsupported', 'lea with a register operand');
      return emit2(c, address, 'lea', R32[m.reg], m.rm);
    }
    case 0x8f: {
      const m = modrm(c, 4, 4);
      if (m.reg !== 0) throw new Refuse('unsupported', '(bad)');
      return emit1(c, address, 'pop', -1, m.rm);
    }
    case 0x90: return emit0(c, address, 'nop');
    case 0x99: return emit0(c, address, 'cdq');
    case 0xa0: return emit2(c, address, 'mov', R8[0], moffs(c, 1));
    case 0xa1: return emit2(c, address, 'mov', R32[0], moffs(c, 4));
    case 0xa2: return emit2(c, address, 'mov', moffs(c, 1), R8[0]);
    case 0xa3: return emit2(c, address, 'mov', moffs(c, 4), R32[0]);
    case 0xa9: return emit2(c, address, 'test', R32[0], imm(c.i32()));
    case 0xc1: case 0xd1: case 0xd3: {
      const m = modrm(c, 4, 4);
      const op = SHIFT_OPS[m.reg];
      if (!op) throw new Refuse('unsupported', ['rcl', 'rcr', 'sal'][m.reg === 6 ? 2 : m.reg - 2]);
      const count: Operand = b === 0xc1 ? imm(c.u8()) : b === 0xd1 ? impliedOne() : R8[1];
      return emit2(c, address, op, m.rm, count);
    }
    case 0xc3: return emit0(c, address, 'ret');
    case 0xc6: case 0xc7: {
      const m = modrm(c, b === 0xc6 ? 1 : 4, b === 0xc6 ? 1 : 4);
      if (m.reg !== 0) throw new Refuse('unsupported', '(bad)');
      return emit2(c, address, 'mov', m.rm, imm(b === 0xc6 ? c.u8() : c.i32()));
    }
    case 0xe8: { const rel = c.i32(); return emit1(c, address, 'call', -1, relTo((address + 5 + rel) >>> 0)); }
    case 0xe9: { const rel = c.i32(); return emit1(c, address, 'jmp', -1, relTo((address + 5 + rel) >>> 0)); }
    case 0xeb: { const rel = c.i8(); return emit1(c, address, 'jmp', -1, relTo((address + 2 + rel) >>> 0)); }
    case 0xf7: {
      const m = modrm(c, 4, 4);
      const op = F7_OPS[m.reg];
      if (!op) throw new Refuse('unsupported', '(bad)');
      return op === 'test' ? emit2(c, address, op, m.rm, imm(c.i32())) : emit1(c, address, op, -1, m.rm);
    }
    case 0xff: {
      const m = modrm(c, 4, 4);
      switch (m.reg) {
        case 0: return emit1(c, address, 'inc', -1, m.rm);
        case 1: return emit1(c, address, 'dec', -1, m.rm);
        case 2: return emit1(c, address, 'call', -1, m.rm);
        case 3: throw new Refuse('far-transfer', 'call far', c.pos - c.start);
        case 4: return emit1(c, address, 'jmp', -1, m.rm);
        case 5: throw new Refuse('far-transfer', 'jmp far', c.pos - c.start);
        case 6: return emit1(c, address, 'push', -1, m.rm);
        default: throw new Refuse('unsupported', '(bad)');
      }
    }
  }
  return refuseOpcode(c, b);
}

/**
 * The one-byte opcodes outside the subset (the first byte read, the cursor just past it): each refused with its
 * class. No opcode decodeOne accepts comes here.
 */
function refuseOpcode(c: Cursor, b: number): never {
  if (b < 0x40) {
    const row = b >> 3, col = b & 7;
    if (col === 0 || col === 2 || col === 4) throw new Refuse('unsupported', `${ALU_OPS[row]} (byte form)`);
    // col 6/7: push/pop es cs ss ds, segment prefixes, daa das aaa aas (the 0F escape is decoded).
    if (b === 0x26 || b === 0x2e || b === 0x36 || b === 0x3e) throw new Refuse('segment', 'segment override prefix');
    if (b === 0x06 || b === 0x07 || b === 0x0e || b === 0x16 || b === 0x17 || b === 0x1e || b === 0x1f) throw new Refuse('segment', 'push/pop of a segment register');
    throw new Refuse('unsupported', '(BCD arithmetic)');
  }
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
    case 0x6c: case 0x6d: case 0x6e: case 0x6f: throw new Refuse('string-op', b < 0x6e ? 'ins' : 'outs');
    case 0x8c: case 0x8e: throw new Refuse('segment', 'mov to or from a segment register');
    case 0x9a: throw new Refuse('far-transfer', 'call far');
    case 0x9b: throw new Refuse('fpu-simd', 'fwait');
    case 0x9c: throw new Refuse('privileged', 'pushf');
    case 0x9d: throw new Refuse('privileged', 'popf');
    case 0xa4: case 0xa5: throw new Refuse('string-op', 'movs');
    case 0xa6: case 0xa7: throw new Refuse('string-op', 'cmps');
    case 0xaa: case 0xab: throw new Refuse('string-op', 'stos');
    case 0xac: case 0xad: throw new Refuse('string-op', 'lods');
    case 0xae: case 0xaf: throw new Refuse('string-op', 'scas');
    case 0xc2: throw new Refuse('unsupported', 'ret imm16');
    case 0xc4: case 0xc5: {
      // In 32-bit mode c4/c5 with a register ModRM are the VEX prefixes (AVX), not les/lds.
      const m = c.u8();
      if (m >> 6 === 3) throw new Refuse('fpu-simd', 'VEX-encoded instruction');
      throw new Refuse('segment', b === 0xc4 ? 'les' : 'lds');
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
    case 0xea: throw new Refuse('far-transfer', 'jmp far');
    case 0xf1: throw new Refuse('interrupt', 'int1');
    case 0xf4: throw new Refuse('privileged', 'hlt');
    case 0xfa: throw new Refuse('privileged', 'cli');
    case 0xfb: throw new Refuse('privileged', 'sti');
  }
  throw new Refuse('unsupported', `opcode 0x${b.toString(16).padStart(2, '0')}`);
}

function decode0F(c: Cursor, address: number): Insn {
  const b = c.u8();
  if (b >= 0x80 && b < 0x90) {
    const rel = c.i32();
    return emit1(c, address, 'jcc', b & 15, relTo((address + 6 + rel) >>> 0));
  }
  if (b >= 0x90 && b < 0xa0) {
    const m = modrm(c, 1, 1);
    if (m.reg !== 0) throw new Refuse('unsupported', `set${CC_NAMES[b & 15]} with a non-zero reg field`);
    return emit1(c, address, 'setcc', b & 15, m.rm);
  }
  switch (b) {
    case 0xaf: { const m = modrm(c, 4, 4); return emit2(c, address, 'imul', R32[m.reg], m.rm); }
    case 0xb6: { const m = modrm(c, 1, 1); return emit2(c, address, 'movzx', R32[m.reg], m.rm); }
    case 0xbe: { const m = modrm(c, 1, 1); return emit2(c, address, 'movsx', R32[m.reg], m.rm); }
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
