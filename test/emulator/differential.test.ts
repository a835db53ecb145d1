// The differential test against the host CPU: thousands of generated 1-3 instruction sequences of the supported
// user-mode instructions (test/util/diffgen.ts: the TAL subset, and the other instructions the emulator runs), packed
// into GNU-assembled static i386 ELF files, run natively here and in the emulator (runElf: CPL 3, paging on); every
// register, the scratch and stack words, and EFLAGS (minus the flags the Intel SDM leaves undefined for the
// instructions run) must be identical. The first batch also runs with timer interrupts every 7 and every 2 cycles.
//
// CI runs 10,000 cases with a fixed seed. `KTAL_LONG=1 npm test` runs 200,000 (KTAL_DIFF_CASES=N for another
// number) from a fresh seed, printed; KTAL_SEED=S repeats a run.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { runElf } from '../util/monitor.ts';
import { haveBinutils } from '../util/binutils.ts';
import { scratch } from '../util/native.ts';
import {
  generateCases, caseElf, parseRecords, differences, mismatchReport, describeCase, marker, type DiffCase, type CaseRecord,
  ARITH_FLAGS,
} from '../util/diffgen.ts';

const flag = (v: string | undefined) => !!v && v !== '0' && v !== 'false';
const LONG = flag(process.env.KTAL_LONG);
const SEED = process.env.KTAL_SEED ? Number(process.env.KTAL_SEED) >>> 0 : LONG ? (Date.now() ^ (process.pid << 16)) >>> 0 : 0x6b74616c;
const CASES = process.env.KTAL_DIFF_CASES ? Number(process.env.KTAL_DIFF_CASES) : LONG ? 200_000 : 10_000;
const BATCH = LONG ? 10_000 : 5_000;

/** Runs an executable natively; its stdout, which must be complete (exit status 0). */
function native(elf: Uint8Array): Uint8Array {
  const s = scratch('ktal-diff-');
  try {
    const exe = s.file('cases', elf, 0o755);
    const r = spawnSync(exe, [], { maxBuffer: 1 << 30, timeout: 60_000 });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`the case program failed natively: status ${r.status}, signal ${r.signal}`);
    return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength);
  } finally {
    s.done();
  }
}

function emulate(elf: Uint8Array, count: number, timerInterval: number) {
  return runElf(elf, { maxInstructions: count * 400 + 1_000_000, timerInterval: timerInterval || undefined });
}

