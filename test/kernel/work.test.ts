// The kernel's own work (kernel/work.ts): the figures reproduce the measurements they come from, the kernel charges
// each unit of work where it is done, and user mode and kernel mode pay exactly the same for the same work.
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../../compiler/popc.ts';
import { runProgram } from '../../kernel/talrun.ts';
import { kernelWorkCosts, WORK_KINDS } from '../../kernel/work.ts';
import { profileByName } from '../../emulator/profiles.ts';

const root = join(import.meta.dirname, '..', '..');
function build(name: string): Uint8Array {
  const r = compile(readFileSync(join(root, 'compiler/examples', `${name}.pop`), 'utf8'), `${name}.pop`);
  if (!r.elf) throw new Error(`${name}: ${JSON.stringify(r.diagnostics)}`);
  return r.elf;
}

const close = (a: number, b: number) => Math.abs(a - b) < 1e-6 * Math.max(1, Math.abs(b));

test('the Pentium 4 figures give back lmbench\'s stat, open/close, select and TCP latency (Linux 2.4.20, 1595 MHz)',
  t => {
  const c = kernelWorkCosts('p4-northwood');
  const cyc = (us: number) => us * 1595;
  const path = '/usr/tmp/lmbench'.length + 1;
  // stat = null call + one system call + 3 components + the name and struct stat64 copied
  t.true(close(c.syscall + 3 * c.pathComponent + (path + 96) * c.copyByte, cyc(3.25 - 0.99)));
  t.true(close(2 * c.syscall + 3 * c.pathComponent + path * c.copyByte + c.openFile, cyc(4.54 - 2 * 0.99)));
  t.true(close(100 * c.pollFd, cyc(8.41 - 0.99)));
  const cr3 = profileByName('p4-northwood').cr3Write;
  t.true(close(c.tcpSend + c.tcpReceive, cyc(20.7 - 2 * 1.66 - 4 * 1.09) / 2));
  t.true(close(c.contextSwitch + cr3, cyc(1.66)));
  for (const k of WORK_KINDS) t.true(c[k] > 0, k);
});

test('the modern figures give back the host measurement; the unit profile charges nothing', t => {
  const c = kernelWorkCosts('modern');
  t.is(kernelWorkCosts('modern-pti'), c);
  const cyc = (us: number) => us * 3658;
  t.true(close(c.syscall + 4 * c.pathComponent + ('/usr/include/linux/types.h'.length + 1 + 144) * c.copyByte,
    cyc(1.116 - 0.169)));
  t.true(close(c.dirEntry, cyc(0.138)));
  for (const k of WORK_KINDS) t.is(kernelWorkCosts('unit')[k], 0, k);
});

const dir = mkdtempSync(join(tmpdir(), 'ktal-work-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
// 3 directories of 5 files each under t/ : 4 directories read, each with . and ..
mkdirSync(join(dir, 't'));
for (let d = 0; d < 3; d++) {
  mkdirSync(join(dir, 't', `d${d}`));
  for (let f = 0; f < 5; f++) writeFileSync(join(dir, 't', `d${d}`, `f${f}.c`), 'x'.repeat(100 * f));
}

test('find: every unit of work is charged where it is done, and both modes pay the same', t => {
  const find = build('find');
  const opts = { mounts: [{ host: join(dir, 't'), guest: '/t', rw: false }], profile: 'p4-northwood' };
  const user = runProgram(find, ['find', '/t', '-name', '*.c'], opts);
  const kernel = runProgram(find, ['find', '/t', '-name', '*.c'], { ...opts, kernel: true });
  t.is(user.status, 0, user.stderr.toString());
  t.is(kernel.stdout.toString(), user.stdout.toString());
  const syscalls = [...user.syscalls.values()].reduce((a, b) => a + b, 0);
  t.is(user.work.syscall.units, syscalls);
  // 4 directories (/t and three below it), each listed with . and .. : 15 files + 3 directories + 4 × 2
  t.is(user.work.dirEntry.units, 15 + 3 + 4 * 2);
  t.is(user.work.openFile.units, user.syscalls.get('open') ?? -1);
  t.true(user.work.pathComponent.units >= 4 + 3, 'each open walks /t and its subdirectory');
  // what find printed was copied from user memory by write(2)
  t.true(user.work.copyByte.units >= user.stdout.length);
  for (const k of WORK_KINDS) t.deepEqual(kernel.work[k], user.work[k], k);
  t.true(close(user.stats.kernelWork, WORK_KINDS.reduce((a, k) => a + user.work[k].cycles, 0)));
  t.is(kernel.stats.kernelWork, user.stats.kernelWork);
  // The unit profile counts the same work and charges nothing for it.
  const unit = runProgram(find, ['find', '/t', '-name', '*.c'], { ...opts, profile: 'unit' });
  t.is(unit.work.dirEntry.units, user.work.dirEntry.units);
  t.is(unit.stats.kernelWork, 0);
});

test('echo over loopback: TCP sends and receives, polled descriptors and context switches are charged', t => {
  const echod = build('echod'), pingpong = build('pingpong');
  const r = runProgram(pingpong, ['pingpong', '7300', '20', '64'], {
    profile: 'p4-northwood', background: [{ image: echod, argv: ['echod', '7300'] }],
  });
  t.is(r.status, 0, r.stderr.toString());
  // 20 round trips (and pingpong's first): each a send and a receive on both sides
  t.true(r.work.tcpSend.units >= 2 * 20, String(r.work.tcpSend.units));
  t.true(r.work.tcpReceive.units >= 2 * 20, String(r.work.tcpReceive.units));
  t.true(r.work.pollFd.units > 0);
  t.true(r.work.contextSwitch.units >= 2 * 20, 'the client and the server take turns');
});
