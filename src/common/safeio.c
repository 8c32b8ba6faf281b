#include "common/safeio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int
write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int
read_all(int fd, void *buf, size_t cap, size_t *ret_len)
{
    size_t len = 0;
    char probe;

    for (;;) {
        ssize_t n;
        if (len < cap) {
            n = read(fd, (char *)buf + len, cap - len);
        } else {
            /* Full: one more byte tells "exactly cap" from "too big". */
            n = read(fd, &probe, 1);
            if (n > 0) {
                return -EFBIG;
            }
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
    }
    *ret_len = len;
    return 0;
}

static int
fsync_parent_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t len;
    int fd, r = 0;

    if (slash == NULL) {
        strcpy(dir, ".");
    } else {
        len = slash == path ? 1 : (size_t)(slash - path);
        if (len >= sizeof(dir)) {
            return -ENAMETOOLONG;
        }
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    if (fsync(fd) < 0) {
        r = -errno;
    }
    (void)close(fd);
    return r;
}

int
write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[PATH_MAX];
    int fd = -1, r, n;

    /* The pid keeps two writers of the same path from sharing a temp file. */
    n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    (void)unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -errno;
    }
    r = write_all(fd, data, len);
    if (r == 0 && fchmod(fd, mode) < 0) {
        r = -errno;
    }
    if (r == 0 && fsync(fd) < 0) {
        r = -errno;
    }
    if (close(fd) < 0 && r == 0) {
        r = -errno;
    }
    if (r == 0 && rename(tmp, path) < 0) {
        r = -errno;
    }
    if (r < 0) {
        (void)unlink(tmp);
        return r;
    }
    return fsync_parent_dir(path);
}

int
mkdir_parents(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(buf)) {
        return -ENAMETOOLONG;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1;; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(buf, mode) < 0 && errno != EEXIST) {
                return -errno;
            }
            if (end) {
                break;
            }
            *p = '/';
        }
    }
    return 0;
}

int
fd_set_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);

    if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
        return -errno;
    }
    return 0;
}

static void
close_span(unsigned lo, unsigned hi)
{
    if (lo > hi) {
        return;
    }
    /* The raw syscall: musl (make static) has no close_range() wrapper. */
    if (syscall(SYS_close_range, lo, hi, 0) == 0) {
        return;
    }
    /* Kernels before 5.9 lack close_range: close one by one, bounded. */
    if (hi > 65535) {
        hi = 65535;
    }
    for (unsigned fd = lo; fd <= hi; fd++) {
        (void)close((int)fd);
    }
}

void
close_fds_from(int lowfd, const int *keep, size_t nkeep)
{
    unsigned lo = (unsigned)lowfd;

    for (;;) {
        /* The smallest kept fd at or above lo bounds the next span. */
        unsigned next = ~0U;
        for (size_t i = 0; i < nkeep; i++) {
            if (keep[i] >= 0 && (unsigned)keep[i] >= lo &&
                (unsigned)keep[i] < next) {
                next = (unsigned)keep[i];
            }
        }
        if (next == ~0U) {
            close_span(lo, ~0U);
            return;
        }
        if (next > lo) {
            close_span(lo, next - 1);
        }
        lo = next + 1;
    }
}
