// Builds the corpus: every .tal (with its # mutate: lines, and repaired), every .pop at -O0 and -O2, bench's program.
const OLD = process.env.OLD ?? '/work/main'; // the tree of the old checker (its sources)
const RS = process.env.RS ?? '/tmp/rs'; // the corpus and the differences found
import { readFileSync, writeFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { assemble } from '../../../tal/asm/assembler.ts';
import { compile } from '../../../compiler/popc.ts';
import { applyMutation } from '../../../test/util/mutate.ts';
import { generateProgram } from '../../../bench/gen.ts';
const root = join(import.meta.dirname, '..', '..', '..');
const out = `${RS}/corpus`;
mkdirSync(out, { recursive: true });
mkdirSync(`${RS}/tal`, { recursive: true });
function walk(d: string, acc: string[] = []): string[] {
  for (const f of readdirSync(d)) {
    if (f === 'node_modules' || f === '.git' || f === 'dist') continue;
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p, acc); else acc.push(p);
  }
  return acc;
}
function repaired(text: string): string | undefined {
  let marked = false;
  const lines = text.split('\n').flatMap(line => {
    const fix = /^\s+# fix: (.*)$/.exec(line);
    if (fix) { marked = true; return [fix[1]]; }
    const flaw = /^(?!#).*?#\s*flaw(?::\s*(.*))?$/.exec(line);
    if (!flaw) return [line];
    marked = true;
    return flaw[1] !== undefined ? [flaw[1]] : [];
  });
  return marked ? lines.join('\n') : undefined;
}
let n = 0;
const save = (name: string, elf: Uint8Array, tal?: string) => {
  const k = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  writeFileSync(join(out, k + '.elf'), elf);
  if (tal !== undefined) writeFileSync(join(`${RS}/tal`, k + '.tal'), tal);
  n++;
};
for (const p of walk(root)) {
  const rel = relative(root, p);
  try {
    if (p.endsWith('.tal')) {
      const text = readFileSync(p, 'utf8');
      const muts = [...text.matchAll(/^# mutate: (.*)$/gm)].map(m => m[1]);
      let elf = assemble(text, p).elf;
      save(rel + '.plain', elf, text);
      if (muts.length) { let e = elf; for (const m of muts) e = applyMutation(e, m); save(rel + '.mut', e); }
      const fx = repaired(text);
      if (fx !== undefined) { const e = assemble(fx, p).elf; save(rel + '.fixed', e, fx); }
    } else if (p.endsWith('.pop')) {
      for (const o of [0, 2]) {
        const r = compile(readFileSync(p, 'utf8'), p, { optimise: o });
        if (r.elf) save(rel + '.O' + o, r.elf, r.tal);
      }
    }
  } catch (e) { /* skip */ }
}
for (const k of [50, 500]) { const t = generateProgram(k); save('gen' + k, assemble(t, 'gen.tal').elf, t); }
console.log('corpus', n);
