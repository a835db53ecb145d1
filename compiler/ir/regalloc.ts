// Register allocation by linear scan (Poletto and Sarkar, "Linear Scan Register Allocation", TOPLAS 1999): each
// virtual register's lifetime is one interval over the function's instructions in layout order (from its first to
// its last live point, through every block it is live in), the intervals are visited by start, and each takes a
// free register or, when none is free, the one among it and those holding registers with the least weight is spilled
// to a stack slot of the frame. A value's weight is its reads, each counted 8 times per loop around it (as Chaitin's
// spill costs weigh by nesting depth); loops are found from the layout, where lowering puts each loop's blocks between
// its head and the jump back.
//
// The registers handed out are the four the calling convention keeps across calls: ebx, esi, edi and ebp. A popc
// function that `saves` preserves them for its callers (its type says so through type variables, docs/popcorn.md
// §Compilation), and so do the imports (docs/tal.md §6): a value in one of them survives every call but a call to a
// function that does not save (a function value, pop_main, a function whose address is taken), across which its
// interval must be spilled. eax, ecx and edx are the emitter's scratch registers: each instruction's operands and
// results pass through them (divisions, shifts, byte stores, calls and the checks all want them), so the only values
// this scan puts in them (scratch.ts then moves spilled ones there where it is safe) are those made by one
// instruction for the very next one alone, in the scratch register that
// instruction reads its operand from before it touches another (`shortLived`: an element's index in ecx, its base in
// edx, an operand the next instruction moves first in eax). A parameter that is spilled stays in its argument slot.
//
// Choosing what to spill, a value scratch.ts can likely rescue costs less than its weight says: one made and dead
// within each trip around its loop (not live at a loop head) that no instruction wanting fixed scratch registers
// crosses (`usesFixedScratch`), such as a switch's value read by every compare of its decision tree (switch.ts), is
// weighed as if one loop further out, so a value live around the loop and across its calls keeps the register.
//
// Requires: liveness (liveness.ts). Gives: a location for every virtual register.

import { def, successors, termUses, uses, type Fn, type Inst, type Mem, type Term, type Val, type VReg } from './ir.ts';
import { liveBefore, type Liveness } from './liveness.ts';

export const ALLOCATABLE = ['ebx', 'esi', 'edi', 'ebp'] as const;
export type Reg = (typeof ALLOCATABLE)[number];
export type Scratch = 'eax' | 'ecx' | 'edx';

export type Location = { k: 'reg'; r: Reg | Scratch } | { k: 'spill'; slot: number } | { k: 'arg'; index: number };

export interface Allocation {
  loc: Map<VReg, Location>;
  /** Spill slots in the frame. */
  slots: number;
  /** The allocatable registers some value was given. */
  used: Set<Reg>;
  /** Whether the function calls something that does not keep ebx, esi, edi and ebp. */
  clobbering: boolean;
}

interface Interval {
  v: VReg; start: number; end: number; mustSpill: boolean; weight: number;
  /** Live across an instruction that wants fixed scratch registers: scratch.ts cannot move it into one. */
  crossesFixed: boolean;
}

/**
 * Whether an instruction uses fixed scratch registers: a call (cdecl clobbers eax, ecx, edx), an allocation, a
 * division (eax, edx, and ecx for the divisor), a comparison made a value (`set`: eax), a shift by a register (ecx).
 */
export function usesFixedScratch(i: Inst | Term): boolean {
  // A raise puts the exception in eax and its site through ecx (emit.ts).
  if (i.op === 'call' || i.op === 'alloc' || i.op === 'set' || i.op === 'raise') return true;
  if (i.op !== 'arith') return false;
  if (i.aop === '/' || i.aop === '%') return true;
  return (i.aop === '<<' || i.aop === '>>' || i.aop === '>>>') && i.b.k !== 'imm';
}

