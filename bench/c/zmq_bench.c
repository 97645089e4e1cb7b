/*
 * libzmq side of the Monocoque side-by-side benchmark (bench/run.ts).
 *
 * One program, one mode per process, the same modes and the same JSON-lines
 * output as bench/node/zmq_bench.mjs and bench/monocoque_bench.ts, so the
 * runner can put the three implementations side by side:
 *
 *   push_send   EP COUNT SIZE          PUSH, connects by default
 *   pull_recv   EP COUNT               PULL, binds; throughput timed here
 *   rep_echo    EP COUNT SIZE          REP echo server, binds; runs until stdin closes
 *   req_rtt     EP COUNT SIZE          REQ, connects; per-round-trip latency
 *   router_echo EP COUNT SIZE          ROUTER echo server, binds; runs until stdin closes
 *   dealer_rtt  EP COUNT SIZE          DEALER, connects; per-round-trip latency
 *   pub_send    EP COUNT SIZE NSUBS    XPUB (NODROP, VERBOSE, blocking HWM), binds;
 *                                      waits for NSUBS subscriptions, then sends
 *   sub_recv    EP COUNT [NSOCKETS]    NSOCKETS SUB sockets in this process, connect
 *   idle_router EP N                   ROUTER, binds; RSS delta for N idle peers
 *   idle_dealers EP N                  N DEALER sockets that connect, say hello, idle
 *   dealers_load EP COUNT SIZE NSOCKETS
 *                                      NSOCKETS DEALERs, each keeping WINDOW requests in
 *                                      flight to a ROUTER echo; COUNT round trips in all,
 *                                      timed from the first request to the last reply
 *
 * EP may start with '@' (bind) or '>' (connect) to override the default.
 *
 * Synchronisation: every process prints {"event":"ready"} once its socket is
 * bound/connected. Senders and echo servers then keep their sockets open
 * until their stdin reaches end of file: the runner closes it once the
 * receiving side has printed its result. (A libzmq sender that closes right
 * after its last send lost the tail of the stream over ipc, see
 * research/baseline.md.) The last stdout line is {"event":"result",...}.
 *
 * Build: cc -O2 -o bench/build/zmq_bench bench/c/zmq_bench.c -lzmq
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define HWM 1000
#define IDLE_TIMEOUT_MS 3000
/* Requests each DEALER of dealers_load keeps in flight. */
#define WINDOW 10

static void die(const char *what) {
  fprintf(stderr, "zmq_bench: %s: %s\n", what, zmq_strerror(zmq_errno()));
  exit(1);
}

static double now_mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now_epoch_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* kB value of a /proc/self/status field such as "VmHWM:" */
static long proc_status_kb(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  size_t n = strlen(field);
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, field, n) == 0) {
      kb = strtol(line + n, NULL, 10);
      break;
    }
  fclose(f);
  return kb;
}

static void ready(void) {
  printf("{\"event\":\"ready\"}\n");
  fflush(stdout);
}

static void set_int(void *s, int opt, int v) {
  if (zmq_setsockopt(s, opt, &v, sizeof v) != 0) die("setsockopt");
}

/*
 * CURVE when BENCH_CURVE holds four Z85 keys separated by spaces: server
 * public, server secret, client public, client secret. The binding socket is
 * the CURVE server, the connecting one the client; no ZAP handler, so every
 * client that knows the server key is accepted (as in libzmq without one).
 */
static void curve_opts(void *s, int server) {
  const char *env = getenv("BENCH_CURVE");
  char key[4][41];
  if (!env || !*env) return;
  if (sscanf(env, "%40s %40s %40s %40s", key[0], key[1], key[2], key[3]) != 4) {
    fprintf(stderr, "zmq_bench: BENCH_CURVE needs four Z85 keys\n");
    exit(2);
  }
  if (server) {
    set_int(s, ZMQ_CURVE_SERVER, 1);
    if (zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, key[1], 40) != 0) die("curve secret key");
  } else {
    if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, key[0], 40) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, key[2], 40) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, key[3], 40) != 0)
      die("curve client keys");
  }
}

