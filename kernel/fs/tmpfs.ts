// tmpfs (mm/shmem.c, fs/libfs.c's stable directory offsets): files, directories, symbolic links and device nodes
// kept in memory. Regular files are sparse arrays of 4 KiB pages (holes read as zeros and occupy no blocks), with a
// page budget for the whole file system (ENOSPC when it is spent). Directories list `.` and `..`, then their
// entries in creation order; each entry keeps the position (cookie) it got when it was added, so a readdir that
// resumes from a d_off neither repeats nor skips entries whatever was added or removed in between.
import { ENOSPC, ENOTEMPTY } from '../errno.ts';
import { PAGE_SIZE } from '../arch/layout.ts';
import { Dentry } from './dentry.ts';
import { dirLlseek, writeChecks, type DirContext, type FileOps, type OpenFile, type Pos } from './file.ts';
import { MAX_LFS_FILESIZE } from './fcntl.ts';
import { Inode, SuperBlock, anonDev, initOwner, wallClock, type Clock, type SetAttr } from './inode.ts';
import type { Cred } from './permission.ts';
import {
  DT_DIR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, isDir, modeToDtype, type Timespec,
} from './stat.ts';

/** shmem's BOGO_DIRENT_SIZE: a directory's size grows by this for each entry (and starts at two of them). */
const BOGO_DIRENT_SIZE = 20;
/** Symlinks up to this long are kept in the inode (no blocks). */
const SHORT_SYMLINK_LEN = 128;

export interface TmpfsOptions {
  /** The size limit in bytes (default 512 MiB). */
  maxBytes?: number;
  /**
   * The number of inodes (nr_inodes): files, directories, links and device nodes each take one, so that names cannot
   * grow without bound either. Default: half the size limit in pages (Linux's default is half the RAM's pages, which
   * a file system does not know here), at least 1024.
   */
  maxInodes?: number;
  /** The root directory's permission bits (default 0o1777, as tmpfs). */
  mode?: number;
  uid?: number;
  gid?: number;
  clock?: Clock;
  readonly?: boolean;
}

export class Tmpfs extends SuperBlock {
  readonly fsType = 'tmpfs';
  readonly root: Dentry;
  private nextIno = 1;
  pagesUsed = 0;
  readonly maxPages: number;
  inodesUsed = 0;
  readonly maxInodes: number;

  constructor(opts: TmpfsOptions = {}) {
    super(anonDev(), opts.readonly ?? false, MAX_LFS_FILESIZE, opts.clock ?? wallClock);
    this.maxPages = Math.floor((opts.maxBytes ?? 512 * 1024 * 1024) / PAGE_SIZE);
    this.maxInodes = opts.maxInodes ?? Math.max(1024, Math.floor(this.maxPages / 2));
    this.inodesUsed = 1; // the root
    const root = new TmpDir(this, S_IFDIR | ((opts.mode ?? 0o1777) & 0o7777));
    root.uid = opts.uid ?? 0;
    root.gid = opts.gid ?? 0;
    this.root = new Dentry('/', null, root);
  }

  allocIno(): number {
    return this.nextIno++;
  }
}

abstract class TmpInode extends Inode {
  declare readonly sb: Tmpfs;

  constructor(sb: Tmpfs, mode: number) {
    super(sb, sb.allocIno(), mode);
  }

  private freed = false;

  /** The last link is gone (and, for files, the last open description): give back what it holds. */
  evict(): void {
    if (this.nlink === 0) this.freeInode();
  }

  /** shmem_free_inode: the inode's count goes back to the file system, once. */
  protected freeInode(): void {
    if (this.freed) return;
    this.freed = true;
    this.sb.inodesUsed--;
  }

  dropLink(): void {
    this.nlink--;
    this.ctime = this.sb.now();
  }
}

function touch(inode: Inode, t: Timespec, m = true, c = true): void {
  if (m) inode.mtime = t;
  if (c) inode.ctime = t;
}

interface Entry {
  readonly name: string;
  readonly inode: TmpInode;
  readonly cookie: number;
  removed: boolean;
}

const dirFops: FileOps = {
  iterate(file: OpenFile, ctx: DirContext): number {
    return (file.inode as TmpDir).iterate(file, ctx);
  },
  llseek: dirLlseek,
};

export class TmpDir extends TmpInode {
  private readonly byName = new Map<string, Entry>();
  /** The entries in cookie order; removed ones stay (marked) until compacted. */
  private order: Entry[] = [];
  private removedCount = 0;
  private nextCookie = 2;

  constructor(sb: Tmpfs, mode: number) {
    super(sb, mode);
    this.nlink = 2;
    this.size = 2 * BOGO_DIRENT_SIZE;
  }

  get entryCount(): number {
    return this.byName.size;
  }

  override lookup(_dir: Dentry, name: string): Inode | null {
    return this.byName.get(name)?.inode ?? null;
  }

