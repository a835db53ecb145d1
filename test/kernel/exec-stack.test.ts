// kernel/exec/stack.ts against the host's Linux: a static i386 program (GNU as + ld, raw int 0x80) writes its
// initial esp and then every byte from esp up to the end of its stack page (past AT_EXECFN's string); it runs
// under `setarch -R` (ADDR_NO_RANDOMIZE: no random gap from arch_align_stack) with a controlled environment, and
// the builder, fed the same inputs, must produce the same image.
//
// The host is a 64-bit kernel running the program through compat_binfmt_elf, which has a vDSO (AT_SYSINFO,
// AT_SYSINFO_EHDR) and CONFIG_RSEQ (AT_RSEQ_FEATURE_SIZE, AT_RSEQ_ALIGN); our kernel has neither. The structural
// comparison masks those keys; the byte-exact comparison passes the host's values for them (and for the CPU-specific
// AT_HWCAP, AT_HWCAP2, AT_MINSIGSTKSZ) to the builder through its archAux/tailAux/hwcap options.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveBinutils } from '../util/binutils.ts';
import { readElf } from '../../tal/elf.ts';
import {
  buildInitialStack, argLimit, type StackImage, type StackInput, MAX_ARG_STRLEN,
  AT_SYSINFO, AT_SYSINFO_EHDR, AT_RSEQ_FEATURE_SIZE, AT_RSEQ_ALIGN, AT_HWCAP, AT_HWCAP2, AT_MINSIGSTKSZ,
  AT_RANDOM, AT_EXECFN, AT_PLATFORM, AT_NULL, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, AT_ENTRY, AT_UID, AT_EUID,
  AT_GID, AT_EGID, AT_FLAGS, AT_BASE, AT_SECURE, AT_CLKTCK,
} from '../../kernel/exec/stack.ts';
import { E2BIG } from '../../kernel/errno.ts';
import { TASK_SIZE } from '../../kernel/arch/layout.ts';

const SOURCE = String.raw`
.intel_syntax noprefix
.globl _start
.lcomm espword, 4
.text
_start:
  mov ebp, esp
  mov [espword], esp
  mov esi, [ebp]
  lea edi, [ebp+8+esi*4]    # envp
1: mov eax, [edi]
  add edi, 4
  test eax, eax
  jnz 1b
2: mov eax, [edi]           # the auxv keys
  test eax, eax
  jz 9f
  cmp eax, 31               # AT_EXECFN
  jne 3f
  mov edx, [edi+4]
3: add edi, 8
  jmp 2b
9: lea esi, [edx+4095]      # the end of the stack page that holds the filename
  and esi, -4096
  mov eax, 4
  mov ebx, 1
  mov ecx, offset espword
  mov edx, 4
  int 0x80
  mov eax, 4
  mov ebx, 1
  mov ecx, ebp
  mov edx, esi
  sub edx, ebp
  int 0x80
  mov eax, 1
  xor ebx, ebx
  int 0x80
`;

const haveSetarch = spawnSync('setarch', ['-R', 'true']).status === 0;
const native = haveBinutils() && haveSetarch && process.arch === 'x64';

