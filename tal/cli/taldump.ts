// taldump FILE…: the disassembly of TAL executables with each block's type, the data objects and the import table.
// With several files, each starts with its name (as objdump does). Exit status: the worst of the files (1 for a
// file that is not a TAL executable, 2 for one that cannot be read).
import { readProgram, ProgramError } from '../check/program.ts';
import { dumpProgram } from '../dump.ts';
import { command, parse, readInput } from './command.ts';

const argv = parse('taldump', command('taldump')
  .usage('$0 FILE…\n\nDisassemble TAL executables with their type annotations.')
  .command('$0 <files..>', false, y => y.positional('files', { type: 'string', array: true, demandOption: true }))
  .option('runtime', { type: 'boolean', default: false, describe: 'also disassemble the user-mode runtime (.tal.rt)' })
  .epilogue('Exit status: 0 all shown, 1 a file is not a TAL executable, 2 a file unreadable or a usage error.')
);

let status = 0;
const files = (argv.files as string[]).map(String);
for (const [i, file] of files.entries()) {
  const bytes = readInput('taldump', file);
  if (typeof bytes === 'string') {
    process.stderr.write(bytes + '\n');
    status = Math.max(status, 2);
    continue;
  }
  try {
    const text = dumpProgram(readProgram(bytes), { runtime: argv.runtime });
    process.stdout.write((files.length > 1 ? `${i > 0 ? '\n' : ''}${file}:\n\n` : '') + text);
  } catch (e) {
    if (!(e instanceof ProgramError)) throw e;
    process.stderr.write(`taldump: ${file}: ${e.message}\n`);
    status = Math.max(status, 1);
  }
}
process.exitCode = status;
