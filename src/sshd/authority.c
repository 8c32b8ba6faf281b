/* The listener as the one authority on logins; see authority.h for the
 * wire format and why it exists. */
#include "sshd/authority.h"

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/strutil.h"
#include "common/timeutil.h"

/* ---- helpers ---- */

const char *
authority_next_field(const char **p, const char *end)
{
    const char *s = *p;
    const char *nul;

    if (s >= end) {
        return NULL;
    }
    nul = memchr(s, '\0', (size_t)(end - s));
    if (nul == NULL) {
        return NULL;
    }
    *p = nul + 1;
    return s;
}

bool
authority_put_field(char *buf, size_t size, size_t *len, const char *s)
{
    size_t n = strlen(s) + 1;

    if (n > size - *len) {
        return false;
    }
    memcpy(buf + *len, s, n);
    *len += n;
    return true;
}

static int
send_msg(int fd, const void *buf, size_t len)
{
    ssize_t w;

    do {
        w = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (w < 0 && errno == EINTR);
    if (w < 0) {
        return -errno;
    }
    return (size_t)w == len ? 0 : -EMSGSIZE;
}

/* A hash of the canonical options, so a grant notices any change of
 * them (command=, from=, permitopen=, ...) without keeping the text. */
static int
options_hash(const struct keys_options *o, unsigned char out[32])
{
    char *text = keys_options_format(o);

    if (text == NULL) {
        return -ENOMEM;
    }
    crypto_generichash(out,
                       32,
                       (const unsigned char *)text,
                       strlen(text),
                       NULL,
                       0);
    free(text);
    return 0;
}

/* ---- connection process side ---- */

/* Builds *ret from a 'Y' answer's fields and the key we asked about. */
static int
entry_from_answer(const char *p,
                  const char *end,
                  const char *user,
                  const char *type,
                  const unsigned char *blob,
                  size_t blob_len,
                  struct keys_entry *ret)
{
    const char *fp = authority_next_field(&p, end),
               *src = authority_next_field(&p, end);
    const char *line = authority_next_field(&p, end),
               *bits = authority_next_field(&p, end);
    const char *opts = authority_next_field(&p, end), *errstr = NULL;
    const char *cafp = authority_next_field(&p, end),
               *certid = authority_next_field(&p, end);
    const char *serial = authority_next_field(&p, end);
    uint64_t ln = 0, nb = 0, sn = 0;

    if (serial == NULL || parse_uint(line, UINT32_MAX, &ln) < 0 ||
        parse_uint(bits, UINT32_MAX, &nb) < 0 ||
        parse_uint(serial, UINT64_MAX, &sn) < 0) {
        return -EPROTO;
    }
    memset(ret, 0, sizeof(*ret));
    if (copy_string(ret->type, sizeof(ret->type), type) < 0 ||
        copy_string(ret->fingerprint, sizeof(ret->fingerprint), fp) < 0 ||
        copy_string(ret->user, sizeof(ret->user), user) < 0) {
        return -EPROTO;
    }
    if (copy_string(ret->ca_fingerprint, sizeof(ret->ca_fingerprint), cafp) <
        0) {
        return -EPROTO;
    }
    ret->bits = (unsigned)nb;
    ret->line = (unsigned)ln;
    ret->cert_serial = sn;
    if (cafp[0] != '\0') {
        ret->cert_id = strdup(certid);
        if (ret->cert_id == NULL) {
            return -ENOMEM;
        }
    }
    ret->blob = malloc(blob_len);
    ret->source = strdup(src);
    ret->comment = strdup("");
    if (ret->blob == NULL || ret->source == NULL || ret->comment == NULL) {
        keys_entry_free(ret);
        return -ENOMEM;
    }
    memcpy(ret->blob, blob, blob_len);
    ret->blob_len = blob_len;
    /* environment= reached the live set only if it was permitted then.
     * "" is a key without options. */
    if (opts[0] != '\0' &&
        keys_parse_options(opts,
                           strlen(opts),
                           KEYS_PARSE_STORE | KEYS_PARSE_PERMIT_ENV,
                           &ret->opts,
                           &errstr) < 0) {
        keys_entry_free(ret);
        return -EPROTO;
    }
    return 0;
}

int
authority_wait_answer(int fd, uint64_t deadline, const char **why)
{
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int pr = poll(&pfd, 1, deadline_timeout(now_ms(), deadline));
        if (pr < 0 && errno != EINTR) {
            *why = "key authority unreachable";
            return -errno;
        }
        if (pr == 0) {
            *why = "key authority did not answer";
            return -ETIMEDOUT;
        }
        if (pr > 0) {
            return 0;
        }
    }
}

