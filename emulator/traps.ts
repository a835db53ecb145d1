// Interrupt and exception delivery through the IDT, and iret, as the SDM describes them for protected mode
// (vol. 3, chapter 6 and the INT n / IRET pages of vol. 2):
//  - gates: 32-bit interrupt gates (clear IF), trap gates (keep IF), task gates; a software int n (and int3, into)
//    checks the gate's DPL against CPL (#GP(n*8+2) if lower); hardware events do not;
//  - an entry to a more privileged level switches to the stack in the TSS (ss0:esp0 for CPL 0) and pushes
//    ss, esp, eflags, cs, eip (+ error code); an entry at the same level pushes eflags, cs, eip (+ error code) on the
//    current stack. All pushes are done, and can fault, before any register changes;
//  - a fault while delivering an event combines with it by the double-fault table (SDM Table 6-5): contributory
//    (#DE #TS #NP #SS #GP) then contributory, or #PF then contributory or #PF, raise #DF; anything else is handled
//    serially; a fault while delivering #DF is a triple fault: the machine stops with status 'triple-fault'.
// Cycle costs: trapEntry per delivery, isolationPerCrossing on a CPL 3 → 0 entry and on an iret back to CPL 3,
// iret per iret.

import type { Cpu } from './cpu.ts';
import { CS, SS, DS, ES, FS, GS } from './arch.ts';
import { fault, FAULT, VECTOR_NAMES } from './exceptions.ts';
import { getEflags, putEflags, TF, IF, NT, RF, VM, IOPL, ARITH, DF, AC, FIXED1 } from './flags.ts';
import { readDescriptor, isCode, isConforming, isWritableData, isReadable, sysRead32,
  sysRead16 } from './descriptors.ts';
import { taskSwitch } from './tasks.ts';
import { Ctr } from './stats.ts';

const GP = 13, NP = 11, TS = 10, SSF = 12, DFV = 8, PFV = 14;
/** Where an event comes from: it decides the DPL check, the EXT bit and the double-fault rules. */
const EXTERNAL = 0, EXCEPTION = 1, SOFTWARE = 2;

function contributory(v: number): boolean { return v === 0 || (v >= 10 && v <= 13); }

/** Deliver an exception raised by the instruction at cpu.eip (which is the saved eip, as for a fault). */
export function exception(cpu: Cpu, vector: number, error: number): void {
  raise(cpu, vector, error, EXCEPTION, cpu.eip);
}
/** Deliver a hardware interrupt before the instruction at cpu.eip. */
export function externalInterrupt(cpu: Cpu, vector: number): void {
  raise(cpu, vector, -1, EXTERNAL, cpu.eip);
}
/** int n / int3 / into: the saved eip is the next instruction (cpu.nextEip). */
export function softwareInterrupt(cpu: Cpu, vector: number): void {
  raise(cpu, vector, -1, SOFTWARE, cpu.nextEip);
}

function raise(cpu: Cpu, vector: number, error: number, source: number, returnEip: number): void {
  let v = vector, e = error, src = source, ret = returnEip;
  const chain = [describe(cpu, v, e, src)]; // for the triple fault's report
  for (;;) {
    try {
      deliver(cpu, v, e, src, ret);
      return;
    } catch (x) {
      if (x !== FAULT) throw x;
      const v2 = FAULT.vector, e2 = FAULT.error;
      chain.push(describe(cpu, v2, e2, EXCEPTION));
      if (v === DFV) {
        cpu.C[Ctr.TRIPLE_FAULTS]++;
        cpu.status = 'triple-fault';
        cpu.stopReason = `triple fault at eip 0x${(cpu.eip >>> 0).toString(16)}: ${chain.join(' → ')}`;
        return;
      }
      const double = src === EXCEPTION
        && ((contributory(v) && contributory(v2)) || (v === PFV && (contributory(v2) || v2 === PFV)));
      if (double) {
        v = DFV; e = 0;
        cpu.C[Ctr.DOUBLE_FAULTS]++;
        chain.push('#DF(0x0)');
      } else {
        v = v2; e = e2;
      }
      src = EXCEPTION;
      ret = cpu.eip; // a fault during delivery is reported against the instruction that caused the event
    }
  }
}

function describe(cpu: Cpu, v: number, e: number, src: number): string {
  const name = src === SOFTWARE ? `int 0x${v.toString(16)}` : VECTOR_NAMES[v] ?? `vector ${v}`;
  const err = e >= 0 ? `(0x${e.toString(16)})` : '';
  return `${name}${err}${v === PFV && src === EXCEPTION ? ` cr2=0x${(cpu.mmu.cr2 >>> 0).toString(16)}` : ''}`;
}

