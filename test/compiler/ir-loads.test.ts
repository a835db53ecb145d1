// The optimiser on loops over memory (issue 17, loops over memory; compiler/ir/copies.ts, masks.ts and regalloc.ts's
// call results): registers joined by a copy where their lifetimes allow, and kept apart where they do not; a byte's
// `& 255` dropped, another value's kept; a call's result branched on in eax. Each program runs natively at -O0 and
// -O2 (the host CPU is the oracle: -O0 is the stack machine, which none of these passes touches) and is verified by
// the checker; the TAL shows that the surplus is gone.
import test from 'ava';
import { scratch } from '../util/native.ts';
import { bothLevels, functionBody } from '../util/optimised.ts';
import { byteRegisters } from '../../compiler/ir/masks.ts';
import { imm, val, type Fn, type Inst, type VReg } from '../../compiler/ir/ir.ts';

const bin = scratch('ktal-popc-ir-loads-');
test.after.always(() => bin.done());

const body = functionBody;
const both = (t: import('ava').ExecutionContext, src: string, name: string) => bothLevels(t, bin, src, name);

/** The instructions from the first byte load to the conditional jump back to the loop's head (the last `jl`). */
function scanLoop(insns: string[]): string[] {
  const first = insns.findIndex(l => /^movzx/.test(l));
  let back = -1;
  insns.forEach((l, k) => { if (k > first && l.startsWith('jl ')) back = k; });
  return insns.slice(Math.max(0, first - 2), back + 1);
}

test('a character copied for an inlined test shares its register: the scan loop keeps its string out of the frame',
  t => {
    // strscan's loop in small: c is loaded into a temporary the inlined is_letter tests and copied into c for the
    // rest; with the two in one register, text, i, c and in_word fit ebx, esi, edi and ebp, and the counters stay in
    // slots updated in place (add [esp+k], 1). Before copies.ts, text was reloaded from its slot twice a byte.
    const src = '#include "core.h"\nopen Core;\n'
      + 'bool is_letter(char c) { return (c >= \'a\' && c <= \'z\') || (c >= \'A\' && c <= \'Z\'); }\n'
      + 'bool is_vowel(char c) { return c == \'a\' || c == \'e\' || c == \'i\' || c == \'o\' || c == \'u\'; }\n'
      + 'void pop_main() { string text = "Hello, the 2 quick foxes; ab\\ncd 99 zz";\n'
      + '  int words = 0, vowels = 0, digits = 0, newlines = 0; bool in_word = false;\n'
      + '  for (int i = 0; i < size(text); i++) { char c = text[i];\n'
      + '    if (is_letter(c)) { if (!in_word) words++; in_word = true; if (is_vowel(c)) vowels++; }\n'
      + '    else { in_word = false; if (c >= \'0\' && c <= \'9\') digits++; else if (c == \'\\n\') newlines++; } }\n'
      + '  print_int(words); print_char(32); print_int(vowels); print_char(32); print_int(digits); print_char(32);\n'
      + '  print_int(newlines); print_newline(); flush(); }\n';
    const { o0, o2, tal } = both(t, src, 'scan');
    t.is(o2, o0);
    t.is(o0, '7 8 3 1\n');
    const loop = scanLoop(body(tal, 'f_pop_main'));
    t.true(loop.length > 10, loop.join('; '));
    // No load of the string (or of anything) from a frame slot: what touches [esp+k] is a counter's add in place.
    t.deepEqual(loop.filter(l => l.includes('[esp') && !/^add DWORD PTR \[esp\+\d+\], 1$/.test(l)), [],
      loop.join('; '));
    // The byte is tested as loaded: no copy of it, no mask.
    t.false(loop.some(l => /^and e\w\w, 255$/.test(l)), loop.join('; '));
    t.is(loop.filter(l => /^mov e\w\w, e\w\w$/.test(l)).length, 0, loop.join('; '));
  });

