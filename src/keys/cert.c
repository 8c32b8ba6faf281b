/* OpenSSH user certificates (PROTOCOL.certkeys): the parser, the CA
 * signature check (Ed25519 with libsodium; ECDSA and RSA with libcrypto,
 * which libssh already links), and keys_authorise_key, the one
 * authorisation call for plain keys and certificates alike. libssh 0.10
 * validates nothing about certificates, so every check sshd makes for
 * TrustedUserCAKeys is made here. Nothing here logs. */
#include "keys/keys.h"
#include "keys/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "common/strutil.h"

/* A CA nonce shorter than this cannot do its job (making chosen-prefix
 * collisions on the signed data infeasible); ssh-keygen, Vault and
 * step-ca all send 32 bytes. */
#define CERT_MIN_NONCE 16

/* 9999-12-31 23:59:59 UTC, the last expiry-time= can name. */
#define CERT_MAX_EXPIRY 253402300799ULL

static const struct {
    const char *cert;
    const char *plain;
    unsigned nfields; /* SSH strings/mpints of the key after the nonce */
} cert_types[] = {
    {"ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519", 1},
    {"ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256", 2},
    {"ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp384", 2},
    {"ecdsa-sha2-nistp521-cert-v01@openssh.com", "ecdsa-sha2-nistp521", 2},
    {"ssh-rsa-cert-v01@openssh.com", "ssh-rsa", 2},
};

#define N_CERT_TYPES (sizeof(cert_types) / sizeof(cert_types[0]))

