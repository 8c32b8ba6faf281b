/* Unit tests for src/common: parsing, deadlines, log line shape, paths,
 * atomic writes, the group stop, backoff. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/backoff.h"
#include "common/groupstop.h"
#include "common/caps.h"
#include "common/log.h"
#include "common/path.h"
#include "common/safeio.h"
#include "common/sigutil.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/utf8.h"

static void
test_parse_uint_accepts_digits_and_rejects_junk(void **state)
{
    uint64_t v = 0;
    (void)state;
    assert_int_equal(parse_uint("42", 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(parse_uint("", 100, &v), -EINVAL);
    assert_int_equal(parse_uint("4x", 100, &v), -EINVAL);
    assert_int_equal(parse_uint("-1", 100, &v), -EINVAL);
    assert_int_equal(parse_uint("101", 100, &v), -ERANGE);
    assert_int_equal(parse_uint("18446744073709551616", UINT64_MAX, &v),
                     -ERANGE);
}

static void
test_parse_seconds_takes_fractions(void **state)
{
    uint64_t ms = 0;
    (void)state;
    assert_int_equal(parse_seconds_ms("5", 3600000, &ms), 0);
    assert_int_equal(ms, 5000);
    assert_int_equal(parse_seconds_ms("0.25", 3600000, &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(parse_seconds_ms("1.5s", 3600000, &ms), 0);
    assert_int_equal(ms, 1500);
    assert_int_equal(parse_seconds_ms(".5", 3600000, &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(parse_seconds_ms("0", 3600000, &ms), 0);
    assert_int_equal(ms, 0);
}

static void
test_parse_seconds_rejects_bad_values(void **state)
{
    uint64_t ms = 0;
    (void)state;
    assert_int_equal(parse_seconds_ms("", 3600000, &ms), -EINVAL);
    assert_int_equal(parse_seconds_ms(".", 3600000, &ms), -EINVAL);
    assert_int_equal(parse_seconds_ms("-1", 3600000, &ms), -EINVAL);
    assert_int_equal(parse_seconds_ms("5m", 3600000, &ms), -EINVAL);
    assert_int_equal(parse_seconds_ms("abc", 3600000, &ms), -EINVAL);
    assert_int_equal(parse_seconds_ms("3601", 3600000, &ms), -ERANGE);
    assert_int_equal(parse_seconds_ms("99999999999999999999", 3600000, &ms),
                     -ERANGE);
}

static void
test_parse_bool_words(void **state)
{
    bool b = false;
    (void)state;
    assert_int_equal(parse_bool("YES", &b), 0);
    assert_true(b);
    assert_int_equal(parse_bool("off", &b), 0);
    assert_false(b);
    assert_int_equal(parse_bool("maybe", &b), -EINVAL);
}

/* Every number from 1 to 64 formats to a name that parses back to it. */
static void
test_sig_names_round_trip_every_signal(void **state)
{
    char name[SIG_NAME_MAX];
    (void)state;

    for (int sig = 1; sig <= SIG_LAST; sig++) {
        int back = 0;
        sig_to_string(sig, name, sizeof(name));
        assert_int_equal(sig_from_string(name, &back), 0);
        assert_int_equal(back, sig);
    }
    assert_string_equal(sig_to_string(SIGTERM, name, sizeof(name)), "TERM");
    assert_string_equal(sig_to_string(SIGCHLD, name, sizeof(name)), "CHLD");
    assert_string_equal(sig_to_string(SIGRTMIN, name, sizeof(name)), "RTMIN");
    assert_string_equal(sig_to_string(SIGRTMIN + 2, name, sizeof(name)),
                        "RTMIN+2");
    assert_string_equal(sig_to_string(SIGRTMAX - 1, name, sizeof(name)),
                        "RTMAX-1");
    assert_string_equal(sig_to_string(SIGRTMAX, name, sizeof(name)), "RTMAX");
    /* glibc's own two have no name, only their numbers. */
    assert_string_equal(sig_to_string(32, name, sizeof(name)), "32");
    assert_string_equal(sig_to_string(33, name, sizeof(name)), "33");
    /* A short buffer is cut, never overrun. */
    assert_string_equal(sig_to_string(SIGRTMIN + 2, name, 4), "RTM");
}

