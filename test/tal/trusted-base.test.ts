// The trusted base is what tal/README.md lists: the checker's run-time import closure must be exactly that list, so
// that a new import into the checker (an ELF writer, a formatter, the assembler) cannot join the trusted base
// without being listed and reviewed. The listed line counts may drift by a tenth before the list must be updated.
// Also the floor rule of tal/: nothing in it imports from outside tal/.
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const tal = join(root, 'tal');

/** The files `file` imports at run time (type-only imports are erased by TypeScript: left out unless `types`). */
function runtimeImports(file: string, types = false): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/^(?:import|export)\s+(type\s+)?([^'"]*?)\s*from\s+'([^']+)'/gm)) {
    const [, typeOnly, what, spec] = m;
    const names = /^\{([^}]*)\}$/.exec(what.trim());
    const onlyTypes = typeOnly
      || (names && names[1].split(',').map(n => n.trim()).filter(Boolean).every(n => n.startsWith('type ')));
    if (onlyTypes && !types) continue;
    if (spec.startsWith('.')) out.push(normalize(join(dirname(file), spec)));
  }
  return out;
}

function closure(start: string): Set<string> {
  const seen = new Set([start]), todo = [start];
  while (todo.length) for (const f of runtimeImports(todo.pop()!)) if (!seen.has(f)) { seen.add(f); todo.push(f); }
  return seen;
}

/** The table under "## The trusted base" in tal/README.md: file (relative to tal/) → lines. */
function listed(): Map<string, number> {
  const text = readFileSync(join(tal, 'README.md'), 'utf8');
  const section = text.slice(text.indexOf('## The trusted base'));
  const rows = new Map<string, number>();
  for (const m of section.matchAll(/^\| `([^`]+)` \| (\d+) \|/gm)) rows.set(m[1], Number(m[2]));
  return rows;
}

test("the checker's import closure is exactly the trusted base tal/README.md lists", t => {
  const actual = [...closure(join(tal, 'check', 'checker.ts'))].map(f => relative(tal, f)).sort();
  const list = listed();
  t.deepEqual(actual, [...list.keys()].sort());
  for (const [file, lines] of list) {
    const real = readFileSync(join(tal, file), 'utf8').split('\n').length - 1;
    t.true(Math.abs(real - lines) <= Math.max(10, lines / 10), `${file}: ${real} lines, listed as ${lines}`);
  }
  const total = /\| \*\*total\*\* \| \*\*(\d+)\*\* \|/.exec(readFileSync(join(tal, 'README.md'), 'utf8'));
  t.is(Number(total?.[1]), [...list.values()].reduce((a, b) => a + b, 0), 'the total is the sum of the rows');
});

test('nothing in tal/ imports from outside tal/ (types included)', t => {
  const files = readdirSync(tal, { recursive: true, encoding: 'utf8' }).filter(f => f.endsWith('.ts'));
  for (const f of files) {
    for (const dep of runtimeImports(join(tal, f), true)) t.false(relative(tal, dep).startsWith('..'),
      `${f} imports ${dep}`);
  }
});
