// An lmbench-style measurement of the host Linux kernel's own software costs, in core cycles.
// Run by hand: npx tsx bench/host/kwork.ts [--runs R]   (default 5 runs; about 7 s each)
// Builds bench/host/kwork.c with gcc -O2 (64-bit), runs it R times, and prints the median of each measure (null
// call, null I/O, stat, open+close, getdents64 per entry, file reread, poll per TCP fd, context switch, pipe and
// TCP latency) with the CPU model, the hypervisor flag and the kernel, then the derived per-operation costs in
// core cycles (ns x the core clock that kwork measures with a chain of dependent adds).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeHost, median, runsOption } from './hostinfo.ts';

const runs = runsOption(5);

const dir = mkdtempSync(join(tmpdir(), 'ktal-kwork-'));
try {
  const exe = join(dir, 'kwork');
  execFileSync('gcc', ['-O2', '-m64', '-Wall', '-Wextra', '-o', exe, join(import.meta.dirname, 'kwork.c')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });

  const samples = new Map<string, { unit: string; values: number[] }>();
  const remarks = new Set<string>();
  for (let r = 0; r < runs; r++) {
    const out = execFileSync(exe, { encoding: 'utf8', maxBuffer: 1 << 16 });
    for (const line of out.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('#')) {
        remarks.add(line.slice(1).trim());
        continue;
      }
      const m = /^(\w+) (\S+) (\S+)$/.exec(line);
      if (!m) throw new Error(`kwork: unparsable line ${JSON.stringify(line)}`);
      const value = Number(m[2]);
      if (!Number.isFinite(value)) throw new Error(`kwork: bad value in ${JSON.stringify(line)}`);
      const entry = samples.get(m[1]) ?? { unit: m[3], values: [] };
      entry.values.push(value);
      samples.set(m[1], entry);
    }
    process.stderr.write(`run ${r + 1}/${runs} done\n`);
  }

  const med = (name: string): number => {
    const e = samples.get(name);
    if (!e || e.values.length !== runs) throw new Error(`kwork: measure ${name} missing from some runs`);
    return median(e.values);
  };

  for (const line of describeHost()) console.log(line);
  for (const r of remarks) console.log(`note:      ${r}`);
  console.log(`${runs} runs; each figure is the median over runs of the per-run median of 7 timed loops\n`);

  console.log('measure                       median        unit   min .. max over runs');
  for (const [name, e] of samples) {
    const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(4));
    console.log(
      `${name.padEnd(24)} ${fmt(median(e.values)).padStart(12)} ${e.unit.padStart(11)}   ` +
        `${fmt(Math.min(...e.values))} .. ${fmt(Math.max(...e.values))}`,
    );
  }

  const ghz = med('core_ghz');
  const cyc = (ns: number) => ns * ghz;
  const nul = med('null_ns');
  const nullio = med('nullio_ns');
  const ctxsw = med('ctxsw_ns');
  const derived: [string, number, string][] = [
    ['null call (getppid)', cyc(nul), 'cycles'],
    ['syscall base = nullio - null', cyc(nullio - nul), 'cycles'],
    ['stat body = stat - null', cyc(med('stat_ns') - nul), 'cycles'],
    ['open+close body = openclose - 2 null', cyc(med('openclose_ns') - 2 * nul), 'cycles'],
    ['getdents per entry', cyc(med('getdents_entry_ns')), 'cycles'],
    ['copy per byte (file reread)', cyc(med('copy_ns_per_byte')), 'cycles'],
    ['poll per TCP fd', cyc(med('poll_tcp_fd_ns')), 'cycles'],
    ['context switch', cyc(ctxsw), 'cycles'],
    ['tcp per message = (tcp - 2 ctxsw - 4 nullio)/2', cyc((med('tcp_lat_ns') - 2 * ctxsw - 4 * nullio) / 2), 'cycles'],
  ];
  console.log(`\nderived, in core cycles at ${ghz.toFixed(3)} GHz`);
  for (const [label, v,
    unit] of derived) console.log(`${label.padEnd(48)} ${v.toFixed(v < 10 ? 3 : 0).padStart(9)} ${unit}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