/* Set up the endpoint: '@' binds, '>' connects, otherwise the mode's default. */
static void attach(void *s, const char *ep, int bind_by_default) {
  int do_bind = bind_by_default;
  if (ep[0] == '@') do_bind = 1, ep++;
  else if (ep[0] == '>') do_bind = 0, ep++;
  curve_opts(s, do_bind);
  if ((do_bind ? zmq_bind(s, ep) : zmq_connect(s, ep)) != 0)
    die(do_bind ? "bind" : "connect");
}


static void common_opts(void *s) {
  set_int(s, ZMQ_SNDHWM, HWM);
  set_int(s, ZMQ_RCVHWM, HWM);
  set_int(s, ZMQ_LINGER, 2000);
}

/* Block until stdin reaches end of file (the runner's "receiver is done"). */
static void wait_stdin_eof(void) {
  char buf[256];
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r == 0 || (r < 0 && errno != EINTR)) return;
  }
}

static void result_throughput(const char *mode, long count, long bytes,
                              double secs, double t_first, double t_last,
                              long expected, int nsockets) {
  double rate = count > 1 && secs > 0 ? (count - 1) / secs : 0;
  double mbs = count > 1 && secs > 0 ? bytes / secs / 1e6 : 0;
  printf("{\"event\":\"result\",\"impl\":\"libzmq\",\"mode\":\"%s\","
         "\"count\":%ld,\"expected\":%ld,\"sockets\":%d,\"bytes\":%ld,"
         "\"secs\":%.6f,\"t_first_us\":%.0f,\"t_last_us\":%.0f,"
         "\"msgs_per_s\":%.1f,\"mb_per_s\":%.2f,\"rss_peak_kb\":%ld}\n",
         mode, count, expected, nsockets, bytes, secs, t_first, t_last, rate,
         mbs, proc_status_kb("VmHWM:"));
  fflush(stdout);
}

static void result_sender(const char *mode, long count, double secs) {
  printf("{\"event\":\"result\",\"impl\":\"libzmq\",\"mode\":\"%s\","
         "\"count\":%ld,\"send_secs\":%.6f,\"rss_peak_kb\":%ld}\n",
         mode, count, secs, proc_status_kb("VmHWM:"));
  fflush(stdout);
}

static void fill(char *buf, int size) {
  for (int i = 0; i < size; i++) buf[i] = (char)('a' + i % 26);
}

static void do_send(void *ctx, const char *ep, long count, int size, int pub,
                    int nsubs) {
  void *s = zmq_socket(ctx, pub ? ZMQ_XPUB : ZMQ_PUSH);
  char *buf = malloc(size ? size : 1);
  if (!s || !buf) die("socket");
  common_opts(s);
  if (pub) {
    set_int(s, ZMQ_XPUB_VERBOSE, 1);
    set_int(s, ZMQ_XPUB_NODROP, 1);
  }
  fill(buf, size);
  attach(s, ep, pub);
  ready();
  if (pub) {
    /* Lossless: send nothing until every subscriber's subscription is in. */
    char sub[256];
    for (int got = 0; got < nsubs;) {
      int n = zmq_recv(s, sub, sizeof sub, 0);
      if (n < 0) die("recv subscription");
      if (n >= 1 && sub[0] == 1) got++;
    }
  }
  double t0 = now_mono();
  for (long i = 0; i < count; i++)
    while (zmq_send(s, buf, size, 0) < 0)
      if (zmq_errno() != EINTR) die("send");
  double t1 = now_mono();
  wait_stdin_eof();
  result_sender(pub ? "pub_send" : "push_send", count, t1 - t0);
  zmq_close(s);
  free(buf);
}

