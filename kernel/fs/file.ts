// Open file descriptions (struct file) and the read/write/lseek paths (fs/read_write.c, fs/open.c's truncate).
// An OpenFile is what file descriptor tables point to: dup'ed descriptors share one, with its offset and flags;
// `refs` counts the descriptors, and the last fput releases it.
import { EBADF, EFBIG, EINVAL, EISDIR, ENXIO, ESPIPE } from '../errno.ts';
import type { PollWait } from '../poll.ts';
import type { Dentry } from './dentry.ts';
import { MAX_NON_LFS, O_APPEND, O_LARGEFILE, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET } from './fcntl.ts';
import type { Inode } from './inode.ts';
import type { Path } from './mount.ts';
import { capable, type Cred } from './permission.ts';
import { S_ISGID, S_ISUID, S_IXGRP, isDir, isReg, type KStat } from './stat.ts';

export const FMODE_READ = 0x1;
export const FMODE_WRITE = 0x2;
export const FMODE_EXEC = 0x20;
/** An O_PATH descriptor: no reads, writes or directory listing, just a place (fstat, *at, fchdir). */
export const FMODE_PATH = 0x4000;

/** A file position passed by reference (loff_t *ppos): the file system advances it. */
export interface Pos {
  value: number;
}

/**
 * What readdir fills (struct dir_context): `pos` is the position of the next entry to give; `emit` takes one entry
 * with `next`, the position after it (its d_off), and returns false when the caller's buffer is full, in which
 * case the file system stops and leaves `pos` at that entry.
 */
export interface DirContext {
  pos: number;
  emit(name: string, ino: number, type: number, next: number): boolean;
}

export interface FileOps {
  /** Called when the file is opened (after permission checks); 0 or -errno. */
  open?(file: OpenFile): number;
  read?(file: OpenFile, buf: Uint8Array, ppos: Pos): number;
  write?(file: OpenFile, buf: Uint8Array, ppos: Pos): number;
  llseek?(file: OpenFile, offset: number, whence: number): number;
  /** readdir: emits entries from ctx.pos on; 0 or -errno. */
  iterate?(file: OpenFile, ctx: DirContext): number;
  /** The last reference is gone. */
  release?(file: OpenFile): void;
  ioctl?(file: OpenFile, cmd: number, arg: number): number;
  /**
   * f_op->poll: the POLL* mask the file would report now; to a caller that will sleep (`wait` given), also the wait
   * queues woken when that may change. A file without it is always ready for reading and writing (a regular file).
   */
  poll?(file: OpenFile, wait: PollWait): number;
  /** FMODE_STREAM: the file has no position (lseek, pread and pwrite give ESPIPE). */
  stream?: boolean;
  /**
   * The driver's write never looks at the data (write_null): the system call does not copy it from user memory, so
   * a bad buffer is not noticed beyond access_ok.
   */
  discardsWrites?: boolean;
  /**
   * The driver copies from user memory in chunks of this many bytes, each all or nothing (a tty's write copies
   * 2048-byte chunks with one copy_from_user each): a fault in a chunk writes none of it.
   */
  writeChunk?: number;
}

export class OpenFile {
  /** Descriptors (in any table) that refer to this description. */
  refs = 1;
  pos = 0;
  /** The file system's or driver's own state (file->private_data). */
  priv: unknown = undefined;

  constructor(readonly path: Path, readonly inode: Inode, public flags: number, readonly fmode: number,
    readonly fops: FileOps) {}

  get dentry(): Dentry {
    return this.path.dentry;
  }
}

/** Another reference (dup, fork). */
export function fget(file: OpenFile): OpenFile {
  file.refs++;
  return file;
}

/** Drops a reference (close); the last one releases the file. */
export function fput(file: OpenFile): void {
  if (--file.refs === 0) file.fops.release?.(file);
}

/** The largest position a write may reach: MAX_NON_LFS without O_LARGEFILE, else the file system's limit. */
function limitOf(file: OpenFile): number {
  return file.flags & O_LARGEFILE ? file.inode.sb.maxBytes : Math.min(MAX_NON_LFS, file.inode.sb.maxBytes);
}

/**
 * generic_write_checks for regular files: the position O_APPEND moves to (`size`), and how many of `count` bytes
 * may be written at it (-EFBIG if none).
 */
export function writeChecks(file: OpenFile, ppos: Pos, count: number, size: number): number {
  if (file.flags & O_APPEND) ppos.value = size;
  const limit = limitOf(file);
  if (count === 0) return 0;
  if (ppos.value >= limit) return -EFBIG;
  return Math.min(count, limit - ppos.value);
}

