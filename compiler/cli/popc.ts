// popc FILE.pop… [-o OUT] [-S] [-O0|-O|-O2] [-I DIR] [-D NAME[=VALUE]] [-U NAME]: preprocess (as cc does, with the
// -I, -D, -U options) and compile a Popcorn program, of one file or several compiled together as Popcorn's compiler
// and cc take them (`popc a.pop b.pop -o prog`), to a verified i386 executable (or, with -S, write the TAL
// assembly). Errors: every one as `file:line:col: error CODE: message` with its source line and a caret (and `note:`
// lines when popc knows the fix; diagnostics.ts formats them), exit 1. popc checks its own output with the checker:
// a refusal there is a popc bug (exit 3), never a program that runs unchecked.
import { writeFileSync, chmodSync } from 'node:fs';
import { basename } from 'node:path';
import { compileFiles, type CompileOptions } from '../popc.ts';
import { formatDiagnostics } from '../diagnostics.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { formatRefusal } from '../../tal/messages.ts';
import { command, parse, readErrorText, readInput } from '../../tal/cli/command.ts';

// cc's attached spellings (-Iinclude, -DNAME=1, -UNAME) become the separate ones the option parser knows.
const attached = (w: string): string[] => (/^-[IDU][^-]/.test(w) ? [w.slice(0, 2), w.slice(2)] : [w]);
process.argv.splice(2, Infinity, ...process.argv.slice(2).flatMap(attached));

/**
 * The optimisation level, taken out of the command line before the options are parsed (gcc's spelling: -O0, -O,
 * -O1, -O2 with the level glued on, the last one winning): 0 is the stack machine, anything else the optimiser.
 */
let level = 0;
for (let i = 2; i < process.argv.length; i++) {
  const w = process.argv[i];
  if (w === '--') break;
  const m = /^-O(\d*)$/.exec(w);
  if (!m) continue;
  if (!['', '0', '1', '2'].includes(m[1])) {
    process.stderr.write(`popc: ${w}: the optimisation levels are -O0, -O (or -O1) and -O2\n`);
    process.exit(2);
  }
  level = m[1] === '0' ? 0 : 2;
  process.argv.splice(i--, 1);
}

const argv = parse('popc', command('popc')
  .usage('$0 FILE.pop… [-o OUT] [-S] [-O0|-O|-O2] [-I DIR] [-D NAME[=VALUE]] [-U NAME]\n\n' +
    'Compile a Popcorn program (one file, or several together) to a verified TAL executable (after C\'s ' +
    'preprocessor: docs/popcorn.md).')
  .command('$0 <files..>', false, y => y.positional('files', { type: 'string', array: true, demandOption: true }))
  .option('o', { type: 'string', describe: 'the output file (default: ./NAME, the first source\'s name without .pop)' })
  .option('S', { type: 'boolean', default: false,
    describe: 'write the TAL assembly (./NAME.tal) instead of the executable' })
  // The preprocessor's options, as cc's (docs/popcorn.md, "The preprocessor").
  .option('I', { type: 'string', array: true, describe: 'search DIR for #include headers (after the file\'s own dir)' })
  .option('D', { type: 'string', array: true, describe: '-D NAME[=VALUE]: define the macro NAME (as 1 by default)' })
  .option('U', { type: 'string', array: true, describe: 'undefine the macro NAME (after every -D)' })
  .option('O', {
    type: 'boolean',
    describe: '-O (or -O1, -O2): the optimiser (IR, register allocation); -O0: the stack machine, the default '
      + '(docs/popcorn.md, Compilation)',
  })
  .epilogue('Exit status: 0 compiled, 1 errors in the program, 2 the source unreadable or a usage error, 3 a popc bug.'),
);

/** -D NAME[=VALUE] and -U NAME as the preprocessor takes them; a malformed name is a usage error (exit 2). */
function macroOptions(): CompileOptions {
  const name = (n: string, flag: string): string => {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) return n;
    process.stderr.write(`popc: ${flag} ${n}: a macro name is an identifier\n`);
    process.exit(2);
  };
  const defines = (argv.D ?? []).map(d => {
    const eq = d.indexOf('=');
    return eq < 0 ? { name: name(d, '-D') } : { name: name(d.slice(0, eq), '-D'), value: d.slice(eq + 1) };
  });
  return { includeDirs: (argv.I ?? []).map(String), defines, undefines: (argv.U ?? []).map(u => name(u, '-U')) };
}
const options = macroOptions();

const files = (argv.files as unknown[]).map(String);
const file = files[0];
const inputs = files.map(f => {
  const input = readInput('popc', f);
  if (typeof input === 'string') {
    process.stderr.write(input + '\n');
    process.exit(2);
  }
  return { file: f, text: Buffer.from(input).toString('utf8') };
});
const r = compileFiles(inputs, { ...options, optimise: level });
if (r.diagnostics.length) {
  process.stderr.write(formatDiagnostics(r.diagnostics, r.sources) + '\n');
  process.exit(1);
}
const stem = basename(file).replace(/\.pop$/, '');
/** Write an output file, or say why not (exit 1). */
function output(path: string, data: Uint8Array | string, mode?: number): void {
  try {
    writeFileSync(path, data);
    if (mode !== undefined) chmodSync(path, mode);
  } catch (e) {
    process.stderr.write(`popc: cannot write ${path}: ${readErrorText(e)}\n`);
    process.exit(1);
  }
}
if (argv.S) {
  output(argv.o ?? `${stem}.tal`, r.tal!);
  process.exit(0);
}
if (!r.elf) {
  process.stderr.write(`popc: internal error: talas refused popc's output (a popc bug):\n${r.assemblerErrors}\n`);
  process.exit(3);
}
const verdict = checkElf(r.elf);
if (!verdict.ok) {
  process.stderr.write(`popc: internal error: the checker refused popc's output (a popc ` +
    `bug):\n${formatRefusal(file, verdict.error, r.elf)}\n`);
  process.exit(3);
}
output(argv.o ?? stem, r.elf, 0o755);
