// Signals: numbers (Linux i386, include/uapi/asm-generic/signal.h) and default actions (kernel/signal.c,
// sig_kernel_ignore / sig_kernel_stop). There are no handlers (rt_sigaction is -ENOSYS), so a signal's effect is
// its default action: most end the process; SIGCHLD, SIGURG, SIGWINCH and SIGCONT are ignored; the stop signals
// are not modelled and are ignored too.

export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8;
export const SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15;
export const SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22, SIGURG = 23;
export const SIGWINCH = 28;
/** _NSIG: valid signal numbers are 1..64. */
export const NSIG = 64;

export const SIGNALS: Readonly<Record<number, string>> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE',
  9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
  16: 'SIGSTKFLT', 17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP', 20: 'SIGTSTP', 21: 'SIGTTIN', 22: 'SIGTTOU',
  23: 'SIGURG', 24: 'SIGXCPU', 25: 'SIGXFSZ', 26: 'SIGVTALRM', 27: 'SIGPROF', 28: 'SIGWINCH', 29: 'SIGIO',
  30: 'SIGPWR', 31: 'SIGSYS',
};

const IGNORED = new Set([SIGCHLD, SIGCONT, SIGURG, SIGWINCH, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU]);

export function signalName(sig: number): string {
  return SIGNALS[sig] ?? (sig >= 34 && sig <= NSIG ? `SIGRTMIN+${sig - 34}` : `signal ${sig}`);
}

/** Whether the default action of `sig` ends the process. Real-time signals (32..64) terminate too. */
export function isFatalByDefault(sig: number): boolean {
  return sig >= 1 && sig <= NSIG && !IGNORED.has(sig);
}