static void
test_sig_from_string_spellings_and_rejects(void **state)
{
    int sig = 0;
    (void)state;

    assert_int_equal(sig_from_string("TERM", &sig), 0);
    assert_int_equal(sig, SIGTERM);
    assert_int_equal(sig_from_string("SIGQUIT", &sig), 0);
    assert_int_equal(sig, SIGQUIT);
    assert_int_equal(sig_from_string("sigusr1", &sig), 0);
    assert_int_equal(sig, SIGUSR1);
    assert_int_equal(sig_from_string("15", &sig), 0);
    assert_int_equal(sig, 15);
    assert_int_equal(sig_from_string("64", &sig), 0);
    assert_int_equal(sig, 64);
    assert_int_equal(sig_from_string("RTMIN+2", &sig), 0);
    assert_int_equal(sig, SIGRTMIN + 2);
    assert_int_equal(sig_from_string("SIGRTMIN+2", &sig), 0);
    assert_int_equal(sig, SIGRTMIN + 2);
    assert_int_equal(sig_from_string("SIGRTMIN", &sig), 0);
    assert_int_equal(sig, SIGRTMIN);
    assert_int_equal(sig_from_string("RTMAX-3", &sig), 0);
    assert_int_equal(sig, SIGRTMAX - 3);
    assert_int_equal(sig_from_string("IOT", &sig), 0);
    assert_int_equal(sig, SIGABRT);
    assert_int_equal(sig_from_string("CLD", &sig), 0);
    assert_int_equal(sig, SIGCHLD);

    sig = 99;
    assert_int_equal(sig_from_string("", &sig), -EINVAL);
    assert_int_equal(sig_from_string("0", &sig), -EINVAL);
    assert_int_equal(sig_from_string("65", &sig), -EINVAL);
    assert_int_equal(sig_from_string("-1", &sig), -EINVAL);
    assert_int_equal(sig_from_string("NOPE", &sig), -EINVAL);
    assert_int_equal(sig_from_string("SIG", &sig), -EINVAL);
    assert_int_equal(sig_from_string("RTMIN+", &sig), -EINVAL);
    assert_int_equal(sig_from_string("RTMIN-1", &sig), -EINVAL);
    assert_int_equal(sig_from_string("RTMAX+1", &sig), -EINVAL);
    assert_int_equal(sig_from_string("RTMIN+31", &sig), -EINVAL);
    assert_int_equal(sig_from_string("TERM ", &sig), -EINVAL);
    assert_int_equal(sig, 99); /* untouched on failure */
}

/* 32 and 33, which sigprocmask() cannot block, are blocked too, and the
 * signalfd reads them; the faults asked for stay unblocked. In a child,
 * so the test process keeps its mask. */
static void
test_signals_block_all_covers_glibc_reserved(void **state)
{
    int keep[] = {SIGSEGV};
    pid_t pid;
    int st;
    (void)state;

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct signalfd_siginfo si;
        sigset_t old;
        char line[128];
        unsigned long long blk = 0;
        FILE *f;
        int fd = signals_block_all(keep, 1, &old);

        if (fd < 0) {
            _exit(10);
        }
        f = fopen("/proc/self/status", "r");
        while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
            if (sscanf(line, "SigBlk: %llx", &blk) == 1) {
                break;
            }
        }
        if (f == NULL || ((blk >> 31) & 3ULL) != 3ULL ||
            (blk & (1ULL << (SIGSEGV - 1))) != 0 ||
            (blk & (1ULL << (SIGTERM - 1))) == 0) {
            _exit(11);
        }
        (void)kill(getpid(), 32);
        if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si) ||
            si.ssi_signo != 32) {
            _exit(12);
        }
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void
test_deadline_timeout(void **state)
{
    (void)state;
    assert_int_equal(deadline_timeout(100, DEADLINE_NONE), -1);
    assert_int_equal(deadline_timeout(100, 50), 0);
    assert_int_equal(deadline_timeout(100, 350), 250);
    assert_int_equal(deadline_timeout(0, (uint64_t)INT32_MAX + 10), INT32_MAX);
    assert_int_equal(deadline_min(3, 7), 3);
}

