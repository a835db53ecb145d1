// The writer of .tal.types (docs/tal.md §5), for talas: parsed types in, the binary section out. Not trusted: the
// checker's reader (tal/annotations.ts) checks everything this writes.
//
// Structure is stored once: a type object is written once however often it is used, and nodes with the same tag and
// the same children are one node (so every `int`, every `*arr(int)`, every closed code type written out twice is
// shared). Each code type with variables binds a scope of its own; a scope sits inside the innermost scope whose
// variables its code type uses besides its own (not merely inside the code type it is written in), so that a closed
// code type can be shared between places, and the scopes are numbered in pre-order as the reader wants them.

import { ANNOTATION_MAGIC, ANNOTATION_VERSION, COERCE_OPS, HEADER_FIELDS, type HeaderField } from '../annotations.ts';
import { layout, NONE, Tag, TABLES, TAG_SPTR } from '../annotations.ts';
import { type Arg, type Binder, type CodeTy, type Stk, type Ty, type TypeDef, isStk } from '../types.ts';

export interface LabelIn<T> { readonly name: string; readonly addr: number; readonly ty: T }
export interface AnnotationsIn {
  readonly main: string;
  readonly defs: readonly TypeDef[];
  readonly code: readonly LabelIn<CodeTy>[];
  readonly data: readonly LabelIn<Ty>[];
  /** Arguments parsed in the scope of the code type of the block they are in (its binders are the label's own). */
  readonly inst: readonly { readonly addr: number; readonly args: readonly Arg[] }[];
  /** .tal_pack and .tal_unpack, parsed like instantiations (in the scope of their block's code type). */
  readonly coerce?: readonly CoercionIn[];
}
export interface CoercionIn {
  readonly addr: number;
  readonly op: (typeof COERCE_OPS)[number];
  readonly reg: number;
  readonly ty?: Ty;
  readonly witness?: Ty;
}

interface Scope { parent: number; depth: number; binders: readonly Binder[]; children: number[] }
interface NodeRec { tag: number; a: number | Binder; b: number; c: number; list?: number[] }

const FLAG_NUM = { r: 0, rw: 1, u: 2 } as const;

class Writer {
  /** Provisional scopes (index 0: the root); renumbered in pre-order at the end. */
  readonly scopes: Scope[] = [{ parent: -1, depth: 0, binders: [], children: [] }];
  readonly binderScope = new Map<Binder, number>();
  readonly nodes: NodeRec[] = [];
  /** The provisional scopes whose variables each node uses free. */
  readonly free: ReadonlySet<number>[] = [];
  readonly list: number[] = [];
  private readonly byObject = new Map<object, number>();
  private readonly byKey = new Map<string, number>();
  private readonly byCode = new Map<CodeTy, number>();
  /** How many scopes are open around what is being written (a definition's body is inside its parameters'). */
  depth = 0;

  constructor(private readonly defIndex: ReadonlyMap<string, number>) {}

  private add(rec: NodeRec, key: string | undefined, free: ReadonlySet<number>): number {
    if (key !== undefined) {
      const hit = this.byKey.get(key);
      if (hit !== undefined) return hit;
    }
    this.nodes.push(rec);
    this.free.push(free);
    if (key !== undefined) this.byKey.set(key, this.nodes.length - 1);
    return this.nodes.length - 1;
  }

  private union(children: readonly number[]): Set<number> {
    const out = new Set<number>();
    for (const n of children) for (const s of this.free[n]) out.add(s);
    return out;
  }

  /** A scope binding `binders`, for a code type or a definition being written at the current depth. */
  openScope(binders: readonly Binder[]): number {
    const s = this.scopes.length;
    this.scopes.push({ parent: -1, depth: this.depth + 1, binders, children: [] });
    for (const b of binders) this.binderScope.set(b, s);
    return s;
  }

  /** Close scope s over the nodes of its body: it sits inside the deepest other scope they use. */
  closeScope(s: number, body: readonly number[]): Set<number> {
    const free = this.union(body);
    free.delete(s);
    let parent = 0;
    for (const f of free) if (this.scopes[f].depth > this.scopes[parent].depth) parent = f;
    this.scopes[s].parent = parent;
    this.scopes[parent].children.push(s);
    return free;
  }

  arg(a: Arg): number {
    return isStk(a) ? this.stk(a) : this.ty(a);
  }

  ty(t: Ty): number {
    const seen = this.byObject.get(t);
    if (seen !== undefined) return seen;
    const n = this.tyNode(t);
    this.byObject.set(t, n);
    return n;
  }

