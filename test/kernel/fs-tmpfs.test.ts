// tmpfs (kernel/fs/tmpfs.ts) through the VFS: files, offsets and open flags, links, directories and readdir's
// cookies, times, devices and the console, and open file descriptions shared between descriptors.
import test from 'ava';
import { EACCES, EAGAIN, EBADF, EOVERFLOW, EPERM, EEXIST, EFBIG, EINVAL, EISDIR, ENOENT, ENOSPC, ENOTDIR, ENOTEMPTY,
  ENXIO, ESPIPE } from '../../kernel/errno.ts';
import {
  O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_LARGEFILE, O_PATH, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, SEEK_CUR,
  SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET,
} from '../../kernel/fs/fcntl.ts';
import {
  fget, fput, vfsFstat, vfsFtruncate, vfsLseek, vfsPread, vfsPwrite, vfsRead, vfsWrite,
} from '../../kernel/fs/file.ts';
import {
  linkat, lookupPath, mkdirat, mknodat, openat, readlinkat, renameat, rmdirat, statat, symlinkat, unlinkat,
} from '../../kernel/fs/namei.ts';
import { ROOT } from '../../kernel/fs/permission.ts';
import { getdents64, readdirAll } from '../../kernel/fs/readdir.ts';
import { DIRENT64, DT_CHR, DT_DIR, DT_LNK, DT_REG, S_IFCHR, isChr, isDir, makedev } from '../../kernel/fs/stat.ts';
import { Vfs } from '../../kernel/fs/vfs.ts';
import { bytes, cat, fresh, ls, must, put, readRest, text } from '../util/kfs.ts';

test('regular files: write, read at offsets, lseek, pread/pwrite, holes and blocks', t => {
  const { root } = fresh();
  const f = must(openat(root, undefined, '/tmp/f', O_CREAT | O_RDWR, 0o644));
  t.is(vfsWrite(f, bytes('hello world')), 11);
  t.is(f.pos, 11);
  t.is(vfsLseek(f, 0, SEEK_SET), 0);
  const b = new Uint8Array(5);
  t.is(vfsRead(f, b), 5);
  t.is(text(b), 'hello');
  t.is(vfsLseek(f, 1, SEEK_CUR), 6);
  t.is(text(readRest(f)), 'world');
  t.is(vfsRead(f, b), 0);
  t.is(vfsLseek(f, -5, SEEK_END), 6);
  t.is(vfsLseek(f, -100, SEEK_CUR), -EINVAL);
  t.is(vfsLseek(f, -1, SEEK_SET), -EINVAL);
  t.is(vfsLseek(f, 0, 7), -EINVAL);
  t.is(f.pos, 6);
  t.is(vfsPwrite(f, bytes('W'), 6), 1);
  t.is(f.pos, 6);
  t.is(vfsPread(f, b, 4), 5);
  t.is(text(b), 'o Wor');
  t.is(vfsPread(f, b, -1), -EINVAL);
  // A write far past the end leaves a hole: zeros that take no blocks.
  t.is(vfsLseek(f, 100_000, SEEK_SET), 100_000);
  t.is(vfsWrite(f, bytes('end')), 3);
  const st = must(vfsFstat(f));
  t.is(st.size, 100_003);
  t.is(st.blocks, 2 * 8); // the first page and the last
  const mid = new Uint8Array(10);
  t.is(vfsPread(f, mid, 50_000), 10);
  t.deepEqual([...mid], Array(10).fill(0));
  t.is(vfsLseek(f, 11, SEEK_DATA), 11);
  t.is(vfsLseek(f, 11, SEEK_HOLE), 100_003);
  t.is(vfsLseek(f, 100_003, SEEK_DATA), -ENXIO);
  // Shrinking frees the pages past the end and zeros the tail of the last one.
  t.is(vfsFtruncate(ROOT, f, 3), 0);
  t.is(must(vfsFstat(f)).blocks, 8);
  t.is(vfsFtruncate(ROOT, f, 8), 0);
  t.is(cat(root, '/tmp/f'), 'hel\0\0\0\0\0');
  t.is(vfsFtruncate(ROOT, f, -1), -EINVAL);
});

