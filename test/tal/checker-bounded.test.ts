// The checker decides every file in time linear in its size (docs/tal.md §9, too-complex): adversarial programs
// built here — a chain of calls that doubles a type, thousands of deep stack-slot accesses, 65,535 sections,
// thousands of data objects — are each decided, and the work the checker reports (its deterministic meter, so
// nothing here can flake on a slow machine) stays within a fixed number of units per byte as they grow. Refused
// files have a repaired twin that verifies. A generous wall-clock bound on top catches a meter that misses work.
import test from 'ava';
import fc from 'fast-check';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf, type CheckResult, MAX_STACK_WORDS, WORK_BASE, WORK_PER_BYTE } from '../../tal/check/checker.ts';

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

const vars = (v: number) => Array.from({ length: v }, (_, i) => `a${i}`).join(', ');

/** A label over `v` type variables, jumped to `n` times (each jump matches the label's binders as patterns). */
function manyVars(v: number, n: number): string {
  const out = [...head('exit'), '    xor eax, eax', '    test eax, eax'];
  for (let i = 0; i < n; i++) out.push('    je L');
  out.push('    jmp L', `.tal_label L : code[r:stack, ${vars(v)}]{esp: r}`, 'L:', ...exit);
  return out.join('\n') + '\n';
}

/** A data array of `n` words, each the address of a label over `v` type variables (S(L) ≤ a code type). */
function codeTable(v: number, n: number): string {
  const ty = `code[r:stack, ${vars(v)}]{esp: r}`;
  const out = [...head('exit'), ...exit, `.tal_label L : ${ty}`, 'L:', ...exit,
    '.data', `.tal_label tbl : *arr(${ty})`, 'tbl:', `    .long ${n}`];
  for (let i = 0; i < n; i++) out.push('    .long L');
  return out.join('\n') + '\n';
}

/** `k` times: esp moved down 1020 bytes (255 words) and the new top touched; with `pop`, moved back up after. */
function subEsp(k: number, pop = false): string {
  const out = head('exit');
  for (let i = 0; i < k; i++) {
    out.push('    sub esp, 1020', '    mov DWORD PTR [esp], eax');
    if (pop) out.push('    add esp, 1020');
  }
  out.push(...exit);
  return out.join('\n') + '\n';
}

/** A label type nested 95 code types deep, each with its own binder; its innermost tuple names the outermost f times. */
function nestedScopes(f: number): string {
  let open = 'code[r:stack, z]{eax: ', close = ', esp: r}';
  for (let i = 0; i < 95; i++) {
    open += `code[v${i}]{eax: `;
    close = ', esp: nil}' + close;
  }
  const ty = open + '*[' + Array(f).fill('z^r').join(', ') + ']' + close;
  return [...head('exit'), ...exit, `.tal_label deep : ${ty}`, 'deep:', ...exit].join('\n') + '\n';
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

test('the examples and a compiled-shaped program spend under a unit per byte', async t => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { generateProgram } = await import('../../bench/gen.ts');
  const dir = join(import.meta.dirname, '..', '..', 'tal', 'examples');
  const sources = readdirSync(dir).filter(f => f.endsWith('.tal')).map(f => readFileSync(join(dir, f), 'utf8'));
  for (const src of [...sources, generateProgram(200)]) {
    const elf = elfOf(src);
    const r = checkElf(elf);
    t.true(r.ok, verdict(r));
    // They spend under 0.3 (the budget, WORK_PER_BYTE, leaves them a margin of 25 or more).
    t.true(r.work <= elf.length + 10_000, `work ${r.work} for ${elf.length} bytes`);
  }
});

// Red team 2. F2: a code type's V binders were handled at every use, unmetered: 10,000 jumps to a label over
// 10,000 variables took 30 s (20,000: 160 s), a table of 5,000 addresses of such a label 17 s (20,000: 511 s).

