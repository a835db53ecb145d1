// What the tests of compiler/raises.ts share (test/compiler/raises.test.ts, fnvalue-exceptions.test.ts): a
// one-file program parsed and checked, and the exception flow the whole-program analysis finds in it.
import { parseFile } from '../../compiler/parser.ts';
import { checkProgram } from '../../compiler/check.ts';
import { Diagnostics, formatDiagnostics } from '../../compiler/diagnostics.ts';
import { exceptionFlow } from '../../compiler/raises.ts';
import type { Checked } from '../../compiler/program.ts';

/** `src` parsed and checked as the file r.pop; a diagnostic is an error of the test, with its source line. */
export function checked(src: string): Checked {
  const diags = new Diagnostics();
  const decls = parseFile(src, 'r.pop', diags);
  const c = checkProgram([{ file: 'r.pop', decls }], diags);
  if (diags.count) throw new Error(formatDiagnostics(diags.sorted(), new Map([['r.pop', src]])));
  return c;
}

/** The names of the functions that may raise, and of those whose checks raise, sorted. */
export function flow(src: string): { raising: string[]; checks: string[] } {
  const f = exceptionFlow(checked(src));
  return { raising: [...f.raising].map(x => x.name).sort(), checks: [...f.checksRaise].map(x => x.name).sort() };
}
