// The decoder's two entry points (tal/x86/decode.ts): decodeShared, which the checker's pass calls, decodes into
// objects reused by every call; decode copies them into objects of the caller's own. Over every instruction of the
// hand-written examples: both say the same thing (the same fields, the same objdump text), and what decode returned
// is not changed by any decode after it.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { readProgram } from '../../tal/check/program.ts';
import { decode, decodeShared } from '../../tal/x86/decode.ts';
import { formatInsn } from '../../tal/x86/format.ts';
import { type Insn, type Operand, isRefusal } from '../../tal/x86/insn.ts';

const examples = join(import.meta.dirname, '..', '..', 'tal', 'examples');

/** Plain data of an instruction (decodeShared's immediates always say whether they are implied; decode's only if so). */
function plain(d: Insn): unknown {
  const op = (o: Operand) => (o.kind === 'imm' && !o.implied ? { kind: 'imm', value: o.value } : { ...o });
  return { address: d.address, length: d.length, op: d.op, cc: d.cc, operands: d.operands.map(op) };
}

test('decode and decodeShared agree on every instruction of the examples, and decode\'s results stay as they were',
  t => {
  let count = 0;
  for (const f of readdirSync(examples).filter(n => n.endsWith('.tal')).sort()) {
    const { text, textAddr } = readProgram(assemble(readFileSync(join(examples, f), 'utf8'), f).elf);
    const kept: { insn: Insn; copy: unknown }[] = [];
    for (let off = 0; off < text.length;) {
      const own = decode(text, off, textAddr + off);
      if (isRefusal(own)) { off += own.length; continue; }
      kept.push({ insn: own, copy: structuredClone(plain(own)) });
      const shared = decodeShared(text, off, textAddr + off);
      if (isRefusal(shared)) { t.fail(`${f}+${off}: decodeShared refuses what decode accepts`); break; }
      t.deepEqual(plain(shared), plain(own), `${f}+${off}`);
      t.is(formatInsn(shared), formatInsn(own), `${f}+${off}`);
      off += own.length;
      count++;
    }
    // Every later decode (shared or not) has overwritten the shared objects many times since.
    for (const k of kept) t.deepEqual(plain(k.insn), k.copy, `${f}: an instruction decode returned changed afterwards`);
  }
  t.true(count > 500, `${count} instructions`);
});
