/* Supervised services: /etc/service/NAME/run (runit layout) and the
 * built-in ones (syslog collector, SSH server). Started before the app,
 * restarted with exponential backoff, stopped in reverse order. */
#ifndef AIRLOCK_INIT_SERVICE_H
#define AIRLOCK_INIT_SERVICE_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/groupstop.h"
#include "common/nbout.h"
#include "init/children.h"
#include "init/svcstate.h"

#define SERVICES_MAX         64
#define SERVICE_NAME_MAX     64
#define SERVICE_LINE_MAX     4096
#define SERVICE_BACKOFF_MIN  100
#define SERVICE_BACKOFF_MAX  30000
#define SERVICE_STABLE_MS    10000
#define SERVICE_KILL_REAP_MS 2000
/* At the stop, how long a logger may read what is left before its down
 * signal (logger_end_of_input in service.c). */
#define SERVICE_LOG_DRAIN_MS 1000
/* ./check: the pause between two runs, and the longest one may take
 * before SIGKILL. */
#define SERVICE_CHECK_MS 500
/* Names a dependencies file may list (one a line). */
#define SERVICE_DEPS_MAX 8
/* The highest notification-fd accepted. */
#define SERVICE_NOTIFY_FD_MAX 1023
/* A built-in exits with one of these when a restart cannot help: a bad
 * setting (2), or nothing to serve, e.g. no valid SSH key (3). */
#define SERVICE_EXIT_BAD_CONFIG   2
#define SERVICE_EXIT_DONT_RESTART 3

/* timeout-finish: s6-supervise's default, and airlock's upper bound. */
#define SERVICE_FINISH_DEFAULT_MS 5000
#define SERVICE_FINISH_MAX_MS     3600000

struct service {
    char name[SERVICE_NAME_MAX];
    char dir[PATH_MAX]; /* service directory; "" for a built-in */
    char exe[PATH_MAX]; /* built-in: program; directory: "./run" */
    char arg[32];       /* built-in: first argument, or "" */
    char arg2[32];      /* built-in: second argument, or "" */
    int pass_fd; /* built-in: an fd of PID 1's it gets (as it is), or -1 */
    /* built-in started on demand (services_start_on_demand), not by
     * services_start_all; it counts as ready while it waits. */
    bool on_demand;
    bool builtin;
    bool critical;    /* its end for good stops the container */
    bool restart_now; /* restart without backoff once it is down */
    bool give_up;     /* the run that ends now is the last one */
    bool killed;      /* SIGKILL sent to what the state waits for */
    /* `sv down NAME`: wanted down; a run that ends is not restarted
     * until `sv up NAME` or `airlock restart NAME` clears it. */
    bool want_down;
    enum service_state state;
    uint64_t deadline; /* the one deadline; its meaning: svcstate.h */
    pid_t pid;
    pid_t finish_pid;
    struct group_stop run_stop, finish_stop; /* signals sent to each */
    int down_signal;
    uint64_t finish_ms; /* timeout-finish */
    int out_fd;         /* read end of the service's stdout+stderr, or -1 */
    int out_wfd;
    /* runit's log/run: the pipe from a service's stdout to its logger,
     * made once, held by PID 1 (service_add_dir in service.c). */
    int log_wfd;          /* a service with a logger: its stdout, or -1 */
    int log_rfd;          /* a logger: its stdin, or -1 */
    int logs_for;         /* a logger: index of its service, or -1 */
    uint64_t drain_until; /* a logger at stop: EOF given, signal then */
    /* Readiness (s6): notification-fd names the fd the run gets; a line
     * written to it means ready. 0: ready once started. */
    int notify_to;
    int notify_fd; /* PID 1's read end while waiting, or -1 */
    /* Readiness (runit): an executable ./check, and no notification-fd:
     * ready once it exits 0, run every SERVICE_CHECK_MS until then. */
    bool has_check;
    pid_t check_pid;
    struct group_stop check_stop;
    /* dependencies: services that must be ready before it starts. */
    char dep_names[SERVICE_DEPS_MAX][SERVICE_NAME_MAX];
    size_t ndeps;
    int deps[SERVICE_DEPS_MAX]; /* their indices, once resolved */
    uint64_t started_at, stop_sent_at, finish_at, backoff_ms;
    uint64_t down_since; /* when it last stopped running (`sv status`) */
    uint64_t turn_until; /* shutdown: the next service is signalled then */
    unsigned restarts;
    unsigned crit_exits; /* critical: exits counted since crit_since */
    uint64_t crit_since;
    int last_code; /* the last run's exit code (128+N: signal N), or -1 */
    char line[SERVICE_LINE_MAX];
    size_t line_len;
};

/* What PID 1 holds of service output that stdout did not take yet. */
#define SERVICES_OUT_MAX (64 * 1024)

struct services {
    size_t count;
    struct nbout out; /* the container's stdout, never waited for */
    size_t pending_len;
    unsigned long dropped; /* lines nobody could ever read (EPIPE) */
    bool stopping;         /* the container stops: nothing restarts */
    uint64_t budget;       /* the stop's deadline, once stopping */
    int critical_code;     /* a critical service's status, or -1 */
    unsigned crit_restarts;
    uint64_t crit_window_ms;
    /* The large members last: a container with few services touches
     * only their first pages. */
    char pending[SERVICES_OUT_MAX];
    struct service svc[SERVICES_MAX];
};

