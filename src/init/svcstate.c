/* The service state table (svcstate.h). Kept free of syscalls so every
 * transition can be walked by a unit test (tests/unit/test_svcstate.c). */
#include "init/svcstate.h"

#include "common/timeutil.h"

static struct svc_step
step(enum service_state next, enum svc_action action, uint64_t deadline)
{
    struct svc_step s = {.next = next, .action = action, .deadline = deadline};
    return s;
}

/* Starting: ./run now, or wait in STARTING until the dependencies are
 * ready (s6-rc and runit's `sv start` in run scripts order the same way,
 * but by hand). */
static struct svc_step
start(const struct svc_facts *f, uint64_t now)
{
    if (!f->deps_ready) {
        return step(SVC_STARTING, SVC_ACT_NONE, DEADLINE_NONE);
    }
    /* With a check script, the first ./check is due check_ms later. */
    return step(SVC_UP,
                SVC_ACT_SPAWN,
                f->has_check ? now + f->check_ms : DEADLINE_NONE);
}

/* A run is over (./run exited and ./finish, if any, too, or was
 * abandoned): restart after the backoff, stay down, or give up. The
 * restart deadline is not capped by the stop budget: a stopping
 * container never restarts (after is DOWN then). */
static struct svc_step
run_over(const struct svc_facts *f, enum svc_action action, uint64_t now)
{
    switch (f->after) {
    case SVC_AFTER_RESTART:
        return step(SVC_BACKOFF, action, now + f->backoff_ms);
    case SVC_AFTER_DOWN:
        return step(SVC_DOWN, action, DEADLINE_NONE);
    case SVC_AFTER_FAIL:
        break;
    }
    return step(SVC_FAILED, action, DEADLINE_NONE);
}

/* ./run exited: ./finish next (bounded by timeout-finish and, at a
 * container stop, by the stop budget: s6 runs finish at stop too), else
 * the run is over. */
static struct svc_step
exited(const struct svc_facts *f, uint64_t now)
{
    if (f->has_finish) {
        return step(SVC_FINISHING,
                    SVC_ACT_FINISH,
                    deadline_min(now + f->finish_ms, f->budget));
    }
    return run_over(f, SVC_ACT_NONE, now);
}

/* The deadline of a state that waits for a process came: SIGKILL first;
 * if it is still there a reap time later (uninterruptible sleep), stop
 * waiting for it rather than hold the service, or the stop, for ever. */
static struct svc_step
overdue(enum service_state st, const struct svc_facts *f, uint64_t now)
{
    bool finish = st == SVC_FINISHING;

    if (!f->killed) {
        return step(st,
                    finish ? SVC_ACT_KILL_FINISH : SVC_ACT_KILL,
                    now + f->reap_ms);
    }
    return run_over(f, finish ? SVC_ACT_ABANDON_FINISH : SVC_ACT_ABANDON, now);
}

