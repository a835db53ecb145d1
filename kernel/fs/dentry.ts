// Directory entries (include/linux/dcache.h, fs/dcache.c): the name and parent of an inode as a path walk found
// it. Children are cached in their parent for the life of the kernel (there is no shrinker); a file system whose
// contents can change behind the kernel's back (hostfs) revalidates a cached child before it is reused.
import type { Inode } from './inode.ts';

export class Dentry {
  /** The parent; the root of a file system is its own parent (IS_ROOT). */
  parent: Dentry;
  readonly children = new Map<string, Dentry>();
  /** How many mounts have this dentry as their mount point (d_mountpoint). */
  mounts = 0;
  /** Unlinked or replaced: no longer reachable from its parent (d_unhashed). */
  unhashed = false;

  constructor(public name: string, parent: Dentry | null, public inode: Inode) {
    this.parent = parent ?? this;
  }

  get isRoot(): boolean {
    return this.parent === this;
  }

  /** d_alloc + d_add: a new child for `inode`, cached under `name`. */
  addChild(name: string, inode: Inode): Dentry {
    const d = new Dentry(name, this, inode);
    this.children.set(name, d);
    return d;
  }

  /** d_delete/d_drop: takes this dentry out of its parent's cache (open files and cwds that hold it keep it). */
  drop(): void {
    if (!this.isRoot && this.parent.children.get(this.name) === this) this.parent.children.delete(this.name);
    this.unhashed = true;
  }

  /** d_move: this dentry is now `name` in `parent`; a dentry it replaces there is dropped. */
  move(parent: Dentry, name: string): void {
    if (this.parent.children.get(this.name) === this) this.parent.children.delete(this.name);
    parent.children.get(name)?.drop();
    this.parent = parent;
    this.name = name;
    this.unhashed = false;
    parent.children.set(name, this);
  }

  /** d_ancestor: whether this dentry is `other` or below it (within one file system). */
  isSubdirOf(other: Dentry): boolean {
    for (let d: Dentry = this; ; d = d.parent) {
      if (d === other) return true;
      if (d.isRoot) return false;
    }
  }
}
