// The differential test's cases: seeded, generated sequences of 1-3 user-mode instructions of the TAL subset, packed
// by the thousand into one GNU-assembled static i386 ELF that runs natively on the host and in the emulator.
//
// Each case sets esp to a private stack, EFLAGS (push imm32; popfd, with CF PF AF ZF SF OF random), four scratch
// words, three stack words and the seven other registers, runs its instructions, and stores one record: a marker,
// eax ecx edx ebx esp ebp esi edi, EFLAGS (pushfd) and the scratch and stack words. Memory operands always land in
// the scratch words (which straddle a page boundary) or in the stack words. Nothing a case does can fault: divisions
// are generated with a quotient that fits, and addresses are computed at generation time from the base, the index
// and the displacement.
//
// The generator tracks which flags the Intel SDM leaves undefined after each instruction (FLAG_RULES below), never
// lets a later instruction read an undefined flag (adc/sbb, setcc, jcc), and masks those flags in the comparison.
import { gnuLink } from '../../bench/hosttools.ts';

// ---------------------------------------------------------------------------------------------------------------
// Flags and the SDM's undefined-flag rules

export const CF = 0x001, PF = 0x004, AF = 0x010, ZF = 0x040, SF = 0x080, OF = 0x800;
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;

const FLAG_NAMES: [number, string][] = [[CF, 'CF'], [PF, 'PF'], [AF, 'AF'], [ZF, 'ZF'], [SF, 'SF'], [0x200, 'IF'],
  [0x400, 'DF'], [OF, 'OF']];
export function flagNames(mask: number): string {
  const names = FLAG_NAMES.filter(([bit]) => mask & bit).map(([, n]) => n);
  const other = mask & ~FLAG_NAMES.reduce((a, [b]) => a | b, 0);
  if (other) names.push(`0x${(other >>> 0).toString(16)}`);
  return names.join(' ') || '-';
}

/**
 * The undefined-flag rules applied, as in the Intel SDM Vol. 2 "Flags Affected" section of each instruction (and
 * the EFLAGS cross-reference, Vol. 1 Appendix A). Each maps the set of flags undefined before the instruction to
 * the set undefined after it ("taint"); a flag the instruction does not affect keeps its state.
 */
export const FLAG_RULES = {
  /** ADD ADC SUB SBB CMP NEG: OF SF ZF AF CF PF set according to the result. */
  arith: (_t: number) => 0,
  /** AND OR XOR TEST: OF and CF cleared; SF ZF PF per result; "the state of the AF flag is undefined". */
  logic: (_t: number) => AF,
  /** INC DEC: "The CF flag is not affected. The OF, SF, ZF, AF, and PF flags are set according to the result." */
  incdec: (t: number) => t & CF,
  /** NOT, MOV, MOVZX, MOVSX, LEA, SETcc, PUSH, POP, CDQ, Jcc, JMP, NOP: "None" / flags not affected. */
  none: (t: number) => t,
  /** MUL, IMUL: CF and OF defined; "The SF, ZF, AF, and PF flags are undefined." */
  mul: (_t: number) => SF | ZF | AF | PF,
  /** DIV, IDIV: "The CF, OF, SF, ZF, AF, and PF flags are undefined." */
  div: (_t: number) => ARITH_FLAGS,
  /**
   * SAL SHL SAR SHR with masked count c = count & 0x1f: "If the count is 0, the flags are not affected"; CF is the
   * last bit shifted out (undefined for SHL/SHR only when the count ≥ the operand size, which a masked 32-bit count
   * never is); "The OF flag is affected only for 1-bit shifts ... otherwise, it is undefined"; SF ZF PF per result;
   * "For a non-zero count, the AF flag is undefined." An unknown count (cl computed by an earlier instruction) is
   * the union of the cases.
   */
  shift: (t: number, c: number | undefined) => (c === undefined ? t | AF | OF : c === 0 ? t : c === 1 ? AF : AF | OF),
  /**
   * ROL ROR RCL RCR with masked count c (count & 0x1f; RCL/RCR r/m8 then rotate by c mod 9): "If the masked count is 0, the flags are not affected. If the masked count is 1,
   * then the OF flag is affected, otherwise (masked count is greater than 1) the OF flag is undefined. The CF flag
   * is affected when the masked count is nonzero. The SF, ZF, AF, and PF flags are always unaffected."
   */
  rotate: (t: number, c: number | undefined) => (c === undefined ? t | OF : c === 0 ? t : c === 1 ? t & ~(CF | OF)
    : (t & ~CF) | OF),
  /**
   * 8-bit SHL SHR SAR with c = count & 0x1f: as `shift`, and CF is undefined for SHL and SHR when c ≥ 8 (the
   * operand size; SAR's CF stays defined: the SDM names only SHL and SHR).
   */
  shift8: (t: number, c: number | undefined, shlShr: boolean) =>
    (c === undefined ? t | AF | OF | (shlShr ? CF : 0) : c === 0 ? t
      : (c === 1 ? AF : AF | OF) | (shlShr && c >= 8 ? CF : 0)),
  /** SAHF: "The SF, ZF, AF, PF, and CF flags are loaded with values from the AH register"; OF is not affected. */
  sahf: (t: number) => t & OF,
  /** CLC, STC: CF cleared or set; "The OF, ZF, SF, AF, and PF flags are unaffected". */
  carry: (t: number) => t & ~CF,
  /** CMC: CF complemented (defined if it was), the others unaffected. */
  complement: (t: number) => t,
} as const;

/** The flags each condition code reads (SDM Vol. 1 Appendix B, EFLAGS condition codes). */
const CONDITIONS: [string, number][] = [
  ['o', OF], ['no', OF], ['b', CF], ['ae', CF], ['e', ZF], ['ne', ZF], ['be', CF | ZF], ['a', CF | ZF],
  ['s', SF], ['ns', SF], ['p', PF], ['np', PF], ['l', SF | OF], ['ge', SF | OF], ['le', ZF | SF | OF], ['g',
    ZF | SF | OF],
];
/** Other spellings GNU as accepts for the same encodings. */
const CONDITION_ALIASES: Record<string, string[]> = {
  b: ['c', 'nae'], ae: ['nc', 'nb'], e: ['z'], ne: ['nz'], be: ['na'], a: ['nbe'], p: ['pe'], np: ['po'],
  l: ['nge'], ge: ['nl'], le: ['ng'], g: ['nle'],
};

// ---------------------------------------------------------------------------------------------------------------
// The machine state a case starts from

export const REGS = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
export const BYTE_REGS = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'] as const;
const EAX = 0, ECX = 1, EDX = 2, ESP = 4;
/** The full register a byte register is part of. */
const byteOwner = (b: number) => b & 3;

/** The scratch words: 16 bytes at `dg_scratch`, which starts 8 bytes before a page boundary. */
export const SCRATCH_BYTES = 16;
/** The recorded stack words: at `dg_stack_top` - 8, - 4 and + 0. */
export const STACK_WORD_OFFSETS = [-8, -4, 0] as const;

/** A register's initial value: a number, or an address the linker fixes (a symbol plus an addend). */
export type Val = number | { sym: 'dg_scratch' | 'dg_stack_top'; add: number };

/** The record each case stores: marker, 8 registers, EFLAGS, 4 scratch words, 3 stack words. */
export const RECORD_WORDS = 17;
const R_MARK = 0, R_REGS = 1, R_FLAGS = 9, R_SCRATCH = 10, R_STACK = 14;

export interface DiffCase {
  index: number;
  /** The instructions under test, as GNU assembler lines (a jcc brings its labels and marker move). */
  lines: string[];
  /** One short name per instruction, for coverage accounting ("adc r,imm8", "shl cl≥32", "idiv INT_MIN"...). */
  forms: string[];
  /** Initial registers, indexed like REGS (esp's slot is unused: esp starts at dg_stack_top). */
  regs: Val[];
  /** The EFLAGS value popped before the instructions. */
  flags: number;
  scratch: number[];
  stack: number[];
  /** The flags the SDM leaves undefined after the sequence: not compared. */
  undefinedFlags: number;
  /** No instruction of the sequence writes a flag (so EFLAGS must come out as popped). */
  flagNeutral: boolean;
  /** Where esp ends, relative to dg_stack_top. */
  espEnd: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Random numbers

/** mulberry32: a small seeded generator, enough for test data. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number { return Math.floor((this.u32() / 0x100000000) * n); }
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  chance(p: number): boolean { return this.u32() / 0x100000000 < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
}

const BOUNDARY = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0xff, 0x100, 0x7f, 0x80, 0xffff, 0x10000, 0x8000, 2,
  0xfffffffe, 0x80000001, 0x7ffffffe, 31, 32, 33, 0xffffff80, 0xffffff7f, 0x55555555, 0xaaaaaaaa, 0x0f0f0f0f];

/** A 32-bit value: a boundary value, a small one or a random one. */
function value(rng: Rng): number {
  const k = rng.int(20);
  if (k < 7) return rng.pick(BOUNDARY) >>> 0;
  if (k < 10) return rng.range(-300, 300) >>> 0;
  if (k < 11) return (rng.pick(BOUNDARY) + rng.range(-2, 2)) >>> 0;
  return rng.u32();
}
/** An immediate for an imm8 form (sign-extended), biased to the boundaries. */
function imm8(rng: Rng): number {
  return rng.chance(0.4) ? rng.pick([0, 1, -1, 127, -128, 2, -2, 0x40]) : rng.range(-128, 127);
}
/** An immediate that needs 32 bits (GNU as picks the imm32 form for it). */
function imm32(rng: Rng): number {
  for (;;) {
    const v = value(rng) | 0;
    if (v < -128 || v > 127) return v;
  }
}
/** A value related to v, for two-operand carries and overflows: equal, negated, complemented, near a boundary. */
function related(rng: Rng, v: number): number {
  switch (rng.int(7)) {
    case 0: return v >>> 0;
    case 1: return -v >>> 0;
    case 2: return ~v >>> 0;
    case 3: return (0x80000000 - v) >>> 0;
    case 4: return (0x7fffffff - v) >>> 0;
    case 5: return (v + rng.range(-2, 2)) >>> 0;
    default: return (0x100000000 - v + rng.range(-1, 1)) >>> 0;
  }
}

const hex = (v: number) => `0x${(v >>> 0).toString(16)}`;
/** A signed decimal addend for an assembler expression (`sym+5`, `sym-5`). */
const addend = (k: number) => ((k | 0) < 0 ? `-${-(k | 0)}` : `+${k | 0}`);
/** A displacement written after a register: `+0x10`, `-0x10`. */
const dispText = (d: number) => ((d | 0) < 0 ? `-${hex(-(d | 0))}` : `+${hex(d)}`);
const valText = (v: Val) => (typeof v === 'number' ? hex(v) : `${v.sym}${addend(v.add)}`);

// ---------------------------------------------------------------------------------------------------------------
// Building one case: the state an instruction generator sees

/** An instruction (or a jcc unit), its flag effect and what it writes. */
interface Insn {
  lines: string[];
  form: string;
  /** Flags it reads (must all be defined). */
  reads?: number;
  /** Flag effect: undefined flags before → after. */
  flags: (t: number) => number;
  /** Full registers written (byte registers name their owner). */
  writes?: number[];
  writesMem?: boolean;
  /** Change of esp, when it is a push or pop. */
  espDelta?: number;
}

interface MemTarget { region: 'scratch' | 'stack'; off: number }

class Builder {
  regs: Val[];
  flags: number;
  scratch: number[];
  stack: number[];
  written = new Set<number>();
  pinned = new Set<number>();
  memWritten = false;
  memPinned = new Set<string>();
  /** esp relative to dg_stack_top; always known (only push, pop, add/sub esp change it). */
  esp = 0;
  taint = 0;
  lines: string[] = [];
  forms: string[] = [];
  flagNeutral = true;

