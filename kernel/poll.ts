// Wait queues and poll masks: how a file says whether it is ready and what to sleep on (Linux: include/linux/wait.h,
// include/linux/poll.h, include/uapi/asm-generic/poll.h). A file's operations give `poll` (fs/file.ts FileOps), as
// Linux's f_op->poll does: the mask it would report now and, to a caller that will sleep, the wait queues woken
// when that may change. Blocking read, poll(2) and the scheduler need nothing else to know about a file: the
// console, sockets and any later device look the same to them.

export const POLLIN = 1, POLLPRI = 2, POLLOUT = 4, POLLERR = 8, POLLHUP = 16, POLLNVAL = 32, POLLRDHUP = 0x2000;

/**
 * Callbacks waiting for something to change (a wait_queue_head). Each is called once. A waiter added under a key
 * (a task) replaces that key's earlier one, so a queue holds at most one entry per sleeper however often it sleeps.
 */
export class WaitQueue {
  private waiters = new Map<unknown, () => void>();
  add(f: () => void, key: unknown = f): void { this.waiters.set(key, f); }
  /** How many wait. */
  get size(): number { return this.waiters.size; }
  wake(): void {
    if (this.waiters.size === 0) return;
    const w = this.waiters;
    this.waiters = new Map();
    for (const f of w.values()) f();
  }
}

/** poll_wait: a poll method hands the caller each queue it would sleep on (undefined: the caller will not sleep). */
export type PollWait = ((wq: WaitQueue) => void) | undefined;
