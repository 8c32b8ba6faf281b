/* Unit tests for OpenSSH user certificates (keys_cert_parse,
 * keys_cert_verify, keys_authorise_key) and the revocation list
 * (keys_revoked_parse). Every key and certificate is made at test time
 * with ssh-keygen in a temp dir; nothing secret is committed. The
 * hand-corrupted certificates are re-signed with the Ed25519 CA's private
 * key (read from the unencrypted file ssh-keygen wrote), so each is
 * refused for the one defect it has, not for a broken signature. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "keys/internal.h"
#include "keys/keys.h"

static char tmpdir[] = "/tmp/airlock-cert-test.XXXXXX";
static unsigned char ca_sk[64]; /* the Ed25519 CA's libsodium secret key */

/* ---- helpers ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

static char *
slurp(const char *name)
{
    char path[512];
    static char buf[65536];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "r");
    if (f == NULL) {
        return NULL;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The blob of the first "TYPE BASE64 ..." line of file name. */
static unsigned char *
file_blob(const char *name, size_t *len)
{
    char *text = slurp(name), *b64, *end;
    unsigned char *blob;

    if (text == NULL) {
        return NULL;
    }
    b64 = strchr(text, ' ');
    if (b64 == NULL) {
        return NULL;
    }
    b64++;
    end = b64 + strcspn(b64, " \n");
    blob = malloc((size_t)(end - b64));
    if (blob == NULL ||
        sodium_base642bin(blob,
                          (size_t)(end - b64),
                          b64,
                          (size_t)(end - b64),
                          NULL,
                          len,
                          NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(blob);
        return NULL;
    }
    return blob;
}

/* ssh-keygen -s CA [args] on a copy of user.pub named NAME.pub. */
static void
mkcert(const char *name, const char *ca, const char *args)
{
    assert_int_equal(sh("cp %s/user.pub %s/%s.pub && ssh-keygen -q -s %s/%s "
                        "%s %s/%s.pub 2>/dev/null",
                        tmpdir,
                        tmpdir,
                        name,
                        tmpdir,
                        ca,
                        args,
                        tmpdir,
                        name),
                     0);
}

/* Reads the Ed25519 private key out of an unencrypted openssh-key-v1
 * file (PROTOCOL.key): after the public section, the private section
 * holds check ints, the type, the public key and the 64-byte secret. */
static int
read_ed25519_sk(const char *name, unsigned char sk[64])
{
    char *text = slurp(name), *b, *e;
    unsigned char bin[4096];
    size_t len = 0, n;
    struct keys_reader r;
    const unsigned char *s;
    uint32_t nkeys;

    if (text == NULL || (b = strchr(text, '\n')) == NULL ||
        (e = strstr(b, "-----END")) == NULL) {
        return -1;
    }
    if (sodium_base642bin(bin,
                          sizeof(bin),
                          b + 1,
                          (size_t)(e - b - 1),
                          " \n",
                          &len,
                          NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len < 15 || memcmp(bin, "openssh-key-v1", 15) != 0) {
        return -1;
    }
    r.p = bin + 15;
    r.left = len - 15;
    /* cipher, kdf, kdf options */
    for (int i = 0; i < 3; i++) {
        if (!keys_get_string(&r, &s, &n)) {
            return -1;
        }
    }
    if (r.left < 4) {
        return -1;
    }
    nkeys = (uint32_t)r.p[0] << 24 | (uint32_t)r.p[1] << 16 |
            (uint32_t)r.p[2] << 8 | r.p[3];
    r.p += 4;
    r.left -= 4;
    if (nkeys != 1 || !keys_get_string(&r, &s, &n) ||
        !keys_get_string(&r, &s, &n)) {
        return -1;
    }
    r.p = s + 8; /* check ints */
    r.left = n - 8;
    if (!keys_get_string(&r, &s, &n) || !keys_get_string(&r, &s, &n) ||
        !keys_get_string(&r, &s, &n) || n != 64) {
        return -1;
    }
    memcpy(sk, s, 64);
    return 0;
}

/* A certificate built by hand (PROTOCOL.certkeys), signed by the
 * Ed25519 CA. */
struct builder {
    unsigned char b[16384];
    size_t len;
};

static void
put_u32(struct builder *w, uint32_t v)
{
    w->b[w->len++] = (unsigned char)(v >> 24);
    w->b[w->len++] = (unsigned char)(v >> 16);
    w->b[w->len++] = (unsigned char)(v >> 8);
    w->b[w->len++] = (unsigned char)v;
}

static void
put_u64(struct builder *w, uint64_t v)
{
    put_u32(w, (uint32_t)(v >> 32));
    put_u32(w, (uint32_t)v);
}

static void
put_str(struct builder *w, const void *s, size_t n)
{
    put_u32(w, (uint32_t)n);
    memcpy(w->b + w->len, s, n);
    w->len += n;
}

static void
put_cstr(struct builder *w, const char *s)
{
    put_str(w, s, strlen(s));
}

/* An option list of (name, value) pairs; value NULL = empty data, else a
 * string inside the data. */
static size_t
options(unsigned char *out, const char *const *kv, size_t n)
{
    struct builder w = {.len = 0};

    for (size_t i = 0; i < n; i += 2) {
        put_cstr(&w, kv[i]);
        if (kv[i + 1] == NULL) {
            put_u32(&w, 0);
        } else {
            put_u32(&w, (uint32_t)(4 + strlen(kv[i + 1])));
            put_cstr(&w, kv[i + 1]);
        }
    }
    memcpy(out, w.b, w.len);
    return w.len;
}

struct spec {
    const char *type;
    size_t nonce_len;
    uint32_t cert_type;
    const char *principals; /* NUL-separated list */
    size_t principals_len;  /* bytes of principals to use */
    bool nul_principal;     /* add "ro\0ot", with an embedded NUL */
    uint64_t valid_after, valid_before;
    const char *const *critical;
    size_t ncritical;
    const char *const *extensions;
    size_t nextensions;
    size_t trailing; /* bytes added after the signature */
};

/* Builds and signs spec; the certified key is user.pub's, the CA
 * ca_ed.pub. */
static unsigned char *
build(const struct spec *sp, size_t *ret_len)
{
    static struct builder w;
    unsigned char nonce[64], opt[2048], sig[64];
    struct builder pr = {.len = 0}, sigb = {.len = 0};
    size_t ulen = 0, calen = 0, n;
    unsigned char *user = file_blob("user.pub", &ulen);
    unsigned char *ca = file_blob("ca_ed.pub", &calen);
    unsigned char *out;

    assert_non_null(user);
    assert_non_null(ca);
    w.len = 0;
    put_cstr(&w, sp->type ? sp->type : "ssh-ed25519-cert-v01@openssh.com");
    randombytes_buf(nonce, sizeof(nonce));
    put_str(&w, nonce, sp->nonce_len ? sp->nonce_len : 32);
    /* the public key: the user blob's second string (after the type) */
    memcpy(w.b + w.len, user + 4 + 11, ulen - 4 - 11);
    w.len += ulen - 4 - 11;
    put_u64(&w, 42);
    put_u32(&w, sp->cert_type ? sp->cert_type : KEYS_CERT_TYPE_USER);
    put_cstr(&w, "built-by-test");
    if (sp->principals != NULL) {
        for (const char *p = sp->principals;
             (size_t)(p - sp->principals) < sp->principals_len;
             p += strlen(p) + 1) {
            put_str(&pr, p, strlen(p));
        }
    }
    if (sp->nul_principal) {
        put_str(&pr, "ro\0ot", 5);
    }
    put_str(&w, pr.b, pr.len);
    put_u64(&w, sp->valid_after);
    put_u64(&w, sp->valid_before ? sp->valid_before : UINT64_MAX);
    n = options(opt, sp->critical, sp->ncritical);
    put_str(&w, opt, n);
    n = options(opt, sp->extensions, sp->nextensions);
    put_str(&w, opt, n);
    put_str(&w, "", 0);
    put_str(&w, ca, calen);
    crypto_sign_ed25519_detached(sig, NULL, w.b, w.len, ca_sk);
    put_cstr(&sigb, "ssh-ed25519");
    put_str(&sigb, sig, sizeof(sig));
    put_str(&w, sigb.b, sigb.len);
    for (size_t i = 0; i < sp->trailing; i++) {
        w.b[w.len++] = 0;
    }
    free(user);
    free(ca);
    out = malloc(w.len);
    assert_non_null(out);
    memcpy(out, w.b, w.len);
    *ret_len = w.len;
    return out;
}

/* Parses (and on success verifies) blob; returns the parse/verify result
 * and the reason. */
static int
check(const unsigned char *blob, size_t len, const char **why)
{
    struct keys_cert c;
    int r = keys_cert_parse(blob, len, &c, why);

    if (r == 0) {
        r = keys_cert_verify(blob, &c, why);
        keys_cert_free(&c);
    }
    return r;
}

static struct keys_set cas;

static int
authorise(const unsigned char *blob,
          size_t len,
          const char *user,
          const char *peer,
          const struct keys_revoked *rv,
          struct keys_entry *e,
          const char **why)
{
    static const struct keys_set none;
    struct keys_trust t = {&none, &cas, rv};
    struct keys_entry tmp;
    int r;

    r = keys_authorise_key(&t,
                           user,
                           "ssh-ed25519-cert-v01@openssh.com",
                           blob,
                           len,
                           peer,
                           time(NULL),
                           e != NULL ? e : &tmp,
                           why);
    if (r == 0 && e == NULL) {
        keys_entry_free(&tmp);
    }
    return r;
}

static void
add_ca(const char *name)
{
    char *line = slurp(name);
    struct keys_entry e;
    const char *errstr = NULL;

    assert_non_null(line);
    assert_int_equal(keys_parse_line(line, strlen(line), 0, &e, &errstr), 1);
    strcpy(e.user, "root");
    e.source = strdup(name);
    e.line = 1;
    assert_int_equal(keys_set_add(&cas, &e), 0);
    keys_entry_free(&e);
}

static int
setup(void **state)
{
    (void)state;
    if (sodium_init() < 0 || mkdtemp(tmpdir) == NULL) {
        return -1;
    }
    if (sh("cd %s && for k in 'ca_ed -t ed25519' 'ca_ec256 -t ecdsa -b 256' "
           "'ca_ec384 -t ecdsa -b 384' 'ca_ec521 -t ecdsa -b 521' "
           "'ca_rsa -t rsa -b 3072' 'ca_other -t ed25519' 'user -t ed25519' "
           "'user_rsa -t rsa -b 2048'; do set -- $k; n=$1; shift; "
           "ssh-keygen -q -N '' -C t -f $n \"$@\" </dev/null || exit 1; done",
           tmpdir) != 0 ||
        read_ed25519_sk("ca_ed", ca_sk) != 0) {
        return -1;
    }
    add_ca("ca_ed.pub");
    add_ca("ca_ec256.pub");
    add_ca("ca_ec384.pub");
    add_ca("ca_ec521.pub");
    add_ca("ca_rsa.pub");
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    keys_set_free(&cas);
    sodium_memzero(ca_sk, sizeof(ca_sk));
    return sh("rm -rf %s", tmpdir) == 0 ? 0 : -1;
}

/* ---- ssh-keygen made certificates ---- */

static void
test_cert_every_ca_type_verifies(void **state)
{
    static const struct {
        const char *ca, *args;
    } cases[] = {
        {"ca_ed", ""},
        {"ca_ec256", ""},
        {"ca_ec384", ""},
        {"ca_ec521", ""},
        {"ca_rsa", "-t rsa-sha2-256"},
        {"ca_rsa", "-t rsa-sha2-512"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = NULL;
        size_t len = 0;
        unsigned char *blob;
        struct keys_entry e;

        char args[256];

        snprintf(args,
                 sizeof(args),
                 "-I kid -n root,alice -z 77 -V -1h:+1h %s",
                 cases[i].args);
        mkcert("c", cases[i].ca, args);
        blob = file_blob("c-cert.pub", &len);
        assert_non_null(blob);
        assert_int_equal(check(blob, len, &why), 0);
        assert_int_equal(
            authorise(blob, len, "root", "127.0.0.1", NULL, &e, &why),
            0);
        assert_string_equal(e.type, "ssh-ed25519-cert-v01@openssh.com");
        assert_string_equal(e.cert_id, "kid");
        assert_int_equal(e.cert_serial, 77);
        assert_true(e.ca_fingerprint[0] != '\0');
        /* ssh-keygen's default extensions: all five permit-* */
        assert_false(e.opts.no_pty);
        assert_false(e.opts.no_port_forwarding);
        assert_false(e.opts.no_agent_forwarding);
        assert_false(e.opts.no_user_rc);
        assert_false(e.opts.no_x11_forwarding);
        assert_true(e.opts.valid_before > time(NULL));
        keys_entry_free(&e);
        free(blob);
    }
}

static void
test_cert_fingerprint_is_the_certified_keys(void **state)
{
    struct keys_cert c;
    const char *why = NULL;
    size_t len = 0, ulen = 0;
    unsigned char *blob, *user;
    char fp[KEYS_FP_MAX];

    (void)state;
    mkcert("c", "ca_ed", "-I kid -n root");
    blob = file_blob("c-cert.pub", &len);
    user = file_blob("user.pub", &ulen);
    assert_int_equal(keys_cert_parse(blob, len, &c, &why), 0);
    assert_int_equal(keys_fingerprint(user, ulen, fp, sizeof(fp)), 0);
    assert_string_equal(c.fingerprint, fp);
    assert_memory_equal(c.key_blob, user, ulen);
    keys_cert_free(&c);
    free(blob);
    free(user);
}

static void
test_cert_rsa_sha1_signature_refused(void **state)
{
    const char *why = NULL;
    size_t len = 0;
    unsigned char *blob;

    (void)state;
    mkcert("c", "ca_rsa", "-I kid -n root -t ssh-rsa");
    blob = file_blob("c-cert.pub", &len);
    assert_non_null(blob);
    assert_int_equal(check(blob, len, &why), -EPERM);
    assert_string_equal(why, "certificate signed with SHA-1 (ssh-rsa) refused");
    free(blob);
}

static void
test_cert_bad_signature_refused(void **state)
{
    const char *why = NULL;
    size_t len = 0;
    unsigned char *blob;
    static const char *const cas_[] = {"ca_ed", "ca_ec384", "ca_rsa"};

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        mkcert("c", cas_[i], "-I kid -n root");
        blob = file_blob("c-cert.pub", &len);
        /* the last byte of the signature */
        blob[len - 1] ^= 0x01;
        assert_int_equal(check(blob, len, &why), -EPERM);
        assert_string_equal(why, "certificate signature does not verify");
        blob[len - 1] ^= 0x01;
        /* a signed byte: the last of the key ID "kid" */
        blob[4 + 32 + 4 + 32 + 4 + 32 + 8 + 4 + 4 + 2] ^= 0x01;
        assert_int_equal(check(blob, len, &why), -EPERM);
        free(blob);
    }
}

static void
test_cert_ecdsa_ca_point_off_the_curve_refused(void **state)
{
    struct keys_cert c;
    const char *why = NULL;
    size_t len = 0, off;
    unsigned char *blob;

    (void)state;
    mkcert("c", "ca_ec256", "-I kid -n root");
    blob = file_blob("c-cert.pub", &len);
    assert_int_equal(keys_cert_parse(blob, len, &c, &why), 0);
    off = (size_t)(c.ca_blob - blob) + c.ca_blob_len - 1; /* Q's last byte */
    keys_cert_free(&c);
    blob[off] ^= 0x01;
    assert_int_equal(keys_cert_parse(blob, len, &c, &why), 0);
    assert_int_equal(keys_cert_verify(blob, &c, &why), -EPERM);
    assert_string_equal(why, "certificate CA key is invalid");
    keys_cert_free(&c);
    free(blob);
}

static void
test_cert_larger_than_the_limit_refused(void **state)
{
    struct keys_cert c;
    const char *why = NULL;
    unsigned char *big = calloc(1, KEYS_CERT_MAX + 1);

    (void)state;
    assert_int_equal(keys_cert_parse(big, KEYS_CERT_MAX + 1, &c, &why),
                     -EINVAL);
    assert_string_equal(why, "certificate too large");
    free(big);
}

static void
test_cert_trailing_bytes_refused(void **state)
{
    const char *why = NULL;
    size_t len = 0;
    unsigned char *blob, *longer;
    struct spec sp = {.principals = "root", .principals_len = 5, .trailing = 1};

    (void)state;
    mkcert("c", "ca_ed", "-I kid -n root");
    blob = file_blob("c-cert.pub", &len);
    longer = malloc(len + 1);
    memcpy(longer, blob, len);
    longer[len] = 0;
    assert_int_equal(check(longer, len + 1, &why), -EINVAL);
    assert_string_equal(why, "trailing data after the certificate signature");
    free(longer);
    free(blob);
    blob = build(&sp, &len);
    assert_int_equal(check(blob, len, &why), -EINVAL);
    free(blob);
    /* and a truncated one */
    sp.trailing = 0;
    blob = build(&sp, &len);
    assert_int_equal(check(blob, len, &why), 0);
    assert_int_equal(check(blob, len - 1, &why), -EINVAL);
    free(blob);
}

static void
test_cert_unknown_critical_option_refused(void **state)
{
    const char *why = NULL;
    size_t len = 0;
    unsigned char *blob;
    static const char *const crit[] = {"frobnicate@example.com", "yes"};
    struct spec sp = {.principals = "root",
                      .principals_len = 5,
                      .critical = crit,
                      .ncritical = 2};

    (void)state;
    mkcert("c",
           "ca_ed",
           "-I kid -n root -O critical:frobnicate@example.com=yes");
    blob = file_blob("c-cert.pub", &len);
    assert_int_equal(check(blob, len, &why), -EINVAL);
    assert_string_equal(why, "unknown critical option in certificate");
    free(blob);
    blob = build(&sp, &len);
    assert_int_equal(check(blob, len, &why), -EINVAL);
    assert_string_equal(why, "unknown critical option in certificate");
    free(blob);
}

static void
test_cert_principal_with_nul_refused(void **state)
{
    const char *why = NULL;
    size_t len = 0;
    unsigned char *blob;
    /* "ro\0ot" after a good one: OpenSSH refuses it as a whole too */
    struct spec sp = {.principals = "root",
                      .principals_len = 5,
                      .nul_principal = true};

    (void)state;
    blob = build(&sp, &len);
    assert_int_equal(check(blob, len, &why), -EINVAL);
    assert_string_equal(why, "certificate principal is malformed or has a NUL");
    free(blob);
}

static void
test_cert_type_must_be_user(void **state)
{
    const char *why = NULL;
    size_t len = 0;
    unsigned char *blob;

    (void)state;
    for (uint32_t t = 2; t <= 3; t++) {
        struct spec sp = {.principals = "root",
                          .principals_len = 5,
                          .cert_type = t};
        blob = build(&sp, &len);
        assert_int_equal(check(blob, len, &why), 0);
        assert_int_equal(
            authorise(blob, len, "root", "127.0.0.1", NULL, NULL, &why),
            -EPERM);
        assert_string_equal(why, "not a user certificate");
        free(blob);
    }
    mkcert("c", "ca_ed", "-I kid -n root -h");
    blob = file_blob("c-cert.pub", &len);
    assert_int_equal(
        authorise(blob, len, "root", "127.0.0.1", NULL, NULL, &why),
        -EPERM);
    assert_string_equal(why, "not a user certificate");
    free(blob);
}

static void
test_cert_unknown_type_and_short_nonce_refused(void **state)
{
    const char *why = NULL;
    size_t len = 0;
    unsigned char *blob;
    struct spec sp = {.principals = "root",
                      .principals_len = 5,
                      .type = "ssh-dss-cert-v01@openssh.com"};

    (void)state;
    blob = build(&sp, &len);
    assert_int_equal(check(blob, len, &why), -EINVAL);
    assert_string_equal(why, "unknown certificate type");
    free(blob);
    sp.type = "sk-ssh-ed25519-cert-v01@openssh.com";
    blob = build(&sp, &len);
    assert_int_equal(check(blob, len, &why), -EINVAL);
    free(blob);
    sp.type = NULL;
    sp.nonce_len = 15;
    blob = build(&sp, &len);
    assert_int_equal(check(blob, len, &why), -EINVAL);
    assert_string_equal(why, "certificate nonce shorter than 16 bytes");
    free(blob);
    sp.nonce_len = 16;
    blob = build(&sp, &len);
    assert_int_equal(check(blob, len, &why), 0);
    free(blob);
}

static void
test_cert_options_and_extensions(void **state)
{
    const char *why = NULL;
    size_t len = 0;
    unsigned char *blob;
    struct keys_entry e;
    static const char *const dup[] = {"force-command",
                                      "a",
                                      "force-command",
                                      "b"};
    static const char *const srcbad[] = {"source-address", "10.0.0.0/8,*"};
    static const char *const srchost[] = {"source-address", "10.1.2.3/8"};
    static const char *const trail[] = {"force-command", NULL};
    static const char *const extdata[] = {"permit-pty", "x"};
    static const char *const extok[] = {"permit-pty",
                                        NULL,
                                        "zzz-unknown@example.com",
                                        "data"};
    static const char *const both[] = {"force-command",
                                       "echo hi",
                                       "source-address",
                                       "127.0.0.1,::1/128"};
    struct spec sp = {.principals = "root", .principals_len = 5};

    (void)state;
    sp.critical = dup;
    sp.ncritical = 4;
    blob = build(&sp, &len);
    assert_int_equal(check(blob, len, &why), -EINVAL);
    assert_string_equal(why, "certificate option appears twice");
    free(blob);
    sp.critical = srcbad;
    sp.ncritical = 2;
    blob = build(&sp, &len);
    assert_int_equal(check(blob, len, &why), -EINVAL);
    assert_string_equal(why, "invalid source-address in certificate");
    free(blob);
    sp.critical = srchost;
    blob = build(&sp, &len);
    assert_int_equal(check(blob, len, &why), -EINVAL);
    free(blob);
    sp.critical = trail; /* empty data: no string inside */
    blob = build(&sp, &len);
    assert_int_equal(check(blob, len, &why), -EINVAL);
    assert_string_equal(why, "certificate critical option is malformed");
    free(blob);
    sp.critical = NULL;
    sp.ncritical = 0;
    sp.extensions = extdata;
    sp.nextensions = 2;
    blob = build(&sp, &len);
    assert_int_equal(check(blob, len, &why), -EINVAL);
    assert_string_equal(why, "certificate extension carries data");
    free(blob);
    /* Unknown extensions are ignored; absent ones deny. */
    sp.extensions = extok;
    sp.nextensions = 4;
    blob = build(&sp, &len);
    assert_int_equal(authorise(blob, len, "root", "127.0.0.1", NULL, &e, &why),
                     0);
    assert_false(e.opts.no_pty);
    assert_true(e.opts.no_port_forwarding);
    assert_true(e.opts.no_agent_forwarding);
    assert_true(e.opts.no_x11_forwarding);
    assert_true(e.opts.no_user_rc);
    assert_null(e.opts.force_command);
    assert_null(e.opts.from);
    assert_int_equal(e.opts.valid_before, 0);
    keys_entry_free(&e);
    free(blob);
    /* force-command and source-address become the entry's options */
    sp.extensions = NULL;
    sp.nextensions = 0;
    sp.critical = both;
    sp.ncritical = 4;
    blob = build(&sp, &len);
    assert_int_equal(authorise(blob, len, "root", "127.0.0.1", NULL, &e, &why),
                     0);
    assert_string_equal(e.opts.force_command, "echo hi");
    assert_string_equal(e.opts.from, "127.0.0.1/32,::1/128");
    assert_true(e.opts.no_pty);
    keys_entry_free(&e);
    assert_int_equal(authorise(blob, len, "root", "::1", NULL, NULL, &why), 0);
    assert_int_equal(
        authorise(blob, len, "root", "127.0.0.2", NULL, NULL, &why),
        -EPERM);
    assert_string_equal(why, "source address not allowed by from=");
    free(blob);
}

static void
test_cert_force_command_travels_unchanged_or_is_refused(void **state)
{
    static const char *const good[] = {"echo \"a\" 'b' \\n $X",
                                       "a\\\"b",
                                       "tab\there"};
    const char *why = NULL;
    size_t len = 0;
    unsigned char *blob;
    struct keys_entry e;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const char *const crit[] = {"force-command", good[i]};
        struct spec sp = {.principals = "root",
                          .principals_len = 5,
                          .critical = crit,
                          .ncritical = 2};
        char *text;
        struct keys_options back;
        blob = build(&sp, &len);
        assert_int_equal(
            authorise(blob, len, "root", "127.0.0.1", NULL, &e, &why),
            0);
        assert_string_equal(e.opts.force_command, good[i]);
        /* what the connection process will parse */
        text = keys_options_format(&e.opts);
        assert_int_equal(keys_parse_options(text,
                                            strlen(text),
                                            KEYS_PARSE_STORE,
                                            &back,
                                            &why),
                         0);
        assert_string_equal(back.force_command, good[i]);
        keys_options_free(&back);
        free(text);
        keys_entry_free(&e);
        free(blob);
    }
    {
        /* refused rather than altered on the way */
        static const char *const bad[] = {"trailing\\", "x\ny"};
        for (size_t i = 0; i < 2; i++) {
            const char *const crit[] = {"force-command", bad[i]};
            struct spec sp = {.principals = "root",
                              .principals_len = 5,
                              .critical = crit,
                              .ncritical = 2};
            blob = build(&sp, &len);
            assert_int_equal(
                authorise(blob, len, "root", "127.0.0.1", NULL, NULL, &why),
                -EPERM);
            assert_string_equal(why,
                                "certificate force-command cannot be carried "
                                "(a newline or a trailing backslash)");
            free(blob);
        }
    }
    {
        /* valid beyond 9999: no expiry-time=, still valid */
        struct spec sp = {.principals = "root",
                          .principals_len = 5,
                          .valid_before = 253402300800ULL};
        blob = build(&sp, &len);
        assert_int_equal(
            authorise(blob, len, "root", "127.0.0.1", NULL, &e, &why),
            0);
        assert_int_equal(e.opts.valid_before, 0);
        keys_entry_free(&e);
        free(blob);
    }
}

static void
test_cert_principals_validity_and_ca(void **state)
{
    const char *why = NULL;
    size_t len = 0;
    unsigned char *blob;
    time_t now = time(NULL);
    struct spec sp = {.principals = "alice\0root", .principals_len = 11};

    (void)state;
    blob = build(&sp, &len);
    assert_int_equal(
        authorise(blob, len, "root", "127.0.0.1", NULL, NULL, &why),
        0);
    assert_int_equal(authorise(blob, len, "bob", "127.0.0.1", NULL, NULL, &why),
                     -EPERM);
    /* alice is a principal, but the CA certifies for root only */
    assert_int_equal(
        authorise(blob, len, "alice", "127.0.0.1", NULL, NULL, &why),
        -EPERM);
    assert_string_equal(why, "certificate signed by an untrusted CA");
    free(blob);
    sp.principals_len = 0;
    blob = build(&sp, &len);
    assert_int_equal(
        authorise(blob, len, "root", "127.0.0.1", NULL, NULL, &why),
        -EPERM);
    assert_string_equal(why, "certificate has no principals");
    free(blob);
    /* prefix and case do not match */
    sp.principals = "roo\0Root\0root2";
    sp.principals_len = 15;
    blob = build(&sp, &len);
    assert_int_equal(
        authorise(blob, len, "root", "127.0.0.1", NULL, NULL, &why),
        -EPERM);
    assert_string_equal(why, "user is not a principal of the certificate");
    free(blob);
    sp.principals = "root";
    sp.principals_len = 5;
    sp.valid_after = (uint64_t)now + 60;
    blob = build(&sp, &len);
    assert_int_equal(
        authorise(blob, len, "root", "127.0.0.1", NULL, NULL, &why),
        -EPERM);
    assert_string_equal(why, "certificate not yet valid");
    free(blob);
    sp.valid_after = 0;
    sp.valid_before = (uint64_t)now; /* exclusive */
    blob = build(&sp, &len);
    assert_int_equal(
        authorise(blob, len, "root", "127.0.0.1", NULL, NULL, &why),
        -EPERM);
    assert_string_equal(why, "certificate expired");
    free(blob);
    mkcert("c", "ca_other", "-I kid -n root");
    blob = file_blob("c-cert.pub", &len);
    assert_int_equal(
        authorise(blob, len, "root", "127.0.0.1", NULL, NULL, &why),
        -EPERM);
    assert_string_equal(why, "certificate signed by an untrusted CA");
    free(blob);
}

/* ---- revocation ---- */

static int
revoked(const char *text,
        struct keys_revoked *rv,
        unsigned *line,
        const char **why)
{
    return keys_revoked_parse(text, strlen(text), rv, line, why);
}

static void
test_revoked_parses_the_ssh_keygen_text_form(void **state)
{
    struct keys_revoked rv;
    unsigned line = 0;
    const char *why = NULL;
    char text[16384];
    char *user = slurp("user_rsa.pub");

    (void)state;
    snprintf(text,
             sizeof(text),
             "# comment\n\nserial: 5\nSerial:0x10-0x20\nserial: 010\n"
             "id: some key id \n"
             "hash: SHA256:abc\n"
             "key: %s",
             user);
    assert_int_equal(revoked(text, &rv, &line, &why), 0);
    assert_int_equal(rv.nserials, 3);
    assert_int_equal(rv.serials[0].lo, 5);
    assert_int_equal(rv.serials[1].lo, 16);
    assert_int_equal(rv.serials[1].hi, 32);
    assert_int_equal(rv.serials[2].lo, 8);
    assert_int_equal(rv.nids, 1);
    assert_string_equal(rv.ids[0].id, "some key id");
    assert_string_equal(rv.ids[0].ca, "");
    assert_int_equal(rv.nfps, 2);
    assert_string_equal(rv.fps[0], "SHA256:abc");
    keys_revoked_free(&rv);
    /* a plain key line alone */
    assert_int_equal(revoked(user, &rv, &line, &why), 0);
    assert_int_equal(rv.nfps, 1);
    keys_revoked_free(&rv);
}

static void
test_revoked_rejects_bad_lines_with_their_number(void **state)
{
    static const struct {
        const char *text;
        unsigned line;
    } bad[] = {
        {"serial: 0\n", 1},
        {"\nserial: 9-3\n", 2},
        {"serial: -1\n", 1},
        {"serial: 1x\n", 1},
        {"serial: 18446744073709551616\n", 1},
        {"# ok\nid:\n", 2},
        {"sha1: ssh-ed25519 AAAA\n", 1},
        {"hash: MD5:aa\n", 1},
        {"ssh-ed25519 !!!!\n", 1},
        {"nonsense\n", 1},
        {"key: ssh-ed25519 AAAAC3NzaC1yc2EAAAADAQABAAABAQ\n", 1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct keys_revoked rv;
        unsigned line = 0;
        const char *why = NULL;
        assert_int_equal(revoked(bad[i].text, &rv, &line, &why), -EINVAL);
        assert_int_equal(line, bad[i].line);
        assert_non_null(why);
    }
}

static void
test_revoked_applies_to_certificates_and_keys(void **state)
{
    struct keys_revoked rv;
    unsigned line = 0;
    const char *why = NULL;
    size_t len = 0;
    unsigned char *blob;
    char text[16384];
    static const struct keys_set none;
    struct keys_trust t = {&none, &cas, NULL};
    struct keys_entry e;

    (void)state;
    mkcert("c", "ca_ed", "-I the-id -n root -z 100");
    blob = file_blob("c-cert.pub", &len);
    static const struct {
        const char *text;
        const char *why;
    } cases[] = {
        {"serial: 100\n", "certificate serial revoked"},
        {"serial: 99-101\n", "certificate serial revoked"},
        {"id: the-id\n", "certificate key ID revoked"},
        {NULL, "certified key revoked"},
        {NULL, "certificate CA key revoked"},
    };
    for (size_t i = 0; i < 5; i++) {
        const char *src = cases[i].text;
        if (src == NULL) {
            snprintf(text,
                     sizeof(text),
                     "%s",
                     slurp(i == 3 ? "user.pub" : "ca_ed.pub"));
            src = text;
        }
        assert_int_equal(revoked(src, &rv, &line, &why), 0);
        assert_int_equal(
            authorise(blob, len, "root", "127.0.0.1", &rv, NULL, &why),
            -EPERM);
        assert_string_equal(why, cases[i].why);
        keys_revoked_free(&rv);
    }
    /* the certificate itself listed as key: revokes its certified key */
    snprintf(text, sizeof(text), "key: %s", slurp("c-cert.pub"));
    assert_int_equal(revoked(text, &rv, &line, &why), 0);
    assert_int_equal(authorise(blob, len, "root", "127.0.0.1", &rv, NULL, &why),
                     -EPERM);
    keys_revoked_free(&rv);
    /* other serials and ids do not */
    assert_int_equal(
        revoked("serial: 101-200\nid: the-id2\n", &rv, &line, &why),
        0);
    assert_int_equal(authorise(blob, len, "root", "127.0.0.1", &rv, NULL, &why),
                     0);
    /* a broken list refuses everything */
    rv.broken = true;
    assert_int_equal(authorise(blob, len, "root", "127.0.0.1", &rv, NULL, &why),
                     -EPERM);
    keys_revoked_free(&rv);
    free(blob);
    /* a plain key in the set, revoked by key: */
    {
        struct keys_set keys = {0};
        char *line_text = slurp("user.pub");
        size_t ulen = 0;
        unsigned char *ub = file_blob("user.pub", &ulen);
        assert_int_equal(
            keys_parse_line(line_text, strlen(line_text), 0, &e, &why),
            1);
        strcpy(e.user, "root");
        e.source = strdup("test");
        assert_int_equal(keys_set_add(&keys, &e), 0);
        keys_entry_free(&e);
        t.keys = &keys;
        assert_int_equal(keys_authorise_key(&t,
                                            "root",
                                            "ssh-ed25519",
                                            ub,
                                            ulen,
                                            "127.0.0.1",
                                            time(NULL),
                                            &e,
                                            &why),
                         0);
        assert_true(e.ca_fingerprint[0] == '\0');
        keys_entry_free(&e);
        assert_int_equal(revoked(slurp("user.pub"), &rv, &line, &why), 0);
        t.revoked = &rv;
        assert_int_equal(keys_authorise_key(&t,
                                            "root",
                                            "ssh-ed25519",
                                            ub,
                                            ulen,
                                            "127.0.0.1",
                                            time(NULL),
                                            &e,
                                            &why),
                         -EPERM);
        assert_string_equal(why, "key revoked");
        keys_revoked_free(&rv);
        keys_set_free(&keys);
        free(ub);
    }
}

/* Reads file name (binary) into a malloc'ed buffer. */
static char *
slurp_bin(const char *name, size_t *len)
{
    char path[512];
    char *buf = malloc(65536);
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "rb");
    assert_non_null(f);
    *len = fread(buf, 1, 65536, f);
    fclose(f);
    return buf;
}

/* ssh-keygen -k -f NAME [ARGS] with spec as the specification file, and
 * the result parsed into *rv. */
static void
mkkrl(const char *args, const char *spec, struct keys_revoked *rv)
{
    char path[512], *buf;
    FILE *f;
    size_t len = 0;
    unsigned line = 99;
    const char *why = NULL;

    snprintf(path, sizeof(path), "%s/spec", tmpdir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(spec, f);
    fclose(f);
    assert_int_equal(sh("cd %s && rm -f krl && ssh-keygen -q -k -f krl %s "
                        "spec",
                        tmpdir,
                        args),
                     0);
    buf = slurp_bin("krl", &len);
    assert_int_equal(keys_revoked_parse(buf, len, rv, &line, &why), 0);
    assert_int_equal(line, 0);
    free(buf);
}

static bool
cert_revoked(const struct keys_revoked *rv, const char *ca, const char *args)
{
    struct keys_cert c;
    const char *why = NULL;
    size_t len = 0;
    unsigned char *blob;
    bool revoked;

    mkcert("k", ca, args);
    blob = file_blob("k-cert.pub", &len);
    assert_int_equal(keys_cert_parse(blob, len, &c, &why), 0);
    revoked = keys_revoked_cert(rv, &c, &why);
    keys_cert_free(&c);
    free(blob);
    return revoked;
}

static void
test_krl_from_ssh_keygen_scoped_to_its_ca(void **state)
{
    struct keys_revoked rv;
    char spec[16384];
    size_t len = 0;
    unsigned char *blob;

    (void)state;
    snprintf(spec,
             sizeof(spec),
             "serial: 5-7\nserial: 10\nserial: 12\nid: kid-x\n%s",
             slurp("user_rsa.pub"));
    mkkrl("-s ca_ed.pub", spec, &rv);
    /* scoped to ca_ed: the same serial or ID from another CA stands */
    assert_true(cert_revoked(&rv, "ca_ed", "-I a -n root -z 6"));
    assert_true(cert_revoked(&rv, "ca_ed", "-I a -n root -z 10"));
    assert_true(cert_revoked(&rv, "ca_ed", "-I kid-x -n root -z 1"));
    assert_false(cert_revoked(&rv, "ca_ed", "-I a -n root -z 8"));
    assert_false(cert_revoked(&rv, "ca_ed", "-I a -n root -z 11"));
    assert_false(cert_revoked(&rv, "ca_ec256", "-I a -n root -z 6"));
    assert_false(cert_revoked(&rv, "ca_ec256", "-I kid-x -n root -z 1"));
    blob = file_blob("user_rsa.pub", &len);
    assert_true(keys_revoked_key(&rv, blob, len));
    free(blob);
    blob = file_blob("user.pub", &len);
    assert_false(keys_revoked_key(&rv, blob, len));
    free(blob);
    keys_revoked_free(&rv);
}

static void
test_krl_from_ssh_keygen_key_hashes(void **state)
{
    struct keys_revoked rv;
    char spec[32768];
    size_t len = 0;
    unsigned char *blob;

    (void)state;
    char first[8192];

    /* slurp's buffer is reused: copy the first key out of it */
    snprintf(first, sizeof(first), "%s", slurp("user.pub"));
    snprintf(spec,
             sizeof(spec),
             "sha1: %ssha256: %s",
             first,
             slurp("user_rsa.pub"));
    mkkrl("", spec, &rv);
    assert_int_equal(rv.nsha1, 1);
    /* user.pub is the certified key of every mkcert: revoked by SHA1 */
    blob = file_blob("user.pub", &len);
    assert_true(keys_revoked_key(&rv, blob, len));
    free(blob);
    blob = file_blob("user_rsa.pub", &len);
    assert_true(keys_revoked_key(&rv, blob, len));
    free(blob);
    blob = file_blob("ca_ed.pub", &len);
    assert_false(keys_revoked_key(&rv, blob, len));
    free(blob);
    keys_revoked_free(&rv);
}

static void
test_krl_serial_bitmap(void **state)
{
    struct keys_revoked rv;
    char spec[4096];
    size_t n = 0;

    (void)state;
    /* every third serial from 100 to 400: ssh-keygen writes a bitmap */
    for (unsigned i = 100; i <= 400; i += 3) {
        n += (size_t)snprintf(spec + n, sizeof(spec) - n, "serial: %u\n", i);
    }
    mkkrl("-s ca_ed.pub", spec, &rv);
    assert_true(cert_revoked(&rv, "ca_ed", "-I a -n root -z 100"));
    assert_true(cert_revoked(&rv, "ca_ed", "-I a -n root -z 103"));
    assert_true(cert_revoked(&rv, "ca_ed", "-I a -n root -z 400"));
    assert_false(cert_revoked(&rv, "ca_ed", "-I a -n root -z 101"));
    assert_false(cert_revoked(&rv, "ca_ed", "-I a -n root -z 99"));
    assert_false(cert_revoked(&rv, "ca_ed", "-I a -n root -z 403"));
    for (size_t i = 0; i < rv.nserials; i++) {
        assert_true((rv.serials[i].lo - 100) % 3 == 0);
        assert_int_equal(rv.serials[i].lo, rv.serials[i].hi);
    }
    assert_int_equal(rv.nserials, 101);
    keys_revoked_free(&rv);
}

static void
test_krl_corrupted_refused(void **state)
{
    struct keys_revoked rv;
    char *buf;
    size_t len = 0;
    unsigned line = 9;
    const char *why = NULL;
    static const unsigned char sig[] = {4, 0, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char crit[] =
        {255, 0, 0, 0, 11, 0, 0, 0, 1, 'x', 1, 0, 0, 0, 1, 'z'};
    static const unsigned char noncrit[] =
        {255, 0, 0, 0, 11, 0, 0, 0, 1, 'x', 0, 0, 0, 0, 1, 'z'};
    /* a certificate section for every CA (empty ca_key) revoking the key
     * ID "kid-y": ssh-keygen 9.2 will not write one without -s */
    static const unsigned char anyca[] = {1, 0, 0, 0, 22,   0,   0,   0,   0,
                                          0, 0, 0, 0, 0x23, 0,   0,   0,   9,
                                          0, 0, 0, 5, 'k',  'i', 'd', '-', 'y'};

    (void)state;
    mkkrl("-s ca_ed.pub", "serial: 5\n", &rv);
    keys_revoked_free(&rv);
    buf = slurp_bin("krl", &len);
    /* every truncation is refused or parses a prefix that is a KRL */
    for (size_t cut = 8; cut < len; cut++) {
        if (keys_revoked_parse(buf, cut, &rv, &line, &why) == 0) {
            keys_revoked_free(&rv);
        } else {
            assert_non_null(why);
        }
    }
    assert_int_equal(keys_revoked_parse(buf, len - 1, &rv, &line, &why),
                     -EINVAL);
    buf[11] = 2; /* format version 2 */
    assert_int_equal(keys_revoked_parse(buf, len, &rv, &line, &why), -EINVAL);
    assert_string_equal(why, "KRL format version is not 1");
    buf[11] = 1;
    memcpy(buf + len, sig, sizeof(sig));
    assert_int_equal(
        keys_revoked_parse(buf, len + sizeof(sig), &rv, &line, &why),
        -EINVAL);
    assert_string_equal(why,
                        "signed KRLs are not supported (as OpenSSH >= 9.4)");
    memcpy(buf + len, crit, sizeof(crit));
    assert_int_equal(
        keys_revoked_parse(buf, len + sizeof(crit), &rv, &line, &why),
        -EINVAL);
    assert_string_equal(why,
                        "KRL has a critical extension airlock does not know");
    memcpy(buf + len, noncrit, sizeof(noncrit));
    assert_int_equal(
        keys_revoked_parse(buf, len + sizeof(noncrit), &rv, &line, &why),
        0);
    assert_int_equal(rv.nserials, 1);
    keys_revoked_free(&rv);
    memcpy(buf + len, anyca, sizeof(anyca));
    assert_int_equal(
        keys_revoked_parse(buf, len + sizeof(anyca), &rv, &line, &why),
        0);
    assert_int_equal(rv.nids, 1);
    assert_true(cert_revoked(&rv, "ca_ed", "-I kid-y -n root -z 1"));
    assert_true(cert_revoked(&rv, "ca_ec256", "-I kid-y -n root -z 1"));
    assert_false(cert_revoked(&rv, "ca_ec256", "-I kid-z -n root -z 1"));
    /* serial 5 stays scoped to ca_ed */
    assert_true(cert_revoked(&rv, "ca_ed", "-I a -n root -z 5"));
    assert_false(cert_revoked(&rv, "ca_ec256", "-I a -n root -z 5"));
    keys_revoked_free(&rv);
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cert_every_ca_type_verifies),
        cmocka_unit_test(test_cert_fingerprint_is_the_certified_keys),
        cmocka_unit_test(test_cert_rsa_sha1_signature_refused),
        cmocka_unit_test(test_cert_bad_signature_refused),
        cmocka_unit_test(test_cert_ecdsa_ca_point_off_the_curve_refused),
        cmocka_unit_test(test_cert_larger_than_the_limit_refused),
        cmocka_unit_test(test_cert_trailing_bytes_refused),
        cmocka_unit_test(test_cert_unknown_critical_option_refused),
        cmocka_unit_test(test_cert_principal_with_nul_refused),
        cmocka_unit_test(test_cert_type_must_be_user),
        cmocka_unit_test(test_cert_unknown_type_and_short_nonce_refused),
        cmocka_unit_test(test_cert_options_and_extensions),
        cmocka_unit_test(
            test_cert_force_command_travels_unchanged_or_is_refused),
        cmocka_unit_test(test_cert_principals_validity_and_ca),
        cmocka_unit_test(test_revoked_parses_the_ssh_keygen_text_form),
        cmocka_unit_test(test_revoked_rejects_bad_lines_with_their_number),
        cmocka_unit_test(test_revoked_applies_to_certificates_and_keys),
        cmocka_unit_test(test_krl_from_ssh_keygen_scoped_to_its_ca),
        cmocka_unit_test(test_krl_from_ssh_keygen_key_hashes),
        cmocka_unit_test(test_krl_serial_bitmap),
        cmocka_unit_test(test_krl_corrupted_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
