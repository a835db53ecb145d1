/* The C side's library for the code-quality benchmark: see rt.h. System calls are made with int 0x80 as the Linux
 * i386 ABI has them (eax the number, ebx ecx edx the arguments, -errno in eax on failure; the numbers from
 * arch/x86/entry/syscalls/syscall_32.tbl); everything else is plain C compiled by gcc -O2 with the programs. */
#include "rt.h"

enum { SYS_EXIT = 1, SYS_READ = 3, SYS_WRITE = 4, SYS_BRK = 45 };

static int syscall3(int nr, int a, int b, int c) {
  int r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  return r;
}

int sys_read(int fd, void *buf, int count) { return syscall3(SYS_READ, fd, (int)buf, count); }
int sys_write(int fd, const void *buf, int count) { return syscall3(SYS_WRITE, fd, (int)buf, count); }
void sys_exit(int status) {
  for (;;) syscall3(SYS_EXIT, status, 0, 0);
}

static char out_buf[4096];
static int out_len;

void flush(void) {
  int off = 0;
  while (off < out_len) {
    int n = sys_write(1, out_buf + off, out_len - off);
    if (n <= 0) break;
    off += n;
  }
  out_len = 0;
}

void print_char(char c) {
  if (out_len >= (int)sizeof out_buf) flush();
  out_buf[out_len++] = c;
}

void print_bytes(const char *s, int n) {
  for (int i = 0; i < n; i++) print_char(s[i]);
}

void print_string(const char *s) {
  while (*s) print_char(*s++);
}

void print_newline(void) { print_char('\n'); }

void print_int(int n) {
  char digits[12];
  int i = 12;
  unsigned u = n < 0 ? -(unsigned)n : (unsigned)n;
  do { digits[--i] = (char)('0' + u % 10); u /= 10; } while (u);
  if (n < 0) digits[--i] = '-';
  print_bytes(digits + i, 12 - i);
}

/* The heap: the program break, grown a megabyte at a time (the kernel gives zeroed pages). */
static char *heap_next, *heap_end;

void *alloc(unsigned n) {
  n = (n + 3) & ~3u;
  if (!heap_next) heap_next = heap_end = (char *)syscall3(SYS_BRK, 0, 0, 0);
  if ((unsigned)(heap_end - heap_next) < n) {
    unsigned grow = (n + 0xfffff) & ~0xfffffu;
    char *want = heap_end + grow;
    if ((char *)syscall3(SYS_BRK, (int)want, 0, 0) != want) {
      flush();
      sys_write(2, "out of memory\n", 14);
      sys_exit(255);
    }
    heap_end = want;
  }
  void *p = heap_next;
  heap_next += n;
  return p;
}

int int_of_string(const char *s) {
  int n = 0, neg = 0;
  if (*s == '-') { neg = 1; s++; }
  while (*s >= '0' && *s <= '9') n = n * 10 + (*s++ - '0');
  return neg ? -n : n;
}

int str_len(const char *s) {
  int n = 0;
  while (s[n]) n++;
  return n;
}

int str_cmp(const char *a, const char *b) {
  while (*a && *a == *b) { a++; b++; }
  if (*a == *b) return 0;
  return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
}
