// talas: errors are reported as file:line:col: message, all of them, in source order; and a few layout choices
// that the oracles do not reach (they compare single instructions).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble, AsmErrors } from '../../tal/asm/assembler.ts';
import { readElf, findSection } from '../../tal/elf.ts';

const HEAD = '.intel_syntax noprefix\n.tal_import exit\n.tal_label main : code[r:stack]{esp: r}\nmain:\n';

function errorsOf(src: string): string[] {
  try {
    assemble(src, 'bad.tal');
  } catch (e) {
    if (e instanceof AsmErrors) return e.errors.map(x => x.message);
    throw e;
  }
  return [];
}

const cases: [string, string, RegExp][] = [
  ['an unknown mnemonic', HEAD + '    frobnicate eax\n', /^bad\.tal:5:5: unknown instruction 'frobnicate'/],
  ['an undefined symbol', HEAD + '    jmp nowhere\n', /^bad\.tal:5:5: undefined symbol 'nowhere'/],
  ['bad operands', HEAD + '    mov eax, bl\n', /^bad\.tal:5:5: invalid operands for 'mov'/],
  ['a scale that does not exist', HEAD + '    mov eax, DWORD PTR [ebx+ecx*3]\n', /^bad\.tal:5:\d+: the scale must be 1, 2, 4 or 8/],
  ['a syntax error in a type', '.intel_syntax noprefix\n.tal_label main : code[r:stack]{esp: r\nmain:\n    ret\n', /^bad\.tal:2:1: \.tal_label: a bracket is never closed/],
  ['a label typed but not defined', HEAD + '    push 0\n    call DWORD PTR [exit]\n.tal_label ghost : code{}\n', /^bad\.tal:7:\d+: \.tal_label for 'ghost', which is not defined/],
  ['an unknown directive', HEAD + '    .frob 3\n', /^bad\.tal:5:\d+: /],
];

for (const [what, src, re] of cases) {
  test(`talas reports ${what} as file:line:col`, t => {
    const errs = errorsOf(src);
    t.true(errs.length >= 1, 'no error reported');
    t.regex(errs[0], re);
  });
}

test('talas reports every error of a file, in source order', t => {
  const errs = errorsOf(HEAD + '    frob\n    mov eax, [nowhere]\n    push 0\n    blah eax\n');
  t.is(errs.length, 3);
  t.deepEqual(errs.map(e => Number(e.split(':')[1])), [5, 6, 8]);
});

test('a valid program assembles without errors', t => {
  t.deepEqual(errorsOf(HEAD + '    push 0\n    call DWORD PTR [exit]\n'), []);
});

test('a branch to a bare number is encoded long, as GNU as does; a branch to a near label is relaxed to short', t => {
  const { elf } = assemble(HEAD + 'back:\n    jmp back\n    jmp 0x8048000\n    je back\n    je 0x8048000\n', 'b.tal');
  const img = readElf(elf);
  const text = findSection(img, '.text')!;
  const code = [...elf.slice(text.offset, text.offset + text.size)];
  t.deepEqual(code.slice(0, 2), [0xeb, 0xfe]);           // jmp back (short)
  t.is(code[2], 0xe9);                                    // jmp 0x8048000 (long)
  t.deepEqual(code.slice(7, 9), [0x74, 0xf7]);            // je back (short)
  t.deepEqual(code.slice(9, 11), [0x0f, 0x84]);           // je 0x8048000 (long)
});

