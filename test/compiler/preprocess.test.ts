// The preprocessor (compiler/preprocess.ts) on its own: the macro-replacement examples of ISO C 6.10.3.5 (EXAMPLE 3,
// 4, 5, 7 and the `hash_hash` one of 6.10.3.3), whose results the standard prints, compared token for token
// (whitespace removed on both sides: the standard leaves spacing to the implementation); conditionals and #if's
// arithmetic; the line structure and the map back to original positions; headers found next to the file and on -I.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { preprocess, type PreprocessOptions } from '../../compiler/preprocess.ts';
import { Diagnostics } from '../../compiler/diagnostics.ts';
import { LIB_DIR } from '../../compiler/library.ts';

function pp(src: string, options: PreprocessOptions = {}, file = 'x.pop') {
  const diags = new Diagnostics();
  const r = preprocess(src, file, diags, options);
  return { ...r, diags: diags.list.map(d => `${d.file}:${d.line}:${d.col}: ${d.code}: ${d.message}`) };
}
/** The output's non-blank lines with all whitespace removed. */
const tokens = (text: string): string[] => text.split('\n').map(l => l.replace(/\s+/g, '')).filter(l => l !== '');

test('6.10.3.5 EXAMPLE 3: redefinition, rescanning, the no-recursion rule, arguments spanning lines', t => {
  const r = pp(`#define x 3
#define f(a) f(x * (a))
#undef x
#define x 2
#define g f
#define z z[0]
#define h g(~
#define m(a) a(w)
#define w 0,1
#define t(a) a
#define p() int
#define q(x) x
#define r(x,y) x ## y
#define str(x) # x
f(y+1) + f(f(z)) % t(t(g)(0) + t)(1);
g(x+(3,4)-w) | h 5) & m
(f)^m(m);
p() i[q()] = { q(1), r(2,3), r(4,), r(,5), r(,) };
char c[2][6] = { str(hello), str() };`);
  t.deepEqual(r.diags, []);
  t.deepEqual(tokens(r.text), [
    'f(2*(y+1))+f(2*(f(2*(z[0]))))%f(2*(0))+t(1);',
    'f(2*(2+(3,4)-0,1))|f(2*(~5))&f(2*(0,1))^m(0,1);',
    'inti[]={1,23,4,5,};',
    'charc[2][6]={"hello",""};',
  ]);
  // The invocation of m spans two lines: its expansion is on the first, the second is left empty, so every later
  // line keeps its number.
  const lines = r.text.split('\n');
  t.is(lines.length, 19);
  t.regex(lines[15], /\^m\(0,1\);$/);
  t.is(lines[16], '');
});

test('6.10.3.5 EXAMPLE 4: # and ## together, string literals stringized with their escapes', t => {
  const r = pp(`#define str(s) # s
#define xstr(s) str(s)
#define debug(s, t) printf("x" # s "= %d, x" # t "= %s", \\
 x ## s, x ## t)
#define INCFILE(n) vers ## n
#define glue(a, b) a ## b
#define xglue(a, b) glue(a, b)
#define HIGHLOW "hello"
#define LOW LOW ", world"
debug(1, 2);
fputs(str(strncmp("abc\\0d", "abc", '\\4') // this goes away
 == 0) str(: @\\n), s);
xstr(INCFILE(2).h)
glue(HIGH, LOW);
xglue(HIGH, LOW)`);
  t.deepEqual(r.diags, []);
  t.deepEqual(tokens(r.text), [
    'printf("x""1""=%d,x""2""=%s",x1,x2);',
    'fputs("strncmp(\\"abc\\\\0d\\",\\"abc\\",\'\\\\4\')==0"":@\\n",s);',
    '"vers2.h"',
    '"hello";',
    '"hello"",world"',
  ]);
});

test('6.10.3.3 EXAMPLE (hash_hash) and 6.10.3.5 EXAMPLE 5: ## makes ## and pastes empty arguments', t => {
  const r = pp(`#define hash_hash # ## #
#define mkstr(a) # a
#define in_between(a) mkstr(a)
#define join(c, d) in_between(c hash_hash d)
char p[] = join(x, y);
#define t(x,y,z) x ## y ## z
int j[] = { t(1,2,3), t(,4,5), t(6,,7), t(8,9,),
 t(10,,), t(,11,), t(,,12), t(,,) };`);
  t.deepEqual(r.diags, []);
  t.deepEqual(tokens(r.text), ['charp[]="x##y";', 'intj[]={123,45,67,89,', '10,11,12,};']);
});

test('6.10.3.5 EXAMPLE 7: variable arguments', t => {
  const r = pp(`#define debug(...) fprintf(stderr, __VA_ARGS__)
#define showlist(...) puts(#__VA_ARGS__)
#define report(test, ...) ((test)?puts(#test): printf(__VA_ARGS__))
debug("Flag");
debug("X = %d\\n", x);
showlist(The first, second, and third items.);
report(x>y, "x is %d but y is %d", x, y);`);
  t.deepEqual(r.diags, []);
  t.deepEqual(tokens(r.text), [
    'fprintf(stderr,"Flag");',
    'fprintf(stderr,"X=%d\\n",x);',
    'puts("Thefirst,second,andthirditems.");',
    '((x>y)?puts("x>y"):printf("xis%dbutyis%d",x,y));',
  ]);
});

