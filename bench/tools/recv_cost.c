// recv_cost.c - per-call cost of recv / recvmsg / recvmsg+TCP_INQ cmsg / read / readv
// on loopback TCP (127.0.0.1), with data available and with EAGAIN.
//
// Build: cc -O2 -Wall -o recv_cost bench/tools/recv_cost.c
// Usage: taskset -c 0 ./recv_cost MODE SIZES ITERS REPS VARIANTS
//   MODE     : data | pp | eagain
//              data  : peer writes a message, reader reads it (one-way stream: the reader's
//                      recv usually transmits an ACK from inside tcp_cleanup_rbuf)
//              pp    : like data, but after each read the reader sends a 200-byte reply
//                      (untimed) and the peer drains it, i.e. request/response ping-pong as
//                      in a proxy; ACKs then ride on the replies / delayed-ACK machinery
//              eagain: nothing is written; every read returns -1/EAGAIN
//   SIZES    : comma list of message sizes for data mode, e.g. 900,500
//              (writer alternates through the list; ignored for eagain)
//   ITERS    : timed iterations per run (default 200000)
//   REPS     : repetitions; variants are interleaved within each rep (a,b,c,d,a,b,c,d,...)
//   VARIANTS : letters, default "abcdefg"
//      a = recv(fd, buf, 16384, 0)                        (TCP_INQ off)
//      b = recvmsg, 1 iovec, no control buffer            (TCP_INQ off)
//      c = recvmsg, 1 iovec, CMSG_SPACE(int) ctl buffer    (TCP_INQ on, reads TCP_CM_INQ)
//      d = read(fd, buf, 16384)                            (TCP_INQ off)
//      e = readv(fd, 1 iovec)                              (TCP_INQ off)
//      f = recv()   but with TCP_INQ enabled on socket    (does the option alone cost anything?)
//      g = recvmsg with ctl buffer, TCP_INQ off            (cost of passing ctl buffer alone)
//      h = recvfrom(fd, buf, 16384, 0, NULL, NULL)         (TCP_INQ off; same as recv in glibc)
// Each run uses a fresh TCP connection (listen/connect/accept on 127.0.0.1), writer and
// reader driven from the same thread (loopback delivers in the sender's softirq, so data
// is queued on the reader when send() returns).  Only the read call is inside the
// clock_gettime(CLOCK_MONOTONIC) pair; the send() is timed separately (to see whether the
// receiver's TCP_INQ option affects the write path).  getrusage(RUSAGE_THREAD) gives
// user/sys time for the whole run loop (send+read in data mode, read only in eagain mode).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef TCP_INQ
#define TCP_INQ 36
#endif
#ifndef TCP_CM_INQ
#define TCP_CM_INQ TCP_INQ
#endif

#define BUFSZ 16384
static char rbuf[BUFSZ];
static char wbuf[BUFSZ];

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *m) { perror(m); exit(1); }

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}
static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void make_pair(int *rd, int *wr) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0) die("socket");
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(l, (struct sockaddr *)&a, sizeof a)) die("bind");
    if (listen(l, 4)) die("listen");
    socklen_t al = sizeof a;
    getsockname(l, (struct sockaddr *)&a, &al);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a)) die("connect");
    int s = accept(l, NULL, NULL);
    if (s < 0) die("accept");
    close(l);
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
    *rd = s;   // reader = accepted (server) side, like a proxy reading a client
    *wr = c;
}

struct ctx {
    struct msghdr mh;
    struct iovec iov;
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl;
    long inq_seen, inq_nonzero, cmsg_missing;
};

