// The binary .tal.types (docs/tal.md §5): what talas writes reads back to the same annotations; every kind of
// malformation is refused as `annotation` with its own message, never thrown; random damage is refused or harmless;
// the reader's bounds (nesting depth, scoping, sizes) hold. The negative corpus has one program per malformation
// class that the checker must refuse; this file pins the reader's reasons.
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { annotationsText, HEADER_FIELDS, layout, MAX_TYPE_DEPTH, readAnnotations, TABLES, Tag, TAG_SPTR } from '../../tal/annotations.ts';
import { assemble } from '../../tal/asm/assembler.ts';
import { writeAnnotations } from '../../tal/asm/types-writer.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { readElf, findSection } from '../../tal/elf.ts';
import { type Ty, cons, NIL, INT } from '../../tal/types.ts';
import { applyMutation } from '../util/mutate.ts';

const examples = join(import.meta.dirname, '..', '..', 'tal', 'examples');

const PROGRAM = `.intel_syntax noprefix
.tal_import exit, tal_alloc
.tal_type pair<a> = *[a^r, a^r]
.text
.tal_label main : code[r:stack]{esp: r}
main:
    mov ebx, 1
    jmp next
.tal_label next : code[s:stack]{ebx: int, esp: s}
next:
    push 8
    .tal_inst *[int, int]
    call DWORD PTR [tal_alloc]
    add esp, 4
    push ebx
    call DWORD PTR [exit]
.data
.tal_label cell : *[int^rw]
cell:
    .long 0
.tal_label pairc : pair<int>
pairc:
    .long 1, 2
`;

/** The section's bytes inside an ELF. */
function typesOf(elf: Uint8Array): Uint8Array {
  const s = findSection(readElf(elf), '.tal.types')!;
  return elf.subarray(s.offset, s.offset + s.size);
}

test('talas writes what the reader reads back: every example, shown as the same text', t => {
  for (const f of readdirSync(examples).filter(x => x.endsWith('.tal'))) {
    const r = assemble(readFileSync(join(examples, f), 'utf8'), f);
    const ann = readAnnotations(typesOf(r.elf));
    t.is(annotationsText(ann), r.annotations, f);
    t.true(checkElf(r.elf).ok, f);
  }
});

test('shared structure is stored once: a type used by many labels is one node', t => {
  const labels = Array.from({ length: 50 }, (_, i) => `.tal_label l${i} : code[r:stack]{ebx: *arr(int), esp: r}\nl${i}:\n    jmp l${i + 1}`);
  const src = `.intel_syntax noprefix\n.tal_import exit\n.text\n.tal_label main : code[r:stack]{esp: r}\nmain:\n    push 0\n    call DWORD PTR [exit]\n${labels.join('\n')}\n.tal_label l50 : code[r:stack]{esp: r}\nl50:\n    push 0\n    call DWORD PTR [exit]\n`;
  const b = typesOf(assemble(src, 'shared.tal').elf);
  const h = HEADER_FIELDS.map((_, i) => new DataView(b.buffer, b.byteOffset).getUint32(8 + 4 * i, true));
  t.true(h[HEADER_FIELDS.indexOf('nodes')] < 12, `${h[HEADER_FIELDS.indexOf('nodes')]} nodes for 52 labels of 3 types`);
});

