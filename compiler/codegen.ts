// Code generation: the checked program to annotated TAL assembly (talas syntax, docs/tal.md §5). Not trusted: the
// checker verifies what comes out, so every choice here is about producing code the checker can follow.
//
// The scheme (docs/popcorn.md §Compilation): cdecl calls, every register caller-saved, the result in eax. Each
// function's locals live in stack slots pushed at entry (`push 0`, one per local); expression temporaries are
// pushed above them. The generator keeps a model of the stack (temporaries, locals, return address, arguments)
// and writes it into the annotation of every label, so each block's type is exactly what the code has built.
// Bounds, null and zero-divisor checks are emitted before each access (the checker demands them). A failed check
// names its site, `file:line:col: message` (docs/popcorn.md §Run-time checks), at no cost on the normal path: the
// check's jcc goes to a per-site stub placed after the function (near, so the jcc is often short) that pushes the
// site's message (one `*rbytes` in .rodata per distinct text) and, for bounds, the index and length, then jumps
// to one shared routine that writes it and exits(255). All of it is ordinary verified code and data. In polymorphic
// functions every jump inside the function names the instantiation (.tal_inst with the function's own type
// variables), so matching never has to guess one from a more precise type.
//
// Exceptions (docs/popcorn.md "Exceptions") leave a function that may raise (compiler/raises.ts) by a second return
// address under the first, `code{eax: exn, esp: args :: r}`: a raise drops the frame and the normal return address
// and executes `ret`. A call of such a function first runs `call L` to the label just after, which pushes that second
// address typed with the caller's stack; the code after that `call` is where a raise lands, and goes on to the
// innermost handler (a label of the function, typed with its `try`'s stack) or out through the caller's own second
// return address. The exn value is a TAL tagged sum. Functions with nothing to do with exceptions are compiled as
// before, at no cost.
//
// Function values (docs/popcorn.md "Closures") are packages `exists[e] *[code^r, e^r]` (typed closure conversion):
// a closure's environment is a tuple of the values it captured, a function that captures nothing a static package
// `[wrapper, 0]`; a call through a value unpacks it and pushes the environment under the return address. Every
// function value may raise (docs/popcorn.md "Exceptions through function values"): its code takes the second return
// address under the environment, and a call through a value pushes it as a call of a raising function does.

import { forEachStmtExpr, subExprs, type Expr, type Pos, type Stmt } from './ast.ts';
import {
  caseValue, stdoutFlush, type Checked, type FunInfo, type LocalVar, type CallInfo, type ExnInfo,
} from './program.ts';
import {
  type Ty, type StructInfo, type UnionInfo, type Variant, byteElement, isNullable, nullaryCount, substTy, truncate,
  truncation,
} from './types.ts';
import { addressTaken, exceptionFlow, optimiserDeclines, type ExceptionFlow } from './raises.ts';

/**
 * The shared failure routines: DIE writes the message under the status on the stack and exits with that status,
 * FAIL is DIE with status 255 (a failed check), FAIL_BOUNDS writes the message, then ` (index I, length L)` and
 * exits 255, PUT_INT writes a signed integer (a cdecl function); BOUNDS_TEXT holds the constant pieces it writes.
 */
const DIE = '__popc_die', FAIL = '__popc_fail', FAIL_BOUNDS = '__popc_fail_bounds', PUT_INT = '__popc_put_int';
const BOUNDS_TEXT = '__popc_bounds_text';
// Both 255 as in Popcorn's runtime (pop_runtime.c: pop_exn_handler and the check failures exit(255)).
const FAIL_EXIT_STATUS = 255, UNCAUGHT_EXIT_STATUS = 255;

/**
 * Exceptions (docs/popcorn.md "Exceptions"). EXN_TYPE is the TAL type of an exn value: a tagged sum (docs/tal.md
 * §3.5) with a nullary case per exception that carries nothing (its tag) and a case tuple `*[S(tag)^r, τ^r]` per
 * exception carrying a τ. UNCAUGHT writes `SITE uncaught exception NAME` and exits 1: RAISE_SITE holds the site text
 * (`file:line:col: `) of the last `raise`, EXN_NAMES each exception's name by tag.
 */
export const EXN_TYPE = '__popc_exn';
const UNCAUGHT = '__popc_uncaught', RAISE_SITE = '__popc_raise_site', EXN_NAMES = '__popc_exn_names';
const UNCAUGHT_TEXT = '__popc_uncaught_text';
/**
 * A failed check raised as an exception, which no handler takes, stops the program with the check's own message
 * (docs/popcorn.md "Run-time checks"), as outside any `try`: a check's stub sets CHECK_RAISED (an int, 1) and leaves
 * its full message in CHECK_TEXT, and for bounds the index and the length in CHECK_INDEX and CHECK_LENGTH (-1 for
 * other checks); a `raise` clears CHECK_RAISED. UNCAUGHT writes the message when it is set.
 */
const CHECK_RAISED = '__popc_check_raised', CHECK_TEXT = '__popc_check_text';
const CHECK_INDEX = '__popc_check_index', CHECK_LENGTH = '__popc_check_length';
/** Every pointer is at least this (page zero is never mapped): below it an exn is a nullary case. */
export const FIRST_POINTER = 4096;

/** The TAL type of the value an exception carries, as its sum case: `*[S(tag)^r, τ^r]`. */
function exnCase(x: ExnInfo): string { return `*[S(${x.tag})^r, ${talTy(x.payload!)}^r]`; }

/**
 * What a failing check reports: the message, and for a bounds check where the array and the index are; and which
 * check it is (in a `try` body it raises that check's built-in exception instead).
 */
interface Failure {
  pos: Pos; what: string; check: NonNullable<ExnInfo['check']>; bounds?: { arr: string; idx: string; ty: string };
}

/** A stack word: `exnret` is the second return address of a function that may raise (docs/popcorn.md). */
type Slot =
  | { k: 'temp'; ty: string } | { k: 'local'; v: LocalVar } | { k: 'ret' } | { k: 'exnret' } | { k: 'arg'; v: LocalVar };

/** Whether a value of type `t` is a TAL byte array: a string, or an array of bytes (types.ts's `byteElement`). */
export const byteArray = (t: Ty): boolean => t.k === 'string' || (t.k === 'array' && byteElement(t.elem));

/** The TAL text of a popc type. `depth` numbers the stack variables of nested function types. */
export function talTy(t: Ty, depth = 1): string {
  switch (t.k) {
    case 'int': case 'unsigned': case 'bool': case 'char': case 'sub': return 'int';
    case 'exn': return EXN_TYPE;
    case 'null': return 'S(0)'; // `c ? null : null` is the integer 0, which every nullable type admits
    case 'error': throw new Error('internal: code generation of a program with type errors');
    case 'string': return '*bytes';
    case 'void': return 'top';
    case 'array': return byteElement(t.elem) ? '*bytes' : `*arr(${talTy(t.elem, depth)})`;
    case 'tuple': return `*[${t.elems.map(e => `${talTy(e, depth)}^r`).join(', ')}]`;
    case 'struct': return t.args.length ? `${t.s.tal}<${t.args.map(a => talTy(a, depth)).join(', ')}>` : t.s.tal;
    case 'union':
      // A nullary variant whose instance is not known is one of the small integers every instance admits.
      if (t.args.some(a => a.k === 'error')) return `sum{${[...Array(nullaryCount(t.u)).keys()].join(', ')}}`;
      return t.args.length ? `${t.u.tal}<${t.args.map(a => talTy(a, depth)).join(', ')}>` : t.u.tal;
    case 'var': return `t_${t.name}`;
    case 'fn': return `exists[e${depth}] *[${fnCode(t, `e${depth}`, depth)}^r, e${depth}^r]`;
  }
}

/**
 * A function value (docs/popcorn.md "Closures") is a package `exists[e] *[code^r, e^r]`: its code and its
 * environment, whose type is hidden (docs/tal.md §3.4, Minamide, Morrisett and Harper's typed closure conversion).
 * This is the code's type for the environment type `env`: cdecl with the environment as a first argument, under
 * the return address, and under the environment the second return address every function value takes, where it
 * returns with an exception in eax and its arguments still pushed (docs/popcorn.md "Exceptions through function
 * values"). `depth` numbers the variables of function types nested in it.
 */
export function fnCode(t: Extract<Ty, { k: 'fn' }>, env: string, depth = 1): string {
  const r = `R${depth}`;
  const params = [...t.params.map(p => talTy(p, depth + 1)), r].join(' :: ');
  const stack = `${env} :: code{eax: ${EXN_TYPE}, esp: ${params}} :: ${params}`;
  const ret = t.ret.k === 'void' ? `code{esp: ${stack}}` : `code{eax: ${talTy(t.ret, depth + 1)}, esp: ${stack}}`;
  return `code[${r}:stack]{esp: ${ret} :: ${stack}}`;
}

/** A function's type as a value. */
export function funValueTy(f: FunInfo): Extract<Ty, { k: 'fn' }> {
  return { k: 'fn', ret: f.ret, params: f.params.map(p => p.ty) };
}

/**
 * The static package of a function that captures nothing, used as a value: `[code, 0]` with the environment type
 * `int` (the code is the function's value wrapper, which ignores it). The use site packs it (a data word is never
 * a package, docs/tal.md §4.8).
 */
export function staticClosure(f: FunInfo): string { return `${f.tal}__clos`; }

/** The function (at -O2) that returns f's static package, for the optimiser's code (ir/lower.ts). */
export function closureGetter(f: FunInfo): string { return `${f.tal}__clos_get`; }

/** A closure's environment: the values of its captures, a read-only tuple. */
export function envTy(f: FunInfo): Ty {
  return { k: 'tuple', elems: (f.captures ?? []).map(c => c.inner.ty) };
}

/**
 * A function-typed global lives in a cell: the data word is a nullable pointer to a fresh `*[package^r]` that each
 * assignment (the initializer included, before pop_main) allocates, since a data word is never a package.
 */
export function globalCellTy(t: Ty): string { return `?*[${talTy(t)}^r]`; }

/** The tuple a struct's fields make, for tal_alloc's instantiation (field types with the struct's arguments). */
export function structTuple(t: Extract<Ty, { k: 'struct' }>): string {
  const m = new Map(t.s.tparams.map((p, i) => [p, t.args[i]]));
  return `*[${t.s.fields.map(f => talTy(substTy(f.ty, m))).join(', ')}]`;
}

function structDef(s: StructInfo): string {
  const params = s.tparams.length ? `<${s.tparams.map(p => `t_${p}`).join(', ')}>` : '';
  const fields = s.fields.map(f => `${talTy(f.ty)}^rw`).join(', ');
  return `.tal_type ${s.tal}${params} = ${s.nullable ? '?' : ''}*[${fields}]`;
}

/**
 * A union as TAL's tagged sum (docs/tal.md §3.5): its nullary variants are the integers below nullaryCount, each
 * other variant a read-only tuple [S(tag), value].
 */
function unionDef(u: UnionInfo): string {
  const params = u.tparams.length ? `<${u.tparams.map(p => `t_${p}`).join(', ')}>` : '';
  const cases = u.variants.map(v => (v.ty.k === 'void' ? String(v.tag) : variantTuple(v.tag, v.ty, 'r')));
  return `.tal_type ${u.tal}${params} = sum{${cases.join(', ')}}`;
}

/** A variant's case tuple: its tag and its value, with the fields' flag (`r` in the sum, `rw` when just built). */
export function variantTuple(tag: number, value: Ty, flag: 'r' | 'rw' | '' = 'r'): string {
  const f = flag ? `^${flag}` : '';
  return `*[S(${tag})${f}, ${talTy(value)}${f}]`;
}

/** A variant's value type at a union's instance. */
export function variantValue(t: Extract<Ty, { k: 'union' }>, v: Variant): Ty {
  return substTy(v.ty, new Map(t.u.tparams.map((p, i) => [p, t.args[i]])));
}

