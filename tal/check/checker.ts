// The TAL-IA32 checker (docs/tal.md §4). Trusted: this file, with subtype.ts, program.ts, the types, the decoder and
// the interface, is what makes kernel mode safe.
//
// One pass over the code, in address order. Every byte of .text belongs to an instruction decoded from the start of a
// labelled block; every label carries its type; the state (register types, stack type, and a few facts the checker
// learns from comparisons) flows from one instruction to the next and is checked against the target's annotation at
// every jump, call, return and fall-through. No fixpoints, no search.
//
// Linear in the size of the file, by a stated bound (docs/tal.md §9, too-complex): the reading of the ELF and of the
// annotations is linear by construction (every section, segment, line and object is looked up through an index), and
// everything else draws on a work meter (types.ts) of WORK_PER_BYTE units per byte of the file plus WORK_BASE: one
// unit per instruction, per type node built or compared, per stack cell stepped over. A file that needs more is
// refused as too-complex; none is checked for longer.

import { type DataLabel, type Inst, type LabelTable } from '../annotations.ts';
import { type ElfSection, hex, PF_W, SHF_ALLOC, segmentFor, readLoaded } from '../elf.ts';
import { type ImportSig, importSig } from '../interface.ts';
import { type Arg, type Binder, type CodeTy, type Field, type Stk, type Ty, type TupleTy, type TypeDefs, INT, TOP, NIL,
  cons, isStk, meter, newBinder, sing, showCode, showRegs, showStk, showTy, spend, stackAt, stackDrop, stkDepth, substBody, substCode, substStk, substTy, TooComplex, whnf } from '../types.ts';
import { decodeShared } from '../x86/decode.ts';
import { formatInsn } from '../x86/format.ts';
import { type Insn, type MemOperand, type Operand, EAX, ECX, EDX, ESP, NO_REG, isRefusal,
  REG32_NAMES } from '../x86/insn.ts';
import { Matcher, freeIn } from './subtype.ts';
import { type ExSumErrorClass, type ExSumRefusal, type TagCond } from './exsum.ts';
import { checkPack, coercionCount, normalizeSum, refineSum, sumField, TAG_WORD, unpack } from './exsum.ts';
import { type Coercion } from '../annotations.ts';
import { type Program, type ProgramErrorClass, ProgramError, readProgram } from './program.ts';

/**
 * How far esp may be below the lowest stack address the program has touched since it last touched one (bytes).
 * The kernel keeps an unmapped guard region of at least 4 KiB below every stack, so a push, a call, a fault frame or an
 * interrupt frame written within this distance lands in the stack or in the guard, never beyond it (docs/tal.md §7).
 */
export const STACK_PROBE_LIMIT = 1024;

/**
 * The most words a stack type may describe (docs/tal.md §7): the kernel-mode stack is 1 MiB (kernel/fork.ts), 2^18
 * words, so no program that runs can use a deeper one, and the checker builds none (one cell a word, a few dozen
 * bytes each, so that one state's stack stays a few megabytes). Refused as too-complex.
 */
export const MAX_STACK_WORDS = 1 << 18;

function tooDeep(depth: number, what: string): never {
  refuse('too-complex',
    `${what} makes the stack type ${depth} words deep, ` +
    `more than the ${MAX_STACK_WORDS} words (1 MiB) of the kernel-mode stack`);
}

/**
 * The work budget: WORK_PER_BYTE units per byte of the file, plus WORK_BASE (docs/tal.md §9). Compiled and
 * hand-written programs spend under 0.3 units per byte (the examples, bench's generated programs and every .pop in
 * the tree; test/tal/checker-bounded.test.ts holds them to 1), so this leaves them a margin of 25 or more. It bounds
 * memory as well as time: a unit builds at most one type node, stack cell or remembered pair (a few dozen bytes, at
 * most ~1 µs), and at 64 units per byte a 120 KB file could hold 550 MB live and a 1 MB file exhaust the heap.
 */
export const WORK_PER_BYTE = 8;
export const WORK_BASE = 1 << 18;
export function workBudget(fileBytes: number): number {
  return WORK_BASE + WORK_PER_BYTE * fileBytes;
}

export type CheckErrorClass =
  | ProgramErrorClass
  | 'data' | 'readonly-section'
  | 'privileged' | 'interrupt' | 'far-transfer' | 'segment' | 'prefix' | 'fpu-simd' | 'string-op' | 'unsupported' | 'truncated'
  | 'no-label' | 'bad-label' | 'bad-target' | 'fall-off-end'
  | 'fallthrough-type' | 'jump-type'
  | 'call-type' | 'call-non-code' | 'call-inst' | 'indirect-target'
  | 'ret-type' | 'ret-not-code'
  | 'stack-underflow' | 'stack-access' | 'stack-probe' | 'stack-pointer'
  | 'uninit-read' | 'unchecked-index' | 'bad-array-access' | 'null-deref' | 'div-unproven' | 'readonly-write'
  | 'pointer-arith' | 'not-a-pointer' | 'not-an-int' | 'store-type' | 'code-access' | 'bad-address'
  | 'import-args' | 'import-bounds'
  | ExSumErrorClass
  | 'too-complex';

export interface CheckError {
  readonly cls: CheckErrorClass;
  readonly message: string;
  readonly address?: number;
  readonly fileOffset?: number;
  readonly label?: string;
  readonly insn?: string;
  readonly expected?: string;
  readonly actual?: string;
}

export interface CheckSummary {
  readonly blocks: number;
  readonly instructions: number;
  readonly codeBytes: number;
  readonly imports: readonly string[];
  readonly dataObjects: number;
}

/** Either way, `work` is the units of the work meter the check spent (deterministic: tests bound it per byte). */
export type CheckResult =
  | { ok: true; summary: CheckSummary; program: Program; work: number }
  | { ok: false; error: CheckError; work: number };

class Refuse extends Error {
  constructor(readonly cls: CheckErrorClass, message: string, readonly expected?: string, readonly actual?: string) {
    super(message);
  }
}

function refuse(cls: CheckErrorClass, message: string, expected?: string, actual?: string): never {
  throw new Refuse(cls, message, expected, actual);
}

/** A refusal of the existential and sum rules (exsum.ts), raised; or the value it is not. */
function orRefuse<T>(r: T | ExSumRefusal): T {
  if (typeof r === 'object' && r !== null && 'cls' in r && 'message' in r)
    throw new Refuse(r.cls, r.message, r.expected, r.actual);
  return r;
}

// ---------------------------------------------------------------------------------------------------------------
// The abstract state between two instructions

/** What the last flag-setting instruction compared, while its operands still hold the values it compared. */
type Cond =
  | { k: 'zero'; reg: number } // test r,r / cmp r,0
  | { k: 'bound'; idx: number; arr: number; idxFirst: boolean } // cmp idx,[arr] / cmp [arr],idx
  | TagCond; // cmp r, n / test r, r / cmp [r], n with r a sum (exsum.ts)

// The conditions a cmp or test of registers leaves, made once (a Cond is never changed, so states share them): the
// pass compares in most blocks, and allocated there they were a tenth of what a check allocates.
const ZERO_CONDS: readonly Cond[] = [0, 1, 2, 3, 4, 5, 6, 7].map(reg => Object.freeze({ k: 'zero', reg } as const));
/** Index (idx*8 + arr)*2 + (idxFirst ? 1 : 0). */
const BOUND_CONDS: readonly Cond[] = Array.from({ length: 128 }, (_, i) =>
  Object.freeze({ k: 'bound', idx: i >> 4, arr: (i >> 1) & 7, idxFirst: (i & 1) === 1 } as const));
function boundCond(idx: number, arr: number, idxFirst: boolean): Cond {
  return BOUND_CONDS[(idx * 8 + arr) * 2 + (idxFirst ? 1 : 0)];
}

class State {
  /**
   * Stores into stack slots that are not yet cells of `cells`: depth of the slot's cell (stkDepth) → its new type.
   * A store into slot k would otherwise rebuild the k cells above it; here it costs O(1), and the cells are rebuilt
   * once, when the stack is next needed whole (the `stack` getter).
   */
  private writes: Map<number, Ty> | null = null;

  constructor(
    public regs: Ty[],
    private cells: Stk,
    /** Bytes between esp and the lowest stack address touched since (see STACK_PROBE_LIMIT). */
    public untouched = 0,
    /** Registers known to be non-zero (bit per register). */
    public nonzero = 0,
    /**
     * Facts idx <u length(arr), as a set of the 64 register pairs: bit idx*8+arr of the 64, the low 32 here and the
     * high 32 in boundsHi (so that learning and forgetting a fact allocate nothing).
     */
    public boundsLo = 0,
    public boundsHi = 0,
    /** edx holds the sign extension of eax (set by cdq). */
    public cdq = false,
    public cond: Cond | null = null,
  ) {}

  /** The stack type, with every pending store in place. */
  get stack(): Stk {
    const w = this.writes;
    if (w) {
      this.writes = null;
      let min = Infinity;
      for (const d of w.keys()) min = Math.min(min, d);
      const top = stkDepth(this.cells);
      spend(top - min + 1);
      const heads: Ty[] = [];
      let c = this.cells;
      for (let d = top; d >= min && c.k === 'cons'; d--, c = c.tail) heads.push(w.get(d) ?? c.head);
      for (let i = heads.length - 1; i >= 0; i--) c = cons(heads[i], c);
      this.cells = c;
    }
    return this.cells;
  }

  set stack(s: Stk) {
    if (stkDepth(s) > MAX_STACK_WORDS) tooDeep(stkDepth(s), 'this instruction');
    this.writes = null;
    this.cells = s;
  }

  /** Slot k (the word at esp+4k), if known. */
  slot(k: number): Ty | undefined {
    const d = stkDepth(this.cells) - k;
    if (k < 0 || d <= 0) return undefined;
    return this.writes?.get(d) ?? stackAt(this.cells, k);
  }

  /** Store into slot k; false if the slot is not known. */
  setSlot(k: number, t: Ty): boolean {
    const d = stkDepth(this.cells) - k;
    if (k < 0 || d <= 0) return false;
    (this.writes ??= new Map()).set(d, t);
    return true;
  }

  /** Pop the top slot (undefined if none is known): a pending store into it is taken, not rebuilt. */
  pop(): Ty | undefined {
    const c = this.cells;
    if (c.k !== 'cons') return undefined;
    const w = this.writes?.get(c.depth);
    if (w) this.writes!.delete(c.depth);
    this.cells = c.tail;
    return w ?? c.head;
  }

