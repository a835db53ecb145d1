// The negative corpus: every program under test/negative/ must assemble, and the checker must refuse it for the
// reason its header names (the error class), not merely refuse it.
//
// Header lines of each file:
//   # expect: CLASS          the checker's error class (docs/tal.md §9)
//   # why: …                 what the program tries
//   # mutate: …              optional, applied to the assembled ELF (test/util/mutate.ts)
//
// Each program also says where its flaw is, so that the test can check that the flaw is the only reason for the
// refusal: the repaired program must verify.
//   INSN # flaw              this line is the flaw: the repaired program leaves it out
//   INSN # flaw: TEXT        the repaired program has TEXT instead
//   # fix: TEXT              (indented) a line only the repaired program has
// Mutations still apply to a repaired program that has such markers. A program without markers must have
// mutations: its flaw is the mutation, and the unmutated program must verify.
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { applyMutation } from '../util/mutate.ts';

const dir = join(import.meta.dirname, '..', 'negative');
const files = readdirSync(dir).filter(f => f.endsWith('.tal')).sort();

test('the negative corpus has at least 100 programs', t => {
  t.true(files.length >= 100, `only ${files.length} programs`);
});

/** The program with its flaw repaired, or undefined if it has no markers. */
function repaired(text: string): string | undefined {
  let marked = false;
  const lines = text.split('\n').flatMap(line => {
    const fix = /^\s+# fix: (.*)$/.exec(line);
    if (fix) {
      marked = true;
      return [fix[1]];
    }
    const flaw = /^(?!#).*?#\s*flaw(?::\s*(.*))?$/.exec(line);
    if (!flaw) return [line];
    marked = true;
    return flaw[1] !== undefined ? [flaw[1]] : [];
  });
  return marked ? lines.join('\n') : undefined;
}

function build(text: string, file: string, mutations: readonly string[]): Uint8Array {
  let elf = assemble(text, file).elf;
  for (const m of mutations) elf = applyMutation(elf, m);
  return elf;
}

for (const f of files) {
  const text = readFileSync(join(dir, f), 'utf8');
  const expect = /^# expect: (\S+)/m.exec(text)?.[1];
  const why = /^# why: (.*)$/m.exec(text)?.[1];
  const mutations = [...text.matchAll(/^# mutate: (.*)$/gm)].map(m => m[1]);
  test(`refuses ${f} [${expect}]: ${why ?? ''}`, t => {
    if (!expect || !why) return t.fail('header needs "# expect: CLASS" and "# why: …"');
    const r = checkElf(build(text, f, mutations));
    if (r.ok) return t.fail('accepted');
    t.is(r.error.cls as string, expect, r.error.message);
    const fixed = repaired(text);
    if (fixed === undefined && mutations.length === 0)
      return t.fail('no "# flaw" or "# fix:" marker and no mutation: where is the flaw?');
    const r2 = checkElf(build(fixed ?? text, f, fixed === undefined ? [] : mutations));
    t.true(r2.ok, r2.ok ? '' : `the repaired program is refused too: [${r2.error.cls}] ${r2.error.message}`);
  });
}
