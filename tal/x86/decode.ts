// The decoder of the TAL subset of IA-32 (docs/tal.md §1-2), after the opcode map and the ModRM/SIB tables of the
// Intel SDM vol. 2 (appendix A, §2.1.5). It is part of the trusted base: the checker types exactly what this
// returns, so it accepts only encodings whose meaning it knows completely, and classifies everything else (see
// RefusalClass). Checked against objdump in test/tal/decoder-oracle.test.ts; at the end of the code in
// test/tal/decode-tail.test.ts. It runs once for every instruction a check reads, so it reads the bytes with no
// cursor object and writes into reused objects (decodeAt).

import {
  type Insn, type Refusal, type RefusalClass, type Operand, type MemOperand, type ImmOperand, type RelOperand,
  type Scale, NO_REG, ESP, EBP, CC_NAMES, isRefusal,
} from './insn.ts';

const ALU_OPS = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'] as const;
// Shift group /n → mnemonic; rcl (2), rcr (3) and the undocumented sal alias (6) are outside the subset.
const SHIFT_OPS: readonly (string | null)[] = ['rol', 'ror', null, null, 'shl', 'shr', null, 'sar'];
const F7_OPS: readonly (string | null)[] = ['test', null, 'not', 'neg', 'mul', 'imul', 'div', 'idiv'];

/**
 * Thrown inside the decoder only; turned into a Refusal by decodeShared. `length` is the refusal's length, `read`
 * how many bytes the decoder had read when it refused: past the end of the code, the instruction is truncated instead.
 */
class Refuse {
  constructor(readonly reason: RefusalClass, readonly text: string, readonly length: number, readonly read: number) {}
}

/**
 * The most bytes any decode reads: the longest instruction of the subset, mov DWORD PTR [base+index*s+disp32],
 * imm32 (C7 ModRM SIB disp32 imm32), as long as imul r32, r/m32, imm32 and 81 /n, r/m32, imm32; every refusal
 * reads fewer. With at least this many bytes left the decoder reads straight from the code; nearer its end it reads
 * a copy padded to this length (decodeTail), so no read ever needs a bounds check of its own.
 */
const LONGEST = 11;
/** The last bytes of the code, copied and padded with zeros (decodeTail). */
const TAIL = new Uint8Array(LONGEST);

/** The little-endian 32-bit word at code[p] (signed). */
function i32(code: Uint8Array, p: number): number {
  return code[p] | (code[p + 1] << 8) | (code[p + 2] << 16) | (code[p + 3] << 24);
}

// ---- the decoded instruction, in objects reused by every decode ----
//
// Decoding allocates nothing: the instruction, its operand list and its operands are a few objects overwritten by
// each call (decodeShared hands them to the checker, which is done with one instruction before it decodes the next;
// decode copies them for everyone else). An instruction of the subset has at most one memory operand, one immediate
// and one branch target, so one object of each kind serves; register operands are shared constants.
const SHARED_MEM: MemOperand = {
  kind: 'mem', size: 4, base: NO_REG, index: NO_REG, scale: 1, disp: 0, explicitDisp: false, moffs: false,
};
const SHARED_IMM: ImmOperand = { kind: 'imm', value: 0, implied: false };
const SHARED_REL: RelOperand = { kind: 'rel', target: 0 };
/** The operand list for each arity (0 to 3), its elements overwritten; no instruction of the subset has more. */
const LIST0: Operand[] = [], LIST1: Operand[] = [SHARED_IMM], LIST2: Operand[] = [SHARED_IMM, SHARED_IMM];
const LIST3: Operand[] = [SHARED_IMM, SHARED_IMM, SHARED_IMM];
const SHARED_INSN: Insn = { address: 0, length: 0, op: '', cc: -1, operands: LIST0 };

/** The memory operand (SHARED_MEM, every field written). */
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
const REG_NUMBERS = [0, 1, 2, 3, 4, 5, 6, 7];
const R32: readonly Operand[] = REG_NUMBERS.map(n => Object.freeze({ kind: 'reg', reg: n, size: 4 } as const));
const R8: readonly Operand[] = REG_NUMBERS.map(n => Object.freeze({ kind: 'reg', reg: n, size: 1 } as const));

