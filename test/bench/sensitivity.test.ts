// The bench's sensitivity table (bench/report.ts, sensitivityRows; issue 15): each alternative re-weights a run's
// counters by another figure instead of re-running the emulator. These tests hold that shortcut to a real re-run:
// find over a small tmpfs tree, in user and in kernel mode, under p4-northwood and under a copy of it with the one
// figure changed, must give exactly the saving the table computes from the first run alone. The timer is slowed
// to one tick a simulated second so that no tick (whose moment depends on the cycles) falls inside either run.
import test from 'ava';
import { Kernel } from '../../kernel/kernel.ts';
import { start, outcome } from '../../kernel/talrun.ts';
import { ALTERNATIVES, profileByName } from '../../emulator/profiles.ts';
import type { CostProfile } from '../../emulator/costs.ts';
import { buildGuestTree, findImage } from '../../bench/find.ts';
import { sensitivityRows, type BenchResults } from '../../bench/report.ts';
import { MODES, simRun, type Mode, type SimRun } from '../../bench/workload.ts';

const WORKLOAD = { name: 'find-tmpfs-test', kind: 'find' as const, description: 'find over 400 entries' };

/** find /t -name '*.c' over a 400-entry tree under `profile`, in `mode` (without --pti). */
function runFind(profile: CostProfile, mode: Mode): SimRun {
  const k = new Kernel({ profile, hz: 1, onOutput: () => {} });
  buildGuestTree(k, '/t', 400);
  k.endInput();
  const kernel = mode === 'kernel';
  const pid = start(k, findImage(), ['find', '/t', '-name', '*.c'], { kernel });
  if (typeof pid !== 'number') throw new Error(pid.message);
  const r = outcome(k, pid, k.run(1e9));
  if (r.status !== 0) throw new Error(`find: status ${r.status} ${r.message ?? ''}`);
  return simRun(WORKLOAD.name, profile.name, mode, r.stats, r.work, r.syscalls, k.clockHz, 0);
}

function results(sim: SimRun[]): BenchResults {
  return {
    generatedAt: '', quick: true, host: { cpus: 1, cpuModel: '', node: '' }, profiles: ['p4-northwood'],
    modes: MODES, workloads: [WORKLOAD], sim, native: [], checker: { codeBytes: 0, checkerMBps: 0, talasSeconds: 0 },
    emulator: { programs: {}, mips: 0, nativeStartSeconds: 0 }, timings: {},
  };
}

const P4 = profileByName('p4-northwood');
const asRun = [runFind(P4, 'user'), runFind(P4, 'kernel')];
const { rows } = sensitivityRows(results(asRun));
const saving = (u: SimRun, k: SimRun) => 100 * (1 - k.cycles / u.cycles);

test('as run: the row is the runs\' own saving', t => {
  const row = rows.find(r => r.assumption === 'as run')!;
  t.is(row.values['p4-northwood'].find, saving(asRun[0], asRun[1]));
  t.true(asRun[0].tlbMisses > 0 && asRun[1].tlbMisses > 0, 'both runs miss the TLB');
});

test('TLB miss: re-weighting the counters gives exactly the saving of a re-run with the other figure', t => {
  const alternatives = ALTERNATIVES['p4-northwood'].tlbMiss;
  t.true(alternatives.length > 0);
  for (const alt of alternatives) {
    const other: CostProfile = { ...P4, tlbMiss: alt.value };
    const [u, k] = [runFind(other, 'user'), runFind(other, 'kernel')];
    // The same events happen whatever the figure (no tick falls inside the runs).
    t.is(u.tlbMisses, asRun[0].tlbMisses);
    t.is(k.instructions, asRun[1].instructions);
    const row = rows.find(r => r.assumption === 'TLB miss' && r.choice.startsWith(`${alt.value} `))!;
    t.truthy(row, `a row for ${alt.value}`);
    const reweighed = row.values['p4-northwood'].find!;
    t.true(Math.abs(reweighed - saving(u, k)) < 1e-9, `${alt.value}: ${reweighed} vs ${saving(u, k)}`);
  }
});

test('clock: a ratio of cycles, so find\'s saving does not move', t => {
  const clock = rows.filter(r => r.assumption === 'clock');
  t.true(clock.length > 0);
  for (const r of clock) t.is(r.values['p4-northwood'].find, saving(asRun[0], asRun[1]));
});

test('lmbench rows: the kernel work re-priced by rows 2 and 3, whose dearer path walks shrink find\'s saving', t => {
  const lm = rows.filter(r => r.assumption === 'lmbench row');
  t.deepEqual(lm.map(r => r.choice.slice(0, 5)), ['row 2', 'row 3']);
  for (const r of lm) t.true(r.values['p4-northwood'].find! < saving(asRun[0], asRun[1]), r.choice);
});

test('sysenter baseline: user mode\'s int 0x80 crossings re-priced at the fast path\'s figure', t => {
  const row = rows.find(r => r.assumption === 'baseline')!;
  const fast = ALTERNATIVES['p4-northwood'].fastSyscall!.value;
  const [u, k] = asRun;
  const entries = u.trapsByVector![0x80];
  t.is(entries, u.syscalls, 'find never sleeps in a system call, so each is one int 0x80');
  const user = u.cycles + entries * (fast - P4.trapEntry - P4.iret);
  t.true(Math.abs(row.values['p4-northwood'].find! - 100 * (1 - k.cycles / user)) < 1e-9);
  t.true(row.values['p4-northwood'].find! < saving(u, k), 'the fast path leaves kernel mode less to save');
});
