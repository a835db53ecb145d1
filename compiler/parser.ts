// The parser: nearley over the grammar in grammar.ne (compiled to grammar.ts). A syntax error becomes one diagnostic
// that says what the grammar expected there, read from nearley's chart (the terminals the states of the column
// before the failing token wait for), folded into words a reader knows ("an expression", "a statement"). A missing
// ';' at a line's end is reported where it belongs, after the previous token, as gcc and clang do. An ambiguous
// parse is an internal error (the grammar is meant to be unambiguous).

import nearley from 'nearley';
import grammar from './grammar.ts';
import type { Decl, Pos } from './ast.ts';
import { Diag, type Diagnostics } from './diagnostics.ts';
import { KEYWORDS, LiteralError, makeLexer, type Token } from './lexer.ts';

interface NearleyError { token?: Token; message: string }
interface Symbol { literal?: string; type?: string }
interface State { rule: { name: string; symbols: (string | Symbol)[] }; dot: number }
interface Chart { table: { states: State[] }[]; current: number }

/** Parse one source file; syntax errors are added to `diags` (and give no declarations). */
export function parseFile(text: string, file: string, diags: Diagnostics): Decl[] {
  const parser = new nearley.Parser(nearley.Grammar.fromCompiled(grammar));
  try {
    parser.feed(text);
  } catch (e) {
    if (e instanceof LiteralError) diags.error(file, e.pos, e.def, e.why);
    else if ((e as NearleyError).token) syntaxError(text, file, diags, (e as NearleyError).token!, waiting(parser));
    else {
      // moo's own error for an unlexable character ("invalid syntax at line L col C"); the `error` token rule
      // should leave none, but a position is still better than none.
      const m = /line (\d+) col (\d+)/.exec((e as NearleyError).message);
      const pos = m ? { line: Number(m[1]), col: Number(m[2]) } : { line: 1, col: 1 };
      const char = text.split('\n')[pos.line - 1]?.[pos.col - 1] ?? '';
      diags.error(file, pos, Diag.UnexpectedCharacter, JSON.stringify(char));
    }
    return [];
  }
  if (parser.results.length === 0) {
    const lines = text.split('\n');
    const expected = waiting(parser).map(s => s.rule.symbols[s.dot] as Symbol);
    // A construct left open at the end is nearly always a block: say the '}', not the whole list.
    const what = expected.some(s => s.literal === '}') ? "'}'" : describe(expected) ?? 'more';
    diags.error(file, { line: lines.length, col: lines[lines.length - 1].length + 1 }, Diag.UnexpectedEndOfFile, what);
    return [];
  }
  if (parser.results.length > 1) {
    throw new Error(`internal: ${file}: the grammar is ambiguous here (${parser.results.length} parses)`);
  }
  return parser.results[0] as Decl[];
}

/** The states of the last column that wait for a terminal: what the parser could have taken next. */
function waiting(parser: nearley.Parser): State[] {
  const chart = parser as unknown as Chart;
  const column = chart.table[chart.current];
  return (column?.states ?? []).filter(s => typeof s.rule.symbols[s.dot] === 'object');
}

function syntaxError(text: string, file: string, diags: Diagnostics, token: Token, states: State[]): void {
  const at = { line: token.line, col: token.col };
  if (token.type === 'error') {
    const d = diags.error(file, at, Diag.UnexpectedCharacter, JSON.stringify(token.value[0]));
    if (token.value.startsWith('#')) {
      d.hints.push('a preprocessing directive starts its own line (see docs/popcorn.md, "The preprocessor")');
    }
    return;
  }
  const shown = JSON.stringify(token.value);
  const semicolon = states.find(s => (s.rule.symbols[s.dot] as Symbol).literal === ';');
  const prev = previousToken(text, token.offset);
  const blockEnd = token.value === '}' && semicolon?.rule.name !== 'topdecl';
  if (semicolon && prev && (prev.line < token.line || blockEnd)) {
    // The statement ended at the previous line's end (or at its block's end): the ';' is missing there.
    const end: Pos = { line: prev.line, col: prev.col + prev.text.length };
    diags.error(file, end, Diag.ExpectedSemicolon, construct(semicolon));
    return;
  }
  const expected = describe(states.map(s => s.rule.symbols[s.dot] as Symbol));
  const d = expected ? diags.error(file, at, Diag.ExpectedBefore, expected, shown)
    : diags.error(file, at, Diag.UnexpectedToken, shown);
  d.span = token.text.length;
  const nameExpected = states.some(s => (s.rule.symbols[s.dot] as Symbol).type === 'ident');
  if (nameExpected && (KEYWORDS as readonly string[]).includes(token.type)) {
    d.hints.push(`${token.value} is a keyword: it cannot be a name`);
  }
}

/** The token before `offset` (whitespace and comments skipped), found by lexing again: only on an error. */
function previousToken(text: string, offset: number): Token | undefined {
  const lexer = makeLexer();
  lexer.reset(text);
  let prev: Token | undefined;
  for (let t = lexer.next(); t && t.offset < offset; t = lexer.next()) prev = t as Token;
  return prev;
}

/** What a ';' would end, from the grammar rule that waits for it. */
function construct(s: State): string {
  const first = s.rule.symbols[0];
  if (s.rule.name === 'simple' && first === 'expr') return 'expression';
  if (typeof first === 'object' && first.literal && ['return', 'break', 'continue', 'raise'].includes(first.literal)) {
    return `${first.literal} statement`;
  }
  if (typeof first === 'object' && first.literal === 'do') return 'do … while';
  return 'declaration';
}

/** Tokens that continue an expression (binary, assignment and postfix operators). */
const OPERATOR = [
  '+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>', '>>>', '==', '!=', '<', '<=', '>', '>=', '&&', '||', '?',
  '@', '=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=', '>>>=', '[', '.', '(', '++', '--',
];
/** Tokens that start an expression, and tokens that start a statement but not an expression. */
const EXPRESSION = [
  'number', 'charlit', 'strlit', 'ident', '(', 'true', 'false', 'null', 'new', '^', '-', '!', '~', '+', '++', '--',
  '&', '%', 'fun',
];
const STATEMENT = ['if', 'while', 'for', 'do', 'switch', 'break', 'continue', 'return', 'raise', 'try', '{', ';',
  'int', 'unsigned', 'bool', 'boolean', 'char', 'string', 'void', '<', '<<', '*', 'short', 'byte', 'signed'];

/**
 * The expected terminals in a reader's words, or undefined when they are too many to help: the tokens that start
 * an expression are "an expression", and with the statement keywords "a statement"; those that continue one are
 * "an operator".
 */
function describe(symbols: Symbol[]): string | undefined {
  let names = [...new Set(symbols.map(s => s.literal ?? s.type ?? '?'))];
  const fold = (members: string[], word: string, when: boolean): void => {
    if (!when) return;
    names = [...names.filter(n => !members.includes(n)), word];
  };
  fold(EXPRESSION, 'an expression', names.includes('number') && names.includes('strlit'));
  fold([...STATEMENT, 'an expression'], 'a statement', names.includes('if') && names.includes('while'));
  fold(OPERATOR, 'an operator', names.includes('+') && names.includes('*'));
  // "a name" first, then the tokens, then the folded kinds.
  const rank = (n: string): number => (n === 'ident' ? 0 : n.includes(' ') ? 2 : 1);
  const words = names.sort((a, b) => rank(a) - rank(b))
    .map(n => (n === 'ident' ? 'a name' : n.includes(' ') ? n : `'${n}'`));
  if (words.length > 3) return undefined;
  return words.length === 1 ? words[0] : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}
