#include "syslogd/output.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

size_t
output_next_chunk(const char *buf, size_t len)
{
    const char *nl;

    if (len <= PIPE_BUF) {
        return len;
    }
    nl = memrchr(buf, '\n', PIPE_BUF);
    if (nl == NULL) {
        nl = memchr(buf, '\n', len);
    }
    return nl != NULL ? (size_t)(nl - buf) + 1 : len;
}

int
output_flush(struct output *o)
{
    size_t off = 0;
    int r = 0;

    while (off < o->len) {
        size_t chunk = output_next_chunk(o->buf + off, o->len - off);
        ssize_t n = write(o->fd, o->buf + off, chunk);

        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            /* Wait for room, as a blocking write would. */
            struct pollfd p = {.fd = o->fd, .events = POLLOUT};
            (void)poll(&p, 1, 1000);
            continue;
        }
        r = n < 0 ? -errno : -EIO;
        break;
    }
    o->len = 0;
    return r;
}
