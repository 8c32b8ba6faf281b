/* PID 1's event loop: one signalfd, children reaped and attributed, the
 * app's exit or SIGTERM turned into the staged stop sequence. */
#ifndef AIRLOCK_INIT_SUPERVISOR_H
#define AIRLOCK_INIT_SUPERVISOR_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "init/children.h"
#include "init/control.h"
#include "init/config.h"
#include "init/inherit.h"
#include "init/service.h"

#define SUPERVISOR_HOOKS_MAX 64

enum stop_stage {
    STAGE_RUN = 0,
    STAGE_STOP_APP,      /* the app was signalled; wait for it */
    STAGE_PRE_HOOKS,     /* /etc/my_init.pre_shutdown.d, one by one: after
                          * the app, before the services, as my_init runs
                          * them (phusion's my_init: stop the main command,
                          * run_pre_shutdown_scripts, shutdown_runit_services,
                          * run_post_shutdown_scripts) */
    STAGE_HOOKS,         /* the shutdown.d hooks, one by one */
    STAGE_STOP_SERVICES, /* services in reverse start order */
    STAGE_POST_HOOKS,    /* /etc/my_init.post_shutdown.d, one by one */
    STAGE_TERM_ALL,      /* SIGTERM to everything left; wait */
    STAGE_KILL_ALL,      /* SIGKILL to everything left; reap */
    STAGE_DONE,
};

/* The built-in syslog collector's service name. */
#define COLLECTOR_SERVICE "syslogd"

struct supervisor {
    const struct config *cfg;
    sigset_t child_mask; /* the mask children get back before exec */
    int sfd;             /* signalfd for every blocked signal */
    int control_fd;      /* listening control socket, or -1 */
    /* Accepted control clients whose request has not come yet (-1: free
     * slot), each closed at its deadline: PID 1 never waits for one. */
    int ctl_client[CONTROL_PENDING_MAX];
    uint64_t ctl_deadline[CONTROL_PENDING_MAX];
    bool is_pid1;
    char **envp;     /* environment for services and hooks */
    char **app_envp; /* the app's, NULL: envp */
    /* fds inherited for the app (socket activation), closed once it has
     * them; NULL for none. */
    struct inherit *inherit;
    int syslog_fd; /* /dev/log, bound by PID 1 for the collector, or -1 */
    /* The collector (service COLLECTOR_SERVICE) waits for the first
     * datagram on syslog_fd before it starts (service.h, on demand). */
    bool syslog_on_demand;
    /* The environment writer (main.c), which logs nothing to syslog; 0
     * when there is none. */
    pid_t env_writer;

    pid_t app_pid; /* 0 when not running */
    bool app_started;
    bool app_killed;
    int exit_code;
    /* exit_code is a critical service's status, not the app's. */
    bool exit_from_service;
    int app_attempts;
    uint64_t ready_deadline; /* the app starts then, ready or not */
    uint64_t app_retry_at;
    uint64_t app_retry_ms; /* the last fork retry's delay (backoff_next) */

    enum stop_stage stage;
    uint64_t stage_deadline;
    uint64_t stop_deadline; /* the whole stop's: begin + grace */
    bool no_children;       /* waitpid said ECHILD since the last spawn */

    /* Hooks of the stop, run one at a time, in one list: hooks
     * [0, hooks_pre) in STAGE_PRE_HOOKS (my_init.pre_shutdown.d),
     * [hooks_pre, hooks_mid) in STAGE_HOOKS (airlock/shutdown.d),
     * [hooks_mid, nhooks) in STAGE_POST_HOOKS (my_init.post_shutdown.d);
     * next_hook only moves forward. */
    char (*hooks)[PATH_MAX];
    size_t nhooks, next_hook, hooks_pre, hooks_mid;
    pid_t hook_pid;
    /* The signal that began the stop (before --rewrite), or 0. */
    int stop_sig;

    /* The large members last, so that the small ones above, which PID 1
     * touches at every turn of its loop, share few pages. */
    struct children children;
    struct services services;
    /* The collector's /dev/log when PID 1 could not bind it: the app
     * starts once it exists; "" when PID 1 bound it (syslog_fd). */
    char syslog_socket[PATH_MAX];
};

/* Blocks every signal but the synchronous faults and opens the signalfd;
 * the first thing main does, before anything is forked. */
int supervisor_block_signals(struct supervisor *sup);

/* Runs the loop until the stop sequence is complete; returns the exit
 * status airlock should exit with. Never exits or aborts by itself. */
int supervisor_run(struct supervisor *sup);

/* Pure stage arithmetic, exposed for unit tests: the stage after `stage`
 * given what the configuration skips. */
enum stop_stage supervisor_next_stage(enum stop_stage stage, bool kill_all);

#endif
