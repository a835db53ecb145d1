// Times the old and the branch's checker on every corpus file (best of 7, alternating) and lists the worst ratios:
// a file the branch checks much slower than the old checker would be a new way to make the checker slow.
const OLD = process.env.OLD ?? '/work/main';
const RS = process.env.RS ?? '/tmp/rs';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as BC from '../../../tal/check/checker.ts';
const MC: typeof import('../../../tal/check/checker.ts') = await import(`${OLD}/tal/check/checker.ts`);
const rows: { f: string; a: number; b: number; work: number; bytes: number }[] = [];
for (const f of readdirSync(`${RS}/corpus`).filter(f => f.endsWith('.elf')).sort()) {
  const elf = new Uint8Array(readFileSync(join(`${RS}/corpus`, f)));
  let a = Infinity, b = Infinity, work = 0;
  for (let i = 0; i < 7; i++) {
    let t = performance.now(); MC.checkElf(elf); a = Math.min(a, performance.now() - t);
    t = performance.now(); work = BC.checkElf(elf).work; b = Math.min(b, performance.now() - t);
  }
  rows.push({ f, a, b, work, bytes: elf.length });
}
rows.sort((x, y) => y.b / Math.max(y.a, 0.05) - x.b / Math.max(x.a, 0.05));
for (const r of rows.slice(0,
  8)) console.log(`${r.f}: old ${r.a.toFixed(2)} ms, branch ${r.b.toFixed(2)} ms, ${r.bytes} bytes, ${r.work} units`);
const sa = rows.reduce((s, r) => s + r.a, 0), sb = rows.reduce((s, r) => s + r.b, 0);
console.log(`${rows.length} files: old ${sa.toFixed(0)} ms, branch ${sb.toFixed(0)} ms in all (best of 7 each)`);
const worst = rows.reduce((m, r) => Math.max(m, r.b / r.bytes * 1e3), 0);
console.log(`worst branch time per KB: ${worst.toFixed(2)} ms`);
