/* Unit tests for src/common/spawn.c, the one spawn primitive: the error
 * pipe and the 126/127 convention, what the child keeps and loses (fds,
 * mask, dispositions), the SSH session's options (execve of a path with
 * its own argv[0] and environment, cwd falling back to "/", a pty as the
 * controlling terminal) and wait-status mapping. Real children only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/safeio.h"
#include "common/spawn.h"

/* Runs argv with o (stdout to a pipe), waits for it, and returns its
 * output in out (NUL-terminated) and its shell-style status. */
static int
run_capture(char *const argv[], struct spawn_opts *o, char *out, size_t size)
{
    struct spawn_failure fail;
    size_t len = 0;
    int p[2], st;
    pid_t pid;

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    o->stdout_fd = p[1];
    assert_int_equal(spawn_process(argv, o, &pid, &fail), 0);
    assert_int_equal(fail.err, 0);
    close(p[1]);
    assert_int_equal(read_all(p[0], out, size - 1, &len), 0);
    out[len] = '\0';
    close(p[0]);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return exit_code_from_status(st);
}

static void
test_spawn_missing_program_gives_enoent_and_127(void **state)
{
    char *argv[] = {"/nonexistent/airlock-no-such-program", NULL};
    struct spawn_opts o = {.stdout_fd = -1, .stderr_fd = -1};
    struct spawn_failure fail;
    pid_t pid = 0;
    (void)state;

    assert_int_equal(spawn_process(argv, &o, &pid, &fail), -ENOENT);
    assert_int_equal(fail.err, ENOENT);
    assert_int_equal(fail.status, SPAWN_EXIT_NOT_FOUND);
    assert_int_equal(pid, 0);
    /* The failed child was collected: nothing left to wait for. */
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
    /* The same through a PATH search. */
    argv[0] = "airlock-no-such-program";
    assert_int_equal(spawn_process(argv, &o, &pid, &fail), -ENOENT);
    assert_int_equal(fail.status, SPAWN_EXIT_NOT_FOUND);
}

static void
test_spawn_non_executable_gives_eacces_and_126(void **state)
{
    char file[] = "/tmp/airlock-spawn-XXXXXX";
    char *argv[] = {file, NULL};
    struct spawn_opts o = {.stdout_fd = -1, .stderr_fd = -1, .path = NULL};
    struct spawn_failure fail;
    pid_t pid = 0;
    int fd;
    (void)state;

    fd = mkstemp(file);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
    close(fd);
    assert_int_equal(chmod(file, 0644), 0);
    assert_int_equal(spawn_process(argv, &o, &pid, &fail), -EACCES);
    assert_int_equal(fail.err, EACCES);
    assert_int_equal(fail.status, SPAWN_EXIT_NOEXEC);
    /* A directory is found but not runnable either. */
    argv[0] = "/";
    assert_int_equal(spawn_process(argv, &o, &pid, &fail), -EACCES);
    assert_int_equal(fail.status, SPAWN_EXIT_NOEXEC);
    unlink(file);
}

/* execvp's EACCES can mean "a PATH directory could not be searched"
 * while the command is nowhere: still 127, as a shell says. ENOENT is
 * 127 even for a file that exists (its #! interpreter does not). */
static void
test_spawn_exec_status_looks_the_command_up(void **state)
{
    const char *old = getenv("PATH");
    char *saved = old != NULL ? strdup(old) : NULL;
    (void)state;

    assert_int_equal(setenv("PATH", "/nonexistent-a:/bin:/usr/bin", 1), 0);
    assert_int_equal(spawn_exec_status("sh", EACCES), SPAWN_EXIT_NOEXEC);
    assert_int_equal(spawn_exec_status("airlock-no-such-program", EACCES),
                     SPAWN_EXIT_NOT_FOUND);
    assert_int_equal(spawn_exec_status("sh", ENOENT), SPAWN_EXIT_NOT_FOUND);
    assert_int_equal(spawn_exec_status("sh", ENOEXEC), SPAWN_EXIT_NOEXEC);
    assert_int_equal(spawn_exec_status("/bin/sh", EACCES), SPAWN_EXIT_NOEXEC);
    assert_int_equal(spawn_exec_status("/nonexistent/x", EACCES),
                     SPAWN_EXIT_NOT_FOUND);
    /* A directory in PATH is not a command found there. */
    assert_int_equal(setenv("PATH", "/", 1), 0);
    assert_int_equal(spawn_exec_status("tmp", EACCES), SPAWN_EXIT_NOT_FOUND);
    if (saved != NULL) {
        assert_int_equal(setenv("PATH", saved, 1), 0);
        free(saved);
    } else {
        unsetenv("PATH");
    }
}

