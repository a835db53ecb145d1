# The grammar of popc's Popcorn, for nearley (compiled to grammar.ts by `npm run grammar`; a test checks the two
# agree). Unambiguous by construction: expressions by precedence level, the dangling else by the usual split into
# open and closed statements. Postprocessors build the AST of ast.ts.
@preprocessor typescript
@{%
import { makeLexer, unescape, LiteralError } from './lexer.ts';
import { Diag, type DiagnosticDef } from './diagnostics.ts';
import type { Expr, Stmt, Decl, TypeExpr, Param, VarDecl, Pos, QName, SwitchCase } from './ast.ts';
const lexer = makeLexer();
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type T = any;
const pos = (t: T): Pos => ({ line: t.line, col: t.col });
const bin = (d: T): Expr => ({ k: 'binary', op: d[1].value, l: d[0], r: d[2], pos: pos(d[1]) });
const lit = (s: string, p: Pos, bad: DiagnosticDef<[string]>): number[] => {
  const r = unescape(s);
  if (typeof r === 'string') throw new LiteralError(p, bad, r);
  return r;
};
// A top-level `[const|static|extern] T x [= e], y…;`. A lone declarator of function type without an
// initializer, `[static|extern] T f(T1, …);`, declares a function as C's prototype does (its parameters
// unnamed; `(void)` is none).
const topDeclarators = (d: T): Decl[] => {
  const [qualifier, first, init, more] = d;
  const storage = qualifier === 'const' ? undefined : qualifier ?? undefined;
  if (first.type.k === 'fn' && !init && more.length === 0 && qualifier !== 'const') {
    const types: TypeExpr[] = first.type.params;
    const none = types.length === 1 && types[0].k === 'prim' && types[0].name === 'void';
    const params: Param[] = none ? [] : types.map(t => ({ name: '', type: t, pos: t.pos }));
    return [{ k: 'fun', ret: first.type.ret, name: first.name, tparams: [], params, pos: first.pos, storage }];
  }
  return [{ name: first.name, init, pos: first.pos }, ...more].map((m: T) =>
    ({ k: 'global', name: m.name, type: first.type, init: m.init ?? undefined, size: first.size,
      isConst: qualifier === 'const', pos: m.pos, storage }));
};
// `#include "file"` or (refused later, with a hint) `#include <file>`.
const include = (t: T): Decl => {
  const m = /^#include\s*([<"])(.*)[>"]$/.exec(t.value)!;
  return { k: 'include', file: m[2], system: m[1] === '<', pos: pos(t) };
};
// A function declarator with no parameter types, no initializer and no other declarator: C's `T f();`.
// `case C*(x, y)`: the call `C(^(x, y))`, which check.ts reads as a pattern in a switch on a union.
const unionPattern = (q: T, names: Expr[], star: T): Expr => ({ k: 'call', fn: { k: 'var', name: q.name, pos: q.pos },
  args: [{ k: 'tuple', elems: names, pos: pos(star) }], pos: pos(star) });
%}
@lexer lexer

# A global declaration with several declarators (`int w = 10, h = 8;`) is a list: flattened here.
program -> topdecl:* {% d => d[0].flat() %}

