/**
 * The one symbol table of `libmonocoque.so` (`native/monocoque.c`), with the C
 * prototype beside each entry. Everything returns `i32`/`u32`/`pointer`:
 * 64-bit results would be `bigint` and take Deno's slow FFI path. Only
 * `mq_wait` is `nonblocking` (it parks on Deno's blocking pool); everything
 * else is a fast synchronous call that never blocks (host names aside).
 *
 * @module
 */

/** ABI version this binding expects from `mq_version()`. */
export const ABI_VERSION = 2;

/** The FFI interface of `libmonocoque.so`. */
export const SYMBOLS = {
  /** int mq_version(void); */
  mq_version: { parameters: [], result: "i32" },
  /** int mq_errno(void); */
  mq_errno: { parameters: [], result: "i32" },
  /** int mq_strerror(int err, char *out, uint32_t cap); */
  mq_strerror: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** mq_ctx *mq_create(uint32_t sq_entries, uint32_t cq_entries, uint32_t slot_size, uint32_t slot_count, uint32_t max_ops); */
  mq_create: { parameters: ["u32", "u32", "u32", "u32", "u32"], result: "pointer" },
  /** void mq_destroy(mq_ctx *ctx, int leak_kernel_memory); */
  mq_destroy: { parameters: ["pointer", "i32"], result: "void" },
  /** int mq_layout(mq_ctx *ctx, uint32_t *out16); */
  mq_layout: { parameters: ["pointer", "buffer"], result: "i32" },
  /** void *mq_ring_ptr(mq_ctx *ctx); */
  mq_ring_ptr: { parameters: ["pointer"], result: "pointer" },
  /** void *mq_slab_ptr(mq_ctx *ctx); */
  mq_slab_ptr: { parameters: ["pointer"], result: "pointer" },
  /** int mq_slots_alloc(mq_ctx *ctx, uint32_t *out, uint32_t n); */
  mq_slots_alloc: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  /** int mq_slot_alloc(mq_ctx *ctx); */
  mq_slot_alloc: { parameters: ["pointer"], result: "i32" },
  /** int mq_slot_free(mq_ctx *ctx, uint32_t slot); */
  mq_slot_free: { parameters: ["pointer", "u32"], result: "i32" },
  /** int mq_slots_free(mq_ctx *ctx, const uint32_t *in, uint32_t n); */
  mq_slots_free: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  /** int mq_stats(mq_ctx *ctx, uint32_t *out4); */
  mq_stats: { parameters: ["pointer", "buffer"], result: "i32" },
  /** int mq_submit(mq_ctx *ctx); */
  mq_submit: { parameters: ["pointer"], result: "i32" },
  /** int mq_wait(mq_ctx *ctx, uint32_t min_complete); -- blocks: runs on Deno's pool */
  mq_wait: { parameters: ["pointer", "u32"], result: "i32", nonblocking: true },
  /** int mq_prep_recv(mq_ctx *ctx, uint32_t op, int fd, uint32_t slot, uint32_t off, uint32_t len); */
  mq_prep_recv: { parameters: ["pointer", "u32", "i32", "u32", "u32", "u32"], result: "i32" },
  /** int mq_prep_send(mq_ctx *ctx, uint32_t op, int fd, const uint32_t *slots, uint32_t n, uint32_t skip, uint32_t total); */
  mq_prep_send: {
    parameters: ["pointer", "u32", "i32", "buffer", "u32", "u32", "u32"],
    result: "i32",
  },
  /** int mq_prep_pollout(mq_ctx *ctx, uint32_t op, int fd); */
  mq_prep_pollout: { parameters: ["pointer", "u32", "i32"], result: "i32" },
  /** int mq_recv_now(int fd, uint8_t *buf, uint32_t len); -- synchronous, MSG_DONTWAIT */
  mq_recv_now: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** int mq_prep_accept(mq_ctx *ctx, uint32_t op, int fd); */
  mq_prep_accept: { parameters: ["pointer", "u32", "i32"], result: "i32" },
  /** int mq_prep_connect(mq_ctx *ctx, uint32_t op, int fd); */
  mq_prep_connect: { parameters: ["pointer", "u32", "i32"], result: "i32" },
  /** int mq_prep_nop(mq_ctx *ctx, uint32_t op); */
  mq_prep_nop: { parameters: ["pointer", "u32"], result: "i32" },
  /** int mq_prep_cancel(mq_ctx *ctx, uint32_t op); */
  mq_prep_cancel: { parameters: ["pointer", "u32"], result: "i32" },
  /** int mq_tcp_listen(mq_ctx *ctx, const char *host, int port, int backlog); */
  mq_tcp_listen: { parameters: ["pointer", "buffer", "i32", "i32"], result: "i32" },
  /** int mq_ipc_listen(mq_ctx *ctx, const char *path, int backlog); */
  mq_ipc_listen: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  /** int mq_tcp_socket(mq_ctx *ctx, uint32_t op, const char *host, int port); */
  mq_tcp_socket: { parameters: ["pointer", "u32", "buffer", "i32"], result: "i32" },
  /** int mq_ipc_socket(mq_ctx *ctx, uint32_t op, const char *path); */
  mq_ipc_socket: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  /** int mq_adopt(mq_ctx *ctx, int fd); */
  mq_adopt: { parameters: ["pointer", "i32"], result: "i32" },
  /** int mq_nodelay(int fd); */
  mq_nodelay: { parameters: ["i32"], result: "i32" },
  /** int mq_sock_name(int fd, int peer, char *out, uint32_t cap); */
  mq_sock_name: { parameters: ["i32", "i32", "buffer", "u32"], result: "i32" },
  /** int mq_shutdown(int fd); */
  mq_shutdown: { parameters: ["i32"], result: "i32" },
  /** int mq_close_fd(mq_ctx *ctx, int fd); */
  mq_close_fd: { parameters: ["pointer", "i32"], result: "i32" },
  /** int mq_file_id(const char *path); */
  mq_file_id: { parameters: ["buffer"], result: "i32" },
  /** int mq_unlink_if(const char *path, int id); */
  mq_unlink_if: { parameters: ["buffer", "i32"], result: "i32" },
  /** int mq_bell_listen(mq_ctx *ctx, char *out, uint32_t cap); */
  mq_bell_listen: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  /** int mq_bell_accept(mq_ctx *ctx); */
  mq_bell_accept: { parameters: ["pointer"], result: "i32" },
  /** int mq_bell_cancel(mq_ctx *ctx); */
  mq_bell_cancel: { parameters: ["pointer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The opened library's symbols. */
export type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/**
 * The shm:// part of `libmonocoque.so` (`native/shm.c`), opened on its own by
 * `_shm_library.ts`, so shm:// needs neither io_uring nor a library built
 * before these symbols existed to have every io_uring one.
 */
export const SHM_SYMBOLS = {
  /** int mq_shm_errno(void); */
  mq_shm_errno: { parameters: [], result: "i32" },
  /** void *mq_shm_create(uint32_t size, int32_t *out_fd); */
  mq_shm_create: { parameters: ["u32", "buffer"], result: "pointer" },
  /** void *mq_shm_open(const char *path, uint32_t size); */
  mq_shm_open: { parameters: ["buffer", "u32"], result: "pointer" },
  /** int mq_shm_close_fd(int fd); */
  mq_shm_close_fd: { parameters: ["i32"], result: "i32" },
  /** int mq_shm_unmap(void *p, uint32_t size); */
  mq_shm_unmap: { parameters: ["pointer", "u32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The opened shm symbols. */
export type ShmSymbols = Deno.DynamicLibrary<typeof SHM_SYMBOLS>["symbols"];