  push(t: Ty): void {
    // Pops delete the pending store of the slot they remove, so none is pending above the top.
    if (stkDepth(this.cells) >= MAX_STACK_WORDS) tooDeep(stkDepth(this.cells) + 1, 'this instruction');
    this.cells = cons(t, this.cells);
  }

  clone(): State {
    return new State(this.regs.slice(), this.stack, this.untouched, this.nonzero, this.boundsLo, this.boundsHi,
      this.cdq,
      this.cond);
  }

  static fromCode(c: CodeTy): State {
    return new State(new Array<Ty>(8), NIL).enter(c);
  }

  /** Become the state at the entry of a block of type c (the pass reuses one state object for every block). */
  enter(c: CodeTy): this {
    // Unrolled (esp is register 4): every block enters here, and the loop with its test on ESP cost more than the
    // eight stores.
    const g = c.regs, r = this.regs;
    r[0] = g[0] ?? TOP; r[1] = g[1] ?? TOP; r[2] = g[2] ?? TOP; r[3] = g[3] ?? TOP;
    r[ESP] = TOP; r[5] = g[5] ?? TOP; r[6] = g[6] ?? TOP; r[7] = g[7] ?? TOP;
    // A label's type, or a callee's return type with the caller's stack in it.
    if (stkDepth(c.stack) > MAX_STACK_WORDS) tooDeep(stkDepth(c.stack), 'the code type here');
    this.cells = c.stack;
    this.writes = null;
    this.untouched = 0;
    this.nonzero = 0;
    this.boundsLo = this.boundsHi = 0;
    this.cdq = false;
    this.cond = null;
    return this;
  }

  /** Every write to a register goes through here, so that no fact outlives the value it is about. */
  set(r: number, t: Ty): void {
    this.regs[r] = t;
    this.nonzero &= ~(1 << r);
    if ((this.boundsLo | this.boundsHi) !== 0) {
      // The facts with r as the index are byte r of the 64 bits; those with r as the array, bit r of every byte.
      const asArray = 0x01010101 << r;
      this.boundsLo &= ~(asArray | (r < 4 ? 0xff << (8 * r) : 0));
      this.boundsHi &= ~(asArray | (r >= 4 ? 0xff << (8 * (r - 4)) : 0));
    }
    if (r === EAX || r === EDX) this.cdq = false;
    const c = this.cond;
    if (c && (((c.k === 'zero' || c.k === 'tag') && c.reg === r) || (c.k === 'bound' && (c.idx === r || c.arr === r))))
      this.cond = null;
  }

  hasBound(idx: number, arr: number): boolean {
    const f = idx * 8 + arr;
    return (((f < 32 ? this.boundsLo : this.boundsHi) >>> (f & 31)) & 1) !== 0;
  }

  /** Learn idx <u length(arr) (idx and arr are registers, 0 to 7). */
  addBound(idx: number, arr: number): void {
    const f = idx * 8 + arr;
    if (f < 32) this.boundsLo |= 1 << f;
    else this.boundsHi |= 1 << (f - 32);
  }

  show(): string {
    const regs: (Ty | null)[] = this.regs.map((t, r) => (r === ESP || t.k === 'top' ? null : t));
    return showRegs(regs, this.stack);
  }
}


/** "1 word", "n words": for messages. */
function words(n: number): string {
  return n === 1 ? '1 word' : `${n} words`;
}

function isIntLike(t: Ty): boolean {
  return t.k === 'int' || t.k === 'sing';
}

/** Fresh rigid binders for a code type, so that two uses of one polymorphic continuation never share variables. */
function freshen(c: CodeTy): CodeTy {
  if (c.vars.length === 0) return c;
  // One unit per binder made (the substitution charges the nodes it visits).
  spend(c.vars.length);
  const m = new Map<Binder, Arg>();
  const vars = c.vars.map(b => {
    const nb = newBinder(b.name, b.kind);
    m.set(b, nb.kind === 'stack' ? { k: 'svar', b: nb } : { k: 'var', b: nb });
    return nb;
  });
  const body = substBody(c, m);
  return { vars, regs: body.regs, stack: body.stack };
}

// ---------------------------------------------------------------------------------------------------------------
// Memory locations

type Loc =
  | { k: 'stack'; slot: number }
  | { k: 'field'; baseReg: number; tuple: TupleTy; index: number }
  | { k: 'len' }
  | { k: 'elem'; elem: Ty }
  | { k: 'byte'; ro: boolean };

// The locations that say nothing but their kind, made once (a Loc is never changed).
const LEN_LOC: Loc = Object.freeze({ k: 'len' } as const);
const BYTE_LOC_RO: Loc = Object.freeze({ k: 'byte', ro: true } as const);
const BYTE_LOC_RW: Loc = Object.freeze({ k: 'byte', ro: false } as const);
/** The stack slots a frame addresses most (esp+0 … esp+1020, the probe limit's reach), made once. */
const STACK_LOCS: readonly Loc[] = Array.from({ length: STACK_PROBE_LIMIT / 4 }, (_, slot) =>
  Object.freeze({ k: 'stack', slot } as const));
function stackLoc(slot: number): Loc {
  return slot < STACK_LOCS.length ? STACK_LOCS[slot] : { k: 'stack', slot };
}
/**
 * The location of a tuple's field and of an array's element: one object of each kind, rewritten by every `loc`
 * that finds one (made per access, they were a third of what a check allocates). A Loc is used by the load or store
 * that asked for it before the next operand is located, and an instruction has at most one memory operand (the
 * decoder's single SHARED_MEM), so no two of them are ever alive at once; `k` of each never changes.
 */
const FIELD_LOC: { readonly k: 'field'; baseReg: number; tuple: TupleTy; index: number } =
  { k: 'field', baseReg: NO_REG, tuple: { k: 'tuple', nullable: false, fields: [] }, index: 0 };
const ELEM_LOC: { readonly k: 'elem'; elem: Ty } = { k: 'elem', elem: TOP };
function fieldLoc(baseReg: number, tuple: TupleTy, index: number): Loc {
  FIELD_LOC.baseReg = baseReg;
  FIELD_LOC.tuple = tuple;
  FIELD_LOC.index = index;
  return FIELD_LOC;
}
function elemLoc(elem: Ty): Loc {
  ELEM_LOC.elem = elem;
  return ELEM_LOC;
}

/** A memory operand's base, for messages: its register, or the address of an absolute operand. */
function baseName(baseReg: number, disp: number): string {
  return baseReg === NO_REG ? `0x${hex(disp)}` : REG32_NAMES[baseReg];
}

/** A pointer type without its null: built field by field (a spread copies through the engine's generic path). */
function nonNull(t: Extract<Ty, { k: 'tuple' | 'arr' | 'bytes' }>): Ty {
  switch (t.k) {
    case 'tuple': return { k: 'tuple', nullable: false, fields: t.fields };
    case 'arr': return { k: 'arr', nullable: false, elem: t.elem };
    case 'bytes': return { k: 'bytes', nullable: false, ro: t.ro };
  }
}

interface DataObject { readonly label: DataLabel; readonly size: number }

// ---------------------------------------------------------------------------------------------------------------

/**
 * A jump found to satisfy its target: the types of the registers the target names (its stack is the key; see
 * Checker.passedBefore), and which registers those are (bit r: register r; the target type's, so that a lookup
 * compares only them).
 */
interface PassedJump { readonly regs: readonly Ty[]; readonly named: number }
/** How many passed jumps are remembered per target type. */
const JUMP_MEMO = 4;
/** How many target types a stack's memo keeps in its list before it uses its map. */
const MEMO_NEAR = 8;

/**
 * The jumps that presented one stack, by target type. A stack meets few targets (the labels its block and the blocks
 * of its type jump to): the first MEMO_NEAR are found by comparing references in a short list, where a WeakMap
 * lookup hashed the target at every jump; any more go to a WeakMap, so that a stack presented to thousands of
 * targets costs a hash per lookup, never a scan of them all. The list holds its targets strongly, as long as the
 * stack lives (at most MEMO_NEAR per stack, each a type of the file or of a register the pass made).
 */
class StackMemo {
  private readonly near: CodeTy[] = [];
  private readonly nearLists: PassedJump[][] = [];
  private far: WeakMap<CodeTy, PassedJump[]> | undefined;

  get(ty: CodeTy): PassedJump[] | undefined {
    const near = this.near;
    for (let i = 0; i < near.length; i++) if (near[i] === ty) return this.nearLists[i];
    return this.far?.get(ty);
  }

  /** The list for ty, made empty if there is none. */
  list(ty: CodeTy): PassedJump[] {
    const found = this.get(ty);
    if (found) return found;
    const made: PassedJump[] = [];
    if (this.near.length < MEMO_NEAR) {
      this.near.push(ty);
      this.nearLists.push(made);
    } else {
      (this.far ??= new WeakMap()).set(ty, made);
    }
    return made;
  }
}

/** Bits of Checker.annotatedAt: a coercion (.tal_pack, .tal_unpack) or an instantiation (.tal_inst) at the offset. */
const AT_COERCE = 1, AT_INST = 2;

/** Where control goes: a code label (its index in the table) or something named in messages (a register, …). */
type Target = number | string;

class Checker {
  private readonly defs: TypeDefs;
  private readonly codeLabels: LabelTable<CodeTy>;
  /** The code labels by offset in .text (index + 1 into codeLabels; 0: none), filled once the labels are checked. */
  private labelIndex = new Int32Array(0);
  /**
   * What the annotations attach to each offset in .text (AT_COERCE, AT_INST bits), filled with the label index: the
   * pass asks at every instruction and every jump, and a typed array answers without hashing the address. The maps
   * (ann.coerce, ann.inst) stay the record of what each annotation says; an entry at an address outside .text is
   * never asked for, as before (and a coercion there is still refused by the count at the end of the pass).
   */
  private annotatedAt = new Uint8Array(0);
  /** The current instruction's offset in .text. */
  private curOff = 0;
  private readonly dataObjects: DataObject[] = []; // sorted by address
  private readonly dataByAddr = new Map<number, DataObject>();
  private runtimeSections: { secs: ElfSection[]; reach: ElfSection[] } | undefined;
  private readonly importBySlot = new Map<number, { name: string; sig: ImportSig }>();
  private readonly textEnd: number;
  private readonly labelTypeFn = (addr: number): Ty | undefined => this.labelType(addr);

