// A raw static i386 program (GNU `as --32`, `ld -m elf_i386`, system calls by int 0x80, no TAL) that passes bad
// pointers to read, write, open, stat64 and getdents64 and prints each result as a signed number, one
// "label: n" line per call: the oracle for "system calls with bad pointers give errors as Linux gives them".
//
// Run it with its working directory holding file.txt (at least 16 bytes) and sub/ holding three one-letter
// entries (every linux_dirent64 record of sub, `.` and `..` included, is then 24 bytes); it creates out.txt.
//
// The pointers:
//   unmapped      0x1000 (never mapped: below the text)
//   kernel        0xC0001000: kernel space under a 3G/1G i386 kernel. A 32-bit process on an x86-64 host has
//                 user space up to 0xFFFFE000, so natively it is merely unmapped; every call here faults on it in
//                 both worlds (no call here only range-checks it, as write to /dev/null would).
//   top           0xFFFFF000: above the user address space in both worlds
//   NULL          0
//   bss edge      a buffer ending past the end of the last page of .bss (the page after it is unmapped: the
//                 break starts there, or, randomised, further up), the bytes before the edge being mapped
//   brk edge      the same at the end of one page added with brk
// A straddling read copies the bytes before the bad page and returns their count (filemap_read, read_zero,
// getdents64 with whole records before the fault); a straddling write to a file writes the bytes before it;
// a straddling write to a pipe or a tty writes nothing (-EFAULT).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCE = String.raw`
.intel_syntax noprefix
.globl _start

# REP "text": prints "text: " and eax as a signed decimal number and a newline. Preserves eax, ebp and edi.
.macro REP text
  .section .rodata
9:
  .asciz "\text: "
  .text
  mov esi, OFFSET 9b
  call report
.endm

# SYS nr, a, b, c, "text": the system call, then REP.
.macro SYS nr, a, b, c, text
  mov eax, \nr
  mov ebx, \a
  mov ecx, \b
  mov edx, \c
  int 0x80
  REP "\text"
.endm

.equ READ, 3
.equ WRITE, 4
.equ OPEN, 5
.equ LSEEK, 19
.equ BRK, 45
.equ STAT64, 195
.equ FSTAT64, 197
.equ GETDENTS64, 220
.equ UNMAPPED, 0x1000
.equ KERNEL, 0xC0001000
.equ TOP, 0xFFFFF000

