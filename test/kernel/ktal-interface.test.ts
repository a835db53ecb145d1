// The kernel interface written once (kernel/ktal.ts, tal/interface.ts, tal/asm/runtime.ts): the kernel-mode
// bindings and the user-mode stubs come from the same table, the generic binder checks arguments as the stubs do
// before any system call, and no import allocates host memory in proportion to a size the program asks for (an
// impossible size ends the program with SIGABRT in both modes while talrun's own memory stays near normal).
import test from 'ava';
import { assemble } from '../../tal/asm/assembler.ts';
import { runtimeSource } from '../../tal/asm/runtime.ts';
import {
  IMPORTS, EFAULT, EINVAL, ENAMETOOLONG, PATH_MAX, MAX_ALLOC_SIZE, MAX_ARRAY_LENGTH, OOM_MESSAGE, syscallArgs,
} from '../../tal/interface.ts';
import * as errno from '../../kernel/errno.ts';
import { PATH_MAX as KERNEL_PATH_MAX } from '../../kernel/fs/fcntl.ts';
import { HAND_KEPT_IMPORTS, kernelBindings, type Call } from '../../kernel/ktal.ts';
import type { Kernel } from '../../kernel/kernel.ts';
import type { Task } from '../../kernel/task.ts';
import type { KernelContext } from '../../emulator/kfuncs.ts';
import type { UserMemory } from '../../kernel/syscalls/usermem.ts';
import { runProgram } from '../../kernel/talrun.ts';
import { compile } from '../../compiler/popc.ts';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const MiB = 1 << 20;

// ---------------------------------------------------------------------------------------------------------
// one table

/** The imports kept by hand in kernel mode, and why (kernel/ktal.ts says so at each). */
const EXPECTED_HAND_KEPT = [
  'tal_alloc', 'tal_new_array', 'tal_new_bytes', 'tal_args', // not system calls: the heap and argv
  'setsockopt', // optval points into the stub's stack frame; the kernel takes the value itself
  'getsockname', 'getpeername', // addrlen is a word of the stub's private data
];

test('every import is bound in kernel mode from the table; the hand-kept ones are exactly the listed set', t => {
  const bindings = kernelBindings();
  t.deepEqual([...bindings.keys()], IMPORTS.map(s => s.name));
  t.deepEqual([...HAND_KEPT_IMPORTS].sort(), [...EXPECTED_HAND_KEPT].sort());
  const stubs = runtimeSource('main').text;
  for (const spec of IMPORTS) {
    const b = bindings.get(spec.name)!;
    t.is(b.generic, !EXPECTED_HAND_KEPT.includes(spec.name), spec.name);
    t.true(stubs.includes(`\n__tal_rt_${spec.name}:`), `${spec.name} has a user-mode stub`);
    if (spec.syscall === undefined) continue;
    // A system call is kept by hand only where its stub passes a pointer to the stub's own data.
    const privatePointer = syscallArgs(spec).some(a => a.k === 'paramAddress' || a.k === 'wordPointer');
    t.is(b.generic, !privatePointer, `${spec.name}: generic unless a stub-private pointer`);
  }
});

test('the interface\'s errno values and path limit are the kernel\'s', t => {
  t.is(EFAULT, errno.EFAULT);
  t.is(EINVAL, errno.EINVAL);
  t.is(ENAMETOOLONG, errno.ENAMETOOLONG);
  t.is(PATH_MAX, KERNEL_PATH_MAX);
});

// ---------------------------------------------------------------------------------------------------------
// the generic binder, against a recording kernel

interface Recorded { calls: { nr: number; args: number[] }[]; counted: number[] }

/**
 * A call of a kernel-mode import with `args` as its cdecl parameters, over a little memory of byte arrays (address →
 * length); system calls are recorded, not run.
 */
function fakeCall(args: number[], arrays: Map<number, number>, rec: Recorded): Call {
  const k = {
    invokeSyscall: (_t: Task, _u: UserMemory, nr: number, a: number[]) => {
      rec.calls.push({ nr, args: [...a] });
      return 0;
    },
    countSyscall: (_t: Task, nr: number) => { rec.counted.push(nr); },
    work: { charge: () => {} },
  };
  const ctx = {
    read32: (addr: number) => {
      const len = arrays.get(addr);
      if (len === undefined) throw new Error(`read32 at 0x${addr.toString(16)}: not an array`);
      return len;
    },
    readBytes: (_addr: number, n: number) => new Uint8Array(n).fill(0x61),
  };
  return {
    k: k as unknown as Kernel, t: {} as Task, ctx: ctx as unknown as KernelContext, user: {} as UserMemory,
    arg: i => args[i] ?? 0, allocs: [],
  };
}

