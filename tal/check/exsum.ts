// The checker's rules for existential types and tagged sums (docs/tal.md §3.4, §3.5, §4.8, §4.9). Trusted: the
// checker (checker.ts) calls these at a coercion annotation, at a memory operand whose base is a sum, at a `cmp` or
// `test` of a sum, and at the conditional jump after it.
//
// They follow TALx86 (Morrisett et al., "TALx86: A Realistic Typed Assembly Language", 1999, §2–3): an existential
// is packed by a coercion that names the witness and opened by one that gives it a fresh rigid name; a union of
// Popcorn is a small integer (a case without values) or a pointer to a tuple whose first word is the tag, and a test
// of that integer or of that word refines the type on each edge of the branch. What is here decides no control flow
// and builds no state: each function maps types to types, or to the refusal the checker raises.

import { type Coercion } from '../annotations.ts';
import { type Binder, type ExistsTy, type SumTy, type TupleTy, type Ty } from '../types.ts';
import { INT, newBinder, sing, spend, substTy, SUM_CONST_LIMIT, showTy } from '../types.ts';
import { type Matcher } from './subtype.ts';

/** The error classes these rules add (docs/tal.md §9). */
export type ExSumErrorClass = 'pack' | 'unpack' | 'sum-case';

export interface ExSumRefusal {
  readonly cls: ExSumErrorClass;
  readonly message: string;
  readonly expected?: string;
  readonly actual?: string;
}

// ---- existentials ----

/**
 * `.tal_pack r : ∃a.τ with W`: the register's type must be ≤ τ[W/a]; without W, the matcher finds the witness from
 * the first occurrence of a (as it instantiates a jump target's variables, §4.6), and later occurrences must agree.
 * Returns the refusal, or undefined: the register then has the existential type (its value is unchanged).
 */
export function checkPack(
  have: Ty, ex: ExistsTy, witness: Ty | undefined, m: Matcher, reg: string,
): ExSumRefusal | undefined {
  if (witness) m.bind(ex.b, witness);
  if (m.sub(have, ex.body)) return undefined;
  const expected = witness ? showTy(substTy(ex.body, new Map([[ex.b, witness]]))) : showTy(ex.body);
  return {
    cls: 'pack',
    message: witness
      ? `pack ${reg}: its value is not the existential's body at the witness ${showTy(witness)}`
      : `pack ${reg}: no witness makes its value the existential's body (the first use of ${ex.b.name} fixes it)`,
    expected, actual: showTy(have),
  };
}

/**
 * `.tal_unpack r`: r's existential opened with a fresh rigid variable, distinct from every other (two unpacks of
 * copies of one package give two variables, so the parts of one cannot be mixed with the other's).
 */
export function unpack(have: Ty, whnfHave: Ty, reg: string): Ty | ExSumRefusal {
  if (whnfHave.k !== 'exists')
    return {
      cls: 'unpack', message: `unpack ${reg}: it does not hold an existential`, expected: 'exists[a] τ',
      actual: showTy(have),
    };
  spend(1);
  const fresh: Binder = newBinder(whnfHave.b.name, 'word');
  return substTy(whnfHave.body, new Map([[whnfHave.b, { k: 'var', b: fresh }]]));
}

/** How many coercions a file's table holds (each must be applied at an instruction, else the file is refused). */
export function coercionCount(table: ReadonlyMap<number, readonly Coercion[]>): number {
  let n = 0;
  for (const list of table.values()) n += list.length;
  return n;
}

// ---- tagged sums ----

/** The tag word of a sum of pointer cases, as the field a memory operand reads: an integer, read-only. */
export const TAG_WORD: TupleTy = { k: 'tuple', nullable: false, fields: [{ ty: INT, flag: 'r' }] };

/** A sum of one case is that case: the integer S(n) or the tuple. Others stay sums. */
export function normalizeSum(t: SumTy): Ty {
  if (t.consts.length === 1 && t.cases.length === 0) return sing(t.consts[0]);
  if (t.consts.length === 0 && t.cases.length === 1) return t.cases[0];
  return t;
}

/**
 * The field a memory operand `[base+disp]` reads of a sum (normalised: two cases or more): the tag word at offset 0
 * when every case is a pointer, else a refusal. Which case it is must be learnt from the tag first.
 */
export function sumField(t: SumTy, disp: number, indexed: boolean, size: number, name: string): TupleTy | ExSumRefusal {
  if (t.consts.length > 0)
    return {
      cls: 'sum-case',
      message: `${name} may be a case without values (an integer: ${t.consts.join(', ')}), not a pointer: ` +
        `test it first (cmp ${name}, ${t.consts[t.consts.length - 1] + 1} and jb to the integer cases)`,
      actual: showTy(t),
    };
  if (disp === 0 && !indexed && size === 4) return TAG_WORD;
  return {
    cls: 'sum-case',
    message: `offset ${disp} of ${name}: which case of the sum it is is not known; ` +
      `compare its tag (cmp DWORD PTR [${name}], k) and branch first`,
    actual: showTy(t),
  };
}

/** A tag test in force: `cmp r, n` / `test r, r` (word false), or `cmp DWORD PTR [r], n` (word true). */
export interface TagCond { readonly k: 'tag'; readonly reg: number; readonly n: number; readonly word: boolean }

// Condition codes (Intel SDM vol. 2, Jcc): the unsigned comparisons and equality; the low bit negates.
const CC_B = 2, CC_AE = 3, CC_E = 4, CC_NE = 5, CC_BE = 6, CC_A = 7;

/** Whether x cc n holds, both unsigned. */
function holds(cc: number, x: number, n: number): boolean {
  switch (cc) {
    case CC_B: return x < n;
    case CC_AE: return x >= n;
    case CC_E: return x === n;
    case CC_NE: return x !== n;
    case CC_BE: return x <= n;
    default: return x > n; // CC_A
  }
}

/**
 * Whether some pointer p (SUM_CONST_LIMIT ≤ p < 2^32, unsigned) may satisfy p cc n: pointers are never in page
 * zero, so `cmp r, n` / `jb` with n ≤ 4096 proves r is not a pointer.
 */
function pointerMay(cc: number, n: number): boolean {
  switch (cc) {
    case CC_B: return n > SUM_CONST_LIMIT;
    case CC_E: case CC_BE: return n >= SUM_CONST_LIMIT;
    default: return true;
  }
}

/**
 * The sum refined for the edge of a conditional jump (`cc` is the condition that holds on that edge: the jump's on
 * the taken edge, its negation on the other). Undefined if the edge teaches nothing (or the condition is signed).
 */
export function refineSum(t: SumTy, c: TagCond, cc: number): Ty | undefined {
  if (cc < CC_B || cc > CC_A) return undefined;
  // A unit per case looked at: a file may hold a sum of thousands of cases and test it thousands of times.
  spend(t.consts.length + t.tags.length);
  let consts = t.consts, tags = t.tags, cases = t.cases;
  if (c.word) {
    // The tag word compared with n: equal on one case, different on the others (the tags are singletons).
    if (cc !== CC_E && cc !== CC_NE) return undefined;
    const tag = c.n | 0;
    const keep = t.tags.map(g => (g === tag) === (cc === CC_E));
    tags = t.tags.filter((_, i) => keep[i]);
    cases = t.cases.filter((_, i) => keep[i]);
  } else {
    const n = c.n >>> 0;
    consts = t.consts.filter(x => holds(cc, x, n));
    if (!pointerMay(cc, n)) tags = cases = [];
  }
  if (consts.length === t.consts.length && tags.length === t.tags.length) return undefined;
  return normalizeSum({ k: 'sum', consts, tags, cases });
}
