// npm run bench: every performance figure of the project in one run. Today: the checker's throughput and the
// emulator's speed (emulated MIPS, and its wall time against the same programs run natively).
// Options: --quick (a small smoke run for CI).
import b from 'benny';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../tal/asm/assembler.ts';
import { checkElf } from '../tal/check/checker.ts';
import { generateProgram } from './gen.ts';
import { emulatorSuite } from './emulator.ts';

const quick = process.argv.includes('--quick');
const outDir = join(import.meta.dirname, 'out');
mkdirSync(outDir, { recursive: true });

async function checkerSuite(): Promise<Record<string, number>> {
  const functions = quick ? 500 : 20_000;
  const t0 = performance.now();
  const { elf } = assemble(generateProgram(functions), 'generated.tal');
  const asmMs = performance.now() - t0;
  const first = checkElf(elf);
  if (!first.ok) throw new Error(`the generated program is refused: ${first.error.message}`);
  const codeBytes = first.summary.codeBytes;
  let opsPerSec = 0;
  await b.suite(
    `checker: ${(codeBytes / 1e6).toFixed(2)} MB of code, ${first.summary.instructions} instructions, ${first.summary.blocks} blocks`,
    b.add('checkElf', () => {
      const r = checkElf(elf);
      if (!r.ok) throw new Error('refused');
    }),
    b.cycle(),
    b.complete(s => {
      opsPerSec = s.results[0].ops;
    }),
    ...(quick ? [] : [b.save({ file: 'checker', folder: outDir, format: 'json' })]),
  );
  const mbPerSec = (codeBytes * opsPerSec) / 1e6;
  console.log(`checker throughput: ${mbPerSec.toFixed(1)} MB/s of code (${codeBytes} bytes; talas took ${(asmMs / 1000).toFixed(1)} s to assemble it)`);
  return { codeBytes, checkerMBps: mbPerSec, talasSeconds: asmMs / 1000 };
}

const results = { checker: await checkerSuite(), emulator: emulatorSuite(quick) };
writeFileSync(join(outDir, quick ? 'results-quick.json' : 'results.json'), JSON.stringify(results, null, 2) + '\n');
