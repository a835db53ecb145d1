// Processes on the kernel: preemption of a kernel-mode program by the timer, two processes making progress at
// once, kill, Ctrl-C, a kernel-mode stack overflow (the double fault at CPL 0) that ends only its own process,
// sleeping console reads, and the CR3 switches of page-table isolation.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { bootKernel, start, outcome, runProgram } from '../../kernel/talrun.ts';
import type { Kernel } from '../../kernel/kernel.ts';
import { ROOT } from '../../kernel/fs/permission.ts';
import { openat } from '../../kernel/fs/namei.ts';
import { vfsWrite } from '../../kernel/fs/file.ts';
import { O_CREAT, O_WRONLY } from '../../kernel/fs/fcntl.ts';
import { profileByName, DEFAULT_PROFILE } from '../../emulator/profiles.ts';

const root = join(import.meta.dirname, '..', '..');
const built = new Map<string, Uint8Array>();
function program(path: string): Uint8Array {
  let elf = built.get(path);
  if (!elf) {
    const r = assemble(readFileSync(join(root, path), 'utf8'), path);
    if (!('elf' in r)) throw new Error(`${path}: ${JSON.stringify(r)}`);
    elf = r.elf;
    built.set(path, elf);
  }
  return elf;
}
const SPIN = 'test/programs/kernel/spin.tal', WORKER = 'test/programs/kernel/worker.tal', RECURSE = 'test/programs/kernel/recurse.tal';
const CAT = 'tal/examples/cat.tal', HELLO = 'tal/examples/hello.tal';

function writeGuestFile(k: Kernel, path: string, data: Uint8Array): void {
  const f = openat(k.vfs.context(ROOT), undefined, path, O_WRONLY | O_CREAT, 0o644);
  if (typeof f === 'number') throw new Error(`create ${path}: ${f}`);
  if (vfsWrite(f, data) !== data.length) throw new Error(`write ${path}`);
}

function collector(): { out: Uint8Array[]; err: Uint8Array[]; order: number[]; hook: (fd: 1 | 2, b: Uint8Array) => void; text: (fd: 1 | 2) => string } {
  const out: Uint8Array[] = [], err: Uint8Array[] = [], order: number[] = [];
  return {
    out, err, order, hook: (fd, b) => { (fd === 1 ? out : err).push(b); order.push(fd); },
    text: fd => Buffer.concat(fd === 1 ? out : err).toString('latin1'),
  };
}

const content = Buffer.from(Array.from({ length: 20000 }, (_, i) => `line ${i}\n`).join(''));

for (const workerKernel of [false, true]) {
  test(`a kernel-mode spinner and a ${workerKernel ? 'kernel' : 'user'}-mode worker both make progress; the worker's ` +
    `kill ends the spinner`, t => {
    const io = collector();
    // Short time slices, so that the worker needs many (a kernel-mode worker needs far fewer cycles: no traps): for
    // a kernel-mode worker, a tick every 4,800 cycles of the default profile's clock.
    const hz = workerKernel ? Math.floor(profileByName(DEFAULT_PROFILE).clock.hz / 4800) : 10_000;
    const k = bootKernel({ onOutput: io.hook, hz });
    writeGuestFile(k, '/tmp/data', content);
    k.endInput();
    const spinner = start(k, program(SPIN), ['spin'], { kernel: true });
    const worker = start(k, program(WORKER), ['worker', '/tmp/data'], { kernel: workerKernel });
    if (typeof spinner !== 'number' || typeof worker !== 'number') return t.fail('spawn failed');
    t.is(worker, spinner + 1);
    const exit = k.run(400_000_000);
    t.is(exit, 'done');
    t.is(outcome(k, worker, exit).status, 0);
    t.is(io.text(1), content.toString('latin1').repeat(20));
    const s = outcome(k, spinner, exit);
    t.is(s.signal, 'SIGKILL');
    t.is(s.status, 137);
    // Both ran in turns: the spinner's dots (fd 2) come between the worker's writes (fd 1), and the other way round.
    t.regex(io.text(2), /^\.+$/);
    const firstOut = io.order.indexOf(1), lastOut = io.order.lastIndexOf(1);
    const firstDot = io.order.indexOf(2), lastDot = io.order.lastIndexOf(2);
    t.true(firstDot < lastOut && firstOut < lastDot, `interleaving: ${firstOut}-${lastOut} ${firstDot}-${lastDot}`);
    t.true(io.order.slice(firstOut, lastOut).includes(2), 'a dot while the worker was working');
    t.true(k.machine.stats().timerInterrupts >= 3);
  });
}

