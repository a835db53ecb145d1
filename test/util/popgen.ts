// A generator of well-typed popc programs, by construction: expressions are generated for a wanted type over a typed
// environment (locals, parameters, globals, a few generated monomorphic and polymorphic functions and the Core
// library), statements keep the language's static rules (definite initialization, no unreachable code, a return at
// the end of every non-void function, ?struct fields only after a test that narrows the local, narrowed locals never
// reassigned, loop counters never assigned in the body, distinct case values; switches on unions name each variant
// once and cover them all or have a default; a variant is read directly only where a case has just matched it), and
// now and then reads a field of a node nobody tested (a run-time null check). Loops are bounded by counters; indices
// are reduced modulo the (never empty) array's size and divisors are 1..16, so a run ends normally, or by an
// exception: statements raise the program's three exceptions (one without a value, one carrying an int, one a
// string) under a condition, and try … handle statements catch them, by a switch with or without default (which
// raises again what no case takes) or by a handler that takes everything. Integer expressions include Popcorn's
// casts through the sub-word integers (`(: int) (: byte) (e)`: cut to 8 or 16 bits at both levels alike) and the
// comma operator. Anonymous functions may raise (`if (q % 3 == 1) raise Gx1(q);`), and a try body may begin by
// calling one through `apply`: the exception crosses the function value and apply's frame to the handler outside.
//
// The generator draws its choices from a Rand: `fromGen(g)` for fast-check's fc.gen() (so a failing case shrinks and
// replays), `seeded(n)` for a plain PRNG.
import fc from 'fast-check';

export interface Rand { int(lo: number, hi: number): number }

export function fromGen(g: fc.GeneratorValue): Rand {
  return { int: (lo, hi) => (lo >= hi ? lo : g(fc.integer, { min: lo, max: hi })) };
}

export function seeded(seed: number): Rand {
  let s = seed >>> 0;
  return {
    int(lo, hi) {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      return lo + Math.floor(r * (hi - lo + 1));
    },
  };
}

/** The generator's types: `a` and `alist` exist inside polymorphic functions only; `fn` is int(int). */
export type T = 'int' | 'uint' | 'bool' | 'char' | 'string' | 'arr' | 'node' | 'point' | 'tup' | 'ilist' | 'fn' | 'a' | 'alist'
  | 'shape' | 'iopt';
type Ret = T | 'void';

const CONCRETE: T[] = ['int', 'uint', 'bool', 'char', 'string', 'arr', 'node', 'point', 'tup', 'ilist', 'fn', 'shape', 'iopt'];
/** Types a polymorphic function may be instantiated at (a type variable stands for a word; char becomes int). */
const INSTANCES: T[] = ['int', 'bool', 'string', 'arr', 'node', 'point', 'tup', 'ilist', 'shape', 'iopt'];

const SYNTAX: Record<T, string> = {
  int: 'int', uint: 'unsigned int', bool: 'bool', char: 'char', string: 'string', arr: 'int[]', node: 'node',
  point: 'point', tup: '*(int, bool)', ilist: '<int>list', fn: 'int(int)', a: 'a', alist: '<a>list',
  shape: 'shape', iopt: '<int>option',
};

/** The unions' variants: name, and what it carries (popc syntax, with the generator's type of each component). */
const SHAPE: { name: string; carries?: T[]; tuple?: boolean }[] = [
  { name: 'Dot' }, { name: 'Circle', carries: ['int'] }, { name: 'Rect', carries: ['int', 'bool'], tuple: true },
  { name: 'Label', carries: ['string'] }, { name: 'Empty' },
];
const OPTION: { name: string; carries?: T[]; tuple?: boolean }[] = [{ name: 'None' }, { name: 'Some', carries: ['int'] }];

/** `T name` as a declarator (C forms for arrays and function types). */
function declarator(t: T, name: string, r: Rand): string {
  if (t === 'arr') return r.int(0, 1) ? `int ${name}[]` : `int[] ${name}`;
  if (t === 'fn') return `int ${name}(int)`;
  return `${SYNTAX[t]} ${name}`;
}

interface Var { name: string; ty: T; /** loop counters: read only */ counter?: boolean }

interface Fun { name: string; params: T[]; ret: Ret; poly: boolean }

/** Substitute the instantiation of `a`. */
function inst(t: T, a: T): T {
  if (t === 'a') return a;
  if (t === 'alist') {
    if (a === 'int') return 'ilist';
    if (a === 'a') return 'alist';
    throw new Error(`no list type for ${a}`);
  }
  return t;
}

interface Ctx {
  vars: Var[];
  /** Locals known non-null here (never assigned while so). */
  narrowed: Set<string>;
  /** Functions callable from here (those generated before, to keep recursion out). */
  funs: Fun[];
  poly: boolean;
  ret: Ret;
  loops: number;
  switches: number;
}

const CHARS = ["'a'", "'Z'", "'0'", "' '", "'\\n'", "'\\t'", "'\\x41'", "'\\101'", "'\\\\'", "'\\''", "'\"'"];
const STRINGS = ['"abc"', '"x"', '"hello, world"', '"a\\tb\\n"', '"\\x41\\102C"', '"-42"', '"123"', '"q\\"uote"', '""', '"\\\\"'];
const INTS = ['0', '1', '2', '3', '7', '10', '42', '100', '255', '65535', '0x7fffffff', '0xffffffff', '0x10', '(-1)', '(-5)', '(-2147483647)'];

/**
 * The programs' own small library (instead of #include "core.h", whose parse would cost more than the program's):
 * buffered output through Sys::write and the string functions the generator calls.
 */
