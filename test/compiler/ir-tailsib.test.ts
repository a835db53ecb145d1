// Sibling tail calls (compiler/ir/tailsib.ts and emit.ts's tailJump): `return g(…)` inside f compiled at -O2 as a
// `jmp g` after g's arguments are written over f's own incoming slots. A mutual recursion (even/odd, a word-counting
// state machine) verifies at both levels, prints the same natively, in user mode and in kernel mode, and at -O2
// runs in constant stack to a depth whose frames exhaust the 1 MiB kernel-mode stack at -O0 (the double fault at
// CPL 0, docs/kernel.md). The cases whose stack types refuse the jump stay calls, and a polymorphic callee and
// raising ones jump, each shown in the TAL -O2 writes (the checker verifying it, the output -O0's) and by
// siblingTailCallRefusal on the IR; planArgumentMoves's parallel assignment is checked on its own.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { compile } from '../../compiler/popc.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { runProgram } from '../../kernel/talrun.ts';
import { planArgumentMoves, siblingTailCallRefusal, type CallInst } from '../../compiler/ir/tailsib.ts';
import type { Block, Fn, VReg } from '../../compiler/ir/ir.ts';
import { scratch } from '../util/native.ts';
import { functionCode } from '../util/optimised.ts';
import { LEVELS, flag } from '../util/levels.ts';

const bin = scratch('ktal-popc-tailsib-');
test.after.always(() => bin.done());

const body = functionCode;

// Popcorn as its users wrote it: prototypes for the mutual recursion, a state per function. in_space and in_word
// pass all three arguments on; up gives down one of its two (the second slot is left as it was); down calls up with
// more arguments than it has itself, which stays a call.
const STATES = `#include "core.h"
open Core;

bool is_odd(int n);
bool is_even(int n) {
  if (n == 0) return true;
  return is_odd(n - 1);
}
bool is_odd(int n) {
  if (n == 0) return false;
  return is_even(n - 1);
}

int in_word(string s, int i, int words);
int in_space(string s, int i, int words) {
  if (i == size(s)) return words;
  if (s[i] == ' ') return in_space(s, i + 1, words);
  return in_word(s, i + 1, words + 1);
}
int in_word(string s, int i, int words) {
  if (i == size(s)) return words;
  if (s[i] == ' ') return in_space(s, i + 1, words);
  return in_word(s, i + 1, words);
}

int down(int n);
int up(int n, int k) {
  if (k == 0) return down(n);
  return up(n + 1, k - 1);
}
int down(int n) {
  if (n <= 0) return n;
  return up(n - 3, 2);
}

void pop_main() {
  string args[] = std_args();
  int n = size(args) > 1 ? int_of_string(args[1]) : 10;
  print_string(is_even(n) ? "even " : "odd ");
  print_int(in_space("  the quick  brown fox jumps ", 0, 0));
  print_char(' ');
  print_int(down(n % 1000));
  print_newline();
  flush();
}
`;

/** STATES compiled at each level once (the file's tests share them). */
const compiled = new Map<number, { elf: Uint8Array; tal: string }>();
function build(level: number): { elf: Uint8Array; tal: string } {
  let c = compiled.get(level);
  if (!c) {
    const r = compile(STATES, 'states.pop', { optimise: level });
    if (!r.elf || !r.tal) throw new Error(`-O${level}: ${JSON.stringify(r.diagnostics)}`);
    c = { elf: r.elf, tal: r.tal };
    compiled.set(level, c);
  }
  return c;
}

