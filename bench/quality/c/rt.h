/* The C side's whole library for the code-quality benchmark (bench/quality.ts): what popc's Core library
 * (compiler/lib/core.pop) and its runtime's imports (tal/asm/runtime.ts) give the Popcorn twin of each program, written
 * as a C programmer would without a libc: Linux i386 system calls through int 0x80 (numbers from the kernel's
 * arch/x86/entry/syscalls/syscall_32.tbl), standard output buffered in 4 KiB as Core buffers it, allocation from
 * the program break (brk) as popc's tal_alloc does, and the few string helpers the programs need. */
#ifndef QUALITY_RT_H
#define QUALITY_RT_H

int sys_read(int fd, void *buf, int count);
int sys_write(int fd, const void *buf, int count);
void sys_exit(int status) __attribute__((noreturn));

/* Buffered standard output (4 KiB, as Core's); flush() before the program ends. */
void print_char(char c);
void print_string(const char *s);
void print_bytes(const char *s, int n);
void print_int(int n);
void print_newline(void);
void flush(void);

/* n zeroed bytes from the program break (never freed, as nothing is in popc's runtime). */
void *alloc(unsigned n);
/* A decimal number, with an optional '-', up to the first non-digit (Core's int_of_string). */
int int_of_string(const char *s);
/* -1, 0 or 1 as Core's strcmp. */
int str_cmp(const char *a, const char *b);
int str_len(const char *s);

#endif