static void
test_log_format_shape_and_truncation(void **state)
{
    char buf[64];
    char longmsg[200];
    size_t n;
    (void)state;

    n = log_format(buf, sizeof(buf), "airlock", 1, LOG_LEVEL_WARN, "hi");
    assert_string_equal(buf, "airlock[1]: warning: hi\n");
    assert_int_equal(n, strlen(buf));

    memset(longmsg, 'x', sizeof(longmsg) - 1);
    longmsg[sizeof(longmsg) - 1] = '\0';
    n = log_format(buf, sizeof(buf), "airlock", 1, LOG_LEVEL_INFO, longmsg);
    assert_int_equal(n, sizeof(buf) - 1);
    assert_int_equal(buf[n - 1], '\n');
    assert_memory_equal(buf + n - 4, "...", 3);
}

static void
test_log_parse_level(void **state)
{
    enum log_level l;
    (void)state;
    assert_int_equal(log_parse_level("debug", &l), 0);
    assert_int_equal(l, LOG_LEVEL_DEBUG);
    assert_int_equal(log_parse_level("0", &l), 0);
    assert_int_equal(l, LOG_LEVEL_ERROR);
    assert_int_equal(log_parse_level("loud", &l), -EINVAL);
}

/* caps_names: CAP_ names in bit order, numbers past the table, and a
 * truncation that keeps whole names. */
static void
test_caps_names_lists_bits_and_truncates(void **state)
{
    char buf[64];

    (void)state;
    assert_string_equal(caps_names(0, buf, sizeof(buf)), "");
    assert_string_equal(caps_names(CAPS_BIT(6) | CAPS_BIT(7), buf, sizeof(buf)),
                        "CAP_SETGID, CAP_SETUID");
    assert_string_equal(caps_names_k8s(CAPS_BIT(7), buf, sizeof(buf)),
                        "SETUID");
    assert_string_equal(caps_names(CAPS_BIT(63), buf, sizeof(buf)), "CAP_63");
    assert_string_equal(caps_names(CAPS_BIT(0) | CAPS_BIT(1), buf, 20),
                        "CAP_CHOWN");
}

static void
test_root_path_joins_without_double_slash(void **state)
{
    char buf[64];
    (void)state;
    assert_int_equal(root_path_in(buf, sizeof(buf), "/", "/etc/x"), 0);
    assert_string_equal(buf, "/etc/x");
    assert_int_equal(root_path_in(buf, sizeof(buf), "/tmp/r/", "/etc/x"), 0);
    assert_string_equal(buf, "/tmp/r/etc/x");
    assert_int_equal(root_path_in(buf, sizeof(buf), "/r", "etc"), -EINVAL);
    assert_int_equal(root_path_in(buf, 8, "/tmp/r", "/etc/x"), -ENAMETOOLONG);
}

static void
test_write_file_atomic_replaces_and_sets_mode(void **state)
{
    char dir[] = "/tmp/airlock-test-XXXXXX";
    char path[128], link_target[128], buf[32];
    struct stat st;
    size_t len;
    int fd;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sub/dir/file", dir);
    snprintf(link_target, sizeof(link_target), "%s/target", dir);
    assert_int_equal(mkdir_parents(path, 0700), 0);
    assert_int_equal(rmdir(path), 0);

    /* A symlink at the destination is replaced, not written through. */
    fd = open(link_target, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(symlink(link_target, path), 0);
    assert_int_equal(write_file_atomic(path, "new", 3, 0600), 0);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(stat(link_target, &st), 0);
    assert_int_equal(st.st_size, 0);

    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read_all(fd, buf, sizeof(buf), &len), 0);
    close(fd);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "new", 3);

    fd = open(path, O_RDONLY);
    assert_int_equal(read_all(fd, buf, 2, &len), -EFBIG);
    close(fd);

    unlink(path);
    unlink(link_target);
    snprintf(path, sizeof(path), "%s/sub/dir", dir);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/sub", dir);
    rmdir(path);
    assert_int_equal(rmdir(dir), 0);
}

