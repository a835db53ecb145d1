// The MMU: two-level IA-32 paging (4 KiB pages; no PSE, PAE or NX) with a TLB, and every linear memory access the
// CPU makes. Protection is exactly the SDM's for 32-bit paging without SMEP/SMAP: a user access (CPL 3, not an
// implicit supervisor access such as reading the IDT or pushing an interrupt frame) needs U/S=1 in both the PDE and
// the PTE, a user write also R/W=1 in both, a supervisor write to a read-only page faults only when CR0.WP=1.
// Walks set the accessed bits, and the dirty bit on a write, as the hardware does.
//
// The TLB is direct-mapped (default 256 entries, a power of two), indexed by the low bits of the virtual page number.
// Each entry is two int32s: the key (virtual page << 12 | deny bits) and the physical frame. The deny bits say which
// accesses the entry cannot serve without a walk, so the fast path is one compare: tag equal and no deny bit of this
// access kind set. The rights are those of the walk that filled it (the AND of the PDE and PTE bits), with CR0.WP
// folded in (a CR0 write flushes). A write through an entry filled by a read (dirty bit not yet set) walks again to
// set D, and counts as a miss, as the hardware must also go back to the page table. Real TLBs are set-associative;
// this one is an approximation with the same behaviour on flushes (CR3 write, invlpg, CR0 and CR4 changes).

import { Memory, PAGE_SHIFT } from './memory.ts';
import { fault } from './exceptions.ts';

// Deny bits in a TLB key.
const INVALID = 1, NO_USER = 2, NO_WRITE_USER = 4, NO_WRITE_SUP = 8, CLEAN = 16, CODE = 32;
/** Not a deny bit: the entry came from a global page (PTE.G with CR4.PGE) and survives CR3 writes. */
const GLOBAL = 64;

const R_SUP = INVALID, R_USER = INVALID | NO_USER;
const W_SUP = INVALID | NO_WRITE_SUP | CLEAN | CODE, W_USER = INVALID | NO_USER | NO_WRITE_USER | CLEAN | CODE;

// Page-table entry bits.
export const PTE_P = 1, PTE_RW = 2, PTE_US = 4, PTE_A = 0x20, PTE_D = 0x40, PTE_G = 0x100;
// #PF error code bits.
export const PF_P = 1, PF_W = 2, PF_U = 4;

export class Mmu {
  readonly mem: Memory;
  private readonly i32: Int32Array;
  private readonly dv: DataView;
  readonly tlbSize: number;
  /** The TLB arrays and the deny masks are read directly by the interpreter's inlined fast paths. */
  readonly tmask: number;
  readonly tkey: Int32Array;
  readonly tphys: Int32Array;
  /** [0] TLB hits, [1] TLB misses, [2] page walks. */
  readonly stat = new Float64Array(3);
  /** Where TLB-miss cycles are charged: cell 0 of the machine's cycle counter, and the cost of one miss. */
  cycles: Float64Array = new Float64Array(1);
  missCost = 0;

  /** Accesses by the current privilege level: user (CPL 3) or supervisor. */
  user = false;
  rdeny = R_SUP;
  wdeny = W_SUP;

  paging = false;
  wp = false;
  pge = false;
  cr2 = 0;
  cr3 = 0;

  constructor(mem: Memory, tlbEntries = 256) {
    if (tlbEntries < 1 || (tlbEntries & (tlbEntries - 1)) !== 0)
      throw new RangeError(`TLB size ${tlbEntries} must be a power of two`);
    this.mem = mem;
    this.i32 = mem.i32;
    this.dv = mem.dv;
    this.tlbSize = tlbEntries;
    this.tmask = tlbEntries - 1;
    this.tkey = new Int32Array(tlbEntries).fill(INVALID);
    this.tphys = new Int32Array(tlbEntries);
    mem.onCodeDropped = page => this.codeMark(page, false);
  }

  setUser(user: boolean): void {
    this.user = user;
    this.rdeny = user ? R_USER : R_SUP;
    this.wdeny = user ? W_USER : W_SUP;
  }

  /** CR0.PG, CR0.WP or CR4.PGE changed: the cached rights depend on them. */
  setControl(paging: boolean, wp: boolean, pge: boolean): void {
    if (paging !== this.paging || wp !== this.wp || pge !== this.pge) {
      this.paging = paging; this.wp = wp; this.pge = pge;
      this.flush(false);
    }
  }

  setCr3(v: number): void {
    this.cr3 = v;
    this.flush(this.pge);
  }

  /** Invalidate every entry, or every non-global one. */
  flush(keepGlobal: boolean): void {
    const k = this.tkey;
    for (let i = 0; i < k.length; i++) if (!keepGlobal || (k[i] & GLOBAL) === 0) k[i] = INVALID;
  }

