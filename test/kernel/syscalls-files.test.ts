// The file system calls (kernel/syscalls/files.ts) as a program makes them: raw 32-bit arguments, pointers into
// its memory (here ArrayUserMemory: user pages at 0x10000-0x1ffff, nothing at 0x20000 and above but a kernel page
// at 0xc0000000 that user copies must refuse), results or -errno as Linux gives them (the man pages and fs/*.c
// cited in files.ts; the path semantics are checked against the host's Linux in test/kernel/fs-oracle.test.ts).
import test from 'ava';
import {
  EACCES, EBADF, EFAULT, EINVAL, EISDIR, EMFILE, ENAMETOOLONG, ENOENT, ENOTDIR, EOVERFLOW, ERANGE,
} from '../../kernel/errno.ts';
import { FdTable } from '../../kernel/fdtable.ts';
import {
  AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_LARGEFILE, O_PATH, O_RDONLY, O_RDWR,
  O_WRONLY, SEEK_CUR, SEEK_END, SEEK_SET, R_OK, W_OK, F_OK, PATH_MAX,
} from '../../kernel/fs/fcntl.ts';
import { mkdirat, rmdirat, statat, symlinkat } from '../../kernel/fs/namei.ts';
import { ROOT } from '../../kernel/fs/permission.ts';
import { DIRENT64, STAT64, STAT64_SIZE, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, encodeStat64,
  dirent64Size } from '../../kernel/fs/stat.ts';
import {
  sys__llseek, sys_access, sys_chdir, sys_close, sys_fstat64, sys_fstatat64, sys_getcwd, sys_getdents64, sys_lseek,
  sys_lstat64, sys_open, sys_openat, sys_read, sys_readlink, sys_stat64, sys_write, type FileProc,
} from '../../kernel/syscalls/files.ts';
import { ArrayUserMemory } from '../../kernel/syscalls/usermem.ts';
import { TASK_SIZE } from '../../kernel/arch/layout.ts';
import { USER, fresh, must, put } from '../util/kfs.ts';

const U = 0x10000; // user memory: [U, U + 0x10000)
const END = 0x20000; // unmapped from here
const KERN = TASK_SIZE; // a kernel page
const PATH = U; // where path strings go
const BUF = U + 0x8000; // a data buffer
const STATBUF = U + 0xf000;

function setup(cred = ROOT) {
  const { vfs, root } = fresh();
  must(mkdirat(root, undefined, '/d', 0o755));
  must(mkdirat(root, undefined, '/d/sub', 0o755));
  put(root, '/d/file', 'hello, world\n');
  put(root, '/secret', 'root only\n', 0o600);
  must(symlinkat(root, 'file', undefined, '/d/link'));
  for (let i = 0; i < 20; i++) put(root, `/d/sub/entry-${String(i).padStart(2, '0')}`, '');
  const mem = new ArrayUserMemory();
  mem.map(U, END - U);
  mem.map(KERN, 0x1000, false);
  const proc: FileProc = { fs: vfs.context(cred), files: new FdTable() };
  /** A NUL-terminated path at PATH (or `at`). */
  const path = (s: string, at = PATH) => { mem.poke(at, s + '\0'); return at; };
  return { vfs, root, mem, proc, path };
}

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const u64 = (b: Uint8Array, o = 0) => new DataView(b.buffer, b.byteOffset).getBigInt64(o, true);

test('open, read, write, close', t => {
  const { mem, proc, path } = setup();
  const fd = sys_open(proc, mem, path('/d/file'), O_RDONLY, 0);
  t.is(fd, 0);
  t.is(sys_read(proc, mem, fd, BUF, 5), 5);
  t.is(latin1(mem.peek(BUF, 5)), 'hello');
  t.is(sys_read(proc, mem, fd, BUF, 100), 8);
  t.is(latin1(mem.peek(BUF, 8)), ', world\n');
  t.is(sys_read(proc, mem, fd, BUF, 100), 0);
  t.is(sys_read(proc, mem, fd, BUF, 0), 0);
  // A new file with O_CREAT: mode & ~umask.
  const w = sys_open(proc, mem, path('/d/new'), O_WRONLY | O_CREAT, 0o666);
  t.is(w, 1);
  mem.poke(BUF, 'written');
  t.is(sys_write(proc, mem, w, BUF, 7), 7);
  t.is(sys_close(proc, mem, w), 0);
  const st = must(statat(proc.fs, undefined, '/d/new'));
  t.is(st.size, 7);
  t.is(st.mode & 0o7777, 0o644);
  // The lowest free descriptor is reused.
  t.is(sys_open(proc, mem, path('/d/new'), O_RDWR, 0), 1);
  t.is(sys_close(proc, mem, 0), 0);
  t.is(sys_close(proc, mem, 0), -EBADF);
  t.is(sys_open(proc, mem, path('/d/file'), O_RDONLY, 0), 0);
});

