// The emulator's speed: emulated MIPS on compute-bound programs, and the emulator's wall time against the same ELF
// run natively on this host. Each program is a static i386 ELF that Linux runs as is: a GNU-assembled counted loop,
// and the talas examples fib.tal (naive recursion) and sort.tal (insertion sort) scaled up. The emulator runs each
// on the kernel as talrun does in user mode (talrun's library: CPL 3, system calls through int 0x80 and the entry
// code, the timer ticking); its output and exit status must equal the native run's.
//
// Timing is by hand (performance.now around the kernel's run, its boot and the program's loading left out;
// spawnSync for the native run), best of a few runs: one run of the largest program takes seconds, too long for
// benny's sampling.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../tal/asm/assembler.ts';
import { bootKernel, outcome, start } from '../kernel/talrun.ts';
import { gnuLink } from './hosttools.ts';

export interface ProgramFigures {
  description: string;
  /** Instructions the emulator retired (its stats). */
  instructions: number;
  /** Best wall time of the kernel's run of the program, seconds. */
  emulatedSeconds: number;
  /** Emulated million instructions per second: instructions / emulatedSeconds / 1e6. */
  mips: number;
  /** Best wall time of the same ELF run natively (spawnSync: exec to exit, process start included), seconds. */
  nativeSeconds: number;
  /** emulatedSeconds / nativeSeconds. */
  ratio: number;
}

export interface EmulatorFigures {
  programs: Record<string, ProgramFigures>;
  /** All programs' instructions over all their emulated seconds. */
  mips: number;
  /** Wall time of a native ELF that exits at once: the process-start part of every native figure, seconds. */
  nativeStartSeconds: number;
}

const examples = join(import.meta.dirname, '..', 'tal', 'examples');

/** A counted loop of `n` iterations of three instructions (add, dec, jnz); exits with the sum's low 7 bits. */
function loopSource(n: number): string {
  return [
    '.intel_syntax noprefix', '.text', '.globl _start', '_start:',
    '  xor eax, eax', `  mov ecx, ${n}`,
    '1: add eax, ecx', '  dec ecx', '  jnz 1b',
    '  mov ebx, eax', '  and ebx, 0x7f', '  mov eax, 1', '  int 0x80', '',
  ].join('\n');
}

/** fib.tal printing fib(0) … fib(n-1) instead of fib(0) … fib(24). */
function fibSource(n: number): string {
  const src = readFileSync(join(examples, 'fib.tal'), 'utf8');
  if (!src.includes('cmp esi, 25')) throw new Error('fib.tal changed: its loop bound `cmp esi, 25` is not there');
  return src.replace('cmp esi, 25', `cmp esi, ${n}`);
}

/** sort.tal sorting `n` pseudo-random numbers instead of its twelve. */
function sortSource(n: number): string {
  const src = readFileSync(join(examples, 'sort.tal'), 'utf8');
  const m = src.match(/nums:\n\s*\.long 12\n\s*\.long [^\n]*\n/);
  if (!m) throw new Error('sort.tal changed: its nums array is not where the benchmark expects it');
  let x = 12345;
  const nums: number[] = [];
  for (let i = 0; i < n; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; nums.push((x >>> 8) % 100000); }
  const lines = [];
  for (let i = 0; i < n; i += 16) lines.push(`    .long ${nums.slice(i, i + 16).join(', ')}`);
  return src.replace(m[0], `nums:\n    .long ${n}\n${lines.join('\n')}\n`);
}

function talElf(source: string, name: string): Uint8Array {
  return assemble(source, name).elf;
}

function timeNative(file: string, runs: number): { seconds: number; stdout: Buffer; status: number | null } {
  let best = Infinity;
  let last: ReturnType<typeof spawnSync> | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = spawnSync(file, [], { maxBuffer: 1 << 28 });
    const s = (performance.now() - t0) / 1000;
    if (last.error) throw last.error;
    best = Math.min(best, s);
  }
  return { seconds: best, stdout: last!.stdout as Buffer, status: last!.status };
}

