// Common subexpressions and reused loads within each extended basic block (local value numbering, Cooper and Torczon,
// "Engineering a Compiler", §8.4.1, over the superlocal scope of §8.5.1): an operation whose operands and operator a
// register already computed on every path here, and that nothing has invalidated since, becomes a copy of that
// register. Loads count as such operations while nothing can
// have changed the memory they read, which TAL's types make easy to tell: an element store cannot change a field or a
// length, a field store changes only fields of its index, lengths never change, a call may change every field,
// element and global (not a length). A load whose check passed once passes again on the same operands, so the check
// goes with the load it replaces.
//
// Requires: a Fn (after fold.ts, so operands are in their simplest form). Gives: no operation computed twice in a
// block while its inputs stand (dce.ts then drops what the copies left unread).

import { successors, type Block, type Fn, type Inst, type Val, type VReg } from './ir.ts';

const COMMUTATIVE = new Set(['+', '*', '&', '|', '^']);

function valKey(x: Val): string {
  return x.k === 'v' ? `v${x.v.id}` : x.k === 'imm' ? `i${x.n}` : `a${x.label}`;
}

/** What an instruction computes, as a key (equal keys, equal values), or undefined for what is not a pure value. */
function keyOf(i: Inst): string | undefined {
  switch (i.op) {
    case 'arith': {
      let a = valKey(i.a), b = valKey(i.b);
      if (COMMUTATIVE.has(i.aop) && a > b) [a, b] = [b, a];
      return `${i.aop}${i.unsigned ? 'u' : ''} ${a} ${b}`;
    }
    case 'neg': case 'not': return `${i.op} ${valKey(i.a)}`;
    case 'set': return `set${i.cc} ${valKey(i.a)} ${valKey(i.b)}`;
    case 'load': {
      const m = i.mem;
      if (m.k === 'global') return `global ${m.label}`;
      if (m.k === 'len') return `len ${valKey(m.base)}`;
      // A variant's field is read-only, and only the variant tested may supply it.
      if (m.k === 'field') return `field${m.index}${m.variant ? `#${m.variant.tag}` : ''} ${valKey(m.base)}`;
      return `elem${m.bytes ? 'b' : 'w'} ${valKey(m.base)} ${valKey(m.index)}`;
    }
    default: return undefined;
  }
}

/**
 * Over extended basic blocks (Cooper and Torczon, §8.5.1, "superlocal value numbering"): a block with one predecessor
 * starts with what its predecessor's table held at its end, since every path into it ran that block first (a load
 * whose check passed there passes here). Each path down the tree of such blocks has its own copy of the table.
 */
export function eliminateCommonSubexpressions(f: Fn): void {
  const preds = new Map<Block, number>();
  for (const b of f.blocks) for (const s of successors(b.term)) preds.set(s, (preds.get(s) ?? 0) + 1);
  const entry = f.blocks[0];
  const visit = (b: Block, table: Map<string, VReg>): void => {
    valueNumber(b, table);
    for (const s of new Set(successors(b.term))) {
      if (s !== entry && s !== b && preds.get(s) === 1) visit(s, new Map(table));
    }
  };
  for (const b of f.blocks) if (b === entry || preds.get(b) !== 1) visit(b, new Map());
}

function valueNumber(b: Block, table: Map<string, VReg>): void {
  {
    const kill = (pred: (key: string, holder: VReg) => boolean): void => {
      for (const [k, v] of table) if (pred(k, v)) table.delete(k);
    };
    b.insts = b.insts.map(line => {
      const i = line.inst;
      const key = keyOf(i);
      let out: Inst = i;
      if (key !== undefined && i.op !== 'store' && i.op !== 'call' && i.op !== 'alloc' && i.op !== 'copy') {
        const held = table.get(key);
        if (held && held !== i.dst) out = { op: 'copy', dst: i.dst, src: { k: 'v', v: held } };
      }
      // What this instruction invalidates: memory it writes, then every entry mentioning the register it writes.
      if (i.op === 'store') {
        const m = i.mem;
        if (m.k === 'global') table.delete(`global ${m.label}`);
        else if (m.k === 'field') kill(k => k.startsWith(`field${m.index} `));
        else if (m.k === 'elem') kill(k => k.startsWith(`elem${m.bytes ? 'b' : 'w'} `));
      }
      if (i.op === 'call') kill(k => k.startsWith('global ') || k.startsWith('field') || k.startsWith('elem'));
      const d = i.op === 'store' ? undefined : i.dst;
      if (d) {
        const name = `v${d.id}`;
        kill((k, holder) => holder === d || k.split(' ').includes(name));
        // The register now holds this value (unless the value read the register itself: x = x + 1).
        if (key !== undefined && out === i && !key.split(' ').includes(name)) table.set(key, d);
      }
      return { ...line, inst: out };
    });
  }
}
