// talrun [--kernel] [--no-verify] [--pti] [--mount H:G[:rw]] [--uid N] [--profile P] [--stats] FILE [ARGS…]
// Runs a static i386 executable on the emulated machine under the ktal kernel: in user mode (system calls trap
// with int 0x80) or, with --kernel, at CPL 0 after the checker has accepted it (system calls are direct calls).
// The console is talrun's own stdin/stdout/stderr; Ctrl-C sends SIGINT. Exit status as a shell reports it.

import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { PROFILES } from '../../emulator/profiles.ts';
import { bootKernel, start, parseMount, parsePublish, formatStats, HostLoop, type Mount, type Publish, type RunOutcome } from '../talrun.ts';

const argv = yargs(hideBin(process.argv))
  .scriptName('talrun')
  .usage('$0 [options] FILE [ARGS…]\n\nRun a static i386 executable on the emulated machine under the ktal kernel.')
  .parserConfiguration({ 'halt-at-non-option': true })
  .option('kernel', { type: 'boolean', default: false, describe: 'run at CPL 0: the checker must accept the file; system calls are direct calls' })
  .option('verify', { type: 'boolean', default: true, describe: 'with --kernel, run the checker first (--no-verify: run unchecked, loudly)' })
  .option('pti', { type: 'boolean', default: false, describe: 'page-table isolation: switch CR3 on every kernel entry and exit' })
  .option('mount', { type: 'string', describe: 'show a host directory in the guest: HOST:GUEST[:rw] (read-only by default; repeatable)' })
  .option('uid', { type: 'number', default: 0, describe: 'the user id the program runs as' })
  .option('gid', { type: 'number', describe: 'the group id (default: the uid)' })
  .option('cwd', { type: 'string', describe: 'the working directory in the guest (default /)' })
  .option('profile', { type: 'string', choices: Object.keys(PROFILES), describe: 'the cycle cost profile' })
  .option('stats', { type: 'boolean', default: false, describe: 'print instructions, cycles, traps, system calls and TLB misses on stderr' })
  .option('bg', { type: 'string', describe: "start 'FILE ARGS…' first, in the same mode (a server for the program); ended when the program ends (repeatable)" })
  .option('publish', { type: 'string', describe: 'bridge a host TCP port to a guest listening port: HOSTPORT:PORT (repeatable)' })
  .option('symbols', { type: 'boolean', default: false, describe: "print the kernel's symbol addresses (its System.map) and exit" })
  .option('max-instructions', { type: 'number', describe: 'stop after this many instructions' })
  .strict()
  .help()
  .parseSync();

function fail(message: string, status = 2): never {
  process.stderr.write(`talrun: ${message}\n`);
  process.exit(status);
}

let mounts: Mount[];
try {
  const specs: string[] = argv.mount === undefined ? [] : ([] as string[]).concat(argv.mount);
  mounts = specs.map(parseMount);
} catch (e) {
  fail((e as Error).message);
}
let publish: Publish[];
try {
  const specs: string[] = argv.publish === undefined ? [] : ([] as string[]).concat(argv.publish);
  publish = specs.map(parsePublish);
} catch (e) {
  fail((e as Error).message);
}
if (!Number.isInteger(argv.uid) || argv.uid < 0 || argv.uid > 0xfffffffe) fail(`bad --uid ${argv.uid}`);
const options = { kernel: argv.kernel, verify: argv.verify, pti: argv.pti, mounts, uid: argv.uid, gid: argv.gid, profile: argv.profile, cwd: argv.cwd };

const out = (fd: 1 | 2, b: Uint8Array): void => { (fd === 1 ? process.stdout : process.stderr).write(b); };
let k;
try {
  k = bootKernel({ ...options, onOutput: out });
} catch (e) {
  fail((e as Error).message);
}
const kernel = k;
if (argv.symbols) {
  for (const [name, addr] of [...kernel.symbols].sort((a, b) => a[1] - b[1])) process.stdout.write(`${(addr >>> 0).toString(16).padStart(8, '0')} ${name}\n`);
  process.exit(0);
}

const positional = argv._.map(String);
if (positional.length === 0) fail('no program given (talrun --help)');
const file = positional[0];
let image: Uint8Array;
try {
  image = readFileSync(file);
} catch (e) {
  fail(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`, 127);
}

// The console's input is talrun's stdin, fed as it arrives; connections to published ports are bridged.
const loop = new HostLoop(kernel);
process.stdin.on('data', (b: Buffer) => { kernel.feedInput(b); loop.nudge(); });
process.stdin.on('end', () => { kernel.endInput(); loop.nudge(); });
process.stdin.on('error', () => { kernel.endInput(); loop.nudge(); });
for (const p of publish) {
  try {
    await loop.publish(p);
  } catch (e) {
    fail(`--publish ${p.hostPort}:${p.guestPort}: ${(e as Error).message}`);
  }
}

// The kernel's strings are byte strings (one char per byte); the command line arrives as UTF-8.
const bytes = (a: string): string => Buffer.from(a, 'utf8').toString('latin1');
let started: number | RunOutcome | undefined;
for (const spec of argv.bg === undefined ? [] : ([] as string[]).concat(argv.bg)) {
  const words = spec.split(/\s+/).filter(w => w !== '');
  let bgImage: Uint8Array;
  try {
    bgImage = readFileSync(words[0]);
  } catch {
    fail(`--bg: ${words[0]}: No such file or directory`, 127);
  }
  const r = start(kernel, bgImage, words.map(bytes), options);
  if (typeof r !== 'number') { started = r; break; }
}
started ??= start(kernel, image, positional.map(bytes), options);
// Ctrl-C is taken over only now: until the programs are loaded (the checker included), Node's default ends talrun at
// once, since a handler could not run while the checker holds the thread.
process.on('SIGINT', () => loop.interrupt());
const mode = `${argv.kernel ? 'kernel' : 'user'}${argv.pti ? '+pti' : ''}`;
const result: RunOutcome = typeof started === 'number' ? await loop.run(started, argv['max-instructions'] ?? Infinity) : started;
if (result.message) process.stderr.write(result.message + '\n');
if (argv.stats) process.stderr.write(formatStats(result, mode));
process.stdin.destroy();
process.exitCode = result.status;
