// The annotation format stored in the ELF section .tal.types (docs/tal.md §5): its binary layout, the strict reader
// the checker uses, and the text form taldump and `talas --annotations` show. Trusted: the checker reads this.
//
// The section is binary so that reading it is not parsing: a string table, the binders grouped into scopes, the types
// as a pool of nodes that refer to earlier nodes by index (shared structure is stored once and built once), and the
// labels as fixed-size records sorted by address. Anything may be in the file, so every count, index, offset and
// length is checked against what it refers to before it is used, and every failure is an AnnotationError (the
// `annotation` refusal), never another exception. The reader makes one pass over each table: linear in the section.

import { type Arg, type Binder, type CodeTy, type Field, type Flag, type Stk, type Ty, type TypeDef, cons, newBinder,
  NIL, showArg, showCode, showTy, TOP } from './types.ts';
import { caseTag, SUM_CONST_LIMIT, type TupleTy } from './types.ts';
import { isName } from './typeparse.ts';

/** The first 8 bytes of the section; the version word follows. */
export const ANNOTATION_MAGIC = 'TAL-IA32';
export const ANNOTATION_VERSION = 3;

/** The header: the magic, then these u32 words in this order. */
export const HEADER_FIELDS = [
  'version', 'strings', 'stringBytes', 'scopes', 'binders', 'nodes', 'list', 'defs', 'code', 'data', 'inst', 'main',
  'coerce',
] as const;
export type HeaderField = (typeof HEADER_FIELDS)[number];
export const HEADER_BYTES = 8 + 4 * HEADER_FIELDS.length;

/**
 * The tables after the header, in file order: their record size in u32 words and the header field that counts them.
 * The string bytes come last.
 */
export const TABLES = [
  { name: 'string', count: 'strings', words: 1 },   // end offset of string i in the string bytes
  { name: 'scope', count: 'scopes', words: 2 },     // end (pre-order), number of binders
  { name: 'binder', count: 'binders', words: 2 },   // name, kind (0 word, 1 stack)
  { name: 'node', count: 'nodes', words: 4 },       // tag, a, b, c
  { name: 'list', count: 'list', words: 1 },        // child lists of tuple, code, named nodes and instantiations
  { name: 'def', count: 'defs', words: 3 },         // name, scope, body
  { name: 'code', count: 'code', words: 3 },        // address, name, type
  { name: 'data', count: 'data', words: 3 },        // address, name, type
  { name: 'inst', count: 'inst', words: 3 },        // address, first, count
  { name: 'coerce', count: 'coerce', words: 5 },    // address, op (0 pack, 1 unpack), register, type, witness
] as const satisfies readonly { name: string; count: HeaderField; words: number }[];
export type TableName = (typeof TABLES)[number]['name'];

/** Node tags (a node's record: tag, a, b, c; fields a node does not use are 0). */
export const Tag = {
  Int: 1, Top: 2, Sing: 3, Var: 4, Tuple: 5, Arr: 6, Bytes: 7, Code: 8, Named: 9, Nil: 10, SVar: 11, Cons: 12,
  Sum: 13, Exists: 14,
} as const;
export const TAG_NAMES = [
  '', 'int', 'top', 'sing', 'var', 'tuple', 'arr', 'bytes', 'code', 'named', 'nil', 'svar', 'cons', 'sum', 'exists',
];
/** sptr(σ), typed stack pointers (docs/tal.md §4.10): a tag of its own, far from the others' (a: the stack node). */
export const TAG_SPTR = 20;
TAG_NAMES[TAG_SPTR] = 'sptr';
/** Coercion records' operations (docs/tal.md §5): pack a register into an existential, or open one. */
export const COERCE_OPS = ['pack', 'unpack'] as const;
/** An absent register in a code node's list. */
export const NONE = 0xffffffff;
/** Field flags as stored: ^r ^rw ^u. */
export const FLAGS: readonly Flag[] = ['r', 'rw', 'u'];
/** The longest path of nodes from a type to a leaf (the text syntax had the same bound on nesting). */
export const MAX_TYPE_DEPTH = 200;
const RESERVED = new Set(['int', 'top', 'S', 'code', 'nil', 'arr', 'bytes', 'rbytes']);
RESERVED.add('sptr'); // typed stack pointers (docs/tal.md §4.10)
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class AnnotationError extends Error {
  override name = 'AnnotationError';
  constructor(message: string) {
    super(`.tal.types: ${message}`);
  }
}

type Fail = (msg: string) => never; // throws the AnnotationError with this message (the reader's helpers are given it)

export interface CodeLabel { readonly name: string; readonly addr: number; readonly ty: CodeTy }
export interface DataLabel { readonly name: string; readonly addr: number; readonly ty: Ty }

/** An explicit instantiation: its arguments, and the scope their variables come from (0: none; see `Annotations`). */
export interface Inst { readonly args: readonly Arg[]; readonly scope: number }

