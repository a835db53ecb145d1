// Memory management: physical frames, the kernel's direct map, and per-process address spaces (mm/, arch/x86/mm/).
//
// The 3G/1G split: user space is [0, TASK_SIZE); the kernel half of every page directory is the same (its entries
// are copied from the boot page directory, swapper_pg_dir, and point to shared page tables), supervisor-only. All
// of physical RAM is mapped at PAGE_OFFSET (Linux's lowmem direct map), so the kernel can reach any frame, and so
// can a program running unverified at CPL 0: that is the point of the attack suite.
//
// With page-table isolation (--pti) each process also has a *user* page directory, in the frame right after its
// kernel one (so that the entry code switches between them by flipping bit 12 of CR3, as Linux's KPTI does with
// its 8 KiB PGD pair). Its user half points to the same page tables as the kernel one; its kernel half maps only
// what the CPU and the entry code need before the switch: the GDT, IDT and TSS pages, the entry code and this
// process's kernel stack. The kernel's functions, the syscall table and everything else are absent.

import { OutOfMemory, type BareSystem } from './arch/bare.ts';
import { PAGE_OFFSET, PAGE_SIZE, LOW_MEMORY, TASK_SIZE, pageDown, pageUp } from './arch/layout.ts';
import { PTE_P, PTE_RW, PTE_US } from '../emulator/mmu.ts';

export { OutOfMemory };
const USER_PDES = TASK_SIZE >>> 22;

/** Physical frames above low memory for user pages, with a free list (BareSystem hands out fresh ones). */
export class FrameAllocator {
  private readonly free: number[] = [];
  inUse = 0;
  constructor(private readonly bare: BareSystem) {}

  /** A zeroed frame; throws OutOfMemory. */
  alloc(): number {
    const f = this.free.pop();
    this.inUse++;
    if (f === undefined) {
      try {
        return this.bare.allocFrame();
      } catch (e) {
        this.inUse--;
        throw e;
      }
    }
    this.bare.machine.mem.zero(f, PAGE_SIZE);
    return f;
  }

  release(frame: number): void {
    this.inUse--;
    this.free.push(frame);
  }
}

export interface UserMapFlags { writable: boolean }

/**
 * Low-memory pages shared by every user page directory under PTI: the structures the CPU reads on an entry; and
 * whole page-directory entries it also gets (the vsyscall page's own page table).
 */
export interface EntryArea { readonly pages: readonly number[]; readonly pdes?: readonly (readonly [number, number])[] }

/**
 * One process's address space: its page directory (and, under PTI, the user page directory after it) and the
 * frames of its user pages, which it owns and frees.
 */
export class AddressSpace {
  /** Physical address of the kernel-view page directory (the CR3 of this process in the kernel). */
  readonly pd: number;
  /** Physical address of the user-view page directory under PTI (pd + PAGE_SIZE), or 0. */
  readonly userPd: number;
  private readonly owned = new Map<number, number>(); // user page address -> frame
  private readonly pageTables: number[] = [];

  constructor(private readonly bare: BareSystem, private readonly frames: FrameAllocator,
    opts: { pti?: EntryArea; kernelStack?: { phys: number; pages: number } } = {}) {
    const mem = bare.machine.mem;
    if (opts.pti) {
      this.pd = allocLowPair(bare);
      this.userPd = this.pd + PAGE_SIZE;
      // The user view's kernel half: one page table for the 4 MiB of low memory holding the entry area and this
      // process's kernel stack, supervisor-only, not global (isolation wants them dropped with the user's TLB).
      const pt = bare.allocLow(PAGE_SIZE);
      const pages = [...opts.pti.pages];
      if (opts.kernelStack) for (let i = 0; i < opts.kernelStack.pages; i++)
        pages.push(opts.kernelStack.phys + i * PAGE_SIZE);
      for (const phys of pages) {
        if (phys >= LOW_MEMORY) throw new Error('internal: the entry area must lie in low memory');
        mem.write32(pt + ((phys >>> 12) << 2), phys | PTE_P | PTE_RW);
      }
      mem.write32(this.userPd + ((PAGE_OFFSET >>> 22) << 2), pt | PTE_P | PTE_RW);
      for (const [index, pde] of opts.pti.pdes ?? []) mem.write32(this.userPd + 4 * index, pde);
    } else {
      this.pd = bare.allocLow(PAGE_SIZE);
      this.userPd = 0;
    }
    // The kernel half: the same page tables as the boot page directory.
    for (let i = USER_PDES; i < 1024; i++) mem.write32(this.pd + 4 * i, mem.read32(bare.pageDirectory + 4 * i));
  }

