// Exceptions that meet exceptions: a #PF while pushing a fault's frame on a bad CPL 0 stack becomes a #DF, delivered
// through a task gate to a TSS with its own stack (a real hardware task switch); a fault while delivering #DF is a
// triple fault, which stops the machine until reset. And the timer: it interrupts endless loops at CPL 3 and CPL 0,
// waits while IF=0, and wakes hlt.
import test from 'ava';
import { Rig } from '../util/machine.ts';
import { KERNEL_CS, USER_CS, TSS_SEL, DF_TSS_SEL } from '../../kernel/arch/layout.ts';
import { TSS_EIP, TSS_LINK, TSS_EAX } from '../../emulator/tasks.ts';
import { haveBinutils } from '../util/binutils.ts';

const tb = haveBinutils() ? test : test.skip;
const BAD_STACK = 0x50000000; // not mapped

/** A rig whose #DF goes through the task gate to code that records where it runs and stops. */
function dfRig(): { r: Rig; df: { esp: number; tr: number; cpl: number; error: number } | undefined; sym: Record<string, number> } {
  const r = new Rig();
  const state: { df?: { esp: number; tr: number; cpl: number; error: number } } = {};
  const rec = r.m.kfuncs.register('dfrec', ctx => {
    const esp = (ctx.reg(4) + 4) >>> 0; // before the call
    state.df = { esp, tr: ctx.cpu.trSel, cpl: ctx.cpu.cpl, error: ctx.read32(esp) };
    ctx.stop('double fault handled');
  });
  const sym = r.kernelCode(`
  df_handler:
    call ${rec}
    hlt
  bad_push:
    mov esp, ${BAD_STACK}
  push_it:
    push eax
    hlt
  `);
  r.bare.setDoubleFaultHandler(sym.df_handler);
  return { r, get df() { return state.df; }, sym };
}

tb('a #PF on a bad CPL 0 stack while delivering a fault becomes #DF, run by a task switch on its own stack', t => {
  const ctx = dfRig();
  const { r, sym } = ctx;
  r.kernel(sym.bad_push);
  t.is(r.run(), 'stopped');
  const df = ctx.df!;
  t.truthy(df, 'the double-fault handler ran');
  t.is(df.esp, r.bare.dfStackTop - 4, 'on the double-fault TSS stack, with the error code pushed');
  t.is(df.error, 0);
  t.is(df.tr, DF_TSS_SEL, 'TR names the double-fault TSS');
  t.is(df.cpl, 0);
  t.is(r.m.mmu.cr2 >>> 0, BAD_STACK - 4, 'CR2: the second #PF, pushing the first one’s frame');
  // The hardware saved the interrupted task into the old TSS and linked the new one back to it.
  const mem = r.m.mem;
  t.is(mem.read32(r.bare.tss + TSS_EIP) >>> 0, sym.push_it, 'old TSS: eip of the faulting push');
  t.is(mem.read32(r.bare.tss + TSS_EAX + 16) >>> 0, BAD_STACK, 'old TSS: the bad esp');
  t.is(mem.read32(r.bare.dfTss + TSS_LINK) & 0xffff, TSS_SEL, 'back link');
  t.is(mem.read32(r.bare.gdt + (DF_TSS_SEL & ~7) + 4) & 0x200, 0x200, 'double-fault TSS busy');
  t.is(mem.read32(r.bare.gdt + TSS_SEL + 4) & 0x200, 0x200, 'old TSS still busy (nested)');
  const s = r.m.stats();
  t.is(s.doubleFaults, 1);
  t.is(s.taskSwitches, 1);
  t.is(s.traps[8], 1);
  t.false(14 in s.traps, 'the #PF was never delivered');
});

tb('a contributory fault while delivering a contributory one (#GP delivering #DE) is a #DF too', t => {
  const ctx = dfRig();
  const { r } = ctx;
  r.bare.clearGate(0); // #DE's gate is invalid: delivering it raises #GP, and #GP's gate is invalid too
  r.bare.clearGate(13);
  const sym = r.kernelCode('xor ecx, ecx\n div ecx\n hlt');
  r.kernel(sym._start).run();
  t.truthy(ctx.df);
  t.is(r.m.stats().doubleFaults, 1);
});

