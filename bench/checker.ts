// The checker's throughput: checkElf over a generated program (bench/gen.ts), timed by benny, in MB/s of code and
// of the whole file, beside `objdump -d` over the same file in the same run (a disassembler that proves nothing).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import b from 'benny';
import { distIsFresh } from '../bin/launch.js';
import { assemble } from '../tal/asm/assembler.ts';
import { checkElf } from '../tal/check/checker.ts';
import { generateProgram } from './gen.ts';

export interface CheckerFigures {
  /** The first check's time in the process (the engine still compiling the checker), seconds. */
  coldSeconds?: number;
  /** Which build of the checker was timed: dist/ (as talcheck and talrun run it), or the sources through tsx. */
  build?: 'dist' | 'tsx';
  codeBytes: number;
  checkerMBps: number;
  talasSeconds: number;
  /** The whole file: its size, the checker's MB/s over it, and objdump -d's time on it (0: no objdump). */
  fileBytes?: number;
  checkerFileMBps?: number;
  objdumpSeconds?: number;
}

/** objdump -d over the file, best of three runs (seconds), or 0 if objdump is not installed. */
function objdumpSeconds(elf: Uint8Array): number {
  const dir = mkdtempSync(join(tmpdir(), 'ktal-bench-'));
  try {
    const file = join(dir, 'generated');
    writeFileSync(file, elf);
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      execFileSync('objdump', ['-d', file], { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 << 30 });
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    return best;
  } catch {
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The checker as the commands run it: dist/'s build when it is fresh (npm ci makes it; bin/launch.js runs it then),
 * else the sources through tsx, whose transpiled code (esbuild's, with a name-keeping wrapper on every function
 * made) runs the same checker about twice as slowly.
 */
async function shippedChecker(): Promise<{ check: typeof checkElf; build: 'dist' | 'tsx' }> {
  if (!distIsFresh()) return { check: checkElf, build: 'tsx' };
  const url = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'tal', 'check', 'checker.js')).href;
  const m = (await import(url)) as { checkElf: typeof checkElf };
  return { check: m.checkElf, build: 'dist' };
}

/** Checks run before the timed ones: the engine's tiers settle within about twenty (measured: 150 ms → 92 ms). */
const WARM_UP = 25;

export async function checkerSuite(quick: boolean, saveDir?: string): Promise<CheckerFigures> {
  const functions = quick ? 500 : 20_000;
  const t0 = performance.now();
  const { elf } = assemble(generateProgram(functions), 'generated.tal');
  const asmMs = performance.now() - t0;
  const { check, build } = await shippedChecker();
  // The first check in a process runs while the engine is still compiling the checker (what one talcheck of a cold
  // file sees); the figure is the checker's steady state, after WARM_UP checks, with the first one's time beside it.
  const tCold = performance.now();
  const first = check(elf);
  const coldSeconds = (performance.now() - tCold) / 1000;
  if (!first.ok) throw new Error(`the generated program is refused: ${first.error.message}`);
  for (let i = 0; i < (quick ? 2 : WARM_UP); i++) check(elf);
  const codeBytes = first.summary.codeBytes;
  let opsPerSec = 0;
  await b.suite(
    `checker: ${(codeBytes / 1e6).toFixed(2)} MB of code, ${first.summary.instructions} instructions, ${first.summary.blocks} blocks`,
    b.add(`checkElf (${build})`, () => {
      const r = check(elf);
      if (!r.ok) throw new Error('refused');
    }),
    b.cycle(),
    b.complete(s => {
      // From the mean time of a check, not benny's `ops`: benny rounds that to the fewest digits that tell its cases
      // apart, whole operations a second for a suite of one, so at 7 to 10 checks a second the figure moved in steps
      // of a tenth or more (7 ops/s was 7.1 MB/s whether a check took 126 ms or 142 ms).
      opsPerSec = 1 / s.results[0].details.mean;
    }),
    ...(quick || !saveDir ? [] : [b.save({ file: 'checker', folder: saveDir, format: 'json' })]),
  );
  const mbPerSec = (codeBytes * opsPerSec) / 1e6;
  const fileMBps = (elf.length * opsPerSec) / 1e6;
  const objdump = objdumpSeconds(elf);
  const vs = objdump > 0 ? `; objdump -d ${objdump.toFixed(2)} s, checker ${(1 / opsPerSec).toFixed(2)} s: ${(objdump * opsPerSec).toFixed(1)}× faster` : '';
  console.log(`checker throughput (${build}, after ${WARM_UP} checks; the first took ${(coldSeconds * 1000).toFixed(0)} ms): ${mbPerSec.toFixed(1)} MB/s of code, ${fileMBps.toFixed(1)} MB/s of the file (${codeBytes} of ${elf.length} bytes${vs}; talas took ${(asmMs / 1000).toFixed(1)} s to assemble it)`);
  return { build, coldSeconds, codeBytes, checkerMBps: mbPerSec, talasSeconds: asmMs / 1000, fileBytes: elf.length, checkerFileMBps: fileMBps, objdumpSeconds: objdump };
}
