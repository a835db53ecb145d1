// hostfs (in the spirit of UML's fs/hostfs): a real host directory tree shown in the guest. Attributes are the
// host's own (mode, nlink, uid, gid, size, blocks, blksize, inode number, device, times with nanoseconds, from
// lstat with bigint results); the guest's permission checks read them with the guest's credentials. Directory
// listings come from fs.opendirSync, whose order is readdir(3)'s, i.e. the host kernel's getdents order (not
// fs.readdirSync, which sorts the names), with `.` and `..` put first. Symbolic links are shown as links; the
// guest's path walk follows them in the guest namespace, so an absolute target resolves from the guest's root and
// `..` leaves the mount only into the guest's own tree: nothing the guest names reaches above the mount's host
// directory. Read-only unless mounted rw (then creations, writes, renames and removals go to the host, and new
// files get the guest creator's owner when the host process may chown). Host device nodes cannot be opened (the
// mount is nodev); FIFOs and sockets give ENXIO. Names are byte strings (latin1), so any host name round-trips.
import { closeSync, fstatSync, ftruncateSync, linkSync, lchownSync, chmodSync, lstatSync, mkdirSync, openSync,
  opendirSync, readSync, readlinkSync, realpathSync, renameSync, rmdirSync, symlinkSync, unlinkSync,
  writeSync, constants, type BigIntStats } from 'node:fs';
import { ENOENT, ENXIO, EROFS, hostErrno } from '../errno.ts';
import { PAGE_SIZE } from '../arch/layout.ts';
import { Dentry } from './dentry.ts';
import { FMODE_READ, FMODE_WRITE, dirLlseek, genericLlseek, writeChecks, type DirContext, type FileOps, type OpenFile,
  type Pos } from './file.ts';
import { MAX_LFS_FILESIZE, O_APPEND } from './fcntl.ts';
import { Inode, SuperBlock, anonDev, initOwner, wallClock, type Clock, type SetAttr } from './inode.ts';
import type { Cred } from './permission.ts';
import {
  DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG, DT_SOCK, DT_UNKNOWN, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, isDir,
  isLnk, isReg, type KStat, type Timespec,
} from './stat.ts';

export interface HostfsOptions {
  /** Writable (default: read-only, EROFS on any change). */
  rw?: boolean;
  clock?: Clock;
}

const hostIsRoot = () => process.getuid?.() === 0;

function lstatHost(p: Buffer): BigIntStats | null | number {
  try {
    return lstatSync(p, { bigint: true, throwIfNoEntry: false }) ?? null;
  } catch (e) {
    return hostErrno(e);
  }
}

/** Runs a host operation: 0, or the host's error as -errno. */
function hostOp(f: () => void): number {
  try {
    f();
    return 0;
  } catch (e) {
    return hostErrno(e);
  }
}