topdecl -> %directive {% d => include(d[0]) %}
  | "open" %ident ";" {% d => ({ k: 'open', ns: d[1].value, pos: pos(d[0]) }) %}
  | "namespace" %ident "{" topdecl:* "}" {% d => ({ k: 'namespace', name: d[1].value, decls: d[3].flat(), pos: pos(d[0]) }) %}
  # `prefix` is Popcorn's old spelling of `namespace`.
  | "prefix" %ident "{" topdecl:* "}" {% d => ({ k: 'namespace', name: d[1].value, decls: d[3].flat(), pos: pos(d[0]) }) %}
  | "exception" %ident ";" {% d => ({ k: 'exception', name: d[1].value, pos: pos(d[0]) }) %}
  # An abstract struct's fields are its own file's: other files see only the type (Popcorn's abstract types).
  | "abstract" structkw tparams:? %ident "{" field:* "}" {% d => ({ k: 'struct', nullable: d[1].nullable, abstract: true, tparams: d[2] ?? [], name: d[3].value, fields: d[5], pos: pos(d[0]) }) %}
  | "union" tparams:? %ident "{" field:* "}" {% d => ({ k: 'union', tparams: d[1] ?? [], name: d[2].value, variants: d[4], pos: pos(d[0]) }) %}
  | "exception" %ident "(" type ")" ";" {% d => ({ k: 'exception', name: d[1].value, payload: d[3], pos: pos(d[0]) }) %}
  | structkw tparams:? %ident "{" field:* "}" {% d => ({ k: 'struct', nullable: d[0].nullable, tparams: d[1] ?? [], name: d[2].value, fields: d[4], pos: d[0].pos }) %}
  # Popcorn's scopes on a struct: `static` (its file's own), `extern` with the fields (as another file defines it).
  | storage structkw tparams:? %ident "{" field:* "}" {% d => ({ k: 'struct', nullable: d[1].nullable, tparams: d[2] ?? [], name: d[3].value, fields: d[5], pos: d[1].pos, storage: d[0] }) %}
  | storage:? type %ident tparams:? "(" params ")" block {% d => ({ k: 'fun', ret: d[1], name: d[2].value, tparams: d[3] ?? [], params: d[5], body: d[7], pos: pos(d[2]), storage: d[0] ?? undefined }) %}
  # A prototype with named parameters; one with none, `(void)` or unnamed ones is a declarator (topDeclarators).
  | storage:? type %ident tparams:? "(" paramlist ")" ";" {% d => ({ k: 'fun', ret: d[1], name: d[2].value, tparams: d[3] ?? [], params: d[5], pos: pos(d[2]), storage: d[0] ?? undefined }) %}
  | qualifier:? declarator initializer:? moredecls ";" {% topDeclarators %}
  | "extern" structkw tparams:? %ident ";" {% d => ({ k: 'externtype', name: d[3].value, tparams: d[2] ?? [], nullable: d[1].nullable, pos: pos(d[3]) }) %}
  | "extern" tparams:? %ident ";" {% d => ({ k: 'externtype', name: d[2].value, tparams: d[1] ?? [], pos: pos(d[2]) }) %}

qualifier -> "const" {% () => 'const' %} | storage {% d => d[0] %}
storage -> "static" {% () => 'static' %} | "extern" {% () => 'extern' %}
structkw -> "struct" {% d => ({ nullable: false, pos: pos(d[0]) }) %} | %optstruct {% d => ({ nullable: true, pos: pos(d[0]) }) %}
tparams -> "<" idlist ">" {% d => d[1] %}
idlist -> %ident {% d => [d[0].value] %} | idlist "," %ident {% d => [...d[0], d[2].value] %}
field -> declarator ";" {% d => ({ name: d[0].name, type: d[0].type, pos: d[0].pos }) %}
  | "const" declarator ";" {% d => ({ name: d[1].name, type: d[1].type, isConst: true, pos: d[1].pos }) %}

params -> null {% () => [] %} | "void" {% () => [] %} | paramlist {% d => d[0] %}
paramlist -> declarator {% d => [d[0]] %} | paramlist "," declarator {% d => [...d[0], d[2]] %}

# T x · T x[] · T f(T1, …): a name with its type (C declarator forms that Popcorn keeps).
declarator -> type %ident {% d => ({ name: d[1].value, type: d[0], pos: pos(d[1]) }) %}
  | type %ident brackets {% d => ({ name: d[1].value, type: d[2].reduce((t: TypeExpr) => ({ k: 'array', elem: t, pos: d[0].pos }), d[0]), pos: pos(d[1]) }) %}
  | type %ident "(" typelist ")" {% d => ({ name: d[1].value, type: { k: 'fn', ret: d[0], params: d[3], pos: d[0].pos }, pos: pos(d[1]) }) %}
  # T x[N]: a sized array (its length as written; the checker makes the array).
  | type %ident "[" expr "]" {% d => ({ name: d[1].value, type: { k: 'array', elem: d[0], pos: d[0].pos }, size: d[3], pos: pos(d[1]) }) %}

