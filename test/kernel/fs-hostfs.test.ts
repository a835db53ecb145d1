// hostfs (kernel/fs/hostfs.ts) against the real host tree it shows: attributes against fs.lstatSync, listing order
// against fs.opendirSync, fs.readdirSync, `ls -f` and `find -maxdepth 1`, contents byte for byte, read-only and
// read-write mounts, symbolic links resolved in the guest, and permission with the guest's credentials.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import {
  existsSync, lstatSync, opendirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, unlinkSync,
  mkdirSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { EACCES, EBUSY, EEXIST, EISDIR, ELOOP, ENOENT, ENOTEMPTY, ENXIO, EOPNOTSUPP,
  EROFS } from '../../kernel/errno.ts';
import {
  O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, SEEK_SET,
} from '../../kernel/fs/fcntl.ts';
import { vfsFtruncate, vfsLseek, vfsPread, vfsRead, vfsWrite, vfsFstat } from '../../kernel/fs/file.ts';
import {
  chmodat, chownat, linkat, lookupPath, mkdirat, openat, readlinkat, renameat, rmdirat, statat, symlinkat,
  truncateat, unlinkat, type FsContext,
} from '../../kernel/fs/namei.ts';
import { ROOT } from '../../kernel/fs/permission.ts';
import { readdirAll } from '../../kernel/fs/readdir.ts';
import { DT_DIR, DT_FIFO, DT_LNK, DT_REG, S_IFMT, isDir, isLnk } from '../../kernel/fs/stat.ts';
import { Vfs } from '../../kernel/fs/vfs.ts';
import { makeHostTree, type HostTree } from '../util/hosttree.ts';
import { USER, bytes, cat, ls, must, put, readRest } from '../util/kfs.ts';

const asRoot = process.getuid?.() === 0;

function mount(rw = false): { tree: HostTree; vfs: Vfs; root: FsContext; user: FsContext } {
  const tree = makeHostTree();
  const vfs = new Vfs();
  vfs.mountHost(tree.dir, '/mnt/h', { rw });
  return { tree, vfs, root: vfs.context(ROOT), user: vfs.context(USER) };
}

/** Every name under `dir` in the host tree (relative), walked through the host. */
function hostNames(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true, encoding: 'buffer' })) {
    const name = rel ? `${rel}/${e.name.toString('latin1')}` : e.name.toString('latin1');
    out.push(name);
    if (e.isDirectory()) out.push(...hostNames(dir, name));
  }
  return out;
}

const hostPath = (tree: HostTree, rel: string) => Buffer.from(`${tree.dir}/${rel}`, 'latin1');

test('stat: every field is the host\'s (lstatSync with bigint), for every file in the tree', t => {
  const { tree, root } = mount();
  try {
    const names = hostNames(tree.dir);
    t.true(names.length > 340);
    for (const rel of ['', ...names]) {
      const h = lstatSync(hostPath(tree, rel), { bigint: true });
      const g = must(statat(root, undefined, `/mnt/h/${rel}`, { follow: false }), rel);
      const ns = (x: { sec: number; nsec: number }) => BigInt(x.sec) * 1_000_000_000n + BigInt(x.nsec);
      t.deepEqual(
        [g.dev, g.ino, g.mode, g.nlink, g.uid, g.gid, g.rdev, g.size, g.blksize, g.blocks, ns(g.atime), ns(g.mtime),
          ns(g.ctime)],
        [h.dev, h.ino, h.mode, h.nlink, h.uid, h.gid, h.rdev, h.size, h.blksize, h.blocks, h.atimeNs, h.mtimeNs,
          h.ctimeNs].map((x, i) => (i < 10 ? Number(x) : x)),
        rel,
      );
    }
    // Following a link gives its target's attributes.
    t.is(must(statat(root, undefined, '/mnt/h/link')).ino, Number(statSync(join(tree.dir, 'f644')).ino));
  } finally {
    tree.done();
  }
});

