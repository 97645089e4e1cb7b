/*
 * libmonocoque: the native half of Monocoque's optional io_uring transport.
 *
 * C owns everything the kernel touches: an mmap'd slab of fixed-size buffer
 * slots, the sockets, and one io_uring (raw syscalls, no liburing). JavaScript
 * (ffi/) prepares submissions with cheap synchronous calls, submits once per
 * turn, and reads completions straight from the mmapped CQ ring; this file
 * never touches the CQ head. Every "awaited" submission can be hard-linked to
 * an 8-byte SEND on a "doorbell" unix socket whose other end Deno reads
 * natively, so a parked JS thread wakes without any helper thread (see
 * /work/shared/research/ffi-io_uring.md, mechanism d3).
 *
 * Conventions: functions return >= 0 on success and -errno on failure; no
 * function blocks except mq_wait (declared nonblocking on the JS side) and
 * host name resolution in mq_tcp_listen/mq_tcp_socket.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MQ_API __attribute__((visibility("default")))
#define MQ_ABI_VERSION 2

/* user_data values reserved for submissions JS does not track. */
#define MQ_UD_BELL 0xFFFFFFFFu
#define MQ_UD_CANCEL 0xFFFFFFFEu

struct mq_op {
  struct msghdr msg;
  struct sockaddr_storage addr;
  socklen_t addrlen;
  uint32_t iov_cap;
  struct iovec *iov;
};

typedef struct mq_ctx {
  int ring_fd;
  uint32_t features;
  /* SQ, written only by C. */
  void *ring;
  size_t ring_size;
  struct io_uring_sqe *sqes;
  size_t sqes_size;
  uint32_t *sq_khead, *sq_ktail, *sq_kflags, *sq_array;
  uint32_t sq_mask, sq_entries, sq_tail;
  struct io_uring_params params;
  /* Slab of fixed-size slots with a LIFO free list. */
  uint8_t *slab;
  size_t slab_size;
  uint32_t slot_size, slot_count, free_top;
  uint32_t *free_list;
  /* Per-operation storage the kernel may read until completion. */
  struct mq_op *ops;
  uint32_t max_ops;
  /* Doorbell: listener (until JS connects) and our end of the connection. */
  int bell_listen_fd, bell_fd;
  uint64_t bell_word;
  int sockets_open;
} mq_ctx;

static __thread int mq_last_errno;

static inline int sys_io_uring_setup(unsigned entries, struct io_uring_params *p) {
  return (int)syscall(__NR_io_uring_setup, entries, p);
}

static inline int sys_io_uring_enter(int fd, unsigned to_submit, unsigned min_complete,
                                     unsigned flags) {
  return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);
}

static uint32_t round_pow2(uint32_t v) {
  uint32_t r = 1;
  while (r < v && r < 0x80000000u) r <<= 1;
  return r;
}

/* ABI version, checked by ffi/ at load time. */
MQ_API int mq_version(void) { return MQ_ABI_VERSION; }

/* errno of the last mq_create failure on this thread. */
MQ_API int mq_errno(void) { return mq_last_errno; }

/* Writes strerror(err) as a NUL-terminated string; returns its length. */
MQ_API int mq_strerror(int err, char *out, uint32_t cap) {
  if (cap == 0) return 0;
  const char *s = strerrordesc_np(err);
  int n = snprintf(out, cap, "%s", s ? s : "Unknown error");
  return n < 0 ? 0 : (n >= (int)cap ? (int)cap - 1 : n);
}

MQ_API void mq_destroy(mq_ctx *ctx, int leak_kernel_memory);

/*
 * Creates a ring with sq_entries submissions and cq_entries completions, a
 * slab of slot_count slots of slot_size bytes (reserved, not committed), and
 * room for max_ops concurrently tracked operations. NULL on failure; the
 * reason is mq_errno().
 */
