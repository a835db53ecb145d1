// kernel/fs against the host's Linux. One real directory tree (test/util/hosttree.ts) is seen two ways: natively,
// by a tiny GNU-assembled static i386 program (test/util/fsoracle.ts) that makes one system call with int 0x80;
// and through the VFS, as a hostfs mount with the cwd at its root. For the same relative name, as root and as uid
// 1000, both must give the same errno, the same 96 bytes of struct stat64, the same readlink target and file
// contents, and the same linux_dirent64 records (d_off aside: ext4's hash cookies are not ours).
import test from 'ava';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errnoName } from '../../kernel/errno.ts';
import { O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_WRONLY } from '../../kernel/fs/fcntl.ts';
import { vfsRead } from '../../kernel/fs/file.ts';
import {
  faccessat, linkat, mkdirat, openat, readlinkat, renameat, rmdirat, statat, symlinkat, unlinkat, type FsContext,
} from '../../kernel/fs/namei.ts';
import { ROOT, userCred } from '../../kernel/fs/permission.ts';
import { getdents64 } from '../../kernel/fs/readdir.ts';
import { encodeStat64 } from '../../kernel/fs/stat.ts';
import { Vfs } from '../../kernel/fs/vfs.ts';
import { runOracle, type OracleResult } from '../util/fsoracle.ts';
import { makeHostTree, type HostTree } from '../util/hosttree.ts';
import { at } from '../util/kfs.ts';

const native = process.platform === 'linux' && process.getuid?.() === 0;

/** What the VFS gives for one oracle operation, in the oracle's terms. */
function viaVfs(ctx: FsContext, args: string[]): OracleResult {
  const [op, path, num] = args;
  const n = num === undefined ? 0 : Number(num);
  const err = (r: number): OracleResult => ({ errno: -r, out: Buffer.alloc(0) });
  switch (op) {
    case 's':
    case 'l': {
      const st = statat(ctx, undefined, path, { follow: op === 's' });
      if (typeof st === 'number') return err(st);
      const out = Buffer.alloc(96);
      encodeStat64(st, out);
      return { errno: 0, out };
    }
    case 'k': {
      const r = readlinkat(ctx, undefined, path);
      return typeof r === 'number' ? err(r) : { errno: 0, out: Buffer.from(r, 'latin1') };
    }
    case 'o': {
      const f = openat(ctx, undefined, path, n, 0o644);
      return typeof f === 'number' ? err(f) : { errno: 0, out: Buffer.alloc(0) };
    }
    case 'a':
      return err(faccessat(ctx, undefined, path, n));
    case 'm':
      return err(mkdirat(ctx, undefined, path, n));
    case 'u':
      return err(unlinkat(ctx, undefined, path));
    case 'R':
      return err(rmdirat(ctx, undefined, path));
    case 'n':
      return err(renameat(ctx, undefined, path, undefined, num));
    case 'y':
      return err(symlinkat(ctx, path, undefined, num));
    case 'h':
      return err(linkat(ctx, undefined, path, undefined, num));
    case 'r': {
      const f = openat(ctx, undefined, path, O_RDONLY);
      if (typeof f === 'number') return err(f);
      const parts: Buffer[] = [];
      for (;;) {
        const b = Buffer.alloc(4096);
        const k = vfsRead(f, b);
        if (k < 0) return { errno: -k, out: Buffer.concat(parts) };
        if (k === 0) return { errno: 0, out: Buffer.concat(parts) };
        parts.push(b.subarray(0, k));
      }
    }
    case 'd': {
      const f = openat(ctx, undefined, path, O_RDONLY | O_DIRECTORY);
      if (typeof f === 'number') return err(f);
      const parts: Buffer[] = [];
      for (;;) {
        const b = Buffer.alloc(n || 65536);
        const k = getdents64(f, b);
        if (k < 0) return { errno: -k, out: Buffer.concat(parts) };
        if (k === 0) return { errno: 0, out: Buffer.concat(parts) };
        parts.push(b.subarray(0, k));
      }
    }
  }
  throw new Error(`unknown op ${op}`);
}

interface Rec { ino: bigint; reclen: number; type: number; name: string }

