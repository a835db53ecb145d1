// popc -O0 against -O2 on the mission's workloads (issue 17, item 4): find over a generated tmpfs tree and echod's
// loopback round trips, in user and kernel mode (with and without --pti) under one cost profile, the programs
// compiled by popc at each level; and popc's compile time for find at each level (wall-clock, best of five). The
// full bench (bench/all.ts) runs it and REPORT.md shows its table ("find and echod as popc -O0 and -O2 compile
// them"); by hand, `npx tsx bench/popc-levels.ts [--profile P] [--entries N] [--trips N]` prints the same table.
// Every figure but the compile time is simulated (the machine's counters), so it does not depend on this host's load.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compile } from '../compiler/popc.ts';
import { findWorkloads, runFindSim } from './find.ts';
import { Echod, echodWorkloads } from './echod.ts';
import type { Mode } from './workload.ts';

/** One level's figures: per directory entry (find) and per round trip (echod), simulated. */
export interface LevelFigures {
  level: number;
  /** Instructions per entry / per round trip, and busy cycles, in each mode. */
  find: Record<Mode, { instructions: number; cycles: number }>;
  echod: Record<Mode, { instructions: number; cycles: number }>;
  /** popc's wall-clock time for compiler/examples/find.pop at this level, best of five, ms. */
  compileFindMs: number;
}

export interface PopcLevelsFigures {
  profile: string;
  entries: number;
  trips: number;
  levels: LevelFigures[];
}

const MODES: Mode[] = ['user', 'kernel', 'user+pti', 'kernel+pti'];
const root = join(import.meta.dirname, '..');

function compileTime(level: number): number {
  const src = readFileSync(join(root, 'compiler/examples/find.pop'), 'utf8');
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = compile(src, 'find.pop', { optimise: level });
    best = Math.min(best, performance.now() - t0);
    if (!r.elf) throw new Error('find.pop does not compile');
  }
  return best;
}

export function popcLevelsSuite(o: { profile?: string; entries?: number; trips?: number; levels?: number[];
  log?: (line: string) => void } = {}): PopcLevelsFigures {
  const profile = o.profile ?? 'p4-northwood', entries = o.entries ?? 10_000, trips = o.trips ?? 200;
  const find = { ...findWorkloads(false)[0], name: `find-tmpfs-${entries}`, tree: { generated: entries } };
  const echod = { ...echodWorkloads(false)[0], count: trips };
  const levels = (o.levels ?? [0, 2]).map(level => {
    const e = new Echod(level);
    const f = {} as LevelFigures['find'], t = {} as LevelFigures['echod'];
    for (const mode of MODES) {
      const fr = runFindSim(find, profile, mode, level), er = e.loopback(echod, profile, mode);
      f[mode] = { instructions: fr.instructions / entries, cycles: fr.cycles / entries };
      t[mode] = { instructions: er.instructions / trips, cycles: er.cycles / trips };
      o.log?.(`  -O${level} ${mode}: find ${fmt(f[mode].instructions)} instructions an entry, ` +
        `echod ${fmt(t[mode].instructions)} a round trip`);
    }
    return { level, find: f, echod: t, compileFindMs: compileTime(level) };
  });
  return { profile, entries, trips, levels };
}

const fmt = (n: number, d = 0): string =>
  n.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d });
const pct = (kernel: number, user: number): string => `${(100 * (1 - kernel / user)).toFixed(1)}%`;

/** The report's section: one row a level, the kernel-mode savings as they fall out of each. */
export function popcLevelsSection(p: PopcLevelsFigures): string[] {
  const rows = p.levels.map(l => {
    const f = l.find, e = l.echod;
    return `| -O${l.level} | ${fmt(f.user.instructions)} | ${fmt(f.kernel.instructions)} | ` +
      `${pct(f.kernel.cycles, f.user.cycles)} | ${pct(f['kernel+pti'].cycles, f['user+pti'].cycles)} | ` +
      `${fmt(e.user.instructions)} | ${fmt(e.kernel.instructions)} | ${pct(e.kernel.cycles, e.user.cycles)} | ` +
      `${pct(e['kernel+pti'].cycles, e['user+pti'].cycles)} | ${fmt(l.compileFindMs, 1)} ms |`;
  });
  return [
    '## find and echod as popc -O0 and -O2 compile them', '',
    `Simulated, under ${p.profile}: find over a generated tree of ${fmt(p.entries)} entries (find /t -name '*.c'), ` +
    `echod over loopback, ${p.trips} round trips of 64 B, both programs (and echod's client) compiled by popc at ` +
    'each level; instructions per directory entry and per round trip, and kernel mode\'s saving of busy cycles ' +
    '(1 − kernel/user). The headline figures above are -O0\'s, as the report has always measured. *popc for ' +
    'find.pop* is wall-clock (best of five, this host). By hand: `npx tsx bench/popc-levels.ts`.', '',
    '| popc | find: instructions/entry, user | kernel | find: saving | with --pti | echod: instructions/trip, ' +
    'user | kernel | echod: saving | with --pti | popc for find.pop |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows, '',
    ...movedBy(p), '',
  ];
}

/** What the optimiser did to the figures, in words, from the first and last levels of the run. */
function movedBy(p: PopcLevelsFigures): string[] {
  const [a, b] = [p.levels[0], p.levels[p.levels.length - 1]];
  if (!a || !b || a === b) return [];
  const saving = (x: LevelFigures['find']) => 1 - x.kernel.cycles / x.user.cycles;
  const way = (before: number, after: number) => (after > before ? 'grows' : after < before ? 'shrinks' : 'stays');
  return [`From -O${a.level} to -O${b.level}, find's instructions per entry in user mode go from ` +
    `${fmt(a.find.user.instructions)} to ${fmt(b.find.user.instructions)} ` +
    `(${(b.find.user.instructions / a.find.user.instructions).toFixed(2)}×), and kernel mode's saving on find ` +
    `${way(saving(a.find), saving(b.find))} (${pct(a.find.kernel.cycles, a.find.user.cycles)} → ` +
    `${pct(b.find.kernel.cycles, b.find.user.cycles)}): the crossings kernel mode removes are the same at both ` +
    'levels, so their share of what is left moves with the program\'s own instructions.'];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string): number | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const i = process.argv.indexOf('--profile');
  const figures = popcLevelsSuite({ profile: i > 0 ? process.argv[i + 1] : undefined, entries: arg('entries'),
    trips: arg('trips'), log: l => console.error(l) });
  console.log(popcLevelsSection(figures).join('\n'));
}
