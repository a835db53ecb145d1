// Character devices (fs/char_dev.c, drivers/char/mem.c, the console): a registry from device number to driver,
// which the VFS consults when a device file is opened, and the drivers: null (1:3), zero (1:5), full (1:7) and
// the console (5:1, also 5:0 for /dev/tty), a hook the kernel binds to talrun's stdin, stdout and stderr.
import { EAGAIN, ENOSPC } from '../errno.ts';
import { WaitQueue, POLLIN, POLLOUT } from '../poll.ts';
import type { FileOps, OpenFile, Pos } from './file.ts';
import { makedev } from './stat.ts';

export class DeviceRegistry {
  private readonly chr = new Map<number, FileOps>();

  registerChr(major: number, minor: number, fops: FileOps): void {
    this.chr.set(makedev(major, minor), fops);
  }

  /** The driver of character device `rdev`, if one is registered (else the open fails with ENXIO). */
  chrOps(rdev: number): FileOps | undefined {
    return this.chr.get(rdev);
  }
}

/** lseek on null and zero: always succeeds, at position 0 (null_lseek). */
const zeroLseek = (file: OpenFile) => (file.pos = 0);

/** /dev/null: reads give end of file, writes take everything. */
export const nullOps: FileOps = {
  read: () => 0,
  write: (_file: OpenFile, buf: Uint8Array) => buf.length,
  discardsWrites: true,
  llseek: zeroLseek,
};

/** /dev/zero: reads give zeros, writes take everything. */
export const zeroOps: FileOps = {
  read: (_file: OpenFile, buf: Uint8Array, ppos: Pos) => {
    buf.fill(0);
    ppos.value += buf.length;
    return buf.length;
  },
  write: (_file: OpenFile, buf: Uint8Array) => buf.length,
  llseek: zeroLseek,
};

/** /dev/full: reads give zeros, writes fail with ENOSPC. */
export const fullOps: FileOps = {
  read: zeroOps.read,
  write: () => -ENOSPC,
  llseek: zeroLseek,
};

export const MEM_MAJOR = 1;
export const TTYAUX_MAJOR = 5;

/** Where the console's output goes: stream 1 for descriptions opened as stdout, 2 for stderr. */
export interface ConsoleHooks {
  write(stream: 1 | 2, bytes: Uint8Array): void;
}

/**
 * The console: input that the kernel's owner feeds (talrun's stdin), output to its hooks. A read with nothing
 * buffered gives -EAGAIN until the input ends (then 0, end of file); a blocking reader sleeps on the queue its
 * poll method names and reads again. A description whose `priv` is 2 writes to stream 2 (stderr), any other to stream 1.
 */
export class Console {
  private readonly input: Uint8Array[] = [];
  private ended = false;
  /** Woken when input arrives or ends (fed by the host: talrun's stdin). */
  readonly wq = new WaitQueue();
  readonly fops: FileOps;

  constructor(public hooks: ConsoleHooks = { write: () => {} }) {
    this.fops = {
      stream: true,
      writeChunk: 2048, // tty_write's chunk (drivers/tty/tty_io.c)
      read: (_file, buf) => this.read(buf),
      poll: (_file, wait) => {
        if (wait && !this.readable) wait(this.wq);
        return (this.readable ? POLLIN : 0) | POLLOUT;
      },
      write: (file, buf) => {
        this.hooks.write(file.priv === 2 ? 2 : 1, buf.slice());
        return buf.length;
      },
    };
  }

  /** Input arrives (a copy is kept). */
  feed(bytes: Uint8Array): void {
    if (bytes.length) this.input.push(bytes.slice());
    this.wake();
  }

  /** The input has ended: reads give 0 once the buffered bytes are consumed. */
  endInput(): void {
    this.ended = true;
    this.wake();
  }

  /** Whether a read would not give -EAGAIN. */
  get readable(): boolean {
    return this.input.length > 0 || this.ended;
  }

  private wake(): void { this.wq.wake(); }

  private read(buf: Uint8Array): number {
    if (buf.length === 0) return 0;
    if (this.input.length === 0) return this.ended ? 0 : -EAGAIN;
    let n = 0;
    while (n < buf.length && this.input.length) {
      const chunk = this.input[0];
      const k = Math.min(chunk.length, buf.length - n);
      buf.set(chunk.subarray(0, k), n);
      n += k;
      if (k === chunk.length) this.input.shift();
      else this.input[0] = chunk.subarray(k);
    }
    return n;
  }
}
