// popc's intermediate representation: a three-address form over virtual registers, in basic blocks, between the
// checked AST (lower.ts builds it) and TAL assembly (emit.ts writes it). The shape follows QBE's IL (Roegel and
// Cornet's "QBE: compiler backend" notes, c9x.me/compile/doc/il.html): a function is a list of blocks, each a list
// of instructions ending in one jump, every value a temporary or a constant. Unlike QBE it is not SSA: a popc local
// is one virtual register assigned wherever the source assigns it, which keeps each temporary's TAL type (its one
// declared type, written into every label annotation where it is live) obvious. The run-time checks the checker
// demands are part of the access they guard (a bounds-checked element load, a null-checked field store, a division
// with its zero test), because the checker only accepts the check immediately before the access, on the same
// registers: keeping them together is what lets every pass move or drop an access without breaking that rule.

import type { Pos } from '../ast.ts';

/** A virtual register: `ty` is its TAL type, the type every label gives it where it is live. */
export interface VReg { readonly id: number; readonly ty: string; readonly name: string }

/** An operand: a virtual register, a constant, or the address of a data or code label (`OFFSET label`). */
export type Val = { k: 'v'; v: VReg } | { k: 'imm'; n: number } | { k: 'addr'; label: string };

/** A check's failure site: where it is in the source and what it reports (docs/popcorn.md §Run-time checks). */
export interface Site { pos: Pos; what: string }

export type ArithOp = '+' | '-' | '*' | '&' | '|' | '^' | '<<' | '>>' | '>>>' | '/' | '%';
/** Condition codes as in `jcc`/`setcc` (signed l/le/g/ge, unsigned b/be/a/ae). */
export type Cond = 'e' | 'ne' | 'l' | 'le' | 'g' | 'ge' | 'b' | 'be' | 'a' | 'ae';

/** A memory location an instruction reads or writes; each carries the check the checker wants before it. */
export type Mem =
  /** Field `index` of the tuple `base` points to; `nullCheck` when the type is nullable. */
  | { k: 'field'; base: Val; index: number; nullCheck?: Site; variant?: VariantCheck }
  /** Element `index` of an array (word) or string (byte), bounds-checked; `arrTy` is the type the stub names. */
  | { k: 'elem'; base: Val; index: Val; bytes: boolean; arrTy: string; check: Site }
  /** The length word of an array or string. */
  | { k: 'len'; base: Val }
  /** The one word of a global variable. */
  | { k: 'global'; label: string };

/**
 * The tag test before a union variant's field (docs/tal.md §4.9): the base is a union value, its nullary variants the
 * integers below `below`; unless it is the variant tagged `tag`, the site raises UnionVariant.
 */
export interface VariantCheck { below: number; tag: number; check: Site }

/** What a call calls, and what the callee keeps of the caller's registers. */
export type Callee =
  /**
   * A popc function; `saves` when it preserves ebx, esi, edi and ebp (its type says so through type variables);
   * `raises` when it may raise (compiler/raises.ts): it takes a second return address, where an exception leaves.
   */
  | { k: 'fun'; label: string; saves: boolean; tparams: string[]; raises: boolean }
  /** An import of the kernel interface (ebx, esi, edi, ebp preserved, docs/tal.md §6). */
  | { k: 'import'; name: string; noreturn: boolean }
  /** A function value (cdecl, nothing preserved). */
  | { k: 'value'; fn: Val };

export type Inst =
  | { op: 'copy'; dst: VReg; src: Val }
  | { op: 'arith'; aop: ArithOp; dst: VReg; a: Val; b: Val; unsigned: boolean; zero?: Site }
  | { op: 'neg' | 'not'; dst: VReg; a: Val }
  /** dst = (a CC b) ? 1 : 0 */
  | { op: 'set'; cc: Cond; dst: VReg; a: Val; b: Val }
  | { op: 'load'; dst: VReg; mem: Mem }
  | { op: 'store'; mem: Mem; src: Val }
  /** A fresh tuple (tal_alloc) holding `fields`, each a TAL type and a value. */
  | { op: 'alloc'; dst: VReg; tuple: string; fields: Val[] }
  /**
   * A cdecl call: arguments pushed right to left (each with the type the callee's stack wants), the result in dst.
   * `inst` are the type arguments of a polymorphic callee (or an import's `.tal_inst`), without the stack.
   */
  | { op: 'call'; dst?: VReg; callee: Callee; args: { v: Val; ty: string }[]; inst?: string[] };

