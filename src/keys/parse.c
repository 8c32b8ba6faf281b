/* authorized_keys line parser: options, key type, blob validation,
 * fingerprints. No logging: every failure is a static reason string that
 * the caller prints with the source and line number. */
#include "keys/keys.h"
#include "keys/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

/* Key types this module knows, and what it thinks of them. Types that
 * are known but refused get their own reason, so the user learns why
 * instead of reading "unknown key type". */
enum key_kind {
    KIND_ED25519,
    KIND_ECDSA,
    KIND_RSA,
    KIND_SK_ED25519,
    KIND_SK_ECDSA,
    KIND_REFUSED,
};

struct key_type {
    const char *name;
    enum key_kind kind;
    const char *curve;   /* ECDSA curve name inside the blob */
    unsigned bits;       /* fixed size types */
    const char *refusal; /* KIND_REFUSED: why */
};

static const struct key_type key_types[] = {
    {"ssh-ed25519", KIND_ED25519, NULL, 256, NULL},
    {"ecdsa-sha2-nistp256", KIND_ECDSA, "nistp256", 256, NULL},
    {"ecdsa-sha2-nistp384", KIND_ECDSA, "nistp384", 384, NULL},
    {"ecdsa-sha2-nistp521", KIND_ECDSA, "nistp521", 521, NULL},
    {"ssh-rsa", KIND_RSA, NULL, 0, NULL},
    /* libssh 0.10 verifies both FIDO types (SSH_KEYTYPE_SK_*). */
    {"sk-ssh-ed25519@openssh.com", KIND_SK_ED25519, NULL, 256, NULL},
    {"sk-ecdsa-sha2-nistp256@openssh.com",
     KIND_SK_ECDSA,
     "nistp256",
     256,
     NULL},
    {"ssh-dss", KIND_REFUSED, NULL, 0, "ssh-dss keys are not accepted"},
    {"ssh-rsa-cert-v01@openssh.com",
     KIND_REFUSED,
     NULL,
     0,
     "certificates are not accepted"},
    {"ssh-dss-cert-v01@openssh.com",
     KIND_REFUSED,
     NULL,
     0,
     "certificates are not accepted"},
    {"ssh-ed25519-cert-v01@openssh.com",
     KIND_REFUSED,
     NULL,
     0,
     "certificates are not accepted"},
    {"ecdsa-sha2-nistp256-cert-v01@openssh.com",
     KIND_REFUSED,
     NULL,
     0,
     "certificates are not accepted"},
    {"ecdsa-sha2-nistp384-cert-v01@openssh.com",
     KIND_REFUSED,
     NULL,
     0,
     "certificates are not accepted"},
    {"ecdsa-sha2-nistp521-cert-v01@openssh.com",
     KIND_REFUSED,
     NULL,
     0,
     "certificates are not accepted"},
    {"sk-ssh-ed25519-cert-v01@openssh.com",
     KIND_REFUSED,
     NULL,
     0,
     "certificates are not accepted"},
    {"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
     KIND_REFUSED,
     NULL,
     0,
     "certificates are not accepted"},
};

#define N_KEY_TYPES (sizeof(key_types) / sizeof(key_types[0]))

#define RSA_MIN_BITS KEYS_RSA_MIN_BITS
#define RSA_MAX_BITS 16384 /* OpenSSH's SSHBUF_MAX_BIGNUM */

static const struct key_type *
find_key_type(const char *s, size_t len)
{
    for (size_t i = 0; i < N_KEY_TYPES; i++) {
        if (strlen(key_types[i].name) == len &&
            memcmp(key_types[i].name, s, len) == 0) {
            return &key_types[i];
        }
    }
    return NULL;
}

