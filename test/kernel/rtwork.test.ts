// kernel/rtwork.ts: the walk of the user-mode runtime that kernel mode is charged. The runtime's instructions are
// read here from its source (tal/asm/runtime.ts) by hand, one class at a time, as the emulator classes them
// (emulator/costs.ts); test/kernel/same-work.test.ts checks the walks against the machine executing the runtime.
import test from 'ava';
import { IMPORTS, syscallArgs } from '../../tal/interface.ts';
import { cachedPath, exitAt, loopPath, repeat, walkRuntime, type BranchRules } from '../../kernel/rtwork.ts';
import { CLASS_NAMES } from '../../emulator/stats.ts';

const named = (c: readonly number[]) => Object.fromEntries(CLASS_NAMES.map((n, i) => [n, c[i]]).filter(([, v]) => v));
const FAST: BranchRules = { __tal_rt_allocate_have: () => true, __tal_rt_allocate_fits: () => true };

test('tal_alloc with a heap that fits: the stub and __tal_rt_allocate, 17 instructions, nothing left out', t => {
  const p = walkRuntime('__tal_rt_tal_alloc', FAST);
  // stub: mov eax,[esp+4] (load) cmp (alu) ja (branch) jmp (branch); allocate: add and (alu) mov ecx,[heap_cur]
  // (load) test (alu) jne (branch) lea cmp (alu) jb (branch) cmp edx,[heap_end] (load) jbe (branch) mov [heap_cur],edx
  // (store) mov eax,ecx (alu) ret (branch)
  t.deepEqual(named(p.charged), { alu: 7, load: 3, store: 1, branch: 6 });
  t.deepEqual(named(p.crossing), {});
  t.is(p.syscalls, 0);
});

test('the first allocation asks brk for the break, and a growth asks it again: those blocks are the crossing', t => {
  const p = walkRuntime('__tal_rt_tal_alloc',
    { __tal_rt_allocate_have: () => false, __tal_rt_allocate_fits: () => false });
  t.is(p.syscalls, 2);
  // push ebx, push eax, xor, mov eax 45, int, mov ecx eax, mov [cur], mov [end], pop, pop; then push ×3, lea, and,
  // mov eax 45, int, pop ×3, cmp, jb
  t.deepEqual(named(p.crossing), { alu: 7, load: 5, store: 7, branch: 3 });
  // the fast path's, plus the store of the grown break (mov [heap_end], eax) after the growth's block
  t.deepEqual(named(p.charged), { alu: 7, load: 3, store: 2, branch: 6 });
});

test('write: the bounds check is charged, the registers, the trap and the return are the crossing', t => {
  const p = walkRuntime('__tal_rt_write');
  // push ebx; mov ecx,[buf] mov eax,[off] mov edx,[ecx] cmp ja; sub cmp [count],edx ja
  t.deepEqual(named(p.charged), { alu: 2, load: 4, store: 1, branch: 2 });
  // mov ebx,[fd] mov ecx,[buf] add ecx,[off] add ecx,4 mov edx,[count] mov eax,4 call [__tal_rt_sysinfo] pop ebx
  // ret
  t.deepEqual(named(p.crossing), { alu: 2, load: 5, branch: 2 });
  t.deepEqual(named(p.crossingAfter), { load: 1, branch: 1 });
  // A failed check: the first ja taken to __tal_rt_efault_pop (mov eax, -14; pop ebx; ret), no system call.
  const bad = walkRuntime('__tal_rt_write', { __tal_rt_efault_pop: exitAt(0) });
  t.is(bad.syscalls, 0);
  t.deepEqual(named(bad.charged), { alu: 2, load: 4, store: 1, branch: 2 });
});

test('every system-call stub makes its one call in a crossing block; getpid is nothing but the crossing', t => {
  for (const spec of IMPORTS.filter(s => s.syscall !== undefined)) {
    const p = walkRuntime(`__tal_rt_${spec.name}`, { __tal_rt_cpath_done: exitAt(5) });
    t.is(p.syscalls, 1, spec.name);
    t.true(p.crossing.some(x => x > 0), spec.name);
    const checks = spec.buffer !== undefined || syscallArgs(spec).some(a => a.k === 'path');
    t.is(p.charged.some(x => x > 0), checks, `${spec.name}: charged only for its checks and path copy`);
  }
  t.deepEqual(named(walkRuntime('__tal_rt_getpid').charged), {});
});

test('a loop\'s cost extrapolated from two walks is the walk of the whole loop', t => {
  const rules = (k: number): BranchRules => ({
    ...FAST, __tal_rt_tal_new_array_done: () => k === 0, __tal_rt_tal_new_array_fill: repeat(k - 1),
  });
  for (const n of [1, 2, 7, 1000]) {
    t.deepEqual(loopPath('test-array', '__tal_rt_tal_new_array', n, rules, 1),
      walkRuntime('__tal_rt_tal_new_array', rules(n)).charged, `n = ${n}`);
  }
  // Each element: mov [eax+ecx*4], edx (store), dec (alu), jne (branch).
  const a = walkRuntime('__tal_rt_tal_new_array', rules(10)).charged;
  const b = walkRuntime('__tal_rt_tal_new_array', rules(11)).charged;
  t.deepEqual(named(b.map((x, i) => x - a[i])), { alu: 1, store: 1, branch: 1 });
  const path = (k: number): BranchRules => ({ __tal_rt_cpath_done: exitAt(k) });
  t.deepEqual(loopPath('test-open', '__tal_rt_open', 300, path), walkRuntime('__tal_rt_open', path(300)).charged);
  t.is(cachedPath('test-open-0', '__tal_rt_open', path(0)), cachedPath('test-open-0', '__tal_rt_open', path(0)));
  t.throws(() => loopPath('test-open', '__tal_rt_open', 300, path, 1), { message: /walked from 0/ });
});

test('a path that never leaves its loop is an internal error, not a hang', t => {
  // No rule for the path copy's exit: the loop would run for ever.
  t.throws(() => walkRuntime('__tal_rt_open', {}, 10_000), { message: /does not end/ });
  t.throws(() => walkRuntime('__tal_rt_no_such_stub'), { message: /no runtime label/ });
});
