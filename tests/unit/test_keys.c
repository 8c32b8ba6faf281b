/* Unit tests for the authorized_keys parser, options, fingerprints and
 * from= matching. Keys are generated with ssh-keygen at test time in a
 * temp dir; nothing secret is committed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "keys/internal.h"
#include "keys/keys.h"

static char tmpdir[] = "/tmp/airlock-keys-test.XXXXXX";

/* name, ssh-keygen arguments, expected type name */
static const struct {
    const char *name;
    const char *args;
    const char *type;
    unsigned bits;
} gen[] = {
    {"ed25519", "-t ed25519", "ssh-ed25519", 256},
    {"ecdsa256", "-t ecdsa -b 256", "ecdsa-sha2-nistp256", 256},
    {"ecdsa384", "-t ecdsa -b 384", "ecdsa-sha2-nistp384", 384},
    {"ecdsa521", "-t ecdsa -b 521", "ecdsa-sha2-nistp521", 521},
    {"rsa2048", "-t rsa -b 2048", "ssh-rsa", 2048},
    {"rsa3072", "-t rsa -b 3072", "ssh-rsa", 3072},
};
#define N_GEN (sizeof(gen) / sizeof(gen[0]))

/* The .pub line of a generated key (static buffer per call site use). */
static char pub[N_GEN + 4][16384];
static char pub_rsa1024[16384];
static char pub_dsa[16384];
static bool have_dsa;

static int
read_line_file(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL) {
        return -1;
    }
    n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

static int
keygen(const char *name, const char *args, char *out, size_t size)
{
    char cmd[1024], path[512];

    snprintf(cmd,
             sizeof(cmd),
             "ssh-keygen -q %s -N '' -C 'test-%s' -f %s/%s </dev/null "
             ">/dev/null 2>&1",
             args,
             name,
             tmpdir,
             name);
    if (system(cmd) != 0) {
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s.pub", tmpdir, name);
    return read_line_file(path, out, size);
}

static int
setup(void **state)
{
    (void)state;
    if (mkdtemp(tmpdir) == NULL) {
        return -1;
    }
    for (size_t i = 0; i < N_GEN; i++) {
        if (keygen(gen[i].name, gen[i].args, pub[i], sizeof(pub[i])) < 0) {
            return -1;
        }
    }
    if (keygen("rsa1024", "-t rsa -b 1024", pub_rsa1024, sizeof(pub_rsa1024)) <
        0) {
        return -1;
    }
    /* Newer OpenSSH builds may lack DSA; the test then builds the line. */
    have_dsa = keygen("dsa", "-t dsa", pub_dsa, sizeof(pub_dsa)) == 0;
    return 0;
}

static int
teardown(void **state)
{
    char cmd[600];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Parses s (NUL-terminated) with flags; returns the parser's result. */
static int
parse(const char *s, unsigned flags, struct keys_entry *e, const char **err)
{
    *err = NULL;
    memset(e, 0, sizeof(*e));
    return keys_parse_line(s, strlen(s), flags, e, err);
}

static void
expect_reject(const char *line, const char *reason)
{
    struct keys_entry e;
    const char *err;
    int r = parse(line, 0, &e, &err);

    if (r != -EINVAL) {
        print_error("line accepted: '%.80s'\n", line);
    }
    assert_int_equal(r, -EINVAL);
    assert_non_null(err);
    assert_string_equal(err, reason);
}

/* "OPTIONS KEYLINE" parsed; asserts success. */
static void
parse_with_options(const char *opts, unsigned flags, struct keys_entry *e)
{
    char line[20000];
    const char *err;
    int r;

    snprintf(line, sizeof(line), "%s %s", opts, pub[0]);
    r = parse(line, flags, e, &err);
    if (r != 1) {
        print_error("rejected '%s': %s\n", opts, err);
    }
    assert_int_equal(r, 1);
}

static void
expect_options_reject(const char *opts, unsigned flags, const char *reason)
{
    char line[20000];
    struct keys_entry e;
    const char *err;

    snprintf(line, sizeof(line), "%s %s", opts, pub[0]);
    assert_int_equal(parse(line, flags, &e, &err), -EINVAL);
    assert_string_equal(err, reason);
}

/* Base64 of a hand-made blob, for types ssh-keygen cannot make here. */
static void
make_line(char *out,
          size_t size,
          const char *type,
          const unsigned char *blob,
          size_t len)
{
    char b64[900];

    sodium_bin2base64(b64,
                      sizeof(b64),
                      blob,
                      len,
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, size, "%s %s comment", type, b64);
}

static size_t
put_string(unsigned char *p, const void *s, size_t len)
{
    p[0] = (unsigned char)(len >> 24);
    p[1] = (unsigned char)(len >> 16);
    p[2] = (unsigned char)(len >> 8);
    p[3] = (unsigned char)len;
    memcpy(p + 4, s, len);
    return 4 + len;
}

/* ---- key types and fingerprints ------------------------------------- */

static void
test_keys_accepts_every_generated_type_with_bits(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_GEN; i++) {
        struct keys_entry e;
        const char *err;
        char comment[64];
        assert_int_equal(parse(pub[i], 0, &e, &err), 1);
        assert_string_equal(e.type, gen[i].type);
        assert_int_equal(e.bits, gen[i].bits);
        snprintf(comment, sizeof(comment), "test-%s", gen[i].name);
        assert_string_equal(e.comment, comment);
        assert_null(e.source);
        assert_false(e.opts.restricted);
        keys_entry_free(&e);
    }
}

static void
test_keys_fingerprints_match_ssh_keygen(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_GEN; i++) {
        char cmd[600], out[512], fp[128];
        unsigned bits = 0;
        struct keys_entry e;
        const char *err;
        FILE *p;

        snprintf(cmd,
                 sizeof(cmd),
                 "ssh-keygen -lf %s/%s.pub",
                 tmpdir,
                 gen[i].name);
        p = popen(cmd, "r");
        assert_non_null(p);
        assert_non_null(fgets(out, sizeof(out), p));
        assert_int_equal(pclose(p), 0);
        assert_int_equal(sscanf(out, "%u %127s", &bits, fp), 2);

        assert_int_equal(parse(pub[i], 0, &e, &err), 1);
        assert_string_equal(e.fingerprint, fp);
        assert_int_equal(e.bits, bits);
        keys_entry_free(&e);
    }
}

