#include "init/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/backoff.h"
#include "common/groupstop.h"
#include "common/log.h"
#include "common/sigutil.h"
#include "common/timeutil.h"
#include "init/control.h"
#include "init/killall.h"
#include "common/spawn.h"

/* After SIGKILL to everything, how long to wait for the kernel to finish
 * them (a process in uninterruptible sleep may never go). */
#define KILL_REAP_MS       2000
#define APP_RETRY_MIN_MS   100
#define APP_RETRY_MAX_MS   2000
#define APP_SPAWN_ATTEMPTS 10
#define SIGNALS_PER_WAKEUP 64

static const int fault_signals[] = {
    SIGSEGV,
    SIGBUS,
    SIGILL,
    SIGFPE,
    SIGABRT,
    SIGTRAP,
    SIGSYS,
};

int
supervisor_block_signals(struct supervisor *sup)
{
    int r;

    /* An ignored signal is discarded even while blocked, so it would never
     * reach the signalfd; and children inherit ignored dispositions across
     * exec. Whatever the runtime ignored, start from the defaults. */
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            (void)signal(sig, SIG_DFL);
        }
    }
    /* Everything else is blocked and read from the signalfd, 32 and 33
     * (glibc's) included, so no signal can kill or stop PID 1. The
     * synchronous faults stay unblocked: blocking them changes nothing for
     * a real fault (the kernel forces those), and airlock forwards none of
     * them, as tini and catatonit do not. */
    r = signals_block_all(fault_signals,
                          sizeof(fault_signals) / sizeof(fault_signals[0]),
                          &sup->child_mask);
    if (r < 0) {
        return r;
    }
    sup->sfd = r;
    return 0;
}

enum stop_stage
supervisor_next_stage(enum stop_stage stage, bool kill_all)
{
    switch (stage) {
    case STAGE_RUN:
        return STAGE_STOP_APP;
    case STAGE_STOP_APP:
        return STAGE_PRE_HOOKS;
    case STAGE_PRE_HOOKS:
        return STAGE_HOOKS;
    case STAGE_HOOKS:
        return STAGE_STOP_SERVICES;
    case STAGE_STOP_SERVICES:
        return STAGE_POST_HOOKS;
    case STAGE_POST_HOOKS:
        return kill_all ? STAGE_TERM_ALL : STAGE_DONE;
    case STAGE_TERM_ALL:
        return STAGE_KILL_ALL;
    case STAGE_KILL_ALL:
    case STAGE_DONE:
        break;
    }
    return STAGE_DONE;
}

static struct service_ctx
service_ctx_of(struct supervisor *sup)
{
    struct service_ctx ctx = {
        .child_mask = &sup->child_mask,
        .envp = sup->envp,
        .children = &sup->children,
    };
    return ctx;
}

/* Forwards sig, a signal airlock received (or SIGTERM for "stop the
 * app"), to the app or its group, as --rewrite and the stop signal say.
 * A stop (SIGTERM, SIGINT) is followed by SIGCONT: a stopped app must run
 * to act on it. Unreaped, the app's pid cannot be reused, so no race. */
static void
signal_app(struct supervisor *sup, int sig)
{
    char name[SIG_NAME_MAX], to_name[SIG_NAME_MAX];
    int to = config_app_signal(sup->cfg, sig);
    pid_t target;

    (void)sig_to_string(sig, name, sizeof(name));
    if (to == 0) {
        log_debug("signal %s: not forwarded", name);
        return;
    }
    (void)sig_to_string(to, to_name, sizeof(to_name));
    if (sup->app_pid <= 0) {
        log_debug("signal %s: no app running, not forwarded", name);
        return;
    }
    target = sup->cfg->signal_group ? -sup->app_pid : sup->app_pid;
    if (kill(target, to) < 0) {
        log_debug("forwarding SIG%s to %d: %s",
                  to_name,
                  (int)target,
                  strerror(errno));
        return;
    }
    log_debug("signal %s forwarded to %d as SIG%s", name, (int)target, to_name);
    if ((sig == SIGTERM || sig == SIGINT) && to != SIGCONT && to != SIGKILL &&
        kill(target, SIGCONT) < 0) {
        log_debug("SIGCONT to %d: %s", (int)target, strerror(errno));
    }
}

