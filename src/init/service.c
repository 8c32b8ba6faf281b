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
#include "common/safeio.h"
#include "common/sigutil.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "init/spawn.h"

uint64_t
service_next_backoff(uint64_t last_ms, uint64_t uptime_ms)
{
    if (last_ms == 0 || uptime_ms >= SERVICE_STABLE_MS) {
        return SERVICE_BACKOFF_MIN;
    }
    if (last_ms >= SERVICE_BACKOFF_MAX / 2) {
        return SERVICE_BACKOFF_MAX;
    }
    return last_ms * 2;
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

/* Reads the service's down-signal file, if any; SIGTERM otherwise. */
static int
read_down_signal(const char *dir, const char *name)
{
    char path[PATH_MAX + 16], buf[32];
    size_t len = 0;
    int fd, sig;

    snprintf(path, sizeof(path), "%s/down-signal", dir);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return SIGTERM;
    }
    if (read_all(fd, buf, sizeof(buf) - 1, &len) < 0) {
        len = 0;
    }
    (void)close(fd);
    buf[len] = '\0';
    buf[strcspn(buf, " \t\r\n")] = '\0';
    sig = service_parse_signal(buf);
    if (sig < 0) {
        log_warn("service '%s': down-signal '%s' is not a signal, using TERM",
                 name,
                 buf);
        return SIGTERM;
    }
    return sig;
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
    svc->pass_fd = -1;
    svc->down_signal = SIGTERM;
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
        struct service *svc;

        if (snprintf(dir, sizeof(dir), "%s/%s", service_dir, names[i]) >=
            (int)sizeof(dir)) {
            log_warn("service '%s': path too long, skipped", names[i]);
        } else if (service_dir_usable(dir, names[i]) &&
                   (svc = service_new(s, names[i])) != NULL) {
            copy_string(svc->dir, sizeof(svc->dir), dir);
            copy_string(svc->exe, sizeof(svc->exe), "./run");
            svc->down_signal = read_down_signal(dir, names[i]);
            s->count++;
            added++;
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

static void
service_schedule_restart(struct service *svc, uint64_t now)
{
    uint64_t uptime = now - svc->started_at;

    svc->backoff_ms =
        svc->restart_now ? 0 : service_next_backoff(svc->backoff_ms, uptime);
    svc->restart_at = now + svc->backoff_ms;
    svc->restart_now = false;
    svc->state = SVC_BACKOFF;
}

static void
service_start(struct service *svc,
              size_t index,
              const struct service_ctx *ctx,
              uint64_t now)
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
    int r, exec_errno;
    pid_t pid;

    svc->started_at = now;
    svc->killed = false;
    r = service_open_pipe(svc);
    if (r < 0) {
        log_errno(LOG_LEVEL_ERROR, r, "service '%s': pipe", svc->name);
        service_schedule_restart(svc, now);
        return;
    }
    o.stdout_fd = svc->out_wfd;
    o.stderr_fd = svc->out_wfd;
    if (svc->pass_fd >= 0) {
        o.pass_fds = &svc->pass_fd;
        o.npass_fds = 1;
    }
    r = spawn_process(argv, &o, &pid, &exec_errno);
    if (r < 0) {
        log_errno(LOG_LEVEL_ERROR,
                  r,
                  "service '%s': cannot start '%s'",
                  svc->name,
                  svc->exe);
        service_schedule_restart(svc, now);
        return;
    }
    if (children_add(ctx->children, pid, CHILD_SERVICE, (int)index) < 0) {
        /* Cannot track it: stop it rather than run it unsupervised. */
        log_error("service '%s': child table full, stopping it", svc->name);
        (void)kill(pid, SIGKILL);
    }
    svc->pid = pid;
    svc->state = SVC_UP;
    log_info("service '%s': started, pid %d", svc->name, (int)pid);
}

void
services_start_all(struct services *s,
                   const struct service_ctx *ctx,
                   uint64_t now)
{
    for (size_t i = 0; i < s->count; i++) {
        service_start(&s->svc[i], i, ctx, now);
    }
}

static void
service_run_finish(struct service *svc,
                   size_t index,
                   const struct service_ctx *ctx,
                   int wstatus)
{
    char code[16], sig[16], path[PATH_MAX + 8];
    char *argv[] = {"./finish", code, sig, NULL};
    struct spawn_opts o = {
        .child_mask = ctx->child_mask,
        .group = SPAWN_NEW_SESSION,
        .stdout_fd = svc->out_wfd,
        .stderr_fd = svc->out_wfd,
        .envp = ctx->envp,
        .cwd = svc->dir,
    };
    int exec_errno;
    pid_t pid;

    snprintf(path, sizeof(path), "%s/finish", svc->dir);
    if (svc->builtin || access(path, X_OK) < 0) {
        return;
    }
    /* runit's convention: exit code (-1 if killed) and signal number. */
    snprintf(code,
             sizeof(code),
             "%d",
             WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    snprintf(sig,
             sizeof(sig),
             "%d",
             WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
    if (spawn_process(argv, &o, &pid, &exec_errno) < 0) {
        log_warn("service '%s': finish script failed to start", svc->name);
        return;
    }
    if (children_add(ctx->children, pid, CHILD_FINISH, (int)index) < 0) {
        (void)kill(pid, SIGKILL);
        return;
    }
    svc->finish_pid = pid;
    svc->state = SVC_FINISHING;
}

void
services_child_exited(struct services *s,
                      const struct service_ctx *ctx,
                      const struct child *c,
                      int wstatus,
                      uint64_t now,
                      bool stopping)
{
    struct service *svc;
    size_t index = (size_t)c->index;

    if (index >= s->count) {
        return;
    }
    svc = &s->svc[index];
    if (c->kind == CHILD_FINISH) {
        svc->finish_pid = 0;
        if (svc->state == SVC_FINISHING) {
            service_schedule_restart(svc, now);
        }
        return;
    }
    services_drain_output(s, index, ctx, true);
    svc->pid = 0;
    svc->last_code = exit_code_from_status(wstatus);
    if (WIFSIGNALED(wstatus)) {
        log_info("service '%s': killed by signal %d after %llu ms",
                 svc->name,
                 WTERMSIG(wstatus),
                 (unsigned long long)(now - svc->started_at));
    } else {
        log_info("service '%s': exited with status %d after %llu ms",
                 svc->name,
                 WEXITSTATUS(wstatus),
                 (unsigned long long)(now - svc->started_at));
    }
    if (stopping) {
        svc->state = SVC_DOWN;
        return;
    }
    if (svc->builtin && WIFEXITED(wstatus) &&
        (WEXITSTATUS(wstatus) == SERVICE_EXIT_DONT_RESTART ||
         WEXITSTATUS(wstatus) == SERVICE_EXIT_BAD_CONFIG)) {
        log_warn("service '%s': a restart cannot help (status %d), "
                 "not restarted; the app goes on",
                 svc->name,
                 WEXITSTATUS(wstatus));
        svc->state = SVC_FAILED;
        return;
    }
    svc->restarts++;
    service_run_finish(svc, index, ctx, wstatus);
    if (svc->state != SVC_FINISHING) {
        service_schedule_restart(svc, now);
    }
    if (svc->state == SVC_BACKOFF && svc->backoff_ms > 0) {
        log_info("service '%s': restarting in %llu ms",
                 svc->name,
                 (unsigned long long)svc->backoff_ms);
    }
}

uint64_t
services_tick(struct services *s,
              const struct service_ctx *ctx,
              uint64_t now,
              bool stopping)
{
    uint64_t next = DEADLINE_NONE;

    for (size_t i = 0; i < s->count; i++) {
        struct service *svc = &s->svc[i];

        if (svc->state == SVC_BACKOFF && !stopping) {
            if (svc->restart_at <= now) {
                service_start(svc, i, ctx, now);
            } else {
                next = deadline_min(next, svc->restart_at);
            }
        }
        if (svc->state == SVC_STOPPING && svc->pid > 0) {
            if (svc->stop_deadline <= now && svc->killed) {
                /* Survived SIGKILL (uninterruptible sleep): give up on
                 * it rather than hold the stop forever. */
                log_error("service '%s': pid %d does not die, abandoned",
                          svc->name,
                          (int)svc->pid);
                svc->pid = 0;
                svc->state = SVC_DOWN;
            } else if (svc->stop_deadline <= now) {
                log_warn("service '%s': still running after the grace "
                         "period, sending SIGKILL",
                         svc->name);
                (void)kill(-svc->pid, SIGKILL);
                (void)kill(svc->pid, SIGKILL);
                svc->killed = true;
                svc->stop_deadline = now + SERVICE_KILL_REAP_MS;
                next = deadline_min(next, svc->stop_deadline);
            } else {
                next = deadline_min(next, svc->stop_deadline);
                if (svc->turn_until > now) {
                    next = deadline_min(next, svc->turn_until);
                }
            }
        }
    }
    return next;
}

/* Sends the down signal to the service's session (it is a session and
 * group leader), and SIGCONT so a stopped service can act on it. */
static void
service_signal_down(struct service *svc)
{
    if (kill(-svc->pid, svc->down_signal) < 0) {
        (void)kill(svc->pid, svc->down_signal);
    }
    (void)kill(-svc->pid, SIGCONT);
}

void
services_kill_all(struct services *s, uint64_t reap_deadline)
{
    for (size_t i = 0; i < s->count; i++) {
        struct service *svc = &s->svc[i];

        if (svc->pid > 0) {
            (void)kill(-svc->pid, SIGKILL);
            (void)kill(svc->pid, SIGKILL);
            svc->state = SVC_STOPPING;
            svc->killed = true;
            svc->stop_deadline = reap_deadline;
        }
        if (svc->finish_pid > 0) {
            (void)kill(svc->finish_pid, SIGKILL);
        }
    }
}

bool
services_stop_step(struct services *s, uint64_t now, uint64_t deadline)
{
    bool left = false;

    for (size_t i = s->count; i-- > 0;) {
        struct service *svc = &s->svc[i];

        if (svc->state == SVC_STOPPING && svc->pid > 0) {
            left = true;
            if (now < svc->turn_until) {
                return false; /* its turn: one at a time, in order */
            }
            /* Its turn is over: it keeps its down signal until the
             * deadline, and the next one is not held up by it. */
            continue;
        }
        if (svc->pid > 0) {
            size_t waiting = 1;
            for (size_t k = 0; k < i; k++) {
                waiting += s->svc[k].pid > 0 && s->svc[k].state != SVC_STOPPING;
            }
            log_info("service '%s': stopping with signal %d",
                     svc->name,
                     svc->down_signal);
            svc->state = SVC_STOPPING;
            svc->stop_deadline = deadline;
            /* An equal share of what is left of the budget each, so one
             * service ignoring its signal cannot starve the others of a
             * graceful stop. */
            svc->turn_until =
                now + (deadline > now ? (deadline - now) / waiting : 0);
            service_signal_down(svc);
            return false;
        }
        if (svc->finish_pid > 0) {
            (void)kill(svc->finish_pid, SIGKILL);
            left = true;
            continue;
        }
        svc->state = SVC_DOWN;
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

int
services_request_restart(struct services *s,
                         const char *name,
                         uint64_t now,
                         uint64_t grace_ms)
{
    for (size_t i = 0; i < s->count; i++) {
        struct service *svc = &s->svc[i];

        if (strcmp(svc->name, name) != 0) {
            continue;
        }
        log_info("service '%s': restart requested", name);
        svc->restart_now = true;
        if (svc->pid > 0) {
            /* As at shutdown: SIGKILL if it ignores its down signal. */
            svc->state = SVC_STOPPING;
            svc->stop_deadline = now + grace_ms;
            svc->killed = false;
            service_signal_down(svc);
        } else if (svc->state == SVC_BACKOFF || svc->state == SVC_FAILED ||
                   svc->state == SVC_DOWN) {
            svc->restart_at = now;
            svc->state = SVC_BACKOFF;
            svc->restart_now = false;
        }
        return 0;
    }
    return -ENOENT;
}

const char *
service_state_name(enum service_state st)
{
    switch (st) {
    case SVC_DOWN:
        return "down";
    case SVC_UP:
        return "up";
    case SVC_FINISHING:
        return "finishing";
    case SVC_BACKOFF:
        return "backoff";
    case SVC_STOPPING:
        return "stopping";
    case SVC_FAILED:
        return "failed";
    }
    return "?";
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
                 "%-20s %-9s %8s %10s %8s\n",
                 "SERVICE",
                 "STATE",
                 "PID",
                 "UPTIME",
                 "RESTARTS");
    if (n < 0 || (size_t)n >= size) {
        return 0;
    }
    len = (size_t)n;
    for (size_t i = 0; i < s->count; i++) {
        const struct service *svc = &s->svc[i];
        char uptime[24] = "-";

        if (svc->pid > 0) {
            snprintf(uptime,
                     sizeof(uptime),
                     "%.1fs",
                     (double)(now - svc->started_at) / 1000.0);
        }
        n = snprintf(buf + len,
                     size - len,
                     "%-20s %-9s %8d %10s %8u\n",
                     svc->name,
                     service_state_name(svc->state),
                     (int)svc->pid,
                     uptime,
                     svc->restarts);
        if (n < 0 || (size_t)n >= size - len) {
            break;
        }
        len += (size_t)n;
    }
    return len;
}

bool
services_drop(struct services *s, const char *name)
{
    for (size_t i = 0; i < s->count; i++) {
        if (strcmp(s->svc[i].name, name) != 0) {
            continue;
        }
        /* Nothing was started: no pid, no pipe, so moving entries down is
         * all it takes. */
        memmove(&s->svc[i],
                &s->svc[i + 1],
                (s->count - i - 1) * sizeof(s->svc[0]));
        s->count--;
        return true;
    }
    return false;
}
