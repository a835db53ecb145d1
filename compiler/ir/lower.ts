// Lowering: a checked function's body (the AST with check.ts's side tables) to the IR of ir.ts. It mirrors the
// stack-machine generator (codegen.ts) in every choice the output can observe — evaluation order (arguments right to
// left, operands left to right, the target of an assignment before its value), where each check sits and what it
// reports, `char` values wrapped to a byte when stored — so that -O0 and -O programs behave identically. What it
// does differently is what the IR makes cheap: every value is a virtual register, and loops are laid out with their
// test at the bottom (the test is lowered twice: once as the guard before the loop, once at its end), as gcc and
// QBE do, so an iteration takes one conditional jump.
//
// Requires: a program check.ts accepted. Gives: a Fn whose blocks may include unreachable ones (cfg.ts drops them).

import { subExprs, type Expr, type Pos, type Stmt } from '../ast.ts';
import { caseValue, type Checked, type ExnInfo, type FunInfo, type LocalVar, type CallInfo } from '../program.ts';
import { type Ty, byteElement, isNullable, nullaryCount, substTy, truncate, truncation } from '../types.ts';
import {
  EXN_TYPE, FIRST_POINTER, byteArray, talTy, structTuple, variantTuple, variantValue, funValueTy, closureGetter,
} from '../codegen.ts';
import {
  imm, val, type ArithOp, type Block, type Callee, type Cond, type Fn, type Handler, type Inst, type Mem, type Site,
  type Term,
  type Val, type VReg,
} from './ir.ts';
import { lowerDecisionTree, type TreeBuilder } from './switch.ts';

/** What lowering needs from the module being generated: string literals are data objects it lays out. */
export interface LowerContext {
  stringLiteral(bytes: number[]): string;
  /** Whether a popc function keeps ebx, esi, edi and ebp for its callers. */
  saves(f: FunInfo): boolean;
  /** Whether a popc function may raise (compiler/raises.ts): it takes a second return address. */
  raises(f: FunInfo): boolean;
}

const COMPARISONS: Record<string, [Cond, Cond]> = {
  '==': ['e', 'e'], '!=': ['ne', 'ne'], '<': ['l', 'b'], '<=': ['le', 'be'], '>': ['g', 'a'], '>=': ['ge', 'ae'],
};

/** The condition that holds when `cc` does not. */
export function negateCond(cc: Cond): Cond {
  const m: Record<Cond, Cond> = {
    e: 'ne', ne: 'e', l: 'ge', ge: 'l', le: 'g', g: 'le', b: 'ae', ae: 'b', be: 'a', a: 'be',
  };
  return m[cc];
}

/** The condition with its operands swapped (a < b is b > a). */
export function swapCond(cc: Cond): Cond {
  const m: Record<Cond, Cond> = {
    e: 'e', ne: 'ne', l: 'g', g: 'l', le: 'ge', ge: 'le', b: 'a', a: 'b', be: 'ae', ae: 'be',
  };
  return m[cc];
}

/** Whether evaluating `e` may assign a local (an assignment or ++/-- anywhere inside it). */
function assignsLocals(e: Expr): boolean {
  if (e.k === 'assign' || e.k === 'incdec') return true;
  return subExprs(e).some(assignsLocals);
}

type Loc =
  | { k: 'local'; v: VReg }
  | { k: 'global'; label: string }
  | { k: 'field'; base: Val; index: number; nullCheck?: Site }
  | { k: 'elem'; base: Val; index: Val; bytes: boolean; arrTy: string; pos: Pos; str: boolean };

export function lower(c: Checked, f: FunInfo, cx: LowerContext): Fn {
  return new Lowering(c, f, cx).fn;
}

class Lowering {
  readonly fn: Fn;
  private readonly vars = new Map<LocalVar, VReg>();
  private cur: Block;
  private line: number;
  private nextBlock = 0;
  private loops: { brk: Block; cont?: Block }[] = [];
  /** The innermost `try` body's handler around the code being lowered (ir.ts: Handler). */
  private handler: Handler | undefined;

  constructor(private readonly c: Checked, private readonly f: FunInfo, private readonly cx: LowerContext) {
    const vregs: VReg[] = [];
    this.fn = {
      name: f.name, file: f.file, label: f.tal, tparams: f.tparams.map(p => `t_${p}`),
      params: [], paramTys: f.params.map(p => talTy(p.ty)), ret: f.ret.k === 'void' ? undefined : talTy(f.ret),
      saves: cx.saves(f), raises: cx.raises(f), blocks: [], vregs,
    };
    for (const p of f.params) this.fn.params.push(this.varReg(p));
    this.line = f.decl.pos.line;
    this.cur = this.block();
    this.stmt(f.decl.body!);
    this.end({ op: 'ret' }); // a void function's end (a non-void one cannot reach it: check.ts)
  }