  private tyNode(t: Ty): number {
    const none = new Set<number>();
    switch (t.k) {
      case 'int': return this.add({ tag: Tag.Int, a: 0, b: 0, c: 0 }, 'int', none);
      case 'top': return this.add({ tag: Tag.Top, a: 0, b: 0, c: 0 }, 'top', none);
      case 'sing': return this.add({ tag: Tag.Sing, a: t.n >>> 0, b: 0, c: 0 }, `S${t.n}`, none);
      case 'bytes': {
        const a = (t.nullable ? 1 : 0) | (t.ro ? 2 : 0);
        return this.add({ tag: Tag.Bytes, a, b: 0, c: 0 }, `B${a}`, none);
      }
      case 'var': return this.variable(Tag.Var, t.b);
      case 'arr': {
        const e = this.ty(t.elem);
        return this.add({ tag: Tag.Arr, a: t.nullable ? 1 : 0, b: e, c: 0 }, `A${t.nullable}:${e}`, this.free[e]);
      }
      case 'tuple': {
        const kids = t.fields.map(f => this.ty(f.ty));
        const words = t.fields.flatMap((f, i) => [kids[i], FLAG_NUM[f.flag]]);
        return this.withList({ tag: Tag.Tuple, a: t.nullable ? 1 : 0, b: 0, c: t.fields.length }, words, kids);
      }
      case 'named': {
        const d = this.defIndex.get(t.name);
        if (d === undefined) throw new Error(`internal: type '${t.name}' has no definition`);
        const kids = t.args.map(a => this.arg(a));
        return this.withList({ tag: Tag.Named, a: d, b: 0, c: kids.length }, kids, kids);
      }
      case 'code': return this.code(t);
      case 'sptr': {
        const st = this.stk(t.stack);
        return this.add({ tag: TAG_SPTR, a: st, b: 0, c: 0 }, `P${st}`, this.free[st]);
      }
      case 'sum': {
        const kids = t.cases.map(c => this.ty(c));
        const rec = { tag: Tag.Sum, a: t.consts.length, b: 0, c: t.consts.length + kids.length };
        return this.withList(rec, [...t.consts, ...kids], kids);
      }
      case 'exists': {
        // Binds a scope of its own, as a code type with variables does.
        const s = this.openScope([t.b]);
        this.depth++;
        const body = this.ty(t.body);
        this.depth--;
        const free = this.closeScope(s, [body]);
        return this.add({ tag: Tag.Exists, a: s, b: body, c: 0 }, undefined, free);
      }
    }
  }

  /** A node with a child list; nodes with the same tag, fields and list are one. */
  private withList(rec: NodeRec, words: number[], kids: readonly number[]): number {
    const key = `${rec.tag}:${String(rec.a)}:${rec.c}:${words.join(',')}`;
    const hit = this.byKey.get(key);
    if (hit !== undefined) return hit;
    rec.list = words;
    return this.add(rec, key, this.union(kids));
  }

  private variable(tag: number, b: Binder): number {
    const s = this.binderScope.get(b);
    if (s === undefined) throw new Error(`internal: variable '${b.name}' is not in scope`);
    return this.add({ tag, a: b, b: 0, c: 0 }, `V${b.id}`, new Set([s]));
  }

  private code(t: Extract<Ty, { k: 'code' }>): number {
    const c = t.code;
    // One code type object is one node (its binders are its own: the reader lets one node bind a scope).
    const seen = this.byCode.get(c);
    if (seen !== undefined) return seen;
    const n = this.codeNode(c);
    this.byCode.set(c, n);
    return n;
  }

  private codeNode(c: CodeTy): number {
    const s = c.vars.length > 0 ? this.openScope(c.vars) : 0;
    this.depth++;
    const regs = c.regs.map((r, i) => (i === 4 ? this.stk(c.stack) : r ? this.ty(r) : NONE));
    this.depth--;
    const kids = regs.filter(n => n !== NONE);
    if (s === 0) return this.withList({ tag: Tag.Code, a: 0, b: 0, c: 0 }, regs, kids);
    const free = this.closeScope(s, kids);
    const rec: NodeRec = { tag: Tag.Code, a: s, b: 0, c: 0, list: regs };
    return this.add(rec, undefined, free);
  }

  stk(s: Stk): number {
    const seen = this.byObject.get(s);
    if (seen !== undefined) return seen;
    let n: number;
    switch (s.k) {
      case 'nil': n = this.add({ tag: Tag.Nil, a: 0, b: 0, c: 0 }, 'nil', new Set()); break;
      case 'svar': n = this.variable(Tag.SVar, s.b); break;
      case 'cons': {
        const h = this.ty(s.head), tl = this.stk(s.tail);
        n = this.add({ tag: Tag.Cons, a: h, b: tl, c: 0 }, `C${h}:${tl}`, this.union([h, tl]));
        break;
      }
    }
    this.byObject.set(s, n);
    return n;
  }
}