/* Every fd above 2 is closed in the child, whether close-on-exec or not,
 * except those passed on, which arrive without close-on-exec. */
static void
test_spawn_closes_fds_above_2_except_passed(void **state)
{
    char cmd[128], out[64];
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct spawn_opts o = {.stderr_fd = -1};
    int leaked, passed;
    (void)state;

    leaked = open("/dev/null", O_RDONLY); /* no O_CLOEXEC */
    passed = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(leaked > 2 && passed > 2);
    o.pass_fds = &passed;
    o.npass_fds = 1;
    snprintf(cmd,
             sizeof(cmd),
             "test ! -e /proc/self/fd/%d && test -e /proc/self/fd/%d && "
             "echo ok",
             leaked,
             passed);
    assert_int_equal(run_capture(argv, &o, out, sizeof(out)), 0);
    assert_string_equal(out, "ok\n");
    /* The parent's own flag is untouched. */
    assert_true((fcntl(passed, F_GETFD) & FD_CLOEXEC) != 0);
    close(leaked);
    close(passed);
}

/* What PID 1 and the SSH connection process look like (everything
 * blocked, SIGPIPE ignored) does not reach the program: the mask is
 * child_mask (NULL: empty), every disposition is the default. */
static void
test_spawn_resets_mask_and_dispositions(void **state)
{
    char *argv[] = {"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status", NULL};
    struct spawn_opts o = {.stderr_fd = -1};
    struct sigaction ign, old_pipe;
    sigset_t all, old, one;
    char out[256];
    (void)state;

    sigfillset(&all);
    assert_int_equal(sigprocmask(SIG_SETMASK, &all, &old), 0);
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    assert_int_equal(sigaction(SIGPIPE, &ign, &old_pipe), 0);

    assert_int_equal(run_capture(argv, &o, out, sizeof(out)), 0);
    assert_string_equal(out,
                        "SigBlk:\t0000000000000000\n"
                        "SigIgn:\t0000000000000000\n");
    /* An explicit mask is what the program gets. */
    sigemptyset(&one);
    sigaddset(&one, SIGUSR1);
    o.child_mask = &one;
    assert_int_equal(run_capture(argv, &o, out, sizeof(out)), 0);
    assert_string_equal(out,
                        "SigBlk:\t0000000000000200\n"
                        "SigIgn:\t0000000000000000\n");

    sigaction(SIGPIPE, &old_pipe, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* The SSH session's way: execve of a path with an argv[0] of its own and
 * only the given environment; a home that cannot be entered falls back to
 * "/" with cwd_or_root, and fails the spawn (status 127) without it. */
static void
test_spawn_path_envp_and_cwd_fallback(void **state)
{
    char *argv[] = {"renamed", "-c", "echo \"$0 $A ${HOME-unset}\"; pwd", NULL};
    char *envp[] = {"A=1", NULL};
    struct spawn_opts o = {
        .stderr_fd = -1,
        .path = "/bin/sh",
        .envp = envp,
        .cwd = "/nonexistent/home",
        .cwd_or_root = true,
    };
    struct spawn_failure fail;
    char out[128];
    pid_t pid = 0;
    (void)state;

    assert_int_equal(run_capture(argv, &o, out, sizeof(out)), 0);
    assert_string_equal(out, "renamed 1 unset\n/\n");
    o.cwd_or_root = false;
    o.stdout_fd = -1;
    assert_int_equal(spawn_process(argv, &o, &pid, &fail), -ENOENT);
    assert_int_equal(fail.status, SPAWN_EXIT_NOT_FOUND);
    /* path is not searched: a bare name is relative to the cwd. */
    o.path = "sh";
    o.cwd = "/nonexistent";
    o.cwd_or_root = true;
    assert_int_equal(spawn_process(argv, &o, &pid, &fail), -ENOENT);
}

/* With set_ctty the pty is the new session's controlling terminal, so
 * /dev/tty opens; without it, it does not. */
static void
test_spawn_pty_becomes_controlling_terminal(void **state)
{
    char *argv[] = {
        "/bin/sh",
        "-c",
        "if true </dev/tty 2>/dev/null; then echo ctty; else echo none; fi",
        NULL};
    struct spawn_opts o = {.group = SPAWN_NEW_SESSION};
    struct spawn_failure fail;
    char buf[256];
    size_t len = 0;
    int master, slave, st;
    pid_t pid;
    (void)state;

    for (int with = 1; with >= 0; with--) {
        assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
        (void)fcntl(master, F_SETFD, FD_CLOEXEC);
        (void)fcntl(slave, F_SETFD, FD_CLOEXEC);
        o.set_ctty = with;
        o.stdin_fd = o.stdout_fd = o.stderr_fd = slave;
        assert_int_equal(spawn_process(argv, &o, &pid, &fail), 0);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_int_equal(exit_code_from_status(st), 0);
        /* The child is gone and our slave keeps the pty from hanging
         * up: what it wrote is buffered, read it without blocking. */
        (void)fcntl(master, F_SETFL, O_NONBLOCK);
        len = 0;
        for (;;) {
            ssize_t n = read(master, buf + len, sizeof(buf) - 1 - len);
            if (n <= 0) {
                break;
            }
            len += (size_t)n;
        }
        buf[len] = '\0';
        assert_non_null(strstr(buf, with ? "ctty" : "none"));
        assert_null(strstr(buf, with ? "none" : "ctty"));
        close(slave);
        close(master);
    }
}

static void
test_exit_code_from_status(void **state)
{
    (void)state;
    /* Build real wait statuses from real children. */
    for (int code = 0; code < 256; code += 51) {
        int st;
        pid_t pid = fork();
        if (pid == 0) {
            _exit(code);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_int_equal(exit_code_from_status(st), code);
    }
    {
        int st;
        pid_t pid = fork();
        if (pid == 0) {
            raise(SIGKILL);
            _exit(0);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_int_equal(exit_code_from_status(st), 128 + SIGKILL);
    }
}

/* The child runs in our memory until it execs (CLONE_VM | CLONE_VFORK):
 * its LISTEN_PID write leaves our copy as it was, our own memory is
 * intact, and a script without #! given 20,000 arguments (execvp copies
 * argv onto the child's stack to run it with /bin/sh) still runs. */
static void
test_spawn_shares_nothing_the_child_writes_and_fits_a_huge_argv(void **state)
{
    char slot_env[32] = "LISTEN_PID=placeholder";
    char *envp[] = {slot_env, "PATH=/usr/bin:/bin", NULL};
    char *argv1[] = {"/bin/sh", "-c", "printf %s \"$LISTEN_PID\"", NULL};
    struct spawn_opts o = {.stdout_fd = -1, .stderr_fd = -1, .envp = envp};
    char file[] = "/tmp/airlock-spawn-XXXXXX";
    enum { NARGS = 20000 };
    char **argv2 = calloc(NARGS + 2, sizeof(*argv2));
    char out[64], mypid[16];
    int fd;
    (void)state;

    o.pid_slot = slot_env + strlen("LISTEN_PID=");
    assert_int_equal(run_capture(argv1, &o, out, sizeof(out)), 0);
    /* The child saw a number (its pid), we still see ours. */
    assert_true(out[0] >= '1' && out[0] <= '9');
    snprintf(mypid, sizeof(mypid), "%d", (int)getpid());
    assert_string_not_equal(out, mypid);
    assert_string_equal(slot_env, "LISTEN_PID=placeholder");

    fd = mkstemp(file);
    assert_true(fd >= 0);
    assert_int_equal(write_all(fd, "echo $#\n", 8), 0);
    assert_int_equal(fchmod(fd, 0755), 0);
    assert_int_equal(close(fd), 0);
    assert_non_null(argv2);
    argv2[0] = file;
    for (int i = 1; i <= NARGS; i++) {
        argv2[i] = "x";
    }
    memset(&o, 0, sizeof(o));
    o.stdout_fd = o.stderr_fd = -1;
    assert_int_equal(run_capture(argv2, &o, out, sizeof(out)), 0);
    assert_string_equal(out, "20000\n");
    unlink(file);
    free(argv2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spawn_missing_program_gives_enoent_and_127),
        cmocka_unit_test(test_spawn_non_executable_gives_eacces_and_126),
        cmocka_unit_test(test_spawn_exec_status_looks_the_command_up),
        cmocka_unit_test(test_spawn_closes_fds_above_2_except_passed),
        cmocka_unit_test(test_spawn_resets_mask_and_dispositions),
        cmocka_unit_test(test_spawn_path_envp_and_cwd_fallback),
        cmocka_unit_test(test_spawn_pty_becomes_controlling_terminal),
        cmocka_unit_test(
            test_spawn_shares_nothing_the_child_writes_and_fits_a_huge_argv),
        cmocka_unit_test(test_exit_code_from_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
