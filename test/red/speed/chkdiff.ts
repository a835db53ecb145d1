// Differential: main's checker vs the branch's, over the corpus and its instruction/annotation mutants.
// usage: tsx chkdiff.ts SEED MUTANTS_PER_FILE [filter]
const OLD = process.env.OLD ?? '/work/main'; // the tree of the old checker (its sources)
const RS = process.env.RS ?? '/tmp/rs'; // the corpus and the differences found
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
const MC: typeof import('../../../tal/check/checker.ts') = await import(`${OLD}/tal/check/checker.ts`);
import * as BC from '../../../tal/check/checker.ts';
const { decode }: typeof import('../../../tal/x86/decode.ts') = await import(`${OLD}/tal/x86/decode.ts`);
const { readProgram }: typeof import('../../../tal/check/program.ts') = await import(`${OLD}/tal/check/program.ts`);
const { layout, HEADER_FIELDS,
  HEADER_BYTES }: typeof import('../../../tal/annotations.ts') = await import(`${OLD}/tal/annotations.ts`);

let seed = Number(process.argv[2] ?? 1);
const PER = Number(process.argv[3] ?? 20);
const filter = process.argv[4];
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) / (1 << 24); };
const ri = (n: number) => Math.floor(rnd() * n);
const pick = <T>(a: readonly T[]): T => a[ri(a.length)];

function res(r: any): string {
  if (r.ok) return JSON.stringify({ ok: true, s: r.summary, work: r.work });
  const e = { ...r.error };
  if (typeof e.message === 'string' && e.message.startsWith('internal checker error'))
    e.message = 'INTERNAL ' + e.message.split('\n')[0];
  return JSON.stringify({ ok: false, e, work: r.work });
}
mkdirSync(`${RS}/diffs`, { recursive: true });
let total = 0, diffs = 0, internal = 0, accepted = 0;
const slow: string[] = [];
function compare(elf: Uint8Array, what: string) {
  total++;
  const t0 = performance.now();
  const a = MC.checkElf(elf);
  const t1 = performance.now();
  const b = BC.checkElf(elf);
  const t2 = performance.now();
  const ra = res(a), rb = res(b);
  if (!b.ok && b.error.message.startsWith('internal')) { internal++; console.log('INTERNAL(branch)', what,
    b.error.message.split('\n').slice(0, 3).join(' | ')); }
  if (b.ok) accepted++;
  if ((t2 - t1) > 50 && (t2 - t1) > 3 * (t1 - t0))
    slow.push(`${what} main ${(t1 - t0).toFixed(1)} branch ${(t2 - t1).toFixed(1)}`);
  if (ra !== rb) {
    diffs++;
    const f = `${RS}/diffs/d${diffs}.elf`;
    writeFileSync(f, elf);
    console.log('DIFF', what, f, '\n  main  ', ra.slice(0, 600), '\n  branch', rb.slice(0, 600));
  }
}

