// The kernel: boots the machine and runs it. Its parts are Linux's (docs/kernel.md, kernel/README.md): the
// scheduler and switch_to (sched.ts, switch.ts), traps and the double fault (traps.ts), exit and signals
// (exit.ts), new processes (fork.ts), the system-call table (syscalls/table.ts), the entry code (entry.ts), memory
// (mm.ts), files (fs/) and sockets (net/). This file keeps what ties them together: boot, which lays out the
// kernel's data in guest RAM and fills the tables the hardware and the entry code read, and the run loop with its
// watchdog.
//
// Everything the hardware and a CPL 0 program can see is in guest RAM: page tables, GDT/IDT/TSS, the task table
// with each process's credentials, the kernel stacks, the syscall table of kernel-function addresses,
// `current_task` and `jiffies`. The kernel's C-level code is TypeScript, run as kernel functions (emulator/kfuncs.ts)
// called from the entry code or, in kernel mode, straight from a verified program; each leaves through the
// scheduler (Scheduler.leave), where the task may sleep, die or be switched out with its whole context saved.

import { Machine } from '../emulator/machine.ts';
import { BareSystem } from './arch/bare.ts';
import type { KernelContext } from '../emulator/kfuncs.ts';
import { Ctr } from '../emulator/stats.ts';
import type { CostProfile } from '../emulator/costs.ts';
import { profileByName, DEFAULT_PROFILE } from '../emulator/profiles.ts';
import { TSS_ESP0 } from '../emulator/tasks.ts';
import { Vfs } from './fs/vfs.ts';
import { FrameAllocator } from './mm.ts';
import { PAGE_OFFSET, PAGE_SIZE, LOW_MEMORY, MAX_LOWMEM, KERNEL_CS, VSYSCALL_BASE } from './arch/layout.ts';
import { MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP } from '../emulator/arch.ts';
import { PTE_P, PTE_US } from '../emulator/mmu.ts';
import { PT } from './entry.ts';
import { vsyscallCode } from './vsyscall.ts';
import { contextUserMemory } from './syscalls/usermem.ts';
import { EFAULT } from './errno.ts';
import { T, Task, TASK_STRUCT_SIZE, TASK_RUNNING, PF_IDLE } from './task.ts';
import { buildEntryCode, SYSCALL_VECTOR, TIMER_VECTOR, type EntryCode } from './entry.ts';
import { KernelWork, kernelWorkCosts } from './work.ts';
import { NR_SYSCALLS } from './syscalls/numbers.ts';
import { countSyscall, installSyscallTable, invokeSyscall } from './syscalls/table.ts';
import type { UserMemory } from './syscalls/usermem.ts';
import type { SysResult } from './syscalls/types.ts';
import { NetStack } from './net/socket.ts';
import { netLimits } from './net/limits.ts';
import { SIGNALS } from './signal.ts';
import { ExecError } from './exec/loader.ts';
import { bindKernelInterface } from './ktal.ts';
import { SWITCH_FRAME_SIZE, firstFrame } from './switch.ts';
import { Scheduler } from './sched.ts';
import { doDoubleFault, doTrap } from './traps.ts';
import { interruptAll, killAll, sendSignal } from './exit.ts';
import { NR_TASKS, TaskTable, spawn } from './fork.ts';

export interface KernelOptions {
  profile?: CostProfile;
  /** Guest RAM; default 128 MiB. */
  memoryBytes?: number;
  /** Page-table isolation: a CR3 switch on every entry from and exit to user mode. */
  pti?: boolean;
  /**
   * How user mode may enter the kernel: 'int80' (Linux 2.4: `int 0x80` only, no AT_SYSINFO) or 'sysenter' (Linux
   * 2.6: also the vsyscall page with `__kernel_vsyscall`, offered as AT_SYSINFO, and the sysenter entry). Default
   * 'int80', the path of the Linux 2.4 whose lmbench figures price the kernel's work (docs/kernel.md).
   */
  syscallEntry?: SyscallEntry;
  /** Timer interrupts per simulated second (CONFIG_HZ); default 1000. */
  hz?: number;
  /**
   * The simulated CPU clock in Hz, which turns cycles into time; default the profile's own (CostProfile.clock, the
   * clock its figures were measured at).
   */
  clockHz?: number;
  /** Console output (fd 1 and 2 of every process); default: collected in `output`. */
  onOutput?: (fd: 1 | 2, bytes: Uint8Array) => void;
  /** Wall-clock time at boot, ms since the epoch, for CLOCK_REALTIME; default Date.now(). */
  bootTime?: number;
  vfs?: Vfs;
  /**
   * Faults this kernel once had, put back on purpose: only for the attack suite, which shows each attack doing its
   * harm without the fix before showing the fixed kernel stop it. talrun never sets this.
   */
  reintroduce?: readonly KnownFault[];
}

