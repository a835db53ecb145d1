// The user-mode runtime that talas links into every executable, in section .tal.rt: the entry stub and one stub per
// import (docs/tal.md §6). Not trusted and never verified: it runs only in user mode, where the hardware protects the
// kernel. In kernel mode the loader binds the import slots to the kernel's own functions and this code is never
// reached (verified code cannot name an address in .tal.rt).
//
// Each stub follows the interface in tal/interface.ts: cdecl, arguments from [esp+4], result in eax, ebx esi edi ebp
// preserved; buffer arguments are checked (0 ≤ off, off + count ≤ length, unsigned compares) before the system call,
// and a failed check returns -EFAULT as Linux would for a bad pointer.
//
// The system call itself is made as glibc makes it on i386 (sysdeps/unix/sysv/linux/i386/sysdep.h, `call
// *%gs:SYSINFO_OFFSET`, and elf/dl-support.c's _dl_aux_init): `call DWORD PTR [__tal_rt_sysinfo]`, a word the entry
// stub sets from AT_SYSINFO in the auxiliary vector when the kernel offers one (Linux 2.6's vsyscall page, today's
// vDSO: `__kernel_vsyscall`, which enters by sysenter or syscall), and otherwise to `__tal_rt_int80`, an `int 0x80;
// ret` (glibc's _dl_sysinfo_int80). Either way every register but eax is as it was. The system call's arguments come
// from the same derivation (syscallArgs in tal/interface.ts) the kernel-mode binder (kernel/ktal.ts) uses.

import {
  IMPORTS, EFAULT, EINVAL, ENAMETOOLONG, PATH_MAX, MAX_ALLOC_SIZE, MAX_ARRAY_LENGTH, HEAP_CHUNK, OOM_MESSAGE,
  syscallArgs, type ImportSpec,
} from '../interface.ts';

const SYS_BRK = 45, SYS_GETPID = 20, SYS_KILL = 37, SYS_EXIT_GROUP = 252, SYS_WRITE = 4;
const SIGABRT = 6;
const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
/** AT_SYSINFO (include/uapi/linux/auxvec.h on i386: arch/x86/include/uapi/asm/auxvec.h). */
const AT_SYSINFO = 32;
/** How every stub enters the kernel: through the entry the start-up code chose (see the top of this file). */
const SYSCALL = 'call DWORD PTR [__tal_rt_sysinfo]';

/** The registers of system call arguments 1..6; the stub saves those the caller keeps (all but ecx and edx). */
const SYSCALL_ARG_REGS = ['ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp'];
const CALLEE_SAVED = new Set(['ebx', 'esi', 'edi', 'ebp']);

/**
 * The stub of an import that is one system call. With only ebx pushed, it checks the buffer (→ -EFAULT; a count
 * that is not a multiple of the buffer's unit → -EINVAL) and copies the path (→ -ENAMETOOLONG); then it saves the
 * other callee-saved registers the call needs, loads the arguments and makes the call; if the import never
 * returns, a `hlt` follows.
 */
function syscallStub(imp: ImportSpec): string {
  let pushed = 1; // words pushed by the stub: parameter i is at [esp + 4·(pushed + 1) + 4i]
  const param = (i: number) => `DWORD PTR [esp+${4 * (pushed + 1) + 4 * i}]`;
  const args = syscallArgs(imp);
  if (args.length > SYSCALL_ARG_REGS.length)
    throw new Error(`internal: ${imp.name} has more than six system call arguments`);
  if (args.filter(a => a.k === 'wordPointer').length > 1)
    throw new Error(`internal: ${imp.name} has two word pointers (one word)`);
  const lines = [`__tal_rt_${imp.name}:`, '    push ebx'];
  const b = imp.buffer;
  if (b) {
    lines.push(`    mov ecx, ${param(b.buf)}`, `    mov eax, ${param(b.off)}`, '    mov edx, DWORD PTR [ecx]',
      '    cmp eax, edx', '    ja __tal_rt_efault_pop', '    sub edx, eax');
    if (typeof b.count === 'number') lines.push(`    cmp ${param(b.count)}, edx`, '    ja __tal_rt_efault_pop');
    else lines.push(`    cmp edx, ${b.count.fixed}`, '    jb __tal_rt_efault_pop');
    if (b.unit !== undefined && typeof b.count === 'number') { // syscallArgs checked that a unit has a count
      lines.push(`    test ${param(b.count)}, ${b.unit - 1}`, '    jne __tal_rt_einval_pop');
    }
  }
  const path = args.find(a => a.k === 'path');
  if (path) {
    lines.push(`    mov eax, ${param(path.i)}`, '    call __tal_rt_cpath', '    test eax, eax',
      '    js __tal_rt_pop_ret');
  }
  const saved = SYSCALL_ARG_REGS.slice(0, args.length).filter(r => CALLEE_SAVED.has(r) && r !== 'ebx');
  for (const r of saved) { lines.push(`    push ${r}`); pushed++; }
  args.forEach((a, n) => {
    const r = SYSCALL_ARG_REGS[n];
    switch (a.k) {
      case 'param': lines.push(`    mov ${r}, ${param(a.i)}`); break;
      case 'units': lines.push(`    mov ${r}, ${param(a.i)}`, `    shr ${r}, ${Math.log2(b!.unit!)}`); break;
      case 'path': lines.push(`    mov ${r}, OFFSET __tal_rt_pathbuf`); break;
      case 'buffer': lines.push(`    mov ${r}, ${param(b!.buf)}`, `    add ${r}, ${param(b!.off)}`,
        `    add ${r}, 4`); break;
      case 'const': lines.push(a.n === 0 ? `    xor ${r}, ${r}` : `    mov ${r}, ${a.n}`); break;
      case 'paramAddress': lines.push(`    lea ${r}, ${param(a.i).replace('DWORD PTR ', '')}`); break;
      case 'wordPointer': lines.push(`    mov DWORD PTR [__tal_rt_word], ${a.n}`,
        `    mov ${r}, OFFSET __tal_rt_word`); break;
    }
  });
  lines.push(`    mov eax, ${imp.syscall}`, `    ${SYSCALL}`);
  if (imp.result === null) lines.push('    hlt');
  else lines.push(...saved.reverse().map(r => `    pop ${r}`), '    pop ebx', '    ret');
  return lines.join('\n');
}

