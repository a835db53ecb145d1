// The preprocessor: C's (ISO C 6.10), run on every source file before the lexer. It mirrors the standard's
// translation phases 2–4 and GNU cpp's documented behaviour: `#define` object-like and function-like macros (with
// `#` stringizing, `##` pasting and `...`/__VA_ARGS__), `#undef`, rescanning under the no-recursion rule (Prosser's
// hide-set algorithm, as chibicc's preprocess.c implements it), arguments fully expanded before substitution except
// next to `#`/`##`; `#if`/`#ifdef`/`#ifndef`/`#elif`/`#else`/`#endif` with C's integer constant expressions
// (6.10.1, evaluated in intmax_t: 64-bit); `#include "x.h"`/`<x.h>` textual inclusion of a header file found next to
// the including file (quotes only), on `-I` directories, then in the library's directory; `#line`, `#error`,
// `#pragma` (ignored), `__FILE__`, `__LINE__`.
//
// popc's one addition (docs/popcorn.md, "The preprocessor"): an include that names no header file but a library
// file (`core.h` → lib/core.pop, or NAME.pop next to the including file) is not textual: it is handed to the driver
// as a declaration-level include of that file, parsed once per compilation, as popc always did.
//
// The output keeps the input's lines: line N of a file without includes is line N of the output, and a line where no
// macro was expanded is copied unchanged (comments blanked), so its columns hold too. Every output line records where
// it came from (file and line, and for expanded lines the original column of each token or the macro invocation
// that produced it); the Diagnostics map positions back through it, so that every later stage reports the original
// file, line and column. A file without directives costs one scan (the fast path: no macros, no '#').

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Pos } from './ast.ts';
import { Diag, type Diagnostics, type Origin, type PositionMap } from './diagnostics.ts';
import { LIB_INCLUDE_DIR, displayName, includePath, libraryFile } from './library.ts';

export interface PreprocessOptions {
  /** `-I DIR`, in command-line order: searched after the including file's directory and before the library's. */
  includeDirs?: readonly string[];
  /** `-D NAME[=VALUE]` (VALUE defaults to 1, as in cc) and `-U NAME`, applied in order before the file. */
  defines?: readonly { name: string; value?: string }[];
  undefines?: readonly string[];
}

export interface Preprocessed {
  /** The text the lexer reads. */
  text: string;
  /** Where each output position came from; undefined when the output is the input (the fast path). */
  map?: PositionMap;
  /** The library files included at the declaration level (absolute paths), in order of their directives. */
  libraryIncludes: string[];
  /** The headers included textually, by the name diagnostics give them, with their text. */
  headers: Map<string, string>;
}

/** GNU cpp's limit is 200; a file that includes itself without a guard reaches it, which is what is reported. */
export const MAX_INCLUDE_DEPTH = 200;

type Kind = 'id' | 'num' | 'str' | 'punct' | 'other' | 'placemarker';

/** A preprocessing token (6.4.7), with where it came from for diagnostics. */
interface Tok {
  text: string;
  kind: Kind;
  /** Whitespace came before it (for stringizing and for spacing the output). */
  space: boolean;
  /** Its original line and column (1-based), or those of the outermost macro invocation that produced it. */
  line: number;
  col: number;
  /** The outermost macro whose expansion produced it. */
  macro?: string;
  /** The macros it must not expand again (6.10.3.4's rule, as a hide set). */
  hide?: ReadonlySet<string>;
}

type HideSet = ReadonlySet<string> | undefined;

interface Macro {
  name: string;
  /** Parameter names for a function-like macro (`__VA_ARGS__` last when variadic); undefined for object-like. */
  params?: string[];
  body: Tok[];
}

const PUNCTUATORS = [
  '...', '>>>=', '<<=', '>>=', '>>>', '##', '::', '->', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||',
  '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=',
];
const escaped = PUNCTUATORS.map(p => p.replace(/[.*+?^$|()[\]\\]/g, '\\$&'));
const PUNCT = new RegExp(`^(?:${escaped.join('|')}|[^\\sA-Za-z0-9_])`);
const ID = /^[A-Za-z_][A-Za-z0-9_]*/;
/** A pp-number (6.4.8): digits, letters, '.', and an exponent's sign. */
const NUM = /^\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.])*/;
const STR = /^"(?:\\.|[^"\\])*"/;
const CHR = /^'(?:\\.|[^'\\])*'/;

