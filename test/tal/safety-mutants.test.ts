// The checker's promise, tested end to end: mutate the code of verified programs at random; every mutant the
// checker still accepts must run on the emulated machine without a memory or control-flow fault (no SIGSEGV from
// #PF or #GP, no SIGILL from #UD, no SIGTRAP). The only faults the types do not exclude are documented (docs/tal.md
// §8): a stack overflow into the guard region, idiv of INT_MIN by -1 (SIGFPE), and running out of memory (the
// runtime's allocator says "tal: out of memory" and aborts: a mutated size can ask for gigabytes). Those are allowed;
// mutants may also loop or print other things.
import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { readElf, findSection } from '../../tal/elf.ts';
import { runElf } from '../util/monitor.ts';

const dir = join(import.meta.dirname, '..', '..', 'tal', 'examples');
const programs = ['hello', 'echo', 'fib', 'sort', 'list', 'cat', 'iter', 'eval', 'bag'].map(name => {
  const { elf } = assemble(readFileSync(join(dir, `${name}.tal`), 'utf8'), `${name}.tal`);
  const text = findSection(readElf(elf), '.text')!;
  return { name, elf, textOffset: text.offset, textSize: text.size };
});

test('mutants of verified code that the checker accepts never fault on the machine', t => {
  let accepted = 0, refused = 0, ran = 0;
  const outcomes = new Map<string, number>();
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: programs.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
      (which, flips) => {
        const p = programs[which];
        const bytes = Uint8Array.from(p.elf);
        for (const [pos, v] of flips) bytes[p.textOffset + (pos % p.textSize)] = v;
        const r = checkElf(bytes);
        if (!r.ok) { refused++; return true; }
        accepted++;
        const run = runElf(bytes,
          { argv: [p.name, 'a', 'b'], stdin: new TextEncoder().encode('input\n'), maxInstructions: 2_000_000 });
        ran++;
        const key = run.signal ?? (run.exitCode === null ? 'limit' : 'exit');
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        const oom = run.signal === 'SIGABRT' && new TextDecoder().decode(run.stderr).includes('tal: out of memory');
        if (run.signal && run.signal !== 'SIGFPE' && !oom)
          throw new Error(`${p.name} with flips ${JSON.stringify(flips)} was accepted but died with ${run.signal}: ` +
            `${run.fault ?? ''}`);
        return true;
      },
    ),
    { numRuns: process.env.KTAL_LONG ? 20_000 : 1500, seed: 20261125 },
  );
  t.log(`${accepted} accepted mutants ran (${[...outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}), ${refused} ` +
    `refused`);
  t.true(ran > 20, `only ${ran} mutants were accepted: the property was hardly exercised`);
});
