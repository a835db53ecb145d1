// runElf, the minimal monitor: the talas examples and small GNU-assembled programs run on the emulated machine with
// the same output and exit status as on the host's Linux; faults end them with the signal Linux would send.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { runElf, type RunElfResult } from '../util/monitor.ts';
import { runNative, scratch, type RunResult } from '../util/native.ts';
import { buildElf } from '../util/machine.ts';
import { haveBinutils } from '../util/binutils.ts';

const tb = haveBinutils() ? test : test.skip;
const dir = join(import.meta.dirname, '..', '..', 'tal', 'examples');
const enc = new TextEncoder(), dec = new TextDecoder();

/** Run natively (argv[0] is the file's path there, so it is here too) and emulated; both results. */
function both(elf: Uint8Array, args: string[] = [], stdin = ''): { native: RunResult; emu: RunElfResult } {
  const s = scratch();
  try {
    const exe = s.file('prog', elf, 0o755);
    const native = runNative(exe, args, { stdin, cwd: s.dir });
    const emu = runElf(elf, { argv: [exe, ...args], stdin: enc.encode(stdin), maxInstructions: 50_000_000 });
    return { native, emu };
  } finally {
    s.done();
  }
}

/** The shell's view of a native result: the exit status, or 128 + the signal number. */
const SIGNUM: Record<string, number> = { SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGFPE: 8, SIGKILL: 9, SIGSEGV: 11 };
function shellStatus(r: RunResult): number | null {
  return r.signal ? 128 + SIGNUM[r.signal] : r.status;
}

function same(t: import('ava').ExecutionContext, elf: Uint8Array, args: string[] = [], stdin = '',
  label = ''): RunElfResult {
  const { native, emu } = both(elf, args, stdin);
  t.is(dec.decode(emu.stdout), native.stdout, `${label} stdout`);
  t.is(dec.decode(emu.stderr), native.stderr, `${label} stderr`);
  t.is(emu.exitCode, shellStatus(native), `${label} status (${emu.fault ?? ''})`);
  t.is(emu.signal, native.signal, `${label} signal`);
  return emu;
}

const example = (name: string) => assemble(readFileSync(join(dir, `${name}.tal`), 'utf8'), `${name}.tal`).elf;

test('hello under runElf prints Hello, world! and exits 0', t => {
  const r = runElf(example('hello'));
  t.is(dec.decode(r.stdout), 'Hello, world!\n');
  t.is(r.exitCode, 0);
  t.is(r.signal, null);
  t.is(r.fault, undefined);
  t.true(r.stats.traps[0x80] >= 2, 'write and exit went through int 0x80');
  t.is(r.stats.userEntries, r.stats.traps[0x80]);
  t.is(r.stats.userExits, r.stats.traps[0x80] - 1, 'every system call but exit returned with iret');
});

for (const [name, runs] of Object.entries({
  hello: [[[], '']],
  fib: [[[], '']],
  sort: [[[], '']],
  list: [[[], '']],
  echo: [[[], ''], [['hello', 'world'], ''], [['a', '', 'b c', 'ünïcödé'], '']],
  cat: [[[], 'from stdin\n'], [['-'], 'dash\n'], [['-', '-'], 'twice\n'], [['missing'], '']],
} as Record<string, [string[], string][]>)) {
  tb(`${name} runs under runElf with the native output and exit status`, t => {
    const elf = example(name);
    for (const [args, stdin] of runs) same(t, elf, args, stdin, `${name} ${JSON.stringify(args)}`);
  });
}

tb('cat copies a large standard input unchanged (read and write in 64 KiB chunks, the heap grown by brk)', t => {
  const big = 'abcdefghij'.repeat(30_000) + '\n';
  const r = runElf(example('cat'), { stdin: enc.encode(big) });
  t.is(dec.decode(r.stdout), big);
  t.is(r.exitCode, 0);
});

