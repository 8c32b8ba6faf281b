/* Unit tests for src/syslogd: datagram parsing (RFC 3164 / 5424 and broken
 * input), line formatting and escaping, rotation of the syslog file, and
 * the environment settings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "syslogd/config.h"
#include "syslogd/logfile.h"
#include "syslogd/message.h"
#include "syslogd/output.h"
#include "syslogd/syslogd.h"

static char line[SYSLOG_LINE_MAX];

/* Parses a string literal (sizeof keeps embedded NULs) or buffer. */
static int
parse(const char *s, size_t len, struct syslog_msg *m, const char **note)
{
    return syslog_parse(s, len, m, note);
}
#define PARSE(lit, m, note) parse((lit), sizeof(lit) - 1, (m), (note))

static void
assert_field(const char *p, size_t len, const char *want)
{
    if (want == NULL) {
        assert_int_equal(len, 0);
        return;
    }
    assert_non_null(p);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(p, want, len);
}

/* Formats m into a NUL-terminated string (static buffer). */
static const char *
format(const struct syslog_msg *m, size_t dlen, size_t orig)
{
    size_t n = syslog_format(line, sizeof(line) - 1, m, dlen, orig);
    line[n] = '\0';
    return line;
}

static const char *
escape(const char *s, size_t len)
{
    size_t n = syslog_escape(line, sizeof(line) - 1, s, len);
    line[n] = '\0';
    return line;
}
#define ESCAPE(lit) escape((lit), sizeof(lit) - 1)

static void
test_3164_with_host_and_pid(void **state)
{
    struct syslog_msg m;
    const char *note = "x";
    (void)state;
    assert_int_equal(
        PARSE("<30>Nov 28 00:52:04 myhost demo[123]: hello world", &m, &note),
        0);
    assert_null(note);
    assert_int_equal(m.kind, SYSLOG_RFC3164);
    assert_int_equal(m.facility, 3);
    assert_int_equal(m.severity, 6);
    assert_field(m.host, m.host_len, "myhost");
    assert_field(m.tag, m.tag_len, "demo");
    assert_field(m.pid, m.pid_len, "123");
    assert_field(m.msg, m.msg_len, "hello world");
    assert_string_equal(format(&m, 10, 10),
                        "daemon.info demo[123]: hello world\n");
}

static void
test_3164_local_form_without_host(void **state)
{
    struct syslog_msg m;
    (void)state;
    /* glibc's syslog(3): no host, day padded with a space, trailing NUL. */
    assert_int_equal(parse("<28>Nov  8 00:52:04 demo[77]: disk low\n",
                           sizeof("<28>Nov  8 00:52:04 demo[77]: disk low\n"),
                           &m,
                           NULL),
                     0);
    assert_null(m.host);
    assert_field(m.tag, m.tag_len, "demo");
    assert_field(m.pid, m.pid_len, "77");
    assert_field(m.msg, m.msg_len, "disk low");
    assert_string_equal(format(&m, 1, 1),
                        "daemon.warning demo[77]: disk low\n");
}

static void
test_3164_without_pid(void **state)
{
    struct syslog_msg m;
    (void)state;
    assert_int_equal(PARSE("<13>Nov 28 00:52:04 demo: hi: there", &m, NULL), 0);
    assert_null(m.pid);
    assert_field(m.tag, m.tag_len, "demo");
    assert_field(m.msg, m.msg_len, "hi: there");
    assert_string_equal(format(&m, 1, 1), "user.notice demo: hi: there\n");

    assert_int_equal(PARSE("<13>Nov 28 00:52:04 host demo: hi", &m, NULL), 0);
    assert_field(m.host, m.host_len, "host");
    assert_field(m.tag, m.tag_len, "demo");
    assert_null(m.pid);
}

static void
test_3164_without_timestamp_or_tag(void **state)
{
    struct syslog_msg m;
    (void)state;
    assert_int_equal(PARSE("<14>demo: short form", &m, NULL), 0);
    assert_field(m.tag, m.tag_len, "demo");
    assert_field(m.msg, m.msg_len, "short form");

    /* No tag: the whole text is the message, not cut at a colon. */
    assert_int_equal(PARSE("<14>see http://x.example/y for more", &m, NULL), 0);
    assert_null(m.tag);
    assert_null(m.host);
    assert_field(m.msg, m.msg_len, "see http://x.example/y for more");
    assert_string_equal(format(&m, 1, 1),
                        "user.info -: see http://x.example/y for more\n");

    assert_int_equal(PARSE("<14>Nov 28 00:52:04 just some text", &m, NULL), 0);
    assert_null(m.tag);
    assert_field(m.msg, m.msg_len, "just some text");
}

