// The host measurement behind docs/machine.md ("Host measurement"): what a system call costs on this machine.
// Run by hand: npx tsx bench/host/measure.ts [--runs R]   (default 5 runs; about 15 s each)
// Builds bench/host/int80.s with GNU as --32 and ld -m elf_i386, runs it R times, and prints the median per-call
// cost of each loop minus the empty loop's, in TSC ticks and nanoseconds, with the CPU model, the kernel and its
// Meltdown/PTI state.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeHost, median, readText, runsOption } from './hostinfo.ts';

const N = 1_000_000; // the program's iteration count (the first word of its .data)
const LOOPS = ['empty', 'getpid (int 0x80)', 'getppid (int 0x80)', 'no such call (int 0x80)', 'call + ret',
  'getpid (__kernel_vsyscall)'];

const runs = runsOption(5);

const dir = mkdtempSync(join(tmpdir(), 'ktal-int80-'));
try {
  const src = join(import.meta.dirname, 'int80.s');
  execFileSync('as', ['--32', src, '-o', join(dir, 'int80.o')]);
  execFileSync('ld', ['-m', 'elf_i386', join(dir, 'int80.o'), '-o', join(dir, 'int80')]);

  // per loop, per run: [ticks per iteration, ns per iteration]
  const samples: [number, number][][] = LOOPS.map(() => []);
  for (let r = 0; r < runs; r++) {
    const out = execFileSync(join(dir, 'int80'), { maxBuffer: 1 << 16 });
    if (out.length !== 24 * LOOPS.length) throw new Error(`expected ${24 * LOOPS.length} bytes, got ${out.length}`);
    for (let i = 0; i < LOOPS.length; i++) {
      const w = (k: number) => BigInt(out.readUInt32LE(24 * i + 4 * k));
      const t0 = w(0) | (w(1) << 32n);
      const t1 = w(2) | (w(3) << 32n);
      const ns = w(4) | (w(5) << 32n);
      samples[i].push([Number(t1 - t0) / N, Number(ns) / N]);
    }
    process.stderr.write(`run ${r + 1}/${runs} done\n`);
  }

  const ticks = samples.map(s => median(s.map(x => x[0])));
  const ns = samples.map(s => median(s.map(x => x[1])));
  const tscGHz = median(samples.flatMap(s => s.filter(x => x[1] > 0.5).map(x => x[0] / x[1])));

  for (const line of describeHost()) console.log(line);
  console.log(`meltdown:  ${readText('/sys/devices/system/cpu/vulnerabilities/meltdown')}`);
  console.log(`TSC rate:  ${tscGHz.toFixed(3)} GHz (ticks per ns, median over loops and runs)`);
  console.log(`${runs} runs of ${N} iterations per loop; medians; "net" is the loop minus the empty loop\n`);
  console.log('loop                         ticks/iter   ns/iter   net ticks   net ns');
  for (let i = 0; i < LOOPS.length; i++) {
    const netT = i === 0 ? ticks[0] : ticks[i] - ticks[0];
    const netN = i === 0 ? ns[0] : ns[i] - ns[0];
    const missing = ns[i] === 0;
    console.log(
      `${LOOPS[i].padEnd(28)} ${missing ? '(no AT_SYSINFO)'.padStart(10) : ticks[i].toFixed(2).padStart(10)} ${
        missing ? '' : ns[i].toFixed(2).padStart(9)
      } ${missing || i === 0 ? '' : netT.toFixed(2).padStart(11)} ${missing || i === 0 ? '' : netN.toFixed(2).padStart(8)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
