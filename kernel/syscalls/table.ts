// The system-call table (Linux: arch/x86/entry/syscalls/syscall_32.tbl and the sys_call_table it generates): one
// map from number to implementation, all of one signature (syscalls/types.ts), shared by both ways in. The int 0x80
// path reaches it through `sys_call_table` in guest RAM, an array of kernel-function addresses the entry code calls
// through; the kernel-mode interface (ktal.ts) through `invokeSyscall`. Every call is counted and charged its
// dispatch here, whichever way it came.
//
// read and write are the file system's, with what Linux's f_op adds: a read that would block sleeps on the queues
// the file's poll method names (the console, a socket) unless the file is non-blocking, and a write to a socket is
// the socket's send (sock_write_iter). No file type is special-cased anywhere else.

import type { Kernel } from '../kernel.ts';
import type { Task } from '../task.ts';
import { EAGAIN, ENOSYS } from '../errno.ts';
import { O_NONBLOCK } from '../fs/fcntl.ts';
import type { WaitQueue } from '../poll.ts';
import { PT } from '../entry.ts';
import { contextUserMemory, type UserMemory } from './usermem.ts';
import { FILE_SYSCALLS, sys_read, sys_write, type FileSyscall } from './files.ts';
import { PROC_SYSCALLS } from './proc.ts';
import { NET_SYSCALLS, sockWrite } from './net.ts';
import { SYS, NR_SYSCALLS, syscallName } from './numbers.ts';
import type { Syscall, SysResult } from './types.ts';

/** A file system call, which needs only the task and its memory, as a system call. */
const fileCall = (fn: FileSyscall): Syscall => (_k, t, user, ...args) => fn(t, user, ...args);

/** read(2): the file's read; if it would block and the file may block, sleep on its poll queues and read again. */
function read(k: Kernel, t: Task, user: UserMemory, fd: number, buf: number, count: number): SysResult {
  const r = sys_read(t, user, fd, buf, count);
  if (r !== -EAGAIN) return r;
  const file = t.files.get(fd);
  if (!file || (file.flags & O_NONBLOCK) || !file.fops.poll) return r;
  const queues: WaitQueue[] = [];
  file.fops.poll(file, q => queues.push(q));
  return k.sched.sleepOn(t, queues);
}

/** write(2): a socket's send, or the file's write. */
function write(k: Kernel, t: Task, user: UserMemory, fd: number, buf: number, count: number): SysResult {
  const file = t.files.get(fd >>> 0 > 0x7fffffff ? -1 : fd);
  return file && k.net.isSocket(file) ? sockWrite(k, t, user, file, buf, count, 0) : sys_write(t, user, fd, buf, count);
}

/** Every implemented system call by number. */
export const SYSCALLS: ReadonlyMap<number, Syscall> = new Map<number, Syscall>([
  ...[...FILE_SYSCALLS].map(([nr, fn]): [number, Syscall] => [nr, fileCall(fn)]),
  ...PROC_SYSCALLS,
  ...NET_SYSCALLS,
  [SYS.read, read],
  [SYS.write, write],
]);

/** Run system call `nr` for `t` (both paths come here). */
export function invokeSyscall(k: Kernel, t: Task, user: UserMemory, nr: number, args: number[]): SysResult {
  countSyscall(k, t, nr);
  const fn = SYSCALLS.get(nr);
  if (!fn) return -ENOSYS;
  return fn(k, t, user, ...args);
}

/** A system call made: counted (per task and in all), and charged its dispatch (kernel/work.ts). */
export function countSyscall(k: Kernel, t: Task, nr: number): void {
  k.work.charge('syscall');
  t.syscalls.set(nr, (t.syscalls.get(nr) ?? 0) + 1);
  k.syscallCounts.set(nr, (k.syscallCounts.get(nr) ?? 0) + 1);
}

/**
 * Fill `sys_call_table` (NR_SYSCALLS words at physical `table`): every implemented call is a kernel function
 * `sys_<name>` taking its arguments from the stack (cdecl, as the entry code pushes them in pt_regs), the rest
 * `sys_ni_syscall` (-ENOSYS, counted). Returns sys_ni_syscall's address, which the entry code calls for a number
 * past the table.
 */
export function installSyscallTable(k: Kernel, table: number): number {
  const mem = k.machine.mem;
  const ni = k.kfunc('sys_ni_syscall', (ctx, t) => {
    countSyscall(k, t, ctx.read32(ctx.reg(4) + 4 + PT.ORIG_EAX));
    return -ENOSYS;
  });
  for (let nr = 0; nr < NR_SYSCALLS; nr++) mem.write32(table + 4 * nr, ni);
  for (const nr of SYSCALLS.keys()) {
    if (nr >= NR_SYSCALLS) continue;
    const addr = k.kfunc(`sys_${syscallName(nr)}`, (ctx, t) => {
      const a = [0, 1, 2, 3, 4, 5].map(i => ctx.arg(i));
      return invokeSyscall(k, t, contextUserMemory(ctx, k.work), nr, a);
    });
    mem.write32(table + 4 * nr, addr);
    k.symbols.set(`sys_${syscallName(nr)}`, addr);
  }
  return ni;
}