static void
test_keys_fingerprint_of_sk_keys_matches_ssh_keygen(void **state)
{
    static const char *types[] = {"sk-ssh-ed25519@openssh.com",
                                  "sk-ecdsa-sha2-nistp256@openssh.com"};
    (void)state;
    for (size_t t = 0; t < 2; t++) {
        unsigned char blob[256], point[65];
        char line[1024], path[600], cmd[700], out[512], fp[128];
        size_t n = 0;
        struct keys_entry e;
        const char *err;
        FILE *f;

        randombytes_buf(point, sizeof(point));
        point[0] = 0x04;
        n += put_string(blob + n, types[t], strlen(types[t]));
        if (t == 0) {
            n += put_string(blob + n, point, 32);
        } else {
            n += put_string(blob + n, "nistp256", 8);
            n += put_string(blob + n, point, 65);
        }
        n += put_string(blob + n, "ssh:", 4);
        make_line(line, sizeof(line), types[t], blob, n);

        assert_int_equal(parse(line, 0, &e, &err), 1);
        assert_int_equal(e.bits, 256);
        assert_string_equal(e.type, types[t]);

        /* ssh-keygen reads the public half of FIDO keys without a token;
         * it checks only the format, so a random point will do for the
         * fingerprint (ECDSA: it may refuse a point not on the curve). */
        snprintf(path, sizeof(path), "%s/sk%zu.pub", tmpdir, t);
        f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "%s\n", line);
        fclose(f);
        snprintf(cmd, sizeof(cmd), "ssh-keygen -lf %s 2>/dev/null", path);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        if (fgets(out, sizeof(out), p) != NULL) {
            assert_int_equal(sscanf(out, "%*u %127s", fp), 1);
            assert_string_equal(e.fingerprint, fp);
        } else {
            assert_int_equal(t, 1); /* only ECDSA may be refused */
        }
        (void)pclose(p);
        keys_entry_free(&e);
    }
}

static void
test_keys_fingerprint_buffer_too_small(void **state)
{
    char buf[20];
    (void)state;
    assert_int_equal(
        keys_fingerprint((const unsigned char *)"x", 1, buf, sizeof(buf)),
        -ENOBUFS);
}

static void
test_keys_rejects_dss_short_rsa_and_certificates(void **state)
{
    char line[20000];
    unsigned char blob[64];
    size_t n = 0;

    (void)state;
    if (have_dsa) {
        expect_reject(pub_dsa, "ssh-dss keys are not accepted");
    } else {
        n = put_string(blob, "ssh-dss", 7);
        make_line(line, sizeof(line), "ssh-dss", blob, n);
        expect_reject(line, "ssh-dss keys are not accepted");
    }
    expect_reject(pub_rsa1024,
                  "RSA keys shorter than 2048 bits are not accepted");
    n = put_string(blob, "ssh-ed25519-cert-v01@openssh.com", 32);
    make_line(line, sizeof(line), "ssh-ed25519-cert-v01@openssh.com", blob, n);
    expect_reject(line, "certificates are not accepted");
    expect_reject("ssh-foo AAAAB3NzaC1yc2E comment", "unknown key type");
    expect_reject("restrict ssh-foo AAAAB3NzaC1yc2E", "unknown key type");
    expect_reject("restrict", "missing key type");
}