  // ---- building blocks

  private block(): Block {
    const b: Block = { id: this.nextBlock++, insts: [], term: { op: 'unreachable' }, termLine: this.line,
      handler: this.handler };
    this.fn.blocks.push(b);
    return b;
  }

  /** Continue in block b (placed here in the layout). */
  private start(b: Block): void {
    const i = this.fn.blocks.indexOf(b);
    this.fn.blocks.splice(i, 1);
    this.fn.blocks.push(b);
    b.handler = this.handler; // the try body it is in is the one around the code it holds
    this.cur = b;
  }

  /** A block made now but placed where it is started. */
  private later(): Block {
    const b = this.block();
    this.fn.blocks.pop();
    this.fn.blocks.push(b); // start() moves it to its place
    return b;
  }

  private end(t: Term): void {
    this.cur.term = t;
    this.cur.termLine = this.line;
    this.cur = this.block(); // what follows is unreachable until a label starts
  }

  /** The block-making steps switch.ts's decision tree needs. */
  private treeBuilder(): TreeBuilder {
    return { later: () => this.later(), start: b => this.start(b), end: t => this.end(t) };
  }

  private emit(i: Inst): void { this.cur.insts.push({ inst: i, line: this.line }); }

  /**
   * A function that captures nothing, as a value: its static package, from the getter the module has for it (a
   * package is made by a coercion on a register, which the IR's operands do not carry; docs/popcorn.md "Closures").
   * Closures themselves are made only in the functions the stack machine generates.
   */
  private funValue(f: FunInfo): Val {
    const dst = this.temp(talTy(funValueTy(f)));
    this.emit({ op: 'call', dst,
      callee: { k: 'fun', label: closureGetter(f), saves: false, tparams: [], raises: false }, args: [] });
    return val(dst);
  }

  private temp(ty: string, name = 't'): VReg {
    const v: VReg = { id: this.fn.vregs.length, ty, name };
    this.fn.vregs.push(v);
    return v;
  }

  private varReg(v: LocalVar): VReg {
    let r = this.vars.get(v);
    if (!r) { r = this.temp(talTy(v.ty), v.name); this.vars.set(v, r); }
    return r;
  }

  private ty(e: Expr): Ty { return this.c.types.get(e)!; }

  // ---- statements

  private stmt(s: Stmt): void {
    const outer = this.line;
    this.line = s.pos.line;
    this.stmtHere(s);
    this.line = outer;
  }

