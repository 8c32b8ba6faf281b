/* The optional syslog file: buffered appends with size-based rotation
 * (file -> file.1 -> file.2 ... file.KEEP) and reopening for logrotate.
 * These functions do not log; they return 0 or -errno and the caller logs
 * once. */
#ifndef AIRLOCK_SYSLOGD_LOGFILE_H
#define AIRLOCK_SYSLOGD_LOGFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGFILE_BUF_SIZE (64 * 1024)
#define LOGFILE_KEEP_MAX 999

struct logfile {
    char path[PATH_MAX];
    int fd;               /* -1 while closed */
    uint64_t size;        /* bytes in the file plus bytes still buffered */
    uint64_t rotate_size; /* rotate before a line would pass this; 0: never */
    unsigned keep;        /* rotated files kept; 0: the file is emptied */
    size_t len;           /* bytes buffered */
    char buf[LOGFILE_BUF_SIZE];
};

/* Sets up lf (closed) for path with the rotation policy. path must fit. */
int logfile_init(struct logfile *lf,
                 const char *path,
                 uint64_t rotate_size,
                 unsigned keep);

/* Opens (creating the file 0640 and its parent directories 0755) for
 * appending; a symlink at path is refused (O_NOFOLLOW). */
int logfile_open(struct logfile *lf);

/* Appends one line (rotating first when it would pass rotate_size), through
 * the buffer. A line longer than the buffer is written directly. Opens the
 * file first when it is closed. */
int logfile_write(struct logfile *lf, const char *line, size_t len);

/* Writes out the buffer. On failure the buffered lines are dropped (memory
 * stays bounded) and the size is re-read from the file. */
int logfile_flush(struct logfile *lf);

/* Flushes, then renames file.(keep-1) -> file.keep ... file -> file.1 and
 * opens a new, empty file. With keep 0 the file is truncated instead. */
int logfile_rotate(struct logfile *lf);

/* Flushes, closes and opens path again (after an outside rename, SIGHUP). */
int logfile_reopen(struct logfile *lf);

/* Flushes (result ignored; the caller flushes first when it cares) and
 * closes. */
void logfile_close(struct logfile *lf);

/* Parses a size for AIRLOCK_SYSLOG_ROTATE_SIZE: bytes, or a number with a
 * k/K, m/M or g/G suffix (powers of 1024), at most 1 TiB; 0 or -EINVAL /
 * -ERANGE. */
int logfile_parse_size(const char *s, uint64_t *ret);

#endif
