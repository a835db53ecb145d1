// A generator of well-typed TAL programs with an exception handler, by construction (as popgen.ts builds popc
// programs): main installs a handler frame in STAL's way (docs/tal.md §4.10; Morrisett, Crary, Glew and Walker,
// "Stack-based typed assembly language", 1998): a word of its own, the handler's address on top, and ebp: sptr(…) to
// it. Then a chain of 1 to 5 functions, each with a frame of 0 to 4 local words, calls down; each may raise to the
// handler (`mov esp, ebp; ret`, from any depth, discarding every frame above main's) or return. Every function's
// type names the whole stack down to the handler frame, so each is well typed by construction. The generator also
// computes the exit status the program must end with, by running the same plan in TypeScript: an oracle that does not
// share the checker's or the emulator's code.
import type { Rand } from './popgen.ts';

export interface HandlerProgram {
  readonly source: string;
  /** The exit status the program ends with (0..255). */
  readonly status: number;
  /** How many frames the raise discards (0: it returns normally). */
  readonly raisedThrough: number;
}

interface Frame {
  /** Values of the locals the function pushes, first pushed first. */
  readonly locals: number[];
  /** What the function does after its callee returns (or, for the last, instead of calling). */
  readonly raises: boolean;
  /** A constant it adds to the result. */
  readonly add: number;
}

const HANDLER_TYPE = 'code[t:stack]{eax: int, esp: int :: t}';

export function handlerProgram(rand: Rand): HandlerProgram {
  const n = rand.int(1, 5);
  const frames: Frame[] = [];
  for (let i = 0; i < n; i++) {
    const locals = Array.from({ length: rand.int(0, 4) }, () => rand.int(0, 1000));
    frames.push({ locals, raises: rand.int(0, 3) === 0, add: rand.int(0, 300) });
  }
  const mark = rand.int(0, 255);

  // The oracle: the innermost function returns its constant; each caller adds its top local (if any) and its constant
  // to what its callee returned, then raises or returns. A raise ends the program in the handler: value + mark.
  let value = 0, status = -1, raisedThrough = 0;
  for (let i = n - 1; i >= 0; i--) {
    const f = frames[i];
    if (i < n - 1 && f.locals.length > 0) value += f.locals[f.locals.length - 1];
    value = (value + f.add) | 0;
    if (f.raises) {
      status = (value + mark) & 255;
      raisedThrough = i + 1;
      break;
    }
  }
  if (status < 0) status = value & 255;

  // Stack types: below function i's return address, STACK(i); its frame: its locals, then its return address.
  const base = `hp :: int :: r`;
  const stackBelow: string[] = [base];
  for (let i = 1; i < n; i++) {
    const ints = frames[i - 1].locals.map(() => 'int :: ').join('');
    stackBelow.push(`${ints}ret${i - 1}<r> :: ${stackBelow[i - 1]}`);
  }
  const sp = 'ebp: sptr(hp :: int :: r)';
  const out = [
    '.intel_syntax noprefix',
    '.tal_import exit',
    `.tal_type hp = ${HANDLER_TYPE}`,
  ];
  for (let i = 0; i < n; i++) out.push(`.tal_type ret${i}<r:stack> = code{eax: int, ${sp}, esp: ${stackBelow[i]}}`);
  out.push(
    '.text',
    '.tal_label main : code[r:stack]{esp: r}',
    'main:',
    `    push ${mark}`,
    '    push OFFSET handler',
    '    mov ebp, esp',
    '    call f0',
    '    push eax',
    '    call DWORD PTR [exit]',
    `.tal_label handler : ${HANDLER_TYPE}`,
    'handler:',
    '    add eax, DWORD PTR [esp]',
    '    push eax',
    '    call DWORD PTR [exit]',
  );
  for (let i = 0; i < n; i++) {
    const f = frames[i];
    out.push(`.tal_label f${i} : code[r:stack]{${sp}, esp: ret${i}<r> :: ${stackBelow[i]}}`, `f${i}:`);
    for (const v of f.locals) out.push(`    push ${v}`);
    if (i < n - 1) {
      out.push(`    call f${i + 1}`);
      if (f.locals.length > 0) out.push('    add eax, DWORD PTR [esp]');
      out.push(`    add eax, ${f.add}`);
    } else {
      out.push(`    mov eax, ${f.add}`);
    }
    if (f.raises) {
      out.push('    mov esp, ebp', '    ret');
    } else {
      if (f.locals.length > 0) out.push(`    add esp, ${4 * f.locals.length}`);
      out.push('    ret');
    }
  }
  return { source: out.join('\n') + '\n', status, raisedThrough };
}

/**
 * Source-level mutants aimed at the new rules: each changes one line of a generated program the way a careless or
 * hostile writer of handler code would (an sptr moved by arithmetic, taken at another depth, a restore from another
 * register, a frame one word off, a handler slot replaced). Most are refused; any the checker accepts must still run
 * without harm.
 */
export function handlerMutant(source: string, rand: Rand): string {
  const lines = source.split('\n');
  const code = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('    '));
  const [line, at] = code[rand.int(0, code.length - 1)];
  const kinds: (() => string[])[] = [
    () => [], // delete it
    () => [line, '    add ebp, 4'],
    () => [line, '    sub ebp, 4'],
    () => [line, '    push 7'],
    () => [line, '    add esp, 4'],
    () => [line, '    mov ebp, esp'],
    () => [line.replace('mov esp, ebp', 'mov esp, ebx').replace('mov ebp, esp', 'mov ebx, esp')],
    () => [line.includes('OFFSET handler')
      ? line.replace('push OFFSET handler', 'push 5')
      : line.replace(/push \d+/, 'push OFFSET handler')],
    () => [line.replace(/add esp, (\d+)/, (_, k: string) => `add esp, ${Number(k) + 4 * (rand.int(0, 1) * 2 - 1)}`)],
    () => [line, '    mov esp, ebp'],
    () => [line, '    mov esp, ebp', '    ret'],
  ];
  const kind = rand.int(0, kinds.length);
  if (kind === kinds.length) {
    // Two lines: an sptr taken after one instruction and restored after another, anywhere later in the program
    // (in another function, after frames have been popped and pushed again).
    const [, later] = code[rand.int(0, code.length - 1)];
    const [first, second] = at <= later ? [at, later] : [later, at];
    return [...lines.slice(0, first + 1), '    mov ebx, esp', ...lines.slice(first + 1, second + 1), '    mov esp, ebx',
      ...lines.slice(second + 1)].join('\n');
  }
  return [...lines.slice(0, at), ...kinds[kind](), ...lines.slice(at + 1)].join('\n');
}