  private stmtHere(s: Stmt): void {
    switch (s.k) {
      case 'block': for (const x of s.body) this.stmt(x); return;
      case 'expr': this.expr(s.e); return;
      case 'decl':
        for (const d of s.decls) {
          const v = this.varReg(this.c.decls.get(d)!);
          const lv = this.c.decls.get(d)!;
          if (!d.init) { this.emit({ op: 'copy', dst: v, src: imm(0) }); continue; }
          if (d.init.k === 'arraylit') {
            this.emit({ op: 'copy', dst: v, src: this.arrayLiteral(d.init, lv.ty) });
            continue;
          }
          this.emit({ op: 'copy', dst: v, src: this.toChar(this.expr(d.init), lv.ty) });
        }
        return;
      case 'if': {
        const then = this.later(), els = this.later(), end = s.else ? this.later() : els;
        this.branch(s.c, then, els);
        this.start(then);
        this.stmt(s.then);
        this.end({ op: 'jmp', to: end });
        if (s.else) {
          this.start(els);
          this.stmt(s.else);
          this.end({ op: 'jmp', to: end });
        }
        this.start(end);
        return;
      }
      case 'while': case 'for': {
        if (s.k === 'for' && s.init) this.stmt(s.init);
        const c = s.c;
        const body = this.later(), cont = this.later(), exit = this.later();
        // The guard, then the body, then (at `continue`) the step and the test again, jumping back to the body.
        if (c) this.branch(c, body, exit); else this.end({ op: 'jmp', to: body });
        this.start(body);
        this.loops.push({ brk: exit, cont });
        this.stmt(s.body);
        this.loops.pop();
        this.end({ op: 'jmp', to: cont });
        this.start(cont);
        if (s.k === 'for') for (const e of s.step ?? []) this.expr(e);
        if (c) this.branch(c, body, exit); else this.end({ op: 'jmp', to: body });
        this.start(exit);
        return;
      }
      case 'do': {
        const body = this.later(), cont = this.later(), exit = this.later();
        this.end({ op: 'jmp', to: body });
        this.start(body);
        this.loops.push({ brk: exit, cont });
        this.stmt(s.body);
        this.loops.pop();
        this.end({ op: 'jmp', to: cont });
        this.start(cont);
        this.branch(s.c, body, exit);
        this.start(exit);
        return;
      }
      case 'switch': {
        if (this.ty(s.e).k === 'union') return this.unionSwitch(s);
        if (this.ty(s.e).k === 'exn') return this.exnSwitch(s);
        const x = this.stable(this.expr(s.e));
        const end = this.later();
        const cases = s.cases.map(() => this.later());
        const dflt = this.later();
        // A balanced tree of compares over the case values (switch.ts), where -O0 tests them one after another.
        const arms = s.cases.flatMap((cs, i) => cs.values.map(v => ({ value: caseValue(this.c, v), to: cases[i] })));
        lowerDecisionTree(this.treeBuilder(), x, arms, dflt);
        this.loops.push({ brk: end });
        s.cases.forEach((cs, i) => {
          this.start(cases[i]);
          for (const st of cs.body) this.stmt(st);
          this.end({ op: 'jmp', to: end });
        });
        this.start(dflt);
        for (const st of s.dflt ?? []) this.stmt(st);
        this.loops.pop();
        this.end({ op: 'jmp', to: end });
        this.start(end);
        return;
      }
      case 'break': this.end({ op: 'jmp', to: this.loops[this.loops.length - 1].brk }); return;
      case 'continue': this.end({ op: 'jmp', to: [...this.loops].reverse().find(l => l.cont)!.cont! }); return;
      case 'return':
        this.end({ op: 'ret', v: s.e ? this.toChar(this.expr(s.e), this.f.ret) : undefined });
        return;
      case 'raise':
        // To the block's handler, or out of the function (emit.ts).
        this.end({ op: 'raise', v: this.expr(s.e), site: { pos: s.pos, what: '' } });
        return;
      case 'try': {
        // The body's blocks name the handler; the handler's own code is in the enclosing try (if any).
        const outer = this.handler;
        const handler = this.later(), end = this.later();
        this.handler = { block: handler, exn: this.varReg(this.c.handlerVars.get(s)!) };
        const body = this.later();
        this.end({ op: 'jmp', to: body });
        this.start(body);
        this.stmt(s.body);
        this.handler = outer;
        this.end({ op: 'jmp', to: end });
        this.start(handler);
        this.stmt(s.handler);
        this.end({ op: 'jmp', to: end });
        this.start(end);
        return;
      }
      case 'empty': case 'fun': return; // a nested function is generated as a function of its own
    }
  }

  /** A value that later evaluation cannot change: a local's register is copied to a temporary. */
  private stable(x: Val): Val {
    if (x.k !== 'v') return x;
    const t = this.temp(x.v.ty);
    this.emit({ op: 'copy', dst: t, src: x });
    return val(t);
  }

  // ---- conditions

  /** Go to `yes` if e is true, else to `no`; ends the current block. */
  private branch(e: Expr, yes: Block, no: Block): void {
    if (e.k === 'bool') { this.end({ op: 'jmp', to: e.value ? yes : no }); return; }
    if (e.k === 'unary' && e.op === '!') { this.branch(e.e, no, yes); return; }
    if (e.k === 'binary' && (e.op === '&&' || e.op === '||')) {
      const mid = this.later();
      if (e.op === '&&') this.branch(e.l, mid, no); else this.branch(e.l, yes, mid);
      this.start(mid);
      this.branch(e.r, yes, no);
      return;
    }
    if (e.k === 'binary' && e.op in COMPARISONS) {
      const [cc, a, b] = this.comparison(e);
      this.end({ op: 'br', cc, a, b, yes, no });
      return;
    }
    this.end({ op: 'br', cc: 'ne', a: this.expr(e), b: imm(0), yes, no });
  }

  private comparison(e: Extract<Expr, { k: 'binary' }>): [Cond, Val, Val] {
    const unsigned = this.ty(e.l).k === 'unsigned' || this.ty(e.r).k === 'unsigned';
    const cc = COMPARISONS[e.op][unsigned ? 1 : 0];
    if (e.r.k === 'null') return [cc, this.expr(e.l), imm(0)];
    if (e.l.k === 'null') return [cc, this.expr(e.r), imm(0)];
    let a = this.expr(e.l);
    if (assignsLocals(e.r)) a = this.stable(a);
    return [cc, a, this.expr(e.r)];
  }

