// popc's semantic types: what the type checker computes for every expression, and how each maps to a TAL type
// (docs/popcorn.md §Representation).

export interface StructInfo {
  /** The TAL name of the struct's named type (namespace-qualified, e.g. Core__list). */
  readonly tal: string;
  /** The name as written. */
  readonly name: string;
  readonly nullable: boolean;
  readonly tparams: readonly string[];
  /** An `abstract struct`: the file that declares it, the only one that may build it or use its fields. */
  readonly abstractIn?: string;
  /** `isConst`: a `const` field, set by `new` and never assigned. */
  fields: { name: string; ty: Ty; isConst?: boolean }[];
}

/**
 * A union (Popcorn's tagged union, an ML datatype): each variant is nullary (`void A;`) or carries one value. Laid out
 * as TAL's tagged sums (docs/tal.md §3.5): the nullary variants are the integers 0, 1, … in declaration order (their
 * `tag`), the others pointers to a read-only tuple [tag, value] with tags counting on from the nullary ones.
 */
export interface UnionInfo {
  /** The TAL name of the union's named type (namespace-qualified). */
  readonly tal: string;
  readonly name: string;
  readonly tparams: readonly string[];
  variants: Variant[];
}
export interface Variant { readonly name: string; ty: Ty; readonly tag: number }

/** The number of nullary variants: every nullary tag is below it, every other tag at or above it. */
export const nullaryCount = (u: UnionInfo): number => u.variants.filter(v => v.ty.k === 'void').length;

export type Ty =
  | { k: 'int' } | { k: 'unsigned' } | { k: 'bool' } | { k: 'char' } | { k: 'string' } | { k: 'void' }
  /** Popcorn's sub-word integers: a word holding a `bits`-bit value, sign- or zero-extended (see `truncation`). */
  | { k: 'sub'; bits: 8 | 16; signed: boolean }
  | { k: 'array'; elem: Ty }
  | { k: 'tuple'; elems: Ty[] }
  | { k: 'struct'; s: StructInfo; args: Ty[] }
  /** An instance of a union; an `error` argument is one not known yet (a nullary variant of a polymorphic union). */
  | { k: 'union'; u: UnionInfo; args: Ty[] }
  | { k: 'var'; name: string }
  | { k: 'fn'; ret: Ty; params: Ty[] }
  | { k: 'null' }
  | { k: 'exn' }
  /** The type of an expression already reported as wrong: compatible with everything, so it draws no more errors. */
  | { k: 'error' };

export const INT: Ty = { k: 'int' }, UNSIGNED: Ty = { k: 'unsigned' }, BOOL: Ty = { k: 'bool' }, CHAR: Ty = { k: 'char' };
export const STRING: Ty = { k: 'string' }, VOID: Ty = { k: 'void' }, NULL: Ty = { k: 'null' }, EXN: Ty = { k: 'exn' };
export const ERROR: Ty = { k: 'error' };
export const SHORT: Ty = { k: 'sub', bits: 16, signed: true }, USHORT: Ty = { k: 'sub', bits: 16, signed: false };
export const BYTE: Ty = { k: 'sub', bits: 8, signed: true }, UBYTE: Ty = { k: 'sub', bits: 8, signed: false };

/** Integer-like: int, unsigned, char (all one word, interconvertible as in C). */
export const isNumeric = (t: Ty): boolean =>
  t.k === 'int' || t.k === 'unsigned' || t.k === 'char' || t.k === 'sub' || t.k === 'error';

/**
 * How a value stored in a variable of type `t` is cut to the type's width, as C converts to a narrower integer type
 * (ISO C 6.3.1.3; gcc keeps the low bits): a `char` or an unsigned sub-word integer keeps its low 8 or 16 bits
 * (zero-extended), a signed one its low bits sign-extended (`(: byte) 200` is -56). Undefined: the type takes the
 * whole word. This is the one place the widths live; both code generators apply it at every store.
 */
export function truncation(t: Ty): { bits: 8 | 16; signed: boolean } | undefined {
  if (t.k === 'char') return { bits: 8, signed: false };
  if (t.k === 'sub') return { bits: t.bits, signed: t.signed };
  return undefined;
}

/**
 * Whether an array of `t` is an array of bytes (TAL's `*bytes`, docs/tal.md §3.2: byte i at offset 4 + i, read by
 * `movzx`, written by `mov BYTE PTR`) rather than of words: a `bool` or `char` element, which only ever holds 0…255
 * (`truncation` cuts a char to its low byte at every store), as gcc lays out `bool[]` and `char[]` (the issue 17
 * item). A type variable's element is a word (every type variable is a word type, as TALx86's kind K4byte), so a
 * `char[]` is not an `a[]` at a := char: `bytearrays.ts` refuses the instantiations where that would matter.
 * This is the one place the rule lives; both code generators and the refusals ask it.
 */
