// The talrun command as a user runs it: exit statuses, the checker's refusal, the --no-verify warning, --stats,
// stdin fed as it arrives, Ctrl-C (SIGINT) ending a kernel-mode spinner, bad options.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { scratch } from '../util/native.ts';
import { profileByName, DEFAULT_PROFILE } from '../../emulator/profiles.ts';

const root = join(import.meta.dirname, '..', '..');
const talrun = join(root, 'bin', 'talrun.js');
const tmp = scratch('ktal-talrun-');
test.after.always(() => tmp.done());

function build(src: string, name: string): string {
  const r = assemble(readFileSync(join(root, src), 'utf8'), src);
  if (!('elf' in r)) throw new Error(`${src} does not assemble`);
  const p = tmp.file(name, r.elf);
  chmodSync(p, 0o755);
  return p;
}
const hello = build('tal/examples/hello.tal', 'hello');
const cat = build('tal/examples/cat.tal', 'cat');
const spin = build('test/programs/kernel/spin.tal', 'spin');
const nullDeref = build('test/negative/null-deref-untested.tal', 'null-deref');

function run(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [talrun, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a verified program runs in kernel mode; --stats shows no traps and the system calls by name', t => {
  const r = run(['--kernel', '--stats', hello]);
  t.is(r.status, 0);
  t.is(r.stdout, 'Hello, world!\n');
  t.regex(r.stderr, /mode kernel, profile p4-northwood/);
  t.notRegex(r.stderr, /trap entries/); // no trap in kernel mode
  t.regex(r.stderr, /system calls\s+2: write 1, exit_group 1/);
  const u = run(['--stats', '--pti', hello]);
  t.is(u.status, 0);
  t.regex(u.stderr, /mode user\+pti/);
  t.regex(u.stderr, /trap entries +1,120 {2}\(int 0x80 2\)/);
});

test('--kernel refuses a program the checker refuses: its message, status 126, nothing run', t => {
  const r = run(['--kernel', nullDeref]);
  t.is(r.status, 126);
  t.is(r.stdout, '');
  // At its source line (the executable's .tal.lines), the line itself, then where in the executable.
  t.regex(r.stderr, /^talrun: test\/negative\/null-deref-untested\.tal:8: refused \[null-deref\]: /);
  t.regex(r.stderr, /\n +8 \| +mov ebx, DWORD PTR \[eax\]/);
  t.regex(r.stderr, /null-deref: at 0x[0-9a-f]+ \(file offset 0x[0-9a-f]+\) in block 'main'/);
  t.regex(r.stderr, /instruction: mov ebx,DWORD PTR \[eax\]/);
  t.regex(r.stderr, /expected: +\*\[int\^r\]/);
  t.regex(r.stderr, /actual: +\?\*\[int\^r\]/);
  t.regex(r.stderr, /not run in kernel mode/);
});

test('--kernel --no-verify warns loudly that the program runs unchecked at CPL 0', t => {
  const r = run(['--kernel', '--no-verify', hello]);
  t.is(r.status, 0);
  t.regex(r.stderr, /WARNING: --no-verify: .*hello runs UNCHECKED at CPL 0/);
});

test('stdin is the console: cat copies it in both modes; a host mount shows a real file', t => {
  for (const mode of [[], ['--kernel']]) {
    const r = run([...mode, cat], 'typed\ninput\n');
    t.is(r.status, 0);
    t.is(r.stdout, 'typed\ninput\n');
    const f = run([...mode, '--mount', `${join(root, 'tal/examples')}:/ex`, cat, '/ex/hello.tal', '/missing']);
    t.is(f.stdout, readFileSync(join(root, 'tal/examples/hello.tal'), 'utf8'));
    t.is(f.stderr, 'cat: /missing: No such file or directory\n');
    t.is(f.status, 1);
  }
});

test('not an executable: 126 with a message; a missing file: 127; bad options: 2', t => {
  const text = tmp.file('text.txt', 'just text\n');
  const r = run(['--kernel', text]);
  t.is(r.status, 126);
  t.regex(r.stderr, /Exec format error/);
  t.is(run([join(tmp.dir, 'nope')]).status, 127);
  const m = run(['--mount', 'nocolon', hello]);
  t.is(m.status, 2);
  t.regex(m.stderr, /bad --mount 'nocolon'/);
});

test('--symbols prints the kernel System.map with the syscall table and current_task', t => {
  const r = run(['--symbols']);
  t.is(r.status, 0);
  t.regex(r.stdout, /^c[0-9a-f]{7} sys_call_table$/m);
  t.regex(r.stdout, /^c[0-9a-f]{7} current_task$/m);
  t.regex(r.stdout, /^ffc[0-9a-f]{5} sys_write$/m);
});

test('Ctrl-C (SIGINT to talrun) ends a kernel-mode program spinning at CPL 0: status 130', async t => {
  const child = spawn(process.execPath, [talrun, '--kernel', spin], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  // Wait until it is spinning (it prints dots), then interrupt.
  await new Promise<void>(resolve => { const check = () => (err.includes('.') ? resolve()
    : setTimeout(check, 50)); check(); });
  child.kill('SIGINT');
  const status = await new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));
  t.is(status, 130);
  t.regex(err, /SIGINT/);
});

