// The kernel's interface to verified programs in kernel mode (trusted; docs/tal.md §6, docs/kernel.md). The loader
// writes the address of `ktal_<name>` into each import slot of a checked program, which then calls it directly:
// no trap, no entry code, no pt_regs. Arguments are cdecl: parameter 1 at [esp+4]. There is no Linux source to
// mirror; the functions are what the user-mode runtime stubs (tal/asm/runtime.ts) do, done by the kernel.
//
// The contract is written once, in tal/interface.ts. Every import that is a system call is bound by one generic
// binder from its ImportSpec and the same argument derivation (syscallArgs) that generates the user-mode stub: the
// buffer check (0 ≤ off, off + count ≤ length, unsigned; else -EFAULT), a unit that does not divide the count
// (-EINVAL), the path copied into a kernel name (longer than PATH_MAX - 1 bytes: -ENAMETOOLONG), then the system
// call's arguments, and the same implementation the int 0x80 path reaches (k.invokeSyscall), with the same
// permission checks against the same credentials in RAM. Only the imports whose kernel-mode form genuinely differs
// are kept by hand (HAND_KEPT, each with its reason).
//
// The allocation functions (tal_alloc, tal_new_array, tal_new_bytes, tal_args) carve the program's heap from brk
// in the same 64 KiB steps as the runtime, so both modes make the same system calls. The break is grown before
// anything is written, and the fill goes a page at a time: no host memory in proportion to a size the program
// asked for, so an impossible size ends the program (SIGABRT), not talrun.
//
// What the user-mode runtime executes for a call besides its system call (the allocator, the fill loops, the
// buffer checks, the path copy) is done here in TypeScript, and charged as the runtime's own instructions, by
// class, along the path the call took (kernel/rtwork.ts; docs/machine.md, "The runtime's work in kernel mode"):
// the same work costs the same in both modes. A call is charged once, when it is made, as the stub's checks run
// once before its trap: not again each time a call that slept is restarted.

import { sendSignal } from './exit.ts';
import type { KernelContext } from '../emulator/kfuncs.ts';
import {
  IMPORTS, HEAP_CHUNK, MAX_ALLOC_SIZE, MAX_ARRAY_LENGTH, OOM_MESSAGE, syscallArgs, type ImportSpec, type SysArg,
} from '../tal/interface.ts';
import type { Kernel } from './kernel.ts';
import { BLOCK, type SysResult } from './syscalls/types.ts';
import type { Task } from './task.ts';
import { EFAULT, EINVAL, ENAMETOOLONG } from './errno.ts';
import { PATH_MAX } from './fs/fcntl.ts';
import { vfsWrite } from './fs/file.ts';
import { PAGE_SIZE } from './arch/layout.ts';
import { contextUserMemory, type UserMemory } from './syscalls/usermem.ts';
import {
  FILE_SYSCALLS, sys_open, sys_stat64, sys_lstat64, sys_access, sys_chdir, sys_readlink, type FileProc,
  type KernelName, type PathArg,
} from './syscalls/files.ts';
import { SYS } from './syscalls/numbers.ts';
import { sockName, setOption } from './syscalls/net.ts';
import { SIGABRT } from './signal.ts';
import {
  RuntimeMeter, allocateRules, cachedPath, exitAt, loopPath, repeat, walkRuntime, type AllocOutcome, type BranchRules,
  type ClassCounts,
} from './rtwork.ts';

/** Raised inside an interface function: the program is out of memory or asked for an impossible size. */
class Abort extends Error {}

/** One call of an interface function: who calls, through which context, and its cdecl arguments. */
export interface Call {
  readonly k: Kernel;
  readonly t: Task;
  readonly ctx: KernelContext;
  readonly user: UserMemory;
  arg(i: number): number;
  /** What the heap was like at each allocation the call made (kernel/rtwork.ts decides the allocator's path by it). */
  readonly allocs: AllocOutcome[];
  /** The user-mode runtime's instructions for this call, charged when the call is made (not on its restarts). */
  runtime?: ClassCounts;
}