/** Bytes as assembler directives. */
function byteLines(bytes: number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) out.push(`    .byte ${bytes.slice(i, i + 16).join(', ')}`);
  return out;
}

/**
 * What a function generator other than this file's stack machine (the optimiser, compiler/ir/) gets from the module
 * being generated: its data objects, the shared failure routines, imports and labels, so that each lives once here.
 */
export interface ModuleServices {
  stringLiteral(bytes: number[]): string;
  message(text: string): string;
  /** A shared routine's label (or RAISE_SITE's, the word a raise writes its site into), marked as used. */
  routine(which: 'fail' | 'failBounds' | 'die' | 'raiseSite'): string;
  useImport(name: string): void;
  newLabel(hint: string): string;
  /** Whether a function keeps ebx, esi, edi and ebp for its callers (the optimiser's convention, docs/popcorn.md). */
  saves(f: FunInfo): boolean;
  /** The exit status of a program stopped by an uncaught exception (UnionVariant's stubs). */
  uncaughtStatus: number;
}

/** Generates one function's text (its label, code and failure stubs). */
export type FunctionGenerator = (f: FunInfo, m: ModuleServices) => string[];

/** The program's TAL text; `body` generates each function instead of the stack machine (popc -O). */
export function generate(c: Checked, body?: FunctionGenerator): string {
  return new Gen(c, body).program();
}

/**
 * Whether the stack machine generates f at every level: the optimiser declines it (compiler/raises.ts: checks that
 * raise) or it has to do with closures (below). The one rule both the generator and the optimiser's pipeline use.
 */
export function stackMachineOnly(c: Checked, f: FunInfo, flow: ExceptionFlow): boolean {
  return optimiserDeclines(c, f, flow) || usesClosures(c, f);
}

/**
 * Whether f has to do with closures beyond calling function values: it is one (it takes an environment), makes one
 * or calls one by name (it builds an environment), or reads or assigns a function-typed global (a cell). The
 * optimiser leaves these to the stack machine, as it does the functions with exceptions.
 */
export function usesClosures(c: Checked, f: FunInfo): boolean {
  if (f.captures?.length) return true;
  let uses = false;
  const ex = (e: Expr): void => {
    const r = c.refs.get(e);
    if (c.closureEnvs.has(e) || (r?.k === 'global' && r.g.ty.k === 'fn')) uses = true;
    subExprs(e).forEach(ex);
  };
  if (f.decl.body) forEachStmtExpr(f.decl.body, ex);
  return uses;
}

class Gen {
  private readonly text: string[] = [];
  private readonly data: string[] = [];
  private readonly rodata: string[] = [];
  private readonly imports = new Set<string>(['write', 'exit']);
  private strings = 0;
  private labels = 0;
  /** The site messages in .rodata, by text: sites with the same text share one. */
  private readonly messages = new Map<string, string>();
  /** The shared failure routines some code jumps to (only those are emitted). */
  private readonly routines = new Set<string>();
  /** The current function's failure stubs by what they push (one per site, shared by identical sites). */
  private stubs = new Map<string, { label: string; lines: string[] }>();
  // per function
  private f!: FunInfo;
  private stack: Slot[] = [];
  private live = new Set<LocalVar>();
  private falls = false;
  private loopTargets: { brk: string; cont?: string }[] = [];
  /**
   * Nullable locals that hold a null stored since the last label: the checker knows them as the integer 0, which a
   * null test cannot turn into a pointer, so a field access through them first passes a label (the declared type).
   */
  private nullIn = new Set<LocalVar>();
  /** Locals kept in registers (in functions that call no other function: imports keep ebx esi edi ebp). */
  private regOf = new Map<LocalVar, string>();
  /** Labels some jump targets. */
  private readonly used = new Set<string>();
  /**
   * The `.tal_loc "file.pop" LINE` of the statement being generated, and the last one written: the executable's
   * line table then maps each instruction to its Popcorn line, so that a refusal of this output (a popc bug) names it.
   */
  private wantLoc: string | undefined;
  private loc: string | undefined;
  /** The functions that may raise (they take a second return address), and those whose address is taken. */
  private readonly raising: Set<FunInfo>;
  /** The functions whose failed checks outside their `try` bodies raise out of them (raises.ts: a caller catches). */
  private readonly checksRaise: Set<FunInfo>;
  /** Whether the program has a `try`: only then may a check raise, and the CHECK_ globals exist. */
  private readonly handles: boolean;
  private readonly taken: Set<FunInfo>;
  /** The functions generated by the stack machine at every level: those that have to do with exceptions. */
  private readonly stackMachine: Set<FunInfo>;
  /** The enclosing `try` bodies of the current point, innermost last: the handler's label and stack depth. */
  private handlers: { label: string; depth: number }[] = [];

  constructor(private readonly c: Checked, private readonly body?: FunctionGenerator) {
    const flow = exceptionFlow(c);
    this.raising = flow.raising;
    this.checksRaise = flow.checksRaise;
    this.handles = flow.handles;
    this.taken = addressTaken(c);
    this.stackMachine = new Set(c.funs.filter(f => stackMachineOnly(c, f, flow)));
  }

  /** A closure's environment argument (the first, under the return address), made once per closure. */
  private readonly envVars = new Map<FunInfo, LocalVar>();
  private envVar(f: FunInfo): LocalVar | undefined {
    if (!f.captures?.length) return undefined;
    let v = this.envVars.get(f);
    if (!v) this.envVars.set(f, v = { name: '(environment)', ty: envTy(f), id: -1, pos: f.decl.pos });
    return v;
  }

  /**
   * Whether f keeps ebx, esi, edi and ebp for its callers (the optimiser's convention): only with the optimiser, and
   * never a function the entry calls (pop_main, the initializers, the flush), a function value, or a function the
   * stack machine generates.
   */
  private saves(f: FunInfo): boolean {
    return this.body !== undefined && !this.entryCalled(f) && !this.taken.has(f) && !this.stackMachine.has(f);
  }

  private services(): ModuleServices {
    return {
      stringLiteral: bytes => this.stringLiteral(bytes),
      message: text => this.message(text),
      routine: which => {
        const name = which === 'fail' ? FAIL : which === 'failBounds' ? FAIL_BOUNDS : which === 'die' ? DIE
          : RAISE_SITE;
        this.routines.add(name);
        return name;
      },
      useImport: name => { this.imports.add(name); },
      newLabel: hint => this.newLabel(hint),
      saves: f => this.saves(f),
      uncaughtStatus: UNCAUGHT_EXIT_STATUS,
    };
  }

  program(): string {
    for (const g of this.c.globals) this.global(g);
    const services = this.body ? this.services() : undefined;
    for (const f of this.c.funs) {
      if (!f.decl.body) continue;
      if (this.body && !this.stackMachine.has(f)) this.text.push(...this.body(f, services!));
      else this.fun(f);
      if (this.taken.has(f)) this.valueCode(f);
    }
    const main = this.c.main!;
    // The entry: the globals' initializers in order, pop_main, then standard output flushed and exit with pop_main's
    // result (int pop_main) or 0 (void pop_main), which stays on the stack across the flush, where exit takes it. A
    // function of these that may raise is called with the uncaught-exception routine as its second return address.
    const enter = (f: FunInfo): string[] => this.raising.has(f)
      ? [`    call __popc_enter_${f.tal}`, `    jmp ${this.useRoutine(UNCAUGHT)}`,
        `.tal_label __popc_enter_${f.tal} : code[r:stack]{esp: code{eax: ${EXN_TYPE}, esp: r} :: r}`,
        `__popc_enter_${f.tal}:`, `    call ${f.tal}`, '    add esp, 4']
      : [`    call ${f.tal}`];
    const entry = [
      ...this.c.inits.flatMap(enter),
      ...enter(main),
      main.ret.k === 'void' ? '    push 0' : '    push eax',
      ...this.flushCall().map(l => `    ${l}`),
    ];
    this.failRoutines();
    const head = [
      '# Generated by popc. Not trusted: talcheck verifies it.',
      '.intel_syntax noprefix',
      `.tal_import ${[...this.imports, 'tal_alloc', 'tal_new_array', 'tal_new_bytes', 'tal_args'].filter((x, i, a) => a.indexOf(x) === i).join(', ')}`,
      ...this.c.structs.map(structDef),
      ...this.c.unions.map(unionDef),
      this.exnSum(),
      '',
      '.text',
      '.tal_label main : code[r:stack]{esp: r}',
      'main:',
      ...entry,
      '    call DWORD PTR [exit]',
    ];
    return [...head, ...this.text, '', '.data', ...this.data, '', '.section .rodata', ...this.rodata, ''].join('\n');
  }

  /**
   * The functions the entry code calls (pop_main, the initializers, the flush): called with the plain cdecl type, so
   * at -O2 they do not promise to keep registers.
   */
  private entryCalled(f: FunInfo): boolean {
    return f === this.c.main || this.c.inits.includes(f) || f === stdoutFlush(this.c);
  }

  /** The call that flushes standard output (Core's buffer) before the program ends, if the program has one. */
  private flushCall(): string[] {
    const flush = stdoutFlush(this.c);
    return flush ? [`call ${flush.tal}`] : [];
  }

  /** The exn sum: one case per exception of the program (a nullary tag, or a tagged tuple with the value). */
  private exnSum(): string {
    const cases = this.c.exns.map(x => x.payload ? exnCase(x) : String(x.tag));
    return `.tal_type ${EXN_TYPE} = sum{${cases.length ? cases.join(', ') : '0'}}`;
  }

  private useRoutine(name: string): string {
    this.routines.add(name);
    return name;
  }

  /**
   * What makes f a function value (docs/popcorn.md "Closures"): code with the function-value convention (the
   * environment first, under the return address, then the second return address) and, for a function that captures
   * nothing, its static package `[code, 0]` in .data. A closure is that code itself (raises.ts makes it a raising
   * function, its environment above the second return address); a function that captures nothing gets a wrapper
   * that pushes its arguments again and calls it, and passes on through its own second return address what f
   * raises (docs/popcorn.md "Exceptions through function values").
   */
  private valueCode(f: FunInfo): void {
    const env = this.envVar(f);
    const raises = this.raising.has(f);
    const code = env ? f.tal : `${f.tal}__value`;
    if (!env) {
      const fty = funValueTy(f);
      this.data.push(`.tal_label ${staticClosure(f)} : *[${fnCode(fty, 'int')}^r, int^r]`, `${staticClosure(f)}:`,
        `    .long ${code}, 0`);
    }
    if (!env && this.body) {
      const fty = talTy(funValueTy(f));
      this.text.push('', `.tal_label ${closureGetter(f)} : code[r:stack]{esp: code{eax: ${fty}, esp: r} :: r}`,
        `${closureGetter(f)}:`, `    mov eax, OFFSET ${staticClosure(f)}`, `    .tal_pack eax, ${fty}, int`, '    ret');
    }
    if (env) return;
    const set = `${f.tal}__value_raise`;
    const n = f.params.length; // the words the wrapper passes on
    const params = [...f.params.map(p => talTy(p.ty)), 'r'].join(' :: ');
    const below = `int :: code{eax: ${EXN_TYPE}, esp: ${params}} :: ${params}`;
    const ret = f.ret.k === 'void' ? `code{esp: ${below}}` : `code{eax: ${talTy(f.ret)}, esp: ${below}}`;
    const stack = `${ret} :: ${below}`;
    const inner = [...f.params.map(p => talTy(p.ty)), stack].join(' :: ');
    this.text.push('', `.tal_label ${code} : code[r:stack]{esp: ${stack}}`, `${code}:`);
    // The arguments again, last first: each push moves the next one 4 bytes further from esp (under the return
    // address lie the environment, unused, and the second return address).
    for (let i = 0; i < n; i++) this.text.push(`    push DWORD PTR [esp+${4 * (n + 2)}]`);
    if (!raises) {
      this.text.push(`    call ${f.tal}`, ...(n ? [`    add esp, ${4 * n}`] : []), '    ret');
      return;
    }
    // f raised: its arguments, the return address and the environment dropped, out by the second return address.
    this.text.push(`    call ${set}`, `    add esp, ${4 * (n + 2)}`, '    ret',
      `.tal_label ${set} : code[r:stack]{esp: code{eax: ${EXN_TYPE}, esp: ${inner}} :: ${inner}}`, `${set}:`,
      `    call ${f.tal}`, `    add esp, ${4 * (n + 1)}`, '    ret');
  }