test('F2: 10,000 jumps to a label over 10,000 type variables verify in bounded work', t => {
  const elf = elfOf(manyVars(10_000, 10_000));
  const r = decide(t, elf);
  t.true(r.ok, verdict(r));
  t.true(r.work <= elf.length, `work ${r.work} for ${elf.length} bytes`);
});

test('F2: a table of 10,000 addresses of a label over 10,000 type variables verifies in bounded work', t => {
  const elf = elfOf(codeTable(10_000, 10_000));
  const r = decide(t, elf);
  t.true(r.ok, verdict(r));
  t.true(r.work <= elf.length, `work ${r.work} for ${elf.length} bytes`);
});

test('F2: work per byte stays bounded however many variables a jumped-to or tabled label has', t => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 600 }), fc.boolean(), (v, n, table) => {
      const elf = elfOf(table ? codeTable(v, n) : manyVars(v, n));
      const r = checkElf(elf);
      return r.ok && r.work <= elf.length;
    }),
    { numRuns: 16 },
  );
  t.pass();
});

// F3: sub esp, 1020 built 255 stack cells for one unit: 50,000 of them (762 KB) took 7 s and 1.8 GB of heap,
// 130,000 (1.2 MB) ran Node out of memory. Each cell now costs a unit, and no stack type may be deeper than the
// kernel-mode stack (MAX_STACK_WORDS).

test('F3: 50,000 times sub esp, 1020 is refused as too-complex at the kernel stack\'s depth, in bounded work', t => {
  const elf = elfOf(subEsp(50_000));
  const r = decide(t, elf);
  t.false(r.ok);
  if (!r.ok) {
    t.is(r.error.cls, 'too-complex', r.error.message);
    t.regex(r.error.message, /kernel-mode stack/);
  }
  // Refused when the stack type reaches MAX_STACK_WORDS: about a unit per word, whatever follows.
  t.true(r.work <= 2 * MAX_STACK_WORDS, `work ${r.work}`);
  // The same moves, each undone before the next, verify: the stack type stays 255 words deep.
  const twin = decide(t, elfOf(subEsp(1000, true)));
  t.true(twin.ok, verdict(twin));
});

test('F3: a stack type grown by sub esp is decided within the budget, and refused past the kernel stack\'s depth',
  t => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1200 }), k => {
      const elf = elfOf(subEsp(k));
      const r = checkElf(elf);
      const deep = 255 * k + 1 > MAX_STACK_WORDS; // the words moved over, and exit's argument
      if (r.work > WORK_BASE + WORK_PER_BYTE * elf.length) return false;
      if (deep) return !r.ok && r.error.cls === 'too-complex' && /kernel-mode stack/.test(r.error.message);
      // Each word costs a unit when sub esp makes it and one when the call to exit rebuilds the stack with the
      // stores in place: beyond ~400 times the budget (2^18 + 8 per byte) runs out first.
      return k <= 400 ? r.ok : r.ok || r.error.cls === 'too-complex';
    }),
    { numRuns: 12 },
  );
  t.pass();
});

// F4: a type nested 95 code types deep naming its outermost binder 25,000 times: read and checked in linear work.
test('F4: nested scopes are read and checked in work linear in the file', t => {
  const small = elfOf(nestedScopes(5_000)), big = elfOf(nestedScopes(25_000));
  const rs = decide(t, small), rb = decide(t, big);
  t.true(rs.ok, verdict(rs));
  t.true(rb.ok, verdict(rb));
  t.true(rb.work <= big.length && rs.work <= small.length, `work ${rs.work}, ${rb.work}`);
});

