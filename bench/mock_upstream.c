/*
 * mock_upstream.c - a deliberately fast, dependency-free mock of an OpenAI-style upstream.
 *
 * Used by bench/run.sh as the upstream behind nginx and Baton (and hit directly as the
 * "direct" baseline), so it must cost much less CPU per request than the proxies under test.
 *
 *   cc -O2 -pthread -o mock_upstream bench/mock_upstream.c
 *   ./mock_upstream --port 18080 [-t THREADS] [--chunks 20] [--chunk-delay-us 0]
 *
 * Behaviour
 *   - HTTP/1.1 keep-alive on any method and path (the benchmark uses POST /v1/chat/completions).
 *   - Request bodies framed by Content-Length or Transfer-Encoding: chunked, of any size,
 *     arriving in any number of reads; pipelined requests are answered in order, batched into
 *     one write.  "Expect: 100-continue" is honoured, "Connection: close" and HTTP/1.0 close.
 *   - Body contains "stream": true (any whitespace around the colon): answers Server-Sent Events
 *     (Transfer-Encoding: chunked, text/event-stream): --chunks chat.completion.chunk events, the
 *     first one immediately, the others --chunk-delay-us apart (per-thread timerfd, never blocks
 *     other connections), then "data: [DONE]" and the terminating zero-length chunk.
 *   - Otherwise: a fixed ~900-byte chat.completion JSON with Content-Length.
 *   - One epoll loop per thread (-t N: N threads with SO_REUSEPORT listeners, default 1).
 *   - Prints "listening on http://HOST:PORT" on stderr when ready (--port 0 picks a free port);
 *     on SIGTERM/SIGINT prints the number of requests served and exits 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)         /* minimum free space offered to read() */
#define MAX_HEAD (64 * 1024)           /* request head limit */
#define MAX_INPUT (256u * 1024 * 1024) /* per-connection input limit */
#define OUT_HIGH_WATER (4u * 1024 * 1024)

/* ---------------------------------------------------------------- canned responses ---- */

#define RESP_ID "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
#define RESP_MODEL "gpt-4o-mini-2024-07-18"
#define RESP_FP "fp_0ba0d124f1"

static const char k_completion_body[] =
    "{\"id\":\"" RESP_ID "\",\"object\":\"chat.completion\",\"created\":1727712600,"
    "\"model\":\"" RESP_MODEL "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
    "\"content\":\"Here is a short summary of the incident report. On Tuesday the checkout "
    "service saw elevated error rates for about 40 minutes after a configuration change "
    "reduced the upstream connection pool from 256 to 16 connections. The change "
    "was rolled back at 14:52 UTC and the error rate returned to baseline within five "
    "minutes. Follow-ups: add a canary stage for config changes and alert on pool "
    "saturation.\",\"refusal\":null},\"logprobs\":null,"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":412,\"completion_tokens\":96,"
    "\"total_tokens\":508,\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
    "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
    "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}},"
    "\"system_fingerprint\":\"" RESP_FP "\"}";

static const char *k_tokens[] = {
    "Here",  " is",    " a",      " short",  " summary",   " of",     " the",   " incident",
    " report", ".",    " On",     " Tuesday", " the",      " checkout", " service", " saw",
    " elevated", " error", " rates", " for",  " about",     " 40",     " minutes", "."};

static char *g_resp;      /* complete non-streaming response, head + body */
static size_t g_resp_len;
static char *g_sse_head;
static size_t g_sse_head_len;
static char **g_chunk;    /* pre-framed SSE chunks: "<hex>\r\ndata: {...}\n\n\r\n" */
static size_t *g_chunk_len;
static char *g_tail;      /* "data: [DONE]" chunk + terminating zero chunk */
static size_t g_tail_len;

static const char k_continue[] = "HTTP/1.1 100 Continue\r\n\r\n";

/* ---------------------------------------------------------------- options ---- */

static const char *g_host = "127.0.0.1";
static int g_port = 0;
static int g_threads = 1;
static int g_chunks = 20;
static long g_chunk_delay_us = 0;
static int g_quiet = 0;

/* ---------------------------------------------------------------- state ---- */

struct worker;

