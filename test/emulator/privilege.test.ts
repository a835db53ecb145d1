// Privilege: every privileged instruction raises #GP(0) at CPL 3 and acts at CPL 0; popf cannot change IF at CPL 3;
// iret cannot raise the privilege level; int 0x80 goes through a DPL 3 gate with the stack switch from the TSS and
// iret comes back; int n through a DPL 0 gate raises #GP with the IDT error code.
import test from 'ava';
import { Rig, USER_DATA, USER_STACK_TOP } from '../util/machine.ts';
import { USER_CS, USER_DS, KERNEL_CS, TSS_SEL } from '../../kernel/arch/layout.ts';
import { haveBinutils } from '../util/binutils.ts';

const tb = haveBinutils() ? test : test.skip;

const PRIVILEGED: [string, string][] = [
  ['cli', 'cli'], ['sti', 'sti'], ['hlt', 'hlt'],
  ['mov_from_cr0', 'mov eax, cr0'], ['mov_to_cr0', 'mov cr0, eax'], ['mov_from_cr2', 'mov eax, cr2'],
  ['mov_to_cr2', 'mov cr2, eax'], ['mov_from_cr3', 'mov eax, cr3'], ['mov_to_cr3', 'mov cr3, eax'],
  ['mov_from_cr4', 'mov eax, cr4'], ['mov_to_cr4', 'mov cr4, eax'],
  ['lidt', `lidt [${USER_DATA}]`], ['lgdt', `lgdt [${USER_DATA}]`], ['ltr', 'ltr ax'], ['invlpg',
    `invlpg [${USER_DATA}]`],
  ['in_imm', 'in al, 0x60'], ['in_dx', 'in eax, dx'], ['out_imm', 'out 0x80, al'], ['out_dx', 'out dx, eax'],
  ['wrmsr', 'wrmsr'], ['rdmsr', 'rdmsr'], ['clts', 'clts'], ['wbinvd', 'wbinvd'],
];

tb('each privileged instruction at CPL 3 raises #GP(0) at its own address and changes nothing', t => {
  const r = new Rig();
  r.bare.mapFresh(USER_DATA, 0x1000, { user: true, writable: true });
  const sym = r.code(PRIVILEGED.map(([label, insn]) => `${label}: ${insn}`).join('\n'));
  for (const [label] of PRIVILEGED) {
    r.traps.length = 0;
    r.m.resume();
    r.m.cpu.regs.fill(0);
    const cr3 = r.m.mmu.cr3, idt = r.m.cpu.idtBase;
    r.user(sym[label]).run();
    t.like(r.lastTrap, { vector: 13, error: 0, eip: sym[label], cs: USER_CS }, label);
    t.is(r.m.mmu.cr3, cr3, label);
    t.is(r.m.cpu.idtBase, idt, label);
  }
});

