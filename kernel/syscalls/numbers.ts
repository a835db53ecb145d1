// Linux i386 system call numbers, from arch/x86/entry/syscalls/syscall_32.tbl (the `i386` ABI column; the same
// numbers as the uapi header asm/unistd_32.h, which test/kernel-syscalls-numbers.test.ts compares against when the
// host has it). Only the calls the kernel implements or is about to are named; every other number is -ENOSYS.
//
// i386 has two generations of the uid/gid calls: the original ones (getuid 24, getgid 47, geteuid 49, getegid 50)
// return 16-bit ids (old_uid_t; ids above 65535 read as the overflow id 65534), and the *32 ones (199-202) return
// the full 32-bit id. glibc and musl on i386 call the *32 forms; the kernel provides both.

export const SYS = {
  restart_syscall: 0,
  exit: 1,
  fork: 2,
  read: 3,
  write: 4,
  open: 5,
  close: 6,
  waitpid: 7,
  creat: 8,
  link: 9,
  unlink: 10,
  execve: 11,
  chdir: 12,
  time: 13,
  mknod: 14,
  chmod: 15,
  lseek: 19,
  getpid: 20,
  setuid: 23,
  getuid: 24,
  access: 33,
  kill: 37,
  rename: 38,
  mkdir: 39,
  rmdir: 40,
  dup: 41,
  pipe: 42,
  brk: 45,
  getgid: 47,
  geteuid: 49,
  getegid: 50,
  ioctl: 54,
  fcntl: 55,
  umask: 60,
  dup2: 63,
  getppid: 64,
  symlink: 83,
  reboot: 88,
  readlink: 85,
  munmap: 91,
  truncate: 92,
  ftruncate: 93,
  fchmod: 94,
  uname: 122,
  mprotect: 125,
  fchdir: 133,
  _llseek: 140,
  getdents: 141,
  nanosleep: 162,
  getcwd: 183,
  mmap2: 192,
  stat64: 195,
  lstat64: 196,
  fstat64: 197,
  getuid32: 199,
  getgid32: 200,
  geteuid32: 201,
  getegid32: 202,
  setuid32: 213,
  setgid32: 214,
  getdents64: 220,
  fcntl64: 221,
  gettid: 224,
  exit_group: 252,
  clock_gettime: 265,
  tgkill: 270,
  openat: 295,
  mkdirat: 296,
  fstatat64: 300,
  unlinkat: 301,
  renameat: 302,
  linkat: 303,
  symlinkat: 304,
  readlinkat: 305,
  fchmodat: 306,
  faccessat: 307,
  dup3: 330,
  pipe2: 331,
  clock_gettime64: 403,
} as const;

export type SyscallName = keyof typeof SYS;

/** The number of entries in the i386 syscall table this kernel's dispatch covers (NR_syscalls; above: -ENOSYS). */
export const NR_SYSCALLS = 451;

const NAMES = new Map<number, string>(Object.entries(SYS).map(([name, n]) => [n, name]));

/** The name of system call `nr` (for --stats), or `syscall_<nr>` for a number this table does not name. */
export function syscallName(nr: number): string {
  return NAMES.get(nr) ?? `syscall_${nr}`;
}
