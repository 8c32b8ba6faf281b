/* Unit tests for src/init: flag and environment parsing, exit-status
 * mapping, the child table, the stop stages, service backoff, signal
 * names, service scanning, status formatting and /proc ancestry. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/safeio.h"
#include "init/children.h"
#include "init/config.h"
#include "init/inherit.h"
#include "init/killall.h"
#include "init/service.h"
#include "common/spawn.h"
#include "init/supervisor.h"
#include "init/sv.h"
#include "common/timeutil.h"

/* A fake environment for config_parse. */
static const char *fake_env[16][2];

static const char *
fake_getenv(const char *name)
{
    for (size_t i = 0; i < 16 && fake_env[i][0] != NULL; i++) {
        if (strcmp(fake_env[i][0], name) == 0) {
            return fake_env[i][1];
        }
    }
    return NULL;
}

static int
reset_env(void **state)
{
    (void)state;
    memset(fake_env, 0, sizeof(fake_env));
    return 0;
}

static enum config_result
parse(struct config *cfg, char *err, int argc, char **argv)
{
    return config_parse(argc, argv, fake_getenv, cfg, err, CONFIG_ERR_MAX);
}

static void
test_config_defaults_and_command_after_dashdash(void **state)
{
    char err[CONFIG_ERR_MAX];
    char *argv[] = {"airlock", "--", "sh", "-c", "true", NULL};
    struct config cfg;
    (void)state;

    assert_int_equal(parse(&cfg, err, 5, argv), CONFIG_RUN);
    assert_int_equal(cfg.grace_ms, 5000);
    assert_true(cfg.kill_all_on_exit);
    assert_false(cfg.signal_group);
    assert_string_equal(cfg.cmd[0], "sh");
    assert_string_equal(cfg.cmd[1], "-c");
}

static void
test_config_command_without_dashdash_keeps_its_flags(void **state)
{
    char err[CONFIG_ERR_MAX];
    char *argv[] = {"airlock", "-G", "ls", "-l", NULL};
    struct config cfg;
    (void)state;

    assert_int_equal(parse(&cfg, err, 4, argv), CONFIG_RUN);
    assert_true(cfg.signal_group);
    assert_string_equal(cfg.cmd[0], "ls");
    assert_string_equal(cfg.cmd[1], "-l");
}

static void
test_config_flags_override_environment(void **state)
{
    char err[CONFIG_ERR_MAX];
    char *argv[] = {"airlock", "--grace", "0.5", "--", "x", NULL};
    struct config cfg;
    (void)state;

    fake_env[0][0] = "AIRLOCK_GRACE";
    fake_env[0][1] = "7";
    fake_env[1][0] = "AIRLOCK_SIGNAL_GROUP";
    fake_env[1][1] = "1";
    fake_env[2][0] = "AIRLOCK_SSH";
    fake_env[2][1] = "off";
    fake_env[3][0] = "AIRLOCK_LOG_LEVEL";
    fake_env[3][1] = "debug";
    assert_int_equal(parse(&cfg, err, 5, argv), CONFIG_RUN);
    assert_int_equal(cfg.grace_ms, 500);
    assert_true(cfg.signal_group);
    assert_true(cfg.ssh_disabled);
    assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
}

static void
test_config_env_grace_and_booleans(void **state)
{
    char err[CONFIG_ERR_MAX];
    char *argv[] = {"airlock", "x", NULL};
    struct config cfg;
    (void)state;

    fake_env[0][0] = "AIRLOCK_GRACE";
    fake_env[0][1] = "2.25";
    fake_env[1][0] = "AIRLOCK_KILL_ALL_ON_EXIT";
    fake_env[1][1] = "no";
    fake_env[2][0] = "AIRLOCK_SYSLOG";
    fake_env[2][1] = "off";
    assert_int_equal(parse(&cfg, err, 2, argv), CONFIG_RUN);
    assert_int_equal(cfg.grace_ms, 2250);
    assert_false(cfg.kill_all_on_exit);
    assert_true(cfg.syslog_disabled);
    assert_false(cfg.ssh_disabled);
    {
        char *no_syslog[] = {"airlock", "--no-syslog", "x", NULL};
        fake_env[2][0] = NULL;
        assert_int_equal(parse(&cfg, err, 3, no_syslog), CONFIG_RUN);
        assert_true(cfg.syslog_disabled);
    }
}

static void
test_config_bad_values_name_the_source(void **state)
{
    char err[CONFIG_ERR_MAX];
    char *bad_flag[] = {"airlock", "--frobnicate", "x", NULL};
    char *bad_grace[] = {"airlock", "--grace", "soon", "x", NULL};
    char *missing[] = {"airlock", "--grace", NULL};
    char *eq[] = {"airlock", "--grace=-1", "x", NULL};
    struct config cfg;
    (void)state;

    assert_int_equal(parse(&cfg, err, 3, bad_flag), CONFIG_USAGE_ERROR);
    assert_non_null(strstr(err, "--frobnicate"));
    assert_int_equal(parse(&cfg, err, 4, bad_grace), CONFIG_USAGE_ERROR);
    assert_non_null(strstr(err, "soon"));
    assert_int_equal(parse(&cfg, err, 2, missing), CONFIG_USAGE_ERROR);
    assert_int_equal(parse(&cfg, err, 3, eq), CONFIG_USAGE_ERROR);

    fake_env[0][0] = "AIRLOCK_SIGNAL_GROUP";
    fake_env[0][1] = "perhaps";
    assert_int_equal(parse(&cfg, err, 3, bad_flag), CONFIG_USAGE_ERROR);
    assert_non_null(strstr(err, "AIRLOCK_SIGNAL_GROUP='perhaps'"));
    fake_env[0][0] = "AIRLOCK_GRACE";
    fake_env[0][1] = "9999";
    assert_int_equal(parse(&cfg, err, 3, bad_flag), CONFIG_USAGE_ERROR);
    assert_non_null(strstr(err, "AIRLOCK_GRACE"));
}

