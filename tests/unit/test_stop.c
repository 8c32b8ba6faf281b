/* Unit tests for the stop of services under one budget
 * (services_stop_step, services_tick, services_kill_all, all through the
 * state table of svcstate.h), on real
 * processes: each "service" is a forked child leading its own group, so
 * the signals the functions send are real and observed with waitpid. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init/service.h"

/* A child in its own group that ignores SIGTERM (deaf) or not. */
static pid_t
child(bool deaf)
{
    int ready[2];
    char c;
    pid_t pid;

    assert_int_equal(pipe(ready), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        (void)setpgid(0, 0);
        if (deaf) {
            (void)signal(SIGTERM, SIG_IGN);
        }
        /* Set up: only now may the test signal it. */
        if (write(ready[1], "r", 1) != 1) {
            _exit(1);
        }
        for (;;) {
            pause();
        }
    }
    (void)setpgid(pid, pid);
    close(ready[1]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    return pid;
}

static sigset_t no_signals;
static struct children kids;

/* What PID 1's loop gives the services: stopping starts nothing, so only
 * the child table is used (for finish scripts, none here). */
static struct service_ctx
stop_ctx(void)
{
    struct service_ctx ctx;

    sigemptyset(&no_signals);
    memset(&ctx, 0, sizeof(ctx));
    ctx.child_mask = &no_signals;
    ctx.children = &kids;
    return ctx;
}

/* Waits for service i's process and hands its status to the services, as
 * the loop's reaper does. Returns the signal that killed it, 0 for an
 * exit, -1 when it did not end within ~2 s. */
static int
reap_service(struct services *s, size_t i, uint64_t now)
{
    struct service_ctx ctx = stop_ctx();
    struct child c = {.pid = s->svc[i].pid, .kind = CHILD_SERVICE};

    c.index = (int)i;
    for (int n = 0; n < 200; n++) {
        int st;
        if (waitpid(c.pid, &st, WNOHANG) == c.pid) {
            services_child_exited(s, &ctx, &c, st, now);
            return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
        }
        const struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static struct services *
two_services(bool first_deaf, bool second_deaf)
{
    struct services *s = calloc(1, sizeof(*s));

    assert_non_null(s);
    s->count = 2;
    for (size_t i = 0; i < 2; i++) {
        snprintf(s->svc[i].name, sizeof(s->svc[i].name), "svc%zu", i);
        s->svc[i].state = SVC_READY;
        s->svc[i].deadline = UINT64_MAX;
        s->svc[i].last_code = -1;
        s->svc[i].down_signal = SIGTERM;
        s->svc[i].out_fd = -1;
        s->svc[i].out_wfd = -1;
        s->svc[i].log_rfd = -1;
        s->svc[i].log_wfd = -1;
        s->svc[i].logs_for = -1;
        s->svc[i].pid = child(i == 0 ? first_deaf : second_deaf);
    }
    return s;
}

static void
test_stop_goes_in_reverse_order_and_moves_on_when_one_exits(void **state)
{
    struct services *s = two_services(false, false);
    struct service_ctx ctx = stop_ctx();

    (void)state;
    /* The last started goes first; the first waits for its turn. */
    assert_false(services_stop_step(s, &ctx, 1000, 5000));
    assert_int_equal(s->svc[1].state, SVC_STOPPING);
    assert_int_equal(s->svc[0].state, SVC_READY);
    /* Its share: half of the 4000 ms left, as two are still running. */
    assert_int_equal(s->svc[1].turn_until, 3000);
    /* SIGKILL is due at the end of the budget: its one deadline. */
    assert_int_equal(s->svc[1].deadline, 5000);
    assert_int_equal(reap_service(s, 1, 1100), SIGTERM);
    assert_int_equal(s->svc[1].state, SVC_DOWN);
    assert_false(services_stop_step(s, &ctx, 1100, 5000));
    assert_int_equal(s->svc[0].state, SVC_STOPPING);
    assert_int_equal(s->svc[0].turn_until, 1100 + 3900);
    assert_int_equal(reap_service(s, 0, 1200), SIGTERM);
    assert_true(services_stop_step(s, &ctx, 1200, 5000));
    /* A stop is no failure: nothing is counted as a restart. */
    assert_int_equal(s->svc[0].restarts, 0);
    assert_int_equal(s->svc[0].last_code, 128 + SIGTERM);
    free(s);
}

static void
test_a_deaf_service_gets_its_share_then_the_next_is_signalled(void **state)
{
    struct services *s = two_services(false, true);
    struct service_ctx ctx = stop_ctx();
    pid_t p1 = s->svc[1].pid;

    (void)state;
    assert_false(services_stop_step(s, &ctx, 0, 4000));
    assert_int_equal(s->svc[1].turn_until, 2000);
    /* Within its turn the next one waits. */
    assert_false(services_stop_step(s, &ctx, 1999, 4000));
    assert_int_equal(s->svc[0].state, SVC_READY);
    /* After it, the next is signalled although the deaf one still runs. */
    assert_false(services_stop_step(s, &ctx, 2000, 4000));
    assert_int_equal(s->svc[0].state, SVC_STOPPING);
    assert_int_equal(reap_service(s, 0, 2050), SIGTERM);
    /* The deaf one keeps the stop open until the deadline... */
    assert_false(services_stop_step(s, &ctx, 2100, 4000));
    assert_int_equal(kill(p1, 0), 0);
    /* ...where services_tick gives it SIGKILL and a reap time. */
    assert_int_equal(services_tick(s, &ctx, 4000), 4000 + SERVICE_KILL_REAP_MS);
    assert_true(s->svc[1].killed);
    assert_int_equal(reap_service(s, 1, 4010), SIGKILL);
    assert_true(services_stop_step(s, &ctx, 4010, 4000));
    free(s);
}

static void
test_kill_all_ends_every_service_at_once(void **state)
{
    struct services *s = two_services(true, true);
    struct service_ctx ctx = stop_ctx();

    (void)state;
    services_kill_all(s, &ctx, 9000);
    assert_int_equal(s->svc[0].deadline, 9000 + SERVICE_KILL_REAP_MS);
    assert_true(s->svc[1].killed);
    assert_int_equal(reap_service(s, 0, 9001), SIGKILL);
    assert_int_equal(reap_service(s, 1, 9001), SIGKILL);
    free(s);
}

/* A process that survives SIGKILL (uninterruptible sleep) is abandoned a
 * reap time later, so the stop cannot hang on it; when it is reaped at
 * last, its exit is ignored. */
static void
test_a_process_that_does_not_die_is_abandoned(void **state)
{
    struct services *s = two_services(true, true);
    struct service_ctx ctx = stop_ctx();
    pid_t p0 = s->svc[0].pid;
    struct child c = {.pid = p0, .kind = CHILD_SERVICE, .index = 0};
    int st;

    (void)state;
    /* Stop it so SIGKILL cannot reach it yet. */
    assert_int_equal(kill(p0, SIGSTOP), 0);
    s->svc[1].state = SVC_DOWN; /* only one service in play */
    (void)kill(s->svc[1].pid, SIGKILL);
    (void)waitpid(s->svc[1].pid, &st, 0);
    s->svc[1].pid = 0;
    services_begin_stop(s, &ctx, 0, 1000);
    assert_false(services_stop_step(s, &ctx, 0, 1000));
    /* Pretend SIGKILL was sent and had no effect: the table abandons. */
    s->svc[0].killed = true;
    (void)services_tick(s, &ctx, 1000);
    assert_int_equal(s->svc[0].pid, 0);
    assert_int_equal(s->svc[0].state, SVC_DOWN);
    assert_true(services_stop_step(s, &ctx, 1000, 1000));
    /* Its late exit changes nothing. */
    (void)kill(p0, SIGKILL);
    assert_int_equal(waitpid(p0, &st, 0), p0);
    services_child_exited(s, &ctx, &c, st, 1500);
    assert_int_equal(s->svc[0].state, SVC_DOWN);
    assert_int_equal(s->svc[0].last_code, -1);
    free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_stop_goes_in_reverse_order_and_moves_on_when_one_exits),
        cmocka_unit_test(
            test_a_deaf_service_gets_its_share_then_the_next_is_signalled),
        cmocka_unit_test(test_kill_all_ends_every_service_at_once),
        cmocka_unit_test(test_a_process_that_does_not_die_is_abandoned),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