  // Position, for messages.
  curAddr = 0;
  /** The current block's label (index into codeLabels), -1 before the first. */
  curLabel = -1;
  /** The current block's type, and its fresh copy (an instantiation in the block names the type's own binders). */
  private blockTy: CodeTy | undefined;
  private blockFresh: CodeTy | undefined;
  /** Each block type's fresh copy. */
  private readonly blockEntry = new Map<CodeTy, CodeTy>();
  /** Each block type's renaming of its binders to its fresh copy's (for instantiations inside its blocks). */
  private readonly blockRename = new Map<CodeTy, Map<Binder, Arg>>();
  /**
   * The jumps that satisfied each target type (passedBefore), by the stack they presented and then by the target:
   * weakly, so that a memo entry lives no longer than its stack or its target. A lookup needs both alive (the state
   * holds the one, the jump the other), so what it finds does not depend on when garbage is collected; and the
   * stacks the pass builds and drops are not kept alive by the memo (a strong map kept every remembered stack: a
   * file could make the checker hold about one cell per unit of its budget, 64 bytes each, where the old pass held
   * one block's stack at a time).
   */
  private readonly jumpsPassed = new WeakMap<Stk, StackMemo>();
  /**
   * The last stack looked up in jumpsPassed and what it found there (the jumps of a block, and of the blocks of one
   * type, mostly present one stack): one stack kept alive, the same entry found without hashing it again.
   */
  private lastStack: Stk | undefined;
  private lastMemo: StackMemo | undefined;
  /** The type of each code label's address, made on first use (labelType). */
  private addrTypes: (Ty | undefined)[] | undefined;
  /** The instruction being checked (formatted only if it is refused), or the text of a refused encoding. */
  curInsn: Insn | string | undefined;
  instructions = 0;

  constructor(private readonly p: Program) {
    this.defs = p.ann.defs;
    this.codeLabels = p.ann.code;
    this.textEnd = p.textAddr + p.text.length;
    this.plainMatcher = new Matcher(this.defs, [], this.labelTypeFn, undefined, p.ann.closed);
    this.patternMatcher = new Matcher(this.defs, [], this.labelTypeFn, this.plainMatcher, p.ann.closed);
  }

  /** The index of the code label at an address, or -1 (a typed-array lookup: the pass asks at every jump and block). */
  codeLabelAt(addr: number): number {
    const off = addr - this.p.textAddr;
    if (off < 0 || off >= this.labelIndex.length) return -1;
    return this.labelIndex[off] - 1;
  }

  /** A target's name, for messages. */
  targetName(t: Target): string {
    return typeof t === 'number' ? this.codeLabels.name(t) : t;
  }

  labelType(addr: number): Ty | undefined {
    const c = this.codeLabelAt(addr);
    // Fresh binders: the label's own binders are the pattern variables of every jump or call to it, and the type of
    // its address must not share them. Otherwise comparing S(L) with a code type while jumping to L renames that
    // code type's binders onto L's pattern variables (Matcher.eqCode), which then bind instead of being compared, and
    // S(L) passes for a code type it does not have (test/negative/jump-type-label-binders.tal).
    // One fresh copy per label serves every use of its address: its binders are bound inside it, and they are
    // patterns only of a jump or call through a register holding the address, which no state's type mentions
    // (a call's result has every pattern it uses substituted). Freshening at every use cost V binders each time:
    // a table of 20,000 addresses of a label over 20,000 variables took minutes to check.
    // (Made at full size on first use: most files never take a label's address.)
    if (c >= 0) {
      const types = (this.addrTypes ??= new Array<Ty | undefined>(this.codeLabels.size).fill(undefined));
      return (types[c] ??= { k: 'code', code: freshen(this.codeLabels.types[c]) });
    }
    const d = this.p.ann.data.indexOf(addr);
    return d < 0 ? undefined : this.p.ann.data.types[d];
  }

  /** The matcher without patterns: one for the file, so that what it has found related it remembers throughout. */
  private readonly plainMatcher: Matcher;
  /** The matcher with patterns, reset for each jump or call (never two at once: see Matcher.reset). */
  private readonly patternMatcher: Matcher;

  matcher(patterns: readonly Binder[] = []): Matcher {
    return patterns.length === 0 ? this.plainMatcher : this.patternMatcher.reset(patterns);
  }

  whnf(t: Ty): Ty {
    return whnf(t, this.defs);
  }

  curLabelName(): string | undefined {
    return this.curLabel < 0 ? undefined : this.codeLabels.name(this.curLabel);
  }

  // ---- whole-program checks before the pass ----

  checkImports(): void {
    for (const imp of this.p.imports) {
      const sig = importSig(imp.name);
      if (!sig) refuse('import', `the kernel offers no import '${imp.name}'`);
      this.importBySlot.set(imp.slot, { name: imp.name, sig });
    }
  }

  checkLabels(): void {
    const { ann, textAddr } = this.p;
    // One pass: every label inside .text, indexed by its offset.
    const index = (this.labelIndex = new Int32Array(this.p.text.length));
    const addrs = this.codeLabels.addrs;
    for (let i = 0; i < addrs.length; i++) {
      const a = addrs[i];
      if (a < textAddr || a >= this.textEnd)
        refuse('annotation',
          `code label '${this.codeLabels.name(i)}' at 0x${hex(a)} is outside ${'.text'} ` +
          `(0x${hex(textAddr)}..0x${hex(this.textEnd)})`);
      index[a - textAddr] = i + 1;
    }
    const marks = (this.annotatedAt = new Uint8Array(this.p.text.length));
    // (Offsets modulo 2^32, as the pass computes addresses: (textAddr + off) >>> 0.)
    for (const a of ann.coerce.keys()) if (((a - textAddr) >>> 0) < marks.length) marks[(a - textAddr) >>> 0] |= AT_COERCE;
    for (const a of ann.inst.keys()) if (((a - textAddr) >>> 0) < marks.length) marks[(a - textAddr) >>> 0] |= AT_INST;
    const t = this.codeLabels.types[ann.mainIndex];
    if (!(t.vars.length === 1 && t.vars[0].kind === 'stack' && t.regs.every(r => r === null) && t.stack.k === 'svar'
      && t.stack.b === t.vars[0]))
      refuse('annotation', `main label '${ann.main}' must have the entry type code[r:stack]{esp: r}`,
        'code[r:stack]{esp: r}', showCode(t));
    if (index[0] === 0) refuse('no-label', `.text starts at 0x${hex(textAddr)} without a label: that code has no type`);
  }

  checkData(): void {
    // The data labels are sorted by address (the reader checks).
    for (const l of this.p.ann.data.values()) {
      const obj = { label: l, size: this.checkDataObject(l) };
      this.dataObjects.push(obj);
      this.dataByAddr.set(l.addr, obj);
    }
    for (let i = 1; i < this.dataObjects.length; i++) {
      const a = this.dataObjects[i - 1], b = this.dataObjects[i];
      if (a.label.addr + a.size > b.label.addr)
        refuse('data',
          `data objects '${a.label.name}' (0x${hex(a.label.addr)}, ${a.size} bytes) and '${b.label.name}' ` +
          `(0x${hex(b.label.addr)}) overlap`);
    }
  }

  /**
   * A loaded `.tal.*` section that meets [addr, addr+size), if any. The sections are sorted once and searched by
   * address: a file may have 65,535 of them and thousands of data objects.
   */
  private runtimeSectionOver(addr: number, size: number): ElfSection | undefined {
    if (!this.runtimeSections) {
      const secs = this.p.img.sections.filter(
        sec => (sec.flags & SHF_ALLOC) !== 0 && sec.name.startsWith('.tal.') && sec.size > 0,
      );
      secs.sort((a, b) => a.addr - b.addr);
      // reach[i]: the section among the first i+1 that ends last (sections may overlap one another).
      const reach: ElfSection[] = [];
      for (const sec of secs) {
        const prev = reach[reach.length - 1];
        reach.push(prev && prev.addr + prev.size >= sec.addr + sec.size ? prev : sec);
      }
      this.runtimeSections = { secs, reach };
    }
    const { secs, reach } = this.runtimeSections;
    // The last section starting before addr + size; of those up to it, the one reaching furthest meets the range iff
    // any does.
    let lo = 0, hi = secs.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (secs[mid].addr < addr + size) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (found < 0) return undefined;
    const r = reach[found];
    return r.addr + r.size > addr ? r : undefined;
  }

  private checkDataObject(l: DataLabel): number {
    const t = this.whnf(l.ty);
    const where = `data object '${l.name}' at 0x${hex(l.addr)}`;
    const word = (off: number): number => {
      const b = readLoaded(this.p.img, l.addr + off, 4);
      if (!b) refuse('data', `${where}: offset ${off} is outside the loaded segments`);
      return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
    };
    let size: number;
    let writable: boolean;
    // The typed words of the object, by offset (computed lazily: an array's length is only trusted once the whole
    // object is known to fit in its segment).
    let elemAt: (i: number) => { off: number; ty: Ty } | undefined;
    switch (t.k) {
      case 'tuple': {
        size = 4 * t.fields.length;
        // One unit per field looked at here and per word below: many data labels may share one wide tuple type.
        spend(t.fields.length);
        writable = t.fields.some(f => f.flag !== 'r');
        const fields = t.fields;
        elemAt = i => (i < fields.length && fields[i].flag !== 'u' ? { off: 4 * i, ty: fields[i].ty }
          : i < fields.length ? { off: -1, ty: TOP } : undefined);
        break;
      }
      case 'arr': {
        const n = word(0);
        if (n > 0x3fffffff) refuse('data', `${where}: array length ${n} is impossible`);
        size = 4 + 4 * n;
        writable = true;
        const elem = t.elem;
        elemAt = i => (i < n ? { off: 4 + 4 * i, ty: elem } : undefined);
        break;
      }
      case 'bytes': {
        const n = word(0);
        if (n > 0x7fffffff) refuse('data', `${where}: byte array length ${n} is impossible`);
        size = 4 + n;
        writable = !t.ro;
        elemAt = () => undefined;
        break;
      }
      default:
        refuse('data',
          `${where}: a data label's type must be a pointer to a tuple, array or byte array, not ${showTy(l.ty)}`);
    }
    const seg = segmentFor(this.p.img, l.addr, Math.max(size, 1));
    if (!seg) refuse('data', `${where}: its ${size} bytes are not inside one loaded segment`);
    if (l.addr < this.textEnd && l.addr + size > this.p.textAddr) refuse('data', `${where} overlaps the code`);
    const it = this.p.importTable;
    if (l.addr < it.addr + it.size && l.addr + size > it.addr) refuse('data', `${where} overlaps the import table`);
    // Nor the user-mode runtime's sections (its stubs and its private variables, e.g. the heap pointer): a data
    // object over them would let verified code forge what the runtime hands back. (The file's author could ship a
    // different runtime anyway; this protects honest programs in user mode. Kernel mode never runs them.)
    const sec = this.runtimeSectionOver(l.addr, size);
    if (sec) refuse('data', `${where} overlaps the runtime section ${sec.name}`);
    if (writable && !(seg.flags & PF_W))
      refuse('readonly-section', `${where} has a writable type (${showTy(l.ty)}) but lies in a read-only segment`);
    // Words past the file-backed part of the segment are zero. An array's elements there all have the same type, so
    // one check covers them all: checking them one by one would take time proportional to the declared memory size
    // (up to 3 GiB of .bss for a file of a few kilobytes), not to the file.
    const zeroFrom = seg.vaddr + seg.filesz - l.addr;
    for (let i = 0; ; i++) {
      spend(1);
      const e = elemAt(i);
      if (!e) break;
      if (e.off < 0) continue;
      if (t.k === 'arr' && e.off >= zeroFrom) {
        if (!this.matcher().sub(sing(0), e.ty))
          refuse('data', `${where}: the word at offset ${e.off} (0x0) is not a ${showTy(e.ty)}`, showTy(e.ty), 'S(0)');
        break;
      }
      const v = word(e.off);
      if (!this.matcher().sub(sing(v), e.ty))
        refuse('data', `${where}: the word at offset ${e.off} (0x${hex(v)}) is not a ${showTy(e.ty)}`, showTy(e.ty),
          `S(${v | 0})`);
    }
    return size;
  }