function timespec(ns: bigint): Timespec {
  let sec = ns / 1_000_000_000n, nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

export class Hostfs extends SuperBlock {
  readonly fsType = 'hostfs';
  readonly root: Dentry;
  /** The host directory shown (its real path, symlinks resolved), as bytes. */
  readonly hostRoot: Buffer;

  /** Throws (with the host's message) if hostPath is not a directory the host process can see. */
  constructor(hostPath: string, opts: HostfsOptions = {}) {
    super(anonDev(), !opts.rw, MAX_LFS_FILESIZE, opts.clock ?? wallClock);
    this.hostRoot = realpathSync(hostPath, { encoding: 'buffer' });
    const st = lstatSync(this.hostRoot, { bigint: true });
    if (!st.isDirectory()) throw new Error(`hostfs: ${hostPath} is not a directory`);
    this.root = new Dentry('/', null, new HostInode(this, st));
  }

  /** The host path of a dentry of this file system: the host root and the names up to it. */
  pathOf(d: Dentry): Buffer {
    const names: Buffer[] = [];
    for (let x = d; !x.isRoot; x = x.parent) names.push(Buffer.from('/' + x.name, 'latin1'));
    names.push(this.hostRoot);
    return Buffer.concat(names.reverse());
  }

  childPath(dir: Dentry, name: string): Buffer {
    return Buffer.concat([this.pathOf(dir), Buffer.from('/' + name, 'latin1')]);
  }
}

interface HostDirState {
  entries: { name: string; type: number }[];
}

/** A directory entry with its name as bytes. */
interface HostDirent {
  readonly name: Buffer;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

/**
 * fs.opendirSync with { encoding: 'buffer' } (Node supports it; @types/node's OpenDirOptions leaves 'buffer' out),
 * so that names that are not UTF-8 come through as their bytes.
 */
const openDirBuffer = opendirSync as unknown as (path: Buffer, options: { encoding: 'buffer' }) => {
  readSync(): HostDirent | null;
  closeSync(): void;
};

function direntType(e: HostDirent): number {
  if (e.isFile()) return DT_REG;
  if (e.isDirectory()) return DT_DIR;
  if (e.isSymbolicLink()) return DT_LNK;
  if (e.isFIFO()) return DT_FIFO;
  if (e.isSocket()) return DT_SOCK;
  if (e.isCharacterDevice()) return DT_CHR;
  if (e.isBlockDevice()) return DT_BLK;
  return DT_UNKNOWN;
}

/** The host descriptor of an open regular file. */
function hostFd(file: OpenFile): number | undefined {
  return typeof file.priv === 'number' ? file.priv : undefined;
}

const hostFileOps: FileOps = {
  open(file: OpenFile): number {
    const sb = file.inode.sb as Hostfs;
    const acc = file.fmode & FMODE_WRITE
      ? (file.fmode & FMODE_READ ? constants.O_RDWR : constants.O_WRONLY) : constants.O_RDONLY;
    try {
      file.priv = openSync(sb.pathOf(file.dentry), acc | constants.O_NOFOLLOW);
      return 0;
    } catch (e) {
      return hostErrno(e);
    }
  },
  release(file: OpenFile): void {
    const fd = hostFd(file);
    if (fd !== undefined) closeSync(fd);
    file.priv = undefined;
  },
  read(file: OpenFile, buf: Uint8Array, ppos: Pos): number {
    const fd = hostFd(file);
    if (fd === undefined) return -ENXIO;
    try {
      const n = readSync(fd, buf, 0, buf.length, ppos.value);
      ppos.value += n;
      return n;
    } catch (e) {
      return hostErrno(e);
    }
  },
  write(file: OpenFile, buf: Uint8Array, ppos: Pos): number {
    const fd = hostFd(file);
    if (fd === undefined) return -ENXIO;
    if (file.inode.sb.readonly) return -EROFS;
    try {
      const size = file.flags & O_APPEND ? fstatSync(fd).size : 0;
      const count = writeChecks(file, ppos, buf.length, size);
      if (count <= 0) return count;
      const n = writeSync(fd, buf, 0, count, ppos.value);
      ppos.value += n;
      return n;
    } catch (e) {
      return hostErrno(e);
    }
  },
  llseek(file: OpenFile, offset: number, whence: number): number {
    const fd = hostFd(file);
    let size = file.inode.size;
    if (fd !== undefined) {
      try {
        size = fstatSync(fd).size;
      } catch (e) {
        return hostErrno(e);
      }
    }
    return genericLlseek(file, offset, whence, size, file.inode.sb.maxBytes);
  },
};

const hostDirOps: FileOps = {
  iterate(file: OpenFile, ctx: DirContext): number {
    return (file.inode as HostInode).iterate(file, ctx);
  },
  llseek: dirLlseek,
};

const hostOtherOps: FileOps = {
  open: () => -ENXIO,
};

export class HostInode extends Inode {
  declare readonly sb: Hostfs;
  private hostDev = 0;
  private blksize = PAGE_SIZE;
  private nblocks = 0;

  constructor(sb: Hostfs, st: BigIntStats) {
    super(sb, Number(st.ino), Number(st.mode));
    this.fill(st);
  }

  fill(st: BigIntStats): void {
    this.ino = Number(st.ino);
    this.mode = Number(st.mode);
    this.nlink = Number(st.nlink);
    this.uid = Number(st.uid);
    this.gid = Number(st.gid);
    this.rdev = Number(st.rdev);
    this.size = Number(st.size);
    this.hostDev = Number(st.dev);
    this.blksize = Number(st.blksize);
    this.nblocks = Number(st.blocks);
    this.atime = timespec(st.atimeNs);
    this.mtime = timespec(st.mtimeNs);
    this.ctime = timespec(st.ctimeNs);
  }

  override kstat(): KStat {
    return { ...super.kstat(), dev: this.hostDev, blksize: this.blksize };
  }

  override blocks(): number {
    return this.nblocks;
  }

  /** The host keeps the times. */
  override accessed(): void {}

  private refresh(d: Dentry, file?: OpenFile): number {
    const fd = file ? hostFd(file) : undefined;
    if (fd !== undefined) {
      try {
        this.fill(fstatSync(fd, { bigint: true }));
        return 0;
      } catch (e) {
        return hostErrno(e);
      }
    }
    const st = lstatHost(this.sb.pathOf(d));
    if (st === null) return -ENOENT;
    if (typeof st === 'number') return st;
    this.fill(st);
    return 0;
  }

  override getattr(d: Dentry, file?: OpenFile): KStat | number {
    const r = this.refresh(d, file);
    return r < 0 ? r : this.kstat();
  }

  override revalidate(d: Dentry): boolean {
    const st = lstatHost(this.sb.pathOf(d));
    if (st === null || typeof st === 'number') return false;
    if (Number(st.ino) !== this.ino || (Number(st.mode) & S_IFMT) !== (this.mode & S_IFMT)) return false;
    this.fill(st);
    return true;
  }

  override lookup(dir: Dentry, name: string): Inode | null | number {
    const st = lstatHost(this.sb.childPath(dir, name));
    if (st === null || typeof st === 'number') return st;
    return new HostInode(this.sb, st);
  }

  override readlink(d: Dentry): string | number {
    try {
      return readlinkSync(this.sb.pathOf(d), { encoding: 'buffer' }).toString('latin1');
    } catch (e) {
      return hostErrno(e);
    }
  }

  /** After creating `p` on the host: give it the guest creator's owner (if the host lets us) and exact mode. */
  private finishCreate(p: Buffer, cred: Cred, mode: number, isLink = false): Inode | number {
    const own = initOwner(cred, this, mode);
    const r = hostOp(() => {
      if (hostIsRoot()) lchownSync(p, own.uid, own.gid);
      if (!isLink) chmodSync(p, own.mode & 0o7777);
    });
    if (r < 0) return r;
    const st = lstatHost(p);
    if (st === null) return -ENOENT;
    if (typeof st === 'number') return st;
    return new HostInode(this.sb, st);
  }

  override create(dir: Dentry, name: string, mode: number, cred: Cred): Inode | number {
    if (this.sb.readonly) return -EROFS;
    const p = this.sb.childPath(dir, name);
    const r = hostOp(() => closeSync(openSync(p,
      constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600)));
    return r < 0 ? r : this.finishCreate(p, cred, S_IFREG | (mode & 0o7777));
  }

  override mkdir(dir: Dentry, name: string, mode: number, cred: Cred): Inode | number {
    if (this.sb.readonly) return -EROFS;
    const p = this.sb.childPath(dir, name);
    const r = hostOp(() => mkdirSync(p, { mode: 0o700 }));
    return r < 0 ? r : this.finishCreate(p, cred, S_IFDIR | (mode & 0o7777));
  }

  override symlink(dir: Dentry, name: string, target: string, cred: Cred): Inode | number {
    if (this.sb.readonly) return -EROFS;
    const p = this.sb.childPath(dir, name);
    const r = hostOp(() => symlinkSync(Buffer.from(target, 'latin1'), p));
    return r < 0 ? r : this.finishCreate(p, cred, S_IFLNK | 0o777, true);
  }

  override link(old: Dentry, dir: Dentry, name: string): number {
    if (this.sb.readonly) return -EROFS;
    return hostOp(() => linkSync(this.sb.pathOf(old), this.sb.childPath(dir, name)));
  }

  override unlink(_dir: Dentry, victim: Dentry): number {
    if (this.sb.readonly) return -EROFS;
    return hostOp(() => unlinkSync(this.sb.pathOf(victim)));
  }

  override rmdir(_dir: Dentry, victim: Dentry): number {
    if (this.sb.readonly) return -EROFS;
    const r = hostOp(() => rmdirSync(this.sb.pathOf(victim)));
    if (r === 0) {
      victim.inode.dead = true;
      victim.inode.nlink = 0;
    }
    return r;
  }

  override rename(_oldDir: Dentry, old: Dentry, newDir: Dentry, name: string, target: Dentry | null): number {
    if (this.sb.readonly) return -EROFS;
    const r = hostOp(() => renameSync(this.sb.pathOf(old), this.sb.childPath(newDir, name)));
    if (r === 0 && target && isDir(target.inode.mode)) target.inode.dead = true;
    return r;
  }

  override setattr(d: Dentry, attr: SetAttr, file?: OpenFile): number {
    if (this.sb.readonly) return -EROFS;
    const p = this.sb.pathOf(d);
    const fd = file ? hostFd(file) : undefined;
    const r = hostOp(() => {
      if (attr.uid !== undefined || attr.gid !== undefined) lchownSync(p, attr.uid ?? -1, attr.gid ?? -1);
      // (chmod follows a host symlink; the VFS never asks for a link's mode, and lchown does not follow.)
      if (attr.mode !== undefined && !isLnk(this.mode)) chmodSync(p, attr.mode & 0o7777);
      if (attr.size !== undefined) {
        if (fd !== undefined) {
          ftruncateSync(fd, attr.size);
        } else {
          const tfd = openSync(p, constants.O_WRONLY | constants.O_NOFOLLOW);
          try {
            ftruncateSync(tfd, attr.size);
          } finally {
            closeSync(tfd);
          }
        }
      }
    });
    if (r < 0) return r;
    return this.refresh(d, file);
  }

  override fileOps(): FileOps {
    if (isReg(this.mode)) return hostFileOps;
    if (isDir(this.mode)) return hostDirOps;
    return hostOtherOps;
  }

  iterate(file: OpenFile, ctx: DirContext): number {
    const d = file.dentry;
    let state = file.priv as HostDirState | undefined;
    if (!state || ctx.pos === 0) {
      const entries: HostDirState['entries'] = [];
      try {
        const dir = openDirBuffer(this.sb.pathOf(d), { encoding: 'buffer' });
        try {
          for (let e = dir.readSync(); e; e = dir.readSync()) entries.push({ name: e.name.toString('latin1'),
            type: direntType(e) });
        } finally {
          dir.closeSync();
        }
      } catch (e) {
        return hostErrno(e);
      }
      state = { entries };
      file.priv = state;
    }
    if (ctx.pos === 0) {
      if (!ctx.emit('.', this.ino, DT_DIR, 1)) return 0;
      ctx.pos = 1;
    }
    if (ctx.pos === 1) {
      if (!ctx.emit('..', d.parent.inode.ino, DT_DIR, 2)) return 0;
      ctx.pos = 2;
    }
    const dirPath = this.sb.pathOf(d);
    for (let i = ctx.pos - 2; i < state.entries.length; i++) {
      const e = state.entries[i];
      // getdents gives d_ino; Node's Dirent has none, so ask the host (an entry gone since the listing is skipped).
      const st = lstatHost(Buffer.concat([dirPath, Buffer.from('/' + e.name, 'latin1')]));
      if (st !== null && typeof st !== 'number') {
        if (!ctx.emit(e.name, Number(st.ino), e.type, i + 3)) return 0;
      }
      ctx.pos = i + 3;
    }
    return 0;
  }
}
