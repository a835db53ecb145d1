// Traps and faults (Linux: arch/x86/kernel/traps.c, arch/x86/mm/fault.c's user-stack growth, kernel/panic.c): the
// entry code hands every exception to `doTrap` with the vector and the pt_regs it saved; the double fault comes
// through its task gate to `doDoubleFault` on its own stack. A fault in a program ends it with the signal Linux
// sends; a fault in the kernel's own code (possible only when an unverified CPL 0 program has broken it) is a panic.

import type { KernelContext } from '../emulator/kfuncs.ts';
import { VECTOR_NAMES, Vec } from '../emulator/exceptions.ts';
import { TSS_CR3, TSS_EIP, TSS_EFLAGS, TSS_EAX, TSS_ES } from '../emulator/tasks.ts';
import type { Kernel } from './kernel.ts';
import { PT } from './entry.ts';
import { OutOfMemory } from './mm.ts';
import { KERNEL_CS, KERNEL_DS, PAGE_SIZE, TASK_SIZE } from './arch/layout.ts';
import { T, type Task } from './task.ts';
import { loadRegisters } from './switch.ts';
import { doExit, killAll } from './exit.ts';
import { SIGBUS, SIGFPE, SIGILL, SIGKILL, SIGSEGV, SIGTRAP } from './signal.ts';

/** An exception from a program (or the kernel): the user stack grows, or the task gets its signal, or panic. */
export function doTrap(k: Kernel, ctx: KernelContext, t: Task): void {
  const vector = ctx.arg(0);
  const regs = (ctx.reg(4) + 8) | 0;
  const eip = ctx.read32(regs + PT.EIP) >>> 0, cs = ctx.read32(regs + PT.CS), error = ctx.read32(regs + PT.ORIG_EAX);
  const cr2 = k.machine.mmu.cr2 >>> 0;
  const what = describeFault(vector, error, eip, cr2);
  const fromUser = (cs & 3) === 3;
  const programAtCpl0 = !fromUser && t.kernelMode && eip < TASK_SIZE;
  if (!fromUser && !programAtCpl0) return panic(k, ctx, `fault in the kernel: ${what} (task ${t.pid} ${t.comm})`);
  if (fromUser && vector === Vec.PF && (error & 1) === 0 && cr2 >= t.stackLimit && cr2 < TASK_SIZE && t.mm) {
    try {
      t.mm.mapFresh(cr2 - (cr2 % PAGE_SIZE), { writable: true }); // the stack grows on demand
      return;
    } catch (e) {
      if (!(e instanceof OutOfMemory)) throw e;
      doExit(k, t, 0, SIGKILL, 'out of memory');
      return;
    }
  }
  const sig = vector === Vec.DE ? SIGFPE : vector === Vec.UD ? SIGILL : vector === Vec.BP || vector === Vec.DB ? SIGTRAP
    : vector === Vec.AC ? SIGBUS : SIGSEGV;
  doExit(k, t, 0, sig, what);
}

/**
 * The double-fault task. At CPL 0 a program whose stack is unusable cannot take a fault (the CPU cannot push the
 * frame), so the CPU switches here through the task gate. If the faulting task is a kernel-mode program, it is
 * the program's own stack: the task dies with SIGSEGV and the main TSS is rewritten to resume the next task (the
 * iret that follows switches back to it) with its whole saved context. Otherwise the kernel itself is broken: panic.
 */
export function doDoubleFault(k: Kernel, ctx: KernelContext): void {
  const mem = k.machine.mem, tss = k.bare.tss, sched = k.sched, t = sched.current;
  const eip = mem.read32(tss + TSS_EIP) >>> 0, esp = mem.read32(tss + TSS_EAX + 16) >>> 0;
  const where = `eip 0x${eip.toString(16)}, esp 0x${esp.toString(16)}`;
  if (!t.kernelMode || esp >= TASK_SIZE) {
    return panic(k, ctx, `double fault in the kernel at ${where} (task ${t.pid} ${t.comm})`);
  }
  doExit(k, t, 0, SIGSEGV, `double fault: the kernel-mode stack is exhausted (${where})`);
  // The iret back to the main TSS loads every register from it: write the next task's whole saved context there.
  const next = sched.pickNext(t);
  const c = sched.savedContext(next);
  mem.write32(tss + TSS_CR3, next.get(T.CR3));
  mem.write32(tss + TSS_EIP, c.eip);
  mem.write32(tss + TSS_EFLAGS, k.reintroduced.has('switch-drops-eflags') ? 0x2 : c.eflags);
  mem.write32(tss + TSS_EAX + 16, c.esp);
  if (!k.reintroduced.has('switch-drops-registers')) {
    loadRegisters(c, (r, v) => { if (r !== 4) mem.write32(tss + TSS_EAX + 4 * r, v); });
  }
  const segs = [KERNEL_DS, KERNEL_CS, KERNEL_DS, KERNEL_DS, 0, 0];
  segs.forEach((s, i) => mem.write32(tss + TSS_ES + 4 * i, s));
  sched.makeCurrent(next, false);
  if (next === sched.idle && sched.tasks.length === 0) ctx.stop('done');
}

/** The kernel cannot go on: every process is killed and the machine stops. */
export function panic(k: Kernel, ctx: KernelContext, message: string): void {
  k.panicMessage = message;
  killAll(k, `kernel panic: ${message}`);
  ctx.stop(`panic: ${message}`);
}

function describeFault(vector: number, error: number, eip: number, cr2: number): string {
  const code = error ? ` (error 0x${(error >>> 0).toString(16)})` : '';
  const at = vector === Vec.PF ? `, cr2 0x${cr2.toString(16)}` : '';
  return `${VECTOR_NAMES[vector] ?? `vector ${vector}`}${code} at eip 0x${eip.toString(16)}${at}`;
}
