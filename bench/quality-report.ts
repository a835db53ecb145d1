// The code-quality section of bench/REPORT.md (bench/report.ts places it): the popc/gcc ratios of the programs of
// bench/quality/ (bench/quality.ts measures them), their geometric means beside the goal of issue 17, and for the
// program with the worst instruction ratio where popc's extra instructions go, by the cost model's classes. Every
// figure comes from the run's results.
import { CLASS_NAMES } from '../emulator/stats.ts';
import {
  QUALITY_GOAL, qualityGeomean, qualityRatio, type QualityFigures, type QualityProgramFigures, type RatioKind,
} from './quality.ts';

const int = (x: number) => Math.round(x).toLocaleString('en');
const times = (x: number | undefined) => (x === undefined ? '–' : `${x.toFixed(2)}×`);
const ms = (s: number) => `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;

/** The program with the largest instruction ratio at `level`. */
export function worstProgram(q: QualityFigures, level: string): QualityProgramFigures | undefined {
  let worst: QualityProgramFigures | undefined;
  for (const p of q.programs) {
    const r = qualityRatio(p, level, 'instructions');
    if (r !== undefined && (!worst || r > qualityRatio(worst, level, 'instructions')!)) worst = p;
  }
  return worst;
}

/** A run's input: argv[1], or the bytes on standard input. */
const inputOf = (argv: string[], stdinBytes: number) =>
  (argv.length > 1 ? argv.slice(1).join(' ') : `${int(stdinBytes / 1024)} KiB on stdin`);
const input = (p: QualityProgramFigures) =>
  `${inputOf(p.argv, p.stdinBytes)} / ${inputOf(p.nativeArgv, p.nativeStdinBytes)}`;

function levelTable(q: QualityFigures, level: string): string[] {
  const L = [
    `| program | what | input, emulated / native | gcc -O2 instructions | popc ${level} instructions | ratio | ` +
      'gcc cycles | popc cycles | ratio | gcc native | popc native | ratio | gcc compile | popc compile |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const p of q.programs) {
    const c = p.popc[level];
    if (!c) continue;
    L.push(`| ${p.name} | ${p.what} | ${input(p)} | ${int(p.gcc.instructions)} | ${int(c.instructions)} | ` +
      `${times(qualityRatio(p, level, 'instructions'))} | ${int(p.gcc.cycles)} | ${int(c.cycles)} | ` +
      `${times(qualityRatio(p, level, 'cycles'))} | ${ms(p.gcc.nativeSeconds)} | ${ms(c.nativeSeconds)} | ` +
      `${times(qualityRatio(p, level, 'nativeSeconds'))} | ${ms(p.gcc.compileSeconds)} | ${ms(c.compileSeconds)} |`);
  }
  const mean = (kind: RatioKind) => `**${times(qualityGeomean(q, level, kind))}**`;
  L.push(`| **geometric mean** | | | | | ${mean('instructions')} | | | ${mean('cycles')} | | | ` +
    `${mean('nativeSeconds')} | | |`);
  return L;
}

/** Where the worst program's extra instructions go: each class's count for both, and popc's surplus. */
function worstByClass(q: QualityFigures, level: string): string[] {
  const w = worstProgram(q, level);
  if (!w) return [];
  const c = w.popc[level];
  const surplus = c.instructions - w.gcc.instructions;
  const rows = CLASS_NAMES.filter(k => w.gcc.byClass[k] || c.byClass[k]).map(k => {
    const d = c.byClass[k] - w.gcc.byClass[k];
    return `| ${k} | ${int(w.gcc.byClass[k])} | ${int(c.byClass[k])} | ${d >= 0 ? '+' : ''}${int(d)} | ` +
      `${surplus ? `${Math.round((100 * d) / surplus) || 0}%` : '–'} |`;
  });
  return [
    `The worst instruction ratio at ${level} is **${w.name}** (${w.what}), ` +
      `${times(qualityRatio(w, level, 'instructions'))}: popc's code retires ${int(surplus)} more instructions than ` +
      'gcc\'s. By the cost model\'s classes (a memory operand read makes an instruction a load, one written a store; ' +
      'docs/machine.md):', '',
    `| class | gcc -O2 | popc ${level} | popc − gcc | share of the surplus |`,
    '|---|---:|---:|---:|---:|',
    ...rows, '',
  ];
}

export function qualitySection(q: QualityFigures | undefined): string[] {
  const L = ['## Code quality: popc against gcc -O2', ''];
  if (!q) return [...L, 'Not run.', ''];
  if (q.skipped) return [...L, `Skipped: ${q.skipped}. The C side needs gcc with i386 code generation.`, ''];
  L.push(`Measured ${q.measuredAt}. ` +
    'Each program of `bench/quality/` is written twice, in Popcorn and in C, and both print the same bytes and ' +
    'exit with the same status (checked in every run). The C is compiled by ' +
    `${q.gccVersion} with \`${q.gccFlags.join(' ')}\` (freestanding, against \`bench/quality/c/\`'s start file and ` +
    'library: buffered output, brk allocation, the system calls); the Popcorn by popc, every bounds, null and ' +
    'division check kept and the result verified. **Instructions** and **cycles** are **simulated**: retired on the ' +
    `emulated machine in user mode, as \`talrun --stats\` counts them, under the \`${q.profile}\` profile, the ` +
    'kernel\'s entry code included for both (the host has no performance counters for `perf stat`). **Native** ' +
    `times are *wall-clock* on this host, the best of ${q.runs} run${q.runs > 1 ? 's' : ''} with process start ` +
    'included (about a millisecond), at a larger input than the emulated runs\' where the run is a full one (the ' +
    'input column), so that the work outweighs process start; they move with the host\'s load. **Compile** times ' +
    'are *wall-clock* too (popc: ' +
    `${q.programs[0] ? Object.values(q.programs[0].popc)[0]?.compileTimedAs ?? '' : ''}; gcc: the driver, ` +
    'assembler and linker included; *compiling find.pop* is popc\'s time for `compiler/examples/find.pop`, its ' +
    'largest program, best of three in a full run). Ratios are popc / gcc; means are geometric.', '');
  L.push('| popc level | instructions | cycles | native time | goal (instructions) | compiling find.pop |',
    '|---|---:|---:|---:|---:|---:|');
  for (const level of q.levels) {
    const g = qualityGeomean(q, level, 'instructions');
    L.push(`| ${level} | **${times(g)}** | ${times(qualityGeomean(q, level, 'cycles'))} | ` +
      `${times(qualityGeomean(q, level, 'nativeSeconds'))} | ≤ ${QUALITY_GOAL}× ` +
      `(${g !== undefined && g <= QUALITY_GOAL ? 'met' : 'not met'}) | ` +
      `${q.findCompileSeconds?.[level] === undefined ? '–' : ms(q.findCompileSeconds[level])} |`);
  }
  L.push('');
  for (const level of q.levels) {
    L.push(`### popc ${level}`, '', ...levelTable(q, level), '', ...worstByClass(q, level));
  }
  L.push('What holds the ratio back, from the generated code (`popc -S`, `objdump -d`): `bench/README.md`, ' +
    '"Code quality".', '');
  return L;
}
