// The red team's programs against speed3's checker changes (test/red/speed.md, "speed3"; the programs in
// test/red/speed3/programs.ts): the non-null type a null test builds field by field keeps what the nullable type
// said (read-only bytes and fields, ^u fields, element types, a named recursive type); the field and element
// locations, one shared object each, are never confused when two memory operands are located in turn (push then pop,
// a load between a bounds check and its jae, an element load then a store into another object); the jump memo,
// which compares only the registers a target names, never lets a second jump pass for a first (a register the target
// names changed, the stack changed, a bounds fact or a null test on one path only); a label inside an instruction is
// found whatever the block and the direction of the jump to it. Each verdict was the same under the checker before
// speed3 (ea71763; test/red/speed3/targeted.ts compares the two).
import test from 'ava';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { PROGRAMS } from '../red/speed3/programs.ts';

for (const p of PROGRAMS) {
  test(`${p.name}: ${p.expect}`, t => {
    const r = checkElf(assemble(p.src, 'red-speed3.tal').elf);
    t.is(r.ok ? 'ok' : r.error.cls, p.expect, r.ok ? 'accepted' : r.error.message);
  });
}
