// The initial process stack of a static i386 ELF executable, laid out as Linux does it (followed: Linux 6.18, the
// host's kernel, which the oracle test runs against): fs/exec.c (bprm_mm_init, bprm_stack_limits, copy_strings,
// do_execveat_common) puts the strings at the top, then fs/binfmt_elf.c create_elf_tables() puts the platform
// string, the AT_RANDOM bytes, argc, argv, envp and the auxiliary vector below them.
//
// From the top (higher addresses first):
//   one pointer-sized zero word (bprm->p = vm_end - sizeof(void *))
//   the filename given to execve (AT_EXECFN points here; copy_string_kernel, first)
//   the envp strings, then the argv strings below them (copy_strings copies each vector last string first while
//     bprm->p grows down, so argv[0] is the lowest string and every vector reads upwards in order)
//   arch_align_stack(): p & ~15 (on x86 minus a random 0..8191 first unless ADDR_NO_RANDOMIZE: `alignGap`)
//   "i686\0" (ELF_PLATFORM, AT_PLATFORM), immediately below it the 16 AT_RANDOM bytes (no alignment between)
//   padding so that esp is 16-byte aligned (STACK_ROUND)
//   the auxiliary vector, ending with AT_NULL
//   envp[] and NULL, argv[] and NULL, argc  <- esp
//
// The auxiliary vector, in create_elf_tables()'s order: ARCH_DLINFO first (i386: AT_SYSINFO and AT_SYSINFO_EHDR
// only when there is a vDSO — the loader passes AT_SYSINFO alone when the kernel offers the vsyscall page, which is
// not an ELF image, and neither otherwise — then AT_MINSIGSTKSZ), AT_HWCAP, AT_PAGESZ,
// AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE (0: no interpreter), AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID, AT_GID,
// AT_EGID, AT_SECURE, AT_RANDOM, AT_HWCAP2 (x86 defines ELF_HWCAP2), AT_EXECFN, AT_PLATFORM, then (CONFIG_RSEQ)
// AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN — omitted by default: this kernel has no rseq — and AT_NULL.
//
// Limits (bprm_stack_limits, copy_strings): each string, NUL included, at most MAX_ARG_STRLEN (32 pages); the
// filename, envp and argv strings together, plus one pointer per argv (at least one) and envp entry, within
// max(ARG_MAX, min(6 MiB, rlimit/4)) = 2 MiB for the default 8 MiB stack rlimit. Beyond: -E2BIG.
// An empty argv gets one empty string as argv[0] (do_execveat_common, since Linux 5.18).
//
// Strings are byte strings (one JS char per byte, latin1), as everywhere in the kernel; the caller has read them
// from user memory up to their NUL, so they contain none.

import { E2BIG } from '../errno.ts';
import { PAGE_SIZE } from '../arch/layout.ts';

export const AT_NULL = 0, AT_IGNORE = 1, AT_EXECFD = 2, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6;
export const AT_BASE = 7, AT_FLAGS = 8, AT_ENTRY = 9, AT_NOTELF = 10, AT_UID = 11, AT_EUID = 12, AT_GID = 13;
export const AT_EGID = 14, AT_PLATFORM = 15, AT_HWCAP = 16, AT_CLKTCK = 17, AT_SECURE = 23, AT_BASE_PLATFORM = 24;
export const AT_RANDOM = 25, AT_HWCAP2 = 26, AT_RSEQ_FEATURE_SIZE = 27, AT_RSEQ_ALIGN = 28, AT_EXECFN = 31;
export const AT_SYSINFO = 32, AT_SYSINFO_EHDR = 33, AT_MINSIGSTKSZ = 51;

/** MAX_ARG_STRLEN (include/uapi/linux/binfmts.h): 32 pages per string, NUL included. */
export const MAX_ARG_STRLEN = PAGE_SIZE * 32;
/** ARG_MAX (include/uapi/linux/limits.h): the floor of the argument space. */
export const ARG_MAX = 131072;
/** _STK_LIM: the default stack rlimit, 8 MiB. */
export const STK_LIM = 8 << 20;
/** MINSIGSTKSZ for i386 (arch/x86/include/uapi/asm/signal.h): the default AT_MINSIGSTKSZ. */
export const MINSIGSTKSZ = 2048;
/** ELF_PLATFORM for i386 on a 686-class CPU. */
export const PLATFORM = 'i686';
/** ELF_CLOCKS_PER_SEC / USER_HZ. */
export const CLKTCK = 100;
/** sizeof(Elf32_Phdr). */
export const PHENT = 32;

export interface ExecCreds {
  uid: number;
  euid: number;
  gid: number;
  egid: number;
}

