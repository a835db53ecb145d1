// The emulator's decoder: IA-32 machine code (32-bit operand and address size, no prefixes) into fixed-size integer
// records that the interpreter runs from a per-physical-page cache. It is separate from tal/x86/decode.ts, which
// serves the checker and refuses what the checker must not accept; this one decodes everything the machine executes
// (the TAL subset, the runtime stubs, and the privileged instructions) and turns every other opcode, and every
// prefix, into a #UD record.
//
// A record is REC (8) int32 words:
//   [0] op (execute.ts Op)   [1] length | aux << 8 | class << 16   [2] reg   [3] base, or the r/m register
//   [4] index   [5] scale (shift 0-3)   [6] displacement   [7] immediate, or a branch displacement from the next eip
// A missing base or index is register 8, which always holds 0, so every address is regs[base] + (regs[index] <<
// scale) + disp. aux is the ALU kind (ModRM /digit), condition code, shift kind, segment register or sub-operation.
// Nothing in a record depends on the virtual address, so a physical page's records serve every mapping of it.

import { Op } from './execute.ts';
import { InsnClass } from './costs.ts';

export const NO_REG = 8;

/** Thrown when the instruction runs past the bytes available (the caller retries with bytes from the next page). */
export const NEED_MORE = { needMore: true };

const ALU = InsnClass.Alu, LOAD = InsnClass.Load, STORE = InsnClass.Store, MUL = InsnClass.Mul, DIV = InsnClass.Div;
const BRANCH = InsnClass.Branch, PRIV = InsnClass.Privileged;

let buf: Uint8Array = new Uint8Array(0);
let pos = 0, end = 0, start0 = 0;
let out: Int32Array = new Int32Array(8);
let o = 0;
// The last ModRM: mod, reg field, rm field, and the memory operand (when mod != 3).
let mMod = 0, mReg = 0, mRm = 0, mBase = NO_REG, mIndex = NO_REG, mScale = 0, mDisp = 0;

function u8(): number {
  if (pos >= end) throw NEED_MORE;
  return buf[pos++];
}
function i8(): number { return (u8() << 24) >> 24; }
function u16(): number { const a = u8(); return a | (u8() << 8); }
function i32(): number {
  const a = u8(), b = u8(), c = u8(), d = u8();
  return a | (b << 8) | (c << 16) | (d << 24);
}

function modrm(): boolean {
  const m = u8();
  mMod = m >> 6; mReg = (m >> 3) & 7; mRm = m & 7;
  mBase = NO_REG; mIndex = NO_REG; mScale = 0; mDisp = 0;
  if (mMod === 3) { mBase = mRm; return false; }
  if (mRm === 4) {
    const s = u8();
    mScale = s >> 6;
    const idx = (s >> 3) & 7;
    if (idx !== 4) mIndex = idx;
    const base = s & 7;
    if (base === 5 && mMod === 0) mDisp = i32();
    else mBase = base;
  } else if (mRm === 5 && mMod === 0) {
    mDisp = i32();
  } else {
    mBase = mRm;
  }
  if (mMod === 1) mDisp = i8();
  else if (mMod === 2) mDisp = i32();
  return true;
}

function emit(op: number, cls: number, aux: number, reg: number, imm: number): void {
  out[o] = op;
  out[o + 1] = (pos - start0) | (aux << 8) | (cls << 16);
  out[o + 2] = reg;
  out[o + 3] = mBase;
  out[o + 4] = mIndex;
  out[o + 5] = mScale;
  out[o + 6] = mDisp;
  out[o + 7] = imm;
}
function noOperand(): void { mBase = NO_REG; mIndex = NO_REG; mScale = 0; mDisp = 0; }
function ud(): void { noOperand(); emit(Op.UD, PRIV, 0, 0, 0); }

const ALU_RR = [Op.ADD_RR, Op.OR_RR, Op.ALU_RR, Op.ALU_RR, Op.AND_RR, Op.SUB_RR, Op.XOR_RR, Op.CMP_RR];
const ALU_RI = [Op.ADD_RI, Op.OR_RI, Op.ALU_RI, Op.ALU_RI, Op.AND_RI, Op.SUB_RI, Op.XOR_RI, Op.CMP_RI];

