// By hand (`npx tsx bench/preprocess.ts`): what popc's preprocessor (compiler/preprocess.ts) costs beside the
// parser it runs before, wall-clock, medians of several runs after a warm-up. Three inputs: every file popc compiles
// as written today (the library and the examples: directives are at most library includes), the same text with one
// macro defined (so every line is lexed and scanned for invocations: the slow path), and a generated file of macro
// invocations at 1× and 4× size (the preprocessor is linear: 4× the lines, about 4× the time).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { preprocess } from '../compiler/preprocess.ts';
import { parseFile } from '../compiler/parser.ts';
import { Diagnostics } from '../compiler/diagnostics.ts';

const root = join(import.meta.dirname, '..');
const files = ['compiler/lib', 'compiler/examples'].flatMap(d =>
  readdirSync(join(root, d)).filter(f => f.endsWith('.pop')).map(f => join(root, d, f)));
const corpus = files.map(f => ({ file: f, text: readFileSync(f, 'utf8') }));

/** Median milliseconds of `runs` calls of `f`, after one unmeasured call. */
function median(f: () => void, runs = 15): number {
  f();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    f();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

const lines = corpus.reduce((n, c) => n + c.text.split('\n').length, 0);
const pp = (defines: { name: string }[]) => () => {
  for (const c of corpus) preprocess(c.text, c.file, new Diagnostics(), { defines });
};
const parse = median(() => { for (const c of corpus) parseFile(c.text, c.file, new Diagnostics()); }, 5);
const fast = median(pp([]));
const slow = median(pp([{ name: 'UNUSED_MACRO' }]));

const generated = (n: number): string => ['#define SQ(x) ((x) * (x))', '#define ADD(a, b) ((a) + (b))',
  ...Array.from({ length: n }, (_, i) => `int v${i} = ADD(SQ(${i}), SQ(ADD(${i}, 1))); // line ${i}`)].join('\n');
const g1 = generated(5000);
const g4 = generated(20000);
const gen1 = median(() => preprocess(g1, 'gen.pop', new Diagnostics()), 7);
const gen4 = median(() => preprocess(g4, 'gen.pop', new Diagnostics()), 7);

const ms = (x: number): string => `${x.toFixed(2)} ms`;
console.log(`| input | preprocess | parse |`);
console.log(`|---|---|---|`);
console.log(`| library + examples (${corpus.length} files, ${lines} lines), as written | ${ms(fast)} | ${ms(parse)} |`);
console.log(`| the same with -D UNUSED_MACRO (every line lexed) | ${ms(slow)} | |`);
console.log(`| 5,000 lines of nested macro invocations | ${ms(gen1)} | |`);
console.log(`| 20,000 lines of the same (ratio ${(gen4 / gen1).toFixed(2)}) | ${ms(gen4)} | |`);