  /** A closure's entry: its copies of the captured variables set from its environment (docs/popcorn.md). */
  private capturedCopies(f: FunInfo): void {
    const env = this.envVar(f);
    if (!env) return;
    for (const [i, c] of f.captures!.entries()) {
      this.emit(`mov ecx, ${this.localOp(env)}`, `mov eax, DWORD PTR [ecx+${4 * i}]`);
      this.emit(`mov ${this.localOp(c.inner)}, eax`);
      this.live.add(c.inner);
    }
  }

  /** f as a value in eax: its static package, or a closure built here around the values its environment takes. */
  private funValue(e: Expr, f: FunInfo): void {
    const fty = talTy(funValueTy(f));
    const sources = this.c.closureEnvs.get(e);
    if (!sources) {
      this.emit(`mov eax, OFFSET ${staticClosure(f)}`, `.tal_pack eax, ${fty}, int`, 'mov ecx, eax');
      return;
    }
    const env = talTy(envTy(f));
    this.environment(f, sources);
    this.push(env);
    this.emit('push 8');
    this.inst(`*[${fnCode(funValueTy(f), env)}, ${env}]`);
    this.emit('call DWORD PTR [tal_alloc]', 'add esp, 4');
    this.pop('ecx');
    const code = f.tal; // a closure's own code is its value's (raises.ts: it takes the second return address)
    this.emit('mov DWORD PTR [eax+4], ecx', `mov DWORD PTR [eax], OFFSET ${code}`, `.tal_pack eax, ${fty}, ${env}`,
      'mov ecx, eax');
  }