MQ_API mq_ctx *mq_create(uint32_t sq_entries, uint32_t cq_entries, uint32_t slot_size,
                         uint32_t slot_count, uint32_t max_ops) {
  if (sq_entries == 0 || cq_entries < sq_entries || slot_size < 4096 || slot_size % 4096 ||
      slot_count == 0 || max_ops == 0 || max_ops >= MQ_UD_CANCEL) {
    mq_last_errno = EINVAL;
    return NULL;
  }
  mq_ctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx) {
    mq_last_errno = ENOMEM;
    return NULL;
  }
  ctx->ring_fd = -1;
  ctx->bell_fd = -1;
  ctx->bell_listen_fd = -1;
  ctx->ring = MAP_FAILED;
  ctx->sqes = MAP_FAILED;
  ctx->slab = MAP_FAILED;

  struct io_uring_params *p = &ctx->params;
  p->flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL;
  p->cq_entries = round_pow2(cq_entries);
  int fd = sys_io_uring_setup(round_pow2(sq_entries), p);
  if (fd < 0) goto fail;
  ctx->ring_fd = fd;
  ctx->features = p->features;
  if (!(p->features & IORING_FEAT_SINGLE_MMAP) || !(p->features & IORING_FEAT_NODROP)) {
    errno = ENOSYS;
    goto fail;
  }
  size_t sq_size = p->sq_off.array + p->sq_entries * sizeof(uint32_t);
  size_t cq_size = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
  ctx->ring_size = sq_size > cq_size ? sq_size : cq_size;
  ctx->ring = mmap(NULL, ctx->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                   IORING_OFF_SQ_RING);
  if (ctx->ring == MAP_FAILED) goto fail;
  ctx->sqes_size = p->sq_entries * sizeof(struct io_uring_sqe);
  ctx->sqes = mmap(NULL, ctx->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                   IORING_OFF_SQES);
  if (ctx->sqes == MAP_FAILED) goto fail;
  uint8_t *r = ctx->ring;
  ctx->sq_khead = (uint32_t *)(r + p->sq_off.head);
  ctx->sq_ktail = (uint32_t *)(r + p->sq_off.tail);
  ctx->sq_kflags = (uint32_t *)(r + p->sq_off.flags);
  ctx->sq_array = (uint32_t *)(r + p->sq_off.array);
  ctx->sq_mask = *(uint32_t *)(r + p->sq_off.ring_mask);
  ctx->sq_entries = p->sq_entries;
  ctx->sq_tail = *ctx->sq_ktail;
  for (uint32_t i = 0; i < p->sq_entries; i++) ctx->sq_array[i] = i;

  ctx->slot_size = slot_size;
  ctx->slot_count = slot_count;
  ctx->slab_size = (size_t)slot_size * slot_count;
  ctx->slab = mmap(NULL, ctx->slab_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (ctx->slab == MAP_FAILED) goto fail;
  ctx->free_list = malloc(sizeof(uint32_t) * slot_count);
  ctx->ops = calloc(max_ops, sizeof(struct mq_op));
  if (!ctx->free_list || !ctx->ops) {
    errno = ENOMEM;
    goto fail;
  }
  ctx->max_ops = max_ops;
  /* Lowest slots on top, so a light load keeps touching the same pages. */
  for (uint32_t i = 0; i < slot_count; i++) ctx->free_list[i] = slot_count - 1 - i;
  ctx->free_top = slot_count;
  ctx->bell_word = 1;
  return ctx;
fail:
  mq_last_errno = errno ? errno : EINVAL;
  mq_destroy(ctx, 0);
  return NULL;
}

/*
 * Closes the ring, the doorbell and the slab. JS calls it only once no
 * submission is in flight; leak_kernel_memory != 0 (the finalizer's safety
 * net, where that is unknown) keeps the slab and op storage mapped so a late
 * completion cannot write into reused memory.
 */
