// Sibling tail calls: `return g(…)` inside f, g another popc function, as a `jmp g` instead of `call g` / `ret`
// (gcc's -foptimize-sibling-calls, tree-tailcall.c's "sibcall"; Steele's "Debunking the 'expensive procedure call'
// myth", 1977). g's arguments are written over f's own incoming argument slots, f's frame is dropped and the
// callee-saved registers it pushed are popped back, and g is entered with f's return address on top: g's `ret` lands
// where f's would, and f's caller pops its own arguments (cdecl). A mutual recursion in tail position (even/odd, a
// state machine) then runs in constant stack. tailrec.ts already makes a self tail call a loop; this is the rest.
//
// The checker must accept the jump unchanged (docs/tal.md §4.6, §7; the types are emit.ts's functionType). At the
// `jmp`, f's stack is  ret_f :: [X_f ::] A1 :: … :: An :: r  with
//   ret_f = code{eax: R_f, ebx: s_ebx, …, esp: [X_f ::] A1 :: … :: An :: r}
// (X_f, the second return address, when f may raise), and g's precondition is
//   ret_g :: [X_g ::] B1 :: … :: Bm :: ρ  with ret_g's own esp  [X_g ::] B1 :: … :: Bm :: ρ.
// Instantiating ρ := A(m+1) :: … :: An :: r and g's s_ebx … s_ebp with f's own makes g's stack the one f's slots
// hold once B1 … Bm are written over A1 … Am, and leaves one condition: ret_f, which is f's and stays on the stack,
// must be the instantiated ret_g, and code types are equal only up to renaming (docs/tal.md §3.3). Hence exactly
// these, each refusal leaving an ordinary call:
//   - m ≤ n: g's arguments fit in f's slots (f's caller pops n words when g returns);
//   - Bi = Ai for i ≤ m: the argument slots' types after the writes are those ret_f's precondition names (a slot
//     holding another type would be a different return type; the values written may be subtypes, S(0) for a `?T`,
//     which the jump's word-by-word ≤ takes);
//   - R_g = R_f (both results, or both void);
//   - both keep ebx, esi, edi and ebp, or neither (a function value's convention: its return type names no register);
//   - both may raise, or neither: X_f is X_g only then. A raising g under a non-raising f would have no second return
//     address to take, and a non-raising g would find X_f where its first argument should be. When both raise, g's
//     raise lands in f's caller through X_f with f's n arguments on the stack, exactly as if f had raised it. The
//     one exception: a non-raising g that takes no argument, instantiated with ρ := X_f :: A1 :: … :: An :: r, whose
//     return type is then ret_f exactly (it returns over X_f, which f's caller drops with the arguments);
//   - the call is in no `try` body: there the callee's exception goes to f's handler, so f must stay;
//   - a function value (its environment is one more argument, pushed under the others) or an import (the kernel
//     interface is called through its slot) stays a call.
// The writes themselves are a parallel move (`f(a, b)` calling `g(b, a)` swaps two slots): planArgumentMoves orders
// them so no slot is written before it is read, through the scratch registers eax, ecx and edx; if those do not
// suffice the call stays a call.
//
// Requires: the final Fn (after copies.ts). Gives: the set of its calls emit.ts makes jumps (nothing is rewritten:
// the IR, which inline.ts may still copy into other callers, keeps its calls).

import type { Block, Fn, Inst } from './ir.ts';

export type CallInst = Extract<Inst, { op: 'call' }>;

/**
 * Why the call ending block b of f cannot be a jump to its callee, or undefined if it can. The call must be b's last
 * instruction and b must return its result (or return nothing after a void call); anything else is not a tail call.
 */
