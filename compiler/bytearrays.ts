// Where a bool or char array would meet an array of words: the uses popc refuses now that `bool[]` and `char[]` are
// TAL byte arrays (`*bytes`, types.ts's `byteElement`, issue 17) while every type variable stays a word type.
//
// TALx86's Popcorn had no such case to refuse: its `char` and `bool` were 4-byte values (popcomptypes.ml in the TALC
// releases: `char_con = int_con`, `bool_con` a word of 0 or 1, `ArrayType(t) -> array_con (typ2con t)`, an array of
// words, every type variable of kind K4byte) and only `string` was an array of bytes (`array_real_con (pcbytes
// Byte1)`). popc lays out `bool[]` and `char[]` as bytes, as gcc does, so a polymorphic function or struct over `a[]`
// (an array of words, `*arr(t_a)`) cannot be handed a char[] at a := char: its code would read words where there are
// bytes, and the checker would refuse popc's output. These are the places a value crosses that boundary, each
// refused here with a diagnostic before code is generated:
//
// - a call instantiating a function's type variable with `bool` or `char` where the variable is an array's element in
//   the function's parameters or result, directly or through the struct and union instances they name (P3601;
//   `List::to_array` at a := char). An instantiation the signature does not carry into an array is kept: inside the
//   body a local `a[]` is words throughout, and its values cross only as `a`, a word;
// - a struct or union instance whose type argument is `bool` or `char` where the definition holds an array of that
//   parameter (`<char>S` for `struct <a>S { a items[]; }`), declared for a local, a parameter, a result, a global or
//   a field, or built by `new` (P3601);
// - an argument or a field value whose arrays differ from the parameter's or field's in their element's size
//   (P3602): the checker lets a `char[]` pass where an `int[]` is expected (`unify` treats the integer types alike
//   inside arrays, and a type variable bound to int accepts a char), which with words everywhere was harmless.
//
// Runs after check.ts accepted the program (a pass of its own, so check.ts's rules stay as they are).

import { forEachStmtExpr, subExprs, type Expr, type Pos } from './ast.ts';
import { Diag, type Diagnostics } from './diagnostics.ts';
import type { Checked, FunInfo } from './program.ts';
import { byteElement, showTy, substTy, type StructInfo, type Ty, type UnionInfo } from './types.ts';

/** The fields (a struct's) or variant values (a union's) of a definition, in terms of its own parameters. */
function members(d: StructInfo | UnionInfo): Ty[] {
  return 'fields' in d ? d.fields.map(f => f.ty) : d.variants.map(v => v.ty);
}

/**
 * Whether type variable `v` is an array's element in `t`: `v[]` itself, or inside an instance `<…, v, …>S` of a
 * definition whose parameter there is an array's element in its members (followed through definitions, each
 * parameter once).
 */
function elementVar(v: string, t: Ty, seen: Set<string> = new Set()): boolean {
  switch (t.k) {
    case 'array': return (t.elem.k === 'var' && t.elem.name === v) || elementVar(v, t.elem, seen);
    case 'tuple': return t.elems.some(e => elementVar(v, e, seen));
    case 'fn': return elementVar(v, t.ret, seen) || t.params.some(p => elementVar(v, p, seen));
    case 'struct': case 'union': {
      const d = t.k === 'struct' ? t.s : t.u;
      return t.args.some((a, j) =>
        elementVar(v, a, seen) || (a.k === 'var' && a.name === v && parameterIsElement(d, j, seen)));
    }
    default: return false;
  }
}

/** Whether parameter `j` of a struct or union is an array's element in its members. */
function parameterIsElement(d: StructInfo | UnionInfo, j: number, seen: Set<string>): boolean {
  const key = `${d.tal}#${j}`;
  if (seen.has(key)) return false;
  seen.add(key);
  return members(d).some(m => elementVar(d.tparams[j], m, seen));
}

/** An instance that holds a byte type where its definition has an array of words: the message's arguments. */
type WordArrayInstance = [instance: string, param: string, arg: string];

/** The first instance in `t` that holds a byte type where its definition has an array of words. */
function wordArrayInstance(t: Ty): WordArrayInstance | undefined {
  switch (t.k) {
    case 'array': return wordArrayInstance(t.elem);
    case 'tuple': return t.elems.map(wordArrayInstance).find(x => x);
    case 'fn': return [t.ret, ...t.params].map(wordArrayInstance).find(x => x);
    case 'struct': case 'union': {
      const d = t.k === 'struct' ? t.s : t.u;
      const j = t.args.findIndex((a, i) => byteElement(a) && parameterIsElement(d, i, new Set()));
      if (j >= 0) return [showTy(t), d.tparams[j], showTy(t.args[j])];
      return t.args.map(wordArrayInstance).find(x => x);
    }
    default: return undefined;
  }
}

