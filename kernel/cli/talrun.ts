// talrun [--kernel] [--no-verify] [--pti] [--syscall int80|sysenter]
//        [--mount H:G[:rw]] [--uid N] [--profile P] [--stats] FILE [ARGS…]
// Runs a static i386 executable on the emulated machine under the ktal kernel: in user mode (system calls trap
// with int 0x80) or, with --kernel, at CPL 0 after the checker has accepted it (system calls are direct calls).
// The console is talrun's own stdin/stdout/stderr; Ctrl-C sends SIGINT. Exit status as a shell reports it.

import { PROFILES } from '../../emulator/profiles.ts';
import { command, parse, readInput, usageError, STATUS_USAGE } from '../../tal/cli/command.ts';
import {
  bootKernel, start, parseMount, parsePublish, formatStats, HostLoop, STATUS_HUNG, STATUS_PANIC, STATUS_CANNOT_EXECUTE,
  type Mount, type Publish, type RunOutcome,
} from '../talrun.ts';
import { SYSCALL_ENTRIES, type SyscallEntry } from '../kernel.ts';

/** Exit statuses of talrun itself, for --help (the program's own status otherwise). */
const STATUSES = [
  'Exit status:',
  "  the program's own, or 128 + N if signal N ended it (139 SIGSEGV, 137 SIGKILL, 130 SIGINT)",
  `  ${STATUS_HUNG}  the machine hung (no timer interrupt for 200 ticks), or the run did not finish`,
  `  ${STATUS_PANIC}  the kernel panicked (an unverified CPL 0 program broke it, or a triple fault)`,
  `  ${STATUS_CANNOT_EXECUTE}  the file cannot run: not an executable, or refused by the checker (--kernel)`,
  '  127  the file does not exist',
  `  ${STATUS_USAGE}    a usage error`,
].join('\n');

/** An id for --uid/--gid: a decimal number from 0 to 2^32 - 2 (-1 means "no change" to Linux's set*id calls). */
function parseId(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= 0xfffffffe)) {
    usageError('talrun', `--${option} '${value}': not a user or group id (0 to 4294967294)`);
  }
  return n;
}

const argv = parse('talrun', command('talrun')
  .usage('$0 [options] FILE [ARGS…]\n\nRun a static i386 executable on the emulated machine under the ktal kernel.')
  .parserConfiguration({ 'halt-at-non-option': true })
  .option('kernel', {
    type: 'boolean', default: false,
    describe: 'run at CPL 0: the checker must accept the file; system calls are direct calls',
  })
  .option('verify', {
    type: 'boolean', default: true,
    describe: 'with --kernel, run the checker first (--no-verify: run unchecked, loudly)',
  })
  .option('pti', {
    type: 'boolean', default: false,
    describe: 'page-table isolation: switch CR3 on every kernel entry and exit',
  })
  .option('syscall', {
    type: 'string', default: 'int80',
    describe: "how user mode enters the kernel: int80 (Linux 2.4) or sysenter (Linux 2.6: the vsyscall page's " +
      '__kernel_vsyscall, offered as AT_SYSINFO)',
  })
  .option('mount', {
    type: 'string',
    describe: 'show a host directory in the guest: HOST:GUEST[:rw] (read-only by default; repeatable)',
  })
  .option('uid', { type: 'string', default: '0', describe: 'the user id the program runs as' })
  .option('gid', { type: 'string', describe: 'the group id (default: the uid)' })
  .option('cwd', { type: 'string', describe: 'the working directory in the guest (default /)' })
  .option('profile', { type: 'string', describe: `the cycle cost profile: ${Object.keys(PROFILES).join(', ')}` })
  .option('stats', {
    type: 'boolean', default: false,
    describe: 'print instructions, cycles, traps, system calls and TLB misses on stderr',
  })
  .option('bg', {
    type: 'string',
    describe: "start 'FILE ARGS…' first, in the same mode (a server for the program); ended when the program ends " +
      '(repeatable)',
  })
  .option('publish', {
    type: 'string',
    describe: 'bridge a host TCP port to a guest listening port: HOSTPORT:PORT (repeatable)',
  })
  .option('symbols', {
    type: 'boolean', default: false,
    describe: "print the kernel's symbol addresses (its System.map) and exit",
  })
  .option('max-instructions', { type: 'number', describe: 'stop after this many instructions' })
  .epilogue(STATUSES), true);

/** An error talrun cannot run past: one line on stderr, and the status. */
function fail(message: string, status: number): never {
  process.stderr.write(`talrun: ${message}\n`);
  process.exit(status);
}