MQ_API void mq_destroy(mq_ctx *ctx, int leak_kernel_memory) {
  if (!ctx) return;
  if (ctx->bell_listen_fd >= 0) close(ctx->bell_listen_fd);
  if (ctx->bell_fd >= 0) close(ctx->bell_fd);
  if (ctx->sqes != MAP_FAILED) munmap(ctx->sqes, ctx->sqes_size);
  if (ctx->ring != MAP_FAILED) munmap(ctx->ring, ctx->ring_size);
  if (ctx->ring_fd >= 0) close(ctx->ring_fd);
  if (leak_kernel_memory) return;
  if (ctx->slab != MAP_FAILED) munmap(ctx->slab, ctx->slab_size);
  if (ctx->ops) {
    for (uint32_t i = 0; i < ctx->max_ops; i++) free(ctx->ops[i].iov);
    free(ctx->ops);
  }
  free(ctx->free_list);
  free(ctx);
}

/*
 * Fills out[0..15] with what JS needs to read the rings: offsets into the
 * mapping returned by mq_ring_ptr, sizes and masks. Returns 16.
 */
MQ_API int mq_layout(mq_ctx *ctx, uint32_t *out) {
  struct io_uring_params *p = &ctx->params;
  out[0] = (uint32_t)ctx->ring_size;
  out[1] = p->cq_off.head;
  out[2] = p->cq_off.tail;
  out[3] = p->cq_off.ring_mask;
  out[4] = p->cq_entries;
  out[5] = p->cq_off.cqes;
  out[6] = p->sq_off.flags;
  out[7] = p->sq_entries;
  out[8] = ctx->slot_size;
  out[9] = ctx->slot_count;
  out[10] = ctx->max_ops;
  out[11] = ctx->features;
  out[12] = (uint32_t)sizeof(struct io_uring_cqe);
  out[13] = MQ_UD_BELL;
  out[14] = MQ_UD_CANCEL;
  out[15] = MQ_ABI_VERSION;
  return 16;
}

/* The shared SQ/CQ ring mapping (IORING_FEAT_SINGLE_MMAP). */
MQ_API void *mq_ring_ptr(mq_ctx *ctx) { return ctx->ring; }

/* Base of the slab: slot i is at base + i * slot_size. */
MQ_API void *mq_slab_ptr(mq_ctx *ctx) { return ctx->slab; }

/* Pops up to n free slots into out; returns how many. */
MQ_API int mq_slots_alloc(mq_ctx *ctx, uint32_t *out, uint32_t n) {
  uint32_t got = 0;
  while (got < n && ctx->free_top > 0) out[got++] = ctx->free_list[--ctx->free_top];
  return (int)got;
}

/* One free slot, or -ENOBUFS. */
MQ_API int mq_slot_alloc(mq_ctx *ctx) {
  if (ctx->free_top == 0) return -ENOBUFS;
  return (int)ctx->free_list[--ctx->free_top];
}

/* Returns a slot to the free list; -EINVAL for a bad index or a double free. */
MQ_API int mq_slot_free(mq_ctx *ctx, uint32_t slot) {
  if (slot >= ctx->slot_count || ctx->free_top >= ctx->slot_count) return -EINVAL;
  ctx->free_list[ctx->free_top++] = slot;
  return 0;
}

/* Returns n slots from in[] to the free list. */
MQ_API int mq_slots_free(mq_ctx *ctx, const uint32_t *in, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    int rc = mq_slot_free(ctx, in[i]);
    if (rc < 0) return rc;
  }
  return 0;
}

/*
 * out[0] slots in use, out[1] sockets open (created or adopted, not yet
 * closed), out[2] SQEs prepared but not yet submitted, out[3] 1 if the
 * doorbell is connected.
 */
MQ_API int mq_stats(mq_ctx *ctx, uint32_t *out) {
  out[0] = ctx->slot_count - ctx->free_top;
  out[1] = (uint32_t)ctx->sockets_open;
  out[2] = ctx->sq_tail - __atomic_load_n(ctx->sq_khead, __ATOMIC_ACQUIRE);
  out[3] = ctx->bell_fd >= 0;
  return 4;
}

/* ---- submission ---- */