/* The stop has one budget (design.md): every stage waits at most until
 * sup->stop_deadline, set once when the stop begins; a stage ends early
 * as soon as its processes are gone. */
static void
enter_stage(struct supervisor *sup, enum stop_stage stage, uint64_t now)
{
    sup->stage = stage;
    sup->stage_deadline = DEADLINE_NONE;
    switch (stage) {
    case STAGE_PRE_HOOKS:
    case STAGE_STOP_APP:
    case STAGE_HOOKS:
    case STAGE_POST_HOOKS:
        sup->stage_deadline = sup->stop_deadline;
        break;
    case STAGE_TERM_ALL:
        log_debug("sending SIGTERM to every remaining process");
        /* SIGCONT too, so a stopped process can act on the SIGTERM; not
         * when the SIGTERM found nobody (the usual end: the app was the
         * last process). */
        if (killall_signal(SIGTERM, sup->is_pid1) != 0) {
            (void)killall_signal(SIGCONT, sup->is_pid1);
        }
        sup->no_children = false;
        sup->stage_deadline = sup->stop_deadline;
        break;
    case STAGE_KILL_ALL:
        /* Bounded even for a process the kernel cannot kill at once
         * (uninterruptible sleep): airlock exits after KILL_REAP_MS. */
        sup->no_children = false;
        sup->stage_deadline = now + KILL_REAP_MS;
        break;
    case STAGE_RUN:
    case STAGE_STOP_SERVICES:
    case STAGE_DONE:
        break;
    }
}

/* Starts the next hook before index `end` (see struct supervisor), if
 * any; false when all of them have run. */
static bool
start_next_hook(struct supervisor *sup, size_t end)
{
    while (sup->next_hook < end) {
        char *argv[] = {sup->hooks[sup->next_hook++], NULL};
        struct spawn_opts o = {
            .child_mask = &sup->child_mask,
            .group = SPAWN_NEW_SESSION,
            .stdout_fd = -1,
            .stderr_fd = -1,
            .envp = sup->envp,
        };
        struct spawn_failure fail;
        int r;
        pid_t pid;

        r = spawn_process(argv, &o, &pid, &fail);
        if (r < 0) {
            log_errno(LOG_LEVEL_WARN, r, "shutdown hook '%s'", argv[0]);
            continue;
        }
        if (children_add(&sup->children, pid, CHILD_HOOK, 0) < 0) {
            (void)kill(pid, SIGKILL);
            continue;
        }
        log_info("shutdown hook '%s' started", argv[0]);
        sup->hook_pid = pid;
        return true;
    }
    return false;
}

static void reap_all(struct supervisor *sup, uint64_t now);

/* The budget is spent: SIGKILL to the app's group, the running hook's,
 * every service's, and (unless --no-kill-all-on-exit) every process left
 * in the container; then the reaping stage. */
static void
stop_budget_spent(struct supervisor *sup, uint64_t now)
{
    log_warn("stop budget of %llu ms used up, sending SIGKILL to every "
             "process left",
             (unsigned long long)sup->cfg->grace_ms);
    if (sup->app_pid > 0) {
        (void)group_signal(sup->app_pid, SIGKILL);
        sup->app_killed = true;
    }
    if (sup->hook_pid > 0) {
        (void)group_signal(sup->hook_pid, SIGKILL);
        sup->next_hook = sup->nhooks;
    }
    struct service_ctx ctx = service_ctx_of(sup);
    services_kill_all(&sup->services, &ctx, now);
    if (sup->cfg->kill_all_on_exit) {
        (void)killall_signal(SIGKILL, sup->is_pid1);
    }
    enter_stage(sup, STAGE_KILL_ALL, now);
}

/* In STAGE_KILL_ALL: nothing of ours is left (kill-all mode: nothing at
 * all, ECHILD). */
static bool
all_gone(const struct supervisor *sup)
{
    if (sup->cfg->kill_all_on_exit) {
        return sup->no_children;
    }
    return sup->children.count == 0;
}

/* Moves through the stop stages as far as their conditions allow. Each
 * stage moves on as soon as its processes are gone; all share the one
 * deadline of the stop, after which stop_budget_spent ends everything. */
