// Every resource the kernel holds for a program, driven to its bound in user mode and in kernel mode (verified, at
// CPL 0), with the errors Linux gives there and the host memory talrun uses meanwhile (kernel/net/limits.ts,
// docs/kernel.md "Limits"):
//   - the listen backlog (somaxconn): connects beyond it wait (EINPROGRESS, EALREADY; a blocking one sleeps until
//     accept makes room), closing the listener refuses the waiting ones;
//   - sk_rcvbuf/sk_sndbuf per connection (SO_RCVBUF/SO_SNDBUF doubled, capped at rmem_max), a closed sender's queued
//     bytes still delivered; tcp_mem over all queued bytes; the loop `socket; connect; write 256 KiB; close` against
//     a listener that never accepts holds at most tcp_mem, in the kernel's accounts and in talrun's memory, and
//     closing the listener (or ending the process) frees it all;
//   - descriptors: EMFILE at RLIMIT_NOFILE (1024) per process, ENFILE at file-max over the machine's sockets;
//   - processes: the task table's 64 slots (the idle task holds one);
//   - pages: a program that allocates without end, or whose stack grows without end, ends cleanly (SIGABRT with
//     "tal: out of memory", SIGKILL, or the kernel-mode stack's double fault), never with a host exception;
//   - host allocations: a huge count with a small buffer allocates nothing in proportion to the count.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { compile } from '../../compiler/popc.ts';
import { assemble } from '../../tal/asm/assembler.ts';
import { bootKernel, start, outcome, runProgram } from '../../kernel/talrun.ts';
import { ExecError, NR_TASKS, type Kernel } from '../../kernel/kernel.ts';
import { netLimits, SOMAXCONN, TCP_RMEM_DEFAULT, TCP_WMEM_DEFAULT, NR_FILE } from '../../kernel/net/limits.ts';
import { NR_OPEN_DEFAULT } from '../../kernel/fdtable.ts';
import { EAGAIN, EALREADY, ECONNREFUSED, EINPROGRESS, EISCONN, EMFILE, ENFILE } from '../../kernel/errno.ts';
import { scratch } from '../util/native.ts';

const root = join(import.meta.dirname, '..', '..');
const talrun = join(root, 'bin/talrun.js');
const bin = scratch('ktal-resources-');
test.after.always(() => bin.done());

function popc(path: string): Uint8Array {
  const r = compile(readFileSync(join(root, path), 'utf8'), path);
  if (!r.elf) throw new Error(`${path}: ${JSON.stringify(r.diagnostics)} ${r.assemblerErrors ?? ''}`);
  return r.elf;
}
function tal(path: string): Uint8Array {
  const r = assemble(readFileSync(join(root, path), 'utf8'), path);
  if (!('elf' in r)) throw new Error(`${path}: ${JSON.stringify(r)}`);
  return r.elf;
}
const LIMITS = popc('test/popc/net/limits.pop');
const limitsExe = bin.file('limits', LIMITS, 0o755);
const HOG = compile(`#include "core.h"
open Core;
void pop_main() { while (true) new_string(1 << 20); }
`, 'hog.pop').elf!;
const HELLO = tal('tal/examples/hello.tal');
const RECURSE = tal('test/programs/kernel/recurse.tal');
const HUGECOUNT = tal('test/programs/kernel/hugecount.tal');

const MODES = [['user mode', false], ['kernel mode', true]] as const;
const MiB = 1 << 20;
const PORT = 7000;
const SEND = 256 * 1024;

