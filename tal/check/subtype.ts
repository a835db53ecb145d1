// Subtyping and instantiation (docs/tal.md §4.2). Trusted.
//
// `sub(a, b)` decides a ≤ b where b may mention *pattern* variables (the ∀-bound variables of a jump or call target);
// a pattern variable is bound to the actual type at its first occurrence, and later occurrences must agree with
// that binding. Every other variable is rigid and equal only to itself. No search and no backtracking: an
// instantiation that this first-occurrence rule cannot find must be given explicitly with `.tal_inst`.
//
// Types are shared graphs (types.ts), so a question is answered on the graph, not on the tree it stands for: a
// matcher without pattern variables answers a ≤ a at once, and remembers every pair of structures it has found
// related, so that a shared part is compared once however often the tree repeats it. (Only answers found are
// remembered, never assumptions: a pair met again inside its own comparison is compared again, as before.) Every
// step costs one unit of the work meter.

import { type Arg, type Binder, type CodeTy, type Field, type Stk, type Ty, type TypeDefs, isStk, newBinder, spend,
  substBody, whnf } from '../types.ts';
import { type ExistsTy, type SumTy, caseTag, sing, substTy } from '../types.ts';

/** How many constants-as-label-addresses one subtyping question may look through (see Matcher.sub). */
const MAX_LABEL_DEPTH = 16;

/**
 * Pairs found related, by their left side: the one right side it was found related to, or a set once there are two
 * (most left sides meet one right side; a set for each would be most of the checker's live memory).
 */
type Memo = Map<object, object | Set<object>>;

export class Matcher {
  private labelDepth = 0;
  private patterns: readonly Binder[] = [];
  /** The patterns' positions, once there are more than a few (else patterns.indexOf). */
  private patternIndex: ReadonlyMap<Binder, number> | undefined;
  /** What each pattern is bound to, by position (undefined: not yet). */
  private readonly values: (Arg | undefined)[] = [];
  /**
   * Each binder array's positions, made once per array (for this matcher, so for one file: the work a file is
   * charged does not depend on what was checked before) and charged then. A code type's binders are one array,
   * shared by every substitution of the type and matched at every jump or call to it, so the index must not cost V
   * per jump (a label over 20,000 variables jumped to 20,000 times took minutes, unmetered).
   */
  private readonly positionsOf = new WeakMap<readonly Binder[], ReadonlyMap<Binder, number>>();
  /** The positions bound so far, in the order bound: a reset clears these, not every position (see reset). */
  private readonly boundAt: number[] = [];
  /**
   * For a matcher without patterns, the pairs it has found related (sub and eq apart); else undefined. What it
   * remembers is a proof of a ≤ b (or a = b) that holds wherever it is asked again, so one matcher without patterns
   * may serve a whole file.
   */
  private subMemo: Memo | undefined;
  private eqMemo: Memo | undefined;
  private memoize = true;
  /**
   * The variables opened while comparing under existentials (underExists): no pattern may be bound to a type that
   * mentions one, or the hidden witness would leak out of its ∃ into the target's instantiation.
   */
  private readonly opened = new Set<Binder>();
  /** The matcher without patterns that compares later occurrences of a bound variable with its binding. */
  private plainMatcher: Matcher | undefined;

  /**
   * @param defs named type definitions
   * @param patterns the variables that may be bound
   * @param labelType the declared type of the data or code label at an address (how a constant S(n) becomes a pointer)
   * @param plain a matcher without patterns over the same definitions and labels, to share (with its memo)
   * @param closed types known to mention no variable free (a ≤ a holds for them with nothing bound)
   */
  constructor(
    private readonly defs: TypeDefs,
    patterns: readonly Binder[],
    private readonly labelType: (addr: number) => Ty | undefined,
    plain?: Matcher,
    private readonly closed: { has(o: object): boolean } = NOTHING_CLOSED,
  ) {
    this.plainMatcher = plain;
    this.reset(patterns);
  }

  /**
   * Start a new match with these patterns: no bindings. (The checker keeps one matcher with patterns and resets it
   * for each jump or call rather than making one: it never needs two at once.)
   */
  reset(patterns: readonly Binder[]): this {
    this.labelDepth = 0;
    this.patterns = patterns;
    // A code type may bind any number of variables: look them up in a map (one per binder array) once there are
    // more than a few.
    this.patternIndex = patterns.length > 4 ? this.positions(patterns) : undefined;
    this.memoize = patterns.length === 0;
    // Only the positions the last match bound are cleared: every binding cost a unit, so a reset costs no more than
    // the match before it did, however many variables the target has. The array grows to the most patterns any
    // target has (each binder array is charged once, above) and is never shrunk; every position in it past the
    // bound ones is undefined.
    const v = this.values;
    for (const i of this.boundAt) v[i] = undefined;
    this.boundAt.length = 0;
    while (v.length < patterns.length) v.push(undefined);
    if (!this.memoize) this.subMemo = this.eqMemo = undefined;
    return this;
  }