  constructor(readonly rng: Rng) {
    this.regs = REGS.map(() => value(rng));
    this.regs[ESP] = 0;
    this.flags = 0x202 | (rng.u32() & ARITH_FLAGS);
    this.scratch = [0, 1, 2, 3].map(() => value(rng));
    this.stack = STACK_WORD_OFFSETS.map(() => value(rng));
  }

  canSet(r: number): boolean { return r !== ESP && !this.written.has(r) && !this.pinned.has(r); }
  set(r: number, v: Val): void {
    if (!this.canSet(r)) throw new Error(`internal: ${REGS[r]} cannot be set`);
    this.regs[r] = typeof v === 'number' ? v >>> 0 : v;
    this.pinned.add(r);
  }
  /** The register's value now, when the generator knows it (an initial number not yet overwritten). */
  known(r: number): number | undefined {
    if (r === ESP || this.written.has(r)) return undefined;
    const v = this.regs[r];
    return typeof v === 'number' ? v : undefined;
  }
  /** Pins r if its value is known (so no later generator changes it) and returns the value. */
  use(r: number): number | undefined {
    const v = this.known(r);
    if (v !== undefined) this.pinned.add(r);
    return v;
  }

  apply(i: Insn): void {
    // A pseudo-prefix that a memory operand asked for ({disp32}) goes at the start of its line.
    this.lines.push(...i.lines.map(l => (l.indexOf('{disp32} ') > 0 ? `{disp32} ${l.replace('{disp32} ', '')}` : l)));
    this.forms.push(i.form);
    this.taint = i.flags(this.taint);
    if (i.flags !== FLAG_RULES.none) this.flagNeutral = false;
    for (const r of i.writes ?? []) this.written.add(r);
    if (i.writesMem) this.memWritten = true;
    this.esp += i.espDelta ?? 0;
  }

  /** Sets a memory word's initial value (for a divisor), if no earlier instruction depends on it or wrote memory. */
  setMem(t: MemTarget, v: number): boolean {
    const key = `${t.region}:${t.off}`;
    if (this.memWritten || this.memPinned.has(key)) return false;
    if (t.region === 'scratch') {
      if (t.off % 4) return false;
      this.scratch[t.off / 4] = v >>> 0;
    } else {
      const k = STACK_WORD_OFFSETS.indexOf(t.off as -8 | -4 | 0);
      if (k < 0) return false;
      this.stack[k] = v >>> 0;
    }
    this.memPinned.add(key);
    return true;
  }

  /** A free register (not esp) that can be given an initial value, or undefined. */
  freeReg(exclude: number[] = []): number | undefined {
    const free = [0, 1, 2, 3, 5, 6, 7].filter(r => this.canSet(r) && !exclude.includes(r));
    return free.length ? this.rng.pick(free) : undefined;
  }
  /** Any register but esp. */
  anyReg(): number { return this.rng.pick([0, 1, 2, 3, 5, 6, 7]); }
  /** Any register as a source (esp now and then). */
  srcReg(): number { return this.rng.chance(0.05) ? ESP : this.anyReg(); }