static inline ssize_t do_read(char v, int fd, struct ctx *x) {
    switch (v) {
    case 'a': case 'f':
        return recv(fd, rbuf, BUFSZ, 0);
    case 'h':
        return recvfrom(fd, rbuf, BUFSZ, 0, NULL, NULL);
    case 'd':
        return read(fd, rbuf, BUFSZ);
    case 'e':
        x->iov.iov_base = rbuf; x->iov.iov_len = BUFSZ;
        return readv(fd, &x->iov, 1);
    case 'b':
        x->iov.iov_base = rbuf; x->iov.iov_len = BUFSZ;
        memset(&x->mh, 0, sizeof x->mh);
        x->mh.msg_iov = &x->iov; x->mh.msg_iovlen = 1;
        return recvmsg(fd, &x->mh, 0);
    case 'c': case 'g': {
        x->iov.iov_base = rbuf; x->iov.iov_len = BUFSZ;
        memset(&x->mh, 0, sizeof x->mh);
        x->mh.msg_iov = &x->iov; x->mh.msg_iovlen = 1;
        x->mh.msg_control = x->ctl.buf; x->mh.msg_controllen = sizeof x->ctl.buf;
        ssize_t n = recvmsg(fd, &x->mh, 0);
        if (n >= 0 && v == 'c') {   // parse like a real user would (cheap, user-space)
            int found = 0;
            for (struct cmsghdr *cm = CMSG_FIRSTHDR(&x->mh); cm; cm = CMSG_NXTHDR(&x->mh, cm))
                if (cm->cmsg_level == IPPROTO_TCP && cm->cmsg_type == TCP_CM_INQ) {
                    int inq; memcpy(&inq, CMSG_DATA(cm), sizeof inq);
                    found = 1; x->inq_seen++; if (inq) x->inq_nonzero++;
                }
            if (!found) x->cmsg_missing++;
        }
        return n;
    }
    }
    return -1;
}

struct res {
    double rd_mean, rd_med, wr_mean, wr_med, usr, sys, batch;
    long anomalies;
};

static uint32_t *samp_r, *samp_w;

