// The code-quality benchmark (issue 17, item 3): how many instructions and cycles popc's code spends against gcc's
// on the same work. Each program of bench/quality/ is written twice, in Popcorn (NAME.pop, compiled by popc with
// every bounds, null and division check kept, and verified) and in C (c/NAME.c, compiled by `gcc -m32 -O2` without a
// C library, against the tiny start file and library in c/); the two print the same bytes and exit with the same
// status. For each binary: the instructions it retires and the busy cycles it costs on the emulated machine in user
// mode (what `talrun --stats` reports; both are ordinary static i386 ELFs, so the same kernel runs both), its native
// wall time on this host, and the compile time. The report gives the popc/gcc ratios and their geometric mean
// (Fleming and Wallace, "How not to lie with statistics", CACM 29(3), 1986: the mean of ratios is the geometric one).
//
// Instructions are counted by the emulator, not the host: `perf stat -e instructions:u` needs a PMU, which this VM
// does not expose (perf reports `<not supported>`). The counts include the kernel's entry code of each system call
// and timer tick, alike for both binaries.
//
// popc's optimisation level is a parameter (`levels`): -O0 is popc as it is, compiled in this process; another level
// goes through popc's command line with -O<level>, the flag the optimising back end of issue 17 brings, so the same
// run reports before and after (`npm run bench -- --popc-levels 0,2`).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../compiler/popc.ts';
import { formatDiagnostics } from '../compiler/diagnostics.ts';
import { checkElf } from '../tal/check/checker.ts';
import { runProgram } from '../kernel/talrun.ts';
import type { ClassName } from '../emulator/stats.ts';

export const QUALITY_DIR = join(import.meta.dirname, 'quality');
const C_DIR = join(QUALITY_DIR, 'c');
const POPC_CLI = join(import.meta.dirname, '..', 'bin', 'popc.js');

/**
 * gcc's flags: -O2 for i386 (its default -march=i686 on Debian's gcc), freestanding with no C library and no start
 * files (c/start.s and c/rt.c are all the C side links), and no code this machine model leaves out or the emulator
 * does not decode: no stack protector or CET (their canary and endbr32 are neither popc's nor the programs' work),
 * position-dependent (as popc's code is), and no alignment padding — GNU as pads loop heads with `66 90`
 * (xchg ax,ax), whose operand-size prefix the emulator does not decode, and padding only helps a fetch unit, which
 * the cost model (docs/machine.md) does not have; and no `bt` (bit test), which gcc uses for a test against a set
 * of constants (is_vowel in strscan) and the emulator does not decode either: gcc compares instead.
 */
export const GCC_FLAGS = [
  '-m32', '-O2', '-ffreestanding', '-nostdlib', '-static', '-fno-pic', '-no-pie', '-fno-stack-protector',
  '-fcf-protection=none', '-fno-asynchronous-unwind-tables',
  '-falign-functions=1', '-falign-jumps=1', '-falign-loops=1', '-falign-labels=1', '-fno-bit-tests',
  '-Wall', '-Wextra',
];

export interface QualityProgram {
  name: string;
  /** What it exercises (the issue's list). */
  what: string;
  /**
   * argv[1], the program's size of work: in a full run on the emulated machine, in a quick run, and in a full run's
   * timed native runs (larger, so that the work and not process start dominates the host's milliseconds; bounded
   * where the program would overflow an int (interp's i * i), the stack (lists' recursion) or 32 bits (collatz)).
   */
  arg?: Sizes;
  /** Bytes of generated text on standard input, likewise. */
  stdinBytes?: Sizes;
}

export interface Sizes { full: number; quick: number; native: number }
export type Size = keyof Sizes;

/** The programs, each bench/quality/NAME.pop and bench/quality/c/NAME.c. */
export const QUALITY_PROGRAMS: readonly QualityProgram[] = [
  { name: 'collatz', what: 'numeric loops', arg: { full: 3000, quick: 300, native: 100_000 } },
  { name: 'sieve', what: 'numeric loops over a bool array', arg: { full: 60000, quick: 6000, native: 3_000_000 } },
  { name: 'fib', what: 'recursion', arg: { full: 24, quick: 15, native: 31 } },
  { name: 'sort', what: 'sorting (quicksort)', arg: { full: 5000, quick: 500, native: 250_000 } },
  { name: 'strscan', what: 'string scanning', arg: { full: 800, quick: 80, native: 40_000 } },
  { name: 'hashtable', what: 'a hash table', arg: { full: 12000, quick: 1200, native: 600_000 } },
  { name: 'bintree', what: 'a binary tree', arg: { full: 4000, quick: 400, native: 200_000 } },
  { name: 'lists', what: 'list processing', arg: { full: 3000, quick: 300, native: 30_000 } },
  { name: 'interp', what: 'a small interpreter', arg: { full: 6000, quick: 600, native: 46_000 } },
  { name: 'findloop', what: 'find\'s inner loop', arg: { full: 40, quick: 4, native: 2000 } },
  { name: 'echoloop', what: 'an echo loop', stdinBytes: { full: 128 << 10, quick: 16 << 10, native: 8 << 20 } },
];

