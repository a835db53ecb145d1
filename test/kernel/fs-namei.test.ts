// The path walk (kernel/fs/namei.ts) on tmpfs: absolute and relative names, `.` and `..`, mounts, symbolic links,
// and each error a walk gives, as Linux gives it. (test/kernel/fs-oracle.test.ts checks the same cases against the
// host's Linux on a real tree.)
import test from 'ava';
import {
  EEXIST, EINVAL, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, EXDEV, EBUSY, ENOTEMPTY,
} from '../../kernel/errno.ts';
import { O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_RDONLY, O_RDWR, O_WRONLY } from '../../kernel/fs/fcntl.ts';
import { vfsFstat } from '../../kernel/fs/file.ts';
import {
  chdir, getcwd, linkat, lookupPath, mkdirat, openat, readlinkat, renameat, rmdirat, statat, symlinkat, unlinkat,
} from '../../kernel/fs/namei.ts';
import { S_IFLNK, S_IFMT, isDir, isLnk, isReg } from '../../kernel/fs/stat.ts';
import { at, cat, fresh, must, pathOf, put } from '../util/kfs.ts';

function tree() {
  const { vfs, root } = fresh();
  must(mkdirat(root, undefined, '/a', 0o755));
  must(mkdirat(root, undefined, '/a/b', 0o755));
  put(root, '/a/b/file', 'in b\n');
  put(root, '/a/file', 'in a\n');
  must(symlinkat(root, 'b/file', undefined, '/a/rel'));
  must(symlinkat(root, '/a/file', undefined, '/a/abs'));
  must(symlinkat(root, 'b', undefined, '/a/dirlink'));
  must(symlinkat(root, 'nowhere', undefined, '/a/dangling'));
  must(symlinkat(root, 'self', undefined, '/a/self'));
  must(symlinkat(root, 'ping', undefined, '/a/pong'));
  must(symlinkat(root, 'pong', undefined, '/a/ping'));
  return { vfs, root };
}

const ino = (r: ReturnType<typeof statat>) => (typeof r === 'number' ? r : r.ino);

test('absolute and relative names, . and ..', t => {
  const { root } = tree();
  const fileIno = ino(statat(root, undefined, '/a/b/file'));
  t.true(fileIno > 0);
  const inA = at(root, '/a');
  t.is(ino(statat(inA, undefined, 'b/file')), fileIno);
  t.is(ino(statat(inA, undefined, './b/./file')), fileIno);
  t.is(ino(statat(inA, undefined, 'b/../b/file')), fileIno);
  t.is(ino(statat(inA, undefined, '../a/b//file')), fileIno);
  t.is(ino(statat(root, undefined, '//a///b/file')), fileIno);
  // A base directory (dirfd) instead of the cwd; absolute names ignore it.
  const b = pathOf(root, '/a/b');
  t.is(ino(statat(root, b, 'file')), fileIno);
  t.is(ino(statat(root, b, '/a/b/file')), fileIno);
  // .. at the root stays at the root.
  t.is(ino(statat(root, undefined, '/..')), ino(statat(root, undefined, '/')));
  t.is(ino(statat(root, undefined, '/../../a/../..')), ino(statat(root, undefined, '/')));
  t.is(ino(statat(inA, undefined, '../../../../a/file')), ino(statat(root, undefined, '/a/file')));
});

test('a chroot-like root: .. and absolute names stop there', t => {
  const { root } = tree();
  const jail = { ...root, root: pathOf(root, '/a'), cwd: pathOf(root, '/a/b') };
  t.is(ino(statat(jail, undefined, '/file')), ino(statat(root, undefined, '/a/file')));
  t.is(ino(statat(jail, undefined, '../../../file')), ino(statat(root, undefined, '/a/file')));
  // abs -> /a/file, which inside the jail is /a/file relative to the jail root: missing.
  t.is(statat(jail, undefined, '/abs'), -ENOENT);
  t.is(getcwd(jail), '/b');
});

