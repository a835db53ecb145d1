// Differential over structured byte strings: every case of test/util/x86cases.ts (the subset, the refused forms,
// a seeded random portion), assembled by GNU as, decoded by the old decoder (OLD's decode) and the branch's
// (decode, and decodeShared after a poisoning decode): as is, behind every prefix, truncated at every length, with
// random tails, and with its ModRM/SIB bytes swept. Every difference in verdict, class, text, length or operands is
// printed. usage: OLD=/work/wt-old3 npx tsx test/red/speed3/decstruct.ts
const OLD = process.env.OLD ?? '/work/main';
const M: typeof import('../../../tal/x86/decode.ts') = await import(`${OLD}/tal/x86/decode.ts`);
const MF: typeof import('../../../tal/x86/format.ts') = await import(`${OLD}/tal/x86/format.ts`);
import * as B from '../../../tal/x86/decode.ts';
import * as BF from '../../../tal/x86/format.ts';
import { subsetCases, refusedCases, randomCases } from '../../util/x86cases.ts';
import { gnuAssembleDetailed } from '../../util/binutils.ts';

let seed = 777;
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 16; };
const POISON = [
  [0xc7, 0x84, 0x9d, 0x78, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde], [0xd1, 0xe0],
  [0x69, 0x84, 0x24, 0x10, 0, 0, 0, 0x44, 0x33, 0x22, 0x11], [0x0f, 0x85, 1, 2, 3, 4], [0xa1, 0xaa, 0xbb, 0xcc, 0xdd],
  [0x0f, 0x94, 0xc0], [0xff, 0x2d, 1, 2, 3, 4], [0x0f, 0x0b],
].map(p => Uint8Array.from(p));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const norm = (o: any) => o.kind === 'imm' ? { kind: 'imm', value: o.value, implied: !!o.implied }
  : o.kind === 'mem' ? { kind: 'mem', size: o.size, base: o.base, index: o.index, scale: o.scale, disp: o.disp,
    explicitDisp: o.explicitDisp, moffs: o.moffs }
  : { ...o };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function show(d: any, F: any): string {
  if ('refused' in d) return `R ${d.reason} ${d.text} ${d.length} ${d.address}`;
  const ops = JSON.stringify(d.operands.map(norm));
  return `I ${d.address} ${d.length} ${d.op} ${d.cc} ${ops} ${F.formatInsn(d)} n=${d.operands.length}`;
}
let n = 0, diffs = 0, refused = 0;
const classes = new Map<string, number>();
function one(bytes: ArrayLike<number>, what: string) {
  const code = Uint8Array.from(bytes);
  const addr = ((rnd() << 16) | rnd()) >>> 0;
  const m = M.decode(code, 0, addr);
  B.decodeShared(POISON[rnd() % POISON.length], 0, 0x1000);
  const s = B.decodeShared(code, 0, addr);
  const c = B.decode(code, 0, addr);
  const a = show(m, MF), b = show(s, BF), e1 = JSON.stringify(m), e2 = JSON.stringify(c);
  n++;
  if ('refused' in m) { refused++; classes.set(m.reason, (classes.get(m.reason) ?? 0) + 1); }
  if (a !== b || e1 !== e2) {
    diffs++;
    if (diffs < 30) console.log('DIFF', what, Array.from(code, x => x.toString(16)).join(' '), '\n old', a, '\n new',
      b, '\n old', e1, '\n cpy', e2);
  }
}
const PREFIXES = [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x0f, 0xc4, 0xc5, 0x62, 0x8f];
const cases = [...subsetCases(), ...refusedCases(), ...randomCases(3000, 99)];
const asm = gnuAssembleDetailed(cases.map(c => c.text));
const t0 = Date.now();
asm.bytes.forEach((bytes, i) => {
  const what = cases[i].text;
  one(bytes, what);
  for (const p of PREFIXES) one([p, ...bytes], `${p.toString(16)} ${what}`);
  for (let l = 0; l < bytes.length; l++) one(bytes.slice(0, l), `cut${l} ${what}`);
  for (let k = 0; k < 3; k++) one([...bytes, ...Array.from({ length: 8 }, () => rnd() & 0xff)], `tail ${what}`);
  // The byte after the opcode (ModRM, or 0F's second byte) and the one after it (SIB) swept.
  const at = bytes[0] === 0x0f ? 2 : 1;
  if (bytes.length > at) for (let v = 0; v < 256; v += 1 + (rnd() & 7)) {
    const b2 = bytes.slice(); b2[at] = v; one([...b2, 0, 0, 0, 0, 0, 0], `modrm=${v} ${what}`);
    if (bytes.length > at + 1) { const b3 = b2.slice(); b3[at + 1] = rnd() & 0xff; one([...b3, 0, 0, 0, 0, 0, 0],
      `sib ${what}`); }
  }
});
const byClass = [...classes].map(([k, v]) => `${k} ${v}`).join(', ');
console.log(`${cases.length} cases, ${n} decodes (${refused} refused by the old: ${byClass}), ${diffs} differences,`,
  `${(Date.now() - t0) / 1000} s`);
