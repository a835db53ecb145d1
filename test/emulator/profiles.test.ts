// The named cost profiles (emulator/profiles.ts): complete, finite, and ordered as their sources say.
import test from 'ava';
import { INSN_CLASSES, InsnClass } from '../../emulator/costs.ts';
import { DEFAULT_PROFILE, PROFILES, profileByName } from '../../emulator/profiles.ts';

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
