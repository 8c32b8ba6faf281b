/* Syslog datagrams: parsing RFC 3164 / RFC 5424 and formatting one safe
 * output line per message. Pure functions: no I/O, no allocation, no
 * logging, so the parser can be unit-tested and fuzzed on its own. */
#ifndef AIRLOCK_SYSLOGD_MESSAGE_H
#define AIRLOCK_SYSLOGD_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest message text kept from one datagram; the rest is cut and the
 * line says so. */
#define SYSLOG_MSG_MAX 8192

/* Worst case of one formatted line: every kept byte escaped as \xNN (4
 * bytes), plus tag, pid, names and the truncation marker (each of those is
 * capped in syslog_format). */
#define SYSLOG_LINE_MAX (4 * SYSLOG_MSG_MAX + 1024)

/* The facility used when a datagram carries no valid <PRI> (RFC 3164 4.3.3
 * says to take it as user.notice). */
#define SYSLOG_DEFAULT_PRI 13

enum syslog_format_kind {
    SYSLOG_RFC3164 = 0,
    SYSLOG_RFC5424,
};

/* One parsed message. The pointers point into the caller's datagram, which
 * must outlive this struct; lengths say where each field ends (fields are
 * not NUL-terminated). A field that is absent has length 0. */
struct syslog_msg {
    int facility; /* 0..23 */
    int severity; /* 0..7 */
    enum syslog_format_kind kind;
    const char *host;
    size_t host_len;
    const char *tag; /* RFC 3164 TAG or RFC 5424 APP-NAME */
    size_t tag_len;
    const char *pid; /* RFC 3164 [PID] or RFC 5424 PROCID */
    size_t pid_len;
    const char *msgid; /* RFC 5424 only */
    size_t msgid_len;
    const char *msg;
    size_t msg_len;
};

/* Parses one datagram of len bytes (any bytes, need not be NUL-terminated).
 * Never fails on content: a datagram without a valid <PRI> is kept whole as
 * a user.notice message, a broken RFC 5424 header falls back to the RFC
 * 3164 reading. Returns 0, or -ENODATA for a datagram with no text at all
 * (empty, or only NULs/newlines), which the caller drops. *ret_note, when
 * not NULL, is set to a static string describing a repair made ("no PRI,
 * taken as user.notice") or NULL when the datagram was well formed. */
int syslog_parse(const char *buf,
                 size_t len,
                 struct syslog_msg *ret,
                 const char **ret_note);

/* "kern", "user", ... "local7"; "unknown" outside 0..23. */
const char *syslog_facility_name(int facility);

/* "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug". */
const char *syslog_severity_name(int severity);

/* Formats m as one line:
 *     FACILITY.SEVERITY TAG[PID]: MESSAGE\n
 * ("TAG[PID]" is "TAG" without a pid and "-" without a tag). Bytes that
 * are control characters, not valid UTF-8, or C1 controls are written as
 * \n, \r, \t or \xNN, so one message is always exactly one line. The
 * message is cut at SYSLOG_MSG_MAX bytes; when it was cut, or when
 * orig_len (the datagram's real size, as MSG_TRUNC reports it) is larger
 * than the datagram given to syslog_parse (datagram_len), the line ends in
 * " [truncated, N bytes]" with N the original size.
 * Writes at most size bytes (size should be >= SYSLOG_LINE_MAX) and returns
 * the line length, newline included; the result is not NUL-terminated. */
size_t syslog_format(char *out,
                     size_t size,
                     const struct syslog_msg *m,
                     size_t datagram_len,
                     size_t orig_len);

/* Appends src escaped as described above to out (capacity size); returns
 * the bytes written. Stops before an escape that would not fit. */
size_t syslog_escape(char *out, size_t size, const char *src, size_t len);

#endif
