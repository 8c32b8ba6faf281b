/* Starting processes: fork + exec with only async-signal-safe work in the
 * child, exec failures reported through a close-on-exec error pipe, and
 * the shell's exit-status conventions. The one spawn primitive
 * (style.md 3.11): PID 1's app, services, hooks, finish and check
 * scripts and startup scripts, and the SSH sessions all start through
 * spawn_process. libc only, so PID 1 links it. */
#ifndef AIRLOCK_COMMON_SPAWN_H
#define AIRLOCK_COMMON_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SPAWN_PASS_FDS_MAX 256

/* Exit statuses for a program that could not be run, as the shell
 * reports them (POSIX "Shell Command Language" 2.8.2, "Exit Status for
 * Commands"): not found, and found but not executable. */
#define SPAWN_EXIT_NOT_FOUND 127
#define SPAWN_EXIT_NOEXEC    126

enum spawn_group {
    SPAWN_SAME_GROUP = 0,
    SPAWN_NEW_GROUP,   /* setpgid(0, 0): the app, signals to -pgid */
    SPAWN_NEW_SESSION, /* setsid(): services, hooks, SSH sessions */
};

/* Room a pid_slot must have: 10 digits and a NUL. */
#define SPAWN_PID_SLOT_LEN 11

struct spawn_opts {
    /* Mask to set before exec; NULL: the empty mask (nothing blocked).
     * Every disposition goes back to SIG_DFL either way. */
    const sigset_t *child_mask;
    enum spawn_group group;
    bool take_tty; /* SPAWN_NEW_GROUP: make it the terminal's foreground */
    /* SPAWN_NEW_SESSION: stdin (after stdin_fd is in place) becomes the
     * new session's controlling terminal (TIOCSCTTY), as for a pty. */
    bool set_ctty;
    int stdin_fd;  /* 0 (what a zeroed struct says): inherit */
    int stdout_fd; /* -1: inherit */
    int stderr_fd; /* -1: inherit */
    /* NULL: argv[0] is searched in PATH (execvp). Otherwise the file to
     * run, with no search (execve), argv[0] being only its name for the
     * program (a login shell's "-sh"). */
    const char *path;
    char *const *envp; /* NULL: the current environment */
    const char *cwd;   /* NULL: unchanged */
    bool cwd_or_root;  /* cwd cannot be entered: "/" instead of failing */
    /* fds above 2 the program gets, as they are (close-on-exec cleared);
     * every other fd above 2 is closed. At most SPAWN_PASS_FDS_MAX. */
    const int *pass_fds;
    size_t npass_fds;
    /* s6's notification-fd: notify_from (a pipe's write end) is given to
     * the program as fd notify_to (above 2; 0: none). */
    int notify_from;
    int notify_to;
    /* NULL, or a place inside an envp string where the child writes its
     * own pid in decimal and a NUL (room for SPAWN_PID_SLOT_LEN bytes):
     * LISTEN_PID. The caller's copy is left as it was. */
    char *pid_slot;
};

/* Why a child could not run its program. */
struct spawn_failure {
    int err;    /* errno of exec, or of the step before it that failed;
                 * 0: the child ran (or was never forked) */
    int status; /* the status the child exited with for it: 126 or 127,
                 * spawn_exec_status() in the child's own context (cwd,
                 * PATH); 0 when err is 0 */
};

/* Forks and execs argv (see opts->path). In the child, in this order:
 * the new group or session (and the terminal), stdio, the working
 * directory, the notification fd, every other fd above 2 closed, default
 * dispositions and the mask, exec. Returns 0 and *ret_pid, or -errno:
 * fork's (-EAGAIN under a pids limit, -ENOMEM), or the child's. When the
 * child failed (exec, or a step before it), its errno came back through
 * a close-on-exec pipe, the child has been reaped already (the caller
 * never sees a pid for a program that never ran) and *ret_fail says why
 * and with which status; the caller logs it. Without fds for that pipe
 * (EMFILE) the child still runs, and a failure only shows as its exit
 * status, 126 or 127. */
int spawn_process(char *const argv[],
                  const struct spawn_opts *opts,
                  pid_t *ret_pid,
                  struct spawn_failure *ret_fail);

/* The exit status for a program that could not be run, err being exec's
 * errno (or that of a step before it): SPAWN_EXIT_NOT_FOUND (127) when
 * err is ENOENT (no such file, or no #! interpreter it names, as bash and
 * dash report it) or when file cannot be found at all (execvp reports
 * EACCES when a PATH directory cannot be searched, even if file is in
 * none of them); SPAWN_EXIT_NOEXEC (126) otherwise. file without a '/'
 * is looked for in $PATH (or "/bin:/usr/bin") as a regular file, as
 * execvp does. Async-signal-safe: the child of fork calls it too. */
int spawn_exec_status(const char *file, int err);

/* A copy of envp's pointer array with entry ("NAME=value") in place of
 * NAME's entries, or added at the end; the strings stay the caller's
 * (entry included). NULL on ENOMEM. Free the array with free(). */
char **spawn_env_with(char *const *envp, const char *entry);

/* The shell's convention for a wait(2) status: the exit code, or 128+N
 * for death by signal N (POSIX 2.8.2); 255 for anything else. */
int exit_code_from_status(int wstatus);

#endif