// Instruction pool by length, from the corpus.
const files = readdirSync(`${RS}/corpus`).filter(f => f.endsWith('.elf') && (!filter || f.includes(filter))).sort();
const pool = new Map<number, Uint8Array[]>();
const progs: { f: string; elf: Uint8Array; p: any; insns: { off: number; len: number }[] }[] = [];
for (const f of files) {
  const elf = new Uint8Array(readFileSync(join(`${RS}/corpus`, f)));
  let p: any;
  try { p = readProgram(elf); } catch { progs.push({ f, elf, p: undefined, insns: [] }); continue; }
  const insns: { off: number; len: number }[] = [];
  for (let off = 0; off < p.text.length;) {
    const d = decode(p.text, off, p.textAddr + off);
    insns.push({ off, len: d.length });
    if (!('refused' in d) && pool.size < 100000) {
      const k = d.length;
      if (!pool.has(k)) pool.set(k, []);
      const l = pool.get(k)!;
      if (l.length < 5000) l.push(p.text.slice(off, off + k));
    }
    off += d.length;
  }
  progs.push({ f, elf, p, insns });
}
// Hand-made shapes: prefixes, SIB forms, odd displacements and immediates.
const extra: number[][] = [
  [0x66, 0x90], [0x2e, 0x90], [0x3e, 0x8b, 0x00], [0x64, 0x8b, 0x00], [0xf0, 0x01, 0x00], [0xf3, 0xc3], [0x66, 0x89,
    0x00],
  [0x8b, 0x04, 0x24], [0x8b, 0x44, 0x24, 0x04], [0x8b, 0x04, 0x64], [0x8b, 0x04, 0x25, 0, 0, 0, 0], [0x8b, 0x05, 0,
    0x90, 0x04, 0x08],
  [0x8b, 0x04, 0x8d, 4, 0, 0, 0], [0x8b, 0x44, 0x8b, 0x04], [0x8a, 0x44, 0x0b, 0x04], [0x88, 0x44, 0x0b, 0x04], [0x0f,
    0xb6, 0x44, 0x0b, 0x04],
  [0xd1, 0xe0], [0xd1, 0x20], [0xc1, 0xe0, 0x05], [0xd3, 0xe0], [0x6b, 0xc0, 0x07], [0x69, 0xc0, 1, 0, 0, 0], [0x6b,
    0x04, 0x24, 3],
  [0xa1, 0, 0x90, 0x04, 0x08], [0xa3, 0, 0x90, 0x04, 0x08], [0xa0, 0, 0x90, 0x04, 0x08], [0xa2, 0, 0x90, 0x04, 0x08],
  [0xc7, 0x04, 0x24, 0, 0, 0, 0], [0xc7, 0x44, 0x24, 0x04, 1, 0, 0, 0], [0xc6, 0x44, 0x0b, 0x04, 0x41], [0x81, 0xc4, 4,
    0, 0, 0], [0x83, 0xc4, 0x04], [0x83, 0xec, 0x04],
  [0x89, 0xe0], [0x89, 0xc4], [0x8b, 0xe0], [0x8d, 0x04, 0x24], [0x8d, 0x40, 0x04], [0x3b, 0x0b], [0x39, 0x0b], [0x3b,
    0x03], [0x39, 0x08],
  [0x83, 0x38, 0x01], [0x81, 0x38, 1, 0, 0, 0], [0x85, 0xc0], [0x83, 0xf8, 0x00], [0xf7, 0xf1], [0xf7,
    0xf9], [0x99], [0xf7, 0x00, 1, 0, 0, 0],
  [0xff, 0xd0], [0xff, 0xe0], [0xff, 0x15, 0, 0x90, 0x04, 0x08], [0xff, 0x30], [0x8f, 0x00], [0x0f, 0x94, 0xc0], [0x0f,
    0x94, 0x00],
  [0xc3], [0xc2, 4, 0], [0xcd, 0x80], [0xeb, 0xfe], [0xe9, 0, 0, 0, 0], [0xe8, 0, 0, 0, 0], [0x74, 0x00], [0x0f, 0x84,
    0, 0, 0, 0],
];
for (const e of extra) { const k = e.length; if (!pool.has(k)) pool.set(k, []); pool.get(k)!.push(Uint8Array.from(e)); }
const NOPS = (n: number) => new Uint8Array(n).fill(0x90);

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
}

function mutInsn(pr: typeof progs[0]): [Uint8Array, string] {
  const { elf, p, insns } = pr;
  const out = Uint8Array.from(elf);
  const base = p.textFileOffset;
  const i = ri(insns.length), ins = insns[i];
  const at = base + ins.off;
  const kind = ri(9);
  switch (kind) {
    case 0: { // same-length replacement from the pool
      const l = pool.get(ins.len);
      if (l) out.set(pick(l), at);
      return [out, `replace@${ins.off}`];
    }
    case 1: { // shorter pool instruction + nop padding (operand count shrinks; label positions kept)
      const lens = [...pool.keys()].filter(k => k < ins.len);
      if (lens.length) { const r = pick(pool.get(pick(lens))!); out.set(NOPS(ins.len), at); out.set(r,
        at + (rnd() < 0.5 ? 0 : ins.len - r.length)); }
      return [out, `shorter@${ins.off}`];
    }
    case 2: { // a byte of the instruction changed (modrm, sib, disp, imm)
      const k = ri(ins.len);
      out[at + k] = rnd() < 0.5 ? ri(256) : out[at + k] ^ (1 << ri(8));
      return [out, `byte@${ins.off}+${k}`];
    }
    case 3: { // swap with the next instruction (a label may end inside one)
      const n = insns[i + 1];
      if (n) { const a = elf.slice(at, at + ins.len),
        b = elf.slice(base + n.off, base + n.off + n.len); out.set(b, at); out.set(a, at + b.length); }
      return [out, `swap@${ins.off}`];
    }
    case 4: { // a longer instruction written over this and the next ones
      const lens = [...pool.keys()].filter(k => k > ins.len);
      if (lens.length) { const r = pick(pool.get(pick(lens))!); const room = base
        + p.text.length - at; out.set(r.subarray(0, Math.min(r.length, room)), at); }
      return [out, `longer@${ins.off}`];
    }
    case 5: { // a prefix in front of a shorter form
      const pre = pick([0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x0f]);
      out[at] = pre;
      if (ins.len > 1) out.set(elf.slice(at, at + ins.len - 1), at + 1);
      return [out, `prefix@${ins.off}`];
    }
    case 6: { // the last instruction truncated: a longer one's start at the end of .text
      const last = insns[insns.length - 1];
      const lens = [...pool.keys()].filter(k => k > last.len);
      if (lens.length) { const r = pick(pool.get(pick(lens))!); out.set(r.subarray(0, last.len), base + last.off); }
      return [out, `trunc-end`];
    }
    case 7: { // disp/imm bytes set to an interesting 32-bit value
      if (ins.len >= 5) {
        const v = pick([0, 4, 8, 0xfffffffc, 0x80000000, 0x7fffffff, p.textAddr, p.textAddr + ins.off,
          ...p.ann.data.addrs, ...p.ann.code.addrs]) >>> 0;
        const k = ins.len - 4;
        const o = at + (rnd() < 0.5 ? k : Math.max(1, k - 1 - ri(3)));
        if (o + 4 <= at + ins.len) new DataView(out.buffer).setUint32(o, v, true);
      }
      return [out, `val@${ins.off}`];
    }
    default: { // two instructions replaced by a pool pair (same total length)
      const n = insns[i + 1];
      if (n) { const tot = ins.len
        + n.len; const k1 = pick([...pool.keys()].filter(k => k < tot
        && pool.has(tot - k))); if (k1) { out.set(pick(pool.get(k1)!), at); out.set(pick(pool.get(tot - k1)!),
        at + k1); } }
      return [out, `pair@${ins.off}`];
    }
  }
}