static int submit_pending(mq_ctx *ctx, unsigned flags) {
  __atomic_store_n(ctx->sq_ktail, ctx->sq_tail, __ATOMIC_RELEASE);
  unsigned pending = ctx->sq_tail - __atomic_load_n(ctx->sq_khead, __ATOMIC_ACQUIRE);
  if (__atomic_load_n(ctx->sq_kflags, __ATOMIC_RELAXED) & IORING_SQ_CQ_OVERFLOW)
    flags |= IORING_ENTER_GETEVENTS;
  if (pending == 0 && !(flags & IORING_ENTER_GETEVENTS)) return 0;
  int rc;
  do rc = sys_io_uring_enter(ctx->ring_fd, pending, 0, flags);
  while (rc < 0 && errno == EINTR);
  return rc < 0 ? -errno : rc;
}

/* Reserves n consecutive SQEs (a link chain must go in one submission). */
static struct io_uring_sqe *get_sqes(mq_ctx *ctx, unsigned n) {
  for (int attempt = 0; attempt < 2; attempt++) {
    uint32_t head = __atomic_load_n(ctx->sq_khead, __ATOMIC_ACQUIRE);
    if (ctx->sq_entries - (ctx->sq_tail - head) >= n) {
      struct io_uring_sqe *first = NULL;
      for (unsigned i = 0; i < n; i++) {
        struct io_uring_sqe *sqe = &ctx->sqes[ctx->sq_tail & ctx->sq_mask];
        memset(sqe, 0, sizeof *sqe);
        ctx->sq_tail++;
        if (!first) first = sqe;
      }
      return first;
    }
    if (submit_pending(ctx, 0) < 0) return NULL;
  }
  return NULL;
}

static struct io_uring_sqe *next_sqe(mq_ctx *ctx, struct io_uring_sqe *sqe) {
  size_t idx = (size_t)(sqe - ctx->sqes);
  return &ctx->sqes[(idx + 1) & ctx->sq_mask];
}

/* An SQE for op, hard-linked to a doorbell SEND if the doorbell is up. */
static struct io_uring_sqe *op_sqe(mq_ctx *ctx, uint32_t op) {
  int bell = ctx->bell_fd >= 0;
  struct io_uring_sqe *sqe = get_sqes(ctx, bell ? 2 : 1);
  if (!sqe) return NULL;
  sqe->user_data = op;
  if (bell) {
    sqe->flags |= IOSQE_IO_HARDLINK;
    struct io_uring_sqe *b = next_sqe(ctx, sqe);
    b->opcode = IORING_OP_SEND;
    b->fd = ctx->bell_fd;
    b->addr = (uint64_t)(uintptr_t)&ctx->bell_word;
    b->len = sizeof ctx->bell_word;
    b->msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT;
    if (ctx->features & IORING_FEAT_CQE_SKIP) b->flags = IOSQE_CQE_SKIP_SUCCESS;
    b->user_data = MQ_UD_BELL;
  }
  return sqe;
}

/* Submits every prepared SQE; returns the number submitted or -errno. */
MQ_API int mq_submit(mq_ctx *ctx) { return submit_pending(ctx, 0); }

/*
 * Blocks until at least min_complete completions are in the CQ. Declared
 * nonblocking on the JS side (runs on Deno's blocking pool); submits nothing,
 * so the JS thread may keep preparing and submitting meanwhile.
 */
MQ_API int mq_wait(mq_ctx *ctx, uint32_t min_complete) {
  int rc;
  do rc = sys_io_uring_enter(ctx->ring_fd, 0, min_complete, IORING_ENTER_GETEVENTS);
  while (rc < 0 && errno == EINTR);
  return rc < 0 ? -errno : rc;
}

/* RECV of up to len bytes into slot at offset off. */
MQ_API int mq_prep_recv(mq_ctx *ctx, uint32_t op, int fd, uint32_t slot, uint32_t off,
                        uint32_t len) {
  if (op >= ctx->max_ops || slot >= ctx->slot_count || off > ctx->slot_size ||
      len > ctx->slot_size - off)
    return -EINVAL;
  struct io_uring_sqe *sqe = op_sqe(ctx, op);
  if (!sqe) return -EBUSY;
  sqe->opcode = IORING_OP_RECV;
  sqe->fd = fd;
  sqe->addr = (uint64_t)(uintptr_t)(ctx->slab + (size_t)slot * ctx->slot_size + off);
  sqe->len = len;
  return 0;
}

