// The three caller-saved registers for values: after linear scan (regalloc.ts) has placed what it can in ebx, esi,
// edi and ebp, values it spilled move into eax, ecx or edx where nothing needs that register while they live there
// (as gcc uses all seven general registers and keeps values in the caller-saved ones between calls). The emitter
// takes its operand and result registers from whichever of the three no live value holds (emit.ts), so a value may
// sit in one wherever every instruction it lives across leaves the emitter enough of them. What this pass demands:
//
// - No instruction that uses a fixed scratch register is crossed: a call (cdecl clobbers all three), an allocation,
//   a division (eax, edx, and ecx for the divisor), a comparison made a value (`set`: eax), a shift by a register
//   (ecx). A value may be made by one of these (it is written last) and may be a call's argument (pushed first), as
//   long as it is not live across it.
// - At every other instruction, the registers the live values hold plus the most scratch registers the instruction
//   can want with these placements (a spilled base, a spilled or constant index, a spilled source or result: `need`
//   below) is at most three.
// - No two values share a register where both live (the short-lived values regalloc.ts put in scratch registers
//   count as live at their definition and their one use).
//
// Values are tried by weight (loop-weighted uses, as in regalloc.ts: the values whose spills cost most first), each
// in eax, ecx, edx in turn. Liveness here is exact (per instruction, not an interval), so a value can take a register
// across code where it is dead and something else uses it.
//
// Then, in a function that saves, each callee-saved register whose values can all move there under the same rules,
// and none of which is a checked pointer or index, is emptied (`emptyCalleeSaved`): linear scan hands out ebx, esi,
// edi and ebp to every value, but only a value that lives across a call needs one, and each register a function
// uses costs a push and a pop on every call.
//
// Requires: an allocation (regalloc.ts) and liveness. Gives: the same allocation with spilled values moved into
// scratch registers where this is safe, `used` naming only the callee-saved registers still holding a value, and
// `slots` counting only the spill slots still used.

import { def, termUses, uses, type Fn, type Inst, type Term, type Val, type VReg } from './ir.ts';
import { liveBefore, type Liveness } from './liveness.ts';
import { loopDepths, usesFixedScratch, type Allocation, type Reg, type Scratch } from './regalloc.ts';

const SCRATCH: readonly Scratch[] = ['eax', 'ecx', 'edx'];
/** Registers without a byte form: a byte stored from one of them goes through a scratch register. */
const NO_BYTE_FORM = new Set(['esi', 'edi', 'ebp']);

interface Point {
  /** The instruction or terminator at this point. */
  what: Inst | Term;
  /** The values whose register is in use at this point: live before or after it, or written by it. */
  present: Set<VReg>;
  /** Values live both before and after (crossing it). */
  across: Set<VReg>;
  /** Whether the instruction uses fixed scratch registers (calls, divisions, set, shifts by a register). */
  fixed: boolean;
  weight: number;
}

