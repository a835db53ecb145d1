// The whole benchmark run as a function (bench/run.ts is its command line; test/e2e/bench-quick.test.ts runs the quick
// mode): the commands' start-up times, the checker's throughput, the emulator's speed, popc's code against gcc -O2's
// (bench/quality.ts), find and echod in every mode under every profile and natively, then the report (REPORT.md,
// report.json, the SVG charts) in `reportDir`.
import { cpus } from 'node:os';
import { mkdirSync } from 'node:fs';
import { checkerSuite } from './checker.ts';
import { emulatorSuite } from './emulator.ts';
import { findSuite } from './find.ts';
import { echodSuite } from './echod.ts';
import { startupSuite } from './startup.ts';
import { qualitySuite } from './quality.ts';
import { popcLevelsSuite } from './popc-levels.ts';
import { writeReport, sanityChecks, type BenchResults } from './report.ts';
import { PROFILES } from '../emulator/profiles.ts';
import { MODES, type BenchConfig } from './workload.ts';

export interface BenchOptions {
  quick: boolean;
  /**
   * The test's size (test/e2e/bench-quick.test.ts): the quick run's suites and report on the smallest inputs that
   * still take every path (find over 100 entries and a small host tree, echod 5 round trips of 64 B by loopback
   * and through --publish, one timed start of each command); its
   * figures mean nothing. The code-quality suite is left out: test/bench/quality.test.ts runs it.
   */
  smoke?: boolean;
  /** Where REPORT.md, report.json and the charts go. */
  reportDir: string;
  /** Where benny saves its own JSON (full runs only). */
  saveDir?: string;
  /** Profiles to run (default: all in a full run; p4-northwood and modern-pti in a quick one). */
  profiles?: string[];
  /** Skip the start-up, checker, emulator and code-quality suites (their figures are then zero or absent). */
  simulationOnly?: boolean;
  /** popc's optimisation levels for the code-quality suite (default [0]: popc as it is). */
  popcLevels?: number[];
  log?: (line: string) => void;
}

export async function runBench(o: BenchOptions): Promise<{ results: BenchResults; files: string[] }> {
  const log = o.log ?? ((l: string) => console.log(l));
  mkdirSync(o.reportDir, { recursive: true });
  const quick = o.quick || o.smoke === true, smoke = o.smoke === true;
  const profiles = o.profiles ?? (quick ? ['p4-northwood', 'modern-pti'] : Object.keys(PROFILES));
  const cfg: BenchConfig = { quick, smoke, profiles, modes: MODES, log };
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => T | Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try { return await f(); } finally { timings[name] = (performance.now() - t0) / 1000; }
  };
  // First, while the host is as quiet as this run will leave it: start-up times are wall-clock and short.
  if (!o.simulationOnly) log('start-up (wall-clock, median of several runs):');
  const startup = o.simulationOnly ? undefined : await timed('start-up', () => startupSuite(quick, log, smoke));
  const checker = o.simulationOnly ? { codeBytes: 0, checkerMBps: 0, talasSeconds: 0 }
    : await timed('checker', () => checkerSuite(quick, o.saveDir, smoke));
  const emulator = o.simulationOnly ? { programs: {}, mips: 0, nativeStartSeconds: 0 }
    : await timed('emulator', () => emulatorSuite(quick, smoke));
  if (!o.simulationOnly && !smoke) log('\ncode quality, popc against gcc -O2 (simulated instructions, user mode):');
  const quality = o.simulationOnly || smoke ? undefined
    : await timed('quality', () => qualitySuite({ quick, levels: o.popcLevels, log }));
  log(`\nfind (${profiles.join(', ')} × ${MODES.join(', ')}):`);
  const f = await timed('find', () => findSuite(cfg));
  log(`\nechod (${profiles.join(', ')} × ${MODES.join(', ')}):`);
  const e = await timed('echod', () => echodSuite(cfg));
  // popc -O0 against -O2 on find and echod (simulated; a full run only: the quick run's budget is CI's).
  if (!quick && !o.simulationOnly) log('\nfind and echod compiled by popc -O0 and -O2 (p4-northwood):');
  const popcLevels = quick || o.simulationOnly ? undefined : await timed('popc levels', () => popcLevelsSuite({ log }));
  const results: BenchResults = {
    generatedAt: new Date().toISOString(), quick,
    host: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    profiles, modes: MODES, workloads: [...f.workloads, ...e.workloads], sim: [...f.sim,
      ...e.sim], native: [...f.native, ...e.native],
    checker, emulator, startup, quality, popcLevels, timings,
  };
  const files = writeReport(results, o.reportDir);
  const failed = sanityChecks(results).filter(c => !c.ok);
  log(`\nreport: ${files.join(', ')}${failed.length ? `\nFAILED checks:\n  ${failed.map(c => c.what).join('\n  ')}` : ' (all sanity checks pass)'}`);
  return { results, files };
}
