// The attack suite (test/attacks/README.md): hand-written programs that really do harm when run unverified at
// CPL 0 (`talrun --kernel --no-verify`). For each, three outcomes:
//   (a) kernel mode, unverified (with and without --pti): the harm happens, observably (output, exit statuses,
//       a hung or dead machine);
//   (b) kernel mode, verified (the default): the checker refuses the file (status 126) with the expected class;
//   (c) user mode: the hardware stops it (#GP or #PF) and the kernel ends it with SIGSEGV (status 139).
// Kernel addresses are substituted into each source from the symbols of the very kernel that runs it ({{name}}).
import test, { type ExecutionContext } from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';
import { readProgram } from '../../tal/check/program.ts';
import { bootKernel, start, outcome, STATUS_CANNOT_EXECUTE, type RunOutcome } from '../../kernel/talrun.ts';
import type { Kernel, ExitInfo, KernelExit } from '../../kernel/kernel.ts';
import { ROOT } from '../../kernel/fs/permission.ts';
import { put } from '../util/kfs.ts';
import { NR_SYSCALLS } from '../../kernel/syscalls/numbers.ts';
import { PAGE_OFFSET } from '../../kernel/arch/layout.ts';

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

const dir = join(import.meta.dirname, '..', 'attacks');
const source = (f: string): string => readFileSync(join(dir, f), 'utf8');

/**
 * Replace every {{expression}} by its value in hex. An expression is names (kernel symbols, a victim's labels as
 * VICTIM_LABEL, the program's own labels as self_LABEL), numbers and JavaScript's integer operators. An unknown
 * name is an error in the test, unless `lenient` (the first pass, which only needs the layout).
 */
function fill(text: string, values: ReadonlyMap<string, number>, lenient = false): string {
  return text.replace(/\{\{([^}]+)\}\}/g, (_, expr: string) => {
    const js = expr.replace(/\b[A-Za-z_]\w*/g, name => {
      const v = values.get(name);
      if (v === undefined && !lenient) throw new Error(`no value for ${name} in {{${expr}}}`);
      return String((v ?? 0) >>> 0);
    });
    if (!/^[0-9a-fA-Fx+\-*/%<>&|^~() ]+$/.test(js)) throw new Error(`bad template expression {{${expr}}}`);
    const v = (Function(`return (${js})`)() as number) >>> 0;
    return `0x${v.toString(16)}`;
  });
}

/** Labels' addresses (code and data) by name. */
function labelsOf(elf: Uint8Array): Map<string, number> {
  const labels = new Map<string, number>();
  try {
    const ann = readProgram(elf).ann;
    for (const l of [...ann.code.values(), ...ann.data.values()]) labels.set(l.name, l.addr);
  } catch { /* no annotations */ }
  return labels;
}

/**
 * Assemble a source after substitution, in two passes when it names its own labels (every immediate is 32 bits,
 * so the values do not move them). Returns the ELF and its labels.
 */
function build(file: string, values: ReadonlyMap<string, number>): { elf: Uint8Array; labels: Map<string, number> } {
  const text = source(file);
  const all = new Map(values);
  if (text.includes('self_')) {
    for (const [name, addr] of labelsOf(assemble(fill(text, all, true), file).elf)) all.set(`self_${name}`, addr);
  }
  const { elf } = assemble(fill(text, all), file);
  const labels = labelsOf(elf);
  if (text.includes('self_')) for (const [name, addr] of labels) if (all.get(`self_${name}`) !== addr) throw new Error(`${file}: ${name} moved between passes`);
  return { elf, labels };
}

type Mode = 'unverified' | 'verified' | 'user';
const modeOptions = (m: Mode) => ({ kernel: m !== 'user', verify: m !== 'unverified' });

interface Victim {
  file: string;
  uid?: number;
  /** Started before the attacker (default) or after it. */
  after?: boolean;
}

/**
 * The kernel's symbols, plus entry_int80_dispatch: the address of `call DWORD PTR [sys_call_table+eax*4]` in the
 * int 0x80 entry code (found by its bytes: its place depends on --pti).
 */
