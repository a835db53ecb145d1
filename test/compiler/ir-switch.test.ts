// The optimiser's switch dispatch (compiler/ir/switch.ts): the balanced decision tree is walked for every value near
// the cases and at the ends of the int range, by the meaning of the IR's compares (IA-32's signed and unsigned jcc),
// and must reach what the chain of compares of the stack machine reaches (the first case with the value, else the
// default) in at most ceil(log2(pieces)) compares; then programs with dense, sparse, negative and listed case values
// are compiled at every level, verified by the checker, and run natively by the host's CPU with the same output,
// which a TypeScript twin of the switches predicts.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { compile } from '../../compiler/popc.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { depth, lowerDecisionTree, pieces, type CaseArm, type TreeBuilder } from '../../compiler/ir/switch.ts';
import type { Block, Cond, Term } from '../../compiler/ir/ir.ts';
import { LEVELS, flag } from '../util/levels.ts';
import { scratch } from '../util/native.ts';

const bin = scratch('ktal-popc-switch-');
test.after.always(() => bin.done());

let ids = 0;
const block = (): Block => ({ id: ids++, insts: [], term: { op: 'unreachable' }, termLine: 0 });

/** The tree for `arms`, built into fresh blocks: its root block and the case and default blocks it may end at. */
function tree(values: number[][]): { root: Block; cases: Block[]; dflt: Block } {
  const root = block(), dflt = block(), cases = values.map(block);
  let cur = root;
  const b: TreeBuilder = {
    later: block,
    start: x => { cur = x; },
    end: (t: Term) => { cur.term = t; cur = block(); },
  };
  const arms: CaseArm[] = values.flatMap((vs, i) => vs.map(value => ({ value, to: cases[i] })));
  lowerDecisionTree(b, { k: 'imm', n: 0 }, arms, dflt);
  return { root, cases, dflt };
}

/** `a CC b` as the jcc after `cmp a, b` decides it. */
function holds(cc: Cond, a: number, b: number): boolean {
  const s = (x: number) => x | 0, u = (x: number) => x >>> 0;
  switch (cc) {
    case 'e': return s(a) === s(b);
    case 'ne': return s(a) !== s(b);
    case 'l': return s(a) < s(b);
    case 'le': return s(a) <= s(b);
    case 'g': return s(a) > s(b);
    case 'ge': return s(a) >= s(b);
    case 'b': return u(a) < u(b);
    case 'be': return u(a) <= u(b);
    case 'a': return u(a) > u(b);
    case 'ae': return u(a) >= u(b);
  }
}

/** Where the tree sends x, and after how many compares. */
function walk(root: Block, ends: Set<Block>, x: number): { to: Block; compares: number } {
  let b = root, compares = 0;
  while (!ends.has(b)) {
    const t = b.term;
    if (t.op === 'jmp') b = t.to;
    else if (t.op === 'br' && t.b.k === 'imm') { compares++; b = holds(t.cc, x, t.b.n) ? t.yes : t.no; }
    else throw new Error(`a tree block ends in ${t.op}`);
  }
  return { to: b, compares };
}

const INT_MIN = -0x80000000, INT_MAX = 0x7fffffff;

/** Every value within 2 of a case value or an end of the int range. */
function probes(values: number[][]): number[] {
  const near = [INT_MIN, INT_MAX, 0, ...values.flat()].flatMap(v => [-2, -1, 0, 1, 2].map(d => (v + d) | 0));
  return [...new Set(near)];
}

const shapes: Record<string, number[][]> = {
  'dense 0..11 (interp)': Array.from({ length: 12 }, (_, i) => [i]),
  'sparse': [[1], [100], [1000], [65]],
  'negative and positive': [[-5], [-1], [0], [7], [3]],
  'listed values merged into ranges': [[1, 2, 3], [4], [5, 6], [10, 12, 11]],
  'the ends of the int range': [[INT_MIN], [INT_MAX], [0]],
  'a value twice: the first case wins': [[4], [4, 5], [9]],
  'one case': [[42]],
  'no case': [],
};

for (const [name, values] of Object.entries(shapes)) {
  test(`decision tree, ${name}: each value reaches the chain's case within ceil(log2(pieces)) compares`, t => {
    const { root, cases, dflt } = tree(values);
    const ends = new Set([...cases, dflt]);
    const unsigned = values.flat().every(v => v >= 0);
    const limit = depth(pieces(values.flatMap((vs, i) => vs.map(value => ({ value, to: cases[i] }))), dflt, unsigned)
      .length);
    for (const x of probes(values)) {
      const first = values.findIndex(vs => vs.includes(x));
      const { to, compares } = walk(root, ends, x);
      t.is(to, first < 0 ? dflt : cases[first], `x = ${x}`);
      t.true(compares <= limit, `x = ${x}: ${compares} compares, more than ${limit}`);
    }
  });
}