static void
test_keys_rejects_blob_problems(void **state)
{
    char line[20000], *sp;
    unsigned char blob[256];
    size_t n;
    struct keys_entry e;
    const char *err;

    (void)state;
    /* The line says ssh-rsa, the blob is an ed25519 key. */
    snprintf(line, sizeof(line), "ssh-rsa %s", strchr(pub[0], ' ') + 1);
    expect_reject(line, "key type in the blob does not match the line");
    expect_reject("ssh-ed25519", "missing key data");
    expect_reject("ssh-ed25519 !!!notbase64", "key data is not valid base64");
    expect_reject("ssh-ed25519 AAAA", "key blob is truncated");

    /* ed25519 with a 31-byte key, and with trailing bytes. */
    n = put_string(blob, "ssh-ed25519", 11);
    n += put_string(blob + n, "0123456789012345678901234567890", 31);
    make_line(line, sizeof(line), "ssh-ed25519", blob, n);
    expect_reject(line, "invalid ed25519 public key");
    n = put_string(blob, "ssh-ed25519", 11);
    n += put_string(blob + n, "01234567890123456789012345678901", 32);
    blob[n++] = 0;
    make_line(line, sizeof(line), "ssh-ed25519", blob, n);
    expect_reject(line, "trailing data in key blob");

    /* ECDSA: curve name that does not match, bad point. */
    n = put_string(blob, "ecdsa-sha2-nistp256", 19);
    n += put_string(blob + n, "nistp384", 8);
    make_line(line, sizeof(line), "ecdsa-sha2-nistp256", blob, n);
    expect_reject(line, "ECDSA curve in the blob does not match the key type");
    n = put_string(blob, "ecdsa-sha2-nistp256", 19);
    n += put_string(blob + n, "nistp256", 8);
    memset(blob + n + 4, 0x05, 65);
    n += put_string(blob + n, blob + n + 4, 65);
    make_line(line, sizeof(line), "ecdsa-sha2-nistp256", blob, n);
    expect_reject(line, "invalid ECDSA public point");

    /* A valid line stays valid when its base64 padding is dropped. */
    strcpy(line, pub[0]);
    sp = strchr(strchr(line, ' ') + 1, ' ');
    assert_non_null(sp);
    *sp = '\0';
    while (sp[-1] == '=') {
        *--sp = '\0';
    }
    assert_int_equal(parse(line, 0, &e, &err), 1);
    keys_entry_free(&e);
}

/* ---- line handling -------------------------------------------------- */

static void
test_keys_skips_blank_and_comment_lines(void **state)
{
    struct keys_entry e;
    const char *err;

    (void)state;
    assert_int_equal(parse("", 0, &e, &err), 0);
    assert_int_equal(parse("   \t  ", 0, &e, &err), 0);
    assert_int_equal(parse("# a comment", 0, &e, &err), 0);
    assert_int_equal(parse("   # indented comment", 0, &e, &err), 0);
    assert_int_equal(parse("\r\n", 0, &e, &err), 0);
}

static void
test_keys_handles_crlf_and_trailing_blanks(void **state)
{
    char line[20000];
    struct keys_entry e;
    const char *err;

    (void)state;
    snprintf(line, sizeof(line), "%s  \r\n", pub[0]);
    assert_int_equal(parse(line, 0, &e, &err), 1);
    assert_string_equal(e.comment, "test-ed25519");
    keys_entry_free(&e);
    snprintf(line, sizeof(line), "  \t%s\r", pub[1]);
    assert_int_equal(parse(line, 0, &e, &err), 1);
    keys_entry_free(&e);
}

static void
test_keys_comment_is_optional_and_sanitised(void **state)
{
    char line[20000];
    struct keys_entry e;
    const char *err;

    (void)state;
    snprintf(line,
             sizeof(line),
             "%.*s",
             (int)(strrchr(pub[0], ' ') - pub[0]),
             pub[0]);
    assert_int_equal(parse(line, 0, &e, &err), 1);
    assert_string_equal(e.comment, "");
    keys_entry_free(&e);

    snprintf(line,
             sizeof(line),
             "%.*s alice  at\tlaptop \x1b[31mred",
             (int)(strrchr(pub[0], ' ') - pub[0]),
             pub[0]);
    assert_int_equal(parse(line, 0, &e, &err), 1);
    assert_string_equal(e.comment, "alice  at laptop ?[31mred");
    keys_entry_free(&e);
}

static void
test_keys_rejects_glued_lines(void **state)
{
    char line[40000];

    (void)state;
    /* File without final newline + next key: comment glued to type. */
    snprintf(line, sizeof(line), "%s%s", pub[0], pub[1]);
    expect_reject(line, "two keys on one line (a missing newline?)");
    /* Comment-less first key: the blob runs into the type. */
    snprintf(line,
             sizeof(line),
             "%.*s%s",
             (int)(strrchr(pub[0], ' ') - pub[0]),
             pub[0],
             pub[4]);
    expect_reject(line, "key data is not valid base64");
    /* Two keys separated by a blank on one line. */
    snprintf(line, sizeof(line), "%s %s", pub[0], pub[4]);
    expect_reject(line, "two keys on one line (a missing newline?)");
}