test('the talas command prints the errors and exits 1, and writes an executable ELF on success', t => {
  const dir = mkdtempSync(join(tmpdir(), 'talas-'));
  try {
    const bad = join(dir, 'bad.tal');
    writeFileSync(bad, HEAD + '    frob\n');
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'talas.js'), bad, '-o', join(dir, 'bad')], { encoding: 'utf8' });
    t.is(r.status, 1);
    t.regex(r.stderr, /bad\.tal:5:5: unknown instruction 'frob'/);
    const good = join(dir, 'good.tal');
    writeFileSync(good, HEAD + '    push 7\n    call DWORD PTR [exit]\n');
    const g = spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'talas.js'), good, '-o', join(dir, 'good')], { encoding: 'utf8' });
    t.is(g.status, 0, g.stderr);
    t.is(readFileSync(join(dir, 'good'))[18], 3); // e_machine = EM_386
    const run = spawnSync(join(dir, 'good'));
    t.is(run.status, 7);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the talas command shows each error with its source line and a caret under the column', t => {
  const dir = mkdtempSync(join(tmpdir(), 'talas-caret-'));
  try {
    const bad = join(dir, 'caret.tal');
    writeFileSync(bad, HEAD + '    push 0\n    mov eax, [ebx+\n    call DWORD PTR [exit]\n');
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'talas.js'), bad, '-o', join(dir, 'x')],
      { encoding: 'utf8' });
    t.is(r.status, 1);
    const [first, quoted, caret] = r.stderr.split('\n');
    const m = /^.*caret\.tal:6:(\d+): /.exec(first);
    if (!m) return t.fail(r.stderr);
    t.is(quoted, '    6 |     mov eax, [ebx+');
    t.is(caret, `      | ${' '.repeat(Number(m[1]) - 1)}^`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// .tal_pack and .tal_unpack (docs/tal.md §5): their shape, their types (parsed in the block's scope), their place.
const COERCE_HEAD = '.intel_syntax noprefix\n.tal_import exit\n.text\n.tal_label main : code[r:stack]{esp: r}\nmain:\n';
const coerceCases: [string, string, RegExp][] = [
  ['a pack of esp', '    .tal_pack esp, exists[a] a\n    push 0\n', /^bad\.tal:6:\d+: \.tal_pack REG, EXISTENTIAL_TYPE\[, WITNESS\]/],
  ['a pack without a type', '    .tal_pack eax\n    push 0\n', /^bad\.tal:6:\d+: \.tal_pack REG, EXISTENTIAL_TYPE/],
  ['a pack with four parts', '    .tal_pack eax, exists[a] a, int, int\n    push 0\n', /^bad\.tal:6:\d+: \.tal_pack REG/],
  ['an unpack with a type', '    .tal_unpack eax, int\n    push 0\n', /^bad\.tal:6:\d+: \.tal_unpack REG$/],
  ['a pack to a type that is not an existential', '    .tal_pack eax, *[int^r]\n    push 0\n',
    /^bad\.tal:6:\d+: in \.tal_pack: \.tal_pack needs an existential type/],
  ['a witness that is not a type', '    .tal_pack eax, exists[a] a, frob\n    push 0\n', /^bad\.tal:6:\d+: in \.tal_pack: unknown type 'frob'/],
  ['a variable that is not the block\'s', '    .tal_pack eax, exists[a] a, q\n    push 0\n', /unknown type 'q'/],
  ['a pack with no instruction after it', '    push 0\n    call DWORD PTR [exit]\n    .tal_pack eax, exists[a] a\n',
    /^bad\.tal:8:\d+: \.tal_pack with no instruction after it/],
  ['a pack in the data section', '    push 0\n.data\n    .tal_pack eax, exists[a] a\n', /belongs right before an instruction in \.text/],
  ['a sum case that is not a tagged tuple', '    .tal_pack eax, exists[a] sum{*[int^r]}\n    push 0\n',
    /a case with values is a tuple \*\[S\(tag\)\^r, …\] whose field 0 is its tag/],
  ['a nullary case that could be a pointer', '    .tal_pack eax, exists[a] sum{4096}\n    push 0\n', /a nullary case is an integer 0 … 4095, not 4096/],
  ['two cases with one tag', '    .tal_pack eax, exists[a] sum{*[S(1)^r], *[S(1)^r, int^r]}\n    push 0\n', /two cases have the tag 1/],
  ['an existential over a stack variable', '    .tal_pack eax, exists[s:stack] int\n    push 0\n', /an existential binds word type variables only/],
];
for (const [what, body, re] of coerceCases) {
  test(`talas reports ${what}`, t => {
    const errs = errorsOf(COERCE_HEAD + body);
    t.true(errs.length >= 1, 'no error reported');
    t.regex(errs[0], re);
  });
}

// The keywords are keywords only before their bracket (popc names a type after a Popcorn struct, which may be `sum`).
test('a pack may name its block\'s own type variables, and the names sum and exists stay usable', t => {
  const src = '.intel_syntax noprefix\n.tal_import exit\n.tal_type sum = *[int^r]\n.text\n' +
    '.tal_label main : code[r:stack]{esp: r}\nmain:\n    mov eax, OFFSET cell\n    jmp f\n' +
    '.tal_label f : code[r:stack, exists]{eax: exists, esp: r}\nf:\n    .tal_pack eax, exists[b] b, exists\n' +
    '    push 0\n    call DWORD PTR [exit]\n.data\n.tal_label cell : sum\ncell: .long 1\n';
  t.deepEqual(errorsOf(src), []);
});