function deliver(cpu: Cpu, vector: number, error: number, src: number, returnEip: number): void {
  const ext = src === SOFTWARE ? 0 : 1;
  const idtErr = vector * 8 + 2 + ext;
  if (vector * 8 + 7 > cpu.idtLimit) fault(GP, idtErr);
  const lo = sysRead32(cpu, cpu.idtBase + vector * 8), hi = sysRead32(cpu, cpu.idtBase + vector * 8 + 4);
  const type = (hi >>> 8) & 0x1f; // with the S bit, which must be 0
  if (type !== 0x05 && type !== 0x0e && type !== 0x0f) fault(GP, idtErr);
  if (src === SOFTWARE && ((hi >>> 13) & 3) < cpu.cpl) fault(GP, idtErr);
  if ((hi & 0x8000) === 0) fault(NP, idtErr);
  const sel = lo >>> 16;
  const oldCpl = cpu.cpl;

  if (type === 0x05) {
    taskSwitch(cpu, sel, true, returnEip, ext);
    if (error >= 0) cpu.regs[4] = push(cpu, cpu.regs[4], [error], cpu.cpl === 3);
    count(cpu, vector, oldCpl);
    return;
  }

  const offset = (hi & 0xffff0000) | (lo & 0xffff);
  if ((sel & 0xfffc) === 0) fault(GP, ext);
  const d = readDescriptor(cpu, sel, ext);
  if (!isCode(d) || d.dpl > cpu.cpl) fault(GP, (sel & 0xfff8) | ext);
  if (!d.present) fault(NP, (sel & 0xfff8) | ext);
  const newCpl = isConforming(d) ? cpu.cpl : d.dpl;
  const eflags = getEflags(cpu);
  const frame = [returnEip, cpu.sreg[CS], eflags];
  let ss = cpu.sreg[SS], sp = cpu.regs[4];
  if (newCpl < cpu.cpl) {
    // Inner-level entry: the stack for newCpl comes from the TSS.
    const at = 4 + newCpl * 8;
    if (at + 5 > cpu.trLimit) fault(TS, (cpu.trSel & 0xfff8) | ext);
    const esp = sysRead32(cpu, cpu.trBase + at), nss = sysRead16(cpu, cpu.trBase + at + 4);
    if ((nss & 0xfffc) === 0) fault(TS, ext);
    if ((nss & 3) !== newCpl) fault(TS, (nss & 0xfff8) | ext);
    const sd = readDescriptor(cpu, nss, ext, TS);
    if (!isWritableData(sd) || sd.dpl !== newCpl) fault(TS, (nss & 0xfff8) | ext);
    if (!sd.present) fault(SSF, (nss & 0xfff8) | ext);
    frame.push(sp, ss);
    ss = nss; sp = esp;
  }
  frame.reverse(); // pushed in order: [ss, esp,] eflags, cs, eip
  if (error >= 0) frame.push(error);
  sp = push(cpu, sp, frame, newCpl === 3);

  // Commit.
  cpu.regs[4] = sp;
  cpu.sreg[SS] = ss;
  cpu.sreg[CS] = (sel & 0xfffc) | newCpl;
  cpu.setCpl(newCpl);
  cpu.flags &= ~(TF | NT | RF | VM | (type === 0x0e ? IF : 0));
  cpu.eip = cpu.nextEip = offset;
  count(cpu, vector, oldCpl);
}

/** Write words at sp-4, sp-8, ... (first word highest); returns the new sp. Nothing is committed by this. */
function push(cpu: Cpu, sp: number, words: number[], user: boolean): number {
  for (const w of words) {
    sp = (sp - 4) | 0;
    cpu.mmu.writeSlow(sp, 4, w, user);
  }
  return sp;
}

function count(cpu: Cpu, vector: number, oldCpl: number): void {
  const C = cpu.C, p = cpu.profile;
  cpu.halted = false;
  C[Ctr.TRAPS]++;
  cpu.trapCounts[vector]++;
  C[Ctr.CYCLES] += p.trapEntry;
  if (oldCpl === 3 && cpu.cpl === 0) {
    C[Ctr.USER_ENTRIES]++;
    C[Ctr.CYCLES] += p.isolationPerCrossing;
  }
}

