// talrun as a library: boot a kernel with talrun's options, start one program, run it to the end, and report what
// a shell would see. The command (kernel/cli/talrun.ts) drives the same functions with the host's stdin, stdout
// and signals; tests call runProgram directly.

import { statSync } from 'node:fs';
import { Kernel, type KernelExit, type ExitInfo, type SyscallEntry } from './kernel.ts';
import { readErrorText } from '../tal/cli/command.ts';
import { lookupPath } from './fs/namei.ts';
import { ROOT } from './fs/permission.ts';
import { EAGAIN, errnoName } from './errno.ts';
import { ExecError } from './exec/loader.ts';
import { profileByName } from '../emulator/profiles.ts';
import { CLASS_NAMES, type ClassName, type MachineStats } from '../emulator/stats.ts';
import { runtimeMeterOf } from './ktal.ts';
import { syscallName } from './syscalls/numbers.ts';
import { createServer, type Server, type Socket as NetSocket } from 'node:net';
import type { Endpoint, HostPeer } from './net/socket.ts';
import { SIGINT, SIGKILL, signalName } from './signal.ts';
import { INADDR_LOOPBACK } from './net/socket.ts';
import { WORK_KINDS, type WorkSnapshot } from './work.ts';
import { SYSCALL_VECTOR, TIMER_VECTOR } from './entry.ts';
import { VECTOR_NAMES } from '../emulator/exceptions.ts';

export interface Mount { host: string; guest: string; rw: boolean }

/** `HOST:GUEST[:rw]` (or `:ro`). Throws a message for anything else. */
export function parseMount(spec: string): Mount {
  const parts = spec.split(':');
  const mode = parts.length === 3 ? parts[2] : 'ro';
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1] || (mode !== 'rw' && mode !== 'ro')) {
    throw new Error(`bad --mount '${spec}': expected HOST:GUEST[:rw]`);
  }
  if (!parts[1].startsWith('/')) throw new Error(`bad --mount '${spec}': the guest path must be absolute`);
  const comps = parts[1].split('/').filter(c => c !== '');
  if (comps.some(c => c === '.' || c === '..')) {
    throw new Error(`bad --mount '${spec}': the guest path must not contain '.' or '..'`);
  }
  return { host: parts[0], guest: '/' + comps.join('/'), rw: mode === 'rw' };
}

/** Mounts as a list: refused if two name the same guest directory (the second would hide the first). */
export function checkMounts(mounts: readonly Mount[]): void {
  const seen = new Set<string>();
  for (const m of mounts) {
    if (seen.has(m.guest)) throw new Error(`--mount: ${m.guest} is given twice`);
    seen.add(m.guest);
  }
}

export interface TalrunOptions {
  kernel?: boolean;
  verify?: boolean;
  pti?: boolean;
  /** How user mode enters the kernel (KernelOptions.syscallEntry); default int80. */
  syscallEntry?: SyscallEntry;
  mounts?: Mount[];
  uid?: number;
  gid?: number;
  profile?: string;
  /** Guest working directory. */
  cwd?: string;
  envp?: string[];
  memoryBytes?: number;
  /** Timer interrupts per simulated second (default 1000). */
  hz?: number;
  onOutput?: (fd: 1 | 2, bytes: Uint8Array) => void;
}

/** Boot a kernel with talrun's options (mounts made). Throws Error with a message for bad options. */
export function bootKernel(o: TalrunOptions): Kernel {
  const k = new Kernel({
    pti: o.pti, profile: o.profile ? profileByName(o.profile) : undefined, memoryBytes: o.memoryBytes, hz: o.hz,
    onOutput: o.onOutput, syscallEntry: o.syscallEntry,
  });
  checkMounts(o.mounts ?? []);
  for (const m of o.mounts ?? []) {
    const what = `--mount ${m.host}:${m.guest}${m.rw ? ':rw' : ''}`;
    let isDir: boolean;
    try {
      isDir = statSync(m.host).isDirectory();
    } catch (e) {
      throw new Error(`${what}: ${m.host}: ${readErrorText(e)}`);
    }
    if (!isDir) throw new Error(`${what}: ${m.host}: Not a directory`);
    k.vfs.mountHost(m.host, m.guest, { rw: m.rw });
  }
  if (o.cwd !== undefined) {
    const at = lookupPath(k.vfs.context(ROOT), undefined, o.cwd, { directory: true });
    if (typeof at === 'number') {
      throw new Error(`--cwd ${o.cwd}: ${readErrorText({ code: errnoName(at) })} (in the guest)`);
    }
  }
  return k;
}