  private positions(patterns: readonly Binder[]): ReadonlyMap<Binder, number> {
    let m = this.positionsOf.get(patterns);
    if (!m) {
      spend(patterns.length);
      this.positionsOf.set(patterns, (m = new Map(patterns.map((b, i) => [b, i]))));
    }
    return m;
  }

  /** Bind the pattern at position i (not yet bound). */
  private setAt(i: number, a: Arg): void {
    this.values[i] = a;
    this.boundAt.push(i);
  }

  /** Whether b is a pattern of this match (bound or not). */
  isPattern(b: Binder): boolean {
    return this.pattern(b) >= 0;
  }

  /** The position of b among the patterns, or -1 if b is rigid here. */
  private pattern(b: Binder): number {
    return this.patternIndex ? (this.patternIndex.get(b) ?? -1) : this.patterns.indexOf(b);
  }

  /** Bind pattern b (an explicit instantiation). */
  bind(b: Binder, a: Arg): void {
    const i = this.pattern(b);
    if (i < 0) throw new Error(`internal: ${b.name} is not a pattern of this match`);
    if (this.values[i] === undefined) this.boundAt.push(i);
    this.values[i] = a;
  }

  isBound(b: Binder): boolean {
    const i = this.pattern(b);
    return i >= 0 && this.values[i] !== undefined;
  }

  /** The bindings so far, as a substitution (made from the bound positions: not V steps for a call that binds one). */
  get bindings(): ReadonlyMap<Binder, Arg> {
    const m = new Map<Binder, Arg>();
    for (const i of this.boundAt) m.set(this.patterns[i], this.values[i]!);
    return m;
  }

  private plain(): Matcher {
    return (this.plainMatcher ??= new Matcher(this.defs, [], this.labelType, undefined, this.closed));
  }

  private static known(memo: Memo, a: object, b: object): boolean {
    const e = memo.get(a);
    return e === b || (e instanceof Set && e.has(b));
  }

  // (A right side is a type, never a Set.)
  private static record(memo: Memo, a: object, b: object): void {
    const e = memo.get(a);
    if (e === undefined) memo.set(a, b);
    else if (e instanceof Set) e.add(b);
    else if (e !== b) memo.set(a, new Set([e, b]));
  }

  sub(a: Ty, b: Ty): boolean {
    spend(1);
    // The same closed type on both sides: no pattern in it to bind, and ≤ is reflexive.
    if (!this.memoize) return (a === b && this.closed.has(a)) || this.subStep(a, b);
    if (!isComposite(a)) return this.subStep(a, b);
    if (a === b || (this.subMemo && Matcher.known(this.subMemo, a, b))) return true;
    const r = this.subStep(a, b);
    if (r) Matcher.record((this.subMemo ??= new Map()), a, b);
    return r;
  }

