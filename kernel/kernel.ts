// The kernel: boots the machine, keeps the processes, schedules them, handles their traps and system calls.
//
// Everything the hardware and a CPL 0 program can see is in guest RAM (docs/kernel.md): page tables, GDT/IDT/TSS,
// the task table with each process's credentials, the kernel stacks, the syscall table of kernel-function
// addresses, `current_task` and `jiffies`. The kernel's C-level code is TypeScript, run as kernel functions
// (emulator/kfuncs.ts) called from the entry code (entry.ts) or, in kernel mode, straight from a verified program.
//
// Task switching happens inside kernel functions, as Linux's switch_to does inside schedule(): the outgoing task's
// callee-saved registers and EFLAGS go on its stack under a return address (kernel/switch.ts), its esp into its
// task_struct; CR3 and TSS.esp0 are loaded for the incoming one, whose saved registers and EFLAGS are loaded back,
// and execution continues at the return address on its saved stack. A kernel function that must
// sleep (a console read with nothing typed) pushes its own address before switching, so that the task calls it
// again, with the same arguments, when it runs next; one that finishes but loses the CPU pushes `pop eax; ret`
// and its result.

import { Machine } from '../emulator/machine.ts';
import { BareSystem, KERNEL_CS, KERNEL_DS, USER_CS, USER_DS, LOW_MEMORY } from '../emulator/bare.ts';
import type { KernelContext } from '../emulator/kfuncs.ts';
import { GuestFault, VECTOR_NAMES } from '../emulator/exceptions.ts';
import { Ctr } from '../emulator/stats.ts';
import type { CostProfile } from '../emulator/costs.ts';
import { profileByName, DEFAULT_PROFILE } from '../emulator/profiles.ts';
import { TSS_ESP0, TSS_CR3, TSS_EIP, TSS_EFLAGS, TSS_EAX, TSS_ES } from '../emulator/tasks.ts';
import { Vfs } from './fs/vfs.ts';
import { ROOT } from './fs/permission.ts';
import { lookupPath } from './fs/namei.ts';
import { O_NONBLOCK } from './fs/fcntl.ts';
import { FdTable } from './fdtable.ts';
import { AddressSpace, FrameAllocator, OutOfMemory, PAGE_OFFSET, PAGE_SIZE, MAX_LOWMEM, TASK_SIZE } from './mm.ts';
import {
  T, Task, TASK_STRUCT_SIZE, TASK_RUNNING, TASK_INTERRUPTIBLE, TASK_ZOMBIE, PF_KTAL, PF_IDLE, TIF_NEED_RESCHED,
} from './task.ts';
import { buildEntryCode, PT, type EntryCode } from './entry.ts';
import { contextUserMemory, type UserMemory } from './syscalls/usermem.ts';
import { KernelWork, kernelWorkCosts } from './work.ts';
import { FILE_SYSCALLS } from './syscalls/files.ts';
import { SYS, NR_SYSCALLS, syscallName } from './syscalls/numbers.ts';
import { PROC_SYSCALLS } from './syscalls/proc.ts';
import { NET_SYSCALLS, MSG_NOSIGNAL } from './syscalls/net.ts';
import { NetStack, WaitQueue, POLLIN, POLLOUT } from './net/socket.ts';
import { netLimits } from './net/limits.ts';
import type { OpenFile } from './fs/file.ts';
import { EAGAIN, ENOSYS, EPIPE } from './errno.ts';
import { SIGNALS, SIGKILL, SIGSEGV, SIGFPE, SIGILL, SIGTRAP, SIGBUS, SIGPIPE, signalName, isFatalByDefault } from './signal.ts';
import { loadProgram, ExecError, type LoadedProgram } from './exec/loader.ts';
import { bindKernelInterface } from './ktal.ts';
import { SWITCH_FRAME_SIZE, firstFrame, loadRegisters, readFrame, saveWords, type SavedContext } from './switch.ts';

/** What a system call's implementation returns: a result (or -errno), or that the task must sleep and retry. */
export const BLOCK = Symbol('block');
export type SysResult = number | typeof BLOCK;
/** One system call's implementation, shared by the int 0x80 path and the kernel-mode path. */
export type Syscall = (k: Kernel, t: Task, user: UserMemory, ...args: number[]) => SysResult;

export interface KernelOptions {
  profile?: CostProfile;
  /** Guest RAM; default 128 MiB. */
  memoryBytes?: number;
  /** Page-table isolation: a CR3 switch on every entry from and exit to user mode. */
  pti?: boolean;
  /** Timer interrupts per simulated second (CONFIG_HZ); default 1000. */
  hz?: number;
  /** The simulated CPU clock in Hz, which turns cycles into time; default 2.4 GHz. */
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

export const NR_TASKS = 64;
const KSTACK_PAGES = 2; // plus an unmapped guard page below
const FIRST_PID = 100;
const WATCHDOG_TICKS = 200;
const RUN_SLICE = 1_000_000;

export class Kernel {
  readonly machine: Machine;
  readonly bare: BareSystem;
  readonly vfs: Vfs;
  /** The meter of the kernel's own work (kernel/work.ts): what path walks, copies, sockets… cost in cycles. */
  readonly work: KernelWork;
  readonly frames: FrameAllocator;
  readonly pti: boolean;
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
  /** The shared system call implementations by number. */
  readonly syscalls = new Map<number, Syscall>();
  panicMessage: string | undefined;
  hungMessage: string | undefined;
  /** Sockets (loopback, and bridges to the host). */
  readonly net: NetStack;
  /**
   * Event sources outside the machine (published ports, open bridged connections): while there are any, a machine
   * with nothing to run returns to the host ('idle') to wait for them.
   */
  hostSources = 0;
  /** The main program (talrun's): the machine stops when it ends, even if background processes remain. */
  mainPid: number | undefined;

