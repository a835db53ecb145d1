// Attacks through the scheduler (test/attacks/README.md, "Attacks through the kernel"): pairs of programs that the
// checker accepts, run side by side, where one abuses a promise the kernel makes to the other (docs/tal.md §6):
// the callee-saved registers and EFLAGS that every import preserves, whatever happens while the caller is off the
// CPU. For each attack:
//   (a) every program in it is accepted by the checker: the attack needs no unsafe instruction;
//   (b) against a kernel with the fault put back (KernelOptions.reintroduce), with and without --pti: the harm
//       happens, observably (a uid-1000 process reads root's file, the kernel panics, the machine hangs);
//   (c) against the fixed kernel, with and without --pti: no harm, and every process ends as it should.
// Each runs with user mode entering the kernel by int 0x80 and again by sysenter (--syscall=sysenter): the user-mode
// processes among them then come and go through the vsyscall page.
import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../tal/asm/assembler.ts';
import { checkElf } from '../../tal/check/checker.ts';
import {
  Kernel, SYSCALL_ENTRIES, type ExitInfo, type KernelExit, type KnownFault, type SyscallEntry,
} from '../../kernel/kernel.ts';
import { ROOT } from '../../kernel/fs/permission.ts';
import { put } from '../util/kfs.ts';

const dir = join(import.meta.dirname, '..', 'attacks', 'scheduling');
const SECRET = 'the root password is swordfish\n';
const SYSCALL_GETUID32 = 199;

/** Replace each {{name}} by its value (in hex); an unknown name is an error in the test. */
function fill(text: string, values: Record<string, number>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`no value for {{${name}}}`);
    return `0x${(values[name] >>> 0).toString(16)}`;
  });
}

/** Assemble a program of the suite; the checker must accept it (the attacks use no unsafe instruction). */
function build(file: string, values: Record<string, number> = {}): Uint8Array {
  const { elf } = assemble(fill(readFileSync(join(dir, file), 'utf8'), values), file);
  const c = checkElf(elf);
  if (!c.ok) throw new Error(`${file} is refused by the checker: ${c.error.message}`);
  return elf;
}

interface Outcome {
  kernelExit: KernelExit;
  /** Exit info of each process, by the name the scenario gave it. */
  exits: Record<string, ExitInfo | undefined>;
  stdout: string;
  message: string;
}

/** Start processes on a kernel; returns their pids by name. */
type Scenario = (k: Kernel) => Record<string, number>;

function play(scenario: Scenario, o: { pti: boolean; faults: KnownFault[]; syscallEntry: SyscallEntry }): Outcome {
  const out: Uint8Array[] = [];
  const k = new Kernel({
    pti: o.pti, reintroduce: o.faults, syscallEntry: o.syscallEntry,
    onOutput: (fd, b) => { if (fd === 1) out.push(b); },
  });
  put(k.vfs.context(ROOT), '/secret', SECRET, 0o600);
  k.endInput();
  const pids = scenario(k);
  const kernelExit = k.run(3e8);
  const exits = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, k.exits.get(pid)]));
  return {
    kernelExit, exits, stdout: Buffer.concat(out).toString('latin1'),
    message: k.panicMessage ?? k.hungMessage ?? '',
  };
}

const kernelMode = { kernelMode: true, uid: 1000 };

/** sleep-ebx with its accomplice in user mode or at CPL 0. */
const sleepEbx = (accompliceInKernel: boolean): Scenario => k => {
  const victim = k.spawn(build('sleep-ebx.tal'), { argv: ['sleep-ebx'], ...kernelMode });
  const accomplice = k.spawn(build('fill-registers.tal', { target: victim.addr, spins: 5_000_000 }),
    { argv: ['fill-registers'], uid: 1001, kernelMode: accompliceInKernel });
  return { victim: victim.pid, accomplice: accomplice.pid };
};

/** recv-ebx woken by a server that then dies of a double fault, or exits. */
const recvEbx = (accomplice: 'df-accomplice.tal' | 'exit-accomplice.tal'): Scenario => k => {
  const victim = k.spawn(build('recv-ebx.tal'), { argv: ['recv-ebx'], ...kernelMode });
  const server = k.spawn(build(accomplice, { target: victim.addr }), { argv: [accomplice], ...kernelMode });
  return { victim: victim.pid, accomplice: server.pid };
};

/** The uid-1000 program became root and read the secret; its accomplice ended as `accompliceStatus` says. */
const becameRoot = (accompliceStatus: number) => (t: ExecutionContext, r: Outcome): void => {
  t.is(r.stdout, SECRET);
  t.is(r.exits.victim?.status, 0);
  t.is(r.exits.accomplice?.status, accompliceStatus);
};
const stayedUser = (accompliceStatus: number) => (t: ExecutionContext, r: Outcome): void => {
  t.is(r.stdout, 'access denied\n');
  t.is(r.exits.victim?.status, 1);
  t.is(r.exits.accomplice?.status, accompliceStatus);
  t.is(r.kernelExit, 'done');
};

interface Attack {
  name: string;
  what: string;
  fault: KnownFault;
  scenario: Scenario;
  harm: (t: ExecutionContext, r: Outcome) => void;
  safe: (t: ExecutionContext, r: Outcome) => void;
}

const DOUBLE_FAULT = /^double fault: the kernel-mode stack is exhausted/;

