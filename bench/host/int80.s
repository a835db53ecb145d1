# bench/host/int80.s: the cost of a system call through int 0x80 on this host, from a static i386 program.
# Built and run by bench/host/measure.ts (as --32; ld -m elf_i386). No libc: the program is its own _start.
#
# Six loops of N iterations each, every loop timed twice: with rdtsc (TSC ticks) and with clock_gettime64
# (CLOCK_MONOTONIC, i386 system call 403) read just before and just after the loop:
#   0 empty    mov $20,%eax; dec %ecx; jnz        (the loop overhead every other loop also pays)
#   1 getpid   mov $20,%eax; int $0x80; dec; jnz   (system call 20)
#   2 getppid  mov $64,%eax; int $0x80; dec; jnz   (system call 64, as in Linus Torvalds' 2002 test)
#   3 enosys   mov $-1,%eax; int $0x80; dec; jnz   (no such call: the kernel's entry and exit, and -ENOSYS)
#   4 call     mov $20,%eax; call f; dec; jnz      (a near call and ret, f: ret; a kernel-mode program's call)
#   5 vsyscall mov $20,%eax; call *sysinfo; dec; jnz (getpid through the vDSO's __kernel_vsyscall, whose address
#              the kernel passes in the auxiliary vector as AT_SYSINFO: the fast 32-bit entry, SYSENTER on Intel
#              and SYSCALL on AMD, instead of int 0x80; all zeros if there is no AT_SYSINFO)
# Linux's int 0x80 and __kernel_vsyscall preserve every register but %eax, so %ecx survives the call.
# Output on stdout: 6 records of 6 little-endian 32-bit words, 144 bytes in all:
#   tsc_start_lo, tsc_start_hi, tsc_end_lo, tsc_end_hi, ns_lo, ns_hi   (ns = the loop's CLOCK_MONOTONIC time)
# The iteration count is the first word of .data (N), 1,000,000.

        .set    SYS_exit, 1
        .set    SYS_write, 4
        .set    SYS_clock_gettime64, 403
        .set    CLOCK_MONOTONIC, 1

        .data
        .align  4
N:      .long   1000000

        .bss
        .align  8
ts0:    .space  16              # struct __kernel_timespec { s64 tv_sec; s64 tv_nsec; }
ts1:    .space  16
out:    .space  144
sysinfo: .space 4              # AT_SYSINFO: the address of __kernel_vsyscall, or 0

        .text
        .globl  _start

# now(ts): clock_gettime64(CLOCK_MONOTONIC, ts); clobbers eax, ebx, ecx
.macro  now     ts
        mov     $SYS_clock_gettime64, %eax
        mov     $CLOCK_MONOTONIC, %ebx
        mov     $\ts, %ecx
        int     $0x80
.endm

# begin(rec): read the clock, then the TSC into out[rec]; leaves ecx = N
.macro  begin   rec
        now     ts0
        rdtsc
        mov     %eax, out+24*\rec
        mov     %edx, out+24*\rec+4
        mov     N, %ecx
.endm

# end(rec): read the TSC into out[rec], then the clock; store the elapsed ns
.macro  end     rec
        rdtsc
        mov     %eax, out+24*\rec+8
        mov     %edx, out+24*\rec+12
        now     ts1
        call    elapsed
        mov     %eax, out+24*\rec+16
        mov     %edx, out+24*\rec+20
.endm

        .set    AT_SYSINFO, 32

_start:
        # find AT_SYSINFO: the stack holds argc, argv[], 0, envp[], 0, then (type, value) pairs up to type 0
        mov     (%esp), %eax            # argc
        lea     8(%esp,%eax,4), %esi    # envp
2:      lodsl
        test    %eax, %eax
        jnz     2b                      # esi: the first auxv pair
3:      lodsl                           # type
        mov     %eax, %edx
        lodsl                           # value
        test    %edx, %edx
        jz      4f
        cmp     $AT_SYSINFO, %edx
        jne     3b
        mov     %eax, sysinfo
4:
        begin   0
        .p2align 4
1:      mov     $20, %eax
        dec     %ecx
        jnz     1b
        end     0

        begin   1
        .p2align 4
1:      mov     $20, %eax
        int     $0x80
        dec     %ecx
        jnz     1b
        end     1

        begin   2
        .p2align 4
1:      mov     $64, %eax
        int     $0x80
        dec     %ecx
        jnz     1b
        end     2

        begin   3
        .p2align 4
1:      mov     $-1, %eax
        int     $0x80
        dec     %ecx
        jnz     1b
        end     3

        begin   4
        .p2align 4
1:      mov     $20, %eax
        call    f
        dec     %ecx
        jnz     1b
        end     4

        cmpl    $0, sysinfo
        je      5f
        begin   5
        .p2align 4
1:      mov     $20, %eax
        call    *sysinfo
        dec     %ecx
        jnz     1b
        end     5
5:
        mov     $SYS_write, %eax
        mov     $1, %ebx
        mov     $out, %ecx
        mov     $144, %edx
        int     $0x80
        mov     $SYS_exit, %eax
        xor     %ebx, %ebx
        int     $0x80

        .p2align 4
f:      ret

# elapsed: edx:eax = (ts1 - ts0) in ns, from the low words of tv_sec and tv_nsec (loops last well under 2^32 s)
elapsed:
        mov     ts1, %eax               # tv_sec (low word)
        sub     ts0, %eax
        mov     $1000000000, %ecx
        mul     %ecx                    # edx:eax = seconds * 1e9
        mov     ts1+8, %ebx             # tv_nsec
        sub     ts0+8, %ebx             # may be negative
        mov     %ebx, %ecx
        sar     $31, %ecx               # sign-extend into ecx
        add     %ebx, %eax
        adc     %ecx, %edx
        ret
