// Substitution is capture-avoiding: a code type binds its own variables, and a substitution applied to a type that
// contains it (a register holding a label's address, a tuple of continuations) never reaches them. Opening a code
// type (freshening it, or renaming two to compare them) substitutes its own binders on purpose: substBody.
import test from 'ava';
import { INT, NIL, newBinder, substBody, substCode, substTy, type CodeTy, type Regs,
  type Ty } from '../../tal/types.ts';

/** code[own]{eax: own, ebx: free, esp: nil} */
function continuation(own = newBinder('a', 'word'), free = newBinder('b', 'word')): CodeTy {
  const regs = new Array(8).fill(null) as (Ty | null)[];
  regs[0] = { k: 'var', b: own };
  regs[3] = { k: 'var', b: free };
  return { vars: [own], regs: regs as unknown as Regs, stack: NIL };
}

test("a substitution does not reach a code type's own binders inside another type", t => {
  const own = newBinder('a', 'word'), free = newBinder('b', 'word');
  const c = continuation(own, free);
  const tuple: Ty = { k: 'tuple', nullable: false, fields: [{ ty: { k: 'code', code: c }, flag: 'r' }] };
  // The same binder object `own` mapped to int, as when the label whose type this is gets instantiated elsewhere.
  const r = substTy(tuple, new Map([[own, INT]]));
  t.is(r, tuple, 'nothing free to substitute: the very same type comes back');
  // Its free variable is substituted; its own stays bound.
  const r2 = substTy(tuple, new Map([[own, INT], [free, INT]]));
  if (r2.k !== 'tuple' || r2.fields[0].ty.k !== 'code') return t.fail('not a tuple of code');
  const inner = r2.fields[0].ty.code;
  t.deepEqual(inner.vars, [own]);
  t.deepEqual(inner.regs[0], { k: 'var', b: own });
  t.is(inner.regs[3], INT);
});

test('substCode leaves the code type\'s own binders; substBody opens them', t => {
  const own = newBinder('a', 'word');
  const c = continuation(own);
  t.is(substCode(c, new Map([[own, INT]])), c);
  const opened = substBody(c, new Map([[own, INT]]));
  t.is(opened.regs[0], INT);
});