test('open flags: access modes, O_TRUNC, O_APPEND, O_EXCL, O_DIRECTORY, O_PATH, umask', t => {
  const { root } = fresh();
  put(root, '/tmp/f', 'abcdef');
  const ro = must(openat(root, undefined, '/tmp/f', O_RDONLY));
  t.is(vfsWrite(ro, bytes('x')), -EBADF);
  const wo = must(openat(root, undefined, '/tmp/f', O_WRONLY));
  t.is(vfsRead(wo, new Uint8Array(1)), -EBADF);
  t.is(vfsWrite(wo, bytes('XY')), 2);
  t.is(cat(root, '/tmp/f'), 'XYcdef');
  const ap = must(openat(root, undefined, '/tmp/f', O_WRONLY | O_APPEND));
  t.is(vfsWrite(ap, bytes('+')), 1);
  t.is(ap.pos, 7);
  vfsLseek(ap, 0, SEEK_SET);
  t.is(vfsWrite(ap, bytes('!')), 1); // still at the end
  t.is(vfsPwrite(ap, bytes('?'), 0), 1); // pwrite with O_APPEND appends too (Linux)
  t.is(cat(root, '/tmp/f'), 'XYcdef+!?');
  must(openat(root, undefined, '/tmp/f', O_WRONLY | O_TRUNC));
  t.is(cat(root, '/tmp/f'), '');
  t.is(openat(root, undefined, '/tmp/f', O_CREAT | O_EXCL | O_WRONLY, 0o644), -EEXIST);
  t.is(openat(root, undefined, '/tmp/f', O_DIRECTORY), -ENOTDIR);
  t.is(openat(root, undefined, '/tmp/missing', O_RDONLY), -ENOENT);
  const p = must(openat(root, undefined, '/tmp/f', O_PATH));
  t.is(vfsRead(p, new Uint8Array(1)), -EBADF);
  t.is(vfsLseek(p, 0, SEEK_SET), -EBADF);
  t.true(must(vfsFstat(p)).size === 0);
  must(openat({ ...root, umask: 0o077 }, undefined, '/tmp/m', O_CREAT | O_WRONLY, 0o666));
  t.is(must(statat(root, undefined, '/tmp/m')).mode & 0o777, 0o600);
  // A directory opens for reading only.
  t.is(openat(root, undefined, '/tmp', O_WRONLY), -EISDIR);
  t.is(openat(root, undefined, '/tmp', O_RDONLY | O_TRUNC), -EISDIR);
  const d = must(openat(root, undefined, '/tmp', O_RDONLY));
  t.is(vfsRead(d, new Uint8Array(1)), -EISDIR);
});

test('open descriptions are shared by dup: one offset; the last close releases', t => {
  const { root } = fresh();
  put(root, '/tmp/f', '0123456789');
  const a = must(openat(root, undefined, '/tmp/f', O_RDONLY));
  const b = fget(a);
  t.is(a, b);
  const buf = new Uint8Array(3);
  vfsRead(a, buf);
  vfsRead(b, buf);
  t.is(text(buf), '345');
  fput(a);
  t.is(b.refs, 1);
  vfsRead(b, buf);
  t.is(text(buf), '678');
});

test('an unlinked file lives while open', t => {
  const { root } = fresh();
  put(root, '/tmp/f', 'still here');
  const f = must(openat(root, undefined, '/tmp/f', O_RDWR));
  t.is(unlinkat(root, undefined, '/tmp/f'), 0);
  t.is(cat(root, '/tmp/f'), -ENOENT);
  t.is(must(vfsFstat(f)).nlink, 0);
  t.is(text(readRest(f)), 'still here');
  t.is(linkat(root, f.path, '', undefined, '/tmp/back', false, true), -ENOENT);
  fput(f);
});