struct conn {
  int fd; /* -1 when closed */
  uint32_t gen;
  struct worker *w;
  char *in;
  size_t in_len, in_cap, in_pos; /* unconsumed input is in[in_pos, in_len) */
  size_t scan;                   /* where to resume searching for the end of the head */
  char *out;
  size_t out_len, out_off, out_cap;
  /* current request */
  int have_head;
  size_t head_len;
  size_t body_len; /* Content-Length */
  int chunked;
  int close_after; /* after the current response */
  int closing;     /* close once output is flushed */
  int want_out;    /* EPOLLOUT registered */
  int streaming;   /* SSE response in progress */
  int next_chunk;
};

struct timer_ent {
  uint64_t deadline_ns;
  int fd;
  uint32_t gen;
};

struct worker {
  int id;
  int epfd, lfd, tfd;
  struct timer_ent *heap;
  size_t heap_len, heap_cap;
  uint64_t armed_ns; /* deadline currently programmed into tfd, 0 = disarmed */
  _Atomic unsigned long requests, streams;
  pthread_t thread;
};

static struct conn **g_conns; /* indexed by fd; fds are process-wide so threads never collide */
static size_t g_max_fds;
static struct worker *g_workers;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n);
  if (!q) die("realloc");
  return q;
}

/* ---------------------------------------------------------------- output ---- */

static void out_append(struct conn *c, const char *p, size_t n) {
  if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
  if (c->out_len + n > c->out_cap) {
    if (c->out_off > 0) { /* compact first */
      memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
      c->out_len -= c->out_off;
      c->out_off = 0;
    }
    if (c->out_len + n > c->out_cap) {
      size_t cap = c->out_cap ? c->out_cap : 4096;
      while (cap < c->out_len + n) cap *= 2;
      c->out = xrealloc(c->out, cap);
      c->out_cap = cap;
    }
  }
  memcpy(c->out + c->out_len, p, n);
  c->out_len += n;
}

static void set_events(struct conn *c, int want_out) {
  if (c->want_out == want_out) return;
  struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.u64 = (uint64_t)c->fd};
  if (epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl MOD");
  c->want_out = want_out;
}

static void conn_close(struct conn *c) {
  if (c->fd < 0) return;
  close(c->fd); /* also removes it from the epoll set */
  c->fd = -1;
  c->gen++;
  c->in_len = c->in_pos = c->scan = 0;
  c->out_len = c->out_off = 0;
  c->have_head = c->streaming = c->closing = c->close_after = c->want_out = 0;
  /* keep modest buffers for the next connection on this fd, drop huge ones */
  if (c->in_cap > 1024 * 1024) { free(c->in); c->in = NULL; c->in_cap = 0; }
  if (c->out_cap > 1024 * 1024) { free(c->out); c->out = NULL; c->out_cap = 0; }
}

/* Write as much as possible. Returns 0 if the connection is still open. */
static int conn_flush(struct conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c->out_off += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      set_events(c, 1);
      return 0;
    } else {
      conn_close(c);
      return -1;
    }
  }
  c->out_off = c->out_len = 0;
  if (c->closing && !c->streaming) {
    conn_close(c);
    return -1;
  }
  set_events(c, 0);
  return 0;
}

/* ---------------------------------------------------------------- timers ---- */

static void heap_push(struct worker *w, struct timer_ent e) {
  if (w->heap_len == w->heap_cap) {
    w->heap_cap = w->heap_cap ? w->heap_cap * 2 : 256;
    w->heap = xrealloc(w->heap, w->heap_cap * sizeof *w->heap);
  }
  size_t i = w->heap_len++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (w->heap[p].deadline_ns <= e.deadline_ns) break;
    w->heap[i] = w->heap[p];
    i = p;
  }
  w->heap[i] = e;
}

static struct timer_ent heap_pop(struct worker *w) {
  struct timer_ent top = w->heap[0];
  struct timer_ent last = w->heap[--w->heap_len];
  size_t i = 0, n = w->heap_len;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    uint64_t md = last.deadline_ns;
    if (l < n && w->heap[l].deadline_ns < md) { m = l; md = w->heap[l].deadline_ns; }
    if (r < n && w->heap[r].deadline_ns < md) { m = r; }
    if (m == i) break;
    w->heap[i] = w->heap[m];
    i = m;
  }
  if (n > 0) w->heap[i] = last;
  return top;
}

