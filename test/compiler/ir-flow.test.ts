// The optimiser's control-flow and call passes (compiler/ir/inline.ts, tailrec.ts, tailacc.ts, merge.ts, thread.ts,
// scratch.ts's callee-saved registers, emit.ts's updates in place, and strength.ts's shifts), each on a program that
// shows it: what the -O2 code no longer contains (a call inlined, a self call turned into a jump, a bool made and then
// tested, a division by two), that the checker verifies it, and that it prints what the -O0 stack machine's code
// prints, both run natively by the host's CPU.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { compile } from '../../compiler/popc.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { INLINE_LIMIT, recursiveFunctions } from '../../compiler/ir/inline.ts';
import { scratch } from '../util/native.ts';
import { functionCode } from '../util/optimised.ts';

const bin = scratch('ktal-popc-flow-');
test.after.always(() => bin.done());

const body = functionCode;

/** Compiles `src` at -O0 and -O2, checks both verify and print the same natively; gives -O2's TAL and the output. */
function both(t: import('ava').ExecutionContext, name: string, src: string, args: string[] = []):
  { tal: string; out: string } {
  const runs = [0, 2].map(level => {
    const c = compile(src, `${name}.pop`, { optimise: level });
    t.deepEqual(c.diagnostics, [], `-O${level}`);
    const v = checkElf(c.elf!);
    t.true(v.ok, v.ok ? '' : `-O${level}: ${v.error.cls}: ${v.error.message}`);
    const run = spawnSync(bin.file(`${name}-O${level}`, c.elf!, 0o755), args, { encoding: 'latin1', timeout: 20_000 });
    return { tal: c.tal!, out: run.stdout, status: run.status };
  });
  t.is(runs[1].out, runs[0].out);
  t.is(runs[1].status, runs[0].status);
  return { tal: runs[1].tal, out: runs[1].out };
}

const prelude = '#include "core.h"\nopen Core;\n';

test('a small function is inlined: its call is gone from the caller, a bool it returns is branched on directly', t => {
  const src = `${prelude}bool is_digit(char c) { return c >= '0' && c <= '9'; }\n`
    + 'int digits(string s) { int n = 0; for (int i = 0; i < size(s); i++) if (is_digit(s[i])) n++; return n; }\n'
    + 'void pop_main() { print_int(digits("a1b22c333")); print_newline(); flush(); }\n';
  const { tal, out } = both(t, 'inline', src);
  t.is(out, '6\n');
  const digits = body(tal, 'f_digits');
  t.false(digits.some(l => l.startsWith('call')), digits.join('; '));
  // The predicate's result is never made as a value: no setcc, no 0/1 written and tested.
  t.false(digits.some(l => /^set|^xor eax, eax$/.test(l)), digits.join('; '));
  // digits itself, a loop, is small too: pop_main calls print_int and no popc function of this file.
  t.false(body(tal, 'f_pop_main').some(l => /call f_(digits|is_digit)$/.test(l)));
});

test('a recursive function, and one larger than INLINE_LIMIT, stay calls', t => {
  const big = Array.from({ length: INLINE_LIMIT + 2 }, (_, k) => `x = x * ${k + 3} + ${k};`).join(' ');
  const src = `${prelude}int fact(int n) { if (n < 2) return 1; return n * fact(n - 1); }\n`
    + `int big(int x) { ${big} return x; }\n`
    + 'void pop_main() { print_int(fact(10)); print_char(32); print_int(big(5)); print_newline(); flush(); }\n';
  const { tal } = both(t, 'noinline', src);
  const main = body(tal, 'f_pop_main');
  t.true(main.includes('call f_fact'), main.join('; '));
  t.true(main.includes('call f_big'), main.join('; '));
});

test('recursion is found through chains of calls', t => {
  const calls = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a', 'd'])],
    ['d', new Set<string>()], ['e', new Set(['e'])], ['f', new Set(['d'])]]);
  t.deepEqual([...recursiveFunctions(calls)].sort(), ['a', 'b', 'c', 'e']);
});

test('a self tail call is a loop: no call, constant stack (ten million deep natively), the same result as -O0', t => {
  const src = `${prelude}int gcd(int a, int b) { if (b == 0) return a; return gcd(b, a % b); }\n`
    + 'int count(int n, int acc) { if (n == 0) return acc; return count(n - 1, acc + 1); }\n'
    + 'void pop_main() { print_int(gcd(1071, 462)); print_char(32); print_int(count(1000, 0)); print_newline();\n'
    + '  string args[] = std_args(); if (size(args) > 1) { print_int(count(int_of_string(args[1]), 0));\n'
    + '  print_newline(); } flush(); }\n';
  const { tal, out } = both(t, 'tailrec', src);
  t.is(out, '21 1000\n');
  for (const f of ['f_gcd', 'f_count']) {
    const insns = body(tal, f);
    t.false(insns.some(l => l.startsWith('call')), `${f}: ${insns.join('; ')}`);
  }
  // Ten million frames would need over 100 MB of stack at -O0 (the host gives 8 MB): at -O2 there are none.
  const deep = compile(src, 'tailrec.pop', { optimise: 2 });
  const run = spawnSync(bin.file('deep', deep.elf!, 0o755), ['10000000'], { encoding: 'latin1', timeout: 20_000 });
  t.is(run.stdout, '21 1000\n10000000\n');
});