  // ---- expressions: each gives the value's operand

  private expr(e: Expr): Val {
    switch (e.k) {
      case 'int': case 'char': return imm(e.value);
      case 'bool': return imm(e.value ? 1 : 0);
      case 'null': return imm(0);
      case 'string': return { k: 'addr', label: this.cx.stringLiteral(e.bytes) };
      case 'var': {
        const r = this.c.refs.get(e)!;
        if (r.k === 'fun') return this.funValue(r.f);
        if (r.k === 'exn') return imm(r.e.tag);
        if (r.k === 'local') return val(this.varReg(r.v));
        if (r.k === 'global') return this.load({ k: 'global', label: r.g.tal }, talTy(r.g.ty));
        throw new Error('internal: a builtin as a value');
      }
      case 'unary': {
        const a = this.expr(e.e);
        const t = this.temp('int');
        if (e.op === '-') this.emit({ op: 'neg', dst: t, a });
        else if (e.op === '~') this.emit({ op: 'not', dst: t, a });
        else if (e.op === '!') this.emit({ op: 'arith', aop: '^', dst: t, a, b: imm(1), unsigned: false });
        else return a;
        return val(t);
      }
      case 'binary': {
        if (e.op === '&&' || e.op === '||') return this.boolValue(e);
        if (e.op in COMPARISONS) {
          const [cc, a, b] = this.comparison(e);
          const t = this.temp('int');
          this.emit({ op: 'set', cc, dst: t, a, b });
          return val(t);
        }
        let a = this.expr(e.l);
        if (assignsLocals(e.r)) a = this.stable(a);
        const b = this.expr(e.r);
        return this.arith(e.op as ArithOp, a, b, this.ty(e).k === 'unsigned', e.pos);
      }
      case 'assign': return this.assign(e);
      case 'incdec': {
        const loc = this.location(e.target, false);
        const ty = this.ty(e.target);
        const old = this.stable(this.read(loc, ty));
        const now = this.toChar(this.arith(e.op === '++' ? '+' : '-', old, imm(1), false, e.pos), ty);
        this.write(loc, now);
        return e.prefix ? now : old;
      }
      case 'cond': {
        const t = this.temp(talTy(this.ty(e)));
        const a = this.later(), b = this.later(), end = this.later();
        this.branch(e.c, a, b);
        this.start(a);
        this.emit({ op: 'copy', dst: t, src: this.expr(e.a) });
        this.end({ op: 'jmp', to: end });
        this.start(b);
        this.emit({ op: 'copy', dst: t, src: this.expr(e.b) });
        this.end({ op: 'jmp', to: end });
        this.start(end);
        return val(t);
      }
      case 'call': return this.call(e);
      case 'index': {
        const loc = this.location(e, false);
        return this.read(loc, this.ty(e));
      }
      case 'field': {
        if (this.c.variants.has(e)) return this.variantValue(e);
        if (this.ty(e.e).k === 'union') return this.variantAccess(e);
        const loc = this.location(e, false);
        return this.read(loc, this.ty(e));
      }
      case 'proj': {
        const base = this.expr(e.e);
        return this.load({ k: 'field', base, index: e.index - 1 }, talTy(this.ty(e)));
      }
      case 'new': {
        if (this.c.variants.has(e)) return this.variantValue(e);
        const x = this.c.exnValues.get(e);
        if (x) return this.exceptionValue(x, e.args);
        const t = this.c.news.get(e) as Extract<Ty, { k: 'struct' }>;
        const m = new Map(t.s.tparams.map((p, i) => [p, t.args[i]]));
        return this.allocate(e.args, structTuple(t), t.s.fields.map(fd => substTy(fd.ty, m)), talTy(t));
      }
      case 'tuple': {
        const t = this.ty(e) as Extract<Ty, { k: 'tuple' }>;
        return this.allocate(e.elems, `*[${t.elems.map(x => talTy(x)).join(', ')}]`, t.elems, talTy(t));
      }
      case 'arraylit': throw new Error('internal: array literal outside an initializer');
      case 'cast': return this.toChar(this.expr(e.e), this.ty(e));
      case 'seq': {
        let x: Val = imm(0);
        for (const y of e.es) x = this.expr(y);
        return x;
      }
      case 'inst': throw new Error('internal: an instantiation outside a call');
      case 'lambda': {
        const r = this.c.refs.get(e);
        if (r?.k !== 'fun') throw new Error('internal: an anonymous function without its function');
        return this.funValue(r.f);
      }
    }
  }