export const byteElement = (t: Ty): boolean => t.k === 'bool' || t.k === 'char';

/** The value `n` stored as type `t` (truncation applied), for constants. */
export function truncate(n: number, t: Ty): number {
  const w = truncation(t);
  if (!w) return n | 0;
  const shift = 32 - w.bits;
  return w.signed ? (n << shift) >> shift : (n << shift) >>> shift;
}
export const isNullable = (t: Ty): boolean => t.k === 'struct' && t.s.nullable;

/**
 * Popcorn's first-class exception constructor `<T>exncon` (TALC's `ExnconType`, docs/popcorn.md "Exception
 * constructors as values") is represented by what it can do, as a tuple of function values, so that neither code
 * generator nor the checker meets a new kind of value: `*(exn make(T), bool test(exn), T get(exn))`, and for a
 * constructor of nothing (`<void>exncon`) `*(exn make(), bool test(exn))`. This is the one place the shape lives.
 */
export function exnconTy(payload: Ty): Ty {
  const make: Ty = { k: 'fn', ret: EXN, params: payload.k === 'void' ? [] : [payload] };
  const test: Ty = { k: 'fn', ret: BOOL, params: [EXN] };
  if (payload.k === 'void') return { k: 'tuple', elems: [make, test] };
  return { k: 'tuple', elems: [make, test, { k: 'fn', ret: payload, params: [EXN] }] };
}

/** The T of a `<T>exncon` (`void` for a constructor of nothing), or undefined when `t` is not of that shape. */
export function exnconPayload(t: Ty): Ty | undefined {
  if (t.k !== 'tuple' || t.elems.length < 2 || t.elems.length > 3) return undefined;
  const [make, test, get] = t.elems;
  if (make.k !== 'fn' || make.ret.k !== 'exn' || make.params.length !== t.elems.length - 2) return undefined;
  const takesExn = (f: Ty): boolean => f.k === 'fn' && f.params.length === 1 && f.params[0].k === 'exn';
  if (!takesExn(test) || test.k !== 'fn' || test.ret.k !== 'bool') return undefined;
  if (!get) return VOID;
  return takesExn(get) && get.k === 'fn' && sameTy(get.ret, make.params[0]) ? get.ret : undefined;
}

/**
 * Types already resolved, for the type expressions of code the checker writes itself (exncon.ts's constructor
 * functions): the resolver returns the type recorded here instead of resolving the expression by name.
 */
export const resolvedTypeExprs = new WeakMap<object, Ty>();

export function showTy(t: Ty): string {
  const exncon = exnconPayload(t);
  if (exncon) return `<${showTy(exncon)}>exncon`;
  switch (t.k) {
    case 'int': case 'bool': case 'char': case 'string': case 'void': return t.k;
    case 'unsigned': return 'unsigned int';
    case 'sub': return `${t.signed ? '' : 'unsigned '}${t.bits === 8 ? 'byte' : 'short'}`;
    case 'array': return `${showTy(t.elem)}[]`;
    case 'tuple': return `*(${t.elems.map(showTy).join(', ')})`;
    case 'struct': return `${t.args.length ? `<${t.args.map(showTy).join(', ')}>` : ''}${t.s.name}`;
    case 'union': {
      const args = t.args.map(x => (x.k === 'error' ? '_' : showTy(x))).join(', ');
      return `${t.args.length ? `<${args}>` : ''}${t.u.name}`;
    }
    case 'var': return t.name;
    case 'fn': return `${showTy(t.ret)}(${t.params.map(showTy).join(', ')})`;
    case 'null': return 'null';
    case 'exn': return 'exn';
    case 'error': return '(error)';
  }
}

export function sameTy(a: Ty, b: Ty): boolean {
  if (a.k !== b.k) return false;
  switch (a.k) {
    case 'array': return sameTy(a.elem, (b as typeof a).elem);
    case 'sub': return a.bits === (b as typeof a).bits && a.signed === (b as typeof a).signed;
    case 'tuple': { const bb = b as typeof a; return a.elems.length === bb.elems.length
      && a.elems.every((e, i) => sameTy(e, bb.elems[i])); }
    case 'struct': { const bb = b as typeof a; return a.s === bb.s && a.args.every((e, i) => sameTy(e, bb.args[i])); }
    case 'union': { const bb = b as typeof a; return a.u === bb.u && a.args.every((e, i) => sameTy(e, bb.args[i])); }
    case 'var': return a.name === (b as typeof a).name;
    case 'fn': { const bb = b as typeof a; return sameTy(a.ret, bb.ret) && a.params.length === bb.params.length
      && a.params.every((e, i) => sameTy(e, bb.params[i])); }
    default: return true;
  }
}

