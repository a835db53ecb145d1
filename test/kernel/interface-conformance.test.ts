// The interface conformance suite: every import of tal/interface.ts keeps the contract of docs/tal.md §6 ("What
// every import promises") for verified callers, in user mode (entering by int 0x80, and by sysenter through the
// vsyscall page) and in kernel mode, with and without PTI, under three
// schedules: calm (1000 Hz, the probe alone), hostile (10,000 Hz, beside a verified kernel-mode process and an
// unverified user-mode one that fill every register with kernel addresses and addresses inside the probe's objects,
// set DF, spin and sleep), and storm (the same at 400,000 Hz: a tick every 6,000 cycles, so the probe is interrupted
// every few calls and resumed from every kind of context). test/util/conformance.ts explains the probe (a generated,
// verified TAL program) and the machine-level observer.
//
// Also: with the old switch_to faults put back (KernelOptions.reintroduce), the same harness reports exactly the
// calls that slept (so it sees the fault it was written for); exit and the allocation aborts; and the probe itself run
// natively on the host's Linux, where its own checks must pass as they do in the emulator.
//
// KTAL_LONG=1: 40 cases per import instead of 6, and five more schedules at random tick rates (KTAL_SEED repeats).
import test from 'ava';
import fc from 'fast-check';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { runProgram } from '../../kernel/talrun.ts';
import type { SyscallEntry } from '../../kernel/kernel.ts';
import { profileByName, DEFAULT_PROFILE } from '../../emulator/profiles.ts';
import { runNative, scratch } from '../util/native.ts';
import {
  CALL_IMPORTS, REG_ORDER, buildProbe, makePlan, runProbe, type Failure, type RunReport, type Schedule,
} from '../util/conformance.ts';

const LONG = process.env.KTAL_LONG === '1';
const SEED = Number(process.env.KTAL_SEED ?? 0x6b74616c);
const PER_IMPORT = LONG ? 40 : 6;

// The storm's ticks are set in cycles of the default profile's clock, short enough that nearly every call is
// interrupted, long enough that a tick's own handling (under --pti: the trap, two CR3 writes, the TLB refills, a
// context switch's kernel work) leaves the program time to progress: one every 6,500 cycles. The random
// schedules' shortest tick is the same.
const CLOCK_HZ = profileByName(DEFAULT_PROFILE).clock.hz;
const STORM_TICK_CYCLES = 6_500;
const SCHEDULES: Schedule[] = [
  { name: 'calm', hz: 1000, hostile: false },
  { name: 'hostile', hz: 10_000, hostile: true },
  { name: 'storm', hz: Math.floor(CLOCK_HZ / STORM_TICK_CYCLES), hostile: true },
];
if (LONG) {
  const fastest = Math.floor(CLOCK_HZ / STORM_TICK_CYCLES);
  for (const hz of fc.sample(fc.integer({ min: 20_000, max: fastest }), { seed: SEED, numRuns: 5 })) {
    SCHEDULES.push({ name: `random-${hz}`, hz, hostile: true });
  }
}

// User mode enters the kernel by int 0x80 (the default) or, with --syscall=sysenter, through the vsyscall page.
const MODES: { name: string; kernel: boolean; pti: boolean; syscallEntry?: SyscallEntry }[] = [
  { name: 'user', kernel: false, pti: false },
  { name: 'user --pti', kernel: false, pti: true },
  { name: 'user --syscall=sysenter', kernel: false, pti: false, syscallEntry: 'sysenter' },
  { name: 'user --syscall=sysenter --pti', kernel: false, pti: true, syscallEntry: 'sysenter' },
  { name: 'kernel', kernel: true, pti: false },
  { name: 'kernel --pti', kernel: true, pti: true },
];

/** Failures as one line each, for a readable assertion message. */
const lines = (fs: readonly Failure[]): string[] => fs.map(f => `case ${f.index} ${f.imp}: ${f.promise}: ${f.detail}`);

