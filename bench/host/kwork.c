// kwork: an lmbench-style microbenchmark of the host Linux kernel's own software costs.
// Built and run by bench/host/kwork.ts (gcc -O2, 64-bit). Prints one line per measure, "name value unit";
// lines starting with '#' are remarks. Every measure is the median of REPS timed loops, each loop sized to
// take about 50-100 ms (CLOCK_MONOTONIC around the loop).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REPS 7
#define TARGET_NS 60000000.0 // aim each timed loop at ~60 ms

static void die(const char *fmt, ...) {
  int e = errno;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "kwork: ");
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  if (e) fprintf(stderr, ": %s", strerror(e));
  fprintf(stderr, "\n");
  exit(1);
}

static double now_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) die("clock_gettime");
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef void (*loop_fn)(long n, void *ctx);

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

// Median over REPS of the per-iteration time of fn, after sizing n so that one loop takes ~TARGET_NS.
static double measure(loop_fn fn, void *ctx) {
  long n = 1;
  for (;;) {
    double t0 = now_ns();
    fn(n, ctx);
    double t = now_ns() - t0;
    if (t >= TARGET_NS / 4) {
      double per = t / (double)n;
      long want = (long)(TARGET_NS / per);
      if (want > n) n = want;
      break;
    }
    n *= t < TARGET_NS / 100 ? 10 : 2;
  }
  double s[REPS];
  for (int r = 0; r < REPS; r++) {
    double t0 = now_ns();
    fn(n, ctx);
    s[r] = (now_ns() - t0) / (double)n;
  }
  qsort(s, REPS, sizeof s[0], cmp_double);
  return s[REPS / 2];
}

static void out(const char *name, double v, const char *unit) { printf("%s %.6g %s\n", name, v, unit); }

// ---- core clock ----
static void loop_adds(long n, void *ctx) {
  (void)ctx;
  long x = 0;
  for (long i = 0; i < n; i++) {
    __asm__ volatile("add $1,%0\n\tadd $1,%0\n\tadd $1,%0\n\tadd $1,%0\n\t"
                     "add $1,%0\n\tadd $1,%0\n\tadd $1,%0\n\tadd $1,%0"
                     : "+r"(x));
  }
  __asm__ volatile("" ::"r"(x));
}

// ---- null call, null I/O ----
static void loop_getppid(long n, void *ctx) {
  (void)ctx;
  for (long i = 0; i < n; i++)
    if (syscall(SYS_getppid) < 0) die("getppid");
}

static int g_zero_fd, g_null_fd;
static void loop_read_zero(long n, void *ctx) {
  (void)ctx;
  char c;
  for (long i = 0; i < n; i++)
    if (read(g_zero_fd, &c, 1) != 1) die("read /dev/zero");
}
static void loop_write_null(long n, void *ctx) {
  (void)ctx;
  char c = 0;
  for (long i = 0; i < n; i++)
    if (write(g_null_fd, &c, 1) != 1) die("write /dev/null");
}

// ---- stat, open+close ----
static const char *g_path;
static void loop_stat(long n, void *ctx) {
  (void)ctx;
  struct stat st;
  for (long i = 0; i < n; i++)
    if (stat(g_path, &st) != 0) die("stat %s", g_path);
}
static void loop_openclose(long n, void *ctx) {
  (void)ctx;
  for (long i = 0; i < n; i++) {
    int fd = open(g_path, O_RDONLY);
    if (fd < 0) die("open %s", g_path);
    if (close(fd) != 0) die("close");
  }
}

// ---- getdents64 ----
struct dents_ctx {
  int fd;
  long expect;
};
static char g_dbuf[65536] __attribute__((aligned(8)));
static long dents_pass(int fd) {
  if (lseek(fd, 0, SEEK_SET) != 0) die("lseek dir");
  long entries = 0;
  for (;;) {
    long r = syscall(SYS_getdents64, fd, g_dbuf, sizeof g_dbuf);
    if (r < 0) die("getdents64");
    if (r == 0) break;
    for (long off = 0; off < r;) {
      unsigned short reclen;
      memcpy(&reclen, g_dbuf + off + 16, sizeof reclen); // d_ino(8) d_off(8) d_reclen(2)
      if (reclen == 0) die("getdents64: zero d_reclen");
      off += reclen;
      entries++;
    }
  }
  return entries;
}
static void loop_dents(long n, void *ctx) {
  struct dents_ctx *c = ctx;
  for (long i = 0; i < n; i++)
    if (dents_pass(c->fd) != c->expect) {
      errno = 0;
      die("getdents64: expected %ld entries", c->expect);
    }
}
static void make_dir(const char *dir, int files) {
  if (mkdir(dir, 0700) != 0) die("mkdir %s", dir);
  char p[512];
  for (int i = 0; i < files; i++) {
    snprintf(p, sizeof p, "%s/f%04d", dir, i);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) die("create %s", p);
    if (close(fd) != 0) die("close");
  }
}
static void remove_dir(const char *dir, int files) {
  char p[512];
  for (int i = 0; i < files; i++) {
    snprintf(p, sizeof p, "%s/f%04d", dir, i);
    if (unlink(p) != 0) die("unlink %s", p);
  }
  if (rmdir(dir) != 0) die("rmdir %s", dir);
}

