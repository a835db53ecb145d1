// Process, identity and time system calls (kernel/exit.c, kernel/sys.c, kernel/signal.c, mm/mmap.c's brk,
// kernel/time/): Linux i386 argument conventions, each `(kernel, task, user memory, ebx, ecx, edx, ...)`.

import { doExit, sendSignal } from '../exit.ts';
import type { Kernel } from '../kernel.ts';
import { BLOCK, type Syscall } from './types.ts';
import type { Task } from '../task.ts';
import { T, TASK_INTERRUPTIBLE } from '../task.ts';
import { EFAULT, EINVAL, EPERM, ESRCH } from '../errno.ts';
import { OutOfMemory } from '../mm.ts';
import { PAGE_SIZE, pageUp } from '../arch/layout.ts';
import { NSIG } from '../signal.ts';
import { SYS } from './numbers.ts';

/** old_uid_t: the 16-bit calls report ids above 65535 as the overflow id (/proc/sys/kernel/overflowuid). */
const OVERFLOW_ID = 65534;
const high2low = (id: number): number => (id > 0xffff ? OVERFLOW_ID : id);

/** struct new_utsname: six fields of __NEW_UTS_LEN + 1 = 65 bytes. */
export const UTS_FIELD = 65;
export const UTSNAME = {
  sysname: 'Linux', nodename: 'ktal', release: '6.1.0-ktal', version: '#1 SMP PREEMPT ktal', machine: 'i686',
  domainname: '(none)',
};

const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3;
const CLOCK_MONOTONIC_RAW = 4, CLOCK_REALTIME_COARSE = 5, CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7;
const NSEC_PER_SEC = 1e9;

function exit(k: Kernel, t: Task, _u: unknown, code: number): number {
  doExit(k, t, code & 0xff);
  return 0;
}

/** brk(addr): moves the break within [start, stack limit); returns the (possibly unchanged) break. */
function brk(_k: Kernel, t: Task, _u: unknown, addr: number): number {
  const want = addr >>> 0;
  if (want < t.brkStart || want >= t.stackLimit - PAGE_SIZE || !t.mm) return t.brk;
  const from = pageUp(t.brk), to = pageUp(want);
  try {
    if (to > from) t.mm.mapRange(from, to, { writable: true });
    for (let p = to; p < from; p += PAGE_SIZE) t.mm.unmapPage(p);
    t.brk = want;
  } catch (e) {
    if (!(e instanceof OutOfMemory)) throw e;
    // Out of memory part-way: the break stays, and the pages this call mapped go back (as do_brk_flags fails whole).
    for (let p = from; p < to; p += PAGE_SIZE) t.mm.unmapPage(p);
  }
  return t.brk;
}

function uname(_k: Kernel, _t: Task, user: Parameters<Syscall>[2], buf: number): number {
  const out = new Uint8Array(6 * UTS_FIELD);
  const fields = [UTSNAME.sysname, UTSNAME.nodename, UTSNAME.release, UTSNAME.version, UTSNAME.machine,
    UTSNAME.domainname];
  fields.forEach((f, i) => out.set(Buffer.from(f, 'latin1').subarray(0, UTS_FIELD - 1), i * UTS_FIELD));
  return user.copyOut(buf, out) < 0 ? -EFAULT : 0;
}

/** The clock's value in ns, or -EINVAL. The machine's time is simulated: cycles at the kernel's clock rate. */
function clockNs(k: Kernel, t: Task, clk: number): number {
  switch (clk) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE:
      return k.bootTime * 1e6 + k.uptimeNs;
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME:
      return k.uptimeNs;
    case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID:
      return k.uptimeNs; // not accounted per process: the machine's time since boot is an upper bound
    default:
      void t;
      return -EINVAL;
  }
}

/** clock_gettime(clk, tp) with the i386 struct timespec of two 32-bit words (seconds wrap in 2038, as on i386). */
function clockGettime(k: Kernel, t: Task, user: Parameters<Syscall>[2], clk: number, tp: number): number {
  const ns = clockNs(k, t, clk);
  if (ns < 0) return ns;
  const sec = Math.floor(ns / NSEC_PER_SEC), nsec = Math.floor(ns - sec * NSEC_PER_SEC);
  return user.copyOut(tp, new Uint8Array(Int32Array.of(sec | 0, nsec).buffer)) < 0 ? -EFAULT : 0;
}

/**
 * nanosleep(req, rem): sleeps for at least req in simulated time (woken by the timer tick after the deadline).
 * The task sleeps and the call restarts when woken; the deadline survives the restart in the task.
 */
function nanosleep(k: Kernel, t: Task, user: Parameters<Syscall>[2], req: number): number | typeof BLOCK {
  if (t.sleepUntil >= 0) {
    if (k.uptimeNs >= t.sleepUntil) {
      t.sleepUntil = -1;
      return 0;
    }
  } else {
    const b = user.copyIn(req, 8);
    if (typeof b === 'number') return -EFAULT;
    const v = new Int32Array(b.slice().buffer);
    const sec = v[0], nsec = v[1];
    if (sec < 0 || nsec < 0 || nsec >= NSEC_PER_SEC) return -EINVAL;
    t.sleepUntil = k.uptimeNs + sec * NSEC_PER_SEC + nsec;
  }
  t.state = TASK_INTERRUPTIBLE;
  t.wakeAt = t.sleepUntil;
  return BLOCK;
}

