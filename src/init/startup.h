/* Startup scripts: the entries of /etc/airlock/init.d/, then (phusion
 * compatibility) those of /etc/my_init.d/ and /etc/rc.local, under
 * AIRLOCK_ROOT, run one at a time before services and the app. The listing and
 * spawning parts are exposed on their own so the main loop can run shutdown
 * hooks without blocking. */
#ifndef AIRLOCK_INIT_STARTUP_H
#define AIRLOCK_INIT_STARTUP_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/spawn.h"

/* Entries taken from one directory, at most (the first in strcmp order). */
#define STARTUP_MAX_ENTRIES 1024
/* fork() attempts under EAGAIN (a pids cgroup limit), the first pause
 * between them and its cap; it doubles each time (backoff_next:
 * 10 ms ... 640 ms, 1.27 s in all). */
#define STARTUP_FORK_TRIES        8
#define STARTUP_FORK_DELAY_MS     10
#define STARTUP_FORK_DELAY_MAX_MS 1280

/* Lists dir's entry names in strcmp (C locale) order into names[0..max),
 * leaving out "." ".." and hidden names (leading '.', e.g. the "..data"
 * links of a Kubernetes ConfigMap mount). A missing directory is an empty
 * list. More than max entries: the first max in order are kept and a
 * warning is logged. Returns 0 or -errno; *ret_n is the count. */
int startup_list(const char *dir,
                 char (*names)[NAME_MAX + 1],
                 size_t max,
                 size_t *ret_n);

/* 0 when path (symlinks followed) is a regular file this process may
 * execute; otherwise a negative errno and *ret_reason a static phrase for
 * the log ("not a regular file", "not executable", "cannot stat"). */
int startup_check(const char *path, const char **ret_reason);

/* Forks and execs path with no arguments and envp (NULL: the current
 * environment), in the caller's process group and session, stdio
 * inherited. The child restores child_mask and default signal dispositions
 * and closes every fd above 2 before exec; a file without a #! line is run
 * by /bin/sh, as execvp does. Returns the pid (the caller reaps it), or
 * -errno: fork's (-EAGAIN under a pids limit; no retry here, so it never
 * sleeps) or exec's (that child has already been reaped, and *ret_fail
 * holds exec's errno and the status, 126 or 127, as spawn_process). */
pid_t startup_spawn(const char *path,
                    const sigset_t *child_mask,
                    char *const envp[],
                    struct spawn_failure *ret_fail);

/* Blocks until pid exits (waitpid on that pid only, EINTR retried) and
 * gives its shell-style status: the exit code, or 128+N for signal N.
 * Returns 0 or -errno. */
int startup_wait(pid_t pid, int *ret_status);

/* Runs every runnable entry of dir in order, each to completion, logging
 * the ones skipped and why. Stops at the first that fails (exit code not
 * 0, killed by a signal, cannot be executed), logging its path and status.
 * While a script runs, a pending SIGTERM, SIGINT, SIGQUIT or SIGHUP that
 * this process blocks (docker stop, Ctrl-C) is passed on to the script and
 * stops the start (status: the script's, or 128+N if it exited 0); the
 * signal stays queued for the main loop.
 * Returns 0 with *ret_status 0 (all ran) or the failed one's status; -errno
 * when listing fails or fork keeps failing. Blocks: for the startup phase
 * only. */
int startup_run_dir(const char *dir,
                    const sigset_t *child_mask,
                    char *const envp[],
                    int *ret_status);

/* Could the startup phase under root run anything: a visible entry in
 * init.d or my_init.d, or an /etc/rc.local? true also when it cannot
 * tell. Cheap (two opendir, one lstat): decides whether the container
 * environment must be written before the app starts. */
bool startup_any(const char *root);

/* The whole startup phase: init.d, my_init.d, rc.local under AIRLOCK_ROOT.
 * envp is what environ_write got; the first script runs with it. With
 * reload_env (pass true only when environ_write succeeded, or a stale
 * directory from the image would be read), the environment is read back
 * from ENV_ROOT/etc/container_environment/ after each script
 * (environ_load_in), so a script sees what earlier ones set there, as with
 * phusion's my_init. env_root is where it was written: NULL for
 * AIRLOCK_ROOT, or the run dir when /etc cannot be written.
 * *ret_envp is the environment as the last script left it, for the
 * services and the app (free it with environ_free), or NULL when no script
 * ran or reload_env is false: then envp stands. Returns as
 * startup_run_dir. */
int startup_run(const char *env_root,
                const sigset_t *child_mask,
                char *const envp[],
                bool reload_env,
                int *ret_status,
                char ***ret_envp);
int startup_run_in(const char *root,
                   const sigset_t *child_mask,
                   char *const envp[],
                   bool reload_env,
                   int *ret_status);

#endif
