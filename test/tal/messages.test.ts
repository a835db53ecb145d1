// The checker's refusals in the source's language (tal/messages.ts, tal/lines.ts): a refused instruction named by its
// .tal line (or its .pop line, for popc's output) with the line itself, imports and labels by name, through talcheck
// and talrun --kernel as a user runs them; talas's warning for a jump to a label without a type; and the line
// table's reader, which is fed the executable's bytes and so must never throw, whatever they are.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { assemble, AsmErrors } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { decodeLineTable, encodeLineTable, lineAt, lineTableOf, LINES_SECTION, symbolsOf } from '../../tal/lines.ts';
import { formatRefusal } from '../../tal/messages.ts';
import { scratch } from '../util/native.ts';
import { compile } from '../../compiler/popc.ts';

const root = join(import.meta.dirname, '..', '..');
const tmp = scratch('ktal-messages-');
test.after.always(() => tmp.done());

function node(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin', cmd), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// write's count is missing: refused at the call (import-args), line 11.
const IMPORT_ARGS = `# calls write with its count missing
.intel_syntax noprefix
.tal_import write, exit

.text
.tal_label main : code[r:stack]{esp: r}
main:
    push 0                          # offset into the buffer
    push OFFSET greeting            # the buffer
    push 1                          # fd: stdout
    call DWORD PTR [write]
    add esp, 12
    push 0
    call DWORD PTR [exit]

.section .rodata
.tal_label greeting : *rbytes
greeting:
    .tal_bytes "Hello, world!\\n"
`;

// The loop's head has no .tal_label: the jump back (line 11) is refused (bad-target).
const UNTYPED_LABEL = `# a loop whose head has no type
.intel_syntax noprefix
.tal_import exit

.text
.tal_label main : code[r:stack]{esp: r}
main:
    mov ecx, 10
loop_top:
    dec ecx
    jnz loop_top
    push 0
    call DWORD PTR [exit]
`;

/** Assemble `text` as `name`.tal in the scratch directory with the talas command; the executable's path. */
function talas(name: string, text: string): { exe: string; src: string; stderr: string; status: number | null } {
  const src = tmp.file(`${name}.tal`, text);
  const exe = join(tmp.dir, name);
  const r = node('talas.js', [src, '-o', exe]);
  return { exe, src, stderr: r.stderr, status: r.status };
}

test('talcheck: a refused call names its .tal line, shows it, and the import by name', t => {
  const { exe, src, status } = talas('imports', IMPORT_ARGS);
  t.is(status, 0);
  const r = node('talcheck.js', [exe]);
  t.is(r.status, 1);
  const lines = r.stderr.split('\n');
  t.is(lines[0], `${src}:11: refused [import-args]: write takes 4 arguments but the stack has only 3`);
  t.is(lines[1], '    11 |     call DWORD PTR [write]');
  t.regex(lines[2], new RegExp(`^  ${exe}: at 0x[0-9a-f]+ \\(file offset 0x[0-9a-f]+\\) in block 'main'$`));
  t.is(lines[3], '  instruction: call DWORD PTR [write]');
  t.is(lines[4], '  expected:    int');
  t.is(lines[5], '  actual:      r');
});

test('talas warns of a jump to a label without a type; talcheck names the label and the line', t => {
  const { exe, src, stderr, status } = talas('untyped', UNTYPED_LABEL);
  t.is(status, 0); // a warning, not an error: the file is written
  t.is(stderr, `${src}:11:9: warning: jump to 'loop_top', which has no .tal_label type: the checker will refuse it\n` +
    '   11 |     jnz loop_top\n' +
    '      |         ^\n');
  const r = node('talcheck.js', [exe]);
  t.is(r.status, 1);
  const lines = r.stderr.split('\n');
  const why = "is label 'loop_top', which has no \\.tal_label type";
  t.regex(lines[0], new RegExp(`^${src}:11: refused \\[bad-target\\]: jump target 0x[0-9a-f]+ ${why}$`));
  t.is(lines[1], '    11 |     jnz loop_top');
  t.regex(lines[2], /in block 'main'$/);
  t.is(lines[3], '  instruction: jne loop_top');
});

test('talrun --kernel: the loader prints the same refusal, at the .tal line, with names', t => {
  const imports = talas('k-imports', IMPORT_ARGS);
  const r = node('talrun.js', ['--kernel', imports.exe]);
  t.is(r.status, 126);
  t.is(r.stdout, '');
  const lines = r.stderr.split('\n');
  t.is(lines[0], `talrun: ${imports.src}:11: refused [import-args]: write takes 4 arguments but the stack has only 3`);
  t.is(lines[1], '    11 |     call DWORD PTR [write]');
  t.regex(lines[2], /: at 0x[0-9a-f]+ \(file offset 0x[0-9a-f]+\) in block 'main'$/);
  t.is(lines[3], '  instruction: call DWORD PTR [write]');
  t.regex(r.stderr, /refused by the checker: not run in kernel mode\n$/);
  const untyped = talas('k-untyped', UNTYPED_LABEL);
  const u = node('talrun.js', ['--kernel', untyped.exe]);
  t.is(u.status, 126);
  t.regex(u.stderr, new RegExp(`^talrun: ${untyped.src}:11: refused \\[bad-target\\]: .*label 'loop_top'`));
  t.regex(u.stderr, /\n {2}instruction: jne loop_top\n/);
});

test('the source gone: the refusal still names its line, without quoting it; no line table: the old form', t => {
  const { exe, src } = talas('gone', IMPORT_ARGS);
  rmSync(src);
  const r = node('talcheck.js', [exe]);
  const lines = r.stderr.split('\n');
  t.is(lines[0], `${src}:11: refused [import-args]: write takes 4 arguments but the stack has only 3`);
  t.regex(lines[1], /^ {2}.*: at 0x/);
  // A line table that is not one (its magic broken): the checker's own form, the names still from .symtab.
  const elf = assemble(IMPORT_ARGS, 'x.tal').elf;
  const c = checkElf(elf);
  if (c.ok) return t.fail('accepted');
  const broken = elf.slice();
  const at = Buffer.from(broken).indexOf('TALLINES');
  t.true(at > 0);
  broken[at] ^= 0xff;
  t.is(lineTableOf(broken), undefined);
  const text = formatRefusal('x', c.error, broken);
  t.regex(text, /^x: refused \[import-args\] at 0x[0-9a-f]+ \(file offset 0x[0-9a-f]+\) in block 'main': write takes/);
  t.regex(text, /instruction: call DWORD PTR \[write\]/);
});

test('assemble() returns the warnings as data, and writes the executable', t => {
  const r = assemble(UNTYPED_LABEL, 'u.tal');
  t.deepEqual(r.warnings.map(w => [w.file, w.line, w.col, w.msg]),
    [['u.tal', 11, 9, "jump to 'loop_top', which has no .tal_label type: the checker will refuse it"]]);
  t.true(r.elf.length > 0);
  // A typed target, a call through an import and a jump to a typed label give none.
  t.deepEqual(assemble(IMPORT_ARGS, 'i.tal').warnings, []);
});

test('the checker does not read .tal.lines: garbage there changes no verdict', t => {
  for (const text of [IMPORT_ARGS, UNTYPED_LABEL]) {
    const elf = assemble(text, 'g.tal').elf;
    const before = checkElf(elf);
    const g = elf.slice();
    const at = Buffer.from(g).indexOf('TALLINES');
    for (let i = at; i < g.length && i < at + 40; i++) g[i] = (i * 97) & 0xff;
    const after = checkElf(g);
    t.is(after.ok, before.ok);
    if (!after.ok && !before.ok) t.deepEqual({ ...after.error, fileOffset: 0 }, { ...before.error, fileOffset: 0 });
  }
  const exit = '.tal_import exit\n.tal_label main : code[r:stack]{esp: r}\nmain:\n push 0\n call DWORD PTR [exit]\n';
  const hello = assemble(exit).elf;
  t.true(checkElf(hello).ok);
  t.true(symbolsOf(hello).size > 0);
  t.is(LINES_SECTION, '.tal.lines');
});

test('.tal_loc: the following instructions come from another file (a compiler\'s source) until .tal_loc alone', t => {
  const text = `.tal_import exit
.tal_label main : code[r:stack]{esp: r}
main:
.tal_loc "prog.pop" 40
    push 0
    push 1
.tal_loc "prog.pop" 7
    add esp, 4
.tal_loc
    call DWORD PTR [exit]
`;
  const { elf } = assemble(text, 'l.tal');
  const table = lineTableOf(elf);
  if (!table) return t.fail('no line table');
  t.deepEqual(table.files, ['prog.pop', 'l.tal']);
  t.deepEqual(table.rows.map(r => [table.files[r.file], r.line]), [['prog.pop', 40], ['prog.pop', 7], ['l.tal', 10]]);
  const base = table.rows[0].addr;
  t.deepEqual(lineAt(table, base + 2), { file: 'prog.pop', line: 40 }); // push 0 (2 bytes), then push 1: one row
  t.is(lineAt(table, base - 1), undefined);
  for (const bad of ['.tal_loc prog.pop 3', '.tal_loc "prog.pop"', '.tal_loc "prog.pop" 0', '.tal_loc "" 3']) {
    const e = t.throws(() => assemble(`${bad}\n${text}`, 'b.tal'), { instanceOf: AsmErrors });
    t.regex(e?.message ?? '', /^b\.tal:1:\d+: \.tal_loc/);
  }
});

test('the line table round-trips: lines back and forth, large steps, many files', t => {
  const locs = [
    { addr: 0x8048100, loc: { file: 'a.tal', line: 1 } },
    { addr: 0x8048102, loc: { file: 'a.tal', line: 1 } },
    { addr: 0x8048105, loc: { file: 'b.pop', line: 100000 } },
    { addr: 0x8049000, loc: { file: 'a.tal', line: 3 } },
    { addr: 0x8049001, loc: { file: 'ü.pop', line: 0x7fffffff } },
  ];
  const table = decodeLineTable(encodeLineTable(0x8048100, locs));
  if (!table) return t.fail('not read back');
  t.deepEqual(table.files, ['a.tal', 'b.pop', 'ü.pop']);
  t.deepEqual(table.rows.map(r => [r.addr, r.file, r.line]),
    [[0x8048100, 0, 1], [0x8048105, 1, 100000], [0x8049000, 0, 3], [0x8049001, 2, 0x7fffffff]]);
  t.deepEqual(lineAt(table, 0x8048fff), { file: 'b.pop', line: 100000 });
  t.deepEqual(decodeLineTable(encodeLineTable(0x8048000, [])), { files: [], rows: [] });
});

test('the readers never throw: truncations, every bit flipped, random bytes, and whole damaged executables', t => {
  const { elf } = assemble(IMPORT_ARGS, 'imports.tal');
  const c = checkElf(elf);
  if (c.ok) return t.fail('accepted');
  const good = encodeLineTable(0x8048100, [
    { addr: 0x8048100, loc: { file: 'a.tal', line: 5 } },
    { addr: 0x8048180, loc: { file: 'b.pop', line: 2 } },
  ]);
  let decoded = 0;
  const tryAll = (bytes: Uint8Array) => {
    const r = decodeLineTable(bytes);
    if (r) {
      decoded++;
      for (const row of r.rows) t.true(row.line >= 1 && row.file < r.files.length);
      lineAt(r, 0x8048150);
    }
  };
  for (let n = 0; n < good.length; n++) t.is(decodeLineTable(good.subarray(0, n)), undefined, `truncated to ${n}`);
  for (let i = 0; i < good.length * 8; i++) {
    const b = good.slice();
    b[i >> 3] ^= 1 << (i & 7);
    t.notThrows(() => tryAll(b));
  }
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let k = 0; k < 2000; k++) {
    const b = Uint8Array.from({ length: (k % 2 ? 12 : 1) + (rnd() % 64) }, rnd);
    if (k % 2) b.set(good.subarray(0, 8)); // past the magic, into the counts
    if (k % 4 === 1) b.set([1, 0, 0, 0], 8); // the right version too
    t.notThrows(() => tryAll(b));
  }
  t.true(decoded > 0); // some damage still reads (a line changed), and is used only for a message
  // The whole executable damaged, byte by byte through the headers and at random: the printer still prints.
  for (let k = 0; k < 600; k++) {
    const b = elf.slice();
    const at = k < 300 ? k % 52 + Math.floor(k / 52) * 977 % b.length : (rnd() << 8 | rnd()) % b.length;
    b[at] = rnd();
    t.notThrows(() => {
      lineTableOf(b);
      symbolsOf(b);
      t.regex(formatRefusal('x', c.error, b), /refused \[import-args\]/);
    });
  }
  for (let n = 0; n < elf.length; n += 7) t.notThrows(() => formatRefusal('x', c.error, elf.subarray(0, n)));
  t.notThrows(() => formatRefusal('x', c.error, new Uint8Array(0)));
});

