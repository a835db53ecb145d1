// The interpreter: runs decoded records (decode.ts) until its instruction budget or cycle deadline is reached, a
// system instruction has run, or a fault is thrown (the run loop in cpu.ts catches it and delivers the exception).
//
// Speed rules, all measured: the op numbering is an enum declared in this file, because esbuild (tsx) inlines enum
// members only in the declaring file, and V8 turns a switch over literal cases into a jump table (over imported
// constants it becomes a chain of compares, 2-3x slower); the hot state is in typed arrays and locals; nothing is
// allocated per instruction. Correctness rule: a handler reads every record field and does every access that can
// fault before it changes a register, the flags or memory, so a faulting instruction has no effect (and a write that
// invalidates the page being executed cannot corrupt the record in use).

import type { Cpu } from './cpu.ts';
import { fault } from './exceptions.ts';
import {
  setAdd, setSub, setLogic, setMul, setInc, setDec, setAlu, setShift, setMulSized, getCF, cond, putArith, getEflags,
  CF, OF, SF, ZF, AF, PF, DF, RF, VM, SZ8,
} from './flags.ts';
import { execSystem } from './system.ts';

export enum Op {
  NONE = 0, // not decoded yet
  // ---- hot: run inline by the main loop ----
  NOP, MOV_RR, MOV_RI, MOV_RM, MOV_MR, MOV_MI, MOV8_RR, MOV8_RI, MOV8_RM, MOV8_MR, MOV8_MI,
  MOVZX8_RR, MOVZX8_RM, MOVSX8_RR, MOVSX8_RM, LEA,
  ADD_RR, ADD_RI, OR_RR, OR_RI, AND_RR, AND_RI, SUB_RR, SUB_RI, XOR_RR, XOR_RI, CMP_RR, CMP_RI,
  ALU_RR, ALU_RI, ALU_RM, ALU_MR, ALU_MI, CMP_RM, CMP_MR, CMP_MI,
  TEST_RR, TEST_RI, TEST_MR, TEST_MI,
  INC_R, DEC_R, INC_M, DEC_M, NOT_R, NEG_R, NOT_M, NEG_M,
  MUL_R, MUL_M, IMUL1_R, IMUL1_M, DIV_R, DIV_M, IDIV_R, IDIV_M, IMUL_RR, IMUL_RM, IMUL_RRI, IMUL_RMI,
  SHL_RI, SHR_RI, SAR_RI, SHIFT_RI, SHIFT_RC, SHIFT_MI, SHIFT_MC,
  PUSH_R, PUSH_I, PUSH_M, POP_R, POP_M,
  JMP, JCC, JMP_R, JMP_M, CALL, CALL_R, CALL_M, RET, RET_I,
  SETCC_R, SETCC_M, CDQ, XCHG_RR, XCHG_RM, LEAVE,
  // ---- misc: run by execMisc without leaving the loop ----
  MISC_FIRST,
  ALU8_RR = MISC_FIRST, ALU8_RI, ALU8_RM, ALU8_MR, ALU8_MI, TEST8_RR, TEST8_RI, TEST8_MR, TEST8_MI,
  INCDEC8_R, INCDEC8_M, GRP3_8_R, GRP3_8_M, SHIFT8_RI, SHIFT8_RC, SHIFT8_MI, SHIFT8_MC, XCHG8_RR, XCHG8_RM,
  MOVZX16_RR, MOVZX16_RM, MOVSX16_RR, MOVSX16_RM, CMOV_RR, CMOV_RM,
  CWDE, SAHF, LAHF, CLC, STC, CMC, CLD, STD, LOOP, BSWAP, PUSHA, POPA, PUSHF, RDTSC,
  STR_R, STR_M, SGDT, SIDT, SMSW_R, SMSW_M, MOV_R_SREG, MOV_M_SREG, PUSH_SREG,
  // ---- system: run by execSystem (system.ts), after which the loop returns to the run loop ----
  SYS_FIRST,
  UD = SYS_FIRST, INT, INT3, INTO, IRET, HLT, CLI, STI, POPF, IN, OUT, MOV_R_CR, MOV_CR_R, LGDT, LIDT, INVLPG,
  LTR_R, LTR_M, WRMSR, RDMSR, CLTS, WBINVD, MOV_SREG_R, MOV_SREG_M, POP_SREG, SYSENTER, SYSEXIT,
  COUNT,
}

// Counter cells used here (cpu.C); stats.ts names them and checks these numbers.
export const C_CYCLES = 0, C_CLASS0 = 1;

/** The effective address of a record's memory operand. regs[8] is always 0 (no base / no index). */
function ea(regs: Int32Array, R: Int32Array, b: number): number {
  return (regs[R[b + 3]] + (regs[R[b + 4]] << R[b + 5]) + R[b + 6]) | 0;
}

export function getR8(regs: Int32Array, r: number): number {
  return r < 4 ? regs[r] & 0xff : (regs[r - 4] >> 8) & 0xff;
}
export function setR8(regs: Int32Array, r: number, v: number): void {
  if (r < 4) regs[r] = (regs[r] & ~0xff) | (v & 0xff);
  else regs[r - 4] = (regs[r - 4] & ~0xff00) | ((v & 0xff) << 8);
}