/** A kernel-mode import: its result for eax, BLOCK to sleep and be restarted, or nothing. */
export type ImportFunction = (c: Call) => SysResult | void;

/** buf + 4 + off if [off, off+count) lies inside the byte array at `buf`, else undefined (the runtime's check). */
function bufferPtr(c: Call, buf: number, off: number, count: number): number | undefined {
  const len = c.ctx.read32(buf) >>> 0;
  off >>>= 0;
  if (off > len || (count >>> 0) > len - off) return undefined;
  return (buf + 4 + off) | 0;
}

/** Which of the stub's two bounds checks fails for a buffer bufferPtr refused: 0 (off > length) or 1 (count). */
function failedCheck(c: Call, buf: number, off: number): number {
  return (off >>> 0) > (c.ctx.read32(buf) >>> 0) ? 0 : 1;
}

/** The stub's path when a bounds check fails: __tal_rt_efault_pop at that check. */
function efaultPath(name: string, check: number): ClassCounts {
  return cachedPath(`${name}|efault${check}`, `__tal_rt_${name}`, { __tal_rt_efault_pop: exitAt(check) });
}

/** A path given as a whole byte array: the kernel's copy of it, or -ENAMETOOLONG (over PATH_MAX - 1 bytes). */
function pathOf(c: Call, arr: number): KernelName | number {
  const len = c.ctx.read32(arr) >>> 0;
  if (len > PATH_MAX - 1) return -ENAMETOOLONG;
  c.k.work.charge('copyByte', len + 1); // getname copies the name (and its NUL) in kernel mode too
  return { kernel: Buffer.from(c.ctx.readBytes(arr + 4, len)).toString('latin1') };
}

// ---------------------------------------------------------------------------------------------------------
// the generic binder

/** A file system call that takes its path first, as a user address or as a name the kernel holds (getname_kernel). */
type NamedSyscall = (proc: FileProc, user: UserMemory, path: PathArg, ...args: number[]) => number;
/**
 * The file system calls that accept a kernel name for their first argument (the type checks each does). The binder
 * takes the one the system call table has for an import's number, so the int 0x80 path and this one run the same
 * function; an import whose path call is not here is refused when the kernel is built.
 */
const NAMED_SYSCALLS: readonly NamedSyscall[] = [
  sys_open, sys_stat64, sys_lstat64, sys_access, sys_chdir, sys_readlink,
];

/** Bound generically: the import's system call, its arguments computed as the spec says. */
function genericSyscall(spec: ImportSpec, nr: number): ImportFunction {
  const args = syscallArgs(spec);
  const b = spec.buffer;
  const path = args.find((a): a is Extract<SysArg, { k: 'path' }> => a.k === 'path');
  for (const a of args) {
    // A pointer into the stub's own stack frame or private data: the kernel-mode form must be written by hand.
    if (a.k === 'paramAddress' || a.k === 'wordPointer') {
      throw new Error(`internal: ${spec.name}: a ${a.k} argument has no generic kernel-mode form`);
    }
  }
  let named: NamedSyscall | undefined;
  if (path) {
    named = NAMED_SYSCALLS.find(f => f === FILE_SYSCALLS.get(nr));
    if (!named || args[0] !== path) {
      throw new Error(`internal: ${spec.name}: no file system call ${nr} taking a kernel name first`);
    }
  }
  const unitShift = b?.unit === undefined ? 0 : Math.log2(b.unit);
  const stub = `__tal_rt_${spec.name}`;
  return c => {
    let at = 0; // the address of buf[off]
    if (b) {
      const count = typeof b.count === 'number' ? c.arg(b.count) : b.count.fixed;
      const p = bufferPtr(c, c.arg(b.buf), c.arg(b.off), count);
      if (p === undefined) {
        c.runtime = efaultPath(spec.name, failedCheck(c, c.arg(b.buf), c.arg(b.off)));
        return -EFAULT;
      }
      if (b.unit !== undefined && (count & (b.unit - 1)) !== 0) {
        c.runtime = cachedPath(`${spec.name}|einval`, stub, { __tal_rt_einval_pop: () => true });
        return -EINVAL;
      }
      at = p;
    }
    let name: KernelName | undefined;
    if (path) {
      const n = pathOf(c, c.arg(path.i));
      if (typeof n === 'number') {
        const rules = { __tal_rt_cpath_long: () => true, __tal_rt_pop_ret: () => true };
        c.runtime = cachedPath(`${spec.name}|long`, stub, rules);
        return n;
      }
      name = n;
      // The copy loop runs once per byte of the path.
      const len = c.ctx.read32(c.arg(path.i)) >>> 0;
      c.runtime = loopPath(`${spec.name}|ok`, stub, len, k => ({ __tal_rt_cpath_done: exitAt(k) }));
    } else {
      c.runtime = cachedPath(`${spec.name}|ok`, stub, {});
    }
    const values = args.map(a => {
      switch (a.k) {
        case 'param': return c.arg(a.i);
        case 'units': return c.arg(a.i) >>> unitShift;
        case 'buffer': return at;
        case 'const': return a.n;
        default: return 0; // the path, passed as the kernel name below
      }
    });
    if (!name || !named) return c.k.invokeSyscall(c.t, c.user, nr, values);
    c.k.countSyscall(c.t, nr);
    return named(c.t, c.user, name, ...values.slice(1));
  };
}