test('x + f(…) returned by f is an accumulator loop: one call of two left, a list length in constant stack', t => {
  // fib's and twice's second calls, a list's length and walk's `l.head + walk(…)` are jumps; the addends wrap as
  // IA-32's add does (2e9 twenty times), and walk's plain tail call, a jump too, adds nothing. The results are -O0's,
  // natively.
  const src = `${prelude}?struct list { int head; list tail; }\n`
    + 'int calls = 0;\n'
    + 'int fib(int n) { calls++; if (n < 2) return n; return fib(n - 1) + fib(n - 2); }\n'
    + 'int length(list l) { if (l == null) return 0; return 1 + length(l.tail); }\n'
    + 'int sum(list l) { if (l == null) return 0; return sum(l.tail) + l.head; }\n'
    + 'int walk(list l, int k) { if (l == null) return k; if (l.head < 0) return walk(l.tail, k);\n'
    + '  return l.head + walk(l.tail, k + 1); }\n'
    + 'int twice(int n) { if (n == 0) return 1; return twice(n - 1) + twice(n - 1); }\n'
    + 'void pop_main() { string args[] = std_args(); int n = size(args) > 1 ? int_of_string(args[1]) : 30;\n'
    + '  list l = null; for (int i = 0; i < n; i++) l = new list(i % 3 == 0 ? -i : 2000000000, l);\n'
    + '  print_int(fib(20)); print_char(32); print_int(calls); print_char(32); print_int(length(l));\n'
    + '  print_char(32); print_int(sum(l)); print_char(32); print_int(walk(l, 0)); print_char(32);\n'
    + '  print_int(twice(10)); print_newline(); flush(); }\n';
  const { tal, out } = both(t, 'tailacc', src);
  // 30 cells: ten heads -i (i = 0, 3, …, 27; -0 is not negative), twenty of 2e9 (their sum wraps).
  t.is(out, `6765 21891 30 ${(20 * 2000000000 - 135) | 0} ${(20 * 2000000000 + 21) | 0} 1024\n`);
  const calls = (f: string) => body(tal, f).filter(l => l === `call ${f}`).length;
  for (const f of ['f_fib', 'f_twice']) t.is(calls(f), 1, `${f}: ${body(tal, f).join('; ')}`);
  for (const f of ['f_length', 'f_walk']) t.is(calls(f), 0, `${f}: ${body(tal, f).join('; ')}`);
  // f(l.tail) + l.head reads its field after the call (the callee may write it, so it cannot be read before): no
  // accumulator, the tail call stays.
  t.is(calls('f_sum'), 1, body(tal, 'f_sum').join('; '));
  // A list of three million: a frame per cell would need more than the host's 8 MB of stack; -O2's length and walk
  // use none (sum, which keeps its call, is not run on it).
  const deep = compile(src.replace('print_int(sum(l))', 'print_int(0)'), 'tailacc.pop', { optimise: 2 });
  const run = spawnSync(bin.file('deep-acc', deep.elf!, 0o755), ['3000000'], { encoding: 'latin1', timeout: 20_000 });
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /^6765 21891 3000000 0 /);
});

test('a callee-saved register is pushed only for values that live across a call; the others are in scratch ones', t => {
  // insert's t and key cross its recursive calls (ebx, esi); t.key, compared twice, crosses none, and height's r
  // (made by the second call, compared, gone) neither: neither function pushes a third register for them.
  const src = `${prelude}?struct tree { int key; tree left; tree right; }\n`
    + 'tree insert(tree t, int key) { if (t == null) return new tree(key, null, null);\n'
    + '  if (key < t.key) t.left = insert(t.left, key); else if (key > t.key) t.right = insert(t.right, key);\n'
    + '  return t; }\n'
    + 'int height(tree t) { if (t == null) return 0; int l = height(t.left), r = height(t.right);\n'
    + '  return 1 + (l > r ? l : r); }\n'
    + 'void pop_main() { tree t = null; for (int i = 0; i < 200; i++) t = insert(t, (i * 7919) % 211);\n'
    + '  print_int(height(t)); print_newline(); flush(); }\n';
  const { tal, out } = both(t, 'saved', src);
  t.regex(out, /^\d+\n$/);
  for (const f of ['f_insert', 'f_height']) {
    const insns = body(tal, f);
    const pushed = insns.slice(0, insns.findIndex(l => !/^push (ebx|esi|edi|ebp)$/.test(l)));
    t.deepEqual(pushed, ['push ebx', 'push esi'], `${f}: ${insns.join('; ')}`);
  }
});

