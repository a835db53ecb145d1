// The GNU binutils oracles: `as --32` (what bytes an instruction is) and `objdump -M intel` (what bytes mean).
// Every helper runs a handful of processes for a whole batch of cases, never one process per case.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TOOLS = ['as', 'ld', 'nm', 'objcopy', 'objdump'] as const;

let present: boolean | undefined;

/** Whether GNU as, ld, nm, objcopy and objdump are on the PATH. */
export function haveBinutils(): boolean {
  if (present === undefined) {
    present = TOOLS.every(tool => {
      try {
        execFileSync(tool, ['--version'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    });
  }
  return present;
}

function run(tool: string, args: string[], cwd: string): string {
  try {
    return execFileSync(tool, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${tool} ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}

function withTempDir<T>(f: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'ktal-binutils-'));
  try {
    return f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface AssembleOptions {
  /** Link the object with `ld -Ttext=ADDRESS` so that absolute branch targets and symbols are resolved. */
  textAddress?: number;
  /** Source lines appended after the cases (e.g. a `.data` section with symbols the cases refer to). */
  epilogue?: string[];
}

export interface Assembled {
  /** The bytes of each line, in order. */
  bytes: number[][];
  /** The offset (or, when linked, the address) of each line. */
  addresses: number[];
  /** Every symbol in the object (or executable), with its value as `nm` prints it. */
  symbols: Map<string, number>;
  /** The whole .text section, and where it starts (0 for an object file). */
  text: Uint8Array;
  textStart: number;
}

/** The case label for line i. Chosen so that it cannot collide with anything a case names. */
const caseLabel = (i: number) => `__ktal_case_${i}`;
const END_LABEL = '__ktal_case_end';

/**
 * Assembles `lines` (GNU `.intel_syntax noprefix`, one instruction or directive each) in one `as --32` run,
 * each preceded by its own label, and returns the bytes each line produced. Throws, naming every failing line,
 * if GNU as refuses any of them.
 */
export function gnuAssembleDetailed(lines: string[], opts: AssembleOptions = {}): Assembled {
  return withTempDir(dir => {
    const src = ['.intel_syntax noprefix', '.text'];
    lines.forEach((l, i) => src.push(`${caseLabel(i)}:`, `  ${l}`));
    src.push(`${END_LABEL}:`, ...(opts.epilogue ?? []), '');
    writeFileSync(join(dir, 'a.s'), src.join('\n'));
    try {
      execFileSync('as', ['--32', '-o', 'a.o', 'a.s'],
        { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const stderr = (e as { stderr?: string }).stderr ?? '';
      const failing = new Map<number, string>();
      for (const m of stderr.matchAll(/^a\.s:(\d+): (?:Error|Fatal error): (.*)$/gm)) {
        // Line 4 + 2i is case i's instruction (line 1 .intel_syntax, line 2 .text, line 3 + 2i its label).
        const i = (Number(m[1]) - 4) / 2;
        failing.set(Number.isInteger(i) && i >= 0 && i < lines.length ? i : -Number(m[1]), m[2]);
      }
      throw new GnuAsError(lines, failing, stderr);
    }
    let file = 'a.o';
    if (opts.textAddress !== undefined) {
      run('ld', ['-m', 'elf_i386', `-Ttext=0x${opts.textAddress.toString(16)}`, '-e', caseLabel(0), '-z', 'noexecstack',
        '-o', 'a.out', 'a.o'], dir);
      file = 'a.out';
    }
    const symbols = new Map<string, number>();
    for (const line of run('nm', [file], dir).split('\n')) {
      const m = line.match(/^([0-9a-f]+) \S (\S+)$/);
      if (m) symbols.set(m[2], parseInt(m[1], 16));
    }
    run('objcopy', ['-O', 'binary', '-j', '.text', file, 'text.bin'], dir);
    const text = new Uint8Array(readFileSync(join(dir, 'text.bin')));
    const textStart = opts.textAddress ?? 0;
    const addresses = lines.map((_, i) => symbols.get(caseLabel(i))!);
    const end = symbols.get(END_LABEL)!;
    const bytes = addresses.map((a, i) => Array.from(text.subarray(a - textStart,
      (i + 1 < lines.length ? addresses[i + 1] : end) - textStart)));
    return { bytes, addresses, symbols, text, textStart };
  });
}

/** GNU as refused some lines: `failing` maps each case index (or minus the source line) to its message. */
export class GnuAsError extends Error {
  constructor(lines: string[], readonly failing: Map<number, string>, stderr: string) {
    const list = [...failing].map(([i, msg]) => `${i >= 0 ? `'${lines[i]}'` : `line ${-i}`}: ${msg}`);
    super(`GNU as refused ${failing.size || 'some'} line(s):\n${list.join('\n') || stderr}`);
  }
}

/**
 * Like gnuAssembleDetailed, but a line GNU refuses gives its error message instead of bytes (the others are
 * assembled without it, in a second run).
 */
export function gnuTryAssemble(lines: string[], opts: AssembleOptions = {}): (number[] | string)[] {
  const errors = new Map<number, string>();
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      const r = gnuAssembleDetailed(lines.map((l, i) => (errors.has(i) ? '' : l)), opts);
      return r.bytes.map((b, i) => errors.get(i) ?? b);
    } catch (e) {
      if (!(e instanceof GnuAsError) || [...e.failing.keys()].some(i => i < 0 || errors.has(i))) throw e;
      for (const [i, msg] of e.failing) errors.set(i, msg);
    }
  }
  throw new Error('GNU as keeps refusing lines');
}

/** Assembles many instructions in one `as --32` run; the bytes of each, in order. */
export function gnuAssemble(lines: string[]): number[][] {
  return gnuAssembleDetailed(lines).bytes;
}

export interface ObjdumpLine { address: number; length: number; text: string }

/** objdump's text with the mnemonic column padding reduced to one space (and no trailing blanks). */
export function normaliseObjdumpText(text: string): string {
  return text.trim().replace(/^(\S+)\s+/, '$1 ');
}

/**
 * Disassembles `bytes`, loaded at `vma`, with `objdump -D -z -b binary -m i386 -M intel` in one run. Instructions
 * longer than objdump's byte column continue on lines that carry only bytes; those count toward the length.
 */
export function objdumpBytes(bytes: Uint8Array, vma: number): ObjdumpLine[] {
  return withTempDir(dir => {
    writeFileSync(join(dir, 'code.bin'), bytes);
    const out = run('objdump',
      ['-D', '-z', '-b', 'binary', '-m', 'i386', '-M', 'intel', `--adjust-vma=0x${vma.toString(16)}`, 'code.bin'], dir);
    const result: ObjdumpLine[] = [];
    for (const line of out.split('\n')) {
      const m = line.match(/^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*(?:\t(.*))?$/);
      if (!m) continue;
      const address = parseInt(m[1], 16);
      const n = m[2].trim().split(' ').length;
      if (m[3] === undefined) {
        // A continuation line: more bytes of the previous instruction.
        const prev = result[result.length - 1];
        if (!prev || prev.address + prev.length !== address)
          throw new Error(`objdump: unexpected continuation line '${line}'`);
        prev.length += n;
      } else {
        result.push({ address, length: n, text: normaliseObjdumpText(m[3]) });
      }
    }
    return result;
  });
}

/**
 * Disassembles each byte string on its own, all in one `as` and one `objdump -d` run: each string is placed after
 * its own symbol, and objdump starts afresh at every symbol and stops at the next. Branch targets keep objdump's
 * object-file spelling (an offset and `<symbol+offset>`), so this is for classifying, not for comparing texts.
 */
export function objdumpSlots(strings: Uint8Array[]): ObjdumpLine[][] {
  return withTempDir(dir => {
    const src = ['.text'];
    strings.forEach((s, i) => src.push(`__ktal_slot_${i}:`, `  .byte ${Array.from(s).join(',')}`));
    src.push('');
    writeFileSync(join(dir, 'a.s'), src.join('\n'));
    run('as', ['--32', '-o', 'a.o', 'a.s'], dir);
    const out = run('objdump', ['-d', '-z', '-M', 'intel', 'a.o'], dir);
    const result: ObjdumpLine[][] = strings.map(() => []);
    let slot: ObjdumpLine[] | undefined;
    for (const line of out.split('\n')) {
      const header = line.match(/^[0-9a-f]+ <__ktal_slot_(\d+)>:$/);
      if (header) { slot = result[Number(header[1])]; continue; }
      const m = line.match(/^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*(?:\t(.*))?$/);
      if (!m || !slot) continue;
      const address = parseInt(m[1], 16);
      const n = m[2].trim().split(' ').length;
      if (m[3] === undefined) {
        const prev = slot[slot.length - 1];
        if (prev) prev.length += n;
      } else {
        slot.push({ address, length: n, text: normaliseObjdumpText(m[3]) });
      }
    }
    return result;
  });
}
