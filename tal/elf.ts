// 32-bit little-endian ELF for i386: a strict reader (trusted: the checker and the kernel's loader use it, so every
// malformed input is refused with a message, never a crash). The writer talas uses is apart, in asm/elf-writer.ts,
// so that nothing the checker imports can write a file.

export const ET_EXEC = 2;
export const EM_386 = 3;
export const PT_LOAD = 1;
export const PF_X = 1, PF_W = 2, PF_R = 4;
export const SHT_NULL = 0, SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_NOBITS = 8;
export const SHF_WRITE = 1, SHF_ALLOC = 2, SHF_EXECINSTR = 4;
export const PAGE_SIZE = 4096;
/** User space ends here: the kernel owns the top gigabyte (the 3G/1G split). */
export const USER_TOP = 0xc0000000;

/** The sizes of the ELF header, a program header and a section header (ELFCLASS32). */
export const EHDR_SIZE = 52, PHDR_SIZE = 32, SHDR_SIZE = 40;
/** The longest section name the reader accepts (bytes, without the NUL); GNU's are a few dozen at most. */
export const MAX_SECTION_NAME = 255;

export class ElfError extends Error {
  override name = 'ElfError';
}

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
}

export interface ElfImage {
  bytes: Uint8Array;
  entry: number;
  segments: ElfSegment[];
  sections: ElfSection[];
}

function u16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/** Read and validate an i386 ET_EXEC file. Throws ElfError naming what is wrong. */
export function readElf(bytes: Uint8Array): ElfImage {
  const size = bytes.length;
  if (size < EHDR_SIZE) throw new ElfError(`truncated ELF: ${size} bytes, the header alone needs ${EHDR_SIZE}`);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
    throw new ElfError('not an ELF file (bad magic)');
  if (bytes[4] !== 1) throw new ElfError(`wrong ELF class ${bytes[4]}: need ELFCLASS32 (1)`);
  if (bytes[5] !== 1) throw new ElfError(`wrong data encoding ${bytes[5]}: need little-endian (1)`);
  if (bytes[6] !== 1) throw new ElfError(`wrong ELF version ${bytes[6]}`);
  const type = u16(bytes, 16), machine = u16(bytes, 18);
  if (type !== ET_EXEC) throw new ElfError(`wrong ELF type ${type}: need ET_EXEC (2)`);
  if (machine !== EM_386) throw new ElfError(`wrong machine ${machine}: need EM_386 (3)`);
  const entry = u32(bytes, 24), phoff = u32(bytes, 28), shoff = u32(bytes, 32);
  const ehsize = u16(bytes, 40), phentsize = u16(bytes, 42), phnum = u16(bytes, 44);
  const shentsize = u16(bytes, 46), shnum = u16(bytes, 48), shstrndx = u16(bytes, 50);
  if (ehsize !== EHDR_SIZE) throw new ElfError(`bad ELF header size ${ehsize}`);
  if (phnum === 0) throw new ElfError('no program headers');
  if (phentsize !== PHDR_SIZE) throw new ElfError(`bad program header entry size ${phentsize}`);
  if (phoff + phnum * PHDR_SIZE > size)
    throw new ElfError(`program headers (offset ${phoff}, ${phnum} entries) run past the end of the file (${size} ` +
      `bytes)`);

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * PHDR_SIZE;
    const seg: ElfSegment = {
      type: u32(bytes, o), offset: u32(bytes, o + 4), vaddr: u32(bytes, o + 8),
      filesz: u32(bytes, o + 16), memsz: u32(bytes, o + 20), flags: u32(bytes, o + 24), align: u32(bytes, o + 28),
    };
    if (seg.type !== PT_LOAD) continue;
    if (seg.offset + seg.filesz > size)
      throw new ElfError(`segment ${i} (offset ${seg.offset}, ${seg.filesz} bytes) runs past the end of the file ` +
        `(${size} bytes)`);
    if (seg.filesz > seg.memsz)
      throw new ElfError(`segment ${i}: file size ${seg.filesz} exceeds memory size ${seg.memsz}`);
    if (seg.memsz === 0) throw new ElfError(`segment ${i} is empty`);
    if (seg.vaddr + seg.memsz > USER_TOP)
      throw new ElfError(`segment ${i} (0x${hex(seg.vaddr)}..0x${hex(seg.vaddr + seg.memsz)}) reaches kernel space ` +
        `(0x${hex(USER_TOP)} and above)`);
    if (seg.vaddr < PAGE_SIZE) throw new ElfError(`segment ${i} maps page zero`);
    if (seg.offset % PAGE_SIZE !== seg.vaddr % PAGE_SIZE)
      throw new ElfError(`segment ${i}: offset and address disagree modulo the page size`);
    if ((seg.flags & PF_W) && (seg.flags & PF_X)) throw new ElfError(`segment ${i} is both writable and executable`);
    segments.push(seg);
  }
  if (segments.length === 0) throw new ElfError('no loadable segments');
  // Mapping is by pages: two segments that share a page would make the loaded bytes depend on load order.
  const sorted = [...segments].sort((a, b) => a.vaddr - b.vaddr);
  for (let i = 1; i < sorted.length; i++) {
    const prevEnd = pageUp(sorted[i - 1].vaddr + sorted[i - 1].memsz);
    if (pageDown(sorted[i].vaddr) < prevEnd)
      throw new ElfError(`segments at 0x${hex(sorted[i - 1].vaddr)} and 0x${hex(sorted[i].vaddr)} share a page`);
  }
  if (entry !== 0 && !segments.some(s => (s.flags & PF_X) && entry >= s.vaddr && entry < s.vaddr + s.filesz))
    throw new ElfError(`entry point 0x${hex(entry)} is not in an executable segment`);

  const sections: ElfSection[] = [];
  if (shnum > 0) {
    if (shentsize !== SHDR_SIZE) throw new ElfError(`bad section header entry size ${shentsize}`);
    if (shoff + shnum * SHDR_SIZE > size)
      throw new ElfError(`section headers (offset ${shoff}, ${shnum} entries) run past the end of the file (${size} ` +
        `bytes)`);
    if (shstrndx >= shnum) throw new ElfError(`section name table index ${shstrndx} out of range`);
    const raw = [];
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * SHDR_SIZE;
      raw.push({
        nameOff: u32(bytes, o), type: u32(bytes, o + 4), flags: u32(bytes, o + 8), addr: u32(bytes, o + 12),
        offset: u32(bytes, o + 16), size: u32(bytes, o + 20),
      });
    }
    for (let i = 0; i < shnum; i++) {
      const s = raw[i];
      if (s.type !== SHT_NOBITS && s.type !== SHT_NULL && s.offset + s.size > size)
        throw new ElfError(`section ${i} (offset ${s.offset}, ${s.size} bytes) runs past the end of the file (${size} ` +
          `bytes)`);
    }
    const strtab = raw[shstrndx];
    // The names are read from the file: the table must lie inside it whatever its type says (the bounds check above
    // skips SHT_NOBITS and SHT_NULL sections, and an unbounded name table would make the name scan run for 2^32 bytes).
    if (strtab.offset + strtab.size > size)
      throw new ElfError(`the section name table (offset ${strtab.offset}, ${strtab.size} bytes) runs past the end of ` +
        `the file (${size} bytes)`);
    // A name is read up to its NUL, and at most MAX_SECTION_NAME bytes are looked at for each: otherwise 65,535
    // sections naming the start of one long unterminated string would take 65,535 × its length. Names read before are
    // reused.
    const names = new Map<number, string>();
    const decoder = new TextDecoder();
    for (let i = 0; i < shnum; i++) {
      const s = raw[i];
      let name = '';
      if (i !== 0) {
        if (s.nameOff >= strtab.size)
          throw new ElfError(`section ${i}: name offset ${s.nameOff} outside the name table`);
        const known = names.get(s.nameOff);
        if (known !== undefined) {
          name = known;
        } else {
          const start = strtab.offset + s.nameOff;
          const limit = Math.min(strtab.offset + strtab.size, start + MAX_SECTION_NAME + 1);
          let end = start;
          while (end < limit && bytes[end] !== 0) end++;
          if (end >= limit) {
            const long = end - start > MAX_SECTION_NAME;
            throw new ElfError(`section ${i}: ${long ? `name longer than ${MAX_SECTION_NAME} bytes` : 'unterminated name'}`);
          }
          name = decoder.decode(bytes.subarray(start, end));
          names.set(s.nameOff, name);
        }
      }
      sections.push({ name, type: s.type, flags: s.flags, addr: s.addr, offset: s.offset, size: s.size });
    }
  }
  return { bytes, entry, segments, sections };
}

