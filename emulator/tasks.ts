// Hardware task switching (32-bit TSS), as far as the machine needs it: an interrupt or exception through a task gate
// (how #DF gets a fresh stack when the kernel stack itself is bad), iret with NT=1 back to the previous task, and
// ltr. The current state is saved into the current TSS, the new task's state is loaded from its TSS (CR3, EFLAGS,
// EIP, the general registers, the segment selectors), the new TSS is marked busy and linked back to the old one.
// There is no LDT and no I/O permission bitmap.

import type { Cpu } from './cpu.ts';
import { CS, SS, ES, DS, FS, GS, CR0_TS } from './arch.ts';
import { fault } from './exceptions.ts';
import { getEflags, putEflags, NT } from './flags.ts';
import {
  readDescriptor, writeDescriptorHigh, isTss, isCode, isConforming, isWritableData, sysRead32, sysRead16, sysWrite32,
  sysWrite16, TSS_BUSY,
} from './descriptors.ts';
import { Ctr } from './stats.ts';

// 32-bit TSS layout.
export const TSS_LINK = 0, TSS_ESP0 = 4, TSS_SS0 = 8, TSS_CR3 = 28, TSS_EIP = 32, TSS_EFLAGS = 36, TSS_EAX = 40;
export const TSS_ES = 72, TSS_LDT = 96, TSS_MIN_LIMIT = 0x67;
const SEG_ORDER = [ES, CS, SS, DS, FS, GS]; // TSS slots 72, 76, 80, 84, 88, 92

/**
 * Switch to the task whose TSS selector is `sel`. nested: an interrupt/exception through a task gate (the new TSS
 * links back to the old one, its NT is set, it becomes busy); otherwise an iret return (the old task stops being
 * busy). `returnEip` is the EIP saved in the old task's TSS. Faults before the old state is saved happen in the old
 * task; after that, in the new one.
 */
export function taskSwitch(cpu: Cpu, sel: number, nested: boolean, returnEip: number, ext: number): void {
  const selErr = (sel & 0xfff8) | ext;
  const d = readDescriptor(cpu, sel, ext, nested ? 13 : 10);
  if (!isTss(d)) fault(nested ? 13 : 10, selErr);
  const busy = (d.type & 2) !== 0;
  if (nested ? busy : !busy) fault(nested ? 13 : 10, selErr);
  if (!d.present) fault(11, selErr);
  if (d.limit < TSS_MIN_LIMIT) fault(10, selErr);
  if (cpu.trLimit < TSS_MIN_LIMIT) fault(10, (cpu.trSel & 0xfff8) | ext);

  // Read the whole new state first, then save the old one: a fault in either leaves the registers unchanged.
  const nb = d.base;
  const cr3 = sysRead32(cpu, nb + TSS_CR3), eip = sysRead32(cpu, nb + TSS_EIP), fl = sysRead32(cpu, nb + TSS_EFLAGS);
  const regs = new Int32Array(8);
  for (let i = 0; i < 8; i++) regs[i] = sysRead32(cpu, nb + TSS_EAX + 4 * i);
  const segs = new Int32Array(6);
  for (let i = 0; i < 6; i++) segs[SEG_ORDER[i]] = sysRead16(cpu, nb + TSS_ES + 4 * i);
  const ldt = sysRead16(cpu, nb + TSS_LDT);
  if ((ldt & 0xfffc) !== 0) fault(10, selErr); // no LDTs on this machine

  const ob = cpu.trBase;
  let oldFlags = getEflags(cpu);
  if (!nested) oldFlags &= ~NT;
  sysWrite32(cpu, ob + TSS_EIP, returnEip);
  sysWrite32(cpu, ob + TSS_EFLAGS, oldFlags);
  for (let i = 0; i < 8; i++) sysWrite32(cpu, ob + TSS_EAX + 4 * i, cpu.regs[i]);
  for (let i = 0; i < 6; i++) sysWrite16(cpu, ob + TSS_ES + 4 * i, cpu.sreg[SEG_ORDER[i]]);

  if (nested) {
    sysWrite16(cpu, nb + TSS_LINK, cpu.trSel);
    writeDescriptorHigh(cpu, sel, d.hi | TSS_BUSY);
  } else {
    const od = readDescriptor(cpu, cpu.trSel, ext, 10);
    writeDescriptorHigh(cpu, cpu.trSel, od.hi & ~TSS_BUSY);
  }

  // Load the new task.
  cpu.trSel = sel & 0xffff; cpu.trBase = nb; cpu.trLimit = d.limit;
  cpu.loadCr3(cr3);
  putEflags(cpu, nested ? fl | NT : fl);
  for (let i = 0; i < 8; i++) cpu.regs[i] = regs[i];
  for (let i = 0; i < 6; i++) cpu.sreg[i] = segs[i];
  cpu.setCpl(segs[CS] & 3);
  cpu.eip = cpu.nextEip = eip;
  cpu.cr0 |= CR0_TS;
  cpu.C[Ctr.TASK_SWITCHES]++;

  // Checks of the new task's segments, in the new task (errors are #TS with the selector).
  const csd = readDescriptor(cpu, segs[CS], ext, 10);
  if (!isCode(csd) || (isConforming(csd) ? csd.dpl > cpu.cpl : csd.dpl !== cpu.cpl))
    fault(10, (segs[CS] & 0xfff8) | ext);
  if (!csd.present) fault(11, (segs[CS] & 0xfff8) | ext);
  const ssd = readDescriptor(cpu, segs[SS], ext, 10);
  if (!isWritableData(ssd) || ssd.dpl !== cpu.cpl || (segs[SS] & 3) !== cpu.cpl) fault(10, (segs[SS] & 0xfff8) | ext);
  if (!ssd.present) fault(12, (segs[SS] & 0xfff8) | ext);
}

/** ltr: load the task register with an available TSS and mark it busy (CPL 0 checked by the caller). */
export function loadTaskRegister(cpu: Cpu, sel: number): void {
  if ((sel & 0xfffc) === 0) fault(13, 0);
  const d = readDescriptor(cpu, sel);
  if (!isTss(d) || (d.type & 2) !== 0) fault(13, sel & 0xfff8);
  if (!d.present) fault(11, sel & 0xfff8);
  writeDescriptorHigh(cpu, sel, d.hi | TSS_BUSY);
  cpu.trSel = sel & 0xffff; cpu.trBase = d.base; cpu.trLimit = d.limit;
}
