#include "init/service.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/nbout.h"
#include "common/groupstop.h"
#include "common/safeio.h"
#include "common/sigutil.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/backoff.h"
#include "common/spawn.h"

/* A wait status for "exited with CODE" (glibc's <sys/wait.h> has it, musl
 * does not, and `make static` builds with musl): the layout wait(2)'s
 * WEXITSTATUS reads back. */
#ifndef W_EXITCODE
#define W_EXITCODE(code, sig) (((code) << 8) | (sig))
#endif

uint64_t
service_next_backoff(uint64_t last_ms, uint64_t uptime_ms)
{
    /* A run that lasted starts the doubling over. */
    return backoff_next(uptime_ms >= SERVICE_STABLE_MS ? 0 : last_ms,
                        SERVICE_BACKOFF_MIN,
                        SERVICE_BACKOFF_MAX);
}

int
service_parse_signal(const char *s)
{
    int sig;

    /* The one table of names lives in common/sigutil. */
    if (sig_from_string(s, &sig) < 0) {
        return -1;
    }
    return sig;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the first line of the small file dir/file into buf (at most
 * size - 1 bytes, blanks at its end cut). Returns its length, -ENOENT
 * when there is no such file, or another -errno (logged, naming the
 * service and the file). */
static int
read_service_file(const char *dir,
                  const char *name,
                  const char *file,
                  char *buf,
                  size_t size)
{
    char path[PATH_MAX + 32];
    size_t len = 0;
    int fd, r;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        r = -errno;
        if (r != -ENOENT) {
            log_errno(LOG_LEVEL_WARN, r, "service '%s': '%s'", name, path);
        }
        return r;
    }
    r = read_all(fd, buf, size - 1, &len);
    (void)close(fd);
    if (r < 0) {
        return log_errno(LOG_LEVEL_WARN, r, "service '%s': '%s'", name, path);
    }
    buf[len] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    len = strlen(buf);
    while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t')) {
        buf[--len] = '\0';
    }
    return (int)len;
}

/* The service's down-signal file (runit's control/d override, s6's
 * down-signal), if any; SIGTERM otherwise. */
static int
read_down_signal(const char *dir, const char *name)
{
    char buf[32];
    int sig;

    if (read_service_file(dir, name, "down-signal", buf, sizeof(buf)) < 0) {
        return SIGTERM;
    }
    sig = service_parse_signal(buf);
    if (sig < 0) {
        log_warn("service '%s': down-signal '%s' is not a signal, using TERM",
                 name,
                 buf);
        return SIGTERM;
    }
    return sig;
}

/* The service's timeout-finish file: milliseconds ./finish may run before
 * SIGKILL (s6-supervise; its default, 5000, when absent). s6 reads 0 as
 * "no limit"; airlock bounds every finish, so 0 and values above the
 * maximum get the maximum, and a bad value the default, each with one
 * line. */
static uint64_t
read_timeout_finish(const char *dir, const char *name)
{
    char buf[32];
    uint64_t ms;

    if (read_service_file(dir, name, "timeout-finish", buf, sizeof(buf)) < 0) {
        return SERVICE_FINISH_DEFAULT_MS;
    }
    if (parse_uint(buf, UINT64_MAX, &ms) < 0) {
        log_warn("service '%s': timeout-finish '%s' is not a number of "
                 "milliseconds, using %d",
                 name,
                 buf,
                 SERVICE_FINISH_DEFAULT_MS);
        return SERVICE_FINISH_DEFAULT_MS;
    }
    if (ms == 0 || ms > SERVICE_FINISH_MAX_MS) {
        log_warn("service '%s': timeout-finish %s: finish scripts are always "
                 "bounded here, using the maximum, %d ms",
                 name,
                 buf,
                 SERVICE_FINISH_MAX_MS);
        return SERVICE_FINISH_MAX_MS;
    }
    return ms;
}

static struct service *
service_new(struct services *s, const char *name)
{
    struct service *svc;

    if (s->count >= SERVICES_MAX) {
        log_error("service '%s': more than %d services, not started",
                  name,
                  SERVICES_MAX);
        return NULL;
    }
    svc = &s->svc[s->count];
    memset(svc, 0, sizeof(*svc));
    svc->out_fd = -1;
    svc->out_wfd = -1;
    svc->log_rfd = -1;
    svc->log_wfd = -1;
    svc->notify_fd = -1;
    svc->logs_for = -1;
    svc->pass_fd = -1;
    svc->down_signal = SIGTERM;
    svc->finish_ms = SERVICE_FINISH_DEFAULT_MS;
    svc->last_code = -1;
    svc->deadline = DEADLINE_NONE;
    snprintf(svc->name, sizeof(svc->name), "%s", name);
    return svc;
}

/* Checks one /etc/service entry; logs and returns false when it is not a
 * service to start. */