/** The host memory the process holds after a full collection: JS heap and array buffers (guest RAM included). */
const gc = (() => {
  v8.setFlagsFromString('--expose_gc');
  return vm.runInNewContext('gc') as () => void;
})();
async function held(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise(r => setTimeout(r, 20)); // array buffers' memory is released after the collection
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** A kernel (128 MiB unless told), collecting each process's console output apart. */
function machine(memoryBytes?: number): { k: Kernel; text: (pid?: number) => string } {
  const out: { pid: number; b: Uint8Array }[] = [];
  let k: Kernel | undefined = undefined;
  k = bootKernel({ memoryBytes, onOutput: (_fd, b) => out.push({ pid: k!.current.pid, b }) });
  const text = (pid?: number) =>
    Buffer.concat(out.filter(o => pid === undefined || o.pid === pid).map(o => o.b)).toString();
  return { k, text };
}

function startOrFail(k: Kernel, image: Uint8Array, argv: string[], kernel: boolean): number {
  const pid = start(k, image, argv, { kernel });
  if (typeof pid !== 'number') throw new Error(`${argv.join(' ')}: ${pid.message}`);
  return pid;
}

/** The `name value` lines a program printed, as a map. */
function values(text: string): Map<string, number> {
  return new Map(text.trim().split('\n').map(l => l.split(' ')).map(([k, v]) => [k, Number(v)]));
}

/** The peak of the machine's queued socket bytes while `f` runs. */
function trackPeak(k: Kernel): () => number {
  let peak = 0;
  const mem = k.net.mem, charge = mem.charge.bind(mem);
  mem.charge = (n: number) => { charge(n); peak = Math.max(peak, mem.used); };
  return () => peak;
}

/**
 * The loop `socket; connect; write 256 KiB; close` × 5000 against a listener that never accepts, in one mode: what
 * the program sees, the kernel's accounts, and the host memory held meanwhile (JS heap and array buffers after a
 * full collection; measured from after the boot, so the guest's RAM is not in it).
 */
async function flood(t: ExecutionContext, mode: string, kernel: boolean): Promise<void> {
  const { k, text } = machine();
  const limits = netLimits(128 * MiB);
  const peak = trackPeak(k);
  const pid = startOrFail(k, LIMITS, ['limits', 'flood', String(PORT), '5000', String(SEND), 'hold'], kernel);
  // A few instructions first: the emulator lets go of the previous machine only once another runs.
  t.is(k.run(10_000), 'limit');
  const before = await held();
  t.is(k.run(3e9), 'idle', 'the last connect waits at the full listener');
  const v = values(text());
  t.is(v.get('queued'), SOMAXCONN + 1, 'sk_acceptq_is_full: backlog + 1 connections queue');
  t.is(v.get('waiting'), 5000 - SOMAXCONN - 1, 'the others wait (EINPROGRESS)');
  t.is(v.get('sent'), limits.tcpMemBytes, 'the sends stop at tcp_mem');
  t.is(v.get('other'), 0);
  // Each connection's first send takes sk_rcvbuf + sk_sndbuf, until the pool runs out; then EAGAIN.
  const full = Math.floor(limits.tcpMemBytes / (TCP_RMEM_DEFAULT + TCP_WMEM_DEFAULT));
  t.is(v.get('eagain'), 5000 - full - 1);
  t.is(peak(), limits.tcpMemBytes);
  t.is(k.net.mem.used, limits.tcpMemBytes, 'still held: the connections are queued at the listener');
  t.is(k.net.nrSockets, SOMAXCONN + 1 + 2, 'the queued connections, the listener and the waiting connect');
  const grew = await held() - before;
  t.log(`${mode}: ${limits.tcpMemBytes / MiB} MiB queued in ${SOMAXCONN + 1} connections (${5000 * SEND / MiB} MiB ` +
    `offered); the host memory held grew by ${(grew / MiB).toFixed(1)} MiB`);
  t.true(grew < limits.tcpMemBytes + 32 * MiB, `held ${grew}`);
  k.sendSignal(k.findTask(pid)!, 9);
  t.is(k.run(1e8), 'done');
  t.is(k.net.mem.used, 0, 'everything queued is freed');
  t.is(k.net.nrSockets, 0);
}

test.serial('socket; connect; write 256 KiB; close × 5000 against a listener that never accepts, in user mode and ' +
  'kernel mode: somaxconn + 1 connections queue, the rest wait, at most tcp_mem is queued and at most tcp_mem + 32 ' +
  'MiB of host memory held; ending the process frees it all', async t => {
  // One machine at a time: each is freed before the next is measured.
  for (const [mode, kernel] of MODES) await flood(t, mode, kernel);
});

for (const [mode, kernel] of MODES) {
  test.serial(`${mode}: closing a listener frees the bytes queued on the connections it never accepted`, t => {
    const { k, text } = machine();
    const limits = netLimits(128 * MiB);
    startOrFail(k, LIMITS, ['limits', 'flood', String(PORT), '300', String(SEND), 'close'], kernel);
    t.is(k.run(1e9), 'idle', 'the process waits for console input, holding nothing');
    const v = values(text());
    t.is(v.get('queued'), 300);
    t.is(v.get('sent'), limits.tcpMemBytes);
    t.is(v.get('close-listener'), 0);
    t.is(k.net.mem.used, 0);
    t.is(k.net.nrSockets, 0);
  });

  test(`${mode}: connects beyond the backlog wait: EINPROGRESS, EALREADY, then room from accept: POLLOUT, 0, EISCONN; ` +
    `closing the listener refuses a waiting one`, t => {
    const { k, text } = machine();
    startOrFail(k, LIMITS, ['limits', 'backlog', String(PORT), '3'], kernel);
    t.is(k.run(1e9), 'done');
    t.is(text(), [
      'listen 0', 'connected-at-once 4', `then ${-EINPROGRESS}`, `again ${-EALREADY}`, 'poll-waiting 0', 'accept 0',
      'revents 4', 'connect-done 0', `connect-more ${-EISCONN}`, `next ${-EINPROGRESS}`, 'close-listener 0',
      `refused ${-ECONNREFUSED}`, '',
    ].join('\n'));
  });

  test(`${mode}: a blocking connect beyond the backlog sleeps until the server accepts, in simulated time`, t => {
    const { k, text } = machine();
    const server = startOrFail(k, LIMITS, ['limits', 'serve', String(PORT), '2', '1', '50'], kernel);
    const client = startOrFail(k, LIMITS, ['limits', 'connect', String(PORT), '5'], kernel);
    t.is(k.run(1e9), 'done');
    const s = text(server).trim().split('\n');
    t.deepEqual(s.map(l => l.replace(/ \d+$/, '')), ['listen', 'accepting-at', 'accepted', 'close-listener']);
    const acceptAt = Number(s[1].split(' ')[1]);
    t.true(acceptAt >= 50);
    const c = text(client).trim().split('\n').map(l => /^connect (\d) (-?\d+) at (\d+)$/.exec(l)!.slice(1).map(Number));
    t.deepEqual(c.map(([i, r]) => [i, r]), [[0, 0], [1, 0], [2, 0], [3, 0], [4, -ECONNREFUSED]]);
    t.true(c.slice(0, 3).every(([, , at]) => at < 50), 'backlog + 1 connect at once');
    t.true(c[3][2] >= acceptAt, 'the fourth returns once accept made room');
  });

  test(`${mode}: SO_RCVBUF/SO_SNDBUF bound what a connection queues (doubled, capped at rmem_max), and a closed ` +
    `sender's queued bytes still arrive`, t => {
    const r = runProgram(LIMITS, ['limits', 'bufs', String(PORT)], { kernel });
    t.is(r.status, 0, r.message);
    t.is(Buffer.from(r.stdout).toString(), [
      `small ${8192 + 8192}`, `small-again ${-EAGAIN}`, 'close-sender 0', `read ${8192 + 8192}`, 'then 0',
      `large-rcvbuf ${2 * 212992 + TCP_WMEM_DEFAULT}`, `default ${TCP_RMEM_DEFAULT + TCP_WMEM_DEFAULT}`, '',
    ].join('\n'));
  });

  test(`${mode}: descriptors: EMFILE at RLIMIT_NOFILE in each process, ENFILE at file-max over the machine's sockets`,
    t => {
    const { k, text } = machine(32 * MiB);
    t.is(netLimits(32 * MiB).fileMax, NR_FILE, 'a 32 MiB machine has the least file-max');
    const n = Math.ceil(NR_FILE / (NR_OPEN_DEFAULT - 3)) + 1;
    for (let i = 0; i < n; i++) startOrFail(k, LIMITS, ['limits', 'sockets'], kernel);
    t.is(k.run(1e9), 'idle', 'every process holds its sockets');
    const lines = text().trim().split('\n').map(l => l.split(' '));
    const counts = lines.filter(([w]) => w === 'sockets').map(([, c]) => Number(c));
    const errors = lines.filter(([w]) => w === 'then').map(([, e]) => Number(e));
    t.is(counts.length, n);
    t.true(counts.every(c => c <= NR_OPEN_DEFAULT - 3), 'no process has more than 1024 descriptors');
    t.is(counts.reduce((a, b) => a + b, 0), NR_FILE, 'the machine has file-max sockets');
    t.true(errors.every(e => e === -EMFILE || e === -ENFILE));
    t.true(errors.includes(-ENFILE) && errors.includes(-EMFILE));
    t.is(k.net.nrSockets, NR_FILE);
  });

  test(`${mode}: processes: the task table has ${NR_TASKS} slots, one the idle task's; a free slot is used again`,
    t => {
    const { k } = machine();
    const pids: number[] = [];
    let err: unknown;
    for (;;) {
      try {
        pids.push(k.spawn(HELLO, { argv: ['hello'], kernelMode: kernel }).pid);
      } catch (e) {
        err = e;
        break;
      }
    }
    t.is(pids.length, NR_TASKS - 1);
    t.true(err instanceof ExecError, String(err));
    k.sendSignal(k.findTask(pids[0])!, 9);
    t.notThrows(() => k.spawn(HELLO, { argv: ['hello'], kernelMode: kernel }));
    t.is(k.run(1e8), 'done');
  });

  test(`${mode}: pages: a program that allocates without end is ended cleanly (SIGABRT, "tal: out of memory")`, t => {
    const r = runProgram(HOG, ['hog'], { kernel, memoryBytes: 16 * MiB });
    t.is(r.signal, 'SIGABRT');
    t.is(Buffer.from(r.stderr).toString(), 'tal: out of memory\n');
  });
}

test('user mode: a stack that grows until memory runs out is SIGKILL (out of memory); kernel mode: its fixed stack ' +
  'double-faults (SIGSEGV)', t => {
  const user = runProgram(RECURSE, ['recurse'], { memoryBytes: 8 * MiB });
  t.is(user.signal, 'SIGKILL');
  t.regex(user.message ?? '', /out of memory/);
  const kernel = runProgram(RECURSE, ['recurse'], { kernel: true, memoryBytes: 8 * MiB });
  t.is(kernel.signal, 'SIGSEGV');
});

test.serial('host allocations: write(/dev/null, 1 byte, 2 GiB), read(/dev/zero, small buffer, 2 GiB), poll(nfds ' +
  '2^32-1) allocate nothing in proportion to the count', async t => {
  const { k } = machine();
  const before = await held();
  const pid = startOrFail(k, HUGECOUNT, ['hugecount'], false);
  t.is(k.run(1e8), 'done');
  // Before any collection: what the calls allocated, garbage included.
  const m = process.memoryUsage();
  const grew = m.heapUsed + m.arrayBuffers - before;
  t.is(outcome(k, pid, 'done').status, 0);
  t.true(grew < 16 * MiB, `held ${grew}`);
});

test('waiters: 3000 polls of an idle connection and the console (1 ms timeout each) leave one waiter per queue, not ' +
  'one per poll', t => {
  const { k, text } = machine();
  const pid = startOrFail(k, LIMITS, ['limits', 'pollwait', String(PORT), '3000'], false);
  t.is(k.run(1e10), 'idle');
  t.is(text(), 'polled 3000\nready 0\n');
  const task = k.findTask(pid)!;
  const client = k.net.socketOf(task.files.get(4)!)!;
  for (const q of client.queues()) t.true(q.size <= 1, `a socket queue holds ${q.size}`);
  t.true(k.vfs.console.wq.size <= 1, `the console's queue holds ${k.vfs.console.wq.size}`);
});

/** talrun's peak resident memory (VmHWM) once it has printed `until`, in KiB; the process is then killed. */
function talrunPeak(args: string[], until: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [talrun, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no '${until}' in 60 s: ${out} ${err}`));
    }, 60_000);
    child.stderr.on('data', d => { err += d; });
    child.stdout.on('data', d => {
      out += d;
      if (!out.includes(until)) return;
      // Let the machine reach its rest (the blocked console read) before reading the peak.
      setTimeout(() => {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve(Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]));
      }, 200);
    });
    child.on('exit', code => {
      if (out.includes(until)) return;
      clearTimeout(timer);
      reject(new Error(`talrun exited ${code}: ${err}`));
    });
  });
}

test('talrun itself: the 5000-iteration loop against a listener that never accepts adds at most 96 MiB to its peak ' +
  'RSS (the queues hold 12 MiB; the rest is sockets and garbage not yet collected), in user and kernel mode', async t => {
  const flood = (n: number) => ['flood', String(PORT), String(n), String(SEND), 'close'];
  for (const [mode, kernel] of MODES) {
    const k = kernel ? ['--kernel'] : [];
    const [idle, busy] = await Promise.all([
      talrunPeak([...k, limitsExe, ...flood(0)], 'close-listener'),
      talrunPeak([...k, limitsExe, ...flood(5000)], 'close-listener'),
    ]);
    const offered = (5000 * SEND / MiB).toFixed(0);
    t.log(`${mode}: talrun peak RSS ${(idle / 1024).toFixed(0)} MiB with no connections, ${(busy / 1024).toFixed(0)} ` +
      `MiB`
      + ` after 5000 × (connect; write 256 KiB; close), ${offered} MiB offered`);
    t.true(busy - idle < 96 * 1024, `${busy - idle} KiB more`);
  }
});