test('read and write: EBADF', t => {
  const { mem, proc, path } = setup();
  t.is(sys_read(proc, mem, 3, BUF, 1), -EBADF);
  t.is(sys_read(proc, mem, -1, BUF, 1), -EBADF);
  t.is(sys_write(proc, mem, 0xffffffff, BUF, 1), -EBADF);
  t.is(sys_close(proc, mem, 0x7fffffff), -EBADF);
  const r = sys_open(proc, mem, path('/d/file'), O_RDONLY, 0);
  const w = sys_open(proc, mem, path('/d/file'), O_WRONLY, 0);
  t.is(sys_write(proc, mem, r, BUF, 1), -EBADF);
  t.is(sys_read(proc, mem, w, BUF, 1), -EBADF);
  // O_PATH descriptors cannot be read, written or listed (fdget ignores them), but fstat works.
  const p = sys_open(proc, mem, path('/d/file'), O_PATH, 0);
  t.true(p >= 0);
  t.is(sys_read(proc, mem, p, BUF, 1), -EBADF);
  t.is(sys_lseek(proc, mem, p, 0, SEEK_SET), -EBADF);
  t.is(sys_getdents64(proc, mem, p, BUF, 4096), -EBADF);
  t.is(sys_fstat64(proc, mem, p, STATBUF), 0);
});

test('directories: EISDIR to open for writing and to read; EBADF to write a read-only directory descriptor', t => {
  const { mem, proc, path } = setup();
  t.is(sys_open(proc, mem, path('/d'), O_WRONLY, 0), -EISDIR);
  t.is(sys_open(proc, mem, path('/d'), O_RDWR, 0), -EISDIR);
  const d = sys_open(proc, mem, path('/d'), O_RDONLY, 0);
  t.true(d >= 0);
  t.is(sys_read(proc, mem, d, BUF, 10), -EISDIR);
  // access_ok (the range is below TASK_SIZE) comes first in Linux's vfs_read; an unmapped user page does not matter.
  t.is(sys_read(proc, mem, d, KERN, 10), -EFAULT);
  t.is(sys_read(proc, mem, d, END, 10), -EISDIR);
  t.is(sys_write(proc, mem, d, BUF, 10), -EBADF);
});

test('read and write: EFAULT for unmapped and kernel buffers; a straddling buffer transfers the bytes before the fault',
  t => {
  const { mem, proc, path } = setup();
  const fd = sys_open(proc, mem, path('/d/file'), O_RDWR, 0);
  t.is(sys_read(proc, mem, fd, END, 4), -EFAULT);
  t.is(sys_read(proc, mem, fd, KERN, 4), -EFAULT);
  t.is(sys_read(proc, mem, fd, 0, 4), -EFAULT); // NULL
  t.is(sys_read(proc, mem, fd, 0xfffffff0, 0x20), -EFAULT); // wraps around
  t.is(sys_read(proc, mem, fd, KERN - 2, 4), -EFAULT); // reaches above TASK_SIZE: access_ok refuses it all
  t.is(sys_lseek(proc, mem, fd, 0, SEEK_CUR), 0, 'nothing read, the position stays');
  t.is(sys_read(proc, mem, fd, END - 4, 4), 4); // ends exactly at the boundary
  t.is(latin1(mem.peek(END - 4, 4)), 'hell');
  // Straddling into the unmapped page: the bytes that fit are read, and the position moves by as many.
  t.is(sys_read(proc, mem, fd, END - 2, 4), 2);
  t.is(latin1(mem.peek(END - 2, 2)), 'o,');
  t.is(sys_lseek(proc, mem, fd, 0, SEEK_CUR), 6);
  t.is(sys_write(proc, mem, fd, END, 1), -EFAULT);
  t.is(sys_write(proc, mem, fd, KERN, 1), -EFAULT);
  t.is(sys_write(proc, mem, fd, KERN - 1, 2), -EFAULT);
  t.is(must(statat(proc.fs, undefined, '/d/file')).size, 13);
  mem.poke(END - 3, 'ABC');
  t.is(sys_write(proc, mem, fd, END - 3, 10), 3);
  t.is(sys_lseek(proc, mem, fd, 0, SEEK_CUR), 9);
  t.is(sys_lseek(proc, mem, fd, 0, SEEK_SET), 0);
  t.is(sys_read(proc, mem, fd, BUF, 100), 13);
  t.is(latin1(mem.peek(BUF, 13)), 'hello,ABCrld\n');
});

