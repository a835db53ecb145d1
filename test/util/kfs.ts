// Helpers for the kernel/fs tests: a fresh VFS, contexts for root and uid 1000, and short forms of the calls.
import { errnoName } from '../../kernel/errno.ts';
import { O_CREAT, O_DIRECTORY, O_RDONLY, O_TRUNC, O_WRONLY } from '../../kernel/fs/fcntl.ts';
import { vfsRead, vfsWrite, type OpenFile } from '../../kernel/fs/file.ts';
import type { Path } from '../../kernel/fs/mount.ts';
import { lookupPath, openat, type FsContext } from '../../kernel/fs/namei.ts';
import { ROOT, userCred } from '../../kernel/fs/permission.ts';
import { readdirAll } from '../../kernel/fs/readdir.ts';
import { Vfs } from '../../kernel/fs/vfs.ts';

export const USER = userCred(1000, 1000);

/** The value, or a thrown Error naming the errno. */
export function must<T>(r: T | number, what = ''): T {
  if (typeof r === 'number' && r < 0) throw new Error(`${what || 'call'} failed: ${errnoName(r)}`);
  return r as T;
}

export const bytes = (s: string) => new TextEncoder().encode(s);
export const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

export function fresh(): { vfs: Vfs; root: FsContext; user: FsContext } {
  const vfs = new Vfs();
  return { vfs, root: vfs.context(ROOT), user: vfs.context(USER) };
}

/** The context with its cwd at `path`. */
export function at(ctx: FsContext, path: string): FsContext {
  return { ...ctx, cwd: must(lookupPath(ctx, undefined, path), `cd ${path}`) };
}

export function pathOf(ctx: FsContext, path: string): Path {
  return must(lookupPath(ctx, undefined, path), path);
}

/** Creates (or truncates) a file with the given contents and mode (through the VFS, as ctx). */
export function put(ctx: FsContext, path: string, content: string | Uint8Array, mode = 0o644): void {
  const f = must(openat(ctx, undefined, path, O_WRONLY | O_CREAT | O_TRUNC, mode), `create ${path}`);
  const b = typeof content === 'string' ? Buffer.from(content, 'latin1') : content;
  if (b.length) must(vfsWrite(f, b), `write ${path}`);
}

/** Everything a file holds from its position on. */
export function readRest(f: OpenFile, chunk = 4096): Uint8Array {
  const parts: Uint8Array[] = [];
  for (;;) {
    const b = new Uint8Array(chunk);
    const n = must(vfsRead(f, b), 'read');
    if (n === 0) break;
    parts.push(b.subarray(0, n));
  }
  return Buffer.concat(parts);
}

/** The contents of a file, or -errno from open. */
export function cat(ctx: FsContext, path: string): string | number {
  const f = openat(ctx, undefined, path, O_RDONLY);
  if (typeof f === 'number') return f;
  return text(readRest(f));
}

/** The names readdir gives for a directory (with `.` and `..`), or -errno from open. */
export function ls(ctx: FsContext, path: string): string[] | number {
  const f = openat(ctx, undefined, path, O_RDONLY | O_DIRECTORY);
  if (typeof f === 'number') return f;
  return must(readdirAll(f)).map(e => e.name);
}
