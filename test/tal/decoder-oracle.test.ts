// The decoder oracle: what the decoder accepts, objdump decodes identically (same length, same text), and what
// it refuses, it refuses with the right class. (a) every form talas encodes, on GNU as's bytes; (b) the refused
// classes, on GNU's bytes and on hand-made ones; (c) seeded random byte strings. Each group costs a few processes.
import test, { type ExecutionContext } from 'ava';
import { decode } from '../../tal/x86/decode.ts';
import { formatInsn } from '../../tal/x86/format.ts';
import { parseInstruction, resolveOperands } from '../../tal/x86/parse.ts';
import { conditionOf } from '../../tal/x86/encode.ts';
import { type Insn, type Operand, type AsmOperand, type Refusal, type RefusalClass, isRefusal,
  NO_REG } from '../../tal/x86/insn.ts';
import { haveBinutils, gnuAssembleDetailed, objdumpBytes, objdumpSlots, type Assembled,
  type AssembleOptions } from '../util/binutils.ts';
import {
  subsetCases, refusedCases, symbolCases, branchProgram, absoluteBranchCases, randomCases, SYMBOL_EPILOGUE,
} from '../util/x86cases.ts';

const hex = (bytes: ArrayLike<number>) => Array.from(bytes, b => b.toString(16).padStart(2, '0')).join(' ');
const CLASSES: RefusalClass[] = ['privileged', 'interrupt', 'far-transfer', 'segment', 'prefix', 'fpu-simd',
  'string-op', 'unsupported', 'truncated'];

function expectNone(t: ExecutionContext, what: string, mismatches: string[], total: number): void {
  if (mismatches.length) t.fail(`${mismatches.length} of ${total} ${what}:\n${mismatches.slice(0, 400).join('\n')}`);
  else t.pass();
}

/**
 * Decodes `code` (loaded at `vma`) from its start to its end with our decoder and compares every instruction with
 * objdump's: same addresses, same lengths, same text. Every instruction must be accepted.
 */
function compareLinear(code: Uint8Array,
  vma: number): { mismatches: string[]; insns: Map<number, Insn>; count: number } {
  const theirs = objdumpBytes(code, vma);
  const byAddress = new Map(theirs.map(l => [l.address, l]));
  const insns = new Map<number, Insn>();
  const mismatches: string[] = [];
  let off = 0, count = 0;
  while (off < code.length) {
    const address = vma + off;
    const d = decode(code, off, address);
    const o = byAddress.get(address);
    const bytes = hex(code.subarray(off, off + (o?.length ?? d.length)));
    count++;
    if (isRefusal(d))
      mismatches.push(`0x${address.toString(16)} ${bytes}: refused (${d.reason}: ${d.text}); objdump: ` +
        `${o?.text ?? '(no instruction here)'}`);
    else {
      insns.set(address, d);
      const text = formatInsn(d);
      if (!o) mismatches.push(`0x${address.toString(16)} ${bytes}: ours '${text}' length ${d.length}; objdump has no ` +
        `instruction here`);
      else if (o.text !== text || o.length !== d.length)
        mismatches.push(`0x${address.toString(16)} ${bytes}: ours '${text}' (${d.length}); objdump '${o.text}' ` +
          `(${o.length})`);
    }
    off += Math.max(1, d.length);
  }
  return { mismatches, insns, count };
}

// ---- what the decoder's Insn must say, derived from the parsed instruction (the shape the checker relies on) ----

const BYTE_OPS = new Set(['movzx', 'movsx']);
const SHIFTS = new Set(['rol', 'ror', 'shl', 'shr', 'sar', 'sal']);

function describe(o: Operand | AsmOperand): string {
  switch (o.kind) {
    case 'reg': return `reg${o.size}:${o.reg}`;
    case 'imm': return `imm:${o.value}`;
    case 'mem': return `mem${o.size}:${o.base},${o.index},${o.index === NO_REG ? 1 : o.scale},${o.disp | 0}`;
    case 'rel': return `rel:${o.target >>> 0}`;
    case 'creg': return `cr${o.n}`;
    case 'dx': return 'dx';
  }
}