.text
_start:
  # edge: the end of the last page of .bss
  mov eax, OFFSET _end
  add eax, 4095
  and eax, 0xFFFFF000
  mov [edge], eax

  # ---- read ----
  SYS OPEN, "OFFSET s_file", 0, 0, "open file.txt >= 0"
  mov ebp, eax
  SYS READ, ebp, UNMAPPED, 8, "read unmapped"
  SYS READ, ebp, KERNEL, 8, "read kernel"
  SYS READ, ebp, TOP, 8, "read top"
  SYS READ, ebp, 0, 8, "read NULL"
  SYS READ, ebp, UNMAPPED, 0, "read unmapped count 0"
  SYS READ, ebp, KERNEL, 0, "read kernel count 0"
  mov ecx, [edge]
  sub ecx, 4
  SYS READ, ebp, ecx, 8, "read bss edge-4 count 8"
  SYS LSEEK, ebp, 0, 1, "file offset after it"
  mov ecx, [edge]
  sub ecx, 4
  movzx eax, byte ptr [ecx]
  REP "first byte read"
  SYS LSEEK, ebp, 0, 0, "lseek 0"
  mov ecx, [edge]
  sub ecx, 8
  SYS READ, ebp, ecx, 8, "read bss edge-8 count 8"
  mov ecx, [edge]
  SYS READ, ebp, ecx, 8, "read at bss edge"

  SYS OPEN, "OFFSET s_zero", 0, 0, "open /dev/zero >= 0"
  mov edi, eax
  mov ecx, [edge]
  sub ecx, 4
  mov byte ptr [ecx], 0x55
  SYS READ, edi, ecx, 8, "read /dev/zero bss edge-4 count 8"
  mov ecx, [edge]
  movzx eax, byte ptr [ecx-4]
  REP "byte zeroed"
  SYS READ, edi, UNMAPPED, 8, "read /dev/zero unmapped"

  SYS OPEN, "OFFSET s_null", 2, 0, "open /dev/null >= 0"
  mov edi, eax
  SYS READ, edi, UNMAPPED, 8, "read /dev/null unmapped"
  SYS READ, edi, TOP, 8, "read /dev/null top"
  SYS WRITE, edi, UNMAPPED, 8, "write /dev/null unmapped"
  SYS WRITE, edi, TOP, 8, "write /dev/null top"

  # ---- write ----
  SYS OPEN, "OFFSET s_out", 0x241, 0x1a4, "open out.txt O_WRONLY|O_CREAT|O_TRUNC >= 0"
  mov edi, eax
  SYS WRITE, edi, UNMAPPED, 8, "write unmapped"
  SYS WRITE, edi, KERNEL, 8, "write kernel"
  SYS WRITE, edi, TOP, 8, "write top"
  SYS WRITE, edi, 0, 8, "write NULL"
  SYS WRITE, edi, UNMAPPED, 0, "write unmapped count 0"
  mov ecx, [edge]
  sub ecx, 4
  mov dword ptr [ecx], 0x64636261
  SYS WRITE, edi, ecx, 8, "write bss edge-4 count 8"
  SYS LSEEK, edi, 0, 2, "out.txt size"
  SYS WRITE, 1, UNMAPPED, 8, "write stdout unmapped"
  mov ecx, [edge]
  sub ecx, 4
  SYS WRITE, 1, ecx, 8, "write stdout bss edge-4 count 8"
  mov eax, 0
  REP "(a newline after what the straddling write may have written)"

  # ---- open ----
  SYS OPEN, UNMAPPED, 0, 0, "open unmapped path"
  SYS OPEN, KERNEL, 0, 0, "open kernel path"
  SYS OPEN, TOP, 0, 0, "open top path"
  SYS OPEN, 0, 0, 0, "open NULL path"
  mov ebx, [edge]
  sub ebx, 4
  mov dword ptr [ebx], 0x64636261
  SYS OPEN, ebx, 0, 0, "open unterminated path at bss edge-4"
  mov ebx, [edge]
  sub ebx, 4
  mov dword ptr [ebx], 0x00636261
  SYS OPEN, ebx, 0, 0, "open path abc ending at bss edge"
  mov ebx, [edge]
  sub ebx, 4
  mov dword ptr [ebx], 0
  SYS OPEN, ebx, 0, 0, "open empty path at bss edge-4"

  # ---- stat64 ----
  SYS STAT64, UNMAPPED, "OFFSET statbuf", 0, "stat64 unmapped path"
  SYS STAT64, KERNEL, "OFFSET statbuf", 0, "stat64 kernel path"
  SYS STAT64, 0, "OFFSET statbuf", 0, "stat64 NULL path"
  SYS STAT64, "OFFSET s_file", UNMAPPED, 0, "stat64 unmapped buffer"
  SYS STAT64, "OFFSET s_file", KERNEL, 0, "stat64 kernel buffer"
  SYS STAT64, "OFFSET s_file", TOP, 0, "stat64 top buffer"
  SYS STAT64, "OFFSET s_file", 0, 0, "stat64 NULL buffer"
  mov ecx, [edge]
  sub ecx, 48
  SYS STAT64, "OFFSET s_file", ecx, 0, "stat64 buffer at bss edge-48"
  mov ecx, [edge]
  sub ecx, 96
  SYS STAT64, "OFFSET s_file", ecx, 0, "stat64 buffer at bss edge-96"
  SYS STAT64, "OFFSET s_missing", UNMAPPED, 0, "stat64 missing, unmapped buffer"
  SYS FSTAT64, ebp, UNMAPPED, 0, "fstat64 unmapped buffer"
  mov ecx, [edge]
  sub ecx, 48
  SYS FSTAT64, ebp, ecx, 0, "fstat64 buffer at bss edge-48"

  # ---- getdents64 ----
  SYS OPEN, "OFFSET s_sub", 0x10000, 0, "open sub O_DIRECTORY >= 0"
  mov edi, eax
  SYS GETDENTS64, edi, UNMAPPED, 4096, "getdents64 unmapped"
  SYS GETDENTS64, edi, KERNEL, 4096, "getdents64 kernel"
  SYS GETDENTS64, edi, TOP, 4096, "getdents64 top"
  SYS GETDENTS64, edi, 0, 4096, "getdents64 NULL"
  mov ecx, [edge]
  sub ecx, 64
  SYS GETDENTS64, edi, ecx, 4096, "getdents64 bss edge-64 count 4096"
  mov ecx, [edge]
  sub ecx, 64
  SYS GETDENTS64, edi, ecx, 4096, "getdents64 again"
  mov ecx, [edge]
  sub ecx, 16
  SYS GETDENTS64, edi, ecx, 4096, "getdents64 bss edge-16 count 4096"
  mov ecx, [edge]
  sub ecx, 64
  SYS GETDENTS64, edi, ecx, 64, "getdents64 bss edge-64 count 64"

  # ---- the same at the end of a page added with brk ----
  SYS BRK, 0, 0, 0, "brk(0) > 0"
  mov edi, eax
  lea ebx, [eax+4096]
  SYS BRK, ebx, 0, 0, "brk(+4096) moved by"
  SYS LSEEK, ebp, 0, 0, "lseek 0"
  lea ecx, [edi+4092]
  SYS READ, ebp, ecx, 8, "read brk edge-4 count 8"
  lea ebx, [edi+4092]
  mov dword ptr [ebx], 0x64636261
  SYS OPEN, ebx, 0, 0, "open unterminated path at brk edge-4"
  lea ecx, [edi+4048]
  SYS STAT64, "OFFSET s_file", ecx, 0, "stat64 buffer at brk edge-48"

  mov eax, 1
  xor ebx, ebx
  int 0x80

