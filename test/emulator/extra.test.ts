// The instructions the machine implements beyond the TAL subset and the differential generator's forms (byte
// arithmetic, rotates through carry, cmov, bswap, pusha/popa, leave, loop, sahf/lahf, xchg, 16-bit extensions, ...),
// checked against the host CPU: one GNU-assembled program runs every case, natively and under runElf, and writes
// the registers and the flags (minus those the SDM leaves undefined) of each; the two outputs must be equal.
import test from 'ava';
import { runElf } from '../util/monitor.ts';
import { spawnSync } from 'node:child_process';
import { scratch } from '../util/native.ts';
import { buildElf } from '../util/machine.ts';
import { haveBinutils } from '../util/binutils.ts';

const tb = haveBinutils() ? test : test.skip;

const CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const ALL = CF | PF | AF | ZF | SF | OF;

/**
 * [instructions, flags the SDM leaves undefined after them]. Nothing may depend on esp's value, which differs between
 * the host's stack and the monitor's.
 */
const CASES: [string, number][] = [
  ['add al, bl', 0], ['adc al, 0x7f', 0], ['sub bl, al', 0], ['sbb ah, bl', 0], ['cmp al, 0x80', 0], ['and al, bl', AF],
  ['or ah, 0x81', AF], ['xor bl, bl', AF], ['test al, 0x80', AF], ['test bl, cl', AF], ['inc al', 0], ['dec bl', 0],
  ['neg al', 0], ['not bh', 0], ['adc BYTE PTR [buf2], cl', 0], ['sub BYTE PTR [buf2+1], 3',
    0], ['inc BYTE PTR [buf2+2]', 0],
  ['mul bl', SF | ZF | AF | PF], ['imul cl', SF | ZF | AF | PF], ['mov bl, 7\n div bl', ALL], ['mov bl, -7\n idiv bl',
    ALL],
  ['shl al, 1', AF], ['shr al, 3', AF | OF], ['sar al, 7', AF | OF], ['shl bl, cl', AF | OF | CF], ['sar dh, cl',
    AF | OF],
  ['rol al, 1', 0], ['ror bl, 4', OF], ['rol eax, 33', 0], ['ror edx, 31', OF],
  ['rcl eax, 1', 0], ['rcr eax, 1', 0], ['rcl al, 9', OF], ['rcr bl, 5', OF], ['rcl edx, 31', OF], ['rcr esi, 17', OF],
  ['rcl BYTE PTR [buf2], 1', 0], ['rol DWORD PTR [buf2], 7', OF], ['shr BYTE PTR [buf2+3], 2', AF | OF],
  ['cmovz eax, ebx', 0], ['cmovl ecx, edx', 0], ['cmovbe esi, DWORD PTR [buf2]', 0], ['cmovns edi, eax', 0],
  ['bswap eax', 0], ['bswap edi', 0], ['movsx eax, bx', 0], ['movzx ecx, dx', 0], ['movsx edx, WORD PTR [buf2]', 0],
  ['movzx esi, WORD PTR [buf2+2]', 0], ['movsx ebx, ah', 0], ['movzx eax, ch', 0],
  ['xchg al, bl', 0], ['xchg ah, ch', 0], ['xchg eax, ebx', 0], ['xchg ecx, DWORD PTR [buf2]',
    0], ['xchg dl, BYTE PTR [buf2+1]', 0],
  ['sahf', 0], ['lahf', 0], ['cwde', 0], ['cdq', 0], ['stc', 0], ['clc', 0], ['cmc', 0], ['stc\n cmc', 0],
  ['pusha\n mov eax, 1\n mov ebp, 2\n popa', 0], ['pusha\n pop eax\n pop ebx\n lea esp, [esp+24]', 0],
  ['push ebp\n mov ebp, esp\n lea esp, [esp-12]\n mov DWORD PTR [ebp-4], 5\n leave', 0],
  ['mov ecx, 3\n l1: inc eax\n loop l1', 0], ['mov ecx, 5\n l2: dec ebx\n loopnz l2',
    0], ['mov ecx, 4\n xor edx, edx\n l3: inc edx\n cmp edx, 9\n loopz l3', 0],
  ['xor ecx, ecx\n jecxz j1\n mov eax, 1\n j1: nop', 0],
  ['seto al\n setp bl\n setge BYTE PTR [buf2]\n movzx ecx, BYTE PTR [buf2]', 0],
  ['push 0x1234\n pop eax', 0],
  ['imul eax, ebx, -3', SF | ZF | AF | PF], ['imul ecx, DWORD PTR [buf2], 1000', SF | ZF | AF | PF],
  ['mov al, 0xff\n add al, 1\n adc ah, 0', 0], ['sub al, 1\n sbb bl, 0\n sbb cl, 0', 0],
];

