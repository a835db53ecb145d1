// The machine: RAM, MMU, CPU, timer and the kernel-function registry, wired together, with the run and reset
// controls and the statistics. Everything the kernel (and the bare monitor in run.ts) needs goes through here.

import { Memory } from './memory.ts';
import { Mmu } from './mmu.ts';
import { Cpu, type RunExit, type MachineStatus, type PortIo } from './cpu.ts';
import { Timer } from './timer.ts';
import { KernelFunctions, KFUNC_BASE, type KernelFunction } from './kfuncs.ts';
import { type CostProfile, UNIT_PROFILE } from './costs.ts';
import { type MachineStats, snapshot } from './stats.ts';

export type { RunExit, MachineStatus, PortIo, MachineStats, KernelFunction };

export interface MachineOptions {
  /** RAM in bytes (a multiple of 4096); default 64 MiB. */
  memoryBytes?: number;
  /** Cycle costs; default UNIT_PROFILE (one cycle per instruction, events free). */
  profile?: CostProfile;
  /** TLB entries (a power of two); default 256. */
  tlbEntries?: number;
  /** Timer period in cycles (0: no timer, the default) and its vector (default 0x20). */
  timerInterval?: number;
  timerVector?: number;
  /** Kernel-function region: base address and number of 16-byte slots. */
  kernelFunctionBase?: number;
  kernelFunctionSlots?: number;
}

export const DEFAULT_MEMORY = 64 << 20;

export class Machine {
  readonly mem: Memory;
  readonly mmu: Mmu;
  readonly timer = new Timer();
  readonly kfuncs: KernelFunctions;
  readonly cpu: Cpu;

  constructor(opts: MachineOptions = {}) {
    this.mem = new Memory(opts.memoryBytes ?? DEFAULT_MEMORY);
    this.mmu = new Mmu(this.mem, opts.tlbEntries ?? 256);
    this.kfuncs = new KernelFunctions(opts.kernelFunctionBase ?? KFUNC_BASE, opts.kernelFunctionSlots ?? 256);
    this.cpu = new Cpu(this.mem, this.mmu, this.timer, this.kfuncs);
    this.cpu.setProfile(opts.profile ?? UNIT_PROFILE);
    if (opts.timerInterval) this.setTimer(opts.timerInterval, opts.timerVector ?? 0x20);
  }

  /** Run until stopped, halted for good, triple-faulted, or `maxInstructions` more instructions have retired. */
  run(maxInstructions = Infinity): RunExit { return this.cpu.run(maxInstructions); }

  get status(): MachineStatus { return this.cpu.status; }
  get stopReason(): string { return this.cpu.stopReason; }

  /** Continue after a stop (a kernel function's) or a halt, from wherever the CPU state now says. */
  resume(): void { this.cpu.resume(); }

  /** Back to the power-on CPU state (after a triple fault). Memory and counters are kept. */
  reset(): void { this.cpu.reset(); }

  setProfile(p: CostProfile): void { this.cpu.setProfile(p); }
  /** Timer every `interval` cycles from now on `vector` (0 disables it). */
  setTimer(interval: number, vector = 0x20): void { this.timer.configure(interval, vector, this.cpu.cycles); }
  set io(io: PortIo) { this.cpu.io = io; }

  stats(): MachineStats {
    return snapshot(this.cpu.profile, this.cpu.C, this.cpu.trapCounts, this.mmu.stat, this.mem.codeInvalidations);
  }
}
