#include "init/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/safeio.h"
#include "common/sigutil.h"

int
exit_code_from_status(int wstatus)
{
    if (WIFEXITED(wstatus)) {
        return WEXITSTATUS(wstatus);
    }
    if (WIFSIGNALED(wstatus)) {
        return 128 + WTERMSIG(wstatus);
    }
    return 255;
}

/* Copies pointers only: the environment strings can be large, and the
 * copy lives as long as airlock does. */
char **
spawn_env_with(char *const *envp, const char *entry)
{
    size_t name_len = strcspn(entry, "=") + 1, n = 0, out = 0;
    char **copy;

    while (envp != NULL && envp[n] != NULL) {
        n++;
    }
    copy = calloc(n + 2, sizeof(*copy));
    if (copy == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (strncmp(envp[i], entry, name_len) != 0) {
            copy[out++] = envp[i];
        }
    }
    copy[out] = (char *)entry;
    return copy;
}

/* Writes pid in decimal and a NUL at slot; async-signal-safe (no printf
 * after fork). */
static void
write_pid(char *slot, pid_t pid)
{
    char digits[12];
    size_t i = sizeof(digits);
    unsigned long v = (unsigned long)pid;

    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 && i > 0);
    memcpy(slot, digits + i, sizeof(digits) - i);
    slot[sizeof(digits) - i] = '\0';
}

/* Closes every fd above 2 but errpipe and the ones passed on, and clears
 * close-on-exec on those, which PID 1 set so no other child gets them. */
static void
child_close_fds(const struct spawn_opts *o, int errpipe)
{
    int keep[SPAWN_PASS_FDS_MAX + 2];
    size_t n = 0;

    for (size_t i = 0; i < o->npass_fds && n < SPAWN_PASS_FDS_MAX; i++) {
        keep[n++] = o->pass_fds[i];
    }
    if (o->notify_to > STDERR_FILENO) {
        keep[n++] = o->notify_to;
    }
    keep[n++] = errpipe;
    /* close_range() where the kernel has it: one syscall per span
     * between kept fds, however high RLIMIT_NOFILE is. */
    close_fds_from(STDERR_FILENO + 1, keep, n);
    for (size_t i = 0; i + 1 < n; i++) {
        (void)fcntl(keep[i], F_SETFD, 0);
    }
}

/* The child half. Only async-signal-safe calls until exec; never returns. */
static void
child_exec(char *const argv[], const struct spawn_opts *o, int errpipe)
{
    int err;

    if (o->group == SPAWN_NEW_SESSION) {
        (void)setsid();
    } else if (o->group == SPAWN_NEW_GROUP) {
        (void)setpgid(0, 0);
        /* While signals are still blocked: tcsetpgrp from a background
         * group would otherwise stop us with SIGTTOU. */
        if (o->take_tty && isatty(STDIN_FILENO)) {
            (void)tcsetpgrp(STDIN_FILENO, getpid());
        }
    }
    if (o->stdin_fd > 0 && dup2(o->stdin_fd, STDIN_FILENO) < 0) {
        goto fail;
    }
    if (o->stdout_fd >= 0 && dup2(o->stdout_fd, STDOUT_FILENO) < 0) {
        goto fail;
    }
    if (o->stderr_fd >= 0 && dup2(o->stderr_fd, STDERR_FILENO) < 0) {
        goto fail;
    }
    if (o->cwd != NULL && chdir(o->cwd) < 0) {
        goto fail;
    }
    if (o->notify_to > STDERR_FILENO) {
        /* The error pipe must not be the number the program expects its
         * notification fd at: move it out of the way first. */
        if (errpipe == o->notify_to) {
            errpipe = fcntl(errpipe, F_DUPFD_CLOEXEC, o->notify_to + 1);
        }
        if (o->notify_from != o->notify_to &&
            dup2(o->notify_from, o->notify_to) < 0) {
            goto fail;
        }
    }
    /* Nothing of PID 1's but stdio (and, for the app, what airlock
     * inherited) reaches the program. */
    child_close_fds(o, errpipe);
    if (o->pid_slot != NULL) {
        write_pid(o->pid_slot, getpid());
    }
    signals_reset_default();
    (void)sigprocmask(SIG_SETMASK, o->child_mask, NULL);
    if (o->envp != NULL) {
        execvpe(argv[0], argv, o->envp);
    } else {
        execvp(argv[0], argv);
    }
fail:
    err = errno;
    if (errpipe >= 0) {
        (void)write_all(errpipe, &err, sizeof(err));
    }
    _exit(err == ENOENT ? 127 : 126);
}

static void
close_pipe(const int p[2])
{
    if (p[0] >= 0) {
        (void)close(p[0]);
        (void)close(p[1]);
    }
}

int
spawn_process(char *const argv[],
              const struct spawn_opts *opts,
              pid_t *ret_pid,
              int *ret_exec_errno)
{
    int pipefd[2];
    int child_errno = 0;
    size_t got = 0;
    pid_t pid;

    *ret_exec_errno = 0;
    /* CLOEXEC pipe: it closes empty on a successful exec, or carries
     * exec's errno, so the caller learns "not found" with a clear line. */
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        /* Out of fds: still start the program; an exec failure then only
         * shows as status 126/127. */
        if (errno != EMFILE && errno != ENFILE) {
            return -errno;
        }
        pipefd[0] = pipefd[1] = -1;
    }
    pid = fork();
    if (pid < 0) {
        int r = -errno;
        close_pipe(pipefd);
        return r;
    }
    if (pid == 0) {
        if (pipefd[0] >= 0) {
            (void)close(pipefd[0]);
        }
        child_exec(argv, opts, pipefd[1]);
    }
    if (pipefd[0] >= 0) {
        (void)close(pipefd[1]);
        (void)read_all(pipefd[0], &child_errno, sizeof(child_errno), &got);
        (void)close(pipefd[0]);
    }
    if (got == sizeof(child_errno)) {
        /* Exec failed: the child exits at once; collect it here so the
         * caller never sees a pid for a process that never ran. */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        *ret_exec_errno = child_errno;
        return -child_errno;
    }
    *ret_pid = pid;
    return 0;
}
