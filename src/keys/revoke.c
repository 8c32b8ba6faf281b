/* The revocation list: the text form ssh-keygen -k reads (ssh-keygen(1),
 * "KEY REVOCATION LISTS"), applied to plain keys and certificates. The
 * file names no CA, so serial: and id: lines revoke in every trusted CA's
 * scope, like a KRL section whose CA key is empty (PROTOCOL.krl). Nothing
 * here logs. */
#include "keys/keys.h"
#include "keys/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#define REVOKED_MAX_ITEMS 65536

void
keys_revoked_free(struct keys_revoked *r)
{
    if (r == NULL) {
        return;
    }
    free(r->serials);
    for (size_t i = 0; i < r->nids; i++) {
        free(r->ids[i]);
    }
    free(r->ids);
    free(r->fps);
    memset(r, 0, sizeof(*r));
}

/* A serial as ssh-keygen takes it: strtoull base 0 (decimal, 0x hex, 0
 * octal), all of [s, end), not zero. */
static bool
parse_serial(const char *s, const char *end, uint64_t *ret)
{
    char buf[32], *ep = NULL;
    size_t n = (size_t)(end - s);
    unsigned long long v;

    if (n == 0 || n >= sizeof(buf) || s[0] == '-' || s[0] == '+') {
        return false;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    v = strtoull(buf, &ep, 0);
    if (errno != 0 || ep != buf + n || v == 0) {
        return false;
    }
    *ret = v;
    return true;
}

static const char *
trim(const char *p, const char **end)
{
    while (p < *end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    while (*end > p &&
           ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r')) {
        (*end)--;
    }
    return p;
}

/* "TYPE BASE64 [COMMENT]": the SHA256 fingerprint of the plain key, or
 * of the certified key when it is a certificate. */
static int
key_fp(const char *p,
       const char *end,
       char fp[KEYS_FP_MAX],
       const char **errstr)
{
    const char *t_end = p, *b64, *b64_end;
    unsigned char *blob;
    size_t maxbin, binlen = 0, tl;
    int r = -EINVAL;

    while (t_end < end && *t_end != ' ' && *t_end != '\t') {
        t_end++;
    }
    tl = (size_t)(t_end - p);
    b64 = t_end;
    while (b64 < end && (*b64 == ' ' || *b64 == '\t')) {
        b64++;
    }
    b64_end = b64;
    while (b64_end < end && *b64_end != ' ' && *b64_end != '\t') {
        b64_end++;
    }
    if (tl == 0 || tl >= KEYS_TYPE_MAX || b64 == b64_end) {
        *errstr = "not a public key";
        return -EINVAL;
    }
    maxbin = (size_t)(b64_end - b64) / 4 * 3 + 3;
    blob = malloc(maxbin);
    if (blob == NULL) {
        *errstr = "out of memory";
        return -ENOMEM;
    }
    *errstr = "key data is not valid base64";
    if (sodium_init() < 0 ||
        sodium_base642bin(blob,
                          maxbin,
                          b64,
                          (size_t)(b64_end - b64),
                          NULL,
                          &binlen,
                          NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        goto out;
    }
    *errstr = "key type in the blob does not match the line";
    if (binlen < 4 + tl || blob[0] || blob[1] || blob[2] != (tl >> 8) ||
        blob[3] != (tl & 0xff) || memcmp(blob + 4, p, tl) != 0) {
        goto out;
    }
    if (tl > 21 && memcmp(p + tl - 21, "-cert-v01@openssh.com", 21) == 0) {
        struct keys_cert c;
        r = keys_cert_parse(blob, binlen, &c, errstr);
        if (r == 0) {
            memcpy(fp, c.fingerprint, KEYS_FP_MAX);
            keys_cert_free(&c);
        }
        goto out;
    }
    r = keys_fingerprint(blob, binlen, fp, KEYS_FP_MAX);
out:
    free(blob);
    return r;
}

static int
add_fp(struct keys_revoked *rv, const char *fp)
{
    char(*n)[KEYS_FP_MAX] = realloc(rv->fps, (rv->nfps + 1) * sizeof(*n));

    if (n == NULL) {
        return -ENOMEM;
    }
    rv->fps = n;
    memcpy(rv->fps[rv->nfps++], fp, KEYS_FP_MAX);
    return 0;
}

/* One non-blank, non-comment line [p, end). */
static int
parse_one(struct keys_revoked *rv,
          const char *p,
          const char *end,
          const char **errstr)
{
    const char *colon = memchr(p, ':', (size_t)(end - p));
    size_t kl = colon ? (size_t)(colon - p) : 0;
    const char *v = colon ? colon + 1 : NULL;
    char fp[KEYS_FP_MAX];
    int r;

    if (v != NULL) {
        v = trim(v, &end);
    }
    if (colon != NULL && kl == 6 && strncasecmp(p, "serial", 6) == 0) {
        const char *dash = memchr(v, '-', (size_t)(end - v));
        uint64_t a, b;
        uint64_t(*n)[2];
        if (dash
                ? !parse_serial(v, dash, &a) || !parse_serial(dash + 1, end, &b)
                : !parse_serial(v, end, &a)) {
            *errstr = "invalid serial (1..2^64-1, or A-B)";
            return -EINVAL;
        }
        if (!dash) {
            b = a;
        }
        if (a > b) {
            *errstr = "serial range is backwards";
            return -EINVAL;
        }
        n = realloc(rv->serials, (rv->nserials + 1) * sizeof(*n));
        if (n == NULL) {
            return -ENOMEM;
        }
        rv->serials = n;
        rv->serials[rv->nserials][0] = a;
        rv->serials[rv->nserials++][1] = b;
        return 0;
    }
    if (colon != NULL && kl == 2 && strncasecmp(p, "id", 2) == 0) {
        char **n;
        size_t len = (size_t)(end - v);
        if (len == 0 || len >= KEYS_CERT_ID_MAX) {
            *errstr = "invalid key ID";
            return -EINVAL;
        }
        n = realloc(rv->ids, (rv->nids + 1) * sizeof(*n));
        if (n == NULL) {
            return -ENOMEM;
        }
        rv->ids = n;
        rv->ids[rv->nids] = strndup(v, len);
        if (rv->ids[rv->nids] == NULL) {
            return -ENOMEM;
        }
        rv->nids++;
        return 0;
    }
    if (colon != NULL && kl == 4 && strncasecmp(p, "hash", 4) == 0) {
        size_t len = (size_t)(end - v);
        if (len < 8 || len >= KEYS_FP_MAX || strncmp(v, "SHA256:", 7) != 0) {
            *errstr = "only SHA256: fingerprints are accepted after hash:";
            return -EINVAL;
        }
        memset(fp, 0, sizeof(fp));
        memcpy(fp, v, len);
        return add_fp(rv, fp);
    }
    if (colon != NULL && ((kl == 3 && strncasecmp(p, "key", 3) == 0) ||
                          (kl == 6 && strncasecmp(p, "sha256", 6) == 0))) {
        p = v;
    } else if (colon != NULL && kl == 4 && strncasecmp(p, "sha1", 4) == 0) {
        *errstr = "sha1: is not supported; use key: or sha256:";
        return -EINVAL;
    }
    r = key_fp(p, end, fp, errstr);
    if (r < 0) {
        return r;
    }
    return add_fp(rv, fp);
}

int
keys_revoked_parse(const char *text,
                   size_t len,
                   struct keys_revoked *ret,
                   unsigned *ret_line,
                   const char **errstr)
{
    struct keys_revoked rv;
    const char *p = text, *end = text + len;
    unsigned line = 0;

    memset(&rv, 0, sizeof(rv));
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *s;
        int r;

        line++;
        s = trim(p, &le);
        if (s < le && *s != '#') {
            if (memchr(s, '\0', (size_t)(le - s)) != NULL) {
                *errstr = "NUL byte in line";
                r = -EINVAL;
            } else if (rv.nserials + rv.nids + rv.nfps >= REVOKED_MAX_ITEMS) {
                *errstr = "too many entries (limit 65536)";
                r = -EINVAL;
            } else {
                r = parse_one(&rv, s, le, errstr);
            }
            if (r < 0) {
                if (r == -ENOMEM) {
                    *errstr = "out of memory";
                }
                keys_revoked_free(&rv);
                *ret_line = line;
                return r;
            }
        }
        p = nl ? nl + 1 : end;
    }
    *ret = rv;
    return 0;
}

bool
keys_revoked_key(const struct keys_revoked *r, const char *fp)
{
    for (size_t i = 0; i < r->nfps; i++) {
        if (strcmp(r->fps[i], fp) == 0) {
            return true;
        }
    }
    return false;
}

bool
keys_revoked_cert(const struct keys_revoked *r,
                  const struct keys_cert *c,
                  const char **why)
{
    /* As sshd: the certified key and the CA key are checked as plain
     * keys too. */
    if (keys_revoked_key(r, c->fingerprint)) {
        *why = "certified key revoked";
        return true;
    }
    if (keys_revoked_key(r, c->ca_fingerprint)) {
        *why = "certificate CA key revoked";
        return true;
    }
    for (size_t i = 0; i < r->nserials; i++) {
        if (c->serial >= r->serials[i][0] && c->serial <= r->serials[i][1]) {
            *why = "certificate serial revoked";
            return true;
        }
    }
    for (size_t i = 0; i < r->nids; i++) {
        if (strcmp(r->ids[i], c->key_id) == 0) {
            *why = "certificate key ID revoked";
            return true;
        }
    }
    return false;
}
