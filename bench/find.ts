// find (compiler/examples/find.pop) over generated trees on the guest's tmpfs and over a host mount of a real tree,
// `find DIR -name '*.c'`, in each mode under each profile; and the same ELF natively on this host (the generated
// tree on /dev/shm, the real tree where it is).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../compiler/popc.ts';
import { bootKernel, outcome, start } from '../kernel/talrun.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { ROOT } from '../kernel/fs/permission.ts';
import { mkdirat, openat } from '../kernel/fs/namei.ts';
import { fput } from '../kernel/fs/file.ts';
import { O_CREAT, O_WRONLY } from '../kernel/fs/fcntl.ts';
import { type BenchConfig, type NativeRun, type SimRun, type WorkloadInfo, modeOptions, simRun } from './workload.ts';

const root = join(import.meta.dirname, '..');

const findElfs = new Map<number, Uint8Array>();
/** find compiled by popc at `level` (0, the stack machine, as the report has always measured; 2, the optimiser). */
export function findImage(level = 0): Uint8Array {
  let elf = findElfs.get(level);
  if (!elf) {
    const r = compile(readFileSync(join(root, 'compiler/examples/find.pop'), 'utf8'), 'find.pop', { optimise: level });
    if (!r.elf) throw new Error('find.pop does not compile');
    elf = r.elf;
    findElfs.set(level, elf);
  }
  return elf;
}

/** A deterministic tree of `n` entries under `top` (relative paths, directories first): 3 subdirectories and 17 files a directory. */
export function treeEntries(n: number): { dirs: string[]; files: string[] } {
  const dirs: string[] = [], files: string[] = [];
  const queue = [''];
  const exts = ['.c', '.h', '.txt', '.c', '.o'];
  let i = 0;
  while (dirs.length + files.length < n && queue.length) {
    const d = queue.shift()!;
    for (let j = 0; j < 20 && dirs.length + files.length < n; j++, i++) {
      if (j < 3) { const p = `${d}dir${i}/`; dirs.push(p.slice(0, -1)); queue.push(p); }
      else files.push(`${d}file${i}${exts[i % exts.length]}`);
    }
  }
  return { dirs, files };
}

export function buildGuestTree(k: Kernel, top: string, n: number): void {
  const ctx = k.vfs.context(ROOT);
  const mk = (p: string) => { const e = mkdirat(ctx, undefined, p,
    0o755); if (e < 0) throw new Error(`mkdir ${p}: ${e}`); };
  // Its own tmpfs, with an inode for every entry (as `mount -t tmpfs -o nr_inodes=…` would): the root file system's
  // default (half its pages) is smaller than the largest tree.
  k.vfs.mountTmpfs(top, { maxInodes: n + 1 });
  const { dirs, files } = treeEntries(n);
  for (const d of dirs) mk(`${top}/${d}`);
  for (const f of files) {
    const o = openat(ctx, undefined, `${top}/${f}`, O_WRONLY | O_CREAT, 0o644);
    if (typeof o === 'number') throw new Error(`create ${f}: ${o}`);
    fput(o);
  }
}

function buildHostTree(top: string, n: number): void {
  mkdirSync(top);
  const { dirs, files } = treeEntries(n);
  for (const d of dirs) mkdirSync(join(top, d));
  for (const f of files) writeFileSync(join(top, f), '');
}

interface FindWorkload extends WorkloadInfo { tree: { generated: number } | { host: string } }

export function findWorkloads(quick: boolean, smoke = false): FindWorkload[] {
  const real = ['/usr/include', '/usr/share/doc', join(root, 'node_modules')].find(existsSync)!;
  const realQuick = smoke ? join(root, 'compiler') : ['/usr/include/linux', join(root, 'compiler')].find(existsSync)!;
  const sizes = smoke ? [100] : quick ? [1_000, 3_000] : [10_000, 100_000];
  const label = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));
  return [
    ...sizes.map(n => ({ name: `find-tmpfs-${label(n)}`, kind: 'find' as const,
      description: `find /t -name '*.c' over a generated tree of ${n.toLocaleString('en')} entries on the guest's tmpfs`, tree: { generated: n } })),
    { name: 'find-hostfs', kind: 'find' as const,
      description: `find DIR -name '*.h' over a host mount of DIR = ${quick ? realQuick : real} (read-only, at the ` +
      `same path)`, tree: { host: quick ? realQuick : real } },
  ];
}

