/* Code-quality benchmark (bench/quality.ts), numeric loops: the C twin of ../collatz.pop (the Collatz sequence's
 * length for every start from 1 to N, default 3000), compiled by gcc -m32 -O2 against rt.c. */
#include "rt.h"

static int steps(unsigned n) {
  int k = 0;
  while (n != 1) {
    if (n % 2 == 0) n = n / 2;
    else n = 3 * n + 1;
    k++;
  }
  return k;
}

int main(int argc, char **argv) {
  int limit = argc > 1 ? int_of_string(argv[1]) : 3000;
  int total = 0, best = 0, best_start = 1;
  for (int i = 1; i <= limit; i++) {
    int s = steps(i);
    total += s;
    if (s > best) { best = s; best_start = i; }
  }
  print_string("total "); print_int(total);
  print_string(" longest "); print_int(best); print_string(" from "); print_int(best_start); print_newline();
  flush();
  return 0;
}
