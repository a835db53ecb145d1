// The driver: source text → preprocess (preprocess.ts: macros, conditionals, headers, and the declaration-level
// #include of the standard library) → parse → resolve and check → TAL assembly →
// talas. Diagnostics come back as data, with the text of every file read, so that the caller can print each one
// with its source line (diagnostics.ts formats them).

import { readFileSync } from 'node:fs';
import { parseFile } from './parser.ts';
import { checkProgram } from './check.ts';
import { generate } from './codegen.ts';
import { dropDeadFunctions } from './live.ts';
import { optimiser } from './ir/pipeline.ts';
import { Diagnostics, type Diagnostic } from './diagnostics.ts';
import { displayName } from './library.ts';
import { preprocess, type PreprocessOptions } from './preprocess.ts';
import type { SourceFile } from './program.ts';
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

/**
 * The library's parsed declarations, by path, kept for the life of the process: a test run or a benchmark compiles
 * hundreds of programs that each include the same library files, and the parser (nearley's Earley parser) is a
 * third of a compilation. The stages after the parser write into the tree (a sized array's initialiser, a
 * function's locals), so each compilation gets its own copy (structuredClone: the tree is plain data).
 */
const libraryParses = new Map<string, { text: string; decls: SourceFile['decls'] }>();

function parseLibraryFile(text: string, file: string, diags: Diagnostics): SourceFile['decls'] {
  const cached = libraryParses.get(file);
  if (cached?.text === text) return structuredClone(cached.decls);
  const before = diags.count;
  const decls = parseFile(text, file, diags);
  if (diags.count === before) libraryParses.set(file, { text, decls: structuredClone(decls) });
  return decls;
}

/** Preprocess `file` (preprocess.ts), parse the library files it includes (each once, before it), then parse it. */
function load(text: string, file: string, diags: Diagnostics, sources: Map<string, string>, out: SourceFile[],
  options: PreprocessOptions, library = false): void {
  sources.set(file, text);
  const before = diags.count;
  const pp = preprocess(text, file, diags, options);
  for (const [name, header] of pp.headers) sources.set(name, header);
  if (pp.map) diags.mapPositions(file, pp.map);
  for (const p of pp.libraryIncludes) {
    const name = displayName(p);
    // The library is compiled as written: the program's -D/-I do not reach it.
    if (!sources.has(name)) load(readFileSync(p, 'utf8'), name, diags, sources, out, {}, true);
  }
  // Preprocessor errors leave text the parser would only report again, as cascades: that file is not parsed.
  if (diags.count !== before) return;
  if (library) out.push({ file, decls: parseLibraryFile(pp.text, file, diags), library });
  else out.push({ file, decls: parseFile(pp.text, file, diags) });
}

/** How popc compiles: the preprocessor's -I, -D and -U; level 0 is the stack machine (codegen.ts), level 1 and up
 * the optimiser (compiler/ir/). */
export interface CompileOptions extends PreprocessOptions { optimise?: number }

export function compile(text: string, file: string, options: CompileOptions = {}): CompileResult {
  return compileFiles([{ file, text }], options);
}

/** Compile several files together into one program (`popc a.pop b.pop -o prog`), each preprocessed on its own. */
export function compileFiles(inputs: { file: string; text: string }[], options: CompileOptions = {}): CompileResult {
  const diags = new Diagnostics();
  const files: SourceFile[] = [];
  const sources = new Map<string, string>();
  for (const { file, text } of inputs) load(text, file, diags, sources, files, options);
  if (diags.count) return { diagnostics: diags.sorted(), sources };
  const checked = checkProgram(files, diags);
  if (diags.count) return { diagnostics: diags.sorted(), sources };
  const live = dropDeadFunctions(checked);
  const tal = generate(live, options.optimise ? optimiser(live) : undefined);
  const first = inputs[0]?.file ?? 'a.pop';
  try {
    return { diagnostics: [], sources, tal, elf: assemble(tal, `${first}.tal`).elf };
  } catch (e) {
    if (e instanceof AsmErrors) return { diagnostics: [], sources, tal, assemblerErrors: e.message };
    throw e;
  }
}
