// compiler/grammar.ts is generated from compiler/grammar.ne by nearleyc (`npm run grammar`). Both are committed, so
// that popc needs no build step; this test holds the generated file to what nearleyc makes of the grammar today, so
// an edit to either alone fails here instead of shipping a parser that disagrees with its grammar.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

test('compiler/grammar.ts is exactly what nearleyc generates from compiler/grammar.ne', t => {
  const dir = mkdtempSync(join(tmpdir(), 'ktal-grammar-'));
  try {
    const out = join(dir, 'grammar.ts');
    execFileSync(process.execPath, [join(root, 'node_modules', 'nearley', 'bin', 'nearleyc.js'),
      join(root, 'compiler', 'grammar.ne'), '-o', out], { stdio: 'pipe' });
    t.is(readFileSync(out, 'utf8'), readFileSync(join(root, 'compiler', 'grammar.ts'), 'utf8'),
      'compiler/grammar.ts is stale: run npm run grammar');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
