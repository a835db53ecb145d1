// Exception constructors as values (`<T>exncon`, docs/popcorn.md "Exception constructors as values";
// compiler/exncon.ts, types.ts's exnconTy): the shape the type stands for and how messages print it, that the checker
// lowers every use so that the checked program holds no constructor switch any more, and the semantics of the
// lowered switch worked out by hand here and run natively at both levels: arms tried in the order written (a
// declared exception's arm and a variable's arm for the same exception), `break` leaving the whole switch, a
// switch without default raising again what no arm takes, a binding at the constructor's type.
import test from 'ava';
import { parseFile } from '../../compiler/parser.ts';
import { checkProgram } from '../../compiler/check.ts';
import { Diagnostics, formatDiagnostics } from '../../compiler/diagnostics.ts';
import { forEachStmtExpr, type Stmt } from '../../compiler/ast.ts';
import { INT, VOID, STRING, EXN, exnconTy, exnconPayload, showTy, type Ty } from '../../compiler/types.ts';
import { scratch } from '../util/native.ts';
import { bothLevels } from '../util/optimised.ts';

const bin = scratch('ktal-popc-exncon-');
test.after.always(() => bin.done());

test('<T>exncon is the tuple of make, test and get; <void>exncon has no get', t => {
  t.is(exnconPayload(exnconTy(INT)), INT);
  t.is(exnconPayload(exnconTy(VOID)), VOID);
  const pair: Ty = { k: 'tuple', elems: [STRING, STRING] };
  t.is(exnconPayload(exnconTy(pair)), pair);
  t.is(showTy(exnconTy(INT)), '<int>exncon');
  t.is(showTy(exnconTy(VOID)), '<void>exncon');
  t.is(showTy(exnconTy({ k: 'var', name: 'a' })), '<a>exncon');
  // A tuple of other functions is not a constructor: get must return what make takes, test must take an exn.
  const t3 = exnconTy(INT) as Extract<Ty, { k: 'tuple' }>;
  t.is(exnconPayload({ k: 'tuple', elems: [t3.elems[0], t3.elems[1], { k: 'fn', ret: STRING, params: [EXN] }] }),
    undefined);
  t.is(exnconPayload({ k: 'tuple', elems: [t3.elems[0], { k: 'fn', ret: { k: 'bool' }, params: [INT] }] }), undefined);
  t.is(exnconPayload({ k: 'tuple', elems: [INT, INT, INT] }), undefined);
});

test('the checker lowers constructor switches and makes: what the generators get holds only closures', t => {
  const src = `
exception A(int);
exception B;
int f(<int>exncon c, exn e) {
  switch e {
  case B: return 1;
  case c(x): return x;
  default: return 0;
  }
}
void pop_main() { f(A, new A(3)); }`;
  const diags = new Diagnostics();
  const decls = parseFile(src, 'r.pop', diags);
  const c = checkProgram([{ file: 'r.pop', decls }], diags);
  t.is(diags.count, 0, formatDiagnostics(diags.sorted(), new Map([['r.pop', src]])));
  const f = c.funs.find(x => x.name === 'f')!;
  // The only switch naming c is gone: what remains are switches on the temporary, with declared exceptions only.
  const labels: string[] = [];
  const walk = (s: Stmt): void => {
    if (s.k === 'switch') {
      for (const k of s.cases) for (const v of k.values) {
        const l = v.k === 'call' ? v.fn : v;
        if (l.k === 'var') labels.push(l.name.name);
      }
      s.cases.forEach(k => k.body.forEach(walk));
      s.dflt?.forEach(walk);
    } else if (s.k === 'block') s.body.forEach(walk);
    else if (s.k === 'if') { walk(s.then); if (s.else) walk(s.else); }
  };
  walk(f.decl.body!);
  t.false(labels.includes('c'), labels.join(', '));
  // A, named as a constructor in pop_main, became a tuple of three anonymous functions (make, test, get).
  const lambdas: string[] = [];
  forEachStmtExpr(c.funs.find(x => x.name === 'pop_main')!.decl.body, e => {
    const visit = (x: typeof e): void => {
      if (x.k === 'lambda') lambdas.push(showTy(c.types.get(x)!));
      if (x.k === 'tuple') x.elems.forEach(visit);
      if (x.k === 'call') x.args.forEach(visit);
    };
    visit(e);
  });
  t.deepEqual(lambdas, ['exn(int)', 'bool(exn)', 'int(exn)']);
});

test('arms in order, break, raising again, bindings: run natively at both levels', t => {
  const { o0, o2 } = bothLevels(t, bin, `#include "core.h"
open Core;
exception Code(int);
exception Word(string);
exception Stop;
int classify(<int>exncon mine, exn e) {
  int r = 0;
  while (r < 100) {
    switch e {
    case Stop: r = r + 1000; break;        // leaves the switch: the loop goes on
    case mine(n): return r + n;            // before Code: taken for a Code
    case Code(n): return -n;
    default: r = r + 10;
    }
    if (r >= 30) return r;
  }
  return r;
}
int pass_on(<void>exncon mine, exn e) {
  try {
    switch e { case mine: return 1; }      // no default: anything else is raised again
  } handle x {
    switch x { case Word(s): return size(s); }
  }                                        // both end: nothing after the try is reached
}
void pop_main() {
  <int>exncon c = Code;
  printf("%d %d %d\\n", classify(c, Code(7)), classify(c, Word("w")), classify(c, Stop));
  <void>exncon s = Stop;
  printf("%d %d\\n", pass_on(s, Stop), pass_on(s, Word("four")));
}`, 'exncon-order');
  // Code(7): the variable's arm, first, gives 0 + 7; Word: the default three times, 30; Stop: 1000 after one break.
  t.is(o0, '7 30 1000\n1 4\n');
  t.is(o2, o0);
});
