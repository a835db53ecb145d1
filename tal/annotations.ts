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


/** The value of `0x` and 1-8 hex digits filling s[0, end), or -1. */
function hexAddress(s: string, end: number): number {
  if (end < 3 || end > 10 || s.charCodeAt(0) !== 48 || s.charCodeAt(1) !== 120) return -1;
  let v = 0;
  for (let i = 2; i < end; i++) {
    const c = s.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v >>> 0;
}

export function parseAnnotations(text: string): Annotations {
  const lines = text.split('\n');
  if (lines[0] !== ANNOTATION_MAGIC) throw new AnnotationError(`must start with '${ANNOTATION_MAGIC}'`, 1);
  let main: string | undefined;
  const typeItems: { head: string; body: string; line: number }[] = [];
  const codeItems: { name: string; addr: number; body: string; line: number }[] = [];
  const dataItems: { name: string; addr: number; body: string; line: number }[] = [];
  const inst = new Map<number, { text: string; line: number }>();
  const names = new Set<string>();
  const ctypeItems: { body: string; line: number }[] = [];

  // `0xADDR NAME : TYPE`, with single spaces exactly as talas writes it. This runs once per label, so it scans
  // characters rather than running regular expressions.
  const labelLine = (rest: string, ln: number) => {
    const sp = rest.indexOf(' ');
    const colon = sp < 0 ? -1 : rest.indexOf(' : ', sp + 1);
    if (colon < 0) throw new AnnotationError('expected ADDRESS NAME : TYPE', ln);
    const addr = hexAddress(rest, sp);
    if (addr < 0) throw new AnnotationError(`bad address '${rest.slice(0, sp)}'`, ln);
    const name = rest.slice(sp + 1, colon);
    if (!isName(name)) throw new AnnotationError(`bad label name '${name}'`, ln);
    if (names.has(name)) throw new AnnotationError(`label '${name}' annotated twice`, ln);
    names.add(name);
    return { name, addr, body: rest.slice(colon + 3), line: ln };
  };

  for (let i = 1; i < lines.length; i++) {
    const ln = i + 1;
    const line = lines[i];
    if (line === '') continue;
    const sp = line.indexOf(' ');
    const kw = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : line.slice(sp + 1);
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
      case 'code': codeItems.push(labelLine(rest, ln)); break;
      case 'data': dataItems.push(labelLine(rest, ln)); break;
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
  if (main === undefined) throw new AnnotationError("no 'main' entry", lines.length);

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
        const n = it.body.slice(1);
        ty = /^(0|[1-9][0-9]*)$/.test(n) ? table[Number(n)] : undefined;
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
