// Re-times a few corpus files, old (OLD's sources) and this tree's checker, in either order, best and median of N.
// usage: OLD=tree RS=dir tsx retime.ts N file...
const OLD = process.env.OLD ?? '/work/main';
const RS = process.env.RS ?? '/tmp/rs';
import { readFileSync } from 'node:fs';
import * as BC from '../../../tal/check/checker.ts';
const MC: typeof import('../../../tal/check/checker.ts') = await import(`${OLD}/tal/check/checker.ts`);
const N = Number(process.argv[2]);
const stat = (xs: number[]) => { const s = xs.slice().sort((a,
  b) => a - b); return `best ${s[0].toFixed(2)} med ${s[s.length >> 1].toFixed(2)}`; };
for (const f of process.argv.slice(3)) {
  const elf = new Uint8Array(readFileSync(f.includes('/') ? f : `${RS}/corpus/${f}`));
  const a: number[] = [], b: number[] = [];
  for (let i = 0; i < N; i++) {
    const first = i % 2 === 0;
    for (const which of first ? [0, 1] : [1, 0]) {
      const t = performance.now();
      (which === 0 ? MC : BC).checkElf(elf);
      (which === 0 ? a : b).push(performance.now() - t);
    }
  }
  console.log(`${f}: old ${stat(a)} ms, new ${stat(b)} ms`);
}