  // ---- the pass ----

  run(): CheckSummary {
    const { text, textAddr } = this.p;
    let st: State | null = null; // null: the previous instruction does not fall through
    // The state at each block's entry: one object, re-entered (no state outlives the block it is checked in).
    const entry = State.fromCode({ vars: [], regs: [], stack: NIL });
    let off = 0;
    const index = this.labelIndex, marks = this.annotatedAt;
    // The offset of the first label after the current block's (text.length if none): an instruction that ends past
    // it has a label inside it. The labels are sorted by address and all inside .text (checkLabels), so the label
    // after label i is label i + 1, and it is the first label inside the instruction if any is: one comparison per
    // instruction where every byte of it was looked up in the index.
    const addrs = this.codeLabels.addrs;
    let nextLabelOff = 0;
    while (off < text.length) {
      const addr = (textAddr + off) >>> 0;
      this.curAddr = addr;
      this.curOff = off;
      this.curInsn = undefined;
      if (index[off] !== 0) {
        const label = index[off] - 1;
        const ty = this.codeLabels.types[label];
        if (st) this.jumpTo(st, ty, label, 'fallthrough-type', false);
        this.curLabel = label;
        nextLabelOff = label + 1 < addrs.length ? addrs[label + 1] - textAddr : text.length;
        // The block's type variables are rigid inside it; fresh binders keep them distinct from the label's own
        // binders, which are the pattern variables of any jump or call back to this label (or to another label
        // that shares the same type). Blocks of one type share one fresh copy: no state of one block ever
        // reaches another except through a jump, which compares it with the target's own binders as patterns.
        // (The pass meets each label once: a table by label would be filled and never read again.)
        let fresh = this.blockEntry.get(ty);
        if (!fresh) this.blockEntry.set(ty, (fresh = freshen(ty)));
        this.blockTy = ty;
        this.blockFresh = fresh;
        st = entry.enter(fresh);
      } else if (!st) {
        refuse('no-label',
          `code at 0x${hex(addr)} follows an instruction that does not fall through, and has no label: it has no type`);
      }
      const d = decodeShared(text, off, addr);
      if (isRefusal(d)) {
        this.curInsn = d.text;
        if (d.reason === 'truncated')
          refuse('truncated',
            `the bytes at the end of the code (${text.length - off}) do not form a whole instruction`);
        refuse(d.reason, `'${d.text}' is not in the TAL subset (${d.reason})`);
      }
      this.curInsn = d;
      if (off + d.length > nextLabelOff) {
        const inside = index[nextLabelOff];
        refuse('bad-label',
          `label '${this.codeLabels.name(inside - 1)}' at 0x${hex(this.codeLabels.addrs[inside - 1])} is inside this ` +
          `instruction`);
      }
      this.instructions++;
      spend(1);
      if (marks[off] & AT_COERCE) this.coerce(st, this.p.ann.coerce.get(addr)!);
      st = this.step(st, d);
      off += d.length;
    }
    this.curInsn = undefined;
    if (st) refuse('fall-off-end', 'the last instruction falls through past the end of the code');
    if (this.coercionsApplied !== coercionCount(this.p.ann.coerce))
      refuse('annotation', 'a .tal_pack or .tal_unpack is not at the start of an instruction');
    return {
      blocks: this.codeLabels.size,
      instructions: this.instructions,
      codeBytes: text.length,
      imports: this.p.imports.map(i => i.name),
      dataObjects: this.dataObjects.length,
    };
  }

  // ---- control flow ----

  private codeTargetOf(target: number, what: string): number {
    const l = this.codeLabelAt(target);
    if (l < 0) {
      const inText = target >= this.p.textAddr && target < this.textEnd;
      refuse('bad-target',
        `${what} target 0x${hex(target)} is ` +
        `${inText ? 'not a labelled block (it may be inside an instruction or a block)' : 'outside the code'}`);
    }
    return l;
  }

  /**
   * The explicit instantiation at the current instruction, if any, for binders of these kinds: its arguments, with
   * the current block's own variables (which they may name) replaced by the block's fresh, rigid copies.
   */
  private instArgs(kinds: readonly ('word' | 'stack')[]): Arg[] | undefined {
    const inst: Inst | undefined = this.p.ann.inst.get(this.curAddr);
    if (!inst) return undefined;
    const where = `the instantiation at 0x${hex(this.curAddr)}`;
    if (inst.args.length !== kinds.length)
      refuse('annotation', `${where} gives ${inst.args.length} arguments for ${kinds.length} variables`);
    inst.args.forEach((a, i) => {
      if (isStk(a) !== (kinds[i] === 'stack'))
        refuse('annotation', `${where}: argument ${i + 1} is not a ${kinds[i]} type`);
    });
    return this.inBlock(inst.args, inst.scope, where);
  }

  /**
   * Annotation arguments whose variables (of `scope`, 0: none) must be the current block's own: with them replaced
   * by the block's fresh, rigid copies.
   */
  private inBlock(args: readonly Arg[], scope: number, where: string): Arg[] {
    if (scope === 0) return args.slice();
    const own = this.blockTy, fresh = this.blockFresh;
    if (!own || !fresh || scope !== this.p.ann.codeScopes[this.curLabel])
      refuse('annotation', `${where} uses type variables that are not its block's`);
    // The renaming is made once per block type (charged then), not at each instantiation: a block type over V
    // variables may label many blocks, each with many instantiations.
    let m = this.blockRename.get(own);
    if (!m) {
      spend(own.vars.length);
      m = new Map();
      for (let i = 0; i < own.vars.length; i++) {
        const b = own.vars[i];
        m.set(b, b.kind === 'stack' ? { k: 'svar', b: fresh.vars[i] } : { k: 'var', b: fresh.vars[i] });
      }
      this.blockRename.set(own, m);
    }
    const rename = m;
    return args.map(a => (isStk(a) ? substStk(a, rename) : substTy(a, rename)));
  }

  // ---- coercions: pack and unpack (docs/tal.md §4.8; the rules in exsum.ts) ----

  private coercionsApplied = 0;

  /** The coercions at the current instruction, in order, before it runs: each changes one register's type. */
  private coerce(st: State, list: readonly Coercion[]): void {
    for (const c of list) {
      this.coercionsApplied++;
      const reg = REG32_NAMES[c.reg];
      const where = `the ${c.op} of ${reg} at 0x${hex(this.curAddr)}`;
      const have = st.regs[c.reg];
      // The register keeps its value, so its facts stay: assign directly rather than through set().
      if (c.op === 'unpack') {
        st.regs[c.reg] = orRefuse(unpack(have, this.whnf(have), reg));
        continue;
      }
      const [named, witness] = this.inBlock(c.witness ? [c.ty!, c.witness] : [c.ty!], c.scope, where) as Ty[];
      const ty = this.whnf(named);
      if (ty.k !== 'exists') refuse('annotation', `${where}: the type is not an existential`);
      orRefuse(checkPack(have, ty, witness, this.matcher([ty.b]), reg));
      st.regs[c.reg] = named;
    }
  }

  private explicitInst(vars: readonly Binder[], m: Matcher): boolean {
    // Most transfers have none: look before listing the target's V binders' kinds. An instantiation is used by the
    // one instruction at its address, and has one argument per binder (else refused), so this is paid once per
    // argument in the file.
    if (!this.instHere()) return false;
    spend(vars.length);
    const args = this.instArgs(vars.map(v => v.kind));
    if (!args) return false;
    vars.forEach((v, i) => m.bind(v, args[i]));
    return true;
  }

  /** Whether an explicit instantiation is at the current instruction (ann.inst has its address). */
  private instHere(): boolean {
    return (this.annotatedAt[this.curOff] & AT_INST) !== 0;
  }

  /** What a control transfer is, for messages. */
  private transfer(cls: CheckErrorClass, target: Target): string {
    const name = this.targetName(target);
    return cls === 'fallthrough-type' ? `falling through into '${name}'` : cls === 'call-type' ? `call to '${name}'`
      : `jump to '${name}'`;
  }

  /** Check that the state satisfies the precondition of a code type (instantiating its variables). */
  private checkPre(st: State, c: CodeTy, cls: CheckErrorClass, target: Target, m: Matcher): void {
    for (let r = 0; r < 8; r++) {
      const want = c.regs[r];
      if (r === ESP || !want) continue;
      if (!m.sub(st.regs[r], want))
        refuse(cls, `${this.transfer(cls, target)}: ${REG32_NAMES[r]} has the wrong type`,
          `${REG32_NAMES[r]}: ${showTy(substTy(want, m.bindings))}`, `${REG32_NAMES[r]}: ${showTy(st.regs[r])}`);
    }
    if (!m.subStk(st.stack, c.stack))
      refuse(cls, `${this.transfer(cls, target)}: the stack has the wrong type`, `esp: ${showStk(c.stack)}`,
        `esp: ${showStk(st.stack)}`);
  }