/* What starting a process needs from PID 1. */
struct service_ctx {
    const sigset_t *child_mask;
    char *const *envp;
    struct children *children;
};

/* The delay before the next restart: 100 ms after a run of at least 10 s,
 * else double the last one, at most 30 s. */
uint64_t service_next_backoff(uint64_t last_ms, uint64_t uptime_ms);

/* "TERM", "SIGTERM", "15" (and the other common names) to a number; -1
 * when unknown. */
int service_parse_signal(const char *s);

/* Removes the service NAME, and its log/run logger if it has one, from
 * the table before anything was started (a service the mode cannot run,
 * init/mode.h); the order of the others is kept, their logger links
 * follow. Returns true when one was removed. */
bool services_drop(struct services *s, const char *name);

/* Marks the built-in NAME to start on demand: services_start_all leaves
 * it down, and it counts as ready (for the app and for dependencies)
 * until services_start_on_demand starts it. For the syslog collector,
 * whose socket PID 1 holds: what is logged before it starts queues in
 * the socket. 0, or -ENOENT. */
int services_set_on_demand(struct services *s, const char *name);

/* Starts the on-demand built-in NAME if it still waits; from then on it
 * is supervised like any other. Returns true when it was started now. */
bool services_start_on_demand(struct services *s,
                              const char *name,
                              const struct service_ctx *ctx,
                              uint64_t now);

/* Adds every /etc/service/NAME with an executable run file and no down
 * file, in name order; logs each skipped entry with the reason. Returns
 * the number added or -errno when the directory cannot be read (a missing
 * directory is 0). */
int services_scan(struct services *s, const char *service_dir);

/* Adds a built-in service running `exe arg` with airlock's stdio. */
int services_add_builtin(struct services *s,
                         const char *name,
                         const char *exe,
                         const char *arg);

/* Gives the built-in service name PID 1's fd (kept open across its
 * restarts, passed as the same number) and a second argument that tells
 * it so, e.g. "--socket-fd=5". 0, -ENOENT (no such built-in) or
 * -ENAMETOOLONG. */
int services_builtin_pass_fd(struct services *s,
                             const char *name,
                             int fd,
                             const char *arg2);

/* Marks the services named in list (comma separated, AIRLOCK_CRITICAL)
 * critical, as a `critical` file in their directory does, and sets how
 * many exits within window_ms a critical service is restarted after
 * (AIRLOCK_CRITICAL_RESTARTS, _WINDOW). An unknown name is logged, one
 * line each, and skipped. Call after the services are added. */
void services_set_critical(struct services *s,
                           const char *list,
                           unsigned restarts,
                           uint64_t window_ms);

/* Resolves every service's dependencies file to the services it names,
 * after all are added. A service naming an unknown service, or part of a
 * cycle, is not started (FAILED), with one line each saying why; the
 * others start as usual. Returns the number rejected. */
int services_resolve_deps(struct services *s);

/* Pure, for tests: in the graph deps[i][0..ndeps[i]) over n nodes, marks
 * in_cycle[i] for every node on a cycle and returns how many there are. */
size_t deps_find_cycles(size_t n,
                        int (*deps)[SERVICE_DEPS_MAX],
                        const size_t *ndeps,
                        bool *in_cycle);

/* Is every service ready, or never to be (down, failed)? The app waits
 * for this (AIRLOCK_READY_TIMEOUT). */
bool services_all_ready(const struct services *s);

/* Writes the names of the services not ready yet, comma separated, into
 * buf (truncated to fit); returns buf. */
const char *services_laggards(const struct services *s, char *buf, size_t size);

/* The read end of service i's notification fd while it is awaited, else
 * -1: the loop polls it and calls services_notify_readable. */
int services_notify_poll_fd(const struct services *s, size_t index);

/* Reads what service i wrote to its notification fd, without blocking: a
 * newline makes it ready (s6-supervise); end of file without one leaves
 * it up but never ready, said in one line. */
void services_notify_readable(struct services *s,
                              size_t index,
                              const struct service_ctx *ctx,
                              uint64_t now);

/* Starts every service (the START event); failures are logged and
 * retried with backoff. */
void services_start_all(struct services *s,
                        const struct service_ctx *ctx,
                        uint64_t now);

/* A service (kind CHILD_SERVICE), finish script (CHILD_FINISH) or check
 * script (CHILD_CHECK) exited: the EXIT, FINISHED or CHECKED event. A pid the
 * service no longer waits for (one it abandoned) is ignored. */
void services_child_exited(struct services *s,
                           const struct service_ctx *ctx,
                           const struct child *c,
                           int wstatus,
                           uint64_t now);

/* Applies the TIMEOUT event to every service whose deadline has come
 * (restarts, SIGKILL to an overdue stop or finish); returns the next
 * deadline (DEADLINE_NONE when there is none). */
