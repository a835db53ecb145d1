// The parser for the concrete syntax of types (docs/tal.md §3). Trusted: the checker parses the annotations in
// .tal.types with it. It never throws anything but TypeSyntaxError.

import { type Arg, type Binder, type CodeTy, type Field, type Flag, type Stk, type Ty, type TypeDef, cons, newBinder,
  NIL } from './types.ts';
import { caseTag, SUM_CONST_LIMIT, type TupleTy } from './types.ts';

export class TypeSyntaxError extends Error {
  override name = 'TypeSyntaxError';
  constructor(message: string, readonly col: number) {
    super(message);
  }
}

/** Where names are looked up (a Map will do). */
export interface Scope { get(name: string): Binder | undefined }

/** What names mean while parsing: type definitions (possibly still being parsed) and binders in scope. */
export interface TypeEnv {
  readonly defs: ReadonlyMap<string, { readonly params: readonly Binder[] }>;
  readonly scope: Scope;
}

const REGS: Record<string, number> = { eax: 0, ecx: 1, edx: 2, ebx: 3, ebp: 5, esi: 6, edi: 7 };
const MAX_DEPTH = 200;
/** The keyword of typed stack pointers, sptr(σ) (reserved: no definition may take it). */
export const SPTR = 'sptr';

interface Tok { t: string; col: number }

// Character classes for the lexer, by char code (the lexer is on the checker's path for every annotation).
const NAME_START = new Uint8Array(128), NAME_PART = new Uint8Array(128), NUM_START = new Uint8Array(128), NUM_PART = new Uint8Array(128), PUNCT = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  NAME_START[c] = /[A-Za-z_.$]/.test(ch) ? 1 : 0;
  NAME_PART[c] = /[A-Za-z0-9_.$]/.test(ch) ? 1 : 0;
  NUM_START[c] = /[0-9-]/.test(ch) ? 1 : 0;
  NUM_PART[c] = /[0-9a-fA-FxX]/.test(ch) ? 1 : 0;
  PUNCT[c] = '*?[](){}<>,:^'.includes(ch) ? 1 : 0;
}

