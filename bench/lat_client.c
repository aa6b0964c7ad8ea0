/*
 * lat_client.c - interleaved 1-connection latency of several HTTP targets (e.g. direct-to-mock,
 * nginx, Baton) over one keep-alive connection each.
 *
 *   cc -O2 -o lat_client bench/lat_client.c
 *   ./lat_client --target direct=18080 --target nginx=18081 --target baton=18082
 *                [-n 10000] [--warmup 200] [--path /v1/chat/completions] [--model bench-model]
 *                [--host 127.0.0.1] [--timeout-ms 10000] [--max-errors 10]
 *
 * Opens ONE keep-alive connection per target (up to 8 targets) and runs warmup + N iterations.
 * Each iteration sends one non-streaming POST of the small chat request to every target in
 * turn, waiting for the complete response before sending the next; the starting target rotates
 * every iteration (iteration i starts with target i % targets), so no target is always first.
 * Each request is timed from just before write() to the arrival of the end of the response
 * (Content-Length / terminating chunk / EOF), CLOCK_MONOTONIC.  A request counts as an error
 * if the connection fails, the status is not 200, the body is incomplete or not a
 * chat.completion, or bytes follow the response; the connection is then reopened (also when
 * the server closes it).  A target with more than --max-errors errors is dropped.
 *
 * Why interleaved: on a small shared VM, host hiccups (steal time, hypervisor exits, timer
 * storms) last milliseconds to tens of milliseconds.  When each target is measured for a few
 * seconds one after the other (wrk -c1 per target), a hiccup lands entirely in whichever target
 * runs at the time and the p99 rows swing by 100+ us between runs.  Interleaving request by
 * request puts every target in the same time window, so host noise hits all of them alike and
 * the differences between targets' p99 (and p50) become comparable.
 *
 * The request body is byte-identical to the small body bench/chat.lua sends (see k_body), and
 * the headers are the ones wrk sends with chat.lua, so these numbers describe the same request
 * as the wrk rows of bench/run.sh.
 *
 * Output: a human-readable summary on stderr and, per target, one parseable line on stdout:
 *   LAT_RESULT target=NAME n=.. errors=.. p50_us=.. p90_us=.. p99_us=.. p999_us=.. max_us=.. mean_us=..
 * (microseconds with one decimal; percentiles are exact nearest-rank samples of the sorted
 * latencies; n counts recorded, successful requests after the warm-up).
 * Exit status is 1 if any request failed (warm-up included), 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

#define MAX_TARGETS 8

static const char *g_host = "127.0.0.1";
static const char *g_path = "/v1/chat/completions";
static const char *g_model = "bench-model";
static int g_n = 10000, g_warmup = 200;
static int g_timeout_ms = 10000;
static int g_max_errors = 10;

/*
 * The small chat request body.  It MUST stay byte-identical to what build_body() in
 * bench/chat.lua produces with kb=0, stream=false (system_prompt + question, temperature,
 * top_p, max_tokens, user): with model bench-model it is the 465-byte body wrk sends in the
 * "small body" runs.  %s is the model name (inserted as is, not JSON-escaped).
 */
static const char k_body[] =
    "{\"model\":\"%s\",\"messages\":["
    "{\"role\":\"system\",\"content\":\"You are a precise assistant for a site reliability "
    "engineering team. Answer in short paragraphs, cite the relevant section numbers, and say so "
    "when the provided material does not contain the answer.\"},"
    "{\"role\":\"user\",\"content\":\"Summarize the incident report below in five sentences and "
    "list the follow-up actions with their owners.\"}],"
    "\"temperature\":0.2,\"top_p\":1,\"max_tokens\":512,\"user\":\"bench-user-42\"}";

struct target {
  const char *name;
  int port;
  int fd;
  char req[4096];
  int req_len;
  uint64_t *lat; /* recorded latencies, ns */
  int n;         /* recorded samples */
  int errors, reconnects, connects, dead;
  char *buf;
  size_t cap;
};

/* Prints at most a few error messages per target, so a broken target cannot flood stderr. */
static void complain(struct target *t, const char *what, long detail) {
  if (t->errors > 3) return;
  if (detail >= 0) fprintf(stderr, "lat_client: %s: %s %ld\n", t->name, what, detail);
  else fprintf(stderr, "lat_client: %s: %s\n", t->name, what);
}

/*
 * Reads one response on t->fd (requests are sequential, so nothing may follow it) and sets
 * *t_end to the arrival time of its last byte.  The decoded body is compacted in place at the
 * start of the body (chunk framing removed) and checked once the response is complete.
 * Sets *closed when the server closes / will close the connection.
 * Returns 0 for a complete 200 response with a chat.completion body, -1 otherwise.
 */