  // ---- unions (as codegen.ts's, docs/popcorn.md: unions)

  /** A union value built: a nullary variant is its tag; another a fresh tuple [tag, value]. */
  private variantValue(e: Expr): Val {
    const { ty, variant: v } = this.c.variants.get(e)!;
    if (v.ty.k === 'void') return imm(v.tag);
    const value = variantValue(ty, v);
    const x = this.toChar(this.expr((e as Extract<Expr, { k: 'new' }>).args[0]), value);
    const t = this.temp(talTy(ty));
    this.emit({ op: 'alloc', dst: t, tuple: variantTuple(v.tag, value, ''), fields: [imm(v.tag), x] });
    return val(t);
  }

  /**
   * The union value `x` in a register of its type, in a block of its own: emit.ts starts such a block at a label,
   * where the union has its declared type (a nullary variant stored in it is known as its integer until a label).
   */
  private unionBlock(x: Val, ty: Ty): Val {
    const t = this.temp(talTy(ty), 'u');
    this.emit({ op: 'copy', dst: t, src: x });
    const b = this.later();
    this.end({ op: 'jmp', to: b });
    this.start(b);
    return val(t);
  }

  /** Field 1 of the variant tagged `tag` (its value), tested first: UnionVariant at `pos` when u is another. */
  private variantField(u: Val, t: Extract<Ty, { k: 'union' }>, tag: number, ty: Ty, pos: Pos): Val {
    const check: Site = { pos, what: 'uncaught exception UnionVariant' };
    return this.load({ k: 'field', base: u, index: 1, variant: { below: nullaryCount(t.u), tag, check } }, talTy(ty));
  }

  /** `u.B`. */
  private variantAccess(e: Extract<Expr, { k: 'field' }>): Val {
    const t = this.ty(e.e) as Extract<Ty, { k: 'union' }>;
    const v = t.u.variants.find(x => x.name === e.name)!;
    const u = this.unionBlock(this.expr(e.e), t);
    return this.variantField(u, t, v.tag, variantValue(t, v), e.pos);
  }

  /**
   * A switch on a union: the nullary cases compared with the value, then each other case's tag test (past the
   * nullary values); without a default the last test is a jump (check.ts made the switch exhaustive). A case that
   * binds names reads the value (its tag tested again, which cannot fail: the check the checker needs at the load).
   */
  private unionSwitch(s: Extract<Stmt, { k: 'switch' }>): void {
    const t = this.ty(s.e) as Extract<Ty, { k: 'union' }>;
    const x = this.unionBlock(this.expr(s.e), t);
    const end = this.later(), dflt = this.later();
    const cases = s.cases.map(c => ({ c, block: this.later(), ucs: c.values.map(v => this.c.unionCases.get(v)!) }));
    const tests = cases.flatMap(k => k.ucs.map(uc => ({ block: k.block, v: uc.variant })))
      .sort((a, b) => Number(a.v.ty.k !== 'void') - Number(b.v.ty.k !== 'void'));
    const below = nullaryCount(t.u);
    tests.forEach(({ block, v }, i) => {
      if (i === tests.length - 1 && !s.dflt) { this.end({ op: 'jmp', to: block }); return; }
      const next = this.later();
      const variant = v.ty.k === 'void' ? undefined : { below };
      this.end({ op: 'br', cc: 'e', a: x, b: imm(v.tag), yes: block, no: next, variant });
      this.start(next);
    });
    this.end({ op: 'jmp', to: dflt });
    this.loops.push({ brk: end });
    for (const { c, block, ucs } of cases) {
      this.start(block);
      const uc = ucs.length === 1 && ucs[0].binds.some(b => b) ? ucs[0] : undefined;
      if (uc) {
        const value = variantValue(t, uc.variant);
        const p = this.variantField(x, t, uc.variant.tag, value, c.pos);
        uc.binds.forEach((b, i) => {
          if (!b) return;
          const src = uc.tuple ? this.load({ k: 'field', base: p, index: i }, talTy(b.ty)) : p;
          this.emit({ op: 'copy', dst: this.varReg(b), src });
        });
      }
      for (const st of c.body) this.stmt(st);
      this.end({ op: 'jmp', to: end });
    }
    this.start(dflt);
    for (const st of s.dflt ?? []) this.stmt(st);
    this.loops.pop();
    this.end({ op: 'jmp', to: end });
    this.start(end);
  }

