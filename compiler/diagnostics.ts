// Diagnostics as data (as AssemblyScript keeps them): every error with its file and position, collected so that a
// file's errors are all reported, in order, as `file:line:col: message`.

import type { Pos } from './ast.ts';

export interface Diagnostic { file: string; line: number; col: number; message: string }

export class Diagnostics {
  readonly list: Diagnostic[] = [];
  error(file: string, pos: Pos, message: string): void {
    this.list.push({ file, line: pos.line, col: pos.col, message });
  }
  get count(): number { return this.list.length; }
  /**
   * The diagnostics in reading order: by file (in the order files first got one), then line and column; the
   * checker's passes find them out of order (declarations first, then bodies).
   */
  sorted(): Diagnostic[] {
    const files: string[] = [];
    for (const d of this.list) if (!files.includes(d.file)) files.push(d.file);
    return this.list.map((d, i) => ({ d, i }))
      .sort((a, b) => files.indexOf(a.d.file) - files.indexOf(b.d.file) || a.d.line - b.d.line || a.d.col - b.d.col || a.i - b.i)
      .map(x => x.d);
  }
  format(): string {
    return this.sorted().map(d => `${d.file}:${d.line}:${d.col}: ${d.message}`).join('\n');
  }
}