/**
 * Decode the instruction at bytes[start], using at most `avail` bytes, into out[at..at+8). Throws NEED_MORE if it
 * needs more bytes than available (and avail < 15).
 */
export function decode(bytes: Uint8Array, start: number, avail: number, dst: Int32Array, at: number): void {
  buf = bytes; pos = start; start0 = start; end = start + Math.min(avail, 15); out = dst; o = at;
  noOperand();
  const b0 = u8();
  if (b0 < 0x40 && (b0 & 7) < 6) return alu(b0 >> 3, b0 & 7);
  if (b0 >= 0x40 && b0 < 0x60) {
    const r = b0 & 7;
    const op = b0 < 0x48 ? Op.INC_R : b0 < 0x50 ? Op.DEC_R : b0 < 0x58 ? Op.PUSH_R : Op.POP_R;
    const cls = op === Op.PUSH_R ? STORE : op === Op.POP_R ? LOAD : ALU;
    return emit(op, cls, 0, r, 0);
  }
  if (b0 >= 0x70 && b0 < 0x80) { const d = i8(); return emit(Op.JCC, BRANCH, b0 & 15, 0, d); }
  if (b0 >= 0x91 && b0 < 0x98) { mBase = b0 & 7; return emit(Op.XCHG_RR, ALU, 0, 0, 0); }
  if (b0 >= 0xb0 && b0 < 0xb8) { const v = u8(); return emit(Op.MOV8_RI, ALU, 0, b0 & 7, v); }
  if (b0 >= 0xb8 && b0 < 0xc0) { const v = i32(); return emit(Op.MOV_RI, ALU, 0, b0 & 7, v); }
  switch (b0) {
    case 0x06: return emit(Op.PUSH_SREG, STORE, 0, 0, 0);
    case 0x07: return emit(Op.POP_SREG, LOAD, 0, 0, 0);
    case 0x0e: return emit(Op.PUSH_SREG, STORE, 1, 0, 0);
    case 0x0f: return twoByte();
    case 0x16: return emit(Op.PUSH_SREG, STORE, 2, 0, 0);
    case 0x17: return emit(Op.POP_SREG, LOAD, 2, 0, 0);
    case 0x1e: return emit(Op.PUSH_SREG, STORE, 3, 0, 0);
    case 0x1f: return emit(Op.POP_SREG, LOAD, 3, 0, 0);
    case 0x60: return emit(Op.PUSHA, STORE, 0, 0, 0);
    case 0x61: return emit(Op.POPA, LOAD, 0, 0, 0);
    case 0x68: { const v = i32(); return emit(Op.PUSH_I, STORE, 0, 0, v); }
    case 0x6a: { const v = i8(); return emit(Op.PUSH_I, STORE, 0, 0, v); }
    case 0x69: case 0x6b: {
      const mem = modrm();
      const v = b0 === 0x69 ? i32() : i8();
      return emit(mem ? Op.IMUL_RMI : Op.IMUL_RRI, MUL, 0, mReg, v);
    }
    case 0x80: case 0x82: case 0x81: case 0x83: {
      const mem = modrm();
      const v = b0 === 0x81 ? i32() : b0 === 0x83 ? i8() : u8();
      const kind = mReg;
      if (b0 === 0x81 || b0 === 0x83) {
        if (!mem) { const r = mBase; mBase = NO_REG; return emit(ALU_RI[kind], ALU, kind, r, v); }
        return emit(kind === 7 ? Op.CMP_MI : Op.ALU_MI, kind === 7 ? LOAD : STORE, kind, 0, v);
      }
      if (!mem) { const r = mBase; mBase = NO_REG; return emit(Op.ALU8_RI, ALU, kind, r, v); }
      return emit(Op.ALU8_MI, kind === 7 ? LOAD : STORE, kind, 0, v);
    }
    case 0x84: return modrm() ? emit(Op.TEST8_MR, LOAD, 0, mReg, 0) : twoRegs(Op.TEST8_RR, 0, mRm, mReg);
    case 0x85: return modrm() ? emit(Op.TEST_MR, LOAD, 0, mReg, 0) : twoRegs(Op.TEST_RR, 0, mRm, mReg);
    case 0x86: return modrm() ? emit(Op.XCHG8_RM, STORE, 0, mReg, 0) : emit(Op.XCHG8_RR, ALU, 0, mReg, 0);
    case 0x87: return modrm() ? emit(Op.XCHG_RM, STORE, 0, mReg, 0) : emit(Op.XCHG_RR, ALU, 0, mReg, 0);
    case 0x88: return modrm() ? emit(Op.MOV8_MR, STORE, 0, mReg, 0) : twoRegs(Op.MOV8_RR, 0, mRm, mReg);
    case 0x89: return modrm() ? emit(Op.MOV_MR, STORE, 0, mReg, 0) : twoRegs(Op.MOV_RR, 0, mRm, mReg);
    case 0x8a: return modrm() ? emit(Op.MOV8_RM, LOAD, 0, mReg, 0) : emit(Op.MOV8_RR, ALU, 0, mReg, 0);
    case 0x8b: return modrm() ? emit(Op.MOV_RM, LOAD, 0, mReg, 0) : emit(Op.MOV_RR, ALU, 0, mReg, 0);
    case 0x8c: {
      const mem = modrm();
      if (mReg > 5) return ud();
      return mem ? emit(Op.MOV_M_SREG, STORE, mReg, 0, 0) : emit(Op.MOV_R_SREG, ALU, mReg, 0, 0);
    }
    case 0x8d: return modrm() ? emit(Op.LEA, ALU, 0, mReg, 0) : ud();
    case 0x8e: {
      const mem = modrm();
      if (mReg > 5 || mReg === 1) return ud();
      return mem ? emit(Op.MOV_SREG_M, PRIV, mReg, 0, 0) : emit(Op.MOV_SREG_R, PRIV, mReg, 0, 0);
    }
    case 0x8f: {
      const mem = modrm();
      if (mReg !== 0) return ud();
      if (!mem) { const r = mBase; mBase = NO_REG; return emit(Op.POP_R, LOAD, 0, r, 0); }
      return emit(Op.POP_M, STORE, 0, 0, 0);
    }
    case 0x90: return emit(Op.NOP, ALU, 0, 0, 0);
    case 0x98: return emit(Op.CWDE, ALU, 0, 0, 0);
    case 0x99: return emit(Op.CDQ, ALU, 0, 0, 0);
    case 0x9c: return emit(Op.PUSHF, PRIV, 0, 0, 0);
    case 0x9d: return emit(Op.POPF, PRIV, 0, 0, 0);
    case 0x9e: return emit(Op.SAHF, ALU, 0, 0, 0);
    case 0x9f: return emit(Op.LAHF, ALU, 0, 0, 0);
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: {
      mDisp = i32();
      const op = b0 === 0xa0 ? Op.MOV8_RM : b0 === 0xa1 ? Op.MOV_RM : b0 === 0xa2 ? Op.MOV8_MR : Op.MOV_MR;
      return emit(op, b0 < 0xa2 ? LOAD : STORE, 0, 0, 0);
    }
    case 0xa8: { const v = u8(); return emit(Op.TEST8_RI, ALU, 0, 0, v); }
    case 0xa9: { const v = i32(); return emit(Op.TEST_RI, ALU, 0, 0, v); }
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
      const mem = modrm();
      const byCl = b0 >= 0xd2, wide = (b0 & 1) === 1;
      const count = b0 >= 0xd0 ? 1 : u8();
      const kind = mReg;
      if (!wide) {
        const op = mem ? (byCl ? Op.SHIFT8_MC : Op.SHIFT8_MI) : (byCl ? Op.SHIFT8_RC : Op.SHIFT8_RI);
        return emit(op, mem ? STORE : ALU, kind, 0, count);
      }
      if (mem) return emit(byCl ? Op.SHIFT_MC : Op.SHIFT_MI, STORE, kind, 0, count);
      if (byCl) return emit(Op.SHIFT_RC, ALU, kind, 0, 0);
      const op = kind === 4 || kind === 6 ? Op.SHL_RI : kind === 5 ? Op.SHR_RI : kind === 7 ? Op.SAR_RI : Op.SHIFT_RI;
      return emit(op, ALU, kind, 0, count);
    }
    case 0xc2: { const v = u16(); return emit(Op.RET_I, BRANCH, 0, 0, v); }
    case 0xc3: return emit(Op.RET, BRANCH, 0, 0, 0);
    case 0xc6: case 0xc7: {
      const mem = modrm();
      if (mReg !== 0) return ud();
      const v = b0 === 0xc7 ? i32() : u8();
      if (!mem) { const r = mBase; mBase = NO_REG; return emit(b0 === 0xc7 ? Op.MOV_RI : Op.MOV8_RI, ALU, 0, r, v); }
      return emit(b0 === 0xc7 ? Op.MOV_MI : Op.MOV8_MI, STORE, 0, 0, v);
    }
    case 0xc9: return emit(Op.LEAVE, LOAD, 0, 0, 0);
    case 0xcc: return emit(Op.INT3, BRANCH, 0, 0, 3);
    case 0xcd: { const v = u8(); return emit(Op.INT, BRANCH, 0, 0, v); }
    case 0xce: return emit(Op.INTO, BRANCH, 0, 0, 4);
    case 0xcf: return emit(Op.IRET, BRANCH, 0, 0, 0);
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: { const d = i8(); return emit(Op.LOOP, BRANCH, b0 & 3, 0, d); }
    case 0xe4: case 0xe5: case 0xe6: case 0xe7: {
      const port = u8();
      return emit(b0 < 0xe6 ? Op.IN : Op.OUT, PRIV, b0 & 1, 0, port);
    }
    case 0xec: case 0xed: return emit(Op.IN, PRIV, (b0 & 1) | 2, 0, 0);
    case 0xee: case 0xef: return emit(Op.OUT, PRIV, (b0 & 1) | 2, 0, 0);
    case 0xe8: { const d = i32(); return emit(Op.CALL, BRANCH, 0, 0, d); }
    case 0xe9: { const d = i32(); return emit(Op.JMP, BRANCH, 0, 0, d); }
    case 0xeb: { const d = i8(); return emit(Op.JMP, BRANCH, 0, 0, d); }
    case 0xf4: return emit(Op.HLT, PRIV, 0, 0, 0);
    case 0xf5: return emit(Op.CMC, ALU, 0, 0, 0);
    case 0xf6: case 0xf7: return group3(b0 === 0xf7);
    case 0xf8: return emit(Op.CLC, ALU, 0, 0, 0);
    case 0xf9: return emit(Op.STC, ALU, 0, 0, 0);
    case 0xfa: return emit(Op.CLI, PRIV, 0, 0, 0);
    case 0xfb: return emit(Op.STI, PRIV, 0, 0, 0);
    case 0xfc: return emit(Op.CLD, ALU, 0, 0, 0);
    case 0xfd: return emit(Op.STD, ALU, 0, 0, 0);
    case 0xfe: {
      const mem = modrm();
      if (mReg > 1) return ud();
      return emit(mem ? Op.INCDEC8_M : Op.INCDEC8_R, mem ? STORE : ALU, mReg, 0, 0);
    }
    case 0xff: return group5();
    default: return ud(); // prefixes (26 2e 36 3e 64-67 f0 f2 f3), BCD, string, far, x87, ...
  }
}

