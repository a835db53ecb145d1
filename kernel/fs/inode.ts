// Super blocks and inodes (include/linux/fs.h: struct super_block, struct inode with its inode_operations).
// A file system subclasses both; the default operations give the errors Linux's VFS gives when a file system
// lacks the operation (vfs_create: EACCES, vfs_mkdir and the others: EPERM, a lookup in a non-directory: ENOTDIR).
import { EACCES, EINVAL, ENOTDIR, EPERM } from '../errno.ts';
import { PAGE_SIZE } from '../arch/layout.ts';
import type { Dentry } from './dentry.ts';
import type { FileOps, OpenFile } from './file.ts';
import { capable, fsgid, fsuid, inGroup, type Cred } from './permission.ts';
import { S_IFDIR, S_IFMT, S_ISGID, S_IXGRP, type KStat, type Timespec } from './stat.ts';

export type Clock = () => Timespec;

/** The host's wall clock with nanoseconds (Date.now() for the seconds, hrtime for the sub-millisecond part). */
export const wallClock: Clock = () => {
  const ms = Date.now();
  const ns = Number(process.hrtime.bigint() % 1_000_000n);
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 + ns };
};

let nextAnonDev = 0x20;
/** An anonymous device number (major 0), as get_anon_bdev gives file systems without a block device. */
export function anonDev(): number {
  return nextAnonDev++;
}

export abstract class SuperBlock {
  abstract readonly fsType: string;
  /** The file system's device number (user-space dev_t form). */
  readonly dev: number;
  /** SB_RDONLY: writes to regular files, directories and symlinks fail with EROFS. */
  readonly: boolean;
  /** The root dentry (set by the file system when it builds its root). */
  abstract readonly root: Dentry;
  /** s_maxbytes: the largest file. */
  maxBytes: number;

  constructor(dev: number, readonly_: boolean, maxBytes: number, readonly clock: Clock) {
    this.dev = dev;
    this.readonly = readonly_;
    this.maxBytes = maxBytes;
  }

  now(): Timespec {
    return this.clock();
  }
}

/** Attributes to change (struct iattr). */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: Timespec;
  mtime?: Timespec;
  ctime?: Timespec;
}

export class Inode {
  nlink = 1;
  uid = 0;
  gid = 0;
  rdev = 0;
  size = 0;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  /** IS_DEADDIR: a removed directory; nothing can be looked up or created in it, readdir gives ENOENT. */
  dead = false;

  constructor(readonly sb: SuperBlock, public ino: number, public mode: number) {
    const t = sb.now();
    this.atime = t;
    this.mtime = t;
    this.ctime = t;
  }

  // --- directories (inode_operations) ---

  /** The child named `name` of the directory `dir` (this inode): an inode, null if there is none, or -errno. */
  lookup(_dir: Dentry, _name: string): Inode | null | number {
    return -ENOTDIR;
  }
  create(_dir: Dentry, _name: string, _mode: number, _cred: Cred): Inode | number {
    return -EACCES;
  }
  mkdir(_dir: Dentry, _name: string, _mode: number, _cred: Cred): Inode | number {
    return -EPERM;
  }
  mknod(_dir: Dentry, _name: string, _mode: number, _rdev: number, _cred: Cred): Inode | number {
    return -EPERM;
  }
  symlink(_dir: Dentry, _name: string, _target: string, _cred: Cred): Inode | number {
    return -EPERM;
  }
  /** Adds `old` under `name` in this directory (`dir`); 0 or -errno. */
  link(_old: Dentry, _dir: Dentry, _name: string): number {
    return -EPERM;
  }
  unlink(_dir: Dentry, _victim: Dentry): number {
    return -EPERM;
  }
  /** Removes the empty directory `victim` (-ENOTEMPTY otherwise). */
  rmdir(_dir: Dentry, _victim: Dentry): number {
    return -EPERM;
  }
  /**
   * Moves `old` (a child of `oldDir`, this inode) to `name` in `newDir`, replacing `target` if given (the VFS has
   * checked the kinds match); -ENOTEMPTY if `target` is a non-empty directory.
   */
  rename(_oldDir: Dentry, _old: Dentry, _newDir: Dentry, _name: string, _target: Dentry | null): number {
    return -EPERM;
  }
  /** Whether a cached child dentry still stands for what the file system has (d_revalidate); refreshes it. */
  revalidate(_d: Dentry): boolean {
    return true;
  }

  // --- symlinks ---

  readlink(_d: Dentry): string | number {
    return -EINVAL;
  }

  // --- attributes ---

  /** The attributes (getattr); a file system backed by something else refreshes them first. */
  getattr(_d: Dentry, _file?: OpenFile): KStat | number {
    return this.kstat();
  }

  /** Changes attributes (the VFS has checked permission); 0 or -errno. */
  setattr(_d: Dentry, attr: SetAttr, _file?: OpenFile): number {
    if (attr.mode !== undefined) this.mode = (this.mode & S_IFMT) | (attr.mode & ~S_IFMT);
    if (attr.uid !== undefined) this.uid = attr.uid;
    if (attr.gid !== undefined) this.gid = attr.gid;
    if (attr.atime) this.atime = attr.atime;
    if (attr.mtime) this.mtime = attr.mtime;
    if (attr.ctime) this.ctime = attr.ctime;
    return 0;
  }

  /** touch_atime after a read or readdir (relatime); a file system that keeps its own times does nothing. */
  accessed(): void {
    if (this.sb.readonly) return;
    const now = this.sb.now();
    if (needsAtime(this, now)) this.atime = now;
  }

  /** Blocks of 512 bytes the inode occupies. */
  blocks(): number {
    return 0;
  }

  kstat(): KStat {
    return {
      dev: this.sb.dev, ino: this.ino, mode: this.mode, nlink: this.nlink, uid: this.uid, gid: this.gid,
      rdev: this.rdev, size: this.size, blksize: PAGE_SIZE, blocks: this.blocks(),
      atime: this.atime, mtime: this.mtime, ctime: this.ctime,
    };
  }

  // --- files ---

  /** The file operations an open file of this inode uses (device files are bound by the VFS instead). */
  fileOps(): FileOps {
    return {};
  }
}

/**
 * inode_init_owner: the owner of a new inode is the creator's fsuid; its group the directory's if the directory is
 * setgid (and a new directory inherits the setgid bit), else the creator's fsgid. A setgid, group-executable new
 * file of a group the creator is not in loses the setgid bit unless the creator is root.
 */
export function initOwner(cred: Cred, dir: Inode, mode: number): { uid: number; gid: number; mode: number } {
  const uid = fsuid(cred);
  let gid = fsgid(cred);
  if (dir.mode & S_ISGID) {
    gid = dir.gid;
    if ((mode & S_IFMT) === S_IFDIR) mode |= S_ISGID;
    else if ((mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP) && !inGroup(cred, gid) && !capable(cred))
      mode &= ~S_ISGID;
  }
  return { uid, gid, mode };
}

/**
 * relatime: reading updates atime only if it is not newer than mtime or ctime, or is a day old (touch_atime with
 * the relatime default).
 */
export function needsAtime(inode: Inode, now: Timespec): boolean {
  const le = (a: Timespec, b: Timespec) => a.sec < b.sec || (a.sec === b.sec && a.nsec <= b.nsec);
  return le(inode.atime, inode.mtime) || le(inode.atime, inode.ctime) || now.sec - inode.atime.sec >= 24 * 3600;
}
