// The kernel interface to verified programs: every import a TAL program may call, with its type. Trusted.
// The checker types `call [slot]` with these signatures; talas generates the user-mode stubs from them
// (tal/asm/runtime.ts), and the kernel derives from them the kernel-mode function the loader binds each slot to
// (kernel/ktal.ts): one contract, written once. The file names the imports it uses; the types come from here, never
// from the file.

import { type Binder, type Ty } from './types.ts';
import { parseTy, TypeSyntaxError } from './typeparse.ts';

export interface ImportSpec {
  /** The slot's name, as written in `.tal_import NAME` and in `.tal.imports`. */
  readonly name: string;
  /** Type variables, as `name` (word) or `name:stack`. */
  readonly vars: readonly string[];
  /** Parameter types; parameter 1 is at [esp] when the call is made (cdecl: pushed right to left). */
  readonly params: readonly string[];
  /** Type of eax on return, or null if the call never returns. */
  readonly result: string | null;
  /** The Linux i386 system call the user-mode stub makes, if it is one. */
  readonly syscall?: number;
  /**
   * A buffer argument (index of the byte array, of the offset, and of the count or of a fixed size):
   * the interface checks 0 ≤ offset, offset + count ≤ length before the system call runs, and returns -EFAULT if not.
   * The system call gets the address of buf[off] and, unless the size is fixed, the count; the offset is not passed.
   * Any other `*rbytes` parameter is a path: the whole byte array, copied with a NUL (longer than 4095 bytes:
   * -ENAMETOOLONG without the system call).
   */
  readonly buffer?: {
    readonly buf: number; readonly off: number; readonly count: number | { fixed: number };
    /**
     * The count is a byte count of records of this many bytes (a power of two; poll's struct pollfd: 8): a count
     * that is not a multiple gives -EINVAL without the system call, and the system call gets count / unit.
     */
    readonly unit?: number;
  };
  /** Null pointers the user-mode stub passes after the other arguments (nanosleep's rem). */
  readonly nullArgs?: number;
  /**
   * The system call's arguments, when they are not the parameters in order (with the buffer and path rules above):
   * each a parameter, the buffer's address, a constant, or a pointer the stub makes (see SysArgSpec).
   */
  readonly sysArgs?: readonly SysArgSpec[];
  /** tal_alloc: the result type comes from an explicit instantiation at the call (a tuple type). */
  readonly special?: 'alloc';
  readonly doc: string;
}

/**
 * One argument of the system call an import's user-mode stub makes (ImportSpec.sysArgs):
 * - `{ param: i }`: parameter i as it is (a path if it is `*rbytes`);
 * - `{ buffer: true }`: the address of buf[off] of the spec's buffer;
 * - `{ const: n }`: the constant n (0 for a NULL pointer, addrlen 16, optlen 4);
 * - `{ paramAddress: i }`: the address of parameter i's own stack slot, a pointer to an int the kernel only reads
 *   (setsockopt's optval);
 * - `{ wordPointer: n }`: the address of a word of the runtime's private data set to n just before the call, which the
 *   kernel may read and overwrite (getsockname's value-result addrlen; the result is dropped).
 */
export type SysArgSpec =
  | { readonly param: number }
  | { readonly buffer: true }
  | { readonly const: number }
  | { readonly paramAddress: number }
  | { readonly wordPointer: number };

// The interface's errno values and limits, as Linux has them (kernel/errno.ts and kernel/fs/fcntl.ts hold the
// kernel's own; test/kernel/ktal-interface.test.ts checks they agree).
export const EFAULT = 14;
export const EINVAL = 22;
export const ENAMETOOLONG = 36;
/** A path is at most PATH_MAX - 1 bytes (it is copied with its NUL); longer: -ENAMETOOLONG. */
export const PATH_MAX = 4096;