/** inc, dec, push, pop of a register: the opcodes 40-5F in rows of eight. */
const REG_OPS = ['inc', 'dec', 'push', 'pop'] as const;

// The opcodes of the subset that have a ModRM byte (the two-byte opcodes 0F xx as 0x100 + xx), by the kind of
// their r/m operand: a register or memory of 32 bits, of 8 bits, or lea's address (a memory operand without a
// size; its register form is refused). Only these opcodes have their ModRM decoded before they are looked at:
// every other opcode is refused on its opcode bytes (refuseOpcode, refuse0F), as objdump reads them.
const NO_MODRM = 0, RM32 = 1, RM8 = 2, RM_ADDRESS = 3;
const MODRM_KIND = new Uint8Array(0x200);
for (const op of [
  0x01, 0x03, 0x09, 0x0b, 0x11, 0x13, 0x19, 0x1b, 0x21, 0x23, 0x29, 0x2b, 0x31, 0x33, 0x39, 0x3b, // ALU r/m,r; r,r/m
  0x69, 0x6b, 0x81, 0x83, 0x85, 0x89, 0x8b, 0x8f, 0xc1, 0xc7, 0xd1, 0xd3, 0xf7, 0xff, 0x1af,
]) MODRM_KIND[op] = RM32;
for (const op of [0x88, 0x8a, 0xc6, 0x1b6, 0x1be]) MODRM_KIND[op] = RM8;
for (let cc = 0; cc < 16; cc++) MODRM_KIND[0x190 + cc] = RM8; // setcc
MODRM_KIND[0x8d] = RM_ADDRESS;

/**
 * Decodes the instruction at code[o] (at least LONGEST bytes there) into the shared objects, or throws a Refuse.
 * In the order of the bytes: the opcode (0F xx as 0x100 + xx); the ModRM, SIB and displacement, decoded once for
 * the opcodes that have them; then the opcode's case, its operands and the immediate or branch displacement that
 * ends it. `at` is the next byte to read, so `at - o` is the length so far (and, at a refusal, how many bytes were
 * read). Helpers (mem, i32) only where few instructions go: V8 inlines only a call that at least 15% of the calls
 * of its caller make (node --v8-options: min-inlining-frequency), and a call or two for every instruction (a
 * cursor's, modrm's, an emitter's) was most of the time decoding took.
 */
