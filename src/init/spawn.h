/* Starting processes from PID 1: fork + exec with only async-signal-safe
 * work in the child, and the mapping of wait statuses to exit codes. */
#ifndef AIRLOCK_INIT_SPAWN_H
#define AIRLOCK_INIT_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SPAWN_PASS_FDS_MAX 256

enum spawn_group {
    SPAWN_SAME_GROUP = 0,
    SPAWN_NEW_GROUP,   /* setpgid(0, 0): the app, signals to -pgid */
    SPAWN_NEW_SESSION, /* setsid(): services, hooks */
};

struct spawn_opts {
    const sigset_t *child_mask; /* mask to restore before exec */
    enum spawn_group group;
    bool take_tty;     /* make the new group the terminal's foreground */
    int stdin_fd;      /* 0 (what a zeroed struct says): inherit */
    int stdout_fd;     /* -1: inherit */
    int stderr_fd;     /* -1: inherit */
    char *const *envp; /* NULL: the current environment */
    const char *cwd;   /* NULL: unchanged */
    /* fds above 2 the program gets, as they are (close-on-exec cleared);
     * every other fd above 2 is closed. At most SPAWN_PASS_FDS_MAX. */
    const int *pass_fds;
    size_t npass_fds;
    /* s6's notification-fd: notify_from (a pipe's write end) is given to
     * the program as fd notify_to (above 2; 0: none). */
    int notify_from;
    int notify_to;
    /* NULL, or a place inside an envp string where the child writes its
     * own pid in decimal and a NUL (room for 11 bytes): LISTEN_PID. */
    char *pid_slot;
};

/* Forks and execs argv[0] (PATH search). Returns 0 and the pid, or -errno
 * when fork failed (-EAGAIN under a pids limit) or exec failed (then the
 * child has been reaped and *ret_exec_errno holds exec's errno, so the
 * caller can log it). */
int spawn_process(char *const argv[],
                  const struct spawn_opts *opts,
                  pid_t *ret_pid,
                  int *ret_exec_errno);

/* A copy of envp's pointer array with entry ("NAME=value") in place of
 * NAME's entries, or added at the end; the strings stay the caller's
 * (entry included). NULL on ENOMEM. Free the array with free(). */
char **spawn_env_with(char *const *envp, const char *entry);

/* The shell's convention: the exit code, or 128+N for death by signal N. */
int exit_code_from_status(int wstatus);

#endif