// F1 (retired by the binary format): a text .tal.types with a 64,000-character inst line is refused at once.
test('F1: a text .tal.types is refused as annotation before any work', t => {
  const elf = elfOf([...head('exit'), ...exit].join('\n') + '\n');
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const shoff = dv.getUint32(32, true), shnum = dv.getUint16(48, true), strIdx = dv.getUint16(50, true);
  const strOff = dv.getUint32(shoff + strIdx * 40 + 16, true);
  const name = (h: number) => {
    let e = strOff + dv.getUint32(h, true), out = '';
    while (elf[e]) out += String.fromCharCode(elf[e++]);
    return out;
  };
  const text = new TextEncoder().encode('TAL-IA32 1\nmain main\ninst ' + ':'.repeat(64_000) + 'x\r\n');
  const out = new Uint8Array(elf.length + text.length);
  out.set(elf);
  out.set(text, elf.length);
  const o = new DataView(out.buffer);
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 40;
    if (name(h) !== '.tal.types') continue;
    o.setUint32(h + 16, elf.length, true);
    o.setUint32(h + 20, text.length, true);
  }
  const r = decide(t, out);
  t.false(r.ok);
  if (!r.ok) t.is(r.error.cls, 'annotation', r.error.message);
  t.is(r.work, 0);
});

// Typed stack pointers (issue 16, item 3; docs/tal.md §4.10): `mov r, esp` shares the current stack type, and
// `mov esp, r` compares a suffix of the stack with the sptr's, which answers at once when they are the same cells.
// What an adversary can make them compare cell by cell (a store deep in the stack rebuilds the cells above it) is
// paid for by the meter, like every other walk of a stack.

/**
 * `depth` words pushed, `mov ebx, esp`, then `n` times a push and a restore; with `store`, each time also a store
 * into the deepest word first (so the restore compares rebuilt cells); with `regs`, the sptr is copied into every
 * register and jumped with, `n` times, to a label whose type names the whole stack in each.
 */
function sptrRestores(depth: number, n: number, mode: 'plain' | 'store' | 'regs'): string {
  const out = head('exit');
  for (let i = 0; i < depth; i++) out.push('    push 0');
  out.push('    mov ebx, esp');
  if (mode === 'regs') {
    const stack = Array(depth).fill('int :: ').join('') + 'r';
    const regs = ['eax', 'ecx', 'edx', 'ebx', 'esi', 'edi', 'ebp'];
    for (const r of regs) if (r !== 'ebx') out.push(`    mov ${r}, ebx`);
    const ty = `code[r:stack]{${regs.map(r => `${r}: sptr(${stack})`).join(', ')}, esp: ${stack}}`;
    for (let i = 0; i < n; i++) out.push(`    jmp l${i}`, `.tal_label l${i} : ${ty}`, `l${i}:`);
    out.push('    mov esp, ebx', ...exit);
    return out.join('\n') + '\n';
  }
  for (let i = 0; i < n; i++) {
    out.push('    push 0');
    if (mode === 'store') out.push(`    mov DWORD PTR [esp+${4 * depth}], 0`);
    out.push('    mov esp, ebx');
  }
  out.push(...exit);
  return out.join('\n') + '\n';
}

test('sptr: 20,000 restores over a 10,000-word stack verify in bounded work (the cells are shared)', t => {
  const elf = elfOf(sptrRestores(10_000, 20_000, 'plain'));
  const r = decide(t, elf);
  t.true(r.ok, verdict(r));
  t.true(r.work <= elf.length, `work ${r.work} for ${elf.length} bytes`);
});

test('sptr: restores that must compare a rebuilt 10,000-word stack are refused as too-complex, in bounded work', t => {
  const elf = elfOf(sptrRestores(10_000, 5_000, 'store'));
  const r = decide(t, elf);
  t.false(r.ok);
  if (!r.ok) t.is(r.error.cls, 'too-complex', r.error.message);
  const twin = decide(t, elfOf(sptrRestores(10_000, 4, 'store')));
  t.true(twin.ok, verdict(twin));
});

test('sptr: jumps with an sptr of the whole stack in every register are decided within the budget', t => {
  const r = decide(t, elfOf(sptrRestores(150, 2_000, 'regs'))); // (label types nest at most 200 deep)
  t.true(r.ok || r.error.cls === 'too-complex', verdict(r));
  const small = decide(t, elfOf(sptrRestores(20, 20, 'regs')));
  t.true(small.ok, verdict(small));
});