static void
advance_stop(struct supervisor *sup, uint64_t now)
{
    struct service_ctx ctx = service_ctx_of(sup);

    for (;;) {
        enum stop_stage before = sup->stage;
        bool overdue = sup->stage_deadline <= now;

        if (sup->stage != STAGE_RUN && sup->stage != STAGE_DONE &&
            sup->stage != STAGE_KILL_ALL && sup->stop_deadline <= now) {
            stop_budget_spent(sup, now);
            continue;
        }
        switch (sup->stage) {
        case STAGE_RUN:
        case STAGE_DONE:
            return;
        case STAGE_STOP_APP:
            if (sup->app_pid <= 0) {
                enter_stage(sup, STAGE_PRE_HOOKS, now);
            }
            break;
        case STAGE_PRE_HOOKS:
            if (sup->hook_pid <= 0 && !start_next_hook(sup, sup->hooks_pre)) {
                enter_stage(sup, STAGE_HOOKS, now);
            }
            break;
        case STAGE_HOOKS:
            if (sup->hook_pid <= 0 && !start_next_hook(sup, sup->hooks_mid)) {
                enter_stage(sup, STAGE_STOP_SERVICES, now);
            }
            break;
        case STAGE_POST_HOOKS:
            if (sup->hook_pid <= 0 && !start_next_hook(sup, sup->nhooks)) {
                enter_stage(sup,
                            supervisor_next_stage(STAGE_POST_HOOKS,
                                                  sup->cfg->kill_all_on_exit),
                            now);
            }
            break;
        case STAGE_STOP_SERVICES:
            if (services_stop_step(&sup->services,
                                   &ctx,
                                   now,
                                   sup->stop_deadline)) {
                enter_stage(sup, STAGE_POST_HOOKS, now);
            }
            break;
        case STAGE_TERM_ALL:
            reap_all(sup, now);
            if (sup->no_children) {
                enter_stage(sup, STAGE_DONE, now);
            }
            break;
        case STAGE_KILL_ALL:
            reap_all(sup, now);
            if (all_gone(sup) || overdue) {
                enter_stage(sup, STAGE_DONE, now);
            }
            break;
        }
        if (sup->stage == before) {
            return;
        }
    }
}

/* Starts the on-demand collector (main.c, add_syslogd), once. */
static void
collector_start(struct supervisor *sup, uint64_t now)
{
    struct service_ctx ctx = service_ctx_of(sup);

    if (!sup->syslog_on_demand) {
        return;
    }
    sup->syslog_on_demand = false;
    (void)
        services_start_on_demand(&sup->services, COLLECTOR_SERVICE, &ctx, now);
}

/* Whether PID 1 has a child that could still log: any but the
 * environment writer, read from /proc/self/task/TID/children (proc(5);
 * PID 1 has one thread). Every process of the container descends from
 * PID 1, orphans included. When the file cannot be read: yes. */
static bool
may_still_log(const struct supervisor *sup)
{
    char path[64], buf[512];
    const char *p = buf;
    ssize_t n;
    int fd;

    (void)snprintf(path,
                   sizeof(path),
                   "/proc/self/task/%ld/children",
                   (long)getpid());
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return true;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    (void)close(fd);
    if (n < 0 || n == (ssize_t)sizeof(buf) - 1) {
        return true; /* unreadable, or more than fits: assume one logs */
    }
    buf[n] = '\0';
    while (*p != '\0') {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p) {
            break;
        }
        if (pid > 0 && pid != (long)sup->env_writer) {
            return true;
        }
        p = end;
        while (*p == ' ' || *p == '\n') {
            p++;
        }
    }
    return false;
}

/* At the stop, the waiting collector starts if a datagram is queued or
 * any process is left that could still log while it stops; it is then
 * stopped last of the services, after draining its socket. */
static void
collector_start_for_stop(struct supervisor *sup, uint64_t now)
{
    struct pollfd p = {sup->syslog_fd, POLLIN, 0};

    if (!sup->syslog_on_demand) {
        return;
    }
    if ((poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0) ||
        may_still_log(sup)) {
        collector_start(sup, now);
    }
}

/* Begins the stop, once. sig: what began it (SIGTERM, SIGINT; a
 * critical service's end counts as SIGTERM), forwarded to the app at
 * once; 0 when the app is gone or never ran. */
