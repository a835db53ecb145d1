// The same work costs the same in both modes (issue 15; docs/machine.md, "The runtime's work in kernel mode"): find
// over a small tree and echod serving a few round trips run in user mode and in kernel mode under the `unit`
// profile, and the difference in every counter is exactly what the crossings account for, item by item. Each
// system call user mode makes costs it the crossing part of its stub (the basic block that loads the registers,
// calls the kernel entry and returns: walked in the assembled runtime), the runtime's `int 0x80; ret`, the kernel's
// int 0x80 entry code's path (decoded from the entry code the kernel built), one trap, one entry from CPL 3 and, if
// the call returns, one iret and one exit to CPL 3 (the default entry, int 0x80, Linux 2.4's). Kernel
// mode instead makes one kernel call per import call; everything else (the program, the runtime's own work, the
// kernel's work) is the same count in both.
//
// The timer is slowed to one tick a simulated second (hz 1), so that neither run is interrupted: a tick lands at a
// different instruction in each mode and would make the two runs differ by where the scheduler switched, not by
// what they did.
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../../compiler/popc.ts';
import { runProgram, type SyncRun } from '../../kernel/talrun.ts';
import { Kernel } from '../../kernel/kernel.ts';
import { exitAt, walkRuntime, type ClassCounts } from '../../kernel/rtwork.ts';
import { buildInitialStack } from '../../kernel/exec/stack.ts';
import { TASK_SIZE } from '../../kernel/arch/layout.ts';
import { IMPORTS } from '../../tal/interface.ts';
import { syscallName, SYS } from '../../kernel/syscalls/numbers.ts';
import { decode } from '../../emulator/decode.ts';
import { Op } from '../../emulator/execute.ts';
import { REC } from '../../emulator/memory.ts';
import { CLASS_NAMES } from '../../emulator/stats.ts';
import { profileByName } from '../../emulator/profiles.ts';
import { WORK_KINDS } from '../../kernel/work.ts';

const root = join(import.meta.dirname, '..', '..');
function popc(source: string, name: string): Uint8Array {
  const r = compile(source, `${name}.pop`);
  if (!r.elf) throw new Error(`${name}: ${JSON.stringify(r.diagnostics)}`);
  return r.elf;
}
const example = (name: string) => popc(readFileSync(join(root, 'compiler/examples', `${name}.pop`), 'utf8'), name);

const zero = (): number[] => CLASS_NAMES.map(() => 0);
const add = (into: number[], c: ClassCounts, times = 1): void => { c.forEach((x, i) => { into[i] += times * x; }); };
const named = (c: ClassCounts): Record<string, number> => Object.fromEntries(CLASS_NAMES.map((n, i) => [n, c[i]]));

/** The int 0x80 entry code's path, by class: up to its call through sys_call_table, and from there to its iret. */
function entryPath(): { before: number[]; after: number[] } {
  const k = new Kernel({ profile: profileByName('unit') });
  const base = Math.min(...k.entry.at.values());
  const bytes = k.entry.bytes, rec = new Int32Array(REC);
  const before = zero(), after = zero();
  let part = before;
  for (let at = k.entry.at.get('int80')!; ;) {
    decode(bytes, at - base, bytes.length - (at - base), rec, 0);
    const op = rec[0], next = at + (rec[1] & 0xff);
    part[(rec[1] >> 16) & 0xff]++;
    if (op === Op.IRET) return { before, after };
    if (op === Op.CALL_M) part = after; // the system call's kernel function runs here
    at = op === Op.JMP ? next + rec[7] : next; // jae badsys is not taken: every call here has a number
  }
}

/** A stub's crossing block, whole and as far as its trap (what a call that never returns runs of it). */
function stubCrossing(name: string): { whole: ClassCounts; upToTrap: number[] } {
  const p = walkRuntime(`__tal_rt_${name}`, { __tal_rt_cpath_done: () => true });
  return { whole: p.crossing, upToTrap: p.crossing.map((x, i) => x - p.crossingAfter[i]) };
}

const importBySyscall = new Map(
  IMPORTS.filter(s => s.syscall !== undefined).map(s => [syscallName(s.syscall!), s.name]));

/**
 * The runtime's start-up path (it saves the initial esp for tal_args, looks for AT_SYSINFO past envp in the
 * auxiliary vector, and jumps to main), for a process started with no environment and the int 0x80 entry only: the
 * auxiliary vector as the loader builds it, ending with AT_NULL.
 */
function startPath(): number[] {
  const stack = buildInitialStack({
    argv: ['x'], envp: [], creds: { uid: 0, euid: 0, gid: 0, egid: 0 }, entry: 0, phdr: 0, phnum: 0, filename: 'x',
    random: new Uint8Array(16), top: TASK_SIZE,
  });
  if (typeof stack === 'number') throw new Error('no stack');
  const entries = stack.auxv.length - 1; // before AT_NULL
  const p = walkRuntime('__tal_rt_start', {
    __tal_rt_start_envp: () => false, __tal_rt_start_main: exitAt(entries), __tal_rt_start_auxv: () => true,
  });
  return p.charged.map((x, i) => x + p.crossing[i]);
}

