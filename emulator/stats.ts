// The machine's counters: one Float64Array (so the interpreter increments cells, not object fields), named here,
// and the MachineStats snapshot built from it. Cycles are charged as events happen: each instruction by its class,
// and TLB misses, trap entries, irets, sysenters and sysexits, CR3 writes, user/kernel crossings and kernel calls
// by the profile's figures; the kernel adds its own work (kernel/work.ts) through Cpu.chargeKernelWork.

import { INSN_CLASSES, type CostProfile } from './costs.ts';

export enum Ctr {
  CYCLES = 0,
  CLASS0 = 1, // 1..7: retired instructions by InsnClass
  TRAPS = 8, // events delivered through the IDT (exceptions, int n, interrupts)
  IRETS = 9,
  CR3_WRITES = 10,
  KCALLS = 11,
  TASK_SWITCHES = 12,
  USER_ENTRIES = 13, // gate entries from CPL 3 to CPL 0
  USER_EXITS = 14, // iret from CPL 0 to CPL 3
  HALT_CYCLES = 15,
  TIMER_IRQS = 16,
  DECODED = 17, // instructions decoded into the per-page cache (cache misses)
  DOUBLE_FAULTS = 18,
  TRIPLE_FAULTS = 19,
  KERNEL_WORK = 20, // cycles the kernel charged for its own work (kernel/work.ts), a part of CYCLES
  KFUNC_CHARGES = 21, // cycles kernel functions charged for work done in place of guest instructions, a part of CYCLES
  SYSENTERS = 22, // sysenter executed (not faulted)
  SYSEXITS = 23, // sysexit executed (not faulted)
  COUNT = 24,
}

export const CLASS_NAMES = ['alu', 'load', 'store', 'mul', 'div', 'branch', 'privileged'] as const;
export type ClassName = typeof CLASS_NAMES[number];

export interface MachineStats {
  profile: string;
  /** Retired instructions (a faulting instruction is not retired; int n is). */
  instructions: number;
  cycles: number;
  byClass: Record<ClassName, number>;
  /** Deliveries through the IDT by vector (exceptions, int n, timer interrupts), and their total. */
  traps: Record<number, number>;
  trapTotal: number;
  tlbHits: number;
  tlbMisses: number;
  pageWalks: number;
  cr3Writes: number;
  irets: number;
  /** sysenter and sysexit executed: the fast crossings, counted apart from traps and irets. */
  sysenters: number;
  sysexits: number;
  kernelCalls: number;
  /** Cycles charged for the kernel's own work (path walks, copies, directory entries, sockets…; kernel/work.ts). */
  kernelWork: number;
  taskSwitches: number;
  userEntries: number;
  userExits: number;
  haltedCycles: number;
  timerInterrupts: number;
  decodedInstructions: number;
  codeInvalidations: number;
  doubleFaults: number;
  tripleFaults: number;
  /** Where the cycles went: every charge the machine makes, by source; the sources add up to `cycles`. */
  cycleSources: CycleSources;
}

/** Cycles by what charged them (emulator/README.md, "Cycles"). */
export interface CycleSources {
  /** Retired instructions, each at its class's cost. */
  instructions: number;
  tlbMisses: number;
  /** Deliveries through the IDT (exceptions, int n, interrupts). */
  trapEntries: number;
  irets: number;
  /** sysenter and sysexit, each at the profile's own figure. */
  sysenters: number;
  sysexits: number;
  /** The profile's flat page-table-isolation charge per CPL 3 → 0 entry and per return to CPL 3 (iret, sysexit). */
  isolation: number;
  cr3Writes: number;
  /** Calls of kernel functions (TypeScript) from machine code: the call and the return. */
  kernelCalls: number;
  /** The kernel's own work, priced per unit (kernel/work.ts). */
  kernelWork: number;
  /** Work a kernel function does in place of guest instructions (the kernel-mode runtime's, kernel/rtwork.ts). */
  kernelFunctionWork: number;
  /** Idle: halted, waiting for an interrupt. */
  halted: number;
}

export function instructionsOf(C: Float64Array): number {
  let n = 0;
  for (let i = 0; i < INSN_CLASSES; i++) n += C[Ctr.CLASS0 + i];
  return n;
}

export function snapshot(profile: CostProfile, C: Float64Array, trapCounts: Float64Array, tlb: Float64Array,
  codeInvalidations: number): MachineStats {
  const byClass = {} as Record<ClassName, number>;
  CLASS_NAMES.forEach((n, i) => { byClass[n] = C[Ctr.CLASS0 + i]; });
  let instructionCycles = 0;
  for (let i = 0; i < INSN_CLASSES; i++) instructionCycles += C[Ctr.CLASS0 + i] * profile.insn[i];
  // Each figure is a count times the profile's price for it, except the charges counted as they are made: a
  // profile's prices are fixed for a run (the kernel sets it once, at boot).
  const cycleSources: CycleSources = {
    instructions: instructionCycles,
    tlbMisses: tlb[1] * profile.tlbMiss,
    trapEntries: C[Ctr.TRAPS] * profile.trapEntry,
    irets: C[Ctr.IRETS] * profile.iret,
    sysenters: C[Ctr.SYSENTERS] * profile.sysenter,
    sysexits: C[Ctr.SYSEXITS] * profile.sysexit,
    isolation: (C[Ctr.USER_ENTRIES] + C[Ctr.USER_EXITS]) * profile.isolationPerCrossing,
    cr3Writes: C[Ctr.CR3_WRITES] * profile.cr3Write,
    kernelCalls: C[Ctr.KCALLS] * profile.kernelCall,
    kernelWork: C[Ctr.KERNEL_WORK],
    kernelFunctionWork: C[Ctr.KFUNC_CHARGES],
    halted: C[Ctr.HALT_CYCLES],
  };
  const traps: Record<number, number> = {};
  for (let v = 0; v < 256; v++) if (trapCounts[v] > 0) traps[v] = trapCounts[v];
  return {
    profile: profile.name,
    instructions: instructionsOf(C),
    cycles: C[Ctr.CYCLES],
    byClass,
    traps,
    trapTotal: C[Ctr.TRAPS],
    tlbHits: tlb[0],
    tlbMisses: tlb[1],
    pageWalks: tlb[2],
    cr3Writes: C[Ctr.CR3_WRITES],
    irets: C[Ctr.IRETS],
    sysenters: C[Ctr.SYSENTERS],
    sysexits: C[Ctr.SYSEXITS],
    kernelCalls: C[Ctr.KCALLS],
    kernelWork: C[Ctr.KERNEL_WORK],
    taskSwitches: C[Ctr.TASK_SWITCHES],
    userEntries: C[Ctr.USER_ENTRIES],
    userExits: C[Ctr.USER_EXITS],
    haltedCycles: C[Ctr.HALT_CYCLES],
    timerInterrupts: C[Ctr.TIMER_IRQS],
    decodedInstructions: C[Ctr.DECODED],
    codeInvalidations,
    doubleFaults: C[Ctr.DOUBLE_FAULTS],
    tripleFaults: C[Ctr.TRIPLE_FAULTS],
    cycleSources,
  };
}
