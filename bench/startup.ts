// The commands' start-up time, wall-clock: each command's `--version` started as a user starts it (bin/<cmd>.js,
// which runs the compiled JavaScript in dist/ when dist/ is fresh; bin/launch.js), and the same command's source
// through tsx's loader (`node --import tsx <source>.ts`, what bin/ falls back to when dist/ is stale), beside
// `node -e 0` measured in the same run. Medians of several runs, after one unmeasured run of each to warm the file
// cache. The measurement runs in a private copy of the tree (sources, bin/, dist/, the configurations; node_modules
// linked), so that others' edits during the run cannot make dist/ stale half-way and switch bin/ to tsx unseen.
import { SOURCES, distIsFresh } from '../bin/launch.js';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
/** What bin/launch.js's freshness test reads (its SOURCES and the build's configuration), and what runs. */
const COPIED = [...SOURCES, 'bin', 'dist', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];

/** Each command: its bin/ entry and its source, as bin/<name>.js names it. */
export const COMMANDS: { name: string; source: string }[] = [
  { name: 'talas', source: 'tal/cli/talas' },
  { name: 'talcheck', source: 'tal/cli/talcheck' },
  { name: 'taldump', source: 'tal/cli/taldump' },
  { name: 'talrun', source: 'kernel/cli/talrun' },
  { name: 'popc', source: 'compiler/cli/popc' },
];

export interface StartupRow {
  /** The command. */
  what: string;
  /** Median wall-clock seconds from dist/ (through bin/), and through tsx; undefined when not measured. */
  distSeconds?: number;
  tsxSeconds?: number;
}

export interface StartupFigures {
  runs: number;
  nodeSeconds: number;
  commands: StartupRow[];
  /** Whether dist/ was fresh for the measurement, and how it got so ('fresh', 'built', or why it is not). */
  dist: string;
  /** The host's 1-minute load average at the start and end of the measurement. */
  load: [number, number];
}

const build = (cwd: string) => spawnSync('npm', ['run', 'build'], { cwd, encoding: 'utf8' }).status === 0;

/** Wall-clock seconds of one run of `node args` in `cwd`; throws if it fails. */
function timeOnce(args: string[], cwd: string): number {
  const t0 = performance.now();
  const p = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  const s = (performance.now() - t0) / 1000;
  if (p.status !== 0) throw new Error(`node ${args.join(' ')}: status ${p.status}: ${p.stderr}`);
  return s;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The median of `runs` timed runs, after one untimed (none at the test's smoke size: its figures mean nothing). */
function timed(args: string[], cwd: string, runs: number, warm = true): number {
  if (warm) timeOnce(args, cwd);
  return median(Array.from({ length: runs }, () => timeOnce(args, cwd)));
}

export function startupSuite(quick: boolean, log: (l: string) => void, smoke = false): StartupFigures {
  const runs = smoke ? 1 : quick ? 3 : 9;
  const load0 = loadavg()[0];
  // The brief's rule, the tree's own: build dist/ if it is missing or stale, so that bin/ runs it.
  let dist = 'fresh';
  if (!distIsFresh(root)) dist = build(root) && distIsFresh(root) ? 'built' : 'stale';
  const dir = mkdtempSync(join(tmpdir(), 'ktal-startup-'));
  try {
    for (const f of COPIED) {
      if (existsSync(join(root, f))) cpSync(join(root, f), join(dir, f), { recursive: true, preserveTimestamps: true });
    }
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    // A source edited between the check and the copy: build the copy (it is private; nobody edits it).
    if (!distIsFresh(dir)) dist = build(dir) && distIsFresh(dir) ? 'built' : 'stale (npm run build failed)';
    const nodeSeconds = timed(['-e', '0'], dir, runs, !smoke);
    const commands: StartupRow[] = [];
    for (const c of COMMANDS) {
      const row: StartupRow = { what: c.name };
      if (distIsFresh(dir)) row.distSeconds = timed([join('bin', `${c.name}.js`), '--version'], dir, runs, !smoke);
      row.tsxSeconds = timed(['--import', 'tsx', `${c.source}.ts`, '--version'], dir, runs, !smoke);
      commands.push(row);
      const ms = (s?: number) => (s === undefined ? '–' : `${(s * 1000).toFixed(0)} ms`);
      log(`  ${c.name.padEnd(9)} dist ${ms(row.distSeconds).padStart(8)}  tsx ${ms(row.tsxSeconds).padStart(8)}  ` +
        `(node -e 0 ${ms(nodeSeconds)})`);
    }
    return { runs, nodeSeconds, commands, dist, load: [load0, loadavg()[0]] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