const REGS = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp'];
const INITS: number[][] = [
  [0x80000001, 0x7fff80fe, 0x00000003, 0x12345678, 0xfffffff0, 0x00ff00ff, 0x00000000],
  [0x000000c3, 0xffffff85, 0x00000211, 0x8000ffff, 0x00000001, 0x7f7f7f7f, 0xdeadbeef],
];
const FLAG_INITS = [0x202, 0x202 | ALL];

function program(): { source: string; count: number } {
  const lines: string[] = ['.text', '_start:'];
  let n = 0;
  for (const [insns, undef] of CASES) {
    for (const regs of INITS) {
      for (const fl of FLAG_INITS) {
        const out = n * 32;
        lines.push(`  mov DWORD PTR [buf2], 0x80ff7f01`);
        // div/idiv by bl need ax small enough: their cases set bl; give them ax = 0x0123.
        REGS.forEach((r, i) => lines.push(`  mov ${r}, ${/div/.test(insns) && r === 'eax' ? 0x123 : regs[i]}`));
        lines.push(`  push ${fl}`, '  popfd');
        lines.push(...insns.split('\n').map(l => `  ${l.trim().replace(/^(l\d|j\d):/, `$1_${n}:`).replace(/\b(loop\w*|jecxz) (l\d|j\d)\b/, `$1 $2_${n}`)}`));
        lines.push('  pushfd');
        REGS.forEach((r, i) => lines.push(`  mov DWORD PTR [buf + ${out + 4 * i}], ${r}`));
        lines.push(`  pop DWORD PTR [buf + ${out + 28}]`, `  and DWORD PTR [buf + ${out + 28}], ${ALL & ~undef}`);
        n++;
      }
    }
  }
  lines.push('  mov eax, 4', '  mov ebx, 1', '  mov ecx, OFFSET buf', `  mov edx, ${n * 32}`, '  int 0x80');
  lines.push('  mov eax, 1', '  xor ebx, ebx', '  int 0x80');
  lines.push('.data', 'buf2: .long 0, 0', '.bss', `buf: .zero ${n * 32}`);
  return { source: lines.join('\n'), count: n };
}

tb('byte arithmetic, rotates through carry, cmov, bswap, pusha/popa, leave, loop, ...: the same results as the host CPU', t => {
  const { source, count } = program();
  const elf = buildElf(source);
  const s = scratch();
  let native: Buffer;
  try {
    const exe = s.file('extra', elf, 0o755);
    const r = spawnSync(exe, [], { timeout: 10_000 }); // raw bytes: the output is binary
    t.is(r.status, 0);
    native = r.stdout;
  } finally {
    s.done();
  }
  const emu = runElf(elf);
  t.is(emu.exitCode, 0, emu.fault);
  const a = new DataView(emu.stdout.buffer, emu.stdout.byteOffset, emu.stdout.byteLength);
  t.is(emu.stdout.length, count * 32);
  const diffs: string[] = [];
  let k = 0;
  for (const [insns] of CASES) {
    for (let v = 0; v < INITS.length * FLAG_INITS.length; v++, k++) {
      for (let w = 0; w < 8; w++) {
        const e = a.getUint32(k * 32 + 4 * w, true);
        const n = native.readUInt32LE(k * 32 + 4 * w);
        if (e !== n) diffs.push(`${insns.replace(/\n/g, '; ')} [variant ${v}] ${w < 7 ? REGS[w] : 'eflags'}: emulator ` +
          `0x${e.toString(16)}, host 0x${n.toString(16)}`);
      }
    }
  }
  t.deepEqual(diffs, []);
});
