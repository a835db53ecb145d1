// The encoder oracle: for every instruction form talas can encode, its bytes equal GNU `as --32`'s. The cases are
// generated systematically (test/util/x86cases.ts) plus a seeded random portion; each group costs one `as` run.
import test, { type ExecutionContext } from 'ava';
import { encode, branchLengths } from '../../tal/x86/encode.ts';
import { parseInstruction, resolveOperands } from '../../tal/x86/parse.ts';
import { type AsmOperand } from '../../tal/x86/insn.ts';
import { haveBinutils, gnuAssembleDetailed, gnuTryAssemble, type AssembleOptions } from '../util/binutils.ts';
import {
  type Case, subsetCases, refusedCases, rejectedCases, symbolCases, branchProgram, absoluteBranchCases, randomCases, SYMBOL_EPILOGUE,
} from '../util/x86cases.ts';

const hex = (bytes: number[] | string) => (typeof bytes === 'string' ? bytes
  : bytes.map(b => b.toString(16).padStart(2, '0')).join(' '));

/** Our bytes for one instruction, or the error the parser or the encoder gave. */
function ours(text: string, address: number, lookup: (s: string) => number | undefined,
  short?: boolean): number[] | string {
  try {
    const p = parseInstruction(text);
    const ops: AsmOperand[] = resolveOperands(p, lookup);
    if (short !== undefined && branchLengths(p.mnemonic) && ops[0]?.kind === 'rel') ops[0] = { ...ops[0], short };
    return encode(p.mnemonic, ops, address);
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

/** Assembles `texts` with GNU as and with talas; every difference, one line each. */
function compare(texts: string[], opts: AssembleOptions = {},
  shortOf?: (i: number, address: number) => boolean | undefined, symbols = false): string[] {
  const gnu = gnuAssembleDetailed(texts, opts);
  // Numeric-only cases resolve no symbol at all (a case naming one by mistake fails).
  const lookup = symbols ? (s: string) => gnu.symbols.get(s) : () => undefined;
  const mismatches: string[] = [];
  texts.forEach((text, i) => {
    const mine = ours(text, gnu.addresses[i], lookup, shortOf?.(i, gnu.addresses[i]));
    if (hex(mine) !== hex(gnu.bytes[i]))
      mismatches.push(`${text.padEnd(44)} ours: ${hex(mine).padEnd(36)} gnu: ${hex(gnu.bytes[i])}`);
  });
  return mismatches;
}

/** Passes if there is no mismatch; otherwise fails once, listing all of them. */
function expectNone(t: ExecutionContext, mismatches: string[], total: number): void {
  if (mismatches.length) t.fail(`${mismatches.length} of ${total} cases differ from GNU as:\n${mismatches.join('\n')}`);
  else t.pass();
}

if (!haveBinutils()) {
  if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0')
    test('GNU binutils are installed', t => t.fail('as/ld/nm/objcopy/objdump not found (CI installs binutils)'));
  else test.skip('encoder oracle (GNU binutils not installed)', () => {});
} else {
  const texts = (cs: Case[]) => cs.map(c => c.text);

  test('every form of the TAL subset: talas bytes equal GNU as', t => {
    const cases = texts(subsetCases());
    const m = compare(cases);
    t.log(`${cases.length} cases`);
    t.true(cases.length > 5000);
    expectNone(t, m, cases.length);
  });

  test('instructions outside the subset that the encoder knows', t => {
    const cases = texts(refusedCases());
    const m = compare(cases);
    t.log(`${cases.length} cases`);
    expectNone(t, m, cases.length);
  });

  test('operands naming symbols are 32 bits wide; a bare symbol is memory, OFFSET sym an immediate', t => {
    const cases = symbolCases();
    const m = compare(cases, { epilogue: SYMBOL_EPILOGUE }, undefined, true);
    t.log(`${cases.length} cases`);
    expectNone(t, m, cases.length);
  });

  test('jmp, jcc and call to labels: short and long forms chosen as GNU relaxes them', t => {
    const prog = branchProgram();
    const gnu = gnuAssembleDetailed(prog.lines, { textAddress: 0x8048000 });
    const mismatches: string[] = [];
    let shorts = 0;
    for (const b of prog.branches) {
      const addr = gnu.addresses[b.line];
      const target = gnu.symbols.get(b.label)!;
      const lens = branchLengths(b.mnemonic);
      // The relaxed layout: a jump is short exactly when its target is in rel8 range of the short form.
      const short = lens !== null && target - (addr + lens.short) >= -128 && target - (addr + lens.short) <= 127;
      if (short) shorts++;
      const mine = ours(prog.lines[b.line], addr, s => gnu.symbols.get(s), short);
      if (hex(mine) !== hex(gnu.bytes[b.line]))
        mismatches.push(`${prog.lines[b.line]} (at 0x${addr.toString(16)} to 0x${target.toString(16)}) ours: ` +
          `${hex(mine)} gnu: ${hex(gnu.bytes[b.line])}`);
    }
    t.log(`${prog.branches.length} branches, ${shorts} short`);
    t.true(shorts > 100 && prog.branches.length - shorts > 100);
    expectNone(t, mismatches, prog.branches.length);
  });

  test('jmp, jcc and call to absolute addresses take the long form', t => {
    const cases = absoluteBranchCases();
    const m = compare(cases, { textAddress: 0x8048000 }, () => false);
    t.log(`${cases.length} cases`);
    expectNone(t, m, cases.length);
  });

  test('what GNU as refuses, talas refuses', t => {
    const cases = rejectedCases();
    const gnu = gnuTryAssemble(cases);
    const bad: string[] = [];
    cases.forEach((text, i) => {
      const mine = ours(text, 0, () => undefined);
      if (typeof gnu[i] !== 'string') bad.push(`${text}: GNU as accepts it (${hex(gnu[i])}); the case is wrong`);
      else if (typeof mine !== 'string') bad.push(`${text}: talas encodes ${hex(mine)}; GNU as: ${gnu[i]}`);
    });
    t.log(`${cases.length} cases`);
    expectNone(t, bad, cases.length);
  });

  test('seeded random instructions of the subset', t => {
    const cases = texts(randomCases(4000, 0x7a1));
    const m = compare(cases);
    t.log(`${cases.length} cases`);
    expectNone(t, m, cases.length);
  });
}
