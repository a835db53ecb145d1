// The socket system calls (Linux i386's direct ones, 359-373, and socketcall), poll, and fcntl64's flag and dup
// commands (net/socket.c, fs/select.c, fs/fcntl.c). Blocking calls sleep on the socket's wait queues and are restarted
// when woken (kernel.ts); a blocking write that could only send part of its data sleeps with its progress kept in the
// task.

import { sendSignal } from '../exit.ts';
import type { Kernel } from '../kernel.ts';
import { BLOCK, type Syscall, type SysResult } from './types.ts';
import type { Task } from '../task.ts';
import type { UserMemory } from './usermem.ts';
import {
  EAGAIN, EBADF, EFAULT, EINVAL, ENOTSOCK, EPIPE, ESOCKTNOSUPPORT, EPROTONOSUPPORT, ENOPROTOOPT, EMFILE, EINPROGRESS,
  EALREADY, EAFNOSUPPORT, ENOTCONN,
} from '../errno.ts';
import {
  AF_INET, SOCK_STREAM, SOCK_NONBLOCK, SOCK_CLOEXEC, IPPROTO_TCP, Socket, decodeSockaddr, encodeSockaddr, type SockAddr,
} from '../net/socket.ts';
import { POLLNVAL, POLLIN, POLLOUT, POLLERR, POLLHUP, type WaitQueue } from '../poll.ts';
import type { OpenFile } from '../fs/file.ts';
import { O_NONBLOCK } from '../fs/fcntl.ts';
import { SIGPIPE } from '../signal.ts';
import { SYS } from './numbers.ts';

const MSG_PEEK = 2, MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000;
const SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_TYPE = 3, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_KEEPALIVE = 9;
const TCP_NODELAY = 1;
const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_DUPFD_CLOEXEC = 1030, FD_CLOEXEC = 1;
const SETFL_MASK = O_NONBLOCK | 0o2000 /* O_APPEND */;

function sockfd(t: Task, k: Kernel, fd: number): { file: OpenFile; sock: Socket } | number {
  const file = t.files.get(fd >>> 0 > 0x7fffffff ? -1 : fd);
  if (!file) return -EBADF;
  const sock = k.net.socketOf(file);
  if (!sock) return -ENOTSOCK;
  return { file, sock };
}

const nonblocking = (file: OpenFile, flags = 0): boolean => (file.flags & O_NONBLOCK) !== 0
  || (flags & MSG_DONTWAIT) !== 0;

function readAddr(user: UserMemory, addr: number, len: number): ReturnType<typeof decodeSockaddr> | number {
  if ((len | 0) < 16) return -EINVAL;
  const b = user.copyIn(addr, 16);
  if (typeof b === 'number') return b;
  return decodeSockaddr(b);
}

/** Write a sockaddr_in through (addr, addrlen*) as move_addr_to_user: truncate to *addrlen, store 16 there. */
function putAddr(user: UserMemory, addr: number, lenPtr: number, a: Uint8Array): number {
  if (addr === 0) return 0;
  const lb = user.copyIn(lenPtr, 4);
  if (typeof lb === 'number') return lb;
  const len = new DataView(lb.buffer, lb.byteOffset, 4).getInt32(0, true);
  if (len < 0) return -EINVAL;
  if (user.copyOut(addr, a.subarray(0, Math.min(len, a.length))) < 0) return -EFAULT;
  return user.copyOut(lenPtr, new Uint8Array(Int32Array.of(a.length).buffer)) < 0 ? -EFAULT : 0;
}

function socket(k: Kernel, t: Task, _u: UserMemory, family: number, type: number, protocol: number): number {
  if (family !== AF_INET) return -EAFNOSUPPORT;
  const base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (base !== SOCK_STREAM) return -ESOCKTNOSUPPORT;
  if (protocol !== 0 && protocol !== IPPROTO_TCP) return -EPROTONOSUPPORT;
  if (!t.files.hasFree()) return -EMFILE;
  const sock = k.net.allocSocket();
  if (typeof sock === 'number') return sock;
  const file = k.net.newFile(sock, (type & SOCK_NONBLOCK) !== 0);
  return t.files.alloc(file, (type & SOCK_CLOEXEC) !== 0);
}

/** The socket at fd and the sockaddr_in at (addr, len), as bind and connect take them, or -errno. */
function sockAndAddr(k: Kernel, t: Task, user: UserMemory, fd: number, addr: number,
  len: number): { file: OpenFile; sock: Socket; addr: SockAddr } | number {
  const s = sockfd(t, k, fd);
  if (typeof s === 'number') return s;
  const a = readAddr(user, addr, len);
  if (typeof a === 'number') return a;
  const fam = k.net.checkFamily(a.family);
  return fam < 0 ? fam : { file: s.file, sock: s.sock, addr: a.addr };
}