/** The op, cc and operands the decoder must produce for `text` (GNU syntax) with symbols from `lookup`. */
function expectedInsn(text: string, lookup: (s: string) => number | undefined): string {
  const p = parseInstruction(text);
  let m = p.mnemonic;
  const ops = resolveOperands(p, lookup).map(o => ({ ...o })) as AsmOperand[];
  let cc = -1;
  if (conditionOf(m, 'j') >= 0) { cc = conditionOf(m, 'j'); m = 'jcc'; }
  else if (conditionOf(m, 'set') >= 0) { cc = conditionOf(m, 'set'); m = 'setcc'; }
  if (m === 'cltd') m = 'cdq';
  // Sizes of memory operands: none for lea; a byte for byte registers, movzx/movsx and setcc; else a dword.
  const byteInsn = m === 'setcc' || ops.some((o, i) =>
    (o.kind === 'reg' && o.size === 1 && !(SHIFTS.has(m) && i === 1)) || (o.kind === 'mem' && o.size === 1));
  for (const o of ops) if (o.kind === 'mem') o.size = m === 'lea' ? 0 : byteInsn || BYTE_OPS.has(m) ? 1 : 4;
  // Immediates: byte immediates of mov r8/m8 and shift counts zero-extended; the rest signed 32-bit.
  for (const o of ops) {
    if (o.kind === 'imm') o.value = (m === 'mov' && byteInsn) || SHIFTS.has(m) ? o.value & 0xff : o.value | 0;
  }
  if (m === 'sal') m = 'shl';
  if (SHIFTS.has(m) && ops.length === 1) ops.push({ kind: 'imm', value: 1 });
  if (m === 'imul' && ops.length === 2 && ops[1].kind === 'imm') ops.splice(1, 0, ops[0]);
  // test r32, m32 is the r/m,r form: objdump (and the decoder) put the memory operand first.
  if (m === 'test' && ops.length === 2 && ops[0].kind === 'reg' && ops[1].kind === 'mem') ops.reverse();
  return `${m} cc=${cc} ${ops.map(describe).join(' ')}`;
}

function actualInsn(i: Insn): string {
  return `${i.op} cc=${i.cc} ${i.operands.map(describe).join(' ')}`;
}

/** GNU's bytes for `texts`; decoder and objdump agree on all of them, and each decodes to what its text says. */
function checkAssembled(t: ExecutionContext, texts: string[], opts: AssembleOptions = {},
  gnu: Assembled = gnuAssembleDetailed(texts, opts)): void {
  const { mismatches, insns, count } = compareLinear(gnu.text, gnu.textStart);
  const shapes: string[] = [];
  texts.forEach((text, i) => {
    if (gnu.bytes[i].length === 0 || text.startsWith('.')) return;
    const d = insns.get(gnu.addresses[i]);
    if (!d) return; // already reported
    if (d.length !== gnu.bytes[i].length) shapes.push(`${text}: length ${d.length}, GNU ${gnu.bytes[i].length}`);
    const want = expectedInsn(text, s => gnu.symbols.get(s));
    const got = actualInsn(d);
    if (want !== got) shapes.push(`${text.padEnd(40)} decoded ${got.padEnd(50)} expected ${want}`);
  });
  t.log(`${texts.length} cases, ${count} instructions`);
  expectNone(t, 'instructions differ from objdump', mismatches, count);
  expectNone(t, 'decoded instructions differ from their source', shapes, texts.length);
}

