// AF_INET stream sockets (net/socket.c, net/ipv4/af_inet.c, tcp.c as a program sees them): loopback connections
// between processes inside the machine, and connections bridged to the host's TCP stack (talrun --publish). There is
// no IP or TCP underneath: a connection is two endpoints, each with a bounded receive queue; what a program can
// observe (blocking and EAGAIN, EOF, ECONNREFUSED, EADDRINUSE, ECONNRESET, EPIPE with SIGPIPE) follows Linux.

import {
  EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN, ECONNREFUSED, ECONNRESET, EINVAL, EISCONN, ENETUNREACH, ENOTCONN,
  EPIPE, EACCES,
} from '../errno.ts';
import { SuperBlock, Inode, anonDev, wallClock } from '../fs/inode.ts';
import { Dentry } from '../fs/dentry.ts';
import { Mount, type Namespace } from '../fs/mount.ts';
import { OpenFile, type FileOps } from '../fs/file.ts';
import { S_IFSOCK } from '../fs/stat.ts';
import { O_RDWR } from '../fs/fcntl.ts';
import { NO_WORK, type WorkMeter } from '../work.ts';

export const AF_INET = 2, SOCK_STREAM = 1, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000, IPPROTO_TCP = 6;
export const POLLIN = 1, POLLPRI = 2, POLLOUT = 4, POLLERR = 8, POLLHUP = 16, POLLNVAL = 32, POLLRDHUP = 0x2000;
export const SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;
export const INADDR_ANY = 0, INADDR_LOOPBACK = 0x7f000001;
/** Bytes a receive queue holds before writers wait (the default tcp_rmem is 128 KiB; loopback autotunes higher). */
export const RCVBUF = 256 * 1024;
export const EPHEMERAL_LOW = 32768, EPHEMERAL_HIGH = 60999;

/** Callbacks waiting for something to change (a wait_queue_head). Each is called once. */
export class WaitQueue {
  private waiters: (() => void)[] = [];
  add(f: () => void): void { this.waiters.push(f); }
  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** The other side of a connection, when it is outside the machine. */
export interface HostPeer {
  /** Bytes the guest sent. */
  send(bytes: Uint8Array): void;
  /** The guest shut down writing (FIN) or closed. */
  end(): void;
  /** The guest closed with unread data (RST). */
  reset(): void;
  /** Whether the host side can take more (backpressure): false makes the guest's writes wait. */
  writable(): boolean;
}

/** One end of a connection. */
export class Endpoint {
  readonly rx: Uint8Array[] = [];
  rxBytes = 0;
  /** The peer will send nothing more (FIN received). */
  eof = false;
  /** The connection was reset (RST received); reads report it once. */
  reset = false;
  resetReported = false;
  /** This side shut down writing. */
  shutWr = false;
  shutRd = false;
  closed = false;
  peer: Endpoint | null = null;
  host: HostPeer | null = null;
  readonly wq = new WaitQueue();

  /** Bytes the peer may still send before this queue is full. */
  get space(): number { return Math.max(0, RCVBUF - this.rxBytes); }

  deliver(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.rx.push(bytes.slice());
    this.rxBytes += bytes.length;
    this.wq.wake();
  }

  take(n: number, peek = false): Uint8Array {
    const out = new Uint8Array(Math.min(n, this.rxBytes));
    let done = 0, i = 0;
    while (done < out.length) {
      const c = this.rx[i];
      const k = Math.min(c.length, out.length - done);
      out.set(c.subarray(0, k), done);
      done += k;
      if (!peek) {
        if (k === c.length) this.rx.shift();
        else { this.rx[0] = c.subarray(k); }
      } else i++;
    }
    if (!peek) {
      this.rxBytes -= out.length;
      // Room again: a writer on the other side (or the host) may go on.
      this.peer?.wq.wake();
      this.onDrain?.();
    }
    return out;
  }

  /** Set by a host bridge: the guest read, so the host may send more. */
  onDrain: (() => void) | undefined;
}

export interface SockAddr { addr: number; port: number }

export type SocketState = 'unbound' | 'bound' | 'listening' | 'connected' | 'closed';

export class Socket {
  state: SocketState = 'unbound';
  local: SockAddr | null = null;
  remote: SockAddr | null = null;
  reuseAddr = false;
  backlog = 0;
  readonly acceptQueue: Socket[] = [];
  ep: Endpoint | null = null;
  readonly wq = new WaitQueue();
  /** Set when a host bridge's connection queue is watched (wake the host loop). */
  constructor(readonly net: NetStack) {}

  /** The poll mask (tcp_poll). */
  poll(): number {
    if (this.state === 'listening') return this.acceptQueue.length ? POLLIN : 0;
    const ep = this.ep;
    if (!ep) return POLLOUT | POLLHUP; // an unconnected stream socket reports writable and hung up, as Linux
    let m = 0;
    if (ep.rxBytes > 0 || ep.eof || ep.reset) m |= POLLIN;
    if (ep.eof) m |= POLLRDHUP;
    if (ep.reset) m |= POLLERR | POLLHUP;
    if (ep.eof && ep.shutWr) m |= POLLHUP;
    if (!ep.shutWr && !ep.reset && this.peerSpace() > 0) m |= POLLOUT;
    return m;
  }

