// Kernel functions written in TypeScript. Each registered function gets an address in a kernel-space region (16
// bytes apart); the caller maps that region on supervisor-only pages. When execution reaches such an address at
// CPL 0, after the instruction fetch has been translated (so an unmapped region faults like any code), the machine
// runs the function with a context: cdecl arguments at [esp+4], [esp+8], ... read through the MMU; the result goes
// to eax; then it returns as `ret` would (pops eip). At CPL 3 the fetch itself faults: the pages are supervisor-only.

import type { Cpu } from './cpu.ts';
import { FAULT, GuestFault, fault } from './exceptions.ts';
import { Ctr } from './stats.ts';
import { PAGE_SHIFT } from './memory.ts';

/** A kernel function: returns eax (a number), or undefined to leave eax as it is. */
export type KernelFunction = (ctx: KernelContext) => number | void;

export const KFUNC_STRIDE = 16;
/** Default region: the top 4 MiB of the address space (where Linux puts its fixmaps), far from everything else. */
export const KFUNC_BASE = 0xffc00000;

export class KernelFunctions {
  private readonly fns: (KernelFunction | undefined)[];
  private readonly names: string[] = [];
  private readonly byName = new Map<string, number>();
  private ctx: KernelContext | undefined;

  constructor(readonly base = KFUNC_BASE, readonly capacity = 256) {
    if ((base & 0xfff) !== 0) throw new RangeError('kernel function region must be page aligned');
    this.fns = new Array<KernelFunction | undefined>(capacity);
  }

  /** Bytes the region spans (map this many, rounded up to pages, supervisor-only). */
  get size(): number { return this.capacity * KFUNC_STRIDE; }
  get pages(): number { return (this.size + 0xfff) >>> PAGE_SHIFT; }

  /** Register (or replace) a function; returns its address. */
  register(name: string, fn: KernelFunction): number {
    let slot = this.byName.get(name);
    if (slot === undefined) {
      slot = this.names.length;
      if (slot >= this.capacity) throw new RangeError(`kernel function region full (${this.capacity})`);
      this.names.push(name);
      this.byName.set(name, slot);
    }
    this.fns[slot] = fn;
    return (this.base + slot * KFUNC_STRIDE) | 0;
  }

  address(name: string): number {
    const slot = this.byName.get(name);
    if (slot === undefined) throw new Error(`no kernel function ${name}`);
    return (this.base + slot * KFUNC_STRIDE) | 0;
  }

  nameAt(lin: number): string | undefined {
    const off = (lin - this.base) >>> 0;
    return off % KFUNC_STRIDE === 0 ? this.names[off / KFUNC_STRIDE] : undefined;
  }

  contains(lin: number): boolean {
    return ((lin - this.base) >>> 0) < this.size;
  }

  /** Run the function at `lin` (CPL 0, fetch already translated). No function there: #UD. */
  invoke(cpu: Cpu, lin: number): void {
    const off = (lin - this.base) >>> 0;
    const fn = off % KFUNC_STRIDE === 0 ? this.fns[off / KFUNC_STRIDE] : undefined;
    if (fn === undefined) fault(6);
    // The return address is read first: a bad stack faults before the function has any effect.
    const ret = cpu.mmu.readSlow(cpu.regs[4], 4, false);
    const ctx = this.ctx ??= new KernelContext(cpu);
    ctx.jumpTo = null;
    let r: number | void;
    try {
      r = fn(ctx);
    } catch (e) {
      if (e instanceof GuestFault) {
        // Not handled by the function: the guest sees the fault at the function's address.
        FAULT.vector = e.vector;
        FAULT.error = e.error;
        throw FAULT;
      }
      throw e;
    }
    cpu.C[Ctr.KCALLS]++;
    cpu.charge(cpu.profile.kernelCall);
    if (typeof r === 'number') cpu.regs[0] = r | 0;
    if (ctx.jumpTo !== null) {
      cpu.eip = ctx.jumpTo;
    } else {
      cpu.regs[4] = (cpu.regs[4] + 4) | 0;
      cpu.eip = ret;
    }
  }
}

/**
 * What a kernel function sees: the machine's registers and guest memory through the MMU. Supervisor accesses are
 * the kernel's own; the *User variants check U/S and R/W as a CPL 3 access would (copy_from_user/copy_to_user). A
 * guest fault (a #PF) is thrown as a GuestFault: catch it to return an error, or let it escape to fault the guest.
 */