static void
test_config_signal_flags_and_stop_signal(void **state)
{
    char err[CONFIG_ERR_MAX];
    char *argv[] = {"airlock",
                    "--rewrite",
                    "USR1:HUP",
                    "--rewrite=10:3",
                    "--rewrite",
                    "SIGRTMIN+2:0",
                    "--rewrite",
                    "TSTP:STOP",
                    "-e",
                    "143",
                    "--exit-zero=1",
                    "-p",
                    "KILL",
                    "--",
                    "x",
                    NULL};
    char *term_rewrite[] = {"airlock", "--rewrite", "15:3", "x", NULL};
    char *plain[] = {"airlock", "x", NULL};
    struct config cfg;
    (void)state;

    assert_int_equal(parse(&cfg, err, 15, argv), CONFIG_RUN);
    /* The last --rewrite of a signal wins. */
    assert_int_equal(config_app_signal(&cfg, SIGUSR1), SIGQUIT);
    assert_int_equal(config_app_signal(&cfg, SIGRTMIN + 2), 0);
    assert_int_equal(config_app_signal(&cfg, SIGTSTP), SIGSTOP);
    assert_int_equal(config_app_signal(&cfg, SIGTERM), SIGTERM);
    assert_int_equal(cfg.pdeath_signal, SIGKILL);
    assert_int_equal(config_exit_status(&cfg, 143), 0);
    assert_int_equal(config_exit_status(&cfg, 1), 0);
    assert_int_equal(config_exit_status(&cfg, 137), 137);
    assert_int_equal(config_exit_status(&cfg, 0), 0);
    assert_string_equal(cfg.cmd[0], "x");

    /* Defaults: everything catchable as is, but CHLD, the TTY stops and
     * glibc's 32/33; SIGTERM is the stop signal. */
    assert_int_equal(parse(&cfg, err, 2, plain), CONFIG_RUN);
    assert_int_equal(cfg.stop_signal, SIGTERM);
    assert_int_equal(cfg.pdeath_signal, 0);
    assert_int_equal(config_app_signal(&cfg, SIGALRM), SIGALRM);
    assert_int_equal(config_app_signal(&cfg, SIGPIPE), SIGPIPE);
    assert_int_equal(config_app_signal(&cfg, SIGRTMIN + 2), SIGRTMIN + 2);
    assert_int_equal(config_app_signal(&cfg, SIGRTMAX), SIGRTMAX);
    assert_int_equal(config_app_signal(&cfg, SIGWINCH), SIGWINCH);
    assert_int_equal(config_app_signal(&cfg, SIGCHLD), 0);
    assert_int_equal(config_app_signal(&cfg, SIGTSTP), 0);
    assert_int_equal(config_app_signal(&cfg, SIGTTIN), 0);
    assert_int_equal(config_app_signal(&cfg, SIGTTOU), 0);
    assert_int_equal(config_app_signal(&cfg, 32), 0);
    assert_int_equal(config_app_signal(&cfg, 33), 0);
    assert_int_equal(config_exit_status(&cfg, 143), 143);

    /* AIRLOCK_STOP_SIGNAL; --rewrite TERM:... is the same setting, and
     * the flag overrides the variable. */
    fake_env[0][0] = "AIRLOCK_STOP_SIGNAL";
    fake_env[0][1] = "SIGQUIT";
    assert_int_equal(parse(&cfg, err, 2, plain), CONFIG_RUN);
    assert_int_equal(cfg.stop_signal, SIGQUIT);
    assert_int_equal(config_app_signal(&cfg, SIGTERM), SIGQUIT);
    fake_env[0][1] = "RTMIN+3";
    assert_int_equal(parse(&cfg, err, 4, term_rewrite), CONFIG_RUN);
    assert_int_equal(config_app_signal(&cfg, SIGTERM), SIGQUIT);
    fake_env[0][1] = "28";
    assert_int_equal(parse(&cfg, err, 2, plain), CONFIG_RUN);
    assert_int_equal(cfg.stop_signal, SIGWINCH);
}

/* Each bad value: a usage error whose line names the flag or variable and
 * the value. */