test('pieces: dense non-negative cases in unsigned order leave one default piece, past the largest case', t => {
  const cases = Array.from({ length: 12 }, block), dflt = block();
  const ps = pieces(cases.map((to, value) => ({ value, to })), dflt, true);
  t.is(ps.length, 13);
  t.deepEqual(ps[12], { lo: 12, hi: 0xffffffff, to: dflt });
  // 12 compares in a chain for the last case; the tree needs 4 for any value.
  t.is(depth(ps.length), 4);
});

test('pieces: consecutive values of one case form one range', t => {
  const a = block(), b = block(), dflt = block();
  const ps = pieces([{ value: 3, to: a }, { value: 1, to: a }, { value: 2, to: a }, { value: 4, to: b }], dflt, false);
  t.deepEqual(ps.map(p => [p.lo, p.hi, p.to === dflt ? 'd' : p.to === a ? 'a' : 'b']),
    [[INT_MIN, 0, 'd'], [1, 3, 'a'], [4, 4, 'b'], [5, INT_MAX, 'd']]);
});

const program = `#include "core.h"
open Core;

int dense(int op) {
  switch (op) {
  case 0: return 100;
  case 1: return 101;
  case 2: return 102;
  case 3: return 103;
  case 4: return 104;
  case 5: return 105;
  case 6: return 106;
  case 7: return 107;
  case 8: return 108;
  case 9: return 109;
  case 10: return 110;
  case 11: return 111;
  default: return -1;
  }
}

int mixed(int x) {
  int r = 0;
  switch (x) {
  case -1000: r = 1;
  case -3, -2, -1: r = 2;
  case 0: r = 3;
  case 5, 6, 7, 9: r = 4;
  case 64: r = 5;
  case 1000000: r = 6;
  default: r = 7;
  }
  return r;
}

int letter(char c) {
  switch (c) {
  case 'a', 'e', 'i', 'o', 'u': return 1;
  case ' ': return 2;
  default: return 0;
  }
}

void pop_main() {
  for (int i = -3; i < 15; i++) { print_int(dense(i)); print_char(' '); }
  print_newline();
  int probes[] = {-2147483647, -1001, -1000, -999, -4, -3, -2, -1, 0, 1, 4, 5, 6, 7, 8, 9, 10, 63, 64, 65,
    999999, 1000000, 1000001, 2147483647};
  for (int i = 0; i < size(probes); i++) { print_int(mixed(probes[i])); print_char(' '); }
  print_newline();
  string s = "a quick brown fox";
  int n = 0;
  for (int i = 0; i < size(s); i++) n = n * 3 + letter(s[i]);
  print_int(n);
  print_newline();
  flush();
}
`;

/** What the program prints, by the switches' meaning (the first listed case with the value, else the default). */
function expected(): string {
  const dense = (op: number) => (op >= 0 && op <= 11 ? 100 + op : -1);
  const mixedCases: [number[], number][] = [[[-1000], 1], [[-3, -2, -1], 2], [[0], 3], [[5, 6, 7, 9], 4], [[64], 5],
    [[1000000], 6]];
  const mixed = (x: number) => mixedCases.find(([vs]) => vs.includes(x))?.[1] ?? 7;
  const probes = [-2147483647, -1001, -1000, -999, -4, -3, -2, -1, 0, 1, 4, 5, 6, 7, 8, 9, 10, 63, 64, 65, 999999,
    1000000, 1000001, 2147483647];
  let n = 0;
  for (const c of 'a quick brown fox') n = (n * 3 + ('aeiou'.includes(c) ? 1 : c === ' ' ? 2 : 0)) | 0;
  const line = (xs: number[]) => xs.map(x => `${x} `).join('');
  return `${line(Array.from({ length: 18 }, (_, i) => dense(i - 3)))}\n${line(probes.map(mixed))}\n${n}\n`;
}

for (const level of LEVELS) {
  test(`switches on dense, sparse, negative and listed values run natively as the cases say (${flag(level)})`, t => {
    const c = compile(program, 'switches.pop', { optimise: level });
    t.deepEqual(c.diagnostics, []);
    const v = checkElf(c.elf!);
    t.true(v.ok, v.ok ? '' : `${v.error.cls}: ${v.error.message}`);
    const file = bin.file(`switches${flag(level)}`, c.elf!, 0o755);
    const run = spawnSync(file, [], { encoding: 'latin1', timeout: 20_000 });
    t.is(run.status, 0);
    t.is(run.stdout, expected());
  });
}
