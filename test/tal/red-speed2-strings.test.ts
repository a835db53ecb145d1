// Red team of the string table's prefix-skipping reader (tal/annotations.ts, readStringEnds; docs/tal.md §5): the
// cases string-table.test.ts leaves out, with the messages written out by hand from the rule rather than computed —
// end offsets that make an empty string, a string cut short or the last string end before the string bytes do
// (an unterminated table), a NUL at the boundary of the shared prefix, and a string that is both out of order and
// not a name past the shared prefix (the name is reported first, as main's reader did).
import test from 'ava';
import { readAnnotations } from '../../tal/annotations.ts';
import { stringTableSection } from '../util/string-table.ts';

/** The reader's message, or 'strings read' when it gets past the strings (it then refuses the missing main label). */
function verdict(text: string, ends: readonly number[]): string {
  try {
    readAnnotations(stringTableSection(text, ends));
    return 'accepted';
  } catch (e) {
    const m = (e as Error).message;
    return /string/.test(m) ? m : 'strings read';
  }
}

const cases: [string, string, number[], string][] = [
  ['an empty string after a name', 'ab', [2, 2], 'string 1: end 2 is not after 2 and within 2'],
  ['an empty first string', 'ab', [0, 2], 'string 0: end 0 is not after 0 and within 2'],
  ['the last string unterminated (ends short of the bytes)', 'abbx', [2, 3],
    'the strings end at 3, not at the end of the string bytes (4)'],
  ['an end past the string bytes', 'abac', [2, 5], 'string 1: end 5 is not after 2 and within 4'],
  ['a name that is a prefix of the next', 'abab_', [2, 5], 'strings read'],
  ['a NUL where the shared prefix ends', 'abab\x00', [2, 5], 'string 1 is not a name'],
  ['a NUL inside the first string, then a name sharing the byte before it', 'a\x00a', [2, 3],
    'string 0 is not a name'],
  ['out of order past the prefix and not a name: the name is reported', 'abzab-', [3, 6], 'string 1 is not a name'],
  ['out of order past the prefix only', 'abzaby', [3, 6],
    'string 1 is not after string 0 (the table is sorted and has no repeats)'],
  ['a digit where the shared prefix ends (a name part)', 'abab9', [2, 5], 'strings read'],
  ['a first string of one digit', '9', [1], 'string 0 is not a name'],
  ['a third string sharing the first byte of a bad-start second', 'a9a', [1, 2, 3], 'string 1 is not a name'],
];
for (const [what, text, ends, want] of cases) {
  test(`string table (red speed2): ${what}`, t => {
    const got = verdict(text, ends);
    t.is(got === 'strings read' ? got : got.replace(/^\.tal\.types: /, ''), want);
  });
}
