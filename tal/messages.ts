// The checker's refusals in the source's language: where the refused instruction came from (`file.tal:LINE:`, from
// the executable's `.tal.lines`), the source line itself when that file can be read, and the instruction with its
// import slots and labels by name (from `.symtab`), then the address, file offset and block as the checker gives
// them. Not trusted, and not imported by the checker: the checker decides from the code and `.tal.types` alone and
// returns its refusal as data (CheckError); this module only prints it. Everything it reads from the executable is
// read leniently (../lines.ts): a missing or malformed line table or symbol table leaves out the names and lines,
// never the refusal.

import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { CheckError, CheckSummary } from './check/checker.ts';
import { lineAt, lineTableOf, type SourceLoc, symbolsOf } from './lines.ts';

export interface MessageOptions {
  /**
   * The text of the source file a line table names, or undefined if it cannot be read. By default the host's file
   * system (readSourceFile).
   */
  readSource?: (path: string, executable: string) => string | undefined;
}

/** The longest source file whose line a message quotes. */
const MAX_SOURCE_BYTES = 8 << 20;
/**
 * The names a line table may give for a file whose lines a message quotes: the line table is the executable's to
 * write, and a message shows only sources, whatever else it names.
 */
const SOURCE_NAME = /\.(tal|pop|s|S|asm)$/;

/**
 * A source file named by a line table, from the host's file system: as named (relative to the current directory),
 * or else beside the executable. Only regular files with a source's extension, of reasonable size.
 */
export function readSourceFile(path: string, executable: string): string | undefined {
  if (!SOURCE_NAME.test(path)) return undefined;
  const candidates = isAbsolute(path) ? [path] : [path, join(dirname(executable), path)];
  for (const p of candidates) {
    try {
      const st = statSync(p);
      if (st.isFile() && st.size <= MAX_SOURCE_BYTES) return readFileSync(p, 'utf8');
    } catch {
      // not there: the next candidate
    }
  }
  return undefined;
}

/**
 * The refusal of `elf` (named `file`) as the commands print it. With a line table:
 *
 *     prog.tal:7: refused [null-deref]: …
 *         7 |     mov ebx, DWORD PTR [eax]
 *       prog: at 0x80480b2 (file offset 0xb2) in block 'main'
 *       instruction: mov ebx,DWORD PTR [eax]
 *       expected:    …
 *
 * Without one (or for a refusal not at an instruction), the checker's own form: `prog: refused [cls] at …: …`.
 */
export function formatRefusal(file: string, e: CheckError, elf: Uint8Array, o: MessageOptions = {}): string {
  const symbols = symbolsOf(elf);
  const table = e.address !== undefined ? lineTableOf(elf) : undefined;
  const loc = table && e.address !== undefined ? lineAt(table, e.address) : undefined;
  const where = e.address !== undefined
    ? `0x${hex(e.address)} (file offset 0x${hex(e.fileOffset ?? 0)})${e.label ? ` in block '${e.label}'` : ''}`
    : '';
  let message = nameAddresses(e.message, symbols);
  // A branch to a label that has no type: the checker, seeing only the address, can but guess what is there.
  if (e.cls === 'bad-target') {
    const untyped = /\('([^']+)'\) is not a labelled block \(.*\)$/;
    message = message.replace(untyped, "is label '$1', which has no .tal_label type");
  }
  const lines: string[] = [];
  if (loc) {
    lines.push(`${loc.file}:${loc.line}: refused [${e.cls}]: ${message}`);
    const text = sourceLine(loc, file, o.readSource ?? readSourceFile);
    if (text !== undefined) lines.push(`${String(loc.line).padStart(6)} | ${text}`);
    lines.push(`  ${file}: at ${where}`);
  } else {
    lines.push(`${file}: refused [${e.cls}]${where ? ` at ${where}` : ''}: ${message}`);
  }
  if (e.insn) lines.push(`  instruction: ${nameOperands(e.insn, symbols)}`);
  if (e.expected !== undefined) lines.push(`  expected:    ${e.expected}`);
  if (e.actual !== undefined) lines.push(`  actual:      ${e.actual}`);
  return lines.join('\n');
}

const hex = (n: number): string => (n >>> 0).toString(16);

/** Line `loc.line` of its file, without control characters (the file is not ours to trust), or undefined. */
type ReadSource = NonNullable<MessageOptions['readSource']>;
function sourceLine(loc: SourceLoc, executable: string, read: ReadSource): string | undefined {
  let text: string | undefined;
  try {
    text = read(loc.file, executable);
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  let start = 0;
  for (let n = 1; n < loc.line; n++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return undefined;
    start = nl + 1;
  }
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? undefined : end).replace(/\s+$/, '').replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '?');
}

/** Addresses in the checker's message that are labels, followed by the label's name (if the message lacks it). */
function nameAddresses(message: string, symbols: Map<number, string>): string {
  return message.replace(/\b0x([0-9a-f]+)\b/g, (m, h: string) => {
    const name = symbols.get(parseInt(h, 16));
    return name !== undefined && !message.includes(`'${name}'`) ? `${m} ('${name}')` : m;
  });
}

/**
 * The instruction text with addresses that are labels by name, as they were written in the source: a branch's
 * target (`jmp loop_top`), an absolute memory operand (`call DWORD PTR [write]`, an import slot), a displacement
 * (`[eax+table]`) and an immediate that is a label's address (`OFFSET msg`).
 */
function nameOperands(insn: string, symbols: Map<number, string>): string {
  const sp = insn.indexOf(' ');
  if (sp < 0 || symbols.size === 0) return insn;
  const mnemonic = insn.slice(0, sp);
  const branch = /^(j[a-z]+|call|loop[a-z]*)$/.test(mnemonic);
  const name = (h: string) => symbols.get(parseInt(h, 16));
  const operands = insn.slice(sp + 1).split(',').map(op => {
    const bare = /^0x([0-9a-f]+)$/.exec(op);
    if (bare) {
      const n = name(bare[1]);
      return n === undefined ? op : branch ? n : `OFFSET ${n}`;
    }
    return op
      .replace(/\bds:0x([0-9a-f]+)$/, (m, h: string) => {
        const n = name(h);
        return n === undefined ? m : `[${n}]`;
      })
      .replace(/\+0x([0-9a-f]+)\]$/, (m, h: string) => {
        const n = name(h);
        return n === undefined ? m : `+${n}]`;
      });
  });
  return `${mnemonic} ${operands.join(',')}`;
}

/** An accepted file, in one line: what the checker verified. */
export function formatCheckSummary(file: string, s: CheckSummary): string {
  return `${file}: verified: ${s.blocks} blocks, ${s.instructions} instructions, ${s.codeBytes} bytes of code, ` +
    `${s.dataObjects} data objects, ${s.imports.length} imports (${s.imports.join(', ') || 'none'})`;
}