  private jumpTo(st: State, ty: CodeTy, target: Target, cls: CheckErrorClass, explicit: boolean | undefined): void {
    if (st.untouched !== 0)
      refuse('stack-probe',
        `${this.transfer(cls, target)}: esp is ${st.untouched} bytes below the last stack access; touch the new stack ` +
        `space (e.g. with a store to [esp]) first`);
    const instHere = explicit !== false && this.instHere();
    if (!instHere && this.passedBefore(st, ty)) return;
    const m = this.matcher(ty.vars);
    if (instHere) this.explicitInst(ty.vars, m);
    this.checkPre(st, ty, cls, target, m);
    if (!instHere) this.rememberPassed(st, ty);
  }

  /**
   * Whether a jump with these very register and stack types (the same objects) has already been found to satisfy
   * this target type. checkPre is a function of the target type, the registers the target names and the stack type
   * (and of the file, which does not change): asked the same question again, it gives the same answer, so the answer
   * is looked up rather than found again. (The plain matcher's memo only ever adds proofs; a pattern match starts
   * from nothing each time.) Most jumps of a loop, and of functions with the same shape, ask one question.
   * One unit of work, plus one per entry compared (at most JUMP_MEMO per target).
   */
  private passedBefore(st: State, ty: CodeTy): boolean {
    const seen = this.passedFor(st.stack)?.get(ty);
    if (seen === undefined) return false;
    const regs = st.regs;
    spend(1 + seen.length);
    next: for (let i = 0; i < seen.length; i++) {
      const p: PassedJump = seen[i];
      // Every entry of the list has the target type's registers in `named` (it is the list for this type).
      for (let m: number = p.named; m !== 0; m &= m - 1) {
        const r = 31 - Math.clz32(m & -m);
        if (p.regs[r] !== regs[r]) continue next;
      }
      return true;
    }
    return false;
  }

  /** jumpsPassed's entry for a stack (through the last one looked up). */
  private passedFor(stack: Stk): StackMemo | undefined {
    if (stack === this.lastStack) return this.lastMemo;
    const memo = this.jumpsPassed.get(stack);
    this.lastStack = stack;
    this.lastMemo = memo;
    return memo;
  }

  private rememberPassed(st: State, ty: CodeTy): void {
    const stack = st.stack;
    let memo = this.passedFor(stack);
    if (!memo) {
      this.jumpsPassed.set(stack, (memo = new StackMemo()));
      this.lastStack = stack;
      this.lastMemo = memo;
    }
    const seen = memo.list(ty);
    let named = 0;
    for (let r = 0; r < 8; r++) if (r !== ESP && ty.regs[r]) named |= 1 << r;
    const entry: PassedJump = { regs: st.regs.slice(), named };
    // A bounded list: the newest question replaces the oldest once it is full.
    if (seen.length < JUMP_MEMO) seen.push(entry);
    else seen[this.instructions % JUMP_MEMO] = entry;
  }

  private typeOfTargetReg(st: State, r: number, what: string): CodeTy {
    let t = st.regs[r];
    if (t.k === 'sing') {
      const lt = this.labelType(t.n >>> 0);
      if (!lt || lt.k !== 'code')
        refuse('call-non-code', `${what} through ${REG32_NAMES[r]}, which holds the integer ${t.n}, not code`,
          'code{…}', showTy(t));
      t = lt;
    }
    const w = this.whnf(t);
    if (w.k !== 'code')
      refuse('call-non-code', `${what} through ${REG32_NAMES[r]}, which is not code`, 'code{…}', showTy(t));
    return w.code;
  }

  private call(st: State, callee: CodeTy, target: Target): State {
    const name = () => this.targetName(target);
    if (st.untouched + 4 > STACK_PROBE_LIMIT)
      refuse('stack-probe',
        `call pushes its return address ${st.untouched + 4} bytes below the last stack access (limit ` +
        `${STACK_PROBE_LIMIT})`);
    if (callee.stack.k !== 'cons')
      refuse('call-type', `'${name()}' is not a function: its stack type has no return address on top`, 'code{…} :: …',
        showStk(callee.stack));
    const ret = this.whnf(callee.stack.head);
    if (ret.k !== 'code')
      refuse('call-type', `'${name()}' is not a function: the top of its stack is not a return address`, 'code{…}',
        showTy(ret));
    const m = this.matcher(callee.vars);
    this.explicitInst(callee.vars, m);
    const pre: CodeTy = { vars: [], regs: callee.regs, stack: callee.stack.tail };
    this.checkPre(st, pre, 'call-type', target, m);
    const used = new Set<Binder>();
    freeIn(ret, { has: b => m.isPattern(b) }, used);
    const unbound = [...used].filter(b => !m.isBound(b));
    if (unbound.length > 0)
      refuse('call-inst',
        `call to '${name()}': cannot infer ${unbound.map(b => b.name).join(', ')} from the arguments; give them with ` +
        `.tal_inst`);
    return State.fromCode(freshen(substCode(ret.code, m.bindings)));
  }

  private callImport(st: State, imp: { name: string; sig: ImportSig }): State | null {
    const { sig, name } = imp;
    if (st.untouched + 4 > STACK_PROBE_LIMIT)
      refuse('stack-probe',
        `call pushes its return address ${st.untouched + 4} bytes below the last stack access (limit ` +
        `${STACK_PROBE_LIMIT})`);
    const m = this.matcher(sig.vars);
    let result: Ty | null;
    if (sig.spec.special === 'alloc') {
      const args = this.instArgs(['word']);
      if (!args) refuse('call-inst', `tal_alloc needs the type of the new tuple: give it with .tal_inst`);
      const tt = args[0] as Ty;
      const w = this.whnf(tt);
      if (w.k !== 'tuple' || w.nullable) refuse('call-inst', `tal_alloc allocates tuples, not ${showTy(tt)}`);
      const size = st.slot(0);
      if (!size || size.k !== 'sing' || size.n !== 4 * w.fields.length)
        refuse('import-args', `tal_alloc of ${showTy(tt)} needs the size S(${4 * w.fields.length}) on top of the stack`,
          `S(${4 * w.fields.length})`, size ? showTy(size) : '(nothing)');
      // The new tuple's type: one unit per field (as for any type built; test/tal/unmetered-copies).
      spend(w.fields.length);
      result = { k: 'tuple', nullable: false, fields: w.fields.map(f => ({ ty: f.ty, flag: 'u' })) };
    } else {
      this.explicitInst(sig.vars, m);
      let s = st.stack;
      sig.params.forEach((p, i) => {
        if (s.k !== 'cons')
          refuse('import-args', `${name} takes ${sig.params.length} arguments but the stack has only ${i}`, showTy(p),
            showStk(s));
        if (!m.sub(s.head, p))
          refuse('import-args', `argument ${i + 1} of ${name} has the wrong type`, showTy(substTy(p, m.bindings)),
            showTy(s.head));
        s = s.tail;
      });
      this.staticBufferCheck(st, imp);
      result = sig.result && substTy(sig.result, m.bindings);
      if (sig.result === null) return null; // never returns
    }
    // The state before the call is not needed after it: it becomes the state after it.
    const out = st;
    out.cond = null;
    out.set(EAX, result!);
    out.set(ECX, TOP);
    out.set(EDX, TOP);
    out.untouched = 0;
    return out;
  }

  /** A buffer argument whose bounds are all known constants is refused here if it would be refused at run time. */
  private staticBufferCheck(st: State, imp: { name: string; sig: ImportSig }): void {
    const b = imp.sig.spec.buffer;
    if (!b) return;
    const buf = st.slot(b.buf), off = st.slot(b.off);
    const count = typeof b.count === 'number' ? st.slot(b.count) : sing(b.count.fixed);
    if (!buf || !off || !count || buf.k !== 'sing' || off.k !== 'sing' || count.k !== 'sing') return;
    const obj = this.dataByAddr.get(buf.n >>> 0);
    if (!obj) return;
    const t = this.whnf(obj.label.ty);
    if (t.k !== 'bytes') return;
    const len = obj.size - 4;
    if (off.n < 0 || count.n < 0 || off.n + count.n > len)
      refuse('import-bounds',
        `${imp.name}: offset ${off.n} and count ${count.n} fall outside '${obj.label.name}' (length ${len})`);
  }

  // ---- memory ----

