// Emission: an allocated IR function to annotated TAL assembly (talas syntax, docs/tal.md §5). Not trusted: the
// checker verifies what comes out, so every choice here is about code the checker can follow.
//
// The frame, from esp up: the spill slots, the callee-saved registers the function uses (pushed at entry, typed
// by the function's own type variables s_ebx … s_ebp), the return address, in a function that may raise its second
// return address (docs/popcorn.md "Exceptions"), the arguments. Every label's annotation
// is that frame with the types of the values live into the block (liveness.ts), the registers holding live values,
// and in a function that saves, the callee-saved registers it never touches as their variables. Only arguments are
// pushed (cdecl): no temporary ever is. A check sits right before its access on the same registers (cmp/jae before
// an element, test/je before a nullable field, test/je before a division) and jumps to the site's stub, as in
// codegen.ts (docs/popcorn.md §Run-time checks).

import { def, termUses, type Block, type Callee, type Cond, type Fn, type Inst, type Mem, type Site, type Val,
  type VReg } from './ir.ts';
import { liveBefore, type Liveness } from './liveness.ts';
import { ALLOCATABLE, type Allocation, type Reg, type Scratch } from './regalloc.ts';
import { negateCond, swapCond } from './lower.ts';
import { EXN_TYPE } from '../codegen.ts';
import { planArgumentMoves, type CallInst } from './tailsib.ts';

/** The module-level services emission uses: messages, the shared failure routines, imports and fresh labels. */
export interface EmitContext {
  /** The label of a read-only message (`*rbytes`), one per distinct text. */
  message(text: string): string;
  /** A shared routine's label, marked as used (`fail`, `failBounds`, `die`), or the word a raise writes its site to. */
  routine(which: 'fail' | 'failBounds' | 'die' | 'raiseSite'): string;
  useImport(name: string): void;
  newLabel(hint: string): string;
  /** The exit status of a program stopped by an uncaught exception (UnionVariant's stubs). */
  uncaughtStatus: number;
}

const SCRATCH: readonly Scratch[] = ['eax', 'ecx', 'edx'];
const BYTE_REG: Partial<Record<string, string>> = { eax: 'al', ebx: 'bl', ecx: 'cl', edx: 'dl' };
const SAVED_VAR: Record<Reg, string> = { ebx: 's_ebx', esi: 's_esi', edi: 's_edi', ebp: 's_ebp' };

type Signature = Pick<Fn, 'tparams' | 'paramTys' | 'ret' | 'saves' | 'raises'>;

/**
 * The TAL type of a function: cdecl, and when it saves, ebx, esi, edi and ebp given back through type variables;
 * when it raises, a second return address under the first (docs/popcorn.md "Exceptions").
 */
export function functionType(f: Signature): string {
  return `code[${binders(f).join(', ')}]{${keptRegs(f)}esp: ${returnType(f)} :: ${belowReturn(f)}}`;
}

function binders(f: Pick<Fn, 'tparams' | 'saves'>): string[] {
  return [...f.tparams, 'r:stack', ...(f.saves ? ALLOCATABLE.map(r => SAVED_VAR[r]) : [])];
}

function keptRegs(f: Pick<Fn, 'saves'>): string {
  return f.saves ? ALLOCATABLE.map(r => `${r}: ${SAVED_VAR[r]}, `).join('') : '';
}

function stackOfArgs(f: Pick<Fn, 'paramTys'>): string {
  return [...f.paramTys, 'r'].join(' :: ');
}

/** What lies under the return address: the arguments, and in a function that raises its second return address. */
function belowReturn(f: Pick<Fn, 'paramTys' | 'saves' | 'raises'>): string {
  return f.raises ? `${exceptionReturnType(f)} :: ${stackOfArgs(f)}` : stackOfArgs(f);
}

/** A normal return leaves the second return address (if any) on the stack, for the caller to drop. */
function returnType(f: Pick<Fn, 'paramTys' | 'ret' | 'saves' | 'raises'>): string {
  return `code{${f.ret ? `eax: ${f.ret}, ` : ''}${keptRegs(f)}esp: ${belowReturn(f)}}`;
}

/**
 * Where a function that raises returns with the exception in eax, its arguments still on the stack: ebx, esi, edi
 * and ebp given back as on the normal return, so that a handler of the caller finds its values there.
 */
function exceptionReturnType(f: Pick<Fn, 'paramTys' | 'saves'>): string {
  return `code{eax: ${EXN_TYPE}, ${keptRegs(f)}esp: ${stackOfArgs(f)}}`;
}

/** `tails`: the calls to emit as jumps to their callee (tailsib.ts's siblingTailCalls). */
export function emitFunction(f: Fn, lv: Liveness, ra: Allocation, cx: EmitContext,
  tails: ReadonlySet<CallInst> = new Set()): string[] {
  return new Emitter(f, lv, ra, cx, tails).lines;
}