bool
keys_cert_type_allowed(const char *type)
{
    for (size_t i = 0; type != NULL && i < N_CERT_TYPES; i++) {
        if (strcmp(type, cert_types[i].cert) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- wire helpers ---- */

/* A string that must hold text: no NUL inside (OpenSSH's
 * sshbuf_get_cstring refuses those too). malloc'ed copy into *ret. */
static int
get_cstring(struct keys_reader *r, char **ret, size_t max)
{
    const unsigned char *s;
    size_t n;

    if (!keys_get_string(r, &s, &n)) {
        return -EINVAL;
    }
    if (memchr(s, '\0', n) != NULL || n >= max) {
        return -EINVAL;
    }
    *ret = malloc(n + 1);
    if (*ret == NULL) {
        return -ENOMEM;
    }
    memcpy(*ret, s, n);
    (*ret)[n] = '\0';
    return 0;
}

static bool
str_eq(const unsigned char *s, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(s, want, n) == 0;
}

void
keys_cert_free(struct keys_cert *c)
{
    if (c == NULL) {
        return;
    }
    free(c->key_blob);
    free(c->key_id);
    for (size_t i = 0; i < c->nprincipals; i++) {
        free(c->principals[i]);
    }
    free(c->principals);
    free(c->force_command);
    free(c->source_address);
    memset(c, 0, sizeof(*c));
}

/* source-address (PROTOCOL.certkeys): comma-separated addresses or CIDR
 * blocks, no wildcards, no negation. Each is checked and written back in
 * canonical "address/prefix" form, which keys_from_allows then matches
 * as a CIDR list. One bad entry rejects the certificate, as sshd does. */
static int
canonical_sources(const char *list, char **ret)
{
    /* "::" becomes "::/128": at most 3 bytes out per byte in, and the
     * check below refuses rather than overflows. */
    size_t cap = strlen(list) * 3 + 64, len = 0;
    char *out = malloc(cap);
    const char *p = list;

    if (out == NULL) {
        return -ENOMEM;
    }
    out[0] = '\0';
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char item[INET6_ADDRSTRLEN + 8], text[INET6_ADDRSTRLEN];
        unsigned char addr[16];
        unsigned prefix;
        int family;

        if (n == 0 || n >= sizeof(item)) {
            goto bad;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        memset(addr, 0, sizeof(addr));
        if (strchr(item, '/') != NULL) {
            if (!keys_cidr_parse(item, addr, &family, &prefix)) {
                goto bad;
            }
        } else if (inet_pton(AF_INET, item, addr) == 1) {
            family = AF_INET;
            prefix = 32;
        } else if (inet_pton(AF_INET6, item, addr) == 1) {
            family = AF_INET6;
            prefix = 128;
        } else {
            goto bad;
        }
        if (inet_ntop(family, addr, text, sizeof(text)) == NULL ||
            cap - len < strlen(text) + 6) {
            goto bad;
        }
        len += (size_t)snprintf(out + len,
                                cap - len,
                                "%s%s/%u",
                                len ? "," : "",
                                text,
                                prefix);
        if (comma == NULL) {
            break;
        }
        p = comma + 1;
    }
    *ret = out;
    return 0;
bad:
    free(out);
    return -EINVAL;
}

/* The option list of [s, s+n): string name, string data; names unique.
 * critical: only force-command and source-address, data a single string
 * with nothing after it. Extensions: known names set their flag and must
 * carry no data; unknown ones are ignored, as sshd ignores them. */
static int
parse_options(const unsigned char *s,
              size_t n,
              bool critical,
              struct keys_cert *c,
              const char **errstr)
{
    struct keys_reader r = {s, n};
    const unsigned char *names[64];
    size_t name_lens[64], count = 0;

    while (r.left > 0) {
        const unsigned char *name, *data;
        size_t nlen, dlen;

        if (!keys_get_string(&r, &name, &nlen) ||
            !keys_get_string(&r, &data, &dlen)) {
            *errstr = critical ? "certificate critical options are malformed"
                               : "certificate extensions are malformed";
            return -EINVAL;
        }
        if (memchr(name, '\0', nlen) != NULL) {
            *errstr = "certificate option name contains a NUL";
            return -EINVAL;
        }
        for (size_t i = 0; i < count; i++) {
            if (name_lens[i] == nlen && memcmp(names[i], name, nlen) == 0) {
                *errstr = "certificate option appears twice";
                return -EINVAL;
            }
        }
        if (count == sizeof(names) / sizeof(names[0])) {
            *errstr = "too many certificate options";
            return -EINVAL;
        }
        names[count] = name;
        name_lens[count++] = nlen;
        if (critical) {
            struct keys_reader d = {data, dlen};
            char *v = NULL;
            int rc;
            bool fc = str_eq(name, nlen, "force-command");
            if (!fc && !str_eq(name, nlen, "source-address")) {
                *errstr = "unknown critical option in certificate";
                return -EINVAL;
            }
            rc = get_cstring(&d, &v, KEYS_MAX_LINE);
            if (rc == -ENOMEM) {
                return rc;
            }
            if (rc < 0 || d.left != 0) {
                free(v);
                *errstr = "certificate critical option is malformed";
                return -EINVAL;
            }
            if (fc) {
                c->force_command = v;
                continue;
            }
            rc = canonical_sources(v, &c->source_address);
            free(v);
            if (rc < 0) {
                *errstr = rc == -ENOMEM ? "out of memory"
                                        : "invalid source-address in "
                                          "certificate";
                return rc;
            }
            continue;
        }
        {
            static const char *const known[] = {
                "permit-X11-forwarding",
                "permit-agent-forwarding",
                "permit-port-forwarding",
                "permit-pty",
                "permit-user-rc",
            };
            bool *flags[] = {
                &c->permit_x11_forwarding,
                &c->permit_agent_forwarding,
                &c->permit_port_forwarding,
                &c->permit_pty,
                &c->permit_user_rc,
            };
            for (size_t i = 0; i < 5; i++) {
                if (str_eq(name, nlen, known[i])) {
                    if (dlen != 0) {
                        *errstr = "certificate extension carries data";
                        return -EINVAL;
                    }
                    *flags[i] = true;
                }
            }
        }
    }
    return 0;
}

/* The certified key: after the nonce, nfields strings that, behind the
 * plain type name, make the plain key blob. */
static int
parse_key(struct keys_reader *r,
          const char *plain,
          unsigned nfields,
          struct keys_cert *c,
          const char **errstr)
{
    const unsigned char *start = r->p, *s;
    size_t n, tl = strlen(plain), flen;
    const char *why;

    for (unsigned i = 0; i < nfields; i++) {
        if (!keys_get_string(r, &s, &n)) {
            *errstr = "certificate is truncated";
            return -EINVAL;
        }
    }
    flen = (size_t)(r->p - start);
    c->key_blob_len = 4 + tl + flen;
    c->key_blob = malloc(c->key_blob_len);
    if (c->key_blob == NULL) {
        return -ENOMEM;
    }
    c->key_blob[0] = (unsigned char)(tl >> 24);
    c->key_blob[1] = (unsigned char)(tl >> 16);
    c->key_blob[2] = (unsigned char)(tl >> 8);
    c->key_blob[3] = (unsigned char)tl;
    memcpy(c->key_blob + 4, plain, tl);
    memcpy(c->key_blob + 4 + tl, start, flen);
    why = keys_check_key_blob(plain, c->key_blob, c->key_blob_len, &c->bits);
    if (why != NULL) {
        *errstr = why;
        return -EINVAL;
    }
    memcpy(c->key_type, plain, tl + 1);
    return keys_fingerprint(c->key_blob,
                            c->key_blob_len,
                            c->fingerprint,
                            sizeof(c->fingerprint));
}

/* The CA key: a plain Ed25519, ECDSA or RSA key (not a FIDO key, whose
 * signatures cover more than the data, and not itself a certificate). */
static int
parse_ca(const unsigned char *s,
         size_t n,
         struct keys_cert *c,
         const char **errstr)
{
    static const char *const ok[] = {
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "ssh-rsa",
    };
    struct keys_reader r = {s, n};
    const unsigned char *t;
    size_t tl;
    unsigned bits;
    const char *why;

    if (!keys_get_string(&r, &t, &tl)) {
        *errstr = "certificate CA key is malformed";
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (str_eq(t, tl, ok[i])) {
            memcpy(c->ca_type, ok[i], strlen(ok[i]) + 1);
        }
    }
    if (c->ca_type[0] == '\0') {
        *errstr = "certificate CA key type not accepted";
        return -EINVAL;
    }
    why = keys_check_key_blob(c->ca_type, s, n, &bits);
    if (why != NULL) {
        *errstr = "certificate CA key is invalid";
        return -EINVAL;
    }
    c->ca_blob = s;
    c->ca_blob_len = n;
    return keys_fingerprint(s, n, c->ca_fingerprint, sizeof(c->ca_fingerprint));
}

int
keys_cert_parse(const unsigned char *blob,
                size_t len,
                struct keys_cert *ret,
                const char **errstr)
{
    struct keys_reader r = {blob, len};
    struct keys_cert c;
    const unsigned char *s;
    size_t n;
    size_t type_i = N_CERT_TYPES;
    int rc = -EINVAL;

    memset(&c, 0, sizeof(c));
    *errstr = "certificate is truncated";
    if (len > KEYS_CERT_MAX) {
        *errstr = "certificate too large";
        return -EINVAL;
    }
    if (!keys_get_string(&r, &s, &n)) {
        goto fail;
    }
    for (size_t i = 0; i < N_CERT_TYPES; i++) {
        if (str_eq(s, n, cert_types[i].cert)) {
            type_i = i;
        }
    }
    if (type_i == N_CERT_TYPES) {
        *errstr = "unknown certificate type";
        goto fail;
    }
    memcpy(c.type, s, n);
    c.type[n] = '\0';
    if (!keys_get_string(&r, &s, &n)) {
        goto fail;
    }
    if (n < CERT_MIN_NONCE) {
        *errstr = "certificate nonce shorter than 16 bytes";
        goto fail;
    }
    rc = parse_key(&r,
                   cert_types[type_i].plain,
                   cert_types[type_i].nfields,
                   &c,
                   errstr);
    if (rc < 0) {
        goto fail;
    }
    rc = -EINVAL;
    *errstr = "certificate is truncated";
    if (!keys_get_u64(&r, &c.serial) || !keys_get_u32(&r, &c.cert_type)) {
        goto fail;
    }
    rc = get_cstring(&r, &c.key_id, KEYS_CERT_ID_MAX);
    if (rc < 0) {
        *errstr = "certificate key ID is malformed, has a NUL or is longer "
                  "than 255 bytes";
        goto fail;
    }
    rc = -EINVAL;
    if (!keys_get_string(&r, &s, &n)) {
        goto fail;
    }
    {
        struct keys_reader pr = {s, n};
        while (pr.left > 0) {
            char *p = NULL;
            char **grown;
            int pr_rc;
            if (c.nprincipals == KEYS_CERT_MAX_PRINC) {
                *errstr = "too many principals in certificate";
                goto fail;
            }
            pr_rc = get_cstring(&pr, &p, KEYS_MAX_LINE);
            if (pr_rc < 0) {
                rc = pr_rc;
                *errstr = "certificate principal is malformed or has a NUL";
                goto fail;
            }
            grown = realloc(c.principals,
                            (c.nprincipals + 1) * sizeof(*c.principals));
            if (grown == NULL) {
                free(p);
                rc = -ENOMEM;
                *errstr = "out of memory";
                goto fail;
            }
            c.principals = grown;
            c.principals[c.nprincipals++] = p;
        }
    }
    if (!keys_get_u64(&r, &c.valid_after) ||
        !keys_get_u64(&r, &c.valid_before)) {
        goto fail;
    }
    if (!keys_get_string(&r, &s, &n)) {
        goto fail;
    }
    rc = parse_options(s, n, true, &c, errstr);
    if (rc < 0) {
        goto fail;
    }
    rc = -EINVAL;
    *errstr = "certificate is truncated";
    if (!keys_get_string(&r, &s, &n)) {
        goto fail;
    }
    rc = parse_options(s, n, false, &c, errstr);
    if (rc < 0) {
        goto fail;
    }
    rc = -EINVAL;
    *errstr = "certificate is truncated";
    /* reserved: ignored, as the protocol says */
    if (!keys_get_string(&r, &s, &n) || !keys_get_string(&r, &s, &n)) {
        goto fail;
    }
    rc = parse_ca(s, n, &c, errstr);
    if (rc < 0) {
        goto fail;
    }
    rc = -EINVAL;
    c.signed_len = len - r.left;
    if (!keys_get_string(&r, &c.sig, &c.sig_len)) {
        *errstr = "certificate is truncated";
        goto fail;
    }
    if (r.left != 0) {
        *errstr = "trailing data after the certificate signature";
        goto fail;
    }
    *ret = c;
    return 0;
fail:
    if (rc == -ENOMEM) {
        *errstr = "out of memory";
    }
    keys_cert_free(&c);
    return rc;
}

/* ---- signature check ---- */

static BIGNUM *
mpint_to_bn(const unsigned char *s, size_t n)
{
    if (n > 0 && (s[0] & 0x80)) {
        return NULL; /* negative */
    }
    return BN_bin2bn(s, (int)n, NULL);
}

/* An EVP_PKEY for the CA key blob (type already checked by parse_ca). */
static EVP_PKEY *
ca_pkey(const struct keys_cert *c, size_t *ret_rsa_len)
{
    struct keys_reader r = {c->ca_blob, c->ca_blob_len};
    const unsigned char *s, *a, *b;
    size_t n, an, bn;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *e = NULL, *m = NULL;
    bool rsa = strcmp(c->ca_type, "ssh-rsa") == 0;

    if (bld == NULL || !keys_get_string(&r, &s, &n) ||
        !keys_get_string(&r, &a, &an) || !keys_get_string(&r, &b, &bn)) {
        goto out;
    }
    if (rsa) {
        e = mpint_to_bn(a, an);
        m = mpint_to_bn(b, bn);
        if (e == NULL || m == NULL ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, m) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
            goto out;
        }
        *ret_rsa_len = (size_t)BN_num_bytes(m);
    } else {
        const char *group = str_eq(a, an, "nistp256")   ? "P-256"
                            : str_eq(a, an, "nistp384") ? "P-384"
                                                        : "P-521";
        if (!OSSL_PARAM_BLD_push_utf8_string(bld,
                                             OSSL_PKEY_PARAM_GROUP_NAME,
                                             group,
                                             0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld,
                                              OSSL_PKEY_PARAM_PUB_KEY,
                                              b,
                                              bn)) {
            goto out;
        }
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, rsa ? "RSA" : "EC", NULL);
    /* fromdata decodes the EC point, which refuses a point off the
     * curve. */
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        pkey = NULL;
    }
out:
    BN_free(e);
    BN_free(m);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* The DER ECDSA-Sig-Value of an SSH ecdsa signature blob: mpint r,
 * mpint s, nothing else (RFC 5656 §3.1.2). malloc'ed. */
static unsigned char *
ecdsa_der(const unsigned char *s, size_t n, size_t *ret_len)
{
    struct keys_reader r = {s, n};
    const unsigned char *rb, *sb;
    size_t rl, sl;
    ECDSA_SIG *sig = NULL;
    BIGNUM *br = NULL, *bs = NULL;
    unsigned char *der = NULL;
    int dl;

    if (!keys_get_string(&r, &rb, &rl) || !keys_get_string(&r, &sb, &sl) ||
        r.left != 0 || rl > 67 || sl > 67) {
        return NULL;
    }
    br = mpint_to_bn(rb, rl);
    bs = mpint_to_bn(sb, sl);
    sig = ECDSA_SIG_new();
    if (br == NULL || bs == NULL || sig == NULL ||
        ECDSA_SIG_set0(sig, br, bs) != 1) {
        BN_free(br);
        BN_free(bs);
        ECDSA_SIG_free(sig);
        return NULL;
    }
    dl = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (dl <= 0) {
        return NULL;
    }
    *ret_len = (size_t)dl;
    return der;
}

int
keys_cert_verify(const unsigned char *blob,
                 const struct keys_cert *c,
                 const char **errstr)
{
    struct keys_reader r = {c->sig, c->sig_len};
    const unsigned char *alg, *sb;
    size_t alen, sl, rsa_len = 0, der_len = 0;
    const EVP_MD *md = NULL;
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *mctx = NULL;
    unsigned char *der = NULL, *padded = NULL;
    const unsigned char *vsig;
    size_t vlen;
    int rc = -EPERM;

    *errstr = "certificate signature is malformed";
    if (!keys_get_string(&r, &alg, &alen) || !keys_get_string(&r, &sb, &sl) ||
        r.left != 0) {
        return -EPERM;
    }
    if (strcmp(c->ca_type, "ssh-ed25519") == 0) {
        if (!str_eq(alg, alen, "ssh-ed25519") ||
            sl != crypto_sign_ed25519_BYTES ||
            c->ca_blob_len != 4 + 11 + 4 + 32) {
            *errstr = "certificate signature does not match the CA key type";
            return -EPERM;
        }
        if (sodium_init() < 0 ||
            crypto_sign_ed25519_verify_detached(sb,
                                                blob,
                                                c->signed_len,
                                                c->ca_blob + 4 + 11 + 4) != 0) {
            *errstr = "certificate signature does not verify";
            return -EPERM;
        }
        return 0;
    }
    if (strcmp(c->ca_type, "ssh-rsa") == 0) {
        if (str_eq(alg, alen, "rsa-sha2-256")) {
            md = EVP_sha256();
        } else if (str_eq(alg, alen, "rsa-sha2-512")) {
            md = EVP_sha512();
        } else {
            *errstr = str_eq(alg, alen, "ssh-rsa")
                          ? "certificate signed with SHA-1 (ssh-rsa) refused"
                          : "certificate signature does not match the CA key "
                            "type";
            return -EPERM;
        }
    } else {
        /* ECDSA: the algorithm is the CA key's type, the hash the
         * curve's (RFC 5656 §6.2.1). */
        if (!str_eq(alg, alen, c->ca_type)) {
            *errstr = "certificate signature does not match the CA key type";
            return -EPERM;
        }
        md = strcmp(c->ca_type, "ecdsa-sha2-nistp256") == 0   ? EVP_sha256()
             : strcmp(c->ca_type, "ecdsa-sha2-nistp384") == 0 ? EVP_sha384()
                                                              : EVP_sha512();
    }
    pkey = ca_pkey(c, &rsa_len);
    if (pkey == NULL) {
        *errstr = "certificate CA key is invalid";
        goto out;
    }
    if (rsa_len > 0) {
        /* An SSH RSA signature may be shorter than the modulus (leading
         * zeros dropped); libcrypto wants the full length. */
        if (sl > rsa_len || sl == 0) {
            goto out;
        }
        padded = calloc(1, rsa_len);
        if (padded == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        memcpy(padded + (rsa_len - sl), sb, sl);
        vsig = padded;
        vlen = rsa_len;
    } else {
        der = ecdsa_der(sb, sl, &der_len);
        if (der == NULL) {
            goto out;
        }
        vsig = der;
        vlen = der_len;
    }
    mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    if (EVP_DigestVerifyInit(mctx, NULL, md, NULL, pkey) != 1 ||
        EVP_DigestVerify(mctx, vsig, vlen, blob, c->signed_len) != 1) {
        *errstr = "certificate signature does not verify";
        goto out;
    }
    rc = 0;
out:
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_free(pkey);
    OPENSSL_free(der);
    free(padded);
    return rc;
}

/* ---- the authorisation call ---- */

/* Builds the effective entry of a certificate that passed every check:
 * the certificate's options are all it grants (PROTOCOL.certkeys:
 * extensions absent = denied), so start from "restrict". */
static int
cert_entry(const struct keys_cert *c,
           const struct keys_entry *ca,
           const char *user,
           const unsigned char *blob,
           size_t len,
           struct keys_entry *e)
{
    bool oom = false;

    memset(e, 0, sizeof(*e));
    (void)copy_string(e->type, sizeof(e->type), c->type);
    (void)copy_string(e->user, sizeof(e->user), user);
    memcpy(e->fingerprint, c->fingerprint, sizeof(e->fingerprint));
    memcpy(e->ca_fingerprint, c->ca_fingerprint, sizeof(e->ca_fingerprint));
    e->bits = c->bits;
    e->line = ca->line;
    e->cert_serial = c->serial;
    e->blob = malloc(len);
    e->comment = strdup("");
    e->source = strdup(ca->source);
    e->cert_id = strdup(c->key_id);
    oom = e->blob == NULL || e->comment == NULL || e->source == NULL ||
          e->cert_id == NULL;
    if (!oom) {
        memcpy(e->blob, blob, len);
        e->blob_len = len;
    }
    e->opts.restricted = true;
    e->opts.no_pty = !c->permit_pty;
    e->opts.no_port_forwarding = !c->permit_port_forwarding;
    e->opts.no_agent_forwarding = !c->permit_agent_forwarding;
    e->opts.no_x11_forwarding = !c->permit_x11_forwarding;
    e->opts.no_user_rc = !c->permit_user_rc;
    if (c->force_command != NULL) {
        e->opts.force_command = strdup(c->force_command);
        oom = oom || e->opts.force_command == NULL;
    }
    if (c->source_address != NULL) {
        e->opts.from = strdup(c->source_address);
        oom = oom || e->opts.from == NULL;
    }
    /* valid_before as expiry-time=, so a grant ends when the certificate
     * does (the listener re-checks grants every second). expiry-time=
     * has four year digits: a certificate valid beyond 9999 is checked
     * against its own valid_before at each decision instead. */
    if (c->valid_before <= CERT_MAX_EXPIRY) {
        e->opts.valid_before = (time_t)c->valid_before;
    }
    if (oom) {
        keys_entry_free(e);
        return -ENOMEM;
    }
    return 0;
}

/* The effective options travel to the connection process in their
 * canonical authorized_keys text (authority.h): a force-command that
 * text cannot carry unchanged (a newline, a trailing backslash) is
 * refused here rather than altered there. 0, -EPERM with *why, -ENOMEM. */
static int
options_carry(const struct keys_options *o, const char **why)
{
    struct keys_options back;
    const char *errstr = NULL;
    char *text = keys_options_format(o);
    int r;

    if (text == NULL) {
        return -ENOMEM;
    }
    r = keys_parse_options(text,
                           strlen(text),
                           KEYS_PARSE_STORE,
                           &back,
                           &errstr);
    free(text);
    if (r == -ENOMEM) {
        return r;
    }
    if (r < 0 || (o->force_command == NULL) != (back.force_command == NULL) ||
        (o->force_command != NULL &&
         strcmp(o->force_command, back.force_command) != 0) ||
        (o->from == NULL) != (back.from == NULL) ||
        (o->from != NULL && strcmp(o->from, back.from) != 0) ||
        o->valid_before != back.valid_before || o->no_pty != back.no_pty ||
        o->no_port_forwarding != back.no_port_forwarding ||
        o->no_agent_forwarding != back.no_agent_forwarding ||
        o->no_x11_forwarding != back.no_x11_forwarding ||
        o->no_user_rc != back.no_user_rc) {
        if (r == 0) {
            keys_options_free(&back);
        }
        *why = "certificate force-command cannot be carried (a newline or a "
               "trailing backslash)";
        return -EPERM;
    }
    keys_options_free(&back);
    return 0;
}

static int
authorise_cert(const struct keys_trust *t,
               const char *user,
               const unsigned char *blob,
               size_t len,
               const char *peer_addr,
               time_t now,
               struct keys_entry *ret,
               const char **why)
{
    struct keys_cert c;
    const struct keys_entry *ca;
    bool named = false;
    int r;

    r = keys_cert_parse(blob, len, &c, why);
    if (r < 0) {
        return r == -ENOMEM ? r : -EPERM;
    }
    r = -EPERM;
    if (c.cert_type != KEYS_CERT_TYPE_USER) {
        *why = "not a user certificate";
        goto out;
    }
    ca = t->cas != NULL ? keys_set_find_user(t->cas,
                                             user,
                                             c.ca_type,
                                             c.ca_blob,
                                             c.ca_blob_len)
                        : NULL;
    if (ca == NULL) {
        *why = "certificate signed by an untrusted CA";
        goto out;
    }
    if (t->revoked != NULL && keys_revoked_cert(t->revoked, &c, why)) {
        goto out;
    }
    r = keys_cert_verify(blob, &c, why);
    if (r < 0) {
        r = r == -ENOMEM ? r : -EPERM;
        goto out;
    }
    r = -EPERM;
    if (now < 0 || (uint64_t)now < c.valid_after) {
        *why = "certificate not yet valid";
        goto out;
    }
    if ((uint64_t)now >= c.valid_before) {
        *why = "certificate expired";
        goto out;
    }
    if (c.nprincipals == 0) {
        *why = "certificate has no principals";
        goto out;
    }
    for (size_t i = 0; i < c.nprincipals && !named; i++) {
        named = strcmp(c.principals[i], user) == 0;
    }
    if (!named) {
        *why = "user is not a principal of the certificate";
        goto out;
    }
    r = cert_entry(&c, ca, user, blob, len, ret);
    if (r < 0) {
        goto out;
    }
    r = options_carry(&ret->opts, why);
    if (r == 0) {
        r = keys_authorise(ret, peer_addr, now, why);
    }
    if (r < 0) {
        keys_entry_free(ret);
    }
out:
    keys_cert_free(&c);
    return r;
}

int
keys_authorise_key(const struct keys_trust *t,
                   const char *user,
                   const char *type,
                   const unsigned char *blob,
                   size_t len,
                   const char *peer_addr,
                   time_t now,
                   struct keys_entry *ret,
                   const char **why)
{
    const struct keys_entry *e;
    struct keys_set one = {0};
    int r;

    if (!keys_valid_user(user)) {
        *why = "invalid user";
        return -EPERM;
    }
    if (t->revoked != NULL && t->revoked->broken) {
        *why = "revocation list unreadable or invalid: all keys refused";
        return -EPERM;
    }
    if (keys_cert_type_allowed(type)) {
        return authorise_cert(t, user, blob, len, peer_addr, now, ret, why);
    }
    e = keys_set_find_user(t->keys, user, type, blob, len);
    if (e == NULL) {
        *why = "key not authorized";
        return -EPERM;
    }
    if (t->revoked != NULL &&
        keys_revoked_key(t->revoked, e->blob, e->blob_len)) {
        *why = "key revoked";
        return -EPERM;
    }
    r = keys_authorise(e, peer_addr, now, why);
    if (r < 0) {
        return r;
    }
    /* A deep copy through the set code, the one copier of entries. */
    r = keys_set_add(&one, e);
    if (r < 0) {
        return r;
    }
    *ret = one.entries[0];
    free(one.entries);
    return 0;
}
