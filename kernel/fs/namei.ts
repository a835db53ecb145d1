// Path names (fs/namei.c, fs/open.c, fs/stat.c, fs/d_path.c): the path walk and every operation that names a
// file. Each takes the caller's FsContext (credentials, root, cwd, umask) and, for the *at() forms, a base path
// (a directory descriptor's path; undefined for AT_FDCWD). Results are values or negative errno numbers, in the
// order of checks Linux makes, so a program sees the same error Linux would give it.
//
// The walk: absolute names start at the context's root, relative ones at the base or cwd; search (x) permission
// on every directory a component is looked up in; `.` stays, `..` goes to the parent (at the root it stays; at the
// root of a mount it first crosses to the mount point); symbolic links are followed in every component but the
// last, and in the last unless the operation says not to (a trailing slash always follows and requires a
// directory); 40 links per walk at most (ELOOP); a component over 255 bytes or a name of 4096 bytes or more is
// ENAMETOOLONG; an empty name is ENOENT.
import {
  EACCES, EBUSY, EEXIST, EINVAL, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, ENOTEMPTY, ENXIO, EOPNOTSUPP,
  EOVERFLOW, EPERM, EROFS, EXDEV,
} from '../errno.ts';
import type { Dentry } from './dentry.ts';
import {
  FMODE_EXEC, FMODE_PATH, FMODE_READ, FMODE_WRITE, OpenFile, doTruncate, type FileOps,
} from './file.ts';
import {
  AT_EACCESS, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, MAXSYMLINKS, MAX_NON_LFS, NAME_MAX, O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECTORY,
  O_EXCL, O_LARGEFILE, O_NOATIME, O_NOFOLLOW, O_PATH, O_TMPFILE, O_TRUNC, PATH_MAX, RENAME_NOREPLACE,
} from './fcntl.ts';
import type { Inode } from './inode.ts';
import { followMounts, samePath, type Path } from './mount.ts';
import type { WorkMeter } from '../work.ts';
import {
  MAY_EXEC, MAY_READ, MAY_WRITE, accessCred, capable, fsuid, inGroup, inodePermission, ownerOrCapable, type Cred,
} from './permission.ts';
import {
  S_IALLUGO, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_IRWXUGO, S_ISGID, S_ISUID, S_ISVTX,
  S_IXGRP, isBlk, isChr, isDir, isLnk, isReg, type KStat,
} from './stat.ts';

/** What a path walk needs of the calling process (its struct cred and struct fs_struct). */
export interface FsContext {
  cred: Cred;
  root: Path;
  cwd: Path;
  umask: number;
  /** Charged for each component walked and each open (kernel/work.ts); absent: free. */
  work?: WorkMeter;
}

/** One path walk (struct nameidata): where it is, and how many links it has followed. */
interface Walk {
  readonly ctx: FsContext;
  path: Path;
  links: number;
}

type LastType = 'norm' | 'dot' | 'dotdot' | 'root';

/** The last component of a name: its text, its kind, and whether slashes followed it. */
interface Last {
  readonly name: string;
  readonly type: LastType;
  readonly slash: boolean;
}

const SLASH = 47;

/**
 * getname: the name as the kernel copies it from user space: up to a NUL (a C string ends there), ENAMETOOLONG
 * from PATH_MAX bytes on, ENOENT if empty (unless `allowEmpty`, for AT_EMPTY_PATH).
 */
export function getname(name: string, allowEmpty = false): string | number {
  const nul = name.indexOf('\0');
  if (nul >= 0) name = name.slice(0, nul);
  if (name.length >= PATH_MAX) return -ENAMETOOLONG;
  if (name === '' && !allowEmpty) return -ENOENT;
  return name;
}

function beginWalk(ctx: FsContext, base: Path | undefined, name: string): Walk | number {
  if (name.charCodeAt(0) === SLASH) return { ctx, path: ctx.root, links: 0 };
  const start = base ?? ctx.cwd;
  if (!isDir(start.dentry.inode.mode)) return -ENOTDIR;
  return { ctx, path: start, links: 0 };
}

/**
 * The dentry of `name` in the directory `dir` (not following mounts on it): from the cache (revalidated), else
 * from the file system; null if there is none (or the directory has been removed).
 */
