// The checker decides every file in time linear in its size (docs/tal.md §9, too-complex): adversarial programs
// built here — a chain of calls that doubles a type, thousands of deep stack-slot accesses, 65,535 sections,
// thousands of data objects — are each decided, and the work the checker reports (its deterministic meter, so
// nothing here can flake on a slow machine) stays within a fixed number of units per byte as they grow. Refused
// files have a repaired twin that verifies. A generous wall-clock bound on top catches a meter that misses work.
import test from 'ava';
import fc from 'fast-check';
import { assemble } from '../tal/asm/assembler.ts';
import { checkElf, type CheckResult, WORK_BASE, WORK_PER_BYTE } from '../tal/check/checker.ts';

const elfOf = (src: string) => assemble(src, 'generated.tal').elf;
const head = (imports: string) =>
  ['.intel_syntax noprefix', `.tal_import ${imports}`, '.text', '.tal_label main : code[r:stack]{esp: r}', 'main:'];
const exit = ['    push 0', '    call DWORD PTR [exit]'];

/**
 * `calls` calls of dup, each returning *[a^r, a^r] for its argument a, so the type in eax doubles as a tree at each
 * call (2^calls words written out) while it stays `calls` nodes shared. Then `same` receives eax and a copy of it,
 * whose two occurrences of one variable the checker compares; with `named`, eax (grown from a tree<int>) is passed as
 * a tree<a> for a variable a, a recursive type that unfolds once per level and so is compared as the tree.
 */
function doubling(calls: number, end: 'exit' | 'same' | 'named'): string {
  const out = ['.tal_type tree<a> = ?*[tree<a>^r, tree<a>^r]', ...head('tal_alloc, exit')];
  out.push('    mov eax, DWORD PTR [leaf]');
  for (let i = 0; i < calls; i++) out.push('    call dup');
  if (end === 'exit') out.push(...exit);
  if (end === 'same') out.push('    mov ebx, eax', '    jmp same');
  if (end === 'named') out.push('    jmp named');
  out.push(
    '.tal_label same : code[r:stack, a]{eax: a, ebx: a, esp: r}', 'same:', ...exit,
    '.tal_label named : code[r:stack, a]{eax: tree<a>, esp: r}', 'named:', ...exit,
    '.tal_label dup : code[r:stack, a]{eax: a, esp: code{eax: *[a^r, a^r], esp: r} :: r}', 'dup:',
    '    push eax', '    push 8', '.tal_inst *[a, a]', '    call DWORD PTR [tal_alloc]',
    '    add esp, 4', '    pop ecx',
    '    mov DWORD PTR [eax], ecx', '    mov DWORD PTR [eax+4], ecx', '    ret',
    '.data', '.tal_label leaf : *[tree<int>^r]', 'leaf:', '    .long 0',
  );
  return out.join('\n') + '\n';
}

/** `depth` words pushed, then `accesses` loads and stores of the deepest one. */
function deepStack(depth: number, accesses: number): string {
  const out = head('exit');
  for (let i = 0; i < depth; i++) out.push('    push 0');
  const k = 4 * (depth - 1);
  for (let i = 0; i < accesses; i++)
    out.push(i % 2 ? `    mov DWORD PTR [esp+${k}], eax` : `    mov eax, DWORD PTR [esp+${k}]`);
  out.push(...exit);
  return out.join('\n') + '\n';
}

/** `n` data objects, each read once. */
function manyData(n: number): string {
  const out = head('exit');
  for (let i = 0; i < n; i++) out.push(`    mov eax, DWORD PTR [d${i}]`);
  out.push(...exit, '.data');
  for (let i = 0; i < n; i++) out.push(`.tal_label d${i} : *[int^rw]`, `d${i}:`, '    .long 7');
  return out.join('\n') + '\n';
}