/**
 * What user mode runs more than kernel mode, by class: each process's start in the runtime (kernel mode starts at
 * main), and for each system call made (by name) its stub's crossing block (brk: the allocator's, the first of each
 * process's heap or a growth), the runtime's int 0x80 entry (`int 0x80; ret`) and the kernel's entry code's path,
 * each cut at the trap for the calls that never return.
 */
function expectedExtra(calls: ReadonlyMap<string, number>, processes: number, neverReturn: ReadonlyMap<string, number>):
  number[] {
  const entry = entryPath();
  const out = zero();
  add(out, startPath(), processes);
  const int80 = walkRuntime('__tal_rt_int80');
  for (const [name, n] of calls) {
    const gone = neverReturn.get(name) ?? 0;
    add(out, entry.before, n);
    add(out, entry.after, n - gone);
    add(out, int80.crossing, n - gone);
    add(out, int80.crossing.map((x, i) => x - int80.crossingAfter[i]), gone);
    if (name === 'brk') {
      const alloc = (init: boolean, grow: boolean) => walkRuntime('__tal_rt_tal_alloc',
        { __tal_rt_allocate_have: () => !init, __tal_rt_allocate_fits: () => !grow });
      const first = alloc(true, false), grow = alloc(false, true);
      add(out, first.crossing, processes);
      add(out, grow.crossing, n - processes);
      continue;
    }
    const imp = importBySyscall.get(name);
    if (!imp) throw new Error(`no import makes system call ${name}`);
    const c = stubCrossing(imp);
    add(out, c.whole, n - gone);
    add(out, c.upToTrap, gone);
  }
  return out;
}

interface Pair { user: SyncRun; kernel: SyncRun }

/** Both runs agree on everything the crossing does not explain; returns nothing, asserts. */
function assertSameWork(t: import('ava').ExecutionContext, { user, kernel }: Pair, processes: number,
  neverReturn: ReadonlyMap<string, number>): void {
  t.is(kernel.stdout.toString(), user.stdout.toString());
  t.deepEqual([...kernel.syscalls], [...user.syscalls], 'the same system calls');
  const u = user.stats, k = kernel.stats;
  // The system calls made, by name: the kernel-mode import calls that are system calls, and the allocator's brk
  // calls (the system-call counts also count each restart of a call that slept).
  const made = new Map<string, number>();
  for (const [imp, n] of kernel.runtime.calls) {
    const nr = IMPORTS.find(s => s.name === imp)?.syscall;
    if (nr !== undefined) made.set(syscallName(nr), (made.get(syscallName(nr)) ?? 0) + n);
  }
  made.set('brk', user.syscalls.get('brk') ?? 0);
  const calls = [...made.values()].reduce((a, b) => a + b, 0);
  const restarts = [...user.syscalls.values()].reduce((a, b) => a + b, 0) - calls;
  const returning = calls - [...neverReturn.values()].reduce((a, b) => a + b, 0);

  // Instructions, class by class: user mode's executed = kernel mode's executed + the runtime's charged + the crossing.
  const extra = expectedExtra(made, processes, neverReturn);
  const userByClass = CLASS_NAMES.map(c => u.byClass[c]);
  const kernelByClass = CLASS_NAMES.map(c => k.byClass[c] + kernel.runtime.byClass[c]);
  t.deepEqual(named(userByClass.map((x, i) => x - kernelByClass[i])), named(extra),
    'user − (kernel + charged runtime) = the crossings\' instructions');
  t.true(CLASS_NAMES.some(c => kernel.runtime.byClass[c] > 0), 'kernel mode was charged the runtime\'s work');
  t.deepEqual(user.runtime.byClass, named(zero()), 'user mode runs the runtime itself: nothing charged');

  // The events: a trap and an entry per call, an iret and an exit per call that returns (and the one that starts
  // each user-mode process); kernel mode has none of them.
  t.deepEqual(u.traps, { 0x80: calls });
  t.deepEqual(k.traps, {});
  t.is(u.userEntries, calls);
  t.is(u.userExits, returning + processes);
  t.is(k.userEntries + k.userExits, 0);
  t.is(u.irets - k.irets, returning, 'one iret per call that returns (each process\'s first entry is one in both)');
  // Kernel calls: user mode one per system call (through sys_call_table), kernel mode one per import call; both one
  // more each time a call that slept is restarted, the same number of times in both.
  const imports = [...kernel.runtime.calls.values()].reduce((a, b) => a + b, 0);
  t.is(u.kernelCalls - calls, restarts, 'user mode: a kernel call per system call, and per restart');
  t.is(k.kernelCalls - imports, restarts, 'kernel mode: a kernel call per import call, and per restart');
  // Everything else is the same count.
  t.is(u.cr3Writes, k.cr3Writes);
  t.is(u.taskSwitches, k.taskSwitches);
  t.is(u.timerInterrupts, 0);
  t.is(k.timerInterrupts, 0);
  t.is(u.doubleFaults + k.doubleFaults, 0);
  // The kernel's own work, unit by unit; but setsockopt's optval: user mode's stub passes a pointer to the value's
  // stack slot, which the kernel copies in (4 bytes), while kernel mode passes the value itself (kernel/ktal.ts).
  const optval = 4 * (made.get(syscallName(SYS.setsockopt)) ?? 0);
  for (const w of WORK_KINDS) t.is(user.work[w].units - kernel.work[w].units, w === 'copyByte' ? optval : 0, w);
}