function bind(k: Kernel, t: Task, user: UserMemory, fd: number, addr: number, len: number): number {
  const s = sockAndAddr(k, t, user, fd, addr, len);
  return typeof s === 'number' ? s : k.net.bind(s.sock, s.addr, t.cred.euid === 0);
}

/** connect: a blocking one whose connection has to wait for room at the listener sleeps until it is made. */
function connect(k: Kernel, t: Task, user: UserMemory, fd: number, addr: number, len: number): SysResult {
  const s = sockAndAddr(k, t, user, fd, addr, len);
  if (typeof s === 'number') return s;
  const r = k.net.connect(s.sock, s.addr);
  const waits = r === -EINPROGRESS || r === -EALREADY;
  return waits && !nonblocking(s.file) ? k.sched.sleepOn(t, [s.sock.wq]) : r;
}

function listen(k: Kernel, t: Task, _u: UserMemory, fd: number, backlog: number): number {
  const s = sockfd(t, k, fd);
  if (typeof s === 'number') return s;
  return k.net.listen(s.sock, backlog);
}

function accept4(k: Kernel, t: Task, user: UserMemory, fd: number, addr: number, lenPtr: number,
  flags: number): SysResult {
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
  const s = sockfd(t, k, fd);
  if (typeof s === 'number') return s;
  if (!t.files.hasFree()) return -EMFILE;
  const c = k.net.accept(s.sock);
  if (c === -EAGAIN) return nonblocking(s.file) ? -EAGAIN : k.sched.sleepOn(t, s.sock.queues());
  if (typeof c === 'number') return c;
  const file = k.net.newFile(c, (flags & SOCK_NONBLOCK) !== 0);
  const nfd = t.files.alloc(file, (flags & SOCK_CLOEXEC) !== 0);
  const r = putAddr(user, addr, lenPtr, encodeSockaddr(c.remote!));
  return r < 0 ? r : nfd;
}

/** The socket's own or its peer's address as a sockaddr_in, or -errno (the kernel-mode interface calls this too). */
export function sockName(k: Kernel, t: Task, fd: number, peer: boolean): Uint8Array | number {
  const s = sockfd(t, k, fd);
  if (typeof s === 'number') return s;
  const a = peer ? s.sock.remote : (s.sock.local ?? { addr: 0, port: 0 });
  if (!a || (peer && s.sock.state !== 'connected')) return -ENOTCONN;
  return encodeSockaddr(a);
}

function getname(peer: boolean) {
  return (k: Kernel, t: Task, user: UserMemory, fd: number, addr: number, lenPtr: number): number => {
    const a = sockName(k, t, fd, peer);
    return typeof a === 'number' ? a : putAddr(user, addr, lenPtr, a);
  };
}

/** setsockopt with the option's value (an int) already read. */
export function setOption(k: Kernel, t: Task, fd: number, level: number, opt: number, v: number): number {
  const s = sockfd(t, k, fd);
  if (typeof s === 'number') return s;
  if (level === SOL_SOCKET) {
    if (opt === SO_REUSEADDR) { s.sock.reuseAddr = v !== 0; return 0; }
    if (opt === SO_RCVBUF || opt === SO_SNDBUF) { s.sock.setBuf(opt === SO_RCVBUF ? 'rcvbuf' : 'sndbuf', v); return 0; }
    if (opt === SO_KEEPALIVE) return 0;
  }
  if (level === IPPROTO_TCP && opt === TCP_NODELAY) return 0;
  return -ENOPROTOOPT;
}

function setsockopt(k: Kernel, t: Task, user: UserMemory, fd: number, level: number, opt: number, val: number,
  len: number): number {
  const s = sockfd(t, k, fd);
  if (typeof s === 'number') return s;
  if ((len | 0) < 4) return -EINVAL;
  const b = user.copyIn(val, 4);
  if (typeof b === 'number') return b;
  return setOption(k, t, fd, level, opt, new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true));
}

