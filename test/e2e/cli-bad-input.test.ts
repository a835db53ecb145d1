// Bad input to the five commands, as a user gives it: missing files, directories, empty, text, truncated and
// wrong-class files, every option with a bad value, conflicting mounts, a port in use. For each: the exit status,
// the message (one line naming what is wrong, in the system's words where there are some), and never a JavaScript
// stack trace. Usage errors are one line plus "Try 'CMD --help'" with status 2, the same in every command.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, chmodSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { scratch } from '../util/native.ts';

const root = join(import.meta.dirname, '..', '..');
const tmp = scratch('ktal-badinput-');
test.after.always(() => tmp.done());

const hello = tmp.file('hello', assemble(readFileSync(join(root, 'tal/examples/hello.tal'), 'utf8'), 'hello.tal').elf);
chmodSync(hello, 0o755);
const files = {
  missing: join(tmp.dir, 'no-such-file'),
  dir: tmp.dir,
  empty: tmp.file('empty', ''),
  text: tmp.file('text', 'hello, world\n'),
  truncated: tmp.file('truncated', readFileSync(hello).subarray(0, 100)),
  elf64: tmp.file('elf64', readFileSync(process.execPath).subarray(0, 4096)), // x86-64 ELF: the wrong class
  hello,
};

type Command = 'talas' | 'talcheck' | 'taldump' | 'talrun' | 'popc';

interface Case {
  cmd: Command;
  args: string[];
  status: number;
  /** The first line of stderr. */
  stderr: RegExp;
  stdin?: string;
}