/** A label or type name: [A-Za-z_.$][A-Za-z0-9_.$]* (the annotation reader checks label names with it). */
export function isName(s: string): boolean {
  const c0 = s.charCodeAt(0);
  if (!(c0 < 128 && NAME_START[c0])) return false;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!(c < 128 && NAME_PART[c])) return false;
  }
  return true;
}

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  const n = src.length;
  let i = 0;
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 32 || c === 9) { i++; continue; }
    if (c < 128 && NAME_START[c]) {
      let j = i + 1;
      for (let d = src.charCodeAt(j); j < n && d < 128 && NAME_PART[d]; d = src.charCodeAt(++j));
      out.push({ t: src.slice(i, j), col: i });
      i = j;
    } else if (c < 128 && NUM_START[c]) {
      let j = i + 1;
      for (let d = src.charCodeAt(j); j < n && d < 128 && NUM_PART[d]; d = src.charCodeAt(++j));
      out.push({ t: src.slice(i, j), col: i });
      i = j;
    } else if (c === 58 && src.charCodeAt(i + 1) === 58) {
      out.push({ t: '::', col: i });
      i += 2;
    } else if (c < 128 && PUNCT[c]) {
      out.push({ t: src[i], col: i });
      i++;
    } else {
      throw new TypeSyntaxError(`unexpected character '${src[i]}' in type`, i);
    }
  }
  return out;
}

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly toks: Tok[], private readonly srcLen: number) {}

  peek(): string | undefined {
    return this.toks[this.pos]?.t;
  }
  peekAt(k: number): string | undefined {
    return this.toks[this.pos + k]?.t;
  }
  col(): number {
    return this.toks[this.pos]?.col ?? this.srcLen;
  }
  fail(msg: string): never {
    throw new TypeSyntaxError(msg, this.col());
  }
  next(): string {
    const t = this.toks[this.pos];
    if (!t) this.fail('unexpected end of type');
    this.pos++;
    return t.t;
  }
  expect(t: string): void {
    const got = this.peek();
    if (got !== t) this.fail(`expected '${t}' but found ${got === undefined ? 'end of type' : `'${got}'`}`);
    this.pos++;
  }
  atEnd(): boolean {
    return this.pos >= this.toks.length;
  }
  enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail('type nested too deeply');
  }

  ty(env: TypeEnv): Ty {
    this.enter();
    try {
      return this.tyInner(env);
    } finally {
      this.depth--;
    }
  }

  private tyInner(env: TypeEnv): Ty {
    const t = this.peek();
    if (t === '?') {
      this.next();
      if (this.peek() !== '*') this.fail("'?' must be followed by a pointer type '*…'");
      return this.pointer(env, true);
    }
    if (t === '*') return this.pointer(env, false);
    if (t === 'int') { this.next(); return { k: 'int' }; }
    if (t === 'top') { this.next(); return { k: 'top' }; }
    if (t === 'S') {
      this.next();
      this.expect('(');
      const n = this.number();
      this.expect(')');
      return { k: 'sing', n };
    }
    if (t === 'code') { this.next(); return { k: 'code', code: this.code(env) }; }
    if (t === SPTR) {
      // sptr(σ): a typed stack pointer (docs/tal.md §4.10).
      this.next();
      this.expect('(');
      const stack = this.stk(env);
      this.expect(')');
      return { k: 'sptr', stack };
    }
    // The keywords of §3.4 and §3.5 only where their bracket follows, so a type or variable may still be called so.
    if (t === 'exists' && this.peekAt(1) === '[') { this.next(); return this.exists(env); }
    if (t === 'sum' && this.peekAt(1) === '{') { this.next(); return this.sum(env); }
    if (t !== undefined && /^[A-Za-z_]/.test(t)) {
      this.next();
      const b = env.scope.get(t);
      if (b) {
        if (b.kind === 'stack') this.fail(`'${t}' is a stack variable, used where a word type is expected`);
        return { k: 'var', b };
      }
      const def = env.defs.get(t);
      if (!def) this.fail(`unknown type '${t}'`);
      const args: Arg[] = [];
      if (def.params.length > 0) {
        this.expect('<');
        def.params.forEach((p, i) => {
          if (i > 0) this.expect(',');
          args.push(p.kind === 'stack' ? this.stk(env) : this.ty(env));
        });
        this.expect('>');
      } else if (this.peek() === '<') {
        this.fail(`type '${t}' takes no arguments`);
      }
      return { k: 'named', name: t, args };
    }
    this.fail(t === undefined ? 'expected a type but found the end' : `expected a type but found '${t}'`);
  }

  private pointer(env: TypeEnv, nullable: boolean): Ty {
    this.expect('*');
    const t = this.peek();
    if (t === '[') {
      this.next();
      const fields: Field[] = [];
      if (this.peek() !== ']') {
        for (;;) {
          const ty = this.ty(env);
          let flag: Flag = 'rw';
          if (this.peek() === '^') {
            this.next();
            const f = this.next();
            if (f !== 'r' && f !== 'rw' && f !== 'u') this.fail(`field flag must be ^r, ^rw or ^u, not ^${f}`);
            flag = f;
          }
          fields.push({ ty, flag });
          if (this.peek() === ',') { this.next(); continue; }
          break;
        }
      }
      this.expect(']');
      return { k: 'tuple', nullable, fields };
    }
    if (t === 'arr') {
      this.next();
      this.expect('(');
      const elem = this.ty(env);
      this.expect(')');
      return { k: 'arr', nullable, elem };
    }
    if (t === 'bytes' || t === 'rbytes') {
      this.next();
      return { k: 'bytes', nullable, ro: t === 'rbytes' };
    }
    this.fail(`expected '[', 'arr', 'bytes' or 'rbytes' after '*'`);
  }

  /** `exists[a, b] τ` (after the keyword): one ∃ per variable, the first outermost. Word variables only. */
  private exists(env: TypeEnv): Ty {
    const col = this.col();
    const vars = this.binders();
    const stackVar = vars.find(b => b.kind === 'stack');
    if (stackVar) throw new TypeSyntaxError(`'${stackVar.name}': an existential binds word type variables only`, col);
    const own = new Map<string, Binder>(vars.map(b => [b.name, b]));
    const outer = env.scope;
    const body = this.ty({ defs: env.defs, scope: { get: name => own.get(name) ?? outer.get(name) } });
    let out = body;
    for (let i = vars.length - 1; i >= 0; i--) out = { k: 'exists', b: vars[i], body: out };
    return out;
  }

  /**
   * `sum{0, 1, *[S(2)^r, int^r], …}` (after the keyword): nullary cases (integers 0 … 4095) and case tuples (a
   * tuple whose field 0 is a readable singleton, the tag), each at most once; kept sorted.
   */
  private sum(env: TypeEnv): Ty {
    this.expect('{');
    const consts: number[] = [];
    const cases: { tag: number; ty: TupleTy }[] = [];
    while (this.peek() !== '}') {
      const col = this.col();
      const t = this.peek();
      if (t !== undefined && /^-?[0-9]/.test(t)) {
        const n = this.number();
        if (n < 0 || n >= SUM_CONST_LIMIT)
          throw new TypeSyntaxError(`a nullary case is an integer 0 … ${SUM_CONST_LIMIT - 1}, not ${n}`, col);
        if (consts.includes(n)) throw new TypeSyntaxError(`the case ${n} is given twice`, col);
        consts.push(n);
      } else {
        const ty = this.ty(env);
        const tag = caseTag(ty);
        if (tag === undefined)
          throw new TypeSyntaxError('a case with values is a tuple *[S(tag)^r, …] whose field 0 is its tag', col);
        if (cases.some(c => c.tag === tag)) throw new TypeSyntaxError(`two cases have the tag ${tag}`, col);
        cases.push({ tag, ty: ty as TupleTy });
      }
      if (this.peek() !== ',') break;
      this.next();
    }
    this.expect('}');
    consts.sort((a, b) => a - b);
    cases.sort((a, b) => a.tag - b.tag);
    return { k: 'sum', consts, tags: cases.map(c => c.tag), cases: cases.map(c => c.ty) };
  }

  stk(env: TypeEnv): Stk {
    this.enter();
    try {
      const t = this.peek();
      if (t === 'nil') { this.next(); return NIL; }
      if (t !== undefined) {
        const b = env.scope.get(t);
        if (b && b.kind === 'stack') { this.next(); return { k: 'svar', b }; }
      }
      const head = this.ty(env);
      if (this.peek() !== '::') this.fail("a stack type ends with 'nil' or a stack variable ('… :: r')");
      this.next();
      return cons(head, this.stk(env));
    } finally {
      this.depth--;
    }
  }

  /** A word or a stack type, told apart by its shape: nil, a stack variable, or a word type followed by '::'. */
  arg(env: TypeEnv): Arg {
    const t = this.peek();
    if (t === 'nil' || (t !== undefined && env.scope.get(t)?.kind === 'stack')) return this.stk(env);
    this.enter();
    try {
      const head = this.ty(env);
      if (this.peek() !== '::') return head;
      this.next();
      return cons(head, this.stk(env));
    } finally {
      this.depth--;
    }
  }

  binders(): Binder[] {
    const out: Binder[] = [];
    const seen = new Set<string>();
    this.expect('[');
    for (;;) {
      const name = this.next();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.fail(`bad type variable name '${name}'`);
      if (seen.has(name)) this.fail(`type variable '${name}' bound twice`);
      seen.add(name);
      let kind: 'word' | 'stack' = 'word';
      if (this.peek() === ':') {
        this.next();
        const k = this.next();
        if (k !== 'stack' && k !== 'word') this.fail(`variable kind must be 'stack' or 'word', not '${k}'`);
        kind = k;
      }
      out.push(newBinder(name, kind));
      if (this.peek() === ',') { this.next(); continue; }
      break;
    }
    this.expect(']');
    return out;
  }

  code(env: TypeEnv): CodeTy {
    const vars = this.peek() === '[' ? this.binders() : [];
    // The inner scope looks in its own binders, then outward (nesting is at most MAX_DEPTH), rather than copying the
    // outer scope: a copy per code type would make parsing quadratic in the number of variables.
    const own = new Map<string, Binder>();
    for (const b of vars) own.set(b.name, b);
    const outer = env.scope;
    const scope: Scope = vars.length === 0 ? outer : { get: name => own.get(name) ?? outer.get(name) };
    const inner: TypeEnv = { defs: env.defs, scope };
    this.expect('{');
    const regs: (Ty | null)[] = new Array(8).fill(null);
    let stack: Stk | null = null;
    if (this.peek() !== '}') {
      for (;;) {
        const r = this.next();
        this.expect(':');
        if (r === 'esp') {
          if (stack) this.fail('esp given twice');
          stack = this.stk(inner);
        } else {
          const n = REGS[r];
          if (n === undefined) this.fail(`'${r}' is not a register (eax ebx ecx edx esi edi ebp esp)`);
          if (regs[n]) this.fail(`${r} given twice`);
          regs[n] = this.ty(inner);
        }
        if (this.peek() === ',') { this.next(); continue; }
        break;
      }
    }
    this.expect('}');
    if (!stack) this.fail('a code type must give esp');
    return { vars, regs, stack };
  }

  number(): number {
    const t = this.next();
    const neg = t.startsWith('-');
    const body = neg ? t.slice(1) : t;
    if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(body)) this.fail(`bad number '${t}'`);
    const v = Number(body);
    if (v > 0xffffffff) this.fail(`number ${t} does not fit in 32 bits`);
    return (neg ? -v : v) | 0;
  }
}

