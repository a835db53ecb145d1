// talas: TAL assembly (GNU-style Intel syntax plus .tal_ directives) to a static i386 ELF executable.
// Not trusted: whatever it writes, the checker verifies. Data flows one way: lines → items → layout → bytes → ELF.

import { annotationsText, readAnnotations } from '../annotations.ts';
import { PAGE_SIZE, PF_R, PF_W, PF_X, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS, SHT_PROGBITS } from '../elf.ts';
import { type OutSection, type OutSymbol, writeElf } from './elf-writer.ts';
import { importSig } from '../interface.ts';
import { type Arg, type CodeTy, type Ty, whnf } from '../types.ts';
import { parseArgList, parseCode, parseTy, parseTypeDefs, TypeSyntaxError } from '../typeparse.ts';
import { type AsmOperand } from '../x86/insn.ts';
import { encode, branchLengths, EncodeError } from '../x86/encode.ts';
import { type ParsedInsn, parseInstruction, resolveOperands, AsmSyntaxError } from '../x86/parse.ts';
import { IMPORTS_SECTION, RUNTIME_DATA_SECTION, RUNTIME_SECTION, TYPES_SECTION } from '../check/program.ts';
import { runtimeSource } from './runtime.ts';
import { type CoercionIn, type LabelIn, writeAnnotations } from './types-writer.ts';
import { encodeLineTable, LINES_SECTION, type SourceLoc } from '../lines.ts';

export const LOAD_BASE = 0x08048000;
const HEADERS_SIZE = 52 + 3 * 32;

export class AsmError extends Error {
  override name = 'AsmError';
  constructor(readonly file: string, readonly line: number, readonly col: number, readonly msg: string) {
    super(`${file}:${line}:${col}: ${msg}`);
  }
}

/**
 * Something the checker will refuse that talas can already see (and name, which the checker cannot: it sees only
 * addresses). The executable is written all the same.
 */
export class AsmWarning {
  constructor(readonly file: string, readonly line: number, readonly col: number, readonly msg: string) {}
  get message(): string {
    return `${this.file}:${this.line}:${this.col}: warning: ${this.msg}`;
  }
}

/** All the errors of one assembly, in source order. */
export class AsmErrors extends Error {
  override name = 'AsmErrors';
  constructor(readonly errors: AsmError[]) {
    super(errors.map(e => e.message).join('\n'));
  }
}

type SectionName = '.text' | '.tal.rt' | '.rodata' | '.data' | '.bss' | '.tal.rtbss';
const SECTIONS: SectionName[] = ['.text', '.tal.rt', '.rodata', '.data', '.bss', '.tal.rtbss'];

interface Pos { file: string; line: number; col: number }
/** `.tal_pack REG, TYPE[, WITNESS]` or `.tal_unpack REG`, with the types' text (parsed in the block's scope). */
interface PendingCoercion { op: 'pack' | 'unpack'; reg: number; type?: string; witness?: string; pos: Pos }
const COERCE_REGS: Record<string, number> = { eax: 0, ecx: 1, edx: 2, ebx: 3, ebp: 5, esi: 6, edi: 7 };

/** Split at the commas outside brackets (types contain commas). */
function topLevelCommas(s: string): string[] {
  const out: string[] = [];
  let depth = 0, from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if ('([{<'.includes(c)) depth++;
    else if (')]}>'.includes(c)) depth--;
    else if (c === ',' && depth === 0) { out.push(s.slice(from, i).trim()); from = i + 1; }
  }
  out.push(s.slice(from).trim());
  return out;
}
interface Expr { sym?: string; value: number }

type Item =
  | { k: 'label'; name: string; pos: Pos }
  | {
    k: 'insn'; parsed: ParsedInsn; pos: Pos; inst?: { text: string; pos: Pos }; short: boolean; size: number;
    /** The .tal_pack and .tal_unpack right before it (docs/tal.md §5), in order. */
    coerce?: PendingCoercion[];
    /** Where the line table says it comes from: its own line, or the last .tal_loc's. */
    loc: SourceLoc;
  }
  | { k: 'bytes'; data: number[]; pos: Pos }
  | { k: 'words'; exprs: Expr[]; pos: Pos }
  | { k: 'zero'; n: number; pos: Pos }
  | { k: 'align'; n: number; pos: Pos };

