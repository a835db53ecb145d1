// The CPU's architectural state and the run loop: fetch through the MMU into the per-page decoded cache, run blocks
// of instructions (execute.ts), deliver faults and timer interrupts (traps.ts) at instruction boundaries.
//
// Segmentation is flat: a selector register holds only its selector; bases are 0 and limits 4 GiB, and descriptors
// are read (and their DPL/type/present bits checked) when a selector is loaded through a gate, iret, a task switch
// or a segment-register load. CPL is the RPL of CS. Real mode and virtual-8086 mode are not modelled: the machine
// starts in protected mode at CPL 0 with paging off.

import { Memory, PAGE_SHIFT } from './memory.ts';
import { Mmu } from './mmu.ts';
import { type FlagState, IF, getEflags, putEflags } from './flags.ts';
import { decode, NEED_MORE } from './decode.ts';
import { runBlock, C_CYCLES, C_CLASS0 } from './execute.ts';
import { FAULT } from './exceptions.ts';
import { Ctr, instructionsOf } from './stats.ts';
import { Timer } from './timer.ts';
import { KernelFunctions } from './kfuncs.ts';
import { exception, externalInterrupt } from './traps.ts';
import { type CostProfile, UNIT_PROFILE, INSN_CLASSES } from './costs.ts';
import {
  CR0_PE, CR0_ET, CR0_PG, CR0_WP, CR4_PGE, CS, SS, DS, ES, FS, GS, MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
} from './arch.ts';

if (C_CYCLES !== Ctr.CYCLES || C_CLASS0 !== Ctr.CLASS0)
  throw new Error('internal: execute.ts counter cells disagree with stats.ts');

export type MachineStatus = 'running' | 'halted' | 'stopped' | 'triple-fault';
/** Why run() returned: the machine's status, or 'limit' when the instruction budget ran out first. */
export type RunExit = MachineStatus | 'limit';

/** The port-I/O hook behind in/out. Sizes are 1 or 4 bytes (no 16-bit forms: there are no prefixes). */
export interface PortIo {
  in(port: number, size: 1 | 4): number;
  out(port: number, size: 1 | 4, value: number): void;
}
const NO_DEVICES: PortIo = { in: (_p, size) => (size === 1 ? 0xff : -1), out: () => {} };


export class Cpu implements FlagState {
  /** eax ecx edx ebx esp ebp esi edi, and a ninth that is always 0 (the missing base or index of an address). */
  readonly regs = new Int32Array(9);
  /** The next instruction to run; while the interpreter runs a block it is written only when the block ends (and
   * on a fault, with the faulting instruction: the saved eip), and before a system instruction. */
  eip = 0;
  /** Where execution continues after the current instruction (system instructions set it). */
  nextEip = 0;
  flags = 2; fOp = 0; fA = 0; fB = 0; fRes = 0;
  cpl = 0;
  readonly sreg = new Int32Array(6);
  cr0 = CR0_PE | CR0_ET;
  cr4 = 0;
  gdtBase = 0; gdtLimit = 0xffff;
  idtBase = 0; idtLimit = 0x3ff;
  trSel = 0; trBase = 0; trLimit = 0;
  /** Model-specific registers that exist (others raise #GP): value as [low, high] 32-bit halves. */
  readonly msrs = new Map<number, [number, number]>([
    [0x1b, [0xfee00900 | 0, 0]], [MSR_SYSENTER_CS, [0, 0]], [MSR_SYSENTER_ESP, [0, 0]], [MSR_SYSENTER_EIP, [0, 0]],
  ]);
  io: PortIo = NO_DEVICES;

  status: MachineStatus = 'running';
  /** Why the machine stopped (a kernel function's reason, the triple fault's description). */
  stopReason = '';
  /** In hlt, waiting for an interrupt. */
  halted = false;
  /** Interrupts are not recognised before this many instructions have retired (the sti / mov ss shadow). */
  shadowUntil = 0;
  /** The interpreter leaves its block when the cycle counter reaches this (the next timer event). */
  deadline = Infinity;

  /** Counters (stats.ts Ctr); cell 0 is the cycle count, shared with the MMU. */
  readonly C = new Float64Array(Ctr.COUNT);
  readonly trapCounts = new Float64Array(256);
  readonly classCost = new Float64Array(INSN_CLASSES);
  profile: CostProfile = UNIT_PROFILE;

  readonly scratch = new Int32Array(8);
  private readonly window = new Uint8Array(16);
  private readonly noRam = new Int32Array(8 << PAGE_SHIFT);
  /** Physical address of the page whose records the interpreter is using, or -1 outside RAM. */
  private codeBase = -1;
  private codePhys = 0;

  constructor(readonly mem: Memory, readonly mmu: Mmu, readonly timer: Timer, readonly kfuncs: KernelFunctions) {
    mmu.cycles = this.C;
    this.setProfile(UNIT_PROFILE);
  }

