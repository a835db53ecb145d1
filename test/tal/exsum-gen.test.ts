// Existentials and tagged sums, by construction (test/util/exsumgen.ts): random well-typed programs with a random sum
// type, its values, a walker that switches on the tags, and closures over three environment types packed and opened.
// Each is accepted by the checker and, run at CPL 0 under the kernel, exits with what the generator computed on its
// own. Then their mutants (bytes of .text changed at random): every one the checker still accepts runs at CPL 0
// without harm — no fault, no panic, the machine still up (docs/tal.md §8 lists what types do not exclude: SIGFPE,
// the allocator's SIGABRT; a mutant may also loop until the instruction budget).
import test from 'ava';
import fc from 'fast-check';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { readElf, findSection } from '../../tal/elf.ts';
import { runProgram } from '../../kernel/talrun.ts';
import { buildExSum, specArb } from '../util/exsumgen.ts';

const LONG = !!process.env.KTAL_LONG;

test('generated programs with packages and tag tests are accepted and exit at CPL 0 with the generator\'s sum', t => {
  let ran = 0;
  fc.assert(
    fc.property(specArb, spec => {
      const { source, status } = buildExSum(spec);
      const { elf } = assemble(source, 'gen.tal');
      const r = checkElf(elf);
      if (!r.ok) throw new Error(`refused [${r.error.cls}] ${r.error.message} at ${r.error.insn ?? ''}\n${source}`);
      const k = runProgram(elf, ['gen'], { kernel: true, maxInstructions: 3e6 });
      if (k.signal !== null || k.status !== status)
        throw new Error(`CPL 0: status ${k.status} ${k.signal ?? ''}, want ${status}\n${source}`);
      ran++;
    }),
    { numRuns: LONG ? 300 : 25, seed: 20261202 },
  );
  t.is(ran, LONG ? 300 : 25);
});

test('mutants of them that the checker accepts run at CPL 0 without harm', t => {
  let accepted = 0, refused = 0;
  const outcomes = new Map<string, number>();
  fc.assert(
    // A flip sets a byte, or (as often) nudges it by a little: immediates, displacements and tags off by a few are
    // the mutants a checker is likeliest to get wrong, and the likeliest to be accepted.
    fc.property(specArb, fc.array(fc.array(fc.tuple(fc.nat(), fc.integer({ min: -4, max: 255 })),
      { minLength: 1, maxLength: 2 }), { minLength: 40, maxLength: 40 }), (spec, mutations) => {
      const { source } = buildExSum(spec);
      const { elf } = assemble(source, 'gen.tal');
      const text = findSection(readElf(elf), '.text')!;
      for (const flips of mutations) {
        const bytes = Uint8Array.from(elf);
        for (const [pos, v] of flips) {
          const at = text.offset + (pos % text.size);
          bytes[at] = v < 0 ? bytes[at] + v : v & 1 ? bytes[at] + 1 + (v % 4) : v;
        }
        if (!checkElf(bytes).ok) { refused++; continue; }
        accepted++;
        const k = runProgram(bytes, ['gen'], { kernel: true, maxInstructions: 1e6 });
        const key = k.signal ?? (k.status === 124 ? 'limit' : 'exit');
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        const oom = k.signal === 'SIGABRT' && Buffer.from(k.stderr).toString().includes('tal: out of memory');
        const harmless = k.signal === null ? k.status !== 125 : k.signal === 'SIGFPE' || oom;
        if (!harmless) {
          throw new Error(`an accepted mutant ended with status ${k.status} ${k.signal ?? ''} ${k.message ?? ''}: ` +
            `flips ${JSON.stringify(flips)}\n${source}`);
        }
      }
    }),
    { numRuns: LONG ? 200 : 20, seed: 20261203 },
  );
  const counts = [...outcomes].map(([k, n]) => `${k} ${n}`).join(', ');
  t.log(`${accepted} accepted mutants ran at CPL 0 (${counts}), ${refused} refused`);
  t.true(accepted >= 10, `only ${accepted} mutants were accepted: the property was hardly exercised`);
});
