// What every system call's implementation is and returns, shared by the system-call table, the implementations
// (files, processes, sockets) and the kernel-mode interface, so that none of them imports the kernel that calls
// them (Linux keeps the equivalent in include/linux/syscalls.h: one signature, asmlinkage long sys_*(…)).

import type { Kernel } from '../kernel.ts';
import type { Task } from '../task.ts';
import type { UserMemory } from './usermem.ts';

/**
 * The task must sleep: the call is made again, with the same arguments, when the task is woken (the restart Linux
 * does with -ERESTARTSYS, done here by calling the same kernel function again).
 */
export const BLOCK = Symbol('block');
/** A result (or -errno), or BLOCK. */
export type SysResult = number | typeof BLOCK;
/** One system call's implementation: the same function serves the int 0x80 path and the kernel-mode path. */
export type Syscall = (k: Kernel, t: Task, user: UserMemory, ...args: number[]) => SysResult;