/**
 * The faults `KernelOptions.reintroduce` can put back:
 * - 'switch-drops-registers': switch_to keeps only esp, so a task resumes with the previous task's ebx, esi, edi, ebp;
 * - 'switch-drops-eflags': switch_to does not restore EFLAGS, so a task resumes with the interrupt flag of the
 *   context it was switched back from (the timer's interrupt gate clears IF).
 */
export type KnownFault = 'switch-drops-registers' | 'switch-drops-eflags';

/** KernelOptions.syscallEntry. */
export const SYSCALL_ENTRIES = ['int80', 'sysenter'] as const;
export type SyscallEntry = typeof SYSCALL_ENTRIES[number];

export interface SpawnOptions {
  /** argv, argv[0] included. */
  argv: string[];
  envp?: string[];
  uid?: number;
  gid?: number;
  groups?: number[];
  /** Run verified code at CPL 0 with imports bound to kernel functions. */
  kernelMode?: boolean;
  /** In kernel mode: run the checker first (default true). Off only for the attack suite's demonstrations. */
  verify?: boolean;
  /** The working directory (a guest path); default /. */
  cwd?: string;
  /** The file name for messages and AT_EXECFN; default argv[0]. */
  filename?: string;
  /** Stack mapped for a kernel-mode program (it cannot grow on demand at CPL 0); default 1 MiB. */
  kernelModeStack?: number;
}

/** How a process ended. */
export interface ExitInfo {
  pid: number;
  /** As a shell reports it: the exit code, or 128 + the signal. */
  status: number;
  /** The signal that ended it, by name, or null. */
  signal: string | null;
  /** What went wrong, in words (the fault behind a signal). */
  fault?: string;
}

/** Why Kernel.run returned. */
export type KernelExit =
  | 'done' // every process has ended
  | 'idle' // every live process waits for console input from the host
  | 'limit' // the instruction budget ran out
  | 'hung' // the watchdog: no timer interrupt for too long (interrupts disabled at CPL 0)
  | 'panic'; // the kernel itself faulted (or a CPL 0 program broke it), or the machine triple-faulted

const WATCHDOG_TICKS = 200;
/** The shortest tick a kernel accepts, in cycles (KernelOptions.hz). */
const MIN_TICK_CYCLES = 4096;
const RUN_SLICE = 1_000_000;
/** Where `current_task` and `jiffies` sit in the kernel's data page. */
const CURRENT_TASK = 0, JIFFIES = 4;