test('hard links: one inode, a link count; directories cannot be linked', t => {
  const { root } = fresh();
  put(root, '/tmp/a', 'shared');
  t.is(linkat(root, undefined, '/tmp/a', undefined, '/tmp/b'), 0);
  const a = must(statat(root, undefined, '/tmp/a')), b = must(statat(root, undefined, '/tmp/b'));
  t.is(a.ino, b.ino);
  t.is(a.nlink, 2);
  put(root, '/tmp/b', 'changed');
  t.is(cat(root, '/tmp/a'), 'changed');
  t.is(unlinkat(root, undefined, '/tmp/a'), 0);
  t.is(must(statat(root, undefined, '/tmp/b')).nlink, 1);
  t.is(linkat(root, undefined, '/tmp/b', undefined, '/tmp/b'), -EEXIST);
  must(mkdirat(root, undefined, '/tmp/d', 0o755));
  t.is(linkat(root, undefined, '/tmp/d', undefined, '/tmp/d2'), -EPERM);
  // linkat does not follow a link unless AT_SYMLINK_FOLLOW.
  must(symlinkat(root, 'b', undefined, '/tmp/l'));
  t.is(linkat(root, undefined, '/tmp/l', undefined, '/tmp/l2'), 0);
  t.is(readlinkat(root, undefined, '/tmp/l2'), 'b');
  t.is(linkat(root, undefined, '/tmp/l', undefined, '/tmp/b2', true), 0);
  t.is(must(statat(root, undefined, '/tmp/b')).nlink, 2);
});

test('directories: link counts, mkdir EEXIST, rmdir ENOTEMPTY, unlink EISDIR', t => {
  const { root } = fresh();
  const tmpLinks = must(statat(root, undefined, '/tmp')).nlink;
  must(mkdirat(root, undefined, '/tmp/d', 0o755));
  t.is(must(statat(root, undefined, '/tmp/d')).nlink, 2);
  t.is(must(statat(root, undefined, '/tmp')).nlink, tmpLinks + 1);
  must(mkdirat(root, undefined, '/tmp/d/e', 0o755));
  must(mkdirat(root, undefined, '/tmp/d/f', 0o755));
  t.is(must(statat(root, undefined, '/tmp/d')).nlink, 4);
  t.is(mkdirat(root, undefined, '/tmp/d/e', 0o755), -EEXIST);
  t.is(rmdirat(root, undefined, '/tmp/d'), -ENOTEMPTY);
  t.is(unlinkat(root, undefined, '/tmp/d/e'), -EISDIR);
  t.is(rmdirat(root, undefined, '/tmp/d/e'), 0);
  t.is(must(statat(root, undefined, '/tmp/d')).nlink, 3);
  t.is(rmdirat(root, undefined, '/tmp/d/f'), 0);
  t.is(rmdirat(root, undefined, '/tmp/d'), 0);
  t.is(must(statat(root, undefined, '/tmp')).nlink, tmpLinks);
});