// ---------------------------------------------------------------------------------------------------------
// the heap

/** Heap memory from brk, as the runtime's __tal_rt_allocate: word-rounded, growing the break in 64 KiB steps. */
function allocate(c: Call, size: number): number {
  const t = c.t;
  size = (size + 3) & ~3;
  const init = t.heapCur === 0;
  if (init) {
    const b = c.k.invokeSyscall(t, c.user, SYS.brk, [0]);
    if (typeof b !== 'number') throw new Abort();
    t.heapCur = t.heapEnd = b;
  }
  const p = t.heapCur, end = p + size;
  if (end > 0xffffffff) throw new Abort();
  const grow = end > t.heapEnd;
  c.allocs.push({ init, grow });
  if (grow) {
    const want = Math.ceil(end / HEAP_CHUNK) * HEAP_CHUNK;
    const got = c.k.invokeSyscall(t, c.user, SYS.brk, [want | 0]);
    if (typeof got !== 'number' || (got >>> 0) < end) throw new Abort();
    t.heapEnd = got >>> 0;
  }
  t.heapCur = end;
  return p;
}

/** The key of an allocator path in the walk cache: its decisions. */
function allocKey(allocs: readonly AllocOutcome[]): string {
  if (allocs.length === 1 && !allocs[0].init && !allocs[0].grow) return ''; // the common case, without a string built
  return allocs.map(a => `${a.init ? 'i' : ''}${a.grow ? 'g' : ''}`).join(',');
}

/** A new_array or new_bytes path: the allocator as it went, then a fill loop of n (no loop for n = 0). */
function fillPath(name: string, c: Call, n: number): ClassCounts {
  const stub = `__tal_rt_${name}`, key = `${name}|${allocKey(c.allocs)}`;
  const rules = (k: number): BranchRules => ({
    ...allocateRules(c.allocs), [`${stub}_done`]: () => k === 0, [`${stub}_fill`]: repeat(k - 1),
  });
  return n === 0 ? cachedPath(`${key}|0`, stub, rules(0)) : loopPath(key, stub, n, rules, 1);
}

/**
 * tal_args's path: the argument array, then for each argument its length counted (strlen), its allocation, and its
 * bytes copied. Walked, not cached: a program calls it once or twice, over at most the exec limits' bytes.
 */
function argsPath(c: Call, lengths: readonly number[]): ClassCounts {
  // A loop exit taken at the last of each argument's (length + 1) evaluations.
  const exits = new Set<number>();
  let n = 0;
  for (const len of lengths) { n += len; exits.add(n); n++; }
  const atEnd = (e: number) => exits.has(e);
  return walkRuntime('__tal_rt_tal_args', {
    ...allocateRules(c.allocs), __tal_rt_args_done: exitAt(lengths.length), __tal_rt_args_copy: atEnd,
    __tal_rt_args_copied: atEnd,
  }).charged;
}

