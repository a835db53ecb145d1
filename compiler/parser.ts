// The parser: nearley over the grammar in grammar.ne (compiled to grammar.ts). Syntax errors become diagnostics at
// the offending token; an ambiguous parse is an internal error (the grammar is meant to be unambiguous).

import nearley from 'nearley';
import grammar from './grammar.ts';
import type { Decl, Pos } from './ast.ts';
import { Diagnostics } from './diagnostics.ts';

interface LexError { token?: { line: number; col: number; value: string; type?: string }; offset?: number; message: string }

/** Parse one source file; syntax errors are added to `diags` (and give no declarations). */
export function parseFile(text: string, file: string, diags: Diagnostics): Decl[] {
  const parser = new nearley.Parser(nearley.Grammar.fromCompiled(grammar));
  try {
    parser.feed(text);
  } catch (e) {
    const err = e as LexError & { popcPos?: Pos };
    if (err.popcPos) {
      diags.error(file, err.popcPos, err.message);
    } else if (err.token) {
      const t = err.token;
      const what = t.type === 'error' ? `unexpected character ${JSON.stringify(t.value[0])}` : `syntax error at ${JSON.stringify(t.value)}`;
      diags.error(file, { line: t.line, col: t.col }, what);
    } else {
      // moo's own error for an unlexable character: "invalid syntax at line L col C".
      const m = /line (\d+) col (\d+)/.exec(err.message);
      diags.error(file, m ? { line: Number(m[1]), col: Number(m[2]) } : { line: 1, col: 1 }, 'invalid character');
    }
    return [];
  }
  if (parser.results.length === 0) {
    const lines = text.split('\n');
    diags.error(file, { line: lines.length, col: lines[lines.length - 1].length + 1 }, 'unexpected end of file');
    return [];
  }
  if (parser.results.length > 1) throw new Error(`internal: ${file}: the grammar is ambiguous here (${parser.results.length} parses)`);
  return parser.results[0] as Decl[];
}
