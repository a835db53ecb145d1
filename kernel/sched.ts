// The scheduler (Linux: kernel/sched/core.c's schedule(), wake_up_process() and scheduler_tick(), with
// arch/x86's switch_to): the live tasks in pid order, the one running, round-robin choice of the next, sleeping on
// wait queues and waking, the timer tick, and the switch itself, which keeps a task's whole context
// (kernel/switch.ts) whichever way it leaves the CPU and comes back.
//
// Every switch happens inside a kernel function, on its way out (`leave`): the task sleeps (the function returned
// BLOCK and is called again, with the same arguments, when the task runs next), it has ended, a fatal signal waits
// for it, or the timer asked for a reschedule. The only other switches are the first one out of the idle loop
// (`leaveIdle`, when the host resumes a resting machine) and the double-fault task's (kernel/traps.ts), which
// writes the next task's saved context into the TSS it returns to.

import type { KernelContext } from '../emulator/kfuncs.ts';
import { GuestFault } from '../emulator/exceptions.ts';
import { TSS_ESP0 } from '../emulator/tasks.ts';
import type { Kernel, KnownFault } from './kernel.ts';
import { PAGE_OFFSET, TASK_SIZE } from './arch/layout.ts';
import { T, Task, TASK_RUNNING, TASK_INTERRUPTIBLE, TIF_NEED_RESCHED } from './task.ts';
import { SWITCH_FRAME_SIZE, loadRegisters, readFrame, saveWords, type SavedContext } from './switch.ts';
import { doExit } from './exit.ts';
import { SIGSEGV } from './signal.ts';
import { BLOCK, type SysResult } from './syscalls/types.ts';
import type { WaitQueue } from './poll.ts';

/** Why the machine rests: every process has ended, or only the host can change anything. */
export type RestReason = 'done' | 'idle';

export class Scheduler {
  /** Live (not yet reaped) processes in pid order. */
  readonly tasks: Task[] = [];
  /** The task on the CPU (`current_task` in RAM names it too). */
  current!: Task;
  /** The idle task (pid 0), which runs when no process can. */
  idle!: Task;

  constructor(private readonly k: Kernel) {}

  /** KernelOptions.reintroduce: the old switch_to faults, put back only for the attack suite. */
  private get faults(): ReadonlySet<KnownFault> { return this.k.reintroduced; }

