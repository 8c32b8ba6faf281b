/* Starting processes from PID 1: fork + exec with only async-signal-safe
 * work in the child, and the mapping of wait statuses to exit codes. */
#ifndef AIRLOCK_INIT_SPAWN_H
#define AIRLOCK_INIT_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

enum spawn_group {
    SPAWN_SAME_GROUP = 0,
    SPAWN_NEW_GROUP,   /* setpgid(0, 0): the app, signals to -pgid */
    SPAWN_NEW_SESSION, /* setsid(): services, hooks */
};

struct spawn_opts {
    const sigset_t *child_mask; /* mask to restore before exec */
    enum spawn_group group;
    bool take_tty;     /* make the new group the terminal's foreground */
    int stdout_fd;     /* -1: inherit */
    int stderr_fd;     /* -1: inherit */
    char *const *envp; /* NULL: the current environment */
    const char *cwd;   /* NULL: unchanged */
};

/* Forks and execs argv[0] (PATH search). Returns 0 and the pid, or -errno
 * when fork failed (-EAGAIN under a pids limit) or exec failed (then the
 * child has been reaped and *ret_exec_errno holds exec's errno, so the
 * caller can log it). */
int spawn_process(char *const argv[],
                  const struct spawn_opts *opts,
                  pid_t *ret_pid,
                  int *ret_exec_errno);

/* The shell's convention: the exit code, or 128+N for death by signal N. */
int exit_code_from_status(int wstatus);

#endif
