// The file system calls against the host's Linux: a static i386 program (GNU as, ld) runs a script of system
// calls natively with int 0x80, and the same script runs through kernel/syscalls/files.ts (FILE_SYSCALLS) over a
// host mount of the same tree; each call's eax and the buffer bytes it asks for must be identical. Pointer
// arguments are offsets into a 64 KiB buffer followed by an unmapped page (natively: mmap2 of 68 KiB, then munmap of
// the last page; here: ArrayUserMemory), so straddling and unmapped buffers give what Linux gives.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FdTable } from '../../kernel/fdtable.ts';
import { O_DIRECTORY, O_LARGEFILE, O_RDONLY, O_RDWR, O_WRONLY } from '../../kernel/fs/fcntl.ts';
import { lookupPath, openat } from '../../kernel/fs/namei.ts';
import { ROOT, userCred, type Cred } from '../../kernel/fs/permission.ts';
import { Vfs } from '../../kernel/fs/vfs.ts';
import { FILE_SYSCALLS, type FileProc } from '../../kernel/syscalls/files.ts';
import { SYS, syscallName } from '../../kernel/syscalls/numbers.ts';
import { ArrayUserMemory } from '../../kernel/syscalls/usermem.ts';
import { errnoName } from '../../kernel/errno.ts';
import { haveBinutils } from '../util/binutils.ts';

const SOURCE = String.raw`
.intel_syntax noprefix
.globl _start
.lcomm script, 262144
.lcomm bufp, 4
.lcomm endp, 4
.lcomm cur, 4
.lcomm res, 4
.lcomm args, 20
.text
_start:
  mov eax, 192              # mmap2(0, 0x11000, RW, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
  xor ebx, ebx
  mov ecx, 0x11000
  mov edx, 3
  mov esi, 0x22
  mov edi, -1
  xor ebp, ebp
  int 0x80
  cmp eax, -4096
  ja die
  mov [bufp], eax
  lea ebx, [eax+0x10000]    # munmap the last page: a hole after the buffer
  mov eax, 91
  mov ecx, 0x1000
  int 0x80
  xor esi, esi
rd:
  mov eax, 3
  xor ebx, ebx
  lea ecx, [script+esi]
  mov edx, 262144
  sub edx, esi
  int 0x80
  test eax, eax
  jle go
  add esi, eax
  jmp rd
go:
  lea eax, [script+esi]
  mov [endp], eax
  lea esi, script
next:
  cmp esi, [endp]
  jae done
  mov [cur], esi
  mov eax, [esi]
  test eax, eax
  jnz poke
  xor ecx, ecx
argl:
  mov eax, [esi+12+ecx*4]
  mov edx, [esi+8]
  bt edx, ecx
  jnc 1f
  add eax, [bufp]
1:
  mov [args+ecx*4], eax
  inc ecx
  cmp ecx, 5
  jb argl
  mov eax, [esi+4]
  mov ebx, [args]
  mov ecx, [args+4]
  mov edx, [args+8]
  mov esi, [args+12]
  mov edi, [args+16]
  int 0x80
  mov [res], eax
  mov eax, 4
  mov ebx, 1
  lea ecx, res
  mov edx, 4
  int 0x80
  mov esi, [cur]
  mov ecx, [esi+32]
  add ecx, [bufp]
  mov edx, [esi+36]
  test edx, edx
  jz 2f
  mov eax, 4
  mov ebx, 1
  int 0x80
2:
  mov esi, [cur]
  add esi, 40
  jmp next
poke:
  mov edi, [esi+4]
  add edi, [bufp]
  mov ecx, [esi+8]
  lea eax, [ecx+3]
  and eax, -4
  lea edx, [esi+12+eax]
  mov [cur], edx
  lea esi, [esi+12]
  rep movsb
  mov esi, [cur]
  jmp next
done:
  xor ebx, ebx
  jmp exit
die:
  mov ebx, 255
exit:
  mov eax, 1
  int 0x80
`;

