// Dead-code elimination: an instruction whose result nothing reads, and that has no other effect, is dropped, until
// none is left (a dropped instruction may leave its operands' definitions dead in turn). Effects that keep an
// instruction: a store, a call, and a check that can fail (an element access's bounds, a nullable field's null test,
// a division's zero test): removing a failing check would change what the program prints.
//
// Requires: a Fn whose blocks are all reachable (cfg.ts). Gives: no instruction computing an unused value.

import { def, type Fn, type Inst } from './ir.ts';
import { liveness } from './liveness.ts';

function removable(i: Inst): boolean {
  switch (i.op) {
    case 'copy': case 'neg': case 'not': case 'set': case 'alloc': return true;
    case 'arith': return (i.aop !== '/' && i.aop !== '%') || (i.b.k === 'imm' && i.b.n !== 0);
    case 'load':
      return i.mem.k === 'global' || i.mem.k === 'len' || (i.mem.k === 'field' && !i.mem.nullCheck && !i.mem.variant);
    case 'store': case 'call': return false;
  }
}

export function eliminateDeadCode(f: Fn): void {
  for (;;) {
    const lv = liveness(f);
    let changed = false;
    for (const b of f.blocks) {
      const after = lv.after.get(b)!;
      const keep = b.insts.filter((line, k) => {
        const d = def(line.inst);
        const dead = d !== undefined && !after[k].has(d) && removable(line.inst);
        // A copy of a register to itself does nothing either.
        const self = line.inst.op === 'copy' && line.inst.src.k === 'v' && line.inst.src.v === line.inst.dst;
        return !(dead || self);
      });
      if (keep.length !== b.insts.length) { b.insts = keep; changed = true; }
    }
    if (!changed) return;
  }
}
