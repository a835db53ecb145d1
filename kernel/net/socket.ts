// AF_INET stream sockets (net/socket.c, net/ipv4/af_inet.c, tcp.c as a program sees them): loopback connections
// between processes inside the machine, and connections bridged to the host's TCP stack (talrun --publish). There is
// no IP or TCP underneath: a connection is two endpoints, each with a bounded receive queue (sk_rcvbuf) and a
// bounded send queue (sk_sndbuf) for what the peer's receive queue had no room for; what a program can observe
// (blocking and EAGAIN, EOF, ECONNREFUSED, EADDRINUSE, ECONNRESET, EPIPE with SIGPIPE, a connect that waits while
// the listener's accept queue is full) follows Linux. Every queued byte is charged to one machine-wide pool bounded
// as tcp_mem bounds Linux's (net/core/sock.c's __sk_mem_raise_allocated), and the number of sockets is bounded as
// fs.file-max bounds files: the bounds are in limits.ts.

import {
  EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN, ECONNREFUSED, ECONNRESET, EINVAL, EISCONN, ENETUNREACH, ENOTCONN,
  EPIPE, EACCES, EALREADY, EINPROGRESS, ECONNABORTED, ENFILE,
} from '../errno.ts';
import { SuperBlock, Inode, anonDev, wallClock } from '../fs/inode.ts';
import { Dentry } from '../fs/dentry.ts';
import { Mount, type Namespace } from '../fs/mount.ts';
import { FMODE_READ, FMODE_WRITE, OpenFile, type FileOps } from '../fs/file.ts';
import { S_IFSOCK } from '../fs/stat.ts';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR } from '../fs/fcntl.ts';
import { NO_WORK, type WorkMeter } from '../work.ts';
import { WaitQueue, POLLIN, POLLOUT, POLLERR, POLLHUP, POLLRDHUP, type PollWait } from '../poll.ts';
import {
  netLimits, RMEM_MAX, WMEM_MAX, SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF, TCP_RMEM_DEFAULT, TCP_WMEM_DEFAULT, type NetLimits,
} from './limits.ts';

// SOCK_NONBLOCK and SOCK_CLOEXEC are O_NONBLOCK and O_CLOEXEC (include/linux/net.h).
export const AF_INET = 2, SOCK_STREAM = 1, SOCK_NONBLOCK = O_NONBLOCK, SOCK_CLOEXEC = O_CLOEXEC, IPPROTO_TCP = 6;
export const SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;
export const INADDR_ANY = 0, INADDR_LOOPBACK = 0x7f000001;
export const EPHEMERAL_LOW = 32768, EPHEMERAL_HIGH = 60999;
/**
 * What a write may take at once where no queue of this kernel bounds it: a host peer that accepts more (talrun's
 * bridge bounds it at 1 MiB unsent), or a closed peer (which swallows it, then resets).
 */
const UNBOUNDED_STEP = 65536;
/** The least host memory a queue's chunk takes: small writes are appended to the last chunk, not kept one by one. */
const MIN_CHUNK = 4096;

/**
 * The bytes all sockets' queues hold together (sk_memory_allocated against tcp_mem[2]). Beyond the limit nothing
 * more is queued; the queue is woken when the total falls below it again.
 */
export class SockMem {
  used = 0;
  readonly wq = new WaitQueue();
  constructor(readonly limit: number) {}
  /** What may still be queued. */
  get room(): number { return Math.max(0, this.limit - this.used); }
  charge(n: number): void { this.used += n; }
  uncharge(n: number): void {
    const wasFull = this.used >= this.limit;
    this.used -= n;
    if (wasFull && this.used < this.limit) this.wq.wake();
  }
}

/** A byte queue (a socket's receive or send queue), charged to the machine's pool while it holds the bytes. */
export class ByteQueue {
  private readonly chunks: { buf: Uint8Array; start: number; end: number }[] = [];
  bytes = 0;
  constructor(private readonly mem: SockMem) {}