  private subStep(a: Ty, b: Ty): boolean {
    const p = b.k === 'var' ? this.pattern(b.b) : -1;
    if (p >= 0) {
      const bound = this.values[p];
      if (bound === undefined) {
        if (this.mentionsOpened(a)) return false;
        // Covariant position: a constant binds as what it stands for, the type of the label at that address or
        // else int (S(n) ≤ both, so this is sound). Binding S(0) itself would make tal_new_array(n, 0) an array
        // of S(0), which no one wants.
        this.setAt(p, a.k === 'sing' ? (this.labelType(a.n >>> 0) ?? { k: 'int' }) : a);
        return true;
      }
      return !isStk(bound) && this.plain().sub(a, bound);
    }
    if (b.k === 'top') return true;
    if (a.k === 'var' || b.k === 'var') return a.k === 'var' && b.k === 'var' && a.b === b.b;
    if (a.k === 'named' && b.k === 'named') {
      if (a.name === b.name) return this.eqArgs(a.args, b.args);
      return false;
    }
    if (a.k === 'named') return this.sub(whnf(a, this.defs), b);
    if (b.k === 'named') return this.sub(a, whnf(b, this.defs));
    if (a.k === 'exists' || b.k === 'exists')
      return a.k === 'exists' && b.k === 'exists' && this.underExists(a, b, false);
    if (b.k === 'sum') return this.subSum(a, b);
    if (a.k === 'sum') return this.sumSub(a, b);
    switch (a.k) {
      case 'top': return false;
      case 'int': return b.k === 'int';
      case 'sing': {
        if (b.k === 'int') return true;
        if (b.k === 'sing') return a.n === b.n;
        if (a.n === 0 && isNullablePointer(b)) return true;
        const lt = this.labelType(a.n >>> 0);
        if (lt === undefined || this.labelDepth >= MAX_LABEL_DEPTH) return false;
        // A label's type may mention its own address (a : *[S(a)^r]); the depth bound keeps that finite.
        this.labelDepth++;
        try {
          return this.sub(lt, b);
        } finally {
          this.labelDepth--;
        }
      }
      case 'tuple': {
        if (b.k !== 'tuple') return false;
        if (a.nullable && !b.nullable) return false;
        if (a.fields.length < b.fields.length) return false;
        for (let i = 0; i < b.fields.length; i++) if (!this.subField(a.fields[i], b.fields[i])) return false;
        return true;
      }
      case 'arr':
        return b.k === 'arr' && (!a.nullable || b.nullable) && this.eq(a.elem, b.elem);
      case 'bytes':
        return b.k === 'bytes' && (!a.nullable || b.nullable) && (!a.ro || b.ro);
      case 'code':
        return b.k === 'code' && this.eqCode(a.code, b.code);
      case 'sptr':
        // Covariant: an sptr's address is fixed by the shape of its stack type (its cells and the variable or nil
        // that ends it), which ≤ on stacks preserves; restoring esp uses the current stack's types, not σ's
        // (docs/tal.md §4.10).
        return b.k === 'sptr' && this.subStk(a.stack, b.stack);
    }
  }

  private subField(a: Field, b: Field): boolean {
    switch (b.flag) {
      case 'r': return a.flag !== 'u' && this.sub(a.ty, b.ty);
      case 'rw': return a.flag === 'rw' && this.eq(a.ty, b.ty);
      case 'u': return a.flag !== 'r' && this.eq(a.ty, b.ty);
    }
  }

  /** Type equality (invariant positions), binding pattern variables in b. Named types unfold against structures. */
  eq(a: Ty, b: Ty): boolean {
    spend(1);
    if (!this.memoize) return (a === b && this.closed.has(a)) || this.eqStep(a, b);
    if (!isComposite(a)) return this.eqStep(a, b);
    if (a === b || (this.eqMemo && Matcher.known(this.eqMemo, a, b))) return true;
    const r = this.eqStep(a, b);
    if (r) Matcher.record((this.eqMemo ??= new Map()), a, b);
    return r;
  }

  private eqStep(a: Ty, b: Ty): boolean {
    const p = b.k === 'var' ? this.pattern(b.b) : -1;
    if (p >= 0) {
      const bound = this.values[p];
      if (bound === undefined) {
        if (this.mentionsOpened(a)) return false;
        // Invariant position: bind exactly (widening here would let an alias see a wider type than the cell has).
        this.setAt(p, a);
        return true;
      }
      return !isStk(bound) && this.plain().eq(a, bound);
    }
    if (a.k === 'var' || b.k === 'var') return a.k === 'var' && b.k === 'var' && a.b === b.b;
    if (a.k === 'named' && b.k === 'named') return a.name === b.name && this.eqArgs(a.args, b.args);
    if (a.k === 'named') return this.eq(whnf(a, this.defs), b);
    if (b.k === 'named') return this.eq(a, whnf(b, this.defs));
    if (a.k === 'exists' || b.k === 'exists')
      return a.k === 'exists' && b.k === 'exists' && this.underExists(a, b, true);
    if (a.k === 'sum' || b.k === 'sum') return a.k === 'sum' && b.k === 'sum' && this.eqSum(a, b);
    switch (a.k) {
      case 'top': case 'int': return b.k === a.k;
      case 'sing': return b.k === 'sing' && a.n === b.n;
      case 'tuple':
        return b.k === 'tuple' && a.nullable === b.nullable && a.fields.length === b.fields.length &&
          a.fields.every((f, i) => f.flag === b.fields[i].flag && this.eq(f.ty, b.fields[i].ty));
      case 'arr': return b.k === 'arr' && a.nullable === b.nullable && this.eq(a.elem, b.elem);
      case 'bytes': return b.k === 'bytes' && a.nullable === b.nullable && a.ro === b.ro;
      case 'code': return b.k === 'code' && this.eqCode(a.code, b.code);
      case 'sptr': return b.k === 'sptr' && this.eqStk(a.stack, b.stack);
    }
  }

