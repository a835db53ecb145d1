// Source positions and names for messages: the `.tal.lines` line table talas writes (docs/tal.md §5), which maps
// each code address to the file and line it was assembled from, and the `.symtab` labels. Not trusted, and never
// read by the checker (it is outside the checker's import closure): a file may carry any bytes here, so every reader
// in this module returns nothing for malformed input and never throws. What it returns only ever decorates a message.

/** The section's name, and the 8 bytes it starts with. */
export const LINES_SECTION = '.tal.lines';
const MAGIC = 'TALLINES';
const VERSION = 1;
const HEADER_SIZE = 24;
/** Bounds on what a reader builds, whatever the counts claim: a message needs no more. */
const MAX_ROWS = 1 << 22, MAX_FILES = 1 << 16;

export interface SourceLoc { readonly file: string; readonly line: number }

/** One row: the code from `addr` up to the next row's address comes from `file` (an index) at `line`. */
export interface LineRow { readonly addr: number; readonly file: number; readonly line: number }

export interface LineTable { readonly files: readonly string[]; readonly rows: readonly LineRow[] }

// ---------------------------------------------------------------------------------------------------------------
// Writing (talas)

/**
 * The section's bytes for `locs` (instruction address → position, in address order). Consecutive instructions from
 * one line share a row, so a row per source line, each a few bytes.
 */
export function encodeLineTable(base: number, locs: readonly { addr: number; loc: SourceLoc }[]): Uint8Array {
  const files: string[] = [];
  const fileIndex = new Map<string, number>();
  const rows: LineRow[] = [];
  for (const { addr, loc } of locs) {
    let f = fileIndex.get(loc.file);
    if (f === undefined) {
      fileIndex.set(loc.file, (f = files.length));
      files.push(loc.file);
    }
    const last = rows[rows.length - 1];
    if (last && last.file === f && last.line === loc.line) continue;
    rows.push({ addr, file: f, line: loc.line });
  }
  const out: number[] = [];
  for (const c of MAGIC) out.push(c.charCodeAt(0));
  const u32 = (v: number) => out.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
  u32(VERSION);
  u32(files.length);
  u32(rows.length);
  u32(base);
  for (const f of files) out.push(...new TextEncoder().encode(f.replace(/\0/g, '')), 0);
  const uleb = (v: number) => {
    do {
      const b = v & 0x7f;
      v = Math.floor(v / 128);
      out.push(v ? b | 0x80 : b);
    } while (v);
  };
  let addr = base, line = 0;
  for (const r of rows) {
    uleb(r.addr - addr);
    uleb(r.file);
    const d = r.line - line;
    uleb(d >= 0 ? 2 * d : -2 * d - 1); // zigzag: small steps back and forth stay one byte
    addr = r.addr;
    line = r.line;
  }
  return Uint8Array.from(out);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading (messages)

/** The line table in a `.tal.lines` section's bytes, or undefined if they are not one. */
export function decodeLineTable(bytes: Uint8Array): LineTable | undefined {
  try {
    return decode(bytes);
  } catch {
    return undefined; // decode checks every bound; this is only a second net
  }
}

function decode(b: Uint8Array): LineTable | undefined {
  if (b.length < HEADER_SIZE) return undefined;
  for (let i = 0; i < MAGIC.length; i++) if (b[i] !== MAGIC.charCodeAt(i)) return undefined;
  const u32 = (o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  if (u32(8) !== VERSION) return undefined;
  const nFiles = u32(12), nRows = u32(16), base = u32(20);
  if (nFiles > MAX_FILES || nRows > MAX_ROWS) return undefined;
  let p = HEADER_SIZE;
  const files: string[] = [];
  const text = new TextDecoder('utf-8', { fatal: false });
  for (let i = 0; i < nFiles; i++) {
    const end = b.indexOf(0, p);
    if (end < 0) return undefined;
    // A name goes to a terminal: no control characters (escape sequences) from a file that is not ours.
    files.push(text.decode(b.subarray(p, end)).replace(/[\x00-\x1f\x7f]/g, '?'));
    p = end + 1;
  }
  const uleb = (): number | undefined => {
    let v = 0, scale = 1;
    for (let i = 0; i < 5; i++) {
      if (p >= b.length) return undefined;
      const c = b[p++];
      v += (c & 0x7f) * scale;
      if (!(c & 0x80)) return v;
      scale *= 128;
    }
    return undefined; // more than 32 bits
  };
  const rows: LineRow[] = [];
  let addr = base, line = 0;
  for (let i = 0; i < nRows; i++) {
    const da = uleb(), f = uleb(), z = uleb();
    if (da === undefined || f === undefined || z === undefined || f >= nFiles) return undefined;
    if (i > 0 && da === 0) return undefined; // addresses strictly increase
    addr += da;
    line += z % 2 ? -(z + 1) / 2 : z / 2;
    if (addr > 0xffffffff || line < 1 || line > 0x7fffffff) return undefined;
    rows.push({ addr, file: f, line });
  }
  if (p !== b.length) return undefined;
  return { files, rows };
}

/** The position of the code at `addr`: the last row at or before it (undefined before the first row). */
export function lineAt(table: LineTable, addr: number): SourceLoc | undefined {
  const rows = table.rows;
  let lo = 0, hi = rows.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid].addr <= addr) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (found < 0) return undefined;
  const r = rows[found];
  return { file: table.files[r.file] ?? '?', line: r.line };
}