class Emitter {
  readonly lines: string[] = [];
  /** The registers the prologue pushes, in push order. */
  private readonly saved: Reg[];
  /** Words pushed above the frame (arguments being pushed for a call). */
  private depth = 0;
  private readonly labels = new Map<Block, string>();
  private readonly stubs = new Map<string, { label: string; lines: string[] }>();
  private loc: string | undefined;
  private line = 0;
  private lastWasLabel = false;
  /**
   * Pointer-typed values set to a constant since the last label (null, a union's nullary variant): the checker knows
   * their register or slot as S(n), which neither a null test nor a union's tag test turns into a pointer, so a
   * field access or a tag test through one first passes a label (where the value has its declared type). Blocks
   * merged by merge.ts may put such a constant and its test in one block.
   */
  private readonly zeroed = new Set<VReg>();
  /**
   * What the checker knows here about the allocatable registers (docs/tal.md §4.4): `idx|arr` pairs whose bounds
   * check (`cmp idx, [arr]` / `jae`) is in force, and pointers a null test has shown non-null. The checker keeps such
   * a fact from the check until either register is written, and drops every fact at a label and at a call (its state
   * is entered afresh from the annotation or the return type), so a second check of the same registers before then
   * is one it already sees as redundant, and is left out. Scratch registers (eax, ecx, edx) are written all the
   * time, so no fact about them is kept.
   */
  private readonly inBounds = new Set<string>();
  private readonly nonNull = new Set<string>();
  /**
   * A length, global or unchecked field loaded for the comparison that ends its block alone: the comparison reads
   * the memory operand itself (`cmp esi, DWORD PTR [ebx]`) instead of a scratch register loaded with it.
   */
  private readonly folded = new Map<VReg, string>();
  /**
   * The scratch registers (eax, ecx, edx) values hold around the instruction being emitted (scratch.ts places values
   * there), and those the instruction has taken for its operands so far: an operand or a result goes in another one.
   */
  private busy = new Set<string>();
  private readonly taken = new Set<string>();
  /** The block's last call was emitted as a jump to its callee: its `ret` is not emitted. */
  private jumpedOut = false;

  constructor(private readonly f: Fn, private readonly lv: Liveness, private readonly ra: Allocation,
    private readonly cx: EmitContext, private readonly tails: ReadonlySet<CallInst>) {
    this.saved = f.saves ? ALLOCATABLE.filter(r => ra.used.has(r) || ra.clobbering) : [];
    const generic = f.tparams.length > 0;
    // A block needs a label when something jumps to it, and both sides of a branch get one: a label gives the
    // registers their declared types, and a null pointer tested non-null must be seen as its pointer type again
    // (the checker keeps a constant 0 as S(0), which no test turns into a pointer). A block entered only by falling
    // in from a jump's place needs none.
    const targets = new Set<Block>();
    f.blocks.forEach((b, k) => {
      const next = f.blocks[k + 1];
      if (b.term.op === 'jmp' && (b.term.to !== next || generic)) targets.add(b.term.to);
      if (b.term.op === 'br') { targets.add(b.term.yes); targets.add(b.term.no); }
      // A union's tag test starts at a label, where the union has its declared type: a nullary variant just stored
      // is known to the checker as its integer, which no tag test turns into a pointer (lower.ts makes such blocks).
      const tagTest = (b.term.op === 'br' && b.term.variant)
        || b.insts.some(({ inst: i }) => i.op === 'load' && i.mem.k === 'field' && i.mem.variant);
      if (tagTest && k > 0) targets.add(b);
      // A handler is jumped to from its body's raises and from the landing code after its raising calls.
      if (b.handler) targets.add(b.handler.block);
    });
    for (const b of targets) this.labels.set(b, cx.newLabel('b'));
    this.prologue();
    f.blocks.forEach((b, k) => this.block(b, f.blocks[k + 1]));
    if (this.loc !== undefined) this.lines.push('    .tal_loc');
    for (const s of this.stubs.values()) this.lines.push(...s.lines);
  }

  private get generic(): boolean { return this.f.tparams.length > 0; }

  // ---- text

  private emit(...ins: string[]): void {
    const want = `.tal_loc ${JSON.stringify(this.f.file)} ${this.line}`;
    if (want !== this.loc && ins.length) { this.loc = want; this.lines.push(`    ${want}`); }
    for (const i of ins) this.lines.push(`    ${i}`);
    if (ins.length) this.lastWasLabel = false;
  }

  /** Place label `name`: `live` in their registers and slots; `esp` for a stack other than the frame itself. */
  private label(name: string, regs: Record<string, string>, live: Iterable<VReg>, esp?: string): void {
    if (this.lastWasLabel) this.emit('nop'); // two labels may not share an address
    this.forgetFacts();
    const all: Record<string, string> = {};
    if (this.f.saves) for (const r of ALLOCATABLE) if (!this.saved.includes(r)) all[r] = SAVED_VAR[r];
    for (const v of live) {
      const l = this.ra.loc.get(v)!;
      if (l.k === 'reg') all[l.r] = v.ty;
    }
    Object.assign(all, regs);
    const r = Object.entries(all).map(([k, t]) => `${k}: ${t}, `).join('');
    const type = `code[${binders(this.f).join(', ')}]{${r}esp: ${esp ?? this.stack(live)}}`;
    this.lines.push(`.tal_label ${name} : ${type}`, `${name}:`);
    this.lastWasLabel = true;
    this.zeroed.clear();
  }

  /** The frame's type (below any pushed arguments), with the spilled values of `live` in their slots. */
  private stack(live: Iterable<VReg>): string {
    const slots: string[] = new Array<string>(this.ra.slots).fill('top');
    for (const v of live) { const l = this.ra.loc.get(v)!; if (l.k === 'spill') slots[l.slot] = v.ty; }
    const saved = [...this.saved].reverse().map(r => SAVED_VAR[r]);
    return [...slots, ...saved, returnType(this.f), belowReturn(this.f)].join(' :: ');
  }

  /** The function's own type variables, as the instantiation of a jump inside it. */
  private instArgs(): string {
    return [...this.f.tparams, 'r', ...(this.f.saves ? ALLOCATABLE.map(r => SAVED_VAR[r]) : [])].join(', ');
  }

  private jump(op: string, b: Block): void {
    if (this.generic) this.emit(`.tal_inst ${this.instArgs()}`);
    this.emit(`${op} ${this.labels.get(b)!}`);
  }

  // ---- facts the checker holds

  private forgetFacts(): void {
    this.inBounds.clear();
    this.nonNull.clear();
  }

  /** Register r is written: the checker drops every fact that mentions it. */
  private forgetRegister(r: string): void {
    this.nonNull.delete(r);
    for (const k of this.inBounds) if (k.split('|').includes(r)) this.inBounds.delete(k);
  }

  /** Whether r is one of the registers facts are kept about (one no instruction uses as scratch). */
  private isKept(r: string): boolean { return (ALLOCATABLE as readonly string[]).includes(r); }

