// The driver: source text → parse (with #include of the standard library) → resolve and check → TAL assembly →
// talas. Diagnostics come back as data, with the text of every file read, so that the caller can print each one
// with its source line (diagnostics.ts formats them).

import { readFileSync } from 'node:fs';
import { parseFile } from './parser.ts';
import { checkProgram } from './check.ts';
import { generate } from './codegen.ts';
import { optimiser } from './ir/pipeline.ts';
import { Diag, Diagnostics, type Diagnostic } from './diagnostics.ts';
import { includePath, libraryFile, displayName } from './library.ts';
import type { SourceFile } from './program.ts';
import type { Decl } from './ast.ts';
import { assemble, AsmErrors } from '../tal/asm/assembler.ts';

export interface CompileResult {
  diagnostics: Diagnostic[];
  /** The text of every file the compilation read, by the name diagnostics give it. */
  sources: Map<string, string>;
  /** The TAL assembly, when the program is well typed. */
  tal?: string;
  /** The executable, when talas accepted the assembly. */
  elf?: Uint8Array;
  /** talas's messages if it refused popc's output (a popc bug). */
  assemblerErrors?: string;
}

/** C's `#include <file>`: refused, with what to write instead. */
function systemInclude(d: Extract<Decl, { k: 'include' }>, file: string, diags: Diagnostics): void {
  const e = diags.error(file, d.pos, Diag.SystemInclude, d.file);
  e.span = `#include <${d.file}>`.length;
  e.hints.push(libraryFile(d.file) ? `popc's library file is included with quotes: #include "${d.file}"`
    : 'popc\'s own library: #include "core.h" for print_string, print_int, flush (and open Core;), see docs/popcorn.md');
}

/** Parse `file` and everything it includes (each file once, includes first). */
function load(text: string, file: string, diags: Diagnostics, sources: Map<string, string>, out: SourceFile[]): void {
  sources.set(file, text);
  const decls = parseFile(text, file, diags);
  for (const d of decls) {
    if (d.k !== 'include') continue;
    if (d.system) { systemInclude(d, file, diags); continue; }
    const p = includePath(d.file, file);
    if (!p) { diags.error(file, d.pos, Diag.CannotFindInclude, d.file); continue; }
    const name = displayName(p);
    if (sources.has(name)) continue;
    load(readFileSync(p, 'utf8'), name, diags, sources, out);
  }
  out.push({ file, decls });
}

/** How popc compiles: level 0 is the stack machine (codegen.ts), level 1 and up the optimiser (compiler/ir/). */
export interface CompileOptions { optimise?: number }

export function compile(text: string, file: string, options: CompileOptions = {}): CompileResult {
  const diags = new Diagnostics();
  const files: SourceFile[] = [];
  const sources = new Map<string, string>();
  load(text, file, diags, sources, files);
  if (diags.count) return { diagnostics: diags.sorted(), sources };
  const checked = checkProgram(files, diags);
  if (diags.count) return { diagnostics: diags.sorted(), sources };
  const tal = generate(checked, options.optimise ? optimiser(checked) : undefined);
  try {
    return { diagnostics: [], sources, tal, elf: assemble(tal, `${file}.tal`).elf };
  } catch (e) {
    if (e instanceof AsmErrors) return { diagnostics: [], sources, tal, assemblerErrors: e.message };
    throw e;
  }
}
