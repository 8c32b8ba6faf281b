#include "syslogd/message.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/utf8.h"

/* Display caps for the header fields: RFC 5424 allows 48 bytes of APP-NAME
 * and 128 of PROCID; anything longer is a broken or hostile sender, and the
 * line must stay bounded. */
#define TAG_SHOW_MAX 128
#define PID_SHOW_MAX 64
/* A token longer than this is not taken as an RFC 3164 tag or host. */
#define TAG_SCAN_MAX  128
#define HOST_SCAN_MAX 255

static const char *const facility_names[] = {
    "kern",   "user",   "mail",   "daemon", "auth",     "syslog",
    "lpr",    "news",   "uucp",   "cron",   "authpriv", "ftp",
    "ntp",    "audit",  "alert",  "clock",  "local0",   "local1",
    "local2", "local3", "local4", "local5", "local6",   "local7",
};

static const char *const severity_names[] = {
    "emerg",
    "alert",
    "crit",
    "err",
    "warning",
    "notice",
    "info",
    "debug",
};

static const char *const month_names[] = {
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
};

const char *
syslog_facility_name(int facility)
{
    if (facility < 0 || facility >= 24) {
        return "unknown";
    }
    return facility_names[facility];
}

const char *
syslog_severity_name(int severity)
{
    if (severity < 0 || severity >= 8) {
        return "unknown";
    }
    return severity_names[severity];
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* "<PRI>" with 1..3 digits and a value of at most 191 (facility 23,
 * severity 7). Leading zeros are tolerated: old senders emit them. */
static bool
parse_pri(const char *p, const char *end, int *ret_pri, const char **ret_after)
{
    int v = 0, digits = 0;

    if (p >= end || *p != '<') {
        return false;
    }
    for (p++; p < end && is_digit(*p); p++) {
        if (++digits > 3) {
            return false;
        }
        v = v * 10 + (*p - '0');
    }
    if (digits == 0 || p >= end || *p != '>' || v > 191) {
        return false;
    }
    *ret_pri = v;
    *ret_after = p + 1;
    return true;
}

/* RFC 3164 "Mmm dd hh:mm:ss " (day space- or zero-padded). */
static bool
skip_bsd_timestamp(const char *p, const char *end, const char **ret_after)
{
    bool month = false;

    if (end - p < 16) {
        return false;
    }
    for (size_t i = 0; i < 12; i++) {
        if (memcmp(p, month_names[i], 3) == 0) {
            month = true;
            break;
        }
    }
    if (!month || p[3] != ' ' || (p[4] != ' ' && !is_digit(p[4])) ||
        !is_digit(p[5]) || p[6] != ' ' || !is_digit(p[7]) || !is_digit(p[8]) ||
        p[9] != ':' || !is_digit(p[10]) || !is_digit(p[11]) || p[12] != ':' ||
        !is_digit(p[13]) || !is_digit(p[14]) || p[15] != ' ') {
        return false;
    }
    *ret_after = p + 16;
    return true;
}

/* Some senders (rsyslog's forwarding format, systemd) put an RFC 3339
 * timestamp in an otherwise RFC 3164 header: "2026-11-28T00:52:04...Z ". */
static bool
skip_iso_timestamp(const char *p, const char *end, const char **ret_after)
{
    const char *q = p;

    if (end - p < 20 || !is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]) ||
        !is_digit(p[3]) || p[4] != '-' || !is_digit(p[5]) || !is_digit(p[6]) ||
        p[7] != '-' || !is_digit(p[8]) || !is_digit(p[9]) || p[10] != 'T') {
        return false;
    }
    while (q < end && *q != ' ') {
        q++;
    }
    if (q >= end) {
        return false;
    }
    *ret_after = q + 1;
    return true;
}

/* "NAME: " or "NAME[PID]: " (or the same at the very end of the datagram).
 * NAME has no space, ':' or '['; PID has no space or ']'. The space after
 * the colon is required so that a message such as "http://x" without a tag
 * is not cut at its colon. */
static bool
parse_tag(const char *p,
          const char *end,
          struct syslog_msg *m,
          const char **ret_after)
{
    const char *q = p, *pid = NULL;
    size_t pid_len = 0;

    while (q < end && *q != ' ' && *q != ':' && *q != '[' &&
           q - p < TAG_SCAN_MAX) {
        q++;
    }
    if (q == p || q >= end) {
        return false;
    }
    if (*q == '[') {
        pid = ++q;
        while (q < end && *q != ']' && *q != ' ' && q - pid < TAG_SCAN_MAX) {
            q++;
        }
        if (q >= end || *q != ']') {
            return false;
        }
        pid_len = (size_t)(q - pid);
        q++;
    }
    if (q >= end || *q != ':') {
        return false;
    }
    q++;
    if (q < end && *q != ' ') {
        return false;
    }
    m->tag = p;
    m->tag_len = (size_t)((pid != NULL ? pid - 1 : q - 1) - p);
    m->pid = pid;
    m->pid_len = pid_len;
    *ret_after = q < end ? q + 1 : q;
    return true;
}

