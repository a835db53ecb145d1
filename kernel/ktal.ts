// The kernel's interface to verified programs in kernel mode (trusted; docs/tal.md §6, docs/kernel.md). The loader
// writes the address of `ktal_<name>` into each import slot of a checked program, which then calls it directly:
// no trap, no entry code, no pt_regs. Each function performs the interface's argument check exactly as the
// user-mode runtime stub does (a buffer is a byte array, an offset and a count; 0 ≤ off, off + count ≤ length,
// unsigned; else -EFAULT), turns the arguments into the system call's (buf + 4 + off; a path array into a kernel
// name), and calls the same implementation the int 0x80 path reaches, with the same permission checks against
// the same credentials in RAM. Arguments are cdecl: parameter 1 at [esp+4].
//
// The allocation functions (tal_alloc, tal_new_array, tal_new_bytes, tal_args) carve the program's heap from brk
// in the same 64 KiB steps as the runtime, so both modes make the same system calls; the stores the runtime's fill
// loops would execute are charged as cycles (store + dec + jne per word or byte), since here TypeScript does them.

import type { KernelContext } from '../emulator/kfuncs.ts';
import { InsnClass } from '../emulator/costs.ts';
import { IMPORTS, STAT64_SIZE } from '../tal/interface.ts';
import { BLOCK, type Kernel, type SysResult } from './kernel.ts';
import type { Task } from './task.ts';
import { EFAULT, ENAMETOOLONG } from './errno.ts';
import { PATH_MAX } from './fs/fcntl.ts';
import { vfsWrite } from './fs/file.ts';
import { contextUserMemory, type UserMemory } from './syscalls/usermem.ts';
import { sys_open, sys_stat64, sys_lstat64, sys_access, sys_chdir, sys_readlink, type KernelName } from './syscalls/files.ts';
import { SYS } from './syscalls/numbers.ts';
import { sockName, setOption } from './syscalls/net.ts';
import { SIGABRT } from './signal.ts';

const HEAP_CHUNK = 0x10000;
const UTSNAME_SIZE = 390;
const SOCKADDR_SIZE = 16;
const EINVAL = 22;
const TIMESPEC_SIZE = 8;

/** Raised inside an interface function: the program is out of memory or asked for an impossible size. */
class Abort extends Error {}

interface Call {
  readonly k: Kernel;
  readonly t: Task;
  readonly ctx: KernelContext;
  readonly user: UserMemory;
  arg(i: number): number;
}

/** buf + 4 + off if [off, off+count) lies inside the byte array at `buf`, else -EFAULT (the runtime's check). */
function bufferPtr(c: Call, buf: number, off: number, count: number): number {
  const len = c.ctx.read32(buf) >>> 0;
  off >>>= 0;
  if (off > len || (count >>> 0) > len - off) return -EFAULT;
  return (buf + 4 + off) | 0;
}

/** A path given as a whole byte array: the kernel's copy of it, or -ENAMETOOLONG (over PATH_MAX - 1 bytes). */
function pathOf(c: Call, arr: number): KernelName | number {
  const len = c.ctx.read32(arr) >>> 0;
  if (len > PATH_MAX - 1) return -ENAMETOOLONG;
  c.k.work.charge('copyByte', len + 1); // getname copies the name (and its NUL) in kernel mode too
  return { kernel: Buffer.from(c.ctx.readBytes(arr + 4, len)).toString('latin1') };
}

/** A system call through the shared implementation, counted. */
function sys(c: Call, nr: number, ...args: number[]): SysResult {
  return c.k.invokeSyscall(c.t, c.user, nr, args);
}
/** A path-taking call: the same implementation with a kernel name. */
function sysPath(c: Call, nr: number, f: () => number): number {
  c.k.countSyscall(c.t, nr);
  return f();
}

/** Heap memory from brk, as the runtime's __tal_rt_allocate: word-rounded, growing the break in 64 KiB steps. */
function allocate(c: Call, size: number): number {
  const t = c.t;
  size = (size + 3) & ~3;
  if (t.heapCur === 0) {
    const b = sys(c, SYS.brk, 0);
    if (typeof b !== 'number') throw new Abort();
    t.heapCur = t.heapEnd = b;
  }
  const p = t.heapCur, end = p + size;
  if (end > 0xffffffff) throw new Abort();
  if (end > t.heapEnd) {
    const want = Math.ceil(end / HEAP_CHUNK) * HEAP_CHUNK;
    const got = sys(c, SYS.brk, want | 0);
    if (typeof got !== 'number' || (got >>> 0) < end) throw new Abort();
    t.heapEnd = got >>> 0;
  }
  t.heapCur = end;
  return p;
}

