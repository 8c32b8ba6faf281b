/* Unit tests for session recording (src/sshd/record.c): the JSON string
 * encoder with UTF-8 carried across chunks, the size parser and the
 * configuration, the writer (events, cap), and both ends of the 'R'
 * request over a real socketpair with a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/utf8.h"
#include "sshd/record.h"

/* Escapes in (len bytes) in one call, final. */
static char *
esc(const void *in, size_t len)
{
    char *out = malloc(RECORD_JSON_MAX(len) + 1);
    size_t n;

    assert_non_null(out);
    n = record_json_escape(NULL, in, len, true, out);
    assert_true(n <= RECORD_JSON_MAX(len));
    out[n] = '\0';
    return out;
}

/* Escapes in split at every position of cuts[], carrying between calls,
 * and returns the concatenation. */
static char *
esc_split(const void *in, size_t len, const size_t *cuts, size_t ncuts)
{
    struct record_utf8 carry = {0};
    char *out = calloc(1, RECORD_JSON_MAX(len) * (ncuts + 1) + 1);
    size_t o = 0, from = 0;

    assert_non_null(out);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        o += record_json_escape(&carry,
                                (const unsigned char *)in + from,
                                to - from,
                                i == ncuts,
                                out + o);
        from = to;
    }
    assert_int_equal(carry.len, 0);
    out[o] = '\0';
    return out;
}

static void
expect_esc(const char *in, size_t len, const char *want)
{
    char *got = esc(in, len);
    assert_string_equal(got, want);
    free(got);
}

static void
test_record_escapes_json_specials_and_controls(void **state)
{
    (void)state;
    expect_esc("plain text", 10, "plain text");
    expect_esc("a\"b\\c", 5, "a\\\"b\\\\c");
    expect_esc("\n\r\t\b\f", 5, "\\n\\r\\t\\b\\f");
    expect_esc("\x1b[1m\x7f", 5, "\\u001b[1m\\u007f");
    expect_esc("a\0b", 3, "a\\u0000b");
    expect_esc("/", 1, "/");
}

static void
test_record_keeps_valid_utf8(void **state)
{
    (void)state;
    expect_esc("\xc3\xa9", 2, "\xc3\xa9");                 /* é */
    expect_esc("\xe2\x82\xac", 3, "\xe2\x82\xac");         /* € */
    expect_esc("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80"); /* 😀 */
    expect_esc("\xe2\x80\xa8", 3, "\xe2\x80\xa8"); /* U+2028: valid JSON */
}

static void
test_record_replaces_invalid_bytes(void **state)
{
    (void)state;
    expect_esc("\xff", 1, "\\ufffd");
    expect_esc("a\x80z", 3, "a\\ufffdz");        /* lone continuation */
    expect_esc("\xc0\x80", 2, "\\ufffd\\ufffd"); /* overlong NUL */
    expect_esc("\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd"); /* surrogate */
    expect_esc("\xf5\x80\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd");
    /* A valid start cut short is one U+FFFD (Unicode's "maximal
     * subpart"), at the end as in the middle. */
    expect_esc("\xe2\x82", 2, "\\ufffd");
    expect_esc("\xf0\x9f\x98(", 4, "\\ufffd(");
    expect_esc("\xe2(", 2, "\\ufffd(");
}

static void
test_record_carries_sequences_split_at_every_point(void **state)
{
    static const char *const seqs[] = {"\xc3\xa9",
                                       "\xe2\x82\xac",
                                       "\xf0\x9f\x98\x80",
                                       "\xf4\x8f\xbf\xbf",
                                       "\xe0\xa0\x80",
                                       "\xf0\x90\x80\x80"};

    (void)state;
    for (size_t s = 0; s < sizeof(seqs) / sizeof(seqs[0]); s++) {
        char in[16];
        size_t len;

        snprintf(in, sizeof(in), "x%sy", seqs[s]);
        len = strlen(in);
        for (size_t cut = 1; cut < len; cut++) {
            char *got = esc_split(in, len, &cut, 1);
            assert_string_equal(got, in);
            free(got);
        }
        /* One byte per call. */
        {
            size_t cuts[15];
            for (size_t i = 0; i + 1 < len; i++) {
                cuts[i] = i + 1;
            }
            char *got = esc_split(in, len, cuts, len - 1);
            assert_string_equal(got, in);
            free(got);
        }
    }
}

