// Permission checks (kernel/fs/permission.ts and their use in namei.ts) as uid 1000 against root, on tmpfs. The
// same questions on a host mount are in kernel/fs-hostfs.test.ts and, against the host's Linux, in
// kernel/fs-oracle.test.ts.
import test from 'ava';
import { EACCES, EEXIST, ENOENT, EPERM, EROFS } from '../../kernel/errno.ts';
import { O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, R_OK, W_OK, X_OK } from '../../kernel/fs/fcntl.ts';
import {
  chmodat, chownat, faccessat, linkat, lookupPath, mkdirat, openExec, openat, renameat, rmdirat, statat, symlinkat,
  truncateat, unlinkat,
} from '../../kernel/fs/namei.ts';
import { ROOT, userCred, genericPermission, MAY_EXEC, MAY_READ, MAY_WRITE } from '../../kernel/fs/permission.ts';
import { readdirAll } from '../../kernel/fs/readdir.ts';
import { S_ISGID, S_ISUID } from '../../kernel/fs/stat.ts';
import { cat, fresh, ls, must, pathOf, put } from '../util/kfs.ts';

function setup() {
  const env = fresh();
  const { root } = env;
  const r0 = { ...root, umask: 0 };
  must(mkdirat(r0, undefined, '/srv', 0o755));
  put(r0, '/srv/secret', 'root only\n', 0o600);
  put(r0, '/srv/public', 'anyone\n', 0o644);
  must(mkdirat(r0, undefined, '/srv/noexec', 0o744)); // r but no x for others
  put(r0, '/srv/noexec/inside', 'x\n', 0o644);
  must(mkdirat(r0, undefined, '/srv/noread', 0o711)); // x but no r for others
  put(r0, '/srv/noread/known', 'found by name\n', 0o644);
  must(mkdirat(r0, undefined, '/srv/closed', 0o700));
  put(r0, '/srv/closed/inside', 'x\n', 0o644);
  must(mkdirat(r0, undefined, '/srv/ro', 0o755)); // others cannot write
  put(r0, '/srv/ro/file', 'x\n', 0o666);
  return env;
}

test('a 0600 root file: EACCES for uid 1000 on open for reading or writing, root reads it', t => {
  const { root, user } = setup();
  t.is(cat(root, '/srv/secret'), 'root only\n');
  t.is(cat(user, '/srv/secret'), -EACCES);
  t.is(openat(user, undefined, '/srv/secret', O_WRONLY), -EACCES);
  t.is(openat(user, undefined, '/srv/secret', O_RDONLY | O_TRUNC), -EACCES);
  // stat needs no permission on the file itself.
  t.is(must(statat(user, undefined, '/srv/secret')).mode & 0o777, 0o600);
  t.is(cat(user, '/srv/public'), 'anyone\n');
  t.is(openat(user, undefined, '/srv/public', O_WRONLY), -EACCES);
  t.is(openat(user, undefined, '/srv/public', O_RDWR), -EACCES);
});

test('a directory without x: EACCES on any lookup inside, even stat; listing it works with r', t => {
  const { user } = setup();
  t.is(statat(user, undefined, '/srv/noexec/inside'), -EACCES);
  t.is(cat(user, '/srv/noexec/inside'), -EACCES);
  t.is(statat(user, undefined, '/srv/noexec/missing'), -EACCES);
  t.is(statat(user, undefined, '/srv/noexec/.'), -EACCES);
  t.deepEqual(ls(user, '/srv/noexec'), ['.', '..', 'inside']);
  t.is(statat(user, undefined, '/srv/closed/inside'), -EACCES);
  t.is(ls(user, '/srv/closed'), -EACCES);
  // chdir needs x; a cwd in such a directory cannot be used for relative names.
  const cwd = must(lookupPath(ROOT_CTX(user), undefined, '/srv/noexec'));
  t.is(statat({ ...user, cwd }, undefined, 'inside'), -EACCES);
  t.is(statat({ ...user, cwd }, undefined, '.'), -EACCES);
});

function ROOT_CTX(user: ReturnType<typeof fresh>['user']) {
  return { ...user, cred: ROOT };
}

test('a directory with x but not r: lookup by name works, listing it is EACCES', t => {
  const { user } = setup();
  t.is(cat(user, '/srv/noread/known'), 'found by name\n');
  t.is(ls(user, '/srv/noread'), -EACCES);
  t.is(openat(user, undefined, '/srv/noread', O_RDONLY | O_DIRECTORY), -EACCES);
  t.is(openat(user, undefined, '/srv/noread', O_RDONLY), -EACCES);
  t.is(statat(user, undefined, '/srv/noread/unknown'), -ENOENT);
});

test('root: reads, writes and searches past every mode bit', t => {
  const { root } = setup();
  const r0 = { ...root, umask: 0 };
  put(r0, '/srv/none', 'mode 000\n', 0o000);
  t.is(cat(root, '/srv/none'), 'mode 000\n');
  must(openat(root, undefined, '/srv/none', O_RDWR));
  must(mkdirat(r0, undefined, '/srv/dir000', 0o000));
  put(root, '/srv/dir000/f', 'ok\n');
  t.is(cat(root, '/srv/dir000/f'), 'ok\n');
  t.deepEqual(ls(root, '/srv/dir000'), ['.', '..', 'f']);
});