function measure(name: string, description: string, elf: Uint8Array, dir: string, runs: number): ProgramFigures {
  const file = join(dir, name);
  writeFileSync(file, elf);
  chmodSync(file, 0o755);
  const nat = timeNative(file, runs);
  let best = Infinity;
  let instructions = 0;
  for (let i = 0; i < runs; i++) {
    const out: Uint8Array[] = [];
    const k = bootKernel({ onOutput: (fd, b) => { if (fd === 1) out.push(b); } });
    k.endInput();
    const pid = start(k, elf, [name], {});
    if (typeof pid !== 'number') throw new Error(`${name}: ${pid.message}`);
    k.mainPid = pid;
    const t0 = performance.now();
    const exit = k.run(1e10);
    const s = (performance.now() - t0) / 1000;
    const r = outcome(k, pid, exit);
    if (r.signal || !r.exit || r.status !== nat.status)
      throw new Error(`${name}: the emulator stopped it (status ${r.status}, signal ${r.signal}, ` +
        `${r.message ?? '-'}); natively exit ${nat.status}`);
    if (Buffer.compare(Buffer.concat(out), nat.stdout) !== 0)
      throw new Error(`${name}: emulated output differs from the native output`);
    instructions = r.stats.instructions;
    best = Math.min(best, s);
  }
  return { description, instructions, emulatedSeconds: best, mips: instructions / best / 1e6,
    nativeSeconds: nat.seconds, ratio: best / nat.seconds };
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

export function emulatorSuite(quick: boolean, smoke = false): EmulatorFigures {
  const dir = mkdtempSync(join(tmpdir(), 'ktal-bench-'));
  try {
    const runs = quick ? 1 : 3;
    const loopN = smoke ? 100_000 : quick ? 1_000_000 : 50_000_000;
    const fibN = smoke ? 12 : quick ? 20 : 30;
    const sortN = smoke ? 50 : quick ? 300 : 4_000;
    const programs: Record<string, ProgramFigures> = {
      loop: measure('loop', `GNU as counted loop, ${loopN.toLocaleString('en')} iterations of add/dec/jnz`,
        gnuLink(loopSource(loopN)), dir, runs),
      fib: measure('fib', `fib.tal: naive recursive fib(0) … fib(${fibN - 1}), printed`,
        talElf(fibSource(fibN), 'fib.tal'), dir, runs),
      sort: measure('sort', `sort.tal: insertion sort of ${sortN.toLocaleString('en')} numbers, printed`,
        talElf(sortSource(sortN), 'sort.tal'), dir, runs),
    };
    const start = timeNative(join(writeExit(dir)), runs * 3).seconds;
    let insns = 0, secs = 0;
    for (const p of Object.values(programs)) { insns += p.instructions; secs += p.emulatedSeconds; }
    console.log(`\nemulator (the kernel in user mode, best of ${runs}) against the same ELF run natively:`);
    console.log(`  ${'program'.padEnd(6)} ${'instructions'.padStart(14)} ${'emulated s'.padStart(11)} ` +
      `${'MIPS'.padStart(7)} ${'native s'.padStart(9)} ${'ratio'.padStart(7)}`);
    for (const [name, p] of Object.entries(programs)) {
      console.log(`  ${name.padEnd(6)} ${p.instructions.toLocaleString('en').padStart(14)} ` +
        `${p.emulatedSeconds.toFixed(3).padStart(11)} ${p.mips.toFixed(1).padStart(7)} ` +
        `${p.nativeSeconds.toFixed(4).padStart(9)} ${p.ratio.toFixed(0).padStart(7)}×  ${p.description}`);
    }
    console.log(`  overall ${(insns / secs / 1e6).toFixed(1)} MIPS; a native process that exits at once takes ` +
      `${(start * 1000).toFixed(2)} ms (included in the native times)`);
    for (const p of Object.values(programs)) {
      p.emulatedSeconds = round(p.emulatedSeconds, 4); p.mips = round(p.mips,
        2); p.nativeSeconds = round(p.nativeSeconds, 5); p.ratio = round(p.ratio, 1);
    }
    return { programs, mips: round(insns / secs / 1e6, 2), nativeStartSeconds: round(start, 5) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A native ELF that exits at once, for the process-start figure. */
function writeExit(dir: string): string {
  const file = join(dir, 'exit');
  writeFileSync(file,
    gnuLink(['.intel_syntax noprefix', '.text', '.globl _start', '_start:', '  mov eax, 1', '  xor ebx, ebx',
    '  int 0x80', ''].join('\n')));
  chmodSync(file, 0o755);
  return file;
}