/** The .tal.types section for these annotations. */
export function writeAnnotations(ann: AnnotationsIn): Uint8Array {
  const defIndex = new Map(ann.defs.map((d, i) => [d.name, i]));
  const w = new Writer(defIndex);
  const defScopes = ann.defs.map(d => (d.params.length ? w.openScope(d.params) : 0));
  const defBodies = ann.defs.map((d, i) => {
    w.depth = 1;
    const n = w.ty(d.body);
    w.depth = 0;
    if (defScopes[i]) w.closeScope(defScopes[i], [n]);
    return n;
  });
  const byAddr = <T>(ls: readonly LabelIn<T>[]) => [...ls].sort((x, y) => x.addr - y.addr);
  const code = byAddr(ann.code).map(l => ({ ...l, node: w.ty({ k: 'code', code: l.ty }) }));
  const data = byAddr(ann.data).map(l => ({ ...l, node: w.ty(l.ty) }));
  // Instantiations and coercions name the variables of the label they are in, whose scope is closed by now: a scope
  // they open (an existential's, a code type's) must count as deeper than every scope written so far, or closeScope
  // could take a label's scope for its parent over the existential it sits in (`exists[e] *[code[r]{… e …}]`).
  w.depth = Math.max(...w.scopes.map(sc => sc.depth));
  const inst = [...ann.inst].sort((x, y) => x.addr - y.addr).map(it => ({ addr: it.addr,
    nodes: it.args.map(a => w.arg(a)) }));
  const coerce = [...(ann.coerce ?? [])].sort((x, y) => x.addr - y.addr).map(c => ({
    addr: c.addr, op: COERCE_OPS.indexOf(c.op), reg: c.reg,
    ty: c.ty ? w.ty(c.ty) : NONE, witness: c.witness ? w.ty(c.witness) : NONE,
  }));
  w.depth = 0;
  const main = code.findIndex(l => l.name === ann.main);
  if (main < 0) throw new Error(`internal: the main label '${ann.main}' has no code annotation`);

  // Scopes in pre-order, their binders in that order.
  const scopeId = new Array<number>(w.scopes.length).fill(0);
  const order: number[] = [];
  const end = new Map<number, number>();
  const visit = (s: number) => {
    if (s !== 0) { order.push(s); scopeId[s] = order.length; }
    for (const c of w.scopes[s].children) visit(c);
    if (s !== 0) end.set(s, order.length + 1);
  };
  visit(0);
  const binderId = new Map<Binder, number>();
  for (const s of order) for (const b of w.scopes[s].binders) binderId.set(b, binderId.size);

  // Strings: every name, sorted (byte order: the names are ASCII), once each.
  const names = new Set<string>([...binderId.keys()].map(b => b.name));
  for (const d of ann.defs) names.add(d.name);
  for (const l of [...code, ...data]) names.add(l.name);
  const strings = [...names].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const stringId = new Map(strings.map((s, i) => [s, i]));
  const bytes = new TextEncoder().encode(strings.join(''));

  // The child lists, appended in node order.
  const list: number[] = [];
  const nodeWords: number[] = [];
  for (const r of w.nodes) {
    const bindsScope = r.tag === Tag.Code || r.tag === Tag.Exists;
    const a = typeof r.a === 'number' ? (bindsScope ? scopeId[r.a] : r.a) : binderId.get(r.a)!;
    let b = r.b;
    if (r.list) { b = list.length; list.push(...r.list); }
    nodeWords.push(r.tag, a, b, r.c);
  }
  const instWords: number[] = [];
  for (const it of inst) { instWords.push(it.addr, list.length, it.nodes.length); list.push(...it.nodes); }

  const h: Record<HeaderField, number> = {
    version: ANNOTATION_VERSION, strings: strings.length, stringBytes: bytes.length, scopes: order.length,
    binders: binderId.size, nodes: w.nodes.length, list: list.length, defs: ann.defs.length, code: code.length,
    data: data.length, inst: inst.length, main, coerce: coerce.length,
  };
  const { offsets, size } = layout(h);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = ANNOTATION_MAGIC.charCodeAt(i);
  HEADER_FIELDS.forEach((f, i) => dv.setUint32(8 + 4 * i, h[f], true));
  let acc = 0;
  const tables: Record<(typeof TABLES)[number]['name'], number[]> = {
    string: strings.map(s => (acc += s.length)),
    scope: order.flatMap(s => [end.get(s)!, w.scopes[s].binders.length]),
    binder: [...binderId.keys()].flatMap(b => [stringId.get(b.name)!, b.kind === 'stack' ? 1 : 0]),
    node: nodeWords,
    list,
    def: ann.defs.flatMap((d, i) => [stringId.get(d.name)!, scopeId[defScopes[i]], defBodies[i]]),
    code: code.flatMap(l => [l.addr, stringId.get(l.name)!, l.node]),
    data: data.flatMap(l => [l.addr, stringId.get(l.name)!, l.node]),
    inst: instWords,
    coerce: coerce.flatMap(c => [c.addr, c.op, c.reg, c.ty, c.witness]),
  };
  for (const t of TABLES) tables[t.name].forEach((v, i) => dv.setUint32(offsets[t.name] + 4 * i, v >>> 0, true));
  out.set(bytes, offsets.bytes);
  return out;
}
