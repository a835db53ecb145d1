// talcheck FILE: verify a TAL executable. Exit 0 and a one-line summary if it is accepted; exit 1 and the reason if not.
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { checkElf, formatCheckError, formatCheckSummary } from '../check/checker.ts';

const argv = yargs(hideBin(process.argv))
  .scriptName('talcheck')
  .command('$0 <file>', 'verify the machine code of a TAL executable against its annotations', y => y.positional('file', { type: 'string', demandOption: true, describe: 'the input file' }))
  .option('class', { type: 'boolean', default: false, describe: 'print only the refusal class (for scripts)' })
  .strict()
  .help()
  .parseSync();

const file = String(argv.file);
let bytes: Uint8Array;
try {
  bytes = readFileSync(file);
} catch (e) {
  process.stderr.write(`talcheck: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
  process.exit(2);
}
const r = checkElf(bytes);
if (r.ok) {
  process.stdout.write(formatCheckSummary(file, r.summary) + '\n');
  process.exit(0);
}
process.stderr.write((argv.class ? r.error.cls : formatCheckError(file, r.error)) + '\n');
process.exit(1);