/*
 * SENDMSG (MSG_WAITALL) of total bytes packed across slots[0..n): every slot
 * full except the last; the first skip bytes are left out (resuming after a
 * short send). The iovecs live in the op's storage until JS reuses the op.
 */
MQ_API int mq_prep_send(mq_ctx *ctx, uint32_t op, int fd, const uint32_t *slots, uint32_t n,
                        uint32_t skip, uint32_t total) {
  if (op >= ctx->max_ops || n == 0 || n > 1024 || skip >= total ||
      total > (uint64_t)n * ctx->slot_size)
    return -EINVAL;
  struct mq_op *o = &ctx->ops[op];
  if (o->iov_cap < n) {
    struct iovec *iov = realloc(o->iov, n * sizeof *iov);
    if (!iov) return -ENOMEM;
    o->iov = iov;
    o->iov_cap = n;
  }
  uint32_t cnt = 0, pos = 0;
  for (uint32_t i = 0; i < n && pos < total; i++) {
    if (slots[i] >= ctx->slot_count) return -EINVAL;
    uint32_t len = total - pos < ctx->slot_size ? total - pos : ctx->slot_size;
    uint32_t start = 0;
    if (skip > pos) start = skip - pos < len ? skip - pos : len;
    if (start < len) {
      o->iov[cnt].iov_base = ctx->slab + (size_t)slots[i] * ctx->slot_size + start;
      o->iov[cnt].iov_len = len - start;
      cnt++;
    }
    pos += len;
  }
  memset(&o->msg, 0, sizeof o->msg);
  o->msg.msg_iov = o->iov;
  o->msg.msg_iovlen = cnt;
  /* No doorbell: a send into a socket with room completes inline, inside the
   * io_uring_enter that submits it, and JS reaps it right there; a linked
   * doorbell would only wake the event loop for a completion already seen.
   * A send that has to wait for room is watched by mq_prep_pollout. */
  struct io_uring_sqe *sqe = get_sqes(ctx, 1);
  if (sqe) sqe->user_data = op;
  if (!sqe) return -EBUSY;
  sqe->opcode = IORING_OP_SENDMSG;
  sqe->fd = fd;
  sqe->addr = (uint64_t)(uintptr_t)&o->msg;
  sqe->len = 1;
  sqe->msg_flags = MSG_WAITALL | MSG_NOSIGNAL;
  return 0;
}

/*
 * POLL_ADD (one shot) for POLLOUT on fd, hard-linked to a doorbell SEND: wakes
 * a parked JS thread once a send left in flight (no room in the socket
 * buffer) can progress. The send's own completion comes separately; a wake
 * before it is harmless (JS re-arms the watch before parking again).
 */
MQ_API int mq_prep_pollout(mq_ctx *ctx, uint32_t op, int fd) {
  if (op >= ctx->max_ops) return -EINVAL;
  struct io_uring_sqe *sqe = op_sqe(ctx, op);
  if (!sqe) return -EBUSY;
  sqe->opcode = IORING_OP_POLL_ADD;
  sqe->fd = fd;
  sqe->poll32_events = POLLOUT | POLLERR | POLLHUP;
  return 0;
}

/*
 * recv(MSG_DONTWAIT) of up to len bytes into buf, now, on the calling thread:
 * bytes, 0 at end of stream, or -errno (-EAGAIN: nothing there). buf may be
 * JavaScript memory: the call is synchronous, so the kernel is done with it
 * when this returns. Used while a stream is busy (the last receive filled its
 * buffer), where one direct system call into the reader's buffer replaces a
 * RECV, its doorbell, a wake and the copy out of the slab.
 */