test('registers whose lifetimes overlap are not joined: a copy kept while its source moves on', t => {
  // prev = x, then x changes while prev is still read: one register for both would print x's new value twice.
  // The loop makes the copy heavy (joined first, if it were joinable) and runs it across a back edge.
  const src = '#include "core.h"\nopen Core;\n'
    + 'int f(int n) { int x = 1; int acc = 0;\n'
    + '  for (int i = 0; i < n; i++) { int prev = x; x = x * 3 + i; acc = acc * 7 + prev - x; }\n'
    + '  return acc; }\n'
    + 'int g(string s) { int last = 0; int sum = 0;\n'
    + '  for (int i = 0; i < size(s); i++) { int c = s[i]; sum += c - last; last = c; int keep = last; sum += keep; }\n'
    + '  return sum + last; }\n'
    + 'void pop_main() { print_int(f(10)); print_char(32); print_int(g("zebra")); print_newline(); flush(); }\n';
  const { o0, o2 } = both(t, src, 'overlap');
  t.is(o2, o0);
  // The host's answer, computed here as the CPU does (32-bit wrapping).
  let x = 1, acc = 0;
  for (let i = 0; i < 10; i++) {
    const prev = x;
    x = (Math.imul(x, 3) + i) | 0;
    acc = (Math.imul(acc, 7) + prev - x) | 0;
  }
  let last = 0, sum = 0;
  for (const ch of Buffer.from('zebra')) { sum += ch - last; last = ch; sum += last; }
  t.is(o0, `${acc} ${sum + last}\n`);
});

test('a mask of a byte is dropped, a mask of a wider value kept: (s[i] + 200) & 255 wraps as the CPU wraps', t => {
  // c is a byte loaded in one block and masked (the inlined low's char argument) in another, past the branch:
  // fold.ts sees one block at a time, masks.ts the whole function.
  const src = '#include "core.h"\nopen Core;\n'
    + 'int low(char c) { return c & 255; }\n'
    + 'int f(string s) { int sum = 0;\n'
    + '  for (int i = 0; i < size(s); i++) { char c = s[i]; int w = s[i] + 200; if (c > \'m\') sum++;\n'
    + '    sum = sum * 3 + (w & 255) + low(c); }\n'
    + '  return sum; }\n'
    + 'void pop_main() { print_int(f("\\x01Az~\\xff\\x80")); print_newline(); flush(); }\n';
  const { o0, o2, tal } = both(t, src, 'masks');
  t.is(o2, o0);
  let sum = 0;
  for (const b of [1, 65, 122, 126, 255, 128]) {
    if (b > 109) sum++;
    sum = (Math.imul(sum, 3) + ((b + 200) & 255) + b) | 0;
  }
  t.is(o0, `${sum}\n`);
  // One mask is left in f's loop: the one of s[i] + 200, which may exceed a byte.
  const masks = body(tal, 'f_f').filter(l => /^and e\w\w, 255$/.test(l));
  t.is(masks.length, 1, body(tal, 'f_f').join('; '));
});

test('byteRegisters: a byte load, a small constant, a comparison and a mask make bytes; an add or a parameter not',
  t => {
    let id = 0;
    const reg = (name: string, ty = 'int'): VReg => ({ id: id++, ty, name });
    const s = reg('s', '*bytes'), i = reg('i'), p = reg('p');
    const loaded = reg('loaded'), small = reg('small'), flag = reg('flag'), masked = reg('masked');
    const copied = reg('copied');
    const wide = reg('wide'), mixed = reg('mixed'), big = reg('big');
    const site = { pos: { line: 1, col: 1 }, what: 'test' };
    const fn: Fn = {
      name: 't', file: 't.pop', label: 'f_t', tparams: [], params: [s, i, p], paramTys: ['*bytes', 'int', 'int'],
      ret: 'int', saves: true, raises: false, vregs: [], blocks: [],
    };
    fn.blocks.push({
      id: 0, termLine: 1, term: { op: 'ret', v: val(mixed) },
      insts: ([
        { op: 'load', dst: loaded,
          mem: { k: 'elem', base: val(s), index: val(i), bytes: true, arrTy: 'bytes', check: site } },
        { op: 'copy', dst: small, src: imm(255) },
        { op: 'set', cc: 'l', dst: flag, a: val(i), b: val(p) },
        { op: 'arith', aop: '&', dst: masked, a: val(p), b: imm(15), unsigned: false },
        { op: 'copy', dst: copied, src: val(loaded) },
        { op: 'arith', aop: '+', dst: wide, a: val(loaded), b: imm(1), unsigned: false },
        // Written twice: once a byte, once not.
        { op: 'copy', dst: mixed, src: val(loaded) },
        { op: 'copy', dst: mixed, src: val(p) },
        { op: 'copy', dst: big, src: imm(256) },
      ] satisfies Inst[]).map(inst => ({ inst, line: 1 })),
    });
    fn.vregs.push(s, i, p, loaded, small, flag, masked, copied, wide, mixed, big);
    const bytes = byteRegisters(fn);
    t.deepEqual([...bytes].map(v => v.name).sort(), ['copied', 'flag', 'loaded', 'masked', 'small']);
  });