/** kill_ok_by_cred: root, or the sender's uid or euid equals the target's uid or saved uid. */
function mayKill(sender: Task, target: Task): boolean {
  const s = sender.cred, tu = target.cred.uid, ts = target.get(T.SUID) >>> 0;
  return s.euid === 0 || s.euid === tu || s.euid === ts || s.uid === tu || s.uid === ts;
}

/** kill(pid, sig): pid > 0 one process; 0 and -pgrp the sender's group (every process is its own); -1 all others. */
function kill(k: Kernel, t: Task, _u: unknown, pid: number, sig: number): number {
  if (sig < 0 || sig > NSIG) return -EINVAL;
  let targets: Task[];
  if (pid > 0) {
    const x = k.findTask(pid);
    if (!x) return -ESRCH;
    targets = [x];
  } else if (pid === 0 || pid === -t.pid) {
    targets = [t];
  } else if (pid === -1) {
    targets = k.liveTasks.filter(x => x !== t);
    if (targets.length === 0) return -ESRCH;
  } else {
    return -ESRCH; // no such process group
  }
  const allowed = targets.filter(x => mayKill(t, x));
  if (allowed.length === 0) return -EPERM;
  for (const x of allowed) sendSignal(k, x, sig);
  return 0;
}

/** setuid(uid): root sets all ids; others may set the effective id to the real or saved one. */
function setuid(_k: Kernel, t: Task, _u: unknown, uid: number): number {
  uid >>>= 0;
  if (uid === 0xffffffff) return -EINVAL;
  if (t.cred.euid === 0) {
    for (const o of [T.UID, T.EUID, T.SUID, T.FSUID]) t.set(o, uid);
    return 0;
  }
  if (uid !== t.cred.uid && uid !== (t.get(T.SUID) >>> 0)) return -EPERM;
  t.set(T.EUID, uid);
  t.set(T.FSUID, uid);
  return 0;
}

function setgid(_k: Kernel, t: Task, _u: unknown, gid: number): number {
  gid >>>= 0;
  if (gid === 0xffffffff) return -EINVAL;
  if (t.cred.euid === 0) {
    for (const o of [T.GID, T.EGID, T.SGID, T.FSGID]) t.set(o, gid);
    return 0;
  }
  if (gid !== t.cred.gid && gid !== (t.get(T.SGID) >>> 0)) return -EPERM;
  t.set(T.EGID, gid);
  t.set(T.FSGID, gid);
  return 0;
}

const LINUX_REBOOT_MAGIC1 = 0xfee1dead, LINUX_REBOOT_MAGIC2 = 672274793;
const LINUX_REBOOT_CMD_POWER_OFF = 0x4321fedc, LINUX_REBOOT_CMD_HALT = 0xcdef0123;

/** reboot(magic, magic2, cmd): CAP_SYS_BOOT (root) only; power-off and halt stop the machine. */
function reboot(k: Kernel, t: Task, _u: unknown, magic: number, magic2: number, cmd: number): number {
  if (t.cred.euid !== 0) return -EPERM;
  if (magic >>> 0 !== LINUX_REBOOT_MAGIC1 || magic2 !== LINUX_REBOOT_MAGIC2) return -EINVAL;
  if (cmd >>> 0 !== LINUX_REBOOT_CMD_POWER_OFF && cmd >>> 0 !== LINUX_REBOOT_CMD_HALT) return -EINVAL;
  k.powerOff(`reboot(2) by pid ${t.pid}`);
  return 0;
}

export const PROC_SYSCALLS: ReadonlyMap<number, Syscall> = new Map<number, Syscall>([
  [SYS.exit, exit], [SYS.exit_group, exit], [SYS.brk, brk],
  [SYS.getpid, (_k, t) => t.pid], [SYS.getppid, (_k, t) => t.ppid],
  [SYS.getuid, (_k, t) => high2low(t.cred.uid)], [SYS.geteuid, (_k, t) => high2low(t.cred.euid)],
  [SYS.getgid, (_k, t) => high2low(t.cred.gid)], [SYS.getegid, (_k, t) => high2low(t.cred.egid)],
  [SYS.getuid32, (_k, t) => t.cred.uid], [SYS.geteuid32, (_k, t) => t.cred.euid],
  [SYS.getgid32, (_k, t) => t.cred.gid], [SYS.getegid32, (_k, t) => t.cred.egid],
  [SYS.setuid32, setuid], [SYS.setgid32, setgid],
  [SYS.setuid, (k, t, u, uid) => setuid(k, t, u, (uid & 0xffff) === 0xffff ? -1 : uid & 0xffff)],
  [SYS.uname, uname], [SYS.clock_gettime, clockGettime], [SYS.nanosleep, nanosleep],
  [SYS.kill, kill], [SYS.reboot, reboot],
]);