test('rename: files, directories, replacing, and the errors', t => {
  const { root } = fresh();
  put(root, '/tmp/a', 'A');
  put(root, '/tmp/b', 'B');
  must(mkdirat(root, undefined, '/tmp/d', 0o755));
  must(mkdirat(root, undefined, '/tmp/e', 0o755));
  put(root, '/tmp/e/x', 'x');
  t.is(renameat(root, undefined, '/tmp/a', undefined, '/tmp/b'), 0);
  t.is(cat(root, '/tmp/b'), 'A');
  t.is(cat(root, '/tmp/a'), -ENOENT);
  t.is(renameat(root, undefined, '/tmp/b', undefined, '/tmp/d'), -EISDIR);
  t.is(renameat(root, undefined, '/tmp/d', undefined, '/tmp/b'), -ENOTDIR);
  t.is(renameat(root, undefined, '/tmp/d', undefined, '/tmp/e'), -ENOTEMPTY);
  t.is(renameat(root, undefined, '/tmp/d', undefined, '/tmp/d/sub'), -EINVAL);
  t.is(renameat(root, undefined, '/tmp/e/x', undefined, '/tmp/e/x'), 0);
  t.is(renameat(root, undefined, '/tmp/b/', undefined, '/tmp/c'), -ENOTDIR);
  t.is(renameat(root, undefined, '/tmp/missing', undefined, '/tmp/c'), -ENOENT);
  // A directory moves with its contents; link counts of both parents follow.
  must(mkdirat(root, undefined, '/tmp/d/inner', 0o755));
  t.is(renameat(root, undefined, '/tmp/d/inner', undefined, '/tmp/e/inner'), 0);
  t.is(must(statat(root, undefined, '/tmp/d')).nlink, 2);
  t.is(must(statat(root, undefined, '/tmp/e')).nlink, 3);
  t.is(renameat(root, undefined, '/tmp/e', undefined, '/tmp/d'), 0); // over an empty directory
  t.is(cat(root, '/tmp/d/x'), 'x');
  t.deepEqual(ls(root, '/tmp/d'), ['.', '..', 'x', 'inner']);
  t.is(renameat(root, undefined, '/tmp/b', undefined, '/tmp/d/x', 1), -EEXIST);
});

test('symbolic links: readlink, lstat size, long targets take a page', t => {
  const { root } = fresh();
  must(symlinkat(root, 'target', undefined, '/tmp/l'));
  const st = must(statat(root, undefined, '/tmp/l', { follow: false }));
  t.is(st.size, 6);
  t.is(st.mode & 0o777, 0o777);
  t.is(st.blocks, 0);
  const long = 'x/'.repeat(100);
  must(symlinkat(root, long, undefined, '/tmp/long'));
  t.is(readlinkat(root, undefined, '/tmp/long'), long);
  t.is(must(statat(root, undefined, '/tmp/long', { follow: false })).blocks, 8);
});

test('readdir: . and .. first, then creation order; d_off cookies resume across changes', t => {
  const { root } = fresh();
  must(mkdirat(root, undefined, '/tmp/d', 0o755));
  const names = Array.from({ length: 50 }, (_, i) => `f${i}`);
  for (const n of names) put(root, `/tmp/d/${n}`, n);
  must(mkdirat(root, undefined, '/tmp/d/sub', 0o755));
  must(symlinkat(root, 'f0', undefined, '/tmp/d/link'));
  const d = must(openat(root, undefined, '/tmp/d', O_RDONLY | O_DIRECTORY));
  const all = must(readdirAll(d));
  t.deepEqual(all.map(e => e.name), ['.', '..', ...names, 'sub', 'link']);
  t.is(all[0].ino, must(statat(root, undefined, '/tmp/d')).ino);
  t.is(all[1].ino, must(statat(root, undefined, '/tmp')).ino);
  t.deepEqual(all.slice(0, 2).map(e => e.type), [DT_DIR, DT_DIR]);
  t.is(all[2].type, DT_REG);
  t.is(all.at(-2)!.type, DT_DIR);
  t.is(all.at(-1)!.type, DT_LNK);
  t.is(must(readdirAll(d)).length, 0);
  // Seek back to the d_off of f9 and remove entries around it: the listing goes on after f9, no repeats.
  t.is(vfsLseek(d, all[11].off, SEEK_SET), all[11].off);
  must(unlinkat(root, undefined, '/tmp/d/f9'));
  must(unlinkat(root, undefined, '/tmp/d/f10'));
  must(unlinkat(root, undefined, '/tmp/d/f2'));
  put(root, '/tmp/d/late', 'late');
  const rest = must(readdirAll(d)).map(e => e.name);
  t.deepEqual(rest, [...names.slice(11), 'sub', 'link', 'late']);
  // Many removals (compaction of the entry list) keep the cookies stable.
  vfsLseek(d, 0, SEEK_SET);
  const before = must(readdirAll(d));
  for (let i = 20; i < 50; i++) must(unlinkat(root, undefined, `/tmp/d/f${i}`));
  const f19 = before.find(e => e.name === 'f19')!;
  vfsLseek(d, f19.off, SEEK_SET);
  t.deepEqual(must(readdirAll(d)).map(e => e.name), ['sub', 'link', 'late']);
  t.is(vfsLseek(d, 0, SEEK_END), -EINVAL);
  t.is(vfsLseek(d, -1, SEEK_SET), -EINVAL);
});

