/* File I/O that survives EINTR, short writes, crashes and symlink tricks. */
#ifndef AIRLOCK_COMMON_SAFEIO_H
#define AIRLOCK_COMMON_SAFEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Writes all len bytes, retrying EINTR and short writes; 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);

/* Reads up to cap bytes until EOF into buf; -EFBIG when the file holds more
 * than cap bytes. *ret_len is the byte count. */
int read_all(int fd, void *buf, size_t cap, size_t *ret_len);

/* Replaces path atomically: a temp file in the same directory, written,
 * fchmod'ed to mode, fsync'ed and renamed over path, then the directory is
 * fsync'ed. A symlink at path is replaced, never followed. 0 or -errno; on
 * failure path keeps its old content. */
int
write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* mkdir -p with mode for each created component; 0 or -errno. An existing
 * directory is fine; its mode is left alone. */
int mkdir_parents(const char *path, mode_t mode);

/* Sets FD_CLOEXEC; 0 or -errno. */
int fd_set_cloexec(int fd);

/* Closes every fd >= lowfd except those in keep[0..nkeep). */
void close_fds_from(int lowfd, const int *keep, size_t nkeep);

#endif
