// What every simulated benchmark run records: the machine's counters and its cycles by source (MachineStats.
// cycleSources, charged by the machine as it runs, so changes to emulator/profiles.ts and to the kernel's charges
// flow in), the kernel's work by kind, the system calls, and the emulator's wall-clock time.
import type { CycleSources, MachineStats } from '../emulator/stats.ts';
import { WORK_KINDS, type WorkSnapshot } from '../kernel/work.ts';

/**
 * The ways a program runs under talrun: user mode entering the kernel by int 0x80 (the default) and by sysenter
 * through the vsyscall page (`--syscall=sysenter`), and kernel mode; each without and with `--pti`.
 */
export const MODES = ['user', 'kernel', 'user+pti', 'kernel+pti', 'user-sysenter', 'user-sysenter+pti'] as const;
export type Mode = typeof MODES[number];
export const modeOptions = (m: Mode) => ({
  kernel: m.startsWith('kernel'), pti: m.endsWith('+pti'),
  syscallEntry: m.startsWith('user-sysenter') ? 'sysenter' as const : 'int80' as const,
});
/** User mode's way into the kernel, the baseline kernel mode is measured against. */
export type Baseline = 'int80' | 'sysenter';
/** The user-mode run a baseline names, with or without --pti. */
export const userMode = (b: Baseline, pti: boolean): Mode =>
  b === 'int80' ? (pti ? 'user+pti' : 'user') : (pti ? 'user-sysenter+pti' : 'user-sysenter');

/** The sources of busy cycles, in the order the report and the charts show them (idle is not busy). */
export const BUSY_SOURCES = ['instructions', 'tlbMisses', 'trapEntries', 'irets', 'sysenters', 'sysexits', 'isolation',
  'cr3Writes', 'kernelCalls', 'kernelWork', 'kernelFunctionWork'] as const satisfies readonly (keyof CycleSources)[];
export type BusySource = typeof BUSY_SOURCES[number];

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
  /** Deliveries through the IDT by vector (absent in reports written before it was recorded). */
  trapsByVector?: Record<number, number>;
  irets: number;
  /** The fast crossings (user mode with --syscall=sysenter). */
  sysenters: number;
  sysexits: number;
  tlbMisses: number;
  cr3Writes: number;
  kernelCalls: number;
  userEntries: number;
  userExits: number;
  timerInterrupts: number;
  /** The machine's cycles by source; the busy sources (BUSY_SOURCES) add up to `cycles`, with `halted` to all. */
  sources: CycleSources;
  /** The kernel's own work by kind: units done and cycles charged (kernel/work.ts). */
  kernelWorkByKind: WorkSnapshot;
  /** The emulator's wall time for the run (boot and setup excluded), seconds. */
  wallSeconds: number;
  /** Workload-specific results (round-trip percentiles, lines printed ...). */
  extra: Record<string, number | string>;
}

export function simRun(workload: string, profile: string, mode: Mode, stats: MachineStats, work: WorkSnapshot,
  syscalls: Map<string, number>, clockHz: number, wallSeconds: number, extra: Record<string, number | string> = {}): SimRun {
  const cycles = stats.cycles - stats.haltedCycles;
  return {
    workload, profile, mode, cycles, haltedCycles: stats.haltedCycles, simulatedMicros: (cycles / clockHz) * 1e6, clockHz,
    instructions: stats.instructions,
    syscalls: [...syscalls.values()].reduce((a, b) => a + b, 0),
    syscallsByName: Object.fromEntries(syscalls),
    traps: stats.trapTotal, trapsByVector: { ...stats.traps }, irets: stats.irets,
    sysenters: stats.sysenters, sysexits: stats.sysexits, tlbMisses: stats.tlbMisses, cr3Writes: stats.cr3Writes,
    kernelCalls: stats.kernelCalls, userEntries: stats.userEntries, userExits: stats.userExits,
    timerInterrupts: stats.timerInterrupts, sources: { ...stats.cycleSources }, kernelWorkByKind: work, wallSeconds,
    extra,
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
  /** The test's size (bench/all.ts, BenchOptions.smoke): implies quick. */
  smoke?: boolean;
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
  for (const [v,
    n] of Object.entries(after.traps)) { const x = n - (before.traps[Number(v)] ?? 0); if (x) traps[Number(v)] = x; }
  d.traps = traps;
  const src = { ...after.cycleSources };
  for (const k of Object.keys(src) as (keyof CycleSources)[]) src[k] -= before.cycleSources[k];
  d.cycleSources = src;
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
  for (const k of WORK_KINDS) d[k] = { units: after[k].units - before[k].units,
    cycles: after[k].cycles - before[k].cycles };
  return d;
}