test('conditionals: nesting, #elif chains, defined, C arithmetic in 64 bits, unknown names as 0', t => {
  const r = pp(`#define TWO 2
#define EMPTY
#if TWO * 3 == 6 && defined TWO && defined(EMPTY) && !defined NOPE && NOPE == 0
a
#if 0
#error not reached
#garbage is not a directive here
#elif (7 / 2) == 3 && (-7 % 3) == -1 && (1 << 40) > 0 && (~0 == -1) && 0x10 == 16 && 010 == 8
b
#else
c
#endif
#elif 1
d
#endif
#if 'A' == 65 ? 1 : 0
e
#endif
#ifndef TWO
f
#elif TWO > 1 || 1 / 0
g
#endif`);
  t.deepEqual(r.diags, []);
  t.deepEqual(tokens(r.text), ['a', 'b', 'e', 'g']);
});

test('a comment hides a directive, and a multi-line comment is blanked without moving a line', t => {
  const r = pp('/* #define X 1\n#error no */ int X;\nint y; // X\n/* a comment is whitespace */ #define Y 2\nY\n');
  t.deepEqual(r.diags, []);
  t.deepEqual(r.text.split('\n'), ['              ', '             int X;', 'int y; // X', '', '2', '']);
});

test('the fast path: a file with no # and no -D is returned as it is, with no position map', t => {
  const src = 'int f() { return 1; }\n/* a comment */\n';
  const r = pp(src);
  t.is(r.text, src);
  t.is(r.map, undefined);
  t.deepEqual(r.libraryIncludes, []);
});

test('positions map back: exact columns on unexpanded text, the invocation inside an expansion', t => {
  const r = pp('#define ADD(a, b) ((a) + (b))\nint v = ADD(1, 2) + w;\n', { defines: [{ name: 'Q', value: '5' }] });
  t.truthy(r.map);
  const lines = r.text.split('\n');
  t.is(lines[0], '');
  // `int v = ` is unchanged; `w` after the expansion maps to its own column, text inside the expansion to `ADD`.
  t.true(lines[1].startsWith('int v = '));
  t.deepEqual(r.map!.origin({ line: 2, col: 5 }), { file: 'x.pop', line: 2, col: 5 });
  t.deepEqual(r.map!.origin({ line: 2, col: lines[1].indexOf('w') + 1 }), { file: 'x.pop', line: 2, col: 21 });
  t.deepEqual(r.map!.origin({ line: 2, col: lines[1].indexOf('1') + 1 }),
    { file: 'x.pop', line: 2, col: 9, macro: 'ADD' });
});

test('-D NAME (as 1), -D NAME=VALUE, -U NAME, and __FILE__ / __LINE__ / #line', t => {
  const r = pp('A B C\n__LINE__ __FILE__\n#line 40 "y.pop"\n__LINE__ __FILE__\n', {
    defines: [{ name: 'A' }, { name: 'B', value: 'x+1' }, { name: 'C', value: '3' }], undefines: ['C'],
  });
  t.deepEqual(r.diags, []);
  t.deepEqual(tokens(r.text), ['1x+1C', '2"x.pop"', '40"y.pop"']);
});

