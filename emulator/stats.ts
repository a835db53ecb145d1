// The machine's counters: one Float64Array (so the interpreter increments cells, not object fields), named here,
// and the MachineStats snapshot built from it. Cycles are charged as events happen: each instruction by its class,
// and TLB misses, trap entries, irets, CR3 writes, user/kernel crossings and kernel calls by the profile's figures;
// the kernel adds its own work (kernel/work.ts) through Cpu.chargeKernelWork.

import { INSN_CLASSES } from './costs.ts';

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
  COUNT = 21,
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
}

export function instructionsOf(C: Float64Array): number {
  let n = 0;
  for (let i = 0; i < INSN_CLASSES; i++) n += C[Ctr.CLASS0 + i];
  return n;
}

export function snapshot(profile: string, C: Float64Array, trapCounts: Float64Array, tlb: Float64Array, codeInvalidations: number): MachineStats {
  const byClass = {} as Record<ClassName, number>;
  CLASS_NAMES.forEach((n, i) => { byClass[n] = C[Ctr.CLASS0 + i]; });
  const traps: Record<number, number> = {};
  for (let v = 0; v < 256; v++) if (trapCounts[v] > 0) traps[v] = trapCounts[v];
  return {
    profile,
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
  };
}
