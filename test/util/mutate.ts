// Mutations of an assembled ELF file, for negative tests that need a malformed file rather than a bad program.
//   truncate N            keep the first N bytes (N < 0: drop the last -N)
//   byte OFF VAL          set the byte at file offset OFF
//   u16 OFF VAL / u32 OFF VAL
//   replace "A" "B"       replace the first occurrence of the bytes of A by B (same length)
//   section NAME FIELD V  set a section header field: addr, offset, size, flags, type
//   in NAME byte|u32 OFF V  write at offset OFF of the section's bytes in the file
//   segment I FIELD V     set a program header field: offset, vaddr, filesz, memsz, flags
//   types TABLE WHICH FIELD V   set a field of a record of the binary .tal.types (docs/tal.md §5), found without
//                         validating it: TABLE is header (no WHICH), string, scope, binder, node, list, def, code,
//                         data, inst, coerce or bytes (the string bytes; FIELD value); WHICH is an index, a
//                         label's name (code, data), a definition's name (def), or for a node type:LABEL, body:DEF or
//                         first:TAG;
//                         FIELD a field name or word number; V a number, +N or -N (relative to the field's value),
//                         str:NAME (the index of a string) or self (the record's own index)

import { HEADER_FIELDS, type HeaderField, layout, TABLES } from '../../tal/annotations.ts';

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
    case 'types': return typesMutation(out, dv, args);
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

const FIELDS: Record<string, readonly string[]> = {
  string: ['end'], scope: ['end', 'binders'], binder: ['name', 'kind'], node: ['tag', 'a', 'b', 'c'], list: ['value'],
  def: ['name', 'scope', 'body'], code: ['addr', 'name', 'type'], data: ['addr', 'name', 'type'], inst: ['addr',
    'first', 'count'],
  coerce: ['addr', 'op', 'reg', 'type', 'witness'],
};

/** `types TABLE WHICH FIELD V` (see the top of this file). */
function typesMutation(out: Uint8Array, dv: DataView, args: string[]): Uint8Array {
  const base = dv.getUint32(sectionHeader(out, '.tal.types') + 16, true);
  const h = {} as Record<HeaderField, number>;
  HEADER_FIELDS.forEach((f, i) => (h[f] = dv.getUint32(base + 8 + 4 * i, true)));
  const { offsets } = layout(h);
  const word = (table: string, i: number, w = 0) => {
    const t = TABLES.find(x => x.name === table)!;
    return base + offsets[t.name] + 4 * (t.words * i + w);
  };
  const str = (i: number) => {
    const from = i === 0 ? 0 : dv.getUint32(word('string', i - 1), true), end = dv.getUint32(word('string', i), true);
    return new TextDecoder().decode(out.subarray(base + offsets.bytes + from, base + offsets.bytes + end));
  };
  const strIndex = (name: string) => {
    for (let i = 0; i < h.strings; i++) if (str(i) === name) return i;
    throw new Error(`types: no string '${name}'`);
  };
  const named = (table: 'code' | 'data' | 'def', name: string) => {
    const id = strIndex(name), n = table === 'def' ? h.defs : h[table];
    for (let i = 0; i < n; i++) if (dv.getUint32(word(table, i, table === 'def' ? 0 : 1), true) === id) return i;
    throw new Error(`types: no ${table} '${name}'`);
  };
  let i = -1;
  const value = (at: number, v: string) => v === 'self' ? i
    : v.startsWith('str:') ? strIndex(v.slice(4)) : /^[+-]/.test(v) ? dv.getUint32(at, true) + num(v) : num(v);
  const [table, ...rest] = args;
  if (table === 'header') {
    const at = base + 8 + 4 * HEADER_FIELDS.indexOf(rest[0] as HeaderField);
    dv.setUint32(at, value(at, rest[1]) >>> 0, true);
    return out;
  }
  const [which, field, v] = rest;
  if (table === 'bytes') {
    out[base + offsets.bytes + num(which)] = num(v);
    return out;
  }
  if (/^\d+$/.test(which)) i = num(which);
  else if (table === 'node' && which.startsWith('type:'))
    i = dv.getUint32(word('code', named('code', which.slice(5)), 2), true);
  else if (table === 'node' && which.startsWith('body:'))
    i = dv.getUint32(word('def', named('def', which.slice(5)), 2), true);
  else if (table === 'node' && which.startsWith('first:')) {
    i = 0;
    while (i < h.nodes && dv.getUint32(word('node', i), true) !== num(which.slice(6))) i++;
    if (i === h.nodes) throw new Error(`types: no node of tag ${which.slice(6)}`);
  } else i = named(table as 'code' | 'data' | 'def', which);
  const w = /^\d+$/.test(field) ? num(field) : FIELDS[table].indexOf(field);
  if (w < 0) throw new Error(`types: ${table} has no field ${field}`);
  const at = word(table, i, w);
  dv.setUint32(at, value(at, v) >>> 0, true);
  return out;
}
