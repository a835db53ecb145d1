// The interface conformance harness (docs/tal.md §6, "The contract"; test/kernel/interface-conformance.test.ts): checks that
// every import keeps the promises the checker relies on, in user and kernel mode, with and without PTI, while hostile
// processes run beside the caller and the timer preempts it.
//
// A *probe* is one verified TAL program generated from a plan: a straight line of cases, each one call of an import
// with arguments drawn by fast-check (edges included: count 0, offset = length, bad descriptors, buffers the interface
// must refuse, paths too long). Each case loads sentinels into ebx esi edi ebp (integers, addresses of the probe's
// static objects, or its heap pointers), pushes two canary words and the arguments, and makes three calls:
//
//     call DWORD PTR [getppid]     PRE marker: the observer records registers, esp, EFLAGS and the memory
//     call DWORD PTR [IMPORT]      the call under test
//     push eax
//     call DWORD PTR [getppid]     POST marker: the observer compares (eax is the word just pushed)
//
// then pops eax and checks, itself, what a TAL program can see: the sentinels, the canaries, the length of a returned
// array. Mismatches set bits of the word `fails` (no branches: the probe stays one block, and runs on, so that every
// failing case is seen). Natively (the same file on the host's Linux) the probe ends with exit(status of `fails`).
//
// The *observer* is machine-level: it wraps the machine's kernel-function dispatch (KernelFunctions.invoke, an
// instance method, replaced on this one machine only; no emulator change). In kernel mode the markers and the import
// are kernel functions called straight from the probe, so the CPU registers are the probe's; in user mode the
// markers are the getppid stub (`push ebx`, then the call through AT_SYSINFO: `__tal_rt_int80`'s int 0x80, or with
// the sysenter entry `__kernel_vsyscall`, which pushes ecx, edx and ebp before sysenter), and the probe's registers
// and EFLAGS are the pt_regs the entry code saved. Between PRE and POST nothing of the probe runs but the call under
// test (and its stub), so at POST ebx esi edi ebp, and esp + 4 (the pushed eax), must be exactly as at PRE, IF set and
// DF clear; eax must have the declared type; and every byte of the probe's writable memory (data, heap, the stack from
// the arguments up) must be as before except inside the declared buffer (or the object an allocation returns).
//
// Blocking is forced: descriptors with nothing to read (the console, sockets), sockets whose peer does not take data,
// an accept with nobody connecting, poll, nanosleep. The runner (runProbe) runs the machine in slices and, when the
// probe has slept for a slice in such a call, does what unblocks it from the host side (console input, bytes into the
// socket, room at the host end, a connection). Hostile processes, a verified kernel-mode one and an unverified
// user-mode one, fill every register with kernel addresses and addresses inside the probe's own objects (and the user
// one sets DF), spin, and make calls of their own, so a probe resumed with someone else's registers is caught.

import fc from 'fast-check';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { readProgram } from '../../tal/check/program.ts';
import { findSection, readElf, PF_W } from '../../tal/elf.ts';
import { decode } from '../../tal/x86/decode.ts';
import { isRefusal } from '../../tal/x86/insn.ts';
import { IMPORTS, POLLFD_SIZE, SOCKADDR_IN_SIZE, STAT64_SIZE, TIMESPEC_SIZE,
  UTSNAME_SIZE } from '../../tal/interface.ts';
import { start } from '../../kernel/talrun.ts';
import { Kernel, type KnownFault, type SyscallEntry } from '../../kernel/kernel.ts';
import { TASK_INTERRUPTIBLE, T, type Task } from '../../kernel/task.ts';
import { PT } from '../../kernel/entry.ts';
import { EFAULT, EINVAL, ENAMETOOLONG } from '../../kernel/errno.ts';
import { PAGE_OFFSET, TASK_SIZE } from '../../kernel/arch/layout.ts';
import { ROOT } from '../../kernel/fs/permission.ts';
import { mkdirat, symlinkat, chmodat } from '../../kernel/fs/namei.ts';
import type { Cpu } from '../../emulator/cpu.ts';
import { IF, DF } from '../../emulator/flags.ts';
import { put } from './kfs.ts';

// ---------------------------------------------------------------------------------------------------------------
// the probe's objects

/** A static object of the probe: its label, its section and its bytes after the length word (or its words). */
export interface StaticObject {
  name: string;
  /** .data objects are writable *bytes; .rodata ones *rbytes; `cell` is a one-word tuple. */
  kind: 'bytes' | 'rbytes' | 'cell' | 'rcell';
  /** bytes/rbytes: the contents (the length word is added); cells: the word. */
  content: Uint8Array | number;
}

export const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
/** Printable filler, so that a write into a buffer shows. */
const pattern = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => 0x21 + ((i * 7 + seed) % 90));
const words = (...ws: number[]): Uint8Array => Uint8Array.from(ws.flatMap(le32));

/** struct sockaddr_in with the port in network order. */
function sockaddr(family: number, port: number, addr: number): number[] {
  return [family & 0xff, family >>> 8, port >>> 8, port & 0xff, addr >>> 24, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff,
    addr & 0xff, 0, 0, 0, 0, 0, 0, 0, 0];
}

/** Writable buffers every plan has (name → length). */
const WRITABLE = { b0: 0, b1: 1, b8: 8, b16: 16, b96: 96, b100: 100, b390: 390, b512: 512, b4096: 4096 };
/** Paths, relative to the fixture directory /c (the probe's cwd), plus the edges. */
const PATHS: Record<string, string> = {
  p_file: 'file', p_dir: 'dir', p_link: 'link', p_secret: 'secret', p_missing: 'missing', p_empty: '',
  p_abs: '/c/file', p_notdir: 'file/x', p_long: 'a'.repeat(5000), p_4095: 'b'.repeat(4095), p_4096: 'c'.repeat(4096),
  p_nul: 'file\0junk', p_dot: '.', p_root: '/', p_new: 'new', p_out: 'out', p_c: '/c',
};
/** struct timespec records (8 bytes each): valid short sleeps, then three that nanosleep must refuse (EINVAL). */
const TIMESPECS = [[0, 0], [0, 1000], [0, 20000], [0, -1], [0, 1_000_000_000], [-1, 0]];
/** struct sockaddr_in records: loopback port 0, port 80 (EACCES for uid 1000), unreachable, wrong family, 7002. */
const SOCKADDRS = [
  sockaddr(2, 0, 0x7f000001), sockaddr(2, 80, 0x7f000001), sockaddr(2, 7, 0x0a000001), sockaddr(1, 0, 0),
  sockaddr(2, 7002, 0x7f000001),
];
/** struct pollfd records: the console, the listener, the loopback pair, the host connection, fd -1, a bad fd. */
const POLLFDS = [[0, 1], [5, 1], [6, 1 | 4], [7, 1], [8, 1], [-1, 1], [999, 1]];

const FIXTURE = { console: 0, file: 3, dir: 4, listener: 5, client: 6, server: 7, host: 8, out: 9 } as const;
const SOCKET_FDS = [FIXTURE.listener, FIXTURE.client, FIXTURE.server, FIXTURE.host];

function staticObjects(): StaticObject[] {
  const out: StaticObject[] = [{ name: 'fails', kind: 'cell', content: 0 }];
  let seed = 0;
  for (const [name, n] of Object.entries(WRITABLE)) out.push({ name, kind: 'bytes', content: pattern(n, seed++) });
  out.push({ name: 'namebuf', kind: 'bytes', content: new Uint8Array(SOCKADDR_IN_SIZE) });
  const pollfds = Uint8Array.from(POLLFDS.flatMap(([fd, ev]) => [...le32(fd), ev & 0xff, ev >>> 8, 0, 0]));
  out.push({ name: 'pollfds', kind: 'bytes', content: pollfds });
  for (const [name, p] of Object.entries(PATHS)) out.push({ name, kind: 'rbytes', content: Buffer.from(p, 'latin1') });
  out.push({ name: 'ts', kind: 'rbytes', content: words(...TIMESPECS.flat()) });
  out.push({ name: 'sa', kind: 'rbytes', content: Uint8Array.from(SOCKADDRS.flat()) });
  out.push({ name: 'text', kind: 'rbytes', content: Buffer.from('conformance probe output\n', 'latin1') });
  return out;
}