static void
test_record_carry_that_breaks_becomes_fffd(void **state)
{
    size_t cut = 2;
    char *got;

    (void)state;
    /* E2 82 then "(": the carried start is replaced, "(" kept. */
    got = esc_split("\xe2\x82(", 3, &cut, 1);
    assert_string_equal(got, "\\ufffd(");
    free(got);
    /* A carried start that the last chunk never completes. */
    cut = 1;
    got = esc_split("a\xf0\x9f", 3, &cut, 1);
    assert_string_equal(got, "a\\ufffd");
    free(got);
    /* E0 80 is an overlong start: never carried. */
    cut = 2;
    got = esc_split("\xe0\x80\x80", 3, &cut, 1);
    assert_string_equal(got, "\\ufffd\\ufffd\\ufffd");
    free(got);
}

/* Random bytes: the output stays within its bound, holds no raw control
 * byte, is valid UTF-8 as a whole, and is the same however the input
 * was cut into chunks. */
static void
test_record_random_input_gives_valid_output(void **state)
{
    unsigned char in[512];
    unsigned seed = 12345;

    (void)state;
    for (int round = 0; round < 2000; round++) {
        size_t len = (size_t)(round % 64) + 1, cuts[3];
        char *got;
        size_t n;

        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = (unsigned char)(seed >> 16);
            if (round % 3 == 0) {
                in[i] |= 0x80; /* mostly high bytes */
            }
        }
        for (size_t i = 0; i < 3; i++) {
            cuts[i] = len * (i + 1) / 4;
        }
        got = esc_split(in, len, cuts, 3);
        n = strlen(got);
        /* Where the chunks were cut changes nothing. */
        {
            char *whole = esc(in, len);
            assert_string_equal(got, whole);
            free(whole);
        }
        for (size_t i = 0; i < n;) {
            size_t s = utf8_seq_len((const unsigned char *)got + i, n - i);
            assert_true(s > 0);
            assert_true((unsigned char)got[i] >= 0x20);
            i += s;
        }
        free(got);
    }
}