/** The value of ALU kind (0 add 1 or 2 adc 3 sbb 4 and 5 sub 6 xor 7 cmp) on a, b with carry-in c (unmasked). */
function aluCalc(kind: number, a: number, b: number, c: number): number {
  switch (kind) {
    case 0: return (a + b) | 0;
    case 1: return a | b;
    case 2: return (a + b + c) | 0;
    case 3: return (a - b - c) | 0;
    case 4: return a & b;
    case 6: return a ^ b;
    default: return (a - b) | 0; // sub, cmp
  }
}

/** High 32 bits of the unsigned 64-bit product (no BigInt: 16-bit halves). */
export function mulhu(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
}
export function mulhs(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
}

let divQ = 0, divR = 0;
/** Unsigned (hi:lo) / d into divQ, divR; #DE on a zero divisor or a quotient above 32 bits. */
function divu64(hi: number, lo: number, d: number): void {
  const dd = d >>> 0, h = hi >>> 0, l = lo >>> 0;
  if (dd === 0 || h >= dd) fault(0);
  if (h === 0) {
    const q = Math.floor(l / dd);
    divQ = q; divR = l - q * dd;
    return;
  }
  // Two 16-bit long-division steps; every intermediate stays below 2^48, exact in a double.
  const n1 = h * 65536 + (l >>> 16);
  let q1 = Math.floor(n1 / dd), r1 = n1 - q1 * dd;
  if (r1 < 0) { q1--; r1 += dd; }
  const n2 = r1 * 65536 + (l & 0xffff);
  let q2 = Math.floor(n2 / dd), r2 = n2 - q2 * dd;
  if (r2 < 0) { q2--; r2 += dd; }
  divQ = q1 * 65536 + q2; divR = r2;
}
function div32(regs: Int32Array, d: number): void {
  divu64(regs[2], regs[0], d);
  regs[0] = divQ | 0; regs[2] = divR | 0;
}
function idiv32(regs: Int32Array, d: number): void {
  let hi = regs[2], lo = regs[0];
  if (d === 0) fault(0);
  const neg = hi < 0;
  if (neg) { lo = (~lo + 1) | 0; hi = (~hi + (lo === 0 ? 1 : 0)) | 0; }
  const ad = d < 0 ? (-d) >>> 0 : d;
  if (hi < 0) fault(0); // |INT64_MIN|: the quotient cannot fit
  divu64(hi, lo, ad);
  const qneg = neg !== d < 0;
  if (qneg ? divQ > 0x80000000 : divQ > 0x7fffffff) fault(0);
  regs[0] = (qneg ? -divQ : divQ) | 0;
  regs[2] = (neg ? -divR : divR) | 0;
}

// Shifts and rotates of any size. kind: 0 rol 1 ror 2 rcl 3 rcr 4 shl 5 shr 6 sal(=shl) 7 sar; count already masked
// to 5 bits and non-zero. shiftCalc returns the result (masked to the size) and leaves rotates' flags in rotCF/rotOF.
let rotCF = 0, rotOF = 0;
function shiftCalc(kind: number, bits: number, a: number, count: number, cfIn: number): number {
  const mask = bits === 32 ? -1 : (1 << bits) - 1;
  const top = bits - 1;
  a &= mask;
  switch (kind) {
    case 0: { // rol
      const n = count % bits;
      const r = n === 0 ? a : ((a << n) | (a >>> (bits - n))) & mask;
      rotCF = r & 1; rotOF = ((r >>> top) & 1) ^ rotCF;
      return r | 0;
    }
    case 1: { // ror
      const n = count % bits;
      const r = n === 0 ? a : ((a >>> n) | (a << (bits - n))) & mask;
      rotCF = (r >>> top) & 1; rotOF = rotCF ^ ((r >>> (top - 1)) & 1);
      return r | 0;
    }
    case 2: { // rcl: rotate through CF (a bits+1-bit rotation)
      const n = bits === 32 ? count : count % (bits + 1);
      let r = a, cf = cfIn;
      for (let i = 0; i < n; i++) { const out = (r >>> top) & 1; r = ((r << 1) | cf) & mask; cf = out; }
      rotCF = cf; rotOF = ((r >>> top) & 1) ^ cf;
      return r | 0;
    }
    case 3: { // rcr
      const n = bits === 32 ? count : count % (bits + 1);
      rotOF = ((a >>> top) & 1) ^ cfIn;
      let r = a, cf = cfIn;
      for (let i = 0; i < n; i++) { const out = r & 1; r = ((r >>> 1) | (cf << top)) & mask; cf = out; }
      rotCF = cf;
      return r | 0;
    }
    case 5: return count >= 32 ? 0 : (a >>> count) & mask;
    case 7: {
      const s = bits === 32 ? a : bits === 8 ? (a << 24) >> 24 : (a << 16) >> 16;
      return (s >> Math.min(count, 31)) & mask;
    }
    default: return count >= 32 ? 0 : (a << count) & mask; // shl, sal
  }
}
function shiftFlags(cpu: Cpu, kind: number, size: number, a: number, count: number, r: number): void {
  if (kind < 4) putArith(cpu, CF | OF, rotCF | (rotOF ? OF : 0));
  else setShift(cpu, kind, size, a, count, r);
}

