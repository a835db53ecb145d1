// Run an executable natively on the host (Linux runs static i386 ELF files) and capture what it does.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult { stdout: string; stderr: string; status: number | null; signal: NodeJS.Signals | null }

export function runNative(file: string, args: string[] = [],
  opts: { stdin?: string; cwd?: string; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(file, args,
    { input: opts.stdin ?? '', cwd: opts.cwd, timeout: opts.timeoutMs ?? 10_000, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, signal: r.signal };
}

/** A scratch directory removed by the returned function. */
export function scratch(prefix = 'ktal-'): { dir: string; file: (name: string, data: Uint8Array | string, mode?
  : number) => string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file: (name, data, mode) => {
      const p = join(dir, name);
      writeFileSync(p, data);
      if (mode !== undefined) chmodSync(p, mode);
      return p;
    },
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}