brackets -> "[" "]" {% () => [null] %} | brackets "[" "]" {% d => [...d[0], null] %}

typelist -> null {% () => [] %} | typelist1 {% d => d[0] %}
typelist1 -> type {% d => [d[0]] %} | typelist1 "," type {% d => [...d[0], d[2]] %}

type -> basetype {% d => d[0] %}
  | type "[" "]" {% d => ({ k: 'array', elem: d[0], pos: d[0].pos }) %}
basetype -> "int" {% d => ({ k: 'prim', name: 'int', pos: pos(d[0]) }) %}
  | "unsigned" "int":? {% d => ({ k: 'prim', name: 'unsigned', pos: pos(d[0]) }) %}
  | ("bool" | "boolean") {% d => ({ k: 'prim', name: 'bool', pos: pos(d[0][0]) }) %}
  | "char" {% d => ({ k: 'prim', name: 'char', pos: pos(d[0]) }) %}
  # Popcorn's sub-word integers; `signed` alone (or with int) is int, `unsigned char` is char (already 0..255).
  | "short" "int":? {% d => ({ k: 'prim', name: 'short', pos: pos(d[0]) }) %}
  | "byte" {% d => ({ k: 'prim', name: 'byte', pos: pos(d[0]) }) %}
  | "signed" "int":? {% d => ({ k: 'prim', name: 'int', pos: pos(d[0]) }) %}
  | "signed" "short" "int":? {% d => ({ k: 'prim', name: 'short', pos: pos(d[0]) }) %}
  | "signed" ("byte" | "char") {% d => ({ k: 'prim', name: 'byte', pos: pos(d[0]) }) %}
  | "unsigned" "short" "int":? {% d => ({ k: 'prim', name: 'ushort', pos: pos(d[0]) }) %}
  | "unsigned" "byte" {% d => ({ k: 'prim', name: 'ubyte', pos: pos(d[0]) }) %}
  | "unsigned" "char" {% d => ({ k: 'prim', name: 'char', pos: pos(d[0]) }) %}
  | "string" {% d => ({ k: 'prim', name: 'string', pos: pos(d[0]) }) %}
  | "void" {% d => ({ k: 'prim', name: 'void', pos: pos(d[0]) }) %}
  | qname {% d => ({ k: 'named', name: d[0].name, args: [], pos: d[0].pos }) %}
  | "<" typelist1 ">" qname {% d => ({ k: 'named', name: d[3].name, args: d[1], pos: pos(d[0]) }) %}
  # `<<int>list>list`: the lexer reads the two opening brackets as one shift token.
  | "<<" typelist1 ">" qname typetail ">" qname {% d => ({ k: 'named', name: d[6].name, args: [{ k: 'named', name: d[3].name, args: d[1], pos: pos(d[0]) }, ...d[4]], pos: pos(d[0]) }) %}
  | "*" "(" typelist1 ")" {% d => ({ k: 'tuple', elems: d[2], pos: pos(d[0]) }) %}
# The type arguments of an explicit instantiation f@<T, …> (`<<` as in basetype).
typeargs -> "<" typelist1 ">" {% d => d[1] %}
  | "<<" typelist1 ">" qname typetail ">" {% d => [{ k: 'named', name: d[3].name, args: d[1], pos: pos(d[0]) }, ...d[4]] %}
typetail -> null {% () => [] %} | "," typelist1 {% d => d[1] %}
qname -> %ident {% d => ({ name: { name: d[0].value }, pos: pos(d[0]) }) %}
  | %ident "::" (%ident | "open") {% d => ({ name: { ns: d[0].value, name: d[2][0].value }, pos: pos(d[0]) }) %}

