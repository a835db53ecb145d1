// Kernel functions: TypeScript at kernel addresses. Called at CPL 0 they get their cdecl arguments from the stack
// and return like ret; at CPL 3 the same call faults, because their pages are supervisor-only.
import test from 'ava';
import { Rig, USER_DATA, USER_STACK_TOP } from '../util/machine.ts';
import { USER_CS } from '../../kernel/arch/layout.ts';
import { GuestFault } from '../../emulator/exceptions.ts';
import { haveBinutils } from '../util/binutils.ts';

const tb = haveBinutils() ? test : test.skip;

tb('a kernel function called at CPL 0 gets its cdecl arguments, returns eax, and returns like ret', t => {
  const r = new Rig();
  const seen: number[] = [];
  const sub = r.m.kfuncs.register('sub', ctx => {
    seen.push(ctx.arg(0), ctx.arg(1), ctx.arg(2));
    return ctx.arg(0) - ctx.arg(1);
  });
  const sym = r.kernelCode(`
    mov ebx, 0x5555
    push -3
    push 7
    push 30
    mov eax, ${sub}
    call eax
  back:
    add esp, 12
    hlt`);
  r.kernel(sym._start);
  t.is(r.run(), 'halted');
  t.deepEqual(seen, [30, 7, -3]);
  t.is(r.reg(0), 23, 'result in eax');
  t.is(r.reg(3), 0x5555, 'other registers untouched');
  t.is(r.reg(4), r.bare.kernelStackTop, 'stack balanced: ret popped the return address');
  const s = r.m.stats();
  t.is(s.kernelCalls, 1);
  t.is(s.instructions, 8, 'the function is not an instruction; the code around it is');
});

tb('a kernel function can call through a table in memory, like an import slot', t => {
  const r = new Rig();
  const twice = r.m.kfuncs.register('twice', ctx => ctx.arg(0) * 2);
  r.bare.mapFresh(USER_DATA, 0x1000, { writable: true });
  r.bare.write32(USER_DATA, twice);
  const sym = r.kernelCode(`push 21\n call DWORD PTR [${USER_DATA}]\n add esp, 4\n hlt`);
  r.kernel(sym._start).run();
  t.is(r.reg(0), 42);
});

tb('the same call at CPL 3 faults: #PF (present, user, read) at the function address', t => {
  const r = new Rig();
  let ran = false;
  const fn = r.m.kfuncs.register('secret', () => { ran = true; return 1; });
  const sym = r.code(`mov eax, ${fn}\n call eax\n hlt`);
  r.user(sym._start).run();
  t.false(ran);
  t.like(r.lastTrap, { vector: 14, error: 0b101, cr2: fn >>> 0, eip: fn >>> 0, cs: USER_CS, esp: USER_STACK_TOP - 4 });
});

tb('an unmapped kernel-function region faults at CPL 0 too; an address between functions is #UD', t => {
  const r = new Rig();
  const fn = r.m.kfuncs.register('f', () => 5);
  r.bare.unmap(fn & -4096);
  const sym = r.kernelCode(`mov eax, ${fn}\n call eax\n hlt\n between: mov eax, ${fn + 4}\n call eax`);
  r.kernel(sym._start).run();
  t.like(r.lastTrap, { vector: 14, error: 0b000, cr2: fn >>> 0 });

  const r2 = new Rig();
  const fn2 = r2.m.kfuncs.register('f', () => 5);
  const sym2 = r2.kernelCode(`mov eax, ${fn2 + 4}\n call eax`);
  r2.kernel(sym2._start).run();
  t.like(r2.lastTrap, { vector: 6, eip: (fn2 + 4) >>> 0 });
});

tb('a kernel function reads user memory with user checks and catches the fault (copy_from_user → -EFAULT)', t => {
  const r = new Rig();
  r.bare.mapFresh(USER_DATA, 0x1000, { user: true, writable: true });
  r.bare.write(USER_DATA, new TextEncoder().encode('hi there'));
  const copy = r.m.kfuncs.register('copy', ctx => {
    try {
      return ctx.readBytes(ctx.arg(0), ctx.arg(1), true).reduce((a, b) => a + b, 0);
    } catch (e) {
      if (e instanceof GuestFault) return -14;
      throw e;
    }
  });
  const sym = r.kernelCode(`
    push 8
    push ${USER_DATA}
    call ${copy}
    mov esi, eax
    push 4
    push ${0xc0001000}
    call ${copy}
    mov edi, eax
    push 4
    push ${USER_DATA + 0xffe}
    call ${copy}
    hlt`);
  r.kernel(sym._start).run();
  t.is(r.reg(6), [...'hi there'].reduce((a, c) => a + c.charCodeAt(0), 0));
  t.is(r.reg(7) | 0, -14, 'a supervisor page is refused to a user-checked copy');
  t.is(r.reg(0) | 0, -14, 'so is a range running off the mapped page');
});

tb('a guest fault a kernel function does not catch is delivered to the guest at the function address', t => {
  const r = new Rig();
  const bad = r.m.kfuncs.register('bad', ctx => ctx.read32(0x40000000));
  const sym = r.kernelCode(`call ${bad}\n hlt`);
  r.kernel(sym._start).run();
  t.like(r.lastTrap, { vector: 14, error: 0, cr2: 0x40000000, eip: bad >>> 0 });
});

tb('a kernel function can stop the machine or continue elsewhere instead of returning', t => {
  const r = new Rig();
  const sym0 = r.kernelCode('elsewhere: mov ecx, 99\n hlt');
  const jumper = r.m.kfuncs.register('jumper', ctx => { ctx.jump(sym0.elsewhere); return 7; });
  const sym = r.kernelCode(`call ${jumper}\n mov ecx, 1\n hlt`);
  r.kernel(sym._start);
  t.is(r.run(), 'halted');
  t.is(r.reg(1), 99);
  t.is(r.reg(0), 7);
});