test('the generic binder: the system call of the spec, with its arguments; a bad buffer is -EFAULT before any', t => {
  const BUF = 0x1000, PATH = 0x2000;
  const bindings = kernelBindings();
  const seen = new Set<string>();
  // What Linux gets, written from the documentation (docs/tal.md §6), for each kind of argument list.
  const expect: Record<string, { params: number[]; nr: number; args: number[] }> = {
    read: { params: [3, BUF, 8, 16], nr: 3, args: [3, BUF + 12, 16] },
    getcwd: { params: [BUF, 4, 20], nr: 183, args: [BUF + 8, 20] },
    uname: { params: [BUF, 0], nr: 122, args: [BUF + 4] },
    nanosleep: { params: [BUF, 8], nr: 162, args: [BUF + 12, 0] },
    bind: { params: [5, BUF, 16], nr: 361, args: [5, BUF + 20, 16] },
    accept4: { params: [5, 0x800], nr: 364, args: [5, 0, 0, 0x800] },
    sendto: { params: [5, BUF, 4, 10, 0x4000], nr: 369, args: [5, BUF + 8, 10, 0x4000, 0, 0] },
    poll: { params: [BUF, 8, 24, -1], nr: 168, args: [BUF + 12, 3, -1] },
    fcntl: { params: [1, 0, 10], nr: 221, args: [1, 0, 10] },
    exit: { params: [7], nr: 252, args: [7] },
  };
  for (const [name, e] of Object.entries(expect)) {
    const rec: Recorded = { calls: [], counted: [] };
    const r = bindings.get(name)!.fn(fakeCall(e.params, new Map([[BUF, 400]]), rec));
    t.is(r, 0, name);
    t.deepEqual(rec.calls, [{ nr: e.nr, args: e.args }], name);
    seen.add(name);
  }
  for (const spec of IMPORTS) {
    const b = spec.buffer, bound = bindings.get(spec.name)!;
    if (!bound.generic || !b) continue;
    // The offset one past the end of a 16-byte array: -EFAULT, and no system call made or counted.
    const params = spec.params.map((p, i) => i === b.buf ? BUF : p === '*rbytes' ? PATH : i === b.off ? 17 : 0);
    const rec: Recorded = { calls: [], counted: [] };
    t.is(bound.fn(fakeCall(params, new Map([[BUF, 16], [PATH, 4]]), rec)), -EFAULT, spec.name);
    t.deepEqual(rec, { calls: [], counted: [] }, spec.name);
  }
  // poll: a count that is not whole struct pollfd records is -EINVAL without the system call
  const rec: Recorded = { calls: [], counted: [] };
  t.is(bindings.get('poll')!.fn(fakeCall([BUF, 0, 12, 0], new Map([[BUF, 64]]), rec)), -EINVAL);
  t.deepEqual(rec, { calls: [], counted: [] });
  // a path longer than PATH_MAX - 1 bytes is -ENAMETOOLONG without the system call
  for (const spec of IMPORTS) {
    const bound = bindings.get(spec.name)!;
    const path = bound.generic ? syscallArgs(spec).find(a => a.k === 'path') : undefined;
    if (!path || path.k !== 'path') continue;
    const params = spec.params.map((_, i) => i === path.i ? PATH : i === spec.buffer?.buf ? BUF : 0);
    const r2: Recorded = { calls: [], counted: [] };
    t.is(bound.fn(fakeCall(params, new Map([[BUF, 400], [PATH, PATH_MAX]]), r2)), -ENAMETOOLONG, spec.name);
    t.deepEqual(r2, { calls: [], counted: [] }, spec.name);
    seen.add(spec.name);
  }
  t.true(seen.has('open') && seen.has('readlink') && seen.has('stat64'));
});

// ---------------------------------------------------------------------------------------------------------
// allocation: the guest's limit first, no host memory in proportion to the size

/** A program that calls `name(args…)` (pushed right to left), then exits 0. */
function callThenExit(name: string, args: number[], o: { inst?: string } = {}): Uint8Array {
  const src = [
    '.intel_syntax noprefix', `.tal_import ${name}, exit`, '.text', '.tal_label main : code[r:stack]{esp: r}', 'main:',
    ...[...args].reverse().map(a => `    push ${a}`),
    ...(o.inst ? [`.tal_inst ${o.inst}`] : []),
    `    call DWORD PTR [${name}]`, `    add esp, ${4 * args.length}`, '    push 0', '    call DWORD PTR [exit]',
  ].join('\n');
  return assemble(src, `${name}.tal`).elf;
}

// Each run's guest RAM is a fixed ArrayBuffer, garbage once the run ends: collect it before measuring.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** talrun's own memory, in MiB: the resident set's high-water mark, and the ArrayBuffers alive after a collection. */
function hostMemory(): { maxRss: number; arrayBuffers: number } {
  gc();
  return { maxRss: process.resourceUsage().maxRSS / 1024, arrayBuffers: process.memoryUsage().arrayBuffers / MiB };
}

