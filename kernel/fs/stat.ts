// The user-visible shapes of file attributes and directory entries, Linux i386 ABI:
//  - mode bits (include/uapi/linux/stat.h),
//  - `struct stat64` as arch/x86/include/uapi/asm/stat.h defines it under __i386__ (96 bytes; `long long` is
//    4-byte aligned in the i386 ABI, so the fields follow one another without holes),
//  - `struct linux_dirent64` as include/uapi/linux/dirent.h (include/linux/dirent.h before 4.x) defines it, with
//    the record length fs/readdir.c (filldir64) gives it: ALIGN(offsetof(d_name) + namelen + 1, sizeof(u64)).
// Everything is little-endian. Names are byte strings (one char per byte, codes 0-255), see kernel/fs/README.

export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;
export const S_IRWXU = 0o700;
export const S_IRUSR = 0o400;
export const S_IWUSR = 0o200;
export const S_IXUSR = 0o100;
export const S_IRWXG = 0o070;
export const S_IXGRP = 0o010;
export const S_IRWXO = 0o007;
export const S_IRWXUGO = 0o777;
export const S_IALLUGO = 0o7777;
export const S_IXUGO = 0o111;

export const isReg = (mode: number) => (mode & S_IFMT) === S_IFREG;
export const isDir = (mode: number) => (mode & S_IFMT) === S_IFDIR;
export const isLnk = (mode: number) => (mode & S_IFMT) === S_IFLNK;
export const isChr = (mode: number) => (mode & S_IFMT) === S_IFCHR;
export const isBlk = (mode: number) => (mode & S_IFMT) === S_IFBLK;

// d_type values (include/linux/fs_types.h: DT_* = S_IFMT bits >> 12).
export const DT_UNKNOWN = 0;
export const DT_FIFO = 1;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_BLK = 6;
export const DT_REG = 8;
export const DT_LNK = 10;
export const DT_SOCK = 12;

/** The d_type of a mode (fs_umode_to_dtype). */
export const modeToDtype = (mode: number) => (mode & S_IFMT) >>> 12;

export interface Timespec { sec: number; nsec: number }

/** The kernel's view of a file's attributes (struct kstat), before it is encoded for user space. */
export interface KStat {
  /** Device of the file system, in the user-space dev_t form (glibc makedev). */
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  /** Device a special file stands for (user-space dev_t form), 0 otherwise. */
  rdev: number;
  size: number;
  blksize: number;
  /** 512-byte blocks allocated. */
  blocks: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
}

/**
 * glibc's makedev (the user-space 64-bit dev_t): minor bits 0-7 at 0, major bits 0-11 at 8, minor bits 8-31 at 20,
 * major bits 12-31 at 44. Exact while the result is a safe integer.
 */
export function makedev(major: number, minor: number): number {
  return (minor & 0xff) + (major & 0xfff) * 0x100 + Math.floor(minor / 0x100) * 0x100000 +
    Math.floor(major / 0x1000) * 2 ** 44;
}
export function major(dev: number): number {
  return Math.floor(dev / 0x100) % 0x1000 + Math.floor(dev / 2 ** 44) * 0x1000;
}
export function minor(dev: number): number {
  return dev % 0x100 + Math.floor(dev / 0x100000) % 0x1000000 * 0x100;
}
/** The kernel's new_encode_dev/huge_encode_dev (what stat64 stores): (minor & 0xff) | major << 8 | (minor & ~0xff) << 12. */
export function newEncodeDev(dev: number): number {
  const ma = major(dev), mi = minor(dev);
  return ((mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & ~0xff) << 12)) >>> 0;
}

export const STAT64_SIZE = 96;