static void
test_config_signal_flags_bad_values(void **state)
{
    static const char *const bad[][2] = {
        {"--rewrite", "TERM"},
        {"--rewrite", "TERM:"},
        {"--rewrite", ":QUIT"},
        {"--rewrite", "BOGUS:QUIT"},
        {"--rewrite", "TERM:BOGUS"},
        {"--rewrite", "KILL:TERM"},
        {"--rewrite", "STOP:TERM"},
        {"--rewrite", "CHLD:TERM"},
        {"--rewrite", "TERM:0"},
        {"--rewrite", "65:1"},
        {"--exit-zero", "256"},
        {"--exit-zero", "-1"},
        {"--exit-zero", "x"},
        {"--pdeath-signal", "0"},
        {"--pdeath-signal", "NOPE"},
        {"--stop-signal", "STOP"},
        {"--stop-signal", ""},
    };
    char err[CONFIG_ERR_MAX];
    char *missing[] = {"airlock", "-e", NULL};
    char *plain[] = {"airlock", "x", NULL};
    struct config cfg;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *argv[] = {"airlock",
                        (char *)bad[i][0],
                        (char *)bad[i][1],
                        "x",
                        NULL};
        assert_int_equal(parse(&cfg, err, 4, argv), CONFIG_USAGE_ERROR);
        assert_non_null(strstr(err, bad[i][0]));
        assert_non_null(strstr(err, bad[i][1]));
        assert_null(strchr(err, '\n'));
    }
    assert_int_equal(parse(&cfg, err, 2, missing), CONFIG_USAGE_ERROR);
    assert_non_null(strstr(err, "--exit-zero"));

    fake_env[0][0] = "AIRLOCK_STOP_SIGNAL";
    fake_env[0][1] = "TERMINATE";
    assert_int_equal(parse(&cfg, err, 2, plain), CONFIG_USAGE_ERROR);
    assert_non_null(strstr(err, "AIRLOCK_STOP_SIGNAL='TERMINATE'"));
    fake_env[0][1] = "0";
    assert_int_equal(parse(&cfg, err, 2, plain), CONFIG_USAGE_ERROR);
    fake_env[0][1] = "STOP";
    assert_int_equal(parse(&cfg, err, 2, plain), CONFIG_USAGE_ERROR);
    assert_non_null(strstr(err, "AIRLOCK_STOP_SIGNAL"));
}

static void
test_config_help_version_and_no_command(void **state)
{
    char err[CONFIG_ERR_MAX];
    char *help[] = {"airlock", "-h", NULL};
    char *version[] = {"airlock", "--version", NULL};
    char *none[] = {"airlock", "-v", "--", NULL};
    struct config cfg;
    (void)state;

    assert_int_equal(parse(&cfg, err, 2, help), CONFIG_HELP);
    assert_int_equal(parse(&cfg, err, 2, version), CONFIG_VERSION);
    assert_int_equal(parse(&cfg, err, 3, none), CONFIG_RUN);
    assert_null(cfg.cmd);
    assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
}

static void
test_children_table_add_take_and_capacity(void **state)
{
    static struct children c;
    struct child out;
    (void)state;

    children_init(&c);
    assert_int_equal(children_add(&c, 10, CHILD_APP, 0), 0);
    assert_int_equal(children_add(&c, 11, CHILD_SERVICE, 3), 0);
    assert_int_equal(children_count_kind(&c, CHILD_SERVICE), 1);
    assert_false(children_take(&c, 99, &out));
    assert_true(children_take(&c, 11, &out));
    assert_int_equal(out.kind, CHILD_SERVICE);
    assert_int_equal(out.index, 3);
    assert_false(children_take(&c, 11, &out));
    for (int i = 1; i < CHILDREN_MAX; i++) {
        assert_int_equal(children_add(&c, 1000 + i, CHILD_HOOK, 0), 0);
    }
    assert_int_equal(children_add(&c, 5, CHILD_HOOK, 0), -ENOSPC);
    assert_true(children_take(&c, 10, &out));
    assert_int_equal(out.kind, CHILD_APP);
}

static void
test_stop_stages_in_order(void **state)
{
    (void)state;
    assert_int_equal(supervisor_next_stage(STAGE_RUN, true), STAGE_STOP_APP);
    assert_int_equal(supervisor_next_stage(STAGE_STOP_APP, true),
                     STAGE_PRE_HOOKS);
    assert_int_equal(supervisor_next_stage(STAGE_PRE_HOOKS, true), STAGE_HOOKS);
    assert_int_equal(supervisor_next_stage(STAGE_HOOKS, true),
                     STAGE_STOP_SERVICES);
    assert_int_equal(supervisor_next_stage(STAGE_STOP_SERVICES, true),
                     STAGE_POST_HOOKS);
    assert_int_equal(supervisor_next_stage(STAGE_POST_HOOKS, true),
                     STAGE_TERM_ALL);
    assert_int_equal(supervisor_next_stage(STAGE_POST_HOOKS, false),
                     STAGE_DONE);
    assert_int_equal(supervisor_next_stage(STAGE_TERM_ALL, true),
                     STAGE_KILL_ALL);
    assert_int_equal(supervisor_next_stage(STAGE_KILL_ALL, true), STAGE_DONE);
}

static void
test_backoff_doubles_caps_and_resets(void **state)
{
    uint64_t b = 0;
    uint64_t expect[] =
        {100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000};
    (void)state;

    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        b = service_next_backoff(b, 50);
        assert_int_equal(b, expect[i]);
    }
    /* A run of 10 s or more counts as healthy: start over. */
    assert_int_equal(service_next_backoff(30000, 10000), 100);
    assert_int_equal(service_next_backoff(30000, 9999), 30000);
}

static void
test_service_parse_signal(void **state)
{
    (void)state;
    assert_int_equal(service_parse_signal("TERM"), SIGTERM);
    assert_int_equal(service_parse_signal("SIGQUIT"), SIGQUIT);
    assert_int_equal(service_parse_signal("9"), SIGKILL);
    assert_int_equal(service_parse_signal("HUP"), SIGHUP);
    assert_int_equal(service_parse_signal("NOPE"), -1);
    assert_int_equal(service_parse_signal("0"), -1);
    assert_int_equal(service_parse_signal("65"), -1);
}

static void
write_script(const char *path, const char *body, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write_all(fd, body, strlen(body)), 0);
    close(fd);
    chmod(path, mode);
}

