// Parses one instruction in GNU `.intel_syntax noprefix` form: `mnemonic op, op, ...`. Operands are
// registers, immediates (`5`, `-0x10`, `'a'`, `OFFSET sym+4`), memory (`DWORD PTR [ebx+ecx*4+8]`, `[sym]`,
// `BYTE PTR [sym+ecx]`) and branch targets (`label`). As in GNU as, a bare symbol outside a branch is a memory
// operand: `mov eax, counter` loads from `counter`; `mov eax, OFFSET counter` loads its address.

import { type AsmOperand, type Scale, NO_REG, ESP, REG32_NAMES, REG8_NAMES } from './insn.ts';
import { conditionOf } from './encode.ts';

export class AsmSyntaxError extends Error {
  /** 0-based column within the instruction text. */
  constructor(message: string, readonly col: number) { super(message); }
}

/** A constant plus signed symbols, resolved once the layout is known. */
export interface Expr { constant: number; symbols: { name: string; sign: 1 | -1 }[] }

export type ParsedOperand =
  | { k: 'reg'; reg: number; size: 1 | 4 }
  | { k: 'creg'; n: number }
  | { k: 'dx' }
  | { k: 'expr'; expr: Expr; offset: boolean; col: number }
  | { k: 'mem'; size: 0 | 1 | 4; base: number; index: number; scale: Scale; expr: Expr; col: number };

export interface ParsedInsn { mnemonic: string; operands: ParsedOperand[] }

type Tok = { t: 'id' | 'num' | 'punct'; v: string; n: number; col: number };

function tokenize(text: string, from: number): Tok[] {
  const toks: Tok[] = [];
  let i = from;
  while (i < text.length) {
    const ch = text[i];
    if (ch === ' ' || ch === '\t') { i++; continue; }
    const rest = text.slice(i);
    let m: RegExpMatchArray | null;
    if ((m = rest.match(/^(0x[0-9a-f]+|0b[01]+|[0-9]+)(?![\w$.])/i))) {
      const v = m[1];
      const n = /^0b/i.test(v) ? parseInt(v.slice(2), 2) : Number(v);
      toks.push({ t: 'num', v, n, col: i });
      i += v.length;
    } else if ((m = rest.match(/^'(\\?.)'/))) {
      const c = m[1];
      const n = c.length === 2 ? ({ n: 10, t: 9, r: 13, '0': 0, '\\': 92, "'": 39 } as Record<string, number>)[c[1]]
        ?? c.charCodeAt(1) : c.charCodeAt(0);
      toks.push({ t: 'num', v: m[0], n, col: i });
      i += m[0].length;
    } else if ((m = rest.match(/^[A-Za-z_.$][\w.$]*/))) {
      toks.push({ t: 'id', v: m[0], n: 0, col: i });
      i += m[0].length;
    } else if ('+-*[],:'.includes(ch)) {
      toks.push({ t: 'punct', v: ch, n: 0, col: i });
      i++;
    } else {
      throw new AsmSyntaxError(`unexpected character '${ch}'`, i);
    }
  }
  return toks;
}

const reg32 = (s: string) => (REG32_NAMES as readonly string[]).indexOf(s.toLowerCase());
const reg8 = (s: string) => (REG8_NAMES as readonly string[]).indexOf(s.toLowerCase());

class OperandParser {
  private i = 0;
  constructor(private readonly toks: Tok[], private readonly end: number) {}

  private peek(): Tok | undefined { return this.toks[this.i]; }
  private next(): Tok {
    const t = this.toks[this.i++];
    if (!t) throw new AsmSyntaxError('unexpected end of operand', this.end);
    return t;
  }
  private isPunct(v: string): boolean { const t = this.peek(); return t?.t === 'punct' && t.v === v; }
  private expect(v: string): void {
    const t = this.next();
    if (t.t !== 'punct' || t.v !== v) throw new AsmSyntaxError(`expected '${v}'`, t.col);
  }
  atEnd(): boolean { return this.i >= this.toks.length; }
  col(): number { return this.peek()?.col ?? this.end; }

