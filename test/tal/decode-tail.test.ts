// The decoder at the end of the code (tal/x86/decode.ts): the last few bytes are decoded from a copy padded with
// zeros, and an instruction, or a refusal, that needed a byte past the end is refused as truncated, with the bytes
// left as its length. Over the cases of test/util/x86cases.ts (every refused form and a quarter of the subset, as
// GNU as encodes them) and seeded random strings, each followed by other bytes and cut after every length: the
// decode at a cut is either the decode with plenty of bytes to spare or `truncated`, an accepted instruction is
// truncated exactly when the cut is inside it, and once a cut gives the whole decode every longer cut does too. In
// turn in a plain Uint8Array at offsets 0 and 9, in a subarray of a larger buffer, and in a Node Buffer (what the
// checker is given).
import test from 'ava';
import { decode } from '../../tal/x86/decode.ts';
import { type Insn, type Refusal, isRefusal } from '../../tal/x86/insn.ts';
import { haveBinutils, gnuAssembleDetailed } from '../util/binutils.ts';
import { subsetCases, refusedCases } from '../util/x86cases.ts';

const hex = (bytes: ArrayLike<number>) => Array.from(bytes, b => b.toString(16).padStart(2, '0')).join(' ');
const SPARE = 16; // more than any instruction reads

let seed = 99;
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 16; };

/** Every cut of `bytes` (followed by SPARE other bytes), each placed as `place` says; the first few problems. */
function cuts(bytes: number[], place: (code: number[]) => { code: Uint8Array; at: number }): string[] {
  const problems: string[] = [];
  const tail = Array.from({ length: SPARE }, () => rnd() & 0xff);
  const full = [...bytes, ...tail];
  const addr = 0x8048000 + (rnd() & 0xfff);
  const whole = (() => { const p = place(full); return decode(p.code, p.at, addr); })();
  const same = JSON.stringify(whole);
  let reached = false;
  for (let cut = 0; cut <= full.length; cut++) {
    const p = place(full.slice(0, cut));
    const d: Insn | Refusal = decode(p.code, p.at, addr);
    const what = `${hex(bytes)} cut after ${cut}: ${JSON.stringify(d)}; whole: ${same}`;
    if (JSON.stringify(d) === same) reached = true;
    else if (reached) problems.push(`${what}: a longer cut gives something else`);
    else if (!isRefusal(d) || d.reason !== 'truncated' || d.text !== '(truncated)' || d.length !== Math.max(1, cut))
      problems.push(`${what}: neither the whole decode nor truncated with the ${cut} bytes left`);
    if (!isRefusal(whole) && (cut < whole.length) === reached) problems.push(`${what}: accepted ${whole.length} bytes`);
  }
  if (!reached) problems.push(`${hex(bytes)}: no cut gives the whole decode`);
  return problems;
}

const PLACES: [string, (code: number[]) => { code: Uint8Array; at: number }][] = [
  ['at offset 0', code => ({ code: Uint8Array.from(code), at: 0 })],
  ['at offset 9', code => ({ code: Uint8Array.from([...Array(9).fill(0x90), ...code]), at: 9 })],
  ['in a subarray', code => {
    const outer = new Uint8Array(code.length + 12).fill(0x0f);
    outer.set(code, 5);
    return { code: outer.subarray(2, 5 + code.length), at: 3 };
  }],
  ['in a Node Buffer', code => ({ code: Buffer.from([0xc3, ...code]), at: 1 })],
];

test('every cut of every instruction and refused form at the end of the code: the whole decode or truncated', t => {
  if (!haveBinutils()) { t.log('GNU binutils not installed: the GNU-assembled cases are skipped'); }
  const strings: number[][] = [];
  if (haveBinutils()) {
    // Every refused form and every fourth form of the subset (they come in families: one register or immediate
    // after another).
    const cases = [...subsetCases().filter((_, i) => i % 4 === 0), ...refusedCases()];
    strings.push(...gnuAssembleDetailed(cases.map(c => c.text)).bytes);
  }
  // Random strings, a third of them led by an opcode of the subset that has a ModRM (its SIB, displacement and
  // immediate then run into the cut), and hand-made refusals decided after their ModRM: pop and mov with a reg
  // field other than 0, rcl, a far jmp, lea of a register, a redundant SIB, setcc with a reg field.
  for (let k = 0; k < 1200; k++) {
    const s = Array.from({ length: 12 }, () => rnd() & 0xff);
    if (k % 3 === 0) s[0] = [0x69, 0x81, 0xc7, 0x8b, 0x8d, 0xf7, 0xff, 0xc1, 0x6b, 0x88][k % 10];
    strings.push(s);
  }
  strings.push([0x8f, 0xc8], [0xc7, 0x4c, 0x24, 0x08], [0xc1, 0xd0], [0xff, 0x2d, 1, 2, 3, 4], [0x8d, 0xc0],
    [0x8b, 0x04, 0x65, 1, 2, 3, 4], [0x0f, 0x94, 0xc8], [0xcd, 0x80], [0x0f, 0x0b], [0xc4, 0x05]);
  // Each string in one of the places, in turn (all of them in every place takes ten times as long, to no more end:
  // the places differ only in where the code starts and ends).
  let problems: string[] = [], count = 0;
  strings.forEach((s, i) => {
    const [name, place] = PLACES[i % PLACES.length];
    problems = problems.concat(cuts(s, place).map(p => `${name}: ${p}`));
    count++;
  });
  t.deepEqual(problems.slice(0, 20), [], `${problems.length} problems`);
  t.log(`${count} strings, every cut`);
});

test('what the end of the code decides: a refusal made on the bytes that are there, truncated past them', t => {
  const at = (...bytes: number[]) => decode(Uint8Array.from(bytes), 0, 0x1000);
  // rcl is refused on its ModRM, before its count byte would be read (as the decoder always has).
  t.like(at(0xc1, 0xd0), { refused: true, reason: 'unsupported', text: 'rcl', length: 1 });
  // mov DWORD PTR [esp+8] with a reg field of 1 is refused after its SIB and displacement: cut inside them, truncated.
  t.like(at(0xc7, 0x4c, 0x24, 0x08), { refused: true, reason: 'unsupported', text: '(bad)', length: 1 });
  t.like(at(0xc7, 0x4c, 0x24), { refused: true, reason: 'truncated', length: 3 });
  // The longest instruction, whole and one byte short.
  const longest = [0xc7, 0x84, 0x9d, 0x78, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde];
  t.like(at(...longest), { op: 'mov', length: 11 });
  t.like(at(...longest.slice(0, 10)), { refused: true, reason: 'truncated', length: 10 });
  // Past the end of the code: one byte of nothing.
  t.like(decode(Uint8Array.from([0x90]), 1, 0x1001), { refused: true, reason: 'truncated', length: 1 });
});