if (!haveBinutils()) {
  if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0')
    test('GNU binutils are installed', t => t.fail('as/ld/nm/objcopy/objdump not found (CI installs binutils)'));
  else test.skip('decoder oracle (GNU binutils not installed)', () => {});
} else {
  // ---- (a) every encoder case in the subset ----

  const subset = subsetCases().map(c => c.text);
  const subsetGnu = gnuAssembleDetailed(subset);

  test('(a) every form of the subset, on GNU bytes: accepted, and the same length and text as objdump', t => {
    checkAssembled(t, subset, {}, subsetGnu);
  });

  test('(a) operands naming symbols', t => {
    checkAssembled(t, symbolCases(), { epilogue: SYMBOL_EPILOGUE });
  });

  test('(a) branches to labels, short and long, and to absolute addresses', t => {
    checkAssembled(t, branchProgram().lines, { textAddress: 0x8048000 });
    checkAssembled(t, absoluteBranchCases(), { textAddress: 0x8048000 });
  });

  test('(a) seeded random instructions of the subset', t => {
    checkAssembled(t, randomCases(4000, 0x7a1).map(c => c.text));
  });

  // ---- (b) refusals, each with its class ----

  /** Checks that each byte string is refused with its class; reports every one that is not. */
  function expectRefusals(t: ExecutionContext,
    cases: { bytes: number[]; reason: RefusalClass; what?: string }[]): void {
    const bad: string[] = [];
    for (const c of cases) {
      const code = Uint8Array.from(c.bytes);
      const d = decode(code, 0, 0x8048000);
      if (!isRefusal(d))
        bad.push(`${c.what ?? ''} ${hex(code)}: accepted as '${formatInsn(d)}', expected refusal '${c.reason}'`);
      else if (d.reason !== c.reason || d.length < 1 || d.length > code.length)
        bad.push(`${c.what ?? ''} ${hex(code)}: refused '${d.reason}' (${d.text}) length ${d.length}, expected ` +
          `'${c.reason}'`);
    }
    t.log(`${cases.length} cases`);
    expectNone(t, 'refusals are wrong', bad, cases.length);
  }

  // A sample of accepted encodings (GNU's) to put prefixes in front of.
  const sample = subsetGnu.bytes.filter((_, i) => i % 37 === 0);

  test('(b) prefixes 66 67 f0 f2 f3 in front of accepted instructions: prefix', t => {
    expectRefusals(t,
      [0x66, 0x67, 0xf0, 0xf2, 0xf3].flatMap(p => sample.map(b => ({ bytes: [p, ...b], reason: 'prefix' as const }))));
  });

  test('(b) segment overrides, mov sreg, push/pop sreg, lds/les/lss/lfs/lgs: segment', t => {
    const cases: { bytes: number[]; reason: RefusalClass }[] = [];
    for (const p of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]) for (const b of sample) cases.push({ bytes: [p, ...b],
      reason: 'segment' });
    for (const op of [0x8c, 0x8e]) for (let m = 0; m < 256; m++) cases.push({ bytes: [op, m, 0, 0, 0, 0, 0],
      reason: 'segment' });
    for (const b of [[0x06], [0x07], [0x0e], [0x16], [0x17], [0x1e], [0x1f], [0x0f, 0xa0], [0x0f, 0xa1], [0x0f, 0xa8],
      [0x0f, 0xa9]]) cases.push({ bytes: b, reason: 'segment' });
    expectRefusals(t, cases);
  });

  test('(b) interrupts: int n for every n, int3, into, int1, syscall, sysenter: interrupt', t => {
    const cases: { bytes: number[]; reason: RefusalClass }[] = [];
    for (let n = 0; n < 256; n++) cases.push({ bytes: [0xcd, n], reason: 'interrupt' });
    for (const b of [[0xcc], [0xce], [0xf1], [0x0f, 0x05], [0x0f, 0x34], [0x0f, 0x0b]]) cases.push({ bytes: b,
      reason: 'interrupt' });
    expectRefusals(t, cases);
  });

  test('(b) far transfers: ea, 9a, ff /3, ff /5, retf: far-transfer', t => {
    const cases: { bytes: number[]; reason: RefusalClass }[] = [];
    cases.push({ bytes: [0xea, 0, 0x10, 0, 0, 0x10, 0], reason: 'far-transfer' },
      { bytes: [0x9a, 0, 0x10, 0, 0, 0x10, 0], reason: 'far-transfer' });
    cases.push({ bytes: [0xcb], reason: 'far-transfer' }, { bytes: [0xca, 8, 0], reason: 'far-transfer' });
    for (const reg of [3,
      5]) for (let mod = 0; mod < 3; mod++) for (let rm = 0; rm < 8; rm++) cases.push({ bytes: [0xff,
      (mod << 6) | (reg << 3) | rm, 0x24, 0, 0, 0, 0, 0], reason: 'far-transfer' });
    expectRefusals(t, cases);
  });

  test('(b) x87 d8-df (every ModRM), fwait, MMX and SSE: fpu-simd', t => {
    const cases: { bytes: number[]; reason: RefusalClass }[] = [];
    for (let op = 0xd8; op <= 0xdf; op++) for (let m = 0; m < 256; m++) cases.push({ bytes: [op, m, 0, 0, 0, 0, 0],
      reason: 'fpu-simd' });
    cases.push({ bytes: [0x9b], reason: 'fpu-simd' });
    const simd = [...range(0x10, 0x17), ...range(0x28, 0x2f), ...range(0x50, 0x7f), ...range(0xd0, 0xfe)];
    for (const op of simd) for (const m of [0x00, 0xc1, 0x44,
      0x05]) cases.push({ bytes: [0x0f, op, m, 0x24, 0, 0, 0, 0, 0], reason: 'fpu-simd' });
    expectRefusals(t, cases);
  });

  test('(b) string instructions: string-op', t => {
    expectRefusals(t,
      [0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0x6c, 0x6d, 0x6e,
      0x6f].map(b => ({ bytes: [b], reason: 'string-op' as const })));
  });

  test('(b) non-canonical SIB forms (objdump eiz) and other unsupported encodings: unsupported', t => {
    const cases: { bytes: number[]; reason: RefusalClass; what?: string }[] = [];
    // A SIB byte with index 100 (no index) is redundant except for an esp base with scale 1.
    for (let mod = 0; mod < 3; mod++) {
      for (let ss = 0; ss < 4; ss++) {
        for (let base = 0; base < 8; base++) {
          if (ss === 0 && base === 4) continue;
          cases.push({ bytes: [0x8b, (mod << 6) | 4, (ss << 6) | (4 << 3) | base, 0, 0, 0, 0], reason: 'unsupported',
            what: 'redundant SIB' });
        }
      }
    }
    for (const b of [[0x8d, 0xc0], [0x8f, 0xc8], [0xc6, 0xc8, 0], [0xc7, 0xc8, 0, 0, 0, 0], [0xf7, 0xc8, 0, 0, 0, 0],
      [0xff, 0xf8],
      [0x0f, 0x90, 0xc8], [0xc1, 0xd0, 1], [0xd1, 0xd8], [0xd3, 0xf0], [0x04, 5], [0x00, 0xc0], [0x02,
        0xc0], [0x93], [0x98],
      [0xc9], [0xc8, 8, 0, 0], [0xc2, 8, 0], [0x0f, 0x31], [0x0f, 0xa2], [0x60], [0x61], [0xfc], [0xe2, 0xfe], [0xe3,
        0xfe], [0x0f, 0x44, 0xc3]]) {
      cases.push({ bytes: b, reason: 'unsupported' });
    }
    expectRefusals(t, cases);
  });

  test('(b) instructions outside the subset that the encoder knows, and more, on GNU bytes', t => {
    const more: { text: string; refuse: RefusalClass }[] = [
      ...['movsb', 'movsd', 'stosd', 'lodsb', 'scasd', 'cmpsb', 'insb',
        'outsd'].map(text => ({ text, refuse: 'string-op' as const })),
      ...['jmp 0x10:0x1000', 'call 0x10:0x1000', 'call FWORD PTR [eax]', 'jmp FWORD PTR [ebx+8]', 'retf',
        'retf 8'].map(text => ({ text, refuse: 'far-transfer' as const })),
      ...['mov eax, ds', 'mov ds, eax', 'mov ss, ebx', 'push ds', 'pop es', 'push fs', 'pop gs',
        'mov eax, DWORD PTR fs:[0]',
        'mov eax, es:[ebx]', 'mov eax, cs:[ebx]', 'mov eax, ss:[eax]', 'mov eax, gs:[ebx]', 'lds eax, [ebx]', 'les eax, [ebx]', 'lss eax, [ebx]', 'lfs eax, [ebx]', 'lgs eax, [ebx]'].map(text => ({ text, refuse: 'segment' as const })),
      ...['lldt ax', 'ltr ax', 'clts', 'wbinvd', 'invd', 'mov dr0, eax', 'mov eax, dr7', 'lmsw ax', 'sysexit',
        'sgdt [eax]', 'sidt [eax]'].map(text => ({ text, refuse: 'privileged' as const })),
      ...['syscall', 'int1', 'bound eax, [ebx]'].map(text => ({ text, refuse: 'interrupt' as const })),
      ...['fld DWORD PTR [eax]', 'fadd st, st(1)', 'fwait', 'movups xmm0, [eax]', 'movaps xmm0, xmm1',
        'addps xmm0, xmm1', 'emms', 'pxor mm0, mm1', 'movd mm0, eax'].map(text => ({ text,
        refuse: 'fpu-simd' as const })),
      ...['lock add DWORD PTR [eax], ebx', 'rep stosd', 'repne scasb', 'mov ax, bx', 'addr16 mov eax, [bx]', 'pause',
        'addpd xmm0, xmm1', 'addss xmm0, xmm1'].map(text => ({ text, refuse: 'prefix' as const })),
    ];
    const cases = [...refusedCases().map(c => ({ text: c.text, refuse: c.refuse! })), ...more];
    const gnu = gnuAssembleDetailed(cases.map(c => c.text));
    expectRefusals(t, cases.map((c, i) => ({ bytes: gnu.bytes[i], reason: c.refuse, what: c.text })));
  });

  test('(b) every proper prefix of an accepted encoding: truncated', t => {
    const seen = new Set<string>();
    const cases: { bytes: number[]; reason: RefusalClass }[] = [];
    for (const b of subsetGnu.bytes) {
      for (let n = 1; n < b.length; n++) {
        const key = hex(b.slice(0, n));
        if (seen.has(key)) continue;
        seen.add(key);
        cases.push({ bytes: b.slice(0, n), reason: 'truncated' });
      }
    }
    expectRefusals(t, cases);
  });

  // ---- (c) seeded random byte strings ----

  test('(c) random byte strings: what the decoder accepts, objdump decodes identically; refusals are sane', t => {
    const rand = mulberry32(0x5eed);
    const byte = () => Math.floor(rand() * 256);
    const SUBSET_FIRST = [
      ...range(0x00, 0x3f).filter(b => (b & 7) === 1 || (b & 7) === 3 || (b & 7) === 5), ...range(0x40,
        0x5f), ...range(0x70, 0x7f),
      0x68, 0x69, 0x6a, 0x6b, 0x81, 0x83, 0x85, 0x88, 0x89, 0x8a, 0x8b, 0x8d, 0x8f, 0x90, 0x99, 0xa0, 0xa1, 0xa2, 0xa3, 0xa9,
      ...range(0xb0, 0xbf), 0xc1, 0xc3, 0xc6, 0xc7, 0xd1, 0xd3, 0xe8, 0xe9, 0xeb, 0xf7, 0xff, 0x0f,
    ];
    const SUBSET_0F = [...range(0x80, 0x9f), 0xaf, 0xb6, 0xbe];
    const strings: Uint8Array[] = [];
    for (let i = 0; i < 20000; i++) {
      const s = new Uint8Array(15);
      for (let j = 0; j < s.length; j++) s[j] = byte();
      // Half of the strings start with an opcode of the subset (the other half with any byte).
      if (rand() < 0.5) s[0] = SUBSET_FIRST[Math.floor(rand() * SUBSET_FIRST.length)];
      if (s[0] === 0x0f && rand() < 0.5) s[1] = SUBSET_0F[Math.floor(rand() * SUBSET_0F.length)];
      // Bias the ModRM byte toward a SIB byte now and then.
      const modrmAt = s[0] === 0x0f ? 2 : 1;
      if (rand() < 0.2) s[modrmAt] = (s[modrmAt] & 0xf8) | 4;
      strings.push(s);
    }
    const r = oracleOnStrings(t, strings);
    t.true(r.accepted > strings.length / 4, 'too few random strings hit the subset');
  });

  test('(d) every ModRM byte for each ModRM opcode of the subset, and every SIB byte for some', t => {
    const OPCODES = [[0x01], [0x03], [0x09], [0x0b], [0x11], [0x13], [0x19], [0x1b], [0x21], [0x23], [0x29], [0x2b],
      [0x31], [0x33],
      [0x39], [0x3b], [0x69], [0x6b], [0x81], [0x83], [0x85], [0x88], [0x89], [0x8a], [0x8b], [0x8d], [0x8f], [0xc1], [0xc6],
      [0xc7], [0xd1], [0xd3], [0xf7], [0xff], [0x0f, 0xaf], [0x0f, 0xb6], [0x0f, 0xbe], ...range(0x90,
        0x9f).map(b => [0x0f, b])];
    // What follows the ModRM (and SIB) byte: displacement and immediate bytes at the sign boundaries.
    const TAILS = [[0x80, 0, 0, 0x80, 0x7f, 0xff, 0xff, 0xff, 0x90], [0, 0, 0, 0, 0, 0, 0, 0, 0x90],
      [0xff, 0xff, 0xff, 0x7f, 0x80, 0, 0, 0, 0x90]];
    const strings: Uint8Array[] = [];
    for (const op of OPCODES) {
      for (let m = 0; m < 256; m++) for (const tail of TAILS) strings.push(Uint8Array.from([...op, m, 0x24, ...tail]));
    }
    for (const op of [[0x8b], [0x8d], [0xc7], [0x0f, 0x94]]) {
      for (let mod = 0; mod < 3; mod++) {
        for (let reg = 0; reg < 8; reg += op[0] === 0xc7 || op[0] === 0x0f ? 8 : 3) {
          for (let sib = 0; sib < 256; sib++) for (const tail of TAILS) strings.push(Uint8Array.from([...op,
            (mod << 6) | (reg << 3) | 4, sib, ...tail]));
        }
      }
    }
    oracleOnStrings(t, strings);
  });
}