function run<T>(src: string, f: (p: Parser) => T): T {
  const p = new Parser(lex(src), src.length);
  const v = f(p);
  if (!p.atEnd()) p.fail(`unexpected '${p.peek()}' after the type`);
  return v;
}

export function parseTy(src: string, env: TypeEnv): Ty {
  return run(src, p => p.ty(env));
}
export function parseCode(src: string, env: TypeEnv): CodeTy {
  return run(src, p => {
    if (p.next() !== 'code') p.fail("a code label's type starts with 'code'");
    return p.code(env);
  });
}
/** A comma-separated list of word or stack types (an instantiation, written before the kinds it fills are known). */
export function parseArgList(src: string, env: TypeEnv): Arg[] {
  return run(src, p => {
    const out: Arg[] = [p.arg(env)];
    while (p.peek() === ',') {
      p.next();
      out.push(p.arg(env));
    }
    return out;
  });
}

/** Parse a definition header `name<a, r:stack>`: the name and its parameters. */
export function parseTypeDefHead(src: string): { name: string; params: Binder[] } {
  return run(src, p => {
    const name = p.next();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) p.fail(`bad type name '${name}'`);
    if (['int', 'top', 'S', 'code', 'nil', 'arr', 'bytes', 'rbytes'].includes(name))
      p.fail(`'${name}' is a reserved word`);
    if (name === SPTR) p.fail(`'${name}' is a reserved word`);
    let params: Binder[] = [];
    if (p.peek() === '<') {
      // Reuse the binder syntax with angle brackets.
      const toks: string[] = [];
      p.next();
      let depth = 1;
      while (depth > 0) {
        const t = p.next();
        if (t === '<') depth++;
        if (t === '>') depth--;
        if (depth > 0) toks.push(t);
      }
      params = new Parser(lex(`[${toks.join(' ')}]`), 0).binders();
    }
    return { name, params };
  });
}