/** Byte length (after the length word) of a static byte array, by name. */
function lengthOf(objs: readonly StaticObject[], name: string): number {
  const o = objs.find(x => x.name === name);
  if (!o || typeof o.content === 'number') throw new Error(`internal: no byte array ${name}`);
  return o.content.length;
}

// ---------------------------------------------------------------------------------------------------------------
// plans: what each case calls, with which arguments

/** How one argument is pushed (and so what the checker knows of it). */
export type Arg =
  | { k: 'imm'; v: number } // push imm: the checker sees S(v)
  | { k: 'opaque'; v: number } // push DWORD PTR [cell]: the checker sees int (so it cannot refuse a bad bound)
  | { k: 'obj'; name: string } // push OFFSET name: a static object
  | { k: 'heap'; i: number } // the i-th heap buffer (a stack slot)
  | { k: 'lastfd' }; // the result of the last open, socket or accept4 (a stack slot)

export type Sentinel = { k: 'int'; v: number } | { k: 'obj'; name: string } | { k: 'heap'; i: number };

export interface Case {
  imp: string;
  args: Arg[];
  /** tal_alloc: the number of fields of the tuple. */
  fields?: number;
  sentinels: [Sentinel, Sentinel, Sentinel, Sentinel];
  /** After the call: keep eax as the new lastfd, or push it as a new heap buffer. */
  keep?: 'lastfd' | 'heap';
  /** Setup: the probe also checks that eax is this. */
  expect?: number;
}

export interface Plan {
  seed: number;
  objects: StaticObject[];
  /** Lengths of the heap buffers the setup allocates (tal_new_bytes), in order. */
  heap: number[];
  cases: Case[];
  /** argv of the probe. */
  argv: string[];
  /** Native-safe: no call that would wait forever on a host without the emulated fixtures' host side. */
  native: boolean;
}

export const REG_ORDER = ['ebx', 'esi', 'edi', 'ebp'] as const;

const SENTINEL_BASE = 0x5a000000;

/** The imports every case is drawn for (exit ends the process: it has its own runs). */
export const CALL_IMPORTS = IMPORTS.map(i => i.name).filter(n => n !== 'exit');

/** Plain integer arguments with their edges. */
const anyInt = fc.oneof(
  fc.constantFrom(0, 1, -1, 0x7fffffff, -0x80000000, 4096, 65536),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
);
const BAD_FDS = [-1, 10, 63, 1023, 1024, 0x7fffffff, -0x80000000];

/** An argument as an immediate or through a cell (so that the checker does not know it). */
function int(v: number, opaque: boolean): Arg { return opaque ? { k: 'opaque', v } : { k: 'imm', v }; }