test('getdents64: records, small buffers, EINVAL for a buffer too small for one, ENOTDIR, ENOENT once removed', t => {
  const { root } = fresh();
  must(mkdirat(root, undefined, '/tmp/d', 0o755));
  for (const n of ['a', 'bb', 'a-longer-name']) put(root, `/tmp/d/${n}`, n);
  const d = must(openat(root, undefined, '/tmp/d', O_RDONLY | O_DIRECTORY));
  const seen: string[] = [];
  const buf = new Uint8Array(40);
  for (;;) {
    const n = getdents64(d, buf);
    t.true(n >= 0);
    if (n === 0) break;
    for (let off = 0; off < n;) {
      const dv = new DataView(buf.buffer, off);
      const reclen = dv.getUint16(DIRENT64.d_reclen, true);
      t.is(reclen % 8, 0);
      let end = off + DIRENT64.d_name;
      while (buf[end] !== 0) end++;
      seen.push(text(buf.subarray(off + DIRENT64.d_name, end)));
      off += reclen;
    }
  }
  t.deepEqual(seen, ['.', '..', 'a', 'bb', 'a-longer-name']);
  vfsLseek(d, 0, SEEK_SET);
  t.is(getdents64(d, new Uint8Array(23)), -EINVAL);
  t.is(getdents64(d, new Uint8Array(24)), 24);
  const f = must(openat(root, undefined, '/tmp/d/a', O_RDONLY));
  t.is(getdents64(f, new Uint8Array(100)), -ENOTDIR);
  must(mkdirat(root, undefined, '/tmp/gone', 0o755));
  const g = must(openat(root, undefined, '/tmp/gone', O_RDONLY | O_DIRECTORY));
  must(rmdirat(root, undefined, '/tmp/gone'));
  t.is(getdents64(g, new Uint8Array(100)), -ENOENT);
});

test('inode numbers are unique; times: creation, write (mtime, ctime), read (atime, relatime), link (ctime)', t => {
  let now = { sec: 1000, nsec: 0 };
  const vfs = new Vfs({ clock: () => now });
  const root = vfs.context();
  now = { sec: 2000, nsec: 5 };
  put(root, '/tmp/f', 'x');
  let st = must(statat(root, undefined, '/tmp/f'));
  t.deepEqual([st.atime, st.mtime, st.ctime], [now, now, now]);
  t.deepEqual(must(statat(root, undefined, '/tmp')).mtime, now);
  now = { sec: 3000, nsec: 0 };
  t.is(cat(root, '/tmp/f'), 'x');
  st = must(statat(root, undefined, '/tmp/f'));
  t.is(st.atime.sec, 3000); // atime was not newer than mtime
  now = { sec: 3500, nsec: 0 };
  cat(root, '/tmp/f');
  t.is(must(statat(root, undefined, '/tmp/f')).atime.sec, 3000); // relatime: not again within a day
  now = { sec: 4000, nsec: 0 };
  const f = must(openat(root, undefined, '/tmp/f', O_WRONLY));
  vfsWrite(f, bytes('y'));
  st = must(statat(root, undefined, '/tmp/f'));
  t.is(st.mtime.sec, 4000);
  t.is(st.ctime.sec, 4000);
  now = { sec: 5000, nsec: 0 };
  must(linkat(root, undefined, '/tmp/f', undefined, '/tmp/g'));
  st = must(statat(root, undefined, '/tmp/f'));
  t.is(st.ctime.sec, 5000);
  t.is(st.mtime.sec, 4000);
  const inos = new Set<number>();
  for (let i = 0; i < 20; i++) {
    put(root, `/tmp/n${i}`, '');
    inos.add(must(statat(root, undefined, `/tmp/n${i}`)).ino);
  }
  t.is(inos.size, 20);
});