static void
begin_stop(struct supervisor *sup, uint64_t now, int sig)
{
    struct service_ctx ctx = service_ctx_of(sup);

    if (sup->stage == STAGE_RUN) {
        sup->stop_sig = sig;
        collector_start_for_stop(sup, now);
        ctx = service_ctx_of(sup);
        sup->stop_deadline = now + sup->cfg->grace_ms;
        /* From now on no service restarts; one exiting runs its finish
         * script within the budget. */
        services_begin_stop(&sup->services, &ctx, now, sup->stop_deadline);
        enter_stage(sup, STAGE_STOP_APP, now);
        if (sig != 0) {
            signal_app(sup, sig);
        }
    } else if (sig != 0) {
        /* A second SIGTERM or SIGINT during the stop goes on to the app,
         * if it is still there. */
        signal_app(sup, sig);
    }
}

/* A critical service went down for good (service.h): the container stops
 * as on SIGTERM, and airlock exits with that service's status, whatever
 * the app's turns out to be. */
static void
critical_service_down(struct supervisor *sup, uint64_t now)
{
    int code = services_take_critical(&sup->services);

    if (code < 0 || sup->stage != STAGE_RUN) {
        return;
    }
    sup->exit_code = code;
    sup->exit_from_service = true;
    begin_stop(sup, now, SIGTERM);
}

static void
start_app(struct supervisor *sup, uint64_t now)
{
    struct spawn_opts o = {
        .child_mask = &sup->child_mask,
        .group = SPAWN_NEW_GROUP,
        .take_tty = true,
        .stdout_fd = -1,
        .stderr_fd = -1,
        .envp = sup->app_envp != NULL ? sup->app_envp : sup->envp,
    };
    struct spawn_failure fail;
    int r;
    pid_t pid;

    sup->app_retry_at = DEADLINE_NONE;
    sup->app_attempts++;
    if (sup->inherit != NULL) {
        o.pass_fds = sup->inherit->fds;
        o.npass_fds = sup->inherit->nfds;
        o.pid_slot = sup->inherit->pid_slot;
    }
    r = spawn_process(sup->cfg->cmd, &o, &pid, &fail);
    if (r == 0) {
        /* The app has its copies; airlock's would only keep a listening
         * socket open after the app closed it. */
        if (sup->inherit != NULL) {
            inherit_close(sup->inherit);
        }
        sup->app_pid = pid;
        sup->app_started = true;
        sup->no_children = false;
        if (children_add(&sup->children, pid, CHILD_APP, 0) < 0) {
            log_error("child table full while starting the app");
        }
        log_debug("app '%s' started, pid %d", sup->cfg->cmd[0], (int)pid);
        return;
    }
    if (fail.err != 0) {
        log_errno(LOG_LEVEL_ERROR, r, "cannot run '%s'", sup->cfg->cmd[0]);
        sup->exit_code = fail.status;
        begin_stop(sup, now, 0);
        return;
    }
    if ((r == -EAGAIN || r == -ENOMEM) &&
        sup->app_attempts < APP_SPAWN_ATTEMPTS) {
        sup->app_retry_ms =
            backoff_next(sup->app_retry_ms, APP_RETRY_MIN_MS, APP_RETRY_MAX_MS);
        log_errno(LOG_LEVEL_WARN,
                  r,
                  "fork for the app, retrying in %llu ms",
                  (unsigned long long)sup->app_retry_ms);
        sup->app_retry_at = now + sup->app_retry_ms;
        return;
    }
    log_errno(LOG_LEVEL_ERROR, r, "cannot start the app");
    sup->exit_code = 1;
    begin_stop(sup, now, 0);
}

/* Starts the app once every service is ready (or never will be: down,
 * failed), or when AIRLOCK_READY_TIMEOUT has passed: then one line names
 * the laggards, and the app starts anyway, or with
 * AIRLOCK_READY_REQUIRED=yes the start fails (status 1). Does nothing
 * once the app was started or the stop began. */