static void
test_close_fds_from_keeps_listed(void **state)
{
    int a = open("/dev/null", O_RDONLY);
    int b = open("/dev/null", O_RDONLY);
    int c = open("/dev/null", O_RDONLY);
    int keep[] = {b};
    (void)state;

    assert_true(a >= 3 && b > a && c > b);
    close_fds_from(a, keep, 1);
    assert_int_equal(fcntl(a, F_GETFD), -1);
    assert_true(fcntl(b, F_GETFD) >= 0);
    assert_int_equal(fcntl(c, F_GETFD), -1);
    close(b);
}

static void
test_utf8_seq_len_accepts_valid_and_rejects_malformed(void **state)
{
    const unsigned char *u =
        (const unsigned char *)"a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    (void)state;

    assert_int_equal(utf8_seq_len(u, 1), 1);
    assert_int_equal(utf8_seq_len(u + 1, 2), 2);
    assert_int_equal(utf8_seq_len(u + 3, 3), 3);
    assert_int_equal(utf8_seq_len(u + 6, 4), 4);
    /* Truncated, overlong, surrogate, past U+10FFFF, stray continuation. */
    assert_int_equal(utf8_seq_len(u + 6, 3), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xc0\x80", 2), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xe0\x80\x80", 3), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xed\xa0\x80", 3), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4),
                     0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\x80", 1), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xff", 1), 0);
    assert_int_equal(utf8_seq_len(u, 0), 0);
}

/* A child in its own group: ignoring SIGHUP when asked, or stopped. */
static pid_t
spawn_group(bool ignore_hup, bool stop_self)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        (void)setsid();
        if (ignore_hup) {
            (void)signal(SIGHUP, SIG_IGN);
        }
        if (stop_self) {
            (void)raise(SIGSTOP);
        }
        for (;;) {
            pause();
        }
    }
    return pid;
}

/* waitpid with a bounded wait: the status, or -1 after limit_ms. */
static int
wait_status(pid_t pid, int limit_ms)
{
    struct timespec ts = {0, 10 * 1000000L};
    int st;

    for (int i = 0; i < limit_ms / 10; i++) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            return st;
        }
        nanosleep(&ts, NULL);
    }
    (void)kill(pid, SIGKILL);
    (void)waitpid(pid, &st, 0);
    return -1;
}

static void
test_group_stop_escalates_to_sigkill_after_the_grace(void **state)
{
    struct group_stop s = {0};
    pid_t pid = spawn_group(true, false);
    struct timespec ts = {0, 50 * 1000000L};
    uint64_t t0 = now_ms();
    int st;

    (void)state;
    nanosleep(&ts, NULL); /* let the child ignore SIGHUP first */
    assert_int_equal(group_stop_begin(&s, pid, SIGHUP, t0, 200), 0);
    assert_int_equal(s.state, GROUP_STOP_SIGNALLED);
    /* Before the deadline: still alive, the deadline is reported. */
    assert_int_equal(group_stop_tick(&s, t0 + 100), t0 + 200);
    assert_int_equal(waitpid(pid, &st, WNOHANG), 0);
    /* At the deadline: SIGKILL, nothing pending any more. */
    assert_int_equal(group_stop_tick(&s, t0 + 200), DEADLINE_NONE);
    assert_int_equal(s.state, GROUP_STOP_KILLED);
    st = wait_status(pid, 2000);
    assert_true(st != -1 && WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGKILL);
    /* A second begin on the same struct changes nothing. */
    assert_int_equal(group_stop_begin(&s, pid, SIGHUP, t0, 200), 0);
    assert_int_equal(s.state, GROUP_STOP_KILLED);
}

static void
test_group_stop_continues_a_stopped_group(void **state)
{
    struct group_stop s = {0};
    pid_t pid = spawn_group(false, true);
    int st;

    (void)state;
    assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
    assert_true(WIFSTOPPED(st));
    assert_int_equal(group_stop_begin(&s, pid, SIGHUP, now_ms(), 5000), 0);
    /* SIGCONT lets the pending SIGHUP act long before the grace ends. */
    st = wait_status(pid, 2000);
    assert_true(st != -1 && WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGHUP);
    assert_int_equal(group_stop_begin(&s, pid, SIGHUP, now_ms(), 5000), 0);
}