// ---- file reread ----
#define FILE_SIZE (1 << 20)
#define CHUNK 65536
static int g_file_fd;
static char g_rbuf[CHUNK] __attribute__((aligned(64)));
static void loop_reread(long n, void *ctx) {
  (void)ctx;
  for (long i = 0; i < n; i++) {
    if (lseek(g_file_fd, 0, SEEK_SET) != 0) die("lseek file");
    for (long got = 0; got < FILE_SIZE;) {
      ssize_t r = read(g_file_fd, g_rbuf, CHUNK);
      if (r <= 0) die("read file");
      got += r;
    }
  }
}

// ---- poll on TCP fds ----
#define NPOLL 100
static struct pollfd g_pfds[NPOLL];
static void loop_poll(long n, void *ctx) {
  long nfds = *(long *)ctx;
  for (long i = 0; i < n; i++) {
    int r = poll(g_pfds, (nfds_t)nfds, 0);
    if (r < 0) die("poll");
    if (r != 0) {
      errno = 0;
      die("poll: %d fds unexpectedly ready", r);
    }
  }
}

static int tcp_listener(struct sockaddr_in *addr) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  if (ls < 0) die("socket");
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr->sin_port = 0;
  if (bind(ls, (struct sockaddr *)addr, sizeof *addr) != 0) die("bind");
  if (listen(ls, 128) != 0) die("listen");
  socklen_t len = sizeof *addr;
  if (getsockname(ls, (struct sockaddr *)addr, &len) != 0) die("getsockname");
  return ls;
}
static void tcp_pair(int ls, const struct sockaddr_in *addr, int *client, int *server) {
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (c < 0) die("socket");
  if (connect(c, (const struct sockaddr *)addr, sizeof *addr) != 0) die("connect");
  int s = accept(ls, NULL, NULL);
  if (s < 0) die("accept");
  *client = c;
  *server = s;
}

// ---- two-process round trips ----
static cpu_set_t g_orig_mask;
static void pin_cpu0(void) {
  if (sched_getaffinity(0, sizeof g_orig_mask, &g_orig_mask) != 0) die("sched_getaffinity");
  cpu_set_t m;
  CPU_ZERO(&m);
  CPU_SET(0, &m);
  if (sched_setaffinity(0, sizeof m, &m) != 0) die("sched_setaffinity(CPU 0)");
}
static void unpin(void) {
  if (sched_setaffinity(0, sizeof g_orig_mask, &g_orig_mask) != 0) die("sched_setaffinity(restore)");
}

