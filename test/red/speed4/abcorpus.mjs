// Times two builds of the checker (dist/ directories: npx tsc -p tsconfig.build.json --outDir DIR) on every .elf of a
// directory in one plain node process (no tsx loader: see bench/checker-ab.ts), best of 7 each, alternating, and
// lists the files with the worst new/old ratio (0.3 ms added to both: sub-millisecond files are noise). redspeed4.
// usage: node test/red/speed4/abcorpus.mjs OLD_DIST NEW_DIST DIR
import { readFileSync, readdirSync } from 'node:fs';
const [oldDir, newDir, dir] = process.argv.slice(2);
const O = await import(oldDir + '/tal/check/checker.js'), N = await import(newDir + '/tal/check/checker.js');
const rows = []; let ta = 0, tb = 0;
for (const f of readdirSync(dir).filter(f => f.endsWith('.elf')).sort()) {
  const elf = new Uint8Array(readFileSync(dir + '/' + f));
  let a = Infinity, b = Infinity;
  for (let i = 0; i < 7; i++) {
    let t = performance.now(); O.checkElf(elf); a = Math.min(a, performance.now() - t);
    t = performance.now(); N.checkElf(elf); b = Math.min(b, performance.now() - t);
  }
  ta += a; tb += b; rows.push({ f, a, b, bytes: elf.length });
}
rows.sort((x, y) => (y.b + 0.3) / (y.a + 0.3) - (x.b + 0.3) / (x.a + 0.3));
for (const r of rows.slice(0, 8))
  console.log(`${r.f}: old ${r.a.toFixed(2)} new ${r.b.toFixed(2)} ms, ${r.bytes} bytes`);
console.log(`${rows.length} files: old ${ta.toFixed(0)} ms, new ${tb.toFixed(0)} ms in all (best of 7 each)`);
