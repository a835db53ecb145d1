// Differential for the fourth speed round's decoder (tal/x86/decode.ts reading the code without a cursor, and the
// last LONGEST bytes of the code from a padded copy): OLD's decoder (the sources before the round) against this
// tree's, on what the earlier rounds' sweeps do not reach, each decode of this tree's decodeShared preceded by a
// poisoning one, and its decode compared too (JSON of the objects, key order included):
//  1. the .text of every ELF of the corpus (test/red/speed/corpus.ts, in RS/corpus), decoded at every byte offset
//     (instruction starts or not), and at every instruction start with the code cut 0 to 12 bytes after it (field
//     by field everywhere; the objdump text and decode's JSON too at every offset of the whole .text);
//  2. random byte strings (a third led by an opcode of the subset) at offsets 0-20 of a buffer that ends 0-16 bytes
//     after them, as a plain Uint8Array, a subarray at a non-zero byteOffset and a Node Buffer.
// The exhaustive sweeps of earlier rounds (test/red/speed/decdiff.ts, test/red/speed3/decstruct.ts) run as they are.
// usage: OLD=/tmp/old RS=/tmp/rs npx tsx test/red/speed4/decdiff.ts   (OLD: a tree with the old tal/ sources)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as B from '../../../tal/x86/decode.ts';
import * as BF from '../../../tal/x86/format.ts';
import { readElf, findSection } from '../../../tal/elf.ts';
const OLD = process.env.OLD ?? '/work/main';
const RS = process.env.RS ?? '/tmp/rs';
const M: typeof import('../../../tal/x86/decode.ts') = await import(`${OLD}/tal/x86/decode.ts`);
const MF: typeof import('../../../tal/x86/format.ts') = await import(`${OLD}/tal/x86/format.ts`);

let seed = 4242;
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 16; };
const POISON = [
  [0xc7, 0x84, 0x9d, 0x78, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde], [0xd1, 0xe0],
  [0x69, 0x84, 0x24, 0x10, 0, 0, 0, 0x44, 0x33, 0x22, 0x11], [0x0f, 0x85, 1, 2, 3, 4], [0xa1, 0xaa, 0xbb, 0xcc, 0xdd],
  [0x0f, 0x94, 0xc0], [0xff, 0x2d, 1, 2, 3, 4], [0x0f, 0x0b], [0xc6, 0x05, 1, 2, 3, 4, 0xff], [0x8d, 0xc0],
].map(p => Uint8Array.from(p));
type Decoded = ReturnType<typeof B.decode>;
function norm(o: Record<string, unknown>): unknown {
  if (o.kind === 'imm') return { kind: 'imm', value: o.value, implied: !!o.implied };
  if (o.kind === 'mem') return { kind: 'mem', size: o.size, base: o.base, index: o.index, scale: o.scale, disp: o.disp,
    explicitDisp: o.explicitDisp, moffs: o.moffs };
  return { ...o };
}
function show(d: Decoded, format: (i: Exclude<Decoded, { refused: true }>) => string): string {
  if ('refused' in d) return `R ${d.reason} ${d.text} ${d.length} ${d.address}`;
  const ops = JSON.stringify(d.operands.map(o => norm(o as unknown as Record<string, unknown>)));
  return `I ${d.address} ${d.length} ${d.op} ${d.cc} ${ops} ${format(d)} n=${d.operands.length}`;
}
let n = 0, diffs = 0, refused = 0, full = 0;
const classes = new Map<string, number>();
type Fields = Record<string, unknown>;
const FIELDS = ['kind', 'reg', 'size', 'value', 'base', 'index', 'scale', 'disp', 'explicitDisp', 'moffs', 'target'];
/** The old result and the new shared one, field by field (an immediate's `implied` as a boolean). */
function same(m: Decoded, s: Decoded): boolean {
  if ('refused' in m || 'refused' in s) {
    return 'refused' in m && 'refused' in s && m.reason === s.reason && m.text === s.text && m.length === s.length &&
      m.address === s.address;
  }
  if (m.address !== s.address || m.length !== s.length || m.op !== s.op || m.cc !== s.cc ||
    m.operands.length !== s.operands.length) return false;
  for (let i = 0; i < m.operands.length; i++) {
    const a = m.operands[i] as unknown as Fields, b = s.operands[i] as unknown as Fields;
    for (const k of FIELDS) if (a[k] !== b[k]) return false;
    if (!!a.implied !== !!b.implied) return false;
  }
  return true;
}
/**
 * One decode compared: OLD's decode against this tree's decodeShared (after a poisoning decode), field by field; with
 * `whole` also the objdump text of both and the JSON of this tree's decode (key order included) against OLD's.
 */