test('a mutual recursion in tail position is jumps at -O2, verified, printing -O0\'s output in all three modes', t => {
  const tal = build(2).tal;
  const jumps = (f: string, g: string): void => {
    const insns = body(tal, f);
    t.true(insns.includes(`jmp ${g}`), `${f}: ${insns.join('; ')}`);
    t.false(insns.some(l => l.startsWith('call')), `${f}: ${insns.join('; ')}`);
  };
  jumps('f_is_even', 'f_is_odd');
  jumps('f_is_odd', 'f_is_even');
  jumps('f_in_space', 'f_in_word');
  jumps('f_in_word', 'f_in_space');
  jumps('f_up', 'f_down'); // one argument of up's two: the second slot stays as it was
  // down(n) passes two arguments to up: up's return address expects one argument word under it.
  t.true(body(tal, 'f_down').includes('call f_up'), body(tal, 'f_down').join('; '));

  const expected = 'odd 5 0\n';
  for (const level of LEVELS) {
    const { elf } = build(level);
    const v = checkElf(elf);
    t.true(v.ok, v.ok ? '' : `${flag(level)}: ${v.error.cls}: ${v.error.message}`);
    const native = spawnSync(bin.file(`states${flag(level)}`, elf, 0o755), ['1001'], { encoding: 'latin1' });
    t.is(native.stdout, expected, `${flag(level)} native`);
    t.is(native.status, 0, `${flag(level)} native status`);
    for (const kernel of [false, true]) {
      const run = runProgram(elf, ['states', '1001'], { kernel });
      t.is(Buffer.from(run.stdout).toString('latin1'), expected, `${flag(level)} kernel: ${kernel}`);
      t.is(run.status, 0, `${flag(level)} kernel: ${kernel}: ${run.message ?? ''}`);
    }
  }
});

// -O0's is_even and is_odd take 8 bytes of stack a level (the argument and the return address): 200,000 levels are
// 1.6 MB, more than the 1 MiB kernel-mode stack; -O2's take none. KTAL_LONG=1 goes past the 8 MiB of user mode and
// of the host's default stack too (2,000,000 levels: 16 MB), where -O0 dies in all three modes.
const LONG = !!process.env.KTAL_LONG;

test('at -O2 the mutual recursion runs in constant stack where -O0 exhausts the kernel-mode stack', t => {
  const depth = LONG ? '2000001' : '200001';
  const [o0, o2] = [build(0).elf, build(2).elf];
  for (const kernel of LONG ? [false, true] : [true]) {
    const fast = runProgram(o2, ['states', depth], { kernel });
    t.is(Buffer.from(fast.stdout).toString('latin1'), 'odd 5 0\n', `-O2 kernel: ${kernel}`);
    t.is(fast.status, 0, `-O2 kernel: ${kernel}: ${fast.message ?? ''}`);
    const slow = runProgram(o0, ['states', depth], { kernel });
    t.is(slow.status, 128 + constants.signals.SIGSEGV, `-O0 kernel: ${kernel}`);
    if (kernel) t.regex(slow.exit?.fault ?? '', /double fault: the kernel-mode stack is exhausted/);
  }
  if (!LONG) return;
  const native = (elf: Uint8Array, name: string) =>
    spawnSync(bin.file(name, elf, 0o755), [depth], { encoding: 'latin1' });
  t.is(native(o2, 'deep-O2').stdout, 'odd 5 0\n');
  t.is(native(o0, 'deep-O0').signal, 'SIGSEGV');
});