initializer -> "=" expr {% d => d[1] %} | "=" arraylit {% d => d[1] %}
arraylit -> "{" initlist "}" {% d => ({ k: 'arraylit', elems: d[1], pos: pos(d[0]) }) %}
initlist -> null {% () => [] %} | initlist1 {% d => d[0] %}
initlist1 -> initelem {% d => [d[0]] %} | initlist1 "," initelem {% d => [...d[0], d[2]] %}
initelem -> expr {% d => d[0] %} | arraylit {% d => d[0] %}

# ---- statements ----
block -> "{" stmt:* "}" {% d => ({ k: 'block', body: d[1], pos: pos(d[0]) }) %}
stmt -> closed {% d => d[0] %} | open {% d => d[0] %}
open -> "if" "(" expr ")" stmt {% d => ({ k: 'if', c: d[2], then: d[4], pos: pos(d[0]) }) %}
  | "if" "(" expr ")" closed "else" open {% d => ({ k: 'if', c: d[2], then: d[4], else: d[6], pos: pos(d[0]) }) %}
  | "while" "(" expr ")" open {% d => ({ k: 'while', c: d[2], body: d[4], pos: pos(d[0]) }) %}
  | forhead open {% d => ({ ...d[0], body: d[1] }) %}
closed -> simple {% d => d[0] %}
  | "if" "(" expr ")" closed "else" closed {% d => ({ k: 'if', c: d[2], then: d[4], else: d[6], pos: pos(d[0]) }) %}
  | "while" "(" expr ")" closed {% d => ({ k: 'while', c: d[2], body: d[4], pos: pos(d[0]) }) %}
  | forhead closed {% d => ({ ...d[0], body: d[1] }) %}
forhead -> "for" "(" forinit ";" expr:? ";" exprlist ")" {% d => ({ k: 'for', init: d[2] ?? undefined, c: d[4] ?? undefined, step: d[6], pos: pos(d[0]) }) %}
forinit -> null {% () => null %}
  | exprlist1 {% d => ({ k: 'block', body: d[0].map((e: Expr) => ({ k: 'expr', e, pos: (e as T).pos })), pos: (d[0][0] as T).pos }) %}
  | vardecl {% d => d[0] %}
exprlist -> null {% () => [] %} | exprlist1 {% d => d[0] %}
exprlist1 -> expr {% d => [d[0]] %} | exprlist1 "," expr {% d => [...d[0], d[2]] %}
simple -> block {% d => d[0] %}
  | expr ";" {% d => ({ k: 'expr', e: d[0], pos: d[0].pos }) %}
  | vardecl ";" {% d => d[0] %}
  | expr "," exprlist1 ";" {% d => ({ k: 'expr', e: { k: 'seq', es: [d[0], ...d[2]], pos: d[0].pos }, pos: d[0].pos }) %}
  | "do" stmt "while" "(" expr ")" ";" {% d => ({ k: 'do', body: d[1], c: d[4], pos: pos(d[0]) }) %}
  | "switch" expr "{" case:* default:? "}" {% d => ({ k: 'switch', e: d[1], cases: d[3], dflt: d[4] ?? undefined, pos: pos(d[0]) }) %}
  | "break" ";" {% d => ({ k: 'break', pos: pos(d[0]) }) %}
  | "continue" ";" {% d => ({ k: 'continue', pos: pos(d[0]) }) %}
  | "return" expr:? ";" {% d => ({ k: 'return', e: d[1] ?? undefined, pos: pos(d[0]) }) %}
  # `raise E;`, `raise E(v);`, `raise(e);`: any expression of type exn (a name or `E(v)` constructs one).
  | "raise" expr ";" {% d => ({ k: 'raise', e: d[1], pos: pos(d[0]) }) %}
  # The handler is a block or, as Popcorn programs write it, a brace-less statement: `handle x switch (x) { … }`.
  | "try" block "handle" %ident simple {% d => ({ k: 'try', body: d[1], name: d[3].value, handler: d[4], pos: pos(d[0]) }) %}
  | ";" {% d => ({ k: 'empty', pos: pos(d[0]) }) %}
  # A nested function, with or without Popcorn's `fun`.
  | "fun":? type %ident tparams:? "(" params ")" block {% d => ({ k: 'fun', decl: { k: 'fun', ret: d[1], name: d[2].value, tparams: d[3] ?? [], params: d[5], body: d[7], pos: pos(d[2]) }, pos: d[0] ? pos(d[0]) : d[1].pos }) %}