const dir = mkdtempSync(join(tmpdir(), 'ktal-same-work-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** A tree of `dirs` directories of 5 files, read-only at /t. */
function tree(name: string, dirs: number): string {
  const top = join(dir, name);
  mkdirSync(top);
  for (let d = 0; d < dirs; d++) {
    mkdirSync(join(top, `d${d}`));
    for (let f = 0; f < 5; f++) writeFileSync(join(top, `d${d}`, `f${f}.c`), 'x'.repeat(10 * f));
  }
  return top;
}

const UNIT = { profile: 'unit', hz: 1 };

function findBoth(top: string): Pair {
  const find = example('find');
  const o = { ...UNIT, mounts: [{ host: top, guest: '/t', rw: false }] };
  const argv = ['find', '/t', '-name', '*.c'];
  return { user: runProgram(find, argv, o), kernel: runProgram(find, argv, { ...o, kernel: true }) };
}

test('find: user mode costs kernel mode exactly the crossings, item by item; the TLB difference does not grow', t => {
  const small = findBoth(tree('small', 3)), large = findBoth(tree('large', 9));
  for (const p of [small, large]) {
    t.is(p.user.status, 0, p.user.stderr.toString());
    t.is(p.kernel.status, 0, p.kernel.stderr.toString());
    assertSameWork(t, p, 1, new Map([['exit_group', 1]]));
  }
  t.true(large.user.syscalls.get('getdents64')! > small.user.syscalls.get('getdents64')!);
  // TLB misses: user mode touches a few pages kernel mode does not (the stubs' page, the runtime's data, the entry
  // code, the kernel stack) and kernel mode the kernel functions' page; compulsory misses, one per page, however
  // many calls are made.
  const tlb = (p: Pair) => p.user.stats.tlbMisses - p.kernel.stats.tlbMisses;
  t.is(tlb(large), tlb(small));
});

// A client that prints nothing that depends on time (pingpong prints its round-trip times, whose digits would
// differ between the modes): N round trips of 64 bytes, each echo checked.
const CLIENT = (port: number, trips: number) => `
#include "core.h"
#include "net.h"
open Core;
void pop_main() {
  int fd = Sys::socket(Net::AF_INET, Net::SOCK_STREAM, 0);
  if (fd < 0) Sys::exit(1);
  if (Sys::connect(fd, Net::sockaddr_in(127, 0, 0, 1, ${port}), 0) < 0) Sys::exit(1);
  string msg = new_string(64);
  string back = new_string(64);
  for (int i = 0; i < ${trips}; i++) {
    for (int j = 0; j < 64; j++) msg[j] = (i + j * 7) & 0xff;
    if (Net::send_all(fd, msg, 0, 64) != 64) Sys::exit(3);
    if (Net::recv_all(fd, back, 0, 64) != 64) Sys::exit(4);
    for (int j = 0; j < 64; j++) if (back[j] != msg[j]) Sys::exit(5);
  }
  Sys::close(fd);
}
`;

test('echod: a few round trips cost user mode exactly the crossings more, item by item', t => {
  const echod = example('echod'), client = popc(CLIENT(7000, 5), 'client');
  const run = (kernel: boolean) => runProgram(client, ['client'], {
    ...UNIT, kernel, background: [{ image: echod, argv: ['echod', '7000'] }],
  });
  const p = { user: run(false), kernel: run(true) };
  t.is(p.user.status, 0, `${p.user.message ?? ''} ${p.user.stderr.toString()}`);
  t.is(p.kernel.status, 0, `${p.kernel.message ?? ''} ${p.kernel.stderr.toString()}`);
  // The client exits; echod, asleep in poll for the next event, is killed there: its last call never returns.
  assertSameWork(t, p, 2, new Map([['exit_group', 1], [syscallName(SYS.poll), 1]]));
  t.is(p.user.syscalls.get(syscallName(SYS.sendto))! + (p.user.syscalls.get('write') ?? 0) >= 5, true);
});