test('open: path errors ENOENT, ENOTDIR, EFAULT, ENAMETOOLONG; EACCES as uid 1000; EMFILE', t => {
  const { mem, proc, path } = setup();
  t.is(sys_open(proc, mem, path('/d/missing'), O_RDONLY, 0), -ENOENT);
  t.is(sys_open(proc, mem, path(''), O_RDONLY, 0), -ENOENT);
  t.is(sys_open(proc, mem, path('/d/file/x'), O_RDONLY, 0), -ENOTDIR);
  t.is(sys_open(proc, mem, path('/d/file'), O_RDONLY | O_DIRECTORY, 0), -ENOTDIR);
  t.is(sys_open(proc, mem, 0, O_RDONLY, 0), -EFAULT);
  t.is(sys_open(proc, mem, KERN, O_RDONLY, 0), -EFAULT);
  t.is(sys_open(proc, mem, END, O_RDONLY, 0), -EFAULT);
  // A name running into the unmapped region before its NUL.
  mem.poke(END - 3, '/d/');
  t.is(sys_open(proc, mem, END - 3, O_RDONLY, 0), -EFAULT);
  // PATH_MAX bytes without a NUL: ENAMETOOLONG; PATH_MAX - 1 bytes and a NUL get to the walk.
  mem.poke(PATH, '/'.repeat(PATH_MAX));
  t.is(sys_open(proc, mem, PATH, O_RDONLY, 0), -ENAMETOOLONG);
  t.is(sys_open(proc, mem, path('/'.repeat(PATH_MAX - 1)), O_RDONLY, 0), 0);
  t.is(sys_open(proc, mem, path('/d/' + 'x'.repeat(256)), O_RDONLY, 0), -ENAMETOOLONG);
  // uid 1000 and a 0600 root file; access() agrees.
  const u = setup(USER);
  t.is(sys_open(u.proc, u.mem, u.path('/secret'), O_RDONLY, 0), -EACCES);
  t.is(sys_access(u.proc, u.mem, u.path('/secret'), R_OK), -EACCES);
  t.is(sys_access(u.proc, u.mem, u.path('/secret'), F_OK), 0);
  t.is(sys_open(u.proc, u.mem, u.path('/d/file'), O_RDONLY, 0), 0);
  t.is(sys_open(u.proc, u.mem, u.path('/d/file'), O_WRONLY, 0), -EACCES);
  t.is(sys_open(u.proc, u.mem, u.path('/d/x'), O_WRONLY | O_CREAT, 0o644), -EACCES);
  // EMFILE at the table's limit (checked after the name is copied, before the walk, as get_unused_fd_flags).
  const small: FileProc = { fs: proc.fs, files: new FdTable(2) };
  t.is(sys_open(small, mem, path('/d/file'), O_RDONLY, 0), 0);
  t.is(sys_open(small, mem, path('/d/file'), O_RDONLY, 0), 1);
  t.is(sys_open(small, mem, path('/d/file'), O_RDONLY, 0), -EMFILE);
  t.is(sys_open(small, mem, path('/d/missing'), O_RDONLY, 0), -EMFILE);
  t.is(sys_open(small, mem, path(''), O_RDONLY, 0), -ENOENT);
});

