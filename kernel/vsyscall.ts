// The vsyscall page's code, as Linux 2.6 put it there (arch/i386/kernel/vsyscall-sysenter.S, 2.6.0–2.6.17): the
// entry a C library calls instead of executing `int 0x80` itself, found through AT_SYSINFO in the auxiliary vector.
//
//   __kernel_vsyscall:  push ecx; push edx; push ebp; mov ebp, esp; sysenter
//   SYSENTER_RETURN:    pop ebp; pop edx; pop ecx; ret
//
// sysenter pushes nothing and loses esp and eip, so the convention carries them: ebp holds the caller's stack (the
// kernel reads the sixth argument, the caller's ebp, from [ebp] and returns with esp = ebp), and the kernel always
// returns to SYSENTER_RETURN, where the saved ebp, edx and ecx are popped and `ret` goes back to the caller. So
// a `call` through AT_SYSINFO keeps every register but eax, exactly as `int 0x80` does. Linux's seven nops and
// `jmp` between the two halves are its restart point for interrupted calls (eip − 2 re-entered the kernel); this
// kernel never rewinds a call (a sleeping call is called again inside the kernel, kernel/sched.ts), so it has none.

/** The page's bytes and the offsets of its two entry points. */
export interface VsyscallCode {
  readonly bytes: Uint8Array;
  /** `__kernel_vsyscall`: AT_SYSINFO points here. */
  readonly kernelVsyscall: number;
  /** Where the kernel's sysexit returns to (Linux's SYSENTER_RETURN). */
  readonly sysenterReturn: number;
}

export function vsyscallCode(): VsyscallCode {
  const enter = [0x51, 0x52, 0x55, 0x89, 0xe5, 0x0f, 0x34]; // push ecx; push edx; push ebp; mov ebp, esp; sysenter
  const back = [0x5d, 0x5a, 0x59, 0xc3]; // pop ebp; pop edx; pop ecx; ret
  return { bytes: Uint8Array.from([...enter, ...back]), kernelVsyscall: 0, sysenterReturn: enter.length };
}