  // ---- operands

  /** Where a value is, as an operand: a register, a stack slot, a constant or a label's address. */
  private op(x: Val): string {
    if (x.k === 'imm') return String(x.n);
    if (x.k === 'addr') return `OFFSET ${x.label}`;
    const l = this.ra.loc.get(x.v)!;
    if (l.k === 'reg') return l.r;
    const word = l.k === 'spill' ? l.slot : this.argumentWord(l.index);
    return `DWORD PTR [esp+${4 * (this.depth + word)}]`;
  }

  /** Argument i's word in the frame: above the slots, the saved registers and the return address (or two). */
  private argumentWord(i: number): number {
    return this.ra.slots + this.saved.length + (this.f.raises ? 2 : 1) + i;
  }

  private inReg(x: Val): boolean { return x.k === 'v' && this.ra.loc.get(x.v)!.k === 'reg'; }
  private isMem(x: Val): boolean { return x.k === 'v' && this.ra.loc.get(x.v)!.k !== 'reg'; }

  /** The value in a register: its own, or a scratch register (`scratch` if it is free) loaded with it. */
  private reg(x: Val, scratch: Scratch): string {
    if (this.inReg(x)) return this.op(x);
    const r = this.take(scratch);
    this.move(r, x);
    return r;
  }

  /** The scratch registers no value holds here, from the instruction's live values. */
  private around(live: Iterable<VReg>): void {
    this.busy = new Set<string>();
    this.taken.clear();
    for (const v of live) {
      const l = this.ra.loc.get(v);
      if (l?.k === 'reg' && !this.isKept(l.r)) this.busy.add(l.r);
    }
  }

  /** A free scratch register, `prefer` when it is (scratch.ts leaves each instruction as many as it may want). */
  private pick(prefer: Scratch): Scratch {
    const r = [prefer, ...SCRATCH].find(x => !this.busy.has(x) && !this.taken.has(x));
    if (!r) throw new Error(`popc -O: no scratch register free in ${this.f.name} (scratch.ts let too many values in)`);
    return r;
  }

  private take(prefer: Scratch): Scratch {
    const r = this.pick(prefer);
    this.taken.add(r);
    return r;
  }

  private move(dst: string, x: Val): void {
    if (x.k === 'imm' && x.n === 0 && !dst.includes('[')) this.emit(`xor ${dst}, ${dst}`);
    else if (dst !== this.op(x)) this.emit(`mov ${dst}, ${this.op(x)}`);
  }

  /** The register a result is computed in: dst's own, or a free scratch register, eax if it is (then stored). */
  private resultReg(d: VReg): string {
    const l = this.ra.loc.get(d)!;
    return l.k === 'reg' ? l.r : this.pick('eax');
  }

  private finish(d: VReg, r: string): void {
    const o = this.op({ k: 'v', v: d });
    if (o !== r) this.emit(`mov ${o}, ${r}`);
  }

  // ---- blocks

  private prologue(): void {
    const f = this.f;
    this.lines.push('', `.tal_label ${f.label} : ${functionType(f)}`, `${f.label}:`);
    this.lastWasLabel = true;
    this.line = f.blocks[0].insts[0]?.line ?? f.blocks[0].termLine;
    for (const r of this.saved) this.emit(`push ${r}`);
    for (let i = 0; i < this.ra.slots; i++) this.emit('push 0');
    const entry = this.lv.liveIn.get(f.blocks[0])!;
    f.params.forEach((p, i) => {
      const l = this.ra.loc.get(p);
      if (l?.k === 'reg' && entry.has(p)) {
        this.emit(`mov ${l.r}, DWORD PTR [esp+${4 * this.argumentWord(i)}]`);
      }
    });
    if (this.labels.has(f.blocks[0]) && this.generic) this.jump('jmp', f.blocks[0]);
  }

  private block(b: Block, next: Block | undefined): void {
    const name = this.labels.get(b);
    if (name) this.label(name, {}, this.lv.liveIn.get(b)!);
    this.folded.clear();
    const t = b.term;
    let updated = -1;
    b.insts.forEach(({ inst, line }, k) => {
      if (updated >= 0 && k <= updated + 2) return; // the operation and the store of an update made in place
      this.line = line;
      if (this.updatedInPlace(b, k)) { updated = k; return; }
      const inPlace = k === b.insts.length - 1 && !this.lv.liveOut.get(b)!.has(def(inst)!) ? this.foldedLoad(inst, t)
        : undefined;
      if (inPlace && (inst.op === 'load' || inst.op === 'arith')) this.folded.set(inst.dst, inPlace);
      else this.inst(inst, b, k);
    });
    if (this.jumpedOut) { this.jumpedOut = false; return; } // a sibling tail call: the callee returns for us
    this.line = b.termLine;
    if (t.op === 'br' && t.variant && t.a.k === 'v' && this.zeroed.has(t.a.v)) this.widen(b, b.insts.length);
    this.around([...this.lv.liveOut.get(b)!, ...termUses(t)]);
    const falls = (x: Block): boolean => x === next && !this.generic;
    switch (t.op) {
      case 'jmp': if (!falls(t.to)) this.jump('jmp', t.to); return;
      case 'br': {
        let cc = t.cc;
        if (t.variant) {
          // Past the nullary variants (integers), the tag word of the tuple (docs/tal.md §4.9).
          const r = this.reg(t.a, 'edx');
          if (t.variant.below > 0) { this.emit(`cmp ${r}, ${t.variant.below}`); this.jump('jb', t.no); }
          this.emit(`cmp DWORD PTR [${r}], ${this.op(t.b)}`);
        } else cc = this.compare(t.cc, t.a, t.b);
        if (falls(t.yes)) this.jump(`j${negateCond(cc)}`, t.no);
        else if (t.no === b) {
          // A block that loops to itself (tailacc.ts's loops): the back edge is the taken branch, the exit the jmp.
          this.jump(`j${negateCond(cc)}`, t.no);
          this.jump('jmp', t.yes);
        } else {
          this.jump(`j${cc}`, t.yes);
          if (!falls(t.no)) this.jump('jmp', t.no);
        }
        return;
      }
      case 'ret': {
        if (t.v) this.move('eax', t.v);
        this.epilogue();
        this.emit('ret');
        return;
      }
      case 'raise': {
        // The value in eax, its site in RAISE_SITE (through ecx: scratch.ts keeps values out of the scratch
        // registers across a raise), then to the handler or out.
        this.move('eax', t.v);
        if (t.site) {
          this.emit(`mov ecx, OFFSET ${this.cx.message(this.site(t.site))}`,
            `mov DWORD PTR [${this.cx.routine('raiseSite')}], ecx`);
        }
        this.raised(b);
        return;
      }
      case 'unreachable': return;
    }
  }