static void
test_3164_iso_timestamp(void **state)
{
    struct syslog_msg m;
    (void)state;
    assert_int_equal(
        PARSE("<13>2026-11-28T00:52:04.1+00:00 h demo[9]: iso", &m, NULL),
        0);
    assert_field(m.host, m.host_len, "h");
    assert_field(m.tag, m.tag_len, "demo");
    assert_field(m.pid, m.pid_len, "9");
    assert_field(m.msg, m.msg_len, "iso");
}

static void
test_5424_with_structured_data_and_bom(void **state)
{
    struct syslog_msg m;
    const char *note = "x";
    (void)state;
    assert_int_equal(
        PARSE("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog "
              "- ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"App\"]"
              "[x@1 a=\"q\\\"uo\\]te\"] \xEF\xBB\xBF"
              "An application event",
              &m,
              &note),
        0);
    assert_null(note);
    assert_int_equal(m.kind, SYSLOG_RFC5424);
    assert_int_equal(m.facility, 20);
    assert_int_equal(m.severity, 5);
    assert_field(m.host, m.host_len, "mymachine.example.com");
    assert_field(m.tag, m.tag_len, "evntslog");
    assert_null(m.pid);
    assert_field(m.msgid, m.msgid_len, "ID47");
    assert_field(m.msg, m.msg_len, "An application event");
    assert_string_equal(format(&m, 1, 1),
                        "local4.notice evntslog: An application event\n");
}

static void
test_5424_nilvalues(void **state)
{
    struct syslog_msg m;
    const char *note = "x";
    (void)state;
    assert_int_equal(PARSE("<34>1 - - - - - -", &m, &note), 0);
    assert_null(note);
    assert_int_equal(m.kind, SYSLOG_RFC5424);
    assert_null(m.host);
    assert_null(m.tag);
    assert_null(m.pid);
    assert_null(m.msgid);
    assert_int_equal(m.msg_len, 0);
    assert_string_equal(format(&m, 1, 1), "auth.crit -: \n");

    assert_int_equal(PARSE("<34>1 - - app 42 - - text", &m, &note), 0);
    assert_field(m.tag, m.tag_len, "app");
    assert_field(m.pid, m.pid_len, "42");
    assert_field(m.msg, m.msg_len, "text");
    assert_string_equal(format(&m, 1, 1), "auth.crit app[42]: text\n");
}

static void
test_5424_broken_header_falls_back(void **state)
{
    struct syslog_msg m;
    const char *note = NULL;
    (void)state;
    assert_int_equal(PARSE("<13>1 only three", &m, &note), 0);
    assert_non_null(note);
    assert_int_equal(m.kind, SYSLOG_RFC3164);
    assert_field(m.msg, m.msg_len, "1 only three");

    note = NULL;
    assert_int_equal(
        PARSE("<13>1 - h app - - [open sd never closed", &m, &note),
        0);
    assert_non_null(note);
    assert_field(m.tag, m.tag_len, "app");
    assert_field(m.msg, m.msg_len, "[open sd never closed");

    /* Plain text that starts with "1 " is not taken as RFC 5424. */
    note = NULL;
    assert_int_equal(
        PARSE("<13>1 apple banana cherry date eggs fig", &m, &note),
        0);
    assert_int_equal(m.kind, SYSLOG_RFC3164);
    assert_field(m.msg, m.msg_len, "1 apple banana cherry date eggs fig");

    note = NULL;
    assert_int_equal(PARSE("<13>1 - h app - - junk", &m, &note), 0);
    assert_non_null(note);
    assert_field(m.msg, m.msg_len, "junk");
}

static void
test_bad_pri_keeps_whole_datagram(void **state)
{
    static const char *const bad[] = {
        "<192>over",
        "<abc>x",
        "<1234>x",
        "<>x",
        "<13",
        "no pri at all",
        "<-1>x",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct syslog_msg m;
        const char *note = NULL;
        assert_int_equal(syslog_parse(bad[i], strlen(bad[i]), &m, &note), 0);
        assert_non_null(note);
        assert_int_equal(m.facility, 1);
        assert_int_equal(m.severity, 5);
        assert_field(m.msg, m.msg_len, bad[i]);
    }
}

static void
test_empty_datagrams_are_dropped(void **state)
{
    struct syslog_msg m;
    const char *note = NULL;
    (void)state;
    assert_int_equal(syslog_parse("", 0, &m, &note), -ENODATA);
    assert_non_null(note);
    assert_int_equal(PARSE("\n\0\r\n", &m, NULL), -ENODATA);
    /* A PRI alone is a message with no text, not nothing. */
    assert_int_equal(PARSE("<13>", &m, NULL), 0);
    assert_int_equal(m.msg_len, 0);
}