export interface Publish { hostPort: number; guestPort: number }

/** `HOSTPORT:PORT`. */
export function parsePublish(spec: string): Publish {
  const m = /^(\d+):(\d+)$/.exec(spec);
  const ok = m && Number(m[1]) < 65536 && Number(m[2]) > 0 && Number(m[2]) < 65536;
  if (!ok) throw new Error(`bad --publish '${spec}': expected HOSTPORT:PORT`);
  return { hostPort: Number(m![1]), guestPort: Number(m![2]) };
}

/**
 * The host side of the machine while it runs asynchronously: events from outside (console input, connections to
 * published ports, their data) call `nudge`, which resumes a run waiting in `runAsync`.
 */
export class HostLoop {
  private waiting: (() => void) | undefined;
  readonly servers: Server[] = [];
  constructor(readonly k: Kernel) {}

  nudge(): void {
    const f = this.waiting;
    this.waiting = undefined;
    f?.();
  }

  /** When Ctrl-C was first pressed (ms since the epoch), if it was; and whether it was pressed again. */
  private interruptedAt: number | undefined;
  private interruptedTwice = false;

  /**
   * Ctrl-C: SIGINT to every process, as a terminal sends it. A program that cannot act on it (at CPL 0 with
   * interrupts off, unverified) does not keep talrun running: a second Ctrl-C, or the machine still running a
   * second later, ends the run with status 130 (128 + SIGINT).
   */
  interrupt(): void {
    if (this.interruptedAt === undefined) this.interruptedAt = Date.now();
    else this.interruptedTwice = true;
    this.k.interrupt();
    this.nudge();
  }

  private get giveUp(): boolean {
    return this.interruptedAt !== undefined
      && (this.interruptedTwice || Date.now() - this.interruptedAt > INTERRUPT_GRACE_MS);
  }

  /** Bridge host TCP port `hostPort` to the guest's listener on `guestPort` (talrun --publish). Resolves when listening. */
  publish(p: Publish, host = '127.0.0.1'): Promise<number> {
    const k = this.k;
    k.hostSources++;
    const server = createServer(sock => this.bridge(sock, p.guestPort));
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(p.hostPort, host, () => {
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : p.hostPort);
      });
    });
  }

  /**
   * One host connection to a published port. While the guest's listener has no room (its accept queue is full, or
   * the machine has as many sockets as it may), the host socket waits unread, as a client whose SYN Linux dropped
   * retransmits it, and tries again when the kernel says a listener may have room.
   */
  private bridge(sock: NetSocket, guestPort: number): void {
    const k = this.k;
    let open = true, gone = false;
    sock.once('close', () => { gone = true; });
    sock.on('error', () => { gone = true; });
    const peer: HostPeer = {
      send: b => { sock.write(b); },
      end: () => { sock.end(); },
      reset: () => { open = false; sock.resetAndDestroy(); },
      writable: () => open && sock.writableLength < (1 << 20),
    };
    const attempt = (): void => {
      if (gone) return;
      const ep = k.net.connectFromHost(guestPort, peer, { addr: INADDR_LOOPBACK, port: sock.remotePort ?? 0 });
      if (ep === -EAGAIN) { k.net.roomWq.add(attempt, sock); return; }
      if (typeof ep === 'number') { sock.resetAndDestroy(); return; } // ECONNREFUSED: nobody listens inside
      this.attach(sock, ep, () => { open = false; });
    };
    attempt();
  }

  /** Bytes both ways between a host socket and the guest's end of its connection, with backpressure. */
  private attach(sock: NetSocket, ep: Endpoint, closed: () => void): void {
    const k = this.k;
    k.hostSources++;
    sock.setNoDelay(true);
    // Paused while the guest's receive queue is full (the guest's read resumes it) or the machine's socket memory
    // is spent (a release anywhere resumes it).
    const resume = (): void => {
      if (!sock.isPaused() || ep.closed) return;
      if (ep.space > 0) sock.resume();
      else if (ep.window > 0) k.net.mem.wq.add(resume, ep);
    };
    ep.onDrain = resume;
    sock.on('data', (d: Buffer) => {
      if (ep.closed) { sock.resetAndDestroy(); return; } // data for a closed socket draws an RST
      ep.deliver(d);
      if (ep.space <= 0) {
        sock.pause();
        if (ep.window > 0) k.net.mem.wq.add(resume, ep);
      }
      this.nudge();
    });
    sock.on('drain', () => { ep.wq.wake(); this.nudge(); });
    sock.on('end', () => { ep.eof = true; ep.wq.wake(); this.nudge(); });
    sock.on('error', () => { closed(); if (!ep.closed) ep.reset = true; ep.wq.wake(); this.nudge(); });
    sock.on('close', () => {
      closed();
      k.hostSources--;
      if (!ep.eof) { ep.eof = true; ep.wq.wake(); }
      this.nudge();
    });
    this.nudge();
  }

  /** Run until the program ends (or the budget), letting host events in between slices and while idle. */
  async run(pid: number, maxInstructions = Infinity): Promise<RunOutcome> {
    const k = this.k;
    k.mainPid = pid;
    let left = maxInstructions;
    try {
      for (;;) {
        const before = k.machine.cpu.instructions();
        const exit = k.run(Math.min(left, 2_000_000));
        left -= k.machine.cpu.instructions() - before;
        if (!k.exits.has(pid) && this.giveUp) return interruptedOutcome(k, pid);
        if (exit === 'limit') {
          if (left <= 0) return outcome(k, pid, 'limit');
          await new Promise(r => setImmediate(r)); // let host events in
          continue;
        }
        if (k.exits.has(pid)) return finishMain(k, pid, exit);
        if (exit === 'idle') {
          if (k.liveTasks.some(t => t.wakeAt < Infinity)) await new Promise(r => setImmediate(r));
          else await new Promise<void>(r => { this.waiting = r; });
          continue;
        }
        return outcome(k, pid, exit);
      }
    } finally {
      for (const s of this.servers) s.close();
    }
  }
}

