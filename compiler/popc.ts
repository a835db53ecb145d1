// The driver: source text → parse (with #include of the standard library) → check → TAL assembly → talas.
// Diagnostics come back as data; the caller decides how to print them.

import { readFileSync, existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { parseFile } from './parser.ts';
import { checkProgram, type SourceFile } from './check.ts';
import { generate } from './codegen.ts';
import { Diagnostics, type Diagnostic } from './diagnostics.ts';
import { assemble, AsmErrors } from '../tal/asm/assembler.ts';

export const LIB_DIR = join(import.meta.dirname, 'lib');

export interface CompileResult {
  diagnostics: Diagnostic[];
  /** The TAL assembly, when the program is well typed. */
  tal?: string;
  /** The executable, when talas accepted the assembly. */
  elf?: Uint8Array;
  /** talas's messages if it refused popc's output (a popc bug). */
  assemblerErrors?: string;
}

/** `#include "core.h"` names lib/core.pop (a header and its implementation are one file here). */
function includePath(name: string, from: string): string | undefined {
  const base = name.replace(/\.h$/, '.pop');
  for (const dir of [dirname(from), LIB_DIR]) {
    const p = resolve(dir, base);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Parse `file` and everything it includes (each file once, includes first). */
function load(text: string, file: string, diags: Diagnostics, seen: Set<string>, out: SourceFile[]): void {
  const decls = parseFile(text, file, diags);
  for (const d of decls) {
    if (d.k !== 'include') continue;
    const p = includePath(d.file, file);
    if (!p) { diags.error(file, d.pos, `cannot find include file "${d.file}"`); continue; }
    if (seen.has(p)) continue;
    seen.add(p);
    load(readFileSync(p, 'utf8'), p.startsWith(LIB_DIR) ? `lib/${p.slice(LIB_DIR.length + 1)}` : p, diags, seen, out);
  }
  out.push({ file, decls });
}

export function compile(text: string, file: string): CompileResult {
  const diags = new Diagnostics();
  const files: SourceFile[] = [];
  load(text, file, diags, new Set(), files);
  if (diags.count) return { diagnostics: diags.sorted() };
  const checked = checkProgram(files, diags);
  if (diags.count) return { diagnostics: diags.sorted() };
  const tal = generate(checked);
  try {
    return { diagnostics: [], tal, elf: assemble(tal, `${file}.tal`).elf };
  } catch (e) {
    if (e instanceof AsmErrors) return { diagnostics: [], tal, assemblerErrors: e.message };
    throw e;
  }
}
