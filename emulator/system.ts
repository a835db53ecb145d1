// System instructions: interrupts, iret, hlt, cli/sti, popf, port I/O, control registers, descriptor tables, TLB
// invalidation, MSRs, segment loads, sysenter and sysexit (Intel SDM vol. 2B, SYSENTER and SYSEXIT, protected
// mode). The privileged ones raise #GP(0) unless CPL is 0 (cli, sti, in, out: unless
// CPL <= IOPL; there is no I/O permission bitmap, so IOPL is the only way to open ports to CPL 3). After any of them
// the interpreter returns to the run loop, which re-checks interrupts and re-translates the code page.

import type { Cpu } from './cpu.ts';
import {
  CR0_PE, CR0_MP, CR0_EM, CR0_TS, CR0_ET, CR0_NE, CR0_WP, CR0_AM, CR0_NW, CR0_CD, CR0_PG, CR4_TSD, CR4_PGE, SS, CS,
  MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
} from './arch.ts';
import { Op } from './execute.ts';
import { fault } from './exceptions.ts';
import { getEflags, putEflags, cond, IF, IOPL, ARITH, TF, DF, NT, AC, FIXED1, RF, VM } from './flags.ts';
import { Ctr } from './stats.ts';
import { softwareInterrupt, iret, loadSegment } from './traps.ts';
import { loadTaskRegister } from './tasks.ts';

const CR0_BITS = CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG;
const CR4_BITS = CR4_TSD | CR4_PGE;

function ea(cpu: Cpu, X: Int32Array, b: number): number {
  const regs = cpu.regs;
  return (regs[X[b + 3]] + (regs[X[b + 4]] << X[b + 5]) + X[b + 6]) | 0;
}

function requireCpl0(cpu: Cpu): void {
  if (cpu.cpl !== 0) fault(13, 0);
}
function requireIopl(cpu: Cpu): void {
  if (cpu.cpl > ((cpu.flags >> 12) & 3)) fault(13, 0);
}

export function execSystem(cpu: Cpu, op: number, X: Int32Array, b: number, info: number): void {
  const regs = cpu.regs, mmu = cpu.mmu, aux = (info >> 8) & 0xff;
  switch (op) {
    case Op.UD: return fault(6);
    case Op.INT: case Op.INT3: softwareInterrupt(cpu, X[b + 7] & 0xff); return;
    case Op.INTO: if (cond(cpu, 0)) softwareInterrupt(cpu, 4); return;
    case Op.IRET: iret(cpu); return;
    case Op.HLT: requireCpl0(cpu); cpu.halted = true; return;
    case Op.CLI: requireIopl(cpu); cpu.flags &= ~IF; return;
    case Op.STI:
      requireIopl(cpu);
      // Interrupts are recognised only after the instruction that follows sti (so "sti; hlt" cannot miss one).
      if ((cpu.flags & IF) === 0) cpu.shadowUntil = cpu.instructions() + 2;
      cpu.flags |= IF;
      return;
    case Op.POPF: {
      const v = mmu.read32(regs[4]);
      // At CPL 0 everything writable changes; above it IOPL never does, and IF only when CPL <= IOPL (silently
      // kept otherwise, as on real hardware). VM and RF are never set by popf; there is no v86 mode, VIF/VIP/ID stay 0.
      let mask = ARITH | TF | DF | NT | AC;
      if (cpu.cpl === 0) mask |= IF | IOPL;
      else if (cpu.cpl <= ((cpu.flags >> 12) & 3)) mask |= IF;
      putEflags(cpu, (getEflags(cpu) & ~mask) | (v & mask) | FIXED1);
      regs[4] = (regs[4] + 4) | 0;
      return;
    }
    case Op.IN: {
      requireIopl(cpu);
      const port = (aux & 2) !== 0 ? regs[2] & 0xffff : X[b + 7] & 0xff;
      const size = (aux & 1) !== 0 ? 4 : 1;
      const v = cpu.io.in(port, size);
      regs[0] = size === 4 ? v | 0 : (regs[0] & ~0xff) | (v & 0xff);
      return;
    }
    case Op.OUT: {
      requireIopl(cpu);
      const port = (aux & 2) !== 0 ? regs[2] & 0xffff : X[b + 7] & 0xff;
      const size = (aux & 1) !== 0 ? 4 : 1;
      cpu.io.out(port, size, size === 4 ? regs[0] : regs[0] & 0xff);
      return;
    }
    case Op.MOV_R_CR: {
      requireCpl0(cpu);
      regs[X[b + 3]] = aux === 0 ? cpu.cr0 : aux === 2 ? mmu.cr2 : aux === 3 ? mmu.cr3 : cpu.cr4;
      return;
    }
    case Op.MOV_CR_R: {
      requireCpl0(cpu);
      const v = regs[X[b + 3]];
      if (aux === 0) {
        // Real mode is not modelled, so clearing PE is refused like a reserved bit; PG needs PE (SDM: #GP(0)).
        if ((v & ~CR0_BITS) !== 0 || (v & CR0_PE) === 0) fault(13, 0);
        cpu.cr0 = v | CR0_ET;
        mmu.setControl((v & CR0_PG) !== 0, (v & CR0_WP) !== 0, (cpu.cr4 & CR4_PGE) !== 0);
      } else if (aux === 2) {
        mmu.cr2 = v;
      } else if (aux === 3) {
        cpu.loadCr3(v);
      } else {
        if ((v & ~CR4_BITS) !== 0) fault(13, 0); // PSE, PAE, VME, ... are not modelled
        cpu.cr4 = v;
        mmu.setControl((cpu.cr0 & CR0_PG) !== 0, (cpu.cr0 & CR0_WP) !== 0, (v & CR4_PGE) !== 0);
        if ((v & CR4_PGE) === 0) mmu.flush(false);
      }
      return;
    }
    case Op.LGDT: case Op.LIDT: {
      requireCpl0(cpu);
      const at = ea(cpu, X, b);
      const limit = mmu.read16(at), base = mmu.read32((at + 2) | 0);
      if (op === Op.LGDT) { cpu.gdtLimit = limit; cpu.gdtBase = base; } else { cpu.idtLimit = limit; cpu.idtBase = base; }
      return;
    }
    case Op.INVLPG: requireCpl0(cpu); mmu.invlpg(ea(cpu, X, b)); return;
    case Op.LTR_R: case Op.LTR_M: {
      requireCpl0(cpu);
      loadTaskRegister(cpu, op === Op.LTR_R ? regs[X[b + 3]] & 0xffff : mmu.read16(ea(cpu, X, b)));
      return;
    }
    case Op.WRMSR: case Op.RDMSR: {
      requireCpl0(cpu);
      const index = regs[1] >>> 0;
      if (index === 0x10) {
        // The time-stamp counter is the cycle count; writing it is ignored.
        if (op === Op.RDMSR) { const t = Math.floor(cpu.cycles); regs[0] = t | 0; regs[2] = Math.floor(t / 4294967296) | 0; }
        return;
      }
      const m = cpu.msrs.get(index);
      if (m === undefined) fault(13, 0);
      if (op === Op.WRMSR) { m[0] = regs[0]; m[1] = regs[2]; } else { regs[0] = m[0]; regs[2] = m[1]; }
      return;
    }
    case Op.CLTS: requireCpl0(cpu); cpu.cr0 &= ~CR0_TS; return;
    case Op.WBINVD: requireCpl0(cpu); return; // no caches to write back
    case Op.MOV_SREG_R: case Op.MOV_SREG_M: {
      const sel = op === Op.MOV_SREG_R ? regs[X[b + 3]] & 0xffff : mmu.read16(ea(cpu, X, b));
      loadSegment(cpu, aux, sel);
      if (aux === SS) cpu.shadowUntil = cpu.instructions() + 2; // mov ss: the next instruction runs uninterrupted
      return;
    }
    case Op.POP_SREG: {
      const sel = mmu.read32(regs[4]) & 0xffff;
      loadSegment(cpu, aux, sel);
      regs[4] = (regs[4] + 4) | 0;
      if (aux === SS) cpu.shadowUntil = cpu.instructions() + 2;
      return;
    }
    case Op.SYSENTER: sysenter(cpu); return;
    case Op.SYSEXIT: sysexit(cpu); return;
    default:
      fault(6);
  }
}

