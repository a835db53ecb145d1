// The sysenter entry and the vsyscall page (kernel/entry.ts, kernel/vsyscall.ts; Linux 2.6's sysenter_entry and
// vsyscall-sysenter.S): with --syscall=sysenter a user-mode process finds __kernel_vsyscall through AT_SYSINFO, and a
// call through it passes all six arguments and keeps every register but eax, as int 0x80 does; a bad stack handed
// to sysenter fails the call before it runs and never faults in the kernel; without the option there is no
// AT_SYSINFO and sysenter is #GP. Programs are GNU-assembled static i386 executables; the same executables run on
// the host's Linux, whose vDSO gives 32-bit processes AT_SYSINFO too. Also the derivation of the Pentium 4 sysenter/sysexit figure (docs/machine.md,
// "sysenter and sysexit"): what the machine charges for the rest of a getppid through the vsyscall page.
import test from 'ava';
import { buildElf } from '../util/machine.ts';
import { haveBinutils } from '../util/binutils.ts';
import { runNative, scratch } from '../util/native.ts';
import { Kernel, type SyscallEntry } from '../../kernel/kernel.ts';
import { runProgram, start, outcome } from '../../kernel/talrun.ts';
import { PAGE_OFFSET, VSYSCALL_BASE } from '../../kernel/arch/layout.ts';
import { profileByName, P4_SYSENTER_GETPPID_REST } from '../../emulator/profiles.ts';

const tb = haveBinutils() ? test : test.skip;

/** Finds AT_SYSINFO in the auxiliary vector into [sysinfo] (0 if absent); jumps to `main`. */
const FIND_SYSINFO = `
    mov eax, [esp]
    lea esi, [esp+eax*4+8]
  envp:
    mov ecx, [esi]
    add esi, 4
    test ecx, ecx
    jne envp
  auxv:
    mov ecx, [esi]
    test ecx, ecx
    je main
    add esi, 8
    cmp ecx, 32
    jne auxv
    mov ecx, [esi-4]
    mov [sysinfo], ecx
    jmp main
  int80:
    int 0x80
    ret
  exit:
    mov eax, 1
    int 0x80
    hlt`;
const DATA = `
.data
sysinfo: .long 0
saved_esp: .long 0`;

/**
 * System call `nr` with six distinct arguments and every register set, through AT_SYSINFO (else through int 0x80):
 * exit status 0 if every register but eax came back and eax is `expect`, 10 + the same without AT_SYSINFO, 1 if not.
 */
function sixArgs(nr: number, expect: number): Uint8Array {
  return buildElf(`${FIND_SYSINFO}
  main:
    mov edi, OFFSET int80
    cmp DWORD PTR [sysinfo], 0
    jne have
    mov [sysinfo], edi
  have:
    mov [saved_esp], esp
    mov eax, ${nr}
    mov ebx, 0x11111111
    mov ecx, 0x22222222
    mov edx, 0x33333333
    mov esi, 0x44444444
    mov edi, 0x55555555
    mov ebp, 0x66666666
    call [sysinfo]
    cmp eax, ${expect}
    jne bad
    cmp ebx, 0x11111111
    jne bad
    cmp ecx, 0x22222222
    jne bad
    cmp edx, 0x33333333
    jne bad
    cmp esi, 0x44444444
    jne bad
    cmp edi, 0x55555555
    jne bad
    cmp ebp, 0x66666666
    jne bad
    cmp esp, [saved_esp]
    jne bad
    xor ebx, ebx
    cmp DWORD PTR [sysinfo], OFFSET int80
    jne exit
    mov ebx, 10
    jmp exit
  bad:
    mov ebx, 1
    jmp exit
${DATA}`);
}

const SYS_BREAK = 17; // sys_ni_syscall in Linux i386, and here: the test puts its own function in the table's slot

/** Boot, install a recorder at sys_call_table[SYS_BREAK], run `elf`; the recorder returns 0x1234. */
function runRecorded(elf: Uint8Array, syscallEntry: SyscallEntry, pti: boolean) {
  const k = new Kernel({ syscallEntry, pti, onOutput: () => {} });
  const seen: number[][] = [];
  const rec = k.kfunc('test_record', ctx => {
    seen.push([0, 1, 2, 3, 4, 5].map(i => ctx.arg(i) >>> 0));
    return 0x1234;
  });
  k.machine.mem.write32(k.symbols.get('sys_call_table')! - PAGE_OFFSET + 4 * SYS_BREAK, rec);
  k.endInput();
  const pid = start(k, elf, ['six'], {});
  if (typeof pid !== 'number') throw new Error(pid.message);
  return { r: outcome(k, pid, k.run(1e7)), seen, k };
}