static int pp;
static struct res run(char v, int eagain, const int *sizes, int nsizes, long iters, double clk) {
    int rd, wr;
    make_pair(&rd, &wr);
    int on = (v == 'c' || v == 'f');
    if (on && setsockopt(rd, IPPROTO_TCP, TCP_INQ, &on, sizeof on)) die("setsockopt TCP_INQ");
    struct ctx x; memset(&x, 0, sizeof x);
    struct res r; memset(&r, 0, sizeof r);
    long warm = 2000;
    struct rusage ru0, ru1;
    for (long i = -warm; i < iters; i++) {
        if (i == 0) getrusage(RUSAGE_THREAD, &ru0);
        uint64_t t0 = 0, t1 = 0, t2, t3;
        int sz = sizes[(i + warm) % nsizes];
        if (!eagain) {
            t0 = now_ns();
            ssize_t w = send(wr, wbuf, sz, 0);
            t1 = now_ns();
            if (w != sz) die("send");
        }
        t2 = now_ns();
        ssize_t n = do_read(v, rd, &x);
        t3 = now_ns();
        if (eagain) {
            if (!(n < 0 && errno == EAGAIN)) r.anomalies++;
        } else if (n != sz) {
            r.anomalies++;
            long got = n > 0 ? n : 0;   // drain remainder untimed
            while (got < sz) { ssize_t m = recv(rd, rbuf, BUFSZ, 0); if (m > 0) got += m; }
        }
        if (pp) {
            if (send(rd, wbuf, 200, 0) != 200) die("reply");
            long got = 0;
            while (got < 200) { ssize_t m = recv(wr, rbuf, BUFSZ, 0); if (m > 0) got += m; else if (m == 0) die("eof"); }
        }
        if (i >= 0) { samp_r[i] = (uint32_t)(t3 - t2); samp_w[i] = (uint32_t)(t1 - t0); }
    }
    getrusage(RUSAGE_THREAD, &ru1);
    double sr = 0, sw = 0;
    for (long i = 0; i < iters; i++) { sr += samp_r[i]; sw += samp_w[i]; }
    r.rd_mean = sr / iters - clk;
    r.wr_mean = sw / iters - clk;
    qsort(samp_r, iters, sizeof *samp_r, cmp_u32);
    qsort(samp_w, iters, sizeof *samp_w, cmp_u32);
    r.rd_med = samp_r[iters / 2] - clk;
    r.wr_med = eagain ? 0 : samp_w[iters / 2] - clk;
    if (eagain) r.wr_mean = 0;
    r.usr = ((ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1e9 + (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) * 1e3) / iters;
    r.sys = ((ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e9 + (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) * 1e3) / iters;
    if (eagain) {   // batched: no per-call clock reads, one pair around the loop
        uint64_t b0 = now_ns();
        for (long i = 0; i < iters; i++) do_read(v, rd, &x);
        r.batch = (double)(now_ns() - b0) / iters;
    }
    if (v == 'c' && !eagain && (x.cmsg_missing || x.inq_nonzero))
        fprintf(stderr, "note: variant c cmsg_missing=%ld inq_nonzero=%ld inq_seen=%ld\n",
                x.cmsg_missing, x.inq_nonzero, x.inq_seen);
    close(rd); close(wr);
    return r;
}

int main(int argc, char **argv) {
    int eagain = argc > 1 && !strcmp(argv[1], "eagain");
    pp = argc > 1 && !strcmp(argv[1], "pp");
    int sizes[16], nsizes = 0;
    char *s = strdup(argc > 2 ? argv[2] : "900,500");
    for (char *t = strtok(s, ","); t && nsizes < 16; t = strtok(NULL, ",")) sizes[nsizes++] = atoi(t);
    long iters = argc > 3 ? atol(argv[3]) : 200000;
    int reps = argc > 4 ? atoi(argv[4]) : 5;
    const char *vars = argc > 5 ? argv[5] : "abcdefg";
    int nv = strlen(vars);
    memset(wbuf, 'x', sizeof wbuf);
    samp_r = malloc(iters * sizeof *samp_r);
    samp_w = malloc(iters * sizeof *samp_w);

    // clock_gettime pair overhead (median of 200k back-to-back pairs)
    for (long i = 0; i < iters; i++) { uint64_t a = now_ns(), b = now_ns(); samp_r[i] = b - a; }
    qsort(samp_r, iters, sizeof *samp_r, cmp_u32);
    double clk = samp_r[iters / 2];
    printf("# mode=%s sizes=%s iters=%ld reps=%d clock_pair_overhead=%.0fns (subtracted)\n",
           argv[1], argc > 2 ? argv[2] : "900,500", iters, reps, clk);

    double *m[8][7];
    for (int k = 0; k < nv; k++) for (int j = 0; j < 7; j++) m[k][j] = calloc(reps, sizeof(double));
    printf("# rep var  rd_mean rd_med  wr_mean wr_med  usr/it sys/it  batch  anomalies\n");
    for (int rep = 0; rep < reps; rep++)
        for (int k = 0; k < nv; k++) {
            struct res r = run(vars[k], eagain, sizes, nsizes, iters, clk);
            printf("  %3d  %c  %7.1f %6.1f  %7.1f %6.1f  %6.1f %6.1f  %6.1f  %ld\n", rep, vars[k],
                   r.rd_mean, r.rd_med, r.wr_mean, r.wr_med, r.usr, r.sys, r.batch, r.anomalies);
            double vals[7] = {r.rd_mean, r.rd_med, r.wr_mean, r.wr_med, r.usr, r.sys, r.batch};
            for (int j = 0; j < 7; j++) m[k][j][rep] = vals[j];
        }
    printf("# MEDIAN over reps (ns per call):\n# var  rd_mean rd_med  wr_mean wr_med  usr/it sys/it  batch\n");
    double med[8][7];
    for (int k = 0; k < nv; k++) {
        for (int j = 0; j < 7; j++) { qsort(m[k][j], reps, sizeof(double), cmp_dbl); med[k][j] = m[k][j][reps / 2]; }
        printf("   %c  %7.1f %6.1f  %7.1f %6.1f  %6.1f %6.1f  %6.1f\n", vars[k],
               med[k][0], med[k][1], med[k][2], med[k][3], med[k][4], med[k][5], med[k][6]);
    }
    const char *pa = strchr(vars, 'a'), *pc = strchr(vars, 'c');
    if (pa && pc) {
        int ia = pa - vars, ic = pc - vars;
        printf("# (c)-(a): rd_mean %+.1f  rd_med %+.1f  sys/it %+.1f  batch %+.1f ns\n",
               med[ic][0] - med[ia][0], med[ic][1] - med[ia][1], med[ic][5] - med[ia][5], med[ic][6] - med[ia][6]);
    }
    return 0;
}