/** One binary's figures. */
export interface BinaryFigures {
  /** Instructions retired on the emulated machine in user mode (the kernel's entry code included). */
  instructions: number;
  /** Busy cycles under the profile (stats.cycles − stats.haltedCycles), simulated. */
  cycles: number;
  /** The instructions by the cost model's class. */
  byClass: Record<ClassName, number>;
  /** Best native wall time on this host at the native size (exec to exit, process start included), seconds. */
  nativeSeconds: number;
  /** Best compile time, seconds, wall-clock (popc: compiling and verifying; gcc: the whole driver). */
  compileSeconds: number;
  /** How the compile time was taken. */
  compileTimedAs: string;
  /** Size of the executable, bytes. */
  fileBytes: number;
}

export interface QualityProgramFigures {
  name: string;
  what: string;
  /** The command line and the bytes of standard input of the emulated runs, and of the timed native runs. */
  argv: string[];
  stdinBytes: number;
  nativeArgv: string[];
  nativeStdinBytes: number;
  gcc: BinaryFigures;
  /** popc's figures at each level run, keyed by the flag (`-O0`, …). */
  popc: Record<string, BinaryFigures>;
}

export interface QualityFigures {
  /** When the suite ran (ISO 8601). */
  measuredAt: string;
  /** Why the suite did not run (gcc missing), if it did not. */
  skipped?: string;
  gccVersion: string;
  gccFlags: string[];
  /** popc's levels, as flags, in the order run. */
  levels: string[];
  /** The cost profile of the simulated cycles. */
  profile: string;
  /** Native runs per binary (the best is kept). */
  runs: number;
  /** popc's compile time of compiler/examples/find.pop at each level (best of 3; 1 in a quick run), seconds. */
  findCompileSeconds: Record<string, number>;
  programs: QualityProgramFigures[];
}

/** The issue's goal for the geometric mean of the instruction ratios. */
export const QUALITY_GOAL = 1.5;

export type RatioKind = 'instructions' | 'cycles' | 'nativeSeconds';

/** popc / gcc for one program at one level, or undefined if the level did not run. */
export function qualityRatio(p: QualityProgramFigures, level: string, kind: RatioKind): number | undefined {
  const popc = p.popc[level];
  return popc ? popc[kind] / p.gcc[kind] : undefined;
}

/** The geometric mean of the popc/gcc ratios over the programs at a level. */
export function qualityGeomean(q: QualityFigures, level: string, kind: RatioKind): number | undefined {
  let logSum = 0;
  for (const p of q.programs) {
    const r = qualityRatio(p, level, kind);
    if (r === undefined || !(r > 0)) return undefined;
    logSum += Math.log(r);
  }
  return q.programs.length ? Math.exp(logSum / q.programs.length) : undefined;
}