interface Source {
  items: Map<SectionName, Item[]>;
  types: { head: string; body: string; pos: Pos }[];
  labelTypes: Map<string, { text: string; pos: Pos }>;
  imports: { name: string; pos: Pos }[];
  main: { name: string; pos: Pos } | undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Lines

function stripComment(line: string): string {
  let inStr: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === inStr) inStr = null;
    } else if (c === '"') {
      inStr = c;
    } else if (c === "'") {
      // a character literal 'x' or '\n'
      const end = line[i + 1] === '\\' ? i + 3 : i + 2;
      if (line[end] === "'") i = end;
    } else if (c === '#') {
      return line.slice(0, i);
    }
  }
  return line;
}

const ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, '"': 34, "'": 39, a: 7, b: 8, f: 12,
  v: 11 };

function parseString(s: string, fail: (m: string, col?: number) => never): number[] {
  if (!s.startsWith('"') || !s.endsWith('"') || s.length < 2) fail('expected a string in double quotes');
  const out: number[] = [];
  const body = s.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '"') fail('unescaped quote inside a string');
    if (c !== '\\') {
      for (const b of new TextEncoder().encode(c)) out.push(b);
      continue;
    }
    const e = body[++i];
    if (e === undefined) fail('string ends with a backslash');
    if (e === 'x') {
      const m = /^[0-9a-fA-F]{1,2}/.exec(body.slice(i + 1));
      if (!m) fail('\\x needs hex digits');
      out.push(parseInt(m[0], 16));
      i += m[0].length;
    } else if (/[0-7]/.test(e)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i))!;
      out.push(parseInt(m[0], 8) & 0xff);
      i += m[0].length - 1;
    } else if (e in ESCAPES) {
      out.push(ESCAPES[e]);
    } else {
      fail(`unknown escape \\${e}`);
    }
  }
  return out;
}

function parseNumber(s: string): number | undefined {
  const t = s.trim();
  let m = /^(-)?(0x[0-9a-fA-F]+|0b[01]+|[0-9]+)$/.exec(t);
  if (m) {
    const v = Number(m[2].startsWith('0b') ? parseInt(m[2].slice(2), 2) : m[2]);
    return m[1] ? -v : v;
  }
  m = /^'(\\?.)'$/.exec(t);
  if (m) return m[1].length === 2 ? ESCAPES[m[1][1]] : m[1].charCodeAt(0);
  return undefined;
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '', inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inStr) {
      cur += c;
      if (c === '\\') cur += s[++i] ?? '';
      else if (c === '"') inStr = false;
    } else if (c === '"') {
      inStr = true;
      cur += c;
    } else if (c === ',') {
      out.push(cur.trim());
      cur = '';
    } else {
      cur += c;
    }
  }
  if (cur.trim() !== '' || out.length > 0) out.push(cur.trim());
  return out;
}

const IDENT = /^[A-Za-z_.$][A-Za-z0-9_.$]*$/;

function brackets(s: string): number {
  let d = 0;
  for (const c of s) {
    if (c === '{' || c === '[' || c === '(') d++;
    else if (c === '}' || c === ']' || c === ')') d--;
  }
  return d;
}