export function assignScratch(f: Fn, lv: Liveness, ra: Allocation): void {
  const points: Point[] = [];
  const depths = loopDepths(f);
  f.blocks.forEach((b, bi) => {
    const weight = 8 ** Math.min(depths[bi], 6);
    b.insts.forEach(({ inst }, k) => {
      const before = liveBefore(lv, b, k), after = lv.after.get(b)![k];
      const present = new Set([...before, ...after]);
      const d = def(inst);
      if (d) present.add(d);
      const across = new Set([...before].filter(v => after.has(v) && v !== d));
      points.push({ what: inst, present, across, fixed: usesFixedScratch(inst), weight });
    });
    const out = lv.liveOut.get(b)!;
    const present = new Set([...out, ...termUses(b.term)]);
    points.push({ what: b.term, present, across: new Set(out), fixed: usesFixedScratch(b.term), weight });
  });
  const isSpilled = (x: Val): boolean => x.k === 'v' && ra.loc.get(x.v)?.k !== 'reg';
  const inNoByteReg = (x: Val): boolean => {
    if (x.k !== 'v') return false;
    const l = ra.loc.get(x.v);
    return l?.k === 'reg' && NO_BYTE_FORM.has(l.r);
  };
  /** The most scratch registers the emitter may take for this instruction with the current placements. */
  const need = (i: Inst | Term): number => {
    const base = (m: { k: string; base?: Val }): number => (m.base && isSpilled(m.base) ? 1 : 0);
    switch (i.op) {
      case 'copy': return isSpilled(i.src) && isSpilled({ k: 'v', v: i.dst }) ? 1 : 0;
      case 'neg': case 'not': return isSpilled({ k: 'v', v: i.dst }) ? 1 : 0;
      case 'arith': {
        if (isSpilled({ k: 'v', v: i.dst })) return 1;
        // dst's register holding the right operand: a - b is made in a scratch register.
        const same = i.b.k === 'v' && JSON.stringify(ra.loc.get(i.b.v)) === JSON.stringify(ra.loc.get(i.dst));
        return same ? 1 : 0;
      }
      case 'load': {
        const m = i.mem;
        const index = m.k === 'elem' && (m.index.k !== 'v' || isSpilled(m.index)) ? 1 : 0;
        return base(m) + index + (isSpilled({ k: 'v', v: i.dst }) ? 1 : 0);
      }
      case 'store': {
        const m = i.mem;
        const index = m.k === 'elem' && (m.index.k !== 'v' || isSpilled(m.index)) ? 1 : 0;
        const src = isSpilled(i.src) || i.src.k === 'addr' || (m.k === 'elem' && m.bytes && inNoByteReg(i.src));
        return base(m) + index + (src ? 1 : 0);
      }
      case 'br': {
        // An address is loaded into a register; so is one operand when either is in memory (both, or a zero test
        // of one, or the other side of a load compared in place).
        const addresses = (i.a.k === 'addr' ? 1 : 0) + (i.b.k === 'addr' ? 1 : 0);
        return addresses + (isSpilled(i.a) || isSpilled(i.b) ? 1 : 0);
      }
      default: return 0;
    }
  };
  const holder = (v: VReg): Scratch | undefined => {
    const l = ra.loc.get(v);
    return l?.k === 'reg' && (SCRATCH as readonly string[]).includes(l.r) ? (l.r as Scratch) : undefined;
  };
  const held = (p: Point): Set<Scratch> => {
    const s = new Set<Scratch>();
    for (const v of p.present) { const r = holder(v); if (r) s.add(r); }
    return s;
  };
  // Candidates: the values linear scan spilled, heaviest first.
  const weight = new Map<VReg, number>();
  const where = new Map<VReg, number[]>();
  points.forEach((p, n) => {
    for (const v of p.present) {
      if (ra.loc.get(v)?.k === 'reg') continue;
      if (!where.has(v)) where.set(v, []);
      where.get(v)!.push(n);
    }
    const reads = p.what.op === 'br' || p.what.op === 'ret' || p.what.op === 'jmp'
      || p.what.op === 'unreachable' || p.what.op === 'raise' ? termUses(p.what) : uses(p.what);
    for (const v of reads) weight.set(v, (weight.get(v) ?? 0) + p.weight);
  });
  const candidates = [...where.keys()].sort((a, b) => (weight.get(b) ?? 0) - (weight.get(a) ?? 0) || a.id - b.id);
  /** Moves v into a free scratch register where the rules above allow it; whether it did. */
  const place = (v: VReg, at: number[]): boolean => {
    // Not across a fixed-register instruction (made by one, or an argument of a call, is fine).
    const crossesFixed = at.some(n => {
      const p = points[n];
      if (!p.fixed) return false;
      if (p.across.has(v)) return true;
      const i = p.what as Inst;
      const madeHere = def(i) === v && !uses(i).includes(v);
      const argHere = i.op === 'call' && i.args.some(a => a.v.k === 'v' && a.v.v === v);
      return !(madeHere || argHere);
    });
    if (crossesFixed) return false;
    const original = ra.loc.get(v)!;
    for (const r of SCRATCH) {
      if (at.some(n => held(points[n]).has(r))) continue;
      ra.loc.set(v, { k: 'reg', r });
      // Placed: every point must still leave the emitter what it may need.
      const fits = at.every(n => points[n].fixed || held(points[n]).size + need(points[n].what) <= 3);
      if (fits) return true;
      ra.loc.set(v, original);
    }
    return false;
  };
  for (const v of candidates) place(v, where.get(v)!);
  if (f.saves && !ra.clobbering) emptyCalleeSaved(points, ra, place, checked(f));
  compactSlots(f, ra);
}

