/* Unit tests for the pure parts of airlock-sshd: configuration parsing,
 * audit sanitising, admission and penalties, session environments and the
 * small session helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sshd/audit.h"
#include "sshd/config.h"
#include "sshd/env.h"
#include "sshd/limits.h"
#include "sshd/session.h"

/* ---- config --------------------------------------------------------- */

struct kv {
    const char *k, *v;
};

static const char *
kv_get(const char *name, void *ud)
{
    for (const struct kv *p = ud; p->k != NULL; p++) {
        if (strcmp(p->k, name) == 0) {
            return p->v;
        }
    }
    return NULL;
}

static int
load(const struct kv *kv,
     struct sshd_config *cfg,
     const char **var,
     const char **reason)
{
    return sshd_config_load(cfg, kv_get, (void *)kv, var, reason);
}

static void
test_config_defaults_match_the_issue(void **state)
{
    struct kv none[] = {{NULL, NULL}};
    struct sshd_config cfg;
    const char *var = NULL, *reason = NULL;

    (void)state;
    assert_int_equal(load(none, &cfg, &var, &reason), 0);
    assert_int_equal(cfg.nlisten, 2);
    assert_string_equal(cfg.listen[0], "0.0.0.0");
    assert_string_equal(cfg.listen[1], "::");
    assert_int_equal(cfg.port, 2222);
    assert_int_equal(cfg.max_startups, 10);
    assert_int_equal(cfg.login_grace_s, 30);
    assert_int_equal(cfg.max_auth_tries, 6);
    assert_string_equal(cfg.user, "root");
    assert_true(cfg.permit_root);
    assert_true(cfg.revoke_sessions);
    assert_false(cfg.tcp_forwarding);
    assert_string_equal(cfg.host_key_file, "");
    assert_string_equal(cfg.sftp_server, "/usr/lib/openssh/sftp-server");
    assert_int_equal(cfg.idle_timeout_ms, 0);
    assert_int_equal(cfg.client_alive_interval_ms, 30000);
    assert_int_equal(cfg.client_alive_count_max, 3);
}

static void
test_config_reads_every_variable(void **state)
{
    struct kv kv[] = {
        {"AIRLOCK_SSH_LISTEN", "127.0.0.1, ::1"},
        {"AIRLOCK_SSH_PORT", "2200"},
        {"AIRLOCK_SSH_MAX_STARTUPS", "4"},
        {"AIRLOCK_SSH_LOGIN_GRACE", "2.5"},
        {"AIRLOCK_SSH_MAX_AUTH_TRIES", "3"},
        {"AIRLOCK_SSH_USER", "app"},
        {"AIRLOCK_SSH_PERMIT_ROOT", "no"},
        {"AIRLOCK_SSH_REVOKE_SESSIONS", "off"},
        {"AIRLOCK_SSH_TCP_FORWARDING", "yes"},
        {"AIRLOCK_SSH_HOST_KEY_FILE", "/run/secrets/hostkey"},
        {"AIRLOCK_SSH_SFTP_SERVER", "/usr/libexec/sftp-server"},
        {"AIRLOCK_SSH_IDLE_TIMEOUT", "900"},
        {"AIRLOCK_SSH_CLIENT_ALIVE_INTERVAL", "1.5"},
        {"AIRLOCK_SSH_CLIENT_ALIVE_COUNT_MAX", "5"},
        {NULL, NULL},
    };
    struct sshd_config cfg;
    const char *var = NULL, *reason = NULL;

    (void)state;
    assert_int_equal(load(kv, &cfg, &var, &reason), 0);
    assert_int_equal(cfg.nlisten, 2);
    assert_string_equal(cfg.listen[0], "127.0.0.1");
    assert_string_equal(cfg.listen[1], "::1");
    assert_int_equal(cfg.port, 2200);
    assert_int_equal(cfg.max_startups, 4);
    assert_int_equal(cfg.login_grace_s, 2);
    assert_int_equal(cfg.max_auth_tries, 3);
    assert_string_equal(cfg.user, "app");
    assert_false(cfg.permit_root);
    assert_false(cfg.revoke_sessions);
    assert_true(cfg.tcp_forwarding);
    assert_string_equal(cfg.host_key_file, "/run/secrets/hostkey");
    assert_string_equal(cfg.sftp_server, "/usr/libexec/sftp-server");
    assert_int_equal(cfg.idle_timeout_ms, 900000);
    assert_int_equal(cfg.client_alive_interval_ms, 1500);
    assert_int_equal(cfg.client_alive_count_max, 5);
}

