// The lexer (moo): Popcorn's tokens with their positions. Whitespace and comments are dropped here, so the grammar
// sees only meaningful tokens. The preprocessor (preprocess.ts) runs first and leaves no directive; `#include "file"`
// (and `<file>`) is still one token so that a library file parsed as written (library.ts's index) keeps its includes.

import moo from 'moo';
import type { Pos } from './ast.ts';
import type { DiagnosticDef } from './diagnostics.ts';

export const KEYWORDS = [
  'int', 'unsigned', 'bool', 'boolean', 'char', 'string', 'void', 'struct', 'if', 'else', 'while', 'for', 'do',
  'switch', 'case', 'default', 'break', 'continue', 'return', 'new', 'null', 'true', 'false', 'open', 'namespace',
  'const', 'static', 'extern', 'exception', 'raise', 'try', 'handle', 'union',
  // Popcorn's sub-word integers and the old spelling of namespace (docs/popcorn.md §Types, §Declarations).
  'short', 'byte', 'signed', 'prefix', 'abstract', 'fun',
] as const;

const rules: moo.Rules = {
  ws: { match: /[ \t\r\n]+/, lineBreaks: true },
  comment: /\/\/[^\n]*/,
  blockComment: { match: /\/\*[^]*?\*\//, lineBreaks: true },
  directive: /#include[ \t]*(?:"[^"\n]*"|<[^>\n]*>)/,
  optstruct: '?struct',
  number: /0[xX][0-9a-fA-F]+|[0-9]+/,
  charlit: /'(?:\\(?:x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)|[^'\\\n])'/,
  strlit: /"(?:\\(?:x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)|[^"\\\n])*"/,
  ident: { match: /[A-Za-z_][A-Za-z0-9_]*/, type: moo.keywords(Object.fromEntries(KEYWORDS.map(k => [k, k]))) },
  op: [
    '::', '>>>=', '<<=', '>>=', '>>>', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '++', '--', '&&', '||', '==', '!=',
    '<=', '>=', '<<', '>>', '->', '@',
    '=', '+', '-', '*', '/', '%', '&', '|', '^', '~', '!', '<', '>', '?', ':', ';', ',', '.', '(', ')', '[', ']', '{', '}',
  ],
  error: moo.error,
};

export interface Token { type: string; value: string; text: string; offset: number; line: number; col: number }

/** The lexer nearley drives: moo's, with whitespace and comments skipped. */
export function makeLexer(): moo.Lexer {
  const inner = moo.compile(rules);
  const skip = new Set(['ws', 'comment', 'blockComment']);
  const lexer: moo.Lexer = Object.create(inner);
  lexer.next = (): moo.Token | undefined => {
    for (;;) {
      const t = inner.next();
      if (!t || !skip.has(t.type ?? '')) return t;
    }
  };
  lexer.reset = (chunk?: string, state?: moo.LexerState) => { inner.reset(chunk, state); return lexer; };
  lexer.save = () => inner.save();
  lexer.formatError = (t: moo.Token, message?: string) => inner.formatError(t, message);
  lexer.has = (name: string) => inner.has(name) || name === 'op';
  return lexer;
}

/** A malformed literal, found while the grammar builds its AST node: the parser reports it as a diagnostic. */
export class LiteralError extends Error {
  constructor(readonly pos: Pos, readonly def: DiagnosticDef<[string]>, readonly why: string) {
    super(def.message(why));
  }
}

/** The value of a char or string literal's body with its escapes: \n \t \r \0 \\ \' \" \xHH \ooo. */
export function unescape(body: string): number[] | string {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c !== 92) {
      if (c > 0x7f) {
        for (const b of Buffer.from(body[i], 'utf8')) out.push(b);
      } else out.push(c);
      continue;
    }
    const e = body[++i];
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11,
      '?': 63 };
    if (e in simple) { out.push(simple[e]); continue; }
    if (e === 'x') {
      const m = /^[0-9a-fA-F]{1,2}/.exec(body.slice(i + 1));
      if (!m) return 'bad \\x escape';
      out.push(parseInt(m[0], 16));
      i += m[0].length;
      continue;
    }
    if (e >= '0' && e <= '7') {
      const m = /^[0-7]{1,3}/.exec(body.slice(i))!;
      const v = parseInt(m[0], 8);
      if (v > 255) return 'octal escape out of range';
      out.push(v);
      i += m[0].length - 1;
      continue;
    }
    return `unknown escape \\${e}`;
  }
  return out;
}
