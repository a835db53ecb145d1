// Well-typed TAL programs that use existential packages and tagged sums, built by construction (as popgen.ts builds
// Popcorn programs for popc): a random sum type (nullary cases, cases with int and recursive fields, tags anywhere in
// int32), random values of it in the data section, a walker that switches on the tags (docs/tal.md §4.9), and random
// closures over three environment types packed, opened and called (§4.8). The generator also computes what the
// program must exit with, independently of the checker and the machine: every integer it reaches, summed.
import fc from 'fast-check';

export type Field = 'int' | 'rec';
export interface SumSpec { consts: number[]; cases: { tag: number; fields: Field[] }[] }
/** A value: a nullary case, or case `c` with its fields (an int, or the index of an earlier value). */
export type Value = { k: 'const'; n: number } | { k: 'case'; c: number; fields: number[] };
export type Env = { k: 'cell'; v: number } | { k: 'counter'; v: number } | { k: 'bytes'; len: number };
export interface Closure { env: Env; inferred: boolean }
export type Action = { k: 'walk'; value: number } | { k: 'call'; closure: number };
export interface ExSumSpec {
  sum: SumSpec;
  values: Value[];
  closures: Closure[];
  actions: Action[];
  /** The bound of the integer test: one above the largest nullary case, or 4096 (page zero: every pointer is above). */
  wideTest: boolean;
}

const TAGS = [0, 1, 2, 3, 7, 100, -5, 0x7fffffff];

export const sumSpecArb: fc.Arbitrary<SumSpec> = fc.record({
  consts: fc.uniqueArray(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }).map(a => a.sort((x, y) => x - y)),
  cases: fc.uniqueArray(
    fc.record({
      tag: fc.constantFrom(...TAGS),
      fields: fc.array(fc.constantFrom<Field>('int', 'rec'), { minLength: 1, maxLength: 3 }),
    }),
    { minLength: 1, maxLength: 3, selector: c => c.tag },
  ),
});

/** Values of the sum, each field of a recursive case an earlier value (so the data is a finite DAG). */
function valuesArb(sum: SumSpec, n: number): fc.Arbitrary<Value[]> {
  return fc.array(fc.tuple(fc.nat(), fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 3, maxLength: 3 }),
    fc.array(fc.nat(), { minLength: 3, maxLength: 3 })), { minLength: n, maxLength: n }).map(raw => {
    const out: Value[] = [];
    raw.forEach(([pick, ints, refs], i) => {
      const options = sum.consts.length + sum.cases.length;
      let choice = pick % options;
      // A recursive case needs an earlier value for its fields.
      if (choice >= sum.consts.length && i === 0 && sum.cases[choice - sum.consts.length].fields.includes('rec'))
        choice = sum.consts.length ? 0 : -1;
      if (choice < 0) {
        const c = sum.cases.findIndex(k => !k.fields.includes('rec'));
        if (c < 0) { out.push({ k: 'const', n: 0 }); return; } // cannot happen: see specArb's filter
        out.push({ k: 'case', c, fields: sum.cases[c].fields.map((_, j) => ints[j]) });
        return;
      }
      if (choice < sum.consts.length) { out.push({ k: 'const', n: sum.consts[choice] }); return; }
      const c = choice - sum.consts.length;
      out.push({ k: 'case', c, fields: sum.cases[c].fields.map((f, j) => (f === 'int' ? ints[j] : refs[j] % i)) });
    });
    return out;
  });
}

const envArb: fc.Arbitrary<Env> = fc.oneof(
  fc.record({ k: fc.constant('cell' as const), v: fc.integer({ min: -100, max: 100 }) }),
  fc.record({ k: fc.constant('counter' as const), v: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ k: fc.constant('bytes' as const), len: fc.integer({ min: 0, max: 20 }) }),
);

export const specArb: fc.Arbitrary<ExSumSpec> = sumSpecArb
  // Some value must be buildable first: a nullary case or a case without recursive fields.
  .filter(s => s.consts.length > 0 || s.cases.some(c => !c.fields.includes('rec')))
  .chain(sum => fc.record({
    sum: fc.constant(sum),
    values: valuesArb(sum, 6),
    closures: fc.array(fc.record({ env: envArb, inferred: fc.boolean() }), { minLength: 1, maxLength: 4 }),
    actions: fc.array(fc.oneof(
      fc.record({ k: fc.constant('walk' as const), value: fc.nat({ max: 5 }) }),
      fc.record({ k: fc.constant('call' as const), closure: fc.nat() }),
    ), { minLength: 1, maxLength: 8 }),
    wideTest: fc.boolean(),
  }));

const fieldTy = (f: Field) => (f === 'int' ? 'int^r' : 'val^r');
const caseTy = (c: { tag: number; fields: Field[] }) => `*[S(${c.tag})^r, ${c.fields.map(fieldTy).join(', ')}]`;
const ENV_TY = { cell: '*[int^r]', counter: '*[int^rw]', bytes: '*bytes' } as const;