static void
test_config_timers_zero_is_off(void **state)
{
    struct kv kv[] = {
        {"AIRLOCK_SSH_IDLE_TIMEOUT", "0"},
        {"AIRLOCK_SSH_CLIENT_ALIVE_INTERVAL", "0"},
        {NULL, NULL},
    };
    struct sshd_config cfg;
    const char *var = NULL, *reason = NULL;

    (void)state;
    assert_int_equal(load(kv, &cfg, &var, &reason), 0);
    assert_int_equal(cfg.idle_timeout_ms, 0);
    assert_int_equal(cfg.client_alive_interval_ms, 0);
}

static void
test_config_rejects_bad_values_naming_the_variable(void **state)
{
    static const struct {
        const char *k, *v;
    } bad[] = {
        {"AIRLOCK_SSH_PORT", "0"},
        {"AIRLOCK_SSH_PORT", "65536"},
        {"AIRLOCK_SSH_PORT", "22x"},
        {"AIRLOCK_SSH_LISTEN", "localhost"},
        {"AIRLOCK_SSH_LISTEN",
         "1.2.3.4,1.2.3.5,1.2.3.6,1.2.3.7,1.2.3.8,"
         "1.2.3.9,1.2.3.10,1.2.3.11,1.2.3.12"},
        {"AIRLOCK_SSH_MAX_STARTUPS", "0"},
        {"AIRLOCK_SSH_MAX_STARTUPS", "101"},
        {"AIRLOCK_SSH_LOGIN_GRACE", "0.5"},
        {"AIRLOCK_SSH_LOGIN_GRACE", "3601"},
        {"AIRLOCK_SSH_MAX_AUTH_TRIES", "-1"},
        {"AIRLOCK_SSH_USER", "ro ot"},
        {"AIRLOCK_SSH_USER", "-x"},
        {"AIRLOCK_SSH_PERMIT_ROOT", "maybe"},
        {"AIRLOCK_SSH_TCP_FORWARDING", "2"},
        {"AIRLOCK_SSH_HOST_KEY_FILE", "relative/key"},
        {"AIRLOCK_SSH_SFTP_SERVER", "sftp-server"},
        {"AIRLOCK_SSH_IDLE_TIMEOUT", "-1"},
        {"AIRLOCK_SSH_IDLE_TIMEOUT", "0.5"},
        {"AIRLOCK_SSH_IDLE_TIMEOUT", "604801"},
        {"AIRLOCK_SSH_IDLE_TIMEOUT", "10m"},
        {"AIRLOCK_SSH_CLIENT_ALIVE_INTERVAL", "3601"},
        {"AIRLOCK_SSH_CLIENT_ALIVE_INTERVAL", "0.1"},
        {"AIRLOCK_SSH_CLIENT_ALIVE_COUNT_MAX", "0"},
        {"AIRLOCK_SSH_CLIENT_ALIVE_COUNT_MAX", "101"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct kv kv[] = {{bad[i].k, bad[i].v}, {NULL, NULL}};
        struct sshd_config cfg;
        const char *var = NULL, *reason = NULL;

        assert_int_equal(load(kv, &cfg, &var, &reason), -EINVAL);
        assert_non_null(var);
        assert_string_equal(var, bad[i].k);
        assert_non_null(reason);
    }
}

/* ---- sanitising ----------------------------------------------------- */

static void
test_sanitize_escapes_controls_quotes_and_backslashes(void **state)
{
    char out[64];
    size_t n;

    (void)state;
    n = sanitize(out, sizeof(out), "ab\ncd", 5);
    assert_string_equal(out, "ab\\x0acd");
    assert_int_equal(n, strlen(out));
    sanitize(out, sizeof(out), "it's\\", 5);
    assert_string_equal(out, "it\\x27s\\x5c");
    sanitize(out, sizeof(out), "a\0b", 3);
    assert_string_equal(out, "a\\x00b");
    sanitize(out, sizeof(out), "\xff\x1b[31m", 6);
    assert_string_equal(out, "\\xff\\x1b[31m");
}

static void
test_sanitize_truncates_visibly_on_a_whole_escape(void **state)
{
    char out[16];
    char big[600];

    (void)state;
    sanitize(out, sizeof(out), "0123456789abcdefghij", 20);
    assert_int_equal(strlen(out), 15);
    assert_memory_equal(out + 12, "...", 3);
    sanitize(out, sizeof(out), "\n\n\n\n\n", 5);
    /* 3 escapes would need 12 bytes, plus "..." makes 15: no escape cut. */
    assert_string_equal(out, "\\x0a\\x0a\\x0a...");
    memset(big, 'x', sizeof(big));
    assert_int_equal(strlen(san(NULL)), 0);
    {
        char *s = malloc(sizeof(big) + 1);
        memcpy(s, big, sizeof(big));
        s[sizeof(big)] = '\0';
        assert_true(strlen(san(s)) <= SANITIZE_MAX);
        free(s);
    }
}

/* ---- limits --------------------------------------------------------- */

static struct src_addr
v4(const char *a)
{
    struct sockaddr_in in;
    struct src_addr s;

    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, a, &in.sin_addr), 1);
    assert_int_equal(src_from_sockaddr((struct sockaddr *)&in, sizeof(in), &s),
                     0);
    return s;
}

