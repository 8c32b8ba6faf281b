/* The service state table: one pure function that applies an event to a
 * service's state and says what to do and until when to wait, as
 * s6-supervise's actions[state][event] (style.md 3.11). It sends no
 * signal, starts nothing and reads no clock: service.c gathers the facts,
 * calls svc_transition() and carries out the action. Each service has one
 * deadline; what it means depends on the state (see enum service_state).
 */
#ifndef AIRLOCK_INIT_SVCSTATE_H
#define AIRLOCK_INIT_SVCSTATE_H

#include <stdbool.h>
#include <stdint.h>

enum service_state {
    SVC_DOWN = 0,  /* not running, not wanted: down file, or stopped with
                    * the container. No deadline. */
    SVC_STARTING,  /* wanted, but a dependency is not ready yet. No
                    * deadline: a START event comes when one gets ready. */
    SVC_UP,        /* ./run runs, not ready yet. Deadline, with a check
                    * script only: the next ./check, or the running
                    * one's SIGKILL. */
    SVC_READY,     /* ./run runs and is ready. No deadline. */
    SVC_STOPPING,  /* the down signal was sent. Deadline: SIGKILL, then
                    * (once killed) the process is abandoned. */
    SVC_FINISHING, /* ./finish runs. Deadline: timeout-finish (s6), then
                    * SIGKILL, then (once killed) it is abandoned. */
    SVC_BACKOFF,   /* waiting to restart. Deadline: the restart. */
    SVC_FAILED,    /* will not be restarted (airlock restart NAME still
                    * starts it). No deadline. */
    /* SVC_DOWN is also where `sv down NAME` leaves a service, until
     * `sv up NAME` (SVC_EV_UP) or `airlock restart NAME`. */
};

enum svc_event {
    SVC_EV_START,    /* start it: at boot, or a dependency got ready */
    SVC_EV_READY,    /* it said it is ready */
    SVC_EV_EXIT,     /* ./run exited */
    SVC_EV_FINISHED, /* ./finish exited */
    SVC_EV_TIMEOUT,  /* the service's deadline has come */
    SVC_EV_RESTART,  /* control request: `airlock restart NAME` */
    SVC_EV_STOP,     /* the container stops (its turn came) */
    SVC_EV_CHECKED,  /* ./check exited (facts.check_ok: with 0) */
    /* Control requests (`sv down NAME`, `sv up NAME`). The "wanted down"
     * flag itself is service.c's: while it is set, facts.after is
     * SVC_AFTER_DOWN, so a run that ends stays DOWN; UP clears it. */
    SVC_EV_DOWN, /* stop it and keep it down: down signal, no restart */
    SVC_EV_UP,   /* start it (again) if it is not running */
};

enum svc_action {
    SVC_ACT_NONE = 0,
    SVC_ACT_SPAWN,          /* start ./run */
    SVC_ACT_FINISH,         /* start ./finish with the exit status */
    SVC_ACT_SIGNAL_DOWN,    /* down signal and SIGCONT to ./run's group */
    SVC_ACT_KILL,           /* SIGKILL to ./run's group */
    SVC_ACT_KILL_FINISH,    /* SIGKILL to ./finish's group */
    SVC_ACT_ABANDON,        /* ./run survived SIGKILL: stop waiting */
    SVC_ACT_ABANDON_FINISH, /* ./finish survived SIGKILL: same */
    SVC_ACT_CHECK,          /* start ./check (runit's readiness test) */
    SVC_ACT_KILL_CHECK,     /* SIGKILL to a ./check that hangs */
};

/* What happens once a run is over (after ./finish, if any). */
enum svc_after {
    SVC_AFTER_RESTART = 0, /* BACKOFF, restart at now + backoff_ms */
    SVC_AFTER_DOWN,        /* DOWN: the container is stopping */
    SVC_AFTER_FAIL,        /* FAILED: a restart cannot help */
};

/* Everything the table needs besides state, event and time; the caller
 * computes these at the moment of the event. Times in CLOCK_MONOTONIC
 * milliseconds, durations in milliseconds. */
struct svc_facts {
    bool deps_ready; /* every service in its dependencies file is ready */
    bool has_finish; /* an executable ./finish exists */
    bool killed;     /* SIGKILL was already sent to what the state waits
                      * for (STOPPING, FINISHING) */
    bool has_check;  /* readiness by ./check (and no notification-fd) */
    bool checking;   /* a ./check runs now */
    bool check_ok;   /* CHECKED: it exited 0 */
    enum svc_after after;
    uint64_t backoff_ms; /* delay before the restart (service_next_backoff) */
    uint64_t finish_ms;  /* timeout-finish */
    uint64_t kill_at;    /* SIGNAL_DOWN: when SIGKILL follows */
    uint64_t budget;     /* no deadline lies beyond this (the container's
                          * stop budget), DEADLINE_NONE while running */
    uint64_t reap_ms;    /* after SIGKILL, how long until abandoned */
    uint64_t check_ms;   /* between two ./check runs, and the longest one
                          * may take */
};

struct svc_step {
    enum service_state next;
    enum svc_action action;
    uint64_t deadline; /* the deadline from now on, or DEADLINE_NONE */
};

/* Applies ev to a service in state st whose deadline is `deadline`, at
 * time now. Returns the next state, the one action to carry out and the
 * new deadline. Pure: same input, same output; an event that means
 * nothing in a state (e.g. READY while STOPPING) leaves state and
 * deadline as they are with SVC_ACT_NONE. */
struct svc_step svc_transition(enum service_state st,
                               enum svc_event ev,
                               const struct svc_facts *f,
                               uint64_t now,
                               uint64_t deadline);

/* "down", "starting", "up", "ready", ...; "?" for a bad value. */
const char *service_state_name(enum service_state st);

/* "start", "ready", "exit", ... for log lines; "?" for a bad value. */
const char *svc_event_name(enum svc_event ev);

#endif
