// The .tal.types reader of the fourth speed round (tal/annotations.ts: the string table checked eight bytes at a time
// and compared four, the labels read by readLabels, names read in place) against main's reader (OLD, its sources),
// run by hand: the outcome compared is the reader's whole answer, annotationsText of what it read plus the code
// labels' scopes, or the exception's name and message; any exception that is not an AnnotationError is counted too.
//   1. every .tal.types section of the corpus (RS/corpus, test/red/speed/corpus.ts: every .tal, every .pop at -O0
//      and -O2, bench's program at 50 and 500 functions) and bench's program at 20,000 functions (BIG=0 skips it);
//   2. mutants of each: bytes set or flipped anywhere, words of the tables set to edge values, header counts changed
//      (alone, and with the table grown or shrunk to match), the string table rewritten (two strings swapped, one
//      repeated, one made the next one's prefix, a character put at any position of one, the table cut), the
//      section truncated;
//   3. random string tables of longer names (0-24 bytes, sharing long prefixes, so the four-byte comparison and
//      the eight-byte name check meet every alignment), with a bad byte or a moved end offset in some.
// usage: OLD=tree RS=dir [BIG=0] [KINDS=n] tsx test/red/speed4/anndiff.ts [SEED] [MUTANTS_PER_FILE] [RANDOM_TABLES]
const OLD = process.env.OLD ?? '/work/main';
const RS = process.env.RS ?? '/tmp/rs';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as BA from '../../../tal/annotations.ts';
import { findSection, readElf } from '../../../tal/elf.ts';
import { assemble } from '../../../tal/asm/assembler.ts';
import { generateProgram } from '../../../bench/gen.ts';
const MA: typeof import('../../../tal/annotations.ts') = await import(`${OLD}/tal/annotations.ts`);

let seed = Number(process.argv[2] ?? 1);
const PER = Number(process.argv[3] ?? 40);
const RANDOM_TABLES = Number(process.argv[4] ?? 200000);
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) / (1 << 24); };
const ri = (n: number) => Math.floor(rnd() * n);
const pick = <T>(xs: readonly T[]): T => xs[ri(xs.length)];

type Reader = typeof BA;
function outcome(A: Reader, sec: Uint8Array): string {
  try {
    const a = A.readAnnotations(sec);
    return `${A.annotationsText(a)}scopes ${a.codeScopes.join(',')} main ${a.mainIndex}`;
  } catch (e) {
    const err = e as Error;
    if (err.name !== 'AnnotationError') exceptions++;
    return `${err.name}: ${err.message}`;
  }
}
let total = 0, diffs = 0, exceptions = 0, accepted = 0;
const kinds = new Map<string, number>();
function compare(sec: Uint8Array, what: string): void {
  const a = outcome(MA, sec), b = outcome(BA, sec);
  total++;
  if (!a.startsWith('AnnotationError')) accepted++;
  const key = a.startsWith('AnnotationError') ? a.replace(/0x[0-9a-f]+|\d+|'[^']*'/g, 'N') : 'read';
  kinds.set(key, (kinds.get(key) ?? 0) + 1);
  if (a !== b && diffs++ < 20) console.log('DIFF', what, '\n  main  ', a.slice(0, 300), '\n  branch', b.slice(0, 300));
}