function lookupDentry(dir: Path, name: string): Dentry | null | number {
  if (name.length > NAME_MAX) return -ENAMETOOLONG;
  const d = dir.dentry;
  let child = d.children.get(name);
  if (child && !child.inode.revalidate(child) && child.mounts === 0) {
    child.drop();
    child = undefined;
  }
  if (child) return child;
  if (d.inode.dead) return null;
  const r = d.inode.lookup(d, name);
  if (r === null || typeof r === 'number') return r;
  return d.addChild(name, r);
}

/** `name` in `dir`, with the mounts on it followed. */
function lookupChild(dir: Path, name: string): Path | null | number {
  const c = lookupDentry(dir, name);
  if (c === null || typeof c === 'number') return c;
  return followMounts({ mnt: dir.mnt, dentry: c });
}

/** follow_dotdot: the parent, crossing mounts upwards; the walk's root is its own parent. */
function dotdot(w: Walk): void {
  let p = w.path;
  for (;;) {
    if (samePath(p, w.ctx.root)) {
      w.path = p;
      return;
    }
    if (p.dentry !== p.mnt.root) {
      p = { mnt: p.mnt, dentry: p.dentry.parent };
      break;
    }
    if (!p.mnt.parent || !p.mnt.mountpoint) {
      w.path = p;
      return;
    }
    p = { mnt: p.mnt.parent, dentry: p.mnt.mountpoint };
  }
  w.path = followMounts(p);
}

/** Walks every component of `name` but the last (following links), leaving the walk at the last one's directory. */
function walkParent(w: Walk, name: string): Last | number {
  const n = name.length;
  let i = 0;
  if (name.charCodeAt(0) === SLASH) {
    w.path = w.ctx.root;
    while (i < n && name.charCodeAt(i) === SLASH) i++;
    if (i === n) return { name: '/', type: 'root', slash: false };
  }
  for (;;) {
    const perm = inodePermission(w.ctx.cred, w.path.dentry.inode, MAY_EXEC);
    if (perm) return perm;
    let j = i;
    while (j < n && name.charCodeAt(j) !== SLASH) j++;
    const comp = name.slice(i, j);
    let k = j;
    while (k < n && name.charCodeAt(k) === SLASH) k++;
    if (k === n) return { name: comp, type: comp === '.' ? 'dot' : comp === '..' ? 'dotdot' : 'norm', slash: j < n };
    const r = step(w, comp, true);
    if (r) return r;
    if (!isDir(w.path.dentry.inode.mode)) return -ENOTDIR;
    i = k;
  }
}

/** Moves the walk into `comp` of its directory, following a link there if `follow`. */
function step(w: Walk, comp: string, follow: boolean): number {
  w.ctx.work?.charge('pathComponent');
  if (comp === '.') return 0;
  if (comp === '..') {
    dotdot(w);
    return 0;
  }
  const c = lookupChild(w.path, comp);
  if (c === null) return -ENOENT;
  if (typeof c === 'number') return c;
  if (follow && isLnk(c.dentry.inode.mode)) return followLink(w, c);
  w.path = c;
  return 0;
}

/** The target of a link, counted against MAXSYMLINKS. */
function linkTarget(w: Walk, link: Path): string | number {
  if (++w.links > MAXSYMLINKS) return -ELOOP;
  const target = link.dentry.inode.readlink(link.dentry);
  if (typeof target === 'number') return target;
  if (target === '') return -ENOENT;
  return target;
}

/** Follows the link `link` (the walk is at its directory): the walk ends where its target, fully followed, is. */
function followLink(w: Walk, link: Path): number {
  const target = linkTarget(w, link);
  if (typeof target === 'number') return target;
  return resolve(w, target, true, false);
}

function resolve(w: Walk, name: string, follow: boolean, wantDir: boolean): number {
  const last = walkParent(w, name);
  if (typeof last === 'number') return last;
  return lastStep(w, last, follow, wantDir);
}

function lastStep(w: Walk, last: Last, follow: boolean, wantDir: boolean): number {
  if (last.type !== 'root') {
    const r = step(w, last.name, follow || last.slash);
    if (r) return r;
  }
  if ((wantDir || last.slash) && !isDir(w.path.dentry.inode.mode)) return -ENOTDIR;
  return 0;
}

