/* Code-quality benchmark (bench/quality.ts), recursion: the C twin of ../fib.pop (naive doubly recursive
 * Fibonacci, fib(N) for N = 24 by default, and the number of calls it made). */
#include "rt.h"

static int calls;

static int fib(int n) {
  calls++;
  if (n < 2) return n;
  return fib(n - 1) + fib(n - 2);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? int_of_string(argv[1]) : 24;
  int f = fib(n);
  print_string("fib("); print_int(n); print_string(") = "); print_int(f);
  print_string(" in "); print_int(calls); print_string(" calls"); print_newline();
  flush();
  return 0;
}