static void do_recv(void *ctx, const char *ep, long count, int nsockets,
                    int sub) {
  void **socks = calloc(nsockets, sizeof *socks);
  zmq_pollitem_t *items = calloc(nsockets, sizeof *items);
  long total = count * nsockets, got = 0, bytes = 0;
  double t0 = 0, t1 = 0, e0 = 0, e1 = 0;
  zmq_msg_t msg;
  for (int i = 0; i < nsockets; i++) {
    socks[i] = zmq_socket(ctx, sub ? ZMQ_SUB : ZMQ_PULL);
    if (!socks[i]) die("socket");
    common_opts(socks[i]);
    if (sub) zmq_setsockopt(socks[i], ZMQ_SUBSCRIBE, "", 0);
    attach(socks[i], ep, !sub);
    items[i].socket = socks[i];
    items[i].events = ZMQ_POLLIN;
  }
  ready();
  zmq_msg_init(&msg);
  while (got < total) {
    int rc = zmq_poll(items, nsockets, got ? IDLE_TIMEOUT_MS : -1);
    if (rc < 0) {
      if (zmq_errno() == EINTR) continue;
      die("poll");
    }
    if (rc == 0) break; /* stalled: report what arrived */
    for (int i = 0; i < nsockets; i++) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      /* Drain what is ready without polling again per message. */
      long before = got;
      while (got < total && zmq_msg_recv(&msg, socks[i], ZMQ_DONTWAIT) >= 0) {
        if (got == 0) t0 = now_mono(), e0 = now_epoch_us();
        bytes += zmq_msg_size(&msg);
        got++;
      }
      /* time of the last message: stamped per drained batch, not per message */
      if (got > before) t1 = now_mono(), e1 = now_epoch_us();
    }
  }
  zmq_msg_close(&msg);
  /* bytes/secs counts the first message too; close enough at these counts */
  result_throughput(sub ? "sub_recv" : "pull_recv", got, bytes, t1 - t0, e0,
                    e1, total, nsockets);
  for (int i = 0; i < nsockets; i++) {
    set_int(socks[i], ZMQ_LINGER, 0);
    zmq_close(socks[i]);
  }
}