test('empty names, missing components and non-directories', t => {
  const { root } = tree();
  t.is(statat(root, undefined, ''), -ENOENT);
  t.is(openat(root, undefined, '', O_RDONLY), -ENOENT);
  t.is(statat(root, undefined, '/a/missing'), -ENOENT);
  t.is(statat(root, undefined, '/a/missing/x'), -ENOENT);
  t.is(statat(root, undefined, '/a/file/x'), -ENOTDIR);
  t.is(statat(root, undefined, '/a/file/'), -ENOTDIR);
  t.is(statat(root, undefined, '/a/file/.'), -ENOTDIR);
  t.is(statat(root, undefined, '/a/file/..'), -ENOTDIR);
  t.is(openat(root, undefined, '/a/file', O_RDONLY | O_DIRECTORY), -ENOTDIR);
  t.is(openat(root, undefined, '/a/file/', O_RDONLY), -ENOTDIR);
  t.true(isDir(must(statat(root, undefined, '/a/b/')).mode));
  // A base that is not a directory, with a relative name.
  const f = pathOf(root, '/a/file');
  t.is(statat(root, f, 'x'), -ENOTDIR);
  t.is(ino(statat(root, f, '', { emptyPath: true })), ino(statat(root, undefined, '/a/file')));
  t.is(statat(root, f, ''), -ENOENT);
});

test('ENAMETOOLONG: a component over 255 bytes, a name of 4096 bytes or more', t => {
  const { root } = tree();
  const n255 = 'n'.repeat(255);
  put(root, `/a/${n255}`, 'x');
  t.true(isReg(must(statat(root, undefined, `/a/${n255}`)).mode));
  t.is(statat(root, undefined, `/a/${'n'.repeat(256)}`), -ENAMETOOLONG);
  t.is(statat(root, undefined, `/a/${'n'.repeat(256)}/x`), -ENAMETOOLONG);
  t.is(openat(root, undefined, `/a/${'n'.repeat(256)}`, O_CREAT | O_WRONLY, 0o644), -ENAMETOOLONG);
  t.is(mkdirat(root, undefined, `/a/${'n'.repeat(256)}`, 0o755), -ENAMETOOLONG);
  // A missing directory before the long component: ENOENT comes first.
  t.is(statat(root, undefined, `/missing/${'n'.repeat(256)}`), -ENOENT);
  // 4095 bytes is a valid length; 4096 is not.
  const prefix = '/a/b/';
  const dots4095 = prefix + './'.repeat((4095 - prefix.length - 4) / 2) + 'file';
  t.is(dots4095.length, 4095);
  t.true(isReg(must(statat(root, undefined, dots4095)).mode));
  t.is(statat(root, undefined, '/' + dots4095), -ENAMETOOLONG);
  t.is(statat(root, undefined, '/'.repeat(4096)), -ENAMETOOLONG);
  t.is(symlinkat(root, 'x'.repeat(4096), undefined, '/a/toolong'), -ENAMETOOLONG);
});

test('symbolic links: followed in the middle and at the end unless told not to', t => {
  const { root } = tree();
  const file = ino(statat(root, undefined, '/a/b/file'));
  t.is(ino(statat(root, undefined, '/a/rel')), file);
  t.is(ino(statat(root, undefined, '/a/dirlink/file')), file);
  t.is(ino(statat(root, undefined, '/a/abs')), ino(statat(root, undefined, '/a/file')));
  // dirlink/.. is the parent of b (the link's target), which is /a.
  t.is(ino(statat(root, undefined, '/a/dirlink/../file')), ino(statat(root, undefined, '/a/file')));
  const l = must(statat(root, undefined, '/a/rel', { follow: false }));
  t.is(l.mode & S_IFMT, S_IFLNK);
  t.is(l.size, 'b/file'.length);
  // A trailing slash follows even for lstat, and needs a directory.
  t.true(isDir(must(statat(root, undefined, '/a/dirlink/', { follow: false })).mode));
  t.is(statat(root, undefined, '/a/rel/', { follow: false }), -ENOTDIR);
  t.is(statat(root, undefined, '/a/dangling'), -ENOENT);
  t.true(isLnk(must(statat(root, undefined, '/a/dangling', { follow: false })).mode));
  t.is(readlinkat(root, undefined, '/a/dangling'), 'nowhere');
  t.is(readlinkat(root, undefined, '/a/file'), -EINVAL);
  t.is(readlinkat(root, undefined, '/a/dirlink/'), -EINVAL);
});

