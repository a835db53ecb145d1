// The string table of .tal.types (docs/tal.md §5): every string a name ([A-Za-z_.$][A-Za-z0-9_.$]*), strictly after
// the one before it. The reader checks each string's bytes only past the prefix it shares with the string before
// (those bytes were checked there: tal/annotations.ts, readStringEnds); these tests pin that it still refuses exactly
// what the rule refuses, with the same message, against a direct statement of the rule written here.
import test from 'ava';
import fc from 'fast-check';
import { readAnnotations } from '../../tal/annotations.ts';
import { stringsSection } from '../util/string-table.ts';


const bytes = (s: string) => Uint8Array.from(s, c => c.charCodeAt(0));

/** The string table's verdict: the reader's message if it refuses the strings, 'strings read' if it gets past them. */
function verdict(strings: readonly Uint8Array[]): string {
  try {
    readAnnotations(stringsSection(strings));
    return 'strings read';
  } catch (e) {
    const m = (e as Error).message;
    // With no labels, a table of good strings is refused later, for its main label.
    return /string \d+/.test(m) ? m : 'strings read';
  }
}

/** The rule, stated directly: the first string that is not a name or not strictly after the one before it. */
function expected(strings: readonly Uint8Array[]): string {
  const start = (c: number) => /[A-Za-z_.$]/.test(String.fromCharCode(c)) && c < 128;
  const part = (c: number) => /[A-Za-z0-9_.$]/.test(String.fromCharCode(c)) && c < 128;
  for (let i = 0; i < strings.length; i++) {
    const s = strings[i];
    if (!start(s[0]) || !s.every((c, j) => j === 0 || part(c))) return `.tal.types: string ${i} is not a name`;
    if (i > 0) {
      const p = strings[i - 1];
      let k = 0;
      while (k < p.length && k < s.length && p[k] === s[k]) k++;
      const after = k < p.length ? k < s.length && p[k] < s[k] : s.length > p.length;
      if (!after) return `.tal.types: string ${i} is not after string ${i - 1} (the table is sorted and has no repeats)`;
    }
  }
  return 'strings read';
}

const cases: [string, string[]][] = [
  ['sorted names sharing prefixes', ['f1', 'f12_list', 'f12_loop', 'f12_walk', 'f13']],
  ['a bad byte just past the shared prefix', ['f12_loop', 'f12_loop!']],
  ['a bad byte after a longer shared prefix', ['f12_loop', 'f12_lop-x']],
  ['a bad first byte, nothing shared', ['ab', '9b']],
  ['a bad byte where the strings part', ['ab', 'a-']],
  ['a proper prefix after the longer string', ['abc', 'ab']],
  ['a repeat', ['f1_loop', 'f1_loop']],
  ['a byte above 127 past the prefix', ['name', 'name\x80']],
  ['a bad byte in the first string', ['a b', 'b']],
  ['a string that sorts before the one before', ['f2', 'f10']],
];
for (const [what, names] of cases) {
  test(`string table: ${what}`, t => {
    const strings = names.map(bytes);
    t.is(verdict(strings), expected(strings));
  });
}

test('string table: refused exactly as the rule says, on random tables of near-sorted names with bad bytes', t => {
  const alphabet = 'ab_0.$-! \x7f\x80';
  const name = fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 6 }).map(cs => cs.join(''));
  fc.assert(fc.property(fc.array(name, { minLength: 1, maxLength: 12 }), fc.boolean(), (names, sortFirst) => {
    // Sorted (mostly good tables, whose later strings share prefixes) or as drawn (mostly refused ones).
    const list = sortFirst ? [...new Set(names)].sort() : names;
    const strings = list.map(bytes);
    return verdict(strings) === expected(strings);
  }), { numRuns: 3000 });
  t.pass();
});
