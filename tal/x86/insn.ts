// The shared model of an IA-32 instruction: what the decoder produces, what the encoder consumes,
// what the formatter prints. Only 32-bit operand and address size; no prefixes.

export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
export const NO_REG = -1;

export const REG32_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
// Byte registers by their encoding number: 0-3 are the low bytes of eax..ebx, 4-7 the high bytes.
export const REG8_NAMES = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'] as const;

// Condition codes in encoding order (the low nibble of 0x70+cc, 0x0f 0x80+cc, 0x0f 0x90+cc),
// spelled as objdump spells them.
export const CC_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le',
  'g'] as const;

export type Scale = 1 | 2 | 4 | 8;

export interface RegOperand { kind: 'reg'; reg: number; size: 1 | 4 }
export interface ImmOperand {
  kind: 'imm'; value: number;
  /** Decoder only: the count 1 implied by the D1 shift opcodes, which objdump prints as "1", not "0x1". */
  implied?: boolean;
}
/** A memory operand. size 0 means "no size" (lea, or an operand whose size the instruction fixes). */
export interface MemOperand {
  kind: 'mem'; size: 0 | 1 | 4; base: number; index: number; scale: Scale; disp: number;
  /** Decoder only, for the formatter: displacement bytes were present even if zero (objdump prints "+0x0"). */
  explicitDisp?: boolean;
  /** Decoder only: the A0-A3 moffs form, which objdump prints without a size. */
  moffs?: boolean;
}
/** A branch target, as an absolute address. */
export interface RelOperand { kind: 'rel'; target: number }
/** A control register crN (privileged; never accepted by the checker). */
export interface CregOperand { kind: 'creg'; n: number }

export type Operand = RegOperand | ImmOperand | MemOperand | RelOperand | CregOperand;

/**
 * One decoded instruction. `op` is the mnemonic as objdump prints it, except that conditional jumps and
 * setcc are 'jcc' and 'setcc' with the condition in `cc`.
 * Immediates are stored as signed 32-bit values after the sign- or zero-extension the encoding implies.
 */
export interface Insn {
  address: number;
  length: number;
  op: string;
  cc: number; // -1 unless op is 'jcc' or 'setcc'
  operands: Operand[];
}

/** Why the decoder will not hand an instruction to the checker. */
export type RefusalClass =
  | 'privileged'        // cli sti hlt iret mov crN lidt lgdt in out wrmsr rdmsr invlpg clts wbinvd ...
  | 'interrupt'         // int n, int3, into, sysenter, syscall
  | 'far-transfer'      // far jmp/call/ret
  | 'segment'           // segment-override prefixes, mov to/from segment registers, push/pop sreg
  | 'prefix'            // lock, rep, operand/address-size prefixes
  | 'fpu-simd'          // x87, MMX, SSE
  | 'string-op'         // movs cmps stos lods scas ins outs
  | 'unsupported'       // anything else outside the TAL subset
  | 'truncated';        // the instruction runs past the end of the code

export interface Refusal {
  refused: true;
  address: number;
  /** Best-effort length (at least 1); exact for everything the checker accepts. */
  length: number;
  /** Best-effort text, e.g. 'cli' or 'int 0x80' or '(bad)'. */
  text: string;
  reason: RefusalClass;
}

export function isRefusal(x: Insn | Refusal): x is Refusal {
  return (x as Refusal).refused === true;
}

// ---- assembler-side operands: the same shapes with layout hints ----

/** An immediate or displacement whose value comes from a symbol is always encoded 32 bits wide (as GNU as does). */
export interface AsmImm extends ImmOperand { wide?: boolean }
export interface AsmMem extends MemOperand { wide?: boolean }
/** A branch target. `short` asks for the rel8 form (jmp/jcc only); the assembler decides it by relaxation. */
export interface AsmRel extends RelOperand { short?: boolean }
/** The port register dx of in/out (only for encoding refused instructions in tests). */
export interface DxOperand { kind: 'dx' }
export type AsmOperand = RegOperand | AsmImm | AsmMem | AsmRel | CregOperand | DxOperand;