function kernelValues(k: Kernel): Map<string, number> {
  const values = new Map(k.symbols);
  const entry = k.symbols.get('entry_int80')! - PAGE_OFFSET, want = [0xff, 0x14, 0x85, ...le32(k.symbols.get('sys_call_table')!)];
  const code = k.machine.mem.readBytes(entry, 64);
  const at = code.findIndex((_, i) => want.every((b, j) => code[i + j] === b));
  if (at < 0) throw new Error('no call through sys_call_table in entry_int80');
  values.set('entry_int80_dispatch', PAGE_OFFSET + entry + at);
  return values;
}

/** The victims assembled, and the template values: the kernel's and the victims' labels (VICTIM_LABEL). */
function withVictims(k: Kernel, list: Victim[] = []): { values: Map<string, number>; victims: (Victim & { elf: Uint8Array })[] } {
  const values = kernelValues(k);
  const victims = list.map(v => {
    const { elf, labels } = build(join('victims', v.file), values);
    for (const [name, addr] of labels) values.set(`${v.file.replace(/\.tal$/, '').replace(/\W/g, '_')}_${name}`, addr);
    return { ...v, elf };
  });
  return { values, victims };
}

interface Run {
  /** The attacker's outcome (the refusal, when the loader refuses it). */
  attacker: RunOutcome;
  /** The victims' exit info, in the order given. */
  victims: (ExitInfo | undefined)[];
  kernelExit: KernelExit | 'exec-failed';
  stdout: string;
  stderr: string;
  kernel: Kernel;
}

/** The root-only file of setuid-root. */
const SECRET = 'the root password is swordfish\n';

const WARNING = /^talrun: WARNING: --no-verify: \S+ runs UNCHECKED at CPL 0 with the kernel's full authority\n/;

/**
 * Boot a kernel (with /secret, root's, mode 0600), start the victims (verified, in user mode) and the attacker in
 * `mode`, and run until every process has ended (or the machine hangs or dies).
 */
function run(file: string, mode: Mode, o: { uid?: number; victims?: Victim[]; pti?: boolean; maxInstructions?: number } = {}): Run {
  const out: Uint8Array[] = [], err: Uint8Array[] = [];
  const k = bootKernel({ pti: o.pti, onOutput: (fd, b) => (fd === 1 ? out : err).push(b) });
  put(k.vfs.context(ROOT), '/secret', SECRET, 0o600);
  const { values, victims } = withVictims(k, o.victims);
  const victimPids: number[] = [];
  const startVictims = (after: boolean): void => {
    for (const v of victims) {
      if (!!v.after !== after) continue;
      const pid = start(k, v.elf, [v.file], { uid: v.uid });
      if (typeof pid !== 'number') throw new Error(`victim ${v.file} did not start: ${pid.message}`);
      victimPids.push(pid);
    }
  };
  k.endInput();
  startVictims(false);
  const opts = { ...modeOptions(mode), uid: o.uid };
  const pid = start(k, build(file, values).elf, [file], opts);
  startVictims(true);
  let attacker: RunOutcome, kernelExit: KernelExit | 'exec-failed';
  if (typeof pid !== 'number') {
    attacker = pid;
    kernelExit = victimPids.length ? k.run(o.maxInstructions ?? 1e8) : 'exec-failed';
  } else {
    kernelExit = k.run(o.maxInstructions ?? 1e8);
    attacker = outcome(k, pid, kernelExit as KernelExit);
  }
  return {
    attacker, kernelExit, kernel: k, victims: victimPids.map(p => k.exits.get(p)),
    stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString('latin1'),
  };
}

interface Attack {
  file: string;
  /** What it does, for the test's title. */
  what: string;
  uid?: number;
  victims?: Victim[];
  /** The checker's refusal class, and the instruction it refuses (the first harmful one). */
  cls: string;
  insn: string;
  /** The fault that stops it in user mode. */
  fault: '#GP' | '#PF';
  /** The harm, at CPL 0 unverified. */
  harm: (t: ExecutionContext, r: Run) => void;
  /** What else is true in user mode (the victims are unharmed). */
  contained?: (t: ExecutionContext, r: Run) => void;
}

/**
 * The harm as most attacks show it: standard output as given (the text, or a test of it), the attacker exiting 0 and
 * every victim exiting 0 (none noticed).
 */
function harmDone(stdout: string | ((out: string) => boolean)): Attack['harm'] {
  return (t, r) => {
    if (typeof stdout === 'string') t.is(r.stdout, stdout);
    else t.true(stdout(r.stdout), r.stdout);
    t.is(r.attacker.status, 0);
    t.deepEqual(r.victims.map(v => v?.status), r.victims.map(() => 0));
  };
}

