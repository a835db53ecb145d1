// How processes end (Linux: kernel/exit.c's do_exit, kernel/signal.c's delivery of a default action): a task ends
// with a status as a shell reports it, its files and memory are released at once, and its task-table slot is freed
// (its record lives on as a private copy, so a stale reference cannot touch the slot's next owner). There are no
// signal handlers: a signal with a fatal default action ends the task, at once if it is off the CPU, else when it
// next leaves a kernel function (at the latest at the next timer tick).

import type { Kernel } from './kernel.ts';
import { T, type Task, TASK_ZOMBIE } from './task.ts';
import { isFatalByDefault, signalName, SIGINT, SIGKILL } from './signal.ts';

/** do_exit: release everything, keep the status (`code`, or the signal `sig` and what went wrong). */
export function doExit(k: Kernel, t: Task, code: number, sig = 0, fault?: string): void {
  if (t.state === TASK_ZOMBIE || t.isIdle) return;
  t.state = TASK_ZOMBIE;
  t.set(T.EXIT, sig ? sig : (code & 0xff) << 8);
  t.fault = fault;
  t.files.closeAll();
  t.mm?.destroy();
  k.sched.dequeue(t);
  k.exits.set(t.pid, {
    pid: t.pid, status: sig ? 128 + sig : code & 0xff, signal: sig ? signalName(sig) : null,
    ...(fault ? { fault } : {}),
  });
  k.tasks.release(t);
  if (t.pid === k.mainPid && k.sched.tasks.length > 0) k.machine.cpu.stop('main exited');
}

/**
 * Send `sig` to `t` with its default action: a fatal one ends it, at once if it is not running, else when it next
 * leaves a kernel function. Signal 0 and the signals ignored by default do nothing.
 */
export function sendSignal(k: Kernel, t: Task, sig: number): void {
  if (sig === 0 || !isFatalByDefault(sig) || t.state === TASK_ZOMBIE) return;
  if (t === k.sched.current) { if (t.pending === 0) t.pending = sig; }
  else doExit(k, t, 0, sig);
}

/** End every process with SIGKILL (a panic, a power-off), saying why. */
export function killAll(k: Kernel, fault: string): void {
  for (const t of [...k.sched.tasks]) doExit(k, t, 0, SIGKILL, fault);
}

/** Ctrl-C on the console: SIGINT to every process (they all share talrun's terminal). */
export function interruptAll(k: Kernel): void {
  for (const t of [...k.sched.tasks]) sendSignal(k, t, SIGINT);
}
