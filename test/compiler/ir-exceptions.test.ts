// The optimiser (compiler/ir/) compiles functions that raise, handle and hold exceptions (docs/popcorn.md
// "Exceptions", compiler/ir/README.md): the second return address in its convention, a try body's blocks with their
// handler, the landing after a raising call going to the handler or out, ebx, esi, edi and ebp given back on the
// exceptional path. Each program here runs natively at -O0 and -O2 with the same output, which is also written out
// (the host's CPU runs both), and the functions are shown to be the optimiser's (its convention's type variables,
// no temporary pushed), not the stack machine's. The corpora (Popcorn's exn-* and union-*, the run corpus, the fuzz
// property) hold the rest at both levels.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { compile } from '../../compiler/popc.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { scratch } from '../util/native.ts';

const bin = scratch('ktal-popc-ir-exn-');
test.after.always(() => bin.done());

/** Compile at `level`, verify, run natively: standard output and status. */
function run(src: string, name: string, level: 0 | 2): { out: string; status: number | null; tal: string } {
  const c = compile(src, `${name}.pop`, { optimise: level });
  if (!c.elf) throw new Error(`${name} -O${level}: ${JSON.stringify(c.diagnostics)} ${c.assemblerErrors ?? ''}`);
  const check = checkElf(c.elf);
  if (!check.ok) throw new Error(`${name} -O${level} refused: ${JSON.stringify(check)}`);
  const r = spawnSync(bin.file(`${name}-O${level}`, c.elf, 0o755), [], { encoding: 'latin1' });
  return { out: r.stdout, status: r.status, tal: c.tal! };
}

/** The type popc gave function label `f`, and its instructions (to the next function). */
function fun(tal: string, f: string): { type: string; lines: string[] } {
  const head = tal.indexOf(`\n.tal_label ${f} : `);
  const start = tal.indexOf(`\n${f}:`, head);
  const end = tal.indexOf('\n\n', start + 1);
  const type = tal.slice(head, start).trim();
  return { type, lines: tal.slice(start, end < 0 ? undefined : end).split('\n').map(l => l.trim()) };
}

/** The pushes that are neither the prologue's nor a call's arguments nor a failure stub's. */
function strayPushes(lines: string[]): string[] {
  const code = lines.filter(l => l && !l.startsWith('.'));
  const out: string[] = [];
  let k = code.findIndex(l => l.endsWith(':')) + 1;
  while (code[k]?.startsWith('push')) k++; // the prologue: saved registers and spill slots
  for (; k < code.length; k++) {
    if (!code[k].startsWith('push')) continue;
    let j = k;
    while (code[j].startsWith('push')) j++;
    if (!code[j].startsWith('call') && !code[j].startsWith('jmp __popc_')) out.push(code[k]);
    k = j;
  }
  return out;
}

/** The optimiser's convention: ebx … ebp given back through type variables (the stack machine's has none). */
const optimised = (type: string): boolean => type.includes('s_ebx');

const PROGRAM = `#include "core.h"
open Core;

exception Odd(int);
exception Stop;

int half(int n) {
  if (n % 2 != 0) raise Odd(n);
  return n / 2;
}

int halve_all(int n, int times) {
  int k;
  for (k = 0; k < times; k++) n = half(n);
  return n;
}

// count and total live across the raising call, in callee-saved registers, and are read by the handler.
int tally(int limit) {
  int count = 0, total = 0, i;
  for (i = 1; i <= limit; i++) {
    try {
      total = total + halve_all(i * 4, 3);
      count++;
    } handle e {
      switch (e) {
      case Odd(v): total = total + 1000 * v + count;
      default: count = 0;
      }
    }
  }
  return total;
}

// The exception left out: a switch without default raises again what no case takes.
int only_stop(int n) {
  try { return halve_all(n, 5); } handle e switch (e) { case Stop: return -1; }
}

void pop_main() {
  print_int(tally(6)); print_newline();
  try { print_int(only_stop(40)); } handle e { print_string("left"); }
  print_newline();
  try {
    try { raise Stop; } handle inner { print_string("inner "); raise inner; }
  } handle outer {
    switch (outer) { case Stop: print_string("outer"); default: print_string("?"); }
  }
  print_newline();
}
`;

