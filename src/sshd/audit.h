/* Audit lines on stdout, and the sanitiser for client-supplied strings. */
#ifndef AIRLOCK_SSHD_AUDIT_H
#define AIRLOCK_SSHD_AUDIT_H

#include <stddef.h>

/* Longest sanitised string kept in a log line (before "..."). */
#define SANITIZE_MAX 200

/* Copies src (len bytes, may hold NULs) into dst for a log line: printable
 * ASCII other than backslash and quote is kept, everything else becomes
 * \xNN; output longer than max(size-1, SANITIZE_MAX) is cut with "...".
 * dst is always NUL-terminated; returns its length. */
size_t sanitize(char *dst, size_t size, const char *src, size_t len);

/* sanitize() for a C string, into a static rotating buffer: up to four
 * results are valid at once, enough for one log line. NULL gives "". */
const char *san(const char *s);

/* Writes "airlock-sshd[PID]: info: audit: MESSAGE" to stdout in one write.
 * Client-supplied strings must go through san() first. */
void audit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