static void
test_keys_rejects_line_longer_than_limit(void **state)
{
    size_t len = KEYS_MAX_LINE + 1;
    char *line = malloc(len + 1);
    struct keys_entry e;
    const char *err;

    (void)state;
    assert_non_null(line);
    memcpy(line, pub[0], strlen(pub[0]));
    line[strlen(pub[0])] = ' ';
    line[strlen(pub[0]) + 1] = '\0';
    memset(line + strlen(line), 'x', len - strlen(line));
    line[len] = '\0';
    assert_int_equal(keys_parse_line(line, len, 0, &e, &err), -EINVAL);
    assert_string_equal(err, "line too long");
    /* Exactly at the limit is fine. */
    assert_int_equal(keys_parse_line(line, KEYS_MAX_LINE, 0, &e, &err), 1);
    keys_entry_free(&e);
    free(line);
}

static void
test_keys_rejects_nul_and_stray_cr(void **state)
{
    char line[20000];
    size_t n;
    struct keys_entry e;
    const char *err;

    (void)state;
    n = (size_t)snprintf(line, sizeof(line), "%s", pub[0]);
    line[10] = '\0';
    assert_int_equal(keys_parse_line(line, n, 0, &e, &err), -EINVAL);
    assert_string_equal(err, "line contains a NUL byte");
    snprintf(line, sizeof(line), "%s\rmore", pub[0]);
    expect_reject(line, "line contains a stray line break");
}

/* ---- options ---------------------------------------------------------- */

static void
test_keys_option_restrict_sets_every_no_flag(void **state)
{
    struct keys_entry e;
    char *s;

    (void)state;
    parse_with_options("restrict", 0, &e);
    assert_true(e.opts.restricted);
    assert_true(e.opts.no_pty);
    assert_true(e.opts.no_port_forwarding);
    assert_true(e.opts.no_agent_forwarding);
    assert_true(e.opts.no_x11_forwarding);
    assert_true(e.opts.no_user_rc);
    s = keys_options_format(&e.opts);
    assert_string_equal(s, "restrict");
    free(s);
    keys_entry_free(&e);

    /* restrict,pty: everything off except the PTY. */
    parse_with_options("restrict,pty,user-rc", 0, &e);
    assert_true(e.opts.restricted);
    assert_false(e.opts.no_pty);
    assert_false(e.opts.no_user_rc);
    assert_true(e.opts.no_port_forwarding);
    s = keys_options_format(&e.opts);
    assert_string_equal(s, "restrict,pty,user-rc");
    free(s);
    keys_entry_free(&e);
}

static void
test_keys_option_each_flag(void **state)
{
    static const struct {
        const char *opt;
        size_t offset;
        bool value;
    } cases[] = {
        {"no-pty", offsetof(struct keys_options, no_pty), true},
        {"no-port-forwarding",
         offsetof(struct keys_options, no_port_forwarding),
         true},
        {"no-agent-forwarding",
         offsetof(struct keys_options, no_agent_forwarding),
         true},
        {"no-X11-forwarding",
         offsetof(struct keys_options, no_x11_forwarding),
         true},
        {"NO-USER-RC", offsetof(struct keys_options, no_user_rc), true},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct keys_entry e;
        const bool *flags[] = {&e.opts.no_pty,
                               &e.opts.no_port_forwarding,
                               &e.opts.no_agent_forwarding,
                               &e.opts.no_x11_forwarding,
                               &e.opts.no_user_rc};
        parse_with_options(cases[i].opt, 0, &e);
        assert_false(e.opts.restricted);
        for (size_t k = 0; k < 5; k++) {
            /* Only the named flag is set. */
            bool want = (const char *)flags[k] - (const char *)&e.opts ==
                        (ptrdiff_t)cases[i].offset;
            assert_int_equal(*flags[k], want);
        }
        keys_entry_free(&e);
    }
}

static void
test_keys_option_command_quoting_and_escapes(void **state)
{
    struct keys_entry e;
    char *s;

    (void)state;
    parse_with_options("command=\"echo hello world\"", 0, &e);
    assert_string_equal(e.opts.force_command, "echo hello world");
    keys_entry_free(&e);

    /* \" is the only escape; other backslashes are kept (OpenSSH). */
    parse_with_options("command=\"echo \\\"a b\\\" c\\\\d \\n\"", 0, &e);
    assert_string_equal(e.opts.force_command, "echo \"a b\" c\\\\d \\n");
    s = keys_options_format(&e.opts);
    assert_string_equal(s, "command=\"echo \\\"a b\\\" c\\\\d \\n\"");
    free(s);
    keys_entry_free(&e);

    /* Commas and blanks inside quotes do not split options. */
    parse_with_options("no-pty,command=\"a, b\",no-user-rc", 0, &e);
    assert_string_equal(e.opts.force_command, "a, b");
    assert_true(e.opts.no_pty);
    assert_true(e.opts.no_user_rc);
    keys_entry_free(&e);

    /* Escape sequences survive in the value, not in a log line. */
    parse_with_options("command=\"printf \x1b[2J\"", 0, &e);
    assert_string_equal(e.opts.force_command, "printf \x1b[2J");
    s = keys_options_format(&e.opts);
    assert_string_equal(keys_sanitize(s), "command=\"printf ?[2J\"");
    free(s);
    keys_entry_free(&e);

    parse_with_options("command=\"\"", 0, &e);
    assert_string_equal(e.opts.force_command, "");
    keys_entry_free(&e);

    expect_options_reject("command=\"unterminated",
                          0,
                          "missing closing quote in options");
    expect_options_reject("command=unquoted",
                          0,
                          "option value must be in double quotes");
    expect_options_reject("command=\"a\",command=\"b\"",
                          0,
                          "more than one command= option");
    expect_options_reject("command=\"a\"x", 0, "garbage after option value");
}

