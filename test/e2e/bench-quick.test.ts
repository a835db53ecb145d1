// The benchmark harness stays working: the quick run (bench/all.ts, as `npm run bench -- --quick` runs it), at the
// test's size (BenchOptions.smoke: every suite and path on the smallest inputs; the code-quality suite is
// test/bench/quality.test.ts's), writes a report that opens with its results (the savings beside the paper's, and
// why), then the commands' start-up times, then every workload in every mode under its profiles, a native reference
// for each, sane figures (the cycles by source add up to the busy cycles; kernel mode never retires more
// instructions than user mode for the same work; the same system calls in every mode), the JSON and the charts.
// Figures are not asserted against targets here: performance is measured by npm run bench.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench } from '../../bench/all.ts';
import { busy, sanityChecks, workSyscalls, type BenchResults } from '../../bench/report.ts';
import { COMMANDS } from '../../bench/startup.ts';
import { BUSY_SOURCES, MODES } from '../../bench/workload.ts';

const dir = mkdtempSync(join(tmpdir(), 'ktal-bench-quick-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('bench --quick (smoke size): a report with every workload and mode, sane figures, JSON and charts', async t => {
  const lines: string[] = [];
  const t0 = performance.now();
  await runBench({ quick: true, smoke: true, reportDir: dir, log: l => lines.push(l) });
  t.log(`smoke run: ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  const charts = ['saving.svg', 'saving-pti.svg', 'cycles-find.svg', 'cycles-echod.svg'];
  for (const f of ['REPORT.md', 'report.json', ...charts]) t.true(existsSync(join(dir, f)), f);
  type Json = BenchResults & { checks: { ok: boolean; what: string }[] };
  const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Json;
  const md = readFileSync(join(dir, 'REPORT.md'), 'utf8');

  const names = json.workloads.map(w => w.name);
  const expected = ['find-tmpfs-100', 'find-hostfs', 'echod-loopback-64B', 'echod-publish-64B'];
  t.deepEqual(names, expected);
  t.true(json.profiles.length >= 2);
  for (const w of names) {
    t.true(md.includes(`### ${w}`), `${w} has a section`);
    t.truthy(json.native.find(n => n.workload === w), `${w}: native run`);
    for (const p of json.profiles) {
      for (const m of MODES) {
        const s = json.sim.find(x => x.workload === w && x.profile === p && x.mode === m);
        if (!s) { t.fail(`${w} ${p} ${m}: missing`); continue; }
        t.true(s.cycles > 0 && s.instructions > 0 && s.syscalls > 0 && s.wallSeconds > 0, `${w} ${p} ${m}: figures`);
        // The stacked breakdown (what the report's tables and cycles-*.svg show) adds up to the busy cycles, and
        // with idle to all the cycles; no source is left out of the stack.
        const sum = busy(s).reduce((a, x) => a + x, 0);
        t.true(Math.abs(sum - s.cycles) < 0.5, `${w} ${p} ${m}: the sources add up to ${sum}, not ${s.cycles}`);
        t.true(Math.abs(sum + s.sources.halted - (s.cycles + s.haltedCycles)) < 0.5, `${w} ${p} ${m}: with idle`);
        t.deepEqual([...BUSY_SOURCES, 'halted'].sort(), Object.keys(s.sources).sort(), 'every source in the stack');
        t.true(s.sources.instructions > 0);
        if (m.startsWith('user')) {
          t.true(s.sources.trapEntries + s.sources.sysenters > 0, `${w} ${p} ${m}: crossings charged`);
        }
        // The kernel's own work is charged (every system call at least) and itemized by kind, the items adding up.
        const byKind = Object.values(s.kernelWorkByKind).reduce((a, x) => a + x.cycles, 0);
        t.is(s.kernelWorkByKind.syscall.units, s.syscalls, `${w} ${p} ${m}: one system-call charge per call`);
        t.true(byKind > 0 && Math.abs(s.sources.kernelWork - byKind) < 1e-6 * byKind,
          `${w} ${p} ${m}: kernel work ${s.sources.kernelWork}, by kind ${byKind}`);
      }
      for (const [u, k] of [['user', 'kernel'], ['user+pti', 'kernel+pti'], ['user-sysenter', 'kernel'],
        ['user-sysenter+pti', 'kernel+pti']] as const) {
        const su = json.sim.find(x => x.workload === w && x.profile === p && x.mode === u)!;
        const sk = json.sim.find(x => x.workload === w && x.profile === p && x.mode === k)!;
        t.true(sk.instructions <= su.instructions,
          `${w} ${p}: ${k} ${sk.instructions} > ${u} ${su.instructions} instructions`);
        t.is(workSyscalls(sk), workSyscalls(su), `${w} ${p}: system calls ${k} vs ${u}`);
        t.true(sk.traps + sk.sysenters < su.traps + su.sysenters, `${w} ${p}: ${k} crosses less often than ${u}`);
      }
    }
  }
  t.deepEqual(sanityChecks(json).filter(c => !c.ok), []);
  t.true(json.checks.every(c => c.ok));
  t.true(json.checker.checkerMBps > 0 && json.emulator.mips > 0);
  // Results first: the report's first section says what kernel mode saves on find and echod under each profile,
  // why, and beside the paper's figures, before any detail.
  const sections = [...md.matchAll(/^## (.+)$/gm)].map(x => x[1]);
  t.deepEqual(sections.slice(0, 3), ['Results', 'Start-up time', 'Detail'], 'results, then start-up, then detail');
  const opening = md.slice(md.indexOf('## Results'), md.indexOf('## Start-up time'));
  t.regex(opening, /\*\*simulated\*\*/);
  t.regex(opening, /\*\*find\*\*.*fewer busy cycles than user mode.*Why, under /);
  t.regex(opening, /\*\*echod\*\*.*per round trip.*Why, under .*system calls/);
  t.regex(opening, /crossings are [\d.]+% of/);
  t.regex(opening, /\| profile \| find: saving \| with --pti \| echod: saving per round trip \| with --pti \|/);
  const n = '-?[\\d.]+';
  for (const p of json.profiles) {
    t.regex(opening, new RegExp(`^\\| ${p} \\| ${n}% \\| ${n}% \\| ${n} µs \\| ${n} µs \\|$`, 'm'), p);
  }
  // The sensitivity table: the headline under each alternative choice, the run's own row first.
  t.regex(opening, /### How much each assumption moves the result/);
  t.regex(opening, /^\| as run \| the run: int 0x80, each profile's own figures \| -?[\d.]+% \| -?[\d.]+ µs \|/m);
  t.regex(opening, /^\| TLB miss \| [\d.]+ cycles \|/m);
  t.regex(opening, /\*14%\*/);
  t.regex(opening, /\*4 µs\*/);
  for (const c of charts) t.true(opening.includes(`![${c}](${c})`), `${c} in the results`);
  // The start-up table: every command from dist/ and through tsx, wall-clock, beside node -e 0.
  const startup = md.slice(md.indexOf('## Start-up time'), md.indexOf('## Detail'));
  t.regex(startup, /\*\*Wall-clock\*\*/);
  t.regex(startup, /^\| node -e 0 \| \d+ ms \| 1\.0× \|/m);
  t.truthy(json.startup && json.startup.nodeSeconds > 0);
  for (const c of COMMANDS) {
    const row = `^\\| ${c.name} \\| (\\d+ ms \\| [\\d.]+×|– \\| –) \\| \\d+ ms \\| [\\d.]+× \\|$`;
    t.regex(startup, new RegExp(row, 'm'), c.name);
  }
  // Which figures are simulated and which wall-clock: the percentiles say which clock they read.
  t.regex(md, /p50 \/ p99, simulated µs/);
  t.regex(md, /p50 \/ p99, host wall-clock µs/);
  t.regex(md, /## Notes/);
  const svg = readFileSync(join(dir, 'saving.svg'), 'utf8');
  t.regex(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  for (const p of json.profiles) t.true(svg.includes(p), `chart legend ${p}`);
  for (const c of charts) {
    const text = readFileSync(join(dir, c), 'utf8');
    // Text on the chart's own panel, dark on light and light on dark: no text coloured by a fixed fill.
    t.regex(text, /<rect class="bg"/, `${c}: a background panel`);
    t.regex(text, /prefers-color-scheme:dark/, `${c}: a dark scheme`);
    t.false(/<text(?![^>]*class=)/.test(text), `${c}: every text has a class`);
    t.regex(text, /font-weight="bold">[^<]*\(/, `${c}: an axis label with its unit`);
  }
  const stacked = readFileSync(join(dir, 'cycles-find.svg'), 'utf8');
  for (const l of ['instructions', 'trap entries', 'irets', 'kernel work', 'runtime (charged)']) {
    t.true(stacked.includes(`>${l}<`), `${l} in the legend`);
  }
});
