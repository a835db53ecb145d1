// The types of TAL-IA32 (docs/tal.md §3): their representation, printing, substitution and unfolding, and the work
// meter that bounds what the checker may spend on them (docs/tal.md §9, too-complex).
// Trusted: the checker's verdict rests on these definitions.
//
// Types are immutable values and are shared, never copied: substitution returns the very object wherever nothing in
// it changes, so a type built by substituting a type into itself again and again is a small graph however large its
// tree would be. Whatever walks a type as a tree pays for every node it visits (spend), so no file can make the
// checker walk such a tree for long.

/** A type variable's binding site. Variables are compared by the identity of their binder, never by name. */
export interface Binder {
  readonly name: string;
  readonly kind: 'word' | 'stack';
  readonly id: number;
}

let nextBinderId = 1;
export function newBinder(name: string, kind: 'word' | 'stack'): Binder {
  return { name, kind, id: nextBinderId++ };
}

export type Flag = 'r' | 'rw' | 'u';
export interface Field { readonly ty: Ty; readonly flag: Flag }

/** Word types: the type of a 32-bit register or memory word. */
export type Ty =
  | { readonly k: 'int' }
  | { readonly k: 'top' } // anything, including uninitialised junk: it can be moved, never used
  | { readonly k: 'sing'; readonly n: number } // S(n): exactly the integer n (int32)
  | { readonly k: 'var'; readonly b: Binder }
  | { readonly k: 'tuple'; readonly nullable: boolean; readonly fields: readonly Field[] }
  | { readonly k: 'arr'; readonly nullable: boolean; readonly elem: Ty }
  | { readonly k: 'bytes'; readonly nullable: boolean; readonly ro: boolean }
  | { readonly k: 'code'; readonly code: CodeTy }
  | { readonly k: 'named'; readonly name: string; readonly args: readonly Arg[] }
  // sptr(σ): the address in the stack where a stack of type σ begins (STAL's typed stack pointers, docs/tal.md §4.10).
  // Only `mov r, esp` makes one and only `mov esp, r` uses one: it is neither an integer nor a pointer to memory.
  | { readonly k: 'sptr'; readonly stack: Stk }
  | ExistsTy
  | SumTy;

// Existentials and tagged sums (docs/tal.md §3.4, §3.5; TALx86's ∃ and Popcorn's unions).

/** ∃a.τ: a value of type τ[W/a] for some witness W that is hidden (packed by .tal_pack, opened by .tal_unpack). */
export interface ExistsTy { readonly k: 'exists'; readonly b: Binder; readonly body: Ty }

/**
 * A tagged sum, laid out as TALx86 laid out Popcorn's unions: a value is one of the small integers `consts` (the
 * cases without values: 0 ≤ n < SUM_CONST_LIMIT, so never a valid pointer), or a pointer to one of the tuples
 * `cases`, whose field 0 is the singleton `S(tags[i])` (the tag word; flag ^r or ^rw). Both lists are sorted and
 * free of repeats, so two sums are compared position by position.
 */
export interface SumTy {
  readonly k: 'sum';
  readonly consts: readonly number[];
  readonly tags: readonly number[];
  readonly cases: readonly TupleTy[];
}
export type TupleTy = Extract<Ty, { k: 'tuple' }>;

/**
 * The nullary cases of a sum are below this: page zero is never mapped (docs/tal.md §5), so no pointer a verified
 * program holds is below 4096 and the two kinds of value are told apart by one unsigned comparison.
 */
export const SUM_CONST_LIMIT = 4096;

/** The tag of a case tuple: its field 0 must be a readable singleton. Undefined if it is not a case tuple. */
export function caseTag(t: Ty): number | undefined {
  if (t.k !== 'tuple' || t.nullable || t.fields.length === 0) return undefined;
  const f = t.fields[0];
  return f.flag !== 'u' && f.ty.k === 'sing' ? f.ty.n : undefined;
}

/**
 * Stack types σ ::= ρ | τ :: σ | nil, the type of the stack that esp points to (top first).
 * A cons cell also records its depth (cells down to the ρ or nil) and a jump pointer to a deeper cell, chosen as in
 * Myers' applicative random-access stacks, so that slot k is reached in O(log k) steps (stackAt), not k.
 */
export type Stk =
  | { readonly k: 'svar'; readonly b: Binder }
  | Cons
  | { readonly k: 'nil' };
export interface Cons { readonly k: 'cons'; readonly head: Ty; readonly tail: Stk; readonly depth: number; readonly jump: Stk }

export type Arg = Ty | Stk;

/** The register file of a code type: index = register number (eax=0 … edi=7); esp's entry is unused (see `stack`). */
export type Regs = readonly (Ty | null)[];

