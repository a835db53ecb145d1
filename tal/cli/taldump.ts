// taldump FILE: the disassembly of a TAL executable with each block's type, its data objects and its import table.
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { readProgram, ProgramError } from '../check/program.ts';
import { dumpProgram } from '../dump.ts';

const argv = yargs(hideBin(process.argv))
  .scriptName('taldump')
  .command('$0 <file>', 'disassemble a TAL executable with its type annotations', y => y.positional('file', { type: 'string', demandOption: true, describe: 'the input file' }))
  .option('runtime', { type: 'boolean', default: false, describe: 'also disassemble the user-mode runtime (.tal.rt)' })
  .strict()
  .help()
  .parseSync();

const file = String(argv.file);
let bytes: Uint8Array;
try {
  bytes = readFileSync(file);
} catch (e) {
  process.stderr.write(`taldump: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
  process.exit(2);
}
try {
  process.stdout.write(dumpProgram(readProgram(bytes), { runtime: argv.runtime }));
} catch (e) {
  if (e instanceof ProgramError) {
    process.stderr.write(`taldump: ${file}: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
