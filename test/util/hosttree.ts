// A real host directory tree for the hostfs tests: files of several modes and sizes, directories with and without
// r and x for others, symbolic links (relative, absolute, dangling, loops, a chain of 41), a FIFO, a long name, a
// name that is not UTF-8, and a directory of many entries.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HostTree {
  dir: string;
  big: Buffer;
  /** The non-UTF-8 name, as bytes. */
  oddName: Buffer;
  done(): void;
}

export function makeHostTree(): HostTree {
  const dir = mkdtempSync(join(tmpdir(), 'ktal-hostfs-'));
  chmodSync(dir, 0o755);
  const file = (name: string, content: string | Buffer, mode = 0o644) => {
    writeFileSync(join(dir, name), content);
    chmodSync(join(dir, name), mode);
  };
  const mkdir = (name: string, mode = 0o755) => {
    mkdirSync(join(dir, name));
    chmodSync(join(dir, name), mode);
  };
  file('f644', 'hello\n');
  file('f600', 'secret\n', 0o600);
  file('f755', '#!/bin/sh\necho hi\n', 0o755);
  file('empty', '');
  // A big file of pseudo-random bytes (a fixed LCG, so that failures repeat).
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  let x = 12345;
  for (let i = 0; i < big.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    big[i] = x >>> 24;
  }
  file('big', big);
  mkdir('dir755');
  for (const n of ['a', 'b', 'c']) file(`dir755/${n}`, `${n}\n`);
  mkdir('dir755/sub');
  file('dir755/sub/deep', 'deep\n');
  mkdir('dir700', 0o700);
  file('dir700/inside', 'x\n');
  mkdir('dir711', 0o711);
  file('dir711/known', 'known\n');
  mkdir('dir744', 0o744);
  file('dir744/inside', 'x\n');
  symlinkSync('f644', join(dir, 'link'));
  symlinkSync('dir755', join(dir, 'dirlink'));
  symlinkSync('nowhere', join(dir, 'dangling'));
  symlinkSync('self', join(dir, 'self'));
  symlinkSync('loop2', join(dir, 'loop1'));
  symlinkSync('loop1', join(dir, 'loop2'));
  symlinkSync('/f644', join(dir, 'abs'));
  symlinkSync('../../../../../../../../..', join(dir, 'up'));
  mkdir('chain');
  for (let i = 0; i < 40; i++) symlinkSync(`c${i + 1}`, join(dir, `chain/c${i}`));
  symlinkSync('../f644', join(dir, 'chain/c40'));
  file('n'.repeat(255), 'long name\n');
  const oddName = Buffer.from([0x6f, 0x64, 0x64, 0xff, 0xfe, 0x80]);
  writeFileSync(Buffer.concat([Buffer.from(dir + '/'), oddName]), 'odd\n');
  mkdir('many');
  for (let i = 0; i < 300; i++) file(`many/entry-${i.toString(36)}-${(i * 7919) % 1000}`, String(i));
  const r = spawnSync('mkfifo', [join(dir, 'fifo')]);
  if (r.status !== 0) throw new Error('mkfifo failed');
  return { dir, big, oddName, done: () => rmSync(dir, { recursive: true, force: true }) };
}
