/* Code-quality benchmark (bench/quality.ts), list processing: the C twin of ../lists.pop (a list of 1 … N, default
 * 3000, mapped and filtered through function pointers, reversed, folded, and N pseudo-random numbers merge-sorted as
 * a list), with the same cons cells and the same recursions. */
#include "rt.h"

struct ilist { int hd; struct ilist *tl; };

static unsigned seed = 12345;

static int next_random(void) {
  seed = seed * 1103515245 + 12345;
  return (seed >> 16) & 0x7fff;
}

static struct ilist *cons(int hd, struct ilist *tl) {
  struct ilist *c = alloc(sizeof *c);
  c->hd = hd; c->tl = tl;
  return c;
}

static struct ilist *range(int from, int to) {
  struct ilist *l = 0;
  for (int i = to; i >= from; i--) l = cons(i, l);
  return l;
}

static struct ilist *rev(const struct ilist *l) {
  struct ilist *out = 0;
  for (; l; l = l->tl) out = cons(l->hd, out);
  return out;
}

static struct ilist *map(int (*f)(int), const struct ilist *l) {
  struct ilist *out = 0;
  for (; l; l = l->tl) out = cons(f(l->hd), out);
  return rev(out);
}

static struct ilist *filter(int (*keep)(int), const struct ilist *l) {
  struct ilist *out = 0;
  for (; l; l = l->tl) if (keep(l->hd)) out = cons(l->hd, out);
  return rev(out);
}

static int length(const struct ilist *l) { int n = 0; for (; l; l = l->tl) n++; return n; }

static int sum(const struct ilist *l) { int s = 0; for (; l; l = l->tl) s += l->hd; return s; }

static struct ilist *merge(struct ilist *a, struct ilist *b) {
  if (!a) return b;
  if (!b) return a;
  if (a->hd <= b->hd) return cons(a->hd, merge(a->tl, b));
  return cons(b->hd, merge(a, b->tl));
}

static struct ilist *take(const struct ilist *l, int n) {
  if (n == 0 || !l) return 0;
  return cons(l->hd, take(l->tl, n - 1));
}

static struct ilist *drop(struct ilist *l, int n) {
  while (n > 0 && l) { l = l->tl; n--; }
  return l;
}

static struct ilist *merge_sort(struct ilist *l, int n) {
  if (n < 2) return l;
  int half = n / 2;
  return merge(merge_sort(take(l, half), half), merge_sort(drop(l, half), n - half));
}

static int triple_plus_one(int x) { return 3 * x + 1; }
static int is_odd(int x) { return (x & 1) == 1; }

static void print_list(const struct ilist *l, int n) {
  for (; n > 0 && l; l = l->tl, n--) { print_int(l->hd); print_char(' '); }
}

int main(int argc, char **argv) {
  int n = argc > 1 ? int_of_string(argv[1]) : 3000;
  struct ilist *l = rev(filter(is_odd, map(triple_plus_one, range(1, n))));
  print_string("odd "); print_int(length(l)); print_string(" sum "); print_int(sum(l)); print_string(" first ");
  print_list(l, 3); print_newline();
  struct ilist *r = 0;
  for (int i = 0; i < n; i++) r = cons(next_random(), r);
  struct ilist *sorted = merge_sort(r, n);
  print_string("sorted "); print_int(length(sorted)); print_string(" sum "); print_int(sum(sorted));
  print_string(" first "); print_list(sorted, 3); print_newline();
  flush();
  return 0;
}
