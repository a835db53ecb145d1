// The string table read by words (tal/annotations.ts, readStringEnds and allNameParts; docs/tal.md §5): every byte
// checked as a name character eight at a time in one pass before the strings are walked, and adjacent strings
// compared four bytes at a time as big-endian words. The cases are the ones those shortcuts could get wrong, with
// the messages written out by hand from the rule: a bad byte at every position of a long name (each lane of the
// eight-byte check, and the tail past the last whole eight), a difference in each byte of the compared words (a word
// compared in the wrong byte order would let a later byte decide), a prefix ending on a word boundary, and a bad
// byte in a later string while an earlier one is out of order (the earlier string's failure is still the one told).
import test from 'ava';
import { readAnnotations } from '../../tal/annotations.ts';
import { stringsSection } from '../util/string-table.ts';

/** The reader's message about the strings, or 'strings read' when it gets past them (to the missing main label). */
function verdict(strings: readonly string[]): string {
  try {
    readAnnotations(stringsSection(strings));
    return 'accepted';
  } catch (e) {
    const m = (e as Error).message.replace(/^\.tal\.types: /, '');
    return /string/.test(m) ? m : 'strings read';
  }
}
const NOT_AFTER = (i: number) => `string ${i} is not after string ${i - 1} (the table is sorted and has no repeats)`;

const LONG = 'abcdefghijklmnopqrstuvwxyz_0123'; // 31 bytes: three whole eights and a tail of seven
test('a long name is read', t => t.is(verdict([LONG]), 'strings read'));
for (const bad of ['-', '\x00', '\x80', '\xff', '/', '`']) {
  test(`a ${JSON.stringify(bad)} at every position of a 31-byte name, alone and after a name, is refused`, t => {
    for (let p = 0; p < LONG.length; p++) {
      const s = LONG.slice(0, p) + bad + LONG.slice(p + 1);
      t.is(verdict([s]), 'string 0 is not a name', `at ${p}`);
      // After a 3-byte name 'aaa', so the eight-byte lanes fall elsewhere in the string.
      t.is(verdict(['aaa', s]), 'string 1 is not a name', `at ${p} after 'aaa'`);
    }
  });
}
test('a digit is refused only as a first byte', t => {
  t.is(verdict(['9abcdefghij']), 'string 0 is not a name');
  t.is(verdict(['abcdefghij9']), 'strings read');
});

test('adjacent strings are ordered by their first differing byte, whichever byte of a word it is', t => {
  // The first two words of 'bcdefghi': a difference at byte j, the bytes after it made to disagree the other way.
  const base = 'bcdefghijk';
  for (let j = 0; j < 9; j++) {
    const up = base.slice(0, j) + String.fromCharCode(base.charCodeAt(j) + 1) + 'a'.repeat(base.length - j - 1);
    const down = base.slice(0, j) + String.fromCharCode(base.charCodeAt(j) - 1) + 'z'.repeat(base.length - j - 1);
    t.is(verdict([base, up]), 'strings read', `${base} < ${up}`);
    t.is(verdict([base, down]), NOT_AFTER(1), `${base} > ${down}`);
  }
});
test('a proper prefix comes first, at a word boundary and past it; a repeat is refused', t => {
  t.is(verdict(['abcd', 'abcde']), 'strings read');
  t.is(verdict(['abcdefgh', 'abcdefgh_']), 'strings read');
  t.is(verdict(['abcdefgh_', 'abcdefgh']), NOT_AFTER(1));
  t.is(verdict(['abcdefgh', 'abcdefgh']), NOT_AFTER(1));
  t.is(verdict(['abc', 'abcdefgh', 'abcdefgi', 'abcdefgi']), NOT_AFTER(3));
});
test('the first failing string is told, whatever later strings hold', t => {
  // String 1 out of order, string 2 with a bad byte past the first eight: the order of string 1 is reported.
  t.is(verdict(['abcdefghij', 'abcdefgha', 'abcdefghijklm-']), NOT_AFTER(1));
  // String 1 both out of order and not a name: its name is reported (as before).
  t.is(verdict(['abcdefghij', 'abcdefgha-']), 'string 1 is not a name');
  // A bad byte in string 0 past a good string 1's order: string 0's.
  t.is(verdict(['abcdefgh-', 'b']), 'string 0 is not a name');
});
