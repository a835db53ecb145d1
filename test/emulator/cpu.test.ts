// The CPU's edges: anything it does not implement (unknown opcodes, every prefix, x87, string instructions, syscall)
// is #UD, never a JS exception; #DE for the divisions that cannot be done; faulting instructions change nothing.
// (The differential tests compare ordinary instructions with the host CPU; sysenter.test.ts covers sysenter.)
import test from 'ava';
import fc from 'fast-check';
import { Rig, USER_CODE, USER_DATA, USER_STACK_TOP } from '../util/machine.ts';
import { haveBinutils } from '../util/binutils.ts';

const tb = haveBinutils() ? test : test.skip;

const UNDEFINED: [string, string][] = [
  ['ud2', 'ud2'], ['opsize', '.byte 0x66, 0x90'], ['addrsize', '.byte 0x67, 0x90'], ['rep', '.byte 0xf3, 0x90'],
  ['lock', '.byte 0xf0, 0x01, 0x00'], ['seg_cs', '.byte 0x2e, 0x90'], ['seg_fs', '.byte 0x64, 0x8b, 0x00'],
  ['x87', 'fld1'], ['movsb', 'movsb'], ['cpuid', 'cpuid'], ['bound', '.byte 0x62, 0x00'], ['ff7', '.byte 0xff, 0xff'],
  ['lea_reg', '.byte 0x8d, 0xc0'], ['far_call', '.byte 0x9a, 0, 0, 0, 0, 0, 0'], ['daa', 'daa'], ['bt', 'bt eax, ecx'],
  ['mov_cr1', '.byte 0x0f, 0x20, 0xc8'], ['syscall', 'syscall'], ['enter', 'enter 0, 0'], ['movss', 'movss xmm0, xmm1'],
];

tb('unknown opcodes, prefixes and unimplemented instructions raise #UD at their address', t => {
  const r = new Rig();
  const sym = r.code(UNDEFINED.map(([l, i]) => `${l}: ${i}`).join('\n'));
  for (const [label] of UNDEFINED) {
    r.traps.length = 0;
    r.m.resume();
    r.user(sym[label]).run();
    t.like(r.lastTrap, { vector: 6, eip: sym[label] }, label);
  }
});

tb('random bytes never make the machine throw: every run ends in a trap, a stop, a halt, a triple fault or the limit',
  t => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean(), (bytes, kernelMode) => {
    // A fresh machine each time: random code at CPL 0 may rewrite anything, the IDT and page tables included.
    const r = new Rig();
    r.bare.mapFresh(USER_CODE, 0x1000, { user: true, writable: true });
    r.bare.mapFresh(USER_DATA, 0x1000, { user: true, writable: true });
    r.bare.write(USER_CODE, bytes);
    if (kernelMode) r.kernel(USER_CODE); else r.user(USER_CODE);
    r.m.cpu.regs.fill(USER_DATA, 0, 4);
    const exit = r.run(200);
    return ['stopped', 'limit', 'halted', 'triple-fault'].includes(exit);
  }), { numRuns: 300, seed: 7 });
  t.pass();
});

tb('#DE: division by zero, a quotient that does not fit, and INT_MIN / -1; the registers keep their values', t => {
  const r = new Rig();
  const sym = r.code(`
  zero:
    mov eax, 1
    xor edx, edx
    xor ecx, ecx
    div ecx
  big:
    mov eax, 0
    mov edx, 5
    mov ecx, 5
    div ecx
  imin:
    mov eax, 0x80000000
    cdq
    mov ecx, -1
    idiv ecx
  ok:
    mov eax, 0
    mov edx, 1
    mov ecx, 0x10
    div ecx
    mov esi, eax
    mov eax, -7
    cdq
    mov ecx, 2
    idiv ecx
    hlt`);
  for (const [label, eax, edx] of [['zero', 1, 0], ['big', 0, 5], ['imin', 0x80000000, 0xffffffff]] as const) {
    r.traps.length = 0;
    r.m.resume();
    r.user(sym[label]).run();
    t.is(r.lastTrap!.vector, 0, label);
    t.is(r.reg(0), eax, label);
    t.is(r.reg(2), edx, label);
  }
  r.m.resume();
  r.user(sym.ok).run();
  t.is(r.reg(6), 0x10000000, '2^32 / 16');
  t.is(r.reg(0) | 0, -3, '-7 / 2 truncates');
  t.is(r.reg(2) | 0, -1, 'remainder has the dividend’s sign');
});

tb('mul and imul: 64-bit products and CF/OF', t => {
  const r = new Rig();
  const sym = r.code(`
    mov eax, 0xffffffff
    mov ecx, 0xffffffff
    mul ecx
    pushfd
    mov esi, eax
    mov edi, edx
    mov eax, -1
    imul ecx
    pushfd
    mov ebx, edx
    mov ebp, 0x10000
    imul ebp, ebp
    pushfd
    hlt`);
  r.user(sym._start).run();
  t.is(r.reg(6), 1);
  t.is(r.reg(7), 0xfffffffe);
  t.is(r.reg(0), 1, '(-1) * (-1)');
  t.is(r.reg(3), 0);
  t.is(r.reg(5), 0, '2^32 truncated');
  const flags = [0, 1, 2].map(i => r.bare.read32(USER_STACK_TOP - 4 - 4 * i) & 0x801);
  t.deepEqual(flags, [0x801, 0, 0x801], 'CF|OF after the unsigned overflow, clear after -1*-1, set after 2^32');
});

tb('a faulting pop, call or ret leaves esp and eip as they were', t => {
  const r = new Rig();
  const sym = r.code(`
  do_pop:
    mov esp, 0x40000000
    pop eax
  do_ret:
    mov esp, 0x40000000
    ret
  do_call:
    mov esp, 0x40000000
    call do_pop`);
  for (const label of ['do_pop', 'do_ret', 'do_call']) {
    r.traps.length = 0;
    r.m.resume();
    r.user(sym[label]).run();
    t.like(r.lastTrap, { vector: 14, eip: sym[label] + 5, esp: 0x40000000 }, label);
  }
});