static void
test_src_folds_v4_mapped_v6(void **state)
{
    struct sockaddr_in6 in6;
    struct src_addr a, b = v4("10.1.2.3");
    char buf[64];

    (void)state;
    memset(&in6, 0, sizeof(in6));
    in6.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, "::ffff:10.1.2.3", &in6.sin6_addr), 1);
    assert_int_equal(
        src_from_sockaddr((struct sockaddr *)&in6, sizeof(in6), &a),
        0);
    assert_true(src_equal(&a, &b));
    assert_string_equal(src_format(&a, buf, sizeof(buf)), "10.1.2.3");
}

static struct penalty_table pt;

static void
test_penalty_activates_at_min_and_caps_at_max(void **state)
{
    struct src_addr s = v4("192.0.2.1"), other = v4("192.0.2.2");
    uint64_t now = 1000000, left = 0;

    (void)state;
    memset(&pt, 0, sizeof(pt));
    /* Three auth failures: 15 s pending, the threshold. */
    penalty_add(&pt, &s, penalty_for(OUTCOME_AUTHFAIL), now);
    penalty_add(&pt, &s, penalty_for(OUTCOME_AUTHFAIL), now);
    assert_false(penalty_active(&pt, &s, now, NULL));
    penalty_add(&pt, &s, penalty_for(OUTCOME_AUTHFAIL), now);
    assert_true(penalty_active(&pt, &s, now, &left));
    assert_int_equal(left, 15000);
    assert_false(penalty_active(&pt, &other, now, NULL));
    /* Crashes pile up to the 600 s cap, no further. */
    for (int i = 0; i < 20; i++) {
        penalty_add(&pt, &s, penalty_for(OUTCOME_CRASH), now);
    }
    assert_true(penalty_active(&pt, &s, now, &left));
    assert_int_equal(left, (uint64_t)PENALTY_MAX * 1000);
    /* And it lapses. */
    assert_false(
        penalty_active(&pt, &s, now + (uint64_t)PENALTY_MAX * 1000, NULL));
    assert_int_equal(pt.n, 0);
}

static void
test_penalty_grace_alone_blocks_and_ok_costs_nothing(void **state)
{
    struct src_addr s = v4("198.51.100.7");
    uint64_t now = 5000;

    (void)state;
    memset(&pt, 0, sizeof(pt));
    penalty_add(&pt, &s, penalty_for(OUTCOME_OK), now);
    assert_int_equal(pt.n, 0);
    penalty_add(&pt, &s, penalty_for(OUTCOME_GRACE), now);
    assert_true(penalty_active(&pt, &s, now + 19000, NULL));
    assert_false(penalty_active(&pt, &s, now + 20000, NULL));
}

static void
test_penalty_table_full_forgets_the_soonest(void **state)
{
    uint64_t now = 100;
    struct src_addr first;

    (void)state;
    memset(&pt, 0, sizeof(pt));
    for (unsigned i = 0; i < PENALTY_SLOTS; i++) {
        struct src_addr s;
        memset(&s, 0, sizeof(s));
        s.family = AF_INET6;
        memcpy(s.a, &i, sizeof(i));
        if (i == 0) {
            first = s;
            penalty_add(&pt, &s, PENALTY_GRACE, now);
        } else {
            penalty_add(&pt, &s, PENALTY_CRASH, now);
        }
    }
    assert_int_equal(pt.n, PENALTY_SLOTS);
    {
        struct src_addr n = v4("203.0.113.9");
        penalty_add(&pt, &n, PENALTY_CRASH, now);
        assert_int_equal(pt.n, PENALTY_SLOTS);
        assert_true(penalty_active(&pt, &n, now, NULL));
        assert_false(penalty_active(&pt, &first, now, NULL));
    }
}