export const PRELUDE = `string out_buf = "${'.'.repeat(64)}";
int out_len = 0;
void flush() {
  int off = 0;
  while (off < out_len) { int n = Sys::write(1, out_buf, off, out_len - off); if (n <= 0) { out_len = 0; return; } off += n; }
  out_len = 0;
}
void print_char(char c) { if (out_len >= size(out_buf)) flush(); out_buf[out_len] = c; out_len++; }
void print_string(string s) { for (int i = 0; i < size(s); i++) print_char(s[i]); }
void print_newline() { print_char('\\n'); }
string string_of_int(int n) {
  string digits = new_string(12);
  int i = 12;
  unsigned int u = n;
  if (n < 0) u = -n;
  do { i--; digits[i] = '0' + u % 10; u = u / 10; } while (u != 0);
  if (n < 0) { i--; digits[i] = '-'; }
  string out = new_string(12 - i);
  for (int j = 0; j < 12 - i; j++) out[j] = digits[i + j];
  return out;
}
void print_int(int n) { print_string(string_of_int(n)); }
int int_of_string(string s) {
  int i = 0, n = 0;
  bool neg = size(s) > 0 && s[0] == '-';
  if (neg) i = 1;
  while (i < size(s) && s[i] >= '0' && s[i] <= '9') { n = n * 10 + (s[i] - '0'); i++; }
  return neg ? -n : n;
}
int strcmp(string a, string b) {
  int n = size(a) < size(b) ? size(a) : size(b);
  for (int i = 0; i < n; i++) if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return size(a) == size(b) ? 0 : size(a) < size(b) ? -1 : 1;
}
string strconcat(string a, string b) {
  string out = new_string(size(a) + size(b));
  for (int i = 0; i < size(a); i++) out[i] = a[i];
  for (int j = 0; j < size(b); j++) out[size(a) + j] = b[j];
  return out;
}`;

export class PopGen {
  private n = 0;
  private fuel = 0;
  private readonly maxExprDepth: number;

  /**
   * `avoidKnownBugs` keeps out constructs that popc once compiled to code the checker refused (see the list in
   * test/compiler/fuzz.test.ts): `c ? null : null`, and a nullable local whose last store was a literal null (explicit
   * or by default) before a test narrows it. Both are fixed, so the generator produces them by default.
   */
  constructor(private readonly r: Rand, private readonly size = 1, private readonly avoidKnownBugs = false) {
    this.maxExprDepth = 2 + (size > 1 ? 1 : 0);
  }

  private pick<X>(xs: readonly X[]): X { return xs[this.r.int(0, xs.length - 1)]; }
  private chance(pct: number): boolean { return this.r.int(1, 100) <= pct; }
  private fresh(prefix: string): string { return `${prefix}${this.n++}`; }

  /** The whole program. */
  program(): string {
    const out: string[] = [
      PRELUDE,
      '?struct node { int v; node next; }',
      'struct point { int x; int y; }',
      '?struct <a>list { a hd; <a>list tl; }',
      'int gcount = 0;',
      'const int K = 7;',
      'int garr[] = {3, 1, 4, 1, 5};',
      'string gstr = "glob";',
      'bool gflag = true;',
      'char gch = \'g\';',
      // bool and char arrays are bytes (types.ts's byteElement): laid out in the data section, read and written
      // through a bounds check, replaced by new_array's (tal_new_bytes) below.
      'bool gbits[] = {true, false, true};',
      'char gchars[] = {\'p\', \'o\', \'p\', 353};',
      'node gnode = null;',
      'exception Gx0;',
      'exception Gx1(int);',
      'exception Gx2(string);',
      'a id<a>(a x) { return x; }',
      'a pick<a>(bool c, a x, a y) { return c ? x : y; }',
      '<a>list cons<a>(a x, <a>list l) { return new list(x, l); }',
      'int length<a>(<a>list l) { int n = 0; while (l != null) { n++; l = l.tl; } return n; }',
      'int inc(int x) { return x + 1; }',
      'int apply(int f(int), int x) { return f(x); }',
      'union shape { void Dot; int Circle; *(int, bool) Rect; string Label; void Empty; }',
      'union <a>option { void None; a Some; }',
      'int sarea(shape s) {\n  switch (s) {\n  case Dot, Empty: return 0;\n  case Circle(r): return 3 * r * r;\n'
        + '  case Rect*(w, b): return b ? w : -w;\n  case Label(l): return size(l);\n  }\n}',
      'a oget<a>(<a>option o, a d) {\n  switch (o) {\n  case None: return d;\n  case Some(x): return x;\n  }\n}',
    ];
    const funs: Fun[] = [{ name: 'inc', params: ['int'], ret: 'int', poly: false }];
    const nf = this.r.int(1, 2 + this.size);
    for (let i = 0; i < nf; i++) {
      const poly = this.chance(35);
      const f = this.signature(`f${i}`, poly);
      out.push(this.fun(f, funs));
      funs.push(f);
    }
    const mainCtx: Ctx = { vars: [], narrowed: new Set(), funs, poly: false, ret: 'void', loops: 0, switches: 0 };
    this.fuel = 10 + 8 * this.size;
    const body = this.stmts(mainCtx, 1, this.r.int(3, 6 + 2 * this.size));
    // Every generated function is called at least once.
    for (const f of funs.slice(1)) body.push(`  ${this.callOf(f, mainCtx, 0)};`);
    body.push('  print_int(gcount); print_newline();', '  flush();');
    out.push(`void pop_main() {\n${body.join('\n')}\n}`);
    return out.join('\n') + '\n';
  }

