/* The revocation list: the text form ssh-keygen -k reads (ssh-keygen(1),
 * "KEY REVOCATION LISTS") and OpenSSH's binary KRL (PROTOCOL.krl), applied
 * to plain keys and certificates. A text file names no CA, so its serial:
 * and id: lines revoke in every trusted CA's scope, like a KRL section
 * whose CA key is empty. Nothing here logs. */
#include "keys/keys.h"
#include "keys/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
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
        free(r->ids[i].id);
    }
    free(r->ids);
    free(r->fps);
    free(r->sha1);
    memset(r, 0, sizeof(*r));
}

static size_t
items(const struct keys_revoked *r)
{
    return r->nserials + r->nids + r->nfps + r->nsha1;
}

static int
add_serials(struct keys_revoked *rv, uint64_t lo, uint64_t hi, const char *ca)
{
    struct keys_revoked_serials *n;

    if (items(rv) >= REVOKED_MAX_ITEMS) {
        return -E2BIG;
    }
    n = realloc(rv->serials, (rv->nserials + 1) * sizeof(*n));
    if (n == NULL) {
        return -ENOMEM;
    }
    rv->serials = n;
    n[rv->nserials].lo = lo;
    n[rv->nserials].hi = hi;
    memcpy(n[rv->nserials].ca, ca, strlen(ca) + 1);
    rv->nserials++;
    return 0;
}

static int
add_id(struct keys_revoked *rv, const char *id, size_t len, const char *ca)
{
    struct keys_revoked_id *n;

    if (items(rv) >= REVOKED_MAX_ITEMS) {
        return -E2BIG;
    }
    n = realloc(rv->ids, (rv->nids + 1) * sizeof(*n));
    if (n == NULL) {
        return -ENOMEM;
    }
    rv->ids = n;
    n[rv->nids].id = strndup(id, len);
    if (n[rv->nids].id == NULL) {
        return -ENOMEM;
    }
    memcpy(n[rv->nids].ca, ca, strlen(ca) + 1);
    rv->nids++;
    return 0;
}

static int
add_sha1(struct keys_revoked *rv, const unsigned char h[20])
{
    unsigned char(*n)[20];

    if (items(rv) >= REVOKED_MAX_ITEMS) {
        return -E2BIG;
    }
    n = realloc(rv->sha1, (rv->nsha1 + 1) * sizeof(*n));
    if (n == NULL) {
        return -ENOMEM;
    }
    rv->sha1 = n;
    memcpy(n[rv->nsha1++], h, 20);
    return 0;
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
    char(*n)[KEYS_FP_MAX];

    if (items(rv) >= REVOKED_MAX_ITEMS) {
        return -E2BIG;
    }
    n = realloc(rv->fps, (rv->nfps + 1) * sizeof(*n));
    if (n == NULL) {
        return -ENOMEM;
    }
    rv->fps = n;
    memcpy(rv->fps[rv->nfps++], fp, KEYS_FP_MAX);
    return 0;
}