test('a tail call whose stack types do not allow a jump stays a call; polymorphic and raising ones jump', t => {
  // Each callee recurses on itself (a self tail call, tailrec.ts's loop), so inline.ts leaves its calls as calls.
  const src = `#include "core.h"
open Core;
exception Odd(int);
int three(int a, int b, int c) { if (a > 100) return three(a - 100, b, c); return a * 100 + b * 10 + c; }
int more(int a) { return three(a, a, a); }
int count(string s) { if (size(s) > 100) return count("long"); return size(s); }
int lengthOf(int n) { return count(string_of_int(n)); }
int check(int n) { if (n > 1000) return check(n - 1000); if (n % 2 == 1) raise Odd(n); return n / 2; }
int halve(int n) { try { return check(n); } handle e { switch (e) { case Odd(m): return -m; default: return 0; } } }
int sumTo(int n) { if (n <= 0) return 0; return n + sumTo(n - 1); }
int ticks = 0;
int tick() { ticks = ticks + 1; if (ticks < 3) return tick(); return ticks; }
int halveOut(int n) { if (n < 0) return tick(); if (n > 100) return sumTo(n); return check(n); }
a nth_even<a>(int n, a x, a y);
a nth_odd<a>(int n, a x, a y) { if (n == 0) return y; return nth_even(n - 1, x, y); }
a nth_even<a>(int n, a x, a y) { if (n == 0) return x; return nth_odd(n - 1, x, y); }
void pop_main() {
  print_int(more(7)); print_char(' '); print_int(lengthOf(12345)); print_char(' ');
  print_int(halve(7)); print_char(' '); print_int(halve(8)); print_char(' ');
  try { print_int(halveOut(6)); print_char(' '); print_int(halveOut(-1)); print_char(' ');
    print_int(halveOut(101)); print_char(' '); print_int(halveOut(9)); }
  handle e { switch (e) { case Odd(m): print_string("odd "); print_int(m); default: print_string("?"); } }
  print_char(' '); print_string(nth_odd(5, "x", "y")); print_newline(); flush();
}
`;
  const outs = LEVELS.map(level => {
    const c = compile(src, 'refused.pop', { optimise: level });
    t.deepEqual(c.diagnostics, [], flag(level));
    const v = checkElf(c.elf!);
    t.true(v.ok, v.ok ? '' : `${flag(level)}: ${v.error.cls}: ${v.error.message}`);
    const exe = bin.file(`refused${flag(level)}`, c.elf!, 0o755);
    return { tal: c.tal!, out: spawnSync(exe, [], { encoding: 'latin1' }) };
  });
  t.is(outs[0].out.stdout, '777 5 -7 4 3 3 5151 odd 9 x\n');
  t.is(outs[1].out.stdout, outs[0].out.stdout);
  t.is(outs[1].out.status, outs[0].out.status);
  const tal = outs[1].tal;
  const calls = (f: string, g: string): void => {
    const insns = body(tal, f);
    t.true(insns.includes(`call ${g}`) && !insns.includes(`jmp ${g}`), `${f}: ${insns.join('; ')}`);
  };
  calls('f_more', 'f_three'); // three argument words where more has one
  calls('f_lengthOf', 'f_count'); // count's slot is a string, lengthOf's return address expects an int there
  calls('f_halve', 'f_check'); // in a try body: check's exception goes to halve's handler
  // halveOut may raise (check's exception, unhandled), sumTo not: sumTo's argument would go where halveOut's second
  // return address is.
  calls('f_halveOut', 'f_sumTo');
  // Both may raise and nothing handles: check's raise leaves through halveOut's second return address, which sits
  // where check's own is. tick takes no argument: it returns over that second return address, as halveOut would.
  for (const g of ['f_check', 'f_tick']) {
    t.true(body(tal, 'f_halveOut').includes(`jmp ${g}`), body(tal, 'f_halveOut').join('; '));
  }
  // A polymorphic callee at the caller's own type variable: the jump instantiates it (`.tal_inst t_a, …`).
  for (const [f, g] of [['f_nth_odd', 'f_nth_even'], ['f_nth_even', 'f_nth_odd']]) {
    t.true(body(tal, f).includes(`jmp ${g}`), body(tal, f).join('; '));
  }
});

// ---- the rules on IR made by hand

const reg = (id: number, ty: string): VReg => ({ id, ty, name: `v${id}` });

/** f(params…) returning ret, whose one block is `dst = call g(args…); ret dst` (as the passes leave it). */
function tailCaller(o: { params: string[]; ret?: string; saves?: boolean; raises?: boolean }, callee: {
  args: string[]; ret?: string; saves?: boolean; raises?: boolean; value?: boolean; handler?: boolean }):
  { f: Fn; b: Block; call: CallInst } {
  const params = o.params.map((ty, n) => reg(n, ty));
  const dst = callee.ret ? reg(params.length, callee.ret) : undefined;
  const args = callee.args.map((ty, n) => ({ v: { k: 'v', v: params[n] ?? params[0] } as const, ty }));
  const call: CallInst = { op: 'call', dst, args,
    callee: callee.value ? { k: 'value', fn: { k: 'v', v: params[0] } }
      : { k: 'fun', label: 'f_g', saves: callee.saves ?? true, tparams: [], raises: callee.raises ?? false } };
  const b: Block = { id: 0, insts: [{ inst: call, line: 1 }], termLine: 1,
    term: dst ? { op: 'ret', v: { k: 'v', v: dst } } : { op: 'ret' } };
  if (callee.handler) b.handler = { block: b, exn: reg(99, 'exn') };
  const f: Fn = { name: 'f', file: 'f.pop', label: 'f_f', tparams: [], params, paramTys: o.params, ret: o.ret,
    saves: o.saves ?? true, raises: o.raises ?? false, blocks: [b], vregs: dst ? [...params, dst] : params };
  return { f, b, call };
}