  peerSpace(): number {
    const ep = this.ep!;
    if (ep.host) return ep.host.writable() ? RCVBUF : 0;
    return ep.peer && !ep.peer.closed ? ep.peer.space : RCVBUF; // a closed peer swallows data (then resets)
  }

  /** Wait queues a sleeper on this socket should join. */
  queues(): WaitQueue[] { return this.ep ? [this.wq, this.ep.wq] : [this.wq]; }

  read(n: number, peek = false): Uint8Array | number {
    const ep = this.ep;
    if (!ep) return -ENOTCONN;
    if (ep.rxBytes > 0) {
      this.net.work.charge('tcpReceive');
      return ep.take(n, peek);
    }
    if (ep.reset && !ep.resetReported) { ep.resetReported = true; return -ECONNRESET; }
    if (ep.eof || ep.reset || ep.shutRd) return new Uint8Array(0);
    return -EAGAIN;
  }

  /** Queue bytes for the peer: the count taken (≥ 1 unless `bytes` is empty), -EAGAIN when full, -EPIPE. */
  write(bytes: Uint8Array): number {
    const ep = this.ep;
    if (!ep) return -EPIPE;
    if (ep.shutWr || ep.reset) return -EPIPE;
    if (ep.host) {
      if (!ep.host.writable()) return -EAGAIN;
      this.net.work.charge('tcpSend');
      ep.host.send(bytes);
      return bytes.length;
    }
    const peer = ep.peer;
    if (!peer || peer.closed) {
      // The peer is gone: this segment draws an RST, after which writes fail with EPIPE.
      ep.reset = true;
      ep.resetReported = true;
      ep.wq.wake();
      return bytes.length;
    }
    const n = Math.min(bytes.length, peer.space);
    if (n === 0) return -EAGAIN;
    this.net.work.charge('tcpSend');
    peer.deliver(bytes.subarray(0, n));
    return n;
  }

  shutdown(how: number): number {
    const ep = this.ep;
    if (!ep || this.state !== 'connected') return -ENOTCONN;
    if (how === SHUT_RD || how === SHUT_RDWR) { ep.shutRd = true; ep.wq.wake(); }
    if ((how === SHUT_WR || how === SHUT_RDWR) && !ep.shutWr) {
      ep.shutWr = true;
      if (ep.host) ep.host.end();
      else if (ep.peer) { ep.peer.eof = true; ep.peer.wq.wake(); }
    }
    return 0;
  }

  /** The last descriptor is closed (inet_release). */
  release(): void {
    if (this.state === 'listening') {
      for (const s of this.acceptQueue) s.release();
      this.acceptQueue.length = 0;
    }
    const ep = this.ep;
    if (ep && !ep.closed) {
      ep.closed = true;
      const unread = ep.rxBytes > 0;
      if (ep.host) (unread ? ep.host.reset() : ep.host.end());
      else if (ep.peer) {
        if (unread) ep.peer.reset = true;
        else ep.peer.eof = true;
        ep.peer.wq.wake();
      }
    }
    this.net.unbind(this);
    this.state = 'closed';
    this.wq.wake();
  }
}

/** sockfs: the file system socket inodes belong to (nothing can look them up). */
class SockFs extends SuperBlock {
  readonly fsType = 'sockfs';
  readonly root: Dentry;
  private nextIno = 1;
  constructor() {
    super(anonDev(), false, 0, wallClock);
    this.root = new Dentry('/', null, new Inode(this, this.nextIno++, 0o040755));
  }
  newInode(): Inode { return new Inode(this, this.nextIno++, S_IFSOCK | 0o777); }
}

const socketFops: FileOps = {
  stream: true,
  read: (file, buf) => {
    const r = (file.priv as Socket).read(buf.length);
    if (typeof r === 'number') return r;
    buf.set(r);
    return r.length;
  },
  write: (file, buf) => (file.priv as Socket).write(buf),
  release: file => (file.priv as Socket).release(),
};

/** The sockets of the machine: the port table, and the files socket(2) makes. */
export class NetStack {
  private readonly bound = new Map<number, Socket[]>();
  private nextEphemeral = EPHEMERAL_LOW;
  private readonly sockfs = new SockFs();
  private mount: Mount | undefined;
  /** The meter sends and receives charge (kernel/work.ts); the kernel sets its own. */
  work: WorkMeter = NO_WORK;

  constructor(private readonly ns: Namespace) {}

  isSocket(file: OpenFile): boolean { return file.fops === socketFops; }
  socketOf(file: OpenFile): Socket | undefined { return file.fops === socketFops ? file.priv as Socket : undefined; }

  /** A file for a new socket (sock_alloc_file). */
  newFile(sock: Socket, nonblock: boolean): OpenFile {
    this.mount ??= new Mount(this.ns, this.sockfs);
    const inode = this.sockfs.newInode();
    const dentry = new Dentry(`socket:[${inode.ino}]`, this.sockfs.root, inode);
    const f = new OpenFile({ mnt: this.mount, dentry }, inode, O_RDWR | (nonblock ? 0o4000 : 0), 3, socketFops);
    f.priv = sock;
    return f;
  }

