// Robustness: random byte flips and truncations of valid executables never crash or hang the checker. Every answer
// is an acceptance or a refusal with a class, produced within a bounded time; none is an internal error.
import test from 'ava';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';

const dir = join(import.meta.dirname, '..', '..', 'tal', 'examples');
const elfs = readdirSync(dir).filter(f => f.endsWith('.tal')).sort().map(f => assemble(readFileSync(join(dir, f),
  'utf8'), f).elf);
const TIME_LIMIT_MS = 2000;

function checkOnce(bytes: Uint8Array): { ok: boolean; cls?: string; message?: string; ms: number } {
  const t0 = performance.now();
  const r = checkElf(bytes);
  const ms = performance.now() - t0;
  return r.ok ? { ok: true, ms } : { ok: false, cls: r.error.cls, message: r.error.message, ms };
}

function assertSane(r: ReturnType<typeof checkOnce>): boolean {
  if (r.ms > TIME_LIMIT_MS) throw new Error(`the checker took ${r.ms.toFixed(0)} ms`);
  if (!r.ok && /internal/.test(r.message ?? '')) throw new Error(`internal error: ${r.message}`);
  return true;
}

test('random byte flips never crash or hang the checker', t => {
  let refused = 0, accepted = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: elfs.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      (which, flips) => {
        const bytes = Uint8Array.from(elfs[which]);
        for (const [pos, v] of flips) bytes[pos % bytes.length] = v;
        const r = checkOnce(bytes);
        if (r.ok) accepted++; else refused++;
        return assertSane(r);
      },
    ),
    { numRuns: process.env.KTAL_LONG ? 100_000 : 3000, seed: 20261124 },
  );
  t.log(`${accepted} mutants accepted (flips in unchecked bytes such as .tal.rt or symbols), ${refused} refused`);
  t.true(refused > 0);
});

test('random flips inside the code and the annotations are refused or still well-typed', t => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: elfs.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 255 }),
      (which, pos, v) => {
      const bytes = Uint8Array.from(elfs[which]);
      // The first page holds the headers and the code.
      bytes[pos % Math.min(bytes.length, 4096)] = v;
      return assertSane(checkOnce(bytes));
    }),
    { numRuns: process.env.KTAL_LONG ? 50_000 : 2000, seed: 7 },
  );
  t.pass();
});

test('every truncation of an executable is refused cleanly', t => {
  const elf = elfs[0];
  for (let n = 0; n < elf.length; n += n < 256 ? 1 : 7) {
    const r = checkOnce(elf.slice(0, n));
    assertSane(r);
    t.false(r.ok, `truncated to ${n} bytes and accepted`);
  }
});
