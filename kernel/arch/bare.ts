// The hardware structures a kernel sets up at boot (arch/x86/kernel/head_32.S, cpu/common.c's GDT, idt.c,
// the TSS of processor.h, doublefault_32.c's task) built on the machine with this kernel's layout (layout.ts):
// physical frame allocation, page tables, a GDT with Linux i386's selectors, an IDT, a TSS and a double-fault TSS,
// and entering CPL 3 or CPL 0. The kernel (kernel.ts, mm.ts) builds on it and keeps the policy; tests that set up
// their own scenarios on the bare machine use it alone (test/util/machine.ts, test/util/monitor.ts).
//
// Physical memory [0, LOW_MEMORY) holds the kernel's structures and is mapped at PAGE_OFFSET supervisor-only;
// frames above LOW_MEMORY are handed out for user pages. The kernel-function region (emulator/kfuncs.ts) is mapped
// supervisor-only too.

import type { Machine } from '../../emulator/machine.ts';
import { PTE_P, PTE_RW, PTE_US, PTE_G } from '../../emulator/mmu.ts';
import { flatDescriptor, tssDescriptor, gateDescriptor, TSS_BUSY } from '../../emulator/descriptors.ts';
import { TSS_ESP0, TSS_SS0, TSS_CR3, TSS_EIP, TSS_EFLAGS, TSS_EAX, TSS_ES } from '../../emulator/tasks.ts';
import { Vec } from '../../emulator/exceptions.ts';
import {
  PAGE_SIZE, PAGE_OFFSET, LOW_MEMORY, KERNEL_CS, KERNEL_DS, USER_CS, USER_DS, TSS_SEL, DF_TSS_SEL, GDT_ENTRIES,
  pageDown, pageUp,
} from './layout.ts';

export interface MapFlags {
  user?: boolean;
  writable?: boolean;
  global?: boolean;
}

export class OutOfMemory extends Error {
  override name = 'OutOfMemory';
}

export class BareSystem {
  readonly pageDirectory: number;
  readonly gdt: number;
  readonly idt: number;
  readonly tss: number;
  readonly dfTss: number;
  /** Virtual addresses of the top of the kernel stack (TSS esp0) and of the double-fault stack. */
  readonly kernelStackTop: number;
  readonly dfStackTop: number;
  private nextLow = PAGE_SIZE; // page 0 stays unused
  private nextHigh = LOW_MEMORY;

  /** Whether kernel mappings are global (kept in the TLB across CR3 writes); off for page-table isolation. */
  readonly globalKernel: boolean;