static void
start_app_when_ready(struct supervisor *sup, uint64_t now)
{
    char laggards[512];

    if (sup->cfg->cmd == NULL || sup->app_started || sup->app_attempts > 0 ||
        sup->stage != STAGE_RUN) {
        return;
    }
    if (!services_all_ready(&sup->services)) {
        if (now < sup->ready_deadline) {
            return;
        }
        services_laggards(&sup->services, laggards, sizeof(laggards));
        if (sup->cfg->ready_required) {
            log_error("services not ready after %llu ms: %s; not starting "
                      "the app (AIRLOCK_READY_REQUIRED)",
                      (unsigned long long)sup->cfg->ready_timeout_ms,
                      laggards);
            sup->exit_code = 1;
            sup->exit_from_service = true;
            begin_stop(sup, now, 0);
            return;
        }
        log_warn("services not ready after %llu ms: %s; starting the app "
                 "anyway",
                 (unsigned long long)sup->cfg->ready_timeout_ms,
                 laggards);
    }
    start_app(sup, now);
}

static void
child_exited(struct supervisor *sup, pid_t pid, int wstatus, uint64_t now)
{
    struct service_ctx ctx = service_ctx_of(sup);
    struct child c;

    if (!children_take(&sup->children, pid, &c)) {
        log_debug("reaped orphan %d (status %d)",
                  (int)pid,
                  exit_code_from_status(wstatus));
        return;
    }
    switch (c.kind) {
    case CHILD_APP:
        sup->app_pid = 0;
        log_info("app exited with status %d", exit_code_from_status(wstatus));
        if (!sup->exit_from_service) {
            sup->exit_code = exit_code_from_status(wstatus);
        }
        begin_stop(sup, now, 0);
        break;
    case CHILD_SERVICE:
    case CHILD_FINISH:
    case CHILD_CHECK:
        services_child_exited(&sup->services, &ctx, &c, wstatus, now);
        break;
    case CHILD_HOOK:
        sup->hook_pid = 0;
        if (exit_code_from_status(wstatus) != 0) {
            log_warn("shutdown hook exited with status %d",
                     exit_code_from_status(wstatus));
        }
        break;
    }
}

/* waitpid(-1, WNOHANG) until nothing is left to collect: one SIGCHLD may
 * stand for many exits. */
static void
reap_all(struct supervisor *sup, uint64_t now)
{
    for (;;) {
        int wstatus;
        pid_t pid = waitpid(-1, &wstatus, WNOHANG);

        if (pid > 0) {
            if (pid == sup->env_writer) {
                sup->env_writer = 0;
            }
            child_exited(sup, pid, wstatus, now);
            continue;
        }
        if (pid < 0 && errno == EINTR) {
            continue;
        }
        if (pid < 0 && errno == ECHILD) {
            sup->no_children = true;
        }
        return;
    }
}

/* A SIGPIPE or SIGXFSZ airlock caused itself, writing a log line to a
 * closed pipe or a full file: blocked, it lands in the signalfd like one
 * sent from outside, and must not reach (and kill) the app. Nor may it
 * be logged: that write would raise the next one, for ever. */
static bool
self_inflicted(const struct signalfd_siginfo *si)
{
    return (si->ssi_signo == SIGPIPE || si->ssi_signo == SIGXFSZ) &&
           si->ssi_code == SI_USER && (pid_t)si->ssi_pid == getpid();
}

/* Drains the signalfd. Every signal airlock can catch goes on to the app
 * (signal_app applies --rewrite and decides what is dropped); SIGTERM and
 * SIGINT also begin the stop; SIGCHLD is left to reap_all. At most
 * SIGNALS_PER_WAKEUP records per call: a flood of signals (real-time ones
 * queue up to RLIMIT_SIGPENDING) must not keep the loop from reaping;
 * poll() reports the rest at once. */
static void
handle_signals(struct supervisor *sup, uint64_t now)
{
    struct signalfd_siginfo si;

    for (int budget = SIGNALS_PER_WAKEUP; budget > 0; budget--) {
        char name[SIG_NAME_MAX];
        ssize_t n = read(sup->sfd, &si, sizeof(si));
        int sig;

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n != (ssize_t)sizeof(si)) {
            return; /* EAGAIN: drained */
        }
        sig = (int)si.ssi_signo;
        switch (sig) {
        case SIGCHLD:
            break; /* reaped after the signals are drained */
        case SIGTERM:
        case SIGINT:
            log_info("received SIG%s, stopping",
                     sig_to_string(sig, name, sizeof(name)));
            begin_stop(sup, now, sig);
            break;
        default:
            if (self_inflicted(&si)) {
                break;
            }
            signal_app(sup, sig);
            break;
        }
    }
}

