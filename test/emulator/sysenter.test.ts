// sysenter and sysexit as Intel SDM vol. 2B specifies them in protected mode: the IA32_SYSENTER_CS/ESP/EIP MSRs
// (0x174-0x176, wrmsr/rdmsr at CPL 0 only), CS and SS derived from the CS MSR (+8 for the kernel's SS, +16 and +24
// with RPL 3 for the user's), IF, VM and RF cleared by sysenter, #GP(0) for a null CS MSR or a sysexit above CPL 0,
// and each counted and charged as an event of its own. The code is assembled by GNU as (so the encodings 0F 34 and
// 0F 35 are binutils', not ours), and the decoder's reading of them is checked against objdump.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rig, USER_STACK_TOP, USER_DATA } from '../util/machine.ts';
import { USER_CS, USER_DS, KERNEL_CS, KERNEL_DS } from '../../kernel/arch/layout.ts';
import { haveBinutils } from '../util/binutils.ts';
import { decode } from '../../emulator/decode.ts';
import { Op } from '../../emulator/execute.ts';
import { InsnClass, type CostProfile } from '../../emulator/costs.ts';
import { profileByName } from '../../emulator/profiles.ts';
import { MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP } from '../../emulator/arch.ts';

const tb = haveBinutils() ? test : test.skip;
const SS = 2;

/** A rig whose CPL 0 entry point (at `kentry`) records the state sysenter left, then sysexits to edx/ecx. */
function fastRig(profile?: CostProfile) {
  const r = new Rig(profile ? { profile } : {});
  let seen: { cpl: number; cs: number; ss: number; esp: number; eflags: number } | undefined;
  const rec = r.m.kfuncs.register('rec', ctx => {
    const c = ctx.cpu;
    seen = { cpl: c.cpl, cs: c.sreg[1], ss: c.sreg[SS], esp: (c.regs[4] + 4) >>> 0, eflags: c.eflags() >>> 0 };
  });
  const kstack = r.bare.kernelStackTop - 0x100;
  const k = r.kernelCode(`
    call ${rec}
    mov edx, ebx
    mov ecx, esi
    sysexit
  setup:
    mov ecx, ${MSR_SYSENTER_CS}
    mov eax, ${KERNEL_CS}
    xor edx, edx
    wrmsr
    mov ecx, ${MSR_SYSENTER_ESP}
    mov eax, ${kstack}
    wrmsr
    mov ecx, ${MSR_SYSENTER_EIP}
    mov eax, OFFSET _start
    wrmsr
    mov ecx, ${MSR_SYSENTER_EIP}
    rdmsr
    hlt`);
  r.kernel(k.setup);
  if (r.run() !== 'halted') throw new Error('setup did not halt');
  r.m.resume();
  return { r, k, kstack, seen: () => seen };
}

tb('wrmsr sets the SYSENTER MSRs at CPL 0 (rdmsr reads them back); both raise #GP(0) at CPL 3', t => {
  const { r, k } = fastRig();
  t.is(r.m.cpu.msrs.get(MSR_SYSENTER_CS)![0], KERNEL_CS);
  t.is(r.reg(0), k._start, 'rdmsr of IA32_SYSENTER_EIP');
  const sym = r.code(`mov ecx, ${MSR_SYSENTER_EIP}\n xor eax, eax\n wrmsr\n rd: rdmsr`);
  r.user(sym._start).run();
  t.like(r.lastTrap, { vector: 13, error: 0, cs: USER_CS, eip: sym._start + 7 });
  t.is(r.m.cpu.msrs.get(MSR_SYSENTER_EIP)![0] >>> 0, k._start, 'unchanged');
});

