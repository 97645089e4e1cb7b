/*
 * libmonocoque, shm part: the shared mappings behind Monocoque's shm://
 * transport (ffi/_shm*.ts). Four small calls, nothing else: the rings, their
 * indices and the wake-ups are all handled in JavaScript on a view of the
 * mapping (Deno.UnsafePointerView.getArrayBuffer).
 *
 * The binder's mapping is a sealed memfd: F_SEAL_SHRINK and F_SEAL_GROW mean
 * no peer can truncate it under us (an access past the end of a truncated
 * file mapping is SIGBUS, which would kill the process). The connecter opens
 * it by path (/proc/<binder pid>/fd/<fd>) and refuses a file that is not
 * sealed or is smaller than asked for.
 *
 * Conventions as in monocoque.c: failures return NULL or -errno; the errno
 * of a NULL result is mq_shm_errno().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MQ_API __attribute__((visibility("default")))
#define MQ_SHM_SEALS (F_SEAL_SHRINK | F_SEAL_GROW)

static __thread int mq_shm_last_errno;

/* int mq_shm_errno(void); the errno of the last NULL result on this thread. */
MQ_API int mq_shm_errno(void) { return mq_shm_last_errno; }

static void *fail(int fd) {
  mq_shm_last_errno = errno ? errno : EINVAL;
  if (fd >= 0) close(fd);
  return NULL;
}

/*
 * void *mq_shm_create(uint32_t size, int32_t *out_fd);
 * A new sealed memfd of `size` zeroed bytes, mapped shared. The fd stays open
 * (written to *out_fd) until the peer has opened it; close it with
 * mq_shm_close_fd.
 */
MQ_API void *mq_shm_create(uint32_t size, int32_t *out_fd) {
  errno = 0;
  int fd = memfd_create("monocoque-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return fail(-1);
  if (ftruncate(fd, size) < 0) return fail(fd);
  if (fcntl(fd, F_ADD_SEALS, MQ_SHM_SEALS | F_SEAL_SEAL) < 0) return fail(fd);
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return fail(fd);
  *out_fd = fd;
  return p;
}

/*
 * void *mq_shm_open(const char *path, uint32_t size);
 * Maps the peer's memfd by path; EPROTO unless it is sealed against shrinking
 * and growing and at least `size` bytes long.
 */
MQ_API void *mq_shm_open(const char *path, uint32_t size) {
  errno = 0;
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return fail(-1);
  struct stat st;
  if (fstat(fd, &st) < 0) return fail(fd);
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0) return fail(fd);
  if ((seals & MQ_SHM_SEALS) != MQ_SHM_SEALS || st.st_size < (off_t)size) {
    errno = EPROTO;
    return fail(fd);
  }
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return fail(fd);
  close(fd); /* the mapping keeps the memory */
  return p;
}

/* int mq_shm_close_fd(int fd); */
MQ_API int mq_shm_close_fd(int fd) { return close(fd) < 0 ? -errno : 0; }

/* int mq_shm_unmap(void *p, uint32_t size); */
MQ_API int mq_shm_unmap(void *p, uint32_t size) { return munmap(p, size) < 0 ? -errno : 0; }
