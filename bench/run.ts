// npm run bench: every performance figure of the project in one run (bench/all.ts), and the report: bench/REPORT.md,
// bench/report.json and the charts bench/saving*.svg and bench/cycles-*.svg.
// Options: --quick (a small smoke run for CI, < 3 minutes; its report goes to bench/out/quick/), --out DIR;
// --popc-levels 0,2 (popc's optimisation levels the code-quality suite measures against gcc -O2; default 0,2, quick 0);
// --quality-only runs that suite alone and prints its section of the report (no files written);
// --render DIR re-writes DIR's REPORT.md and charts from its report.json (after a change to the report's text; the
// figures stay those of the run that wrote the JSON); --profiles P,Q runs those cost profiles only, and
// --simulation-only only the simulated workloads (find, echod), for a before/after of a change to the cost model.
// The last two are for partial runs: give them an --out DIR, so as not to replace the full report.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBench } from './all.ts';
import { writeReport, type BenchResults } from './report.ts';
import { qualitySuite } from './quality.ts';
import { qualitySection } from './quality-report.ts';
import { PROFILES } from '../emulator/profiles.ts';

const quick = process.argv.includes('--quick');
const i = process.argv.indexOf('--out');
const here = import.meta.dirname;
const reportDir = i > 0 ? process.argv[i + 1] : quick ? join(here, 'out', 'quick') : here;
const l = process.argv.indexOf('--popc-levels');
// By default a full run reports -O0 and -O2 side by side; a quick run only -O0.
const levelsText = l > 0 ? process.argv[l + 1] ?? '' : quick ? '0' : '0,2';
if (!/^\d(,\d)*$/.test(levelsText)) {
  console.error(`bench: --popc-levels takes popc's optimisation levels separated by commas (0,2), not '${levelsText}'`);
  process.exit(2);
}
const popcLevels = levelsText.split(',').map(Number);
const p = process.argv.indexOf('--profiles');
const profiles = p > 0 ? (process.argv[p + 1] ?? '').split(',') : undefined;
const unknown = profiles?.filter(name => !Object.hasOwn(PROFILES, name));
if (unknown?.length) {
  console.error(`bench: --profiles takes profile names separated by commas (${Object.keys(PROFILES).join(', ')}), ` +
    `not '${unknown.join(',')}'`);
  process.exit(2);
}
const simulationOnly = process.argv.includes('--simulation-only');
const r = process.argv.indexOf('--render');
if (process.argv.includes('--quality-only')) {
  console.log(qualitySection(qualitySuite({ quick, levels: popcLevels })).join('\n'));
} else if (r > 0) {
  const dir = process.argv[r + 1];
  const { checks: _,
    ...results } = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as BenchResults & { checks: unknown };
  console.log(`rendered: ${writeReport(results, dir).join(', ')}`);
} else {
  const t0 = performance.now();
  await runBench({ quick, reportDir, saveDir: join(here, 'out'), popcLevels, profiles, simulationOnly });
  console.log(`bench: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