// Lookups by name and by address go through indexes built once per image (a file may have 65,535 sections and as
// many segments, and the checker asks for every data object).
interface ElfIndex { readonly byName: Map<string, ElfSection>; readonly byAddr: ElfSegment[] }
const indexes = new WeakMap<ElfImage, ElfIndex>();

function indexOf(img: ElfImage): ElfIndex {
  let ix = indexes.get(img);
  if (!ix) {
    const byName = new Map<string, ElfSection>();
    for (const s of img.sections) if (!byName.has(s.name)) byName.set(s.name, s);
    // readElf refuses segments that share a page, so sorted by address they do not overlap.
    ix = { byName, byAddr: [...img.segments].sort((a, b) => a.vaddr - b.vaddr) };
    indexes.set(img, ix);
  }
  return ix;
}

/** The first section of that name. */
export function findSection(img: ElfImage, name: string): ElfSection | undefined {
  return indexOf(img).byName.get(name);
}

/** The segment that maps the whole range [addr, addr+len), or undefined. */
export function segmentFor(img: ElfImage, addr: number, len: number): ElfSegment | undefined {
  const segs = indexOf(img).byAddr;
  // The last segment starting at or below addr is the only one that can contain it.
  let lo = 0, hi = segs.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segs[mid].vaddr <= addr) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  const s = found < 0 ? undefined : segs[found];
  return s && addr + len <= s.vaddr + s.memsz ? s : undefined;
}

/**
 * The bytes the loader will place at [addr, addr+len): taken from the segment, not from the section headers, so that
 * what is checked is exactly what is loaded. Bytes past a segment's file size are zero (.bss).
 */
export function readLoaded(img: ElfImage, addr: number, len: number): Uint8Array | undefined {
  const seg = segmentFor(img, addr, len);
  if (!seg) return undefined;
  const out = new Uint8Array(len);
  const rel = addr - seg.vaddr;
  const fromFile = Math.max(0, Math.min(len, seg.filesz - rel));
  if (fromFile > 0) out.set(img.bytes.subarray(seg.offset + rel, seg.offset + rel + fromFile));
  return out;
}

export function hex(n: number): string {
  return (n >>> 0).toString(16);
}
export function pageUp(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}
export function pageDown(n: number): number {
  return Math.floor(n / PAGE_SIZE) * PAGE_SIZE;
}