function readSource(text: string, file: string, errors: AsmError[], src: Source, startSection: SectionName,
  allowInternal: boolean): void {
  let section: SectionName = startSection;
  let pendingInst: { text: string; pos: Pos } | undefined;
  let pendingCoerce: PendingCoercion[] | undefined;
  /** Set by .tal_loc: where the following instructions come from, for the line table (else their own line). */
  let loc: SourceLoc | undefined;
  const lines = text.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const lineNo = li + 1;
    let line = stripComment(lines[li]).replace(/\s+$/, '');
    const indent = line.length - line.trimStart().length;
    const pos = (col: number): Pos => ({ file, line: lineNo, col: col + 1 });
    const fail: (msg: string, col?: number) => never = (msg, col = indent) => {
      throw new AsmError(file, lineNo, col + 1, msg);
    };
    try {
      let rest = line.trimStart();
      let col = indent;
      // labels
      for (;;) {
        const m = /^([A-Za-z_.$][A-Za-z0-9_.$]*):/.exec(rest);
        if (!m || rest.startsWith('::')) break;
        if (m[1].startsWith('__tal_') && !allowInternal)
          fail(`label '${m[1]}': names starting with __tal_ are reserved for the runtime`, col);
        src.items.get(section)!.push({ k: 'label', name: m[1], pos: pos(col) });
        const after = rest.slice(m[0].length);
        col += m[0].length + (after.length - after.trimStart().length);
        rest = after.trimStart();
      }
      if (rest === '') continue;
      if (rest.startsWith('.')) {
        const m = /^(\.[A-Za-z_0-9.]+)\s*(.*)$/.exec(rest)!;
        const dir = m[1];
        let args = m[2];
        // Long annotations may continue over lines until their brackets balance.
        // A label or a directive ends the annotation: a bracket left open is then an error on the annotation's own
        // line, not a confusing one wherever the brackets happen to balance.
        while (dir.startsWith('.tal_') && brackets(args) > 0 && li + 1 < lines.length) {
          const next = stripComment(lines[li + 1]).trim();
          if (/^[A-Za-z_.$][\w.$]*:$/.test(next) || /^\.[A-Za-z]/.test(next)) break;
          li++;
          args += ' ' + next;
        }
        if (dir.startsWith('.tal_') && brackets(args) > 0) fail(`${dir}: a bracket is never closed`, col);
        const argCol = col + rest.length - m[2].length;
        const items = src.items.get(section)!;
        switch (dir) {
          case '.intel_syntax': case '.globl': case '.global': case '.type': case '.size': case '.file': case '.ident':
            break;
          case '.text': section = '.text'; break;
          case '.data': section = '.data'; break;
          case '.bss': section = '.bss'; break;
          case '.section': {
            const name = args.split(',')[0].trim();
            if (name === '.text' || name === '.rodata' || name === '.data' || name === '.bss'
              || (allowInternal
              && (name === RUNTIME_SECTION || name === RUNTIME_DATA_SECTION))) section = name as SectionName;
            else fail(`unknown section '${name}' (talas knows .text, .rodata, .data, .bss)`, argCol);
            break;
          }
          case '.byte': case '.short': case '.word': case '.long': case '.int': {
            const width = dir === '.byte' ? 1 : dir === '.short' || dir === '.word' ? 2 : 4;
            if (section === '.bss') fail(`${dir} in .bss: use .zero`);
            const exprs: Expr[] = splitArgs(args).map(a => {
              const n = parseNumber(a);
              if (n !== undefined) {
                const lim = 2 ** (8 * width);
                if (n < -(lim / 2) || n >= lim)
                  fail(`value ${a} does not fit in ${width} byte${width > 1 ? 's' : ''}`, argCol);
                return { value: n };
              }
              const sm = /^([A-Za-z_.$][A-Za-z0-9_.$]*)\s*(?:([+-])\s*(\S+))?$/.exec(a);
              if (!sm || width !== 4) fail(`bad ${dir} value '${a}'`, argCol);
              const off = sm[3] === undefined ? 0 : parseNumber(sm[3]);
              if (off === undefined) fail(`bad offset in '${a}'`, argCol);
              return { sym: sm[1], value: sm[2] === '-' ? -off : off };
            });
            if (width === 4) items.push({ k: 'words', exprs, pos: pos(col) });
            else {
              const data: number[] = [];
              for (const e of exprs) for (let i = 0; i < width; i++) data.push((e.value >> (8 * i)) & 0xff);
              items.push({ k: 'bytes', data, pos: pos(col) });
            }
            break;
          }
          case '.ascii': case '.asciz': case '.string': case '.tal_bytes': {
            if (section === '.bss') fail(`${dir} in .bss`);
            const strs = splitArgs(args);
            for (const s of strs) {
              const data = parseString(s, (msg, c) => fail(msg, c ?? argCol));
              if (dir === '.tal_bytes')
                items.push({ k: 'bytes',
                  data: [data.length & 0xff, (data.length >> 8) & 0xff, (data.length >> 16) & 0xff,
                  data.length >>> 24], pos: pos(col) });
              if (dir === '.asciz' || dir === '.string') data.push(0);
              items.push({ k: 'bytes', data, pos: pos(col) });
            }
            break;
          }
          case '.zero': case '.space': case '.skip': {
            const [n, fill] = splitArgs(args).map(parseNumber);
            if (n === undefined || n < 0) fail(`${dir} needs a non-negative size`, argCol);
            if (fill !== undefined && fill !== 0) {
              if (section === '.bss') fail('.bss can only hold zeros');
              items.push({ k: 'bytes', data: new Array(n).fill(fill & 0xff), pos: pos(col) });
            } else items.push({ k: 'zero', n, pos: pos(col) });
            break;
          }
          case '.align': case '.balign': case '.p2align': {
            const v = parseNumber(splitArgs(args)[0] ?? '');
            if (v === undefined || v < 0) fail(`${dir} needs a number`, argCol);
            const n = dir === '.p2align' ? 2 ** v : v;
            if (n < 1 || (n & (n - 1)) !== 0) fail(`alignment ${n} is not a power of two`, argCol);
            if (section === '.text')
              fail('alignment inside .text would insert padding instructions, which have no type: align data instead');
            items.push({ k: 'align', n, pos: pos(col) });
            break;
          }
          case '.tal_loc': {
            if (args.trim() === '') {
              loc = undefined;
              break;
            }
            const lm = /^("(?:[^"\\]|\\.)*")\s+([0-9]+)$/.exec(args.trim());
            if (!lm) fail('.tal_loc "FILE" LINE (or .tal_loc alone, to go back to this file\'s lines)', argCol);
            const name = new TextDecoder().decode(Uint8Array.from(parseString(lm[1], msg => fail(msg, argCol))));
            const n = Number(lm[2]);
            if (name === '' || name.includes('\0')) fail('.tal_loc needs a file name', argCol);
            if (n < 1 || n > 0x7fffffff) fail(`.tal_loc: line ${lm[2]} is out of range`, argCol);
            loc = { file: name, line: n };
            break;
          }
          case '.tal_main': {
            if (!IDENT.test(args.trim())) fail('.tal_main needs a label name', argCol);
            if (src.main) fail('.tal_main given twice');
            src.main = { name: args.trim(), pos: pos(col) };
            break;
          }
          case '.tal_type': {
            const eq = args.indexOf('=');
            if (eq < 0) fail(".tal_type NAME<params> = TYPE", argCol);
            src.types.push({ head: args.slice(0, eq).trim(), body: args.slice(eq + 1).trim(), pos: pos(argCol) });
            break;
          }
          case '.tal_label': {
            const cm = /^([A-Za-z_.$][A-Za-z0-9_.$]*)\s*:\s*(.+)$/.exec(args);
            if (!cm) fail('.tal_label NAME : TYPE', argCol);
            if (src.labelTypes.has(cm[1])) fail(`label '${cm[1]}' already has a type`, argCol);
            src.labelTypes.set(cm[1], { text: cm[2].trim(), pos: pos(argCol + args.indexOf(cm[2])) });
            break;
          }
          case '.tal_inst': {
            if (section !== '.text') fail('.tal_inst belongs right before a call or jump in .text');
            if (pendingInst) fail('two .tal_inst for one instruction');
            pendingInst = { text: args.trim(), pos: pos(argCol) };
            break;
          }
          case '.tal_pack': case '.tal_unpack': {
            if (section !== '.text') fail(`${dir} belongs right before an instruction in .text`);
            const parts = topLevelCommas(args);
            const reg = COERCE_REGS[parts[0]];
            const pack = dir === '.tal_pack';
            const shapeOk = pack
              ? parts.length >= 2 && parts.length <= 3 && parts.every(x => x !== '')
              : parts.length === 1;
            if (reg === undefined || !shapeOk)
              fail(pack ? '.tal_pack REG, EXISTENTIAL_TYPE[, WITNESS] (REG: eax ebx ecx edx esi edi ebp)'
                : '.tal_unpack REG', argCol);
            (pendingCoerce ??= []).push({ op: pack ? 'pack' : 'unpack', reg, type: parts[1], witness: parts[2],
              pos: pos(argCol) });
            break;
          }
          case '.tal_import': {
            for (const name of splitArgs(args)) {
              if (!importSig(name)) fail(`the kernel interface has no import '${name}'`, argCol);
              if (src.imports.some(i => i.name === name)) fail(`import '${name}' declared twice`, argCol);
              src.imports.push({ name, pos: pos(argCol) });
            }
            break;
          }
          default:
            fail(`unknown directive ${dir}`);
        }
        continue;
      }
      if (section !== '.text' && section !== '.tal.rt') fail(`instruction in ${section}`);
      let parsed: ParsedInsn;
      try {
        parsed = parseInstruction(rest);
      } catch (e) {
        if (e instanceof AsmSyntaxError) fail(e.message, col + (e.col ?? 0));
        throw e;
      }
      // A branch to a label starts short and is relaxed; a branch to a bare number is always long, as in GNU as.
      const target = parsed.operands[0];
      const short = !(target?.k === 'expr' && target.expr.symbols.length === 0);
      const at = loc ?? { file, line: lineNo };
      src.items.get(section)!.push({
        k: 'insn', parsed, pos: pos(col), inst: pendingInst, short, size: 0, loc: at, coerce: pendingCoerce,
      });
      pendingInst = undefined;
      pendingCoerce = undefined;
    } catch (e) {
      if (e instanceof AsmError) errors.push(e);
      else throw e;
    }
  }
  if (pendingInst)
    errors.push(new AsmError(file, pendingInst.pos.line, pendingInst.pos.col,
      '.tal_inst with no instruction after it'));
  for (const c of pendingCoerce ?? [])
    errors.push(new AsmError(file, c.pos.line, c.pos.col, `.tal_${c.op} with no instruction after it`));
}