static void
test_services_scan_order_down_and_bad_entries(void **state)
{
    static struct services s;
    char root[] = "/tmp/airlock-svc-XXXXXX";
    char path[256], cmd[300];
    (void)state;

    assert_non_null(mkdtemp(root));
    /* b and a are services; c has a down file; d has no run; e's run is
     * not executable; f is a plain file; g has a down-signal. */
    const char *dirs[] = {"b", "a", "c", "d", "e", "g"};
    for (size_t i = 0; i < 6; i++) {
        snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
        assert_int_equal(mkdir(path, 0755), 0);
    }
    const char *runnable[] = {"a", "b", "c", "g"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s/run", root, runnable[i]);
        write_script(path, "#!/bin/sh\nexec sleep 1\n", 0755);
    }
    snprintf(path, sizeof(path), "%s/c/down", root);
    write_script(path, "", 0644);
    snprintf(path, sizeof(path), "%s/e/run", root);
    write_script(path, "#!/bin/sh\n", 0644);
    snprintf(path, sizeof(path), "%s/f", root);
    write_script(path, "", 0644);
    snprintf(path, sizeof(path), "%s/g/down-signal", root);
    write_script(path, "QUIT\n", 0644);
    /* A name that could not go into a log line or JSON as it is. */
    snprintf(path, sizeof(path), "%s/bad\"name", root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/bad\"name/run", root);
    write_script(path, "#!/bin/sh\nexec sleep 1\n", 0755);

    memset(&s, 0, sizeof(s));
    assert_int_equal(services_scan(&s, root), 3);
    assert_string_equal(s.svc[0].name, "a");
    assert_string_equal(s.svc[1].name, "b");
    assert_string_equal(s.svc[2].name, "g");
    assert_int_equal(s.svc[0].down_signal, SIGTERM);
    assert_int_equal(s.svc[2].down_signal, SIGQUIT);
    assert_int_equal(s.svc[0].out_fd, -1);

    memset(&s, 0, sizeof(s));
    assert_int_equal(services_scan(&s, "/nonexistent/airlock"), 0);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

/* services_drop (a service the mode cannot run) takes the service's
 * log/run logger with it, and the other loggers still name their own
 * services. */
static void
test_services_drop_takes_its_logger_and_keeps_links(void **state)
{
    static struct services s;
    char root[] = "/tmp/airlock-svc-XXXXXX";
    char path[256], cmd[300];
    const char *names[] = {"a", "cron", "z"};
    (void)state;

    assert_non_null(mkdtemp(root));
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", root, names[i]);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/%s/log", root, names[i]);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/%s/run", root, names[i]);
        write_script(path, "#!/bin/sh\nexec sleep 1\n", 0755);
        snprintf(path, sizeof(path), "%s/%s/log/run", root, names[i]);
        write_script(path, "#!/bin/sh\nexec cat\n", 0755);
    }
    memset(&s, 0, sizeof(s));
    assert_int_equal(services_scan(&s, root), 6);
    assert_true(services_drop(&s, "cron"));
    assert_false(services_drop(&s, "cron"));
    assert_int_equal(s.count, 4);
    for (size_t i = 0; i < s.count; i++) {
        char want[SERVICE_NAME_MAX + 8];
        assert_null(strstr(s.svc[i].name, "cron"));
        if (s.svc[i].logs_for < 0) {
            continue;
        }
        assert_true((size_t)s.svc[i].logs_for < s.count);
        snprintf(want, sizeof(want), "%s/log", s.svc[s.svc[i].logs_for].name);
        assert_string_equal(s.svc[i].name, want);
    }
    for (size_t i = 0; i < s.count; i++) {
        if (s.svc[i].log_wfd >= 0) {
            close(s.svc[i].log_wfd);
        }
        if (s.svc[i].log_rfd >= 0) {
            close(s.svc[i].log_rfd);
        }
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

/* Cycle detection over the dependencies graph: a chain has none; a
 * self-loop, a 2-cycle and a 3-cycle behind a tail are found, with only
 * their members marked. */
/* status --json: one object, whole records only when space runs out,
 * and the answers `wait-ready` gets. */
static void
test_services_status_json_and_ready_state(void **state)
{
    static struct services s;
    char buf[1024], small[160];
    (void)state;

    memset(&s, 0, sizeof(s));
    assert_int_equal(services_add_builtin(&s, "syslogd", "/bin/true", "x"), 0);
    assert_int_equal(services_add_builtin(&s, "sshd", "/bin/true", ""), 0);
    s.svc[0].state = SVC_READY;
    s.svc[0].pid = 42;
    s.svc[0].started_at = 1000;
    s.svc[0].restarts = 2;
    s.svc[0].last_code = 137;
    s.svc[1].state = SVC_BACKOFF;
    s.svc[1].critical = true;
    assert_true(services_format_status_json(&s, 1500, buf, sizeof(buf)) > 0);
    assert_string_equal(
        buf,
        "{\"all_ready\":false,\"services\":["
        "{\"name\":\"syslogd\",\"state\":\"ready\",\"ready\":true,"
        "\"pid\":42,\"uptime_ms\":500,\"restarts\":2,\"last_exit\":137,"
        "\"critical\":false},"
        "{\"name\":\"sshd\",\"state\":\"backoff\",\"ready\":false,"
        "\"pid\":0,\"uptime_ms\":0,\"restarts\":0,\"last_exit\":null,"
        "\"critical\":true}]}\n");
    /* Room for one record: the second is left out, the JSON stays whole. */
    assert_true(services_format_status_json(&s, 1500, small, sizeof(small)) >
                0);
    assert_non_null(strstr(small, "syslogd"));
    assert_null(strstr(small, "sshd"));
    assert_string_equal(small + strlen(small) - 3, "]}\n");

    assert_int_equal(services_ready_state(&s, "syslogd", buf, sizeof(buf)), 1);
    assert_int_equal(services_ready_state(&s, "sshd", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "waiting: sshd (backoff)\n");
    assert_int_equal(services_ready_state(&s, NULL, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "waiting: sshd (backoff)\n");
    s.svc[1].state = SVC_FAILED;
    assert_int_equal(services_ready_state(&s, "sshd", buf, sizeof(buf)), -1);
    assert_int_equal(services_ready_state(&s, NULL, buf, sizeof(buf)), 1);
    assert_int_equal(services_ready_state(&s, "nope", buf, sizeof(buf)),
                     -ENOENT);
}

static void
test_deps_find_cycles(void **state)
{
    static int deps[SERVICES_MAX][SERVICE_DEPS_MAX];
    size_t nd[SERVICES_MAX] = {0};
    bool cyc[SERVICES_MAX];
    (void)state;

    /* 0 <- 1 <- 2: a chain. */
    deps[1][0] = 0;
    deps[2][0] = 1;
    nd[1] = nd[2] = 1;
    assert_int_equal(deps_find_cycles(3, deps, nd, cyc), 0);
    assert_false(cyc[0] || cyc[1] || cyc[2]);
    /* 3 -> 3; 4 <-> 5; 6 -> 7 -> 8 -> 9 -> 7; 10 -> 99 (unknown). */
    deps[3][0] = 3;
    nd[3] = 1;
    deps[4][0] = 5;
    deps[5][0] = 4;
    nd[4] = nd[5] = 1;
    deps[6][0] = 7;
    deps[7][0] = 8;
    deps[8][0] = 9;
    deps[9][0] = 7;
    nd[6] = nd[7] = nd[8] = nd[9] = 1;
    deps[10][0] = -1;
    nd[10] = 1;
    assert_int_equal(deps_find_cycles(11, deps, nd, cyc), 6);
    assert_true(cyc[3] && cyc[4] && cyc[5] && cyc[7] && cyc[8] && cyc[9]);
    assert_false(cyc[0] || cyc[1] || cyc[2] || cyc[6] || cyc[10]);
}

/* notification-fd and dependencies files as services_scan reads them,
 * and the start order services_resolve_deps allows. */
static void
test_services_readiness_files_and_dependencies(void **state)
{
    static struct services s;
    char root[] = "/tmp/airlock-deps-XXXXXX";
    char path[256], cmd[300];
    (void)state;

    assert_non_null(mkdtemp(root));
    const char *dirs[] = {"app", "db", "loop1", "loop2", "orphan", "badfd"};
    for (size_t i = 0; i < 6; i++) {
        snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/%s/run", root, dirs[i]);
        write_script(path, "#!/bin/sh\nexec sleep 1\n", 0755);
    }
    snprintf(path, sizeof(path), "%s/db/notification-fd", root);
    write_script(path, "5\n", 0644);
    snprintf(path, sizeof(path), "%s/badfd/notification-fd", root);
    write_script(path, "1\n", 0644); /* stdout: refused */
    snprintf(path, sizeof(path), "%s/app/dependencies", root);
    write_script(path, "# the database first\ndb\n\n", 0644);
    snprintf(path, sizeof(path), "%s/loop1/dependencies", root);
    write_script(path, "loop2\n", 0644);
    snprintf(path, sizeof(path), "%s/loop2/dependencies", root);
    write_script(path, "loop1\n", 0644);
    snprintf(path, sizeof(path), "%s/orphan/dependencies", root);
    write_script(path, "db\nnosuch\n", 0644);

    memset(&s, 0, sizeof(s));
    assert_int_equal(services_scan(&s, root), 6);
    /* Name order: app, badfd, db, loop1, loop2, orphan. */
    assert_string_equal(s.svc[2].name, "db");
    assert_int_equal(s.svc[2].notify_to, 5);
    assert_int_equal(s.svc[1].notify_to, 0);
    assert_int_equal(s.svc[0].notify_to, 0);
    assert_int_equal(s.svc[0].ndeps, 1);
    assert_string_equal(s.svc[0].dep_names[0], "db");
    assert_int_equal(services_resolve_deps(&s), 3);
    assert_int_equal(s.svc[0].deps[0], 2);
    assert_int_equal(s.svc[0].state, SVC_DOWN);
    assert_int_equal(s.svc[3].state, SVC_FAILED);
    assert_int_equal(s.svc[4].state, SVC_FAILED);
    assert_int_equal(s.svc[5].state, SVC_FAILED);
    /* Down and failed services are not waited for; one up but not ready
     * yet, or waiting for its dependencies, is. */
    assert_true(services_all_ready(&s));
    s.svc[2].state = SVC_UP;
    s.svc[0].state = SVC_STARTING;
    assert_false(services_all_ready(&s));
    char lag[256];
    services_laggards(&s, lag, sizeof(lag));
    assert_string_equal(lag, "app (starting), db (up)");
    s.svc[2].state = SVC_READY;
    s.svc[0].state = SVC_READY;
    assert_true(services_all_ready(&s));

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void
test_services_status_and_restart_by_name(void **state)
{
    static struct services s;
    struct service_ctx ctx;
    char buf[1024];
    size_t len;
    (void)state;

    /* Only restarts of services not running are asked for: nothing is
     * started or signalled, the context is never used. */
    memset(&ctx, 0, sizeof(ctx));
    memset(&s, 0, sizeof(s));
    assert_int_equal(services_add_builtin(&s, "syslogd", "/bin/true", "x"), 0);
    s.svc[0].state = SVC_UP;
    s.svc[0].pid = 4242;
    s.svc[0].started_at = 1000;
    s.svc[0].restarts = 3;
    len = services_format_status(&s, 3500, buf, sizeof(buf));
    assert_int_equal(len, strlen(buf));
    assert_non_null(strstr(buf, "syslogd"));
    assert_non_null(strstr(buf, "4242"));
    assert_non_null(strstr(buf, "2.5s"));
    assert_int_equal(services_request_restart(&s, &ctx, "nope", 0, 1000),
                     -ENOENT);
    s.svc[0].pid = 0;
    s.svc[0].state = SVC_BACKOFF;
    s.svc[0].deadline = 99999;
    assert_int_equal(services_request_restart(&s, &ctx, "syslogd", 5000, 1000),
                     0);
    assert_int_equal(s.svc[0].state, SVC_BACKOFF);
    assert_int_equal(s.svc[0].deadline, 5000);
    /* Not while the container stops. */
    s.stopping = true;
    assert_int_equal(services_request_restart(&s, &ctx, "syslogd", 6000, 1000),
                     -ECANCELED);
}

static void
test_config_my_init_flags(void **state)
{
    char err[CONFIG_ERR_MAX];
    char *quiet[] = {"my_init",
                     "--quiet",
                     "--skip-startup-files",
                     "--no-kill-all-on-exit",
                     "--skip-runit",
                     "--",
                     "sh",
                     NULL};
    char *key[] = {"my_init", "--enable-insecure-key", NULL};
    char *nocmd[] = {"my_init", "--skip-runit", NULL};
    char *plain_quiet[] = {"airlock", "--quiet", "--", "sh", NULL};
    struct config cfg;
    (void)state;

    assert_int_equal(
        config_parse_my_init(7, quiet, fake_getenv, &cfg, err, sizeof(err)),
        CONFIG_RUN);
    assert_int_equal(cfg.log_level, LOG_LEVEL_WARN);
    assert_true(cfg.log_level_flag);
    assert_true(cfg.skip_startup);
    assert_false(cfg.kill_all_on_exit);
    assert_true(cfg.skip_services);
    assert_string_equal(cfg.cmd[0], "sh");
    /* airlock's own flags still work under that name. */
    assert_int_equal(
        config_parse_my_init(4, plain_quiet, fake_getenv, &cfg, err, 256),
        CONFIG_RUN);
    assert_int_equal(cfg.log_level, LOG_LEVEL_WARN);
    /* ...and as airlock, --quiet keeps its meaning: errors only. */
    assert_int_equal(parse(&cfg, err, 4, plain_quiet), CONFIG_RUN);
    assert_int_equal(cfg.log_level, LOG_LEVEL_ERROR);
    assert_int_equal(
        config_parse_my_init(2, key, fake_getenv, &cfg, err, sizeof(err)),
        CONFIG_USAGE_ERROR);
    assert_non_null(strstr(err, "published private key"));
    assert_int_equal(
        config_parse_my_init(2, nocmd, fake_getenv, &cfg, err, sizeof(err)),
        CONFIG_USAGE_ERROR);
    assert_non_null(strstr(err, "--skip-runit"));
    /* Not airlock's flags: refused as unknown. */
    assert_int_equal(parse(&cfg, err, 2, key), CONFIG_USAGE_ERROR);
    assert_int_equal(parse(&cfg, err, 2, nocmd), CONFIG_USAGE_ERROR);
}

static void
test_sv_names_and_status_lines(void **state)
{
    static struct services s;
    struct service_ctx ctx;
    char buf[256];
    int n;
    (void)state;

    assert_int_equal(sv_service_name("/etc/service/web/", buf, 64), 0);
    assert_string_equal(buf, "web");
    assert_int_equal(sv_service_name("/etc/service/web/log", buf, 64), 0);
    assert_string_equal(buf, "web/log");
    assert_int_equal(sv_service_name("web", buf, 64), 0);
    assert_string_equal(buf, "web");
    assert_int_equal(sv_service_name("/", buf, 64), -EINVAL);

    memset(&ctx, 0, sizeof(ctx));
    memset(&s, 0, sizeof(s));
    assert_int_equal(services_add_builtin(&s, "web", "/bin/true", ""), 0);
    assert_int_equal(services_add_builtin(&s, "web/log", "/bin/true", ""), 0);
    s.svc[1].logs_for = 0;
    s.svc[0].state = SVC_READY;
    s.svc[0].pid = 123;
    s.svc[0].started_at = 1000;
    s.svc[1].state = SVC_UP;
    s.svc[1].pid = 122;
    s.svc[1].started_at = 500;
    n = services_format_sv(&s, "web", 46500, buf, sizeof(buf));
    assert_int_equal(n, (int)strlen(buf));
    assert_string_equal(buf,
                        "run: web: (pid 123) 45s; run: log: (pid 122) 46s\n");
    assert_int_equal(services_format_sv(&s, "nope", 0, buf, sizeof(buf)),
                     -ENOENT);
    /* Waiting to restart: down, wanted up. sv down: down, no restart. */
    s.svc[0].state = SVC_BACKOFF;
    s.svc[0].pid = 0;
    s.svc[0].down_since = 43000;
    s.svc[0].deadline = 99999;
    (void)services_format_sv(&s, "web", 46500, buf, sizeof(buf));
    assert_string_equal(buf,
                        "down: web: 3s, normally up, want up; run: log: (pid "
                        "122) 46s\n");
    assert_int_equal(services_request_updown(&s, &ctx, "web", false, 46500, 0),
                     0);
    assert_int_equal(s.svc[0].state, SVC_DOWN);
    assert_true(s.svc[0].want_down);
    assert_int_equal(s.svc[0].deadline, DEADLINE_NONE);
    (void)services_format_sv(&s, "web/log", 46500, buf, sizeof(buf));
    assert_string_equal(buf, "run: web/log: (pid 122) 46s\n");
    s.svc[0].state = SVC_STOPPING;
    s.svc[0].pid = 123;
    (void)services_format_sv(&s, "web", 46500, buf, sizeof(buf));
    assert_non_null(strstr(buf, "run: web: (pid 123) 45s, want down;"));
    s.svc[0].state = SVC_FINISHING;
    s.svc[0].finish_pid = 130;
    s.svc[0].finish_at = 46000;
    (void)services_format_sv(&s, "web", 46500, buf, sizeof(buf));
    assert_non_null(strstr(buf, "finish: web: (pid 130) 0s"));
    assert_int_equal(services_request_updown(&s, &ctx, "nope", true, 0, 0),
                     -ENOENT);
    s.stopping = true;
    assert_int_equal(services_request_updown(&s, &ctx, "web", true, 0, 0),
                     -ECANCELED);
}

/* /proc/loadavg's fourth field, R/T: T tasks on the host. */
static void
test_killall_host_is_busy_reads_the_task_count(void **state)
{
    (void)state;
    assert_false(killall_host_is_busy("0.10 0.20 0.30 1/150 4242\n"));
    assert_false(killall_host_is_busy("0.10 0.20 0.30 1/1999 4242\n"));
    assert_true(killall_host_is_busy("0.10 0.20 0.30 3/2000 4242\n"));
    assert_true(killall_host_is_busy("9.10 8.20 7.30 12/25000 99\n"));
    assert_false(killall_host_is_busy("0.10 0.20 0.30 1/ 4242\n"));
    assert_false(killall_host_is_busy("garbage"));
    assert_false(killall_host_is_busy(""));
    assert_false(killall_host_is_busy(NULL));
}

static void
test_killall_ancestry_from_fake_proc(void **state)
{
    char root[] = "/tmp/airlock-proc-XXXXXX";
    char path[256], cmd[300];
    /* 30 -> 20 -> 10 (us); 40 -> 1; comm with spaces and ')' */
    const struct {
        int pid;
        const char *stat;
    } procs[] = {
        {10, "10 (airlock) S 1 10 10 0"},
        {20, "20 (sh) S 10 20 20 0"},
        {30, "30 (weird ) name) S 20 30 30 0"},
        {40, "40 (other) S 1 40 40 0"},
    };
    pid_t ppid = 0;
    (void)state;

    assert_non_null(mkdtemp(root));
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%d", root, procs[i].pid);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/%d/stat", root, procs[i].pid);
        write_script(path, procs[i].stat, 0644);
    }
    assert_int_equal(killall_read_ppid(root, 30, &ppid), 0);
    assert_int_equal(ppid, 20);
    assert_true(killall_descends_from(root, 30, 10));
    assert_true(killall_descends_from(root, 20, 10));
    assert_false(killall_descends_from(root, 40, 10));
    assert_false(killall_descends_from(root, 10, 10));
    assert_int_equal(killall_read_ppid(root, 99, &ppid), -ENOENT);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void
test_inherit_names_pid_and_env_with(void **state)
{
    char *envp[] = {"A=1", "LISTEN_PID=42", "B=2", NULL};
    char **e;
    (void)state;

    assert_true(inherit_names_pid("42", 42));
    assert_false(inherit_names_pid("421", 42));
    assert_false(inherit_names_pid(" 42", 42));
    assert_false(inherit_names_pid("", 42));
    assert_false(inherit_names_pid(NULL, 42));

    e = spawn_env_with(envp, "B=3");
    assert_non_null(e);
    assert_string_equal(e[0], "A=1");
    assert_string_equal(e[1], "LISTEN_PID=42");
    assert_string_equal(e[2], "B=3");
    assert_null(e[3]);
    free(e);
    /* A name that is a prefix of another is not that other. */
    e = spawn_env_with(envp, "A_LONGER=x");
    assert_non_null(e);
    assert_string_equal(e[0], "A=1");
    assert_string_equal(e[3], "A_LONGER=x");
    assert_null(e[4]);
    free(e);
    e = spawn_env_with(NULL, "C=1");
    assert_non_null(e);
    assert_string_equal(e[0], "C=1");
    assert_null(e[1]);
    free(e);
}

static void
test_inherit_listen_pid_only_when_it_names_airlock(void **state)
{
    static struct inherit in;
    char *mine[] = {"LISTEN_FDS=1", "LISTEN_PID=42", "X=y", NULL};
    char *other[] = {"LISTEN_FDS=1", "LISTEN_PID=7", NULL};
    char *none[] = {"X=y", NULL};
    (void)state;

    assert_int_equal(inherit_prepare_env(&in, other, 42), 0);
    assert_null(in.envp);
    assert_null(in.pid_slot);
    assert_int_equal(inherit_prepare_env(&in, none, 42), 0);
    assert_null(in.envp);
    assert_int_equal(inherit_prepare_env(&in, mine, 42), 1);
    assert_non_null(in.envp);
    assert_non_null(in.pid_slot);
    assert_string_equal(in.envp[0], "LISTEN_FDS=1");
    assert_string_equal(in.envp[1], "X=y");
    assert_string_equal(in.envp[2], "LISTEN_PID=");
    assert_ptr_equal(in.envp[2], in.listen_pid);
    assert_null(in.envp[3]);
    free(in.envp);
}

/* An inherited fd is recorded and marked close-on-exec; the app (with
 * pass_fds and pid_slot) gets it and its own pid in LISTEN_PID; a plain
 * child (a service) gets only 0-2. */
static void
test_inherit_record_and_pass_to_the_app_only(void **state)
{
    static struct inherit in;
    char dir[] = "/tmp/airlock-inh-XXXXXX";
    char app_out[64], cmd[128], buf[256];
    char *app_argv[] = {"/bin/sh", "-c", cmd, NULL};
    sigset_t mask;
    struct spawn_opts o = {.child_mask = &mask,
                           .stdout_fd = -1,
                           .stderr_fd = -1};
    char *envp[] = {"LISTEN_PID=999", "LISTEN_FDS=1", NULL};
    size_t dropped = 1, len = 0;
    struct spawn_failure fail;
    int fd, st, found = 0;
    pid_t pid;
    (void)state;

    sigemptyset(&mask);
    assert_non_null(mkdtemp(dir));
    fd = open("/dev/null", O_RDONLY);
    assert_true(fd > 2);
    assert_int_equal(inherit_record(&in, &dropped), 0);
    assert_int_equal(dropped, 0);
    for (size_t i = 0; i < in.nfds; i++) {
        found += in.fds[i] == fd;
    }
    assert_int_equal(found, 1);
    assert_true((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);

    /* The app: the fd survives exec and LISTEN_PID is the child's pid. */
    assert_int_equal(inherit_prepare_env(&in, envp, 999), 1);
    snprintf(app_out, sizeof(app_out), "%s/app", dir);
    snprintf(cmd,
             sizeof(cmd),
             "echo \"$LISTEN_PID $$\" >%s; test -e /proc/self/fd/%d",
             app_out,
             fd);
    o.pass_fds = in.fds;
    o.npass_fds = in.nfds;
    o.envp = in.envp;
    o.pid_slot = in.pid_slot;
    assert_int_equal(spawn_process(app_argv, &o, &pid, &fail), 0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(exit_code_from_status(st), 0);
    /* The parent's copy of the entry is untouched. */
    assert_string_equal(in.listen_pid, "LISTEN_PID=");
    int rfd = open(app_out, O_RDONLY);
    assert_true(rfd >= 0);
    assert_int_equal(read_all(rfd, buf, sizeof(buf) - 1, &len), 0);
    close(rfd);
    buf[len] = '\0';
    snprintf(cmd, sizeof(cmd), "%d %d\n", (int)pid, (int)pid);
    assert_string_equal(buf, cmd);

    /* A service: nothing above 2. */
    snprintf(cmd, sizeof(cmd), "test ! -e /proc/self/fd/%d", fd);
    memset(&o, 0, sizeof(o));
    o.child_mask = &mask;
    o.stdout_fd = -1;
    o.stderr_fd = -1;
    assert_int_equal(spawn_process(app_argv, &o, &pid, &fail), 0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(exit_code_from_status(st), 0);

    inherit_close(&in);
    assert_int_equal(fcntl(fd, F_GETFD), -1);
    assert_int_equal(in.nfds, 0);
    free(in.envp);
    unlink(app_out);
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_config_defaults_and_command_after_dashdash,
                               reset_env),
        cmocka_unit_test_setup(
            test_config_command_without_dashdash_keeps_its_flags,
            reset_env),
        cmocka_unit_test_setup(test_config_flags_override_environment,
                               reset_env),
        cmocka_unit_test_setup(test_config_env_grace_and_booleans, reset_env),
        cmocka_unit_test_setup(test_config_bad_values_name_the_source,
                               reset_env),
        cmocka_unit_test_setup(test_config_signal_flags_and_stop_signal,
                               reset_env),
        cmocka_unit_test_setup(test_config_signal_flags_bad_values, reset_env),
        cmocka_unit_test_setup(test_config_help_version_and_no_command,
                               reset_env),
        cmocka_unit_test(test_children_table_add_take_and_capacity),
        cmocka_unit_test(test_stop_stages_in_order),
        cmocka_unit_test_setup(test_config_my_init_flags, reset_env),
        cmocka_unit_test(test_sv_names_and_status_lines),
        cmocka_unit_test(test_backoff_doubles_caps_and_resets),
        cmocka_unit_test(test_service_parse_signal),
        cmocka_unit_test(test_services_scan_order_down_and_bad_entries),
        cmocka_unit_test(test_services_drop_takes_its_logger_and_keeps_links),
        cmocka_unit_test(test_services_status_and_restart_by_name),
        cmocka_unit_test(test_services_status_json_and_ready_state),
        cmocka_unit_test(test_deps_find_cycles),
        cmocka_unit_test(test_services_readiness_files_and_dependencies),
        cmocka_unit_test(test_killall_host_is_busy_reads_the_task_count),
        cmocka_unit_test(test_killall_ancestry_from_fake_proc),
        cmocka_unit_test(test_inherit_names_pid_and_env_with),
        cmocka_unit_test(test_inherit_listen_pid_only_when_it_names_airlock),
        cmocka_unit_test(test_inherit_record_and_pass_to_the_app_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
