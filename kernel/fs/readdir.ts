// getdents64 (fs/readdir.c: iterate_dir, filldir64): fills a buffer with linux_dirent64 records from the open
// directory's position on. Each record's d_off is the position after it, so a later call, or an lseek to any
// d_off seen, resumes there.
import { EBADF, EINVAL, ENOENT, ENOTDIR } from '../errno.ts';
import { FMODE_PATH, type OpenFile } from './file.ts';
import { encodeDirent64 } from './stat.ts';
import { NO_WORK, type WorkMeter } from '../work.ts';

/**
 * Bytes written to `buf` (0 at the end of the directory), or -errno (EINVAL if not even one record fits). Each
 * record is charged to `work` (filldir64's share of the kernel's work, kernel/work.ts).
 */
export function getdents64(file: OpenFile, buf: Uint8Array, work: WorkMeter = NO_WORK): number {
  if (file.fmode & FMODE_PATH) return -EBADF;
  const iterate = file.fops.iterate;
  if (!iterate) return -ENOTDIR;
  const inode = file.inode;
  if (inode.dead) return -ENOENT;
  let used = 0;
  let records = 0;
  let full = false;
  const ctx = {
    pos: file.pos,
    emit(name: string, ino: number, type: number, next: number): boolean {
      const n = encodeDirent64(buf, used, ino, next, type, name);
      if (n === 0) {
        full = true;
        return false;
      }
      used += n;
      records++;
      return true;
    },
  };
  const r = iterate(file, ctx);
  file.pos = ctx.pos;
  work.charge('dirEntry', records);
  if (r < 0 && used === 0) return r;
  if (used === 0 && full) return -EINVAL;
  inode.accessed();
  return used;
}

/** One entry as readdir gives it. */
export interface DirEntry {
  name: string;
  ino: number;
  type: number;
  /** The position after this entry (its d_off). */
  off: number;
}

/** Every entry from the file's position on (a convenience for the kernel and tests; moves the position to the end). */
export function readdirAll(file: OpenFile): DirEntry[] | number {
  const out: DirEntry[] = [];
  const iterate = file.fops.iterate;
  if (file.fmode & FMODE_PATH) return -EBADF;
  if (!iterate) return -ENOTDIR;
  if (file.inode.dead) return -ENOENT;
  const ctx = {
    pos: file.pos,
    emit(name: string, ino: number, type: number, next: number): boolean {
      out.push({ name, ino, type, off: next });
      return true;
    },
  };
  const r = iterate(file, ctx);
  file.pos = ctx.pos;
  return r < 0 ? r : out;
}
