// The file system calls (fs/read_write.c, fs/open.c, fs/stat.c, fs/readdir.c, fs/namei.c, fs/d_path.c), Linux
// i386 argument conventions: each takes the calling process, its user memory and the raw 32-bit arguments as the
// registers hold them (ebx, ecx, edx, esi, edi in that order), and returns the result or -errno. Both ways into
// the kernel (the int 0x80 trap and kernel mode's direct call) end here.
//
// A read or write whose buffer faults part-way transfers the bytes before the first bad page and returns their
// count (-EFAULT if there are none), as Linux's page-by-page copies do for regular files; a getdents64 whose buffer
// faults gives -EFAULT and leaves the directory position where it was (Linux may keep the records it copied).
import { EBADF, EFAULT, EINVAL, EISDIR, EMFILE, ENAMETOOLONG, ENOENT, EOVERFLOW, ERANGE } from '../errno.ts';
import { PAGE_SIZE } from '../arch/layout.ts';
import type { FdTable } from '../fdtable.ts';
import { AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_CREAT, O_TMPFILE, PATH_MAX,
  SEEK_HOLE } from '../fs/fcntl.ts';
import {
  FMODE_PATH, FMODE_READ, FMODE_WRITE, vfsFstat, vfsLseek, vfsRead, vfsWrite, type OpenFile,
} from '../fs/file.ts';
import type { Path } from '../fs/mount.ts';
import { chdir, faccessat, getcwd, openat, readlinkat, statat, type FsContext } from '../fs/namei.ts';
import { getdents64 } from '../fs/readdir.ts';
import { S_IALLUGO, STAT64_SIZE, encodeStat64, isDir, type KStat } from '../fs/stat.ts';
import { SYS } from './numbers.ts';
import { accessOk, type UserMemory } from './usermem.ts';

/** What the file calls need of a process: its fs_struct and credentials (FsContext) and its descriptor table. */
export interface FileProc {
  fs: FsContext;
  files: FdTable;
}

/** MAX_RW_COUNT: the most one read or write transfers (INT_MAX & PAGE_MASK). */
export const MAX_RW_COUNT = 0x7ffff000;
/** Bytes moved between user memory and the file per step of a read or write. */
const CHUNK = 0x10000;
/** The largest kernel buffer one getdents64 fills (a larger count just gives fewer records than would fit). */
const DIRENT_BUF = 0x100000;
const SEEK_MAX = SEEK_HOLE;

/** Copies `bytes` out page by page (of the user address) up to the first page that faults; the count copied. */
function copyOutPartial(user: UserMemory, addr: number, bytes: Uint8Array): number {
  if (bytes.length === 0 || user.copyOut(addr, bytes) === 0) return bytes.length;
  let done = 0;
  while (done < bytes.length) {
    const at = u32(addr + done);
    const n = Math.min(bytes.length - done, PAGE_SIZE - (at & (PAGE_SIZE - 1)));
    if (user.copyOut(at, bytes.subarray(done, done + n)) < 0) break;
    done += n;
  }
  return done;
}

/** Up to `len` bytes from `addr`, page by page, stopping at the first page that faults. */
function copyInPartial(user: UserMemory, addr: number, len: number): Uint8Array {
  const whole = user.copyIn(addr, len);
  if (typeof whole !== 'number') return whole;
  const parts: Uint8Array[] = [];
  let done = 0;
  while (done < len) {
    const at = u32(addr + done);
    const n = Math.min(len - done, PAGE_SIZE - (at & (PAGE_SIZE - 1)));
    const b = user.copyIn(at, n);
    if (typeof b === 'number') break;
    parts.push(b);
    done += n;
  }
  return Buffer.concat(parts);
}

/** fdget: the open file (O_PATH descriptors included only when `raw`, as fdget_raw). */
function fdget(proc: FileProc, fd: number, raw = false): OpenFile | undefined {
  const f = proc.files.get(fd >>> 0 > 0x7fffffff ? -1 : fd);
  if (!f || (!raw && (f.fmode & FMODE_PATH))) return undefined;
  return f;
}

/**
 * A path the kernel already holds (Linux's getname_kernel()): what the kernel-mode interface passes for a path a
 * verified program gave as a byte array. The call then proceeds exactly as for a user pointer.
 */
export interface KernelName { readonly kernel: string }
/** A path argument: a user address, or a name already in the kernel. */
export type PathArg = number | KernelName;

