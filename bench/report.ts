// The report of a bench run: bench/REPORT.md (or the given directory's), results JSON, and SVG charts. Every figure
// comes from the run's results; the notes that explain the model quote the profiles' figures through the API.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { profileByName } from '../emulator/profiles.ts';
import type { CostProfile } from '../emulator/costs.ts';
import { WORK_KINDS, kernelWorkCosts, type WorkKind } from '../kernel/work.ts';
import { barChart } from './chart.ts';
import type { CheckerFigures } from './checker.ts';
import type { EmulatorFigures } from './emulator.ts';
import { type Breakdown, type Mode, type NativeRun, type SimRun, type WorkloadInfo } from './workload.ts';

export interface BenchResults {
  generatedAt: string;
  quick: boolean;
  host: { cpus: number; cpuModel: string; node: string };
  profiles: string[];
  modes: readonly Mode[];
  workloads: WorkloadInfo[];
  sim: SimRun[];
  native: NativeRun[];
  checker: CheckerFigures;
  emulator: EmulatorFigures;
  /** Wall time of each part of the run, seconds. */
  timings: Record<string, number>;
}

/** The paper's figures, as the issue quotes them. */
export const PAPER = { findSpeedupPercent: 14, echodRoundTripSavingMicros: 4 };

export function find(r: BenchResults, workload: string, profile: string, mode: Mode): SimRun | undefined {
  return r.sim.find(s => s.workload === workload && s.profile === profile && s.mode === mode);
}

/** kernel / user busy cycles (with or without --pti) for one workload and profile. */
export function ratio(r: BenchResults, workload: string, profile: string, pti = false): number | undefined {
  const u = find(r, workload, profile, pti ? 'user+pti' : 'user'), k = find(r, workload, profile, pti ? 'kernel+pti' : 'kernel');
  return u && k ? k.cycles / u.cycles : undefined;
}

/**
 * System calls whose number depends on how the two processes of an echod run interleave, not on the work: echod
 * waits in poll and reads until a read finds no data (EAGAIN); pingpong reads until its echo is whole. Where the
 * timer's ticks fall differs with the cycles (so between modes and profiles), and a tick that switches tasks at
 * another moment can add or save a wake-up or an empty read. Their counts may differ by no more than the number of
 * timer ticks (+ 2); all others must be equal.
 */
export const WAITING = ['poll', 'recvfrom'];
export const workSyscalls = (s: SimRun) => Object.entries(s.syscallsByName).reduce((a, [n, c]) => a + (WAITING.includes(n) ? 0 : c), 0);
export const waitingSyscalls = (s: SimRun) => Object.entries(s.syscallsByName).reduce((a, [n, c]) => a + (WAITING.includes(n) ? c : 0), 0);

export interface Check { ok: boolean; what: string }

/**
 * The report's sanity checks: every workload has a run in every mode under every profile and a native run; kernel
 * mode never retires more instructions than user mode for the same work; system calls are equal across modes.
 */
