// What the kernel's own work costs. The kernel's C-level work (system call dispatch, path walks, copies to and
// from user memory, directory entries, poll, the TCP stack, the scheduler) is TypeScript here, so the machine
// cannot count its instructions; instead each piece of work is charged cycles as it is done, by a figure derived
// from published or host measurements of a real Linux doing the same work (docs/machine.md, "The kernel's own
// work"). The same implementation runs in user mode and in kernel mode, so the charges are the same in both;
// they make the totals against which a mode's saving is measured realistic.
//
// The charges go through Cpu.chargeKernelWork: part of the machine's cycles, and counted apart (stats.kernelWork).
import type { Cpu } from '../emulator/cpu.ts';
import { profileByName } from '../emulator/profiles.ts';

/** Cycles per piece of kernel work. Every figure is derived in this file from a named measurement. */
export interface KernelWorkCosts {
  /** Source of the figures (one line; docs/machine.md has the arithmetic). */
  readonly source: string;
  /** Every system call: dispatch, fdget, the file operation's call (lmbench "null I/O" − "null call"). */
  readonly syscall: number;
  /** Each path component looked up (dcache lookup, permission check), symlink targets' included. */
  readonly pathComponent: number;
  /** An open that succeeds: the file structure, the descriptor, and the later close. */
  readonly openFile: number;
  /** Each byte copied between user memory and the kernel (copy_to_user, copy_from_user, getname). */
  readonly copyByte: number;
  /** Each record getdents64 returns (filldir64 and the file system's iteration), besides its bytes' copy. */
  readonly dirEntry: number;
  /** Each descriptor poll examines. */
  readonly pollFd: number;
  /** A send that queues data on a TCP connection (the transmit half of a loopback segment). */
  readonly tcpSend: number;
  /** A receive that takes data from a TCP connection (the receive half). */
  readonly tcpReceive: number;
  /** A switch from one task to another (the scheduler; the CR3 write and TLB refills are the machine's own). */
  readonly contextSwitch: number;
}

export type WorkKind = Exclude<keyof KernelWorkCosts, 'source'>;
export const WORK_KINDS: readonly WorkKind[] = [
  'syscall', 'pathComponent', 'openFile', 'copyByte', 'dirEntry', 'pollFd', 'tcpSend', 'tcpReceive', 'contextSwitch',
];

/** An lmbench-style set of measurements of one machine (times in µs). */
interface KernelMeasurements {
  source: string;
  /** The machine's core clock, MHz: µs × mhz = cycles. */
  mhz: number;
  nullCall: number; // getppid
  nullIo: number; // a 1-byte read of /dev/zero and a 1-byte write to /dev/null, averaged
  stat: number; // stat of a file whose path has `components` components and `pathBytes` bytes with its NUL
  openClose: number; // open and close of the same file
  components: number;
  pathBytes: number;
  statBytes: number; // the struct stat the call copies out
  pollPerFd: number; // one more TCP socket in a poll or select
  ctxsw: number; // lat_ctx: 2 processes, 0 KB working set
  tcpLatency: number; // lat_tcp: a 1-byte message and its echo over loopback TCP
  rereadMBps: number; // bw_file_rd: read() of a cached file, MB/s (1e6 bytes)
  /** getdents64, per record: measured (µs), or as a multiple of one path component's cost. */
  dirEntry: { us: number } | { perComponent: number };
  /** The CR3 write the machine charges itself on a switch (taken out of ctxsw). */
  cr3Write: number;
}