  /** The frame dropped and the callee-saved registers given back, down to the return address. */
  private epilogue(): void {
    if (this.ra.slots) this.emit(`add esp, ${4 * this.ra.slots}`);
    for (const r of [...this.saved].reverse()) this.emit(`pop ${r}`);
  }

  /**
   * The exception in eax, the stack at the frame: to the handler of b, the exception in the handler's variable
   * (where its label expects it, if it reads it), or out through the second return address, the frame and the
   * normal return address dropped.
   */
  private raised(b: Block): void {
    const h = b.handler;
    if (h) {
      if (this.ra.loc.has(h.exn) && this.lv.liveIn.get(h.block)!.has(h.exn)) {
        const at = this.op({ k: 'v', v: h.exn });
        if (at !== 'eax') this.emit(`mov ${at}, eax`);
      }
      this.jump('jmp', h.block);
      return;
    }
    if (!this.f.raises) throw new Error(`internal: ${this.f.name} raises but is not known to`);
    this.epilogue();
    this.emit('add esp, 4', 'ret');
  }

  /**
   * `t = load M; u = t OP x; store M, u`, where t and u are read nowhere else and x is a constant or in a register:
   * one instruction on the memory, after M's check (`add DWORD PTR [g_calls], 1`, as gcc -O2 writes `calls++`). The
   * checker types `add`, `sub`, `and`, `or` and `xor` on a word of memory as on a register: an integer in, an integer
   * out. A byte element is left to the general form (its value is masked to a byte between the two).
   */
  private updatedInPlace(b: Block, k: number): boolean {
    const [l, a, s] = [b.insts[k]?.inst, b.insts[k + 1]?.inst, b.insts[k + 2]?.inst];
    if (l?.op !== 'load' || a?.op !== 'arith' || s?.op !== 'store') return false;
    const mn = a.aop === '+' ? 'add' : a.aop === '-' ? 'sub' : a.aop === '&' ? 'and' : a.aop === '|' ? 'or'
      : a.aop === '^' ? 'xor' : undefined;
    const is = (x: Val, v: VReg): boolean => x.k === 'v' && x.v === v;
    if (!mn || !is(a.a, l.dst) || is(a.b, l.dst) || !is(s.src, a.dst) || a.b.k === 'addr' || this.isMem(a.b)) {
      return false;
    }
    const m = l.mem, n = s.mem;
    const same = (x: Val, y: Val): boolean => x.k === y.k && (x.k === 'v' ? is(y, x.v) : x.k === 'imm'
      && y.k === 'imm' && x.n === y.n);
    const sameMem = m.k === 'global' ? n.k === 'global' && n.label === m.label
      : m.k === 'field' ? n.k === 'field' && same(m.base, n.base) && m.index === n.index && !m.variant
        && !(m.base.k === 'v' && this.zeroed.has(m.base.v))
        : m.k === 'elem' && n.k === 'elem' && !m.bytes && !n.bytes && same(m.base, n.base) && same(m.index, n.index);
    const after = this.lv.after.get(b)!;
    if (!sameMem || after[k + 1].has(l.dst) || after[k + 2].has(l.dst) || after[k + 2].has(a.dst)) return false;
    this.around([...liveBefore(this.lv, b, k), ...after[k + 2]]);
    this.emit(`${mn} ${this.address(m)}, ${this.op(a.b)}`);
    return true;
  }

  /**
   * The memory operand of a block's last instruction, when it is a load the branch ending the block reads alone (its
   * value lives in a scratch register: regalloc.ts's `shortLived`) and that needs no register loaded for its address:
   * a length or an unchecked field of a pointer in a register, a global, or a word element of an array whose base
   * and index are in kept registers (`cmp DWORD PTR [ebp+esi*4+4], 0`, as gcc tests `a[i]` in place), whose bounds
   * check this emits here, where the load was (the checker types the element operand while the check's fact holds).
   */
  private foldedLoad(i: Inst, t: Block['term']): string | undefined {
    if (i.op === 'arith') return this.foldedMask(i, t);
    if (i.op !== 'load' || t.op !== 'br') return undefined;
    const d = i.dst, m = i.mem;
    const reads = (x: Val): boolean => x.k === 'v' && x.v === d;
    if (reads(t.a) === reads(t.b)) return undefined;
    const other = reads(t.a) ? t.b : t.a;
    const l = this.ra.loc.get(d)!;
    if (l.k !== 'reg' || this.isKept(l.r) || !(other.k === 'imm' || this.inReg(other))) return undefined;
    if (m.k === 'global') return `DWORD PTR [${m.label}]`;
    if (m.k === 'elem') return t.variant ? undefined : this.foldedElement(m);
    if (!this.inReg(m.base)) return undefined;
    if (m.k === 'len') return `DWORD PTR [${this.op(m.base)}]`;
    return m.nullCheck ? undefined : `DWORD PTR [${this.op(m.base)}+${4 * m.index}]`;
  }