/** ∀[vars]. {regs, esp: stack}: the precondition of a block of code. A register absent from the type (null) is junk. */
export interface CodeTy {
  readonly vars: readonly Binder[];
  readonly regs: Regs;
  readonly stack: Stk;
}

export interface TypeDef {
  readonly name: string;
  readonly params: readonly Binder[];
  readonly body: Ty;
}
export type TypeDefs = ReadonlyMap<string, TypeDef>;

export const INT: Ty = { k: 'int' };
export const TOP: Ty = { k: 'top' };
export const NIL: Stk = { k: 'nil' };
/** S(n) for small n, made once: types are immutable, and constants are most of the checker's allocations. */
const SMALL_SING: Ty[] = [];
const SMALL_MIN = -256, SMALL_MAX = 4096;
export function sing(n: number): Ty {
  n |= 0;
  if (n < SMALL_MIN || n >= SMALL_MAX) return { k: 'sing', n };
  return (SMALL_SING[n - SMALL_MIN] ??= { k: 'sing', n });
}
/** The only way to build a cons cell (the parser, substitution and the checker all come here). */
export function cons(head: Ty, tail: Stk): Cons {
  if (tail.k !== 'cons') return { k: 'cons', head, tail, depth: 1, jump: tail };
  // Skew-binary jump pointers: jump two levels up the jump tree when the two jumps below span equal distances.
  const j = tail.jump;
  const jump = j.k === 'cons' && tail.depth - j.depth === j.depth - stkDepth(j.jump) ? j.jump : tail;
  return { k: 'cons', head, tail, depth: tail.depth + 1, jump };
}

/** Cons cells above the ρ or nil that ends a stack type. */
export function stkDepth(s: Stk): number {
  return s.k === 'cons' ? s.depth : 0;
}

/** σ without its top n words (n ≥ 0), or undefined if σ has fewer known words. O(log n) steps. */
export function stackDrop(s: Stk, n: number): Stk | undefined {
  const d = stkDepth(s);
  if (n > d) return undefined;
  const target = d - n;
  let cur = s;
  while (cur.k === 'cons' && cur.depth > target) {
    cur = stkDepth(cur.jump) >= target ? cur.jump : cur.tail;
    spend(1);
  }
  return cur;
}

