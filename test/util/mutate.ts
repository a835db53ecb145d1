// Mutations of an assembled ELF file, for negative tests that need a malformed file rather than a bad program.
//   truncate N            keep the first N bytes (N < 0: drop the last -N)
//   byte OFF VAL          set the byte at file offset OFF
//   u16 OFF VAL / u32 OFF VAL
//   replace "A" "B"       replace the first occurrence of the bytes of A by B (same length)
//   section NAME FIELD V  set a section header field: addr, offset, size, flags, type
//   in NAME byte|u32 OFF V  write at offset OFF of the section's bytes in the file
//   segment I FIELD V     set a program header field: offset, vaddr, filesz, memsz, flags

function num(s: string): number {
  return Number(s);
}

function parseWords(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m;
  while ((m = re.exec(s))) out.push(m[1] !== undefined ? JSON.parse(`"${m[1]}"`) : m[2]);
  return out;
}

/**
 * The file offset of the header of the section named `name`, found without validating the file (a mutation may already have broken
 * it): names are read from the section-name table's header as it is, within the file's bytes.
 */
function sectionHeader(b: Uint8Array, name: string): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const shoff = dv.getUint32(32, true), shnum = dv.getUint16(48, true), shstrndx = dv.getUint16(50, true);
  const strOff = dv.getUint32(shoff + shstrndx * 40 + 16, true);
  for (let i = 0; i < shnum; i++) {
    let p = strOff + dv.getUint32(shoff + i * 40, true);
    let s = '';
    while (p < b.length && b[p] !== 0) s += String.fromCharCode(b[p++]);
    if (s === name) return shoff + i * 40;
  }
  throw new Error(`no section ${name}`);
}

export function applyMutation(bytes: Uint8Array, spec: string): Uint8Array {
  const [op, ...args] = parseWords(spec);
  const out = Uint8Array.from(bytes);
  const dv = new DataView(out.buffer);
  switch (op) {
    case 'truncate': {
      const n = num(args[0]);
      return out.slice(0, n < 0 ? out.length + n : n);
    }
    case 'byte': out[num(args[0])] = num(args[1]); return out;
    case 'u16': dv.setUint16(num(args[0]), num(args[1]), true); return out;
    case 'u32': dv.setUint32(num(args[0]), num(args[1]) >>> 0, true); return out;
    case 'replace': {
      const a = new TextEncoder().encode(args[0]), b = new TextEncoder().encode(args[1]);
      if (a.length !== b.length) throw new Error('replace needs strings of the same length');
      const at = Buffer.from(out).indexOf(Buffer.from(a));
      if (at < 0) throw new Error(`replace: ${args[0]} not found`);
      out.set(b, at);
      return out;
    }
    case 'section': {
      const field: Record<string, number> = { type: 4, flags: 8, addr: 12, offset: 16, size: 20 };
      dv.setUint32(sectionHeader(out, args[0]) + field[args[1]], num(args[2]) >>> 0, true);
      return out;
    }
    case 'in': {
      // in SECTION byte|u32 OFF VAL: a write relative to the start of a section's bytes in the file.
      const at = dv.getUint32(sectionHeader(out, args[0]) + 16, true) + num(args[2]);
      if (args[1] === 'byte') out[at] = num(args[3]);
      else if (args[1] === 'u32') dv.setUint32(at, num(args[3]) >>> 0, true);
      else throw new Error(`in: unknown width ${args[1]}`);
      return out;
    }
    case 'segment': {
      const phoff = dv.getUint32(28, true);
      const field: Record<string, number> = { type: 0, offset: 4, vaddr: 8, filesz: 16, memsz: 20, flags: 24 };
      dv.setUint32(phoff + num(args[0]) * 32 + field[args[1]], num(args[2]) >>> 0, true);
      return out;
    }
    default:
      throw new Error(`unknown mutation '${op}'`);
  }
}