  constructor(readonly machine: Machine, opts: { kernelStackPages?: number; globalKernel?: boolean } = {}) {
    this.globalKernel = opts.globalKernel ?? true;
    const mem = machine.mem;
    if (mem.size <= LOW_MEMORY) throw new RangeError(`the bare system needs more than ${LOW_MEMORY} bytes of RAM`);
    this.pageDirectory = this.allocLow(PAGE_SIZE);
    // The direct map of low memory, supervisor-only (global: it is the same in every address space).
    const global = this.globalKernel;
    for (let p = 0; p < LOW_MEMORY; p += PAGE_SIZE) this.map(PAGE_OFFSET + p, p, { writable: true, global });
    // The kernel-function region: supervisor-only pages (their bytes are never executed).
    const kf = machine.kfuncs;
    for (let i = 0; i < kf.pages; i++) this.map(kf.base + i * PAGE_SIZE, this.allocLow(PAGE_SIZE), { global });

    this.gdt = this.allocLow(PAGE_SIZE);
    this.idt = this.allocLow(PAGE_SIZE);
    this.tss = this.allocLow(PAGE_SIZE);
    this.dfTss = this.tss + 0x200;
    const kstack = this.allocLow((opts.kernelStackPages ?? 2) * PAGE_SIZE);
    this.kernelStackTop = PAGE_OFFSET + kstack + (opts.kernelStackPages ?? 2) * PAGE_SIZE;
    this.dfStackTop = PAGE_OFFSET + this.allocLow(PAGE_SIZE) + PAGE_SIZE;

    this.setDescriptor(KERNEL_CS, flatDescriptor(0xa, 0));
    this.setDescriptor(KERNEL_DS, flatDescriptor(0x2, 0));
    this.setDescriptor(USER_CS, flatDescriptor(0xa, 3));
    this.setDescriptor(USER_DS, flatDescriptor(0x2, 3));
    this.setDescriptor(TSS_SEL, tssDescriptor(PAGE_OFFSET + this.tss, 0x67));
    this.setDescriptor(DF_TSS_SEL, tssDescriptor(PAGE_OFFSET + this.dfTss, 0x67));

    // The main TSS: the CPL 0 stack for entries from CPL 3. No I/O bitmap (its base lies past the limit).
    mem.write32(this.tss + TSS_ESP0, this.kernelStackTop);
    mem.write32(this.tss + TSS_SS0, KERNEL_DS);
    mem.write32(this.tss + 100, 104 << 16);
    // The double-fault task: its own stack, the kernel's page directory; eip set by setDoubleFaultHandler.
    mem.write32(this.dfTss + TSS_CR3, this.pageDirectory);
    mem.write32(this.dfTss + TSS_EFLAGS, 0x2);
    mem.write32(this.dfTss + TSS_EAX + 4 * 4, this.dfStackTop);
    const segs = [KERNEL_DS, KERNEL_CS, KERNEL_DS, KERNEL_DS, KERNEL_DS, KERNEL_DS];
    segs.forEach((s, i) => mem.write32(this.dfTss + TSS_ES + 4 * i, s));
    mem.write32(this.dfTss + 100, 104 << 16);

    // Load it all into the CPU, as a kernel's startup code would: GDTR, IDTR, TR (marked busy), CR3, CR0.PG|WP.
    const hi = mem.read32(this.gdt + (TSS_SEL & ~7) + 4);
    mem.write32(this.gdt + (TSS_SEL & ~7) + 4, hi | TSS_BUSY);
    machine.cpu.boot({
      gdt: [PAGE_OFFSET + this.gdt, GDT_ENTRIES * 8 - 1], idt: [PAGE_OFFSET + this.idt, 256 * 8 - 1],
      tr: [TSS_SEL, PAGE_OFFSET + this.tss, 0x67], cr3: this.pageDirectory,
    });
    this.enterKernel(0, this.kernelStackTop);
  }

  /** Page-aligned zeroed physical memory from low memory (kernel space: its kernel address is PAGE_OFFSET + it). */
  allocLow(bytes: number): number {
    const n = Math.ceil(bytes / PAGE_SIZE) * PAGE_SIZE;
    if (this.nextLow + n > LOW_MEMORY) throw new OutOfMemory('out of low memory');
    const p = this.nextLow;
    this.nextLow += n;
    this.machine.mem.zero(p, n);
    return p;
  }

  /** A zeroed physical frame above low memory. */
  allocFrame(): number {
    if (this.nextHigh + PAGE_SIZE > this.machine.mem.size) throw new OutOfMemory('out of physical memory');
    const p = this.nextHigh;
    this.nextHigh += PAGE_SIZE;
    this.machine.mem.zero(p, PAGE_SIZE);
    return p;
  }

  /** Map the page at `virt` to frame `phys`. Page tables come from low memory; PDEs allow everything (PTEs decide). */
  map(virt: number, phys: number, flags: MapFlags = {}, pageDirectory = this.pageDirectory): void {
    const mem = this.machine.mem;
    const pdeAt = pageDirectory + ((virt >>> 22) << 2);
    let pde = mem.read32(pdeAt);
    if ((pde & PTE_P) === 0) {
      pde = this.allocLow(PAGE_SIZE) | PTE_P | PTE_RW | PTE_US;
      mem.write32(pdeAt, pde);
    }
    const pte = (phys & -PAGE_SIZE) | PTE_P | (flags.writable ? PTE_RW : 0) | (flags.user ? PTE_US : 0)
      | (flags.global ? PTE_G : 0);
    mem.write32(((pde & -4096) >>> 0) + (((virt >>> 12) & 0x3ff) << 2), pte);
    this.machine.mmu.invlpg(virt);
  }