static void
test_record_parses_sizes(void **state)
{
    uint64_t v = 0;

    (void)state;
    assert_int_equal(record_parse_size("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(record_parse_size("8k", &v), 0);
    assert_int_equal(v, 8192);
    assert_int_equal(record_parse_size("8K", &v), 0);
    assert_int_equal(v, 8192);
    assert_int_equal(record_parse_size("64M", &v), 0);
    assert_int_equal(v, (uint64_t)64 << 20);
    assert_int_equal(record_parse_size("2G", &v), 0);
    assert_int_equal(v, (uint64_t)2 << 30);
    assert_int_equal(record_parse_size("", &v), -EINVAL);
    assert_int_equal(record_parse_size("k", &v), -EINVAL);
    assert_int_equal(record_parse_size("12x", &v), -EINVAL);
    assert_int_equal(record_parse_size("1kk", &v), -EINVAL);
    assert_int_equal(record_parse_size("-1", &v), -EINVAL);
    assert_int_equal(record_parse_size("1 k", &v), -EINVAL);
    assert_int_equal(record_parse_size("99999999999999999999G", &v), -ERANGE);
    assert_int_equal(record_parse_size("17179869184G", &v), -ERANGE);
}

static const char *const *env_now;

static const char *
env_get(const char *name, void *ud)
{
    (void)ud;
    for (size_t i = 0; env_now[i] != NULL; i += 2) {
        if (strcmp(env_now[i], name) == 0) {
            return env_now[i + 1];
        }
    }
    return NULL;
}

static int
load(const char *const *env,
     struct record_conf *rc,
     const char **var,
     const char **why)
{
    env_now = env;
    *var = *why = NULL;
    return record_conf_load(rc, env_get, NULL, var, why);
}

static void
test_record_conf_defaults_and_refusals(void **state)
{
    static const char *const none[] = {NULL};
    static const char *const good[] = {"AIRLOCK_SSH_RECORD_DIR",
                                       "/var/log/rec",
                                       "AIRLOCK_SSH_RECORD_INPUT",
                                       "yes",
                                       "AIRLOCK_SSH_RECORD_REQUIRED",
                                       "yes",
                                       "AIRLOCK_SSH_RECORD_MAX",
                                       "1M",
                                       NULL};
    static const char *const rel[] = {"AIRLOCK_SSH_RECORD_DIR", "rec", NULL};
    static const char *const req[] = {"AIRLOCK_SSH_RECORD_REQUIRED",
                                      "yes",
                                      NULL};
    static const char *const small[] = {"AIRLOCK_SSH_RECORD_MAX", "4095", NULL};
    static const char *const badb[] = {"AIRLOCK_SSH_RECORD_INPUT",
                                       "maybe",
                                       NULL};
    struct record_conf rc;
    const char *var, *why;

    (void)state;
    assert_int_equal(load(none, &rc, &var, &why), 0);
    assert_string_equal(rc.dir, "");
    assert_false(rc.input);
    assert_false(rc.required);
    assert_int_equal(rc.max, RECORD_MAX_DEFAULT);

    assert_int_equal(load(good, &rc, &var, &why), 0);
    assert_string_equal(rc.dir, "/var/log/rec");
    assert_true(rc.input);
    assert_true(rc.required);
    assert_int_equal(rc.max, 1 << 20);

    assert_int_equal(load(rel, &rc, &var, &why), -EINVAL);
    assert_string_equal(var, "AIRLOCK_SSH_RECORD_DIR");
    assert_non_null(why);
    assert_int_equal(load(req, &rc, &var, &why), -EINVAL);
    assert_string_equal(var, "AIRLOCK_SSH_RECORD_REQUIRED");
    assert_int_equal(load(small, &rc, &var, &why), -EINVAL);
    assert_string_equal(var, "AIRLOCK_SSH_RECORD_MAX");
    assert_int_equal(load(badb, &rc, &var, &why), -EINVAL);
    assert_string_equal(var, "AIRLOCK_SSH_RECORD_INPUT");
}

/* ---- the writer ---- */

static char tmpdir[64];

static int
setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/airlock-rec.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        return -1;
    }
    return chmod(tmpdir, 0700);
}

static int
teardown_dir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *
slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 1 << 20);
    size_t n;

    assert_non_null(f);
    assert_non_null(buf);
    n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    if (ret_len != NULL) {
        *ret_len = n;
    }
    return buf;
}

static int
open_file(const char *name, const char *header)
{
    char path[128];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, header, strlen(header)),
                     (ssize_t)strlen(header));
    return fd;
}

