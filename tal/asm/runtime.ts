// The user-mode runtime that talas links into every executable, in section .tal.rt: the entry stub and one stub per
// import (docs/tal.md §6). Not trusted and never verified: it runs only in user mode, where the hardware protects the
// kernel. In kernel mode the loader binds the import slots to the kernel's own functions and this code is never
// reached (verified code cannot name an address in .tal.rt).
//
// Each stub follows the interface in tal/interface.ts: cdecl, arguments from [esp+4], result in eax, ebx esi edi ebp
// preserved; buffer arguments are checked (0 ≤ off, off + count ≤ length, unsigned compares) before `int 0x80`, and a
// failed check returns -EFAULT as Linux would for a bad pointer.

import { IMPORTS, EFAULT, STAT64_SIZE } from '../interface.ts';

const ENAMETOOLONG = 36;
const PATH_MAX = 4096;
const SYS_BRK = 45, SYS_GETPID = 20, SYS_KILL = 37, SYS_EXIT_GROUP = 252, SYS_WRITE = 4;
const SIGABRT = 6;
const HEAP_CHUNK = 0x10000;
const OOM_MESSAGE_LENGTH = 'tal: out of memory\n'.length;

/** Syscall stubs by argument shape. */
function plainStub(name: string, nr: number, nargs: number): string {
  const regs = ['ebx', 'ecx', 'edx'];
  const loads = regs.slice(0, nargs).map((r, i) => `    mov ${r}, DWORD PTR [esp+${8 + 4 * i}]`);
  return [`__tal_rt_${name}:`, '    push ebx', ...loads, `    mov eax, ${nr}`, '    int 0x80', '    pop ebx', '    ret'].join('\n');
}

/** (fd, buf, off, count): check off+count ≤ len(buf), then syscall(fd, buf+4+off, count). */
function bufferStub(name: string, nr: number): string {
  return `
__tal_rt_${name}:
    push ebx
    mov ecx, DWORD PTR [esp+12]
    mov eax, DWORD PTR [esp+16]
    mov edx, DWORD PTR [esp+20]
    cmp eax, DWORD PTR [ecx]
    ja __tal_rt_efault_pop
    mov ebx, DWORD PTR [ecx]
    sub ebx, eax
    cmp edx, ebx
    ja __tal_rt_efault_pop
    lea ecx, [ecx+eax+4]
    mov ebx, DWORD PTR [esp+8]
    mov eax, ${nr}
    int 0x80
    pop ebx
    ret`;
}

/** (first, buf, off) with a fixed-size result (struct stat64); `first` is a path (pathArg) or an fd. */
function statStub(name: string, nr: number, pathArg: boolean): string {
  const first = pathArg
    ? `    mov eax, DWORD PTR [esp+12]
    call __tal_rt_cpath
    test eax, eax
    js __tal_rt_${name}_out
    mov ebx, eax`
    : '    mov ebx, DWORD PTR [esp+12]';
  return `
__tal_rt_${name}:
    push ebx
    mov ecx, DWORD PTR [esp+12]
    mov eax, DWORD PTR [esp+16]
    cmp eax, DWORD PTR [ecx]
    ja __tal_rt_efault_pop
    mov edx, DWORD PTR [ecx]
    sub edx, eax
    cmp edx, ${STAT64_SIZE}
    jb __tal_rt_efault_pop
    lea ecx, [ecx+eax+4]
    push ecx
${first}
    pop ecx
    mov eax, ${nr}
    int 0x80
    pop ebx
    ret
__tal_rt_${name}_out:
    pop ecx
    pop ebx
    ret`;
}

/** The runtime source: text for .tal.rt, plus its private data for .rodata and .bss. `main` is the entry label. */
export function runtimeSource(main: string): { text: string; rodata: string; bss: string } {
  const stubs: string[] = [];
  for (const imp of IMPORTS) {
    switch (imp.name) {
      case 'exit':
        stubs.push(`__tal_rt_exit:\n    mov ebx, DWORD PTR [esp+4]\n    mov eax, ${SYS_EXIT_GROUP}\n    int 0x80\n    hlt`);
        break;
      case 'read': case 'write': case 'getdents64':
        stubs.push(bufferStub(imp.name, imp.syscall!));
        break;
      case 'close': stubs.push(plainStub('close', imp.syscall!, 1)); break;
      case 'lseek': stubs.push(plainStub('lseek', imp.syscall!, 3)); break;
      case 'open':
        stubs.push(`
__tal_rt_open:
    push ebx
    mov eax, DWORD PTR [esp+8]
    call __tal_rt_cpath
    test eax, eax
    js __tal_rt_open_out
    mov ebx, eax
    mov ecx, DWORD PTR [esp+12]
    mov edx, DWORD PTR [esp+16]
    mov eax, ${imp.syscall}
    int 0x80
__tal_rt_open_out:
    pop ebx
    ret`);
        break;
      case 'stat64': case 'lstat64': stubs.push(statStub(imp.name, imp.syscall!, true)); break;
      case 'fstat64': stubs.push(statStub(imp.name, imp.syscall!, false)); break;
      case 'tal_alloc':
        stubs.push(`__tal_rt_tal_alloc:\n    mov eax, DWORD PTR [esp+4]\n    cmp eax, 0x7ffffff0\n    ja __tal_rt_oom\n    jmp __tal_rt_allocate`);
        break;
      case 'tal_new_array':
        stubs.push(`
__tal_rt_tal_new_array:
    mov eax, DWORD PTR [esp+4]
    cmp eax, 0x0fffffff
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
    cmp eax, 0x7ffffff0
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
    jmp ${main}
${stubs.join('\n')}

__tal_rt_efault_pop:
    mov eax, -${EFAULT}
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
    int 0x80
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
    int 0x80
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
    mov edx, ${OOM_MESSAGE_LENGTH}
    int 0x80
    mov eax, ${SYS_GETPID}
    int 0x80
    mov ebx, eax
    mov ecx, ${SIGABRT}
    mov eax, ${SYS_KILL}
    int 0x80
    mov ebx, ${128 + SIGABRT}
    mov eax, ${SYS_EXIT_GROUP}
    int 0x80
    hlt
`;
  const msg = 'tal: out of memory\\n';
  const rodata = `__tal_rt_oom_msg:\n    .ascii "${msg}"`;
  const bss = `__tal_rt_initial_esp:\n    .zero 4\n__tal_rt_heap_cur:\n    .zero 4\n__tal_rt_heap_end:\n    .zero 4\n__tal_rt_pathbuf:\n    .zero ${PATH_MAX}`;
  return { text, rodata, bss };
}