/** IA32_SYSENTER_CS's selector, or #GP(0) when it is null (SDM: "IA32_SYSENTER_CS[15:2] = 0"). */
function sysenterCs(cpu: Cpu): number {
  const cs = cpu.msrs.get(MSR_SYSENTER_CS)![0] & 0xffff;
  if ((cs & 0xfffc) === 0) fault(13, 0);
  return cs;
}

/**
 * sysenter: to CPL 0 at IA32_SYSENTER_EIP on the stack IA32_SYSENTER_ESP, CS from the MSR (RPL cleared) and SS the
 * next GDT entry. The SDM loads both descriptor caches with fixed flat values instead of reading the GDT, so nothing
 * here reads a descriptor (this machine's segments are flat anyway). VM, IF and RF are cleared; nothing is pushed,
 * so the kernel must learn where to return from registers the caller set (Linux: ebp = the user stack, and a fixed
 * return address in the vsyscall page). Allowed at any CPL; the crossing counts as a user entry from CPL 3.
 */
function sysenter(cpu: Cpu): void {
  const cs = sysenterCs(cpu) & 0xfffc;
  const oldCpl = cpu.cpl;
  cpu.flags &= ~(IF | RF | VM);
  cpu.sreg[CS] = cs;
  cpu.sreg[SS] = (cs + 8) & 0xffff;
  cpu.setCpl(0);
  cpu.regs[4] = cpu.msrs.get(MSR_SYSENTER_ESP)![0];
  cpu.eip = cpu.nextEip = cpu.msrs.get(MSR_SYSENTER_EIP)![0];
  const C = cpu.C, p = cpu.profile;
  C[Ctr.SYSENTERS]++;
  C[Ctr.CYCLES] += p.sysenter;
  if (oldCpl === 3) {
    C[Ctr.USER_ENTRIES]++;
    C[Ctr.CYCLES] += p.isolationPerCrossing;
  }
}

/**
 * sysexit: from CPL 0 to CPL 3 at edx with esp = ecx, CS = IA32_SYSENTER_CS + 16 and SS = + 24, both with RPL 3
 * (flat, not read from the GDT). #GP(0) above CPL 0 or with a null IA32_SYSENTER_CS. EFLAGS is left as it is: the
 * kernel restores the caller's flags itself before it (Linux: popfl; sti; sysexit).
 */
function sysexit(cpu: Cpu): void {
  if (cpu.cpl !== 0) fault(13, 0);
  const cs = sysenterCs(cpu);
  cpu.sreg[CS] = ((cs + 16) | 3) & 0xffff;
  cpu.sreg[SS] = ((cs + 24) | 3) & 0xffff;
  cpu.setCpl(3);
  cpu.regs[4] = cpu.regs[1];
  cpu.eip = cpu.nextEip = cpu.regs[2];
  const C = cpu.C, p = cpu.profile;
  C[Ctr.SYSEXITS]++;
  C[Ctr.CYCLES] += p.sysexit;
  C[Ctr.USER_EXITS]++;
  C[Ctr.CYCLES] += p.isolationPerCrossing;
}