const cliSpin = build('test/attacks/cli-spin.tal', 'cli-spin');

test('the watchdog works from the command line: a CPL 0 program that turns interrupts off ends with status 124', t => {
  // talrun runs the machine in slices between host events; the watchdog's count must survive the slices.
  const r = run(['--kernel', '--no-verify', cliSpin]);
  t.is(r.status, 124);
  t.regex(r.stderr, /watchdog: the machine is hung: no timer interrupt for 200 ticks/);
});

/** Start talrun, wait until `ready` appears on its stderr (or a delay), send SIGINT, and return how it ended. */
async function interrupt(args: string[], ready: string | number, again = false):
  Promise<{ code: number | null; signal: string | null; err: string }> {
  const child = spawn(process.execPath, [talrun, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '', exited = false;
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  // Listened for from the start: the child may end (or fail) before the signal is sent.
  const ended = new Promise<[number | null, string | null]>(r => child.on('exit',
    (c, s) => { exited = true; r([c, s]); }));
  if (typeof ready === 'number') await new Promise(r => setTimeout(r, ready));
  else {
    await new Promise<void>(resolve => {
      const check = () => (err.includes(ready) || exited ? resolve() : setTimeout(check, 20));
      check();
    });
    await new Promise(r => setTimeout(r, 300)); // past the loading, when talrun takes over SIGINT
  }
  child.kill('SIGINT');
  // Ctrl-C again, as an impatient user would: talrun stops the machine at once if the first one was not acted on.
  if (again) setTimeout(() => child.kill('SIGINT'), 200);
  const [code, signal] = await ended;
  return { code, signal, err };
}

test('Ctrl-C ends talrun even when the guest cannot act on SIGINT (CPL 0, interrupts off): status 130', async t => {
  // Cheap instructions (half a cycle each under the default profile): the simulated clock runs slowly, so the
  // watchdog would take many seconds; Ctrl-C must not wait for it.
  const body = '    add eax, 1\n'.repeat(256);
  const src = `.intel_syntax noprefix\n.text\n.tal_label main : code[r:stack]{esp: r}\nmain:\n    cli\nspin:\n${body} `
    +
    `   jmp spin\n`;
  const p = tmp.file('cli-jmp', assemble(src, 'cli-jmp.tal').elf);
  chmodSync(p, 0o755);
  const r = await interrupt(['--kernel', '--no-verify', p], 'UNCHECKED', true);
  t.is(r.code, 130);
  t.regex(r.err,
    /talrun: interrupted: the machine did not act on SIGINT; stopped at eip 0x[0-9a-f]+ \(task 100 cli-jmp\)/);
});

test('Ctrl-C during start-up (before and while the checker runs) ends talrun at once', async t => {
  const r = await interrupt(['--kernel', spin], 0);
  // Node's default action for SIGINT: talrun dies of the signal, as a shell would show (130).
  t.true(r.signal === 'SIGINT' || r.code === 130, `${r.code} ${r.signal}`);
});

test('--stats adds up: one line per source of cycles, summing to the total, in every mode', t => {
  const sleeper = build('test/attacks/victims/sleeper.tal', 'sleeper');
  for (const args of [['--kernel', cat], [cat], ['--pti', cat], ['--kernel', '--profile', 'modern-pti', cat],
    ['--kernel', sleeper], [sleeper], ['--syscall=sysenter', cat], ['--syscall=sysenter', '--pti', sleeper]]) {
    const r = run(['--stats', ...args], 'some input\n');
    t.true(r.status === 0, r.stderr);
    const lines = r.stderr.split('\n');
    const head = /cycles +([\d,]+) \(([\d.]+) (s|ms|µs) at the profile's ([\d,.]+) MHz clock\), where they went:/
      .exec(r.stderr);
    t.truthy(head, r.stderr);
    const total = Number(head![1].replace(/,/g, ''));
    // The time is the cycles at the profile's own clock (the one its figures were measured at), not a fixed one.
    const profile = profileByName(args.includes('modern-pti') ? 'modern-pti' : DEFAULT_PROFILE);
    t.is(Number(head![4].replace(/,/g, '')), profile.clock.hz / 1e6);
    const seconds = Number(head![2]) / { s: 1, ms: 1e3, µs: 1e6 }[head![3] as 's' | 'ms' | 'µs'];
    t.true(Math.abs(seconds - total / profile.clock.hz) <= 0.001 * seconds, `${seconds} s for ${total} cycles`);
    const at = lines.findIndex(l => l.includes('where they went'));
    let sum = 0;
    for (const l of lines.slice(at + 1)) {
      const m = /^ {4}(\S.*?) +([\d,]+)(?: {2}\(.*\))?$/.exec(l);
      if (!m) break;
      sum += Number(m[2].replace(/,/g, ''));
    }
    // Each line is rounded to a whole cycle: the sum may differ from the total by less than one per line.
    t.true(Math.abs(sum - total) < 10, `${args.join(' ')}: ${sum} vs ${total}\n${r.stderr}`);
    t.true(sum > 0);
    if (args[0] === '--syscall=sysenter') t.regex(r.stderr, /\n {4}sysenters +[\d,]+ {2}\(\d+\)\n {4}sysexits /);
  }
});