function getsockopt(k: Kernel, t: Task, user: UserMemory, fd: number, level: number, opt: number, val: number,
  lenPtr: number): number {
  const s = sockfd(t, k, fd);
  if (typeof s === 'number') return s;
  let v: number;
  if (level === SOL_SOCKET && opt === SO_REUSEADDR) v = s.sock.reuseAddr ? 1 : 0;
  else if (level === SOL_SOCKET && opt === SO_TYPE) v = SOCK_STREAM;
  else if (level === SOL_SOCKET && opt === SO_ERROR) { v = s.sock.soError; s.sock.soError = 0; }
  else if (level === SOL_SOCKET && opt === SO_RCVBUF) v = s.sock.rcvbuf;
  else if (level === SOL_SOCKET && opt === SO_SNDBUF) v = s.sock.sndbuf;
  else return -ENOPROTOOPT;
  const lb = user.copyIn(lenPtr, 4);
  if (typeof lb === 'number') return lb;
  const len = new DataView(lb.buffer, lb.byteOffset, 4).getInt32(0, true);
  if (len < 0) return -EINVAL;
  const out = new Uint8Array(Int32Array.of(v).buffer).subarray(0, Math.min(4, len));
  if (user.copyOut(val, out) < 0) return -EFAULT;
  return user.copyOut(lenPtr, new Uint8Array(Int32Array.of(out.length).buffer)) < 0 ? -EFAULT : 0;
}

function shutdown(k: Kernel, t: Task, _u: UserMemory, fd: number, how: number): number {
  const s = sockfd(t, k, fd);
  if (typeof s === 'number') return s;
  if (how < 0 || how > 2) return -EINVAL;
  const r = s.sock.shutdown(how);
  return r;
}

function sendto(k: Kernel, t: Task, user: UserMemory, fd: number, buf: number, len: number, flags: number): SysResult {
  const s = sockfd(t, k, fd);
  if (typeof s === 'number') return s;
  return sockWrite(k, t, user, s.file, buf, len, flags);
}

/**
 * write(2) and sendto(2) on a socket (sock_sendmsg): a blocking socket sends everything, sleeping while the peer's
 * queue is full (the bytes already sent are kept in the task across the restarts); EPIPE raises SIGPIPE unless
 * MSG_NOSIGNAL.
 */
export function sockWrite(k: Kernel, t: Task, user: UserMemory, file: OpenFile, buf: number, count: number,
  flags: number): SysResult {
  const sock = k.net.socketOf(file)!;
  const total = count >>> 0;
  let sent = t.ioProgress;
  while (sent < total) {
    const n = Math.min(total - sent, 65536, Math.max(sock.peerSpace(), 1)); // copy no more than can be taken
    const b = user.copyIn((buf + sent) | 0, n);
    if (typeof b === 'number') { t.ioProgress = 0; return sent > 0 ? sent : b; }
    const r = sock.write(b);
    if (r === -EAGAIN) {
      if (nonblocking(file, flags)) { t.ioProgress = 0; return sent > 0 ? sent : -EAGAIN; }
      t.ioProgress = sent;
      return k.sched.sleepOn(t, sock.queues());
    }
    if (r < 0) {
      t.ioProgress = 0;
      if (sent > 0) return sent;
      if (r === -EPIPE && !(flags & MSG_NOSIGNAL)) sendSignal(k, t, SIGPIPE);
      return r;
    }
    sent += r;
  }
  t.ioProgress = 0;
  return sent;
}

function recvfrom(k: Kernel, t: Task, user: UserMemory, fd: number, buf: number, len: number, flags: number,
  addr: number, lenPtr: number): SysResult {
  const s = sockfd(t, k, fd);
  if (typeof s === 'number') return s;
  const r = s.sock.read(len >>> 0, (flags & MSG_PEEK) !== 0);
  if (r === -EAGAIN) return nonblocking(s.file, flags) ? -EAGAIN : k.sched.sleepOn(t, s.sock.queues());
  if (typeof r === 'number') return r;
  if (user.copyOut(buf, r) < 0) return -EFAULT;
  if (addr) {
    const p = putAddr(user, addr, lenPtr, encodeSockaddr(s.sock.remote ?? { addr: 0, port: 0 }));
    if (p < 0) return p;
  }
  return r.length;
}