/** The generator of one case's arguments, per import. `blocking`: bias towards calls that sleep. */
function argArbitrary(imp: string, heapLens: readonly number[], objs: readonly StaticObject[],
  native: boolean): fc.Arbitrary<Omit<Case, 'sentinels'>> {
  const fdFrom = (last: boolean, prefer: number[]): fc.Arbitrary<Arg> => fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...prefer).map(v => ({ k: 'imm', v }) as Arg) },
    { weight: 1, arbitrary: fc.constantFrom(...BAD_FDS).map(v => ({ k: 'imm', v }) as Arg) },
    ...(last ? [{ weight: 1, arbitrary: fc.constant({ k: 'lastfd' } as Arg) }] : []),
  );
  const fd = (...prefer: number[]): fc.Arbitrary<Arg> => fdFrom(true, prefer);
  // Writes never go to lastfd: an unconnected socket there would raise SIGPIPE (as on Linux) and end the probe.
  const wfd = (...prefer: number[]): fc.Arbitrary<Arg> => fdFrom(false, prefer);
  const op = fc.boolean();
  const writable = [...Object.keys(WRITABLE), ...heapLens.map((_, i) => `#${i}`)];
  const bufLen = (b: string): number => b.startsWith('#') ? heapLens[Number(b.slice(1))] : lengthOf(objs, b);
  const bufArg = (b: string): Arg => b.startsWith('#') ? { k: 'heap', i: Number(b.slice(1)) } : { k: 'obj', name: b };
  /** A buffer, an offset and a count (or a fixed size), with the edges; out of bounds only through cells. */
  const edges = fc.oneof({ weight: 3, arbitrary: fc.constant(-1) }, { weight: 2, arbitrary: fc.nat(6) });
  const buffer = (names: readonly string[], fixed?: number, unit = 1) =>
    fc.tuple(fc.constantFrom(...names), fc.nat(), fc.nat(), op, op, edges)
    .map(([b, r1, r2, o1, o2, edge]) => {
      const len = bufLen(b), size = fixed ?? 0;
      const room = Math.max(0, len - size);
      const inside = (r1 % (room + 1)) & ~(unit - 1);
      // edge -1: in bounds; else one of the edges (the end, one past it, negative, huge).
      const end = fixed === undefined ? len : room;
      const off = edge < 0 ? inside : [0, end, room + 1, -1, 0x80000000 | 0, inside, 4][edge];
      const left = Math.max(0, len - Math.max(0, off));
      const fits = (r2 % (left + 1)) & ~(unit - 1);
      const count = edge < 0 ? fits : [0, left, left + 1, fits, -1, 0x7fffffff, unit][(edge + r2) % 7];
      const inBounds = (off >>> 0) <= len && ((fixed ?? count) >>> 0) <= len - (off >>> 0);
      const isStatic = !b.startsWith('#');
      // A static buffer with constant bounds that fail would be refused by the checker (import-bounds): use cells.
      const forced = isStatic && !inBounds;
      const args = [bufArg(b), int(off, o1 || forced)];
      if (fixed === undefined) args.push(int(count, o2 || forced));
      return args;
    });
  const wbufs = buffer(writable);
  const rbufs = buffer([...writable, 'text']);
  const path = fc.constantFrom(...Object.keys(PATHS)).map(name => ({ k: 'obj', name }) as Arg);
  const a = (...parts: fc.Arbitrary<Arg | Arg[]>[]) => fc.tuple(...parts).map(xs => ({ imp, args: xs.flat() }));
  const imm = (...vs: number[]) => fc.constantFrom(...vs).map(v => ({ k: 'imm', v }) as Arg);
  const anyArg = fc.tuple(anyInt, op).map(([v, o]) => int(v, o));
  const console0 = native ? [] : [FIXTURE.console];
  const sock = native ? [FIXTURE.client, FIXTURE.server] : [FIXTURE.client, FIXTURE.server, FIXTURE.host];
  switch (imp) {
    case 'tal_alloc':
      return fc.integer({ min: 0, max: 6 }).map(n => ({ imp, args: [{ k: 'imm', v: 4 * n } as Arg], fields: n }));
    case 'tal_new_array': return a(fc.oneof(imm(0, 1, 2), fc.integer({ min: 0, max: 300 }).map(v => int(v, true))),
      fc.oneof(anyArg, fc.constantFrom('b16', 'p_file', 'fails').map(name => ({ k: 'obj', name }) as Arg)));
    case 'tal_new_bytes': return a(fc.oneof(imm(0, 1, 4096), fc.integer({ min: 0, max: 5000 }).map(v => int(v, true))),
      anyArg);
    case 'tal_args': case 'getpid': case 'getppid': case 'getuid': case 'getgid': case 'geteuid': case 'getegid':
      return fc.constant({ imp, args: [] });
    // Natively nothing would wake a read of an empty socket or of the console: only files there.
    case 'read': return a(fd(...console0, ...console0, ...(native ? [] : [...sock, ...sock]), FIXTURE.file, FIXTURE.dir,
      FIXTURE.out), wbufs);
    case 'write': return a(wfd(1, 2, FIXTURE.out, ...sock, ...sock, FIXTURE.file), rbufs);
    case 'open': return a(path, imm(0, 0x41, 0x242, 0x10000, 0x800, 0xc1, 0x80000, 2), fc.oneof(imm(0o644, 0), anyArg))
      .map(c => ({ ...c, keep: 'lastfd' as const }));
    case 'close': return a(fc.oneof(imm(...BAD_FDS, 11, 12), fc.constant({ k: 'lastfd' } as Arg)));
    case 'lseek':
      return a(fd(FIXTURE.file, FIXTURE.dir, FIXTURE.out, 1, FIXTURE.client), anyArg,
        fc.oneof(imm(0, 1, 2, 3, -1), anyArg));
    case 'getdents64': return a(fd(FIXTURE.dir, FIXTURE.file, 1), wbufs);
    case 'stat64': case 'lstat64': return a(path, buffer(writable, STAT64_SIZE));
    case 'fstat64': return a(fd(FIXTURE.file, FIXTURE.dir, 1, FIXTURE.client), buffer(writable, STAT64_SIZE));
    // Signals that cannot end the probe: 0 and invalid ones to any pid; fatal ones (only in the emulator, where the
    // other processes are root's, so EPERM) to pids that do not exist or are not the probe's; harmless ones to itself.
    case 'kill': return native ? a(anyArg, imm(0, 65, -1, 1000)) : fc.oneof(
      a(anyArg, fc.oneof(imm(0, 65, -1, 1000), fc.constant(int(0, true)))),
      a(imm(30000, -7, 99999, -1), imm(9, 15, 2)),
      a(imm(0), imm(17, 28, 23)),
    );
    case 'access': return a(path, fc.oneof(imm(0, 1, 2, 4, 7, 8), anyArg));
    case 'chdir': return a(fc.constantFrom('p_c', 'p_dot', 'p_missing', 'p_file', 'p_long', 'p_empty', 'p_secret',
      'p_4096').map(name => ({ k: 'obj', name }) as Arg));
    case 'getcwd': return a(wbufs);
    case 'readlink': return a(path, wbufs);
    case 'uname': return a(buffer(writable, UTSNAME_SIZE));
    case 'clock_gettime':
      return a(fc.oneof(imm(0, 1, 2, 3, 4, 5, 6, 7, 8, -1), anyArg), buffer(writable, TIMESPEC_SIZE));
    case 'nanosleep':
      // Offsets only on record boundaries (or outside): a misaligned read of the table could mean a sleep of hours.
      return fc.tuple(fc.integer({ min: 0, max: TIMESPECS.length - 1 }), fc.constantFrom(0, 0, 0, 1, 2, 3), op)
        .map(([r, edge, o]) => {
        const len = 8 * TIMESPECS.length;
        const off = [8 * r, len, len - 4, -1][edge];
        return { imp, args: [{ k: 'obj', name: 'ts' } as Arg, int(off, o || edge > 0)] };
      });
    case 'socket': return a(fc.oneof(imm(2, 1, 10), anyArg), fc.oneof(imm(1, 2, 3, 0x801, 0x80001), anyArg),
      fc.oneof(imm(0, 6, 17), anyArg))
      .map(c => ({ ...c, keep: 'lastfd' as const }));
    case 'bind': case 'connect': {
      const len = 16 * SOCKADDRS.length;
      const record = fc.integer({ min: 0, max: SOCKADDRS.length - 1 });
      const sa = fc.tuple(record, fc.constantFrom(0, 0, 1, 2, 3), op).map(([r, edge, o]) => {
        const off = [16 * r, len, len - 8, -1][edge];
        return [{ k: 'obj', name: 'sa' }, int(off, o || edge > 0)] as Arg[];
      });
      const named = fc.constant<Arg[]>([{ k: 'obj', name: 'namebuf' }, { k: 'imm', v: 0 }]);
      return a(fd(FIXTURE.listener, FIXTURE.client, FIXTURE.file), fc.oneof(sa, named));
    }
    case 'listen': return a(fd(FIXTURE.listener, FIXTURE.client, FIXTURE.file), fc.oneof(imm(0, 1, 128), anyArg));
    case 'accept4': return a(fd(...(native ? [] : [FIXTURE.listener]), FIXTURE.client, FIXTURE.file),
      native ? imm(0x800, 0x80800, -1) : imm(0, 0, 0x800, 0x80000, -1)).map(c => ({ ...c, keep: 'lastfd' as const }));
    case 'getsockname': case 'getpeername':
      return a(fd(FIXTURE.listener, FIXTURE.client, FIXTURE.server, FIXTURE.file), buffer(writable, SOCKADDR_IN_SIZE));
    // Natively a random option could shrink a buffer until a later write waits forever: only harmless ones there.
    case 'setsockopt': return native
      ? fc.oneof(a(fd(FIXTURE.client, FIXTURE.server, FIXTURE.file), imm(1), imm(2), anyArg),
        a(fd(FIXTURE.client, FIXTURE.file), imm(1234, -1), anyArg, anyArg))
      : a(fd(FIXTURE.client, FIXTURE.server, FIXTURE.file), fc.oneof(imm(1, 6, 0), anyArg),
        fc.oneof(imm(2, 1, 9), anyArg), anyArg);
    case 'shutdown': return a(fc.oneof(imm(...BAD_FDS, FIXTURE.file), fc.constant({ k: 'lastfd' } as Arg)),
      fc.oneof(imm(0, 1, 2, 3), anyArg));
    case 'sendto': {
      // Random flags keep MSG_NOSIGNAL, for the same reason.
      const flags = fc.oneof({ weight: 3, arbitrary: imm(0, 0x4000, 0x40, 0x4040) },
        { weight: 1, arbitrary: fc.tuple(anyInt, op).map(([v, o]) => int(v | 0x4000, o)) });
      return a(wfd(...sock, ...sock, 1), rbufs, flags);
    }
    // Natively MSG_DONTWAIT: nothing there would wake the read.
    case 'recvfrom':
      return a(fd(...sock, ...sock, ...console0, FIXTURE.file), wbufs,
        native ? imm(0x40, 0x42) : imm(0, 0, 0, 0x40, 2, 0x42));
    case 'poll': {
      // Timeout -1 only with the console first (the runner can wake it); otherwise 0 or 1 ms.
      const len = POLLFD_SIZE * POLLFDS.length;
      return fc.tuple(fc.integer({ min: 0, max: POLLFDS.length }), fc.integer({ min: 0, max: POLLFDS.length }),
        fc.constantFrom(0, 0, 1, 2, 3, 4), op)
        .map(([r, n, edge, o]) => {
          const off = [8 * Math.min(r, POLLFDS.length - 1), len, 4, -1, 0][edge];
          const first = Math.min(r, POLLFDS.length - 1);
          const count = edge === 4 ? 8 * Math.max(1, n) - 3 : 8 * Math.min(n, POLLFDS.length - first);
          const forever = !native && edge === 0 && r === 0 && count > 0 && n % 2 === 0;
          return { imp, args: [{ k: 'obj', name: 'pollfds' } as Arg, int(off, o || edge > 0), int(count, o || edge > 0),
            { k: 'imm', v: forever ? -1 : n % 3 === 0 ? 1 : 0 } as Arg] };
        });
    }
    case 'fcntl': return fc.oneof(
      a(fd(FIXTURE.file, FIXTURE.dir, FIXTURE.client, 1), imm(1, 2, 3, 0, 1030, 1234, -1),
        fc.oneof(imm(0, 1, 20), anyArg)),
      a(fc.oneof(imm(FIXTURE.file, FIXTURE.out, ...BAD_FDS), fc.constant({ k: 'lastfd' } as Arg)), imm(4),
        fc.oneof(imm(0, 0x800, 0x400), anyArg)),
    );
    default: throw new Error(`internal: no argument generator for import ${imp}`);
  }
}

/** Sentinels for the four callee-saved registers of case `i`. */
function sentinelArbitrary(i: number, heapCount: number): fc.Arbitrary<[Sentinel, Sentinel, Sentinel, Sentinel]> {
  const kinds: fc.Arbitrary<Sentinel>[] = [
    fc.constantFrom('b16', 'b4096', 'p_file', 'fails', 'ts').map(name => ({ k: 'obj', name }) as Sentinel),
  ];
  if (heapCount > 0) kinds.push(fc.integer({ min: 0, max: heapCount - 1 }).map(h => ({ k: 'heap', i: h }) as Sentinel));
  const one = (r: number): fc.Arbitrary<Sentinel> =>
    fc.oneof(fc.constant({ k: 'int', v: (SENTINEL_BASE + (i << 4) + r) | 0 } as Sentinel), ...kinds);
  return fc.tuple(one(0), one(1), one(2), one(3));
}

