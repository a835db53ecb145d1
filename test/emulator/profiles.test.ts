// The named cost profiles (emulator/profiles.ts): complete, finite, and ordered as their sources say; each with the
// clock its figures were measured at, which the kernel runs at.
import test from 'ava';
import { INSN_CLASSES, InsnClass } from '../../emulator/costs.ts';
import { ALTERNATIVES, DEFAULT_PROFILE, PROFILES, profileByName } from '../../emulator/profiles.ts';
import { kernelWorkCosts } from '../../kernel/work.ts';
import { Kernel } from '../../kernel/kernel.ts';

const EVENTS = [
  'tlbMiss', 'trapEntry', 'iret', 'sysenter', 'sysexit', 'cr3Write', 'isolationPerCrossing', 'kernelCall',
] as const;

test('every profile has a cost for every instruction class and event, finite and not negative', t => {
  for (const [key, p] of Object.entries(PROFILES)) {
    t.is(p.name, key);
    t.true(p.description.length > 0, key);
    t.is(p.insn.length, INSN_CLASSES, key);
    for (let c = 0; c < INSN_CLASSES; c++) t.true(Number.isFinite(p.insn[c]) && p.insn[c] > 0, `${key} insn[${c}]`);
    for (const e of EVENTS) t.true(Number.isFinite(p[e]) && p[e] >= 0, `${key} ${e}`);
  }
});

test('the sourced profiles charge the crossing, and a direct kernel call costs far less than a trap', t => {
  for (const name of ['p4-northwood', 'modern-pti', 'modern']) {
    const p = profileByName(name);
    t.true(p.trapEntry > 0 && p.iret > 0 && p.cr3Write > 0 && p.tlbMiss > 0 && p.kernelCall > 0, name);
    t.true(p.kernelCall * 10 < p.trapEntry + p.iret, name);
    t.true(p.insn[InsnClass.Div] > p.insn[InsnClass.Mul] && p.insn[InsnClass.Mul] > p.insn[InsnClass.Alu], name);
  }
});

test('page-table isolation adds to every crossing; the same CPU without it does not', t => {
  const pti = profileByName('modern-pti');
  const plain = profileByName('modern');
  t.true(pti.isolationPerCrossing > 0);
  t.is(plain.isolationPerCrossing, 0);
  t.is(profileByName('p4-northwood').isolationPerCrossing, 0);
  const roundTrip = (p: typeof pti) => p.trapEntry + p.iret + 2 * p.isolationPerCrossing;
  t.true(roundTrip(pti) > roundTrip(plain));
  t.deepEqual({ ...pti, name: '', description: '', isolationPerCrossing: 0 }, { ...plain, name: '', description: '' });
});

test('the default profile exists and an unknown name is refused with the list of names', t => {
  t.truthy(PROFILES[DEFAULT_PROFILE]);
  t.throws(() => profileByName('pentium-pro'), { message: /known: .*p4-northwood/ });
});

test('every profile names its clock with a source; the alternatives are of known profiles and differ', t => {
  for (const [key, p] of Object.entries(PROFILES)) {
    t.true(Number.isFinite(p.clock.hz) && p.clock.hz >= 1e8 && p.clock.hz <= 1e10, `${key} clock ${p.clock.hz}`);
    t.true(p.clock.source.length > 0, key);
  }
  for (const [key, alt] of Object.entries(ALTERNATIVES)) {
    const p = profileByName(key);
    for (const c of alt.clockHz) t.not(c.value, p.clock.hz, `${key}: an alternative clock is another clock`);
    for (const m of alt.tlbMiss) t.not(m.value, p.tlbMiss, `${key}: an alternative TLB miss is another figure`);
    for (const a of [...alt.clockHz, ...alt.tlbMiss, ...(alt.fastSyscall ? [alt.fastSyscall] : [])]) {
      t.true(a.value > 0 && a.source.length > 0, key);
    }
  }
});

test('the P4 profile\'s clock is its kernel work\'s: a byte\'s copy comes back to lmbench\'s reread rate', t => {
  // kernel/work.ts derives a byte's copy from lmbench's file reread, 988.8 MB/s on the 1595 MHz P4: cycles per byte
  // at the profile's clock. Turned back into a rate at the same clock, it is lmbench's figure again.
  const p = profileByName('p4-northwood');
  const mbps = p.clock.hz / 1e6 / kernelWorkCosts('p4-northwood').copyByte;
  t.true(Math.abs(mbps - 988.8) < 1e-9, `${mbps}`);
});

test('a kernel runs at its profile\'s clock: its tick period and its simulated time', t => {
  for (const name of ['p4-northwood', 'modern', 'unit']) {
    const p = profileByName(name);
    const k = new Kernel({ profile: p, hz: 1000, onOutput: () => {} });
    t.is(k.clockHz, p.clock.hz, name);
    t.is(k.machine.timer.interval, Math.round(p.clock.hz / 1000), name);
    t.is(k.uptimeNs, (k.machine.cpu.cycles / p.clock.hz) * 1e9, name);
  }
  // An explicit clock still wins.
  t.is(new Kernel({ clockHz: 3e9, onOutput: () => {} }).clockHz, 3e9);
});
