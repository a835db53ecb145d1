// What the optimiser's tests share (test/compiler/ir-*.test.ts): a function's instructions in popc's TAL text, and
// a program compiled at -O0 and -O2, both verified by the checker and run natively (the host CPU the oracle).
import type { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { compile } from '../../compiler/popc.ts';
import { checkElf } from '../../tal/check/checker.ts';
import type { scratch } from './native.ts';

/** The instructions of function `name` in popc's TAL text (labels, directives and stubs left out). */
export function functionBody(tal: string, name: string): string[] {
  const start = tal.indexOf(`\n${name}:`);
  const end = tal.indexOf('\n\n', start + 1);
  return tal.slice(start, end < 0 ? undefined : end).split('\n').map(l => l.trim())
    .filter(l => l && !l.endsWith(':') && !l.startsWith('.'));
}

/** functionBody without the failure stubs' lines (a check's message pushed, the jump to its routine). */
export function functionCode(tal: string, name: string): string[] {
  return functionBody(tal, name).filter(l => !/^(push OFFSET __popc_msg|jmp __popc_)/.test(l));
}

/**
 * Compiles `src` at -O0 and -O2, checks both (no diagnostic, verified), runs both natively in `bin` and expects
 * status 0; the two outputs and -O2's TAL.
 */
export function bothLevels(t: ExecutionContext, bin: ReturnType<typeof scratch>, src: string, name: string):
  { o0: string; o2: string; tal: string } {
  const outs = [0, 2].map(level => {
    const c = compile(src, `${name}.pop`, { optimise: level });
    t.deepEqual(c.diagnostics, []);
    const verdict = checkElf(c.elf!);
    t.true(verdict.ok, `-O${level} verifies${verdict.ok ? '' : `: ${verdict.error.message}`}`);
    const run = spawnSync(bin.file(`${name}-O${level}`, c.elf!, 0o755), [], { encoding: 'latin1', timeout: 10_000 });
    t.is(run.status, 0, run.stderr);
    return { out: run.stdout, tal: c.tal! };
  });
  return { o0: outs[0].out, o2: outs[1].out, tal: outs[1].tal };
}