static void
test_keys_option_from_permitopen_expiry(void **state)
{
    struct keys_entry e;
    char *s;

    (void)state;
    parse_with_options("from=\"10.0.0.0/8,!10.1.2.3,*.example.com\"", 0, &e);
    assert_string_equal(e.opts.from, "10.0.0.0/8,!10.1.2.3,*.example.com");
    keys_entry_free(&e);
    expect_options_reject("from=\"10.0.0.1/8\"", 0, "invalid CIDR in from=");
    expect_options_reject("from=\"10.0.0.0/33\"", 0, "invalid CIDR in from=");
    expect_options_reject("from=\"\"", 0, "empty from= pattern list");
    expect_options_reject("from=\"a,,b\"", 0, "empty pattern in from=");
    expect_options_reject("from=\"a\",from=\"b\"",
                          0,
                          "more than one from= option");

    parse_with_options("permitopen=\"localhost:8080\",permitopen=\"[::1]:*\","
                       "permitopen=\"db.internal:5432\"",
                       0,
                       &e);
    assert_int_equal(e.opts.npermitopen, 3);
    assert_string_equal(e.opts.permitopen[0], "localhost:8080");
    assert_string_equal(e.opts.permitopen[1], "[::1]:*");
    keys_entry_free(&e);
    expect_options_reject("permitopen=\"localhost\"",
                          0,
                          "invalid permitopen= (want host:port)");
    expect_options_reject("permitopen=\"localhost:99999\"",
                          0,
                          "invalid port in permitopen=");
    expect_options_reject("permitopen=\"::1:22\"",
                          0,
                          "invalid permitopen= (want host:port)");

    /* Without Z: the system time zone (sshd(8)); with Z: UTC. */
    assert_int_equal(setenv("TZ", "UTC", 1), 0);
    tzset();
    parse_with_options("expiry-time=\"20300102\"", 0, &e);
    assert_int_equal(e.opts.valid_before, 1893542400); /* 2030-01-02 UTC */
    keys_entry_free(&e);
    assert_int_equal(setenv("TZ", "XST-2", 1), 0); /* 2 hours east of UTC */
    tzset();
    parse_with_options("expiry-time=\"203001021530\"", 0, &e);
    assert_int_equal(e.opts.valid_before, 1893542400 + 13 * 3600 + 30 * 60);
    keys_entry_free(&e);
    parse_with_options("expiry-time=\"203001021530Z\"", 0, &e);
    assert_int_equal(e.opts.valid_before, 1893542400 + 15 * 3600 + 30 * 60);
    keys_entry_free(&e);
    assert_int_equal(setenv("TZ", "UTC", 1), 0);
    tzset();
    parse_with_options("expiry-time=\"20300102\"", 0, &e);
    keys_entry_free(&e);
    parse_with_options("expiry-time=\"203001021530\"", 0, &e);
    assert_int_equal(e.opts.valid_before, 1893542400 + 15 * 3600 + 30 * 60);
    keys_entry_free(&e);
    /* Two expiries: the earlier one counts. */
    parse_with_options(
        "expiry-time=\"20300102153045Z\",expiry-time=\"20300102\"",
        0,
        &e);
    assert_int_equal(e.opts.valid_before, 1893542400);
    s = keys_options_format(&e.opts);
    assert_string_equal(s, "expiry-time=\"20300102000000Z\"");
    free(s);
    keys_entry_free(&e);
    expect_options_reject("expiry-time=\"20300231\"",
                          0,
                          "invalid expiry-time= (want YYYYMMDD[HHMM[SS]])");
    expect_options_reject("expiry-time=\"2030010\"",
                          0,
                          "invalid expiry-time= (want YYYYMMDD[HHMM[SS]])");
}

static void
test_keys_option_environment_needs_permission(void **state)
{
    struct keys_entry e;

    (void)state;
    expect_options_reject("environment=\"FOO=bar\"",
                          0,
                          "environment= needs AIRLOCK_SSH_PERMIT_USER_ENV=yes");
    parse_with_options("environment=\"FOO=bar baz\",environment=\"_X1=\"",
                       KEYS_PARSE_PERMIT_ENV,
                       &e);
    assert_int_equal(e.opts.nenvironment, 2);
    assert_string_equal(e.opts.environment[0], "FOO=bar baz");
    assert_string_equal(e.opts.environment[1], "_X1=");
    keys_entry_free(&e);
    expect_options_reject("environment=\"1X=a\"",
                          KEYS_PARSE_PERMIT_ENV,
                          "invalid variable name in environment=");
    expect_options_reject("environment=\"NOEQUALS\"",
                          KEYS_PARSE_PERMIT_ENV,
                          "invalid environment= (want NAME=value)");
}