function decodeAt(code: Uint8Array, o: number, address: number): Insn {
  let b = code[o], at = o + 1;
  if (b === 0x0f) b = 0x100 | code[at++];

  // The ModRM: `reg` its reg field, `rm` its r/m operand.
  const kind = MODRM_KIND[b];
  let mod = 0, reg = 0, rm: Operand = R32[0];
  if (kind !== NO_MODRM) {
    const m = code[at++];
    const rmField = m & 7;
    mod = m >> 6;
    reg = (m >> 3) & 7;
    if (mod === 3) rm = kind === RM8 ? R8[rmField] : R32[rmField];
    else {
      let base: number = rmField, index: number = NO_REG, scale: Scale = 1, disp = 0;
      if (rmField === 4) {
        const sib = code[at++];
        const ss = sib >> 6, idx = (sib >> 3) & 7, sibBase = sib & 7;
        // index 100 means "no index"; objdump spells the redundant forms with a pseudo-register eiz. GNU as
        // emits a SIB without index only for an esp base, so that is the only such form the subset has.
        if (idx === 4) {
          if (ss !== 0 || sibBase !== ESP) throw new Refuse('unsupported', '(redundant SIB)', at - o, at - o);
        } else {
          index = idx;
          scale = (1 << ss) as Scale;
        }
        base = sibBase === EBP && mod === 0 ? NO_REG : sibBase;
      } else if (rmField === 5 && mod === 0) base = NO_REG;
      // A disp8 (mod 01), or a disp32 (mod 10, or mod 00 with no base).
      if (mod === 1) disp = (code[at++] << 24) >> 24;
      else if (mod === 2 || base === NO_REG) { disp = i32(code, at); at += 4; }
      // objdump prints "+0x0" when displacement bytes are present; remember that for the formatter.
      rm = mem(kind === RM8 ? 1 : kind === RM32 ? 4 : 0, base, index, scale, disp, mod !== 0 || base === NO_REG, false);
    }
  }

  // The instruction, written into the shared objects case by case (a merge of what every case chose, then written
  // once, cost a tenth more): its mnemonic, its operand list (the list of its arity, its elements set), its
  // condition (jcc and setcc), and the immediate (SHARED_IMM) or branch target (SHARED_REL) read from the bytes that
  // end it. One switch over every opcode, a jump table: ranges are spelled out case by case, in rows of eight as in
  // the opcode map, because tests of ranges ahead of the switch cost an eighth of the decoding. (V8 makes a table of
  // a switch whose case values span less than three times their number, switch-table-spread-threshold: a case far
  // from the others would undo it.)
  const insn = SHARED_INSN;
  insn.address = address;
  insn.cc = -1;
  SHARED_IMM.implied = false;
  switch (b) {
    // The ALU block 00-3F, for eight operations in rows of eight: op r/m,r (column 1), op r,r/m (3), op eax,imm32
    // (5). Its byte forms (0, 2, 4) and the opcodes of columns 6 and 7 are refused.
    case 0x01: case 0x09: case 0x11: case 0x19: case 0x21: case 0x29: case 0x31: case 0x39:
      insn.op = ALU_OPS[b >> 3]; insn.operands = LIST2; LIST2[0] = rm; LIST2[1] = R32[reg];
      break;
    case 0x03: case 0x0b: case 0x13: case 0x1b: case 0x23: case 0x2b: case 0x33: case 0x3b:
      insn.op = ALU_OPS[b >> 3]; insn.operands = LIST2; LIST2[0] = R32[reg]; LIST2[1] = rm;
      break;
    case 0x05: case 0x0d: case 0x15: case 0x1d: case 0x25: case 0x2d: case 0x35: case 0x3d:
      insn.op = ALU_OPS[b >> 3]; insn.operands = LIST2; LIST2[0] = R32[0]; LIST2[1] = SHARED_IMM;
      SHARED_IMM.value = i32(code, at); at += 4;
      break;
    // inc, dec, push, pop of a register.
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f:
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
    case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
      insn.op = REG_OPS[(b >> 3) - 8]; insn.operands = LIST1; LIST1[0] = R32[b & 7];
      break;
    // jcc rel8 (70-7F) and rel32 (0F 80-8F): the target is relative to the end of the instruction.
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f:
      insn.op = 'jcc'; insn.cc = b & 15; insn.operands = LIST1; LIST1[0] = SHARED_REL;
      SHARED_REL.target = (address + 2 + ((code[at++] << 24) >> 24)) >>> 0;
      break;
    case 0x180: case 0x181: case 0x182: case 0x183: case 0x184: case 0x185: case 0x186: case 0x187:
    case 0x188: case 0x189: case 0x18a: case 0x18b: case 0x18c: case 0x18d: case 0x18e: case 0x18f:
      insn.op = 'jcc'; insn.cc = b & 15; insn.operands = LIST1; LIST1[0] = SHARED_REL;
      SHARED_REL.target = (address + 6 + i32(code, at)) >>> 0; at += 4;
      break;
    // mov r8, imm8 (B0-B7), mov r32, imm32 (B8-BF).
    case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
      insn.op = 'mov'; insn.operands = LIST2; LIST2[0] = R8[b & 7]; LIST2[1] = SHARED_IMM;
      SHARED_IMM.value = code[at++];
      break;
    case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
      insn.op = 'mov'; insn.operands = LIST2; LIST2[0] = R32[b & 7]; LIST2[1] = SHARED_IMM;
      SHARED_IMM.value = i32(code, at); at += 4;
      break;
    // setcc r/m8 (0F 90-9F).
    case 0x190: case 0x191: case 0x192: case 0x193: case 0x194: case 0x195: case 0x196: case 0x197:
    case 0x198: case 0x199: case 0x19a: case 0x19b: case 0x19c: case 0x19d: case 0x19e: case 0x19f:
      if (reg !== 0) throw new Refuse('unsupported', `set${CC_NAMES[b & 15]} with a non-zero reg field`, 1, at - o);
      insn.op = 'setcc'; insn.cc = b & 15; insn.operands = LIST1; LIST1[0] = rm;
      break;
    case 0x68: case 0x6a: // push imm32, push imm8 (sign-extended)
      insn.op = 'push'; insn.operands = LIST1; LIST1[0] = SHARED_IMM;
      if (b === 0x68) { SHARED_IMM.value = i32(code, at); at += 4; } else SHARED_IMM.value = (code[at++] << 24) >> 24;
      break;
    case 0x69: case 0x6b: // imul r32, r/m32, imm32 or imm8 (sign-extended)
      insn.op = 'imul'; insn.operands = LIST3; LIST3[0] = R32[reg]; LIST3[1] = rm; LIST3[2] = SHARED_IMM;
      if (b === 0x69) { SHARED_IMM.value = i32(code, at); at += 4; } else SHARED_IMM.value = (code[at++] << 24) >> 24;
      break;
    case 0x81: case 0x83: // ALU r/m32, imm32 or imm8 (sign-extended)
      insn.op = ALU_OPS[reg]; insn.operands = LIST2; LIST2[0] = rm; LIST2[1] = SHARED_IMM;
      if (b === 0x81) { SHARED_IMM.value = i32(code, at); at += 4; } else SHARED_IMM.value = (code[at++] << 24) >> 24;
      break;
    case 0x85: insn.op = 'test'; insn.operands = LIST2; LIST2[0] = rm; LIST2[1] = R32[reg]; break;
    case 0x88: insn.op = 'mov'; insn.operands = LIST2; LIST2[0] = rm; LIST2[1] = R8[reg]; break;
    case 0x89: insn.op = 'mov'; insn.operands = LIST2; LIST2[0] = rm; LIST2[1] = R32[reg]; break;
    case 0x8a: insn.op = 'mov'; insn.operands = LIST2; LIST2[0] = R8[reg]; LIST2[1] = rm; break;
    case 0x8b: insn.op = 'mov'; insn.operands = LIST2; LIST2[0] = R32[reg]; LIST2[1] = rm; break;
    case 0x8d:
      if (mod === 3) throw new Refuse('unsupported', 'lea with a register operand', 1, at - o);
      insn.op = 'lea'; insn.operands = LIST2; LIST2[0] = R32[reg]; LIST2[1] = rm;
      break;
    case 0x8f:
      if (reg !== 0) throw new Refuse('unsupported', '(bad)', 1, at - o);
      insn.op = 'pop'; insn.operands = LIST1; LIST1[0] = rm;
      break;
    case 0x90: insn.op = 'nop'; insn.operands = LIST0; break;
    case 0x99: insn.op = 'cdq'; insn.operands = LIST0; break;
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: {
      // mov al/eax, moffs and back; objdump prints the moffs form without a size: "mov eax,ds:0x..."
      const moffs = mem((b & 1) === 1 ? 4 : 1, NO_REG, NO_REG, 1, i32(code, at), false, true);
      const acc = (b & 1) === 1 ? R32[0] : R8[0];
      at += 4;
      insn.op = 'mov'; insn.operands = LIST2; LIST2[0] = b < 0xa2 ? acc : moffs; LIST2[1] = b < 0xa2 ? moffs : acc;
      break;
    }
    case 0xa9:
      insn.op = 'test'; insn.operands = LIST2; LIST2[0] = R32[0]; LIST2[1] = SHARED_IMM;
      SHARED_IMM.value = i32(code, at); at += 4;
      break;
    case 0xc1: case 0xd1: case 0xd3: { // shifts by imm8, by 1 (implied: objdump prints "1"), by cl
      const shift = SHIFT_OPS[reg];
      if (!shift) throw new Refuse('unsupported', ['rcl', 'rcr', 'sal'][reg === 6 ? 2 : reg - 2], 1, at - o);
      insn.op = shift; insn.operands = LIST2; LIST2[0] = rm; LIST2[1] = b === 0xd3 ? R8[1] : SHARED_IMM;
      if (b === 0xc1) SHARED_IMM.value = code[at++];
      else if (b === 0xd1) { SHARED_IMM.value = 1; SHARED_IMM.implied = true; }
      break;
    }
    case 0xc3: insn.op = 'ret'; insn.operands = LIST0; break;
    case 0xc6: case 0xc7: // mov r/m8, imm8; mov r/m32, imm32
      if (reg !== 0) throw new Refuse('unsupported', '(bad)', 1, at - o);
      insn.op = 'mov'; insn.operands = LIST2; LIST2[0] = rm; LIST2[1] = SHARED_IMM;
      if (b === 0xc6) SHARED_IMM.value = code[at++]; else { SHARED_IMM.value = i32(code, at); at += 4; }
      break;
    case 0xe8: case 0xe9: // call rel32, jmp rel32
      insn.op = b === 0xe8 ? 'call' : 'jmp'; insn.operands = LIST1; LIST1[0] = SHARED_REL;
      SHARED_REL.target = (address + 5 + i32(code, at)) >>> 0; at += 4;
      break;
    case 0xeb: // jmp rel8
      insn.op = 'jmp'; insn.operands = LIST1; LIST1[0] = SHARED_REL;
      SHARED_REL.target = (address + 2 + ((code[at++] << 24) >> 24)) >>> 0;
      break;
    case 0xf7: {
      const f7 = F7_OPS[reg];
      if (!f7) throw new Refuse('unsupported', '(bad)', 1, at - o);
      insn.op = f7;
      if (f7 === 'test') {
        insn.operands = LIST2; LIST2[0] = rm; LIST2[1] = SHARED_IMM;
        SHARED_IMM.value = i32(code, at); at += 4;
      } else { insn.operands = LIST1; LIST1[0] = rm; }
      break;
    }
    case 0xff:
      switch (reg) {
        case 0: insn.op = 'inc'; break;
        case 1: insn.op = 'dec'; break;
        case 2: insn.op = 'call'; break;
        case 3: throw new Refuse('far-transfer', 'call far', at - o, at - o);
        case 4: insn.op = 'jmp'; break;
        case 5: throw new Refuse('far-transfer', 'jmp far', at - o, at - o);
        case 6: insn.op = 'push'; break;
        default: throw new Refuse('unsupported', '(bad)', 1, at - o);
      }
      insn.operands = LIST1; LIST1[0] = rm;
      break;
    case 0x1af: insn.op = 'imul'; insn.operands = LIST2; LIST2[0] = R32[reg]; LIST2[1] = rm; break;
    case 0x1b6: insn.op = 'movzx'; insn.operands = LIST2; LIST2[0] = R32[reg]; LIST2[1] = rm; break;
    case 0x1be: insn.op = 'movsx'; insn.operands = LIST2; LIST2[0] = R32[reg]; LIST2[1] = rm; break;
    default:
      return b < 0x100 ? refuseOpcode(code, o, b) : refuse0F(b & 0xff);
  }
  insn.length = at - o;
  return insn;
}

