// New processes (Linux: kernel/fork.c's copy_process and alloc_task_struct, fs/exec.c and fs/binfmt_elf.c for the
// program it runs): a slot in the task table in RAM, a kernel stack with a guard page, credentials, the console on
// descriptors 0-2, an address space, the program loaded (the checker first, in kernel mode), and a first frame on
// its stack that "returns" into restore_all, whose iret starts the program. There is no fork(2): the host starts
// every process, as talrun's command line asks.

import type { BareSystem } from './arch/bare.ts';
import { KERNEL_CS, KERNEL_DS, USER_CS, USER_DS, PAGE_OFFSET, PAGE_SIZE } from './arch/layout.ts';
import type { Memory } from '../emulator/memory.ts';
import type { Kernel, SpawnOptions } from './kernel.ts';
import { lookupPath } from './fs/namei.ts';
import { ROOT } from './fs/permission.ts';
import { FdTable } from './fdtable.ts';
import { EAGAIN, errnoName } from './errno.ts';
import { AddressSpace } from './mm.ts';
import { T, Task, TASK_STRUCT_SIZE, PF_KTAL, type TaskInit } from './task.ts';
import { firstFrame } from './switch.ts';
import { loadProgram, ExecError, type LoadedProgram } from './exec/loader.ts';

export const NR_TASKS = 64;
const KSTACK_PAGES = 2; // plus an unmapped guard page below
const FIRST_PID = 100;

/** The task table in RAM: NR_TASKS task_structs, and which slot holds which task. */
export class TaskTable {
  private readonly slots: (Task | undefined)[] = new Array(NR_TASKS).fill(undefined);
  private nextPid = FIRST_PID;

  /** `base` is the table's physical address (mapped at PAGE_OFFSET + base, System.map's task_table). */
  constructor(private readonly mem: Memory, private readonly bare: BareSystem, readonly base: number) {}

  /** A pid for the next process (they are not reused). */
  allocPid(): number { return this.nextPid++; }

  /** A task in a free slot, with its kernel stack: the guard page (unmapped from the direct map), then the stack. */
  create(init: TaskInit): Task {
    const slot = this.slots.indexOf(undefined);
    if (slot < 0) throw new ExecError('too many processes', EAGAIN); // as fork(2) fails
    const phys = this.base + slot * TASK_STRUCT_SIZE;
    const t = new Task(this.mem, phys, PAGE_OFFSET + phys, init);
    this.slots[slot] = t;
    const base = this.bare.allocLow((KSTACK_PAGES + 1) * PAGE_SIZE);
    this.bare.unmap(PAGE_OFFSET + base);
    t.kstackPhys = base + PAGE_SIZE;
    t.kstackPages = KSTACK_PAGES;
    const top = PAGE_OFFSET + base + (KSTACK_PAGES + 1) * PAGE_SIZE;
    t.set(T.ESP0, top);
    t.set(T.SP, top);
    return t;
  }

  /** Free a task's slot; its record becomes its own copy (Task.detach). */
  release(t: Task): void {
    const slot = this.slots.indexOf(t);
    if (slot >= 0) this.slots[slot] = undefined;
    t.detach();
  }

  /** Push words on a task's kernel stack (it is not running), the first on top; updates its saved esp. */
  pushFrame(t: Task, words: number[]): void {
    let sp = t.get(T.SP) >>> 0;
    for (let i = words.length - 1; i >= 0; i--) {
      sp -= 4;
      this.mem.write32(sp - PAGE_OFFSET, words[i]);
    }
    t.set(T.SP, sp);
  }
}

/**
 * Start a program as a new process (execve of a fresh process). Throws ExecError (with the message talrun prints
 * and the shell-like status) when the file cannot run: not an ELF, refused by the checker, too large.
 */
export function spawn(k: Kernel, image: Uint8Array, opts: SpawnOptions): Task {
  const uid = opts.uid ?? 0, gid = opts.gid ?? uid;
  const kernelMode = opts.kernelMode ?? false;
  let cwd;
  if (opts.cwd) {
    cwd = lookupPath(k.vfs.context(ROOT), undefined, opts.cwd, { directory: true });
    if (typeof cwd === 'number') throw new ExecError(`${opts.cwd}: ${errnoName(cwd)} (the working directory)`, 2);
  }
  const t = k.tasks.create({
    pid: k.tasks.allocPid(), ppid: 1, uid, gid, groups: opts.groups ?? [gid], flags: kernelMode ? PF_KTAL : 0,
  });
  const filename = opts.filename ?? opts.argv[0] ?? '';
  t.comm = (filename.split('/').pop() ?? filename).slice(0, 15);
  t.argv = opts.argv;
  t.fs = k.vfs.context(t.cred);
  t.fs.work = k.work;
  if (cwd) t.fs.cwd = cwd;
  t.files = new FdTable();
  for (const f of k.vfs.consoleFiles()) t.files.alloc(f);
  const pti = { pages: k.entryAreaPages, pdes: k.entryAreaPdes };
  t.mm = new AddressSpace(k.bare, k.frames, k.pti && !kernelMode
    ? { pti, kernelStack: { phys: t.kstackPhys, pages: t.kstackPages } } : {});
  t.set(T.CR3, t.mm.pd);
  let prog: LoadedProgram;
  try {
    prog = loadProgram(k, t, image, {
      argv: opts.argv, envp: opts.envp ?? [], filename, kernelMode, verify: opts.verify ?? true,
      kernelModeStack: opts.kernelModeStack ?? (1 << 20),
    });
  } catch (e) {
    t.mm.destroy();
    t.files.closeAll();
    k.tasks.release(t);
    throw e;
  }
  const restoreAll = k.entry.at.get('restore_all')!;
  if (kernelMode) {
    // The first switch to it "returns" to restore_all, which irets (CPL 0 to CPL 0: eip, cs, eflags) to main.
    const frame = [...firstFrame(restoreAll), 0, 0, 0, 0, 0, 0, 0, KERNEL_DS, KERNEL_DS, 0, 0, -1, prog.entry,
      KERNEL_CS, 0x202];
    const sp = prog.sp - 4 * frame.length;
    t.mm.poke(sp, new Uint8Array(Int32Array.from(frame).buffer));
    t.set(T.SP, sp);
  } else {
    k.tasks.pushFrame(t, [...firstFrame(restoreAll), 0, 0, 0, 0, 0, 0, 0, USER_DS, USER_DS, 0, 0, -1, prog.entry,
      USER_CS, 0x202, prog.sp, USER_DS]);
  }
  k.sched.enqueue(t);
  return t;
}