/**
 * Stores the repeated little-endian `word` over [p, p + size) of the heap (p word-aligned; a byte fill repeats its
 * byte in the word), a page at a time: the host buffer is one page, whatever the size.
 */
function fill(c: Call, p: number, size: number, word: number): void {
  const page = new Uint8Array(Math.min((size + 3) & ~3, PAGE_SIZE));
  new Int32Array(page.buffer).fill(word);
  for (let done = 0; done < size; done += page.length) {
    c.t.mm!.poke(p + done, page.subarray(0, Math.min(page.length, size - done)));
  }
}

/** A fresh byte array holding `bytes` (tal_args: an argument, which exec has already bounded). */
function newBytesOf(c: Call, bytes: Uint8Array): number {
  const p = allocate(c, 4 + bytes.length);
  c.t.mm!.poke(p, new Uint8Array(Int32Array.of(bytes.length).buffer));
  c.t.mm!.poke(p + 4, bytes);
  return p;
}

// ---------------------------------------------------------------------------------------------------------
// the imports kept by hand

/** Each import whose kernel-mode form is not the generic one, with the reason. */
const HAND_KEPT: Readonly<Record<string, ImportFunction>> = {
  // The allocation functions are not system calls: the runtime's code carves the heap from brk, which here the
  // kernel does for the program (the brk calls are the same; the runtime's instructions are charged, not executed).
  tal_alloc: c => {
    const size = c.arg(0) >>> 0;
    if (size > MAX_ALLOC_SIZE) throw new Abort();
    const p = allocate(c, size);
    c.runtime = cachedPath(`tal_alloc|${allocKey(c.allocs)}`, '__tal_rt_tal_alloc', allocateRules(c.allocs));
    return p;
  },
  tal_new_array: c => {
    const n = c.arg(0) >>> 0;
    if (n > MAX_ARRAY_LENGTH) throw new Abort();
    const x = c.arg(1);
    const p = allocate(c, 4 + 4 * n);
    fill(c, p, 4, n);
    fill(c, p + 4, 4 * n, x);
    c.runtime = fillPath('tal_new_array', c, n);
    return p;
  },
  tal_new_bytes: c => {
    const n = c.arg(0) >>> 0;
    if (n > MAX_ALLOC_SIZE) throw new Abort();
    const x = c.arg(1) & 0xff;
    const p = allocate(c, 4 + n);
    fill(c, p, 4, n);
    fill(c, p + 4, n, x * 0x01010101);
    c.runtime = fillPath('tal_new_bytes', c, n);
    return p;
  },
  // The runtime reads argv from the initial stack; the kernel has it in the task.
  tal_args: c => {
    const argv = c.t.argv;
    const arr = allocate(c, 4 + 4 * argv.length);
    const bytes = argv.map(s => Buffer.from(s, 'latin1'));
    const words = Int32Array.of(argv.length, ...bytes.map(b => newBytesOf(c, b)));
    c.t.mm!.poke(arr, new Uint8Array(words.buffer));
    c.runtime = argsPath(c, bytes.map(b => b.length));
    return arr;
  },
  // optval is the address of the value's own stack slot in the stub; the kernel already holds the value, and takes
  // it as a kernel pointer would be taken (sockptr_t): no copy from user memory.
  setsockopt: c => {
    c.runtime = cachedPath('setsockopt|ok', '__tal_rt_setsockopt', {});
    c.k.countSyscall(c.t, SYS.setsockopt);
    return setOption(c.k, c.t, c.arg(0), c.arg(1), c.arg(2), c.arg(3));
  },
  // addrlen is a word of the stub's private data, which kernel mode does not have; the import drops it, so the
  // kernel copies the address out directly.
  getsockname: nameInto('getsockname', false),
  getpeername: nameInto('getpeername', true),
};

