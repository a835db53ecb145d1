// The rules of docs/architecture.md §3 that can be checked mechanically, read from the sources' import statements
// and text: which floor imports which, no runtime import cycle inside the kernel, and the kernel's layout written
// once. A type-only import (`import type`, or every name imported with `type`) is erased by the compiler and
// creates no runtime dependency, so the cycle rule leaves it out; the floor rules count every import.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PAGE_SIZE as KERNEL_PAGE_SIZE } from '../kernel/arch/layout.ts';
import { PAGE_SIZE as MMU_PAGE_SIZE } from '../emulator/memory.ts';

const root = resolve(import.meta.dirname, '..');

interface Import { from: string; to: string; typeOnly: boolean }

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Comments and string contents blanked (so that an example in a comment is not an import), lengths kept. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, m => m.replace(/[^\n]/g, ' '));
}

// import … from '…'; export … from '…'; import '…' (side effects only). Statements may span lines.
const STATEMENT = /^\s*(import|export)\s+(type\s+)?([^;'"]*?)\s*(?:from\s+)?['"]([^'"]+)['"]/gm;

function importsOf(file: string): Import[] {
  const text = code(readFileSync(join(root, file), 'utf8'));
  const out: Import[] = [];
  for (const m of text.matchAll(STATEMENT)) {
    const [, kind, typeKw, clause, spec] = m;
    if (kind === 'export' && !/\bfrom\b/.test(m[0]) && !clause.includes('*')) continue; // a plain export
    if (!spec.startsWith('.')) continue; // node: and packages
    const names = /\{([^}]*)\}/.exec(clause)?.[1].split(',').map(s => s.trim()).filter(s => s !== '') ?? [];
    const hasDefault = /^[A-Za-z_$][\w$]*\s*(,|$)/.test(clause) || clause.includes('*');
    const allTypes = names.length > 0 && !hasDefault && names.every(n => n.startsWith('type '));
    const typeOnly = typeKw !== undefined || allTypes;
    out.push({ from: file, to: relative(root, resolve(root, dirname(file), spec)), typeOnly });
  }
  return out;
}

const folder = (path: string): string => path.split('/')[0];

test('the import parser sees every kind of statement', t => {
  const file = 'kernel/kernel.ts';
  const imports = importsOf(file);
  t.true(imports.length > 10);
  t.true(imports.some(i => i.to === 'kernel/arch/bare.ts' && !i.typeOnly));
  t.true(importsOf('kernel/mm.ts').some(i => i.to === 'kernel/arch/bare.ts'));
  t.true(importsOf('kernel/sched.ts').some(i => i.to === 'kernel/kernel.ts' && i.typeOnly));
});

test('emulator/ imports nothing outside emulator/ (the machine knows no operating system)', t => {
  const outside = sources('emulator').flatMap(importsOf).filter(i => folder(i.to) !== 'emulator');
  t.deepEqual(outside.map(i => `${i.from} → ${i.to}`), []);
});

test('kernel/fs/ imports nothing outside kernel/', t => {
  const outside = sources('kernel/fs').flatMap(importsOf).filter(i => folder(i.to) !== 'kernel');
  t.deepEqual(outside.map(i => `${i.from} → ${i.to}`), []);
});

test('compiler/ never imports kernel/ or emulator/', t => {
  const bad = sources('compiler').flatMap(importsOf).filter(i => ['kernel', 'emulator'].includes(folder(i.to)));
  t.deepEqual(bad.map(i => `${i.from} → ${i.to}`), []);
});

test('tal/ imports nothing outside tal/, and bench/ no test helper', t => {
  const tal = sources('tal').flatMap(importsOf).filter(i => folder(i.to) !== 'tal');
  t.deepEqual(tal.map(i => `${i.from} → ${i.to}`), []);
  const bench = sources('bench').flatMap(importsOf).filter(i => folder(i.to) === 'test');
  t.deepEqual(bench.map(i => `${i.from} → ${i.to}`), []);
});

test('no runtime import cycle inside kernel/ (type-only imports left out)', t => {
  const graph = new Map<string, string[]>();
  for (const i of sources('kernel').flatMap(importsOf)) {
    if (i.typeOnly || folder(i.to) !== 'kernel') continue;
    graph.set(i.from, [...(graph.get(i.from) ?? []), i.to]);
  }
  // Depth-first search with colours; the first back edge found gives the cycle's path.
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 'open') cycles.push([...stack.slice(stack.indexOf(g)), g].join(' → '));
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  t.deepEqual(cycles, []);
});

test('0xC0000000 is written in kernel/ only in the layout module (comments aside)', t => {
  const bad: string[] = [];
  for (const file of sources('kernel')) {
    if (file === 'kernel/arch/layout.ts') continue;
    code(readFileSync(join(root, file), 'utf8')).split('\n').forEach((line, n) => {
      if (/0x[cC]0000000\b|\b3221225472\b/.test(line)) bad.push(`${file}:${n + 1}`);
    });
  }
  t.deepEqual(bad, []);
  t.regex(readFileSync(join(root, 'kernel/arch/layout.ts'), 'utf8'), /PAGE_OFFSET = 0xc0000000/);
});

test("the kernel's page is the MMU's", t => {
  t.is(KERNEL_PAGE_SIZE, MMU_PAGE_SIZE);
});