tb('through __kernel_vsyscall a call passes six arguments and keeps every other register, as int 0x80 does', t => {
  const elf = sixArgs(SYS_BREAK, 0x1234);
  const args = [0x11111111, 0x22222222, 0x33333333, 0x44444444, 0x55555555, 0x66666666];
  for (const pti of [false, true]) {
    const se = runRecorded(elf, 'sysenter', pti);
    t.is(se.r.status, 0, `sysenter, pti ${pti}: ${se.r.message ?? ''}`);
    t.deepEqual(se.seen, [args], 'the sixth argument came from the caller\'s stack');
    t.deepEqual([se.r.stats.sysenters, se.r.stats.sysexits], [1, 1], 'the call went in by sysenter, out by sysexit');
    t.is(se.r.stats.traps[0x80], 1, 'only the exit used int 0x80');
    const i80 = runRecorded(elf, 'int80', pti);
    t.is(i80.r.status, 10, `int80, pti ${pti}: no AT_SYSINFO, the int 0x80 fallback`);
    t.deepEqual(i80.seen, [args]);
    t.is(i80.r.stats.sysenters, 0);
  }
});

tb('AT_SYSINFO is __kernel_vsyscall with --syscall=sysenter, absent without; the native host offers one too', t => {
  // Exit status: 0 without AT_SYSINFO, else 1 + (AT_SYSINFO is in this kernel's vsyscall page).
  const elf = buildElf(`${FIND_SYSINFO}
  main:
    mov ebx, [sysinfo]
    test ebx, ebx
    je exit
    and ebx, 0xfffff000
    cmp ebx, ${VSYSCALL_BASE}
    sete bl
    movzx ebx, bl
    inc ebx
    jmp exit
${DATA}`);
  t.is(runProgram(elf, ['a']).status, 0);
  t.is(runProgram(elf, ['a'], { syscallEntry: 'sysenter' }).status, 2);
  t.is(runProgram(elf, ['a'], { syscallEntry: 'sysenter', kernel: true, verify: false }).status, 0,
    'a kernel-mode program calls the kernel directly: no AT_SYSINFO');
  const s = scratch('ktal-sysenter-');
  try {
    const native = runNative(s.file('sysinfo', elf, 0o755));
    t.is(native.status, 1, 'natively: AT_SYSINFO, the host vDSO\'s __kernel_vsyscall (not at our address)');
    // A call through the host's __kernel_vsyscall keeps every register too: break (17) is -ENOSYS there and here.
    const enosys = sixArgs(SYS_BREAK, -38);
    t.is(runNative(s.file('six', enosys, 0o755)).status, 0);
    t.is(runProgram(enosys, ['six'], { syscallEntry: 'sysenter' }).status, 0);
  } finally {
    s.done();
  }
});

tb('a bad stack handed to sysenter fails the call (-EFAULT), never a kernel fault; the process dies at CPL 3', t => {
  // ebp is where __kernel_vsyscall would have put the stack: unmapped, the kernel half, the vsyscall page itself.
  for (const ebp of [0x10000, PAGE_OFFSET, VSYSCALL_BASE, 0xfffffffe]) {
    const elf = buildElf(`
    mov eax, 4
    mov ebx, 1
    mov ecx, OFFSET msg
    mov edx, 4
    mov ebp, ${ebp}
    sysenter
  .data
  msg: .ascii "oops"`);
    const k = new Kernel({ syscallEntry: 'sysenter', onOutput: () => {} });
    k.endInput();
    const pid = start(k, elf, ['bad'], {});
    if (typeof pid !== 'number') throw new Error(pid.message);
    const r = outcome(k, pid, k.run(1e7));
    t.is(r.kernelExit, 'done', `ebp 0x${ebp.toString(16)}: ${r.message ?? ''}`);
    t.is(r.signal, 'SIGSEGV', 'the vsyscall return pops from the bad stack, at CPL 3');
    t.is(k.collected(1).length, 0, 'the write did not run');
    t.is(r.stats.sysexits, 1, 'the kernel returned normally');
    t.is(k.syscallCounts.get(4), undefined, 'the write was refused before it was counted (the -EFAULT path)');
  }
});