MQ_API int mq_recv_now(int fd, uint8_t *buf, uint32_t len) {
  ssize_t n;
  do n = recv(fd, buf, len, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : (int)n;
}

/* ACCEPT on a listening socket; the completion's res is the new fd. */
MQ_API int mq_prep_accept(mq_ctx *ctx, uint32_t op, int fd) {
  if (op >= ctx->max_ops) return -EINVAL;
  struct io_uring_sqe *sqe = op_sqe(ctx, op);
  if (!sqe) return -EBUSY;
  sqe->opcode = IORING_OP_ACCEPT;
  sqe->fd = fd;
  sqe->accept_flags = SOCK_CLOEXEC;
  return 0;
}

/* CONNECT fd to the address mq_tcp_socket/mq_ipc_socket stored for op. */
MQ_API int mq_prep_connect(mq_ctx *ctx, uint32_t op, int fd) {
  if (op >= ctx->max_ops || ctx->ops[op].addrlen == 0) return -EINVAL;
  struct mq_op *o = &ctx->ops[op];
  struct io_uring_sqe *sqe = op_sqe(ctx, op);
  if (!sqe) return -EBUSY;
  sqe->opcode = IORING_OP_CONNECT;
  sqe->fd = fd;
  sqe->addr = (uint64_t)(uintptr_t)&o->addr;
  sqe->off = o->addrlen;
  return 0;
}

/* NOP completing as op (used to kick a waiter). */
MQ_API int mq_prep_nop(mq_ctx *ctx, uint32_t op) {
  if (op >= ctx->max_ops) return -EINVAL;
  struct io_uring_sqe *sqe = op_sqe(ctx, op);
  if (!sqe) return -EBUSY;
  sqe->opcode = IORING_OP_NOP;
  return 0;
}

/*
 * ASYNC_CANCEL of the submission with user_data op. Its own completion is
 * posted only on failure (already done), as MQ_UD_CANCEL; the cancelled op
 * completes with -ECANCELED and rings its own doorbell.
 */
MQ_API int mq_prep_cancel(mq_ctx *ctx, uint32_t op) {
  struct io_uring_sqe *sqe = get_sqes(ctx, 1);
  if (!sqe) return -EBUSY;
  sqe->opcode = IORING_OP_ASYNC_CANCEL;
  sqe->fd = -1;
  sqe->addr = op;
  sqe->user_data = MQ_UD_CANCEL;
  if (ctx->features & IORING_FEAT_CQE_SKIP) sqe->flags = IOSQE_CQE_SKIP_SUCCESS;
  return 0;
}

/* ---- sockets ---- */

static int resolve(const char *host, int port, int passive, struct sockaddr_storage *ss,
                   socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (port < 0 || port > 65535) return -EINVAL;
  if (host[0] == 0 || strcmp(host, "*") == 0) {
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    in->sin_addr.s_addr = htonl(passive ? INADDR_ANY : INADDR_LOOPBACK);
    *len = sizeof *in;
    return 0;
  }
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  char service[8];
  snprintf(service, sizeof service, "%d", port);
  int rc = getaddrinfo(host, service, &hints, &res);
  if (rc != 0) return rc == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
  struct addrinfo *pick = res;
  /* Like libzmq without the ipv6 option: prefer IPv4. */
  for (struct addrinfo *a = res; a; a = a->ai_next)
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
  memcpy(ss, pick->ai_addr, pick->ai_addrlen);
  *len = pick->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}

static int unix_addr(const char *path, struct sockaddr_un *un, socklen_t *len) {
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof un->sun_path) return -ENAMETOOLONG;
  memset(un, 0, sizeof *un);
  un->sun_family = AF_UNIX;
  memcpy(un->sun_path, path, n);
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
  return 0;
}