export class Kernel {
  readonly machine: Machine;
  readonly bare: BareSystem;
  readonly vfs: Vfs;
  /** The meter of the kernel's own work (kernel/work.ts): what path walks, copies, sockets… cost in cycles. */
  readonly work: KernelWork;
  readonly frames: FrameAllocator;
  readonly pti: boolean;
  readonly syscallEntry: SyscallEntry;
  /** AT_SYSINFO for user-mode processes: `__kernel_vsyscall` in the vsyscall page, or 0 when not offered. */
  readonly sysinfo: number;
  readonly clockHz: number;
  readonly hz: number;
  readonly bootTime: number;
  /** Console output when no onOutput hook is given. */
  readonly output: { fd: 1 | 2; bytes: Uint8Array }[] = [];
  /** Kernel virtual addresses of the kernel's data, for --symbols and the attack suite (System.map). */
  readonly symbols = new Map<string, number>();
  /** Ended processes by pid. */
  readonly exits = new Map<number, ExitInfo>();
  /** System calls by number, over all processes. */
  readonly syscallCounts = new Map<number, number>();
  panicMessage: string | undefined;
  hungMessage: string | undefined;
  powerOffReason: string | undefined;
  /** Sockets (loopback, and bridges to the host). */
  readonly net: NetStack;
  /**
   * Event sources outside the machine (published ports, open bridged connections): while there are any, a machine
   * with nothing to run returns to the host ('idle') to wait for them.
   */
  hostSources = 0;
  /** The main program (talrun's): the machine stops when it ends, even if background processes remain. */
  mainPid: number | undefined;
  readonly sched: Scheduler;
  /** The task table in RAM. */
  readonly tasks: TaskTable;
  readonly entry: EntryCode;
  readonly kernelInterface: ReadonlyMap<string, number>;
  /** The pages a PTI user page directory maps besides the process's own: GDT, IDT, TSS, the entry code. */
  readonly entryAreaPages: readonly number[];
  /** Page-directory entries a PTI user page directory also has: the vsyscall page's table, with the sysenter entry. */
  readonly entryAreaPdes: readonly (readonly [index: number, pde: number])[];
  /** KernelOptions.reintroduce. */
  readonly reintroduced: ReadonlySet<KnownFault>;

  private readonly kdata: number; // physical: current_task, jiffies
  private lastIrqs = 0;
  private lastIrqCycles = 0;

