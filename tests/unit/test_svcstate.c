/* Unit tests for the service state table (src/init/svcstate.c): every
 * state x event pair against an expected table, then each fact the table
 * reads (dependencies, finish script, SIGKILL sent, what follows a run,
 * the stop budget) and the sequences the issue names (a hanging finish,
 * a process that survives SIGKILL). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/timeutil.h"
#include "init/svcstate.h"

#define NOW      10000u
#define DEADLINE 12345u /* the service's deadline before the event */
#define NONE     DEADLINE_NONE

/* The facts of a plain service: no finish, dependencies ready, restart
 * after 100 ms, SIGKILL 1000 ms after the down signal, no stop budget. */
static struct svc_facts
plain(void)
{
    struct svc_facts f = {
        .deps_ready = true,
        .has_finish = false,
        .killed = false,
        .after = SVC_AFTER_RESTART,
        .backoff_ms = 100,
        .finish_ms = 5000,
        .kill_at = NOW + 1000,
        .budget = NONE,
        .reap_ms = 2000,
        .check_ms = 500,
    };
    return f;
}

struct expect {
    enum service_state st;
    enum svc_event ev;
    enum service_state next;
    enum svc_action action;
    uint64_t deadline;
};

/* "same": the event means nothing in that state. */
#define SAME(s, e)                      \
    {                                   \
        s, e, s, SVC_ACT_NONE, DEADLINE \
    }