/* The reply to a request on service NAME that returned r: the stop under
 * way (-ECANCELED), no such service (another -errno), or done: "DONE
 * 'NAME'", or "ok" when done is NULL. Its length. */
static size_t
request_reply(int r,
              const char *name,
              const char *done,
              char *reply,
              size_t size)
{
    int n;

    if (r == -ECANCELED) {
        n = snprintf(reply, size, "error: the container is stopping\n");
    } else if (r < 0) {
        n = snprintf(reply, size, "error: no service named '%.64s'\n", name);
    } else if (done != NULL) {
        n = snprintf(reply, size, "%s '%.64s'\n", done, name);
    } else {
        n = snprintf(reply, size, "ok\n");
    }
    return n > 0 ? (size_t)n : 0;
}

/* The answer to one control request (control.h) into reply; its length. */
static size_t
control_answer(struct supervisor *sup,
               uint64_t now,
               const char *req,
               char *reply,
               size_t size)
{
    size_t len;

    if (strcmp(req, "status") == 0) {
        len = services_format_status(&sup->services, now, reply, size);
    } else if (strcmp(req, "status-json") == 0) {
        len = services_format_status_json(&sup->services, now, reply, size);
    } else if (strcmp(req, "ready") == 0 || strncmp(req, "ready ", 6) == 0) {
        const char *name = req[5] == ' ' ? req + 6 : NULL;
        if (services_ready_state(&sup->services, name, reply, size) ==
            -ENOENT) {
            (void)snprintf(reply,
                           size,
                           "error: no service named '%.64s'\n",
                           name);
        }
        len = strlen(reply);
    } else if (strncmp(req, "restart ", 8) == 0) {
        struct service_ctx ctx = service_ctx_of(sup);
        int r = services_request_restart(&sup->services,
                                         &ctx,
                                         req + 8,
                                         now,
                                         sup->cfg->grace_ms);
        len = request_reply(r, req + 8, "restarting", reply, size);
    } else if (strncmp(req, "svstat ", 7) == 0) {
        int r = services_format_sv(&sup->services, req + 7, now, reply, size);
        len = r >= 0 ? (size_t)r
                     : (size_t)snprintf(reply,
                                        size,
                                        "error: no service named '%.64s'\n",
                                        req + 7);
    } else if (strncmp(req, "up ", 3) == 0 || strncmp(req, "down ", 5) == 0) {
        struct service_ctx ctx = service_ctx_of(sup);
        bool up = req[0] == 'u';
        const char *name = req + (up ? 3 : 5);
        int r = services_request_updown(&sup->services,
                                        &ctx,
                                        name,
                                        up,
                                        now,
                                        sup->cfg->grace_ms);
        len = request_reply(r, name, NULL, reply, size);
    } else {
        len = (size_t)snprintf(reply, size, "error: unknown request\n");
    }
    return len < size ? len : size - 1;
}

/* New control clients: a few per wakeup, each into a free slot (none
 * free: the oldest silent one is closed), so clients cannot keep PID 1
 * busy. */
static void
control_take_clients(struct supervisor *sup, uint64_t now)
{
    for (int i = 0; i < CONTROL_PENDING_MAX; i++) {
        int fd = control_accept(sup->control_fd);
        int k;

        if (fd == -EPERM) {
            continue;
        }
        if (fd < 0) {
            return;
        }
        for (k = 0; k < CONTROL_PENDING_MAX && sup->ctl_client[k] >= 0; k++) {
        }
        if (k == CONTROL_PENDING_MAX) {
            /* All held by clients that have not spoken yet: the oldest
             * gives way, so silent ones cannot lock `airlock status` out. */
            k = 0;
            for (int j = 1; j < CONTROL_PENDING_MAX; j++) {
                if (sup->ctl_deadline[j] < sup->ctl_deadline[k]) {
                    k = j;
                }
            }
            (void)close(sup->ctl_client[k]);
        }
        sup->ctl_client[k] = fd;
        sup->ctl_deadline[k] = now + CONTROL_REQUEST_MS;
    }
}

/* A client's request, if it came: answered and closed. A client past its
 * deadline is closed unanswered. */
