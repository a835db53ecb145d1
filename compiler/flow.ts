// Flow-sensitive null narrowing (as AssemblyScript's flow.ts): which locals of a ?struct type are known non-null
// at each point. A local becomes non-null on the edge where a test proves it (x != null, x == null's false edge,
// through !, && and ||), or when a `new` value is stored in it; it loses that on any other assignment, and at a
// loop head if the loop assigns it. Only locals are narrowed: fields and function results must be copied into a
// local and tested.

import type { Expr } from './ast.ts';
import type { LocalVar } from './program.ts';

export type FlowState = ReadonlySet<LocalVar>;

export class Flow {
  private nonNull = new Set<LocalVar>();

  save(): FlowState { return new Set(this.nonNull); }
  restore(s: FlowState): void { this.nonNull = new Set(s); }
  isNonNull(v: LocalVar): boolean { return this.nonNull.has(v); }

  assigned(v: LocalVar, nonNull: boolean): void {
    if (nonNull) this.nonNull.add(v);
    else this.nonNull.delete(v);
  }

  forget(pred: (v: LocalVar) => boolean): void {
    for (const v of [...this.nonNull]) if (pred(v)) this.nonNull.delete(v);
  }

  /** The join of two paths: what both know. */
  static meet(a: FlowState, b: FlowState): FlowState {
    return new Set([...a].filter(v => b.has(v)));
  }

  /**
   * What a condition proves on its true and false edges, starting from the current state. A local the condition
   * assigns (`n != null && (n = m) == null`) is proved nothing about, and not known non-null after it.
   */
  condition(c: Expr, localOf: (e: Expr) => LocalVar | undefined): { ifTrue: FlowState; ifFalse: FlowState } {
    const changed = assignedLocals(c, localOf);
    const now: FlowState = new Set([...this.nonNull].filter(v => !changed.has(v)));
    const facts = (e: Expr, base: FlowState): { t: FlowState; f: FlowState } => {
      if (e.k === 'unary' && e.op === '!') {
        const r = facts(e.e, base);
        return { t: r.f, f: r.t };
      }
      if (e.k === 'binary' && (e.op === '==' || e.op === '!=')) {
        const v = e.r.k === 'null' ? localOf(e.l) : e.l.k === 'null' ? localOf(e.r) : undefined;
        if (v && !changed.has(v)) {
          const proved = new Set(base).add(v);
          return e.op === '!=' ? { t: proved, f: base } : { t: base, f: proved };
        }
      }
      if (e.k === 'binary' && e.op === '&&') {
        const l = facts(e.l, base);
        const r = facts(e.r, l.t);
        return { t: r.t, f: Flow.meet(l.f, r.f) };
      }
      if (e.k === 'binary' && e.op === '||') {
        const l = facts(e.l, base);
        const r = facts(e.r, l.f);
        return { t: Flow.meet(l.t, r.t), f: r.f };
      }
      return { t: base, f: base };
    };
    const r = facts(c, now);
    return { ifTrue: r.t, ifFalse: r.f };
  }
}

/** The locals an expression assigns (by `=`, a compound assignment, or ++/--). */
export function assignedLocals(e: Expr, localOf: (e: Expr) => LocalVar | undefined,
  out = new Set<LocalVar>()): Set<LocalVar> {
  const walk = (x: Expr): void => {
    switch (x.k) {
      case 'assign': case 'incdec': {
        const v = localOf(x.target);
        if (v) out.add(v);
        walk(x.target);
        if (x.k === 'assign') walk(x.value);
        break;
      }
      case 'unary': case 'field': case 'proj': walk(x.e); break;
      case 'binary': walk(x.l); walk(x.r); break;
      case 'cond': walk(x.c); walk(x.a); walk(x.b); break;
      case 'call': walk(x.fn); x.args.forEach(walk); break;
      case 'index': walk(x.a); walk(x.i); break;
      case 'new': case 'tuple': case 'arraylit': (x.k === 'new' ? x.args : x.elems).forEach(walk); break;
      default: break;
    }
  };
  walk(e);
  return out;
}
