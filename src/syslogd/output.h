/* Buffered line output to stdout: whole lines, in writes that a pipe
 * shared with other writers keeps atomic. Does not log: results are 0 or
 * -errno and the caller logs once. */
#ifndef AIRLOCK_SYSLOGD_OUTPUT_H
#define AIRLOCK_SYSLOGD_OUTPUT_H

#include <stddef.h>

#define OUTPUT_BUF_SIZE (128 * 1024)

struct output {
    int fd;
    size_t len;
    char buf[OUTPUT_BUF_SIZE];
};

/* Size of the next write for len buffered bytes (complete lines): as many
 * whole lines as fit in PIPE_BUF, or one line alone when it is longer
 * (such a line cannot be atomic anyway), or everything when it fits. */
size_t output_next_chunk(const char *buf, size_t len);

/* Writes the buffer out in output_next_chunk pieces, retrying EINTR and
 * waiting for POLLOUT on EAGAIN (a non-blocking stdout). The buffer is
 * empty afterwards either way: on an error the rest is dropped, so memory
 * stays bounded. 0 when nothing was buffered or all was written. */
int output_flush(struct output *o);

#endif