  /** Whether `virt` is mapped in this address space. */
  has(virt: number): boolean { return this.owned.has(pageDown(virt >>> 0)); }
  /** Number of user pages mapped. */
  get pages(): number { return this.owned.size; }

  /** Maps a fresh zeroed frame at user page `virt` (page-aligned, below TASK_SIZE). Throws OutOfMemory. */
  mapFresh(virt: number, flags: UserMapFlags): number {
    virt >>>= 0;
    if (virt % PAGE_SIZE !== 0 || virt >= TASK_SIZE) throw new RangeError(`internal: user page 0x${virt.toString(16)}`);
    if (this.owned.has(virt)) throw new Error(`internal: 0x${virt.toString(16)} mapped twice`);
    const frame = this.frames.alloc();
    this.owned.set(virt, frame);
    this.setPte(virt, frame | PTE_P | PTE_US | (flags.writable ? PTE_RW : 0));
    return frame;
  }

  /** Maps fresh frames over [start, end) (page-rounded), skipping pages already mapped. */
  mapRange(start: number, end: number, flags: UserMapFlags): void {
    for (let v = pageDown(start); v < pageUp(end); v += PAGE_SIZE) if (!this.owned.has(v)) this.mapFresh(v, flags);
  }

  unmapPage(virt: number): void {
    virt = pageDown(virt >>> 0);
    const frame = this.owned.get(virt);
    if (frame === undefined) return;
    this.setPte(virt, 0);
    this.owned.delete(virt);
    this.frames.release(frame);
  }

  /** The frame of a mapped user page, or -1. */
  frameOf(virt: number): number { return this.owned.get(pageDown(virt >>> 0)) ?? -1; }

  /** Copies bytes into user memory with the kernel's authority (the loader: read-only pages included). */
  poke(virt: number, bytes: Uint8Array): void {
    const mem = this.bare.machine.mem;
    for (let i = 0; i < bytes.length;) {
      const v = (virt + i) >>> 0;
      const frame = this.frameOf(v);
      if (frame < 0) throw new Error(`internal: poke at unmapped 0x${v.toString(16)}`);
      const n = Math.min(bytes.length - i, PAGE_SIZE - (v & 0xfff));
      mem.writeBytes(frame + (v & 0xfff), bytes.subarray(i, i + n));
      i += n;
    }
  }

  /** Reads bytes of mapped user memory with the kernel's authority (unmapped bytes read as 0). */
  peek(virt: number, n: number): Uint8Array {
    const mem = this.bare.machine.mem, out = new Uint8Array(n);
    for (let i = 0; i < n;) {
      const v = (virt + i) >>> 0;
      const frame = this.frameOf(v);
      const k = Math.min(n - i, PAGE_SIZE - (v & 0xfff));
      if (frame >= 0) out.set(mem.u8.subarray(frame + (v & 0xfff), frame + (v & 0xfff) + k), i);
      i += k;
    }
    return out;
  }

  /** Frees every user frame (the page tables stay: low memory is not recycled). */
  destroy(): void {
    for (const v of [...this.owned.keys()]) this.unmapPage(v);
  }

  private setPte(virt: number, pte: number): void {
    const mem = this.bare.machine.mem;
    const i = virt >>> 22;
    let pde = mem.read32(this.pd + 4 * i);
    if ((pde & PTE_P) === 0) {
      const pt = this.bare.allocLow(PAGE_SIZE);
      this.pageTables.push(pt);
      pde = pt | PTE_P | PTE_RW | PTE_US;
      mem.write32(this.pd + 4 * i, pde);
      if (this.userPd) mem.write32(this.userPd + 4 * i, pde);
    }
    mem.write32(((pde & -PAGE_SIZE) >>> 0) + (((virt >>> 12) & 0x3ff) << 2), pte);
    this.bare.machine.mmu.invlpg(virt);
  }
}

/** Two consecutive low pages, the first 8 KiB-aligned (bit 12 clear), for a PTI page-directory pair. */
function allocLowPair(bare: BareSystem): number {
  let p = bare.allocLow(PAGE_SIZE);
  if (p & PAGE_SIZE) p = bare.allocLow(PAGE_SIZE);
  const second = bare.allocLow(PAGE_SIZE);
  if (second !== p + PAGE_SIZE) throw new Error('internal: low memory is not handed out in order');
  return p;
}
