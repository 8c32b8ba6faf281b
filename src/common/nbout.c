/* Non-blocking output on a shared fd; see nbout.h for why it reopens. */
#include "common/nbout.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int
nbout_open(struct nbout *o, int fd)
{
    char path[32];
    struct stat st;
    int nfd;

    o->fd = -1;
    o->kind = NBOUT_NONE;
    o->reopen_errno = 0;
    if (fstat(fd, &st) < 0) {
        return -errno;
    }
    o->fd = fd;
    if (S_ISSOCK(st.st_mode)) {
        o->kind = NBOUT_SOCKET;
        return 0;
    }
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) ||
        (S_ISCHR(st.st_mode) && !isatty(fd))) {
        /* Files and /dev/null never wait for a reader. */
        o->kind = NBOUT_PLAIN;
        return 0;
    }
    /* A pipe, FIFO or terminal. O_WRONLY: a FIFO opened for writing
     * alone with O_NONBLOCK fails with ENXIO when no reader exists; a
     * pipe's magic link has no such rule, and a reader exists anyway
     * while the runtime collects our output. */
    (void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    nfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (nfd < 0) {
        o->reopen_errno = errno;
        o->kind = NBOUT_POLLED;
        return 1;
    }
    o->fd = nfd;
    o->kind = NBOUT_REOPENED;
    return 0;
}

ssize_t
nbout_write(const struct nbout *o, const void *buf, size_t len)
{
    ssize_t w;

    for (;;) {
        switch (o->kind) {
        case NBOUT_NONE:
            return (ssize_t)len;
        case NBOUT_SOCKET:
            w = send(o->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
            break;
        case NBOUT_POLLED: {
            struct pollfd p = {o->fd, POLLOUT, 0};
            if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLOUT)) {
                return -EAGAIN;
            }
            w = write(o->fd, buf, len);
            break;
        }
        case NBOUT_REOPENED:
        case NBOUT_PLAIN:
        default:
            w = write(o->fd, buf, len);
            break;
        }
        if (w >= 0) {
            return w;
        }
        if (errno != EINTR) {
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        }
    }
}

int
nbout_poll_fd(const struct nbout *o)
{
    return o->kind == NBOUT_NONE || o->kind == NBOUT_PLAIN ? -1 : o->fd;
}
