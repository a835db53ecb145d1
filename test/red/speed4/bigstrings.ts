// The string table of .tal.types with long names (redspeed4): main's reader (OLD, its sources) against this tree's,
// on sections that hold only a string table, of 2-5 names up to 9,000 bytes that share a prefix ending at every
// alignment around the 4-byte words of the comparison, the 8-byte words of the name pass and Strings.get's 4,096-byte
// pieces, differing there by a larger or a smaller byte, or ending there (a proper prefix, either way round), or
// repeated; some with a bad byte at any position, some with an end moved; each section read at byte offset 0-3 of
// a larger buffer. The outcome compared: annotationsText or the error's name and message (an exception that is not
// an AnnotationError counted). usage: OLD=tree npx tsx test/red/speed4/bigstrings.ts [SEED] [TABLES]
import * as BA from '../../../tal/annotations.ts';
const OLD = process.env.OLD ?? '/work/main';
const MA: typeof BA = await import(`${OLD}/tal/annotations.ts`);
let seed = Number(process.argv[2] ?? 3);
const TABLES = Number(process.argv[3] ?? 20000);
const rnd = () => { // mulberry32 (an LCG's sequential draws correlate here)
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const ri = (n: number) => Math.floor(rnd() * n);
const pick = <T>(xs: readonly T[]): T => xs[ri(xs.length)];
const NAMEC = [...'abz_AZ09.$'].map(c => c.charCodeAt(0)), STARTS = [...'abz_AZ.$'].map(c => c.charCodeAt(0));
const BAD = [0, 0x2d, 0x40, 0x20, 0x7f, 0x80, 0xff, 0x2f, 0x3a, 0x60, 0x7b];
let exceptions = 0, diffs = 0, readAlike = 0;
const kinds = new Map<string, number>();
function outcome(A: typeof BA, sec: Uint8Array): string {
  try {
    return A.annotationsText(A.readAnnotations(sec));
  } catch (e) {
    const err = e as Error;
    if (err.name !== 'AnnotationError') exceptions++;
    return `${err.name}: ${err.message}`;
  }
}
function section(strs: number[][], ends: number[], shift: number): Uint8Array {
  const h = Object.fromEntries(BA.HEADER_FIELDS.map(f => [f, 0])) as Record<BA.HeaderField, number>;
  h.version = BA.ANNOTATION_VERSION;
  h.strings = ends.length;
  const bytes = strs.flat();
  h.stringBytes = bytes.length;
  const { offsets: o, size } = BA.layout(h);
  const whole = new Uint8Array(size + shift + ri(3)), out = whole.subarray(shift, shift + size);
  for (let i = 0; i < 8; i++) out[i] = BA.ANNOTATION_MAGIC.charCodeAt(i);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  BA.HEADER_FIELDS.forEach((f, i) => dv.setUint32(8 + 4 * i, h[f], true));
  ends.forEach((x, i) => dv.setUint32(o.string + 4 * i, x >>> 0, true));
  out.set(bytes, o.bytes);
  return out;
}
/** A length near a boundary the new reader cares about. */
const nearLength = () => pick([0, 4, 8, 4096, 8192, 4 * ri(20), 8 * ri(1100), ri(9000)]) + ri(9) - 4;
for (let t = 0; t < TABLES; t++) {
  const len = Math.max(1, nearLength());
  const first = [pick(STARTS)];
  while (first.length < len) first.push(pick(NAMEC));
  const strs = [first];
  for (let i = 1, n = 2 + ri(4); i < n; i++) {
    const prev = strs[i - 1];
    const p = Math.max(0, Math.min(prev.length - (ri(4) === 0 ? 0 : 1), nearLength()));
    const s = prev.slice(0, p);
    const op = ri(6);
    if (op === 0 && p < prev.length) s.push(pick(p === 0 ? STARTS : NAMEC), ...prev.slice(p + 1)); // differs at p
    else if (op === 1) s.push(...prev.slice(p), ...Array.from({ length: 1 + ri(9) }, () => pick(NAMEC))); // longer
    else if (op === 2) { /* a proper prefix of prev (or prev itself, if p is its length) */ }
    else if (op === 3) s.push(...prev.slice(p)); // a repeat
    else s.push(pick(p === 0 ? STARTS : NAMEC), ...Array.from({ length: ri(40) }, () => pick(NAMEC)));
    strs.push(s.length ? s : [pick(NAMEC)]);
  }
  if (ri(4) !== 0) strs.sort((x, y) => {
    for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  });
  // Mostly distinct, so that the later strings and their name checks are reached.
  if (ri(4) !== 0) {
    const text = (x: number[]) => String.fromCharCode(...x.slice(0, 20)) + x.length + x.join();
    for (let i = strs.length - 1; i > 0; i--) if (text(strs[i]) === text(strs[i - 1])) strs.splice(i, 1);
  }
  if (ri(4) === 0) { const s = pick(strs); s[ri(s.length)] = pick(BAD); }
  const ends = strs.reduce<number[]>((acc, s) => (acc.push((acc.at(-1) ?? 0) + s.length), acc), []);
  if (ri(8) === 0) ends[ri(ends.length)] += pick([1, -1, 4, -4, 8, -8]);
  const sec = section(strs, ends, ri(4));
  const a = outcome(MA, sec), b = outcome(BA, sec);
  if (!a.startsWith('AnnotationError')) readAlike++;
  const key = a.startsWith('AnnotationError') ? a.replace(/\d+/g, 'N') : 'read';
  kinds.set(key, (kinds.get(key) ?? 0) + 1);
  if (a !== b && diffs++ < 10) console.log('DIFF', JSON.stringify(strs.map(s => s.length)), ends,
    '\n old', a.slice(0, 200), '\n new', b.slice(0, 200));
}
console.log(`${TABLES} tables, ${readAlike} read, ${diffs} differences, ${exceptions} exceptions other than ` +
  'AnnotationError');
for (const [k, v] of [...kinds].sort((x, y) => y[1] - x[1])) console.log(`  ${v}\t${k.slice(0, 120)}`);
