// The optimiser's own properties (compiler/ir/), beyond the corpora that run at both levels: constant folding
// computes what the CPU computes (the same expressions folded by popc -O2 and computed at run time by the host's CPU
// from -O0 code), no temporary is ever pushed (in find, every push but the prologue's is a call's argument), loops
// are tested at the bottom (one conditional jump per iteration, no unconditional one), and the command's -O flags.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { compile } from '../../compiler/popc.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { scratch } from '../util/native.ts';
import { seeded } from '../util/popgen.ts';

const root = join(import.meta.dirname, '..', '..');
const bin = scratch('ktal-popc-ir-');
test.after.always(() => bin.done());

/** The instructions of function `name` in popc's TAL text (labels, directives and stubs left out). */
function body(tal: string, name: string): string[] {
  const start = tal.indexOf(`\n${name}:`);
  const end = tal.indexOf('\n\n', start + 1);
  return tal.slice(start, end < 0 ? undefined : end).split('\n').map(l => l.trim())
    .filter(l => l && !l.endsWith(':') && !l.startsWith('.'))
    .filter((l, i, all) => !/^push OFFSET __popc_msg/.test(l) && !/^jmp __popc_/.test(l) && all.length > 0);
}

test('constant folding agrees with the CPU: 300 expressions folded at -O2 print what -O0 code computes natively', t => {
  const r = seeded(17);
  const values = [0, 1, -1, 2, 7, -8, 31, 32, 33, 255, 256, 1000, -1000, 0x7fffffff, -0x80000000, 0x12345678,
    -0x55555556];
  const pick = (): number => (r.int(0, 2) ? values[r.int(0, values.length - 1)] : r.int(-100000, 100000));
  const literal = (n: number): string => (n === -0x80000000 ? '(-2147483647 - 1)' : n < 0 ? `(${n})` : String(n));
  const ops = ['+', '-', '*', '&', '|', '^', '<<', '>>', '/', '%', '<', '<=', '==', '!='];
  const lines: string[] = [];
  for (let k = 0; k < 300; k++) {
    const op = ops[r.int(0, ops.length - 1)];
    let b = pick();
    if ((op === '/' || op === '%') && b === 0) b = 3;
    const unsigned = r.int(0, 3) === 0 && !['<', '<=', '==', '!='].includes(op);
    const a = literal(pick());
    if (['<', '<=', '==', '!='].includes(op)) lines.push(`  print_int(${a} ${op} ${literal(b)} ? 1 : 0);`);
    else if (unsigned) lines.push(`  { unsigned int u = ${a}; print_int(u ${op} ${literal(b)}); }`);
    else lines.push(`  print_int(${a} ${op} ${literal(b)});`);
    lines.push('  print_newline();');
  }
  const src = `#include "core.h"\nopen Core;\nvoid pop_main() {\n${lines.join('\n')}\n  flush();\n}\n`;
  const outs = [0, 2].map(level => {
    const c = compile(src, 'fold.pop', { optimise: level });
    t.deepEqual(c.diagnostics, []);
    t.true(checkElf(c.elf!).ok, `-O${level} verifies`);
    const run = spawnSync(bin.file(`fold-O${level}`, c.elf!, 0o755), [], { encoding: 'latin1', timeout: 10_000 });
    t.is(run.status, 0);
    return { out: run.stdout, tal: c.tal! };
  });
  t.is(outs[1].out, outs[0].out);
  t.is(outs[0].out.split('\n').length, 301);
  // Folded: -O2's pop_main multiplies and divides nothing at run time.
  const o2 = body(outs[1].tal, 'f_pop_main');
  const computed = o2.filter(l => /^(imul|idiv|div|shl|sar|shr)\b/.test(l));
  t.deepEqual(computed, []);
});