  setProfile(p: CostProfile): void {
    if (p.insn.length !== INSN_CLASSES)
      throw new RangeError(`profile ${p.name}: ${p.insn.length} instruction costs, need ${INSN_CLASSES}`);
    this.profile = p;
    for (let i = 0; i < INSN_CLASSES; i++) this.classCost[i] = p.insn[i];
    this.mmu.missCost = p.tlbMiss;
  }

  get iopl(): number { return (this.flags >> 12) & 3; }

  /** Set CPL (the RPL of CS) and the MMU's privilege for ordinary accesses. */
  setCpl(cpl: number): void {
    this.cpl = cpl;
    this.mmu.setUser(cpl === 3);
  }

  instructions(): number { return instructionsOf(this.C); }
  get cycles(): number { return this.C[Ctr.CYCLES]; }
  charge(cycles: number): void { this.C[Ctr.CYCLES] += cycles; }
  /** Cycles for work the kernel does in TypeScript (priced by kernel/work.ts): charged, and counted apart. */
  chargeKernelWork(cycles: number): void {
    this.C[Ctr.CYCLES] += cycles;
    this.C[Ctr.KERNEL_WORK] += cycles;
  }

  /** Cycles a kernel function charges for work it does in place of guest instructions: charged, and counted apart. */
  chargeKernelFunctionWork(cycles: number): void {
    this.C[Ctr.CYCLES] += cycles;
    this.C[Ctr.KFUNC_CHARGES] += cycles;
  }

  /** EFLAGS as pushfd would see it. */
  eflags(): number { return getEflags(this); }
  /** Load every flag, as popfd at CPL 0 or iret does (the caller is the kernel restoring a saved context). */
  loadEflags(v: number): void { putEflags(this, v); }

  /** mov cr3 (also a task switch's CR3 load, and the kernel's switch_mm): the new page directory, counted and charged. */
  loadCr3(v: number): void {
    this.mmu.setCr3(v);
    this.C[Ctr.CR3_WRITES]++;
    this.charge(this.profile.cr3Write);
  }

  /**
   * wrmsr outside any instruction, as a kernel's startup code does it (Linux's enable_sep_cpu writes the three
   * SYSENTER MSRs): nothing counted or charged. An MSR the machine does not have is refused.
   */
  writeMsr(index: number, value: number): void {
    const m = this.msrs.get(index);
    if (m === undefined) throw new RangeError(`no MSR 0x${index.toString(16)}`);
    m[0] = value | 0;
    m[1] = 0;
  }

  /** Set general register `r` (eax … edi) outside any instruction: the kernel restoring a saved context. */
  setRegister(r: number, v: number): void { this.regs[r] = v; }

  /**
   * The state a boot loader hands to a kernel, set outside any instruction (nothing counted or charged): the GDT,
   * the IDT and the task register (whose descriptor the caller has marked busy) loaded, paging on from page
   * directory `cr3` with CR0.WP and CR4.PGE.
   */
  boot(t: {
    gdt: readonly [base: number, limit: number]; idt: readonly [base: number, limit: number];
    tr: readonly [selector: number, base: number, limit: number]; cr3: number;
  }): void {
    [this.gdtBase, this.gdtLimit] = t.gdt;
    [this.idtBase, this.idtLimit] = t.idt;
    [this.trSel, this.trBase, this.trLimit] = t.tr;
    this.cr4 |= CR4_PGE;
    this.cr0 |= CR0_PG | CR0_WP;
    this.mmu.setCr3(t.cr3);
    this.mmu.setControl(true, true, true);
  }

  /**
   * Continue at `eip` at privilege `cpl` with code selector `cs` and data selector `ds` (SS, DS, ES; FS and GS null),
   * EFLAGS and esp as given: a hand-over outside any instruction (the boot, a monitor's first entry to user mode).
   * Selectors are taken as they are, without descriptor checks.
   */
  enter(cpl: number, cs: number, ds: number, eip: number, esp: number, eflags: number): void {
    this.sreg[CS] = cs;
    this.sreg[SS] = this.sreg[DS] = this.sreg[ES] = ds;
    this.sreg[FS] = this.sreg[GS] = 0;
    this.setCpl(cpl);
    putEflags(this, eflags);
    this.regs[4] = esp;
    this.eip = this.nextEip = eip;
  }

  /**
   * Continue at `eip` on the stack `esp`, out of a halt: the kernel resuming a task outside any guest instruction
   * (a switch from the idle loop). Inside a kernel function use KernelContext.jump instead.
   */
  resumeAt(eip: number, esp: number): void {
    this.regs[4] = esp | 0;
    this.eip = this.nextEip = eip | 0;
    this.halted = false;
  }

  /** Stop the machine after the current instruction or kernel function (status 'stopped'). */
  stop(reason: string): void {
    this.status = 'stopped';
    this.stopReason = reason;
  }