function one(code: Uint8Array, off: number, addr: number, what: string, whole = true): Decoded {
  const m = M.decode(code, off, addr);
  B.decodeShared(POISON[rnd() % POISON.length], 0, 0x1000);
  const s = B.decodeShared(code, off, addr);
  let ok = same(m, s);
  if (ok && whole) {
    full++;
    ok = show(m, MF.formatInsn) === show(s, BF.formatInsn) &&
      JSON.stringify(m) === JSON.stringify(B.decode(code, off, addr));
  }
  n++;
  if ('refused' in m) { refused++; classes.set(m.reason, (classes.get(m.reason) ?? 0) + 1); }
  if (!ok) {
    diffs++;
    if (diffs < 30) console.log('DIFF', what, `off ${off} of ${code.length}:`,
      Array.from(code.subarray(off, off + 12), x => x.toString(16)).join(' '), '\n old', show(m, MF.formatInsn),
      '\n new', show(s, BF.formatInsn), '\n old', JSON.stringify(m),
      '\n cpy', JSON.stringify(B.decode(code, off, addr)));
  }
  return m;
}

// 1. The corpus.
const t0 = Date.now();
let files = 0, bytes = 0;
for (const f of readdirSync(join(RS, 'corpus')).sort()) {
  const elf = new Uint8Array(readFileSync(join(RS, 'corpus', f)));
  let text: Uint8Array, textAddr: number;
  try {
    const img = readElf(elf);
    const s = findSection(img, '.text');
    if (!s) continue;
    text = elf.subarray(s.offset, s.offset + s.size);
    textAddr = s.addr;
  } catch { continue; }
  files++;
  bytes += text.length;
  // Every offset, the whole comparison at each.
  for (let off = 0; off < text.length; off++) one(text, off, (textAddr + off) >>> 0, f);
  // Every instruction start, with the code cut 0 to 12 bytes after it.
  for (let off = 0; off < text.length; off += M.decode(text, off, textAddr + off).length) {
    for (let cut = 0; cut <= 12 && off + cut <= text.length; cut++) {
      one(text.subarray(0, off + cut), off, textAddr + off, f, false);
    }
  }
}
console.log(`1. corpus: ${files} ELFs, ${bytes} bytes of .text, ${n} decodes, ${diffs} differences, ` +
  `${(Date.now() - t0) / 1000} s`);

// 2. Random strings at every offset and end, in three kinds of buffer.
const SUBSET = [0x01, 0x03, 0x05, 0x0f, 0x29, 0x31, 0x3b, 0x40, 0x50, 0x5f, 0x68, 0x69, 0x6a, 0x6b, 0x74, 0x81, 0x83,
  0x85, 0x88, 0x89, 0x8a, 0x8b, 0x8d, 0x8f, 0x90, 0x99, 0xa0, 0xa1, 0xa2, 0xa3, 0xa9, 0xb0, 0xb8, 0xc1, 0xc3, 0xc6,
  0xc7, 0xd1, 0xd3, 0xe8, 0xe9, 0xeb, 0xf7, 0xff];
const n1 = n, d1 = diffs, t1 = Date.now();
for (let k = 0; k < 20_000; k++) {
  const s = Array.from({ length: 16 }, () => rnd() & 0xff);
  if (k % 3 === 0) s[0] = SUBSET[rnd() % SUBSET.length];
  if (k % 6 === 0) s[0] = 0x0f, s[1] = [0x84, 0x94, 0xaf, 0xb6, 0xbe][rnd() % 5];
  const lead = rnd() % 21;
  for (let end = 0; end <= 16; end++) {
    const plain = new Uint8Array(lead + end);
    for (let i = 0; i < lead; i++) plain[i] = rnd() & 0xff;
    plain.set(s.slice(0, end), lead);
    const addr = ((rnd() << 16) | rnd()) >>> 0;
    one(plain, lead, addr, 'plain');
    const outer = new Uint8Array(plain.length + 7);
    outer.set(plain, 3);
    one(outer.subarray(3, 3 + plain.length), lead, addr, 'subarray');
    one(Buffer.from(plain), lead, addr, 'Buffer');
  }
}
console.log(`2. random strings: ${n - n1} decodes, ${diffs - d1} differences, ${(Date.now() - t1) / 1000} s`);
const byClass = [...classes].map(([k, v]) => `${k} ${v}`).join(', ');
console.log(`all: ${n} decodes (${full} compared whole; ${refused} refused by the old: ${byClass}),`,
  `${diffs} differences`);