/**
 * The setup every probe begins with: heap buffers, then the fixture descriptors 3..9 (in the emulator; natively the
 * host connection 8 is left out). Each setup call is a case like the others, and the probe checks its result.
 */
function setupCases(heap: readonly number[], native: boolean): Omit<Case, 'sentinels'>[] {
  const imm = (v: number): Arg => ({ k: 'imm', v });
  const obj = (name: string): Arg => ({ k: 'obj', name });
  const out: Omit<Case, 'sentinels'>[] = heap.map((n, i) => ({ imp: 'tal_new_bytes', args: [imm(n), imm(0x41 + i)],
    keep: 'heap' }));
  out.push(
    { imp: 'open', args: [obj('p_file'), imm(0), imm(0)], expect: FIXTURE.file },
    { imp: 'open', args: [obj('p_dir'), imm(0x10000), imm(0)], expect: FIXTURE.dir },
    { imp: 'socket', args: [imm(2), imm(1), imm(0)], expect: FIXTURE.listener },
    { imp: 'bind', args: [imm(FIXTURE.listener), obj('sa'), imm(0)], expect: 0 },
    { imp: 'listen', args: [imm(FIXTURE.listener), imm(16)], expect: 0 },
    { imp: 'getsockname', args: [imm(FIXTURE.listener), obj('namebuf'), imm(0)], expect: 0 },
    { imp: 'socket', args: [imm(2), imm(1), imm(0)], expect: FIXTURE.client },
    { imp: 'connect', args: [imm(FIXTURE.client), obj('namebuf'), imm(0)], expect: 0 },
    { imp: 'accept4', args: [imm(FIXTURE.listener), imm(0)], expect: FIXTURE.server },
  );
  // The host connection: accept4 sleeps until the runner connects from the host. Natively an unconnected socket
  // takes descriptor 8 (nothing reads or writes it there).
  out.push(native
    ? { imp: 'socket', args: [imm(2), imm(1), imm(0)], expect: FIXTURE.host }
    : { imp: 'accept4', args: [imm(FIXTURE.listener), imm(0)], expect: FIXTURE.host });
  out.push({ imp: 'open', args: [obj('p_out'), imm(0x242), imm(0o644)], expect: FIXTURE.out });
  return out;
}

/**
 * A plan: setup, then `perImport` cases of every import in CALL_IMPORTS (or of `only`), shuffled. Natively the fixture
 * descriptor 8 does not exist (its number is then the out file's, and every case is drawn among native-safe ones).
 */
export function makePlan(o: { seed: number; perImport: number; native?: boolean; only?: readonly string[] }): Plan {
  const native = o.native ?? false;
  const objects = staticObjects();
  const [heap] = fc.sample(fc.tuple(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 100, max: 5000 }),
    fc.constant(16)), { seed: o.seed, numRuns: 1 });
  const imports = o.only ?? CALL_IMPORTS;
  let bodies: Omit<Case, 'sentinels'>[] = [];
  imports.forEach((imp, k) => {
    bodies.push(...fc.sample(argArbitrary(imp, heap, objects, native), { seed: o.seed * 1009 + k,
      numRuns: o.perImport }));
  });
  // Calls that must sleep, so that every run has them whatever was drawn: the runner wakes each from the host side.
  const imm = (v: number): Arg => ({ k: 'imm', v }), obj = (name: string): Arg => ({ k: 'obj', name });
  const sleepers: Omit<Case, 'sentinels'>[] = [
    { imp: 'nanosleep', args: [obj('ts'), imm(8)] }, { imp: 'nanosleep', args: [obj('ts'), imm(16)] },
    { imp: 'nanosleep', args: [obj('ts'), imm(0)] }, { imp: 'poll', args: [obj('pollfds'), imm(40), imm(8), imm(1)] },
  ];
  if (!native) {
    sleepers.push(
      { imp: 'read', args: [imm(0), obj('b16'), imm(0), imm(16)] }, { imp: 'read', args: [imm(FIXTURE.host),
        { k: 'heap', i: 1 }, imm(0), imm(heap[1])] },
      { imp: 'recvfrom', args: [imm(FIXTURE.host), obj('b100'), imm(0), imm(50), imm(0)] },
      { imp: 'write', args: [imm(FIXTURE.host), obj('text'), imm(0), imm(lengthOf(objects, 'text'))] },
      { imp: 'sendto', args: [imm(FIXTURE.host), obj('b512'), imm(0), imm(512), imm(0)] },
      { imp: 'accept4', args: [imm(FIXTURE.listener), imm(0)], keep: 'lastfd' },
      { imp: 'poll', args: [obj('pollfds'), imm(0), imm(8), imm(-1)] },
    );
  }
  if (!o.only) bodies.push(...sleepers);
  // Shuffle (deterministically), so that each kind of call follows every other.
  const shuffled = fc.shuffledSubarray(bodies.map((_, i) => i), { minLength: bodies.length });
  const [order] = fc.sample(shuffled, { seed: o.seed + 7, numRuns: 1 });
  bodies = order.map(i => bodies[i]);
  const all = [...setupCases(heap, native), ...bodies];
  // A heap buffer can hold a sentinel once the setup has allocated it.
  const cases = all.map((c, i) => ({ ...c, sentinels: fc.sample(sentinelArbitrary(i, Math.min(i, heap.length)),
    { seed: o.seed * 31 + i, numRuns: 1 })[0] }));
  return { seed: o.seed, objects, heap: [...heap], cases, argv: ['probe', 'x', '', 'caf\xe9'], native };
}

// ---------------------------------------------------------------------------------------------------------------
// the probe's text