function alu(kind: number, form: number): void {
  if (form === 4) { const v = u8(); return emit(Op.ALU8_RI, ALU, kind, 0, v); }
  if (form === 5) { const v = i32(); return emit(ALU_RI[kind], ALU, kind, 0, v); }
  const mem = modrm();
  const cmp = kind === 7;
  switch (form) {
    case 0: // r/m8, r8
      if (mem) return emit(Op.ALU8_MR, cmp ? LOAD : STORE, kind, mReg, 0);
      return twoRegs(Op.ALU8_RR, kind, mRm, mReg);
    case 1: // r/m32, r32
      if (mem) return emit(cmp ? Op.CMP_MR : Op.ALU_MR, cmp ? LOAD : STORE, kind, mReg, 0);
      return twoRegs(ALU_RR[kind], kind, mRm, mReg);
    case 2: // r8, r/m8
      if (mem) return emit(Op.ALU8_RM, LOAD, kind, mReg, 0);
      return emit(Op.ALU8_RR, ALU, kind, mReg, mRm);
    default: // r32, r/m32
      if (mem) return emit(cmp ? Op.CMP_RM : Op.ALU_RM, LOAD, kind, mReg, 0);
      return twoRegs(ALU_RR[kind], kind, mReg, mRm);
  }
}