test('ELOOP: loops, and more than 40 links in one walk', t => {
  const { root } = tree();
  t.is(statat(root, undefined, '/a/self'), -ELOOP);
  t.is(statat(root, undefined, '/a/ping'), -ELOOP);
  t.is(statat(root, undefined, '/a/ping/x'), -ELOOP);
  t.is(openat(root, undefined, '/a/self', O_RDONLY), -ELOOP);
  t.true(isLnk(must(statat(root, undefined, '/a/self', { follow: false })).mode));
  // c0 -> c1 -> ... -> c40 -> file: from c0 that is 41 links, from c1 exactly 40.
  must(mkdirat(root, undefined, '/chain', 0o755));
  for (let i = 0; i < 40; i++) must(symlinkat(root, `c${i + 1}`, undefined, `/chain/c${i}`));
  must(symlinkat(root, '/a/file', undefined, '/chain/c40'));
  t.is(statat(root, undefined, '/chain/c0'), -ELOOP);
  t.is(ino(statat(root, undefined, '/chain/c1')), ino(statat(root, undefined, '/a/file')));
  // Links in the middle and at the end add up: d1 is 40 links to /a, and /a/rel one more.
  must(symlinkat(root, '/a', undefined, '/chain/d40'));
  for (let i = 0; i < 40; i++) must(symlinkat(root, `d${i + 1}`, undefined, `/chain/d${i}`));
  t.is(ino(statat(root, undefined, '/chain/d1/file')), ino(statat(root, undefined, '/a/file')));
  t.is(statat(root, undefined, '/chain/d1/rel'), -ELOOP);
  t.is(ino(statat(root, undefined, '/chain/d2/rel')), ino(statat(root, undefined, '/a/b/file')));
});

test('open: O_NOFOLLOW gives ELOOP on a link, O_PATH|O_NOFOLLOW opens the link itself', t => {
  const { root } = tree();
  t.is(openat(root, undefined, '/a/rel', O_RDONLY | O_NOFOLLOW), -ELOOP);
  t.is(openat(root, undefined, '/a/rel', O_RDONLY | O_NOFOLLOW | O_CREAT, 0o644), -ELOOP);
  // O_NOFOLLOW only concerns the last component.
  t.is(cat(root, '/a/dirlink/file'), 'in b\n');
  t.truthy(must(openat(root, undefined, '/a/dirlink/file', O_RDONLY | O_NOFOLLOW)));
  const p = must(openat(root, undefined, '/a/rel', O_PATH | O_NOFOLLOW));
  t.true(isLnk(must(vfsFstat(p)).mode));
  t.is(readlinkat(root, p.path, ''), 'b/file');
});

test('open O_CREAT: EEXIST with O_EXCL (even on a dangling link), EISDIR, creation through a dangling link', t => {
  const { root } = tree();
  t.is(openat(root, undefined, '/a/file', O_CREAT | O_EXCL | O_WRONLY, 0o644), -EEXIST);
  t.is(openat(root, undefined, '/a/dangling', O_CREAT | O_EXCL | O_WRONLY, 0o644), -EEXIST);
  t.is(openat(root, undefined, '/a/b', O_CREAT | O_WRONLY, 0o644), -EISDIR);
  t.is(openat(root, undefined, '/a/b', O_CREAT | O_RDONLY, 0o644), -EISDIR);
  t.is(openat(root, undefined, '/a/new/', O_CREAT | O_WRONLY, 0o644), -EISDIR);
  t.is(openat(root, undefined, '/a/file/', O_CREAT | O_WRONLY, 0o644), -EISDIR);
  t.is(openat(root, undefined, '/', O_CREAT | O_RDONLY, 0o644), -EISDIR);
  t.is(openat(root, undefined, '/a/.', O_CREAT | O_RDONLY, 0o644), -EISDIR);
  t.is(openat(root, undefined, '/a/b', O_RDWR), -EISDIR);
  t.is(openat(root, undefined, '/a/x', O_CREAT | O_DIRECTORY | O_RDONLY, 0o755), -EINVAL);
  t.is(openat(root, undefined, '/a/missing/x', O_CREAT | O_WRONLY, 0o644), -ENOENT);
  // A dangling link: O_CREAT creates its target.
  must(openat(root, undefined, '/a/dangling', O_CREAT | O_WRONLY, 0o600));
  t.true(isReg(must(statat(root, undefined, '/a/nowhere')).mode));
});

