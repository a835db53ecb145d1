// EFLAGS with lazily computed arithmetic flags. An arithmetic instruction does not compute CF PF AF ZF SF OF: it
// records its kind, operands and result (four integer stores), and the flags are derived only when something reads
// them (a jcc, setcc, adc, pushf, an interrupt frame). Most results are never read: the next instruction overwrites
// them. Kinds are numbered here and written only through the set* functions below, which the interpreter calls (V8
// inlines them), so the numbering lives in this one file.

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400, OF = 0x800;
export const IOPL = 0x3000, NT = 0x4000, RF = 0x10000, VM = 0x20000, AC = 0x40000, VIF = 0x80000, VIP = 0x100000, ID = 0x200000;
/** The six flags an arithmetic instruction defines. */
export const ARITH = CF | PF | AF | ZF | SF | OF;
/** Bit 1 of EFLAGS always reads as 1. */
export const FIXED1 = 0x2;

/** What the flag state lives in: the CPU object (fields, so that writes are plain stores). */
export interface FlagState {
  /** EFLAGS; its arithmetic bits are valid only where the lazy kind does not define them (all of them for STATIC). */
  flags: number;
  /** Kind of the last flag-setting operation | size (SZ8, SZ16); 0 = STATIC: everything is in `flags`. */
  fOp: number;
  fA: number;
  fB: number;
  fRes: number;
}

enum K { STATIC = 0, ADD, ADC, SUB, SBB, LOGIC, INC, DEC, SHL, SHR, SAR, MUL }
/** Operand size bits or'ed into a kind; 32-bit has none. Values of 8/16-bit kinds are kept masked to their size. */
export const SZ8 = 16, SZ16 = 32;

// Parity of the low byte (PF is set when the number of 1 bits is even).
const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let n = 0;
  for (let v = i; v; v >>= 1) n += v & 1;
  PARITY[i] = n & 1 ? 0 : PF;
}

// ---- setters: 32-bit ----

export function setAdd(s: FlagState, a: number, b: number,
  r: number): void { s.fOp = K.ADD; s.fA = a; s.fB = b; s.fRes = r; }
export function setSub(s: FlagState, a: number, b: number,
  r: number): void { s.fOp = K.SUB; s.fA = a; s.fB = b; s.fRes = r; }
export function setLogic(s: FlagState, r: number): void { s.fOp = K.LOGIC; s.fRes = r; }
export function setMul(s: FlagState, low: number,
  overflow: boolean): void { s.fOp = K.MUL; s.fB = overflow ? 1 : 0; s.fRes = low; }

/** inc/dec keep CF: make CF static first (unless the previous operation already kept it static). */
function keepCF(s: FlagState): void {
  const k = s.fOp & 15;
  if (k !== K.STATIC && k !== K.INC && k !== K.DEC) s.flags = (s.flags & ~CF) | getCF(s);
}
export function setInc(s: FlagState, a: number, r: number,
  size = 0): void { keepCF(s); s.fOp = K.INC | size; s.fA = a; s.fB = 1; s.fRes = r; }
export function setDec(s: FlagState, a: number, r: number,
  size = 0): void { keepCF(s); s.fOp = K.DEC | size; s.fA = a; s.fB = 1; s.fRes = r; }

/**
 * Any size. kind: 0 add, 1 or, 2 adc, 3 sbb, 4 and, 5 sub, 6 xor, 7 cmp (the ModRM /digit of the 80-83 group);
 * a, b, r already masked to the size for 8/16-bit. carry: the carry-in of adc/sbb.
 */
export function setAlu(s: FlagState, kind: number, size: number, a: number, b: number, r: number, carry: number): void {
  let k: number;
  switch (kind) {
    case 0: k = K.ADD; break;
    case 2: k = carry ? K.ADC : K.ADD; break;
    case 3: k = carry ? K.SBB : K.SUB; break;
    case 5: case 7: k = K.SUB; break;
    default: k = K.LOGIC;
  }
  s.fOp = k | size; s.fA = a; s.fB = b; s.fRes = r;
}

