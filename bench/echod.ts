// echod round trips (compiler/examples/echod.pop as the server, compiler/examples/pingpong.pop as the client) with
// 64 B and 4 KiB messages: the client inside the machine over loopback (runProgram's background server), and the
// client on the host through --publish (HostLoop; the client is the same pingpong ELF run natively); in each mode
// under each profile; and both natively on this host as the reference point.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../compiler/popc.ts';
import { bootKernel, finishMain, HostLoop, outcome, start } from '../kernel/talrun.ts';
import type { KernelExit } from '../kernel/kernel.ts';
import { syscallName } from '../kernel/syscalls/numbers.ts';
import { freePort } from './hosttools.ts';
import { type BenchConfig, type Mode, type NativeRun, type SimRun, type WorkloadInfo, diffStats, diffSyscalls, diffWork,
  modeOptions, simRun } from './workload.ts';

const root = join(import.meta.dirname, '..');
const GUEST_PORT = 7000;

function popc(path: string, level: number): Uint8Array {
  const r = compile(readFileSync(join(root, path), 'utf8'), path.split('/').pop()!, { optimise: level });
  if (!r.elf) throw new Error(`${path} does not compile`);
  return r.elf;
}

interface EchodWorkload extends WorkloadInfo { via: 'loopback' | 'publish'; size: number; count: number }

export function echodWorkloads(quick: boolean, smoke = false): EchodWorkload[] {
  const ws: EchodWorkload[] = [];
  for (const via of ['loopback', 'publish'] as const) {
    for (const size of smoke ? [64] : [64, 4096]) {
      const count = smoke ? 5 : quick ? 40 : via === 'loopback' ? 1000 : 400;
      const sz = size === 64 ? '64B' : '4KiB';
      ws.push({
        name: `echod-${via}-${sz}`, kind: 'echod', via, size, count,
        description: via === 'loopback'
          ? `pingpong → echod inside the machine over loopback, ${count} round trips of ${size} B`
          : `pingpong on the host → talrun --publish → echod in the machine, ${count} round trips of ${size} B`,
      });
    }
  }
  return ws;
}

const LINE = /^count (\d+) size (\d+) min (\d+) p50 (\d+) p90 (\d+) p99 (\d+) max (\d+)\n$/;
function parse(out: string, what: string): Record<string, number> {
  const m = LINE.exec(out);
  if (!m) throw new Error(`${what}: pingpong printed ${JSON.stringify(out)}`);
  return { minUs: +m[3], p50Us: +m[4], p90Us: +m[5], p99Us: +m[6], maxUs: +m[7] };
}

function waitExit(c: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  c.stdout?.on('data', d => { stdout += d; });
  c.stderr?.on('data', d => { stderr += d; });
  return new Promise(resolve => c.on('close', code => resolve({ code, stdout, stderr })));
}

const diffCycles = (s: { cycles: number; haltedCycles: number }) => s.cycles - s.haltedCycles;

export class Echod {
  readonly server: Uint8Array;
  readonly client: Uint8Array;

  /** The server and the client compiled by popc at `level` (0, as the report has always measured; 2, -O2). */
  constructor(level = 0) {
    this.server = popc('compiler/examples/echod.pop', level);
    this.client = popc('compiler/examples/pingpong.pop', level);
  }

  /**
   * runProgram's loop, except that when pingpong has exited the machine runs on until echod waits again (it reads
   * the end of the connection and closes it) before talrun ends it: the same system calls in every run, instead of
   * a race between echod's last read and the SIGKILL.
   */
  private loopbackRun(count: number, size: number, profile: string, mode: Mode, what: string) {
    const o = { ...modeOptions(mode), profile };
    const out: Uint8Array[] = [], err: Uint8Array[] = [];
    const k = bootKernel({ ...o, onOutput: (fd, b) => (fd === 1 ? out : err).push(b) });
    k.endInput();
    const t0 = performance.now();
    const bg = start(k, this.server, ['echod', String(GUEST_PORT)], o);
    const pid = start(k, this.client, ['pingpong', String(GUEST_PORT), String(count), String(size)], o);
    if (typeof bg !== 'number' || typeof pid !== 'number') throw new Error(`${what}: exec failed`);
    k.mainPid = pid;
    let exit: KernelExit = k.run(5e9);
    while (!k.exits.has(pid) && (exit === 'idle' || exit === 'limit') && k.liveTasks.length) exit = k.run(5e9);
    if (k.exits.has(pid) && k.liveTasks.length) exit = k.run(1e8); // echod sees the end of the connection, waits again
    const r = finishMain(k, pid, exit);
    const wall = (performance.now() - t0) / 1000;
    if (r.status !== 0)
      throw new Error(`${what} ${profile} ${mode}: status ${r.status} ${r.message ?? ''} ` +
        `${Buffer.concat(err).toString()}`);
    return { r: { ...r, stdout: Buffer.concat(out) }, wall };
  }