tb('a caller\'s NT, AC and TF are cleared in the kernel (Linux 4.x) and its flags come back as they were', t => {
  // Exit status: 4 if NT, 2 if DF, 1 if CF is set after the call; all three were set before it.
  const elf = buildElf(`${FIND_SYSINFO}
  main:
    pushfd
    or DWORD PTR [esp], 0x4000 | 0x400 | 0x1
    popfd
    mov eax, 20
    call [sysinfo]
    pushfd
    pop eax
    xor ebx, ebx
    test eax, 0x4000
    je 1f
    or ebx, 4
  1:
    test eax, 0x400
    je 2f
    or ebx, 2
  2:
    test eax, 1
    je 3f
    or ebx, 1
  3:
    push 0x202
    popfd
    jmp exit
${DATA}`);
  const seen: number[] = [];
  const k = new Kernel({ syscallEntry: 'sysenter', onOutput: () => {} });
  const getpid = k.symbols.get('sys_getpid')!;
  const invoke = k.machine.kfuncs.invoke.bind(k.machine.kfuncs);
  k.machine.kfuncs.invoke = (cpu, lin) => { if (lin === getpid) seen.push(cpu.eflags()); invoke(cpu, lin); };
  k.endInput();
  const pid = start(k, elf, ['nt'], {}) as number;
  const r = outcome(k, pid, k.run(1e7));
  t.is(r.status, 7, 'NT, DF and CF back as the caller set them');
  t.is(seen.length, 1);
  t.is(seen[0] & (0x4000 | 0x40000 | 0x100), 0, 'NT, AC and TF clear while the kernel ran');
});

tb('without --syscall=sysenter the MSRs are not set: sysenter raises #GP and the process gets SIGSEGV', t => {
  const elf = buildElf('mov eax, 20\n mov ebp, esp\n sysenter\n hlt');
  const r = runProgram(elf, ['se']);
  t.is(r.signal, 'SIGSEGV');
  t.regex(r.message ?? '', /#GP/);
  t.is(r.stats.sysenters, 0);
  t.is(runProgram(elf, ['se'], { syscallEntry: 'sysenter' }).signal, 'SIGSEGV', 'and with it, the hlt at CPL 3');
});

tb('the vsyscall page is read and execute only: a store to it is SIGSEGV', t => {
  const elf = buildElf(`mov eax, [${VSYSCALL_BASE}]\n mov [${VSYSCALL_BASE}], eax\n hlt`);
  const r = runProgram(elf, ['w'], { syscallEntry: 'sysenter' });
  t.is(r.signal, 'SIGSEGV');
  t.regex(r.message ?? '', new RegExp(`cr2 0x${VSYSCALL_BASE.toString(16)}`));
});

/** Cycles per getppid through AT_SYSINFO (or int 0x80) under `profile`: two loop lengths, the difference. */
function getppidCost(syscallEntry: SyscallEntry, profile: string) {
  const loop = (n: number) => buildElf(`${FIND_SYSINFO}
  main:
    mov edi, OFFSET int80
    cmp DWORD PTR [sysinfo], 0
    jne have
    mov [sysinfo], edi
  have:
    mov esi, ${n}
  again:
    mov eax, 64
    call [sysinfo]
    dec esi
    jne again
    xor ebx, ebx
    jmp exit
${DATA}`);
  // hz 100: one tick every 24 million cycles, so none falls inside either loop (asserted below).
  const [a, b] = [100, 300].map(n => runProgram(loop(n), ['g'], { syscallEntry, profile, hz: 100 }).stats);
  const p = profileByName(profile);
  const per = (x: number, y: number) => (y - x) / 200;
  const total = per(a.cycles, b.cycles);
  const crossing = per(a.cycleSources.sysenters + a.cycleSources.sysexits + a.cycleSources.trapEntries
    + a.cycleSources.irets, b.cycleSources.sysenters + b.cycleSources.sysexits + b.cycleSources.trapEntries
    + b.cycleSources.irets);
  return { total, crossing, rest: total - crossing, ticks: b.timerInterrupts - a.timerInterrupts, p };
}

tb('Pentium 4: a getppid through __kernel_vsyscall costs Torvalds\' 641 cycles; the rest as the profile says', t => {
  const se = getppidCost('sysenter', 'p4-northwood');
  t.is(se.ticks, 0);
  // Compared to the hundredth: cycles are summed in floating point.
  t.true(Math.abs(se.rest - P4_SYSENTER_GETPPID_REST) < 0.01,
    `emulator/profiles.ts records what the rest of the path costs: ${se.rest}, not ${P4_SYSENTER_GETPPID_REST}`);
  t.is(se.crossing, se.p.sysenter + se.p.sysexit);
  t.true(Math.abs(se.total - 641) < 0.01, `${se.total}`);
  const i80 = getppidCost('int80', 'p4-northwood');
  t.is(i80.crossing, 1120);
  t.log(`p4-northwood getppid: sysenter ${se.total} = ${se.crossing} + ${se.rest}; int 0x80 ${i80.total} = ` +
    `${i80.crossing} + ${i80.rest} (Torvalds: 1761)`);
  for (const profile of ['modern', 'modern-pti']) {
    const m = getppidCost('sysenter', profile), mi = getppidCost('int80', profile);
    t.log(`${profile} getppid: sysenter ${m.total} = ${m.crossing} + ${m.rest}; int 0x80 ${mi.total}`);
    t.true(m.total < mi.total, profile);
  }
});