static void
test_record_writes_events(void **state)
{
    struct record r;
    const char *why = NULL;
    char path[128], *text;

    (void)state;
    assert_int_equal(
        record_start(&r, open_file("a.cast", "{}\n"), "a", 1 << 20),
        0);
    assert_int_equal(record_data(&r, RECORD_STDOUT, "hi\n", 3, &why), 0);
    assert_int_equal(record_data(&r, RECORD_STDERR, "\xe2\x82", 2, &why), 0);
    assert_int_equal(record_data(&r, RECORD_STDERR, "\xac", 1, &why), 0);
    assert_int_equal(record_data(&r, RECORD_INPUT, "ls\r", 3, &why), 0);
    assert_int_equal(record_resize(&r, 120, 40, &why), 0);
    assert_int_equal(record_data(&r, RECORD_STDOUT, "\xc3", 1, &why), 0);
    record_close(&r);
    assert_int_equal(r.fd, -1);
    snprintf(path, sizeof(path), "%s/a.cast", tmpdir);
    text = slurp(path, NULL);
    /* The timestamps vary; the rest does not. */
    assert_non_null(strstr(text, ", \"o\", \"hi\\n\"]\n"));
    assert_non_null(strstr(text, ", \"o\", \"\xe2\x82\xac\"]\n"));
    assert_non_null(strstr(text, ", \"i\", \"ls\\r\"]\n"));
    assert_non_null(strstr(text, ", \"r\", \"120x40\"]\n"));
    /* The carried lone C3 is flushed as U+FFFD at the close. */
    assert_non_null(strstr(text, ", \"o\", \"\\ufffd\"]\n"));
    assert_int_equal(strncmp(text, "{}\n[0.", 5), 0);
    free(text);
}

static void
test_record_cap_keeps_what_fits_then_stops(void **state)
{
    struct record r;
    const char *why = NULL;
    char path[128], data[3000], *text;
    size_t len;
    int e = 0;

    (void)state;
    memset(data, 'a', sizeof(data));
    assert_int_equal(record_start(&r, open_file("cap.cast", "{}\n"), "c", 8192),
                     0);
    for (int i = 0; i < 10 && e == 0; i++) {
        e = record_data(&r, RECORD_STDOUT, data, sizeof(data), &why);
    }
    assert_int_equal(e, -EFBIG);
    assert_string_equal(why, "size cap reached");
    assert_int_equal(r.fd, -1);
    /* Closed: later data is ignored. */
    assert_int_equal(record_data(&r, RECORD_STDOUT, "x", 1, &why), 0);
    record_close(&r);
    snprintf(path, sizeof(path), "%s/cap.cast", tmpdir);
    text = slurp(path, &len);
    assert_true(len <= 8192);
    assert_true(len > 8192 - 200);
    assert_int_equal(text[len - 1], '\n');
    free(text);
}

static void
test_record_start_refuses_what_is_no_regular_file(void **state)
{
    struct record r;
    int p[2];

    (void)state;
    assert_int_equal(pipe(p), 0);
    assert_int_equal(record_start(&r, p[1], "pipe", 1 << 20), -EINVAL);
    assert_int_equal(r.fd, -1);
    close(p[0]);
}

/* A write error (here EBADF: a read-only fd; ENOSPC takes the same path)
 * ends the recording with a reason. */
static void
test_record_write_error_ends_recording(void **state)
{
    struct record r;
    const char *why = NULL;
    char path[128];
    int fd;

    (void)state;
    close(open_file("ro.cast", "{}\n"));
    snprintf(path, sizeof(path), "%s/ro.cast", tmpdir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(record_start(&r, fd, "ro", 1 << 20), 0);
    assert_int_equal(record_data(&r, RECORD_STDOUT, "x", 1, &why), -EBADF);
    assert_string_equal(why, "write error");
    assert_int_equal(r.fd, -1);
    record_close(&r);
}

/* ---- the 'R' request, both ends ---- */

static const char req_ok[] = "R3\0"
                             "100\0"
                             "30\0"
                             "shell\0"
                             "xterm\0"
                             "/bin/sh\0"
                             "echo \"hi\"\n\x01";

static int
serve(const struct record_conf *rc,
      const struct record_who *who,
      const void *msg,
      size_t len,
      char *answer,
      size_t asize,
      int *ret_fd)
{
    int sp[2], r;
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov = {answer, asize};
    struct msghdr m = {0};
    struct cmsghdr *cm;
    ssize_t n;

    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp),
                     0);
    assert_int_equal(send(sp[1], msg, len, 0), (ssize_t)len);
    r = record_serve(sp[0], rc, who);
    *ret_fd = -1;
    answer[0] = '\0';
    if (r == 0) {
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = ctl.b;
        m.msg_controllen = sizeof(ctl.b);
        n = recvmsg(sp[1], &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        assert_true(n > 0);
        for (cm = CMSG_FIRSTHDR(&m); cm != NULL; cm = CMSG_NXTHDR(&m, cm)) {
            memcpy(ret_fd, CMSG_DATA(cm), sizeof(int));
        }
    }
    close(sp[0]);
    close(sp[1]);
    return r;
}

