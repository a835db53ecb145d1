// The system-call programs of test/programs/sys: small verified TAL programs that call the kernel through the
// imports (tal/interface.ts) and print what they get back. Each entry says how to run one (its arguments, built
// from a fixture directory, and the user to run it as) and what Linux gives: the expectations are written by hand
// from Linux semantics and confirmed natively (test/kernel/sys-programs.test.ts). The same list can be run under the
// emulated kernel (talrun, user and kernel mode) and compared with the same expectations.
//
// Every program runs with its working directory set to the fixture directory.
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SysProgram {
  /** Unique; one source may appear more than once (other arguments, another user). */
  readonly name: string;
  /** Absolute path of the .tal source (talas syntax). */
  readonly source: string;
  /** argv[1..], given the fixture directory (argv[0] is the program's name). */
  readonly args: (fixture: string) => string[];
  /** Run as this user and group (natively this needs root, or to be that user already). Default: whoever runs it. */
  readonly uid?: number;
  readonly gid?: number;
  readonly expectedStdout: (fixture: string) => string;
  readonly expectedStatus: number;
  /**
   * The lines of stdout may come in any order (getdents64 gives the file system's order, which is not the order of
   * creation on a hashed directory): compare after normalizeStdout.
   */
  readonly unorderedLines?: boolean;
}

const dir = join(import.meta.dirname, '..', 'programs', 'sys');
const src = (f: string) => join(dir, f);
const lines = (...l: string[]) => l.map(s => `${s}\n`).join('');

/** The contents of fixture/file.txt. */
export const FILE_CONTENT = 'hello, world\n';

/**
 * A fixture directory (its real path, mode 0755 so that any user can search it), made by the current user:
 *
 *   file.txt       "hello, world\n" (13 bytes), mode 0644
 *   secret         "top secret\n", mode 0600
 *   noxdir/        mode 0600 (neither readable nor searchable by others), holding f
 *   link           symbolic link to "file.txt"
 *   sub/           mode 0755, holding a, b, c ("a\n", "b\n", "c\n")
 *
 * `done` removes it.
 */
export function makeFixture(): { dir: string; done: () => void } {
  const d = realpathSync(mkdtempSync(join(tmpdir(), 'ktal-sys-')));
  chmodSync(d, 0o755);
  writeFileSync(join(d, 'file.txt'), FILE_CONTENT);
  chmodSync(join(d, 'file.txt'), 0o644);
  writeFileSync(join(d, 'secret'), 'top secret\n');
  chmodSync(join(d, 'secret'), 0o600);
  mkdirSync(join(d, 'noxdir'));
  writeFileSync(join(d, 'noxdir', 'f'), 'f\n');
  chmodSync(join(d, 'noxdir'), 0o600);
  symlinkSync('file.txt', join(d, 'link'));
  mkdirSync(join(d, 'sub'));
  chmodSync(join(d, 'sub'), 0o755);
  for (const n of ['a', 'b', 'c']) writeFileSync(join(d, 'sub', n), `${n}\n`);
  return {
    dir: d,
    done: () => {
      chmodSync(join(d, 'noxdir'), 0o755);
      rmSync(d, { recursive: true, force: true });
    },
  };
}

/** stdout as it is compared: its lines sorted if the program's order is the file system's. */
export function normalizeStdout(p: SysProgram, stdout: string): string {
  if (!p.unorderedLines) return stdout;
  const l = stdout.split('\n');
  const last = l.pop(); // '' after a final newline
  return [...l.sort(), last].join('\n');
}

const ids = (id: number) => lines('getpid > 0: 1', 'getppid > 0: 1', `getuid: ${id}`, `geteuid: ${id}`, `getgid: ${id}`,
  `getegid: ${id}`,
  'kill(getpid(), 0): 0', 'kill(99999, 0): -3');

