/* Output that never blocks the writer: a second, non-blocking handle on an
 * fd PID 1 shares with others (the container's stdout and stderr).
 *
 * O_NONBLOCK is a flag of the open file description, which the app shares:
 * setting it on fd 1 would make the app's own writes fail with EAGAIN. So
 * the handle is a new open file description of the same object instead:
 * for a pipe, FIFO or terminal, open(2) of /proc/self/fd/N (proc(5): the
 * magic link opens the object itself) with O_NONBLOCK; for a socket,
 * send(2) with MSG_DONTWAIT, which needs no flag at all. A regular file or
 * /dev/null never blocks and is written as it is. */
#ifndef AIRLOCK_COMMON_NBOUT_H
#define AIRLOCK_COMMON_NBOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum nbout_kind {
    NBOUT_NONE = 0, /* not set up: writes go nowhere */
    NBOUT_REOPENED, /* our own O_NONBLOCK description of a pipe/tty */
    NBOUT_SOCKET,   /* send(MSG_DONTWAIT) on the shared fd */
    NBOUT_PLAIN,    /* a regular file or device that does not block */
    NBOUT_POLLED,   /* no handle could be had: write only after poll(2)
                     * says POLLOUT, a best effort (see nbout_open) */
};

struct nbout {
    int fd; /* what to write to (ours when REOPENED) */
    enum nbout_kind kind;
    int reopen_errno; /* NBOUT_POLLED: why the reopen failed */
};

/* Sets *o up for fd. Returns 0, or -errno when fd is not open (then *o
 * writes nowhere). When no non-blocking handle can be had for a pipe or
 * terminal (/proc not mounted: ENOENT; a non-root airlock and a pipe the
 * runtime made as root: EACCES), falls back to NBOUT_POLLED and returns 1,
 * with o->reopen_errno saying why, so the caller can say so once. The
 * handle is close-on-exec. */
int nbout_open(struct nbout *o, int fd);

/* Writes up to len bytes without blocking. Returns the count written,
 * -EAGAIN when nothing could be written now, or another -errno (EPIPE
 * when nobody reads any more). A pipe write of at most PIPE_BUF bytes is
 * whole or nothing (pipe(7)). */
ssize_t nbout_write(const struct nbout *o, const void *buf, size_t len);

/* The fd to poll for POLLOUT while output is pending, or -1. */
int nbout_poll_fd(const struct nbout *o);

#endif