  /**
   * A word element compared in place: base and index in kept registers (no scratch register is taken, so the compare
   * after it finds the ones it may want free). Not a byte: talas has no `cmp BYTE PTR [m], imm8` form, and a byte
   * compared with a register would need the register's byte half.
   */
  private foldedElement(m: Extract<Mem, { k: 'elem' }>): string | undefined {
    const kept = (x: Val): boolean => this.inReg(x) && this.isKept(this.op(x));
    return m.bytes || !kept(m.base) || !kept(m.index) ? undefined : this.address(m);
  }

  /**
   * A mask the branch ending the block alone reads, tested against zero (`x & 1 == 0`): `test x, 1` sets the same
   * zero flag as the `and` would, with no register for the masked value.
   */
  private foldedMask(i: Extract<Inst, { op: 'arith' }>, t: Block['term']): string | undefined {
    if (i.aop !== '&' || i.b.k !== 'imm' || i.a.k !== 'v' || t.op !== 'br' || (t.cc !== 'e' && t.cc !== 'ne')) {
      return undefined;
    }
    const d = i.dst;
    const isD = (x: Val): boolean => x.k === 'v' && x.v === d;
    const isZero = (x: Val): boolean => x.k === 'imm' && x.n === 0;
    if (!(isD(t.a) && isZero(t.b)) && !(isD(t.b) && isZero(t.a))) return undefined;
    const l = this.ra.loc.get(d)!;
    if (l.k !== 'reg' || this.isKept(l.r)) return undefined;
    return `test ${this.op(i.a)}, ${i.b.n}`;
  }

  /**
   * Set the flags for `a CC b` and give the condition to test them with: a zero test as `test r, r` (what the checker
   * knows as one), a constant on the left swapped to the right (`0 < n` is `cmp n, 0` tested with g), a folded load
   * read from memory in place.
   */
  private compare(cc: Cond, a: Val, b: Val): Cond {
    if (a.k === 'imm' && b.k === 'v') return this.compare(swapCond(cc), b, a);
    const leftInPlace = a.k === 'v' ? this.folded.get(a.v) : undefined;
    if (leftInPlace?.startsWith('test ')) {
      this.emit(leftInPlace);
      return cc;
    }
    if (leftInPlace) {
      this.emit(`cmp ${leftInPlace}, ${b.k === 'imm' ? b.n : this.reg(b, 'eax')}`);
      return cc;
    }
    const rightInPlace = b.k === 'v' ? this.folded.get(b.v) : undefined;
    if (rightInPlace) {
      this.emit(`cmp ${this.reg(a, 'eax')}, ${rightInPlace}`);
      return cc;
    }
    if (b.k === 'imm' && b.n === 0 && (cc === 'e' || cc === 'ne')) {
      const r = this.reg(a, 'edx');
      this.emit(`test ${r}, ${r}`);
      return cc;
    }
    // The left operand loaded into edx (a short-lived right operand may be waiting in ecx: regalloc.ts).
    const left = a.k !== 'v' || (this.isMem(a) && this.isMem(b)) ? this.reg(a, 'edx') : this.op(a);
    const right = b.k === 'addr' ? this.reg(b, 'ecx') : this.op(b);
    this.emit(`cmp ${left}, ${right}`);
    return cc;
  }

  // ---- instructions

  private site(s: Site): string { return `${this.f.file}:${s.pos.line}:${s.pos.col}: ${s.what}`; }

  /** A check's jump to its site's stub (shared by identical sites), placed after the function. */
  private fail(op: string, s: Site, bounds?: { arr: string; idx: string; ty: string }): void {
    const text = this.site(s) + (bounds ? '' : '\n');
    const key = bounds ? `${text}\0${bounds.arr}\0${bounds.idx}\0${bounds.ty}` : text;
    let stub = this.stubs.get(key);
    if (!stub) {
      const label = this.cx.newLabel('fail'), msg = this.cx.message(text);
      const routine = this.cx.routine(bounds ? 'failBounds' : 'fail');
      const bs = [...(bounds ? this.f.tparams : []), 's:stack'].join(', ');
      const regs = bounds ? `${bounds.arr}: ${bounds.ty}, ${bounds.idx}: int, ` : '';
      const push = bounds ? [`push DWORD PTR [${bounds.arr}]`, `push ${bounds.idx}`] : [];
      stub = { label, lines: [`.tal_label ${label} : code[${bs}]{${regs}esp: s}`, `${label}:`,
        ...[...push, `push OFFSET ${msg}`, `jmp ${routine}`].map(l => `    ${l}`)] };
      this.stubs.set(key, stub);
    }
    this.emit(`${op} ${stub.label}`);
  }

  /** A jump to a stub stopping the program at its site as an uncaught exception does (UnionVariant); any stack. */
  private raiseAt(op: string, s: Site): void {
    const text = `${this.site(s)}\n`;
    const key = `raise\0${text}`;
    let stub = this.stubs.get(key);
    if (!stub) {
      const label = this.cx.newLabel('raise'), msg = this.cx.message(text);
      const lines = [`push OFFSET ${msg}`, `push ${this.cx.uncaughtStatus}`, `jmp ${this.cx.routine('die')}`];
      const head = [`.tal_label ${label} : code[s:stack]{esp: s}`, `${label}:`];
      stub = { label, lines: [...head, ...lines.map(l => `    ${l}`)] };
      this.stubs.set(key, stub);
    }
    this.emit(`${op} ${stub.label}`);
  }

  /** Pass a label before instruction k of b: the live values get their declared types back (a null is S(0)). */
  private widen(b: Block, k: number): void {
    const live = k === 0 ? this.lv.liveIn.get(b)! : this.lv.after.get(b)![k - 1];
    const name = this.cx.newLabel('widen');
    if (this.generic) this.emit(`.tal_inst ${this.instArgs()}`);
    this.emit(`jmp ${name}`);
    this.label(name, {}, live);
  }