  private users(port: number): Socket[] { return this.bound.get(port) ?? []; }

  /** inet_bind's address checks and the port conflict rule (SO_REUSEADDR lets two non-listening sockets share). */
  bind(s: Socket, a: SockAddr, privileged: boolean): number {
    if (s.local) return -EINVAL;
    if (a.addr !== INADDR_ANY && (a.addr >>> 24) !== 127) return -EADDRNOTAVAIL;
    let port = a.port;
    if (port === 0) {
      const p = this.ephemeral();
      if (p < 0) return -EADDRINUSE;
      port = p;
    } else {
      if (port < 1024 && !privileged) return -EACCES;
      const clash = this.users(port).some(o => o.state === 'listening' || !(o.reuseAddr && s.reuseAddr));
      if (clash) return -EADDRINUSE;
    }
    s.local = { addr: a.addr, port };
    s.state = 'bound';
    this.bound.set(port, [...this.users(port), s]);
    return 0;
  }

  private ephemeral(): number {
    for (let i = 0; i <= EPHEMERAL_HIGH - EPHEMERAL_LOW; i++) {
      const p = this.nextEphemeral;
      this.nextEphemeral = p >= EPHEMERAL_HIGH ? EPHEMERAL_LOW : p + 1;
      if (this.users(p).length === 0) return p;
    }
    return -1;
  }

  unbind(s: Socket): void {
    if (!s.local) return;
    const left = this.users(s.local.port).filter(o => o !== s);
    if (left.length) this.bound.set(s.local.port, left);
    else this.bound.delete(s.local.port);
  }

  listen(s: Socket, backlog: number): number {
    if (s.state === 'connected') return -EINVAL;
    if (!s.local) {
      const r = this.bind(s, { addr: INADDR_ANY, port: 0 }, false);
      if (r < 0) return r;
    }
    s.state = 'listening';
    s.backlog = Math.max(0, Math.min(backlog, 4096));
    s.wq.wake();
    return 0;
  }

  private listenerAt(a: SockAddr): Socket | undefined {
    return this.users(a.port).find(o => o.state === 'listening' && (o.local!.addr === INADDR_ANY || o.local!.addr === a.addr || (a.addr === INADDR_ANY && (o.local!.addr >>> 24) === 127)));
  }

  /** connect on loopback: the listener at the address gets the other end in its accept queue. */
  connect(s: Socket, a: SockAddr): number {
    if (s.state === 'connected') return -EISCONN;
    if (s.state === 'listening') return -EINVAL;
    if (a.addr !== INADDR_ANY && (a.addr >>> 24) !== 127) return -ENETUNREACH;
    const l = this.listenerAt(a);
    if (!l) return -ECONNREFUSED;
    if (!s.local) {
      const r = this.bind(s, { addr: INADDR_LOOPBACK, port: 0 }, false);
      if (r < 0) return r;
    }
    const server = new Socket(this);
    const mine = new Endpoint(), theirs = new Endpoint();
    mine.peer = theirs;
    theirs.peer = mine;
    s.ep = mine;
    s.state = 'connected';
    s.remote = { addr: a.addr === INADDR_ANY ? INADDR_LOOPBACK : a.addr, port: a.port };
    server.ep = theirs;
    server.state = 'connected';
    server.local = { addr: s.remote.addr, port: a.port };
    server.remote = { addr: s.local!.addr === INADDR_ANY ? INADDR_LOOPBACK : s.local!.addr, port: s.local!.port };
    l.acceptQueue.push(server);
    l.wq.wake();
    return 0;
  }

  /** A connection from outside the machine (a published port): the guest's end, queued at its listener. */
  connectFromHost(port: number, host: HostPeer, from: SockAddr): Endpoint | number {
    const l = this.listenerAt({ addr: INADDR_LOOPBACK, port });
    if (!l) return -ECONNREFUSED;
    const server = new Socket(this);
    const ep = new Endpoint();
    ep.host = host;
    server.ep = ep;
    server.state = 'connected';
    server.local = { addr: INADDR_LOOPBACK, port };
    server.remote = from;
    l.acceptQueue.push(server);
    l.wq.wake();
    return ep;
  }

  accept(l: Socket): Socket | number {
    if (l.state !== 'listening') return -EINVAL;
    const s = l.acceptQueue.shift();
    return s ?? -EAGAIN;
  }

  checkFamily(family: number): number { return family === AF_INET ? 0 : -EAFNOSUPPORT; }
}

/** struct sockaddr_in: sin_family (u16), sin_port (big-endian u16), sin_addr (big-endian u32), 8 zero bytes. */
export function decodeSockaddr(b: Uint8Array): { family: number; addr: SockAddr } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { family: v.getUint16(0, true), addr: { port: v.getUint16(2, false), addr: v.getUint32(4, false) } };
}

export function encodeSockaddr(a: SockAddr): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, a.port, false);
  v.setUint32(4, a.addr >>> 0, false);
  return out;
}
