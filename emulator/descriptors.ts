// Segment and gate descriptors in the GDT (there is no LDT: a selector with TI=1 is refused). The descriptor tables
// live in guest memory at linear addresses and are read through the MMU as implicit supervisor accesses, so a
// kernel's GDT on an unmapped page faults like on real hardware.

import type { Cpu } from './cpu.ts';
import { fault } from './exceptions.ts';

export interface Descriptor {
  lo: number;
  hi: number;
  base: number;
  /** Byte granular limit (4 KiB granularity already expanded). */
  limit: number;
  /** The 4-bit type field. */
  type: number;
  /** S: 1 for code/data segments, 0 for system descriptors (TSS, gates). */
  system: boolean;
  dpl: number;
  present: boolean;
}

export function sysRead32(cpu: Cpu, lin: number): number { return cpu.mmu.readSlow(lin | 0, 4, false); }
export function sysRead16(cpu: Cpu, lin: number): number { return cpu.mmu.readSlow(lin | 0, 2, false); }
export function sysWrite32(cpu: Cpu, lin: number, v: number): void { cpu.mmu.writeSlow(lin | 0, 4, v, false); }
export function sysWrite16(cpu: Cpu, lin: number, v: number): void { cpu.mmu.writeSlow(lin | 0, 2, v, false); }

export function parseDescriptor(lo: number, hi: number): Descriptor {
  let limit = (lo & 0xffff) | (hi & 0xf0000);
  if (hi & 0x800000) limit = ((limit << 12) | 0xfff) >>> 0;
  return {
    lo, hi,
    base: ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0,
    limit,
    type: (hi >>> 8) & 0xf,
    system: (hi & 0x1000) === 0,
    dpl: (hi >>> 13) & 3,
    present: (hi & 0x8000) !== 0,
  };
}

/**
 * Read the GDT descriptor a selector names. A selector outside the GDT or with TI=1 raises `vector` (#GP unless the
 * caller says #TS) with the selector as error code (plus EXT).
 */
export function readDescriptor(cpu: Cpu, sel: number, ext = 0, vector = 13): Descriptor {
  const index = sel & 0xfff8;
  if ((sel & 4) !== 0 || index + 7 > cpu.gdtLimit) fault(vector, index | ext);
  const at = (cpu.gdtBase + index) | 0;
  return parseDescriptor(sysRead32(cpu, at), sysRead32(cpu, at + 4));
}

/** Rewrite the high word of a descriptor (the busy bit of a TSS). */
export function writeDescriptorHigh(cpu: Cpu, sel: number, hi: number): void {
  sysWrite32(cpu, (cpu.gdtBase + (sel & 0xfff8) + 4) | 0, hi);
}

export function isCode(d: Descriptor): boolean { return !d.system && (d.type & 8) !== 0; }
export function isConforming(d: Descriptor): boolean { return isCode(d) && (d.type & 4) !== 0; }
export function isReadable(d: Descriptor): boolean { return !d.system && ((d.type & 8) === 0 || (d.type & 2) !== 0); }
export function isWritableData(d: Descriptor): boolean { return !d.system && (d.type & 8) === 0 && (d.type & 2) !== 0; }
/** A 32-bit TSS descriptor: type 9 (available) or 11 (busy). */
export function isTss(d: Descriptor): boolean { return d.system && (d.type === 9 || d.type === 11); }
export const TSS_BUSY = 0x200; // type bit 1, in the high word

/**
 * Encode a flat (base 0, limit 4 GiB, 32-bit) code or data descriptor, for monitors that build a GDT.
 * type: 0xA execute/read code, 0x2 read/write data.
 */
export function flatDescriptor(type: number, dpl: number): [number, number] {
  return [0x0000ffff, 0x00cf0000 | 0x9000 | (dpl << 13) | (type << 8)];
}
/** Encode a 32-bit available TSS descriptor. */
export function tssDescriptor(base: number, limit: number): [number, number] {
  return [((base & 0xffff) << 16) | (limit & 0xffff),
    (base & 0xff000000) | ((base >>> 16) & 0xff) | (limit & 0xf0000) | 0x8900];
}
/** Encode an IDT gate: kind 'int' (0xE), 'trap' (0xF) or 'task' (0x5; offset ignored, selector names a TSS). */
export function gateDescriptor(kind: 'int' | 'trap' | 'task', selector: number, offset: number, dpl: number): [number,
  number] {
  const type = kind === 'int' ? 0xe : kind === 'trap' ? 0xf : 0x5;
  const off = kind === 'task' ? 0 : offset;
  return [((selector & 0xffff) << 16) | (off & 0xffff), (off & 0xffff0000) | 0x8000 | (dpl << 13) | (type << 8)];
}