uint64_t
services_tick(struct services *s, const struct service_ctx *ctx, uint64_t now);

/* The status a critical service that went down for good left (the
 * container must stop with it), once; -1 when there is none. */
int services_take_critical(struct services *s);

/* The container stops, with its one budget ending at `budget`
 * (CLOCK_MONOTONIC ms): nothing restarts any more, a stop or finish under
 * way gets budget as its latest deadline. Running services wait for
 * services_stop_step. Idempotent. */
void services_begin_stop(struct services *s,
                         const struct service_ctx *ctx,
                         uint64_t now,
                         uint64_t budget);

/* Shutdown, one step: sends the STOP event (down signal and SIGCONT) to
 * the last running service not yet stopped (reverse start order), and
 * gives it an equal share of the time left until deadline (the stop's
 * one budget) before the next one is signalled; the next is signalled at
 * once when it (and its finish script, which runs at stop too) are done
 * sooner. A service still running at deadline gets SIGKILL from
 * services_tick. Returns true when all are down. */
bool services_stop_step(struct services *s,
                        const struct service_ctx *ctx,
                        uint64_t now,
                        uint64_t deadline);

/* The stop budget is spent: STOP then TIMEOUT to every service, i.e.
 * SIGKILL to each one's group and finish script; a process still there
 * SERVICE_KILL_REAP_MS later is abandoned by services_tick. */
void services_kill_all(struct services *s,
                       const struct service_ctx *ctx,
                       uint64_t now);

/* Where the prefixed lines go (airlock's stdout): sets up a handle that
 * never blocks (nbout_open's return: 0, 1 for best effort, -errno). */
int services_output_init(struct services *s, int fd);

/* Reads what the service printed and forwards it line by line, as far as
 * the output takes it; a line it cannot take now stays in the service's
 * buffer (and the pipe is not read further) until the output drains.
 * flush_partial: the service is gone, forward its unterminated last line.
 * Never blocks. */
void services_drain_output(struct services *s,
                           size_t index,
                           const struct service_ctx *ctx,
                           bool flush_partial);

/* Writes what is pending, without blocking; true when nothing is left. */
bool services_flush_output(struct services *s);

/* true while the pending buffer cannot take another whole line: the
 * services' pipes are then not read (backpressure). */
bool services_output_blocked(const struct services *s);

/* The fd to poll for POLLOUT while output is pending, else -1. */
int services_output_poll_fd(const struct services *s);

/* Does the service hold a complete line it could not forward yet? */
bool services_line_waiting(const struct services *s, size_t index);

/* `airlock restart NAME`: the RESTART event: the down signal, SIGKILL
 * after grace_ms, then a start without backoff (after ./finish, if any).
 * -ENOENT for an unknown name, -ECANCELED while the container stops. */
int services_request_restart(struct services *s,
                             const struct service_ctx *ctx,
                             const char *name,
                             uint64_t now,
                             uint64_t grace_ms);

/* `sv down NAME` (up false) and `sv up NAME` (up true): the DOWN event,
 * with the service wanted down until an UP event or a restart request
 * (the down signal, SIGKILL after grace_ms; it is not restarted), or
 * the UP event (started at once if it is not running). NAME may be a
 * logger's "NAME/log". 0, -ENOENT for an unknown name, -ECANCELED while
 * the container stops. */
int services_request_updown(struct services *s,
                            const struct service_ctx *ctx,
                            const char *name,
                            bool up,
                            uint64_t now,
                            uint64_t grace_ms);

/* `sv status NAME`: one line in runit's sv(8) format into buf, e.g.
 * "run: NAME: (pid 12) 45s", "down: NAME: 3s, normally up",
 * "finish: NAME: (pid 14) 0s", with "; run: log: (pid 13) 45s" added
 * for a service with a log/run logger; ", want down" while a downed one
 * is still stopping, ", want up" while one waits to (re)start. Returns
 * the length, or -ENOENT for an unknown name. */
int services_format_sv(const struct services *s,
                       const char *name,
                       uint64_t now,
                       char *buf,
                       size_t size);

/* `airlock status --json`: one object on one line, {"all_ready":BOOL,
 * "services":[{"name","state","ready","pid","uptime_ms","restarts",
 * "last_exit" (null before the first exit),"critical"}, ...]}, cut after
 * the last whole record that fits. Returns its length (0: no room). */
size_t services_format_status_json(const struct services *s,
                                   uint64_t now,
                                   char *buf,
                                   size_t size);

/* `airlock wait-ready [NAME]`: is NAME (NULL or "": every service)
 * ready? Writes a one-line answer into buf: "ready", "waiting: ..." or
 * "failed: NAME (failed)". Returns 1 ready, 0 not yet, -1 failed (it will
 * not be ready unless restarted), -ENOENT for an unknown name. */
int services_ready_state(const struct services *s,
                         const char *name,
                         char *buf,
                         size_t size);

/* Formats the `airlock status` table into buf; returns its length. */
size_t services_format_status(const struct services *s,
                              uint64_t now,
                              char *buf,
                              size_t size);

#endif