/** How long talrun waits, after Ctrl-C, for the machine to act on SIGINT before it gives up on it. */
const INTERRUPT_GRACE_MS = 1000;

/** Ctrl-C that the machine did not act on: talrun stops it where it is. */
function interruptedOutcome(k: Kernel, pid: number): RunOutcome {
  const where = `eip 0x${(k.machine.cpu.eip >>> 0).toString(16)} (task ${k.current.pid} ${k.current.comm})`;
  return {
    ...outcome(k, pid, 'limit'), status: STATUS_INTERRUPTED, signal: signalName(SIGINT),
    message: `talrun: interrupted: the machine did not act on SIGINT; stopped at ${where}`,
  };
}

/** When the main program ends, talrun ends the processes it started in the background (--bg) with SIGKILL. */
export function finishMain(k: Kernel, pid: number, exit: KernelExit): RunOutcome {
  for (const t of [...k.liveTasks]) k.sendSignal(t, SIGKILL);
  const after = k.liveTasks.length ? k.run(1_000_000) : exit === 'idle' ? 'done' : exit;
  return outcome(k, pid, after === 'idle' ? 'done' : after);
}

/** Exit statuses of talrun itself (besides the program's own and 128 + signal). */
export const STATUS_HUNG = 124, STATUS_PANIC = 125, STATUS_CANNOT_EXECUTE = 126;
/** 128 + SIGINT: Ctrl-C, when talrun had to stop the machine itself. */
export const STATUS_INTERRUPTED = 128 + SIGINT;

export interface RunOutcome {
  /** What a shell would report. */
  status: number;
  signal: string | null;
  /** The program's exit info, if it ended. */
  exit?: ExitInfo;
  /** How the kernel's run ended. */
  kernelExit: KernelExit | 'exec-failed';
  /** A message for stderr from talrun itself (a refusal, the watchdog, a panic), if any. */
  message?: string;
  stats: MachineStats;
  /** The kernel's clock, Hz (the profile's unless overridden): what turns the cycles into simulated time. */
  clockHz: number;
  /** The kernel's own work by kind: units and cycles charged (kernel/work.ts). */
  work: WorkSnapshot;
  /** System calls by name, in first-use order. */
  syscalls: Map<string, number>;
  /**
   * Kernel mode: the user-mode runtime's instructions charged by class in place of its TypeScript twin's work
   * (kernel/rtwork.ts; zero in user mode, where the runtime itself runs), and the import calls charged, by import
   * (a call that slept and was restarted counts once).
   */
  runtime: { byClass: Record<ClassName, number>; calls: Map<string, number> };
}