  private signature(name: string, poly: boolean): Fun {
    const np = this.r.int(poly ? 1 : 0, 3);
    const params: T[] = [];
    for (let i = 0; i < np; i++) params.push(poly && this.chance(50) ? this.pick(['a', 'a', 'alist'] as T[]) : this.pick(CONCRETE));
    if (poly && !params.includes('a')) params[this.r.int(0, params.length - 1)] = 'a';
    const rets: Ret[] = poly ? ['a', 'a', 'alist', 'int', 'bool', 'void'] : [...CONCRETE.filter(t => t !== 'fn'), 'void', 'int'];
    return { name, params, ret: this.pick(rets), poly };
  }

  private fun(f: Fun, funs: Fun[]): string {
    const ctx: Ctx = { vars: [], narrowed: new Set(), funs: [...funs], poly: f.poly, ret: f.ret, loops: 0, switches: 0 };
    const ps = f.params.map((t, i) => {
      const name = `p${i}`;
      ctx.vars.push({ name, ty: t });
      return declarator(t, name, this.r);
    });
    this.fuel = 6 + 4 * this.size;
    const body = this.stmts(ctx, 1, this.r.int(1, 3 + this.size));
    if (f.ret !== 'void') body.push(`  return ${this.expr(f.ret, ctx, 0)};`);
    const head = `${f.ret === 'void' ? 'void' : SYNTAX[f.ret]} ${f.name}${f.poly ? '<a>' : ''}(${ps.join(', ')})`;
    return `${head} {\n${body.join('\n')}\n}`;
  }

  // ---------------------------------------------------------------------------------------------------------
  // statements

  private stmts(ctx: Ctx, indent: number, n: number): string[] {
    const out: string[] = [];
    const saved = ctx.vars.length;
    const narrowed = new Set(ctx.narrowed);
    for (let i = 0; i < n && this.fuel > 0; i++) out.push(...this.stmt(ctx, indent));
    ctx.vars.length = saved;
    ctx.narrowed = narrowed;
    return out;
  }

  private block(ctx: Ctx, indent: number, n = this.r.int(1, 3)): string {
    const pad = '  '.repeat(indent);
    const body = this.stmts(ctx, indent + 1, n);
    return body.length ? `{\n${body.join('\n')}\n${pad}}` : '{ }';
  }

  private types(ctx: Ctx): T[] { return ctx.poly ? [...CONCRETE, 'a', 'alist'] : CONCRETE; }

  private varsOf(ctx: Ctx, t: T, writable = false): Var[] {
    return ctx.vars.filter(v => v.ty === t && (!writable || (!v.counter && !ctx.narrowed.has(v.name))));
  }

