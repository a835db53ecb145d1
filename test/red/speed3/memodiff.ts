// Differential for the jump memo (Checker.passedBefore compares only the registers its target names): random
// programs whose one block jumps many times, from many states, to a few targets; each target names a random subset
// of the registers with random types (int, a singleton, a pointer, a nullable pointer, an array) and one of two
// stack types. Between the jumps the block rewrites registers (constants, pointers, nullable loads), tests them for
// null (a refined copy on one edge), makes and drops bounds facts, pushes and pops. Each program is checked by the
// old checker (OLD's sources) and this tree's, the whole result compared. usage: OLD=tree tsx memodiff.ts SEED COUNT
// TARGETS and LEN bound the number of targets and of steps (default 3 and 40): with TARGETS above 8 a block's stack
// meets more target types than StackMemo's list holds, and the rest go to its map (redspeed4: TARGETS=30 LEN=120).
const OLD = process.env.OLD ?? '/work/main';
import { assemble } from '../../../tal/asm/assembler.ts';
import * as BC from '../../../tal/check/checker.ts';
const MC: typeof import('../../../tal/check/checker.ts') = await import(`${OLD}/tal/check/checker.ts`);
let seed = Number(process.argv[2] ?? 1);
const COUNT = Number(process.argv[3] ?? 2000);
// mulberry32 (an LCG's low bits repeat within a few programs here).
const rnd = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const ri = (n: number) => Math.floor(rnd() * n);
const pick = <T>(a: readonly T[]): T => a[ri(a.length)];
const REGS = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp'];
// NOWORK=1: the work units are not compared (OLD a tree whose memo is off under NOMEMO=1: /tmp/nomemo in speed.md).
const NOWORK = !!process.env.NOWORK;
const show = (r: BC.CheckResult) => JSON.stringify(r.ok ? { ok: true, work: NOWORK ? 0 : r.work } : { e: r.error,
  work: NOWORK ? 0 : r.work });
