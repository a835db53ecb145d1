// The named cost profiles. Every figure names its source here in one line; docs/machine.md gives the quotes,
// the page or table, the arithmetic of every derived figure, and a verdict on each (measured, quoted, derived or
// assumed). Each profile names its clock, the one its figures were measured or derived at: the kernel's timer and
// every conversion of cycles into time use it. Cycles are counts weighted by a profile:
//   cycles = Σ_class insn[class]·count[class] + tlbMiss·misses + trapEntry·traps + iret·irets
//            + sysenter·sysenters + sysexit·sysexits + cr3Write·cr3Writes
//            + isolationPerCrossing·(user→kernel + kernel→user crossings) + kernelCall·calls
// so figures may be fractional (a Pentium 4 ALU operation is half a cycle).
import { type CostProfile, type ProfileClock, InsnClass, UNIT_PROFILE } from './costs.ts';

interface ClassCosts {
  alu: number;
  load: number;
  store: number;
  mul: number;
  div: number;
  branch: number;
  privileged: number;
}

function insn(c: ClassCosts): readonly number[] {
  const a: number[] = [];
  a[InsnClass.Alu] = c.alu;
  a[InsnClass.Load] = c.load;
  a[InsnClass.Store] = c.store;
  a[InsnClass.Mul] = c.mul;
  a[InsnClass.Div] = c.div;
  a[InsnClass.Branch] = c.branch;
  a[InsnClass.Privileged] = c.privileged;
  return Object.freeze(a);
}

// ---------------------------------------------------------------------------------------------------------------
// Pentium 4 "Northwood" (family 15, models 0–2), the desktop and server CPU of 2002–2004 when Kernel Mode Linux
// and its TAL work were measured, running Linux system calls through int 0x80/iret.
// lmbench 3.0 on a 1595 MHz Pentium 4 under Linux 2.4.20-8 (Huo Zhigang, linux-kernel, 2003-12-20): the machine whose
// kernel work kernel/work.ts prices, so its clock is this profile's. Its "Memory latencies" row: L2 11.6 ns.
const P4_CLOCK: ProfileClock = {
  hz: 1595e6,
  source: 'lmbench 3.0 summary, Pentium 4 1595 MHz, Linux 2.4.20-8 (Huo Zhigang, linux-kernel, 2003-12-20)',
};
const P4_L2_NS = 11.6; // the same summary, "Memory latencies", L2: a dependent load that misses L1 and hits L2
const P4_L2 = (P4_L2_NS * P4_CLOCK.hz) / 1e9; // 18.5 cycles (Intel's Table 1-1 gives 7: see docs/machine.md)
const P4_BRANCH = 2; // GCC gcc/config/i386 pentium4_cost: "Branch cost" 2
const P4_INT80_GETPPID = 1761; // Torvalds, LKML 2002-12-16: getppid() with "int 0x80/iret" on his P4
const P4_SYSENTER_GETPPID = 641; // same message: getppid() with sysenter/sysexit
const P4_INT_IRET = P4_INT80_GETPPID - P4_SYSENTER_GETPPID; // 1120: a lower bound for int 0x80 + iret
// What this machine charges for the rest of that 641-cycle getppid under this profile — the vsyscall page's and the
// entry code's instructions, the kernel call, the kernel's per-call work — measured by test/kernel/sysenter.test.ts
// (which fails if it drifts); the sysenter/sysexit pair is the remainder (docs/machine.md, "sysenter and sysexit").
export const P4_SYSENTER_GETPPID_REST = 450;
const P4_SYSENTER_PAIR = P4_SYSENTER_GETPPID - P4_SYSENTER_GETPPID_REST;