/**
 * A coercion applied to a register before the instruction at its address (docs/tal.md §4.8): pack (the register's
 * value checked against the existential's body, with the witness given or, if undefined, found by matching) or
 * unpack (the existential opened with a fresh rigid variable). `scope` as for an instantiation.
 */
export interface Coercion {
  readonly op: (typeof COERCE_OPS)[number];
  readonly reg: number;
  readonly ty: Ty | undefined;
  readonly witness: Ty | undefined;
  readonly scope: number;
}

/** The names of the string table, decoded only when asked for; their end offsets read in the section, at `endsAt`. */
export class Strings {
  constructor(private readonly bytes: Uint8Array, private readonly view: DataView, private readonly endsAt: number) {}
  get(i: number): string {
    // Names are ASCII (the reader checks every byte), so each byte is one character; a long name goes in pieces.
    let out = '';
    const from = i === 0 ? 0 : this.view.getUint32(this.endsAt + 4 * (i - 1), true);
    for (let p = from, end = this.view.getUint32(this.endsAt + 4 * i, true); p < end; p += 4096)
      out += String.fromCharCode(...this.bytes.subarray(p, Math.min(end, p + 4096)));
    return out;
  }
}

/**
 * Labels sorted by address, as parallel arrays (the checker indexes them directly), and as a read-only map from
 * address to label for everyone else (the label objects are made when asked for).
 */
export class LabelTable<T> implements ReadonlyMap<number, { readonly name: string; readonly addr: number; readonly ty: T }> {
  constructor(
    readonly addrs: Uint32Array,
    readonly types: readonly T[],
    private readonly view: DataView, // label i's name: the string whose index is at namesAt + 12 i (its record's)
    private readonly namesAt: number,
    private readonly strings: Strings,
  ) {}
  get size(): number { return this.addrs.length; }
  name(i: number): string { return this.strings.get(this.view.getUint32(this.namesAt + 12 * i, true)); }
  label(i: number): { readonly name: string; readonly addr: number; readonly ty: T } {
    return { name: this.name(i), addr: this.addrs[i], ty: this.types[i] };
  }
  /** The index of the label at addr, or -1 (binary search). */
  indexOf(addr: number): number {
    let lo = 0, hi = this.addrs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1, a = this.addrs[mid];
      if (a === addr) return mid;
      if (a < addr) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }
  get(addr: number) { const i = this.indexOf(addr); return i < 0 ? undefined : this.label(i); }
  has(addr: number): boolean { return this.indexOf(addr) >= 0; }
  *entries(): MapIterator<[number, { readonly name: string; readonly addr: number; readonly ty: T }]> {
    for (let i = 0; i < this.addrs.length; i++) yield [this.addrs[i], this.label(i)];
  }
  *keys(): MapIterator<number> { yield* this.addrs; }
  *values(): MapIterator<{ readonly name: string; readonly addr: number; readonly ty: T }> {
    for (let i = 0; i < this.addrs.length; i++) yield this.label(i);
  }
  [Symbol.iterator]() { return this.entries(); }
  forEach(f: (v: { readonly name: string; readonly addr: number; readonly ty: T }, k: number, m: this) => void): void {
    for (let i = 0; i < this.addrs.length; i++) f(this.label(i), this.addrs[i], this);
  }
}

export interface Annotations {
  /** The entry label's name, and its index among the code labels. */
  readonly main: string;
  readonly mainIndex: number;
  readonly defs: ReadonlyMap<string, TypeDef>;
  readonly code: LabelTable<CodeTy>;
  /** The scope each code label's type binds (0: it binds none): an instantiation inside its block may use it. */
  readonly codeScopes: Int32Array;
  readonly data: LabelTable<Ty>;
  /** Explicit instantiations by instruction address. */
  readonly inst: ReadonlyMap<number, Inst>;
  /** Coercions by instruction address, in file order (several may share an address). */
  readonly coerce: ReadonlyMap<number, readonly Coercion[]>;
  /**
   * The composite types of the pool that mention no type variable free (every variable in them is bound inside):
   * a ≤ a for any such a, with nothing to bind, so a comparison may answer at once (Matcher).
   */
  readonly closed: WeakSet<object>;
}

/** The byte offset of each table (and of the string bytes, 'bytes') for the given header counts, and the total size. */
export function layout(h: Readonly<Record<HeaderField, number>>): { offsets: Record<TableName | 'bytes', number>; size: number } {
  let at = HEADER_BYTES;
  const offsets = {} as Record<TableName | 'bytes', number>;
  for (const t of TABLES) {
    offsets[t.name] = at;
    at += 4 * t.words * h[t.count];
  }
  offsets.bytes = at;
  return { offsets, size: at + h.stringBytes };
}

/** Character classes of names ([A-Za-z_.$][A-Za-z0-9_.$]*), by byte. */
const NAME_START = new Uint8Array(256), NAME_PART = new Uint8Array(256);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  NAME_START[c] = /[A-Za-z_.$]/.test(ch) ? 1 : 0;
  NAME_PART[c] = /[A-Za-z0-9_.$]/.test(ch) ? 1 : 0;
}