static const struct expect table[] = {
    {SVC_DOWN, SVC_EV_START, SVC_UP, SVC_ACT_SPAWN, NONE},
    SAME(SVC_DOWN, SVC_EV_READY),
    SAME(SVC_DOWN, SVC_EV_EXIT),
    SAME(SVC_DOWN, SVC_EV_FINISHED),
    SAME(SVC_DOWN, SVC_EV_TIMEOUT),
    {SVC_DOWN, SVC_EV_RESTART, SVC_BACKOFF, SVC_ACT_NONE, NOW},
    SAME(SVC_DOWN, SVC_EV_STOP),
    SAME(SVC_DOWN, SVC_EV_CHECKED),
    SAME(SVC_DOWN, SVC_EV_DOWN),
    {SVC_DOWN, SVC_EV_UP, SVC_UP, SVC_ACT_SPAWN, NONE},

    {SVC_STARTING, SVC_EV_START, SVC_UP, SVC_ACT_SPAWN, NONE},
    SAME(SVC_STARTING, SVC_EV_READY),
    SAME(SVC_STARTING, SVC_EV_EXIT),
    SAME(SVC_STARTING, SVC_EV_FINISHED),
    SAME(SVC_STARTING, SVC_EV_TIMEOUT),
    {SVC_STARTING, SVC_EV_RESTART, SVC_BACKOFF, SVC_ACT_NONE, NOW},
    {SVC_STARTING, SVC_EV_STOP, SVC_DOWN, SVC_ACT_NONE, NONE},
    SAME(SVC_STARTING, SVC_EV_CHECKED),
    {SVC_STARTING, SVC_EV_DOWN, SVC_DOWN, SVC_ACT_NONE, NONE},
    SAME(SVC_STARTING, SVC_EV_UP),

    SAME(SVC_UP, SVC_EV_START),
    {SVC_UP, SVC_EV_READY, SVC_READY, SVC_ACT_NONE, NONE},
    {SVC_UP, SVC_EV_EXIT, SVC_BACKOFF, SVC_ACT_NONE, NOW + 100},
    SAME(SVC_UP, SVC_EV_FINISHED),
    SAME(SVC_UP, SVC_EV_TIMEOUT),
    {SVC_UP, SVC_EV_RESTART, SVC_STOPPING, SVC_ACT_SIGNAL_DOWN, NOW + 1000},
    {SVC_UP, SVC_EV_STOP, SVC_STOPPING, SVC_ACT_SIGNAL_DOWN, NOW + 1000},
    {SVC_UP, SVC_EV_CHECKED, SVC_UP, SVC_ACT_NONE, NOW + 500},
    {SVC_UP, SVC_EV_DOWN, SVC_STOPPING, SVC_ACT_SIGNAL_DOWN, NOW + 1000},
    SAME(SVC_UP, SVC_EV_UP),

    SAME(SVC_READY, SVC_EV_START),
    {SVC_READY, SVC_EV_READY, SVC_READY, SVC_ACT_NONE, NONE},
    {SVC_READY, SVC_EV_EXIT, SVC_BACKOFF, SVC_ACT_NONE, NOW + 100},
    SAME(SVC_READY, SVC_EV_FINISHED),
    SAME(SVC_READY, SVC_EV_TIMEOUT),
    {SVC_READY, SVC_EV_RESTART, SVC_STOPPING, SVC_ACT_SIGNAL_DOWN, NOW + 1000},
    {SVC_READY, SVC_EV_STOP, SVC_STOPPING, SVC_ACT_SIGNAL_DOWN, NOW + 1000},
    SAME(SVC_READY, SVC_EV_CHECKED),
    {SVC_READY, SVC_EV_DOWN, SVC_STOPPING, SVC_ACT_SIGNAL_DOWN, NOW + 1000},
    SAME(SVC_READY, SVC_EV_UP),

    SAME(SVC_STOPPING, SVC_EV_START),
    SAME(SVC_STOPPING, SVC_EV_READY),
    {SVC_STOPPING, SVC_EV_EXIT, SVC_BACKOFF, SVC_ACT_NONE, NOW + 100},
    SAME(SVC_STOPPING, SVC_EV_FINISHED),
    {SVC_STOPPING, SVC_EV_TIMEOUT, SVC_STOPPING, SVC_ACT_KILL, NOW + 2000},
    SAME(SVC_STOPPING, SVC_EV_RESTART),
    SAME(SVC_STOPPING, SVC_EV_STOP),
    SAME(SVC_STOPPING, SVC_EV_CHECKED),
    SAME(SVC_STOPPING, SVC_EV_DOWN),
    SAME(SVC_STOPPING, SVC_EV_UP),

    SAME(SVC_FINISHING, SVC_EV_START),
    SAME(SVC_FINISHING, SVC_EV_READY),
    SAME(SVC_FINISHING, SVC_EV_EXIT),
    {SVC_FINISHING, SVC_EV_FINISHED, SVC_BACKOFF, SVC_ACT_NONE, NOW + 100},
    {SVC_FINISHING,
     SVC_EV_TIMEOUT,
     SVC_FINISHING,
     SVC_ACT_KILL_FINISH,
     NOW + 2000},
    SAME(SVC_FINISHING, SVC_EV_RESTART),
    SAME(SVC_FINISHING, SVC_EV_STOP),
    SAME(SVC_FINISHING, SVC_EV_CHECKED),
    SAME(SVC_FINISHING, SVC_EV_DOWN),
    SAME(SVC_FINISHING, SVC_EV_UP),

    SAME(SVC_BACKOFF, SVC_EV_START),
    SAME(SVC_BACKOFF, SVC_EV_READY),
    SAME(SVC_BACKOFF, SVC_EV_EXIT),
    SAME(SVC_BACKOFF, SVC_EV_FINISHED),
    {SVC_BACKOFF, SVC_EV_TIMEOUT, SVC_UP, SVC_ACT_SPAWN, NONE},
    {SVC_BACKOFF, SVC_EV_RESTART, SVC_BACKOFF, SVC_ACT_NONE, NOW},
    {SVC_BACKOFF, SVC_EV_STOP, SVC_DOWN, SVC_ACT_NONE, NONE},
    SAME(SVC_BACKOFF, SVC_EV_CHECKED),
    {SVC_BACKOFF, SVC_EV_DOWN, SVC_DOWN, SVC_ACT_NONE, NONE},
    {SVC_BACKOFF, SVC_EV_UP, SVC_UP, SVC_ACT_SPAWN, NONE},

    {SVC_FAILED, SVC_EV_START, SVC_UP, SVC_ACT_SPAWN, NONE},
    SAME(SVC_FAILED, SVC_EV_READY),
    SAME(SVC_FAILED, SVC_EV_EXIT),
    SAME(SVC_FAILED, SVC_EV_FINISHED),
    SAME(SVC_FAILED, SVC_EV_TIMEOUT),
    {SVC_FAILED, SVC_EV_RESTART, SVC_BACKOFF, SVC_ACT_NONE, NOW},
    SAME(SVC_FAILED, SVC_EV_STOP),
    SAME(SVC_FAILED, SVC_EV_CHECKED),
    {SVC_FAILED, SVC_EV_DOWN, SVC_DOWN, SVC_ACT_NONE, NONE},
    {SVC_FAILED, SVC_EV_UP, SVC_UP, SVC_ACT_SPAWN, NONE},
};

#define NSTATES (SVC_FAILED + 1)
#define NEVENTS (SVC_EV_UP + 1)