test('readdir: the host kernel\'s order (opendirSync, `ls -f`, `find -maxdepth 1`), `.` and `..` first; readdirSync ' +
  'sorts', t => {
  const { tree, root } = mount();
  try {
    for (const rel of ['', 'many', 'dir755', 'chain']) {
      const dir = join(tree.dir, rel);
      const ours = must(ls(root, `/mnt/h/${rel}`));
      t.deepEqual(ours.slice(0, 2), ['.', '..']);
      const names = ours.slice(2);
      // Node's opendir (readdir(3): getdents order), without . and ..
      // (@types/node's opendirSync does not know { encoding: 'buffer' }, which gives the names as bytes.)
      const d = opendirSync(dir, { encoding: 'buffer' as BufferEncoding });
      const viaOpendir: string[] = [];
      for (let e = d.readSync(); e; e = d.readSync()) viaOpendir.push(Buffer.from(e.name as unknown as Uint8Array).toString('latin1'));
      d.closeSync();
      t.deepEqual(names, viaOpendir, `opendir order of ${rel || '.'}`);
      // `ls -f` (-a -U: unsorted, with . and ..) and find: independent programs reading getdents.
      const lsOut = spawnSync('ls', ['-f', dir], { encoding: 'latin1' }).stdout.split('\n').filter(n => n !== '');
      t.deepEqual(names, lsOut.filter(n => n !== '.' && n !== '..'), `ls -f order of ${rel || '.'}`);
      const findOut = spawnSync('find', [dir, '-mindepth', '1', '-maxdepth', '1', '-printf', '%f\\n'],
        { encoding: 'latin1' }).stdout.split('\n').filter(n => n !== '');
      t.deepEqual(names, findOut, `find order of ${rel || '.'}`);
      // fs.readdirSync gives the same names, sorted (libuv's scandir sorts with strcmp).
      const sorted = readdirSync(Buffer.from(dir), { encoding: 'buffer' }).map(b => b.toString('latin1'));
      t.deepEqual(sorted,
        [...names].sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'))));
    }
    // On ext4 and other hashed directories the host order is not the sorted one (so the test above means something).
    const many = must(ls(root, '/mnt/h/many')).slice(2);
    t.notDeepEqual(many, [...many].sort());
  } finally {
    tree.done();
  }
});

test('readdir entries: d_ino and d_type are the host\'s; `..` of the mount root is the root itself; cookies resume',
  t => {
  const { tree, root } = mount();
  try {
    const f = must(openat(root, undefined, '/mnt/h', O_RDONLY | O_DIRECTORY));
    const all = must(readdirAll(f));
    const byName = new Map(all.map(e => [e.name, e]));
    const rootIno = Number(statSync(tree.dir).ino);
    t.is(byName.get('.')!.ino, rootIno);
    t.is(byName.get('..')!.ino, rootIno);
    t.is(byName.get('f644')!.ino, Number(lstatSync(join(tree.dir, 'f644')).ino));
    t.is(byName.get('f644')!.type, DT_REG);
    t.is(byName.get('dir755')!.type, DT_DIR);
    t.is(byName.get('link')!.type, DT_LNK);
    t.is(byName.get('fifo')!.type, DT_FIFO);
    const sub = must(readdirAll(must(openat(root, undefined, '/mnt/h/dir755/sub', O_RDONLY | O_DIRECTORY))));
    t.is(sub[1].ino, Number(statSync(join(tree.dir, 'dir755')).ino));
    // Resume from the d_off of the 10th entry.
    t.is(vfsLseek(f, all[9].off, SEEK_SET), all[9].off);
    t.deepEqual(must(readdirAll(f)).map(e => e.name), all.slice(10).map(e => e.name));
  } finally {
    tree.done();
  }
});

test('reads are the host file\'s bytes: whole, in odd chunks, at offsets; a name that is not UTF-8', t => {
  const { tree, root, user } = mount();
  try {
    const f = must(openat(user, undefined, '/mnt/h/big', O_RDONLY));
    t.true(Buffer.from(readRest(f, 65536)).equals(tree.big));
    vfsLseek(f, 0, SEEK_SET);
    t.true(Buffer.from(readRest(f, 4093)).equals(tree.big));
    const b = new Uint8Array(1000);
    for (const off of [0, 1, 4095, 4096, 1_000_000, tree.big.length - 10]) {
      const n = vfsPread(f, b, off);
      t.is(n, Math.min(1000, tree.big.length - off));
      t.true(Buffer.from(b.subarray(0, n)).equals(tree.big.subarray(off, off + n)), `at ${off}`);
    }
    t.is(vfsPread(f, b, tree.big.length + 5), 0);
    t.is(cat(user, '/mnt/h/f644'), 'hello\n');
    t.is(cat(user, '/mnt/h/empty'), '');
    const odd = tree.oddName.toString('latin1');
    t.true(must(ls(root, '/mnt/h')).includes(odd));
    t.is(cat(root, `/mnt/h/${odd}`), 'odd\n');
    t.is(must(statat(root, undefined, `/mnt/h/${odd}`)).size, 4);
  } finally {
    tree.done();
  }
});

test('read-only by default: EROFS for every change, even as root, and the host is untouched', t => {
  const { tree, root } = mount(false);
  try {
    const before = hostNames(tree.dir).sort();
    const f644 = readFileSync(join(tree.dir, 'f644'));
    t.is(openat(root, undefined, '/mnt/h/f644', O_WRONLY), -EROFS);
    t.is(openat(root, undefined, '/mnt/h/f644', O_RDWR), -EROFS);
    t.is(openat(root, undefined, '/mnt/h/f644', O_RDONLY | O_TRUNC), -EROFS);
    t.is(openat(root, undefined, '/mnt/h/new', O_CREAT | O_WRONLY, 0o644), -EROFS);
    t.is(openat(root, undefined, '/mnt/h/f644', O_CREAT | O_EXCL | O_WRONLY, 0o644), -EEXIST); // EEXIST first
    t.is(mkdirat(root, undefined, '/mnt/h/newdir', 0o755), -EROFS);
    t.is(unlinkat(root, undefined, '/mnt/h/f644'), -EROFS);
    t.is(unlinkat(root, undefined, '/mnt/h/missing'), -EROFS);
    t.is(rmdirat(root, undefined, '/mnt/h/dir755/sub'), -EROFS);
    t.is(renameat(root, undefined, '/mnt/h/f644', undefined, '/mnt/h/g'), -EROFS);
    t.is(symlinkat(root, 'x', undefined, '/mnt/h/sl'), -EROFS);
    t.is(linkat(root, undefined, '/mnt/h/f644', undefined, '/mnt/h/hl'), -EROFS);
    t.is(truncateat(root, undefined, '/mnt/h/f644', 0), -EROFS);
    t.is(chmodat(root, undefined, '/mnt/h/f644', 0o777), -EROFS);
    t.is(chownat(root, undefined, '/mnt/h/f644', 1000, 1000), -EROFS);
    // Reading still works, and writing to /dev/null through a path in the guest too.
    t.is(cat(root, '/mnt/h/f644'), 'hello\n');
    t.deepEqual(hostNames(tree.dir).sort(), before);
    t.true(readFileSync(join(tree.dir, 'f644')).equals(f644));
    t.is(lstatSync(join(tree.dir, 'f644')).mode & 0o7777, 0o644);
  } finally {
    tree.done();
  }
});

test('read-write: writes, creations, renames and removals happen on the host', t => {
  const { tree, root, user } = mount(true);
  try {
    const f = must(openat(root, undefined, '/mnt/h/f644', O_WRONLY | O_APPEND));
    t.is(vfsWrite(f, bytes('more\n')), 5);
    t.is(readFileSync(join(tree.dir, 'f644'), 'latin1'), 'hello\nmore\n');
    t.is(must(vfsFstat(f)).size, 11);
    // A new file: the guest's mode & ~umask exactly, and (the host process being root) the guest creator as owner.
    must(mkdirat(root, undefined, '/mnt/h/pub', 0o777));
    must(chmodat(root, undefined, '/mnt/h/pub', 0o777));
    const g = must(openat({ ...user, umask: 0o027 }, undefined, '/mnt/h/pub/new', O_CREAT | O_EXCL | O_RDWR, 0o666));
    t.is(vfsWrite(g, bytes('from the guest')), 14);
    const st = lstatSync(join(tree.dir, 'pub/new'));
    t.is(st.mode & 0o7777, 0o640);
    if (asRoot) t.deepEqual([st.uid, st.gid], [1000, 1000]);
    t.is(readFileSync(join(tree.dir, 'pub/new'), 'latin1'), 'from the guest');
    t.is(vfsFtruncate(USER, g, 4), 0);
    t.is(readFileSync(join(tree.dir, 'pub/new'), 'latin1'), 'from');
    must(mkdirat(root, undefined, '/mnt/h/newdir', 0o750));
    t.is(lstatSync(join(tree.dir, 'newdir')).mode & 0o7777, 0o750);
    must(symlinkat(root, 'f644', undefined, '/mnt/h/newlink'));
    t.is(readlinkSync(join(tree.dir, 'newlink')), 'f644');
    must(linkat(root, undefined, '/mnt/h/f644', undefined, '/mnt/h/hard'));
    t.is(lstatSync(join(tree.dir, 'f644')).nlink, 2);
    must(renameat(root, undefined, '/mnt/h/hard', undefined, '/mnt/h/newdir/moved'));
    t.true(existsSync(join(tree.dir, 'newdir/moved')));
    t.is(cat(root, '/mnt/h/newdir/moved'), 'hello\nmore\n');
    // Renaming a directory: names below it follow.
    must(renameat(root, undefined, '/mnt/h/newdir', undefined, '/mnt/h/renamed'));
    t.is(cat(root, '/mnt/h/renamed/moved'), 'hello\nmore\n');
    t.is(rmdirat(root, undefined, '/mnt/h/renamed'), -ENOTEMPTY);
    must(unlinkat(root, undefined, '/mnt/h/renamed/moved'));
    must(rmdirat(root, undefined, '/mnt/h/renamed'));
    t.false(existsSync(join(tree.dir, 'renamed')));
    must(truncateat(root, undefined, '/mnt/h/f644', 2));
    t.is(readFileSync(join(tree.dir, 'f644'), 'latin1'), 'he');
    must(chmodat(root, undefined, '/mnt/h/f644', 0o604));
    t.is(lstatSync(join(tree.dir, 'f644')).mode & 0o7777, 0o604);
    // Guest permission still applies on a writable mount.
    t.is(openat(user, undefined, '/mnt/h/f600', O_RDWR), -EACCES);
    t.is(unlinkat(user, undefined, '/mnt/h/f644'), -EACCES);
  } finally {
    tree.done();
  }
});

test('changes made on the host are seen: removed, replaced, new', t => {
  const { tree, root } = mount();
  try {
    t.is(cat(root, '/mnt/h/dir755/a'), 'a\n');
    unlinkSync(join(tree.dir, 'dir755/a'));
    t.is(cat(root, '/mnt/h/dir755/a'), -ENOENT);
    mkdirSync(join(tree.dir, 'dir755/a'));
    t.true(isDir(must(statat(root, undefined, '/mnt/h/dir755/a')).mode));
    writeFileSync(join(tree.dir, 'dir755/fresh'), 'fresh\n');
    t.is(cat(root, '/mnt/h/dir755/fresh'), 'fresh\n');
    t.true(must(ls(root, '/mnt/h/dir755')).includes('fresh'));
    rmSync(join(tree.dir, 'dir755/sub'), { recursive: true });
    t.is(statat(root, undefined, '/mnt/h/dir755/sub/deep'), -ENOENT);
  } finally {
    tree.done();
  }
});

test('symbolic links are the guest\'s to follow: absolute targets and .. never reach the host\'s root', t => {
  const { tree, root } = mount();
  try {
    t.is(readlinkat(root, undefined, '/mnt/h/abs'), '/f644');
    t.is(cat(root, '/mnt/h/abs'), -ENOENT); // no /f644 in the guest
    put(root, '/f644', 'the guest\'s own /f644\n');
    t.is(cat(root, '/mnt/h/abs'), 'the guest\'s own /f644\n');
    // up -> ../../../../../../../../.. from /mnt/h: the guest's root, whatever the host has above the tree.
    t.deepEqual(must(ls(root, '/mnt/h/up')).sort(), ['.', '..', 'dev', 'f644', 'mnt', 'tmp']);
    t.is(must(statat(root, undefined, '/mnt/h/up')).ino, must(statat(root, undefined, '/')).ino);
    t.is(must(statat(root, undefined, '/mnt/h/..')).ino, must(statat(root, undefined, '/mnt')).ino);
    t.is(must(statat(root, undefined, '/mnt/h/dir755/../..')).ino, must(statat(root, undefined, '/mnt')).ino);
    t.true(isLnk(must(statat(root, undefined, '/mnt/h/up', { follow: false })).mode));
    t.is(cat(root, '/mnt/h/chain/c1'), 'hello\n');
    t.is(cat(root, '/mnt/h/chain/c0'), -ELOOP);
    const p = must(lookupPath(root, undefined, '/mnt/h/dirlink/sub'));
    t.is(p.dentry.name, 'sub');
    t.is(p.dentry.parent.name, 'dir755');
  } finally {
    tree.done();
  }
});

test('a rw mount with a link to a host file outside it: the guest cannot reach or change that file', t => {
  const { tree, root } = mount(true);
  const outside = join(tree.dir, '..', `${tree.dir.split('/').pop()}-outside`);
  writeFileSync(outside, 'host only\n');
  try {
    symlinkSync(outside, join(tree.dir, 'escape'));
    t.is(cat(root, '/mnt/h/escape'), -ENOENT);
    t.is(truncateat(root, undefined, '/mnt/h/escape', 0), -ENOENT);
    t.is(chmodat(root, undefined, '/mnt/h/escape', 0o777, false), -EOPNOTSUPP);
    // The target's directory (/tmp) exists in the guest: O_CREAT through the link creates the guest's own file.
    const f = must(openat(root, undefined, '/mnt/h/escape', O_CREAT | O_WRONLY | O_TRUNC, 0o666));
    t.is(vfsWrite(f, bytes('guest\n')), 6);
    t.is(cat(root, outside), 'guest\n');
    t.is(cat(root, '/mnt/h/escape'), 'guest\n');
    t.is(truncateat(root, undefined, '/mnt/h/escape', 0), 0);
    t.is(chownat(root, undefined, '/mnt/h/escape', 1000, 1000, false), 0); // lchown: the link itself
    t.is(lstatSync(join(tree.dir, 'escape')).uid, asRoot ? 1000 : lstatSync(join(tree.dir, 'escape')).uid);
    t.is(readFileSync(outside, 'latin1'), 'host only\n');
    t.is(lstatSync(outside).mode & 0o777, 0o644);
    t.is(lstatSync(outside).uid, 0);
  } finally {
    rmSync(outside, { force: true });
    tree.done();
  }
});

test('permission with the guest\'s credentials on host modes: uid 1000 is refused what the host root could do', t => {
  const { tree, user, root } = mount();
  try {
    t.is(cat(user, '/mnt/h/f600'), -EACCES);
    t.is(cat(root, '/mnt/h/f600'), 'secret\n');
    t.is(statat(user, undefined, '/mnt/h/dir700/inside'), -EACCES);
    t.is(ls(user, '/mnt/h/dir700'), -EACCES);
    t.is(cat(user, '/mnt/h/dir711/known'), 'known\n');
    t.is(ls(user, '/mnt/h/dir711'), -EACCES);
    t.deepEqual(must(ls(user, '/mnt/h/dir744')).sort(), ['.', '..', 'inside']);
    t.is(cat(user, '/mnt/h/dir744/inside'), -EACCES);
    t.is(must(statat(user, undefined, '/mnt/h/f600')).mode & S_IFMT, 0o100000);
  } finally {
    tree.done();
  }
});

test('special host files: FIFOs give ENXIO, device nodes EACCES (nodev); the mount point is busy', t => {
  const { tree, vfs, root } = mount();
  try {
    t.is(openat(root, undefined, '/mnt/h/fifo', O_RDONLY), -ENXIO);
    vfs.mountHost('/dev', '/hostdev');
    t.is(openat(root, undefined, '/hostdev/null', O_WRONLY), -EACCES);
    t.is(rmdirat(root, undefined, '/mnt/h'), -EBUSY);
    t.throws(() => vfs.mountHost(join(tree.dir, 'f644'), '/x'), { message: /not a directory/ });
    t.throws(() => vfs.mountHost(join(tree.dir, 'missing'), '/x'));
    t.is(vfsRead(must(openat(root, undefined, '/mnt/h/dir755', O_RDONLY)), new Uint8Array(1)), -EISDIR);
  } finally {
    tree.done();
  }
});