/** Two-register forms: destination in [2], source in [3]. */
function twoRegs(op: number, aux: number, dst: number, src: number): void {
  mBase = src;
  emit(op, ALU, aux, dst, 0);
}

function group3(wide: boolean): void {
  const mem = modrm();
  const sub = mReg;
  if (sub <= 1) {
    const v = wide ? i32() : u8();
    if (!wide) return mem ? emit(Op.TEST8_MI, LOAD, 0, 0, v) : emit(Op.TEST8_RI, ALU, 0, mRm, v);
    if (!mem) { const r = mBase; mBase = NO_REG; return emit(Op.TEST_RI, ALU, 0, r, v); }
    return emit(Op.TEST_MI, LOAD, 0, 0, v);
  }
  const cls = sub >= 6 ? DIV : sub >= 4 ? MUL : mem ? STORE : ALU;
  if (!wide) return emit(mem ? Op.GRP3_8_M : Op.GRP3_8_R, cls, sub, 0, 0);
  const R = [0, 0, Op.NOT_R, Op.NEG_R, Op.MUL_R, Op.IMUL1_R, Op.DIV_R, Op.IDIV_R];
  const M = [0, 0, Op.NOT_M, Op.NEG_M, Op.MUL_M, Op.IMUL1_M, Op.DIV_M, Op.IDIV_M];
  return emit(mem ? M[sub] : R[sub], cls, sub, 0, 0);
}