/**
 * iret in protected mode: a task return if NT=1, else pop eip, cs, eflags (and esp, ss when returning to an outer
 * level). Every pop and check happens before anything changes. EFLAGS: at CPL 0 everything but VM (no v86 mode);
 * above CPL 0 IOPL is kept, and IF too unless CPL <= IOPL.
 */
export function iret(cpu: Cpu): void {
  const oldCpl = cpu.cpl;
  if ((cpu.flags & NT) !== 0) {
    const link = sysRead16(cpu, cpu.trBase);
    taskSwitch(cpu, link, false, cpu.nextEip, 0);
    countIret(cpu, oldCpl);
    return;
  }
  const mmu = cpu.mmu, sp = cpu.regs[4];
  const eip = mmu.read32(sp), cs = mmu.read32((sp + 4) | 0) & 0xffff, fl = mmu.read32((sp + 8) | 0);
  const rpl = cs & 3;
  if ((cs & 0xfffc) === 0) fault(GP, 0);
  if (rpl < cpu.cpl) fault(GP, cs & 0xfff8);
  const d = readDescriptor(cpu, cs);
  if (!isCode(d) || (isConforming(d) ? d.dpl > rpl : d.dpl !== rpl)) fault(GP, cs & 0xfff8);
  if (!d.present) fault(NP, cs & 0xfff8);
  let nsp = (sp + 12) | 0, nss = cpu.sreg[SS];
  if (rpl > cpu.cpl) {
    const esp = mmu.read32((sp + 12) | 0), ss = mmu.read32((sp + 16) | 0) & 0xffff;
    if ((ss & 0xfffc) === 0 || (ss & 3) !== rpl) fault(GP, ss & 0xfff8);
    const sd = readDescriptor(cpu, ss);
    if (!isWritableData(sd) || sd.dpl !== rpl) fault(GP, ss & 0xfff8);
    if (!sd.present) fault(SSF, ss & 0xfff8);
    nsp = esp; nss = ss;
  }
  // Data segment registers the outer level may not use are nulled (read their descriptors before committing).
  const nullSegs: number[] = [];
  if (rpl > cpu.cpl) {
    for (const s of [ES, DS, FS, GS]) {
      const sel = cpu.sreg[s];
      if ((sel & 0xfffc) === 0) continue;
      const sd = readDescriptor(cpu, sel);
      if ((!isCode(sd) || !isConforming(sd)) && sd.dpl < rpl) nullSegs.push(s);
    }
  }

  let mask = ARITH | TF | DF | NT | RF | AC;
  if (cpu.cpl === 0) mask |= IF | IOPL;
  else if (cpu.cpl <= ((cpu.flags >> 12) & 3)) mask |= IF;
  const old = getEflags(cpu);
  putEflags(cpu, (old & ~mask) | (fl & mask) | FIXED1);
  cpu.regs[4] = nsp;
  cpu.sreg[SS] = nss;
  cpu.sreg[CS] = cs;
  for (const s of nullSegs) cpu.sreg[s] = 0;
  cpu.setCpl(rpl);
  cpu.eip = cpu.nextEip = eip;
  countIret(cpu, oldCpl);
}

function countIret(cpu: Cpu, oldCpl: number): void {
  const C = cpu.C, p = cpu.profile;
  C[Ctr.IRETS]++;
  C[Ctr.CYCLES] += p.iret;
  if (oldCpl === 0 && cpu.cpl === 3) {
    C[Ctr.USER_EXITS]++;
    C[Ctr.CYCLES] += p.isolationPerCrossing;
  }
}

/** A data-segment load (mov/pop ds es fs gs ss): the descriptor checks, then the selector. */
export function loadSegment(cpu: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  const rpl = sel & 3;
  if (seg === SS) {
    if ((sel & 0xfffc) === 0 || rpl !== cpu.cpl) fault(GP, sel & 0xfff8);
    const d = readDescriptor(cpu, sel);
    if (!isWritableData(d) || d.dpl !== cpu.cpl) fault(GP, sel & 0xfff8);
    if (!d.present) fault(SSF, sel & 0xfff8);
  } else if ((sel & 0xfffc) !== 0) {
    const d = readDescriptor(cpu, sel);
    if (!isReadable(d)) fault(GP, sel & 0xfff8);
    if ((!isCode(d) || !isConforming(d)) && d.dpl < Math.max(cpu.cpl, rpl)) fault(GP, sel & 0xfff8);
    if (!d.present) fault(NP, sel & 0xfff8);
  }
  cpu.sreg[seg] = sel;
}