// A model of what each register holds (its type in the checker's words, or junk), so that most programs get far.
type Kind = 'int' | 'S(5)' | '*[int^rw]' | '?*[int^rw]' | '*arr(int)' | '*[int^r]' | 'junk';
function program(): string {
  const targets = 1 + ri(Number(process.env.TARGETS ?? 3));
  const out = ['.intel_syntax noprefix', '.tal_import exit', '.text', '.tal_label main : code[r:stack]{esp: r}',
    'main:'];
  const kind = new Map<string, Kind>(REGS.map(r => [r, 'junk']));
  const stack: Kind[] = [];
  // A target's type: the state of its first jump, each register named with probability 1/2 (later jumps from other
  // states then match or not).
  const tys: (string | undefined)[] = [];
  const jump = (t: number, how: string) => {
    if (tys[t] === undefined) {
      const named = REGS.filter(r => kind.get(r) !== 'junk' && rnd() < 0.5)
        .map(r => `${r}: ${kind.get(r) === 'S(5)' && rnd() < 0.5 ? 'int' : kind.get(r)}`);
      tys[t] = [...named,
        `esp: ${[...stack].reverse().map(k => (k === 'S(5)' ? 'int' : k)).join(' :: ')}${stack.length ? ' :: ' : ''}r`,
      ].join(', ');
    }
    out.push(`    ${how} t${t}`);
  };
  for (let i = 0, n = 6 + ri(Number(process.env.LEN ?? 40)); i < n; i++) {
    const r = pick(REGS), t = ri(targets);
    const ptrs = REGS.filter(x => kind.get(x) === '*[int^rw]'), arrs = REGS.filter(x => kind.get(x) === '*arr(int)');
    const nulls = REGS.filter(x => kind.get(x) === '?*[int^rw]'), vals = REGS.filter(x => kind.get(x) !== 'junk');
    switch (ri(11)) {
      case 0: out.push(`    mov ${r}, 5`); kind.set(r, 'S(5)'); break;
      case 1: { const o = pick(['one', 'ro',
        'arr'] as const); out.push(`    mov ${r}, DWORD PTR [${o}c]`); kind.set(r,
          o === 'one' ? '*[int^rw]' : o === 'ro' ? '*[int^r]' : '*arr(int)'); break; }
      case 2: out.push(`    mov ${r}, DWORD PTR [cell]`); kind.set(r, '?*[int^rw]'); break;
      case 3: if (nulls.length) {
        const x = pick(nulls); out.push(`    test ${x}, ${x}`);
        if (rnd() < 0.5) { jump(t, 'je'); kind.set(x, '*[int^rw]'); } else { out.push('    je quit'); kind.set(x,
          '*[int^rw]'); jump(t, pick(['jmp',
            'jne']));
          if (!out[out.length - 1].includes('jne')) {
            out.push(`.tal_label m${i} : code[r:stack]{esp: r}`, `m${i}:`);
            REGS.forEach(q => kind.set(q, 'junk'));
            stack.length = 0;
          }
        }
      } break;
      case 4: jump(t, pick(['je', 'jne', 'jb', 'jae'])); break;
      case 5:
        if (arrs.length) {
          const a = pick(arrs);
          out.push(`    xor ${r}, ${r}`);
          kind.set(r, 'int');
          if (r !== a) { out.push(`    cmp ${r}, DWORD PTR [${a}]`); jump(t, pick(['jae', 'jb'])); }
        }
        break;
      case 6:
        if (stack.length < 3 && vals.length) {
          const x = pick(vals);
          out.push(`    push ${x}`);
          stack.push(kind.get(x)!);
        }
        break;
      case 7: if (stack.length > 0) { out.push(`    pop ${r}`); kind.set(r, stack.pop()!); } break;
      case 8:
        if (stack.length > 0 && vals.length) {
          const x = pick(vals);
          out.push(`    mov DWORD PTR [esp], ${x}`);
          stack[stack.length - 1] = kind.get(x)!;
        }
        break;
      case 9: if (vals.length) { const x = pick(vals); out.push(`    mov ${r}, ${x}`); kind.set(r,
        kind.get(x)!); } break;
      default: if (ptrs.length) out.push(`    mov DWORD PTR [${pick(ptrs)}], 1`); break;
    }
  }
  out.push('    push 0', '    call DWORD PTR [exit]');
  for (let k = 0; k < targets; k++) {
    const ty = tys[k] ?? 'esp: r';
    out.push(`.tal_label t${k} : code[r:stack]{${ty}}`, `t${k}:`);
    for (const m of ty.matchAll(/(e[a-z]{2}): \*\[int\^rw\]/g)) out.push(`    mov DWORD PTR [${m[1]}], 1`);
    out.push('    push 0', '    call DWORD PTR [exit]');
  }
  out.push('.tal_label quit : code[r:stack]{esp: r}', 'quit:', '    push 1', '    call DWORD PTR [exit]');
  out.push('.data', '.tal_label one : *[int^rw]', 'one: .long 1', '.tal_label ro : *[int^r]', 'ro: .long 1',
    '.tal_label arr : *arr(int)', 'arr: .long 1, 7', '.tal_label cell : *[?*[int^rw]^rw]', 'cell: .long one',
    '.tal_label onec : *[*[int^rw]^rw]', 'onec: .long one', '.tal_label roc : *[*[int^r]^rw]', 'roc: .long ro',
    '.tal_label arrc : *[*arr(int)^rw]', 'arrc: .long arr');
  return out.join('\n') + '\n';
}
let total = 0, diffs = 0, accepted = 0, asmFail = 0;
const classes = new Map<string, number>();
for (let i = 0; i < COUNT; i++) {
  let src = program();
  // Half the programs get one target type changed (a register's or a stack slot's type swapped for a near one):
  // some jumps then fail, others still pass, and the memo sees both.
  if (rnd() < 0.5) {
    const swaps: [RegExp, string][] = [[/\*\[int\^rw\]/, '?*[int^rw]'], [/\?\*\[int\^rw\]/, '*[int^rw]'], [/: int/,
      ': S(5)'],
      [/: S\(5\)/, ': *[int^r]'], [/\*\[int\^r\]/, '*[int^rw]'], [/\*arr\(int\)/, '*arr(S(7))'], [/esp: /,
        'esp: int :: ']];
    const lines = src.split('\n');
    const ts = lines.map((l, i) => (l.startsWith('.tal_label t') ? i : -1)).filter(i => i >= 0);
    const at = pick(ts), [re, to] = pick(swaps);
    lines[at] = lines[at].replace(re, to);
    src = lines.join('\n');
  }
  let elf: Uint8Array;
  try { elf = assemble(src, 'memo.tal').elf; } catch { asmFail++; continue; }
  total++;
  const a = MC.checkElf(elf), b = BC.checkElf(elf);
  const k = b.ok ? 'ok' : b.error.cls;
  classes.set(k, (classes.get(k) ?? 0) + 1);
  if (b.ok) accepted++;
  if (show(a) !== show(b)) { diffs++; console.log('DIFF\n', src, '\n old', show(a), '\n new', show(b)); }
}
console.log(`${total} programs (${asmFail} not assembled), ${accepted} accepted, ${diffs} differences;`,
  [...classes].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v}`).join(', '));
