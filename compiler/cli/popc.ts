// popc FILE.pop [-o OUT] [-S]: compile a Popcorn program to a verified i386 executable (or, with -S, write the
// TAL assembly). Errors: every one as `file:line:col: error CODE: message` with its source line and a caret (and
// `note:` lines when popc knows the fix; diagnostics.ts formats them), exit 1. popc checks its own output with the
// checker: a refusal there is a popc bug (exit 3), never a program that runs unchecked.
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { basename } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { compile } from '../popc.ts';
import { formatDiagnostics } from '../diagnostics.ts';
import { checkElf, formatCheckError } from '../../tal/check/checker.ts';

const argv = yargs(hideBin(process.argv))
  .scriptName('popc')
  .command('$0 <file>', 'compile a Popcorn program to a verified TAL executable', y => y.positional('file', { type: 'string', demandOption: true, describe: 'the source file (.pop)' }))
  .option('o', { type: 'string', describe: 'the output file (default: the source name without .pop)' })
  .option('S', { type: 'boolean', default: false, describe: 'write the TAL assembly (.tal) instead of the executable' })
  .strict()
  .help()
  .parseSync();

const file = String(argv.file);
let text: string;
try {
  text = readFileSync(file, 'utf8');
} catch (e) {
  process.stderr.write(`popc: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
  process.exit(2);
}
const r = compile(text, file);
if (r.diagnostics.length) {
  process.stderr.write(formatDiagnostics(r.diagnostics, r.sources) + '\n');
  process.exit(1);
}
const stem = basename(file).replace(/\.pop$/, '');
if (argv.S) {
  writeFileSync(argv.o ?? `${stem}.tal`, r.tal!);
  process.exit(0);
}
if (!r.elf) {
  process.stderr.write(`popc: internal error: talas refused popc's output (a popc bug):\n${r.assemblerErrors}\n`);
  process.exit(3);
}
const verdict = checkElf(r.elf);
if (!verdict.ok) {
  process.stderr.write(`popc: internal error: the checker refused popc's output (a popc bug):\n${formatCheckError(file, verdict.error)}\n`);
  process.exit(3);
}
const out = argv.o ?? stem;
writeFileSync(out, r.elf);
chmodSync(out, 0o755);