/** Each malformation: mutations of PROGRAM's .tal.types, and what the refusal says. */
const MALFORMED: [string, string[], RegExp][] = [
  ['another magic', ['in .tal.types byte 0 0x58'], /must start with 'TAL-IA32'/],
  ['another version', ['types header version 1'], /format version 1, not 3/],
  ['a count the section has no room for', ['types header nodes +1'], /the header's counts make \d+ bytes, but the section has \d+/],
  ['a count far past the section', ['types header list 0xffffffff'], /the header's counts make/],
  ['a string that is not a name', ['types bytes 0 value 0x20'], /string 0 is not a name/],
  ['strings out of order', ['types bytes 0 value 0x7a'], /is not after string 0|string \d+ is not a name/],
  ['a string ending before it starts', ['types string 1 end 0'], /string 1: end 0 is not after/],
  ['a scope ending before itself', ['types scope 0 end 1'], /scope 1: end 1 is not in/],
  ['a scope without binders', ['types scope 0 binders 0'], /scope 1 has no binders|the scopes have/],
  ['a binder of an unknown kind', ['types binder 0 kind 2'], /kind 2 is neither 0 \(word\) nor 1 \(stack\)/],
  ['a binder named by no string', ['types binder 0 name 999'], /binder 0: string 999 is not in the table/],
  ['an unknown tag', ['types node first:1 tag 15'], /unknown tag 15/],
  ['a nonzero unused field', ['types node first:1 c 5'], /the fields it does not use must be 0/],
  // The pool of this program: 0 a, 1 pair's body, 2 r, 3 main's type, 4 int, 5 s, 6 next's type, 7 cell's type,
  // 8 pair<int>, 9 the instantiation; the list: 0-3 pair's fields, 4-11 main's registers (8: esp), 12-19 next's, …
  ['a child that is the node itself', ['types list 0 value 1'], /node 1 \(tuple\): child 1 is not an earlier node/],
  ['a child past the pool', ['types list 15 value 0xfffffff0'], /is not an earlier node/],
  ['a word type where a stack type goes', ['types list 16 value 4'], /child 4 is a word type, not a stack type/],
  ['a stack type where a word type goes', ['types list 15 value 5'], /child 5 is a stack type, not a word type/],
  ['a list range past the list', ['types node first:8 b 0xfffffff0'], /outside the list/],
  ['a field flag that does not exist', ['types node first:5 a 0', 'types node first:5 c 1', 'types list 1 value 7'], /flag 7|is a stack type|not an earlier/],
  ['a named type of the wrong arity', ['types node first:9 c 2'], /takes 1 arguments, not 2|outside the list/],
  ['a definition that does not exist', ['types node first:9 a 4'], /definition 4 is not in the table/],
  ['a definition body that is a name', ['types def pair body 0'], /must be defined as a structure|is a stack type/],
  ['a scope bound twice', ['types node type:next a 1'], /scope 1 is already bound/],
  ['a scope bound by nothing', ['types node type:next a 0'], /is bound by no code type, existential or definition/],
  ['a label type that is not a code type', ['types code next type 4'], /is not a code type/],
  ['a label type with a free variable', ['types code next type 0'], /uses variables it does not bind/],
  ['a code type that uses a definition\'s parameter', ['types list 15 value 0'], /its parts use variables of scopes? \d+(, which is not around scope| and) \d+/],
  ['a label named twice', ['types code next name str:main'], /label 'main' annotated twice/],
  ['labels out of order', ['types code next addr 0x08048000'], /is not above the previous label's/],
  ['a data label on a code label', ['types data cell addr 0x080480a0'], /two labels at 0x80480a0/],
  ['main past the code labels', ['types header main 2'], /main is code label 2, not one of the 2/],
  ['an instantiation past the list', ['types inst 0 first 0xfffffff0'], /outside the list/],
  ['an instantiation of two arguments for one variable', ['types inst 0 count 2'], /gives 2 arguments for 1 variables|outside the list/],
];

const base = assemble(PROGRAM, 'base.tal').elf;

test('the base program verifies', t => {
  const r = checkElf(base);
  t.true(r.ok, r.ok ? '' : r.error.message);
});

for (const [what, mutations, why] of MALFORMED) {
  test(`refused as annotation: ${what}`, t => {
    let elf = base;
    for (const m of mutations) elf = applyMutation(elf, m);
    const r = checkElf(elf);
    if (r.ok) return t.fail('accepted');
    t.is(r.error.cls, 'annotation', r.error.message);
    t.regex(r.error.message, why);
  });
}

test('a variable used outside the code type that binds it is refused', t => {
  // main's type made to use next's stack variable: main's code node now needs a scope it does not bind.
  const b = typesOf(base);
  const dv = new DataView(b.buffer, b.byteOffset);
  type Header = Parameters<typeof layout>[0];
  const h = Object.fromEntries(HEADER_FIELDS.map((f, i) => [f, dv.getUint32(8 + 4 * i, true)])) as Header;
  const { offsets } = layout(h);
  const svars: number[] = [];
  for (let i = 0; i < h.nodes; i++) if (dv.getUint32(offsets.node + 16 * i, true) === Tag.SVar) svars.push(i);
  t.is(svars.length, 2);
  const mainType = dv.getUint32(offsets.code + 8, true);
  const list = dv.getUint32(offsets.node + 16 * mainType + 8, true);
  const at = b.byteOffset - base.byteOffset + offsets.list + 4 * (list + 4);
  const elf = Uint8Array.from(base);
  new DataView(elf.buffer).setUint32(at, svars[1], true);
  const r = checkElf(elf);
  t.false(r.ok);
  if (!r.ok) {
    t.is(r.error.cls, 'annotation');
    t.regex(r.error.message, /is not an earlier node|not around scope|does not bind|neither inside/);
  }
});

test('an instantiation may name only its own block\'s variables (checked when the call is checked)', t => {
  // next's instantiation given main's stack variable: the reader sees a well-scoped argument (it needs main's
  // scope), the checker sees that the instantiation is in next's block.
  const src = PROGRAM.replace('.tal_inst *[int, int]', '.tal_inst *[int, int]\n').replace(
    '.tal_label next : code[s:stack]{ebx: int, esp: s}\nnext:',
    '.tal_label next : code[s:stack]{ebx: int, esp: s}\nnext:\n    jmp more\n.tal_label more : code[q:stack]{ebx: int, esp: q}\nmore:');
  const good = assemble(src.replace('.tal_inst *[int, int]', '.tal_inst *[int, int]'), 'inst.tal');
  t.true(checkElf(good.elf).ok);
  const ann = readAnnotations(typesOf(good.elf));
  t.is(ann.inst.size, 1);
  t.is([...ann.inst.values()][0].scope, 0);
});

test('an instantiation\'s existential over a code type naming its block\'s variable is scoped inside the block', t => {
  // popc's function values (docs/popcorn.md "Closures") in a polymorphic function's .tal_inst: the existential's
  // scope must be the parent of the code type's, not a sibling of it under the block's scope (talas once wrote it
  // so, and the reader refused the section).
  const src = PROGRAM.replace('.tal_inst *[int, int]',
    '.tal_inst *[exists[e] *[code[q:stack]{eax: b, esp: e :: q}^r, e^r], int]').replace(
    'main:\n    mov ebx, 1\n    jmp next',
    'main:\n    mov ebx, 1\n    .tal_inst int, r\n    jmp next').replace(
    '.tal_label next : code[s:stack]{ebx: int, esp: s}', '.tal_label next : code[b, s:stack]{ebx: b, esp: s}')
    .replace('    push ebx\n    call DWORD PTR [exit]', '    push 0\n    call DWORD PTR [exit]');
  const r = checkElf(assemble(src, 'exists-inst.tal').elf);
  t.true(r.ok, r.ok ? '' : `${r.error.cls}: ${r.error.message}`);
});

test('random damage to the section is refused or harmless, never thrown', t => {
  const b = typesOf(base);
  const from = b.byteOffset - base.byteOffset;
  let seed = 12345;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  for (let k = 0; k < 3000; k++) {
    const elf = Uint8Array.from(base);
    const flips = 1 + rnd(3);
    for (let f = 0; f < flips; f++) elf[from + rnd(b.length)] = rnd(4) === 0 ? 0xff : rnd(256);
    const r = checkElf(elf);
    if (!r.ok) t.truthy(r.error.cls);
    t.false(!r.ok && /internal checker error/.test(r.error.message), !r.ok ? r.error.message : '');
  }
  for (let n = 0; n < b.length; n++) {
    const r = (() => { try { return readAnnotations(b.subarray(0, n)); } catch (e) { return e as Error; } })();
    t.true(r instanceof Error && r.name === 'AnnotationError', `${n} bytes`);
  }
});

/** A section with one code label `main` (the entry type) whose ebx holds `ty`. */
function withType(ty: Ty): Uint8Array {
  const r = { name: 'r', kind: 'stack' as const, id: -1 };
  const main = { vars: [r], regs: [null, null, null, null, null, null, null, null], stack: { k: 'svar' as const, b: r } };
  const other = { vars: [], regs: [null, null, null, ty, null, null, null, null], stack: NIL };
  return writeAnnotations({ main: 'main', defs: [], code: [{ name: 'main', addr: 0x1000, ty: main }, { name: 'l', addr: 0x1010, ty: other }], data: [], inst: [] });
}

test(`types nest at most ${MAX_TYPE_DEPTH} nodes deep`, t => {
  const nest = (n: number): Ty => {
    let ty: Ty = INT;
    for (let i = 1; i < n; i++) ty = { k: 'arr', nullable: false, elem: ty };
    return ty;
  };
  // The code node and the register's type: the register may be MAX_TYPE_DEPTH - 1 deep.
  t.notThrows(() => readAnnotations(withType(nest(MAX_TYPE_DEPTH - 1))));
  t.throws(() => readAnnotations(withType(nest(MAX_TYPE_DEPTH))), { name: 'AnnotationError', message: /nest more than 200 deep/ });
});

test('a long stack type is one node per cell, read in one pass', t => {
  let s = NIL as Parameters<typeof cons>[1];
  for (let i = 0; i < 150; i++) s = cons(INT, s);
  const b = writeAnnotations({ main: 'main', defs: [], data: [], inst: [], code: [
    { name: 'main', addr: 0x1000, ty: (() => { const r = { name: 'r', kind: 'stack' as const, id: -2 }; return { vars: [r], regs: new Array(8).fill(null), stack: { k: 'svar' as const, b: r } }; })() },
    { name: 'l', addr: 0x1010, ty: { vars: [], regs: new Array(8).fill(null), stack: s } },
  ] });
  const ann = readAnnotations(b);
  t.is(ann.code.size, 2);
  t.is(ann.code.types[1].stack.k, 'cons');
});

test('reading is linear: 200,000 labels in well under a second', t => {
  const r = { name: 'r', kind: 'stack' as const, id: -3 };
  const ty = { vars: [r], regs: new Array(8).fill(null), stack: { k: 'svar' as const, b: r } };
  const code = Array.from({ length: 200_000 }, (_, i) => ({ name: `l${i}`, addr: 0x1000 + 4 * i, ty }));
  const b = writeAnnotations({ main: 'l0', defs: [], data: [], inst: [], code });
  const t0 = performance.now();
  const ann = readAnnotations(b);
  const ms = performance.now() - t0;
  t.is(ann.code.size, 200_000);
  t.is(ann.code.name(123_456), 'l123456');
  t.true(ms < 2000, `${ms.toFixed(0)} ms`);
  t.is(TABLES.length, 10);
});

// Typed stack pointers (docs/tal.md §4.10): node tag 20, `sptr(a)` with a the stack type's node.
test('sptr(σ) is one node over its stack type, and reads back as the same text', t => {
  const b = withType({ k: 'sptr', stack: cons(INT, cons(INT, NIL)) });
  const ann = readAnnotations(b);
  t.regex(annotationsText(ann), /code 0x00001010 l : code\{ebx: sptr\(int :: int :: nil\), esp: nil\}/);
});

test('an sptr node over a word type, or with a nonzero unused field, is refused as annotation', t => {
  const b = withType({ k: 'sptr', stack: cons(INT, NIL) });
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const h = Object.fromEntries(HEADER_FIELDS.map((f, i) => [f, dv.getUint32(8 + 4 * i, true)])) as Parameters<typeof layout>[0];
  const nodes = layout(h).offsets.node;
  let at = -1;
  for (let i = 0; i < h.nodes; i++) if (dv.getUint32(nodes + 16 * i, true) === TAG_SPTR) at = nodes + 16 * i;
  t.true(at >= 0, 'no sptr node written');
  const word = Uint8Array.from(b), wv = new DataView(word.buffer);
  let intNode = -1;
  for (let i = 0; i < h.nodes; i++) if (wv.getUint32(nodes + 16 * i, true) === Tag.Int) intNode = i;
  wv.setUint32(at + 4, intNode, true);
  t.throws(() => readAnnotations(word), { name: 'AnnotationError', message: /is a word type, not a stack type/ });
  const unused = Uint8Array.from(b);
  new DataView(unused.buffer).setUint32(at + 8, 1, true);
  t.throws(() => readAnnotations(unused), { name: 'AnnotationError', message: /the fields it does not use must be 0/ });
});
// Sums, existentials and coercions (docs/tal.md §5): the reader refuses each malformation of their records.
const EXSUM_PROGRAM = `.intel_syntax noprefix
.tal_import exit
.tal_type val = sum{0, 1, *[S(2)^r, int^r], *[S(3)^r, int^r]}
.text
.tal_label main : code[r:stack]{esp: r}
main:
    mov esi, OFFSET cell
    .tal_pack esi, exists[a] *[a^r]
    .tal_unpack esi
    mov ebx, DWORD PTR [root]
    push 0
    call DWORD PTR [exit]
.data
.tal_label root : *[val^r]
root: .long 1
.tal_label cell : *[int^r]
cell: .long 5
`;
const exsumBase = assemble(EXSUM_PROGRAM, 'exsum.tal').elf;

test('the sum, existential and coercion base program verifies, and reads back as written', t => {
  const r = checkElf(exsumBase);
  t.true(r.ok, r.ok ? '' : r.error.message);
  const text = annotationsText(readAnnotations(typesOf(exsumBase)));
  t.regex(text, /^type val = sum\{0, 1, \*\[S\(2\)\^r, int\^r\], \*\[S\(3\)\^r, int\^r\]\}$/m);
  t.regex(text, /^pack 0x[0-9a-f]{8} esi : exists\[a\] \*\[a\^r\]$/m);
  t.regex(text, /^unpack 0x[0-9a-f]{8} esi$/m);
});

/** The first node with this tag in the base program's pool, and its record's b field (a list's first entry). */
function exsumNode(tag: number): { index: number; b: number } {
  const b = typesOf(exsumBase);
  const dv = new DataView(b.buffer, b.byteOffset);
  const h = Object.fromEntries(HEADER_FIELDS.map((f, i) => [f, dv.getUint32(8 + 4 * i, true)])) as Parameters<typeof layout>[0];
  const { offsets } = layout(h);
  for (let i = 0; i < h.nodes; i++) {
    if (dv.getUint32(offsets.node + 16 * i, true) === tag) return { index: i, b: dv.getUint32(offsets.node + 16 * i + 8, true) };
  }
  throw new Error(`no node of tag ${tag}`);
}
const sumList = exsumNode(Tag.Sum).b;

const EXSUM_MALFORMED: [string, string[], RegExp][] = [
  ['a sum with more nullary cases than entries', ['types node first:13 a 9'], /9 nullary cases of 4/],
  ['a sum whose entries are read as case nodes', ['types node first:13 a 0'], /case 0 is not a tuple|not an earlier node/],
  ['nullary cases out of order', [`types list ${sumList} value 7`], /nullary case 1 is not below 4096 and above the one before/],
  ['a nullary case that could be a pointer', [`types list ${sumList + 1} value 4096`], /nullary case 4096 is not below 4096/],
  ['a case that is not a tagged tuple', [`types list ${sumList + 2} value ${exsumNode(Tag.Int).index}`], /case 0 is not a tuple/],
  ['an existential binding no scope', ['types node first:14 a 0'], /an existential binds a scope/],
  ['an existential binding a scope bound already', ['types node first:14 a 1'], /already bound|exactly one word variable/],
  ['a coercion of an unknown kind', ['types coerce 0 op 2'], /operation 2 is neither 0 \(pack\) nor 1 \(unpack\)/],
  ['a coercion of esp', ['types coerce 0 reg 4'], /register 4 is not one of/],
  ['an unpack with a type', ['types coerce 1 type 0'], /a pack gives a type \(and perhaps a witness\), an unpack neither/],
  ['a pack without a type', ['types coerce 0 type 0xffffffff'], /a pack gives a type/],
  ['a pack whose type is a stack type', [`types coerce 0 type ${exsumNode(Tag.SVar).index}`], /is not a word type node/],
  ['coercions out of order', ['types coerce 1 addr 0'], /below the previous one's/],
  ['a coercion inside an instruction', ['types coerce 0 addr +1', 'types coerce 1 addr +1'], /not at the start of an instruction/],
  ['a header counting a coercion the section has no room for', ['types header coerce +1'], /the header's counts make/],
];

for (const [what, mutations, why] of EXSUM_MALFORMED) {
  test(`refused as annotation: ${what}`, t => {
    let elf = exsumBase;
    for (const m of mutations) elf = applyMutation(elf, m);
    const r = checkElf(elf);
    if (r.ok) return t.fail('accepted');
    t.is(r.error.cls, 'annotation', r.error.message);
    t.regex(r.error.message, why);
  });
}
