/* Code-quality benchmark (bench/quality.ts), numeric loops over an array: the C twin of ../sieve.pop (the sieve of
 * Eratosthenes below N, default 60000, then the number of primes, their sum and the largest gap). */
#include "rt.h"

int main(int argc, char **argv) {
  int n = argc > 1 ? int_of_string(argv[1]) : 60000;
  _Bool *composite = alloc(n);
  for (int i = 2; i * i < n; i++) {
    if (!composite[i]) {
      for (int j = i * i; j < n; j += i) composite[j] = 1;
    }
  }
  int count = 0, last = 0, gap = 0;
  unsigned sum = 0;
  for (int i = 2; i < n; i++) {
    if (!composite[i]) {
      count++;
      sum += i;
      if (last > 0 && i - last > gap) gap = i - last;
      last = i;
    }
  }
  print_string("primes "); print_int(count); print_string(" sum "); print_int(sum % 1000000007);
  print_string(" largest gap "); print_int(gap); print_newline();
  flush();
  return 0;
}
