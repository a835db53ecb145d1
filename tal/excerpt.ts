// A source line quoted under a diagnostic, as compilers print it: the line with its number in a gutter, then a caret
// under the column (and `~` under the rest of a span). One format for every tool that points at source: talas's
// errors and warnings, popc's diagnostics (compiler/diagnostics.ts), the checker's refusals (messages.ts).

/** The line `line` (1-based) of `source` and a caret under `col` (1-based), or [] if there is no such line. */
export function excerpt(source: string | undefined, line: number, col?: number, span = 1): string[] {
  const raw = source?.split('\n')[line - 1];
  if (raw === undefined) return [];
  const text = raw.replace(/\r$/, '').replace(/\t/g, ' ');
  const gutter = String(line).padStart(5);
  const out = [`${gutter} | ${text}`];
  if (col !== undefined && col >= 1) {
    // The caret may sit just past the line's end (an expected ';').
    const tail = Math.max(0, Math.min(span - 1, text.length - col));
    out.push(`${' '.repeat(gutter.length)} | ${' '.repeat(col - 1)}^${'~'.repeat(tail)}`);
  }
  return out;
}