  private eqArgs(as: readonly Arg[], bs: readonly Arg[]): boolean {
    if (as.length !== bs.length) return false;
    for (let i = 0; i < as.length; i++) {
      const x = as[i], y = bs[i];
      if (isStk(x) !== isStk(y)) return false;
      if (isStk(x) ? !this.eqStk(x, y as Stk) : !this.eq(x, y as Ty)) return false;
    }
    return true;
  }

  /**
   * Code types are compared up to renaming of their own binders (no subtyping under ∀, as in TALx86's checker).
   * Both sides are renamed to fresh binders: renaming one side onto the other's binders would be wrong whenever
   * those happen to be pattern variables of this match, which would then be bound instead of compared.
   */
  eqCode(a: CodeTy, b: CodeTy): boolean {
    if (a.vars.length !== b.vars.length) return false;
    let aa = a, bb = b;
    const fresh: Binder[] = [];
    if (a.vars.length > 0) {
      // One unit per binder renamed (the two maps), on top of what the substitutions charge per node they visit.
      spend(a.vars.length);
      const ra = new Map<Binder, Arg>(), rb = new Map<Binder, Arg>();
      for (let i = 0; i < a.vars.length; i++) {
        if (a.vars[i].kind !== b.vars[i].kind) return false;
        const f = newBinder(a.vars[i].name, a.vars[i].kind);
        fresh.push(f);
        const v: Arg = f.kind === 'stack' ? { k: 'svar', b: f } : { k: 'var', b: f };
        ra.set(a.vars[i], v);
        rb.set(b.vars[i], v);
      }
      aa = substBody(a, ra);
      bb = substBody(b, rb);
    }
    // The fresh binders are bound by these code types only: no pattern of the match may be bound to a type that
    // mentions one (it would stand for a different type at every instantiation of the code type).
    for (const f of fresh) this.opened.add(f);
    try {
      return this.eqCodeBody(aa, bb);
    } finally {
      for (const f of fresh) this.opened.delete(f);
    }
  }

  private eqCodeBody(aa: CodeTy, bb: CodeTy): boolean {
    for (let r = 0; r < 8; r++) {
      const x = aa.regs[r], y = bb.regs[r];
      if (r === 4) continue;
      if (x === null || y === null) {
        if (x !== y) return false;
        continue;
      }
      if (!this.eq(x, y)) return false;
    }
    return this.eqStk(aa.stack, bb.stack);
  }

  // ---- existentials and tagged sums (docs/tal.md §3.3) ----

  /**
   * ∃a.τ ≤ ∃b.τ' (or =): both bodies opened with one fresh rigid variable and compared (covariantly for ≤: the
   * witness is the same on both sides). The fresh variable must not reach a pattern's binding (mentionsOpened).
   */
  private underExists(a: ExistsTy, b: ExistsTy, exact: boolean): boolean {
    spend(1);
    const f = newBinder(a.b.name, 'word');
    const v: Ty = { k: 'var', b: f };
    const aa = substTy(a.body, new Map([[a.b, v]])), bb = substTy(b.body, new Map([[b.b, v]]));
    this.opened.add(f);
    try {
      return exact ? this.eq(aa, bb) : this.sub(aa, bb);
    } finally {
      this.opened.delete(f);
    }
  }

  /** Whether a type mentions a variable opened by underExists (only looked for while one is open). */
  private mentionsOpened(t: Arg): boolean {
    if (this.opened.size === 0) return false;
    const found = new Set<Binder>();
    freeIn(t, this.opened, found);
    return found.size > 0;
  }

  /**
   * a ≤ a sum: a nullary case is one of its integers; a tuple tagged k (field 0 a readable S(k)) is ≤ its case k
   * (injection is subtyping: the tag is in the value); a sum is ≤ a sum with more cases (each case ≤ its own).
   */
  private subSum(a: Ty, b: SumTy): boolean {
    switch (a.k) {
      case 'sing':
        if (sortedIndex(b.consts, a.n) >= 0) return true;
        return this.subLabel(a.n, b);
      case 'tuple': {
        const tag = caseTag(a);
        const j = tag === undefined ? -1 : sortedIndex(b.tags, tag);
        return j >= 0 && this.sub(a, b.cases[j]);
      }
      case 'sum': {
        // Both lists are sorted: one merge each, a unit per element.
        spend(a.consts.length + b.consts.length + a.tags.length + b.tags.length);
        for (let i = 0, j = 0; i < a.consts.length; i++) {
          while (j < b.consts.length && b.consts[j] < a.consts[i]) j++;
          if (b.consts[j] !== a.consts[i]) return false;
        }
        for (let i = 0, j = 0; i < a.tags.length; i++) {
          while (j < b.tags.length && b.tags[j] < a.tags[i]) j++;
          if (b.tags[j] !== a.tags[i] || !this.sub(a.cases[i], b.cases[j])) return false;
        }
        return true;
      }
      default: return false;
    }
  }

