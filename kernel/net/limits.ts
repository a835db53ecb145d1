// The bounds on what the kernel holds for programs' sockets, each with the Linux source it follows, in one place.
// Linux derives some of them from the machine's memory at boot (tcp_init_mem in net/ipv4/tcp.c, files_maxfiles_init
// in fs/file_table.c); so does this kernel, from the guest's RAM, so that a bound is a fact about the guest machine
// and not about the host that emulates it. Every byte a socket queues is host memory, so these bounds are also what
// keeps a program from growing talrun without limit (docs/kernel.md, "Limits").
//
// Sources: include/linux/socket.h (SOMAXCONN) and Documentation/admin-guide/sysctl/net.rst (net.core.somaxconn,
// rmem_max, wmem_max); Documentation/networking/ip-sysctl.rst and net/ipv4/tcp.c's tcp_init (tcp_rmem, tcp_wmem,
// tcp_mem); include/net/sock.h (SOCK_MIN_SNDBUF, SOCK_MIN_RCVBUF, sk_acceptq_is_full); fs/file_table.c and
// include/uapi/linux/fs.h (fs.file-max, NR_FILE). The per-process descriptor limit (RLIMIT_NOFILE, 1024) is
// fdtable.ts's NR_OPEN_DEFAULT; the process limit is kernel.ts's NR_TASKS.

import { PAGE_SIZE } from '../arch/layout.ts';

/** net.core.somaxconn: listen(2)'s backlog is capped here (SOMAXCONN, 4096 since Linux 5.4; 128 before). */
export const SOMAXCONN = 4096;

/** net.ipv4.tcp_rmem[1]: a TCP socket's initial receive buffer, sk_rcvbuf (131072 since Linux 4.20). */
export const TCP_RMEM_DEFAULT = 131072;
/** net.ipv4.tcp_wmem[1]: a TCP socket's initial send buffer, sk_sndbuf. */
export const TCP_WMEM_DEFAULT = 16384;

/** net.core.rmem_max, net.core.wmem_max: the most SO_RCVBUF/SO_SNDBUF may ask for (SK_RMEM_MAX on x86-64). */
export const RMEM_MAX = 212992;
export const WMEM_MAX = 212992;

/**
 * The least sk_rcvbuf and sk_sndbuf SO_RCVBUF/SO_SNDBUF may set: TCP_SKB_MIN_TRUESIZE (2048 + the aligned
 * sizeof(struct sk_buff), 256 on x86-64) once and twice.
 */
export const SOCK_MIN_RCVBUF = 2304;
export const SOCK_MIN_SNDBUF = 2 * SOCK_MIN_RCVBUF;

/** NR_FILE: fs.file-max is never below this. */
export const NR_FILE = 8192;

/** The machine-wide bounds, computed from the guest's RAM at boot. */
export interface NetLimits {
  /** net.core.somaxconn. */
  readonly somaxconn: number;
  /**
   * tcp_mem[2] in bytes: the most all sockets' queues may hold together. Beyond it writers wait (or get EAGAIN)
   * until some are read or freed, as Linux's sk_stream_wait_memory; bytes arriving from the host pause that host
   * connection instead.
   */
  readonly tcpMemBytes: number;
  /**
   * fs.file-max, counted over sockets (the only open files whose number is not bounded by a process's descriptors,
   * since a connection waiting in an accept queue has none): socket() beyond it is ENFILE, a connection beyond it
   * waits as one beyond the backlog does.
   */
  readonly fileMax: number;
}

/**
 * The bounds of a machine with `ramBytes` of RAM. tcp_init_mem: limit = max(free pages / 16, 128), tcp_mem[0] =
 * limit / 4 * 3, tcp_mem[2] = 2 * tcp_mem[0] (9.37 % of memory). files_maxfiles_init: a tenth of memory in KiB, at
 * least NR_FILE. All of RAM stands in for the free pages Linux counts at boot.
 */
export function netLimits(ramBytes: number): NetLimits {
  const pages = Math.floor(ramBytes / PAGE_SIZE);
  const limit = Math.max(Math.floor(pages / 16), 128);
  const tcpMemPages = 2 * (Math.floor(limit / 4) * 3);
  return {
    somaxconn: SOMAXCONN,
    tcpMemBytes: tcpMemPages * PAGE_SIZE,
    fileMax: Math.max(NR_FILE, Math.floor(ramBytes / 1024 / 10)),
  };
}