export interface LookupFlags {
  /** Follow a symbolic link in the last component (default true; lstat and O_NOFOLLOW do not). */
  follow?: boolean;
  /** The result must be a directory (ENOTDIR). */
  directory?: boolean;
  /** AT_EMPTY_PATH: an empty name is the base itself. */
  emptyPath?: boolean;
}

/** filename_lookup: the path `pathname` names. */
export function lookupPath(ctx: FsContext, base: Path | undefined, pathname: string,
  flags: LookupFlags = {}): Path | number {
  const name = getname(pathname, flags.emptyPath);
  if (typeof name === 'number') return name;
  if (name === '') return base ?? ctx.cwd;
  const w = beginWalk(ctx, base, name);
  if (typeof w === 'number') return w;
  const r = resolve(w, name, flags.follow ?? true, flags.directory ?? false);
  return r < 0 ? r : w.path;
}

// ---------------------------------------------------------------------------------------------------------------
// open

/** An O_PATH description: no file operations at all. */
const pathOps: FileOps = {};

/** ACC_MODE plus O_TRUNC's write. */
function accMode(flags: number): number {
  const acc = [MAY_READ, MAY_WRITE, MAY_READ | MAY_WRITE, MAY_READ | MAY_WRITE][flags & O_ACCMODE];
  return flags & O_TRUNC ? acc | MAY_WRITE : acc;
}

/** may_create: a directory that still exists and that the caller may write and search. */
function mayCreate(cred: Cred, dir: Path): number {
  if (dir.dentry.inode.dead) return -ENOENT;
  return inodePermission(cred, dir.dentry.inode, MAY_WRITE | MAY_EXEC);
}

/**
 * openat: the open file description, or -errno. O_CREAT creates a regular file with mode & ~umask (owner the
 * caller's fsuid; group its fsgid or, in a setgid directory, the directory's), following a dangling last link to
 * create its target, as Linux does.
 */
export function openat(ctx: FsContext, base: Path | undefined, pathname: string, flags: number,
  mode = 0): OpenFile | number {
  if ((flags & O_TMPFILE) === O_TMPFILE) return -EOPNOTSUPP;
  if (flags & O_PATH) flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_LARGEFILE;
  if ((flags & (O_CREAT | O_DIRECTORY)) === (O_CREAT | O_DIRECTORY)) return -EINVAL;
  const name = getname(pathname);
  if (typeof name === 'number') return name;
  const w = beginWalk(ctx, base, name);
  if (typeof w === 'number') return w;
  const f = openWalk(w, name, flags, mode & S_IALLUGO);
  if (typeof f !== 'number') ctx.work?.charge('openFile');
  return f;
}

function openWalk(w: Walk, name: string, flags: number, mode: number): OpenFile | number {
  const last = walkParent(w, name);
  if (typeof last === 'number') return last;
  if (!(flags & O_CREAT)) {
    const r = lastStep(w, last, !(flags & O_NOFOLLOW), false);
    if (r) return r;
    return doOpen(w.ctx, w.path, flags, false);
  }
  if (last.type !== 'norm') {
    const r = lastStep(w, last, true, false);
    return r || -EISDIR;
  }
  if (last.slash) return -EISDIR;
  const c = lookupChild(w.path, last.name);
  if (typeof c === 'number') return c;
  if (c !== null) {
    if (flags & O_EXCL) return -EEXIST;
    if (isLnk(c.dentry.inode.mode)) {
      if (flags & O_NOFOLLOW) return -ELOOP;
      const target = linkTarget(w, c);
      if (typeof target === 'number') return target;
      return openWalk(w, target, flags, mode);
    }
    return doOpen(w.ctx, c, flags, false);
  }
  const dir = w.path;
  if (!dir.mnt.writable) return -EROFS;
  const perm = mayCreate(w.ctx.cred, dir);
  if (perm) return perm;
  const inode = dir.dentry.inode.create(dir.dentry, last.name, mode & ~w.ctx.umask, w.ctx.cred);
  if (typeof inode === 'number') return inode;
  const child = dir.dentry.addChild(last.name, inode);
  return doOpen(w.ctx, { mnt: dir.mnt, dentry: child }, flags, true);
}

