// Mutations of an assembled ELF file, for negative tests that need a malformed file rather than a bad program.
//   truncate N            keep the first N bytes (N < 0: drop the last -N)
//   byte OFF VAL          set the byte at file offset OFF
//   u16 OFF VAL / u32 OFF VAL
//   replace "A" "B"       replace the first occurrence of the bytes of A by B (same length)
//   section NAME FIELD V  set a section header field: addr, offset, size, flags, type
//   segment I FIELD V     set a program header field: offset, vaddr, filesz, memsz, flags
import { readElf } from '../../tal/elf.ts';

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
      const img = readElf(bytes);
      const shoff = dv.getUint32(32, true);
      const idx = img.sections.findIndex(s => s.name === args[0]);
      if (idx < 0) throw new Error(`no section ${args[0]}`);
      const field: Record<string, number> = { type: 4, flags: 8, addr: 12, offset: 16, size: 20 };
      dv.setUint32(shoff + idx * 40 + field[args[1]], num(args[2]) >>> 0, true);
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