tb('faults at CPL 3 end the program with the signal Linux sends', t => {
  const cases: [string, string][] = [
    ['null load → SIGSEGV', '_start: mov eax, DWORD PTR [0]'],
    ['kernel read → SIGSEGV', '_start: mov eax, DWORD PTR [0xc0001000]'],
    ['write to text → SIGSEGV', '_start: mov DWORD PTR [_start], 0'],
    ['ud2 → SIGILL', '_start: ud2'],
    ['divide by zero → SIGFPE', '_start: xor ecx, ecx\n div ecx'],
    ['INT_MIN / -1 → SIGFPE', '_start: mov eax, 0x80000000\n cdq\n mov ecx, -1\n idiv ecx'],
    ['hlt → SIGSEGV', '_start: hlt'],
    ['cli → SIGSEGV', '_start: cli'],
    ['int 0x81 → SIGSEGV', '_start: int 0x81'],
    ['int3 → SIGTRAP', '_start: int3'],
    ['kill(getpid(), SIGABRT)', '_start: mov eax, 20\n int 0x80\n mov ebx, eax\n mov ecx, 6\n mov eax, 37\n int 0x80'],
  ];
  for (const [label, src] of cases) {
    const emu = same(t, buildElf(`.text\n${src}\n mov eax, 1\n mov ebx, 0\n int 0x80`), [], '', label);
    t.truthy(emu.signal, label);
  }
});

tb('the stack grows on demand down to 8 MiB, and a recursion past it is SIGSEGV', t => {
  const recurse = (depth: number) => buildElf(`
    .text
    _start:
      mov ecx, ${depth}
      call down
      mov eax, 1
      mov ebx, 7
      int 0x80
    down:
      sub esp, 60
      dec ecx
      jz up
      call down
    up:
      add esp, 60
      ret`);
  const ok = same(t, recurse(100_000), [], '', '6.4 MB deep');
  t.is(ok.exitCode, 7);
  // Natively this depends on the host's stack limit (ulimit -s); the monitor's is Linux's default, 8 MiB.
  const deep = runElf(recurse(200_000));
  t.is(deep.signal, 'SIGSEGV');
  t.is(deep.exitCode, 139);
  t.regex(deep.fault ?? '', /#PF/);
});

tb('system calls: write to a bad buffer is -EFAULT, to an unknown fd -EBADF, unknown calls -ENOSYS', t => {
  const elf = buildElf(`
    .text
    _start:
      mov eax, 4
      mov ebx, 1
      mov ecx, 0xc0001000
      mov edx, 4
      int 0x80
      mov esi, eax
      mov eax, 4
      mov ebx, 7
      mov ecx, OFFSET msg
      mov edx, 2
      int 0x80
      add esi, eax
      mov eax, 999
      int 0x80
      add esi, eax
      mov eax, 1
      mov ebx, esi
      neg ebx
      int 0x80
    .data
    msg: .ascii "ok"`);
  same(t, elf, [], '', 'errnos');
  const r = runElf(elf);
  t.is(r.exitCode, 14 + 9 + 38);
});

tb('a timer interrupting the program changes nothing it can see, and is counted', t => {
  const elf = example('fib');
  const plain = runElf(elf);
  const timed = runElf(elf, { timerInterval: 10_000 });
  t.deepEqual(timed.stdout, plain.stdout);
  t.is(timed.exitCode, plain.exitCode);
  t.true(timed.stats.timerInterrupts > 100, `${timed.stats.timerInterrupts} ticks`);
  t.is(timed.stats.instructions, plain.stats.instructions + timed.stats.timerInterrupts, 'plus one iret per tick');
});

test('the instruction limit ends an endless program with a report, not an exception', t => {
  const elf = buildElf('.text\n_start: jmp _start');
  const r = runElf(elf, { maxInstructions: 10_000 });
  t.is(r.exitCode, null);
  t.is(r.signal, null);
  t.regex(r.fault ?? '', /instruction limit/);
  t.is(r.stats.instructions, 10_000);
});