test('raising, handling and re-raising functions are the optimiser\'s, and behave as at -O0', t => {
  const o0 = run(PROGRAM, 'exn-o2', 0), o2 = run(PROGRAM, 'exn-o2', 2);
  // tally: i = 1 … 6, i * 4 halved three times is odd at the third halving for odd i (i*4/4 = i): Odd(i) for i
  // = 1, 3, 5, with count 0, 1, 2 then; even i add i / 2.
  const expected = [1000 * 1 + 0 + 1 + 1000 * 3 + 1 + 2 + 1000 * 5 + 2 + 3, 'left', 'inner outer'].join('\n') + '\n';
  t.is(o0.out, expected);
  t.is(o2.out, expected);
  t.is(o2.status, 0);
  for (const f of ['f_half', 'f_halve_all', 'f_tally', 'f_only_stop']) {
    const { type, lines } = fun(o2.tal, f);
    t.true(optimised(type), `${f}: ${type}`);
    // No temporary pushed: past the prologue, a run of pushes is a call's arguments (the stack machine pushes its
    // expression temporaries) or a check's stub.
    t.deepEqual(strayPushes(lines), [], `${f}: ${lines.join('; ')}`);
  }
  // half and halve_all raise (a second return address in their type), tally only handles.
  t.true(fun(o2.tal, 'f_half').type.includes('__popc_exn'));
  t.false(fun(o2.tal, 'f_tally').type.includes('__popc_exn'));
});

test('the values a handler reads stay in callee-saved registers across the raising call and its landing', t => {
  const { tal } = run(PROGRAM, 'exn-o2-regs', 2);
  const { lines } = fun(tal, 'f_tally');
  // The landing after the call of halve_all: arguments dropped, the exception into the handler's variable's
  // register (if not left in eax), a jump to the handler; nothing reloaded from memory.
  const landing = lines.findIndex(l => /^call L\d+_raised$/.test(l));
  t.true(landing > 0, lines.join('; '));
  t.is(lines[landing + 1], 'add esp, 8');
  const jump = lines.findIndex((l, k) => k > landing && l.startsWith('jmp'));
  t.regex(lines[jump], /^jmp L\d+_b$/);
  t.deepEqual(lines.slice(landing + 2, jump).filter(l => !/^mov e[bs]?[a-z][xip]?, eax$/.test(l)), []);
  // count and total are in registers at the handler (no spill slot: the frame is the saved registers only).
  t.false(lines.some(l => /^push 0$/.test(l)), lines.join('; '));
});

test('a try body with a check that may fail stays with the stack machine, whose handler takes the check', t => {
  const src = `#include "core.h"
open Core;
int at(int xs[], int i) {
  try { return xs[i]; } handle e { return -1; }
}
void pop_main() { int xs[] = {7, 8}; print_int(at(xs, 1)); print_int(at(xs, 5)); print_newline(); }
`;
  const o0 = run(src, 'exn-o2-check', 0), o2 = run(src, 'exn-o2-check', 2);
  t.is(o0.out, '8-1\n');
  t.is(o2.out, '8-1\n');
  t.false(optimised(fun(o2.tal, 'f_at').type), 'the stack machine\'s convention');
});

test('an assignment after a raising call in a try body is not moved before it: the handler sees the old value', t => {
  // `a + 1 + (boom(a), 0)` folds to a + 1 computed before the call and copied to x after it; coalescing the copy
  // into the addition would write x before boom raises (coalesce.ts).
  const src = `#include "core.h"
open Core;
exception Stop;
int boom(int n) { if (n > 0) raise Stop; return 0; }
int keep(int a) {
  int x = 100;
  try { x = a + 1 + (boom(a), 0); } handle e { return x; }
  return x;
}
void pop_main() { print_int(keep(5)); print_string(" "); print_int(keep(-1)); print_newline(); }
`;
  t.is(run(src, 'exn-o2-keep', 0).out, '100 0\n');
  const o2 = run(src, 'exn-o2-keep', 2);
  t.is(o2.out, '100 0\n');
  t.true(optimised(fun(o2.tal, 'f_keep').type));
});
