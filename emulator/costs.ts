// The cycle cost model's shape. A profile gives the cycles the machine charges for each event; the named profiles
// and the source of every figure are in emulator/profiles.ts and docs/machine.md. The machine counts events
// exactly; cycles are the events weighted by a profile.

/** Instruction classes the CPU charges by. Every executed instruction falls in exactly one. */
export const InsnClass = {
  Alu: 0,        // register moves and arithmetic, lea, setcc, cdq, nop, inc/dec, shifts, test/cmp
  Load: 1,       // an instruction that reads memory (mov r, m; add r, m; pop; movzx r, m ...)
  Store: 2,      // an instruction that writes memory (mov m, r; push; add m, r ...), read-modify-write included
  Mul: 3,        // mul, imul
  Div: 4,        // div, idiv
  Branch: 5,     // jmp, jcc (taken or not), call, ret: control transfers inside one privilege level
  Privileged: 6, // cli, sti, hlt, mov crN, lidt, lgdt, invlpg, in, out, wrmsr, rdmsr, pushf/popf
} as const;
export const INSN_CLASSES = 7;

/**
 * The clock a profile's figures were measured or derived at: what turns its cycles into time (the timer's period,
 * simulated µs, talrun --stats). A cycle count is only comparable with time at the clock its figures came from.
 */
export interface ProfileClock {
  /** Core cycles per second. */
  readonly hz: number;
  /** Which machine ran at this clock, and the source that says so (docs/machine.md gives the quote). */
  readonly source: string;
}

export interface CostProfile {
  readonly name: string;
  readonly description: string;
  /** The clock its figures belong to (ProfileClock). */
  readonly clock: ProfileClock;
  /** Cycles per instruction, by InsnClass (index). */
  readonly insn: readonly number[];
  /** A TLB miss: the two-level page walk (two memory reads), charged on top of the instruction. */
  readonly tlbMiss: number;
  /** Entering a handler through an IDT gate (int n, an exception or an interrupt), privilege change included. */
  readonly trapEntry: number;
  /** iret back to the interrupted code. */
  readonly iret: number;
  /**
   * sysenter (0F 34): the fast entry to CPL 0 through the IA32_SYSENTER_* MSRs, no IDT, no descriptor reads, nothing
   * pushed. Charged on top of the instruction's class, like trapEntry.
   */
  readonly sysenter: number;
  /** sysexit (0F 35): the fast return to CPL 3 (ecx → esp, edx → eip). */
  readonly sysexit: number;
  /** A write to CR3 (address-space switch), besides the TLB refill it causes later. */
  readonly cr3Write: number;
  /**
   * Extra cycles per kernel entry and per kernel exit for page-table isolation (KPTI: a CR3 switch on each
   * crossing); 0 where the profile has no isolation.
   */
  readonly isolationPerCrossing: number;
  /** A call into a kernel function (a TypeScript function at a kernel address) from CPL 0: the call and ret. */
  readonly kernelCall: number;
}

/** Counts every instruction as one cycle and every event as free: a profile that measures instructions only. */
export const UNIT_PROFILE: CostProfile = {
  name: 'unit',
  description: 'one cycle per instruction, events free (for tests that count instructions)',
  // Not a machine, so no measured clock: an assumption that only spaces the timer's ticks (2.4 GHz, the single
  // clock every profile used before each had its own, so the tests' tick counts under `unit` stay as they were).
  clock: { hz: 2.4e9, source: 'assumed: unit counts instructions, not time' },
  insn: [1, 1, 1, 1, 1, 1, 1],
  tlbMiss: 0,
  trapEntry: 0,
  iret: 0,
  sysenter: 0,
  sysexit: 0,
  cr3Write: 0,
  isolationPerCrossing: 0,
  kernelCall: 0,
};
