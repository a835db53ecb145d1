// popc's diagnostics: the table of every error popc reports, each with a stable code and its message (as
// AssemblyScript's DiagnosticCode with its message templates), and errors as data. A code names a kind of error and
// never changes meaning; its message is a function of the arguments, so TypeScript checks every call site's
// arguments against it. Codes are grouped by the stage that finds them: P0 the preprocessor, P1 syntax (lexer,
// parser, includes), P2 names (declarations and lookup), P3 types, P4 flow (control flow, initialization, null
// narrowing), P5 what popc does not support. The corpus under test/popc/errors asserts codes; docs/popcorn.md lists
// the table (a test holds it equal). Formatting (gcc's `file:line:col: error CODE: message`, the source line, a
// caret) is done once, in formatDiagnostic; positions in preprocessed text are mapped back to the original file and
// line (PositionMap) when an error is recorded.

import { excerpt } from '../tal/excerpt.ts';
import type { Pos } from './ast.ts';

/** What a message is made of: names, types as shown, counts. */
export type DiagnosticArg = string | number;

export interface DiagnosticDef<A extends DiagnosticArg[] = DiagnosticArg[]> {
  readonly code: string;
  readonly message: (...args: A) => string;
}

const def = <A extends DiagnosticArg[]>(code: string, message: (...args: A) => string): DiagnosticDef<A> =>
  ({ code, message });

/** "1 argument", "2 arguments". */
const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