/** may_open: what the kind of file allows, then permission for the access asked. */
function mayOpen(cred: Cred, path: Path, acc: number, flags: number): number {
  const inode = path.dentry.inode;
  switch (inode.mode & S_IFMT) {
    case S_IFLNK: return -ELOOP;
    case S_IFDIR:
      if (acc & MAY_WRITE) return -EISDIR;
      break;
    case S_IFBLK:
    case S_IFCHR:
      if (path.mnt.nodev) return -EACCES;
      break;
  }
  const r = inodePermission(cred, inode, acc);
  if (r) return r;
  if ((flags & O_NOATIME) && !ownerOrCapable(cred, inode)) return -EPERM;
  return 0;
}

function doOpen(ctx: FsContext, path: Path, flags: number, created: boolean): OpenFile | number {
  const inode = path.dentry.inode;
  if (flags & O_PATH) {
    if ((flags & O_DIRECTORY) && !isDir(inode.mode)) return -ENOTDIR;
    return new OpenFile(path, inode, flags, FMODE_PATH, pathOps);
  }
  if ((flags & O_CREAT) && isDir(inode.mode)) return -EISDIR;
  if ((flags & O_DIRECTORY) && !isDir(inode.mode)) return -ENOTDIR;
  if (!created) {
    const r = mayOpen(ctx.cred, path, accMode(flags), flags);
    if (r) return r;
  }
  const acc = flags & O_ACCMODE;
  const fmode = acc === 0 ? FMODE_READ : acc === 1 ? FMODE_WRITE : acc === 2 ? FMODE_READ | FMODE_WRITE : 0;
  const special = !isReg(inode.mode) && !isDir(inode.mode) && !isLnk(inode.mode);
  if ((fmode & FMODE_WRITE || flags & O_TRUNC) && !special && !path.mnt.writable) return -EROFS;
  let fops: FileOps;
  if (isChr(inode.mode)) {
    const ops = path.mnt.ns.devices.chrOps(inode.rdev);
    if (!ops) return -ENXIO;
    fops = ops;
  } else if (isBlk(inode.mode)) {
    return -ENXIO;
  } else {
    fops = inode.fileOps();
  }
  const file = new OpenFile(path, inode, flags, fmode, fops);
  if (isReg(inode.mode) && !(flags & O_LARGEFILE) && inode.size > MAX_NON_LFS) return -EOVERFLOW;
  const r = fops.open?.(file) ?? 0;
  if (r < 0) return r;
  if ((flags & O_TRUNC) && isReg(inode.mode) && !created) {
    const t = doTruncate(ctx.cred, path.dentry, 0, file);
    if (t < 0) {
      fops.release?.(file);
      return t;
    }
  }
  return file;
}

/**
 * open_exec: a regular file the caller may execute (some x bit even for root), open for the kernel to read
 * (execute permission is enough; read permission is not needed).
 */
export function openExec(ctx: FsContext, base: Path | undefined, pathname: string): OpenFile | number {
  const p = lookupPath(ctx, base, pathname);
  if (typeof p === 'number') return p;
  const inode = p.dentry.inode;
  if (!isReg(inode.mode)) return -EACCES;
  const r = inodePermission(ctx.cred, inode, MAY_EXEC);
  if (r) return r;
  const file = new OpenFile(p, inode, O_LARGEFILE, FMODE_READ | FMODE_EXEC, inode.fileOps());
  const o = file.fops.open?.(file) ?? 0;
  return o < 0 ? o : file;
}

// ---------------------------------------------------------------------------------------------------------------
// attributes

/** stat64/lstat64/fstatat64: the attributes of what the name names (`follow` false for lstat). */
export function statat(ctx: FsContext, base: Path | undefined, pathname: string,
  flags: LookupFlags = {}): KStat | number {
  const p = lookupPath(ctx, base, pathname, flags);
  if (typeof p === 'number') return p;
  return p.dentry.inode.getattr(p.dentry);
}

