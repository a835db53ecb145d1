// Dead functions (compiler/live.ts): only what the program reaches from its entry is generated, and everything it
// reaches is there — called by name, passed as a value, stored in a function-typed global, nested or anonymous —
// at both levels; a library function nobody calls is left out.
import test from 'ava';
import { compile } from '../../compiler/popc.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { runProgram } from '../../kernel/talrun.ts';
import { LEVELS, flag } from '../util/levels.ts';

const PROGRAM = `#include "core.h"
#include "list.h"
open Core;
int twice(int x) { return 2 * x; }
int thrice(int x) { return 3 * x; }
int unused(int x) { return x + 1000; }
int hook(int) = thrice;
int apply(int f(int), int x) { return f(x); }
void pop_main() {
  int base = 1;
  int add_base(int x) { return x + base; }
  <int>List::list l = List::map(twice, new List::list(1, new List::list(2, null)));
  print_int(apply(add_base, 4)); print_newline();
  print_int(hook(5) + List::length(l)); print_newline();
  print_int(apply(fun int (int y) { return y * y; }, 6)); print_newline();
}
`;

for (const level of LEVELS) {
  test(`${flag(level)}: what the program reaches is generated, what it does not is not, and it runs`, t => {
    const r = compile(PROGRAM, 'live.pop', { optimise: level });
    t.deepEqual(r.diagnostics, []);
    t.truthy(r.elf, r.assemblerErrors);
    const labels = new Set([...r.tal!.matchAll(/^([A-Za-z_$][\w$]*):/gm)].map(m => m[1]));
    for (const used of ['f_twice', 'f_thrice', 'f_apply', 'f_List__map', 'f_List__length', 'f_Core__print_int']) {
      t.true(labels.has(used), `${used} is generated`);
    }
    const dead = ['f_unused', 'f_List__merge_sort', 'f_List__flatten', 'f_Core__int_of_string', 'f_Core__fprint_hex'];
    for (const dead1 of dead) {
      t.false(labels.has(dead1), `${dead1} is left out`);
    }
    t.true(checkElf(r.elf!).ok);
    const run = runProgram(r.elf!, ['live'], { kernel: true });
    t.is(Buffer.from(run.stdout).toString(), '5\n17\n36\n');
    t.is(run.status, 0);
  });
}