test('siblingTailCallRefusal allows exactly the calls whose callee can return for the caller', t => {
  const refusal = (...a: Parameters<typeof tailCaller>): string | undefined => {
    const { f, b, call } = tailCaller(...a);
    return siblingTailCallRefusal(f, b, call);
  };
  t.is(refusal({ params: ['int', 'int'], ret: 'int' }, { args: ['int', 'int'], ret: 'int' }), undefined);
  t.is(refusal({ params: ['int', '*bytes'], ret: 'int' }, { args: ['int'], ret: 'int' }), undefined);
  t.is(refusal({ params: [] }, { args: [] }), undefined);
  t.is(refusal({ params: ['int'], ret: 'int', raises: true }, { args: ['int'], ret: 'int', raises: true }), undefined);
  t.is(refusal({ params: ['int'], ret: 'int', saves: false }, { args: ['int'], ret: 'int', saves: false }), undefined);
  t.regex(refusal({ params: ['int'], ret: 'int' }, { args: ['int', 'int'], ret: 'int' })!, /more argument words/);
  t.regex(refusal({ params: ['int'], ret: 'int' }, { args: ['*bytes'], ret: 'int' })!, /argument 1 is \*bytes/);
  t.regex(refusal({ params: ['int'], ret: 'int' }, { args: ['int'], ret: '*bytes' })!, /returns \*bytes/);
  t.regex(refusal({ params: ['int'], ret: 'int' }, { args: ['int'], ret: 'int', raises: true })!, /may raise/);
  t.regex(refusal({ params: ['int'], ret: 'int', raises: true }, { args: ['int'], ret: 'int' })!,
    /second return address/);
  t.is(refusal({ params: ['int'], ret: 'int', raises: true }, { args: [], ret: 'int' }), undefined);
  t.regex(refusal({ params: ['int'], ret: 'int', raises: true }, { args: ['int'], ret: 'int', raises: true,
    handler: true })!, /try body/);
  t.regex(refusal({ params: ['int'], ret: 'int' }, { args: ['int'], ret: 'int', saves: false })!, /keeps ebx/);
  t.regex(refusal({ params: ['int'], ret: 'int', saves: false }, { args: ['int'], ret: 'int', value: true })!,
    /function value/);
  // A call whose result is not what the block returns is no tail call.
  const { f, b, call } = tailCaller({ params: ['int'], ret: 'int' }, { args: ['int'], ret: 'int' });
  b.term = { op: 'ret', v: { k: 'imm', n: 0 } };
  t.regex(siblingTailCallRefusal(f, b, call)!, /not what f returns/);
});

test('planArgumentMoves writes no slot before it is read, a swap through one scratch register', t => {
  const slot = (n: number): string => `[s${n}]`;
  // g(b, a) inside f(a, b), both in their incoming slots: a cycle, broken by loading one into eax.
  t.deepEqual(planArgumentMoves([
    { to: 0, from: '[s1]', incoming: 1, viaRegister: true },
    { to: 1, from: '[s0]', incoming: 0, viaRegister: true },
  ], ['eax', 'ecx', 'edx'], slot), ['mov eax, [s1]', 'mov ecx, [s0]', 'mov [s1], ecx', 'mov [s0], eax']);
  // g(b, 5) inside f(a, b): slot 0 is written from slot 1 before slot 1 is; a value already in place is no move.
  t.deepEqual(planArgumentMoves([
    { to: 0, from: '[s1]', incoming: 1, viaRegister: true },
    { to: 1, from: '5', viaRegister: false },
    { to: 2, from: '[s2]', incoming: 2, viaRegister: true },
  ], ['eax'], slot), ['mov eax, [s1]', 'mov [s0], eax', 'mov [s1], 5']);
  // A memory-to-memory move with no scratch register free: no plan (the call stays a call).
  t.is(planArgumentMoves([{ to: 0, from: '[s1]', incoming: 1, viaRegister: true }], [], slot), undefined);
  t.deepEqual(planArgumentMoves([{ to: 0, from: 'ebx', viaRegister: false }], [], slot), ['mov [s0], ebx']);
});