static int read_response(struct target *tg, uint64_t *t_end, int *closed) {
  size_t len = 0;
  int have_head = 0, chunked = 0, conn_close = 0, status = 0;
  long clen = -1;
  size_t pos = 0;        /* raw parse position */
  size_t body_start = 0; /* decoded body lives in [body_start, dst) */
  size_t dst = 0;
  enum { CH_SIZE, CH_DATA, CH_DATA_CRLF, CH_TRAILER } cst = CH_SIZE;
  size_t chunk_left = 0;
  int finished = 0;
  uint64_t t = 0;
  *closed = 0;

  for (;;) {
    if (!finished) {
      if (len + 65536 > tg->cap) {
        size_t ncap = tg->cap ? tg->cap * 2 : 131072;
        char *nb = realloc(tg->buf, ncap);
        if (!nb) return -1;
        tg->buf = nb;
        tg->cap = ncap;
      }
      ssize_t n = recv(tg->fd, tg->buf + len, tg->cap - len, 0);
      if (n < 0 && errno == EINTR) continue;
      t = now_ns();
      if (n < 0) { complain(tg, errno == EAGAIN || errno == EWOULDBLOCK ? "timeout" : "recv error", -1); return -1; }
      if (n == 0) { /* EOF: only legal for a close-delimited body */
        if (have_head && !chunked && clen < 0) { *closed = 1; finished = 1; }
        else { complain(tg, "connection closed mid-response", -1); return -1; }
      } else {
        len += (size_t)n;
      }
    }
    char *buf = tg->buf;
    if (!have_head && !finished) {
      char *h = memmem(buf, len, "\r\n\r\n", 4);
      if (!h) continue;
      have_head = 1;
      pos = (size_t)(h - buf) + 4;
      struct http_head hd;
      if (parse_head(buf, pos, &hd) < 0) { complain(tg, "malformed status line", -1); return -1; }
      status = hd.status;
      clen = hd.clen;
      chunked = hd.chunked;
      conn_close = hd.conn_close;
      if (status == 100) { /* interim response: drop it and keep reading */
        memmove(buf, buf + pos, len - pos);
        len -= pos;
        pos = 0;
        have_head = 0;
        continue;
      }
      if (status != 200) { complain(tg, "HTTP status", status); return -1; }
      *closed = conn_close;
      body_start = dst = pos;
      if (!chunked && clen == 0) finished = 1;
    }
    /* decode body bytes in [pos, len) into [dst, ...) */
    while (pos < len && !finished) {
      size_t take = 0;
      if (!chunked) {
        take = len - pos;
        if (clen >= 0 && (dst - body_start) + take >= (size_t)clen) {
          take = (size_t)clen - (dst - body_start);
          finished = 1;
        }
      } else if (cst == CH_SIZE || cst == CH_TRAILER) {
        char *eol = memmem(buf + pos, len - pos, "\r\n", 2);
        if (!eol) break;
        if (cst == CH_TRAILER) { /* trailer lines until an empty one */
          if (eol == buf + pos) finished = 1;
          pos = (size_t)(eol - buf) + 2;
          continue;
        }
        char *endp;
        chunk_left = strtoul(buf + pos, &endp, 16);
        if (endp == buf + pos) { complain(tg, "bad chunk size", -1); return -1; }
        pos = (size_t)(eol - buf) + 2;
        cst = chunk_left ? CH_DATA : CH_TRAILER;
        continue;
      } else if (cst == CH_DATA) {
        take = len - pos < chunk_left ? len - pos : chunk_left;
        chunk_left -= take;
        if (chunk_left == 0) cst = CH_DATA_CRLF;
      } else { /* CH_DATA_CRLF */
        if (len - pos < 2) break;
        if (memcmp(buf + pos, "\r\n", 2) != 0) { complain(tg, "bad chunk terminator", -1); return -1; }
        pos += 2;
        cst = CH_SIZE;
        continue;
      }
      if (dst != pos) memmove(buf + dst, buf + pos, take);
      dst += take;
      pos += take;
    }
    if (finished) {
      *t_end = t;
      if (pos != len) { complain(tg, "unexpected bytes after the response:", (long)(len - pos)); return -1; }
      if (dst == body_start || !memmem(buf + body_start, dst - body_start, "\"chat.completion\"", 17)) {
        complain(tg, "body is not a chat.completion", -1);
        return -1;
      }
      return 0;
    }
  }
}

static void usage(FILE *f) {
  fprintf(f, "usage: lat_client --target NAME=PORT [--target NAME=PORT ...] (up to %d)\n"
             "                  [-n 10000] [--warmup 200] [--path /v1/chat/completions]\n"
             "                  [--model bench-model] [--host 127.0.0.1] [--timeout-ms 10000]\n"
             "                  [--max-errors 10]\n",
          MAX_TARGETS);
}