/**
 * Parse a set of (possibly mutually recursive) definitions: all heads first, then the bodies.
 * A body must be a structure (not a bare name or variable), so unfolding always makes progress.
 */
export function parseTypeDefs(items: { head: string; body: string }[],
  onError: (i: number, e: TypeSyntaxError) => void): Map<string, TypeDef> {
  const heads = new Map<string, { params: Binder[] }>();
  const parsedHeads: ({ name: string; params: Binder[] } | null)[] = items.map((it, i) => {
    try {
      const h = parseTypeDefHead(it.head);
      if (heads.has(h.name)) throw new TypeSyntaxError(`type '${h.name}' defined twice`, 0);
      heads.set(h.name, { params: h.params });
      return h;
    } catch (e) {
      if (e instanceof TypeSyntaxError) { onError(i, e); return null; }
      throw e;
    }
  });
  const defs = new Map<string, TypeDef>();
  items.forEach((it, i) => {
    const h = parsedHeads[i];
    if (!h) return;
    try {
      const scope = new Map<string, Binder>(h.params.map(b => [b.name, b]));
      const body = parseTy(it.body, { defs: heads, scope });
      if (body.k === 'named' || body.k === 'var')
        throw new TypeSyntaxError(`type '${h.name}' must be defined as a structure, not as another name`, 0);
      defs.set(h.name, { name: h.name, params: h.params, body });
    } catch (e) {
      if (e instanceof TypeSyntaxError) { onError(i, e); return; }
      throw e;
    }
  });
  return defs;
}
