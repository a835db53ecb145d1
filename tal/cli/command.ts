// What the five commands (talas, talcheck, taldump, talrun, popc) share, so that they behave like the tools people
// already use (GNU coreutils, binutils): a usage error is one line and a pointer to --help, with exit status 2;
// `--version` prints the command's name and version; a file that cannot be read is named with the system's words
// ("No such file or directory", "Is a directory"); several files give the worst status of all.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';

/** Exit status of a usage error (a bad option, a missing operand), as coreutils and binutils give it. */
export const STATUS_USAGE = 2;

/** The package's version, from the package.json above this file (in the sources, or in dist/ after a build). */
function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ktal' && pkg.version) return pkg.version;
    } catch { /* not here: go up */ }
  }
  return 'unknown';
}

/** Print `name: message` and the pointer to --help on stderr, and exit 2. */
export function usageError(name: string, message: string): never {
  process.stderr.write(`${name}: ${message}\nTry '${name} --help' for more information.\n`);
  process.exit(STATUS_USAGE);
}

/**
 * A yargs parser for command `name` with the shared conventions: strict options, --help, --version as
 * `name (ktal) VERSION`, and usage errors as one line (never the whole help) with status 2.
 */
export function command(name: string): Argv {
  return yargs(hideBin(process.argv))
    .scriptName(name)
    .strict()
    .help()
    .version(`${name} (ktal) ${version()}`)
    .showHelpOnFail(false)
    .wrap(Math.min(120, process.stdout.columns || 100))
    .fail((message: string | undefined, error: Error | undefined) => {
      const text = message ?? error?.message ?? 'bad usage';
      usageError(name, text.startsWith('Not enough non-option arguments') ? 'missing file operand' : text);
    });
}

/**
 * Parse the command line after refusing any option the command does not have, as GNU tools do ("unrecognized
 * option '--x'"), before yargs would take the next word as its value. With `haltAtOperand` (talrun), options after
 * the first operand belong to the program and are not looked at.
 */
export function parse<T>(name: string, y: Argv<T>, haltAtOperand = false): ReturnType<Argv<T>['parseSync']> {
  // getOptions is yargs's own (not in its type declarations): the options declared so far, by kind.
  const o = (y as unknown as { getOptions(): YargsOptions }).getOptions();
  const known = new Set([...Object.keys(o.key), ...Object.values(o.alias).flat(), 'help', 'version']);
  const takesValue = new Set([...o.string, ...o.number]);
  for (const k of [...takesValue]) for (const a of o.alias[k] ?? []) takesValue.add(a);
  const words = hideBin(process.argv);
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === '--') break;
    if (!w.startsWith('-') || w === '-') {
      if (haltAtOperand) break;
      continue;
    }
    const opt = w.replace(/^--?/, '').split('=')[0];
    const bare = opt.startsWith('no-') && known.has(opt.slice(3)) ? opt.slice(3) : opt;
    if (!known.has(bare)) usageError(name, `unrecognized option '${w.split('=')[0]}'`);
    if (takesValue.has(bare) && !w.includes('=')) i++;
  }
  return y.parseSync();
}

interface YargsOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  string: string[];
  number: string[];
}

/** The system's words for a failed file operation (as `cat` says them), from an error code (Node's, or errnoName's). */
export function readErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT': return 'No such file or directory';
    case 'EISDIR': return 'Is a directory';
    case 'EACCES': return 'Permission denied';
    case 'ENOTDIR': return 'Not a directory';
    case 'ELOOP': return 'Too many levels of symbolic links';
    case 'ENAMETOOLONG': return 'File name too long';
    default: return code ?? (e as Error).message;
  }
}

/** The bytes of `file`, or a message naming it (`name: file: No such file or directory`). */
export function readInput(name: string, file: string): Uint8Array | string {
  try {
    return readFileSync(file);
  } catch (e) {
    return `${name}: ${file}: ${readErrorText(e)}`;
  }
}