  private loc(st: State, mem: MemOperand, size: 1 | 4): Loc {
    if (mem.base === ESP) {
      if (mem.index !== NO_REG) refuse('stack-access', 'indexed stack access');
      if (size !== 4) refuse('stack-access', 'byte access to the stack');
      if (mem.disp < 0 || mem.disp % 4 !== 0)
        refuse('stack-access',
          `stack access at esp${mem.disp < 0 ? '' : '+'}${mem.disp} is not an aligned slot at or above esp`);
      return stackLoc(mem.disp / 4);
    }
    let baseReg = mem.base, index = mem.index;
    let baseTy: Ty;
    let disp = mem.disp;
    if (baseReg === NO_REG) {
      if (index !== NO_REG) refuse('not-a-pointer', 'an indexed access needs the array in a base register');
      const a = disp >>> 0;
      const obj = this.dataObjectAt(a);
      if (!obj) this.badAddress(a);
      baseTy = obj.label.ty;
      disp = a - obj.label.addr;
    } else {
      baseTy = this.pointerType(st.regs[baseReg], baseReg);
      // [i + arr*1 + 4] for byte arrays: accept the operands in either order.
      if (index !== NO_REG && mem.scale === 1 && !isPointer(this.whnf(baseTy))) {
        const other = this.pointerType(st.regs[index], index);
        if (isPointer(this.whnf(other))) {
          [baseReg, index] = [index, baseReg];
          baseTy = other;
        }
      }
    }
    const t0 = this.whnf(baseTy);
    const t = t0.k === 'sum' ? normalizeSum(t0) : t0;
    // (The base's name, baseName, is made only for a message or a sum's field: formatted at every access, it cost
    // more than the rule.)
    switch (t.k) {
      case 'sum': {
        const tuple = orRefuse(sumField(t, disp, index !== NO_REG, size, baseName(baseReg, mem.disp)));
        return fieldLoc(NO_REG, tuple, 0);
      }
      case 'exists':
        refuse('not-a-pointer',
          `${baseName(baseReg, mem.disp)} holds an existential: open it with .tal_unpack before using it`, 'a pointer',
          showTy(baseTy));
      case 'tuple': {
        if (t.nullable) {
          refuse('null-deref', `${baseName(baseReg, mem.disp)} may be null: test it before use`,
            showTy({ ...t, nullable: false }), showTy(baseTy));
        }
        if (index !== NO_REG)
          refuse('pointer-arith', `indexing into a tuple (${baseName(baseReg, mem.disp)}: ${showTy(baseTy)})`);
        if (size !== 4) refuse('bad-address', `byte access to a tuple field`);
        if (disp < 0 || disp % 4 !== 0 || disp >= 4 * t.fields.length)
          refuse('bad-address', `offset ${disp} is not a field of ${showTy(baseTy)}`);
        return fieldLoc(baseReg, t, disp / 4);
      }
      case 'arr': case 'bytes': {
        if (t.nullable) {
          refuse('null-deref', `${baseName(baseReg, mem.disp)} may be null: test it before use`,
            showTy({ ...t, nullable: false }), showTy(baseTy));
        }
        if (index === NO_REG) {
          if (disp === 0 && size === 4) return LEN_LOC;
          refuse('bad-array-access',
            `an array element needs an index register: [${baseName(baseReg, mem.disp)}+i*${t.k === 'arr' ? 4 : 1}+4]`);
        }
        const elemSize = t.k === 'arr' ? 4 : 1;
        if (mem.scale !== elemSize || disp !== 4 || size !== elemSize)
          refuse('bad-array-access',
            `elements of ${showTy(baseTy)} are accessed as ` +
            `${elemSize === 4 ? 'DWORD PTR [arr+i*4+4]' : 'BYTE PTR [arr+i*1+4]'}`);
        if (baseReg === NO_REG || !st.hasBound(index, baseReg))
          refuse('unchecked-index',
            `no bounds check of ${REG32_NAMES[index]} against the length of ${baseName(baseReg, mem.disp)} is in ` +
            `force (compare with cmp ${REG32_NAMES[index]},[${baseName(baseReg, mem.disp)}] and jae before the ` +
            'access; the check lapses when either register changes)');
        return t.k === 'arr' ? elemLoc(t.elem) : t.ro ? BYTE_LOC_RO : BYTE_LOC_RW;
      }
      case 'sptr':
        refuse('stack-pointer',
          `${baseName(baseReg, mem.disp)} is a stack pointer: it only restores esp (the stack is addressed through esp)`,
          'a pointer', showTy(baseTy));
      default:
        refuse('not-a-pointer', `${baseName(baseReg, mem.disp)} is not a pointer`, 'a pointer', showTy(baseTy));
    }
  }

  private pointerType(t: Ty, reg: number): Ty {
    if (t.k !== 'sing') return t;
    const a = t.n >>> 0;
    if (this.codeLabelAt(a) >= 0 || (a >= this.p.textAddr && a < this.textEnd))
      refuse('code-access', `${REG32_NAMES[reg]} points into the code: code is neither read nor written`);
    const d = this.p.ann.data.indexOf(a);
    if (d < 0) refuse('not-a-pointer', `${REG32_NAMES[reg]} holds the integer ${t.n}, not the address of a data object`,
      'a pointer', showTy(t));
    return this.p.ann.data.types[d];
  }

