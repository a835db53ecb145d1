// By hand: where a code-quality program's instructions go, popc's binary against gcc's (bench/quality.ts builds
// both). Each binary runs on the kernel in user mode one instruction at a time (Kernel.run(1)), the program's eip
// counted before each step; GNU objdump's disassembly of the same ELF names each address's instruction, so the
// counts come out by kind of instruction: loads and stores of stack slots ([esp+n], where popc keeps locals and
// temporaries), pushes and pops, the run-time checks (a compare and a conditional jump to the site's failure stub,
// which popc names L…_fail: the bounds, null and division checks gcc has none of), other compares and conditional
// jumps, and so on. The kernel's own instructions (its
// entry code, above the user address space) are left out. Stepping is slow (about 100,000 instructions a second),
// so it runs the quick inputs by default.
//
//   npx tsx bench/quality-profile.ts PROGRAM [--full] [--level N]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootKernel, start } from '../kernel/talrun.ts';
import { QUALITY_PROGRAMS, buildC, buildPopcorn, levelFlag, programInput } from './quality.ts';

/** The kinds the report counts, in its order; `kindOf` decides. */
const KINDS = [
  'run-time check (compare, jump to its stub)', 'load of a stack slot', 'store to a stack slot', 'other mov', 'push',
  'pop', 'cmp / test', 'conditional jump', 'jmp', 'call / ret', 'inc / dec', 'add / sub', 'div / idiv', 'mul / imul',
  'other',
] as const;
type Kind = typeof KINDS[number];

/** The kind of an instruction from objdump's Intel-syntax mnemonic and operands. */
export function kindOf(mnemonic: string, operands: string): Kind {
  if (mnemonic === 'mov') {
    const [dst, src] = operands.split(/,(?![^[]*\])/);
    if (/\[esp[+\]]/.test(src ?? '')) return 'load of a stack slot';
    if (/\[esp[+\]]/.test(dst)) return 'store to a stack slot';
    return 'other mov';
  }
  if (mnemonic === 'push') return 'push';
  if (mnemonic === 'pop') return 'pop';
  if (mnemonic === 'cmp' || mnemonic === 'test') return 'cmp / test';
  if (/^j/.test(mnemonic)) return mnemonic === 'jmp' ? 'jmp' : 'conditional jump';
  if (mnemonic === 'call' || mnemonic === 'ret') return 'call / ret';
  if (mnemonic === 'inc' || mnemonic === 'dec') return 'inc / dec';
  if (mnemonic === 'add' || mnemonic === 'sub') return 'add / sub';
  if (mnemonic === 'div' || mnemonic === 'idiv') return 'div / idiv';
  if (mnemonic === 'mul' || mnemonic === 'imul') return 'mul / imul';
  return 'other';
}

/** The check kind, the one `kindOf` cannot see alone: it needs the jump's target and the instruction before it. */
const CHECK: Kind = 'run-time check (compare, jump to its stub)';

/** Address → kind, from `objdump -d -M intel`. */
function disassemble(file: string): Map<number, Kind> {
  const text = execFileSync('objdump', ['-d', '-M', 'intel', '--no-show-raw-insn', file], {
    encoding: 'utf8', maxBuffer: 1 << 28,
  });
  const out = new Map<number, Kind>();
  let previous: [number, string] | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s*([0-9a-f]+):\s+(?:(?:rep|repz|repnz|lock)\s+)?([a-z][a-z0-9]*)\s*([^<#]*)(<[^>]*>)?/.exec(line);
    if (!m) continue;
    const address = parseInt(m[1], 16);
    if (m[2].startsWith('j') && m[2] !== 'jmp' && /_fail>/.test(m[4] ?? '')) {
      out.set(address, CHECK);
      if (previous && (previous[1] === 'cmp' || previous[1] === 'test')) out.set(previous[0], CHECK);
    } else {
      out.set(address, kindOf(m[2], m[3].trim()));
    }
    previous = [address, m[2]];
  }
  return out;
}

/** The program's own instructions, by kind, stepping the machine; and the total it retired. */
export function profile(file: string, argv: string[], stdin: Buffer): { byKind: Map<Kind, number>; total: number } {
  const code = disassemble(file);
  const k = bootKernel({});
  if (stdin.length) k.feedInput(stdin);
  k.endInput();
  const pid = start(k, new Uint8Array(readFileSync(file)), argv, {});
  if (typeof pid !== 'number') throw new Error(`${file}: ${pid.message}`);
  k.mainPid = pid;
  const byKind = new Map<Kind, number>(KINDS.map(x => [x, 0]));
  const cpu = k.machine.cpu;
  while (!k.exits.has(pid)) {
    const kind = code.get(cpu.eip >>> 0);
    const exit = k.run(1);
    if (kind) byKind.set(kind, byKind.get(kind)! + 1);
    if (exit === 'done' || exit === 'panic' || exit === 'hung' || exit === 'idle') break;
  }
  return { byKind, total: cpu.instructions() };
}

if (import.meta.filename === process.argv[1]) {
  const name = process.argv[2];
  const p = QUALITY_PROGRAMS.find(x => x.name === name);
  const l = process.argv.indexOf('--level');
  const level = l > 0 ? Number(process.argv[l + 1]) : 0;
  if (!p || !Number.isInteger(level)) {
    console.error(`usage: npx tsx bench/quality-profile.ts PROGRAM [--full] [--level N]; programs: ` +
      QUALITY_PROGRAMS.map(x => x.name).join(', '));
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'ktal-quality-profile-'));
  try {
    const { args, stdin } = programInput(p, process.argv.includes('--full') ? 'full' : 'quick');
    buildC(p.name, join(dir, 'gcc'));
    buildPopcorn(p.name, level, join(dir, 'popc'));
    const gcc = profile(join(dir, 'gcc'), [p.name, ...args], stdin);
    const popc = profile(join(dir, 'popc'), [p.name, ...args], stdin);
    const sum = (m: Map<Kind, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const own = [sum(gcc.byKind), sum(popc.byKind)], surplus = own[1] - own[0];
    const int = (x: number) => x.toLocaleString('en');
    console.log(`${p.name} ${args.join(' ')}: the programs' own instructions (the kernel's left out), gcc -O2 ` +
      `${int(own[0])} of ${int(gcc.total)}, popc ${levelFlag(level)} ${int(own[1])} of ${int(popc.total)}\n`);
    console.log(`| kind | gcc -O2 | popc ${levelFlag(level)} | popc − gcc | share of the surplus |`);
    console.log('|---|---:|---:|---:|---:|');
    for (const kind of KINDS) {
      const a = gcc.byKind.get(kind)!, b = popc.byKind.get(kind)!;
      if (!a && !b) continue;
      console.log(`| ${kind} | ${int(a)} | ${int(b)} | ${b - a >= 0 ? '+' : ''}${int(b - a)} | ` +
        `${Math.round((100 * (b - a)) / surplus) || 0}% |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