/** getsockname/getpeername into the spec's buffer (a struct sockaddr_in): the address the system call gives. */
function nameInto(name: string, peer: boolean): ImportFunction {
  const spec = IMPORTS.find(s => s.name === name);
  const b = spec?.buffer;
  if (!spec || spec.syscall === undefined || !b || typeof b.count === 'number') {
    throw new Error(`internal: ${name}: not a fixed-size buffer call`);
  }
  const nr = spec.syscall, size = b.count.fixed;
  return c => {
    const p = bufferPtr(c, c.arg(b.buf), c.arg(b.off), size);
    if (p === undefined) {
      c.runtime = efaultPath(name, failedCheck(c, c.arg(b.buf), c.arg(b.off)));
      return -EFAULT;
    }
    c.runtime = cachedPath(`${name}|ok`, `__tal_rt_${name}`, {});
    c.k.countSyscall(c.t, nr);
    const addr = sockName(c.k, c.t, c.arg(0), peer);
    if (typeof addr === 'number') return addr;
    return c.user.copyOut(p, addr) < 0 ? -EFAULT : 0;
  };
}

/** The names of the imports kept by hand (the rest of IMPORTS is bound generically). */
export const HAND_KEPT_IMPORTS: readonly string[] = Object.keys(HAND_KEPT);

/** How each import of the interface is bound in kernel mode. Throws if one cannot be bound (an internal error). */
export function kernelBindings(): ReadonlyMap<string, { readonly generic: boolean; readonly fn: ImportFunction }> {
  const out = new Map<string, { generic: boolean; fn: ImportFunction }>();
  for (const spec of IMPORTS) {
    const hand = Object.hasOwn(HAND_KEPT, spec.name) ? HAND_KEPT[spec.name] : undefined;
    if (hand) out.set(spec.name, { generic: false, fn: hand });
    else if (spec.syscall !== undefined) out.set(spec.name, { generic: true, fn: genericSyscall(spec, spec.syscall) });
    else throw new Error(`internal: no kernel-mode function for import ${spec.name}`);
  }
  for (const name of HAND_KEPT_IMPORTS) {
    if (!out.has(name)) throw new Error(`internal: ${name} is kept by hand but not in IMPORTS`);
  }
  return out;
}

const meters = new WeakMap<Kernel, RuntimeMeter>();
/** Tasks asleep in an import: the next call of an import by such a task is the restart, already charged. */
const restarting = new WeakSet<Task>();

/** The user-mode runtime's instructions a kernel charged its kernel-mode programs (kernel/rtwork.ts). */
export function runtimeMeterOf(k: Kernel): RuntimeMeter | undefined {
  return meters.get(k);
}

/** Register a kernel function for every import of the interface; returns their addresses by import name. */
export function bindKernelInterface(k: Kernel): ReadonlyMap<string, number> {
  const out = new Map<string, number>();
  const cpu = k.machine.cpu;
  const meter = new RuntimeMeter(cpu.profile.insn, cycles => cpu.chargeKernelFunctionWork(cycles));
  meters.set(k, meter);
  for (const [name, { fn }] of kernelBindings()) {
    const addr = k.kfunc(`ktal_${name}`, (ctx, t) => {
      const c: Call = { k, t, ctx, user: contextUserMemory(ctx, k.work), arg: i => ctx.arg(i), allocs: [] };
      try {
        const r = fn(c);
        if (!restarting.delete(t) && c.runtime) meter.charge(name, c.runtime);
        if (r === BLOCK) restarting.add(t);
        return r;
      } catch (e) {
        if (!(e instanceof Abort)) throw e;
        // As the runtime does: say so on stderr, then SIGABRT.
        const err = t.files.get(2);
        if (err) vfsWrite(err, Buffer.from(OOM_MESSAGE));
        sendSignal(k, t, SIGABRT);
        return 0;
      }
    });
    out.set(name, addr);
  }
  return out;
}

export { BLOCK };
