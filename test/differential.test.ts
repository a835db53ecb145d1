// The differential test against the host CPU: thousands of generated 1-3 instruction sequences of the supported
// user-mode instructions (test/util/diffgen.ts), packed into GNU-assembled static i386 ELF files, run natively here
// and in the emulator; every register, the scratch and stack words, and EFLAGS (minus the flags the Intel SDM leaves
// undefined for the instructions run) must be identical.
//
// CI runs 10,000 cases with a fixed seed. `KTAL_LONG=1 npm test` runs 200,000 (KTAL_DIFF_CASES=N for another
// number) from a fresh seed, printed; KTAL_SEED=S repeats a run.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { haveBinutils } from './util/binutils.ts';
import { scratch } from './util/native.ts';
import {
  generateCases, caseElf, parseRecords, differences, mismatchReport, marker, type DiffCase, type CaseRecord,
  ARITH_FLAGS, RECORD_WORDS,
} from './util/diffgen.ts';

const flag = (v: string | undefined) => !!v && v !== '0' && v !== 'false';
const LONG = flag(process.env.KTAL_LONG);
const SEED = process.env.KTAL_SEED ? Number(process.env.KTAL_SEED) >>> 0 : LONG ? (Date.now() ^ (process.pid << 16)) >>> 0 : 0x6b74616c;
const CASES = process.env.KTAL_DIFF_CASES ? Number(process.env.KTAL_DIFF_CASES) : LONG ? 200_000 : 10_000;
const BATCH = LONG ? 10_000 : 5_000;
const RECORD_BYTES = RECORD_WORDS * 4;

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
    const cases = generateCases(SEED, 600, { systematic: true });
    const records = parseRecords(native(caseElf(cases)), cases.length);
    const problems: string[] = [];
    const top = records[0].regs[4]; // the first case (a systematic ALU case) leaves esp at dg_stack_top
    cases.forEach((c, i) => {
      const r = records[i];
      if (r.marker !== marker(c.index)) problems.push(`case ${c.index}: marker ${r.marker.toString(16)}`);
      // Flag-neutral sequences leave EFLAGS as popped: a check of the generator's flag bookkeeping.
      const neutral = c.forms.every(f => /^(mov|movzx|movsx|lea|set|j|push|pop|cdq|nop)/.test(f) || /^(not) /.test(f));
      if (neutral && ((r.flags ^ c.flags) & ARITH_FLAGS)) problems.push(`case ${c.index} (${c.forms.join('; ')}): flags ${r.flags.toString(16)}, popped ${c.flags.toString(16)}`);
      if (!c.forms.some(f => /^(push|pop|sub esp|add esp)/.test(f)) && r.regs[4] !== top) problems.push(`case ${c.index}: esp moved`);
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
      /^push r$/, /^push esp$/, /^push imm8/, /^push imm32/, /^push m$/, /^pop r$/, /^pop m$/,
    ];
    const missing = required.filter(re => !has(re)).map(String);
    t.deepEqual(missing, []);
    t.log(`${forms.size} distinct forms in ${cases.length} cases`);
  });

  test(`${CASES} generated cases: the same registers, memory and defined flags natively and in the emulator (seed ${SEED})`, async t => {
    const { runElf } = await import('../emulator/run.ts');
    let total = 0, failed = 0, instructions = 0;
    const reports: string[] = [];
    const byForm = new Map<string, number>();
    for (const [first, count, seed] of batches(CASES)) {
      const cases: DiffCase[] = generateCases(seed, count, { first, systematic: first === 0 });
      const elf = caseElf(cases);
      const nat = parseRecords(native(elf), count);
      const r = runElf(elf, { maxInstructions: count * 200 + 1_000_000 });
      instructions += r.stats.instructions;
      if (r.exitCode !== 0 || r.fault || r.signal) {
        t.fail(`the emulator stopped the case program (cases ${first}-${first + count - 1}): exit ${r.exitCode}, signal ${r.signal}, fault ${r.fault ?? '-'}; ${r.stdout.length} bytes written of ${nat.length * RECORD_BYTES}`);
        // Compare what was written before it stopped, to point at the case.
        const done = Math.floor(r.stdout.length / RECORD_BYTES);
        if (done) compareBatch(cases.slice(0, done), nat, parseRecords(r.stdout.subarray(0, done * RECORD_BYTES), done));
        break;
      }
      compareBatch(cases, nat, parseRecords(r.stdout, count));
      total += count;
    }
    function compareBatch(cases: DiffCase[], nat: CaseRecord[], emu: CaseRecord[]): void {
      cases.forEach((c, i) => {
        if (!differences(c, nat[i], emu[i]).length) return;
        failed++;
        for (const f of c.forms) byForm.set(f, (byForm.get(f) ?? 0) + 1);
        if (reports.length < 25) reports.push(mismatchReport(c, nat[i], emu[i]));
      });
    }
    t.log(`${total} cases (seed ${SEED}), ${instructions} emulated instructions, ${failed} mismatches`);
    if (failed) {
      const forms = [...byForm].sort((a, b) => b[1] - a[1]).map(([f, n]) => `${f}: ${n}`).join(', ');
      t.fail(`${failed} of ${total} cases differ (by form: ${forms}); the first ${reports.length}:\n\n${reports.join('\n\n')}`);
    } else {
      t.is(total, CASES);
    }
  });
}