/* The RFC 3164 part after <PRI>: optional timestamp, optional host, tag. */
static void
parse_3164(const char *p, const char *end, struct syslog_msg *m)
{
    const char *after;

    m->kind = SYSLOG_RFC3164;
    if (skip_bsd_timestamp(p, end, &after) ||
        skip_iso_timestamp(p, end, &after)) {
        p = after;
    }
    if (parse_tag(p, end, m, &after)) {
        p = after;
    } else {
        /* "host tag[pid]: msg": the first token is a host only when a tag
         * follows it; otherwise it is part of the message. */
        const char *q = p;
        while (q < end && *q != ' ' && q - p < HOST_SCAN_MAX) {
            q++;
        }
        if (q > p && q < end && *q == ' ' && parse_tag(q + 1, end, m, &after)) {
            m->host = p;
            m->host_len = (size_t)(q - p);
            p = after;
        }
    }
    m->msg = p;
    m->msg_len = (size_t)(end - p);
}

/* One RFC 5424 header field: a run of non-space bytes followed by a space;
 * "-" is the NILVALUE and gives an empty field. */
static bool
take_field(const char **pp, const char *end, const char **ret, size_t *ret_len)
{
    const char *p = *pp, *q = p;

    while (q < end && *q != ' ') {
        q++;
    }
    if (q == p || q >= end) {
        return false;
    }
    if (q - p == 1 && *p == '-') {
        *ret = NULL;
        *ret_len = 0;
    } else {
        *ret = p;
        *ret_len = (size_t)(q - p);
    }
    *pp = q + 1;
    return true;
}

/* STRUCTURED-DATA: "-" or one or more "[id param="value" ...]", where a
 * quoted value may hold \" \] and \\. */
static bool
skip_structured_data(const char *p, const char *end, const char **ret_after)
{
    if (p < end && *p == '-') {
        *ret_after = p + 1;
        return true;
    }
    if (p >= end || *p != '[') {
        return false;
    }
    while (p < end && *p == '[') {
        bool quoted = false;
        for (p++; p < end; p++) {
            if (quoted && *p == '\\' && p + 1 < end) {
                p++;
            } else if (*p == '"') {
                quoted = !quoted;
            } else if (!quoted && *p == ']') {
                break;
            }
        }
        if (p >= end) {
            return false;
        }
        p++;
    }
    *ret_after = p;
    return true;
}

/* The RFC 5424 part after "<PRI>1 ". False when the header is broken, and
 * the caller falls back to the RFC 3164 reading. */
static bool
parse_5424(const char *p,
           const char *end,
           struct syslog_msg *m,
           const char **ret_note)
{
    const char *ts, *after;
    size_t ts_len;

    /* TIMESTAMP is "-" or starts "YYYY-": anything else means the text
     * only happened to start with "1 ", and is not RFC 5424. */
    if (!take_field(&p, end, &ts, &ts_len) ||
        (ts != NULL &&
         (ts_len < 5 || !is_digit(ts[0]) || !is_digit(ts[1]) ||
          !is_digit(ts[2]) || !is_digit(ts[3]) || ts[4] != '-')) ||
        !take_field(&p, end, &m->host, &m->host_len) ||
        !take_field(&p, end, &m->tag, &m->tag_len) ||
        !take_field(&p, end, &m->pid, &m->pid_len) ||
        !take_field(&p, end, &m->msgid, &m->msgid_len)) {
        return false;
    }
    m->kind = SYSLOG_RFC5424;
    if (!skip_structured_data(p, end, &after) ||
        (after < end && *after != ' ')) {
        /* Keep everything after MSGID rather than lose it. */
        *ret_note = "bad RFC 5424 structured data, kept as text";
        m->msg = p;
        m->msg_len = (size_t)(end - p);
        return true;
    }
    p = after < end ? after + 1 : after;
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
    }
    m->msg = p;
    m->msg_len = (size_t)(end - p);
    return true;
}