static void
test_every_state_and_event_with_plain_facts(void **state)
{
    struct svc_facts f = plain();
    bool seen[NSTATES][NEVENTS];

    (void)state;
    memset(seen, 0, sizeof(seen));
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const struct expect *e = &table[i];
        struct svc_step s = svc_transition(e->st, e->ev, &f, NOW, DEADLINE);

        print_message("%s + %s\n",
                      service_state_name(e->st),
                      svc_event_name(e->ev));
        assert_int_equal(s.next, e->next);
        assert_int_equal(s.action, e->action);
        assert_int_equal(s.deadline, e->deadline);
        seen[e->st][e->ev] = true;
    }
    /* The table above leaves no pair out. */
    for (int st = 0; st < NSTATES; st++) {
        for (int ev = 0; ev < NEVENTS; ev++) {
            assert_true(seen[st][ev]);
        }
    }
}

static void
test_a_start_waits_for_the_dependencies(void **state)
{
    struct svc_facts f = plain();
    struct svc_step s;

    (void)state;
    f.deps_ready = false;
    s = svc_transition(SVC_DOWN, SVC_EV_START, &f, NOW, NONE);
    assert_int_equal(s.next, SVC_STARTING);
    assert_int_equal(s.action, SVC_ACT_NONE);
    assert_int_equal(s.deadline, NONE);
    s = svc_transition(SVC_STARTING, SVC_EV_START, &f, NOW, NONE);
    assert_int_equal(s.next, SVC_STARTING);
    s = svc_transition(SVC_BACKOFF, SVC_EV_TIMEOUT, &f, NOW, NOW);
    assert_int_equal(s.next, SVC_STARTING);
    assert_int_equal(s.action, SVC_ACT_NONE);
    f.deps_ready = true;
    s = svc_transition(SVC_STARTING, SVC_EV_START, &f, NOW, NONE);
    assert_int_equal(s.next, SVC_UP);
    assert_int_equal(s.action, SVC_ACT_SPAWN);
}

static void
test_an_exit_runs_finish_bounded_by_timeout_and_budget(void **state)
{
    struct svc_facts f = plain();
    struct svc_step s;

    (void)state;
    f.has_finish = true;
    for (enum service_state st = SVC_UP; st <= SVC_STOPPING; st++) {
        s = svc_transition(st, SVC_EV_EXIT, &f, NOW, DEADLINE);
        assert_int_equal(s.next, SVC_FINISHING);
        assert_int_equal(s.action, SVC_ACT_FINISH);
        assert_int_equal(s.deadline, NOW + 5000);
    }
    /* At a container stop, the budget ends it sooner. */
    f.budget = NOW + 300;
    s = svc_transition(SVC_UP, SVC_EV_EXIT, &f, NOW, NONE);
    assert_int_equal(s.deadline, NOW + 300);
    /* A stop that begins while finish runs caps its deadline too. */
    s = svc_transition(SVC_FINISHING, SVC_EV_STOP, &f, NOW, NOW + 4000);
    assert_int_equal(s.next, SVC_FINISHING);
    assert_int_equal(s.action, SVC_ACT_NONE);
    assert_int_equal(s.deadline, NOW + 300);
    /* ...and never lengthens it. */
    s = svc_transition(SVC_FINISHING, SVC_EV_STOP, &f, NOW, NOW + 100);
    assert_int_equal(s.deadline, NOW + 100);
}

static void
test_what_follows_a_run(void **state)
{
    struct svc_facts f = plain();
    struct svc_step s;

    (void)state;
    f.after = SVC_AFTER_DOWN;
    s = svc_transition(SVC_READY, SVC_EV_EXIT, &f, NOW, NONE);
    assert_int_equal(s.next, SVC_DOWN);
    assert_int_equal(s.deadline, NONE);
    s = svc_transition(SVC_FINISHING, SVC_EV_FINISHED, &f, NOW, NOW + 10);
    assert_int_equal(s.next, SVC_DOWN);
    assert_int_equal(s.deadline, NONE);
    f.after = SVC_AFTER_FAIL;
    s = svc_transition(SVC_READY, SVC_EV_EXIT, &f, NOW, NONE);
    assert_int_equal(s.next, SVC_FAILED);
    s = svc_transition(SVC_FINISHING, SVC_EV_FINISHED, &f, NOW, NOW + 10);
    assert_int_equal(s.next, SVC_FAILED);
    /* A restart asked for: no backoff at all. */
    f.after = SVC_AFTER_RESTART;
    f.backoff_ms = 0;
    s = svc_transition(SVC_STOPPING, SVC_EV_EXIT, &f, NOW, NOW + 10);
    assert_int_equal(s.next, SVC_BACKOFF);
    assert_int_equal(s.deadline, NOW);
}