/** Every token is built here, so that all have one shape (V8 keeps such objects fast; spread copies are not). */
function tok(text: string, kind: Kind, space: boolean, line: number, col: number, macro?: string, hide?: HideSet): Tok {
  return { text, kind, space, line, col, macro, hide };
}
/** A copy of `t` with some fields changed. */
function retok(t: Tok, c: Partial<Tok>): Tok {
  return tok(c.text ?? t.text, c.kind ?? t.kind, c.space ?? t.space, c.line ?? t.line, c.col ?? t.col,
    'macro' in c ? c.macro : t.macro, 'hide' in c ? c.hide : t.hide);
}

/** Lex one line into tokens; block comments become whitespace and may span lines (`inComment` carries over). */
interface Lexed { toks: Tok[]; blanked: string; inComment: boolean }
function lexLine(line: string, lineNo: number, inComment: boolean): Lexed {
  const toks: Tok[] = [];
  let blanked = '';
  let space = false;
  let i = 0;
  while (i < line.length) {
    if (inComment) {
      const end = line.indexOf('*/', i);
      const stop = end < 0 ? line.length : end + 2;
      blanked += ' '.repeat(stop - i);
      i = stop;
      if (end >= 0) inComment = false;
      space = true;
      continue;
    }
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      blanked += c;
      i++;
      space = true;
      continue;
    }
    if (c === '/' && line[i + 1] === '/') { blanked += ' '.repeat(line.length - i); break; }
    if (c === '/' && line[i + 1] === '*') { inComment = true; blanked += '  '; i += 2; space = true; continue; }
    const rest = line.slice(i);
    let m: RegExpExecArray | null;
    let kind: Kind;
    if ((m = ID.exec(rest))) kind = 'id';
    else if ((m = NUM.exec(rest))) kind = 'num';
    else if ((m = STR.exec(rest)) || (m = CHR.exec(rest))) kind = 'str';
    else if ((m = PUNCT.exec(rest))) kind = c === '"' || c === "'" ? 'other' : 'punct';
    else { m = [c] as unknown as RegExpExecArray; kind = 'other'; }
    toks.push(tok(m[0], kind, space, lineNo, i + 1));
    blanked += m[0];
    i += m[0].length;
    space = false;
  }
  return { toks, blanked, inComment };
}

/** Would `a` followed directly by `b` lex as something else? (then the output needs a space between them) */
function wouldPaste(a: Tok, b: Tok): boolean {
  const word = (t: Tok): boolean => t.kind === 'id' || t.kind === 'num';
  if (word(a) && (word(b) || b.text === '.')) return true;
  if (a.kind === 'punct' && b.kind === 'punct') return PUNCT.exec(a.text + b.text)![0].length > a.text.length;
  return a.kind === 'punct' && a.text === '.' && b.kind === 'num';
}

/** One output line's origin: a file and line, and for an expanded line the origin of each output column range. */
interface LineOrigin {
  file: string;
  /** Added to a token's line to give the presumed line (`#line`). */
  delta: number;
  line: number;
  /** 0-based output column where each token starts, with its origin; sorted. */
  segs?: { out: number; line: number; col: number; macro?: string }[];
}

class LineMap implements PositionMap {
  constructor(private readonly lines: LineOrigin[]) {}
  origin(pos: Pos): Origin {
    const l = this.lines[pos.line - 1];
    if (!l) {
      const last = this.lines[this.lines.length - 1];
      return last ? { file: last.file, line: last.line + last.delta, col: pos.col } : { file: '', ...pos };
    }
    if (!l.segs) return { file: l.file, line: l.line + l.delta, col: pos.col };
    let s = l.segs[0];
    for (const seg of l.segs) if (seg.out <= pos.col - 1) s = seg; else break;
    if (!s) return { file: l.file, line: l.line + l.delta, col: pos.col };
    if (s.macro) return { file: l.file, line: s.line + l.delta, col: s.col, macro: s.macro };
    return { file: l.file, line: s.line + l.delta, col: s.col + (pos.col - 1 - s.out) };
  }
}

/** The state of one conditional group (6.10.1): whether its current branch is live, and whether one was taken. */
interface Cond { directive: string; line: number; col: number; live: boolean; taken: boolean; sawElse: boolean }

/** A preprocessor error thrown inside expansion or expression evaluation, reported at its token. */
class PPError extends Error {
  constructor(readonly at: Tok, readonly report: (d: Diagnostics, file: string, pos: Pos) => void) { super(); }
}

/** A token stream: pushed-back tokens first (the results of expansion), then the line's, then (optionally) more
 * lines, for a macro invocation whose arguments span lines. */
