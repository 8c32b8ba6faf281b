#include "common/log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/nbout.h"

#define LOG_LINE_MAX 2048

static const char *log_prog = "airlock";
static int log_fd = STDERR_FILENO;
static enum log_level log_level = LOG_LEVEL_INFO;
/* Set by log_set_nonblocking (PID 1): lines that cannot be written at
 * once are dropped and counted, never waited for. */
static struct nbout log_nb;
static bool log_nb_on;
static unsigned long log_dropped;

static const char *const level_names[] = {
    [LOG_LEVEL_ERROR] = "error",
    [LOG_LEVEL_WARN] = "warning",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DEBUG] = "debug",
};

void
log_setup(const char *prog, int fd)
{
    log_prog = prog;
    log_fd = fd;
}

int
log_set_nonblocking(int *ret_reopen_errno)
{
    int r = nbout_open(&log_nb, log_fd);

    log_nb_on = r >= 0;
    *ret_reopen_errno = log_nb.reopen_errno;
    return r;
}

unsigned long
log_dropped_lines(void)
{
    return log_dropped;
}

/* One line in one non-blocking write; a line that does not fit now is
 * dropped, and the next line that gets through says how many were. */
static void
log_write_nonblocking(const char *line, size_t len)
{
    if (log_dropped > 0) {
        char note[96];
        int n = snprintf(note,
                         sizeof(note),
                         "%s[%ld]: warning: %lu log line(s) dropped: output "
                         "not read\n",
                         log_prog,
                         (long)getpid(),
                         log_dropped);
        if (n > 0 && nbout_write(&log_nb, note, (size_t)n) == n) {
            log_dropped = 0;
        }
    }
    if (nbout_write(&log_nb, line, len) != (ssize_t)len) {
        log_dropped++;
    }
}

void
log_set_level(enum log_level level)
{
    log_level = level;
}

enum log_level
log_get_level(void)
{
    return log_level;
}

int
log_parse_level(const char *s, enum log_level *ret_level)
{
    static const char *const words[] = {"error", "warn", "info", "debug"};

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        char digit[2] = {(char)('0' + i), '\0'};
        if (strcasecmp(s, words[i]) == 0 || strcmp(s, digit) == 0) {
            *ret_level = (enum log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *ret_level = LOG_LEVEL_WARN;
        return 0;
    }
    return -EINVAL;
}

size_t
log_format(char *buf,
           size_t size,
           const char *prog,
           long pid,
           enum log_level level,
           const char *msg)
{
    int n;
    size_t len;

    if (size < 8) {
        return 0;
    }
    n = snprintf(buf,
                 size,
                 "%s[%ld]: %s: %s",
                 prog,
                 pid,
                 level_names[level],
                 msg);
    if (n < 0) {
        n = 0;
    }
    len = (size_t)n;
    /* Keep room for the newline; mark truncation so it is never silent. */
    if (len > size - 2) {
        len = size - 2;
        memcpy(buf + len - 3, "...", 3);
    }
    buf[len++] = '\n';
    buf[len] = '\0';
    return len;
}

static void
log_vmsg(enum log_level level, int err, const char *fmt, va_list ap)
{
    char msg[LOG_LINE_MAX];
    char line[LOG_LINE_MAX + 128];
    size_t len, off = 0;
    int n;

    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n >= 0 && err != 0 && (size_t)n < sizeof(msg)) {
        snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(-err));
    }
    len = log_format(line, sizeof(line), log_prog, (long)getpid(), level, msg);
    if (log_nb_on) {
        log_write_nonblocking(line, len);
        return;
    }
    /* One write per line so concurrent writers never interleave mid-line;
     * a short write on a pipe is finished, a failing one is dropped. */
    while (off < len) {
        ssize_t w = write(log_fd, line + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break;
        }
        off += (size_t)w;
    }
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    int saved_errno = errno;
    va_list ap;

    if (level > log_level) {
        return;
    }
    va_start(ap, fmt);
    log_vmsg(level, 0, fmt, ap);
    va_end(ap);
    errno = saved_errno;
}

int
log_errno(enum log_level level, int err, const char *fmt, ...)
{
    int saved_errno = errno;
    va_list ap;

    if (level <= log_level) {
        va_start(ap, fmt);
        log_vmsg(level, err, fmt, ap);
        va_end(ap);
    }
    errno = saved_errno;
    return err;
}
