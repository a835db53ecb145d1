// Mounts and the mount table (fs/mount.h, fs/namespace.c): a path is a (mount, dentry) pair; a mount puts a file
// system's root dentry over a directory (its mount point) of another mount. The last mount on a mount point hides
// the earlier ones.
import type { Dentry } from './dentry.ts';
import type { DeviceRegistry } from './devices.ts';
import type { SuperBlock } from './inode.ts';

export interface Path {
  readonly mnt: Mount;
  readonly dentry: Dentry;
}

export interface MountFlags {
  /** MNT_READONLY: writes fail with EROFS. */
  readonly?: boolean;
  /** MNT_NODEV: device files cannot be opened (EACCES). */
  nodev?: boolean;
}

export class Mount {
  readonly root: Dentry;
  readonly readonly: boolean;
  readonly nodev: boolean;
  /** Where it is mounted: null for the namespace's root mount. */
  parent: Mount | null = null;
  mountpoint: Dentry | null = null;

  constructor(readonly ns: Namespace, readonly sb: SuperBlock, flags: MountFlags = {}) {
    this.root = sb.root;
    this.readonly = flags.readonly ?? false;
    this.nodev = flags.nodev ?? false;
  }

  /** mnt_want_write: whether this mount and its file system can be written. */
  get writable(): boolean {
    return !this.readonly && !this.sb.readonly;
  }
}

export class Namespace {
  readonly root: Mount;
  private readonly table = new Map<Dentry, Mount[]>();

  constructor(rootSb: SuperBlock, readonly devices: DeviceRegistry) {
    this.root = new Mount(this, rootSb);
  }

  get rootPath(): Path {
    return { mnt: this.root, dentry: this.root.root };
  }

  /** lookup_mnt: the mount on top of `dentry` in `mnt`, if any. */
  lookupMount(mnt: Mount, dentry: Dentry): Mount | undefined {
    if (dentry.mounts === 0) return undefined;
    const list = this.table.get(dentry);
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) if (list[i].parent === mnt) return list[i];
    return undefined;
  }

  /** Mounts `sb` on the directory `at` (which the caller has resolved, following mounts). */
  attach(sb: SuperBlock, at: Path, flags: MountFlags = {}): Mount {
    const m = new Mount(this, sb, flags);
    m.parent = at.mnt;
    m.mountpoint = at.dentry;
    at.dentry.mounts++;
    const list = this.table.get(at.dentry) ?? [];
    list.push(m);
    this.table.set(at.dentry, list);
    return m;
  }

  /** Unmounts `m` (nothing checks whether it is busy). */
  detach(m: Mount): void {
    const point = m.mountpoint;
    if (!point) return;
    const list = this.table.get(point) ?? [];
    const i = list.indexOf(m);
    if (i >= 0) {
      list.splice(i, 1);
      point.mounts--;
    }
    if (list.length === 0) this.table.delete(point);
  }

  /** Every mount, the root first. */
  mounts(): Mount[] {
    return [this.root, ...[...this.table.values()].flat()];
  }
}

/** follow_mount: the top of the stack of mounts on `p`, or `p`. */
export function followMounts(p: Path): Path {
  for (;;) {
    const m = p.mnt.ns.lookupMount(p.mnt, p.dentry);
    if (!m) return p;
    p = { mnt: m, dentry: m.root };
  }
}

export function samePath(a: Path, b: Path): boolean {
  return a.mnt === b.mnt && a.dentry === b.dentry;
}