/** readlinkat: the target of a symbolic link (EINVAL for anything else); the system call truncates it to bufsiz. */
export function readlinkat(ctx: FsContext, base: Path | undefined, pathname: string): string | number {
  if (getname(pathname, true) === '' && base === undefined) return -ENOENT;
  const p = lookupPath(ctx, base, pathname, { follow: false, emptyPath: true });
  if (typeof p === 'number') return p;
  if (!isLnk(p.dentry.inode.mode)) return -EINVAL;
  return p.dentry.inode.readlink(p.dentry);
}

/** faccessat: F_OK or R_OK/W_OK/X_OK, as the real uid and gid unless AT_EACCESS. */
export function faccessat(ctx: FsContext, base: Path | undefined, pathname: string, mode: number, flags = 0): number {
  if (mode & ~7) return -EINVAL;
  if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return -EINVAL;
  const cred = flags & AT_EACCESS ? ctx.cred : accessCred(ctx.cred);
  const p = lookupPath({ ...ctx, cred }, base, pathname,
    { follow: !(flags & AT_SYMLINK_NOFOLLOW), emptyPath: (flags & AT_EMPTY_PATH) !== 0 });
  if (typeof p === 'number') return p;
  if (mode === 0) return 0;
  const inode = p.dentry.inode;
  const r = inodePermission(cred, inode, mode);
  if (r) return r;
  const special = !isReg(inode.mode) && !isDir(inode.mode) && !isLnk(inode.mode);
  if ((mode & MAY_WRITE) && !special && !p.mnt.writable) return -EROFS;
  return 0;
}

/** chdir: the directory to become the cwd (the caller stores it). */
export function chdir(ctx: FsContext, pathname: string): Path | number {
  const p = lookupPath(ctx, undefined, pathname, { directory: true });
  if (typeof p === 'number') return p;
  const r = inodePermission(ctx.cred, p.dentry.inode, MAY_EXEC);
  return r < 0 ? r : p;
}

/** fchdir: the directory an open file is. */
export function fchdir(ctx: FsContext, file: OpenFile): Path | number {
  if (!isDir(file.inode.mode)) return -ENOTDIR;
  const r = inodePermission(ctx.cred, file.inode, MAY_EXEC);
  return r < 0 ? r : file.path;
}

/** d_path: the name of `p` as seen from `root`. */
export function dPath(p: Path, root: Path): string {
  const names: string[] = [];
  for (;;) {
    if (samePath(p, root)) break;
    if (p.dentry === p.mnt.root || p.dentry.isRoot) {
      if (!p.mnt.parent || !p.mnt.mountpoint) break;
      p = { mnt: p.mnt.parent, dentry: p.mnt.mountpoint };
      continue;
    }
    names.push(p.dentry.name);
    p = { mnt: p.mnt, dentry: p.dentry.parent };
  }
  return '/' + names.reverse().join('/');
}

/** getcwd: the cwd's name, or ENOENT once it has been removed. */
export function getcwd(ctx: FsContext): string | number {
  if (ctx.cwd.dentry.unhashed) return -ENOENT;
  return dPath(ctx.cwd, ctx.root);
}

/** chmod: by the owner or root; a non-root caller outside the file's group cannot set setgid. */
export function chmodat(ctx: FsContext, base: Path | undefined, pathname: string, mode: number, follow = true): number {
  const p = lookupPath(ctx, base, pathname, { follow });
  if (typeof p === 'number') return p;
  return chmodPath(ctx, p, mode);
}

export function chmodPath(ctx: FsContext, p: Path, mode: number): number {
  const inode = p.dentry.inode;
  if (isLnk(inode.mode)) return -EOPNOTSUPP; // a link's own mode cannot be changed (fchmodat2 AT_SYMLINK_NOFOLLOW)
  if (!p.mnt.writable) return -EROFS;
  if (!ownerOrCapable(ctx.cred, inode)) return -EPERM;
  mode &= S_IALLUGO;
  if (!capable(ctx.cred) && !inGroup(ctx.cred, inode.gid)) mode &= ~S_ISGID;
  return inode.setattr(p.dentry, { mode, ctime: inode.sb.now() });
}

/** chown/lchown: -1 keeps an id. Root may give any; the owner may only change the group to one of its own. */
export function chownat(ctx: FsContext, base: Path | undefined, pathname: string, uid: number, gid: number,
  follow = true): number {
  const p = lookupPath(ctx, base, pathname, { follow });
  if (typeof p === 'number') return p;
  return chownPath(ctx, p, uid, gid);
}

