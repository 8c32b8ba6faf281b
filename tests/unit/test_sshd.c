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
    /* OpenSSH's MaxStartups 10:30:100 and PerSourceMaxStartups none. */
    assert_int_equal(cfg.limits.startups.start, 10);
    assert_int_equal(cfg.limits.startups.rate, 30);
    assert_int_equal(cfg.limits.startups.full, 100);
    assert_int_equal(cfg.limits.per_source, 0);
    assert_int_equal(cfg.limits.netblock4, 32);
    assert_int_equal(cfg.limits.netblock6, 128);
    assert_true(cfg.limits.penalty.enabled);
    assert_int_equal(cfg.limits.penalty.crash, PENALTY_CRASH);
    assert_string_equal(cfg.limits.penalty.exempt, "");
    assert_int_equal(cfg.banner_timeout_s, 10);
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
        {"AIRLOCK_SSH_PER_SOURCE_MAX_STARTUPS", "7"},
        {"AIRLOCK_SSH_MAX_AUTHENTICATED", "40"},
        {"AIRLOCK_SSH_PER_SOURCE_NETBLOCK_SIZE", "24:64"},
        {"AIRLOCK_SSH_PER_SOURCE_PENALTIES", "crash:60s authfail:2"},
        {"AIRLOCK_SSH_PER_SOURCE_PENALTY_EXEMPT", "172.17.0.1,10.0.0.0/8"},
        {"AIRLOCK_SSH_BANNER_TIMEOUT", "4"},
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
    /* A single number is a hard cap, as OpenSSH stores it. */
    assert_int_equal(cfg.limits.startups.start, 4);
    assert_int_equal(cfg.limits.startups.rate, 100);
    assert_int_equal(cfg.limits.startups.full, 4);
    assert_int_equal(cfg.limits.per_source, 7);
    assert_int_equal(cfg.limits.authed_max, 40);
    assert_int_equal(cfg.limits.netblock4, 24);
    assert_int_equal(cfg.limits.netblock6, 64);
    assert_int_equal(cfg.limits.penalty.crash, 60);
    assert_int_equal(cfg.limits.penalty.authfail, 2);
    assert_int_equal(cfg.limits.penalty.noauth, PENALTY_NOAUTH);
    assert_string_equal(cfg.limits.penalty.exempt, "172.17.0.1,10.0.0.0/8");
    assert_int_equal(cfg.banner_timeout_s, 4);
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
        {"AIRLOCK_SSH_MAX_STARTUPS", "1001"},
        {"AIRLOCK_SSH_MAX_STARTUPS", "10:30:1001"},
        {"AIRLOCK_SSH_MAX_STARTUPS", "20:30:10"},
        {"AIRLOCK_SSH_PER_SOURCE_MAX_STARTUPS", "0"},
        {"AIRLOCK_SSH_PER_SOURCE_MAX_STARTUPS", "off"},
        {"AIRLOCK_SSH_PER_SOURCE_NETBLOCK_SIZE", "33"},
        {"AIRLOCK_SSH_PER_SOURCE_PENALTIES", "crash=90"},
        {"AIRLOCK_SSH_PER_SOURCE_PENALTY_EXEMPT", "10.1.2.3/8"},
        {"AIRLOCK_SSH_BANNER_TIMEOUT", "0"},
        {"AIRLOCK_SSH_LOGIN_GRACE", "0.5"},
        {"AIRLOCK_SSH_LOGIN_GRACE", "3601"},
        {"AIRLOCK_SSH_MAX_AUTH_TRIES", "-1"},
        {"AIRLOCK_SSH_MAX_AUTHENTICATED", "1001"},
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
    penalty_add(&pt, &s, penalty_for(&pt, OUTCOME_AUTHFAIL), now);
    penalty_add(&pt, &s, penalty_for(&pt, OUTCOME_AUTHFAIL), now);
    assert_false(penalty_active(&pt, &s, now, NULL));
    penalty_add(&pt, &s, penalty_for(&pt, OUTCOME_AUTHFAIL), now);
    assert_true(penalty_active(&pt, &s, now, &left));
    assert_int_equal(left, 15000);
    assert_false(penalty_active(&pt, &other, now, NULL));
    /* Crashes pile up to the 600 s cap, no further. */
    for (int i = 0; i < 20; i++) {
        penalty_add(&pt, &s, penalty_for(&pt, OUTCOME_CRASH), now);
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
    penalty_add(&pt, &s, penalty_for(&pt, OUTCOME_OK), now);
    assert_int_equal(pt.n, 0);
    penalty_add(&pt, &s, penalty_for(&pt, OUTCOME_GRACE), now);
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

/* The injected random source: returns `fake_draw` (always below the
 * bound) and counts the calls. */
static uint32_t fake_draw;
static unsigned fake_calls;

static uint32_t
fake_uniform(uint32_t upper)
{
    assert_int_equal(upper, 100);
    fake_calls++;
    return fake_draw;
}

/* Refused share of the 100 possible draws at unauth connections. */
static unsigned
refused_percent(const struct max_startups *ms, unsigned unauth)
{
    unsigned refused = 0;

    for (fake_draw = 0; fake_draw < 100; fake_draw++) {
        refused += max_startups_drop(ms, unauth, fake_uniform);
    }
    return refused;
}

static void
test_random_early_drop_rises_linearly_from_rate_to_all(void **state)
{
    const struct max_startups ms = {10, 30, 100};
    const struct max_startups hard = {4, 100, 4};

    (void)state;
    fake_calls = 0;
    assert_int_equal(refused_percent(&ms, 0), 0);
    assert_int_equal(refused_percent(&ms, 9), 0);
    assert_int_equal(fake_calls, 0); /* no draw below start */
    assert_int_equal(refused_percent(&ms, 10), 30);
    /* 30 + 70 * 45 / 90 = 65 */
    assert_int_equal(refused_percent(&ms, 55), 65);
    /* 30 + 70 * 89 / 90 = 99 (integer division, as OpenSSH) */
    assert_int_equal(refused_percent(&ms, 99), 99);
    assert_int_equal(refused_percent(&ms, 100), 100);
    assert_int_equal(refused_percent(&ms, 150), 100);
    /* "4" is a hard cap. */
    assert_int_equal(refused_percent(&hard, 3), 0);
    assert_int_equal(refused_percent(&hard, 4), 100);
}

static void
test_max_startups_parser_follows_sshd_config(void **state)
{
    static const char *bad[] = {
        "",
        "0",
        "101",
        "-1",
        "x",
        "10:30",
        "10:30:100:1",
        "10::100",
        "10:0:100",
        "10:101:100",
        "11:30:10",
        "0:30:100",
        "10:30:101",
        "10 :30:100",
        ":30:100",
        "10:30:",
    };
    struct max_startups ms;
    const char *reason = NULL;

    (void)state;
    assert_int_equal(limits_parse_max_startups("10:30:100", 100, &ms, &reason),
                     0);
    assert_int_equal(ms.start, 10);
    assert_int_equal(ms.rate, 30);
    assert_int_equal(ms.full, 100);
    assert_int_equal(limits_parse_max_startups("5", 100, &ms, &reason), 0);
    assert_int_equal(ms.start, 5);
    assert_int_equal(ms.full, 5);
    assert_int_equal(
        limits_parse_max_startups("100:100:100", 100, &ms, &reason),
        0);
    assert_int_equal(limits_parse_max_startups("7:1:7", 100, &ms, &reason), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        reason = NULL;
        assert_int_equal(limits_parse_max_startups(bad[i], 100, &ms, &reason),
                         -EINVAL);
        assert_non_null(reason);
    }
}

static void
test_penalty_and_netblock_parsers(void **state)
{
    struct limits_conf lc;
    const char *reason = NULL;
    unsigned v4b = 32, v6b = 128, ps = 3;

    (void)state;
    limits_conf_default(&lc, 16);
    assert_int_equal(limits_parse_penalties("no", &lc.penalty, &reason), 0);
    assert_false(lc.penalty.enabled);
    assert_int_equal(limits_parse_penalties("yes", &lc.penalty, &reason), 0);
    assert_true(lc.penalty.enabled);
    assert_int_equal(lc.penalty.crash, PENALTY_CRASH);
    assert_int_equal(limits_parse_penalties("crash:0,grace-exceeded:5s  min:4",
                                            &lc.penalty,
                                            &reason),
                     0);
    assert_int_equal(lc.penalty.crash, 0);
    assert_int_equal(lc.penalty.grace, 5);
    assert_int_equal(lc.penalty.min, 4);
    assert_int_equal(lc.penalty.authfail, PENALTY_AUTHFAIL);
    assert_int_equal(
        limits_parse_penalties("max-sources4:10", &lc.penalty, &reason),
        -EINVAL);
    assert_int_equal(limits_parse_penalties("crash", &lc.penalty, &reason),
                     -EINVAL);
    assert_int_equal(limits_parse_penalties("crash:1m", &lc.penalty, &reason),
                     -EINVAL);
    assert_int_equal(
        limits_parse_penalties("min:30,max:20", &lc.penalty, &reason),
        -EINVAL);
    /* A failed parse leaves the settings as they were. */
    assert_int_equal(lc.penalty.min, 4);

    assert_int_equal(limits_parse_netblock("24", &v4b, &v6b, &reason), 0);
    assert_int_equal(v4b, 24);
    assert_int_equal(v6b, 128);
    assert_int_equal(limits_parse_netblock("0:48", &v4b, &v6b, &reason), 0);
    assert_int_equal(v4b, 0);
    assert_int_equal(v6b, 48);
    assert_int_equal(limits_parse_netblock("32:129", &v4b, &v6b, &reason),
                     -EINVAL);
    assert_int_equal(limits_parse_netblock(":64", &v4b, &v6b, &reason),
                     -EINVAL);

    assert_int_equal(limits_parse_per_source("none", 100, &ps, &reason), 0);
    assert_int_equal(ps, 0);
    assert_int_equal(limits_parse_per_source("3", 100, &ps, &reason), 0);
    assert_int_equal(ps, 3);
    assert_int_equal(limits_parse_per_source("101", 100, &ps, &reason),
                     -EINVAL);
}

static void
test_netblock_mask_groups_sources(void **state)
{
    struct src_addr a = v4("10.1.2.3"), b = v4("10.1.2.200");
    char buf[64];

    (void)state;
    assert_false(src_equal(&a, &b));
    src_mask(&a, 24, 128);
    src_mask(&b, 24, 128);
    assert_true(src_equal(&a, &b));
    assert_string_equal(src_format(&a, buf, sizeof(buf)), "10.1.2.0");
    a = v4("10.1.2.3");
    src_mask(&a, 32, 0);
    assert_string_equal(src_format(&a, buf, sizeof(buf)), "10.1.2.3");
    src_mask(&a, 0, 128);
    assert_string_equal(src_format(&a, buf, sizeof(buf)), "0.0.0.0");
}

static void
test_exempt_list_uses_openssh_patterns(void **state)
{
    struct penalty_conf pc;
    const char *reason = NULL;

    (void)state;
    memset(&pc, 0, sizeof(pc));
    assert_false(limits_exempt(&pc, "127.0.0.1"));
    assert_int_equal(limits_parse_exempt("172.17.0.1,10.0.0.0/8,!10.9.9.9,"
                                         "fd00::/8,192.168.1.*",
                                         pc.exempt,
                                         sizeof(pc.exempt),
                                         &reason),
                     0);
    assert_true(limits_exempt(&pc, "172.17.0.1"));
    assert_false(limits_exempt(&pc, "172.17.0.2"));
    assert_true(limits_exempt(&pc, "10.200.3.4"));
    assert_false(limits_exempt(&pc, "10.9.9.9")); /* negated */
    assert_true(limits_exempt(&pc, "fd12::1"));
    assert_true(limits_exempt(&pc, "192.168.1.77"));
    assert_false(limits_exempt(&pc, "192.168.2.77"));
    assert_false(limits_exempt(NULL, "172.17.0.1"));
    /* Host bits set, empty items, quotes: refused by the from= grammar. */
    assert_int_equal(limits_parse_exempt("10.1.2.3/8",
                                         pc.exempt,
                                         sizeof(pc.exempt),
                                         &reason),
                     -EINVAL);
    assert_int_equal(
        limits_parse_exempt("1.2.3.4,,", pc.exempt, sizeof(pc.exempt), &reason),
        -EINVAL);
    assert_int_equal(
        limits_parse_exempt("a\"b", pc.exempt, sizeof(pc.exempt), &reason),
        -EINVAL);
}

static void
test_admit_checks_penalty_startups_source_and_authed_cap(void **state)
{
    struct src_addr s = v4("192.0.2.50");
    struct limits_conf lc;
    struct admit_counts n = {0, 0, 0};
    uint64_t now = 1;

    (void)state;
    memset(&pt, 0, sizeof(pt));
    limits_conf_default(&lc, 16);
    lc.per_source = 3;
    pt.conf = &lc.penalty;
    fake_draw = 99; /* the luckiest draw: only a certain drop refuses */
    assert_int_equal(limits_admit(&pt, &lc, &s, false, now, &n, fake_uniform),
                     ADMIT_OK);
    n.unauth = 100;
    assert_int_equal(limits_admit(&pt, &lc, &s, false, now, &n, fake_uniform),
                     ADMIT_MAX_STARTUPS);
    n.unauth = 5;
    n.src_unauth = 3;
    assert_int_equal(limits_admit(&pt, &lc, &s, false, now, &n, fake_uniform),
                     ADMIT_PER_SOURCE);
    lc.per_source = 0; /* none */
    assert_int_equal(limits_admit(&pt, &lc, &s, false, now, &n, fake_uniform),
                     ADMIT_OK);
    n.authed = 16;
    assert_int_equal(limits_admit(&pt, &lc, &s, false, now, &n, fake_uniform),
                     ADMIT_AUTHED_CAP);
    n.authed = 0;
    penalty_add(&pt, &s, PENALTY_GRACE, now);
    assert_int_equal(limits_admit(&pt, &lc, &s, false, now, &n, fake_uniform),
                     ADMIT_PENALTY);
    /* Exempt, or penalties off: the pending penalty is not enforced. */
    assert_int_equal(limits_admit(&pt, &lc, &s, true, now, &n, fake_uniform),
                     ADMIT_OK);
    lc.penalty.enabled = false;
    assert_int_equal(limits_admit(&pt, &lc, &s, false, now, &n, fake_uniform),
                     ADMIT_OK);
    assert_string_equal(
        admit_reason(ADMIT_PER_SOURCE),
        "too many unauthenticated connections from this source");
}

static void
test_admit_random_early_drop_uses_the_injected_draw(void **state)
{
    struct src_addr s = v4("192.0.2.51");
    struct limits_conf lc;
    struct admit_counts n = {10, 0, 0};

    (void)state;
    memset(&pt, 0, sizeof(pt));
    limits_conf_default(&lc, 16);
    fake_draw = 29; /* below 30 %: refused */
    assert_int_equal(limits_admit(&pt, &lc, &s, false, 1, &n, fake_uniform),
                     ADMIT_MAX_STARTUPS);
    fake_draw = 30;
    assert_int_equal(limits_admit(&pt, &lc, &s, false, 1, &n, fake_uniform),
                     ADMIT_OK);
}

static void
test_penalties_off_or_custom_durations(void **state)
{
    struct src_addr s = v4("198.51.100.9");
    struct penalty_conf pc;

    (void)state;
    memset(&pt, 0, sizeof(pt));
    pc = (struct penalty_conf){.enabled = false,
                               .crash = 90,
                               .authfail = 5,
                               .noauth = 1,
                               .grace = 20,
                               .min = 15,
                               .max = 600};
    pt.conf = &pc;
    assert_int_equal(penalty_for(&pt, OUTCOME_CRASH), 0);
    penalty_add(&pt, &s, 90, 1000);
    assert_int_equal(pt.n, 0);
    pc.enabled = true;
    pc.crash = 30;
    pc.min = 40;
    pc.max = 50;
    assert_int_equal(penalty_for(&pt, OUTCOME_CRASH), 30);
    penalty_add(&pt, &s, penalty_for(&pt, OUTCOME_CRASH), 1000);
    assert_false(penalty_active(&pt, &s, 1000, NULL)); /* 30 < min 40 */
    penalty_add(&pt, &s, penalty_for(&pt, OUTCOME_CRASH), 1000);
    assert_true(penalty_active(&pt, &s, 1000, NULL)); /* capped at 50 */
    assert_false(penalty_active(&pt, &s, 1000 + 50000, NULL));
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
        cmocka_unit_test(
            test_random_early_drop_rises_linearly_from_rate_to_all),
        cmocka_unit_test(test_max_startups_parser_follows_sshd_config),
        cmocka_unit_test(test_penalty_and_netblock_parsers),
        cmocka_unit_test(test_netblock_mask_groups_sources),
        cmocka_unit_test(test_exempt_list_uses_openssh_patterns),
        cmocka_unit_test(test_admit_random_early_drop_uses_the_injected_draw),
        cmocka_unit_test(test_penalties_off_or_custom_durations),
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