static void timer_rearm(struct worker *w) {
  uint64_t want = w->heap_len ? w->heap[0].deadline_ns : 0;
  if (want == w->armed_ns) return;
  struct itimerspec its = {0};
  if (want) {
    its.it_value.tv_sec = (time_t)(want / 1000000000ull);
    its.it_value.tv_nsec = (long)(want % 1000000000ull);
  }
  if (timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) die("timerfd_settime");
  w->armed_ns = want;
}

/* ---------------------------------------------------------------- parsing ---- */

static int ci_prefix(const char *p, const char *end, const char *lit) {
  size_t n = strlen(lit);
  return (size_t)(end - p) >= n && strncasecmp(p, lit, n) == 0;
}

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  return p;
}

/* case-insensitive token search inside a header value */
static int value_has(const char *v, const char *end, const char *tok) {
  size_t n = strlen(tok);
  for (; v + n <= end; v++)
    if (strncasecmp(v, tok, n) == 0) return 1;
  return 0;
}

/* Parse the head in c->in[in_pos, in_pos+head_len). Returns -1 on a malformed head. */
static int parse_head(struct conn *c) {
  const char *p = c->in + c->in_pos, *end = p + c->head_len;
  const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
  if (!eol) return -1;
  int http10 = memmem(p, (size_t)(eol - p), "HTTP/1.0", 8) != NULL;
  int keep_alive = 0, expect = 0;
  c->body_len = 0;
  c->chunked = 0;
  c->close_after = 0;
  for (p = eol + 2; p < end;) {
    eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    if (!eol || eol == p) break;
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    if (colon) {
      const char *v = skip_ws(colon + 1, eol);
      size_t nlen = (size_t)(colon - p);
      if (nlen == 14 && ci_prefix(p, colon, "content-length")) {
        size_t n = 0;
        for (; v < eol && *v >= '0' && *v <= '9'; v++) n = n * 10 + (size_t)(*v - '0');
        c->body_len = n;
      } else if (nlen == 17 && ci_prefix(p, colon, "transfer-encoding")) {
        c->chunked = value_has(v, eol, "chunked");
      } else if (nlen == 10 && ci_prefix(p, colon, "connection")) {
        if (value_has(v, eol, "close")) c->close_after = 1;
        if (value_has(v, eol, "keep-alive")) keep_alive = 1;
      } else if (nlen == 6 && ci_prefix(p, colon, "expect")) {
        expect = value_has(v, eol, "100-continue");
      }
    }
    p = eol + 2;
  }
  if (http10 && !keep_alive) c->close_after = 1;
  if (c->chunked) c->body_len = 0;
  if (c->body_len > MAX_INPUT) return -1;
  if (expect && (c->chunked || c->body_len > 0)) out_append(c, k_continue, sizeof k_continue - 1);
  return 0;
}

/* Length of a chunked body at p (through the final CRLF), -1 if incomplete, -2 if malformed. */
static long chunked_len(const char *p, size_t n) {
  size_t pos = 0;
  for (;;) {
    const char *eol = memmem(p + pos, n - pos, "\r\n", 2);
    if (!eol) return n - pos > 1024 ? -2 : -1;
    size_t size = 0;
    const char *q = p + pos;
    int digits = 0;
    for (; q < eol; q++, digits++) {
      int d;
      if (*q >= '0' && *q <= '9') d = *q - '0';
      else if (*q >= 'a' && *q <= 'f') d = *q - 'a' + 10;
      else if (*q >= 'A' && *q <= 'F') d = *q - 'A' + 10;
      else break;
      size = size * 16 + (size_t)d;
      if (size > MAX_INPUT) return -2;
    }
    if (!digits) return -2;
    pos = (size_t)(eol - p) + 2;
    if (size == 0) { /* trailers, then an empty line */
      for (;;) {
        const char *t = memmem(p + pos, n - pos, "\r\n", 2);
        if (!t) return -1;
        if (t == p + pos) return (long)(pos + 2);
        pos = (size_t)(t - p) + 2;
      }
    }
    if (n - pos < size + 2) return -1;
    pos += size + 2;
  }
}

/* "stream" : true anywhere in the body (an escaped \"stream\" inside a string never matches) */
static int wants_stream(const char *b, size_t n) {
  const char *end = b + n, *p = b;
  while (p < end) {
    const char *k = memmem(p, (size_t)(end - p), "\"stream\"", 8);
    if (!k) return 0;
    const char *q = k + 8;
    while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) q++;
    if (q < end && *q == ':') {
      q++;
      while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) q++;
      if ((size_t)(end - q) >= 4 && memcmp(q, "true", 4) == 0) return 1;
    }
    p = k + 8;
  }
  return 0;
}

