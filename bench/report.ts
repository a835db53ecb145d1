// The report of a bench run: REPORT.md (in bench/, or the given directory), report.json and the SVG charts. It
// opens with the results (what kernel mode saves on find and on echod under each profile, and why), then the
// commands' start-up times, then the detail. Every figure comes from the run's results; the notes that explain the
// model quote the profiles' figures through the API. Each figure says whether it is simulated (the emulated
// machine's cycles, or time at its clock) or wall-clock (measured on this host: the emulator, native runs, start-up).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALTERNATIVES, profileByName } from '../emulator/profiles.ts';
import type { CostProfile } from '../emulator/costs.ts';
import { P4_ALTERNATIVE_WORK, WORK_KINDS, kernelWorkCosts, type WorkKind } from '../kernel/work.ts';
import { SYSCALL_VECTOR } from '../kernel/entry.ts';
import { barChart, stackedChart, type StackRow } from './chart.ts';
import type { CheckerFigures } from './checker.ts';
import type { EmulatorFigures } from './emulator.ts';
import type { StartupFigures } from './startup.ts';
import type { QualityFigures } from './quality.ts';
import { qualitySection } from './quality-report.ts';
import { popcLevelsSection, type PopcLevelsFigures } from './popc-levels.ts';
import {
  BUSY_SOURCES, userMode, type Baseline, type BusySource, type Mode, type NativeRun, type SimRun, type WorkloadInfo,
} from './workload.ts';

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
  /** The commands' start-up times (absent when the run skipped them). */
  startup?: StartupFigures;
  /** popc's code against gcc -O2's (absent when the run skipped it). */
  quality?: QualityFigures;
  /** find and echod compiled by popc at -O0 and -O2 (full runs only). */
  popcLevels?: PopcLevelsFigures;
  /** Wall time of each part of the run, seconds. */
  timings: Record<string, number>;
}

/** The paper's figures, as the issue quotes them. */
export const PAPER = { findSpeedupPercent: 14, echodRoundTripSavingMicros: 4 };

export function find(r: BenchResults, workload: string, profile: string, mode: Mode): SimRun | undefined {
  return r.sim.find(s => s.workload === workload && s.profile === profile && s.mode === mode);
}

/**
 * kernel / user busy cycles (with or without --pti) for one workload and profile; user mode entering the kernel by
 * int 0x80 unless the baseline says sysenter.
 */
export function ratio(r: BenchResults, workload: string, profile: string, pti = false,
  baseline: Baseline = 'int80'): number | undefined {
  const u = find(r, workload, profile, userMode(baseline, pti));
  const k = find(r, workload, profile, pti ? 'kernel+pti' : 'kernel');
  return u && k ? k.cycles / u.cycles : undefined;
}

/** Kernel mode's saving in percent of user mode's busy cycles: 100 · (1 − kernel/user). */
export function saving(r: BenchResults, workload: string, profile: string, pti = false,
  baseline: Baseline = 'int80'): number | undefined {
  const q = ratio(r, workload, profile, pti, baseline);
  return q === undefined ? undefined : 100 * (1 - q);
}

/** Simulated µs per round trip of an echod run. */
const perTrip = (s: SimRun | undefined) => s?.extra.perRoundTripMicros as number | undefined;
/** Simulated µs per round trip in user mode and in kernel mode (both with --pti, or neither). */
const tripPair = (r: BenchResults, w: string, p: string, pti: boolean, baseline: Baseline = 'int80') =>
  [perTrip(find(r, w, p, userMode(baseline, pti))), perTrip(find(r, w, p, pti ? 'kernel+pti' : 'kernel'))];

/** The workloads the results section speaks for: find over the largest generated tree, echod over loopback, 64 B. */
export function headline(r: BenchResults): { findW?: WorkloadInfo; echoW?: WorkloadInfo } {
  return {
    findW: r.workloads.filter(w => w.name.startsWith('find-tmpfs')).pop(),
    echoW: r.workloads.find(w => w.name === 'echod-loopback-64B'),
  };
}

/** The busy sources of a run, in BUSY_SOURCES order; they add up to its busy cycles. */
export const busy = (s: SimRun) => BUSY_SOURCES.map(k => s.sources[k]);

/**
 * System calls whose number depends on how the two processes of an echod run interleave, not on the work: echod
 * waits in poll and reads until a read finds no data (EAGAIN); pingpong reads until its echo is whole. Where the
 * timer's ticks fall differs with the cycles (so between modes and profiles), and a tick that switches tasks at
 * another moment can add or save a wake-up or an empty read. So two runs' counts may differ by no more than the
 * two runs' timer ticks together (+ 2): each tick of either run can move its count by one, either way. All other
 * system calls must be equal.
 */
export const WAITING = ['poll', 'recvfrom'];
const countCalls = (s: SimRun, waiting: boolean) =>
  Object.entries(s.syscallsByName).reduce((a, [n, c]) => a + (WAITING.includes(n) === waiting ? c : 0), 0);
export const workSyscalls = (s: SimRun) => countCalls(s, false);
export const waitingSyscalls = (s: SimRun) => countCalls(s, true);

export interface Check { ok: boolean; what: string }

/**
 * The report's sanity checks: every workload has a run in every mode under every profile and a native run; the
 * cycles by source add up to the busy cycles; kernel mode never retires more instructions than user mode for the
 * same work; system calls are equal across modes.
 */
export function sanityChecks(r: BenchResults): Check[] {
  const checks: Check[] = [];
  for (const w of r.workloads) {
    checks.push({ ok: r.native.some(n => n.workload === w.name), what: `${w.name}: a native run` });
    for (const p of r.profiles) {
      const runs = r.modes.map(m => find(r, w.name, p, m));
      checks.push({
        ok: runs.every(x => x !== undefined && x.cycles > 0 && x.instructions > 0),
        what: `${w.name} ${p}: a run in each mode (${r.modes.join(', ')})`,
      });
      const present = runs.filter((x): x is SimRun => !!x);
      const off = present.map(x => busy(x).reduce((a, v) => a + v, 0) - x.cycles);
      checks.push({
        ok: off.every(d => Math.abs(d) < 0.5),
        what: `${w.name} ${p}: the cycles by source add up to the busy cycles in every mode (off by ${off.join(', ')})`,
      });
      for (const pti of [false, true]) {
        const u = find(r, w.name, p, pti ? 'user+pti' : 'user'), k = find(r, w.name, p, pti ? 'kernel+pti' : 'kernel');
        if (u && k) {
          checks.push({
            ok: k.instructions <= u.instructions,
            what: `${w.name} ${p}${pti ? ' --pti' : ''}: kernel mode's instructions (${k.instructions}) ≤ user ` +
              'mode\'s ' +
              `(${u.instructions})`,
          });
        }
      }
      const counts = present.map(workSyscalls), waits = present.map(waitingSyscalls);
      checks.push({
        ok: counts.length > 0 && counts.every(c => c === counts[0]),
        what: `${w.name} ${p}: the same number of system calls in every mode, ${WAITING.join(' and ')} aside ` +
          `(${counts.join(', ')})`,
      });
      // The runs with the most and the fewest waits, and their ticks together.
      const hi = present[waits.indexOf(Math.max(...waits))], lo = present[waits.indexOf(Math.min(...waits))];
      const spread = hi && lo ? waitingSyscalls(hi) - waitingSyscalls(lo) : 0;
      const ticks = hi && lo ? hi.timerInterrupts + lo.timerInterrupts : 0;
      if (w.kind === 'find') {
        // The same work in every mode: the kernel's own work, unit by unit (echod's waits vary with the ticks).
        const units = present.map(x => WORK_KINDS.map(kd => x.kernelWorkByKind[kd].units).join('/'));
        checks.push({
          ok: units.every(u => u === units[0]),
          what: `${w.name} ${p}: the kernel's own work is the same in every mode, unit by unit (${units[0]})`,
        });
      }
      checks.push({
        ok: spread <= ticks + 2,
        what: `${w.name} ${p}: ${WAITING.join(' and ')} differ across modes by at most the two runs' timer ticks + 2 ` +
          `(${waits.join(', ')}; ${hi?.mode} and ${lo?.mode}: ${ticks} ticks)`,
      });
    }
  }
  return checks;
}

