// The programs of programs.ts through the old checker (OLD's sources) and this tree's: the whole result compared,
// and each verdict against what the program expects. usage: OLD=/work/wt-old3 npx tsx test/red/speed3/targeted.ts
const OLD = process.env.OLD ?? '/work/main';
import { assemble } from '../../../tal/asm/assembler.ts';
import * as BC from '../../../tal/check/checker.ts';
import { PROGRAMS } from './programs.ts';
const MC: typeof import('../../../tal/check/checker.ts') = await import(`${OLD}/tal/check/checker.ts`);
const show = (r: BC.CheckResult) => JSON.stringify(r.ok ? { ok: true, work: r.work } : { e: r.error, work: r.work });
let diffs = 0, wrong = 0;
for (const p of PROGRAMS) {
  let elf: Uint8Array;
  try { elf = assemble(p.src, 'p.tal').elf; } catch (e) { console.log('ASM',
    p.name, (e as Error).message); wrong++; continue; }
  const a = MC.checkElf(elf), b = BC.checkElf(elf);
  const got = b.ok ? 'ok' : b.error.cls;
  if (show(a) !== show(b)) { diffs++; console.log('DIFF', p.name, '\n  old', show(a), '\n  new', show(b)); }
  if (got !== p.expect) { wrong++; console.log('EXPECT', p.name, p.expect, 'got', got, b.ok ? '' : b.error.message); }
  else console.log('held', p.name, '→', got, b.ok ? '' : `(${b.error.message.slice(0, 100)})`);
}
console.log(`${PROGRAMS.length} programs, ${diffs} differences, ${wrong} not as expected`);
