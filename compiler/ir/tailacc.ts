// Tail recursion with an accumulator: `return x + f(…);` inside f itself becomes `acc = acc + x`, the arguments
// given to the parameters and a jump back to the function's body, every other `return v` becoming
// `return acc + v`, with acc set to 0 on entry. This is the accumulator case of gcc's tail-recursion pass
// (gcc/tree-tailcall.cc: "the function returns a + m * f(...)", its `add_acc`), after Wadler's and Burstall and
// Darlington's transformation of recursion into iteration by an accumulating parameter. It is exact because IA-32's
// `add` is addition modulo 2^32, which is associative and commutative: acc + (x + f(a)) = (acc + x) + f(a) for every
// value, signed or unsigned, so each call's result is the one the recursion computed. The order of everything the
// program can see is unchanged: x is computed, and the call's arguments evaluated, before the jump, as they were
// before the call. A doubly recursive `return f(n - 1) + f(n - 2)` keeps the first call and loops for the second
// (half the calls of Fibonacci's recursion are gone), `return 1 + count(t.left) + count(t.right)` likewise; a list's
// `return 1 + length(l.next)` becomes a loop in constant stack.
//
// Only an `int` result (a `+` on pointers does not exist) and the function's own calls at its own type arguments, as
// in tailrec.ts. When the pass applies, it also turns the plain self tail calls (`return f(…)`, acc unchanged) into
// jumps to the same place, since the body is no longer the function's first block: that block is now the one that
// sets acc to 0. gcc's multiplicative accumulator (`return n * f(n - 1)`) is not done.
//
// Requires: a Fn whose blocks are all reachable, before tailrec.ts. Gives: no self call in tail position or under a
// final `+`; run the cleanup passes after.

import { type Block, type Fn, type Inst, type Val, type VReg, def, val } from './ir.ts';
import { jumpBackWith } from './tailrec.ts';

type Call = Extract<Inst, { op: 'call' }>;

/** The value block b returns: its own `ret`, or that of an empty block it jumps to. */
function returned(b: Block): Val | undefined {
  const t = b.term.op === 'jmp' && b.term.to.insts.length === 0 ? b.term.to.term : b.term;
  return t.op === 'ret' ? t.v : undefined;
}

const isReg = (x: Val | undefined, v: VReg | undefined): boolean => v !== undefined && x?.k === 'v' && x.v === v;

/** A self tail call the pass turns into a jump: the call, and the value added to its result (none: a plain one). */
interface Site { block: Block; call: Call; addend?: Val }

/** The site ending block b, if any: `r = f(…); ret r`, or `r = f(…); s = x + r; ret s` (either order of +). */
function siteOf(f: Fn, b: Block): Site | undefined {
  if (b.handler) return undefined; // in a try body the call's exception goes to its handler: not a tail call
  const own = f.tparams.join(',');
  const self = (i: Inst | undefined): i is Call => i?.op === 'call' && i.callee.k === 'fun'
    && i.callee.label === f.label && (i.inst ?? []).join(',') === own;
  const n = b.insts.length;
  const last = b.insts[n - 1]?.inst;
  if (self(last)) return isReg(returned(b), last.dst) ? { block: b, call: last } : undefined;
  const call = b.insts[n - 2]?.inst;
  if (!self(call) || call.dst === undefined || last?.op !== 'arith' || last.aop !== '+') return undefined;
  if (!isReg(returned(b), last.dst)) return undefined;
  const r = call.dst;
  // Exactly one operand is the call's result (f(a) + f(a) is two calls, and stays).
  if (isReg(last.a, r) === isReg(last.b, r)) return undefined;
  return { block: b, call, addend: isReg(last.a, r) ? last.b : last.a };
}

export function tailCallsWithAccumulator(f: Fn): boolean {
  if (f.ret !== 'int') return false;
  const sites = f.blocks.map(b => siteOf(f, b)).filter((s): s is Site => s !== undefined);
  if (!sites.some(s => s.addend)) return false;
  const acc: VReg = { id: f.vregs.length, ty: 'int', name: 'acc' };
  f.vregs.push(acc);
  const body = f.blocks[0];
  const line = body.insts[0]?.line ?? body.termLine;
  const start: Block = {
    id: Math.max(...f.blocks.map(b => b.id)) + 1,
    insts: [{ inst: { op: 'copy', dst: acc, src: { k: 'imm', n: 0 } }, line }], term: { op: 'jmp', to: body },
    termLine: line,
  };
  for (const s of sites) {
    const b = s.block;
    const at = b.insts[b.insts.length - 1].line;
    b.insts.splice(b.insts.length - (s.addend ? 2 : 1));
    if (s.addend) {
      // Added where the addend is made (the first call's result, read at once from eax), or at the end of the block:
      // nothing else in the block reads or writes acc, and the addend holds its value from its last definition on.
      const x = s.addend;
      let made = b.insts.length - 1;
      while (made >= 0 && !(x.k === 'v' && def(b.insts[made].inst) === x.v)) made--;
      const add: Inst = { op: 'arith', aop: '+', dst: acc, a: x, b: val(acc), unsigned: false };
      b.insts.splice(made < 0 ? b.insts.length : made + 1, 0, { inst: add, line: at });
    }
    jumpBackWith(f, b, s.call.args.map(a => a.v), at, body);
  }
  // Every return left gives back what the calls before it accumulated.
  for (const b of f.blocks) {
    if (b.term.op !== 'ret' || !b.term.v) continue;
    const sum: VReg = { id: f.vregs.length, ty: 'int', name: 'acc' };
    f.vregs.push(sum);
    const add: Inst = { op: 'arith', aop: '+', dst: sum, a: val(acc), b: b.term.v, unsigned: false };
    b.insts.push({ inst: add, line: b.termLine });
    b.term = { op: 'ret', v: val(sum) };
  }
  f.blocks.unshift(start);
  return true;
}