  private readonly kdata: number; // physical: current_task (0), jiffies (4)
  private readonly taskTable: number;
  private readonly sysCallTable: number;
  readonly entry: EntryCode;
  private readonly slots: (Task | undefined)[] = new Array(NR_TASKS).fill(undefined);
  /** Live (not yet reaped) processes in pid order. */
  private readonly tasks: Task[] = [];
  readonly idle: Task;
  current: Task;
  private nextPid = FIRST_PID;
  private lastIrqs = 0;
  private lastIrqCycles = 0;
  readonly kernelInterface: ReadonlyMap<string, number>;
  private readonly reintroduced: ReadonlySet<KnownFault>;

  constructor(opts: KernelOptions = {}) {
    this.pti = opts.pti ?? false;
    this.reintroduced = new Set(opts.reintroduce ?? []);
    this.hz = opts.hz ?? 1000;
    this.clockHz = opts.clockHz ?? 2.4e9;
    this.bootTime = opts.bootTime ?? Date.now();
    let profile = opts.profile ?? profileByName(DEFAULT_PROFILE);
    // Under real PTI the CR3 switches are done and charged; a profile's flat per-crossing charge would count them twice.
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
    for (let p = LOW_MEMORY; p < lowmem; p += PAGE_SIZE) bare.map(PAGE_OFFSET + p, p, { writable: true, global: !this.pti });
    this.frames = new FrameAllocator(bare);

    const output = opts.onOutput ?? ((fd: 1 | 2, bytes: Uint8Array) => { this.output.push({ fd, bytes }); });
    this.vfs = opts.vfs ?? new Vfs();
    this.vfs.console.hooks = { write: (fd, bytes) => output(fd === 2 ? 2 : 1, bytes) };
    this.net = new NetStack(this.vfs.ns, netLimits(m.mem.size)); // socket bounds from the guest's RAM (net/limits.ts)
    this.work = new KernelWork(m.cpu, kernelWorkCosts(profile.name));
    this.net.work = this.work;

    // Kernel data, the task table and the syscall table, in low memory (mapped at PAGE_OFFSET + phys).
    this.kdata = bare.allocLow(PAGE_SIZE);
    this.taskTable = bare.allocLow(NR_TASKS * TASK_STRUCT_SIZE);
    this.sysCallTable = bare.allocLow(NR_SYSCALLS * 4);
    this.symbols.set('current_task', PAGE_OFFSET + this.kdata);
    this.symbols.set('jiffies', PAGE_OFFSET + this.kdata + 4);
    this.symbols.set('task_table', PAGE_OFFSET + this.taskTable);
    this.symbols.set('sys_call_table', PAGE_OFFSET + this.sysCallTable);

    // System calls: one kernel function each, their addresses in the table; the rest -ENOSYS.
    for (const [nr, fn] of FILE_SYSCALLS) this.syscalls.set(nr, (_k, t, user, ...a) => fn(t, user, ...a));
    for (const [nr, fn] of PROC_SYSCALLS) this.syscalls.set(nr, fn);
    for (const [nr, fn] of NET_SYSCALLS) this.syscalls.set(nr, fn);
    this.syscalls.set(SYS.read, (k, t, user, fd, buf, count) => k.blockingRead(t, user, fd, buf, count));
    this.syscalls.set(SYS.write, (k, t, user, fd, buf, count) => {
      const file = t.files.get(fd >>> 0 > 0x7fffffff ? -1 : fd);
      return file && k.net.isSocket(file) ? k.blockingWrite(t, user, file, buf, count, 0, SYS.write) : FILE_SYSCALLS.get(SYS.write)!(t, user, fd, buf, count);
    });
    const ni = this.kfunc('sys_ni_syscall', (ctx, t) => {
      this.countSyscall(t, ctx.read32(ctx.reg(4) + 4 + PT.ORIG_EAX));
      return -ENOSYS;
    });
    for (let nr = 0; nr < NR_SYSCALLS; nr++) m.mem.write32(this.sysCallTable + 4 * nr, ni);
    for (const nr of this.syscalls.keys()) {
      if (nr >= NR_SYSCALLS) continue;
      const addr = this.kfunc(`sys_${syscallName(nr)}`, (ctx, t) => {
        const a = [0, 1, 2, 3, 4, 5].map(i => ctx.arg(i));
        return this.invokeSyscall(t, contextUserMemory(ctx, this.work), nr, a);
      });
      m.mem.write32(this.sysCallTable + 4 * nr, addr);
      this.symbols.set(`sys_${syscallName(nr)}`, addr);
    }
    this.kernelInterface = bindKernelInterface(this);

    // The entry code, the IDT, and the double-fault task.
    const entryPages = 2;
    const entryPhys = bare.allocLow(entryPages * PAGE_SIZE);
    this.entry = buildEntryCode(PAGE_OFFSET + entryPhys, {
      sysCallTable: PAGE_OFFSET + this.sysCallTable, nrSyscalls: NR_SYSCALLS,
      timerInterrupt: this.kfunc('timer_interrupt', (_ctx, t) => this.timerInterrupt(t)),
      doTrap: this.kfunc('do_trap', (ctx, t) => this.doTrap(ctx, t)),
      doDoubleFault: m.kfuncs.register('do_double_fault', ctx => this.doDoubleFault(ctx)),
      enosys: ni,
    }, this.pti);
    if (this.entry.bytes.length > entryPages * PAGE_SIZE) throw new Error('internal: entry code overflows its pages');
    m.mem.writeBytes(entryPhys, this.entry.bytes);
    for (const [name, at] of this.entry.at) this.symbols.set(`entry_${name}`, at);
    const at = (name: string): number => this.entry.at.get(name)!;
    for (let v = 0; v < 32; v++) bare.setGate(v, 'int', at(`exc${v}`), v === 3 || v === 4 ? 3 : 0);
    bare.setGate(0x80, 'int', at('int80'), 3);
    bare.setGate(0x20, 'int', at('timer'), 0);
    bare.setDoubleFaultHandler(at('df_task'));
    this.entryAreaPages = [bare.gdt, bare.idt, bare.tss, entryPhys, entryPhys + PAGE_SIZE];

    // The idle task (pid 0): on its own kernel stack, at `idle`, on the boot page directory.
    this.idle = this.newTask({ pid: 0, ppid: 0, uid: 0, gid: 0, groups: [0], flags: PF_IDLE });
    this.idle.set(T.CR3, bare.pageDirectory);
    this.idle.comm = 'swapper';
    this.pushFrame(this.idle, firstFrame(at('idle')));
    this.idle.state = TASK_RUNNING;
    this.current = this.idle;
    m.mem.write32(this.kdata, this.idle.addr);
    // Start the CPU in the idle task, as if switched to.
    const sp = this.idle.get(T.SP);
    bare.enterKernel(at('idle'), sp + SWITCH_FRAME_SIZE, 0x2);
    m.mem.write32(bare.tss + TSS_ESP0, this.idle.get(T.ESP0));
  }