static void
control_serve_client(struct supervisor *sup, int k, uint64_t now)
{
    static char reply[CONTROL_REPLY_MAX];
    char req[256];
    int n = control_read_request(sup->ctl_client[k], req, sizeof(req));

    if (n == -EAGAIN && now < sup->ctl_deadline[k]) {
        return;
    }
    if (n > 0) {
        control_reply(sup->ctl_client[k],
                      reply,
                      control_answer(sup, now, req, reply, sizeof(reply)));
    } else {
        (void)close(sup->ctl_client[k]);
    }
    sup->ctl_client[k] = -1;
}

/* glibc's syslog(3) drops messages while /dev/log does not exist yet, so
 * the app starts once the collector has bound it, or after at most one
 * second. Signals and exits meanwhile stay queued for the loop. */
static void
wait_for_syslog(const struct supervisor *sup)
{
    const struct timespec tick = {0, 10 * 1000 * 1000};
    struct stat st;

    if (sup->syslog_socket[0] == '\0') {
        return;
    }
    for (int i = 0; i < 100; i++) {
        if (stat(sup->syslog_socket, &st) == 0 && S_ISSOCK(st.st_mode)) {
            return;
        }
        (void)nanosleep(&tick, NULL);
    }
    log_warn("'%s' did not appear within 1 s; starting the app anyway",
             sup->syslog_socket);
}

/* From the loop on, PID 1 never waits for its stdout or stderr: a
 * container whose output nobody reads must still reap and stop. */
static void
output_never_blocks(struct supervisor *sup)
{
    int r = services_output_init(&sup->services, STDOUT_FILENO), err = 0;

    /* Reopening /proc/self/fd/N fails without /proc (ENOENT), and for a
     * non-root airlock on a pipe the runtime created as root (EACCES):
     * then lines are written only when poll says there is room, which
     * cannot block unless another writer fills the pipe in between. */
    if (r == 1) {
        log_errno(LOG_LEVEL_WARN,
                  -sup->services.out.reopen_errno,
                  "no non-blocking handle on stdout, service lines are "
                  "written only while it has room");
    } else if (r < 0) {
        log_errno(LOG_LEVEL_WARN, r, "stdout: service lines are dropped");
    }
    if (log_set_nonblocking(&err) == 1) {
        log_errno(LOG_LEVEL_WARN,
                  -err,
                  "no non-blocking handle on stderr, log lines are written "
                  "only while it has room");
    }
}

/* After the output drained: the lines services printed meanwhile. */
static void
resume_output(struct supervisor *sup, const struct service_ctx *ctx)
{
    if (!services_flush_output(&sup->services)) {
        return;
    }
    for (size_t i = 0; i < sup->services.count; i++) {
        if (services_line_waiting(&sup->services, i)) {
            services_drain_output(&sup->services, i, ctx, false);
        }
    }
}