let built: string | undefined;
function program(): string {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'ktal-stack-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 's.s'), SOURCE);
  execFileSync('as', ['--32', '-o', 's.o', 's.s'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync('ld', ['-m', 'elf_i386', '-static', '-z', 'noexecstack', '-o', 'stackdump', 's.o'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  built = join(dir, 'stackdump');
  return built;
}

interface Dump { esp: number; top: number; bytes: Uint8Array }
function runNative(args: string[], env: Record<string, string>): Dump {
  const r = spawnSync('setarch', ['-R', program(), ...args], { env, maxBuffer: 1 << 26, timeout: 10_000 });
  if (r.status !== 0) throw new Error(`stackdump failed: ${r.status} ${r.stderr.toString()}`);
  const out = new Uint8Array(r.stdout);
  const esp = new DataView(out.buffer, out.byteOffset).getUint32(0, true);
  const bytes = out.subarray(4);
  return { esp, top: esp + bytes.length, bytes };
}

function words(b: Uint8Array): DataView { return new DataView(b.buffer, b.byteOffset, b.byteLength); }

interface Parsed { argc: number; argv: number[]; envp: number[]; auxv: [number, number][] }
/** The word vectors of an image; pointers into it as offsets from the top (negative). */
function parse(bytes: Uint8Array, esp: number, top: number): Parsed {
  const dv = words(bytes);
  const rel = (p: number): number => p - top;
  const argc = dv.getUint32(0, true);
  let i = 1;
  const argv: number[] = [], envp: number[] = [], auxv: [number, number][] = [];
  for (; i <= argc; i++) argv.push(rel(dv.getUint32(4 * i, true)));
  i++;
  for (let w; (w = dv.getUint32(4 * i, true)) !== 0; i++) envp.push(rel(w));
  i++;
  for (;; i += 2) {
    const k = dv.getUint32(4 * i, true), v = dv.getUint32(4 * i + 4, true);
    const pointer = k === AT_RANDOM || k === AT_EXECFN || k === AT_PLATFORM;
    auxv.push([k, pointer ? rel(v) : v]);
    if (k === AT_NULL) break;
  }
  void esp;
  return { argc, argv, envp, auxv };
}

function cstr(bytes: Uint8Array, off: number): string {
  let e = off;
  while (bytes[e] !== 0) e++;
  return String.fromCharCode(...bytes.subarray(off, e));
}

const elfFacts = (): { entry: number; phdr: number; phnum: number } => {
  const img = readElf(new Uint8Array(execFileSync('cat', [program()])));
  const b = img.bytes;
  const phoff = b[28] | (b[29] << 8), phnum = b[44] | (b[45] << 8);
  const seg = img.segments.find(s => phoff >= s.offset && phoff < s.offset + s.filesz);
  return { entry: img.entry, phdr: seg ? seg.vaddr + phoff - seg.offset : 0, phnum };
};

const MASKED = new Set([AT_SYSINFO, AT_SYSINFO_EHDR, AT_RSEQ_FEATURE_SIZE, AT_RSEQ_ALIGN]);
const CPU_SPECIFIC = new Set([AT_HWCAP, AT_HWCAP2, AT_MINSIGSTKSZ]);

const cases: { name: string; args: string[]; env: Record<string, string> }[] = [
  { name: 'no env', args: [], env: {} },
  { name: 'args and env', args: ['x', 'yy', ''], env: { A: '1', BB: '22', LONGER_NAME: 'some value here' } },
  { name: 'odd lengths', args: ['a'.repeat(17), 'b'.repeat(3)], env: { Z: 'q'.repeat(29) } },
];

for (const c of cases) {
  test.serial(`initial stack matches the host's Linux: ${c.name}`, t => {
    if (!native) {
      // Under CI the oracle must run (CI installs binutils; setarch is util-linux): a missing tool is a failure.
      if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0')
        return t.fail('no native i386 (binutils, setarch, x86-64)');
      t.log('skipped: no native i386 (binutils, setarch, x86-64)');
      return t.pass();
    }
    const host = runNative(c.args, c.env);
    const uid = process.getuid?.() ?? 0, gid = process.getgid?.() ?? 0;
    const hp = parse(host.bytes, host.esp, host.top);
    const hostAux = new Map(hp.auxv);
    const filename = program();
    const argv = [filename, ...c.args];
    const envp = Object.entries(c.env).map(([k, v]) => `${k}=${v}`);
    const randomOff = host.bytes.length + (hostAux.get(AT_RANDOM) ?? 0);
    const base: StackInput = {
      argv, envp, creds: { uid, euid: uid, gid, egid: gid }, ...elfFacts(), filename,
      random: host.bytes.slice(randomOff, randomOff + 16), top: host.top, kernelPointer: 8, // the host kernel is 64-bit
    };

    // Our kernel as it is (no vDSO, no rseq): the structure, keys masked.
    const ours = buildInitialStack(base);
    if (typeof ours === 'number') { t.fail(`errno ${ours}`); return; }
    t.is(ours.esp % 16, 0);
    t.is(host.esp % 16, 0);
    const op = parse(ours.bytes, ours.esp, ours.top);
    t.is(op.argc, hp.argc);
    t.deepEqual(op.argv, hp.argv, 'argv string offsets from the top');
    t.deepEqual(op.envp, hp.envp, 'envp string offsets from the top');
    t.deepEqual(op.argv.map(o => cstr(ours.bytes, ours.bytes.length + o)),
      op.argv.map(o => cstr(host.bytes, host.bytes.length + o)));
    t.deepEqual(op.envp.map(o => cstr(ours.bytes, ours.bytes.length + o)), envp);
    const masked = (a: [number, number][]): [number,
      number][] => a.filter(([k]) => !MASKED.has(k)).map(([k, v]) => [k, CPU_SPECIFIC.has(k) ? 0 : v]);
    t.deepEqual(masked(op.auxv), masked(hp.auxv), 'auxv keys in order, deterministic values, pointer offsets');
    for (const k of [AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_FLAGS,
      AT_BASE, AT_SECURE, AT_CLKTCK]) {
      t.is(new Map(op.auxv).get(k), hostAux.get(k), `auxv key ${k}`);
    }
    // Everything above the word vectors (strings, platform, random bytes) is byte-identical.
    const strBytes = (im: { bytes: Uint8Array }, from: number): Uint8Array => im.bytes.subarray(im.bytes.length + from);
    const lowest = hostAux.get(AT_RANDOM) ?? 0;
    t.deepEqual(strBytes(ours, lowest), strBytes(host, lowest));

    // Fed the host's vDSO, rseq and CPU entries, the whole image is byte-identical, esp included.
    const keysBefore = hp.auxv.slice(0, hp.auxv.findIndex(([k]) => k === AT_HWCAP));
    const keysAfter = hp.auxv.slice(hp.auxv.findIndex(([k]) => k === AT_PLATFORM) + 1, -1);
    const same = buildInitialStack({
      ...base, archAux: keysBefore, tailAux: keysAfter,
      hwcap: hostAux.get(AT_HWCAP), hwcap2: hostAux.get(AT_HWCAP2),
    }) as StackImage;
    t.is(same.esp, host.esp);
    t.deepEqual(same.bytes, host.bytes);
  });
}

const input = (over: Partial<StackInput> = {}): StackInput => ({
  argv: ['prog'], envp: [], creds: { uid: 0, euid: 0, gid: 0, egid: 0 }, entry: 0x8049000, phdr: 0x8048034, phnum: 3,
  filename: '/bin/prog', random: new Uint8Array(16), top: TASK_SIZE, ...over,
});

test('esp is 16-byte aligned for every string length', t => {
  for (let n = 0; n < 40; n++) {
    for (const envc of [0, 1, 2, 3]) {
      const im = buildInitialStack(input({ argv: ['p', 'x'.repeat(n)],
        envp: Array.from({ length: envc }, (_, i) => `V${i}=${'y'.repeat(n)}`) })) as StackImage;
      t.is(im.esp % 16, 0);
      t.is(im.esp + im.bytes.length, TASK_SIZE);
      t.is(im.bytes[im.bytes.length - 1], 0);
    }
  }
});

test('layout: the zero word at the top, filename, envp then argv strings, platform, random', t => {
  const im = buildInitialStack(input({ argv: ['a', 'bb'], envp: ['E=1'],
    random: Uint8Array.from({ length: 16 }, (_, i) => i + 1) })) as StackImage;
  const top = TASK_SIZE;
  t.is(im.execfn, top - 4 - 10);
  t.is(im.envpAt[0], im.execfn - 4);
  t.is(im.argvAt[1], im.envpAt[0] - 3);
  t.is(im.argvAt[0], im.argvAt[1] - 2);
  t.is(im.platform, im.argvAt[0] - (im.argvAt[0] % 16) - 5);
  t.is(im.randomAt, im.platform - 16);
  t.deepEqual([...im.bytes.subarray(im.randomAt - im.esp, im.randomAt - im.esp + 16)],
    Array.from({ length: 16 }, (_, i) => i + 1));
  t.deepEqual(im.auxv.map(([k]) => k),
    [AT_MINSIGSTKSZ, AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE,
    AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN, AT_PLATFORM, AT_NULL]);
  const dv = words(im.bytes);
  t.is(dv.getUint32(0, true), 2);
  t.is(dv.getUint32(4, true), im.argvAt[0]);
  t.is(dv.getUint32(12, true), 0);
  t.is(dv.getUint32(16, true), im.envpAt[0]);
  t.is(dv.getUint32(20, true), 0);
});

test('an empty argv gets one empty string as argv[0]', t => {
  const im = buildInitialStack(input({ argv: [] })) as StackImage;
  t.is(im.argc, 1);
  t.is(im.bytes[im.argvAt[0] - im.esp], 0);
});

test('E2BIG: a string longer than MAX_ARG_STRLEN, and the 2 MiB total for an 8 MiB rlimit', t => {
  t.is(argLimit(), 2 << 20);
  t.is(argLimit(256 << 10), 131072);
  t.is(argLimit(64 << 20), 6 << 20);
  t.not(typeof buildInitialStack(input({ argv: ['p', 'x'.repeat(MAX_ARG_STRLEN - 1)] })), 'number');
  t.is(buildInitialStack(input({ argv: ['p', 'x'.repeat(MAX_ARG_STRLEN)] })), -E2BIG);
  t.is(buildInitialStack(input({ envp: ['x'.repeat(MAX_ARG_STRLEN)] })), -E2BIG);
  t.is(buildInitialStack(input({ filename: 'x'.repeat(MAX_ARG_STRLEN) })), -E2BIG);
  // Exactly at the limit: strings + 4 bytes per pointer = 2 MiB.
  const limit = 2 << 20;
  const fixed = '/bin/prog'.length + 1 + 'prog'.length + 1;
  const n = 20; // 20 strings of length L plus their NULs
  const ptrs = (1 + n) * 4;
  const L = Math.floor((limit - ptrs - fixed) / n) - 1;
  const rest = limit - ptrs - fixed - n * (L + 1);
  const fits = input({ argv: ['prog', ...Array.from({ length: n - 1 }, () => 'a'.repeat(L)), 'a'.repeat(L + rest)] });
  t.not(typeof buildInitialStack(fits), 'number');
  t.is(buildInitialStack({ ...fits, argv: [...fits.argv.slice(0, -1), 'a'.repeat(L + rest + 1)] }), -E2BIG);
  // Pointers alone: too many empty strings.
  t.is(buildInitialStack(input({ envp: Array.from({ length: (limit / 4) }, () => '') })), -E2BIG);
  t.is(buildInitialStack(input({ stackRlimit: 256 << 10, envp: ['x'.repeat(70000), 'y'.repeat(70000)] })), -E2BIG);
});