static const struct record_who who_alice = {
    .user = "alice",
    .fingerprint = "SHA256:abc",
    .key_id = NULL,
    .peer = "192.0.2.7",
    .port = 40000,
    .pid = 4242,
};

static void
conf_for(struct record_conf *rc, const char *dir)
{
    memset(rc, 0, sizeof(*rc));
    snprintf(rc->dir, sizeof(rc->dir), "%s", dir);
    rc->max = RECORD_MAX_DEFAULT;
}

static void
test_record_serve_creates_the_file(void **state)
{
    struct record_conf rc;
    char answer[256], path[512], *text;
    struct stat st;
    int fd;

    (void)state;
    setenv("AIRLOCK_ROOT", "/", 1);
    conf_for(&rc, tmpdir);
    assert_int_equal(serve(&rc,
                           &who_alice,
                           req_ok,
                           sizeof(req_ok),
                           answer,
                           sizeof(answer),
                           &fd),
                     0);
    assert_int_equal(answer[0], 'Y');
    assert_true(fd >= 0);
    /* 20261129T200102.123Z-alice-4242-3.cast */
    assert_int_equal(strlen(answer + 1),
                     strlen("20261129T200102.123Z-alice-4242-3.cast"));
    assert_string_equal(answer + 1 + 20, "-alice-4242-3.cast");
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_uid, geteuid());
    assert_int_equal(fcntl(fd, F_GETFL) & O_APPEND, O_APPEND);
    close(fd);
    snprintf(path, sizeof(path), "%s/%s", tmpdir, answer + 1);
    text = slurp(path, NULL);
    assert_non_null(
        strstr(text, "{\"version\": 2, \"width\": 100, \"height\": 30, "));
    assert_non_null(
        strstr(text, "\"env\": {\"TERM\": \"xterm\", \"SHELL\": \"/bin/sh\"}"));
    assert_non_null(strstr(text, "\"command\": \"echo \\\"hi\\\"\\n\\u0001\""));
    assert_non_null(
        strstr(text,
               "\"user\": \"alice\", \"key_fingerprint\": \"SHA256:abc\""));
    assert_non_null(
        strstr(text,
               "\"source_address\": \"192.0.2.7\", \"source_port\": 40000"));
    assert_null(strstr(text, "key_id"));
    assert_int_equal(text[strlen(text) - 1], '\n');
    /* One line: every string of it escaped. */
    assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
    free(text);
}

/* The longest user name a key may have still gets its file. */
static void
test_record_serve_takes_the_longest_user_name(void **state)
{
    struct record_conf rc;
    struct record_who who = who_alice;
    char user[64], answer[256];
    int fd;

    (void)state;
    setenv("AIRLOCK_ROOT", "/", 1);
    memset(user, 'u', 63);
    user[63] = '\0';
    who.user = user;
    conf_for(&rc, tmpdir);
    assert_int_equal(
        serve(&rc, &who, req_ok, sizeof(req_ok), answer, sizeof(answer), &fd),
        0);
    assert_int_equal(answer[0], 'Y');
    assert_true(fd >= 0);
    assert_non_null(strstr(answer, user));
    close(fd);
}