/** The runtime's fill loop (store, dec, jne) for `n` elements, as cycles. */
function chargeFill(c: Call, n: number): void {
  const cost = c.ctx.cpu.profile.insn;
  c.ctx.charge(n * (cost[InsnClass.Store] + cost[InsnClass.Alu] + cost[InsnClass.Branch]));
}

function newWords(c: Call, words: Int32Array): number {
  const p = allocate(c, 4 * words.length);
  c.t.mm!.poke(p, new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
  chargeFill(c, words.length);
  return p;
}

function newBytes(c: Call, bytes: Uint8Array): number {
  const p = allocate(c, 4 + bytes.length);
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length, true);
  out.set(bytes, 4);
  c.t.mm!.poke(p, out);
  chargeFill(c, bytes.length);
  return p;
}

type ImportFunction = (c: Call) => SysResult | void;

const a = (c: Call, i: number): number => c.arg(i);

const FUNCTIONS: Record<string, ImportFunction> = {
  tal_alloc: c => {
    const size = a(c, 0) >>> 0;
    if (size > 0x7ffffff0) throw new Abort();
    return allocate(c, size);
  },
  tal_new_array: c => {
    const n = a(c, 0) >>> 0;
    if (n > 0x0fffffff) throw new Abort();
    const words = new Int32Array(n + 1).fill(a(c, 1));
    words[0] = n;
    return newWords(c, words);
  },
  tal_new_bytes: c => {
    const n = a(c, 0) >>> 0;
    if (n > 0x7ffffff0) throw new Abort();
    return newBytes(c, new Uint8Array(n).fill(a(c, 1) & 0xff));
  },
  tal_args: c => {
    const arr = allocate(c, 4 + 4 * c.t.argv.length);
    const words = Int32Array.of(c.t.argv.length, ...c.t.argv.map(s => newBytes(c, Buffer.from(s, 'latin1'))));
    c.t.mm!.poke(arr, new Uint8Array(words.buffer));
    return arr;
  },
  exit: c => sys(c, SYS.exit_group, a(c, 0)),
  read: c => {
    const p = bufferPtr(c, a(c, 1), a(c, 2), a(c, 3));
    return p === -EFAULT ? p : sys(c, SYS.read, a(c, 0), p, a(c, 3));
  },
  write: c => {
    const p = bufferPtr(c, a(c, 1), a(c, 2), a(c, 3));
    return p === -EFAULT ? p : sys(c, SYS.write, a(c, 0), p, a(c, 3));
  },
  getdents64: c => {
    const p = bufferPtr(c, a(c, 1), a(c, 2), a(c, 3));
    return p === -EFAULT ? p : sys(c, SYS.getdents64, a(c, 0), p, a(c, 3));
  },
  open: c => {
    const name = pathOf(c, a(c, 0));
    return typeof name === 'number' ? name : sysPath(c, SYS.open, () => sys_open(c.t, c.user, name, a(c, 1), a(c, 2)));
  },
  close: c => sys(c, SYS.close, a(c, 0)),
  lseek: c => sys(c, SYS.lseek, a(c, 0), a(c, 1), a(c, 2)),
  stat64: c => statLike(c, SYS.stat64, sys_stat64),
  lstat64: c => statLike(c, SYS.lstat64, sys_lstat64),
  fstat64: c => {
    const p = bufferPtr(c, a(c, 1), a(c, 2), STAT64_SIZE);
    return p === -EFAULT ? p : sys(c, SYS.fstat64, a(c, 0), p);
  },
  getpid: c => sys(c, SYS.getpid),
  getppid: c => sys(c, SYS.getppid),
  getuid: c => sys(c, SYS.getuid32),
  getgid: c => sys(c, SYS.getgid32),
  geteuid: c => sys(c, SYS.geteuid32),
  getegid: c => sys(c, SYS.getegid32),
  kill: c => sys(c, SYS.kill, a(c, 0), a(c, 1)),
  access: c => {
    const name = pathOf(c, a(c, 0));
    return typeof name === 'number' ? name : sysPath(c, SYS.access, () => sys_access(c.t, c.user, name, a(c, 1)));
  },
  chdir: c => {
    const name = pathOf(c, a(c, 0));
    return typeof name === 'number' ? name : sysPath(c, SYS.chdir, () => sys_chdir(c.t, c.user, name));
  },
  getcwd: c => {
    const p = bufferPtr(c, a(c, 0), a(c, 1), a(c, 2));
    return p === -EFAULT ? p : sys(c, SYS.getcwd, p, a(c, 2));
  },
  readlink: c => {
    const p = bufferPtr(c, a(c, 1), a(c, 2), a(c, 3));
    if (p === -EFAULT) return p;
    const name = pathOf(c, a(c, 0));
    return typeof name === 'number' ? name : sysPath(c, SYS.readlink, () => sys_readlink(c.t, c.user, name, p, a(c, 3)));
  },
  uname: c => {
    const p = bufferPtr(c, a(c, 0), a(c, 1), UTSNAME_SIZE);
    return p === -EFAULT ? p : sys(c, SYS.uname, p);
  },
  clock_gettime: c => {
    const p = bufferPtr(c, a(c, 1), a(c, 2), TIMESPEC_SIZE);
    return p === -EFAULT ? p : sys(c, SYS.clock_gettime, a(c, 0), p);
  },
  socket: c => sys(c, SYS.socket, a(c, 0), a(c, 1), a(c, 2)),
  bind: c => {
    const p = bufferPtr(c, a(c, 1), a(c, 2), SOCKADDR_SIZE);
    return p === -EFAULT ? p : sys(c, SYS.bind, a(c, 0), p, SOCKADDR_SIZE);
  },
  connect: c => {
    const p = bufferPtr(c, a(c, 1), a(c, 2), SOCKADDR_SIZE);
    return p === -EFAULT ? p : sys(c, SYS.connect, a(c, 0), p, SOCKADDR_SIZE);
  },
  listen: c => sys(c, SYS.listen, a(c, 0), a(c, 1)),
  accept4: c => sys(c, SYS.accept4, a(c, 0), 0, 0, a(c, 1)),
  getsockname: c => nameInto(c, false),
  getpeername: c => nameInto(c, true),
  setsockopt: c => {
    c.k.countSyscall(c.t, SYS.setsockopt);
    return setOption(c.k, c.t, a(c, 0), a(c, 1), a(c, 2), a(c, 3));
  },
  shutdown: c => sys(c, SYS.shutdown, a(c, 0), a(c, 1)),
  sendto: c => {
    const p = bufferPtr(c, a(c, 1), a(c, 2), a(c, 3));
    return p === -EFAULT ? p : sys(c, SYS.sendto, a(c, 0), p, a(c, 3), a(c, 4), 0, 0);
  },
  recvfrom: c => {
    const p = bufferPtr(c, a(c, 1), a(c, 2), a(c, 3));
    return p === -EFAULT ? p : sys(c, SYS.recvfrom, a(c, 0), p, a(c, 3), a(c, 4), 0, 0);
  },
  poll: c => {
    const p = bufferPtr(c, a(c, 0), a(c, 1), a(c, 2));
    if (p === -EFAULT) return p;
    if (a(c, 2) % 8 !== 0) return -EINVAL;
    return sys(c, SYS.poll, p, a(c, 2) / 8, a(c, 3));
  },
  fcntl: c => sys(c, SYS.fcntl64, a(c, 0), a(c, 1), a(c, 2)),
  nanosleep: c => {
    const p = bufferPtr(c, a(c, 0), a(c, 1), TIMESPEC_SIZE);
    return p === -EFAULT ? p : sys(c, SYS.nanosleep, p, 0);
  },
};

