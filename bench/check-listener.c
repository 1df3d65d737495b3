// The real servers of bench/check-vs-keepalived.ts: one epoll loop, in C so that the listener's own CPU stays small
// next to the checkers it serves (they share the VM's CPU). Port TCP_PORT accepts and closes; port HTTP_PORT reads
// one request and answers a fixed page, then closes. Real servers are 127.G.X.Y (G 1 or 2: two checkers measured
// side by side each get their own; X, Y from 1): every connection is counted per port and G, and for each real
// server the gap since its previous connection, minus the delay_loop of 1 s, goes into a histogram, so both
// checkers' lateness (plus the check's own duration) is seen the same way from outside. SIGUSR1 starts a window;
// SIGUSR2 prints the window so far as one JSON line on stdout (with how many distinct real servers were seen in
// it): "tcp" and "http" for 127.1, "tcp2" and "http2" for 127.2. SIGHUP forgets every real server's last connection
// (a checker held with SIGSTOP is let go: its next gaps must not span the hold).
// Build: cc -O2 -o check-listener bench/check-listener.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TCP_PORT 8080
#define HTTP_PORT 8081
#define SERVERS 65536
// Lateness bins of 0.1 ms from -1 s to +30 s.
#define BIN_US 100
#define BIN_MIN_US (-1000000L)
#define BINS 310000

static const char PAGE[] = "ok\nok\nok\nok\nok\nok\nok\nok\nok\nok\nok\nok\nok\nok\nok\nok\nok\nok\nok\nok\n";
static char response[512];
static int response_len;

struct port_stats {
  uint64_t accepted;
  uint64_t intervals;
  int64_t last_us[SERVERS];
  uint32_t hist[BINS];
};
static struct port_stats stats[2][2];

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int listen_on(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 65535) < 0) {
    perror("listen");
    exit(1);
  }
  return fd;
}

/** Counts a connection by port and group, with the real server index of its address (127.G.X.Y, 250 per X). */
static void record(struct port_stats *group, int fd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  if (getsockname(fd, (struct sockaddr *)&a, &len) < 0) return;
  uint32_t ip = ntohl(a.sin_addr.s_addr);
  uint32_t net = ip >> 16;
  int x = (ip >> 8) & 255, y = ip & 255;
  struct port_stats *s = &group[net == 0x7f02];
  s->accepted++;
  if ((net != 0x7f01 && net != 0x7f02) || x < 1 || y < 1) return;
  int i = (x - 1) * 250 + (y - 1);
  if (i >= SERVERS) return;
  int64_t t = now_us();
  if (s->last_us[i] != 0) {
    int64_t late = t - s->last_us[i] - 1000000;
    long bin = (late - BIN_MIN_US) / BIN_US;
    if (bin < 0) bin = 0;
    if (bin >= BINS) bin = BINS - 1;
    s->hist[bin]++;
    s->intervals++;
  }
  s->last_us[i] = t;
}

static double percentile(const struct port_stats *s, double p) {
  if (s->intervals == 0) return -1;
  uint64_t want = (uint64_t)(p * (double)s->intervals), seen = 0;
  for (long b = 0; b < BINS; b++) {
    seen += s->hist[b];
    if (seen > want) return (double)(BIN_MIN_US + b * BIN_US + BIN_US / 2) / 1000.0;
  }
  return (double)(BIN_MIN_US + (int64_t)BINS * BIN_US) / 1000.0;
}

static double cpu_s(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static void forget(void) {
  for (int p = 0; p < 2; p++)
    for (int g = 0; g < 2; g++) memset(stats[p][g].last_us, 0, sizeof stats[p][g].last_us);
}

static int64_t window_start;
static double window_cpu;

static void mark(void) {
  for (int p = 0; p < 2; p++) {
    for (int g = 0; g < 2; g++) {
      stats[p][g].accepted = 0;
      stats[p][g].intervals = 0;
      memset(stats[p][g].hist, 0, sizeof stats[p][g].hist);
    }
  }
  window_start = now_us();
  window_cpu = cpu_s();
}

static void report(void) {
  double secs = (now_us() - window_start) / 1e6;
  printf("{\"seconds\":%.3f,\"listenerCpuS\":%.3f", secs, cpu_s() - window_cpu);
  const char *names[2][2] = {{"tcp", "tcp2"}, {"http", "http2"}};
  for (int p = 0; p < 2; p++) {
    for (int g = 0; g < 2; g++) {
      const struct port_stats *s = &stats[p][g];
      long distinct = 0;
      for (long i = 0; i < SERVERS; i++) distinct += s->last_us[i] >= window_start;
      printf(",\"%s\":{\"accepted\":%lu,\"distinct\":%ld,\"intervals\":%lu,\"lateP50ms\":%.1f,\"lateP99ms\":%.1f}",
             names[p][g], (unsigned long)s->accepted, distinct, (unsigned long)s->intervals, percentile(s, 0.5),
             percentile(s, 0.99));
    }
  }
  printf("}\n");
  fflush(stdout);
}

int main(void) {
  response_len = snprintf(response, sizeof response,
                          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                          strlen(PAGE), PAGE);
  signal(SIGPIPE, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR1);
  sigaddset(&mask, SIGUSR2);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_NONBLOCK);
  int tcp = listen_on(TCP_PORT), web = listen_on(HTTP_PORT);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN};
  ev.data.fd = tcp;
  epoll_ctl(ep, EPOLL_CTL_ADD, tcp, &ev);
  ev.data.fd = web;
  epoll_ctl(ep, EPOLL_CTL_ADD, web, &ev);
  ev.data.fd = sfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
  mark();
  printf("{\"ready\":true}\n");
  fflush(stdout);
  struct epoll_event evs[256];
  char buf[4096];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == sfd) {
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == sizeof si) (si.ssi_signo == SIGUSR1 ? mark : si.ssi_signo == SIGHUP ? forget : report)();
      } else if (fd == tcp) {
        for (int c; (c = accept4(tcp, NULL, NULL, SOCK_NONBLOCK)) >= 0;) {
          record(stats[0], c);
          close(c);
        }
      } else if (fd == web) {
        for (int c; (c = accept4(web, NULL, NULL, SOCK_NONBLOCK)) >= 0;) {
          record(stats[1], c);
          struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
      } else {
        // A request (checkers send theirs in one segment): answer and close; anything else just closes.
        ssize_t r = read(fd, buf, sizeof buf);
        if (r > 0) (void)!write(fd, response, (size_t)response_len);
        close(fd);
      }
    }
  }
}