class Stream {
  private readonly back: Tok[] = [];
  private i = 0;
  /** Whether the end of the line may pull the next one: only inside an invocation (or looking for its '('). */
  spanLines = false;
  constructor(private toks: Tok[], private readonly more?: () => Tok[] | undefined) {}
  next(): Tok | undefined {
    return this.back.pop() ?? this.toks[this.i++] ?? this.fetch();
  }
  peek(): Tok | undefined {
    const t = this.next();
    if (t) this.back.push(t);
    return t;
  }
  unshift(toks: Tok[]): void {
    for (let k = toks.length - 1; k >= 0; k--) this.back.push(toks[k]);
  }
  private fetch(): Tok | undefined {
    const more = this.spanLines ? this.more?.() : undefined;
    if (!more) return undefined;
    this.toks = more;
    this.i = 0;
    return this.next();
  }
}

/** The union of two hide sets; no new set when one holds the other (the common case: rescanning the same macro). */
const union = (a: HideSet, b: HideSet): HideSet => {
  if (!a || a === b) return b;
  if (!b) return a;
  if ([...a].every(x => b.has(x))) return b;
  if ([...b].every(x => a.has(x))) return a;
  return new Set([...a, ...b]);
};
const intersect = (a: HideSet, b: HideSet): HideSet =>
  !a || !b ? undefined : new Set([...a].filter(x => b.has(x)));