/** Imports whose calls the runner forces to sleep in every run (the sleepers of makePlan, woken from the host). */
const MUST_SLEEP = ['read', 'recvfrom', 'write', 'sendto', 'accept4', 'poll', 'nanosleep'];

SCHEDULES.forEach((schedule, si) => {
  const title = `schedule ${schedule.name} (${schedule.hz} Hz${schedule.hostile ? ', hostile processes' : ''})`;
  test(`${title}: every import keeps its promises in user and kernel mode, with and without --pti`, t => {
    const plan = makePlan({ seed: SEED + si, perImport: PER_IMPORT });
    const probe = buildProbe(plan, 'spin'); // throws if the checker refuses it: the probe is verified code
    const perImport = new Map<string, number>();
    for (const c of plan.cases) perImport.set(c.imp, (perImport.get(c.imp) ?? 0) + 1);
    for (const imp of CALL_IMPORTS) t.true((perImport.get(imp) ?? 0) >= PER_IMPORT, `${imp} is called`);
    for (const mode of MODES) {
      const r = runProbe(probe, { kernel: mode.kernel, pti: mode.pti, syscallEntry: mode.syscallEntry, schedule });
      const what = `${schedule.name}, ${mode.name}`;
      t.deepEqual(lines(r.failures), [], what);
      t.is(r.observed, plan.cases.length, `${what}: every call observed`);
      t.is(r.selfFails, 0, `${what}: the probe's own checks`);
      t.deepEqual(r.probeExit && { status: r.probeExit.status, signal: r.probeExit.signal }, { status: 137,
        signal: 'SIGKILL' },
        `${what}: killed while spinning after its last call`);
      // The adversity really happened: calls slept (each kind the runner forces), and other tasks ran meanwhile.
      for (const imp of MUST_SLEEP) t.true(r.blockedImports.has(imp), `${what}: a ${imp} call slept`);
      t.true(r.blocked >= MUST_SLEEP.length, `${what}: ${r.blocked} calls slept`);
      if (schedule.hz > 100_000) t.true(r.switched > plan.cases.length / 4,
        `${what}: preempted in ${r.switched} calls`);
      t.log(`${what}: ${plan.cases.length} calls, ${r.blocked} slept, ${r.switched} with a switch, `
        + `${r.timerInterrupts} ticks, ${r.instructions} instructions`);
    }
  });
});

test('with the old switch_to faults put back, the harness reports the calls that slept, in kernel mode only', t => {
  const plan = makePlan({ seed: SEED + 100, perImport: 3 });
  const probe = buildProbe(plan, 'spin');
  const schedule = SCHEDULES[2];
  const seen = new Set<string>();
  for (const pti of [false, true]) {
    const faulty: RunReport = runProbe(probe, { kernel: true, pti, schedule, reintroduce: ['switch-drops-registers',
      'switch-drops-eflags'] });
    t.true(faulty.failures.length > 0, `pti ${pti}: the faults are reported`);
    // Every register or flag failure is on a call that slept, and says so. (The machine may also die of the fault:
    // with PTI the kernel double-faults once a task resumes with another's registers; that is reported too.)
    for (const f of faulty.failures) {
      if (f.promise.endsWith(' preserved') || f.promise === 'IF set' || f.promise === 'DF clear') {
        t.regex(f.detail, /\(slept\)$/, lines([f])[0]);
        seen.add(f.promise);
      }
    }
    t.log(`pti ${pti}: ${faulty.kernelExit}: ${faulty.failures.length} failures: `
      + `${[...new Set(faulty.failures.map(f => `${f.imp}: ${f.promise}`))].join('; ')}`);
  }
  for (const promise of [...REG_ORDER.map(r => `${r} preserved`), 'IF set', 'DF clear']) t.true(seen.has(promise),
    `${promise} failures seen`);
  // In user mode the entry code saves every register in pt_regs: the same faults change nothing there.
  const user = runProbe(probe, { kernel: false, pti: false, schedule, reintroduce: ['switch-drops-registers',
    'switch-drops-eflags'] });
  t.deepEqual(lines(user.failures), []);
});