static void
test_the_stop_budget_caps_the_kill_time(void **state)
{
    struct svc_facts f = plain();
    struct svc_step s;

    (void)state;
    f.budget = NOW + 500;
    s = svc_transition(SVC_READY, SVC_EV_STOP, &f, NOW, NONE);
    assert_int_equal(s.next, SVC_STOPPING);
    assert_int_equal(s.deadline, NOW + 500);
    /* A restart under way when the stop begins: the sooner one wins. */
    s = svc_transition(SVC_STOPPING, SVC_EV_STOP, &f, NOW, NOW + 900);
    assert_int_equal(s.deadline, NOW + 500);
    assert_int_equal(s.action, SVC_ACT_NONE);
}

/* The bug of issue 12: a finish that hangs kept its service down for
 * good. Now: SIGKILL at timeout-finish, and the service restarts. */
static void
test_a_hanging_finish_is_killed_and_the_service_restarts(void **state)
{
    struct svc_facts f = plain();
    struct svc_step s;
    uint64_t t = NOW;

    (void)state;
    f.has_finish = true;
    s = svc_transition(SVC_READY, SVC_EV_EXIT, &f, t, NONE);
    assert_int_equal(s.next, SVC_FINISHING);
    t = s.deadline;
    s = svc_transition(s.next, SVC_EV_TIMEOUT, &f, t, s.deadline);
    assert_int_equal(s.action, SVC_ACT_KILL_FINISH);
    assert_int_equal(s.deadline, t + 2000);
    /* SIGKILL worked: it is reaped. */
    f.killed = true;
    s = svc_transition(s.next, SVC_EV_FINISHED, &f, t + 5, s.deadline);
    assert_int_equal(s.next, SVC_BACKOFF);
    t += 5;
    s = svc_transition(s.next, SVC_EV_TIMEOUT, &f, t + 100, s.deadline);
    assert_int_equal(s.next, SVC_UP);
    assert_int_equal(s.action, SVC_ACT_SPAWN);
}

/* A process SIGKILL cannot end (uninterruptible sleep) is abandoned a
 * reap time later, rather than hold the service or the stop. */
static void
test_a_process_surviving_sigkill_is_abandoned(void **state)
{
    struct svc_facts f = plain();
    struct svc_step s;

    (void)state;
    f.killed = true;
    s = svc_transition(SVC_STOPPING, SVC_EV_TIMEOUT, &f, NOW, NOW);
    assert_int_equal(s.action, SVC_ACT_ABANDON);
    assert_int_equal(s.next, SVC_BACKOFF);
    s = svc_transition(SVC_FINISHING, SVC_EV_TIMEOUT, &f, NOW, NOW);
    assert_int_equal(s.action, SVC_ACT_ABANDON_FINISH);
    f.after = SVC_AFTER_DOWN;
    s = svc_transition(SVC_STOPPING, SVC_EV_TIMEOUT, &f, NOW, NOW);
    assert_int_equal(s.next, SVC_DOWN);
    assert_int_equal(s.deadline, NONE);
}

/* runit's check, polled: first run check_ms after the start, again
 * check_ms after each failure, SIGKILL for one that hangs, ready on 0. */
static void
test_a_check_script_is_polled_until_it_succeeds(void **state)
{
    struct svc_facts f = plain();
    struct svc_step s;

    (void)state;
    f.has_check = true;
    s = svc_transition(SVC_DOWN, SVC_EV_START, &f, NOW, NONE);
    assert_int_equal(s.next, SVC_UP);
    assert_int_equal(s.action, SVC_ACT_SPAWN);
    assert_int_equal(s.deadline, NOW + 500);
    s = svc_transition(SVC_UP, SVC_EV_TIMEOUT, &f, NOW + 500, s.deadline);
    assert_int_equal(s.action, SVC_ACT_CHECK);
    assert_int_equal(s.deadline, NOW + 1000);
    f.checking = true;
    s = svc_transition(SVC_UP, SVC_EV_TIMEOUT, &f, NOW + 1000, s.deadline);
    assert_int_equal(s.next, SVC_UP);
    assert_int_equal(s.action, SVC_ACT_KILL_CHECK);
    f.checking = false;
    f.check_ok = false;
    s = svc_transition(SVC_UP, SVC_EV_CHECKED, &f, NOW + 1010, s.deadline);
    assert_int_equal(s.next, SVC_UP);
    assert_int_equal(s.deadline, NOW + 1510);
    f.check_ok = true;
    s = svc_transition(SVC_UP, SVC_EV_CHECKED, &f, NOW + 1600, s.deadline);
    assert_int_equal(s.next, SVC_READY);
    assert_int_equal(s.deadline, NONE);
    /* A late result for a run that is being stopped changes nothing. */
    s = svc_transition(SVC_STOPPING, SVC_EV_CHECKED, &f, NOW, NOW + 7);
    assert_int_equal(s.next, SVC_STOPPING);
    assert_int_equal(s.deadline, NOW + 7);
}