/** Field offsets of i386 struct stat64 (arch/x86/include/uapi/asm/stat.h). */
export const STAT64 = {
  st_dev: 0, // unsigned long long
  __pad0: 8, // unsigned char[4]
  __st_ino: 12, // unsigned long (the low 32 bits of the inode number)
  st_mode: 16, // unsigned int
  st_nlink: 20, // unsigned int
  st_uid: 24, // unsigned long
  st_gid: 28, // unsigned long
  st_rdev: 32, // unsigned long long
  __pad3: 40, // unsigned char[4]
  st_size: 44, // long long
  st_blksize: 52, // unsigned long
  st_blocks: 56, // unsigned long long
  st_atime: 64, // unsigned long
  st_atime_nsec: 68,
  st_mtime: 72,
  st_mtime_nsec: 76,
  st_ctime: 80,
  st_ctime_nsec: 84,
  st_ino: 88, // unsigned long long
} as const;

function put32(b: Uint8Array, o: number, v: number): void {
  v = v >>> 0;
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = v >>> 24;
}

/** A 64-bit little-endian value from a safe integer (negative values in two's complement). */
function put64(b: Uint8Array, o: number, v: number): void {
  const lo = v >>> 0; // ToUint32 is exact mod 2^32 for any safe integer
  const hi = Math.floor((v - lo) / 0x100000000);
  put32(b, o, lo);
  put32(b, o + 4, hi);
}

/** Writes `st` as an i386 struct stat64 at out[offset .. offset+96) and returns 96. Padding is zeroed. */
export function encodeStat64(st: KStat, out: Uint8Array, offset = 0): number {
  out.fill(0, offset, offset + STAT64_SIZE);
  const o = offset;
  put64(out, o + STAT64.st_dev, newEncodeDev(st.dev));
  put32(out, o + STAT64.__st_ino, st.ino);
  put32(out, o + STAT64.st_mode, st.mode);
  put32(out, o + STAT64.st_nlink, st.nlink);
  put32(out, o + STAT64.st_uid, st.uid);
  put32(out, o + STAT64.st_gid, st.gid);
  put64(out, o + STAT64.st_rdev, newEncodeDev(st.rdev));
  put64(out, o + STAT64.st_size, st.size);
  put32(out, o + STAT64.st_blksize, st.blksize);
  put64(out, o + STAT64.st_blocks, st.blocks);
  put32(out, o + STAT64.st_atime, st.atime.sec);
  put32(out, o + STAT64.st_atime_nsec, st.atime.nsec);
  put32(out, o + STAT64.st_mtime, st.mtime.sec);
  put32(out, o + STAT64.st_mtime_nsec, st.mtime.nsec);
  put32(out, o + STAT64.st_ctime, st.ctime.sec);
  put32(out, o + STAT64.st_ctime_nsec, st.ctime.nsec);
  put64(out, o + STAT64.st_ino, st.ino);
  return STAT64_SIZE;
}

/** Field offsets of struct linux_dirent64 (include/uapi/linux/dirent.h). */
export const DIRENT64 = { d_ino: 0, d_off: 8, d_reclen: 16, d_type: 18, d_name: 19 } as const;

/** The record length of a linux_dirent64 for a name of `nameLen` bytes: the name, its NUL, 8-byte aligned. */
export function dirent64Size(nameLen: number): number {
  return (DIRENT64.d_name + nameLen + 1 + 7) & ~7;
}

/**
 * Writes one linux_dirent64 for `name` (a byte string) at out[offset ..) if it fits before `end` (default: the
 * array's end), and returns its record length, or 0 if it does not fit. Padding after the NUL is zeroed.
 */
export function encodeDirent64(out: Uint8Array, offset: number, ino: number, off: number, type: number, name: string,
  end = out.length): number {
  const reclen = dirent64Size(name.length);
  if (offset + reclen > end) return 0;
  out.fill(0, offset, offset + reclen);
  put64(out, offset + DIRENT64.d_ino, ino);
  put64(out, offset + DIRENT64.d_off, off);
  out[offset + DIRENT64.d_reclen] = reclen & 0xff;
  out[offset + DIRENT64.d_reclen + 1] = reclen >>> 8;
  out[offset + DIRENT64.d_type] = type;
  for (let i = 0; i < name.length; i++) out[offset + DIRENT64.d_name + i] = name.charCodeAt(i);
  return reclen;
}
