// The checker's throughput: checkElf over a generated program (bench/gen.ts), timed by benny.
import b from 'benny';
import { assemble } from '../tal/asm/assembler.ts';
import { checkElf } from '../tal/check/checker.ts';
import { generateProgram } from './gen.ts';

export interface CheckerFigures { codeBytes: number; checkerMBps: number; talasSeconds: number }

export async function checkerSuite(quick: boolean, saveDir?: string): Promise<CheckerFigures> {
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
    ...(quick || !saveDir ? [] : [b.save({ file: 'checker', folder: saveDir, format: 'json' })]),
  );
  const mbPerSec = (codeBytes * opsPerSec) / 1e6;
  console.log(`checker throughput: ${mbPerSec.toFixed(1)} MB/s of code (${codeBytes} bytes; talas took ${(asmMs / 1000).toFixed(1)} s to assemble it)`);
  return { codeBytes, checkerMBps: mbPerSec, talasSeconds: asmMs / 1000 };
}