static bool
service_dir_usable(const char *dir, const char *name)
{
    char path[PATH_MAX + 8];
    struct stat st;

    if (stat(dir, &st) < 0) {
        log_warn("service '%s': cannot read '%s': %s, skipped",
                 name,
                 dir,
                 strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        log_info("service '%s': '%s' is not a directory, skipped", name, dir);
        return false;
    }
    snprintf(path, sizeof(path), "%s/down", dir);
    if (access(path, F_OK) == 0) {
        log_info("service '%s': has a down file, not started", name);
        return false;
    }
    snprintf(path, sizeof(path), "%s/run", dir);
    if (stat(path, &st) < 0) {
        log_warn("service '%s': no run file in '%s': %s, skipped",
                 name,
                 dir,
                 strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0) {
        log_warn("service '%s': '%s' is not an executable file, skipped",
                 name,
                 path);
        return false;
    }
    return true;
}

/* The service's notification-fd file (s6-supervise): the fd number the
 * run gets for its readiness line. A bad value is one line and means
 * "ready once started". 0 when absent. */
static int
read_notification_fd(const char *dir, const char *name)
{
    char buf[32];
    uint64_t fd;

    if (read_service_file(dir, name, "notification-fd", buf, sizeof(buf)) < 0) {
        return 0;
    }
    /* 0-2 are the run's stdio; s6 refuses them too. */
    if (parse_uint(buf, SERVICE_NOTIFY_FD_MAX, &fd) < 0 || fd < 3) {
        log_warn("service '%s': notification-fd '%s' is not a number from "
                 "3 to %d; it is ready once started",
                 name,
                 buf,
                 SERVICE_NOTIFY_FD_MAX);
        return 0;
    }
    return (int)fd;
}

/* The service's dependencies file: one service name a line (blank lines
 * and lines starting with '#' skipped). Names are resolved later, once
 * every service is known (services_resolve_deps). */
static void
read_dependencies(struct service *svc, const char *dir)
{
    char path[PATH_MAX + 16], buf[SERVICE_DEPS_MAX * (SERVICE_NAME_MAX + 2)];
    size_t len = 0;
    char *line, *save = NULL;
    int fd, r;

    snprintf(path, sizeof(path), "%s/dependencies", dir);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno != ENOENT) {
            log_errno(LOG_LEVEL_WARN,
                      -errno,
                      "service '%s': '%s'",
                      svc->name,
                      path);
        }
        return;
    }
    r = read_all(fd, buf, sizeof(buf) - 1, &len);
    (void)close(fd);
    if (r < 0) {
        log_errno(LOG_LEVEL_WARN,
                  r,
                  "service '%s': '%s', ignored",
                  svc->name,
                  path);
        return;
    }
    buf[len] = '\0';
    for (line = strtok_r(buf, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        line[strcspn(line, " \t\r")] = '\0';
        if (line[0] == '\0' || line[0] == '#') {
            continue;
        }
        if (svc->ndeps >= SERVICE_DEPS_MAX ||
            copy_string(svc->dep_names[svc->ndeps], SERVICE_NAME_MAX, line) <
                0) {
            log_warn("service '%s': '%s': more than %d names or a name too "
                     "long ('%.32s'), ignored",
                     svc->name,
                     path,
                     SERVICE_DEPS_MAX,
                     line);
            continue;
        }
        svc->ndeps++;
    }
}

/* Adds one service read from dir (name is its entry in the scanned
 * directory, or "NAME/log" for a logger). NULL when the table is full. */
static struct service *
service_from_dir(struct services *s, const char *dir, const char *name)
{
    char path[PATH_MAX + 16];
    struct service *svc = service_new(s, name);

    if (svc == NULL) {
        return NULL;
    }
    copy_string(svc->dir, sizeof(svc->dir), dir);
    copy_string(svc->exe, sizeof(svc->exe), "./run");
    svc->down_signal = read_down_signal(dir, name);
    svc->finish_ms = read_timeout_finish(dir, name);
    snprintf(path, sizeof(path), "%s/critical", dir);
    svc->critical = access(path, F_OK) == 0;
    svc->notify_to = read_notification_fd(dir, name);
    snprintf(path, sizeof(path), "%s/check", dir);
    /* notification-fd wins: one readiness protocol per service. */
    svc->has_check = svc->notify_to == 0 && access(path, X_OK) == 0;
    read_dependencies(svc, dir);
    s->count++;
    return svc;
}

/* runit's log service: dir/log/run, when it is an executable file. */
static bool
has_log_service(const char *dir)
{
    char path[PATH_MAX + 16];
    struct stat st;

    snprintf(path, sizeof(path), "%s/log/run", dir);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           access(path, X_OK) == 0;
}

/* Adds the service in dir, and first its logger when it has a log/run
 * (runsv(8)): the logger is a supervised service of its own, "NAME/log",
 * started before and stopped after it, and its stdin is the read end of
 * a pipe whose write end is the service's stdout. PID 1 makes the pipe
 * once and holds both ends for as long as it runs, so neither side's
 * restart closes it and lines written while the logger restarts wait in
 * the pipe; PID 1 itself never reads or writes it. Returns the number of
 * services added (0 to 2). */
static int
service_add_dir(struct services *s, const char *dir, const char *name)
{
    char logdir[PATH_MAX + 8], logname[SERVICE_NAME_MAX + 8];
    struct service *logger = NULL, *svc;
    int p[2] = {-1, -1};

    if (has_log_service(dir)) {
        snprintf(logdir, sizeof(logdir), "%s/log", dir);
        snprintf(logname, sizeof(logname), "%s/log", name);
        if (strlen(logname) >= SERVICE_NAME_MAX || strlen(logdir) >= PATH_MAX) {
            log_warn("service '%s': name or path too long for its log "
                     "service, log/run not started",
                     name);
        } else if (pipe2(p, O_CLOEXEC) < 0) {
            log_errno(LOG_LEVEL_ERROR,
                      -errno,
                      "service '%s': pipe to its log service, log/run not "
                      "started",
                      name);
        } else if ((logger = service_from_dir(s, logdir, logname)) == NULL) {
            (void)close(p[0]);
            (void)close(p[1]);
        } else {
            logger->log_rfd = p[0];
        }
    }
    svc = service_from_dir(s, dir, name);
    if (svc == NULL) {
        return logger != NULL;
    }
    if (logger != NULL) {
        svc->log_wfd = p[1];
        logger->logs_for = (int)(s->count - 1);
    }
    return logger != NULL ? 2 : 1;
}

/* Service names go into log lines, the control protocol ("restart NAME")
 * and status JSON unquoted: letters, digits and "._@+-" only. */
static bool
service_name_ok(const char *name)
{
    return name[0] != '\0' &&
           strspn(name,
                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789._@+-") == strlen(name);
}

int
services_scan(struct services *s, const char *service_dir)
{
    char *names[SERVICES_MAX];
    size_t n = 0;
    struct dirent *de;
    int added = 0;
    DIR *d;

    d = opendir(service_dir);
    if (d == NULL) {
        if (errno == ENOENT) {
            return 0;
        }
        return -errno;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        if (strlen(de->d_name) >= SERVICE_NAME_MAX) {
            log_warn("service '%.32s...': name too long, skipped", de->d_name);
            continue;
        }
        if (!service_name_ok(de->d_name)) {
            log_warn("service '%.64s': a name may hold letters, digits and "
                     "'._@+-' only, skipped",
                     de->d_name);
            continue;
        }
        if (n >= SERVICES_MAX) {
            log_error("'%s': more than %d entries, the rest is skipped",
                      service_dir,
                      SERVICES_MAX);
            break;
        }
        names[n] = strdup(de->d_name);
        if (names[n] != NULL) {
            n++;
        }
    }
    (void)closedir(d);
    qsort(names, n, sizeof(names[0]), name_cmp);

    for (size_t i = 0; i < n; i++) {
        char dir[PATH_MAX];

        if (snprintf(dir, sizeof(dir), "%s/%s", service_dir, names[i]) >=
            (int)sizeof(dir)) {
            log_warn("service '%s': path too long, skipped", names[i]);
        } else if (service_dir_usable(dir, names[i])) {
            added += service_add_dir(s, dir, names[i]);
        }
        free(names[i]);
    }
    return added;
}

int
services_add_builtin(struct services *s,
                     const char *name,
                     const char *exe,
                     const char *arg)
{
    struct service *svc = service_new(s, name);

    if (svc == NULL) {
        return -ENOSPC;
    }
    svc->builtin = true;
    if (copy_string(svc->exe, sizeof(svc->exe), exe) < 0 ||
        copy_string(svc->arg, sizeof(svc->arg), arg) < 0) {
        return -ENAMETOOLONG;
    }
    s->count++;
    return 0;
}

int
services_builtin_pass_fd(struct services *s,
                         const char *name,
                         int fd,
                         const char *arg2)
{
    for (size_t i = 0; i < s->count; i++) {
        struct service *svc = &s->svc[i];
        if (svc->builtin && strcmp(svc->name, name) == 0) {
            if (copy_string(svc->arg2, sizeof(svc->arg2), arg2) < 0) {
                return -ENAMETOOLONG;
            }
            svc->pass_fd = fd;
            return 0;
        }
    }
    return -ENOENT;
}

int
services_set_on_demand(struct services *s, const char *name)
{
    for (size_t i = 0; i < s->count; i++) {
        if (s->svc[i].builtin && strcmp(s->svc[i].name, name) == 0) {
            s->svc[i].on_demand = true;
            return 0;
        }
    }
    return -ENOENT;
}

/* One pipe per service, made once and kept across restarts, so output of
 * successive runs goes through the same line assembler. */
static int
service_open_pipe(struct service *svc)
{
    int p[2];

    if (svc->builtin || svc->out_fd >= 0) {
        return 0;
    }
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
        return -errno;
    }
    /* The writing end is blocking for the service: a full pipe slows it
     * down instead of failing its writes. */
    (void)fcntl(p[1], F_SETFL, 0);
    svc->out_fd = p[0];
    svc->out_wfd = p[1];
    return 0;
}

/* ---- The executor: facts in, svc_transition(), the action out ---------
 *
 * Every change of a service's state goes through service_apply(): it
 * gathers the facts the table needs, asks svc_transition() and carries
 * out the one action it returns. Nothing else writes svc->state. */

static void service_apply(struct services *s,
                          size_t index,
                          enum svc_event ev,
                          const struct service_ctx *ctx,
                          uint64_t now,
                          int wstatus,
                          uint64_t kill_at);
static void services_start_waiting(struct services *s,
                                   const struct service_ctx *ctx,
                                   uint64_t now);
static void service_run_ended(struct services *s,
                              size_t index,
                              const struct service_ctx *ctx,
                              int wstatus,
                              uint64_t now);

/* Starts ./run (or the built-in). Returns 0, or -errno with *ret_wstatus
 * the status a run that could not start is treated as (126/127, as a
 * shell would report it). */
static int
service_spawn(struct service *svc,
              size_t index,
              const struct service_ctx *ctx,
              uint64_t now,
              int *ret_wstatus)
{
    char *argv[4] = {svc->exe,
                     svc->arg[0] ? svc->arg : NULL,
                     svc->arg[0] && svc->arg2[0] ? svc->arg2 : NULL,
                     NULL};
    struct spawn_opts o = {
        .child_mask = ctx->child_mask,
        .group = SPAWN_NEW_SESSION,
        .stdout_fd = -1,
        .stderr_fd = -1,
        .envp = ctx->envp,
        .cwd = svc->builtin ? NULL : svc->dir,
    };
    struct spawn_failure fail;
    int r, notify[2] = {-1, -1};
    sigset_t builtin_mask;
    pid_t pid;

    /* airlock's own programs take SIGTERM and SIGINT through a signalfd:
     * they start with both blocked, so one sent while they are still
     * being exec'd waits for them (the collector, started on demand at a
     * stop, drains its socket first) instead of killing them. */
    if (svc->builtin) {
        builtin_mask = *ctx->child_mask;
        (void)sigaddset(&builtin_mask, SIGTERM);
        (void)sigaddset(&builtin_mask, SIGINT);
        o.child_mask = &builtin_mask;
    }
    svc->started_at = now;
    *ret_wstatus = W_EXITCODE(SPAWN_EXIT_NOEXEC, 0);
    r = service_open_pipe(svc);
    if (r < 0) {
        return log_errno(LOG_LEVEL_ERROR, r, "service '%s': pipe", svc->name);
    }
    /* With a logger, stdout goes to it and stderr to the container's
     * output, as under runsv. */
    o.stdout_fd = svc->log_wfd >= 0 ? svc->log_wfd : svc->out_wfd;
    o.stderr_fd = svc->out_wfd;
    o.stdin_fd = svc->log_rfd >= 0 ? svc->log_rfd : 0;
    if (svc->pass_fd >= 0) {
        o.pass_fds = &svc->pass_fd;
        o.npass_fds = 1;
    }
    if (svc->notify_to > 0) {
        if (pipe2(notify, O_CLOEXEC | O_NONBLOCK) < 0) {
            return log_errno(LOG_LEVEL_ERROR,
                             -errno,
                             "service '%s': notification pipe",
                             svc->name);
        }
        /* PID 1's end never blocks; the service's end is a plain one. */
        (void)fcntl(notify[1], F_SETFL, 0);
        o.notify_from = notify[1];
        o.notify_to = svc->notify_to;
    }
    r = spawn_process(argv, &o, &pid, &fail);
    if (notify[1] >= 0) {
        (void)close(notify[1]);
    }
    if (r < 0 && notify[0] >= 0) {
        (void)close(notify[0]);
    }
    if (r < 0) {
        if (fail.err != 0) {
            *ret_wstatus = W_EXITCODE(fail.status, 0);
        }
        return log_errno(LOG_LEVEL_ERROR,
                         r,
                         "service '%s': cannot start '%s'",
                         svc->name,
                         svc->exe);
    }
    if (children_add(ctx->children, pid, CHILD_SERVICE, (int)index) < 0) {
        /* Cannot track it: stop it rather than run it unsupervised; its
         * exit is then an orphan's, so the run counts as failed now. */
        log_error("service '%s': child table full, stopping it", svc->name);
        (void)kill(pid, SIGKILL);
        if (notify[0] >= 0) {
            (void)close(notify[0]);
        }
        return -ENOSPC;
    }
    svc->notify_fd = notify[0];
    svc->pid = pid;
    svc->give_up = false;
    memset(&svc->run_stop, 0, sizeof(svc->run_stop));
    log_info("service '%s': started, pid %d", svc->name, (int)pid);
    return 0;
}

/* Does the service have a finish script to run? Checked at each exit,
 * as runsv does, so one added or removed at run time counts. */
static bool
service_has_finish(const struct service *svc)
{
    char path[PATH_MAX + 8];

    if (svc->builtin) {
        return false;
    }
    snprintf(path, sizeof(path), "%s/finish", svc->dir);
    return access(path, X_OK) == 0;
}

/* Starts one of a service's own scripts (./finish, ./check) in its
 * directory, in a session of its own, and records it as a child of kind
 * `kind`: *ret_pid and a cleared *ret_stop on success. 0 or -errno. */
static int
service_run_script(struct service *svc,
                   size_t index,
                   const struct service_ctx *ctx,
                   char *const argv[],
                   int stdout_fd,
                   enum child_kind kind,
                   pid_t *ret_pid,
                   struct group_stop *ret_stop)
{
    struct spawn_opts o = {
        .child_mask = ctx->child_mask,
        .group = SPAWN_NEW_SESSION,
        .stdout_fd = stdout_fd,
        .stderr_fd = svc->out_wfd,
        .envp = ctx->envp,
        .cwd = svc->dir,
    };
    struct spawn_failure fail;
    int r;
    pid_t pid;

    r = spawn_process(argv, &o, &pid, &fail);
    if (r < 0) {
        return log_errno(LOG_LEVEL_WARN,
                         r,
                         "service '%s': %s script failed to start",
                         svc->name,
                         argv[0] + 2);
    }
    if (children_add(ctx->children, pid, kind, (int)index) < 0) {
        (void)kill(pid, SIGKILL);
        return -ENOSPC;
    }
    *ret_pid = pid;
    memset(ret_stop, 0, sizeof(*ret_stop));
    return 0;
}

/* Starts ./finish with runit's arguments: the exit code (-1 if killed)
 * and the signal number (runsv(8)). Returns 0 or -errno. */
static int
service_run_finish(struct service *svc,
                   size_t index,
                   const struct service_ctx *ctx,
                   int wstatus)
{
    char code[16], sig[16];
    char *argv[] = {"./finish", code, sig, NULL};

    snprintf(code,
             sizeof(code),
             "%d",
             WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    snprintf(sig,
             sizeof(sig),
             "%d",
             WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
    return service_run_script(svc,
                              index,
                              ctx,
                              argv,
                              svc->log_wfd >= 0 ? svc->log_wfd : svc->out_wfd,
                              CHILD_FINISH,
                              &svc->finish_pid,
                              &svc->finish_stop);
}

/* SIGKILL to the group gs watches (pid leads it): through the one
 * stop-and-escalate primitive, started here if no polite signal was
 * sent first (a finish script gets none, as with s6). */
static void
service_kill_group(struct group_stop *gs, pid_t pid, uint64_t now)
{
    if (pid <= 0) {
        return;
    }
    if (gs->state == GROUP_STOP_IDLE) {
        (void)group_stop_begin(gs, pid, SIGKILL, now, 0);
    }
    group_stop_kill_now(gs);
}

static enum svc_after
service_after(const struct services *s, const struct service *svc)
{
    if (s->stopping || svc->want_down) {
        return SVC_AFTER_DOWN;
    }
    return svc->give_up ? SVC_AFTER_FAIL : SVC_AFTER_RESTART;
}

/* Logs what a state reached means when that is news: a restart delay, a
 * service given up on, and for a critical one the container's end. */
static void
service_log_outcome(struct services *s,
                    struct service *svc,
                    enum service_state before)
{
    if (svc->state == before) {
        return;
    }
    if (svc->state == SVC_BACKOFF && svc->backoff_ms > 0) {
        log_info("service '%s': restarting in %llu ms",
                 svc->name,
                 (unsigned long long)svc->backoff_ms);
    }
    if (svc->state != SVC_FAILED || s->stopping) {
        return;
    }
    if (svc->critical) {
        log_error("critical service '%s' is down for good (last status "
                  "%d): stopping the container, airlock exits %d",
                  svc->name,
                  svc->last_code,
                  svc->last_code);
        if (s->critical_code < 0) {
            s->critical_code = svc->last_code;
        }
    } else {
        log_warn("service '%s': not restarted (last status %d); the app "
                 "goes on",
                 svc->name,
                 svc->last_code);
    }
}

/* Is every service in svc's dependencies file ready? */
static bool
service_deps_ready(const struct services *s, const struct service *svc)
{
    for (size_t k = 0; k < svc->ndeps; k++) {
        int d = svc->deps[k];
        if (d < 0 || (size_t)d >= s->count ||
            (s->svc[d].state != SVC_READY &&
             !(s->svc[d].on_demand && s->svc[d].state == SVC_DOWN))) {
            return false;
        }
    }
    return true;
}

static void
close_notify(struct service *svc)
{
    if (svc->notify_fd >= 0) {
        (void)close(svc->notify_fd);
        svc->notify_fd = -1;
    }
}

/* Starts ./check (runit's readiness test) in the service directory, its
 * output going where the service's stderr goes. 0 or -errno. */
static int
service_run_check(struct service *svc,
                  size_t index,
                  const struct service_ctx *ctx)
{
    char *argv[] = {"./check", NULL};

    return service_run_script(svc,
                              index,
                              ctx,
                              argv,
                              svc->out_wfd,
                              CHILD_CHECK,
                              &svc->check_pid,
                              &svc->check_stop);
}

/* The run is ending: a check still running has nothing left to check. Its
 * exit, reaped later, is then ignored (check_pid no longer names it). */
static void
service_stop_check(struct service *svc, uint64_t now)
{
    if (svc->check_pid > 0) {
        service_kill_group(&svc->check_stop, svc->check_pid, now);
        svc->check_pid = 0;
    }
}

/* Whether ./run (or ./finish) may be running in state st: what `sv status`
 * calls run or finish rather than down. */
static bool
svc_is_running(enum service_state st)
{
    return st == SVC_UP || st == SVC_READY || st == SVC_STOPPING ||
           st == SVC_FINISHING;
}

static void
service_apply(struct services *s,
              size_t index,
              enum svc_event ev,
              const struct service_ctx *ctx,
              uint64_t now,
              int wstatus,
              uint64_t kill_at)
{
    struct service *svc = &s->svc[index];
    enum service_state before = svc->state;
    struct svc_facts f = {
        .deps_ready = service_deps_ready(s, svc),
        .has_finish = false,
        .killed = svc->killed,
        .after = service_after(s, svc),
        .backoff_ms =
            svc->restart_now
                ? 0
                : service_next_backoff(svc->backoff_ms, now - svc->started_at),
        .finish_ms = svc->finish_ms,
        .kill_at = kill_at,
        .budget = s->stopping ? s->budget : DEADLINE_NONE,
        .reap_ms = SERVICE_KILL_REAP_MS,
    };
    struct svc_step st;
    int r, ws;

    f.has_check = svc->has_check;
    f.checking = svc->check_pid > 0;
    f.check_ok =
        ev == SVC_EV_CHECKED && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
    f.check_ms = SERVICE_CHECK_MS;
    /* With the stop budget used up there is no time for ./finish: it
     * would be killed as it starts. */
    if (ev == SVC_EV_EXIT && !(s->stopping && s->budget <= now)) {
        f.has_finish = service_has_finish(svc);
    }
    st = svc_transition(svc->state, ev, &f, now, svc->deadline);
    if (svc_is_running(before) && !svc_is_running(st.next)) {
        svc->down_since = now;
    }
    svc->state = st.next;
    svc->deadline = st.deadline;
    if (st.next != before) {
        log_debug("service '%s': %s, %s -> %s",
                  svc->name,
                  svc_event_name(ev),
                  service_state_name(before),
                  service_state_name(st.next));
    }
    if (st.next == SVC_BACKOFF && before != SVC_BACKOFF) {
        svc->backoff_ms = f.backoff_ms;
        svc->restart_now = false;
    }
    switch (st.action) {
    case SVC_ACT_NONE:
        break;
    case SVC_ACT_SPAWN:
        r = service_spawn(svc, index, ctx, now, &ws);
        if (r < 0) {
            service_run_ended(s, index, ctx, ws, now);
            return;
        }
        /* Nothing to wait for: ready once started (runit's view). */
        if (svc->notify_fd < 0 && !svc->has_check) {
            service_apply(s, index, SVC_EV_READY, ctx, now, 0, DEADLINE_NONE);
        }
        break;
    case SVC_ACT_FINISH:
        svc->killed = false;
        svc->finish_at = now;
        if (service_run_finish(svc, index, ctx, wstatus) < 0) {
            service_apply(s, index, SVC_EV_FINISHED, ctx, now, 0, 0);
            return;
        }
        break;
    case SVC_ACT_SIGNAL_DOWN:
        service_stop_check(svc, now);
        svc->killed = false;
        svc->stop_sent_at = now;
        memset(&svc->run_stop, 0, sizeof(svc->run_stop));
        /* The kill time is the service's deadline, not group_stop's. */
        (void)group_stop_begin(&svc->run_stop,
                               svc->pid,
                               svc->down_signal,
                               now,
                               st.deadline > now ? st.deadline - now : 0);
        break;
    case SVC_ACT_KILL:
        log_warn("service '%s': still running after the grace period "
                 "(%llu ms after its down signal), sending SIGKILL",
                 svc->name,
                 (unsigned long long)(now - svc->stop_sent_at));
        service_kill_group(&svc->run_stop, svc->pid, now);
        svc->killed = true;
        break;
    case SVC_ACT_KILL_FINISH:
        log_warn("service '%s': finish script still running after %llu ms "
                 "(%s), sending SIGKILL",
                 svc->name,
                 (unsigned long long)(now - svc->finish_at),
                 now - svc->finish_at >= svc->finish_ms
                     ? "its timeout-finish"
                     : "the stop budget is used up");
        service_kill_group(&svc->finish_stop, svc->finish_pid, now);
        svc->killed = true;
        break;
    case SVC_ACT_ABANDON:
        /* Survived SIGKILL (uninterruptible sleep): stop waiting. */
        log_error("service '%s': pid %d does not die, abandoned",
                  svc->name,
                  (int)svc->pid);
        svc->pid = 0;
        /* What the next run gets must be new: no fd or check left. */
        close_notify(svc);
        service_stop_check(svc, now);
        break;
    case SVC_ACT_CHECK:
        if (service_run_check(svc, index, ctx) < 0) {
            /* Counts as a failed check: the next is due check_ms on. */
            service_apply(s,
                          index,
                          SVC_EV_CHECKED,
                          ctx,
                          now,
                          W_EXITCODE(SPAWN_EXIT_NOEXEC, 0),
                          0);
            return;
        }
        break;
    case SVC_ACT_KILL_CHECK:
        log_warn("service '%s': check script still running after %d ms, "
                 "sending SIGKILL",
                 svc->name,
                 SERVICE_CHECK_MS);
        service_kill_group(&svc->check_stop, svc->check_pid, now);
        break;
    case SVC_ACT_ABANDON_FINISH:
        log_error("service '%s': finish script pid %d does not die, "
                  "abandoned",
                  svc->name,
                  (int)svc->finish_pid);
        svc->finish_pid = 0;
        break;
    }
    service_log_outcome(s, svc, before);
    if (svc->state == SVC_READY && before != SVC_READY) {
        if (svc->notify_to > 0 || svc->has_check) {
            log_info("service '%s': ready", svc->name);
        }
        services_start_waiting(s, ctx, now);
    }
}

void
services_set_critical(struct services *s,
                      const char *list,
                      unsigned restarts,
                      uint64_t window_ms)
{
    const char *p = list != NULL ? list : "";

    s->crit_restarts = restarts;
    s->crit_window_ms = window_ms;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        bool found = false;

        for (size_t i = 0; len > 0 && i < s->count; i++) {
            if (strlen(s->svc[i].name) == len &&
                strncmp(s->svc[i].name, p, len) == 0) {
                s->svc[i].critical = true;
                found = true;
            }
        }
        if (len > 0 && !found) {
            log_warn("AIRLOCK_CRITICAL: no service named '%.*s', skipped",
                     (int)(len < SERVICE_NAME_MAX ? len : SERVICE_NAME_MAX),
                     p);
        }
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    for (size_t i = 0; i < s->count; i++) {
        if (s->svc[i].critical) {
            log_info("service '%s': critical: after %u restart(s) within "
                     "%llu ms it stops the container",
                     s->svc[i].name,
                     restarts,
                     (unsigned long long)window_ms);
        }
    }
}

/* A service got ready: those waiting for it (STARTING) may start now. */
static void
services_start_waiting(struct services *s,
                       const struct service_ctx *ctx,
                       uint64_t now)
{
    for (size_t i = 0; i < s->count; i++) {
        if (s->svc[i].state == SVC_STARTING && !s->stopping) {
            service_apply(s, i, SVC_EV_START, ctx, now, 0, DEADLINE_NONE);
        }
    }
}

int
services_notify_poll_fd(const struct services *s, size_t index)
{
    return s->svc[index].notify_fd;
}

void
services_notify_readable(struct services *s,
                         size_t index,
                         const struct service_ctx *ctx,
                         uint64_t now)
{
    struct service *svc = &s->svc[index];
    char buf[64];
    ssize_t n;

    /* Bounded: a service writing without end cannot hold the loop. */
    for (int budget = 16; budget > 0 && svc->notify_fd >= 0; budget--) {
        n = read(svc->notify_fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return; /* EAGAIN: nothing more now */
        }
        if (n == 0) {
            log_warn("service '%s': closed its notification fd %d without "
                     "a newline; it will not be ready",
                     svc->name,
                     svc->notify_to);
            close_notify(svc);
            return;
        }
        if (memchr(buf, '\n', (size_t)n) != NULL) {
            /* s6: the first newline is the notification; the fd is not
             * read any more. */
            close_notify(svc);
            service_apply(s, index, SVC_EV_READY, ctx, now, 0, DEADLINE_NONE);
            return;
        }
    }
}

size_t
deps_find_cycles(size_t n,
                 int (*deps)[SERVICE_DEPS_MAX],
                 const size_t *ndeps,
                 bool *in_cycle)
{
    /* Iterative depth-first search, colours as usual: 0 unseen, 1 on the
     * current path, 2 done. A back edge to a node on the path closes a
     * cycle: every node from it to the top of the path is on it. */
    unsigned char colour[SERVICES_MAX] = {0};
    size_t path[SERVICES_MAX], next[SERVICES_MAX], found = 0;

    for (size_t i = 0; i < n && i < SERVICES_MAX; i++) {
        in_cycle[i] = false;
    }
    for (size_t root = 0; root < n && root < SERVICES_MAX; root++) {
        size_t depth = 0;

        if (colour[root] != 0) {
            continue;
        }
        path[depth] = root;
        next[depth++] = 0;
        colour[root] = 1;
        while (depth > 0) {
            size_t v = path[depth - 1];
            int w;

            if (next[depth - 1] >= ndeps[v]) {
                colour[v] = 2;
                depth--;
                continue;
            }
            w = deps[v][next[depth - 1]++];
            if (w < 0 || (size_t)w >= n) {
                continue;
            }
            if (colour[w] == 1) {
                for (size_t k = depth; k-- > 0;) {
                    if (!in_cycle[path[k]]) {
                        in_cycle[path[k]] = true;
                        found++;
                    }
                    if (path[k] == (size_t)w) {
                        break;
                    }
                }
            } else if (colour[w] == 0) {
                colour[w] = 1;
                path[depth] = (size_t)w;
                next[depth++] = 0;
            }
        }
    }
    return found;
}

/* Marks a service that cannot start as FAILED, before anything runs. */
static void
service_reject(struct service *svc)
{
    svc->state = SVC_FAILED;
    svc->deadline = DEADLINE_NONE;
}

int
services_resolve_deps(struct services *s)
{
    static int deps[SERVICES_MAX][SERVICE_DEPS_MAX];
    size_t ndeps[SERVICES_MAX];
    bool in_cycle[SERVICES_MAX];
    int rejected = 0;

    for (size_t i = 0; i < s->count; i++) {
        struct service *svc = &s->svc[i];
        bool bad = false;

        ndeps[i] = svc->ndeps;
        for (size_t k = 0; k < svc->ndeps; k++) {
            svc->deps[k] = -1;
            for (size_t j = 0; j < s->count; j++) {
                if (strcmp(s->svc[j].name, svc->dep_names[k]) == 0) {
                    svc->deps[k] = (int)j;
                }
            }
            deps[i][k] = svc->deps[k];
            if (svc->deps[k] < 0 && !bad) {
                log_error("service '%s': dependency '%s' is not a service; "
                          "not started",
                          svc->name,
                          svc->dep_names[k]);
                bad = true;
            }
        }
        if (bad) {
            service_reject(svc);
            rejected++;
        }
    }
    if (deps_find_cycles(s->count, deps, ndeps, in_cycle) == 0) {
        return rejected;
    }
    for (size_t i = 0; i < s->count; i++) {
        if (in_cycle[i] && s->svc[i].state != SVC_FAILED) {
            log_error("service '%s': its dependencies lead back to it (a "
                      "cycle); not started",
                      s->svc[i].name);
            service_reject(&s->svc[i]);
            rejected++;
        }
    }
    return rejected;
}

bool
services_all_ready(const struct services *s)
{
    for (size_t i = 0; i < s->count; i++) {
        enum service_state st = s->svc[i].state;
        if (st != SVC_READY && st != SVC_DOWN && st != SVC_FAILED) {
            return false;
        }
    }
    return true;
}

const char *
services_laggards(const struct services *s, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < s->count; i++) {
        enum service_state st = s->svc[i].state;
        int n;

        if (st == SVC_READY || st == SVC_DOWN || st == SVC_FAILED) {
            continue;
        }
        n = snprintf(buf + len,
                     size - len,
                     "%s%s (%s)",
                     len > 0 ? ", " : "",
                     s->svc[i].name,
                     service_state_name(st));
        if (n < 0 || (size_t)n >= size - len) {
            break;
        }
        len += (size_t)n;
    }
    return buf;
}

void
services_start_all(struct services *s,
                   const struct service_ctx *ctx,
                   uint64_t now)
{
    s->critical_code = -1;
    for (size_t i = 0; i < s->count; i++) {
        s->svc[i].down_since = now;
    }
    for (size_t i = 0; i < s->count; i++) {
        /* FAILED already: rejected by services_resolve_deps. */
        if (s->svc[i].state != SVC_FAILED && !s->svc[i].on_demand) {
            service_apply(s, i, SVC_EV_START, ctx, now, 0, DEADLINE_NONE);
        }
    }
}

bool
services_start_on_demand(struct services *s,
                         const char *name,
                         const struct service_ctx *ctx,
                         uint64_t now)
{
    for (size_t i = 0; i < s->count; i++) {
        struct service *svc = &s->svc[i];
        if (!svc->on_demand || strcmp(svc->name, name) != 0) {
            continue;
        }
        svc->on_demand = false;
        if (svc->state != SVC_DOWN || s->stopping || svc->want_down) {
            return false;
        }
        service_apply(s, i, SVC_EV_START, ctx, now, 0, DEADLINE_NONE);
        return true;
    }
    return false;
}

/* A critical service's exits are counted in a window that starts at the
 * first one; more than critical_restarts of them in it and the service is
 * given up on, which stops the container. */
static void
service_count_critical_exit(struct services *s,
                            struct service *svc,
                            uint64_t now)
{
    if (svc->crit_exits == 0 || now - svc->crit_since > s->crit_window_ms) {
        svc->crit_since = now;
        svc->crit_exits = 0;
    }
    svc->crit_exits++;
    if (svc->crit_exits > s->crit_restarts) {
        svc->give_up = true;
    }
}

/* The exit line says what the time means: how long it ran, and for a
 * service that was being stopped also how long the stop took. */
static void
log_exit(const struct service *svc, int wstatus, uint64_t now)
{
    char how[48], name[SIG_NAME_MAX];
    unsigned long long ran = (unsigned long long)(now - svc->started_at);

    if (WIFSIGNALED(wstatus)) {
        snprintf(how,
                 sizeof(how),
                 "killed by signal %d (%s)",
                 WTERMSIG(wstatus),
                 sig_to_string(WTERMSIG(wstatus), name, sizeof(name)));
    } else {
        snprintf(how,
                 sizeof(how),
                 "exited with status %d",
                 WEXITSTATUS(wstatus));
    }
    if (svc->state == SVC_STOPPING) {
        log_info("service '%s': %s %llu ms after its down signal (it ran "
                 "%llu ms)",
                 svc->name,
                 how,
                 (unsigned long long)(now - svc->stop_sent_at),
                 ran);
    } else {
        log_info("service '%s': %s after running %llu ms", svc->name, how, ran);
    }
}

/* A run is over (./run exited, or could not start): the status, the
 * log line, whether a restart can help, then the EXIT event. */
static void
service_run_ended(struct services *s,
                  size_t index,
                  const struct service_ctx *ctx,
                  int wstatus,
                  uint64_t now)
{
    struct service *svc = &s->svc[index];

    svc->pid = 0;
    close_notify(svc);
    service_stop_check(svc, now);
    svc->last_code = exit_code_from_status(wstatus);
    log_exit(svc, wstatus, now);
    if (!s->stopping) {
        svc->restarts++;
    }
    /* An exit nobody asked for: is another run worth it? */
    if (!s->stopping && svc->state != SVC_STOPPING) {
        if (svc->builtin && WIFEXITED(wstatus) &&
            (WEXITSTATUS(wstatus) == SERVICE_EXIT_DONT_RESTART ||
             WEXITSTATUS(wstatus) == SERVICE_EXIT_BAD_CONFIG)) {
            log_warn("service '%s': a restart cannot help (status %d)",
                     svc->name,
                     WEXITSTATUS(wstatus));
            svc->give_up = true;
        }
        if (svc->critical) {
            service_count_critical_exit(s, svc, now);
        }
    }
    service_apply(s, index, SVC_EV_EXIT, ctx, now, wstatus, DEADLINE_NONE);
}

void
services_child_exited(struct services *s,
                      const struct service_ctx *ctx,
                      const struct child *c,
                      int wstatus,
                      uint64_t now)
{
    struct service *svc;
    size_t index = (size_t)c->index;

    if (index >= s->count) {
        return;
    }
    svc = &s->svc[index];
    if (c->kind == CHILD_CHECK) {
        if (c->pid == svc->check_pid) {
            svc->check_pid = 0;
            service_apply(s, index, SVC_EV_CHECKED, ctx, now, wstatus, 0);
        }
        return;
    }
    if (c->kind == CHILD_FINISH) {
        if (c->pid != svc->finish_pid) {
            return; /* an abandoned one, at last */
        }
        svc->finish_pid = 0;
        /* s6's convention: finish exiting 125 means "do not restart". */
        if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 125) {
            log_info("service '%s': finish exited 125, not restarted",
                     svc->name);
            svc->give_up = true;
        }
        service_apply(s, index, SVC_EV_FINISHED, ctx, now, wstatus, 0);
        return;
    }
    if (c->pid != svc->pid) {
        return; /* an abandoned run, at last */
    }
    services_drain_output(s, index, ctx, true);
    service_run_ended(s, index, ctx, wstatus, now);
}

uint64_t
services_tick(struct services *s, const struct service_ctx *ctx, uint64_t now)
{
    uint64_t next = DEADLINE_NONE;

    for (size_t i = 0; i < s->count; i++) {
        struct service *svc = &s->svc[i];

        if (svc->deadline <= now) {
            service_apply(s, i, SVC_EV_TIMEOUT, ctx, now, 0, DEADLINE_NONE);
        }
        next = deadline_min(next, svc->deadline);
        if (svc->turn_until > now) {
            next = deadline_min(next, svc->turn_until);
        }
        if (svc->drain_until > now && svc->pid > 0) {
            next = deadline_min(next, svc->drain_until);
        }
    }
    return next;
}

int
services_take_critical(struct services *s)
{
    int code = s->critical_code;

    s->critical_code = -1;
    return code;
}

void
services_begin_stop(struct services *s,
                    const struct service_ctx *ctx,
                    uint64_t now,
                    uint64_t budget)
{
    if (s->stopping) {
        return;
    }
    s->stopping = true;
    s->budget = budget;
    /* Nothing waiting to start starts any more; a stop or finish under
     * way gets the budget as its latest deadline. Running services wait
     * for their turn (services_stop_step). */
    for (size_t i = 0; i < s->count; i++) {
        enum service_state st = s->svc[i].state;
        if (st != SVC_UP && st != SVC_READY) {
            service_apply(s, i, SVC_EV_STOP, ctx, now, 0, budget);
        }
    }
}

/* Is the service waiting for a process of its own to end? */
static bool
service_busy(const struct service *svc)
{
    return svc->pid > 0 || svc->finish_pid > 0;
}

void
services_kill_all(struct services *s,
                  const struct service_ctx *ctx,
                  uint64_t now)
{
    /* The end of a stop: nothing restarts, every deadline is now. */
    s->stopping = true;
    s->budget = now;
    for (size_t i = 0; i < s->count; i++) {
        struct service *svc = &s->svc[i];

        /* Through the table: the down signal now (if it had none yet),
         * then the overdue deadline's SIGKILL. */
        service_apply(s, i, SVC_EV_STOP, ctx, now, 0, now);
        if (service_busy(svc) && !svc->killed) {
            service_apply(s, i, SVC_EV_TIMEOUT, ctx, now, 0, DEADLINE_NONE);
        }
    }
}

/* A logger's turn at the stop comes after its service's: as runsv does,
 * PID 1 closes its copy of the pipe's write end, so the logger reads what
 * is left, gets end of file once the service (and anything it left
 * holding the pipe) is gone, and exits by itself. It gets its down signal
 * only if it is still there after half its share of the budget, at most
 * SERVICE_LOG_DRAIN_MS. */
static void
logger_end_of_input(struct services *s,
                    struct service *logger,
                    uint64_t now,
                    uint64_t share)
{
    struct service *svc = &s->svc[logger->logs_for];
    uint64_t drain = share / 2;

    if (drain > SERVICE_LOG_DRAIN_MS) {
        drain = SERVICE_LOG_DRAIN_MS;
    }
    if (svc->log_wfd >= 0) {
        (void)close(svc->log_wfd);
        svc->log_wfd = -1;
    }
    logger->drain_until = now + (drain > 0 ? drain : 1);
    log_info("service '%s': end of input, %llu ms to finish before its "
             "down signal",
             logger->name,
             (unsigned long long)drain);
}

bool
services_stop_step(struct services *s,
                   const struct service_ctx *ctx,
                   uint64_t now,
                   uint64_t deadline)
{
    bool left = false;

    services_begin_stop(s, ctx, now, deadline);
    for (size_t i = s->count; i-- > 0;) {
        struct service *svc = &s->svc[i];

        if (svc->state == SVC_STOPPING || svc->state == SVC_FINISHING) {
            left = left || service_busy(svc);
            if (now < svc->turn_until && service_busy(svc)) {
                return false; /* its turn: one at a time, in order */
            }
            /* Its turn is over (or it never had one: a restart or a
             * finish under way when the stop began): it keeps its
             * deadline, and the next one is not held up by it. */
            continue;
        }
        if (svc->pid > 0) {
            size_t waiting = 1;
            for (size_t k = 0; k < i; k++) {
                waiting += s->svc[k].pid > 0 && s->svc[k].state != SVC_STOPPING;
            }
            uint64_t share = deadline > now ? (deadline - now) / waiting : 0;
            char name[SIG_NAME_MAX];

            if (svc->logs_for >= 0 && svc->drain_until == 0) {
                logger_end_of_input(s, svc, now, share);
                return false;
            }
            if (now < svc->drain_until) {
                return false; /* a logger reading what is left */
            }
            log_info("service '%s': stopping with SIG%s",
                     svc->name,
                     sig_to_string(svc->down_signal, name, sizeof(name)));
            /* An equal share of what is left of the budget each, so one
             * service ignoring its signal cannot starve the others of a
             * graceful stop. Its finish script runs within the share. */
            svc->turn_until = now + share;
            service_apply(s, i, SVC_EV_STOP, ctx, now, 0, deadline);
            return false;
        }
    }
    return !left;
}

/* ---- Output: prefixed lines to the container's stdout ----------------
 *
 * PID 1 must never wait for whoever reads its stdout: it writes through a
 * non-blocking handle (nbout.h), keeps what does not fit now in a bounded
 * buffer, and while that buffer is full stops reading the services'
 * pipes, so a service feels the backpressure it would feel writing to the
 * container's stdout itself, and PID 1 goes on reaping and forwarding. */

int
services_output_init(struct services *s, int fd)
{
    s->pending_len = 0;
    s->dropped = 0;
    return nbout_open(&s->out, fd);
}

/* The next line of the pending buffer, written in one write (pipe(7): up
 * to PIPE_BUF bytes go whole or not at all, so lines never interleave with
 * other writers). Returns true when the buffer emptied. */
bool
services_flush_output(struct services *s)
{
    while (s->pending_len > 0) {
        const char *nl = memchr(s->pending, '\n', s->pending_len);
        size_t len =
            nl != NULL ? (size_t)(nl - s->pending) + 1 : s->pending_len;
        ssize_t w = nbout_write(&s->out, s->pending, len);

        if (w == -EAGAIN || w == 0) {
            return false;
        }
        if (w < 0) {
            /* EPIPE and the like: nobody will ever read it. */
            s->dropped++;
            w = (ssize_t)len;
        }
        memmove(s->pending, s->pending + w, s->pending_len - (size_t)w);
        s->pending_len -= (size_t)w;
    }
    return true;
}

bool
services_output_blocked(const struct services *s)
{
    return sizeof(s->pending) - s->pending_len <
           SERVICE_NAME_MAX + SERVICE_LINE_MAX + 3;
}

int
services_output_poll_fd(const struct services *s)
{
    return s->pending_len > 0 ? nbout_poll_fd(&s->out) : -1;
}

/* "NAME: data\n", written at once when nothing is pending, else queued
 * behind what is. Returns false when there is no room: the caller keeps
 * the line and tries again once the output drained. */
static bool
emit_line(struct services *s,
          const struct service *svc,
          const char *data,
          size_t len)
{
    char out[SERVICE_NAME_MAX + SERVICE_LINE_MAX + 4];
    size_t nlen = strlen(svc->name), total = nlen + 3 + len;
    ssize_t w = -EAGAIN;

    memcpy(out, svc->name, nlen);
    memcpy(out + nlen, ": ", 2);
    memcpy(out + nlen + 2, data, len);
    out[nlen + 2 + len] = '\n';
    if (s->pending_len == 0 || services_flush_output(s)) {
        w = nbout_write(&s->out, out, total);
        if (w == (ssize_t)total) {
            return true;
        }
        if (w < 0 && w != -EAGAIN) {
            s->dropped++;
            return true;
        }
    }
    if (w < 0) {
        w = 0;
    }
    /* A partial write (a terminal, or a line over PIPE_BUF): the rest
     * must follow before anything else. */
    if (sizeof(s->pending) - s->pending_len < total - (size_t)w) {
        return w == 0 ? false : (s->dropped++, true);
    }
    memcpy(s->pending + s->pending_len, out + w, total - (size_t)w);
    s->pending_len += total - (size_t)w;
    return true;
}

/* Emits the complete lines at the start of svc->line; returns false when
 * the output is full (the rest stays in svc->line). */
static bool
emit_buffered_lines(struct services *s, struct service *svc)
{
    size_t start = 0;
    bool ok = true;

    for (size_t i = 0; i < svc->line_len; i++) {
        if (svc->line[i] == '\n') {
            if (!emit_line(s, svc, svc->line + start, i - start)) {
                ok = false;
                break;
            }
            start = i + 1;
        }
    }
    memmove(svc->line, svc->line + start, svc->line_len - start);
    svc->line_len -= start;
    if (ok && svc->line_len == sizeof(svc->line)) {
        /* A line longer than the buffer is split, never dropped. */
        ok = emit_line(s, svc, svc->line, svc->line_len);
        if (ok) {
            svc->line_len = 0;
        }
    }
    return ok;
}

void
services_drain_output(struct services *s,
                      size_t index,
                      const struct service_ctx *ctx,
                      bool flush_partial)
{
    struct service *svc = &s->svc[index];
    /* Bounded per call so one chatty service cannot starve the loop. */
    int budget = 64;

    (void)ctx;
    /* Lines read before the output filled up go first. */
    bool room = emit_buffered_lines(s, svc);
    while (room && svc->out_fd >= 0 && budget-- > 0 &&
           svc->line_len < sizeof(svc->line)) {
        ssize_t n = read(svc->out_fd,
                         svc->line + svc->line_len,
                         sizeof(svc->line) - svc->line_len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        svc->line_len += (size_t)n;
        room = emit_buffered_lines(s, svc);
    }
    if (flush_partial && room && svc->line_len > 0) {
        /* The service is gone: its last, unterminated line. */
        if (!emit_line(s, svc, svc->line, svc->line_len)) {
            s->dropped++;
        }
        svc->line_len = 0;
    }
}

bool
services_line_waiting(const struct services *s, size_t index)
{
    const struct service *svc = &s->svc[index];

    return memchr(svc->line, '\n', svc->line_len) != NULL ||
           svc->line_len == sizeof(svc->line);
}

/* The index of the service a control request names: -ENOENT when there
 * is none, -ECANCELED once the container stops (nothing restarts). */
static long
service_for_request(const struct services *s, const char *name)
{
    for (size_t i = 0; i < s->count; i++) {
        if (strcmp(s->svc[i].name, name) == 0) {
            return s->stopping ? -ECANCELED : (long)i;
        }
    }
    return -ENOENT;
}

int
services_request_restart(struct services *s,
                         const struct service_ctx *ctx,
                         const char *name,
                         uint64_t now,
                         uint64_t grace_ms)
{
    long i = service_for_request(s, name);
    struct service *svc;

    if (i < 0) {
        return (int)i;
    }
    svc = &s->svc[i];
    log_info("service '%s': restart requested", name);
    /* The next start comes without backoff, once it is down (and its
     * finish script, if any, has run). */
    svc->restart_now = true;
    svc->give_up = false;
    svc->want_down = false; /* runit's restart is up, then TERM */
    /* As at a container stop: SIGKILL if it ignores its down signal for
     * grace_ms. */
    service_apply(s, (size_t)i, SVC_EV_RESTART, ctx, now, 0, now + grace_ms);
    return 0;
}

int
services_request_updown(struct services *s,
                        const struct service_ctx *ctx,
                        const char *name,
                        bool up,
                        uint64_t now,
                        uint64_t grace_ms)
{
    long i = service_for_request(s, name);
    struct service *svc;

    if (i < 0) {
        return (int)i;
    }
    svc = &s->svc[i];
    if (svc->want_down != !up) {
        log_info("service '%s': %s requested", name, up ? "up" : "down");
    }
    svc->want_down = !up;
    if (up) {
        svc->give_up = false;
        /* Still stopping from a down: it starts again, at once, once it
         * is gone. (Not running: UP starts it now.) */
        if (svc->state == SVC_STOPPING || svc->state == SVC_FINISHING) {
            svc->restart_now = true;
        }
    }
    service_apply(s,
                  (size_t)i,
                  up ? SVC_EV_UP : SVC_EV_DOWN,
                  ctx,
                  now,
                  0,
                  now + grace_ms);
    return 0;
}

/* One service's part of a `sv status` line, runit's sv.c format. */
static int
format_sv_one(const struct service *svc,
              const char *label,
              uint64_t now,
              char *buf,
              size_t size)
{
    bool running = svc_is_running(svc->state);
    pid_t pid = svc->state == SVC_FINISHING ? svc->finish_pid : svc->pid;
    uint64_t since = running ? svc->started_at : svc->down_since;
    const char *what = svc->state == SVC_FINISHING ? "finish"
                       : running                   ? "run"
                                                   : "down";
    const char *note = "";
    int n;

    if (svc->state == SVC_FINISHING) {
        since = svc->finish_at;
    }
    if (running && svc->want_down) {
        note = ", want down";
    } else if (!running && !svc->want_down &&
               (svc->state == SVC_BACKOFF || svc->state == SVC_STARTING)) {
        note = ", want up";
    }
    if (running) {
        n = snprintf(
            buf,
            size,
            "%s: %s: (pid %d) %llus%s",
            what,
            label,
            (int)pid,
            (unsigned long long)(now > since ? (now - since) / 1000 : 0),
            note);
    } else {
        /* Every service in the table is normally up: one with a down
         * file is not in it (services_scan). */
        n = snprintf(
            buf,
            size,
            "%s: %s: %llus, normally up%s",
            what,
            label,
            (unsigned long long)(now > since ? (now - since) / 1000 : 0),
            note);
    }
    return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int
services_format_sv(const struct services *s,
                   const char *name,
                   uint64_t now,
                   char *buf,
                   size_t size)
{
    for (size_t i = 0; i < s->count; i++) {
        const struct service *svc = &s->svc[i];
        int n, m;

        if (strcmp(svc->name, name) != 0) {
            continue;
        }
        n = format_sv_one(svc, name, now, buf, size);
        if (n < 0) {
            return n;
        }
        for (size_t k = 0; k < s->count; k++) {
            if (s->svc[k].logs_for == (int)i) {
                if ((size_t)n + 2 >= size) {
                    return -ENOSPC;
                }
                buf[n++] = ';';
                buf[n++] = ' ';
                m = format_sv_one(&s->svc[k], "log", now, buf + n, size - n);
                if (m < 0) {
                    return m;
                }
                n += m;
            }
        }
        if ((size_t)n + 1 >= size) {
            return -ENOSPC;
        }
        buf[n++] = '\n';
        buf[n] = '\0';
        return n;
    }
    return -ENOENT;
}

size_t
services_format_status(const struct services *s,
                       uint64_t now,
                       char *buf,
                       size_t size)
{
    size_t len = 0;
    int n;

    n = snprintf(buf,
                 size,
                 "%-20s %-9s %5s %8s %10s %8s %5s\n",
                 "SERVICE",
                 "STATE",
                 "READY",
                 "PID",
                 "UPTIME",
                 "RESTARTS",
                 "LAST");
    if (n < 0 || (size_t)n >= size) {
        return 0;
    }
    len = (size_t)n;
    for (size_t i = 0; i < s->count; i++) {
        const struct service *svc = &s->svc[i];
        char uptime[24] = "-", last[12] = "-";

        if (svc->pid > 0) {
            snprintf(uptime,
                     sizeof(uptime),
                     "%.1fs",
                     (double)(now - svc->started_at) / 1000.0);
        }
        if (svc->last_code >= 0) {
            snprintf(last, sizeof(last), "%d", svc->last_code);
        }
        n = snprintf(buf + len,
                     size - len,
                     "%-20s %-9s %5s %8d %10s %8u %5s\n",
                     svc->name,
                     service_state_name(svc->state),
                     svc->state == SVC_READY ? "yes" : "no",
                     (int)svc->pid,
                     uptime,
                     svc->restarts,
                     last);
        if (n < 0 || (size_t)n >= size - len) {
            break;
        }
        len += (size_t)n;
    }
    return len;
}

/* Removes entry i: its pipe ends are closed and the logs_for indices of
 * the loggers after it move down with them. Before anything started. */
static void
services_remove_at(struct services *s, size_t i)
{
    struct service *svc = &s->svc[i];

    if (svc->log_wfd >= 0) {
        (void)close(svc->log_wfd);
    }
    if (svc->log_rfd >= 0) {
        (void)close(svc->log_rfd);
    }
    memmove(&s->svc[i], &s->svc[i + 1], (s->count - i - 1) * sizeof(s->svc[0]));
    s->count--;
    for (size_t k = 0; k < s->count; k++) {
        if (s->svc[k].logs_for > (int)i) {
            s->svc[k].logs_for--;
        }
    }
}

bool
services_drop(struct services *s, const char *name)
{
    for (size_t i = 0; i < s->count; i++) {
        if (strcmp(s->svc[i].name, name) != 0) {
            continue;
        }
        /* Nothing was started yet. Its log/run logger, if it has one,
         * goes with it: it would wait on a pipe nobody writes. */
        for (size_t k = 0; k < s->count; k++) {
            if (s->svc[k].logs_for == (int)i) {
                services_remove_at(s, k);
                if (k < i) {
                    i--;
                }
                break;
            }
        }
        services_remove_at(s, i);
        return true;
    }
    return false;
}

size_t
services_format_status_json(const struct services *s,
                            uint64_t now,
                            char *buf,
                            size_t size)
{
    size_t len = 0;
    int n;

    /* Names need no escaping: service_name_ok, "NAME/log" and the
     * built-ins' fixed names. */
    n = snprintf(buf,
                 size,
                 "{\"all_ready\":%s,\"services\":[",
                 services_all_ready(s) ? "true" : "false");
    if (n < 0 || (size_t)n >= size) {
        return 0;
    }
    len = (size_t)n;
    for (size_t i = 0; i < s->count; i++) {
        const struct service *svc = &s->svc[i];
        char last[16] = "null";

        if (svc->last_code >= 0) {
            snprintf(last, sizeof(last), "%d", svc->last_code);
        }
        n = snprintf(
            buf + len,
            size - len,
            "%s{\"name\":\"%s\",\"state\":\"%s\",\"ready\":%s,"
            "\"pid\":%d,\"uptime_ms\":%llu,\"restarts\":%u,"
            "\"last_exit\":%s,\"critical\":%s}",
            i > 0 ? "," : "",
            svc->name,
            service_state_name(svc->state),
            svc->state == SVC_READY ? "true" : "false",
            (int)svc->pid,
            (unsigned long long)(svc->pid > 0 ? now - svc->started_at : 0),
            svc->restarts,
            last,
            svc->critical ? "true" : "false");
        /* Cut whole records only, so what is sent is always JSON. */
        if (n < 0 || (size_t)n >= size - len - 3) {
            break;
        }
        len += (size_t)n;
    }
    n = snprintf(buf + len, size - len, "]}\n");
    if (n < 0 || (size_t)n >= size - len) {
        return 0;
    }
    return len + (size_t)n;
}

int
services_ready_state(const struct services *s,
                     const char *name,
                     char *buf,
                     size_t size)
{
    if (name == NULL || name[0] == '\0') {
        if (services_all_ready(s)) {
            snprintf(buf, size, "ready\n");
            return 1;
        }
        size_t n = (size_t)snprintf(buf, size, "waiting: ");
        services_laggards(s, buf + n, size - n - 1);
        strcat(buf, "\n");
        return 0;
    }
    for (size_t i = 0; i < s->count; i++) {
        const struct service *svc = &s->svc[i];
        if (strcmp(svc->name, name) != 0) {
            continue;
        }
        if (svc->state == SVC_READY) {
            snprintf(buf, size, "ready\n");
            return 1;
        }
        snprintf(buf,
                 size,
                 "%s: %s (%s)\n",
                 svc->state == SVC_FAILED ? "failed" : "waiting",
                 svc->name,
                 service_state_name(svc->state));
        return svc->state == SVC_FAILED ? -1 : 0;
    }
    return -ENOENT;
}