test('a call\'s result branched on is tested in eax, where the call leaves it', t => {
  const src = '#include "core.h"\nopen Core;\n'
    + 'bool odd(int n) { if (n < 0) return odd(-n); return n % 2 == 1; }\n'
    + 'int count(int n) { int k = 0; for (int i = 0; i < n; i++) if (odd(i * 7 - 20)) k++; return k; }\n'
    + 'void pop_main() { print_int(count(50)); print_newline(); flush(); }\n';
  const { o0, o2, tal } = both(t, src, 'calltest');
  t.is(o2, o0);
  let k = 0;
  for (let i = 0; i < 50; i++) if (Math.abs(i * 7 - 20) % 2 === 1) k++;
  t.is(o0, `${k}\n`);
  const insns = body(tal, 'f_count');
  const at = insns.findIndex(l => l === 'call f_odd');
  t.true(at >= 0, insns.join('; '));
  // After the call and its argument's pop: the test itself, on eax.
  t.deepEqual(insns.slice(at + 1, at + 3), ['add esp, 4', 'test eax, eax'], insns.join('; '));
});

test('x % 2^k and x / 2^k of an x that cannot be negative take no sign bias; of another x they do', t => {
  // next(): hashtable's generator, a mask of a shifted seed (never negative), % 4 and / 4 of it; mixed(x): the same
  // operations on a parameter, which may be negative and keeps strength.ts's bias (exactly what idiv gives).
  const src = '#include "core.h"\nopen Core;\n'
    + 'int seed = 42;\n'
    + 'int next() { seed = seed * 1103515245 + 12345; return (seed >>> 16) & 32767; }\n'
    + 'int f(int n) { int sum = 0; for (int i = 0; i < n; i++) { int r = next(); sum = sum * 5 + r % 4 + r / 4; }\n'
    + '  return sum; }\n'
    + 'int mixed(int x) { return x % 4 * 1000 + x / 4; }\n'
    + 'string word(int n) { string w = new_string(n); for (int i = 0; i < n; i++) w[i] = \'a\' + next() % 4;\n'
    + '  return w; }\n'
    + 'void pop_main() { print_int(f(20)); print_char(32); print_int(mixed(-7)); print_char(32);\n'
    + '  print_int(mixed(7)); print_char(32); print_string(word(12)); print_newline(); flush(); }\n';
  const { o0, o2, tal } = both(t, src, 'bias');
  t.is(o2, o0);
  // The host's answer (32-bit wrapping, C's truncating division).
  let seed = 42;
  const next = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) | 0; return (seed >>> 16) & 32767; };
  let sum = 0;
  for (let i = 0; i < 20; i++) {
    const r = next();
    sum = (Math.imul(sum, 5) + (r % 4) + Math.trunc(r / 4)) | 0;
  }
  const mixed = (x: number): number => (x % 4) * 1000 + Math.trunc(x / 4);
  const word = Array.from({ length: 12 }, () => String.fromCharCode(97 + (next() % 4))).join('');
  t.is(o0, `${sum} ${mixed(-7)} ${mixed(7)} ${word}\n`);
  // f's loop: no sign (sar …, 31) and no bias; r % 4 is one and.
  const f = body(tal, 'f_f');
  t.false(f.some(l => /^sar e\w\w, 31$/.test(l)), f.join('; '));
  t.true(f.some(l => /^and e\w\w, 3$/.test(l)), f.join('; '));
  // mixed keeps the bias: its x may be negative.
  t.true(body(tal, 'f_mixed').some(l => /^sar e\w\w, 31$/.test(l)), body(tal, 'f_mixed').join('; '));
  // word's character is stored as a byte unmasked: 'a' + r % 4 is narrowed by the byte store itself.
  const w = body(tal, 'f_word');
  t.false(w.some(l => /^and e\w\w, 255$/.test(l)), w.join('; '));
});
