// The jump memo's soundness against a checker without it: OLD is a copy of this tree's tal/ whose passedBefore
// answers false under NOMEMO=1 (speed.md, "speed3"). Every corpus ELF, and mutants with a jcc's rel8 retargeted or
// a byte changed, checked by both: the verdict, class and message compared (not the work, which the memo saves).
// usage: NOMEMO=1 OLD=/tmp/nomemo RS=dir tsx nomemo.ts SEED PER_FILE
const OLD = process.env.OLD ?? '/work/main';
const RS = process.env.RS ?? '/tmp/rs';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as BC from '../../../tal/check/checker.ts';
import { decode } from '../../../tal/x86/decode.ts';
import { readProgram } from '../../../tal/check/program.ts';
import { isRefusal } from '../../../tal/x86/insn.ts';
const MC: typeof import('../../../tal/check/checker.ts') = await import(`${OLD}/tal/check/checker.ts`);
let seed = Number(process.argv[2] ?? 1);
const PER = Number(process.argv[3] ?? 5);
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) / (1 << 24); };
const ri = (n: number) => Math.floor(rnd() * n);
const verdict = (r: BC.CheckResult) => (r.ok ? 'ok' : `${r.error.cls}: ${r.error.message}`);
let total = 0, diffs = 0, accepted = 0;
for (const f of readdirSync(`${RS}/corpus`).filter(f => f.endsWith('.elf')).sort()) {
  const elf = new Uint8Array(readFileSync(join(`${RS}/corpus`, f)));
  let p;
  try { p = readProgram(elf); } catch { continue; }
  const jccs: number[] = [];
  for (let off = 0; off < p.text.length;) {
    const d = decode(p.text, off, p.textAddr + off);
    if (!isRefusal(d) && d.op === 'jcc' && d.length === 2) jccs.push(off);
    off += Math.max(1, d.length);
  }
  const base = p.textFileOffset;
  for (let k = 0; k <= PER; k++) {
    const e = Uint8Array.from(elf);
    if (k > 0) {
      if (jccs.length && rnd() < 0.7) e[base + jccs[ri(jccs.length)] + 1] = ri(256);
      else e[base + ri(p.text.length)] = ri(256);
    }
    total++;
    const a = verdict(MC.checkElf(e)), b = verdict(BC.checkElf(e));
    if (b === 'ok') accepted++;
    if (a !== b) { diffs++; console.log('DIFF', f, k, '\n  no memo', a.slice(0, 300), '\n  memo   ', b.slice(0, 300)); }
  }
}
console.log(`${total} checked (${accepted} accepted), ${diffs} verdicts that differ without the memo`);
