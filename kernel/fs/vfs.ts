// The file system tree a kernel starts with, and the calls that set it up (not system calls: errors here are
// configuration mistakes and throw). The root is a tmpfs (0755) with /dev (null, zero, full, console, tty) and
// /tmp (1777); host directories and further tmpfs instances are mounted on directories created as needed.
import { EEXIST, errnoName } from '../errno.ts';
import { Console, DeviceRegistry, MEM_MAJOR, TTYAUX_MAJOR, fullOps, nullOps, type ConsoleHooks,
  zeroOps } from './devices.ts';
import { O_RDONLY, O_WRONLY } from './fcntl.ts';
import type { OpenFile } from './file.ts';
import { Hostfs } from './hostfs.ts';
import { wallClock, type Clock, type SuperBlock } from './inode.ts';
import { Namespace, followMounts, type Mount, type MountFlags, type Path } from './mount.ts';
import { lookupPath, mkdirat, mknodat, openat, type FsContext } from './namei.ts';
import { ROOT, type Cred } from './permission.ts';
import { S_IFCHR, makedev } from './stat.ts';
import { Tmpfs, type TmpfsOptions } from './tmpfs.ts';

export interface VfsOptions {
  /** The clock for tmpfs times (default: the host's wall clock). */
  clock?: Clock;
  /** Where the console's output goes (default: nowhere). */
  console?: ConsoleHooks;
  /** The root tmpfs's size limit in bytes. */
  maxBytes?: number;
}

export class Vfs {
  readonly devices = new DeviceRegistry();
  readonly console: Console;
  readonly rootfs: Tmpfs;
  readonly ns: Namespace;
  readonly clock: Clock;

  constructor(opts: VfsOptions = {}) {
    this.clock = opts.clock ?? wallClock;
    this.console = new Console(opts.console);
    this.rootfs = new Tmpfs({ clock: this.clock, mode: 0o755, maxBytes: opts.maxBytes });
    this.ns = new Namespace(this.rootfs, this.devices);
    this.devices.registerChr(MEM_MAJOR, 3, nullOps);
    this.devices.registerChr(MEM_MAJOR, 5, zeroOps);
    this.devices.registerChr(MEM_MAJOR, 7, fullOps);
    this.devices.registerChr(TTYAUX_MAJOR, 0, this.console.fops);
    this.devices.registerChr(TTYAUX_MAJOR, 1, this.console.fops);
    const ctx = this.context(ROOT, { umask: 0 });
    check(mkdirat(ctx, undefined, '/dev', 0o755), 'mkdir /dev');
    check(mkdirat(ctx, undefined, '/tmp', 0o1777), 'mkdir /tmp');
    const nodes: [string, number, number, number][] = [
      ['null', MEM_MAJOR, 3, 0o666], ['zero', MEM_MAJOR, 5, 0o666], ['full', MEM_MAJOR, 7, 0o666],
      ['tty', TTYAUX_MAJOR, 0, 0o666], ['console', TTYAUX_MAJOR, 1, 0o600],
    ];
    for (const [name, ma, mi, mode] of nodes) check(mknodat(ctx, undefined, `/dev/${name}`, S_IFCHR | mode,
      makedev(ma, mi)), `mknod /dev/${name}`);
    const dev = lookupPath(ctx, undefined, '/dev', { directory: true });
    if (typeof dev === 'number') throw new Error(`lookup /dev: ${errnoName(dev)}`);
    this.bootDev = dev;
  }

  /**
   * /dev of the boot tree, kept for the console: processes get their descriptors 0-2 from the console node made at
   * boot (as Linux opens /dev/console for init before user space mounts anything), so that a mount over /dev or /
   * does not take the console away.
   */
  private readonly bootDev: Path;

  /** The root of the namespace (the top of any mounts on /). */
  get root(): Path {
    return followMounts(this.ns.rootPath);
  }

  /** A context for path operations: credentials (default root), cwd (default /), umask (default 022). */
  context(cred: Cred = ROOT, opts: { cwd?: Path; umask?: number } = {}): FsContext {
    return { cred, root: this.root, cwd: opts.cwd ?? this.root, umask: opts.umask ?? 0o022 };
  }

  /**
   * Shows the host directory `hostPath` at `guestPath` (created in the guest as root, 0755, if missing): read-only
   * unless `rw`, and nodev. Throws if the host path is not a directory or the guest path cannot be a mount point.
   */
  mountHost(hostPath: string, guestPath: string, opts: { rw?: boolean } = {}): Mount {
    return this.mountAt(new Hostfs(hostPath, { rw: opts.rw ?? false, clock: this.clock }), guestPath,
      { readonly: !opts.rw, nodev: true });
  }

  /** A new tmpfs at `guestPath` (created as needed). */
  mountTmpfs(guestPath: string, opts: TmpfsOptions = {}): Mount {
    return this.mountAt(new Tmpfs({ clock: this.clock, ...opts }), guestPath, { readonly: opts.readonly });
  }

  private mountAt(sb: SuperBlock, guestPath: string, flags: MountFlags): Mount {
    const ctx = this.context(ROOT, { umask: 0o022 });
    let prefix = '';
    for (const comp of guestPath.split('/').filter(c => c !== '')) {
      prefix += '/' + comp;
      const r = mkdirat(ctx, undefined, prefix, 0o755);
      if (r < 0 && r !== -EEXIST) throw new Error(`mount ${guestPath}: mkdir ${prefix}: ${errnoName(r)}`);
    }
    const at = lookupPath(ctx, undefined, guestPath || '/', { directory: true });
    if (typeof at === 'number') throw new Error(`mount ${guestPath}: ${errnoName(at)}`);
    return this.ns.attach(sb, at, flags);
  }

  /**
   * Open descriptions of the console for descriptors 0 (reading talrun's stdin), 1 (writing its stdout) and 2
   * (writing its stderr).
   */
  consoleFiles(): [OpenFile, OpenFile, OpenFile] {
    const ctx = this.context();
    const open = (flags: number) => {
      const f = openat(ctx, this.bootDev, 'console', flags);
      if (typeof f === 'number') throw new Error(`open /dev/console: ${errnoName(f)}`);
      return f;
    };
    const err = open(O_WRONLY);
    err.priv = 2;
    return [open(O_RDONLY), open(O_WRONLY), err];
  }
}

function check(r: number, what: string): void {
  if (r < 0) throw new Error(`vfs: ${what}: ${errnoName(r)}`);
}