static void
test_keys_option_unsupported_ones_reject_the_line(void **state)
{
    (void)state;
    expect_options_reject("cert-authority",
                          0,
                          "option cert-authority is not supported");
    expect_options_reject("principals=\"alice\"",
                          0,
                          "option principals= is not supported");
    expect_options_reject("tunnel=\"0\"", 0, "option tunnel= is not supported");
    expect_options_reject("permitlisten=\"8080\"",
                          0,
                          "option permitlisten= is not supported");
    expect_options_reject("no-touch-required",
                          0,
                          "option no-touch-required is not supported");
    expect_options_reject("no-pty,frobnicate", 0, "unknown option");
    expect_options_reject("no-pty=\"x\"", 0, "option takes no value");
    expect_options_reject("command", 0, "option needs a value");
    expect_options_reject("no-pty,", 0, "trailing comma in options");
    expect_options_reject("no-pty,,no-user-rc", 0, "empty option");
}

static void
test_keys_option_limits(void **state)
{
    char opts[8192];
    size_t n = 0;

    (void)state;
    for (int i = 0; i <= KEYS_MAX_PERMITOPEN; i++) {
        n += (size_t)snprintf(opts + n,
                              sizeof(opts) - n,
                              "%spermitopen=\"h:%d\"",
                              i ? "," : "",
                              i + 1);
    }
    expect_options_reject(opts, 0, "too many permitopen= options");
}

static void
test_keys_options_format_round_trips(void **state)
{
    static const char *const cases[] = {
        "no-pty,no-agent-forwarding,command=\"x \\\"y\\\"\"",
        "restrict,port-forwarding,from=\"!1.2.3.4,*\","
        "permitopen=\"a:1\",expiry-time=\"20310101000000Z\"",
        "environment=\"A=b\\\"c\"",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct keys_options o1, o2;
        const char *err;
        char *s1, *s2;
        assert_int_equal(keys_parse_options(cases[i],
                                            strlen(cases[i]),
                                            KEYS_PARSE_PERMIT_ENV,
                                            &o1,
                                            &err),
                         0);
        s1 = keys_options_format(&o1);
        assert_int_equal(keys_parse_options(s1,
                                            strlen(s1),
                                            KEYS_PARSE_PERMIT_ENV,
                                            &o2,
                                            &err),
                         0);
        s2 = keys_options_format(&o2);
        assert_string_equal(s1, s2);
        assert_string_equal(s1, cases[i]);
        free(s1);
        free(s2);
        keys_options_free(&o1);
        keys_options_free(&o2);
    }
}

static void
test_keys_entry_format_round_trips(void **state)
{
    struct keys_entry e, e2;
    const char *err;
    char *s;

    (void)state;
    parse_with_options("restrict,command=\"uptime\"", 0, &e);
    s = keys_entry_format(&e);
    assert_non_null(s);
    assert_int_equal(parse(s, 0, &e2, &err), 1);
    assert_string_equal(e.fingerprint, e2.fingerprint);
    assert_string_equal(e2.comment, "test-ed25519");
    assert_string_equal(e2.opts.force_command, "uptime");
    assert_true(e2.opts.restricted);
    free(s);
    keys_entry_free(&e);
    keys_entry_free(&e2);
}

/* ---- from= and expiry ------------------------------------------------- */

static bool
from_allows(const char *from, const char *peer)
{
    struct keys_options o;

    memset(&o, 0, sizeof(o));
    o.from = (char *)from;
    return keys_from_allows(&o, peer);
}

static void
test_keys_from_matches_ipv4(void **state)
{
    (void)state;
    assert_true(from_allows("192.0.2.7", "192.0.2.7"));
    assert_false(from_allows("192.0.2.7", "192.0.2.8"));
    assert_true(from_allows("192.0.2.*", "192.0.2.99"));
    assert_false(from_allows("192.0.2.*", "192.0.3.1"));
    assert_true(from_allows("192.0.2.?", "192.0.2.5"));
    assert_false(from_allows("192.0.2.?", "192.0.2.55"));
    assert_true(from_allows("*", "203.0.113.1"));
    assert_true(from_allows("10.0.0.0/8", "10.200.3.4"));
    assert_false(from_allows("10.0.0.0/8", "11.0.0.1"));
    assert_true(from_allows("172.16.0.0/12", "172.31.255.255"));
    assert_false(from_allows("172.16.0.0/12", "172.32.0.0"));
    assert_true(from_allows("0.0.0.0/0", "8.8.8.8"));
    assert_true(from_allows("198.51.100.1/32", "198.51.100.1"));
    /* A list: any positive match. */
    assert_true(from_allows("1.1.1.1,10.0.0.0/8", "10.1.1.1"));
    /* Host names never match an address (no DNS). */
    assert_false(from_allows("host.example.com", "10.1.1.1"));
}