/** What the kernel charged for the runtime's work in kernel mode (kernel/rtwork.ts). */
function runtimeOf(k: Kernel): RunOutcome['runtime'] {
  const meter = runtimeMeterOf(k);
  const byClass = {} as Record<ClassName, number>;
  CLASS_NAMES.forEach((name, i) => { byClass[name] = meter?.byClass[i] ?? 0; });
  return { byClass, calls: new Map(meter?.calls) };
}

/** Start `image` under `k`; an ExecError becomes an outcome. Returns the pid or the failed outcome. */
export function start(k: Kernel, image: Uint8Array, argv: string[], o: TalrunOptions): number | RunOutcome {
  if (o.kernel && o.verify === false) {
    // Loudly: this is the one way to run unchecked code at CPL 0.
    k.vfs.console.hooks.write(2,
      Buffer.from(`talrun: WARNING: --no-verify: ${argv[0]} runs UNCHECKED at CPL 0 with the kernel's full authority\n`));
  }
  try {
    return k.spawn(image,
      { argv, envp: o.envp ?? [], uid: o.uid, gid: o.gid, kernelMode: o.kernel, verify: o.verify ?? true,
      cwd: o.cwd }).pid;
  } catch (e) {
    if (!(e instanceof ExecError)) throw e;
    return {
      status: e.status, signal: null, kernelExit: 'exec-failed', message: `talrun: ${e.message}`,
      stats: k.machine.stats(), clockHz: k.clockHz, work: k.work.snapshot(), syscalls: new Map(), runtime: runtimeOf(k),
    };
  }
}

/** The outcome once `k.run` has returned `exit` for the program `pid`. */
export function outcome(k: Kernel, pid: number, exit: KernelExit): RunOutcome {
  const info = k.exits.get(pid);
  const syscalls = new Map<string, number>();
  for (const [nr, n] of k.syscallCounts) syscalls.set(syscallName(nr), n);
  const base = {
    stats: k.machine.stats(), clockHz: k.clockHz, work: k.work.snapshot(), syscalls, kernelExit: exit, runtime: runtimeOf(k),
  };
  if (exit === 'hung') return { ...base, status: STATUS_HUNG, signal: null, message: `talrun: ${k.hungMessage}` };
  if (exit === 'panic')
    return { ...base, status: STATUS_PANIC, signal: null, message: `talrun: kernel panic: ${k.panicMessage}` };
  if (!info) return { ...base, status: STATUS_HUNG, signal: null,
    message: `talrun: the program did not finish (${exit})` };
  const message = info.signal
    ? `talrun: ${info.signal}${info.fault ? `: ${info.fault}` : ''}`
    : undefined;
  return { ...base, status: info.status, signal: info.signal, exit: info, ...(message ? { message } : {}) };
}

export interface SyncRun extends RunOutcome { stdout: Uint8Array; stderr: Uint8Array }

/**
 * Run a program to completion with `stdin` given in full (then end of input). For tests and benchmarks.
 * `maxInstructions` bounds the run (the outcome then says the program did not finish).
 */
