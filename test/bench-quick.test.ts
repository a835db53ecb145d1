// The benchmark harness stays working: the quick run (bench/all.ts, as `npm run bench -- --quick` runs it) writes a
// report with every workload in every mode under its profiles, a native reference for each, sane figures (kernel
// mode never retires more instructions than user mode for the same work; the same system calls in every mode), the
// JSON and the charts. Figures are not asserted against targets here: performance is measured by npm run bench.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench } from '../bench/all.ts';
import { sanityChecks, workSyscalls, type BenchResults } from '../bench/report.ts';
import { MODES } from '../bench/workload.ts';

const dir = mkdtempSync(join(tmpdir(), 'ktal-bench-quick-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('bench --quick: a report with every workload and mode, sane figures, JSON and charts', async t => {
  const lines: string[] = [];
  const t0 = performance.now();
  const { results } = await runBench({ quick: true, reportDir: dir, log: l => lines.push(l) });
  const seconds = (performance.now() - t0) / 1000;
  t.log(`quick run: ${seconds.toFixed(0)} s`);
  t.true(seconds < 180, `the quick run took ${seconds.toFixed(0)} s`);

  for (const f of ['REPORT.md', 'report.json', 'ratios.svg', 'ratios-pti.svg']) t.true(existsSync(join(dir, f)), f);
  const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as BenchResults & { checks: { ok: boolean; what: string }[] };
  const md = readFileSync(join(dir, 'REPORT.md'), 'utf8');

  const names = json.workloads.map(w => w.name);
  const expected = ['find-tmpfs-1k', 'find-tmpfs-3k', 'find-hostfs', 'echod-loopback-64B', 'echod-loopback-4KiB', 'echod-publish-64B', 'echod-publish-4KiB'];
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
        // The breakdown accounts for the busy cycles.
        const sum = Object.values(s.breakdown).reduce((a, x) => a + x, 0);
        t.true(Math.abs(sum - s.cycles) <= 1e-6 * s.cycles + 1, `${w} ${p} ${m}: breakdown ${sum} ≠ ${s.cycles}`);
        t.true(s.breakdown.instructions > 0);
        if (m.startsWith('user')) t.true(s.breakdown.trapEntry > 0, `${w} ${p} ${m}: traps charged`);
        // The kernel's own work is charged (every system call at least) and itemized by kind.
        const byKind = Object.values(s.kernelWorkByKind).reduce((a, x) => a + x.cycles, 0);
        t.is(s.kernelWorkByKind.syscall.units, s.syscalls, `${w} ${p} ${m}: one system-call charge per call`);
        t.true(byKind > 0 && s.breakdown.kernelWork >= byKind, `${w} ${p} ${m}: kernel work ${byKind}`);
      }
      for (const [u, k] of [['user', 'kernel'], ['user+pti', 'kernel+pti']] as const) {
        const su = json.sim.find(x => x.workload === w && x.profile === p && x.mode === u)!;
        const sk = json.sim.find(x => x.workload === w && x.profile === p && x.mode === k)!;
        t.true(sk.instructions <= su.instructions, `${w} ${p}: ${k} ${sk.instructions} > ${u} ${su.instructions} instructions`);
        t.is(workSyscalls(sk), workSyscalls(su), `${w} ${p}: system calls ${k} vs ${u}`);
        t.true(sk.traps < su.traps, `${w} ${p}: ${k} takes fewer traps than ${u}`);
      }
    }
  }
  t.deepEqual(sanityChecks(json).filter(c => !c.ok), []);
  t.true(json.checks.every(c => c.ok));
  t.true(json.checker.checkerMBps > 0 && json.emulator.mips > 0);
  t.regex(md, /## Beside the paper/);
  t.regex(md, /14%/);
  t.regex(md, /4 µs/);
  t.regex(md, /## Notes/);
  const svg = readFileSync(join(dir, 'ratios.svg'), 'utf8');
  t.regex(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  for (const p of json.profiles) t.true(svg.includes(p), `chart legend ${p}`);
  t.false(/fill="(#000|#000000|black|#fff|#ffffff|white)"/.test(svg), 'no pure black or white, so it reads on both backgrounds');
});
