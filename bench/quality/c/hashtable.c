/* Code-quality benchmark (bench/quality.ts), a hash table: the C twin of ../hashtable.pop (N pseudo-random words,
 * default 12000, counted in a chained table of 256 buckets under FNV-1a). Words are NUL-terminated, as in C. */
#include "rt.h"

struct entry { char *word; int count; struct entry *next; };

static unsigned seed = 12345;

static int next_random(void) {
  seed = seed * 1103515245 + 12345;
  return (seed >> 16) & 0x7fff;
}

/* 32-bit FNV-1a, reduced to a bucket. */
static int bucket_of(const char *s, int buckets) {
  unsigned h = 2166136261u;
  for (; *s; s++) { h ^= (unsigned char)*s; h *= 16777619u; }
  return h % buckets;
}

static char *random_word(void) {
  int n = 1 + next_random() % 4;
  char *w = alloc(n + 1);
  for (int i = 0; i < n; i++) w[i] = 'a' + next_random() % 4;
  return w;
}

static void add(struct entry **table, int buckets, char *w) {
  int b = bucket_of(w, buckets);
  for (struct entry *e = table[b]; e; e = e->next) {
    if (str_cmp(e->word, w) == 0) { e->count++; return; }
  }
  struct entry *e = alloc(sizeof *e);
  e->word = w; e->count = 1; e->next = table[b];
  table[b] = e;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? int_of_string(argv[1]) : 12000;
  enum { BUCKETS = 256 };
  struct entry **table = alloc(BUCKETS * sizeof *table);
  for (int i = 0; i < n; i++) add(table, BUCKETS, random_word());
  int distinct = 0, best = 0;
  const char *best_word = "";
  for (int b = 0; b < BUCKETS; b++) {
    for (struct entry *e = table[b]; e; e = e->next) {
      distinct++;
      if (e->count > best || (e->count == best && str_cmp(e->word, best_word) < 0)) {
        best = e->count;
        best_word = e->word;
      }
    }
  }
  print_string("words "); print_int(n); print_string(" distinct "); print_int(distinct);
  print_string(" most frequent "); print_string(best_word); print_char(' '); print_int(best); print_newline();
  flush();
  return 0;
}