test('exec: needs an x bit even for root; a regular file only', t => {
  const { root, user } = setup();
  const r0 = { ...root, umask: 0 };
  put(r0, '/srv/prog644', 'data', 0o644);
  put(r0, '/srv/prog744', 'data', 0o744);
  put(r0, '/srv/prog001', 'data', 0o001);
  t.is(openExec(root, undefined, '/srv/prog644'), -EACCES);
  t.truthy(must(openExec(root, undefined, '/srv/prog744')));
  t.truthy(must(openExec(root, undefined, '/srv/prog001')));
  t.is(openExec(user, undefined, '/srv/prog744'), -EACCES);
  // Others' x bit is enough for uid 1000, without read permission.
  t.truthy(must(openExec(user, undefined, '/srv/prog001')));
  t.is(openExec(root, undefined, '/srv'), -EACCES);
  t.is(faccessat(root, undefined, '/srv/prog644', X_OK), -EACCES);
  t.is(faccessat(root, undefined, '/srv/prog744', X_OK), 0);
  t.is(faccessat(root, undefined, '/srv/noexec', X_OK), 0);
});

test('creating and removing in a directory needs w and x on it', t => {
  const { user, root } = setup();
  t.is(openat(user, undefined, '/srv/ro/new', O_CREAT | O_WRONLY, 0o644), -EACCES);
  t.is(mkdirat(user, undefined, '/srv/ro/newdir', 0o755), -EACCES);
  t.is(symlinkat(user, 'x', undefined, '/srv/ro/newlink'), -EACCES);
  t.is(unlinkat(user, undefined, '/srv/ro/file'), -EACCES);
  t.is(renameat(user, undefined, '/srv/ro/file', undefined, '/srv/ro/file2'), -EACCES);
  t.is(linkat(user, undefined, '/srv/ro/file', undefined, '/srv/ro/file2'), -EACCES);
  // The file itself is writable (0666): writing it is fine, only the directory is closed.
  const f = must(openat(user, undefined, '/srv/ro/file', O_WRONLY | O_TRUNC));
  t.truthy(f);
  t.is(cat(root, '/srv/ro/file'), '');
  // Root may.
  must(openat(root, undefined, '/srv/ro/new', O_CREAT | O_WRONLY, 0o644));
  t.is(unlinkat(root, undefined, '/srv/ro/new'), 0);
});

test('the sticky /tmp: only the owner (or the directory owner, or root) removes or renames', t => {
  const { root, user } = setup();
  const other = { ...user, cred: userCred(1001) };
  put(user, '/tmp/mine', 'x');
  t.is(unlinkat(other, undefined, '/tmp/mine'), -EPERM);
  t.is(renameat(other, undefined, '/tmp/mine', undefined, '/tmp/theirs'), -EPERM);
  put(other, '/tmp/theirs', 'y');
  t.is(renameat(user, undefined, '/tmp/mine', undefined, '/tmp/theirs'), -EPERM);
  t.is(unlinkat(user, undefined, '/tmp/mine'), 0);
  t.is(unlinkat(root, undefined, '/tmp/theirs'), 0);
});

test('new files: owner is the creator, mode & ~umask; setgid directories pass their group on', t => {
  const { root, user } = setup();
  put({ ...user, umask: 0o027 }, '/tmp/u', 'x', 0o777);
  const st = must(statat(root, undefined, '/tmp/u'));
  t.is(st.uid, 1000);
  t.is(st.gid, 1000);
  t.is(st.mode & 0o7777, 0o750);
  // mkdir ignores the setgid bit (mode & (0777 | sticky)); chmod sets it.
  must(mkdirat({ ...root, umask: 0 }, undefined, '/tmp/g', 0o2777));
  t.is(must(statat(root, undefined, '/tmp/g')).mode & 0o7777, 0o777);
  must(chownat(root, undefined, '/tmp/g', 0, 50));
  must(chmodat(root, undefined, '/tmp/g', 0o2777));
  t.is(must(statat(root, undefined, '/tmp/g')).mode & 0o7777, 0o2777);
  put(user, '/tmp/g/f', 'x');
  t.is(must(statat(root, undefined, '/tmp/g/f')).gid, 50);
  must(mkdirat(user, undefined, '/tmp/g/d', 0o755));
  const d = must(statat(root, undefined, '/tmp/g/d'));
  t.is(d.gid, 50);
  t.is(d.mode & S_ISGID, S_ISGID);
});