/** The ELF with `extra` more section headers: loaded `.tal.x` sections of 4 bytes each, below every segment. */
function withSections(elf: Uint8Array, extra: number): Uint8Array {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const shoff = dv.getUint32(32, true), shnum = dv.getUint16(48, true), strIdx = dv.getUint16(50, true);
  const strOff = dv.getUint32(shoff + strIdx * 40 + 16, true), strSize = dv.getUint32(shoff + strIdx * 40 + 20, true);
  const names = new Uint8Array(strSize + 8);
  names.set(elf.subarray(strOff, strOff + strSize));
  names.set(new TextEncoder().encode('.tal.x\0'), strSize);
  const total = shnum + extra;
  const namesOff = elf.length, hdrOff = (namesOff + names.length + 3) & ~3;
  const out = new Uint8Array(hdrOff + total * 40);
  out.set(elf);
  out.set(names, namesOff);
  out.set(elf.subarray(shoff, shoff + shnum * 40), hdrOff);
  const o = new DataView(out.buffer);
  o.setUint32(32, hdrOff, true);
  o.setUint16(48, total, true);
  o.setUint32(hdrOff + strIdx * 40 + 16, namesOff, true);
  o.setUint32(hdrOff + strIdx * 40 + 20, names.length, true);
  for (let i = shnum; i < total; i++) {
    const h = hdrOff + i * 40;
    o.setUint32(h, strSize, true); // the name '.tal.x'
    o.setUint32(h + 4, 1, true); // SHT_PROGBITS
    o.setUint32(h + 8, 2, true); // SHF_ALLOC
    o.setUint32(h + 12, 0x1000 + 4 * i, true);
    o.setUint32(h + 20, 4, true);
  }
  return out;
}

/**
 * Check, and hold the result to the budget and to a generous wall-clock bound (1 s per MB, at least 10 s: the tests
 * share the machine; the meter, not the clock, is what bounds the work).
 */
function decide(t: { true(v: boolean, m?: string): void }, elf: Uint8Array): CheckResult {
  const t0 = performance.now();
  const r = checkElf(elf);
  const ms = performance.now() - t0;
  t.true(r.work <= WORK_BASE + WORK_PER_BYTE * elf.length, `work ${r.work} beyond the budget for ${elf.length} bytes`);
  t.true(ms < Math.max(10_000, elf.length / 1000), `${ms.toFixed(0)} ms for ${elf.length} bytes`);
  return r;
}

const verdict = (r: CheckResult) => (r.ok ? 'ok' : `${r.error.cls}: ${r.error.message}`);

test('a chain of 64 calls doubling a type verifies: the type stays shared, and its two uses compare at once', t => {
  for (const end of ['exit', 'same'] as const) {
    const r = decide(t, elfOf(doubling(64, end)));
    t.true(r.ok, verdict(r));
  }
});

test('the doubled type matched against a recursive type (unfolded as a tree) is too-complex; 8 calls verify', t => {
  const r = decide(t, elfOf(doubling(64, 'named')));
  t.false(r.ok);
  if (!r.ok) t.is(r.error.cls, 'too-complex', r.error.message);
  const twin = decide(t, elfOf(doubling(8, 'named')));
  t.true(twin.ok, verdict(twin));
});

test('20,000 loads and stores of the deepest of 10,000 stack slots verify in bounded work', t => {
  const elf = elfOf(deepStack(10_000, 20_000));
  const r = decide(t, elf);
  t.true(r.ok, verdict(r));
  // O(log n) per access: far below the 10,000 steps per access of walking the stack.
  t.true(r.work < 20 * elf.length, `work ${r.work} for ${elf.length} bytes`);
});

test('5,000 data objects verify in bounded work', t => {
  const elf = elfOf(manyData(5000));
  const r = decide(t, elf);
  t.true(r.ok, verdict(r));
});

test('65,535 sections and 3,000 data objects: decided in time proportional to the file', t => {
  const base = elfOf(manyData(3000));
  const shnum = new DataView(base.buffer, base.byteOffset).getUint16(48, true);
  const elf = withSections(base, 0xffff - shnum);
  const r = decide(t, elf);
  t.true(r.ok, verdict(r));
});

test('work per byte stays bounded across generated programs of growing size', t => {
  // The meter is deterministic: the same program always costs the same, so this property cannot flake.
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 2 }), (scale, kind) => {
      const src = kind === 0 ? deepStack(200 * scale, 400 * scale)
        : kind === 1 ? manyData(100 * scale)
        : doubling(4 * scale, 'same');
      const elf = elfOf(src);
      const r = checkElf(elf);
      return r.ok && r.work <= 8 * elf.length;
    }),
    { numRuns: 24 },
  );
  t.pass();
});

test('the examples and a compiled-shaped program spend a few units per byte', async t => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { generateProgram } = await import('../bench/gen.ts');
  const dir = join(import.meta.dirname, '..', 'tal', 'examples');
  const sources = readdirSync(dir).filter(f => f.endsWith('.tal')).map(f => readFileSync(join(dir, f), 'utf8'));
  for (const src of [...sources, generateProgram(200)]) {
    const elf = elfOf(src);
    const r = checkElf(elf);
    t.true(r.ok, verdict(r));
    t.true(r.work <= 4 * elf.length + 10_000, `work ${r.work} for ${elf.length} bytes`);
  }
});
