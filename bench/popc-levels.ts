// popc -O0 against -O2 on the mission's workloads (issue 17): find over a generated tmpfs tree and echod's loopback
// round trips, in user and kernel mode under one cost profile, compiled by popc at each level; and popc's compile
// time for find at each level (wall-clock, best of five). Prints a Markdown table; by hand:
// `npx tsx bench/popc-levels.ts [--profile P] [--entries N] [--trips N]`. Every figure but the compile time is
// simulated (the machine's counters), so it does not depend on this host's load.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../compiler/popc.ts';
import { findWorkloads, runFindSim } from './find.ts';
import { Echod, echodWorkloads } from './echod.ts';
import type { Mode, SimRun } from './workload.ts';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const profile = arg('profile', 'p4-northwood');
const entries = Number(arg('entries', '10000'));
const trips = Number(arg('trips', '200'));
const LEVELS = [0, 2];
const MODES: Mode[] = ['user', 'kernel'];
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

const fmt = (n: number, d = 0): string =>
  n.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d });

const find = { ...findWorkloads(false)[0], name: `find-tmpfs-${entries}`, tree: { generated: entries } };
const echod = { ...echodWorkloads(false)[0], count: trips };
const rows: string[] = [];
const results = new Map<string, SimRun>();
for (const level of LEVELS) {
  const e = new Echod(level);
  for (const mode of MODES) {
    results.set(`find ${level} ${mode}`, runFindSim(find, profile, mode, level));
    results.set(`echod ${level} ${mode}`, e.loopback(echod, profile, mode));
  }
}
console.log(`profile ${profile}; find over ${fmt(entries)} entries (find /t -name '*.c'); `
  + `echod ${trips} round trips of 64 B\n`);
console.log('| level | find instr./entry user | kernel | find cycles kernel/user | echod instr./round trip user '
  + '| kernel | echod cycles kernel/user | popc time for find |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const level of LEVELS) {
  const fu = results.get(`find ${level} user`)!, fk = results.get(`find ${level} kernel`)!;
  const eu = results.get(`echod ${level} user`)!, ek = results.get(`echod ${level} kernel`)!;
  const find = [fmt(fu.instructions / entries), fmt(fk.instructions / entries), fmt(fk.cycles / fu.cycles, 3)];
  const echo = [fmt(eu.instructions / trips), fmt(ek.instructions / trips), fmt(ek.cycles / eu.cycles, 3)];
  rows.push(`| -O${level} | ${[...find, ...echo, `${fmt(compileTime(level))} ms`].join(' | ')} |`);
}
console.log(rows.join('\n'));