test('openat: AT_FDCWD, relative to a directory descriptor, absolute names ignore dirfd, EBADF, ENOTDIR, O_CLOEXEC',
  t => {
  const { mem, proc, path } = setup();
  const d = sys_open(proc, mem, path('/d'), O_RDONLY | O_DIRECTORY, 0);
  const f = sys_openat(proc, mem, d, path('file'), O_RDONLY, 0);
  t.true(f > d);
  t.is(sys_read(proc, mem, f, BUF, 5), 5);
  t.is(latin1(mem.peek(BUF, 5)), 'hello');
  t.true(sys_openat(proc, mem, d, path('sub/entry-00'), O_RDONLY, 0) >= 0);
  t.true(sys_openat(proc, mem, d, path('../secret'), O_RDONLY, 0) >= 0);
  t.is(sys_openat(proc, mem, AT_FDCWD >>> 0, path('file'), O_RDONLY, 0), -ENOENT); // cwd is /
  t.true(sys_openat(proc, mem, AT_FDCWD, path('d/file'), O_RDONLY, 0) >= 0);
  // An O_PATH directory descriptor works as dirfd.
  const pd = sys_open(proc, mem, path('/d/sub'), O_PATH, 0);
  t.true(sys_openat(proc, mem, pd, path('entry-01'), O_RDONLY, 0) >= 0);
  t.is(sys_openat(proc, mem, 999, path('file'), O_RDONLY, 0), -EBADF);
  t.true(sys_openat(proc, mem, 999, path('/d/file'), O_RDONLY, 0) >= 0);
  t.is(sys_openat(proc, mem, f, path('x'), O_RDONLY, 0), -ENOTDIR);
  const c = sys_openat(proc, mem, d, path('file'), O_RDONLY | O_CLOEXEC, 0);
  t.is(proc.files.getCloexec(c), true);
  t.is(proc.files.getCloexec(f), false);
});

test('lseek: SET, CUR, END; EINVAL for a bad whence and a negative position; EBADF; EOVERFLOW past 2^31-1', t => {
  const { mem, proc, path } = setup();
  const fd = sys_open(proc, mem, path('/d/file'), O_RDONLY, 0);
  t.is(sys_lseek(proc, mem, fd, 7, SEEK_SET), 7);
  t.is(sys_lseek(proc, mem, fd, -2, SEEK_CUR), 5);
  t.is(sys_lseek(proc, mem, fd, 0xfffffffe, SEEK_END), 11); // offset is a signed off_t: -2
  t.is(sys_read(proc, mem, fd, BUF, 10), 2);
  t.is(sys_lseek(proc, mem, fd, 0, 5), -EINVAL);
  t.is(sys_lseek(proc, mem, fd, 0, 0xffffffff), -EINVAL);
  t.is(sys_lseek(proc, mem, fd, -1, SEEK_SET), -EINVAL);
  t.is(sys_lseek(proc, mem, 42, 0, SEEK_SET), -EBADF);
  t.is(sys_lseek(proc, mem, 42, 0, 9), -EBADF); // the descriptor is checked first
  const big = sys_open(proc, mem, path('/d/file'), O_RDONLY | O_LARGEFILE, 0);
  t.is(sys__llseek(proc, mem, big, 1, 0, BUF, SEEK_SET), 0);
  t.is(sys_lseek(proc, mem, big, 0, SEEK_CUR), -EOVERFLOW);
});

test('_llseek: the 64-bit position written to user memory; EINVAL, EBADF, EFAULT', t => {
  const { mem, proc, path } = setup();
  const fd = sys_open(proc, mem, path('/d/file'), O_RDONLY | O_LARGEFILE, 0);
  t.is(sys__llseek(proc, mem, fd, 0, 3, BUF, SEEK_SET), 0);
  t.is(u64(mem.peek(BUF, 8)), 3n);
  t.is(sys__llseek(proc, mem, fd, 2, 0x10, BUF, SEEK_SET), 0);
  t.is(u64(mem.peek(BUF, 8)), 2n * 2n ** 32n + 0x10n);
  t.is(sys__llseek(proc, mem, fd, 0xffffffff, 0xfffffffc, BUF, SEEK_CUR), 0); // -4
  t.is(u64(mem.peek(BUF, 8)), 2n * 2n ** 32n + 0xcn);
  t.is(sys__llseek(proc, mem, fd, 0, 0, BUF, SEEK_END), 0);
  t.is(u64(mem.peek(BUF, 8)), 13n);
  t.is(sys__llseek(proc, mem, fd, 0xffffffff, 0, BUF, SEEK_SET), -EINVAL); // negative
  t.is(sys__llseek(proc, mem, fd, 0, 0, BUF, 7), -EINVAL);
  t.is(sys__llseek(proc, mem, 77, 0, 0, BUF, SEEK_SET), -EBADF);
  t.is(sys__llseek(proc, mem, fd, 0, 5, END - 4, SEEK_SET), -EFAULT);
  t.is(sys__llseek(proc, mem, fd, 0, 5, KERN, SEEK_SET), -EFAULT);
  // Linux moves the position before the copy-out fails.
  t.is(sys_lseek(proc, mem, fd, 0, SEEK_CUR), 5);
});