  /** The way out of every kernel function: sleep, die, or be rescheduled, as the task's state now says. */
  leave(ctx: KernelContext, t: Task, r: SysResult | void, self: number): number | void {
    if (this.k.machine.cpu.status !== 'running') return typeof r === 'number' ? r : undefined;
    // Sleeping: the task calls this function again, with the same arguments, when it runs next.
    if (r === BLOCK) return this.switchTo(ctx, this.pickNext(t), [self], 'while sleeping');
    if (t.state !== TASK_RUNNING) return this.switchTo(ctx, this.pickNext(t), null);
    if (t.pending) {
      doExit(this.k, t, 0, t.pending);
      return this.switchTo(ctx, this.pickNext(t), null);
    }
    if (t.flags & TIF_NEED_RESCHED) {
      t.set(T.FLAGS, t.flags & ~TIF_NEED_RESCHED);
      const next = this.pickNext(t);
      if (next !== t) {
        // Preempted with a result: the task resumes at `pop eax; ret`, which hands it the result.
        const words = typeof r === 'number' ? [this.k.entry.at.get('pop_eax_ret')!, r] : [];
        return this.switchTo(ctx, next, words, 'while being preempted');
      }
    }
    return typeof r === 'number' ? r : undefined;
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
      if (pushOnStack(ctx, [...saveWords(ctx.eflags(), r => ctx.reg(r)), ...resume])) {
        prev.set(T.SP, ctx.reg(4));
      } else {
        doExit(this.k, prev, 0, SIGSEGV, `stack overflow ${when}`);
        next = this.pickNext(prev);
      }
    }
    this.makeCurrent(next, true);
    const c = readFrame(next.get(T.SP), a => ctx.read32(a));
    if (!this.faults.has('switch-drops-registers')) loadRegisters(c, (r, v) => ctx.setReg(r, v));
    if (!this.faults.has('switch-drops-eflags')) ctx.setEflags(c.eflags);
    ctx.setReg(4, c.esp);
    ctx.jump(c.eip);
    if (next === this.idle) {
      const rest = this.restReason();
      if (rest) ctx.stop(rest);
    }
  }

  /**
   * If the CPU rests in the idle loop and a process can run, switch to it now rather than at the next tick (as
   * wake_up_new_task's preemption check does), so a run's cycles start with the program.
   */
  leaveIdle(): void {
    const cpu = this.k.machine.cpu, mem = this.k.machine.mem, idleAt = this.k.entry.at.get('idle')!;
    const inIdleLoop = cpu.cpl === 0 && ((cpu.eip - idleAt) >>> 0) < 4;
    if (this.current !== this.idle || !inIdleLoop) return;
    const next = this.pickNext(this.idle);
    if (next === this.idle) return;
    // As switch_to from the idle loop: idle resumes at its loop later, with its context saved like any task's.
    const words = [...saveWords(cpu.eflags(), r => cpu.regs[r]), idleAt];
    const sp = (cpu.regs[4] - 4 * words.length) >>> 0;
    words.forEach((w, i) => mem.write32(sp + 4 * i - PAGE_OFFSET, w));
    this.idle.set(T.SP, sp);
    this.idle.set(T.FLAGS, this.idle.flags & ~TIF_NEED_RESCHED);
    this.makeCurrent(next, true);
    const c = this.savedContext(next);
    if (!this.faults.has('switch-drops-registers')) loadRegisters(c, (r, v) => cpu.setRegister(r, v));
    if (!this.faults.has('switch-drops-eflags')) cpu.loadEflags(c.eflags);
    cpu.resumeAt(c.eip, c.esp);
  }

  /**
   * A switched-out task's saved context, read with the kernel's authority outside any kernel function: through the
   * task's own address space (a kernel-mode program's stack) or the direct map (a kernel stack).
   */
  savedContext(t: Task): SavedContext {
    const sp = t.get(T.SP) >>> 0;
    if (sp < TASK_SIZE) {
      const bytes = t.mm ? t.mm.peek(sp, SWITCH_FRAME_SIZE) : new Uint8Array(SWITCH_FRAME_SIZE);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return readFrame(sp, a => view.getInt32((a - sp) >>> 0, true));
    }
    return readFrame(sp, a => this.k.machine.mem.read32((a >>> 0) - PAGE_OFFSET));
  }

  /**
   * With nothing to run: 'done' if no process is left, 'idle' if only the host can change that (no sleeper has a
   * deadline, or connections from outside may come), null if a sleeper's timer will (the CPU then idles until the
   * next tick).
   */
  restReason(): RestReason | null {
    if (this.tasks.length === 0) return 'done';
    if (!this.tasks.every(x => x.state === TASK_INTERRUPTIBLE)) return null;
    const timed = this.tasks.some(x => x.wakeAt < Infinity);
    return !timed || this.k.hostSources > 0 ? 'idle' : null;
  }

  /**
   * `next` becomes the current task: TSS.esp0 and `current_task` name it, and (with `loadCr3`) its page directory
   * is loaded and charged as a CR3 write, unless it is loaded already. The double-fault handler passes false: the
   * CPU loads CR3 from the TSS it returns to.
   */
  makeCurrent(next: Task, loadCr3: boolean): void {
    const m = this.k.machine, cpu = m.cpu;
    const cr3 = next.get(T.CR3);
    if (next !== this.current) this.k.work.charge('contextSwitch');
    if (loadCr3 && (m.mmu.cr3 >>> 0) !== (cr3 >>> 0)) {
      cpu.loadCr3(cr3);
    }
    m.mem.write32(this.k.bare.tss + TSS_ESP0, next.get(T.ESP0));
    this.k.setCurrentTask(next);
    this.current = next;
  }

  /** Round robin: the next runnable task after `prev`, else `prev` if it can run, else idle. */
  pickNext(prev: Task): Task {
    const q = this.tasks, i = q.indexOf(prev);
    for (let k = 1; k <= q.length; k++) {
      const cand = q[(i + k + q.length) % q.length];
      if (cand.state === TASK_RUNNING && cand !== prev) return cand;
    }
    if (prev.state === TASK_RUNNING && !prev.isIdle) return prev;
    return this.idle;
  }

  /** A new process joins the run queue (wake_up_new_task); the idle task is asked to give way. */
  enqueue(t: Task): void {
    t.state = TASK_RUNNING;
    this.tasks.push(t);
    this.tasks.sort((a, b) => a.pid - b.pid);
    if (this.current === this.idle) this.current.set(T.FLAGS, this.current.flags | TIF_NEED_RESCHED);
  }

  /** An ended process leaves it. */
  dequeue(t: Task): void {
    const i = this.tasks.indexOf(t);
    if (i >= 0) this.tasks.splice(i, 1);
  }

  /** Sleep until one of the queues is woken (or the deadline, in simulated ns, passes); the call then restarts. */
  sleepOn(t: Task, queues: WaitQueue[], deadline = Infinity): typeof BLOCK {
    t.state = TASK_INTERRUPTIBLE;
    t.wakeAt = deadline;
    for (const q of queues) q.add(() => this.wake(t), t); // one entry per task per queue, however often it sleeps
    return BLOCK;
  }

  /** wake_up_process: a sleeping task becomes runnable. */
  wake(t: Task): void {
    if (t.state === TASK_INTERRUPTIBLE) {
      t.state = TASK_RUNNING;
      t.wakeAt = Infinity;
    }
  }

  /**
   * scheduler_tick, from the timer interrupt: sleepers whose time has come wake, and the running task is marked for
   * rescheduling if another can run. The idle task's tick with nothing to wake returns the machine to the host
   * rather than tick on, if only the host can help.
   */
  tick(t: Task, now: number): void {
    for (const x of this.tasks) if (x.state === TASK_INTERRUPTIBLE && x.wakeAt <= now) this.wake(x);
    if (this.tasks.some(x => x !== t && x.state === TASK_RUNNING)) t.set(T.FLAGS, t.flags | TIF_NEED_RESCHED);
    else if (t === this.idle) {
      const rest = this.restReason();
      if (rest) this.k.machine.cpu.stop(rest);
    }
  }
}

/** Push words (the first ends on top) on the current stack; false if the stack cannot take them. */
function pushOnStack(ctx: KernelContext, words: number[]): boolean {
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
