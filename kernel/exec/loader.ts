// The loader (fs/binfmt_elf.c's load_elf_binary for static executables, plus the TAL rule): reads the ELF, in
// kernel mode runs the checker first and refuses the file with the checker's message, maps the PT_LOAD segments,
// sets the break, builds the initial stack (argc, argv, envp, auxv) and, in kernel mode, binds the import slots to
// the kernel's functions. In user mode any static i386 executable runs (the hardware guards the kernel); the
// import slots keep the addresses of the file's own user-mode runtime stubs.

import { ExecError } from './loader-error.ts';
import { readExecutable, PF_W, type Executable } from './elf.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { formatRefusal } from '../../tal/messages.ts';
import { readProgram, ProgramError, type Program } from '../../tal/check/program.ts';
import type { Kernel } from '../kernel.ts';
import type { Task } from '../task.ts';
import { OutOfMemory } from '../mm.ts';
import { PAGE_SIZE, TASK_SIZE, pageUp, pageDown } from '../arch/layout.ts';
import { buildInitialStack, STK_LIM, AT_SYSINFO, AT_MINSIGSTKSZ, MINSIGSTKSZ } from './stack.ts';

export { ExecError };

export interface LoadedProgram {
  /** Where the program starts: the ELF entry in user mode, the checked `main` label in kernel mode. */
  entry: number;
  /** The initial esp (argc is there). */
  sp: number;
}

export interface LoadOptions {
  argv: string[];
  envp: string[];
  filename: string;
  kernelMode: boolean;
  verify: boolean;
  kernelModeStack: number;
}

export function loadProgram(k: Kernel, t: Task, image: Uint8Array, o: LoadOptions): LoadedProgram {
  const img: Executable = readExecutable(image, o.filename);
  let program: Program | undefined;
  if (o.kernelMode) {
    if (o.verify) {
      const r = checkElf(image);
      if (!r.ok) throw new ExecError(`${formatRefusal(o.filename, r.error, image)}\ntalrun: ${o.filename}: refused by ` +
        `the checker: not run in kernel mode`);
      program = r.program;
    } else {
      try {
        program = readProgram(image);
      } catch (e) {
        if (!(e instanceof ProgramError)) throw e; // no annotations: start at the ELF entry, no imports to bind
      }
    }
  }
  const mm = t.mm!;
  try {
    let end = 0;
    for (const seg of img.segments) {
      mm.mapRange(seg.vaddr, seg.vaddr + seg.memsz, { writable: (seg.flags & PF_W) !== 0 });
      mm.poke(seg.vaddr, image.subarray(seg.offset, seg.offset + seg.filesz));
      end = Math.max(end, seg.vaddr + seg.memsz);
    }
    t.brkStart = t.brk = pageUp(end);

    const creds = { uid: t.cred.uid, euid: t.cred.euid, gid: t.cred.gid, egid: t.cred.egid };
    const random = Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff); // fixed: runs are reproducible
    const phoff = img.phoff;
    const phseg = img.segments.find(s => phoff >= s.offset && phoff < s.offset + s.filesz);
    const stack = buildInitialStack({
      argv: o.argv, envp: o.envp, creds, entry: img.entry, phdr: phseg ? phseg.vaddr + (phoff - phseg.offset) : 0,
      phnum: img.phnum, filename: o.filename, random, top: TASK_SIZE,
      // ARCH_DLINFO: AT_SYSINFO when the kernel offers __kernel_vsyscall (Linux 2.6; no AT_SYSINFO_EHDR: the page
      // is not an ELF image), to user-mode processes only: a kernel-mode program's imports are direct calls.
      archAux: k.sysinfo && !o.kernelMode ? [[AT_SYSINFO, k.sysinfo], [AT_MINSIGSTKSZ, MINSIGSTKSZ]] : undefined,
    });
    if (typeof stack === 'number') throw new ExecError(`${o.filename}: Argument list too long`);
    if (o.kernelMode) {
      // At CPL 0 the stack cannot grow on demand (the fault could not be delivered): map it all; below is the guard.
      const size = Math.max(pageUp(o.kernelModeStack), pageUp(TASK_SIZE - stack.esp) + 2 * PAGE_SIZE);
      t.stackLimit = TASK_SIZE - size;
      mm.mapRange(t.stackLimit, TASK_SIZE, { writable: true });
    } else {
      t.stackLimit = TASK_SIZE - STK_LIM;
      mm.mapRange(pageDown(stack.esp), TASK_SIZE, { writable: true });
    }
    if (t.brk + PAGE_SIZE > t.stackLimit)
      throw new ExecError(`${o.filename}: cannot execute binary file: no room for the stack`);
    mm.poke(stack.esp, stack.bytes);

    let entry = img.entry;
    if (program) {
      for (const [addr, label] of program.ann.code) if (label.name === program.ann.main) entry = addr;
      for (const imp of program.imports) {
        const fn = k.kernelInterface.get(imp.name);
        if (fn === undefined) throw new ExecError(`${o.filename}: the kernel has no function for import '${imp.name}'`);
        mm.poke(imp.slot, new Uint8Array(Int32Array.of(fn).buffer)); // imp.slot is the slot's address
      }
    }
    return { entry, sp: stack.esp };
  } catch (e) {
    if (e instanceof OutOfMemory) throw new ExecError(`${o.filename}: Cannot allocate memory`);
    throw e;
  }
}