/**
 * Decodes one instruction at `code[offset]`, whose address is `address`, into the shared objects: what it returns is
 * valid until the next call of decodeShared or decode, and must not be kept or changed (the checker's pass: it
 * finishes with each instruction before decoding the next, and formats a refused one before decoding again). Never
 * throws.
 */
export function decodeShared(code: Uint8Array, offset: number, address: number): Insn | Refusal {
  if (code.length - offset < LONGEST) return decodeTail(code, offset, address);
  try {
    return decodeAt(code, offset, address);
  } catch (e) {
    // Every refusal is at most LONGEST bytes long, so all of it is there.
    if (e instanceof Refuse) return refusal(address, e.reason, e.text, e.length);
    throw e;
  }
}

/**
 * decodeShared within LONGEST bytes of the end of the code: the bytes left, decoded from a copy padded with zeros.
 * What needed no byte past the last one is decoded as from the code itself; what did is truncated (the padding
 * decides nothing: the decoder reads an instruction's bytes in order, so it read past the end before anything that
 * depended on the padding).
 */
function decodeTail(code: Uint8Array, offset: number, address: number): Insn | Refusal {
  const left = code.length - offset;
  for (let i = 0; i < LONGEST; i++) TAIL[i] = i < left ? code[offset + i] : 0;
  try {
    const d = decodeAt(TAIL, 0, address);
    if (d.length <= left) return d;
  } catch (e) {
    if (!(e instanceof Refuse)) throw e;
    if (e.read <= left) return refusal(address, e.reason, e.text, e.length);
  }
  return refusal(address, 'truncated', '(truncated)', Math.max(1, left));
}