  /**
   * A switch on an exception (as codegen.ts's): the nullary cases compared with the value, then each case that
   * carries a value by its tuple's tag word (past FIRST_POINTER: no pointer is below it, no tag above); a case that
   * binds a name reads the value (its tag tested again, which cannot fail: the check the checker needs at the load).
   * Without a default, what no case takes is raised again, with the first raise's site.
   */
  private exnSwitch(s: Extract<Stmt, { k: 'switch' }>): void {
    const x = this.unionBlock(this.expr(s.e), this.ty(s.e));
    const end = this.later(), dflt = this.later();
    const exnOf = (v: Expr): ExnInfo => {
      const r = this.c.refs.get(v.k === 'call' ? v.fn : v);
      if (r?.k !== 'exn') throw new Error('internal: exception case');
      return r.e;
    };
    const cases = s.cases.map(c => ({ c, block: this.later() }));
    const tests = cases.flatMap(k => k.c.values.map(v => ({ block: k.block, x: exnOf(v) })))
      .sort((a, b) => Number(a.x.payload !== undefined) - Number(b.x.payload !== undefined));
    for (const { block, x: e } of tests) {
      const next = this.later();
      const variant = e.payload ? { below: FIRST_POINTER } : undefined;
      this.end({ op: 'br', cc: 'e', a: x, b: imm(e.tag), yes: block, no: next, variant });
      this.start(next);
    }
    this.end({ op: 'jmp', to: dflt });
    this.loops.push({ brk: end });
    for (const { c, block } of cases) {
      this.start(block);
      const bind = c.values.length === 1 ? this.c.caseBinds.get(c.values[0]) : undefined;
      const carried = c.values.length === 1 ? exnOf(c.values[0]) : undefined;
      if (bind && carried?.payload) {
        const check: Site = { pos: c.pos, what: 'uncaught exception UnionVariant' };
        const variant = { below: FIRST_POINTER, tag: carried.tag, check };
        this.emit({ op: 'copy', dst: this.varReg(bind),
          src: this.load({ k: 'field', base: x, index: 1, variant }, talTy(carried.payload)) });
      }
      for (const st of c.body) this.stmt(st);
      this.end({ op: 'jmp', to: end });
    }
    this.start(dflt);
    if (s.dflt) for (const st of s.dflt) this.stmt(st);
    else this.end({ op: 'raise', v: x });
    this.loops.pop();
    this.end({ op: 'jmp', to: end });
    this.start(end);
  }

  private boolValue(e: Expr): Val {
    const t = this.temp('int');
    const yes = this.later(), no = this.later(), end = this.later();
    this.branch(e, yes, no);
    this.start(yes);
    this.emit({ op: 'copy', dst: t, src: imm(1) });
    this.end({ op: 'jmp', to: end });
    this.start(no);
    this.emit({ op: 'copy', dst: t, src: imm(0) });
    this.end({ op: 'jmp', to: end });
    this.start(end);
    return val(t);
  }

  private arith(op: ArithOp, a: Val, b: Val, unsigned: boolean, pos: Pos): Val {
    const t = this.temp('int');
    const divides = op === '/' || op === '%';
    const zero = divides ? { pos, what: op === '/' ? 'division by zero' : 'remainder by zero' } : undefined;
    this.emit({ op: 'arith', aop: op, dst: t, a, b, unsigned, zero });
    return val(t);
  }

  /** A value stored as a char wraps to a byte (as C's unsigned char), one stored as a sub-word integer to its width
   * (types.ts's `truncation`; the same instructions as codegen.ts's toChar). */
  private toChar(x: Val, ty: Ty): Val {
    const w = truncation(ty);
    if (!w) return x;
    if (x.k === 'imm') return imm(truncate(x.n, ty));
    const t = this.temp('int');
    if (!w.signed) {
      this.emit({ op: 'arith', aop: '&', dst: t, a: x, b: imm(w.bits === 8 ? 255 : 65535), unsigned: false });
      return val(t);
    }
    const u = this.temp('int');
    this.emit({ op: 'arith', aop: '<<', dst: u, a: x, b: imm(32 - w.bits), unsigned: false });
    this.emit({ op: 'arith', aop: '>>', dst: t, a: val(u), b: imm(32 - w.bits), unsigned: false });
    return val(t);
  }

  private load(mem: Mem, ty: string): Val {
    const t = this.temp(ty);
    this.emit({ op: 'load', dst: t, mem });
    return val(t);
  }