function parseDirents(b: Buffer): Rec[] {
  const out: Rec[] = [];
  for (let o = 0; o < b.length;) {
    const reclen = b.readUInt16LE(o + 16);
    const end = b.indexOf(0, o + 19);
    out.push({ ino: b.readBigUInt64LE(o), reclen, type: b[o + 18], name: b.subarray(o + 19, end).toString('latin1') });
    o += reclen;
  }
  return out;
}

const long = (n: number) => 'n'.repeat(n);

// The names looked at: every kind of file, walk and error in the tree.
const PATHS = [
  'f644', 'f600', 'f755', 'empty', 'big', 'fifo', '.', 'dir755', 'dir755/', 'dir755/a', 'dir755/sub/deep',
  'dir755/./a', 'dir755/../f644', 'dir755/sub/../../f644', 'dir755//sub///deep', 'dir755/a/..', 'dir700',
  'dir700/inside', 'dir700/missing', 'dir711', 'dir711/known', 'dir711/missing', 'dir744', 'dir744/inside',
  'link', 'link/', 'dirlink', 'dirlink/', 'dirlink/a', 'dirlink/../f644', 'dangling', 'dangling/', 'self',
  'loop1', 'loop1/x', 'chain/c0', 'chain/c1', 'f644/', 'f644/x', 'f644/.', 'missing', 'missing/x', '',
  long(255), long(256), `dir755/${long(256)}`, `missing/${long(256)}`, `${'./'.repeat(2045)}f644`,
  `${'./'.repeat(2046)}f644`, `dir700/${long(256)}`,
];
const LINKS = ['link', 'dirlink', 'dirlink/', 'dangling', 'self', 'chain/c0', 'chain/c1', 'f644', 'missing',
  'dir755/../link', ''];
const OPEN_FLAGS = [O_RDONLY, O_RDONLY | O_DIRECTORY, O_RDONLY | O_NOFOLLOW, O_WRONLY, O_RDWR];
const ACCESS_PATHS = [
  'f644', 'f600', 'f755', 'fifo', 'dir755', 'dir700', 'dir700/inside', 'dir711', 'dir711/known', 'dir744',
  'dir744/inside', 'link', 'dangling', 'self', 'f644/', 'missing', long(256),
];
const NO_OPEN = new Set(['fifo']); // opening a FIFO would block natively (and hostfs gives ENXIO)

function setup(tree: HostTree = makeHostTree()) {
  // Touch everything once (reads, listings, followed links) so that relatime has nothing left to update while the
  // two sides are compared.
  const visit = (p: string) => {
    const full = join(tree.dir, p);
    try {
      statSync(full);
      readlinkSync(full);
    } catch { /* not a link, or dangling */ }
    try {
      readFileSync(full);
    } catch {
      try {
        readdirSync(full);
      } catch { /* neither */ }
    }
  };
  for (const p of [...PATHS.filter(p => p !== 'fifo'), 'many', 'chain',
    ...readdirSync(join(tree.dir, 'chain')).map(c => `chain/${c}`)]) visit(p);
  const vfs = new Vfs();
  vfs.mountHost(tree.dir, '/mnt/s', { rw: true });
  const root = { ...at(vfs.context(ROOT), '/mnt/s'), umask: process.umask() };
  const user = { ...root, cred: userCred(1000, 1000) };
  return { tree, ctx: { 0: root, 1000: user } as Record<number, FsContext> };
}

function compare(t: import('ava').ExecutionContext, env: ReturnType<typeof setup>, args: string[], uid: number,
  nativeTree = env.tree): void {
  const ours = viaVfs(env.ctx[uid], args);
  const theirs = runOracle(args, { cwd: nativeTree.dir, uid, gid: uid });
  const label = `${args[0]} ${JSON.stringify(args[1].length > 60 ? args[1].slice(0, 30) + `…(${args[1].length})` : args[1])}${args[2] ? ' ' + args[2] : ''} as uid ${uid}`;
  t.is(ours.errno ? errnoName(ours.errno) : 'ok', theirs.errno ? errnoName(theirs.errno) : 'ok', `errno of ${label}`);
  if (args[0] === 'd') {
    const a = parseDirents(ours.out), b = parseDirents(theirs.out);
    const plain = (r: Rec[]) => r.filter(x => x.name !== '.' && x.name !== '..');
    t.deepEqual(plain(a), plain(b), `records of ${label}`);
    if (ours.errno === 0) t.deepEqual(a.slice(0, 2).map(x => x.name), ['.', '..'], `. and .. first: ${label}`);
    const dot = (r: Rec[], n: string) => r.find(x => x.name === n);
    t.deepEqual(dot(a, '.'), dot(b, '.'), `. of ${label}`);
    if (args[1] !== '.') t.deepEqual(dot(a, '..'), dot(b, '..'), `.. of ${label}`);
  } else {
    t.true(ours.out.equals(theirs.out),
      `output of ${label}: ${ours.out.toString('hex').slice(0, 200)} vs ${theirs.out.toString('hex').slice(0, 200)}`);
  }
}