/** Shifts by a non-zero (masked) count: kind 4/6 shl, 5 shr, 7 sar. a is the operand before the shift. */
export function setShift(s: FlagState, kind: number, size: number, a: number, count: number, r: number): void {
  s.fOp = (kind === 5 ? K.SHR : kind === 7 ? K.SAR : K.SHL) | size; s.fA = a; s.fB = count; s.fRes = r;
}
export function setMulSized(s: FlagState, size: number, low: number, overflow: boolean): void {
  s.fOp = K.MUL | size; s.fB = overflow ? 1 : 0; s.fRes = low;
}

// ---- getters ----

/** The six arithmetic flags as EFLAGS bits. */
export function arith(s: FlagState): number {
  const op = s.fOp;
  if (op === K.STATIC) return s.flags & ARITH;
  const kind = op & 15, sz = op >> 4;
  const sb = sz === 0 ? -0x80000000 : sz === 1 ? 0x80 : 0x8000;
  const mask = sz === 0 ? -1 : sz === 1 ? 0xff : 0xffff;
  const bits = sz === 0 ? 32 : sz === 1 ? 8 : 16;
  const a = s.fA, b = s.fB, r = s.fRes;
  let f = PARITY[r & 0xff] | ((r & mask) === 0 ? ZF : 0) | ((r & sb) !== 0 ? SF : 0);
  switch (kind) {
    case K.ADD:
      if (((r & mask) >>> 0) < ((a & mask) >>> 0)) f |= CF;
      if (((a ^ r) & (b ^ r) & sb) !== 0) f |= OF;
      f |= (a ^ b ^ r) & AF;
      break;
    case K.ADC:
      if (((r & mask) >>> 0) <= ((a & mask) >>> 0)) f |= CF;
      if (((a ^ r) & (b ^ r) & sb) !== 0) f |= OF;
      f |= (a ^ b ^ r) & AF;
      break;
    case K.SUB:
      if (((a & mask) >>> 0) < ((b & mask) >>> 0)) f |= CF;
      if (((a ^ b) & (a ^ r) & sb) !== 0) f |= OF;
      f |= (a ^ b ^ r) & AF;
      break;
    case K.SBB:
      if (((a & mask) >>> 0) <= ((b & mask) >>> 0)) f |= CF;
      if (((a ^ b) & (a ^ r) & sb) !== 0) f |= OF;
      f |= (a ^ b ^ r) & AF;
      break;
    case K.LOGIC:
      break; // CF = OF = 0; AF is undefined and reads 0
    case K.INC:
      f |= s.flags & CF;
      if (((a ^ r) & (b ^ r) & sb) !== 0) f |= OF;
      f |= (a ^ b ^ r) & AF;
      break;
    case K.DEC:
      f |= s.flags & CF;
      if (((a ^ b) & (a ^ r) & sb) !== 0) f |= OF;
      f |= (a ^ b ^ r) & AF;
      break;
    case K.SHL: {
      // CF: the last bit shifted out (undefined by Intel for counts above the size: 0 here). OF: defined for count 1.
      const cf = b <= bits ? ((a & mask) >>> (bits - b)) & 1 : 0;
      f |= cf;
      if ((((r & sb) !== 0) ? 1 : 0) !== cf) f |= OF;
      break;
    }
    case K.SHR:
      f |= b <= bits ? ((a & mask) >>> (b - 1)) & 1 : 0;
      if ((a & sb) !== 0) f |= OF; // the original sign, as for a count of 1
      break;
    case K.SAR: {
      const v = sz === 0 ? a : sz === 1 ? (a << 24) >> 24 : (a << 16) >> 16;
      f |= (v >> Math.min(b - 1, 31)) & 1;
      break; // OF = 0
    }
    case K.MUL:
      if (b !== 0) f |= CF | OF;
      break;
  }
  return f;
}