/** The names in a buffer of linux_dirent64 records, with their d_off. */
function records(b: Uint8Array): { name: string; off: bigint; reclen: number }[] {
  const out = [];
  for (let o = 0; o < b.length;) {
    const reclen = b[o + DIRENT64.d_reclen] | (b[o + DIRENT64.d_reclen + 1] << 8);
    const nameBytes = b.subarray(o + DIRENT64.d_name, o + reclen);
    out.push({ name: latin1(nameBytes.subarray(0, nameBytes.indexOf(0))), off: u64(b, o + DIRENT64.d_off), reclen });
    o += reclen;
  }
  return out;
}

test('getdents64: all at once, resumed across calls with a small buffer, EINVAL, ENOTDIR, EBADF, EFAULT', t => {
  const { mem, proc, path } = setup();
  const all = sys_open(proc, mem, path('/d/sub'), O_RDONLY | O_DIRECTORY, 0);
  const n = sys_getdents64(proc, mem, all, BUF, 0x4000);
  t.true(n > 0);
  const expected = records(mem.peek(BUF, n)).map(r => r.name);
  t.deepEqual(expected, ['.', '..', ...Array.from({ length: 20 }, (_, i) => `entry-${String(i).padStart(2, '0')}`)]);
  t.is(sys_getdents64(proc, mem, all, BUF, 0x4000), 0);
  // Resumed: 64 bytes hold two 32-byte entry-NN records (the name, its NUL, 8-aligned: 19 + 9 -> 32).
  t.is(dirent64Size('entry-00'.length), 32);
  const fd = sys_open(proc, mem, path('/d/sub'), O_RDONLY | O_DIRECTORY, 0);
  const names: string[] = [];
  let calls = 0;
  for (;;) {
    const k = sys_getdents64(proc, mem, fd, BUF, 64);
    t.true(k >= 0);
    if (k === 0) break;
    t.true(k <= 64);
    names.push(...records(mem.peek(BUF, k)).map(r => r.name));
    calls++;
  }
  t.deepEqual(names, expected);
  t.true(calls >= 10);
  // A buffer too small for the next record: EINVAL (and the position stays).
  const s = sys_open(proc, mem, path('/d/sub'), O_RDONLY | O_DIRECTORY, 0);
  t.is(sys_getdents64(proc, mem, s, BUF, 48), 48); // '.' and '..' (24 bytes each)
  t.is(sys_getdents64(proc, mem, s, BUF, 31), -EINVAL);
  t.is(sys_getdents64(proc, mem, s, BUF, 0), -EINVAL);
  t.is(sys_getdents64(proc, mem, s, BUF, 32), 32);
  t.is(records(mem.peek(BUF, 32))[0].name, 'entry-00');
  // Bad buffers: EFAULT, nothing consumed.
  t.is(sys_getdents64(proc, mem, s, END - 16, 64), -EFAULT);
  t.is(sys_getdents64(proc, mem, s, KERN, 64), -EFAULT);
  t.is(sys_getdents64(proc, mem, s, BUF, 32), 32);
  t.is(records(mem.peek(BUF, 32))[0].name, 'entry-01');
  // Not a directory; not a descriptor.
  const f = sys_open(proc, mem, path('/d/file'), O_RDONLY, 0);
  t.is(sys_getdents64(proc, mem, f, BUF, 4096), -ENOTDIR);
  t.is(sys_getdents64(proc, mem, 500, BUF, 4096), -EBADF);
});