  private add(name: string, inode: TmpInode): void {
    const e: Entry = { name, inode, cookie: this.nextCookie++, removed: false };
    this.byName.set(name, e);
    this.order.push(e);
    this.size += BOGO_DIRENT_SIZE;
    touch(this, this.sb.now());
  }

  private remove(name: string): void {
    const e = this.byName.get(name);
    if (!e) return;
    this.byName.delete(name);
    e.removed = true;
    this.size -= BOGO_DIRENT_SIZE;
    if (++this.removedCount > 32 && this.removedCount > this.order.length / 2) {
      this.order = this.order.filter(x => !x.removed);
      this.removedCount = 0;
    }
    touch(this, this.sb.now());
  }

  /** A new inode, or -ENOSPC when the file system's inodes are spent (shmem_reserve_inode). */
  private newInode(ctor: 'file' | 'dir' | 'symlink' | 'special', mode: number, cred: Cred): TmpInode | number {
    if (this.sb.inodesUsed >= this.sb.maxInodes) return -ENOSPC;
    this.sb.inodesUsed++;
    const own = initOwner(cred, this, mode);
    const inode = ctor === 'file' ? new TmpFile(this.sb, own.mode) : ctor === 'dir' ? new TmpDir(this.sb, own.mode)
      : ctor === 'symlink' ? new TmpSymlink(this.sb, own.mode) : new TmpSpecial(this.sb, own.mode);
    inode.uid = own.uid;
    inode.gid = own.gid;
    return inode;
  }

  override create(_dir: Dentry, name: string, mode: number, cred: Cred): Inode | number {
    const inode = this.newInode('file', S_IFREG | (mode & 0o7777), cred);
    if (typeof inode === 'number') return inode;
    this.add(name, inode);
    return inode;
  }

  override mkdir(_dir: Dentry, name: string, mode: number, cred: Cred): Inode | number {
    const inode = this.newInode('dir', S_IFDIR | (mode & 0o7777), cred);
    if (typeof inode === 'number') return inode;
    this.add(name, inode);
    this.nlink++;
    return inode;
  }

  override mknod(_dir: Dentry, name: string, mode: number, rdev: number, cred: Cred): Inode | number {
    const t = mode & S_IFMT;
    const inode = t === S_IFREG || t === 0 ? this.newInode('file', S_IFREG | (mode & 0o7777), cred)
      : this.newInode('special', mode, cred);
    if (typeof inode === 'number') return inode;
    inode.rdev = t === S_IFREG || t === 0 ? 0 : rdev;
    this.add(name, inode);
    return inode;
  }

  override symlink(_dir: Dentry, name: string, target: string, cred: Cred): Inode | number {
    const made = this.newInode('symlink', S_IFLNK | 0o777, cred);
    if (typeof made === 'number') return made;
    const inode = made as TmpSymlink;
    inode.target = target;
    inode.size = target.length;
    this.add(name, inode);
    return inode;
  }

  override link(old: Dentry, _dir: Dentry, name: string): number {
    const inode = old.inode as TmpInode;
    inode.nlink++;
    inode.ctime = this.sb.now();
    this.add(name, inode);
    return 0;
  }

  override unlink(_dir: Dentry, victim: Dentry): number {
    const inode = victim.inode as TmpInode;
    this.remove(victim.name);
    inode.dropLink();
    inode.evict();
    return 0;
  }

  override rmdir(_dir: Dentry, victim: Dentry): number {
    const inode = victim.inode as TmpDir;
    if (inode.entryCount > 0) return -ENOTEMPTY;
    this.remove(victim.name);
    this.nlink--;
    inode.nlink = 0;
    inode.dead = true;
    inode.ctime = this.sb.now();
    inode.evict();
    return 0;
  }

  override rename(_oldDir: Dentry, old: Dentry, newDir: Dentry, name: string, target: Dentry | null): number {
    const nd = newDir.inode as TmpDir;
    const inode = old.inode as TmpInode;
    if (target && isDir(target.inode.mode) && (target.inode as TmpDir).entryCount > 0) return -ENOTEMPTY;
    this.remove(old.name);
    if (target) {
      const victim = target.inode as TmpInode;
      nd.remove(name);
      if (isDir(victim.mode)) {
        victim.nlink = 0;
        victim.dead = true;
        nd.nlink--;
      } else {
        victim.dropLink();
      }
      victim.evict();
    }
    nd.add(name, inode);
    if (isDir(inode.mode) && nd !== this) {
      this.nlink--;
      nd.nlink++;
    }
    inode.ctime = this.sb.now();
    return 0;
  }

  override fileOps(): FileOps {
    return dirFops;
  }

