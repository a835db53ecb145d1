// A tiny static i386 program, assembled with GNU as and linked with ld, that makes one file system call natively
// and writes what the kernel gave back: the independent oracle for kernel/fs (the host's Linux decides the errno,
// the struct stat64 bytes and the linux_dirent64 records).
//
//   fsoracle s PATH          stat64(PATH)     -> the 96 bytes of struct stat64
//   fsoracle l PATH          lstat64(PATH)    -> the 96 bytes
//   fsoracle k PATH          readlink(PATH)   -> the target's bytes
//   fsoracle o PATH FLAGS    open(PATH, FLAGS, 0644) -> nothing
//   fsoracle a PATH MODE     access(PATH, MODE) -> nothing
//   fsoracle r PATH          open(PATH, O_RDONLY) and read(4096) until 0 -> the contents
//   fsoracle d PATH [SIZE]   open(PATH, O_RDONLY|O_DIRECTORY) and getdents64(SIZE, default 65536) until 0 -> the records
//   fsoracle m PATH MODE     mkdir(PATH, MODE)
//   fsoracle u PATH          unlink(PATH)
//   fsoracle R PATH          rmdir(PATH)
//   fsoracle n OLD NEW       rename(OLD, NEW)
//   fsoracle y TARGET PATH   symlink(TARGET, PATH)
//   fsoracle h OLD NEW       link(OLD, NEW)
//
// The exit status is 0, or the errno of the first call that failed. Buffers are in .bss (zero), so padding the
// kernel does not write reads as zero.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCE = String.raw`
.intel_syntax noprefix
.globl _start
.lcomm buf, 65536

.text
_start:
  mov esi, [esp+8]          # argv[1]: the operation
  mov edi, [esp+12]         # argv[2]: the path
  mov ecx, [esp+16]         # argv[3]: a number, or NULL
  xor ebp, ebp
  test ecx, ecx
  jz 2f
1:
  movzx eax, byte ptr [ecx]
  test eax, eax
  jz 2f
  sub eax, '0'
  imul ebp, ebp, 10
  add ebp, eax
  inc ecx
  jmp 1b
2:
  movzx eax, byte ptr [esi]
  cmp al, 's'
  je op_stat
  cmp al, 'l'
  je op_lstat
  cmp al, 'k'
  je op_readlink
  cmp al, 'o'
  je op_open
  cmp al, 'a'
  je op_access
  cmp al, 'r'
  je op_read
  cmp al, 'd'
  je op_dents
  mov ecx, [esp+16]
  cmp al, 'm'
  je op_mkdir
  cmp al, 'u'
  je op_unlink
  cmp al, 'R'
  je op_rmdir
  cmp al, 'n'
  je op_rename
  cmp al, 'y'
  je op_symlink
  cmp al, 'h'
  je op_link
  mov ebx, 255
  jmp exit

op_mkdir:
  mov eax, 39
  mov ecx, ebp
  jmp two_args
op_unlink:
  mov eax, 10
  jmp two_args
op_rmdir:
  mov eax, 40
  jmp two_args
op_rename:
  mov eax, 38
  jmp two_args
op_symlink:
  mov eax, 83
  jmp two_args
op_link:
  mov eax, 9
two_args:
  mov ebx, edi
  int 0x80
  test eax, eax
  js fail
  xor ebx, ebx
  jmp exit

op_stat:
  mov eax, 195
  jmp stat_common
op_lstat:
  mov eax, 196
stat_common:
  mov ebx, edi
  lea ecx, buf
  int 0x80
  test eax, eax
  js fail
  mov edx, 96
  jmp out_and_exit

op_readlink:
  mov eax, 85
  mov ebx, edi
  lea ecx, buf
  mov edx, 65536
  int 0x80
  test eax, eax
  js fail
  mov edx, eax
  jmp out_and_exit

op_open:
  mov eax, 5
  mov ebx, edi
  mov ecx, ebp
  mov edx, 0x1a4
  int 0x80
  test eax, eax
  js fail
  xor ebx, ebx
  jmp exit

op_access:
  mov eax, 33
  mov ebx, edi
  mov ecx, ebp
  int 0x80
  test eax, eax
  js fail
  xor ebx, ebx
  jmp exit

op_read:
  mov eax, 5
  mov ebx, edi
  xor ecx, ecx
  int 0x80
  test eax, eax
  js fail
  mov ebp, eax
3:
  mov eax, 3
  mov ebx, ebp
  lea ecx, buf
  mov edx, 4096
  int 0x80
  test eax, eax
  js fail
  jz done
  mov edx, eax
  mov eax, 4
  mov ebx, 1
  lea ecx, buf
  int 0x80
  jmp 3b

op_dents:
  test ebp, ebp
  jnz 4f
  mov ebp, 65536
4:
  push ebp
  mov eax, 5
  mov ebx, edi
  mov ecx, 0x10000
  int 0x80
  test eax, eax
  js fail
  mov ebp, eax
5:
  mov eax, 220
  mov ebx, ebp
  lea ecx, buf
  mov edx, [esp]
  int 0x80
  test eax, eax
  js fail
  jz done
  mov edx, eax
  mov eax, 4
  mov ebx, 1
  lea ecx, buf
  int 0x80
  jmp 5b

out_and_exit:
  mov eax, 4
  mov ebx, 1
  lea ecx, buf
  int 0x80
done:
  xor ebx, ebx
  jmp exit
fail:
  neg eax
  mov ebx, eax
exit:
  mov eax, 1
  int 0x80
`;

let built: string | undefined;

/** The oracle executable (built once per process, in a temp dir removed when the process exits). */
export function fsOracle(): string {
  if (built && existsSync(built)) return built;
  const dir = mkdtempSync(join(tmpdir(), 'ktal-fsoracle-'));
  chmodSync(dir, 0o755); // so that it also runs as another uid
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'o.s'), SOURCE);
  execFileSync('as', ['--32', '-o', 'o.o', 'o.s'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync('ld', ['-m', 'elf_i386', '-static', '-z', 'noexecstack', '-o', 'fsoracle', 'o.o'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  built = join(dir, 'fsoracle');
  return built;
}

export interface OracleResult {
  /** 0 or the errno. */
  errno: number;
  out: Buffer;
}

/** Runs the oracle natively (as `uid`/`gid` if given; the caller must be root for that) in `cwd`. */
export function runOracle(args: string[], opts: { cwd: string; uid?: number; gid?: number }): OracleResult {
  const r = spawnSync(fsOracle(), args,
    { cwd: opts.cwd, uid: opts.uid, gid: opts.gid, maxBuffer: 1 << 26, timeout: 10_000 });
  if (r.error) throw r.error;
  if (r.status === null) throw new Error(`fsoracle ${args.join(' ')}: killed by ${r.signal}`);
  return { errno: r.status, out: r.stdout };
}