static int listen_on(mq_ctx *ctx, const struct sockaddr *sa, socklen_t len, int backlog) {
  int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (sa->sa_family != AF_UNIX) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  if (bind(fd, sa, len) < 0 || listen(fd, backlog) < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  ctx->sockets_open++;
  return fd;
}

/* Listening TCP socket on host ("*" = every IPv4 interface) and port; fd or -errno. */
MQ_API int mq_tcp_listen(mq_ctx *ctx, const char *host, int port, int backlog) {
  struct sockaddr_storage ss;
  socklen_t len;
  int rc = resolve(host, port, 1, &ss, &len);
  if (rc < 0) return rc;
  return listen_on(ctx, (struct sockaddr *)&ss, len, backlog);
}

/*
 * Listening unix socket at path; fd or -errno. A socket file nobody listens
 * on (left by a dead process) is replaced, as libzmq does; a live one gives
 * -EADDRINUSE.
 */
MQ_API int mq_ipc_listen(mq_ctx *ctx, const char *path, int backlog) {
  struct sockaddr_un un;
  socklen_t len;
  int rc = unix_addr(path, &un, &len);
  if (rc < 0) return rc;
  rc = listen_on(ctx, (struct sockaddr *)&un, len, backlog);
  if (rc != -EADDRINUSE) return rc;
  struct stat st;
  if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode)) return rc;
  int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (probe < 0) return rc;
  int live = connect(probe, (struct sockaddr *)&un, len) == 0 || errno == EAGAIN;
  close(probe);
  if (live) return -EADDRINUSE;
  unlink(path);
  return listen_on(ctx, (struct sockaddr *)&un, len, backlog);
}

static int connect_socket(mq_ctx *ctx, uint32_t op, int family) {
  struct mq_op *o = &ctx->ops[op];
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    o->addrlen = 0;
    return -errno;
  }
  ctx->sockets_open++;
  return fd;
}

/* A TCP socket for op, with host:port resolved into op's storage for mq_prep_connect. */
MQ_API int mq_tcp_socket(mq_ctx *ctx, uint32_t op, const char *host, int port) {
  if (op >= ctx->max_ops) return -EINVAL;
  struct mq_op *o = &ctx->ops[op];
  o->addrlen = 0;
  int rc = resolve(host, port, 0, &o->addr, &o->addrlen);
  if (rc < 0) return rc;
  return connect_socket(ctx, op, o->addr.ss_family);
}

/* A unix socket for op, with path stored in op's storage for mq_prep_connect. */
MQ_API int mq_ipc_socket(mq_ctx *ctx, uint32_t op, const char *path) {
  if (op >= ctx->max_ops) return -EINVAL;
  struct mq_op *o = &ctx->ops[op];
  o->addrlen = 0;
  int rc = unix_addr(path, (struct sockaddr_un *)&o->addr, &o->addrlen);
  if (rc < 0) return rc;
  return connect_socket(ctx, op, AF_UNIX);
}

/* Takes ownership of an fd from an ACCEPT completion: counts it, sets TCP_NODELAY. */
MQ_API int mq_nodelay(int fd);
MQ_API int mq_adopt(mq_ctx *ctx, int fd) {
  ctx->sockets_open++;
  return mq_nodelay(fd);
}

/* Sets TCP_NODELAY on a connected TCP socket (no-op for unix sockets). */
MQ_API int mq_nodelay(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return -errno;
  if (ss.ss_family == AF_UNIX) return 0;
  int one = 1;
  return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ? -errno : 0;
}

/*
 * The local (peer = 0) or remote (peer = 1) address of fd: writes the host
 * (IPv4/IPv6 text) or unix path to out, returns the port (0 for unix) or
 * -errno. Returns -EAFNOSUPPORT for other families.
 */
MQ_API int mq_sock_name(int fd, int peer, char *out, uint32_t cap) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
                : getsockname(fd, (struct sockaddr *)&ss, &len);
  if (rc < 0) return -errno;
  if (cap == 0) return -EINVAL;
  out[0] = 0;
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    if (!inet_ntop(AF_INET, &in->sin_addr, out, cap)) return -errno;
    return ntohs(in->sin_port);
  }
  if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (!inet_ntop(AF_INET6, &in6->sin6_addr, out, cap)) return -errno;
    return ntohs(in6->sin6_port);
  }
  if (ss.ss_family == AF_UNIX) {
    struct sockaddr_un *un = (struct sockaddr_un *)&ss;
    size_t n = len > offsetof(struct sockaddr_un, sun_path)
                   ? len - offsetof(struct sockaddr_un, sun_path)
                   : 0;
    if (n > 0 && un->sun_path[0] == 0) n = 0; /* abstract or unnamed */
    n = strnlen(un->sun_path, n);
    if (n >= cap) n = cap - 1;
    memcpy(out, un->sun_path, n);
    out[n] = 0;
    return 0;
  }
  return -EAFNOSUPPORT;
}