  private readonly entryAreaPages: number[];

  // ---------------------------------------------------------------------------------------------------------
  // kernel functions

  /** Register a kernel function that runs as `current` and may block, exit or be preempted on its way out. */
  kfunc(name: string, body: (ctx: KernelContext, t: Task) => SysResult | void): number {
    const kf = this.machine.kfuncs;
    let self = 0;
    self = kf.register(name, ctx => {
      const t = this.current;
      const r = body(ctx, t);
      return this.leave(ctx, t, r, self);
    });
    return self;
  }

  /** The way out of every kernel function: sleep, die, or be rescheduled, as the task's state now says. */
  private leave(ctx: KernelContext, t: Task, r: SysResult | void, self: number): number | void {
    if (this.machine.cpu.status !== 'running') return typeof r === 'number' ? r : undefined;
    // Sleeping: the task calls this function again, with the same arguments, when it runs next.
    if (r === BLOCK) return this.switchTo(ctx, this.pickNext(t), [self], 'while sleeping');
    if (t.state !== TASK_RUNNING) return this.switchTo(ctx, this.pickNext(t), null);
    const fatal = this.fatalPending(t);
    if (fatal) {
      this.doExit(t, 0, fatal);
      return this.switchTo(ctx, this.pickNext(t), null);
    }
    if (t.flags & TIF_NEED_RESCHED) {
      t.set(T.FLAGS, t.flags & ~TIF_NEED_RESCHED);
      const next = this.pickNext(t);
      if (next !== t) {
        // Preempted with a result: the task resumes at `pop eax; ret`, which hands it the result.
        const words = typeof r === 'number' ? [this.entry.at.get('pop_eax_ret')!, r] : [];
        return this.switchTo(ctx, next, words, 'while being preempted');
      }
    }
    return typeof r === 'number' ? r : undefined;
  }

  /** Push words (the first ends on top) on the current stack; false if the stack cannot take them. */
  private pushOnStack(ctx: KernelContext, _t: Task, words: number[]): boolean {
    let sp = ctx.reg(4);
    try {
      for (let i = words.length - 1; i >= 0; i--) {
        sp = (sp - 4) | 0;
        ctx.write32(sp, words[i]);
      }
    } catch (e) {
      if (e instanceof GuestFault) return false;
      throw e;
    }
    ctx.setReg(4, sp);
    return true;
  }

