/* Session recording as asciicast v2; see record.h for who does what and
 * for the wire format of the 'R' request. */
#include "sshd/record.h"
#include "sshd/authority.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/safeio.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/utf8.h"
#include "sshd/audit.h"

/* ---- configuration ---- */

int
record_parse_size(const char *s, uint64_t *ret)
{
    char digits[32];
    size_t n = strspn(s, "0123456789");
    unsigned shift = 0;
    uint64_t v;
    int r;

    if (n == 0 || n >= sizeof(digits)) {
        return n == 0 ? -EINVAL : -ERANGE;
    }
    if (s[n] != '\0') {
        if (s[n + 1] != '\0') {
            return -EINVAL;
        }
        switch (s[n]) {
        case 'k':
        case 'K':
            shift = 10;
            break;
        case 'M':
            shift = 20;
            break;
        case 'G':
            shift = 30;
            break;
        default:
            return -EINVAL;
        }
    }
    memcpy(digits, s, n);
    digits[n] = '\0';
    r = parse_uint(digits, UINT64_MAX >> shift, &v);
    if (r < 0) {
        return r;
    }
    *ret = v << shift;
    return 0;
}

int
record_conf_load(struct record_conf *rc,
                 const char *(*get)(const char *name, void *ud),
                 void *ud,
                 const char **ret_var,
                 const char **ret_reason)
{
    const char *v;

    memset(rc, 0, sizeof(*rc));
    rc->max = RECORD_MAX_DEFAULT;
#define VAR(name) \
    (*ret_var = (name), v = get(name, ud), v != NULL && *v != '\0')
    if (VAR("AIRLOCK_SSH_RECORD_DIR")) {
        if (v[0] != '/' || copy_string(rc->dir, sizeof(rc->dir), v) < 0) {
            *ret_reason = "not an absolute path";
            return -EINVAL;
        }
    }
    if (VAR("AIRLOCK_SSH_RECORD_INPUT") && parse_bool(v, &rc->input) < 0) {
        *ret_reason = "not yes or no";
        return -EINVAL;
    }
    if (VAR("AIRLOCK_SSH_RECORD_REQUIRED") &&
        parse_bool(v, &rc->required) < 0) {
        *ret_reason = "not yes or no";
        return -EINVAL;
    }
    if (VAR("AIRLOCK_SSH_RECORD_MAX") &&
        (record_parse_size(v, &rc->max) < 0 || rc->max < RECORD_MAX_MIN ||
         rc->max > RECORD_MAX_LIMIT)) {
        *ret_reason = "not a size between 4k and 1024G (bytes, or with "
                      "suffix k, M or G)";
        return -EINVAL;
    }
#undef VAR
    /* REQUIRED without a directory would refuse every session for a
     * reason nobody could see in the configuration. */
    if (rc->required && rc->dir[0] == '\0') {
        *ret_var = "AIRLOCK_SSH_RECORD_REQUIRED";
        *ret_reason = "yes needs AIRLOCK_SSH_RECORD_DIR";
        return -EINVAL;
    }
    *ret_var = NULL;
    return 0;
}

/* ---- JSON string encoder ---- */

static const char hex[] = "0123456789abcdef";

static size_t
put_u(char *out, unsigned c)
{
    out[0] = '\\';
    out[1] = 'u';
    out[2] = hex[(c >> 12) & 15];
    out[3] = hex[(c >> 8) & 15];
    out[4] = hex[(c >> 4) & 15];
    out[5] = hex[c & 15];
    return 6;
}

/* One ASCII byte, escaped as RFC 8259 section 7 requires (and DEL too,
 * which a terminal player would otherwise see raw in a log view). */
