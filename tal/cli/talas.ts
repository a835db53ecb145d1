// talas FILE.tal [-o OUT]: assemble TAL into a static i386 ELF executable. Without -o the executable is written to
// the current directory, named after the source without its .tal (as popc does: `talas dir/prog.tal` writes
// ./prog).
import { writeFileSync, chmodSync } from 'node:fs';
import { basename } from 'node:path';
import { assemble, AsmErrors } from '../asm/assembler.ts';
import { command, parse, readErrorText, readInput } from './command.ts';
import { excerpt } from '../excerpt.ts';

const argv = parse('talas', command('talas')
  .usage('$0 FILE.tal [-o OUT]\n\nAssemble TAL assembly into a static i386 ELF executable.')
  .command('$0 <file>', false, y => y.positional('file', { type: 'string', demandOption: true }))
  .option('o', {
    alias: 'output', type: 'string', describe: 'the output file (default: ./NAME, the source name without .tal)',
  })
  .option('annotations', { type: 'boolean', default: false, describe: 'also print the .tal.types text' })
  .epilogue('Exit status: 0 assembled, 1 errors in the source, 2 the source unreadable or a usage error.')
);

const file = String(argv.file);
const bytes = readInput('talas', file);
if (typeof bytes === 'string') {
  process.stderr.write(bytes + '\n');
  process.exit(2);
}
const out = argv.o ?? (basename(file).replace(/\.tal$/, '') || 'a.out');
const sourceText = Buffer.from(bytes).toString('utf8');
/** A diagnostic, then its source line with a caret when it is in this file (not the runtime's). */
function shown(message: string, line: number, col: number, where = file): string {
  return [message, ...(where === file ? excerpt(sourceText, line, col) : [])].join('\n') + '\n';
}
let elf: Uint8Array;
try {
  const r = assemble(Buffer.from(bytes).toString('utf8'), file);
  elf = r.elf;
  // Warnings do not stop the assembly (as with gcc): the file is written, the status stays 0.
  for (const w of r.warnings) process.stderr.write(shown(w.message, w.line, w.col));
  if (argv.annotations) process.stdout.write(r.annotations);
} catch (e) {
  if (!(e instanceof AsmErrors)) throw e;
  for (const x of e.errors) process.stderr.write(shown(x.message, x.line, x.col, x.file));
  process.exit(1);
}
try {
  writeFileSync(out, elf);
  chmodSync(out, 0o755);
} catch (e) {
  process.stderr.write(`talas: cannot write ${out}: ${readErrorText(e)}\n`);
  process.exit(1);
}