  // ---- locations (assignment targets and the reads through them)

  /** Evaluate the parts of an lvalue; `keep`: later evaluation may assign locals, so copy what it could change. */
  private location(target: Expr, keep: boolean): Loc {
    const k = (x: Val): Val => (keep ? this.stable(x) : x);
    switch (target.k) {
      case 'var': {
        const r = this.c.refs.get(target)!;
        if (r.k === 'local') return { k: 'local', v: this.varReg(r.v) };
        if (r.k === 'global') return { k: 'global', label: r.g.tal };
        break;
      }
      case 'field': {
        const t = this.ty(target.e) as Extract<Ty, { k: 'struct' }>;
        const base = k(this.expr(target.e));
        const nullCheck = isNullable(t) ? { pos: target.pos, what: 'null pointer dereference' } : undefined;
        return { k: 'field', base, index: t.s.fields.findIndex(x => x.name === target.name), nullCheck };
      }
      case 'index': {
        const at = this.ty(target.a);
        let base = this.expr(target.a);
        if (assignsLocals(target.i)) base = this.stable(base);
        const index = k(this.expr(target.i));
        const str = at.k === 'string';
        // A string's or a byte array's bounds stub takes it as `*rbytes` (as codegen.ts's boundsFailure).
        const bytes = byteArray(at);
        const arrTy = bytes ? '*rbytes' : talTy(at);
        return { k: 'elem', base: k(base), index, bytes, arrTy, pos: target.pos, str };
      }
    }
    throw new Error('internal: not an lvalue');
  }

  private mem(l: Exclude<Loc, { k: 'local' }>): Mem {
    if (l.k === 'elem') {
      const check = { pos: l.pos, what: `${l.str ? 'string' : 'array'} index out of bounds` };
      return { k: 'elem', base: l.base, index: l.index, bytes: l.bytes, arrTy: l.arrTy, check };
    }
    return l;
  }

  private read(l: Loc, ty: Ty): Val {
    if (l.k === 'local') return val(l.v);
    return this.load(this.mem(l), talTy(ty));
  }

  private write(l: Loc, x: Val): void {
    if (l.k === 'local') this.emit({ op: 'copy', dst: l.v, src: x });
    else this.emit({ op: 'store', mem: this.mem(l), src: x });
  }

  private assign(e: Extract<Expr, { k: 'assign' }>): Val {
    const loc = this.location(e.target, assignsLocals(e.value));
    const ty = this.ty(e.target);
    let x: Val;
    if (e.op === '=') x = this.expr(e.value);
    else {
      let old = this.read(loc, ty);
      if (assignsLocals(e.value)) old = this.stable(old);
      const b = this.expr(e.value);
      const unsigned = ty.k === 'unsigned' || this.ty(e.value).k === 'unsigned';
      x = this.arith(e.op.slice(0, -1) as ArithOp, old, b, unsigned, e.pos);
    }
    x = this.toChar(x, ty);
    // The value of the assignment is what was stored: a local's register may change later, so not the local itself.
    this.write(loc, x);
    return x;
  }

  // ---- allocation and calls

  private allocate(parts: Expr[], tuple: string, types: readonly Ty[], ty: string): Val {
    const fields: Val[] = [];
    for (const [i, p] of parts.entries()) {
      let x = this.expr(p);
      if (types[i]) x = this.toChar(x, types[i]);
      if (parts.slice(i + 1).some(assignsLocals)) x = this.stable(x);
      fields.push(x);
    }
    const t = this.temp(ty);
    this.emit({ op: 'alloc', dst: t, tuple, fields });
    return val(t);
  }

  private arrayLiteral(e: Extract<Expr, { k: 'arraylit' }>, ty: Ty): Val {
    const elem = ty.k === 'array' ? ty.elem : ty;
    const et = talTy(elem);
    const element = (x: Expr): Val =>
      (x.k === 'arraylit' ? this.arrayLiteral(x, elem) : this.toChar(this.expr(x), elem));
    const first = element(e.elems[0]);
    // A bool or char array is bytes (codegen.ts's arrayLiteral): tal_new_bytes keeps the first element's low byte.
    const bytes = byteElement(elem);
    const arrTy = talTy({ k: 'array', elem });
    const arr = this.temp(arrTy);
    this.emit({ op: 'call', dst: arr, callee: { k: 'import', name: bytes ? 'tal_new_bytes' : 'tal_new_array',
      noreturn: false }, args: [{ v: imm(e.elems.length), ty: 'int' }, { v: first, ty: et }],
    inst: bytes ? undefined : [et] });
    for (let i = 1; i < e.elems.length; i++) {
      const x = element(e.elems[i]);
      const check = { pos: e.elems[i].pos, what: 'array index out of bounds' }; // cannot fail: i < its length
      const mem: Mem = { k: 'elem', base: val(arr), index: imm(i), bytes, arrTy: bytes ? '*rbytes' : arrTy, check };
      this.emit({ op: 'store', mem, src: x });
    }
    return val(arr);
  }

