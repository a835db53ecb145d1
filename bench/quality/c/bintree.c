/* Code-quality benchmark (bench/quality.ts), a binary tree: the C twin of ../bintree.pop (N pseudo-random keys,
 * default 4000, into an unbalanced binary search tree, N lookups, then size, height and key sum). */
#include "rt.h"

struct tree { int key; int count; struct tree *left, *right; };

static unsigned seed = 12345;

static int next_random(void) {
  seed = seed * 1103515245 + 12345;
  return (seed >> 16) & 0x7fff;
}

static struct tree *insert(struct tree *t, int key) {
  if (!t) {
    t = alloc(sizeof *t);
    t->key = key; t->count = 1;
    return t;
  }
  if (key < t->key) t->left = insert(t->left, key);
  else if (key > t->key) t->right = insert(t->right, key);
  else t->count++;
  return t;
}

static int member(const struct tree *t, int key) {
  while (t) {
    if (key == t->key) return 1;
    t = key < t->key ? t->left : t->right;
  }
  return 0;
}

static int count(const struct tree *t) { return t ? 1 + count(t->left) + count(t->right) : 0; }

static int height(const struct tree *t) {
  if (!t) return 0;
  int l = height(t->left), r = height(t->right);
  return 1 + (l > r ? l : r);
}

static int key_sum(const struct tree *t) { return t ? t->key + key_sum(t->left) + key_sum(t->right) : 0; }

int main(int argc, char **argv) {
  int n = argc > 1 ? int_of_string(argv[1]) : 4000;
  struct tree *t = 0;
  for (int i = 0; i < n; i++) t = insert(t, next_random());
  int found = 0;
  for (int i = 0; i < n; i++) if (member(t, next_random())) found++;
  print_string("keys "); print_int(count(t)); print_string(" height "); print_int(height(t));
  print_string(" sum "); print_int(key_sum(t)); print_string(" found "); print_int(found); print_newline();
  flush();
  return 0;
}