test('the host can kill a kernel-mode spinner (SIGKILL → 137) and Ctrl-C ends it with SIGINT (130)', t => {
  for (const [act, status, sig] of [[(k: Kernel, pid: number) => k.sendSignal(k.findTask(pid)!, 9), 137, 'SIGKILL'],
    [(k: Kernel) => k.interrupt(), 130, 'SIGINT']] as const) {
    const k = bootKernel({ onOutput: () => {} });
    const pid = start(k, program(SPIN), ['spin'], { kernel: true });
    if (typeof pid !== 'number') return t.fail();
    t.is(k.run(20_000_000), 'limit'); // it never stops by itself
    act(k, pid);
    const exit = k.run(50_000_000);
    t.is(exit, 'done');
    const o = outcome(k, pid, exit);
    t.is(o.status, status);
    t.is(o.signal, sig);
  }
});

test('a kernel-mode stack overflow is a double fault at CPL 0 that ends only that process (SIGSEGV); a worker goes on',
  t => {
  const io = collector();
  const k = bootKernel({ onOutput: io.hook });
  writeGuestFile(k, '/tmp/data', content);
  k.endInput();
  const rec = start(k, program(RECURSE), ['recurse'], { kernel: true });
  const cat = start(k, program(CAT), ['cat', '/tmp/data'], { kernel: false });
  const cat2 = start(k, program(CAT), ['cat', '/tmp/data'], { kernel: true });
  if (typeof rec !== 'number' || typeof cat !== 'number' || typeof cat2 !== 'number') return t.fail();
  const exit = k.run(200_000_000);
  t.is(exit, 'done');
  const r = outcome(k, rec, exit);
  t.is(r.signal, 'SIGSEGV');
  t.is(r.status, 139);
  t.regex(r.exit?.fault ?? '', /double fault: the kernel-mode stack is exhausted/);
  t.true(k.machine.stats().doubleFaults >= 1);
  t.is(k.panicMessage, undefined);
  t.is(outcome(k, cat, exit).status, 0);
  t.is(outcome(k, cat2, exit).status, 0);
  t.is(io.text(1), content.toString('latin1').repeat(2));
});

test('in user mode the same overflow grows the stack to its 8 MiB limit, then SIGSEGV from a #PF (as on Linux)', t => {
  const r = runProgram(program(RECURSE), ['recurse']);
  t.is(r.status, 139);
  t.regex(r.message ?? '', /SIGSEGV: #PF/);
  t.is(r.stats.doubleFaults, 0);
});

for (const kernel of [false, true]) {
  test(`a console read sleeps until input arrives (${kernel ? 'kernel' : 'user'} mode); the machine idles meanwhile`,
    t => {
    const io = collector();
    const k = bootKernel({ onOutput: io.hook });
    const pid = start(k, program(CAT), ['cat'], { kernel });
    if (typeof pid !== 'number') return t.fail();
    t.is(k.run(10_000_000), 'idle');
    t.is(io.text(1), '');
    k.feedInput(Buffer.from('first\n'));
    t.is(k.run(10_000_000), 'idle');
    t.is(io.text(1), 'first\n');
    k.feedInput(Buffer.from('second\n'));
    k.endInput();
    const exit = k.run(10_000_000);
    t.is(exit, 'done');
    t.is(outcome(k, pid, exit).status, 0);
    t.is(io.text(1), 'first\nsecond\n');
  });
}

test('page-table isolation: two CR3 writes per system call from user mode, none in kernel mode', t => {
  const base = runProgram(program(HELLO), ['hello']);
  const pti = runProgram(program(HELLO), ['hello'], { pti: true });
  const kpti = runProgram(program(HELLO), ['hello'], { pti: true, kernel: true });
  for (const r of [base, pti, kpti]) t.is(Buffer.from(r.stdout).toString(), 'Hello, world!\n');
  const calls = 2; // write, exit_group
  // The first entry to user mode switches out; exit_group never returns, so it switches in but not out.
  t.is(pti.stats.cr3Writes - base.stats.cr3Writes, 2 * calls);
  t.is(kpti.stats.cr3Writes, base.stats.cr3Writes);
  t.is(kpti.stats.trapTotal, 0);
  t.is(base.stats.traps[0x80], calls);
});

test("an ended task's record is its own copy: a stale reference cannot read or wake the task that reuses its slot",
  t => {
  const k = bootKernel({});
  k.endInput();
  const first = k.spawn(program(HELLO), { argv: ['hello'] });
  t.is(k.run(1e7), 'done');
  const second = k.spawn(program('test/attacks/victims/sleeper.tal'), { argv: ['sleeper'], uid: 1000 });
  t.is(second.addr, first.addr, 'the slot is reused');
  for (let i = 0; i < 100 && second.state !== 2; i++) k.run(20); // until the sleeper sleeps in nanosleep (20 ms)
  t.is(second.state, 2); // TASK_INTERRUPTIBLE
  // What a wait-queue entry or a host callback left behind by the first task would do:
  t.is(first.pid, 100);
  t.is(first.state, 3); // TASK_ZOMBIE, not the sleeper's state
  t.is(first.cred.uid, 0);
  k.sched.wake(first);
  t.is(second.state, 2, 'the sleeper is not woken by a stale reference');
  t.is(k.run(1e8), 'done');
  t.is(k.exits.get(second.pid)?.status, 0);
});