test('ENOSPC when the tmpfs is full (short writes first); EFBIG past 2 GiB without O_LARGEFILE', t => {
  const { vfs, root } = fresh();
  vfs.mountTmpfs('/small', { maxBytes: 3 * 4096 });
  const f = must(openat(root, undefined, '/small/f', O_CREAT | O_WRONLY, 0o644));
  t.is(vfsWrite(f, new Uint8Array(4096 * 2 + 100)), 4096 * 2 + 100);
  t.is(vfsWrite(f, new Uint8Array(8192)), 4096 - 100);
  t.is(vfsWrite(f, new Uint8Array(1)), -ENOSPC);
  must(unlinkat(root, undefined, '/small/f'));
  t.is(vfsWrite(f, new Uint8Array(1)), -ENOSPC); // still open: its pages are still held
  fput(f);
  put(root, '/small/g', 'fits again');
  const small = must(openat(root, undefined, '/tmp/big', O_CREAT | O_WRONLY, 0o644));
  t.is(vfsPwrite(small, bytes('x'), 2 ** 31 - 1), -EFBIG);
  t.is(vfsPwrite(small, bytes('xy'), 2 ** 31 - 2), 1);
  const large = must(openat(root, undefined, '/tmp/big', O_WRONLY | O_LARGEFILE));
  t.is(vfsPwrite(large, bytes('z'), 2 ** 32), 1);
  t.is(must(statat(root, undefined, '/tmp/big')).size, 2 ** 32 + 1);
  t.is(must(statat(root, undefined, '/tmp/big')).blocks, 16);
  t.is(openat(root, undefined, '/tmp/big', O_RDONLY), -EOVERFLOW);
});

test('/dev/null, /dev/zero, /dev/full, device nodes', t => {
  const { root, user } = fresh();
  const n = must(openat(user, undefined, '/dev/null', O_RDWR));
  t.is(vfsRead(n, new Uint8Array(10)), 0);
  t.is(vfsWrite(n, bytes('gone')), 4);
  t.is(vfsLseek(n, 100, SEEK_SET), 0);
  const z = must(openat(user, undefined, '/dev/zero', O_RDONLY));
  const b = new Uint8Array(4).fill(9);
  t.is(vfsRead(z, b), 4);
  t.deepEqual([...b], [0, 0, 0, 0]);
  const full = must(openat(user, undefined, '/dev/full', O_WRONLY));
  t.is(vfsWrite(full, bytes('x')), -ENOSPC);
  const st = must(statat(root, undefined, '/dev/null'));
  t.true(isChr(st.mode));
  t.is(st.rdev, makedev(1, 3));
  t.is(st.mode & 0o777, 0o666);
  t.is(must(readdirAll(must(openat(root, undefined, '/dev', O_RDONLY))))[2].type, DT_CHR);
  // mknod: devices for root only; an unregistered device cannot be opened.
  t.is(mknodat(user, undefined, '/tmp/null2', S_IFCHR | 0o666, makedev(1, 3)), -EPERM);
  t.is(mknodat(root, undefined, '/tmp/null2', S_IFCHR | 0o666, makedev(1, 3)), 0);
  t.is(vfsWrite(must(openat(root, undefined, '/tmp/null2', O_WRONLY)), bytes('x')), 1);
  t.is(mknodat(root, undefined, '/tmp/nodev', S_IFCHR | 0o666, makedev(200, 1)), 0);
  t.is(openat(root, undefined, '/tmp/nodev', O_RDONLY), -ENXIO);
  // The console is 0600 root.
  t.is(openat(user, undefined, '/dev/console', O_WRONLY), -EACCES);
});

