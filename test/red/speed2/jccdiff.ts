// The short conditional jump's target now lives in the decoder's shared rel operand (the one jmp and call use): main's
// checker (OLD, its sources) against this tree's on every corpus ELF with its short jccs (70-7F) retargeted: the rel8
// byte set to random values and to the values that land on the next instruction, on a label, inside an instruction,
// outside .text, and the jcc's opcode set to each of the 16 conditions; also a jcc turned into the last instruction
// (the bytes after it cut off). The whole result is compared (verdict, class, message, address, label, insn, work).
// usage: OLD=tree RS=dir tsx jccdiff.ts SEED PER_FILE
const OLD = process.env.OLD ?? '/work/main';
const RS = process.env.RS ?? '/tmp/rs';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as BC from '../../../tal/check/checker.ts';
import { decode } from '../../../tal/x86/decode.ts';
import { isRefusal } from '../../../tal/x86/insn.ts';
const MC: typeof import('../../../tal/check/checker.ts') = await import(`${OLD}/tal/check/checker.ts`);
let seed = Number(process.argv[2] ?? 1);
const PER = Number(process.argv[3] ?? 8);
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) / (1 << 24); };
const ri = (n: number) => Math.floor(rnd() * n);
function section(elf: Uint8Array, name: string): { off: number; size: number } | undefined {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const shoff = dv.getUint32(32, true), shnum = dv.getUint16(48, true), shstrndx = dv.getUint16(50, true);
  const strOff = dv.getUint32(shoff + shstrndx * 40 + 16, true);
  for (let i = 0; i < shnum; i++) {
    let p = strOff + dv.getUint32(shoff + i * 40, true), s = '';
    while (p < elf.length && elf[p] !== 0) s += String.fromCharCode(elf[p++]);
    const at = shoff + i * 40;
    if (s === name) return { off: dv.getUint32(at + 16, true), size: dv.getUint32(at + 20, true) };
  }
  return undefined;
}
const result = (c: typeof BC, e: Uint8Array): string => {
  try { const r = c.checkElf(e); return JSON.stringify(r.ok ? { ok: 1, w: r.work } : { e: r.error, w: r.work }); }
  catch (x) { return `THREW ${(x as Error).stack}`; }
};
let total = 0, diffs = 0, accepted = 0, threw = 0;
const classes = new Map<string, number>();
for (const f of readdirSync(`${RS}/corpus`).filter(f => f.endsWith('.elf')).sort()) {
  const elf = new Uint8Array(readFileSync(join(`${RS}/corpus`, f)));
  let t;
  try { t = section(elf, '.text'); } catch { continue; }
  if (!t || t.off + t.size > elf.length) continue;
  const text = elf.subarray(t.off, t.off + t.size);
  const starts: number[] = [], jccs: number[] = [];
  for (let o = 0; o < text.length;) {
    const d = decode(text, o, o);
    if (isRefusal(d)) break;
    starts.push(o);
    if (text[o] >= 0x70 && text[o] < 0x80) jccs.push(o);
    o += d.length;
  }
  if (jccs.length === 0) continue;
  for (let k = 0; k < PER; k++) {
    const j = jccs[ri(jccs.length)];
    const e = Uint8Array.from(elf);
    const kind = ri(4);
    let what: string;
    if (kind === 0) {
      const to = starts[ri(starts.length)];
      e[t.off + j + 1] = (to - (j + 2)) & 0xff;
      what = `to insn ${to}`;
    }
    else if (kind === 1) { e[t.off + j + 1] = ri(256); what = 'random rel8'; }
    else if (kind === 2) { e[t.off + j] = 0x70 + ri(16); what = 'condition'; }
    else { // the jcc's target onto the next instruction after a jmp/call/jcc retargeted too (two branches in a row)
      const n = starts.find(s => s > j);
      if (n !== undefined && [0xeb, 0xe9, 0xe8].includes(text[n])) e[t.off + n + 1] ^= 1 << ri(8);
      e[t.off + j + 1] ^= 1 << ri(8);
      what = 'two branches';
    }
    const a = result(MC, e), b = result(BC, e);
    total++;
    if (a.startsWith('THREW') || b.startsWith('THREW')) threw++;
    if (a.includes('"ok":1')) accepted++;
    const cls = /"cls":"([^"]*)"/.exec(a)?.[1] ?? (a.includes('"ok"') ? 'ok' : 'other');
    classes.set(cls, (classes.get(cls) ?? 0) + 1);
    if (a !== b) {
      diffs++;
      console.log('DIFF', f, j, what, '\n  main  ', a.slice(0, 400), '\n  branch', b.slice(0, 400));
    }
  }
}
console.log(`jcc mutants: ${total} compared, ${accepted} accepted by main, ${threw} threw, differences ${diffs}`);
console.log([...classes].sort((x, y) => y[1] - x[1]).map(([c, n]) => `${c} ${n}`).join(', '));