export type Term =
  | { op: 'jmp'; to: Block }
  /**
   * With `variant`, a tag test: `a` is a union value whose nullary variants are below `variant.below`, and the
   * branch goes to `yes` when it is the variant with a tuple tagged `b` (cc is 'e').
   */
  | { op: 'br'; cc: Cond; a: Val; b: Val; yes: Block; no: Block; variant?: { below: number } }
  | { op: 'ret'; v?: Val }
  /**
   * `raise v`: the exception v goes to the block's handler, or without one leaves the function through its second
   * return address (docs/popcorn.md "Exceptions"). `site` (a `raise` statement's position) is recorded first for
   * the uncaught-exception message; a switch on an exception raising again what no case took keeps the first one.
   */
  | { op: 'raise'; v: Val; site?: Site }
  /** After a call that does not return. */
  | { op: 'unreachable' };

/** An instruction with the source line it came from (for `.tal_loc`). */
export interface Line { inst: Inst; line: number }

/**
 * Where an exception raised in a `try` body goes: the handler's first block, entered with the exception in `exn`
 * (the handler's variable). The exceptional edge is the block's, not an instruction's: everything live into the
 * handler is live throughout a block of the body (liveness.ts), which is what the calls that may raise need.
 */
export interface Handler { readonly block: Block; readonly exn: VReg }

/** `handler`: the block is in a `try` body (its innermost), where a raise and a raising call's exception go. */
export interface Block { readonly id: number; insts: Line[]; term: Term; termLine: number; handler?: Handler }

export interface Fn {
  readonly name: string;
  readonly file: string;
  /** The TAL label, its type variables (`t_a`, …) and the TAL types of its parameters and result. */
  readonly label: string;
  readonly tparams: string[];
  readonly params: VReg[];
  readonly paramTys: string[];
  readonly ret: string | undefined;
  /** Whether the function keeps ebx, esi, edi and ebp for its caller (false: its address is taken, or pop_main). */
  readonly saves: boolean;
  /** Whether the function may raise: its type has a second return address under the first (emit.ts). */
  readonly raises: boolean;
  /** blocks[0] is the entry; the order is the layout. */
  blocks: Block[];
  vregs: VReg[];
}

export const val = (v: VReg): Val => ({ k: 'v', v });
export const imm = (n: number): Val => ({ k: 'imm', n: n | 0 });

/** The registers an instruction reads. */
// The helpers of uses() live at module level: a closure made at every call (uses runs for every instruction in
// every liveness round) was a tenth of -O2's compile time under tsx, whose transform names each one as it is made.
function useVal(out: VReg[], x: Val | undefined): void { if (x?.k === 'v') out.push(x.v); }
function useMem(out: VReg[], x: Mem): void {
  if (x.k === 'field' || x.k === 'len') useVal(out, x.base);
  else if (x.k === 'elem') { useVal(out, x.base); useVal(out, x.index); }
}

export function uses(i: Inst): VReg[] {
  const out: VReg[] = [];
  switch (i.op) {
    case 'copy': useVal(out, i.src); break;
    case 'arith': case 'set': useVal(out, i.a); useVal(out, i.b); break;
    case 'neg': case 'not': useVal(out, i.a); break;
    case 'load': useMem(out, i.mem); break;
    case 'store': useMem(out, i.mem); useVal(out, i.src); break;
    case 'alloc': for (const f of i.fields) useVal(out, f); break;
    case 'call':
      for (const a of i.args) useVal(out, a.v);
      if (i.callee.k === 'value') useVal(out, i.callee.fn);
      break;
  }
  return out;
}

export function termUses(t: Term): VReg[] {
  if (t.op === 'br') return [t.a, t.b].flatMap(x => (x.k === 'v' ? [x.v] : []));
  if (t.op === 'ret' && t.v?.k === 'v') return [t.v.v];
  if (t.op === 'raise' && t.v.k === 'v') return [t.v.v];
  return [];
}

/** The register an instruction writes, if any. */
export function def(i: Inst): VReg | undefined {
  return i.op === 'store' ? undefined : i.op === 'call' ? i.dst : i.dst;
}

export function successors(t: Term): Block[] {
  if (t.op === 'jmp') return [t.to];
  if (t.op === 'br') return [t.yes, t.no];
  return [];
}

/** A block's successors, its handler's block (the exceptional edge) included. */
export function blockSuccessors(b: Block): Block[] {
  return b.handler ? [...successors(b.term), b.handler.block] : successors(b.term);
}