export function runProgram(image: Uint8Array, argv: string[], o: TalrunOptions & {
  stdin?: Uint8Array; maxInstructions?: number;
  /** Programs started first, in the same mode (a server for the main program); ended when it ends. */
  background?: { image: Uint8Array; argv: string[] }[];
} = {}): SyncRun {
  const out: Uint8Array[] = [], err: Uint8Array[] = [];
  const k = bootKernel({ ...o, onOutput: (fd, b) => (fd === 1 ? out : err).push(b) });
  if (o.stdin) k.feedInput(o.stdin);
  k.endInput();
  for (const b of o.background ?? []) {
    const bg = start(k, b.image, b.argv, o);
    if (typeof bg !== 'number') return { ...bg, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
  }
  const pid = start(k, image, argv, o);
  let r: RunOutcome;
  if (typeof pid !== 'number') r = pid;
  else {
    k.mainPid = pid;
    const limit = k.machine.cpu.instructions() + (o.maxInstructions ?? 2e9);
    let exit = k.run(limit - k.machine.cpu.instructions());
    // With background processes the machine may go on (or idle) after the main program: end them.
    while (!k.exits.has(pid) && exit !== 'limit' && exit !== 'panic' && exit !== 'hung' && exit !== 'done'
      && exit !== 'idle') exit = k.run(limit - k.machine.cpu.instructions());
    r = k.exits.has(pid) && k.liveTasks.length ? finishMain(k, pid, exit) : outcome(k, pid, exit);
  }
  const done = { ...r, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
  // Nothing returned points into the machine (the output is copied above): its RAM may serve the next run.
  k.machine.mem.release();
  return done;
}

/** A vector as the kernel uses it: its system-call gate, its timer, or the CPU exception's mnemonic. */
function vectorName(v: number): string {
  if (v === SYSCALL_VECTOR) return 'int 0x80';
  if (v === TIMER_VECTOR) return 'timer';
  return VECTOR_NAMES[v] ?? `vector ${v}`;
}

/** Cycles as simulated time at `clockHz`, in the unit that suits them. */
function simulatedTime(cycles: number, clockHz: number): string {
  const seconds = cycles / clockHz;
  if (seconds >= 1) return `${seconds.toFixed(3)} s`;
  if (seconds >= 1e-3) return `${(seconds * 1e3).toFixed(3)} ms`;
  return `${(seconds * 1e6).toFixed(3)} µs`;
}

/**
 * The --stats report: what ran, and where every cycle went, one line per source, so that the lines add up to the
 * total (docs/kernel.md, "talrun --stats").
 */
export function formatStats(r: RunOutcome, mode: string): string {
  const s = r.stats, c = s.cycleSources;
  const runtimeCalls = [...r.runtime.calls.values()].reduce((a, b) => a + b, 0);
  const n = (x: number): string => Math.round(x).toLocaleString('en');
  const list = (items: [string,
    number][]): string => items.filter(([, k]) => k > 0).map(([w, k]) => `${w} ${n(k)}`).join(', ');
  const traps = list(Object.entries(s.traps).map(([v, k]) => [vectorName(Number(v)), k]));
  const work = list(WORK_KINDS.map(w => [w, r.work[w].units]));
  const sources: [string, number, string][] = [
    ['instructions', c.instructions, list(Object.entries(s.byClass))],
    ['TLB misses', c.tlbMisses, `${n(s.tlbMisses)} misses`],
    ['trap entries', c.trapEntries, traps],
    ['irets', c.irets, n(s.irets)],
    ['sysenters', c.sysenters, n(s.sysenters)],
    ['sysexits', c.sysexits, n(s.sysexits)],
    ['isolation', c.isolation, `${n(s.userEntries + s.userExits)} user/kernel crossings`],
    ['CR3 writes', c.cr3Writes, n(s.cr3Writes)],
    ['kernel calls', c.kernelCalls, `${n(s.kernelCalls)} calls of the kernel's functions from machine code`],
    ['kernel work', c.kernelWork, work],
    ['runtime', c.kernelFunctionWork, `kernel mode: the user-mode runtime's instructions for ${n(runtimeCalls)} ` +
      `import calls, charged: ${list(Object.entries(r.runtime.byClass))}`],
    ['idle', c.halted, 'halted, waiting for an interrupt'],
  ];
  const width = Math.max(...sources.map(([, x]) => n(x).length));
  const syscalls = [...r.syscalls.values()].reduce((a, b) => a + b, 0);
  return [
    `talrun: mode ${mode}, profile ${s.profile}`,
    `  instructions  ${n(s.instructions)}`,
    `  cycles        ${n(s.cycles)} (${simulatedTime(s.cycles, r.clockHz)} at the profile's ` +
      `${(r.clockHz / 1e6).toLocaleString('en', { maximumFractionDigits: 1 })} MHz clock), where they went:`,
    ...sources.filter(([, x]) => x > 0).map(([what, x, detail]) =>
      `    ${what.padEnd(14)}${n(x).padStart(width)}${detail ? `  (${detail})` : ''}`),
    `  system calls  ${n(syscalls)}${syscalls ? `: ${[...r.syscalls].map(([name, k]) => `${name} ${k}`).join(', ')}` : ''}`,
    `  timer ticks   ${n(s.timerInterrupts)}${s.doubleFaults ? `; double faults ${n(s.doubleFaults)}` : ''}`,
  ].join('\n') + '\n';
}
