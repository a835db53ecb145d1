// taldump: each block's type above its code, the import table, and instruction text that objdump agrees with.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { readProgram } from '../../tal/check/program.ts';
import { dumpProgram } from '../../tal/dump.ts';
import { objdumpBytes } from '../util/binutils.ts';

const examples = join(import.meta.dirname, '..', '..', 'tal', 'examples');

for (const f of readdirSync(examples).filter(f => f.endsWith('.tal')).sort()) {
  test(`taldump of ${f}: types above blocks, imports, and objdump's text for every instruction`, t => {
    const src = readFileSync(join(examples, f), 'utf8');
    const { elf } = assemble(src, f);
    const p = readProgram(elf);
    const dump = dumpProgram(p);
    const lines = dump.split('\n');

    // Every code label appears once, with its type on the same line, right before its first instruction.
    for (const l of p.ann.code.values()) {
      const i = lines.findIndex(x => x.startsWith(`${l.name}:    # code`));
      t.true(i >= 0, `no header for ${l.name}`);
      // (An instantiation or a coercion at the label's address is a comment line between the two.)
      let j = i + 1;
      while (lines[j]?.startsWith('    # ')) j++;
      t.regex(lines[j] ?? '', new RegExp(`^  0*${l.addr.toString(16)}:`), `${l.name}'s first instruction`);
    }
    // The import table: each import with its slot and its type.
    for (const imp of p.imports) t.regex(dump, new RegExp(`slot 0x${imp.slot.toString(16)}  ${imp.name} +\\(`));

    // The instruction lines agree with objdump on address, length and text.
    const ours = lines
      .map(x => /^  ([0-9a-f]{8}):  ((?:[0-9a-f]{2} )*[0-9a-f]{2}) +(.*?)(?: {4}<.*>)?$/.exec(x))
      .filter((m): m is RegExpExecArray => m !== null)
      .map(m => ({ address: parseInt(m[1], 16), length: m[2].split(' ').length, text: m[3] }));
    const theirs = objdumpBytes(p.text, p.textAddr);
    t.true(ours.length > 5, `only ${ours.length} instruction lines parsed`);
    t.is(ours.length, theirs.length);
    t.deepEqual(ours, theirs);
  });
}

test('the taldump command prints the dump and exits 0, and refuses a non-ELF file with exit 1', t => {
  const dir = mkdtempSync(join(tmpdir(), 'taldump-'));
  try {
    const { elf } = assemble(readFileSync(join(examples, 'hello.tal'), 'utf8'), 'hello.tal');
    writeFileSync(join(dir, 'hello'), elf);
    writeFileSync(join(dir, 'junk'), 'not an executable');
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'taldump.js');
    const ok = spawnSync(process.execPath, [bin, join(dir, 'hello')], { encoding: 'utf8' });
    t.is(ok.status, 0, ok.stderr);
    t.regex(ok.stdout, /^main:    # code\[r:stack\]\{esp: r\}$/m);
    const bad = spawnSync(process.execPath, [bin, join(dir, 'junk')], { encoding: 'utf8' });
    t.is(bad.status, 1);
    t.regex(bad.stderr, /junk/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('taldump shows the coercions before the instruction they precede, and sums and existentials in their syntax',
  t => {
  const { elf } = assemble(readFileSync(join(examples, 'iter.tal'), 'utf8'), 'iter.tal');
  const dump = dumpProgram(readProgram(elf));
  const lines = dump.split('\n');
  const pack = lines.findIndex(x => x === '    # pack esi : clos with *bytes');
  t.true(pack >= 0, 'no pack line');
  t.regex(lines[pack + 1], /^ {2}[0-9a-f]{8}:  .*call/);
  const unpack = lines.findIndex(x => x === '    # unpack edi');
  t.regex(lines[unpack + 1], /mov {4}eax,DWORD PTR \[edi\+0x4\]|mov +eax,DWORD PTR \[edi\+0x4\]/);
  t.true(lines.includes('    # pack esi : clos'), 'the pack whose witness is found has no "with"');
  const evalDump = dumpProgram(readProgram(assemble(readFileSync(join(examples, 'eval.tal'), 'utf8'), 'eval.tal').elf));
  t.regex(evalDump, /ev_const: {4}# code\[r:stack\]\{ebx: sum\{0, 1\}, esp: eret<r> :: expr :: r\}/);
});