static void
test_admit_checks_penalty_startups_source_and_authed_cap(void **state)
{
    struct src_addr s = v4("192.0.2.50");
    uint64_t now = 1;

    (void)state;
    memset(&pt, 0, sizeof(pt));
    assert_int_equal(limits_admit(&pt, &s, now, 0, 0, 0, 10, 3, 16), ADMIT_OK);
    assert_int_equal(limits_admit(&pt, &s, now, 10, 0, 0, 10, 3, 16),
                     ADMIT_MAX_STARTUPS);
    assert_int_equal(limits_admit(&pt, &s, now, 5, 3, 0, 10, 3, 16),
                     ADMIT_PER_SOURCE);
    assert_int_equal(limits_admit(&pt, &s, now, 0, 0, 16, 10, 3, 16),
                     ADMIT_AUTHED_CAP);
    penalty_add(&pt, &s, PENALTY_GRACE, now);
    assert_int_equal(limits_admit(&pt, &s, now, 0, 0, 0, 10, 3, 16),
                     ADMIT_PENALTY);
    assert_string_equal(
        admit_reason(ADMIT_PER_SOURCE),
        "too many unauthenticated connections from this source");
}

/* ---- environment ---------------------------------------------------- */

static void
test_envv_set_replaces_and_validates_names(void **state)
{
    struct envv e;

    (void)state;
    envv_init(&e);
    assert_int_equal(envv_set(&e, "PATH", "/bin"), 0);
    assert_int_equal(envv_set(&e, "HOME", "/root"), 0);
    assert_int_equal(envv_set(&e, "PATH", "/usr/bin"), 0);
    assert_int_equal(e.n, 2);
    assert_string_equal(envv_get(&e, "PATH"), "/usr/bin");
    assert_null(envv_get(&e, "PAT"));
    assert_int_equal(envv_set(&e, "1X", "v"), -EINVAL);
    assert_int_equal(envv_set(&e, "A=B", "v"), -EINVAL);
    assert_int_equal(envv_put(&e, "LANG=C.UTF-8"), 0);
    assert_int_equal(envv_put(&e, "novalue"), -EINVAL);
    assert_string_equal(e.v[2], "LANG=C.UTF-8");
    assert_null(e.v[3]);
    envv_free(&e);
    assert_int_equal(e.n, 0);
}

static void
test_env_client_allow_list(void **state)
{
    char big[ENV_CLIENT_VALMAX + 2];

    (void)state;
    assert_true(env_client_allowed("LANG", "C.UTF-8"));
    assert_true(env_client_allowed("LC_ALL", "C"));
    assert_true(env_client_allowed("TERM", "xterm"));
    assert_false(env_client_allowed("LD_PRELOAD", "/tmp/x.so"));
    assert_false(env_client_allowed("PATH", "/tmp"));
    assert_false(env_client_allowed("HOME", "/tmp"));
    assert_false(env_client_allowed("SSH_ORIGINAL_COMMAND", "x"));
    assert_false(env_client_allowed("LC_ALL", "a\nb"));
    assert_false(env_client_allowed("LC_", NULL));
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_false(env_client_allowed("LANG", big));
}