/** The values live at the head of a loop (the target of a jump back, in layout order): they live around it. */
function liveAroundLoops(f: Fn, lv: Liveness): Set<VReg> {
  const index = new Map(f.blocks.map((b, k) => [b, k]));
  const out = new Set<VReg>();
  f.blocks.forEach((b, k) => {
    for (const h of successors(b.term)) if (index.get(h)! <= k) for (const v of lv.liveIn.get(h)!) out.add(v);
  });
  return out;
}

/** Each block's loop depth: the number of back edges (a jump to a block at or before it) whose span covers it. */
export function loopDepths(f: Fn): number[] {
  const index = new Map(f.blocks.map((b, k) => [b, k]));
  const depth = f.blocks.map(() => 0);
  f.blocks.forEach((b, k) => {
    for (const s of successors(b.term)) {
      const h = index.get(s)!;
      if (h <= k) for (let j = h; j <= k; j++) depth[j]++;
    }
  });
  return depth;
}

/** The scratch register the next instruction can read `v` from, given the operand's place there (emit.ts). */
function roleOf(next: Inst | Term, v: VReg): Scratch | undefined {
  const is = (x: Val | undefined): boolean => x?.k === 'v' && x.v === v;
  const roles: (Scratch | 'none')[] = [];
  const mem = (m: Mem): void => {
    if (m.k === 'field' || m.k === 'len') { if (is(m.base)) roles.push('edx'); }
    else if (m.k === 'elem') { if (is(m.base)) roles.push('edx'); if (is(m.index)) roles.push('ecx'); }
  };
  switch (next.op) {
    case 'copy': if (is(next.src)) roles.push('eax'); break;
    case 'neg': case 'not': if (is(next.a)) roles.push('eax'); break;
    case 'arith': if (is(next.a)) roles.push('eax'); if (is(next.b)) roles.push('ecx'); break;
    case 'set': case 'br':
      if (is(next.a)) roles.push(next.b.k === 'addr' ? 'none' : 'edx');
      if (is(next.b)) roles.push('ecx');
      break;
    case 'load': mem(next.mem); break;
    case 'store': mem(next.mem); if (is(next.src)) roles.push('eax'); break;
    case 'call': {
      const n = next.args.filter(a => is(a.v)).length;
      if (n) roles.push(n === 1 ? 'eax' : 'none');
      if (next.callee.k === 'value' && is(next.callee.fn)) roles.push('none');
      break;
    }
    case 'ret': if (is(next.v)) roles.push('eax'); break;
    default: roles.push('none');
  }
  return roles.length === 1 && roles[0] !== 'none' ? roles[0] : undefined;
}

/**
 * The values made by one instruction and read only by the next (in the same block), each with the scratch register
 * that next instruction takes it from: they need no register of their own.
 */
function shortLived(f: Fn): Map<VReg, Scratch> {
  const defs = new Map<VReg, number>(), reads = new Map<VReg, number>();
  for (const b of f.blocks) {
    for (const { inst } of b.insts) {
      const d = def(inst);
      if (d) defs.set(d, (defs.get(d) ?? 0) + 1);
      for (const u of uses(inst)) reads.set(u, (reads.get(u) ?? 0) + 1);
    }
    for (const u of termUses(b.term)) reads.set(u, (reads.get(u) ?? 0) + 1);
  }
  const out = new Map<VReg, Scratch>();
  for (const b of f.blocks) {
    b.insts.forEach(({ inst }, k) => {
      const d = def(inst);
      if (!d || defs.get(d) !== 1 || reads.get(d) !== 1 || f.params.includes(d)) return;
      const next: Inst | Term = k + 1 < b.insts.length ? b.insts[k + 1].inst : b.term;
      const read = k + 1 < b.insts.length ? uses(b.insts[k + 1].inst) : termUses(b.term);
      if (!read.includes(d)) return;
      const r = roleOf(next, d);
      // A call's result that a branch alone reads is compared where the call leaves it (`test eax, eax`), not
      // copied to edx first: the branch's compare reads it before anything else touches eax (emit.ts).
      const leftInEax = r === 'edx' && inst.op === 'call' && next.op === 'br' && !next.variant;
      if (r) out.set(d, leftInEax ? 'eax' : r);
    });
  }
  return out;
}