// ---- the section's parts ----
type Header = Record<BA.HeaderField, number>;
function header(sec: Uint8Array): Header {
  const dv = new DataView(sec.buffer, sec.byteOffset, sec.byteLength);
  return Object.fromEntries(BA.HEADER_FIELDS.map((f, i) => [f, dv.getUint32(8 + 4 * i, true)])) as Header;
}
function setHeader(sec: Uint8Array, f: BA.HeaderField, v: number): void {
  const dv = new DataView(sec.buffer, sec.byteOffset, sec.byteLength);
  dv.setUint32(8 + 4 * BA.HEADER_FIELDS.indexOf(f), v >>> 0, true);
}
/** The strings of a well-formed section, as byte arrays. */
function strings(sec: Uint8Array, h: Header): number[][] {
  const { offsets } = BA.layout(h);
  const dv = new DataView(sec.buffer, sec.byteOffset, sec.byteLength);
  const out: number[][] = [];
  for (let i = 0, from = 0; i < h.strings; i++) {
    const end = dv.getUint32(offsets.string + 4 * i, true);
    out.push([...sec.subarray(offsets.bytes + from, offsets.bytes + end)]);
    from = end;
  }
  return out;
}
/** The section with its string table replaced (the ends given, or the strings' own). */
function withStrings(sec: Uint8Array, h: Header, strs: number[][], ends?: number[]): Uint8Array {
  const { offsets } = BA.layout(h);
  const e = ends ?? strs.reduce<number[]>((acc, s) => (acc.push((acc.at(-1) ?? 0) + s.length), acc), []);
  const bytes = strs.flat();
  const h2 = { ...h, strings: e.length, stringBytes: bytes.length };
  const { offsets: o2, size } = BA.layout(h2);
  const out = new Uint8Array(size);
  out.set(sec.subarray(0, offsets.string));
  const dv = new DataView(out.buffer);
  e.forEach((x, i) => dv.setUint32(o2.string + 4 * i, x >>> 0, true));
  out.set(sec.subarray(offsets.string + 4 * h.strings, offsets.bytes), o2.string + 4 * e.length);
  out.set(bytes, o2.bytes);
  for (const f of ['strings', 'stringBytes'] as const) setHeader(out, f, h2[f]);
  return out;
}
/** The section with `delta` records added at the end of a table (copies of its last, or zeros) or removed. */
function resized(sec: Uint8Array, h: Header, table: (typeof BA.TABLES)[number], delta: number): Uint8Array {
  const { offsets } = BA.layout(h);
  const end = offsets[table.name] + 4 * table.words * h[table.count], rec = 4 * table.words;
  let out: Uint8Array;
  if (delta < 0) {
    const cut = Math.min(-delta, h[table.count]) * rec;
    out = new Uint8Array(sec.length - cut);
    out.set(sec.subarray(0, end - cut));
    out.set(sec.subarray(end), end - cut);
  } else {
    out = new Uint8Array(sec.length + delta * rec);
    out.set(sec.subarray(0, end));
    for (let k = 0; k < delta; k++) {
      if (h[table.count] > 0 && ri(2)) out.set(sec.subarray(end - rec, end), end + k * rec);
    }
    out.set(sec.subarray(end), end + delta * rec);
  }
  setHeader(out, table.count, Math.max(0, h[table.count] + delta));
  return out;
}

const CHARS = [...'az_AZ09.$-@ '].map(c => c.charCodeAt(0)).concat([0, 0x7f, 0x80, 0xff, 0x2f, 0x3a, 0x60, 0x7b]);
const EDGE_WORDS = (old: number) =>
  [old + 1, old - 1, 0, 0xffffffff, 0x7fffffff, old ^ (1 << ri(32)), ri(64), old + 2 ** 31];

