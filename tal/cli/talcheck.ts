// talcheck FILE…: verify TAL executables. For each file: a one-line summary if it is accepted, or the reason it is
// refused, at its source line when the executable has a line table (tal/messages.ts). Exit status: 0 if every file
// is accepted, 1 if one is refused, 2 if one cannot be read (the worst wins).
import { checkElf } from '../check/checker.ts';
import { formatCheckSummary, formatRefusal } from '../messages.ts';
import { command, parse, readInput } from './command.ts';

const argv = parse('talcheck', command('talcheck')
  .usage('$0 FILE…\n\nVerify the machine code of TAL executables against their annotations.')
  .command('$0 <files..>', false, y => y.positional('files', { type: 'string', array: true, demandOption: true }))
  .option('class', { type: 'boolean', default: false, describe: 'print only the refusal class (for scripts)' })
  .epilogue('Exit status: 0 all accepted, 1 a file refused, 2 a file unreadable or a usage error.')
);

let status = 0;
const files = (argv.files as string[]).map(String);
for (const file of files) {
  const bytes = readInput('talcheck', file);
  if (typeof bytes === 'string') {
    process.stderr.write(bytes + '\n');
    status = Math.max(status, 2);
    continue;
  }
  const r = checkElf(bytes);
  if (r.ok) {
    process.stdout.write(formatCheckSummary(file, r.summary) + '\n');
    continue;
  }
  const prefix = argv.class && files.length > 1 ? `${file}: ` : '';
  process.stderr.write(prefix + (argv.class ? r.error.cls : formatRefusal(file, r.error, bytes)) + '\n');
  status = Math.max(status, 1);
}
process.exitCode = status;