export const SYS_PROGRAMS: readonly SysProgram[] = [
  {
    name: 'open-errors', source: src('open-errors.tal'),
    args: f => [`${f}/missing`, `${f}/file.txt/x`, `${f}/sub`, `${f}/file.txt`],
    expectedStdout: () => lines(
      'open missing: -2', 'open file/x: -20', 'open dir O_WRONLY: -21', 'open dir O_DIRECTORY >= 0: 1', 'close it: 0',
      'open file O_DIRECTORY: -20', 'open file O_CREAT|O_EXCL|O_WRONLY: -17', 'open 300-byte name: -36',
      'open 5000-byte path: -36', 'open 4095 slashes >= 0: 1', 'stat64 missing: -2', 'stat64 file/x: -20', 'open empty path: -2'),
    expectedStatus: 0,
  },
  {
    name: 'eacces', source: src('eacces.tal'), uid: 1000, gid: 1000,
    args: f => [`${f}/secret`, `${f}/noxdir`, `${f}/noxdir/f`],
    expectedStdout: () => lines(
      'open 0600 root file: -13', 'access R_OK: -13', 'access F_OK: 0', 'stat64 0600 root file: 0',
      'open file in dir without x: -13', 'stat64 file in dir without x: -13', 'chdir dir without x: -13',
      'open dir without r or x: -13'),
    expectedStatus: 0,
  },
  {
    name: 'ebadf', source: src('ebadf.tal'), args: () => [],
    expectedStdout: () => lines(
      'read(99): -9', 'write(99): -9', 'close(99): -9', 'read(-1): -9', 'write(-1): -9', 'close(-1): -9', 'lseek(99): -9',
      'fstat64(99): -9', 'getdents64(99): -9', 'close(0): 0', 'read(0) after close: -9', 'close(0) again: -9'),
    expectedStatus: 0,
  },
  {
    name: 'lseek', source: src('lseek.tal'), args: f => [`${f}/file.txt`],
    expectedStdout: () => lines(
      'open: 3', 'lseek(0, SEEK_END): 13', 'lseek(0, 7): -22', 'lseek(-1, SEEK_SET): -22', 'lseek(7, SEEK_SET): 7', 'read: 6',
      'world', 'read at the end: 0', 'lseek(-6, SEEK_CUR): 7', 'lseek(100, SEEK_SET): 100', 'read past the end: 0',
      'write to a read-only fd: -9', 'close: 0', 'lseek after close: -9'),
    expectedStatus: 0,
  },
  {
    name: 'efault', source: src('efault.tal'), args: f => [`${f}/file.txt`],
    expectedStdout: () => lines(
      'read 10-byte buffer off 5 count 6: -14', 'read off -1 count 1: -14', 'read off 0 count -1: -14', 'read off 11 count 0: -14',
      'read off 10 count 0: 0', 'read fd 99 off 5 count 6: -14', 'read off 5 count 5: 5', 'write off 8 count 3: -14',
      'getdents64 count 11: -14', 'stat64 96-byte buffer off 1: -14', 'stat64 10-byte buffer: -14', 'stat64 96-byte buffer: 0',
      'lstat64 10-byte buffer: -14', 'fstat64 10-byte buffer: -14', 'fstat64 96-byte buffer: 0', 'getcwd count 11: -14',
      'readlink off 4 count 7: -14', 'uname 96-byte buffer: -14', 'clock_gettime off 3: -14', 'clock_gettime off 2: 0',
      'nanosleep off 3: -14', 'nanosleep off -8: -14'),
    expectedStatus: 0,
  },
  {
    name: 'getdents', source: src('getdents.tal'), args: f => [`${f}/sub`, `${f}/file.txt`], unorderedLines: true,
    expectedStdout: () => lines(
      'getdents64 of a regular file: -20', 'getdents64 with 10 bytes: -22', '.', '..', 'a', 'b', 'c', 'getdents64 at the end: 0', 'close: 0'),
    expectedStatus: 0,
  },
  {
    name: 'stat', source: src('stat.tal'), args: f => [`${f}/file.txt`, `${f}/link`, `${f}/sub`],
    expectedStdout: () => lines(
      'stat64 file: 0', `  st_mode: ${0o100644}`, '  st_nlink: 1', `  st_size: ${FILE_CONTENT.length}`,
      'lstat64 link: 0', `  st_mode: ${0o120777}`, `  st_size: ${'file.txt'.length}`,
      'stat64 link: 0', `  st_mode: ${0o100644}`, `  st_size: ${FILE_CONTENT.length}`,
      'stat64 dir: 0', `  st_mode: ${0o40755}`,
      'fstat64 file: 0', `  st_mode: ${0o100644}`, `  st_size: ${FILE_CONTENT.length}`),
    expectedStatus: 0,
  },
  {
    name: 'readlink', source: src('readlink.tal'), args: f => [`${f}/link`, `${f}/file.txt`, `${f}/missing`],
    expectedStdout: () => lines('readlink link: 8', 'file.txt', 'readlink link, 3 bytes: 3', 'fil',
      'readlink regular file: -22', 'readlink missing: -2'),
    expectedStatus: 0,
  },
  {
    name: 'cwd', source: src('cwd.tal'), args: f => [`${f}/sub`, `${f}/file.txt`],
    expectedStdout: f => lines(
      `getcwd: ${Buffer.byteLength(f) + 1}`, f, 'chdir sub: 0', `getcwd: ${Buffer.byteLength(f) + 5}`, `${f}/sub`, 'open a there >= 0: 1',
      'chdir ..: 0', `getcwd: ${Buffer.byteLength(f) + 1}`, f, 'chdir file: -20', 'chdir missing: -2', 'chdir empty path: -2',
      'getcwd count 1: -34'),
    expectedStatus: 0,
  },
  {
    name: 'access', source: src('access.tal'), args: f => [`${f}/file.txt`, `${f}/missing`, `${f}/sub`],
    expectedStdout: () => lines(
      'access file F_OK: 0', 'access file R_OK: 0', 'access file W_OK: 0', 'access file X_OK: -13', 'access file mode 8: -22',
      'access dir R_OK|W_OK|X_OK: 0', 'access missing: -2', 'access 5000-byte path: -36'),
    expectedStatus: 0,
  },
  { name: 'ids', source: src('ids.tal'), uid: 0, gid: 0, args: () => [], expectedStdout: () => ids(0),
    expectedStatus: 0 },
  { name: 'ids-uid1000', source: src('ids.tal'), uid: 1000, gid: 1000, args: () => [], expectedStdout: () => ids(1000),
    expectedStatus: 0 },
  {
    name: 'uname', source: src('uname.tal'), args: () => [],
    expectedStdout: () => lines('uname off 1: -14', 'uname: 0', 'sysname: Linux'),
    expectedStatus: 0,
  },
  {
    name: 'time', source: src('time.tal'), args: () => [],
    expectedStdout: () => lines(
      'clock_gettime(CLOCK_MONOTONIC): 0', 'tv_nsec < 10^9: 1', 'nanosleep 1 ms: 0', 'clock_gettime(CLOCK_MONOTONIC): 0',
      'at least 1 ms later: 1', 'nanosleep tv_nsec = 10^9: -22', 'nanosleep tv_sec = -1: -22', 'clock_gettime(99): -22'),
    expectedStatus: 0,
  },
  {
    name: 'socket', source: src('socket.tal'), args: () => [],
    expectedStdout: () => lines(
      'socket(99, SOCK_STREAM): -97', 'socket >= 0: 1', 'setsockopt SO_REUSEADDR: 0', 'bind 15-byte address: -14',
      'bind address off 1 of 16 bytes: -14', 'bind 127.0.0.1:0: 0', 'listen: 0', 'getsockname: 0', 'family AF_INET: 1',
      'port != 0: 1', 'client socket >= 0: 1', 'connect: 0', 'accept4 >= 0: 1', 'getpeername: 0', 'getsockname client: 0',
      'the peer is the client: 1', 'getpeername listener: -107', 'sendto 4 bytes: 4', 'sendto off 2 count 3: -14',
      'poll POLLIN: 1', 'revents: 1', 'poll count 7: -22', 'poll off 4 count 8: -14', 'recvfrom: 4', 'got ping: 1',
      'fcntl F_GETFL O_NONBLOCK: 1', 'recvfrom nothing there: -11', 'recvfrom off 10 count 7: -14', 'shutdown SHUT_WR: 0',
      'recvfrom after shutdown: 0', 'fcntl F_SETFL 0: 0', 'O_NONBLOCK now: 0', 'shutdown how 7: -22', 'close accepted: 0',
      'close client: 0', 'close listener: 0', 'connect to a closed port: -111', 'accept4 on a socket not listening: -22', 'listen(99): -9'),
    expectedStatus: 0,
  },
  { name: 'exit-3', source: src('exit.tal'), args: () => ['3'], expectedStdout: () => lines('exit: 3'),
    expectedStatus: 3 },
  { name: 'exit-300', source: src('exit.tal'), args: () => ['300'], expectedStdout: () => lines('exit: 300'),
    expectedStatus: 300 & 255 },
];