struct svc_step
svc_transition(enum service_state st,
               enum svc_event ev,
               const struct svc_facts *f,
               uint64_t now,
               uint64_t deadline)
{
    struct svc_step same = step(st, SVC_ACT_NONE, deadline);

    switch (st) {
    case SVC_DOWN:
    case SVC_STARTING:
    case SVC_FAILED:
        if (ev == SVC_EV_START) {
            return start(f, now);
        }
        /* A restart request on a service that is not running: the
         * backoff's deadline is now, so the next tick starts it. */
        if (ev == SVC_EV_RESTART) {
            return step(SVC_BACKOFF, SVC_ACT_NONE, now);
        }
        if (ev == SVC_EV_UP) {
            /* STARTING already waits for its dependencies. */
            return st == SVC_STARTING ? same : start(f, now);
        }
        /* A stop leaves FAILED as it is; `sv down` makes it DOWN. */
        if ((ev == SVC_EV_STOP && st == SVC_STARTING) ||
            (ev == SVC_EV_DOWN && st != SVC_DOWN)) {
            return step(SVC_DOWN, SVC_ACT_NONE, DEADLINE_NONE);
        }
        return same;
    case SVC_BACKOFF:
        if (ev == SVC_EV_TIMEOUT) {
            return start(f, now);
        }
        /* A restart request cuts the backoff short. */
        if (ev == SVC_EV_RESTART) {
            return step(SVC_BACKOFF, SVC_ACT_NONE, now);
        }
        if (ev == SVC_EV_STOP || ev == SVC_EV_DOWN) {
            return step(SVC_DOWN, SVC_ACT_NONE, DEADLINE_NONE);
        }
        /* `sv up` on a service waiting to restart: no more waiting. */
        if (ev == SVC_EV_UP) {
            return start(f, now);
        }
        return same;
    case SVC_UP:
    case SVC_READY:
        switch (ev) {
        case SVC_EV_READY:
            return step(SVC_READY, SVC_ACT_NONE, DEADLINE_NONE);
        case SVC_EV_EXIT:
            return exited(f, now);
        case SVC_EV_RESTART:
        case SVC_EV_STOP:
        case SVC_EV_DOWN:
            return step(SVC_STOPPING,
                        SVC_ACT_SIGNAL_DOWN,
                        deadline_min(f->kill_at, f->budget));
        case SVC_EV_TIMEOUT:
            /* runit's check, polled: run it, or kill one that hangs. */
            if (st != SVC_UP || !f->has_check) {
                break;
            }
            if (f->checking) {
                return step(st, SVC_ACT_KILL_CHECK, DEADLINE_NONE);
            }
            return step(st, SVC_ACT_CHECK, now + f->check_ms);
        case SVC_EV_CHECKED:
            if (st != SVC_UP) {
                break;
            }
            if (f->check_ok) {
                return step(SVC_READY, SVC_ACT_NONE, DEADLINE_NONE);
            }
            return step(st, SVC_ACT_NONE, now + f->check_ms);
        case SVC_EV_START:
        case SVC_EV_FINISHED:
        case SVC_EV_UP:
            break;
        }
        return same;
    case SVC_STOPPING:
        switch (ev) {
        case SVC_EV_EXIT:
            return exited(f, now);
        case SVC_EV_TIMEOUT:
            return overdue(st, f, now);
        case SVC_EV_STOP:
            /* A restart was under way: the stop budget may be shorter. */
            return step(st, SVC_ACT_NONE, deadline_min(deadline, f->budget));
        case SVC_EV_START:
        case SVC_EV_READY:
        case SVC_EV_FINISHED:
        case SVC_EV_RESTART:
        case SVC_EV_CHECKED:
        case SVC_EV_DOWN: /* already stopping; after says what follows */
        case SVC_EV_UP:
            break;
        }
        return same;
    case SVC_FINISHING:
        switch (ev) {
        case SVC_EV_FINISHED:
            return run_over(f, SVC_ACT_NONE, now);
        case SVC_EV_TIMEOUT:
            return overdue(st, f, now);
        case SVC_EV_STOP:
            /* ./finish goes on, within what is left of the budget. */
            return step(st, SVC_ACT_NONE, deadline_min(deadline, f->budget));
        case SVC_EV_START:
        case SVC_EV_READY:
        case SVC_EV_EXIT:
        case SVC_EV_RESTART:
        case SVC_EV_CHECKED:
        case SVC_EV_DOWN: /* after (read when it ends) says what follows */
        case SVC_EV_UP:
            break;
        }
        return same;
    }
    return same;
}

const char *
service_state_name(enum service_state st)
{
    switch (st) {
    case SVC_DOWN:
        return "down";
    case SVC_STARTING:
        return "starting";
    case SVC_UP:
        return "up";
    case SVC_READY:
        return "ready";
    case SVC_STOPPING:
        return "stopping";
    case SVC_FINISHING:
        return "finishing";
    case SVC_BACKOFF:
        return "backoff";
    case SVC_FAILED:
        return "failed";
    }
    return "?";
}

const char *
svc_event_name(enum svc_event ev)
{
    switch (ev) {
    case SVC_EV_START:
        return "start";
    case SVC_EV_READY:
        return "ready";
    case SVC_EV_EXIT:
        return "exit";
    case SVC_EV_FINISHED:
        return "finished";
    case SVC_EV_TIMEOUT:
        return "timeout";
    case SVC_EV_RESTART:
        return "restart";
    case SVC_EV_STOP:
        return "stop";
    case SVC_EV_CHECKED:
        return "checked";
    case SVC_EV_DOWN:
        return "down";
    case SVC_EV_UP:
        return "up";
    }
    return "?";
}
