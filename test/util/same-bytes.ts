// A refactor's check that nothing compiled moved: a snapshot of the bytes every program compiles to (popc's TAL
// text and executable for each example and corpus program, talas's executable for each hand-written TAL program),
// and a comparison of a later snapshot with it. Run before and after a change that should change only the shape of
// the code:
//
//   npx tsx test/util/same-bytes.ts snapshot /tmp/before.txt
//   … the change …
//   npx tsx test/util/same-bytes.ts compare /tmp/before.txt      # exit 0: every program the same bytes
//
// The snapshot is a text file, one line per program (a short sha-256 of each output), so a diff shows which moved.

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../../compiler/popc.ts';
import { assemble } from '../../tal/asm/assembler.ts';

const root = join(import.meta.dirname, '..', '..');
const POP_DIRS = ['compiler/examples', 'test/popc/run', 'test/popc/net', 'test/popc/errors'];
const TAL_DIRS = ['tal/examples', 'test/programs/sys', 'test/programs/kernel', 'test/attacks/victims'];

const digest = (b: string | Uint8Array | undefined): string =>
  b === undefined ? '-' : createHash('sha256').update(b).digest('hex').slice(0, 16);

function list(dir: string, ext: string): string[] {
  try {
    return readdirSync(join(root, dir)).filter(f => f.endsWith(ext)).sort().map(f => `${dir}/${f}`);
  } catch {
    return [];
  }
}

/** One line per program: its name and the digests of what it compiles to (or its diagnostics' codes). */
export function snapshot(): string[] {
  const lines: string[] = [];
  for (const name of POP_DIRS.flatMap(d => list(d, '.pop'))) {
    const r = compile(readFileSync(join(root, name), 'utf8'), name);
    const diags = r.diagnostics.map(d => `${d.line}:${d.col}`).join(',');
    lines.push(`${name} tal=${digest(r.tal)} elf=${digest(r.elf)} diagnostics=${diags || '-'}`);
  }
  for (const name of TAL_DIRS.flatMap(d => list(d, '.tal'))) {
    let elf: Uint8Array | undefined;
    try {
      elf = assemble(readFileSync(join(root, name), 'utf8'), name).elf;
    } catch {
      elf = undefined; // a template the tests fill in first, or an error case: recorded as such
    }
    lines.push(`${name} elf=${digest(elf)}`);
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [verb, file] = process.argv.slice(2);
  if ((verb !== 'snapshot' && verb !== 'compare') || !file) {
    process.stderr.write('usage: same-bytes.ts snapshot FILE | compare FILE\n');
    process.exit(2);
  }
  const now = snapshot();
  if (verb === 'snapshot') {
    writeFileSync(file, now.join('\n') + '\n');
    process.stdout.write(`${now.length} programs recorded in ${file}\n`);
  } else {
    const before = new Map(readFileSync(file, 'utf8').trim().split('\n').map(l => [l.split(' ')[0], l]));
    const moved = now.filter(l => before.get(l.split(' ')[0]) !== l);
    for (const l of moved) process.stdout.write(`moved: ${before.get(l.split(' ')[0]) ?? '(new)'}\n    now: ${l}\n`);
    process.stdout.write(`${now.length - moved.length} of ${now.length} programs compile to the same bytes\n`);
    process.exitCode = moved.length ? 1 : 0;
  }
}