const ATTACKS: Attack[] = [
  {
    name: 'sleep-ebx, user-mode accomplice', fault: 'switch-drops-registers', scenario: sleepEbx(false),
    what: 'ebx clobbered while it sleeps in nanosleep, by a user-mode neighbour',
    harm: becameRoot(0), safe: stayedUser(0),
  },
  {
    name: 'sleep-ebx, kernel-mode accomplice', fault: 'switch-drops-registers', scenario: sleepEbx(true),
    what: 'ebx clobbered while it sleeps in nanosleep, by a verified kernel-mode neighbour',
    harm: becameRoot(0), safe: stayedUser(0),
  },
  {
    name: 'accept-esi', fault: 'switch-drops-registers',
    what: "esi clobbered while it sleeps in accept4: a store meant for its own record zeroes sys_call_table's getuid32",
    scenario: k => {
      const whoami = k.spawn(build('late-whoami.tal'), { argv: ['late-whoami'], uid: 1000 });
      const victim = k.spawn(build('accept-esi.tal'), { argv: ['accept-esi'], ...kernelMode });
      const slot = k.symbols.get('sys_call_table')! + 4 * SYSCALL_GETUID32;
      const accomplice = k.spawn(build('connect-spin.tal', { target: slot - 8, spins: 5_000_000 }),
        { argv: ['connect-spin'], ...kernelMode });
      return { whoami: whoami.pid, victim: victim.pid, accomplice: accomplice.pid };
    },
    harm: (t, r) => {
      t.is(r.kernelExit, 'panic');
      t.regex(r.message, /^fault in the kernel: #PF at eip 0x0, cr2 0x0 \(task \d+ late-whoami\)$/);
      t.is(r.exits.whoami?.signal, 'SIGKILL');
    },
    safe: (t, r) => {
      t.is(r.kernelExit, 'done');
      t.is(r.stdout, 'accept-esi: accepted\nwhoami: not root\n');
      t.deepEqual([r.exits.whoami?.status, r.exits.victim?.status, r.exits.accomplice?.status], [0, 0, 0]);
    },
  },
  {
    name: 'irq-off', fault: 'switch-drops-eflags',
    what: 'comes back from nanosleep with interrupts off: it starves its neighbour and cannot be killed',
    scenario: k => {
      const victim = k.spawn(build('irq-off.tal'), { argv: ['irq-off'], ...kernelMode });
      const killer = k.spawn(build('killer.tal', { victim: victim.pid }), { argv: ['killer'], uid: 1000 });
      return { victim: victim.pid, killer: killer.pid };
    },
    harm: (t, r) => {
      t.is(r.kernelExit, 'hung');
      t.regex(r.message,
        /no timer interrupt for 200 ticks: interrupts disabled at eip 0x[0-9a-f]+ \(task \d+ irq-off\)/);
      t.is(r.stdout, '');
      t.is(r.exits.killer, undefined);
    },
    safe: (t, r) => {
      t.is(r.kernelExit, 'done');
      t.is(r.stdout, 'killer: sent SIGKILL\n');
      t.like(r.exits.victim, { status: 137, signal: 'SIGKILL' });
      t.is(r.exits.killer?.status, 0);
    },
  },
  {
    name: 'recv-ebx, double-fault accomplice', fault: 'switch-drops-registers', scenario: recvEbx('df-accomplice.tal'),
    what: 'ebx clobbered while it sleeps in recvfrom, when the kernel resumes it from the double-fault task',
    harm: (t, r) => {
      becameRoot(139)(t, r);
      t.regex(r.exits.accomplice?.fault ?? '', DOUBLE_FAULT);
    },
    safe: (t, r) => {
      stayedUser(139)(t, r);
      t.regex(r.exits.accomplice?.fault ?? '', DOUBLE_FAULT);
    },
  },
  {
    name: 'recv-ebx, exiting accomplice', fault: 'switch-drops-registers', scenario: recvEbx('exit-accomplice.tal'),
    what: "ebx clobbered while it sleeps in recvfrom, when another process's exit wakes it and switches to it",
    harm: becameRoot(0), safe: stayedUser(0),
  },
];

test('every program of the scheduling attacks is accepted by the checker, and every file is used', t => {
  const used = new Set<string>();
  for (const a of ATTACKS) {
    const k = new Kernel({});
    const files: string[] = [];
    const spawn = k.spawn.bind(k);
    k.spawn = (image, opts) => { files.push(opts.argv[0]); return spawn(image, opts); };
    a.scenario(k); // build() throws if the checker refuses a program
    for (const f of files) used.add(f.replace(/\.tal$/, ''));
  }
  const all = ['sleep-ebx', 'fill-registers', 'accept-esi', 'connect-spin', 'late-whoami', 'irq-off', 'killer',
    'recv-ebx', 'df-accomplice', 'exit-accomplice'];
  t.deepEqual([...used].sort(), all.sort());
  t.true(ATTACKS.length >= 5);
});

for (const a of ATTACKS) {
  for (const syscallEntry of SYSCALL_ENTRIES) {
    for (const pti of [false, true]) {
      const mode = `${pti ? ' (--pti)' : ''}${syscallEntry === 'int80' ? '' : ` (--syscall=${syscallEntry})`}`;
      test(`${a.name}: ${a.what}: harm with the fault put back (${a.fault})${mode}`, t => {
        a.harm(t, play(a.scenario, { pti, faults: [a.fault], syscallEntry }));
      });
      test(`${a.name}: stopped by the fixed kernel${mode}`, t => {
        a.safe(t, play(a.scenario, { pti, faults: [], syscallEntry }));
      });
    }
  }
}