  /** The address of a memory operand (and its check): base in a register (edx), index in one (ecx). */
  private address(m: Mem): string {
    switch (m.k) {
      case 'global': return `DWORD PTR [${m.label}]`;
      case 'len': return `DWORD PTR [${this.reg(m.base, 'edx')}]`;
      case 'field': {
        const b = this.reg(m.base, 'edx');
        if (m.nullCheck && !this.nonNull.has(b)) {
          this.emit(`test ${b}, ${b}`);
          this.fail('je', m.nullCheck);
          if (this.isKept(b)) this.nonNull.add(b);
        }
        if (m.variant) {
          const v = m.variant;
          if (v.below > 0) { this.emit(`cmp ${b}, ${v.below}`); this.raiseAt('jb', v.check); }
          this.emit(`cmp DWORD PTR [${b}], ${v.tag}`);
          this.raiseAt('jne', v.check);
        }
        return `DWORD PTR [${b}+${4 * m.index}]`;
      }
      case 'elem': {
        const b = this.reg(m.base, 'edx');
        const i = this.reg(m.index, 'ecx');
        const pair = `${i}|${b}`;
        if (!this.inBounds.has(pair)) {
          this.emit(`cmp ${i}, DWORD PTR [${b}]`);
          this.fail('jae', m.check, { arr: b, idx: i, ty: m.arrTy });
          if (this.isKept(b) && this.isKept(i)) this.inBounds.add(pair);
        }
        return m.bytes ? `BYTE PTR [${b}+${i}*1+4]` : `DWORD PTR [${b}+${i}*4+4]`;
      }
    }
  }

  private inst(i: Inst, b: Block, k: number): void {
    if ('dst' in i && i.dst) this.zeroed.delete(i.dst);
    if ((i.op === 'load' || i.op === 'store') && i.mem.k === 'field' && (i.mem.nullCheck || i.mem.variant)
      && i.mem.base.k === 'v' && this.zeroed.has(i.mem.base.v)) this.widen(b, k);
    const d0 = def(i);
    this.around([...liveBefore(this.lv, b, k), ...this.lv.after.get(b)![k], ...(d0 ? [d0] : [])]);
    this.instruction(i, b, k);
    // A call enters the checker's state afresh from the callee's return type; a written register loses its facts.
    if (i.op === 'call' || i.op === 'alloc') this.forgetFacts();
    const d = i.op === 'store' ? undefined : i.dst;
    if (d) this.forgetRegister(this.op({ k: 'v', v: d }));
  }

  private instruction(i: Inst, b: Block, k: number): void {
    switch (i.op) {
      case 'copy': {
        if (i.src.k === 'imm' && i.dst.ty !== 'int') this.zeroed.add(i.dst);
        const d = this.op({ k: 'v', v: i.dst });
        if (d === this.op(i.src)) return;
        if (this.isMem(i.src) && !this.inReg({ k: 'v', v: i.dst })) {
          const r = this.take('eax');
          this.move(r, i.src);
          this.emit(`mov ${d}, ${r}`);
        } else this.move(d, i.src);
        return;
      }
      case 'neg': case 'not': {
        const r = this.resultReg(i.dst);
        this.move(r, i.a);
        this.emit(`${i.op} ${r}`);
        this.finish(i.dst, r);
        return;
      }
      case 'set': {
        this.emit('xor eax, eax');
        this.emit(`set${this.compare(i.cc, i.a, i.b)} al`);
        this.finish(i.dst, 'eax');
        return;
      }
      case 'arith': return this.arith(i, b, k);
      case 'load': {
        const a = this.address(i.mem);
        const r = this.resultReg(i.dst);
        this.emit(i.mem.k === 'elem' && i.mem.bytes ? `movzx ${r}, ${a}` : `mov ${r}, ${a}`);
        this.finish(i.dst, r);
        return;
      }
      case 'store': {
        const bytes = i.mem.k === 'elem' && i.mem.bytes;
        let src = this.op(i.src);
        // A value from memory, an address, or a byte from a register without a byte form, goes through a scratch
        // register (every one has a byte form).
        if (this.isMem(i.src) || (bytes && i.src.k === 'v' && !BYTE_REG[src]) || i.src.k === 'addr') {
          src = this.take('eax');
          this.move(src, i.src);
        }
        const a = this.address(i.mem);
        if (bytes) src = i.src.k === 'imm' ? String(i.src.n & 255) : BYTE_REG[src]!;
        this.emit(`mov ${a}, ${src}`);
        return;
      }
      case 'alloc': {
        this.cx.useImport('tal_alloc');
        this.emit(`push ${4 * i.fields.length}`, `.tal_inst ${i.tuple}`, 'call DWORD PTR [tal_alloc]', 'add esp, 4');
        i.fields.forEach((x, n) => {
          // Each field through one scratch register (the new tuple is in eax), taken afresh for each.
          this.taken.clear();
          this.taken.add('eax');
          const s = this.isMem(x) || x.k === 'addr' ? this.reg(x, 'ecx') : this.op(x);
          this.emit(`mov DWORD PTR [eax+${4 * n}], ${s}`);
        });
        this.finish(i.dst, 'eax');
        return;
      }
      case 'call': return this.call(i, b, k);
    }
  }