let mounts: Mount[];
try {
  const specs: string[] = argv.mount === undefined ? [] : ([] as string[]).concat(argv.mount);
  mounts = specs.map(parseMount);
} catch (e) {
  usageError('talrun', (e as Error).message);
}
let publish: Publish[];
try {
  const specs: string[] = argv.publish === undefined ? [] : ([] as string[]).concat(argv.publish);
  publish = specs.map(parsePublish);
} catch (e) {
  usageError('talrun', (e as Error).message);
}
if (argv.profile !== undefined && !(argv.profile in PROFILES)) {
  usageError('talrun', `--profile '${argv.profile}': no such profile (${Object.keys(PROFILES).join(', ')})`);
}
if (!(SYSCALL_ENTRIES as readonly string[]).includes(argv.syscall)) {
  usageError('talrun', `--syscall '${argv.syscall}': known are ${SYSCALL_ENTRIES.join(', ')}`);
}
const maxInstructions = argv['max-instructions'];
if (maxInstructions !== undefined && !(Number.isInteger(maxInstructions) && maxInstructions > 0)) {
  const given = process.argv[process.argv.indexOf('--max-instructions') + 1];
  usageError('talrun', `--max-instructions '${given}': not a positive whole number`);
}
const options = {
  kernel: argv.kernel, verify: argv.verify, pti: argv.pti, syscallEntry: argv.syscall as SyscallEntry, mounts,
  uid: parseId('uid', argv.uid),
  gid: parseId('gid', argv.gid), profile: argv.profile, cwd: argv.cwd,
};

const out = (fd: 1 | 2, b: Uint8Array): void => { (fd === 1 ? process.stdout : process.stderr).write(b); };
let k;
try {
  k = bootKernel({ ...options, onOutput: out });
} catch (e) {
  fail((e as Error).message, STATUS_USAGE);
}
const kernel = k;
if (argv.symbols) {
  for (const [name, addr] of [...kernel.symbols].sort((a, b) => a[1] - b[1])) {
    process.stdout.write(`${(addr >>> 0).toString(16).padStart(8, '0')} ${name}\n`);
  }
  process.exit(0);
}

const positional = argv._.map(String);
if (positional.length === 0) usageError('talrun', 'no program given');

/** A program's bytes, or talrun ends as a shell would: 127 if it does not exist, 126 if it cannot be read. */
function program(file: string, what = ''): Uint8Array {
  const r = readInput('talrun', file);
  if (typeof r !== 'string') return r;
  fail(`${what}${r.slice('talrun: '.length)}`, r.endsWith('No such file or directory') ? 127 : STATUS_CANNOT_EXECUTE);
}
const file = positional[0];
const image = program(file);

// The console's input is talrun's stdin, fed as it arrives; connections to published ports are bridged.
const loop = new HostLoop(kernel);
process.stdin.on('data', (b: Buffer) => { kernel.feedInput(b); loop.nudge(); });
process.stdin.on('end', () => { kernel.endInput(); loop.nudge(); });
process.stdin.on('error', () => { kernel.endInput(); loop.nudge(); });
for (const p of publish) {
  try {
    const port = await loop.publish(p);
    // Said once, so that a user who started a server in the background knows where to connect.
    process.stderr.write(`talrun: publishing 127.0.0.1:${port} to port ${p.guestPort} in the machine\n`);
  } catch (e) {
    const inUse = (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
    const why = inUse ? `host port ${p.hostPort} is in use` : (e as Error).message;
    fail(`--publish ${p.hostPort}:${p.guestPort}: ${why}`, STATUS_USAGE);
  }
}

// The kernel's strings are byte strings (one char per byte); the command line arrives as UTF-8.
const bytes = (a: string): string => Buffer.from(a, 'utf8').toString('latin1');
let started: number | RunOutcome | undefined;
for (const spec of argv.bg === undefined ? [] : ([] as string[]).concat(argv.bg)) {
  const words = spec.split(/\s+/).filter(w => w !== '');
  if (words.length === 0) usageError('talrun', '--bg needs a program');
  const r = start(kernel, program(words[0], '--bg: '), words.map(bytes), options);
  if (typeof r !== 'number') { started = r; break; }
}
started ??= start(kernel, image, positional.map(bytes), options);
// Ctrl-C is taken over only now: until the programs are loaded (the checker included), Node's default ends talrun at
// once, since a handler could not run while the checker holds the thread.
process.on('SIGINT', () => loop.interrupt());
const mode = `${argv.kernel ? 'kernel' : 'user'}${argv.pti ? '+pti' : ''}`;
const result: RunOutcome = typeof started === 'number' ? await loop.run(started, maxInstructions ?? Infinity) : started;
if (result.message) process.stderr.write(result.message + '\n');
if (argv.stats) process.stderr.write(formatStats(result, mode));
process.stdin.destroy();
process.exitCode = result.status;