const int = (x: number) => Math.round(x).toLocaleString('en');
const pct = (x: number, of: number) => (of ? `${((100 * x) / of).toFixed(1)}%` : '–');
const signedPct = (x: number | undefined) => (x === undefined ? '–' : `${x.toFixed(1)}%`);
const us = (x: number) =>
  (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : x >= 10 ? `${x.toFixed(1)} µs` : `${x.toFixed(2)} µs`);
const us0 = (x: number | undefined) => (x === undefined ? '–' : us(x));
const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
const mhz = (hz: number) => `${(hz / 1e6).toLocaleString('en', { maximumFractionDigits: 1 })} MHz`;
/** The clock each profile's runs used, e.g. "p4-northwood 1,595 MHz and modern 3,658 MHz". */
const clocksPhrase = (r: BenchResults) => and(r.profiles.map(p => {
  const s = r.sim.find(x => x.profile === p);
  return s ? `${p} ${mhz(s.clockHz)}` : '';
}).filter(Boolean));
/** "a, b and c". */
const and = (xs: string[]) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

/** How the report names each source of cycles (the columns of the detail, the chart's legend). */
export const SOURCE_LABELS: Record<BusySource, string> = {
  instructions: 'instructions', tlbMisses: 'TLB misses', trapEntries: 'trap entries', irets: 'irets',
  sysenters: 'sysenters', sysexits: 'sysexits',
  isolation: 'isolation', cr3Writes: 'CR3 writes', kernelCalls: 'kernel calls', kernelWork: 'kernel work',
  kernelFunctionWork: 'runtime (charged)',
};

/** A user/kernel round trip's price under a profile: the trap entry, the iret and the flat isolation charges. */
const crossingCycles = (p: CostProfile) => p.trapEntry + p.iret + 2 * p.isolationPerCrossing;
/** The crossings' cycles in a run: trap entries, irets, sysenters and sysexits, and the flat isolation charge. */
const crossingsOf = (s: SimRun) => s.sources.trapEntries + s.sources.irets + (s.sources.sysenters ?? 0)
  + (s.sources.sysexits ?? 0) + s.sources.isolation;
/** The kernel's own work in a run: its charged work and the calls into its functions. */
const kernelOf = (s: SimRun) => s.sources.kernelWork + s.sources.kernelCalls;

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
    row('sysenter / sysexit', p => `${p.sysenter} / ${p.sysexit}`),
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
  const runs = r.profiles.map(p => find(r, w.name, p, 'user'))
    .filter((x): x is SimRun => !!x && chargesKernelWork(x.profile));
  if (runs.length === 0) return [];
  const kinds = WORK_KINDS.filter(k => runs[0].kernelWorkByKind[k].units > 0);
  return [
    'The kernel\'s own work in user mode (kernel mode does the same work; kernel/work.ts): units done under ' +
      `${runs[0].profile}, simulated cycles under each profile.`, '',
    `| unit of work | units | ${runs.map(x => `cycles (${x.profile})`).join(' | ')} |`,
    `|---|---:|${runs.map(() => '---:').join('|')}|`,
    ...kinds.map(k => `| ${WORK_LABELS[k]} | ${int(runs[0].kernelWorkByKind[k].units)} | ` +
      `${runs.map(x => int(x.kernelWorkByKind[k].cycles)).join(' | ')} |`),
  ];
}


/** The profile the results explain in full: the paper's era when it ran, else the first. */
const mainProfile = (r: BenchResults) => (r.profiles.includes('p4-northwood') ? 'p4-northwood' : r.profiles[0]);

/** Where kernel mode's saving comes from: user − kernel cycles, by group of sources (positive: saved). */
interface SavingParts { crossings: number; instructions: number; fills: number; rest: number }
function savingBySource(u: SimRun, k: SimRun): SavingParts {
  const d = (f: (s: SimRun) => number) => f(u) - f(k);
  const crossings = d(crossingsOf), instructions = d(s => s.sources.instructions);
  const fills = d(s => s.sources.kernelFunctionWork);
  return { crossings, instructions, fills, rest: u.cycles - k.cycles - crossings - instructions - fills };
}

/** The saving's parts as a phrase, in the unit `f` writes. */
function savingPhrase(u: SimRun, k: SimRun, f: (cycles: number) => string): string {
  const b = savingBySource(u, k), total = Math.abs(u.cycles - k.cycles);
  // Parts under 1% of the saving are left out: they would print as zeros.
  const part = (v: number, what: string) =>
    (Math.abs(v) < 0.01 * total ? [] : [`${what} ${v < 0 ? 'cost' : 'save'} ${f(Math.abs(v))}`]);
  return and([
    ...part(b.crossings, 'the crossings (trap entries, irets, sysenters and sysexits, isolation)'),
    ...part(b.instructions, 'the instructions (user mode\'s system-call stubs and its runtime)'),
    ...part(b.fills, 'kernel mode\'s runtime work, charged as the runtime\'s instructions instead of executed,'),
    ...part(b.rest, 'the rest (TLB misses, CR3 writes, the kernel\'s work and calls)'),
  ]);
}