if (!native) {
  // Under CI (Linux, root) the oracle must run; elsewhere it is skipped with a note.
  test('host oracle (needs Linux and root)', t => {
    if (process.platform !== 'linux' && process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0')
      return t.fail('the host oracle needs Linux');
    t.log('skipped: needs Linux and root');
    return t.pass();
  });
} else {
  test('stat64 and lstat64: errno and all 96 bytes, as root and as uid 1000', t => {
    const env = setup();
    try {
      for (const uid of [0, 1000]) for (const p of PATHS) for (const op of ['s', 'l']) compare(t, env, [op, p], uid);
    } finally {
      env.tree.done();
    }
  });

  test('open (read, write, O_DIRECTORY, O_NOFOLLOW) and access (F_OK, R_OK, W_OK, X_OK): errno', t => {
    const env = setup();
    try {
      for (const uid of [0, 1000]) {
        for (const p of PATHS) {
          if (NO_OPEN.has(p)) continue;
          for (const fl of OPEN_FLAGS) compare(t, env, ['o', p, String(fl)], uid);
        }
        for (const p of ACCESS_PATHS) for (const mode of [0, 1, 2, 4]) compare(t, env, ['a', p, String(mode)], uid);
      }
    } finally {
      env.tree.done();
    }
  });

  test('readlink, read and getdents64: errno and bytes, as root and as uid 1000', t => {
    const env = setup();
    try {
      for (const uid of [0, 1000]) {
        for (const p of LINKS) compare(t, env, ['k', p], uid);
        for (const p of ['f644', 'f600', 'big', 'empty', 'dir755', 'link', 'dir711/known', 'dir700/inside', 'chain/c0',
          long(255)]) compare(t, env, ['r', p], uid);
        for (const p of ['.', 'dir755', 'dir755/sub', 'dir700', 'dir711', 'dir744', 'many', 'chain', 'f644', 'dirlink',
          'missing']) compare(t, env, ['d', p], uid);
        for (const size of ['24', '40', '64', '200']) compare(t, env, ['d', 'many', size], uid);
        compare(t, env, ['d', 'many', '16'], uid); // too small for any record: EINVAL
      }
    } finally {
      env.tree.done();
    }
  });
}

/** Every name in a tree with what the script can change about it, in a form two trees can be compared by. */
function describe(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel), { encoding: 'buffer' }).map(b => b.toString('latin1')).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const p = Buffer.from(`${dir}/${r}`, 'latin1');
    const st = lstatSync(p);
    const link = st.isSymbolicLink() ? ` -> ${readlinkSync(p, 'latin1')}` : '';
    out.push(`${r} ${(st.mode >>> 0).toString(8)} ${st.uid}:${st.gid} n${st.nlink} ` +
      `${st.isDirectory() ? '' : st.size}${link}`);
    if (st.isDirectory()) out.push(...describe(dir, r));
  }
  return out;
}