int
supervisor_run(struct supervisor *sup)
{
    struct pollfd pfd[4 + CONTROL_PENDING_MAX + 2 * SERVICES_MAX];
    size_t svc_of[4 + CONTROL_PENDING_MAX + 2 * SERVICES_MAX];
    bool is_notify[4 + CONTROL_PENDING_MAX + 2 * SERVICES_MAX];
    int ctl_of[4 + CONTROL_PENDING_MAX + 2 * SERVICES_MAX];
    uint64_t now = now_ms();
    int out_fd;

    /* Run phase: from here on nothing may exit, abort or block without a
     * bound; every failure is logged and the loop goes on. */
    output_never_blocks(sup);
    for (int k = 0; k < CONTROL_PENDING_MAX; k++) {
        sup->ctl_client[k] = -1;
    }
    struct service_ctx ctx = service_ctx_of(sup);
    services_start_all(&sup->services, &ctx, now);
    wait_for_syslog(sup);
    sup->app_retry_at = DEADLINE_NONE;
    sup->stage = STAGE_RUN;
    sup->stage_deadline = DEADLINE_NONE;
    /* The app waits for the services to be ready, at most
     * AIRLOCK_READY_TIMEOUT (start_app_when_ready). */
    sup->ready_deadline = now + sup->cfg->ready_timeout_ms;
    start_app_when_ready(sup, now);

    while (sup->stage != STAGE_DONE) {
        uint64_t deadline;
        nfds_t n = 0;
        int r;

        now = now_ms();
        /* Settle the stop stages (an exit, a signal or a failed start may
         * have begun or advanced one) before deciding how long to wait. */
        advance_stop(sup, now);
        if (sup->stage == STAGE_DONE) {
            break;
        }
        ctx = service_ctx_of(sup);
        deadline = services_tick(&sup->services, &ctx, now);
        critical_service_down(sup, now);
        deadline = deadline_min(deadline, sup->stage_deadline);
        deadline = deadline_min(deadline, sup->app_retry_at);
        if (sup->stage == STAGE_RUN && !sup->app_started &&
            sup->cfg->cmd != NULL) {
            deadline = deadline_min(deadline, sup->ready_deadline);
        }

        for (size_t i = 0; i < sizeof(ctl_of) / sizeof(ctl_of[0]); i++) {
            ctl_of[i] = -1;
        }
        pfd[n].fd = sup->sfd;
        pfd[n++].events = POLLIN;
        if (sup->control_fd >= 0) {
            pfd[n].fd = sup->control_fd;
            pfd[n++].events = POLLIN;
        }
        if (sup->syslog_on_demand && sup->syslog_fd >= 0) {
            pfd[n].fd = sup->syslog_fd;
            pfd[n++].events = POLLIN;
        }
        for (int k = 0; k < CONTROL_PENDING_MAX; k++) {
            if (sup->ctl_client[k] >= 0) {
                ctl_of[n] = k;
                pfd[n].fd = sup->ctl_client[k];
                pfd[n++].events = POLLIN;
                deadline = deadline_min(deadline, sup->ctl_deadline[k]);
            }
        }
        out_fd = services_output_poll_fd(&sup->services);
        if (out_fd >= 0) {
            pfd[n].fd = out_fd;
            pfd[n++].events = POLLOUT;
        }
        /* While stdout does not take more, the services' pipes are left
         * to fill: backpressure on them, never a wait in PID 1. */
        for (size_t i = 0; i < sup->services.count &&
                           !services_output_blocked(&sup->services);
             i++) {
            if (sup->services.svc[i].out_fd >= 0) {
                svc_of[n] = i;
                is_notify[n] = false;
                pfd[n].fd = sup->services.svc[i].out_fd;
                pfd[n++].events = POLLIN;
            }
        }
        /* Readiness lines (notification-fd), never held back. */
        for (size_t i = 0; i < sup->services.count; i++) {
            int fd = services_notify_poll_fd(&sup->services, i);
            if (fd >= 0) {
                svc_of[n] = i;
                is_notify[n] = true;
                pfd[n].fd = fd;
                pfd[n++].events = POLLIN;
            }
        }
        r = poll(pfd, n, deadline_timeout(now, deadline));
        if (r < 0 && errno != EINTR) {
            /* ENOMEM and the like: pause so a lasting failure cannot turn
             * into a busy loop and a flood of log lines. */
            const struct timespec pause = {0, 50 * 1000 * 1000};
            log_errno(LOG_LEVEL_WARN, -errno, "poll, retrying in 50 ms");
            (void)nanosleep(&pause, NULL);
        }
        now = now_ms();
        for (nfds_t i = 0; r > 0 && i < n; i++) {
            if (pfd[i].revents == 0) {
                continue;
            }
            if (pfd[i].fd == sup->sfd) {
                handle_signals(sup, now);
            } else if (pfd[i].fd == sup->control_fd) {
                control_take_clients(sup, now);
            } else if (sup->syslog_on_demand && pfd[i].fd == sup->syslog_fd) {
                collector_start(sup, now);
            } else if (ctl_of[i] >= 0) {
                control_serve_client(sup, ctl_of[i], now);
            } else if (pfd[i].fd == out_fd) {
                resume_output(sup, &ctx);
            } else if (is_notify[i]) {
                services_notify_readable(&sup->services, svc_of[i], &ctx, now);
            } else {
                services_drain_output(&sup->services, svc_of[i], &ctx, false);
            }
        }
        for (int k = 0; k < CONTROL_PENDING_MAX; k++) {
            if (sup->ctl_client[k] >= 0 && now >= sup->ctl_deadline[k]) {
                control_serve_client(sup, k, now);
            }
        }
        reap_all(sup, now);
        critical_service_down(sup, now);
        if (sup->stage == STAGE_RUN && sup->app_retry_at <= now) {
            start_app(sup, now);
        }
        start_app_when_ready(sup, now);
    }
    return sup->exit_code;
}