  constructor(opts: KernelOptions = {}) {
    this.pti = opts.pti ?? false;
    this.syscallEntry = opts.syscallEntry ?? 'int80';
    if (!SYSCALL_ENTRIES.includes(this.syscallEntry)) {
      throw new RangeError(`syscall entry '${String(this.syscallEntry)}': known are ${SYSCALL_ENTRIES.join(', ')}`);
    }
    this.reintroduced = new Set(opts.reintroduce ?? []);
    this.hz = opts.hz ?? 1000;
    let profile = opts.profile ?? profileByName(DEFAULT_PROFILE);
    this.clockHz = opts.clockHz ?? profile.clock.hz;
    // A tick shorter than the timer's own handling (entry, a context switch, iret: thousands of cycles) leaves no
    // time to run anything: the machine would take interrupts for ever and make no progress.
    if (!(this.hz > 0 && this.clockHz / this.hz >= MIN_TICK_CYCLES)) {
      const clock = `${this.clockHz} Hz clock`;
      throw new RangeError(`hz ${this.hz}: a tick must last at least ${MIN_TICK_CYCLES} cycles of the ${clock}`);
    }
    this.bootTime = opts.bootTime ?? Date.now();
    // Under real PTI the CR3 switches are done and charged; a profile's flat per-crossing charge would count them
    // twice.
    if (this.pti && profile.isolationPerCrossing) profile = { ...profile, isolationPerCrossing: 0 };
    this.machine = new Machine({
      memoryBytes: opts.memoryBytes ?? 128 << 20, profile, kernelFunctionSlots: 512,
      timerInterval: Math.round(this.clockHz / this.hz),
    });
    const m = this.machine;
    this.bare = new BareSystem(m, { globalKernel: !this.pti });
    const bare = this.bare;
    // The direct map of the rest of RAM (lowmem), supervisor-only.
    const lowmem = Math.min(m.mem.size, MAX_LOWMEM);
    for (let p = LOW_MEMORY; p < lowmem; p += PAGE_SIZE) {
      bare.map(PAGE_OFFSET + p, p, { writable: true, global: !this.pti });
    }
    this.frames = new FrameAllocator(bare);

    const output = opts.onOutput ?? ((fd: 1 | 2, bytes: Uint8Array) => { this.output.push({ fd, bytes }); });
    this.vfs = opts.vfs ?? new Vfs();
    this.vfs.console.hooks = { write: (fd, bytes) => output(fd === 2 ? 2 : 1, bytes) };
    this.net = new NetStack(this.vfs.ns, netLimits(m.mem.size)); // socket bounds from the guest's RAM (net/limits.ts)
    this.work = new KernelWork(m.cpu, kernelWorkCosts(profile.name));
    this.net.work = this.work;
    this.sched = new Scheduler(this);

    // Kernel data, the task table and the syscall table, in low memory (mapped at PAGE_OFFSET + phys).
    this.kdata = bare.allocLow(PAGE_SIZE);
    this.tasks = new TaskTable(m.mem, bare, bare.allocLow(NR_TASKS * TASK_STRUCT_SIZE));
    const sysCallTable = bare.allocLow(NR_SYSCALLS * 4);
    this.symbols.set('current_task', PAGE_OFFSET + this.kdata + CURRENT_TASK);
    this.symbols.set('jiffies', PAGE_OFFSET + this.kdata + JIFFIES);
    this.symbols.set('task_table', PAGE_OFFSET + this.tasks.base);
    this.symbols.set('sys_call_table', PAGE_OFFSET + sysCallTable);
    const ni = installSyscallTable(this, sysCallTable);
    this.kernelInterface = bindKernelInterface(this);

    // The vsyscall page (sysenter entry only): mapped at VSYSCALL_BASE in the shared kernel half, user-readable and
    // executable, never writable; under PTI the user page directories get a page table that maps it alone.
    const vsyscall = this.syscallEntry === 'sysenter' ? vsyscallCode() : undefined;
    let vsyscallPde: [number, number] | undefined;
    if (vsyscall) {
      const page = bare.allocLow(PAGE_SIZE);
      m.mem.writeBytes(page, vsyscall.bytes);
      bare.map(VSYSCALL_BASE, page, { user: true, global: !this.pti });
      if (this.pti) {
        const pt = bare.allocLow(PAGE_SIZE);
        m.mem.write32(pt + (((VSYSCALL_BASE >>> 12) & 0x3ff) << 2), page | PTE_P | PTE_US);
        vsyscallPde = [VSYSCALL_BASE >>> 22, pt | PTE_P | PTE_US];
      }
      this.symbols.set('__kernel_vsyscall', VSYSCALL_BASE + vsyscall.kernelVsyscall);
    }
    this.sysinfo = vsyscall ? VSYSCALL_BASE + vsyscall.kernelVsyscall : 0;

    // The entry code, the IDT, and the double-fault task.
    const entryPages = 2;
    const entryPhys = bare.allocLow(entryPages * PAGE_SIZE);
    this.entry = buildEntryCode(PAGE_OFFSET + entryPhys, {
      sysCallTable: PAGE_OFFSET + sysCallTable, nrSyscalls: NR_SYSCALLS,
      timerInterrupt: this.kfunc('timer_interrupt', (_ctx, t) => this.timerInterrupt(t)),
      doTrap: this.kfunc('do_trap', (ctx, t) => doTrap(this, ctx, t)),
      doDoubleFault: m.kfuncs.register('do_double_fault', ctx => doDoubleFault(this, ctx)),
      enosys: ni,
      sysenter: vsyscall && {
        sysenterReturn: VSYSCALL_BASE + vsyscall.sysenterReturn,
        fetchArg6: this.kfunc('sysenter_fetch_arg6', ctx => this.fetchSysenterArg6(ctx)),
      },
    }, this.pti);
    if (this.entry.bytes.length > entryPages * PAGE_SIZE) throw new Error('internal: entry code overflows its pages');
    m.mem.writeBytes(entryPhys, this.entry.bytes);
    for (const [name, at] of this.entry.at) this.symbols.set(`entry_${name}`, at);
    const at = (name: string): number => this.entry.at.get(name)!;
    for (let v = 0; v < 32; v++) bare.setGate(v, 'int', at(`exc${v}`), v === 3 || v === 4 ? 3 : 0);
    bare.setGate(SYSCALL_VECTOR, 'int', at('int80'), 3);
    bare.setGate(TIMER_VECTOR, 'int', at('timer'), 0);
    bare.setDoubleFaultHandler(at('df_task'));
    this.entryAreaPages = [bare.gdt, bare.idt, bare.tss, entryPhys, entryPhys + PAGE_SIZE];
    this.entryAreaPdes = vsyscallPde ? [vsyscallPde] : [];
    if (vsyscall) {
      // enable_sep_cpu: the kernel's code selector (SS is the next entry, the user's CS and SS the two after: the
      // GDT layout Linux chose for sysexit), the entry point, and as the stack the TSS itself, whose esp0 the entry
      // code loads: switch_to keeps esp0 current, so the MSR never changes (Linux 2.6 did the same).
      m.cpu.writeMsr(MSR_SYSENTER_CS, KERNEL_CS);
      m.cpu.writeMsr(MSR_SYSENTER_ESP, PAGE_OFFSET + bare.tss);
      m.cpu.writeMsr(MSR_SYSENTER_EIP, at('sysenter'));
    }

    // The idle task (pid 0): on its own kernel stack, at `idle`, on the boot page directory.
    const idle = this.tasks.create({ pid: 0, ppid: 0, uid: 0, gid: 0, groups: [0], flags: PF_IDLE });
    idle.set(T.CR3, bare.pageDirectory);
    idle.comm = 'swapper';
    this.tasks.pushFrame(idle, firstFrame(at('idle')));
    idle.state = TASK_RUNNING;
    this.sched.idle = this.sched.current = idle;
    this.setCurrentTask(idle);
    // Start the CPU in the idle task, as if switched to.
    bare.enterKernel(at('idle'), idle.get(T.SP) + SWITCH_FRAME_SIZE, 0x2);
    m.mem.write32(bare.tss + TSS_ESP0, idle.get(T.ESP0));
  }