/**
 * Contained as most attacks are in user mode: standard output as given, every victim exiting 0, and (with
 * 'a kernel address') the attacker stopped by a page fault on a kernel address (cr2 0xc…).
 */
function containedBy(stdout: string, faultOn?: 'a kernel address'): NonNullable<Attack['contained']> {
  return (t, r) => {
    t.is(r.stdout, stdout);
    t.deepEqual(r.victims.map(v => v?.status), r.victims.map(() => 0));
    if (faultOn) t.regex(r.attacker.exit!.fault!, /cr2 0xc/);
  };
}

const ATTACKS: Attack[] = [
  {
    file: 'setuid-root.tal', what: 'zeroes its own uid/euid/fsuid in its task_struct, then reads a root-only file', uid: 1000,
    cls: 'not-a-pointer', insn: 'mov eax,DWORD PTR [eax]', fault: '#PF',
    harm: (t, r) => {
      t.is(r.stdout, SECRET);
      t.is(r.attacker.status, 0);
    },
    contained: (t, r) => {
      t.is(r.stdout, '');
      t.regex(r.attacker.exit!.fault!, /cr2 0xc/); // the load of current_task, a kernel address
    },
  },
  {
    file: 'syscall-table.tal', what: 'hooks getuid32 in sys_call_table with code planted in kernel memory', uid: 1000,
    victims: [{ file: 'whoami.tal', uid: 1000, after: true }],
    cls: 'not-a-pointer', insn: 'mov DWORD PTR [eax],0xc3c031', fault: '#PF',
    harm: (t, r) => {
      t.is(r.stdout, 'getuid32 hooked\nwhoami: root\n');
      t.is(r.attacker.status, 0);
      t.deepEqual(r.victims.map(v => v?.status), [0]);
      t.is(r.kernel.machine.mem.read32(r.kernel.symbols.get('sys_call_table')! - PAGE_OFFSET + 4 * 199) >>> 0,
        r.kernel.symbols.get('current_task')! + 0x800);
    },
    contained: containedBy('whoami: not root\n'),
  },
  {
    file: 'jump-memo-slot.tal', what: 'forges two stack slots after a jump the checker has seen pass, and hooks getuid32', uid: 1000,
    victims: [{ file: 'whoami.tal', uid: 1000, after: true }],
    cls: 'jump-type', insn: 'jmp 0x80480bf', fault: '#PF',
    harm: harmDone('getuid32 hooked\nwhoami: root\n'),
    contained: containedBy('whoami: not root\n'),
  },
  {
    file: 'cli-spin.tal', what: 'disables interrupts and spins', cls: 'privileged', insn: 'cli', fault: '#GP',
    harm: (t, r) => {
      t.is(r.kernelExit, 'hung');
      t.is(r.attacker.status, 124);
      t.regex(r.attacker.message!, /^talrun: watchdog: the machine is hung: no timer interrupt for 200 ticks: interrupts disabled at eip 0x[0-9a-f]+ \(task 100 cli-spin\.tal\)$/);
    },
  },
  {
    file: 'write-cr3.tal', what: 'loads CR3 with physical page 0', cls: 'privileged', insn: 'mov to or from a control register', fault: '#GP',
    harm: (t, r) => {
      t.is(r.kernelExit, 'panic');
      t.is(r.attacker.status, 125);
      t.regex(r.attacker.message!, /^talrun: kernel panic: triple fault at eip 0x[0-9a-f]+: #PF\(0x0\) cr2=0x[0-9a-f]+ → #PF\(0x0\) cr2=0xc[0-9a-f]+ → #DF\(0x0\) → #PF/);
      t.false(r.stdout.includes('survived'));
    },
  },
  {
    file: 'entry-midpoint.tal', what: 'jumps into entry_int80 past its bounds check', cls: 'call-non-code', insn: 'jmp ecx', fault: '#PF',
    harm: (t, r) => {
      // The jump lands on `call DWORD PTR [sys_call_table+eax*4]`, right after `cmp eax, NR; jae badsys`.
      const k = r.kernel, at = kernelValues(k).get('entry_int80_dispatch')! - PAGE_OFFSET;
      t.deepEqual([...k.machine.mem.readBytes(at - 11, 11)], [0x3d, ...le32(NR_SYSCALLS), 0x0f, 0x83, ...k.machine.mem.readBytes(at - 4, 4)]);
      t.is(r.stdout, "attacker code called by the kernel's entry\nback through restore_all\nint 0x80 with it: -ENOSYS\n");
      t.is(r.attacker.status, 0);
    },
    contained: (t, r) => t.regex(r.attacker.exit!.fault!, /^#PF \(error 0x5\) at eip 0xc[0-9a-f]+, cr2 0xc/),
  },
  {
    file: 'read-other-process.tal', what: "walks another process's page tables and reads its secret", uid: 1001,
    victims: [{ file: 'secret-keeper.tal', uid: 1000 }],
    cls: 'not-a-pointer', insn: 'mov ebx,DWORD PTR [eax]', fault: '#PF',
    harm: harmDone('stolen: PIN 4711, known only to secret-keeper\n'),
    contained: containedBy(''),
  },
  {
    file: 'kernel-stack.tal', what: "rewrites the saved eip on another process's kernel stack", uid: 1001,
    victims: [{ file: 'sleeper.tal', uid: 1000 }],
    cls: 'not-a-pointer', insn: 'mov ebx,DWORD PTR [eax]', fault: '#PF',
    harm: (t, r) => {
      t.is(r.stdout, "rewrote the sleeper's saved user eip\nsleeper: hijacked: running code nobody called\n");
      t.is(r.attacker.status, 0);
      t.deepEqual(r.victims.map(v => v?.status), [66]);
    },
    contained: containedBy('sleeper: woke up, exiting 0\n'),
  },
  {
    file: 'forged-code-pointer.tal', what: 'calls machine code hidden in a byte array: root, then power off', uid: 1000,
    victims: [{ file: 'sleeper.tal', uid: 1000 }],
    cls: 'call-non-code', insn: 'call eax', fault: '#PF',
    harm: (t, r) => {
      t.is(r.stdout, '');
      t.is(r.kernelExit, 'done');
      t.is(r.kernel.powerOffReason, 'reboot(2) by pid 101');
      const killed = { status: 137, signal: 'SIGKILL', fault: 'the machine was powered off (reboot(2) by pid 101)' };
      t.deepEqual(r.victims, [{ pid: 100, ...killed }]);
      t.like(r.attacker, { status: 137, signal: 'SIGKILL' });
      t.is(r.attacker.message, 'talrun: SIGKILL: the machine was powered off (reboot(2) by pid 101)');
    },
    contained: containedBy('sleeper: woke up, exiting 0\n', 'a kernel address'),
  },
  // Typed stack pointers (docs/tal.md §4.10): esp restored where the rules forbid it.
  {
    file: 'stale-handler.tal', what: 'restores esp into a popped frame whose words now hold kernel addresses: getuid32 hooked',
    uid: 1000, victims: [{ file: 'whoami.tal', uid: 1000, after: true }],
    cls: 'stack-pointer', insn: 'mov esp,ebx', fault: '#PF',
    harm: (t, r) => {
      t.is(r.stdout, 'getuid32 hooked\nwhoami: root\n');
      t.is(r.attacker.status, 0);
      t.deepEqual(r.victims.map(v => v?.status), [0]);
      t.is(r.kernel.machine.mem.read32(r.kernel.symbols.get('sys_call_table')! - PAGE_OFFSET + 4 * 199) >>> 0,
        r.kernel.symbols.get('current_task')! + 0x800);
    },
    contained: containedBy('whoami: not root\n', 'a kernel address'),
  },
  {
    file: 'reshaped-handler.tal', what: 'restores esp across a change of the stack\'s shape: root, then /secret', uid: 1000,
    victims: [{ file: 'whoami.tal', uid: 1000, after: true }],
    cls: 'stack-pointer', insn: 'mov esp,ebx', fault: '#PF',
    harm: harmDone(stdout => stdout.includes(SECRET)),
    contained: containedBy('whoami: not root\n', 'a kernel address'),
  },
  // The rules of existentials and sums (docs/tal.md §3.4, §3.5), each abused once, with a victim asleep beside.
  {
    file: 'forged-tag.tal',
    what: "tests one sum value's tag and reads another's field: a kernel address becomes a pointer",
    uid: 1000, victims: [{ file: 'sleeper.tal', uid: 1000 }],
    cls: 'sum-case', insn: 'mov eax,DWORD PTR [ebx+0x4]', fault: '#PF',
    harm: harmDone(stdout => stdout.includes(SECRET)),
    contained: containedBy('sleeper: woke up, exiting 0\n', 'a kernel address'),
  },
  {
    file: 'exists-smuggle.tal',
    what: 'packs a kernel address as the pointer an existential promises, and follows it once opened',
    uid: 1000, victims: [{ file: 'sleeper.tal', uid: 1000 }],
    cls: 'pack', insn: 'jmp 0x80480a7', fault: '#PF',
    harm: harmDone(stdout => stdout.includes(SECRET)),
    contained: containedBy('sleeper: woke up, exiting 0\n', 'a kernel address'),
  },
  {
    // red16-exsum: the red team's attack on existentials (the witness bound to a variable of the value's own code
    // type); the checker refuses it (Matcher.eqCode).
    file: 'exists-bound-escape.tal',
    what: "packs a polymorphic function with the witness bound to the function's own type variable: a two-way converter",
    uid: 1000, victims: [{ file: 'sleeper.tal', uid: 1000 }],
    cls: 'pack', insn: 'jmp 0x80480a7', fault: '#PF',
    harm: harmDone(stdout => stdout.includes(SECRET)),
    contained: containedBy('sleeper: woke up, exiting 0\n', 'a kernel address'),
  },
];

test('setuid-root.tal without its three stores: access denied, as uid 1000 should be', t => {
  const text = source('setuid-root.tal');
  const tame = text.replace(/^ +mov DWORD PTR \[eax\+(16|20|28)\], 0 .*\n/gm, '');
  t.is(tame.split('\n').length, text.split('\n').length - 3);
  const k = bootKernel({});
  put(k.vfs.context(ROOT), '/secret', SECRET, 0o600);
  k.endInput();
  const pid = start(k, assemble(fill(tame, k.symbols), 'tame.tal').elf, ['tame'], { kernel: true, verify: false, uid: 1000 });
  if (typeof pid !== 'number') return t.fail(pid.message);
  const r = outcome(k, pid, k.run(1e8));
  t.is(r.status, 1);
  t.is(Buffer.from(k.collected(1)).toString(), 'access denied\n');
});

test('the suite has at least 12 attacks, and every file in test/attacks is one', t => {
  t.true(ATTACKS.length >= 12);
  const files = readdirSync(dir).filter(f => f.endsWith('.tal')).sort();
  t.deepEqual(files, ATTACKS.map(a => a.file).sort());
});

for (const a of ATTACKS) {
  test(`${a.file}: ${a.what}: harm unverified at CPL 0`, t => {
    const r = run(a.file, 'unverified', a);
    t.regex(r.stderr, WARNING);
    a.harm(t, r);
  });
  test(`${a.file}: the same harm with --pti (other addresses, CR3 switches on every crossing)`, t => {
    a.harm(t, run(a.file, 'unverified', { ...a, pti: true }));
  });
  test(`${a.file}: refused by the checker [${a.cls}]`, t => {
    const c = checkElf(build(a.file, withVictims(bootKernel({}), a.victims).values).elf);
    if (c.ok) return t.fail('the checker accepted it');
    t.is(c.error.cls as string, a.cls, c.error.message);
    t.is(c.error.insn, a.insn);
    const r = run(a.file, 'verified', a);
    t.is(r.attacker.kernelExit, 'exec-failed');
    t.is(r.attacker.status, STATUS_CANNOT_EXECUTE);
    t.true(r.attacker.message?.includes(`refused [${a.cls}]`), r.attacker.message);
    t.true(r.attacker.message?.endsWith('refused by the checker: not run in kernel mode'), r.attacker.message);
    t.deepEqual(r.victims.map(v => v?.status), (a.victims ?? []).map(() => 0)); // they run unharmed
  });
  test(`${a.file}: stopped by the MMU in user mode (${a.fault} → SIGSEGV)`, t => {
    const r = run(a.file, 'user', a);
    t.is(r.attacker.status, 139, r.attacker.message);
    t.is(r.attacker.signal, 'SIGSEGV');
    t.true(r.attacker.exit?.fault?.startsWith(`${a.fault} `), r.attacker.exit?.fault);
    t.is(r.kernelExit, 'done');
    a.contained?.(t, r);
  });
}
