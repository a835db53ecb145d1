// The checker's throughput: checkElf over a generated program (bench/gen.ts), timed by benny, in MB/s of code and
// of the whole file, beside `objdump -d` over the same file in the same run (a disassembler that proves nothing).
import { execFileSync, spawnSync } from 'node:child_process';
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
  /** MB/s of code by the checker's CPU time a check (dist's child process only; see checkerSuite). */
  checkerCpuMBps?: number;
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

/** Checks the child times by its CPU time after benny's run (see DIST_CHILD). */
const CPU_CHECKS = 15;

/**
 * dist/'s checker timed as talcheck runs it: in a plain node process. Imported into this one, which runs under tsx,
 * dist/'s modules go through tsx's loader too, which rewrites them (as CommonJS, every imported name read through
 * a getter, every function made wrapped): measured so, the checker spent a third of its time in those getters and
 * ran at half the speed it has under talcheck. The child warms up, runs benny, and prints its figures as JSON.
 */
const DIST_CHILD = `
import { readFileSync } from 'node:fs';
const CPU_CHECKS = ${CPU_CHECKS};
import b from 'benny';
const [distChecker, elfFile, warmUp, saveDir] = process.argv.slice(1);
const { checkElf } = await import(distChecker);
const elf = new Uint8Array(readFileSync(elfFile));
const t0 = performance.now();
const first = checkElf(elf);
const coldSeconds = (performance.now() - t0) / 1000;
if (!first.ok) throw new Error('the generated program is refused: ' + first.error.message);
for (let i = 0; i < Number(warmUp); i++) checkElf(elf);
let mean = 0;
await b.suite(
  'checker: ' + (first.summary.codeBytes / 1e6).toFixed(2) + ' MB of code, ' + first.summary.instructions +
    ' instructions, ' + first.summary.blocks + ' blocks',
  b.add('checkElf (dist, node)', () => { if (!checkElf(elf).ok) throw new Error('refused'); }),
  b.cycle(),
  b.complete(s => { mean = s.results[0].details.mean; }),
  ...(saveDir ? [b.save({ file: 'checker', folder: saveDir, format: 'json' })] : []),
);
// The same checks timed by the process's CPU time as well: on a shared machine the wall clock (benny's) also counts
// the waits for a core and the slowdown of a core another process shares, which the checker does not control.
let cpuMs = 0, wallMs = 0;
for (let i = 0; i < CPU_CHECKS; i++) {
  const c0 = process.cpuUsage(), t0 = performance.now();
  checkElf(elf);
  wallMs += performance.now() - t0;
  const c = process.cpuUsage(c0);
  cpuMs += (c.user + c.system) / 1000;
}
const cpuMean = cpuMs / CPU_CHECKS / 1000, wallMean = wallMs / CPU_CHECKS / 1000;
console.error(JSON.stringify({ coldSeconds, mean, cpuMean, wallMean, codeBytes: first.summary.codeBytes }));
`;

