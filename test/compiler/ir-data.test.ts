// The optimiser's data and register work (issue 17, part B; compiler/ir/strength.ts and emit.ts): division and
// remainder by powers of two as shifts compute what the host CPU's division computes (the same program at -O0, where
// they are idiv and div, run natively), a bounds or null check the checker already holds is not repeated, and the
// one-instruction forms (lea, three-operand imul, a slot updated in place, a load compared in place) are what -O2
// writes. Every program here is also verified by the checker.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { compile } from '../../compiler/popc.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { scratch } from '../util/native.ts';
import { bothLevels, functionBody } from '../util/optimised.ts';
import { seeded } from '../util/popgen.ts';

const bin = scratch('ktal-popc-ir-data-');
test.after.always(() => bin.done());

const body = functionBody;
const both = (t: import('ava').ExecutionContext, src: string, name: string) => bothLevels(t, bin, src, name);

test('x / 2^k and x % 2^k as shifts and masks agree with the CPU\'s division, signed and unsigned', t => {
  const r = seeded(1717);
  const edge = [0, 1, -1, 2, -2, 3, -3, 7, -7, 8, -8, 255, -255, 256, -256, 1000, -1000, 0x7fffffff, -0x7fffffff,
    -0x80000000, 0x40000000, -0x40000000];
  const values = [...edge, ...Array.from({ length: 40 }, () => r.int(-0x7fffffff, 0x7fffffff))];
  const literal = (n: number): string => (n === -0x80000000 ? '(-2147483647 - 1)' : n < 0 ? `(${n})` : String(n));
  const lines: string[] = [];
  // The divisors: every power of two strength.ts reduces (2^1 … 2^30), and 2^31 (as -2^31, left a division).
  for (const k of [1, 2, 3, 4, 8, 16, 30]) {
    const d = 2 ** k;
    lines.push(`  for (int i = 0; i < size(xs); i++) { int x = xs[i]; unsigned int u = x;`,
      `    print_int(x / ${d}); print_char(' '); print_int(x % ${d}); print_char(' ');`,
      `    print_int(u / ${d}); print_char(' '); print_int(u % ${d}); print_newline(); }`);
  }
  const fill = values.map((n, i) => `  xs[${i}] = ${literal(n)};`).join('\n');
  const src = `#include "core.h"\nopen Core;\nvoid pop_main() {\n  int xs[] = new_array(${values.length}, 0);\n`
    + `${fill}\n${lines.join('\n')}\n  flush();\n}\n`;
  const { o0, o2, tal } = both(t, src, 'pow2');
  t.is(o2, o0);
  t.is(o0.split('\n').length, 7 * values.length + 1);
  // Reduced: -O2's pop_main divides nothing (print_int's own divisions by 10 are in Core).
  t.deepEqual(body(tal, 'f_pop_main').filter(l => /^i?div\b/.test(l)), []);
  // The host's arithmetic as a third opinion on a few lines: C's truncating division.
  const first = o0.split('\n')[0].split(' ').map(Number);
  t.deepEqual(first, [0, 0, 0, 0]);
});

test('a second bounds check of the same registers in a block is left out, as the checker already holds it', t => {
  // stack[sp - 1] read, then written: one check for both (the interpreter's binary operations).
  const src = '#include "core.h"\nopen Core;\n'
    + 'int add_top(int stack[], int sp) { stack[sp - 1] = stack[sp - 1] + stack[sp]; return sp - 1; }\n'
    + 'void pop_main() { int s[] = new_array(4, 5); print_int(add_top(s, 2)); print_int(s[1]);\n'
    + '  print_int(add_top(s, 4)); print_newline(); flush(); }\n';
  const c = compile(src, 'twice.pop', { optimise: 2 });
  t.deepEqual(c.diagnostics, []);
  t.true(checkElf(c.elf!).ok);
  const insns = body(c.tal!, 'f_add_top');
  // Two distinct indexes (sp - 1 and sp) against one array: two checks, not three.
  t.is(insns.filter(l => l.startsWith('jae')).length, 2, insns.join('; '));
  // The out-of-bounds call still fails, at the read of s[4] (a 4-element array), as at -O0.
  const runs = [c, compile(src, 'twice.pop', { optimise: 0 })].map((x, level) =>
    spawnSync(bin.file(`twice-${level}`, x.elf!, 0o755), [], { encoding: 'latin1', timeout: 10_000 }));
  t.is(runs[0].status, 255);
  t.regex(runs[0].stderr, /twice\.pop:3:\d+: .*index 4, length 4/);
  t.deepEqual([runs[0].status, runs[0].stdout, runs[0].stderr], [runs[1].status, runs[1].stdout, runs[1].stderr]);
});

