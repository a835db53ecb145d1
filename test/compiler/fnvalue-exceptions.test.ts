// Exceptions through function values (docs/popcorn.md "Exceptions through function values"): every function value
// takes the second return address, so a raise in a function called through a value (a top-level function, a
// closure, a nested function) reaches the handlers of its callers, at -O0 and -O2 alike. The rule in
// compiler/raises.ts (what may raise because it calls through a value, closures used as values compiled as raising
// functions, the checks of functions used as values made catchable by a handler around a call through a value), and
// small programs whose output is worked out by hand here, run natively at both levels (the host CPU runs the code
// the checker verified). The Popcorn corpus's fvx_* programs hold the library's functions in between (map, iter,
// fold_left, merge_sort, Hashtable::iter).
import test from 'ava';
import { flow } from '../util/raising.ts';
import { scratch } from '../util/native.ts';
import { bothLevels, functionBody } from '../util/optimised.ts';

const bin = scratch('ktal-popc-fnvalue-exn-');
test.after.always(() => bin.done());

test('a call through a function value may raise; a closure used as a value is a raising function', t => {
  const f = flow(`
int apply(int f(int), int x) { return f(x); }          // calls through a value: may raise
int guarded(int f(int), int x) { try { return f(x); } handle e { return 0; } } // its try stops it
int plain(int x) { return x + 1; }                      // used as a value, raises nothing: unchanged
int user(int x) { return apply(plain, x); }             // calls apply outside a try: may raise
void pop_main() {
  int k = 3;
  guarded(fun int (int y) { return y * k; }, 2);        // a closure (captures k) used as a value
  guarded(plain, 1);
}`);
  t.true(f.raising.includes('apply'));
  t.true(f.raising.includes('user'));
  t.false(f.raising.includes('guarded'));
  t.false(f.raising.includes('plain'));
  t.false(f.raising.includes('pop_main'));
  // the closure: its own code is its value's, so it takes the second return address
  t.is(f.raising.filter(n => !['apply', 'user'].includes(n)).length, 1, f.raising.join(', '));
  t.deepEqual(f.checks, []);
});

test('a handler taking built-in exceptions around a call through a value makes the checks of values raise', t => {
  const src = (handler: string): string => `
exception Other;
int at(int a[], int i) { return a[i]; }                  // a bounds check, and used as a value below
int apply(int f(int[], int), int a[], int i) { return f(a, i); }
void pop_main() {
  int a[] = {1, 2};
  try { apply(at, a, 5); } handle e ${handler}
}`;
  t.deepEqual(flow(src('{ }')).checks.sort(), ['apply', 'at']);
  // A switch naming no built-in exception and without default passes them on: nothing is catchable.
  t.deepEqual(flow(src('switch e { case Other: }')).checks, []);
});

const PROGRAM = `#include "core.h"
open Core;

exception Odd(int);

int half(int x) { if (x % 2 == 1) raise Odd(x); return x / 2; }
int twice(int f(int), int x) { return f(f(x)); }         // raises what f raises, two frames down

int sum_halves(int f(int), int xs[]) {
  int total = 0, done = 0;
  for (int i = 0; i < size(xs); i++) {
    int x = xs[i];                                       // (a check in a try body is the stack machine's)
    try { total += f(x); done++; }                       // a call through a value in a try body
    handle e switch e { case Odd(n): total -= n; }       // total and done live into the handler
  }
  return total * 100 + done;
}

void pop_main() {
  int xs[] = {4, 7, 10, 3};
  printf("%d\\n", sum_halves(half, xs));
  int bias = 1;
  int shifted(int x) { if (x > 40) raise Odd(x); return x + bias; }   // a nested function: a closure over bias
  for (int x = 20; x < 60; x += 20) {
    try { printf("twice %d\\n", twice(&half, x)); } handle e switch e { case Odd(n): printf("odd %d\\n", n); }
    try { printf("shifted %d\\n", twice(shifted, x)); } handle e switch e { case Odd(n): printf("big %d\\n", n); }
    try {
      printf("anonymous %d\\n", twice(fun int (int y) { if (y == 40) raise Odd(-y); return y * 2; }, x));
    } handle e switch e { case Odd(n): printf("forty %d\\n", n); }
  }
}
`;

// By hand: sum_halves: 4 → 2 (total 2, done 1); 7 raises (total -5); 10 → 5 (total 0, done 2); 3 raises
// (total -3): -3 * 100 + 2. x = 20: half(20) = 10, half(10) = 5; shifted 21, 22; 20 * 2 = 40 raises Odd(-40).
// x = 40: half(40) = 20, half(20) = 10; shifted(40) = 41, shifted(41) raises Odd(41); y = 40 raises at once.
const EXPECTED = `-298
twice 5
shifted 22
forty -40
twice 10
big 41
forty -40
`;

test('raises through function values reach the caller\'s handler, with the same output at -O0 and -O2', t => {
  const { o0, o2, tal } = bothLevels(t, bin, PROGRAM, 'fnvalue');
  t.is(o0, EXPECTED);
  t.is(o2, EXPECTED);
  // At -O2, sum_halves is the optimiser's (its registers given back), and its call through the value first pushes
  // the second return address with a call to the label just after, the package in eax across it.
  const body = functionBody(tal, 'f_sum_halves');
  const call = body.indexOf('call ecx');
  t.true(call > 0, body.join('\n'));
  t.true(tal.includes('.tal_label f_sum_halves : code[r:stack, s_ebx'), 'the optimiser\'s convention');
  t.regex(body.slice(0, call).reverse().find(l => l.startsWith('call')) ?? '', /^call L\d+_raised$/);
  // Dropped after the call: the argument, the environment and the second return address.
  t.is(body[call + 1], 'add esp, 12');
});

test('an anonymous function among printf\'s arguments is lifted once (popc crashed on a closure there)', t => {
  // printf's arguments are typed, then the fmt_* call they become is checked: the fun was lifted twice, and the
  // second function's captured variable was looked for in the first one's frame ("internal: table is not on the
  // stack"). 10 + 30 + 20 = 60.
  const { o0, o2 } = bothLevels(t, bin, `#include "core.h"
#include "list.h"
open Core;
void pop_main() {
  int table[] = {10, 20, 30};
  int idx[] = {0, 2, 1};
  printf("%d %d\\n", List::length(List::map(fun int (int i) { return table[i]; }, List::from_array(idx))),
    List::fold_left(fun int (int a, int i) { return a + table[i]; }, 0, List::from_array(idx)));
}
`, 'printf-closure');
  t.is(o0, '3 60\n');
  t.is(o2, '3 60\n');
});
