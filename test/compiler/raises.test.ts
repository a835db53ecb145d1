// compiler/raises.ts: which functions may raise, and whose failed checks raise out of them (docs/popcorn.md
// "Exceptions", "Built-in exceptions"). The rule on small programs (catchable through callers, handlers that take
// or pass built-in exceptions, a try's handler not covering its own calls, no change without such a try), and the
// generator of the soundness property (test/util/popgen.ts) making programs whose checks leave their function, so
// that test/compiler/fuzz.test.ts's checker and run properties cover that code.
import test from 'ava';
import { checked, flow } from '../util/raising.ts';
import { exceptionFlow, optimiserDeclines } from '../../compiler/raises.ts';
import { compile } from '../../compiler/popc.ts';
import { genProgram, seeded } from '../util/popgen.ts';

const CALLEES = `
int get(int a[], int i) { return a[i]; }            // a bounds check
int twice(int a[], int i) { return 2 * get(a, i); } // no check of its own, calls one
int plain(int x) { return x + 1; }                  // nothing that can fail
int ratio(int x, int y) { return x / y; }           // a zero-divisor check
`;

test('without a try, no function changes', t => {
  t.deepEqual(flow(`${CALLEES}
void pop_main() { int a[] = {1, 2}; twice(a, 3); ratio(1, 0); plain(2); }`), { raising: [], checks: [] });
});

test('a check below a try that takes built-in exceptions raises, through every caller in between', t => {
  const r = flow(`${CALLEES}
void pop_main() {
  int a[] = {1, 2};
  try { twice(a, 3); plain(1); } handle e { plain(2); }
  ratio(1, 0);
}`);
  // ratio is called only outside the try: its check stops the program as before; plain has no check.
  t.deepEqual(r, { raising: ['get', 'twice'], checks: ['get', 'twice'] });
});

test('a handler takes built-in exceptions by a default or a case naming one; a switch naming none passes them',
  t => {
  const prog = (handler: string): string => `${CALLEES}
exception Mine;
void pop_main() { int a[] = {1}; try { twice(a, 3); } handle e ${handler} }`;
  t.deepEqual(flow(prog('switch e { case Mine: plain(1); }')).checks, []);
  t.deepEqual(flow(prog('switch e { case Mine: plain(1); case Array_bounds: plain(2); }')).checks, ['get', 'twice']);
  t.deepEqual(flow(prog('{ switch (e) { case Mine: plain(1); default: plain(2); } }')).checks, ['get', 'twice']);
  t.deepEqual(flow(prog('{ plain(0); switch (e) { case Mine: plain(1); } }')).checks, ['get', 'twice']);
  // Passed on by an inner handler, taken by the outer one around it.
  t.deepEqual(flow(`${CALLEES}
exception Mine;
void pop_main() {
  int a[] = {1};
  try { try { twice(a, 3); } handle e switch e { case Mine: plain(1); } } handle f { plain(2); }
}`).checks, ['get', 'twice']);
});

test("a call in a try's handler is not covered by that try, and a callee's own handler keeps its checks", t => {
  t.deepEqual(flow(`${CALLEES}
void pop_main() { int a[] = {1}; try { plain(1); } handle e { twice(a, 3); } }`).checks, []);
  t.deepEqual(flow(`
int safe(int a[], int i) { try { return a[i]; } handle e { return 0; } }
int outer(int a[]) { return safe(a, 5); }
void pop_main() { int a[] = {1}; try { outer(a); } handle e { } }`), { raising: [], checks: [] });
});

test('a caller that cannot catch keeps its type; the stack machine generates its calls of a raising function', t => {
  const c = checked(`${CALLEES}
void other(int a[]) { get(a, 7); }
void pop_main() { int a[] = {1}; try { get(a, 3); } handle e { } other(a); }`);
  const f = exceptionFlow(c);
  const named = (n: string) => c.funs.find(x => x.name === n)!;
  t.deepEqual([...f.checksRaise].map(x => x.name), ['get']);
  t.false(f.raising.has(named('other')));
  t.true(optimiserDeclines(c, named('other'), f)); // calls a raising function, raises nothing itself
  t.true(optimiserDeclines(c, named('get'), f)); // its checks raise out of it
  t.false(optimiserDeclines(c, named('plain'), f));
});

test('the soundness generator makes programs whose checks leave their function', t => {
  // The stub of a check that leaves its function: it records the check, then returns by the second address.
  const leaving = /mov ecx, 1\n\s+mov DWORD PTR \[__popc_check_raised\], ecx\n(?:\s+[^\n]*\n){2,4}?\s+ret\n/;
  let n = 0;
  for (let i = 0; i < 40; i++) {
    const r = compile(genProgram(seeded(1000 + i), 1), 'gen.pop', { optimise: 0 });
    if (r.tal && leaving.test(r.tal)) n++;
  }
  t.log(`${n} of 40 programs`);
  t.true(n >= 4, `only ${n} of 40 generated programs have a check that raises out of its function`);
});