  /**
   * The round trips alone: a run of count + 1 round trips less a run of 1 (both programs' start, their buffers
   * allocated, the connection and the first round trip, in which echod allocates its buffer).
   */
  loopback(w: EchodWorkload, profile: string, mode: Mode): SimRun {
    const base = this.loopbackRun(1, w.size, profile, mode, w.name);
    const full = this.loopbackRun(w.count + 1, w.size, profile, mode, w.name);
    const clockHz = bootKernel({}).clockHz;
    const stats = diffStats(full.r.stats, base.r.stats);
    const run = simRun(w.name, profile, mode, stats, diffWork(full.r.work, base.r.work),
      diffSyscalls(full.r.syscalls, base.r.syscalls), clockHz, full.wall,
      parse(Buffer.from(full.r.stdout).toString('latin1'), w.name));
    run.extra.roundTrips = w.count;
    run.extra.perRoundTripMicros = run.simulatedMicros / w.count;
    run.extra.setupCycles = base.r.stats.cycles - base.r.stats.haltedCycles;
    return run;
  }

  async publish(w: EchodWorkload, profile: string, mode: Mode, clientExe: string): Promise<SimRun> {
    const o = { ...modeOptions(mode), profile };
    const k = bootKernel(o);
    k.endInput();
    const pid = start(k, this.server, ['echod', String(GUEST_PORT)], o);
    if (typeof pid !== 'number') throw new Error(`${w.name}: ${pid.message}`);
    const boot = k.run(100_000_000); // until echod waits in accept
    if (boot !== 'idle') throw new Error(`${w.name}: echod did not reach accept (${boot})`);
    const before = k.machine.stats();
    const workBefore = k.work.snapshot();
    const sysBefore = new Map(k.syscallCounts);
    const hl = new HostLoop(k);
    const port = await hl.publish({ hostPort: 0, guestPort: GUEST_PORT });
    const t0 = performance.now();
    const client = spawn(clientExe, [`127.0.0.1:${port}`, String(w.count), String(w.size)],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const done = waitExit(client).then(res => {
      for (const t of [...k.liveTasks]) if (t.pid === pid) k.sendSignal(t, 9);
      hl.nudge();
      return res;
    });
    const running = hl.run(pid, 50e9);
    const [res, end] = await Promise.all([done, running]);
    const wall = (performance.now() - t0) / 1000;
    if (res.code !== 0)
      throw new Error(`${w.name} ${profile} ${mode}: the host client exited ${res.code}: ${res.stderr}`);
    const r = end.exit ? end : outcome(k, pid, end.kernelExit === 'exec-failed' ? 'done' : end.kernelExit);
    // Only the round trips: the counters and system calls since echod began waiting in accept.
    const diff = diffStats(r.stats, before);
    const sys = new Map<string, number>();
    for (const [nr, n] of k.syscallCounts) {
      const d = n - (sysBefore.get(nr) ?? 0);
      if (d > 0) sys.set(syscallName(nr), d);
    }
    return simRun(w.name, profile, mode, diff, diffWork(r.work, workBefore), sys, k.clockHz, wall, {
      ...parse(res.stdout,
        w.name), roundTrips: w.count, perRoundTripMicros: (diffCycles(diff) / k.clockHz) * 1e6 / w.count,
      note: 'p50 etc. in host wall-clock µs',
    });
  }
}


export async function echodSuite(cfg: BenchConfig): Promise<{ workloads: WorkloadInfo[]; sim: SimRun[]; native: NativeRun[] }> {
  const ws = echodWorkloads(cfg.quick, cfg.smoke);
  const e = new Echod();
  const sim: SimRun[] = [], native: NativeRun[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'ktal-bench-echod-'));
  const server = join(tmp, 'echod'), client = join(tmp, 'pingpong');
  writeFileSync(server, e.server); chmodSync(server, 0o755);
  writeFileSync(client, e.client); chmodSync(client, 0o755);
  try {
    for (const w of ws) {
      // Native: both ELFs on this host over its loopback (the same for both kinds of workload).
      const port = await freePort();
      const srv = spawn(server, [String(port)], { stdio: 'ignore' });
      try {
        let ok = false;
        for (let i = 0; i < 100 && !ok; i++) {
          await new Promise(r => setTimeout(r, 20));
          ok = await new Promise<boolean>(res => { const s = net.connect(port, '127.0.0.1'); s.on('connect',
            () => { s.destroy(); res(true); }); s.on('error', () => res(false)); });
        }
        const t0 = performance.now();
        const p = spawnSync(client, [`127.0.0.1:${port}`, String(w.count), String(w.size)],
          { encoding: 'latin1', timeout: 60_000 });
        const wall = (performance.now() - t0) / 1000;
        if (p.status !== 0) throw new Error(`${w.name} natively: ${p.status} ${p.stderr}`);
        native.push({ workload: w.name, wallSeconds: wall, extra: parse(p.stdout, w.name) });
      } finally {
        srv.kill('SIGKILL');
      }
      for (const profile of cfg.profiles) {
        for (const mode of cfg.modes) {
          const r = w.via === 'loopback' ? e.loopback(w, profile, mode) : await e.publish(w, profile, mode, client);
          sim.push(r);
          cfg.log(`  ${w.name.padEnd(20)} ${profile.padEnd(12)} ${mode.padEnd(10)} ` +
            `${Math.round(r.cycles).toLocaleString('en').padStart(15)} cycles ` +
            `${r.instructions.toLocaleString('en').padStart(13)} insns ${String(r.syscalls).padStart(7)} syscalls p50 ` +
            `${r.extra.p50Us} µs ${r.wallSeconds.toFixed(2).padStart(6)} s`);
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { workloads: ws.map(({ name, description, kind }) => ({ name, description, kind })), sim, native };
}