  private stmt(ctx: Ctx, indent: number): string[] {
    this.fuel--;
    const pad = '  '.repeat(indent);
    const nested = indent < 4 && this.fuel > 0;
    const e = (t: T) => this.expr(t, ctx, 0);
    const k = this.r.int(0, nested ? 19 : 9);
    switch (k) {
      case 0: case 1: {
        const t = this.pick(this.types(ctx));
        const name = this.fresh('v');
        let s: string;
        if (t === 'arr' && this.chance(30)) s = `${declarator(t, name, this.r)} = {${Array.from({ length: this.r.int(1, 4) }, () => this.pick(INTS)).join(', ')}};`;
        else if ((this.avoidKnownBugs ? ['int', 'uint', 'bool', 'char'] : ['int', 'uint', 'bool', 'char', 'node', 'ilist', 'alist']).includes(t) && this.chance(20)) s = `${declarator(t, name, this.r)};`;
        else s = `${declarator(t, name, this.r)} = ${this.expr(t, ctx, 0, this.avoidKnownBugs)};`;
        ctx.vars.push({ name, ty: t });
        return [pad + s];
      }
      case 2: case 3: {
        const t = this.pick(this.types(ctx));
        const vs = this.varsOf(ctx, t, true);
        if (!vs.length) return [`${pad}gcount += ${e('int')};`];
        const v = this.pick(vs);
        if ((t === 'int' || t === 'uint' || t === 'char') && this.chance(50)) {
          const op = this.pick(['+=', '-=', '*=', '&=', '|=', '^=', '<<=', '>>=', '/=', '%=', '++', '--', 'pre++', 'pre--']);
          if (op === '++' || op === '--') return [`${pad}${v.name}${op};`];
          if (op.startsWith('pre')) return [`${pad}${op.slice(3)}${v.name};`];
          if (op === '<<=' || op === '>>=') return [`${pad}${v.name} ${op} (${e('int')}) & 7;`];
          if (op === '/=' || op === '%=') return [`${pad}${v.name} ${op} ((${e('int')}) & 15) + 1;`];
          return [`${pad}${v.name} ${op} ${e(t === 'char' ? 'char' : 'int')};`];
        }
        return [`${pad}${v.name} = ${this.expr(t, ctx, 0, this.avoidKnownBugs)};`];
      }
      case 4: {
        if (this.chance(25)) {
          const [a, t] = this.pick([['gbits', 'bool'], ['gchars', 'char']] as const);
          if (this.chance(20)) return [`${pad}${a} = new_array(1 + (${e('int')} & 7), ${e(t)});`];
          return [`${pad}${a}[((${e('int')}) & 1023) % size(${a})] = ${e(t)};`];
        }
        const arrs = this.varsOf(ctx, 'arr');
        if (arrs.length && this.chance(60)) {
          const a = this.pick(arrs).name;
          return [`${pad}${a}[((${e('int')}) & 1023) % size(${a})] = ${e('int')};`];
        }
        return [`${pad}garr[((${e('int')}) & 1023) % size(garr)] = ${e('int')};`];
      }
      case 5: {
        const pts = this.varsOf(ctx, 'point');
        const nn = ctx.vars.filter(v => v.ty === 'node' && ctx.narrowed.has(v.name));
        // A field of a node nobody tested: its run-time null check may stop the program (or raise Null_Exception
        // in a try body).
        if (this.chance(15)) {
          const base = this.pick(['gnode', ...this.varsOf(ctx, 'node').map(v => v.name)]);
          return [`${pad}gcount += ${base}${this.pick(['', '.next'])}.v;`];
        }
        if (nn.length && this.chance(50)) {
          const n = this.pick(nn).name;
          return [this.chance(70) ? `${pad}${n}.v = ${e('int')};` : `${pad}${n}.next = ${e('node')};`];
        }
        if (pts.length) return [`${pad}${this.pick(pts).name}.${this.pick(['x', 'y'])} = ${e('int')};`];
        const ss = this.varsOf(ctx, 'string');
        if (ss.length) {
          const s = this.pick(ss).name;
          return [`${pad}if (size(${s}) > 0) ${s}[((${e('int')}) & 1023) % size(${s})] = ${e('char')};`];
        }
        return [`${pad}gflag = ${e('bool')};`];
      }
      case 6: {
        const which = this.r.int(0, 3);
        if (which === 0) return [`${pad}print_int(${e('int')});`];
        if (which === 1) return [`${pad}print_string(${e('string')});`];
        if (which === 2) return [`${pad}print_char(${e('char')});`];
        return [`${pad}gcount ${this.pick(['+=', '^=', '-='])} ${e('int')};`];
      }
      case 7: {
        const fs = ctx.funs.filter(f => f.name !== 'inc');
        if (!fs.length) return [`${pad}gcount++;`];
        const f = this.pick(fs);
        return [`${pad}${this.callOf(f, ctx, 0)};`];
      }
      case 8: {
        // a guarded early exit
        if (ctx.loops && this.chance(50)) return [`${pad}if (${e('bool')}) ${this.pick(['break', 'continue'])};`];
        if (ctx.ret === 'void') return [`${pad}if (${e('bool')}) return;`];
        return [`${pad}if (${e('bool')}) return ${e(ctx.ret)};`];
      }
      case 9: {
        // narrowing: a node local tested, then used (and never assigned while narrowed)
        const ns = ctx.vars.filter(v => (v.ty === 'node' || v.ty === 'ilist') && !ctx.narrowed.has(v.name));
        if (!ns.length) {
          const name = this.fresh('v');
          const s = `${pad}node ${name} = ${this.expr('node', ctx, 0, this.avoidKnownBugs)};`;
          ctx.vars.push({ name, ty: 'node' });
          return [s];
        }
        const v = this.pick(ns);
        const use = v.ty === 'node' ? `${v.name}.v` : `${v.name}.hd`;
        const form = this.r.int(0, 3);
        if (form === 0) return [`${pad}gcount += ${v.name} != null ? ${use} : ${e('int')};`];
        if (form === 1) return [`${pad}if (${v.name} != null && ${use} > ${e('int')}) gcount++;`];
        if (form === 2) return [`${pad}if (${v.name} == null || ${use} < ${e('int')}) gcount--;`];
        // a guard: the rest of this block knows v is non-null
        if (ctx.ret === 'void') { ctx.narrowed.add(v.name); return [`${pad}if (${v.name} == null) return;`]; }
        const s = `${pad}if (${v.name} == null) return ${e(ctx.ret)};`;
        ctx.narrowed.add(v.name);
        return [s];
      }
      case 10: case 11: {
        const c = e('bool');
        const inner = { ...ctx, narrowed: new Set(ctx.narrowed) };
        const then = this.block(inner, indent);
        if (this.chance(50)) return [`${pad}if (${c}) ${then}`];
        return [`${pad}if (${c}) ${then} else ${this.block({ ...ctx, narrowed: new Set(ctx.narrowed) }, indent)}`];
      }
      case 12: {
        // narrowed block
        const ns = ctx.vars.filter(v => v.ty === 'node' && !ctx.narrowed.has(v.name));
        if (!ns.length) return [`${pad}gnode = ${e('node')};`];
        const v = this.pick(ns).name;
        const inner = { ...ctx, narrowed: new Set(ctx.narrowed).add(v) };
        const body = this.block(inner, indent);
        if (this.chance(50)) return [`${pad}if (${v} != null) ${body}`];
        return [`${pad}if (${v} == null) ${this.block({ ...ctx, narrowed: new Set(ctx.narrowed) }, indent)} else ${body}`];
      }
      case 13: {
        const i = this.fresh('i');
        const inner: Ctx = { ...ctx, loops: ctx.loops + 1, narrowed: new Set(ctx.narrowed), vars: [...ctx.vars, { name: i, ty: 'int', counter: true }] };
        return [`${pad}for (int ${i} = 0; ${i} < ${this.r.int(0, 4)}; ${i}++) ${this.block(inner, indent)}`];
      }
      case 14: {
        const c = this.fresh('c');
        const inner: Ctx = { ...ctx, loops: ctx.loops + 1, narrowed: new Set(ctx.narrowed), vars: [...ctx.vars, { name: c, ty: 'int', counter: true }] };
        const body = this.stmts(inner, indent + 1, this.r.int(1, 3));
        const pad1 = pad + '  ';
        if (this.chance(50)) return [`${pad}int ${c} = 0;`, `${pad}while (${c} < ${this.r.int(0, 4)}) {`, `${pad1}${c}++;`, ...body, `${pad}}`];
        return [`${pad}int ${c} = 0;`, `${pad}do {`, `${pad1}${c}++;`, ...body, `${pad}} while (${c} < ${this.r.int(1, 4)});`];
      }
      case 15: {
        // a list walk: the local is narrowed in the body, assigned only at its end
        const ns = this.varsOf(ctx, 'node', true);
        if (!ns.length) return [`${pad}gcount += ${e('int')};`];
        const n = this.pick(ns).name;
        const c = this.fresh('c');
        const inner: Ctx = { ...ctx, loops: ctx.loops + 1, narrowed: new Set(ctx.narrowed).add(n), vars: [...ctx.vars, { name: c, ty: 'int', counter: true }] };
        const body = this.stmts(inner, indent + 1, this.r.int(0, 2));
        const pad1 = pad + '  ';
        return [`${pad}int ${c} = 0;`, `${pad}while (${c} < 6 && ${n} != null) {`, `${pad1}${c}++;`, `${pad1}gcount += ${n}.v;`, ...body, `${pad1}${n} = ${n}.next;`, `${pad}}`];
      }
      case 16: {
        const onChar = this.chance(30);
        const scrut = onChar ? e('char') : e('int');
        const pool = onChar ? ["'a'", "'b'", "'0'", "'\\n'", "' '", "'Z'"] : ['0', '1', '2', '3', '(-1)', '7', '42', "'a'"];
        const values = [...new Set(pool.map(v => v))].filter(() => this.chance(60));
        // distinct values (by number: 'a' is 97)
        const seen = new Set<number>();
        const uniq = values.filter(v => {
          const num = v.startsWith("'") ? charValue(v) : Number(v.replace(/[()]/g, ''));
          if (seen.has(num)) return false;
          seen.add(num);
          return true;
        });
        const inner: Ctx = { ...ctx, switches: ctx.switches + 1, narrowed: new Set(ctx.narrowed) };
        const lines = [`${pad}switch (${scrut}) {`];
        let i = 0;
        while (i < uniq.length) {
          const take = Math.min(uniq.length - i, this.r.int(1, 2));
          const body = this.stmts({ ...inner, narrowed: new Set(inner.narrowed) }, indent + 2, this.r.int(0, 2));
          if (this.chance(40)) body.push(`${pad}    break;`);
          lines.push(`${pad}  case ${uniq.slice(i, i + take).join(', ')}:`, ...body);
          i += take;
        }
        if (this.chance(60)) lines.push(`${pad}  default:`, ...this.stmts({ ...inner, narrowed: new Set(inner.narrowed) }, indent + 2, this.r.int(0, 2)));
        lines.push(`${pad}}`);
        return lines;
      }
      case 17: return this.tryHandle(ctx, indent);
      case 18: return this.raise(ctx, indent);
      default: {
        if (k === 19 && this.chance(50)) return this.unionSwitch(ctx, indent);
        const name = this.fresh('v');
        const fnv = this.chance(50);
        const s = `${pad}${declarator(fnv ? 'fn' : 'tup', name, this.r)} = ${e(fnv ? 'fn' : 'tup')};`;
        ctx.vars.push({ name, ty: fnv ? 'fn' : 'tup' });
        return [s];
      }
    }
  }