// ---------------------------------------------------------------------------------------------------------------
// Sections and symbols, read leniently from the ELF bytes

interface RawSection { name: string; type: number; addr: number; offset: number; size: number; link: number }

/** The section headers of a 32-bit little-endian ELF, those that lie inside the file; [] if there are none. */
function sections(b: Uint8Array): RawSection[] {
  const elf = b.length >= 52 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
  if (!elf || b[4] !== 1 || b[5] !== 1) return []; // ELFCLASS32, little-endian
  const u16 = (o: number) => b[o] | (b[o + 1] << 8);
  const u32 = (o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  const shoff = u32(32), shentsize = u16(46), shnum = u16(48), shstrndx = u16(50);
  if (shentsize !== 40 || shoff + shnum * 40 > b.length) return [];
  const raw: (Omit<RawSection, 'name'> & { nameOff: number })[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * 40;
    raw.push({
      nameOff: u32(o), type: u32(o + 4), addr: u32(o + 12), offset: u32(o + 16), size: u32(o + 20), link: u32(o + 24),
    });
  }
  const strtab = raw[shstrndx];
  const inFile = (s: { offset: number; size: number }) => s.offset + s.size <= b.length;
  return raw.map(s => {
    let name = '';
    if (strtab && inFile(strtab) && s.nameOff < strtab.size) {
      const from = strtab.offset + s.nameOff;
      const end = b.indexOf(0, from);
      if (end >= 0 && end < strtab.offset + strtab.size) {
        name = String.fromCharCode(...b.subarray(from, Math.min(end, from + 256)));
      }
    }
    return { name, type: s.type, addr: s.addr, offset: s.offset, size: s.size, link: s.link };
  }).map(s => (inFile(s) ? s : { ...s, size: 0 })); // kept, so that indices (sh_link) still name the right one
}

/** The line table of an executable, or undefined if it has none (or a malformed one). */
export function lineTableOf(elf: Uint8Array): LineTable | undefined {
  try {
    const s = sections(elf).find(x => x.name === LINES_SECTION);
    return s && decodeLineTable(elf.subarray(s.offset, s.offset + s.size));
  } catch {
    return undefined;
  }
}

/** The names of an executable's labels by address (the first symbol at each address); empty if it has none. */
export function symbolsOf(elf: Uint8Array): Map<number, string> {
  const out = new Map<number, string>();
  try {
    const all = sections(elf);
    const sym = all.find(s => s.type === 2); // SHT_SYMTAB
    const str = sym && all[sym.link];
    if (!sym || !str || str.type !== 3) return out;
    const u32 = (o: number) => (elf[o] | (elf[o + 1] << 8) | (elf[o + 2] << 16) | (elf[o + 3] << 24)) >>> 0;
    const n = Math.min(Math.floor(sym.size / 16), MAX_ROWS);
    for (let i = 1; i < n; i++) {
      const o = sym.offset + 16 * i;
      const nameOff = u32(o), value = u32(o + 4);
      const had = out.get(value);
      if (nameOff === 0 || nameOff >= str.size || (had !== undefined && !had.startsWith('__tal_'))) continue;
      const from = str.offset + nameOff;
      const end = elf.indexOf(0, from);
      if (end < 0 || end >= str.offset + str.size || end - from > 256) continue;
      const name = String.fromCharCode(...elf.subarray(from, end));
      if (/^[A-Za-z_.$][A-Za-z0-9_.$]*$/.test(name)) out.set(value, name);
    }
  } catch {
    // a name is a nicety: without one the message shows the address
  }
  return out;
}