static void
test_truncated_headers_do_not_crash(void **state)
{
    static const char *const cut[] = {
        "<13>Nov 28 00:5",
        "<13>demo[12",
        "<13>demo[12]",
        "<13>demo[]:",
        "<13>1 2003",
        "<13>1 - - - -",
        "<13>1 - - - - - [a=\"",
        "<13>1 - - - - - [a=\"\\",
        "<13>Nov 28 00:52:04 ",
        "<13>host demo[",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
        struct syslog_msg m;
        size_t len = strlen(cut[i]);
        assert_int_equal(syslog_parse(cut[i], len, &m, NULL), 0);
        /* Whatever the reading, no field points outside the datagram. */
        assert_true(m.msg >= cut[i] && m.msg + m.msg_len <= cut[i] + len);
        if (m.tag != NULL) {
            assert_true(m.tag + m.tag_len <= cut[i] + len);
        }
        assert_true(strchr(format(&m, len, len), '\n') ==
                    line + strlen(line) - 1);
    }
}

static void
test_escape_controls_and_invalid_utf8(void **state)
{
    (void)state;
    assert_string_equal(ESCAPE("a\nb\r\tc"), "a\\nb\\r\\tc");
    assert_string_equal(ESCAPE("\x00\x01\x1b[31m\x7f"),
                        "\\x00\\x01\\x1b[31m\\x7f");
    /* Valid UTF-8 passes: é, €, an emoji. */
    assert_string_equal(ESCAPE("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
                        "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    /* Invalid: stray continuation, overlong '/', surrogate, > U+10FFFF,
     * a sequence cut at the end. */
    assert_string_equal(ESCAPE("\x80"), "\\x80");
    assert_string_equal(ESCAPE("\xc0\xaf"), "\\xc0\\xaf");
    assert_string_equal(ESCAPE("\xed\xa0\x80"), "\\xed\\xa0\\x80");
    assert_string_equal(ESCAPE("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
    assert_string_equal(ESCAPE("ok\xe2\x82"), "ok\\xe2\\x82");
    assert_string_equal(ESCAPE("\xff\xfe"), "\\xff\\xfe");
    /* C1 controls (NEL, CSI) are valid UTF-8 but escaped. */
    assert_string_equal(ESCAPE("\xc2\x85\xc2\x9b\xc2\xa0"),
                        "\\xc2\\x85\\xc2\\x9b\xc2\xa0");
}

static void
test_escape_stops_when_full(void **state)
{
    char out[5];
    (void)state;
    /* "\x01" needs 4 bytes; after "ab" only 3 are left. */
    assert_int_equal(syslog_escape(out, 5, "ab\x01", 3), 2);
    assert_int_equal(syslog_escape(out, 5, "abcdefg", 7), 5);
}

static void
test_every_byte_value_stays_on_one_line(void **state)
{
    char dgram[4 + 256];
    struct syslog_msg m;
    size_t n;
    (void)state;
    memcpy(dgram, "<13>", 4);
    for (int i = 0; i < 256; i++) {
        dgram[4 + i] = (char)(i == 0 ? 'z' : i); /* keep the end non-NUL */
    }
    assert_int_equal(syslog_parse(dgram, sizeof(dgram), &m, NULL), 0);
    n = syslog_format(line, sizeof(line), &m, sizeof(dgram), sizeof(dgram));
    assert_true(n > 0);
    assert_int_equal(line[n - 1], '\n');
    for (size_t i = 0; i + 1 < n; i++) {
        unsigned char c = (unsigned char)line[i];
        assert_true(c >= 0x20 && c != 0x7f);
    }
}

static void
test_oversize_message_is_cut_with_marker(void **state)
{
    static char big[4 + SYSLOG_MSG_MAX + 100];
    struct syslog_msg m;
    const char *l;
    char want[96];
    (void)state;
    memcpy(big, "<13>", 4);
    memset(big + 4, 'a', sizeof(big) - 4);
    assert_int_equal(syslog_parse(big, sizeof(big), &m, NULL), 0);
    l = format(&m, sizeof(big), sizeof(big));
    snprintf(want,
             sizeof(want),
             " [truncated, datagram was %zu bytes]\n",
             sizeof(big));
    assert_int_equal(strlen(l),
                     strlen("user.notice -: ") + SYSLOG_MSG_MAX + strlen(want));
    assert_string_equal(l + strlen(l) - strlen(want), want);

    /* A datagram the kernel cut (MSG_TRUNC): the real size is reported. */
    assert_int_equal(syslog_parse("<13>short", 9, &m, NULL), 0);
    assert_string_equal(format(&m, 9, 70000),
                        "user.notice -: short [truncated, datagram was 70000 "
                        "bytes]\n");

    /* The cut never splits a UTF-8 sequence. */
    memset(big + 4, 'a', SYSLOG_MSG_MAX - 1);
    memcpy(big + 4 + SYSLOG_MSG_MAX - 1, "\xc3\xa9", 2);
    assert_int_equal(syslog_parse(big, sizeof(big), &m, NULL), 0);
    l = format(&m, sizeof(big), sizeof(big));
    assert_null(strstr(l, "\\xc3"));
    assert_int_equal(strcspn(l + strlen("user.notice -: "), " "),
                     SYSLOG_MSG_MAX - 1);
}

static void
test_long_tag_and_pid_are_capped(void **state)
{
    static char d[1200];
    struct syslog_msg m;
    size_t n;
    (void)state;
    /* RFC 5424 fields have no length limit in the parser, only in the
     * line: a 1000-byte APP-NAME is shown cut. */
    memcpy(d, "<13>1 - - ", 10);
    memset(d + 10, 'A', 1000);
    memcpy(d + 1010, " 7 - - m", 8);
    assert_int_equal(syslog_parse(d, 1018, &m, NULL), 0);
    assert_int_equal(m.tag_len, 1000);
    n = syslog_format(line, sizeof(line), &m, 1018, 1018);
    assert_true(n < 300);
}

/* Deterministic random datagrams: the parser never reads outside and the
 * line is always one bounded line. */
static void
test_random_datagrams_keep_invariants(void **state)
{
    static const char alphabet[] = "<>[]: -\"\\1\xEF\xBB\xBF\n\0aZ9\xc3\xff";
    static char d[600];
    uint32_t x = 2463534242u;
    (void)state;
    for (int iter = 0; iter < 20000; iter++) {
        struct syslog_msg m;
        size_t len;
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        len = x % sizeof(d);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            d[i] = (x & 1) ? alphabet[(x >> 1) % (sizeof(alphabet) - 1)]
                           : (char)(x >> 8);
        }
        if (len > 5 && (iter & 3) == 0) {
            memcpy(d, "<13>1 ", 6);
        }
        if (syslog_parse(d, len, &m, NULL) == 0) {
            size_t n = syslog_format(line, sizeof(line), &m, len, len);
            assert_true(m.msg >= d && m.msg + m.msg_len <= d + len);
            assert_true(n > 0 && n <= sizeof(line));
            assert_int_equal(line[n - 1], '\n');
            assert_null(memchr(line, '\n', n - 1));
        }
    }
}

static void
test_facility_and_severity_names(void **state)
{
    (void)state;
    assert_string_equal(syslog_facility_name(0), "kern");
    assert_string_equal(syslog_facility_name(10), "authpriv");
    assert_string_equal(syslog_facility_name(23), "local7");
    assert_string_equal(syslog_facility_name(24), "unknown");
    assert_string_equal(syslog_severity_name(0), "emerg");
    assert_string_equal(syslog_severity_name(7), "debug");
    assert_string_equal(syslog_severity_name(8), "unknown");
}

/* ---- stdout writer ---- */

static void
test_output_chunks_are_whole_lines_within_pipe_buf(void **state)
{
    static char buf[12300]; /* 3 pipe buffers, in whole 100-byte lines */
    size_t off = 0, n;
    (void)state;
    /* 100-byte lines: a chunk is the largest multiple of 100 <= PIPE_BUF. */
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] = (i % 100 == 99) ? '\n' : 'a';
    }
    assert_int_equal(output_next_chunk(buf, 150), 150); /* fits: all */
    while (off < sizeof(buf)) {
        n = output_next_chunk(buf + off, sizeof(buf) - off);
        assert_true(n > 0 && n <= PIPE_BUF);
        assert_int_equal(buf[off + n - 1], '\n');
        if (sizeof(buf) - off > PIPE_BUF) {
            assert_int_equal(n, PIPE_BUF / 100 * 100);
        }
        off += n;
    }
    /* A single line longer than PIPE_BUF goes alone, whole. */
    memset(buf, 'b', sizeof(buf));
    buf[PIPE_BUF + 10] = '\n';
    buf[PIPE_BUF + 20] = '\n';
    assert_int_equal(output_next_chunk(buf, PIPE_BUF + 21), PIPE_BUF + 11);
}

static struct output out;

static void
test_output_flush_writes_everything_in_order(void **state)
{
    int p[2];
    char got[OUTPUT_BUF_SIZE];
    size_t total = 0;
    (void)state;
    assert_int_equal(pipe(p), 0);
    /* The pipe holds 64 KiB by default; 40000 bytes fit without a reader. */
    out.fd = p[1];
    out.len = 0;
    for (int i = 0; out.len < 40000; i++) {
        out.len += (size_t)snprintf(out.buf + out.len,
                                    sizeof(out.buf) - out.len,
                                    "line %d\n",
                                    i);
    }
    size_t want = out.len;
    char copy[OUTPUT_BUF_SIZE];
    memcpy(copy, out.buf, want);
    assert_int_equal(output_flush(&out), 0);
    assert_int_equal(out.len, 0);
    close(p[1]);
    for (;;) {
        ssize_t n = read(p[0], got + total, sizeof(got) - total);
        if (n <= 0) {
            break;
        }
        total += (size_t)n;
    }
    close(p[0]);
    assert_int_equal(total, want);
    assert_memory_equal(got, copy, want);
}

static void
test_output_flush_error_drops_buffer(void **state)
{
    int p[2];
    (void)state;
    assert_int_equal(pipe(p), 0);
    close(p[0]);
    (void)signal(SIGPIPE, SIG_IGN);
    out.fd = p[1];
    memcpy(out.buf, "x\n", 2);
    out.len = 2;
    assert_int_equal(output_flush(&out), -EPIPE);
    assert_int_equal(out.len, 0);
    close(p[1]);
    assert_int_equal(output_flush(&out), 0); /* nothing buffered */
    out.len = 2;
    assert_int_equal(output_flush(&out), -EBADF);
    assert_int_equal(out.len, 0);
}

/* ---- rotation ---- */

static char tmpdir[64];

static int
setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_syslogd.XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_dir(void **state)
{
    char cmd[PATH_MAX + 16];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
path_in(char *buf, size_t size, const char *name)
{
    int n = snprintf(buf, size, "%s/%.64s", tmpdir, name);
    assert_true(n > 0 && (size_t)n < size);
}

/* Reads a whole small file into buf (NUL-terminated); -1 when missing. */
static long
slurp(const char *name, char *buf, size_t size)
{
    char p[PATH_MAX];
    FILE *f;
    size_t n;

    path_in(p, sizeof(p), name);
    f = fopen(p, "r");
    if (f == NULL) {
        return -1;
    }
    n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
    return (long)n;
}

static bool
exists(const char *name)
{
    char p[PATH_MAX];
    path_in(p, sizeof(p), name);
    return access(p, F_OK) == 0;
}

static struct logfile lf;

static void
write_numbered(struct logfile *f, int from, int to)
{
    char l[64];
    for (int i = from; i <= to; i++) {
        /* 20 bytes each: "line 0001 .........\n" */
        int n = snprintf(l, sizeof(l), "line %04d .........\n", i);
        assert_int_equal(logfile_write(f, l, (size_t)n), 0);
    }
}

static void
test_rotation_at_size_keeps_n_files(void **state)
{
    char p[PATH_MAX], buf[4096];
    (void)state;
    path_in(p, sizeof(p), "log/sub/syslog");
    assert_int_equal(logfile_init(&lf, p, 100, 2), 0);
    assert_int_equal(logfile_open(&lf), 0); /* creates log/sub */
    write_numbered(&lf, 1, 12);
    assert_int_equal(logfile_flush(&lf), 0);
    /* 5 lines (100 bytes) fill a file: 1-5 went to .1 then on to .2,
     * 6-10 are in .1, 11-12 in the current file. */
    assert_int_equal(slurp("log/sub/syslog", buf, sizeof(buf)), 40);
    assert_string_equal(buf, "line 0011 .........\nline 0012 .........\n");
    assert_int_equal(slurp("log/sub/syslog.1", buf, sizeof(buf)), 100);
    assert_non_null(strstr(buf, "line 0006"));
    assert_non_null(strstr(buf, "line 0010"));
    assert_int_equal(slurp("log/sub/syslog.2", buf, sizeof(buf)), 100);
    assert_non_null(strstr(buf, "line 0001"));
    assert_false(exists("log/sub/syslog.3"));

    /* Two more rotations (at lines 16 and 21): the oldest lines go, and
     * there are still only 2 old files. */
    write_numbered(&lf, 13, 25);
    assert_int_equal(logfile_flush(&lf), 0);
    assert_int_equal(slurp("log/sub/syslog.2", buf, sizeof(buf)), 100);
    assert_non_null(strstr(buf, "line 0011"));
    assert_int_equal(slurp("log/sub/syslog.1", buf, sizeof(buf)), 100);
    assert_non_null(strstr(buf, "line 0016"));
    assert_int_equal(slurp("log/sub/syslog", buf, sizeof(buf)), 100);
    assert_non_null(strstr(buf, "line 0021"));
    assert_non_null(strstr(buf, "line 0025"));
    assert_false(exists("log/sub/syslog.3"));
    logfile_close(&lf);
}

static void
test_rotation_counts_existing_file(void **state)
{
    char p[PATH_MAX], buf[4096];
    (void)state;
    path_in(p, sizeof(p), "pre");
    assert_int_equal(logfile_init(&lf, p, 100, 1), 0);
    assert_int_equal(logfile_open(&lf), 0);
    write_numbered(&lf, 1, 4); /* 80 bytes */
    logfile_close(&lf);

    /* A new collector picks up the 80 bytes: the next 2 lines rotate. */
    assert_int_equal(logfile_init(&lf, p, 100, 1), 0);
    assert_int_equal(logfile_open(&lf), 0);
    write_numbered(&lf, 5, 6);
    logfile_close(&lf);
    assert_int_equal(slurp("pre.1", buf, sizeof(buf)), 100);
    assert_int_equal(slurp("pre", buf, sizeof(buf)), 20);
    assert_string_equal(buf, "line 0006 .........\n");
}

static void
test_rotation_keep_zero_and_never(void **state)
{
    char p[PATH_MAX], buf[8192];
    (void)state;
    path_in(p, sizeof(p), "k0");
    assert_int_equal(logfile_init(&lf, p, 50, 0), 0);
    write_numbered(&lf, 1, 5); /* opens on first write */
    logfile_close(&lf);
    assert_false(exists("k0.1"));
    assert_int_equal(slurp("k0", buf, sizeof(buf)), 20);
    assert_string_equal(buf, "line 0005 .........\n");

    path_in(p, sizeof(p), "never");
    assert_int_equal(logfile_init(&lf, p, 0, 3), 0);
    write_numbered(&lf, 1, 300);
    logfile_close(&lf);
    assert_false(exists("never.1"));
    assert_int_equal(slurp("never", buf, sizeof(buf)), 6000);
}

static void
test_line_longer_than_limit_or_buffer(void **state)
{
    static char big[LOGFILE_BUF_SIZE + 10];
    char p[PATH_MAX], small[32];
    struct stat st;
    (void)state;
    path_in(p, sizeof(p), "big");
    assert_int_equal(logfile_init(&lf, p, 100, 1), 0);
    memset(big, 'b', sizeof(big));
    big[sizeof(big) - 1] = '\n';
    assert_int_equal(logfile_write(&lf, big, sizeof(big)), 0);
    assert_int_equal(logfile_write(&lf, "x\n", 2), 0);
    logfile_close(&lf);
    /* The oversized line sits alone in the rotated file. */
    path_in(p, sizeof(p), "big.1");
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, sizeof(big));
    assert_int_equal(slurp("big", small, sizeof(small)), 2);
}

static void
test_reopen_after_outside_rename(void **state)
{
    char p[PATH_MAX], q[PATH_MAX], buf[256];
    (void)state;
    path_in(p, sizeof(p), "hup");
    path_in(q, sizeof(q), "hup.old");
    assert_int_equal(logfile_init(&lf, p, 0, 1), 0);
    assert_int_equal(logfile_write(&lf, "one\n", 4), 0);
    assert_int_equal(logfile_flush(&lf), 0);
    assert_int_equal(rename(p, q), 0); /* what logrotate does */
    assert_int_equal(logfile_write(&lf, "two\n", 4), 0);
    assert_int_equal(logfile_reopen(&lf), 0); /* flushes "two" to old fd */
    assert_int_equal(logfile_write(&lf, "three\n", 6), 0);
    logfile_close(&lf);
    assert_int_equal(slurp("hup.old", buf, sizeof(buf)), 8);
    assert_string_equal(buf, "one\ntwo\n");
    assert_int_equal(slurp("hup", buf, sizeof(buf)), 6);
    assert_string_equal(buf, "three\n");
}

/* The socket is made 0666 under any umask, its parents are created, and
 * what is in the way is replaced only when it is a stale socket or a
 * symlink: a live daemon's socket and a plain file are left alone. */
static void
test_bind_creates_replaces_stale_and_refuses_live(void **state)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char p[PATH_MAX], q[PATH_MAX];
    struct stat st;
    mode_t old;
    int fd = -1, fd2 = -1;
    (void)state;

    path_in(p, sizeof(p), "dev/sub/log");
    old = umask(077);
    assert_int_equal(syslogd_bind(p, &fd), 0);
    (void)umask(old);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0666);
    /* Live: another bind must not steal it. */
    assert_int_equal(syslogd_bind(p, &fd2), -EADDRINUSE);
    assert_int_equal(fd2, -1);
    /* Stale (its owner gone): replaced, and the new one receives. */
    assert_int_equal(close(fd), 0);
    assert_int_equal(syslogd_bind(p, &fd), 0);
    fd2 = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd2 >= 0);
    memcpy(sa.sun_path, p, strlen(p) + 1);
    assert_int_equal(sendto(fd2, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa)),
                     1);
    assert_int_equal(close(fd2), 0);
    assert_int_equal(close(fd), 0);
    /* A host-style symlink is replaced, the file it names untouched. */
    path_in(p, sizeof(p), "linked");
    path_in(q, sizeof(q), "target");
    assert_int_equal(symlink(q, p), 0);
    assert_int_equal(syslogd_bind(p, &fd), 0);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_false(exists("target"));
    assert_int_equal(close(fd), 0);
    /* Somebody's file: left as it is. */
    path_in(p, sizeof(p), "plain");
    fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(close(fd), 0);
    fd = -1;
    assert_int_equal(syslogd_bind(p, &fd), -EEXIST);
    assert_int_equal(fd, -1);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISREG(st.st_mode));
}