  /** Appends a copy of `b` (charged). */
  push(b: Uint8Array): void {
    this.append(b);
    this.mem.charge(b.length);
  }

  /** Up to `n` bytes from the front; they stay queued if `peek`. */
  take(n: number, peek = false): Uint8Array {
    const out = this.copyOut(n, peek);
    if (!peek) this.mem.uncharge(out.length);
    return out;
  }

  /** Moves up to `n` bytes to the end of `to` (same pool: the charge moves with them). */
  moveTo(to: ByteQueue, n: number): number {
    const b = this.copyOut(n, false);
    to.append(b);
    return b.length;
  }

  /** Drops everything (the connection is gone). */
  clear(): void {
    const n = this.bytes;
    this.chunks.length = 0;
    this.bytes = 0;
    if (n) this.mem.uncharge(n);
  }

  private append(b: Uint8Array): void {
    let off = 0;
    const last = this.chunks[this.chunks.length - 1];
    if (last && last.end < last.buf.length) {
      off = Math.min(b.length, last.buf.length - last.end);
      last.buf.set(b.subarray(0, off), last.end);
      last.end += off;
    }
    if (off < b.length) {
      const rest = b.subarray(off);
      const buf = new Uint8Array(Math.max(rest.length, MIN_CHUNK));
      buf.set(rest);
      this.chunks.push({ buf, start: 0, end: rest.length });
    }
    this.bytes += b.length;
  }