test('owner, group and other classes: only the first that applies counts; supplementary groups count', t => {
  const { root } = setup();
  const r0 = { ...root, umask: 0 };
  put(r0, '/srv/g', 'group\n', 0o070);
  must(chownat(root, undefined, '/srv/g', 1000, 77));
  const owner = { ...root, cred: userCred(1000, 1000) };
  const member = { ...root, cred: userCred(1001, 1001, [1001, 77]) };
  const outsider = { ...root, cred: userCred(1002) };
  t.is(cat(owner, '/srv/g'), -EACCES); // the owner bits (---) apply, not the group's
  t.is(cat(member, '/srv/g'), 'group\n');
  t.is(cat(outsider, '/srv/g'), -EACCES);
  const inode = pathOf(root, '/srv/g').dentry.inode;
  t.is(genericPermission(member.cred, inode, MAY_READ | MAY_WRITE | MAY_EXEC), 0);
  t.is(genericPermission(outsider.cred, inode, MAY_EXEC), -EACCES);
  t.is(genericPermission(ROOT, inode, MAY_EXEC), 0); // some x bit (group's) is set
});

test('access() checks the real ids; AT_EACCESS the effective ones', t => {
  const { root } = setup();
  const setuidRoot = { ...root, cred: { uid: 1000, gid: 1000, euid: 0, egid: 0, groups: [1000] } };
  t.is(faccessat(setuidRoot, undefined, '/srv/secret', R_OK), -EACCES);
  t.is(faccessat(setuidRoot, undefined, '/srv/secret', R_OK, 0x200), 0);
  t.is(cat(setuidRoot, '/srv/secret'), 'root only\n');
  t.is(faccessat(setuidRoot, undefined, '/srv/public', R_OK), 0);
  t.is(faccessat(setuidRoot, undefined, '/srv/public', W_OK), -EACCES);
  t.is(faccessat(setuidRoot, undefined, '/srv/closed/inside', 0), -EACCES);
});

test('chmod and chown: owner or root; EPERM otherwise; chown clears setuid', t => {
  const { root, user } = setup();
  put(user, '/tmp/f', 'x', 0o644);
  t.is(chmodat(user, undefined, '/tmp/f', 0o600), 0);
  t.is(must(statat(root, undefined, '/tmp/f')).mode & 0o7777, 0o600);
  t.is(chmodat(user, undefined, '/srv/public', 0o666), -EPERM);
  t.is(chownat(user, undefined, '/tmp/f', 0, -1), -EPERM);
  t.is(chownat(user, undefined, '/tmp/f', -1, 5), -EPERM);
  t.is(chownat(user, undefined, '/tmp/f', 1000, 1000), 0);
  // A non-member cannot set setgid (silently dropped).
  t.is(chmodat(user, undefined, '/tmp/f', 0o2755), 0);
  must(chownat(root, undefined, '/tmp/f', -1, 5));
  t.is(chmodat(user, undefined, '/tmp/f', 0o2755), 0);
  t.is(must(statat(root, undefined, '/tmp/f')).mode & 0o7777, 0o755);
  must(chmodat(root, undefined, '/tmp/f', 0o4755));
  must(chownat(root, undefined, '/tmp/f', 1001, -1));
  t.is(must(statat(root, undefined, '/tmp/f')).mode & S_ISUID, 0);
});

test('truncate by name needs write permission; hard links to others\' files need read and write (protected_hardlinks)',
  t => {
  const { root, user } = setup();
  t.is(truncateat(user, undefined, '/srv/public', 0), -EACCES);
  t.is(truncateat(root, undefined, '/srv/public', 3), 0);
  t.is(cat(root, '/srv/public'), 'any');
  t.is(linkat(user, undefined, '/srv/public', undefined, '/tmp/hard'), -EPERM);
  put({ ...root, umask: 0 }, '/srv/shared', 'x', 0o666);
  t.is(linkat(user, undefined, '/srv/shared', undefined, '/tmp/hard'), 0);
});

test('an open directory description keeps listing after chmod 000; a new open is EACCES', t => {
  const { root, user } = setup();
  must(mkdirat(user, undefined, '/tmp/d', 0o755));
  const f = must(openat(user, undefined, '/tmp/d', O_RDONLY | O_DIRECTORY));
  must(chmodat(root, undefined, '/tmp/d', 0o000));
  t.deepEqual(must(readdirAll(f)).map(e => e.name), ['.', '..']);
  t.is(ls(user, '/tmp/d'), -EACCES);
  t.is(rmdirat(user, undefined, '/tmp/d'), 0);
});

test('read-only mounts: EROFS for writes, creations and removals, before EACCES', t => {
  const { vfs, root, user } = setup();
  vfs.mountTmpfs('/rofs', { readonly: true });
  t.is(openat(root, undefined, '/rofs/x', O_CREAT | O_WRONLY, 0o644), -EROFS);
  t.is(mkdirat(root, undefined, '/rofs/d', 0o755), -EROFS);
  t.is(mkdirat(root, undefined, '/rofs', 0o755), -EEXIST); // EEXIST wins over EROFS
  t.is(unlinkat(root, undefined, '/rofs/missing'), -EROFS);
  t.truthy(must(openat(root, undefined, '/rofs', O_RDONLY | O_DIRECTORY)));
  t.is(faccessat(user, undefined, '/rofs', W_OK), -EROFS);
});