  /**
   * switch_to, from inside a kernel function. If the current task will run again (`resume`: the words it continues
   * with, pushed on its stack above the saved context), its context is saved (kernel/switch.ts); `null`: it has
   * ended. Then `next`'s address space is loaded and its saved context restored: the registers and EFLAGS it left
   * with, the stack above its frame, and the address it resumes at.
   */
  private switchTo(ctx: KernelContext, next: Task, resume: number[] | null, when = ''): void {
    const prev = this.current;
    if (resume) {
      if (this.pushOnStack(ctx, prev, [...saveWords(ctx.eflags(), r => ctx.reg(r)), ...resume])) {
        prev.set(T.SP, ctx.reg(4));
      } else {
        this.doExit(prev, 0, SIGSEGV, `stack overflow ${when}`);
        next = this.pickNext(prev);
      }
    }
    this.makeCurrent(next, true);
    const c = readFrame(next.get(T.SP), a => ctx.read32(a));
    if (!this.reintroduced.has('switch-drops-registers')) loadRegisters(c, (r, v) => ctx.setReg(r, v));
    if (!this.reintroduced.has('switch-drops-eflags')) ctx.setEflags(c.eflags);
    ctx.setReg(4, c.esp);
    ctx.jump(c.eip);
    if (next === this.idle) {
      const rest = this.restReason();
      if (rest) ctx.stop(rest);
    }
  }

  /**
   * With nothing to run: 'done' if no process is left, 'idle' if only the host can change that (input, a
   * connection, or nothing at all), null if a sleeper's timer will (the CPU then idles until the next tick).
   */
  private restReason(): 'done' | 'idle' | null {
    if (this.tasks.length === 0) return 'done';
    if (!this.tasks.every(x => x.state === TASK_INTERRUPTIBLE)) return null;
    const timed = this.tasks.some(x => x.wakeAt < Infinity);
    return !timed || this.hostSources > 0 || this.tasks.some(x => x.waitingForHost) ? 'idle' : null;
  }

  /**
   * `next` becomes the current task: TSS.esp0 and `current_task` name it, and (with `loadCr3`) its page directory
   * is loaded and charged as a CR3 write, unless it is loaded already. The double-fault handler passes false: the
   * CPU loads CR3 from the TSS it returns to.
   */
  private makeCurrent(next: Task, loadCr3: boolean): void {
    const m = this.machine, cpu = m.cpu;
    const cr3 = next.get(T.CR3);
    if (next !== this.current) this.work.charge('contextSwitch');
    if (loadCr3 && (m.mmu.cr3 >>> 0) !== (cr3 >>> 0)) {
      m.mmu.setCr3(cr3);
      cpu.C[Ctr.CR3_WRITES]++;
      cpu.charge(cpu.profile.cr3Write);
    }
    m.mem.write32(this.bare.tss + TSS_ESP0, next.get(T.ESP0));
    m.mem.write32(this.kdata, next.addr);
    this.current = next;
  }

  /** Round robin: the next runnable task after `prev`, else `prev` if it can run, else idle. */
  private pickNext(prev: Task): Task {
    const q = this.tasks, i = q.indexOf(prev);
    for (let k = 1; k <= q.length; k++) {
      const cand = q[(i + k + q.length) % q.length];
      if (cand.state === TASK_RUNNING && cand !== prev) return cand;
    }
    if (prev.state === TASK_RUNNING && !prev.isIdle) return prev;
    return this.idle;
  }

  // ---------------------------------------------------------------------------------------------------------
  // system calls

  /** Run system call `nr` for `t` (both paths come here). */
  invokeSyscall(t: Task, user: UserMemory, nr: number, args: number[]): SysResult {
    this.countSyscall(t, nr);
    const fn = this.syscalls.get(nr);
    if (!fn) return -ENOSYS;
    return fn(this, t, user, ...args);
  }

  /** A system call made: counted (per task and in all), and charged its dispatch (kernel/work.ts). */
  countSyscall(t: Task, nr: number): void {
    this.work.charge('syscall');
    t.syscalls.set(nr, (t.syscalls.get(nr) ?? 0) + 1);
    this.syscallCounts.set(nr, (this.syscallCounts.get(nr) ?? 0) + 1);
  }

  /** read(2) that sleeps on an empty console (or any file that can wait) unless O_NONBLOCK. */
  blockingRead(t: Task, user: UserMemory, fd: number, buf: number, count: number): SysResult {
    const r = FILE_SYSCALLS.get(SYS.read)!(t, user, fd, buf, count);
    if (r !== -EAGAIN) return r;
    const file = t.files.get(fd);
    if (!file || (file.flags & O_NONBLOCK)) return r;
    if (this.isConsole(file.fops)) {
      t.state = TASK_INTERRUPTIBLE;
      t.waitingForHost = true;
      this.vfs.console.whenReadable(() => { t.waitingForHost = false; this.wake(t); });
      return BLOCK;
    }
    const sock = this.net.socketOf(file);
    if (sock) return this.sleepOn(t, sock.queues());
    return r;
  }