  /** A sum ≤ a type that is not a sum: each of its cases is (a union is below what is above all its parts). */
  private sumSub(a: SumTy, b: Ty): boolean {
    for (const n of a.consts) if (!this.sub(sing(n), b)) return false;
    for (const c of a.cases) if (!this.sub(c, b)) return false;
    return true;
  }

  private eqSum(a: SumTy, b: SumTy): boolean {
    if (a.consts.length !== b.consts.length || a.tags.length !== b.tags.length) return false;
    spend(a.consts.length + a.tags.length);
    for (let i = 0; i < a.consts.length; i++) if (a.consts[i] !== b.consts[i]) return false;
    for (let i = 0; i < a.tags.length; i++)
      if (a.tags[i] !== b.tags[i] || !this.eq(a.cases[i], b.cases[i])) return false;
    return true;
  }

  /** S(n) ≤ b through the label at address n, if any (a label's type may mention its own address: depth-bounded). */
  private subLabel(n: number, b: Ty): boolean {
    const lt = this.labelType(n >>> 0);
    if (lt === undefined || this.labelDepth >= MAX_LABEL_DEPTH) return false;
    this.labelDepth++;
    try {
      return this.sub(lt, b);
    } finally {
      this.labelDepth--;
    }
  }

  /** σ₁ ≤ σ₂: slot by slot, covariant in each slot. */
  subStk(a: Stk, b: Stk): boolean {
    return this.stk(a, b, false);
  }

  /** σ₁ = σ₂ (under a code type, or a stack variable's later occurrences). */
  eqStk(a: Stk, b: Stk): boolean {
    return this.stk(a, b, true);
  }

  private stk(a: Stk, b: Stk, exact: boolean): boolean {
    for (;;) {
      spend(1);
      if (a === b && (this.memoize || this.closed.has(a))) return true;
      if (b.k === 'svar') {
        const p = this.pattern(b.b);
        if (p >= 0) {
          const bound = this.values[p];
          if (bound === undefined) {
            if (this.mentionsOpened(a)) return false;
            this.setAt(p, a);
            return true;
          }
          return isStk(bound) && this.plain().stk(a, bound, exact);
        }
        return a.k === 'svar' && a.b === b.b;
      }
      if (b.k === 'nil') return a.k === 'nil';
      if (a.k !== 'cons') return false;
      if (!(exact ? this.eq(a.head, b.head) : this.sub(a.head, b.head))) return false;
      a = a.tail;
      b = b.tail;
    }
  }
}

const NOTHING_CLOSED = { has: (_: object) => false };

/** The index of x in a sorted list, or -1: O(log n), so that a sum of many cases costs little per comparison. */
function sortedIndex(list: readonly number[], x: number): number {
  let lo = 0, hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] === x) return mid;
    if (list[mid] < x) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}

/** Types with parts, which a memo entry can save comparing again. */
function isComposite(t: Ty): boolean {
  return t.k === 'tuple' || t.k === 'arr' || t.k === 'code' || t.k === 'named' || t.k === 'sptr' || t.k === 'exists' ||
    t.k === 'sum';
}

export function isNullablePointer(t: Ty): boolean {
  return (t.k === 'tuple' || t.k === 'arr' || t.k === 'bytes') && t.nullable;
}

/**
 * The free variables of a type that are in `among` (to find pattern variables a call left unbound): a set, or the
 * patterns of a match (looked up by position, so that a call need not make a set of its callee's V binders).
 */
export function freeIn(t: Arg, among: { has(b: Binder): boolean }, out: Set<Binder>): void {
  spend(1);
  switch (t.k) {
    case 'var': case 'svar': if (among.has(t.b)) out.add(t.b); return;
    case 'cons': {
      let c: Stk = t;
      for (; c.k === 'cons'; c = c.tail) {
        spend(1);
        freeIn(c.head, among, out);
      }
      freeIn(c, among, out);
      return;
    }
    case 'tuple': for (const f of t.fields) freeIn(f.ty, among, out); return;
    case 'arr': freeIn(t.elem, among, out); return;
    case 'named': for (const a of t.args) freeIn(a, among, out); return;
    case 'code': for (const r of t.code.regs) if (r) freeIn(r, among, out); freeIn(t.code.stack, among, out); return;
    case 'sptr': freeIn(t.stack, among, out); return;
    case 'exists': freeIn(t.body, among, out); return;
    case 'sum': for (const c of t.cases) freeIn(c, among, out); return;
    default: return;
  }
}