export function siblingTailCallRefusal(f: Fn, b: Block, call: CallInst): string | undefined {
  if (b.insts[b.insts.length - 1]?.inst !== call) return 'not the last instruction of its block';
  const t = b.term;
  if (t.op !== 'ret') return 'its block does not return';
  const returnsResult = t.v ? t.v.k === 'v' && t.v.v === call.dst : call.dst === undefined;
  if (!returnsResult) return 'its result is not what f returns';
  const c = call.callee;
  if (c.k === 'value') return 'a function value: its environment is one more argument';
  if (c.k === 'import') return 'an import of the kernel interface';
  if (b.handler) return 'in a try body: the callee\'s exception goes to the handler';
  if (c.saves !== f.saves) return 'one keeps ebx, esi, edi and ebp and the other does not: the return types differ';
  if (c.raises && !f.raises) return 'the callee may raise and the caller has no second return address to give it';
  if (!c.raises && f.raises && call.args.length > 0) {
    return 'the caller\'s second return address is where the callee\'s first argument goes';
  }
  if (call.args.length > f.paramTys.length) {
    return `more argument words (${call.args.length}) than the caller has (${f.paramTys.length})`;
  }
  for (let n = 0; n < call.args.length; n++) {
    if (call.args[n].ty !== f.paramTys[n]) {
      return `argument ${n + 1} is ${call.args[n].ty} where the caller's return address expects ${f.paramTys[n]}`;
    }
  }
  if (call.dst?.ty !== f.ret) {
    return `the callee returns ${call.dst?.ty ?? 'nothing'}, the caller ${f.ret ?? 'nothing'}`;
  }
  return undefined;
}

/** The calls of f that emit.ts makes sibling tail calls (`jmp g`): every one siblingTailCallRefusal allows. */
export function siblingTailCalls(f: Fn): Set<CallInst> {
  const out = new Set<CallInst>();
  for (const b of f.blocks) {
    const last = b.insts[b.insts.length - 1]?.inst;
    if (last?.op === 'call' && siblingTailCallRefusal(f, b, last) === undefined) out.add(last);
  }
  return out;
}

/**
 * One argument's move into the caller's incoming slot `to` (0 is the first argument): `from` is the operand it is in
 * (a register, a constant, a memory operand), `incoming` the caller's argument slot it is, if it is one (it may be
 * overwritten by another move), `viaRegister` when `from` cannot be stored directly (memory to memory, an address).
 */
export interface ArgumentMove { to: number; from: string; incoming?: number; viaRegister: boolean }

/**
 * The instructions that write every move's value to its slot (`slot(n)` is the operand of incoming slot n), as a
 * parallel assignment: a slot is written only once no pending move still reads it, and a cycle of slots is broken
 * by loading one of them into a scratch register first. `free` are the scratch registers no argument is in. Gives
 * undefined when they do not suffice (the caller then keeps the call).
 */
export function planArgumentMoves(moves: readonly ArgumentMove[], free: readonly string[],
  slot: (n: number) => string): string[] | undefined {
  const pending = moves.filter(m => m.incoming !== m.to).map(m => ({ ...m }));
  const held = new Set<string>(); // scratch registers holding a pending move's value (a cycle broken)
  const out: string[] = [];
  const spare = (): string | undefined => free.find(r => !held.has(r));
  while (pending.length) {
    const ready = pending.findIndex(p => !pending.some(q => q !== p && q.incoming === p.to));
    if (ready >= 0) {
      const [p] = pending.splice(ready, 1);
      if (p.viaRegister) {
        const r = spare();
        if (!r) return undefined;
        out.push(`mov ${r}, ${p.from}`, `mov ${slot(p.to)}, ${r}`);
      } else {
        out.push(`mov ${slot(p.to)}, ${p.from}`);
        held.delete(p.from);
      }
      continue;
    }
    // Every pending slot is still read by another move: a cycle. Its first move's value goes to a register.
    const p = pending[0];
    const r = spare();
    if (!r) return undefined;
    out.push(`mov ${r}, ${p.from}`);
    held.add(r);
    Object.assign(p, { from: r, incoming: undefined, viaRegister: false });
  }
  return out;
}