test('sptr: work per byte stays bounded across generated handler programs and growing sptr restores', async t => {
  const { handlerProgram } = await import('../util/handlergen.ts');
  const { fromGen } = await import('../util/popgen.ts');
  fc.assert(
    fc.property(fc.gen(), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 1 }), (g, scale, kind) => {
      const src = kind === 0 ? handlerProgram(fromGen(g)).source : sptrRestores(100 * scale, 300 * scale, 'plain');
      const elf = elfOf(src);
      const r = checkElf(elf);
      return r.ok && r.work <= elf.length + 10_000;
    }),
    { numRuns: 24 },
  );
  t.pass();
});


// ---------------------------------------------------------------------------------------------------------------
// Existentials and tagged sums (docs/tal.md §3.4, §3.5): a type grown by packing or by nesting variants is decided
// within the same budget.

/**
 * doubling's chain of `calls`, then eax packed: as exists[b] *[b^r, b^r] (the witness is found at the first field,
 * the second compares at once: shared), or as exists[b] tree<b>, which matches the shared type against a recursive
 * type with a variable and so walks it as the tree.
 */
function packDoubling(calls: number, body: 'flat' | 'tree'): string {
  const src = doubling(calls, 'exit');
  const pack = body === 'flat' ? 'exists[b] *[b^r, b^r]' : 'exists[b] tree<b>';
  return src.replace('    push 0\n    call DWORD PTR [exit]\n',
    `    .tal_pack eax, ${pack}\n    mov ebx, eax\n    .tal_unpack ebx\n    push 0\n    call DWORD PTR [exit]\n`);
}

/**
 * `calls` calls of wrap, each returning the variant sum{0, *[S(1)^r, a^r, a^r]} for its argument a: variants nested
 * `calls` deep (2^calls cases written out). Then eax goes to a block that takes it as stree<c> (a recursive sum with
 * a variable, unfolded once per level: the tree), or with a copy of itself (`same`: compared at once).
 */
function sumNesting(calls: number, end: 'same' | 'named'): string {
  const out = ['.tal_type stree<a> = sum{0, *[S(1)^r, stree<a>^r, stree<a>^r]}', ...head('tal_alloc, exit')];
  out.push('    mov eax, DWORD PTR [leaf]');
  for (let i = 0; i < calls; i++) out.push('    call wrap');
  out.push(end === 'same' ? '    mov ebx, eax\n    jmp same' : '    jmp named');
  out.push(
    '.tal_label same : code[r:stack, a]{eax: a, ebx: a, esp: r}', 'same:', ...exit,
    '.tal_label named : code[r:stack, c]{eax: stree<c>, esp: r}', 'named:', ...exit,
    '.tal_label wrap : code[r:stack, a]{eax: a, esp: code{eax: sum{0, *[S(1)^r, a^r, a^r]}, esp: r} :: r}', 'wrap:',
    '    push eax', '    push 12', '.tal_inst *[S(1), a, a]', '    call DWORD PTR [tal_alloc]',
    '    add esp, 4', '    pop ecx', '    mov DWORD PTR [eax], 1',
    '    mov DWORD PTR [eax+4], ecx', '    mov DWORD PTR [eax+8], ecx', '    ret',
    '.data', '.tal_label leaf : *[stree<int>^r]', 'leaf:', '    .long 0',
  );
  return out.join('\n') + '\n';
}