static void
test_env_client_refuses_long_names_and_values_with_a_reason(void **state)
{
    char name[301], value[ENV_CLIENT_VALMAX + 2];

    (void)state;
    /* A 300-byte LC_ name used to pass here and fail the exec. */
    memset(name, 'B', sizeof(name) - 1);
    memcpy(name, "LC_", 3);
    name[sizeof(name) - 1] = '\0';
    assert_string_equal(env_client_refusal(name, "x"),
                        "name longer than 64 bytes");
    name[ENV_CLIENT_NAMEMAX] = '\0';
    assert_null(env_client_refusal(name, "x"));
    memset(value, 'v', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    assert_string_equal(env_client_refusal("LC_ALL", value),
                        "value longer than 255 bytes");
    value[ENV_CLIENT_VALMAX] = '\0';
    assert_null(env_client_refusal("LC_ALL", value));
    assert_string_equal(env_client_refusal("LD_PRELOAD", "x"),
                        "only LANG, LC_* and TERM may be set");
    assert_string_equal(env_client_refusal("LC_1-2", "x"),
                        "not a valid variable name");
    assert_string_equal(env_client_refusal("LANG", "a\nb"),
                        "newline in the value");
}

static void
test_env_load_container_skips_secrets_and_bad_names(void **state)
{
    char dir[] = "/tmp/test_sshd_env.XXXXXX";
    char path[256];
    struct envv e;
    static const char *const files[][2] = {
        {"APP_MODE", "production"},
        {"MULTI", "line1\nline2"},
        {"AIRLOCK_AUTHORIZED_KEYS", "ssh-ed25519 AAAA"},
        {"bad-name", "x"},
    };

    (void)state;
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < 4; i++) {
        FILE *f;
        snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(files[i][1], f);
        fclose(f);
    }
    envv_init(&e);
    assert_int_equal(env_load_container(&e, dir), 0);
    assert_int_equal(e.n, 2);
    assert_string_equal(envv_get(&e, "APP_MODE"), "production");
    assert_string_equal(envv_get(&e, "MULTI"), "line1\nline2");
    assert_null(envv_get(&e, "AIRLOCK_AUTHORIZED_KEYS"));
    envv_free(&e);
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
        unlink(path);
    }
    rmdir(dir);
    envv_init(&e);
    assert_int_equal(env_load_container(&e, "/nonexistent/dir"), 0);
    assert_int_equal(e.n, 0);
}

/* ---- session helpers ------------------------------------------------ */

static void
test_signal_names_round_trip(void **state)
{
    (void)state;
    assert_string_equal(session_signal_name(SIGTERM), "TERM");
    assert_string_equal(session_signal_name(SIGKILL), "KILL");
    assert_null(session_signal_name(SIGWINCH));
    assert_int_equal(session_signal_number("INT"), SIGINT);
    assert_int_equal(session_signal_number("SIGHUP"), SIGHUP);
    assert_int_equal(session_signal_number("STOP"), -1);
    assert_int_equal(session_signal_number(NULL), -1);
}

static void
test_term_validation(void **state)
{
    (void)state;
    assert_true(session_term_valid("xterm-256color"));
    assert_true(session_term_valid("screen.xterm+x_1"));
    assert_false(session_term_valid(""));
    assert_false(session_term_valid("xterm\n"));
    assert_false(session_term_valid("a b"));
    assert_false(session_term_valid("$(reboot)"));
}

static void
test_pick_shell_falls_back_for_nologin(void **state)
{
    (void)state;
    assert_string_equal(session_pick_shell("/bin/sh"), "/bin/sh");
    assert_string_equal(session_pick_shell("/usr/sbin/nologin"), "/bin/sh");
    assert_string_equal(session_pick_shell("/bin/false"), "/bin/sh");
    assert_string_equal(session_pick_shell("bash"), "/bin/sh");
    assert_string_equal(session_pick_shell("/no/such/shell"), "/bin/sh");
    assert_string_equal(session_pick_shell(NULL), "/bin/sh");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults_match_the_issue),
        cmocka_unit_test(test_config_reads_every_variable),
        cmocka_unit_test(test_config_timers_zero_is_off),
        cmocka_unit_test(test_config_rejects_bad_values_naming_the_variable),
        cmocka_unit_test(test_sanitize_escapes_controls_quotes_and_backslashes),
        cmocka_unit_test(test_sanitize_truncates_visibly_on_a_whole_escape),
        cmocka_unit_test(test_src_folds_v4_mapped_v6),
        cmocka_unit_test(test_penalty_activates_at_min_and_caps_at_max),
        cmocka_unit_test(test_penalty_grace_alone_blocks_and_ok_costs_nothing),
        cmocka_unit_test(test_penalty_table_full_forgets_the_soonest),
        cmocka_unit_test(
            test_admit_checks_penalty_startups_source_and_authed_cap),
        cmocka_unit_test(test_envv_set_replaces_and_validates_names),
        cmocka_unit_test(test_env_client_allow_list),
        cmocka_unit_test(
            test_env_client_refuses_long_names_and_values_with_a_reason),
        cmocka_unit_test(test_env_load_container_skips_secrets_and_bad_names),
        cmocka_unit_test(test_signal_names_round_trip),
        cmocka_unit_test(test_term_validation),
        cmocka_unit_test(test_pick_shell_falls_back_for_nologin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