/* `sv down` then `sv up`: the down signal, a run that ends stays DOWN
 * (service.c passes SVC_AFTER_DOWN while the service is wanted down),
 * also through ./finish; UP starts it at once, or once its dependencies
 * are ready; a stop budget caps the down's kill time as a restart's. */
static void
test_down_keeps_it_down_until_up(void **state)
{
    struct svc_facts f = plain();
    struct svc_step s;

    (void)state;
    s = svc_transition(SVC_READY, SVC_EV_DOWN, &f, NOW, NONE);
    assert_int_equal(s.next, SVC_STOPPING);
    assert_int_equal(s.action, SVC_ACT_SIGNAL_DOWN);
    f.after = SVC_AFTER_DOWN;
    s = svc_transition(SVC_STOPPING, SVC_EV_EXIT, &f, NOW + 5, s.deadline);
    assert_int_equal(s.next, SVC_DOWN);
    assert_int_equal(s.action, SVC_ACT_NONE);
    assert_int_equal(s.deadline, NONE);
    /* Nothing restarts it while it is wanted down: no deadline, and
     * neither a timeout nor a dependency's START... */
    s = svc_transition(SVC_DOWN, SVC_EV_TIMEOUT, &f, NOW + 10, NONE);
    assert_int_equal(s.next, SVC_DOWN);
    /* ...with a finish script too. */
    f.has_finish = true;
    s = svc_transition(SVC_UP, SVC_EV_EXIT, &f, NOW, NONE);
    assert_int_equal(s.next, SVC_FINISHING);
    s = svc_transition(SVC_FINISHING, SVC_EV_FINISHED, &f, NOW + 1, NONE);
    assert_int_equal(s.next, SVC_DOWN);
    /* UP: started at once, or STARTING while a dependency is not ready. */
    f.after = SVC_AFTER_RESTART;
    s = svc_transition(SVC_DOWN, SVC_EV_UP, &f, NOW + 20, NONE);
    assert_int_equal(s.next, SVC_UP);
    assert_int_equal(s.action, SVC_ACT_SPAWN);
    f.deps_ready = false;
    s = svc_transition(SVC_DOWN, SVC_EV_UP, &f, NOW + 20, NONE);
    assert_int_equal(s.next, SVC_STARTING);
    assert_int_equal(s.action, SVC_ACT_NONE);
    /* The kill time of a down is capped by a stop budget. */
    f.budget = NOW + 300;
    s = svc_transition(SVC_UP, SVC_EV_DOWN, &f, NOW, NONE);
    assert_int_equal(s.deadline, NOW + 300);
}

static void
test_state_and_event_names(void **state)
{
    (void)state;
    for (int a = 0; a < NSTATES; a++) {
        assert_string_not_equal(service_state_name(a), "?");
        for (int b = a + 1; b < NSTATES; b++) {
            assert_string_not_equal(service_state_name(a),
                                    service_state_name(b));
        }
    }
    for (int a = 0; a < NEVENTS; a++) {
        assert_string_not_equal(svc_event_name(a), "?");
    }
    assert_string_equal(service_state_name(NSTATES), "?");
    assert_string_equal(service_state_name(SVC_FINISHING), "finishing");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_state_and_event_with_plain_facts),
        cmocka_unit_test(test_a_start_waits_for_the_dependencies),
        cmocka_unit_test(
            test_an_exit_runs_finish_bounded_by_timeout_and_budget),
        cmocka_unit_test(test_what_follows_a_run),
        cmocka_unit_test(test_the_stop_budget_caps_the_kill_time),
        cmocka_unit_test(
            test_a_hanging_finish_is_killed_and_the_service_restarts),
        cmocka_unit_test(test_a_process_surviving_sigkill_is_abandoned),
        cmocka_unit_test(test_a_check_script_is_polled_until_it_succeeds),
        cmocka_unit_test(test_down_keeps_it_down_until_up),
        cmocka_unit_test(test_state_and_event_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