  /** Register a kernel function that runs as `current` and may block, exit or be preempted on its way out. */
  kfunc(name: string, body: (ctx: KernelContext, t: Task) => SysResult | void): number {
    let self = 0;
    self = this.machine.kfuncs.register(name, ctx => {
      const t = this.sched.current;
      return this.sched.leave(ctx, t, body(ctx, t), self);
    });
    return self;
  }

  /**
   * The sysenter entry's fetch of the sixth argument (Linux 4.x's do_fast_syscall_32: get_user of regs->bp from
   * regs->sp): the word at the caller's stack into pt_regs->ebp, through the checked user copy, so a bad stack gives
   * -EFAULT as the call's result and never a fault in the kernel.
   */
  private fetchSysenterArg6(ctx: KernelContext): number {
    const regs = (ctx.reg(4) + 4) | 0;
    // One checked load (Linux's get_user), not a copy: no per-byte work is charged, so the kernel's work stays the
    // same whichever way user mode entered.
    const word = contextUserMemory(ctx).copyIn(ctx.read32(regs + PT.ESP) >>> 0, 4);
    if (typeof word === 'number') return -EFAULT;
    ctx.write32(regs + PT.EBP, word[0] | (word[1] << 8) | (word[2] << 16) | (word[3] << 24));
    return 0;
  }

  /** Run system call `nr` for `t`, counted (syscalls/table.ts): the kernel-mode interface's way in. */
  invokeSyscall(t: Task, user: UserMemory, nr: number, args: number[]): SysResult {
    return invokeSyscall(this, t, user, nr, args);
  }
  /** Count a system call the kernel-mode interface serves itself (a path copied in kernel mode). */
  countSyscall(t: Task, nr: number): void { countSyscall(this, t, nr); }

  /** `current_task` in RAM names `t` (a CPL 0 program could read it; the attack suite does). */
  setCurrentTask(t: Task): void { this.machine.mem.write32(this.kdata + CURRENT_TASK, t.addr); }

  // ---------------------------------------------------------------------------------------------------------
  // processes, as the host and the system calls see them

  /** Start a program as a new process (kernel/fork.ts); throws ExecError when the file cannot run. */
  spawn(image: Uint8Array, opts: SpawnOptions): Task { return spawn(this, image, opts); }
  get current(): Task { return this.sched.current; }
  /** Live processes in pid order. */
  get liveTasks(): readonly Task[] { return this.sched.tasks; }
  findTask(pid: number): Task | undefined { return this.sched.tasks.find(t => t.pid === pid); }
  sendSignal(t: Task, sig: number): void { sendSignal(this, t, sig); }
  /** Ctrl-C on the console: SIGINT to every process (they all share talrun's terminal). */
  interrupt(): void { interruptAll(this); }