  unmap(virt: number, pageDirectory = this.pageDirectory): void {
    const mem = this.machine.mem;
    const pde = mem.read32(pageDirectory + ((virt >>> 22) << 2));
    if ((pde & PTE_P) === 0) return;
    mem.write32(((pde & -4096) >>> 0) + (((virt >>> 12) & 0x3ff) << 2), 0);
    this.machine.mmu.invlpg(virt);
  }

  /** Map fresh zeroed frames over [virt, virt+bytes) (page-rounded). */
  mapFresh(virt: number, bytes: number, flags: MapFlags = {}): void {
    const start = pageDown(virt >>> 0), end = pageUp((virt >>> 0) + bytes);
    for (let v = start; v < end; v += PAGE_SIZE) this.map(v, this.allocFrame(), flags);
  }

  /** Physical address of `virt` by the page tables, or -1. */
  physical(virt: number): number { return this.machine.mmu.probe(virt); }

  /** Write through the page tables with the monitor's own authority (no protection checks). */
  write(virt: number, data: Uint8Array): void {
    for (let i = 0; i < data.length;) {
      const v = (virt + i) >>> 0, p = this.physical(v);
      if (p < 0) throw new RangeError(`write to unmapped 0x${v.toString(16)}`);
      const n = Math.min(data.length - i, PAGE_SIZE - (v & 0xfff));
      this.machine.mem.writeBytes(p, data.subarray(i, i + n));
      i += n;
    }
  }
  write32(virt: number, v: number): void {
    this.write(virt, new Uint8Array(new Int32Array([v]).buffer));
  }
  read(virt: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const p = this.physical((virt + i) >>> 0);
      out[i] = p < 0 ? 0 : this.machine.mem.read8(p);
    }
    return out;
  }
  read32(virt: number): number {
    const b = this.read(virt, 4);
    return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
  }

  setDescriptor(sel: number, [lo, hi]: [number, number]): void {
    const mem = this.machine.mem, at = this.gdt + (sel & ~7);
    mem.write32(at, lo);
    mem.write32(at + 4, hi);
  }

  /** An interrupt ('int': IF cleared) or trap ('trap': IF kept) gate to `offset` in the kernel code segment. */
  setGate(vector: number, kind: 'int' | 'trap', offset: number, dpl = 0, selector = KERNEL_CS): void {
    const [lo, hi] = gateDescriptor(kind, selector, offset, dpl);
    this.machine.mem.write32(this.idt + vector * 8, lo);
    this.machine.mem.write32(this.idt + vector * 8 + 4, hi);
  }
  setTaskGate(vector: number, tssSel: number, dpl = 0): void {
    const [lo, hi] = gateDescriptor('task', tssSel, 0, dpl);
    this.machine.mem.write32(this.idt + vector * 8, lo);
    this.machine.mem.write32(this.idt + vector * 8 + 4, hi);
  }
  clearGate(vector: number): void {
    this.machine.mem.write32(this.idt + vector * 8, 0);
    this.machine.mem.write32(this.idt + vector * 8 + 4, 0);
  }

  /** #DF through a task gate to the double-fault TSS, which starts at `eip` on its own stack. */
  setDoubleFaultHandler(eip: number): void {
    this.machine.mem.write32(this.dfTss + TSS_EIP, eip);
    this.setTaskGate(Vec.DF, DF_TSS_SEL);
  }

  /** Continue at `eip` at CPL 3 with the user selectors. */
  enterUser(eip: number, esp: number, eflags = 0x202): void {
    this.machine.cpu.enter(3, USER_CS, USER_DS, eip, esp, eflags);
  }

  /** Continue at `eip` at CPL 0 with the kernel selectors (interrupts off unless eflags says otherwise). */
  enterKernel(eip: number, esp: number, eflags = 0x2): void {
    this.machine.cpu.enter(0, KERNEL_CS, KERNEL_DS, eip, esp, eflags);
  }

}
