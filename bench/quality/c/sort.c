/* Code-quality benchmark (bench/quality.ts), sorting: the C twin of ../sort.pop (N pseudo-random numbers, default
 * 5000, sorted by quicksort with Hoare's partition, checked and summarised). */
#include "rt.h"

static unsigned seed = 12345;

/* The generator of the ISO C standard's example rand(). */
static int next_random(void) {
  seed = seed * 1103515245 + 12345;
  return (seed >> 16) & 0x7fff;
}

static void quicksort(int *a, int lo, int hi) {
  if (lo >= hi) return;
  int pivot = a[lo + (hi - lo) / 2];
  int i = lo - 1, j = hi + 1;
  for (;;) {
    do i++; while (a[i] < pivot);
    do j--; while (a[j] > pivot);
    if (i >= j) break;
    int t = a[i]; a[i] = a[j]; a[j] = t;
  }
  quicksort(a, lo, j);
  quicksort(a, j + 1, hi);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? int_of_string(argv[1]) : 5000;
  int *a = alloc(n * sizeof *a);
  for (int i = 0; i < n; i++) a[i] = next_random();
  quicksort(a, 0, n - 1);
  int out_of_order = 0;
  unsigned sum = 0;
  for (int i = 0; i < n; i++) {
    if (i > 0 && a[i - 1] > a[i]) out_of_order++;
    sum = sum * 31 + a[i];
  }
  print_string("sorted "); print_int(n); print_string(", out of order "); print_int(out_of_order);
  print_string(", min "); print_int(a[0]); print_string(", median "); print_int(a[n / 2]);
  print_string(", max "); print_int(a[n - 1]); print_string(", hash "); print_int(sum % 1000000007); print_newline();
  flush();
  return 0;
}