/** Run up to `budget` instructions (fewer if the cycle deadline passes or a system instruction runs). */
export function runBlock(cpu: Cpu, budget: number): void {
  const regs = cpu.regs, mmu = cpu.mmu, C = cpu.C, cost = cpu.classCost, deadline = cpu.deadline;
  // The TLB fast path, inlined below for the stack and plain moves (V8's inlining budget cannot take every call site
  // of mmu.read32/write32 in a function this size). CPL and CR0.WP cannot change inside a block, so neither can the
  // deny masks; the TLB hits counted here are added to the MMU's counter when the block ends.
  const tkey = mmu.tkey, tphys = mmu.tphys, tmask = mmu.tmask, ram = mmu.mem.i32, rdeny = mmu.rdeny, wdeny = mmu.wdeny;
  let hits = 0;
  let eip = cpu.eip;
  let vpage = -1;
  let R: Int32Array = cpu.scratch;
  let left = budget;
  // cpu.eip is written only when leaving: on a fault (the catch) it must be the faulting instruction's address.
  try {
    for (;;) {
      if (--left < 0 || C[0] >= deadline) { cpu.eip = eip; mmu.stat[0] += hits; return; }
      if ((eip >>> 12) !== vpage) {
        const recs = cpu.codePage(eip);
        if (recs === null) { mmu.stat[0] += hits; return; } // a kernel function ran; cpu.eip is where it returned to
        R = recs;
        vpage = eip >>> 12;
      }
      let X = R, b = (eip & 0xfff) << 3;
      if (X[b] === 0 && !cpu.decodeAt(eip, R, b)) {
        // Decoded into the scratch record (it crosses a page, or is outside RAM): not cached.
        X = cpu.scratch; b = 0; vpage = -1;
      }
      const info = X[b + 1];
      let next = (eip + (info & 0xff)) | 0;
      switch (X[b]) {
        case Op.NOP: break;
        case Op.MOV_RR: regs[X[b + 2]] = regs[X[b + 3]]; break;
        case Op.MOV_RI: regs[X[b + 2]] = X[b + 7]; break;
        case Op.MOV_RM: {
          const r = X[b + 2], a = ea(regs, X, b), i = (a >>> 12) & tmask, e = tkey[i];
          if (((((e ^ a) & -4096) | (e & rdeny)) | (a & 3)) === 0) { regs[r] = ram[(tphys[i] | (a & 0xfff)) >>> 2]; hits++; }
          else regs[r] = mmu.read32(a);
          break;
        }
        case Op.MOV_MR: {
          const v = regs[X[b + 2]], a = ea(regs, X, b), i = (a >>> 12) & tmask, e = tkey[i];
          if (((((e ^ a) & -4096) | (e & wdeny)) | (a & 3)) === 0) { ram[(tphys[i] | (a & 0xfff)) >>> 2] = v; hits++; }
          else mmu.write32(a, v);
          break;
        }
        case Op.MOV_MI: { const v = X[b + 7]; mmu.write32(ea(regs, X, b), v); break; }
        case Op.MOV8_RR: setR8(regs, X[b + 2], getR8(regs, X[b + 3])); break;
        case Op.MOV8_RI: setR8(regs, X[b + 2], X[b + 7]); break;
        case Op.MOV8_RM: { const r = X[b + 2]; setR8(regs, r, mmu.read8(ea(regs, X, b))); break; }
        case Op.MOV8_MR: mmu.write8(ea(regs, X, b), getR8(regs, X[b + 2])); break;
        case Op.MOV8_MI: { const v = X[b + 7]; mmu.write8(ea(regs, X, b), v); break; }
        case Op.MOVZX8_RR: regs[X[b + 2]] = getR8(regs, X[b + 3]); break;
        case Op.MOVZX8_RM: { const r = X[b + 2]; regs[r] = mmu.read8(ea(regs, X, b)); break; }
        case Op.MOVSX8_RR: regs[X[b + 2]] = (getR8(regs, X[b + 3]) << 24) >> 24; break;
        case Op.MOVSX8_RM: { const r = X[b + 2]; regs[r] = (mmu.read8(ea(regs, X, b)) << 24) >> 24; break; }
        case Op.LEA: regs[X[b + 2]] = ea(regs, X, b); break;

        case Op.ADD_RR: { const d = X[b + 2], a = regs[d], c = regs[X[b + 3]],
          r = (a + c) | 0; regs[d] = r; setAdd(cpu, a, c, r); break; }
        case Op.ADD_RI: { const d = X[b + 2], a = regs[d], c = X[b + 7],
          r = (a + c) | 0; regs[d] = r; setAdd(cpu, a, c, r); break; }
        case Op.OR_RR: { const d = X[b + 2], r = regs[d] | regs[X[b + 3]]; regs[d] = r; setLogic(cpu, r); break; }
        case Op.OR_RI: { const d = X[b + 2], r = regs[d] | X[b + 7]; regs[d] = r; setLogic(cpu, r); break; }
        case Op.AND_RR: { const d = X[b + 2], r = regs[d] & regs[X[b + 3]]; regs[d] = r; setLogic(cpu, r); break; }
        case Op.AND_RI: { const d = X[b + 2], r = regs[d] & X[b + 7]; regs[d] = r; setLogic(cpu, r); break; }
        case Op.SUB_RR: { const d = X[b + 2], a = regs[d], c = regs[X[b + 3]],
          r = (a - c) | 0; regs[d] = r; setSub(cpu, a, c, r); break; }
        case Op.SUB_RI: { const d = X[b + 2], a = regs[d], c = X[b + 7],
          r = (a - c) | 0; regs[d] = r; setSub(cpu, a, c, r); break; }
        case Op.XOR_RR: { const d = X[b + 2], r = regs[d] ^ regs[X[b + 3]]; regs[d] = r; setLogic(cpu, r); break; }
        case Op.XOR_RI: { const d = X[b + 2], r = regs[d] ^ X[b + 7]; regs[d] = r; setLogic(cpu, r); break; }
        case Op.CMP_RR: { const a = regs[X[b + 2]], c = regs[X[b + 3]]; setSub(cpu, a, c, (a - c) | 0); break; }
        case Op.CMP_RI: { const a = regs[X[b + 2]], c = X[b + 7]; setSub(cpu, a, c, (a - c) | 0); break; }
        case Op.ALU_RR: case Op.ALU_RI: {
          const kind = (info >> 8) & 0xff, d = X[b + 2], a = regs[d];
          const c = X[b] === Op.ALU_RR ? regs[X[b + 3]] : X[b + 7];
          const cin = kind === 2 || kind === 3 ? getCF(cpu) : 0;
          const r = aluCalc(kind, a, c, cin);
          if (kind !== 7) regs[d] = r;
          setAlu(cpu, kind, 0, a, c, r, cin);
          break;
        }
        case Op.ALU_RM: {
          const kind = (info >> 8) & 0xff, d = X[b + 2];
          const c = mmu.read32(ea(regs, X, b)), a = regs[d];
          const cin = kind === 2 || kind === 3 ? getCF(cpu) : 0;
          const r = aluCalc(kind, a, c, cin);
          regs[d] = r;
          setAlu(cpu, kind, 0, a, c, r, cin);
          break;
        }
        case Op.ALU_MR: case Op.ALU_MI: {
          const kind = (info >> 8) & 0xff;
          const c = X[b] === Op.ALU_MR ? regs[X[b + 2]] : X[b + 7];
          const addr = ea(regs, X, b);
          const a = mmu.read32(addr);
          const cin = kind === 2 || kind === 3 ? getCF(cpu) : 0;
          const r = aluCalc(kind, a, c, cin);
          mmu.write32(addr, r);
          setAlu(cpu, kind, 0, a, c, r, cin);
          break;
        }
        case Op.CMP_RM: { const a = regs[X[b + 2]],
          c = mmu.read32(ea(regs, X, b)); setSub(cpu, a, c, (a - c) | 0); break; }
        case Op.CMP_MR: { const c = regs[X[b + 2]],
          a = mmu.read32(ea(regs, X, b)); setSub(cpu, a, c, (a - c) | 0); break; }
        case Op.CMP_MI: { const c = X[b + 7], a = mmu.read32(ea(regs, X, b)); setSub(cpu, a, c, (a - c) | 0); break; }
        case Op.TEST_RR: setLogic(cpu, regs[X[b + 2]] & regs[X[b + 3]]); break;
        case Op.TEST_RI: setLogic(cpu, regs[X[b + 2]] & X[b + 7]); break;
        case Op.TEST_MR: { const c = regs[X[b + 2]]; setLogic(cpu, mmu.read32(ea(regs, X, b)) & c); break; }
        case Op.TEST_MI: { const c = X[b + 7]; setLogic(cpu, mmu.read32(ea(regs, X, b)) & c); break; }

        case Op.INC_R: { const d = X[b + 2], a = regs[d], r = (a + 1) | 0; regs[d] = r; setInc(cpu, a, r); break; }
        case Op.DEC_R: { const d = X[b + 2], a = regs[d], r = (a - 1) | 0; regs[d] = r; setDec(cpu, a, r); break; }
        case Op.INC_M: { const addr = ea(regs, X, b), a = mmu.read32(addr),
          r = (a + 1) | 0; mmu.write32(addr, r); setInc(cpu, a, r); break; }
        case Op.DEC_M: { const addr = ea(regs, X, b), a = mmu.read32(addr),
          r = (a - 1) | 0; mmu.write32(addr, r); setDec(cpu, a, r); break; }
        case Op.NOT_R: { const d = X[b + 3]; regs[d] = ~regs[d]; break; }
        case Op.NEG_R: { const d = X[b + 3], a = regs[d], r = (-a) | 0; regs[d] = r; setSub(cpu, 0, a, r); break; }
        case Op.NOT_M: { const addr = ea(regs, X, b); mmu.write32(addr, ~mmu.read32(addr)); break; }
        case Op.NEG_M: { const addr = ea(regs, X, b), a = mmu.read32(addr),
          r = (-a) | 0; mmu.write32(addr, r); setSub(cpu, 0, a, r); break; }

        case Op.MUL_R: case Op.MUL_M: {
          const v = X[b] === Op.MUL_R ? regs[X[b + 3]] : mmu.read32(ea(regs, X, b));
          const a = regs[0], lo = Math.imul(a, v), hi = mulhu(a, v);
          regs[0] = lo; regs[2] = hi;
          setMul(cpu, lo, hi !== 0);
          break;
        }
        case Op.IMUL1_R: case Op.IMUL1_M: {
          const v = X[b] === Op.IMUL1_R ? regs[X[b + 3]] : mmu.read32(ea(regs, X, b));
          const a = regs[0], lo = Math.imul(a, v), hi = mulhs(a, v);
          regs[0] = lo; regs[2] = hi;
          setMul(cpu, lo, hi !== lo >> 31);
          break;
        }
        case Op.DIV_R: div32(regs, regs[X[b + 3]]); break;
        case Op.DIV_M: div32(regs, mmu.read32(ea(regs, X, b))); break;
        case Op.IDIV_R: idiv32(regs, regs[X[b + 3]]); break;
        case Op.IDIV_M: idiv32(regs, mmu.read32(ea(regs, X, b))); break;
        case Op.IMUL_RR: case Op.IMUL_RM: case Op.IMUL_RRI: case Op.IMUL_RMI: {
          const op = X[b], d = X[b + 2];
          const s = op === Op.IMUL_RR || op === Op.IMUL_RRI ? regs[X[b + 3]] : mmu.read32(ea(regs, X, b));
          const m = op === Op.IMUL_RR || op === Op.IMUL_RM ? regs[d] : X[b + 7];
          const lo = Math.imul(s, m);
          regs[d] = lo;
          setMul(cpu, lo, s * m !== lo); // exact when it fits in 32 bits, so any difference is an overflow
          break;
        }

        case Op.SHL_RI: {
          const d = X[b + 3], n = X[b + 7] & 31;
          if (n !== 0) { const a = regs[d], r = a << n; regs[d] = r; setShift(cpu, 4, 0, a, n, r); }
          break;
        }
        case Op.SHR_RI: {
          const d = X[b + 3], n = X[b + 7] & 31;
          if (n !== 0) { const a = regs[d], r = (a >>> n) | 0; regs[d] = r; setShift(cpu, 5, 0, a, n, r); }
          break;
        }
        case Op.SAR_RI: {
          const d = X[b + 3], n = X[b + 7] & 31;
          if (n !== 0) { const a = regs[d], r = a >> n; regs[d] = r; setShift(cpu, 7, 0, a, n, r); }
          break;
        }
        case Op.SHIFT_RI: case Op.SHIFT_RC: {
          const kind = (info >> 8) & 0xff, d = X[b + 3];
          const n = (X[b] === Op.SHIFT_RI ? X[b + 7] : regs[1]) & 31;
          if (n !== 0) {
            const a = regs[d], cin = kind === 2 || kind === 3 ? getCF(cpu) : 0;
            const r = shiftCalc(kind, 32, a, n, cin);
            regs[d] = r;
            shiftFlags(cpu, kind, 0, a, n, r);
          }
          break;
        }
        case Op.SHIFT_MI: case Op.SHIFT_MC: {
          const kind = (info >> 8) & 0xff;
          const n = (X[b] === Op.SHIFT_MI ? X[b + 7] : regs[1]) & 31;
          const addr = ea(regs, X, b);
          const a = mmu.read32(addr);
          if (n !== 0) {
            const cin = kind === 2 || kind === 3 ? getCF(cpu) : 0;
            const r = shiftCalc(kind, 32, a, n, cin);
            mmu.write32(addr, r);
            shiftFlags(cpu, kind, 0, a, n, r);
          }
          break;
        }

        case Op.PUSH_R: case Op.PUSH_I: {
          const v = X[b] === Op.PUSH_R ? regs[X[b + 2]]
            : X[b + 7], sp = (regs[4] - 4) | 0, i = (sp >>> 12) & tmask, e = tkey[i];
          if (((((e ^ sp) & -4096) | (e & wdeny)) | (sp & 3)) === 0) { ram[(tphys[i] | (sp & 0xfff)) >>> 2] = v; hits++; }
          else mmu.write32(sp, v);
          regs[4] = sp;
          break;
        }
        case Op.PUSH_M: { const v = mmu.read32(ea(regs, X, b)),
          sp = (regs[4] - 4) | 0; mmu.write32(sp, v); regs[4] = sp; break; }
        case Op.POP_R: {
          const d = X[b + 2], sp = regs[4], i = (sp >>> 12) & tmask, e = tkey[i];
          let v: number;
          if (((((e ^ sp) & -4096) | (e & rdeny)) | (sp & 3)) === 0) { v = ram[(tphys[i] | (sp & 0xfff)) >>> 2]; hits++; }
          else v = mmu.read32(sp);
          regs[4] = (sp + 4) | 0;
          regs[d] = v;
          break;
        }
        case Op.POP_M: {
          // The destination address is computed with esp already incremented, as the CPU does.
          const sp = regs[4], v = mmu.read32(sp), nsp = (sp + 4) | 0;
          regs[4] = nsp;
          const addr = ea(regs, X, b);
          regs[4] = sp;
          mmu.write32(addr, v);
          regs[4] = nsp;
          break;
        }

        case Op.JMP: next = (next + X[b + 7]) | 0; break;
        case Op.JCC: if (cond(cpu, (info >> 8) & 0xff)) next = (next + X[b + 7]) | 0; break;
        case Op.JMP_R: next = regs[X[b + 3]]; break;
        case Op.JMP_M: next = mmu.read32(ea(regs, X, b)); break;
        case Op.CALL: {
          const t = (next + X[b + 7]) | 0, sp = (regs[4] - 4) | 0, i = (sp >>> 12) & tmask, e = tkey[i];
          if (((((e ^ sp) & -4096) | (e & wdeny)) | (sp & 3)) === 0) { ram[(tphys[i] | (sp & 0xfff)) >>> 2] = next; hits++; }
          else mmu.write32(sp, next);
          regs[4] = sp;
          next = t;
          break;
        }
        case Op.CALL_R: { const t = regs[X[b + 3]],
          sp = (regs[4] - 4) | 0; mmu.write32(sp, next); regs[4] = sp; next = t; break; }
        case Op.CALL_M: { const t = mmu.read32(ea(regs, X, b)),
          sp = (regs[4] - 4) | 0; mmu.write32(sp, next); regs[4] = sp; next = t; break; }
        case Op.RET: {
          const sp = regs[4], i = (sp >>> 12) & tmask, e = tkey[i];
          if (((((e ^ sp) & -4096) | (e & rdeny)) | (sp & 3)) === 0) { next = ram[(tphys[i] | (sp & 0xfff)) >>> 2]; hits++; }
          else next = mmu.read32(sp);
          regs[4] = (sp + 4) | 0;
          break;
        }
        case Op.RET_I: { const sp = regs[4], n = X[b + 7]; next = mmu.read32(sp); regs[4] = (sp + 4 + n) | 0; break; }

        case Op.SETCC_R: setR8(regs, X[b + 3], cond(cpu, (info >> 8) & 0xff) ? 1 : 0); break;
        case Op.SETCC_M: { const addr = ea(regs, X, b); mmu.write8(addr,
          cond(cpu, (info >> 8) & 0xff) ? 1 : 0); break; }
        case Op.CDQ: regs[2] = regs[0] >> 31; break;
        case Op.XCHG_RR: { const d = X[b + 2], s = X[b + 3], t = regs[d]; regs[d] = regs[s]; regs[s] = t; break; }
        case Op.XCHG_RM: { const d = X[b + 2], addr = ea(regs, X, b),
          m = mmu.read32(addr); mmu.write32(addr, regs[d]); regs[d] = m; break; }
        case Op.LEAVE: { const bp = regs[5], v = mmu.read32(bp); regs[4] = (bp + 4) | 0; regs[5] = v; break; }

        default: {
          const op = X[b];
          if (op < Op.SYS_FIRST) {
            next = execMisc(cpu, op, X, b, info, next);
            break;
          }
          // A system instruction: it may change CPL, paging, IF or deliver a trap; the run loop takes over after it.
          cpu.eip = eip;
          cpu.nextEip = next;
          mmu.stat[0] += hits;
          hits = 0;
          execSystem(cpu, op, X, b, info);
          const cls = info >>> 16;
          C[C_CLASS0 + cls]++; C[C_CYCLES] += cost[cls];
          cpu.eip = cpu.nextEip;
          return;
        }
      }
      eip = next;
      const cls = info >>> 16;
      C[C_CLASS0 + cls]++;
      C[C_CYCLES] += cost[cls];
    }
  } catch (e) {
    cpu.eip = eip;
    mmu.stat[0] += hits;
    throw e;
  }
}

