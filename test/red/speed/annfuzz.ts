// The strict reader: mutants of .tal.types must be refused as 'annotation' (or a checker class), never an exception.
const OLD = process.env.OLD ?? '/work/main'; // the tree of the old checker (its sources)
const RS = process.env.RS ?? '/tmp/rs'; // the corpus and the differences found
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as BC from '../../../tal/check/checker.ts';
const MC: typeof import('../../../tal/check/checker.ts') = await import(`${OLD}/tal/check/checker.ts`);
let seed = Number(process.argv[2] ?? 5);
const PER = Number(process.argv[3] ?? 30);
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) / (1 << 24); };
const ri = (n: number) => Math.floor(rnd() * n);
function typesSec(elf: Uint8Array) {
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
const files = readdirSync(`${RS}/corpus`).filter(f => f.endsWith('.elf') && !f.startsWith('gen')).sort();
let total = 0, bad = 0, diffs = 0;
const cls = new Map<string, number>();
for (const f of files) {
  const elf = new Uint8Array(readFileSync(join(`${RS}/corpus`, f)));
  let ts; try { ts = typesSec(elf); } catch { continue; }
  if (!ts) continue;
  for (let k = 0; k < PER; k++) {
    const out = Uint8Array.from(elf);
    const dv = new DataView(out.buffer);
    const nmut = 1 + ri(3);
    for (let j = 0; j < nmut; j++) {
      const w = ts.off + 4 * ri(Math.max(1, ts.size >> 2));
      if (w + 4 > out.length) continue;
      const old = dv.getUint32(w, true);
      const v = [old + 1, old - 1, 0, 0xffffffff, 0x7fffffff, old ^ (1 << ri(32)), ri(64),
        old + 0x100000000 / 2][ri(8)];
      dv.setUint32(w, v >>> 0, true);
    }
    total++;
    const r = BC.checkElf(out), m = MC.checkElf(out);
    if (JSON.stringify(r.ok ? { ok: 1, w: r.work } : { e: r.error, w: r.work }) !== JSON.stringify(m.ok
      ? { ok: 1, w: m.work } : { e: m.error,
      w: m.work })) { diffs++; if (!r.ok && !m.ok && r.error.message.startsWith('internal')
      && m.error.message.startsWith('internal')) {} else console.log('DIFF', f,
      JSON.stringify(r.ok || r.error).slice(0, 300), JSON.stringify(m.ok || m.error).slice(0, 300)); }
    const c = r.ok ? 'ok' : r.error.cls;
    cls.set(c, (cls.get(c) ?? 0) + 1);
    if (!r.ok && (r.error.message.startsWith('internal') || r.error.message.startsWith('unreadable'))) {
      bad++;
      if (bad < 15) { writeFileSync(`${RS}/annbad${bad}.elf`, out); console.log('BAD', f, r.error.cls,
        r.error.message.split('\n').slice(0, 2).join(' | ')); }
    }
  }
}
console.log(`mutants ${total}, exceptions ${bad}, diffs ${diffs}`);
console.log([...cls].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}:${n}`).join(' '));