int
syslog_parse(const char *buf,
             size_t len,
             struct syslog_msg *ret,
             const char **ret_note)
{
    const char *end = buf + len, *p = buf;
    const char *note = NULL;
    int pri = SYSLOG_DEFAULT_PRI;

    memset(ret, 0, sizeof(*ret));
    /* Senders differ in trailing NULs and newlines; none of them is text. */
    while (end > buf &&
           (end[-1] == '\0' || end[-1] == '\n' || end[-1] == '\r')) {
        end--;
    }
    if (end == buf) {
        if (ret_note != NULL) {
            *ret_note = "empty datagram";
        }
        return -ENODATA;
    }
    if (!parse_pri(buf, end, &pri, &p)) {
        /* RFC 3164 4.3.3: no valid PRI means the whole datagram is the
         * message, at user.notice. */
        note = "no valid PRI, taken as user.notice";
        p = buf;
        ret->facility = pri >> 3;
        ret->severity = pri & 7;
        ret->kind = SYSLOG_RFC3164;
        ret->msg = p;
        ret->msg_len = (size_t)(end - p);
        if (ret_note != NULL) {
            *ret_note = note;
        }
        return 0;
    }
    ret->facility = pri >> 3;
    ret->severity = pri & 7;
    if (end - p >= 2 && p[0] == '1' && p[1] == ' ') {
        if (!parse_5424(p + 2, end, ret, &note)) {
            note = "bad RFC 5424 header, read as RFC 3164";
            ret->host = ret->tag = ret->pid = ret->msgid = NULL;
            ret->host_len = ret->tag_len = ret->pid_len = ret->msgid_len = 0;
            parse_3164(p, end, ret);
        }
    } else {
        parse_3164(p, end, ret);
    }
    if (ret_note != NULL) {
        *ret_note = note;
    }
    return 0;
}

static const char hex_digits[] = "0123456789abcdef";

size_t
syslog_escape(char *out, size_t size, const char *src, size_t len)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t o = 0, i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t n;

        if (c >= 0x20 && c < 0x7F) {
            if (o >= size) {
                break;
            }
            out[o++] = (char)c;
            i++;
            continue;
        }
        if (c == '\n' || c == '\r' || c == '\t') {
            if (size - o < 2) {
                break;
            }
            out[o++] = '\\';
            out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            i++;
            continue;
        }
        n = c >= 0x80 ? utf8_seq_len(s + i, len - i) : 0;
        /* U+0080..U+009F are C1 controls (0x9B is CSI on some terminals):
         * valid UTF-8, but escaped like the C0 ones. */
        if (n > 1 && !(c == 0xC2 && s[i + 1] < 0xA0)) {
            if (size - o < n) {
                break;
            }
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
            continue;
        }
        if (n == 0) {
            n = 1;
        }
        if (size - o < 4 * n) {
            break;
        }
        for (size_t k = 0; k < n; k++) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex_digits[s[i + k] >> 4];
            out[o++] = hex_digits[s[i + k] & 0x0F];
        }
        i += n;
    }
    return o;
}

static size_t
append(char *out, size_t size, size_t o, const char *s, size_t len)
{
    if (o >= size) {
        return o;
    }
    if (len > size - o) {
        len = size - o;
    }
    memcpy(out + o, s, len);
    return o + len;
}

size_t
syslog_format(char *out,
              size_t size,
              const struct syslog_msg *m,
              size_t datagram_len,
              size_t orig_len)
{
    const char *fac = syslog_facility_name(m->facility);
    const char *sev = syslog_severity_name(m->severity);
    size_t msg_len = m->msg_len, o = 0;
    bool cut = false;

    if (size == 0) {
        return 0;
    }
    size--; /* the newline always fits */
    o = append(out, size, o, fac, strlen(fac));
    o = append(out, size, o, ".", 1);
    o = append(out, size, o, sev, strlen(sev));
    o = append(out, size, o, " ", 1);
    if (m->tag_len > 0) {
        o += syslog_escape(out + o,
                           size - o,
                           m->tag,
                           m->tag_len < TAG_SHOW_MAX ? m->tag_len
                                                     : TAG_SHOW_MAX);
    } else {
        o = append(out, size, o, "-", 1);
    }
    if (m->pid != NULL) {
        o = append(out, size, o, "[", 1);
        o += syslog_escape(out + o,
                           size - o,
                           m->pid,
                           m->pid_len < PID_SHOW_MAX ? m->pid_len
                                                     : PID_SHOW_MAX);
        o = append(out, size, o, "]", 1);
    }
    o = append(out, size, o, ": ", 2);
    if (msg_len > SYSLOG_MSG_MAX) {
        msg_len = SYSLOG_MSG_MAX;
        /* Cut before a UTF-8 sequence rather than through it. */
        for (int k = 0; k < 3 && msg_len > 0 &&
                        ((unsigned char)m->msg[msg_len] & 0xC0) == 0x80;
             k++) {
            msg_len--;
        }
        cut = true;
    }
    if (orig_len > datagram_len) {
        cut = true;
    }
    o += syslog_escape(out + o, size - o, m->msg, msg_len);
    if (cut) {
        char mark[64];
        int n = snprintf(mark,
                         sizeof(mark),
                         " [truncated, datagram was %zu bytes]",
                         orig_len > datagram_len ? orig_len : datagram_len);
        if (n > 0) {
            o = append(out, size, o, mark, (size_t)n);
        }
    }
    out[o++] = '\n';
    return o;
}