function run(cmd: Command, args: string[], stdin = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin', `${cmd}.js`), ...args],
    { cwd: tmp.dir, input: stdin, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const usage = (cmd: Command, what: RegExp): RegExp => new RegExp(`^${cmd}: ${what.source}$`);
const TRY = (cmd: Command): string => `Try '${cmd} --help' for more information.`;

const CASES: Case[] = [
  // Files that are not what the command needs.
  ...(['talcheck', 'taldump'] as const).flatMap((cmd): Case[] => [
    { cmd, args: [files.missing], status: 2,
      stderr: new RegExp(`^${cmd}: .*no-such-file: No such file or directory$`) },
    { cmd, args: [files.dir], status: 2, stderr: new RegExp(`^${cmd}: .*: Is a directory$`) },
    { cmd, args: [files.empty], status: 1, stderr: /truncated ELF: 0 bytes, the header alone needs 52/ },
    { cmd, args: [files.text], status: 1, stderr: /truncated ELF: 13 bytes/ },
    { cmd, args: [files.truncated], status: 1,
      stderr: /program headers .* run past the end of the file \(100 bytes\)/ },
    { cmd, args: [files.elf64], status: 1, stderr: /wrong ELF class 2: need ELFCLASS32 \(1\)/ },
    { cmd, args: [files.hello, files.missing], status: 2, stderr: /No such file or directory$/ },
  ]),
  { cmd: 'talrun', args: [files.missing], status: 127, stderr: /^talrun: .*no-such-file: No such file or directory$/ },
  { cmd: 'talrun', args: [files.dir], status: 126, stderr: /^talrun: .*: Is a directory$/ },
  { cmd: 'talrun', args: [files.empty], status: 126,
    stderr: /^talrun: .*empty: cannot execute binary file: Exec format error/ },
  { cmd: 'talrun', args: [files.text], status: 126, stderr: /Exec format error \(not an ELF file\)$/ },
  { cmd: 'talrun', args: [files.truncated], status: 126, stderr: /Exec format error \(the program headers run past/ },
  { cmd: 'talrun', args: [files.elf64], status: 126, stderr: /Exec format error \(not a 32-bit ELF file\)$/ },
  { cmd: 'talrun', args: ['--kernel', files.truncated], status: 126, stderr: /Exec format error/ },
  { cmd: 'talas', args: [files.missing], status: 2, stderr: /^talas: .*no-such-file: No such file or directory$/ },
  { cmd: 'talas', args: [files.dir], status: 2, stderr: /^talas: .*: Is a directory$/ },
  { cmd: 'talas', args: [files.empty], status: 1, stderr: /empty:1:1: the entry label 'main' is not defined/ },
  { cmd: 'talas', args: [files.text], status: 1, stderr: /text:1:\d+: / },
  { cmd: 'talas', args: [files.hello], status: 1, stderr: /hello:1:1: / },
  { cmd: 'talas', args: [join(root, 'tal/examples/hello.tal'), '-o', join(files.missing, 'x')], status: 1,
    stderr: /^talas: cannot write .*no-such-file\/x: No such file or directory$/ },
  { cmd: 'popc', args: [files.missing], status: 2, stderr: /^popc: .*no-such-file/ },
  { cmd: 'popc', args: [files.dir], status: 2, stderr: /^popc: / },
  { cmd: 'popc', args: [files.empty], status: 1, stderr: /empty:1:1: .*pop_main/ },
  { cmd: 'popc', args: [files.hello], status: 1, stderr: /hello:1:1: / },
  // Usage errors: one line, the pointer to --help, status 2.
  ...(['talas', 'talcheck', 'taldump', 'talrun', 'popc'] as const).flatMap((cmd): Case[] => [
    { cmd, args: ['--bogus-option', files.hello], status: 2,
      stderr: usage(cmd, /unrecognized option '--bogus-option'/) },
    { cmd, args: [], status: 2, stderr: new RegExp(`^${cmd}: (missing file operand|no program given)$`) },
  ]),
  { cmd: 'talrun', args: ['--uid', 'abc', files.hello], status: 2,
    stderr: usage('talrun', /--uid 'abc': not a user or group id .*/) },
  { cmd: 'talrun', args: ['--uid', '-1', files.hello], status: 2,
    stderr: usage('talrun', /--uid '-1': not a user or group id .*/) },
  { cmd: 'talrun', args: ['--gid', '1.5', files.hello], status: 2,
    stderr: usage('talrun', /--gid '1.5': not a user or group id .*/) },
  { cmd: 'talrun', args: ['--profile', 'pentium', files.hello], status: 2,
    stderr: usage('talrun', /--profile 'pentium': no such profile .*/) },
  { cmd: 'talrun', args: ['--syscall', 'syscall', files.hello], status: 2,
    stderr: usage('talrun', /--syscall 'syscall': known are int80, sysenter/) },
  { cmd: 'talrun', args: ['--max-instructions', 'lots', files.hello], status: 2,
    stderr: usage('talrun', /--max-instructions 'lots': not a positive whole number/) },
  { cmd: 'talrun', args: ['--mount', '/tmp', files.hello], status: 2,
    stderr: usage('talrun', /bad --mount '\/tmp': expected HOST:GUEST\[:rw\]/) },
  { cmd: 'talrun', args: ['--mount', '/tmp:mnt', files.hello], status: 2, stderr: /the guest path must be absolute/ },
  { cmd: 'talrun', args: ['--mount', '/tmp:/mnt:rx', files.hello], status: 2, stderr: /expected HOST:GUEST\[:rw\]/ },
  { cmd: 'talrun', args: ['--mount', '/tmp:/mnt/../', files.hello], status: 2,
    stderr: /must not contain '\.' or '\.\.'/ },
  { cmd: 'talrun', args: ['--mount', `${files.missing}:/mnt`, files.hello], status: 2,
    stderr: /^talrun: --mount .*no-such-file:\/mnt: .*no-such-file: No such file or directory$/ },
  { cmd: 'talrun', args: ['--mount', `${files.hello}:/mnt`, files.hello], status: 2, stderr: /: Not a directory$/ },
  { cmd: 'talrun', args: ['--mount', '/tmp:/mnt', '--mount', '/usr:/mnt/', files.hello], status: 2,
    stderr: /^talrun: --mount: \/mnt is given twice$/ },
  { cmd: 'talrun', args: ['--cwd', '/nonexistent', files.hello], status: 2,
    stderr: /^talrun: --cwd \/nonexistent: No such file or directory \(in the guest\)$/ },
  { cmd: 'talrun', args: ['--cwd', '/dev/null', files.hello], status: 2, stderr: /--cwd \/dev\/null: Not a directory/ },
  { cmd: 'talrun', args: ['--publish', '80', files.hello], status: 2,
    stderr: usage('talrun', /bad --publish '80': expected HOSTPORT:PORT/) },
  { cmd: 'talrun', args: ['--publish', '8000:70000', files.hello], status: 2, stderr: /bad --publish/ },
  { cmd: 'talrun', args: ['--bg', files.missing, files.hello], status: 127,
    stderr: /^talrun: --bg: .*No such file or directory$/ },
];

for (const c of CASES) {
  const shown = c.args.map(a => a.replace(tmp.dir, '$TMP')).join(' ');
  test(`${c.cmd} ${shown}: status ${c.status}, ${c.stderr.source}`, t => {
    const r = run(c.cmd, c.args, c.stdin);
    t.is(r.status, c.status, r.stderr);
    const first = r.stderr.split('\n')[0];
    t.regex(first, c.stderr);
    t.notRegex(r.stderr, /^\s+at .*:\d+:\d+\)?$|node:internal|Error \[|TypeError|RangeError/m, 'no stack trace');
    const usageError = /unrecognized|not a user|no such profile|known are|expected|whole number/;
    if (c.status === 2 && usageError.test(c.stderr.source)) {
      t.is(r.stderr, `${first}\n${TRY(c.cmd)}\n`, 'a usage error is one line and the pointer to --help');
    }
  });
}

test('mounts over / and /dev keep the console: the program still writes to fd 1', t => {
  for (const guest of ['/', '/dev']) {
    const r = run('talrun', ['--mount', `${tmp.dir}:${guest}`, files.hello]);
    t.is(r.status, 0, r.stderr);
    t.is(r.stdout, 'Hello, world!\n');
  }
});

test('--version prints the command and the version, for every command', t => {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  for (const cmd of ['talas', 'talcheck', 'taldump', 'talrun', 'popc'] as const) {
    const r = run(cmd, ['--version']);
    t.is(r.status, 0);
    t.is(r.stdout, `${cmd} (ktal) ${version}\n`);
  }
});

test('--publish to a host port in use: one line naming the port, status 2', async t => {
  const server = createServer();
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const r = await new Promise<{ status: number | null; stderr: string }>(resolve => {
      const child = spawnSync(process.execPath,
        [join(root, 'bin', 'talrun.js'), '--publish', `${port}:7000`, files.hello],
        { encoding: 'utf8', timeout: 60_000 });
      resolve({ status: child.status, stderr: child.stderr });
    });
    t.is(r.status, 2);
    t.is(r.stderr, `talrun: --publish ${port}:7000: host port ${port} is in use\n`);
  } finally {
    server.close();
  }
});
