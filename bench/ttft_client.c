/*
 * ttft_client.c - time-to-first-token of streaming chat completions over one keep-alive
 * connection.
 *
 *   cc -O2 -o ttft_client bench/ttft_client.c
 *   ./ttft_client --port 18080 [-n 200] [--warmup 20] [--path /v1/chat/completions]
 *                 [--model bench-model]
 *
 * Sends N streaming ("stream": true) POSTs one after another on the same connection
 * (reconnecting only if the server closes it) and measures, from just before write():
 *   ttft  - arrival of the first byte of the response body (the first SSE event), and
 *   total - arrival of the end of the response (terminating chunk / Content-Length / EOF).
 * A proxy that buffers the stream shows ttft ~= total.
 *
 * Output: a human-readable summary on stderr and one parseable line on stdout:
 *   TTFT_RESULT n=.. errors=.. ttft_p50_us=.. ttft_p99_us=.. total_p50_us=.. total_p99_us=.. events_avg=..
 * Exit status is 1 if any request failed (non-200, malformed, no [DONE], connection errors).
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

static const char *g_host = "127.0.0.1";
static int g_port = 0;
static const char *g_path = "/v1/chat/completions";
static const char *g_model = "bench-model";
static int g_n = 200, g_warmup = 20;
static int g_timeout_ms = 10000;

struct result {
  uint64_t ttft_ns, total_ns;
  int events;  /* "data:" lines seen */
  int done;    /* "data: [DONE]" seen */
  int closed;  /* server closed / will close the connection */
};

/*
 * Reads one response (requests are sequential, so nothing may follow it).
 * Returns 0 on success, -1 on error.
 */
static int read_response(int fd, uint64_t t0, struct result *r, char **buf, size_t *cap) {
  size_t len = 0;
  int have_head = 0, chunked = 0, conn_close = 0, status = 0;
  long clen = -1;
  size_t pos = 0; /* parse position */
  size_t body_bytes = 0;          /* decoded body bytes so far */
  enum { CH_SIZE, CH_DATA, CH_DATA_CRLF, CH_TRAILER } cst = CH_SIZE;
  size_t chunk_left = 0;
  int finished = 0;
  /* SSE scanning of decoded data: count "data:" and look for [DONE]; keep a tail for splits */
  char tail[8];
  size_t tail_len = 0;
  memset(r, 0, sizeof *r);

  for (;;) {
    if (len + 65536 > *cap) {
      *cap = (*cap ? *cap * 2 : 131072);
      *buf = realloc(*buf, *cap);
      if (!*buf) return -1;
    }
    ssize_t n = recv(fd, *buf + len, *cap - len, 0);
    if (n < 0 && errno == EINTR) continue;
    uint64_t t = now_ns();
    if (n < 0) return -1;
    if (n == 0) { /* EOF: only legal for a close-delimited body */
      if (have_head && !chunked && clen < 0) { r->closed = 1; r->total_ns = t - t0; return 0; }
      return -1;
    }
    len += (size_t)n;
    if (!have_head) {
      char *h = memmem(*buf, len, "\r\n\r\n", 4);
      if (!h) continue;
      have_head = 1;
      pos = (size_t)(h - *buf) + 4;
      struct http_head hd;
      if (parse_head(*buf, pos, &hd) < 0) return -1;
      status = hd.status;
      clen = hd.clen;
      chunked = hd.chunked;
      conn_close = hd.conn_close;
      if (status == 100) { /* interim response: drop it and keep reading */
        memmove(*buf, *buf + pos, len - pos);
        len -= pos;
        pos = 0;
        have_head = 0;
        continue;
      }
      if (status != 200) {
        fprintf(stderr, "ttft_client: HTTP status %d\n", status);
        return -1;
      }
      r->closed = conn_close;
      if (!chunked && clen == 0) finished = 1;
    }
    /* decode body bytes in [pos, len) */
    while (pos < len && !finished) {
      const char *data = NULL;
      size_t dlen = 0;
      if (!chunked) {
        data = *buf + pos;
        dlen = len - pos;
        if (clen >= 0 && body_bytes + dlen >= (size_t)clen) { dlen = (size_t)clen - body_bytes; finished = 1; }
        pos += dlen;
      } else if (cst == CH_SIZE || cst == CH_TRAILER) {
        char *eol = memmem(*buf + pos, len - pos, "\r\n", 2);
        if (!eol) break;
        if (cst == CH_TRAILER) { /* trailer lines until an empty one */
          if (eol == *buf + pos) finished = 1;
          pos = (size_t)(eol - *buf) + 2;
          continue;
        }
        char *endp;
        chunk_left = strtoul(*buf + pos, &endp, 16);
        if (endp == *buf + pos) return -1;
        pos = (size_t)(eol - *buf) + 2;
        cst = chunk_left ? CH_DATA : CH_TRAILER;
        continue;
      } else if (cst == CH_DATA) {
        dlen = len - pos < chunk_left ? len - pos : chunk_left;
        data = *buf + pos;
        pos += dlen;
        chunk_left -= dlen;
        if (chunk_left == 0) cst = CH_DATA_CRLF;
      } else { /* CH_DATA_CRLF */
        if (len - pos < 2) break;
        if (memcmp(*buf + pos, "\r\n", 2) != 0) return -1;
        pos += 2;
        cst = CH_SIZE;
        continue;
      }
      if (dlen) {
        if (body_bytes == 0) r->ttft_ns = t - t0;
        body_bytes += dlen;
        size_t off = 0;
        while (off < dlen) {
          char scan[sizeof tail + 4096];
          size_t take = dlen - off > 4096 ? 4096 : dlen - off;
          memcpy(scan, tail, tail_len);
          memcpy(scan + tail_len, data + off, take);
          size_t sl = tail_len + take;
          for (char *p = scan; (p = memmem(p, (size_t)(scan + sl - p), "data:", 5)); p += 5)
            if (p + 5 > scan + tail_len) r->events++; /* not already counted in the tail */
          if (memmem(scan, sl, "[DONE]", 6)) r->done = 1;
          tail_len = sl < sizeof tail ? sl : sizeof tail;
          memmove(tail, scan + sl - tail_len, tail_len);
          off += take;
        }
      }
    }
    if (finished) {
      r->total_ns = t - t0;
      if (pos != len) fprintf(stderr, "ttft_client: %zu unexpected bytes after the response\n", len - pos);
      return 0;
    }
  }
}

