// Bool and char arrays are TAL byte arrays (docs/popcorn.md "Bool and char arrays are bytes", compiler/types.ts's
// byteElement): at every level a `bool[]` made by new_array, a `char[]` literal and a global `char[]` are `*bytes`,
// made by tal_new_bytes (never tal_new_array), read with `movzx … BYTE PTR [a+i*1+4]` right after the bounds check of
// the same registers and written with `mov BYTE PTR`. The program is verified by the checker and run natively by
// the host's CPU; its output is compared with the primes and letters computed here.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { compile } from '../../compiler/popc.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { LEVELS, flag } from '../util/levels.ts';
import { scratch } from '../util/native.ts';

const bin = scratch('ktal-popc-bytes-');
test.after.always(() => bin.done());

const program = `#include "core.h"
open Core;

char letters[] = {'k', 't', 'a', 'l'};

int primes_below(int n) {
  bool composite[] = new_array(n, false);
  int count = 0;
  for (int i = 2; i < n; i++) {
    if (!composite[i]) {
      count++;
      for (int j = i + i; j < n; j += i) composite[j] = true;
    }
  }
  return count;
}

void shout(char s[]) {
  char up[] = {' ', ' ', ' ', ' '};
  for (int i = 0; i < size(s) && i < size(up); i++) up[i] = s[i] - 'a' + 'A';
  for (int i = 0; i < size(up); i++) print_char(up[i]);
}

void pop_main() {
  print_int(primes_below(1000)); print_char(' '); print_int(primes_below(2)); print_char(' ');
  shout(letters); print_newline();
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

/** The instructions of function `name` in popc's TAL text, up to the next function's label. */
function body(tal: string, name: string): string[] {
  const start = tal.indexOf(`\n${name}:`);
  const end = tal.indexOf('\n.tal_label f_', start + 1);
  return tal.slice(start, end < 0 ? undefined : end).split('\n').map(l => l.trim());
}

for (const level of LEVELS) {
  test(`bool and char arrays are byte arrays, read and written a byte at a time (${flag(level)})`, t => {
    const c = compile(program, 'bytes.pop', { optimise: level });
    t.deepEqual(c.diagnostics, []);
    const v = checkElf(c.elf!);
    t.true(v.ok, v.ok ? '' : `${v.error.cls}: ${v.error.message}`);
    const run = spawnSync(bin.file(`bytes${flag(level)}`, c.elf!, 0o755), [], { encoding: 'latin1' });
    t.is(run.status, 0);
    t.is(run.stdout, `${primesBelow(1000)} ${primesBelow(2)} ${'ktal'.toUpperCase()}\n`);

    const tal = c.tal!;
    const globalBytes = /\.tal_label \w+ : \*bytes\n\w+:\n\s+\.long 4\n\s+\.byte 107, 116, 97, 108/;
    t.regex(tal, globalBytes, 'the global char[] is a byte object');
    for (const f of ['f_primes_below', 'f_shout']) {
      const insns = body(tal, f);
      t.true(insns.includes('call DWORD PTR [tal_new_bytes]'), `${f}: ${insns.join('; ')}`);
      t.false(insns.some(l => l.includes('tal_new_array') || l.includes('*4+4]')), `${f}: ${insns.join('; ')}`);
      // Every element read is a byte's, right after the bounds check of its own array and index registers.
      const reads = insns.flatMap((l, k) => (/^movzx e\w\w, BYTE PTR \[e\w\w\+e\w\w\*1\+4\]$/.test(l) ? [k] : []));
      t.true(reads.length > 0, `${f}: ${insns.join('; ')}`);
      for (const k of reads) {
        const [, base, index] = /\[(e\w\w)\+(e\w\w)\*1/.exec(insns[k])!;
        t.is(insns[k - 2], `cmp ${index}, DWORD PTR [${base}]`, `${f}: ${insns.slice(k - 3, k + 1).join('; ')}`);
        t.regex(insns[k - 1], /^jae L\w+_fail$/);
      }
      t.true(insns.some(l => /^mov BYTE PTR \[e\w\w\+e\w\w\*1\+4\], (\w+)$/.test(l)), `${f}: ${insns.join('; ')}`);
    }
  });
}