test('the console: fds 0-2 bound to input and to stdout and stderr hooks', t => {
  const out: [number, string][] = [];
  const vfs = new Vfs({ console: { write: (s, b) => out.push([s, text(b)]) } });
  const [stdin, stdout, stderr] = vfs.consoleFiles();
  t.is(vfsWrite(stdout, bytes('to stdout\n')), 10);
  t.is(vfsWrite(stderr, bytes('to stderr\n')), 10);
  t.deepEqual(out, [[1, 'to stdout\n'], [2, 'to stderr\n']]);
  const b = new Uint8Array(4);
  t.is(vfsRead(stdin, b), -EAGAIN);
  // f_op->poll: not readable, and the queue a reader would sleep on, woken when input arrives.
  let woke = false;
  t.is(stdin.fops.poll!(stdin, q => q.add(() => (woke = true))) & 1, 0);
  vfs.console.feed(bytes('abcdef'));
  t.true(woke);
  t.is(stdin.fops.poll!(stdin, undefined) & 1, 1);
  t.is(vfsRead(stdin, b), 4);
  t.is(text(b), 'abcd');
  t.is(vfsRead(stdin, b), 2);
  vfs.console.endInput();
  t.is(vfsRead(stdin, b), 0);
  t.is(vfsLseek(stdin, 0, SEEK_SET), -ESPIPE);
  t.is(vfsPread(stdin, b, 0), -ESPIPE);
  t.true(isChr(must(vfsFstat(stdout)).mode));
  t.false(isDir(must(vfsFstat(stdout)).mode));
});

test('ENOSPC when the tmpfs has no inode left (nr_inodes); unlink, rmdir and the last close give them back', t => {
  const { vfs, root } = fresh();
  vfs.mountTmpfs('/few', { maxInodes: 4 }); // the root, and three more
  const sb = pathOfMount(vfs);
  t.is(sb.inodesUsed, 1);
  must(mkdirat(root, undefined, '/few/d', 0o755));
  const open = must(openat(root, undefined, '/few/f', O_CREAT | O_RDWR, 0o644));
  must(symlinkat(root, 'f', undefined, '/few/l'));
  t.is(sb.inodesUsed, 4);
  t.is(openat(root, undefined, '/few/g', O_CREAT | O_WRONLY, 0o644), -ENOSPC);
  t.is(mkdirat(root, undefined, '/few/e', 0o755), -ENOSPC);
  t.is(symlinkat(root, 'x', undefined, '/few/m'), -ENOSPC);
  t.is(mknodat(root, undefined, '/few/n', S_IFCHR | 0o600, makedev(1, 3)), -ENOSPC);
  t.is(linkat(root, undefined, '/few/f', undefined, '/few/hard'), 0); // a hard link takes no inode
  must(unlinkat(root, undefined, '/few/l'));
  t.is(sb.inodesUsed, 3);
  must(rmdirat(root, undefined, '/few/d'));
  t.is(sb.inodesUsed, 2);
  must(unlinkat(root, undefined, '/few/f'));
  must(unlinkat(root, undefined, '/few/hard'));
  t.is(sb.inodesUsed, 2, 'unlinked but still open: the inode is held');
  fput(open);
  t.is(sb.inodesUsed, 1);
  for (let i = 0; i < 3; i++) must(openat(root, undefined, `/few/again${i}`, O_CREAT | O_WRONLY, 0o644));
  t.is(openat(root, undefined, '/few/one-too-many', O_CREAT | O_WRONLY, 0o644), -ENOSPC);
});

/** The tmpfs mounted at /few. */
function pathOfMount(vfs: Vfs): { inodesUsed: number } {
  const p = must(lookupPath(vfs.context(ROOT), undefined, '/few'));
  return p.dentry.inode.sb as unknown as { inodesUsed: number };
}
