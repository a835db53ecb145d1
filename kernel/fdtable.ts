// A process's file descriptor table (struct files_struct, fs/file.c): descriptors are small integers naming open
// file descriptions (OpenFile); a new descriptor is the lowest free one (EMFILE at the limit, RLIMIT_NOFILE's
// default 1024); each has its own close-on-exec flag; dup'ed descriptors share one OpenFile, whose reference
// count (`refs`) the table keeps: the last close releases it.
import { EBADF, EINVAL, EMFILE } from './errno.ts';
import { fget, fput, type OpenFile } from './fs/file.ts';

/** RLIMIT_NOFILE's default soft limit (INR_OPEN_CUR). */
export const NR_OPEN_DEFAULT = 1024;

export class FdTable {
  private readonly files: (OpenFile | undefined)[] = [];
  private readonly cloexec: boolean[] = [];
  /** No descriptor below this is free (the kernel's next_fd hint). */
  private next = 0;

  constructor(readonly limit = NR_OPEN_DEFAULT) {}

  /** The open file `fd` names (any 32-bit value; negative or too large ones name nothing). */
  get(fd: number): OpenFile | undefined {
    fd |= 0;
    return fd >= 0 && fd < this.files.length ? this.files[fd] : undefined;
  }

  /**
   * Installs `file` at the lowest free descriptor >= `min`, taking over the caller's reference to it; the
   * descriptor, or -EMFILE when none is free below the limit (the caller keeps its reference then).
   */
  alloc(file: OpenFile, cloexec = false, min = 0): number {
    if (min < 0) return -EINVAL;
    let fd = Math.max(min, this.next);
    while (fd < this.files.length && this.files[fd] !== undefined) fd++;
    if (fd >= this.limit) return -EMFILE;
    this.files[fd] = file;
    this.cloexec[fd] = cloexec;
    if (min <= this.next) this.next = fd + 1;
    return fd;
  }

  /** Whether a new descriptor is available (get_unused_fd_flags would succeed). */
  hasFree(min = 0): boolean {
    let fd = Math.max(min, this.next);
    while (fd < this.files.length && this.files[fd] !== undefined) fd++;
    return fd < this.limit;
  }

  /** close: drops the descriptor and its reference; -EBADF if it names nothing. */
  close(fd: number): number {
    const file = this.get(fd);
    if (!file) return -EBADF;
    this.files[fd] = undefined;
    this.cloexec[fd] = false;
    if (fd < this.next) this.next = fd;
    fput(file);
    return 0;
  }

  /** dup / F_DUPFD(_CLOEXEC): a new descriptor (>= min) for the same open file; close-on-exec is cleared unless asked. */
  dup(fd: number, min = 0, cloexec = false): number {
    const file = this.get(fd);
    if (!file) return -EBADF;
    if (min >= this.limit) return -EINVAL;
    const r = this.alloc(file, cloexec, min);
    if (r >= 0) fget(file);
    return r;
  }

  /** dup2/dup3: `newfd` names `oldfd`'s file (closing what it named); dup2 of a descriptor onto itself is a no-op. */
  dup2(oldfd: number, newfd: number, cloexec = false): number {
    const file = this.get(oldfd);
    if (!file) return -EBADF;
    newfd |= 0;
    if (newfd < 0 || newfd >= this.limit) return -EBADF;
    if (oldfd === newfd) return newfd;
    fget(file);
    const old = this.files[newfd];
    while (this.files.length < newfd) { this.files.push(undefined); this.cloexec.push(false); }
    this.files[newfd] = file;
    this.cloexec[newfd] = cloexec;
    if (old) fput(old);
    return newfd;
  }

  getCloexec(fd: number): boolean | number {
    return this.get(fd) ? this.cloexec[fd] === true : -EBADF;
  }

  setCloexec(fd: number, on: boolean): number {
    if (!this.get(fd)) return -EBADF;
    this.cloexec[fd] = on;
    return 0;
  }

  /** exec: closes every close-on-exec descriptor. */
  closeOnExec(): void {
    for (let fd = 0; fd < this.files.length; fd++) if (this.files[fd] && this.cloexec[fd]) this.close(fd);
  }

  /** fork: a copy sharing every open file (each gains a reference) with the same flags. */
  clone(): FdTable {
    const t = new FdTable(this.limit);
    for (let fd = 0; fd < this.files.length; fd++) {
      const f = this.files[fd];
      if (f) {
        t.files[fd] = fget(f);
        t.cloexec[fd] = this.cloexec[fd] === true;
      }
    }
    t.next = this.next;
    return t;
  }

  /** exit: closes everything. */
  closeAll(): void {
    for (let fd = 0; fd < this.files.length; fd++) if (this.files[fd]) this.close(fd);
  }

  /** The open descriptors, ascending. */
  fds(): number[] {
    const out: number[] = [];
    for (let fd = 0; fd < this.files.length; fd++) if (this.files[fd]) out.push(fd);
    return out;
  }
}
