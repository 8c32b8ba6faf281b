/* Leveled logging: one line, one write(2), shaped "PROG[PID]: LEVEL: msg". */
#ifndef AIRLOCK_COMMON_LOG_H
#define AIRLOCK_COMMON_LOG_H

#include <stddef.h>

enum log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG,
};

/* Sets the program name shown in each line (kept by pointer) and the fd
 * lines go to (stderr by default). */
void log_setup(const char *prog, int fd);
void log_set_level(enum log_level level);

/* From now on, never wait for the log fd (PID 1: a container whose output
 * nobody reads must not stop reaping and signal handling). A line that
 * cannot be written at once is dropped and counted; the next line that
 * gets through is preceded by a warning with the count. Returns 0, 1 when
 * only a best effort is possible (nbout.h: NBOUT_POLLED; then
 * *ret_reopen_errno says why), or -errno. */
int log_set_nonblocking(int *ret_reopen_errno);

/* Lines dropped since the last warning about them. */
unsigned long log_dropped_lines(void);
enum log_level log_get_level(void);

/* Parses "error", "warn", "info", "debug" (or 0..3); returns 0 or -EINVAL. */
int log_parse_level(const char *s, enum log_level *ret_level);

/* Formats one log line into buf (always NUL-terminated, ends in '\n',
 * truncated with "..." when too long); returns its length. */
size_t log_format(char *buf,
                  size_t size,
                  const char *prog,
                  long pid,
                  enum log_level level,
                  const char *msg);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Logs "msg: strerror(-err)" and returns err (a negative errno), so callers
 * can write: return log_errno(LOG_LEVEL_ERROR, r, "open '%s'", path); */
int log_errno(enum log_level level, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