test('no temporary is pushed at -O2: in find, every push after the prologue is an argument of a call', t => {
  const tal = compile(readFileSync(join(root, 'compiler/examples/find.pop'), 'utf8'), 'find.pop', { optimise: 2 }).tal!;
  const lines = tal.split('\n').map(l => l.trim());
  let checked = 0, prologue = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    // Every function of find is the optimiser's, those that may raise included (the library's List functions).
    if (/^f_\w+:$/.test(l)) { prologue = true; continue; }
    if (!l.startsWith('push')) { if (!l.startsWith('.')) prologue = false; continue; }
    if (prologue) continue;
    // A run of pushes (past directives) ends in a call (through a function value: `mov eax, F` and the call that
    // pushes its second return address, docs/popcorn.md "Exceptions through function values"), or in a jump to a
    // failure routine (a check's stub, raise).
    let j = i;
    while (lines[j].startsWith('push') || lines[j].startsWith('.')) j++;
    if (lines[j].startsWith('mov eax, ')) {
      let k = j + 1;
      while (lines[k].startsWith('.')) k++; // a polymorphic function's .tal_inst
      if (/^call L\d+_raised$/.test(lines[k])) j = k;
    }
    // (and after that label, the package opened: its environment pushed, its code loaded and called)
    if (lines[j] === 'mov ecx, DWORD PTR [eax]' && lines[j + 1] === 'call ecx') j++;
    t.true(lines[j].startsWith('call') || lines[j].startsWith('jmp __popc_'), `line ${i + 1}: ${l} … ${lines[j]}`);
    checked++;
    i = j;
  }
  t.true(checked > 100, `${checked} call sites`);
});

test('loops are tested at the bottom: a counting loop is one conditional jump per iteration, no other jump', t => {
  const src = '#include "core.h"\nopen Core;\n'
    + 'int sum(int n) { int s = 0; for (int i = 0; i < n; i++) s += i; return s; }\n'
    + 'void pop_main() { print_int(sum(10)); print_newline(); flush(); }\n';
  const c = compile(src, 'loop.pop', { optimise: 2 });
  t.true(checkElf(c.elf!).ok);
  const insns = body(c.tal!, 'f_sum');
  t.deepEqual(insns.filter(l => /^j/.test(l)).map(l => l.split(' ')[0]), ['jle', 'jl'], insns.join('; '));
  // s and i live in registers: the loop body is an add and an increment, no memory operand.
  const loop = insns.slice(insns.findIndex(l => l.startsWith('jle')) + 1, insns.findIndex(l => l.startsWith('jl')));
  t.false(loop.some(l => l.includes('[')), loop.join('; '));
  const run = spawnSync(bin.file('loop', c.elf!, 0o755), [], { encoding: 'latin1' });
  t.is(run.stdout, '45\n');
});

test('popc -O0, -O, -O1, -O2 are accepted (-O* alike, -O0 the stack machine), -O3 is a usage error', t => {
  const src = join(root, 'test/popc/run/ackermann.pop');
  const tal = (flag: string): string => {
    const out = join(bin.dir, `ackermann${flag}.tal`);
    const r = spawnSync(process.execPath, ['bin/popc.js', src, flag, '-S', '-o', out], { cwd: root, encoding: 'utf8' });
    t.is(r.status, 0, `${flag}: ${r.stderr}`);
    return readFileSync(out, 'utf8');
  };
  const o0 = tal('-O0'), o = tal('-O');
  t.not(o, o0);
  t.is(tal('-O1'), o);
  t.is(tal('-O2'), o);
  const bad = spawnSync(process.execPath, ['bin/popc.js', src, '-O3'], { cwd: root, encoding: 'utf8' });
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^popc: -O3: the optimisation levels are -O0, -O \(or -O1\) and -O2\n$/);
});

test('a local statically null, tested: the non-null side is a label, where the checker sees its pointer type', t => {
  // Found by the differential run of popgen programs: with the non-null side entered by falling through, the checker
  // still knew the register as S(0) at the field access (not-a-pointer).
  const src = '?struct node { int v; node next; }\nint f(bool b) { node v = null; if (b) v = new node(7, null);\n'
    + '  if (v == null) return 0; return v.v; }\nvoid pop_main() { f(true); f(false); }\n'
    + 'int g() { node v = null; if (v == null) return 1; return v.v; }\n'
    + 'int h() { node v = null; return !(v == null) ? v.v : 2; }\n';
  const c = compile(src, 'null.pop', { optimise: 2 });
  t.deepEqual(c.diagnostics, []);
  const v = checkElf(c.elf!);
  t.true(v.ok, v.ok ? '' : `${v.error.cls}: ${v.error.message}`);
});
