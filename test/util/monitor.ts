// runElf: a minimal monitor that runs one static i386 Linux executable on the bare machine, for tests that want
// the emulator with as little around it as possible (the differential and run tests, the safety mutants). It is
// not the kernel (kernel/, which the benchmarks and most tests use): one process, no files, no scheduler. But the
// path a system call takes is the real hardware one: the program runs at CPL 3 on its own pages; `int 0x80` goes
// through a DPL 3 trap gate, the CPU switches to the kernel stack from the TSS and pushes the 5-word frame; a few
// bytes of real CPL 0 machine code push the registers (pusha), call a kernel function (TypeScript) that implements
// the system call, pop them and iret. Faults go the same way to a kernel function that maps stack pages on demand
// or ends the program with the signal Linux would send (arch/x86/kernel/traps.c, arch/x86/mm/fault.c). The
// hardware tables come from the kernel's BareSystem, the numbers (system calls, errno, signals, the layout) from
// the kernel's own modules.
//
// System calls: exit, exit_group, read (fd 0, from opts.stdin), write (fd 1 and 2), brk, getpid, kill (a signal to
// itself ends it), close (of 0-2); open fails with ENOENT (there is no file system here); anything else ENOSYS.

import { readElf, PT_LOAD, PF_W } from '../../tal/elf.ts';
import { Machine } from '../../emulator/machine.ts';
import type { KernelContext } from '../../emulator/kfuncs.ts';
import type { CostProfile } from '../../emulator/costs.ts';
import type { MachineStats } from '../../emulator/stats.ts';
import { VECTOR_NAMES, Vec, hasErrorCode } from '../../emulator/exceptions.ts';
import { BareSystem, OutOfMemory } from '../../kernel/arch/bare.ts';
import { PAGE_OFFSET, PAGE_SIZE, TASK_SIZE, pageDown, pageUp } from '../../kernel/arch/layout.ts';
import { EBADF, EFAULT, EINVAL, ENOENT, ENOSYS, ESRCH } from '../../kernel/errno.ts';
import {
  NSIG, SIGCHLD, SIGFPE, SIGILL, SIGKILL, SIGSEGV, SIGTRAP, SIGURG, SIGWINCH, signalName,
} from '../../kernel/signal.ts';
import { SYS } from '../../kernel/syscalls/numbers.ts';
import {
  AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_EXECFN, AT_FLAGS, AT_GID, AT_HWCAP, AT_NULL, AT_PAGESZ, AT_PHDR,
  AT_PHENT, AT_PHNUM, AT_PLATFORM, AT_RANDOM, AT_SECURE, AT_UID, CLKTCK, PLATFORM, STK_LIM,
} from '../../kernel/exec/stack.ts';
import { SYSCALL_VECTOR, TIMER_VECTOR } from '../../kernel/entry.ts';

export interface RunElfOptions {
  /** The whole argument vector, argv[0] included; default ['program']. */
  argv?: string[];
  envp?: string[];
  stdin?: Uint8Array;
  maxInstructions?: number;
  profile?: CostProfile;
  /** Timer interrupt period in cycles (the handler just irets); default none. */
  timerInterval?: number;
  memoryBytes?: number;
  /** How far the stack may grow down from TASK_SIZE; default 8 MiB, like Linux's default rlimit (_STK_LIM). */
  stackBytes?: number;
}

export interface RunElfResult {
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** The exit status as a shell reports it: the program's own (0-255), or 128 + signal; null if it did not end. */
  exitCode: number | null;
  /** The signal that ended the program ('SIGSEGV', ...), or null. */
  signal: string | null;
  /** What went wrong, in words: the fault behind a signal, a triple fault, the instruction limit. */
  fault?: string;
  stats: MachineStats;
}

// The monitor's one process ignores only these by default (the kernel, with no stop signals either, ignores more).
const IGNORED_BY_DEFAULT = new Set([SIGCHLD, SIGURG, SIGWINCH]);
const PID = 1;

// Saved-register offsets from the pointer the entry stubs pass (the esp after pusha): edi esi ebp esp ebx edx ecx eax.
const R_EDI = 0, R_ESI = 4, R_EBP = 8, R_EBX = 16, R_EDX = 20, R_ECX = 24, R_EAX = 28;

