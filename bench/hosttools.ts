// What the benchmarks and the tests both take from the host, in the one place both may import (bench/ imports no
// test helper; tests may import anything): a free TCP port on the loopback interface, and GNU as + ld to make a
// static i386 Linux executable from Intel-syntax source (the same binutils the host's Linux programs are built with).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A TCP port on 127.0.0.1 that was free a moment ago (the host picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Assembles and links GNU Intel-syntax source into a static i386 executable (as --32; ld -m elf_i386). */
export function gnuLink(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'ktal-diff-'));
  try {
    writeFileSync(join(dir, 'a.s'), source);
    const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
    const opts = { cwd: dir, encoding: 'utf8' as const, stdio, maxBuffer: 1 << 28 };
    try {
      execFileSync('as', ['--32', '-o', 'a.o', 'a.s'], opts);
      const ld = ['-m', 'elf_i386', '-static', '-e', '_start', '-z', 'noexecstack', '-o', 'a.out', 'a.o'];
      execFileSync('ld', ld, opts);
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`GNU as/ld failed: ${(err.stderr || err.message).slice(0, 4000)}`);
    }
    return new Uint8Array(readFileSync(join(dir, 'a.out')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