/** The program's source, and the status it must exit with (the sum of what it reaches, low byte). */
export function buildExSum(spec: ExSumSpec): { source: string; status: number } {
  const { sum, values, closures, actions } = spec;
  const items = [...sum.consts.map(String), ...sum.cases.map(caseTy)];
  const out: string[] = [
    '.intel_syntax noprefix', '.tal_import exit',
    `.tal_type val = sum{${items.join(', ')}}`,
    '.tal_type cont<r:stack> = code{esp: r}',
    '.tal_type body<e> = code[r:stack]{eax: e, esp: cont<r> :: r}',
    '.tal_type clos = exists[env] *[body<env>^r, env^r]',
    '.tal_type wret<r:stack> = code{esp: val :: r}',
    '.text', '.tal_label main : code[r:stack]{esp: r}', 'main:',
  ];
  const operand = (i: number) => { const v = values[i]; return v.k === 'const' ? `${v.n}` : `OFFSET v${i}`; };
  for (const a of actions) {
    if (a.k === 'walk') out.push(`    push ${operand(a.value)}`, '    call walk', '    add esp, 4');
    else {
      const i = a.closure % closures.length, c = closures[i];
      out.push(`    mov esi, OFFSET clos${i}`, `    .tal_pack esi, clos${c.inferred ? '' : `, ${ENV_TY[c.env.k]}`}`,
        '    .tal_unpack esi', '    mov eax, DWORD PTR [esi+4]', '    mov edx, DWORD PTR [esi]', '    call edx');
    }
  }
  out.push('    push DWORD PTR [acc]', '    call DWORD PTR [exit]');

  // The walker: the integer cases first, then the tag word of each case but the last.
  out.push('.tal_label walk : code[r:stack]{esp: wret<r> :: val :: r}', 'walk:', '    mov ebx, DWORD PTR [esp+4]');
  const bound = spec.wideTest ? 4096 : sum.consts[sum.consts.length - 1] + 1;
  if (sum.consts.length) out.push(`    cmp ebx, ${bound}`, '    jb w_const');
  sum.cases.forEach((c, i) => {
    if (i < sum.cases.length - 1) out.push(`    cmp DWORD PTR [ebx], ${c.tag}`, `    je w_case${i}`);
    else out.push(`    jmp w_case${i}`);
  });
  if (sum.consts.length) {
    out.push('.tal_label w_const : code[r:stack]{ebx: int, esp: wret<r> :: val :: r}', 'w_const:',
      '    add DWORD PTR [acc], ebx', '    ret');
  }
  sum.cases.forEach((c, i) => {
    out.push(`.tal_label w_case${i} : code[r:stack]{ebx: ${caseTy(c)}, esp: wret<r> :: val :: r}`, `w_case${i}:`);
    c.fields.forEach((f, j) => {
      if (f === 'int') out.push(`    mov eax, DWORD PTR [ebx+${4 * (j + 1)}]`, '    add DWORD PTR [acc], eax');
      else out.push('    push ebx', `    push DWORD PTR [ebx+${4 * (j + 1)}]`, '    call walk', '    add esp, 4',
        '    pop ebx');
    });
    out.push('    ret');
  });
  out.push(
    '.tal_label cell_code : code[r:stack]{eax: *[int^r], esp: cont<r> :: r}', 'cell_code:',
    '    mov eax, DWORD PTR [eax]', '    add DWORD PTR [acc], eax', '    ret',
    '.tal_label counter_code : code[r:stack]{eax: *[int^rw], esp: cont<r> :: r}', 'counter_code:',
    '    inc DWORD PTR [eax]', '    mov eax, DWORD PTR [eax]', '    add DWORD PTR [acc], eax', '    ret',
    '.tal_label bytes_code : code[r:stack]{eax: *bytes, esp: cont<r> :: r}', 'bytes_code:',
    '    mov eax, DWORD PTR [eax]', '    add DWORD PTR [acc], eax', '    ret',
    '.data', '.tal_label acc : *[int^rw]', 'acc:', '    .long 0',
  );
  values.forEach((v, i) => {
    if (v.k === 'const') return;
    const c = sum.cases[v.c];
    const word = (x: number, j: number) => (c.fields[j] === 'int' ? `${x}` : operand(x).replace('OFFSET ', ''));
    const words = [c.tag, ...v.fields.map(word)];
    out.push(`.tal_label v${i} : ${caseTy(c)}`, `v${i}:`, `    .long ${words.join(', ')}`);
  });
  closures.forEach((c, i) => {
    const env = c.env;
    out.push(`.tal_label env${i} : ${ENV_TY[env.k]}`, `env${i}:`,
      env.k === 'bytes' ? `    .tal_bytes "${'x'.repeat(env.len)}"` : `    .long ${env.v}`,
      `.tal_label clos${i} : *[body<${ENV_TY[env.k]}>^r, ${ENV_TY[env.k]}^r]`, `clos${i}:`,
      `    .long ${env.k}_code, env${i}`);
  });

  // The oracle: what the program adds up, computed here.
  let acc = 0;
  const counters = closures.map(c => (c.env.k === 'counter' ? c.env.v : 0));
  const walk = (i: number): void => {
    const v = values[i];
    if (v.k === 'const') { acc += v.n; return; }
    sum.cases[v.c].fields.forEach((f, j) => (f === 'int' ? (acc += v.fields[j]) : walk(v.fields[j])));
  };
  for (const a of actions) {
    if (a.k === 'walk') { walk(a.value); continue; }
    const i = a.closure % closures.length, env = closures[i].env;
    if (env.k === 'cell') acc += env.v;
    else if (env.k === 'counter') acc += ++counters[i];
    else acc += env.len;
  }
  return { source: out.join('\n') + '\n', status: acc & 0xff };
}