function findParagraph(r: BenchResults, w: WorkloadInfo): string {
  const P = mainProfile(r), u = find(r, w.name, P, 'user'), k = find(r, w.name, P, 'kernel');
  const each = (pti: boolean) => and(r.profiles.map(p => `${signedPct(saving(r, w.name, p, pti))} under ${p}`));
  const head = `**find** (\`${w.name}\`: ${w.description}): kernel mode takes **${signedPct(saving(r, w.name, P))}** ` +
    `fewer busy cycles than user mode under ${P}; in all, ${each(false)}; with \`--pti\`, ${each(true)}.`;
  if (!u || !k) return head;
  const p = profileByName(P), M = (c: number) => `${(c / 1e6).toLocaleString('en', { maximumFractionDigits: 1 })} M`;
  const others = r.profiles.filter(q => q !== P);
  const shares = others.filter(q => crossingCycles(profileByName(q)) > 0).map(q => {
    const uq = find(r, w.name, q, 'user');
    const each = int(crossingCycles(profileByName(q)));
    return uq ? `${pct(crossingsOf(uq), uq.cycles)} under ${q} (${each} cycles a crossing)` : '';
  }).filter(Boolean);
  const free = others.filter(q => crossingCycles(profileByName(q)) === 0);
  return `${head} Why, under ${P}: user mode enters the kernel ${int(u.userEntries)} times (${int(u.syscalls)} ` +
    'system calls, the rest page faults and timer ticks), and each entry with its iret costs ' +
    `${int(crossingCycles(p))} cycles, ` +
    `so the crossings are ${pct(crossingsOf(u), u.cycles)} of its ${M(u.cycles)} cycles, beside ` +
    `${pct(u.sources.instructions, u.cycles)} for the instructions (find's own and the kernel's entry code) and ` +
    `${pct(kernelOf(u), u.cycles)} for the kernel's own work (path walks, directory records, copies). Kernel mode ` +
    `calls the kernel directly; of the ${M(u.cycles - k.cycles)} cycles it saves, ${savingPhrase(u, k, M)}. ` +
    (shares.length ? `The crossings are ${and(shares)}: a smaller share where ordinary instructions cost more cycles ` +
      'against the crossing (the profiles\' figures are in the notes), so kernel mode saves less there. ' : '') +
    (free.length ? `Where a crossing costs nothing (${and(free)}), the saving is in the instructions alone (user ` +
      'mode\'s stubs and runtime, less kernel mode\'s charged runtime work). ' : '') +
    'With `--pti` user mode also pays two CR3 writes and the TLB refills they cause at every crossing, which kernel ' +
    'mode does not, so the saving grows.';
}

function echodParagraph(r: BenchResults, w: WorkloadInfo): string {
  const P = mainProfile(r), u = find(r, w.name, P, 'user'), k = find(r, w.name, P, 'kernel');
  const d = (p: string, pti: boolean) => {
    const [a, b] = tripPair(r, w.name, p, pti);
    return a === undefined || b === undefined ? undefined : { a, b, saved: a - b };
  };
  const each = (pti: boolean) => and(r.profiles.map(p => `${us0(d(p, pti)?.saved)} under ${p}`));
  const x = d(P, false);
  const head = `**echod** (\`${w.name}\`: ${w.description}): kernel mode saves **${us0(x?.saved)}** per round ` +
    `trip under ${P}${x ? ` (${us(x.a)} → ${us(x.b)})` : ''}; in all, ${each(false)}; with \`--pti\`, ${each(true)}.`;
  if (!u || !k) return head;
  const trips = Number(u.extra.roundTrips), p = profileByName(P);
  const perTripUs = (c: number) => us((c / u.clockHz) * 1e6 / trips);
  const calls = Object.entries(u.syscallsByName).sort((a, b) => b[1] - a[1])
    .map(([n, c]) => `${n} ${(c / trips).toFixed(1)}`);
  return `${head} Why, under ${P}: a round trip makes ${(u.syscalls / trips).toFixed(1)} system calls ` +
    `(${calls.join(', ')}; a call that sleeps is counted again when its task wakes and the kernel calls it again, ` +
    `without a new crossing), so user mode enters the kernel ${(u.userEntries / trips).toFixed(1)} times a round ` +
    `trip at ${int(crossingCycles(p))} cycles ` +
    `(${us((crossingCycles(p) / u.clockHz) * 1e6)}) each: the crossings are ${pct(crossingsOf(u), u.cycles)} of its ` +
    `cycles, beside ${pct(kernelOf(u), u.cycles)} for the kernel's own work (TCP, poll, two context switches a round ` +
    `trip) and ${pct(u.sources.instructions, u.cycles)} for the instructions. Kernel mode calls the kernel directly; ` +
    `of the ${perTripUs(u.cycles - k.cycles)} it saves per round trip, ${savingPhrase(u, k, perTripUs)}.`;
}

/** The results: the sentences, the small table beside the paper, the charts. */
function resultsSection(r: BenchResults, charts: string[]): string[] {
  const { findW, echoW } = headline(r);
  const L = ['## Results', ''];
  L.push('Every figure in this section is **simulated**: the emulated machine\'s busy cycles (its cycles while not ' +
    `halted) under each cost profile, and simulated time at each profile's clock (${clocksPhrase(r)}); none ` +
    'depends on this ' +
    'host\'s speed or load. Figures measured on this host (the emulator\'s run time, native runs, start-up) are ' +
    'marked *wall-clock* wherever they appear.', '');
  if (findW) L.push(findParagraph(r, findW), '');
  if (echoW) L.push(echodParagraph(r, echoW), '');
  const f = findW?.name ?? 'find', e = echoW?.name ?? 'echod';
  L.push('| profile | find: saving | with --pti | echod: saving per round trip | with --pti |');
  L.push('|---|---:|---:|---:|---:|');
  for (const p of r.profiles) {
    const e1 = (pti: boolean) => {
      const [a, b] = tripPair(r, e, p, pti);
      return a === undefined || b === undefined ? '–' : us(a - b);
    };
    const f1 = (pti: boolean) => signedPct(saving(r, f, p, pti));
    L.push(`| ${p} | ${f1(false)} | ${f1(true)} | ${e1(false)} | ${e1(true)} |`);
  }
  L.push(`| *the paper* | *${PAPER.findSpeedupPercent}%* | | *${PAPER.echodRoundTripSavingMicros} µs* | |`, '');
  L.push(`Simulated. find: 1 − kernel/user busy cycles of \`${f}\`; echod: user − kernel simulated time per round ` +
    `trip of \`${e}\` at each profile's clock. The paper's figures are as issue 7 quotes them; its machine and ` +
    'workloads ' +
    'are not ours, so the comparison is of direction and size, not a reproduction.', '');
  L.push(...sysenterBaseline(r, f, e));
  L.push(...sensitivitySection(r));
  for (const c of charts) L.push(`![${c}](${c})`, '');
  return L;
}

/**
 * Kernel mode against user mode's fast path of each era: user mode entering by sysenter through the vsyscall page
 * (Linux 2.6, `--syscall=sysenter`) instead of int 0x80, beside the int 0x80 figures.
 */
function sysenterBaseline(r: BenchResults, f: string, e: string): string[] {
  if (!r.modes.includes('user-sysenter')) return [];
  const L = ['Against user mode\'s fast path: the same savings with user mode entering the kernel by `sysenter` ' +
    'through the vsyscall page (`--syscall=sysenter`, `AT_SYSINFO`; Linux 2.6\'s way on the Pentium 4, and what a ' +
    '32-bit process uses on an Intel CPU today) instead of `int 0x80`; simulated. The sysenter/sysexit prices are ' +
    'in docs/machine.md, "sysenter and sysexit".', '',
  '| profile | find: vs int 0x80 | vs sysenter | with --pti: vs int 0x80 | vs sysenter | echod per round trip: ' +
    'vs int 0x80 | vs sysenter | with --pti: vs int 0x80 | vs sysenter |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const p of r.profiles) {
    const cells: string[] = [];
    for (const pti of [false, true]) {
      for (const b of ['int80', 'sysenter'] as const) cells.push(signedPct(saving(r, f, p, pti, b)));
    }
    for (const pti of [false, true]) {
      for (const b of ['int80', 'sysenter'] as const) {
        const [a, k] = tripPair(r, e, p, pti, b);
        cells.push(a === undefined || k === undefined ? '–' : us(a - k));
      }
    }
    L.push(`| ${p} | ${cells.join(' | ')} |`);
  }
  L.push('');
  return L;
}