const CREAT = O_CREAT | O_WRONLY;
/** [uid, op, arg, arg]: a script run natively on one tree and through a rw hostfs mount on an identical one. */
const SCRIPT: [number, ...string[]][] = [
  [0, 'm', 'newd', '493'], [0, 'm', 'newd', '493'], [0, 'm', 'f644', '493'], [0, 'm', 'dangling', '493'],
  [0, 'm', 'missing/x', '493'], [0, 'm', 'f644/x', '493'], [0, 'm', '.', '493'], [0, 'm', 'newd2/', '493'],
  [0, 'm', long(256), '493'], [0, 'm', '', '493'], [0, 'm', 'dir755/sub/deeper', '448'], [0, 'm', 'modes', '4095'],
  [0, 'R', 'dirlink'], [0, 'u', 'dir755'], [0, 'u', 'missing'], [0, 'u', 'f644/'], [0, 'u', '.'], [0, 'u', 'link/'],
  [0, 'u', 'dirlink/'], [0, 'u', 'dangling'], [0, 'R', 'dir755'], [0, 'R', 'f644'], [0, 'R', '.'], [0, 'R', '..'],
  [0, 'R', 'dir755/sub/..'], [0, 'R', 'dir755/sub/.'], [0, 'R', 'newd2/'], [0, 'R', 'missing'], [0, 'R', 'newd2'],
  [0, 'n', 'f644', 'dir755'], [0, 'n', 'dir755', 'f644'], [0, 'n', 'dir755', 'dir755/sub/x'],
  [0, 'n', 'dir755', 'dir744'], [0, 'n', '.', 'x'], [0, 'n', 'missing', '.'], [0, 'n', 'dir755/sub', 'dir755'],
  [0, 'n', 'f755', 'renamed'], [0, 'n', 'renamed', 'f755'], [0, 'n', 'link', 'link2'], [0, 'n', 'f644/', 'x'],
  [0, 'n', 'newd', 'dir700/newd'], [0, 'n', 'dir744', 'dir700/newd'], [0, 'n', 'empty', 'dir711/known'],
  [0, 'y', 'x', 'f644'], [0, 'y', '', 'newl'], [0, 'y', 't', 'newl/'], [0, 'y', 'f644', 'newl'],
  [0, 'h', 'dir755', 'dl'], [0, 'h', 'f644', 'f644'], [0, 'h', 'missing', 'x'], [0, 'h', 'f644', 'hard'],
  [0, 'h', 'link2', 'hardlink'], [0, 'h', 'dir700', 'dir755/x'],
  [0, 'o', 'new', String(CREAT)], [0, 'o', 'new', String(CREAT | O_EXCL)], [0, 'o', 'newdir/', String(CREAT)],
  [0, 'o', 'dir755', String(O_CREAT | O_RDONLY)], [0, 'o', 'link2', String(CREAT | O_EXCL)],
  [0, 'y', 'made-through-link', 'dl2'], [0, 'o', 'dl2', String(CREAT)],
  [1000, 'm', 'dir755/x', '493'], [1000, 'm', 'dir700/x', '493'], [1000, 'm', 'pub/u', '493'], [1000, 'm', 'pub/u/v',
    '511'],
  [1000, 'o', 'pub/file', String(CREAT)], [1000, 'o', 'dir755/file', String(CREAT)], [1000, 'o', 'f600', '0'],
  [1000, 'o', 'pub/file', String(CREAT | O_EXCL)], [1000, 'u', 'dir755/a'], [1000, 'u', 'f644'],
  [1000, 'R', 'pub/u'], [1000, 'R', 'pub/u/v'], [1000, 'n', 'pub/u', 'pub/w'], [1000, 'n', 'f644', 'pub/f'],
  [1000, 'n', 'pub/w', 'pub/file'], [1000, 'h', 'f600', 'pub/h'], [1000, 'h', 'f644', 'pub/h2'],
  [1000, 'h', 'pub/file', 'pub/h3'], [1000, 'y', 'x', 'pub/sl'], [1000, 'u', 'pub/file'], [1000, 'u', 'dir711/known'],
  [1000, 'm', 'dir711/new', '493'], [1000, 'R', 'dir755/sub'],
];

if (native) {
  test('creating, removing, renaming and linking: the same errno at each step, and the same tree at the end', t => {
    const theirs = makeHostTree();
    const ours = makeHostTree();
    try {
      for (const tree of [theirs, ours]) {
        mkdirSync(join(tree.dir, 'pub'));
        chmodSync(join(tree.dir, 'pub'), 0o777);
      }
      const env = setup(ours);
      for (const [uid, ...args] of SCRIPT) compare(t, env, args, uid, theirs);
      t.deepEqual(describe(ours.dir), describe(theirs.dir));
    } finally {
      theirs.done();
      ours.done();
    }
  });
}