test('a global, a field and an element updated in place: add DWORD PTR [m], k after the access\'s check', t => {
  // calls++ as gcc -O2 writes it (addl $1, calls), c.n -= k after c's null test, a[i] ^= 5 after its bounds check;
  // a byte element stays a load, an operation and a store. Out of range, the update still fails as -O0's does.
  const src = `${prelude}?struct cell { int n; }\nint calls = 0;\n`
    + 'void bump(cell c, int a[], string s, int i, int k) { calls++; c.n -= k; a[i] ^= 5; s[i] += 1;\n'
    + '  if (k > 0) bump(c, a, s, i, k - 1); }\n'
    + 'void pop_main() { string args[] = std_args(); int i = size(args) > 1 ? int_of_string(args[1]) : 1;\n'
    + '  cell c = new cell(100); int a[] = new_array(3, 1); string s = new_string(3);\n'
    + '  bump(c, a, s, i, 4); print_int(calls); print_char(32); print_int(c.n); print_char(32); print_int(a[1]);\n'
    + '  print_char(32); print_int(s[1]); print_newline(); flush(); }\n';
  const { tal, out } = both(t, 'inplace', src);
  t.is(out, '5 90 4 5\n');
  const bump = body(tal, 'f_bump');
  t.true(bump.includes('add DWORD PTR [g_calls], 1'), bump.join('; '));
  t.true(bump.some(l => /^sub DWORD PTR \[e[a-z]{2}\+0\], e[a-z]{2}$/.test(l)), bump.join('; '));
  t.true(bump.some(l => /^xor DWORD PTR \[e[a-z]{2}\+e[a-z]{2}\*4\+4\], 5$/.test(l)), bump.join('; '));
  t.true(bump.some(l => /^mov BYTE PTR/.test(l)), bump.join('; '));
  // An index out of range fails at the update, with -O0's message and status.
  const runs = [0, 2].map(level => {
    const c = compile(src, 'inplace.pop', { optimise: level });
    return spawnSync(bin.file(`inplace-bad-O${level}`, c.elf!, 0o755), ['7'], { encoding: 'latin1', timeout: 20_000 });
  });
  t.not(runs[1].status, 0);
  t.is(runs[1].status, runs[0].status);
  t.is(runs[1].stderr, runs[0].stderr);
});

test('a jump to a test is the test: an if/else in a loop branches back from both sides, no jump to the test', t => {
  const src = `${prelude}int steps(unsigned int n) { int k = 0;\n`
    + '  while (n != 1) { if (n % 2 == 0) n = n / 2; else n = 3 * n + 1; k++; } return k; }\n'
    + 'void pop_main() { print_int(steps(27)); print_newline(); flush(); }\n';
  const { tal, out } = both(t, 'thread', src);
  t.is(out, '111\n');
  const insns = body(tal, 'f_steps');
  // Each side of the if tests and branches back itself: no unconditional jump goes to the test, only (once, on
  // leaving) to the loop's exit, which the guard before the loop jumps to as well.
  const exit = insns.find(l => /^je /.test(l))!.split(' ')[1];
  const jumps = insns.filter(l => /^jmp /.test(l));
  t.true(jumps.every(l => l === `jmp ${exit}`), insns.join('; '));
  const back = insns.filter(l => /^jne /.test(l)).pop()!;
  t.is(insns.filter(l => l === back).length, 2, insns.join('; '));
  // The unsigned halving and remainder are a shift and a mask (strength.ts), no division.
  t.false(insns.some(l => /^(div|idiv)/.test(l)), insns.join('; '));
});

test('unsigned division and remainder, and multiplication, by powers of two agree with -O0 at the edges', t => {
  // The operands come from an array, so nothing is folded at compile time: strength.ts's shifts and masks run.
  const src = `${prelude}int xs[] = {0, 1, -1, 7, -8, 2147483647, -2147483648, 12345, -12345, 65536};\n`
    + 'void pop_main() { for (int i = 0; i < size(xs); i++) { unsigned int u = xs[i]; int x = xs[i];\n'
    + '  print_int(u / 2); print_char(32); print_int(u % 2); print_char(32); print_int(u / 1024); print_char(32);\n'
    + '  print_int(u % 1024); print_char(32); print_int(u / 2147483648); print_char(32);\n'
    + '  print_int(u % 2147483648); print_char(32); print_int(x * 8); print_char(32); print_int(4 * x);\n'
    + '  print_char(32); print_int(x * -2147483648); print_char(32); print_int(x / 4); print_newline(); }\n'
    + '  flush(); }\n';
  const { tal, out } = both(t, 'strength', src);
  t.is(out.split('\n').length, 11);
  t.true(out.startsWith('0 0 0 0 0 0 0 0 0 0\n0 1 0 1 0 1 8 4 -2147483648 0\n'), out);
  const insns = body(tal, 'f_pop_main');
  // No division (the signed one by 4 is shifts with its rounding bias) and no multiplication.
  t.is(insns.filter(l => /^(div|idiv|imul)\b/.test(l)).length, 0, insns.join('; '));
});
