// Differential for the label-inside change (Checker.run compares each instruction's end with the next label's
// offset): the old checker (OLD's sources) against this tree's on every corpus ELF with code labels moved. For a
// sample of labels of each file: the label moved by every d in -6..+6 bytes (inside the instructions around it, onto
// the previous or next label's address, which the reader refuses, before .text, past its end); the first label and
// the last label moved (first and last block); the last label put at .text's end and one byte before it; two
// neighbouring labels' addresses swapped (unsorted); a label moved onto every byte of the longest instruction of its
// block. The whole result is compared (verdict, class, message, address, label, insn, work).
// usage: OLD=tree RS=dir tsx labeldiff.ts SEED LABELS_PER_FILE
const OLD = process.env.OLD ?? '/work/main';
const RS = process.env.RS ?? '/tmp/rs';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as BC from '../../../tal/check/checker.ts';
import { decode } from '../../../tal/x86/decode.ts';
import { readProgram } from '../../../tal/check/program.ts';
import { layout, HEADER_FIELDS } from '../../../tal/annotations.ts';
const MC: typeof import('../../../tal/check/checker.ts') = await import(`${OLD}/tal/check/checker.ts`);
let seed = Number(process.argv[2] ?? 1);
const PER = Number(process.argv[3] ?? 4);
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) / (1 << 24); };
const ri = (n: number) => Math.floor(rnd() * n);
function typesSec(elf: Uint8Array): { off: number; size: number } | undefined {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const shoff = dv.getUint32(32, true), shnum = dv.getUint16(48, true), shstrndx = dv.getUint16(50, true);
  const strOff = dv.getUint32(shoff + shstrndx * 40 + 16, true);
  for (let i = 0; i < shnum; i++) {
    let p = strOff + dv.getUint32(shoff + i * 40, true), s = '';
    while (p < elf.length && elf[p] !== 0) s += String.fromCharCode(elf[p++]);
    if (s === '.tal.types') return { off: dv.getUint32(shoff + i * 40 + 16, true),
      size: dv.getUint32(shoff + i * 40 + 20, true) };
  }
  return undefined;
}
const result = (c: typeof BC, e: Uint8Array): string => {
  try { const r = c.checkElf(e); return JSON.stringify(r.ok ? { ok: 1, w: r.work, s: r.summary } : { e: r.error,
    w: r.work }); }
  catch (x) { return `THREW ${(x as Error).stack}`; }
};
mkdirSync(`${RS}/diffs3`, { recursive: true });
let total = 0, diffs = 0, accepted = 0, threw = 0;
const classes = new Map<string, number>();
function compare(e: Uint8Array, what: string) {
  total++;
  const a = result(MC, e), b = result(BC, e);
  if (b.startsWith('THREW')) threw++;
  else if (b.startsWith('{"ok"')) accepted++;
  else { const m = /"cls":"([a-z-]+)"/.exec(b); if (m) classes.set(m[1], (classes.get(m[1]) ?? 0) + 1); }
  if (a !== b) {
    diffs++;
    writeFileSync(`${RS}/diffs3/label${diffs}.elf`, e);
    console.log('DIFF', what, '\n  old', a.slice(0, 500), '\n  new', b.slice(0, 500));
  }
}
const t0 = Date.now();
for (const f of readdirSync(`${RS}/corpus`).filter(f => f.endsWith('.elf')).sort()) {
  const elf = new Uint8Array(readFileSync(join(`${RS}/corpus`, f)));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let p: any;
  try { p = readProgram(elf); } catch { continue; }
  const ts = typesSec(elf);
  if (!ts) continue;
  const dv0 = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const h: Record<string, number> = {};
  HEADER_FIELDS.forEach((k, i) => (h[k] = dv0.getUint32(ts.off + 8 + 4 * i, true)));
  const { offsets } = layout(h as never);
  const nCode: number = h.code;
  if (nCode === 0) continue;
  const recAt = (k: number) => ts.off + offsets.code + 12 * k;
  const addrOf = (k: number) => dv0.getUint32(recAt(k), true);
  const textAddr: number = p.textAddr, textEnd = textAddr + p.text.length;
  // Instruction starts and lengths, for "every byte of the longest instruction of the block".
  const starts: { off: number; len: number }[] = [];
  for (let off = 0; off < p.text.length;) { const d = decode(p.text, off, textAddr + off); starts.push({ off,
    len: d.length }); off += Math.max(1, d.length); }
  const withAddr = (k: number,
    a: number) => { const o = Uint8Array.from(elf); new DataView(o.buffer).setUint32(recAt(k), a >>> 0,
      true); return o; };
  const picks = new Set<number>([0, nCode - 1]);
  for (let i = 0; i < PER; i++) picks.add(ri(nCode));
  for (const k of picks) {
    const a = addrOf(k);
    for (let d = -6; d <= 6; d++) if (d !== 0) compare(withAddr(k, a + d), `${f} code[${k}] ${d}`);
    // The longest instruction between this label and the next: the label on each of its bytes.
    const next = k + 1 < nCode ? addrOf(k + 1) : textEnd;
    let best = { off: -1, len: 0 };
    for (const s of starts) if (textAddr + s.off >= a && textAddr + s.off < next && s.len > best.len) best = s;
    if (best.off >= 0 && k + 1 < nCode) for (let j = 1; j < best.len; j++) compare(withAddr(k + 1,
      textAddr + best.off + j), `${f} code[${k + 1}] into longest +${j}`);
    if (k + 1 < nCode) {
      const o = withAddr(k, addrOf(k + 1)); new DataView(o.buffer).setUint32(recAt(k + 1), a, true);
      compare(o, `${f} swap ${k},${k + 1}`);
    }
  }
  compare(withAddr(nCode - 1, textEnd), `${f} last at end`);
  compare(withAddr(nCode - 1, textEnd - 1), `${f} last at end-1`);
  compare(withAddr(0, textAddr + 1), `${f} first at +1`);
  if (nCode > 1) compare(withAddr(nCode - 1, textAddr + starts[starts.length - 1].off + 1),
    `${f} last inside last insn`);
}
console.log(`checked ${total} (${accepted} accepted), ${diffs} differences, ${threw} exceptions,`,
  `${((Date.now() - t0) / 1000).toFixed(0)} s;`,
  [...classes].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v}`).join(', '));