  /** The first entry whose cookie is at least `pos` (binary search over the cookie-ordered list). */
  private firstFrom(pos: number): number {
    let lo = 0, hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order[mid].cookie < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  iterate(file: OpenFile, ctx: DirContext): number {
    if (ctx.pos === 0) {
      if (!ctx.emit('.', this.ino, DT_DIR, 1)) return 0;
      ctx.pos = 1;
    }
    if (ctx.pos === 1) {
      if (!ctx.emit('..', file.dentry.parent.inode.ino, DT_DIR, 2)) return 0;
      ctx.pos = 2;
    }
    for (let i = this.firstFrom(ctx.pos); i < this.order.length; i++) {
      const e = this.order[i];
      if (e.removed) continue;
      if (!ctx.emit(e.name, e.inode.ino, modeToDtype(e.inode.mode), e.cookie + 1)) return 0;
      ctx.pos = e.cookie + 1;
    }
    // Past every entry: a later readdir starts after anything added since only if it got a larger cookie.
    ctx.pos = Math.max(ctx.pos, this.nextCookie);
    return 0;
  }
}

const fileFops: FileOps = {
  open(file: OpenFile): number {
    (file.inode as TmpFile).opens++;
    return 0;
  },
  release(file: OpenFile): void {
    const f = file.inode as TmpFile;
    f.opens--;
    f.evict();
  },
  read(file: OpenFile, buf: Uint8Array, ppos: Pos): number {
    return (file.inode as TmpFile).read(buf, ppos);
  },
  write(file: OpenFile, buf: Uint8Array, ppos: Pos): number {
    const f = file.inode as TmpFile;
    const count = writeChecks(file, ppos, buf.length, f.size);
    if (count <= 0) return count;
    return f.write(count === buf.length ? buf : buf.subarray(0, count), ppos);
  },
};

export class TmpFile extends TmpInode {
  private readonly pages = new Map<number, Uint8Array>();
  /** Open descriptions of this file: its pages live while there are any, even after the last unlink. */
  opens = 0;

  override fileOps(): FileOps {
    return fileFops;
  }

  override blocks(): number {
    return this.pages.size * (PAGE_SIZE / 512);
  }

  override evict(): void {
    if (this.nlink === 0 && this.opens === 0) {
      this.freePagesFrom(0);
      this.freeInode();
    }
  }

  read(buf: Uint8Array, ppos: Pos): number {
    const pos = ppos.value;
    if (pos >= this.size || buf.length === 0) {
      this.accessed();
      return 0;
    }
    const n = Math.min(buf.length, this.size - pos);
    let done = 0;
    while (done < n) {
      const at = pos + done;
      const index = Math.floor(at / PAGE_SIZE), off = at % PAGE_SIZE;
      const len = Math.min(PAGE_SIZE - off, n - done);
      const page = this.pages.get(index);
      if (page) buf.set(page.subarray(off, off + len), done);
      else buf.fill(0, done, done + len);
      done += len;
    }
    ppos.value = pos + n;
    this.accessed();
    return n;
  }

  /** Writes at ppos (the VFS has applied O_APPEND and the size limits); a short count when the budget runs out. */
  write(buf: Uint8Array, ppos: Pos): number {
    const pos = ppos.value;
    let done = 0;
    while (done < buf.length) {
      const at = pos + done;
      const index = Math.floor(at / PAGE_SIZE), off = at % PAGE_SIZE;
      const len = Math.min(PAGE_SIZE - off, buf.length - done);
      let page = this.pages.get(index);
      if (!page) {
        if (this.sb.pagesUsed >= this.sb.maxPages) break;
        page = new Uint8Array(PAGE_SIZE);
        this.pages.set(index, page);
        this.sb.pagesUsed++;
      }
      page.set(buf.subarray(done, done + len), off);
      done += len;
    }
    if (done === 0) return -ENOSPC;
    ppos.value = pos + done;
    if (pos + done > this.size) this.size = pos + done;
    touch(this, this.sb.now());
    return done;
  }

  private freePagesFrom(size: number): void {
    const first = Math.ceil(size / PAGE_SIZE);
    for (const index of [...this.pages.keys()]) {
      if (index >= first) {
        this.pages.delete(index);
        this.sb.pagesUsed--;
      }
    }
    const tail = size % PAGE_SIZE;
    if (tail) this.pages.get(Math.floor(size / PAGE_SIZE))?.fill(0, tail);
  }

  override setattr(d: Dentry, attr: SetAttr, file?: OpenFile): number {
    if (attr.size !== undefined && attr.size !== this.size) {
      if (attr.size < this.size) this.freePagesFrom(attr.size);
      this.size = attr.size;
    }
    return super.setattr(d, attr, file);
  }
}

export class TmpSymlink extends TmpInode {
  target = '';

  override readlink(_d: Dentry): string {
    this.accessed();
    return this.target;
  }

  override blocks(): number {
    return this.target.length >= SHORT_SYMLINK_LEN ? PAGE_SIZE / 512 : 0;
  }
}

/** Device nodes, FIFOs and sockets: the VFS binds device files to their drivers when they are opened. */
export class TmpSpecial extends TmpInode {}
