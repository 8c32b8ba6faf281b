/* Unit tests for src/init/startup: listing order and bounds, the
 * executable check, the order across init.d / my_init.d / rc.local, stop
 * on failure, exit statuses, the clean child state, environment reload. */
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/safeio.h"
#include "init/environ.h"
#include "init/startup.h"

struct fixture {
    char root[64];
    char log[PATH_MAX];
    char log_var[PATH_MAX + 8];
    char *envp[3];
    sigset_t empty;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL) {
        return -1;
    }
    strcpy(f->root, "/tmp/airlock-startup.XXXXXX");
    if (mkdtemp(f->root) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->log, sizeof(f->log), "%s/log", f->root);
    snprintf(f->log_var, sizeof(f->log_var), "LOG=%s", f->log);
    f->envp[0] = f->log_var;
    f->envp[1] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    f->envp[2] = NULL;
    sigemptyset(&f->empty);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
    if (system(cmd) != 0) {
        return -1;
    }
    free(f);
    return 0;
}

/* Writes ROOT/rel with content and mode, creating parent directories. */
static void
put_file(const struct fixture *f,
         const char *rel,
         const char *content,
         mode_t mode)
{
    char path[PATH_MAX];
    char *slash;
    int fd;

    snprintf(path, sizeof(path), "%s%s", f->root, rel);
    slash = strrchr(path, '/');
    *slash = '\0';
    assert_int_equal(mkdir_parents(path, 0755), 0);
    *slash = '/';
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write_all(fd, content, strlen(content)), 0);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

/* A script that appends its name to $LOG, then runs extra. */
static void
put_script(const struct fixture *f,
           const char *rel,
           const char *extra,
           mode_t mode)
{
    char body[1024];

    snprintf(body,
             sizeof(body),
             "#!/bin/sh\necho \"$(basename \"$0\")\" >> \"$LOG\"\n%s\n",
             extra);
    put_file(f, rel, body, mode);
}

static char *
read_log(const struct fixture *f)
{
    static char buf[8192];
    size_t len = 0;
    int fd = open(f->log, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        buf[0] = '\0';
        return buf;
    }
    assert_int_equal(read_all(fd, buf, sizeof(buf) - 1, &len), 0);
    close(fd);
    buf[len] = '\0';
    return buf;
}

static void
test_list_sorts_bytewise_skips_hidden_and_handles_missing(void **state)
{
    struct fixture *f = *state;
    char names[8][NAME_MAX + 1];
    char dir[PATH_MAX];
    size_t n = 99;

    put_file(f, "/d/b", "", 0644);
    put_file(f, "/d/B", "", 0644);
    put_file(f, "/d/a10", "", 0644);
    put_file(f, "/d/a9", "", 0644);
    put_file(f, "/d/.hidden", "", 0755);
    put_file(f, "/d/..data", "", 0755);
    snprintf(dir, sizeof(dir), "%s/d", f->root);
    assert_int_equal(startup_list(dir, names, 8, &n), 0);
    assert_int_equal(n, 4);
    /* strcmp order: uppercase before lowercase, "a10" before "a9". */
    assert_string_equal(names[0], "B");
    assert_string_equal(names[1], "a10");
    assert_string_equal(names[2], "a9");
    assert_string_equal(names[3], "b");

    snprintf(dir, sizeof(dir), "%s/missing", f->root);
    assert_int_equal(startup_list(dir, names, 8, &n), 0);
    assert_int_equal(n, 0);
}