/* shutdown(fd, SHUT_RDWR): pending RECVs see end of stream, peers see FIN. */
MQ_API int mq_shutdown(int fd) { return shutdown(fd, SHUT_RDWR) < 0 ? -errno : 0; }

/*
 * Closes a socket created by or adopted into ctx. Submitted operations keep
 * their own reference to the socket, so JS submits before closing.
 */
MQ_API int mq_close_fd(mq_ctx *ctx, int fd) {
  ctx->sockets_open--;
  return close(fd) < 0 ? -errno : 0;
}

static int file_id(const struct stat *st) {
  uint64_t h = (uint64_t)st->st_dev * 0x9E3779B97F4A7C15ull ^ (uint64_t)st->st_ino;
  h ^= h >> 29;
  return (int)(h & 0x7FFFFFFF);
}

/* A 31-bit identity of the file at path (device and inode), or -errno. */
MQ_API int mq_file_id(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) return -errno;
  return file_id(&st);
}

/*
 * unlink(path) if the file there is still the one mq_file_id saw (an ipc
 * listener removes its own socket file, not a successor's).
 */
MQ_API int mq_unlink_if(const char *path, int id) {
  struct stat st;
  if (stat(path, &st) < 0) return -errno;
  if (!S_ISSOCK(st.st_mode) || file_id(&st) != id) return -ESTALE;
  return unlink(path) < 0 ? -errno : 0;
}

/* ---- doorbell ---- */

/*
 * Listens on a fresh abstract unix address for the doorbell and writes it
 * (without the leading NUL) to out. JS then connects with Deno.connect and
 * calls mq_bell_accept.
 */
MQ_API int mq_bell_listen(mq_ctx *ctx, char *out, uint32_t cap) {
  if (ctx->bell_listen_fd >= 0 || ctx->bell_fd >= 0) return -EALREADY;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  struct sockaddr_un un = {0};
  un.sun_family = AF_UNIX;
  int n = snprintf(un.sun_path + 1, sizeof un.sun_path - 1, "monocoque-bell-%d-%lx-%lx",
                   (int)getpid(), (unsigned long)(uintptr_t)ctx,
                   (unsigned long)(ts.tv_nsec ^ ts.tv_sec));
  if (n < 0 || (uint32_t)n >= cap) return -ENAMETOOLONG;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -errno;
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
  if (bind(fd, (struct sockaddr *)&un, len) < 0 || listen(fd, 1) < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  memcpy(out, un.sun_path + 1, (size_t)n + 1);
  ctx->bell_listen_fd = fd;
  return n;
}

/*
 * Accepts JS's doorbell connection (already in the backlog once Deno.connect
 * resolved), checks it comes from this process, and closes the listener.
 * From now on every op is hard-linked to a doorbell SEND.
 */
MQ_API int mq_bell_accept(mq_ctx *ctx) {
  if (ctx->bell_listen_fd < 0) return -EINVAL;
  int fd = accept4(ctx->bell_listen_fd, NULL, NULL, SOCK_CLOEXEC);
  int err = fd < 0 ? errno : 0;
  close(ctx->bell_listen_fd);
  ctx->bell_listen_fd = -1;
  if (fd < 0) return -err;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid != getpid()) {
    close(fd);
    return -EACCES;
  }
  ctx->bell_fd = fd;
  return 0;
}

/* Gives up on the doorbell (JS could not connect): closes the listener. */
MQ_API int mq_bell_cancel(mq_ctx *ctx) {
  if (ctx->bell_listen_fd >= 0) close(ctx->bell_listen_fd);
  ctx->bell_listen_fd = -1;
  return 0;
}
