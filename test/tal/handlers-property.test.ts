// Exception handlers (typed stack pointers, docs/tal.md §4.10), as properties over generated programs
// (test/util/handlergen.ts): every program built well typed by construction (a handler frame in main, a chain of
// frames, a raise from any depth) is accepted, and ends natively, in user mode and at CPL 0 with the exit status its
// plan computes; every mutant of one the checker still accepts runs at CPL 0 without harm: no fault (#PF, #GP, #UD, a
// double fault: a wrong esp at CPL 0 is one of these), no kernel panic. Mutants may exit with another status or loop.
import test from 'ava';
import fc from 'fast-check';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { findSection, readElf } from '../../tal/elf.ts';
import { runProgram } from '../../kernel/talrun.ts';
import { fromGen } from '../util/popgen.ts';
import { handlerMutant, handlerProgram } from '../util/handlergen.ts';
import { runNative, scratch } from '../util/native.ts';

test('generated programs with handlers verify, and end as planned natively, in user mode and at CPL 0', t => {
  const s = scratch('ktal-handlers-');
  let raised = 0;
  try {
    fc.assert(
      fc.property(fc.gen(), g => {
        const p = handlerProgram(fromGen(g));
        const { elf } = assemble(p.source, 'gen.tal');
        const c = checkElf(elf);
        if (!c.ok) throw new Error(`refused [${c.error.cls}] ${c.error.message} at ${c.error.insn ?? ''}\n${p.source}`);
        if (p.raisedThrough > 0) raised++;
        const native = runNative(s.file('gen', elf, 0o755));
        if (native.status !== p.status) {
          throw new Error(`natively: status ${native.status}, planned ${p.status}\n${p.source}`);
        }
        for (const kernel of [false, true]) {
          const r = runProgram(elf, ['gen'], { kernel, maxInstructions: 1e6 });
          if (r.kernelExit !== 'done' || r.signal !== null || r.status !== p.status) {
            throw new Error(`${kernel ? 'CPL 0' : 'user mode'}: ${r.kernelExit}, status ${r.status} ` +
              `${r.signal ?? ''}, planned ${p.status}\n${p.source}`);
          }
        }
        return true;
      }),
      { numRuns: 20, seed: 20261202 },
    );
  } finally {
    s.done();
  }
  t.true(raised >= 5, `only ${raised} of the programs raised: the property was hardly exercised`);
});

/** Faults a verified program must never take at CPL 0 (a wrong esp or a forged pointer is one of these). */
const HARM = new Set(['SIGSEGV', 'SIGILL', 'SIGTRAP', 'SIGBUS']);

test('mutants of generated handler programs that the checker accepts run at CPL 0 without harm', t => {
  let accepted = 0, refused = 0;
  const classes = new Map<string, number>();
  fc.assert(
    fc.property(fc.gen(), g => {
      const rand = fromGen(g);
      const p = handlerProgram(rand);
      let elf: Uint8Array;
      try {
        elf = assemble(handlerMutant(p.source, rand), 'mutant.tal').elf;
      } catch {
        return true; // a mutant talas cannot assemble (e.g. a duplicated label) is not a program
      }
      // Some mutants also get a byte of their code flipped (the sptr rules at the level of the bytes).
      if (rand.int(0, 2) === 0) {
        const text = findSection(readElf(elf), '.text')!;
        elf[text.offset + rand.int(0, text.size - 1)] = rand.int(0, 255);
      }
      const c = checkElf(elf);
      if (!c.ok) {
        refused++;
        classes.set(c.error.cls, (classes.get(c.error.cls) ?? 0) + 1);
        return true;
      }
      accepted++;
      const r = runProgram(elf, ['mutant'], { kernel: true, maxInstructions: 1e6 });
      if (r.kernelExit === 'panic' || (r.signal !== null && HARM.has(r.signal))) {
        throw new Error(`accepted but harmful at CPL 0: ${r.kernelExit}, ${r.signal ?? ''} ` +
          `${r.exit?.fault ?? ''} ${r.message ?? ''}`);
      }
      return true;
    }),
    { numRuns: 120, seed: 20261203 },
  );
  const byClass = [...classes].map(([k, n]) => `${k} ${n}`).join(', ');
  t.log(`${accepted} accepted mutants ran at CPL 0; ${refused} refused (${byClass})`);
  t.true(accepted >= 10 && refused >= 30, `accepted ${accepted}, refused ${refused}: hardly exercised`);
  const sptrRules = (classes.get('stack-pointer') ?? 0) + (classes.get('pointer-arith') ?? 0);
  t.true(sptrRules >= 5, `only ${sptrRules} mutants met the sptr rules`);
});