/** NAME_PART of both bytes of a big-endian 16-bit pair: a name's bytes are checked two by one lookup. */
const NAME_PART_PAIR = new Uint8Array(65536);
for (let pair = 0; pair < 65536; pair++) NAME_PART_PAIR[pair] = NAME_PART[pair >>> 8] & NAME_PART[pair & 0xff];

/** 1 if every byte of [from, to) of view is a name's part, else 0: 8 at a time, no branch each (odd bytes first). */
function nameParts(view: DataView, from: number, to: number): number {
  const pair = NAME_PART_PAIR;
  let ok = 1, p = from;
  for (const head = from + ((to - from) & 7); p < head; p++) ok &= NAME_PART[view.getUint8(p)];
  for (; p < to; p += 8) {
    const w = view.getUint32(p), v = view.getUint32(p + 4);
    ok &= pair[w >>> 16] & pair[w & 0xffff] & pair[v >>> 16] & pair[v & 0xffff];
  }
  return ok;
}

/**
 * The string table's end offsets read and every string checked: a name, strictly after the one before it (so the
 * table is sorted and has no repeats), the last ending at the end of the string bytes. A function of its own, so that
 * the engine compiles its loop well. String i's checks, the first failure told: its end, its being a name, its order.
 * Linear: a pass over the string bytes sees whether all are name characters; then each string's bytes are read at
 * most twice (compared with the previous string's as far as they agree and a word or byte past; checked as names
 * only if the first pass found a byte that is not), so every byte is read at most four times.
 */
function readStringEnds(
  b: Uint8Array, view: DataView, at: number, nStr: number, base: number, stringBytes: number, fail: Fail,
): void {
  // Positions in b (and view, over b): the previous string is [prev, from), this one [from, end); the bytes end at top.
  const top = base + stringBytes;
  // Every byte a name character? Else (a file to be refused) each name's bytes are checked too, in the loop, in order.
  const partsOk = nameParts(view, base, top) === 1;
  // The last string short of the string bytes: found before the loop, told after it. (Code after a long loop is
  // compiled as the loop first runs, before it ran: a comparison there, with no type feedback, made V8's compiled
  // loop bail out at its end on every later call, until it was recompiled.)
  const unterminated = (nStr === 0 ? 0 : view.getUint32(at + 4 * (nStr - 1), true)) !== stringBytes;
  let prev = base, from = base;
  for (let i = 0; i < nStr; i++) {
    const endOffset = view.getUint32(at + 4 * i, true), end = base + endOffset;
    if (end <= from || end > top)
      fail(`string ${i}: end ${endOffset} is not after ${from - base} and within ${stringBytes}`);
    // The prefix shared with the previous string, k bytes (or more, the order known): sorted names share long ones,
    // compared as big-endian words (ordered as their first differing byte) while both have four more, then by bytes.
    const la = from - prev, lb = end - from, both = la < lb ? la : lb;
    let k = 0, x = 0, y = 0;
    while (k + 4 <= both && (x = view.getUint32(prev + k)) === (y = view.getUint32(from + k))) k += 4;
    let after: boolean;
    if (k + 4 <= both) after = x < y;
    else {
      while (k < both && b[prev + k] === b[from + k]) k++;
      after = k < both ? b[prev + k] < b[from + k] : lb > la;
    }
    // A name: its first byte checked unless shared (it passed there), the others if the first pass found a bad one.
    if (k === 0 && NAME_START[b[from]] === 0) fail(`string ${i} is not a name`);
    if (!partsOk) for (let p = from + 1; p < end; p++) if (NAME_PART[b[p]] === 0) fail(`string ${i} is not a name`);
    // Strictly after the previous string (a proper prefix comes first).
    if (i > 0 && !after) fail(`string ${i} is not after string ${i - 1} (the table is sorted and has no repeats)`);
    prev = from;
    from = end;
  }
  if (unterminated) fail(`the strings end at ${from - base}, not at the end of the string bytes (${stringBytes})`);
}

const WORD = 0, STACK = 1;