/**
 * Decodes the first instruction of each string. What the decoder accepts, objdump must decode identically: the
 * accepted instructions go back to back into one buffer for one objdump run (so each starts where the previous
 * ended, and objdump must find the same starts, lengths and texts). What it refuses must be refused sanely, with a
 * class that fits objdump's reading of the string decoded on its own.
 */
function oracleOnStrings(t: ExecutionContext, strings: Uint8Array[]): { accepted: number; refused: number } {
  const accepted: { bytes: Uint8Array; insn: Insn }[] = [];
  const refused: { bytes: Uint8Array; r: Refusal }[] = [];
  const insane: string[] = [];
  for (const s of strings) {
    let d: Insn | Refusal;
    try {
      d = decode(s, 0, 0x8048000);
    } catch (e) {
      insane.push(`${hex(s)}: the decoder threw ${(e as Error).message}`);
      continue;
    }
    if (isRefusal(d)) {
      refused.push({ bytes: s, r: d });
      // No instruction of the subset (nor any the decoder half-reads) needs more than 11 bytes: never truncated here.
      if (!CLASSES.includes(d.reason) || d.length < 1 || d.length > s.length || d.reason === 'truncated' || !d.text)
        insane.push(`${hex(s)}: refusal ${JSON.stringify(d)}`);
    } else {
      accepted.push({ bytes: s.slice(0, d.length), insn: d });
      if (d.length < 1 || d.length > 11) insane.push(`${hex(s)}: accepted with length ${d.length}`);
    }
  }
  const VMA = 0x8048000;
  const buf = new Uint8Array(accepted.reduce((n, a) => n + a.bytes.length, 0));
  const starts: number[] = [];
  let off = 0;
  for (const a of accepted) { starts.push(off); buf.set(a.bytes, off); off += a.bytes.length; }
  const theirs = new Map(objdumpBytes(buf, VMA).map(l => [l.address, l]));
  const mismatches: string[] = [];
  accepted.forEach((a, i) => {
    const address = VMA + starts[i];
    const insn = decode(buf, starts[i], address);
    const o = theirs.get(address);
    const ours = isRefusal(insn) ? `refused ${insn.reason}` : formatInsn(insn);
    if (!o || o.length !== a.bytes.length || o.text !== ours)
      mismatches.push(`${hex(a.bytes)}: ours '${ours}' (${a.bytes.length}); objdump ` +
        `${o ? `'${o.text}' (${o.length})` : 'has no instruction here'}`);
  });
  const slots = objdumpSlots(refused.map(r => r.bytes));
  const wrongClass: string[] = [];
  refused.forEach((r, i) => {
    const first = slots[i][0];
    const expected = classOfObjdump(first?.text ?? '', r.bytes);
    if (expected !== undefined && !expected.includes(r.r.reason))
      wrongClass.push(`${hex(r.bytes.subarray(0, first?.length ?? 4))}: objdump '${first?.text}', refused ` +
        `'${r.r.reason}' (${r.r.text}), expected ${expected.join(' or ')}`);
  });
  t.log(`${strings.length} strings: ${accepted.length} accepted, ${refused.length} refused`);
  expectNone(t, 'strings got an insane answer', insane, strings.length);
  expectNone(t, 'accepted instructions differ from objdump', mismatches, accepted.length);
  expectNone(t, 'refused instructions have the wrong class', wrongClass, refused.length);
  return { accepted: accepted.length, refused: refused.length };
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/** A small seeded PRNG (mulberry32), so that the random cases are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PRIVILEGED = new Set(['cli', 'sti', 'hlt', 'iret', 'in', 'out', 'wrmsr', 'rdmsr', 'pushf', 'popf', 'lidtd',
  'lgdtd', 'sidtd', 'sgdtd',
  'invlpg', 'lldt', 'sldt', 'ltr', 'str', 'lmsw', 'smsw', 'clts', 'wbinvd', 'invd', 'rdpmc', 'sysexit', 'sysret', 'verr', 'verw', 'lar', 'lsl']);
const INTERRUPT = new Set(['int', 'int3', 'into', 'int1', 'syscall', 'sysenter', 'bound', 'ud2', 'ud0', 'ud1']);
const STRING = new Set(['movs', 'cmps', 'stos', 'lods', 'scas', 'ins', 'outs']);
const PREFIXES = new Set(['lock', 'rep', 'repz', 'repnz', 'repe', 'repne', 'data16', 'addr16', 'bnd', 'notrack',
  'xacquire', 'xrelease']);

/**
 * The refusal classes that fit objdump's reading of a refused string (undefined: no opinion). The class follows the
 * first byte: a prefix or segment override decides before what follows it.
 */
function classOfObjdump(text: string, bytes: Uint8Array): RefusalClass[] | undefined {
  const b = bytes[0];
  if ([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65].includes(b)) return ['segment'];
  if ([0x66, 0x67, 0xf0, 0xf2, 0xf3].includes(b)) return ['prefix'];
  const mnemonic = text.split(' ')[0];
  // A redundant SIB byte (objdump's eiz) is refused as unsupported before the rest is looked at.
  const eiz = /\beiz\b/.test(text) ? ['unsupported' as const] : [];
  const cls = classOfText(text, mnemonic);
  return cls && [...cls, ...eiz];
}

function classOfText(text: string, mnemonic: string): RefusalClass[] | undefined {
  if (PREFIXES.has(mnemonic)) return ['prefix'];
  if (mnemonic === '(bad)' || mnemonic === '.byte')
    return ['unsupported', 'fpu-simd', 'privileged', 'far-transfer', 'segment', 'interrupt'];
  if (PRIVILEGED.has(mnemonic) || /\b[cdt]r\d\b/.test(text)) return ['privileged'];
  if (INTERRUPT.has(mnemonic)) return ['interrupt'];
  if (STRING.has(mnemonic)) return ['string-op'];
  if (mnemonic === 'retf' || / (FWORD PTR|0x[0-9a-f]+:0x)/.test(text) && (mnemonic === 'jmp' || mnemonic === 'call'))
    return ['far-transfer'];
  // mov to or from a segment register; objdump prints '?' for the reg fields 6 and 7, which name none.
  if (/\b([cdefgs]s)\b|\?/.test(text) && /^(mov|push|pop)$/.test(mnemonic) && !/[cdefgs]s:/.test(text))
    return ['segment'];
  if (/^(lds|les|lss|lfs|lgs)$/.test(mnemonic)) return ['segment'];
  if (/^f/.test(mnemonic) || /\b(x|y)?mm\d|st\(\d\)|\bst\b/.test(text) || mnemonic === 'emms') return ['fpu-simd'];
  return ['unsupported', 'fpu-simd'];
}