  /**
   * write(2)/sendto(2) on a socket: a blocking socket sends everything, sleeping while the peer's queue is full
   * (the bytes already sent are kept in the task across the restarts); EPIPE raises SIGPIPE unless MSG_NOSIGNAL.
   */
  blockingWrite(t: Task, user: UserMemory, file: OpenFile, buf: number, count: number, flags: number, nr: number): SysResult {
    void nr;
    const sock = this.net.socketOf(file)!;
    const total = count >>> 0;
    const done = t.ioProgress;
    const nonblock = (file.flags & O_NONBLOCK) !== 0 || (flags & 0x40) !== 0;
    let sent = done;
    while (sent < total) {
      const n = Math.min(total - sent, 65536, Math.max(sock.peerSpace(), 1)); // copy no more than can be taken
      const b = user.copyIn((buf + sent) | 0, n);
      if (typeof b === 'number') { t.ioProgress = 0; return sent > 0 ? sent : b; }
      const r = sock.write(b);
      if (r === -EAGAIN) {
        if (nonblock) { t.ioProgress = 0; return sent > 0 ? sent : -EAGAIN; }
        t.ioProgress = sent;
        return this.sleepOn(t, sock.queues());
      }
      if (r < 0) {
        t.ioProgress = 0;
        if (sent > 0) return sent;
        if (r === -EPIPE && !(flags & MSG_NOSIGNAL)) this.sendSignal(t, SIGPIPE);
        return r;
      }
      sent += r;
    }
    t.ioProgress = 0;
    return sent;
  }

  /** Sleep until one of the queues is woken (or the deadline, in simulated ns, passes); the call then restarts. */
  sleepOn(t: Task, queues: WaitQueue[], deadline = Infinity): typeof BLOCK {
    t.state = TASK_INTERRUPTIBLE;
    t.wakeAt = deadline;
    for (const q of queues) q.add(() => this.wake(t), t); // one entry per task per queue, however often it sleeps
    return BLOCK;
  }

  /** poll's mask for a file that is not a socket: the console's input readiness; other files are always ready. */
  pollFile(file: OpenFile): number {
    if (this.isConsole(file.fops)) return (this.vfs.console.readable ? POLLIN : 0) | POLLOUT;
    return POLLIN | POLLOUT;
  }

  /** Wait queues for a file that is not a socket: the console's one queue (armed once, not once per poll). */
  fileQueues(file: OpenFile): WaitQueue[] {
    if (!this.isConsole(file.fops)) return [];
    let q = this.consoleWq;
    if (!q) {
      const fresh = q = this.consoleWq = new WaitQueue();
      this.vfs.console.whenReadable(() => { if (this.consoleWq === fresh) this.consoleWq = undefined; fresh.wake(); });
    }
    return [q];
  }
  private consoleWq: WaitQueue | undefined;

  private isConsole(fops: unknown): boolean { return fops === this.vfs.console.fops; }