function group5(): void {
  const mem = modrm();
  switch (mReg) {
    case 0: return emit(mem ? Op.INC_M : Op.INC_R, mem ? STORE : ALU, 0, mem ? 0 : mRm, 0);
    case 1: return emit(mem ? Op.DEC_M : Op.DEC_R, mem ? STORE : ALU, 0, mem ? 0 : mRm, 0);
    case 2: return emit(mem ? Op.CALL_M : Op.CALL_R, BRANCH, 0, 0, 0);
    case 4: return emit(mem ? Op.JMP_M : Op.JMP_R, BRANCH, 0, 0, 0);
    case 6: {
      if (mem) return emit(Op.PUSH_M, STORE, 0, 0, 0);
      const r = mBase; mBase = NO_REG;
      return emit(Op.PUSH_R, STORE, 0, r, 0);
    }
    default: return ud(); // far call/jmp, /7
  }
}

function twoByte(): void {
  const b1 = u8();
  if (b1 >= 0x80 && b1 < 0x90) { const d = i32(); return emit(Op.JCC, BRANCH, b1 & 15, 0, d); }
  if (b1 >= 0x90 && b1 < 0xa0) {
    const mem = modrm();
    return emit(mem ? Op.SETCC_M : Op.SETCC_R, mem ? STORE : ALU, b1 & 15, 0, 0);
  }
  if (b1 >= 0x40 && b1 < 0x50) {
    const mem = modrm();
    return emit(mem ? Op.CMOV_RM : Op.CMOV_RR, mem ? LOAD : ALU, b1 & 15, mReg, 0);
  }
  if (b1 >= 0xc8 && b1 < 0xd0) return emit(Op.BSWAP, ALU, 0, b1 & 7, 0);
  switch (b1) {
    case 0x00: {
      const mem = modrm();
      if (mReg === 1) return emit(mem ? Op.STR_M : Op.STR_R, mem ? STORE : ALU, 0, 0, 0);
      if (mReg === 3) return emit(mem ? Op.LTR_M : Op.LTR_R, PRIV, 0, 0, 0);
      return ud(); // sldt lldt verr verw: no LDT
    }
    case 0x01: {
      const mem = modrm();
      if (mReg === 4) return emit(mem ? Op.SMSW_M : Op.SMSW_R, mem ? STORE : ALU, 0, 0, 0);
      if (!mem) return ud(); // vmcall, monitor, swapgs, rdtscp, ...
      switch (mReg) {
        case 0: return emit(Op.SGDT, STORE, 0, 0, 0);
        case 1: return emit(Op.SIDT, STORE, 0, 0, 0);
        case 2: return emit(Op.LGDT, PRIV, 0, 0, 0);
        case 3: return emit(Op.LIDT, PRIV, 0, 0, 0);
        case 7: return emit(Op.INVLPG, PRIV, 0, 0, 0);
        default: return ud(); // lmsw
      }
    }
    case 0x06: return emit(Op.CLTS, PRIV, 0, 0, 0);
    case 0x08: case 0x09: return emit(Op.WBINVD, PRIV, 0, 0, 0);
    case 0x0b: return ud(); // ud2
    case 0x20: case 0x22: {
      // mov to/from crN: the r/m field is always a register, whatever mod says.
      const m = u8();
      const cr = (m >> 3) & 7;
      if (cr !== 0 && cr !== 2 && cr !== 3 && cr !== 4) return ud();
      mBase = m & 7;
      return emit(b1 === 0x20 ? Op.MOV_R_CR : Op.MOV_CR_R, PRIV, cr, 0, 0);
    }
    case 0x30: return emit(Op.WRMSR, PRIV, 0, 0, 0);
    case 0x31: return emit(Op.RDTSC, ALU, 0, 0, 0);
    case 0x32: return emit(Op.RDMSR, PRIV, 0, 0, 0);
    // sysenter, sysexit: control transfers across privilege levels, classed like int n and iret (Branch); their
    // crossing is charged as an event of its own (system.ts).
    case 0x34: return emit(Op.SYSENTER, BRANCH, 0, 0, 0);
    case 0x35: return emit(Op.SYSEXIT, BRANCH, 0, 0, 0);
    case 0xa0: return emit(Op.PUSH_SREG, STORE, 4, 0, 0);
    case 0xa1: return emit(Op.POP_SREG, LOAD, 4, 0, 0);
    case 0xa8: return emit(Op.PUSH_SREG, STORE, 5, 0, 0);
    case 0xa9: return emit(Op.POP_SREG, LOAD, 5, 0, 0);
    case 0xaf: return modrm() ? emit(Op.IMUL_RM, MUL, 0, mReg, 0) : twoRegsCls(Op.IMUL_RR, MUL, mReg, mRm);
    case 0xb6: return modrm() ? emit(Op.MOVZX8_RM, LOAD, 0, mReg, 0) : twoRegsCls(Op.MOVZX8_RR, ALU, mReg, mRm);
    case 0xb7: return modrm() ? emit(Op.MOVZX16_RM, LOAD, 0, mReg, 0) : twoRegsCls(Op.MOVZX16_RR, ALU, mReg, mRm);
    case 0xbe: return modrm() ? emit(Op.MOVSX8_RM, LOAD, 0, mReg, 0) : twoRegsCls(Op.MOVSX8_RR, ALU, mReg, mRm);
    case 0xbf: return modrm() ? emit(Op.MOVSX16_RM, LOAD, 0, mReg, 0) : twoRegsCls(Op.MOVSX16_RR, ALU, mReg, mRm);
    default: return ud();
  }
}

function twoRegsCls(op: number, cls: number, dst: number, src: number): void {
  mBase = src;
  emit(op, cls, 0, dst, 0);
}
