// What every simulated benchmark run records, and the cycle breakdown computed from the machine's counters and the
// profile's figures (read through the API, so changes to emulator/profiles.ts and to the kernel's charges flow in).
import type { MachineStats } from '../emulator/stats.ts';
import { profileByName } from '../emulator/profiles.ts';
import { WORK_KINDS, type WorkSnapshot } from '../kernel/work.ts';

/** The four ways a program runs under talrun. */
export const MODES = ['user', 'kernel', 'user+pti', 'kernel+pti'] as const;
export type Mode = typeof MODES[number];
export const modeOptions = (m: Mode) => ({ kernel: m.startsWith('kernel'), pti: m.endsWith('+pti') });

/** Cycles by where they come from. `other` is what the named parts do not explain (0 unless the model grows). */
export interface Breakdown {
  instructions: number;
  trapEntry: number;
  iret: number;
  kernelWork: number;
  tlbMisses: number;
  cr3Writes: number;
  isolation: number;
  other: number;
}

export interface SimRun {
  workload: string;
  profile: string;
  mode: Mode;
  /** Cycles the machine charged while not halted (stats.cycles − stats.haltedCycles). */
  cycles: number;
  haltedCycles: number;
  /** Busy cycles over the kernel's clock (k.clockHz), µs. */
  simulatedMicros: number;
  clockHz: number;
  /** All instructions retired: the program's and the kernel's own (its entry stubs). */
  instructions: number;
  syscalls: number;
  syscallsByName: Record<string, number>;
  traps: number;
  irets: number;
  tlbMisses: number;
  cr3Writes: number;
  kernelCalls: number;
  userEntries: number;
  userExits: number;
  timerInterrupts: number;
  breakdown: Breakdown;
  /** The kernel's own work by kind: units done and cycles charged (kernel/work.ts). */
  kernelWorkByKind: WorkSnapshot;
  /** The emulator's wall time for the run (boot and setup excluded), seconds. */
  wallSeconds: number;
  /** Workload-specific results (round-trip percentiles, lines printed ...). */
  extra: Record<string, number | string>;
}

/**
 * The kernel's own work: what the kernel charged for it (stats.kernelWork, priced by kernel/work.ts) and the call
 * and return of each kernel function (kernelCalls × the profile's kernelCall).
 */
function kernelWorkCycles(stats: MachineStats, kernelCallCost: number): number {
  return stats.kernelWork + stats.kernelCalls * kernelCallCost;
}

export function breakdownOf(stats: MachineStats, profileName: string, pti: boolean): Breakdown {
  const p = profileByName(profileName);
  const classes = Object.values(stats.byClass);
  const instructions = classes.reduce((a, n, i) => a + n * (p.insn[i] ?? 0), 0);
  // The kernel drops the flat per-crossing charge under real PTI (the CR3 writes are made and charged instead).
  const isoPer = pti ? 0 : p.isolationPerCrossing;
  const b: Breakdown = {
    instructions,
    trapEntry: stats.trapTotal * p.trapEntry,
    iret: stats.irets * p.iret,
    kernelWork: kernelWorkCycles(stats, p.kernelCall),
    tlbMisses: stats.tlbMisses * p.tlbMiss,
    cr3Writes: stats.cr3Writes * p.cr3Write,
    isolation: (stats.userEntries + stats.userExits) * isoPer,
    other: 0,
  };
  const named = Object.values(b).reduce((a, x) => a + x, 0);
  b.other = stats.cycles - stats.haltedCycles - named;
  if (Math.abs(b.other) < 1e-6 * Math.max(1, stats.cycles)) b.other = 0;
  return b;
}

export function simRun(workload: string, profile: string, mode: Mode, stats: MachineStats, work: WorkSnapshot,
  syscalls: Map<string, number>, clockHz: number, wallSeconds: number, extra: Record<string, number | string> = {}): SimRun {
  const breakdown = breakdownOf(stats, profile, modeOptions(mode).pti);
  const cycles = stats.cycles - stats.haltedCycles;
  return {
    workload, profile, mode, cycles, haltedCycles: stats.haltedCycles, simulatedMicros: (cycles / clockHz) * 1e6, clockHz,
    instructions: stats.instructions,
    syscalls: [...syscalls.values()].reduce((a, b) => a + b, 0),
    syscallsByName: Object.fromEntries(syscalls),
    traps: stats.trapTotal, irets: stats.irets, tlbMisses: stats.tlbMisses, cr3Writes: stats.cr3Writes,
    kernelCalls: stats.kernelCalls, userEntries: stats.userEntries, userExits: stats.userExits,
    timerInterrupts: stats.timerInterrupts, breakdown, kernelWorkByKind: work, wallSeconds, extra,
  };
}

/** A native run of the same binary on this host, the reference point. */
export interface NativeRun {
  workload: string;
  /** Best wall time, seconds (process start included). */
  wallSeconds: number;
  extra: Record<string, number | string>;
}

export interface WorkloadInfo {
  name: string;
  description: string;
  kind: 'find' | 'echod';
}

export interface BenchConfig {
  quick: boolean;
  profiles: string[];
  modes: readonly Mode[];
  log: (line: string) => void;
}

/** The counters of `after` less those of `before` (profile name and maps kept from `after`'s shape). */
export function diffStats(after: MachineStats, before: MachineStats): MachineStats {
  const d = { ...after } as MachineStats;
  const num = d as unknown as Record<string, unknown>;
  for (const key of Object.keys(after)) {
    const a = (after as unknown as Record<string, unknown>)[key], b = (before as unknown as Record<string, unknown>)[key];
    if (typeof a === 'number' && typeof b === 'number') num[key] = a - b;
  }
  d.byClass = { ...after.byClass };
  for (const c of Object.keys(after.byClass) as (keyof MachineStats['byClass'])[]) d.byClass[c] = after.byClass[c] - before.byClass[c];
  const traps: Record<number, number> = {};
  for (const [v, n] of Object.entries(after.traps)) { const x = n - (before.traps[Number(v)] ?? 0); if (x) traps[Number(v)] = x; }
  d.traps = traps;
  return d;
}

/** System calls by name of `after` less `before`, zeros left out. */
export function diffSyscalls(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const m = new Map<string, number>();
  for (const [n, c] of after) { const x = c - (before.get(n) ?? 0); if (x) m.set(n, x); }
  return m;
}

/** The kernel work of `after` less `before`, kind by kind. */
export function diffWork(after: WorkSnapshot, before: WorkSnapshot): WorkSnapshot {
  const d = {} as WorkSnapshot;
  for (const k of WORK_KINDS) d[k] = { units: after[k].units - before[k].units, cycles: after[k].cycles - before[k].cycles };
  return d;
}