/** Failure bits the probe sets in `fails`: a register, the canaries (its stack), the result, a setup result. */
export const FAIL_BITS = { ebx: 1, esi: 2, edi: 4, ebp: 8, stack: 16, result: 32, setup: 64 } as const;

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** The probe's TAL source. `end`: natively exit with the failure bits; in the emulator spin until killed. */
export function probeSource(plan: Plan, end: 'exit' | 'spin'): string {
  const L: string[] = [];
  const used = new Set(['getppid', ...plan.cases.map(c => c.imp)]);
  if (end === 'exit') used.add('exit');
  const cells = new Map<number, string>();
  const cell = (v: number): string => {
    let n = cells.get(v | 0);
    if (!n) cells.set(v | 0, n = `c_${cells.size}`);
    return n;
  };
  L.push('# conformance probe (generated by test/util/conformance.ts)', '.intel_syntax noprefix',
    `.tal_import ${[...used].join(', ')}`, '.text',
    '.tal_label main : code[r:stack]{esp: r}', 'main:');
  // Persistent stack slots: heap buffers (deepest first), then lastfd, pushed as the setup goes. `depth` is the
  // number of persistent words; a slot's word index counts from the top of them.
  const persistent: string[] = []; // 'heap0', 'heap1', ..., 'lastfd' in push order
  const slot = (name: string, extra: number): string => {
    const fromTop = persistent.length - 1 - persistent.indexOf(name);
    if (fromTop < 0 || fromTop >= persistent.length) throw new Error(`internal: no slot ${name}`);
    return `DWORD PTR [esp+${4 * (extra + fromTop)}]`;
  };
  /** After a setcc into cl: or the condition into `fails` as `bit`. */
  const orFail = (bit: number): void => {
    L.push('    movzx ecx, cl');
    if (bit > 1) L.push(`    shl ecx, ${Math.log2(bit)}`);
    L.push('    or DWORD PTR [fails], ecx');
  };
  const sentinelOperand = (s: Sentinel, extra: number): string =>
    s.k === 'int' ? hex(s.v) : s.k === 'obj' ? `OFFSET ${s.name}` : slot(`heap${s.i}`, extra);
  let lastfdPushed = false;
  plan.cases.forEach((c, i) => {
    if (!lastfdPushed && c.keep !== 'heap') {
      L.push('    push -1                             # lastfd');
      persistent.push('lastfd');
      lastfdPushed = true;
    }
    L.push(`    # case ${i}: ${c.imp}`);
    c.sentinels.forEach((s, r) => L.push(`    mov ${REG_ORDER[r]}, ${sentinelOperand(s, 0)}`));
    const canA = (0x6b000000 + 2 * i) | 0, canB = (0x6b000001 + 2 * i) | 0;
    L.push(`    push ${hex(canA)}`, `    push ${hex(canB)}`);
    let extra = 2;
    for (let j = c.args.length - 1; j >= 0; j--) {
      const a = c.args[j];
      const operand = a.k === 'imm' ? hex(a.v) : a.k === 'opaque' ? `DWORD PTR [${cell(a.v)}]` : a.k === 'obj'
        ? `OFFSET ${a.name}`
        : a.k === 'heap' ? slot(`heap${a.i}`, extra) : slot('lastfd', extra);
      L.push(`    push ${operand}`);
      extra++;
    }
    L.push('    call DWORD PTR [getppid]            # PRE');
    if (c.imp === 'tal_alloc') L.push(`.tal_inst *[${Array(c.fields ?? 0).fill('int').join(', ')}]`);
    L.push(`    call DWORD PTR [${c.imp}]`, '    push eax', '    call DWORD PTR [getppid]            # POST',
      '    pop eax');
    // What the probe itself can check of the result.
    const n = c.args[0]?.k === 'imm' || c.args[0]?.k === 'opaque' ? (c.args[0] as { v: number }).v : 0;
    if (c.imp === 'tal_new_bytes' || c.imp === 'tal_new_array' || c.imp === 'tal_args') {
      const length = c.imp === 'tal_args' ? plan.argv.length : n;
      L.push(`    cmp DWORD PTR [eax], ${hex(length)}`, '    setne cl');
      orFail(FAIL_BITS.result);
    } else if (c.imp === 'tal_alloc') {
      // Its fields can only be written: writing them all is what the probe can do with it.
      for (let f = 0; f < (c.fields ?? 0); f++) L.push(`    mov DWORD PTR [eax+${4 * f}], ${f}`);
    } else {
      L.push('    cmp eax, -4095', '    setl cl');
      orFail(FAIL_BITS.result);
    }
    if (c.expect !== undefined) { L.push(`    cmp eax, ${c.expect}`, '    setne cl'); orFail(FAIL_BITS.setup); }
    if (c.keep === 'lastfd') L.push(`    mov ${slot('lastfd', extra)}, eax`);
    L.push(`    add esp, ${4 * c.args.length}`);
    L.push('    pop ecx', `    cmp ecx, ${hex(canB)}`, '    setne cl'); orFail(FAIL_BITS.stack);
    L.push('    pop ecx', `    cmp ecx, ${hex(canA)}`, '    setne cl'); orFail(FAIL_BITS.stack);
    c.sentinels.forEach((s, r) => {
      L.push(`    cmp ${REG_ORDER[r]}, ${sentinelOperand(s, 0)}`, '    setne cl');
      orFail(1 << r);
    });
    if (c.keep === 'heap') {
      if (lastfdPushed) throw new Error('internal: heap buffers come before lastfd');
      L.push('    push eax');
      persistent.push(`heap${persistent.length}`);
    }
  });
  L.push('    call DWORD PTR [getppid]            # END');
  if (end === 'exit') {
    L.push('    mov ecx, DWORD PTR [fails]', '    cmp ecx, 0', '    setne al', '    movzx eax, al', '    shl eax, 7',
      '    or eax, ecx', '    push eax',
      '    call DWORD PTR [exit]');
  } else {
    L.push('.tal_label spin : code[r:stack]{esp: r}', 'spin:', '    jmp spin');
  }
  L.push('.data');
  for (const o of plan.objects) {
    if (o.kind === 'rbytes' || o.kind === 'rcell') continue;
    L.push('.align 4', `.tal_label ${o.name} : ${o.kind === 'cell' ? '*[int]' : '*bytes'}`, `${o.name}:`);
    L.push(...objectData(o));
  }
  L.push('.section .rodata');
  for (const o of plan.objects) {
    if (o.kind !== 'rbytes' && o.kind !== 'rcell') continue;
    L.push('.align 4', `.tal_label ${o.name} : ${o.kind === 'rcell' ? '*[int^r]' : '*rbytes'}`, `${o.name}:`);
    L.push(...objectData(o));
  }
  for (const [v, name] of cells) L.push('.align 4', `.tal_label ${name} : *[int^r]`, `${name}:`, `    .long ${hex(v)}`);
  return L.join('\n') + '\n';
}