const popaWords = new Int32Array(8);

/** The less frequent unprivileged instructions. Returns the next eip. */
function execMisc(cpu: Cpu, op: number, X: Int32Array, b: number, info: number, next: number): number {
  const regs = cpu.regs, mmu = cpu.mmu, aux = (info >> 8) & 0xff;
  switch (op) {
    case Op.ALU8_RR: case Op.ALU8_RI: case Op.ALU8_RM: {
      const d = X[b + 2];
      const c = op === Op.ALU8_RR ? getR8(regs, X[b + 3]) : op === Op.ALU8_RI ? X[b + 7] & 0xff
        : mmu.read8(ea(regs, X, b));
      const a = getR8(regs, d), cin = aux === 2 || aux === 3 ? getCF(cpu) : 0;
      const r = aluCalc(aux, a, c, cin) & 0xff;
      if (aux !== 7) setR8(regs, d, r);
      setAlu(cpu, aux, SZ8, a, c, r, cin);
      break;
    }
    case Op.ALU8_MR: case Op.ALU8_MI: {
      const c = op === Op.ALU8_MR ? getR8(regs, X[b + 2]) : X[b + 7] & 0xff;
      const addr = ea(regs, X, b), a = mmu.read8(addr), cin = aux === 2 || aux === 3 ? getCF(cpu) : 0;
      const r = aluCalc(aux, a, c, cin) & 0xff;
      if (aux !== 7) mmu.write8(addr, r);
      setAlu(cpu, aux, SZ8, a, c, r, cin);
      break;
    }
    case Op.TEST8_RR: case Op.TEST8_RI: case Op.TEST8_MR: case Op.TEST8_MI: {
      let a: number, c: number;
      if (op === Op.TEST8_RR) { a = getR8(regs, X[b + 2]); c = getR8(regs, X[b + 3]); }
      else if (op === Op.TEST8_RI) { a = getR8(regs, X[b + 2]); c = X[b + 7] & 0xff; }
      else if (op === Op.TEST8_MR) { c = getR8(regs, X[b + 2]); a = mmu.read8(ea(regs, X, b)); }
      else { c = X[b + 7] & 0xff; a = mmu.read8(ea(regs, X, b)); }
      setAlu(cpu, 4, SZ8, a, c, a & c, 0);
      break;
    }
    case Op.INCDEC8_R: case Op.INCDEC8_M: {
      const mem = op === Op.INCDEC8_M, addr = mem ? ea(regs, X, b) : 0;
      const a = mem ? mmu.read8(addr) : getR8(regs, X[b + 3]);
      const r = (aux === 0 ? a + 1 : a - 1) & 0xff;
      if (mem) mmu.write8(addr, r); else setR8(regs, X[b + 3], r);
      if (aux === 0) setInc(cpu, a, r, SZ8); else setDec(cpu, a, r, SZ8);
      break;
    }
    case Op.GRP3_8_R: case Op.GRP3_8_M: grp3Byte(cpu, op === Op.GRP3_8_M, aux, X, b); break;
    case Op.SHIFT8_RI: case Op.SHIFT8_RC: case Op.SHIFT8_MI: case Op.SHIFT8_MC: {
      const mem = op === Op.SHIFT8_MI || op === Op.SHIFT8_MC;
      const n = (op === Op.SHIFT8_RI || op === Op.SHIFT8_MI ? X[b + 7] : regs[1]) & 31;
      const addr = mem ? ea(regs, X, b) : 0;
      const a = mem ? mmu.read8(addr) : getR8(regs, X[b + 3]);
      if (n === 0) break;
      const cin = aux === 2 || aux === 3 ? getCF(cpu) : 0;
      const r = shiftCalc(aux, 8, a, n, cin);
      if (mem) mmu.write8(addr, r); else setR8(regs, X[b + 3], r);
      shiftFlags(cpu, aux, SZ8, a, n, r);
      break;
    }
    case Op.XCHG8_RR: { const d = X[b + 2], s = X[b + 3],
      t = getR8(regs, d); setR8(regs, d, getR8(regs, s)); setR8(regs, s, t); break; }
    case Op.XCHG8_RM: { const d = X[b + 2], addr = ea(regs, X, b),
      m = mmu.read8(addr); mmu.write8(addr, getR8(regs, d)); setR8(regs, d, m); break; }
    case Op.MOVZX16_RR: regs[X[b + 2]] = regs[X[b + 3]] & 0xffff; break;
    case Op.MOVZX16_RM: { const d = X[b + 2]; regs[d] = mmu.read16(ea(regs, X, b)); break; }
    case Op.MOVSX16_RR: regs[X[b + 2]] = (regs[X[b + 3]] << 16) >> 16; break;
    case Op.MOVSX16_RM: { const d = X[b + 2]; regs[d] = (mmu.read16(ea(regs, X, b)) << 16) >> 16; break; }
    case Op.CMOV_RR: if (cond(cpu, aux)) regs[X[b + 2]] = regs[X[b + 3]]; break;
    case Op.CMOV_RM: {
      // The source is read whatever the condition (and so can fault), as on real hardware.
      const d = X[b + 2], v = mmu.read32(ea(regs, X, b));
      if (cond(cpu, aux)) regs[d] = v;
      break;
    }
    case Op.CWDE: regs[0] = (regs[0] << 16) >> 16; break;
    case Op.SAHF: putArith(cpu, SF | ZF | AF | PF | CF, (regs[0] >> 8) & 0xff); break;
    case Op.LAHF: regs[0] = (regs[0] & ~0xff00) | (((getEflags(cpu) & 0xd7) | 2) << 8); break;
    case Op.CLC: putArith(cpu, CF, 0); break;
    case Op.STC: putArith(cpu, CF, CF); break;
    case Op.CMC: putArith(cpu, CF, getCF(cpu) ^ 1); break;
    case Op.CLD: cpu.flags &= ~DF; break;
    case Op.STD: cpu.flags |= DF; break;
    case Op.LOOP: {
      // aux: 0 loopne, 1 loope, 2 loop (ecx is decremented without touching the flags), 3 jecxz
      let take: boolean;
      if (aux === 3) take = regs[1] === 0;
      else {
        const c = (regs[1] - 1) | 0;
        take = c !== 0 && (aux === 2 || cond(cpu, 4) === (aux === 1));
        regs[1] = c;
      }
      if (take) return (next + X[b + 7]) | 0;
      break;
    }
    case Op.BSWAP: {
      const d = X[b + 2], v = regs[d];
      regs[d] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
      break;
    }
    case Op.PUSHA: {
      const sp = regs[4];
      // Every write before esp moves: a fault part-way leaves esp as it was.
      for (let i = 0; i < 8; i++) mmu.write32((sp - 4 * (i + 1)) | 0, regs[i]);
      regs[4] = (sp - 32) | 0;
      break;
    }
    case Op.POPA: {
      const sp = regs[4], v = popaWords;
      for (let i = 0; i < 8; i++) v[i] = mmu.read32((sp + 28 - 4 * i) | 0);
      for (let i = 0; i < 8; i++) if (i !== 4) regs[i] = v[i];
      regs[4] = (sp + 32) | 0;
      break;
    }
    case Op.PUSHF: {
      const v = getEflags(cpu) & ~(RF | VM), sp = (regs[4] - 4) | 0;
      mmu.write32(sp, v);
      regs[4] = sp;
      break;
    }
    case Op.RDTSC: {
      if ((cpu.cr4 & 4) !== 0 && cpu.cpl !== 0) fault(13, 0); // CR4.TSD
      const t = Math.floor(cpu.C[C_CYCLES]);
      regs[0] = t | 0; regs[2] = Math.floor(t / 4294967296) | 0;
      break;
    }
    case Op.STR_R: regs[X[b + 3]] = cpu.trSel; break;
    case Op.STR_M: mmu.write16(ea(regs, X, b), cpu.trSel); break;
    case Op.SGDT: case Op.SIDT: {
      const addr = ea(regs, X, b);
      const limit = op === Op.SGDT ? cpu.gdtLimit : cpu.idtLimit, base = op === Op.SGDT ? cpu.gdtBase : cpu.idtBase;
      mmu.write16(addr, limit);
      mmu.write32((addr + 2) | 0, base);
      break;
    }
    case Op.SMSW_R: regs[X[b + 3]] = cpu.cr0 & 0xffff; break;
    case Op.SMSW_M: mmu.write16(ea(regs, X, b), cpu.cr0 & 0xffff); break;
    case Op.MOV_R_SREG: regs[X[b + 3]] = cpu.sreg[aux]; break;
    case Op.MOV_M_SREG: mmu.write16(ea(regs, X, b), cpu.sreg[aux]); break;
    case Op.PUSH_SREG: { const v = cpu.sreg[aux], sp = (regs[4] - 4) | 0; mmu.write32(sp, v); regs[4] = sp; break; }
    default: fault(6);
  }
  return next;
}

