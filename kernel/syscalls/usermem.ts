// How a system call reaches the calling process's memory (copy_from_user, copy_to_user, strncpy_from_user): every
// access is checked and a bad pointer is -EFAULT, never an exception. Two backings: `contextUserMemory` over the
// machine (KernelContext's user-checked copies, which walk the page tables and check U/S and R/W), and
// `ArrayUserMemory`, plain byte arrays at chosen addresses, for tests and tools.
import { EFAULT, ENAMETOOLONG } from '../errno.ts';
import { GuestFault } from '../../emulator/exceptions.ts';
import type { KernelContext } from '../../emulator/kfuncs.ts';
import { NO_WORK, type WorkMeter } from '../work.ts';
import { PAGE_SIZE, TASK_SIZE } from '../arch/layout.ts';

export interface UserMemory {
  /** `len` bytes from user address `addr`, or -EFAULT if any of them is not readable user memory. */
  copyIn(addr: number, len: number): Uint8Array | number;
  /** Writes `bytes` at `addr`: 0, or -EFAULT (nothing written) if any byte is not writable user memory. */
  copyOut(addr: number, bytes: Uint8Array): number;
  /**
   * A NUL-terminated string at `addr` as a byte string (one char per byte, latin1), without its NUL: -EFAULT if a
   * byte before the NUL is unreadable, -ENAMETOOLONG if there is no NUL in the first `max` bytes.
   */
  strncpyFromUser(addr: number, max: number): string | number;
}

/** access_ok: [addr, addr+len) lies below TASK_SIZE. */
export function accessOk(addr: number, len: number): boolean {
  addr >>>= 0;
  return len >= 0 && addr <= TASK_SIZE && len <= TASK_SIZE - addr;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

/** User memory seen through the machine's MMU, as the running process's page tables map it. */
export function contextUserMemory(ctx: KernelContext, work: WorkMeter = NO_WORK): UserMemory {
  const guarded = <T>(f: () => T): T | number => {
    try {
      return f();
    } catch (e) {
      if (e instanceof GuestFault) return -EFAULT;
      throw e;
    }
  };
  return {
    copyIn(addr, len) {
      if (!accessOk(addr, len)) return -EFAULT;
      const b = guarded(() => ctx.readBytes(addr | 0, len, true));
      if (typeof b !== 'number') work.charge('copyByte', len);
      return b;
    },
    copyOut(addr, bytes) {
      if (!accessOk(addr, bytes.length)) return -EFAULT;
      const r = guarded(() => { ctx.writeBytes(addr | 0, bytes, true); return 0; });
      if (r === 0) work.charge('copyByte', bytes.length);
      return r;
    },
    strncpyFromUser(addr, max) {
      const parts: Uint8Array[] = [];
      let at = addr >>> 0;
      let got = 0;
      while (got < max) {
        const chunk = Math.min(max - got, PAGE_SIZE - (at & (PAGE_SIZE - 1)));
        if (!accessOk(at, chunk)) return -EFAULT;
        const b = guarded(() => ctx.readBytes(at | 0, chunk, true));
        if (typeof b === 'number') return b;
        const nul = b.indexOf(0);
        if (nul >= 0) {
          work.charge('copyByte', got + nul + 1);
          parts.push(b.subarray(0, nul));
          return latin1(Buffer.concat(parts));
        }
        parts.push(b);
        got += chunk;
        at += chunk;
      }
      return -ENAMETOOLONG;
    },
  };
}

/** A region of ArrayUserMemory: `bytes` at `start`; `user` false makes it kernel memory (EFAULT from user copies). */
export interface MemRegion {
  start: number;
  bytes: Uint8Array;
  user: boolean;
}

/**
 * User memory made of byte arrays at fixed addresses; everything else is unmapped. Copies check every byte before
 * touching any (as KernelContext.writeBytes checks every page first).
 */
export class ArrayUserMemory implements UserMemory {
  readonly regions: MemRegion[] = [];

  /** Maps `size` zero bytes at `start` (user memory unless `user` is false); returns the bytes. */
  map(start: number, size: number, user = true): Uint8Array {
    const bytes = new Uint8Array(size);
    this.regions.push({ start: start >>> 0, bytes, user });
    return bytes;
  }

  /** The region holding all of [addr, addr+len) as user memory, with the offset there; undefined otherwise. */
  private find(addr: number, len: number): { r: MemRegion; off: number } | undefined {
    addr >>>= 0;
    if (!accessOk(addr, len)) return undefined;
    for (const r of this.regions) {
      const off = addr - r.start;
      if (r.user && off >= 0 && off + len <= r.bytes.length) return { r, off };
    }
    return undefined;
  }

  copyIn(addr: number, len: number): Uint8Array | number {
    const f = this.find(addr, len);
    return f ? f.r.bytes.slice(f.off, f.off + len) : -EFAULT;
  }

  copyOut(addr: number, bytes: Uint8Array): number {
    const f = this.find(addr, bytes.length);
    if (!f) return -EFAULT;
    f.r.bytes.set(bytes, f.off);
    return 0;
  }

  strncpyFromUser(addr: number, max: number): string | number {
    let s = '';
    for (let i = 0; i < max; i++) {
      const f = this.find((addr + i) >>> 0, 1);
      if (!f) return -EFAULT;
      const b = f.r.bytes[f.off];
      if (b === 0) return s;
      s += String.fromCharCode(b);
    }
    return -ENAMETOOLONG;
  }

  /** Test helpers: raw access without checks (throws if unmapped). */
  poke(addr: number, data: Uint8Array | string): void {
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const f = this.raw(addr, b.length);
    f.r.bytes.set(b, f.off);
  }

  peek(addr: number, len: number): Uint8Array {
    const f = this.raw(addr, len);
    return f.r.bytes.slice(f.off, f.off + len);
  }

  private raw(addr: number, len: number): { r: MemRegion; off: number } {
    addr >>>= 0;
    for (const r of this.regions) {
      const off = addr - r.start;
      if (off >= 0 && off + len <= r.bytes.length) return { r, off };
    }
    throw new RangeError(`unmapped: 0x${addr.toString(16)}+${len}`);
  }
}