/** getname: the path argument, copied from user memory (EFAULT, ENAMETOOLONG at PATH_MAX bytes without a NUL). */
function getname(user: UserMemory, addr: PathArg): string | number {
  if (typeof addr !== 'number') {
    const nul = addr.kernel.indexOf('\0');
    const name = nul < 0 ? addr.kernel : addr.kernel.slice(0, nul);
    return name.length >= PATH_MAX ? -ENAMETOOLONG : name;
  }
  return user.strncpyFromUser(addr, PATH_MAX);
}

/** The base of a *at() call: undefined for AT_FDCWD or an absolute name (Linux ignores dirfd then), else dirfd's path. */
function atBase(proc: FileProc, dirfd: number, name: string): Path | undefined | number {
  if ((dirfd | 0) === AT_FDCWD || name.charCodeAt(0) === 47) return undefined;
  const f = fdget(proc, dirfd, true);
  if (!f) return -EBADF;
  return f.path;
}

const u32 = (v: number) => v >>> 0;

// -------------------------------------------------------------------------------------------------------------
// read, write, lseek

/** read(fd, buf, count). */
export function sys_read(proc: FileProc, user: UserMemory, fd: number, buf: number, count: number): number {
  const file = fdget(proc, fd);
  if (!file) return -EBADF;
  if (!(file.fmode & FMODE_READ)) return -EBADF;
  if (!file.fops.read && !isDir(file.inode.mode)) return -EINVAL;
  count = u32(count);
  if (!accessOk(buf, count)) return -EFAULT;
  if (!file.fops.read) return -EISDIR; // generic_read_dir
  if (count > 0x7fffffff) return -EINVAL;
  count = Math.min(count, MAX_RW_COUNT);
  if (count === 0) return vfsRead(file, new Uint8Array(0));
  let done = 0;
  while (done < count) {
    const want = Math.min(CHUNK, count - done);
    const kbuf = new Uint8Array(want);
    const before = file.pos;
    const n = vfsRead(file, kbuf);
    if (n < 0) return done > 0 ? done : n;
    const copied = copyOutPartial(user, u32(buf + done), kbuf.subarray(0, n));
    if (copied < n) {
      if (!file.fops.stream) file.pos = before + copied;
      done += copied;
      return done > 0 ? done : -EFAULT;
    }
    done += n;
    if (n < want) break;
  }
  return done;
}

/** write(fd, buf, count). */
export function sys_write(proc: FileProc, user: UserMemory, fd: number, buf: number, count: number): number {
  const file = fdget(proc, fd);
  if (!file) return -EBADF;
  if (!(file.fmode & FMODE_WRITE)) return -EBADF;
  if (!file.fops.write) return -EINVAL;
  count = u32(count);
  if (!accessOk(buf, count)) return -EFAULT;
  if (count > 0x7fffffff) return -EINVAL;
  count = Math.min(count, MAX_RW_COUNT);
  if (count === 0) return vfsWrite(file, new Uint8Array(0));
  if (file.fops.discardsWrites) return discard(file, count);
  const chunk = file.fops.writeChunk ?? CHUNK;
  let done = 0;
  while (done < count) {
    const want = Math.min(chunk, count - done);
    const whole = file.fops.writeChunk !== undefined ? user.copyIn(u32(buf + done), want) : undefined;
    const kbuf = whole === undefined ? copyInPartial(user, u32(buf + done), want) : typeof whole === 'number'
      ? new Uint8Array(0) : whole;
    if (kbuf.length === 0) return done > 0 ? done : -EFAULT;
    const n = vfsWrite(file, kbuf);
    if (n < 0) return done > 0 ? done : n;
    done += n;
    if (n < want) break;
  }
  return done;
}

/**
 * A write to a driver that never looks at the data (write_null): `count` bytes offered in chunks of one shared
 * buffer, so that the kernel does not allocate host memory in proportion to a count the program chose.
 */
function discard(file: OpenFile, count: number): number {
  let done = 0;
  while (done < count) {
    const n = vfsWrite(file, DISCARDED.subarray(0, Math.min(CHUNK, count - done)));
    if (n < 0) return done > 0 ? done : n;
    done += n;
    if (n === 0) break;
  }
  return done;
}
const DISCARDED = new Uint8Array(CHUNK);

/** lseek(fd, offset, whence): offset is a signed 32-bit off_t; a result above 2^31-1 is EOVERFLOW (the position moves). */
export function sys_lseek(proc: FileProc, _user: UserMemory, fd: number, offset: number, whence: number): number {
  const file = fdget(proc, fd);
  if (!file) return -EBADF;
  if (u32(whence) > SEEK_MAX) return -EINVAL;
  const r = vfsLseek(file, offset | 0, whence);
  if (r < 0) return r;
  return r > 0x7fffffff ? -EOVERFLOW : r;
}