// ---------------------------------------------------------------------------------------------------------------
// Layout and encoding

interface Layout {
  base: Map<SectionName, number>;
  size: Map<SectionName, number>;
  symbols: Map<string, { addr: number; section: SectionName | 'imports'; pos?: Pos }>;
  importsAddr: number;
  importsSize: number;
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function itemSize(it: Item, addr: number): number {
  switch (it.k) {
    case 'label': return 0;
    case 'insn': return it.size;
    case 'bytes': return it.data.length;
    case 'words': return 4 * it.exprs.length;
    case 'zero': return it.n;
    case 'align': return alignUp(addr, it.n) - addr;
  }
}

export interface AssembleOutput {
  elf: Uint8Array;
  /** The text form of .tal.types, for inspection (the section itself is binary). */
  annotations: string;
  /** What the checker will refuse that talas can name already (the file is written all the same), in source order. */
  warnings: AsmWarning[];
}

export function assemble(text: string, file = '<input>'): AssembleOutput {
  const errors: AsmError[] = [];
  const src: Source = { items: new Map(SECTIONS.map(s => [s, []])), types: [], labelTypes: new Map(), imports: [],
    main: undefined };
  readSource(text, file, errors, src, '.text', false);
  const mainName = src.main?.name ?? 'main';
  const rt = runtimeSource(mainName);
  const rtErrors: AsmError[] = [];
  readSource(`.section ${RUNTIME_SECTION}\n${rt.text}\n.section .rodata\n${rt.rodata}\n.section ` +
    `${RUNTIME_DATA_SECTION}\n${rt.bss}`, '<runtime>', rtErrors, src, RUNTIME_SECTION, true);
  if (rtErrors.length)
    throw new Error(`internal: the runtime does not assemble:\n${rtErrors.map(e => e.message).join('\n')}`);

  // Symbols: labels, then import slots.
  const defined = new Map<string, { section: SectionName; pos: Pos }>();
  for (const s of SECTIONS) {
    for (const it of src.items.get(s)!) {
      if (it.k !== 'label') continue;
      if (defined.has(it.name))
        errors.push(new AsmError(it.pos.file, it.pos.line, it.pos.col, `label '${it.name}' defined twice`));
      else defined.set(it.name, { section: s, pos: it.pos });
    }
  }
  for (const imp of src.imports) {
    if (defined.has(imp.name))
      errors.push(new AsmError(imp.pos.file, imp.pos.line, imp.pos.col,
        `import '${imp.name}' has the same name as a label`));
  }
  const importNames = new Set(src.imports.map(i => i.name));
  const known = (name: string) => defined.has(name) || importNames.has(name);
  // Without an entry point there is no program to lay out (the runtime's `jmp main` cannot resolve): say so at the
  // program, with the errors found so far, rather than at the runtime's reference.
  if (!defined.has(mainName)) {
    errors.push(new AsmError(file, src.main?.pos.line ?? 1, src.main?.pos.col ?? 1,
      `the entry label '${mainName}' is ` +
      `not defined: a program starts at '${mainName}:' (typed .tal_label ${mainName} : code[r:stack]{esp: r})`));
    throw new AsmErrors(errors);
  }

  // Resolve once with a dummy lookup to learn each instruction's size (symbols are always encoded wide).
  for (const s of SECTIONS) {
    for (const it of src.items.get(s)!) {
      if (it.k !== 'insn') continue;
      try {
        const ops = resolveOperands(it.parsed, name => (known(name) ? 0 : undefined));
        it.size = instructionSize(it.parsed.mnemonic, ops, it.short);
      } catch (e) {
        pushAsmError(errors, e, it.pos);
      }
    }
  }
  if (errors.length) throw new AsmErrors(sortErrors(errors));

  // Relaxation: every jump starts short; a jump whose target is out of rel8 range becomes long; repeat until stable.
  let layout = computeLayout(src);
  for (let round = 0; ; round++) {
    let changed = false;
    for (const s of SECTIONS) {
      let addr = layout.base.get(s)!;
      for (const it of src.items.get(s)!) {
        if (it.k === 'insn' && it.short) {
          const lens = branchLengths(it.parsed.mnemonic);
          const ops = resolveOperands(it.parsed, name => layout.symbols.get(name)?.addr);
          const target = ops[0];
          if (lens && target && target.kind === 'rel') {
            const rel = target.target - (addr + lens.short);
            if (rel < -128 || rel > 127) {
              it.short = false;
              it.size = lens.long;
              changed = true;
            }
          }
        }
        addr += itemSize(it, addr);
      }
    }
    if (!changed) break;
    if (round > 1000) throw new Error('internal: relaxation does not converge');
    layout = computeLayout(src);
  }

  // Encode.
  const lookup = (name: string) => layout.symbols.get(name)?.addr;
  const contents = new Map<SectionName, number[]>();
  const insts: { addr: number; text: string; pos: Pos }[] = [];
  const coercions: { addr: number; c: PendingCoercion }[] = [];
  const locs: { addr: number; loc: SourceLoc }[] = [];
  for (const s of SECTIONS) {
    const out: number[] = [];
    let addr = layout.base.get(s)!;
    for (const it of src.items.get(s)!) {
      const size = itemSize(it, addr);
      switch (it.k) {
        case 'insn': {
          try {
            const ops = resolveOperands(it.parsed, lookup);
            const lens = branchLengths(it.parsed.mnemonic);
            if (lens && ops[0]?.kind === 'rel') ops[0] = { ...ops[0], short: it.short };
            const bytes = encode(it.parsed.mnemonic, ops, addr);
            if (bytes.length !== size)
              throw new Error(`internal: ${it.parsed.mnemonic} changed size from ${size} to ${bytes.length}`);
            out.push(...bytes);
          } catch (e) {
            pushAsmError(errors, e, it.pos);
            out.push(...new Array(size).fill(0));
          }
          if (it.inst) insts.push({ addr, text: it.inst.text, pos: it.inst.pos });
          for (const c of it.coerce ?? []) coercions.push({ addr, c });
          if (s === '.text') locs.push({ addr, loc: it.loc });
          break;
        }
        case 'bytes': out.push(...it.data); break;
        case 'words':
          for (const e of it.exprs) {
            let v = e.value;
            if (e.sym !== undefined) {
              const a = lookup(e.sym);
              if (a === undefined)
                errors.push(new AsmError(it.pos.file, it.pos.line, it.pos.col, `undefined symbol '${e.sym}'`));
              v += a ?? 0;
            }
            out.push(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff);
          }
          break;
        case 'zero': case 'align':
          out.push(...new Array(size).fill(0));
          break;
        case 'label': break;
      }
      addr += size;
    }
    contents.set(s, out);
  }

  // Annotations: the types parsed here (a type's text is parsed once, so labels with the same text share one type and
  // the writer stores it once), written in the binary form of docs/tal.md §5; `annotations` is its text form, decoded
  // from the very bytes written.
  const defs = parseTypeDefs(src.types.map(t => ({ head: t.head, body: t.body })), (i, e) => {
    const p = src.types[i].pos;
    errors.push(new AsmError(p.file, p.line, p.col, `in .tal_type: ${e.message}`));
  });
  const env = { defs, scope: new Map() };
  const parsedCode = new Map<string, CodeTy>();
  const codeLabels: LabelIn<CodeTy>[] = [];
  const dataLabels: LabelIn<Ty>[] = [];
  for (const [name, lt] of src.labelTypes) {
    const d = defined.get(name);
    const fail = (msg: string, col = lt.pos.col) => errors.push(new AsmError(lt.pos.file, lt.pos.line, col, msg));
    if (!d) { fail(`.tal_label for '${name}', which is not defined`); continue; }
    const addr = layout.symbols.get(name)!.addr;
    try {
      if (d.section === '.text') {
        let ty = parsedCode.get(lt.text);
        if (!ty) parsedCode.set(lt.text, (ty = parseCode(lt.text, env)));
        codeLabels.push({ name, addr, ty });
      } else if (d.section === '.tal.rt') {
        fail('runtime labels have no type');
      } else {
        dataLabels.push({ name, addr, ty: parseTy(lt.text, env) });
      }
    } catch (e) {
      if (e instanceof TypeSyntaxError) fail(e.message, lt.pos.col + e.col);
      else throw e;
    }
  }
  // An instantiation may name the type variables of the block it is in: the last code label at or before it.
  codeLabels.sort((a, b) => a.addr - b.addr);
  const instArgs: { addr: number; args: Arg[] }[] = [];
  let block = -1;
  for (const i of insts) {
    while (block + 1 < codeLabels.length && codeLabels[block + 1].addr <= i.addr) block++;
    const vars = block < 0 ? [] : codeLabels[block].ty.vars;
    try {
      instArgs.push({ addr: i.addr, args: parseArgList(i.text, { defs, scope: new Map(vars.map(b => [b.name, b])) }) });
    } catch (e) {
      if (e instanceof TypeSyntaxError)
        errors.push(new AsmError(i.pos.file, i.pos.line, i.pos.col + e.col, `in .tal_inst: ${e.message}`));
      else throw e;
    }
  }
  // Coercions likewise: their types may name the variables of their block's code type.
  const coerce: CoercionIn[] = [];
  block = -1;
  for (const { addr, c } of coercions) {
    while (block + 1 < codeLabels.length && codeLabels[block + 1].addr <= addr) block++;
    const env = { defs, scope: new Map((block < 0 ? [] : codeLabels[block].ty.vars).map(b => [b.name, b])) };
    try {
      const ty = c.type === undefined ? undefined : parseTy(c.type, env);
      if (ty && whnf(ty, defs).k !== 'exists')
        throw new TypeSyntaxError('.tal_pack needs an existential type exists[a] …', 0);
      const witness = c.witness === undefined ? undefined : parseTy(c.witness, env);
      coerce.push({ addr, op: c.op, reg: c.reg, ty, witness });
    } catch (e) {
      if (e instanceof TypeSyntaxError)
        errors.push(new AsmError(c.pos.file, c.pos.line, c.pos.col + e.col, `in .tal_${c.op}: ${e.message}`));
      else throw e;
    }
  }
  if (errors.length) throw new AsmErrors(sortErrors(errors));
  const typesSection = writeAnnotations({
    main: mainName, defs: [...defs.values()], code: codeLabels, data: dataLabels, inst: instArgs, coerce,
  });

  // The import table: count, slots (bound to the runtime stubs), names.
  const imp: number[] = [];
  const u32 = (v: number) => imp.push(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff);
  u32(src.imports.length);
  for (const i of src.imports) u32(layout.symbols.get(`__tal_rt_${i.name}`)!.addr);
  for (const i of src.imports) imp.push(...new TextEncoder().encode(i.name), 0);

  const sec = (name: string, s: SectionName, flags: number, type = SHT_PROGBITS): OutSection => ({
    name, type, flags, addr: layout.base.get(s)!, data: Uint8Array.from(contents.get(s)!), align: 16,
  });
  const textBase = layout.base.get('.text')!;
  const sections: OutSection[] = [
    sec('.text', '.text', SHF_ALLOC | SHF_EXECINSTR),
    sec(RUNTIME_SECTION, '.tal.rt', SHF_ALLOC | SHF_EXECINSTR),
    sec('.rodata', '.rodata', SHF_ALLOC),
    { name: IMPORTS_SECTION, type: SHT_PROGBITS, flags: SHF_ALLOC, addr: layout.importsAddr, data: Uint8Array.from(imp),
      align: 4 },
    sec('.data', '.data', SHF_ALLOC | SHF_WRITE),
    sec('.bss', '.bss', SHF_ALLOC | SHF_WRITE, SHT_NOBITS),
    sec(RUNTIME_DATA_SECTION, '.tal.rtbss', SHF_ALLOC | SHF_WRITE, SHT_NOBITS),
    { name: TYPES_SECTION, type: SHT_PROGBITS, flags: 0, addr: 0, data: typesSection, align: 4 },
    // For messages only (docs/tal.md §5): the checker never reads it.
    { name: LINES_SECTION, type: SHT_PROGBITS, flags: 0, addr: 0, data: encodeLineTable(textBase, locs), align: 1 },
  ];
  const sectionIndex: Record<string, number> = { '.text': 0, '.tal.rt': 1, '.rodata': 2, imports: 3, '.data': 4,
    '.bss': 5, '.tal.rtbss': 6 };
  const symbols: OutSymbol[] = [];
  for (const [name, s] of layout.symbols) {
    symbols.push({ name, value: s.addr, section: sectionIndex[s.section],
      func: s.section === '.text' || s.section === '.tal.rt', global: name === '_start' });
  }
  symbols.push({ name: '_start', value: layout.symbols.get('__tal_rt_start')!.addr, section: 1, func: true,
    global: true });
  const elf = writeElf(layout.symbols.get('__tal_rt_start')!.addr, sections, [
    { flags: PF_R | PF_X, sections: [0, 1] },
    { flags: PF_R, sections: [2, 3] },
    { flags: PF_R | PF_W, sections: [4, 5, 6] },
  ], symbols);
  return { elf, annotations: annotationsText(readAnnotations(typesSection)), warnings: untypedTargets(src, defined) };
}

const BRANCHES = /^(jmp|j[a-z]{1,3}|call|loop[a-z]*)$/;

/**
 * A jump or call in .text to a label of .text that has no .tal_label: the checker refuses it (bad-target, or
 * no-label when the code falls into it), and its message can give only the address.
 */
function untypedTargets(src: Source, defined: Map<string, { section: SectionName; pos: Pos }>): AsmWarning[] {
  const out: AsmWarning[] = [];
  for (const it of src.items.get('.text')!) {
    if (it.k !== 'insn' || !BRANCHES.test(it.parsed.mnemonic)) continue;
    const target = it.parsed.operands[0];
    if (target?.k !== 'expr' || target.offset || target.expr.symbols.length !== 1) continue;
    const name = target.expr.symbols[0].name;
    if (defined.get(name)?.section !== '.text' || src.labelTypes.has(name)) continue;
    const what = it.parsed.mnemonic === 'call' ? 'call' : 'jump';
    const msg = `${what} to '${name}', which has no .tal_label type: the checker will refuse it`;
    out.push(new AsmWarning(it.pos.file, it.pos.line, it.pos.col + target.col, msg));
  }
  return out;
}

function instructionSize(mnemonic: string, ops: AsmOperand[], short: boolean): number {
  const lens = branchLengths(mnemonic);
  if (lens && ops[0]?.kind === 'rel') return short ? lens.short : lens.long;
  return encode(mnemonic, ops, 0).length;
}

function computeLayout(src: Source): Layout {
  const base = new Map<SectionName, number>();
  const size = new Map<SectionName, number>();
  const symbols = new Map<string, { addr: number; section: SectionName | 'imports' }>();
  const place = (s: SectionName, at: number) => {
    base.set(s, at);
    let addr = at;
    for (const it of src.items.get(s)!) {
      if (it.k === 'label') symbols.set(it.name, { addr, section: s });
      addr += itemSize(it, addr);
    }
    size.set(s, addr - at);
    return addr;
  };
  let end = place('.text', LOAD_BASE + alignUp(HEADERS_SIZE, 16));
  end = place('.tal.rt', alignUp(end, 16));
  end = place('.rodata', alignUp(end, PAGE_SIZE));
  const importsAddr = alignUp(end, 4);
  const importsSize = 4 + 4 * src.imports.length + src.imports.reduce((n, i) => n + i.name.length + 1, 0);
  src.imports.forEach((imp, i) => symbols.set(imp.name, { addr: importsAddr + 4 + 4 * i, section: 'imports' }));
  end = place('.data', alignUp(importsAddr + importsSize, PAGE_SIZE));
  end = place('.bss', alignUp(end, 16));
  place('.tal.rtbss', alignUp(end, 16));
  return { base, size, symbols, importsAddr, importsSize };
}

function pushAsmError(errors: AsmError[], e: unknown, pos: Pos): void {
  if (e instanceof EncodeError || e instanceof AsmSyntaxError || (e instanceof Error && /symbol/.test(e.message))) {
    errors.push(new AsmError(pos.file, pos.line, pos.col, e.message));
  } else {
    throw e;
  }
}

function sortErrors(errors: AsmError[]): AsmError[] {
  return errors.sort((a, b) => (a.file === b.file ? a.line - b.line || a.col - b.col : a.file < b.file ? -1 : 1));
}
