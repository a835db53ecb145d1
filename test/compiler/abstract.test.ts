// Popcorn's abstract structs across files (compiler/check.ts, checkAbstract): the file that declares
// `abstract struct S` builds S and uses its fields; every other file compiled with it may hold S values and pass
// them around, but `new S(…)`, `^S(…)` and `s.f` there are P3510, each at its own position. The error corpus
// (test/popc/errors) holds single files, so the two-file case lives here.
import test from 'ava';
import { compileFiles } from '../../compiler/popc.ts';

const counter = `abstract struct counter { int value; }
counter make() { return ^counter(0); }
int get(counter c) { return c.value; }
`;

test('a file other than the declaring one may hold an abstract struct but not build it or use its fields', t => {
  const user = `counter make();
int get(counter c);
void pop_main() {
  counter c = make();
  int v = get(c) + c.value;
  counter d = new counter(1);
  counter e = ^counter(2);
  c.value = v;
}
`;
  const r = compileFiles([{ file: 'counter.pop', text: counter }, { file: 'user.pop', text: user }]);
  const message = 'struct counter is abstract: only counter.pop, which declares it, may build it or use its fields';
  t.deepEqual(r.diagnostics.map(d => `${d.file}:${d.line}:${d.col}: ${d.code}: ${d.message}`), [
    `user.pop:5:21: P3510: ${message}`, // c.value
    `user.pop:6:15: P3510: ${message}`, // new counter(1)
    `user.pop:7:15: P3510: ${message}`, // ^counter(2)
    `user.pop:8:4: P3510: ${message}`, // c.value = v
  ]);
});

test('the declaring file uses its abstract struct freely, and the program runs through its functions', t => {
  const user = `counter make();
int get(counter c);
void pop_main() { counter c = make(); if (get(c) != 0) Sys::exit(1); }
`;
  const r = compileFiles([{ file: 'counter.pop', text: counter }, { file: 'user.pop', text: user }]);
  t.deepEqual(r.diagnostics, []);
  t.truthy(r.elf);
});
