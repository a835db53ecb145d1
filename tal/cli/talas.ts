// talas FILE.tal [-o OUT]: assemble TAL to an i386 ELF executable.
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { assemble, AsmErrors } from '../asm/assembler.ts';

const argv = yargs(hideBin(process.argv))
  .scriptName('talas')
  .command('$0 <file>', 'assemble TAL assembly into a static i386 ELF executable', y => y.positional('file', { type: 'string', demandOption: true, describe: 'the input file' }))
  .option('o', { alias: 'output', type: 'string', describe: 'output file (default: FILE without .tal)' })
  .option('annotations', { type: 'boolean', default: false, describe: 'also print the .tal.types text' })
  .strict()
  .help()
  .parseSync();

const file = String(argv.file);
let text: string;
try {
  text = readFileSync(file, 'utf8');
} catch (e) {
  process.stderr.write(`talas: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
  process.exit(2);
}
const out = argv.o ?? file.replace(/\.tal$/, '') + (file.endsWith('.tal') ? '' : '.out');
try {
  const r = assemble(text, file);
  writeFileSync(out, r.elf);
  chmodSync(out, 0o755);
  if (argv.annotations) process.stdout.write(r.annotations);
} catch (e) {
  if (e instanceof AsmErrors) {
    process.stderr.write(e.message + '\n');
    process.exit(1);
  }
  throw e;
}