case -> "case" caselabels ":" stmt:* {% d => ({ values: d[1], body: d[3], pos: pos(d[0]) }) %}
caselabels -> caselabel {% d => [d[0]] %} | caselabels "," caselabel {% d => [...d[0], d[2]] %}
caselabel -> unary {% d => d[0] %}
  # A union's variant taking its tuple apart: Popcorn's `case C*(x, y):`, also written `case C(*(x, y)):`.
  | qname "*" "(" args ")" {% d => unionPattern(d[0], d[3], d[1]) %}
  | qname "(" "*" "(" args ")" ")" {% d => unionPattern(d[0], d[4], d[2]) %}
default -> "default" ":" stmt:* {% d => d[2] %}
vardecl -> declarator initializer:? moredecls {% d => ({ k: 'decl', decls: [{ ...d[0], init: d[1] ?? undefined }, ...d[2].map((m: T) => ({ name: m.name, type: d[0].type, init: m.init, pos: m.pos }))], pos: d[0].pos }) %}
moredecls -> null {% () => [] %} | moredecls "," %ident initializer:? {% d => [...d[0], { name: d[2].value, init: d[3] ?? undefined, pos: pos(d[2]) }] %}

# ---- expressions, by precedence ----
expr -> assign {% d => d[0] %}
assign -> cond {% d => d[0] %}
  | unary assignop assign {% d => ({ k: 'assign', op: d[1].value, target: d[0], value: d[2], pos: pos(d[1]) }) %}
assignop -> "=" {% d => d[0] %} | "+=" {% d => d[0] %} | "-=" {% d => d[0] %} | "*=" {% d => d[0] %} | "/=" {% d => d[0] %}
  | "%=" {% d => d[0] %} | "&=" {% d => d[0] %} | "|=" {% d => d[0] %} | "^=" {% d => d[0] %} | "<<=" {% d => d[0] %}
  | ">>=" {% d => d[0] %} | ">>>=" {% d => d[0] %}
cond -> lor {% d => d[0] %} | lor "?" expr ":" cond {% d => ({ k: 'cond', c: d[0], a: d[2], b: d[4], pos: pos(d[1]) }) %}
lor -> land {% d => d[0] %} | lor "||" land {% bin %}
land -> bor {% d => d[0] %} | land "&&" bor {% bin %}
bor -> bxor {% d => d[0] %} | bor "|" bxor {% bin %}
bxor -> band {% d => d[0] %} | bxor "^" band {% bin %}
band -> equality {% d => d[0] %} | band "&" equality {% bin %}
equality -> relation {% d => d[0] %} | equality ("==" | "!=") relation {% d => ({ k: 'binary', op: d[1][0].value, l: d[0], r: d[2], pos: pos(d[1][0]) }) %}
relation -> shift {% d => d[0] %} | relation ("<" | "<=" | ">" | ">=") shift {% d => ({ k: 'binary', op: d[1][0].value, l: d[0], r: d[2], pos: pos(d[1][0]) }) %}
shift -> additive {% d => d[0] %} | shift ("<<" | ">>" | ">>>") additive {% d => ({ k: 'binary', op: d[1][0].value, l: d[0], r: d[2], pos: pos(d[1][0]) }) %}
additive -> mult {% d => d[0] %} | additive ("+" | "-") mult {% d => ({ k: 'binary', op: d[1][0].value, l: d[0], r: d[2], pos: pos(d[1][0]) }) %}
mult -> unary {% d => d[0] %} | mult ("*" | "/" | "%") unary {% d => ({ k: 'binary', op: d[1][0].value, l: d[0], r: d[2], pos: pos(d[1][0]) }) %}
unary -> postfix {% d => d[0] %}
  | ("-" | "!" | "~" | "+") unary {% d => ({ k: 'unary', op: d[0][0].value, e: d[1], pos: pos(d[0][0]) }) %}
  | "(" ":" type ")" unary {% d => ({ k: 'cast', ty: d[2], e: d[4], pos: pos(d[0]) }) %}
  | "&" qname {% d => ({ k: 'var', name: d[1].name, amp: true, pos: pos(d[0]) }) %}
  | ("++" | "--") unary {% d => ({ k: 'incdec', op: d[0][0].value, prefix: true, target: d[1], pos: pos(d[0][0]) }) %}