  private dataObjectAt(a: number): DataObject | undefined {
    let lo = 0, hi = this.dataObjects.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const o = this.dataObjects[mid];
      if (a < o.label.addr) hi = mid - 1;
      else if (a >= o.label.addr + o.size) lo = mid + 1;
      else return o;
    }
    return undefined;
  }

  private badAddress(a: number): never {
    if (a >= this.p.textAddr && a < this.textEnd)
      refuse('code-access', `0x${hex(a)} is in the code: code is neither read nor written`);
    const it = this.p.importTable;
    if (a >= it.addr && a < it.addr + it.size)
      refuse('code-access', `0x${hex(a)} is in the import table, which is only called through`);
    refuse('bad-address', `0x${hex(a)} is not inside any annotated data object`);
  }

  private load(st: State, l: Loc): Ty {
    switch (l.k) {
      case 'stack': {
        const t = st.slot(l.slot);
        if (!t) refuse('stack-underflow', `stack slot ${l.slot} (esp+${4 * l.slot}) is beyond the known stack`,
          undefined, `esp: ${showStk(st.stack)}`);
        st.untouched = Math.min(st.untouched, 4 * l.slot);
        return t;
      }
      case 'field': {
        const f = l.tuple.fields[l.index];
        if (f.flag === 'u') refuse('uninit-read', `field ${l.index} of ${showTy(l.tuple)} is not initialised`);
        return f.ty;
      }
      case 'len': return INT;
      case 'elem': return l.elem;
      case 'byte': return INT;
    }
  }

  private store(st: State, l: Loc, v: Ty): void {
    switch (l.k) {
      case 'stack': {
        if (!st.setSlot(l.slot, v))
          refuse('stack-underflow', `stack slot ${l.slot} (esp+${4 * l.slot}) is beyond the known stack`, undefined,
            `esp: ${showStk(st.stack)}`);
        st.untouched = Math.min(st.untouched, 4 * l.slot);
        return;
      }
      case 'field': {
        const f = l.tuple.fields[l.index];
        if (l.tuple === TAG_WORD)
          refuse('readonly-write', 'the tag word of a sum is read-only: a value\'s case never changes');
        if (f.flag === 'r') refuse('readonly-write', `field ${l.index} of ${showTy(l.tuple)} is read-only`);
        if (!this.matcher().sub(v, f.ty))
          refuse('store-type', `storing into field ${l.index}`, showTy(f.ty), showTy(v));
        if (f.flag === 'u' && l.baseReg !== NO_REG) {
          // The register that points to the tuple now knows the field is initialised; other copies of the pointer
          // still see ^u, which only forbids reading: sound without alias tracking. A new tuple type: one unit per
          // field (unmetered, a store into each field of a wide tuple was quadratic: test/tal/unmetered-copies).
          spend(l.tuple.fields.length);
          const fields: Field[] = l.tuple.fields.slice();
          fields[l.index] = { ty: f.ty, flag: 'rw' };
          // The register keeps its value, so its facts stay: assign directly rather than through set().
          st.regs[l.baseReg] = { k: 'tuple', nullable: false, fields };
        }
        return;
      }
      case 'len': refuse('readonly-write', 'the length of an array is read-only');
      case 'elem':
        if (!this.matcher().sub(v, l.elem)) refuse('store-type', 'storing an array element', showTy(l.elem), showTy(v));
        return;
      case 'byte':
        if (l.ro) refuse('readonly-write', 'the byte array is read-only (*rbytes)');
        if (!isIntLike(v)) refuse('not-an-int', 'only integers are stored into byte arrays', 'int', showTy(v));
        return;
    }
  }

  // ---- operands ----

  private readOperand(st: State, o: Operand, size: 1 | 4): Ty {
    switch (o.kind) {
      case 'reg':
        if (o.size === 4 && o.reg === ESP) refuse('stack-pointer', 'esp cannot be used as a value');
        if (o.size === 1) {
          const full = st.regs[o.reg & 3];
          if (!isIntLike(full))
            refuse('not-an-int', `${REG32_NAMES[o.reg & 3]} is not an integer`, 'int', showTy(full));
          return INT;
        }
        return st.regs[o.reg];
      case 'imm': return sing(o.value);
      case 'mem': return this.load(st, this.loc(st, o, size));
      default: refuse('unsupported', `operand ${o.kind} where a value is expected`);
    }
  }

  private writeOperand(st: State, o: Operand, v: Ty, size: 1 | 4): void {
    if (o.kind === 'reg') {
      if (o.reg === ESP && o.size === 4)
        refuse('stack-pointer', 'esp is changed only by push, pop, call, ret and add/sub esp, imm');
      // A byte register write leaves the rest of the register in place: the whole is an integer at best.
      st.set(o.size === 4 ? o.reg : o.reg & 3, o.size === 4 ? v : INT);
      return;
    }
    if (o.kind === 'mem') {
      const l = this.loc(st, o, size);
      if (l.k === 'stack' && size !== 4) refuse('stack-access', 'byte access to the stack');
      this.store(st, l, v);
      return;
    }
    refuse('unsupported', `cannot write to a ${o.kind} operand`);
  }

  private intOperand(st: State, o: Operand, what: string): Ty {
    const t = this.readOperand(st, o, 4);
    if (!isIntLike(t)) {
      const w = t.k === 'named' ? this.whnf(t) : t;
      if (isPointer(w) || w.k === 'code' || w.k === 'sptr' || w.k === 'sum' || w.k === 'exists')
        refuse('pointer-arith', `${what}: ${describe(o)} is a pointer (${showTy(t)}), not an integer`, 'int',
          showTy(t));
      refuse('not-an-int', `${what}: ${describe(o)} is not an integer`, 'int', showTy(t));
    }
    return t;
  }

  private isNonzero(st: State, o: Operand): boolean {
    if (o.kind !== 'reg' || o.size !== 4) return false;
    const t = st.regs[o.reg];
    return (st.nonzero & (1 << o.reg)) !== 0 || (t.k === 'sing' && t.n !== 0);
  }

  // ---- one instruction ----

  private step(st: State, d: Insn): State | null {
    const ops = d.operands;
    switch (d.op) {
      // The cases in the order of how often compiled code has them (the engine tests a switch on strings case by
      // case): moves, then control transfers and the stack, then arithmetic.
      case 'mov': {
        const dst = ops[0], src = ops[1];
        const size = operandSize(dst, src);
        if (size === 1) {
          // byte moves: mov r8, imm8 / r8, r/m8 / m8, r8 / m8, imm8
          const v = src.kind === 'imm' ? INT : this.readOperand(st, src, 1);
          this.writeOperand(st, dst, v, 1);
          return st;
        }
        // Typed stack pointers (docs/tal.md §4.10): mov r, esp takes one, mov esp, r restores one.
        if (dst.kind === 'reg' && dst.size === 4 && dst.reg === ESP) return this.restoreStackPointer(st, src);
        if (src.kind === 'reg' && src.size === 4 && src.reg === ESP && dst.kind === 'reg' && dst.size === 4)
          return this.takeStackPointer(st, dst.reg);
        const v = this.readOperand(st, src, 4);
        this.writeOperand(st, dst, v, 4);
        return st;
      }
      case 'push': {
        const src = ops[0];
        const v = this.readOperand(st, src, 4);
        if (st.untouched + 4 > STACK_PROBE_LIMIT)
          refuse('stack-probe',
            `push writes ${st.untouched + 4} bytes below the last stack access (limit ${STACK_PROBE_LIMIT})`);
        st.push(v);
        st.untouched = 0;
        return st;
      }
      case 'pop': {
        const dst = ops[0];
        const top = st.pop();
        if (!top) refuse('stack-underflow', 'pop from a stack whose top is not known to hold a value', 'τ :: σ',
          showStk(st.stack));
        st.untouched = Math.max(0, st.untouched - 4);
        this.writeOperand(st, dst, top, 4);
        return st;
      }
      case 'jmp': {
        const t = ops[0];
        if (t.kind === 'rel') {
          const l = this.codeTargetOf(t.target, 'jump');
          this.jumpTo(st, this.codeLabels.types[l], l, 'jump-type', undefined);
        } else if (t.kind === 'reg') {
          this.jumpTo(st, this.typeOfTargetReg(st, t.reg, 'jump'), REG32_NAMES[t.reg], 'jump-type', undefined);
        } else {
          refuse('indirect-target', 'jumps through memory are not allowed; load the code pointer into a register');
        }
        return null;
      }
      case 'jcc': {
        const t = ops[0];
        if (t.kind !== 'rel') refuse('unsupported', 'conditional jump without a direct target');
        const label = this.codeTargetOf(t.target, 'jump');
        // The taken edge's state is a copy only if the branch teaches it something (jumpTo does not change a state).
        this.jumpTo(this.refine(st, d.cc, true, true), this.codeLabels.types[label], label, 'jump-type', undefined);
        return this.refine(st, d.cc, false, false);
      }
      case 'call': {
        const t = ops[0];
        if (t.kind === 'rel') {
          const l = this.codeTargetOf(t.target, 'call');
          return this.call(st, this.codeLabels.types[l], l);
        }
        if (t.kind === 'reg') return this.call(st, this.typeOfTargetReg(st, t.reg, 'call'), REG32_NAMES[t.reg]);
        if (t.kind === 'mem' && t.base === NO_REG && t.index === NO_REG) {
          const imp = this.importBySlot.get(t.disp >>> 0);
          if (imp) return this.callImport(st, imp);
        }
        refuse('indirect-target',
          'calls through memory are allowed only through an import slot: call DWORD PTR [slot]');
      }
      case 'ret': {
        if (ops.length > 0) refuse('unsupported', 'ret with an immediate is not in the TAL subset');
        const s = st.stack;
        if (s.k !== 'cons')
          refuse('stack-underflow', 'ret with no return address known on the stack', 'code{…} :: σ', showStk(s));
        let rt = s.head;
        if (rt.k === 'sing') rt = this.labelType(rt.n >>> 0) ?? rt;
        const w = this.whnf(rt);
        if (w.k !== 'code')
          refuse('ret-not-code', 'the top of the stack is not a return address', 'code{…}', showTy(s.head));
        // ret does not fall through: the state after it is st's to change.
        st.stack = s.tail;
        st.untouched = 0;
        this.jumpTo(st, w.code, 'the return address', 'ret-type', false);
        return null;
      }
      case 'movzx': case 'movsx': {
        const dst = ops[0], src = ops[1];
        this.readOperand(st, src, 1);
        this.writeOperand(st, dst, INT, 4);
        return st;
      }
      case 'lea': {
        const dst = ops[0], src = ops[1];
        // lea computes an address but reads nothing: the result is an integer. Not of esp, though: that would copy
        // esp, which is never a value (lea r, [esp+k] is mov r, esp plus arithmetic).
        if (src.kind === 'mem' && (src.base === ESP || src.index === ESP))
          refuse('stack-pointer', 'lea of an esp-based address copies esp, which cannot be used as a value');
        this.writeOperand(st, dst, INT, 4);
        return st;
      }
      case 'add': case 'sub':
        if (ops[0].kind === 'reg' && ops[0].reg === ESP && ops[0].size === 4) return this.adjustEsp(st, d);
        return this.alu(st, d);
      case 'and': case 'or': case 'xor': case 'adc': case 'sbb':
        return this.alu(st, d);
      case 'cmp': case 'test': {
        const a = ops[0], b = ops[1];
        const la = a.kind === 'mem' ? this.loc(st, a, 4) : null;
        const lb = b.kind === 'mem' ? this.loc(st, b, 4) : null;
        const ta = la ? this.load(st, la) : this.readOperand(st, a, 4);
        const tb = lb ? this.load(st, lb) : this.readOperand(st, b, 4);
        // Junk (top: a stack slot made by sub esp, a register no type names) may be moved but not looked at: a
        // comparison would read, bit by bit, whatever was left below esp, which at CPL 0 includes what interrupts
        // and kernel functions pushed there.
        if (ta.k === 'top' || tb.k === 'top')
          refuse('not-an-int', `${d.op} reads ${describe(ta.k === 'top' ? a : b)}, which holds no value (top)`,
            'a value', 'top');
        st.cond = this.tagCond(st, d.op, a, b) ?? condOf(d.op, a, b, la, lb);
        return st;
      }
      case 'inc': case 'dec': case 'not': case 'neg': {
        const dst = ops[0];
        const t = this.intOperand(st, dst, d.op);
        let r: Ty = INT;
        if (t.k === 'sing')
          r = sing(d.op === 'inc' ? t.n + 1 : d.op === 'dec' ? t.n - 1 : d.op === 'not' ? ~t.n : -t.n);
        this.writeOperand(st, dst, r, 4);
        st.cond = null;
        return st;
      }
      case 'shl': case 'shr': case 'sar': case 'rol': case 'ror': {
        const dst = ops[0], cnt = ops[1];
        const t = this.intOperand(st, dst, d.op);
        const c = cnt.kind === 'reg' ? this.intOperand(st, cnt, d.op) : this.readOperand(st, cnt, 4);
        let r: Ty = INT;
        if (t.k === 'sing' && c.k === 'sing' && (d.op === 'shl' || d.op === 'shr' || d.op === 'sar')) {
          const n = c.n & 31;
          r = sing(d.op === 'shl' ? t.n << n : d.op === 'shr' ? t.n >>> n : t.n >> n);
        }
        this.writeOperand(st, dst, r, 4);
        if (!(cnt.kind === 'imm' && (cnt.value & 31) === 0)) st.cond = null;
        return st;
      }
      case 'imul': {
        if (ops.length === 1) return this.mulDiv(st, d);
        const dst = ops[0], a = ops[1], b = ops[2];
        const x = this.intOperand(st, a, 'imul');
        const y = b ? this.readOperand(st, b, 4) : this.intOperand(st, dst, 'imul');
        const r = x.k === 'sing' && y.k === 'sing' ? sing(Math.imul(x.n, y.n)) : INT;
        this.writeOperand(st, dst, r, 4);
        st.cond = null;
        return st;
      }
      case 'mul': case 'div': case 'idiv':
        return this.mulDiv(st, d);
      case 'cdq': {
        this.intOperand(st, { kind: 'reg', reg: EAX, size: 4 }, 'cdq');
        st.set(EDX, INT);
        st.cdq = true;
        return st;
      }
      case 'setcc': {
        const dst = ops[0];
        this.writeOperand(st, dst, INT, 1);
        return st;
      }
      case 'nop':
        return st;
      default:
        refuse('unsupported', `'${d.op}' is not in the TAL subset`);
    }
  }

  // ---- typed stack pointers (docs/tal.md §4.10; STAL, Morrisett, Crary, Glew and Walker 1998) ----
  //
  // A stack type describes the whole stack, from esp to the stack's fixed top end (main's ρ is everything above its
  // entry esp), so where a stack of type σ begins is fixed by σ's shape alone: its cells and the variable (or nil)
  // that ends it. sptr(σ) is that address. Restoring esp to it is sound exactly when σ's shape is a suffix of the
  // current stack type: the frames above it are discarded, esp only moves up (never into memory an interrupt or a
  // kernel function at CPL 0 may have written since), and what stays has the types the current state gives it.

  /** mov r, esp: r holds the address of the current stack, of type sptr(σ) for the current σ. */
  private takeStackPointer(st: State, r: number): State {
    spend(1);
    st.set(r, { k: 'sptr', stack: st.stack });
    return st;
  }

  /** mov esp, r: r must be an sptr(σ) whose σ is (a supertype of) a suffix of the current stack type. */
  private restoreStackPointer(st: State, src: Operand): State {
    if (src.kind !== 'reg' || src.size !== 4) {
      refuse('stack-pointer',
        'esp is written only by push, pop, call, ret, add/sub esp, imm and mov esp, r with r a stack pointer (sptr)');
    }
    if (src.reg === ESP) refuse('stack-pointer', 'mov esp, esp: esp cannot be used as a value');
    const name = REG32_NAMES[src.reg];
    const t = st.regs[src.reg];
    const w = t.k === 'named' ? this.whnf(t) : t;
    if (w.k !== 'sptr') {
      refuse('stack-pointer', `mov esp, ${name}: ${name} is not a stack pointer (only mov r, esp makes one)`,
        'sptr(σ)', showTy(t));
    }
    const cur = st.stack;
    const above = stkDepth(cur) - stkDepth(w.stack);
    if (above < 0) {
      refuse('stack-pointer',
        `mov esp, ${name}: ${name} points below esp, into frames that have been popped (its stack type is ` +
        `${words(stkDepth(w.stack))} deep, the current one ${stkDepth(cur)})`,
        `esp: … :: ${showStk(w.stack)}`, `esp: ${showStk(cur)}`);
    }
    const suffix = stackDrop(cur, above)!;
    if (!this.matcher().subStk(suffix, w.stack)) {
      refuse('stack-pointer',
        `mov esp, ${name}: the stack ${words(above)} above esp is not the stack ${name} points to ` +
        '(another frame, or its types have changed since)',
        `esp: … :: ${showStk(w.stack)}`, `esp: ${showStk(cur)}`);
    }
    st.stack = suffix;
    st.untouched = Math.max(0, st.untouched - 4 * above);
    return st;
  }

  private adjustEsp(st: State, d: Insn): State {
    const src = d.operands[1];
    if (src.kind !== 'imm') refuse('stack-pointer', 'esp is adjusted only by a constant');
    let n = d.op === 'add' ? src.value : -src.value;
    if (n % 4 !== 0) refuse('stack-pointer', `esp must stay word-aligned (adjustment ${n})`);
    st.cond = null;
    if (n >= 0) {
      const s = stackDrop(st.stack, n / 4);
      if (!s) refuse('stack-underflow', `add esp, ${n} pops below the known stack`, undefined,
        `esp: ${showStk(st.stack)}`);
      st.stack = s;
      st.untouched = Math.max(0, st.untouched - n);
      return st;
    }
    n = -n;
    if (st.untouched + n > STACK_PROBE_LIMIT)
      refuse('stack-probe',
        `sub esp, ${n} moves esp ${st.untouched + n} bytes below the last stack access (limit ${STACK_PROBE_LIMIT}); ` +
        `touch the stack in steps`);
    // One unit per cell: up to 256 for one instruction (the probe limit), where it used to cost one in all.
    spend(n / 4);
    for (let i = 0; i < n / 4; i++) st.push(TOP);
    st.untouched += n;
    return st;
  }

  private alu(st: State, d: Insn): State {
    const dst = d.operands[0], src = d.operands[1];
    // xor r,r and sub r,r are the idioms for zero: they need nothing of r.
    if ((d.op === 'xor' || d.op === 'sub') && dst.kind === 'reg' && src.kind === 'reg' && dst.reg === src.reg
      && dst.size === 4) {
      if (dst.reg === ESP) refuse('stack-pointer', 'esp cannot be zeroed');
      st.set(dst.reg, sing(0));
      st.cond = null;
      return st;
    }
    const a = this.intOperand(st, dst, d.op);
    const b = this.intOperand(st, src, d.op);
    let r: Ty = INT;
    if (a.k === 'sing' && b.k === 'sing') {
      switch (d.op) {
        case 'add': r = sing(a.n + b.n); break;
        case 'sub': r = sing(a.n - b.n); break;
        case 'and': r = sing(a.n & b.n); break;
        case 'or': r = sing(a.n | b.n); break;
        case 'xor': r = sing(a.n ^ b.n); break;
      }
    }
    this.writeOperand(st, dst, r, 4);
    st.cond = null;
    return st;
  }

  private mulDiv(st: State, d: Insn): State {
    const src = d.operands[0];
    this.intOperand(st, { kind: 'reg', reg: EAX, size: 4 }, d.op);
    this.intOperand(st, src, d.op);
    if (d.op === 'div' || d.op === 'idiv') {
      if (!this.isNonzero(st, src))
        refuse('div-unproven', `${d.op}: the divisor is not proven non-zero (test it and branch on zero first)`);
      if (d.op === 'div') {
        const e = st.regs[EDX];
        if (!(e.k === 'sing' && e.n === 0))
          refuse('div-unproven', 'div: edx must be 0 (xor edx, edx) so that the quotient fits', 'edx: S(0)',
            `edx: ${showTy(e)}`);
      } else if (!st.cdq) {
        refuse('div-unproven', 'idiv: edx must hold the sign extension of eax (cdq right before)');
      }
    }
    // mul and one-operand imul only write edx (the high half), whatever it held.
    st.set(EAX, INT);
    st.set(EDX, INT);
    st.cond = null;
    return st;
  }

  // ---- tag tests of sums (docs/tal.md §4.9; the rules in exsum.ts) ----

  /** Whether register r holds a sum (a method, not a closure: tagCond runs at every cmp and test). */
  private holdsSum(st: State, r: number): boolean {
    const t = st.regs[r];
    return t.k === 'sum' || (t.k === 'named' && this.whnf(t).k === 'sum');
  }

  /** `cmp r, n` / `test r, r` with r a sum, or `cmp DWORD PTR [r], n` with r a sum of pointer cases. */
  private tagCond(st: State, op: string, a: Operand, b: Operand): TagCond | null {
    if (a.kind === 'reg' && a.size === 4 && this.holdsSum(st, a.reg)) {
      if (op === 'cmp' && b.kind === 'imm') return { k: 'tag', reg: a.reg, n: b.value, word: false };
      if (op === 'test' && b.kind === 'reg' && b.size === 4 && b.reg === a.reg)
        return { k: 'tag', reg: a.reg, n: 0, word: false };
    }
    if (op === 'cmp' && a.kind === 'mem' && a.size !== 1 && a.base !== NO_REG && a.base !== ESP && a.index === NO_REG &&
      a.disp === 0 && b.kind === 'imm' && this.holdsSum(st, a.base))
      return { k: 'tag', reg: a.base, n: b.value, word: true };
    return null;
  }

  /** The state on an edge where `cc` holds after a tag test: the sum's register has the cases that remain. */
  private refineTag(st: State, c: TagCond, cc: number, copy: boolean): State {
    const t = this.whnf(st.regs[c.reg]);
    if (t.k !== 'sum') return st;
    const r = refineSum(t, c, cc);
    if (!r) return st;
    const out = copy ? st.clone() : st;
    // The register keeps its value (and so its facts): assign directly.
    out.regs[c.reg] = r;
    return out;
  }

  /** Learn from the branch: on the edge where `taken` says the condition held (or not). */
  /**
   * Learn from the branch: the state on the edge where `taken` says the condition held (or not). With `copy`, st is
   * left as it is and a copy learns (made only if there is something to learn: most branches teach nothing).
   */
  private refine(st: State, cc: number, taken: boolean, copy: boolean): State {
    const c = st.cond;
    if (!c) return st;
    if (c.k === 'tag') return this.refineTag(st, c, taken ? cc : cc ^ 1, copy);
    // cc: 2 b, 3 ae, 4 e, 5 ne, 6 be, 7 a
    if (c.k === 'zero') {
      const nonzeroEdge = (cc === 5 && taken) || (cc === 4 && !taken);
      if (!nonzeroEdge) return st;
      const out = copy ? st.clone() : st;
      const t = out.regs[c.reg];
      const w = t.k === 'named' ? this.whnf(t) : t;
      if ((w.k === 'tuple' || w.k === 'arr' || w.k === 'bytes') && w.nullable) out.regs[c.reg] = nonNull(w);
      out.nonzero |= 1 << c.reg;
      return out;
    }
    // idx <u len holds on: cmp idx,[arr]: jb taken / jae not taken; cmp [arr],idx: ja taken / jbe not taken
    const below = c.idxFirst ? (cc === 2 && taken) || (cc === 3 && !taken) : (cc === 7 && taken)
      || (cc === 6 && !taken);
    if (!below || st.hasBound(c.idx, c.arr)) return st;
    const out = copy ? st.clone() : st;
    out.addBound(c.idx, c.arr);
    return out;
  }
}