/**
 * A callee-saved register whose values all fit in scratch registers under the same rules (none lives across a call)
 * is emptied: a function that saves pushes and pops only the registers it uses (emit.ts), so each one emptied is a
 * push and a pop fewer on every call, as gcc keeps a leaf's values in eax, ecx and edx and saves nothing. Registers
 * are tried by the weight of what they hold, lightest first (the cheapest to move); a register is emptied wholly or
 * not at all, its values put back if one does not fit.
 */
function emptyCalleeSaved(points: Point[], ra: Allocation, place: (v: VReg, at: number[]) => boolean,
  checked: Set<VReg>): void {
  const holding = new Map<Reg, Map<VReg, number[]>>();
  const weight = new Map<Reg, number>();
  points.forEach((p, n) => {
    for (const v of p.present) {
      const l = ra.loc.get(v);
      if (l?.k !== 'reg' || !ra.used.has(l.r as Reg)) continue;
      const r = l.r as Reg;
      if (!holding.has(r)) holding.set(r, new Map());
      const at = holding.get(r)!;
      if (!at.has(v)) at.set(v, []);
      at.get(v)!.push(n);
      weight.set(r, (weight.get(r) ?? 0) + p.weight);
    }
  });
  // A register holding a checked pointer or index stays: the emitter keeps the checker's facts (a pointer tested
  // non-null, an index in bounds) about ebx, esi, edi and ebp only, so a second access would repeat its check.
  const order = [...holding.keys()].filter(r => ![...holding.get(r)!.keys()].some(v => checked.has(v)))
    .sort((a, b) => weight.get(a)! - weight.get(b)!);
  for (const r of order) {
    const values = [...holding.get(r)!];
    const moved: VReg[] = [];
    for (const [v, at] of values) {
      if (!place(v, at)) break;
      moved.push(v);
    }
    if (moved.length === values.length) ra.used.delete(r);
    else for (const v of moved) ra.loc.set(v, { k: 'reg', r });
  }
}

/** The values some access checks: a nullable field's pointer, an element's array and index. */
function checked(f: Fn): Set<VReg> {
  const out = new Set<VReg>();
  const add = (x: Val): void => { if (x.k === 'v') out.add(x.v); };
  for (const b of f.blocks) {
    for (const { inst } of b.insts) {
      const m = inst.op === 'load' || inst.op === 'store' ? inst.mem : undefined;
      if (m?.k === 'field' && (m.nullCheck || m.variant)) add(m.base);
      if (m?.k === 'elem') { add(m.base); add(m.index); }
    }
  }
  return out;
}

/** Spill slots renumbered over the values still spilled, so the frame holds no slot nobody uses. */
function compactSlots(f: Fn, ra: Allocation): void {
  const renumber = new Map<number, number>();
  for (const v of f.vregs) {
    const l = ra.loc.get(v);
    if (l?.k !== 'spill') continue;
    if (!renumber.has(l.slot)) renumber.set(l.slot, renumber.size);
    ra.loc.set(v, { k: 'spill', slot: renumber.get(l.slot)! });
  }
  ra.slots = renumber.size;
}
