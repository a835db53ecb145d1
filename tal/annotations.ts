// The annotation format stored in the ELF section .tal.types (docs/tal.md §5). Trusted: the checker reads it.
//
//   TAL-IA32 1
//   main NAME
//   type HEAD = BODY
//   code 0xADDR NAME : CODETYPE
//   data 0xADDR NAME : TYPE
//   inst 0xADDR : ARG, ARG, …
//
// One entry per line, UTF-8 text. The writer is talas; anything may be in the file, so every line is validated.

import { type Binder, type CodeTy, type Ty, type TypeDef } from './types.ts';
import { isName, parseCode, parseTy, parseTypeDefs, TypeSyntaxError } from './typeparse.ts';

export const ANNOTATION_MAGIC = 'TAL-IA32 1';

export class AnnotationError extends Error {
  override name = 'AnnotationError';
  constructor(message: string, readonly line: number) {
    super(`.tal.types line ${line}: ${message}`);
  }
}

export interface CodeLabel { readonly name: string; readonly addr: number; readonly ty: CodeTy }
export interface DataLabel { readonly name: string; readonly addr: number; readonly ty: Ty }

export interface Annotations {
  readonly main: string;
  readonly defs: Map<string, TypeDef>;
  readonly code: Map<number, CodeLabel>;
  readonly data: Map<number, DataLabel>;
  /** Explicit instantiations by instruction address: raw text, parsed once the callee (and so the kinds) is known. */
  readonly inst: Map<number, { text: string; line: number }>;
}


