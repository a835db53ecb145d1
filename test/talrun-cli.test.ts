// The talrun command as a user runs it: exit statuses, the checker's refusal, the --no-verify warning, --stats,
// stdin fed as it arrives, Ctrl-C (SIGINT) ending a kernel-mode spinner, bad options.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../tal/asm/assembler.ts';
import { scratch } from './util/native.ts';

const root = join(import.meta.dirname, '..');
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
  t.regex(r.stderr, /traps\s+0 /);
  t.regex(r.stderr, /system calls\s+2: write 1, exit_group 1/);
  const u = run(['--stats', '--pti', hello]);
  t.is(u.status, 0);
  t.regex(u.stderr, /mode user\+pti/);
  t.regex(u.stderr, /traps\s+2 \(128:2\)/);
});

test('--kernel refuses a program the checker refuses: its message, status 126, nothing run', t => {
  const r = run(['--kernel', nullDeref]);
  t.is(r.status, 126);
  t.is(r.stdout, '');
  t.regex(r.stderr, /refused \[null-deref\] at 0x[0-9a-f]+ \(file offset 0x[0-9a-f]+\) in block 'main'/);
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
  await new Promise<void>(resolve => { const check = () => (err.includes('.') ? resolve() : setTimeout(check, 50)); check(); });
  child.kill('SIGINT');
  const status = await new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));
  t.is(status, 130);
  t.regex(err, /SIGINT/);
});