  /**
   * A switch on a shape or an option: some variants with cases (patterns binding their values as locals of the
   * case), a default unless every variant has one; a case matched on a variable may read the variant directly.
   */
  private unionSwitch(ctx: Ctx, indent: number): string[] {
    const pad = '  '.repeat(indent);
    const t: T = this.chance(50) ? 'shape' : 'iopt';
    const variants = t === 'shape' ? SHAPE : OPTION;
    const vs = this.varsOf(ctx, t);
    const scrut = vs.length && this.chance(60) ? this.pick(vs).name : this.expr(t, ctx, 0);
    const onVar = vs.some(v => v.name === scrut);
    const chosen = variants.filter(() => this.chance(70));
    const inner: Ctx = { ...ctx, switches: ctx.switches + 1, narrowed: new Set(ctx.narrowed) };
    const lines = [`${pad}switch (${scrut}) {`];
    const nullary = chosen.filter(v => !v.carries);
    if (nullary.length && this.chance(50)) {
      lines.push(`${pad}  case ${nullary.map(v => v.name).join(', ')}:`,
        ...this.stmts({ ...inner, narrowed: new Set(inner.narrowed) }, indent + 2, this.r.int(0, 2)));
    } else for (const v of nullary) {
      lines.push(`${pad}  case ${v.name}:`, ...this.stmts({ ...inner, narrowed: new Set(inner.narrowed) }, indent + 2, this.r.int(0, 2)));
    }
    for (const v of chosen.filter(x => x.carries)) {
      const binds = v.carries!.map(c => ({ name: this.chance(15) ? '_' : this.fresh('m'), ty: c }));
      const pattern = v.tuple ? (this.chance(50) ? `*(${binds.map(b => b.name).join(', ')})` : `(*(${binds.map(b => b.name).join(', ')}))`)
        : `(${binds[0].name})`;
      const caseCtx: Ctx = { ...inner, narrowed: new Set(inner.narrowed), vars: [...inner.vars, ...binds.filter(b => b.name !== '_')] };
      const direct = onVar && v.carries!.length === 1 && v.carries![0] === 'int' && this.chance(70)
        ? [`${pad}    gcount += ${scrut}.${v.name};`] : [];
      lines.push(`${pad}  case ${v.name}${pattern}:`, ...direct, ...this.stmts(caseCtx, indent + 2, this.r.int(0, 2)));
    }
    if (chosen.length < variants.length || this.chance(30)) {
      lines.push(`${pad}  default:`, ...this.stmts({ ...inner, narrowed: new Set(inner.narrowed) }, indent + 2, this.r.int(0, 2)));
    }
    lines.push(`${pad}}`);
    return lines;
  }