const P4_NORTHWOOD: CostProfile = {
  name: 'p4-northwood',
  description:
    'Intel Pentium 4 (Northwood, 2002-2004), Linux system calls by int 0x80/iret, no page-table isolation',
  clock: P4_CLOCK,
  insn: insn({
    alu: 0.5, // double-pumped integer ALUs: "run at two times core frequency" (IBM Pentium 4 Northwood datasheet, 2004)
    load: 2, // Intel IA-32 Optimization Reference Manual (2004), Table 1-1: first level (models 0,1,2), 2 clocks
    store: 1, // Intel, "A Detailed Look Inside the NetBurst Micro-Architecture": port 3, one store address per cycle
    mul: 15, // GCC pentium4_cost: "cost of starting multiply" COSTS_N_INSNS (15)
    div: 56, // Intel IA-32 Optimization Reference Manual, Appendix C: DIV/IDIV 56-70 on Northwood (lower end)
    branch: P4_BRANCH,
    privileged: 100, // assumed: no P4 figure found; the CR3 write's figure below (docs/machine.md, "Privileged")
  }),
  tlbMiss: 2 * P4_L2, // 37: two dependent page-walk reads (PDE, PTE) that hit the L2 cache
  trapEntry: P4_INT_IRET / 2, // 560: Torvalds' int/iret minus sysenter/sysexit round trip, split evenly
  iret: P4_INT_IRET / 2, // 560
  sysenter: P4_SYSENTER_PAIR / 2, // Torvalds' 641 less what the model charges for the rest, split evenly
  sysexit: P4_SYSENTER_PAIR / 2,
  cr3Write: 100, // assumed for the P4: Linux pti.rst "on the order of a hundred cycles" (today's CPUs)
  isolationPerCrossing: 0,
  kernelCall: 2 * P4_BRANCH, // 4: a call and a ret, each a branch; KML measured 12 cycles for a whole getpid
};

// ---------------------------------------------------------------------------------------------------------------
// Intel Skylake (client, 2015–2017), the typical Meltdown-affected CPU when KPTI shipped in January 2018.
const SKL_BRANCH = 1; // LLVM X86SchedSkylakeClient.td: WriteJump latency 1
const SKL_L2 = 12; // Intel 64 and IA-32 Optimization Reference Manual, Skylake client cache parameters: L2 12 cycles
const SKL_INT_IRET = 610; // blitz/kernel_entry_benchmark README: "Interrupt Gate,610" cycles round trip (Intel, KVM)
const SKL_FAST_PAIR = 99; // same table: "Syscall,99", the fast MSR-driven round trip; stands in for sysenter/sysexit
const HSW_U2K = 440; // lastweek.io xperf: Xeon E5 v3 bare metal, user to kernel ~440 cycles
const HSW_K2U = 270; // same: kernel to user ~270 cycles
const SKL_TRAP = Math.round((SKL_INT_IRET * HSW_U2K) / (HSW_U2K + HSW_K2U)); // 378
const SKL_IRET = SKL_INT_IRET - SKL_TRAP; // 232
const CR3_MODERN = 100; // Linux Documentation/x86/pti.rst: "Moves to CR3 are on the order of a hundred cycles"
// The modern profiles' kernel work (kernel/work.ts) was measured in ns on this host and turned into cycles at its
// core clock, so that clock is theirs. (Skylake's own figures are cycles; desktop Skylakes ran 3.4-4.2 GHz.)
const HOST_CLOCK: ProfileClock = {
  hz: 3658e6,
  source: 'the host of bench/host/kwork.c, 2026-11-25: AMD EPYC Zen 4 (family 25, model 17), 2-vCPU KVM guest, ' +
    'Linux 6.18.44; core clock measured by a chain of dependent adds',
};

const SKYLAKE_CORE = {
  clock: HOST_CLOCK,
  insn: insn({
    alu: 1, // LLVM X86SchedSkylakeClient.td: WriteALU latency 1
    load: 4, // Intel Optimization Reference Manual, Skylake client: L1D "fastest latency" 4 cycles
    store: 1, // LLVM X86SchedSkylakeClient.td: WriteStore latency 1
    mul: 3, // LLVM X86SchedSkylakeClient.td: WriteIMul32Reg (imul r32, r32) latency 3
    div: 26, // Agner Fog's instruction tables, Skylake: div/idiv r32 latency 26
    branch: SKL_BRANCH,
    privileged: CR3_MODERN, // no class-wide figure: the CR3 write's (docs/machine.md, "Privileged")
  }),
  tlbMiss: 2 * SKL_L2, // 24: two page-walk reads that hit the L2 cache
  trapEntry: SKL_TRAP, // 378: the 610-cycle int/iret round trip split 440:270 as measured on Haswell
  iret: SKL_IRET, // 232
  sysenter: Math.ceil(SKL_FAST_PAIR / 2), // 50: the 99-cycle fast round trip, split evenly (no source splits it)
  sysexit: Math.floor(SKL_FAST_PAIR / 2), // 49
  cr3Write: CR3_MODERN, // 100
  kernelCall: 2 * SKL_BRANCH, // 2: a call and a ret
};