function mutAnn(pr: typeof progs[0]): [Uint8Array, string] {
  const { elf, p, insns } = pr;
  const out = Uint8Array.from(elf);
  const ts = typesSec(elf)!;
  const dv = new DataView(out.buffer);
  const h: any = {};
  HEADER_FIELDS.forEach((f, i) => (h[f] = dv.getUint32(ts.off + 8 + 4 * i, true)));
  const { offsets } = layout(h);
  const tables: [string, number, number][] = [['inst', h.inst, 12], ['coerce', h.coerce, 20], ['code', h.code, 12],
    ['data', h.data, 12]];
  const avail = tables.filter(t => t[1] > 0);
  const insnAddr = () => p.textAddr + pick(insns).off;
  if (!avail.length || rnd() < 0.15) {
    const k = ts.off + 4 * ri(ts.size / 4);
    dv.setUint32(k, rnd() < 0.5 ? dv.getUint32(k, true) + ri(9) - 4 : ri(1 << 16), true);
    return [out, `ann-word@${k - ts.off}`];
  }
  const [name, count, size] = pick(avail);
  const r = ri(count);
  const at = ts.off + (offsets as any)[name] + size * r;
  const old = dv.getUint32(at, true);
  const w = ri(6);
  let v: number;
  if (w === 0) v = old + ri(9) - 4;
  else if (w === 1) v = insnAddr();
  else if (w === 2) v = insnAddr() + 1 + ri(3);
  else if (w === 3) v = old + 0x100000000 - p.textAddr; // wrapped
  else if (w === 4) v = p.textAddr + p.text.length + ri(3) - 1;
  else { // another field of the record
    const k = at
      + 4 * (1 + ri(size / 4 - 1)); dv.setUint32(k, dv.getUint32(k, true) + ri(5) - 2, true); return [out,
      `${name}[${r}].field`];
  }
  dv.setUint32(at, v >>> 0, true);
  return [out, `${name}[${r}].addr ${old.toString(16)}->${(v >>> 0).toString(16)}`];
}

const t0 = Date.now();
for (const pr of progs) {
  compare(pr.elf, pr.f);
  if (!pr.p) continue;
  for (let k = 0; k < PER; k++) {
    // MULTI=n: up to n instruction mutations on one mutant (each on the program as it was, offsets unchanged).
    let [e, w] = mutInsn(pr);
    for (let j = 1
      + ri(Number(process.env.MULTI ?? 1)); j > 1; j--) { const [e2, w2] = mutInsn({ ...pr, elf: e }); e = e2; w += ' '
      + w2; }
    compare(e, `${pr.f} ${w}`);
  }
  for (let k = 0; k < PER; k++) { const [e, w] = mutAnn(pr); compare(e, `${pr.f} ${w}`); }
}
console.log(`checked ${total} (${accepted} accepted by the branch), differences ${diffs}, internal errors ` +
  `${internal}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
for (const s of slow.slice(0, 20)) console.log('SLOW', s);