tb('at CPL 0 they act: cli/sti, control registers, lidt/lgdt, ltr, in/out through the port hook, MSRs, clts', t => {
  const r = new Rig();
  r.bare.mapFresh(USER_DATA, 0x1000, { writable: true });
  const ports: string[] = [];
  r.m.io = {
    in: (port, size) => { ports.push(`in ${port} ${size}`); return size === 1 ? 0x5a : 0x12345678; },
    out: (port, size, v) => { ports.push(`out ${port} ${size} ${v.toString(16)}`); },
  };
  // An IDT pointer to load: limit 0x7ff, base 0xc0005000.
  r.bare.write(USER_DATA + 2, Uint8Array.from([0xff, 0x07, 0x00, 0x50, 0x00, 0xc0]));
  const sym = r.kernelCode(`
    sti
    pushfd
    pop esi
    cli
    pushfd
    pop edi
    mov eax, 0x80
    mov cr2, eax
    mov ebx, cr2
    in al, 0x60
    mov edx, 0x3f8
    out dx, al
    in eax, dx
    mov ecx, 0x174
    mov eax, 0xabcd
    xor edx, edx
    wrmsr
    xor eax, eax
    rdmsr
    mov ebp, eax
    clts
    mov eax, cr0
    wbinvd
    invlpg [${USER_DATA}]
    lidt [${USER_DATA + 2}]
    lgdt [${USER_DATA + 2}]
    hlt`);
  r.kernel(sym._start);
  t.is(r.run(), 'halted');
  t.is(r.reg(6) & 0x200, 0x200, 'sti set IF');
  t.is(r.reg(7) & 0x200, 0, 'cli cleared IF');
  t.is(r.reg(3), 0x80, 'cr2 round trip');
  t.deepEqual(ports, ['in 96 1', 'out 1016 1 5a', 'in 1016 4']);
  t.is(r.reg(5), 0xabcd, 'wrmsr/rdmsr round trip');
  t.is(r.reg(0) & 8, 0, 'clts cleared CR0.TS');
  t.is(r.m.cpu.idtLimit, 0x7ff, 'lidt loaded the limit');
  t.is(r.m.cpu.idtBase >>> 0, 0xc0005000, 'lidt loaded the base');
  t.is(r.m.cpu.gdtLimit, 0x7ff, 'lgdt loaded the limit');
  t.is(r.m.cpu.gdtBase >>> 0, 0xc0005000, 'lgdt loaded the base');
  t.is(r.traps.length, 0);
});

tb('rdmsr of an MSR that does not exist raises #GP(0) at CPL 0; mov to CR0 clearing PE is refused', t => {
  const r = new Rig();
  const sym = r.kernelCode(`mov ecx, 0x12345\n rdmsr\n hlt\n bad_cr0: xor eax, eax\n mov cr0, eax\n hlt`);
  r.kernel(sym._start).run();
  t.like(r.lastTrap, { vector: 13, error: 0, cs: KERNEL_CS });
  r.m.resume();
  r.kernel(sym.bad_cr0).run();
  t.is(r.lastTrap!.vector, 13);
  t.not(r.m.cpu.cr0 & 0x80000000, 0, 'paging still on');
});

tb('ltr at CPL 0 loads TR and marks the TSS busy; loading a busy TSS raises #GP(selector)', t => {
  const r = new Rig();
  const sym = r.kernelCode(`mov eax, ${TSS_SEL}\n ltr ax\n hlt`);
  r.kernel(sym._start).run();
  t.like(r.lastTrap, { vector: 13, error: TSS_SEL }, 'the bare system already loaded it, so it is busy');
  // Mark it available again, and ltr works.
  const at = r.bare.gdt + TSS_SEL + 4;
  r.m.mem.write32(at, r.m.mem.read32(at) & ~0x200);
  r.m.resume();
  r.m.cpu.trSel = 0;
  r.kernel(sym._start);
  t.is(r.run(), 'halted');
  t.is(r.m.cpu.trSel, TSS_SEL);
  t.is(r.m.mem.read32(at) & 0x200, 0x200);
});

tb('popf at CPL 3 changes the arithmetic flags but not IF or IOPL, and does not fault', t => {
  const r = new Rig();
  const sym = r.code(`
    pushfd
    pop eax
    and eax, 0xfffffdff
    or eax, 0x3001
    push eax
    popfd
    pushfd
    pop ebx
    hlt`);
  r.user(sym._start).run();
  t.is(r.lastTrap!.vector, 13, 'stopped at the hlt');
  t.is(r.reg(3) & 0x200, 0x200, 'IF still set');
  t.is(r.reg(3) & 0x3000, 0, 'IOPL still 0');
  t.is(r.reg(3) & 1, 1, 'CF loaded');
});

tb('iret at CPL 3 cannot return to CPL 0: #GP with the code selector', t => {
  const r = new Rig();
  const sym = r.code(`
    pushfd
    push ${KERNEL_CS}
    push OFFSET target
    iretd
  target:
    hlt`);
  r.user(sym._start).run();
  t.like(r.lastTrap, { vector: 13, error: KERNEL_CS, cs: USER_CS });
  t.is(r.m.cpu.cpl, 0, 'in the handler');
});

