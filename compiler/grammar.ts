// Generated automatically by nearley, version 2.20.1
// http://github.com/Hardmath123/nearley
// Bypasses TS6133. Allow declared but unused functions.
// @ts-ignore
function id(d: any[]): any { return d[0]; }
declare var directive: any;
declare var ident: any;
declare var optstruct: any;
declare var number: any;
declare var charlit: any;
declare var strlit: any;

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

interface NearleyToken {
  value: any;
  [key: string]: any;
};

interface NearleyLexer {
  reset: (chunk: string, info: any) => void;
  next: () => NearleyToken | undefined;
  save: () => any;
  formatError: (token: never) => string;
  has: (tokenType: string) => boolean;
};

interface NearleyRule {
  name: string;
  symbols: NearleySymbol[];
  postprocess?: (d: any[], loc?: number, reject?: {}) => any;
};

type NearleySymbol = string | { literal: any } | { test: (token: any) => boolean };

interface Grammar {
  Lexer: NearleyLexer | undefined;
  ParserRules: NearleyRule[];
  ParserStart: string;
};

const grammar: Grammar = {
  Lexer: lexer,
  ParserRules: [
    {"name": "program$ebnf$1", "symbols": []},
    {"name": "program$ebnf$1", "symbols": ["program$ebnf$1", "topdecl"], "postprocess": (d) => d[0].concat([d[1]])},
    {"name": "program", "symbols": ["program$ebnf$1"], "postprocess": d => d[0].flat()},
    {"name": "topdecl", "symbols": [(lexer.has("directive") ? {type: "directive"} : directive)], "postprocess": d => include(d[0])},
    {"name": "topdecl", "symbols": [{"literal":"open"}, (lexer.has("ident") ? {type: "ident"} : ident), {"literal":";"}], "postprocess": d => ({ k: 'open', ns: d[1].value, pos: pos(d[0]) })},
    {"name": "topdecl$ebnf$1", "symbols": []},
    {"name": "topdecl$ebnf$1", "symbols": ["topdecl$ebnf$1", "topdecl"], "postprocess": (d) => d[0].concat([d[1]])},
    {"name": "topdecl", "symbols": [{"literal":"namespace"}, (lexer.has("ident") ? {type: "ident"} : ident), {"literal":"{"}, "topdecl$ebnf$1", {"literal":"}"}], "postprocess": d => ({ k: 'namespace', name: d[1].value, decls: d[3].flat(), pos: pos(d[0]) })},
    {"name": "topdecl$ebnf$2", "symbols": []},
    {"name": "topdecl$ebnf$2", "symbols": ["topdecl$ebnf$2", "topdecl"], "postprocess": (d) => d[0].concat([d[1]])},
    {"name": "topdecl", "symbols": [{"literal":"prefix"}, (lexer.has("ident") ? {type: "ident"} : ident), {"literal":"{"}, "topdecl$ebnf$2", {"literal":"}"}], "postprocess": d => ({ k: 'namespace', name: d[1].value, decls: d[3].flat(), pos: pos(d[0]) })},
    {"name": "topdecl", "symbols": [{"literal":"exception"}, (lexer.has("ident") ? {type: "ident"} : ident), {"literal":";"}], "postprocess": d => ({ k: 'exception', name: d[1].value, pos: pos(d[0]) })},
    {"name": "topdecl$ebnf$3", "symbols": ["tparams"], "postprocess": id},
    {"name": "topdecl$ebnf$3", "symbols": [], "postprocess": () => null},
    {"name": "topdecl$ebnf$4", "symbols": []},
    {"name": "topdecl$ebnf$4", "symbols": ["topdecl$ebnf$4", "field"], "postprocess": (d) => d[0].concat([d[1]])},
    {"name": "topdecl", "symbols": [{"literal":"abstract"}, "structkw", "topdecl$ebnf$3", (lexer.has("ident") ? {type: "ident"} : ident), {"literal":"{"}, "topdecl$ebnf$4", {"literal":"}"}], "postprocess": d => ({ k: 'struct', nullable: d[1].nullable, abstract: true, tparams: d[2] ?? [], name: d[3].value, fields: d[5], pos: pos(d[0]) })},
    {"name": "topdecl$ebnf$5", "symbols": ["tparams"], "postprocess": id},
    {"name": "topdecl$ebnf$5", "symbols": [], "postprocess": () => null},
    {"name": "topdecl$ebnf$6", "symbols": []},
    {"name": "topdecl$ebnf$6", "symbols": ["topdecl$ebnf$6", "field"], "postprocess": (d) => d[0].concat([d[1]])},
    {"name": "topdecl", "symbols": [{"literal":"union"}, "topdecl$ebnf$5", (lexer.has("ident") ? {type: "ident"} : ident), {"literal":"{"}, "topdecl$ebnf$6", {"literal":"}"}], "postprocess": d => ({ k: 'union', tparams: d[1] ?? [], name: d[2].value, variants: d[4], pos: pos(d[0]) })},
    {"name": "topdecl", "symbols": [{"literal":"exception"}, (lexer.has("ident") ? {type: "ident"} : ident), {"literal":"("}, "type", {"literal":")"}, {"literal":";"}], "postprocess": d => ({ k: 'exception', name: d[1].value, payload: d[3], pos: pos(d[0]) })},
    {"name": "topdecl$ebnf$7", "symbols": ["tparams"], "postprocess": id},
    {"name": "topdecl$ebnf$7", "symbols": [], "postprocess": () => null},
    {"name": "topdecl$ebnf$8", "symbols": []},
    {"name": "topdecl$ebnf$8", "symbols": ["topdecl$ebnf$8", "field"], "postprocess": (d) => d[0].concat([d[1]])},
    {"name": "topdecl", "symbols": ["structkw", "topdecl$ebnf$7", (lexer.has("ident") ? {type: "ident"} : ident), {"literal":"{"}, "topdecl$ebnf$8", {"literal":"}"}], "postprocess": d => ({ k: 'struct', nullable: d[0].nullable, tparams: d[1] ?? [], name: d[2].value, fields: d[4], pos: d[0].pos })},
    {"name": "topdecl$ebnf$9", "symbols": ["tparams"], "postprocess": id},
    {"name": "topdecl$ebnf$9", "symbols": [], "postprocess": () => null},
    {"name": "topdecl$ebnf$10", "symbols": []},
    {"name": "topdecl$ebnf$10", "symbols": ["topdecl$ebnf$10", "field"], "postprocess": (d) => d[0].concat([d[1]])},
    {"name": "topdecl", "symbols": ["storage", "structkw", "topdecl$ebnf$9", (lexer.has("ident") ? {type: "ident"} : ident), {"literal":"{"}, "topdecl$ebnf$10", {"literal":"}"}], "postprocess": d => ({ k: 'struct', nullable: d[1].nullable, tparams: d[2] ?? [], name: d[3].value, fields: d[5], pos: d[1].pos, storage: d[0] })},
    {"name": "topdecl$ebnf$11", "symbols": ["storage"], "postprocess": id},
    {"name": "topdecl$ebnf$11", "symbols": [], "postprocess": () => null},
    {"name": "topdecl$ebnf$12", "symbols": ["tparams"], "postprocess": id},
    {"name": "topdecl$ebnf$12", "symbols": [], "postprocess": () => null},
    {"name": "topdecl", "symbols": ["topdecl$ebnf$11", "type", (lexer.has("ident") ? {type: "ident"} : ident), "topdecl$ebnf$12", {"literal":"("}, "params", {"literal":")"}, "block"], "postprocess": d => ({ k: 'fun', ret: d[1], name: d[2].value, tparams: d[3] ?? [], params: d[5], body: d[7], pos: pos(d[2]), storage: d[0] ?? undefined })},
    {"name": "topdecl$ebnf$13", "symbols": ["storage"], "postprocess": id},
    {"name": "topdecl$ebnf$13", "symbols": [], "postprocess": () => null},
    {"name": "topdecl$ebnf$14", "symbols": ["tparams"], "postprocess": id},
    {"name": "topdecl$ebnf$14", "symbols": [], "postprocess": () => null},
    {"name": "topdecl", "symbols": ["topdecl$ebnf$13", "type", (lexer.has("ident") ? {type: "ident"} : ident), "topdecl$ebnf$14", {"literal":"("}, "paramlist", {"literal":")"}, {"literal":";"}], "postprocess": d => ({ k: 'fun', ret: d[1], name: d[2].value, tparams: d[3] ?? [], params: d[5], pos: pos(d[2]), storage: d[0] ?? undefined })},
    {"name": "topdecl$ebnf$15", "symbols": ["qualifier"], "postprocess": id},
    {"name": "topdecl$ebnf$15", "symbols": [], "postprocess": () => null},
    {"name": "topdecl$ebnf$16", "symbols": ["initializer"], "postprocess": id},
    {"name": "topdecl$ebnf$16", "symbols": [], "postprocess": () => null},
    {"name": "topdecl", "symbols": ["topdecl$ebnf$15", "declarator", "topdecl$ebnf$16", "moredecls", {"literal":";"}], "postprocess": topDeclarators},
    {"name": "topdecl$ebnf$17", "symbols": ["tparams"], "postprocess": id},
    {"name": "topdecl$ebnf$17", "symbols": [], "postprocess": () => null},
    {"name": "topdecl", "symbols": [{"literal":"extern"}, "structkw", "topdecl$ebnf$17", (lexer.has("ident") ? {type: "ident"} : ident), {"literal":";"}], "postprocess": d => ({ k: 'externtype', name: d[3].value, tparams: d[2] ?? [], nullable: d[1].nullable, pos: pos(d[3]) })},
    {"name": "topdecl$ebnf$18", "symbols": ["tparams"], "postprocess": id},
    {"name": "topdecl$ebnf$18", "symbols": [], "postprocess": () => null},
    {"name": "topdecl", "symbols": [{"literal":"extern"}, "topdecl$ebnf$18", (lexer.has("ident") ? {type: "ident"} : ident), {"literal":";"}], "postprocess": d => ({ k: 'externtype', name: d[2].value, tparams: d[1] ?? [], pos: pos(d[2]) })},
    {"name": "qualifier", "symbols": [{"literal":"const"}], "postprocess": () => 'const'},
    {"name": "qualifier", "symbols": ["storage"], "postprocess": d => d[0]},
    {"name": "storage", "symbols": [{"literal":"static"}], "postprocess": () => 'static'},
    {"name": "storage", "symbols": [{"literal":"extern"}], "postprocess": () => 'extern'},
    {"name": "structkw", "symbols": [{"literal":"struct"}], "postprocess": d => ({ nullable: false, pos: pos(d[0]) })},
    {"name": "structkw", "symbols": [(lexer.has("optstruct") ? {type: "optstruct"} : optstruct)], "postprocess": d => ({ nullable: true, pos: pos(d[0]) })},
    {"name": "tparams", "symbols": [{"literal":"<"}, "idlist", {"literal":">"}], "postprocess": d => d[1]},
    {"name": "idlist", "symbols": [(lexer.has("ident") ? {type: "ident"} : ident)], "postprocess": d => [d[0].value]},
    {"name": "idlist", "symbols": ["idlist", {"literal":","}, (lexer.has("ident") ? {type: "ident"} : ident)], "postprocess": d => [...d[0], d[2].value]},
    {"name": "field", "symbols": ["declarator", {"literal":";"}], "postprocess": d => ({ name: d[0].name, type: d[0].type, pos: d[0].pos })},
    {"name": "field", "symbols": [{"literal":"const"}, "declarator", {"literal":";"}], "postprocess": d => ({ name: d[1].name, type: d[1].type, isConst: true, pos: d[1].pos })},
    {"name": "params", "symbols": [], "postprocess": () => []},
    {"name": "params", "symbols": [{"literal":"void"}], "postprocess": () => []},
    {"name": "params", "symbols": ["paramlist"], "postprocess": d => d[0]},
    {"name": "paramlist", "symbols": ["declarator"], "postprocess": d => [d[0]]},
    {"name": "paramlist", "symbols": ["paramlist", {"literal":","}, "declarator"], "postprocess": d => [...d[0], d[2]]},
    {"name": "declarator", "symbols": ["type", (lexer.has("ident") ? {type: "ident"} : ident)], "postprocess": d => ({ name: d[1].value, type: d[0], pos: pos(d[1]) })},
    {"name": "declarator", "symbols": ["type", (lexer.has("ident") ? {type: "ident"} : ident), "brackets"], "postprocess": d => ({ name: d[1].value, type: d[2].reduce((t: TypeExpr) => ({ k: 'array', elem: t, pos: d[0].pos }), d[0]), pos: pos(d[1]) })},
    {"name": "declarator", "symbols": ["type", (lexer.has("ident") ? {type: "ident"} : ident), {"literal":"("}, "typelist", {"literal":")"}], "postprocess": d => ({ name: d[1].value, type: { k: 'fn', ret: d[0], params: d[3], pos: d[0].pos }, pos: pos(d[1]) })},
    {"name": "declarator", "symbols": ["type", (lexer.has("ident") ? {type: "ident"} : ident), {"literal":"["}, "expr", {"literal":"]"}], "postprocess": d => ({ name: d[1].value, type: { k: 'array', elem: d[0], pos: d[0].pos }, size: d[3], pos: pos(d[1]) })},
    {"name": "brackets", "symbols": [{"literal":"["}, {"literal":"]"}], "postprocess": () => [null]},
    {"name": "brackets", "symbols": ["brackets", {"literal":"["}, {"literal":"]"}], "postprocess": d => [...d[0], null]},
    {"name": "typelist", "symbols": [], "postprocess": () => []},
    {"name": "typelist", "symbols": ["typelist1"], "postprocess": d => d[0]},
    {"name": "typelist1", "symbols": ["type"], "postprocess": d => [d[0]]},
    {"name": "typelist1", "symbols": ["typelist1", {"literal":","}, "type"], "postprocess": d => [...d[0], d[2]]},
    {"name": "type", "symbols": ["basetype"], "postprocess": d => d[0]},
    {"name": "type", "symbols": ["type", {"literal":"["}, {"literal":"]"}], "postprocess": d => ({ k: 'array', elem: d[0], pos: d[0].pos })},
    {"name": "basetype", "symbols": [{"literal":"int"}], "postprocess": d => ({ k: 'prim', name: 'int', pos: pos(d[0]) })},
    {"name": "basetype$ebnf$1", "symbols": [{"literal":"int"}], "postprocess": id},
    {"name": "basetype$ebnf$1", "symbols": [], "postprocess": () => null},
    {"name": "basetype", "symbols": [{"literal":"unsigned"}, "basetype$ebnf$1"], "postprocess": d => ({ k: 'prim', name: 'unsigned', pos: pos(d[0]) })},
    {"name": "basetype$subexpression$1", "symbols": [{"literal":"bool"}]},
    {"name": "basetype$subexpression$1", "symbols": [{"literal":"boolean"}]},
    {"name": "basetype", "symbols": ["basetype$subexpression$1"], "postprocess": d => ({ k: 'prim', name: 'bool', pos: pos(d[0][0]) })},
    {"name": "basetype", "symbols": [{"literal":"char"}], "postprocess": d => ({ k: 'prim', name: 'char', pos: pos(d[0]) })},
    {"name": "basetype$ebnf$2", "symbols": [{"literal":"int"}], "postprocess": id},
    {"name": "basetype$ebnf$2", "symbols": [], "postprocess": () => null},
    {"name": "basetype", "symbols": [{"literal":"short"}, "basetype$ebnf$2"], "postprocess": d => ({ k: 'prim', name: 'short', pos: pos(d[0]) })},
    {"name": "basetype", "symbols": [{"literal":"byte"}], "postprocess": d => ({ k: 'prim', name: 'byte', pos: pos(d[0]) })},
    {"name": "basetype$ebnf$3", "symbols": [{"literal":"int"}], "postprocess": id},
    {"name": "basetype$ebnf$3", "symbols": [], "postprocess": () => null},
    {"name": "basetype", "symbols": [{"literal":"signed"}, "basetype$ebnf$3"], "postprocess": d => ({ k: 'prim', name: 'int', pos: pos(d[0]) })},
    {"name": "basetype$ebnf$4", "symbols": [{"literal":"int"}], "postprocess": id},
    {"name": "basetype$ebnf$4", "symbols": [], "postprocess": () => null},
    {"name": "basetype", "symbols": [{"literal":"signed"}, {"literal":"short"}, "basetype$ebnf$4"], "postprocess": d => ({ k: 'prim', name: 'short', pos: pos(d[0]) })},
    {"name": "basetype$subexpression$2", "symbols": [{"literal":"byte"}]},
    {"name": "basetype$subexpression$2", "symbols": [{"literal":"char"}]},
    {"name": "basetype", "symbols": [{"literal":"signed"}, "basetype$subexpression$2"], "postprocess": d => ({ k: 'prim', name: 'byte', pos: pos(d[0]) })},
    {"name": "basetype$ebnf$5", "symbols": [{"literal":"int"}], "postprocess": id},
    {"name": "basetype$ebnf$5", "symbols": [], "postprocess": () => null},
    {"name": "basetype", "symbols": [{"literal":"unsigned"}, {"literal":"short"}, "basetype$ebnf$5"], "postprocess": d => ({ k: 'prim', name: 'ushort', pos: pos(d[0]) })},
    {"name": "basetype", "symbols": [{"literal":"unsigned"}, {"literal":"byte"}], "postprocess": d => ({ k: 'prim', name: 'ubyte', pos: pos(d[0]) })},
    {"name": "basetype", "symbols": [{"literal":"unsigned"}, {"literal":"char"}], "postprocess": d => ({ k: 'prim', name: 'char', pos: pos(d[0]) })},
    {"name": "basetype", "symbols": [{"literal":"string"}], "postprocess": d => ({ k: 'prim', name: 'string', pos: pos(d[0]) })},
    {"name": "basetype", "symbols": [{"literal":"void"}], "postprocess": d => ({ k: 'prim', name: 'void', pos: pos(d[0]) })},
    {"name": "basetype", "symbols": ["qname"], "postprocess": d => ({ k: 'named', name: d[0].name, args: [], pos: d[0].pos })},
    {"name": "basetype", "symbols": [{"literal":"<"}, "typelist1", {"literal":">"}, "qname"], "postprocess": d => ({ k: 'named', name: d[3].name, args: d[1], pos: pos(d[0]) })},
    {"name": "basetype", "symbols": [{"literal":"<<"}, "typelist1", {"literal":">"}, "qname", "typetail", {"literal":">"}, "qname"], "postprocess": d => ({ k: 'named', name: d[6].name, args: [{ k: 'named', name: d[3].name, args: d[1], pos: pos(d[0]) }, ...d[4]], pos: pos(d[0]) })},
    {"name": "basetype", "symbols": [{"literal":"*"}, {"literal":"("}, "typelist1", {"literal":")"}], "postprocess": d => ({ k: 'tuple', elems: d[2], pos: pos(d[0]) })},
    {"name": "typeargs", "symbols": [{"literal":"<"}, "typelist1", {"literal":">"}], "postprocess": d => d[1]},
    {"name": "typeargs", "symbols": [{"literal":"<<"}, "typelist1", {"literal":">"}, "qname", "typetail", {"literal":">"}], "postprocess": d => [{ k: 'named', name: d[3].name, args: d[1], pos: pos(d[0]) }, ...d[4]]},
    {"name": "typetail", "symbols": [], "postprocess": () => []},
    {"name": "typetail", "symbols": [{"literal":","}, "typelist1"], "postprocess": d => d[1]},
    {"name": "qname", "symbols": [(lexer.has("ident") ? {type: "ident"} : ident)], "postprocess": d => ({ name: { name: d[0].value }, pos: pos(d[0]) })},
    {"name": "qname$subexpression$1", "symbols": [(lexer.has("ident") ? {type: "ident"} : ident)]},
    {"name": "qname$subexpression$1", "symbols": [{"literal":"open"}]},
    {"name": "qname", "symbols": [(lexer.has("ident") ? {type: "ident"} : ident), {"literal":"::"}, "qname$subexpression$1"], "postprocess": d => ({ name: { ns: d[0].value, name: d[2][0].value }, pos: pos(d[0]) })},
    {"name": "initializer", "symbols": [{"literal":"="}, "expr"], "postprocess": d => d[1]},
    {"name": "initializer", "symbols": [{"literal":"="}, "arraylit"], "postprocess": d => d[1]},
    {"name": "arraylit", "symbols": [{"literal":"{"}, "initlist", {"literal":"}"}], "postprocess": d => ({ k: 'arraylit', elems: d[1], pos: pos(d[0]) })},
    {"name": "initlist", "symbols": [], "postprocess": () => []},
    {"name": "initlist", "symbols": ["initlist1"], "postprocess": d => d[0]},
    {"name": "initlist1", "symbols": ["initelem"], "postprocess": d => [d[0]]},
    {"name": "initlist1", "symbols": ["initlist1", {"literal":","}, "initelem"], "postprocess": d => [...d[0], d[2]]},
    {"name": "initelem", "symbols": ["expr"], "postprocess": d => d[0]},
    {"name": "initelem", "symbols": ["arraylit"], "postprocess": d => d[0]},
    {"name": "block$ebnf$1", "symbols": []},
    {"name": "block$ebnf$1", "symbols": ["block$ebnf$1", "stmt"], "postprocess": (d) => d[0].concat([d[1]])},
    {"name": "block", "symbols": [{"literal":"{"}, "block$ebnf$1", {"literal":"}"}], "postprocess": d => ({ k: 'block', body: d[1], pos: pos(d[0]) })},
    {"name": "stmt", "symbols": ["closed"], "postprocess": d => d[0]},
    {"name": "stmt", "symbols": ["open"], "postprocess": d => d[0]},
    {"name": "open", "symbols": [{"literal":"if"}, {"literal":"("}, "expr", {"literal":")"}, "stmt"], "postprocess": d => ({ k: 'if', c: d[2], then: d[4], pos: pos(d[0]) })},
    {"name": "open", "symbols": [{"literal":"if"}, {"literal":"("}, "expr", {"literal":")"}, "closed", {"literal":"else"}, "open"], "postprocess": d => ({ k: 'if', c: d[2], then: d[4], else: d[6], pos: pos(d[0]) })},
    {"name": "open", "symbols": [{"literal":"while"}, {"literal":"("}, "expr", {"literal":")"}, "open"], "postprocess": d => ({ k: 'while', c: d[2], body: d[4], pos: pos(d[0]) })},
    {"name": "open", "symbols": ["forhead", "open"], "postprocess": d => ({ ...d[0], body: d[1] })},
    {"name": "closed", "symbols": ["simple"], "postprocess": d => d[0]},
    {"name": "closed", "symbols": [{"literal":"if"}, {"literal":"("}, "expr", {"literal":")"}, "closed", {"literal":"else"}, "closed"], "postprocess": d => ({ k: 'if', c: d[2], then: d[4], else: d[6], pos: pos(d[0]) })},
    {"name": "closed", "symbols": [{"literal":"while"}, {"literal":"("}, "expr", {"literal":")"}, "closed"], "postprocess": d => ({ k: 'while', c: d[2], body: d[4], pos: pos(d[0]) })},
    {"name": "closed", "symbols": ["forhead", "closed"], "postprocess": d => ({ ...d[0], body: d[1] })},
    {"name": "forhead$ebnf$1", "symbols": ["expr"], "postprocess": id},
    {"name": "forhead$ebnf$1", "symbols": [], "postprocess": () => null},
    {"name": "forhead", "symbols": [{"literal":"for"}, {"literal":"("}, "forinit", {"literal":";"}, "forhead$ebnf$1", {"literal":";"}, "exprlist", {"literal":")"}], "postprocess": d => ({ k: 'for', init: d[2] ?? undefined, c: d[4] ?? undefined, step: d[6], pos: pos(d[0]) })},
    {"name": "forinit", "symbols": [], "postprocess": () => null},
    {"name": "forinit", "symbols": ["exprlist1"], "postprocess": d => ({ k: 'block', body: d[0].map((e: Expr) => ({ k: 'expr', e, pos: (e as T).pos })), pos: (d[0][0] as T).pos })},
    {"name": "forinit", "symbols": ["vardecl"], "postprocess": d => d[0]},
    {"name": "exprlist", "symbols": [], "postprocess": () => []},
    {"name": "exprlist", "symbols": ["exprlist1"], "postprocess": d => d[0]},
    {"name": "exprlist1", "symbols": ["expr"], "postprocess": d => [d[0]]},
    {"name": "exprlist1", "symbols": ["exprlist1", {"literal":","}, "expr"], "postprocess": d => [...d[0], d[2]]},
    {"name": "simple", "symbols": ["block"], "postprocess": d => d[0]},
    {"name": "simple", "symbols": ["expr", {"literal":";"}], "postprocess": d => ({ k: 'expr', e: d[0], pos: d[0].pos })},
    {"name": "simple", "symbols": ["vardecl", {"literal":";"}], "postprocess": d => d[0]},
    {"name": "simple", "symbols": ["expr", {"literal":","}, "exprlist1", {"literal":";"}], "postprocess": d => ({ k: 'expr', e: { k: 'seq', es: [d[0], ...d[2]], pos: d[0].pos }, pos: d[0].pos })},
    {"name": "simple", "symbols": [{"literal":"do"}, "stmt", {"literal":"while"}, {"literal":"("}, "expr", {"literal":")"}, {"literal":";"}], "postprocess": d => ({ k: 'do', body: d[1], c: d[4], pos: pos(d[0]) })},
    {"name": "simple$ebnf$1", "symbols": []},
    {"name": "simple$ebnf$1", "symbols": ["simple$ebnf$1", "case"], "postprocess": (d) => d[0].concat([d[1]])},
    {"name": "simple$ebnf$2", "symbols": ["default"], "postprocess": id},
    {"name": "simple$ebnf$2", "symbols": [], "postprocess": () => null},
    {"name": "simple", "symbols": [{"literal":"switch"}, "expr", {"literal":"{"}, "simple$ebnf$1", "simple$ebnf$2", {"literal":"}"}], "postprocess": d => ({ k: 'switch', e: d[1], cases: d[3], dflt: d[4] ?? undefined, pos: pos(d[0]) })},
    {"name": "simple", "symbols": [{"literal":"break"}, {"literal":";"}], "postprocess": d => ({ k: 'break', pos: pos(d[0]) })},
    {"name": "simple", "symbols": [{"literal":"continue"}, {"literal":";"}], "postprocess": d => ({ k: 'continue', pos: pos(d[0]) })},
    {"name": "simple$ebnf$3", "symbols": ["expr"], "postprocess": id},
    {"name": "simple$ebnf$3", "symbols": [], "postprocess": () => null},
    {"name": "simple", "symbols": [{"literal":"return"}, "simple$ebnf$3", {"literal":";"}], "postprocess": d => ({ k: 'return', e: d[1] ?? undefined, pos: pos(d[0]) })},
    {"name": "simple", "symbols": [{"literal":"raise"}, "expr", {"literal":";"}], "postprocess": d => ({ k: 'raise', e: d[1], pos: pos(d[0]) })},
    {"name": "simple", "symbols": [{"literal":"try"}, "block", {"literal":"handle"}, (lexer.has("ident") ? {type: "ident"} : ident), "simple"], "postprocess": d => ({ k: 'try', body: d[1], name: d[3].value, handler: d[4], pos: pos(d[0]) })},
    {"name": "simple", "symbols": [{"literal":";"}], "postprocess": d => ({ k: 'empty', pos: pos(d[0]) })},
    {"name": "simple$ebnf$4", "symbols": [{"literal":"fun"}], "postprocess": id},
    {"name": "simple$ebnf$4", "symbols": [], "postprocess": () => null},
    {"name": "simple$ebnf$5", "symbols": ["tparams"], "postprocess": id},
    {"name": "simple$ebnf$5", "symbols": [], "postprocess": () => null},
    {"name": "simple", "symbols": ["simple$ebnf$4", "type", (lexer.has("ident") ? {type: "ident"} : ident), "simple$ebnf$5", {"literal":"("}, "params", {"literal":")"}, "block"], "postprocess": d => ({ k: 'fun', decl: { k: 'fun', ret: d[1], name: d[2].value, tparams: d[3] ?? [], params: d[5], body: d[7], pos: pos(d[2]) }, pos: d[0] ? pos(d[0]) : d[1].pos })},
    {"name": "case$ebnf$1", "symbols": []},
    {"name": "case$ebnf$1", "symbols": ["case$ebnf$1", "stmt"], "postprocess": (d) => d[0].concat([d[1]])},
    {"name": "case", "symbols": [{"literal":"case"}, "caselabels", {"literal":":"}, "case$ebnf$1"], "postprocess": d => ({ values: d[1], body: d[3], pos: pos(d[0]) })},
    {"name": "caselabels", "symbols": ["caselabel"], "postprocess": d => [d[0]]},
    {"name": "caselabels", "symbols": ["caselabels", {"literal":","}, "caselabel"], "postprocess": d => [...d[0], d[2]]},
    {"name": "caselabel", "symbols": ["unary"], "postprocess": d => d[0]},
    {"name": "caselabel", "symbols": ["qname", {"literal":"*"}, {"literal":"("}, "args", {"literal":")"}], "postprocess": d => unionPattern(d[0], d[3], d[1])},
    {"name": "caselabel", "symbols": ["qname", {"literal":"("}, {"literal":"*"}, {"literal":"("}, "args", {"literal":")"}, {"literal":")"}], "postprocess": d => unionPattern(d[0], d[4], d[2])},
    {"name": "default$ebnf$1", "symbols": []},
    {"name": "default$ebnf$1", "symbols": ["default$ebnf$1", "stmt"], "postprocess": (d) => d[0].concat([d[1]])},
    {"name": "default", "symbols": [{"literal":"default"}, {"literal":":"}, "default$ebnf$1"], "postprocess": d => d[2]},
    {"name": "vardecl$ebnf$1", "symbols": ["initializer"], "postprocess": id},
    {"name": "vardecl$ebnf$1", "symbols": [], "postprocess": () => null},
    {"name": "vardecl", "symbols": ["declarator", "vardecl$ebnf$1", "moredecls"], "postprocess": d => ({ k: 'decl', decls: [{ ...d[0], init: d[1] ?? undefined }, ...d[2].map((m: T) => ({ name: m.name, type: d[0].type, init: m.init, pos: m.pos }))], pos: d[0].pos })},
    {"name": "moredecls", "symbols": [], "postprocess": () => []},
    {"name": "moredecls$ebnf$1", "symbols": ["initializer"], "postprocess": id},
    {"name": "moredecls$ebnf$1", "symbols": [], "postprocess": () => null},
    {"name": "moredecls", "symbols": ["moredecls", {"literal":","}, (lexer.has("ident") ? {type: "ident"} : ident), "moredecls$ebnf$1"], "postprocess": d => [...d[0], { name: d[2].value, init: d[3] ?? undefined, pos: pos(d[2]) }]},
    {"name": "expr", "symbols": ["assign"], "postprocess": d => d[0]},
    {"name": "assign", "symbols": ["cond"], "postprocess": d => d[0]},
    {"name": "assign", "symbols": ["unary", "assignop", "assign"], "postprocess": d => ({ k: 'assign', op: d[1].value, target: d[0], value: d[2], pos: pos(d[1]) })},
    {"name": "assignop", "symbols": [{"literal":"="}], "postprocess": d => d[0]},
    {"name": "assignop", "symbols": [{"literal":"+="}], "postprocess": d => d[0]},
    {"name": "assignop", "symbols": [{"literal":"-="}], "postprocess": d => d[0]},
    {"name": "assignop", "symbols": [{"literal":"*="}], "postprocess": d => d[0]},
    {"name": "assignop", "symbols": [{"literal":"/="}], "postprocess": d => d[0]},
    {"name": "assignop", "symbols": [{"literal":"%="}], "postprocess": d => d[0]},
    {"name": "assignop", "symbols": [{"literal":"&="}], "postprocess": d => d[0]},
    {"name": "assignop", "symbols": [{"literal":"|="}], "postprocess": d => d[0]},
    {"name": "assignop", "symbols": [{"literal":"^="}], "postprocess": d => d[0]},
    {"name": "assignop", "symbols": [{"literal":"<<="}], "postprocess": d => d[0]},
    {"name": "assignop", "symbols": [{"literal":">>="}], "postprocess": d => d[0]},
    {"name": "assignop", "symbols": [{"literal":">>>="}], "postprocess": d => d[0]},
    {"name": "cond", "symbols": ["lor"], "postprocess": d => d[0]},
    {"name": "cond", "symbols": ["lor", {"literal":"?"}, "expr", {"literal":":"}, "cond"], "postprocess": d => ({ k: 'cond', c: d[0], a: d[2], b: d[4], pos: pos(d[1]) })},
    {"name": "lor", "symbols": ["land"], "postprocess": d => d[0]},
    {"name": "lor", "symbols": ["lor", {"literal":"||"}, "land"], "postprocess": bin},
    {"name": "land", "symbols": ["bor"], "postprocess": d => d[0]},
    {"name": "land", "symbols": ["land", {"literal":"&&"}, "bor"], "postprocess": bin},
    {"name": "bor", "symbols": ["bxor"], "postprocess": d => d[0]},
    {"name": "bor", "symbols": ["bor", {"literal":"|"}, "bxor"], "postprocess": bin},
    {"name": "bxor", "symbols": ["band"], "postprocess": d => d[0]},
    {"name": "bxor", "symbols": ["bxor", {"literal":"^"}, "band"], "postprocess": bin},
    {"name": "band", "symbols": ["equality"], "postprocess": d => d[0]},
    {"name": "band", "symbols": ["band", {"literal":"&"}, "equality"], "postprocess": bin},
    {"name": "equality", "symbols": ["relation"], "postprocess": d => d[0]},
    {"name": "equality$subexpression$1", "symbols": [{"literal":"=="}]},
    {"name": "equality$subexpression$1", "symbols": [{"literal":"!="}]},
    {"name": "equality", "symbols": ["equality", "equality$subexpression$1", "relation"], "postprocess": d => ({ k: 'binary', op: d[1][0].value, l: d[0], r: d[2], pos: pos(d[1][0]) })},
    {"name": "relation", "symbols": ["shift"], "postprocess": d => d[0]},
    {"name": "relation$subexpression$1", "symbols": [{"literal":"<"}]},
    {"name": "relation$subexpression$1", "symbols": [{"literal":"<="}]},
    {"name": "relation$subexpression$1", "symbols": [{"literal":">"}]},
    {"name": "relation$subexpression$1", "symbols": [{"literal":">="}]},
    {"name": "relation", "symbols": ["relation", "relation$subexpression$1", "shift"], "postprocess": d => ({ k: 'binary', op: d[1][0].value, l: d[0], r: d[2], pos: pos(d[1][0]) })},
    {"name": "shift", "symbols": ["additive"], "postprocess": d => d[0]},
    {"name": "shift$subexpression$1", "symbols": [{"literal":"<<"}]},
    {"name": "shift$subexpression$1", "symbols": [{"literal":">>"}]},
    {"name": "shift$subexpression$1", "symbols": [{"literal":">>>"}]},
    {"name": "shift", "symbols": ["shift", "shift$subexpression$1", "additive"], "postprocess": d => ({ k: 'binary', op: d[1][0].value, l: d[0], r: d[2], pos: pos(d[1][0]) })},
    {"name": "additive", "symbols": ["mult"], "postprocess": d => d[0]},
    {"name": "additive$subexpression$1", "symbols": [{"literal":"+"}]},
    {"name": "additive$subexpression$1", "symbols": [{"literal":"-"}]},
    {"name": "additive", "symbols": ["additive", "additive$subexpression$1", "mult"], "postprocess": d => ({ k: 'binary', op: d[1][0].value, l: d[0], r: d[2], pos: pos(d[1][0]) })},
    {"name": "mult", "symbols": ["unary"], "postprocess": d => d[0]},
    {"name": "mult$subexpression$1", "symbols": [{"literal":"*"}]},
    {"name": "mult$subexpression$1", "symbols": [{"literal":"/"}]},
    {"name": "mult$subexpression$1", "symbols": [{"literal":"%"}]},
    {"name": "mult", "symbols": ["mult", "mult$subexpression$1", "unary"], "postprocess": d => ({ k: 'binary', op: d[1][0].value, l: d[0], r: d[2], pos: pos(d[1][0]) })},
    {"name": "unary", "symbols": ["postfix"], "postprocess": d => d[0]},
    {"name": "unary$subexpression$1", "symbols": [{"literal":"-"}]},
    {"name": "unary$subexpression$1", "symbols": [{"literal":"!"}]},
    {"name": "unary$subexpression$1", "symbols": [{"literal":"~"}]},
    {"name": "unary$subexpression$1", "symbols": [{"literal":"+"}]},
    {"name": "unary", "symbols": ["unary$subexpression$1", "unary"], "postprocess": d => ({ k: 'unary', op: d[0][0].value, e: d[1], pos: pos(d[0][0]) })},
    {"name": "unary", "symbols": [{"literal":"("}, {"literal":":"}, "type", {"literal":")"}, "unary"], "postprocess": d => ({ k: 'cast', ty: d[2], e: d[4], pos: pos(d[0]) })},
    {"name": "unary", "symbols": [{"literal":"&"}, "qname"], "postprocess": d => ({ k: 'var', name: d[1].name, amp: true, pos: pos(d[0]) })},
    {"name": "unary$subexpression$2", "symbols": [{"literal":"++"}]},
    {"name": "unary$subexpression$2", "symbols": [{"literal":"--"}]},
    {"name": "unary", "symbols": ["unary$subexpression$2", "unary"], "postprocess": d => ({ k: 'incdec', op: d[0][0].value, prefix: true, target: d[1], pos: pos(d[0][0]) })},
    {"name": "postfix", "symbols": ["primary"], "postprocess": d => d[0]},
    {"name": "postfix", "symbols": ["postfix", {"literal":"["}, "expr", {"literal":"]"}], "postprocess": d => ({ k: 'index', a: d[0], i: d[2], pos: pos(d[1]) })},
    {"name": "postfix", "symbols": ["postfix", {"literal":"."}, (lexer.has("ident") ? {type: "ident"} : ident)], "postprocess": d => ({ k: 'field', e: d[0], name: d[2].value, pos: pos(d[1]) })},
    {"name": "postfix", "symbols": ["postfix", {"literal":"."}, (lexer.has("number") ? {type: "number"} : number)], "postprocess": d => ({ k: 'proj', e: d[0], index: Number(d[2].value), pos: pos(d[1]) })},
    {"name": "postfix", "symbols": ["postfix", {"literal":"("}, "args", {"literal":")"}], "postprocess": d => ({ k: 'call', fn: d[0], args: d[2], pos: pos(d[1]) })},
    {"name": "postfix", "symbols": ["postfix", {"literal":"@"}, "typeargs"], "postprocess": d => ({ k: 'inst', e: d[0], args: d[2], pos: pos(d[1]) })},
    {"name": "postfix$subexpression$1", "symbols": [{"literal":"++"}]},
    {"name": "postfix$subexpression$1", "symbols": [{"literal":"--"}]},
    {"name": "postfix", "symbols": ["postfix", "postfix$subexpression$1"], "postprocess": d => ({ k: 'incdec', op: d[1][0].value, prefix: false, target: d[0], pos: pos(d[1][0]) })},
    {"name": "primary", "symbols": [(lexer.has("number") ? {type: "number"} : number)], "postprocess": d => ({ k: 'int', value: Number(d[0].value), pos: pos(d[0]) })},
    {"name": "primary", "symbols": [(lexer.has("charlit") ? {type: "charlit"} : charlit)], "postprocess": d => { const b = lit(d[0].value.slice(1, -1), pos(d[0]), Diag.BadCharacterLiteral); if (b.length !== 1) throw new LiteralError(pos(d[0]), Diag.CharacterLiteralOneByte, ''); return { k: 'char', value: b[0], pos: pos(d[0]) }; }},
    {"name": "primary", "symbols": [(lexer.has("strlit") ? {type: "strlit"} : strlit)], "postprocess": d => ({ k: 'string', bytes: lit(d[0].value.slice(1, -1), pos(d[0]), Diag.BadStringLiteral), pos: pos(d[0]) })},
    {"name": "primary", "symbols": [{"literal":"true"}], "postprocess": d => ({ k: 'bool', value: true, pos: pos(d[0]) })},
    {"name": "primary", "symbols": [{"literal":"false"}], "postprocess": d => ({ k: 'bool', value: false, pos: pos(d[0]) })},
    {"name": "primary", "symbols": [{"literal":"null"}], "postprocess": d => ({ k: 'null', pos: pos(d[0]) })},
    {"name": "primary", "symbols": ["qname"], "postprocess": d => ({ k: 'var', name: d[0].name, pos: d[0].pos })},
    {"name": "primary", "symbols": [{"literal":"("}, "expr", {"literal":")"}], "postprocess": d => d[1]},
    {"name": "primary", "symbols": [{"literal":"("}, "expr", {"literal":","}, "exprlist1", {"literal":")"}], "postprocess": d => ({ k: 'seq', es: [d[1], ...d[3]], pos: pos(d[0]) })},
    {"name": "primary", "symbols": [{"literal":"new"}, "qname", {"literal":"("}, "args", {"literal":")"}], "postprocess": d => ({ k: 'new', name: d[1].name, args: d[3], pos: pos(d[0]) })},
    {"name": "primary", "symbols": [{"literal":"^"}, {"literal":"("}, "args", {"literal":")"}], "postprocess": d => ({ k: 'tuple', elems: d[2], pos: pos(d[0]) })},
    {"name": "primary", "symbols": [{"literal":"^"}, "qname", {"literal":"("}, "args", {"literal":")"}], "postprocess": d => ({ k: 'new', name: d[1].name, args: d[3], pos: pos(d[0]) })},
    {"name": "primary", "symbols": [{"literal":"fun"}, "type", {"literal":"("}, "params", {"literal":")"}, "block"], "postprocess": d => ({ k: 'lambda', decl: { k: 'fun', ret: d[1], name: '', tparams: [], params: d[3], body: d[5], pos: pos(d[0]) }, pos: pos(d[0]) })},
    {"name": "primary", "symbols": [{"literal":"new"}, {"literal":"("}, "args", {"literal":")"}], "postprocess": d => ({ k: 'tuple', elems: d[2], pos: pos(d[0]) })},
    {"name": "primary", "symbols": [{"literal":"%"}, {"literal":"("}, "args", {"literal":")"}], "postprocess": d => ({ k: 'tuple', elems: d[2], pos: pos(d[0]) })},
    {"name": "primary$subexpression$1", "symbols": [{"literal":"new"}]},
    {"name": "primary$subexpression$1", "symbols": [{"literal":"^"}]},
    {"name": "primary", "symbols": ["primary$subexpression$1", "qname", {"literal":"."}, (lexer.has("ident") ? {type: "ident"} : ident), {"literal":"("}, "args", {"literal":")"}], "postprocess": d => ({ k: 'new', name: d[1].name, variant: d[3].value, args: d[5], pos: pos(d[0][0]) })},
    {"name": "args", "symbols": [], "postprocess": () => []},
    {"name": "args", "symbols": ["args1"], "postprocess": d => d[0]},
    {"name": "args1", "symbols": ["expr"], "postprocess": d => [d[0]]},
    {"name": "args1", "symbols": ["args1", {"literal":","}, "expr"], "postprocess": d => [...d[0], d[2]]}
  ],
  ParserStart: "program",
};

export default grammar;