static void usage(FILE *f) {
  fprintf(f, "usage: ttft_client --port N [--host 127.0.0.1] [-n 200] [--warmup 20]\n"
             "                   [--path /v1/chat/completions] [--model bench-model] [--timeout-ms 10000]\n");
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV() do { if (!v) { usage(stderr); return 2; } i++; } while (0)
    if (!strcmp(a, "--host")) { NEEDV(); g_host = v; }
    else if (!strcmp(a, "--port") || !strcmp(a, "-p")) { NEEDV(); g_port = atoi(v); }
    else if (!strcmp(a, "-n")) { NEEDV(); g_n = atoi(v); }
    else if (!strcmp(a, "--warmup") || !strcmp(a, "-w")) { NEEDV(); g_warmup = atoi(v); }
    else if (!strcmp(a, "--path")) { NEEDV(); g_path = v; }
    else if (!strcmp(a, "--model")) { NEEDV(); g_model = v; }
    else if (!strcmp(a, "--timeout-ms")) { NEEDV(); g_timeout_ms = atoi(v); }
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
    else { usage(stderr); return 2; }
#undef NEEDV
  }
  if (g_port <= 0 || g_n <= 0) { usage(stderr); return 2; }

  char body[2048];
  int blen = snprintf(body, sizeof body,
                      "{\"model\":\"%s\",\"messages\":["
                      "{\"role\":\"system\",\"content\":\"You are a concise assistant for an SRE team. "
                      "Answer in plain prose.\"},"
                      "{\"role\":\"user\",\"content\":\"Summarize the incident report: checkout errors "
                      "rose for 40 minutes after the upstream pool was reduced from 256 to 16 "
                      "connections; rollback at 14:52 UTC fixed it.\"}],"
                      "\"temperature\":0.2,\"max_tokens\":200,\"stream\":true,"
                      "\"stream_options\":{\"include_usage\":false}}",
                      g_model);
  char req[4096];
  int rlen = snprintf(req, sizeof req,
                      "POST %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: baton-ttft-client/1\r\n"
                      "Authorization: Bearer sk-bench-0000000000000000\r\n"
                      "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
                      "Content-Length: %d\r\n\r\n%s",
                      g_path, g_host, g_port, blen, body);

  uint64_t *ttft = calloc((size_t)g_n, sizeof *ttft), *total = calloc((size_t)g_n, sizeof *total);
  char *buf = NULL;
  size_t cap = 0;
  int fd = -1, ok = 0, errors = 0, reconnects = 0;
  long events = 0;
  for (int i = 0; i < g_warmup + g_n; i++) {
    if (fd < 0) {
      fd = connect_to(g_host, g_port, g_timeout_ms);
      if (fd < 0) { perror("ttft_client: connect"); errors++; if (errors > 10) break; continue; }
      if (i > 0) reconnects++;
    }
    uint64_t t0 = now_ns();
    struct result r;
    if (write_all(fd, req, (size_t)rlen) < 0 || read_response(fd, t0, &r, &buf, &cap) < 0 || !r.done) {
      errors++;
      close(fd);
      fd = -1;
      if (errors > 10) { fprintf(stderr, "ttft_client: too many errors\n"); break; }
      continue;
    }
    if (r.closed) { close(fd); fd = -1; }
    if (i >= g_warmup) {
      ttft[ok] = r.ttft_ns;
      total[ok] = r.total_ns;
      events += r.events;
      ok++;
    }
  }
  if (fd >= 0) close(fd);
  double ev_avg = ok ? (double)events / ok : 0;
  qsort(ttft, (size_t)ok, sizeof *ttft, cmp_u64);
  qsort(total, (size_t)ok, sizeof *total, cmp_u64);
  fprintf(stderr,
          "ttft_client: %d ok, %d errors, %d reconnects, %.1f events/response\n"
          "  ttft  p50 %.1f us  p99 %.1f us  max %.1f us\n"
          "  total p50 %.1f us  p99 %.1f us  max %.1f us\n",
          ok, errors, reconnects, ev_avg, pct(ttft, ok, 50), pct(ttft, ok, 99), pct(ttft, ok, 100),
          pct(total, ok, 50), pct(total, ok, 99), pct(total, ok, 100));
  printf("TTFT_RESULT n=%d errors=%d ttft_p50_us=%.1f ttft_p99_us=%.1f total_p50_us=%.1f "
         "total_p99_us=%.1f events_avg=%.1f\n",
         ok, errors, pct(ttft, ok, 50), pct(ttft, ok, 99), pct(total, ok, 50), pct(total, ok, 99), ev_avg);
  return errors ? 1 : 0;
}