# report: esi = the label, eax = the value
report:
  push edi
  push ebp
  mov ebp, eax
  mov edx, esi
1:
  cmp byte ptr [edx], 0
  je 2f
  inc edx
  jmp 1b
2:
  sub edx, esi
  mov ecx, esi
  mov ebx, 1
  mov eax, 4
  push edx
  int 0x80
  pop edx
  mov eax, ebp
  # a label ending in ">= 0: " or "> 0: " prints 1 if the value is >= 0 or > 0 (so fds and addresses compare)
  cmp edx, 5
  jb 5f
  cmp byte ptr [esi+edx-4], '>'
  je 3f
  cmp byte ptr [esi+edx-5], '>'
  jne 5f
  # ">= 0: "
  xor eax, eax
  test ebp, ebp
  setns al
  jmp 5f
3:
  # "> 0: "
  xor eax, eax
  cmp ebp, 0
  setg al
  jmp 5f
5:
  # "by: " labels (brk moved by) print the difference from edi
  cmp edx, 4
  jb 6f
  cmp dword ptr [esi+edx-4], 0x203a7962   # "by: "
  jne 6f
  mov eax, ebp
  sub eax, edi
6:
  lea edi, [numbuf+15]
  mov byte ptr [edi], 10
  mov ecx, eax
  test eax, eax
  jns 7f
  neg eax
7:
  mov ebx, 10
8:
  xor edx, edx
  div ebx
  add dl, '0'
  dec edi
  mov [edi], dl
  test eax, eax
  jnz 8b
  test ecx, ecx
  jns 9f
  dec edi
  mov byte ptr [edi], '-'
9:
  lea edx, [numbuf+16]
  sub edx, edi
  mov ecx, edi
  mov ebx, 1
  mov eax, 4
  int 0x80
  mov eax, ebp
  pop ebp
  pop edi
  ret

.section .rodata
s_file: .asciz "file.txt"
s_missing: .asciz "missing"
s_sub: .asciz "sub"
s_out: .asciz "out.txt"
s_zero: .asciz "/dev/zero"
s_null: .asciz "/dev/null"

.data
edge: .long 0
numbuf: .skip 16

.bss
.balign 16
statbuf: .skip 96
.balign 4096
last_page: .skip 4096
`;

let built: { path: string; image: Uint8Array } | undefined;

/** The program (built once per process, in a temp dir removed when the process exits): its path and bytes. */
export function badPointerProgram(): { path: string; image: Uint8Array } {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'ktal-badptr-'));
  chmodSync(dir, 0o755);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'b.s'), SOURCE);
  execFileSync('as', ['--32', '-o', 'b.o', 'b.s'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync('ld', ['-m', 'elf_i386', '-static', '-z', 'noexecstack', '-o', 'badptr', 'b.o'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const path = join(dir, 'badptr');
  built = { path, image: new Uint8Array(readFileSync(path)) };
  return built;
}