  private copyOut(n: number, peek: boolean): Uint8Array {
    const out = new Uint8Array(Math.max(0, Math.min(n, this.bytes)));
    let done = 0;
    for (let i = 0; done < out.length; i++) {
      const c = this.chunks[i];
      const k = Math.min(c.end - c.start, out.length - done);
      out.set(c.buf.subarray(c.start, c.start + k), done);
      done += k;
      if (!peek) c.start += k;
    }
    if (!peek) {
      while (this.chunks.length && this.chunks[0].start === this.chunks[0].end) this.chunks.shift();
      this.bytes -= out.length;
    }
    return out;
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

/** Buffer sizes a socket has (set by SO_RCVBUF/SO_SNDBUF, inherited by the connections a listener accepts). */
export interface BufSizes { rcvbuf: number; sndbuf: number }

/** One end of a connection. */
export class Endpoint {
  /** Received, not yet read: at most `rcvbuf` bytes from the peer (the host's data may overshoot by a chunk). */
  readonly rx: ByteQueue;
  /** Written, not yet in the peer's receive queue (it was full): at most `sndbuf` bytes. */
  readonly tx: ByteQueue;
  rcvbuf: number;
  sndbuf: number;
  /** The peer will send nothing more (FIN received). */
  eof = false;
  /** The connection was reset (RST received); reads report it once. */
  reset = false;
  resetReported = false;
  /** This side shut down writing: a FIN follows what is still in `tx`. */
  shutWr = false;
  shutRd = false;
  closed = false;
  peer: Endpoint | null = null;
  host: HostPeer | null = null;
  readonly wq = new WaitQueue();

  constructor(private readonly mem: SockMem, bufs: BufSizes) {
    this.rx = new ByteQueue(mem);
    this.tx = new ByteQueue(mem);
    this.rcvbuf = bufs.rcvbuf;
    this.sndbuf = bufs.sndbuf;
  }

  get rxBytes(): number { return this.rx.bytes; }
  /** Room left in the receive queue, by its own bound alone. */
  get window(): number { return Math.max(0, this.rcvbuf - this.rx.bytes); }
  /** Bytes the peer (or the host) may still put in the receive queue: the window, within the machine's pool. */
  get space(): number { return Math.min(this.window, this.mem.room); }

  /**
   * Bytes from the host (already received there): queued whatever the bounds; the bridge pauses when `space` is 0.
   * Once this end is closed they are dropped, not kept where nothing would free them (the bridge resets the host).
   */
  deliver(bytes: Uint8Array): void {
    if (bytes.length === 0 || this.closed) return;
    this.rx.push(bytes);
    this.wq.wake();
  }

  take(n: number, peek = false): Uint8Array {
    const out = this.rx.take(n, peek);
    if (!peek && out.length > 0) {
      // Room again: what the peer has waiting comes in, and a writer on the other side (or the host) may go on.
      if (this.peer) flush(this.peer);
      this.peer?.wq.wake();
      this.onDrain?.();
    }
    return out;
  }

  /** Set by a host bridge: the guest read, so the host may send more. */
  onDrain: (() => void) | undefined;
}

/**
 * Moves what `from` has waiting into its peer's receive queue as far as the window allows (the retransmission a
 * window update lets through), and delivers the FIN after the last byte once `from` has shut down writing.
 */
function flush(from: Endpoint): void {
  const to = from.peer;
  if (!to || to.closed) return;
  const n = Math.min(from.tx.bytes, to.window);
  if (n > 0) {
    from.tx.moveTo(to.rx, n);
    to.wq.wake();
    from.wq.wake();
  }
  if (from.shutWr && from.tx.bytes === 0 && !to.eof) {
    to.eof = true;
    to.wq.wake();
  }
}

export interface SockAddr { addr: number; port: number }

/** 'connecting': SYN_SENT, waiting at a listener whose accept queue is full. */
export type SocketState = 'unbound' | 'bound' | 'listening' | 'connecting' | 'connected' | 'closed';

export class Socket {
  state: SocketState = 'unbound';
  local: SockAddr | null = null;
  remote: SockAddr | null = null;
  reuseAddr = false;
  /** listen's backlog (sk_max_ack_backlog): the accept queue is full beyond it (sk_acceptq_is_full). */
  backlog = 0;
  readonly acceptQueue: Socket[] = [];
  /** Connections waiting for room in the accept queue, in arrival order (Linux: SYNs dropped and retransmitted). */
  readonly synWaiters: Socket[] = [];
  /** The listener a 'connecting' socket waits at. */
  waitingAt: Socket | undefined;
  /** A connect returned EINPROGRESS and no connect call has reported the outcome yet (sock->state SS_CONNECTING). */
  inProgress = false;
  /** A pending error (sk_err), reported once by SO_ERROR or the next connect. */
  soError = 0;
  rcvbuf = TCP_RMEM_DEFAULT;
  sndbuf = TCP_WMEM_DEFAULT;
  ep: Endpoint | null = null;
  readonly wq = new WaitQueue();
  /** Counted in the machine's sockets until released. */
  private counted = true;
  constructor(readonly net: NetStack) { net.nrSockets++; }

  /** The poll mask (tcp_poll). */
  poll(): number {
    if (this.state === 'listening') return this.acceptQueue.length ? POLLIN : 0;
    if (this.state === 'connecting') return 0;
    const ep = this.ep;
    // An unconnected stream socket reports writable and hung up, as Linux; a failed connect also an error.
    if (!ep) return POLLOUT | POLLHUP | (this.soError ? POLLERR : 0);
    let m = 0;
    if (ep.rxBytes > 0 || ep.eof || ep.reset) m |= POLLIN;
    if (ep.eof) m |= POLLRDHUP;
    if (ep.reset) m |= POLLERR | POLLHUP;
    if (ep.eof && ep.shutWr) m |= POLLHUP;
    if (!ep.shutWr && !ep.reset && this.peerSpace() > 0) m |= POLLOUT;
    return m;
  }

  /** Bytes a write could take now: the peer's window and this side's send queue, within the machine's pool. */
  peerSpace(): number {
    const ep = this.ep;
    if (!ep) return 0;
    if (ep.host) return ep.host.writable() ? UNBOUNDED_STEP : 0;
    const peer = ep.peer;
    if (!peer || peer.closed) return UNBOUNDED_STEP; // a closed peer swallows data (then resets)
    const window = ep.tx.bytes === 0 ? peer.window : 0;
    return Math.min(window + Math.max(0, ep.sndbuf - ep.tx.bytes), this.net.mem.room);
  }

  /** Wait queues a sleeper on this socket should join (with the pool's: a writer may wait for memory). */
  queues(): WaitQueue[] { return this.ep ? [this.wq, this.ep.wq, this.net.mem.wq] : [this.wq]; }

  read(n: number, peek = false): Uint8Array | number {
    if (this.state === 'connecting') return -EAGAIN;
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
    if (this.state === 'connecting') return -EAGAIN; // sk_stream_wait_connect
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
      // The peer is gone: this segment draws an RST, after which writes fail with EPIPE; nothing stays queued.
      ep.reset = true;
      ep.resetReported = true;
      ep.tx.clear();
      peer?.tx.clear();
      ep.wq.wake();
      return bytes.length;
    }
    const mem = this.net.mem;
    // Straight into the peer's receive queue while its window is open (nothing may overtake what waits in tx),
    // then into this side's send queue.
    const direct = ep.tx.bytes === 0 ? Math.min(bytes.length, peer.window, mem.room) : 0;
    if (direct > 0) {
      peer.rx.push(bytes.subarray(0, direct));
      peer.wq.wake();
    }
    const queued = Math.min(bytes.length - direct, Math.max(0, ep.sndbuf - ep.tx.bytes), mem.room);
    if (queued > 0) ep.tx.push(bytes.subarray(direct, direct + queued));
    const n = direct + queued;
    if (n === 0) return -EAGAIN;
    this.net.work.charge('tcpSend');
    return n;
  }

  shutdown(how: number): number {
    const ep = this.ep;
    if (!ep || this.state !== 'connected') return -ENOTCONN;
    if (how === SHUT_RD || how === SHUT_RDWR) { ep.shutRd = true; ep.wq.wake(); }
    if ((how === SHUT_WR || how === SHUT_RDWR) && !ep.shutWr) {
      ep.shutWr = true;
      if (ep.host) ep.host.end();
      else flush(ep);
    }
    return 0;
  }

  /** SO_RCVBUF/SO_SNDBUF (sock_setsockopt): capped at rmem_max/wmem_max, doubled, at least the minimum. */
  setBuf(which: 'rcvbuf' | 'sndbuf', v: number): void {
    const u = v >>> 0;
    const size = which === 'rcvbuf'
      ? Math.max(2 * Math.min(u, RMEM_MAX), SOCK_MIN_RCVBUF) : Math.max(2 * Math.min(u, WMEM_MAX), SOCK_MIN_SNDBUF);
    this[which] = size;
    const ep = this.ep;
    if (!ep) return;
    ep[which] = size;
    // A larger window lets in what the peer has waiting; a larger send queue lets a writer go on.
    if (ep.peer) flush(ep.peer);
    ep.wq.wake();
  }

  /** The last descriptor is closed (inet_release), or the listener it waited in is. */
  release(): void {
    if (this.state === 'listening') {
      // No more connections here: those waiting are refused (their SYN meets no listener), those queued closed.
      this.state = 'closed';
      this.net.unbind(this);
      for (const c of this.synWaiters.splice(0)) this.net.refuse(c);
      for (const s of this.acceptQueue.splice(0)) s.release();
    }
    if (this.state === 'connecting' && this.waitingAt) {
      const q = this.waitingAt.synWaiters, i = q.indexOf(this);
      if (i >= 0) q.splice(i, 1);
      this.waitingAt = undefined;
    }
    const ep = this.ep;
    if (ep && !ep.closed) {
      ep.closed = true;
      const unread = ep.rxBytes > 0;
      ep.rx.clear();
      const peer = ep.peer;
      if (ep.host) (unread ? ep.host.reset() : ep.host.end());
      else if (!peer || peer.closed) {
        // Both ends are closed: the connection is torn down, and whatever either still queued is freed.
        ep.tx.clear();
        peer?.tx.clear();
        peer?.rx.clear();
      } else if (unread) {
        // Closing with unread data resets the connection (tcp_close): the peer's unsent bytes go too.
        ep.tx.clear();
        peer.tx.clear();
        peer.reset = true;
        peer.wq.wake();
      } else {
        // A FIN, after what is still queued for the peer (an orphan's send queue, bounded by its sndbuf).
        ep.shutWr = true;
        flush(ep);
        peer.wq.wake();
      }
    }
    this.net.unbind(this);
    this.state = 'closed';
    this.wq.wake();
    if (this.counted) {
      this.counted = false;
      this.net.socketFreed();
    }
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
  poll: (file, wait: PollWait) => {
    const sock = file.priv as Socket;
    if (wait) for (const q of sock.queues()) wait(q);
    return sock.poll();
  },
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
  /** The bytes all queues hold, against tcp_mem. */
  readonly mem: SockMem;
  /** Sockets that exist (open, queued at a listener, or closed with bytes still on their way), against file-max. */
  nrSockets = 0;
  /** Listeners with connections waiting for room. */
  private readonly waiting = new Set<Socket>();
  /** Woken when a listener may have room again: host connections waiting to be queued try again. */
  readonly roomWq = new WaitQueue();

  constructor(private readonly ns: Namespace, readonly limits: NetLimits = netLimits(128 << 20)) {
    this.mem = new SockMem(limits.tcpMemBytes);
  }

  /** A new socket (sock_alloc), or -ENFILE when the machine has as many as file-max allows. */
  allocSocket(): Socket | number {
    return this.nrSockets >= this.limits.fileMax ? -ENFILE : new Socket(this);
  }

  /** A socket was released: a connection waiting for a socket may now be made. */
  socketFreed(): void {
    this.nrSockets--;
    this.admit();
  }

  isSocket(file: OpenFile): boolean { return file.fops === socketFops; }
  socketOf(file: OpenFile): Socket | undefined { return file.fops === socketFops ? file.priv as Socket : undefined; }

  /** A file for a new socket (sock_alloc_file). */
  newFile(sock: Socket, nonblock: boolean): OpenFile {
    this.mount ??= new Mount(this.ns, this.sockfs);
    const inode = this.sockfs.newInode();
    const dentry = new Dentry(`socket:[${inode.ino}]`, this.sockfs.root, inode);
    const flags = O_RDWR | (nonblock ? O_NONBLOCK : 0);
    const f = new OpenFile({ mnt: this.mount, dentry }, inode, flags, FMODE_READ | FMODE_WRITE, socketFops);
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

  /** listen: the backlog is capped at somaxconn, compared unsigned as __sys_listen does (so -1 asks for the most). */
  listen(s: Socket, backlog: number): number {
    if (s.state === 'connected' || s.state === 'connecting' || s.inProgress) return -EINVAL;
    if (!s.local) {
      const r = this.bind(s, { addr: INADDR_ANY, port: 0 }, false);
      if (r < 0) return r;
    }
    s.state = 'listening';
    s.backlog = (backlog >>> 0) > this.limits.somaxconn ? this.limits.somaxconn : backlog;
    s.wq.wake();
    this.admit();
    return 0;
  }

  private listenerAt(a: SockAddr): Socket | undefined {
    return this.users(a.port).find(o => o.state === 'listening'
      && (o.local!.addr === INADDR_ANY || o.local!.addr === a.addr
      || (a.addr === INADDR_ANY && (o.local!.addr >>> 24) === 127)));
  }

  /**
   * Whether `l` can take one more connection now: its accept queue is not full (sk_acceptq_is_full: more than
   * backlog queued, so listen(fd, 0) still queues one) and the machine may have another socket.
   */
  private hasRoom(l: Socket): boolean {
    return l.acceptQueue.length <= l.backlog && this.nrSockets < this.limits.fileMax;
  }

  /**
   * connect on loopback. With room at the listener, the other end is queued there at once (loopback completes the
   * handshake immediately: 0, also for a non-blocking socket). Without, Linux drops the SYN and the client
   * retransmits it until accept makes room: here the socket waits at the listener ('connecting') and is connected
   * when accept makes room, in arrival order; the call gives -EINPROGRESS (a blocking one sleeps on it), a
   * further call -EALREADY while it waits, then 0 once, then -EISCONN (__inet_stream_connect). Closing the
   * listener refuses the waiting ones (ECONNREFUSED, as the RST to their next SYN).
   */
  connect(s: Socket, a: SockAddr): number {
    if (s.inProgress) {
      if (s.state === 'connecting') return -EALREADY;
      s.inProgress = false;
      if (s.state === 'connected') return 0;
      const e = s.soError;
      s.soError = 0;
      return e ? -e : -ECONNABORTED;
    }
    if (s.state === 'connected') return -EISCONN;
    if (s.state === 'listening') return -EINVAL;
    if (a.addr !== INADDR_ANY && (a.addr >>> 24) !== 127) return -ENETUNREACH;
    const l = this.listenerAt(a);
    if (!l) return -ECONNREFUSED;
    if (!s.local) {
      const r = this.bind(s, { addr: INADDR_LOOPBACK, port: 0 }, false);
      if (r < 0) return r;
    }
    s.remote = { addr: a.addr === INADDR_ANY ? INADDR_LOOPBACK : a.addr, port: a.port };
    if (l.synWaiters.length === 0 && this.hasRoom(l)) {
      this.establish(s, l);
      return 0;
    }
    s.state = 'connecting';
    s.inProgress = true;
    s.waitingAt = l;
    l.synWaiters.push(s);
    this.waiting.add(l);
    return -EINPROGRESS;
  }

  /** The handshake completes: `s` is connected, and the listener's end of it queued for accept. */
  private establish(s: Socket, l: Socket): void {
    const server = new Socket(this);
    const mine = new Endpoint(this.mem, s), theirs = new Endpoint(this.mem, l);
    mine.peer = theirs;
    theirs.peer = mine;
    s.ep = mine;
    s.state = 'connected';
    s.waitingAt = undefined;
    server.ep = theirs;
    server.state = 'connected';
    server.rcvbuf = l.rcvbuf; // a child inherits the listener's buffer sizes (sk_clone_lock)
    server.sndbuf = l.sndbuf;
    server.local = { addr: s.remote!.addr, port: l.local!.port };
    server.remote = { addr: s.local!.addr === INADDR_ANY ? INADDR_LOOPBACK : s.local!.addr, port: s.local!.port };
    l.acceptQueue.push(server);
    l.wq.wake();
    s.wq.wake();
  }

  /** A waiting connection meets no listener any more: ECONNREFUSED, reported by connect or SO_ERROR. */
  refuse(s: Socket): void {
    s.state = s.local ? 'bound' : 'unbound';
    s.waitingAt = undefined;
    s.soError = ECONNREFUSED;
    s.wq.wake();
  }

  /** Connects waiting connections where there is room now, and lets waiting host connections try again. */
  private admit(): void {
    for (const l of this.waiting) {
      while (l.state === 'listening' && l.synWaiters.length > 0 && this.hasRoom(l)) {
        this.establish(l.synWaiters.shift()!, l);
      }
      if (l.state !== 'listening' || l.synWaiters.length === 0) this.waiting.delete(l);
    }
    this.roomWq.wake();
  }

  /**
   * A connection from outside the machine (a published port): the guest's end, queued at its listener;
   * -ECONNREFUSED if nobody listens, -EAGAIN while the listener has no room (the bridge waits on `roomWq`).
   */
  connectFromHost(port: number, host: HostPeer, from: SockAddr): Endpoint | number {
    const l = this.listenerAt({ addr: INADDR_LOOPBACK, port });
    if (!l) return -ECONNREFUSED;
    if (l.synWaiters.length > 0 || !this.hasRoom(l)) return -EAGAIN;
    const server = new Socket(this);
    server.rcvbuf = l.rcvbuf;
    server.sndbuf = l.sndbuf;
    const ep = new Endpoint(this.mem, server);
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
    if (!s) return -EAGAIN;
    this.admit(); // room for one more
    return s;
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
