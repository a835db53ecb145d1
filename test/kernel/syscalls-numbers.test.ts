// The i386 system call numbers (kernel/syscalls/numbers.ts) against the host's uapi header, when it is installed
// (asm/unistd_32.h is generated from arch/x86/entry/syscalls/syscall_32.tbl), and the fd table.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { EBADF, EINVAL, EMFILE } from '../../kernel/errno.ts';
import { FdTable } from '../../kernel/fdtable.ts';
import { O_RDONLY } from '../../kernel/fs/fcntl.ts';
import { openat } from '../../kernel/fs/namei.ts';
import { SYS, syscallName } from '../../kernel/syscalls/numbers.ts';
import { fresh, must } from '../util/kfs.ts';

const HEADERS = ['/usr/include/x86_64-linux-gnu/asm/unistd_32.h', '/usr/include/asm/unistd_32.h',
  '/usr/include/i386-linux-gnu/asm/unistd_32.h'];

test('the numbers asked for, and the name table', t => {
  const want: Record<string, number> = {
    exit: 1, read: 3, write: 4, open: 5, close: 6, chdir: 12, lseek: 19, getpid: 20, getuid: 24, access: 33, kill: 37,
    brk: 45, getppid: 64, readlink: 85, uname: 122, _llseek: 140, nanosleep: 162, getcwd: 183, stat64: 195,
    lstat64: 196, fstat64: 197, getuid32: 199, getgid32: 200, geteuid32: 201, getegid32: 202, getdents64: 220,
    exit_group: 252, clock_gettime: 265, openat: 295, fstatat64: 300,
  };
  for (const [name, nr] of Object.entries(want)) {
    t.is((SYS as Record<string, number>)[name], nr, name);
    t.is(syscallName(nr), name);
  }
  t.is(syscallName(9999), 'syscall_9999');
});

test('the numbers match the host uapi header asm/unistd_32.h', t => {
  const header = HEADERS.find(existsSync);
  if (!header) {
    // CI installs linux-libc-dev (.ci/run): there the oracle must be present.
    if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0')
      return t.fail('no asm/unistd_32.h (linux-libc-dev)');
    t.log('skipped: no asm/unistd_32.h on this host');
    return t.pass();
  }
  const defs = new Map<string, number>();
  for (const m of readFileSync(header, 'utf8').matchAll(/#define __NR_(\w+)\s+(\d+)/g)) defs.set(m[1], Number(m[2]));
  for (const [name, nr] of Object.entries(SYS)) t.is(defs.get(name), nr, name);
});

function files(n: number) {
  const { root } = fresh();
  return Array.from({ length: n }, () => must(openat(root, undefined, '/dev/null', O_RDONLY)));
}

test('fd table: lowest free descriptor, close, close-on-exec, dup with shared references, EBADF, EMFILE', t => {
  const t0 = new FdTable(8);
  const [a, b, c] = files(3);
  t.is(t0.alloc(a), 0);
  t.is(t0.alloc(b, true), 1);
  t.is(t0.alloc(c), 2);
  t.is(t0.close(1), 0);
  t.is(t0.close(1), -EBADF);
  t.is(t0.close(-1), -EBADF);
  t.is(t0.close(99), -EBADF);
  t.is(t0.get(1), undefined);
  // dup takes the lowest free descriptor and shares the description; its close-on-exec flag is clear.
  t.is(t0.dup(2), 1);
  t.is(t0.get(1), c);
  t.is(c.refs, 2);
  t.is(t0.getCloexec(1), false);
  t.is(t0.dup(0, 5, true), 5);
  t.is(t0.getCloexec(5), true);
  t.is(a.refs, 2);
  t.is(t0.dup(7, 0), -EBADF);
  t.is(t0.dup(0, 8), -EINVAL);
  // dup2 onto an open descriptor closes it; onto itself does nothing.
  t.is(t0.dup2(0, 1), 1);
  t.is(c.refs, 1);
  t.is(a.refs, 3);
  t.is(t0.dup2(0, 0), 0);
  t.is(t0.dup2(0, 8), -EBADF);
  t.is(t0.dup2(4, 3), -EBADF);
  // exec closes close-on-exec descriptors only.
  t.deepEqual(t0.fds(), [0, 1, 2, 5]);
  t0.closeOnExec();
  t.deepEqual(t0.fds(), [0, 1, 2]);
  t.is(a.refs, 2);
  // fork shares every description.
  const child = t0.clone();
  t.is(a.refs, 4);
  child.closeAll();
  t.is(a.refs, 2);
  // The limit.
  for (let i = 3; i < 8; i++) t.is(t0.dup(2), i);
  t.is(t0.dup(2), -EMFILE);
  t.false(t0.hasFree());
  t.is(t0.close(4), 0);
  t.true(t0.hasFree());
  t.is(t0.dup(2), 4);
  t.is(new FdTable().limit, 1024);
});