/** The commands' start-up times, wall-clock. */
function startupSection(r: BenchResults): string[] {
  const s = r.startup;
  if (!s) return [];
  const x = (v?: number) => (v === undefined ? '–' : `${ms(v)} | ${(v / s.nodeSeconds).toFixed(1)}×`);
  return [
    '## Start-up time', '',
    `**Wall-clock** on this host: each command's \`--version\`, median of ${s.runs} runs after one unmeasured run, ` +
    'as a user starts it (`bin/<command>.js`, which runs the compiled JavaScript in `dist/`) and its source through ' +
    'tsx (`node --import tsx <source>.ts`, what `bin/` falls back to when `dist/` is older than a source), beside ' +
    `\`node -e 0\` in the same run. dist/: ${s.dist}. Load average ${s.load[0].toFixed(1)} at the start, ` +
    `${s.load[1].toFixed(1)} at the end (${r.host.cpus} CPUs): a loaded host slows every row alike, the ratios ` +
    'less.', '',
    '| command | from dist/ | × node -e 0 | through tsx | × node -e 0 |', '|---|---:|---:|---:|---:|',
    `| node -e 0 | ${ms(s.nodeSeconds)} | 1.0× | | |`,
    ...s.commands.map(c => `| ${c.what} | ${x(c.distSeconds)} | ${x(c.tsxSeconds)} |`),
    '',
  ];
}