tb('sysenter from CPL 3: CPL 0 at the EIP MSR on the ESP MSR, CS and SS from the CS MSR, IF clear; sysexit', t => {
  const { r, k, kstack, seen } = fastRig(profileByName('p4-northwood'));
  const sym = r.code(`
    mov ebx, OFFSET back
    mov esi, esp
    sub esi, 16
    mov edi, 0x1234
    sysenter
  back:
    mov eax, esp
    mov ebp, cs
    mov edi, ss
    hlt`);
  r.user(sym._start).run();
  const s = seen()!;
  t.truthy(s);
  t.is(s.cpl, 0);
  t.is(s.cs, KERNEL_CS, 'CS = IA32_SYSENTER_CS');
  t.is(s.ss, KERNEL_DS, 'SS = IA32_SYSENTER_CS + 8');
  t.is(s.esp, kstack, 'esp = IA32_SYSENTER_ESP; nothing pushed');
  t.is(s.eflags & 0x200, 0, 'IF cleared');
  // Back at CPL 3: the hlt faults there, with esp = ecx, eip = edx and the selectors CS MSR + 16 | 3, + 24 | 3.
  t.like(r.lastTrap, { vector: 13, cs: USER_CS, eip: sym.back + 2 + 2 + 2, esp: USER_STACK_TOP - 16 });
  t.is(r.reg(0), USER_STACK_TOP - 16);
  t.is(r.reg(5), USER_CS);
  t.is(r.reg(7), USER_DS);
  t.is(k._start >>> 0, r.m.cpu.msrs.get(MSR_SYSENTER_EIP)![0] >>> 0);
  const st = r.m.stats();
  t.is(st.sysenters, 1);
  t.is(st.sysexits, 1);
  t.is(st.trapTotal, 1, 'only the final #GP went through the IDT');
  t.is(st.irets, 0);
  t.is(st.userEntries, 2, 'the sysenter and the #GP');
  t.is(st.userExits, 1, 'the sysexit');
  const p = profileByName('p4-northwood');
  t.is(st.cycleSources.sysenters, p.sysenter);
  t.is(st.cycleSources.sysexits, p.sysexit);
});

tb('sysenter with IA32_SYSENTER_CS null raises #GP(0); sysexit at CPL 3 raises #GP(0); nothing changes', t => {
  const r = new Rig();
  const sym = r.code(`mov eax, 5\n sysenter\n exit: sysexit`);
  r.user(sym._start).run();
  t.like(r.lastTrap, { vector: 13, error: 0, cs: USER_CS, eip: sym._start + 5, esp: USER_STACK_TOP });
  t.is(r.m.stats().sysenters, 0, 'a faulting sysenter is not counted');
  r.m.resume();
  r.m.cpu.writeMsr(MSR_SYSENTER_CS, KERNEL_CS);
  r.user(sym.exit).run();
  t.like(r.lastTrap, { vector: 13, error: 0, cs: USER_CS, eip: sym.exit });
  t.is(r.m.stats().sysexits, 0);
});

tb('sysexit at CPL 0 with IA32_SYSENTER_CS null raises #GP(0)', t => {
  const r = new Rig();
  r.bare.mapFresh(USER_DATA, 0x1000, { user: true });
  const k = r.kernelCode(`mov edx, ${USER_DATA}\n mov ecx, ${USER_STACK_TOP}\n sysexit`);
  r.kernel(k._start).run();
  t.like(r.lastTrap, { vector: 13, error: 0, cs: KERNEL_CS, eip: k._start + 10 });
});

tb('the decoder reads 0F 34 and 0F 35 as objdump does: two-byte sysenter and sysexit, classed Branch', t => {
  const dir = mkdtempSync(join(tmpdir(), 'ktal-sysenter-'));
  try {
    writeFileSync(join(dir, 'a.s'), '.text\nsysenter\nsysexit\n');
    execFileSync('as', ['--32', '-o', join(dir, 'a.o'), join(dir, 'a.s')]);
    const dump = execFileSync('objdump', ['-d', join(dir, 'a.o')], { encoding: 'utf8' });
    t.regex(dump, /0:\s+0f 34\s+sysenter/);
    t.regex(dump, /2:\s+0f 35\s+sysexit/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rec = new Int32Array(8);
  for (const [bytes, op] of [[[0x0f, 0x34], Op.SYSENTER], [[0x0f, 0x35], Op.SYSEXIT]] as const) {
    decode(Uint8Array.from(bytes), 0, 2, rec, 0);
    t.is(rec[0], op);
    t.is(rec[1] & 0xff, 2, 'length');
    t.is(rec[1] >>> 16, InsnClass.Branch);
  }
});

test('the profiles price the fast pair below the int/iret pair; unit charges nothing for it', t => {
  for (const name of ['p4-northwood', 'modern', 'modern-pti']) {
    const p = profileByName(name);
    t.true(p.sysenter > 0 && p.sysexit > 0, name);
    t.true(p.sysenter + p.sysexit < p.trapEntry + p.iret, name);
  }
  const u = profileByName('unit');
  t.is(u.sysenter + u.sysexit, 0);
});