/* ---- text form ---- */

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
        return add_serials(rv, a, b, "");
    }
    if (colon != NULL && kl == 2 && strncasecmp(p, "id", 2) == 0) {
        size_t len = (size_t)(end - v);
        if (len == 0 || len >= KEYS_CERT_ID_MAX) {
            *errstr = "invalid key ID";
            return -EINVAL;
        }
        return add_id(rv, v, len, "");
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

static int
parse_text(const char *text,
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
            } else {
                r = parse_one(&rv, s, le, errstr);
            }
            if (r == -E2BIG) {
                *errstr = "too many entries (limit 65536)";
                r = -EINVAL;
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

/* ---- binary KRL (PROTOCOL.krl) ---- */

#define KRL_MAGIC                    "SSHKRL\n"
#define KRL_FORMAT_VERSION           1u
#define KRL_SECTION_CERTIFICATES     1
#define KRL_SECTION_EXPLICIT_KEY     2
#define KRL_SECTION_FINGERPRINT_SHA1 3
#define KRL_SECTION_SIGNATURE        4
#define KRL_SECTION_FINGERPRINT_SHA2 5
#define KRL_SECTION_EXTENSION        255
#define KRL_CERT_SERIAL_LIST         0x20
#define KRL_CERT_SERIAL_RANGE        0x21
#define KRL_CERT_SERIAL_BITMAP       0x22
#define KRL_CERT_KEY_ID              0x23
#define KRL_CERT_EXTENSION           0x39

static bool
rd_u8(struct keys_reader *r, unsigned *v)
{
    if (r->left < 1) {
        return false;
    }
    *v = r->p[0];
    r->p++;
    r->left--;
    return true;
}

/* An extension (section 255 or certificate subsection 0x39): string
 * name, boolean critical, string contents. A critical one we cannot
 * understand fails the whole list. */
static int
krl_extension(const unsigned char *s, size_t n, const char **errstr)
{
    struct keys_reader r = {s, n};
    const unsigned char *x;
    size_t xl;
    unsigned crit;

    if (!keys_get_string(&r, &x, &xl) || !rd_u8(&r, &crit) ||
        !keys_get_string(&r, &x, &xl) || r.left != 0) {
        *errstr = "KRL extension is malformed";
        return -EINVAL;
    }
    if (crit != 0) {
        *errstr = "KRL has a critical extension airlock does not know";
        return -EINVAL;
    }
    return 0;
}

/* A serial bitmap: bit N of the big-endian mpint revokes offset + N;
 * runs of set bits become ranges. */
static int
krl_bitmap(struct keys_revoked *rv,
           uint64_t offset,
           const unsigned char *b,
           size_t n,
           const char *ca)
{
    uint64_t nbits = (uint64_t)n * 8;
    bool in = false;
    uint64_t start = 0;

    if (n > 0 && (b[0] & 0x80)) {
        return -EINVAL; /* negative mpint */
    }
    for (uint64_t bit = 0; bit <= nbits; bit++) {
        bool set = bit < nbits && (b[n - 1 - bit / 8] >> (bit % 8) & 1) != 0;
        int r;
        if (set && !in) {
            start = bit;
            in = true;
        } else if (!set && in) {
            uint64_t lo = offset + start, hi = offset + bit - 1;
            if (lo < offset || hi < lo) {
                return -EINVAL; /* wraps past 2^64 */
            }
            r = add_serials(rv, lo, hi, ca);
            if (r < 0) {
                return r;
            }
            in = false;
        }
    }
    return 0;
}

/* A certificate section: string ca_key, string reserved, then
 * subsections (byte type, string data). */
static int
krl_certs(struct keys_revoked *rv,
          const unsigned char *s,
          size_t n,
          const char **errstr)
{
    struct keys_reader r = {s, n};
    const unsigned char *ca, *x;
    size_t cal, xl;
    char cafp[KEYS_FP_MAX] = "";
    int rc;

    *errstr = "KRL certificate section is malformed";
    if (!keys_get_string(&r, &ca, &cal) || !keys_get_string(&r, &x, &xl)) {
        return -EINVAL;
    }
    if (cal > 0 && keys_fingerprint(ca, cal, cafp, sizeof(cafp)) < 0) {
        return -EINVAL;
    }
    while (r.left > 0) {
        unsigned type;
        const unsigned char *d;
        size_t dl;
        struct keys_reader sr;

        if (!rd_u8(&r, &type) || !keys_get_string(&r, &d, &dl)) {
            return -EINVAL;
        }
        sr.p = d;
        sr.left = dl;
        switch (type) {
        case KRL_CERT_SERIAL_LIST:
            while (sr.left > 0) {
                uint64_t v;
                if (!keys_get_u64(&sr, &v)) {
                    return -EINVAL;
                }
                rc = add_serials(rv, v, v, cafp);
                if (rc < 0) {
                    return rc;
                }
            }
            break;
        case KRL_CERT_SERIAL_RANGE: {
            uint64_t lo, hi;
            if (!keys_get_u64(&sr, &lo) || !keys_get_u64(&sr, &hi) ||
                sr.left != 0 || lo > hi) {
                return -EINVAL;
            }
            rc = add_serials(rv, lo, hi, cafp);
            if (rc < 0) {
                return rc;
            }
            break;
        }
        case KRL_CERT_SERIAL_BITMAP: {
            uint64_t off;
            if (!keys_get_u64(&sr, &off) || !keys_get_string(&sr, &x, &xl) ||
                sr.left != 0) {
                return -EINVAL;
            }
            rc = krl_bitmap(rv, off, x, xl, cafp);
            if (rc < 0) {
                return rc;
            }
            break;
        }
        case KRL_CERT_KEY_ID:
            while (sr.left > 0) {
                if (!keys_get_string(&sr, &x, &xl) ||
                    memchr(x, '\0', xl) != NULL) {
                    return -EINVAL;
                }
                rc = add_id(rv, (const char *)x, xl, cafp);
                if (rc < 0) {
                    return rc;
                }
            }
            break;
        case KRL_CERT_EXTENSION:
            rc = krl_extension(d, dl, errstr);
            if (rc < 0) {
                return rc;
            }
            break;
        default:
            *errstr = "KRL has an unknown certificate subsection";
            return -EINVAL;
        }
    }
    return 0;
}

/* Explicit key blobs, or SHA1 / SHA256 key hashes. */
static int
krl_keys(struct keys_revoked *rv,
         unsigned type,
         const unsigned char *s,
         size_t n,
         const char **errstr)
{
    struct keys_reader r = {s, n};
    const unsigned char *x;
    size_t xl;
    char fp[KEYS_FP_MAX];
    int rc;

    *errstr = "KRL key section is malformed";
    while (r.left > 0) {
        if (!keys_get_string(&r, &x, &xl)) {
            return -EINVAL;
        }
        if (type == KRL_SECTION_EXPLICIT_KEY) {
            if (xl == 0 || keys_fingerprint(x, xl, fp, sizeof(fp)) < 0) {
                return -EINVAL;
            }
            rc = add_fp(rv, fp);
        } else if (type == KRL_SECTION_FINGERPRINT_SHA1) {
            if (xl != 20) {
                return -EINVAL;
            }
            rc = add_sha1(rv, x);
        } else {
            if (xl != 32) {
                return -EINVAL;
            }
            memcpy(fp, "SHA256:", 7);
            sodium_bin2base64(fp + 7,
                              sizeof(fp) - 7,
                              x,
                              32,
                              sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
            rc = add_fp(rv, fp);
        }
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static int
parse_krl(const unsigned char *buf,
          size_t len,
          struct keys_revoked *ret,
          const char **errstr)
{
    struct keys_reader r = {buf + 8, len - 8};
    struct keys_revoked rv;
    const unsigned char *x;
    size_t xl;
    uint32_t version;
    uint64_t skip;
    int rc = -EINVAL;

    memset(&rv, 0, sizeof(rv));
    *errstr = "KRL header is malformed";
    if (!keys_get_u32(&r, &version) || !keys_get_u64(&r, &skip) ||
        !keys_get_u64(&r, &skip) || !keys_get_u64(&r, &skip) ||
        !keys_get_string(&r, &x, &xl) || !keys_get_string(&r, &x, &xl)) {
        goto fail;
    }
    if (version != KRL_FORMAT_VERSION) {
        *errstr = "KRL format version is not 1";
        goto fail;
    }
    if (sodium_init() < 0) {
        goto fail;
    }
    while (r.left > 0) {
        unsigned type;
        const unsigned char *d;
        size_t dl;

        *errstr = "KRL section is malformed";
        if (!rd_u8(&r, &type) || !keys_get_string(&r, &d, &dl)) {
            goto fail;
        }
        switch (type) {
        case KRL_SECTION_CERTIFICATES:
            rc = krl_certs(&rv, d, dl, errstr);
            break;
        case KRL_SECTION_EXPLICIT_KEY:
        case KRL_SECTION_FINGERPRINT_SHA1:
        case KRL_SECTION_FINGERPRINT_SHA2:
            rc = krl_keys(&rv, type, d, dl, errstr);
            break;
        case KRL_SECTION_EXTENSION:
            rc = krl_extension(d, dl, errstr);
            break;
        case KRL_SECTION_SIGNATURE:
            *errstr = "signed KRLs are not supported (as OpenSSH >= 9.4)";
            rc = -EINVAL;
            break;
        default:
            *errstr = "KRL has an unknown section";
            rc = -EINVAL;
            break;
        }
        if (rc == -E2BIG) {
            *errstr = "too many entries (limit 65536)";
            rc = -EINVAL;
        }
        if (rc < 0) {
            goto fail;
        }
        rc = -EINVAL;
    }
    *ret = rv;
    return 0;
fail:
    if (rc == -ENOMEM) {
        *errstr = "out of memory";
    }
    keys_revoked_free(&rv);
    return rc;
}

int
keys_revoked_parse(const char *buf,
                   size_t len,
                   struct keys_revoked *ret,
                   unsigned *ret_line,
                   const char **errstr)
{
    if (len >= 8 && memcmp(buf, KRL_MAGIC, 8) == 0) {
        *ret_line = 0;
        return parse_krl((const unsigned char *)buf, len, ret, errstr);
    }
    return parse_text(buf, len, ret, ret_line, errstr);
}

/* ---- queries ---- */

bool
keys_revoked_key(const struct keys_revoked *r,
                 const unsigned char *blob,
                 size_t len)
{
    char fp[KEYS_FP_MAX];

    if (r->nfps > 0 && keys_fingerprint(blob, len, fp, sizeof(fp)) == 0) {
        for (size_t i = 0; i < r->nfps; i++) {
            if (strcmp(r->fps[i], fp) == 0) {
                return true;
            }
        }
    }
    if (r->nsha1 > 0) {
        unsigned char h[EVP_MAX_MD_SIZE];
        unsigned hl = 0;
        if (EVP_Digest(blob, len, h, &hl, EVP_sha1(), NULL) != 1 || hl != 20) {
            return true; /* cannot tell: fail closed */
        }
        for (size_t i = 0; i < r->nsha1; i++) {
            if (memcmp(r->sha1[i], h, 20) == 0) {
                return true;
            }
        }
    }
    return false;
}

/* Does a scope (a CA fingerprint, "" for every CA) cover c's CA? */
static bool
in_scope(const char *ca, const struct keys_cert *c)
{
    return ca[0] == '\0' || strcmp(ca, c->ca_fingerprint) == 0;
}

bool
keys_revoked_cert(const struct keys_revoked *r,
                  const struct keys_cert *c,
                  const char **why)
{
    /* As sshd: the certified key and the CA key are checked as plain
     * keys too. */
    if (keys_revoked_key(r, c->key_blob, c->key_blob_len)) {
        *why = "certified key revoked";
        return true;
    }
    if (keys_revoked_key(r, c->ca_blob, c->ca_blob_len)) {
        *why = "certificate CA key revoked";
        return true;
    }
    for (size_t i = 0; i < r->nserials; i++) {
        if (c->serial >= r->serials[i].lo && c->serial <= r->serials[i].hi &&
            in_scope(r->serials[i].ca, c)) {
            *why = "certificate serial revoked";
            return true;
        }
    }
    for (size_t i = 0; i < r->nids; i++) {
        if (strcmp(r->ids[i].id, c->key_id) == 0 && in_scope(r->ids[i].ca, c)) {
            *why = "certificate key ID revoked";
            return true;
        }
    }
    return false;
}