int main(int argc, char **argv) {
  static struct target tg[MAX_TARGETS];
  int nt = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV() do { if (!v) { usage(stderr); return 2; } i++; } while (0)
    if (!strcmp(a, "--target") || !strcmp(a, "-T")) {
      NEEDV();
      const char *eq = strrchr(v, '=');
      if (nt == MAX_TARGETS || !eq || eq == v || atoi(eq + 1) <= 0) { usage(stderr); return 2; }
      tg[nt].name = strndup(v, (size_t)(eq - v));
      tg[nt].port = atoi(eq + 1);
      tg[nt].fd = -1;
      nt++;
    }
    else if (!strcmp(a, "--host")) { NEEDV(); g_host = v; }
    else if (!strcmp(a, "-n")) { NEEDV(); g_n = atoi(v); }
    else if (!strcmp(a, "--warmup") || !strcmp(a, "-w")) { NEEDV(); g_warmup = atoi(v); }
    else if (!strcmp(a, "--path")) { NEEDV(); g_path = v; }
    else if (!strcmp(a, "--model")) { NEEDV(); g_model = v; }
    else if (!strcmp(a, "--timeout-ms")) { NEEDV(); g_timeout_ms = atoi(v); }
    else if (!strcmp(a, "--max-errors")) { NEEDV(); g_max_errors = atoi(v); }
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
    else { usage(stderr); return 2; }
#undef NEEDV
  }
  if (nt == 0 || g_n <= 0 || g_warmup < 0 || g_timeout_ms <= 0) { usage(stderr); return 2; }

  char body[2048];
  int blen = snprintf(body, sizeof body, k_body, g_model);
  if (blen <= 0 || (size_t)blen >= sizeof body) { fprintf(stderr, "lat_client: model name too long\n"); return 2; }
  for (int k = 0; k < nt; k++) {
    struct target *t = &tg[k];
    /* the headers wrk sends with chat.lua, in wrk's order */
    t->req_len = snprintf(t->req, sizeof t->req,
                          "POST %s HTTP/1.1\r\nAccept: application/json\r\n"
                          "Authorization: Bearer sk-bench-0000000000000000\r\n"
                          "Content-Length: %d\r\nUser-Agent: OpenAI/Python 1.51.0\r\n"
                          "Host: %s:%d\r\nContent-Type: application/json\r\n\r\n%s",
                          g_path, blen, g_host, t->port, body);
    if (t->req_len <= 0 || (size_t)t->req_len >= sizeof t->req) { fprintf(stderr, "lat_client: path too long\n"); return 2; }
    t->lat = calloc((size_t)g_n, sizeof *t->lat);
    if (!t->lat) { perror("lat_client: calloc"); return 1; }
  }

  uint64_t start = now_ns();
  for (int i = 0; i < g_warmup + g_n; i++) {
    for (int k = 0; k < nt; k++) {
      struct target *t = &tg[(i + k) % nt];
      if (t->dead) continue;
      if (t->fd < 0) {
        t->fd = connect_to(g_host, t->port, g_timeout_ms);
        if (t->fd < 0) {
          complain(t, "connect failed, errno", errno);
          t->errors++;
          if (t->errors > g_max_errors) { fprintf(stderr, "lat_client: %s: too many errors, dropped\n", t->name); t->dead = 1; }
          continue;
        }
        if (t->connects++ > 0) t->reconnects++;
      }
      uint64_t t0 = now_ns(), t1 = 0;
      int closed = 0, ok = 0;
      if (write_all(t->fd, t->req, (size_t)t->req_len) < 0) complain(t, "write failed, errno", errno);
      else ok = read_response(t, &t1, &closed) == 0;
      if (!ok) {
        t->errors++;
        close(t->fd);
        t->fd = -1;
        if (t->errors > g_max_errors) { fprintf(stderr, "lat_client: %s: too many errors, dropped\n", t->name); t->dead = 1; }
        continue;
      }
      if (closed) { close(t->fd); t->fd = -1; }
      if (i >= g_warmup) t->lat[t->n++] = t1 - t0;
    }
  }
  double secs = (double)(now_ns() - start) / 1e9;

  int errors = 0;
  fprintf(stderr, "lat_client: %d targets interleaved, %d + %d warm-up iterations in %.2f s\n", nt, g_n,
          g_warmup, secs);
  for (int k = 0; k < nt; k++) {
    struct target *t = &tg[k];
    if (t->fd >= 0) close(t->fd);
    qsort(t->lat, (size_t)t->n, sizeof *t->lat, cmp_u64);
    double sum = 0;
    for (int j = 0; j < t->n; j++) sum += (double)t->lat[j];
    double mean = t->n ? sum / t->n / 1000.0 : 0;
    errors += t->errors;
    fprintf(stderr,
            "  %-8s %6d ok %4d errors %3d reconnects%s  p50 %7.1f  p90 %7.1f  p99 %7.1f  p99.9 %7.1f  "
            "max %8.1f  mean %7.1f us\n",
            t->name, t->n, t->errors, t->reconnects, t->dead ? " (dropped)" : "", pct(t->lat, t->n, 50),
            pct(t->lat, t->n, 90), pct(t->lat, t->n, 99), pct(t->lat, t->n, 99.9), pct(t->lat, t->n, 100), mean);
    printf("LAT_RESULT target=%s n=%d errors=%d p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f "
           "max_us=%.1f mean_us=%.1f\n",
           t->name, t->n, t->errors, pct(t->lat, t->n, 50), pct(t->lat, t->n, 90), pct(t->lat, t->n, 99),
           pct(t->lat, t->n, 99.9), pct(t->lat, t->n, 100), mean);
  }
  return errors ? 1 : 0;
}