export function allocate(f: Fn, lv: Liveness): Allocation {
  const short = shortLived(f);
  const iv = new Map<VReg, Interval>();
  const touch = (v: VReg, p: number): Interval => {
    let i = iv.get(v);
    if (!i) { i = { v, start: p, end: p, mustSpill: false, weight: 0, crossesFixed: false }; iv.set(v, i); }
    if (p < i.start) i.start = p;
    if (p > i.end) i.end = p;
    return i;
  };
  let pos = 0;
  let clobbering = false;
  for (const p of f.params) touch(p, 0);
  const depths = loopDepths(f);
  for (const [bi, b] of f.blocks.entries()) {
    const w = 8 ** Math.min(depths[bi], 6);
    const start = pos++;
    for (const v of lv.liveIn.get(b)!) touch(v, start);
    const after = lv.after.get(b)!;
    b.insts.forEach(({ inst }, k) => {
      const p = pos++;
      for (const u of uses(inst)) touch(u, p).weight += w;
      const d = def(inst);
      if (d) touch(d, p).weight += w;
      for (const v of after[k]) touch(v, p);
      if (usesFixedScratch(inst)) {
        const before = liveBefore(lv, b, k);
        for (const v of after[k]) if (v !== d && before.has(v)) touch(v, p).crossesFixed = true;
      }
      const callee = inst.op === 'call' ? inst.callee : undefined;
      if (callee && (callee.k === 'value' || (callee.k === 'fun' && !callee.saves))) {
        clobbering = true;
        for (const v of after[k]) if (v !== d) touch(v, p).mustSpill = true;
      }
    });
    const end = pos++;
    for (const u of termUses(b.term)) touch(u, end).weight += w;
    for (const v of lv.liveOut.get(b)!) touch(v, end);
  }
  const loc = new Map<VReg, Location>();
  let slots = 0;
  const spill = (i: Interval): void => {
    const pi = f.params.indexOf(i.v);
    loc.set(i.v, pi >= 0 ? { k: 'arg', index: pi } : { k: 'spill', slot: slots++ });
  };
  const aroundLoops = liveAroundLoops(f, lv);
  const order = [...iv.values()].sort((a, b) => a.start - b.start || a.v.id - b.v.id);
  const active: Interval[] = [];
  const free: Reg[] = [...ALLOCATABLE];
  const used = new Set<Reg>();
  for (const cur of order) {
    const scratch = short.get(cur.v);
    if (scratch) { loc.set(cur.v, { k: 'reg', r: scratch }); continue; }
    for (let k = active.length - 1; k >= 0; k--) {
      if (active[k].end < cur.start) {
        free.push((loc.get(active[k].v) as { r: Reg }).r);
        active.splice(k, 1);
      }
    }
    if (cur.mustSpill) { spill(cur); continue; }
    if (free.length) {
      const r = free.shift()!;
      loc.set(cur.v, { k: 'reg', r });
      used.add(r);
      active.push(cur);
      continue;
    }
    // Spill the lightest (the current one if it is), a value scratch.ts may rescue weighed one loop further out.
    const cost = (i: Interval): number => (i.crossesFixed || aroundLoops.has(i.v) ? i.weight : i.weight / 8);
    let victim = active[0];
    for (const a of active) if (cost(a) < cost(victim)) victim = a;
    if (cost(victim) < cost(cur)) {
      const r = (loc.get(victim.v) as { r: Reg }).r;
      spill(victim);
      active.splice(active.indexOf(victim), 1);
      loc.set(cur.v, { k: 'reg', r });
      active.push(cur);
    } else spill(cur);
  }
  return { loc, slots, used, clobbering };
}