/** Rewrite every operand of an instruction (`f` maps a value read to its replacement). */
export function mapUses(i: Inst, f: (x: Val) => Val): Inst {
  const m = (x: Mem): Mem => {
    if (x.k === 'field') return { ...x, base: f(x.base) };
    if (x.k === 'len') return { ...x, base: f(x.base) };
    if (x.k === 'elem') return { ...x, base: f(x.base), index: f(x.index) };
    return x;
  };
  switch (i.op) {
    case 'copy': return { ...i, src: f(i.src) };
    case 'arith': case 'set': return { ...i, a: f(i.a), b: f(i.b) };
    case 'neg': case 'not': return { ...i, a: f(i.a) };
    case 'load': return { ...i, mem: m(i.mem) };
    case 'store': return { ...i, mem: m(i.mem), src: f(i.src) };
    case 'alloc': return { ...i, fields: i.fields.map(f) };
    case 'call': return { ...i, args: i.args.map(a => ({ ...a, v: f(a.v) })),
      callee: i.callee.k === 'value' ? { k: 'value', fn: f(i.callee.fn) } : i.callee };
  }
}

export function mapTermUses(t: Term, f: (x: Val) => Val): Term {
  if (t.op === 'br') return { ...t, a: f(t.a), b: f(t.b) };
  if (t.op === 'ret' && t.v) return { ...t, v: f(t.v) };
  if (t.op === 'raise') return { ...t, v: f(t.v) };
  return t;
}

function showVal(x: Val): string {
  return x.k === 'v' ? `%${x.v.name}.${x.v.id}` : x.k === 'imm' ? String(x.n) : `$${x.label}`;
}

/** The function as text, one instruction a line (for tests and `popc --ir`-style debugging). */
export function show(f: Fn): string {
  const out = [`function ${f.label}(${f.params.map(p => showVal(val(p))).join(', ')})${f.saves ? ' saves' : ''}`
    + (f.raises ? ' raises' : '')];
  const mem = (m: Mem): string => m.k === 'global' ? `[${m.label}]` : m.k === 'len' ? `len ${showVal(m.base)}`
    : m.k === 'field' ? `${showVal(m.base)}.${m.index}${m.nullCheck ? '?' : ''}${m.variant ? `#${m.variant.tag}` : ''}`
      : `${showVal(m.base)}[${showVal(m.index)}]${m.bytes ? 'b' : ''}`;
  for (const b of f.blocks) {
    out.push(`@b${b.id}:`);
    for (const { inst: i } of b.insts) {
      const d = def(i);
      const lhs = d ? `${showVal(val(d))} = ` : '';
      switch (i.op) {
        case 'copy': out.push(`  ${lhs}${showVal(i.src)}`); break;
        case 'arith': out.push(`  ${lhs}${showVal(i.a)} ${i.aop} ${showVal(i.b)}`); break;
        case 'neg': case 'not': out.push(`  ${lhs}${i.op} ${showVal(i.a)}`); break;
        case 'set': out.push(`  ${lhs}set${i.cc} ${showVal(i.a)}, ${showVal(i.b)}`); break;
        case 'load': out.push(`  ${lhs}load ${mem(i.mem)}`); break;
        case 'store': out.push(`  store ${mem(i.mem)}, ${showVal(i.src)}`); break;
        case 'alloc': out.push(`  ${lhs}alloc ${i.fields.map(showVal).join(', ')}`); break;
        case 'call': {
          const c = i.callee;
          const name = c.k === 'fun' ? c.label : c.k === 'import' ? `[${c.name}]` : showVal(c.fn);
          out.push(`  ${lhs}call ${name}(${i.args.map(a => showVal(a.v)).join(', ')})`);
          break;
        }
      }
    }
    const t = b.term;
    switch (t.op) {
      case 'jmp': out.push(`  jmp @b${t.to.id}`); break;
      case 'br':
        out.push(`  br ${t.variant ? 'tag' : t.cc} ${showVal(t.a)}, ${showVal(t.b)}, @b${t.yes.id}, @b${t.no.id}`);
        break;
      case 'ret': out.push(`  ret${t.v ? ` ${showVal(t.v)}` : ''}`); break;
      case 'raise': out.push(`  raise ${showVal(t.v)}${b.handler ? ` to @b${b.handler.block.id}` : ''}`); break;
      case 'unreachable': out.push('  unreachable'); break;
    }
  }
  return out.join('\n');
}