export function readAnnotations(b: Uint8Array): Annotations {
  const fail = (msg: string): never => { throw new AnnotationError(msg); };
  // The section's words, little-endian whatever the host's order; every offset read is inside the layout checked.
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (p: number) => view.getUint32(p, true);

  // ---- the header and the layout ----
  if (b.length < HEADER_BYTES) fail(`${b.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  for (let i = 0; i < 8; i++) if (b[i] !== ANNOTATION_MAGIC.charCodeAt(i)) fail(`must start with '${ANNOTATION_MAGIC}'`);
  const h = {} as Record<HeaderField, number>;
  HEADER_FIELDS.forEach((f, i) => (h[f] = u32(8 + 4 * i)));
  if (h.version !== ANNOTATION_VERSION) fail(`format version ${h.version}, not ${ANNOTATION_VERSION}`);
  // Every count is at most 2^32 - 1, so the sum is exact in a double: the size check bounds every count by the
  // section's size before anything is allocated.
  const { offsets: o, size } = layout(h);
  if (size !== b.length) fail(`the header's counts make ${size} bytes, but the section has ${b.length}`);
  const nStr = h.strings, nScopes = h.scopes, nBinders = h.binders, nNodes = h.nodes, nList = h.list;
  const list = (i: number) => u32(o.list + 4 * i);

  // ---- strings: names, sorted strictly (so distinct), each [A-Za-z_.$][A-Za-z0-9_.$]* ----
  const base = o.bytes;
  readStringEnds(b, view, o.string, nStr, base, h.stringBytes, fail);
  const strings = new Strings(b.subarray(base, base + h.stringBytes), view, o.string);
  const str = (i: number, what: string): number => (i < nStr ? i
    : fail(`${what}: string ${i} is not in the table of ${nStr}`));

  // ---- scopes, in pre-order: scope s (1-based) has the descendants s+1 … end-1; 0 is the root around them all ----
  const scopeEnd = new Uint32Array(nScopes + 1);
  const scopeParent = new Uint32Array(nScopes + 1);
  const scopeFirst = new Uint32Array(nScopes + 2);
  scopeEnd[0] = nScopes + 1;
  const open: number[] = [0];
  for (let s = 1; s <= nScopes; s++) {
    const rec = o.scope + 8 * (s - 1);
    const end = u32(rec), n = u32(rec + 4);
    while (scopeEnd[open[open.length - 1]] <= s) open.pop();
    const parent = open[open.length - 1];
    if (end <= s || end > scopeEnd[parent]) fail(`scope ${s}: end ${end} is not in (${s}, ${scopeEnd[parent]}]`);
    if (n === 0) fail(`scope ${s} has no binders`);
    scopeEnd[s] = end;
    scopeParent[s] = parent;
    scopeFirst[s + 1] = scopeFirst[s] + n;
    if (scopeFirst[s + 1] > nBinders) fail(`scope ${s}: its binders run past the ${nBinders} of the table`);
    open.push(s);
  }
  if (scopeFirst[nScopes + 1] !== nBinders)
    fail(`the scopes have ${scopeFirst[nScopes + 1]} binders, the table ${nBinders}`);
  /** a is s or encloses it. */
  const within = (a: number, s: number) => a === 0 || (a <= s && s < scopeEnd[a]);

  // ---- binders ----
  const binders: Binder[] = new Array(nBinders);
  const binderScope = new Uint32Array(nBinders);
  // Many scopes may bind the same name (every code type binds its r): each string is decoded and tested once, and
  // its binders share it. Decoded per binder, it cost the name's length per binder: scopes × length, not linear.
  const binderNames = new Map<number, string>(); // (a map: an array of nStr slots cost more to make than this loop)
  const names = new Set<number>();
  for (let s = 1; s <= nScopes; s++) {
    names.clear();
    for (let i = scopeFirst[s]; i < scopeFirst[s + 1]; i++) {
      const id = str(u32(o.binder + 8 * i), `binder ${i}`), kind = u32(o.binder + 8 * i + 4);
      let name = binderNames.get(id);
      if (name === undefined) {
        binderNames.set(id, (name = strings.get(id)));
        if (!IDENT.test(name)) fail(`binder ${i}: '${name}' is not a type variable name`);
      }
      if (kind > 1) fail(`binder ${i}: kind ${kind} is neither 0 (word) nor 1 (stack)`);
      if (names.has(id)) fail(`scope ${s} binds '${name}' twice`);
      names.add(id);
      binders[i] = newBinder(name, kind === 1 ? 'stack' : 'word');
      binderScope[i] = s;
    }
  }
  const scopeVars = (s: number) => binders.slice(scopeFirst[s], scopeFirst[s + 1]);
  const boundBy = new Uint8Array(nScopes + 1); // each scope is bound once, by one code node or one definition
  const bind = (s: number, what: string) => {
    if (s > nScopes) fail(`${what}: scope ${s} is not in the table of ${nScopes}`);
    if (boundBy[s]) fail(`${what}: scope ${s} is already bound`);
    boundBy[s] = 1;
  };

  // ---- definition heads (the nodes need their names and parameters) ----
  const defNames: string[] = new Array(h.defs);
  const defParams: Binder[][] = new Array(h.defs);
  const defScope = new Uint32Array(h.defs);
  const defNameSeen = new Set<number>();
  for (let d = 0; d < h.defs; d++) {
    const rec = o.def + 12 * d;
    const nameId = str(u32(rec), `definition ${d}`), s = u32(rec + 4);
    const name = strings.get(nameId);
    if (!IDENT.test(name) || RESERVED.has(name)) fail(`definition ${d}: '${name}' cannot name a type`);
    if (defNameSeen.has(nameId)) fail(`type '${name}' defined twice`);
    defNameSeen.add(nameId);
    if (s !== 0) bind(s, `definition ${d}`);
    defNames[d] = name;
    defScope[d] = s;
    defParams[d] = s === 0 ? [] : scopeVars(s);
  }

  // ---- the node pool: children come before their parents, so one pass builds every node, and no cycle exists ----
  const nodes: (Ty | Stk)[] = new Array(nNodes);
  const sort = new Uint8Array(nNodes);
  /** The innermost scope whose binders the node may mention free (0: closed); its other free binders are in scopes around it. */
  const need = new Uint32Array(nNodes);
  const depth = new Uint8Array(nNodes);
  /** The scope a code node binds (0: none), by node. */
  const codeScope = new Uint32Array(nNodes);
  const closed = new WeakSet<object>();
  let i = 0;
  let curNeed = 0, curDepth = 0;
  const where = () => `node ${i} (${TAG_NAMES[u32(o.node + 16 * i)] ?? '?'})`;
  /** Child node n of node i, of the given sort: its needs must lie on one chain of scopes with the others'. */
  const child = (n: number, want: number): Ty | Stk => {
    if (n >= i) fail(`${where()}: child ${n === NONE ? 'NONE' : n} is not an earlier node`);
    if (sort[n] !== want)
      fail(`${where()}: child ${n} is a ${want === WORD ? 'stack' : 'word'} type, not a ` +
        `${want === WORD ? 'word' : 'stack'} type`);
    const c = need[n];
    if (c !== 0 && c !== curNeed) {
      if (within(curNeed, c)) curNeed = c;
      else if (!within(c, curNeed))
        fail(`${where()}: its parts use variables of scopes ${curNeed} and ${c}, neither inside the other`);
    }
    if (depth[n] > curDepth) curDepth = depth[n];
    return nodes[n];
  };
  const word = (n: number) => child(n, WORD) as Ty;
  const stack = (n: number) => child(n, STACK) as Stk;
  const range = (first: number, count: number, what: string) => {
    if (first + count > nList)
      fail(`${what}: list entries ${first}..${first + count} are outside the list of ${nList}`);
  };
  for (; i < nNodes; i++) {
    const rec = o.node + 16 * i;
    const tag = u32(rec), a = u32(rec + 4), bb = u32(rec + 8), c = u32(rec + 12);
    curNeed = 0;
    curDepth = 0;
    let node: Ty | Stk;
    let s: number = WORD;
    /** The fields this tag does not use (one meaning per byte string). */
    const zero = (...v: number[]) => { if (v.some(x => x !== 0)) fail(`${where()}: the fields it does not use must be 0`); };
    switch (tag) {
      case Tag.Int: zero(a, bb, c); node = { k: 'int' }; break;
      case Tag.Top: zero(a, bb, c); node = TOP; break;
      case Tag.Sing: zero(bb, c); node = { k: 'sing', n: a | 0 }; break;
      case Tag.Var: case Tag.SVar: {
        zero(bb, c);
        if (a >= nBinders) fail(`${where()}: binder ${a} is not in the table of ${nBinders}`);
        const bd = binders[a];
        if ((bd.kind === 'stack') !== (tag === Tag.SVar)) fail(`${where()}: '${bd.name}' is a ${bd.kind} variable`);
        curNeed = binderScope[a];
        if (tag === Tag.SVar) { s = STACK; node = { k: 'svar', b: bd }; } else node = { k: 'var', b: bd };
        break;
      }
      case Tag.Tuple: {
        if (a > 1) fail(`${where()}: nullable is ${a}, not 0 or 1`);
        range(bb, 2 * c, where());
        const fields: Field[] = new Array(c);
        for (let f = 0; f < c; f++) {
          const flag = list(bb + 2 * f + 1);
          if (flag > 2) fail(`${where()}: field ${f} has flag ${flag}, not 0 (r), 1 (rw) or 2 (u)`);
          fields[f] = { ty: word(list(bb + 2 * f)), flag: FLAGS[flag] };
        }
        node = { k: 'tuple', nullable: a === 1, fields };
        break;
      }
      case Tag.Arr:
        if (a > 1) fail(`${where()}: nullable is ${a}, not 0 or 1`);
        zero(c);
        node = { k: 'arr', nullable: a === 1, elem: word(bb) };
        break;
      case Tag.Bytes:
        if (a > 3) fail(`${where()}: flags ${a} are not a combination of 1 (nullable) and 2 (read-only)`);
        zero(bb, c);
        node = { k: 'bytes', nullable: (a & 1) !== 0, ro: (a & 2) !== 0 };
        break;
      case Tag.Code: {
        zero(c);
        range(bb, 8, where());
        const regs: (Ty | null)[] = new Array(8).fill(null);
        for (let r = 0; r < 8; r++) {
          const n = list(bb + r);
          if (r !== 4 && n !== NONE) regs[r] = word(n);
        }
        const stk = stack(list(bb + 4));
        let vars: Binder[] = [];
        if (a !== 0) {
          bind(a, where());
          // Its parts may use its own binders and those of the scopes around it; it then needs those around it.
          if (!within(curNeed, a))
            fail(`${where()}: its parts use variables of scope ${curNeed}, which is not around scope ${a}`);
          curNeed = scopeParent[a];
          vars = scopeVars(a);
        }
        const code: CodeTy = { vars, regs, stack: stk };
        codeScope[i] = a;
        node = { k: 'code', code };
        break;
      }
      case Tag.Named: {
        if (a >= h.defs) fail(`${where()}: definition ${a} is not in the table of ${h.defs}`);
        const params = defParams[a];
        if (c !== params.length) fail(`${where()}: type '${defNames[a]}' takes ${params.length} arguments, not ${c}`);
        range(bb, c, where());
        const args: Arg[] = new Array(c);
        for (let k = 0; k < c; k++) args[k] = child(list(bb + k), params[k].kind === 'stack' ? STACK : WORD);
        node = { k: 'named', name: defNames[a], args };
        break;
      }
      case Tag.Sum: {
        // a nullary cases (their values in the list), then c - a case tuples (nodes), both strictly increasing.
        if (a > c) fail(`${where()}: ${a} nullary cases of ${c}`);
        range(bb, c, where());
        const consts: number[] = new Array(a);
        for (let k = 0; k < a; k++) {
          const v = list(bb + k);
          if (v >= SUM_CONST_LIMIT || (k > 0 && v <= consts[k - 1]))
            fail(`${where()}: nullary case ${v} is not below ${SUM_CONST_LIMIT} and above the one before`);
          consts[k] = v;
        }
        const tags: number[] = [];
        const cases: TupleTy[] = [];
        for (let k = a; k < c; k++) {
          const t = word(list(bb + k));
          const tag = caseTag(t) ?? fail(`${where()}: case ${k - a} is not a tuple whose field 0 is its tag S(n)`);
          if (tags.length > 0 && tag <= tags[tags.length - 1]) fail(`${where()}: case tags are not increasing`);
          tags.push(tag);
          cases.push(t as TupleTy);
        }
        node = { k: 'sum', consts, tags, cases };
        break;
      }
      case Tag.Exists: {
        // Binds one word variable, like a code node binding its scope.
        zero(c);
        if (a === 0) fail(`${where()}: an existential binds a scope (not 0)`);
        bind(a, where());
        if (scopeFirst[a + 1] - scopeFirst[a] !== 1 || binders[scopeFirst[a]].kind !== 'word')
          fail(`${where()}: scope ${a} must bind exactly one word variable`);
        const body = word(bb);
        if (!within(curNeed, a))
          fail(`${where()}: its body uses variables of scope ${curNeed}, which is not around scope ${a}`);
        curNeed = scopeParent[a];
        node = { k: 'exists', b: binders[scopeFirst[a]], body };
        break;
      }
      case Tag.Nil: zero(a, bb, c); s = STACK; node = NIL; break;
      case Tag.Cons: {
        zero(c);
        const head = word(a), tail = stack(bb);
        s = STACK;
        node = cons(head, tail);
        break;
      }
      case TAG_SPTR: zero(bb, c); node = { k: 'sptr', stack: stack(a) }; break;
      default:
        fail(`node ${i}: unknown tag ${tag}`);
    }
    if (curDepth + 1 > MAX_TYPE_DEPTH) fail(`${where()}: types nest more than ${MAX_TYPE_DEPTH} deep`);
    nodes[i] = node!;
    if (curNeed === 0 && tag !== Tag.Int && tag !== Tag.Top && tag !== Tag.Sing && tag !== Tag.Bytes && tag !== Tag.Nil)
      closed.add(node!);
    sort[i] = s;
    need[i] = curNeed;
    depth[i] = curDepth + 1;
  }
  /** Node n as a word type that something outside the pool refers to. */
  const root = (n: number, what: string): Ty => {
    if (n >= nNodes) fail(`${what}: node ${n} is not in the pool of ${nNodes}`);
    if (sort[n] !== WORD) fail(`${what}: node ${n} is a stack type, not a word type`);
    return nodes[n] as Ty;
  };
  for (let s = 1; s <= nScopes; s++)
    if (!boundBy[s]) fail(`scope ${s} is bound by no code type, existential or definition`);

  // ---- definition bodies: structures (so unfolding makes progress), using only their own parameters ----
  const defs = new Map<string, TypeDef>();
  for (let d = 0; d < h.defs; d++) {
    const n = u32(o.def + 12 * d + 8);
    const body = root(n, `definition '${defNames[d]}'`);
    if (body.k === 'named' || body.k === 'var')
      fail(`type '${defNames[d]}' must be defined as a structure, not as another name`);
    if (need[n] !== 0 && need[n] !== defScope[d])
      fail(`type '${defNames[d]}' uses variables that are not its parameters`);
    defs.set(defNames[d], { name: defNames[d], params: defParams[d], body });
  }

  // ---- labels: sorted by address, named with distinct strings, typed by closed nodes ----
  const pool: Pool = { nodes, sort, need, codeScope };
  const nameUsed = new Uint8Array(nStr); // shared: a code label and a data label do not share a name either
  const codeScopes = new Int32Array(h.code);
  const codeAddrs = new Uint32Array(h.code), codeTypes: CodeTy[] = new Array(h.code);
  const dataAddrs = new Uint32Array(h.data), dataTypes: Ty[] = new Array(h.data);
  readLabels(view, o.code, 'code', codeAddrs, codeTypes, pool, nameUsed, strings, root, fail, codeScopes);
  readLabels(view, o.data, 'data', dataAddrs, dataTypes, pool, nameUsed, strings, root, fail);
  const code = new LabelTable(codeAddrs, codeTypes, view, o.code + 4, strings);
  const data = new LabelTable(dataAddrs, dataTypes, view, o.data + 4, strings);
  // No data label shares an address with a code label (both tables are sorted: one merge).
  for (let x = 0, y = 0; x < code.addrs.length && y < data.addrs.length;) {
    const ca = code.addrs[x], da = data.addrs[y];
    if (ca === da) fail(`two labels at 0x${ca.toString(16)}`);
    if (ca < da) x++; else y++;
  }
  if (h.main >= h.code) fail(`main is code label ${h.main}, not one of the ${h.code}`);

  // ---- explicit instantiations, sorted by address; their variables are checked against the block at use ----
  const inst = new Map<number, Inst>();
  let prev = -1;
  for (let k = 0; k < h.inst; k++) {
    const rec = o.inst + 12 * k;
    const addr = u32(rec), first = u32(rec + 4), count = u32(rec + 8);
    const what = `instantiation ${k}`;
    if (addr <= prev) fail(`${what}: address 0x${addr.toString(16)} is not above the previous one's`);
    prev = addr;
    range(first, count, what);
    const args: Arg[] = new Array(count);
    let scope = 0;
    for (let x = 0; x < count; x++) {
      const n = list(first + x);
      if (n >= nNodes) fail(`${what}: node ${n} is not in the pool of ${nNodes}`);
      args[x] = nodes[n];
      const c = need[n];
      if (c !== 0 && c !== scope) {
        if (scope !== 0) fail(`${what}: its arguments use variables of two scopes`);
        scope = c;
      }
    }
    inst.set(addr, { args, scope });
  }
  const coerce = readCoercions(h.coerce, o.coerce, u32, nNodes, n => nodes[n], n => sort[n] === WORD, need, fail);
  return {
    main: code.name(h.main), mainIndex: h.main, defs, code, codeScopes, data, inst,
    closed, coerce,
  };
}

/** What the label tables need of the node pool, by node: the node, its sort, its need and the scope it binds. */
interface Pool { nodes: readonly (Ty | Stk)[]; sort: Uint8Array; need: Uint32Array; codeScope: Uint32Array }

/**
 * One table of labels, code or data (codeScopes given: code), into addrs and types (the caller's, so that nothing
 * follows the loop: see readStringEnds): sorted by address, named with distinct strings (nameUsed is shared by both
 * tables), typed by closed word nodes, a code label's by a code type. Its own function reading the words directly
 * (closures building words from bytes and checking types were a third of reading 100,000 labels), which nodes may
 * type a label found once per node: linear, one pass over the nodes and one over the records, constant work each.
 */
function readLabels(
  view: DataView, at: number, table: 'code' | 'data', addrs: Uint32Array, types: (Ty | CodeTy)[], pool: Pool,
  nameUsed: Uint8Array, strings: Strings, root: (n: number, what: string) => Ty, fail: Fail, codeScopes?: Int32Array,
): void {
  const { nodes, sort, need, codeScope } = pool;
  const nNodes = nodes.length, nStr = nameUsed.length;
  const what = (k: number) => `${table} label ${k}`; // made only for a message (one a label was a tenth of the time)
  // The type a label typed by node n gets where n may type one (a closed word type; for code, a code's CodeTy), and
  // the checks that refuse a node that may not, in their order.
  const labelType: (Ty | CodeTy | undefined)[] = new Array(nNodes).fill(undefined);
  for (let n = 0; n < nNodes; n++) {
    const ty = nodes[n] as Ty;
    if (sort[n] !== WORD || need[n] !== 0) continue;
    if (codeScopes === undefined) labelType[n] = ty;
    else if (ty.k === 'code') labelType[n] = ty.code;
  }
  const refuseType = (n: number, k: number): never => {
    if (n >= nNodes || sort[n] !== WORD) root(n, what(k));
    if (need[n] !== 0) fail(`${what(k)}: its type uses variables it does not bind`);
    return fail(`${what(k)}: its type is not a code type`);
  };
  const ONE_PER_ADDRESS = '(the table is sorted, one label per address)';
  let prevAddr = -1;
  for (let k = 0, rec = at, count = addrs.length; k < count; k++, rec += 12) {
    const addr = view.getUint32(rec, true), nameId = view.getUint32(rec + 4, true), n = view.getUint32(rec + 8, true);
    if (addr <= prevAddr)
      fail(`${what(k)}: address 0x${addr.toString(16)} is not above the previous label's ${ONE_PER_ADDRESS}`);
    if (nameId >= nStr) fail(`${what(k)}: string ${nameId} is not in the table of ${nStr}`);
    if (nameUsed[nameId] !== 0) fail(`${what(k)}: label '${strings.get(nameId)}' annotated twice`);
    nameUsed[nameId] = 1;
    const ty = n < nNodes ? labelType[n] : undefined;
    types[k] = ty === undefined ? refuseType(n, k) : ty;
    if (codeScopes !== undefined) codeScopes[k] = codeScope[n];
    addrs[k] = addr;
    prevAddr = addr;
  }
}

/**
 * The coercion records: sorted by address (several may share one), each a pack (an existential type node, and a
 * witness node or NONE) or an unpack (both NONE) of a register other than esp. Their variables, like an
 * instantiation's, come from one scope, checked against the block they are in when the instruction is checked.
 */
function readCoercions(
  count: number, at: number, u32: (p: number) => number, nNodes: number, node: (n: number) => Ty | Stk,
  isWord: (n: number) => boolean, need: Uint32Array, fail: (msg: string) => never,
): Map<number, Coercion[]> {
  const out = new Map<number, Coercion[]>();
  let prev = -1;
  for (let k = 0; k < count; k++) {
    const rec = at + 20 * k;
    const addr = u32(rec), op = u32(rec + 4), reg = u32(rec + 8), tyN = u32(rec + 12), wN = u32(rec + 16);
    const what = `coercion ${k}`;
    if (addr < prev) fail(`${what}: address 0x${addr.toString(16)} is below the previous one's`);
    prev = addr;
    if (op >= COERCE_OPS.length) fail(`${what}: operation ${op} is neither 0 (pack) nor 1 (unpack)`);
    if (reg > 7 || reg === 4) fail(`${what}: register ${reg} is not one of eax ecx edx ebx ebp esi edi`);
    let scope = 0;
    const arg = (n: number, name: string): Ty | undefined => {
      if (n === NONE) return undefined;
      if (n >= nNodes || !isWord(n)) fail(`${what}: its ${name} ${n} is not a word type node of the pool of ${nNodes}`);
      const c = need[n];
      if (c !== 0 && scope !== 0 && c !== scope) fail(`${what}: its types use variables of two scopes`);
      if (c !== 0) scope = c;
      return node(n) as Ty;
    };
    const ty = arg(tyN, 'type'), witness = arg(wN, 'witness');
    // (That a pack's type is an existential is the checker's to see: it may be a name that unfolds to one.)
    if (COERCE_OPS[op] === 'pack' ? ty === undefined : ty !== undefined || witness !== undefined)
      fail(`${what}: a pack gives a type (and perhaps a witness), an unpack neither`);
    const list = out.get(addr) ?? [];
    list.push({ op: COERCE_OPS[op], reg, ty, witness, scope });
    out.set(addr, list);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The text form, for display (taldump, talas --annotations): one entry per line, types in the syntax of §3.

export function annotationsText(a: Annotations): string {
  const hexAddr = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
  const out: string[] = [`${ANNOTATION_MAGIC} ${ANNOTATION_VERSION}`, `main ${a.main}`];
  for (const d of a.defs.values()) out.push(`type ${typeDefHead(d)} = ${showTy(d.body)}`);
  for (let i = 0; i < a.code.size; i++) out.push(`code ${hexAddr(a.code.addrs[i])} ${a.code.name(i)} : ` +
    `${showCode(a.code.types[i])}`);
  for (let i = 0; i < a.data.size; i++) out.push(`data ${hexAddr(a.data.addrs[i])} ${a.data.name(i)} : ` +
    `${showTy(a.data.types[i])}`);
  for (const [addr, it] of a.inst) out.push(`inst ${hexAddr(addr)} : ${instText(it)}`);
  for (const [addr, cs] of a.coerce) for (const c of cs) out.push(coercionText(c, hexAddr(addr)));
  return out.join('\n') + '\n';
}

export function typeDefHead(d: TypeDef): string {
  return d.params.length
    ? `${d.name}<${d.params.map(b => (b.kind === 'stack' ? `${b.name}:stack` : b.name)).join(', ')}>` : d.name;
}

const REGISTER_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];

/** `pack 0xADDR eax : TYPE with WITNESS` / `pack 0xADDR eax : TYPE` / `unpack 0xADDR eax` (the address if given). */
export function coercionText(c: Coercion, addr?: string): string {
  const at = addr === undefined ? '' : `${addr} `;
  if (c.op === 'unpack') return `unpack ${at}${REGISTER_NAMES[c.reg]}`;
  return `pack ${at}${REGISTER_NAMES[c.reg]} : ${showTy(c.ty!)}${c.witness ? ` with ${showTy(c.witness)}` : ''}`;
}

export function instText(it: Inst): string {
  return it.args.map(showArg).join(', ');
}

export { isName };