export function sanityChecks(r: BenchResults): Check[] {
  const checks: Check[] = [];
  for (const w of r.workloads) {
    checks.push({ ok: r.native.some(n => n.workload === w.name), what: `${w.name}: a native run` });
    for (const p of r.profiles) {
      const runs = r.modes.map(m => find(r, w.name, p, m));
      checks.push({ ok: runs.every(x => x !== undefined && x.cycles > 0 && x.instructions > 0), what: `${w.name} ${p}: a run in each mode (${r.modes.join(', ')})` });
      for (const pti of [false, true]) {
        const u = find(r, w.name, p, pti ? 'user+pti' : 'user'), k = find(r, w.name, p, pti ? 'kernel+pti' : 'kernel');
        if (u && k) checks.push({ ok: k.instructions <= u.instructions, what: `${w.name} ${p}${pti ? ' --pti' : ''}: kernel mode's instructions (${k.instructions}) ≤ user mode's (${u.instructions})` });
      }
      const present = runs.filter((x): x is SimRun => !!x);
      const counts = present.map(workSyscalls), waits = present.map(waitingSyscalls);
      checks.push({ ok: counts.length > 0 && counts.every(c => c === counts[0]), what: `${w.name} ${p}: the same number of system calls in every mode, ${WAITING.join(' and ')} aside (${counts.join(', ')})` });
      const lo = Math.min(...waits), hi = Math.max(...waits), ticks = Math.max(...present.map(x => x.timerInterrupts));
      if (w.kind === 'find') {
        // The same work in every mode: the kernel's own work, unit by unit (echod's waits vary with the ticks).
        const units = present.map(x => WORK_KINDS.map(kd => x.kernelWorkByKind[kd].units).join('/'));
        checks.push({ ok: units.every(u => u === units[0]), what: `${w.name} ${p}: the kernel's own work is the same in every mode, unit by unit (${units[0]})` });
      }
      checks.push({ ok: hi - lo <= ticks + 2, what: `${w.name} ${p}: ${WAITING.join(' and ')} differ across modes by at most the timer ticks + 2 (${waits.join(', ')}; ${ticks} ticks)` });
    }
  }
  return checks;
}

const int = (x: number) => Math.round(x).toLocaleString('en');
const fx = (x: number | undefined, d = 3) => (x === undefined ? '–' : x.toFixed(d));
const pct = (x: number, of: number) => (of ? `${((100 * x) / of).toFixed(1)}%` : '–');
const us = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : x >= 10 ? `${x.toFixed(1)} µs` : `${x.toFixed(2)} µs`);

const BREAKDOWN_LABELS: [keyof Breakdown, string][] = [
  ['instructions', 'instruction cycles'], ['trapEntry', 'trap entry'], ['iret', 'iret'], ['kernelWork', 'kernel work'],
  ['tlbMisses', 'TLB misses'], ['cr3Writes', 'CR3 writes'], ['isolation', 'isolation'], ['other', 'other charges'],
];

function profileTable(names: string[]): string[] {
  const ps: CostProfile[] = names.map(profileByName);
  const row = (label: string, f: (p: CostProfile) => string) => `| ${label} | ${ps.map(f).join(' | ')} |`;
  return [
    `| figure (cycles) | ${ps.map(p => `\`${p.name}\``).join(' | ')} |`,
    `|---|${ps.map(() => '---:').join('|')}|`,
    row('ALU / load / store / branch', p => `${p.insn[0]} / ${p.insn[1]} / ${p.insn[2]} / ${p.insn[5]}`),
    row('mul / div', p => `${p.insn[3]} / ${p.insn[4]}`),
    row('trap entry', p => String(p.trapEntry)),
    row('iret', p => String(p.iret)),
    row('TLB miss', p => String(p.tlbMiss)),
    row('CR3 write', p => String(p.cr3Write)),
    row('isolation per crossing', p => String(p.isolationPerCrossing)),
    row('kernel call', p => String(p.kernelCall)),
  ];
}

const WORK_LABELS: Record<WorkKind, string> = {
  syscall: 'system call (dispatch, fdget)', pathComponent: 'path component', openFile: 'open (file, descriptor, close)',
  copyByte: 'byte copied to or from user memory', dirEntry: 'getdents64 record', pollFd: 'descriptor polled',
  tcpSend: 'TCP send', tcpReceive: 'TCP receive', contextSwitch: 'context switch (less the CR3 write)',
};

/** The kernel-work figures of each profile (kernel/work.ts), read at run time. */
function kernelWorkTable(names: string[]): string[] {
  const cs = names.map(kernelWorkCosts);
  const fmt = (v: number) => (v === 0 ? '0' : v < 10 ? v.toFixed(3) : v.toFixed(0));
  return [
    `| kernel work, cycles per | ${names.map(n => `\`${n}\``).join(' | ')} |`,
    `|---|${names.map(() => '---:').join('|')}|`,
    ...WORK_KINDS.map(k => `| ${WORK_LABELS[k]} | ${cs.map(c => fmt(c[k])).join(' | ')} |`),
    '',
    ...[...new Set(cs.map(c => c.source))].map(s => `- ${s}`),
  ];
}

/** Whether a profile prices the kernel's own work (`unit` does not). */
const chargesKernelWork = (profile: string) => WORK_KINDS.some(k => kernelWorkCosts(profile)[k] > 0);

/** The kernel's own work in user mode by kind: the units done and, under each profile, the cycles charged. */
function workByKindTable(r: BenchResults, w: WorkloadInfo): string[] {
  const runs = r.profiles.map(p => find(r, w.name, p, 'user')).filter((x): x is SimRun => !!x && chargesKernelWork(x.profile));
  if (runs.length === 0) return [];
  const kinds = WORK_KINDS.filter(k => runs[0].kernelWorkByKind[k].units > 0);
  return [
    `The kernel's own work in user mode (kernel mode does the same work; kernel/work.ts): units done under ${runs[0].profile}, cycles under each profile.`, '',
    `| unit of work | units | ${runs.map(x => `cycles (${x.profile})`).join(' | ')} |`,
    `|---|---:|${runs.map(() => '---:').join('|')}|`,
    ...kinds.map(k => `| ${WORK_LABELS[k]} | ${int(runs[0].kernelWorkByKind[k].units)} | ${runs.map(x => int(x.kernelWorkByKind[k].cycles)).join(' | ')} |`),
  ];
}