/** `n` closures packed, opened and called, and `n` tag tests of a sum, in one block each (a compiled-shaped mix). */
function packsAndTags(n: number): string {
  const out = [
    '.tal_type cont<r:stack> = code{esp: r}', '.tal_type body<e> = code[r:stack]{eax: e, esp: cont<r> :: r}',
    '.tal_type clos = exists[env] *[body<env>^r, env^r]',
    '.tal_type val = sum{0, 1, *[S(2)^r, int^r], *[S(3)^r, val^r]}', ...head('exit'),
  ];
  for (let i = 0; i < n; i++) {
    out.push('    mov esi, OFFSET pclos', '    .tal_pack esi, clos, *[int^r]', '    .tal_unpack esi',
      '    mov eax, DWORD PTR [esi+4]', '    mov edx, DWORD PTR [esi]', '    call edx',
      '    mov ebx, DWORD PTR [root]', '    cmp ebx, 2', `    jb done`, '    cmp DWORD PTR [ebx], 2', '    jne done',
      '    mov eax, DWORD PTR [ebx+4]');
  }
  out.push('    jmp done', '.tal_label done : code[r:stack]{esp: r}', 'done:', ...exit,
    '.tal_label getn : code[r:stack]{eax: *[int^r], esp: cont<r> :: r}', 'getn:', '    ret',
    '.data', '.tal_label n7 : *[int^r]', 'n7:', '    .long 7',
    '.tal_label pclos : *[body<*[int^r]>^r, *[int^r]^r]', 'pclos:', '    .long getn, n7',
    '.tal_label root : *[val^rw]', 'root:', '    .long num',
    '.tal_label num : *[S(2)^r, int^r]', 'num:', '    .long 2, 5');
  return out.join('\n') + '\n';
}

test('a type doubled by 64 calls packs (shared); packed as exists[b] tree<b> it is too-complex, 8 calls verify', t => {
  const flat = decide(t, elfOf(packDoubling(64, 'flat')));
  t.true(flat.ok, verdict(flat));
  const tree = decide(t, elfOf(packDoubling(64, 'tree')));
  t.false(tree.ok);
  if (!tree.ok) t.is(tree.error.cls, 'too-complex', tree.error.message);
  const twin = decide(t, elfOf(packDoubling(8, 'tree')));
  t.true(twin.ok, verdict(twin));
});

test('variants nested 64 deep compare at once; against a recursive sum with a variable too-complex, 8 verify', t => {
  const same = decide(t, elfOf(sumNesting(64, 'same')));
  t.true(same.ok, verdict(same));
  const named = decide(t, elfOf(sumNesting(64, 'named')));
  t.false(named.ok);
  if (!named.ok) t.is(named.error.cls, 'too-complex', named.error.message);
  const twin = decide(t, elfOf(sumNesting(8, 'named')));
  t.true(twin.ok, verdict(twin));
});

test('work per byte stays bounded across programs of growing size that pack, open and test tags', t => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 2 }), (scale, kind) => {
      const src = kind === 0 ? packsAndTags(50 * scale)
        : kind === 1 ? sumNesting(4 * scale, 'same')
        : packDoubling(4 * scale, 'flat');
      const elf = elfOf(src);
      const r = checkElf(elf);
      return r.ok && r.work <= 8 * elf.length;
    }),
    { numRuns: 24 },
  );
  t.pass();
});

/** A sum of `cases` case tuples, its tag tested `tests` times (each test refines it: a unit per case, metered). */
function wideSum(cases: number, tests: number): string {
  const items = Array.from({ length: cases }, (_, k) => `*[S(${k})^r, int^r]`).join(', ');
  const out = [`.tal_type big = sum{${items}}`, ...head('exit')];
  for (let i = 0; i < tests; i++) {
    out.push('    mov ebx, DWORD PTR [root]', `    cmp DWORD PTR [ebx], ${i % cases}`, '    jne other');
  }
  out.push('    jmp other', '.tal_label other : code[r:stack]{ebx: big, esp: r}', 'other:', ...exit,
    '.data', '.tal_label root : *[big^rw]', 'root:', '    .long leaf', '.tal_label leaf : *[S(0)^r, int^r]', 'leaf:',
    '    .long 0, 7');
  return out.join('\n') + '\n';
}

test('a sum of 5,000 cases tested 5,000 times is decided within the budget (too-complex); 50 tests verify', t => {
  const r = decide(t, elfOf(wideSum(5000, 5000)));
  t.false(r.ok);
  if (!r.ok) t.is(r.error.cls, 'too-complex', r.error.message);
  const twin = decide(t, elfOf(wideSum(5000, 50)));
  t.true(twin.ok, verdict(twin));
});