test('#include: a header next to the file, then -I in order, then the library; library files are not textual', t => {
  const dir = mkdtempSync(join(tmpdir(), 'ktal-pp-'));
  try {
    mkdirSync(join(dir, 'i1'));
    mkdirSync(join(dir, 'i2'));
    writeFileSync(join(dir, 'local.h'), '#ifndef LOCAL_H\n#define LOCAL_H\nint local;\n#endif\n');
    writeFileSync(join(dir, 'i1', 'a.h'), 'int from_i1;\n');
    writeFileSync(join(dir, 'i2', 'a.h'), 'int from_i2;\n');
    writeFileSync(join(dir, 'i2', 'b.h'), 'int b_line = __LINE__; char *b_file = __FILE__;\n#include "a.h"\n');
    const main = join(dir, 'main.pop');
    const r = pp('#include "local.h"\n#include "local.h"\n#include <a.h>\n#include <b.h>\n#include "core.h"\n' +
      '#include <list.h>\nint end;\n', { includeDirs: [join(dir, 'i1'), join(dir, 'i2')] }, main);
    t.deepEqual(r.diags, []);
    // The guard makes the second include empty; <a.h> is i1's; b.h's quoted "a.h" is its own directory's first.
    t.deepEqual(tokens(r.text), ['intlocal;', 'intfrom_i1;', `intb_line=1;char*b_file="${join(dir, 'i2', 'b.h')}";`,
      'intfrom_i2;', 'intend;']);
    t.deepEqual(r.libraryIncludes, [join(LIB_DIR, 'core.pop'), join(LIB_DIR, 'list.pop')]);
    t.deepEqual([...r.headers.keys()], [join(dir, 'local.h'), join(dir, 'i1', 'a.h'), join(dir, 'i2', 'b.h'),
      join(dir, 'i2', 'a.h')]);
    // Positions after the headers map back to the main file's own lines.
    const endLine = r.text.split('\n').findIndex(l => l.includes('int end')) + 1;
    t.deepEqual(r.map!.origin({ line: endLine, col: 5 }), { file: main, line: 7, col: 5 });
    // The first output line is the first #include's own (a diagnostic at 1:1, "no pop_main", stays in main).
    t.deepEqual(r.map!.origin({ line: 1, col: 1 }), { file: main, line: 1, col: 1 });

    const missing = pp('#include "nope.h"\n#include <stdio.h>\n', {}, main);
    t.deepEqual(missing.diags, [`${main}:1:1: P1009: cannot find include file "nope.h"`,
      `${main}:2:1: P1010: cannot find include file <stdio.h>: popc has no C headers`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a macro is not expanded inside its own expansion, directly or through another', t => {
  const r = pp('#define a a b\n#define b a\n#define f(x) f(x) + g\n#define g f\na; b; f(1)(2);\n');
  t.deepEqual(r.diags, []);
  t.deepEqual(tokens(r.text), ['aa;ab;f(1)+f(2);']);
});

// GNU cpp as the oracle: the same inputs through the host's `cpp -P` (ISO C mode, no predefined macros) give the
// same tokens. Spacing and line breaks are the implementations' own and are not compared.
const cppInputs: Record<string, string> = {
  'function-like macros, rescanning, painted names': `#define x 3
#define f(a) f(x * (a))
#undef x
#define x 2
#define g f
#define z z[0]
#define h g(~
#define m(a) a(w)
#define w 0,1
#define t(a) a
f(y+1) + f(f(z)) % t(t(g)(0) + t)(1);
g(x+(3,4)-w) | h 5) & m
(f)^m(m);
#define a a b
#define b a
a; b;`,
  'stringizing and pasting': `#define str(s) # s
#define xstr(s) str(s)
#define glue(a, b) a ## b
#define xglue(a, b) glue(a, b)
#define HIGHLOW "hello"
#define LOW LOW ", world"
#define t(x,y,z) x ## y ## z
#define hash_hash # ## #
#define mkstr(a) # a
#define in_between(a) mkstr(a)
#define join(c, d) in_between(c hash_hash d)
glue(HIGH, LOW); xglue(HIGH, LOW) join(x, y)
int j[] = { t(1,2,3), t(,4,5), t(6,,7), t(8,9,), t(10,,), t(,11,), t(,,12), t(,,) };
xstr(glue(a, b) "q\\"" 'c') str( spaced   out  ) xstr(__LINE__)
#define report(test, ...) ((test)?puts(#test): printf(__VA_ARGS__))
report(x>y, "x is %d but y is %d", x, y);`,
  'conditionals and #if arithmetic': `#define V 3
#if V > 2 && defined(V) && !defined W && (V ? 10 : 1 / 0) == 10 && (-1 >> 1) == -1 && 'a' == 97
yes1
#elif 1
no1
#endif
#if (2 || 1 / 0) && 0x7fffffffffffffff + 0 > 0 && (5 % -3) == 2 && (~V & 0xff) == 252
yes2
#else
no2
#endif
#ifdef V
#if 0
#bogus
#else
yes3
#endif
#endif`,
};

const hasCpp = spawnSync('cpp', ['--version']).status === 0;
for (const [name, src] of Object.entries(cppInputs)) {
  (hasCpp ? test : test.skip)(`agrees with GNU cpp: ${name}`, t => {
    const gnu = spawnSync('cpp', ['-P', '-undef', '-std=c99', '-'], { input: src, encoding: 'utf8' });
    t.is(gnu.status, 0, gnu.stderr);
    const ours = pp(src);
    t.deepEqual(ours.diags, []);
    t.is(tokens(ours.text).join(''), tokens(gnu.stdout).join(''));
  });
}

test('bad input of every kind is diagnosed, never thrown: 400 random mixes of directives and macro calls', t => {
  // A fixed-seed generator (mulberry32), so that a failure is reproducible.
  let seed = 18;
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const pieces = ['#define F(a, b) a ## b', '#define G(x) #x F(x,', '#define H H H(', '#define E', '#undef F',
    '#if F(1,2) > 3', '#if (', '#if 1 ? 2', '#ifdef E', '#ifndef', '#elif 1 / 0', '#else', '#endif', '#line 7 "z"',
    '#line', '#error e', '#pragma p', '#include', '#include "missing.h"', '#include <x', '# 12', '#', '##',
    'F(', 'F(1)', 'G(G(1))', 'H', 'H(H)', ')', '"unterminated', "'", '/*', '*/', '__LINE__ __FILE__', 'F(,)', '\\'];
  for (let n = 0; n < 400; n++) {
    const lines = Array.from({ length: 1 + Math.floor(random() * 12) },
      () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => pieces[Math.floor(random() * pieces.length)])
        .join(' '));
    const src = lines.join('\n');
    t.notThrows(() => pp(src), src);
  }
});