/** Why gcc cannot build the C side here, or undefined if it can (gcc present, with -m32 code generation). */
export function gccMissing(): string | undefined {
  const r = spawnSync('gcc', ['-m32', '-ffreestanding', '-fsyntax-only', '-x', 'c', '-'], { input: 'int x;\n' });
  if (r.error) return `gcc not found (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  if (r.status !== 0) return `gcc cannot generate i386 code: ${r.stderr.toString().trim().split('\n')[0]}`;
  return undefined;
}

/** Builds c/NAME.c with gcc into `out`. Throws with gcc's messages. */
export function buildC(name: string, out: string): void {
  const sources = [join(C_DIR, 'start.s'), join(C_DIR, 'rt.c'), join(C_DIR, `${name}.c`)];
  try {
    execFileSync('gcc', [...GCC_FLAGS, '-o', out, ...sources], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`gcc ${name}.c: ${(err.stderr || err.message).slice(0, 4000)}`);
  }
}

/** The flag of a popc level. */
export const levelFlag = (level: number) => `-O${level}`;

/** find, popc's largest program (compiler/examples/find.pop), whose compile time the report gives at each level. */
export const FIND_SOURCE = join(import.meta.dirname, '..', 'compiler', 'examples', 'find.pop');

/**
 * Compiles NAME.pop (or `file`) at `level` into `out` and returns how long it took, seconds. At -O0, in this process:
 * popc's
 * compile() and the checker over its output, as the popc command does. At another level, through the command
 * line with the level's flag: its wall time less that of `popc --version` in the same moment (Node's start-up).
 */
export function buildPopcorn(name: string, level: number, out: string, file = join(QUALITY_DIR, `${name}.pop`)):
  { seconds: number; timedAs: string } {
  if (level === 0) {
    const text = readFileSync(file, 'utf8');
    const t0 = performance.now();
    const r = compile(text, file);
    if (!r.elf) {
      const why = r.diagnostics.length ? formatDiagnostics(r.diagnostics, r.sources) : r.assemblerErrors;
      throw new Error(`popc ${name}.pop: ${why}`);
    }
    const verdict = checkElf(r.elf);
    const seconds = (performance.now() - t0) / 1000;
    if (!verdict.ok) throw new Error(`popc ${name}.pop: the checker refused popc's output (a popc bug)`);
    writeFileSync(out, r.elf);
    chmodSync(out, 0o755);
    return { seconds, timedAs: 'compile() and checkElf in the benchmark\'s process' };
  }
  const cli = (args: string[]) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [POPC_CLI, ...args], { encoding: 'utf8' });
    const seconds = (performance.now() - t0) / 1000;
    if (r.error || r.status !== 0) {
      throw new Error(`popc ${args.join(' ')}: exit ${r.status}: ${(r.stderr || r.error?.message || '').trim()}`);
    }
    return seconds;
  };
  const start = cli(['--version']);
  const whole = cli([levelFlag(level), file, '-o', out]);
  const timedAs = `popc ${levelFlag(level)} (the command) less popc --version`;
  return { seconds: Math.max(0, whole - start), timedAs };
}

