// Differential: main's decode vs the branch's decodeShared (after a poisoning decode) and decode.
const OLD = process.env.OLD ?? '/work/main'; // the tree of the old checker (its sources)
const RS = process.env.RS ?? '/tmp/rs'; // the corpus and the differences found
const M: typeof import('../../../tal/x86/decode.ts') = await import(`${OLD}/tal/x86/decode.ts`);
import * as B from '../../../tal/x86/decode.ts';
const MF: typeof import('../../../tal/x86/format.ts') = await import(`${OLD}/tal/x86/format.ts`);
import * as BF from '../../../tal/x86/format.ts';

let seed = 12345;
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 16; };
const POISON: number[][] = [
  [0xc7, 0x84, 0x9d, 0x78, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde], // mov DWORD PTR [ebp+ebx*4+0x12345678],0xdeadbeef
  [0xd1, 0xe0], // shl eax,1 (implied)
  [0x69, 0x84, 0x24, 0x10, 0, 0, 0, 0x44, 0x33, 0x22, 0x11], // imul eax,[esp+0x10],imm32
  [0x0f, 0x85, 1, 2, 3, 4], // jne rel32
  [0xa1, 0xaa, 0xbb, 0xcc, 0xdd], // mov eax, moffs
  [0xc6, 0x05, 1, 2, 3, 4, 0xff], // mov byte [abs], imm8
];
const norm = (o: any) => o.kind === 'imm' ? { kind: 'imm', value: o.value, implied: !!o.implied } : o.kind === 'mem'
  ? { kind: 'mem', size: o.size, base: o.base, index: o.index, scale: o.scale, disp: o.disp,
  explicitDisp: o.explicitDisp, moffs: o.moffs } : { ...o };
function show(d: any, F: any): string {
  if ('refused' in d) return `R ${d.reason} ${d.text} ${d.length} ${d.address}`;
  return `I ${d.address} ${d.length} ${d.op} ${d.cc} ${JSON.stringify(d.operands.map(norm))} ${F.formatInsn(d)} n=${d.operands.length}`;
}
function showKeys(d: any): string {
  if ('refused' in d) return JSON.stringify(d);
  return JSON.stringify(d);
}
let n = 0, diffs = 0;
const buf = new Uint8Array(16);
const poisonBuf = POISON.map(p => Uint8Array.from(p));
function one(len: number) {
  const code = buf.subarray(0, len);
  const addr = (rnd() << 16 | rnd()) >>> 0;
  const m = M.decode(code, 0, addr);
  const p = poisonBuf[rnd() % poisonBuf.length];
  B.decodeShared(p, 0, 0x1000);
  const s = B.decodeShared(code, 0, addr);
  const a = show(m, MF), b = show(s, BF);
  const c = B.decode(code, 0, addr);
  const e1 = showKeys(m), e2 = showKeys(c);
  n++;
  if (a !== b || e1 !== e2) { diffs++; if (diffs < 20) console.log('DIFF',
    Array.from(code).map(x => x.toString(16)).join(' '), '\n main', a, '\n shrd', b, '\n main', e1, '\n copy', e2); }
}

const t0 = Date.now();
for (let b0 = 0; b0 < 256; b0++) {
  for (let b1 = 0; b1 < 256; b1++) {
    const sibMatters = b0 !== 0x0f && (b1 & 7) === 4 && b1 < 0xc0;
    for (let k = 0; k < (sibMatters ? 256 : 6); k++) {
      const b2 = sibMatters ? k : rnd() & 0xff;
      buf[0] = b0; buf[1] = b1; buf[2] = b2;
      for (let i = 3; i < 16; i++) buf[i] = rnd() & 0xff;
      one(16);
      if (k < 2) for (let l = 1; l < 8; l++) one(l);
    }
  }
}
console.log(`one-byte opcodes done: ${n}, ${diffs} differences, ${(Date.now() - t0) / 1000} s`);
// 0F xx modrm sib
for (let b1 = 0; b1 < 256; b1++) for (let b2 = 0; b2 < 256; b2++) {
  const sibMatters = (b2 & 7) === 4 && b2 < 0xc0;
  for (let k = 0; k < (sibMatters ? 256 : 4); k++) {
    buf[0] = 0x0f; buf[1] = b1; buf[2] = b2; buf[3] = sibMatters ? k : rnd() & 0xff;
    for (let i = 4; i < 16; i++) buf[i] = rnd() & 0xff;
    one(16);
    if (k < 1) for (let l = 1; l < 9; l++) one(l);
  }
}
console.log(`decoded ${n}, differences ${diffs}, ${(Date.now() - t0) / 1000} s`);
