// The string table of .tal.types, exhaustively on small tables: main's reader (OLD, its sources) against this tree's
// on every table of 1-2 strings of length 0-3 over bytes chosen at the class boundaries (a name start, a digit, the
// characters just outside each class, NUL, 0x7f, 0x80, 0xff), then random tables of 3-5 strings that share prefixes
// (each string a mutation of the one before it), each with the end offsets as given or one moved by ±1 (an empty
// string, a string running into the next, the last string ending short of the string bytes: unterminated).
// The outcome compared is the reader's whole answer: 'ok' or the exception's name and message.
// usage: OLD=tree tsx strexhaust.ts [RANDOM_TABLES]
const OLD = process.env.OLD ?? '/work/main';
import * as BA from '../../../tal/annotations.ts';
const MA: typeof import('../../../tal/annotations.ts') = await import(`${OLD}/tal/annotations.ts`);

// Bytes at the edges of [A-Za-z_.$] and [A-Za-z0-9_.$]: '$' '.' '/' '0' '9' ':' '@' 'A' 'Z' '[' '_' '`' 'a' 'z' '{'.
const EDGE = [0x00, 0x24, 0x2e, 0x2f, 0x30, 0x39, 0x3a, 0x40, 0x41, 0x5a, 0x5b, 0x5f, 0x60, 0x61, 0x7a, 0x7b, 0x7f,
  0x80, 0xff, 0x23, 0x2d];
const SMALL = [0x00, 0x2f, 0x30, 0x5f, 0x61, 0x62, 0x80];

/** A .tal.types section holding only a string table: the strings' bytes, the end offsets given (default: theirs). */
function section(strs: number[][], ends?: number[]): Uint8Array {
  const bytes = strs.flat();
  const e = ends ?? strs.reduce<number[]>((acc, s) => (acc.push((acc.at(-1) ?? 0) + s.length), acc), []);
  type Header = Record<BA.HeaderField, number>;
  const h = Object.fromEntries(BA.HEADER_FIELDS.map(f => [f, 0])) as Header;
  h.version = BA.ANNOTATION_VERSION;
  h.strings = e.length;
  h.stringBytes = bytes.length;
  const { offsets, size } = BA.layout(h);
  const b = new Uint8Array(size);
  for (let i = 0; i < 8; i++) b[i] = BA.ANNOTATION_MAGIC.charCodeAt(i);
  const dv = new DataView(b.buffer);
  BA.HEADER_FIELDS.forEach((f, i) => dv.setUint32(8 + 4 * i, h[f], true));
  e.forEach((x, i) => dv.setUint32(offsets.string + 4 * i, x >>> 0, true));
  b.set(bytes, offsets.bytes);
  return b;
}
const outcome = (f: () => unknown): string => {
  try { f(); return 'ok'; } catch (e) { return `${(e as Error).name}: ${(e as Error).message}`; }
};
let total = 0, diffs = 0, accepted = 0;
const seen = new Map<string, number>();
function compare(strs: number[][], ends?: number[]): void {
  const s = section(strs, ends);
  const a = outcome(() => MA.readAnnotations(s)), b = outcome(() => BA.readAnnotations(s));
  total++;
  const key = a.replace(/\d+/g, 'N');
  seen.set(key, (seen.get(key) ?? 0) + 1);
  if (a === b && !a.includes('string')) accepted++; // past the string table (the rest of the section is empty)
  if (a !== b && diffs++ < 20) console.log('DIFF', JSON.stringify(strs), ends, '\n  main  ', a, '\n  branch', b);
}
function strings(alpha: number[], max: number): number[][] {
  const out: number[][] = [[]];
  for (let len = 1; len <= max; len++) {
    const prev = out.filter(s => s.length === len - 1);
    for (const p of prev) for (const c of alpha) out.push([...p, c]);
  }
  return out;
}
// 1 string, every byte value, lengths 1-2 (the first string has no prefix to share).
for (let x = 0; x < 256; x++) { compare([[x]]); for (let y = 0; y < 256; y += 1) compare([[x, y]]); }
// 2 strings over the edge bytes, lengths 0-3, as given and with the first end moved by ±1.
const two = strings(EDGE, 2).concat(strings(SMALL, 3).filter(s => s.length === 3));
for (const p of two) for (const q of two) {
  compare([p, q]);
  if (p.length > 0) {
    compare([p, q], [p.length - 1, p.length + q.length]);
    compare([p, q], [p.length + 1, p.length + q.length]);
  }
  compare([p, q], [p.length, p.length + q.length - 1]); // the last string one short of the string bytes
}
// 3 strings over a small alphabet, lengths 0-3 (every prefix relation: equal, prefix, shared then bigger/smaller).
const three = strings(SMALL, 2);
for (const p of three) for (const q of three) for (const r of three) compare([p, q, r]);
// Random runs of 3-6 strings, each the one before it changed at one position (long shared prefixes).
let seed = 7;
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) / (1 << 24); };
const ri = (n: number) => Math.floor(rnd() * n);
const N = Number(process.argv[2] ?? 200000);
for (let t = 0; t < N; t++) {
  const n = 3 + ri(4);
  const strs: number[][] = [Array.from({ length: 1 + ri(6) }, () => [0x61, 0x62, 0x5f][ri(3)])];
  for (let i = 1; i < n; i++) {
    const s = [...strs[i - 1]];
    const op = ri(4), pos = ri(s.length + 1);
    const c = ri(3) === 0 ? EDGE[ri(EDGE.length)] : [0x61, 0x62, 0x63, 0x5f][ri(4)];
    if (op === 0) s.splice(pos, 0, c); else if (op === 1) s[Math.min(pos, s.length - 1)] = c;
    else if (op === 2) s.push(c); else s.splice(pos, s.length - pos, c);
    strs.push(s);
  }
  if (ri(4) === 0) { // an invalid byte early in one string, inherited by the next through the shared prefix
    const i = ri(n), s = strs[i];
    s[ri(s.length)] = EDGE[ri(EDGE.length)];
  }
  let ends: number[] | undefined;
  if (ri(5) === 0) {
    ends = strs.reduce<number[]>((acc, s) => (acc.push((acc.at(-1) ?? 0) + s.length), acc), []);
    ends[ri(n)] += [1, -1, 2, -2][ri(4)];
  }
  compare(strs, ends);
}
console.log(`string tables compared: ${total}, past the string table: ${accepted}, differences: ${diffs}`);
for (const [k, v] of [...seen].sort((x, y) => y[1] - x[1]).slice(0, 12)) console.log(`  ${v}\t${k}`);