/** The largest size tal_alloc and tal_new_bytes accept; a larger (or negative) one is impossible: SIGABRT. */
export const MAX_ALLOC_SIZE = 0x7ffffff0;
/** The largest length tal_new_array accepts (its 4n + 4 bytes stay below 2^30); larger or negative: SIGABRT. */
export const MAX_ARRAY_LENGTH = 0x0fffffff;
/** The heap grows by brk in steps of this many bytes, in both modes, so both make the same system calls. */
export const HEAP_CHUNK = 0x10000;
/** What an allocation that fails says on stderr before SIGABRT. */
export const OOM_MESSAGE = 'tal: out of memory\n';

/** Byte size of the Linux i386 struct stat64. */
export const STAT64_SIZE = 96;
/** Byte size of struct new_utsname (uname): six fields of 65 bytes. */
export const UTSNAME_SIZE = 390;
/** Byte size of the Linux i386 struct timespec: tv_sec and tv_nsec, 32 bits each. */
export const TIMESPEC_SIZE = 8;
/** Byte size of struct sockaddr_in (family u16, port u16 big-endian, address u32, 8 bytes of zero). */
export const SOCKADDR_IN_SIZE = 16;
/** Byte size of struct pollfd (fd int, events short, revents short). */
export const POLLFD_SIZE = 8;

const SOCKADDR = { fixed: SOCKADDR_IN_SIZE };