  /** Clear a stop or a halt so that run() continues (the caller has set up where). Not for a triple fault: reset. */
  resume(): void {
    if (this.status === 'triple-fault') throw new Error('a triple-faulted machine must be reset, not resumed');
    this.status = 'running';
    this.stopReason = '';
    this.halted = false;
  }

  /**
   * Run until the machine stops, halts for good, triple-faults, or `maxInstructions` more have retired.
   * Never throws for anything the guest does.
   */
  run(maxInstructions = Infinity): RunExit {
    const C = this.C, t = this.timer;
    const end = instructionsOf(C) + maxInstructions;
    while (this.status === 'running') {
      const done = instructionsOf(C);
      if (done >= end) return 'limit';
      if (t.interval > 0 && C[Ctr.CYCLES] >= t.nextAt) t.expire(C[Ctr.CYCLES]);
      const ifOn = (this.flags & IF) !== 0;
      if (t.pending && ifOn && done >= this.shadowUntil) {
        t.pending = false;
        this.halted = false;
        C[Ctr.TIMER_IRQS]++;
        externalInterrupt(this, t.vector);
        continue;
      }
      if (this.halted) {
        if (ifOn && t.interval > 0) {
          // Nothing happens until the timer fires: skip to it.
          const idle = t.nextAt - C[Ctr.CYCLES];
          if (idle > 0) { C[Ctr.CYCLES] += idle; C[Ctr.HALT_CYCLES] += idle; }
          continue;
        }
        this.status = 'halted';
        this.stopReason = 'hlt with interrupts disabled';
        break;
      }
      this.deadline = t.interval > 0 ? t.nextAt : Infinity;
      let budget = Math.min(end - done, 1e15);
      if (t.pending && ifOn) budget = Math.max(1, Math.min(budget, this.shadowUntil - done));
      try {
        runBlock(this, budget);
      } catch (e) {
        if (e !== FAULT) throw e;
        exception(this, FAULT.vector, FAULT.error);
      }
    }
    return this.status;
  }

  /**
   * The decoded records of the page holding eip, after translating eip for an instruction fetch (which faults as
   * paging says). At CPL 0, an address in the kernel-function region runs that function instead and returns null.
   */
  codePage(eip: number): Int32Array | null {
    const phys = this.mmu.translate(eip, false, this.mmu.user);
    if (this.cpl === 0 && this.kfuncs.contains(eip)) {
      this.kfuncs.invoke(this, eip);
      return null;
    }
    const page = phys >>> PAGE_SHIFT;
    this.codePhys = (phys & -4096) >>> 0;
    if (page >= this.mem.pages) {
      this.codeBase = -1;
      return this.noRam;
    }
    this.codeBase = this.codePhys;
    return this.mem.codeRecords(page);
  }

  /**
   * Decode the instruction at eip into R[b..] (returns true), or, when it crosses into the next page or lies outside
   * RAM, into `scratch` without caching it (returns false). The next page is translated only if the bytes are needed.
   */
  decodeAt(eip: number, R: Int32Array, b: number): boolean {
    const off = eip & 0xfff;
    if (this.codeBase >= 0) {
      try {
        decode(this.mem.u8, this.codeBase + off, 0x1000 - off, R, b);
        const page = this.codeBase >>> PAGE_SHIFT;
        if (this.mem.hasCode[page] === 0) {
          this.mem.hasCode[page] = 1;
          this.mmu.codeMark(page, true);
        }
        this.C[Ctr.DECODED]++;
        return true;
      } catch (e) {
        if (e !== NEED_MORE) throw e;
      }
    }
    const win = this.window;
    const n1 = Math.min(15, 0x1000 - off);
    for (let i = 0; i < n1; i++) win[i] = this.mem.read8(this.codePhys + off + i);
    try {
      decode(win, 0, n1, this.scratch, 0);
      return false;
    } catch (e) {
      if (e !== NEED_MORE) throw e;
    }
    const p2 = this.mmu.translate((eip + n1) | 0, false, this.mmu.user);
    for (let i = n1; i < 15; i++) win[i] = this.mem.read8(p2 + i - n1);
    decode(win, 0, 15, this.scratch, 0);
    return false;
  }

  /** Power-on state again (after a triple fault): protected mode, CPL 0, paging off. RAM and counters are kept. */
  reset(): void {
    this.regs.fill(0);
    this.eip = 0; this.nextEip = 0;
    this.flags = 2; this.fOp = 0;
    this.sreg.fill(0);
    this.cr0 = CR0_PE | CR0_ET; this.cr4 = 0;
    this.gdtBase = 0; this.gdtLimit = 0xffff; this.idtBase = 0; this.idtLimit = 0x3ff;
    this.trSel = 0; this.trBase = 0; this.trLimit = 0;
    this.mmu.reset();
    this.mmu.cycles = this.C;
    this.mmu.missCost = this.profile.tlbMiss;
    this.setCpl(0);
    this.status = 'running'; this.stopReason = '';
    this.halted = false; this.shadowUntil = 0;
    this.timer.pending = false;
  }
}