tb('a benign fault first is delivered serially: #UD with a bad stack gives #PF, then #DF', t => {
  const ctx = dfRig();
  const { r } = ctx;
  const sym = r.kernelCode(`mov esp, ${BAD_STACK}\n ud2`);
  r.kernel(sym._start).run();
  t.truthy(ctx.df);
});

tb('a fault while delivering #DF is a triple fault: the machine stops, reports it, and can be reset', t => {
  const { r, sym } = dfRig();
  // The double-fault TSS descriptor is broken (not present): switching to it faults.
  const at = r.bare.gdt + (DF_TSS_SEL & ~7) + 4;
  r.m.mem.write32(at, r.m.mem.read32(at) & ~0x8000);
  r.kernel(sym.bad_push);
  t.is(r.run(), 'triple-fault');
  t.is(r.m.status, 'triple-fault');
  t.regex(r.m.stopReason, /^triple fault at eip 0x[0-9a-f]+: #PF\(0x2\) cr2=0x4ffffffc → #PF\(0x2\) cr2=0x4ffffffc → #DF\(0x0\) → #NP\(0xf9\)$/);
  t.is(r.m.stats().tripleFaults, 1);
  t.is(r.run(), 'triple-fault', 'stays stopped');
  // Reset: power-on state (protected mode, CPL 0, paging off); RAM is kept, so new code can be put there and run.
  r.m.reset();
  t.is(r.m.status, 'running');
  t.is(r.m.cpu.cpl, 0);
  t.is(r.m.mmu.paging, false);
  r.m.mem.writeBytes(0x7000, Uint8Array.from([0xb8, 42, 0, 0, 0, 0xf4])); // mov eax, 42; hlt
  r.m.cpu.eip = 0x7000;
  t.is(r.run(), 'halted');
  t.is(r.reg(0), 42);
});

tb('no #DF for a fault at CPL 3: the CPU switches to the good kernel stack', t => {
  const { r } = dfRig();
  const sym = r.code(`mov esp, ${BAD_STACK}\n push eax`);
  r.user(sym._start).run();
  t.like(r.lastTrap, { vector: 14, error: 0b110, cr2: BAD_STACK - 4, cs: USER_CS, esp: BAD_STACK });
  t.is(r.m.stats().doubleFaults, 0);
});

/** A timer handler that counts ticks (recording the interrupted eip and CPL) and stops after `n`. */
function timerRig(interval: number, n: number): { r: Rig; ticks: { eip: number; cs: number; ifInHandler: number }[] } {
  const r = new Rig({ timerInterval: interval });
  const ticks: { eip: number; cs: number; ifInHandler: number }[] = [];
  const tick = r.m.kfuncs.register('tick', ctx => {
    const frame = (ctx.reg(4) + 4) >>> 0;
    ticks.push({ eip: ctx.read32(frame) >>> 0, cs: ctx.read32(frame + 4) & 0xffff, ifInHandler: (ctx.cpu.flags >> 9) & 1 });
    if (ticks.length >= n) ctx.stop('enough ticks');
  });
  const k = r.kernelCode(`call ${tick}\n iretd`);
  r.bare.setGate(0x20, 'int', k._start, 0);
  return { r, ticks };
}

tb('the timer interrupts an endless loop at CPL 3', t => {
  const { r, ticks } = timerRig(1000, 3);
  const sym = r.code('spin: jmp spin');
  r.user(sym.spin);
  t.is(r.run(1_000_000), 'stopped');
  t.is(ticks.length, 3);
  for (const k of ticks) t.like(k, { eip: sym.spin, cs: USER_CS, ifInHandler: 0 });
  const s = r.m.stats();
  t.is(s.timerInterrupts, 3);
  t.is(s.userEntries, 3);
  t.is(s.userExits, 2);
  t.true(s.cycles >= 3000 && s.cycles < 3100, `ticks every 1000 cycles (${s.cycles})`);
});

tb('the timer interrupts an endless loop at CPL 0 when IF=1, and not when IF=0', t => {
  const { r, ticks } = timerRig(500, 2);
  const sym = r.kernelCode('spin: jmp spin');
  r.kernel(sym.spin, r.bare.kernelStackTop, 0x202);
  t.is(r.run(100_000), 'stopped');
  t.deepEqual(ticks.map(k => [k.eip, k.cs]), [[sym.spin, KERNEL_CS], [sym.spin, KERNEL_CS]]);

  const off = timerRig(500, 1);
  const sym2 = off.r.kernelCode('spin: jmp spin');
  off.r.kernel(sym2.spin, off.r.bare.kernelStackTop, 0x2);
  t.is(off.r.run(10_000), 'limit', 'IF=0: the loop runs on');
  t.is(off.ticks.length, 0);
  t.true(off.r.m.timer.pending, 'the request waits');
});

tb('a request pending while IF=0 comes in one instruction after sti (the interrupt shadow)', t => {
  const { r, ticks } = timerRig(100, 1);
  const sym = r.kernelCode(`
    mov ecx, 200
  wait:
    dec ecx
    jnz wait
    sti
    mov eax, 1
  next:
    jmp next`);
  r.kernel(sym._start);
  t.is(r.run(10_000), 'stopped');
  t.deepEqual(ticks.map(k => k.eip), [sym.next]);
  t.is(r.reg(0), 1);
});

tb('hlt waits for the timer, and the handler returns after the hlt', t => {
  const { r, ticks } = timerRig(10_000, 1);
  const sym = r.kernelCode(`
    sti
  after_sti:
    hlt
  after_hlt:
    jmp after_hlt`);
  r.kernel(sym._start);
  t.is(r.run(100), 'stopped');
  t.deepEqual(ticks.map(k => k.eip), [sym.after_hlt], 'delivered during hlt, returning after it');
  const s = r.m.stats();
  t.true(s.haltedCycles > 9_000, `halted cycles ${s.haltedCycles}`);
  t.is(s.instructions, 2 + 1, 'sti, hlt, and the handler’s iret not yet (the call stopped it)');
});

tb('hlt with interrupts off halts the machine for good', t => {
  const r = new Rig();
  const sym = r.kernelCode('cli\n hlt');
  r.kernel(sym._start);
  t.is(r.run(), 'halted');
  t.is(r.m.status, 'halted');
});

tb('#DE and #GP at CPL 0 are delivered without a stack switch: eflags, cs, eip (+ error code)', t => {
  const r = new Rig();
  const sym = r.kernelCode('xor ecx, ecx\n div_it: div ecx');
  r.kernel(sym._start).run();
  t.like(r.lastTrap, { vector: 0, error: null, eip: sym.div_it, cs: KERNEL_CS, esp: null, handlerEsp: r.bare.kernelStackTop - 12 });
  const r2 = new Rig();
  const sym2 = r2.kernelCode('mov eax, 0x1000\n mov ds, eax');
  r2.kernel(sym2._start).run();
  t.like(r2.lastTrap, { vector: 13, error: 0x1000, handlerEsp: r2.bare.kernelStackTop - 16 }, 'a selector past the GDT');
});

tb('iret in the double-fault task (NT=1) switches back to the interrupted task and frees the double-fault TSS', t => {
  const r = new Rig();
  const seen: { nt: number; tr: number }[] = [];
  const rec = r.m.kfuncs.register('dfrec', ctx => {
    seen.push({ nt: (ctx.cpu.flags >> 14) & 1, tr: ctx.cpu.trSel });
    if (seen.length === 2) ctx.stop('second double fault');
  });
  const sym = r.kernelCode(`
  df_handler:
    add esp, 4          # the error code
    call ${rec}
    iretd               # back to the task that faulted: it faults again
    jmp df_handler      # the next #DF starts here: the TSS saved this eip at the iret
  bad_push:
    mov esp, ${BAD_STACK}
    push eax`);
  r.bare.setDoubleFaultHandler(sym.df_handler);
  r.kernel(sym.bad_push);
  t.is(r.run(), 'stopped');
  t.deepEqual(seen, [{ nt: 1, tr: DF_TSS_SEL }, { nt: 1, tr: DF_TSS_SEL }]);
  const s = r.m.stats();
  t.is(s.doubleFaults, 2);
  t.is(s.taskSwitches, 3, 'into the double-fault task, back, and into it again');
  t.is(s.irets, 1);
});