/** _llseek(fd, offset_high, offset_low, result, whence): the 64-bit position is stored at `result` (EFAULT). */
export function sys__llseek(proc: FileProc, user: UserMemory, fd: number, high: number, low: number, result: number,
  whence: number): number {
  const file = fdget(proc, fd);
  if (!file) return -EBADF;
  if (u32(whence) > SEEK_MAX) return -EINVAL;
  const r = vfsLseek(file, (high | 0) * 0x100000000 + u32(low), whence);
  if (r < 0) return r;
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, r >>> 0, true);
  dv.setUint32(4, Math.floor(r / 0x100000000) >>> 0, true);
  return user.copyOut(result, out) < 0 ? -EFAULT : 0;
}

// -------------------------------------------------------------------------------------------------------------
// open, close

/** openat(dirfd, pathname, flags, mode). i386 does not force O_LARGEFILE (force_o_largefile is 64-bit only). */
export function sys_openat(proc: FileProc, user: UserMemory, dirfd: number, pathname: PathArg, flags: number,
  mode: number): number {
  mode = flags & (O_CREAT | O_TMPFILE) ? mode & S_IALLUGO : 0;
  const name = getname(user, pathname);
  if (typeof name === 'number') return name;
  if (name === '') return -ENOENT;
  if (!proc.files.hasFree()) return -EMFILE;
  const base = atBase(proc, dirfd, name);
  if (typeof base === 'number') return base;
  const file = openat(proc.fs, base, name, flags, mode);
  if (typeof file === 'number') return file;
  const fd = proc.files.alloc(file, (flags & O_CLOEXEC) !== 0);
  if (fd < 0) file.fops.release?.(file);
  return fd;
}

/** open(pathname, flags, mode). */
export function sys_open(proc: FileProc, user: UserMemory, pathname: PathArg, flags: number, mode: number): number {
  return sys_openat(proc, user, AT_FDCWD, pathname, flags, mode);
}

/** close(fd). */
export function sys_close(proc: FileProc, _user: UserMemory, fd: number): number {
  return proc.files.close(fd >>> 0 > 0x7fffffff ? -1 : fd);
}

// -------------------------------------------------------------------------------------------------------------
// directories

/** getdents64(fd, dirent, count): bytes of linux_dirent64 records, 0 at the end, EINVAL if one does not fit. */
export function sys_getdents64(proc: FileProc, user: UserMemory, fd: number, dirent: number, count: number): number {
  const file = fdget(proc, fd);
  if (!file) return -EBADF;
  const kbuf = new Uint8Array(Math.min(u32(count), DIRENT_BUF));
  const before = file.pos;
  const n = getdents64(file, kbuf, proc.fs.work);
  if (n <= 0) return n;
  if (user.copyOut(dirent, kbuf.subarray(0, n)) === 0) return n;
  // filldir64 copies record by record: the records before the first that faults are returned, and the position
  // is the d_off of the last of them.
  const v = new DataView(kbuf.buffer, kbuf.byteOffset, n);
  let done = 0;
  let pos = before;
  while (done < n) {
    const reclen = v.getUint16(done + 16, true);
    if (user.copyOut(u32(dirent + done), kbuf.subarray(done, done + reclen)) < 0) break;
    pos = Number(v.getBigInt64(done + 8, true));
    done += reclen;
  }
  file.pos = pos;
  return done > 0 ? done : -EFAULT;
}

/** getcwd(buf, size): the length with the NUL; ERANGE if it does not fit; ENOENT once the cwd is removed. */
export function sys_getcwd(proc: FileProc, user: UserMemory, buf: number, size: number): number {
  const cwd = getcwd(proc.fs);
  if (typeof cwd === 'number') return cwd;
  const len = cwd.length + 1;
  if (len > u32(size)) return -ERANGE;
  const out = Buffer.alloc(len);
  out.write(cwd, 'latin1');
  return user.copyOut(buf, out) < 0 ? -EFAULT : len;
}

/** chdir(pathname). */
export function sys_chdir(proc: FileProc, user: UserMemory, pathname: PathArg): number {
  const name = getname(user, pathname);
  if (typeof name === 'number') return name;
  const p = chdir(proc.fs, name);
  if (typeof p === 'number') return p;
  proc.fs.cwd = p;
  return 0;
}