  /** One of the program's exceptions, as a value: `Gx0`, `Gx1(e)`, `new Gx2(e)`. */
  private exception(ctx: Ctx): string {
    switch (this.r.int(0, 2)) {
      case 0: return this.pick(['Gx0', 'new Gx0()']);
      case 1: return `${this.pick(['', 'new '])}Gx1(${this.expr('int', ctx, 1)})`;
      default: return `${this.pick(['', 'new '])}Gx2(${this.expr('string', ctx, 1)})`;
    }
  }

  /** A raise under a condition (so that what follows stays reachable), of a new exception or of an exn local. */
  private raise(ctx: Ctx, indent: number): string[] {
    const pad = '  '.repeat(indent);
    const c = this.expr('bool', ctx, 0);
    if (this.chance(30)) {
      const name = this.fresh('x');
      return [`${pad}exn ${name} = ${this.exception(ctx)};`, `${pad}if (${c}) raise(${name});`];
    }
    return [`${pad}if (${c}) raise ${this.exception(ctx)};`];
  }

  /** try … handle: a switch on what was caught (its cases bind the values), or a handler that takes everything. */
  private tryHandle(ctx: Ctx, indent: number): string[] {
    const pad = '  '.repeat(indent), pad2 = `${pad}    `;
    let body = this.block({ ...ctx, narrowed: new Set(ctx.narrowed) }, indent);
    // A raise inside a closure, through apply's frame, to this handler.
    if (this.chance(30)) {
      const call = `gcount += apply(${this.raisingClosure(ctx)}, ${this.expr('int', ctx, 1)});`;
      body = body === '{ }' ? `{ ${call} }` : `{
${pad}  ${call}${body.slice(1)}`;
    }
    const e = this.fresh('e');
    const inner = (extra: Var[]): string[] => this.stmts(
      { ...ctx, narrowed: new Set(ctx.narrowed), vars: [...ctx.vars, ...extra] }, indent + 2, this.r.int(0, 2));
    if (this.chance(25)) {
      return [`${pad}try ${body} handle ${e} ${this.block({ ...ctx, narrowed: new Set(ctx.narrowed) }, indent)}`];
    }
    const braced = this.chance(50);
    const lines = [`${pad}try ${body} handle ${e} ${braced ? '{ ' : ''}switch (${e}) {`];
    if (this.chance(70)) lines.push(`${pad}  case Gx0:`, ...inner([]));
    if (this.chance(70)) {
      const x = this.fresh('n');
      lines.push(`${pad}  case Gx1(${x}):`, `${pad2}gcount += ${x};`, ...inner([{ name: x, ty: 'int' }]));
    }
    if (this.chance(60)) {
      const x = this.fresh('s');
      lines.push(`${pad}  case Gx2(${x}):`, `${pad2}print_string(${x});`, ...inner([{ name: x, ty: 'string' }]));
    }
    if (this.chance(20)) lines.push(`${pad}  case Array_bounds, Divide_by_zero, Null_Exception:`, `${pad2}gcount--;`);
    if (this.chance(50)) {
      lines.push(`${pad}  default:`, ...inner([]), ...(this.chance(30) ? [`${pad2}raise(${e});`] : []));
    }
    lines.push(`${pad}}${braced ? ' }' : ''}`);
    return lines;
  }

  // ---------------------------------------------------------------------------------------------------------
  // expressions

  /** A call of `f` whose result is used as `want` (for a polymorphic f: a is chosen to make the result fit). */
  private callOf(f: Fun, ctx: Ctx, d: number, want?: T): string {
    let a: T = 'int';
    if (f.poly) {
      if (f.ret === 'a' && want) a = want;
      else if (f.ret === 'alist' && want) a = want === 'alist' ? 'a' : 'int';
      else if (f.ret === 'alist') a = ctx.poly && this.chance(30) ? 'a' : 'int';
      else a = ctx.poly && this.chance(30) ? 'a' : this.pick(f.params.includes('alist') ? ['int'] as T[] : INSTANCES);
      if (a === 'char' || a === 'uint' || a === 'fn') a = 'int';
    }
    const args = f.params.map((p, i) => {
      const t = inst(p, a);
      // the first argument of type a must fix a (null alone cannot)
      const first = p === 'a' && f.params.indexOf('a') === i;
      return p === 'a' && t === 'int' ? this.exactInt(ctx, d + 1) : this.expr(t, ctx, d + 1, first);
    });
    return `${f.name}(${args.join(', ')})`;
  }

  /** An int expression whose type is int, not char: a char argument would instantiate a type variable as char. */
  /**
   * An anonymous function over variables of the function around it (docs/popcorn.md "Closures"): an int it adds,
   * or a function value it calls (itself perhaps a closure). Its body never assigns them (P5502).
   */
  private closure(ctx: Ctx): string {
    const q = this.fresh('q');
    const ints = this.varsOf(ctx, 'int').map(v => v.name);
    const fns = this.varsOf(ctx, 'fn').map(v => v.name);
    const k = this.pick(['1', '3', '-2']);
    if (this.chance(25)) return this.raisingClosure(ctx);
    if (fns.length && this.chance(40)) return `fun int (int ${q}) { return ${this.pick(fns)}(${q}) * ${k}; }`;
    return `fun int (int ${q}) { return ${q} * ${k} + ${ints.length ? this.pick(ints) : this.pick(INTS)}; }`;
  }

  /** An anonymous function that raises for some arguments (Gx1 with the argument, or Gx0), else adds a local. */
  private raisingClosure(ctx: Ctx): string {
    const q = this.fresh('q');
    const ints = this.varsOf(ctx, 'int').map(v => v.name);
    const m = this.pick(['2', '3', '5']);
    const x = this.chance(70) ? `Gx1(${q})` : 'Gx0';
    return `fun int (int ${q}) { if (${q} % ${m} == 1) raise ${x}; `
      + `return ${q} + ${ints.length ? this.pick(ints) : this.pick(INTS)}; }`;
  }

