/* Code-quality benchmark (bench/quality.ts), an echo loop: the C twin of ../echoloop.pop (standard input read in
 * 4 KiB chunks and written back whole, its lines counted, then the totals). */
#include "rt.h"

int main(void) {
  static char buf[4096];
  int total = 0, lines = 0;
  for (;;) {
    int n = sys_read(0, buf, sizeof buf);
    if (n <= 0) break;
    for (int i = 0; i < n; i++) if (buf[i] == '\n') lines++;
    for (int off = 0; off < n;) {
      int w = sys_write(1, buf + off, n - off);
      if (w <= 0) sys_exit(1);
      off += w;
    }
    total += n;
  }
  print_string("echoed "); print_int(total); print_string(" bytes, "); print_int(lines); print_string(" lines");
  print_newline();
  flush();
  return 0;
}