  /** Make a sleeping task runnable. */
  wake(t: Task): void {
    if (t.state === TASK_INTERRUPTIBLE) {
      t.state = TASK_RUNNING;
      t.wakeAt = Infinity;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // time

  get jiffies(): number { return this.machine.mem.read32(this.kdata + 4) >>> 0; }
  /** Simulated nanoseconds since boot. */
  get uptimeNs(): number { return (this.machine.cpu.cycles / this.clockHz) * 1e9; }
  get tickNs(): number { return 1e9 / this.hz; }

  private timerInterrupt(t: Task): void {
    const mem = this.machine.mem;
    mem.write32(this.kdata + 4, (this.jiffies + 1) | 0);
    const now = this.uptimeNs;
    for (const x of this.tasks) if (x.state === TASK_INTERRUPTIBLE && x.wakeAt <= now) this.wake(x);
    if (this.tasks.some(x => x !== t && x.state === TASK_RUNNING)) t.set(T.FLAGS, t.flags | TIF_NEED_RESCHED);
    else if (t === this.idle) {
      // The idle task's tick with nothing to wake: return to the host rather than tick on, if only it can help.
      const rest = this.restReason();
      if (rest) this.machine.cpu.stop(rest);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // traps

  private doTrap(ctx: KernelContext, t: Task): void {
    const vector = ctx.arg(0);
    const regs = (ctx.reg(4) + 8) | 0;
    const eip = ctx.read32(regs + PT.EIP) >>> 0, cs = ctx.read32(regs + PT.CS), error = ctx.read32(regs + PT.ORIG_EAX);
    const cr2 = this.machine.mmu.cr2 >>> 0;
    const what = describeFault(vector, error, eip, cr2);
    const fromUser = (cs & 3) === 3;
    const programAtCpl0 = !fromUser && t.kernelMode && eip < TASK_SIZE;
    if (!fromUser && !programAtCpl0) return this.panic(ctx, `fault in the kernel: ${what} (task ${t.pid} ${t.comm})`);
    if (fromUser && vector === 14 && (error & 1) === 0 && cr2 >= t.stackLimit && cr2 < TASK_SIZE && t.mm) {
      try {
        t.mm.mapFresh(cr2 - (cr2 % PAGE_SIZE), { writable: true }); // the stack grows on demand
        return;
      } catch (e) {
        if (!(e instanceof OutOfMemory)) throw e;
        this.doExit(t, 0, SIGKILL, 'out of memory');
        return;
      }
    }
    const sig = vector === 0 ? SIGFPE : vector === 6 ? SIGILL : vector === 3 || vector === 1 ? SIGTRAP
      : vector === 17 ? SIGBUS : SIGSEGV;
    this.doExit(t, 0, sig, what);
  }

  /**
   * The double-fault task. At CPL 0 a program whose stack is unusable cannot take a fault (the CPU cannot push the
   * frame), so the CPU switches here through the task gate. If the faulting task is a kernel-mode program, it is
   * the program's own stack: the task dies with SIGSEGV and the main TSS is rewritten to resume the next task
   * (the iret that follows switches back to it). Otherwise the kernel itself is broken: panic.
   */
  private doDoubleFault(ctx: KernelContext): void {
    const mem = this.machine.mem, tss = this.bare.tss, t = this.current;
    const eip = mem.read32(tss + TSS_EIP) >>> 0, esp = mem.read32(tss + TSS_EAX + 16) >>> 0;
    if (!t.kernelMode || esp >= TASK_SIZE) {
      return this.panic(ctx, `double fault in the kernel at eip 0x${eip.toString(16)}, esp 0x${esp.toString(16)} (task ${t.pid} ${t.comm})`);
    }
    this.doExit(t, 0, SIGSEGV, `double fault: the kernel-mode stack is exhausted (eip 0x${eip.toString(16)}, esp 0x${esp.toString(16)})`);
    // The iret back to the main TSS loads every register from it: write the next task's whole saved context there.
    const next = this.pickNext(t);
    const c = this.savedContext(next);
    mem.write32(tss + TSS_CR3, next.get(T.CR3));
    mem.write32(tss + TSS_EIP, c.eip);
    mem.write32(tss + TSS_EFLAGS, this.reintroduced.has('switch-drops-eflags') ? 0x2 : c.eflags);
    mem.write32(tss + TSS_EAX + 16, c.esp);
    if (!this.reintroduced.has('switch-drops-registers')) {
      loadRegisters(c, (r, v) => { if (r !== 4) mem.write32(tss + TSS_EAX + 4 * r, v); });
    }
    const segs = [KERNEL_DS, KERNEL_CS, KERNEL_DS, KERNEL_DS, 0, 0];
    segs.forEach((s, i) => mem.write32(tss + TSS_ES + 4 * i, s));
    this.makeCurrent(next, false);
    if (next === this.idle && this.tasks.length === 0) ctx.stop('done');
  }

  private panic(ctx: KernelContext, message: string): void {
    this.panicMessage = message;
    for (const t of [...this.tasks]) this.doExit(t, 0, SIGKILL, `kernel panic: ${message}`);
    ctx.stop(`panic: ${message}`);
  }

  // ---------------------------------------------------------------------------------------------------------
  // signals and exit

  /** The fatal signal waiting for `t` to leave the kernel, or 0. */
  private fatalPending(t: Task): number { return t.pending; }

  /**
   * Send `sig` to `t` with its default action (there are no handlers): a fatal one ends it — at once if it is not
   * running, else when it next leaves a kernel function (at the latest on the next timer tick).
   */
  sendSignal(t: Task, sig: number): void {
    if (sig === 0 || !isFatalByDefault(sig) || t.state === TASK_ZOMBIE) return;
    if (t === this.current) { if (t.pending === 0) t.pending = sig; }
    else this.doExit(t, 0, sig);
  }

  /** do_exit: release everything, keep the status. */
  doExit(t: Task, code: number, sig = 0, fault?: string): void {
    if (t.state === TASK_ZOMBIE || t.isIdle) return;
    t.state = TASK_ZOMBIE;
    t.set(T.EXIT, sig ? sig : (code & 0xff) << 8);
    t.fault = fault;
    t.files.closeAll();
    t.mm?.destroy();
    const i = this.tasks.indexOf(t);
    if (i >= 0) this.tasks.splice(i, 1);
    this.exits.set(t.pid, {
      pid: t.pid, status: sig ? 128 + sig : code & 0xff, signal: sig ? signalName(sig) : null, ...(fault ? { fault } : {}),
    });
    const slot = this.slots.indexOf(t);
    if (slot >= 0) this.slots[slot] = undefined;
    t.detach();
    if (t.pid === this.mainPid && this.tasks.length > 0) this.machine.cpu.stop('main exited');
  }

  /** kill(2)'s target set and permission (kill_ok_by_cred), from `sender` (undefined: the host, as root). */
  findTask(pid: number): Task | undefined { return this.tasks.find(t => t.pid === pid); }
  get liveTasks(): readonly Task[] { return this.tasks; }

  /** Power off (reboot(2), or a CPL 0 program that calls the routine directly): every process ends. */
  powerOff(reason: string): void {
    this.powerOffReason = reason;
    for (const t of [...this.tasks]) this.doExit(t, 0, SIGKILL, `the machine was powered off (${reason})`);
  }
  powerOffReason: string | undefined;

  /** Ctrl-C on the console: SIGINT to every process (they all share talrun's terminal). */
  interrupt(): void {
    for (const t of [...this.tasks]) this.sendSignal(t, 2);
  }

  // ---------------------------------------------------------------------------------------------------------
  // processes

  private newTask(init: { pid: number; ppid: number; uid: number; gid: number; groups: readonly number[]; flags: number }): Task {
    const slot = this.slots.indexOf(undefined);
    if (slot < 0) throw new ExecError('too many processes', 11);
    const phys = this.taskTable + slot * TASK_STRUCT_SIZE;
    const t = new Task(this.machine.mem, phys, PAGE_OFFSET + phys, init);
    this.slots[slot] = t;
    // The kernel stack: guard page (unmapped from the direct map), then the stack.
    const base = this.bare.allocLow((KSTACK_PAGES + 1) * PAGE_SIZE);
    this.bare.unmap(PAGE_OFFSET + base);
    t.kstackPhys = base + PAGE_SIZE;
    t.kstackPages = KSTACK_PAGES;
    const top = PAGE_OFFSET + base + (KSTACK_PAGES + 1) * PAGE_SIZE;
    t.set(T.ESP0, top);
    t.set(T.SP, top);
    return t;
  }

  /** Push words on a task's kernel stack (it is not running), the first on top; updates its saved esp. */
  private pushFrame(t: Task, words: number[]): void {
    let sp = t.get(T.SP) >>> 0;
    for (let i = words.length - 1; i >= 0; i--) {
      sp -= 4;
      this.machine.mem.write32(sp - PAGE_OFFSET, words[i]);
    }
    t.set(T.SP, sp);
  }

  /**
   * Start a program as a new process (execve of a fresh process). Throws ExecError (with the message talrun prints
   * and the shell-like status) when the file cannot run: not an ELF, refused by the checker, too large.
   */
  spawn(image: Uint8Array, opts: SpawnOptions): Task {
    const uid = opts.uid ?? 0, gid = opts.gid ?? uid;
    const kernelMode = opts.kernelMode ?? false;
    const t = this.newTask({
      pid: this.nextPid, ppid: 1, uid, gid, groups: opts.groups ?? [gid], flags: kernelMode ? PF_KTAL : 0,
    });
    this.nextPid++;
    const filename = opts.filename ?? opts.argv[0] ?? '';
    t.comm = (filename.split('/').pop() ?? filename).slice(0, 15);
    t.argv = opts.argv;
    t.fs = this.vfs.context(t.cred);
    t.fs.work = this.work;
    if (opts.cwd) {
      const p = lookupPath(this.vfs.context(ROOT), undefined, opts.cwd, { directory: true });
      if (typeof p !== 'number') t.fs.cwd = p;
    }
    t.files = new FdTable();
    for (const f of this.vfs.consoleFiles()) t.files.alloc(f);
    t.mm = new AddressSpace(this.bare, this.frames, this.pti && !kernelMode
      ? { pti: { pages: this.entryAreaPages }, kernelStack: { phys: t.kstackPhys, pages: t.kstackPages } } : {});
    t.set(T.CR3, t.mm.pd);
    let prog: LoadedProgram;
    try {
      prog = loadProgram(this, t, image, {
        argv: opts.argv, envp: opts.envp ?? [], filename, kernelMode, verify: opts.verify ?? true,
        kernelModeStack: opts.kernelModeStack ?? (1 << 20),
      });
    } catch (e) {
      this.discard(t);
      throw e;
    }
    const at = (name: string): number => this.entry.at.get(name)!;
    if (kernelMode) {
      // The first switch to it "returns" to restore_all, which irets (CPL 0 to CPL 0: eip, cs, eflags) to main.
      const frame = [...firstFrame(at('restore_all')), 0, 0, 0, 0, 0, 0, 0, KERNEL_DS, KERNEL_DS, 0, 0, -1, prog.entry,
        KERNEL_CS, 0x202];
      const sp = prog.sp - 4 * frame.length;
      t.mm.poke(sp, new Uint8Array(Int32Array.from(frame).buffer));
      t.set(T.SP, sp);
    } else {
      this.pushFrame(t, [...firstFrame(at('restore_all')), 0, 0, 0, 0, 0, 0, 0, USER_DS, USER_DS, 0, 0, -1, prog.entry,
        USER_CS, 0x202, prog.sp, USER_DS]);
    }
    t.state = TASK_RUNNING;
    this.tasks.push(t);
    this.tasks.sort((a, b) => a.pid - b.pid);
    if (this.current === this.idle) this.current.set(T.FLAGS, this.current.flags | TIF_NEED_RESCHED);
    return t;
  }

  private discard(t: Task): void {
    t.mm?.destroy();
    t.files.closeAll();
    const slot = this.slots.indexOf(t);
    if (slot >= 0) this.slots[slot] = undefined;
    t.detach();
  }

  // ---------------------------------------------------------------------------------------------------------
  // running

  /**
   * Run until every process has ended, all wait for host input, the budget is spent, the watchdog fires, or the
   * kernel panics. The machine starts (and rests) in the idle task; the first timer tick schedules the processes.
   */
  run(maxInstructions = Infinity): KernelExit {
    const m = this.machine, cpu = m.cpu;
    if (this.panicMessage) return 'panic';
    if (this.tasks.length === 0) return 'done';
    const end = cpu.instructions() + maxInstructions;
    if (m.status === 'stopped') m.resume();
    this.leaveIdle();
    if (this.current === this.idle) {
      const rest = this.restReason();
      if (rest) return rest;
    }
    // The watchdog's baseline (the last timer interrupt seen) is kept across calls: a host loop that runs the
    // machine in slices must not restart the count at every slice, or a machine that stopped taking interrupts
    // would never be caught.
    for (;;) {
      const left = end - cpu.instructions();
      if (left <= 0) return 'limit';
      const exit = m.run(Math.min(left, RUN_SLICE));
      if (exit === 'stopped') {
        const why = m.stopReason;
        if (why.startsWith('panic')) return 'panic';
        if (why === 'done') return 'done';
        if (why === 'idle') return 'idle';
        if (why === 'main exited') return 'idle';
        throw new Error(`internal: machine stopped: ${why}`);
      }
      if (exit === 'triple-fault') {
        this.panicMessage = m.stopReason; // "triple fault at eip …: the chain of faults"
        for (const t of [...this.tasks]) this.doExit(t, 0, SIGKILL, `kernel panic: ${this.panicMessage}`);
        return 'panic';
      }
      if (exit === 'halted') return this.hung(`the CPU halted with interrupts disabled at eip 0x${(cpu.eip >>> 0).toString(16)} (task ${this.current.pid} ${this.current.comm})`);
      // The watchdog: timer interrupts must keep coming.
      const irqs = cpu.C[Ctr.TIMER_IRQS];
      if (irqs !== this.lastIrqs) {
        this.lastIrqs = irqs;
        this.lastIrqCycles = cpu.cycles;
      } else if (cpu.cycles - this.lastIrqCycles > WATCHDOG_TICKS * (this.clockHz / this.hz)) {
        return this.hung(`no timer interrupt for ${WATCHDOG_TICKS} ticks: interrupts disabled at eip 0x${(cpu.eip >>> 0).toString(16)} (task ${this.current.pid} ${this.current.comm})`);
      }
    }
  }

  /**
   * If the CPU rests in the idle loop and a process can run, switch to it now rather than at the next tick (as
   * wake_up_new_task's preemption check does), so a run's cycles start with the program.
   */
  private leaveIdle(): void {
    const cpu = this.machine.cpu, idleAt = this.entry.at.get('idle')!;
    const inIdleLoop = cpu.cpl === 0 && ((cpu.eip - idleAt) >>> 0) < 4;
    if (this.current !== this.idle || !inIdleLoop) return;
    const next = this.pickNext(this.idle);
    if (next === this.idle) return;
    // As switch_to from the idle loop: idle resumes at its loop later, with its context saved like any task's.
    const mem = this.machine.mem;
    const words = [...saveWords(cpu.eflags(), r => cpu.regs[r]), idleAt];
    const sp = (cpu.regs[4] - 4 * words.length) >>> 0;
    words.forEach((w, i) => mem.write32(sp + 4 * i - PAGE_OFFSET, w));
    this.idle.set(T.SP, sp);
    this.idle.set(T.FLAGS, this.idle.flags & ~TIF_NEED_RESCHED);
    this.makeCurrent(next, true);
    const c = this.savedContext(next);
    if (!this.reintroduced.has('switch-drops-registers')) loadRegisters(c, (r, v) => { cpu.regs[r] = v; });
    if (!this.reintroduced.has('switch-drops-eflags')) cpu.loadEflags(c.eflags);
    cpu.resumeAt(c.eip, c.esp);
  }

  /**
   * A switched-out task's saved context, read with the kernel's authority outside any kernel function: through the
   * task's own address space (a kernel-mode program's stack) or the direct map (a kernel stack).
   */
  private savedContext(t: Task): SavedContext {
    const sp = t.get(T.SP) >>> 0;
    if (sp < TASK_SIZE) {
      const bytes = t.mm ? t.mm.peek(sp, SWITCH_FRAME_SIZE) : new Uint8Array(SWITCH_FRAME_SIZE);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return readFrame(sp, a => view.getInt32((a - sp) >>> 0, true));
    }
    return readFrame(sp, a => this.machine.mem.read32((a >>> 0) - PAGE_OFFSET));
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

export { ExecError, SIGNALS };

function describeFault(vector: number, error: number, eip: number, cr2: number): string {
  return `${VECTOR_NAMES[vector] ?? `vector ${vector}`}${error ? ` (error 0x${(error >>> 0).toString(16)})` : ''} at eip 0x${eip.toString(16)}${vector === 14 ? `, cr2 0x${cr2.toString(16)}` : ''}`;
}
