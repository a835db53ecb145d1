// Two builds of the checker compared in one process: `npx tsx bench/checker-ab.ts OLD_DIST NEW_DIST [ROUNDS]`, each a
// `dist/` directory (`npx tsc -p tsconfig.build.json`; copy main's aside before building a branch's). Both check
// bench's generated program (bench/gen.ts, 20,000 functions, as checkerSuite), alternating, ROUNDS times each after
// ten unmeasured rounds, and each check is timed both by the wall clock and by the process's CPU time
// (process.cpuUsage: on a shared machine the wall clock also counts the waits for a core, which neither build
// controls). Alternating is what makes the comparison fair on a machine whose load changes from minute to minute;
// the figure `npm run bench` reports is checkerSuite's (benny's mean, one build).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { assemble } from '../tal/asm/assembler.ts';
import type { checkElf } from '../tal/check/checker.ts';
import { generateProgram } from './gen.ts';

const [oldDir, newDir] = process.argv.slice(2, 4);
const rounds = Number(process.argv[4] ?? 30);
if (!oldDir || !newDir || !(rounds > 0)) {
  console.error('usage: tsx bench/checker-ab.ts OLD_DIST NEW_DIST [ROUNDS]');
  process.exit(2);
}
const load = async (dir: string) =>
  ((await import(pathToFileURL(resolve(dir, 'tal', 'check', 'checker.js')).href)) as { checkElf: typeof checkElf }).checkElf;
const builds = [{ dir: oldDir, check: await load(oldDir) }, { dir: newDir, check: await load(newDir) }];
const { elf } = assemble(generateProgram(20_000), 'generated.tal');
const times = builds.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
let codeBytes = 0;
for (let i = 0; i < rounds + 10; i++) {
  builds.forEach((b, k) => {
    const c0 = process.cpuUsage(), t0 = performance.now();
    const r = b.check(elf);
    const wall = performance.now() - t0, cpu = process.cpuUsage(c0);
    if (!r.ok) throw new Error(`${b.dir}: the generated program is refused: ${r.error.message}`);
    codeBytes = r.summary.codeBytes;
    if (i < 10) return;
    times[k].wall.push(wall);
    times[k].cpu.push((cpu.user + cpu.system) / 1000);
  });
}
const mbps = (ms: number) => (codeBytes / ms / 1e3).toFixed(1);
for (const [k, b] of builds.entries()) {
  for (const kind of ['wall', 'cpu'] as const) {
    const s = times[k][kind].slice().sort((x, y) => x - y);
    const mean = s.reduce((x, y) => x + y, 0) / s.length;
    console.log(`${b.dir} ${kind}: best ${s[0].toFixed(1)} ms (${mbps(s[0])} MB/s of code), median ` +
      `${s[s.length >> 1].toFixed(1)} ms, mean ${mean.toFixed(1)} ms (${mbps(mean)} MB/s)`);
  }
}