/** The runtime source: text for .tal.rt, plus its private data for .rodata and .bss. `main` is the entry label. */
export function runtimeSource(main: string): { text: string; rodata: string; bss: string } {
  const stubs: string[] = [];
  for (const imp of IMPORTS) {
    if (imp.syscall !== undefined) {
      stubs.push(syscallStub(imp));
      continue;
    }
    switch (imp.name) {
      case 'tal_alloc':
        stubs.push(`__tal_rt_tal_alloc:\n    mov eax, DWORD PTR [esp+4]\n    cmp eax, ${hex(MAX_ALLOC_SIZE)}\n    ja ` +
          `__tal_rt_oom\n    jmp __tal_rt_allocate`);
        break;
      case 'tal_new_array':
        stubs.push(`
__tal_rt_tal_new_array:
    mov eax, DWORD PTR [esp+4]
    cmp eax, ${hex(MAX_ARRAY_LENGTH)}
    ja __tal_rt_oom
    lea eax, [eax*4+4]
    call __tal_rt_allocate
    mov ecx, DWORD PTR [esp+4]
    mov DWORD PTR [eax], ecx
    mov edx, DWORD PTR [esp+8]
    test ecx, ecx
    je __tal_rt_tal_new_array_done
__tal_rt_tal_new_array_fill:
    mov DWORD PTR [eax+ecx*4], edx
    dec ecx
    jne __tal_rt_tal_new_array_fill
__tal_rt_tal_new_array_done:
    ret`);
        break;
      case 'tal_new_bytes':
        stubs.push(`
__tal_rt_tal_new_bytes:
    mov eax, DWORD PTR [esp+4]
    cmp eax, ${hex(MAX_ALLOC_SIZE)}
    ja __tal_rt_oom
    add eax, 4
    call __tal_rt_allocate
    mov ecx, DWORD PTR [esp+4]
    mov DWORD PTR [eax], ecx
    mov edx, DWORD PTR [esp+8]
    test ecx, ecx
    je __tal_rt_tal_new_bytes_done
__tal_rt_tal_new_bytes_fill:
    mov BYTE PTR [eax+ecx*1+3], dl
    dec ecx
    jne __tal_rt_tal_new_bytes_fill
__tal_rt_tal_new_bytes_done:
    ret`);
        break;
      case 'tal_args':
        stubs.push(`
__tal_rt_tal_args:
    push ebx
    push esi
    push edi
    mov esi, DWORD PTR [__tal_rt_initial_esp]
    mov eax, DWORD PTR [esi]
    lea eax, [eax*4+4]
    call __tal_rt_allocate
    mov ebx, eax
    mov ecx, DWORD PTR [esi]
    mov DWORD PTR [ebx], ecx
    xor edi, edi
__tal_rt_args_next:
    cmp edi, DWORD PTR [ebx]
    jae __tal_rt_args_done
    mov edx, DWORD PTR [esi+edi*4+4]
    xor ecx, ecx
__tal_rt_args_strlen:
    movzx eax, BYTE PTR [edx+ecx*1]
    test eax, eax
    je __tal_rt_args_copy
    inc ecx
    jmp __tal_rt_args_strlen
__tal_rt_args_copy:
    push edx
    push ecx
    lea eax, [ecx+4]
    call __tal_rt_allocate
    pop ecx
    pop edx
    mov DWORD PTR [eax], ecx
    mov DWORD PTR [ebx+edi*4+4], eax
__tal_rt_args_byte:
    test ecx, ecx
    je __tal_rt_args_copied
    dec ecx
    movzx eax, BYTE PTR [edx+ecx*1]
    push edx
    mov edx, DWORD PTR [ebx+edi*4+4]
    mov BYTE PTR [edx+ecx*1+4], al
    pop edx
    jmp __tal_rt_args_byte
__tal_rt_args_copied:
    inc edi
    jmp __tal_rt_args_next
__tal_rt_args_done:
    mov eax, ebx
    pop edi
    pop esi
    pop ebx
    ret`);
        break;
      default:
        throw new Error(`internal: no user-mode stub for import ${imp.name}`);
    }
  }

  const text = `
__tal_rt_start:
    mov DWORD PTR [__tal_rt_initial_esp], esp
# The kernel entry: int 0x80 unless the auxiliary vector (after argc, argv, NULL, envp, NULL) has AT_SYSINFO.
    mov ecx, OFFSET __tal_rt_int80
    mov DWORD PTR [__tal_rt_sysinfo], ecx
    mov eax, DWORD PTR [esp]
    lea eax, [esp+eax*4+8]
__tal_rt_start_envp:
    mov ecx, DWORD PTR [eax]
    add eax, 4
    test ecx, ecx
    jne __tal_rt_start_envp
__tal_rt_start_auxv:
    mov ecx, DWORD PTR [eax]
    test ecx, ecx
    je __tal_rt_start_main
    add eax, 8
    cmp ecx, ${AT_SYSINFO}
    jne __tal_rt_start_auxv
    mov ecx, DWORD PTR [eax-4]
    mov DWORD PTR [__tal_rt_sysinfo], ecx
__tal_rt_start_main:
    jmp ${main}

__tal_rt_int80:
    int 0x80
    ret
${stubs.join('\n')}

__tal_rt_einval_pop:
    mov eax, -${EINVAL}
    jmp __tal_rt_pop_ret
__tal_rt_efault_pop:
    mov eax, -${EFAULT}
__tal_rt_pop_ret:
    pop ebx
    ret

# eax = a byte array holding a path; copies it with a NUL into a static buffer. Returns the buffer, or -ENAMETOOLONG.
# Preserves ebx.
__tal_rt_cpath:
    mov ecx, DWORD PTR [eax]
    cmp ecx, ${PATH_MAX - 1}
    ja __tal_rt_cpath_long
    mov BYTE PTR [__tal_rt_pathbuf+ecx], 0
__tal_rt_cpath_byte:
    test ecx, ecx
    je __tal_rt_cpath_done
    dec ecx
    movzx edx, BYTE PTR [eax+ecx*1+4]
    mov BYTE PTR [__tal_rt_pathbuf+ecx], dl
    jmp __tal_rt_cpath_byte
__tal_rt_cpath_done:
    mov eax, OFFSET __tal_rt_pathbuf
    ret
__tal_rt_cpath_long:
    mov eax, -${ENAMETOOLONG}
    ret

# eax = size in bytes (< 2^31): returns eax = fresh word-aligned memory from the brk heap. Clobbers ecx, edx.
__tal_rt_allocate:
    add eax, 3
    and eax, -4
    mov ecx, DWORD PTR [__tal_rt_heap_cur]
    test ecx, ecx
    jne __tal_rt_allocate_have
    push ebx
    push eax
    xor ebx, ebx
    mov eax, ${SYS_BRK}
    ${SYSCALL}
    mov ecx, eax
    mov DWORD PTR [__tal_rt_heap_cur], eax
    mov DWORD PTR [__tal_rt_heap_end], eax
    pop eax
    pop ebx
__tal_rt_allocate_have:
    lea edx, [ecx+eax]
    cmp edx, ecx
    jb __tal_rt_oom
    cmp edx, DWORD PTR [__tal_rt_heap_end]
    jbe __tal_rt_allocate_fits
    push ebx
    push ecx
    push edx
    lea ebx, [edx+${HEAP_CHUNK - 1}]
    and ebx, -${HEAP_CHUNK}
    mov eax, ${SYS_BRK}
    ${SYSCALL}
    pop edx
    pop ecx
    pop ebx
    cmp eax, edx
    jb __tal_rt_oom
    mov DWORD PTR [__tal_rt_heap_end], eax
__tal_rt_allocate_fits:
    mov DWORD PTR [__tal_rt_heap_cur], edx
    mov eax, ecx
    ret

# Out of memory or an impossible size: say so on stderr and abort, as a C program's abort() would.
__tal_rt_oom:
    mov eax, ${SYS_WRITE}
    mov ebx, 2
    mov ecx, OFFSET __tal_rt_oom_msg
    mov edx, ${OOM_MESSAGE.length}
    ${SYSCALL}
    mov eax, ${SYS_GETPID}
    ${SYSCALL}
    mov ebx, eax
    mov ecx, ${SIGABRT}
    mov eax, ${SYS_KILL}
    ${SYSCALL}
    mov ebx, ${128 + SIGABRT}
    mov eax, ${SYS_EXIT_GROUP}
    ${SYSCALL}
    hlt
`;
  const rodata = `__tal_rt_oom_msg:\n    .ascii "${OOM_MESSAGE.replace('\n', '\\n')}"`;
  const words = ['initial_esp', 'sysinfo', 'heap_cur', 'heap_end', 'word'];
  const bss = [...words.map(w => `__tal_rt_${w}:\n    .zero 4`), `__tal_rt_pathbuf:\n    .zero ${PATH_MAX}`].join('\n');
  return { text, rodata, bss };
}