test('stat64, lstat64, fstat64, fstatat64: the struct stat64 bytes; AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH; errors', t => {
  const { mem, proc, path, root } = setup();
  const want = (p: string, follow = true) => {
    const b = new Uint8Array(STAT64_SIZE);
    encodeStat64(must(statat(root, undefined, p, { follow })), b);
    return b;
  };
  const got = () => mem.peek(STATBUF, STAT64_SIZE);
  const mode = () => new DataView(got().buffer).getUint32(STAT64.st_mode, true);
  t.is(sys_stat64(proc, mem, path('/d/link'), STATBUF), 0);
  t.deepEqual(got(), want('/d/file'));
  t.is(mode() & S_IFMT, S_IFREG);
  t.is(sys_lstat64(proc, mem, path('/d/link'), STATBUF), 0);
  t.deepEqual(got(), want('/d/link', false));
  t.is(mode() & S_IFMT, S_IFLNK);
  const d = sys_open(proc, mem, path('/d'), O_RDONLY, 0);
  t.is(sys_fstat64(proc, mem, d, STATBUF), 0);
  t.deepEqual(got(), want('/d'));
  t.is(sys_fstatat64(proc, mem, d, path('link'), STATBUF, 0), 0);
  t.deepEqual(got(), want('/d/file'));
  t.is(sys_fstatat64(proc, mem, d, path('link'), STATBUF, AT_SYMLINK_NOFOLLOW), 0);
  t.deepEqual(got(), want('/d/link', false));
  const f = sys_openat(proc, mem, d, path('file'), O_RDONLY, 0);
  t.is(sys_fstatat64(proc, mem, f, path(''), STATBUF, AT_EMPTY_PATH), 0);
  t.deepEqual(got(), want('/d/file'));
  t.is(sys_fstatat64(proc, mem, AT_FDCWD, path(''), STATBUF, AT_EMPTY_PATH), 0);
  t.is(mode() & S_IFMT, S_IFDIR);
  t.deepEqual(got(), want('/'));
  // Errors.
  t.is(sys_fstatat64(proc, mem, f, path(''), STATBUF, 0), -ENOENT);
  t.is(sys_fstatat64(proc, mem, d, path('link'), STATBUF, 0x8000), -EINVAL);
  t.is(sys_fstatat64(proc, mem, f, path('x'), STATBUF, 0), -ENOTDIR);
  t.is(sys_fstatat64(proc, mem, 300, path('x'), STATBUF, 0), -EBADF);
  t.is(sys_fstatat64(proc, mem, 300, path(''), STATBUF, AT_EMPTY_PATH), -EBADF);
  t.is(sys_stat64(proc, mem, path('/d/nothing'), STATBUF), -ENOENT);
  t.is(sys_stat64(proc, mem, path('/d/file/'), STATBUF), -ENOTDIR);
  t.is(sys_stat64(proc, mem, path('/d/file'), END - 95), -EFAULT);
  t.is(sys_stat64(proc, mem, path('/d/file'), KERN), -EFAULT);
  t.is(sys_stat64(proc, mem, path('/d/nothing'), KERN), -ENOENT); // the walk comes before the copy
  t.is(sys_stat64(proc, mem, KERN, STATBUF), -EFAULT);
  t.is(sys_lstat64(proc, mem, END, STATBUF), -EFAULT);
  t.is(sys_fstat64(proc, mem, 123, STATBUF), -EBADF);
  t.is(sys_fstat64(proc, mem, f, 0), -EFAULT);
  // As uid 1000: stat needs search permission on the directories only.
  const u = setup(USER);
  t.is(sys_stat64(u.proc, u.mem, u.path('/secret'), STATBUF), 0);
  must(mkdirat(u.root, undefined, '/closed', 0o700));
  put(u.root, '/closed/f', '');
  t.is(sys_stat64(u.proc, u.mem, u.path('/closed/f'), STATBUF), -EACCES);
});