// A popc program whose output the checker refuses (a popc bug, made here by corrupting the TAL popc writes): the
// refusal names the .pop line (popc writes .tal_loc before each statement's instructions) and quotes it.
const POP = `// sums 1..10
#include "core.h"
open Core;

void pop_main() {
  int total = 0;
  for (int i = 1; i <= 10; i++)
    total = total + i;
  print_int(total);
  print_newline();
  flush();
}
`;

test('a refusal of popc\'s output names its .pop line and quotes it (talcheck, talrun --kernel)', t => {
  const src = tmp.file('sum.pop', POP);
  const r = compile(POP, src);
  if (!r.tal || !r.elf) return t.fail(JSON.stringify(r.diagnostics));
  t.true(checkElf(r.elf).ok);
  t.true(lineTableOf(r.elf)?.files.includes(src));
  // The loop's body is line 8: a load through an integer slipped in before its instructions.
  const loc = `.tal_loc ${JSON.stringify(src)} 8\n`;
  t.true(r.tal.includes(loc), 'popc writes the statement\'s line');
  const bad = r.tal.replace(loc, `${loc}    mov eax, 5\n    mov eax, DWORD PTR [eax]\n`);
  const exe = tmp.file('sum', assemble(bad, `${src}.tal`).elf, 0o755);
  const c = node('talcheck.js', [exe]);
  t.is(c.status, 1);
  const lines = c.stderr.split('\n');
  t.regex(lines[0], new RegExp(`^${src}:8: refused \\[not-a-pointer\\]: `));
  t.is(lines[1], '     8 |     total = total + i;');
  t.regex(lines[2], /in block 'f_pop_main|in block 'L/);
  t.is(lines[3], '  instruction: mov eax,DWORD PTR [eax]');
  const k = node('talrun.js', ['--kernel', exe]);
  t.is(k.status, 126);
  t.true(k.stderr.startsWith(`talrun: ${lines[0]}\n${lines[1]}\n`), k.stderr);
});
