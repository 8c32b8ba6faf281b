#include "init/startup.h"
#include "common/backoff.h"
#include "common/spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/safeio.h"
#include "common/strutil.h"
#include "init/environ.h"

extern char **environ;

/* Inserts name into the sorted names[0..*n) of capacity max. When full,
 * the entry that sorts last is dropped (name itself, or the one it pushes
 * off the end). Returns false when something was dropped. */
static bool
insert_sorted(char (*names)[NAME_MAX + 1],
              size_t max,
              size_t *n,
              const char *name)
{
    size_t lo = 0, hi = *n, keep;

    if (max == 0 || (*n == max && strcmp(name, names[max - 1]) >= 0)) {
        return false;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(names[mid], name) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    keep = *n == max ? max - 1 : *n;
    memmove(names[lo + 1], names[lo], (keep - lo) * sizeof(names[0]));
    /* d_name holds at most NAME_MAX bytes: it always fits. */
    (void)copy_string(names[lo], sizeof(names[lo]), name);
    if (*n < max) {
        (*n)++;
        return true;
    }
    return false;
}

int
startup_list(const char *dir,
             char (*names)[NAME_MAX + 1],
             size_t max,
             size_t *ret_n)
{
    DIR *d;
    struct dirent *de;
    size_t n = 0, dropped = 0;

    d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT || errno == ENOTDIR) {
            *ret_n = 0;
            return 0;
        }
        return -errno;
    }
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (de == NULL) {
            break;
        }
        if (de->d_name[0] == '.') {
            continue;
        }
        if (!insert_sorted(names, max, &n, de->d_name)) {
            dropped++;
        }
    }
    if (errno != 0) {
        int r = -errno;
        (void)closedir(d);
        return r;
    }
    (void)closedir(d);
    if (dropped > 0) {
        log_warn("startup: more than %zu entries in '%s', ignoring the last "
                 "%zu in order",
                 max,
                 dir,
                 dropped);
    }
    *ret_n = n;
    return 0;
}

int
startup_check(const char *path, const char **ret_reason)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        *ret_reason = "cannot stat";
        return -errno;
    }
    if (!S_ISREG(st.st_mode)) {
        *ret_reason = "not a regular file";
        return -EINVAL;
    }
    /* access() also says no on a noexec mount, and for a non-root airlock
     * it checks the bits that apply to us; root passes it with any x bit,
     * hence the explicit mode test. */
    if ((st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0 ||
        access(path, X_OK) < 0) {
        *ret_reason = "not executable";
        return -EACCES;
    }
    return 0;
}

pid_t
startup_spawn(const char *path,
              const sigset_t *child_mask,
              char *const envp[],
              struct spawn_failure *ret_fail)
{
    char *argv[] = {(char *)path, NULL};
    struct spawn_opts o = {
        .child_mask = child_mask,
        .group = SPAWN_SAME_GROUP,
        .stdout_fd = -1,
        .stderr_fd = -1,
        .envp = envp,
    };
    int r;
    pid_t pid;

    r = spawn_process(argv, &o, &pid, ret_fail);
    return r < 0 ? r : pid;
}

int
startup_wait(pid_t pid, int *ret_status)
{
    int st;

    for (;;) {
        pid_t r = waitpid(pid, &st, 0);
        if (r == pid) {
            break;
        }
        if (r < 0 && errno != EINTR) {
            return -errno;
        }
    }
    *ret_status = exit_code_from_status(st);
    return 0;
}

/* Signals that mean "stop the container": docker stop, Ctrl-C, ... */
static const int stop_signals[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP};

/* Waits for pid as startup_wait does, but when a stop signal is pending for
 * this process, passes it on to the script once, so `docker stop` during a
 * slow script ends it now instead of at Docker's SIGKILL 10 s later. Only
 * signals we block are watched (they stay queued for the main loop: this
 * never reads them), through a signalfd of our own, next to a pidfd for
 * the script. *ret_stop_sig is the signal passed on, or 0. Without pidfd
 * (Linux < 5.3) it is a plain blocking wait. */