static void
test_record_serve_refusals(void **state)
{
    struct record_conf rc;
    char answer[256], gw[128];
    int fd;
    static const char bad_kind[] = "R1\0"
                                   "80\0"
                                   "24\0"
                                   "sftp\0"
                                   "\0"
                                   "/bin/sh\0";
    static const char bad_term[] = "R1\0"
                                   "80\0"
                                   "24\0"
                                   "exec\0"
                                   "a b\0"
                                   "/bin/sh\0";
    static const char zero_w[] = "R1\0"
                                 "0\0"
                                 "24\0"
                                 "exec\0"
                                 "\0"
                                 "/bin/sh\0";
    static const char short_msg[] = "R1\0"
                                    "80\0"
                                    "24\0";
    static const char trailing[] = "R1\0"
                                   "80\0"
                                   "24\0"
                                   "exec\0"
                                   "\0"
                                   "/bin/sh\0"
                                   "\0"
                                   "x";
    static const char not_r[] = "Q1\0";

    (void)state;
    setenv("AIRLOCK_ROOT", "/", 1);
    conf_for(&rc, tmpdir);
    /* No grant: nothing, and no protocol error. */
    assert_int_equal(
        serve(&rc, NULL, req_ok, sizeof(req_ok), answer, sizeof(answer), &fd),
        0);
    assert_int_equal(answer[0], 'N');
    assert_int_equal(fd, -1);
    /* Malformed requests: -EPROTO, the caller kills the process. */
    assert_int_equal(serve(&rc,
                           &who_alice,
                           bad_kind,
                           sizeof(bad_kind),
                           answer,
                           sizeof(answer),
                           &fd),
                     -EPROTO);
    assert_int_equal(serve(&rc,
                           &who_alice,
                           bad_term,
                           sizeof(bad_term),
                           answer,
                           sizeof(answer),
                           &fd),
                     -EPROTO);
    assert_int_equal(serve(&rc,
                           &who_alice,
                           zero_w,
                           sizeof(zero_w),
                           answer,
                           sizeof(answer),
                           &fd),
                     -EPROTO);
    assert_int_equal(serve(&rc,
                           &who_alice,
                           short_msg,
                           sizeof(short_msg),
                           answer,
                           sizeof(answer),
                           &fd),
                     -EPROTO);
    assert_int_equal(serve(&rc,
                           &who_alice,
                           trailing,
                           sizeof(trailing) - 1,
                           answer,
                           sizeof(answer),
                           &fd),
                     -EPROTO);
    assert_int_equal(serve(&rc,
                           &who_alice,
                           not_r,
                           sizeof(not_r),
                           answer,
                           sizeof(answer),
                           &fd),
                     -EPROTO);
    /* A group-writable directory: 'N', nothing created. */
    snprintf(gw, sizeof(gw), "%s/gw", tmpdir);
    assert_int_equal(mkdir(gw, 0700), 0);
    assert_int_equal(chmod(gw, 0770), 0);
    conf_for(&rc, gw);
    assert_int_equal(serve(&rc,
                           &who_alice,
                           req_ok,
                           sizeof(req_ok),
                           answer,
                           sizeof(answer),
                           &fd),
                     0);
    assert_int_equal(answer[0], 'N');
    assert_int_equal(fd, -1);
    assert_int_equal(rmdir(gw), 0);
    /* Not configured. */
    conf_for(&rc, "");
    assert_int_equal(serve(&rc,
                           &who_alice,
                           req_ok,
                           sizeof(req_ok),
                           answer,
                           sizeof(answer),
                           &fd),
                     0);
    assert_int_equal(answer[0], 'N');
}

/* record_request: the answer is queued before the call, so the request it
 * sends can be read back and served afterwards in one thread. */