static void ensure_in_space(struct conn *c, size_t need_total) {
  /* need_total: bytes of unconsumed input we must be able to hold (plus READ_CHUNK free) */
  if (c->in_pos > 0 && (c->in_pos == c->in_len || c->in_cap - c->in_len < READ_CHUNK)) {
    memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
    c->in_len -= c->in_pos;
    c->scan = c->scan > c->in_pos ? c->scan - c->in_pos : 0;
    c->in_pos = 0;
  }
  size_t want = c->in_len + READ_CHUNK;
  if (need_total + READ_CHUNK > want) want = need_total + READ_CHUNK;
  if (want > c->in_cap) {
    size_t cap = c->in_cap ? c->in_cap : READ_CHUNK;
    while (cap < want) cap *= 2;
    c->in = xrealloc(c->in, cap);
    c->in_cap = cap;
  }
}

static void schedule_chunk(struct conn *c, uint64_t at) {
  struct timer_ent e = {.deadline_ns = at, .fd = c->fd, .gen = c->gen};
  heap_push(c->w, e);
}

static void start_response(struct conn *c, int stream) {
  atomic_fetch_add_explicit(&c->w->requests, 1, memory_order_relaxed);
  if (!stream) {
    out_append(c, g_resp, g_resp_len);
    return;
  }
  atomic_fetch_add_explicit(&c->w->streams, 1, memory_order_relaxed);
  out_append(c, g_sse_head, g_sse_head_len);
  out_append(c, g_chunk[0], g_chunk_len[0]);
  if (g_chunk_delay_us <= 0 || g_chunks <= 1) {
    for (int i = 1; i < g_chunks; i++) out_append(c, g_chunk[i], g_chunk_len[i]);
    out_append(c, g_tail, g_tail_len);
    return;
  }
  c->streaming = 1;
  c->next_chunk = 1;
  schedule_chunk(c, now_ns() + (uint64_t)g_chunk_delay_us * 1000ull);
}

/* Answer every complete request in the input buffer (stops while an SSE response is running). */
static int process(struct conn *c) {
  while (!c->streaming && !c->closing && c->out_len - c->out_off < OUT_HIGH_WATER) {
    size_t avail = c->in_len - c->in_pos;
    if (!c->have_head) {
      size_t from = c->scan > c->in_pos + 3 ? c->scan - 3 : c->in_pos;
      const char *h = memmem(c->in + from, c->in_len - from, "\r\n\r\n", 4);
      if (!h) {
        c->scan = c->in_len;
        if (avail > MAX_HEAD) return -1;
        break;
      }
      c->head_len = (size_t)(h - (c->in + c->in_pos)) + 4;
      c->have_head = 1;
      if (parse_head(c) < 0) return -1;
    }
    const char *body = c->in + c->in_pos + c->head_len;
    size_t body_raw;
    if (c->chunked) {
      long r = chunked_len(body, avail - c->head_len);
      if (r == -2) return -1;
      if (r < 0) break;
      body_raw = (size_t)r;
    } else {
      body_raw = c->body_len;
      if (avail < c->head_len + body_raw) {
        ensure_in_space(c, c->head_len + body_raw); /* one allocation for a big body */
        break;
      }
    }
    body = c->in + c->in_pos + c->head_len; /* ensure_in_space may have moved it */
    int stream = wants_stream(body, body_raw);
    c->in_pos += c->head_len + body_raw;
    c->scan = c->in_pos;
    c->have_head = 0;
    start_response(c, stream);
    if (c->close_after) c->closing = 1;
  }
  if (c->in_pos == c->in_len) c->in_pos = c->in_len = c->scan = 0;
  return 0;
}