/** What a cmp or test tells the next conditional jump, if anything. */
// (A test of a sum's tag is found first, by Checker.tagCond.)
function condOf(op: string, a: Operand, b: Operand, la: Loc | null, lb: Loc | null): Cond | null {
  if (a.kind === 'reg' && a.size === 4) {
    if (op === 'test' && b.kind === 'reg' && b.reg === a.reg && b.size === 4) return ZERO_CONDS[a.reg];
    if (op === 'cmp' && b.kind === 'imm' && b.value === 0) return ZERO_CONDS[a.reg];
    if (op === 'cmp' && b.kind === 'mem' && lb?.k === 'len' && b.base !== NO_REG && b.index === NO_REG)
      return boundCond(a.reg, b.base, true);
  }
  if (op === 'cmp' && a.kind === 'mem' && la?.k === 'len' && a.base !== NO_REG && a.index === NO_REG
    && b.kind === 'reg' && b.size === 4)
    return boundCond(b.reg, a.base, false);
  return null;
}

function isPointer(t: Ty): boolean {
  return t.k === 'tuple' || t.k === 'arr' || t.k === 'bytes';
}

function operandSize(a: Operand, b: Operand): 1 | 4 {
  if (a.kind === 'reg') return a.size;
  if (b.kind === 'reg') return b.size;
  if (a.kind === 'mem' && a.size === 1) return 1;
  return 4;
}

function describe(o: Operand): string {
  switch (o.kind) {
    case 'reg': return o.size === 4 ? REG32_NAMES[o.reg] : 'a byte register';
    case 'imm': return `${o.value}`;
    case 'mem': return 'the memory operand';
    default: return o.kind;
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** Check an executable. Never throws on any input: every problem is a refusal with a class and a message. */
export function checkElf(bytes: Uint8Array): CheckResult {
  let program: Program;
  try {
    program = readProgram(bytes);
  } catch (e) {
    if (e instanceof ProgramError) return { ok: false, error: { cls: e.cls, message: e.message }, work: 0 };
    return { ok: false, error: { cls: 'elf', message: `unreadable file: ${(e as Error).message}` }, work: 0 };
  }
  return checkProgram(program);
}

export function checkProgram(program: Program): CheckResult {
  const c = new Checker(program);
  const budget = workBudget(program.img.bytes.length);
  meter.left = budget;
  const spent = () => Math.min(budget, budget - meter.left);
  try {
    c.checkImports();
    c.checkLabels();
    c.checkData();
    const summary = c.run();
    return { ok: true, summary, program, work: spent() };
  } catch (e) {
    const work = spent();
    if (e instanceof Refuse) {
      const inCode = c.instructions > 0 || c.curInsn !== undefined;
      return {
        ok: false,
        work,
        error: {
          cls: e.cls,
          message: e.message,
          ...(inCode ? { address: c.curAddr, fileOffset: program.textFileOffset + (c.curAddr - program.textAddr),
            label: c.curLabelName(), insn: typeof c.curInsn === 'string' ? c.curInsn : c.curInsn
            && formatInsn(c.curInsn) } : {}),
          expected: e.expected,
          actual: e.actual,
        },
      };
    }
    // The budget is spent, or the types are nested deeper than the checker's own stack allows: either way the file
    // asks for more than the checker gives any file.
    if (e instanceof TooComplex || e instanceof RangeError) {
      const why = e instanceof TooComplex
        ? `checking this file needs more than its work budget of ${budget} units (${WORK_PER_BYTE} per byte of the ` +
          `file + ${WORK_BASE})`
        : 'its types are nested too deeply to check';
      const inCode = c.instructions > 0;
      return {
        ok: false,
        work,
        error: {
          cls: 'too-complex',
          message: why,
          ...(inCode ? { address: c.curAddr, fileOffset: program.textFileOffset + (c.curAddr - program.textAddr),
            label: c.curLabelName() } : {}),
        },
      };
    }
    // A bug in the checker must refuse, never accept: report it as such.
    return { ok: false, work,
      error: { cls: 'unsupported', message: `internal checker error: ${(e as Error).stack ?? e}` } };
  } finally {
    meter.left = Infinity;
  }
}

export { NIL };