static size_t
put_ascii(char *out, unsigned char c)
{
    static const char shorts[] =
        {['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r'};

    if (c == '"' || c == '\\') {
        out[0] = '\\';
        out[1] = (char)c;
        return 2;
    }
    if (c < sizeof(shorts) && shorts[c] != 0) {
        out[0] = '\\';
        out[1] = shorts[c];
        return 2;
    }
    if (c < 0x20 || c == 0x7f) {
        return put_u(out, c);
    }
    out[0] = (char)c;
    return 1;
}

/* Is p[0..n) (n < 4) the start of a valid sequence that more bytes could
 * complete? The missing bytes are padded with the two continuation
 * bytes that between them satisfy every second-byte range of RFC 3629
 * (0x80 for 80..BF, 80..9F, 80..8F; 0xA0 for A0..BF, 90..BF). */
static bool
utf8_incomplete(const unsigned char *p, size_t n)
{
    static const unsigned char pad[] = {0x80, 0xA0};

    for (size_t k = 0; k < sizeof(pad); k++) {
        unsigned char t[4];
        size_t len;

        memcpy(t, p, n);
        memset(t + n, 0x80, sizeof(t) - n);
        if (n == 1) {
            t[1] = pad[k]; /* only the second byte's range varies */
        }
        len = utf8_seq_len(t, sizeof(t));
        if (len > n) {
            return true;
        }
    }
    return false;
}

/* The length of the longest start of p (avail bytes, at most 3) that a
 * valid sequence could continue; 0 when p[0] starts none. The "maximal
 * subpart" of Unicode's U+FFFD substitution practice (Unicode 15, 3.9):
 * such a start, cut short, becomes one U+FFFD. */
static size_t
utf8_prefix_len(const unsigned char *p, size_t avail)
{
    size_t k = avail < 3 ? avail : 3;

    for (; k > 0; k--) {
        if (utf8_incomplete(p, k)) {
            return k;
        }
    }
    return 0;
}

size_t
record_json_escape(struct record_utf8 *carry,
                   const unsigned char *in,
                   size_t len,
                   bool final,
                   char *out)
{
    size_t o = 0, i = 0;

    if (carry == NULL) {
        final = true;
    }
    if (carry != NULL && carry->len > 0) {
        unsigned char t[8];
        size_t n = carry->len, take = len < 4 - n ? len : 4 - n, s, m;

        memcpy(t, carry->part, n);
        memcpy(t + n, in, take);
        s = utf8_seq_len(t, n + take);
        m = utf8_prefix_len(t, n + take);
        if (s > n) {
            memcpy(out + o, t, s);
            o += s;
            i = s - n;
        } else if (!final && m == n + take) {
            /* Still not complete (a 4-byte sequence arriving one byte
             * per chunk): carry on. */
            memcpy(carry->part + n, in, take);
            carry->len = n + take;
            return 0;
        } else {
            /* The carried start (and what continues it) was cut short:
             * one U+FFFD; the bytes after it are looked at anew. The
             * carried bytes were a valid start, so m >= n. */
            o += put_u(out + o, 0xFFFD);
            i = m > n ? m - n : 0;
        }
        carry->len = 0;
    }
    while (i < len) {
        size_t s, m;

        if (in[i] < 0x80) {
            o += put_ascii(out + o, in[i]);
            i++;
            continue;
        }
        s = utf8_seq_len(in + i, len - i);
        if (s > 0) {
            memcpy(out + o, in + i, s);
            o += s;
            i += s;
            continue;
        }
        m = utf8_prefix_len(in + i, len - i);
        if (m > 0 && i + m == len && !final) {
            /* Cut by the end of the chunk: the next one may complete
             * it. */
            memcpy(carry->part, in + i, m);
            carry->len = m;
            break;
        }
        /* Not a sequence, or one cut short: one U+FFFD for the lead
         * byte and what validly continued it. */
        o += put_u(out + o, 0xFFFD);
        i += m > 0 ? m : 1;
    }
    return o;
}

/* A JSON string with its quotes, for the header; false when it does not
 * fit into size bytes from *o. */
static bool
put_json_string(char *buf, size_t size, size_t *o, const char *s)
{
    size_t n = strlen(s);

    if (size - *o < RECORD_JSON_MAX(n) + 2) {
        return false;
    }
    buf[(*o)++] = '"';
    *o += record_json_escape(NULL, (const unsigned char *)s, n, true, buf + *o);
    buf[(*o)++] = '"';
    return true;
}

/* ---- connection process side ---- */

static uint64_t
mono_us(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Closes the recording after a failure; returns err. */
static int
record_fail(struct record *r, int err, const char **why, const char *reason)
{
    *why = reason;
    (void)close(r->fd);
    r->fd = -1;
    free(r->buf);
    r->buf = NULL;
    r->len = 0;
    return err;
}

/* Writes what the file takes now, each write(2) once: a regular file
 * takes everything or fails, so nothing waits here on the peer. */
static int
record_flush(struct record *r, const char **why)
{
    while (r->len > 0) {
        ssize_t w = write(r->fd, r->buf, r->len);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && errno == EAGAIN) {
            return 0;
        }
        if (w < 0) {
            int e = errno;
            return record_fail(r,
                               -e,
                               why,
                               e == ENOSPC ? "disk full" : "write error");
        }
        if (w == 0) {
            return record_fail(r, -EIO, why, "write error");
        }
        memmove(r->buf, r->buf + w, r->len - (size_t)w);
        r->len -= (size_t)w;
    }
    return 0;
}

int
record_start(struct record *r, int fd, const char *name, uint64_t max)
{
    struct stat st;

    memset(r, 0, sizeof(*r));
    r->fd = -1;
    r->buf = malloc(RECORD_BUF_MAX);
    if (r->buf == NULL) {
        (void)close(fd);
        return -ENOMEM;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        free(r->buf);
        r->buf = NULL;
        (void)close(fd);
        return e != 0 ? -e : -EINVAL;
    }
    r->fd = fd;
    r->written = (uint64_t)st.st_size;
    r->max = max;
    r->start_us = mono_us();
    (void)copy_string(r->name, sizeof(r->name), name);
    return 0;
}

/* Appends one event [t, "type", "data"] of len bytes of data, escaped
 * with carry (NULL and final for the "r" events' own text), to the
 * buffer; nothing when every byte is carried to the next chunk. Returns
 * as record_data; the cap is checked here, the buffer's room too. */
static int
record_event(struct record *r,
             char type,
             struct record_utf8 *carry,
             const unsigned char *data,
             size_t len,
             bool final,
             const char **why)
{
    uint64_t t = mono_us() - r->start_us;
    size_t need = RECORD_JSON_MAX(len) + 64, o;
    char *p;
    int n;

    if (RECORD_BUF_MAX - r->len < need) {
        int e = record_flush(r, why);
        if (e < 0) {
            return e;
        }
        if (RECORD_BUF_MAX - r->len < need) {
            return record_fail(r,
                               -ENOBUFS,
                               why,
                               "the file does not take the data fast enough");
        }
    }
    p = r->buf + r->len;
    n = snprintf(p,
                 64,
                 "[%llu.%06llu, \"%c\", \"",
                 (unsigned long long)(t / 1000000u),
                 (unsigned long long)(t % 1000000u),
                 type);
    if (n < 0 || n >= 64) {
        return record_fail(r, -EINVAL, why, "internal error");
    }
    o = (size_t)n;
    o += record_json_escape(carry, data, len, final, p + o);
    if (o == (size_t)n) {
        return 0; /* everything carried to the next chunk */
    }
    memcpy(p + o, "\"]\n", 3);
    o += 3;
    if (r->written + o > r->max) {
        /* The events before this one are kept: written out first. */
        if (record_flush(r, why) < 0) {
            return -EFBIG;
        }
        return record_fail(r, -EFBIG, why, "size cap reached");
    }
    r->written += o;
    r->len += o;
    return 0;
}

int
record_data(struct record *r,
            enum record_stream s,
            const void *data,
            size_t len,
            const char **why)
{
    const unsigned char *p = data;
    int e;

    if (r->fd < 0 || (unsigned)s >= RECORD_NSTREAMS) {
        return 0;
    }
    while (len > 0) {
        size_t n = len < RECORD_CHUNK ? len : RECORD_CHUNK;
        uint64_t room = r->max - r->written;

        /* Near the cap, a piece whose event surely fits: the file then
         * holds the output up to the cap, not up to the event before. */
        if (room > 64 && RECORD_JSON_MAX(n) + 64 > room) {
            n = (size_t)((room - 64) / 6);
            n = n > 8 ? n - 8 : 1;
        }
        e = record_event(r,
                         s == RECORD_INPUT ? 'i' : 'o',
                         &r->carry[s],
                         p,
                         n,
                         false,
                         why);
        if (e < 0) {
            return e;
        }
        p += n;
        len -= n;
    }
    return record_flush(r, why);
}

int
record_resize(struct record *r, unsigned cols, unsigned rows, const char **why)
{
    char text[32];
    int n, e;

    if (r->fd < 0) {
        return 0;
    }
    n = snprintf(text, sizeof(text), "%ux%u", cols, rows);
    e = record_event(r,
                     'r',
                     NULL,
                     (const unsigned char *)text,
                     (size_t)n,
                     true,
                     why);
    return e < 0 ? e : record_flush(r, why);
}

void
record_close(struct record *r)
{
    const char *why = NULL;

    if (r->fd < 0) {
        return;
    }
    for (int s = 0; s < RECORD_NSTREAMS && r->fd >= 0; s++) {
        if (r->carry[s].len > 0) {
            (void)record_event(r,
                               s == RECORD_INPUT ? 'i' : 'o',
                               &r->carry[s],
                               (const unsigned char *)"",
                               0,
                               true,
                               &why);
        }
    }
    if (r->fd >= 0) {
        (void)record_flush(r, &why);
    }
    if (r->fd >= 0) {
        (void)close(r->fd);
        r->fd = -1;
    }
    free(r->buf);
    r->buf = NULL;
    r->len = 0;
}

int
record_request(int auth_fd,
               const struct record_req *req,
               int timeout_ms,
               int *ret_fd,
               char *name,
               size_t name_size,
               char *why_buf,
               size_t why_size,
               const char **why)
{
    char buf[RECORD_CMD_MAX + PATH_MAX + 256];
    char num[3][16];
    char cmd[RECORD_CMD_MAX];
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov;
    struct msghdr msg;
    struct cmsghdr *cm;
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    size_t len = 1;
    const char *p, *fname;
    int fd = -1;
    ssize_t n;

    snprintf(num[0], sizeof(num[0]), "%u", req->chan);
    snprintf(num[1], sizeof(num[1]), "%u", req->width);
    snprintf(num[2], sizeof(num[2]), "%u", req->height);
    /* A longer command is cut: the header is for the reader, the audit
     * line and the "i" events have the rest. */
    snprintf(cmd, sizeof(cmd), "%s", req->command);
    buf[0] = 'R';
    if (!authority_put_field(buf, sizeof(buf), &len, num[0]) ||
        !authority_put_field(buf, sizeof(buf), &len, num[1]) ||
        !authority_put_field(buf, sizeof(buf), &len, num[2]) ||
        !authority_put_field(buf, sizeof(buf), &len, req->kind) ||
        !authority_put_field(buf, sizeof(buf), &len, req->term) ||
        !authority_put_field(buf, sizeof(buf), &len, req->shell) ||
        !authority_put_field(buf, sizeof(buf), &len, cmd)) {
        *why = "request too large";
        return -EMSGSIZE;
    }
    do {
        n = send(auth_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len) {
        *why = "key authority unreachable";
        return n < 0 ? -errno : -EMSGSIZE;
    }
    {
        int wr = authority_wait_answer(auth_fd, deadline, why);
        if (wr < 0) {
            return wr;
        }
    }
    memset(&msg, 0, sizeof(msg));
    memset(&ctl, 0, sizeof(ctl));
    iov.iov_base = buf;
    iov.iov_len = sizeof(buf) - 1;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.b;
    msg.msg_controllen = sizeof(ctl.b);
    n = recvmsg(auth_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n <= 0) {
        *why = "key authority unreachable";
        return n == 0 ? -EPIPE : -errno;
    }
    buf[n] = '\0';
    for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
            cm->cmsg_len == CMSG_LEN(sizeof(int)) && fd < 0) {
            memcpy(&fd, CMSG_DATA(cm), sizeof(int));
        }
    }
    p = buf + 1;
    fname = authority_next_field(&p, buf + n);
    if (buf[0] == 'N') {
        if (fd >= 0) {
            (void)close(fd);
        }
        (void)copy_string(why_buf, why_size, fname ? fname : "refused");
        *why = why_buf;
        return -EPERM;
    }
    if (buf[0] != 'Y' || fd < 0 || fname == NULL ||
        (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
        copy_string(name, name_size, fname) < 0) {
        if (fd >= 0) {
            (void)close(fd);
        }
        *why = "bad answer from the key authority";
        return -EPROTO;
    }
    *ret_fd = fd;
    return 0;
}

/* ---- listener side ---- */

int
record_dir_open(const char *path, const char **why)
{
    struct stat st;
    int dfd;

    /* O_NOFOLLOW: a symlink as the directory itself is refused (ELOOP),
     * so nobody can point the recordings at another place by swapping
     * the last component. */
    dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        int e = errno;
        struct stat lst;
        /* O_DIRECTORY fails first (ENOTDIR) for a symlink to a
         * directory: say which it is. */
        if (e == ENOTDIR && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
            e = ELOOP;
        }
        *why = e == ELOOP     ? "is a symlink"
               : e == ENOTDIR ? "is not a directory"
               : e == ENOENT  ? "does not exist"
                              : "cannot be opened";
        return -e;
    }
    if (fstat(dfd, &st) < 0) {
        int e = errno;
        (void)close(dfd);
        *why = "cannot be opened";
        return -e;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        (void)close(dfd);
        *why = "is not owned by root";
        return -EPERM;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        (void)close(dfd);
        *why = "is group or world writable";
        return -EPERM;
    }
    return dfd;
}