function refusal(address: number, reason: RefusalClass, text: string, length: number): Refusal {
  return { refused: true, address, length, text, reason };
}

/** Decodes one instruction at `code[offset]`, whose address is `address`, into objects of its own. Never throws. */
export function decode(code: Uint8Array, offset: number, address: number): Insn | Refusal {
  const d = decodeShared(code, offset, address);
  if (isRefusal(d)) return d;
  return { address: d.address, length: d.length, op: d.op, cc: d.cc, operands: d.operands.map(copyOperand) };
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

/**
 * The one-byte opcodes outside the subset (the opcode b at code[o]): each refused with its class. No opcode decodeAt
 * accepts comes here. All but four are refused on their first byte.
 */
function refuseOpcode(code: Uint8Array, o: number, b: number): never {
  if (b < 0x40) {
    const row = b >> 3, col = b & 7;
    if (col === 0 || col === 2 || col === 4) throw new Refuse('unsupported', `${ALU_OPS[row]} (byte form)`, 1, 1);
    // col 6/7: push/pop es cs ss ds, segment prefixes, daa das aaa aas (the 0F escape is decoded).
    if (b === 0x26 || b === 0x2e || b === 0x36 || b === 0x3e) {
      throw new Refuse('segment', 'segment override prefix', 1, 1);
    }
    if (b === 0x06 || b === 0x07 || b === 0x0e || b === 0x16 || b === 0x17 || b === 0x1e || b === 0x1f)
      throw new Refuse('segment', 'push/pop of a segment register', 1, 1);
    throw new Refuse('unsupported', '(BCD arithmetic)', 1, 1);
  }
  if (b >= 0xd8 && b < 0xe0) throw new Refuse('fpu-simd', 'x87 instruction', 1, 1);
  switch (b) {
    case 0x62:
      // In 32-bit mode 62 with a register ModRM is the EVEX prefix (AVX-512), not bound.
      if (code[o + 1] >> 6 === 3) throw new Refuse('fpu-simd', 'EVEX-encoded instruction', 1, 2);
      throw new Refuse('interrupt', 'bound', 1, 2);
    case 0x64: case 0x65: throw new Refuse('segment', 'segment override prefix', 1, 1);
    case 0x66: throw new Refuse('prefix', 'operand-size prefix', 1, 1);
    case 0x67: throw new Refuse('prefix', 'address-size prefix', 1, 1);
    case 0xf0: throw new Refuse('prefix', 'lock prefix', 1, 1);
    case 0xf2: case 0xf3: throw new Refuse('prefix', 'rep prefix', 1, 1);
    case 0x6c: case 0x6d: case 0x6e: case 0x6f: throw new Refuse('string-op', b < 0x6e ? 'ins' : 'outs', 1, 1);
    case 0x8c: case 0x8e: throw new Refuse('segment', 'mov to or from a segment register', 1, 1);
    case 0x9a: throw new Refuse('far-transfer', 'call far', 1, 1);
    case 0x9b: throw new Refuse('fpu-simd', 'fwait', 1, 1);
    case 0x9c: throw new Refuse('privileged', 'pushf', 1, 1);
    case 0x9d: throw new Refuse('privileged', 'popf', 1, 1);
    case 0xa4: case 0xa5: throw new Refuse('string-op', 'movs', 1, 1);
    case 0xa6: case 0xa7: throw new Refuse('string-op', 'cmps', 1, 1);
    case 0xaa: case 0xab: throw new Refuse('string-op', 'stos', 1, 1);
    case 0xac: case 0xad: throw new Refuse('string-op', 'lods', 1, 1);
    case 0xae: case 0xaf: throw new Refuse('string-op', 'scas', 1, 1);
    case 0xc2: throw new Refuse('unsupported', 'ret imm16', 1, 1);
    case 0xc4: case 0xc5:
      // In 32-bit mode c4/c5 with a register ModRM are the VEX prefixes (AVX), not les/lds.
      if (code[o + 1] >> 6 === 3) throw new Refuse('fpu-simd', 'VEX-encoded instruction', 1, 2);
      throw new Refuse('segment', b === 0xc4 ? 'les' : 'lds', 1, 2);
    case 0xc8: throw new Refuse('unsupported', 'enter', 1, 1);
    case 0xc9: throw new Refuse('unsupported', 'leave', 1, 1);
    case 0xca: case 0xcb: throw new Refuse('far-transfer', 'retf', 1, 1);
    case 0xcc: throw new Refuse('interrupt', 'int3', 1, 1);
    case 0xcd: throw new Refuse('interrupt', `int 0x${code[o + 1].toString(16)}`, 2, 2);
    case 0xce: throw new Refuse('interrupt', 'into', 1, 1);
    case 0xcf: throw new Refuse('privileged', 'iret', 1, 1);
    case 0xe4: case 0xe5: case 0xec: case 0xed: throw new Refuse('privileged', 'in', 1, 1);
    case 0xe6: case 0xe7: case 0xee: case 0xef: throw new Refuse('privileged', 'out', 1, 1);
    case 0xea: throw new Refuse('far-transfer', 'jmp far', 1, 1);
    case 0xf1: throw new Refuse('interrupt', 'int1', 1, 1);
    case 0xf4: throw new Refuse('privileged', 'hlt', 1, 1);
    case 0xfa: throw new Refuse('privileged', 'cli', 1, 1);
    case 0xfb: throw new Refuse('privileged', 'sti', 1, 1);
  }
  throw new Refuse('unsupported', `opcode 0x${b.toString(16).padStart(2, '0')}`, 1, 1);
}

/** The two-byte opcodes outside the subset (0F b, both bytes read): each refused with its class. */
function refuse0F(b: number): never {
  switch (b) {
    case 0x00: throw new Refuse('privileged', 'sldt/str/lldt/ltr/verr/verw', 1, 2);
    case 0x01: throw new Refuse('privileged', 'sgdt/sidt/lgdt/lidt/smsw/lmsw/invlpg', 1, 2);
    case 0x02: case 0x03: throw new Refuse('privileged', b === 2 ? 'lar' : 'lsl', 1, 2);
    case 0x05: throw new Refuse('interrupt', 'syscall', 1, 2);
    case 0x06: throw new Refuse('privileged', 'clts', 1, 2);
    case 0x07: throw new Refuse('privileged', 'sysret', 1, 2);
    case 0x08: throw new Refuse('privileged', 'invd', 1, 2);
    case 0x09: throw new Refuse('privileged', 'wbinvd', 1, 2);
    case 0x0b: case 0xb9: case 0xff:
      throw new Refuse('interrupt', b === 0x0b ? 'ud2' : b === 0xb9 ? 'ud1' : 'ud0', 1, 2);
    case 0x20: case 0x22: throw new Refuse('privileged', 'mov to or from a control register', 1, 2);
    case 0x21: case 0x23: throw new Refuse('privileged', 'mov to or from a debug register', 1, 2);
    case 0x24: case 0x26: throw new Refuse('privileged', 'mov to or from a test register', 1, 2);
    case 0x30: throw new Refuse('privileged', 'wrmsr', 1, 2);
    case 0x32: throw new Refuse('privileged', 'rdmsr', 1, 2);
    case 0x33: throw new Refuse('privileged', 'rdpmc', 1, 2);
    case 0x34: throw new Refuse('interrupt', 'sysenter', 1, 2);
    case 0x35: throw new Refuse('privileged', 'sysexit', 1, 2);
    case 0xa0: case 0xa1: case 0xa8: case 0xa9: throw new Refuse('segment', 'push/pop fs/gs', 1, 2);
    case 0xb2: case 0xb4: case 0xb5: throw new Refuse('segment', 'lss/lfs/lgs', 1, 2);
  }
  if (b === 0x0e || b === 0x0f || b === 0x77 || (b >= 0x10 && b <= 0x17) || (b >= 0x28 && b <= 0x2f) ||
      (b >= 0x38 && b <= 0x3a) || (b >= 0x50 && b <= 0x7f) || (b >= 0xc2 && b <= 0xc6) || b >= 0xd0 || b === 0xae)
    throw new Refuse('fpu-simd', 'x87/MMX/SSE instruction', 2, 2);
  throw new Refuse('unsupported', `opcode 0x0f 0x${b.toString(16).padStart(2, '0')}`, 2, 2);
}