static void
test_keys_from_negation_denies(void **state)
{
    (void)state;
    assert_false(from_allows("10.0.0.0/8,!10.1.0.0/16", "10.1.2.3"));
    assert_true(from_allows("10.0.0.0/8,!10.1.0.0/16", "10.2.2.3"));
    /* A negated match denies even when listed after... and before. */
    assert_false(from_allows("!10.1.2.3,*", "10.1.2.3"));
    assert_true(from_allows("!10.1.2.3,*", "10.1.2.4"));
    /* Only negations: nothing positive matched, so no. */
    assert_false(from_allows("!10.1.2.3", "10.9.9.9"));
    assert_false(from_allows("!*", "10.9.9.9"));
}

static void
test_keys_from_matches_ipv6(void **state)
{
    (void)state;
    assert_true(from_allows("::1", "::1"));
    assert_true(from_allows("2001:db8::/32", "2001:db8:1:2::5"));
    assert_false(from_allows("2001:db8::/32", "2001:db9::5"));
    assert_true(from_allows("fe80::/10", "fe80::1"));
    assert_false(from_allows("fe80::/10", "fec0::1"));
    /* The peer is canonicalised before wildcard matching. */
    assert_true(from_allows("2001:db8::*", "2001:0db8:0:0:0:0:0:7"));
    assert_false(
        from_allows("2001:db8::/32,!2001:db8:bad::/48", "2001:db8:bad::1"));
    /* IPv4 rules apply to IPv4-mapped IPv6 peers. */
    assert_true(from_allows("192.0.2.0/24", "::ffff:192.0.2.10"));
    assert_false(from_allows("!192.0.2.10,*", "::ffff:192.0.2.10"));
    /* Families do not mix. */
    assert_false(from_allows("::/0", "192.0.2.1"));
    assert_false(from_allows("0.0.0.0/0", "::1"));
}

static void
test_keys_from_edge_cases(void **state)
{
    struct keys_options none;

    (void)state;
    memset(&none, 0, sizeof(none));
    assert_true(keys_from_allows(&none, "10.0.0.1"));
    assert_true(keys_from_allows(NULL, "10.0.0.1"));
    assert_false(from_allows("*", "not-an-address"));
    assert_false(from_allows("*", NULL));
    /* A broken negation fails closed. */
    assert_false(from_allows("*,!10.0.0.0/99", "192.0.2.1"));
}

static void
test_keys_expiry(void **state)
{
    struct keys_options o;

    (void)state;
    memset(&o, 0, sizeof(o));
    assert_false(keys_expired(&o, 2000000000));
    o.valid_before = 1893542400;
    assert_false(keys_expired(&o, 1893542399));
    assert_true(keys_expired(&o, 1893542400));
    assert_true(keys_expired(&o, 1893542401));
}

/* ---- sets, texts, names ----------------------------------------------- */

static void
test_keys_set_find_compares_type_and_blob(void **state)
{
    struct keys_set set = {NULL, 0, 0};
    const struct keys_entry *f;

    (void)state;
    for (size_t i = 0; i < N_GEN; i++) {
        struct keys_entry e;
        const char *err;
        assert_int_equal(parse(pub[i], 0, &e, &err), 1);
        assert_int_equal(keys_set_add(&set, &e), 0);
        keys_entry_free(&e);
    }
    for (size_t i = 0; i < N_GEN; i++) {
        const struct keys_entry *e = &set.entries[i];
        f = keys_set_find(&set, e->type, e->blob, e->blob_len);
        assert_ptr_equal(f, e);
        assert_null(keys_set_find(&set, "ssh-dss", e->blob, e->blob_len));
    }
    {
        unsigned char other[4096];
        const struct keys_entry *e = &set.entries[0];
        memcpy(other, e->blob, e->blob_len);
        other[e->blob_len - 1] ^= 1;
        assert_null(keys_set_find(&set, e->type, other, e->blob_len));
        assert_null(keys_set_find(&set, e->type, e->blob, e->blob_len - 1));
    }
    keys_set_free(&set);
    assert_int_equal(set.count, 0);
}

static void
collect_cb(void *userdata,
           const char *source,
           unsigned line,
           const struct keys_entry *e,
           const char *errstr)
{
    char *out = userdata;
    size_t n = strlen(out);

    snprintf(out + n,
             4096 - n,
             "%s:%u:%s;",
             source,
             line,
             e ? e->type : errstr);
}