/** The figures from the measurements: the derivation docs/machine.md shows. */
function derive(m: KernelMeasurements): KernelWorkCosts {
  const cyc = (us: number) => us * m.mhz;
  const copyByte = m.mhz / m.rereadMBps;
  const syscall = cyc(m.nullIo - m.nullCall);
  const pathComponent = (cyc(m.stat - m.nullCall) - syscall - (m.pathBytes + m.statBytes) * copyByte) / m.components;
  const openFile = cyc(m.openClose - 2 * m.nullCall) - 2 * syscall - m.pathBytes * copyByte - m.components * pathComponent;
  const tcpMessage = cyc(m.tcpLatency - 2 * m.ctxsw - 4 * m.nullIo) / 2;
  return {
    source: m.source,
    syscall,
    pathComponent,
    openFile,
    copyByte,
    dirEntry: 'us' in m.dirEntry ? cyc(m.dirEntry.us) : m.dirEntry.perComponent * pathComponent,
    pollFd: cyc(m.pollPerFd),
    tcpSend: tcpMessage / 2,
    tcpReceive: tcpMessage / 2,
    contextSwitch: cyc(m.ctxsw) - m.cr3Write,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Today's machines (profiles modern and modern-pti): this host, measured by bench/host/kwork.c (npx tsx
// bench/host/kwork.ts, 5 runs, medians; 2026-11-25): AMD EPYC Zen 4 (family 25, model 17), a 2-vCPU KVM guest,
// Linux 6.18.44, no PTI (Meltdown: not affected), retpolines; core clock 3.658 GHz measured by a chain of adds.
const HOST: KernelMeasurements = {
  source: 'bench/host/kwork.c on this host (AMD Zen 4, Linux 6.18, KVM), 2026-11-25',
  mhz: profileByName('modern').clock.hz / 1e6, // 3658: the modern profiles' clock is this host's (profiles.ts)
  nullCall: 0.169, nullIo: 0.207, stat: 1.116, openClose: 2.210,
  components: 4, pathBytes: '/usr/include/linux/types.h'.length + 1, statBytes: 144, // x86-64 struct stat
  pollPerFd: 0.0563, ctxsw: 1.809, tcpLatency: 13.706, rereadMBps: 17217,
  dirEntry: { us: 0.138 }, // tmpfs directory of 1,000 entries less one of 10, per entry
  cr3Write: profileByName('modern').cr3Write,
};
const HOST_WORK = derive(HOST);

// The Pentium 4 era (profile p4-northwood): lmbench 3.0 on a Pentium 4 (1595 MHz by lmbench's own clock) under three
// kernels, posted to linux-kernel by Huo Zhigang, 20 Dec 2003, "lmbench 2.4.20-8(RH9), 2.4.20, 2.6.0" (the machine
// is a Pentium 4 by its 128-byte cache lines, 2-cycle L1 and 14-cycle multiply). lmbench's stat and open use
// $FSDIR/lmbench with FSDIR=/usr/tmp. lmbench has no getdents figure: a record costs what it costs on this host
// relative to one path component (both are dcache work). The first row is used (docs/machine.md says why: the era's
// int 0x80 kernel, and of the two 2.4 rows the one whose file-system figures are not an outlier); the other two
// are kept for the bench's sensitivity table.
const P4_ROW_COMMON = {
  components: 3, pathBytes: '/usr/tmp/lmbench'.length + 1, statBytes: 96, // struct stat64: glibc's i386 stat()
  dirEntry: { perComponent: HOST_WORK.dirEntry / HOST_WORK.pathComponent },
  cr3Write: profileByName('p4-northwood').cr3Write,
};
const HUO = 'lmbench 3.0, Pentium 4 (Huo Zhigang, linux-kernel, 2003-12-20)';
// Each row: Mhz, null call, null I/O, stat, open clos, slct TCP (select on 100 TCP sockets, less a null call, per
// socket), 2p/0K ctxsw, TCP latency, file reread MB/s.
const P4_ROWS: readonly KernelMeasurements[] = [
  {
    ...P4_ROW_COMMON, source: `${HUO}, row 1: Linux 2.4.20-8 (Red Hat 9), 1595 MHz`,
    mhz: profileByName('p4-northwood').clock.hz / 1e6, // 1595: the profile's clock is this row's (profiles.ts)
    nullCall: 0.99, nullIo: 1.09, stat: 3.25, openClose: 4.54, pollPerFd: (8.41 - 0.99) / 100,
    ctxsw: 1.66, tcpLatency: 20.7, rereadMBps: 988.8,
  },
  {
    ...P4_ROW_COMMON, source: `${HUO}, row 2: Linux 2.4.20, 1592 MHz`, mhz: 1592,
    nullCall: 1.01, nullIo: 1.11, stat: 14.5, openClose: 15.9, pollPerFd: (10.4 - 1.01) / 100,
    ctxsw: 1.73, tcpLatency: 63.8, rereadMBps: 758.3,
  },
  {
    // Linux 2.6's null call goes through sysenter (the vsyscall page), so its "system call" unit (null I/O − null
    // call) holds the int 0x80 crossing's difference too; kept as lmbench reports it.
    ...P4_ROW_COMMON, source: `${HUO}, row 3: Linux 2.6.0, 1572 MHz`, mhz: 1572,
    nullCall: 0.29, nullIo: 0.75, stat: 17.9, openClose: 25.9, pollPerFd: (10.8 - 0.29) / 100,
    ctxsw: 1.56, tcpLatency: 132.6, rereadMBps: 1044.1,
  },
];
const P4_WORK = P4_ROWS.map(derive);

/** The P4 kernel-work figures from the lmbench rows not chosen (for the bench's sensitivity table). */
export const P4_ALTERNATIVE_WORK: readonly KernelWorkCosts[] = P4_WORK.slice(1);

const FREE: KernelWorkCosts = {
  source: 'none: the kernel\'s work is free',
  syscall: 0, pathComponent: 0, openFile: 0, copyByte: 0, dirEntry: 0, pollFd: 0, tcpSend: 0, tcpReceive: 0, contextSwitch: 0,
};

const BY_PROFILE: Record<string, KernelWorkCosts> = {
  'p4-northwood': P4_WORK[0],
  'modern-pti': HOST_WORK,
  modern: HOST_WORK,
  unit: FREE,
};

/** The kernel-work figures that go with a cost profile (none for `unit` or a profile this file does not know). */
export function kernelWorkCosts(profileName: string): KernelWorkCosts {
  return BY_PROFILE[profileName] ?? FREE;
}

/** Units of work and the cycles charged for them, by kind. */
export type WorkSnapshot = Record<WorkKind, { units: number; cycles: number }>;

/** What a piece of kernel code calls to be charged for its work. */
export interface WorkMeter {
  charge(kind: WorkKind, units?: number): void;
}

/** A meter that charges nothing (kernel code run outside a machine: tests, tools). */
export const NO_WORK: WorkMeter = { charge() {} };

/** The kernel's meter: charges the machine's CPU and keeps counts and cycles by kind. */
export class KernelWork implements WorkMeter {
  readonly units = new Map<WorkKind, number>();
  readonly cycles = new Map<WorkKind, number>();

  constructor(private readonly cpu: Cpu, readonly costs: KernelWorkCosts) {}

  charge(kind: WorkKind, units = 1): void {
    const c = this.costs[kind] * units;
    this.units.set(kind, (this.units.get(kind) ?? 0) + units);
    this.cycles.set(kind, (this.cycles.get(kind) ?? 0) + c);
    if (c) this.cpu.chargeKernelWork(c);
  }

  /** Units and cycles by kind (kinds never charged give 0). */
  snapshot(): WorkSnapshot {
    const out = {} as WorkSnapshot;
    for (const k of WORK_KINDS) out[k] = { units: this.units.get(k) ?? 0, cycles: this.cycles.get(k) ?? 0 };
    return out;
  }
}