  operand(): ParsedOperand {
    const first = this.next();
    const col = first.col;
    if (first.t === 'id') {
      const word = first.v.toLowerCase();
      const r = reg32(word);
      if (r >= 0) return { k: 'reg', reg: r, size: 4 };
      const r8 = reg8(word);
      if (r8 >= 0) return { k: 'reg', reg: r8, size: 1 };
      if (word === 'dx') return { k: 'dx' };
      const cr = word.match(/^cr([0-7])$/);
      if (cr) return { k: 'creg', n: Number(cr[1]) };
      if (word === 'offset') return { k: 'expr', expr: this.expr(), offset: true, col };
      if ((word === 'byte' || word === 'dword') && this.peek()?.t === 'id' && this.peek()!.v.toLowerCase() === 'ptr') {
        this.next();
        return this.memory(word === 'byte' ? 1 : 4);
      }
    }
    this.i--;
    if (this.isPunct('[')) return this.memory(0);
    const expr = this.expr();
    // `sym[ebx*4]` is memory, as `[sym+ebx*4]`; a bare `sym` stays an expression (memory or branch target).
    if (this.isPunct('[')) return this.memory(0, expr, col);
    return { k: 'expr', expr, offset: false, col };
  }

  /** `[terms]`, `sym[terms]`, or a bare expression (a memory operand after a size, as in GNU). */
  private memory(size: 0 | 1 | 4, prefix?: Expr, prefixCol?: number): ParsedOperand {
    const col = prefixCol ?? this.col();
    const m: ParsedOperand & { k: 'mem' } = { k: 'mem', size, base: NO_REG, index: NO_REG, scale: 1,
      expr: prefix ?? { constant: 0, symbols: [] }, col };
    if (!prefix && !this.isPunct('[')) {
      m.expr = this.expr();
      if (!this.isPunct('[')) return m;
    }
    this.expect('[');
    let sign: 1 | -1 = 1;
    let first = true;
    for (;;) {
      const t = this.next();
      if (t.t === 'punct' && (t.v === '+' || t.v === '-') && first) { sign = t.v === '-' ? -1 : 1; continue; }
      first = false;
      if (t.t === 'id' && reg32(t.v) >= 0) {
        const r = reg32(t.v);
        if (sign < 0) throw new AsmSyntaxError('a register cannot be subtracted', t.col);
        if (this.isPunct('*')) {
          this.next();
          const s = this.next();
          this.setIndex(m, r, s);
        } else if (m.base === NO_REG) {
          m.base = r;
        } else if (m.index === NO_REG) {
          // esp cannot be an index: GNU swaps [reg+esp] into [esp+reg].
          if (r === ESP && m.base !== ESP) { m.index = m.base; m.base = r; } else m.index = r;
        } else {
          throw new AsmSyntaxError('too many registers in the address', t.col);
        }
      } else if (t.t === 'num' && this.isPunct('*')) {
        this.next();
        const r = this.next();
        if (r.t !== 'id' || reg32(r.v) < 0)
          throw new AsmSyntaxError('expected an index register after the scale', r.col);
        this.setIndex(m, reg32(r.v), t);
      } else if (t.t === 'num') {
        m.expr.constant += sign * t.n;
      } else if (t.t === 'id') {
        if (reg8(t.v) >= 0) throw new AsmSyntaxError(`'${t.v}' cannot be used in an address`, t.col);
        m.expr.symbols.push({ name: t.v, sign });
      } else {
        throw new AsmSyntaxError(`unexpected '${t.v}' in an address`, t.col);
      }
      const sep = this.next();
      if (sep.t === 'punct' && sep.v === ']') break;
      if (sep.t === 'punct' && (sep.v === '+' || sep.v === '-')) { sign = sep.v === '-' ? -1 : 1; continue; }
      throw new AsmSyntaxError(`expected '+', '-' or ']' in an address`, sep.col);
    }
    return m;
  }