bool
keys_type_allowed(const char *type)
{
    const struct key_type *kt =
        type != NULL ? find_key_type(type, strlen(type)) : NULL;

    return kt != NULL && kt->kind != KIND_REFUSED;
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* ---- Options -------------------------------------------------------- */

void
keys_options_free(struct keys_options *o)
{
    if (o == NULL) {
        return;
    }
    free(o->force_command);
    free(o->from);
    for (size_t i = 0; i < o->npermitopen; i++) {
        free(o->permitopen[i]);
    }
    free(o->permitopen);
    for (size_t i = 0; i < o->nenvironment; i++) {
        free(o->environment[i]);
    }
    free(o->environment);
    memset(o, 0, sizeof(*o));
}

/* Options that OpenSSH knows and airlock refuses: accepting them while
 * ignoring what they mean would widen access (cert-authority), or they
 * name features airlock does not have. */
static const struct {
    const char *name;
    const char *reason;
} refused_options[] = {
    {"cert-authority", "option cert-authority is not supported"},
    {"principals", "option principals= is not supported"},
    {"tunnel", "option tunnel= is not supported"},
    {"permitlisten", "option permitlisten= is not supported"},
    {"no-touch-required", "option no-touch-required is not supported"},
    {"verify-required", "option verify-required is not supported"},
};

static int
append_string(char ***arr,
              size_t *n,
              size_t max,
              char *s,
              const char **errstr,
              const char *too_many)
{
    char **na;

    if (*n >= max) {
        free(s);
        *errstr = too_many;
        return -EINVAL;
    }
    na = realloc(*arr, (*n + 1) * sizeof(*na));
    if (na == NULL) {
        free(s);
        *errstr = "out of memory";
        return -ENOMEM;
    }
    na[(*n)++] = s;
    *arr = na;
    return 0;
}

static const char *
check_from(const char *v)
{
    const char *p = v;

    if (*v == '\0') {
        return "empty from= pattern list";
    }
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char pat[256];

        if (len > 0 && *p == '!') {
            p++;
            len--;
        }
        if (len == 0) {
            return "empty pattern in from=";
        }
        if (len >= sizeof(pat)) {
            return "pattern too long in from=";
        }
        memcpy(pat, p, len);
        pat[len] = '\0';
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)pat[i];
            if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\') {
                return "invalid character in from= pattern";
            }
        }
        if (strchr(pat, '/') != NULL) {
            unsigned char a[16];
            int fam;
            unsigned pfx;
            if (!keys_cidr_parse(pat, a, &fam, &pfx)) {
                return "invalid CIDR in from=";
            }
        }
        if (end == NULL) {
            return NULL;
        }
        p = end + 1;
    }
}

static const char *
check_permitopen(const char *v)
{
    const char *colon;
    const char *port;

    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        if (close == NULL || close == v + 1 || close[1] != ':') {
            return "invalid permitopen= (want host:port)";
        }
        colon = close + 1;
    } else {
        colon = strrchr(v, ':');
        if (colon == NULL || colon == v ||
            memchr(v, ':', (size_t)(colon - v))) {
            return "invalid permitopen= (want host:port)";
        }
    }
    port = colon + 1;
    if (strcmp(port, "*") == 0) {
        return NULL;
    }
    if (*port == '\0' || strlen(port) > 5 ||
        strspn(port, "0123456789") != strlen(port)) {
        return "invalid port in permitopen=";
    }
    long n = strtol(port, NULL, 10);
    if (n < 1 || n > 65535) {
        return "invalid port in permitopen=";
    }
    for (const char *c = v; c < colon; c++) {
        if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f) {
            return "invalid host in permitopen=";
        }
    }
    return NULL;
}