  private arith(i: Extract<Inst, { op: 'arith' }>, b: Block, k: number): void {
    const { aop, a, dst } = i;
    let bv = i.b;
    if (aop === '/' || aop === '%') return this.divide(i, b, k);
    if (aop === '<<' || aop === '>>' || aop === '>>>') {
      const mn = aop === '<<' ? 'shl' : aop === '>>' && !i.unsigned ? 'sar' : 'shr';
      let count = 'cl';
      if (bv.k === 'imm') count = String(bv.n & 31); else this.move('ecx', bv);
      // By a register, the count is in ecx and the shift is made in another (scratch.ts keeps values off both).
      const r = bv.k === 'imm' ? this.resultReg(dst) : this.resultReg(dst) === 'ecx' ? 'eax' : this.resultReg(dst);
      this.move(r, a);
      this.emit(`${mn} ${r}, ${count}`);
      this.finish(dst, r);
      return;
    }
    const mn = { '+': 'add', '-': 'sub', '*': 'imul', '&': 'and', '|': 'or', '^': 'xor' }[aop];
    if (this.arithShortForm(i)) return;
    let left = a;
    let r = this.resultReg(dst);
    // dst's register holds the right operand: compute in eax, unless the operation commutes.
    if (bv.k === 'v' && this.op(bv) === r) {
      if (aop === '-') r = this.take('eax'); else { left = bv; bv = a; }
    }
    this.move(r, left);
    this.emit(aop === '*' && bv.k === 'imm' ? `imul ${r}, ${r}, ${bv.n}` : `${mn} ${r}, ${this.op(bv)}`);
    this.finish(dst, r);
  }

  /**
   * The forms of `dst = a OP b` that take one instruction where the general one takes two or three (as gcc -O2 writes
   * them): `lea` for a sum into another register (`lea ebx, [esi+1]`, `lea ebx, [esi+edi*1]`), the three-operand
   * `imul` (`imul ebx, esi, 3`), and a slot updated in place (`add DWORD PTR [esp+4], 1`) when dst and a share it.
   * lea leaves the flags alone and the checker types its result as an integer, which every `+` here is.
   */
  private arithShortForm(i: Extract<Inst, { op: 'arith' }>): boolean {
    const { aop, a, b, dst } = i;
    const d = this.op({ k: 'v', v: dst });
    const r = this.resultReg(dst);
    const dInReg = this.inReg({ k: 'v', v: dst });
    const bSimple = b.k === 'imm' || this.inReg(b);
    if (this.inReg(a) && r !== this.op(a) && (aop === '+' || aop === '-') && bSimple) {
      // a - b by lea only for a constant b whose negation is one (not -2^31).
      if (b.k === 'imm' && !(aop === '-' && b.n === -0x80000000)) {
        const n = aop === '+' ? b.n : -b.n;
        this.emit(`lea ${r}, [${this.op(a)}${n < 0 ? '-' : '+'}${Math.abs(n)}]`);
        this.finish(dst, r);
        return true;
      }
      if (aop === '+' && b.k === 'v') {
        this.emit(`lea ${r}, [${this.op(a)}+${this.op(b)}*1]`);
        this.finish(dst, r);
        return true;
      }
    }
    if (aop === '*' && b.k === 'imm' && a.k === 'v') {
      this.emit(`imul ${r}, ${this.op(a)}, ${b.n}`);
      this.finish(dst, r);
      return true;
    }
    const mn = { '+': 'add', '-': 'sub', '&': 'and', '|': 'or', '^': 'xor' }[aop as string];
    if (mn && !dInReg && a.k === 'v' && d === this.op(a) && bSimple) {
      this.emit(`${mn} ${d}, ${this.op(b)}`);
      return true;
    }
    return false;
  }

  /** Division and remainder: the zero check, and for signed ones x / -1 without idiv (INT_MIN / -1 would trap). */
  private divide(i: Extract<Inst, { op: 'arith' }>, b: Block, k: number): void {
    const rem = i.aop === '%';
    this.move('eax', i.a);
    this.move('ecx', i.b);
    if (i.b.k === 'imm' && i.b.n !== 0 && (i.unsigned || i.b.n !== -1)) {
      this.emit(...(i.unsigned ? ['xor edx, edx', 'div ecx'] : ['cdq', 'idiv ecx']));
    } else if (i.unsigned) {
      this.emit('test ecx, ecx');
      this.fail('je', i.zero!);
      this.emit('xor edx, edx', 'div ecx');
    } else if (i.b.k === 'imm' && i.b.n === -1) {
      this.emit(rem ? 'xor eax, eax' : 'neg eax');
    } else {
      // Labels inside the instruction: everything live around it stays where it is.
      const live = new Set([...liveBefore(this.lv, b, k), ...this.lv.after.get(b)![k]]);
      live.delete(i.dst);
      for (const v of liveBefore(this.lv, b, k)) live.add(v);
      const idiv = this.cx.newLabel('idiv'), done = this.cx.newLabel('divd');
      this.emit('cmp ecx, -1');
      this.jumpTo('jne', idiv);
      this.emit(rem ? 'xor eax, eax' : 'neg eax');
      this.jumpTo('jmp', done);
      this.label(idiv, { eax: 'int', ecx: 'int' }, live);
      this.emit('test ecx, ecx');
      this.fail('je', i.zero!);
      this.emit('cdq', 'idiv ecx');
      if (rem) this.emit('mov eax, edx');
      if (this.generic) this.jumpTo('jmp', done);
      this.label(done, { eax: 'int' }, live);
      this.finish(i.dst, 'eax');
      return;
    }
    this.finish(i.dst, rem ? 'edx' : 'eax');
  }

  private jumpTo(op: string, label: string): void {
    if (this.generic) this.emit(`.tal_inst ${this.instArgs()}`);
    this.emit(`${op} ${label}`);
  }