test('readlink: truncated to bufsiz without a NUL; EINVAL; ENOENT; EFAULT', t => {
  const { mem, proc, path, root } = setup();
  must(symlinkat(root, 'a-longer-target', undefined, '/d/long'));
  mem.poke(BUF, 'XXXXXXXXXXXXXXXXXXXXXXXX');
  t.is(sys_readlink(proc, mem, path('/d/long'), BUF, 100), 15);
  t.is(latin1(mem.peek(BUF, 16)), 'a-longer-targetX');
  t.is(sys_readlink(proc, mem, path('/d/long'), BUF + 0x100, 4), 4);
  t.is(latin1(mem.peek(BUF + 0x100, 4)), 'a-lo');
  t.is(sys_readlink(proc, mem, path('/d/file'), BUF, 100), -EINVAL);
  t.is(sys_readlink(proc, mem, path('/d/long'), BUF, 0), -EINVAL);
  t.is(sys_readlink(proc, mem, path('/d/long'), BUF, 0xffffffff), -EINVAL); // bufsiz is an int
  t.is(sys_readlink(proc, mem, path('/d/none'), BUF, 100), -ENOENT);
  t.is(sys_readlink(proc, mem, path(''), BUF, 100), -ENOENT);
  t.is(sys_readlink(proc, mem, path('/d/long'), END - 8, 100), -EFAULT);
  t.is(sys_readlink(proc, mem, path('/d/long'), END - 8, 8), 8);
  t.is(sys_readlink(proc, mem, KERN, BUF, 100), -EFAULT);
});

test('access: modes, EINVAL, ENOENT, ENOTDIR, the real uid', t => {
  const { mem, proc, path } = setup();
  t.is(sys_access(proc, mem, path('/secret'), R_OK | W_OK), 0);
  t.is(sys_access(proc, mem, path('/d/file'), 1), -EACCES); // root needs an x bit to exec
  t.is(sys_access(proc, mem, path('/d/file'), 8), -EINVAL);
  t.is(sys_access(proc, mem, KERN, 8), -EINVAL); // mode is checked before the name
  t.is(sys_access(proc, mem, path('/d/none'), F_OK), -ENOENT);
  t.is(sys_access(proc, mem, path('/d/file/x'), F_OK), -ENOTDIR);
  t.is(sys_access(proc, mem, KERN, F_OK), -EFAULT);
  // Real uid 1000 with euid 0 (a setuid program): access checks as 1000.
  const s: FileProc = { fs: { ...proc.fs, cred: { uid: 1000, gid: 1000, euid: 0, egid: 0, groups: [1000] } },
    files: new FdTable() };
  t.is(sys_access(s, mem, path('/secret'), R_OK), -EACCES);
  t.true(sys_open(s, mem, path('/secret'), O_RDONLY, 0) >= 0);
});

test('getcwd and chdir: the length with its NUL, ERANGE, ENOENT once removed; chdir errors', t => {
  const { mem, proc, path, root } = setup();
  t.is(sys_getcwd(proc, mem, BUF, 100), 2);
  t.is(latin1(mem.peek(BUF, 2)), '/\0');
  t.is(sys_chdir(proc, mem, path('/d/sub')), 0);
  t.is(sys_getcwd(proc, mem, BUF, 100), 7);
  t.is(latin1(mem.peek(BUF, 7)), '/d/sub\0');
  t.is(sys_getcwd(proc, mem, BUF, 7), 7);
  t.is(sys_getcwd(proc, mem, BUF, 6), -ERANGE);
  t.is(sys_getcwd(proc, mem, BUF, 0), -ERANGE);
  t.is(sys_getcwd(proc, mem, END - 3, 100), -EFAULT);
  t.is(sys_getcwd(proc, mem, KERN, 100), -EFAULT);
  // Relative names now start at /d/sub.
  t.true(sys_open(proc, mem, path('entry-03'), O_RDONLY, 0) >= 0);
  t.is(sys_chdir(proc, mem, path('..')), 0);
  t.is(sys_getcwd(proc, mem, BUF, 100), 3);
  t.is(sys_chdir(proc, mem, path('file')), -ENOTDIR);
  t.is(sys_chdir(proc, mem, path('none')), -ENOENT);
  t.is(sys_chdir(proc, mem, path('')), -ENOENT);
  t.is(sys_chdir(proc, mem, END), -EFAULT);
  // A removed cwd: ENOENT.
  must(mkdirat(root, undefined, '/gone', 0o755));
  t.is(sys_chdir(proc, mem, path('/gone')), 0);
  must(rmdirat(root, undefined, '/gone'));
  t.is(sys_getcwd(proc, mem, BUF, 100), -ENOENT);
  // EACCES without search permission, as uid 1000.
  const u = setup(USER);
  must(mkdirat(u.root, undefined, '/closed', 0o700));
  t.is(sys_chdir(u.proc, u.mem, u.path('/closed')), -EACCES);
  t.is(sys_chdir(u.proc, u.mem, u.path('/d')), 0);
});