static const char *
check_environment(const char *v)
{
    const char *eq = strchr(v, '=');

    if (eq == NULL || eq == v) {
        return "invalid environment= (want NAME=value)";
    }
    for (const char *c = v; c < eq; c++) {
        bool alpha =
            (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || *c == '_';
        if (!alpha && !(c > v && *c >= '0' && *c <= '9')) {
            return "invalid variable name in environment=";
        }
    }
    return NULL;
}

/* YYYYMMDD[HHMM[SS]][Z], as sshd(8) AUTHORIZED_KEYS FILE FORMAT says: in
 * the system time zone (TZ, /etc/localtime; UTC in most containers),
 * unless it ends in Z, then in UTC. */
static const char *
parse_expiry(const char *v, time_t *ret)
{
    size_t len = strlen(v);
    int f[6] = {0, 0, 0, 0, 0, 0};
    struct tm tm;
    time_t t;
    bool utc = false;

    if (len > 0 && (v[len - 1] == 'Z' || v[len - 1] == 'z')) {
        len--;
        utc = true;
    }
    if ((len != 8 && len != 12 && len != 14) || strspn(v, "0123456789") < len) {
        return "invalid expiry-time= (want YYYYMMDD[HHMM[SS]])";
    }
    f[0] = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 +
           (v[3] - '0');
    for (size_t i = 4, k = 1; i < len; i += 2, k++) {
        f[k] = (v[i] - '0') * 10 + (v[i + 1] - '0');
    }
    if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 ||
        f[3] > 23 || f[4] > 59 || f[5] > 59) {
        return "invalid expiry-time= (want YYYYMMDD[HHMM[SS]])";
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = f[0] - 1900;
    tm.tm_mon = f[1] - 1;
    tm.tm_mday = f[2];
    tm.tm_hour = f[3];
    tm.tm_min = f[4];
    tm.tm_sec = f[5];
    tm.tm_isdst = -1; /* mktime: whether DST applies then, from the zone */
    t = utc ? timegm(&tm) : mktime(&tm);
    /* Both normalise 20260231 to March 3: refuse dates that moved. */
    if (t <= 0 || tm.tm_mday != f[2] || tm.tm_mon != f[1] - 1) {
        return "invalid expiry-time= (want YYYYMMDD[HHMM[SS]])";
    }
    *ret = t;
    return NULL;
}

/* Reads a double-quoted value at *pp (end at end), OpenSSH style: only
 * \" is an escape, any other backslash is kept. Returns a malloc'ed
 * string or NULL with *errstr. */
static char *
dequote(const char **pp, const char *end, const char **errstr)
{
    const char *p = *pp;
    char *out, *o;

    if (p >= end || *p != '"') {
        *errstr = "option value must be in double quotes";
        return NULL;
    }
    p++;
    out = malloc((size_t)(end - p) + 1);
    if (out == NULL) {
        *errstr = "out of memory";
        return NULL;
    }
    o = out;
    for (; p < end && *p != '"'; p++) {
        if (*p == '\\' && p + 1 < end && p[1] == '"') {
            p++;
        }
        *o++ = *p;
    }
    if (p >= end) {
        free(out);
        *errstr = "missing closing quote in option value";
        return NULL;
    }
    *o = '\0';
    *pp = p + 1;
    return out;
}

struct flag_option {
    const char *name;
    size_t offset;
    bool value;
};

#define FLAG(n, field, v)                          \
    {                                              \
        n, offsetof(struct keys_options, field), v \
    }

static const struct flag_option flag_options[] = {
    FLAG("no-pty", no_pty, true),
    FLAG("pty", no_pty, false),
    FLAG("no-port-forwarding", no_port_forwarding, true),
    FLAG("port-forwarding", no_port_forwarding, false),
    FLAG("no-agent-forwarding", no_agent_forwarding, true),
    FLAG("agent-forwarding", no_agent_forwarding, false),
    FLAG("no-x11-forwarding", no_x11_forwarding, true),
    FLAG("x11-forwarding", no_x11_forwarding, false),
    FLAG("no-user-rc", no_user_rc, true),
    FLAG("user-rc", no_user_rc, false),
};

int
keys_parse_options(const char *s,
                   size_t len,
                   unsigned flags,
                   struct keys_options *ret,
                   const char **errstr)
{
    struct keys_options o;
    const char *p = s, *end = s + len;
    int r = -EINVAL;

    memset(&o, 0, sizeof(o));
    if (len == 0) {
        *errstr = "empty options";
        return -EINVAL;
    }
    /* Values end up in a line-based store: no NUL or line break. */
    if (memchr(s, '\0', len) != NULL || memchr(s, '\n', len) != NULL ||
        memchr(s, '\r', len) != NULL) {
        *errstr = "control character in options";
        return -EINVAL;
    }
    while (p < end) {
        const char *name = p;
        size_t nlen;
        char *value = NULL;
        const char *bad = NULL;
        bool matched = false;

        while (p < end && *p != '=' && *p != ',') {
            p++;
        }
        nlen = (size_t)(p - name);
        if (nlen == 0) {
            *errstr = "empty option";
            goto fail;
        }
        if (p < end && *p == '=') {
            p++;
            value = dequote(&p, end, errstr);
            if (value == NULL) {
                goto fail;
            }
        }
        if (p < end) {
            if (*p != ',' || p + 1 == end) {
                free(value);
                *errstr = *p == ',' ? "trailing comma in options"
                                    : "garbage after option value";
                goto fail;
            }
            p++;
        }

#define IS(n) (nlen == strlen(n) && strncasecmp(name, n, nlen) == 0)
        if (IS("restrict")) {
            matched = true;
            if (value == NULL) {
                o.restricted = true;
                o.no_pty = o.no_port_forwarding = true;
                o.no_agent_forwarding = o.no_x11_forwarding = true;
                o.no_user_rc = true;
            }
        }
        for (size_t i = 0;
             !matched && i < sizeof(flag_options) / sizeof(flag_options[0]);
             i++) {
            if (IS(flag_options[i].name)) {
                matched = true;
                if (value == NULL) {
                    *(bool *)((char *)&o + flag_options[i].offset) =
                        flag_options[i].value;
                }
            }
        }
        if (matched) {
            if (value != NULL) {
                free(value);
                *errstr = "option takes no value";
                goto fail;
            }
            continue;
        }
        for (size_t i = 0;
             i < sizeof(refused_options) / sizeof(refused_options[0]);
             i++) {
            if (IS(refused_options[i].name)) {
                free(value);
                *errstr = refused_options[i].reason;
                goto fail;
            }
        }
        if (!IS("command") && !IS("from") && !IS("permitopen") &&
            !IS("expiry-time") && !IS("environment")) {
            free(value);
            *errstr = "unknown option";
            goto fail;
        }
        if (value == NULL) {
            *errstr = "option needs a value";
            goto fail;
        }
        if (IS("command")) {
            if (o.force_command != NULL) {
                bad = "more than one command= option";
            } else {
                o.force_command = value;
                value = NULL;
            }
        } else if (IS("from")) {
            if (o.from != NULL) {
                bad = "more than one from= option";
            } else if ((bad = check_from(value)) == NULL) {
                o.from = value;
                value = NULL;
            }
        } else if (IS("permitopen")) {
            if ((bad = check_permitopen(value)) == NULL) {
                r = append_string(&o.permitopen,
                                  &o.npermitopen,
                                  KEYS_MAX_PERMITOPEN,
                                  value,
                                  errstr,
                                  "too many permitopen= options");
                value = NULL;
                if (r < 0) {
                    goto fail;
                }
            }
        } else if (IS("expiry-time")) {
            time_t t = 0;
            if ((bad = parse_expiry(value, &t)) == NULL &&
                (o.valid_before == 0 || t < o.valid_before)) {
                /* Several expiry-time= options: the earliest wins. */
                o.valid_before = t;
            }
        } else {
            if (!(flags & KEYS_PARSE_PERMIT_ENV)) {
                bad = "environment= needs AIRLOCK_SSH_PERMIT_USER_ENV=yes";
            } else if ((bad = check_environment(value)) == NULL) {
                r = append_string(&o.environment,
                                  &o.nenvironment,
                                  KEYS_MAX_ENV,
                                  value,
                                  errstr,
                                  "too many environment= options");
                value = NULL;
                if (r < 0) {
                    goto fail;
                }
            }
        }
#undef IS
        free(value);
        if (bad != NULL) {
            *errstr = bad;
            goto fail;
        }
    }
    *ret = o;
    return 0;
fail:
    keys_options_free(&o);
    return r == -ENOMEM ? -ENOMEM : -EINVAL;
}

/* ---- Formatting ----------------------------------------------------- */

struct strbuf {
    char *s;
    size_t len, cap;
    bool oom;
};

static void
sb_add(struct strbuf *b, const char *s, size_t n)
{
    if (b->oom) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *ns = realloc(b->s, cap);
        if (ns == NULL) {
            b->oom = true;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void
sb_str(struct strbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void
sb_opt(struct strbuf *b, const char *name)
{
    if (b->len > 0) {
        sb_add(b, ",", 1);
    }
    sb_str(b, name);
}

/* name="value" with " escaped as \" (the inverse of dequote). */
static void
sb_quoted(struct strbuf *b, const char *name, const char *value)
{
    sb_opt(b, name);
    sb_add(b, "=\"", 2);
    for (const char *p = value; *p; p++) {
        if (*p == '"') {
            sb_add(b, "\\", 1);
        }
        sb_add(b, p, 1);
    }
    sb_add(b, "\"", 1);
}

char *
keys_options_format(const struct keys_options *o)
{
    struct strbuf b = {NULL, 0, 0, false};

    sb_add(&b, "", 0);
    if (o->restricted) {
        sb_opt(&b, "restrict");
    }
    /* With restrict every no-* is implied; write the ones lifted again. */
    for (size_t i = 0; i < sizeof(flag_options) / sizeof(flag_options[0]);
         i++) {
        bool v = *(const bool *)((const char *)o + flag_options[i].offset);
        if (v == flag_options[i].value && v != o->restricted) {
            sb_opt(&b, flag_options[i].name);
        }
    }
    if (o->force_command != NULL) {
        sb_quoted(&b, "command", o->force_command);
    }
    if (o->from != NULL) {
        sb_quoted(&b, "from", o->from);
    }
    for (size_t i = 0; i < o->npermitopen; i++) {
        sb_quoted(&b, "permitopen", o->permitopen[i]);
    }
    if (o->valid_before != 0) {
        struct tm tm;
        char t[32];
        time_t vb = o->valid_before;
        if (gmtime_r(&vb, &tm) == NULL ||
            strftime(t, sizeof(t), "%Y%m%d%H%M%SZ", &tm) == 0) {
            free(b.s);
            return NULL;
        }
        sb_quoted(&b, "expiry-time", t);
    }
    for (size_t i = 0; i < o->nenvironment; i++) {
        sb_quoted(&b, "environment", o->environment[i]);
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

char *
keys_sanitize(char *s)
{
    for (char *p = s; p != NULL && *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }
    return s;
}

char *
keys_entry_format(const struct keys_entry *e)
{
    struct strbuf b = {NULL, 0, 0, false};
    char *opts = keys_options_format(&e->opts);
    size_t b64len =
        sodium_base64_ENCODED_LEN(e->blob_len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64len);

    if (opts == NULL || b64 == NULL) {
        free(opts);
        free(b64);
        return NULL;
    }
    sodium_bin2base64(b64,
                      b64len,
                      e->blob,
                      e->blob_len,
                      sodium_base64_VARIANT_ORIGINAL);
    if (*opts != '\0') {
        sb_str(&b, opts);
        sb_add(&b, " ", 1);
    }
    sb_str(&b, e->type);
    sb_add(&b, " ", 1);
    sb_str(&b, b64);
    if (e->comment != NULL && *e->comment != '\0') {
        sb_add(&b, " ", 1);
        sb_str(&b, e->comment);
    }
    free(opts);
    free(b64);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* ---- Blobs ---------------------------------------------------------- */

bool
keys_get_string(struct keys_reader *r,
                const unsigned char **ret,
                size_t *ret_len)
{
    uint32_t n;

    if (r->left < 4) {
        return false;
    }
    n = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
        (uint32_t)r->p[2] << 8 | r->p[3];
    if (n > r->left - 4) {
        return false;
    }
    *ret = r->p + 4;
    *ret_len = n;
    r->p += 4 + n;
    r->left -= 4 + n;
    return true;
}

bool
keys_get_u32(struct keys_reader *r, uint32_t *v)
{
    if (r->left < 4) {
        return false;
    }
    *v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
         (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    r->left -= 4;
    return true;
}

bool
keys_get_u64(struct keys_reader *r, uint64_t *v)
{
    uint32_t hi, lo;

    if (r->left < 8) {
        return false;
    }
    (void)keys_get_u32(r, &hi);
    (void)keys_get_u32(r, &lo);
    *v = (uint64_t)hi << 32 | lo;
    return true;
}

static bool
string_is(const unsigned char *s, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(s, want, len) == 0;
}

/* Bits in a positive mpint, or 0 when it is negative or zero. */
static unsigned
mpint_bits(const unsigned char *s, size_t len)
{
    unsigned bits;

    if (len == 0 || (s[0] & 0x80)) {
        return 0;
    }
    while (len > 0 && s[0] == 0) {
        s++;
        len--;
    }
    if (len == 0) {
        return 0;
    }
    bits = (unsigned)(len - 1) * 8;
    for (unsigned c = s[0]; c != 0; c >>= 1) {
        bits++;
    }
    return bits;
}

/* Checks the blob's structure for its type; sets *bits. */
static const char *
check_blob(const struct key_type *kt,
           const unsigned char *blob,
           size_t len,
           unsigned *bits)
{
    struct keys_reader r = {blob, len};
    const unsigned char *s;
    size_t slen;

    if (!keys_get_string(&r, &s, &slen)) {
        return "key blob is truncated";
    }
    if (!string_is(s, slen, kt->name)) {
        return "key type in the blob does not match the line";
    }
    switch (kt->kind) {
    case KIND_ED25519:
    case KIND_SK_ED25519:
        if (!keys_get_string(&r, &s, &slen) || slen != 32) {
            return "invalid ed25519 public key";
        }
        *bits = kt->bits;
        break;
    case KIND_ECDSA:
    case KIND_SK_ECDSA: {
        size_t want = kt->bits == 256 ? 65 : kt->bits == 384 ? 97 : 133;
        if (!keys_get_string(&r, &s, &slen) || !string_is(s, slen, kt->curve)) {
            return "ECDSA curve in the blob does not match the key type";
        }
        if (!keys_get_string(&r, &s, &slen) || slen != want || s[0] != 0x04) {
            return "invalid ECDSA public point";
        }
        *bits = kt->bits;
        break;
    }
    case KIND_RSA: {
        unsigned ebits, nbits;
        if (!keys_get_string(&r, &s, &slen)) {
            return "invalid RSA public key";
        }
        ebits = mpint_bits(s, slen);
        if (!keys_get_string(&r, &s, &slen)) {
            return "invalid RSA public key";
        }
        nbits = mpint_bits(s, slen);
        if (ebits == 0 || nbits == 0 || ebits > nbits) {
            return "invalid RSA public key";
        }
        if (nbits < RSA_MIN_BITS) {
            return "RSA keys shorter than 2048 bits are not accepted";
            /* (KEYS_RSA_MIN_BITS; keys_authorise checks it again.) */
        }
        if (nbits > RSA_MAX_BITS) {
            return "RSA keys longer than 16384 bits are not accepted";
        }
        *bits = nbits;
        break;
    }
    case KIND_REFUSED:
        return kt->refusal;
    }
    if (kt->kind == KIND_SK_ED25519 || kt->kind == KIND_SK_ECDSA) {
        /* The FIDO application string, "ssh:" for OpenSSH's own. */
        if (!keys_get_string(&r, &s, &slen) || slen == 0) {
            return "invalid security key application";
        }
    }
    if (r.left != 0) {
        return "trailing data in key blob";
    }
    return NULL;
}

const char *
keys_check_key_blob(const char *type,
                    const unsigned char *blob,
                    size_t len,
                    unsigned *bits)
{
    const struct key_type *kt = find_key_type(type, strlen(type));

    if (kt == NULL) {
        return "unknown key type";
    }
    return check_blob(kt, blob, len, bits);
}

int
keys_fingerprint(const unsigned char *blob, size_t len, char *buf, size_t size)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    size_t b64 =
        sodium_base64_ENCODED_LEN(sizeof(h),
                                  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);

    if (size < 7 + b64) {
        return -ENOBUFS;
    }
    if (sodium_init() < 0) {
        return -EIO;
    }
    crypto_hash_sha256(h, blob, len);
    memcpy(buf, "SHA256:", 7);
    sodium_bin2base64(buf + 7,
                      size - 7,
                      h,
                      sizeof(h),
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    return 0;
}

/* ---- Lines ---------------------------------------------------------- */

void
keys_entry_free(struct keys_entry *e)
{
    if (e == NULL) {
        return;
    }
    free(e->blob);
    free(e->comment);
    free(e->source);
    free(e->cert_id);
    keys_options_free(&e->opts);
    memset(e, 0, sizeof(*e));
}

/* A token that could be a key type name: [a-z0-9@.-]+ with a dash. */
static bool
looks_like_type(const char *s, size_t len)
{
    if (len == 0 || len >= KEYS_TYPE_MAX || memchr(s, '-', len) == NULL) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '@' ||
              c == '.' || c == '-')) {
            return false;
        }
    }
    return true;
}

/* Two keys glued on one line (a file without its final newline followed
 * by another): the comment then holds "TYPE AAAA...". */
static bool
has_glued_key(const char *s, size_t len)
{
    static const char *const prefixes[] = {"ssh-", "ecdsa-sha2-", "sk-"};

    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < 3; k++) {
            size_t pl = strlen(prefixes[k]);
            size_t j;
            if (len - i < pl || memcmp(s + i, prefixes[k], pl) != 0) {
                continue;
            }
            j = i + pl;
            while (j < len && !is_space(s[j])) {
                j++;
            }
            while (j < len && is_space(s[j])) {
                j++;
            }
            if (len - j >= 4 && memcmp(s + j, "AAAA", 4) == 0) {
                return true;
            }
        }
    }
    return false;
}

/* End of the options field: the first blank outside double quotes. */
static const char *
skip_options(const char *p, const char *end)
{
    bool quoted = false;

    for (; p < end; p++) {
        if (*p == '\\' && quoted && p + 1 < end && p[1] == '"') {
            p++;
        } else if (*p == '"') {
            quoted = !quoted;
        } else if (!quoted && is_space(*p)) {
            return p;
        }
    }
    return quoted ? NULL : p;
}

static const char *
token_end(const char *p, const char *end)
{
    while (p < end && !is_space(*p)) {
        p++;
    }
    return p;
}

static const char *
skip_blanks(const char *p, const char *end)
{
    while (p < end && is_space(*p)) {
        p++;
    }
    return p;
}

int
keys_parse_line(const char *line,
                size_t len,
                unsigned flags,
                struct keys_entry *ret,
                const char **errstr)
{
    const char *p, *end = line + len, *tok, *tok_end;
    const struct key_type *kt;
    struct keys_entry e;
    const char *b64, *b64_end, *reason;
    size_t maxbin, binlen = 0;
    int r = -EINVAL;

    memset(&e, 0, sizeof(e));
    while (end > line && (end[-1] == '\n' || end[-1] == '\r')) {
        end--;
    }
    if ((size_t)(end - line) >
        (flags & KEYS_PARSE_STORE ? 4 * KEYS_MAX_LINE : KEYS_MAX_LINE)) {
        *errstr = "line too long";
        return -EINVAL;
    }
    if (memchr(line, '\0', (size_t)(end - line)) != NULL) {
        *errstr = "line contains a NUL byte";
        return -EINVAL;
    }
    if (memchr(line, '\n', (size_t)(end - line)) != NULL ||
        memchr(line, '\r', (size_t)(end - line)) != NULL) {
        *errstr = "line contains a stray line break";
        return -EINVAL;
    }
    p = skip_blanks(line, end);
    if (p == end || *p == '#') {
        return 0;
    }

    /* Without options the line starts with the key type; a first token
     * that looks like a type and is followed by base64 is taken as one,
     * so "ssh-foo AAAA..." says "unknown key type", not "unknown option". */
    tok = p;
    tok_end = token_end(p, end);
    kt = find_key_type(tok, (size_t)(tok_end - tok));
    if (kt == NULL) {
        const char *next = skip_blanks(tok_end, end);
        if (looks_like_type(tok, (size_t)(tok_end - tok)) && end - next >= 4 &&
            memcmp(next, "AAAA", 4) == 0) {
            *errstr = "unknown key type";
            return -EINVAL;
        }
        tok_end = skip_options(tok, end);
        if (tok_end == NULL) {
            *errstr = "missing closing quote in options";
            return -EINVAL;
        }
        r = keys_parse_options(tok,
                               (size_t)(tok_end - tok),
                               flags,
                               &e.opts,
                               errstr);
        if (r < 0) {
            return r;
        }
        r = -EINVAL;
        tok = skip_blanks(tok_end, end);
        tok_end = token_end(tok, end);
        if (tok == end) {
            *errstr = "missing key type";
            goto fail;
        }
        kt = find_key_type(tok, (size_t)(tok_end - tok));
    }
    if (kt == NULL) {
        *errstr = "unknown key type";
        goto fail;
    }
    if (kt->kind == KIND_REFUSED) {
        *errstr = kt->refusal;
        goto fail;
    }
    memcpy(e.type, kt->name, strlen(kt->name) + 1);

    b64 = skip_blanks(tok_end, end);
    b64_end = token_end(b64, end);
    if (b64 == b64_end) {
        *errstr = "missing key data";
        goto fail;
    }
    maxbin = (size_t)(b64_end - b64) / 4 * 3 + 3;
    e.blob = malloc(maxbin);
    if (e.blob == NULL) {
        *errstr = "out of memory";
        r = -ENOMEM;
        goto fail;
    }
    if (sodium_init() < 0 ||
        (sodium_base642bin(e.blob,
                           maxbin,
                           b64,
                           (size_t)(b64_end - b64),
                           NULL,
                           &binlen,
                           NULL,
                           sodium_base64_VARIANT_ORIGINAL) != 0 &&
         sodium_base642bin(e.blob,
                           maxbin,
                           b64,
                           (size_t)(b64_end - b64),
                           NULL,
                           &binlen,
                           NULL,
                           sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0)) {
        *errstr = "key data is not valid base64";
        goto fail;
    }
    e.blob_len = binlen;
    reason = check_blob(kt, e.blob, e.blob_len, &e.bits);
    if (reason != NULL) {
        *errstr = reason;
        goto fail;
    }

    /* The comment: the rest, trimmed, control characters made visible. */
    p = skip_blanks(b64_end, end);
    while (end > p && is_space(end[-1])) {
        end--;
    }
    if (has_glued_key(p, (size_t)(end - p))) {
        *errstr = "two keys on one line (a missing newline?)";
        goto fail;
    }
    e.comment = malloc((size_t)(end - p) + 1);
    if (e.comment == NULL) {
        *errstr = "out of memory";
        r = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < (size_t)(end - p); i++) {
        unsigned char c = (unsigned char)p[i];
        /* A tab becomes a blank, not '?': token boundaries stay, so the
         * stored line parses back the same. */
        e.comment[i] = c == '\t'                 ? ' '
                       : (c < 0x20 || c == 0x7f) ? '?'
                                                 : (char)c;
    }
    e.comment[end - p] = '\0';
    if (keys_fingerprint(e.blob,
                         e.blob_len,
                         e.fingerprint,
                         sizeof(e.fingerprint)) < 0) {
        *errstr = "cannot compute fingerprint";
        r = -EIO;
        goto fail;
    }
    *ret = e;
    return 1;
fail:
    keys_entry_free(&e);
    return r;
}

/* ---- Sets ----------------------------------------------------------- */

static char *
dup_or_null(const char *s, bool *oom)
{
    char *d;

    if (s == NULL) {
        return NULL;
    }
    d = strdup(s);
    if (d == NULL) {
        *oom = true;
    }
    return d;
}

static char **
dup_array(char *const *a, size_t n, bool *oom)
{
    char **d;

    if (n == 0) {
        return NULL;
    }
    d = calloc(n, sizeof(*d));
    if (d == NULL) {
        *oom = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        d[i] = dup_or_null(a[i], oom);
    }
    return d;
}

int
keys_set_add(struct keys_set *set, const struct keys_entry *e)
{
    struct keys_entry *d;
    bool oom = false;

    if (set->count == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 8;
        struct keys_entry *n = realloc(set->entries, cap * sizeof(*n));
        if (n == NULL) {
            return -ENOMEM;
        }
        set->entries = n;
        set->cap = cap;
    }
    d = &set->entries[set->count];
    *d = *e;
    d->blob = malloc(e->blob_len ? e->blob_len : 1);
    if (d->blob == NULL) {
        oom = true;
    } else {
        memcpy(d->blob, e->blob, e->blob_len);
    }
    d->comment = dup_or_null(e->comment ? e->comment : "", &oom);
    d->source = dup_or_null(e->source, &oom);
    d->cert_id = e->cert_id ? dup_or_null(e->cert_id, &oom) : NULL;
    d->opts.force_command = dup_or_null(e->opts.force_command, &oom);
    d->opts.from = dup_or_null(e->opts.from, &oom);
    d->opts.permitopen =
        dup_array(e->opts.permitopen, e->opts.npermitopen, &oom);
    d->opts.environment =
        dup_array(e->opts.environment, e->opts.nenvironment, &oom);
    if (d->opts.permitopen == NULL) {
        d->opts.npermitopen = 0;
    }
    if (d->opts.environment == NULL) {
        d->opts.nenvironment = 0;
    }
    if (oom) {
        /* Arrays may hold NULLs here; keys_options_free copes with that. */
        keys_entry_free(d);
        return -ENOMEM;
    }
    set->count++;
    return 0;
}

void
keys_set_free(struct keys_set *set)
{
    if (set == NULL) {
        return;
    }
    for (size_t i = 0; i < set->count; i++) {
        keys_entry_free(&set->entries[i]);
    }
    free(set->entries);
    memset(set, 0, sizeof(*set));
}

const struct keys_entry *
keys_set_find(const struct keys_set *set,
              const char *type,
              const unsigned char *blob,
              size_t len)
{
    return keys_set_find_user(set, NULL, type, blob, len);
}

const struct keys_entry *
keys_set_find_user(const struct keys_set *set,
                   const char *user,
                   const char *type,
                   const unsigned char *blob,
                   size_t len)
{
    const struct keys_entry *found = NULL;

    /* Every candidate of the right length is compared, even after a
     * match, so the time taken does not tell which entry matched. */
    for (size_t i = 0; i < set->count; i++) {
        const struct keys_entry *e = &set->entries[i];
        if (e->blob_len == len && strcmp(e->type, type) == 0 &&
            sodium_memcmp(e->blob, blob, len) == 0 && found == NULL &&
            (user == NULL || strcmp(e->user, user) == 0)) {
            found = e;
        }
    }
    return found;
}

size_t
keys_set_users(const struct keys_set *set, char *one, size_t size)
{
    size_t n = 0;

    /* Sorted by user: each user is one run of entries. */
    for (size_t i = 0; i < set->count; i++) {
        n += i == 0 ||
             strcmp(set->entries[i - 1].user, set->entries[i].user) != 0;
    }
    if (size > 0) {
        one[0] = '\0';
        if (n == 1 && strlen(set->entries[0].user) < size) {
            memcpy(one, set->entries[0].user, strlen(set->entries[0].user) + 1);
        }
    }
    return n;
}