static void on_readable(struct conn *c) {
  for (int rounds = 0; rounds < 8; rounds++) {
    ensure_in_space(c, c->in_len - c->in_pos);
    size_t space = c->in_cap - c->in_len;
    ssize_t n = recv(c->fd, c->in + c->in_len, space, 0);
    if (n > 0) {
      c->in_len += (size_t)n;
      if (c->in_len - c->in_pos > MAX_INPUT) { conn_close(c); return; }
      if ((size_t)n < space) break;
    } else if (n == 0) {
      conn_close(c);
      return;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else {
      conn_close(c);
      return;
    }
  }
  if (process(c) < 0) {
    static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    out_append(c, bad, sizeof bad - 1);
    c->closing = 1;
  }
  conn_flush(c);
}

static void on_writable(struct conn *c) {
  if (conn_flush(c) < 0) return;
  if (c->out_len == 0 && c->in_len > c->in_pos) { /* resume after the high-water mark */
    if (process(c) < 0) { conn_close(c); return; }
    conn_flush(c);
  }
}

static void on_timer(struct worker *w) {
  uint64_t expirations;
  if (read(w->tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) die("read timerfd");
  w->armed_ns = 0;
  uint64_t now = now_ns();
  while (w->heap_len && w->heap[0].deadline_ns <= now) {
    struct timer_ent e = heap_pop(w);
    struct conn *c = g_conns[e.fd];
    if (!c || c->w != w || c->fd < 0 || c->gen != e.gen || !c->streaming) continue;
    out_append(c, g_chunk[c->next_chunk], g_chunk_len[c->next_chunk]);
    if (++c->next_chunk == g_chunks) {
      out_append(c, g_tail, g_tail_len);
      c->streaming = 0;
      if (process(c) < 0) c->closing = 1; /* pipelined requests behind the stream */
    } else {
      schedule_chunk(c, now + (uint64_t)g_chunk_delay_us * 1000ull);
    }
    conn_flush(c);
  }
  /* timerfd_settime below needs the real state: force a reprogram */
  timer_rearm(w);
}

static void on_accept(struct worker *w) {
  for (;;) {
    int fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EMFILE || errno == ENFILE) { perror("accept4"); return; }
      die("accept4");
    }
    if ((size_t)fd >= g_max_fds) { close(fd); continue; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn *c = g_conns[fd];
    if (!c) {
      c = calloc(1, sizeof *c);
      if (!c) die("calloc");
      g_conns[fd] = c;
    }
    c->fd = fd;
    c->gen++;
    c->w = w;
    c->want_out = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)fd};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl ADD");
  }
}

static void *worker_main(void *arg) {
  struct worker *w = arg;
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* microsecond-accurate chunk delays */
  struct epoll_event evs[512];
  for (;;) {
    int n = epoll_wait(w->epfd, evs, 512, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      int fd = (int)evs[i].data.u64;
      uint32_t e = evs[i].events;
      if (fd == w->lfd) { on_accept(w); continue; }
      if (fd == w->tfd) { on_timer(w); continue; }
      struct conn *c = g_conns[fd];
      if (!c || c->fd < 0) continue;
      if (e & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c); /* read() reports EOF/errors */
      if (c->fd >= 0 && (e & EPOLLOUT)) on_writable(c);
    }
    timer_rearm(w);
  }
  return NULL;
}

/* ---------------------------------------------------------------- setup ---- */

static char *xasprintf(size_t *len, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *xasprintf(size_t *len, const char *fmt, ...) {
  va_list ap;
  char *s;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0) die("vasprintf");
  if (len) *len = (size_t)n;
  return s;
}

static void build_responses(void) {
  g_resp = xasprintf(&g_resp_len,
                     "HTTP/1.1 200 OK\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\n"
                     "openai-processing-ms: 412\r\n"
                     "x-request-id: req_7b1f0c3e9d2a4c68a5e4f1b2c3d4e5f6\r\n"
                     "\r\n%s",
                     sizeof k_completion_body - 1, k_completion_body);
  g_sse_head = xasprintf(&g_sse_head_len,
                         "HTTP/1.1 200 OK\r\n"
                         "Content-Type: text/event-stream; charset=utf-8\r\n"
                         "Transfer-Encoding: chunked\r\n"
                         "Cache-Control: no-cache\r\n"
                         "openai-processing-ms: 87\r\n"
                         "x-request-id: req_7b1f0c3e9d2a4c68a5e4f1b2c3d4e5f6\r\n"
                         "\r\n");
  g_chunk = calloc((size_t)g_chunks, sizeof *g_chunk);
  g_chunk_len = calloc((size_t)g_chunks, sizeof *g_chunk_len);
  size_t ntok = sizeof k_tokens / sizeof k_tokens[0];
  for (int i = 0; i < g_chunks; i++) {
    char delta[128];
    const char *finish = "null";
    if (i == g_chunks - 1 && g_chunks > 1) {
      snprintf(delta, sizeof delta, "{}");
      finish = "\"stop\"";
    } else if (i == 0) {
      snprintf(delta, sizeof delta, "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}");
    } else {
      snprintf(delta, sizeof delta, "{\"content\":\"%s\"}", k_tokens[(size_t)(i - 1) % ntok]);
    }
    size_t dlen;
    char *data = xasprintf(&dlen,
                           "data: {\"id\":\"" RESP_ID "\",\"object\":\"chat.completion.chunk\","
                           "\"created\":1727712600,\"model\":\"" RESP_MODEL "\","
                           "\"system_fingerprint\":\"" RESP_FP "\",\"choices\":[{\"index\":0,"
                           "\"delta\":%s,\"logprobs\":null,\"finish_reason\":%s}]}\n\n",
                           delta, finish);
    g_chunk[i] = xasprintf(&g_chunk_len[i], "%zx\r\n%s\r\n", dlen, data);
    free(data);
  }
  g_tail = xasprintf(&g_tail_len, "e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n");
}