export class KernelContext {
  jumpTo: number | null = null;
  constructor(readonly cpu: Cpu) {}

  /** The i-th cdecl argument (0-based) as an int32. */
  arg(i: number): number { return this.read32((this.cpu.regs[4] + 4 + 4 * i) | 0); }
  reg(r: number): number { return this.cpu.regs[r]; }
  setReg(r: number, v: number): void { if (r >= 0 && r < 8) this.cpu.regs[r] = v | 0; }
  /** EFLAGS as the caller left them (a kernel function changes no flag unless it loads them). */
  eflags(): number { return this.cpu.eflags(); }
  /** Load EFLAGS for the code the function returns or jumps to (a task switch restoring the incoming context). */
  setEflags(v: number): void { this.cpu.loadEflags(v); }
  /** Continue at `eip` instead of returning to the caller (the stack is left as it is). */
  jump(eip: number): void { this.jumpTo = eip | 0; }
  /** Charge cycles for work the function does in place of guest instructions (counted apart in the stats). */
  charge(cycles: number): void { this.cpu.chargeKernelFunctionWork(cycles); }
  /** Stop the machine when this function returns (status 'stopped'). */
  stop(reason: string): void { this.cpu.stop(reason); }

  read8(lin: number): number { return this.access(lin, 1, false, false, 0); }
  read16(lin: number): number { return this.access(lin, 2, false, false, 0); }
  read32(lin: number): number { return this.access(lin, 4, false, false, 0); }
  write8(lin: number, v: number): void { this.access(lin, 1, true, false, v); }
  write16(lin: number, v: number): void { this.access(lin, 2, true, false, v); }
  write32(lin: number, v: number): void { this.access(lin, 4, true, false, v); }
  readUser32(lin: number): number { return this.access(lin, 4, false, true, 0); }
  writeUser32(lin: number, v: number): void { this.access(lin, 4, true, true, v); }

  /** Copy guest memory out (user: check it as a CPL 3 read would). */
  readBytes(lin: number, n: number, user = false): Uint8Array {
    const out = new Uint8Array(n);
    const mmu = this.cpu.mmu, mem = mmu.mem;
    let done = 0;
    try {
      while (done < n) {
        const at = (lin + done) | 0;
        const chunk = Math.min(n - done, 0x1000 - (at & 0xfff));
        const p = mmu.translate(at, false, user);
        if (p + chunk <= mem.size) out.set(mem.u8.subarray(p, p + chunk), done);
        else for (let k = 0; k < chunk; k++) out[done + k] = mem.read8(p + k);
        done += chunk;
      }
    } catch (e) {
      throw this.guest(e);
    }
    return out;
  }

  /** Copy into guest memory; every page is checked before the first byte is written. */
  writeBytes(lin: number, data: Uint8Array, user = false): void {
    const mmu = this.cpu.mmu, mem = mmu.mem;
    const phys: number[] = [];
    try {
      for (let done = 0; done < data.length;) {
        const at = (lin + done) | 0;
        phys.push(mmu.translate(at, true, user));
        done += Math.min(data.length - done, 0x1000 - (at & 0xfff));
      }
    } catch (e) {
      throw this.guest(e);
    }
    let done = 0;
    for (const p of phys) {
      const chunk = Math.min(data.length - done, 0x1000 - (p & 0xfff));
      mem.writeBytes(p, data.subarray(done, done + chunk));
      done += chunk;
    }
  }

  /** A NUL-terminated string (at most `max` bytes) as raw bytes. */
  readCString(lin: number, max = 4096, user = false): Uint8Array {
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      const b = user ? this.access((lin + i) | 0, 1, false, true, 0) : this.read8((lin + i) | 0);
      if (b === 0) break;
      bytes.push(b);
    }
    return Uint8Array.from(bytes);
  }

  private access(lin: number, size: number, write: boolean, user: boolean, v: number): number {
    const mmu = this.cpu.mmu;
    try {
      if (write) { mmu.writeSlow(lin | 0, size, v, user); return 0; }
      return mmu.readSlow(lin | 0, size, user);
    } catch (e) {
      throw this.guest(e);
    }
  }

  private guest(e: unknown): unknown {
    return e === FAULT ? new GuestFault(FAULT.vector, FAULT.error, this.cpu.mmu.cr2) : e;
  }
}