static void
test_open_refuses_symlink_and_reports_errors(void **state)
{
    char p[PATH_MAX], q[PATH_MAX];
    (void)state;
    path_in(p, sizeof(p), "link");
    path_in(q, sizeof(q), "target");
    assert_int_equal(symlink(q, p), 0);
    assert_int_equal(logfile_init(&lf, p, 0, 1), 0);
    assert_int_equal(logfile_open(&lf), -ELOOP);
    assert_int_equal(logfile_write(&lf, "x\n", 2), -ELOOP);
    assert_false(exists("target"));

    /* Parent is a regular file: the error comes back, nothing grows. */
    path_in(p, sizeof(p), "plain");
    assert_int_equal(logfile_init(&lf, p, 0, 1), 0);
    assert_int_equal(logfile_write(&lf, "x\n", 2), 0);
    logfile_close(&lf);
    path_in(p, sizeof(p), "plain/syslog");
    assert_int_equal(logfile_init(&lf, p, 0, 1), 0);
    assert_true(logfile_open(&lf) < 0);
    logfile_close(&lf);
}

static void
test_parse_size_suffixes(void **state)
{
    uint64_t v = 0;
    (void)state;
    assert_int_equal(logfile_parse_size("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(logfile_parse_size("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(logfile_parse_size("10k", &v), 0);
    assert_int_equal(v, 10240);
    assert_int_equal(logfile_parse_size("10K", &v), 0);
    assert_int_equal(v, 10240);
    assert_int_equal(logfile_parse_size("2M", &v), 0);
    assert_int_equal(v, 2u << 20);
    assert_int_equal(logfile_parse_size("1G", &v), 0);
    assert_int_equal(v, 1u << 30);
    assert_int_equal(logfile_parse_size("1024G", &v), 0);
    assert_int_equal(logfile_parse_size("1025G", &v), -ERANGE);
    assert_int_equal(logfile_parse_size("", &v), -EINVAL);
    assert_int_equal(logfile_parse_size("k", &v), -EINVAL);
    assert_int_equal(logfile_parse_size("10x", &v), -EINVAL);
    assert_int_equal(logfile_parse_size("-1", &v), -EINVAL);
    assert_int_equal(logfile_parse_size("1.5M", &v), -EINVAL);
    assert_int_equal(logfile_parse_size("10 M", &v), -EINVAL);
    assert_int_equal(logfile_parse_size("99999999999999999999999999", &v),
                     -ERANGE);
}

static void
test_config_defaults_and_errors(void **state)
{
    struct syslogd_config c;
    const char *var = NULL, *why = NULL;
    (void)state;
    assert_int_equal(
        syslogd_config_parse(&c, "/r", NULL, NULL, NULL, NULL, &var, &why),
        0);
    assert_true(c.enabled);
    assert_string_equal(c.socket_path, "/r/dev/log");
    assert_string_equal(c.file, "");
    assert_int_equal(c.rotate_size, SYSLOGD_ROTATE_SIZE_DEFAULT);
    assert_int_equal(c.rotate_keep, SYSLOGD_ROTATE_KEEP_DEFAULT);

    assert_int_equal(syslogd_config_parse(&c,
                                          "/",
                                          "off",
                                          "/var/log/syslog",
                                          "1M",
                                          "0",
                                          &var,
                                          &why),
                     0);
    assert_false(c.enabled);
    assert_string_equal(c.socket_path, "/dev/log");
    assert_string_equal(c.file, "/var/log/syslog");
    assert_int_equal(c.rotate_size, 1u << 20);
    assert_int_equal(c.rotate_keep, 0);

    assert_int_equal(syslogd_config_parse(&c, "/r", "", "", "", "", &var, &why),
                     0);
    assert_true(c.enabled);
    assert_string_equal(c.file, "");

    assert_int_equal(
        syslogd_config_parse(&c, "/r", "maybe", NULL, NULL, NULL, &var, &why),
        -EINVAL);
    assert_string_equal(var, "AIRLOCK_SYSLOG");
    assert_non_null(why);
    assert_int_equal(syslogd_config_parse(&c,
                                          "/r",
                                          NULL,
                                          "var/log/x",
                                          NULL,
                                          NULL,
                                          &var,
                                          &why),
                     -EINVAL);
    assert_string_equal(var, "AIRLOCK_SYSLOG_FILE");
    assert_int_equal(syslogd_config_parse(&c,
                                          "/r",
                                          NULL,
                                          "/var/log/",
                                          NULL,
                                          NULL,
                                          &var,
                                          &why),
                     -EINVAL);
    assert_string_equal(var, "AIRLOCK_SYSLOG_FILE");
    assert_int_equal(
        syslogd_config_parse(&c, "/r", NULL, NULL, "10X", NULL, &var, &why),
        -EINVAL);
    assert_string_equal(var, "AIRLOCK_SYSLOG_ROTATE_SIZE");
    assert_int_equal(
        syslogd_config_parse(&c, "/r", NULL, NULL, NULL, "1000", &var, &why),
        -ERANGE);
    assert_string_equal(var, "AIRLOCK_SYSLOG_ROTATE_KEEP");
    assert_int_equal(
        syslogd_config_parse(&c, "/r", NULL, NULL, NULL, "two", &var, &why),
        -EINVAL);
    assert_string_equal(var, "AIRLOCK_SYSLOG_ROTATE_KEEP");
}

static void
test_config_socket_path_too_long(void **state)
{
    char root[200];
    struct syslogd_config c;
    const char *var = NULL, *why = NULL;
    (void)state;
    memset(root, 'r', sizeof(root) - 1);
    root[0] = '/';
    root[sizeof(root) - 1] = '\0';
    assert_int_equal(
        syslogd_config_parse(&c, root, NULL, NULL, NULL, NULL, &var, &why),
        -ENAMETOOLONG);
    assert_string_equal(var, "AIRLOCK_ROOT");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_3164_with_host_and_pid),
        cmocka_unit_test(test_3164_local_form_without_host),
        cmocka_unit_test(test_3164_without_pid),
        cmocka_unit_test(test_3164_without_timestamp_or_tag),
        cmocka_unit_test(test_3164_iso_timestamp),
        cmocka_unit_test(test_5424_with_structured_data_and_bom),
        cmocka_unit_test(test_5424_nilvalues),
        cmocka_unit_test(test_5424_broken_header_falls_back),
        cmocka_unit_test(test_bad_pri_keeps_whole_datagram),
        cmocka_unit_test(test_empty_datagrams_are_dropped),
        cmocka_unit_test(test_truncated_headers_do_not_crash),
        cmocka_unit_test(test_escape_controls_and_invalid_utf8),
        cmocka_unit_test(test_escape_stops_when_full),
        cmocka_unit_test(test_every_byte_value_stays_on_one_line),
        cmocka_unit_test(test_oversize_message_is_cut_with_marker),
        cmocka_unit_test(test_long_tag_and_pid_are_capped),
        cmocka_unit_test(test_random_datagrams_keep_invariants),
        cmocka_unit_test(test_facility_and_severity_names),
        cmocka_unit_test(test_output_chunks_are_whole_lines_within_pipe_buf),
        cmocka_unit_test(test_output_flush_writes_everything_in_order),
        cmocka_unit_test(test_output_flush_error_drops_buffer),
        cmocka_unit_test(test_rotation_at_size_keeps_n_files),
        cmocka_unit_test(test_rotation_counts_existing_file),
        cmocka_unit_test(test_rotation_keep_zero_and_never),
        cmocka_unit_test(test_line_longer_than_limit_or_buffer),
        cmocka_unit_test(test_reopen_after_outside_rename),
        cmocka_unit_test(test_open_refuses_symlink_and_reports_errors),
        cmocka_unit_test(test_bind_creates_replaces_stale_and_refuses_live),
        cmocka_unit_test(test_parse_size_suffixes),
        cmocka_unit_test(test_config_defaults_and_errors),
        cmocka_unit_test(test_config_socket_path_too_long),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