tb('iret at CPL 3 to CPL 3 works (same level)', t => {
  const r = new Rig();
  const sym = r.code(`
    pushfd
    push ${USER_CS}
    push OFFSET target
    iretd
    nop
  target:
    mov ebx, 9
    hlt`);
  r.user(sym._start).run();
  t.is(r.reg(3), 9);
  t.like(r.lastTrap, { vector: 13, eip: sym.target + 5 });
});

tb('int 0x80 from CPL 3: DPL 3 gate, stack switch to TSS esp0, the 5-word frame, and iret back to CPL 3', t => {
  const r = new Rig();
  let entry: { esp: number; frame: number[]; cpl: number; ss: number } | undefined;
  const rec = r.m.kfuncs.register('rec80', ctx => {
    const esp = (ctx.reg(4) + 4) >>> 0; // the esp the handler started with (before its call)
    entry = { esp, frame: [0, 1, 2, 3, 4].map(i => ctx.read32(esp + 4 * i) >>> 0), cpl: ctx.cpu.cpl,
      ss: ctx.cpu.sreg[2] };
    ctx.setReg(0, 77);
  });
  const k = r.kernelCode(`call ${rec}\n iretd`);
  r.bare.setGate(0x80, 'trap', k._start, 3);
  const sym = r.code(`
    mov eax, 4
    int 0x80
  after:
    mov ebx, eax
    hlt`);
  r.user(sym._start).run();
  t.truthy(entry);
  t.is(entry!.esp, r.bare.kernelStackTop - 20, 'on the TSS stack, five words pushed');
  t.is(entry!.cpl, 0);
  t.is(entry!.ss, 0x68);
  t.deepEqual(entry!.frame, [sym.after, USER_CS, 0x202, USER_STACK_TOP, USER_DS], 'eip, cs, eflags, esp, ss');
  t.is(r.reg(3), 77, 'back at CPL 3 after iret with the handler’s eax');
  t.like(r.lastTrap, { vector: 13, eip: sym.after + 2, cs: USER_CS, esp: USER_STACK_TOP },
    'then the hlt faulted at CPL 3');
  const s = r.m.stats();
  t.is(s.traps[0x80], 1);
  t.is(s.irets, 1);
  t.is(s.userEntries, 2, 'the int and the #GP');
  t.is(s.userExits, 1);
});

tb('int n through a DPL 0 gate from CPL 3 raises #GP(n*8+2); a non-present DPL 3 gate raises #NP(n*8+2)', t => {
  const r = new Rig();
  const sym = r.code('int 0x81\n np: int 0x82');
  r.user(sym._start).run();
  t.like(r.lastTrap, { vector: 13, error: 0x81 * 8 + 2, eip: sym._start });
  // A valid DPL 3 gate with P=0.
  const at = r.bare.idt + 0x82 * 8 + 4;
  r.bare.setGate(0x82, 'int', 0x1000, 3);
  r.m.mem.write32(at, r.m.mem.read32(at) & ~0x8000);
  r.m.resume();
  r.user(sym.np).run();
  t.like(r.lastTrap, { vector: 11, error: 0x82 * 8 + 2, eip: sym.np });
});

tb('an interrupt gate clears IF in the handler, a trap gate keeps it', t => {
  for (const kind of ['int', 'trap'] as const) {
    const r = new Rig();
    let ifInHandler = -1;
    const rec = r.m.kfuncs.register('rec', ctx => { ifInHandler = (ctx.cpu.flags >> 9) & 1; });
    const k = r.kernelCode(`call ${rec}\n iretd`);
    r.bare.setGate(0x80, kind, k._start, 3);
    const sym = r.code('int 0x80\n hlt');
    r.user(sym._start).run();
    t.is(ifInHandler, kind === 'int' ? 0 : 1, kind);
  }
});