function mutant(sec: Uint8Array): { m: Uint8Array; what: string } {
  const h = header(sec);
  const { offsets } = BA.layout(h);
  const kind = ri(10);
  if (kind === 9 && h.code + h.data > 0) { // a label's record: its address, name or type set to another's, or past
    const m = Uint8Array.from(sec), dv = new DataView(m.buffer);
    const t = ri(h.code + h.data) < h.code ? 'code' : 'data', count = t === 'code' ? h.code : h.data;
    if (count === 0) return { m, what: 'none' };
    const k = ri(count), rec = offsets[t] + 12 * k, other = offsets[t] + 12 * ri(count), f = ri(3);
    const edges = [dv.getUint32(other + 4 * f, true), [0, h.strings, h.nodes][f], [1, h.strings - 1, h.nodes - 1][f],
      dv.getUint32(rec + 4 * f, true) + pick([1, -1]), ri([1, h.strings, h.nodes][f])];
    dv.setUint32(rec + 4 * f, pick(edges) >>> 0, true); // (or any string, or any node: a variable, a stack type)
    return { m, what: `${t} label ${k} field ${f}` };
  }
  if (kind === 0) { // bytes set or flipped anywhere
    const m = Uint8Array.from(sec);
    for (let j = 1 + ri(3); j > 0; j--) { const p = ri(m.length); m[p] = ri(2) ? m[p] ^ (1 << ri(8)) : pick(CHARS); }
    return { m, what: 'bytes' };
  }
  if (kind === 1) { // a word of the tables set to an edge value
    const m = Uint8Array.from(sec), dv = new DataView(m.buffer);
    const w = 8 + 4 * ri((offsets.bytes - 8) >> 2);
    dv.setUint32(w, EDGE_WORDS(dv.getUint32(w, true))[ri(8)] >>> 0, true);
    return { m, what: `word ${w}` };
  }
  if (kind === 2) { // a header count changed alone (the size no longer matches) or with its table
    const t = pick(BA.TABLES), d = pick([1, -1, 2, -2, 5]);
    if (ri(3) === 0) {
      const m = Uint8Array.from(sec);
      setHeader(m, t.count, h[t.count] + d);
      return { m, what: `count ${t.count}` };
    }
    return { m: resized(sec, h, t, d), what: `resized ${t.name} ${d}` };
  }
  if (kind === 3) return { m: sec.slice(0, ri(sec.length)), what: 'truncated' };
  // The string table rewritten.
  const strs = strings(sec, h);
  if (strs.length === 0) return { m: Uint8Array.from(sec), what: 'none' };
  const i = ri(strs.length), j = Math.min(strs.length - 1, i + 1);
  if (kind === 4) {
    [strs[i], strs[j]] = [strs[j], strs[i]];
    return { m: withStrings(sec, h, strs), what: `swap ${i}` };
  }
  if (kind === 5) { strs[j] = [...strs[i]]; return { m: withStrings(sec, h, strs), what: `repeat ${i}` }; }
  if (kind === 6) { // string i a prefix of string j, or j a prefix of i
    if (ri(2)) strs[i] = strs[j].slice(0, ri(strs[j].length + 1));
    else strs[j] = strs[i].slice(0, ri(strs[i].length + 1));
    return { m: withStrings(sec, h, strs), what: `prefix ${i}` };
  }
  if (kind === 7) { // a character of any class at any position of a string (replacing or inserted)
    const s = strs[i], p = ri(s.length + 1);
    if (ri(2) && p < s.length) s[p] = pick(CHARS); else s.splice(p, 0, pick(CHARS));
    return { m: withStrings(sec, h, strs), what: `char ${i}@${p}` };
  }
  // The table cut: its last strings dropped (labels then name strings past it), or an end moved.
  if (ri(2)) return { m: withStrings(sec, h, strs.slice(0, i)), what: `cut ${i}` };
  const ends = strs.reduce<number[]>((acc, s) => (acc.push((acc.at(-1) ?? 0) + s.length), acc), []);
  ends[i] += pick([1, -1, 4, -4, 8, -8]);
  return { m: withStrings(sec, h, strs, ends), what: `end ${i}` };
}