int
authority_ask(int fd,
              bool signed_req,
              const char *user,
              const char *type,
              const unsigned char *blob,
              size_t blob_len,
              struct keys_entry *ret,
              char *why_buf,
              size_t why_size,
              const char **why)
{
    static char buf[AUTHORITY_MSG_MAX];
    uint64_t deadline = now_ms() + AUTHORITY_TIMEOUT_MS;
    size_t len = 1;
    ssize_t n;
    int r;

    buf[0] = signed_req ? 'S' : 'Q';
    if (!authority_put_field(buf, sizeof(buf), &len, user) ||
        !authority_put_field(buf, sizeof(buf), &len, type) ||
        blob_len > sizeof(buf) - len) {
        *why = "key too large";
        return -EMSGSIZE;
    }
    memcpy(buf + len, blob, blob_len);
    len += blob_len;
    r = send_msg(fd, buf, len);
    if (r < 0) {
        *why = "key authority unreachable";
        return r;
    }
    r = authority_wait_answer(fd, deadline, why);
    if (r < 0) {
        return r;
    }
    n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n <= 0) {
        *why = "key authority unreachable";
        return n == 0 ? -EPIPE : -errno;
    }
    if (buf[0] == 'N') {
        const char *p = buf + 1;
        const char *reason = authority_next_field(&p, buf + n);
        (void)copy_string(why_buf, why_size, reason ? reason : "denied");
        *why = why_buf;
        return -EPERM;
    }
    if (buf[0] != 'Y') {
        *why = "bad answer from the key authority";
        return -EPROTO;
    }
    r = entry_from_answer(buf + 1, buf + n, user, type, blob, blob_len, ret);
    if (r < 0) {
        *why = "bad answer from the key authority";
    }
    return r;
}

int
authority_notify_login(int fd)
{
    return send_msg(fd, "A", 1);
}

/* ---- listener side ---- */

/* Answers a 'Q' or 'S' request of [p, end) from what t trusts, through
 * keys_authorise_key; refuse_login, when set, is the reason a signed
 * request that would be granted is refused. */
static int
answer(int fd,
       bool signed_req,
       const char *p,
       const char *end,
       const struct keys_trust *t,
       const char *peer_addr,
       time_t now,
       const char *refuse_login,
       struct authority_grant *grant)
{
    static char out[AUTHORITY_MSG_MAX];
    const char *user = authority_next_field(&p, end),
               *type = authority_next_field(&p, end);
    const unsigned char *blob = (const unsigned char *)p;
    size_t blob_len = type != NULL ? (size_t)(end - p) : 0;
    struct keys_entry e;
    const char *why = "key not authorized";
    char num[3][24];
    char *opts = NULL;
    size_t len = 1;
    int r;