let built: string | undefined;
function program(): string {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'ktal-sysoracle-'));
  chmodSync(dir, 0o755); // runnable as uid 1000 too
  writeFileSync(join(dir, 'o.s'), SOURCE);
  execFileSync('as', ['--32', '-o', 'o.o', 'o.s'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync('ld', ['-m', 'elf_i386', '-static', '-z', 'noexecstack', '-o', 'oracle', 'o.o'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  return (built = join(dir, 'oracle'));
}

/** An argument: a number as it is, or { buf: offset } for an address in the buffer. */
type Arg = number | { buf: number };
interface Call { nr: number; args: Arg[]; out: [number, number] }
type Step = { poke: [number, Uint8Array] } | Call;

function encode(steps: Step[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of steps) {
    if ('poke' in s) {
      const [off, data] = s.poke;
      const h = Buffer.alloc(12 + ((data.length + 3) & ~3));
      h.writeUInt32LE(1, 0); h.writeUInt32LE(off, 4); h.writeUInt32LE(data.length, 8);
      Buffer.from(data).copy(h, 12);
      parts.push(h);
    } else {
      const h = Buffer.alloc(40);
      h.writeUInt32LE(0, 0); h.writeUInt32LE(s.nr, 4);
      let tags = 0;
      for (let i = 0; i < 5; i++) {
        const a = s.args[i] ?? 0;
        if (typeof a === 'number') h.writeUInt32LE(a >>> 0, 12 + 4 * i);
        else { tags |= 1 << i; h.writeUInt32LE(a.buf >>> 0, 12 + 4 * i); }
      }
      h.writeUInt32LE(tags, 8); h.writeUInt32LE(s.out[0], 32); h.writeUInt32LE(s.out[1], 36);
      parts.push(h);
    }
  }
  return Buffer.concat(parts);
}

/** One result per call: eax and the bytes asked for. */
interface Result { call: string; eax: number; bytes: string }

function parse(calls: Call[], out: Buffer): Result[] {
  const r: Result[] = [];
  let o = 0;
  for (const c of calls) {
    const eax = out.readInt32LE(o);
    o += 4;
    r.push({ call: syscallName(c.nr), eax, bytes: out.subarray(o, o + c.out[1]).toString('hex') });
    o += c.out[1];
  }
  return r;
}

function runNative(steps: Step[], cwd: string, uid?: number): Result[] {
  const p = spawnSync(program(), [], { cwd, input: encode(steps), timeout: 10_000, uid, gid: uid });
  if (p.status !== 0) throw new Error(`oracle exited ${p.status} ${p.signal} ${p.error?.message ?? ''}`);
  return parse(steps.filter((s): s is Call => !('poke' in s)), p.stdout);
}

function runKernel(steps: Step[], hostDir: string, cred: Cred = ROOT, rw = false): Result[] {
  const vfs = new Vfs();
  vfs.mountHost(hostDir, '/h', { rw });
  const fs = vfs.context(cred);
  const cwd = lookupPath(fs, undefined, '/h');
  if (typeof cwd === 'number') throw new Error(errnoName(cwd));
  fs.cwd = cwd;
  const proc: FileProc = { fs, files: new FdTable() };
  for (let i = 0; i < 3; i++) { // fds 0-2, as the native program has them
    const f = openat(fs, undefined, '/dev/null', O_RDWR);
    if (typeof f === 'number') throw new Error(errnoName(f));
    proc.files.alloc(f);
  }
  const BASE = 0x10000;
  const mem = new ArrayUserMemory();
  mem.map(BASE, 0x10000);
  const out: Buffer[] = [];
  for (const s of steps) {
    if ('poke' in s) { mem.poke(BASE + s.poke[0], s.poke[1]); continue; }
    const fn = FILE_SYSCALLS.get(s.nr);
    if (!fn) throw new Error(`no ${syscallName(s.nr)}`);
    const args = s.args.map(a => (typeof a === 'number' ? a >>> 0 : (BASE + a.buf) >>> 0));
    const eax = Buffer.alloc(4);
    eax.writeInt32LE(fn(proc, mem, ...args) | 0);
    out.push(eax, Buffer.from(mem.peek(BASE + s.out[0], s.out[1])));
  }
  return parse(steps.filter((s): s is Call => !('poke' in s)), Buffer.concat(out));
}

const tb = haveBinutils() && process.platform === 'linux' ? test : test.skip;

tb('file system calls: eax and buffer bytes identical to the host Linux, errors included', t => {
  const dir = mkdtempSync(join(tmpdir(), 'ktal-systree-'));
  try {
    writeFileSync(join(dir, 'f'), 'hello, world\n');
    mkdirSync(join(dir, 'd'));
    symlinkSync('a-rather-long-link-target', join(dir, 'l'));
    const z = (s: string) => Buffer.from(s + '\0', 'latin1');
    const END = 0x10000;
    const P = { f: 0x100, d: 0x120, l: 0x140, missing: 0x160, fx: 0x180, empty: 0x1a0, long: 0x1000, nonul: END - 3 };
    const B = 0x4000; // data buffer
    const steps: Step[] = [
      { poke: [P.f, z('f')] }, { poke: [P.d, z('d')] }, { poke: [P.l, z('l')] }, { poke: [P.missing, z('missing')] },
      { poke: [P.fx, z('f/x')] }, { poke: [P.empty, z('')] }, { poke: [P.long, Buffer.alloc(4096, 0x61)] },
      { poke: [P.nonul, Buffer.from('abc')] },
    ];
    const call = (nr: number, args: Arg[], out: [number, number] = [0, 0]) => steps.push({ nr, args, out });
    // open and read: fd 3; a buffer straddling into the hole reads the bytes before it; EBADF, EFAULT, EISDIR.
    call(SYS.open, [{ buf: P.f }, O_RDONLY, 0]);
    call(SYS.read, [3, { buf: B }, 5], [B, 5]);
    call(SYS.read, [3, { buf: END - 2 }, 6], [END - 4, 4]);
    call(SYS.read, [3, { buf: END }, 6]);
    call(SYS.read, [3, 0, 6]);
    call(SYS.read, [99, { buf: B }, 6]);
    call(SYS.write, [3, { buf: B }, 1]);
    call(SYS.lseek, [3, 0, 1]);
    call(SYS.lseek, [3, 0, 5]);
    call(SYS.lseek, [3, -1, 0]);
    call(SYS.lseek, [3, -3, 2]);
    call(SYS._llseek, [3, 0, 1, { buf: B + 16 }, 0], [B + 16, 8]);
    call(SYS._llseek, [3, 0, 4, { buf: END - 4 }, 0]);
    call(SYS._llseek, [3, 0, 0, { buf: B + 16 }, 1], [B + 16, 8]);
    call(SYS._llseek, [3, 0, 0, { buf: B }, 9]);
    call(SYS.close, [3]);
    call(SYS.close, [3]);
    // Names: ENOENT, ENOTDIR, EFAULT (NULL, no NUL before the hole), ENAMETOOLONG, empty.
    call(SYS.open, [{ buf: P.missing }, O_RDONLY, 0]);
    call(SYS.open, [{ buf: P.fx }, O_RDONLY, 0]);
    call(SYS.open, [0, O_RDONLY, 0]);
    // (Linux's failed copy-outs above wrote what fit before the hole: a copy_to_user may write part of its bytes.)
    steps.push({ poke: [P.nonul, Buffer.from('abc')] });
    call(SYS.open, [{ buf: P.nonul }, O_RDONLY, 0]);
    call(SYS.open, [{ buf: P.long }, O_RDONLY, 0]);
    call(SYS.open, [{ buf: P.empty }, O_RDONLY, 0]);
    call(SYS.open, [{ buf: P.f }, O_RDONLY | O_DIRECTORY, 0]);
    // Directories: EISDIR for writing and reading, EBADF for writing a read-only descriptor; getdents64 EINVAL.
    call(SYS.open, [{ buf: P.d }, O_WRONLY, 0]);
    call(SYS.open, [{ buf: P.d }, O_RDONLY | O_DIRECTORY | O_LARGEFILE, 0]);
    call(SYS.read, [3, { buf: B }, 10]);
    call(SYS.write, [3, { buf: B }, 10]);
    call(SYS.getdents64, [3, { buf: B }, 10]);
    call(SYS.getdents64, [3, { buf: END - 8 }, 100]);
    call(SYS.getdents64, [99, { buf: B }, 100]);
    // openat relative to the directory descriptor, and a file descriptor as dirfd (ENOTDIR).
    call(SYS.openat, [3, { buf: P.missing }, O_RDONLY, 0]);
    call(SYS.openat, [-100, { buf: P.f }, O_RDONLY, 0]);
    call(SYS.openat, [4, { buf: P.f }, O_RDONLY, 0]);
    call(SYS.openat, [77, { buf: P.f }, O_RDONLY, 0]);
    call(SYS.getdents64, [4, { buf: B }, 100]);
    // stat64 family: results and errors (the bytes differ in hostfs's .. inode and times, so only eax).
    call(SYS.stat64, [{ buf: P.f }, { buf: B }]);
    call(SYS.stat64, [{ buf: P.f }, { buf: END - 8 }]);
    call(SYS.stat64, [{ buf: P.missing }, 0]);
    call(SYS.lstat64, [{ buf: P.fx }, { buf: B }]);
    call(SYS.fstat64, [4, { buf: B }]);
    call(SYS.fstat64, [4, 0]);
    call(SYS.fstat64, [55, { buf: B }]);
    call(SYS.fstatat64, [4, { buf: P.empty }, { buf: B }, 0x1000]);
    call(SYS.fstatat64, [4, { buf: P.empty }, { buf: B }, 0]);
    call(SYS.fstatat64, [-100, { buf: P.l }, { buf: B }, 0x100]);
    call(SYS.fstatat64, [-100, { buf: P.l }, { buf: B }, 0x4]);
    // readlink: truncation without a NUL, EINVAL, EFAULT.
    call(SYS.readlink, [{ buf: P.l }, { buf: B + 0x100 }, 100], [B + 0x100, 32]);
    call(SYS.readlink, [{ buf: P.l }, { buf: B + 0x200 }, 5], [B + 0x200, 8]);
    call(SYS.readlink, [{ buf: P.l }, { buf: B }, 0]);
    call(SYS.readlink, [{ buf: P.f }, { buf: B }, 100]);
    call(SYS.readlink, [{ buf: P.l }, { buf: END - 2 }, 100]);
    // access, getcwd's ERANGE, chdir.
    call(SYS.access, [{ buf: P.f }, 4]);
    call(SYS.access, [{ buf: P.f }, 8]);
    call(SYS.access, [{ buf: P.f }, 1]);
    call(SYS.access, [{ buf: P.missing }, 0]);
    call(SYS.getcwd, [{ buf: B }, 1]);
    call(SYS.getcwd, [{ buf: B }, 0]);
    call(SYS.chdir, [{ buf: P.f }]);
    call(SYS.chdir, [{ buf: P.d }]);
    call(SYS.open, [{ buf: P.f }, O_RDONLY, 0]);
  
    const native = runNative(steps, dir);
    const ours = runKernel(steps, dir);
    t.deepEqual(ours, native);
    t.true(native.some(r => r.eax === -14));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const asRoot = haveBinutils() && process.platform === 'linux' && process.getuid?.() === 0 ? test : test.skip;

asRoot('as uid 1000: EACCES on a 0600 root file and an unsearchable directory, identical to the host Linux', t => {
  const dir = mkdtempSync(join(tmpdir(), 'ktal-systree-'));
  try {
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'secret'), 'root only\n', { mode: 0o600 });
    writeFileSync(join(dir, 'open'), 'anyone\n', { mode: 0o644 });
    mkdirSync(join(dir, 'closed'), { mode: 0o700 });
    writeFileSync(join(dir, 'closed', 'f'), '');
    mkdirSync(join(dir, 'unreadable'), { mode: 0o311 });
    const z = (s: string) => Buffer.from(s + '\0', 'latin1');
    const steps: Step[] = [
      { poke: [0, z('secret')] }, { poke: [0x20, z('open')] }, { poke: [0x40, z('closed/f')] }, { poke: [0x60,
        z('closed')] },
      { poke: [0x80, z('unreadable')] },
    ];
    const call = (nr: number, args: Arg[]) => steps.push({ nr, args, out: [0, 0] });
    call(SYS.open, [{ buf: 0 }, O_RDONLY, 0]);
    call(SYS.open, [{ buf: 0x20 }, O_RDONLY, 0]);
    call(SYS.open, [{ buf: 0x20 }, O_WRONLY, 0]);
    call(SYS.access, [{ buf: 0 }, 4]);
    call(SYS.access, [{ buf: 0 }, 0]);
    call(SYS.stat64, [{ buf: 0 }, { buf: 0x1000 }]);
    call(SYS.stat64, [{ buf: 0x40 }, { buf: 0x1000 }]);
    call(SYS.open, [{ buf: 0x60 }, O_RDONLY | O_DIRECTORY, 0]);
    call(SYS.chdir, [{ buf: 0x60 }]);
    call(SYS.open, [{ buf: 0x80 }, O_RDONLY | O_DIRECTORY, 0]);
    call(SYS.chdir, [{ buf: 0x80 }]);
    const native = runNative(steps, dir, 1000);
    // An rw mount: on the read-only one, a write open is EROFS before EACCES (the VFS treats it as a read-only
    // super block, where Linux's sb_permission comes first too), while the host's file system is writable.
    t.deepEqual(runKernel(steps, dir, userCred(1000), true), native);
    t.true(native.filter(r => r.eax === -13).length >= 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