/** Runs DIST_CHILD on the file; its figures, or undefined if the child failed (then this process measures). */
interface ChildFigures { coldSeconds: number; mean: number; cpuMean: number; wallMean: number; codeBytes: number }
function timeDistInNode(elf: Uint8Array, warmUp: number, saveDir: string | undefined): ChildFigures | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'ktal-bench-'));
  try {
    const file = join(dir, 'generated');
    writeFileSync(file, elf);
    const root = join(import.meta.dirname, '..');
    const checker = pathToFileURL(join(root, 'dist', 'tal', 'check', 'checker.js')).href;
    const r = spawnSync(process.execPath,
      ['--input-type=module', '-e', DIST_CHILD, checker, file, String(warmUp), saveDir ?? ''],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'], timeout: 600_000 });
    const last = r.stderr.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !last.startsWith('{')) return undefined;
    return JSON.parse(last) as ChildFigures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Checks run before the timed ones: the engine's tiers settle within about twenty (measured: 150 ms → 92 ms). */
const WARM_UP = 25;

export async function checkerSuite(quick: boolean, saveDir?: string, smoke = false): Promise<CheckerFigures> {
  const functions = smoke ? 50 : quick ? 500 : 20_000;
  const t0 = performance.now();
  const { elf } = assemble(generateProgram(functions), 'generated.tal');
  const asmMs = performance.now() - t0;
  const { check, build } = await shippedChecker();
  // The first check in a process runs while the engine is still compiling the checker (what one talcheck of a cold
  // file sees); the figure is the checker's steady state, after WARM_UP checks, with the first one's time beside it.
  const tCold = performance.now();
  const first = check(elf);
  let coldSeconds = (performance.now() - tCold) / 1000;
  if (!first.ok) throw new Error(`the generated program is refused: ${first.error.message}`);
  const warmUp = quick ? 2 : WARM_UP;
  const codeBytes = first.summary.codeBytes;
  let opsPerSec = 0;
  const child = build === 'dist' ? timeDistInNode(elf, warmUp, quick ? undefined : saveDir) : undefined;
  if (child) {
    coldSeconds = child.coldSeconds;
    opsPerSec = 1 / child.mean;
  } else {
    for (let i = 0; i < warmUp; i++) check(elf);
    await b.suite(
      `checker: ${(codeBytes / 1e6).toFixed(2)} MB of code, ${first.summary.instructions} instructions, ` +
        `${first.summary.blocks} blocks`,
      b.add(`checkElf (${build})`, () => {
        const r = check(elf);
        if (!r.ok) throw new Error('refused');
      }),
      b.cycle(),
      b.complete(s => {
        // From the mean time of a check, not benny's `ops`: benny rounds that to the fewest digits that tell its
        // cases apart, whole operations a second for a suite of one, so at 7 to 10 checks a second the figure moved
        // in steps of a tenth or more (7 ops/s was 7.1 MB/s whether a check took 126 ms or 142 ms).
        opsPerSec = 1 / s.results[0].details.mean;
      }),
      ...(quick || !saveDir ? [] : [b.save({ file: 'checker', folder: saveDir, format: 'json' })]),
    );
  }
  const mbPerSec = (codeBytes * opsPerSec) / 1e6;
  const fileMBps = (elf.length * opsPerSec) / 1e6;
  const objdump = objdumpSeconds(elf);
  // Beside benny's wall-clock mean, the same build's CPU time a check (dist's child only): when the two differ, the
  // machine was busy, and the CPU figure is the nearer to the checker's own speed.
  const cpu = child
    ? `; CPU time ${(child.cpuMean * 1000).toFixed(0)} ms a check ` +
      `(${(codeBytes / child.cpuMean / 1e6).toFixed(1)} MB/s of code) against ${(child.wallMean * 1000).toFixed(0)} ` +
        `ms by the wall clock over the same ${CPU_CHECKS} checks`
    : '';
  const vs = objdump > 0
    ? `; objdump -d ${objdump.toFixed(2)} s, checker ${(1 / opsPerSec).toFixed(2)} s: ` +
    `${(objdump * opsPerSec).toFixed(1)}× faster` : '';
  console.log(`checker throughput (${build}${child ? ', in a plain node process' : ''}, after ${warmUp} checks; the ` +
    `first took ${(coldSeconds * 1000).toFixed(0)} ms): ${mbPerSec.toFixed(1)} MB/s of code, ${fileMBps.toFixed(1)} ` +
    `MB/s of the file (${codeBytes} of ${elf.length} bytes${vs}; talas took ${(asmMs / 1000).toFixed(1)} s to ` +
    `assemble it${cpu})`);
  const cpuFigure = child ? { checkerCpuMBps: codeBytes / child.cpuMean / 1e6 } : {};
  return { build, coldSeconds, codeBytes, checkerMBps: mbPerSec, ...cpuFigure, talasSeconds: asmMs / 1000,
    fileBytes: elf.length, checkerFileMBps: fileMBps, objdumpSeconds: objdump };
}