export function renderReport(r: BenchResults, charts: string[]): string {
  const L: string[] = [];
  const total = Object.values(r.timings).reduce((a, b) => a + b, 0);
  const checks = sanityChecks(r);
  const failed = checks.filter(c => !c.ok);
  L.push('# ktal performance report', '');
  L.push(`Generated by \`npm run bench${r.quick ? ' -- --quick' : ''}\` on ${r.generatedAt} (${r.host.cpuModel}, ${r.host.cpus} CPUs, Node ${r.host.node}); ` +
    `the run took ${(total / 60).toFixed(1)} minutes (${Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ')}). ` +
    'Every number below is written by the run (bench/report.ts); the machine-readable results are in `report.json` beside this file.' +
    (r.quick ? ' **This is a quick run**: small trees, few round trips, two profiles; the figures are for smoke-testing only.' : ''), '');
  L.push(`Sanity checks: ${checks.length - failed.length} of ${checks.length} pass${failed.length ? ` — **failing**: ${failed.map(c => c.what).join('; ')}` : ''}.`, '');

  // ---- summary ----
  L.push('## Kernel mode against user mode', '');
  L.push('Busy cycles (the machine\'s cycles while not halted) of the run (for echod, of the round trips alone; see each workload), kernel mode over user mode under each profile, without and with `--pti`. Below 1: kernel mode is cheaper. Simulated time is busy cycles over the kernel\'s 2.4 GHz clock.', '');
  L.push('| workload | profile | user cycles | kernel cycles | kernel / user | user+pti cycles | kernel+pti cycles | kernel+pti / user+pti | user time | kernel time | emulator wall kernel / user |');
  L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const w of r.workloads) {
    for (const p of r.profiles) {
      const g = (m: Mode) => find(r, w.name, p, m);
      const u = g('user'), k = g('kernel'), up = g('user+pti'), kp = g('kernel+pti');
      L.push(`| ${w.name} | ${p} | ${u ? int(u.cycles) : '–'} | ${k ? int(k.cycles) : '–'} | ${fx(ratio(r, w.name, p))} | ${up ? int(up.cycles) : '–'} | ${kp ? int(kp.cycles) : '–'} | ${fx(ratio(r, w.name, p, true))} | ${u ? us(u.simulatedMicros) : '–'} | ${k ? us(k.simulatedMicros) : '–'} | ${u && k ? fx(k.wallSeconds / u.wallSeconds, 2) : '–'} |`);
    }
  }
  L.push('');
  if (r.profiles.includes('modern') && r.profiles.includes('modern-pti')) {
    L.push('Under `--pti` the `modern-pti` and `modern` rows agree: with real page-table isolation the kernel does the CR3 switches (charged as CR3 writes and the TLB misses they cause) and drops the profile\'s flat per-crossing charge, so the two profiles price the same events alike. Without `--pti`, `modern-pti` is the flat estimate of the same isolation.', '');
  }
  for (const c of charts) L.push(`![${c}](${c})`, '');

  // ---- the paper ----
  L.push('## Beside the paper', '');
  L.push(`The paper's figures as issue 7 quotes them: kernel mode **${PAPER.findSpeedupPercent}%** faster, and **${PAPER.echodRoundTripSavingMicros} µs** saved per round trip. ` +
    'Ours: the saving in busy cycles of find over the largest generated tmpfs tree, and the saving per round trip of echod over loopback with 64 B messages (simulated time: the round trips\' busy cycles over the 2.4 GHz clock, divided by their number).', '');
  const findW = [...r.workloads].filter(w => w.name.startsWith('find-tmpfs')).pop();
  const echoW = r.workloads.find(w => w.name === 'echod-loopback-64B');
  L.push(`| profile | ${findW?.name ?? 'find'}: 1 − kernel/user | with --pti | paper | ${echoW?.name ?? 'echod'}: user − kernel per round trip | with --pti | paper |`);
  L.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const p of r.profiles) {
    const f = findW && ratio(r, findW.name, p), fp = findW && ratio(r, findW.name, p, true);
    const e = (m: Mode) => (echoW ? find(r, echoW.name, p, m)?.extra.perRoundTripMicros as number | undefined : undefined);
    const d = (a?: number, b?: number) => (a !== undefined && b !== undefined ? `${(a - b).toFixed(2)} µs (${a.toFixed(2)} → ${b.toFixed(2)})` : '–');
    L.push(`| ${p} | ${f !== undefined ? `${(100 * (1 - f)).toFixed(1)}%` : '–'} | ${fp !== undefined ? `${(100 * (1 - fp)).toFixed(1)}%` : '–'} | ${PAPER.findSpeedupPercent}% | ${d(e('user'), e('kernel'))} | ${d(e('user+pti'), e('kernel+pti'))} | ${PAPER.echodRoundTripSavingMicros} µs |`);
  }
  L.push('', 'The paper\'s machine and workloads are not ours (see the notes); the comparison is of direction and size, not a reproduction.', '');

  // ---- per workload ----
  L.push('## Each workload', '');
  L.push('Cycles by source: *instructions* are all retired instructions (the program\'s and the kernel\'s entry code) by class × the profile\'s per-class figure; *trap entry* and *iret* are IDT deliveries (system calls, faults, timer interrupts) and returns; *kernel work* is what the kernel charged for its own work (`stats.kernelWork`: system calls, path components, opens, bytes copied, directory records, polled descriptors, TCP sends and receives, context switches, each priced by `kernel/work.ts`; the same in every mode) plus kernel-function calls × `kernelCall`; *TLB misses*, *CR3 writes* and *isolation* (the flat per-crossing KPTI charge of `modern-pti`, dropped by the kernel under real `--pti`) are counts × figures; *other charges* is whatever the machine charged beyond these (today: the kernel-mode runtime\'s array fills, charged as cycles instead of executed). Shares are of busy cycles.', '');
  for (const w of r.workloads) {
    L.push(`### ${w.name}`, '', w.description + '.', '');
    const nat = r.native.find(n => n.workload === w.name);
    if (nat) {
      const extra = Object.entries(nat.extra).map(([k, v]) => `${k} ${v}`).join(', ');
      L.push(`Natively on this host (the same ELF${w.kind === 'echod' ? 's over the host\'s loopback' : ''}): ${(nat.wallSeconds * 1000).toFixed(2)} ms wall${extra ? ` (${extra})` : ''}.`, '');
    }
    L.push(`| profile | mode | busy cycles | simulated | instructions | system calls | ${BREAKDOWN_LABELS.map(([, l]) => l).join(' | ')} | emulator wall | ${w.kind === 'echod' ? 'p50 / p99 µs | per trip (simulated)' : 'lines'} |`);
    L.push(`|---|---|---:|---:|---:|---:|${BREAKDOWN_LABELS.map(() => '---:').join('|')}|---:|---:|${w.kind === 'echod' ? '---:|' : ''}`);
    for (const p of r.profiles) {
      for (const m of r.modes) {
        const s = find(r, w.name, p, m);
        if (!s) continue;
        const parts = BREAKDOWN_LABELS.map(([k]) => (s.breakdown[k] ? `${int(s.breakdown[k])} (${pct(s.breakdown[k], s.cycles)})` : '0'));
        const tail = w.kind === 'echod' ? `${s.extra.p50Us} / ${s.extra.p99Us} | ${us(Number(s.extra.perRoundTripMicros))}` : String(s.extra.lines);
        L.push(`| ${p} | ${m} | ${int(s.cycles)} | ${us(s.simulatedMicros)} | ${int(s.instructions)} | ${s.syscalls} | ${parts.join(' | ')} | ${s.wallSeconds.toFixed(2)} s | ${tail} |`);
      }
    }
    L.push('');
    L.push(...workByKindTable(r, w), '');
    if (w.name.startsWith('echod-publish')) L.push('Through --publish the counters cover the round trips only (from echod waiting in `accept` to the end); p50/p99 are pingpong\'s own figures on the host, in host wall-clock µs, so they measure the emulator and its host loop, not the simulated machine.', '');
    if (w.name.startsWith('echod-loopback')) L.push('Over loopback the counters cover the round trips only: a run of N + 1 round trips less a run of 1 (both programs\' start, their buffer allocations, the connection, the first round trip). p50/p99 are pingpong\'s own figures from the guest\'s clock_gettime, in whole simulated µs; *per trip* is the round trips\' busy cycles over the clock, divided by N. The emulator\'s wall time is that of the N + 1 run.', '');
  }

  // ---- checker and emulator ----
  L.push('## The checker and the emulator', '');
  const c = r.checker;
  const whole = c.fileBytes && c.checkerFileMBps ? `, ${c.checkerFileMBps.toFixed(1)} MB/s of the whole ${int(c.fileBytes)}-byte file` : '';
  const od = c.objdumpSeconds && c.fileBytes && c.checkerFileMBps
    ? ` \`objdump -d\` over the same file in the same run: ${c.objdumpSeconds.toFixed(2)} s, so the checker takes ${(c.fileBytes / 1e6 / c.checkerFileMBps / c.objdumpSeconds).toFixed(2)}× objdump's time.`
    : '';
  L.push(`Checker: **${c.checkerMBps.toFixed(1)} MB/s** of code${whole} (checkElf over ${int(c.codeBytes)} bytes of code, benny).${od}`, '');
  L.push(`Emulator: **${r.emulator.mips.toFixed(1)} MIPS** overall (runElf, compute-bound programs); against the same ELFs natively:`, '');
  L.push('| program | instructions | emulated s | MIPS | native s | emulated / native |', '|---|---:|---:|---:|---:|---:|');
  for (const [n, p] of Object.entries(r.emulator.programs)) L.push(`| ${n} | ${int(p.instructions)} | ${p.emulatedSeconds} | ${p.mips} | ${p.nativeSeconds} | ${p.ratio}× |`);
  L.push('');
  const allInsns = r.sim.reduce((a, s) => a + s.instructions, 0), allWall = r.sim.reduce((a, s) => a + s.wallSeconds, 0);
  L.push(`Across the ${r.sim.length} simulated runs above, the emulator retired ${int(allInsns)} instructions in ${allWall.toFixed(1)} s of run time (${(allInsns / allWall / 1e6).toFixed(1)} MIPS, kernel TypeScript work included, so lower than the compute-bound figure).`, '');

  // ---- notes ----
  L.push('## Notes', '');
  L.push('### The profiles\' figures', '', ...profileTable(r.profiles), '');
  L.push('Each figure\'s source is in `emulator/profiles.ts` and `docs/machine.md`. The table above is read from the profiles at run time.', '');
  L.push('### The kernel\'s own work', '', 'The kernel is TypeScript, so it charges cycles for its work as it does it (`kernel/work.ts`), by these figures, derived in `docs/machine.md` ("The kernel\'s own work") from lmbench on a Pentium 4 under Linux 2.4 (the paper\'s era) and from the same measurements made on this host by `bench/host/kwork.c` (today\'s kernels):', '', ...kernelWorkTable(r.profiles), '');
  L.push('### What the cycle model includes and leaves out', '');
  L.push('- **Included**: every retired instruction, priced by class; every IDT delivery (`int 0x80`, page faults, timer interrupts) and every `iret`; TLB misses (a two-level walk); CR3 writes (address-space switches, and the two at each crossing under real `--pti`); a flat per-crossing charge where a profile models isolation without doing it (`modern-pti`); calls into the kernel\'s TypeScript functions; **the kernel\'s own work**, which is TypeScript here and so is charged per piece of work done by figures derived from measurements of a real Linux (the table above); and the kernel-mode runtime\'s fill loops (`other charges`).');
  L.push('- **Left out**: caches, pipelining, out-of-order overlap and branch prediction (each instruction costs its class\'s latency); the indirect cost of a crossing (pipeline flush, cache and TLB pollution); the kernel\'s entry and exit software of a real OS (saving registers, pending-work checks, mitigations: the kernel here charges its work, not a real kernel\'s entry path); frequency (a cycle of one profile is not a cycle of another; we convert both at 2.4 GHz). Caches and pipelines act alike on the same code in both modes. The omissions that differ between the modes (the crossing\'s indirect cost, the entry software) would add to user mode only, so they understate kernel mode\'s saving. The kernel\'s own work is priced per unit (a path component, a byte, a record, a TCP segment) from averages: a real kernel\'s cost per unit varies with caches, path shapes and lock contention, which the flat figures do not follow; the same figures apply in both modes, so they move the ratios, never the absolute savings.');
  L.push('- **The emulator\'s wall time** measures this implementation, not the simulated machine: the kernel\'s TypeScript work costs wall time but no cycles unless it charges them, so the wall-time ratio is not the simulated ratio (and it moves with the host\'s load).', '');
  L.push('### Where each cost comes from', '');
  L.push('- *Trap entry + iret*: user mode pays one pair per system call made through `int 0x80` (and per fault and timer tick); kernel mode calls the kernel directly, so only faults and timer ticks remain. This is most of kernel mode\'s saving.');
  L.push('- *CR3 writes and TLB misses*: process switches (echod and its client are two processes) and, under `--pti`, two CR3 writes per crossing plus the TLB refills the switches cause (the kernel\'s mappings are not global under PTI). Kernel-mode tasks do not switch page tables at each crossing, so `--pti` costs them almost nothing.');
  const kwShare = (w: WorkloadInfo | undefined) => r.profiles.filter(chargesKernelWork).map(p => {
    const u = w ? find(r, w.name, p, 'user') : undefined;
    return u ? `${pct(u.breakdown.kernelWork, u.cycles)} under ${p}` : '';
  }).filter(Boolean).join(', ');
  L.push(`- *Kernel work*: the same in every mode (the same implementation does the same work): in user mode ${kwShare(echoW)} of ${echoW?.name ?? 'echod'}\'s cycles (TCP, poll, two context switches a round trip), and ${kwShare(findW)} of ${findW?.name ?? 'find'}\'s (path walks, directory records, copies). It is the total against which the crossings\' share is measured.`);
  L.push('- *Instructions*: the same program code in both modes; user mode additionally executes its runtime\'s fill loops and the system-call stubs\' `int 0x80` sequences, which kernel mode replaces by direct calls and charged fills.', '');
  L.push('### The modern profile against the paper-era profile', '');
  const ex = findW?.name;
  const modernLine: string[] = [];
  for (const p of r.profiles) if (ex && ratio(r, ex, p) !== undefined) modernLine.push(`${p} ${fx(ratio(r, ex, p))}`);
  const share = (p: string) => {
    const u = ex ? find(r, ex, p, 'user') : undefined;
    return u ? (u.breakdown.trapEntry + u.breakdown.iret + u.breakdown.isolation) / u.cycles : undefined;
  };
  const crossing = (name: string) => { const p = profileByName(name); return p.trapEntry + p.iret + 2 * p.isolationPerCrossing; };
  L.push(`On ${ex ?? 'find'} the kernel/user ratio is ${modernLine.join(', ')}; the crossings (trap entry, iret and the flat isolation charge) are ` +
    `${r.profiles.map(p => `${(100 * (share(p) ?? 0)).toFixed(1)}% of user mode's cycles under ${p}`).join(', ')}. ` +
    `A round trip into the kernel and back costs ${r.profiles.map(p => `${crossing(p)} cycles under ${p}`).join(', ')}, ` +
    'while the Skylake profiles\' ordinary instructions cost more cycles than the Pentium 4\'s (the figures above: the Pentium 4\'s double-pumped ALU does an operation in half a cycle and its L1 load takes two; Skylake\'s take one and four), ' +
    'so the crossings are a smaller share of a modern run and kernel mode saves less. ' +
    'Page-table isolation (the flat charge of `modern-pti`, or real CR3 switches with `--pti`) puts cost back on user mode\'s crossings only, so with isolation kernel mode saves more again. ' +
    'The modern profiles price the hardware crossing only; a modern kernel\'s software entry path and its mitigations (docs/machine.md measures about 165 ns for getpid through `syscall` on this host) are not in the model, so the modern figures understate what kernel mode would save on a real modern kernel.', '');
  L.push('### Sanity checks', '');
  for (const c of checks) L.push(`- ${c.ok ? 'ok' : '**FAIL**'}: ${c.what}`);
  L.push('');
  return L.join('\n');
}