const MODERN_PTI: CostProfile = {
  name: 'modern-pti',
  description:
    'Intel Skylake-class x86 with kernel page-table isolation (KPTI with PCID): a CR3 write at every kernel entry and ' +
      'exit',
  ...SKYLAKE_CORE,
  isolationPerCrossing: CR3_MODERN, // pti.rst: a CR3 move "required at every entry and exit"
};

const MODERN: CostProfile = {
  name: 'modern',
  description: 'the same Skylake-class x86 without page-table isolation (pti=off, or a CPU not affected by Meltdown)',
  ...SKYLAKE_CORE,
  isolationPerCrossing: 0,
};

/** The named profiles, by name. `unit` counts instructions only (every instruction one cycle, events free). */
export const PROFILES: Record<string, CostProfile> = Object.freeze({
  [P4_NORTHWOOD.name]: P4_NORTHWOOD,
  [MODERN_PTI.name]: MODERN_PTI,
  [MODERN.name]: MODERN,
  [UNIT_PROFILE.name]: UNIT_PROFILE,
});

/**
 * A figure a profile could have taken instead of its own, with its source. The bench's sensitivity table re-weights
 * a run's counters by each (cycles are counts × figures, so no re-run is needed) to show how far the choice moves
 * the result; docs/machine.md argues each profile's choice.
 */
export interface AlternativeFigure {
  readonly value: number;
  readonly source: string;
}

export interface ProfileAlternatives {
  /** Other clocks, Hz. */
  readonly clockHz: readonly AlternativeFigure[];
  /** Other TLB-miss costs, cycles. */
  readonly tlbMiss: readonly AlternativeFigure[];
  /**
   * A user-mode system call's whole extra cost over a direct call when user mode takes the era's fast path
   * (sysenter/sysexit through the vsyscall page) instead of int 0x80/iret: the sysenter baseline.
   */
  readonly fastSyscall?: AlternativeFigure;
}

const FORMER_CLOCK: AlternativeFigure = {
  value: 2.4e9, source: 'the single clock every profile used before each named its own (no source)',
};

/** The alternatives to each profile's figures, by profile name. */
export const ALTERNATIVES: Readonly<Record<string, ProfileAlternatives>> = Object.freeze({
  [P4_NORTHWOOD.name]: {
    clockHz: [FORMER_CLOCK],
    tlbMiss: [
      { value: 2 * 7, source: 'Intel IA-32 Optimization Reference Manual (2004), Table 1-1: L2 (models 0-2) 7 clocks' },
      { value: 2 * 16, source: 'AnandTech, Pentium 4 6xx review: Northwood L2 16 cycles (Cachemem, ScienceMark)' },
    ],
    // Kernel Mode Linux, Linux Journal 6516, Table 2: getpid 432 cycles from user mode through sysenter, 12 as a
    // direct call in kernel mode: 420 cycles for everything user mode adds (crossing, entry code, stub).
    fastSyscall: { value: 432 - 12, source: 'KML (Linux Journal 6516, Table 2): getpid via sysenter 432 - direct 12' },
  },
  [MODERN_PTI.name]: {
    clockHz: [FORMER_CLOCK],
    tlbMiss: [{ value: 2 * 11, source: 'AnandTech, Skylake-X review: Skylake-S L2 "11-cycle"' }],
  },
  [MODERN.name]: {
    clockHz: [FORMER_CLOCK],
    tlbMiss: [{ value: 2 * 11, source: 'AnandTech, Skylake-X review: Skylake-S L2 "11-cycle"' }],
  },
});

/** The profile for the paper's era, used when none is named. */
export const DEFAULT_PROFILE = P4_NORTHWOOD.name;

/** The profile of that name, or an error that lists the names. */
export function profileByName(name: string): CostProfile {
  const p = PROFILES[name];
  if (!p) throw new Error(`no cost profile '${name}' (known: ${Object.keys(PROFILES).join(', ')})`);
  return p;
}