  /**
   * A memory operand of `size` bytes that addresses the scratch words or the stack words, in one of the addressing
   * forms; sets up the base and index registers it uses. Undefined if no form fits the registers still free.
   */
  mem(size: 1 | 2 | 4, target?: MemTarget): { text: string; target: MemTarget } | undefined {
    const rng = this.rng;
    const ptr = size === 4 ? 'dword ptr' : size === 2 ? 'word ptr' : 'byte ptr';
    for (let attempt = 0; attempt < 8; attempt++) {
      const t: MemTarget = target ?? (rng.chance(0.8)
        ? { region: 'scratch', off: rng.range(0, SCRATCH_BYTES - size) }
        : { region: 'stack', off: rng.range(-8, 4 - size) });
      const sym = t.region === 'scratch' ? 'dg_scratch' : 'dg_stack_top';
      const scale = rng.pick([1, 2, 4, 8]);
      switch (rng.int(8)) {
        case 0: // absolute [disp32]
          return { text: `${ptr} [${sym}${addend(t.off)}]`, target: t };
        case 1: { // [base], [base+disp8], [base+disp32] with the base carrying the address
          const b = this.freeReg();
          if (b === undefined) continue;
          const d = rng.pick([0, 0, imm8(rng), rng.u32() | 0]);
          const force = d !== 0 && d >= -128 && d <= 127 && rng.chance(0.3) ? '{disp32} ' : '';
          this.set(b, { sym, add: t.off - d });
          return { text: `${force}${ptr} [${REGS[b]}${d ? dispText(d) : ''}]`, target: t };
        }
        case 2: { // [base+index*scale+disp] with the base carrying the address, any index value
          const b = this.freeReg();
          if (b === undefined) continue;
          const x = this.freeReg([b]);
          let xv: number | undefined;
          if (x !== undefined) { xv = rng.chance(0.5) ? rng.range(-40, 40) >>> 0 : value(rng); this.set(x, xv); }
          if (x === undefined) continue;
          const d = rng.pick([0, imm8(rng), rng.u32() | 0]);
          this.set(b, { sym, add: (t.off - d - Math.imul(xv!, scale)) | 0 });
          return { text: `${ptr} [${REGS[b]}+${REGS[x]}*${scale}${d ? dispText(d) : ''}]`, target: t };
        }
        case 3: { // [index*scale+disp32] (no base), the displacement carrying the address
          const x = this.freeReg();
          if (x === undefined) continue;
          const xv = rng.chance(0.6) ? rng.range(-40, 40) >>> 0 : value(rng);
          this.set(x, xv);
          return { text: `${ptr} [${REGS[x]}*${scale}+${sym}${addend(t.off - Math.imul(xv, scale))}]`, target: t };
        }
        case 4: { // [base+disp32] where the displacement carries the address and the base holds any known value
          const b = rng.pick([0, 1, 2, 3, 5, 6, 7]);
          let bv = this.use(b);
          if (bv === undefined) {
            if (!this.canSet(b)) continue;
            bv = value(rng);
            this.set(b, bv);
          }
          return { text: `${ptr} [${REGS[b]}+${sym}${addend(t.off - bv)}]`, target: t };
        }
        case 5: { // [base+index*scale+disp32], the displacement carrying the address, both registers known values
          const b = rng.pick([0, 1, 2, 3, 5, 6, 7]);
          const x = rng.pick([0, 1, 2, 3, 5, 6, 7]);
          const bv = this.use(b), xv = this.use(x);
          if (bv === undefined || xv === undefined) continue;
          return { text: `${ptr} [${REGS[b]}+${REGS[x]}*${scale}+${sym}${addend(t.off - bv - Math.imul(xv, scale))}]`,
            target: t };
        }
        default: { // esp-based: [esp+disp8], [esp+index*scale+disp]
          if (t.region !== 'stack') continue;
          const rel = t.off - this.esp;
          if (rng.chance(0.5)) {
            const force = rng.chance(0.25) ? '{disp32} ' : '';
            return { text: `${force}${ptr} [esp${rel ? dispText(rel) : ''}]`, target: t };
          }
          const x = this.freeReg();
          if (x === undefined) continue;
          const xv = rng.range(-4, 4) >>> 0;
          this.set(x, xv);
          const d = (rel - Math.imul(xv, scale)) | 0;
          return { text: `${ptr} [esp+${REGS[x]}*${scale}${d ? dispText(d) : ''}]`, target: t };
        }
      }
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Instruction generators

type Gen = (b: Builder) => Insn | undefined;

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'] as const;
const ALU_DIGIT: Record<string, number> = { add: 0, or: 1, adc: 2, sbb: 3, and: 4, sub: 5, xor: 6, cmp: 7 };
const SHIFTS = ['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr'] as const;
const SHIFT_DIGIT: Record<string, number> = { rol: 0, ror: 1, rcl: 2, rcr: 3, shl: 4, shr: 5, sar: 7 };
/** RCL and RCR rotate through CF (they read it); their flag rule is ROL's and ROR's (SDM, RCL/RCR/ROL/ROR). */
const isRotate = (op: string) => op === 'rol' || op === 'ror' || op === 'rcl' || op === 'rcr';
const shiftReads = (op: string) => (op === 'rcl' || op === 'rcr' ? CF : 0);

const bytes = (bs: number[]) => `.byte ${bs.map(x => hex(x & 0xff)).join(',')}`;
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const modrmReg = (reg: number, rm: number) => 0xc0 | (reg << 3) | rm;

function aluFlags(op: string): (t: number) => number {
  return op === 'and' || op === 'or' || op === 'xor' ? FLAG_RULES.logic : FLAG_RULES.arith;
}

/** Gives a second register a value related to the first's, now and then, for carry and overflow edges. */
function relate(b: Builder, dst: number, src: number): void {
  const v = b.known(dst);
  if (v !== undefined && src !== dst && b.canSet(src) && b.rng.chance(0.3)) {
    b.regs[src] = related(b.rng, v);
  }
}

function aluGen(b: Builder, forceOp?: string, forceForm?: number): Insn | undefined {
  const rng = b.rng;
  const op = forceOp ?? rng.pick(ALU);
  const reads = op === 'adc' || op === 'sbb' ? CF : 0;
  if (b.taint & reads) return undefined;
  const flags = aluFlags(op);
  const writesDst = op !== 'cmp';
  const form = forceForm ?? rng.int(11);
  const d = b.anyReg();
  const wr = writesDst ? [d] : [];
  switch (form) {
    case 0: { // r/m32, r32 (register form)
      const s = b.srcReg();
      relate(b, d, s);
      return { lines: [`${op} ${REGS[d]}, ${REGS[s]}`], form: `${op} r,r`, reads, flags, writes: wr };
    }
    case 1: { // r32, r/m32 register form through {load}
      const s = b.srcReg();
      relate(b, d, s);
      return { lines: [`{load} ${op} ${REGS[d]}, ${REGS[s]}`], form: `${op} r,r (load form)`, reads, flags,
        writes: wr };
    }
    case 2: // r/m32, imm8
      return { lines: [`${op} ${REGS[d]}, ${imm8(rng)}`], form: `${op} r,imm8`, reads, flags, writes: wr };
    case 3: // r/m32, imm32 (or eax, imm32)
      return { lines: [`${op} ${REGS[d]}, ${hex(imm32(rng))}`], form: `${op} r,imm32`, reads, flags, writes: wr };
    case 4: { // r32, m32
      const m = b.mem(4);
      if (!m) return undefined;
      return { lines: [`${op} ${REGS[d]}, ${m.text}`], form: `${op} r,m`, reads, flags, writes: wr };
    }
    case 5: { // m32, r32
      const s = b.srcReg();
      const m = b.mem(4);
      if (!m) return undefined;
      return { lines: [`${op} ${m.text}, ${REGS[s]}`], form: `${op} m,r`, reads, flags, writesMem: writesDst };
    }
    case 6: { // m32, imm8 / imm32
      const m = b.mem(4);
      if (!m) return undefined;
      const i = rng.chance(0.5) ? imm8(rng) : imm32(rng);
      return { lines: [`${op} ${m.text}, ${i < -128 || i > 127 ? hex(i) : i}`], form: `${op} m,imm`, reads, flags,
        writesMem: writesDst };
    }
    case 7: { // 81 /digit id with a small immediate (GNU would pick 83)
      const i = imm8(rng);
      return { lines: [`${bytes([0x81, modrmReg(ALU_DIGIT[op], d), ...le32(i)])} # ${op} ${REGS[d]}, ${i} (81 /${ALU_DIGIT[op]} id)`], form: `${op} r,imm32 (81, small)`, reads, flags, writes: wr };
    }
    case 8: { // eax, imm32 short form with a small immediate (GNU would pick 83)
      const i = imm8(rng);
      return { lines: [`${bytes([ALU_DIGIT[op] * 8 + 5, ...le32(i)])} # ${op} eax, ${i} (${hex(ALU_DIGIT[op] * 8 + 5)} id)`], form: `${op} eax,imm32 (short, small)`, reads, flags, writes: writesDst ? [EAX] : [] };
    }
    case 9: // eax, imm32 short form
      return { lines: [`${op} eax, ${hex(imm32(rng))}`], form: `${op} eax,imm32`, reads, flags,
        writes: writesDst ? [EAX] : [] };
    default: { // same register on both sides
      return { lines: [`${op} ${REGS[d]}, ${REGS[d]}`], form: `${op} r,same`, reads, flags, writes: wr };
    }
  }
}

function testGen(b: Builder): Insn | undefined {
  const rng = b.rng;
  const flags = FLAG_RULES.logic;
  switch (rng.int(5)) {
    case 0: { const d = b.srcReg(),
      s = b.srcReg(); return { lines: [`test ${REGS[d]}, ${REGS[s]}`], form: 'test r,r', flags }; }
    case 1: { const s = b.srcReg(); const m = b.mem(4); if (!m) return undefined; return { lines: [`test ${m.text}, ${REGS[s]}`], form: 'test m,r', flags }; }
    case 2: { const d = b.anyReg(); return { lines: [`test ${REGS[d]}, ${hex(value(rng))}`], form: 'test r,imm32',
      flags }; }
    case 3: return { lines: [`test eax, ${hex(value(rng))}`], form: 'test eax,imm32', flags };
    default: { const m = b.mem(4); if (!m) return undefined; return { lines: [`test ${m.text}, ${hex(value(rng))}`],
      form: 'test m,imm32', flags }; }
  }
}

function unaryGen(b: Builder): Insn | undefined {
  const rng = b.rng;
  const op = rng.pick(['inc', 'dec', 'not', 'neg'] as const);
  const flags = op === 'not' ? FLAG_RULES.none : op === 'neg' ? FLAG_RULES.arith : FLAG_RULES.incdec;
  if (rng.chance(0.7)) {
    const d = b.anyReg();
    if (b.canSet(d) && rng.chance(0.5))
      b.set(d, rng.pick([0, 0x7fffffff, 0x80000000, 0xffffffff, 1, 0x0f, 0x10, 0xf, 0xfffffff0]));
    return { lines: [`${op} ${REGS[d]}`], form: `${op} r`, flags, writes: [d] };
  }
  const m = b.mem(4);
  if (!m) return undefined;
  return { lines: [`${op} ${m.text}`], form: `${op} m`, flags, writesMem: true };
}

/** A shift or rotate; count is 'cl' (any cl value) or an imm8, or left to chance. */
function shiftGen(b: Builder, forceOp?: string, forceCount?: number | 'cl' | 'c1', clValue?: number): Insn | undefined {
  const rng = b.rng;
  const op = forceOp ?? rng.pick(SHIFTS);
  const rule = isRotate(op) ? FLAG_RULES.rotate : FLAG_RULES.shift;
  const reads = shiftReads(op);
  const count = forceCount
    ?? (rng.chance(0.4) ? 'cl' : rng.chance(0.15) ? 'c1'
    : rng.pick([0, 1, 1, 2, 31, 32, 33, 63, 64, 255, rng.int(256)]));
  const useMem = rng.chance(0.25);
  let dst: string;
  let writes: number[] = [];
  let writesMem = false;
  let d = -1;
  if (useMem) {
    const m = b.mem(4);
    if (!m) return undefined;
    dst = m.text;
    writesMem = true;
  } else {
    d = b.anyReg();
    dst = REGS[d];
    writes = [d];
  }
  if (count === 'cl') {
    let c: number | undefined;
    if (b.canSet(ECX)) {
      const cl = clValue ?? rng.pick([0, 1, 2, 31, 32, 33, 63, 64, 65, 0x80, 0xff, 0x9f, rng.int(256)]);
      b.set(ECX, ((rng.u32() & 0xffffff00) | cl) >>> 0);
      c = cl & 31;
    } else {
      const v = b.use(ECX);
      c = v === undefined ? undefined : v & 31;
    }
    const cl = c === undefined ? '?' : c === 0 ? '0' : c === 1 ? '1' : 'n';
    return { lines: [`${op} ${dst}, cl`],
      form: `${op} cl${clValue !== undefined && clValue >= 32 ? '≥32' : ''} (masked ${cl})`, reads, flags: t => rule(t,
      c), writes, writesMem };
  }
  if (count === 'c1' && d >= 0) { // C1 /digit ib with a count of 1 (GNU would pick D1)
    return { lines: [`${bytes([0xc1, modrmReg(SHIFT_DIGIT[op], d), 1])} # ${op} ${dst}, 1 (C1 /${SHIFT_DIGIT[op]} ib)`],
      form: `${op} imm 1 (C1)`, reads, flags: t => rule(t, 1), writes };
  }
  const n = count === 'c1' ? 1 : count;
  return { lines: [`${op} ${dst}, ${n}`],
    form: `${op} ${n === 1 ? '1' : n === 0 ? 'imm 0' : n >= 32 ? 'imm≥32' : 'imm'}${useMem ? ' m' : ''}`, reads, flags: t => rule(t, n & 31), writes, writesMem };
}

const MUL_EDGES = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0x10000, 0x8000, 0xffff, 0x10001, 0xfffffffe, 0x40000000,
  0xc0000000, 3, 0x55555556, 0xb504f334];

function mulGen(b: Builder): Insn | undefined {
  const rng = b.rng;
  const flags = FLAG_RULES.mul;
  const edge = () => (rng.chance(0.5) ? rng.pick(MUL_EDGES) : value(rng));
  const kind = rng.int(7);
  if (kind <= 2) { // mul / imul r/m32 (edx:eax := eax * src)
    const op = kind === 0 ? 'mul' : 'imul';
    if (b.canSet(EAX) && rng.chance(0.7)) b.set(EAX, edge());
    if (rng.chance(0.75)) {
      const s = b.srcReg();
      if (b.canSet(s) && rng.chance(0.7)) b.set(s, edge());
      return { lines: [`${op} ${REGS[s]}`], form: `${op} r (1-op)`, flags, writes: [EAX, EDX] };
    }
    const m = b.mem(4);
    if (!m) return undefined;
    if (rng.chance(0.7)) b.setMem(m.target, edge());
    return { lines: [`${op} ${m.text}`], form: `${op} m (1-op)`, flags, writes: [EAX, EDX] };
  }
  const d = b.anyReg();
  if (b.canSet(d) && rng.chance(0.6)) b.set(d, edge());
  if (kind <= 4) { // imul r32, r/m32
    if (rng.chance(0.7)) {
      const s = b.srcReg();
      if (b.canSet(s) && rng.chance(0.6)) b.set(s, edge());
      return { lines: [`imul ${REGS[d]}, ${REGS[s]}`], form: 'imul r,r (2-op)', flags, writes: [d] };
    }
    const m = b.mem(4);
    if (!m) return undefined;
    if (rng.chance(0.6)) b.setMem(m.target, edge());
    return { lines: [`imul ${REGS[d]}, ${m.text}`], form: 'imul r,m (2-op)', flags, writes: [d] };
  }
  // imul r32, r/m32, imm8 / imm32
  const s = b.srcReg();
  if (b.canSet(s) && rng.chance(0.6)) b.set(s, edge());
  const which = rng.int(4);
  const imm = which === 0 ? imm8(rng) : which === 1 ? rng.pick([0x10000, 0x7fffffff, -0x80000000, 0x8000, 1000000, -3])
    : imm32(rng);
  if (which === 3) { // 69 /r id with a small immediate
    const i = imm8(rng);
    return { lines: [`${bytes([0x69, modrmReg(d, s), ...le32(i)])} # imul ${REGS[d]}, ${REGS[s]}, ${i} (69 /r id)`],
      form: 'imul r,r,imm32 (69, small)', flags, writes: [d] };
  }
  if (rng.chance(0.3)) {
    const m = b.mem(4);
    if (!m) return undefined;
    return { lines: [`imul ${REGS[d]}, ${m.text}, ${imm}`], form: `imul r,m,imm${which === 0 ? 8 : 32} (3-op)`, flags,
      writes: [d] };
  }
  return { lines: [`imul ${REGS[d]}, ${REGS[s]}, ${imm}`], form: `imul r,r,imm${which === 0 ? 8 : 32} (3-op)`, flags,
    writes: [d] };
}

const u64 = (hi: number, lo: number) => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const s64 = (hi: number, lo: number) => BigInt.asIntN(64, u64(hi, lo));

/** Whether div/idiv of edx:eax by d completes (no #DE). */
export function divides(signed: boolean, edx: number, eax: number, d: number): boolean {
  if ((d >>> 0) === 0) return false;
  if (!signed) return u64(edx, eax) / BigInt(d >>> 0) <= 0xffffffffn;
  const q = s64(edx, eax) / BigInt(d | 0); // BigInt division truncates toward zero, as idiv does
  return q >= -0x80000000n && q <= 0x7fffffffn;
}

/** A dividend (edx, eax) and divisor d for which the division does not fault; `kind` names the edge. */
function divOperands(rng: Rng, signed: boolean): { edx: number; eax: number; d: number; kind: string } {
  for (;;) {
    const k = rng.int(8);
    let edx: number, eax: number, d: number, kind: string;
    if (k === 0) { // the dividend INT_MIN (sign-extended) or 0x80000000, any divisor that fits
      eax = 0x80000000; edx = signed ? 0xffffffff
        : 0; d = rng.pick([1, 2, 0xfffffffe, 3, 0xfffffffd, 0x7fffffff, 0x80000000, 0xffffffff, value(rng)]);
      kind = 'INT_MIN';
    } else if (k === 1) { // quotient at the limit: q = max (or min), remainder extreme
      d = value(rng) || 7;
      if (!signed) {
        const q = rng.pick([0xffffffffn, 0xfffffffen, 0x80000000n]);
        const r = rng.pick([0n, BigInt(d >>> 0) - 1n, BigInt(rng.int(d >>> 0))]);
        const n = q * BigInt(d >>> 0) + r;
        edx = Number(n >> 32n) >>> 0; eax = Number(n & 0xffffffffn) >>> 0;
      } else {
        const q = BigInt(rng.pick([0x7fffffff, -0x80000000, 0x7ffffffe, -0x7fffffff]));
        const dd = BigInt(d | 0);
        const mag = dd < 0n ? -dd : dd;
        const rmag = rng.pick([0n, mag - 1n, BigInt(rng.int(Number(mag)))]);
        const n0 = q * dd;
        const n = n0 + (n0 < 0n ? -rmag : rmag);
        const w = BigInt.asUintN(64, n);
        edx = Number(w >> 32n) >>> 0; eax = Number(w & 0xffffffffn) >>> 0;
      }
      kind = 'quotient limit';
    } else if (k === 2 && signed) { // idiv by -1 of a dividend whose negation fits (2^31 → -2^31 included)
      d = 0xffffffff;
      const n = BigInt(rng.pick([0x80000000, 0x7fffffff, -0x7fffffff, 0, 1, -1, rng.u32() - 0x80000000]));
      const w = BigInt.asUintN(64, n);
      edx = Number(w >> 32n) >>> 0; eax = Number(w & 0xffffffffn) >>> 0;
      kind = 'by -1';
    } else if (k === 3) { // a small dividend, cdq-style
      eax = value(rng); edx = signed ? ((eax | 0) < 0 ? 0xffffffff : 0) : 0; d = value(rng);
      kind = 'cdq dividend';
    } else { // random: quotient and remainder drawn, the dividend composed
      d = value(rng);
      edx = rng.chance(0.5) ? rng.int(Math.max(1, (signed ? Math.abs(d | 0) : d >>> 0) >>> rng.int(32))) : value(rng);
      eax = value(rng);
      if (signed && rng.chance(0.5)) edx = -edx >>> 0;
      kind = 'random';
    }
    if (divides(signed, edx, eax, d)) return { edx, eax, d, kind };
  }
}

function divGen(b: Builder): Insn | undefined {
  const rng = b.rng;
  const signed = rng.chance(0.5);
  const op = signed ? 'idiv' : 'div';
  if (!b.canSet(EAX) || !b.canSet(EDX)) return undefined;
  const { edx, eax, d, kind } = divOperands(rng, signed);
  if (rng.chance(0.25)) {
    // eax and edx first, so that the memory operand's registers are others.
    b.set(EAX, eax); b.set(EDX, edx);
    const m = b.mem(4, { region: 'scratch', off: 4 * rng.int(4) });
    if (!m || !b.setMem(m.target, d)) return undefined;
    return { lines: [`${op} ${m.text}`], form: `${op} m (${kind})`, flags: FLAG_RULES.div, writes: [EAX, EDX] };
  }
  // The divisor in a register; now and then eax or edx itself, when that division is valid.
  if (rng.chance(0.05) && divides(signed, edx, d, d)) {
    b.set(EAX, d); b.set(EDX, edx);
    return { lines: [`${op} eax`], form: `${op} eax`, flags: FLAG_RULES.div, writes: [EAX, EDX] };
  }
  if (signed && rng.chance(0.05)) {
    const lo = rng.range(0x80000001, 0xffffffff) >>> 0; // edx = -1, eax < 0: quotient 2^32 - eax fits
    b.set(EAX, lo); b.set(EDX, 0xffffffff);
    return { lines: ['idiv edx'], form: 'idiv edx', flags: FLAG_RULES.div, writes: [EAX, EDX] };
  }
  const r = b.freeReg([EAX, EDX]);
  if (r === undefined) return undefined;
  b.set(EAX, eax); b.set(EDX, edx); b.set(r, d);
  return { lines: [`${op} ${REGS[r]}`], form: `${op} r (${kind})`, flags: FLAG_RULES.div, writes: [EAX, EDX] };
}

function cdqGen(b: Builder): Insn | undefined {
  if (b.canSet(EAX) && b.rng.chance(0.5)) b.set(EAX, b.rng.pick([0, 0x7fffffff, 0x80000000, 0xffffffff, 1]));
  return { lines: ['cdq'], form: 'cdq', flags: FLAG_RULES.none, writes: [EDX] };
}

function movxGen(b: Builder): Insn | undefined {
  const rng = b.rng;
  const op = rng.pick(['movzx', 'movsx'] as const);
  const d = b.anyReg();
  if (rng.chance(0.65)) {
    const s = rng.int(8);
    if (b.canSet(byteOwner(s)) && rng.chance(0.4))
      b.set(byteOwner(s),
        (rng.pick([0x80, 0x7f, 0xff, 0x00, 0x8000, 0x7f00, 0xff00]) | (rng.u32() & 0xffff0000)) >>> 0);
    return { lines: [`${op} ${REGS[d]}, ${BYTE_REGS[s]}`], form: `${op} r,r8${s >= 4 ? ' (high)' : ''}`,
      flags: FLAG_RULES.none, writes: [d] };
  }
  const m = b.mem(1);
  if (!m) return undefined;
  return { lines: [`${op} ${REGS[d]}, ${m.text}`], form: `${op} r,m8`, flags: FLAG_RULES.none, writes: [d] };
}

/** lea in every addressing form; the registers keep their random values (lea does not touch memory). */
function leaGen(b: Builder): Insn | undefined {
  const rng = b.rng;
  const d = b.anyReg();
  const base = () => rng.pick([0, 1, 2, 3, 4, 5, 6, 7]);
  const index = () => rng.pick([0, 1, 2, 3, 5, 6, 7]);
  const scale = rng.pick([1, 2, 4, 8]);
  const d8 = imm8(rng), d32 = imm32(rng);
  const pick = rng.int(10);
  let text: string, form: string;
  switch (pick) {
    case 0: text = `[${hex(value(rng))}]`; form = 'lea [disp32]'; break;
    case 1: { const r = base(); text = `[${REGS[r]}]`; form = `lea [base]${r === 4 ? ' esp' : r === 5 ? ' ebp' : ''}`; break; }
    case 2: text = `[${REGS[base()]}${dispText(d8)}]`; form = 'lea [base+disp8]'; break;
    case 3: text = `[${REGS[base()]}${dispText(d32)}]`; form = 'lea [base+disp32]'; break;
    case 4: text = `{disp32} [${REGS[base()]}${dispText(d8)}]`; form = 'lea [base+disp32 small]'; break;
    case 5: { const r = base(); text = `[${REGS[r]}+${REGS[index()]}*${scale}]`; form = `lea [base+index*s]${r === 5 ? ' ebp' : ''}`; break; }
    case 6: text = `[${REGS[base()]}+${REGS[index()]}*${scale}${dispText(d8)}]`; form = 'lea [base+index*s+disp8]'; break;
    case 7: text = `[${REGS[base()]}+${REGS[index()]}*${scale}${dispText(d32)}]`; form = 'lea [base+index*s+disp32]'; break;
    case 8: text = `[${REGS[index()]}*${scale}${dispText(rng.chance(0.3) ? 0 : d32)}]`; form = 'lea [index*s+disp32]'; break;
    default: { const r = index(); text = `[${REGS[r]}+${REGS[r]}*${scale}${rng.chance(0.5) ? dispText(d8) : ''}]`; form = 'lea [r+r*s]'; break; }
  }
  const force = text.startsWith('{disp32} ') ? '{disp32} ' : '';
  return { lines: [`${force}lea ${REGS[d]}, ${text.replace('{disp32} ', '')}`], form, flags: FLAG_RULES.none,
    writes: [d] };
}

/** A condition whose flags are all defined now; undefined when none is. */
function condition(b: Builder, force?: string): { cc: string; spelled: string; reads: number } | undefined {
  const ok = CONDITIONS.filter(([cc, f]) => (force === undefined || cc === force) && !(b.taint & f));
  if (!ok.length) return undefined;
  const [cc, reads] = b.rng.pick(ok);
  const spelled = b.rng.chance(0.25) && CONDITION_ALIASES[cc] ? b.rng.pick(CONDITION_ALIASES[cc]) : cc;
  return { cc, spelled, reads };
}

function setccGen(b: Builder, force?: string): Insn | undefined {
  const c = condition(b, force);
  if (!c) return undefined;
  if (b.rng.chance(0.75)) {
    const r = b.rng.int(8);
    return { lines: [`set${c.spelled} ${BYTE_REGS[r]}`], form: `set${c.cc}`, reads: c.reads, flags: FLAG_RULES.none,
      writes: [byteOwner(r)] };
  }
  const m = b.mem(1);
  if (!m) return undefined;
  return { lines: [`set${c.spelled} ${m.text}`], form: `set${c.cc}`, reads: c.reads, flags: FLAG_RULES.none,
    writesMem: true };
}

function jccGen(b: Builder, force?: string): Insn | undefined {
  const c = condition(b, force);
  if (!c) return undefined;
  const rng = b.rng;
  const r = b.anyReg();
  const mark = (0x5a000000 | rng.int(0x1000000)) >>> 0;
  const near = rng.chance(0.3) ? '{disp32} ' : '';
  const form = `j${c.cc}`;
  if (rng.chance(0.75)) { // forward: the marker is set when the branch is not taken
    return { lines: [`${near}j${c.spelled} 1f`, `mov ${REGS[r]}, ${hex(mark)}`, '1:'], form, reads: c.reads,
      flags: FLAG_RULES.none, writes: [r] };
  }
  // backward: the marker is set when the branch is taken
  return {
    lines: ['jmp 2f', '1:', `mov ${REGS[r]}, ${hex(mark)}`, 'jmp 3f', '2:', `${near}j${c.spelled} 1b`, '3:'],
    form: `${form} back`, reads: c.reads, flags: FLAG_RULES.none, writes: [r],
  };
}

function movGen(b: Builder): Insn | undefined {
  const rng = b.rng;
  const none = FLAG_RULES.none;
  const d = b.anyReg();
  switch (rng.int(14)) {
    case 0: return { lines: [`mov ${REGS[d]}, ${REGS[b.srcReg()]}`], form: 'mov r,r', flags: none, writes: [d] };
    case 1: return { lines: [`{load} mov ${REGS[d]}, ${REGS[b.srcReg()]}`], form: 'mov r,r (8B)', flags: none,
      writes: [d] };
    case 2: return { lines: [`mov ${REGS[d]}, ${hex(value(rng))}`], form: 'mov r,imm32', flags: none, writes: [d] };
    case 3: { const v = value(rng); return { lines: [`${bytes([0xc7, modrmReg(0, d), ...le32(v)])} # mov ${REGS[d]}, ${hex(v)} (C7 /0)`], form: 'mov r,imm32 (C7)', flags: none, writes: [d] }; }
    case 4: { const m = b.mem(4); if (!m) return undefined; return { lines: [`mov ${REGS[d]}, ${m.text}`],
      form: 'mov r,m', flags: none, writes: [d] }; }
    case 5: { const s = b.srcReg(); const m = b.mem(4); if (!m) return undefined; return { lines: [`mov ${m.text}, ${REGS[s]}`], form: 'mov m,r', flags: none, writesMem: true }; }
    case 6: { const m = b.mem(4); if (!m) return undefined; return { lines: [`mov ${m.text}, ${hex(value(rng))}`],
      form: 'mov m,imm32', flags: none, writesMem: true }; }
    case 7: { // moffs forms (A1 / A3)
      const off = rng.range(0, 12);
      return rng.chance(0.5)
        ? { lines: [`mov eax, dword ptr [dg_scratch+${off}]`], form: 'mov eax,moffs', flags: none, writes: [EAX] }
        : { lines: [`mov dword ptr [dg_scratch+${off}], eax`], form: 'mov moffs,eax', flags: none, writesMem: true };
    }
    case 8: { const x = rng.int(8),
      y = rng.int(8); return { lines: [`${rng.chance(0.3) ? '{load} ' : ''}mov ${BYTE_REGS[x]}, ${BYTE_REGS[y]}`],
      form: `mov r8,r8${x >= 4 || y >= 4 ? ' (high)' : ''}`, flags: none, writes: [byteOwner(x)] }; }
    case 9: { const x = rng.int(8); return { lines: [`mov ${BYTE_REGS[x]}, ${hex(rng.int(256))}`],
      form: `mov r8,imm8${x >= 4 ? ' (high)' : ''}`, flags: none, writes: [byteOwner(x)] }; }
    case 10: { const x = rng.int(8),
      v = rng.int(256); return { lines: [`${bytes([0xc6, modrmReg(0, x), v])} # mov ${BYTE_REGS[x]}, ${hex(v)} (C6 /0)`], form: 'mov r8,imm8 (C6)', flags: none, writes: [byteOwner(x)] }; }
    case 11: { const x = rng.int(8); const m = b.mem(1); if (!m) return undefined; return { lines: [`mov ${BYTE_REGS[x]}, ${m.text}`], form: 'mov r8,m8', flags: none, writes: [byteOwner(x)] }; }
    case 12: { const x = rng.int(8); const m = b.mem(1); if (!m) return undefined; return { lines: [`mov ${m.text}, ${BYTE_REGS[x]}`], form: 'mov m8,r8', flags: none, writesMem: true }; }
    default: { const m = b.mem(1); if (!m) return undefined; return { lines: [`mov ${m.text}, ${hex(rng.int(256))}`],
      form: 'mov m8,imm8', flags: none, writesMem: true }; }
  }
}

/** push and pop, keeping esp within the recorded stack words (dg_stack_top - 8 … + 4). */
function stackGen(b: Builder): Insn | undefined {
  const rng = b.rng;
  const none = FLAG_RULES.none;
  const canPush = b.esp - 4 >= -8, canPop = b.esp + 4 <= 4;
  const k = rng.int(9);
  if (k <= 3 && canPush) {
    switch (k) {
      case 0: { const s = b.srcReg(); return { lines: [`push ${REGS[s]}`], form: s === ESP ? 'push esp' : 'push r',
        flags: none, writesMem: true, espDelta: -4 }; }
      case 1: return { lines: [`push ${imm8(rng)}`], form: 'push imm8', flags: none, writesMem: true, espDelta: -4 };
      case 2: return { lines: [`push ${hex(imm32(rng))}`], form: 'push imm32', flags: none, writesMem: true,
        espDelta: -4 };
      default: { const m = b.mem(4); if (!m) return undefined; return { lines: [`push ${m.text}`],
        form: m.text.includes('[esp') ? 'push m (esp-based)' : 'push m', flags: none, writesMem: true, espDelta: -4 }; }
    }
  }
  if (k <= 6 && canPop) {
    if (k <= 5) { const d = b.anyReg(); return { lines: [`pop ${REGS[d]}`], form: 'pop r', flags: none, writes: [d],
      espDelta: 4 }; }
    // pop m32: an esp-based address is computed after esp is incremented (SDM, POP)
    const t: MemTarget = rng.chance(0.5) ? { region: 'scratch', off: rng.range(0, 12) }
      : { region: 'stack', off: rng.range(-8, 0) };
    const saved = b.esp;
    b.esp += 4;
    const m = b.mem(4, t);
    b.esp = saved;
    if (!m) return undefined;
    return { lines: [`pop ${m.text}`], form: m.text.includes('[esp') ? 'pop m (esp-based)' : 'pop m', flags: none,
      writesMem: true, espDelta: 4 };
  }
  if (k === 7 && canPush) return { lines: ['sub esp, 4'], form: 'sub esp,4', flags: FLAG_RULES.arith, espDelta: -4 };
  if (k === 8 && canPop) return { lines: ['add esp, 4'], form: 'add esp,4', flags: FLAG_RULES.arith, espDelta: 4 };
  return undefined;
}

const nopGen: Gen = () => ({ lines: ['nop'], form: 'nop', flags: FLAG_RULES.none });

// ---------------------------------------------------------------------------------------------------------------
// Instructions the emulator runs beyond the TAL subset (the runtime stubs, the kernel's code, other compilers'
// output): byte arithmetic, xchg, cmov, bswap, movzx/movsx of words, cwde, sahf/lahf, clc/stc/cmc, leave,
// call/ret, jmp and call through a register or memory, loop/jecxz, pusha/popa.

function alu8Gen(b: Builder, forceOp?: string, forceForm?: number): Insn | undefined {
  const rng = b.rng;
  const op = forceOp ?? rng.pick(ALU);
  const reads = op === 'adc' || op === 'sbb' ? CF : 0;
  const flags = aluFlags(op);
  const wrMem = op !== 'cmp';
  const x = rng.int(8), y = rng.int(8);
  const wr = op !== 'cmp' ? [byteOwner(x)] : [];
  switch (forceForm ?? rng.int(8)) {
    case 0: return { lines: [`${op} ${BYTE_REGS[x]}, ${BYTE_REGS[y]}`], form: `${op} r8,r8`, reads, flags, writes: wr };
    case 1: return { lines: [`{load} ${op} ${BYTE_REGS[x]}, ${BYTE_REGS[y]}`], form: `${op} r8,r8 (load form)`, reads,
      flags, writes: wr };
    case 2: return { lines: [`${op} ${BYTE_REGS[x]}, ${hex(rng.int(256))}`], form: `${op} r8,imm8`, reads, flags,
      writes: wr };
    case 3: return { lines: [`${op} al, ${hex(rng.int(256))}`], form: `${op} al,imm8`, reads, flags,
      writes: op !== 'cmp' ? [EAX] : [] };
    case 4: { const m = b.mem(1); if (!m) return undefined; return { lines: [`${op} ${m.text}, ${BYTE_REGS[y]}`],
      form: `${op} m8,r8`, reads, flags, writesMem: wrMem }; }
    case 5: { const m = b.mem(1); if (!m) return undefined; return { lines: [`${op} ${BYTE_REGS[x]}, ${m.text}`],
      form: `${op} r8,m8`, reads, flags, writes: wr }; }
    case 6: { const m = b.mem(1); if (!m) return undefined; return { lines: [`${op} ${m.text}, ${hex(rng.int(256))}`],
      form: `${op} m8,imm8`, reads, flags, writesMem: wrMem }; }
    default: { // 82 /digit ib: the 32-bit-mode alias of 80
      const v = rng.int(256);
      return { lines: [`${bytes([0x82, modrmReg(ALU_DIGIT[op], x), v])} # ${op} ${BYTE_REGS[x]}, ${hex(v)} (82 /${ALU_DIGIT[op]} ib)`], form: `${op} r8,imm8 (82)`, reads, flags, writes: wr };
    }
  }
}

function byteMiscGen(b: Builder): Insn | undefined {
  const rng = b.rng;
  const x = rng.int(8), y = rng.int(8);
  switch (rng.int(9)) {
    case 0: return { lines: [`test ${BYTE_REGS[x]}, ${BYTE_REGS[y]}`], form: 'test r8,r8', flags: FLAG_RULES.logic };
    case 1: return { lines: [`test ${BYTE_REGS[x]}, ${hex(rng.int(256))}`],
      form: x === 0 ? 'test al,imm8' : 'test r8,imm8', flags: FLAG_RULES.logic };
    case 2: { const m = b.mem(1); if (!m) return undefined; return { lines: [`test ${m.text}, ${rng.chance(0.5) ? hex(rng.int(256)) : BYTE_REGS[y]}`], form: 'test m8', flags: FLAG_RULES.logic }; }
    default: {
      const op = rng.pick(['inc', 'dec', 'not', 'neg'] as const);
      const flags = op === 'not' ? FLAG_RULES.none : op === 'neg' ? FLAG_RULES.arith : FLAG_RULES.incdec;
      if (rng.chance(0.7)) {
        if (b.canSet(byteOwner(x)) && rng.chance(0.5))
          b.set(byteOwner(x),
            (rng.u32() & ~(0xff << (x >= 4 ? 8 : 0))) | (rng.pick([0, 0x7f, 0x80, 0xff, 1, 0x0f]) << (x >= 4 ? 8 : 0)));
        return { lines: [`${op} ${BYTE_REGS[x]}`], form: `${op} r8`, flags, writes: [byteOwner(x)] };
      }
      const m = b.mem(1);
      if (!m) return undefined;
      return { lines: [`${op} ${m.text}`], form: `${op} m8`, flags, writesMem: true };
    }
  }
}

function shift8Gen(b: Builder, forceOp?: string, forceCount?: number | 'cl', clValue?: number): Insn | undefined {
  const rng = b.rng;
  const op = forceOp ?? rng.pick(SHIFTS);
  const rotate = isRotate(op);
  const reads = shiftReads(op);
  const rule = (t: number, c: number | undefined) => (rotate ? FLAG_RULES.rotate(t, c)
    : FLAG_RULES.shift8(t, c, op !== 'sar'));
  const count = forceCount
    ?? (rng.chance(0.4) ? 'cl' : rng.pick([0, 1, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, rng.int(256)]));
  let dst: string, writes: number[] = [], writesMem = false;
  if (rng.chance(0.25)) {
    const m = b.mem(1);
    if (!m) return undefined;
    dst = m.text; writesMem = true;
  } else {
    const x = rng.int(8);
    dst = BYTE_REGS[x]; writes = [byteOwner(x)];
  }
  if (count === 'cl') {
    let c: number | undefined;
    if (b.canSet(ECX) && !writes.includes(ECX)) {
      const cl = clValue ?? rng.pick([0, 1, 7, 8, 9, 16, 17, 31, 32, 33, rng.int(256)]);
      b.set(ECX, ((rng.u32() & 0xffffff00) | cl) >>> 0);
      c = cl & 31;
    } else {
      const v = b.use(ECX);
      c = v === undefined ? undefined : v & 31;
    }
    return { lines: [`${op} ${dst}, cl`], form: `${op}8 cl${c === undefined ? ' (?)' : c >= 8 ? ' (≥8)' : ''}`, reads,
      flags: t => rule(t, c), writes, writesMem };
  }
  return { lines: [`${op} ${dst}, ${count}`], form: `${op}8 ${count === 1 ? '1' : (count & 31) >= 8 ? 'imm≥8' : 'imm'}`,
    reads, flags: t => rule(t, count & 31), writes, writesMem };
}

/** Whether div/idiv r/m8 of ax by d completes. */
function divides8(signed: boolean, ax: number, d: number): boolean {
  if ((d & 0xff) === 0) return false;
  if (!signed) return Math.floor((ax & 0xffff) / (d & 0xff)) <= 0xff;
  const q = Math.trunc(((ax << 16) >> 16) / ((d << 24) >> 24));
  return q >= -128 && q <= 127;
}

function muldiv8Gen(b: Builder): Insn | undefined {
  const rng = b.rng;
  const op = rng.pick(['mul', 'imul', 'div', 'idiv'] as const);
  const isDiv = op === 'div' || op === 'idiv';
  if (!b.canSet(EAX)) return undefined;
  const edge8 = () => rng.pick([0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x81, 2, 0x10, rng.int(256)]);
  const useMem = rng.chance(0.3);
  const x = rng.int(8);
  if (!useMem && byteOwner(x) !== EAX && !b.canSet(byteOwner(x))) return undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    let eax = (rng.u32() & 0xffff0000) | (rng.chance(0.5) ? rng.int(0x10000) : edge8() | (edge8() << 8));
    const d = edge8();
    if (!useMem && x === 0) eax = (eax & ~0xff) | d; // div al / mul al: the operand is part of ax
    if (!useMem && x === 4) eax = (eax & ~0xff00) | (d << 8);
    if (isDiv && !divides8(op === 'idiv', eax, d)) continue;
    b.set(EAX, eax >>> 0);
    const flags = isDiv ? FLAG_RULES.div : FLAG_RULES.mul;
    if (useMem) {
      const m = b.mem(1, { region: 'scratch', off: rng.int(16) });
      if (!m) return undefined;
      const word = Math.floor(m.target.off / 4), shift = (m.target.off % 4) * 8;
      if (!b.setMem({ region: 'scratch', off: word * 4 }, ((b.scratch[word] & ~(0xff << shift)) | (d << shift)) >>> 0))
        return undefined;
      return { lines: [`${op} ${m.text}`], form: `${op}8 m`, flags, writes: [EAX] };
    }
    if (byteOwner(x) !== EAX) {
      const r = byteOwner(x), sh = x >= 4 ? 8 : 0;
      b.set(r, ((rng.u32() & ~(0xff << sh)) | (d << sh)) >>> 0);
    }
    return { lines: [`${op} ${BYTE_REGS[x]}`], form: `${op}8 r${byteOwner(x) === EAX ? ' (al/ah)' : ''}`, flags,
      writes: [EAX] };
  }
  return undefined;
}

function moveMiscGen(b: Builder): Insn | undefined {
  const rng = b.rng;
  const none = FLAG_RULES.none;
  const d = b.anyReg(), s = b.anyReg();
  switch (rng.int(10)) {
    case 0: return { lines: [`xchg ${REGS[d]}, ${REGS[s]}`], form: d === EAX || s === EAX ? 'xchg eax,r' : 'xchg r,r',
      flags: none, writes: [d, s] };
    case 1: { const m = b.mem(4); if (!m) return undefined; return { lines: [`xchg ${m.text}, ${REGS[d]}`],
      form: 'xchg m,r', flags: none, writes: [d], writesMem: true }; }
    case 2: { const x = rng.int(8),
      y = rng.int(8); return { lines: [`xchg ${BYTE_REGS[x]}, ${BYTE_REGS[y]}`], form: 'xchg r8,r8', flags: none,
      writes: [byteOwner(x), byteOwner(y)] }; }
    case 3: { const x = rng.int(8); const m = b.mem(1); if (!m) return undefined; return { lines: [`xchg ${m.text}, ${BYTE_REGS[x]}`], form: 'xchg m8,r8', flags: none, writes: [byteOwner(x)], writesMem: true }; }
    case 4: return { lines: [`bswap ${REGS[d]}`], form: 'bswap', flags: none, writes: [d] };
    case 5: case 6: {
      const op = rng.pick(['movzx', 'movsx'] as const);
      if (rng.chance(0.6))
        return { lines: [`${op} ${REGS[d]}, ${REGS[s].slice(1)}`], form: `${op} r,r16`, flags: none, writes: [d] };
      const m = b.mem(2);
      if (!m) return undefined;
      return { lines: [`${op} ${REGS[d]}, ${m.text}`], form: `${op} r,m16`, flags: none, writes: [d] };
    }
    case 7: {
      if (b.canSet(EAX) && rng.chance(0.5))
        b.set(EAX, (rng.u32() & 0xffff0000 | rng.pick([0x8000, 0x7fff, 0xffff, 0])) >>> 0);
      return { lines: ['cwde'], form: 'cwde', flags: none, writes: [EAX] };
    }
    case 8: { // sahf: SF ZF AF PF CF from ah
      if (b.canSet(EAX) && rng.chance(0.7)) b.set(EAX, rng.u32());
      return { lines: ['sahf'], form: 'sahf', flags: FLAG_RULES.sahf };
    }
    default: // lahf: ah from SF ZF AF PF CF (all must be defined)
      return { lines: ['lahf'], form: 'lahf', reads: SF | ZF | AF | PF | CF, flags: none, writes: [EAX] };
  }
}

function cmovGen(b: Builder, force?: string): Insn | undefined {
  const c = condition(b, force);
  if (!c) return undefined;
  const d = b.anyReg();
  if (b.rng.chance(0.7))
    return { lines: [`cmov${c.spelled} ${REGS[d]}, ${REGS[b.srcReg()]}`], form: `cmov${c.cc}`, reads: c.reads,
      flags: FLAG_RULES.none, writes: [d] };
  const m = b.mem(4);
  if (!m) return undefined;
  return { lines: [`cmov${c.spelled} ${REGS[d]}, ${m.text}`], form: `cmov${c.cc} m`, reads: c.reads,
    flags: FLAG_RULES.none, writes: [d] };
}

function carryGen(b: Builder): Insn | undefined {
  switch (b.rng.int(3)) {
    case 0: return { lines: ['clc'], form: 'clc', flags: FLAG_RULES.carry };
    case 1: return { lines: ['stc'], form: 'stc', flags: FLAG_RULES.carry };
    default: return { lines: ['cmc'], form: 'cmc', reads: CF, flags: FLAG_RULES.complement };
  }
}

/** Control transfers: call/ret (and ret imm16), call and jmp through a register or memory, loop/jecxz, leave. */
function controlGen(b: Builder): Insn | undefined {
  const rng = b.rng;
  const none = FLAG_RULES.none;
  const r = b.anyReg();
  const mark = (0x5b000000 | rng.int(0x1000000)) >>> 0;
  switch (rng.int(9)) {
    case 0: // call; pop: the return address
      if (b.esp - 4 < -8) return undefined;
      return { lines: ['call 1f', '1:', `pop ${REGS[r]}`], form: 'call rel32; pop', flags: none, writes: [r],
        writesMem: true };
    case 1: // call a subroutine that returns
      if (b.esp - 4 < -8) return undefined;
      return { lines: ['call 1f', 'jmp 2f', '1:', `mov ${REGS[r]}, ${hex(mark)}`, 'ret', '2:'], form: 'call rel32; ret',
        flags: none, writes: [r], writesMem: true };
    case 2: { // ret imm16 drops an argument
      if (b.esp - 8 < -8) return undefined;
      return { lines: [`push ${hex(value(rng))}`, 'call 1f', 'jmp 2f', '1:', 'ret 4', '2:'], form: 'ret imm16',
        flags: none, writesMem: true };
    }
    case 3: // call r32
      if (b.esp - 4 < -8) return undefined;
      return { lines: [`mov ${REGS[r]}, OFFSET 1f`, `call ${REGS[r]}`, 'jmp 2f', '1:', 'ret', '2:'], form: 'call r32',
        flags: none, writes: [r], writesMem: true };
    case 4: { // jmp r32 / jmp m32 / call m32
      const k = rng.int(3);
      if (k === 0) return { lines: [`mov ${REGS[r]}, OFFSET 1f`, `jmp ${REGS[r]}`, `mov ${REGS[r]}, ${hex(mark)}`,
        '1:'], form: 'jmp r32', flags: none, writes: [r] };
      const off = 4 * rng.int(4);
      if (k === 1) return { lines: [`mov dword ptr [dg_scratch+${off}], OFFSET 1f`, `jmp dword ptr [dg_scratch+${off}]`,
        `mov ${REGS[r]}, ${hex(mark)}`, '1:'], form: 'jmp m32', flags: none, writes: [r], writesMem: true };
      if (b.esp - 4 < -8) return undefined;
      return { lines: [`mov dword ptr [dg_scratch+${off}], OFFSET 1f`, `call dword ptr [dg_scratch+${off}]`, 'jmp 2f',
        '1:', 'ret', '2:'], form: 'call m32', flags: none, writesMem: true };
    }
    case 5: case 6: { // loop, loope, loopne, jecxz, forward: one decrement, branch or not
      const op = rng.pick(['loop', 'loope', 'loopne', 'jecxz'] as const);
      const reads = op === 'loope' || op === 'loopne' ? ZF : 0;
      if (b.canSet(ECX) && rng.chance(0.5)) b.set(ECX, rng.pick([0, 1, 2, 0xffffffff, 0x80000000]));
      return { lines: [`${op} 1f`, `mov ${REGS[r === ECX ? EAX : r]}, ${hex(mark)}`, '1:'], form: op, reads,
        flags: none, writes: [op === 'jecxz' ? ECX : ECX, r === ECX ? EAX : r] };
    }
    case 7: { // a counted loop: ecx from 1 to 5
      if (!b.canSet(ECX)) return undefined;
      const d = b.freeReg([ECX]);
      if (d === undefined) return undefined;
      b.set(ECX, rng.range(1, 5));
      return { lines: ['1:', `lea ${REGS[d]}, [${REGS[d]}+${ rng.range(1, 9)}]`, 'loop 1b'], form: 'loop back',
        flags: none, writes: [ECX, d] };
    }
    default: { // leave: esp from ebp, ebp popped
      if (!b.canSet(5)) return undefined;
      const off = rng.pick([-8, -4, 0]);
      b.set(5, { sym: 'dg_stack_top', add: off });
      return { lines: ['leave'], form: 'leave', flags: none, writes: [5], espDelta: off + 4 - b.esp };
    }
  }
}

function pushaGen(b: Builder): Insn | undefined {
  const rng = b.rng;
  const r = b.anyReg(), r2 = b.anyReg();
  switch (rng.int(3)) {
    case 0: return { lines: ['pusha', 'popa'], form: 'pusha; popa', flags: FLAG_RULES.none, writesMem: true };
    case 1: return { lines: ['pusha', `mov ${REGS[r]}, dword ptr [esp+12]`, 'add esp, 32'], form: 'pusha (esp slot)',
      flags: FLAG_RULES.arith, writes: [r], writesMem: true };
    default: return { lines: ['pusha', 'add esp, 24', `pop ${REGS[r]}`, `pop ${REGS[r2]}`],
      form: 'pusha (ecx, eax slots)', flags: FLAG_RULES.arith, writes: [r, r2], writesMem: true };
  }
}

const WEIGHTED: [number, Gen][] = [
  [20, b => aluGen(b)], [4, testGen], [6, unaryGen], [13, b => shiftGen(b)], [8, mulGen], [6, divGen], [2, cdqGen],
  [4, movxGen], [6, leaGen], [6, b => setccGen(b)], [6, b => jccGen(b)], [7, movGen], [6, stackGen], [0.5, nopGen],
  // beyond the TAL subset
  [5, b => alu8Gen(b)], [3, byteMiscGen], [4, b => shift8Gen(b)], [3, muldiv8Gen], [4, moveMiscGen], [3,
    b => cmovGen(b)],
  [1, carryGen], [4, controlGen], [0.5, pushaGen],
];
const TOTAL_WEIGHT = WEIGHTED.reduce((a, [w]) => a + w, 0);

function randomGen(rng: Rng): Gen {
  let x = rng.u32() / 0x100000000 * TOTAL_WEIGHT;
  for (const [w, g] of WEIGHTED) {
    if ((x -= w) < 0) return g;
  }
  return WEIGHTED[0][1];
}

/**
 * The systematic part: every listed form at least a few times (each as a one-instruction case), so that the CI run
 * covers them whatever the seed. Each entry generates one instruction.
 */
function systematicGens(): Gen[] {
  const gens: Gen[] = [];
  for (const op of ALU) for (let f = 0; f <= 10; f++) gens.push(b => aluGen(b, op, f));
  for (const op of SHIFTS) {
    for (const c of [0, 1, 2, 31, 32, 33, 255, 'c1'] as const) gens.push(b => shiftGen(b, op, c));
    for (const cl of [0, 1, 2, 31, 32, 33, 63, 64, 0xff]) gens.push(b => shiftGen(b, op, 'cl', cl));
  }
  for (const [cc] of CONDITIONS) { gens.push(b => setccGen(b, cc)); gens.push(b => jccGen(b, cc)); }
  for (let i = 0; i < 10; i++) gens.push(testGen, unaryGen, mulGen, divGen, movxGen, leaGen, movGen, stackGen);
  gens.push(cdqGen, nopGen);
  for (const op of ALU) for (let f = 0; f < 8; f++) gens.push(b => alu8Gen(b, op, f));
  for (const op of SHIFTS) {
    for (const c of [0, 1, 7, 8, 9, 16, 31, 32, 33] as const) gens.push(b => shift8Gen(b, op, c));
    for (const cl of [0, 1, 8, 9, 32, 33]) gens.push(b => shift8Gen(b, op, 'cl', cl));
  }
  for (const [cc] of CONDITIONS) gens.push(b => cmovGen(b, cc));
  for (let i = 0; i < 10; i++) gens.push(byteMiscGen, muldiv8Gen, moveMiscGen, carryGen, controlGen, pushaGen);
  return gens;
}

/** One case of `n` instructions, each from `pick()` (picked again when a generator cannot fit the state). */
function build(rng: Rng, index: number, n: number, pick: () => Gen): DiffCase {
  for (let tries = 0; ; tries++) {
    if (tries === 1000) throw new Error(`internal: no case from generator ${pick().toString().slice(0, 200)}`);
    const b = new Builder(rng);
    let ok = true;
    for (let k = 0; k < n && ok; k++) {
      let insn: Insn | undefined;
      for (let attempt = 0; attempt < 20 && !insn; attempt++) {
        const i = pick()(b);
        if (i && !(b.taint & (i.reads ?? 0))) insn = i;
      }
      if (insn) b.apply(insn);
      else ok = false;
    }
    if (!ok) continue;
    return {
      index, lines: b.lines, forms: b.forms, regs: b.regs, flags: b.flags, scratch: b.scratch, stack: b.stack,
      undefinedFlags: b.taint, flagNeutral: b.flagNeutral, espEnd: b.esp,
    };
  }
}

/**
 * `count` cases from `seed`, numbered from `first`. With `systematic`, the cases start with every form in
 * systematicGens() (three cases each); the rest are random sequences of one to three instructions (one to
 * `maxLength`, evenly, when that is more than three).
 */
export function generateCases(seed: number, count: number,
  opts: { first?: number; systematic?: boolean; maxLength?: number } = {}): DiffCase[] {
  const rng = new Rng(seed);
  const first = opts.first ?? 0;
  const cases: DiffCase[] = [];
  if (opts.systematic) {
    const sys = systematicGens();
    for (let rep = 0; rep < 3; rep++) {
      for (const g of sys) {
        if (cases.length >= count) break;
        cases.push(build(rng, first + cases.length, 1, () => g));
      }
    }
  }
  while (cases.length < count) {
    const max = opts.maxLength ?? 3;
    const n = max > 3 ? rng.range(1, max) : rng.chance(0.45) ? 1 : rng.chance(0.55) ? 2 : Math.min(3, max);
    cases.push(build(rng, first + cases.length, n, () => randomGen(rng)));
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------------------------
// The program

/** The marker a case stores first: its index, tagged, so that a record out of step shows. */
export const marker = (index: number) => (0xd1000000 | (index & 0xffffff)) >>> 0;

/** GNU assembler source (Intel syntax) for a program that runs `cases` in order and writes their records to stdout. */
export function caseProgram(cases: DiffCase[]): string {
  const out: string[] = ['.intel_syntax noprefix', '.text', '.globl _start', '_start:'];
  cases.forEach((c, k) => {
    const rec = k * RECORD_WORDS * 4;
    const at = (w: number) => `dg_out+${rec + w * 4}`;
    out.push(`# case ${c.index}`, 'mov esp, OFFSET dg_stack_top', `push ${hex(c.flags)}`, 'popfd');
    c.scratch.forEach((v, i) => out.push(`mov dword ptr [dg_scratch+${i * 4}], ${hex(v)}`));
    c.stack.forEach((v, i) => out.push(`mov dword ptr [dg_stack_top${addend(STACK_WORD_OFFSETS[i])}], ${hex(v)}`));
    c.regs.forEach((v, r) => { if (r !== ESP) out.push(`mov ${REGS[r]}, ${typeof v === 'number' ? hex(v) : `OFFSET ${valText(v)}`}`); });
    out.push(...c.lines);
    out.push(`mov dword ptr [${at(R_MARK)}], ${hex(marker(c.index))}`);
    REGS.forEach((r, i) => out.push(`mov dword ptr [${at(R_REGS + i)}], ${r}`));
    for (let i = 0; i < 4; i++) out.push(`mov eax, dword ptr [dg_scratch+${i * 4}]`,
      `mov dword ptr [${at(R_SCRATCH + i)}], eax`);
    STACK_WORD_OFFSETS.forEach((o, i) => out.push(`mov eax, dword ptr [dg_stack_top${addend(o)}]`,
      `mov dword ptr [${at(R_STACK + i)}], eax`));
    out.push('pushfd', `pop dword ptr [${at(R_FLAGS)}]`);
  });
  const total = cases.length * RECORD_WORDS * 4;
  out.push(
    '# write(1, dg_out, n) until all is written, then exit(0)',
    'mov esi, OFFSET dg_out', `mov edi, ${total}`,
    '8: test edi, edi', 'jz 9f',
    'mov eax, 4', 'mov ebx, 1', 'mov ecx, esi', 'mov edx, edi', 'int 0x80',
    'test eax, eax', 'jle 7f', 'add esi, eax', 'sub edi, eax', 'jmp 8b',
    '9: mov eax, 1', 'xor ebx, ebx', 'int 0x80',
    '7: mov eax, 1', 'mov ebx, 2', 'int 0x80',
    '.data', '.balign 4096', '.skip 4096 - 8',
    'dg_scratch: .skip 16',
    '.bss', '.balign 4096', '.skip 4096', 'dg_stack_top: .skip 64',
    '.balign 64', `dg_out: .skip ${total || 4}`, '',
  );
  return out.join('\n');
}

/** Builds the executable for a batch of cases. */
export function caseElf(cases: DiffCase[]): Uint8Array {
  return gnuLink(caseProgram(cases));
}

// ---------------------------------------------------------------------------------------------------------------
// Records and their comparison

export interface CaseRecord {
  marker: number;
  /** eax ecx edx ebx esp ebp esi edi */
  regs: number[];
  flags: number;
  scratch: number[];
  stack: number[];
}

/** Splits a program's output into one record per case; throws if the length is not what `count` cases write. */
export function parseRecords(out: Uint8Array, count: number): CaseRecord[] {
  if (out.length !== count * RECORD_WORDS * 4)
    throw new Error(`expected ${count * RECORD_WORDS * 4} bytes of records, got ${out.length}`);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const records: CaseRecord[] = [];
  for (let k = 0; k < count; k++) {
    const w = (i: number) => view.getUint32((k * RECORD_WORDS + i) * 4, true);
    records.push({
      marker: w(R_MARK),
      regs: REGS.map((_, i) => w(R_REGS + i)),
      flags: w(R_FLAGS),
      scratch: [0, 1, 2, 3].map(i => w(R_SCRATCH + i)),
      stack: STACK_WORD_OFFSETS.map((_, i) => w(R_STACK + i)),
    });
  }
  return records;
}

/** The fields in which the emulated record differs from the native one (undefined flags masked); empty if none. */
export function differences(c: DiffCase, native: CaseRecord, emulated: CaseRecord): string[] {
  const d: string[] = [];
  if (native.marker !== emulated.marker) d.push('marker');
  REGS.forEach((r, i) => { if (native.regs[i] !== emulated.regs[i]) d.push(r); });
  const flagDiff = (native.flags ^ emulated.flags) & ~c.undefinedFlags;
  if (flagDiff) d.push(`eflags(${flagNames(flagDiff)})`);
  native.scratch.forEach((v, i) => { if (v !== emulated.scratch[i]) d.push(`scratch+${i * 4}`); });
  native.stack.forEach((v, i) => { if (v !== emulated.stack[i]) d.push(`stack_top${addend(STACK_WORD_OFFSETS[i])}`); });
  return d;
}

function recordText(r: CaseRecord): string {
  return `${REGS.map((n, i) => `${n}=${hex(r.regs[i])}`).join(' ')} eflags=${hex(r.flags)} [${flagNames(r.flags & (ARITH_FLAGS | 0x600))}]\n` +
    `      scratch=${r.scratch.map(hex).join(',')} stack[-8,-4,0]=${r.stack.map(hex).join(',')}`;
}

/** A case's source and inputs, for a report. */
export function describeCase(c: DiffCase): string {
  return [
    `case ${c.index} (${c.forms.join('; ')}):`,
    ...c.lines.map(l => `    ${l}`),
    `  inputs: ${REGS.map((n, i) => (i === ESP ? 'esp=dg_stack_top' : `${n}=${valText(c.regs[i])}`)).join(' ')} ` +
      `eflags=${hex(c.flags)} [${flagNames(c.flags & ARITH_FLAGS)}]`,
    `      scratch=${c.scratch.map(hex).join(',')} stack[-8,-4,0]=${c.stack.map(hex).join(',')}`,
    `  undefined flags (masked): ${flagNames(c.undefinedFlags)}`,
  ].join('\n');
}

/** A full mismatch report: the case, the native and the emulated record, and the fields that differ. */
export function mismatchReport(c: DiffCase, native: CaseRecord, emulated: CaseRecord): string {
  return `${describeCase(c)}\n  native:   ${recordText(native)}\n  emulated: ${recordText(emulated)}\n  differs: ${differences(c, native, emulated).join(', ')}`;
}