test('mounts: crossing down into a mount and back up with ..', t => {
  const { vfs, root } = tree();
  vfs.mountTmpfs('/a/b/mnt');
  put(root, '/a/b/mnt/inner', 'inner\n');
  t.is(cat(root, '/a/b/mnt/inner'), 'inner\n');
  t.is(ino(statat(root, undefined, '/a/b/mnt/..')), ino(statat(root, undefined, '/a/b')));
  t.is(ino(statat(root, undefined, '/a/b/mnt/../file')), ino(statat(root, undefined, '/a/b/file')));
  t.is(ino(statat(root, undefined, '/a/b/mnt/../../file')), ino(statat(root, undefined, '/a/file')));
  const inMnt = at(root, '/a/b/mnt');
  t.is(getcwd(inMnt), '/a/b/mnt');
  t.is(cat(inMnt, '../file'), 'in b\n');
  // A stacked mount hides the first.
  vfs.mountTmpfs('/a/b/mnt');
  t.is(cat(root, '/a/b/mnt/inner'), -ENOENT);
  t.is(ino(statat(root, undefined, '/a/b/mnt/..')), ino(statat(root, undefined, '/a/b')));
  // The mount point cannot be removed or renamed; names cannot be linked or renamed across mounts.
  t.is(rmdirat(root, undefined, '/a/b/mnt'), -EBUSY);
  t.is(renameat(root, undefined, '/a/b/mnt', undefined, '/a/b/mnt2'), -EBUSY);
  t.is(linkat(root, undefined, '/a/file', undefined, '/a/b/mnt/file'), -EXDEV);
  t.is(renameat(root, undefined, '/a/file', undefined, '/a/b/mnt/file'), -EXDEV);
  // A mount's root as a name to remove is busy.
  t.is(rmdirat(inMnt, undefined, '.'), -EINVAL);
  t.is(rmdirat(root, undefined, '/'), -EBUSY);
  t.is(rmdirat(root, undefined, '/a/..'), -ENOTEMPTY);
});

test('names to create and remove: EEXIST, EISDIR, ENOTDIR, ENOENT with slashes', t => {
  const { root } = tree();
  t.is(mkdirat(root, undefined, '/a/b', 0o755), -EEXIST);
  t.is(mkdirat(root, undefined, '/a/file', 0o755), -EEXIST);
  t.is(mkdirat(root, undefined, '/a/dangling', 0o755), -EEXIST);
  t.is(mkdirat(root, undefined, '/', 0o755), -EEXIST);
  t.is(mkdirat(root, undefined, '/a/.', 0o755), -EEXIST);
  t.is(mkdirat(root, undefined, '/a/new/', 0o755), 0);
  t.is(symlinkat(root, 'x', undefined, '/a/newlink/'), -ENOENT);
  t.is(symlinkat(root, '', undefined, '/a/emptylink'), -ENOENT);
  t.is(unlinkat(root, undefined, '/a/b'), -EISDIR);
  t.is(unlinkat(root, undefined, '/a/.'), -EISDIR);
  t.is(unlinkat(root, undefined, '/a/file/'), -ENOTDIR);
  t.is(unlinkat(root, undefined, '/a/missing/'), -ENOENT);
  t.is(unlinkat(root, undefined, '/a/b/'), -EISDIR);
  t.is(rmdirat(root, undefined, '/a/file'), -ENOTDIR);
  t.is(rmdirat(root, undefined, '/a/dirlink'), -ENOTDIR);
  t.is(rmdirat(root, undefined, '/a/b'), -ENOTEMPTY);
  t.is(rmdirat(root, undefined, '/a/missing'), -ENOENT);
  t.is(rmdirat(root, undefined, '/a/new/'), 0);
  // Unlinking a link removes the link, not its target.
  t.is(unlinkat(root, undefined, '/a/dirlink'), 0);
  t.true(isDir(must(statat(root, undefined, '/a/b')).mode));
});

test('chdir and getcwd, including a removed cwd', t => {
  const { root } = tree();
  t.is(chdir(root, '/a/file'), -ENOTDIR);
  t.is(chdir(root, '/a/missing'), -ENOENT);
  const cwd = must(chdir(root, '/a/dirlink'));
  const ctx = { ...root, cwd };
  t.is(getcwd(ctx), '/a/b');
  must(mkdirat(root, undefined, '/gone', 0o755));
  const gone = { ...root, cwd: must(chdir(root, '/gone')) };
  t.is(getcwd(gone), '/gone');
  t.is(rmdirat(root, undefined, '/gone'), 0);
  t.is(getcwd(gone), -ENOENT);
  t.is(openat(gone, undefined, 'x', O_CREAT | O_WRONLY, 0o644), -ENOENT);
  t.is(statat(gone, undefined, 'x'), -ENOENT);
  t.is(must(statat(gone, undefined, '.')).nlink, 0);
});

test('lookupPath returns the same dentry for the same name', t => {
  const { root } = tree();
  const a = pathOf(root, '/a/b/file');
  const b = must(lookupPath(root, undefined, '/a/dirlink/file'));
  t.is(a.dentry, b.dentry);
  t.is(a.mnt, b.mnt);
});
