// Differential over source-level mutants: lines of the .tal sources changed, then assembled, then both checkers.
const OLD = process.env.OLD ?? '/work/main'; // the tree of the old checker (its sources)
const RS = process.env.RS ?? '/tmp/rs'; // the corpus and the differences found
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
const MC: typeof import('../../../tal/check/checker.ts') = await import(`${OLD}/tal/check/checker.ts`);
import * as BC from '../../../tal/check/checker.ts';
import { assemble } from '../../../tal/asm/assembler.ts';

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
mkdirSync(`${RS}/sdiffs`, { recursive: true });
let total = 0, diffs = 0, internal = 0, accepted = 0, asmFail = 0;
const classes = new Map<string, number>();
const files = readdirSync(`${RS}/tal`).filter(f => f.endsWith('.tal') && (!filter || f.includes(filter))).sort();
const srcs = files.map(f => readFileSync(join(`${RS}/tal`, f), 'utf8'));
const REGS = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp', 'al', 'bl', 'cl', 'dl'];
const JCC = ['je', 'jne', 'jb', 'jae', 'ja', 'jbe', 'jl', 'jge', 'jg', 'jle', 'js', 'jns'];
const insnLines: string[] = [];
for (const s of srcs) for (const l of s.split('\n')) if (/^\s+[a-z]/.test(l) && !l.includes('.')
  && insnLines.length < 200000 && rnd() < 0.05) insnLines.push(l);
function mutate(src: string): [string, string] {
  const lines = src.split('\n');
  const code = lines.map((l, i) => i).filter(i => /^\s+([a-z]|\.tal_(inst|pack|unpack))/.test(lines[i]));
  if (!code.length) return [src, 'none'];
  const i = pick(code);
  const l = lines[i];
  const k = ri(9);
  switch (k) {
    case 0: lines.splice(i, 1); return [lines.join('\n'), `del ${i}`];
    case 1: lines.splice(i, 0, l); return [lines.join('\n'), `dup ${i}`];
    case 2: if (i + 1 < lines.length) { lines[i] = lines[i + 1]; lines[i + 1] = l; } return [lines.join('\n'),
      `swap ${i}`];
    case 3: { const r = REGS.filter(r => new RegExp(`\\b${r}\\b`).test(l)); if (r.length) { const a = pick(r); lines[i] = l.replace(new RegExp(`\\b${a}\\b`), pick(REGS)); } return [lines.join('\n'), `reg ${i}`]; }
    case 4: { lines[i] = l.replace(/\b(0x[0-9a-f]+|\d+)\b/i,
      m => String(pick([0, 1, 4, -4, 8, Number(m) + 4, Number(m) - 4, Number(m) + 1, 1024, 1020,
      0x7fffffff]))); return [lines.join('\n'), `num ${i}`]; }
    case 5: { lines[i] = l.replace(/\bj[a-z]+\b/, () => pick(JCC)); return [lines.join('\n'), `jcc ${i}`]; }
    case 6: { lines.splice(i, 0, pick(insnLines)); return [lines.join('\n'), `ins ${i}`]; }
    case 7: { // move a directive of annotation one line down or up
      const d = lines.map((x, j) => j).filter(j => /^\s+\.tal_(inst|pack|unpack)/.test(lines[j]));
      if (d.length) { const j = pick(d); const t = lines[j]; lines.splice(j, 1); const to = Math.max(0,
        Math.min(lines.length, j + pick([-2, -1, 1, 2]))); lines.splice(to, 0, t); }
      return [lines.join('\n'), `movann ${i}`];
    }
    default: { // operand order swap
      const m = /^(\s+[a-z]+\s+)([^,#]+),([^#]+)(#.*)?$/.exec(l);
      if (m) lines[i] = `${m[1]}${m[3].trim()},${m[2].trim()}`;
      return [lines.join('\n'), `ops ${i}`];
    }
  }
}
const t0 = Date.now();
for (let fi = 0; fi < files.length; fi++) {
  for (let k = 0; k < PER; k++) {
    let [s, w] = mutate(srcs[fi]);
    if (rnd() < 0.3) { const [s2, w2] = mutate(s); s = s2; w += '+' + w2; }
    let elf: Uint8Array;
    try { elf = assemble(s, files[fi]).elf; } catch { asmFail++; continue; }
    total++;
    const a = MC.checkElf(elf), b = BC.checkElf(elf);
    if (b.ok) accepted++; else classes.set(b.error.cls, (classes.get(b.error.cls) ?? 0) + 1);
    if (!b.ok && b.error.message.startsWith('internal')) { internal++; console.log('INTERNAL', files[fi], w,
      b.error.message.split('\n')[0]); }
    const ra = res(a), rb = res(b);
    if (ra !== rb) {
      diffs++;
      writeFileSync(`${RS}/sdiffs/d${diffs}.tal`, s);
      console.log('DIFF', files[fi], w, `${RS}/sdiffs/d${diffs}.tal`, '\n  main  ', ra.slice(0, 500), '\n  branch',
        rb.slice(0, 500));
    }
  }
}
console.log(`checked ${total} (${accepted} accepted), asm failures ${asmFail}, differences ${diffs}, internal ` +
  `${internal}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
console.log([...classes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}:${n}`).join(' '));