    if (type == NULL) {
        return -EPROTO;
    }
    if (blob_len > KEYS_CERT_MAX) {
        r = -EPERM;
        why = "key too large";
    } else {
        r = keys_authorise_key(t,
                               user,
                               type,
                               blob,
                               blob_len,
                               peer_addr,
                               now,
                               &e,
                               &why);
    }
    if (r == -ENOMEM) {
        return r;
    }
    if (r == 0 && signed_req && refuse_login != NULL) {
        keys_entry_free(&e);
        r = -EPERM;
        why = refuse_login;
    }
    if (r < 0) {
        out[0] = 'N';
        (void)authority_put_field(out, sizeof(out), &len, why);
        return send_msg(fd, out, len);
    }
    opts = keys_options_format(&e.opts);
    if (opts == NULL) {
        keys_entry_free(&e);
        return -ENOMEM;
    }
    snprintf(num[0], sizeof(num[0]), "%u", e.line);
    snprintf(num[1], sizeof(num[1]), "%u", e.bits);
    snprintf(num[2], sizeof(num[2]), "%llu", (unsigned long long)e.cert_serial);
    out[0] = 'Y';
    if (!authority_put_field(out, sizeof(out), &len, e.fingerprint) ||
        !authority_put_field(out, sizeof(out), &len, e.source) ||
        !authority_put_field(out, sizeof(out), &len, num[0]) ||
        !authority_put_field(out, sizeof(out), &len, num[1]) ||
        !authority_put_field(out, sizeof(out), &len, opts) ||
        !authority_put_field(out, sizeof(out), &len, e.ca_fingerprint) ||
        !authority_put_field(out,
                             sizeof(out),
                             &len,
                             e.cert_id ? e.cert_id : "") ||
        !authority_put_field(out, sizeof(out), &len, num[2])) {
        free(opts);
        keys_entry_free(&e);
        return -EMSGSIZE;
    }
    free(opts);
    if (signed_req) {
        /* Recorded before the answer leaves: from the moment the
         * connection can act on it, a revocation finds it. The key as
         * presented is kept, so a re-check runs the same decision. */
        memset(grant, 0, sizeof(*grant));
        (void)copy_string(grant->user, sizeof(grant->user), e.user);
        (void)copy_string(grant->type, sizeof(grant->type), e.type);
        (void)copy_string(grant->fingerprint,
                          sizeof(grant->fingerprint),
                          e.fingerprint);
        memcpy(grant->blob, blob, blob_len);
        grant->blob_len = blob_len;
        r = options_hash(&e.opts, grant->opts_hash);
        if (r < 0) {
            keys_entry_free(&e);
            return r;
        }
        grant->active = true;
    }
    keys_entry_free(&e);
    return send_msg(fd, out, len);
}

int
authority_serve(int fd,
                const struct keys_trust *t,
                const char *peer_addr,
                time_t now,
                const char *refuse_login,
                struct authority_grant *grant,
                bool *logged_in)
{
    static char buf[AUTHORITY_MSG_MAX];
    ssize_t n;

    do {
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return errno == EAGAIN ? 0 : -errno;
    }
    if (n == 0) {
        return -EPIPE;
    }
    switch (buf[0]) {
    case 'Q':
    case 'S':
        /* A connection logs in with its first granted signed request and
         * asks nothing after it: a question then comes from a process
         * that no longer follows the protocol (compromised after login),
         * and must never move its grant to another key. */
        if (grant->active) {
            return -EPROTO;
        }
        return answer(fd,
                      buf[0] == 'S',
                      buf + 1,
                      buf + n,
                      t,
                      peer_addr,
                      now,
                      refuse_login,
                      grant);
    case 'A':
        /* A login without a grant is a confused or hostile process. */
        if (!grant->active) {
            return -EPROTO;
        }
        *logged_in = true;
        return 0;
    default:
        return -EPROTO;
    }
}

bool
authority_grant_holds(const struct authority_grant *grant,
                      const struct keys_trust *t,
                      const char *peer_addr,
                      time_t now)
{
    unsigned char h[32];
    const char *why = NULL;
    struct keys_entry e;
    bool holds;

    /* The same decision as at login, on the key as it was presented:
     * the same entry (or CA) still there, not revoked, not expired, with
     * the same options. */
    if (keys_authorise_key(t,
                           grant->user,
                           grant->type,
                           grant->blob,
                           grant->blob_len,
                           peer_addr,
                           now,
                           &e,
                           &why) < 0) {
        return false;
    }
    holds = strcmp(e.fingerprint, grant->fingerprint) == 0 &&
            options_hash(&e.opts, h) == 0 &&
            sodium_memcmp(h, grant->opts_hash, sizeof(h)) == 0;
    keys_entry_free(&e);
    return holds;
}