static void
test_list_keeps_the_first_entries_when_over_the_bound(void **state)
{
    struct fixture *f = *state;
    char names[3][NAME_MAX + 1];
    char dir[PATH_MAX];
    const char *files[] = {"/d/50", "/d/10", "/d/40", "/d/20", "/d/30"};
    size_t n = 0;

    for (size_t i = 0; i < 5; i++) {
        put_file(f, files[i], "", 0644);
    }
    snprintf(dir, sizeof(dir), "%s/d", f->root);
    assert_int_equal(startup_list(dir, names, 3, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "10");
    assert_string_equal(names[1], "20");
    assert_string_equal(names[2], "30");
}

static void
test_check_accepts_only_executable_regular_files(void **state)
{
    struct fixture *f = *state;
    char p[PATH_MAX], link[PATH_MAX];
    const char *reason = NULL;

    put_file(f, "/x/exec", "#!/bin/sh\n", 0755);
    put_file(f, "/x/plain", "#!/bin/sh\n", 0644);
    snprintf(p, sizeof(p), "%s/x/exec", f->root);
    assert_int_equal(startup_check(p, &reason), 0);
    snprintf(link, sizeof(link), "%s/x/link", f->root);
    assert_int_equal(symlink(p, link), 0);
    assert_int_equal(startup_check(link, &reason), 0);
    snprintf(p, sizeof(p), "%s/x/plain", f->root);
    assert_int_equal(startup_check(p, &reason), -EACCES);
    assert_string_equal(reason, "not executable");
    snprintf(p, sizeof(p), "%s/x", f->root);
    assert_int_equal(startup_check(p, &reason), -EINVAL);
    assert_string_equal(reason, "not a regular file");
    snprintf(p, sizeof(p), "%s/x/none", f->root);
    assert_int_equal(startup_check(p, &reason), -ENOENT);
}

static void
test_run_goes_init_d_then_my_init_d_then_rc_local(void **state)
{
    struct fixture *f = *state;
    int status = -1;

    put_script(f, "/etc/airlock/init.d/20-b", "", 0755);
    put_script(f, "/etc/airlock/init.d/10-a", "", 0755);
    put_script(f, "/etc/airlock/init.d/30-not-executable", "", 0644);
    put_script(f, "/etc/airlock/init.d/.hidden", "", 0755);
    put_file(f, "/etc/airlock/init.d/15-dir/x", "", 0755);
    put_script(f, "/etc/my_init.d/05-c", "", 0755);
    put_script(f, "/etc/rc.local", "", 0755);
    assert_int_equal(startup_run_in(f->root, &f->empty, f->envp, true, &status),
                     0);
    assert_int_equal(status, 0);
    assert_string_equal(read_log(f), "10-a\n20-b\n05-c\nrc.local\n");
}

static void
test_run_stops_at_the_first_failure_with_its_status(void **state)
{
    struct fixture *f = *state;
    int status = -1;

    put_script(f, "/etc/airlock/init.d/10-ok", "", 0755);
    put_script(f, "/etc/airlock/init.d/20-fail", "exit 3", 0755);
    put_script(f, "/etc/airlock/init.d/30-never", "", 0755);
    put_script(f, "/etc/my_init.d/10-never", "", 0755);
    put_script(f, "/etc/rc.local", "", 0755);
    assert_int_equal(startup_run_in(f->root, &f->empty, f->envp, true, &status),
                     0);
    assert_int_equal(status, 3);
    assert_string_equal(read_log(f), "10-ok\n20-fail\n");
}

static void
test_run_reports_death_by_signal_as_128_plus_n(void **state)
{
    struct fixture *f = *state;
    int status = -1;

    put_script(f, "/etc/rc.local", "kill -TERM $$", 0755);
    assert_int_equal(startup_run_in(f->root, &f->empty, f->envp, true, &status),
                     0);
    assert_int_equal(status, 128 + SIGTERM);
}

static void
test_run_reports_exec_failure_and_runs_scripts_without_shebang(void **state)
{
    struct fixture *f = *state;
    char dir[PATH_MAX];
    int status = -1;

    put_file(f, "/a/10-no-shebang", "echo plain >> \"$LOG\"\n", 0755);
    put_file(f, "/a/20-bad-interpreter", "#!/nonexistent/sh\n", 0755);
    put_script(f, "/a/30-never", "", 0755);
    snprintf(dir, sizeof(dir), "%s/a", f->root);
    assert_int_equal(startup_run_dir(dir, &f->empty, f->envp, &status), 0);
    assert_int_equal(status, 127);
    assert_string_equal(read_log(f), "plain\n");
}

static void
test_spawned_script_gets_clean_mask_dispositions_and_fds(void **state)
{
    struct fixture *f = *state;
    sigset_t block, old;
    struct sigaction ign, old_pipe;
    struct spawn_failure fail;
    int status = -1, fd;
    pid_t pid;
    char p[PATH_MAX];

    put_file(f,
             "/s",
             /* Only builtins: a forked grep would read the shell's status
              * while dash blocks every signal around its fork. */
             "#!/bin/sh\n"
             "while IFS= read -r l; do case $l in SigBlk:* | SigIgn:*)\n"
             "  printf '%s\\n' \"$l\" >> \"$LOG\";; esac; done "
             "< /proc/$$/status\n"
             "if [ -e /proc/$$/fd/7 ]; then echo fd7-leaked >> \"$LOG\"; fi\n",
             0755);
    snprintf(p, sizeof(p), "%s/s", f->root);
    /* What PID 1 looks like: signals blocked, one ignored, an fd open
     * without CLOEXEC. */
    sigfillset(&block);
    assert_int_equal(sigprocmask(SIG_SETMASK, &block, &old), 0);
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    assert_int_equal(sigaction(SIGPIPE, &ign, &old_pipe), 0);
    fd = open("/dev/null", O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, 7), 7);

    pid = startup_spawn(p, &f->empty, f->envp, &fail);
    assert_true(pid > 0);
    assert_int_equal(startup_wait(pid, &status), 0);

    close(7);
    close(fd);
    sigaction(SIGPIPE, &old_pipe, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    assert_int_equal(status, 0);
    assert_string_equal(read_log(f),
                        "SigBlk:\t0000000000000000\n"
                        "SigIgn:\t0000000000000000\n");
}

static void
test_run_reloads_environment_between_scripts(void **state)
{
    struct fixture *f = *state;
    int status = -1;

    assert_int_equal(environ_write_in(f->root, f->envp), 0);
    put_file(f,
             "/etc/airlock/init.d/10-set",
             "#!/bin/sh\n"
             "d=\"$(dirname \"$LOG\")/etc/container_environment\"\n"
             "echo 'hello world' > \"$d/NEWVAR\"\n",
             0755);
    put_file(f,
             "/etc/my_init.d/20-see",
             "#!/bin/sh\nprintf '[%s]\\n' \"$NEWVAR\" >> \"$LOG\"\n",
             0755);
    assert_int_equal(startup_run_in(f->root, &f->empty, f->envp, true, &status),
                     0);
    assert_int_equal(status, 0);
    assert_string_equal(read_log(f), "[hello world]\n");
}

static void
test_run_does_not_reload_unless_asked(void **state)
{
    struct fixture *f = *state;
    int status = -1;

    /* A directory baked into the image, not written by this start. */
    put_file(f, "/etc/container_environment/STALE", "from-image", 0600);
    put_file(f, "/etc/airlock/init.d/10-first", "#!/bin/sh\n", 0755);
    put_file(f,
             "/etc/airlock/init.d/20-see",
             "#!/bin/sh\nprintf '[%s]\\n' \"${STALE-unset}\" >> \"$LOG\"\n",
             0755);
    assert_int_equal(
        startup_run_in(f->root, &f->empty, f->envp, false, &status),
        0);
    assert_int_equal(status, 0);
    assert_string_equal(read_log(f), "[unset]\n");
}

/* docker stop while a startup script runs: PID 1 has SIGTERM blocked; the
 * script gets it, the start stops, the signal stays queued for the loop. */
static void
test_run_passes_a_stop_signal_to_the_running_script(void **state)
{
    struct fixture *f = *state;
    sigset_t term, old;
    struct timespec t0, t1, zero = {0, 0};
    int status = -1;
    pid_t sender;

    put_script(f,
               "/etc/airlock/init.d/10-slow",
               "trap 'kill $pid; echo got-term >> \"$LOG\"; exit 0' TERM\n"
               "sleep 30 & pid=$!\n"
               "echo started >> \"$LOG\"\n"
               "wait $pid",
               0755);
    put_script(f, "/etc/airlock/init.d/20-never", "", 0755);
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    assert_int_equal(sigprocmask(SIG_BLOCK, &term, &old), 0);

    sender = fork();
    assert_true(sender >= 0);
    if (sender == 0) {
        /* Once the script is waiting (bounded: 10 s), "docker stop". */
        for (int i = 0; i < 1000 && strstr(read_log(f), "started") == NULL;
             i++) {
            usleep(10000);
        }
        kill(getppid(), SIGTERM);
        _exit(0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(
        startup_run_in(f->root, &f->empty, f->envp, false, &status),
        0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(startup_wait(sender, &(int){0}), 0);

    /* The script exited 0 from its trap: the start still stops, 128+15. */
    assert_int_equal(status, 128 + SIGTERM);
    assert_string_equal(read_log(f), "10-slow\nstarted\ngot-term\n");
    assert_true(t1.tv_sec - t0.tv_sec < 10);
    /* Still queued for the main loop. */
    assert_int_equal(sigtimedwait(&term, NULL, &zero), SIGTERM);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_list_sorts_bytewise_skips_hidden_and_handles_missing,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_list_keeps_the_first_entries_when_over_the_bound,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_check_accepts_only_executable_regular_files,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_run_goes_init_d_then_my_init_d_then_rc_local,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_run_stops_at_the_first_failure_with_its_status,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_run_reports_death_by_signal_as_128_plus_n,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_run_reports_exec_failure_and_runs_scripts_without_shebang,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_spawned_script_gets_clean_mask_dispositions_and_fds,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_run_reloads_environment_between_scripts,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_run_does_not_reload_unless_asked,
                                        setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_run_passes_a_stop_signal_to_the_running_script,
            setup,
            teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