static void
test_group_stop_idle_has_no_deadline(void **state)
{
    struct group_stop s = {0};

    (void)state;
    assert_int_equal(group_stop_tick(&s, 12345), DEADLINE_NONE);
    group_stop_kill_now(&s); /* no group: must not signal anything */
    assert_int_equal(s.state, GROUP_STOP_IDLE);
}

/* group_signal reaches a process by its pid when no group has that
 * number (a child that leads none), and says -ESRCH once it is gone. */
static void
test_group_signal_reaches_a_leader_without_its_group(void **state)
{
    pid_t pid = fork();
    int st;

    (void)state;
    assert_true(pid >= 0);
    if (pid == 0) {
        for (;;) {
            pause(); /* in the test's group: no group has its number */
        }
    }
    assert_int_equal(group_signal(pid, SIGTERM), 0);
    st = wait_status(pid, 2000);
    assert_true(st != -1 && WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGTERM);
    assert_int_equal(group_signal(pid, SIGTERM), -ESRCH);
}

/* The delays every retry and restart uses: min first, doubling, capped;
 * the cap wins over a min above it, and no input overflows. */
static void
test_backoff_doubles_from_min_to_cap(void **state)
{
    static const uint64_t app[] = {100, 200, 400, 800, 1600, 2000, 2000};
    uint64_t d = 0;
    (void)state;

    for (size_t i = 0; i < sizeof(app) / sizeof(app[0]); i++) {
        d = backoff_next(d, 100, 2000);
        assert_int_equal(d, app[i]);
    }
    /* An odd cap: half of it (rounded down) already jumps to it. */
    assert_int_equal(backoff_next(1000, 100, 2001), 2001);
    assert_int_equal(backoff_next(999, 100, 2001), 1998);
    /* A last delay below min (or none) gives min. */
    assert_int_equal(backoff_next(0, 10, 1280), 10);
    assert_int_equal(backoff_next(3, 10, 1280), 10);
    /* min above the cap: the cap. */
    assert_int_equal(backoff_next(0, 500, 300), 300);
    assert_int_equal(backoff_next(UINT64_MAX, 1, UINT64_MAX), UINT64_MAX);
    assert_int_equal(backoff_next(UINT64_MAX / 2 + 1, 1, UINT64_MAX),
                     UINT64_MAX);
    assert_int_equal(backoff_next(UINT64_MAX - 1, 1, 30000), 30000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_uint_accepts_digits_and_rejects_junk),
        cmocka_unit_test(test_parse_seconds_takes_fractions),
        cmocka_unit_test(test_parse_seconds_rejects_bad_values),
        cmocka_unit_test(test_parse_bool_words),
        cmocka_unit_test(test_sig_names_round_trip_every_signal),
        cmocka_unit_test(test_sig_from_string_spellings_and_rejects),
        cmocka_unit_test(test_signals_block_all_covers_glibc_reserved),
        cmocka_unit_test(test_deadline_timeout),
        cmocka_unit_test(test_log_format_shape_and_truncation),
        cmocka_unit_test(test_log_parse_level),
        cmocka_unit_test(test_root_path_joins_without_double_slash),
        cmocka_unit_test(test_caps_names_lists_bits_and_truncates),
        cmocka_unit_test(test_write_file_atomic_replaces_and_sets_mode),
        cmocka_unit_test(test_close_fds_from_keeps_listed),
        cmocka_unit_test(test_utf8_seq_len_accepts_valid_and_rejects_malformed),
        cmocka_unit_test(test_group_stop_escalates_to_sigkill_after_the_grace),
        cmocka_unit_test(test_group_stop_continues_a_stopped_group),
        cmocka_unit_test(test_group_stop_idle_has_no_deadline),
        cmocka_unit_test(test_group_signal_reaches_a_leader_without_its_group),
        cmocka_unit_test(test_backoff_doubles_from_min_to_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