const pattern = (w: FindWorkload) => ('host' in w.tree ? '*.h' : '*.c');

function countLines(b: Uint8Array): number {
  let n = 0;
  for (const x of b) if (x === 10) n++;
  return n;
}

export function runFindSim(w: FindWorkload, profile: string, mode: SimRun['mode'], level = 0): SimRun {
  const out: Uint8Array[] = [], err: Uint8Array[] = [];
  const o = { ...modeOptions(mode), profile,
    mounts: 'host' in w.tree ? [{ host: w.tree.host, guest: w.tree.host, rw: false }] : [] };
  const k = bootKernel({ ...o, onOutput: (fd, b) => (fd === 1 ? out : err).push(b) });
  const dir = 'host' in w.tree ? w.tree.host : '/t';
  if ('generated' in w.tree) buildGuestTree(k, '/t', w.tree.generated);
  k.endInput();
  const t0 = performance.now();
  const pid = start(k, findImage(level), ['find', dir, '-name', pattern(w)], o);
  if (typeof pid !== 'number') throw new Error(`${w.name}: ${pid.message}`);
  k.mainPid = pid;
  const exit = k.run(20e9);
  const wall = (performance.now() - t0) / 1000;
  const r = outcome(k, pid, exit);
  // Unreadable entries in a real tree may make find exit 1; anything else is a failure.
  if (r.status !== 0 && !('host' in w.tree && r.status === 1))
    throw new Error(`${w.name} ${profile} ${mode}: status ${r.status} ${r.message ?? ''} ` +
      `${Buffer.concat(err).toString()}`);
  return simRun(w.name, profile, mode, r.stats, r.work, r.syscalls, k.clockHz, wall,
    { lines: countLines(Buffer.concat(out)), status: r.status });
}

export function findSuite(cfg: BenchConfig): { workloads: WorkloadInfo[]; sim: SimRun[]; native: NativeRun[] } {
  const ws = findWorkloads(cfg.quick, cfg.smoke);
  const sim: SimRun[] = [], native: NativeRun[] = [];
  const tmp = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ktal-bench-find-'));
  try {
    const exe = join(tmp, 'find');
    writeFileSync(exe, findImage());
    chmodSync(exe, 0o755);
    for (const w of ws) {
      // Native: the same ELF on this host (the generated tree on tmpfs), best of three.
      let dir: string;
      if ('generated' in w.tree) { dir = join(tmp, 't'); rmSync(dir,
        { recursive: true, force: true }); buildHostTree(dir, w.tree.generated); }
      else dir = w.tree.host;
      let best = Infinity, lines = 0;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const p = spawnSync(exe, [dir, '-name', pattern(w)], { maxBuffer: 1 << 28 });
        best = Math.min(best, (performance.now() - t0) / 1000);
        if (p.error) throw p.error;
        lines = countLines(p.stdout);
      }
      native.push({ workload: w.name, wallSeconds: best, extra: { lines } });
      for (const profile of cfg.profiles) {
        for (const mode of cfg.modes) {
          const r = runFindSim(w, profile, mode);
          if (r.extra.lines !== lines)
            throw new Error(`${w.name} ${profile} ${mode}: ${r.extra.lines} lines, natively ${lines}`);
          sim.push(r);
          cfg.log(`  ${w.name.padEnd(16)} ${profile.padEnd(12)} ${mode.padEnd(10)} ` +
            `${Math.round(r.cycles).toLocaleString('en').padStart(15)} cycles ` +
            `${r.instructions.toLocaleString('en').padStart(13)} insns ${String(r.syscalls).padStart(7)} syscalls ` +
            `${r.wallSeconds.toFixed(2).padStart(6)} s`);
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { workloads: ws.map(({ name, description, kind }) => ({ name, description, kind })), sim, native };
}