// ---- 1 and 2: the corpus's sections and their mutants ----
const sections: { name: string; sec: Uint8Array }[] = [];
const files = readdirSync(join(RS, 'corpus')).filter(f => f.endsWith('.elf')).sort();
for (const f of files) {
  const elf = new Uint8Array(readFileSync(join(RS, 'corpus', f)));
  let s;
  try { s = findSection(readElf(elf), '.tal.types'); } catch { continue; } // (the corpus's own mutants: no ELF)
  if (s) sections.push({ name: f, sec: elf.slice(s.offset, s.offset + s.size) });
}
if (process.env.BIG !== '0') {
  const elf = assemble(generateProgram(20_000), 'gen.tal').elf;
  const s = findSection(readElf(elf), '.tal.types')!;
  sections.push({ name: 'gen20000', sec: elf.slice(s.offset, s.offset + s.size) });
}
let corpusRead = 0;
for (const { name, sec } of sections) {
  compare(sec, name);
  corpusRead++;
  const well = !outcome(MA, sec).startsWith('AnnotationError');
  const per = name === 'gen20000' ? Math.min(PER, 30) : PER;
  for (let k = 0; well && k < per; k++) {
    const { m, what } = mutant(sec);
    compare(m, `${name} ${what}`);
  }
}
console.log(`sections: ${corpusRead} (the corpus's .tal.types, bench's 20,000 functions); with mutants: ${total}`);

// ---- 3: random string tables of longer names ----
function onlyStrings(strs: number[][], ends?: number[]): Uint8Array {
  const h = Object.fromEntries(BA.HEADER_FIELDS.map(f => [f, 0])) as Header;
  h.version = BA.ANNOTATION_VERSION;
  const base = new Uint8Array(BA.HEADER_BYTES);
  for (let i = 0; i < 8; i++) base[i] = BA.ANNOTATION_MAGIC.charCodeAt(i);
  setHeader(base, 'version', h.version);
  return withStrings(base, h, strs, ends);
}
const NAMEC = [...'abcz_AZ09.$'].map(c => c.charCodeAt(0));
const before = total;
for (let t = 0; t < RANDOM_TABLES; t++) {
  const n = 2 + ri(6);
  const strs: number[][] = [Array.from({ length: 1 + ri(20) }, () => pick(NAMEC.slice(0, 5)))];
  for (let i = 1; i < n; i++) {
    const s = [...strs[i - 1]], pos = ri(s.length + 1), c = pick(NAMEC), op = ri(5);
    if (op === 0) s.splice(pos, 0, c); else if (op === 1) s[Math.min(pos, s.length - 1)] = c;
    else if (op === 2) s.push(...Array.from({ length: 1 + ri(8) }, () => pick(NAMEC)));
    else if (op === 3) s.splice(pos, s.length - pos, c); else s.splice(pos, 1);
    strs.push(s.length > 24 ? s.slice(0, 24) : s);
  }
  // Mostly sorted (byte order) and distinct, so that the name checks and the later strings are reached.
  if (ri(3) !== 0) {
    strs.sort((x, y) => {
      for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
      return x.length - y.length;
    });
    const text = (s: number[]) => String.fromCharCode(...s);
    for (let i = strs.length - 1; i > 0; i--) if (text(strs[i]) === text(strs[i - 1])) strs.splice(i, 1);
  }
  const bad = strs[ri(strs.length)];
  if (ri(3) === 0 && bad.length) bad[ri(bad.length)] = pick(CHARS); // a bad byte, maybe
  let ends: number[] | undefined;
  if (ri(6) === 0) {
    ends = strs.reduce<number[]>((acc, s) => (acc.push((acc.at(-1) ?? 0) + s.length), acc), []);
    ends[ri(ends.length)] += pick([1, -1, 3, -3]);
  }
  compare(onlyStrings(strs, ends), `random ${JSON.stringify(strs.map(s => String.fromCharCode(...s)))} ${ends}`);
}
console.log(`random string tables: ${total - before}`);
console.log(`compared: ${total}, read alike: ${accepted}, differences: ${diffs}, ` +
  `exceptions other than AnnotationError: ${exceptions}`);
const shown = [...kinds].sort((x, y) => y[1] - x[1]).slice(0, Number(process.env.KINDS ?? 25)); // KINDS=500: all
for (const [k, v] of shown) console.log(`  ${v}\t${k.slice(0, 150)}`);