static int
wait_forwarding(pid_t pid, int *ret_status, int *ret_stop_sig)
{
    sigset_t watch, blocked;
    int pidfd = -1, sfd = -1, nwatch = 0;

    *ret_stop_sig = 0;
    sigemptyset(&watch);
    if (sigprocmask(SIG_BLOCK, NULL, &blocked) == 0) {
        for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]);
             i++) {
            if (sigismember(&blocked, stop_signals[i]) == 1) {
                sigaddset(&watch, stop_signals[i]);
                nwatch++;
            }
        }
    }
    if (nwatch > 0) {
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        sfd = signalfd(-1, &watch, SFD_NONBLOCK | SFD_CLOEXEC);
    }
    while (pidfd >= 0 && sfd >= 0) {
        struct pollfd p[2] = {{pidfd, POLLIN, 0}, {sfd, POLLIN, 0}};
        /* After forwarding, the signal stays pending: stop watching it. */
        nfds_t n = *ret_stop_sig == 0 ? 2 : 1;
        sigset_t pending;

        if (poll(p, n, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (p[0].revents != 0) {
            break;
        }
        if (n == 2 && (p[1].revents & POLLIN) != 0 &&
            sigpending(&pending) == 0) {
            for (size_t i = 0;
                 i < sizeof(stop_signals) / sizeof(stop_signals[0]);
                 i++) {
                int sig = stop_signals[i];
                if (sigismember(&watch, sig) == 1 &&
                    sigismember(&pending, sig) == 1) {
                    (void)kill(pid, sig);
                    *ret_stop_sig = sig;
                    break;
                }
            }
            if (*ret_stop_sig == 0) {
                /* Readable yet nothing pending: never spin on it. */
                break;
            }
        }
    }
    if (pidfd >= 0) {
        (void)close(pidfd);
    }
    if (sfd >= 0) {
        (void)close(sfd);
    }
    return startup_wait(pid, ret_status);
}

static void
sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* What the startup phase carries from one script to the next. */
struct run_ctx {
    const char *root;       /* NULL: environment not reloaded */
    const sigset_t *mask;   /* restored in each script */
    char *const *orig_envp; /* what environ_write got */
    char **loaded;          /* environ_load's latest result, owned */
};

static char *const *
ctx_envp(const struct run_ctx *ctx)
{
    return ctx->loaded != NULL ? ctx->loaded : ctx->orig_envp;
}

/* Re-reads /etc/container_environment after a script, so the next one
 * sees its changes. Without a directory (environ_write failed, e.g. a
 * read-only /etc) the environment simply stays as it was. */
static void
ctx_reload(struct run_ctx *ctx)
{
    char **envp = NULL;
    int r;

    if (ctx->root == NULL) {
        return;
    }
    r = environ_load_in(ctx->root, ctx->orig_envp, &envp);
    if (r < 0) {
        log_debug("startup: environment not reloaded: %s", strerror(-r));
        return;
    }
    (void)environ_free(ctx->loaded);
    ctx->loaded = envp;
}

/* Runs one script to completion; 0 with *ret_status, or -errno when fork
 * keeps failing. */
static int
run_one(const char *path, struct run_ctx *ctx, int *ret_status)
{
    uint64_t delay = 0;
    struct spawn_failure fail = {0, 0};
    pid_t pid = -EAGAIN;
    int status = 0, stop_sig = 0, r;

    log_info("startup: running '%s'", path);
    for (int i = 0; i < STARTUP_FORK_TRIES; i++) {
        pid = startup_spawn(path, ctx->mask, ctx_envp(ctx), &fail);
        if (pid != -EAGAIN) {
            break;
        }
        /* Before the main loop nothing else needs us: a short wait lets
         * a pids limit drain instead of failing the container start. */
        if (i + 1 < STARTUP_FORK_TRIES) {
            delay = backoff_next(delay,
                                 STARTUP_FORK_DELAY_MS,
                                 STARTUP_FORK_DELAY_MAX_MS);
            log_warn("startup: fork for '%s': %s, retrying in %llu ms",
                     path,
                     strerror(EAGAIN),
                     (unsigned long long)delay);
            sleep_ms((unsigned)delay);
        }
    }
    if (pid == -EAGAIN || pid == -ENOMEM) {
        return log_errno(LOG_LEVEL_ERROR,
                         (int)pid,
                         "startup: fork for '%s'",
                         path);
    }
    if (pid < 0) {
        /* The child's own status when it ran and failed; when it never
         * ran (clone refused by a seccomp or LSM policy, no pipe), 126:
         * a script that did not run must never count as a success. */
        status = fail.err != 0 ? fail.status : SPAWN_EXIT_NOEXEC;
        log_error("startup: cannot execute '%s': %s (status %d)",
                  path,
                  strerror((int)-pid),
                  status);
        *ret_status = status;
        return 0;
    }
    r = wait_forwarding(pid, &status, &stop_sig);
    if (r < 0) {
        return log_errno(LOG_LEVEL_ERROR, r, "startup: waiting for '%s'", path);
    }
    if (stop_sig != 0) {
        /* Stopping wins even if the script caught the signal and exited 0:
         * the container is being stopped, nothing more should start. */
        if (status == 0) {
            status = 128 + stop_sig;
        }
        log_error("startup: got signal %d (%s) while '%s' ran; passed it on, "
                  "start stopped, status %d",
                  stop_sig,
                  strsignal(stop_sig),
                  path,
                  status);
    } else if (status > 128 && status < 128 + NSIG) {
        log_error("startup: '%s' was killed by signal %d (%s), status %d",
                  path,
                  status - 128,
                  strsignal(status - 128),
                  status);
    } else if (status != 0) {
        log_error("startup: '%s' failed with exit status %d", path, status);
    }
    *ret_status = status;
    return 0;
}

/* Runs path when it is runnable, logs why not otherwise; a skipped entry
 * is not a failure. */
static int
run_if_runnable(const char *path, struct run_ctx *ctx, int *ret_status)
{
    const char *reason = NULL;
    int r = startup_check(path, &reason);

    *ret_status = 0;
    if (r < 0) {
        if (r == -EINVAL || r == -EACCES) {
            log_warn("startup: skipping '%s': %s", path, reason);
        } else {
            log_warn("startup: skipping '%s': %s: %s",
                     path,
                     reason,
                     strerror(-r));
        }
        return 0;
    }
    r = run_one(path, ctx, ret_status);
    if (r == 0 && *ret_status == 0) {
        ctx_reload(ctx);
    }
    return r;
}

static int
run_dir(const char *dir, struct run_ctx *ctx, int *ret_status)
{
    char(*names)[NAME_MAX + 1] = NULL;
    size_t n = 0;
    int r;

    *ret_status = 0;
    names = malloc(STARTUP_MAX_ENTRIES * sizeof(*names));
    if (names == NULL) {
        return -ENOMEM;
    }
    r = startup_list(dir, names, STARTUP_MAX_ENTRIES, &n);
    if (r == -EACCES && geteuid() != 0) {
        /* Typically a root-only /etc/airlock left by a run as root: what
         * this uid cannot list, it could not run either. */
        log_warn("startup: '%s' cannot be listed as uid %u (%s), so its "
                 "scripts are skipped; make it and its parents readable "
                 "(chmod 755) to run them",
                 dir,
                 (unsigned)geteuid(),
                 strerror(-r));
        r = 0;
        goto out;
    }
    if (r < 0) {
        log_errno(LOG_LEVEL_ERROR, r, "startup: cannot list '%s'", dir);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        int len = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (len < 0 || (size_t)len >= sizeof(path)) {
            log_warn("startup: skipping '%s/%s': path too long", dir, names[i]);
            continue;
        }
        r = run_if_runnable(path, ctx, ret_status);
        if (r < 0 || *ret_status != 0) {
            break;
        }
    }
out:
    free(names);
    return r;
}

int
startup_run_dir(const char *dir,
                const sigset_t *child_mask,
                char *const envp[],
                int *ret_status)
{
    struct run_ctx ctx = {NULL, child_mask, envp, NULL};

    return run_dir(dir, &ctx, ret_status);
}

static int
run_all(const char *root,
        const char *env_root,
        const sigset_t *child_mask,
        char *const envp[],
        bool reload_env,
        int *ret_status,
        char ***ret_envp)
{
    static const char *const dirs[] = {"/etc/airlock/init.d", "/etc/my_init.d"};
    struct run_ctx ctx = {reload_env ? (env_root != NULL ? env_root : root)
                                     : NULL,
                          child_mask,
                          envp,
                          NULL};
    char path[PATH_MAX];
    struct stat st;
    int r = 0;

    *ret_status = 0;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        r = root_path_in(path, sizeof(path), root, dirs[i]);
        if (r == 0) {
            r = run_dir(path, &ctx, ret_status);
        }
        if (r < 0 || *ret_status != 0) {
            goto out;
        }
    }
    r = root_path_in(path, sizeof(path), root, "/etc/rc.local");
    /* rc.local is optional: only an existing one is checked and run. */
    if (r == 0 && lstat(path, &st) == 0) {
        r = run_if_runnable(path, &ctx, ret_status);
    }
out:
    if (ret_envp != NULL && r == 0 && *ret_status == 0) {
        *ret_envp = ctx.loaded;
    } else {
        (void)environ_free(ctx.loaded);
    }
    return r;
}