/** The value of `0x` and 1-8 hex digits filling s[from, end), or -1. */
function hexAddress(s: string, end: number, from = 0): number {
  const n = end - from;
  if (n < 3 || n > 10 || s.charCodeAt(from) !== 48 || s.charCodeAt(from + 1) !== 120) return -1;
  let v = 0;
  for (let i = from + 2; i < end; i++) {
    const c = s.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v >>> 0;
}

/** The value of the decimal numeral filling s[from, end) without leading zeros, or -1 (a ctype reference). */
function ctypeIndex(s: string, from: number, end: number): number {
  if (end <= from || end - from > 9 || (s.charCodeAt(from) === 48 && end - from > 1)) return -1;
  let v = 0;
  for (let i = from; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

interface LabelItem { name: string; addr: number; body: string; line: number }

export function parseAnnotations(text: string): Annotations {
  // Lines are read in place (indexOf, not split) and label lines are scanned character by character: a program has
  // one line per block, and this is most of what the checker reads.
  let lineEnd = text.indexOf('\n');
  if ((lineEnd < 0 ? text : text.slice(0, lineEnd)) !== ANNOTATION_MAGIC)
    throw new AnnotationError(`must start with '${ANNOTATION_MAGIC}'`, 1);
  let main: string | undefined;
  const typeItems: { head: string; body: string; line: number }[] = [];
  const codeItems: LabelItem[] = [];
  const dataItems: LabelItem[] = [];
  const inst = new Map<number, { text: string; line: number }>();
  const names = new Set<string>();
  const ctypeItems: { body: string; line: number }[] = [];

  // `0xADDR NAME : TYPE` in text[from, end), with single spaces exactly as talas writes it.
  const labelLine = (from: number, end: number, ln: number): LabelItem => {
    const sp = text.indexOf(' ', from);
    const colon = sp < 0 || sp >= end ? -1 : text.indexOf(' : ', sp + 1);
    if (colon < 0 || colon + 3 > end) throw new AnnotationError('expected ADDRESS NAME : TYPE', ln);
    const addr = hexAddress(text, sp, from);
    if (addr < 0) throw new AnnotationError(`bad address '${text.slice(from, sp)}'`, ln);
    const name = text.slice(sp + 1, colon);
    if (!isName(name)) throw new AnnotationError(`bad label name '${name}'`, ln);
    if (names.has(name)) throw new AnnotationError(`label '${name}' annotated twice`, ln);
    names.add(name);
    return { name, addr, body: text.slice(colon + 3, end), line: ln };
  };

  let ln = 1;
  while (lineEnd >= 0) {
    const start = lineEnd + 1;
    ln++;
    lineEnd = text.indexOf('\n', start);
    const end = lineEnd < 0 ? text.length : lineEnd;
    if (end === start) continue;
    let sp = text.indexOf(' ', start);
    if (sp < 0 || sp > end) sp = end;
    const kwEnd = sp;
    const restFrom = Math.min(sp + 1, end);
    // The keyword, by its first letter and length before comparing it whole.
    const c0 = text.charCodeAt(start), kwLen = kwEnd - start;
    if (c0 === 99 /* c */ && kwLen === 4 && text.startsWith('code', start)) {
      codeItems.push(labelLine(restFrom, end, ln));
      continue;
    }
    const kw = text.slice(start, kwEnd);
    const rest = text.slice(restFrom, end);
    switch (kw) {
      case 'main':
        if (main !== undefined) throw new AnnotationError('main given twice', ln);
        if (!isName(rest)) throw new AnnotationError(`bad main label name '${rest}'`, ln);
        main = rest;
        break;
      case 'type': {
        const eq = rest.indexOf('=');
        if (eq < 0) throw new AnnotationError("expected 'type NAME<params> = TYPE'", ln);
        typeItems.push({ head: rest.slice(0, eq).trim(), body: rest.slice(eq + 1).trim(), line: ln });
        break;
      }
      case 'ctype': {
        const want = `${ctypeItems.length} : `;
        if (!rest.startsWith(want)) throw new AnnotationError(`expected 'ctype ${ctypeItems.length} : TYPE' (the table is numbered from 0 in order)`, ln);
        ctypeItems.push({ body: rest.slice(want.length), line: ln });
        break;
      }
      case 'data': dataItems.push(labelLine(restFrom, end, ln)); break;
      case 'inst': {
        const m = /^(\S+)\s*:\s*(.*)$/.exec(rest);
        const addr = m ? hexAddress(m[1], m[1].length) : -1;
        if (!m || addr < 0) throw new AnnotationError('expected inst ADDRESS : TYPES', ln);
        if (inst.has(addr)) throw new AnnotationError(`two instantiations for ${m[1]}`, ln);
        inst.set(addr, { text: m[2], line: ln });
        break;
      }
      default:
        throw new AnnotationError(`unknown entry '${kw}'`, ln);
    }
  }
  if (main === undefined) throw new AnnotationError("no 'main' entry", ln);

  let firstError: AnnotationError | undefined;
  const defs = parseTypeDefs(typeItems, (i, e) => {
    firstError ??= new AnnotationError(`in type ${typeItems[i].head}: ${e.message}`, typeItems[i].line);
  });
  if (firstError) throw firstError;
  const env = { defs, scope: new Map<string, Binder>() };

  const code = new Map<number, CodeLabel>();
  // Blocks of compiled code repeat the same types; each distinct text is parsed once. Types are immutable values,
  // and the checker gives each block fresh binders, so labels may share one.
  const parsed = new Map<string, CodeTy>();
  const table: CodeTy[] = [];
  for (const [i, it] of ctypeItems.entries()) {
    try {
      table.push(parseCode(it.body, env));
    } catch (e) {
      if (e instanceof TypeSyntaxError) throw new AnnotationError(`ctype ${i}: ${e.message} (column ${e.col + 1})`, it.line);
      throw e;
    }
  }
  for (const it of codeItems) {
    if (code.has(it.addr)) throw new AnnotationError(`two code labels at 0x${it.addr.toString(16)}`, it.line);
    try {
      let ty: CodeTy | undefined;
      if (it.body.charCodeAt(0) === 64 /* @ */) {
        const n = ctypeIndex(it.body, 1, it.body.length);
        ty = n >= 0 ? table[n] : undefined;
        if (!ty) throw new AnnotationError(`type of ${it.name}: '${it.body}' is not in the ctype table`, it.line);
      } else {
        ty = parsed.get(it.body);
        if (!ty) parsed.set(it.body, (ty = parseCode(it.body, env)));
      }
      code.set(it.addr, { name: it.name, addr: it.addr, ty });
    } catch (e) {
      if (e instanceof TypeSyntaxError) throw new AnnotationError(`type of ${it.name}: ${e.message} (column ${e.col + 1})`, it.line);
      throw e;
    }
  }
  const data = new Map<number, DataLabel>();
  for (const it of dataItems) {
    if (data.has(it.addr) || code.has(it.addr)) throw new AnnotationError(`two labels at 0x${it.addr.toString(16)}`, it.line);
    try {
      data.set(it.addr, { name: it.name, addr: it.addr, ty: parseTy(it.body, env) });
    } catch (e) {
      if (e instanceof TypeSyntaxError) throw new AnnotationError(`type of ${it.name}: ${e.message} (column ${e.col + 1})`, it.line);
      throw e;
    }
  }
  return { main, defs, code, data, inst };
}