interface Outcome { exitCode: number | null; signal: string | null; fault?: string }

/** Run a static i386 executable; never throws for what the program does (a malformed ELF throws ElfError). */
export function runElf(elf: Uint8Array, opts: RunElfOptions = {}): RunElfResult {
  const sys = bootElf(elf, opts);
  const exit = sys.machine.run(opts.maxInstructions ?? Infinity);
  let out: Outcome;
  if (sys.outcome) out = sys.outcome;
  else if (exit === 'limit') {
    out = { exitCode: null, signal: null, fault: `instruction limit (${opts.maxInstructions}) reached` };
  }
  else if (exit === 'triple-fault') out = { exitCode: null, signal: null, fault: sys.machine.stopReason };
  else out = { exitCode: null, signal: null, fault: `machine ${exit}: ${sys.machine.stopReason}` };
  return { stdout: concat(sys.stdout), stderr: concat(sys.stderr), ...out, stats: sys.machine.stats() };
}

export interface BootedElf {
  machine: Machine;
  bare: BareSystem;
  stdout: Uint8Array[];
  stderr: Uint8Array[];
  /** Set when the program has ended (exit or signal). */
  outcome?: Outcome;
}

/** Build the machine, the monitor and the process, ready to run (for callers that want to step it themselves). */
export function bootElf(elf: Uint8Array, opts: RunElfOptions = {}): BootedElf {
  const img = readElf(elf);
  const { memoryBytes, profile, timerInterval } = opts;
  const machine = new Machine({ memoryBytes, profile, timerInterval });
  const bare = new BareSystem(machine);
  const sys: BootedElf = { machine, bare, stdout: [], stderr: [] };

  // The program's segments, on user pages with the segment's write permission.
  let brkStart = 0;
  for (const seg of img.segments) {
    if (seg.type !== PT_LOAD) continue;
    bare.mapFresh(seg.vaddr, seg.memsz, { user: true, writable: (seg.flags & PF_W) !== 0 });
    bare.write(seg.vaddr, img.bytes.subarray(seg.offset, seg.offset + seg.filesz));
    brkStart = Math.max(brkStart, pageUp(seg.vaddr + seg.memsz));
  }
  let brk = brkStart;
  const stackTop = TASK_SIZE;
  const stackLimit = stackTop - (opts.stackBytes ?? STK_LIM);

  const finish = (o: Outcome, ctx: KernelContext): void => {
    sys.outcome = o;
    ctx.stop(o.signal ? `killed by ${o.signal}` : `exit ${o.exitCode}`);
  };
  const die = (sig: number, ctx: KernelContext, fault?: string): void =>
    finish({ exitCode: 128 + sig, signal: signalName(sig), fault }, ctx);

  // ---- kernel functions ----
  const stdin = opts.stdin ?? new Uint8Array(0);
  let stdinPos = 0;
  const closed = new Set<number>();
  const syscall = (ctx: KernelContext): void => {
    const f = ctx.arg(0);
    const nr = ctx.read32(f + R_EAX), a = ctx.read32(f + R_EBX), b = ctx.read32(f + R_ECX), c = ctx.read32(f + R_EDX);
    void R_ESI; void R_EDI; void R_EBP;
    let r: number;
    switch (nr) {
      case SYS.exit: case SYS.exit_group: return finish({ exitCode: a & 0xff, signal: null }, ctx);
      case SYS.write: {
        if ((a !== 1 && a !== 2) || closed.has(a)) { r = -EBADF; break; }
        if (c < 0) { r = -EINVAL; break; }
        try {
          const data = ctx.readBytes(b, c, true); // copy_from_user: checked as a CPL 3 access
          (a === 1 ? sys.stdout : sys.stderr).push(data);
          r = c;
        } catch { r = -EFAULT; }
        break;
      }
      case SYS.read: {
        if (a !== 0 || closed.has(0)) { r = -EBADF; break; }
        if (c < 0) { r = -EINVAL; break; }
        const n = Math.min(c, stdin.length - stdinPos);
        try {
          ctx.writeBytes(b, stdin.subarray(stdinPos, stdinPos + n), true);
          stdinPos += n;
          r = n;
        } catch { r = -EFAULT; }
        break;
      }
      case SYS.open: r = -ENOENT; break;
      case SYS.close: if (a >= 0 && a <= 2 && !closed.has(a)) { closed.add(a); r = 0; } else r = -EBADF; break;
      case SYS.getpid: r = PID; break;
      case SYS.kill:
        if (a !== PID && a !== 0 && a !== -1) { r = -ESRCH; break; }
        if (b < 0 || b > NSIG) { r = -EINVAL; break; }
        if (b === 0 || IGNORED_BY_DEFAULT.has(b)) { r = 0; break; }
        return die(b, ctx);
      case SYS.brk: {
        const want = a >>> 0;
        if (want >= brkStart && want < stackLimit) {
          try {
            for (let p = pageUp(brk); p < pageUp(want); p += PAGE_SIZE) {
              bare.mapFresh(p, PAGE_SIZE, { user: true, writable: true });
            }
            brk = want;
          } catch (e) {
            if (!(e instanceof OutOfMemory)) throw e;
          }
        }
        r = brk;
        break;
      }
      default: r = -ENOSYS;
    }
    ctx.write32(f + R_EAX, r);
  };

  const trap = (ctx: KernelContext): void => {
    const f = ctx.arg(0);
    const vector = ctx.read32(f + 32), error = ctx.read32(f + 36), eip = ctx.read32(f + 40), cs = ctx.read32(f + 44);
    const cr2 = machine.mmu.cr2 >>> 0;
    const errText = error ? ` (error 0x${error.toString(16)})` : '';
    const at = vector === Vec.PF ? `, cr2 0x${cr2.toString(16)}` : '';
    const what = `${VECTOR_NAMES[vector] ?? `vector ${vector}`}${errText} at eip 0x${(eip >>> 0).toString(16)}${at}`;
    if ((cs & 3) !== 3) {
      sys.outcome = { exitCode: null, signal: null, fault: `fault in the monitor: ${what}` };
      return ctx.stop('monitor fault');
    }
    if (vector === Vec.PF && (error & 1) === 0 && cr2 >= stackLimit && cr2 < stackTop) {
      // The stack grows on demand.
      try {
        bare.mapFresh(pageDown(cr2), PAGE_SIZE, { user: true, writable: true });
        return;
      } catch (e) {
        if (!(e instanceof OutOfMemory)) throw e;
        return die(SIGKILL, ctx, 'out of memory');
      }
    }
    const sig = vector === Vec.DE ? SIGFPE : vector === Vec.UD ? SIGILL : vector === Vec.BP ? SIGTRAP : SIGSEGV;
    die(sig, ctx, what);
  };

  const doubleFault = (ctx: KernelContext): void => {
    sys.outcome = { exitCode: null, signal: null, fault: 'double fault' };
    ctx.stop('double fault');
  };

  const kf = machine.kfuncs;
  const sysAddr = kf.register('monitor_syscall', syscall);
  const trapAddr = kf.register('monitor_trap', trap);
  const dfAddr = kf.register('monitor_double_fault', doubleFault);

  // ---- entry code: real CPL 0 machine code in kernel memory ----
  const code: number[] = [];
  const codePhys = bare.allocLow(4 * PAGE_SIZE);
  const codeVirt = PAGE_OFFSET + codePhys;
  const here = (): number => codeVirt + code.length;
  const callRel = (target: number): void => {
    const rel = (target - (here() + 5)) | 0;
    code.push(0xe8, rel & 0xff, (rel >>> 8) & 0xff, (rel >>> 16) & 0xff, (rel >>> 24) & 0xff);
  };
  // int 0x80: pusha; push esp; call monitor_syscall; add esp, 4; popa; iret
  const sysEntry = here();
  code.push(0x60, 0x54); callRel(sysAddr); code.push(0x83, 0xc4, 0x04, 0x61, 0xcf);
  // timer: iret
  const timerEntry = here();
  code.push(0xcf);
  // every other vector: [push 0;] push vector; pusha; push esp; call monitor_trap; add esp, 4; popa; add esp, 8; iret
  const entries: number[] = [];
  for (let v = 0; v < 256; v++) {
    entries.push(here());
    if (!hasErrorCode(v)) code.push(0x6a, 0x00);
    code.push(0x68, v, 0, 0, 0, 0x60, 0x54);
    callRel(trapAddr);
    code.push(0x83, 0xc4, 0x04, 0x61, 0x83, 0xc4, 0x08, 0xcf);
  }
  // the double-fault task: call monitor_double_fault; hlt; jmp back to the hlt
  const dfEntry = here();
  callRel(dfAddr); code.push(0xf4, 0xeb, 0xfd);
  if (code.length > 4 * PAGE_SIZE) throw new Error('internal: monitor code overflows its pages');
  machine.mem.writeBytes(codePhys, Uint8Array.from(code));

  for (let v = 0; v < 256; v++) bare.setGate(v, 'int', entries[v], 0);
  bare.setGate(Vec.BP, 'int', entries[Vec.BP], 3); // int3 and into from user mode are allowed, as on Linux
  bare.setGate(Vec.OF, 'int', entries[Vec.OF], 3);
  bare.setGate(SYSCALL_VECTOR, 'trap', sysEntry, 3);
  bare.setGate(TIMER_VECTOR, 'int', timerEntry, 0);
  bare.setDoubleFaultHandler(dfEntry);

  // ---- the initial stack, laid out as Linux does for a static i386 program ----
  const enc = new TextEncoder();
  const argv = opts.argv ?? ['program'];
  const envp = opts.envp ?? [];
  const blob: number[] = [];
  const strAt: number[] = [];
  const addStr = (s: string): number => {
    const off = blob.length;
    blob.push(...enc.encode(s), 0);
    return off;
  };
  for (const s of argv) strAt.push(addStr(s));
  for (const s of envp) strAt.push(addStr(s));
  const execfn = addStr(argv[0] ?? '');
  const platform = addStr(PLATFORM);
  const random = blob.length;
  for (let i = 0; i < 16; i++) blob.push((i * 37 + 11) & 0xff); // AT_RANDOM bytes (fixed: runs are reproducible)
  const strBase = ((stackTop - 16 - blob.length) & ~15) >>> 0;
  const phdr = phdrAddress(img.bytes, img.segments);
  const auxv: [number, number][] = [
    [AT_HWCAP, 0], [AT_PAGESZ, PAGE_SIZE], [AT_CLKTCK, CLKTCK], [AT_PHDR, phdr], [AT_PHENT, 32],
    [AT_PHNUM, u16(img.bytes, 44)], [AT_BASE, 0], [AT_FLAGS, 0], [AT_ENTRY, img.entry], [AT_UID, 0], [AT_EUID, 0],
    [AT_GID, 0], [AT_EGID, 0], [AT_SECURE, 0], [AT_RANDOM, strBase + random], [AT_EXECFN, strBase + execfn],
    [AT_PLATFORM, strBase + platform], [AT_NULL, 0],
  ];
  const words: number[] = [argv.length];
  argv.forEach((_, i) => words.push(strBase + strAt[i]));
  words.push(0);
  envp.forEach((_, i) => words.push(strBase + strAt[argv.length + i]));
  words.push(0);
  for (const [k, v] of auxv) words.push(k, v);
  const sp = ((strBase - 4 * words.length) & ~15) >>> 0;
  const stackLow = (sp & -4096) >>> 0;
  bare.mapFresh(stackLow, stackTop - stackLow, { user: true, writable: true });
  bare.write(strBase, Uint8Array.from(blob));
  bare.write(sp, new Uint8Array(Int32Array.from(words).buffer));

  // Linux starts a static program with every general register 0 and IF set.
  machine.cpu.regs.fill(0);
  bare.enterUser(img.entry, sp, 0x202);
  return sys;
}

function phdrAddress(bytes: Uint8Array, segs: { offset: number; vaddr: number; filesz: number }[]): number {
  const phoff = (bytes[28] | (bytes[29] << 8) | (bytes[30] << 16) | (bytes[31] << 24)) >>> 0;
  const seg = segs.find(s => phoff >= s.offset && phoff < s.offset + s.filesz);
  return seg ? seg.vaddr + (phoff - seg.offset) : 0;
}
function u16(b: Uint8Array, o: number): number { return b[o] | (b[o + 1] << 8); }
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