// Child side: read 1 byte from rfd, write it back to wfd, until EOF.
static void echo_child(int rfd, int wfd) {
  char c;
  for (;;) {
    ssize_t r = read(rfd, &c, 1);
    if (r == 0) _exit(0);
    if (r != 1) {
      perror("kwork: echo child read");
      _exit(1);
    }
    if (write(wfd, &c, 1) != 1) {
      perror("kwork: echo child write");
      _exit(1);
    }
  }
}
struct rt_ctx {
  int wfd, rfd;
};
static void loop_roundtrip(long n, void *ctx) {
  struct rt_ctx *c = ctx;
  char t = 'x';
  for (long i = 0; i < n; i++) {
    if (write(c->wfd, &t, 1) != 1) die("round trip write");
    if (read(c->rfd, &t, 1) != 1) die("round trip read");
  }
}
static void reap(pid_t pid) {
  int st;
  if (waitpid(pid, &st, 0) != pid) die("waitpid");
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    errno = 0;
    die("echo child failed (status 0x%x)", st);
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);

  // core clock: 8 dependent 1-cycle adds per iteration
  double ns_per_iter = measure(loop_adds, NULL);
  double ghz = 8.0 / ns_per_iter;
  out("core_ghz", ghz, "GHz");

  // null call
  double null_ns = measure(loop_getppid, NULL);
  out("null_ns", null_ns, "ns");

  // null I/O
  g_zero_fd = open("/dev/zero", O_RDONLY);
  if (g_zero_fd < 0) die("open /dev/zero");
  g_null_fd = open("/dev/null", O_WRONLY);
  if (g_null_fd < 0) die("open /dev/null");
  double rd = measure(loop_read_zero, NULL), wr = measure(loop_write_null, NULL);
  if (close(g_zero_fd) != 0 || close(g_null_fd) != 0) die("close");
  out("nullio_ns", (rd + wr) / 2, "ns");
  out("nullio_read_ns", rd, "ns");
  out("nullio_write_ns", wr, "ns");

  // stat, open+close on a 4-component path
  static const char *paths[] = {"/usr/include/linux/types.h", "/usr/include/x86_64-linux-gnu/errno.h",
                                "/usr/share/zoneinfo/UTC", "/usr/lib/x86_64-linux-gnu/libc.so.6"};
  struct stat st;
  g_path = NULL;
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
    if (stat(paths[i], &st) == 0) {
      g_path = paths[i];
      break;
    }
  if (!g_path) {
    errno = 0;
    die("none of the 4-component stat paths exists");
  }
  printf("# stat_path %s\n", g_path);
  out("stat_ns", measure(loop_stat, NULL), "ns");
  out("openclose_ns", measure(loop_openclose, NULL), "ns");

  // getdents64 on tmpfs
  char d1000[256], d10[256];
  snprintf(d1000, sizeof d1000, "/dev/shm/kwork.%d.d1000", (int)getpid());
  snprintf(d10, sizeof d10, "/dev/shm/kwork.%d.d10", (int)getpid());
  make_dir(d1000, 1000);
  make_dir(d10, 10);
  struct dents_ctx c1000 = {open(d1000, O_RDONLY | O_DIRECTORY), 1002};
  struct dents_ctx c10 = {open(d10, O_RDONLY | O_DIRECTORY), 12};
  if (c1000.fd < 0 || c10.fd < 0) die("open dir");
  if (dents_pass(c1000.fd) != 1002 || dents_pass(c10.fd) != 12) {
    errno = 0;
    die("getdents64: unexpected entry count");
  }
  double t1000 = measure(loop_dents, &c1000), t10 = measure(loop_dents, &c10);
  if (close(c1000.fd) != 0 || close(c10.fd) != 0) die("close dir");
  remove_dir(d1000, 1000);
  remove_dir(d10, 10);
  out("getdents_entry_ns", (t1000 - t10) / (1002 - 12), "ns");
  out("getdents_call_ns", t10, "ns");
  out("getdents_1000_pass_ns", t1000, "ns");

  // file reread
  char fpath[256];
  snprintf(fpath, sizeof fpath, "/dev/shm/kwork.%d.file", (int)getpid());
  g_file_fd = open(fpath, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (g_file_fd < 0) die("create %s", fpath);
  memset(g_rbuf, 'k', sizeof g_rbuf);
  for (int i = 0; i < FILE_SIZE / CHUNK; i++)
    if (write(g_file_fd, g_rbuf, CHUNK) != CHUNK) die("write %s", fpath);
  double pass = measure(loop_reread, NULL);
  if (close(g_file_fd) != 0) die("close file");
  if (unlink(fpath) != 0) die("unlink %s", fpath);
  out("reread_mbps", FILE_SIZE / pass * 1e3, "MB/s"); // bytes/ns * 1e9 / 1e6
  out("copy_ns_per_byte", pass / FILE_SIZE, "ns");

  // poll() on 100 idle TCP loopback sockets
  struct sockaddr_in addr;
  int ls = tcp_listener(&addr);
  int srv[NPOLL];
  for (int i = 0; i < NPOLL; i++) {
    int cfd;
    tcp_pair(ls, &addr, &cfd, &srv[i]);
    g_pfds[i].fd = cfd;
    g_pfds[i].events = POLLIN;
  }
  long n100 = NPOLL, n1 = 1;
  double p100 = measure(loop_poll, &n100), p1 = measure(loop_poll, &n1);
  for (int i = 0; i < NPOLL; i++)
    if (close(g_pfds[i].fd) != 0 || close(srv[i]) != 0) die("close tcp");
  out("poll_tcp_fd_ns", (p100 - p1) / (NPOLL - 1), "ns");
  out("poll1_ns", p1, "ns");

  // ---- the rest pinned to CPU 0 ----
  pin_cpu0();

  // pipe overhead in one process: write 1 byte then read it back from the same pipe
  int self[2];
  if (pipe(self) != 0) die("pipe");
  struct rt_ctx selfc = {self[1], self[0]};
  double overhead = measure(loop_roundtrip, &selfc);
  if (close(self[0]) != 0 || close(self[1]) != 0) die("close");

  // pipe round trip between two processes
  int p2c[2], c2p[2];
  if (pipe(p2c) != 0 || pipe(c2p) != 0) die("pipe");
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    close(p2c[1]);
    close(c2p[0]);
    echo_child(p2c[0], c2p[1]);
  }
  if (close(p2c[0]) != 0 || close(c2p[1]) != 0) die("close");
  struct rt_ctx pc = {p2c[1], c2p[0]};
  double pipe_rt = measure(loop_roundtrip, &pc);
  if (close(p2c[1]) != 0 || close(c2p[0]) != 0) die("close");
  reap(pid);
  out("pipe_overhead_ns", overhead, "ns");
  out("ctxsw_ns", pipe_rt / 2 - overhead, "ns");
  out("pipe_lat_ns", pipe_rt, "ns");

  // TCP round trip between two processes
  int cfd, sfd;
  tcp_pair(ls, &addr, &cfd, &sfd);
  if (close(ls) != 0) die("close listener");
  int one = 1;
  if (setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
      setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
    die("setsockopt TCP_NODELAY");
  fflush(stdout);
  pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    close(cfd);
    echo_child(sfd, sfd);
  }
  if (close(sfd) != 0) die("close");
  struct rt_ctx tc = {cfd, cfd};
  double tcp_rt = measure(loop_roundtrip, &tc);
  if (close(cfd) != 0) die("close");
  reap(pid);
  out("tcp_lat_ns", tcp_rt, "ns");

  unpin();
  return 0;
}
