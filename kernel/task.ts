// The process record (task_struct) and its credentials. The security-relevant fields live in guest RAM, in the
// kernel's task table, and are read from there every time they are used: a permission check reads the fs uid from
// RAM, so a program that rewrites its own record (possible only unverified at CPL 0) really changes who it is.
// The TypeScript side holds what the guest cannot address: open files, the fs context, the address space's frame
// list, argv for tal_args.

import type { Memory } from '../emulator/memory.ts';
import type { Cred } from './fs/permission.ts';
import type { FsContext } from './fs/namei.ts';
import type { FdTable } from './fdtable.ts';
import type { AddressSpace } from './mm.ts';

/** Byte offsets in a task_struct (all 32-bit words). */
export const T = {
  PID: 0, PPID: 4, STATE: 8, FLAGS: 12,
  UID: 16, EUID: 20, SUID: 24, FSUID: 28, GID: 32, EGID: 36, SGID: 40, FSGID: 44,
  /** thread.sp: the saved kernel esp (pointing at a return address) while the task is switched out. */
  SP: 48,
  /** The page directory (physical) the kernel runs this task on; under PTI the user one is CR3 | 0x1000. */
  CR3: 52,
  /** Top of the kernel stack (TSS.esp0 while the task runs). */
  ESP0: 56,
  /** A fatal signal waiting for the task to leave the kernel (all signals have their default actions), or 0. */
  PENDING: 60,
  /** The wait status once the task is a zombie (exit code << 8, or the signal). */
  EXIT: 64,
  NGROUPS: 68, GROUPS: 72,
} as const;
export const NGROUPS_MAX = 16;
export const TASK_STRUCT_SIZE = 256;

// STATE values.
export const TASK_UNUSED = 0, TASK_RUNNING = 1, TASK_INTERRUPTIBLE = 2, TASK_ZOMBIE = 3;
// FLAGS bits.
/** The task runs verified code at CPL 0 (talrun --kernel). */
export const PF_KTAL = 1;
/** The idle task. */
export const PF_IDLE = 2;
/** Reschedule at the next opportunity. */
export const TIF_NEED_RESCHED = 4;

/** Credentials read from the task_struct in RAM on every use (through its task, which may have ended). */
export class RamCred implements Cred {
  constructor(private readonly task: Task) {}
  private w(off: number): number { return this.task.get(off) >>> 0; }
  get uid(): number { return this.w(T.UID); }
  get gid(): number { return this.w(T.GID); }
  get euid(): number { return this.w(T.EUID); }
  get egid(): number { return this.w(T.EGID); }
  get fsuid(): number { return this.w(T.FSUID); }
  get fsgid(): number { return this.w(T.FSGID); }
  get groups(): readonly number[] {
    const n = Math.min(this.w(T.NGROUPS), NGROUPS_MAX);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.w(T.GROUPS + 4 * i));
    return out;
  }
}

export interface TaskInit {
  pid: number;
  ppid: number;
  uid: number;
  gid: number;
  groups: readonly number[];
  flags: number;
}

/** A process: its record in RAM and the kernel's private state about it. */
export class Task {
  /** Kernel virtual address of the task_struct. */
  readonly addr: number;
  readonly cred: RamCred;
  /** The command name (argv[0]'s last component), for messages. */
  comm = '';
  argv: string[] = [];
  mm: AddressSpace | undefined;
  fs!: FsContext;
  files!: FdTable;
  /** The program break: [brkStart, brk) is the heap. */
  brkStart = 0;
  brk = 0;
  /** Lowest address the user stack may grow down to. */
  stackLimit = 0;
  /** Kernel-mode allocator for tal_alloc and friends: [heapCur, heapEnd) is free heap. */
  heapCur = 0;
  heapEnd = 0;
  /** Kernel stack: physical base of its pages (the lowest is an unmapped guard) and their number. */
  kstackPhys = 0;
  kstackPages = 0;
  /** Wakes the task when it sleeps (set by the sleeper; cleared on wakeup). */
  wakeAt = Infinity;
  /** nanosleep's and poll's deadline across their restarts (simulated ns since boot), or -1. */
  sleepUntil = -1;
  /** Bytes a blocking socket write has sent before it slept (it continues from there when restarted). */
  ioProgress = 0;
  /** Why the task ended, in words (the fault behind a signal). */
  fault: string | undefined;
  /** System calls by number, for --stats. */
  readonly syscalls = new Map<number, number>();

  constructor(private readonly mem: Memory, readonly phys: number, kernelVirt: number, init: TaskInit) {
    this.addr = kernelVirt;
    this.cred = new RamCred(this);
    mem.zero(phys, TASK_STRUCT_SIZE);
    this.set(T.PID, init.pid);
    this.set(T.PPID, init.ppid);
    this.set(T.FLAGS, init.flags);
    for (const o of [T.UID, T.EUID, T.SUID, T.FSUID]) this.set(o, init.uid);
    for (const o of [T.GID, T.EGID, T.SGID, T.FSGID]) this.set(o, init.gid);
    const groups = init.groups.slice(0, NGROUPS_MAX);
    this.set(T.NGROUPS, groups.length);
    groups.forEach((g, i) => this.set(T.GROUPS + 4 * i, g));
  }

  /**
   * Once the task has ended and its slot in the task table is free, its record is a copy: the slot may hold another
   * task by now, and a stale reference (a wait-queue entry, a host callback) must not read or change that one.
   */
  private detached: Int32Array | undefined;

  get(off: number): number { return this.detached ? this.detached[off >> 2] : this.mem.read32(this.phys + off); }
  set(off: number, v: number): void {
    if (this.detached) this.detached[off >> 2] = v | 0;
    else this.mem.write32(this.phys + off, v | 0);
  }

  /** Give the task-table slot back: from now on the record lives in a private copy. */
  detach(): void {
    if (this.detached) return;
    const copy = new Int32Array(TASK_STRUCT_SIZE / 4);
    for (let i = 0; i < copy.length; i++) copy[i] = this.mem.read32(this.phys + 4 * i);
    this.detached = copy;
  }

  get pid(): number { return this.get(T.PID); }
  get ppid(): number { return this.get(T.PPID); }
  get state(): number { return this.get(T.STATE); }
  set state(s: number) { this.set(T.STATE, s); }
  get flags(): number { return this.get(T.FLAGS); }
  get kernelMode(): boolean { return (this.flags & PF_KTAL) !== 0; }
  get isIdle(): boolean { return (this.flags & PF_IDLE) !== 0; }
  get pending(): number { return this.get(T.PENDING) >>> 0; }
  set pending(v: number) { this.set(T.PENDING, v); }
}
