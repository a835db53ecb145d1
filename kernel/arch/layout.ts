// The kernel's memory layout and segment selectors, each written once: Linux i386 with the default 3G/1G split
// (arch/x86/include/asm/page_types.h PAGE_SHIFT, page_32_types.h __PAGE_OFFSET and TASK_SIZE, segment.h's GDT
// entries). Every kernel file takes these from here; the emulator has its own notion of the page (the MMU's, in
// emulator/memory.ts) and knows nothing of this layout. This module imports nothing, so that any part of the kernel
// (the file systems included) may use it.

/** PAGE_SHIFT, PAGE_SIZE: the 4 KiB page (the hardware's, without PSE). */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/** __PAGE_OFFSET: the kernel's half of every address space starts here; all low memory is mapped at it. */
export const PAGE_OFFSET = 0xc0000000;
/** TASK_SIZE: user space is [0, TASK_SIZE); access_ok refuses anything reaching above it. */
export const TASK_SIZE = PAGE_OFFSET;
/**
 * Physical [0, LOW_MEMORY) holds the kernel's own structures (page tables, GDT/IDT/TSS, kernel stacks, entry code);
 * frames above it are handed out for user pages.
 */
export const LOW_MEMORY = 4 << 20;
/** Lowmem: how much physical memory the direct map covers at most (Linux's 896 MiB). */
export const MAX_LOWMEM = 896 << 20;

/**
 * Linux i386 GDT entries (segment.h): kernel code 12, kernel data 13, user code 14 and user data 15 (RPL 3), the TSS
 * 16, the double-fault TSS 31; the GDT has GDT_ENTRIES of them.
 */
export const KERNEL_CS = 0x60, KERNEL_DS = 0x68, USER_CS = 0x73, USER_DS = 0x7b, TSS_SEL = 0x80, DF_TSS_SEL = 0xf8;
export const GDT_ENTRIES = 32;

export const pageDown = (n: number): number => Math.floor(n / PAGE_SIZE) * PAGE_SIZE;
export const pageUp = (n: number): number => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

/**
 * The vsyscall page (Linux 2.6's FIX_VSYSCALL, `VSYSCALL_BASE` in arch/i386/kernel/sysenter.c): one page at the top
 * of the kernel half, mapped user-readable and executable (not writable) in every address space, holding
 * `__kernel_vsyscall`. Offered only with the sysenter entry (KernelOptions.syscallEntry).
 */
export const VSYSCALL_BASE = 0xffffe000;