/** F6 /2-/7 on a byte: not, neg, mul, imul, div, idiv (the multiply and divide forms use ax). */
function grp3Byte(cpu: Cpu, mem: boolean, sub: number, X: Int32Array, b: number): void {
  const regs = cpu.regs, mmu = cpu.mmu;
  const addr = mem ? ea(regs, X, b) : 0, r8 = X[b + 3];
  const v = mem ? mmu.read8(addr) : getR8(regs, r8);
  switch (sub) {
    case 2: if (mem) mmu.write8(addr, ~v); else setR8(regs, r8, ~v); break;
    case 3: {
      const r = (-v) & 0xff;
      if (mem) mmu.write8(addr, r); else setR8(regs, r8, r);
      setAlu(cpu, 5, SZ8, 0, v, r, 0);
      break;
    }
    case 4: {
      const p = (regs[0] & 0xff) * v;
      regs[0] = (regs[0] & ~0xffff) | p;
      setMulSized(cpu, SZ8, p & 0xff, (p & 0xff00) !== 0);
      break;
    }
    case 5: {
      const p = ((regs[0] << 24) >> 24) * ((v << 24) >> 24);
      regs[0] = (regs[0] & ~0xffff) | (p & 0xffff);
      setMulSized(cpu, SZ8, p & 0xff, p !== ((p << 24) >> 24));
      break;
    }
    case 6: {
      const ax = regs[0] & 0xffff;
      if (v === 0) fault(0);
      const q = Math.floor(ax / v);
      if (q > 0xff) fault(0);
      regs[0] = (regs[0] & ~0xffff) | ((ax % v) << 8) | q;
      break;
    }
    default: {
      const ax = (regs[0] << 16) >> 16, d = (v << 24) >> 24;
      if (d === 0) fault(0);
      const q = Math.trunc(ax / d);
      if (q > 127 || q < -128) fault(0);
      regs[0] = (regs[0] & ~0xffff) | (((ax % d) & 0xff) << 8) | (q & 0xff);
    }
  }
}