  /** Power off (reboot(2), or a CPL 0 program that calls the routine directly): every process ends. */
  powerOff(reason: string): void {
    this.powerOffReason = reason;
    killAll(this, `the machine was powered off (${reason})`);
  }

  // ---------------------------------------------------------------------------------------------------------
  // time

  get jiffies(): number { return this.machine.mem.read32(this.kdata + JIFFIES) >>> 0; }
  /** Simulated nanoseconds since boot. */
  get uptimeNs(): number { return (this.machine.cpu.cycles / this.clockHz) * 1e9; }
  get tickNs(): number { return 1e9 / this.hz; }

  private timerInterrupt(t: Task): void {
    this.machine.mem.write32(this.kdata + JIFFIES, (this.jiffies + 1) | 0);
    this.sched.tick(t, this.uptimeNs);
  }

  // ---------------------------------------------------------------------------------------------------------
  // running

  /**
   * Run until every process has ended, all wait for the host, the budget is spent, the watchdog fires, or the
   * kernel panics. The machine starts (and rests) in the idle task; the first timer tick schedules the processes.
   */
  run(maxInstructions = Infinity): KernelExit {
    const m = this.machine, cpu = m.cpu, sched = this.sched;
    if (this.panicMessage) return 'panic';
    if (sched.tasks.length === 0) return 'done';
    const end = cpu.instructions() + maxInstructions;
    if (m.status === 'stopped') m.resume();
    sched.leaveIdle();
    if (sched.current === sched.idle) {
      const rest = sched.restReason();
      if (rest) return rest;
    }
    // The watchdog's baseline (the last timer interrupt seen) is kept across calls: a host loop that runs the
    // machine in slices must not restart the count at every slice, or a machine that stopped taking interrupts
    // would never be caught.
    const where = (): string =>
      `eip 0x${(cpu.eip >>> 0).toString(16)} (task ${sched.current.pid} ${sched.current.comm})`;
    for (;;) {
      const left = end - cpu.instructions();
      if (left <= 0) return 'limit';
      const exit = m.run(Math.min(left, RUN_SLICE));
      if (exit === 'stopped') {
        const why = m.stopReason;
        if (why.startsWith('panic')) return 'panic';
        if (why === 'done') return 'done';
        if (why === 'idle' || why === 'main exited') return 'idle';
        throw new Error(`internal: machine stopped: ${why}`);
      }
      if (exit === 'triple-fault') {
        this.panicMessage = m.stopReason; // "triple fault at eip …: the chain of faults"
        killAll(this, `kernel panic: ${this.panicMessage}`);
        return 'panic';
      }
      if (exit === 'halted') return this.hung(`the CPU halted with interrupts disabled at ${where()}`);
      // The watchdog: timer interrupts must keep coming.
      const irqs = cpu.C[Ctr.TIMER_IRQS];
      if (irqs !== this.lastIrqs) {
        this.lastIrqs = irqs;
        this.lastIrqCycles = cpu.cycles;
      } else if (cpu.cycles - this.lastIrqCycles > WATCHDOG_TICKS * (this.clockHz / this.hz)) {
        return this.hung(`no timer interrupt for ${WATCHDOG_TICKS} ticks: interrupts disabled at ${where()}`);
      }
    }
  }

  private hung(message: string): KernelExit {
    this.hungMessage = `watchdog: the machine is hung: ${message}`;
    return 'hung';
  }

  /** Console input from the host. */
  feedInput(bytes: Uint8Array): void { this.vfs.console.feed(bytes); }
  endInput(): void { this.vfs.console.endInput(); }

  /** Output collected so far for fd 1 or 2 (when no onOutput hook was given). */
  collected(fd: 1 | 2): Uint8Array {
    return Buffer.concat(this.output.filter(o => o.fd === fd).map(o => o.bytes));
  }
}

export { ExecError, SIGNALS, NR_TASKS };