export const Diag = {
  // ---- P0: the preprocessor ----
  UnterminatedConditional: def('P0001', (directive: string) => `unterminated #${directive}`),
  AfterElse: def('P0002', (directive: string) => `#${directive} after #else`),
  ConditionalWithoutIf: def('P0003', (directive: string) => `#${directive} without #if`),
  BadDefine: def('P0004', (why: string) => `bad #define: ${why}`),
  UnterminatedMacroCall: def('P0005', (macro: string) => `unterminated argument list invoking macro ${macro}`),
  MacroArgumentCount: def('P0006', (macro: string, want: number, got: number) =>
    `macro ${macro} takes ${count(want, 'argument')}, but ${got} given`),
  UnknownDirective: def('P0007', (directive: string) => `invalid preprocessing directive #${directive}`),
  BadCondition: def('P0008', (directive: string, why: string) => `#${directive}: ${why}`),
  ErrorDirective: def('P0009', (text: string) => `#error ${text}`),
  IncludeTooDeep: def('P0010', (depth: number) => `#include nested more than ${depth} levels deep`),
  BadInclude: def('P0011', (text: string) => `#include expects "FILE" or <FILE>, not ${text}`),
  BadLine: def('P0012', (text: string) => `#line expects a line number and optionally "FILE", not ${text}`),
  BadPaste: def('P0013', (a: string, b: string) =>
    `pasting "${a}" and "${b}" does not give a valid preprocessing token`),

  // ---- P1: syntax ----
  UnexpectedCharacter: def('P1001', (c: string) => `unexpected character ${c}`),
  BadCharacterLiteral: def('P1002', (why: string) => `bad character literal: ${why}`),
  CharacterLiteralOneByte: def('P1003', () => 'a character literal holds one byte'),
  BadStringLiteral: def('P1004', (why: string) => `bad string literal: ${why}`),
  ExpectedSemicolon: def('P1005', (after: string) => `expected ';' after ${after}`),
  ExpectedBefore: def('P1006', (expected: string, token: string) => `expected ${expected} before ${token}`),
  UnexpectedToken: def('P1007', (token: string) => `syntax error at ${token}`),
  UnexpectedEndOfFile: def('P1008', (expected: string) => `unexpected end of file: expected ${expected}`),
  CannotFindInclude: def('P1009', (file: string) => `cannot find include file "${file}"`),
  SystemInclude: def('P1010', (file: string) => `cannot find include file <${file}>: popc has no C headers`),

  // ---- P2: names ----
  UnknownName: def('P2001', (name: string) => `unknown name ${name}`),
  UnknownType: def('P2002', (name: string) => `unknown type ${name}`),
  UnknownStruct: def('P2003', (name: string) => `unknown struct ${name}`),
  UnknownException: def('P2004', (name: string) => `unknown exception ${name}`),
  ExceptionNeedsValue: def('P2201', (name: string, ty: string) =>
    `exception ${name} carries ${ty}: write ${name}(value)`),
  ExceptionCarriesNothing: def('P2202', (name: string) => `exception ${name} carries no value`),
  CaseNotExncon: def('P2203', (name: string, ty: string) =>
    `case ${name}: ${name} is a variable of type ${ty}, not an exception constructor (<T>exncon)`),
  NewNotExncon: def('P2204', (name: string, ty: string) =>
    `${name} is a variable of type ${ty}, not an exception constructor (<T>exncon): it cannot make an exception`),
  DuplicateStruct: def('P2005', (name: string) => `struct ${name} is declared twice`),
  DuplicateException: def('P2006', (name: string) => `exception ${name} is declared twice`),
  DuplicateField: def('P2007', (field: string, struct: string) =>
    `field ${field} is declared twice in struct ${struct}`),
  DuplicateFunction: def('P2008', (name: string) => `function ${name} is defined twice`),
  DuplicateGlobal: def('P2009', (name: string) => `global ${name} is declared twice`),
  DuplicateParameter: def('P2010', (name: string) => `parameter ${name} is declared twice`),
  NestedNamespace: def('P2012', () => 'namespaces do not nest'),
  DeclaredNeverDefined: def('P2013', (name: string) => `function ${name} is declared but never defined`),
  NoMain: def('P2014', () => 'no function pop_main() in the program'),
  BadMain: def('P2015', () => 'pop_main must be void pop_main() or int pop_main()'),
  BuiltinNotValue: def('P2016', (name: string) => `the built-in ${name} can only be called`),
  PolymorphicValue: def('P2017', (name: string) =>
    `the polymorphic function ${name} can only be called, not used as a value`),
  AssignConstant: def('P2018', (name: string) => `${name} is a constant`),
  AssignNonVariable: def('P2019', (name: string) => `${name} cannot be assigned`),
  // program shape (several files, extern and static): block P21xx
  ExternNeverDefined: def('P2101', (what: string) => `${what} is declared extern, but no file defines it`),
  DuplicateUnion: def('P2301', (name: string) => `type ${name} is declared twice (as a union)`),
  DuplicateVariant: def('P2302', (name: string, union: string) =>
    `variant ${name} is declared twice in union ${union}`),
  DuplicatePatternName: def('P2303', (name: string) => `the pattern binds ${name} twice`),
  FormatNeedsCore: def('P2401', (fun: string) => `${fun} is the Core library's: #include "core.h"`),

  // ---- P3: types ----
  VoidField: def('P3001', (name: string) => `field ${name} cannot be void`),
  VoidGlobal: def('P3002', (name: string) => `global ${name} cannot be void`),
  VoidParameter: def('P3003', (name: string) => `parameter ${name} cannot be void`),
  VoidVariable: def('P3004', (name: string) => `variable ${name} cannot be void`),
  VoidArray: def('P3005', () => 'an array of void'),
  VoidInTuple: def('P3006', () => 'a tuple cannot hold void'),
  VoidArgument: def('P3007', () => 'a void value cannot be an argument'),
  TypeParameterUnused: def('P3008', (tv: string, fun: string) =>
    `type parameter ${tv} of ${fun} must occur in the type of a parameter or of the result`),
  TypeArgumentCount: def('P3009', (struct: string, want: number, got: number) =>
    `struct ${struct} takes ${count(want, 'type argument')}, not ${got}`),
  CannotInferStructArgument: def('P3010', (tv: string, struct: string) =>
    `cannot infer the type argument ${tv} of ${struct}: give the variable a type`),
  CannotInferCall: def('P3011', (tv: string, fun: string) => `cannot infer the type ${tv} in this call to ${fun}`),
  GlobalInitializerNotConstant: def('P3012', (name: string, ty: string) =>
    `the initializer of global ${name} must be a constant: ${ty} has no default value to hold until it runs`),
  InitializerNotArray: def('P3013', (what: string, ty: string) => `${what} is ${ty}, not an array`),
  EmptyArrayLiteral: def('P3014', () => 'an array literal needs at least one element'),
  InitializerMismatch: def('P3015', (what: string, ty: string, value: string) =>
    `${what} is ${ty}, but the value is ${value}`),
  ArrayLiteralNotInitializer: def('P3016', () => 'an array literal {…} may only initialize a variable'),
  ReturnFromVoid: def('P3017', (fun: string) => `${fun} returns void: it cannot return a value`),
  ReturnMismatch: def('P3018', (fun: string, ty: string, value: string) => `${fun} returns ${ty}, not ${value}`),
  SwitchType: def('P3019', (ty: string) => `switch needs an int, a char, a union or an exception, not ${ty}`),
  CaseNotException: def('P3020', () => 'a case of an exception switch names an exception'),
  VoidPayload: def('P3201', (name: string) => `exception ${name} cannot carry void`),
  PayloadMismatch: def('P3202', (name: string, want: string, got: string) =>
    `exception ${name} carries ${want}, not ${got}`),
  RaiseNotException: def('P3203', (ty: string) => `raise needs an exception (exn), not ${ty}`),
  CaseBindsName: def('P3204', (name: string) => `case ${name}(…) binds the value to one name: case ${name}(x)`),
  ExnconValueMismatch: def('P3221', (name: string, con: string, want: string, got: string) =>
    `${name} is ${con}: the exception it makes carries ${want}, not ${got}`),
  ExnconArgumentCount: def('P3222', (count: number) =>
    `exncon takes one type argument, the type the exception carries (<int>exncon), not ${count}`),
  CaseBindsAlone: def('P3205', () => 'a case that binds a value has no other label: give it a case of its own'),
  CaseNotConstant: def('P3021', () => 'a case value must be a constant number or character'),
  ConditionNotBool: def('P3022', (ty: string) => `a condition must be a bool, not ${ty}`),
  NotNeedsBool: def('P3023', (ty: string) => `! needs a bool, not ${ty}`),
  OperatorNeedsNumber: def('P3024', (op: string, ty: string) => `${op} needs a number, not ${ty}`),
  OperatorNeedsNumbers: def('P3025', (op: string, l: string, r: string) => `${op} needs numbers, not ${l} and ${r}`),
  OperatorNeedsBools: def('P3026', (op: string, l: string, r: string) => `${op} needs bools, not ${l} and ${r}`),
  AssignMismatch: def('P3027', (value: string, target: string) => `cannot assign ${value} to ${target}`),
  BranchesDiffer: def('P3028', (a: string, b: string) => `the two branches of ?: have different types: ${a} and ${b}`),
  IndexNotNumber: def('P3029', (ty: string) => `an index must be a number, not ${ty}`),
  NotIndexable: def('P3030', (ty: string) => `${ty} cannot be indexed`),
  NoFields: def('P3031', (ty: string, field: string) => `${ty} has no fields (.${field})`),
  NoSuchField: def('P3032', (struct: string, field: string) => `struct ${struct} has no field ${field}`),
  NotATuple: def('P3033', (ty: string, index: number) => `${ty} is not a tuple (.${index})`),
  NoSuchComponent: def('P3034', (size: number, index: number) => `a ${size}-tuple has no component ${index}`),
  NewValueCount: def('P3035', (struct: string, want: number, got: number) =>
    `new ${struct} needs ${want} values, not ${got}`),
  NewFieldMismatch: def('P3036', (field: string, struct: string, ty: string, value: string) =>
    `field ${field} of ${struct} is ${ty}, not ${value}`),
  EmptyTuple: def('P3037', () => 'a tuple needs at least one component'),
  NullInUntypedTuple: def('P3038', () => 'the type of null here is unknown: give the tuple a type'),
  NullTupleComponent: def('P3039', (index: number, ty: string) =>
    `component ${index} of the tuple is ${ty}, but the value is null`),
  CannotCompare: def('P3040', (l: string, r: string) => `cannot compare ${l} with ${r}`),
  StringEquality: def('P3041', () => 'strings are compared with strcmp, not =='),
  NotAFunction: def('P3042', (ty: string) => `${ty} is not a function`),
  ArgumentCount: def('P3043', (fun: string, want: number, got: number) =>
    `${fun} takes ${count(want, 'argument')}, not ${got}`),
  ArgumentMismatch: def('P3044', (index: number, fun: string, ty: string, value: string) =>
    `argument ${index} of ${fun} must be ${ty}, not ${value}`),
  BufferOutsideLiteral: def('P3045', (fun: string, off: number, n: number, len: number) =>
    `${fun}: offset ${off} and count ${n} fall outside the string literal (length ${len})`),
  TupleReadOnly: def('P3046', () => 'tuple components are read-only'),
  NotAssignable: def('P3047', () => 'this cannot be assigned'),
  // program shape: block P31xx
  ConflictingTypes: def('P3101', (name: string, here: string, there: string) =>
    `conflicting types for ${name}: ${here} here, ${there} in another declaration`),
  NoSuchVariant: def('P3301', (union: string, name: string) => `union ${union} has no variant ${name}`),
  VariantNeedsValue: def('P3302', (union: string, name: string, ty: string) =>
    `${union}.${name} carries ${ty}: build it with new ${union}.${name}(…) and match it with case ${name}(x)`),
  VariantHasNoValue: def('P3303', (union: string, name: string) =>
    `${union}.${name} carries no value: it is written ${union}.${name}, and matched with case ${name}:`),
  VariantValueCount: def('P3304', (union: string, name: string, got: number) =>
    `new ${union}.${name} takes one value, not ${got}`),
  VariantValueMismatch: def('P3305', (union: string, name: string, want: string, got: string) =>
    `${union}.${name} carries ${want}, but the value is ${got}`),
  SwitchNotExhaustive: def('P3306', (union: string, missing: string) =>
    `this switch on ${union} has no case for ${missing}: add the cases or a default`),
  BadUnionCase: def('P3307', (union: string) =>
    `a case of a switch on ${union} names a variant: A, B(x), or C*(x, y) for a variant that holds a tuple`),
  TuplePatternMismatch: def('P3308', (name: string, ty: string, n: number) =>
    `${name} carries ${ty}, which the pattern *(…) of ${count(n, 'name')} cannot take apart`),
  PatternInCaseList: def('P3309', () => 'a case that binds names matches one variant: give it a case of its own'),
  // printf, fprintf and sprintf against their format (compiler/format.ts): gcc's -Wformat rules, as errors.
  FormatNotLiteral: def('P3401', (fun: string) => `the format of ${fun} must be a string literal`),
  FormatUnknownConversion: def('P3402', (spec: string) => `unknown conversion ${spec} in the format`),
  FormatUnterminated: def('P3403', (spec: string) => `the format ends inside the conversion ${spec}`),
  FormatMissingArgument: def('P3404', (spec: string, want: number, got: number) =>
    `${spec} has no argument: the format uses ${count(want, 'argument')}, ${got} given`),
  FormatExtraArgument: def('P3405', (want: number, got: number) =>
    `too many arguments for the format: it uses ${want}, ${got} given`),
  FormatArgumentType: def('P3406', (spec: string, want: string, index: number, ty: string) =>
    `${spec} needs ${want}, but argument ${index} is ${ty}`),
  FormatFlagUndefined: def('P3407', (flag: string, spec: string) => `the flag '${flag}' is undefined with ${spec}`),
  FormatPrecisionUndefined: def('P3408', (spec: string) => `a precision is undefined with ${spec}`),
  FormatNotFile: def('P3409', (ty: string) => `the first argument of fprintf must be a FILE, not ${ty}`),
  FormatStarArgument: def('P3220', (spec: string, role: string, index: number, ty: string) =>
    `the * ${role} of ${spec} must be an int, but argument ${index} is ${ty}`),

  // ---- P4: flow ----
  MissingReturn: def('P4001', (fun: string, ty: string) => `function ${fun} can reach its end without returning ${ty}`),
  ReturnNeedsValue: def('P4002', (fun: string, ty: string) => `${fun} must return ${ty}`),
  UnreachableCode: def('P4003', () => 'unreachable code'),
  BreakOutside: def('P4004', () => 'break outside a loop or switch'),
  ContinueOutside: def('P4005', () => 'continue outside a loop'),
  DuplicateCase: def('P4006', () => 'this case value is already used'),
  ExpressionDoesNothing: def('P4007', () => 'this expression does nothing'),
  LocalNeedsInitializer: def('P4008', (name: string, ty: string) => `${name} of type ${ty} must be initialized`),
  GlobalNeedsInitializer: def('P4009', (name: string, ty: string) =>
    `global ${name} of type ${ty} needs an initializer`),

  // ---- P5: not supported ----
  AssignCaptured: def('P5502', (name: string, fun: string) =>
    `${fun} assigns ${name}, a variable of the function around it: a closure's copy cannot change`),
  CapturePolymorphic: def('P5503', (name: string, ty: string, fun: string) =>
    `${fun} cannot capture ${name} of type ${ty}: a closure does not take the type variables around it`),

  // ---- the rest of Popcorn's language (issue 18): casts, instantiation, `_`, sized arrays, `&f` ----
  BadCast: def('P3501', (from: string, to: string) => `cannot cast ${from} to ${to}`),
  InstantiationCount: def('P3502', (name: string, want: number, got: number) =>
    `${name} takes ${count(want, 'type argument')}, not ${got}`),
  NotPolymorphic: def('P3503', (what: string) =>
    `${what} is not a polymorphic function: it cannot be instantiated with @`),
  InferNeedsInitializer: def('P3504', (name: string) => `_ ${name} needs an initializer to take its type from`),
  CannotInferFrom: def('P3505', (name: string, what: string) => `the type of ${name} cannot be inferred from ${what}`),
  ArraySizeNotConstant: def('P3506', (name: string) =>
    `the size of array ${name} must be a constant number, at least 0`),
  ArrayElementsNeeded: def('P3507', (ty: string, name: string, n: number) =>
    `${ty} has no default value: array ${name} needs an initializer for all ${n} elements`),
  ArrayInitializerTooLong: def('P3508', (name: string, n: number, got: number) =>
    `array ${name} has ${count(n, 'element')}, but its initializer has ${got}`),
  AddressOfNotFunction: def('P3509', (what: string) => `& takes the address of a function, not ${what}`),
  AbstractStruct: def('P3510', (name: string, file: string) =>
    `struct ${name} is abstract: only ${file}, which declares it, may build it or use its fields`),
  // ---- P36xx: bool and char arrays are bytes, a type variable's arrays words (compiler/bytearrays.ts) ----
  ByteArrayInstantiation: def('P3601', (v: string, ty: string, fun: string) =>
    `${v} cannot be ${ty} here: ${fun} has arrays of ${v}, which are words, and a ${ty}[] is bytes`),
  ByteArrayInstance: def('P3602', (instance: string, param: string, ty: string) =>
    `${instance} cannot hold ${ty}: its arrays of ${param} are words, a ${ty}[] bytes`),
  ByteArrayMismatch: def('P3603', (where: string, from: string, to: string) =>
    `${where} is ${from}, not ${to}: bool and char arrays are bytes, other arrays words`),
} as const;