  private exactInt(ctx: Ctx, d: number): string {
    const x = this.expr('int', ctx, d);
    return /^(\(?-?\d+\)?|0x[0-9a-f]+)$/.test(x) ? x : `(${x} + 0)`;
  }

  expr(t: T, ctx: Ctx, d: number, noNull = false): string {
    const leaf = d >= this.maxExprDepth || this.chance(30);
    return leaf ? this.leaf(t, ctx, noNull) : this.compound(t, ctx, d, noNull);
  }

  private leaf(t: T, ctx: Ctx, noNull: boolean): string {
    const vs = this.varsOf(ctx, t).map(v => v.name);
    if (vs.length && this.chance(60)) return this.pick(vs);
    switch (t) {
      case 'int': return this.pick([...INTS, 'K', 'gcount', 'size(garr)', 'size(gstr)', 'gch', ...vs]);
      case 'uint': return this.pick(['0', '1', '0xffffffff', '0x80000000', '12345', ...vs]);
      case 'bool': return this.pick(['true', 'false', 'gflag', ...vs]);
      case 'char': return this.pick([...CHARS, 'gch', ...vs]);
      case 'string': return this.pick([...STRINGS, 'gstr', ...vs]);
      case 'arr': return this.pick(['garr', ...vs]);
      case 'node': return noNull ? `new node(${this.pick(INTS)}, null)` : this.pick(['null', 'gnode', ...vs]);
      case 'point': return vs.length ? this.pick(vs) : `new point(${this.pick(INTS)}, ${this.pick(INTS)})`;
      case 'tup': return vs.length ? this.pick(vs) : `^(${this.pick(INTS)}, ${this.pick(['true', 'false'])})`;
      case 'ilist': return noNull ? `cons(${this.pick(INTS)}, null)` : this.pick(['null', ...vs]);
      case 'fn': return this.pick(['inc', ...ctx.funs.filter(f => !f.poly && f.ret === 'int' && f.params.length === 1 && f.params[0] === 'int').map(f => f.name), ...vs]);
      case 'a': return vs.length ? this.pick(vs) : this.pick(ctx.vars.filter(v => v.ty === 'a').map(v => v.name));
      case 'alist': return vs.length && (noNull || this.chance(70)) ? this.pick(vs) : noNull ? `cons(${this.leaf('a', ctx, true)}, null)` : 'null';
      case 'shape': return this.pick(['shape.Dot', 'shape.Empty', `new shape.Circle(${this.pick(INTS)})`, ...vs]);
      // option.None fixes no instance: never where a type variable is to be inferred from it
      case 'iopt': return this.pick([...(noNull ? [] : ['option.None']), `new option.Some(${this.pick(INTS)})`, ...vs]);
    }
  }