postfix -> primary {% d => d[0] %}
  | postfix "[" expr "]" {% d => ({ k: 'index', a: d[0], i: d[2], pos: pos(d[1]) }) %}
  | postfix "." %ident {% d => ({ k: 'field', e: d[0], name: d[2].value, pos: pos(d[1]) }) %}
  | postfix "." %number {% d => ({ k: 'proj', e: d[0], index: Number(d[2].value), pos: pos(d[1]) }) %}
  | postfix "(" args ")" {% d => ({ k: 'call', fn: d[0], args: d[2], pos: pos(d[1]) }) %}
  | postfix "@" typeargs {% d => ({ k: 'inst', e: d[0], args: d[2], pos: pos(d[1]) }) %}
  | postfix ("++" | "--") {% d => ({ k: 'incdec', op: d[1][0].value, prefix: false, target: d[0], pos: pos(d[1][0]) }) %}
primary -> %number {% d => ({ k: 'int', value: Number(d[0].value), pos: pos(d[0]) }) %}
  | %charlit {% d => { const b = lit(d[0].value.slice(1, -1), pos(d[0]), Diag.BadCharacterLiteral); if (b.length !== 1) throw new LiteralError(pos(d[0]), Diag.CharacterLiteralOneByte, ''); return { k: 'char', value: b[0], pos: pos(d[0]) }; } %}
  | %strlit {% d => ({ k: 'string', bytes: lit(d[0].value.slice(1, -1), pos(d[0]), Diag.BadStringLiteral), pos: pos(d[0]) }) %}
  | "true" {% d => ({ k: 'bool', value: true, pos: pos(d[0]) }) %}
  | "false" {% d => ({ k: 'bool', value: false, pos: pos(d[0]) }) %}
  | "null" {% d => ({ k: 'null', pos: pos(d[0]) }) %}
  | qname {% d => ({ k: 'var', name: d[0].name, pos: d[0].pos }) %}
  | "(" expr ")" {% d => d[1] %}
  | "(" expr "," exprlist1 ")" {% d => ({ k: 'seq', es: [d[1], ...d[3]], pos: pos(d[0]) }) %}
  | "new" qname "(" args ")" {% d => ({ k: 'new', name: d[1].name, args: d[3], pos: pos(d[0]) }) %}
  | "^" "(" args ")" {% d => ({ k: 'tuple', elems: d[2], pos: pos(d[0]) }) %}
  # Popcorn's other spellings of allocation: ^S(…) is new S(…); new (…) and %(…) (read-only) are ^(…).
  | "^" qname "(" args ")" {% d => ({ k: 'new', name: d[1].name, args: d[3], pos: pos(d[0]) }) %}
  | "fun" type "(" params ")" block {% d => ({ k: 'lambda', decl: { k: 'fun', ret: d[1], name: '', tparams: [], params: d[3], body: d[5], pos: pos(d[0]) }, pos: pos(d[0]) }) %}
  | "new" "(" args ")" {% d => ({ k: 'tuple', elems: d[2], pos: pos(d[0]) }) %}
  | "%" "(" args ")" {% d => ({ k: 'tuple', elems: d[2], pos: pos(d[0]) }) %}
  | ("new" | "^") qname "." %ident "(" args ")" {% d => ({ k: 'new', name: d[1].name, variant: d[3].value, args: d[5], pos: pos(d[0][0]) }) %}
args -> null {% () => [] %} | args1 {% d => d[0] %}
args1 -> expr {% d => [d[0]] %} | args1 "," expr {% d => [...d[0], d[2]] %}