/** The message template of a code, with its arguments as {0}, {1}, … (for the documentation's table). */
export function template(d: { readonly message: (...args: never[]) => string }): string {
  const message = d.message as (...args: string[]) => string;
  return message(...Array.from({ length: message.length }, (_, i) => `{${i}}`));
}

export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  code: string;
  message: string;
  /** How to fix it, when popc recognizes the slip (printed as `note:` lines). */
  hints: string[];
  /** The number of columns the error covers from `col` (underlined with ~), when known. */
  span?: number;
  /** The macro whose expansion the error is in: `col` is then its invocation's, and the span is not underlined. */
  macro?: string;
}

/** Where a position of the preprocessor's output came from: the original file, line and column, and the macro
 * whose expansion produced the text there (the position is then the macro's invocation). */
export interface Origin { file: string; line: number; col: number; macro?: string }
export interface PositionMap { origin(pos: Pos): Origin }

export class Diagnostics {
  readonly list: Diagnostic[] = [];
  private readonly maps = new Map<string, PositionMap>();
  /** Positions later stages report in `file` are in the preprocessor's output: map them back through `map`. */
  mapPositions(file: string, map: PositionMap): void { this.maps.set(file, map); }
  /** Record an error; the returned diagnostic may still get hints or a span. */
  error<A extends DiagnosticArg[]>(file: string, pos: Pos, def: DiagnosticDef<A>, ...args: A): Diagnostic {
    const o: Origin = this.maps.get(file)?.origin(pos) ?? { file, ...pos };
    const d: Diagnostic = {
      file: o.file, line: o.line, col: o.col, code: def.code, message: def.message(...args), hints: [],
    };
    // gcc's "in expansion of macro" note (there at the macro's definition; here at the invocation).
    if (o.macro) {
      d.macro = o.macro;
      d.hints.push(`in expansion of macro '${o.macro}'`);
    }
    this.list.push(d);
    return d;
  }
  get count(): number { return this.list.length; }
  /** `file:line:col` of a position as diagnostics name it (for a note that points at another place). */
  place(file: string, pos: Pos): string {
    const o = this.maps.get(file)?.origin(pos) ?? { file, ...pos };
    return `${o.file}:${o.line}:${o.col}`;
  }
  /**
   * The diagnostics in reading order: by file (in the order files first got one), then line and column; the
   * checker's passes find them out of order (declarations first, then bodies).
   */
  sorted(): Diagnostic[] {
    const files: string[] = [];
    for (const d of this.list) if (!files.includes(d.file)) files.push(d.file);
    return this.list.map((d, i) => ({ d, i }))
      .sort((a, b) => files.indexOf(a.d.file) - files.indexOf(b.d.file) || a.d.line - b.d.line || a.d.col - b.d.col
        || a.i - b.i)
      .map(x => x.d);
  }
}

/**
 * One diagnostic as gcc and clang print it: `file:line:col: error CODE: message`, the source line (when the source
 * is known) with a caret under the column and `~` under the rest of the span, then each hint as a `note:` line.
 */
export function formatDiagnostic(d: Diagnostic, source?: string): string {
  const out = [`${d.file}:${d.line}:${d.col}: error ${d.code}: ${d.message}`,
    ...excerpt(source, d.line, d.col, d.macro ? undefined : d.span)];
  for (const h of d.hints) out.push(`${d.file}:${d.line}:${d.col}: note: ${h}`);
  return out.join('\n');
}

/** All of a compilation's diagnostics, formatted; `sources` maps each file name to its text. */
export function formatDiagnostics(list: readonly Diagnostic[], sources: ReadonlyMap<string, string>): string {
  return list.map(d => formatDiagnostic(d, sources.get(d.file))).join('\n');
}