function objectData(o: StaticObject): string[] {
  if (typeof o.content === 'number') return [`    .long ${hex(o.content)}`];
  const out = [`    .long ${o.content.length}`];
  for (let i = 0; i < o.content.length; i += 64) {
    out.push(`    .byte ${Array.from(o.content.subarray(i, i + 64)).join(', ')}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// the probe assembled: its call sites and objects

export type Role = 'pre' | 'call' | 'post' | 'end';
export interface Site { index: number; role: Role }

export interface Probe {
  plan: Plan;
  end: 'exit' | 'spin';
  elf: Uint8Array;
  /** Return address of every import call → which case and which of its calls. */
  sites: Map<number, Site>;
  /** Static objects by name: address and size in bytes (length word included). */
  objects: Map<string, { addr: number; size: number }>;
  /** Writable ranges of the image, without the runtime's private .tal.rtbss: [start, end). */
  writable: [number, number][];
  rtbss: [number, number];
}

/** Assemble and verify a probe (the checker must accept it: it is the verified caller of the contract). */
export function buildProbe(plan: Plan, end: 'exit' | 'spin'): Probe {
  const source = probeSource(plan, end);
  const r = assemble(source, 'probe.tal');
  if (!('elf' in r)) throw new Error(`the probe does not assemble: ${JSON.stringify(r).slice(0, 2000)}`);
  const checked = checkElf(r.elf);
  if (!checked.ok) throw new Error(`the checker refuses the probe: ${JSON.stringify(checked.error).slice(0, 2000)}`);
  const prog = readProgram(r.elf);
  const slotName = new Map(prog.imports.map(i => [i.slot >>> 0, i.name]));
  // Walk the straight-line code: every `call DWORD PTR [slot]`, in order, is PRE, the call, POST of each case.
  const calls: number[] = [];
  for (let off = 0; off < prog.text.length;) {
    const d = decode(prog.text, off, prog.textAddr + off);
    if (isRefusal(d)) throw new Error(`internal: the probe's code does not decode at ${off}`);
    const m = d.operands[0];
    if (d.op === 'call' && m?.kind === 'mem' && slotName.has(m.disp >>> 0)) calls.push((d.address + d.length) >>> 0);
    off += d.length;
  }
  // PRE, the call, POST per case; END; and exit in the native form.
  const want = 3 * plan.cases.length + (end === 'exit' ? 2 : 1);
  if (calls.length !== want) throw new Error(`internal: ${calls.length} calls for ${plan.cases.length} cases`);
  const sites = new Map<number, Site>();
  plan.cases.forEach((_, i) => {
    (['pre', 'call', 'post'] as const).forEach((role, j) => sites.set(calls[3 * i + j], { index: i, role }));
  });
  sites.set(calls[3 * plan.cases.length], { index: plan.cases.length, role: 'end' });
  const objects = new Map<string, { addr: number; size: number }>();
  for (const label of prog.ann.data.values()) {
    const o = plan.objects.find(x => x.name === label.name);
    const size = !o || typeof o.content === 'number' ? 4 : 4 + o.content.length;
    objects.set(label.name, { addr: label.addr >>> 0, size });
  }
  const img = readElf(r.elf);
  const rt = findSection(img, '.tal.rtbss');
  const rtbss: [number, number] = rt ? [rt.addr, rt.addr + rt.size] : [0, 0];
  const writable = img.segments.filter(s => s.flags & PF_W).map(s => [s.vaddr, s.vaddr + s.memsz] as [number, number]);
  return { plan, end, elf: r.elf, sites, objects, writable, rtbss };
}

// ---------------------------------------------------------------------------------------------------------------
// hostile processes

/** Values a hostile process puts in registers: kernel addresses and addresses inside the probe's objects. */
export function hostileValues(k: Kernel, probe: Probe, task: Task): number[] {
  const kernel = ['current_task', 'jiffies', 'task_table', 'sys_call_table', 'entry_int80',
    'entry_restore_all'].map(s => k.symbols.get(s)!).filter(v => v !== undefined);
  kernel.push(task.addr, task.get(T.ESP0) - 64, task.get(T.CR3) + PAGE_OFFSET);
  const inside = [...probe.objects.values()].filter(o => o.size > 4).map(o => o.addr + 2);
  inside.push(task.brkStart + 2, task.brkStart + 0x102);
  const out: number[] = [];
  for (let i = 0; i < Math.max(kernel.length, inside.length); i++) {
    out.push(kernel[i % kernel.length] | 0, inside[i % inside.length] | 0);
  }
  return out;
}

/**
 * The verified kernel-mode hostile: rounds of loading the values into every register, spinning, and calling getpid
 * and nanosleep (so it sleeps, is switched from and to, with its registers full of the values).
 */
export function hostileKernelSource(values: readonly number[]): string {
  const L = ['# hostile (kernel mode, verified)', '.intel_syntax noprefix', '.tal_import getpid, nanosleep', '.text',
    '.tal_label main : code[r:stack]{esp: r}', 'main:'];
  const regs = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp'];
  const rounds = 4;
  for (let r = 0; r < rounds; r++) {
    const v = (j: number): string => hex(values[(r * 7 + j) % values.length]);
    const fill = () => regs.forEach((reg, j) => L.push(`    mov ${reg}, ${v(j)}`));
    fill();
    L.push('    mov ecx, 200',
      `.tal_label spin${r} : code[r:stack]{ebx: int, ecx: int, esi: int, edi: int, ebp: int, esp: r}`, `spin${r}:`,
      '    dec ecx', `    jne spin${r}`);
    fill();
    L.push('    call DWORD PTR [getpid]');
    fill();
    L.push('    push 0', '    push OFFSET ts', '    call DWORD PTR [nanosleep]', '    add esp, 8');
  }
  L.push('    jmp main', '.section .rodata', '.tal_label ts : *rbytes', 'ts:', '    .long 8', `    .long 0, ${3000}`);
  return L.join('\n') + '\n';
}

/**
 * The unverified user-mode hostile: sets DF, fills every register, spins, makes a system call (getpid) now and then.
 * Refused by the checker (pushf/popf), which does not run in user mode.
 */
export function hostileUserSource(values: readonly number[]): string {
  const L = ['# hostile (user mode, unverified)', '.intel_syntax noprefix', '.text',
    '.tal_label main : code[r:stack]{esp: r}', 'main:'];
  const regs = ['eax', 'ebx', 'edx', 'esi', 'edi', 'ebp'];
  for (let r = 0; r < 4; r++) {
    L.push('    pushf', '    or DWORD PTR [esp], 0x400', '    popf');
    regs.forEach((reg, j) => L.push(`    mov ${reg}, ${hex(values[(r * 5 + j + 3) % values.length])}`));
    L.push('    mov ecx, 300', `.tal_label uspin${r} : code[r:stack]{esp: r}`, `uspin${r}:`, '    dec ecx',
      `    jne uspin${r}`);
    L.push('    mov eax, 20', '    int 0x80');
  }
  L.push('    jmp main');
  return L.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------------------
// the observer and the runner

export interface Failure { index: number; imp: string; promise: string; detail: string }

export interface CaseStats { blocked: boolean; switched: boolean }

export interface RunReport {
  failures: Failure[];
  /** Cases whose POST the observer saw. */
  observed: number;
  /** Cases during which the probe slept, and during which another task ran. */
  blocked: number;
  switched: number;
  /** How the probe ended (after the kill, normally SIGKILL) and what the machine did. */
  probeExit: { status: number; signal: string | null; fault?: string } | undefined;
  kernelExit: string;
  /** The probe's own failure bits (FAIL_BITS), read from its memory. */
  selfFails: number;
  /** The names of the imports whose calls slept at least once. */
  blockedImports: Set<string>;
  instructions: number;
  timerInterrupts: number;
}

export interface Schedule {
  name: string;
  hz: number;
  hostile: boolean;
}

interface Regs { ebx: number; esi: number; edi: number; ebp: number; flags: number; callEsp: number; eax: number }

/** The known objects of the probe (static, and heap objects handed out so far): [addr, end). */
type Range = [number, number];

const SLICE = 20_000;

/**
 * Run a probe under `k`-to-be with the given mode and schedule, observing every call. The host side unblocks calls
 * that wait for it; at the end the probe spins, the runner checks that it is still preempted, then kills it.
 */
export function runProbe(probe: Probe, o: {
  kernel: boolean; pti: boolean; schedule: Schedule; maxInstructions?: number;
  /** How user mode enters the kernel (KernelOptions.syscallEntry); default int80. */
  syscallEntry?: SyscallEntry;
  /** Faults put back in the kernel (KernelOptions.reintroduce), to show that the harness sees them. */
  reintroduce?: readonly KnownFault[];
}): RunReport {
  const k = new Kernel({
    pti: o.pti, hz: o.schedule.hz, onOutput: () => {}, reintroduce: o.reintroduce, syscallEntry: o.syscallEntry,
  });
  // From the user esp the entry code saved to the import's call esp: the stub's ebx and its call's return address,
  // and with the sysenter entry __kernel_vsyscall's ecx, edx, ebp.
  const stubWords = k.sysinfo ? 5 : 2;
  const root = k.vfs.context(ROOT);
  mkdirat(root, undefined, '/c', 0o777);
  chmodat(root, undefined, '/c', 0o777);
  put(root, '/c/file', 'the fixture file: 64 bytes of text for the conformance harness.\n');
  mkdirat(root, undefined, '/c/dir', 0o755);
  for (const n of ['a', 'bb', 'ccc']) put(root, `/c/dir/${n}`, n);
  symlinkat(root, 'file', undefined, '/c/link');
  put(root, '/c/secret', 'root only\n', 0o600);
  const plan = probe.plan;
  const pid = start(k, probe.elf, plan.argv, { kernel: o.kernel, verify: true, uid: 1000, gid: 1000, cwd: '/c' });
  if (typeof pid !== 'number') throw new Error(`the probe did not start: ${pid.message}`);
  const task = k.findTask(pid)!;
  if (o.schedule.hostile) {
    const values = hostileValues(k, probe, task);
    const hk = assemble(hostileKernelSource(values), 'hostile-kernel.tal');
    const hu = assemble(hostileUserSource(values), 'hostile-user.tal');
    if (!('elf' in hk) || !('elf' in hu)) throw new Error('internal: a hostile program does not assemble');
    for (const [elf, kernel, verify] of [[hk.elf, true, true], [hu.elf, false, false]] as const) {
      const h = start(k, elf, ['hostile'], { kernel, verify });
      if (typeof h !== 'number') throw new Error(`a hostile program did not start: ${h.message}`);
    }
  }

  const failures: Failure[] = [];
  const fail = (index: number, promise: string, detail: string): void => {
    failures.push({ index, imp: plan.cases[index]?.imp ?? 'END', promise, detail });
  };
  const cpu = k.machine.cpu;
  const read32 = (lin: number): number => cpu.mmu.readSlow(lin | 0, 4, false) | 0;
  const ktalGetppid = k.kernelInterface.get('getppid')!;
  const sysGetppid = k.symbols.get('sys_getppid')!;
  const kernelCall = new Map([...k.kernelInterface].map(([n, a]) => [a, n]));
  const heapObjects: Range[] = [];
  const staticObjects: Range[] = [...probe.objects.values()].map(x => [x.addr, x.addr + x.size]);
  let inflight: {
    index: number; pre: Regs; args: number[]; entry?: Regs; slept: number; switched: boolean; blocked: boolean;
    snapshot: { at: number; bytes: Uint8Array }[]; brk: number;
  } | undefined;
  let observed = 0, blocked = 0, switched = 0, ended = false, endOthers = 0, selfFails = -1;
  const blockedImports = new Set<string>();

/** The probe's registers at an import call site: from the CPU (kernel mode) or pt_regs (user mode, the getppid stub).
   * */
  const regsAt = (lin: number): { ret: number; regs: Regs } | undefined => {
    if (o.kernel) {
      if (!kernelCall.has(lin)) return undefined;
      const esp = cpu.regs[4];
      const regs = { ebx: cpu.regs[3], esi: cpu.regs[6], edi: cpu.regs[7], ebp: cpu.regs[5], flags: cpu.eflags(),
        callEsp: esp >>> 0, eax: read32(esp + 4) };
      return { ret: read32(esp) >>> 0, regs };
    }
    if (lin !== sysGetppid) return undefined;
    const pt = (cpu.regs[4] + 4) | 0;
    if ((read32(pt + PT.CS) & 3) !== 3) return undefined;
    const userEsp = read32(pt + PT.ESP);
    const callEsp = (userEsp + 4 * stubWords) >>> 0;
    return {
      ret: read32(callEsp) >>> 0,
      regs: { ebx: read32(pt + PT.EBX), esi: read32(pt + PT.ESI), edi: read32(pt + PT.EDI), ebp: read32(pt + PT.EBP),
        flags: read32(pt + PT.EFLAGS), callEsp, eax: read32(callEsp + 4) },
    };
  };

  const memoryRanges = (callEsp: number): Range[] => {
    const out: Range[] = [];
    for (const [s, e] of probe.writable) {
      // The runtime's private words are its own, not the caller's: cut them out.
      const [a, b] = probe.rtbss;
      if (b <= s || a >= e) out.push([s, e]);
      else { if (a > s) out.push([s, a]); if (b < e) out.push([b, e]); }
    }
    out.push([task.brkStart, task.brk]);
    out.push([(callEsp + 4) >>> 0, TASK_SIZE]);
    return out.filter(([s, e]) => e > s);
  };

  const onCall = (lin: number): void => {
    const cur = k.current;
    if (cur !== task) {
      if (inflight) {
        inflight.switched = true;
        if (task.state === TASK_INTERRUPTIBLE) inflight.blocked = true;
      }
      if (ended) endOthers++;
      return;
    }
    if (inflight && task.state === TASK_INTERRUPTIBLE) inflight.blocked = true;
    const at = regsAt(lin);
    if (!at) return;
    const site = probe.sites.get(at.ret);
    if (!site) return;
    const r = at.regs;
    if (site.role === 'pre' && (o.kernel ? lin === ktalGetppid : true)) {
      const c = plan.cases[site.index];
      const args = c.args.map((_, j) => read32(r.callEsp + 4 + 4 * j));
      const snapshot = memoryRanges(r.callEsp).map(([s, e]) => ({ at: s, bytes: task.mm!.peek(s, e - s) }));
      inflight = { index: site.index, pre: r, args, slept: 0, switched: false, blocked: false, snapshot,
        brk: task.brk };
    } else if (site.role === 'call' && o.kernel) {
      if (!inflight || inflight.index !== site.index) return fail(site.index, 'observer',
        'an import call without its PRE marker');
      if (inflight.entry) { // called again after sleeping
        inflight.blocked = true;
        return;
      }
      inflight.entry = r;
      // Between PRE's return and this call nothing ran: a difference is the PRE marker's own return (getppid).
      for (const reg of REG_ORDER) if (r[reg] !== inflight.pre[reg]) fail(site.index,
        `${reg} preserved (by the PRE getppid)`, `${hex(inflight.pre[reg])} → ${hex(r[reg])}`);
    } else if (site.role === 'post' && (o.kernel ? lin === ktalGetppid : true)) {
      if (!inflight || inflight.index !== site.index) return fail(site.index, 'observer',
        'a POST marker without its PRE marker');
      checkPost(inflight, r);
      observed++;
      if (inflight.blocked) { blocked++; blockedImports.add(plan.cases[site.index].imp); }
      if (inflight.switched) switched++;
      hostWritable = false;
      inflight = undefined;
    } else if (site.role === 'end') {
      ended = true;
      selfFails = new DataView(task.mm!.peek(probe.objects.get('fails')!.addr, 4).buffer).getInt32(0, true);
    }
  };

  const checkPost = (f: NonNullable<typeof inflight>, r: Regs): void => {
    const i = f.index, c = plan.cases[i], pre = f.pre;
    const base = o.kernel && f.entry ? f.entry : pre;
    for (const reg of REG_ORDER) if (r[reg] !== base[reg]) fail(i, `${reg} preserved`,
      `${hex(base[reg])} → ${hex(r[reg])}${f.blocked ? ' (slept)' : ''}`);
    if (r.callEsp !== ((pre.callEsp - 4) >>> 0)) fail(i, 'esp preserved',
      `the POST call's esp is ${hex(r.callEsp)}, not ${hex(pre.callEsp - 4)}`);
    // A flag already wrong at PRE was lost by an earlier call (reported there), not by this one.
    if (!(r.flags & IF) && pre.flags & IF) fail(i, 'IF set',
      `EFLAGS ${hex(pre.flags)} → ${hex(r.flags)}${f.blocked ? ' (slept)' : ''}`);
    if (r.flags & DF && !(pre.flags & DF)) fail(i, 'DF clear',
      `EFLAGS ${hex(pre.flags)} → ${hex(r.flags)}${f.blocked ? ' (slept)' : ''}`);
    const allowed = checkResult(f, r.eax);
    // Memory: byte-identical outside what the call may write.
    for (const snap of f.snapshot) {
      const now = task.mm!.peek(snap.at, snap.bytes.length);
      if (Buffer.compare(now, snap.bytes) === 0) continue;
      for (let j = 0; j < now.length; j++) {
        if (now[j] === snap.bytes[j]) continue;
        const addr = (snap.at + j) >>> 0;
        if (allowed.some(([s, e]) => addr >= s && addr < e)) continue;
        fail(i, 'memory outside the buffer untouched',
          `byte at ${hex(addr)} changed ${snap.bytes[j]} → ${now[j]}${describe(addr)}`);
        break;
      }
    }
    void c;
  };

  const describe = (addr: number): string => {
    for (const [name, x] of probe.objects) if (addr >= x.addr && addr < x.addr
      + x.size) return ` (in ${name}+${addr - x.addr})`;
    if (addr >= task.brkStart && addr < task.brk) return ' (in the heap)';
    return ' (on the stack)';
  };

  /** Checks eax against the declared result; returns the ranges the call may have written. */
  const checkResult = (f: NonNullable<typeof inflight>, eax: number): Range[] => {
    const i = f.index, c = plan.cases[i], spec = IMPORTS.find(s => s.name === c.imp)!;
    const args = f.args;
    const live = [...staticObjects, ...heapObjects];
    /** A fresh object [p, p + size): inside the heap (the caller's own writable memory) and overlapping nothing. */
    const fresh = (p: number, size: number, what: string): boolean => {
      p >>>= 0;
      if (p < task.brkStart || p + size > task.brk) { fail(i, 'result points into the caller\'s heap',
        `${what} at ${hex(p)}+${size} is outside the heap [${hex(task.brkStart)}, ${hex(task.brk)})`); return false; }
      const clash = live.find(([s, e]) => p < e && s < p + size);
      if (clash) { fail(i, 'result is a fresh object',
        `${what} at ${hex(p)}+${size} overlaps a live object at ${hex(clash[0])}`); return false; }
      live.push([p, p + size]);
      heapObjects.push([p, p + size]);
      return true;
    };
    const rd = (p: number, n: number): Uint8Array => task.mm!.peek(p >>> 0, n);
    const w32 = (p: number): number => new DataView(rd(p, 4).buffer).getInt32(0, true);
    switch (c.imp) {
      case 'tal_alloc': {
        const size = 4 * (c.fields ?? 0);
        return fresh(eax, size, `a tuple of ${c.fields} fields`) ? [[eax >>> 0, (eax >>> 0) + size]] : [];
      }
      case 'tal_new_array': case 'tal_new_bytes': {
        const n = args[0], bytes = c.imp === 'tal_new_bytes';
        const size = 4 + (bytes ? n : 4 * n);
        if (!fresh(eax, size, `${bytes ? '*bytes' : '*arr'} of ${n}`)) return [];
        if (w32(eax) !== n) fail(i, 'result has the requested length', `length word ${w32(eax)}, not ${n}`);
        const body = rd(eax + 4, size - 4);
        const want = bytes ? new Uint8Array(n).fill(args[1] & 0xff) : Uint8Array.from(Array.from({ length: n },
          () => le32(args[1])).flat());
        if (Buffer.compare(body, want) !== 0) fail(i, 'result has the requested contents',
          `elements differ from ${hex(args[1])}`);
        return [[eax >>> 0, (eax >>> 0) + size]];
      }
      case 'tal_args': {
        const n = plan.argv.length;
        if (!fresh(eax, 4 + 4 * n, '*arr(*bytes)')) return [];
        const ranges: Range[] = [[eax >>> 0, (eax >>> 0) + 4 + 4 * n]];
        if (w32(eax) !== n) fail(i, 'result has the requested length', `argc ${w32(eax)}, not ${n}`);
        plan.argv.forEach((arg, j) => {
          const q = w32(eax + 4 + 4 * j), want = Buffer.from(arg, 'latin1');
          if (!fresh(q, 4 + want.length, `argv[${j}]`)) return;
          ranges.push([q >>> 0, (q >>> 0) + 4 + want.length]);
          if (w32(q) !== want.length || Buffer.compare(rd(q + 4, want.length), want) !== 0) fail(i,
            'result has the requested contents', `argv[${j}] differs`);
        });
        return ranges;
      }
    }
    // An int: a count, an id or -errno.
    if (eax < -4095) fail(i, 'eax is a result or -errno', `eax ${hex(eax)}`);
    const b = spec.buffer;
    let allowed: Range[] = [];
    if (b) {
      const buf = args[b.buf] >>> 0, off = args[b.off] >>> 0;
      const count = (typeof b.count === 'number' ? args[b.count] : b.count.fixed) >>> 0;
      const len = w32(buf) >>> 0;
      const ok = off <= len && count <= len - off;
      if (!ok) { if (eax !== -EFAULT) fail(i, 'out-of-bounds buffer refused with -EFAULT',
        `off ${off} count ${count} length ${len}: eax ${eax}`); }
      else if (b.unit && count % b.unit !== 0) { if (eax !== -EINVAL) fail(i, 'a partial record refused with -EINVAL',
        `count ${count}: eax ${eax}`); }
      else if (!spec.params[b.buf].startsWith('*rbytes')) allowed = [[buf + 4 + off, buf + 4 + off + count]];
      if (!ok) return [];
    }
    spec.params.forEach((p, j) => {
      if (p !== '*rbytes' || (b && j === b.buf)) return;
      const len = w32(args[j]) >>> 0;
      if (len > 4095 && eax !== -ENAMETOOLONG) fail(i, 'a path over 4095 bytes refused with -ENAMETOOLONG',
        `length ${len}: eax ${eax}`);
    });
    return allowed;
  };

  // The host side of the fixtures: the host end of descriptor 8 takes data only when allowed.
  let hostWritable = false;
  let hostEp: ReturnType<Kernel['net']['connectFromHost']> | undefined;
  const hostPeer = { send: () => {}, end: () => {}, reset: () => {}, writable: () => hostWritable };
  const socketOf = (fd: number) => {
    const f = task.files.get(fd);
    return f ? k.net.socketOf(f) : undefined;
  };
  /** Wake the probe from the host side, as what it waits for requires (`all`: everything that could). */
  const unblock = (all: boolean): void => {
    const f = inflight!;
    const c = plan.cases[f.index];
    const fd = c.args.length ? f.args[0] : -1;
    const wantsRead = ['read', 'recvfrom'].includes(c.imp), wantsWrite = ['write', 'sendto'].includes(c.imp);
    const fds = all || c.imp === 'poll' ? [0, ...SOCKET_FDS] : [fd];
    for (const d of fds) {
      if (d === 0 && (all || wantsRead || c.imp === 'poll')) k.feedInput(Buffer.from('in'));
      const s = d > 0 ? socketOf(d) : undefined;
      if (!s) continue;
      if (s.state === 'listening' && (all || c.imp === 'accept4' || c.imp === 'poll')) {
        const ep = k.net.connectFromHost(s.local!.port, hostPeer, { addr: 0x7f000001, port: 40000 });
        if (typeof ep !== 'number' && !hostEp) hostEp = ep;
      }
      if (s.ep && (all || wantsRead || c.imp === 'poll')) s.ep.deliver(Buffer.from('net'));
      if (s.ep && (all || wantsWrite)) {
        hostWritable = true;
        const peer = s.ep.peer;
        if (peer && peer.rxBytes > 0) peer.take(peer.rxBytes);
        s.ep.wq.wake();
        s.wq.wake();
      }
    }
  };

  const kf = k.machine.kfuncs;
  const invoke = kf.invoke.bind(kf);
  kf.invoke = (c: Cpu, lin: number): void => {
    onCall(lin);
    invoke(c, lin);
  };

  const budget = o.maxInstructions ?? 400_000_000;
  let kernelExit = 'limit';
  const startInsns = cpu.instructions();
  for (;;) {
    if (cpu.instructions() - startInsns > budget) { kernelExit = 'limit'; break; }
    const e = k.run(SLICE);
    if (k.exits.has(pid) || e === 'panic' || e === 'hung' || e === 'done') { kernelExit = e; break; }
    if (ended && probe.end === 'spin') {
      // Preemptible: timer interrupts keep coming, and other tasks get the CPU, while the probe spins (run until both
      // are seen, or three ticks' worth of instructions). Then killable.
      const before = endOthers, irqs = k.machine.stats().timerInterrupts, limit = cpu.instructions()
        + 3 * k.clockHz / k.hz;
      let e2: string = 'limit';
      const preempted = (): boolean => k.machine.stats().timerInterrupts > irqs && (!o.schedule.hostile
        || endOthers > before);
      while (!preempted() && cpu.instructions() < limit && e2 === 'limit') e2 = k.run(50_000);
      if (e2 === 'hung' || e2 === 'panic') { kernelExit = e2; fail(plan.cases.length,
        'preemptible after the last return', k.hungMessage ?? k.panicMessage ?? e2); break; }
      if (o.schedule.hostile && endOthers === before) fail(plan.cases.length, 'preemptible after the last return',
        'no other task ran while the probe spun');
      if (k.machine.stats().timerInterrupts === irqs) fail(plan.cases.length, 'preemptible after the last return',
        'no timer interrupt while the probe spun');
      k.sendSignal(task, 9);
      kernelExit = k.run(2_000_000);
      if (!k.exits.has(pid)) fail(plan.cases.length, 'killable after the last return', 'SIGKILL did not end the probe');
      break;
    }
    if (inflight && task.state === TASK_INTERRUPTIBLE) inflight.blocked = true;
    if (inflight && task.state === TASK_INTERRUPTIBLE && task.wakeAt === Infinity) {
      inflight.slept++;
      unblock(inflight.slept > 4);
    }
  }
  kf.invoke = invoke;
  const exit = k.exits.get(pid);
  for (const t of [...k.liveTasks]) k.sendSignal(t, 9);
  if (!ended) fail(Math.min(inflight?.index ?? plan.cases.length, plan.cases.length), 'the probe finished',
    `it stopped after ${observed} of ${plan.cases.length} cases: ${exit ? `${exit.signal ?? exit.status} ` : ''}`
    + `${exit?.fault ?? kernelExit} ${k.hungMessage ?? k.panicMessage ?? ''}`);
  return {
    failures, observed, blocked, switched, kernelExit, selfFails, blockedImports,
    probeExit: exit ? { status: exit.status, signal: exit.signal, ...(exit.fault ? { fault: exit.fault } : {}) }
      : undefined,
    instructions: cpu.instructions() - startInsns, timerInterrupts: k.machine.stats().timerInterrupts,
  };
}