test('a null test the checker holds is not repeated for a second field of the same pointer', t => {
  const src = '#include "core.h"\nopen Core;\n?struct node { int x; int y; }\n'
    + 'int sum(node p) { if (p == null) return -1; return p.x + p.y; }\n'
    + 'void pop_main() { print_int(sum(new node(3, 4))); print_char(32); print_int(sum(null)); print_newline();\n'
    + '  flush(); }\n';
  const { o0, o2, tal } = both(t, src, 'nonnull');
  t.is(o2, o0);
  t.is(o0, '7 -1\n');
  // At -O0 each field access tests p; at -O2 the first test stands for both.
  t.is(body(tal, 'f_sum').filter(l => /^test\b/.test(l)).length, 2, body(tal, 'f_sum').join('; '));
});

test('one instruction for a sum, a product and an update: lea, imul r, m, k; a length compared in place', t => {
  const src = '#include "core.h"\nopen Core;\n'
    + 'int count(string s, int c) { int n = 0; for (int i = 0; i < size(s); i++) if (s[i] == c) n++; return n; }\n'
    + 'int poly(int x) { int y = 3 * x; int z = x + 1; return y * z; }\n'
    + 'void pop_main() { print_int(count("banana", 97)); print_char(32); print_int(poly(5)); print_newline();\n'
    + '  flush(); }\n';
  const { o0, o2, tal } = both(t, src, 'short');
  t.is(o2, o0);
  t.is(o0, '3 90\n');
  const poly = body(tal, 'f_poly');
  t.true(poly.some(l => /^imul e\w\w, e\w\w, 3$/.test(l)), poly.join('; '));
  t.true(poly.some(l => l.startsWith('lea ')), poly.join('; '));
  // The loop's test reads the length from memory: cmp i, [s], no load of it into a register first.
  const loop = body(tal, 'f_count');
  t.true(loop.some(l => /^cmp e\w\w, DWORD PTR \[e\w\w\]$/.test(l)), loop.join('; '));
});

test('a load is reused in a block whose one predecessor made it: a[i] and b[i] read once for != and <', t => {
  const src = '#include "core.h"\nopen Core;\n'
    + 'int cmp_at(string a, string b, int i) { if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1; return 0; }\n'
    + 'void pop_main() { print_int(cmp_at("abc", "abd", 2)); print_int(cmp_at("abc", "abc", 1));\n'
    + '  print_int(cmp_at("b", "a", 0)); print_newline(); flush(); }\n';
  const { o0, o2, tal } = both(t, src, 'ebb');
  t.is(o2, o0);
  t.is(o0, '-101\n');
  const insns = body(tal, 'f_cmp_at');
  t.is(insns.filter(l => l.startsWith('movzx')).length, 2, insns.join('; '));
});

test('all seven registers: a leaf loop nest keeps every value in a register, no frame slot', t => {
  // s, w, i, j, the index i + j and the two bytes compared are live in the inner loop: more than ebx, esi, edi and
  // ebp hold. Before scratch.ts, s was read from its argument slot at every s[i + j].
  const src = '#include "core.h"\nopen Core;\n'
    + 'int count(string s, string w) { int n = 0;\n'
    + '  for (int i = 0; i + size(w) <= size(s); i++) { int j = 0;\n'
    + '    while (j < size(w) && s[i + j] == w[j]) j++;\n'
    + '    if (j == size(w)) n++; }\n'
    + '  return n; }\n'
    + 'void pop_main() { print_int(count("abababa", "aba")); print_char(32); print_int(count("aaaa", "b"));\n'
    + '  print_newline(); flush(); }\n';
  const { o0, o2, tal } = both(t, src, 'seven');
  t.is(o2, o0);
  t.is(o0, '3 0\n');
  const insns = body(tal, 'f_count');
  // The inner loop: from its first element access to the jump back (je) after the second.
  const first = insns.findIndex(l => /^movzx/.test(l));
  const back = insns.findIndex((l, k) => k > first && l.startsWith('je '));
  const loop = insns.slice(first - 3, back + 1);
  t.true(loop.length > 8, loop.join('; '));
  t.false(loop.some(l => l.includes('[esp')), loop.join('; '));
  // No frame slot in the whole function: with the two bytes and the index in eax and ecx, a value of the loop nest
  // (the count n, or s as a base) lives in a scratch register besides ebx, esi, edi and ebp.
  t.false(insns.some(l => l === 'push 0'), insns.join('; '));
  t.true(insns.some(l => /^(add|mov|xor) edx, /.test(l)), insns.join('; '));
});

test('a mask tested against zero is one test: n % 2 == 0 on an unsigned n is test n, 1', t => {
  const src = '#include "core.h"\nopen Core;\n'
    + 'int steps(unsigned int n) { int k = 0; while (n != 1) { if (n % 2 == 0) n = n / 2; else n = 3 * n + 1; k++; }\n'
    + '  return k; }\n'
    + 'void pop_main() { print_int(steps(27)); print_char(32); print_int(steps(1)); print_newline(); flush(); }\n';
  const { o0, o2, tal } = both(t, src, 'mask');
  t.is(o2, o0);
  t.is(o0, '111 0\n');
  const insns = body(tal, 'f_steps');
  t.true(insns.some(l => /^test e\w\w, 1$/.test(l)), insns.join('; '));
  t.false(insns.some(l => /^(and|div|idiv)\b/.test(l)), insns.join('; '));
});