// -------------------------------------------------------------------------------------------------------------
// attributes

function putStat(user: UserMemory, st: KStat | number, statbuf: number): number {
  if (typeof st === 'number') return st;
  const out = new Uint8Array(STAT64_SIZE);
  encodeStat64(st, out);
  return user.copyOut(statbuf, out) < 0 ? -EFAULT : 0;
}

/** stat64(pathname, statbuf). */
export function sys_stat64(proc: FileProc, user: UserMemory, pathname: PathArg, statbuf: number): number {
  return sys_fstatat64(proc, user, AT_FDCWD, pathname, statbuf, 0);
}

/** lstat64(pathname, statbuf). */
export function sys_lstat64(proc: FileProc, user: UserMemory, pathname: PathArg, statbuf: number): number {
  return sys_fstatat64(proc, user, AT_FDCWD, pathname, statbuf, AT_SYMLINK_NOFOLLOW);
}

/** fstat64(fd, statbuf): any descriptor, O_PATH ones included (fdget_raw). */
export function sys_fstat64(proc: FileProc, user: UserMemory, fd: number, statbuf: number): number {
  const file = fdget(proc, fd, true);
  if (!file) return -EBADF;
  return putStat(user, vfsFstat(file), statbuf);
}

/** fstatat64(dirfd, pathname, statbuf, flags): AT_SYMLINK_NOFOLLOW, AT_NO_AUTOMOUNT, AT_EMPTY_PATH. */
export function sys_fstatat64(proc: FileProc, user: UserMemory, dirfd: number, pathname: PathArg, statbuf: number,
  flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) return -EINVAL;
  const name = getname(user, pathname);
  if (typeof name === 'number') return name;
  if (name === '' && (flags & AT_EMPTY_PATH)) {
    if ((dirfd | 0) === AT_FDCWD) return putStat(user, statat(proc.fs, undefined, '', { emptyPath: true }), statbuf);
    return sys_fstat64(proc, user, dirfd, statbuf);
  }
  if (name === '') return -ENOENT;
  const base = atBase(proc, dirfd, name);
  if (typeof base === 'number') return base;
  return putStat(user, statat(proc.fs, base, name, { follow: !(flags & AT_SYMLINK_NOFOLLOW) }), statbuf);
}

/** readlink(pathname, buf, bufsiz): the target truncated to bufsiz bytes, no NUL; EINVAL for bufsiz <= 0. */
export function sys_readlink(proc: FileProc, user: UserMemory, pathname: PathArg, buf: number, bufsiz: number): number {
  if ((bufsiz | 0) <= 0) return -EINVAL;
  const name = getname(user, pathname);
  if (typeof name === 'number') return name;
  if (name === '') return -ENOENT;
  const target = readlinkat(proc.fs, undefined, name);
  if (typeof target === 'number') return target;
  const out = Buffer.from(target.slice(0, bufsiz | 0), 'latin1');
  return user.copyOut(buf, out) < 0 ? -EFAULT : out.length;
}

/** access(pathname, mode): with the real uid and gid. */
export function sys_access(proc: FileProc, user: UserMemory, pathname: PathArg, mode: number): number {
  if (mode & ~7) return -EINVAL;
  const name = getname(user, pathname);
  if (typeof name === 'number') return name;
  if (name === '') return -ENOENT;
  return faccessat(proc.fs, undefined, name, mode, 0);
}

/** A file system call as the dispatcher calls it: the raw register arguments in order. */
export type FileSyscall = (proc: FileProc, user: UserMemory, ...args: number[]) => number;

/** The file system calls by Linux i386 number (kernel/syscalls/numbers.ts). */
export const FILE_SYSCALLS: ReadonlyMap<number, FileSyscall> = new Map<number, FileSyscall>([
  [SYS.read, sys_read], [SYS.write, sys_write], [SYS.open, sys_open], [SYS.close, sys_close],
  [SYS.chdir, sys_chdir], [SYS.lseek, sys_lseek], [SYS.access, sys_access], [SYS.readlink, sys_readlink],
  [SYS._llseek, sys__llseek], [SYS.getcwd, sys_getcwd], [SYS.stat64, sys_stat64], [SYS.lstat64, sys_lstat64],
  [SYS.fstat64, sys_fstat64], [SYS.getdents64, sys_getdents64], [SYS.openat, sys_openat],
  [SYS.fstatat64, sys_fstatat64],
]);