static int make_listener(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (g_threads > 1) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, g_host, &a.sin_addr) != 1) {
    fprintf(stderr, "mock_upstream: bad --host %s (IPv4 literal expected)\n", g_host);
    exit(2);
  }
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (listen(fd, 4096) < 0) die("listen");
  return fd;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: mock_upstream [--host 127.0.0.1] [--port N (0 = any)] [-t THREADS]\n"
          "                     [--chunks N (20)] [--chunk-delay-us D (0)] [--quiet]\n");
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV() do { if (!v) { usage(stderr); return 2; } i++; } while (0)
    if (!strcmp(a, "--host")) { NEEDV(); g_host = v; }
    else if (!strcmp(a, "--port") || !strcmp(a, "-p")) { NEEDV(); g_port = atoi(v); }
    else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) { NEEDV(); g_threads = atoi(v); }
    else if (!strcmp(a, "--chunks")) { NEEDV(); g_chunks = atoi(v); }
    else if (!strcmp(a, "--chunk-delay-us")) { NEEDV(); g_chunk_delay_us = atol(v); }
    else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) g_quiet = 1;
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
    else { usage(stderr); return 2; }
#undef NEEDV
  }
  if (g_threads < 1) g_threads = 1;
  if (g_chunks < 1) g_chunks = 1;

  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    g_max_fds = rl.rlim_cur > 1048576 ? 1048576 : (size_t)rl.rlim_cur;
  } else {
    g_max_fds = 65536;
  }
  g_conns = calloc(g_max_fds, sizeof *g_conns);
  if (!g_conns) die("calloc");
  build_responses();

  /* signals are handled by sigwait in the main thread only */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);

  g_workers = calloc((size_t)g_threads, sizeof *g_workers);
  int port = g_port;
  for (int i = 0; i < g_threads; i++) {
    struct worker *w = &g_workers[i];
    w->id = i;
    w->lfd = make_listener(port);
    if (port == 0) {
      struct sockaddr_in a;
      socklen_t al = sizeof a;
      if (getsockname(w->lfd, (struct sockaddr *)&a, &al) < 0) die("getsockname");
      port = ntohs(a.sin_port);
    }
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (w->epfd < 0 || w->tfd < 0) die("epoll_create1/timerfd_create");
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)w->lfd};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->lfd, &ev) < 0) die("epoll_ctl listener");
    ev.data.u64 = (uint64_t)w->tfd;
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->tfd, &ev) < 0) die("epoll_ctl timerfd");
  }
  for (int i = 0; i < g_threads; i++)
    if (pthread_create(&g_workers[i].thread, NULL, worker_main, &g_workers[i]) != 0) die("pthread_create");

  fprintf(stderr, "listening on http://%s:%d\n", g_host, port);
  if (!g_quiet)
    fprintf(stderr, "mock_upstream: %d thread(s), json response %zu bytes (body %zu), sse %d chunks, %ld us apart\n",
            g_threads, g_resp_len, sizeof k_completion_body - 1, g_chunks, g_chunk_delay_us);

  int sig = 0;
  sigwait(&sigs, &sig);
  unsigned long req = 0, str = 0;
  for (int i = 0; i < g_threads; i++) {
    req += atomic_load(&g_workers[i].requests);
    str += atomic_load(&g_workers[i].streams);
  }
  fprintf(stderr, "mock_upstream: served %lu requests (%lu streamed)\n", req, str);
  return 0;
}
