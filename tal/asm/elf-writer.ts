// The ELF writer talas uses: a static ET_EXEC i386 executable from laid-out sections (the layout GNU ld gives: the
// first segment also maps the ELF header and program headers). Not trusted: the checker reads what this writes with
// its own strict reader (../elf.ts), as it reads any file.

import {
  ET_EXEC, EM_386, PT_LOAD, PAGE_SIZE, SHT_NULL, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS, SHF_ALLOC, EHDR_SIZE, PHDR_SIZE,
  SHDR_SIZE, pageDown,
} from '../elf.ts';

export interface OutSection {
  name: string;
  type: number; // SHT_PROGBITS, SHT_NOBITS, ...
  flags: number; // SHF_*
  addr: number; // 0 for non-allocated sections
  data: Uint8Array; // for NOBITS: only its length counts
  align: number;
  link?: number;
  info?: number;
  entsize?: number;
}

export interface OutSegment {
  flags: number; // PF_*
  /** Indices into the section list, in address order. */
  sections: number[];
}

export interface OutSymbol { name: string; value: number; section: number; global?: boolean; func?: boolean }

/**
 * Write an ET_EXEC file. Allocated sections must already have addresses with addr ≡ file position (mod page) laid out by
 * `layoutOffsets`. The first segment also maps the ELF header and program headers (as GNU ld does), so its first
 * section's address must leave room for them.
 */
export function writeElf(entry: number, sections: OutSection[], segments: OutSegment[],
  symbols: OutSymbol[] = []): Uint8Array {
  const all: OutSection[] = [{ name: '', type: SHT_NULL, flags: 0, addr: 0, data: new Uint8Array(0), align: 0 },
    ...sections];
  const segs = segments.map(s => ({ flags: s.flags, sections: s.sections.map(i => i + 1) }));
  if (symbols.length > 0) {
    const strs: number[] = [0];
    const symData: number[] = new Array(16).fill(0);
    const locals = symbols.filter(s => !s.global), globals = symbols.filter(s => s.global);
    for (const s of [...locals, ...globals]) {
      const nameOff = strs.length;
      for (const c of new TextEncoder().encode(s.name)) strs.push(c);
      strs.push(0);
      const e = new Uint8Array(16);
      const dv = new DataView(e.buffer);
      dv.setUint32(0, nameOff, true);
      dv.setUint32(4, s.value >>> 0, true);
      dv.setUint32(8, 0, true);
      e[12] = ((s.global ? 1 : 0) << 4) | (s.func ? 2 : 0);
      dv.setUint16(14, s.section + 1, true);
      symData.push(...e);
    }
    const strIndex = all.length + 1;
    all.push({ name: '.symtab', type: SHT_SYMTAB, flags: 0, addr: 0, data: Uint8Array.from(symData), align: 4,
      link: strIndex, info: locals.length + 1, entsize: 16 });
    all.push({ name: '.strtab', type: SHT_STRTAB, flags: 0, addr: 0, data: Uint8Array.from(strs), align: 1 });
  }
  // Section name table.
  const shstr: number[] = [0];
  const nameOffs: number[] = [];
  const shstrtabIndex = all.length;
  all.push({ name: '.shstrtab', type: SHT_STRTAB, flags: 0, addr: 0, data: new Uint8Array(0), align: 1 });
  for (const s of all) {
    if (s.name === '') { nameOffs.push(0); continue; }
    nameOffs.push(shstr.length);
    for (const c of new TextEncoder().encode(s.name)) shstr.push(c);
    shstr.push(0);
  }
  all[shstrtabIndex].data = Uint8Array.from(shstr);

  // File offsets: within a segment, offset - address is constant; each segment starts at the first file position
  // congruent to its address modulo the page size. Non-allocated sections follow.
  const phnum = segs.length;
  let pos = EHDR_SIZE + phnum * PHDR_SIZE;
  const offsets: number[] = new Array(all.length).fill(0);
  for (const seg of segs) {
    const base = all[seg.sections[0]].addr;
    let start = pageDown(pos) + (base % PAGE_SIZE);
    if (start < pos) start += PAGE_SIZE;
    for (const si of seg.sections) {
      const s = all[si];
      offsets[si] = start + (s.addr - base);
      if (s.type !== SHT_NOBITS) pos = Math.max(pos, offsets[si] + s.data.length);
    }
  }
  for (let i = 1; i < all.length; i++) {
    const s = all[i];
    if (s.flags & SHF_ALLOC) continue;
    const a = Math.max(1, s.align);
    pos = Math.ceil(pos / a) * a;
    offsets[i] = pos;
    pos += s.data.length;
  }
  const shoff = Math.ceil(pos / 4) * 4;
  const total = shoff + all.length * SHDR_SIZE;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0], 0);
  dv.setUint16(16, ET_EXEC, true);
  dv.setUint16(18, EM_386, true);
  dv.setUint32(20, 1, true);
  dv.setUint32(24, entry >>> 0, true);
  dv.setUint32(28, EHDR_SIZE, true);
  dv.setUint32(32, shoff, true);
  dv.setUint32(36, 0, true);
  dv.setUint16(40, EHDR_SIZE, true);
  dv.setUint16(42, PHDR_SIZE, true);
  dv.setUint16(44, phnum, true);
  dv.setUint16(46, SHDR_SIZE, true);
  dv.setUint16(48, all.length, true);
  dv.setUint16(50, shstrtabIndex, true);

  segs.forEach((seg, i) => {
    const first = all[seg.sections[0]];
    const firstOff = offsets[seg.sections[0]];
    // The first segment starts at file offset 0 so that it maps the headers, as GNU ld lays out small executables.
    const start = i === 0 ? 0 : firstOff;
    const vstart = first.addr - (firstOff - start);
    let fileEnd = start, memEnd = vstart;
    for (const si of seg.sections) {
      const s = all[si];
      const end = s.addr + s.data.length;
      memEnd = Math.max(memEnd, end);
      if (s.type !== SHT_NOBITS) fileEnd = Math.max(fileEnd, offsets[si] + s.data.length);
    }
    const o = EHDR_SIZE + i * PHDR_SIZE;
    dv.setUint32(o, PT_LOAD, true);
    dv.setUint32(o + 4, start, true);
    dv.setUint32(o + 8, vstart >>> 0, true);
    dv.setUint32(o + 12, vstart >>> 0, true);
    dv.setUint32(o + 16, fileEnd - start, true);
    dv.setUint32(o + 20, memEnd - vstart, true);
    dv.setUint32(o + 24, seg.flags, true);
    dv.setUint32(o + 28, PAGE_SIZE, true);
  });

  for (let i = 1; i < all.length; i++) {
    const s = all[i];
    if (s.type !== SHT_NOBITS) out.set(s.data, offsets[i]);
    const o = shoff + i * SHDR_SIZE;
    dv.setUint32(o, nameOffs[i], true);
    dv.setUint32(o + 4, s.type, true);
    dv.setUint32(o + 8, s.flags, true);
    dv.setUint32(o + 12, s.addr >>> 0, true);
    dv.setUint32(o + 16, offsets[i], true);
    dv.setUint32(o + 20, s.data.length, true);
    dv.setUint32(o + 24, s.link ?? 0, true);
    dv.setUint32(o + 28, s.info ?? 0, true);
    dv.setUint32(o + 32, s.align, true);
    dv.setUint32(o + 36, s.entsize ?? 0, true);
  }
  return out;
}