export const IMPORTS: readonly ImportSpec[] = [
  // ---- the runtime ----
  { name: 'tal_alloc', vars: [], params: ['int'], result: null, special: 'alloc',
    doc: 'tal_alloc(size) with `.tal_inst *[τ1, …, τn]` at the call: a fresh tuple of n uninitialised fields (size = 4n), type *[τ1^u, …, τn^u]. Out of memory: the process is killed with SIGABRT.' },
  { name: 'tal_new_array', vars: ['a'], params: ['int', 'a'], result: '*arr(a)',
    doc: 'tal_new_array(n, x): a fresh array of n elements, each x. n < 0 or out of memory: the process is killed with SIGABRT.' },
  { name: 'tal_new_bytes', vars: [], params: ['int', 'int'], result: '*bytes',
    doc: 'tal_new_bytes(n, c): a fresh byte array of n bytes, each the low byte of c. n < 0 or out of memory: SIGABRT.' },
  { name: 'tal_args', vars: [], params: [], result: '*arr(*bytes)',
    doc: 'tal_args(): the program\'s arguments argv[0..argc-1] as fresh byte arrays on the heap (without their NUL).' },
  // ---- system calls (Linux i386 numbers) ----
  { name: 'exit', vars: [], params: ['int'], result: null, syscall: 252,
    doc: 'exit(status): exit_group; never returns.' },
  { name: 'read', vars: [], params: ['int', '*bytes', 'int', 'int'], result: 'int', syscall: 3,
    buffer: { buf: 1, off: 2, count: 3 },
    doc: 'read(fd, buf, off, count): read(2) into buf[off .. off+count).' },
  { name: 'write', vars: [], params: ['int', '*rbytes', 'int', 'int'], result: 'int', syscall: 4,
    buffer: { buf: 1, off: 2, count: 3 },
    doc: 'write(fd, buf, off, count): write(2) from buf[off .. off+count).' },
  { name: 'open', vars: [], params: ['*rbytes', 'int', 'int'], result: 'int', syscall: 5,
    doc: 'open(path, flags, mode): open(2); the path is the whole byte array (no NUL needed; longer than 4095 bytes: -ENAMETOOLONG).' },
  { name: 'close', vars: [], params: ['int'], result: 'int', syscall: 6, doc: 'close(fd).' },
  { name: 'lseek', vars: [], params: ['int', 'int', 'int'], result: 'int', syscall: 19,
    doc: 'lseek(fd, offset, whence).' },
  { name: 'getdents64', vars: [], params: ['int', '*bytes', 'int', 'int'], result: 'int', syscall: 220,
    buffer: { buf: 1, off: 2, count: 3 },
    doc: 'getdents64(fd, buf, off, count): linux_dirent64 records into buf[off .. off+count).' },
  { name: 'stat64', vars: [], params: ['*rbytes', '*bytes', 'int'], result: 'int', syscall: 195,
    buffer: { buf: 1, off: 2, count: { fixed: STAT64_SIZE } },
    doc: 'stat64(path, buf, off): struct stat64 (96 bytes) into buf[off .. off+96).' },
  { name: 'lstat64', vars: [], params: ['*rbytes', '*bytes', 'int'], result: 'int', syscall: 196,
    buffer: { buf: 1, off: 2, count: { fixed: STAT64_SIZE } },
    doc: 'lstat64(path, buf, off): as stat64, not following a final symbolic link.' },
  { name: 'fstat64', vars: [], params: ['int', '*bytes', 'int'], result: 'int', syscall: 197,
    buffer: { buf: 1, off: 2, count: { fixed: STAT64_SIZE } },
    doc: 'fstat64(fd, buf, off).' },
  { name: 'getpid', vars: [], params: [], result: 'int', syscall: 20, doc: 'getpid(): the process id.' },
  { name: 'getppid', vars: [], params: [], result: 'int', syscall: 64, doc: 'getppid(): the parent\'s process id.' },
  { name: 'getuid', vars: [], params: [], result: 'int', syscall: 199, doc: 'getuid(): the real user id (getuid32).' },
  { name: 'getgid', vars: [], params: [], result: 'int', syscall: 200, doc: 'getgid(): the real group id (getgid32).' },
  { name: 'geteuid', vars: [], params: [], result: 'int', syscall: 201,
    doc: 'geteuid(): the effective user id (geteuid32).' },
  { name: 'getegid', vars: [], params: [], result: 'int', syscall: 202,
    doc: 'getegid(): the effective group id (getegid32).' },
  { name: 'kill', vars: [], params: ['int', 'int'], result: 'int', syscall: 37,
    doc: 'kill(pid, sig): kill(2); sig 0 only checks that pid exists.' },
  { name: 'access', vars: [], params: ['*rbytes', 'int'], result: 'int', syscall: 33,
    doc: 'access(path, mode): access(2) with the real ids; the path as in open.' },
  { name: 'chdir', vars: [], params: ['*rbytes'], result: 'int', syscall: 12,
    doc: 'chdir(path): the path as in open.' },
  { name: 'getcwd', vars: [], params: ['*bytes', 'int', 'int'], result: 'int', syscall: 183,
    buffer: { buf: 0, off: 1, count: 2 },
    doc: 'getcwd(buf, off, count): the working directory with its NUL into buf[off .. off+count); returns its length including the NUL (-ERANGE if it does not fit).' },
  { name: 'readlink', vars: [], params: ['*rbytes', '*bytes', 'int', 'int'], result: 'int', syscall: 85,
    buffer: { buf: 1, off: 2, count: 3 },
    doc: 'readlink(path, buf, off, count): the target of the symbolic link at path (no NUL) into buf[off .. off+count); returns its length.' },
  { name: 'uname', vars: [], params: ['*bytes', 'int'], result: 'int', syscall: 122,
    buffer: { buf: 0, off: 1, count: { fixed: UTSNAME_SIZE } },
    doc: 'uname(buf, off): struct new_utsname (six NUL-padded 65-byte fields: sysname, nodename, release, version, machine, domainname) into buf[off .. off+390).' },
  { name: 'clock_gettime', vars: [], params: ['int', '*bytes', 'int'], result: 'int', syscall: 265,
    buffer: { buf: 1, off: 2, count: { fixed: TIMESPEC_SIZE } },
    doc: 'clock_gettime(clk, buf, off): struct timespec (tv_sec, tv_nsec: two 32-bit words) into buf[off .. off+8).' },
  { name: 'nanosleep', vars: [], params: ['*rbytes', 'int'], result: 'int', syscall: 162,
    buffer: { buf: 0, off: 1, count: { fixed: TIMESPEC_SIZE } }, nullArgs: 1,
    doc: 'nanosleep(req, off): sleeps for the struct timespec read from req[off .. off+8); rem is NULL.' },
  // ---- sockets (the direct socket calls of Linux i386, not socketcall) ----
  { name: 'socket', vars: [], params: ['int', 'int', 'int'], result: 'int', syscall: 359,
    doc: 'socket(domain, type, protocol): socket(2).' },
  { name: 'bind', vars: [], params: ['int', '*rbytes', 'int'], result: 'int', syscall: 361,
    buffer: { buf: 1, off: 2, count: SOCKADDR },
    sysArgs: [{ param: 0 }, { buffer: true }, { const: SOCKADDR_IN_SIZE }],
    doc: 'bind(fd, addr, off): bind(2) to the struct sockaddr_in read from addr[off .. off+16); addrlen 16.' },
  { name: 'connect', vars: [], params: ['int', '*rbytes', 'int'], result: 'int', syscall: 362,
    buffer: { buf: 1, off: 2, count: SOCKADDR },
    sysArgs: [{ param: 0 }, { buffer: true }, { const: SOCKADDR_IN_SIZE }],
    doc: 'connect(fd, addr, off): connect(2) to the struct sockaddr_in read from addr[off .. off+16); addrlen 16.' },
  { name: 'listen', vars: [], params: ['int', 'int'], result: 'int', syscall: 363,
    doc: 'listen(fd, backlog): listen(2).' },
  { name: 'accept4', vars: [], params: ['int', 'int'], result: 'int', syscall: 364,
    sysArgs: [{ param: 0 }, { const: 0 }, { const: 0 }, { param: 1 }],
    doc: 'accept4(fd, flags): accept4(2) with addr and addrlen NULL; the new descriptor.' },
  { name: 'getsockname', vars: [], params: ['int', '*bytes', 'int'], result: 'int', syscall: 367,
    buffer: { buf: 1, off: 2, count: SOCKADDR },
    sysArgs: [{ param: 0 }, { buffer: true }, { wordPointer: SOCKADDR_IN_SIZE }],
    doc: 'getsockname(fd, buf, off): the local address, a struct sockaddr_in, into buf[off .. off+16) (addrlen: a word holding 16).' },
  { name: 'getpeername', vars: [], params: ['int', '*bytes', 'int'], result: 'int', syscall: 368,
    buffer: { buf: 1, off: 2, count: SOCKADDR },
    sysArgs: [{ param: 0 }, { buffer: true }, { wordPointer: SOCKADDR_IN_SIZE }],
    doc: 'getpeername(fd, buf, off): the peer\'s address, as getsockname.' },
  { name: 'setsockopt', vars: [], params: ['int', 'int', 'int', 'int'], result: 'int', syscall: 366,
    sysArgs: [{ param: 0 }, { param: 1 }, { param: 2 }, { paramAddress: 3 }, { const: 4 }],
    doc: 'setsockopt(fd, level, optname, value): setsockopt(2) with optval pointing to the int value, optlen 4.' },
  { name: 'shutdown', vars: [], params: ['int', 'int'], result: 'int', syscall: 373,
    doc: 'shutdown(fd, how): shutdown(2).' },
  { name: 'sendto', vars: [], params: ['int', '*rbytes', 'int', 'int', 'int'], result: 'int', syscall: 369,
    buffer: { buf: 1, off: 2, count: 3 },
    sysArgs: [{ param: 0 }, { buffer: true }, { param: 3 }, { param: 4 }, { const: 0 }, { const: 0 }],
    doc: 'sendto(fd, buf, off, count, flags): sendto(2) from buf[off .. off+count); dest_addr NULL, addrlen 0.' },
  { name: 'recvfrom', vars: [], params: ['int', '*bytes', 'int', 'int', 'int'], result: 'int', syscall: 371,
    buffer: { buf: 1, off: 2, count: 3 },
    sysArgs: [{ param: 0 }, { buffer: true }, { param: 3 }, { param: 4 }, { const: 0 }, { const: 0 }],
    doc: 'recvfrom(fd, buf, off, count, flags): recvfrom(2) into buf[off .. off+count); src_addr and addrlen NULL.' },
  { name: 'poll', vars: [], params: ['*bytes', 'int', 'int', 'int'], result: 'int', syscall: 168,
    buffer: { buf: 0, off: 1, count: 2, unit: POLLFD_SIZE },
    doc: 'poll(fds, off, count, timeout): poll(2) on the struct pollfd records (8 bytes each) in fds[off .. off+count); count is in bytes, a multiple of 8 (else -EINVAL), nfds = count / 8.' },
  { name: 'fcntl', vars: [], params: ['int', 'int', 'int'], result: 'int', syscall: 221,
    doc: 'fcntl(fd, cmd, arg): fcntl64(2) with an int argument: F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL (another command: -EINVAL).' },
];

