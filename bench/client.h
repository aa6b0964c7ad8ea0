/*
 * client.h - what bench/ttft_client.c and bench/lat_client.c share: a monotonic clock, a
 * keep-alive TCP connection with timeouts, a full write, and nearest-rank percentiles.
 * Header-only (static functions), so each client still builds with one `cc` line.
 */
#ifndef BATON_BENCH_CLIENT_H
#define BATON_BENCH_CLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A TCP connection to host:port with TCP_NODELAY and send/receive timeouts; -1 on failure. */
static int connect_to(const char *host, int port, int timeout_ms) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) { close(fd); return -1; }
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { close(fd); return -1; }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p of the n sorted nanosecond values v, in microseconds. */
static double pct(const uint64_t *v, int n, double p) {
  if (n <= 0) return 0;
  int k = (int)((p / 100.0) * n + 0.999999) - 1;
  if (k < 0) k = 0;
  if (k >= n) k = n - 1;
  return (double)v[k] / 1000.0;
}

/* A response head: buf[0, head_len) ends with the blank line. */
struct http_head {
  int status;
  long clen; /* Content-Length, -1 when absent */
  int chunked, conn_close;
};

/* Reads the status and the framing fields of a response head; -1 when the status line is not
 * HTTP/1.x. */
static int parse_head(char *buf, size_t head_len, struct http_head *h) {
  h->status = 0;
  h->clen = -1;
  h->chunked = h->conn_close = 0;
  if (head_len < 12 || memcmp(buf, "HTTP/1.", 7) != 0) return -1;
  h->status = atoi(buf + 9);
  for (char *p = (char *)memchr(buf, '\n', head_len) + 1; p < buf + head_len - 2;) {
    char *eol = memmem(p, (size_t)(buf + head_len - p), "\r\n", 2);
    if (!eol) break;
    char *colon = memchr(p, ':', (size_t)(eol - p));
    if (colon) {
      char *v = colon + 1;
      while (*v == ' ' || *v == '\t') v++;
      size_t nl = (size_t)(colon - p), vl = (size_t)(eol - v);
      if (nl == 14 && !strncasecmp(p, "content-length", 14)) h->clen = atol(v);
      else if (nl == 17 && !strncasecmp(p, "transfer-encoding", 17) && memmem(v, vl, "chunked", 7)) h->chunked = 1;
      else if (nl == 10 && !strncasecmp(p, "connection", 10) && vl >= 5 && !strncasecmp(v, "close", 5)) h->conn_close = 1;
    }
    p = eol + 2;
  }
  return 0;
}

#endif