export function chownPath(ctx: FsContext, p: Path, uid: number, gid: number): number {
  const inode = p.dentry.inode;
  if (!p.mnt.writable) return -EROFS;
  const cred = ctx.cred;
  const newUid = uid === -1 || uid === 0xffffffff ? undefined : uid;
  const newGid = gid === -1 || gid === 0xffffffff ? undefined : gid;
  if (newUid !== undefined && !((fsuid(cred) === inode.uid && newUid === inode.uid) || capable(cred))) return -EPERM;
  if (newGid !== undefined
    && !((fsuid(cred) === inode.uid && (newGid === inode.gid || inGroup(cred, newGid)))
    || capable(cred))) return -EPERM;
  let mode: number | undefined;
  if (!isDir(inode.mode) && (inode.mode & (S_ISUID | S_ISGID))) {
    mode = inode.mode & ~S_ISUID;
    if ((mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) mode &= ~S_ISGID;
  }
  return inode.setattr(p.dentry, { uid: newUid, gid: newGid, mode, ctime: inode.sb.now() });
}

/** truncate64 by name: a regular file the caller may write. */
export function truncateat(ctx: FsContext, base: Path | undefined, pathname: string, length: number): number {
  if (length < 0) return -EINVAL;
  const p = lookupPath(ctx, base, pathname);
  if (typeof p === 'number') return p;
  const inode = p.dentry.inode;
  if (isDir(inode.mode)) return -EISDIR;
  if (!isReg(inode.mode)) return -EINVAL;
  if (!p.mnt.writable) return -EROFS;
  const r = inodePermission(ctx.cred, inode, MAY_WRITE);
  if (r) return r;
  return doTruncate(ctx.cred, p.dentry, length);
}

// ---------------------------------------------------------------------------------------------------------------
// creating and removing names

interface NewName {
  dir: Path;
  name: string;
}

/** filename_create: the directory and name of something about to be created (EEXIST if it exists). */
function filenameCreate(ctx: FsContext, base: Path | undefined, pathname: string,
  isDirectory: boolean): NewName | number {
  const p = parentWalk(ctx, base, pathname);
  if (typeof p === 'number') return p;
  const { w, last } = p;
  if (last.type !== 'norm') return -EEXIST;
  const c = lookupDentry(w.path, last.name);
  if (typeof c === 'number') return c;
  if (c !== null) return -EEXIST;
  if (last.slash && !isDirectory) return -ENOENT;
  if (!w.path.mnt.writable) return -EROFS;
  return { dir: w.path, name: last.name };
}

/** mkdirat: mode & (0777 | sticky) & ~umask. */
export function mkdirat(ctx: FsContext, base: Path | undefined, pathname: string, mode: number): number {
  const c = filenameCreate(ctx, base, pathname, true);
  if (typeof c === 'number') return c;
  const r = mayCreate(ctx.cred, c.dir);
  if (r) return r;
  const inode = c.dir.dentry.inode.mkdir(c.dir.dentry, c.name, mode & (S_IRWXUGO | S_ISVTX) & ~ctx.umask, ctx.cred);
  if (typeof inode === 'number') return inode;
  c.dir.dentry.addChild(c.name, inode);
  return 0;
}

/** mknodat: regular files, FIFOs and sockets for anyone who may create; device nodes for root only. */
export function mknodat(ctx: FsContext, base: Path | undefined, pathname: string, mode: number, rdev = 0): number {
  let type = mode & S_IFMT;
  if (type === 0) type = S_IFREG;
  if (type === S_IFDIR) return -EPERM;
  if (type !== S_IFREG && type !== S_IFCHR && type !== S_IFBLK && type !== S_IFIFO && type !== S_IFSOCK) return -EINVAL;
  if ((type === S_IFCHR || type === S_IFBLK) && !capable(ctx.cred)) return -EPERM;
  const c = filenameCreate(ctx, base, pathname, false);
  if (typeof c === 'number') return c;
  const r = mayCreate(ctx.cred, c.dir);
  if (r) return r;
  const inode = c.dir.dentry.inode.mknod(c.dir.dentry, c.name, type | (mode & S_IALLUGO & ~ctx.umask), rdev, ctx.cred);
  if (typeof inode === 'number') return inode;
  c.dir.dentry.addChild(c.name, inode);
  return 0;
}

/** symlinkat: a link holding `target` (any text; ENOENT if empty). */
export function symlinkat(ctx: FsContext, target: string, base: Path | undefined, pathname: string): number {
  const t = getname(target);
  if (typeof t === 'number') return t;
  const c = filenameCreate(ctx, base, pathname, false);
  if (typeof c === 'number') return c;
  const r = mayCreate(ctx.cred, c.dir);
  if (r) return r;
  const inode = c.dir.dentry.inode.symlink(c.dir.dentry, c.name, t, ctx.cred);
  if (typeof inode === 'number') return inode;
  c.dir.dentry.addChild(c.name, inode);
  return 0;
}

/**
 * may_linkat with fs.protected_hardlinks = 1 (the usual default): someone who is not the owner (or root) may only
 * link to a regular file that is not setuid or setgid-executable and that they may read and write.
 */
function mayLinkat(cred: Cred, inode: Inode): boolean {
  if (ownerOrCapable(cred, inode)) return true;
  if (!isReg(inode.mode)) return false;
  if (inode.mode & S_ISUID) return false;
  if ((inode.mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) return false;
  return inodePermission(cred, inode, MAY_READ | MAY_WRITE) === 0;
}

/** linkat: another name for a file (not a directory) on the same mount; `follow` is AT_SYMLINK_FOLLOW. */
export function linkat(ctx: FsContext, oldBase: Path | undefined, oldPath: string, newBase: Path | undefined,
  newPath: string, follow = false, emptyPath = false): number {
  const old = lookupPath(ctx, oldBase, oldPath, { follow, emptyPath });
  if (typeof old === 'number') return old;
  const c = filenameCreate(ctx, newBase, newPath, false);
  if (typeof c === 'number') return c;
  if (old.mnt !== c.dir.mnt) return -EXDEV;
  const inode = old.dentry.inode;
  if (!mayLinkat(ctx.cred, inode)) return -EPERM;
  const r = mayCreate(ctx.cred, c.dir);
  if (r) return r;
  if (c.dir.dentry.inode.sb !== inode.sb) return -EXDEV;
  if (isDir(inode.mode)) return -EPERM;
  if (inode.nlink === 0) return -ENOENT;
  const l = c.dir.dentry.inode.link(old.dentry, c.dir.dentry, c.name);
  if (l) return l;
  c.dir.dentry.addChild(c.name, inode);
  return 0;
}

/**
 * may_delete: write and search permission on the directory; in a sticky directory, only the file's owner, the
 * directory's owner or root; the kinds must match (EISDIR, ENOTDIR); a file system's root is busy.
 */
function mayDelete(cred: Cred, dir: Dentry, victim: Dentry, isDirectory: boolean): number {
  const r = inodePermission(cred, dir.inode, MAY_WRITE | MAY_EXEC);
  if (r) return r;
  const inode = victim.inode;
  if ((dir.inode.mode & S_ISVTX) && fsuid(cred) !== inode.uid && fsuid(cred) !== dir.inode.uid && !capable(cred))
    return -EPERM;
  if (isDirectory) {
    if (!isDir(inode.mode)) return -ENOTDIR;
    if (victim.isRoot) return -EBUSY;
  } else if (isDir(inode.mode)) {
    return -EISDIR;
  }
  if (dir.inode.dead) return -ENOENT;
  return 0;
}

/** The walk to the directory of the last component of `pathname` (a name about to be created or removed). */
function parentWalk(ctx: FsContext, base: Path | undefined, pathname: string): { w: Walk; last: Last } | number {
  const name = getname(pathname);
  if (typeof name === 'number') return name;
  const w = beginWalk(ctx, base, name);
  if (typeof w === 'number') return w;
  const last = walkParent(w, name);
  if (typeof last === 'number') return last;
  return { w, last };
}

/** unlink: a name that is not a directory (EISDIR). */
export function unlinkat(ctx: FsContext, base: Path | undefined, pathname: string): number {
  const p = parentWalk(ctx, base, pathname);
  if (typeof p === 'number') return p;
  const { w, last } = p;
  if (last.type !== 'norm') return -EISDIR;
  if (!w.path.mnt.writable) return -EROFS;
  const victim = lookupDentry(w.path, last.name);
  if (typeof victim === 'number') return victim;
  if (last.slash) return victim === null ? -ENOENT : isDir(victim.inode.mode) ? -EISDIR : -ENOTDIR;
  if (victim === null) return -ENOENT;
  return removeEntry(ctx, w.path.dentry, victim, false);
}

/** rmdir: an empty directory (ENOTEMPTY), not `.` (EINVAL), `..` (ENOTEMPTY), a root or a mount point (EBUSY). */
export function rmdirat(ctx: FsContext, base: Path | undefined, pathname: string): number {
  const p = parentWalk(ctx, base, pathname);
  if (typeof p === 'number') return p;
  const { w, last } = p;
  if (last.type === 'dotdot') return -ENOTEMPTY;
  if (last.type === 'dot') return -EINVAL;
  if (last.type === 'root') return -EBUSY;
  if (!w.path.mnt.writable) return -EROFS;
  const victim = lookupDentry(w.path, last.name);
  if (typeof victim === 'number') return victim;
  if (victim === null) return -ENOENT;
  return removeEntry(ctx, w.path.dentry, victim, true);
}

/** The common end of unlink and rmdir: may the caller delete it, is it a mount point, then the file system's op. */
function removeEntry(ctx: FsContext, dir: Dentry, victim: Dentry, asDir: boolean): number {
  const r = mayDelete(ctx.cred, dir, victim, asDir);
  if (r) return r;
  if (victim.mounts > 0) return -EBUSY;
  const u = asDir ? dir.inode.rmdir(dir, victim) : dir.inode.unlink(dir, victim);
  if (u) return u;
  victim.drop();
  return 0;
}

/** renameat2 with flags 0 or RENAME_NOREPLACE. */
export function renameat(ctx: FsContext, oldBase: Path | undefined, oldPath: string, newBase: Path | undefined,
  newPath: string, flags = 0): number {
  if (flags & ~RENAME_NOREPLACE) return -EINVAL;
  const o = parentWalk(ctx, oldBase, oldPath);
  if (typeof o === 'number') return o;
  const n = parentWalk(ctx, newBase, newPath);
  if (typeof n === 'number') return n;
  if (o.w.path.mnt !== n.w.path.mnt) return -EXDEV;
  if (o.last.type !== 'norm') return -EBUSY;
  if (n.last.type !== 'norm') return flags & RENAME_NOREPLACE ? -EEXIST : -EBUSY;
  if (!o.w.path.mnt.writable) return -EROFS;
  const oldDir = o.w.path.dentry, newDir = n.w.path.dentry;
  const old = lookupDentry(o.w.path, o.last.name);
  if (typeof old === 'number') return old;
  if (old === null) return -ENOENT;
  const target = lookupDentry(n.w.path, n.last.name);
  if (typeof target === 'number') return target;
  if (target && (flags & RENAME_NOREPLACE)) return -EEXIST;
  const isDirectory = isDir(old.inode.mode);
  if (!isDirectory && (o.last.slash || n.last.slash)) return -ENOTDIR;
  if (newDir.isSubdirOf(old)) return -EINVAL;
  if (target && oldDir.isSubdirOf(target)) return -ENOTEMPTY;
  if (target && target.inode === old.inode) return 0;
  let r = mayDelete(ctx.cred, oldDir, old, isDirectory);
  if (r) return r;
  r = target ? mayDelete(ctx.cred, newDir, target, isDirectory) : mayCreate(ctx.cred, n.w.path);
  if (r) return r;
  if (isDirectory && oldDir !== newDir) {
    r = inodePermission(ctx.cred, old.inode, MAY_WRITE);
    if (r) return r;
  }
  if (old.mounts > 0 || (target && target.mounts > 0)) return -EBUSY;
  r = oldDir.inode.rename(oldDir, old, newDir, n.last.name, target);
  if (r) return r;
  old.move(newDir, n.last.name);
  return 0;
}