/* Sends 'N' with reason. */
static int
refuse(int fd, const char *reason)
{
    char out[256];
    size_t len = 1;
    ssize_t w;

    out[0] = 'N';
    (void)authority_put_field(out, sizeof(out), &len, reason);
    do {
        w = send(fd, out, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (w < 0 && errno == EINTR);
    return w < 0 ? -errno : 0;
}

/* Sends 'Y' NAME with file_fd attached. */
static int
send_file(int fd, const char *name, int file_fd)
{
    char out[RECORD_NAME_MAX + 2];
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov;
    struct msghdr msg;
    struct cmsghdr *cm;
    size_t len = 1;
    ssize_t w;

    out[0] = 'Y';
    if (!authority_put_field(out, sizeof(out), &len, name)) {
        return -ENAMETOOLONG;
    }
    memset(&msg, 0, sizeof(msg));
    memset(&ctl, 0, sizeof(ctl));
    iov.iov_base = out;
    iov.iov_len = len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.b;
    msg.msg_controllen = sizeof(ctl.b);
    cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &file_fd, sizeof(int));
    do {
        w = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (w < 0 && errno == EINTR);
    return w < 0 ? -errno : 0;
}

/* The header line: the asciicast fields from the request (untrusted,
 * bounded and escaped), the identity fields from the listener's own
 * knowledge of the connection. Returns its length or 0 when it does not
 * fit. */
static size_t
format_header(char *buf,
              size_t size,
              const struct record_who *who,
              unsigned chan,
              unsigned width,
              unsigned height,
              time_t now,
              const char *kind,
              const char *term,
              const char *shell,
              const char *command)
{
    size_t o;
    int n;

    n = snprintf(buf,
                 size,
                 "{\"version\": 2, \"width\": %u, \"height\": %u, "
                 "\"timestamp\": %lld, \"env\": {\"TERM\": ",
                 width,
                 height,
                 (long long)now);
    if (n < 0 || (size_t)n >= size) {
        return 0;
    }
    o = (size_t)n;
#define LIT(s)                  \
    do {                        \
        size_t l_ = strlen(s);  \
        if (size - o <= l_) {   \
            return 0;           \
        }                       \
        memcpy(buf + o, s, l_); \
        o += l_;                \
    } while (0)
#define STR(s)                                    \
    do {                                          \
        if (!put_json_string(buf, size, &o, s)) { \
            return 0;                             \
        }                                         \
    } while (0)
    STR(term);
    LIT(", \"SHELL\": ");
    STR(shell);
    LIT("}, \"title\": ");
    {
        char title[RECORD_NAME_MAX + 64];
        snprintf(title,
                 sizeof(title),
                 "%s session %u of %s from %s",
                 kind,
                 chan,
                 who->user,
                 who->peer);
        STR(title);
    }
    if (command[0] != '\0') {
        LIT(", \"command\": ");
        STR(command);
    }
    LIT(", \"airlock\": {\"user\": ");
    STR(who->user);
    LIT(", \"key_fingerprint\": ");
    STR(who->fingerprint);
    if (who->key_id != NULL) {
        LIT(", \"key_id\": ");
        STR(who->key_id);
    }
    LIT(", \"source_address\": ");
    STR(who->peer);
    n = snprintf(buf + o,
                 size - o,
                 ", \"source_port\": %u, \"pid\": %d, \"session\": %u, "
                 "\"kind\": ",
                 who->port,
                 (int)who->pid,
                 chan);
    if (n < 0 || (size_t)n >= size - o) {
        return 0;
    }
    o += (size_t)n;
    STR(kind);
    LIT("}}\n");
#undef LIT
#undef STR
    return o;
}

/* Is t a TERM value fit for the header: [A-Za-z0-9._+-], at most 63
 * bytes (as session_term_valid). */
static bool
term_ok(const char *t)
{
    size_t n = strlen(t);

    if (n > 63) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '+' ||
              c == '-')) {
            return false;
        }
    }
    return true;
}