export function vfsRead(file: OpenFile, buf: Uint8Array): number {
  if (!(file.fmode & FMODE_READ)) return -EBADF;
  if (!file.fops.read) return isDir(file.inode.mode) ? -EISDIR : -EINVAL;
  const ppos = { value: file.pos };
  const n = file.fops.read(file, buf, ppos);
  if (!file.fops.stream) file.pos = ppos.value;
  return n;
}

export function vfsWrite(file: OpenFile, buf: Uint8Array): number {
  if (!(file.fmode & FMODE_WRITE)) return -EBADF;
  if (!file.fops.write) return -EINVAL;
  const ppos = { value: file.pos };
  const n = file.fops.write(file, buf, ppos);
  if (!file.fops.stream) file.pos = ppos.value;
  return n;
}

/** pread64: at `offset`, without moving the file position. */
export function vfsPread(file: OpenFile, buf: Uint8Array, offset: number): number {
  if (!(file.fmode & FMODE_READ)) return -EBADF;
  if (offset < 0) return -EINVAL;
  if (file.fops.stream) return -ESPIPE;
  if (!file.fops.read) return isDir(file.inode.mode) ? -EISDIR : -EINVAL;
  return file.fops.read(file, buf, { value: offset });
}

/** pwrite64: at `offset` (or at the end with O_APPEND, as Linux does), without moving the file position. */
export function vfsPwrite(file: OpenFile, buf: Uint8Array, offset: number): number {
  if (!(file.fmode & FMODE_WRITE)) return -EBADF;
  if (offset < 0) return -EINVAL;
  if (file.fops.stream) return -ESPIPE;
  if (!file.fops.write) return -EINVAL;
  return file.fops.write(file, buf, { value: offset });
}

/** lseek/_llseek: the new position or -errno (the 32-bit lseek's EOVERFLOW is the system call's to check). */
export function vfsLseek(file: OpenFile, offset: number, whence: number): number {
  if (file.fmode & FMODE_PATH) return -EBADF;
  if (file.fops.llseek) return file.fops.llseek(file, offset, whence);
  if (file.fops.stream) return -ESPIPE;
  return genericLlseek(file, offset, whence, file.inode.size, file.inode.sb.maxBytes);
}

/** generic_file_llseek_size: SEEK_SET/CUR/END/DATA/HOLE over a file of `size` bytes. */
export function genericLlseek(file: OpenFile, offset: number, whence: number, size: number, maxSize: number): number {
  let pos: number;
  switch (whence) {
    case SEEK_SET: pos = offset; break;
    case SEEK_CUR: pos = file.pos + offset; break;
    case SEEK_END: pos = size + offset; break;
    case SEEK_DATA:
      if (offset < 0 || offset >= size) return -ENXIO;
      pos = offset;
      break;
    case SEEK_HOLE:
      if (offset < 0 || offset >= size) return -ENXIO;
      pos = size;
      break;
    default: return -EINVAL;
  }
  if (pos < 0 || pos > maxSize) return -EINVAL;
  file.pos = pos;
  return pos;
}

/** A directory's lseek (dcache_dir_lseek): SEEK_SET and SEEK_CUR to any non-negative position. */
export function dirLlseek(file: OpenFile, offset: number, whence: number): number {
  let pos: number;
  if (whence === SEEK_SET) pos = offset;
  else if (whence === SEEK_CUR) pos = file.pos + offset;
  else return -EINVAL;
  if (pos < 0) return -EINVAL;
  file.pos = pos;
  return pos;
}

/** fstat: the attributes of an open file. */
export function vfsFstat(file: OpenFile): KStat | number {
  return file.inode.getattr(file.dentry, file);
}

/**
 * do_truncate: sets the size of a regular file (the caller has checked it may write); clears setuid, and setgid
 * if group-executable, when not root (file_remove_privs); updates mtime and ctime.
 */
export function doTruncate(cred: Cred, dentry: Dentry, length: number, file?: OpenFile): number {
  const inode = dentry.inode;
  if (length < 0) return -EINVAL;
  if (length > inode.sb.maxBytes) return -EFBIG;
  const now = inode.sb.now();
  let mode: number | undefined;
  if (!capable(cred) && (inode.mode & (S_ISUID | S_ISGID))) {
    mode = inode.mode & ~S_ISUID;
    if ((inode.mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) mode &= ~S_ISGID;
  }
  return inode.setattr(dentry, { size: length, mtime: now, ctime: now, mode }, file);
}

/** ftruncate64: the file must be a regular file open for writing (EINVAL otherwise). */
export function vfsFtruncate(cred: Cred, file: OpenFile, length: number): number {
  if (length < 0) return -EINVAL;
  if (file.fmode & FMODE_PATH) return -EBADF;
  if (!isReg(file.inode.mode) || !(file.fmode & FMODE_WRITE)) return -EINVAL;
  if (!(file.flags & O_LARGEFILE) && length > MAX_NON_LFS) return -EINVAL;
  return doTruncate(cred, file.dentry, length, file);
}
