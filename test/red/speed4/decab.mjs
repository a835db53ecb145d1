// The decode pass of two builds compared in one process: decodeShared at each offset of the .text of bench's
// generated 1 MB program (bench/gen.ts, 20,000 functions; /work/briefs/s25/generated or ELF=...), advancing by its
// length, as the checker's pass does. The builds alternate (the first of each round alternates too); each pass is
// timed by the process's CPU time (process.cpuUsage), so waits for a core on the shared machine do not count.
// usage: node test/red/speed4/decab.mjs OLD_DIST NEW_DIST [ROUNDS]   (dist/ from npx tsc -p tsconfig.build.json)
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
const [oldDir, newDir] = process.argv.slice(2, 4);
const rounds = Number(process.argv[4] ?? 60);
const elf = new Uint8Array(readFileSync(process.env.ELF ?? '/work/briefs/s25/generated'));
const builds = [];
for (const dir of [oldDir, newDir]) {
  const { readProgram } = await import(resolve(dir, 'tal/check/program.js'));
  const { decodeShared } = await import(resolve(dir, 'tal/x86/decode.js'));
  builds.push({ dir, text: readProgram(elf).text, textAddr: readProgram(elf).textAddr, decodeShared, cpu: [] });
}
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
let insns = 0;
for (let i = 0; i < rounds + 10; i++) {
  for (const b of i % 2 === 0 ? builds : [...builds].reverse()) {
    const { text, textAddr, decodeShared } = b;
    let off = 0, n = 0;
    const t0 = cpu();
    while (off < text.length) { const d = decodeShared(text, off, textAddr + off); off += d.length; n++; }
    const t = cpu() - t0;
    insns = n;
    if (i >= 10) b.cpu.push(t);
  }
}
const med = [];
for (const b of builds) {
  const s = b.cpu.slice().sort((x, y) => x - y);
  med.push(s[s.length >> 1]);
  const median = s[s.length >> 1];
  const mean = s.reduce((x, y) => x + y) / s.length;
  console.log(`${b.dir}: median ${median.toFixed(2)} ms (${(median * 1e6 / insns).toFixed(1)} ns an instruction),`,
    `best ${s[0].toFixed(2)}, lower quartile ${s[s.length >> 2].toFixed(2)}, mean ${mean.toFixed(2)}`);
}
// ALL=1: every round's figure too.
if (process.env.ALL) for (const b of builds) console.log(b.cpu.map(x => x.toFixed(1)).join(' '));
console.log(`${insns} instructions; new/old median ${(med[1] / med[0]).toFixed(3)}`);