/**
 * How one argument of an import's system call is computed from the import's parameters: what the user-mode stub
 * loads into a register (tal/asm/runtime.ts) and what the kernel-mode binder passes (kernel/ktal.ts). `path` is
 * parameter i's byte array as a NUL-terminated name; `buffer` is the address of buf[off]; `units` is parameter i (a
 * byte count) divided by the buffer's unit.
 */
export type SysArg =
  | { readonly k: 'param'; readonly i: number } | { readonly k: 'path'; readonly i: number } | { readonly k: 'buffer' }
  | { readonly k: 'units'; readonly i: number } | { readonly k: 'const'; readonly n: number }
  | { readonly k: 'paramAddress'; readonly i: number } | { readonly k: 'wordPointer'; readonly n: number };

/**
 * The system call's arguments, in order: the spec's sysArgs if it has them, else each parameter as it is, except
 * that a buffer's byte array becomes the address of buf[off] (its offset is dropped, its count stays where it is,
 * divided by the buffer's unit if it has one) and any other `*rbytes` is a path; then the spec's null pointers.
 */
export function syscallArgs(imp: ImportSpec): SysArg[] {
  const b = imp.buffer;
  const fromParam = (i: number): SysArg =>
    b && i === b.buf ? { k: 'buffer' }
    : imp.params[i] === '*rbytes' ? { k: 'path', i }
    : b?.unit !== undefined && i === b.count ? { k: 'units', i }
    : { k: 'param', i };
  const args: SysArg[] = [];
  if (imp.sysArgs) {
    for (const a of imp.sysArgs) {
      if ('param' in a) args.push(fromParam(a.param));
      else if ('buffer' in a) args.push({ k: 'buffer' });
      else if ('const' in a) args.push({ k: 'const', n: a.const });
      else if ('paramAddress' in a) args.push({ k: 'paramAddress', i: a.paramAddress });
      else args.push({ k: 'wordPointer', n: a.wordPointer });
    }
  } else {
    imp.params.forEach((_, i) => {
      if (b && i === b.off) return;
      args.push(fromParam(i));
    });
  }
  for (let n = 0; n < (imp.nullArgs ?? 0); n++) args.push({ k: 'const', n: 0 });
  if (args.filter(a => a.k === 'path').length > 1) throw new Error(`internal: ${imp.name} has two paths`);
  if (b?.unit !== undefined && (typeof b.count !== 'number' || b.unit <= 0 || (b.unit & (b.unit - 1)) !== 0))
    throw new Error(`internal: ${imp.name}: a unit needs a count parameter and a power of two`);
  return args;
}

export interface ImportSig {
  readonly spec: ImportSpec;
  readonly vars: readonly Binder[];
  readonly params: readonly Ty[];
  readonly result: Ty | null;
}

const sigCache = new Map<string, ImportSig>();

/** The typed signature of an import, or undefined if the kernel offers no such import. */
export function importSig(name: string): ImportSig | undefined {
  const cached = sigCache.get(name);
  if (cached) return cached;
  const spec = IMPORTS.find(s => s.name === name);
  if (!spec) return undefined;
  const vars: Binder[] = spec.vars.map((v, i) => {
    const [n, k] = v.split(':');
    return { name: n, kind: k === 'stack' ? 'stack' : 'word', id: -1 - i - 1000 * IMPORTS.indexOf(spec) };
  });
  const env = { defs: new Map(), scope: new Map(vars.map(b => [b.name, b])) };
  try {
    const sig: ImportSig = { spec, vars, params: spec.params.map(p => parseTy(p, env)),
      result: spec.result === null ? null : parseTy(spec.result, env) };
    sigCache.set(name, sig);
    return sig;
  } catch (e) {
    if (e instanceof TypeSyntaxError) throw new Error(`internal: bad type in the interface for ${name}: ${e.message}`);
    throw e;
  }
}