static void
test_record_request_round_trip(void **state)
{
    struct record_req req = {
        .chan = 7,
        .width = 80,
        .height = 24,
        .kind = "exec",
        .term = "",
        .shell = "/bin/sh",
        .command = "id",
    };
    char name[RECORD_NAME_MAX], why_buf[64], msg[512];
    const char *why = NULL;
    int sp[2], fd = -1, file;
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov;
    struct msghdr m = {0};
    struct cmsghdr *cm;
    ssize_t n;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp),
                     0);
    file = open_file("req.cast", "{}\n");
    iov.iov_base = (void *)"Ymy.cast";
    iov.iov_len = 9;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    memset(&ctl, 0, sizeof(ctl));
    m.msg_control = ctl.b;
    m.msg_controllen = sizeof(ctl.b);
    cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &file, sizeof(int));
    assert_int_equal(sendmsg(sp[0], &m, 0), 9);
    close(file);
    assert_int_equal(record_request(sp[1],
                                    &req,
                                    1000,
                                    &fd,
                                    name,
                                    sizeof(name),
                                    why_buf,
                                    sizeof(why_buf),
                                    &why),
                     0);
    assert_true(fd >= 0);
    assert_string_equal(name, "my.cast");
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
    n = recv(sp[0], msg, sizeof(msg), 0);
    assert_int_equal(n,
                     (ssize_t)sizeof("R7\0"
                                     "80\0"
                                     "24\0"
                                     "exec\0"
                                     "\0"
                                     "/bin/sh\0"
                                     "id"));
    assert_memory_equal(msg,
                        "R7\0"
                        "80\0"
                        "24\0"
                        "exec\0"
                        "\0"
                        "/bin/sh\0"
                        "id",
                        (size_t)n);

    /* 'N': the listener's reason comes back. */
    assert_int_equal(send(sp[0], "Nno way", 8, 0), 8);
    assert_int_equal(record_request(sp[1],
                                    &req,
                                    1000,
                                    &fd,
                                    name,
                                    sizeof(name),
                                    why_buf,
                                    sizeof(why_buf),
                                    &why),
                     -EPERM);
    assert_string_equal(why, "no way");
    (void)recv(sp[0], msg, sizeof(msg), 0);

    /* 'Y' without an fd: a protocol error. */
    assert_int_equal(send(sp[0], "Yx.cast", 8, 0), 8);
    assert_int_equal(record_request(sp[1],
                                    &req,
                                    1000,
                                    &fd,
                                    name,
                                    sizeof(name),
                                    why_buf,
                                    sizeof(why_buf),
                                    &why),
                     -EPROTO);
    (void)recv(sp[0], msg, sizeof(msg), 0);

    /* No answer: bounded. */
    assert_int_equal(record_request(sp[1],
                                    &req,
                                    50,
                                    &fd,
                                    name,
                                    sizeof(name),
                                    why_buf,
                                    sizeof(why_buf),
                                    &why),
                     -ETIMEDOUT);
    close(sp[0]);
    close(sp[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_escapes_json_specials_and_controls),
        cmocka_unit_test(test_record_keeps_valid_utf8),
        cmocka_unit_test(test_record_replaces_invalid_bytes),
        cmocka_unit_test(test_record_carries_sequences_split_at_every_point),
        cmocka_unit_test(test_record_carry_that_breaks_becomes_fffd),
        cmocka_unit_test(test_record_random_input_gives_valid_output),
        cmocka_unit_test(test_record_parses_sizes),
        cmocka_unit_test(test_record_conf_defaults_and_refusals),
        cmocka_unit_test(test_record_writes_events),
        cmocka_unit_test(test_record_cap_keeps_what_fits_then_stops),
        cmocka_unit_test(test_record_start_refuses_what_is_no_regular_file),
        cmocka_unit_test(test_record_write_error_ends_recording),
        cmocka_unit_test(test_record_serve_creates_the_file),
        cmocka_unit_test(test_record_serve_takes_the_longest_user_name),
        cmocka_unit_test(test_record_serve_refusals),
        cmocka_unit_test(test_record_request_round_trip),
    };

    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