/** The summary of the detail: every workload under every profile, kernel mode against user mode. */
function summaryTable(r: BenchResults): string[] {
  const L = [
    '| workload | profile | user cycles | kernel cycles | saving | user+pti cycles | kernel+pti cycles | ' +
      'saving with --pti | user, simulated | kernel, simulated | emulator wall-clock, kernel / user |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const c = (s?: SimRun) => (s ? int(s.cycles) : '–');
  for (const w of r.workloads) {
    for (const p of r.profiles) {
      const [u, k, up, kp] = (['user', 'kernel', 'user+pti', 'kernel+pti'] as const).map(m => find(r, w.name, p, m));
      L.push(`| ${w.name} | ${p} | ${c(u)} | ${c(k)} | ${signedPct(saving(r, w.name, p))} | ${c(up)} | ${c(kp)} | ` +
        `${signedPct(saving(r, w.name, p, true))} | ${us0(u?.simulatedMicros)} | ${us0(k?.simulatedMicros)} | ` +
        `${u && k ? (k.wallSeconds / u.wallSeconds).toFixed(2) : '–'} |`);
    }
  }
  return L;
}

/** One workload's runs: the counters and the cycles by source, every profile and mode. */
function workloadSection(r: BenchResults, w: WorkloadInfo): string[] {
  const L = [`### ${w.name}`, '', w.description + '.', ''];
  const nat = r.native.find(n => n.workload === w.name);
  if (nat) {
    const extra = Object.entries(nat.extra).map(([k, v]) => `${k} ${v}`).join(', ');
    const echo = w.kind === 'echod';
    L.push(`Natively on this host (the same ELF${echo ? 's over the host\'s loopback' : ''}): ` +
      `${(nat.wallSeconds * 1000).toFixed(2)} ms wall-clock${extra ? ` (${extra}${echo ? ', µs' : ''})` : ''}.`, '');
  }
  // Loopback's percentiles are pingpong's reading of the guest's clock; through --publish, of the host's.
  const latency = w.name.startsWith('echod-publish') ? 'host wall-clock µs' : 'simulated µs';
  const tail = w.kind === 'echod' ? `p50 / p99, ${latency} | per round trip, simulated` : 'lines';
  L.push(`| profile | mode | busy cycles | simulated time | instructions | system calls | ` +
    `${BUSY_SOURCES.map(k => SOURCE_LABELS[k]).join(' | ')} | idle (not busy) | emulator wall-clock | ${tail} |`);
  L.push(`|---|---|---:|---:|---:|---:|${BUSY_SOURCES.map(() => '---:').join('|')}|---:|---:|---:|` +
    (w.kind === 'echod' ? '---:|' : ''));
  for (const p of r.profiles) {
    for (const m of r.modes) {
      const s = find(r, w.name, p, m);
      if (!s) continue;
      const part = (k: BusySource) => `${int(s.sources[k])} (${pct(s.sources[k], s.cycles)})`;
      const parts = BUSY_SOURCES.map(k => (s.sources[k] ? part(k) : '0'));
      const end = w.kind === 'echod'
        ? `${s.extra.p50Us} / ${s.extra.p99Us} | ${us0(perTrip(s))}`
        : String(s.extra.lines);
      L.push(`| ${p} | ${m} | ${int(s.cycles)} | ${us(s.simulatedMicros)} | ${int(s.instructions)} | ${s.syscalls} | ` +
        `${parts.join(' | ')} | ${int(s.sources.halted)} | ${s.wallSeconds.toFixed(2)} s | ${end} |`);
    }
  }
  L.push('', ...workByKindTable(r, w), '');
  if (w.name.startsWith('echod-publish')) {
    L.push('Through --publish the counters cover the round trips only (from echod waiting in `accept` to the end); ' +
      'p50/p99 are pingpong\'s own figures on the host, in host wall-clock µs, so they measure the emulator and its ' +
      'host loop, not the simulated machine; *per round trip* is simulated (busy cycles over the clock, divided by ' +
      'N).', '');
  }
  if (w.name.startsWith('echod-loopback')) {
    L.push('Over loopback the counters cover the round trips only: a run of N + 1 round trips less a run of 1 (both ' +
      'programs\' start, their buffer allocations, the connection, the first round trip). p50/p99 are pingpong\'s ' +
      'own figures from the guest\'s clock_gettime, in whole simulated µs; *per round trip* is the round trips\' ' +
      'busy cycles over the clock, divided by N. The emulator\'s wall-clock time is that of the N + 1 run.', '');
  }
  return L;
}

export function renderReport(r: BenchResults, charts: string[]): string {
  const L: string[] = [];
  const total = Object.values(r.timings).reduce((a, b) => a + b, 0);
  const checks = sanityChecks(r);
  const failed = checks.filter(c => !c.ok);
  const { findW, echoW } = headline(r);
  L.push('# ktal performance report', '');
  L.push(`Generated by \`npm run bench${r.quick ? ' -- --quick' : ''}\` on ${r.generatedAt} (${r.host.cpuModel}, ` +
    `${r.host.cpus} CPUs, Node ${r.host.node}); the run took ${(total / 60).toFixed(1)} minutes wall-clock ` +
    `(${Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ')}). Every number below is ` +
    'written by the run (bench/report.ts); the machine-readable results are in `report.json` beside this file. ' +
    `Sanity checks: ${checks.length - failed.length} of ${checks.length} pass` +
    `${failed.length ? ` — **failing**: ${failed.map(c => c.what).join('; ')}` : ''} (listed at the end).` +
    (r.quick ? ' **This is a quick run**: small trees, few round trips, two profiles; its figures are for ' +
      'smoke-testing only.' : ''), '');
  L.push(...resultsSection(r, charts));
  L.push(...startupSection(r));

  L.push('## Detail', '', '### Kernel mode against user mode, every workload', '');
  L.push('Busy cycles (for echod, of the round trips alone; see each workload), simulated, and kernel mode\'s saving ' +
    '(1 − kernel/user) under each profile, without and with `--pti`; the simulated times are the busy cycles over ' +
    'the clock. The last column is the emulator\'s wall-clock time, kernel mode over user mode: a figure of this ' +
    'implementation, not of the simulated machine.', '');
  L.push(...summaryTable(r), '');
  if (r.profiles.includes('modern') && r.profiles.includes('modern-pti')) {
    L.push('Under `--pti` the `modern-pti` and `modern` rows agree: with real page-table isolation the kernel does ' +
      'the CR3 switches (charged as CR3 writes and the TLB misses they cause) and drops the profile\'s flat ' +
      'per-crossing charge, so the two profiles price the same events alike. Without `--pti`, `modern-pti` is the ' +
      'flat estimate of the same isolation.', '');
  }
  L.push('### Each workload', '');
  L.push('Cycles by source, simulated, as the machine charged them (`MachineStats.cycleSources`; they add up to the ' +
    'busy cycles, and with idle to all the cycles): *instructions* are all retired instructions (the program\'s and ' +
    'the kernel\'s entry code), each at its class\'s figure; *TLB misses*, *trap entries* (IDT deliveries: system ' +
    'calls, faults, timer interrupts), *irets*, *CR3 writes* and *isolation* (the flat per-crossing KPTI charge of ' +
    '`modern-pti`, dropped by the kernel under real `--pti`) are counts × the profile\'s figures; *kernel calls* are ' +
    'calls of the kernel\'s TypeScript functions from machine code; *kernel work* is what the kernel charged for its ' +
    'own work (`kernel/work.ts`: system calls, path components, opens, bytes copied, directory records, polled ' +
    'descriptors, TCP sends and receives, context switches; the same in every mode); *runtime (charged)* is the ' +
    'work of the runtime (allocation, fills, buffer checks, path copies) that kernel mode does in TypeScript, ' +
    'charged as the instructions user mode\'s runtime executes for the same calls (`kernel/rtwork.ts`). Shares are ' +
    'of busy cycles. The ' +
    'emulator\'s time and the native runs are wall-clock.', '');
  for (const w of r.workloads) L.push(...workloadSection(r, w));

  if (r.quality) L.push(...qualitySection(r.quality));
  if (r.popcLevels) L.push(...popcLevelsSection(r.popcLevels));
  L.push('## The checker and the emulator', '');
  const c = r.checker;
  const whole = c.fileBytes && c.checkerFileMBps
    ? `, ${c.checkerFileMBps.toFixed(1)} MB/s of the whole ${int(c.fileBytes)}-byte file`
    : '';
  const od = c.objdumpSeconds && c.fileBytes && c.checkerFileMBps
    ? ` \`objdump -d\` over the same file in the same run: ${c.objdumpSeconds.toFixed(2)} s, so the checker takes ` +
      `${(c.fileBytes / 1e6 / c.checkerFileMBps / c.objdumpSeconds).toFixed(2)}× objdump's time.`
    : '';
  // benny reports 0 ops/s when no timed run of checkElf finished in its time (a heavily loaded host): a failed
  // measurement, said as such rather than printed as a speed.
  if (c.checkerMBps > 0) {
    const build = c.build === 'dist' ? 'the build in dist/, as talcheck and talrun run it'
      : c.build === 'tsx' ? 'the sources through tsx: dist/ was not fresh' : 'benny';
    const cold = c.coldSeconds
      ? ` The first check in the process, while the engine still compiles the checker, took ` +
        `${(c.coldSeconds * 1000).toFixed(0)} ms (${(c.codeBytes / c.coldSeconds / 1e6).toFixed(1)} MB/s): what one ` +
        'talcheck of a cold file sees; the figure above is after 25 checks.'
      : '';
    L.push(`Wall-clock. Checker: **${c.checkerMBps.toFixed(1)} MB/s** of code${whole} (checkElf over ` +
      `${int(c.codeBytes)} bytes of code, benny; ${build}).${cold}${od}`, '');
  } else {
    L.push(`Wall-clock. Checker: **not measured in this run**: benny finished no timed run of checkElf over ` +
      `${int(c.codeBytes)} bytes of code (0 operations a second), which happens when the host is too loaded; ` +
      'bench/README.md gives the last measured figures.', '');
  }
  L.push(`Emulator: **${r.emulator.mips.toFixed(1)} MIPS** overall (compute-bound programs on the kernel in user ` +
    'mode); against the same ELFs natively:', '');
  L.push('| program | instructions | emulated, s | MIPS | native, s | emulated / native |');
  L.push('|---|---:|---:|---:|---:|---:|');
  for (const [n, p] of Object.entries(r.emulator.programs)) {
    L.push(`| ${n} | ${int(p.instructions)} | ${p.emulatedSeconds} | ${p.mips} | ${p.nativeSeconds} | ${p.ratio}× |`);
  }
  L.push('');
  const allInsns = r.sim.reduce((a, s) => a + s.instructions, 0);
  const allWall = r.sim.reduce((a, s) => a + s.wallSeconds, 0);
  L.push(`Across the ${r.sim.length} simulated runs above, the emulator retired ${int(allInsns)} instructions in ` +
    `${allWall.toFixed(1)} s of wall-clock run time (${(allInsns / allWall / 1e6).toFixed(1)} MIPS, the kernel's ` +
    'TypeScript work included, so lower than the compute-bound figure).', '');

  L.push(...notes(r, findW, echoW));
  L.push('### Sanity checks', '');
  for (const ch of checks) L.push(`- ${ch.ok ? 'ok' : '**FAIL**'}: ${ch.what}`);
  L.push('');
  return L.join('\n');
}

/** The model's notes: the profiles' figures, the kernel's work, what is in and out, where each cost comes from. */
function notes(r: BenchResults, findW?: WorkloadInfo, echoW?: WorkloadInfo): string[] {
  const L = ['## Notes', ''];
  L.push('### The profiles\' figures', '', ...profileTable(r.profiles), '');
  L.push('Each figure\'s source is in `emulator/profiles.ts` and `docs/machine.md`. The table above is read from the ' +
    'profiles at run time.', '');
  L.push('### The kernel\'s own work', '', 'The kernel is TypeScript, so it charges cycles for its work as it does ' +
    'it (`kernel/work.ts`), by these figures, derived in `docs/machine.md` ("The kernel\'s own work") from lmbench ' +
    'on a Pentium 4 under Linux 2.4 (the paper\'s era) and from the same measurements made on this host by ' +
    '`bench/host/kwork.c` (today\'s kernels):', '', ...kernelWorkTable(r.profiles), '');
  L.push('### What the cycle model includes and leaves out', '');
  L.push('- **Included**: every retired instruction, priced by class; every IDT delivery (`int 0x80`, page faults, ' +
    'timer interrupts) and every `iret`; TLB misses (a two-level walk); CR3 writes (address-space switches, and the ' +
    'two at each crossing under real `--pti`); a flat per-crossing charge where a profile models isolation without ' +
    'doing it (`modern-pti`); calls into the kernel\'s TypeScript functions; **the kernel\'s own work**, which is ' +
    'TypeScript here and so is charged per piece of work done by figures derived from measurements of a real Linux ' +
    '(the table above); and, in kernel mode, the runtime\'s work done in TypeScript, charged as the instructions ' +
    'the user-mode runtime executes for the same call, class by class (*runtime (charged)*; until issue 15 only the ' +
    'fill loops were charged, and allocation, buffer checks and path copies were free in kernel mode, an ' +
    'approximation that erred for kernel mode).');
  L.push('- **Left out**: caches, pipelining, out-of-order overlap and branch prediction (each instruction costs its ' +
    'class\'s latency); the indirect cost of a crossing (pipeline flush, cache and TLB pollution); the kernel\'s ' +
    'entry and exit software of a real OS (saving registers, pending-work checks, mitigations: the kernel here ' +
    'charges its work, not a real kernel\'s entry path). A cycle of one profile is not a cycle of another: ' +
    'each profile\'s cycles become time at its own clock, so times compare across profiles, cycles within one. ' +
    'Caches and pipelines act alike on the same code in both modes. The ' +
    'omissions that differ between the modes (the crossing\'s indirect cost, the entry software) would add to user ' +
    'mode only, so they understate kernel mode\'s saving. The kernel\'s own work is priced per unit (a path ' +
    'component, a byte, a record, a TCP segment) from averages: a real kernel\'s cost per unit varies with caches, ' +
    'path shapes and lock contention, which the flat figures do not follow; the same figures apply in both modes, so ' +
    'they move the ratios, never the absolute savings.');
  L.push('- **The emulator\'s wall-clock time** measures this implementation, not the simulated machine: the ' +
    'kernel\'s TypeScript work costs wall-clock time but no cycles unless it charges them, so the wall-clock ratio ' +
    'is not the simulated ratio (and it moves with the host\'s load).', '');
  L.push('### Where each cost comes from', '');
  L.push('- *Trap entries + irets*: user mode pays one pair per system call made through `int 0x80` (and per fault ' +
    'and timer tick); kernel mode calls the kernel directly, so only faults and timer ticks remain. This is most ' +
    'of kernel mode\'s saving.');
  L.push('- *CR3 writes and TLB misses*: process switches (echod and its client are two processes) and, under ' +
    '`--pti`, two CR3 writes per crossing plus the TLB refills the switches cause (the kernel\'s mappings are not ' +
    'global under PTI). Kernel-mode tasks do not switch page tables at each crossing, so `--pti` costs them almost ' +
    'nothing.');
  const kwShare = (w: WorkloadInfo | undefined) => r.profiles.filter(chargesKernelWork).map(p => {
    const u = w ? find(r, w.name, p, 'user') : undefined;
    return u ? `${pct(kernelOf(u), u.cycles)} under ${p}` : '';
  }).filter(Boolean).join(', ');
  L.push(`- *Kernel work and kernel calls*: the same in every mode (the same implementation does the same work): in ` +
    `user mode ${kwShare(echoW)} of ${echoW?.name ?? 'echod'}'s cycles (TCP, poll, two context switches a round ` +
    `trip), and ${kwShare(findW)} of ${findW?.name ?? 'find'}'s (path walks, directory records, copies). It is the ` +
    'total against which the crossings\' share is measured.');
  L.push('- *Instructions and runtime (charged)*: the same program code in both modes; user mode additionally ' +
    'executes its runtime (allocation, fills, buffer checks, path copies) and the system-call stubs\' `int 0x80` ' +
    'sequences; kernel mode replaces the sequences by direct calls and is charged the runtime\'s instructions for ' +
    'the rest, so what remains between the modes is the crossing (`test/kernel/same-work.test.ts`).', '');
  return L;
}

/** The charts: the saving in percent, without and with --pti; where the cycles go, find's and echod's. */
function charts(r: BenchResults): [string, string][] {
  const groups = r.workloads.map(w => w.name);
  const pctFmt = (v: number) => `${v.toFixed(1)}%`;
  const savingChart = (pti: boolean) => barChart(
    `Kernel mode's saving over user mode${pti ? ', both with --pti' : ''}`, groups,
    r.profiles.map(p => ({ name: p, values: groups.map(g => saving(r, g, p, pti)) })),
    {
      subtitle: 'simulated busy cycles, 1 − kernel/user, by workload and cost profile' +
        (pti ? ' (page-table isolation on)' : ''),
      axisLabel: 'saving (% of user mode\'s busy cycles)', format: pctFmt,
    });
  const out: [string, string][] = [['saving.svg', savingChart(false)], ['saving-pti.svg', savingChart(true)]];
  const { findW, echoW } = headline(r);
  const stack = (w: WorkloadInfo, scale: (s: SimRun) => number) => r.profiles.flatMap(p => r.modes
    .map(m => find(r, w.name, p, m)).filter((s): s is SimRun => !!s)
    .map((s): StackRow => ({ group: p, label: s.mode, values: busy(s).map(v => v * scale(s)) })));
  const segments = BUSY_SOURCES.map(k => SOURCE_LABELS[k]);
  if (findW) {
    const title = 'Where find\'s cycles go: user mode against kernel mode';
    out.push(['cycles-find.svg', stackedChart(title, stack(findW, () => 1e-6), {
      segments, subtitle: `${findW.name}, simulated busy cycles by source, each profile in each mode`,
      axisLabel: 'busy cycles (millions, simulated)', format: v => (v >= 100 ? v.toFixed(0) : v.toFixed(1)),
    })]);
  }
  if (echoW) {
    const perTripScale = (s: SimRun) => 1e6 / s.clockHz / Number(s.extra.roundTrips);
    const title = 'Where an echod round trip\'s time goes: user mode against kernel mode';
    out.push(['cycles-echod.svg', stackedChart(title, stack(echoW, perTripScale), {
        segments, subtitle: `${echoW.name}, simulated µs per round trip by source (busy cycles at the kernel's clock)`,
        axisLabel: 'µs per round trip (simulated)', format: v => v.toFixed(v >= 10 ? 1 : 2),
      })]);
  }
  return out;
}

/** Writes REPORT.md, report.json and the charts into `dir`. Returns the paths written. */
export function writeReport(r: BenchResults, dir: string): string[] {
  const svgs = charts(r);
  const written: string[] = [];
  for (const [name, svg] of svgs) { writeFileSync(join(dir, name), svg); written.push(join(dir, name)); }
  writeFileSync(join(dir, 'report.json'), JSON.stringify({ ...r, checks: sanityChecks(r) }, null, 1) + '\n');
  writeFileSync(join(dir, 'REPORT.md'), renderReport(r, svgs.map(c => c[0])));
  written.push(join(dir, 'report.json'), join(dir, 'REPORT.md'));
  return written;
}

// ---------------------------------------------------------------------------------------------------------------
// The sensitivity table (issue 15): the headline savings under each alternative to a choice the model makes. The
// machine's cycles are its counters × a profile's figures, so each alternative re-weights one run's counters
// (the same instructions, traps, TLB misses, units of kernel work) by the other figure, without re-running the
// emulator: the rows are exactly comparable with the run. Second-order effects are left out: a different clock
// moves the timer's ticks, and so the few ticks and wake-ups that depend on them.

/** A run's busy cycles and clock under one alternative choice. */
interface Reweighed { cycles: number; clockHz: number }
/** An alternative: how it changes a run (user or kernel mode), or undefined where the run lacks the counters. */
interface Alternative {
  assumption: string;
  choice: string;
  source: string;
  apply: (s: SimRun) => Reweighed | undefined;
}

/** The figure a run was charged per event: its cycles for that source over its count (0 when none happened). */
const perEvent = (cycles: number, count: number) => (count ? cycles / count : 0);

/** int 0x80 deliveries in a run, when the run recorded its traps by vector. */
const int80Entries = (s: SimRun) => (s.trapsByVector ? s.trapsByVector[SYSCALL_VECTOR] ?? 0 : undefined);

/** Every alternative for one profile, read from emulator/profiles.ts (ALTERNATIVES) and kernel/work.ts. */
function alternatives(profile: string, asRun: SimRun): Alternative[] {
  const p = profileByName(profile), alt = ALTERNATIVES[profile];
  const same = (s: SimRun): Reweighed => ({ cycles: s.cycles, clockHz: s.clockHz });
  const out: Alternative[] = [{
    assumption: 'as run', choice: 'the run: int 0x80, each profile\'s own figures', source: '', apply: same,
  }];
  if (!alt) return out;
  if (alt.fastSyscall) {
    const fast = alt.fastSyscall;
    out.push({
      assumption: 'baseline', choice: `sysenter: ${int(fast.value)} cycles a call in user mode`, source: fast.source,
      // User mode's int 0x80 crossings (trap entry, iret, isolation) become the fast path's whole extra cost.
      apply: s => {
        if (!s.mode.startsWith('user')) return same(s);
        const n = int80Entries(s);
        if (n === undefined) return undefined;
        const pair = perEvent(s.sources.trapEntries, s.traps) + perEvent(s.sources.irets, s.irets) +
          2 * perEvent(s.sources.isolation, s.userEntries + s.userExits);
        return { cycles: s.cycles + n * (fast.value - pair), clockHz: s.clockHz };
      },
    });
  }
  const clocks = [{ value: p.clock.hz, source: p.clock.source }, ...alt.clockHz].filter(c => c.value !== asRun.clockHz);
  for (const c of clocks) {
    out.push({
      assumption: 'clock', choice: `${(c.value / 1e6).toLocaleString('en')} MHz`, source: c.source,
      apply: s => ({ cycles: s.cycles, clockHz: c.value }),
    });
  }
  if (profile === 'p4-northwood') {
    const rows = [kernelWorkCosts(profile), ...P4_ALTERNATIVE_WORK]
      // The rows the run was not charged by (its system-call units priced otherwise).
      .filter(w => Math.abs(w.syscall * asRun.kernelWorkByKind.syscall.units - asRun.kernelWorkByKind.syscall.cycles)
        > 0.5);
    for (const w of rows) {
      out.push({
        assumption: 'lmbench row', choice: w.source.replace(/^.*(row \d)/, '$1'), source: w.source,
        apply: s => ({
          cycles: s.cycles - s.sources.kernelWork +
            WORK_KINDS.reduce((a, k) => a + s.kernelWorkByKind[k].units * w[k], 0),
          clockHz: s.clockHz,
        }),
      });
    }
  }
  const runTlb = perEvent(asRun.sources.tlbMisses, asRun.tlbMisses);
  const tlbs = [{ value: p.tlbMiss, source: `the profile's own (${profile})` }, ...alt.tlbMiss]
    .filter(c => Math.abs(c.value - runTlb) > 1e-6);
  for (const c of tlbs) {
    out.push({
      assumption: 'TLB miss', choice: `${c.value.toLocaleString('en', { maximumFractionDigits: 1 })} cycles`,
      source: c.source,
      apply: s => ({
        cycles: s.cycles + s.tlbMisses * (c.value - perEvent(s.sources.tlbMisses, s.tlbMisses)), clockHz: s.clockHz,
      }),
    });
  }
  return out;
}

/** find's saving (%) and echod's per round trip (µs) under one alternative, or undefined where not computable. */
function headlineUnder(r: BenchResults, a: Alternative, profile: string, findW?: WorkloadInfo, echoW?: WorkloadInfo) {
  const pair = (w: WorkloadInfo | undefined) => {
    const u = w && find(r, w.name, profile, 'user'), k = w && find(r, w.name, profile, 'kernel');
    const x = u && a.apply(u), y = k && a.apply(k);
    return u && x && y ? { u, x, y } : undefined;
  };
  const f = pair(findW), e = pair(echoW);
  return {
    find: f ? 100 * (1 - f.y.cycles / f.x.cycles) : undefined,
    echod: e ? ((e.x.cycles / e.x.clockHz - e.y.cycles / e.y.clockHz) * 1e6) / Number(e.u.extra.roundTrips) : undefined,
  };
}

/** One row of the sensitivity table: a choice, and the headline savings under it for each profile. */
export interface SensitivityRow {
  assumption: string;
  choice: string;
  source: string;
  /** find's saving in percent and echod's per round trip in µs, by profile (absent: not computable). */
  values: Record<string, { find?: number; echod?: number }>;
}

/** The sensitivity table's rows, in the order as run, baseline, clock, lmbench row, TLB miss. */
export function sensitivityRows(r: BenchResults): { profiles: string[]; rows: SensitivityRow[] } {
  const { findW, echoW } = headline(r);
  const profiles = r.profiles.filter(p => ALTERNATIVES[p] && find(r, findW?.name ?? '', p, 'user'));
  const perProfile = new Map(profiles.map(p => [p, alternatives(p, find(r, findW!.name, p, 'user')!)]));
  const rows: SensitivityRow[] = [];
  for (const [p, alts] of perProfile) {
    for (const a of alts) {
      let row = rows.find(x => x.assumption === a.assumption && x.choice === a.choice);
      if (!row) rows.push(row = { assumption: a.assumption, choice: a.choice, source: a.source, values: {} });
      row.values[p] = headlineUnder(r, a, p, findW, echoW);
    }
  }
  // Two rows that are runs, not re-weightings: user mode entering by sysenter (its own runs, when the bench made
  // them), and kernel mode with none of the runtime's work charged (its counters say how much it was).
  const sysenterRow: SensitivityRow = {
    assumption: 'baseline', choice: 'sysenter, from runs of user mode through `sysenter`', source: '', values: {},
  };
  const freeRuntimeRow: SensitivityRow = {
    assumption: 'allocator', choice: 'kernel-mode runtime work (allocation, fills, path copies, buffer checks) free',
    source: '', values: {},
  };
  for (const p of profiles) {
    const pairOf = (w: WorkloadInfo | undefined, userMode: Mode) => {
      const u = w && find(r, w.name, p, userMode), k = w && find(r, w.name, p, 'kernel');
      return u && k ? { u, k } : undefined;
    };
    const perTrip = (u: SimRun, uc: number, k: SimRun, kc: number) =>
      ((uc / u.clockHz - kc / k.clockHz) * 1e6) / Number(u.extra.roundTrips);
    const fs = pairOf(findW, 'user-sysenter'), es = pairOf(echoW, 'user-sysenter');
    if (fs || es) {
      sysenterRow.values[p] = {
        find: fs ? 100 * (1 - fs.k.cycles / fs.u.cycles) : undefined,
        echod: es ? perTrip(es.u, es.u.cycles, es.k, es.k.cycles) : undefined,
      };
    }
    const ff = pairOf(findW, 'user'), ef = pairOf(echoW, 'user');
    const free = (k: SimRun) => k.cycles - (k.sources.kernelFunctionWork ?? 0);
    freeRuntimeRow.values[p] = {
      find: ff ? 100 * (1 - free(ff.k) / ff.u.cycles) : undefined,
      echod: ef ? perTrip(ef.u, ef.u.cycles, ef.k, free(ef.k)) : undefined,
    };
  }
  if (Object.keys(sysenterRow.values).length) rows.push(sysenterRow);
  rows.push(freeRuntimeRow);
  const order = ['as run', 'baseline', 'clock', 'lmbench row', 'TLB miss', 'allocator'];
  rows.sort((a, b) => order.indexOf(a.assumption) - order.indexOf(b.assumption));
  return { profiles, rows };
}

/** The sensitivity section: the table, then which way each choice errs and by how much. */
function sensitivitySection(r: BenchResults): string[] {
  const { findW, echoW } = headline(r);
  const { profiles, rows } = sensitivityRows(r);
  if (profiles.length === 0) return [];
  const L = ['### How much each assumption moves the result', ''];
  L.push(`Simulated. The headline savings (find: \`${findW?.name}\`, 1 − kernel/user busy cycles; echod: ` +
    `\`${echoW?.name}\`, µs saved per round trip) with one choice of the model changed at a time. Each row ` +
    're-weights the runs\' own counters by the other figure (cycles are counters × figures), so it is exactly ' +
    'comparable with the run; a different clock would also move the timer\'s ticks, which this leaves out. ' +
    'Without `--pti`. The figures and their sources: `emulator/profiles.ts` (`ALTERNATIVES`), `kernel/work.ts`, ' +
    'docs/machine.md.', '');
  L.push(`| assumption | choice | ${profiles.map(p => `${p}: find | ${p}: echod`).join(' | ')} |`);
  L.push(`|---|---|${profiles.map(() => '---:|---:').join('|')}|`);
  for (const row of rows) {
    const cells = profiles.map(p => `${signedPct(row.values[p]?.find)} | ${us0(row.values[p]?.echod)}`);
    L.push(`| ${row.assumption} | ${row.choice} | ${cells.join(' | ')} |`);
  }
  L.push('');
  L.push('Where the alternatives come from:', '',
    ...rows.filter(x => x.source).map(x => `- ${x.choice}: ${x.source}`), '');
  L.push('A cell marked – has no figure: the profile has no such alternative, or the run did not make the mode it ' +
    'needs. The sysenter row from runs compares kernel mode with user mode entering through the vsyscall page ' +
    '(`--syscall=sysenter`), priced by the profile\'s own `sysenter`/`sysexit` figures; the re-weighted sysenter ' +
    'row above it prices each crossing at KML\'s measured fast path instead. The allocator row is kernel mode ' +
    'with all the runtime\'s work it is now charged (`kernel/rtwork.ts`) taken away (before issue 15 the model ' +
    'charged the fill loops alone, as cycles: between the two rows).', '');
  L.push(...sensitivityNotes(profiles, rows));
  return L;
}

/** Which way each choice errs and by how much, from the table's own cells. */
function sensitivityNotes(profiles: string[], rows: SensitivityRow[]): string[] {
  const L: string[] = [];
  const base = rows.find(x => x.assumption === 'as run');
  const sign = (x: number | undefined, unit: '%' | 'µs') => (x === undefined ? '–'
    : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(unit === '%' ? 1 : 2)}${unit === '%' ? ' points' : ' µs'}`);
  const minus = (a?: number, b?: number) => (a !== undefined && b !== undefined ? a - b : undefined);
  const moves = (assumption: string) => rows.filter(x => x.assumption === assumption).flatMap(x => profiles
    .filter(p => x.values[p] && (x.values[p].find !== undefined || x.values[p].echod !== undefined))
    .map(p => `${p}, ${x.choice}: find ${sign(minus(x.values[p].find, base?.values[p]?.find), '%')}, echod ` +
      sign(minus(x.values[p].echod, base?.values[p]?.echod), 'µs')));
  const item = (title: string, text: string, assumption: string) => {
    const m = moves(assumption);
    L.push(`- **${title}**: ${text}${m.length ? ` Against the run: ${m.join('; ')}.` : ''}`);
  };
  item('Baseline (int 0x80)', 'user mode enters the kernel by `int 0x80`/`iret`, right for Linux 2.4, the kernel ' +
    'whose work the P4 profile prices; Linux 2.6 on the same CPU took `sysenter` through the vsyscall page, and ' +
    'against that kernel mode saves much less per call. So int 0x80 errs in kernel mode\'s favour against any ' +
    'kernel from 2.6 on. The re-weighted row prices each `int 0x80` entry at the fast path\'s whole measured cost ' +
    'instead of its trap and `iret`, and leaves the emulated entry code\'s instructions counted, which a real ' +
    'path\'s measurement already includes: the row still errs slightly in kernel mode\'s favour.', 'baseline');
  item('Clock', 'a profile\'s cycles are turned into time at the clock its figures were measured at (the lmbench ' +
    'P4\'s 1,595 MHz; the host\'s 3,658 MHz). The clock leaves every ratio alone (find\'s saving is a ratio of ' +
    'cycles) and scales every time; a faster clock shrinks the µs saved in proportion.', 'clock');
  item('lmbench row', 'of the three kernels measured on the same P4, the one used (2.4.20-8) has the cheapest ' +
    'path walk, open, TCP and file reread, so it gives the kernel\'s own work its smallest share and the crossing ' +
    'its largest: it errs in kernel mode\'s favour. It is the era\'s int 0x80 kernel whose file-system figures ' +
    'are not an outlier (docs/machine.md).', 'lmbench row');
  item('TLB miss', 'both modes miss the TLB about equally often (the same program over the same data), so a ' +
    'dearer miss adds to both alike and moves the saving by little.', 'TLB miss');
  item('Allocator', 'kernel mode\'s runtime work (allocation, fills, path copies, buffer checks) is TypeScript, ' +
    'charged instruction by instruction what user mode\'s runtime executes for the same call (docs/machine.md, ' +
    '"The runtime\'s work in kernel mode"); left free (before issue 15 all but the fills were), it errs in kernel ' +
      'mode\'s favour by ' +
    'this much.', 'allocator');
  L.push('- **Lower bounds**: the P4 `int`/`iret` pair (1,120) is Torvalds\' difference between the two paths, a ' +
    'lower bound for the int path alone; it errs against kernel mode.', '');
  return L;
}