  private setIndex(m: ParsedOperand & { k: 'mem' }, r: number, s: Tok): void {
    if (s.t !== 'num' || ![1, 2, 4, 8].includes(s.n)) throw new AsmSyntaxError('the scale must be 1, 2, 4 or 8', s.col);
    if (m.index !== NO_REG) throw new AsmSyntaxError('two index registers in the address', s.col);
    m.index = r;
    m.scale = s.n as Scale;
  }

  /** A sum of numbers and symbols with + and -. */
  private expr(): Expr {
    const e: Expr = { constant: 0, symbols: [] };
    let sign: 1 | -1 = 1;
    if (this.isPunct('-')) { this.next(); sign = -1; } else if (this.isPunct('+')) this.next();
    for (;;) {
      const t = this.next();
      if (t.t === 'num') e.constant += sign * t.n;
      else if (t.t === 'id' && reg32(t.v) < 0 && reg8(t.v) < 0) e.symbols.push({ name: t.v, sign });
      else throw new AsmSyntaxError(`expected a number or a symbol, not '${t.v}'`, t.col);
      if (this.isPunct('+') || this.isPunct('-')) { sign = this.next().v === '-' ? -1 : 1; continue; }
      return e;
    }
  }

  comma(): void { this.expect(','); }
}

/** Parses `mnemonic operands...` (no label, no comment). */
export function parseInstruction(text: string): ParsedInsn {
  const m = text.match(/^\s*([A-Za-z][\w.]*)/);
  if (!m) throw new AsmSyntaxError('expected an instruction', 0);
  const mnemonic = m[1].toLowerCase();
  const toks = tokenize(text, m[0].length);
  const p = new OperandParser(toks, text.length);
  const operands: ParsedOperand[] = [];
  if (!p.atEnd()) {
    for (;;) {
      operands.push(p.operand());
      if (p.atEnd()) break;
      p.comma();
    }
  }
  return { mnemonic, operands };
}

function isBranch(mnemonic: string): boolean {
  return mnemonic === 'jmp' || mnemonic === 'call' || conditionOf(mnemonic, 'j') >= 0;
}

function evaluate(e: Expr, lookup: (sym: string) => number | undefined): number {
  let v = e.constant;
  for (const s of e.symbols) {
    const a = lookup(s.name);
    if (a === undefined) throw new Error(`undefined symbol '${s.name}'`);
    v += s.sign * a;
  }
  if (v < -0x80000000 || v > 0xffffffff) throw new AsmSyntaxError(`value ${v} does not fit in 32 bits`, 0);
  return v | 0;
}

/** Turns parsed operands into encoder operands, given the addresses of symbols. */
export function resolveOperands(p: ParsedInsn, lookup: (sym: string) => number | undefined): AsmOperand[] {
  return p.operands.map((o): AsmOperand => {
    switch (o.k) {
      case 'reg': return { kind: 'reg', reg: o.reg, size: o.size };
      case 'creg': return { kind: 'creg', n: o.n };
      case 'dx': return { kind: 'dx' };
      case 'expr': {
        const value = evaluate(o.expr, lookup);
        const wide = o.expr.symbols.length > 0;
        if (isBranch(p.mnemonic) && !o.offset) return { kind: 'rel', target: value >>> 0 };
        if (o.offset || !wide) return { kind: 'imm', value, wide };
        return { kind: 'mem', size: 0, base: NO_REG, index: NO_REG, scale: 1, disp: value, wide };
      }
      case 'mem': {
        const disp = evaluate(o.expr, lookup);
        return { kind: 'mem', size: o.size, base: o.base, index: o.index, scale: o.scale, disp,
          wide: o.expr.symbols.length > 0 };
      }
    }
  });
}