/** The first case whose program, cut after it, the emulator does not run to the end (by bisection). */
function firstStoppingCase(cases: DiffCase[], timerInterval: number): number | undefined {
  const stops = (n: number) => {
    const r = emulate(caseElf(cases.slice(0, n)), n, timerInterval);
    return r.exitCode !== 0 || !!r.fault || !!r.signal;
  };
  let lo = 1, hi = cases.length;
  if (!stops(hi)) return undefined;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (stops(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo - 1;
}

/** The batches of cases of this run: [first index, count, seed]. */
function batches(total: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let first = 0, k = 0; first < total; first += BATCH, k++) out.push([first, Math.min(BATCH, total - first), (SEED + k * 0x9e3779b9) >>> 0]);
  return out;
}

if (!haveBinutils()) {
  if (flag(process.env.CI)) test('GNU binutils are installed', t => t.fail('as/ld not found: the differential test needs GNU binutils (CI installs them)'));
  else test.skip('differential test against the host CPU (GNU binutils not installed)', () => {});
} else {
  test('the case program runs natively and writes one well-formed record per case', t => {
    const cases = generateCases(SEED, 2_000, { systematic: true });
    const records = parseRecords(native(caseElf(cases)), cases.length);
    const problems: string[] = [];
    const top = (records[0].regs[4] - cases[0].espEnd) >>> 0; // dg_stack_top
    cases.forEach((c, i) => {
      const r = records[i];
      if (r.marker !== marker(c.index)) problems.push(`case ${c.index}: marker ${r.marker.toString(16)}`);
      // Checks of the generator's bookkeeping: flag-neutral sequences leave EFLAGS as popped, and esp ends where
      // the generator says.
      if (c.flagNeutral && ((r.flags ^ c.flags) & ARITH_FLAGS)) problems.push(`case ${c.index} (${c.forms.join('; ')}): flags ${r.flags.toString(16)}, popped ${c.flags.toString(16)}`);
      if (r.regs[4] !== ((top + c.espEnd) >>> 0)) problems.push(`case ${c.index} (${c.forms.join('; ')}): esp ${r.regs[4].toString(16)}, expected dg_stack_top${c.espEnd >= 0 ? '+' : ''}${c.espEnd}`);
    });
    t.deepEqual(problems, []);
  });

  test('the generated cases cover every required form', t => {
    const cases = generateCases(SEED, Math.min(CASES, 6_000), { systematic: true });
    const forms = new Set(cases.flatMap(c => c.forms));
    const has = (re: RegExp) => [...forms].some(f => re.test(f));
    const required: RegExp[] = [
      ...['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'].flatMap(op => ['r,r', 'r,imm8', 'r,imm32', 'eax,imm32', 'r,m', 'm,r', 'm,imm'].map(f => new RegExp(`^${op} ${f.replace(/[,]/g, ',')}`))),
      /^test r,r/, /^test m,r/, /^test r,imm32/, /^test eax,imm32/, /^test m,imm32/,
      ...['inc', 'dec', 'not', 'neg'].flatMap(op => [new RegExp(`^${op} r$`), new RegExp(`^${op} m$`)]),
      ...['shl', 'shr', 'sar', 'rol', 'ror'].flatMap(op => [' imm 0', ' 1', ' imm', ' imm≥32', ' cl \\(masked 0', ' cl \\(masked 1', ' cl \\(masked n', ' cl≥32 \\(masked 0', ' cl≥32 \\(masked 1'].map(s => new RegExp(`^${op}${s}`))),
      /^imul r \(1-op/, /^imul m \(1-op/, /^imul r,r \(2-op/, /^imul r,m \(2-op/, /^imul r,r,imm8/, /^imul r,r,imm32/, /^imul r,m,imm/, /^mul r/, /^mul m/,
      /^div r \(INT_MIN/, /^div r \(quotient limit/, /^idiv r \(INT_MIN/, /^idiv r \(quotient limit/, /^idiv r \(by -1/, /^idiv m/, /^div m/, /^idiv edx/,
      /^cdq$/, /^movzx r,r8 \(high/, /^movsx r,r8 \(high/, /^movzx r,m8/, /^movsx r,m8/,
      /^lea \[disp32\]/, /^lea \[base\] esp/, /^lea \[base\] ebp/, /^lea \[base\+disp8\]/, /^lea \[base\+disp32\]/, /^lea \[base\+index\*s\]/, /^lea \[base\+index\*s\+disp8/, /^lea \[base\+index\*s\+disp32/, /^lea \[index\*s\+disp32/,
      ...['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'].flatMap(cc => [new RegExp(`^set${cc}$`), new RegExp(`^j${cc}$`), new RegExp(`^j${cc} back$`)]),
      /^mov r8,r8 \(high/, /^mov r8,imm8 \(high/, /^mov r8,m8/, /^mov m8,r8/, /^mov eax,moffs/, /^mov moffs,eax/, /^mov m,imm32/,
      /^push r$/, /^push esp$/, /^push imm8/, /^push imm32/, /^push m$/, /^pop r$/, /^pop m$/, /^push m \(esp-based/, /^pop m \(esp-based/,
      // beyond the TAL subset
      ...['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'].flatMap(op => ['r8,r8', 'r8,imm8', 'al,imm8', 'm8,r8', 'r8,m8', 'm8,imm8', 'r8,imm8 \\(82'].map(f => new RegExp(`^${op} ${f}`))),
      ...['shl', 'shr', 'sar', 'rol', 'ror'].flatMap(op => ['8 1', '8 imm$', '8 imm≥8', '8 cl$', '8 cl \\(≥8'].map(f => new RegExp(`^${op}${f}`))),
      ...['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'].map(cc => new RegExp(`^cmov${cc}$`)),
      /^test r8,r8/, /^test al,imm8/, /^test m8/, /^inc r8/, /^dec m8/, /^neg r8/, /^not m8/,
      /^mul8 r/, /^imul8 m/, /^div8 r \(al\/ah/, /^div8 r$/, /^idiv8 r$/, /^idiv8 m/,
      /^xchg eax,r/, /^xchg r,r/, /^xchg m,r/, /^xchg r8,r8/, /^xchg m8,r8/, /^bswap/, /^movzx r,r16/, /^movsx r,m16/, /^cwde/,
      /^sahf/, /^lahf/, /^clc/, /^stc/, /^cmc/,
      /^call rel32; pop/, /^call rel32; ret/, /^ret imm16/, /^call r32/, /^call m32/, /^jmp r32/, /^jmp m32/,
      /^rcl 1/, /^rcr 1/, /^rcl imm 1 \(C1/, /^rcr cl \(masked n/, /^rcl cl≥32/, /^rcl8 imm≥8/, /^rcr8 cl/,
      /^loop$/, /^loope$/, /^loopne$/, /^jecxz$/, /^loop back/, /^leave/, /^pusha; popa/, /^pusha \(esp/,
    ];
    const missing = required.filter(re => !has(re)).map(String);
    t.deepEqual(missing, []);
    t.log(`${forms.size} distinct forms in ${cases.length} cases`);
  });

  test(`${CASES} generated cases: the same registers, memory and defined flags natively and in the emulator (seed ${SEED})`, t => {
    let total = 0, failed = 0, instructions = 0, interrupts = 0;
    const reports: string[] = [];
    const byForm = new Map<string, number>();
    const compare = (cases: DiffCase[], nat: CaseRecord[], emu: CaseRecord[], note: string) => {
      cases.forEach((c, i) => {
        if (!differences(c, nat[i], emu[i]).length) return;
        failed++;
        for (const f of c.forms) byForm.set(f, (byForm.get(f) ?? 0) + 1);
        if (reports.length < 25) reports.push(`${note}${mismatchReport(c, nat[i], emu[i])}`);
      });
    };
    for (const [first, count, seed] of batches(CASES)) {
      const cases: DiffCase[] = generateCases(seed, count, { first, systematic: first === 0 });
      const elf = caseElf(cases);
      const nat = parseRecords(native(elf), count);
      // The first batch runs twice more with a timer interrupt every few cycles: an interrupt between any two
      // instructions (the handler just irets) must change nothing.
      for (const timerInterval of first === 0 ? [0, 7, 2] : [0]) {
        const r = emulate(elf, count, timerInterval);
        instructions += r.stats.instructions;
        interrupts += r.stats.timerInterrupts;
        const note = timerInterval ? `(timer interrupt every ${timerInterval} cycles) ` : '';
        if (r.exitCode !== 0 || r.fault || r.signal) {
          const k = firstStoppingCase(cases, timerInterval);
          t.fail(`${note}the emulator stopped the case program: exit ${r.exitCode}, signal ${r.signal}, fault ${r.fault ?? '-'}; the first case that stops it:\n${k === undefined ? '(none alone)' : describeCase(cases[k])}`);
          return;
        }
        compare(cases, nat, parseRecords(r.stdout, count), note);
      }
      total += count;
    }
    t.log(`${total} cases (seed ${SEED}), ${instructions} emulated instructions, ${interrupts} timer interrupts, ${failed} mismatches`);
    if (failed) {
      const forms = [...byForm].sort((a, b) => b[1] - a[1]).map(([f, n]) => `${f}: ${n}`).join(', ');
      t.fail(`${failed} of ${total} cases differ (by form: ${forms}); the first ${reports.length}:\n\n${reports.join('\n\n')}`);
    } else {
      t.is(total, CASES);
    }
  });
}