/* Only what cannot change the name's meaning: the user names the
 * listener granted are [A-Za-z0-9._-] (keys_valid_user), checked again
 * here because the name is a path component. */
static bool
name_part_ok(const char *s)
{
    /* 63: the longest user name keys_valid_user takes (KEYS_USER_MAX
     * with its NUL), which RECORD_NAME_MAX has room for. */
    if (s[0] == '\0' || s[0] == '.' || strlen(s) > 63) {
        return false;
    }
    for (; *s != '\0'; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

int
record_serve(int fd, const struct record_conf *rc, const struct record_who *who)
{
    static char buf[RECORD_CMD_MAX + PATH_MAX + 256];
    static char header[4 * RECORD_JSON_MAX(RECORD_CMD_MAX)];
    char path[PATH_MAX], name[RECORD_NAME_MAX], stamp[32];
    const char *p = buf + 1, *end, *why = NULL;
    const char *chan_s, *w_s, *h_s, *kind, *term, *shell, *command;
    uint64_t chan, width, height;
    struct tm tm;
    struct timespec ts;
    time_t now;
    size_t hlen;
    ssize_t n;
    int dfd, ffd, r;

    do {
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return errno == EAGAIN ? 0 : -errno;
    }
    if (n == 0) {
        return -EPIPE;
    }
    if ((size_t)n > sizeof(buf) || buf[0] != 'R') {
        return -EPROTO;
    }
    end = buf + n;
    chan_s = authority_next_field(&p, end);
    w_s = authority_next_field(&p, end);
    h_s = authority_next_field(&p, end);
    kind = authority_next_field(&p, end);
    term = authority_next_field(&p, end);
    shell = authority_next_field(&p, end);
    command = authority_next_field(&p, end);
    if (command == NULL || p != end || parse_uint(chan_s, 1000000, &chan) < 0 ||
        parse_uint(w_s, 10000, &width) < 0 || width == 0 ||
        parse_uint(h_s, 10000, &height) < 0 || height == 0 ||
        (strcmp(kind, "shell") != 0 && strcmp(kind, "exec") != 0) ||
        !term_ok(term) || strlen(shell) >= PATH_MAX ||
        strlen(command) >= RECORD_CMD_MAX) {
        return -EPROTO;
    }
    if (who == NULL) {
        return refuse(fd, "no active login");
    }
    if (rc->dir[0] == '\0') {
        return refuse(fd, "recording is not configured");
    }
    if (!name_part_ok(who->user)) {
        log_warn("recording: user name '%s' unfit for a file name, no "
                 "recording",
                 who->user);
        return refuse(fd, "user name unfit for a file name");
    }
    if (root_path(path, sizeof(path), rc->dir) < 0) {
        log_warn("recording: AIRLOCK_SSH_RECORD_DIR under AIRLOCK_ROOT is "
                 "too long");
        return refuse(fd, "recording directory unusable");
    }
    dfd = record_dir_open(path, &why);
    if (dfd < 0) {
        log_warn("recording: directory '%s' %s: refusing to record (%s)",
                 path,
                 why,
                 strerror(-dfd));
        return refuse(fd, "recording directory unusable");
    }
    /* UTC with milliseconds, fixed width: names sort by time, also
     * between sessions started in the same second. */
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    now = ts.tv_sec;
    (void)gmtime_r(&now, &tm);
    (void)strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
    r = snprintf(name,
                 sizeof(name),
                 "%s.%03ldZ-%s-%d-%llu.cast",
                 stamp,
                 ts.tv_nsec / 1000000L,
                 who->user,
                 (int)who->pid,
                 (unsigned long long)chan);
    if (r < 0 || (size_t)r >= sizeof(name)) {
        (void)close(dfd);
        return refuse(fd, "recording file name too long");
    }
    /* O_EXCL|O_NOFOLLOW: never an existing file, never through a
     * symlink planted under the name. */
    ffd =
        openat(dfd,
               name,
               O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
               0600);
    if (ffd < 0) {
        r = -errno;
        log_warn("recording: cannot create '%s' in '%s': %s",
                 name,
                 path,
                 strerror(-r));
        (void)close(dfd);
        return refuse(fd, "recording file not created");
    }
    hlen = format_header(header,
                         sizeof(header),
                         who,
                         (unsigned)chan,
                         (unsigned)width,
                         (unsigned)height,
                         now,
                         kind,
                         term,
                         shell,
                         command);
    r = fchmod(ffd, 0600) < 0 ? -errno : 0;
    if (r == 0) {
        r = hlen == 0 ? -EMSGSIZE : write_all(ffd, header, hlen);
    }
    if (r < 0) {
        log_warn("recording: cannot write the header of '%s' in '%s': %s",
                 name,
                 path,
                 strerror(-r));
        (void)unlinkat(dfd, name, 0);
        (void)close(ffd);
        (void)close(dfd);
        return refuse(fd, "recording file not written");
    }
    (void)close(dfd);
    r = send_file(fd, name, ffd);
    (void)close(ffd);
    if (r < 0) {
        return r;
    }
    audit("recording session %llu of '%s' from %s port %u to '%s'",
          (unsigned long long)chan,
          who->user,
          who->peer,
          who->port,
          name);
    return 0;
}

void
record_check_at_start(const struct record_conf *rc)
{
    char path[PATH_MAX];
    const char *why = NULL;
    int dfd;

    if (rc->dir[0] == '\0') {
        return;
    }
    if (root_path(path, sizeof(path), rc->dir) < 0) {
        log_warn("recording: AIRLOCK_SSH_RECORD_DIR under AIRLOCK_ROOT is "
                 "too long");
        return;
    }
    dfd = record_dir_open(path, &why);
    if (dfd < 0) {
        log_warn("recording: directory '%s' %s (%s): sessions will be %s "
                 "until it is fixed",
                 path,
                 why,
                 strerror(-dfd),
                 rc->required ? "refused" : "unrecorded");
        return;
    }
    (void)close(dfd);
    log_info("recording sessions to '%s' (input %s, at most %llu bytes "
             "each%s)",
             path,
             rc->input ? "too" : "not recorded",
             (unsigned long long)rc->max,
             rc->required ? ", required" : "");
}
