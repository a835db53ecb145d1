// The negative corpus: every program under test/negative/ must assemble, and the checker must refuse it for the
// reason its header names (the error class), not merely refuse it.
//
// Header lines of each file:
//   # expect: CLASS          the checker's error class (docs/tal.md §9)
//   # why: …                 what the program tries
//   # mutate: …              optional, applied to the assembled ELF (test/util/mutate.ts)
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../tal/asm/assembler.ts';
import { checkElf } from '../tal/check/checker.ts';
import { applyMutation } from './util/mutate.ts';

const dir = join(import.meta.dirname, 'negative');
const files = readdirSync(dir).filter(f => f.endsWith('.tal')).sort();

test('the negative corpus has at least 100 programs', t => {
  t.true(files.length >= 100, `only ${files.length} programs`);
});

for (const f of files) {
  const text = readFileSync(join(dir, f), 'utf8');
  const expect = /^# expect: (\S+)/m.exec(text)?.[1];
  const why = /^# why: (.*)$/m.exec(text)?.[1];
  const mutations = [...text.matchAll(/^# mutate: (.*)$/gm)].map(m => m[1]);
  test(`refuses ${f} [${expect}]: ${why ?? ''}`, t => {
    if (!expect || !why) return t.fail('header needs "# expect: CLASS" and "# why: …"');
    let elf = assemble(text, f).elf;
    for (const m of mutations) elf = applyMutation(elf, m);
    const r = checkElf(elf);
    if (r.ok) return t.fail('accepted');
    t.is(r.error.cls as string, expect, r.error.message);
  });
}