bool
startup_any(const char *root)
{
    static const char *const dirs[] = {"/etc/airlock/init.d", "/etc/my_init.d"};
    char path[PATH_MAX];
    struct stat st;

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        const struct dirent *de;
        DIR *d;

        if (root_path_in(path, sizeof(path), root, dirs[i]) < 0) {
            return true; /* cannot tell: assume there are */
        }
        d = opendir(path);
        if (d == NULL) {
            if (errno == ENOENT || errno == ENOTDIR) {
                continue;
            }
            return true;
        }
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] != '.') {
                (void)closedir(d);
                return true;
            }
        }
        (void)closedir(d);
    }
    return root_path_in(path, sizeof(path), root, "/etc/rc.local") < 0 ||
           lstat(path, &st) == 0;
}

int
startup_run_in(const char *root,
               const sigset_t *child_mask,
               char *const envp[],
               bool reload_env,
               int *ret_status)
{
    return run_all(root, NULL, child_mask, envp, reload_env, ret_status, NULL);
}

int
startup_run(const char *env_root,
            const sigset_t *child_mask,
            char *const envp[],
            bool reload_env,
            int *ret_status,
            char ***ret_envp)
{
    *ret_envp = NULL;
    return run_all(root_dir(),
                   env_root,
                   child_mask,
                   envp,
                   reload_env,
                   ret_status,
                   ret_envp);
}