  private compound(t: T, ctx: Ctx, d: number, noNull: boolean): string {
    const e = (u: T, nn = false) => this.expr(u, ctx, d + 1, nn);
    const calls = ctx.funs.filter(f => f.name !== 'inc' && f.ret !== 'void' && (f.poly ? canReturn(f, t) : f.ret === t));
    if (calls.length && this.chance(20)) return this.callOf(this.pick(calls), ctx, d, t);
    if (this.chance(10) && t !== 'alist' && t !== 'a' && t !== 'char' && t !== 'uint') {
      if (t === 'node' && noNull) return `id(${e(t, true)})`;
      const arg = (nn: boolean) => (t === 'int' ? this.exactInt(ctx, d + 1) : e(t, nn));
      return this.chance(50) ? `id(${arg(true)})` : `pick(${e('bool')}, ${arg(true)}, ${arg(false)})`;
    }
    if (this.chance(8)) {
      const nullable = t === 'node' || t === 'ilist' || t === 'alist';
      const one = this.avoidKnownBugs && nullable ? this.r.int(0, 1) : -1;
      return `(${e('bool')} ? ${e(t, noNull || one === 0)} : ${e(t, noNull || one === 1)})`;
    }
    switch (t) {
      case 'int': {
        const k = this.r.int(0, 16);
        const arrs = this.varsOf(ctx, 'arr').map(v => v.name);
        const strs = this.varsOf(ctx, 'string').map(v => v.name);
        const nn = ctx.vars.filter(v => v.ty === 'node' && ctx.narrowed.has(v.name)).map(v => v.name);
        switch (k) {
          case 0: case 1: return `(${e('int')} ${this.pick(['+', '-', '*', '&', '|', '^'])} ${e('int')})`;
          case 2: return `(${e('int')} ${this.pick(['/', '%'])} ((${e('int')} & 15) + 1))`;
          case 3: return `(${e('int')} ${this.pick(['<<', '>>', '>>>'])} (${e('int')} & 31))`;
          case 4: return `${this.pick(['-', '~', '+'])}(${e('int')})`;
          case 5: return arrs.length ? (a => `${a}[((${e('int')}) & 1023) % size(${a})]`)(this.pick(arrs)) : `garr[(${e('int')} & 1023) % size(garr)]`;
          case 6: return strs.length ? (s => `(size(${s}) > 0 ? ${s}[((${e('int')}) & 1023) % size(${s})] : 'z')`)(this.pick(strs)) : `size(${e('string')})`;
          case 7: return `length(${e('ilist', true)})`;
          case 8: return this.pick([`strcmp(${e('string')}, ${e('string')})`, `int_of_string(${e('string')})`, `size(${e('arr')})`]);
          case 9: return `(${e('point')}).${this.pick(['x', 'y'])}`;
          case 10: return `(${e('tup')}).1`;
          case 11: return nn.length ? `${this.pick(nn)}.v` : `${e('char')}`;
          case 12: {
            const fns = this.varsOf(ctx, 'fn').map(v => v.name);
            return fns.length && this.chance(50) ? `${this.pick(fns)}(${e('int')})` : `apply(${e('fn')}, ${e('int')})`;
          }
          // (unsigned arithmetic stays in uint: an unsigned operand makes the result unsigned int, and arrays and
          // type arguments are invariant, so it cannot stand where an exact int is needed)
          case 13: return this.chance(50) ? `(${e('uint')} < ${e('uint')} ? ${e('int')} : ${e('int')})`
            : this.chance(50) ? `sarea(${e('shape')})` : `oget(${e('iopt', true)}, ${this.exactInt(ctx, d + 1)})`;
          // Popcorn's casts through a sub-word integer (cut to 8 or 16 bits, then an exact int again), and the
          // comma operator (the first operand's effects, the second's value).
          case 15: {
            const narrow = this.pick(['byte', 'short', 'unsigned byte', 'unsigned short']);
            return `(: int) (: ${narrow}) (${e('int')})`;
          }
          case 16: return `(${e('int')}, ${e('int')})`;
          default: return `(${e('char')} - '0')`;
        }
      }
      case 'uint': return this.pick([`(${e('uint')} ${this.pick(['+', '-', '*', '&', '^'])} ${e('uint')})`, `(${e('uint')} / ((${e('int')} & 15) + 1))`, `(${e('uint')} >> (${e('int')} & 31))`, e('int')]);
      case 'bool': {
        const k = this.r.int(0, 7);
        if (k === 0) return `(${e('int')} ${this.pick(['<', '<=', '>', '>=', '==', '!='])} ${e('int')})`;
        if (k === 1) return `(${e('uint')} ${this.pick(['<', '>=', '=='])} ${e('uint')})`;
        if (k === 2) return `!(${e('bool')})`;
        if (k === 3) return `(${e('bool')} ${this.pick(['&&', '||'])} ${e('bool')})`;
        if (k === 4) return `(${e('node')} ${this.pick(['==', '!='])} null)`;
        if (k === 5) return `(${e('char')} == ${e('char')})`;
        if (k === 6) return `(${e('ilist')} != null)`;
        if (this.chance(20)) return `gbits[((${e('int')}) & 1023) % size(gbits)]`;
        return `(${e('bool')} == ${e('bool')})`;
      }
      case 'char': {
        const strs = this.varsOf(ctx, 'string').map(v => v.name);
        if (strs.length && this.chance(50)) { const s = this.pick(strs); return `(size(${s}) > 0 ? ${s}[((${e('int')}) & 1023) % size(${s})] : ${this.pick(CHARS)})`; }
        if (this.chance(30)) return `gchars[((${e('int')}) & 1023) % size(gchars)]`;
        return this.pick(CHARS);
      }
      case 'string': return this.pick([`strconcat(${e('string')}, ${e('string')})`, `string_of_int(${e('int')})`, `new_string(${this.r.int(0, 5)})`]);
      case 'arr': return `new_array(${this.r.int(1, 4)}, ${this.exactInt(ctx, d + 1)})`;
      case 'node': return `new node(${e('int')}, ${e('node')})`;
      case 'point': return `new point(${e('int')}, ${e('int')})`;
      case 'tup': return `^(${e('int')}, ${e('bool')})`;
      case 'ilist': return `cons(${this.exactInt(ctx, d + 1)}, ${e('ilist')})`;
      case 'fn': return this.chance(50) ? this.closure(ctx) : this.leaf('fn', ctx, noNull);
      case 'a': {
        if (this.chance(40)) return `pick(${e('bool')}, ${e('a', true)}, ${e('a')})`;
        if (this.chance(40)) return `id(${e('a')})`;
        const ls = ctx.vars.filter(v => v.ty === 'alist' && ctx.narrowed.has(v.name)).map(v => v.name);
        return ls.length ? `${this.pick(ls)}.hd` : this.leaf('a', ctx, noNull);
      }
      case 'alist': return `cons(${e('a', true)}, ${e('alist')})`;
      case 'shape': {
        const k = this.r.int(0, 3);
        if (k === 0) return `^shape.Circle(${e('int')})`;
        if (k === 1) return `new shape.Rect(${e('tup')})`;
        if (k === 2) return `^shape.Label(${e('string')})`;
        return this.leaf('shape', ctx, noNull);
      }
      case 'iopt': return this.chance(70) ? `${this.pick(['new', '^'])} option.Some(${this.exactInt(ctx, d + 1)})` : this.leaf('iopt', ctx, noNull);
    }
  }
}

function canReturn(f: Fun, t: T): boolean {
  if (f.ret === 'a') return f.params.includes('alist') ? t === 'int' || t === 'a' : t !== 'char' && t !== 'uint' && t !== 'fn' && t !== 'alist';
  if (f.ret === 'alist') return t === 'ilist' || t === 'alist';
  return f.ret === t;
}

function charValue(lit: string): number {
  const body = lit.slice(1, -1);
  if (body === '\\n') return 10;
  return body.charCodeAt(0);
}

/** A well-typed program drawn from `r`; `size` scales it (1: small). */
export function genProgram(r: Rand, size = 1, avoidKnownBugs = false): string {
  return new PopGen(r, size, avoidKnownBugs).program();
}

/** The fast-check arbitrary of programs. */
export function programArb(size = 1, avoidKnownBugs = false): fc.Arbitrary<string> {
  return fc.gen().map(g => genProgram(fromGen(g), size, avoidKnownBugs));
}