/** poll(fds, nfds, timeout_ms): struct pollfd { int fd; short events; short revents; }. */
function poll(k: Kernel, t: Task, user: UserMemory, fds: number, nfds: number, timeout: number): SysResult {
  nfds >>>= 0;
  if (nfds > t.files.limit) return -EINVAL; // RLIMIT_NOFILE bounds nfds (do_sys_poll)
  const b = user.copyIn(fds, 8 * nfds);
  if (typeof b === 'number') return b;
  k.work.charge('pollFd', nfds);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let ready = 0;
  const queues: WaitQueue[] = [];
  for (let i = 0; i < nfds; i++) {
    const fd = v.getInt32(8 * i, true);
    const events = v.getUint16(8 * i + 4, true);
    let revents = 0;
    if (fd >= 0) {
      const file = t.files.get(fd);
      if (!file) revents = POLLNVAL;
      else {
        // f_op->poll (a file without one, a regular file, is always ready), its queues gathered for the sleep.
        const mask = file.fops.poll ? file.fops.poll(file, q => queues.push(q)) : POLLIN | POLLOUT;
        revents = mask & (events | POLLERR | POLLHUP); // POLLERR and POLLHUP are always reported
      }
    }
    v.setUint16(8 * i + 6, revents, true);
    if (revents) ready++;
  }
  const deadline = t.sleepUntil;
  const expired = deadline >= 0 && k.uptimeNs >= deadline;
  if (ready > 0 || timeout === 0 || expired) {
    t.sleepUntil = -1;
    return user.copyOut(fds, b) < 0 ? -EFAULT : ready;
  }
  if (timeout > 0 && deadline < 0) t.sleepUntil = k.uptimeNs + timeout * 1e6;
  return k.sched.sleepOn(t, queues, timeout > 0 ? t.sleepUntil : Infinity);
}

function fcntl64(_k: Kernel, t: Task, _u: UserMemory, fd: number, cmd: number, arg: number): number {
  const file = t.files.get(fd >>> 0 > 0x7fffffff ? -1 : fd);
  if (!file) return -EBADF;
  switch (cmd) {
    // f_dupfd: the lowest free descriptor >= arg (as unsigned: -EINVAL at or past RLIMIT_NOFILE, -EMFILE if none)
    case F_DUPFD: return t.files.dup(fd, arg, false);
    case F_DUPFD_CLOEXEC: return t.files.dup(fd, arg, true);
    case F_GETFD: { const c = t.files.getCloexec(fd); return typeof c === 'number' ? c : c ? FD_CLOEXEC : 0; }
    case F_SETFD: return t.files.setCloexec(fd, (arg & FD_CLOEXEC) !== 0);
    case F_GETFL: return file.flags;
    case F_SETFL: file.flags = (file.flags & ~SETFL_MASK) | (arg & SETFL_MASK); return 0;
    default: return -EINVAL;
  }
}

/** socketcall(call, args): the multiplexed entry older C libraries use on i386. */
function socketcall(k: Kernel, t: Task, user: UserMemory, call: number, args: number): SysResult {
  const counts = [0, 3, 3, 3, 2, 3, 3, 3, 4, 4, 4, 6, 6, 2, 5, 5, 3, 3, 4, 5, 4];
  if (call < 1 || call > 20) return -EINVAL;
  const b = user.copyIn(args, 4 * counts[call]);
  if (typeof b === 'number') return b;
  const a = Array.from(new Int32Array(b.slice().buffer));
  const map: Record<number, number> = { 1: SYS.socket, 2: SYS.bind, 3: SYS.connect, 4: SYS.listen, 6: SYS.getsockname,
    7: SYS.getpeername, 11: SYS.sendto, 12: SYS.recvfrom, 13: SYS.shutdown, 14: SYS.setsockopt, 15: SYS.getsockopt, 18: SYS.accept4 };
  if (call === 5) return accept4(k, t, user, a[0], a[1], a[2], 0); // accept
  if (call === 9) return sendto(k, t, user, a[0], a[1], a[2], a[3]); // send
  if (call === 10) return recvfrom(k, t, user, a[0], a[1], a[2], a[3], 0, 0); // recv
  const nr = map[call];
  if (nr === undefined) return -EINVAL;
  return NET_SYSCALLS.get(nr)!(k, t, user, ...a); // every target is a socket call of this file
}

export const NET_SYSCALLS: ReadonlyMap<number, Syscall> = new Map<number, Syscall>([
  [SYS.socket, socket], [SYS.bind, bind], [SYS.connect, connect], [SYS.listen, listen], [SYS.accept4, accept4],
  [SYS.getsockname, getname(false)], [SYS.getpeername, getname(true)], [SYS.setsockopt, setsockopt],
  [SYS.getsockopt, getsockopt], [SYS.shutdown, shutdown], [SYS.sendto, sendto], [SYS.recvfrom, recvfrom],
  [SYS.poll, poll], [SYS.fcntl64, fcntl64], [SYS.socketcall, socketcall],
]);

export { MSG_NOSIGNAL };
