// The i386 layouts of struct stat64 and struct linux_dirent64 (kernel/fs/stat.ts): the encoders field by field,
// and the offsets table read against what the host's Linux writes for a real i386 program (test/util/fsoracle.ts).
import test from 'ava';
import { lstatSync, mkdtempSync, rmSync, writeFileSync, chmodSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { statat } from '../../kernel/fs/namei.ts';
import {
  DIRENT64, STAT64, STAT64_SIZE, dirent64Size, encodeDirent64, encodeStat64, major, makedev, minor, newEncodeDev,
  type KStat,
} from '../../kernel/fs/stat.ts';
import { Vfs } from '../../kernel/fs/vfs.ts';
import { runOracle } from '../util/fsoracle.ts';
import { must } from '../util/kfs.ts';

const native = process.platform === 'linux';

const sample: KStat = {
  dev: makedev(0x123, 0x45678), ino: 0x1_2345_6789, mode: 0o100644, nlink: 3, uid: 1000, gid: 0xfffe,
  rdev: makedev(1, 3), size: 0x1_0000_0005, blksize: 4096, blocks: 0x2_0000_0008,
  atime: { sec: 0x6000_0001, nsec: 111 }, mtime: { sec: 0x6000_0002, nsec: 222 }, ctime: { sec: 0x6000_0003,
    nsec: 333 },
};

test('struct stat64: 96 bytes, each field at its arch/x86/include/uapi/asm/stat.h offset, padding zero', t => {
  const b = new Uint8Array(100).fill(0xee);
  t.is(encodeStat64(sample, b, 2), STAT64_SIZE);
  t.is(b[0], 0xee);
  t.is(b[98], 0xee);
  const v = new DataView(b.buffer, 2);
  const u32 = (o: number) => v.getUint32(o, true);
  const u64 = (o: number) => Number(v.getBigUint64(o, true));
  t.is(u64(STAT64.st_dev), newEncodeDev(sample.dev));
  t.is(u32(STAT64.__pad0), 0);
  t.is(u32(STAT64.__st_ino), 0x2345_6789);
  t.is(u32(STAT64.st_mode), 0o100644);
  t.is(u32(STAT64.st_nlink), 3);
  t.is(u32(STAT64.st_uid), 1000);
  t.is(u32(STAT64.st_gid), 0xfffe);
  t.is(u64(STAT64.st_rdev), 0x103);
  t.is(u32(STAT64.__pad3), 0);
  t.is(u64(STAT64.st_size), 0x1_0000_0005);
  t.is(u32(STAT64.st_blksize), 4096);
  t.is(u64(STAT64.st_blocks), 0x2_0000_0008);
  t.is(u32(STAT64.st_atime), 0x6000_0001);
  t.is(u32(STAT64.st_atime_nsec), 111);
  t.is(u32(STAT64.st_mtime), 0x6000_0002);
  t.is(u32(STAT64.st_mtime_nsec), 222);
  t.is(u32(STAT64.st_ctime), 0x6000_0003);
  t.is(u32(STAT64.st_ctime_nsec), 333);
  t.is(u64(STAT64.st_ino), 0x1_2345_6789);
  // The fields tile the structure exactly.
  const widths: Record<string, number> = { st_dev: 8, __pad0: 4, st_rdev: 8, __pad3: 4, st_size: 8, st_blocks: 8,
    st_ino: 8 };
  let end = 0;
  for (const [name, off] of Object.entries(STAT64)) {
    t.is(off as number, end, name);
    end = off + (widths[name] ?? 4);
  }
  t.is(end, 96);
});

test('device numbers: glibc makedev form in, the kernel\'s new_encode_dev form in stat64', t => {
  t.is(makedev(8, 1), 0x801);
  t.is(major(makedev(259, 0x12345)), 259);
  t.is(minor(makedev(259, 0x12345)), 0x12345);
  t.is(major(makedev(0x12345, 7)), 0x12345);
  t.is(newEncodeDev(makedev(259, 0x12345)), (0x45 | (259 << 8) | (0x123 << 20)) >>> 0);
  t.is(newEncodeDev(makedev(0, 0x20)), 0x20);
});

test('struct linux_dirent64: d_ino 0, d_off 8, d_reclen 16, d_type 18, d_name 19, NUL, 8-byte records', t => {
  t.deepEqual(DIRENT64, { d_ino: 0, d_off: 8, d_reclen: 16, d_type: 18, d_name: 19 });
  t.is(dirent64Size(1), 24); // 19 + 1 + NUL = 21 -> 24
  t.is(dirent64Size(4), 24);
  t.is(dirent64Size(5), 32);
  t.is(dirent64Size(255), 280);
  const b = new Uint8Array(40).fill(0xee);
  t.is(encodeDirent64(b, 8, 0x1_0000_0002, 7, 4, 'name\xff', 40), 32);
  const v = new DataView(b.buffer);
  t.is(b[7], 0xee);
  t.is(Number(v.getBigUint64(8, true)), 0x1_0000_0002);
  t.is(Number(v.getBigInt64(16, true)), 7);
  t.is(v.getUint16(24, true), 32);
  t.is(b[26], 4);
  t.deepEqual([...b.subarray(27, 40)], [0x6e, 0x61, 0x6d, 0x65, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
  t.is(encodeDirent64(b, 16, 1, 1, 4, 'name\xff', 40), 0); // does not fit
});

if (native) {
  test('the offsets table read against a real i386 stat64/lstat64 on the host, field by field', t => {
    const dir = mkdtempSync(join(tmpdir(), 'ktal-stat-'));
    try {
      writeFileSync(join(dir, 'f'), 'x'.repeat(5000));
      chmodSync(join(dir, 'f'), 0o4751);
      symlinkSync('f', join(dir, 'l'));
      for (const [op, name] of [['s', 'f'], ['l', 'l'], ['s', '.'], ['s', '/dev/null']] as const) {
        const r = runOracle([op, name], { cwd: dir });
        t.is(r.errno, 0);
        t.is(r.out.length, 96);
        const st = lstatSync(name.startsWith('/') ? name : join(dir, name), { bigint: true });
        const u32 = (o: number) => BigInt(r.out.readUInt32LE(o));
        const u64 = (o: number) => r.out.readBigUInt64LE(o);
        const enc = (d: bigint) => BigInt(newEncodeDev(Number(d)));
        t.is(u64(STAT64.st_dev), enc(st.dev), `${name} st_dev`);
        t.is(u32(STAT64.__st_ino), st.ino & 0xffffffffn, `${name} __st_ino`);
        t.is(u32(STAT64.st_mode), st.mode, `${name} st_mode`);
        t.is(u32(STAT64.st_nlink), st.nlink, `${name} st_nlink`);
        t.is(u32(STAT64.st_uid), st.uid, `${name} st_uid`);
        t.is(u32(STAT64.st_gid), st.gid, `${name} st_gid`);
        t.is(u64(STAT64.st_rdev), enc(st.rdev), `${name} st_rdev`);
        t.is(u64(STAT64.st_size), st.size, `${name} st_size`);
        t.is(u32(STAT64.st_blksize), st.blksize, `${name} st_blksize`);
        t.is(u64(STAT64.st_blocks), st.blocks, `${name} st_blocks`);
        t.is(u32(STAT64.st_atime), st.atimeNs / 1_000_000_000n, `${name} st_atime`);
        t.is(u32(STAT64.st_atime_nsec), st.atimeNs % 1_000_000_000n, `${name} st_atime_nsec`);
        t.is(u32(STAT64.st_mtime), st.mtimeNs / 1_000_000_000n, `${name} st_mtime`);
        t.is(u32(STAT64.st_mtime_nsec), st.mtimeNs % 1_000_000_000n, `${name} st_mtime_nsec`);
        t.is(u32(STAT64.st_ctime), st.ctimeNs / 1_000_000_000n, `${name} st_ctime`);
        t.is(u32(STAT64.st_ctime_nsec), st.ctimeNs % 1_000_000_000n, `${name} st_ctime_nsec`);
        t.is(u64(STAT64.st_ino), st.ino, `${name} st_ino`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a host device node through a hostfs mount of /dev: the same stat64 bytes as natively (st_rdev 1:3)', t => {
    const vfs = new Vfs();
    vfs.mountHost('/dev', '/hostdev');
    const st = must(statat(vfs.context(), undefined, '/hostdev/null'));
    t.is(st.rdev, makedev(1, 3));
    const ours = Buffer.alloc(96);
    encodeStat64(st, ours);
    const r = runOracle(['s', '/dev/null'], { cwd: '/' });
    t.is(r.errno, 0);
    t.true(ours.equals(r.out), `${ours.toString('hex')} vs ${r.out.toString('hex')}`);
  });
}
