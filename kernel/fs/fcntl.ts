// Open flags, *at() flags and lseek whences, Linux i386 values (include/uapi/asm-generic/fcntl.h, which x86 uses,
// include/uapi/linux/fcntl.h, include/uapi/linux/fs.h, include/linux/limits.h).

import { PAGE_SIZE } from '../arch/layout.ts';

export const O_ACCMODE = 0o3;
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
export const FASYNC = 0o20000;
export const O_DIRECT = 0o40000;
export const O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4000000 | O_DSYNC;
export const O_PATH = 0o10000000;
export const O_TMPFILE = 0o20000000 | O_DIRECTORY;

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_EACCESS = 0x200;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_NO_AUTOMOUNT = 0x800;
export const AT_EMPTY_PATH = 0x1000;

export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

/** access(2) modes. */
export const F_OK = 0;
export const X_OK = 1;
export const W_OK = 2;
export const R_OK = 4;

export const RENAME_NOREPLACE = 1;

/** PATH_MAX: a path name with its NUL; a name of PATH_MAX bytes or more is ENAMETOOLONG. */
export const PATH_MAX = 4096;
/** NAME_MAX: the longest path component. */
export const NAME_MAX = 255;
/** MAXSYMLINKS: symbolic links followed in one path walk before ELOOP. */
export const MAXSYMLINKS = 40;

/** The largest offset of a file opened without O_LARGEFILE on a 32-bit kernel (MAX_NON_LFS). */
export const MAX_NON_LFS = 0x7fffffff;
/** The largest file size on a 32-bit kernel with 4 KiB pages (MAX_LFS_FILESIZE = (loff_t)ULONG_MAX << PAGE_SHIFT). */
export const MAX_LFS_FILESIZE = (2 ** 32 - 1) * PAGE_SIZE;