/** Writes REPORT.md, results.json and the charts into `dir`. Returns the paths written. */
export function writeReport(r: BenchResults, dir: string): string[] {
  const groups = r.workloads.map(w => w.name);
  const charts: [string, string][] = [
    ['ratios.svg', barChart('kernel mode / user mode, busy cycles', groups, r.profiles.map(p => ({ name: p, values: groups.map(g => ratio(r, g, p)) })), { reference: 1, axisLabel: 'kernel / user (below 1: kernel mode cheaper)' })],
    ['ratios-pti.svg', barChart('kernel mode / user mode with --pti, busy cycles', groups, r.profiles.map(p => ({ name: p, values: groups.map(g => ratio(r, g, p, true)) })), { reference: 1, axisLabel: 'kernel+pti / user+pti' })],
  ];
  const written: string[] = [];
  for (const [name, svg] of charts) { writeFileSync(join(dir, name), svg); written.push(join(dir, name)); }
  writeFileSync(join(dir, 'report.json'), JSON.stringify({ ...r, checks: sanityChecks(r) }, null, 1) + '\n');
  writeFileSync(join(dir, 'REPORT.md'), renderReport(r, charts.map(c => c[0])));
  written.push(join(dir, 'report.json'), join(dir, 'REPORT.md'));
  return written;
}