/** Deterministic text for the echo loop: numbered lines of words. */
export function echoInput(bytes: number): Buffer {
  const words = ['echo', 'the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'kernel', 'mode'];
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const picked = Array.from({ length: 3 + (i % 7) }, (_, k) => words[(i * 7 + k * 3) % words.length]);
    const line = `${i}: ${picked.join(' ')}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

/** The command line and input of a program at a size. */
export function programInput(p: QualityProgram, size: Size): { args: string[]; stdin: Buffer } {
  const args = p.arg ? [String(p.arg[size])] : [];
  const stdin = p.stdinBytes ? echoInput(p.stdinBytes[size]) : Buffer.alloc(0);
  return { args, stdin };
}

type Input = ReturnType<typeof programInput>;

export interface NativeRun { stdout: Buffer; stderr: Buffer; status: number | null; seconds: number }

/** Runs an executable natively `runs` times with `stdin`; the last run's output, the best time. */
export function runNative(file: string, args: string[], stdin: Buffer, runs = 1): NativeRun {
  let best = Infinity;
  let last: ReturnType<typeof spawnSync> | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = spawnSync(file, args, { input: stdin, maxBuffer: 1 << 28 });
    best = Math.min(best, (performance.now() - t0) / 1000);
    if (last.error) throw new Error(`${file}: ${last.error.message}`);
  }
  return { stdout: last!.stdout as Buffer, stderr: last!.stderr as Buffer, status: last!.status, seconds: best };
}

/**
 * One binary measured: natively at the emulated size (the reference output), then on the emulated machine, whose
 * output must agree; then natively at the native size, timed. Returns both native outputs for the twins' compare.
 */
function measure(file: string, name: string, sim: Input, nat: Input, runs: number,
  compiled: { seconds: number; timedAs: string }): BinaryFigures & { profile: string; stdout: Buffer[] } {
  const reference = runNative(file, sim.args, sim.stdin);
  const native = runNative(file, nat.args, nat.stdin, runs);
  for (const x of [reference, native]) {
    if (x.status !== 0) throw new Error(`${file}: exit status ${x.status} natively: ${x.stderr}`);
  }
  const elf = new Uint8Array(readFileSync(file));
  const r = runProgram(elf, [name, ...sim.args], { stdin: sim.stdin });
  if (r.status !== reference.status || Buffer.compare(Buffer.from(r.stdout), reference.stdout) !== 0) {
    throw new Error(`${file}: under talrun (status ${r.status}${r.message ? `, ${r.message}` : ''}) the output ` +
      'differs from the native run\'s');
  }
  return {
    instructions: r.stats.instructions, cycles: r.stats.cycles - r.stats.haltedCycles, byClass: { ...r.stats.byClass },
    nativeSeconds: native.seconds, compileSeconds: compiled.seconds, compileTimedAs: compiled.timedAs,
    fileBytes: elf.length, profile: r.stats.profile, stdout: [reference.stdout, native.stdout],
  };
}

export interface QualityOptions {
  quick: boolean;
  /** popc's optimisation levels to measure (default [0]). */
  levels?: number[];
  log?: (line: string) => void;
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

export function qualitySuite(o: QualityOptions): QualityFigures {
  const log = o.log ?? ((l: string) => console.log(l));
  const levels = o.levels ?? [0];
  const runs = o.quick ? 1 : 5;
  const empty: QualityFigures = {
    measuredAt: new Date().toISOString(), gccVersion: '', gccFlags: GCC_FLAGS, levels: levels.map(levelFlag),
    profile: '', runs, programs: [], findCompileSeconds: {},
  };
  const missing = gccMissing();
  if (missing) {
    log(`code quality: skipped: ${missing}`);
    return { ...empty, skipped: missing };
  }
  const gccVersion = execFileSync('gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  const dir = mkdtempSync(join(tmpdir(), 'ktal-quality-'));
  const best = (n: number, f: () => { seconds: number; timedAs: string }) => {
    let b = f();
    for (let i = 1; i < n; i++) { const x = f(); if (x.seconds < b.seconds) b = x; }
    return b;
  };
  try {
    let profile = '';
    const programs: QualityProgramFigures[] = [];
    const heads = levels.map(l => `popc ${levelFlag(l)} insns  ratio`.padStart(25));
    log(`  ${'program'.padEnd(10)} ${'gcc insns'.padStart(11)} ${heads.join(' ')}`);
    for (const p of QUALITY_PROGRAMS) {
      const sim = programInput(p, o.quick ? 'quick' : 'full'), nat = programInput(p, o.quick ? 'quick' : 'native');
      const cFile = join(dir, `${p.name}-gcc`);
      const cCompiled = best(o.quick ? 1 : 3, () => {
        const t0 = performance.now();
        buildC(p.name, cFile);
        return { seconds: (performance.now() - t0) / 1000, timedAs: 'the gcc driver, wall-clock' };
      });
      const { profile: prof, stdout: expected, ...gcc } = measure(cFile, p.name, sim, nat, runs, cCompiled);
      profile = prof;
      const popc: Record<string, BinaryFigures> = {};
      for (const level of levels) {
        const file = join(dir, `${p.name}-popc${levelFlag(level)}`);
        const compiled = best(o.quick ? 1 : 3, () => buildPopcorn(p.name, level, file));
        const { profile: _, stdout, ...fig } = measure(file, p.name, sim, nat, runs, compiled);
        if (stdout.some((out, i) => Buffer.compare(out, expected[i]) !== 0)) {
          throw new Error(`${p.name}: popc ${levelFlag(level)}'s program prints other bytes than gcc's (the twins ` +
            `${p.name}.pop and c/${p.name}.c disagree)`);
        }
        popc[levelFlag(level)] = fig;
      }
      const fig: QualityProgramFigures = {
        name: p.name, what: p.what, argv: [p.name, ...sim.args], stdinBytes: sim.stdin.length,
        nativeArgv: [p.name, ...nat.args], nativeStdinBytes: nat.stdin.length, gcc, popc,
      };
      for (const b of [gcc, ...Object.values(popc)]) {
        b.nativeSeconds = round(b.nativeSeconds, 5); b.compileSeconds = round(b.compileSeconds, 4);
      }
      programs.push(fig);
      const cols = levels.map(l => {
        const f = popc[levelFlag(l)];
        const ratio = qualityRatio(fig, levelFlag(l), 'instructions')!;
        return `${f.instructions.toLocaleString('en').padStart(17)} ${ratio.toFixed(2).padStart(6)}×`;
      });
      log(`  ${p.name.padEnd(10)} ${gcc.instructions.toLocaleString('en').padStart(11)} ${cols.join(' ')}`);
    }
    const findCompileSeconds: Record<string, number> = {};
    for (const level of levels) {
      const seconds = best(o.quick ? 1 : 3, () => buildPopcorn('find', level, join(dir, 'find'), FIND_SOURCE)).seconds;
      findCompileSeconds[levelFlag(level)] = round(seconds, 4);
      log(`  popc ${levelFlag(level)} compiles find.pop in ${(seconds * 1000).toFixed(0)} ms`);
    }
    const q: QualityFigures = { ...empty, gccVersion, profile, programs, findCompileSeconds };
    for (const l of q.levels) {
      const mean = (kind: RatioKind) => `${qualityGeomean(q, l, kind)?.toFixed(2)}×`;
      log(`  geometric mean of popc ${l} / gcc -O2: instructions ${mean('instructions')}, cycles ${mean('cycles')}, ` +
        `native time ${mean('nativeSeconds')}`);
    }
    return q;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