static void do_echo(void *ctx, const char *ep, int router) {
  void *s = zmq_socket(ctx, router ? ZMQ_ROUTER : ZMQ_REP);
  zmq_pollitem_t items[2] = {{s, 0, ZMQ_POLLIN, 0}, {NULL, 0, ZMQ_POLLIN, 0}};
  zmq_msg_t msg;
  long served = 0;
  if (!s) die("socket");
  common_opts(s);
  attach(s, ep, 1);
  ready();
  zmq_msg_init(&msg);
  for (;;) {
    if (zmq_poll(items, 2, -1) < 0) {
      if (zmq_errno() == EINTR) continue;
      die("poll");
    }
    if (items[1].revents & (ZMQ_POLLIN | ZMQ_POLLERR)) {
      char buf[64];
      if (read(0, buf, sizeof buf) <= 0) break;
    }
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    /* Echo every frame of the message back (ROUTER: routing id first). */
    for (;;) {
      int more;
      size_t sz = sizeof more;
      if (zmq_msg_recv(&msg, s, ZMQ_DONTWAIT) < 0) break;
      zmq_getsockopt(s, ZMQ_RCVMORE, &more, &sz);
      if (zmq_msg_send(&msg, s, more ? ZMQ_SNDMORE : 0) < 0) die("send");
      if (!more) {
        served++;
        /* REP: only one request at a time; poll again. ROUTER: drain what is
           queued (many DEALERs may have requests in flight). */
        if (!router) break;
      }
    }
  }
  result_sender(router ? "router_echo" : "rep_echo", served, 0);
  zmq_msg_close(&msg);
  set_int(s, ZMQ_LINGER, 0);
  zmq_close(s);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(const double *sorted, long n, double q) {
  long i = (long)(q * n + 0.999999) - 1;
  if (i < 0) i = 0;
  if (i >= n) i = n - 1;
  return sorted[i];
}

static void do_rtt(void *ctx, const char *ep, long count, int size,
                   int dealer) {
  void *s = zmq_socket(ctx, dealer ? ZMQ_DEALER : ZMQ_REQ);
  long warmup = count / 10 < 1000 ? count / 10 : 1000;
  double *lat = malloc(sizeof(double) * (count ? count : 1));
  char *buf = malloc(size ? size : 1);
  zmq_msg_t msg;
  if (!s || !lat || !buf) die("socket");
  common_opts(s);
  fill(buf, size);
  attach(s, ep, 0);
  ready();
  zmq_msg_init(&msg);
  double start = now_mono();
  for (long i = -warmup; i < count; i++) {
    double t0 = now_mono();
    if (zmq_send(s, buf, size, 0) < 0) die("send");
    if (zmq_msg_recv(&msg, s, 0) < 0) die("recv");
    if ((int)zmq_msg_size(&msg) != size) {
      fprintf(stderr, "zmq_bench: reply size %zu, expected %d\n",
              zmq_msg_size(&msg), size);
      exit(1);
    }
    double t1 = now_mono();
    if (i == -1 || (warmup == 0 && i == 0)) start = t0;
    if (i >= 0) lat[i] = (t1 - t0) * 1e6;
  }
  double secs = now_mono() - start;
  qsort(lat, count, sizeof *lat, cmp_double);
  double sum = 0;
  for (long i = 0; i < count; i++) sum += lat[i];
  printf("{\"event\":\"result\",\"impl\":\"libzmq\",\"mode\":\"%s\","
         "\"count\":%ld,\"size\":%d,\"secs\":%.6f,\"rtt_per_s\":%.1f,"
         "\"mean_us\":%.2f,\"p50_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,"
         "\"max_us\":%.2f,\"rss_peak_kb\":%ld}\n",
         dealer ? "dealer_rtt" : "req_rtt", count, size, secs,
         secs > 0 ? count / secs : 0, count ? sum / count : 0,
         pct(lat, count, 0.5), pct(lat, count, 0.99), pct(lat, count, 0.999),
         count ? lat[count - 1] : 0, proc_status_kb("VmHWM:"));
  fflush(stdout);
  zmq_msg_close(&msg);
  set_int(s, ZMQ_LINGER, 0);
  zmq_close(s);
}

static void do_idle_router(void *ctx, const char *ep, long n) {
  void *s = zmq_socket(ctx, ZMQ_ROUTER);
  zmq_msg_t msg;
  if (!s) die("socket");
  common_opts(s);
  attach(s, ep, 1);
  long before = proc_status_kb("VmRSS:");
  ready();
  zmq_msg_init(&msg);
  /* Each peer sends one two-frame hello [routing id, "hi"]. */
  for (long got = 0; got < n;) {
    int more;
    size_t sz = sizeof more;
    if (zmq_msg_recv(&msg, s, 0) < 0) die("recv");
    zmq_getsockopt(s, ZMQ_RCVMORE, &more, &sz);
    if (!more) got++;
  }
  usleep(500 * 1000);
  long after = proc_status_kb("VmRSS:");
  printf("{\"event\":\"result\",\"impl\":\"libzmq\",\"mode\":\"idle_router\","
         "\"connections\":%ld,\"rss_before_kb\":%ld,\"rss_after_kb\":%ld,"
         "\"bytes_per_conn\":%.0f,\"rss_peak_kb\":%ld}\n",
         n, before, after, (after - before) * 1024.0 / n,
         proc_status_kb("VmHWM:"));
  fflush(stdout);
  zmq_msg_close(&msg);
  set_int(s, ZMQ_LINGER, 0);
  zmq_close(s);
}

static void do_idle_dealers(void *ctx, const char *ep, long n) {
  void **socks = calloc(n, sizeof *socks);
  for (long i = 0; i < n; i++) {
    socks[i] = zmq_socket(ctx, ZMQ_DEALER);
    if (!socks[i]) die("socket");
    set_int(socks[i], ZMQ_LINGER, 0);
    attach(socks[i], ep, 0);
    if (zmq_send(socks[i], "hi", 2, 0) < 0) die("send");
  }
  ready();
  wait_stdin_eof();
  result_sender("idle_dealers", n, 0);
  for (long i = 0; i < n; i++) zmq_close(socks[i]);
}

/* ROUTER under load: NSOCKETS DEALERs in this process, each with WINDOW
   requests in flight; a reply releases the next request. One warm-up round
   trip per socket first (so every connection is up), then COUNT timed round
   trips in all. Reports like a receiver (count, t_first_us, t_last_us) so
   that the runner can sum several load processes. */
static void do_dealers_load(void *ctx, const char *ep, long count, int size,
                            int nsockets) {
  void **socks = calloc(nsockets, sizeof *socks);
  zmq_pollitem_t *items = calloc(nsockets, sizeof *items);
  char *buf = malloc(size ? size : 1);
  long sent = 0, got = 0, bytes = 0;
  double t0 = 0, t1 = 0, e0 = 0, e1 = 0;
  zmq_msg_t msg;
  if (!socks || !items || !buf) die("alloc");
  fill(buf, size);
  for (int i = 0; i < nsockets; i++) {
    socks[i] = zmq_socket(ctx, ZMQ_DEALER);
    if (!socks[i]) die("socket");
    common_opts(socks[i]);
    set_int(socks[i], ZMQ_LINGER, 0);
    attach(socks[i], ep, 0);
    items[i].socket = socks[i];
    items[i].events = ZMQ_POLLIN;
  }
  ready();
  zmq_msg_init(&msg);
  /* warm-up: one round trip on every socket */
  for (int i = 0; i < nsockets; i++)
    if (zmq_send(socks[i], buf, size, 0) < 0) die("send");
  for (int i = 0; i < nsockets; i++)
    if (zmq_msg_recv(&msg, socks[i], 0) < 0) die("recv");
  t0 = now_mono(), e0 = now_epoch_us();
  for (int w = 0; w < WINDOW; w++)
    for (int i = 0; i < nsockets && sent < count; i++, sent++)
      if (zmq_send(socks[i], buf, size, 0) < 0) die("send");
  while (got < count) {
    int rc = zmq_poll(items, nsockets, IDLE_TIMEOUT_MS);
    if (rc < 0) {
      if (zmq_errno() == EINTR) continue;
      die("poll");
    }
    if (rc == 0) break; /* stalled: report what arrived */
    for (int i = 0; i < nsockets; i++) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      while (got < count && zmq_msg_recv(&msg, socks[i], ZMQ_DONTWAIT) >= 0) {
        if ((int)zmq_msg_size(&msg) != size) {
          fprintf(stderr, "zmq_bench: reply size %zu, expected %d\n",
                  zmq_msg_size(&msg), size);
          exit(1);
        }
        bytes += size;
        got++;
        if (sent < count) {
          if (zmq_send(socks[i], buf, size, 0) < 0) die("send");
          sent++;
        }
      }
    }
    t1 = now_mono(), e1 = now_epoch_us();
  }
  zmq_msg_close(&msg);
  result_throughput("dealers_load", got, bytes, t1 - t0, e0, e1, count,
                    nsockets);
  for (int i = 0; i < nsockets; i++) zmq_close(socks[i]);
  free(buf);
}

