// The standard library's place on disk (compiler/lib/, written in the language) and what it declares. The
// preprocessor resolves `#include "core.h"` here when no header file of that name exists (docs/popcorn.md, "The
// preprocessor"); the resolver asks, for a name it cannot find, which library file declares it,
// to say which include is missing (as a C compiler suggests the header of an undeclared library function).

import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import type { Decl, QName } from './ast.ts';
import { parseFile } from './parser.ts';
import { Diagnostics } from './diagnostics.ts';

export const LIB_DIR = join(import.meta.dirname, 'lib');
/** The library's own include directory, searched after `-I` for a header file (`.h`) before the library's `.pop`
 * files are (see preprocess.ts and docs/popcorn.md, "The preprocessor"). */
export const LIB_INCLUDE_DIR = LIB_DIR;

/** `#include "core.h"` names lib/core.pop (a header and its implementation are one file here). */
const sourceName = (header: string): string => header.replace(/\.h$/, '.pop');

/** The library file a header names, if the library has it. */
export function libraryFile(header: string): string | undefined {
  const p = resolve(LIB_DIR, sourceName(header));
  return existsSync(p) ? p : undefined;
}

/** The file `#include "name"` in `from` reads: next to `from` first, then in the library. */
export function includePath(name: string, from: string): string | undefined {
  const local = resolve(dirname(from), sourceName(name));
  return existsSync(local) ? local : libraryFile(name);
}

/** The name diagnostics give a file: `lib/core.pop` for the library's, the path as given otherwise. */
export function displayName(path: string): string {
  return path.startsWith(LIB_DIR) ? `lib/${path.slice(LIB_DIR.length + 1)}` : path;
}

/** A top-level name of the library: the file that declares it (as diagnostics name it) and its namespace. */
export interface LibraryName { file: string; header: string; ns?: string; name: string }

let index: LibraryName[] | undefined;

/** Every function, global, struct and exception the library declares (parsed once, when a hint first needs it). */
function libraryNames(): LibraryName[] {
  if (index) return index;
  index = [];
  for (const f of readdirSync(LIB_DIR).filter(f => f.endsWith('.pop')).sort()) {
    const file = `lib/${f}`;
    const header = f.replace(/\.pop$/, '.h');
    const walk = (decls: Decl[], ns: string | undefined): void => {
      for (const d of decls) {
        if (d.k === 'namespace') walk(d.decls, d.name);
        else if (d.k === 'fun' || d.k === 'global' || d.k === 'struct' || d.k === 'exception') {
          index!.push({ file, header, ns, name: d.name });
        }
      }
    };
    walk(parseFile(readFileSync(join(LIB_DIR, f), 'utf8'), file, new Diagnostics()), undefined);
  }
  return index;
}

/** The library declarations a name as written could mean (`print_string`, `Core::print_string`). */
export function findInLibrary(q: QName): LibraryName[] {
  return libraryNames().filter(n => n.name === q.name && (q.ns === undefined || q.ns === n.ns));
}
