// main's checker against the branch's on every corpus ELF as it is and on byte flips anywhere in it (the whole
// result compared: verdict, class, message, address, label, instruction text, expected/actual, work units).
// usage: OLD=tree RS=dir tsx flipdiff.ts SEED FLIPS_PER_FILE
const OLD = process.env.OLD ?? '/work/main'; // the tree of the old checker (its sources)
const RS = process.env.RS ?? '/tmp/rs'; // the corpus (corpus.ts)
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as BC from '../../../tal/check/checker.ts';
const MC: typeof import('../../../tal/check/checker.ts') = await import(`${OLD}/tal/check/checker.ts`);
let seed = Number(process.argv[2] ?? 1);
const PER = Number(process.argv[3] ?? 3);
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) / (1 << 24); };
const ri = (n: number) => Math.floor(rnd() * n);
const res = (r: BC.CheckResult): string => {
  if (r.ok) return JSON.stringify({ ok: true, s: r.summary, work: r.work });
  const e = { ...r.error };
  if (e.message.startsWith('internal checker error')) e.message = 'INTERNAL ' + e.message.split('\n')[0];
  return JSON.stringify({ ok: false, e, work: r.work });
};
let total = 0, diffs = 0, accepted = 0, originals = 0;
const files = readdirSync(`${RS}/corpus`).filter(f => f.endsWith('.elf')).sort();
for (const f of files) {
  const elf = new Uint8Array(readFileSync(join(`${RS}/corpus`, f)));
  for (let k = 0; k <= PER; k++) {
    const m = Uint8Array.from(elf);
    // k = 0: the file as it is; else 1-3 bytes anywhere flipped (one bit, or a random byte).
    if (k > 0) for (let j = 1 + ri(3); j > 0; j--) { const p = ri(m.length); m[p] = ri(2) ? m[p] ^ (1 << ri(8))
      : ri(256); }
    total++;
    if (k === 0) originals++;
    const a = res(MC.checkElf(m)), b = res(BC.checkElf(m));
    if (b.startsWith('{"ok":true')) accepted++;
    if (a !== b) { diffs++; console.log('DIFF', f, k, '\n  main  ', a.slice(0, 400), '\n  branch', b.slice(0, 400)); }
  }
}
console.log(`${originals} files and ${total - originals} byte-flip mutants: ${total} checked (${accepted} accepted), ` +
  `differences ${diffs}`);
