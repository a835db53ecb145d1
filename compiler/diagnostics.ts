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
  /** Sorted by file order of appearance, then line and column. */
  format(): string {
    return this.list.map(d => `${d.file}:${d.line}:${d.col}: ${d.message}`).join('\n');
  }
}