static void
test_keys_text_numbers_lines_and_handles_last_line(void **state)
{
    char text[60000], out[4096] = "";
    struct keys_set set = {NULL, 0, 0};

    (void)state;
    /* CRLF everywhere, a comment, a bad line, no final newline. */
    snprintf(text,
             sizeof(text),
             "# keys\r\n%s\r\n\r\nssh-dss AAAA\r\n%s",
             pub[0],
             pub[1]);
    assert_int_equal(keys_parse_text("SRC",
                                     "app",
                                     text,
                                     strlen(text),
                                     0,
                                     true,
                                     collect_cb,
                                     out,
                                     &set),
                     1);
    assert_string_equal(out,
                        "SRC:2:ssh-ed25519;SRC:4:ssh-dss keys are not "
                        "accepted;SRC:5:ecdsa-sha2-nistp256;");
    assert_int_equal(set.count, 2);
    assert_string_equal(set.entries[1].source, "SRC");
    assert_int_equal(set.entries[1].line, 5);
    assert_string_equal(set.entries[1].user, "app");
    keys_set_free(&set);
}

static void
test_keys_text_skips_a_byte_order_mark(void **state)
{
    char text[sizeof(pub[0]) + 8];
    struct keys_set set = {NULL, 0, 0};

    (void)state;
    snprintf(text, sizeof(text), "\xef\xbb\xbf%s\n", pub[0]);
    assert_int_equal(keys_parse_text("SRC",
                                     "root",
                                     text,
                                     strlen(text),
                                     0,
                                     true,
                                     NULL,
                                     NULL,
                                     &set),
                     0);
    assert_int_equal(set.count, 1);
    keys_set_free(&set);
}

static void
test_keys_text_limits_keys_per_source(void **state)
{
    size_t len = strlen(pub[0]) + 1, n = KEYS_MAX_PER_SOURCE + 2;
    char *text = malloc(len * n + 1);
    struct keys_set set = {NULL, 0, 0};

    (void)state;
    assert_non_null(text);
    for (size_t i = 0; i < n; i++) {
        memcpy(text + i * len, pub[0], len - 1);
        text[i * len + len - 1] = '\n';
    }
    assert_int_equal(keys_parse_text("SRC",
                                     "root",
                                     text,
                                     len * n,
                                     0,
                                     true,
                                     NULL,
                                     NULL,
                                     &set),
                     2);
    assert_int_equal(set.count, KEYS_MAX_PER_SOURCE);
    keys_set_free(&set);
    free(text);
}

static void
test_keys_valid_user_names(void **state)
{
    (void)state;
    assert_true(keys_valid_user("root"));
    assert_true(keys_valid_user("app_1"));
    assert_true(keys_valid_user("first.last"));
    assert_false(keys_valid_user(""));
    assert_false(keys_valid_user("..data"));
    assert_false(keys_valid_user(".hidden"));
    assert_false(keys_valid_user("-x"));
    assert_false(keys_valid_user("a/b"));
    assert_false(keys_valid_user("a b"));
    assert_false(keys_valid_user("root.tmp.123"));
    assert_false(keys_valid_user(
        "a123456789012345678901234567890123456789012345678901234567890123"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_accepts_every_generated_type_with_bits),
        cmocka_unit_test(test_keys_fingerprints_match_ssh_keygen),
        cmocka_unit_test(test_keys_fingerprint_of_sk_keys_matches_ssh_keygen),
        cmocka_unit_test(test_keys_fingerprint_buffer_too_small),
        cmocka_unit_test(test_keys_rejects_dss_short_rsa_and_certificates),
        cmocka_unit_test(test_keys_rejects_blob_problems),
        cmocka_unit_test(test_keys_skips_blank_and_comment_lines),
        cmocka_unit_test(test_keys_handles_crlf_and_trailing_blanks),
        cmocka_unit_test(test_keys_comment_is_optional_and_sanitised),
        cmocka_unit_test(test_keys_rejects_glued_lines),
        cmocka_unit_test(test_keys_rejects_line_longer_than_limit),
        cmocka_unit_test(test_keys_rejects_nul_and_stray_cr),
        cmocka_unit_test(test_keys_option_restrict_sets_every_no_flag),
        cmocka_unit_test(test_keys_option_each_flag),
        cmocka_unit_test(test_keys_option_command_quoting_and_escapes),
        cmocka_unit_test(test_keys_option_from_permitopen_expiry),
        cmocka_unit_test(test_keys_option_environment_needs_permission),
        cmocka_unit_test(test_keys_option_unsupported_ones_reject_the_line),
        cmocka_unit_test(test_keys_option_limits),
        cmocka_unit_test(test_keys_options_format_round_trips),
        cmocka_unit_test(test_keys_entry_format_round_trips),
        cmocka_unit_test(test_keys_from_matches_ipv4),
        cmocka_unit_test(test_keys_from_negation_denies),
        cmocka_unit_test(test_keys_from_matches_ipv6),
        cmocka_unit_test(test_keys_from_edge_cases),
        cmocka_unit_test(test_keys_expiry),
        cmocka_unit_test(test_keys_set_find_compares_type_and_blob),
        cmocka_unit_test(test_keys_text_numbers_lines_and_handles_last_line),
        cmocka_unit_test(test_keys_text_skips_a_byte_order_mark),
        cmocka_unit_test(test_keys_text_limits_keys_per_source),
        cmocka_unit_test(test_keys_valid_user_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
