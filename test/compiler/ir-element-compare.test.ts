// The optimiser's element compared in place (compiler/ir/emit.ts, foldedElement): a word element a branch alone reads
// is tested where it lies, after its bounds check (`cmp DWORD PTR [a+i*4+4], 0`, as gcc tests `a[i]`), instead of
// loaded into a register first. A sieve over an int array (a bool array is bytes, test/compiler/bytes.test.ts) is
// compiled at every level, verified by the checker, run natively by the host's CPU, and its count of primes compared
// with one computed here; the bounds check stays.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { compile } from '../../compiler/popc.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { LEVELS, flag } from '../util/levels.ts';
import { scratch } from '../util/native.ts';

const bin = scratch('ktal-popc-elemcmp-');
test.after.always(() => bin.done());

const program = `#include "core.h"
open Core;

int primes_below(int n) {
  int composite[] = new_array(n, 0);
  int count = 0;
  for (int i = 2; i < n; i++) {
    if (composite[i] == 0) {
      count++;
      for (int j = i + i; j < n; j += i) composite[j] = 1;
    }
  }
  return count;
}

void pop_main() {
  print_int(primes_below(1000)); print_char(' '); print_int(primes_below(2)); print_newline();
  flush();
}
`;

/** The number of primes below n, by trial division. */
function primesBelow(n: number): number {
  let count = 0;
  for (let k = 2; k < n; k++) {
    let prime = true;
    for (let d = 2; d * d <= k; d++) if (k % d === 0) { prime = false; break; }
    if (prime) count++;
  }
  return count;
}

/** The instructions of function `name` in popc's TAL text, up to the next blank line. */
function body(tal: string, name: string): string[] {
  const start = tal.indexOf(`\n${name}:`);
  const end = tal.indexOf('\n\n', start + 1);
  return tal.slice(start, end < 0 ? undefined : end).split('\n').map(l => l.trim());
}

for (const level of LEVELS) {
  test(`a sieve over an int array counts the primes (${flag(level)})`, t => {
    const c = compile(program, 'elemcmp.pop', { optimise: level });
    t.deepEqual(c.diagnostics, []);
    const v = checkElf(c.elf!);
    t.true(v.ok, v.ok ? '' : `${v.error.cls}: ${v.error.message}`);
    const run = spawnSync(bin.file(`elemcmp${flag(level)}`, c.elf!, 0o755), [], { encoding: 'latin1' });
    t.is(run.status, 0);
    t.is(run.stdout, `${primesBelow(1000)} ${primesBelow(2)}\n`);
    if (level === 0) return;
    const insns = body(c.tal!, 'f_primes_below');
    // composite[i] == 0: the element compared where it lies, right after its bounds check on the same registers.
    const k = insns.findIndex(l => /^cmp DWORD PTR \[e\w\w\+e\w\w\*4\+4\], 0$/.test(l));
    t.true(k >= 2, insns.join('; '));
    const [, base, index] = /\[(e\w\w)\+(e\w\w)\*4/.exec(insns[k])!;
    t.is(insns[k - 2], `cmp ${index}, DWORD PTR [${base}]`);
    t.regex(insns[k - 1], /^jae L\w+_fail$/);
  });
}
