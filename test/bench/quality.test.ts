// The code-quality benchmark's programs stay correct (bench/quality.ts; bench/quality/): each pair, the Popcorn
// compiled by popc and the C compiled by gcc -m32 -O2 freestanding, run natively on this host with the quick run's
// input, prints the same bytes and exits 0, the host's Linux being the oracle for both; and the quick suite measures
// every pair on the emulated machine and reports the geometric mean. The figures themselves are not asserted against
// targets: performance is measured by `npm run bench`. Where gcc is absent (or cannot make i386 code) the tests
// are skipped, saying why; CI installs gcc (.ci/run).
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  QUALITY_PROGRAMS, buildC, buildPopcorn, gccMissing, programInput, qualityGeomean, qualityRatio, qualitySuite,
  runNative,
} from '../../bench/quality.ts';
import { qualitySection, worstProgram } from '../../bench/quality-report.ts';
import { kindOf, profile } from '../../bench/quality-profile.ts';

const missing = gccMissing();
if (missing) console.log(`test/bench/quality: skipped: ${missing}; the C twins need gcc with -m32 (see .ci/run)`);
const gccTest = missing ? test.skip : test;

const dir = mkdtempSync(join(tmpdir(), 'ktal-quality-test-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('the suite has at least ten pairs, one for each kind of program issue 17 names', t => {
  t.true(QUALITY_PROGRAMS.length >= 10);
  for (const what of ['numeric loops', 'recursion', 'sorting', 'string scanning', 'a hash table', 'a binary tree',
    'list processing', 'a small interpreter', 'find\'s inner loop', 'an echo loop']) {
    t.truthy(QUALITY_PROGRAMS.find(p => p.what.startsWith(what)), what);
  }
});

for (const p of QUALITY_PROGRAMS) {
  gccTest(`${p.name}: popc's and gcc's programs print the same bytes natively`, t => {
    const { args, stdin } = programInput(p, 'quick');
    const cFile = join(dir, `${p.name}-gcc`), popFile = join(dir, `${p.name}-popc`);
    buildC(p.name, cFile);
    buildPopcorn(p.name, 0, popFile);
    const c = runNative(cFile, args, stdin), pop = runNative(popFile, args, stdin);
    t.is(c.status, 0, `gcc's ${p.name}: ${c.stderr}`);
    t.is(pop.status, 0, `popc's ${p.name}: ${pop.stderr}`);
    t.true(c.stdout.length > 0);
    t.is(pop.stdout.toString('latin1'), c.stdout.toString('latin1'));
    t.is(pop.stderr.toString(), '');
  });
}

gccTest('the quick suite measures every pair on the emulated machine and reports the geometric mean', t => {
  const lines: string[] = [];
  const q = qualitySuite({ quick: true, log: l => lines.push(l) });
  t.is(q.skipped, undefined);
  t.deepEqual(q.programs.map(p => p.name), QUALITY_PROGRAMS.map(p => p.name));
  t.deepEqual(q.levels, ['-O0']);
  t.true(q.findCompileSeconds['-O0'] > 0, 'popc\'s compile time of find');
  for (const p of q.programs) {
    const popc = p.popc['-O0'];
    for (const b of [p.gcc, popc]) {
      t.true(b.instructions > 0 && b.cycles > 0 && b.nativeSeconds > 0, p.name);
      t.is(Object.values(b.byClass).reduce((a, x) => a + x, 0), b.instructions, `${p.name}: the classes add up`);
    }
    t.is(qualityRatio(p, '-O0', 'instructions'), popc.instructions / p.gcc.instructions);
  }
  const mean = qualityGeomean(q, '-O0', 'instructions')!;
  const ratios = q.programs.map(p => qualityRatio(p, '-O0', 'instructions')!);
  t.true(mean >= Math.min(...ratios) && mean <= Math.max(...ratios), 'the mean lies between the ratios');
  const md = qualitySection(q).join('\n');
  t.regex(md, new RegExp(`\\| -O0 \\| \\*\\*${mean.toFixed(2)}×\\*\\*`));
  for (const p of q.programs) t.true(md.includes(`| ${p.name} |`), p.name);
  t.true(md.includes(`worst instruction ratio at -O0 is **${worstProgram(q, '-O0')!.name}**`));
  t.true(lines.some(l => l.includes('geometric mean')));
});

test('quality-profile sorts instructions into kinds as objdump writes them', t => {
  t.is(kindOf('mov', 'eax,DWORD PTR [esp+0x8]'), 'load of a stack slot');
  t.is(kindOf('mov', 'DWORD PTR [esp+0x8],eax'), 'store to a stack slot');
  t.is(kindOf('mov', 'DWORD PTR [esp],0x0'), 'store to a stack slot');
  t.is(kindOf('mov', 'eax,DWORD PTR [eax+ecx*4+0x4]'), 'other mov');
  t.is(kindOf('jae', '80481a2'), 'conditional jump');
  t.is(kindOf('jmp', '80481a2'), 'jmp');
  t.is(kindOf('inc', 'eax'), 'inc / dec');
});

gccTest('quality-profile counts every instruction of both binaries, and only popc\'s has run-time checks', t => {
  const p = QUALITY_PROGRAMS.find(x => x.name === 'fib')!;
  const { args, stdin } = programInput(p, 'quick');
  const cFile = join(dir, 'profile-gcc'), popFile = join(dir, 'profile-popc');
  buildC(p.name, cFile);
  buildPopcorn(p.name, 0, popFile);
  const check = 'run-time check (compare, jump to its stub)';
  for (const [file, checks] of [[cFile, false], [popFile, true]] as const) {
    const r = profile(file, [p.name, ...args], stdin);
    const own = [...r.byKind.values()].reduce((a, b) => a + b, 0);
    // The program's own instructions are all but the kernel's entry code of its few system calls.
    t.true(own <= r.total && own > r.total - 500, `${file}: ${own} of ${r.total}`);
    t.is(r.byKind.get(check)! > 0, checks, file);
  }
});