static void usage(void) {
  fprintf(stderr,
          "usage: zmq_bench MODE [@|>]ENDPOINT COUNT [SIZE] [NSUBS|NSOCKETS]\n"
          "modes: push_send pull_recv rep_echo req_rtt router_echo "
          "dealer_rtt pub_send sub_recv idle_router idle_dealers dealers_load\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 4) usage();
  const char *mode = argv[1], *ep = argv[2];
  long count = atol(argv[3]);
  int size = argc > 4 ? atoi(argv[4]) : 0;
  int extra = argc > 5 ? atoi(argv[5]) : 1;
  void *ctx = zmq_ctx_new();
  if (!ctx) die("zmq_ctx_new");

  if (!strcmp(mode, "push_send")) do_send(ctx, ep, count, size, 0, 0);
  else if (!strcmp(mode, "pub_send")) do_send(ctx, ep, count, size, 1, extra);
  else if (!strcmp(mode, "pull_recv")) do_recv(ctx, ep, count, 1, 0);
  else if (!strcmp(mode, "sub_recv"))
    do_recv(ctx, ep, count, argc > 4 ? atoi(argv[4]) : 1, 1);
  else if (!strcmp(mode, "rep_echo")) do_echo(ctx, ep, 0);
  else if (!strcmp(mode, "router_echo")) do_echo(ctx, ep, 1);
  else if (!strcmp(mode, "req_rtt")) do_rtt(ctx, ep, count, size, 0);
  else if (!strcmp(mode, "dealer_rtt")) do_rtt(ctx, ep, count, size, 1);
  else if (!strcmp(mode, "idle_router")) do_idle_router(ctx, ep, count);
  else if (!strcmp(mode, "idle_dealers")) {
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, (int)count + 16);
    do_idle_dealers(ctx, ep, count);
  } else if (!strcmp(mode, "dealers_load"))
    do_dealers_load(ctx, ep, count, size, extra);
  else usage();

  zmq_ctx_term(ctx);
  return 0;
}