/** Whether `from` (an argument's or value's type) holds an array where `to` holds one with elements of another size. */
function sizeMismatch(from: Ty, to: Ty): boolean {
  if (from.k === 'array' && to.k === 'array') {
    return byteElement(from.elem) !== byteElement(to.elem) || sizeMismatch(from.elem, to.elem);
  }
  const pairwise = (xs: readonly Ty[], ys: readonly Ty[]): boolean =>
    xs.some((x, i) => i < ys.length && sizeMismatch(x, ys[i]));
  if (from.k === 'tuple' && to.k === 'tuple') return pairwise(from.elems, to.elems);
  if ((from.k === 'struct' && to.k === 'struct') || (from.k === 'union' && to.k === 'union')) {
    return pairwise(from.args, to.args);
  }
  if (from.k === 'fn' && to.k === 'fn') {
    return sizeMismatch(from.ret, to.ret) || pairwise(from.params, to.params);
  }
  return false;
}

class ByteArrayUses {
  private readonly reported = new Set<string>();

  constructor(private readonly c: Checked, private readonly diags: Diagnostics) {}

  run(): void {
    for (const g of this.c.globals) {
      this.declared(g.ty, g.file, g.decl.pos);
      if (g.decl.init) this.walk(g.decl.init, g.file);
    }
    for (const f of this.c.funs) this.fun(f);
  }

  /** Report once per place (`key` widens it: an instance is reported once a line, not at each of its parts). */
  private error(file: string, pos: Pos, report: () => void, key = `${file}:${pos.line}:${pos.col}`): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    report();
  }

  /**
   * The type of a declaration or an expression: no byte type where its definition has an array of words (a struct's
   * field of such a type is refused where it is read or built, its declaration having no position of its own).
   */
  private declared(t: Ty | undefined, file: string, pos: Pos): void {
    const bad = t && wordArrayInstance(t);
    if (!bad) return;
    const once = `${file}:${pos.line}:${bad[0]}`;
    this.error(file, pos, () => this.diags.error(file, pos, Diag.ByteArrayInstance, ...bad), once);
  }

  private fun(f: FunInfo): void {
    if (!f.decl.body) return;
    this.declared(f.ret, f.file, f.decl.pos);
    for (const p of f.params) this.declared(p.ty, f.file, p.pos);
    for (const l of f.locals) this.declared(l.ty, f.file, l.pos);
    forEachStmtExpr(f.decl.body, e => this.walk(e, f.file));
  }

  private walk(e: Expr, file: string): void {
    this.expr(e, file);
    for (const x of subExprs(e)) this.walk(x, file);
  }

  private ty(e: Expr): Ty | undefined { return this.c.types.get(e); }

  private expr(e: Expr, file: string): void {
    this.declared(this.ty(e), file, e.pos);
    if (e.k === 'call') this.call(e, file);
    if (e.k !== 'new') return;
    const built = this.c.news.get(e);
    if (built?.k === 'struct') {
      const m = new Map(built.s.tparams.map((p, i) => [p, built.args[i]]));
      e.args.forEach((x, i) => {
        const field = built.s.fields[i];
        if (field) this.crossing(x, substTy(field.ty, m), `field ${field.name}`, file);
      });
    }
    const variant = this.c.variants.get(e);
    if (variant && e.args[0]) {
      const m = new Map(variant.ty.u.tparams.map((p, i) => [p, variant.ty.args[i]]));
      this.crossing(e.args[0], substTy(variant.variant.ty, m), `${variant.ty.u.name}.${variant.variant.name}`, file);
    }
  }

  private call(e: Extract<Expr, { k: 'call' }>, file: string): void {
    const info = this.c.calls.get(e);
    if (!info) return;
    let params: readonly Ty[];
    if (info.target.k === 'fun') {
      const f = info.target.f;
      for (const v of f.tparams) {
        const t = info.inst.get(v);
        if (!t || !byteElement(t) || ![f.ret, ...f.params.map(p => p.ty)].some(x => elementVar(v, x))) continue;
        this.error(file, e.pos, () => this.diags.error(file, e.pos, Diag.ByteArrayInstantiation, v, showTy(t), f.name));
      }
      params = f.params.map(p => substTy(p.ty, info.inst));
    } else if (info.target.k === 'value') {
      const ft = this.ty(e.fn);
      if (ft?.k !== 'fn') return;
      params = ft.params;
    } else return; // the builtins: size and new_array take any array, strings are strings
    e.args.forEach((x, i) => { if (params[i]) this.crossing(x, params[i], `argument ${i + 1}`, file); });
  }

  /** A value of `x`'s type going where `to` is expected: its arrays must have elements of the same size. */
  private crossing(x: Expr, to: Ty, where: string, file: string): void {
    const from = this.ty(x);
    if (!from || !sizeMismatch(from, to)) return;
    this.error(file, x.pos, () =>
      this.diags.error(file, x.pos, Diag.ByteArrayMismatch, where, showTy(from), showTy(to)));
  }
}

/** Refuse the uses where a bool or char array would be taken for an array of words (see the top of the file). */
export function refuseWordArrayUses(c: Checked, diags: Diagnostics): void {
  new ByteArrayUses(c, diags).run();
}