/** CF alone (adc, sbb, rcl, rcr and inc/dec's preservation need it without the other five). */
export function getCF(s: FlagState): number {
  switch (s.fOp) {
    case K.SUB: return (s.fA >>> 0) < (s.fB >>> 0) ? 1 : 0;
    case K.ADD: return (s.fRes >>> 0) < (s.fA >>> 0) ? 1 : 0;
    case K.LOGIC: return 0;
    case K.STATIC: case K.INC: case K.DEC: return s.flags & CF;
    default: return arith(s) & CF;
  }
}

/** The whole EFLAGS value, as pushf would see it (before pushf's own masking). */
export function getEflags(s: FlagState): number {
  return (s.flags & ~ARITH) | arith(s) | FIXED1;
}

/** Load EFLAGS (the caller has applied privilege masks): all flags become static. */
export function putEflags(s: FlagState, v: number): void {
  s.flags = (v | FIXED1) & ~0x8028; // bits 3, 5, 15 are reserved zero
  s.fOp = K.STATIC;
}

/** Replace some arithmetic flags (rotates, sahf, clc/stc/cmc): materialises the rest first. */
export function putArith(s: FlagState, mask: number, value: number): void {
  s.flags = (s.flags & ~ARITH) | (arith(s) & ~mask) | (value & mask);
  s.fOp = K.STATIC;
}

/** The condition cc (0 o, 1 no, 2 b, 3 ae, 4 e, 5 ne, 6 be, 7 a, 8 s, 9 ns, 10 p, 11 np, 12 l, 13 ge, 14 le, 15 g). */
export function cond(s: FlagState, cc: number): boolean {
  // Small enough for V8 to inline into the interpreter: the common case, a condition after cmp/sub, is a plain
  // comparison of the operands (int32 values).
  if (s.fOp !== K.SUB) return condSlow(s, cc);
  const a = s.fA, b = s.fB;
  let t: boolean;
  switch (cc >> 1) {
    case 0: t = ((a ^ b) & (a ^ s.fRes)) < 0; break;
    case 1: t = (a >>> 0) < (b >>> 0); break;
    case 2: t = a === b; break;
    case 3: t = (a >>> 0) <= (b >>> 0); break;
    case 4: t = s.fRes < 0; break;
    case 5: t = PARITY[s.fRes & 0xff] !== 0; break;
    case 6: t = a < b; break;
    default: t = a <= b;
  }
  return (cc & 1) !== 0 ? !t : t;
}

function condSlow(s: FlagState, cc: number): boolean {
  const op = s.fOp;
  let t: boolean;
  if (op < 16 && (cc >> 1 === 2 || cc >> 1 === 4)) {
    // e/ne and s/ns after any 32-bit operation: from the result alone.
    if (op === K.STATIC) t = (s.flags & (cc >> 1 === 2 ? ZF : SF)) !== 0;
    else t = cc >> 1 === 2 ? s.fRes === 0 : s.fRes < 0;
  } else if (op === K.LOGIC) {
    const r = s.fRes;
    switch (cc >> 1) {
      case 0: case 1: t = false; break;
      case 2: case 3: t = r === 0; break;
      case 4: case 6: t = r < 0; break;
      case 5: t = PARITY[r & 0xff] !== 0; break;
      default: t = r <= 0;
    }
  } else {
    const f = arith(s);
    switch (cc >> 1) {
      case 0: t = (f & OF) !== 0; break;
      case 1: t = (f & CF) !== 0; break;
      case 2: t = (f & ZF) !== 0; break;
      case 3: t = (f & (CF | ZF)) !== 0; break;
      case 4: t = (f & SF) !== 0; break;
      case 5: t = (f & PF) !== 0; break;
      case 6: t = ((f & SF) !== 0) !== ((f & OF) !== 0); break;
      default: t = (f & ZF) !== 0 || ((f & SF) !== 0) !== ((f & OF) !== 0);
    }
  }
  return (cc & 1) !== 0 ? !t : t;
}