  invlpg(lin: number): void {
    const i = (lin >>> PAGE_SHIFT) & this.tmask;
    if (((this.tkey[i] ^ lin) & -4096) === 0) this.tkey[i] = INVALID;
  }

  /** Set or clear the CODE deny bit on the entries that map physical page `page` (writes must then invalidate). */
  codeMark(page: number, on: boolean): void {
    const frame = page << PAGE_SHIFT, k = this.tkey, p = this.tphys;
    for (let i = 0; i < k.length; i++) {
      if (p[i] === frame && (k[i] & INVALID) === 0) k[i] = on ? k[i] | CODE : k[i] & ~CODE;
    }
  }

  // ---- the fast paths: accesses at the current privilege level ----

  read8(lin: number): number {
    const i = (lin >>> PAGE_SHIFT) & this.tmask, e = this.tkey[i];
    if ((((e ^ lin) & -4096) | (e & this.rdeny)) === 0) {
      this.stat[0]++;
      return this.mem.u8[this.tphys[i] | (lin & 0xfff)];
    }
    return this.readSlow(lin, 1, this.user);
  }
  read16(lin: number): number {
    const i = (lin >>> PAGE_SHIFT) & this.tmask, e = this.tkey[i];
    if ((((e ^ lin) & -4096) | (e & this.rdeny)) === 0 && (lin & 0xfff) !== 0xfff) {
      this.stat[0]++;
      return this.dv.getUint16(this.tphys[i] | (lin & 0xfff), true);
    }
    return this.readSlow(lin, 2, this.user);
  }
  read32(lin: number): number {
    const i = (lin >>> PAGE_SHIFT) & this.tmask, e = this.tkey[i];
    if ((((e ^ lin) & -4096) | (e & this.rdeny)) === 0) {
      if ((lin & 3) === 0) {
        this.stat[0]++;
        return this.i32[(this.tphys[i] | (lin & 0xfff)) >>> 2];
      }
      if ((lin & 0xfff) <= 0xffc) {
        this.stat[0]++;
        return this.dv.getInt32(this.tphys[i] | (lin & 0xfff), true);
      }
    }
    return this.readSlow(lin, 4, this.user);
  }
  write8(lin: number, v: number): void {
    const i = (lin >>> PAGE_SHIFT) & this.tmask, e = this.tkey[i];
    if ((((e ^ lin) & -4096) | (e & this.wdeny)) === 0) {
      this.stat[0]++;
      this.mem.u8[this.tphys[i] | (lin & 0xfff)] = v;
      return;
    }
    this.writeSlow(lin, 1, v, this.user);
  }
  write16(lin: number, v: number): void {
    const i = (lin >>> PAGE_SHIFT) & this.tmask, e = this.tkey[i];
    if ((((e ^ lin) & -4096) | (e & this.wdeny)) === 0 && (lin & 0xfff) !== 0xfff) {
      this.stat[0]++;
      this.dv.setUint16(this.tphys[i] | (lin & 0xfff), v, true);
      return;
    }
    this.writeSlow(lin, 2, v, this.user);
  }
  write32(lin: number, v: number): void {
    const i = (lin >>> PAGE_SHIFT) & this.tmask, e = this.tkey[i];
    if ((((e ^ lin) & -4096) | (e & this.wdeny)) === 0) {
      if ((lin & 3) === 0) {
        this.stat[0]++;
        this.i32[(this.tphys[i] | (lin & 0xfff)) >>> 2] = v;
        return;
      }
      if ((lin & 0xfff) <= 0xffc) {
        this.stat[0]++;
        this.dv.setInt32(this.tphys[i] | (lin & 0xfff), v, true);
        return;
      }
    }
    this.writeSlow(lin, 4, v, this.user);
  }

  // ---- accesses with an explicit privilege (implicit supervisor accesses, kernel functions, copy_from_user) ----

  /** Read `size` (1, 2, 4) bytes at `lin` as a user or supervisor access. Both pages are checked if it crosses. */
  readSlow(lin: number, size: number, user: boolean): number {
    if (((lin & 0xfff) + size) <= 0x1000) {
      const p = this.translate(lin, false, user);
      return size === 4 ? this.mem.read32(p) : size === 2 ? this.mem.read16(p) : this.mem.read8(p);
    }
    const first = 0x1000 - (lin & 0xfff);
    const p1 = this.translate(lin, false, user);
    const p2 = this.translate((lin + first) | 0, false, user);
    let v = 0;
    for (let k = 0; k < size; k++) v |= (k < first ? this.mem.read8(p1 + k)
      : this.mem.read8(p2 + k - first)) << (8 * k);
    return size === 4 ? v : v & ((1 << (8 * size)) - 1);
  }