/** Preprocess `text` (the file `file`); errors go to `diags` at their original positions. */
export function preprocess(text: string, file: string, diags: Diagnostics, options: PreprocessOptions = {},
): Preprocessed {
  const out: string[] = [];
  const origins: LineOrigin[] = [];
  const libraryIncludes: string[] = [];
  const headers = new Map<string, string>();
  const macros = new Map<string, Macro>();
  let identity = true;
  let depthReported = false;
  let current = { presumed: file, delta: 0 };

  const defineFromCommandLine = (name: string, value: string): void => {
    macros.set(name, { name, body: lexLine(value, 0, false).toks.map(t => retok(t, { line: 0, col: 0 })) });
  };
  for (const d of options.defines ?? []) defineFromCommandLine(d.name, d.value ?? '1');
  for (const u of options.undefines ?? []) macros.delete(u);

  // The fast path: nothing to do for a file without '#', macros or the two built-in names.
  if (macros.size === 0 && !text.includes('#') && !text.includes('__FILE__') && !text.includes('__LINE__')) {
    return { text, libraryIncludes, headers };
  }

  /** Preprocess one file into `out`; `stack` is the chain of files including it. */
  function processFile(src: string, name: string, stack: string[]): void {
    const lines = src.split('\n');
    const conds: Cond[] = [];
    let inComment = false;
    // The presumed file and line (#line), shared with the expansion of __FILE__ and __LINE__ while this file runs.
    const here = { presumed: name, delta: 0 };
    const outer = current;
    current = here;
    const err = (pos: Pos): { file: string; pos: Pos } =>
      ({ file: here.presumed, pos: { line: pos.line + here.delta, col: pos.col } });
    const live = (): boolean => conds.every(c => c.live);
    const emit = (textLine: string, line: number, segs?: LineOrigin['segs']): void => {
      out.push(textLine);
      origins.push({ file: here.presumed, delta: here.delta, line, segs });
      if (segs || here.presumed !== file || here.delta !== 0 || origins.length !== line) identity = false;
    };

    for (let n = 0; n < lines.length; n++) {
      const lineNo = n + 1;
      const raw = lines[n];
      // The per-line fast path: no macros to expand, not a directive, no comment to track.
      if (!inComment && macros.size === 0 && live() && !raw.includes('/*') && !raw.includes('__') &&
          !/^[ \t]*#/.test(raw)) {
        emit(raw, lineNo);
        continue;
      }
      const lexed = lexLine(raw, lineNo, inComment);
      const startedInComment = inComment;
      inComment = lexed.inComment;
      const toks = lexed.toks;
      if (!startedInComment && toks[0]?.text === '#') {
        // A directive; a '\' at the end of a line continues it (phase 2's line splicing).
        const dropSplice = (ts: Tok[]): Tok[] => (ts[ts.length - 1]?.text === '\\' ? ts.slice(0, -1) : ts);
        let all = dropSplice(toks);
        const first = n;
        while (lines[n].endsWith('\\') && n + 1 < lines.length) {
          n++;
          const more = lexLine(lines[n], n + 1, inComment);
          inComment = more.inComment;
          all = [...all, ...dropSplice(more.toks).map((t, k) => (k === 0 ? retok(t, { space: true }) : t))];
        }
        // The directive's own lines first (empty): an included header's lines follow them, and #line applies after.
        for (let k = first; k <= n; k++) emit('', k + 1);
        try {
          directive(all);
        } catch (e) {
          // A macro call gone wrong in a directive's expanded operand (#line, #include, #if).
          if (!(e instanceof PPError)) throw e;
          const at = err(e.at);
          e.report(diags, at.file, at.pos);
        }
        continue;
      }
      if (!live()) { emit('', lineNo); continue; }
      if (!toks.some(t => t.kind === 'id' && (macros.has(t.text) || t.text === '__FILE__' || t.text === '__LINE__'))) {
        emit(lexed.blanked, lineNo);
        continue;
      }
      // Expand, pulling further lines while a macro invocation's arguments are open.
      const consumed: number[] = [];
      const more = (): Tok[] | undefined => {
        if (n + 1 >= lines.length || inComment) return undefined;
        const next = lexLine(lines[n + 1], n + 2, false);
        if (next.toks[0]?.text === '#') return undefined;
        n++;
        consumed.push(n + 1);
        inComment = next.inComment;
        if (!next.toks.length) return [retok(SPACE, { line: n + 1 })];
        return next.toks.map((t, k) => (k === 0 ? retok(t, { space: true }) : t));
      };
      let expanded: Tok[];
      try {
        expanded = expandStream(new Stream(toks, more));
      } catch (e) {
        if (!(e instanceof PPError)) throw e;
        const at = err(e.at);
        e.report(diags, at.file, at.pos);
        expanded = []; // the line is dropped (the driver parses no file with preprocessor errors)
      }
      const [textLine, segs] = render(expanded.filter(t => t.kind !== 'placemarker'));
      emit(textLine, lineNo, segs);
      for (const k of consumed) emit('', k);
    }
    for (const c of conds) {
      const at = err(c);
      diags.error(at.file, at.pos, Diag.UnterminatedConditional, c.directive);
    }
    current = outer;


    function directive(toks: Tok[]): void {
      const hash = toks[0];
      const nameTok = toks[1];
      const args = toks.slice(2);
      const at = err(hash);
      if (!nameTok) return; // the null directive (6.10.7)
      const d = nameTok.text;
      const isLive = live();
      switch (d) {
        case 'if': case 'ifdef': case 'ifndef': {
          if (!isLive) {
            conds.push({ directive: d, line: hash.line, col: hash.col, live: false, taken: true, sawElse: false });
            return;
          }
          const v = d === 'if' ? condition(args, hash) : defined(d, args, hash);
          conds.push({ directive: d, line: hash.line, col: hash.col, live: v, taken: v, sawElse: false });
          return;
        }
        case 'elif': case 'else': {
          const c = conds[conds.length - 1];
          if (!c) { diags.error(at.file, at.pos, Diag.ConditionalWithoutIf, d); return; }
          if (c.sawElse) { diags.error(at.file, at.pos, Diag.AfterElse, d); return; }
          const outer = conds.slice(0, -1).every(x => x.live);
          if (d === 'else') {
            c.sawElse = true;
            c.live = outer && !c.taken;
          } else {
            c.live = outer && !c.taken && condition(args, hash);
          }
          c.taken ||= c.live;
          return;
        }
        case 'endif':
          if (!conds.pop()) diags.error(at.file, at.pos, Diag.ConditionalWithoutIf, d);
          return;
      }
      if (!isLive) return; // other directives in a skipped group are not processed (6.10.1)
      switch (d) {
        case 'define': define(args, hash); return;
        case 'undef': {
          if (args[0]?.kind !== 'id') {
            diags.error(at.file, at.pos, Diag.BadDefine, '#undef needs a macro name');
            return;
          }
          macros.delete(args[0].text);
          return;
        }
        case 'include': include(args, hash, stack); return;
        case 'error': {
          diags.error(at.file, at.pos, Diag.ErrorDirective, spell(args));
          return;
        }
        case 'pragma': return; // accepted and ignored (6.10.6: an unknown pragma is ignored)
        case 'line': {
          const e = expandAll(args);
          const num = e[0];
          const fileTok = e[1];
          if (!num || !/^[0-9]+$/.test(num.text) || (fileTok && fileTok.kind !== 'str') || e.length > 2) {
            diags.error(at.file, at.pos, Diag.BadLine, spell(args));
            return;
          }
          // The next line is line N (6.10.4).
          here.delta = Number(num.text) - toks[toks.length - 1].line - 1;
          if (fileTok) here.presumed = JSON.parse(fileTok.text) as string;
          return;
        }
      }
      diags.error(at.file, at.pos, Diag.UnknownDirective, d);
    }

    function defined(d: string, args: Tok[], hash: Tok): boolean {
      const at = err(hash);
      if (args[0]?.kind !== 'id') {
        diags.error(at.file, at.pos, Diag.BadCondition, d, 'no macro name given');
        return false;
      }
      return (d === 'ifdef') === macros.has(args[0].text);
    }

    function condition(args: Tok[], hash: Tok): boolean {
      try {
        return evaluate(args) !== 0n;
      } catch (e) {
        if (!(e instanceof PPError)) throw e;
        const at = err(hash);
        e.report(diags, at.file, at.pos);
        return false;
      }
    }

    function define(args: Tok[], hash: Tok): void {
      const at = err(hash);
      const bad = (why: string): void => { diags.error(at.file, at.pos, Diag.BadDefine, why); };
      const nameTok = args[0];
      if (nameTok?.kind !== 'id') { bad('macro names must be identifiers'); return; }
      if (nameTok.text === 'defined') { bad('"defined" cannot be used as a macro name'); return; }
      let i = 1;
      let params: string[] | undefined;
      if (args[1]?.text === '(' && !args[1].space) {
        params = [];
        i = 2;
        if (args[i]?.text === ')') i++;
        else {
          for (;;) {
            const p = args[i];
            if (p?.text === '...') {
              params.push('__VA_ARGS__');
              i++;
              if (args[i]?.text !== ')') { bad('expected \')\' after "..."'); return; }
              i++;
              break;
            }
            if (p?.kind !== 'id') {
              bad(`expected a parameter name, found ${p ? `"${p.text}"` : 'the end of the line'}`);
              return;
            }
            if (params.includes(p.text)) { bad(`duplicate macro parameter "${p.text}"`); return; }
            params.push(p.text);
            i++;
            if (args[i]?.text === ',') { i++; continue; }
            if (args[i]?.text === ')') { i++; break; }
            bad(`expected ',' or ')' in the parameter list of ${nameTok.text}`);
            return;
          }
        }
      }
      const body = args.slice(i).map((t, k) => (k === 0 ? retok(t, { space: false }) : t));
      if (body[0]?.text === '##' || body[body.length - 1]?.text === '##') {
        bad("'##' cannot appear at either end of a macro expansion");
        return;
      }
      if (params) {
        for (let k = 0; k < body.length; k++) {
          if (body[k].text === '#' && !params.includes(body[k + 1]?.text ?? '')) {
            bad("'#' is not followed by a macro parameter");
            return;
          }
        }
      }
      macros.set(nameTok.text, { name: nameTok.text, params, body });
    }

    function include(args: Tok[], hash: Tok, chain: string[]): void {
      const at = err(hash);
      let spec = args.map(t => (t.space ? ' ' : '') + t.text).join('').trim();
      if (!/^(?:"[^"]*"|<[^>]*>)$/.test(spec)) spec = spell(expandAll(args)); // 6.10.2p4: a macro-expanded name
      const m = /^(?:"([^"]*)"|<([^>]*)>)$/.exec(spec);
      if (!m) { diags.error(at.file, at.pos, Diag.BadInclude, spell(args)); return; }
      const quoted = m[1] !== undefined;
      const header = m[1] ?? m[2];
      const dirs = [...(quoted ? [dirname(name)] : []), ...(options.includeDirs ?? []), LIB_INCLUDE_DIR];
      const found = dirs.map(d => join(d, header)).find(p => existsSync(p) && statSync(p).isFile());
      if (!found) {
        const lib = quoted ? includePath(header, name) : libraryFile(header);
        if (lib) { libraryIncludes.push(lib); return; }
        if (quoted) { diags.error(at.file, at.pos, Diag.CannotFindInclude, header); return; }
        const e = diags.error(at.file, at.pos, Diag.SystemInclude, header);
        e.hints.push('popc\'s own library: #include "core.h" for print_string, print_int, flush (and open Core;), ' +
          'see docs/popcorn.md');
        return;
      }
      const shown = displayName(found.startsWith(LIB_INCLUDE_DIR) ? found : found);
      if (chain.length >= MAX_INCLUDE_DEPTH) {
        if (depthReported) return;
        depthReported = true;
        const e = diags.error(at.file, at.pos, Diag.IncludeTooDeep, MAX_INCLUDE_DEPTH);
        if (chain.includes(resolve(found))) {
          e.hints.push(`${shown} includes itself: guard it (#ifndef NAME_H / #define NAME_H / … / #endif)`);
        }
        return;
      }
      let body: string;
      try {
        body = headers.get(shown) ?? readFileSync(found, 'utf8');
      } catch {
        diags.error(at.file, at.pos, Diag.CannotFindInclude, header);
        return;
      }
      headers.set(shown, body);
      identity = false;
      processFile(body, shown, [...chain, resolve(found)]);
    }
  }

  /** The spelling of tokens as written (for #error and messages). */
  function spell(toks: Tok[]): string {
    return toks.map((t, k) => (k > 0 && t.space ? ' ' : '') + t.text).join('');
  }

  /** Expand every macro in `toks` (no further lines). */
  function expandAll(toks: Tok[]): Tok[] {
    return expandStream(new Stream(toks));
  }

  /** 6.10.3.4: read tokens, replacing each macro invocation by its expansion and rescanning it. */
  function expandStream(s: Stream): Tok[] {
    const result: Tok[] = [];
    for (let t = s.next(); t; t = s.next()) {
      if (t.kind !== 'id' || t.hide?.has(t.text)) { result.push(t); continue; }
      if (t.text === '__FILE__' && !macros.has(t.text)) {
        result.push(retok(t, { kind: 'str', text: JSON.stringify(current.presumed), macro: t.macro ?? '__FILE__' }));
        continue;
      }
      if (t.text === '__LINE__' && !macros.has(t.text)) {
        result.push(retok(t, { kind: 'num', text: String(t.line + current.delta), macro: t.macro ?? '__LINE__' }));
        continue;
      }
      const m = macros.get(t.text);
      if (!m) { result.push(t); continue; }
      if (!m.params) {
        s.unshift(substitute(m, [], t, union(t.hide, new Set([m.name]))));
        continue;
      }
      // A function-like macro's name not followed by '(' is not an invocation (6.10.3p10).
      s.spanLines = true;
      if (s.peek()?.text !== '(') { s.spanLines = false; result.push(t); continue; }
      s.next();
      const { args, close } = readArgs(s, m, t);
      s.spanLines = false;
      s.unshift(substitute(m, args, t, union(intersect(t.hide, close.hide), new Set([m.name]))));
    }
    return result;
  }

  /** The arguments of an invocation up to its ')' (commas inside parentheses do not separate). */
  function readArgs(s: Stream, m: Macro, name: Tok): { args: Tok[][]; close: Tok } {
    const args: Tok[][] = [[]];
    let depth = 0;
    const params = m.params!;
    const variadic = params[params.length - 1] === '__VA_ARGS__';
    for (;;) {
      const t = s.next();
      if (!t) {
        throw new PPError(name, (d, f, p) => { d.error(f, p, Diag.UnterminatedMacroCall, m.name); });
      }
      if (t.text === ')' && depth === 0) {
        const got = params.length === 0 && args.length === 1 && args[0].length === 0 ? 0 : args.length;
        const ok = got === params.length || (variadic && got >= params.length - 1);
        if (!ok) {
          throw new PPError(name, (d, f, p) => { d.error(f, p, Diag.MacroArgumentCount, m.name, params.length, got); });
        }
        if (variadic && args.length > params.length) {
          // The variable arguments, commas included, are __VA_ARGS__.
          const rest = args.splice(params.length - 1);
          const comma: Tok = retok(t, { text: ',', kind: 'punct', space: false });
          args.push(rest.flatMap((a, k) => (k === 0 ? a : [comma, ...a])));
        }
        while (args.length < params.length) args.push([]);
        return { args, close: t };
      }
      if (t.text === ',' && depth === 0) { args.push([]); continue; }
      if (t.text === '(') depth++;
      if (t.text === ')') depth--;
      args[args.length - 1].push(t);
    }
  }

  /** The replacement list with its parameters replaced (6.10.3.1–3), every token placed at the invocation. */
  function substitute(m: Macro, args: Tok[][], at: Tok, hide: ReadonlySet<string> | undefined): Tok[] {
    const params = m.params ?? [];
    const place = (t: Tok, space: boolean): Tok =>
      tok(t.text, t.kind, space, at.line, at.col, at.macro ?? m.name, union(t.hide, hide));
    const index = (t: Tok | undefined): number => (t && t.kind === 'id' ? params.indexOf(t.text) : -1);
    const expandedArgs = new Map<number, Tok[]>();
    const out: Tok[] = [];
    const body = m.body;
    for (let i = 0; i < body.length; i++) {
      const t = body[i];
      const space = i === 0 ? at.space : t.space;
      if (m.params && t.text === '#' && index(body[i + 1]) >= 0) {
        out.push(place(stringize(args[index(body[i + 1])]), space));
        i++;
        continue;
      }
      if (t.text === '##' && out.length > 0) {
        const rhs = body[i + 1];
        const p = index(rhs);
        const right = p >= 0 ? args[p].map(a => place(a, false)) : [place(rhs, false)];
        if (rhs.text === '#' && m.params && index(body[i + 2]) >= 0) {
          right.splice(0, 1, place(stringize(args[index(body[i + 2])]), false));
          i++;
        }
        i++;
        if (right.length === 0) continue;
        const lhs = out.pop()!;
        out.push(paste(lhs, right[0], at), ...right.slice(1));
        continue;
      }
      const p = index(t);
      if (p >= 0) {
        const raw = body[i + 1]?.text === '##' || body[i - 1]?.text === '##';
        let arg = raw ? args[p] : (expandedArgs.get(p) ?? expandedArgs.set(p, expandAll(args[p])).get(p)!);
        if (arg.length === 0 && raw) arg = [retok(t, { text: '', kind: 'placemarker' })];
        out.push(...arg.map((a, k) => place(a, k === 0 ? space : a.space)));
        continue;
      }
      out.push(place(t, space));
    }
    return out;
  }

  /** `a ## b`: the two spellings must form one token (6.10.3.3p3). */
  function paste(a: Tok, b: Tok, at: Tok): Tok {
    if (a.kind === 'placemarker') return retok(b, { space: a.space });
    if (b.kind === 'placemarker') return a;
    const toks = lexLine(a.text + b.text, a.line, false).toks;
    if (toks.length !== 1) {
      throw new PPError(at, (d, f, p) => { d.error(f, p, Diag.BadPaste, a.text, b.text); });
    }
    return retok(a, { text: toks[0].text, kind: toks[0].kind, hide: intersect(a.hide, b.hide) ?? a.hide });
  }

  /** `# param`: the argument's spelling as a string literal, `"` and `\` escaped inside literals (6.10.3.2). */
  function stringize(arg: Tok[]): Tok {
    const body = arg.map((t, k) => (k > 0 && t.space ? ' ' : '') +
      (t.kind === 'str' ? t.text.replace(/[\\"]/g, '\\$&') : t.text)).join('');
    return tok(`"${body}"`, 'str', false, 0, 0);
  }

  /** 6.10.1: the controlling expression of #if/#elif: `defined` first, then expansion, then other names are 0. */
  function evaluate(args: Tok[]): bigint {
    const pre: Tok[] = [];
    for (let i = 0; i < args.length; i++) {
      const t = args[i];
      if (t.text !== 'defined') { pre.push(t); continue; }
      const paren = args[i + 1]?.text === '(';
      const nameTok = args[i + (paren ? 2 : 1)];
      if (nameTok?.kind !== 'id' || (paren && args[i + 3]?.text !== ')')) {
        throw new PPError(t, (d, f, p) => { d.error(f, p, Diag.BadCondition, 'if', '"defined" needs a macro name'); });
      }
      pre.push(retok(t, { kind: 'num', text: macros.has(nameTok.text) ? '1' : '0' }));
      i += paren ? 3 : 1;
    }
    const toks = expandAll(pre);
    let i = 0;
    const fail = (why: string, t: Tok | undefined = toks[i] ?? args[0]): never => {
      throw new PPError(t ?? args[0], (d, f, p) => { d.error(f, p, Diag.BadCondition, 'if', why); });
    };
    if (toks.length === 0) fail('no expression');
    const peek = (): string | undefined => toks[i]?.text;
    /** How many enclosing operands are not evaluated (the right of a decided && or ||, the other arm of ?:). */
    let dead = 0;
    const wrap = (v: bigint): bigint => BigInt.asIntN(64, v);
    const primary = (): bigint => {
      const t = toks[i++];
      if (!t) return fail('expected a value at the end of the line');
      if (t.text === '(') {
        const v = ternary();
        if (toks[i]?.text !== ')') fail("missing ')'");
        i++;
        return v;
      }
      if (['-', '+', '~', '!'].includes(t.text)) {
        const v = primary();
        return t.text === '-' ? wrap(-v) : t.text === '+' ? v : t.text === '~' ? wrap(~v) : v === 0n ? 1n : 0n;
      }
      if (t.kind === 'id') return 0n; // 6.10.1p4: a name left after expansion is 0
      if (t.kind === 'num') {
        const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)[uUlL]*$/.exec(t.text);
        if (!m) return fail(`invalid integer constant "${t.text}"`, t);
        return wrap(BigInt(/^0[0-7]+$/.test(m[1]) ? `0o${m[1].slice(1)}` : m[1]));
      }
      if (t.kind === 'str' && t.text.startsWith("'")) {
        const body = t.text.slice(1, -1);
        const simple: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, "'": 39, '"': 34 };
        if (body.length === 1) return BigInt(body.charCodeAt(0));
        if (body[0] === '\\' && body.length === 2 && body[1] in simple) return BigInt(simple[body[1]]);
        return fail(`unsupported character constant ${t.text}`, t);
      }
      return fail(`"${t.text}" is not valid in a preprocessor expression`, t);
    };
    const LEVELS: string[][] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '>', '<=', '>='], ['<<', '>>'],
      ['+', '-'], ['*', '/', '%']];
    const binary = (level: number): bigint => {
      if (level === LEVELS.length) return primary();
      let l = binary(level + 1);
      while (LEVELS[level].includes(peek() ?? '')) {
        const opTok = toks[i++];
        // The operand && or || does not evaluate is still parsed, but its division by zero is no error (gcc's).
        const skip = (opTok.text === '||' && l !== 0n) || (opTok.text === '&&' && l === 0n);
        dead += skip ? 1 : 0;
        const r = binary(level + 1);
        dead -= skip ? 1 : 0;
        l = apply(opTok, l, r);
      }
      return l;
    };
    const apply = (opTok: Tok, l: bigint, r: bigint): bigint => {
      const b = (x: boolean): bigint => (x ? 1n : 0n);
      switch (opTok.text) {
        case '||': return b(l !== 0n || r !== 0n);
        case '&&': return b(l !== 0n && r !== 0n);
        case '|': return l | r;
        case '^': return l ^ r;
        case '&': return l & r;
        case '==': return b(l === r);
        case '!=': return b(l !== r);
        case '<': return b(l < r);
        case '>': return b(l > r);
        case '<=': return b(l <= r);
        case '>=': return b(l >= r);
        case '<<': return wrap(l << (r & 63n));
        case '>>': return l >> (r & 63n);
        case '+': return wrap(l + r);
        case '-': return wrap(l - r);
        case '*': return wrap(l * r);
        default:
          if (r === 0n) return dead > 0 ? 0n : fail('division by zero', opTok);
          return wrap(opTok.text === '/' ? l / r : l % r);
      }
    };
    const ternary = (): bigint => {
      const c = binary(0);
      if (peek() !== '?') return c;
      i++;
      dead += c === 0n ? 1 : 0;
      const a = ternary();
      dead -= c === 0n ? 1 : 0;
      if (peek() !== ':') fail("expected ':' in '?:'");
      i++;
      dead += c !== 0n ? 1 : 0;
      const b = ternary();
      dead -= c !== 0n ? 1 : 0;
      return c !== 0n ? a : b;
    };
    const v = ternary();
    if (i < toks.length) fail(`unexpected "${toks[i].text}" after the expression`);
    return v;
  }

  /** An expanded line as text, with each token's output column and origin. */
  function render(toks: Tok[]): [string, NonNullable<LineOrigin['segs']>] {
    let s = '';
    const segs: NonNullable<LineOrigin['segs']> = [];
    let prev: Tok | undefined;
    let prevLine = toks[0]?.line;
    for (const t of toks) {
      // A source token on the invocation's line keeps its column where it can (the line's start is unchanged).
      if (!t.macro && t.line === prevLine && s.length < t.col - 1) s += ' '.repeat(t.col - 1 - s.length);
      else if (prev && (t.space || wouldPaste(prev, t) || (!t.macro && t.line !== prevLine))) s += ' ';
      segs.push({ out: s.length, line: t.line, col: t.col, macro: t.macro });
      s += t.text;
      prev = t;
      if (!t.macro) prevLine = t.line;
    }
    return [s, segs];
  }

  processFile(text, file, [resolve(file)]);
  return { text: out.join('\n'), map: identity ? undefined : new LineMap(origins), libraryIncludes, headers };
}

const SPACE: Tok = tok('', 'placemarker', true, 0, 0);
