// Two builds of the checker compared in one process: `npx tsx bench/checker-ab.ts OLD_DIST NEW_DIST [ROUNDS]`, each a
// `dist/` directory (`npx tsc -p tsconfig.build.json`; copy main's aside before building a branch's). Both check
// bench's generated program (bench/gen.ts, 20,000 functions, as checkerSuite), alternating (which build goes first
// alternates too), ROUNDS times each after ten unmeasured rounds, and each check is timed both by the wall clock and
// by the process's CPU time (process.cpuUsage: on a shared machine the wall clock also counts the waits for a core,
// which neither build controls). Alternating is what makes the comparison fair on a machine whose load changes from
// minute to minute; the figure `npm run bench` reports is checkerSuite's (benny's mean, one build).
//
// The builds run in a plain node child, as talcheck runs them (and as checkerSuite times dist/): imported into this
// process, which runs under tsx, both went through tsx's loader, which rewrites every module it loads (a getter for
// every imported name), and two copies of the same build measured 400 and 215 ms of CPU time a check side by side.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { assemble } from '../tal/asm/assembler.ts';
import { generateProgram } from './gen.ts';

const [oldDir, newDir] = process.argv.slice(2, 4);
const rounds = Number(process.argv[4] ?? 30);
if (!oldDir || !newDir || !(rounds > 0)) {
  console.error('usage: tsx bench/checker-ab.ts OLD_DIST NEW_DIST [ROUNDS]');
  process.exit(2);
}

/** The child: loads both builds, checks the file alternately, prints one line per build and clock. */
const AB_CHILD = `
import { readFileSync } from 'node:fs';
const [elfFile, rounds, ...dirs] = process.argv.slice(1);
const builds = [];
for (const dir of dirs) {
  const { checkElf } = await import(dir);
  builds.push({ dir, checkElf, times: { wall: [], cpu: [] } });
}
const elf = new Uint8Array(readFileSync(elfFile));
let codeBytes = 0;
for (let i = 0; i < Number(rounds) + 10; i++) {
  for (const b of i % 2 === 0 ? builds : [...builds].reverse()) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    const r = b.checkElf(elf);
    const wall = performance.now() - t0, cpu = process.cpuUsage(c0);
    if (!r.ok) throw new Error(b.dir + ': the generated program is refused: ' + r.error.message);
    codeBytes = r.summary.codeBytes;
    if (i < 10) continue;
    b.times.wall.push(wall);
    b.times.cpu.push((cpu.user + cpu.system) / 1000);
  }
}
const mbps = ms => (codeBytes / ms / 1e3).toFixed(1);
for (const b of builds) {
  for (const kind of ['wall', 'cpu']) {
    const s = b.times[kind].slice().sort((x, y) => x - y);
    const mean = s.reduce((x, y) => x + y, 0) / s.length;
    console.log(b.dir.replace(/^file:\\/\\//, '').replace(/\\/tal\\/check\\/checker\\.js$/, '') + ' ' + kind +
      ': best ' + s[0].toFixed(1) + ' ms (' + mbps(s[0]) + ' MB/s of code), median ' + s[s.length >> 1].toFixed(1) +
      ' ms, mean ' + mean.toFixed(1) + ' ms (' + mbps(mean) + ' MB/s)');
  }
}
`;

const { elf } = assemble(generateProgram(20_000), 'generated.tal');
const tmp = mkdtempSync(join(tmpdir(), 'ktal-ab-'));
try {
  const file = join(tmp, 'generated');
  writeFileSync(file, elf);
  const checkers = [oldDir, newDir].map(d => pathToFileURL(resolve(d, 'tal', 'check', 'checker.js')).href);
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', AB_CHILD, file, String(rounds), ...checkers],
    { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