export interface StackInput {
  argv: string[];
  envp: string[];
  creds: ExecCreds;
  /** The ELF's entry point, the user address of its program headers, and their count. */
  entry: number;
  phdr: number;
  phnum: number;
  /** The file name as given to execve (AT_EXECFN). */
  filename: string;
  /** The 16 AT_RANDOM bytes. */
  random: Uint8Array;
  /** The top of the stack mapping (vm_end); Linux i386 without randomization: TASK_SIZE. */
  top: number;
  /** The stack rlimit (RLIMIT_STACK); default 8 MiB. */
  stackRlimit?: number;
  /** AT_HWCAP (CPUID.1:EDX of the CPU) and AT_HWCAP2; default 0. */
  hwcap?: number;
  hwcap2?: number;
  /** AT_SECURE (setuid/setgid or capability-gaining exec); default 0. */
  secure?: number;
  /** AT_FLAGS; default 0. */
  flags?: number;
  /** ARCH_DLINFO, emitted first; default [[AT_MINSIGSTKSZ, 2048]] (i386 without a vDSO). */
  archAux?: [number, number][];
  /** Entries after AT_PLATFORM (CONFIG_RSEQ's); default none. */
  tailAux?: [number, number][];
  /** What arch_align_stack subtracts before aligning (its random 0..8191); default 0 (ADDR_NO_RANDOMIZE). */
  alignGap?: number;
  /** sizeof(void *) of the kernel: the zero word at the top and the E2BIG pointer accounting; default 4. */
  kernelPointer?: number;
}

export interface StackImage {
  /** The stack's top: `bytes` fills [esp, top). */
  top: number;
  bytes: Uint8Array;
  /** The initial esp: argc is here; 16-byte aligned. */
  esp: number;
  argc: number;
  /** Addresses of argv[i] and envp[i] strings, AT_EXECFN, AT_PLATFORM and AT_RANDOM. */
  argvAt: number[];
  envpAt: number[];
  execfn: number;
  platform: number;
  randomAt: number;
  auxv: [number, number][];
}

/** The stack limit on argument strings plus pointers, as bprm_stack_limits computes it. */
export function argLimit(stackRlimit: number = STK_LIM): number {
  return Math.max(ARG_MAX, Math.min(Math.floor(STK_LIM / 4) * 3, Math.floor(stackRlimit / 4)));
}

function bytesOf(s: string): Uint8Array {
  const b = new Uint8Array(s.length + 1);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

/** Build the initial stack image, or -E2BIG. */
export function buildInitialStack(inp: StackInput): StackImage | number {
  if (inp.random.length !== 16) throw new RangeError('AT_RANDOM needs 16 bytes');
  const ptr = inp.kernelPointer ?? 4;
  const top = inp.top >>> 0;
  const argv = inp.argv.length === 0 ? [''] : inp.argv;

  // bprm_stack_limits: the pointers count against the limit, argv as at least one.
  let limit = argLimit(inp.stackRlimit ?? STK_LIM);
  const ptrSize = (Math.max(inp.argv.length, 1) + inp.envp.length) * ptr;
  if (limit <= ptrSize) return -E2BIG;
  limit -= ptrSize;

  // The strings: filename, then envp, then argv, each vector copied last string first (so it reads upwards).
  const strs: Uint8Array[] = [bytesOf(inp.filename), ...inp.envp.map(bytesOf), ...argv.map(bytesOf)];
  let used = 0;
  for (const s of strs) {
    if (s.length > MAX_ARG_STRLEN) return -E2BIG;
    used += s.length;
    if (used > limit) return -E2BIG;
  }
  let p = top - ptr;
  const placed: { at: number; bytes: Uint8Array }[] = [];
  const put = (b: Uint8Array): number => { p -= b.length; placed.push({ at: p, bytes: b }); return p; };
  const execfn = put(strs[0]);
  const envpAt: number[] = new Array<number>(inp.envp.length);
  for (let i = inp.envp.length - 1; i >= 0; i--) envpAt[i] = put(strs[1 + i]);
  const argvAt: number[] = new Array<number>(argv.length);
  for (let i = argv.length - 1; i >= 0; i--) argvAt[i] = put(strs[1 + inp.envp.length + i]);

  // create_elf_tables.
  p -= inp.alignGap ?? 0;
  p -= p % 16;
  const platform = put(bytesOf(PLATFORM));
  const randomAt = put(Uint8Array.from(inp.random));
  const c = inp.creds;
  const auxv: [number, number][] = [
    ...(inp.archAux ?? [[AT_MINSIGSTKSZ, MINSIGSTKSZ]]),
    [AT_HWCAP, inp.hwcap ?? 0], [AT_PAGESZ, PAGE_SIZE], [AT_CLKTCK, CLKTCK], [AT_PHDR, inp.phdr], [AT_PHENT, PHENT],
    [AT_PHNUM, inp.phnum], [AT_BASE, 0], [AT_FLAGS, inp.flags ?? 0], [AT_ENTRY, inp.entry],
    [AT_UID, c.uid], [AT_EUID, c.euid], [AT_GID, c.gid], [AT_EGID, c.egid], [AT_SECURE, inp.secure ?? 0],
    [AT_RANDOM, randomAt], [AT_HWCAP2, inp.hwcap2 ?? 0], [AT_EXECFN, execfn], [AT_PLATFORM, platform],
    ...(inp.tailAux ?? []), [AT_NULL, 0],
  ];
  const items = (argv.length + 1) + (inp.envp.length + 1) + 1;
  let esp = p - 4 * (2 * auxv.length) - 4 * items;
  esp -= esp % 16;
  if (esp < 0) return -E2BIG;

  const bytes = new Uint8Array(top - esp);
  const dv = new DataView(bytes.buffer);
  for (const { at, bytes: b } of placed) bytes.set(b, at - esp);
  const words = [argv.length, ...argvAt, 0, ...envpAt, 0, ...auxv.flat()];
  words.forEach((w, i) => dv.setUint32(4 * i, w >>> 0, true));
  return { top, bytes, esp, argc: argv.length, argvAt, envpAt, execfn, platform, randomAt, auxv };
}