// exit never returns: the process ends with the status's low byte. The allocators' impossible sizes end it with
// SIGABRT after "tal: out of memory" on stderr. The same in every mode.
const DEATHS = [
  ...fc.sample(fc.integer(), { seed: SEED, numRuns: LONG ? 12
    : 3 }).map(s => ({ call: `push ${s}\n    call DWORD PTR [exit]`, imp: 'exit', status: s & 0xff, stderr: '' })),
  { call: 'push 0\n    push -1\n    call DWORD PTR [tal_new_array]', imp: 'tal_new_array', status: 134,
    stderr: 'tal: out of memory\n' },
  { call: 'push 0\n    push -1\n    call DWORD PTR [tal_new_bytes]', imp: 'tal_new_bytes', status: 134,
    stderr: 'tal: out of memory\n' },
  { call: 'push 0\n    push 0x7fffff00\n    call DWORD PTR [tal_new_bytes]', imp: 'tal_new_bytes', status: 134,
    stderr: 'tal: out of memory\n' },
];
test('exit ends the process with its status\'s low byte; allocators abort on impossible sizes; every mode', t => {
  for (const d of DEATHS) {
    // After exit nothing may follow but a label; after an allocation that (wrongly) returned, exit(1).
    const imports = d.imp === 'exit' ? 'exit' : `${d.imp}, exit`;
    const tail = d.imp === 'exit' ? '' : '    push 1\n    call DWORD PTR [exit]\n';
    const source = `.intel_syntax noprefix\n.tal_import ${imports}\n.text\n`
      + `.tal_label main : code[r:stack]{esp: r}\nmain:\n    ${d.call}\n${tail}`;
    const { elf } = assemble(source, 'death.tal');
    t.true(checkElf(elf).ok, d.call);
    for (const mode of MODES) {
      const r = runProgram(elf, ['death'], { kernel: mode.kernel, pti: mode.pti, syscallEntry: mode.syscallEntry });
      t.is(r.status, d.status, `${d.call.replace(/\n\s*/g, '; ')}: ${mode.name}`);
      t.is(Buffer.from(r.stderr).toString('latin1'), d.stderr, `${mode.name}: stderr`);
    }
  }
});

// The probe is an ordinary executable: natively, on the host's Linux, with the same fixture, its own checks (the
// sentinels, the canaries, the results it can see) pass, as they do in the emulator with the observer watching.
test('the native-safe probe passes its own checks natively and under the observer in user and kernel mode', t => {
  if (process.platform !== 'linux'
    || process.arch !== 'x64') return t.pass('not on x86 Linux: the native run is skipped');
  const plan = makePlan({ seed: SEED + 200, perImport: LONG ? 10 : 2, native: true });
  const probe = buildProbe(plan, 'exit');
  const dir = scratch('ktal-conformance-');
  try {
    const c = join(dir.dir, 'c');
    mkdirSync(join(c, 'dir'), { recursive: true });
    chmodSync(c, 0o777);
    writeFileSync(join(c, 'file'), 'the fixture file: 64 bytes of text for the conformance harness.\n');
    for (const n of ['a', 'bb', 'ccc']) writeFileSync(join(c, 'dir', n), n);
    symlinkSync('file', join(c, 'link'));
    writeFileSync(join(c, 'secret'), 'root only\n', { mode: 0o600 });
    const exe = dir.file('probe', probe.elf, 0o755);
    const native = runNative(exe, plan.argv.slice(1), { cwd: c });
    t.is(native.signal, null, 'native: no signal');
    t.is(native.status, 0, `native: the probe's own checks (status ${native.status}: 128 + failure bits)`);
    for (const mode of MODES) {
      const r = runProbe(probe, { kernel: mode.kernel, pti: mode.pti, syscallEntry: mode.syscallEntry,
        schedule: SCHEDULES[1] });
      t.deepEqual(lines(r.failures), [], mode.name);
      t.is(r.probeExit?.status, 0, `${mode.name}: the probe's own checks`);
    }
  } finally {
    dir.done();
  }
});