  writeSlow(lin: number, size: number, v: number, user: boolean): void {
    if (((lin & 0xfff) + size) <= 0x1000) {
      const p = this.translate(lin, true, user);
      if (size === 4) this.mem.write32(p, v); else if (size === 2) this.mem.write16(p, v); else this.mem.write8(p, v);
      return;
    }
    // Translate (and so check) both pages before writing a byte: a fault on the second leaves the first unchanged.
    const first = 0x1000 - (lin & 0xfff);
    const p1 = this.translate(lin, true, user);
    const p2 = this.translate((lin + first) | 0, true, user);
    for (let k = 0; k < size; k++) {
      const b = (v >>> (8 * k)) & 0xff;
      if (k < first) this.mem.write8(p1 + k, b); else this.mem.write8(p2 + k - first, b);
    }
  }

  /**
   * Linear → physical for one access, through the TLB, walking the page tables on a miss. Raises #PF (CR2 = lin)
   * with the Intel error code: P (protection, not absence), W/R, U/S. No NX, so bit 4 (I/D) is never set.
   */
  translate(lin: number, write: boolean, user: boolean): number {
    const vpn = lin >>> PAGE_SHIFT, i = vpn & this.tmask, e = this.tkey[i];
    const deny = (user ? (write ? W_USER : R_USER) : (write ? W_SUP : R_SUP)) & ~CODE;
    if ((((e ^ lin) & -4096) | (e & deny)) === 0) {
      this.stat[0]++;
      return this.tphys[i] + (lin & 0xfff);
    }
    if (!this.paging) {
      // No paging, no TLB to miss: the entry only makes later accesses take the fast path.
      const frame = (lin & -4096) >>> 0;
      this.fill(i, vpn, frame, 0);
      return frame + (lin & 0xfff);
    }
    this.stat[1]++;
    this.stat[2]++;
    this.cycles[0] += this.missCost;
    const mem = this.mem;
    const err = (write ? PF_W : 0) | (user ? PF_U : 0);
    const pdeAddr = ((this.cr3 & -4096) >>> 0) + ((lin >>> 22) << 2);
    const pde = mem.read32(pdeAddr);
    if ((pde & PTE_P) === 0) this.pageFault(lin, err);
    const pteAddr = ((pde & -4096) >>> 0) + (((lin >>> 12) & 0x3ff) << 2);
    const pte = mem.read32(pteAddr);
    if ((pte & PTE_P) === 0) this.pageFault(lin, err);
    const us = (pde & pte & PTE_US) !== 0, rw = (pde & pte & PTE_RW) !== 0;
    if (user && !us) this.pageFault(lin, err | PF_P);
    if (write && !rw && (user || this.wp)) this.pageFault(lin, err | PF_P);
    if ((pde & PTE_A) === 0) mem.write32(pdeAddr, pde | PTE_A);
    const newPte = pte | PTE_A | (write ? PTE_D : 0);
    if (newPte !== pte) mem.write32(pteAddr, newPte);
    const frame = (pte & -4096) >>> 0;
    let flags = 0;
    if (!us) flags |= NO_USER;
    if (!us || !rw) flags |= NO_WRITE_USER;
    if (!rw && this.wp) flags |= NO_WRITE_SUP;
    if ((newPte & PTE_D) === 0) flags |= CLEAN;
    if (this.pge && (pte & PTE_G) !== 0) flags |= GLOBAL;
    this.fill(i, vpn, frame, flags);
    return frame + (lin & 0xfff);
  }

  private fill(i: number, vpn: number, frame: number, flags: number): void {
    if (frame >= this.mem.size) {
      // Not RAM: never cached, so every access takes the slow path to the empty bus.
      this.tkey[i] = INVALID;
      return;
    }
    if (this.mem.hasCode[frame >>> PAGE_SHIFT] !== 0) flags |= CODE;
    this.tkey[i] = (vpn << PAGE_SHIFT) | flags;
    this.tphys[i] = frame;
  }

  private pageFault(lin: number, err: number): never {
    this.cr2 = lin | 0;
    return fault(14, err);
  }

  /** Walk the tables without side effects or faults: the physical address, or -1 if not present. For tools/tests. */
  probe(lin: number): number {
    if (!this.paging) return lin >>> 0;
    const pde = this.mem.read32(((this.cr3 & -4096) >>> 0) + ((lin >>> 22) << 2));
    if ((pde & PTE_P) === 0) return -1;
    const pte = this.mem.read32(((pde & -4096) >>> 0) + (((lin >>> 12) & 0x3ff) << 2));
    if ((pte & PTE_P) === 0) return -1;
    return ((pte & -4096) >>> 0) + (lin & 0xfff);
  }

  reset(): void {
    this.flush(false);
    this.setUser(false);
    this.paging = false; this.wp = false; this.pge = false;
    this.cr2 = 0; this.cr3 = 0;
  }
}