  private call(i: Extract<Inst, { op: 'call' }>, b: Block, k: number): void {
    const c: Callee = i.callee;
    if (c.k === 'fun' && this.tails.has(i) && this.tailJump(i, c)) { this.jumpedOut = true; return; }
    const live = [...this.lv.after.get(b)![k]].filter(v => v !== i.dst);
    // What each of ebx, esi, edi and ebp holds across the call: a live value's type, an untouched register's own
    // variable, or top.
    const regTypes = ALLOCATABLE.map(r => {
      const v = live.find(x => { const l = this.ra.loc.get(x)!; return l.k === 'reg' && l.r === r; });
      if (v) return v.ty;
      return this.f.saves && !this.saved.includes(r) ? SAVED_VAR[r] : 'top';
    });
    let stackBelow = '';
    // A callee that saves gets its instantiation written out, the registers' types included: matching would bind a
    // register holding a constant (a null pointer is S(0)) as int, and the value would come back an int.
    if (c.k === 'fun' && (c.tparams.length || c.saves)) {
      stackBelow = [...(i.inst ?? []), this.stack(live), ...(c.saves ? regTypes : [])].join(', ');
    }
    for (let n = i.args.length - 1; n >= 0; n--) {
      this.emit(`push ${this.op(i.args[n].v)}`);
      this.depth++;
    }
    if (c.k === 'fun' && c.raises) this.exceptionReturn(i, b, live, c.saves ? regTypes : undefined);
    if (c.k === 'value') {
      // Every function value may raise (docs/popcorn.md "Exceptions through function values"): its second return
      // address is pushed first, the package in eax across that label, since the environment's type, once the
      // package is opened, is known to one block alone.
      if (c.fn.k !== 'v') throw new Error('internal: a function value not in a register');
      this.move('eax', c.fn);
      this.exceptionReturn(i, b, live, undefined, { eax: c.fn.v.ty });
    }
    if (c.k === 'import') {
      this.cx.useImport(c.name);
      if (i.inst) this.emit(`.tal_inst ${i.inst.join(', ')}`);
      this.emit(`call DWORD PTR [${c.name}]`);
      if (c.noreturn) { this.depth = 0; return; }
    } else if (c.k === 'fun') {
      if (stackBelow) this.emit(`.tal_inst ${stackBelow}`);
      this.emit(`call ${c.label}`);
    } else {
      // A function value: open the package, pass its environment first, call its code (docs/popcorn.md "Closures").
      this.emit('.tal_unpack eax', 'push DWORD PTR [eax+4]', 'mov ecx, DWORD PTR [eax]', 'call ecx');
    }
    // A callee that raises returned over its second return address, a closure's over its environment and its second
    // return address: dropped with the arguments.
    const words = i.args.length + (c.k === 'fun' && c.raises ? 1 : 0) + (c.k === 'value' ? 2 : 0);
    if (words) this.emit(`add esp, ${4 * words}`);
    this.depth = 0;
    if (i.dst) this.finish(i.dst, 'eax');
  }

  /**
   * A sibling tail call (tailsib.ts, whose header derives the types): the arguments written over this function's own
   * incoming slots, the frame dropped and the callee-saved registers popped, then `jmp` to the callee instantiated
   * with the stack below the slots it takes and this function's own s_ebx … s_ebp. False (nothing emitted) when the
   * scratch registers do not suffice for the moves: the call is then emitted as a call.
   */
  private tailJump(i: CallInst, c: Extract<Callee, { k: 'fun' }>): boolean {
    // A parameter nothing assigns is still in its own slot, wherever it is read from: passed on in the same place,
    // it is not moved at all (the emitter writes an argument slot only for a spilled parameter assigned there).
    const assigned = new Set(this.f.blocks.flatMap(x => x.insts.map(({ inst }) => def(inst))));
    const inPlace = (v: Val, to: number): boolean => v.k === 'v' && v.v === this.f.params[to] && !assigned.has(v.v);
    const moves = i.args.map(({ v }, to) => {
      const l = v.k === 'v' ? this.ra.loc.get(v.v)! : undefined;
      return { to, from: this.op(v), incoming: inPlace(v, to) ? to : l?.k === 'arg' ? l.index : undefined,
        viaRegister: this.isMem(v) || v.k === 'addr' };
    });
    const free = SCRATCH.filter(r => !this.busy.has(r) && !moves.some(m => m.from === r));
    const plan = planArgumentMoves(moves, free, n => `DWORD PTR [esp+${4 * this.argumentWord(n)}]`);
    if (!plan) return false;
    this.emit(...plan);
    this.epilogue();
    // Under a raising function's return address, a callee that does not raise and takes no argument finds the
    // second return address as part of its stack (tailsib.ts).
    const below = this.f.raises && !c.raises ? belowReturn(this.f)
      : [...this.f.paramTys.slice(i.args.length), 'r'].join(' :: ');
    const regs = c.saves ? ALLOCATABLE.map(r => SAVED_VAR[r]) : [];
    this.emit(`.tal_inst ${[...(i.inst ?? []), below, ...regs].join(', ')}`, `jmp ${c.label}`);
    return true;
  }

  /**
   * Before a call of a function that may raise, its arguments pushed: its second return address pushed by a `call`
   * to the label just after (a return address is typed with the caller's stack, which only a call can push:
   * codegen.ts's exceptionReturn). The code after that `call` is where the callee's raise lands, with the exception
   * in eax and the arguments on the stack: it drops them and goes to the handler of the call's block b, or leaves
   * through this function's own second return address. `kept` are the callee-saved registers' types when the
   * callee gives them back on that path too, as the .tal_inst of the call instantiates its variables: so the
   * values live into the handler (live across the call: liveness.ts) are where its label says.
   */
  private exceptionReturn(i: Extract<Inst, { op: 'call' }>, b: Block, live: VReg[], kept: string[] | undefined,
    regs: Record<string, string> = {}): void {
    const name = this.cx.newLabel('raised');
    if (this.generic) this.emit(`.tal_inst ${this.instArgs()}`);
    this.emit(`call ${name}`);
    if (i.args.length) this.emit(`add esp, ${4 * i.args.length}`);
    const depth = this.depth;
    this.depth = 0;
    this.raised(b);
    this.depth = depth;
    const keeps = kept ? ALLOCATABLE.map((r, n) => `${r}: ${kept[n]}, `).join('') : '';
    const args = [...i.args.map(a => a.ty), this.stack(live)].join(' :: ');
    this.label(name, regs, live, `code{eax: ${EXN_TYPE}, ${keeps}esp: ${args}} :: ${args}`);
  }
}