/** The type of stack slot n (the word at esp+4n), if σ knows it. */
export function stackAt(s: Stk, n: number): Ty | undefined {
  const c = stackDrop(s, n);
  return c && c.k === 'cons' ? c.head : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The work meter

/**
 * Work units the checker may still spend (docs/tal.md §9): set by the checker for the file it checks, unlimited
 * otherwise. One unit is one type node built or visited, one stack cell stepped over, one instruction.
 */
export const meter = { left: Infinity };

/** Thrown when the meter runs out; the checker turns it into a too-complex refusal. */
export class TooComplex extends Error {
  override name = 'TooComplex';
}

export function spend(units: number): void {
  if ((meter.left -= units) < 0) throw new TooComplex('the checker\'s work budget for this file is spent');
}

export function isStk(a: Arg): a is Stk {
  return a.k === 'svar' || a.k === 'cons' || a.k === 'nil';
}

// ---------------------------------------------------------------------------------------------------------------
// Printing (concrete syntax of docs/tal.md; parse(print(t)) = t up to binder identity)
//
// A shared type may be exponentially larger as text than as a graph, so printing stops after SHOW_LIMIT characters
// (ending the text with '…'): a message about such a type costs at most that much.

const REG_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
/** Registers in the order types print them. */
export const REG_PRINT_ORDER = [0, 3, 1, 2, 6, 7, 5];
export const SHOW_LIMIT = 100_000;
const ELLIPSIS = '…';
/** Characters the printing in progress may still produce (printing is not reentrant: nothing here calls out). */
let room = SHOW_LIMIT;
let depth = 0;

function bounded<T>(f: (x: T) => string, x: T): string {
  if (depth > 0) return room > 0 ? f(x) : ELLIPSIS;
  room = SHOW_LIMIT;
  depth++;
  try {
    const out = f(x);
    return out.length > SHOW_LIMIT ? out.slice(0, SHOW_LIMIT) + ELLIPSIS : out;
  } finally {
    depth--;
  }
}

/** A node's own text (a name, a number, a keyword): what it costs. */
function emit(str: string): string {
  room -= str.length;
  return str;
}

export function showTy(t: Ty): string {
  return bounded(tyText, t);
}

function tyText(t: Ty): string {
  if (room <= 0) return ELLIPSIS;
  room -= 2;
  switch (t.k) {
    case 'int': return 'int';
    case 'top': return 'top';
    case 'sing': return emit(`S(${t.n})`);
    case 'var': return emit(t.b.name);
    case 'tuple': return `${t.nullable ? '?' : ''}*[${listText(t.fields, fieldText)}]`;
    case 'arr': return `${t.nullable ? '?' : ''}*arr(${tyText(t.elem)})`;
    case 'bytes': return `${t.nullable ? '?' : ''}*${t.ro ? 'rbytes' : 'bytes'}`;
    case 'code': return codeText(t.code);
    case 'named': return t.args.length === 0 ? emit(t.name) : `${emit(t.name)}<${listText(t.args, argText)}>`;
    case 'sptr': return `${emit('sptr')}(${stkText(t.stack)})`;
    case 'exists': return `${emit(`exists[${t.b.name}]`)} ${tyText(t.body)}`;
    case 'sum': {
      const items: Ty[] = [...t.consts.map(n => sing(n)), ...t.cases];
      return `sum{${listText(items, c => (c.k === 'sing' ? emit(`${c.n}`) : tyText(c)))}}`;
    }
  }
}

/** The items joined by ', ', as far as there is room. */
function listText<T>(items: readonly T[], f: (x: T) => string, sep = ', '): string {
  const parts: string[] = [];
  for (const x of items) {
    if (room <= 0) { parts.push(ELLIPSIS); break; }
    parts.push(f(x));
  }
  return parts.join(sep);
}

function fieldText(f: Field): string {
  return `${tyText(f.ty)}^${f.flag}`;
}

function argText(a: Arg): string {
  return isStk(a) ? stkText(a) : tyText(a);
}

export function showArg(a: Arg): string {
  return bounded(argText, a);
}

export function showStk(s: Stk): string {
  return bounded(stkText, s);
}

function stkText(s: Stk): string {
  const parts: string[] = [];
  let cur: Stk = s;
  while (cur.k === 'cons') {
    if (room <= 0) { parts.push(ELLIPSIS); return parts.join(' :: '); }
    parts.push(tyText(cur.head));
    cur = cur.tail;
  }
  parts.push(cur.k === 'nil' ? 'nil' : emit(cur.b.name));
  return parts.join(' :: ');
}

export function showRegs(regs: Regs, stack: Stk): string {
  return bounded(regsText, { regs, stack });
}

function regsText(c: { regs: Regs; stack: Stk }): string {
  const parts: string[] = [];
  for (const r of REG_PRINT_ORDER) {
    const t = c.regs[r];
    if (t) parts.push(`${REG_NAMES[r]}: ${tyText(t)}`);
  }
  parts.push(`esp: ${stkText(c.stack)}`);
  return `{${parts.join(', ')}}`;
}

export function showCode(c: CodeTy): string {
  return bounded(codeText, c);
}

function codeText(c: CodeTy): string {
  const vars = c.vars.length === 0 ? ''
    : emit(`[${c.vars.map(b => (b.kind === 'stack' ? `${b.name}:stack` : b.name)).join(', ')}]`);
  return `code${vars}${regsText(c)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Substitution
//
// Each node visited costs one unit. A node none of whose parts change is returned as it is, so substitution keeps
// sharing (and a closed part of a type keeps its identity, which the subtyping check uses).

export type Subst = ReadonlyMap<Binder, Arg>;

export function substTy(t: Ty, s: Subst): Ty {
  if (s.size === 0) return t;
  spend(1);
  switch (t.k) {
    case 'int': case 'top': case 'sing': case 'bytes': return t;
    case 'var': {
      const r = s.get(t.b);
      if (r === undefined) return t;
      if (isStk(r)) throw new Error(`internal: stack substituted for word variable ${t.b.name}`);
      return r;
    }
    case 'tuple': {
      let fields: Field[] | undefined;
      for (let i = 0; i < t.fields.length; i++) {
        const f = t.fields[i];
        const ty = substTy(f.ty, s);
        if (ty !== f.ty) (fields ??= t.fields.slice())[i] = { ty, flag: f.flag };
      }
      return fields ? { k: 'tuple', nullable: t.nullable, fields } : t;
    }
    case 'arr': {
      const elem = substTy(t.elem, s);
      return elem === t.elem ? t : { k: 'arr', nullable: t.nullable, elem };
    }
    case 'code': {
      const code = substCode(t.code, s);
      return code === t.code ? t : { k: 'code', code };
    }
    case 'named': {
      let args: Arg[] | undefined;
      for (let i = 0; i < t.args.length; i++) {
        const a = t.args[i];
        const b = isStk(a) ? substStk(a, s) : substTy(a, s);
        if (b !== a) (args ??= t.args.slice())[i] = b;
      }
      return args ? { k: 'named', name: t.name, args } : t;
    }
    case 'sptr': {
      const stack = substStk(t.stack, s);
      return stack === t.stack ? t : { k: 'sptr', stack };
    }
    case 'exists': {
      // The binder is the existential's own object, so nothing in s names it (capture-avoiding), as in substCode.
      const body = substTy(t.body, s.has(t.b) ? without(s, t.b) : s);
      return body === t.body ? t : { k: 'exists', b: t.b, body };
    }
    case 'sum': {
      let cases: TupleTy[] | undefined;
      for (let i = 0; i < t.cases.length; i++) {
        const c = substTy(t.cases[i], s) as TupleTy; // a tuple stays a tuple
        if (c !== t.cases[i]) (cases ??= t.cases.slice())[i] = c;
      }
      return cases ? { k: 'sum', consts: t.consts, tags: t.tags, cases } : t;
    }
  }
}

function without(s: Subst, b: Binder): Subst {
  const m = new Map(s);
  m.delete(b);
  return m;
}

export function substStk(st: Stk, s: Subst): Stk {
  if (s.size === 0) return st;
  // The cells are rebuilt from the bottom up only below the deepest one that changes (iteratively: stacks may be
  // as deep as the file is long).
  const cells: Cons[] = [];
  let cur = st;
  while (cur.k === 'cons') {
    cells.push(cur);
    cur = cur.tail;
  }
  spend(cells.length + 1);
  let out: Stk = cur;
  if (cur.k === 'svar') {
    const r = s.get(cur.b);
    if (r !== undefined) {
      if (!isStk(r)) throw new Error(`internal: word type substituted for stack variable ${cur.b.name}`);
      out = r;
    }
  }
  for (let i = cells.length - 1; i >= 0; i--) {
    const c = cells[i];
    const head = substTy(c.head, s);
    out = head === c.head && out === c.tail ? c : cons(head, out);
  }
  return out;
}

/** Substitute in a code type's body; its own binders are untouched (they are distinct objects, so nothing is captured). */
/**
 * `c` with `s` applied to its free variables. A code type binds its own variables, so the substitution never reaches
 * them (capture-avoiding): one label's type can stand, unrenamed, inside another type (a register holding the
 * label's address) while that label's binders are being instantiated elsewhere.
 */
export function substCode(c: CodeTy, s: Subst): CodeTy {
  if (s.size === 0) return c;
  let inner: Subst = s;
  if (c.vars.length > 0) {
    spend(c.vars.length);
    let copy: Map<Binder, Arg> | undefined;
    for (const v of c.vars) {
      if (!s.has(v)) continue;
      copy ??= new Map(s);
      copy.delete(v);
    }
    if (copy) inner = copy;
  }
  return substBody(c, inner);
}

/**
 * The body of `c` (its registers and stack) with `s` applied, `c`'s own binders included: how a code type is opened
 * (freshened, or renamed to compare two code types). The result keeps `c`'s binder list; callers that open it give
 * their own.
 */
export function substBody(c: CodeTy, s: Subst): CodeTy {
  if (s.size === 0) return c;
  let regs: (Ty | null)[] | undefined;
  for (let i = 0; i < c.regs.length; i++) {
    const r = c.regs[i];
    const t = r && substTy(r, s);
    if (t !== r) (regs ??= c.regs.slice())[i] = t;
  }
  const stack = substStk(c.stack, s);
  return regs || stack !== c.stack ? { vars: c.vars, regs: regs ?? c.regs, stack } : c;
}

/** Unfold a named type one step: its definition's body with the arguments substituted. */
export function unfold(t: { name: string; args: readonly Arg[] }, defs: TypeDefs): Ty {
  const d = defs.get(t.name);
  if (!d) throw new Error(`internal: unknown type ${t.name}`);
  const m = new Map<Binder, Arg>();
  d.params.forEach((p, i) => m.set(p, t.args[i]));
  return substTy(d.body, m);
}

/**
 * Each use of a named type is unfolded once: the same use (object) unfolds to the same structure, so comparisons
 * that meet it again meet the same objects (and their memo entries, in subtype.ts).
 */
let unfolded = new WeakMap<Ty, Ty>();
let unfoldedDefs: TypeDefs | undefined;

/** Unfold named types until the head is structural (definitions are contractive, so this terminates). */
export function whnf(t: Ty, defs: TypeDefs): Ty {
  if (t.k !== 'named') return t;
  if (defs !== unfoldedDefs) {
    // The cache is for one set of definitions (one file) at a time.
    unfolded = new WeakMap();
    unfoldedDefs = defs;
  }
  const hit = unfolded.get(t);
  if (hit) return hit;
  let cur: Ty = t;
  for (let i = 0; cur.k === 'named'; i++) {
    if (i > 64) throw new Error(`internal: type ${showTy(t)} does not unfold to a structure`);
    cur = unfold(cur, defs);
  }
  unfolded.set(t, cur);
  return cur;
}