/** Whether a value of type `from` may be used where `to` is expected. */
export function assignable(from: Ty, to: Ty): boolean {
  if (from.k === 'error' || to.k === 'error') return true;
  if (sameTy(from, to)) return true;
  if (isNumeric(from) && isNumeric(to)) return true;
  if (from.k === 'null' && isNullable(to)) return true;
  // A nullary variant of a polymorphic union fits every instance (its TAL value is a small integer of each).
  if (from.k === 'union' && to.k === 'union' && from.u === to.u) {
    return from.args.every((a, i) => a.k === 'error' || sameTy(a, to.args[i]));
  }
  return false;
}

export function substTy(t: Ty, m: ReadonlyMap<string, Ty>): Ty {
  switch (t.k) {
    case 'var': return m.get(t.name) ?? t;
    case 'array': return { k: 'array', elem: substTy(t.elem, m) };
    case 'tuple': return { k: 'tuple', elems: t.elems.map(e => substTy(e, m)) };
    case 'struct': return { k: 'struct', s: t.s, args: t.args.map(a => substTy(a, m)) };
    case 'union': return { k: 'union', u: t.u, args: t.args.map(a => substTy(a, m)) };
    case 'fn': return { k: 'fn', ret: substTy(t.ret, m), params: t.params.map(p => substTy(p, m)) };
    default: return t;
  }
}

/** Unify a parameter type (with the callee's variables `vars`) against an argument type, binding into `m`. */
export function unify(param: Ty, arg: Ty, vars: ReadonlySet<string>, m: Map<string, Ty>): boolean {
  if (arg.k === 'error' || param.k === 'error') return true;
  if (param.k === 'var' && vars.has(param.name)) {
    const bound = m.get(param.name);
    if (bound) return assignable(arg, bound) || (arg.k === 'null' && isNullable(bound));
    if (arg.k === 'null') return true; // decided by another argument, or left open
    m.set(param.name, arg.k === 'char' || arg.k === 'unsigned' ? arg : arg);
    return true;
  }
  if (arg.k === 'null') return isNullable(substTy(param, m)) || (param.k === 'struct' && param.s.nullable);
  if (param.k !== arg.k) return isNumeric(param) && isNumeric(arg);
  switch (param.k) {
    case 'array': return unify(param.elem, (arg as typeof param).elem, vars, m);
    case 'tuple': { const a = arg as typeof param; return param.elems.length === a.elems.length
      && param.elems.every((e, i) => unify(e, a.elems[i], vars, m)); }
    case 'struct': { const a = arg as typeof param; return param.s === a.s
      && param.args.every((e, i) => unify(e, a.args[i], vars, m)); }
    case 'union': {
      const a = arg as typeof param;
      return param.u === a.u && param.args.every((e, i) => unify(e, a.args[i], vars, m));
    }
    case 'fn': { const a = arg as typeof param; return param.params.length === a.params.length
      && unify(param.ret, a.ret, vars, m) && param.params.every((e, i) => unify(e, a.params[i], vars, m)); }
    case 'var': return param.name === (arg as typeof param).name;
    default: return true;
  }
}

/** Type variables occurring in t. */
export function varsOf(t: Ty, out = new Set<string>()): Set<string> {
  switch (t.k) {
    case 'var': out.add(t.name); break;
    case 'array': varsOf(t.elem, out); break;
    case 'tuple': t.elems.forEach(e => varsOf(e, out)); break;
    case 'struct': case 'union': t.args.forEach(e => varsOf(e, out)); break;
    case 'fn': varsOf(t.ret, out); t.params.forEach(e => varsOf(e, out)); break;
  }
  return out;
}

/**
 * The types a global may be declared with no initializer, and what it holds then (Popcorn's defaults, as its
 * compiler's default initializer gives them): 0 for the numbers, false, null for a ?struct, the empty string, the
 * empty array, a tuple or a struct of its components' defaults. A function, a type variable or an exception has none;
 * nor has a struct that must hold itself (it would never end). codegen.ts lays the defaults out,
 * check.ts decides with this which globals need an initializer.
 */
export function hasDefault(t: Ty, seen: ReadonlySet<StructInfo> = new Set()): boolean {
  switch (t.k) {
    case 'int': case 'unsigned': case 'char': case 'bool': case 'string': case 'array': return true;
    case 'error': return true; // reported already: no second error
    case 'tuple': return t.elems.every(e => hasDefault(e, seen));
    case 'struct': {
      if (t.s.nullable) return true;
      if (seen.has(t.s)) return false;
      const inner = new Set([...seen, t.s]);
      const m = new Map(t.s.tparams.map((p, i) => [p, t.args[i]]));
      return t.s.fields.every(f => hasDefault(substTy(f.ty, m), inner));
    }
    default: return false;
  }
}
