// The types of TAL-IA32 (docs/tal.md §3): their representation, printing, substitution and unfolding.
// Trusted: the checker's verdict rests on these definitions.

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
  | { readonly k: 'named'; readonly name: string; readonly args: readonly Arg[] };

/** Stack types σ ::= ρ | τ :: σ | nil, the type of the stack that esp points to (top first). */
export type Stk =
  | { readonly k: 'svar'; readonly b: Binder }
  | { readonly k: 'cons'; readonly head: Ty; readonly tail: Stk }
  | { readonly k: 'nil' };

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
export function sing(n: number): Ty {
  return { k: 'sing', n: n | 0 };
}
export function cons(head: Ty, tail: Stk): Stk {
  return { k: 'cons', head, tail };
}

export function isStk(a: Arg): a is Stk {
  return a.k === 'svar' || a.k === 'cons' || a.k === 'nil';
}

// ---------------------------------------------------------------------------------------------------------------
// Printing (concrete syntax of docs/tal.md; parse(print(t)) = t up to binder identity)

const REG_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
/** Registers in the order types print them. */
export const REG_PRINT_ORDER = [0, 3, 1, 2, 6, 7, 5];

export function showTy(t: Ty): string {
  switch (t.k) {
    case 'int': return 'int';
    case 'top': return 'top';
    case 'sing': return `S(${t.n})`;
    case 'var': return t.b.name;
    case 'tuple': return `${t.nullable ? '?' : ''}*[${t.fields.map(showField).join(', ')}]`;
    case 'arr': return `${t.nullable ? '?' : ''}*arr(${showTy(t.elem)})`;
    case 'bytes': return `${t.nullable ? '?' : ''}*${t.ro ? 'rbytes' : 'bytes'}`;
    case 'code': return showCode(t.code);
    case 'named': return t.args.length === 0 ? t.name : `${t.name}<${t.args.map(showArg).join(', ')}>`;
  }
}

function showField(f: Field): string {
  return `${showTy(f.ty)}^${f.flag}`;
}

export function showArg(a: Arg): string {
  return isStk(a) ? showStk(a) : showTy(a);
}

export function showStk(s: Stk): string {
  const parts: string[] = [];
  let cur: Stk = s;
  while (cur.k === 'cons') {
    parts.push(showTy(cur.head));
    cur = cur.tail;
  }
  parts.push(cur.k === 'nil' ? 'nil' : cur.b.name);
  return parts.join(' :: ');
}

export function showRegs(regs: Regs, stack: Stk): string {
  const parts: string[] = [];
  for (const r of REG_PRINT_ORDER) {
    const t = regs[r];
    if (t) parts.push(`${REG_NAMES[r]}: ${showTy(t)}`);
  }
  parts.push(`esp: ${showStk(stack)}`);
  return `{${parts.join(', ')}}`;
}

export function showCode(c: CodeTy): string {
  const vars = c.vars.length === 0 ? '' : `[${c.vars.map(b => (b.kind === 'stack' ? `${b.name}:stack` : b.name)).join(', ')}]`;
  return `code${vars}${showRegs(c.regs, c.stack)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Substitution

export type Subst = ReadonlyMap<Binder, Arg>;

export function substTy(t: Ty, s: Subst): Ty {
  if (s.size === 0) return t;
  switch (t.k) {
    case 'int': case 'top': case 'sing': case 'bytes': return t;
    case 'var': {
      const r = s.get(t.b);
      if (r === undefined) return t;
      if (isStk(r)) throw new Error(`internal: stack substituted for word variable ${t.b.name}`);
      return r;
    }
    case 'tuple': return { k: 'tuple', nullable: t.nullable, fields: t.fields.map(f => ({ ty: substTy(f.ty, s), flag: f.flag })) };
    case 'arr': return { k: 'arr', nullable: t.nullable, elem: substTy(t.elem, s) };
    case 'code': return { k: 'code', code: substCode(t.code, s) };
    case 'named': return { k: 'named', name: t.name, args: t.args.map(a => (isStk(a) ? substStk(a, s) : substTy(a, s))) };
  }
}

export function substStk(st: Stk, s: Subst): Stk {
  if (s.size === 0) return st;
  switch (st.k) {
    case 'nil': return st;
    case 'svar': {
      const r = s.get(st.b);
      if (r === undefined) return st;
      if (!isStk(r)) throw new Error(`internal: word type substituted for stack variable ${st.b.name}`);
      return r;
    }
    case 'cons': return cons(substTy(st.head, s), substStk(st.tail, s));
  }
}

/** Substitute in a code type's body; its own binders are untouched (they are distinct objects, so nothing is captured). */
export function substCode(c: CodeTy, s: Subst): CodeTy {
  if (s.size === 0) return c;
  return { vars: c.vars, regs: c.regs.map(r => (r ? substTy(r, s) : null)), stack: substStk(c.stack, s) };
}

/** Unfold a named type one step: its definition's body with the arguments substituted. */
export function unfold(t: { name: string; args: readonly Arg[] }, defs: TypeDefs): Ty {
  const d = defs.get(t.name);
  if (!d) throw new Error(`internal: unknown type ${t.name}`);
  const m = new Map<Binder, Arg>();
  d.params.forEach((p, i) => m.set(p, t.args[i]));
  return substTy(d.body, m);
}

/** Unfold named types until the head is structural (definitions are contractive, so this terminates). */
export function whnf(t: Ty, defs: TypeDefs): Ty {
  let cur = t;
  for (let i = 0; cur.k === 'named'; i++) {
    if (i > 64) throw new Error(`internal: type ${showTy(t)} does not unfold to a structure`);
    cur = unfold(cur, defs);
  }
  return cur;
}

/** Size in bytes of the object a pointer type points to, when fixed (tuples). */
export function tupleSize(t: Ty): number | undefined {
  return t.k === 'tuple' ? 4 * t.fields.length : undefined;
}
