// Credentials and permission checks, as Linux's fs/namei.c (generic_permission, inode_permission) and
// kernel/capability.c decide them for a kernel without ACLs or user namespaces. The checks use the fs credentials
// (fsuid and fsgid, which follow euid and egid); euid 0 stands for the full capability set (CAP_DAC_OVERRIDE,
// CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_CHOWN, CAP_FSETID, CAP_MKNOD).
import { EACCES, EROFS } from '../errno.ts';
import type { Inode } from './inode.ts';
import { S_IFMT, S_IFDIR, S_IFLNK, S_IFREG, S_IXUGO, isDir } from './stat.ts';

/** A process's credentials, as the permission checks read them. */
export interface Cred {
  readonly uid: number;
  readonly gid: number;
  readonly euid: number;
  readonly egid: number;
  /** Supplementary groups. */
  readonly groups: readonly number[];
  /** File-system uid and gid; euid and egid when absent (as Linux keeps them, barring setfsuid). */
  readonly fsuid?: number;
  readonly fsgid?: number;
}

export const ROOT: Cred = Object.freeze({ uid: 0, gid: 0, euid: 0, egid: 0, groups: Object.freeze([0]) as readonly number[] });

/** Credentials with all ids equal to uid and gid (the groups default to [gid]). */
export function userCred(uid: number, gid = uid, groups: readonly number[] = [gid]): Cred {
  return { uid, gid, euid: uid, egid: gid, groups };
}

export const fsuid = (c: Cred) => c.fsuid ?? c.euid;
export const fsgid = (c: Cred) => c.fsgid ?? c.egid;

/** in_group_p: the fs gid or a supplementary group. */
export function inGroup(c: Cred, gid: number): boolean {
  return fsgid(c) === gid || c.groups.includes(gid);
}

/** Whether the credentials hold the capabilities root has (euid 0, through fsuid 0). */
export function capable(c: Cred): boolean {
  return fsuid(c) === 0;
}

/**
 * The credentials access(2) and faccessat(2) without AT_EACCESS check with: the real uid and gid in place of the
 * effective ones (and capabilities only if the real uid is 0).
 */
export function accessCred(c: Cred): Cred {
  return { uid: c.uid, gid: c.gid, euid: c.uid, egid: c.gid, groups: c.groups };
}

export const MAY_EXEC = 1;
export const MAY_WRITE = 2;
export const MAY_READ = 4;
export const MAY_APPEND = 8;

/** generic_permission: the owner, group or other bits (only the first class that applies), then root's override. */
export function genericPermission(cred: Cred, inode: Inode, mask: number): number {
  mask &= MAY_READ | MAY_WRITE | MAY_EXEC;
  let mode = inode.mode;
  if (fsuid(cred) === inode.uid) mode >>= 6;
  else if (inGroup(cred, inode.gid)) mode >>= 3;
  if ((mask & ~mode & 7) === 0) return 0;
  if (!capable(cred)) return -EACCES;
  // Directories: read and search always overridable (CAP_DAC_READ_SEARCH), write too (CAP_DAC_OVERRIDE).
  if (isDir(inode.mode)) return 0;
  // Files: read and write always overridable; exec only when at least one x bit is set.
  if (!(mask & MAY_EXEC) || (inode.mode & S_IXUGO)) return 0;
  return -EACCES;
}

/**
 * inode_permission: writing a regular file, directory or symlink of a read-only file system is EROFS (before the
 * mode bits are looked at), then generic_permission.
 */
export function inodePermission(cred: Cred, inode: Inode, mask: number): number {
  if (mask & MAY_WRITE) {
    const t = inode.mode & S_IFMT;
    if (inode.sb.readonly && (t === S_IFREG || t === S_IFDIR || t === S_IFLNK)) return -EROFS;
  }
  return genericPermission(cred, inode, mask);
}

/** Whether the credentials own the inode or are root (inode_owner_or_capable, CAP_FOWNER). */
export function ownerOrCapable(cred: Cred, inode: Inode): boolean {
  return fsuid(cred) === inode.uid || capable(cred);
}