/** getsockname/getpeername into a 16-byte buffer: the same address the system call gives. */
function nameInto(c: Call, peer: boolean): number {
  const p = bufferPtr(c, a(c, 1), a(c, 2), SOCKADDR_SIZE);
  if (p === -EFAULT) return p;
  c.k.countSyscall(c.t, peer ? SYS.getpeername : SYS.getsockname);
  const name = sockName(c.k, c.t, a(c, 0), peer);
  if (typeof name === 'number') return name;
  return c.user.copyOut(p, name) < 0 ? -EFAULT : 0;
}

function statLike(c: Call, nr: number, f: typeof sys_stat64): number {
  const p = bufferPtr(c, a(c, 1), a(c, 2), STAT64_SIZE);
  if (p === -EFAULT) return p;
  const name = pathOf(c, a(c, 0));
  return typeof name === 'number' ? name : sysPath(c, nr, () => f(c.t, c.user, name, p));
}

/** Register a kernel function for every import of the interface; returns their addresses by import name. */
export function bindKernelInterface(k: Kernel): ReadonlyMap<string, number> {
  const out = new Map<string, number>();
  for (const spec of IMPORTS) {
    const fn = FUNCTIONS[spec.name];
    if (!fn) continue; // an import the kernel cannot bind: the loader refuses programs that use it
    const addr = k.kfunc(`ktal_${spec.name}`, (ctx, t) => {
      const c: Call = { k, t, ctx, user: contextUserMemory(ctx, k.work), arg: i => ctx.arg(i) };
      try {
        return fn(c);
      } catch (e) {
        if (!(e instanceof Abort)) throw e;
        // As the runtime does: say so on stderr, then SIGABRT.
        const err = t.files.get(2);
        if (err) vfsWrite(err, Buffer.from('tal: out of memory\n'));
        k.sendSignal(t, SIGABRT);
        return 0;
      }
    });
    out.set(spec.name, addr);
  }
  return out;
}

export { BLOCK };
