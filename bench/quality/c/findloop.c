/* Code-quality benchmark (bench/quality.ts), find's inner loop: the C twin of ../findloop.pop (a directory's
 * getdents64 records parsed into a list of entries, each joined to its directory's path and tested against
 * -name '*.c' -type f, N times over, default 40). The glob matcher is popc's lib/glob.pop (fnmatch(3) without
 * flags) in C, over NUL-terminated strings. */
#include "rt.h"

struct dirent { char *name; int type; struct dirent *next; };

enum { DT_DIR = 4, DT_REG = 8, DT_LNK = 10 };

/* Appends a getdents64 record for name to buf at `at`; returns where the next one starts. */
static int put_record(unsigned char *buf, int at, const char *name, int type) {
  int length = str_len(name);
  int reclen = (19 + length + 1 + 7) / 8 * 8;
  buf[at + 16] = reclen % 256;
  buf[at + 17] = reclen / 256;
  buf[at + 18] = type;
  for (int i = 0; i < length; i++) buf[at + 19 + i] = name[i];
  return at + reclen;
}

/* The entries of n bytes of records in buf, in order, without . and .. */
static struct dirent *parse(const unsigned char *buf, int n) {
  struct dirent *first = 0, **last = &first;
  for (int at = 0; at < n;) {
    int reclen = buf[at + 16] + buf[at + 17] * 256;
    const char *name = (const char *)buf + at + 19;
    int len = str_len(name);
    int dot = len == 1 && name[0] == '.', dotdot = len == 2 && name[0] == '.' && name[1] == '.';
    if (!dot && !dotdot) {
      struct dirent *e = alloc(sizeof *e);
      e->name = alloc(len + 1);
      for (int i = 0; i < len; i++) e->name[i] = name[i];
      e->type = buf[at + 18];
      *last = e;
      last = &e->next;
    }
    at += reclen;
  }
  return first;
}

static char *join(const char *dir, const char *name) {
  int dl = str_len(dir), nl = str_len(name), slash = dl > 0 && dir[dl - 1] != '/';
  char *out = alloc(dl + slash + nl + 1);
  for (int i = 0; i < dl; i++) out[i] = dir[i];
  if (slash) out[dl] = '/';
  for (int i = 0; i < nl; i++) out[dl + slash + i] = name[i];
  return out;
}

/* lib/glob.pop in C: the index just after the ']' closing the set at p[i] == '[', or -1. */
static int set_end(const char *p, int plen, int i) {
  int j = i + 1;
  if (j < plen && (p[j] == '!' || p[j] == '^')) j++;
  if (j < plen && p[j] == ']') j++;
  while (j < plen && p[j] != ']') {
    if (p[j] == '\\' && j + 1 < plen) j++;
    j++;
  }
  return j < plen ? j + 1 : -1;
}

static int in_set(const char *p, int i, int end, char c) {
  int j = i + 1, negate = 0, found = 0, first = 1;
  if (p[j] == '!' || p[j] == '^') { negate = 1; j++; }
  while (j < end - 1) {
    char lo = p[j];
    if (lo == ']' && !first) break;
    if (lo == '\\' && j + 1 < end - 1) { j++; lo = p[j]; }
    char hi = lo;
    if (j + 2 < end - 1 && p[j + 1] == '-') {
      hi = p[j + 2];
      if (hi == '\\' && j + 3 < end - 1) { j++; hi = p[j + 2]; }
      j += 2;
    }
    if (c >= lo && c <= hi) found = 1;
    j++;
    first = 0;
  }
  return found != negate;
}

static int match_from(const char *p, int plen, int pi, const char *s, int slen, int si) {
  while (pi < plen) {
    char c = p[pi];
    if (c == '*') {
      while (pi < plen && p[pi] == '*') pi++;
      if (pi == plen) return 1;
      for (int k = si; k <= slen; k++) if (match_from(p, plen, pi, s, slen, k)) return 1;
      return 0;
    }
    if (si >= slen) return 0;
    if (c == '?') { pi++; si++; continue; }
    if (c == '[') {
      int end = set_end(p, plen, pi);
      if (end > 0) {
        if (!in_set(p, pi, end, s[si])) return 0;
        pi = end;
        si++;
        continue;
      }
    }
    if (c == '\\' && pi + 1 < plen) { pi++; c = p[pi]; }
    if (c != s[si]) return 0;
    pi++;
    si++;
  }
  return si == slen;
}

static int fnmatch(const char *pattern, const char *name) {
  return match_from(pattern, str_len(pattern), 0, name, str_len(name), 0);
}

static char *name_of(const char *prefix, int num, const char *suffix) {
  char digits[12];
  int i = 12;
  do { digits[--i] = (char)('0' + num % 10); num /= 10; } while (num);
  int pl = str_len(prefix), sl = str_len(suffix);
  char *out = alloc(pl + 12 - i + sl + 1);
  char *o = out;
  for (int k = 0; k < pl; k++) *o++ = prefix[k];
  for (int k = i; k < 12; k++) *o++ = digits[k];
  for (int k = 0; k < sl; k++) *o++ = suffix[k];
  return out;
}

int main(int argc, char **argv) {
  int passes = argc > 1 ? int_of_string(argv[1]) : 40;
  unsigned char *buf = alloc(8192);
  int n = put_record(buf, 0, ".", DT_DIR);
  n = put_record(buf, n, "..", DT_DIR);
  for (int i = 0; i < 200; i++) {
    int num = i * 7919 % 1000;
    switch (i % 4) {
    case 0: n = put_record(buf, n, name_of("file", num, ".c"), DT_REG); break;
    case 1: n = put_record(buf, n, name_of("file", num, ".h"), DT_REG); break;
    case 2: n = put_record(buf, n, name_of("dir", num, ""), DT_DIR); break;
    default: n = put_record(buf, n, name_of("link", num, ".c"), DT_LNK); break;
    }
  }
  int matched = 0;
  for (int pass = 0; pass < passes; pass++) {
    for (struct dirent *e = parse(buf, n); e; e = e->next) {
      char *path = join("/src/tree", e->name);
      if (e->type == DT_REG && fnmatch("*.c", e->name)) {
        matched++;
        if (pass == passes - 1) { print_string(path); print_newline(); }
      }
    }
  }
  print_string("matched "); print_int(matched); print_newline();
  flush();
  return 0;
}