// A failed brk may touch all of the guest's RAM. Budget: that RAM plus 96 MiB for everything else (before the fix,
// kernel mode reached 2.1 GiB for tal_new_bytes(MAX_ALLOC_SIZE) and 1 GiB for tal_new_array(MAX_ARRAY_LENGTH)).
const GUEST_RAM = 32 * MiB;
const BUDGET_MiB = GUEST_RAM / MiB + 96;

test.serial('huge tal_new_bytes, tal_new_array, tal_alloc: SIGABRT in both modes, talrun\'s memory near normal', t => {
  runProgram(callThenExit('tal_new_bytes', [16, 0]), ['warm-up'], { memoryBytes: GUEST_RAM }); // load the modules
  const base = hostMemory();
  const cases: { name: string; elf: Uint8Array; verify?: boolean }[] = [
    { name: 'tal_new_bytes(MAX_ALLOC_SIZE)', elf: callThenExit('tal_new_bytes', [MAX_ALLOC_SIZE, 0x41]) },
    { name: 'tal_new_bytes(-1)', elf: callThenExit('tal_new_bytes', [-1, 0x41]) },
    { name: 'tal_new_array(MAX_ARRAY_LENGTH)', elf: callThenExit('tal_new_array', [MAX_ARRAY_LENGTH, 7]) },
    { name: 'tal_new_array(-1)', elf: callThenExit('tal_new_array', [-1, 7]) },
    // The checker allows only tal_alloc(4n) for a tuple of n fields: an impossible size needs an unchecked program.
    {
      name: 'tal_alloc(MAX_ALLOC_SIZE)', verify: false,
      elf: callThenExit('tal_alloc', [MAX_ALLOC_SIZE], { inst: '*[int]' }),
    },
  ];
  for (const c of cases) {
    for (const kernel of [false, true]) {
      const mode = `${c.name} ${kernel ? 'kernel' : 'user'} mode`;
      const r = runProgram(c.elf, ['huge'], { kernel, verify: c.verify, memoryBytes: GUEST_RAM });
      t.is(r.status, 134, `${mode}: ${r.message ?? ''}`);
      t.true(Buffer.from(r.stderr).toString('latin1').endsWith(OOM_MESSAGE), mode);
      const m = hostMemory();
      const buffers = m.arrayBuffers - base.arrayBuffers, rss = m.maxRss - base.maxRss;
      t.true(buffers < BUDGET_MiB, `${mode}: ArrayBuffers grew by ${buffers.toFixed(0)} MiB`);
      t.true(rss < BUDGET_MiB, `${mode}: the resident set's high-water mark grew by ${rss.toFixed(0)} MiB`);
    }
  }
  const m = hostMemory();
  t.log(`talrun's memory over ${cases.length * 2} runs: maxRSS +${(m.maxRss - base.maxRss).toFixed(0)} MiB, ` +
    `ArrayBuffers +${(m.arrayBuffers - base.arrayBuffers).toFixed(0)} MiB ` +
    `(budget ${BUDGET_MiB} MiB; guest RAM ${GUEST_RAM / MiB} MiB)`);
});

test('a fresh byte array and array hold their fill value in every byte and word, in both modes', t => {
  // n bytes and 4m + 4 bytes cross pages, and n is not a multiple of 4: the kernel's page-sized fill is seen at its
  // seams. tal_new_bytes(n, 0x1ab) is written out whole; popc's program counts the words of the array that differ.
  const n = 9003, m = 2500;
  const bytes = assemble(`
.intel_syntax noprefix
.tal_import tal_new_bytes, write, exit
.text
.tal_label main : code[r:stack]{esp: r}
main:
    push 0x1ab
    push ${n}
    call DWORD PTR [tal_new_bytes]
    add esp, 8
    push ${n}
    push 0
    push eax
    push 1
    call DWORD PTR [write]
    add esp, 16
    push 0
    call DWORD PTR [exit]
`, 'bytes.tal').elf;
  const words = compile(`#include "core.h"
open Core;
void pop_main() {
  int a[] = new_array(${m}, 0x01020304);
  string s = new_string(${n});
  int bad = 0;
  for (int i = 0; i < size(a); i++) if (a[i] != 0x01020304) bad++;
  for (int i = 0; i < size(s); i++) if (s[i] != '\\0') bad++;
  print_int(size(a)); print_char(' '); print_int(size(s)); print_char(' '); print_int(bad); print_newline();
  flush();
}
`, 'words.pop').elf!;
  for (const kernel of [false, true]) {
    const mode = kernel ? 'kernel' : 'user';
    const b = runProgram(bytes, ['bytes'], { kernel });
    t.is(b.status, 0, mode);
    t.deepEqual(Buffer.from(b.stdout), Buffer.alloc(n, 0xab), mode);
    const w = runProgram(words, ['words'], { kernel });
    t.is(Buffer.from(w.stdout).toString(), `${m} ${n} 0\n`, mode);
  }
});
