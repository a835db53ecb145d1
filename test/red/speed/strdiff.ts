// The string table of .tal.types (names, sorted, each checked past the prefix it shares with the one before): main's
// reader against the branch's on mutants of the string bytes and the string end offsets of every corpus file.
// usage: OLD=tree RS=dir tsx strdiff.ts SEED MUTANTS_PER_FILE
const OLD = process.env.OLD ?? '/work/main'; // the tree of the old reader (its sources)
const RS = process.env.RS ?? '/tmp/rs'; // the corpus (corpus.ts)
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as BA from '../../../tal/annotations.ts';
import * as BC from '../../../tal/check/checker.ts';
const MA: typeof import('../../../tal/annotations.ts') = await import(`${OLD}/tal/annotations.ts`);
const MC: typeof import('../../../tal/check/checker.ts') = await import(`${OLD}/tal/check/checker.ts`);
let seed = Number(process.argv[2] ?? 1);
const PER = Number(process.argv[3] ?? 20);
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) / (1 << 24); };
const ri = (n: number) => Math.floor(rnd() * n);
function typesSec(elf: Uint8Array): { off: number; size: number } | undefined {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const shoff = dv.getUint32(32, true), shnum = dv.getUint16(48, true), shstrndx = dv.getUint16(50, true);
  const strOff = dv.getUint32(shoff + shstrndx * 40 + 16, true);
  for (let i = 0; i < shnum; i++) {
    let p = strOff + dv.getUint32(shoff + i * 40, true), s = '';
    while (p < elf.length && elf[p] !== 0) s += String.fromCharCode(elf[p++]);
    if (s === '.tal.types')
      return { off: dv.getUint32(shoff + i * 40 + 16, true), size: dv.getUint32(shoff + i * 40 + 20, true) };
  }
  return undefined;
}
const outcome = (f: () => unknown): string => {
  try { f(); return 'ok'; } catch (e) { return `${(e as Error).name}: ${(e as Error).message}`; }
};
const CHARS = 'az_AZ09.$-@ \x00\x7f\x80\xff';
const files = readdirSync(`${RS}/corpus`).filter(f => f.endsWith('.elf')).sort();
let total = 0, diffs = 0, refused = 0;
for (const f of files) {
  const elf = new Uint8Array(readFileSync(join(`${RS}/corpus`, f)));
  let ts: { off: number; size: number } | undefined;
  try { ts = typesSec(elf); } catch { continue; } // (the corpus's own mutants: a broken section table)
  if (!ts || ts.off + ts.size > elf.length) continue;
  const sec = elf.subarray(ts.off, ts.off + ts.size);
  const dv = new DataView(sec.buffer, sec.byteOffset, sec.byteLength);
  if (sec.length < BA.HEADER_BYTES) continue; // (the corpus's own mutants: a section cut short)
  const h = Object.fromEntries(BA.HEADER_FIELDS.map((k, i) => [k,
    dv.getUint32(8 + 4 * i, true)])) as Record<BA.HeaderField, number>;
  const { offsets, size } = BA.layout(h);
  if (size !== sec.length || h.stringBytes === 0 || h.strings === 0) continue;
  for (let k = 0; k < PER; k++) {
    const m = Uint8Array.from(sec);
    const mv = new DataView(m.buffer);
    const n = 1 + ri(2);
    for (let j = 0; j < n; j++) {
      const kind = ri(5);
      if (kind < 3) {
        // A byte of a name: a character of another class, the next or previous one (order), or a neighbour's.
        const p = offsets.bytes + ri(h.stringBytes);
        m[p] = [CHARS.charCodeAt(ri(CHARS.length)), m[p] + 1, m[p] - 1,
          m[Math.max(offsets.bytes, p - 1)]][ri(4)] & 0xff;
      } else {
        // An end offset moved by a little.
        const i = ri(h.strings), w = offsets.string + 4 * i;
        mv.setUint32(w, (mv.getUint32(w, true) + [1, -1, 2, -2][ri(4)]) >>> 0, true);
      }
    }
    total++;
    const a = outcome(() => MA.readAnnotations(m)), b = outcome(() => BA.readAnnotations(m));
    if (a !== 'ok') refused++;
    if (a !== b) { diffs++; console.log('DIFF', f, '\n  main  ', a.slice(0, 300), '\n  branch', b.slice(0, 300)); }
    if (k < 2) {
      // And the whole check on the file with the mutated section, verdict and message.
      const e = Uint8Array.from(elf);
      e.set(m, ts.off);
      const ra = MC.checkElf(e), rb = BC.checkElf(e);
      const sa = JSON.stringify(ra.ok ? { ok: 1, w: ra.work } : { e: ra.error, w: ra.work });
      const sb = JSON.stringify(rb.ok ? { ok: 1, w: rb.work } : { e: rb.error, w: rb.work });
      total++;
      if (sa !== sb) { diffs++; console.log('DIFF(check)', f, sa.slice(0, 300), sb.slice(0, 300)); }
    }
  }
}
console.log(`string-table mutants: ${total} compared (${refused} refused by main's reader), differences ${diffs}`);