  /** A closure's environment in eax: a fresh tuple of the values of `sources` (locals here), via tal_alloc. */
  private environment(f: FunInfo, sources: LocalVar[]): void {
    for (const v of sources) {
      this.emit(`mov eax, ${this.localOp(v)}`);
      this.push(talTy(v.ty));
    }
    this.emit(`push ${4 * sources.length}`);
    this.inst(`*[${sources.map(v => talTy(v.ty)).join(', ')}]`);
    this.emit('call DWORD PTR [tal_alloc]', 'add esp, 4');
    for (let i = sources.length - 1; i >= 0; i--) {
      this.pop('ecx');
      this.emit(`mov DWORD PTR [eax+${4 * i}], ecx`);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // data

  private stringLiteral(bytes: number[]): string {
    const name = `__popc_str_${this.strings++}`;
    this.data.push(`.tal_label ${name} : *bytes`, `${name}:`, `    .long ${bytes.length}`, ...byteLines(bytes),
      '    .align 4');
    return name;
  }

  private global(g: Checked['globals'][number]): void {
    const init = g.decl.init;
    // A global with no initializer, or one that runs before pop_main (in an initializer function), holds its type's
    // default until then (hasDefault in types.ts says which types have one).
    const word = init && !g.initializedAtRun ? this.constWord(init, g.ty) : this.defaultWord(g.ty);
    const ty = g.ty.k === 'fn' ? globalCellTy(g.ty) : talTy(g.ty);
    this.data.push(`.tal_label ${g.tal} : *[${ty}^rw]`, `${g.tal}:`, `    .long ${word}`);
  }

  /**
   * The default value of a type as one data word (Popcorn's: 0, false, null, "", the empty array, and a tuple or a
   * struct of defaults laid out here, one object per global, since its fields may be assigned).
   */
  private defaultWord(ty: Ty): string {
    switch (ty.k) {
      case 'string': return this.stringLiteral([]);
      case 'array': {
        if (byteElement(ty.elem)) return this.stringLiteral([]); // a fresh empty `*bytes`, as a string's default
        const name = `__popc_arr_${this.strings++}`;
        this.data.push(`.tal_label ${name} : *arr(${talTy(ty.elem)})`, `${name}:`, '    .long 0');
        return name;
      }
      case 'tuple': return this.defaultObject(`*[${ty.elems.map(e => `${talTy(e)}^r`).join(', ')}]`, ty.elems);
      case 'struct': {
        if (ty.s.nullable) return '0';
        const m = new Map(ty.s.tparams.map((p, i) => [p, ty.args[i]]));
        return this.defaultObject(talTy(ty), ty.s.fields.map(f => substTy(f.ty, m)));
      }
      default: return '0';
    }
  }

  private defaultObject(type: string, parts: readonly Ty[]): string {
    const words = parts.map(p => this.defaultWord(p));
    const name = `__popc_obj_${this.strings++}`;
    this.data.push(`.tal_label ${name} : ${type}`, `${name}:`, `    .long ${words.join(', ')}`);
    return name;
  }

  /** A constant initializer as one data word (a number, or the label of a string or array laid out here). */
  private constWord(e: Expr, ty: Ty): string {
    switch (e.k) {
      case 'int': case 'char': return String(truncate(e.value, ty));
      case 'unary': return String(truncate(-(e.e as Extract<Expr, { k: 'int' }>).value, ty));
      case 'bool': return e.value ? '1' : '0';
      case 'null': return '0';
      case 'string': return this.stringLiteral(e.bytes);
      case 'var': {
        const r = this.c.refs.get(e);
        if (r?.k === 'fun') return r.f.tal; // a function-typed global initialized with a function
        throw new Error('internal: non-constant global initializer');
      }
      case 'arraylit': {
        const elem = ty.k === 'array' ? ty.elem : ty;
        const words = e.elems.map(x => this.constWord(x, elem));
        // A bool or char array's bytes: a fresh `*bytes` object of its own (a global's array may be written).
        if (byteElement(elem)) return this.stringLiteral(words.map(w => Number(w) & 255));
        const name = `__popc_arr_${this.strings++}`;
        this.data.push(`.tal_label ${name} : *arr(${talTy(elem)})`, `${name}:`, `    .long ${words.length}`,
          `    .long ${words.join(', ')}`);
        return name;
      }
      case 'new': {
        // A record of constants (lib/core.pop's streams): its fields' words, typed as the struct.
        const st = this.c.news.get(e);
        if (st?.k !== 'struct') throw new Error('internal: unchecked new in a global initializer');
        const fields = new Map(st.s.tparams.map((p, i) => [p, st.args[i]]));
        const words = e.args.map((x, i) => this.constWord(x, substTy(st.s.fields[i].ty, fields)));
        const name = `__popc_rec_${this.strings++}`;
        this.data.push(`.tal_label ${name} : ${talTy(st)}`, `${name}:`, `    .long ${words.join(', ')}`);
        return name;
      }
      default: throw new Error('internal: non-constant global initializer');
    }
  }

  /** A constant message in .rodata (`*rbytes`), one per distinct text. */
  private message(text: string): string {
    let name = this.messages.get(text);
    if (name) return name;
    name = `__popc_msg_${this.messages.size}`;
    this.messages.set(text, name);
    this.readOnlyBytes(name, text);
    return name;
  }

  private readOnlyBytes(name: string, text: string): void {
    const bytes = [...Buffer.from(text, 'utf8')];
    this.rodata.push(`.tal_label ${name} : *rbytes`, `${name}:`, `    .long ${bytes.length}`, ...byteLines(bytes));
    this.rodata.push('    .align 4');
  }

  /** `file:line:col: what` for a site of the current function (its own file: a library function names lib/…). */
  private siteText(pos: Pos, what: string): string { return `${this.f.file}:${pos.line}:${pos.col}: ${what}`; }

  /** The shared routines the stubs jump to; each only if used. */
  private failRoutines(): void {
    const block = (label: string, type: string, ...lines: string[]): void => {
      this.text.push('', `.tal_label ${label} : ${type}`, `${label}:`, ...lines.map(l => `    ${l}`));
    };
    /** write(2, buf, off, count), each operand as an instruction takes it. */
    const write = (buf: string, off: number | string, count: number | string): string[] =>
      [`push ${count}`, `push ${off}`, `push ${buf}`, 'push 2', 'call DWORD PTR [write]', 'add esp, 16'];
    if (this.routines.has(FAIL_BOUNDS)) {
      // The site's text (no newline), then ` (index I, length L)` and the newline: constant pieces at offsets 0, 8
      // and 17 of BOUNDS_TEXT, and the index and the length the stub pushed under the message.
      this.readOnlyBytes(BOUNDS_TEXT, ' (index , length )\n');
      const piece = (off: number, count: number): string[] => write(`OFFSET ${BOUNDS_TEXT}`, off, count);
      block(FAIL_BOUNDS, 'code[s:stack]{esp: *rbytes :: int :: int :: s}', ...this.flushCall(),
        'pop eax', ...write('eax', 0, 'DWORD PTR [eax]'),
        ...piece(0, 8), `call ${PUT_INT}`, 'add esp, 4',
        ...piece(8, 9), `call ${PUT_INT}`, 'add esp, 4',
        ...piece(17, 2), `push ${FAIL_EXIT_STATUS}`, 'call DWORD PTR [exit]');
      // PUT_INT(n): the digits from the last, into a fresh 11-byte buffer (ebx) at edi downwards, then the sign (esi
      // holds n). The magnitude is divided unsigned, so INT_MIN prints right. Each store is bounds-checked, as the
      // checker demands; the checks cannot fail (at most 11 bytes).
      const put = (regs: string): string => `code[r:stack]{${regs}esp: code{esp: int :: r} :: int :: r}`;
      const digit = `${PUT_INT}_digit`, out = `${PUT_INT}_write`;
      block(PUT_INT, put(''), 'push 0', 'push 11', 'call DWORD PTR [tal_new_bytes]', 'add esp, 8',
        'mov ebx, eax', 'mov esi, DWORD PTR [esp+4]', 'mov edi, 11', 'mov eax, esi', 'test eax, eax', `jge ${digit}`,
        'neg eax');
      block(digit, put('eax: int, ebx: *bytes, esi: int, edi: int, '),
        'xor edx, edx', 'mov ecx, 10', 'div ecx', 'add edx, 48',
        'dec edi', 'cmp edi, DWORD PTR [ebx]', `jae ${out}`, 'mov BYTE PTR [ebx+edi*1+4], dl',
        'test eax, eax', `jne ${digit}`,
        'test esi, esi', `jge ${out}`,
        'dec edi', 'cmp edi, DWORD PTR [ebx]', `jae ${out}`, 'mov BYTE PTR [ebx+edi*1+4], 45');
      block(out, put('ebx: *bytes, edi: int, '), 'mov eax, 11', 'sub eax, edi', ...write('ebx', 'edi', 'eax'), 'ret');
    }
    if (this.routines.has(UNCAUGHT)) this.uncaughtRoutine(block, write);
    if (this.routines.has(UNCAUGHT) || this.routines.has(RAISE_SITE)) {
      this.data.push(`.tal_label ${RAISE_SITE} : *[*rbytes^rw]`, `${RAISE_SITE}:`, `    .long ${this.message('')}`);
    }
    if (this.handles) {
      for (const [name, ty, init] of [[CHECK_RAISED, 'int', '0'], [CHECK_TEXT, '*rbytes', this.message('')],
        [CHECK_INDEX, 'int', '0'], [CHECK_LENGTH, 'int', '-1']]) {
        this.data.push(`.tal_label ${name} : *[${ty}^rw]`, `${name}:`, `    .long ${init}`);
      }
    }
    if (this.routines.has(FAIL)) {
      this.routines.add(DIE);
      block(FAIL, 'code[s:stack]{esp: *rbytes :: s}', `push ${FAIL_EXIT_STATUS}`, `jmp ${DIE}`);
    }
    if (this.routines.has(DIE)) {
      // The status stays on top of the stack, where exit takes it.
      // Standard output first, so that what the program printed comes out before the message, as on any exit.
      block(DIE, 'code[s:stack]{esp: int :: *rbytes :: s}', ...this.flushCall(),
        'mov eax, DWORD PTR [esp+4]', ...write('eax', 0, 'DWORD PTR [eax]'), 'call DWORD PTR [exit]');
    }
  }

  /**
   * UNCAUGHT (eax: the exception): the site of the last raise, `uncaught exception `, the exception's name (by its
   * tag: the nullary case's value, or a case tuple's word 0), a newline; exit 1. The site and name table live in
   * .data and .rodata here.
   */
  private uncaughtRoutine(block: (label: string, type: string, ...lines: string[]) => void,
    write: (buf: string, off: number | string, count: number | string) => string[]): void {
    const text = 'uncaught exception \n';
    this.readOnlyBytes(UNCAUGHT_TEXT, text);
    const names = [this.message('?'), ...this.c.exns.map(x => this.message(x.name))];
    this.data.push(`.tal_label ${EXN_NAMES} : *arr(*rbytes)`, `${EXN_NAMES}:`, `    .long ${names.length}`,
      `    .long ${names.join(', ')}`);
    const named = `${UNCAUGHT}_named`, tuple = `${UNCAUGHT}_tuple`, done = `${UNCAUGHT}_done`;
    const tuples = this.c.exns.filter(x => x.payload);
    // A failed check's exception: its own message, by FAIL or FAIL_BOUNDS (which flush standard output first).
    const checked = `${UNCAUGHT}_check`, unbounded = `${UNCAUGHT}_check_text`, exn = `${UNCAUGHT}_exn`;
    if (this.handles) {
      block(UNCAUGHT, `code[s:stack]{eax: ${EXN_TYPE}, esp: s}`, `cmp DWORD PTR [${CHECK_RAISED}], 0`,
        `jne ${checked}`, `jmp ${exn}`);
      const bounds = this.routines.has(FAIL_BOUNDS);
      block(checked, 'code[s:stack]{esp: s}', ...(bounds ? [`mov ecx, DWORD PTR [${CHECK_LENGTH}]`, 'cmp ecx, 0',
        `jl ${unbounded}`, 'push ecx', `push DWORD PTR [${CHECK_INDEX}]`, `push DWORD PTR [${CHECK_TEXT}]`,
        `jmp ${FAIL_BOUNDS}`] : [`jmp ${unbounded}`]));
      this.routines.add(FAIL);
      block(unbounded, 'code[s:stack]{esp: s}', `push DWORD PTR [${CHECK_TEXT}]`, `jmp ${FAIL}`);
    }
    // The tag in ebx (imports keep it): a nullary case is its own tag.
    block(this.handles ? exn : UNCAUGHT, `code[s:stack]{eax: ${EXN_TYPE}, esp: s}`,
      ...(tuples.length ? [`cmp eax, ${FIRST_POINTER}`, `jae ${tuple}`] : []), 'mov ebx, eax', `jmp ${named}`);
    if (tuples.length) {
      block(tuple, `code[s:stack]{eax: sum{${tuples.map(exnCase).join(', ')}}, esp: s}`,
        'mov ebx, DWORD PTR [eax]', `jmp ${named}`);
    }
    // Standard output first, so that what the program printed comes out before the message (the tag kept across).
    block(named, 'code[s:stack]{ebx: int, esp: s}',
      ...(this.flushCall().length ? ['push ebx', ...this.flushCall(), 'pop ebx'] : []),
      `mov eax, DWORD PTR [${RAISE_SITE}]`, ...write('eax', 0, 'DWORD PTR [eax]'),
      ...write(`OFFSET ${UNCAUGHT_TEXT}`, 0, text.length - 1),
      `mov eax, OFFSET ${EXN_NAMES}`, 'cmp ebx, DWORD PTR [eax]', `jae ${done}`,
      'mov eax, DWORD PTR [eax+ebx*4+4]', ...write('eax', 0, 'DWORD PTR [eax]'), `jmp ${done}`);
    block(done, 'code[s:stack]{esp: s}',
      ...write(`OFFSET ${UNCAUGHT_TEXT}`, text.length - 1, 1), `push ${UNCAUGHT_EXIT_STATUS}`, 'call DWORD PTR [exit]');
  }

  // ---------------------------------------------------------------------------------------------------------
  // functions, the stack model and labels

  private get generic(): boolean { return this.f.tparams.length > 0; }
  private binders(): string { return [...this.f.tparams.map(p => `t_${p}`), 'r:stack'].join(', '); }

  /**
   * What lies under f's return address: a closure's environment, the second return address of a function that may
   * raise (under the environment, as a function value's: fnCode), the parameters.
   */
  private belowReturn(f: FunInfo): string {
    const env = this.envVar(f);
    return [...(env ? [talTy(env.ty)] : []), ...(this.raising.has(f) ? [this.exnRetType(f)] : []),
      ...f.params.map(p => talTy(p.ty)), 'r'].join(' :: ');
  }

  private retType(f: FunInfo): string {
    // A function that may raise returns normally over its second return address, which the caller drops.
    const stack = this.belowReturn(f);
    return f.ret.k === 'void' ? `code{esp: ${stack}}` : `code{eax: ${talTy(f.ret)}, esp: ${stack}}`;
  }

  private funType(f: FunInfo): string {
    const binders = [...f.tparams.map(p => `t_${p}`), 'r:stack'].join(', ');
    return `code[${binders}]{esp: ${this.retType(f)} :: ${this.belowReturn(f)}}`;
  }

  /**
   * Where a function that may raise returns with the exception in eax: its parameters still on the stack (a
   * closure's environment, above the second return address, dropped with its frame).
   */
  private exnRetType(f: FunInfo): string {
    return `code{eax: ${EXN_TYPE}, esp: ${[...f.params.map(p => talTy(p.ty)), 'r'].join(' :: ')}}`;
  }

  private slotType(s: Slot): string {
    switch (s.k) {
      case 'temp': return s.ty;
      case 'local': return this.live.has(s.v) ? talTy(s.v.ty) : 'top';
      case 'ret': return this.retType(this.f);
      case 'exnret': return this.exnRetType(this.f);
      case 'arg': return talTy(s.v.ty);
    }
  }

  private stackText(from = 0): string {
    return [...this.stack.slice(from).map(s => this.slotType(s)), 'r'].join(' :: ');
  }

  /**
   * Instructions at the current point. After a jmp, ret or a call that does not return, and before the next label,
   * code is unreachable (e.g. `true || f()` or `!true ? a : b`): it is not emitted, since the checker refuses
   * unlabeled code there.
   */
  private emit(...lines: string[]): void {
    if (!this.falls) return;
    if (this.wantLoc !== this.loc && lines.length) {
      this.loc = this.wantLoc;
      this.text.push(`    ${this.loc ?? '.tal_loc'}`);
    }
    for (const l of lines) this.text.push(`    ${l}`);
  }

  /** A `.tal_inst` for the next instruction (dropped with it when unreachable). */
  private inst(args: string): void {
    if (this.falls) this.text.push(`    .tal_inst ${args}`);
  }

  private newLabel(hint: string): string { return `L${this.labels++}_${hint}`; }

  /** A jump (jmp or jcc) to a label of this function: in polymorphic code, with its instantiation. */
  private jump(op: string, label: string): void {
    if (!this.falls) return;
    if (this.generic) this.inst(`${this.f.tparams.map(p => `t_${p}`).join(', ')}, r`);
    this.emit(`${op} ${label}`);
    this.used.add(label);
    if (op === 'jmp') this.falls = false;
  }

  /** Place a label only if control can get there (by falling in or by a jump); else the code after is dead. */
  private labelIfReached(name: string, regs: Record<string, string> = {}): void {
    if (this.falls || this.used.has(name)) this.label(name, regs);
  }

  /**
   * A check's jump to its site's stub, made (or shared with an identical site) here and placed after the function.
   * The stub's type takes any stack; a bounds stub also has the array and the index registers, whose length and
   * value it pushes (in a polymorphic function its array type may name the function's type variables).
   */
  private fail(op: string, f: Failure): void {
    if (!this.falls) return;
    if (this.handlers.length || this.checksRaise.has(this.f)) return this.raiseFailure(op, f);
    const b = f.bounds;
    const text = this.siteText(f.pos, f.what) + (b ? '' : '\n');
    const key = b ? `${text}\0${b.arr}\0${b.idx}\0${b.ty}` : text;
    let stub = this.stubs.get(key);
    if (!stub) {
      const label = this.newLabel('fail'), msg = this.message(text);
      this.routines.add(b ? FAIL_BOUNDS : FAIL);
      const binders = [...(b ? this.f.tparams.map(p => `t_${p}`) : []), 's:stack'].join(', ');
      const regs = b ? `${b.arr}: ${b.ty}, ${b.idx}: int, ` : '';
      const push = b ? [`push DWORD PTR [${b.arr}]`, `push ${b.idx}`] : [];
      stub = { label, lines: [`.tal_label ${label} : code[${binders}]{${regs}esp: s}`, `${label}:`,
        ...[...push, `push OFFSET ${msg}`, `jmp ${b ? FAIL_BOUNDS : FAIL}`].map(l => `    ${l}`)] };
      this.stubs.set(key, stub);
    }
    this.emit(`${op} ${stub.label}`);
  }

  /**
   * A check's failure inside a `try` body, or in a function whose checks raise out of it (raises.ts): its jcc goes
   * to a stub (after the function, typed with the whole state here) that raises the check's built-in exception to
   * the innermost handler, else through the function's second return address, the site as a raise's.
   */
  private raiseFailure(op: string, f: Failure): void {
    const x = this.c.exns.find(e => e.check === f.check)!;
    const h = this.handlers.at(-1);
    const label = this.newLabel('raise');
    const regs = [...this.regOf].filter(([v]) => this.live.has(v)).map(([v, r]) => `${r}: ${talTy(v.ty)}, `).join('')
      + (f.bounds ? `${f.bounds.arr}: ${f.bounds.ty}, ${f.bounds.idx}: int, ` : ''); // recordCheck reads them
    const inst = this.generic ? [`.tal_inst ${this.f.tparams.map(p => `t_${p}`).join(', ')}, r`] : [];
    // To the handler: the stack cut back to its depth. Out: the frame, the normal return address and a closure's
    // environment dropped (everything above the second return address).
    const cut = h ? this.stack.length - h.depth : this.stack.findIndex(s => s.k === 'exnret');
    const leave = h ? [...inst, `jmp ${h.label}`] : ['ret'];
    const lines = [...this.recordCheck(f), `mov eax, ${x.tag}`,
      `mov ecx, OFFSET ${this.message(this.siteText(f.pos, ''))}`,
      `mov DWORD PTR [${this.useRoutine(RAISE_SITE)}], ecx`, ...(cut ? [`add esp, ${4 * cut}`] : []), ...leave];
    const type = `code[${this.binders()}]{${regs}esp: ${this.stackText()}}`;
    this.stubs.set(label,
      { label, lines: [`.tal_label ${label} : ${type}`, `${label}:`, ...lines.map(l => `    ${l}`)] });
    if (h) this.used.add(h.label);
    if (this.generic) this.inst(`${this.f.tparams.map(p => `t_${p}`).join(', ')}, r`);
    this.emit(`${op} ${label}`);
  }

  /**
   * The check's own message, and for bounds the index and the length (before eax and ecx are reused), kept for
   * UNCAUGHT in case no handler takes the exception: what the stub outside any `try` would have written.
   */
  private recordCheck(f: Failure): string[] {
    const b = f.bounds;
    const text = f.check === 'variant' ? `${this.siteText(f.pos, 'uncaught exception UnionVariant')}\n`
      : this.siteText(f.pos, f.what) + (b ? '' : '\n');
    this.routines.add(b ? FAIL_BOUNDS : FAIL);
    const bounds = b ? [`mov DWORD PTR [${CHECK_INDEX}], ${b.idx}`, `mov ecx, DWORD PTR [${b.arr}]`]
      : ['mov ecx, -1'];
    return [...bounds, `mov DWORD PTR [${CHECK_LENGTH}], ecx`, `mov ecx, OFFSET ${this.message(text)}`,
      `mov DWORD PTR [${CHECK_TEXT}], ecx`, 'mov ecx, 1', `mov DWORD PTR [${CHECK_RAISED}], ecx`];
  }

  /**
   * A bounds check's failure: the array's type as the stub declares it (a string or a byte array as `*rbytes`,
   * literals too).
   */
  private boundsFailure(pos: Pos, arrTy: Ty, arr: string, idx: string): Failure {
    const str = arrTy.k === 'string';
    const ty = byteArray(arrTy) ? '*rbytes' : talTy(arrTy);
    return { pos, what: `${str ? 'string' : 'array'} index out of bounds`, check: 'bounds', bounds: { arr, idx, ty } };
  }

  /** Place a label here, typed by the current model; `regs` are registers live into it. */
  private label(name: string, regs: Record<string, string> = {}): void {
    // Two labels may not share an address: separate them.
    if (this.text.length && this.text[this.text.length - 1].endsWith(':')
      && !this.text[this.text.length - 1].startsWith(' ')) this.emit('nop');
    if (this.falls && this.generic) this.jump('jmp', name); // no falling into labels in polymorphic code
    const all: Record<string, string> = { ...regs };
    for (const [v, reg] of this.regOf) if (this.live.has(v)) all[reg] = talTy(v.ty);
    const r = Object.entries(all).map(([k, v]) => `${k}: ${v}, `).join('');
    this.text.push(`.tal_label ${name} : code[${this.binders()}]{${r}esp: ${this.stackText()}}`, `${name}:`);
    this.falls = true;
    this.nullIn.clear();
  }

  private push(ty: string, operand = 'eax'): void {
    this.emit(`push ${operand}`);
    this.stack.unshift({ k: 'temp', ty });
  }
  private pop(reg: string): void {
    this.emit(`pop ${reg}`);
    this.stack.shift();
  }
  private drop(n: number): void {
    if (n === 0) return;
    this.emit(`add esp, ${4 * n}`);
    this.stack.splice(0, n);
  }

  /** Where a local lives: its register, or its stack slot. */
  private localOp(v: LocalVar): string {
    return this.regOf.get(v) ?? `DWORD PTR [esp+${this.offsetOf(v)}]`;
  }

  private offsetOf(v: LocalVar): number {
    const i = this.stack.findIndex(s => (s.k === 'local' || s.k === 'arg') && s.v === v);
    if (i < 0) throw new Error(`internal: ${v.name} is not on the stack`);
    return 4 * i;
  }

  private fun(f: FunInfo): void {
    this.f = f;
    this.live = new Set();
    this.loopTargets = [];
    const env = this.envVar(f);
    this.stack = [{ k: 'ret' }, ...(env ? [{ k: 'arg' as const, v: env }] : []),
      ...(this.raising.has(f) ? [{ k: 'exnret' as const }] : []), ...f.params.map(v => ({ k: 'arg' as const, v }))];
    this.handlers = [];
    this.text.push('', `.tal_label ${f.tal} : ${this.funType(f)}`, `${f.tal}:`);
    this.wantLoc = this.locOf(f.decl.pos);
    this.falls = true;
    this.regOf = this.registerLocals(f);
    for (const v of f.locals) {
      if (this.regOf.has(v)) continue;
      this.emit('push 0');
      this.stack.unshift({ k: 'local', v });
    }
    this.stubs = new Map();
    this.capturedCopies(f);
    this.stmt(f.decl.body!);
    if (this.falls) this.ret();
    // The stubs, and the shared routines after the last function, are the generated file's own lines.
    this.wantLoc = undefined;
    if (this.loc !== undefined) this.text.push('    .tal_loc');
    this.loc = undefined;
    for (const s of this.stubs.values()) this.text.push(...s.lines);
  }

  /**
   * In a function that calls no other function (only imports, which keep ebx, esi, edi and ebp), the four most used
   * locals live in those registers: label annotations give their types like a stack slot's.
   */
  private registerLocals(f: FunInfo): Map<LocalVar, string> {
    const uses = new Map<LocalVar, number>();
    let leaf = true;
    const ex = (e: Expr): void => {
      if (e.k === 'var') {
        const r = this.c.refs.get(e);
        if (r?.k === 'local' && f.locals.includes(r.v)) uses.set(r.v, (uses.get(r.v) ?? 0) + 1);
      } else if (e.k === 'call') {
        const t = this.c.calls.get(e)?.target;
        if (!t || t.k === 'fun' || t.k === 'value') leaf = false;
        if (t?.k === 'builtin') { e.args.forEach(ex); return; } // a builtin's name is not a use of anything
      }
      subExprs(e).forEach(ex);
    };
    forEachStmtExpr(f.decl.body, ex);
    const out = new Map<LocalVar, string>();
    if (!leaf) return out;
    const regs = ['ebx', 'esi', 'edi', 'ebp'];
    [...uses].sort((a, b) => b[1] - a[1]).slice(0, regs.length).forEach(([v], i) => out.set(v, regs[i]));
    return out;
  }

  private ret(): void {
    const n = this.stack.findIndex(s => s.k === 'ret');
    if (n > 0) this.emit(`add esp, ${4 * n}`);
    this.emit('ret');
    this.falls = false;
  }

  // ---------------------------------------------------------------------------------------------------------
  // statements

  private locOf(pos: Pos): string {
    return `.tal_loc ${JSON.stringify(this.f.file)} ${pos.line}`;
  }

  /** A statement, its instructions at its line (a statement inside it at its own, and this one's again after). */
  private stmt(s: Stmt): void {
    const outer = this.wantLoc;
    this.wantLoc = this.locOf(s.pos);
    this.stmtHere(s);
    this.wantLoc = outer;
  }

  private stmtHere(s: Stmt): void {
    if (!this.falls) {
      // Unreachable (the checker reported it, or it follows an infinite loop): nothing to emit.
      if (s.k !== 'block') return;
    }
    switch (s.k) {
      case 'block': {
        const before = new Set(this.live);
        for (const x of s.body) this.stmt(x);
        this.live = before;
        return;
      }
      case 'expr': this.expr(s.e); return;
      case 'decl':
        for (const d of s.decls) {
          const v = this.c.decls.get(d)!;
          if (d.init) {
            if (d.init.k === 'arraylit') this.arrayLiteral(d.init, v.ty);
            else { this.expr(d.init); this.toChar(v.ty); }
            this.emit(`mov ${this.localOp(v)}, eax`);
            if (d.init.k === 'null') this.nullIn.add(v); else this.nullIn.delete(v);
          } else {
            this.emit(`mov ${this.localOp(v)}, 0`);
            this.nullIn.add(v);
          }
          this.live.add(v);
        }
        return;
      case 'if': {
        const elseL = this.newLabel('else'), end = this.newLabel('endif');
        this.branch(s.c, elseL, false);
        const live = new Set(this.live);
        this.stmt(s.then);
        this.live = new Set(live);
        if (s.else) {
          const thenFalls = this.falls;
          if (thenFalls) this.jump('jmp', end);
          this.falls = false;
          this.labelIfReached(elseL);
          this.stmt(s.else);
          this.live = live;
          this.labelIfReached(end);
        } else {
          this.labelIfReached(elseL);
        }
        return;
      }
      case 'while': {
        const head = this.newLabel('while'), exit = this.newLabel('wend');
        this.label(head);
        this.branch(s.c, exit, false);
        this.loopTargets.push({ brk: exit, cont: head });
        this.stmt(s.body);
        this.loopTargets.pop();
        if (this.falls) this.jump('jmp', head);
        this.labelIfReached(exit);
        return;
      }
      case 'do': {
        const head = this.newLabel('do'), cont = this.newLabel('dcond'), exit = this.newLabel('dend');
        this.label(head);
        this.loopTargets.push({ brk: exit, cont });
        this.stmt(s.body);
        this.loopTargets.pop();
        this.labelIfReached(cont);
        if (this.falls) this.branch(s.c, head, true);
        this.labelIfReached(exit);
        return;
      }
      case 'for': {
        const live = new Set(this.live);
        if (s.init) this.stmt(s.init);
        if (s.init?.k === 'decl') for (const d of s.init.decls) this.live.add(this.c.decls.get(d)!);
        const head = this.newLabel('for'), cont = this.newLabel('fstep'), exit = this.newLabel('fend');
        this.label(head);
        if (s.c) this.branch(s.c, exit, false);
        this.loopTargets.push({ brk: exit, cont });
        this.stmt(s.body);
        this.loopTargets.pop();
        this.labelIfReached(cont);
        if (this.falls) {
          for (const e of s.step ?? []) this.expr(e);
          this.jump('jmp', head);
        }
        this.labelIfReached(exit);
        this.live = live;
        return;
      }
      case 'switch': {
        if (this.ty(s.e).k === 'union') return this.unionSwitch(s);
        if (this.ty(s.e).k === 'exn') return this.exnSwitch(s);
        this.expr(s.e);
        const end = this.newLabel('send');
        const caseLabels = s.cases.map(() => this.newLabel('case'));
        const dflt = this.newLabel('default');
        s.cases.forEach((c, i) => {
          for (const v of c.values) {
            const value = caseValue(this.c, v);
            this.emit(`cmp eax, ${value}`);
            this.jump('je', caseLabels[i]);
          }
        });
        this.jump('jmp', dflt);
        this.loopTargets.push({ brk: end });
        s.cases.forEach((c, i) => {
          this.label(caseLabels[i]);
          this.stmt({ k: 'block', body: c.body, pos: c.pos });
          if (this.falls) this.jump('jmp', end);
        });
        this.falls = false;
        this.label(dflt);
        if (s.dflt) this.stmt({ k: 'block', body: s.dflt, pos: s.pos });
        this.loopTargets.pop();
        this.labelIfReached(end);
        return;
      }
      case 'break': this.jump('jmp', this.loopTargets[this.loopTargets.length - 1].brk); return;
      case 'continue': {
        const t = [...this.loopTargets].reverse().find(x => x.cont);
        this.jump('jmp', t!.cont!);
        return;
      }
      case 'return':
        if (s.e) { this.expr(s.e); this.toChar(this.f.ret); }
        this.ret();
        return;
      case 'raise':
        this.expr(s.e);
        this.emit(`mov ecx, OFFSET ${this.message(this.siteText(s.pos, ''))}`,
          `mov DWORD PTR [${this.useRoutine(RAISE_SITE)}], ecx`);
        if (this.handles) this.emit('xor ecx, ecx', `mov DWORD PTR [${CHECK_RAISED}], ecx`); // a raise, not a check
        this.raiseHere();
        return;
      case 'try': return this.tryHandle(s);
      case 'empty': case 'fun': return; // a nested function is generated as a function of its own
    }
  }

  /**
   * The exception in eax goes to the innermost handler of this function (the stack cut back to its depth), else out
   * through this function's second return address (its frame and the normal return address dropped). `landing`:
   * where a callee's raise lands, which in a function that cannot raise (the callee's checks raise, and no caller of
   * this function can catch them: raises.ts) stops the program as uncaught.
   */
  private raiseHere(landing = false): void {
    const h = this.handlers[this.handlers.length - 1];
    if (h) {
      if (this.stack.length > h.depth) this.emit(`add esp, ${4 * (this.stack.length - h.depth)}`);
      this.jump('jmp', h.label);
    } else if (this.raising.has(this.f)) {
      // The frame, the return address and a closure's environment dropped: out by the second return address.
      this.emit(`add esp, ${4 * this.stack.findIndex(x => x.k === 'exnret')}`, 'ret');
      this.falls = false;
    } else if (landing) {
      // A callee's check raised, and no caller of this function can catch it (raises.ts): stopped as uncaught.
      this.emit(`jmp ${this.useRoutine(UNCAUGHT)}`);
      this.falls = false;
    } else {
      throw new Error(`internal: ${this.f.name} raises but is not known to`);
    }
  }

  /** `try body handle x handler`: a raise in the body (or in what it calls) jumps to the handler's label. */
  private tryHandle(s: Extract<Stmt, { k: 'try' }>): void {
    const handler = this.newLabel('handler'), end = this.newLabel('tryend');
    const live = new Set(this.live);
    this.handlers.push({ label: handler, depth: this.stack.length });
    this.stmt(s.body);
    this.handlers.pop();
    if (this.falls) this.jump('jmp', end);
    if (this.used.has(handler)) {
      this.live = new Set(live);
      this.label(handler, { eax: EXN_TYPE });
      const x = this.c.handlerVars.get(s)!;
      this.emit(`mov ${this.localOp(x)}, eax`);
      this.live.add(x);
      this.stmt(s.handler);
    }
    this.live = live;
    this.labelIfReached(end);
  }

  /**
   * A switch on an exception: the nullary cases by value, then (below FIRST_POINTER only nullary cases are left) the
   * case tuples by their word 0; `case F(x):` is entered with eax the tuple and binds x to its value. Without a
   * default, what no case takes is raised again.
   */
  private exnSwitch(s: Extract<Stmt, { k: 'switch' }>): void {
    this.expr(s.e);
    const end = this.newLabel('send'), dflt = this.newLabel('default');
    const caseLabels = s.cases.map(() => this.newLabel('case'));
    const exnOf = (v: Expr): ExnInfo => {
      const r = this.c.refs.get(v.k === 'call' ? v.fn : v);
      if (r?.k !== 'exn') throw new Error('internal: exception case');
      return r.e;
    };
    const tuples: { x: ExnInfo; label: string }[] = [];
    s.cases.forEach((c, i) => {
      for (const v of c.values) {
        const x = exnOf(v);
        if (x.payload) { tuples.push({ x, label: caseLabels[i] }); continue; }
        this.emit(`cmp eax, ${x.tag}`);
        this.jump('je', caseLabels[i]);
      }
    });
    if (tuples.length) {
      this.emit(`cmp eax, ${FIRST_POINTER}`);
      this.jump('jb', dflt);
      for (const t of tuples) {
        this.emit(`cmp DWORD PTR [eax], ${t.x.tag}`);
        this.jump('je', t.label);
      }
    }
    this.jump('jmp', dflt);
    this.loopTargets.push({ brk: end });
    const live = new Set(this.live);
    s.cases.forEach((c, i) => {
      this.live = new Set(live);
      const bind = c.values.length === 1 ? this.c.caseBinds.get(c.values[0]) : undefined;
      const carried = c.values.length === 1 ? exnOf(c.values[0]) : undefined;
      this.label(caseLabels[i], carried?.payload ? { eax: exnCase(carried) } : {});
      if (bind) {
        this.emit('mov eax, DWORD PTR [eax+4]', `mov ${this.localOp(bind)}, eax`);
        this.live.add(bind);
      }
      this.stmt({ k: 'block', body: c.body, pos: c.pos });
      if (this.falls) this.jump('jmp', end);
    });
    this.live = new Set(live);
    this.falls = false;
    if (s.dflt) {
      this.label(dflt);
      this.stmt({ k: 'block', body: s.dflt, pos: s.pos });
    } else {
      this.label(dflt, { eax: EXN_TYPE });
      this.raiseHere();
    }
    this.loopTargets.pop();
    this.live = live;
    this.labelIfReached(end);
  }

  // ---------------------------------------------------------------------------------------------------------
  // conditions

  private ty(e: Expr): Ty { return this.c.types.get(e)!; }

  /** Jump to `target` if `e` is `when`; fall through otherwise. */
  private branch(e: Expr, target: string, when: boolean): void {
    if (e.k === 'bool') {
      if (e.value === when) this.jump('jmp', target);
      return;
    }
    if (e.k === 'unary' && e.op === '!') return this.branch(e.e, target, !when);
    if (e.k === 'binary' && (e.op === '&&' || e.op === '||')) {
      const and = e.op === '&&';
      if (and !== when) {
        // (a && b) false: a false or b false.  (a || b) true: a true or b true.
        this.branch(e.l, target, when);
        this.branch(e.r, target, when);
      } else {
        const skip = this.newLabel('sc');
        this.branch(e.l, skip, !when);
        this.branch(e.r, target, when);
        this.labelIfReached(skip);
      }
      return;
    }
    if (e.k === 'binary' && ['==', '!=', '<', '<=', '>', '>='].includes(e.op)) {
      const l = this.ty(e.l), r = this.ty(e.r);
      if (e.r.k === 'null' || e.l.k === 'null') {
        this.expr(e.r.k === 'null' ? e.l : e.r);
        this.emit('test eax, eax');
        const isNull = e.op === '==';
        this.jump(isNull === when ? 'je' : 'jne', target);
        return;
      }
      this.operands(e.l, e.r);
      this.emit('cmp eax, ecx');
      const unsigned = l.k === 'unsigned' || r.k === 'unsigned';
      const cc = condCode(e.op, unsigned);
      this.jump(`j${when ? cc : negate(cc)}`, target);
      return;
    }
    this.expr(e);
    this.emit('test eax, eax');
    this.jump(when ? 'jne' : 'je', target);
  }

  // ---------------------------------------------------------------------------------------------------------
  // expressions: the value ends in eax

  /** Whether `e` can be loaded into a register without touching eax (a constant or a variable). */
  private simple(e: Expr): boolean {
    if (e.k === 'int' || e.k === 'char' || e.k === 'bool' || e.k === 'null') return true;
    if (e.k === 'var') { const r = this.c.refs.get(e); return r?.k === 'local' || r?.k === 'global'; }
    return false;
  }

  private loadSimple(e: Expr, reg: string): void {
    switch (e.k) {
      case 'int': case 'char': this.emit(`mov ${reg}, ${e.value | 0}`); return;
      case 'bool': this.emit(`mov ${reg}, ${e.value ? 1 : 0}`); return;
      case 'null': this.emit(`xor ${reg}, ${reg}`); return;
      case 'var': {
        const r = this.c.refs.get(e)!;
        if (r.k === 'local') this.emit(`mov ${reg}, ${this.localOp(r.v)}`);
        else if (r.k === 'global') {
          this.emit(`mov ${reg}, DWORD PTR [${r.g.tal}]`);
          if (r.g.ty.k === 'fn') this.cellLoad(reg, e.pos);
        }
        return;
      }
      default: throw new Error('internal: not simple');
    }
  }

  /** A function-typed global's value from its cell (in `reg`); null before its initializer has run. */
  private cellLoad(reg: string, pos: Pos): void {
    this.emit(`test ${reg}, ${reg}`);
    this.fail('je', { pos, what: 'null pointer dereference', check: 'null' });
    this.emit(`mov ${reg}, DWORD PTR [${reg}]`);
  }

  /** Left operand in eax, right in ecx. */
  private operands(l: Expr, r: Expr): void {
    if (this.simple(r)) {
      this.expr(l);
      this.loadSimple(r, 'ecx');
      return;
    }
    this.expr(l);
    this.push(talTy(this.ty(l)));
    this.expr(r);
    this.emit('mov ecx, eax');
    this.pop('eax');
  }

  private expr(e: Expr): void {
    switch (e.k) {
      case 'int': case 'char':
        this.emit((e.value | 0) === 0 ? 'xor eax, eax' : `mov eax, ${e.value | 0}`);
        return;
      case 'bool': this.emit(e.value ? 'mov eax, 1' : 'xor eax, eax'); return;
      case 'null': this.emit('xor eax, eax'); return;
      case 'string': this.emit(`mov eax, OFFSET ${this.stringLiteral(e.bytes)}`); return;
      case 'var': {
        const r = this.c.refs.get(e)!;
        if (r.k === 'fun') this.funValue(e, r.f);
        else if (r.k === 'exn') this.emit(`mov eax, ${r.e.tag}`);
        else this.loadSimple(e, 'eax');
        return;
      }
      case 'unary':
        this.expr(e.e);
        if (e.op === '-') this.emit('neg eax');
        else if (e.op === '~') this.emit('not eax');
        else if (e.op === '!') this.emit('xor eax, 1');
        return;
      case 'binary': return this.binary(e);
      case 'assign': return this.assign(e);
      case 'incdec': {
        const lv = this.prepare(e.target);
        const ty = this.ty(e.target);
        this.load(lv);
        this.emit(e.op === '++' ? 'inc eax' : 'dec eax');
        this.toChar(ty);
        this.store(lv);
        if (!e.prefix) {
          this.emit(e.op === '++' ? 'dec eax' : 'inc eax');
          this.toChar(ty);
        }
        return;
      }
      case 'cond': {
        const elseL = this.newLabel('celse'), end = this.newLabel('cend');
        this.branch(e.c, elseL, false);
        this.expr(e.a);
        this.jump('jmp', end);
        this.label(elseL);
        this.expr(e.b);
        this.label(end, { eax: talTy(this.ty(e)) });
        return;
      }
      case 'call': return this.call(e);
      case 'index': {
        const bytes = byteArray(this.ty(e.a)); // a string or a bool or char array
        if (this.simple(e.i)) {
          this.expr(e.a);
          this.loadSimple(e.i, 'ecx');
        } else this.operands(e.a, e.i);
        this.emit('cmp ecx, DWORD PTR [eax]');
        this.fail('jae', this.boundsFailure(e.pos, this.ty(e.a), 'eax', 'ecx'));
        this.emit(bytes ? 'movzx eax, BYTE PTR [eax+ecx*1+4]' : 'mov eax, DWORD PTR [eax+ecx*4+4]');
        return;
      }
      case 'field': {
        if (this.c.variants.has(e)) return this.variantValue(e);
        if (this.ty(e.e).k === 'union') return this.variantAccess(e);
        const t = this.ty(e.e) as Extract<Ty, { k: 'struct' }>;
        this.expr(e.e);
        this.widenNull(e.e, t);
        this.nullCheck('eax', t, e.pos);
        this.emit(`mov eax, DWORD PTR [eax+${4 * t.s.fields.findIndex(f => f.name === e.name)}]`);
        return;
      }
      case 'proj':
        this.expr(e.e);
        this.emit(`mov eax, DWORD PTR [eax+${4 * (e.index - 1)}]`);
        return;
      case 'new': {
        if (this.c.variants.has(e)) return this.variantValue(e);
        const x = this.c.exnValues.get(e);
        if (x) return this.exceptionValue(x, e.args);
        const t = this.c.news.get(e) as Extract<Ty, { k: 'struct' }>;
        const m = new Map(t.s.tparams.map((p, i) => [p, t.args[i]]));
        return this.allocate(e.args, structTuple(t), t.s.fields.map(f => substTy(f.ty, m)));
      }
      case 'tuple': {
        const t = this.ty(e) as Extract<Ty, { k: 'tuple' }>;
        return this.allocate(e.elems, `*[${t.elems.map(x => talTy(x)).join(', ')}]`, t.elems);
      }
      case 'arraylit': throw new Error('internal: array literal outside an initializer');
      case 'cast': this.expr(e.e); this.toChar(this.ty(e)); return;
      case 'seq': for (const x of e.es) this.expr(x); return;
      case 'inst': throw new Error('internal: an instantiation outside a call');
      case 'lambda': {
        const r = this.c.refs.get(e);
        if (r?.k === 'fun') this.funValue(e, r.f);
        return;
      }
    }
  }

  // ---- unions (docs/popcorn.md: unions)

  /** A union value built: a nullary variant is its tag; another a fresh tuple [tag, value] from tal_alloc. */
  private variantValue(e: Expr): void {
    const { ty, variant: v } = this.c.variants.get(e)!;
    if (v.ty.k === 'void') { this.emit(`mov eax, ${v.tag}`); return; }
    const value = variantValue(ty, v);
    const arg = (e as Extract<Expr, { k: 'new' }>).args[0];
    this.expr(arg);
    this.toChar(value);
    this.push(talTy(this.ty(arg)));
    this.emit('push 8');
    this.inst(variantTuple(v.tag, value, ''));
    this.emit('call DWORD PTR [tal_alloc]', 'add esp, 4', `mov DWORD PTR [eax], ${v.tag}`);
    this.pop('ecx');
    this.emit('mov DWORD PTR [eax+4], ecx');
  }

  /**
   * The union value in eax, seen through a label with its declared type: a nullary variant just stored is known to
   * the checker as its integer, which no tag test turns into a pointer (as widenNull does for null).
   */
  private widenUnion(t: Ty): void {
    this.label(this.newLabel('union'), { eax: talTy(t) });
  }

  /**
   * Jump to `target` unless eax is the variant tagged `tag` (its nullary variants are below `below`): the tag tests
   * the checker refines a sum on (docs/tal.md §4.9). On the fall-through edge eax is that variant's tuple.
   */
  private unlessVariant(tag: number, below: number, miss: (op: string) => void): void {
    if (below > 0) { this.emit(`cmp eax, ${below}`); miss('jb'); }
    this.emit(`cmp DWORD PTR [eax], ${tag}`);
    miss('jne');
  }

  /** `u.B`: B's value, or UnionVariant raised when u is another variant. */
  private variantAccess(e: Extract<Expr, { k: 'field' }>): void {
    const t = this.ty(e.e) as Extract<Ty, { k: 'union' }>;
    const v = t.u.variants.find(x => x.name === e.name)!;
    this.expr(e.e);
    this.widenUnion(t);
    this.unlessVariant(v.tag, nullaryCount(t.u), op => this.raiseAt(op, e.pos, 'UnionVariant'));
    this.emit('mov eax, DWORD PTR [eax+4]');
  }

  /**
   * A switch on a union: the nullary cases compared with eax, then (past the nullary values) each other case's tag
   * word; a case that binds names gets eax as its variant's tuple and copies the value (or its components) into
   * the names' locals.
   */
  private unionSwitch(s: Extract<Stmt, { k: 'switch' }>): void {
    const t = this.ty(s.e) as Extract<Ty, { k: 'union' }>;
    this.expr(s.e);
    this.widenUnion(t);
    const end = this.newLabel('send'), dflt = this.newLabel('default');
    const cases = s.cases.map(c => ({
      c, label: this.newLabel('case'), ucs: c.values.map(v => this.c.unionCases.get(v)!),
    }));
    // Without a default every variant has a case (check.ts): the last test is a jmp, since the checker knows the
    // one variant left.
    const tests = cases.flatMap(x => x.ucs.map(uc => ({ label: x.label, v: uc.variant })))
      .sort((a, b) => Number(a.v.ty.k !== 'void') - Number(b.v.ty.k !== 'void'));
    const below = nullaryCount(t.u);
    tests.forEach(({ label, v }, i) => {
      const last = i === tests.length - 1 && !s.dflt;
      if (last) { this.jump('jmp', label); return; }
      if (v.ty.k !== 'void' && below > 0 && s.dflt && (i === 0 || tests[i - 1].v.ty.k === 'void')) {
        this.emit(`cmp eax, ${below}`);
        this.jump('jb', dflt);
      }
      this.emit(v.ty.k === 'void' ? `cmp eax, ${v.tag}` : `cmp DWORD PTR [eax], ${v.tag}`);
      this.jump('je', label);
    });
    this.jump('jmp', dflt);
    this.loopTargets.push({ brk: end });
    for (const { c, label, ucs } of cases) {
      const live = new Set(this.live);
      const uc = ucs.length === 1 && ucs[0].binds.some(b => b) ? ucs[0] : undefined;
      this.label(label, uc ? { eax: variantTuple(uc.variant.tag, variantValue(t, uc.variant)) } : {});
      if (uc) {
        this.emit('mov ecx, DWORD PTR [eax+4]');
        uc.binds.forEach((b, i) => {
          if (!b) return;
          if (uc.tuple) this.emit(`mov edx, DWORD PTR [ecx+${4 * i}]`, `mov ${this.localOp(b)}, edx`);
          else this.emit(`mov ${this.localOp(b)}, ecx`);
          this.live.add(b);
        });
      }
      this.stmt({ k: 'block', body: c.body, pos: c.pos });
      this.live = live;
      if (this.falls) this.jump('jmp', end);
    }
    this.falls = false;
    this.labelIfReached(dflt);
    if (s.dflt) this.stmt({ k: 'block', body: s.dflt, pos: s.pos });
    this.loopTargets.pop();
    this.labelIfReached(end);
  }

  /**
   * A jump to a stub that raises the built-in exception `name` (UnionVariant) at `pos`: inside a `try` body of this
   * function to its handler, as a failed check does; elsewhere a stub, taking any stack and no register, that stops
   * the program with the message and status of an uncaught exception.
   */
  private raiseAt(op: string, pos: Pos, name: string): void {
    if (!this.falls) return;
    if (this.handlers.length || this.checksRaise.has(this.f)) {
      return this.raiseFailure(op, { pos, what: '', check: 'variant' });
    }
    const text = `${this.siteText(pos, `uncaught exception ${name}`)}\n`;
    const key = `raise\0${text}`;
    let stub = this.stubs.get(key);
    if (!stub) {
      const label = this.newLabel('raise'), msg = this.message(text);
      this.routines.add(DIE);
      stub = { label, lines: [`.tal_label ${label} : code[s:stack]{esp: s}`, `${label}:`,
        ...[`push OFFSET ${msg}`, `push ${UNCAUGHT_EXIT_STATUS}`, `jmp ${DIE}`].map(l => `    ${l}`)] };
      this.stubs.set(key, stub);
    }
    this.emit(`${op} ${stub.label}`);
  }

  /** If eax holds a local known (to the checker) as null, give it its declared type by passing a label. */
  private widenNull(e: Expr, t: Ty): void {
    const r = e.k === 'var' ? this.c.refs.get(e) : undefined;
    if (r?.k !== 'local' || !this.nullIn.has(r.v) || !isNullable(t)) return;
    const l = this.newLabel('widen');
    this.jump('jmp', l);
    this.label(l, { eax: talTy(t) });
  }

  private nullCheck(reg: string, t: Ty, pos: Pos): void {
    if (!isNullable(t)) return;
    this.emit(`test ${reg}, ${reg}`);
    this.fail('je', { pos, what: 'null pointer dereference', check: 'null' });
  }

  /** A fresh tuple (struct or tuple value) holding the values of `parts`, via tal_alloc. */
  private allocate(parts: Expr[], tuple: string, types: readonly Ty[]): void {
    for (const [i, p] of parts.entries()) {
      this.expr(p);
      if (types[i]) this.toChar(types[i]);
      this.push(talTy(this.ty(p)));
    }
    this.emit(`push ${4 * parts.length}`);
    this.inst(tuple);
    this.emit('call DWORD PTR [tal_alloc]', 'add esp, 4');
    for (let i = parts.length - 1; i >= 0; i--) {
      this.pop('ecx');
      this.emit(`mov DWORD PTR [eax+${4 * i}], ecx`);
    }
  }

  private arrayLiteral(e: Extract<Expr, { k: 'arraylit' }>, ty: Ty): void {
    const elem = ty.k === 'array' ? ty.elem : ty;
    const et = talTy(elem);
    const arrTy: Ty = { k: 'array', elem };
    const element = (x: Expr): void => { if (x.k === 'arraylit') this.arrayLiteral(x,
      elem); else { this.expr(x); this.toChar(elem); } };
    // The first element fills the new array (a byte array's through tal_new_bytes, which keeps its low byte), the
    // others are stored over it.
    const bytes = byteElement(elem);
    element(e.elems[0]);
    this.push(et);
    this.emit(`push ${e.elems.length}`);
    this.stack.unshift({ k: 'temp', ty: 'int' });
    if (bytes) this.emit('call DWORD PTR [tal_new_bytes]');
    else {
      this.inst(et);
      this.emit('call DWORD PTR [tal_new_array]');
    }
    this.drop(2);
    for (let i = 1; i < e.elems.length; i++) {
      this.push(talTy(arrTy));
      element(e.elems[i]);
      this.emit('mov edx, eax');
      this.pop('eax');
      this.emit(`mov ecx, ${i}`, 'cmp ecx, DWORD PTR [eax]');
      this.fail('jae', this.boundsFailure(e.elems[i].pos, arrTy, 'eax', 'ecx')); // cannot fail: i < its length
      this.emit(bytes ? 'mov BYTE PTR [eax+ecx*1+4], dl' : 'mov DWORD PTR [eax+ecx*4+4], edx');
    }
  }

  private binary(e: Extract<Expr, { k: 'binary' }>): void {
    if (['&&', '||', '==', '!=', '<', '<=', '>', '>='].includes(e.op)) {
      const no = this.newLabel('false'), end = this.newLabel('bool');
      this.branch(e, no, false);
      this.emit('mov eax, 1');
      this.jump('jmp', end);
      this.label(no);
      this.emit('xor eax, eax');
      this.label(end, { eax: 'int' });
      return;
    }
    this.operands(e.l, e.r);
    this.arith(e.op, this.ty(e).k === 'unsigned', e.pos);
  }

  /**
   * A value stored as a char is a byte: an int (300, or 255 + 1) wraps to 0..255 as C's unsigned char; one stored
   * as a sub-word integer is cut to its width the same way (types.ts's `truncation`), sign-extended if signed.
   */
  private toChar(ty: Ty): void {
    const w = truncation(ty);
    if (!w) return;
    if (!w.signed) this.emit(`and eax, ${w.bits === 8 ? 255 : 65535}`);
    else this.emit(`shl eax, ${32 - w.bits}`, `sar eax, ${32 - w.bits}`);
  }

  /** eax = eax OP ecx; `pos` is the operator's, for a zero divisor. */
  private arith(op: string, unsigned: boolean, pos: Pos): void {
    const zero: Failure = { pos, what: op === '/' ? 'division by zero' : 'remainder by zero', check: 'zero' };
    switch (op) {
      case '+': this.emit('add eax, ecx'); return;
      case '-': this.emit('sub eax, ecx'); return;
      case '*': this.emit('imul eax, ecx'); return;
      case '&': this.emit('and eax, ecx'); return;
      case '|': this.emit('or eax, ecx'); return;
      case '^': this.emit('xor eax, ecx'); return;
      case '<<': this.emit('shl eax, cl'); return;
      case '>>': this.emit(unsigned ? 'shr eax, cl' : 'sar eax, cl'); return;
      case '>>>': this.emit('shr eax, cl'); return;
      case '/': case '%':
        if (unsigned) {
          this.emit('test ecx, ecx');
          this.fail('je', zero);
          this.emit('xor edx, edx', 'div ecx');
        } else {
          // x / -1 is -x (wrapping: the most negative int stays itself) and x % -1 is 0; idiv would trap (#DE) on
          // the most negative int.
          const idiv = this.newLabel('idiv'), done = this.newLabel('divd');
          this.emit('cmp ecx, -1');
          this.jump('jne', idiv);
          this.emit(op === '/' ? 'neg eax' : 'xor eax, eax');
          this.jump('jmp', done);
          this.label(idiv, { eax: 'int', ecx: 'int' });
          this.emit('test ecx, ecx');
          this.fail('je', zero);
          this.emit('cdq', 'idiv ecx');
          if (op === '%') this.emit('mov eax, edx');
          this.label(done, { eax: 'int' });
          return;
        }
        if (op === '%') this.emit('mov eax, edx');
        return;
      default: throw new Error(`internal: operator ${op}`);
    }
  }

  // ---- assignment through locations ----

  private prepare(target: Expr): Loc {
    switch (target.k) {
      case 'var': {
        const r = this.c.refs.get(target)!;
        if (r.k === 'local') return { k: 'local', v: r.v };
        if (r.k === 'global') return { k: 'global', name: r.g.tal, cell: r.g.ty.k === 'fn' ? r.g.ty : undefined };
        break;
      }
      case 'field': {
        const t = this.ty(target.e) as Extract<Ty, { k: 'struct' }>;
        this.expr(target.e);
        this.widenNull(target.e, t);
        this.push(talTy(t));
        return { k: 'field', t, index: t.s.fields.findIndex(f => f.name === target.name), pos: target.pos };
      }
      case 'index': {
        const at = this.ty(target.a);
        this.expr(target.a);
        this.push(talTy(at));
        this.expr(target.i);
        this.push('int');
        return { k: 'index', ty: at, pos: target.pos };
      }
    }
    throw new Error('internal: not an lvalue');
  }

  private load(l: Loc): void {
    switch (l.k) {
      case 'local': this.emit(`mov eax, ${this.localOp(l.v)}`); return;
      case 'global':
        this.emit(`mov eax, DWORD PTR [${l.name}]`);
        if (l.cell) throw new Error('internal: a function-typed global read for an update');
        return;
      case 'field':
        this.emit('mov ecx, DWORD PTR [esp]');
        this.nullCheck('ecx', l.t, l.pos);
        this.emit(`mov eax, DWORD PTR [ecx+${4 * l.index}]`);
        return;
      case 'index':
        this.emit('mov ecx, DWORD PTR [esp]', 'mov edx, DWORD PTR [esp+4]', 'cmp ecx, DWORD PTR [edx]');
        this.fail('jae', this.boundsFailure(l.pos, l.ty, 'edx', 'ecx'));
        this.emit(byteArray(l.ty) ? 'movzx eax, BYTE PTR [edx+ecx*1+4]' : 'mov eax, DWORD PTR [edx+ecx*4+4]');
        return;
    }
  }

  /** Store eax into the location (popping what prepare pushed); eax keeps the value. */
  private store(l: Loc): void {
    switch (l.k) {
      case 'local': this.emit(`mov ${this.localOp(l.v)}, eax`); return;
      case 'global':
        if (l.cell) {
          // A fresh cell for the package (docs/popcorn.md "Closures": a data word is never a package).
          this.push(talTy(l.cell));
          this.emit('push 4');
          this.inst(`*[${talTy(l.cell)}]`);
          this.emit('call DWORD PTR [tal_alloc]', 'add esp, 4');
          this.pop('ecx');
          this.emit('mov DWORD PTR [eax], ecx', `mov DWORD PTR [${l.name}], eax`, 'mov eax, ecx');
          return;
        }
        this.emit(`mov DWORD PTR [${l.name}], eax`);
        return;
      case 'field':
        this.pop('ecx');
        this.nullCheck('ecx', l.t, l.pos);
        this.emit(`mov DWORD PTR [ecx+${4 * l.index}], eax`);
        return;
      case 'index':
        this.pop('ecx');
        this.pop('edx');
        this.emit('cmp ecx, DWORD PTR [edx]');
        this.fail('jae', this.boundsFailure(l.pos, l.ty, 'edx', 'ecx'));
        this.emit(byteArray(l.ty) ? 'mov BYTE PTR [edx+ecx*1+4], al' : 'mov DWORD PTR [edx+ecx*4+4], eax');
        return;
    }
  }

  private assign(e: Extract<Expr, { k: 'assign' }>): void {
    const lv = this.prepare(e.target);
    if (e.op === '=') {
      this.expr(e.value);
    } else {
      this.load(lv);
      const ty = this.ty(e.target);
      if (this.simple(e.value)) this.loadSimple(e.value, 'ecx');
      else {
        this.push(talTy(ty));
        this.expr(e.value);
        this.emit('mov ecx, eax');
        this.pop('eax');
      }
      this.arith(e.op.slice(0, -1), ty.k === 'unsigned' || this.ty(e.value).k === 'unsigned', e.pos);
    }
    this.toChar(this.ty(e.target));
    this.store(lv);
    // After `v = null` the checker knows v as the integer 0 until the next label.
    if (lv.k === 'local') {
      if (e.op === '=' && e.value.k === 'null') this.nullIn.add(lv.v);
      else this.nullIn.delete(lv.v);
    }
  }

  // ---- calls ----

  /** `E`, `E(v)`, `new E(v)`: a nullary case is its tag; a value is a new tuple, its tag then the value. */
  private exceptionValue(x: ExnInfo, args: Expr[]): void {
    if (!x.payload) { this.emit(`mov eax, ${x.tag}`); return; }
    const payload = talTy(x.payload);
    this.expr(args[0]);
    this.toChar(x.payload);
    this.push(payload);
    this.emit('push 8');
    this.inst(`*[S(${x.tag}), ${payload}]`);
    this.emit('call DWORD PTR [tal_alloc]', 'add esp, 4');
    this.pop('ecx');
    this.emit(`mov DWORD PTR [eax], ${x.tag}`, 'mov DWORD PTR [eax+4], ecx');
  }

  private call(e: Extract<Expr, { k: 'call' }>): void {
    const x = this.c.exnValues.get(e);
    if (x) return this.exceptionValue(x, e.args);
    const info = this.c.calls.get(e) as CallInfo;
    const t = info.target;
    if (t.k === 'builtin' && t.b.kind !== 'import') return this.builtinCall(e, info);
    for (let i = e.args.length - 1; i >= 0; i--) {
      const a = e.args[i];
      const k = constValue(a);
      const param = t.k === 'fun' && t.f.params[i] !== undefined ? substTy(t.f.params[i].ty, info.inst) : undefined;
      if (k !== undefined) this.push(this.argType(info, i, a), String(param ? truncate(k, param) : k));
      else {
        this.expr(a);
        if (param) this.toChar(param);
        this.push(this.argType(info, i, a));
      }
    }
    if (t.k === 'builtin') {
      this.imports.add(t.b.importName!);
      this.emit(`call DWORD PTR [${t.b.importName}]`);
      if (t.b.noreturn) { this.stack.splice(0, e.args.length); this.falls = false; return; }
    } else if (t.k === 'fun') {
      const raises = this.raising.has(t.f);
      const sources = this.c.closureEnvs.get(e);
      // A callee the optimiser generated keeps ebx, esi, edi, ebp: none holds anything of this function here.
      const kept = this.saves(t.f) ? ['top', 'top', 'top', 'top'] : [];
      // The second return address under a closure's environment, as under a function value's (fnCode).
      if (raises) this.exceptionReturn(kept.length > 0);
      if (sources) { this.environment(t.f, sources); this.push(talTy(envTy(t.f))); }
      if (t.f.tparams.length || kept.length) {
        const inst = t.f.tparams.map(p => talTy(info.inst.get(p)!));
        this.inst([...inst, this.stackText(e.args.length + (raises ? 1 : 0) + (sources ? 1 : 0)), ...kept].join(', '));
      }
      this.emit(`call ${t.f.tal}`);
      if (raises) this.drop(1);
      if (sources) this.drop(1);
    } else {
      // Through a function value (docs/popcorn.md "Closures"): its second return address pushed (every function
      // value may raise), the package opened, its environment passed, its code called. The environment's type is
      // known to this block alone, so no label comes between the push and the drop: the second return address's
      // label comes first, with the package in eax.
      this.expr(e.fn);
      this.exceptionReturn(false, { eax: talTy(this.ty(e.fn)) });
      this.emit('.tal_unpack eax', 'push DWORD PTR [eax+4]', 'mov ecx, DWORD PTR [eax]', 'call ecx');
      this.stack.unshift({ k: 'temp', ty: 'top' });
      this.drop(2);
    }
    this.drop(e.args.length);
  }

  /**
   * Before a call of a function that may raise, with its arguments pushed: push its second return address. `call`
   * to the label just after does it, since the return address a call pushes is typed with the caller's own stack
   * (a label's address is polymorphic in it, which a return address may not be). The code after that `call` is
   * where the callee's raise lands (eax: the exception, the arguments still pushed): on to a handler or further out.
   */
  private exceptionReturn(keeps: boolean, regs: Record<string, string> = {}): void {
    const set = this.newLabel('raised');
    if (this.generic) this.inst(`${this.f.tparams.map(p => `t_${p}`).join(', ')}, r`);
    this.emit(`call ${set}`);
    this.used.add(set);
    this.raiseHere(true);
    // A callee the optimiser generated gives ebx, esi, edi and ebp back on this path too, typed by its type
    // variables, which this call instantiates as top (compiler/ir/emit.ts).
    const kept = keeps ? 'ebx: top, esi: top, edi: top, ebp: top, ' : '';
    this.stack.unshift({ k: 'temp', ty: `code{eax: ${EXN_TYPE}, ${kept}esp: ${this.stackText()}}` });
    this.label(set, regs);
  }

  /** The type a pushed argument has in the model: the parameter's type (instantiated). */
  private argType(info: CallInfo, i: number, a: Expr): string {
    const t = info.target;
    if (t.k === 'fun') return talTy(substTy(t.f.params[i].ty, info.inst));
    return talTy(this.ty(a));
  }

  private builtinCall(e: Extract<Expr, { k: 'call' }>, info: CallInfo): void {
    const b = (info.target as { k: 'builtin'; b: { kind: string } }).b;
    switch (b.kind) {
      case 'size':
        this.expr(e.args[0]);
        this.emit('mov eax, DWORD PTR [eax]');
        return;
      case 'new_array': {
        // A bool or char array is n bytes, each the fill's low byte (tal_new_bytes), any other n words.
        const bytes = byteElement(info.inst.get('a')!);
        const elem = talTy(info.inst.get('a')!);
        this.expr(e.args[1]);
        this.toChar(info.inst.get('a')!);
        this.push(elem);
        this.expr(e.args[0]);
        this.push('int');
        if (!bytes) this.inst(elem);
        this.emit(`call DWORD PTR [${bytes ? 'tal_new_bytes' : 'tal_new_array'}]`);
        this.drop(2);
        return;
      }
      case 'new_string':
        this.push('int', '0');
        this.expr(e.args[0]);
        this.push('int');
        this.emit('call DWORD PTR [tal_new_bytes]');
        this.drop(2);
        return;
      case 'std_args':
        this.emit('call DWORD PTR [tal_args]');
        return;
    }
  }
}

type Loc =
  | { k: 'local'; v: LocalVar }
  | { k: 'global'; name: string; cell?: Ty }
  | { k: 'field'; t: Extract<Ty, { k: 'struct' }>; index: number; pos: Pos }
  | { k: 'index'; ty: Ty; pos: Pos };

/** The value of a constant expression (number, character, bool, null), or undefined. */
function constValue(e: Expr): number | undefined {
  switch (e.k) {
    case 'int': case 'char': return e.value | 0;
    case 'bool': return e.value ? 1 : 0;
    case 'null': return 0;
    default: return undefined;
  }
}

function condCode(op: string, unsigned: boolean): string {
  switch (op) {
    case '==': return 'e';
    case '!=': return 'ne';
    case '<': return unsigned ? 'b' : 'l';
    case '<=': return unsigned ? 'be' : 'le';
    case '>': return unsigned ? 'a' : 'g';
    case '>=': return unsigned ? 'ae' : 'ge';
  }
  throw new Error(`internal: condition ${op}`);
}

function negate(cc: string): string {
  const m: Record<string, string> = { e: 'ne', ne: 'e', l: 'ge', ge: 'l', le: 'g', g: 'le', b: 'ae', ae: 'b', be: 'a',
    a: 'be' };
  return m[cc];
}