  /** `E`, `E(v)`, `new E(v)` (as codegen.ts's): a nullary case is its tag; a value a new tuple [tag, value]. */
  private exceptionValue(x: ExnInfo, args: Expr[]): Val {
    if (!x.payload) return imm(x.tag);
    const value = this.toChar(this.expr(args[0]), x.payload);
    const t = this.temp(EXN_TYPE, 'exn');
    this.emit({ op: 'alloc', dst: t, tuple: `*[S(${x.tag}), ${talTy(x.payload)}]`, fields: [imm(x.tag), value] });
    return val(t);
  }

  private call(e: Extract<Expr, { k: 'call' }>): Val {
    const x = this.c.exnValues.get(e);
    if (x) return this.exceptionValue(x, e.args);
    const info = this.c.calls.get(e) as CallInfo;
    const t = info.target;
    if (t.k === 'builtin' && t.b.kind !== 'import') return this.builtinCall(e, info);
    const args: { v: Val; ty: string }[] = [];
    for (let i = e.args.length - 1; i >= 0; i--) {
      const a = e.args[i];
      const param = t.k === 'fun' ? t.f.params[i] : undefined;
      let x = this.expr(a);
      if (param !== undefined) x = this.toChar(x, substTy(param.ty, info.inst));
      if (e.args.slice(0, i).some(assignsLocals)) x = this.stable(x);
      const ty = t.k === 'fun' ? talTy(substTy(t.f.params[i].ty, info.inst)) : talTy(this.ty(a));
      args.unshift({ v: x, ty });
    }
    const ret = this.ty(e);
    const dst = ret.k === 'void' ? undefined : this.temp(talTy(ret));
    let callee: Callee;
    let inst: string[] | undefined;
    if (t.k === 'builtin') {
      callee = { k: 'import', name: t.b.importName!, noreturn: !!t.b.noreturn };
    } else if (t.k === 'fun') {
      const raises = this.cx.raises(t.f);
      callee = { k: 'fun', label: t.f.tal, saves: this.cx.saves(t.f), tparams: t.f.tparams, raises };
      if (t.f.tparams.length) inst = t.f.tparams.map(p => talTy(info.inst.get(p)!));
    } else {
      callee = { k: 'value', fn: this.expr(e.fn) };
    }
    this.emit({ op: 'call', dst, callee, args, inst });
    if (callee.k === 'import' && callee.noreturn) this.end({ op: 'unreachable' });
    return dst ? val(dst) : imm(0);
  }

  private builtinCall(e: Extract<Expr, { k: 'call' }>, info: CallInfo): Val {
    const b = (info.target as { k: 'builtin'; b: { kind: string } }).b;
    const importCall = (name: string, ty: string, args: { v: Val; ty: string }[], inst?: string[]): Val => {
      const dst = this.temp(ty);
      this.emit({ op: 'call', dst, callee: { k: 'import', name, noreturn: false }, args, inst });
      return val(dst);
    };
    switch (b.kind) {
      case 'size': return this.load({ k: 'len', base: this.expr(e.args[0]) }, 'int');
      case 'new_array': {
        const a = info.inst.get('a')!;
        const elem = talTy(a);
        let x = this.toChar(this.expr(e.args[1]), a);
        if (assignsLocals(e.args[0])) x = this.stable(x);
        const n = this.expr(e.args[0]);
        // A bool or char array: n bytes, each the fill's low byte.
        if (byteElement(a)) return importCall('tal_new_bytes', '*bytes', [{ v: n, ty: 'int' }, { v: x, ty: elem }]);
        return importCall('tal_new_array', `*arr(${elem})`, [{ v: n, ty: 'int' }, { v: x, ty: elem }], [elem]);
      }
      case 'new_string':
        return importCall('tal_new_bytes', '*bytes',
          [{ v: this.expr(e.args[0]), ty: 'int' }, { v: imm(0), ty: 'int' }]);
      case 'std_args': return importCall('tal_args', '*arr(*bytes)', []);
    }
    throw new Error(`internal: builtin ${b.kind}`);
  }
}
