// Self-modifying code and the decoded-instruction cache: decoded records are kept per physical page and dropped
// when the page is written, through any mapping, so code written and then executed always runs the new bytes.
import test from 'ava';
import { Rig, USER_CODE, USER_DATA } from '../util/machine.ts';
import { haveBinutils } from '../util/binutils.ts';

const tb = haveBinutils() ? test : test.skip;

tb('an instruction patched after it ran runs the new bytes the next time (same page)', t => {
  const r = new Rig();
  const sym = r.code(`
    xor ecx, ecx
  again:
  target:
    mov ebx, 0x11111111
    add ecx, ebx
    mov DWORD PTR [target + 1], 0x22222222
    cmp ecx, 0x11111111
    je again
    hlt`, USER_CODE, { user: true, writable: true });
  r.user(sym._start).run();
  t.is(r.reg(1), 0x33333333);
  t.is(r.reg(3), 0x22222222);
  t.true(r.m.stats().codeInvalidations >= 1);
});

tb('code written into another page after it was decoded runs the new bytes', t => {
  const r = new Rig();
  r.bare.mapFresh(USER_DATA, 0x1000, { user: true, writable: true });
  r.bare.write(USER_DATA, Uint8Array.from([0xb8, 1, 0, 0, 0, 0xc3])); // mov eax, 1; ret
  const sym = r.code(`
    call ${USER_DATA}
    mov esi, eax
    mov DWORD PTR [${USER_DATA + 1}], 5
    call ${USER_DATA}
    mov edi, eax
    hlt`);
  r.user(sym._start).run();
  t.is(r.reg(6), 1);
  t.is(r.reg(7), 5);
});

tb('writing through one mapping invalidates code executed through another mapping of the same frame', t => {
  const r = new Rig();
  const frame = r.bare.allocFrame();
  const EXEC = USER_DATA, WRITE = USER_DATA + 0x10000;
  r.bare.map(EXEC, frame, { user: true });
  r.bare.map(WRITE, frame, { user: true, writable: true });
  r.m.mem.writeBytes(frame, Uint8Array.from([0xb8, 1, 0, 0, 0, 0xc3]));
  const sym = r.code(`
    call ${EXEC}
    mov esi, eax
    mov BYTE PTR [${WRITE + 1}], 9
    call ${EXEC}
    mov edi, eax
    hlt`);
  r.user(sym._start).run();
  t.is(r.reg(6), 1);
  t.is(r.reg(7), 9);
});

tb('code written by the host (a loader) into physical memory replaces what was decoded', t => {
  const r = new Rig();
  const sym = r.kernelCode('entry: mov eax, 1\n hlt');
  r.kernel(sym.entry);
  r.run();
  t.is(r.reg(0), 1);
  r.bare.write(sym.entry + 1, Uint8Array.from([2]));
  r.m.resume();
  r.kernel(sym.entry);
  r.run();
  t.is(r.reg(0), 2);
});

tb('an instruction that crosses a page boundary runs, and faults at the second page when it is missing', t => {
  const r = new Rig();
  // mov eax, 0x44332211 with its first byte on the last byte of a page.
  const start = USER_DATA + 0xfff;
  r.bare.mapFresh(USER_DATA, 0x2000, { user: true, writable: true });
  r.bare.write(start, Uint8Array.from([0xb8, 0x11, 0x22, 0x33, 0x44, 0xf4]));
  r.user(start).run();
  t.is(r.reg(0), 0x44332211);
  t.like(r.lastTrap, { vector: 13, eip: start + 5 }, 'the hlt after it');
  r.bare.unmap(USER_DATA + 0x1000);
  r.m.resume();
  r.m.cpu.regs[0] = 0;
  r.user(start).run();
  t.like(r.lastTrap, { vector: 14, error: 0b100, cr2: USER_DATA + 0x1000, eip: start });
  t.is(r.reg(0), 0);
});
