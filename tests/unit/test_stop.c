/* Unit tests for the stop of services under one budget
 * (services_stop_step, services_tick, services_kill_all), on real
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

/* How the child ended within ~2 s: the signal that killed it, or 0. */
static int
death_signal(pid_t pid)
{
    for (int i = 0; i < 200; i++) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
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
        s->svc[i].state = SVC_UP;
        s->svc[i].down_signal = SIGTERM;
        s->svc[i].out_fd = -1;
        s->svc[i].pid = child(i == 0 ? first_deaf : second_deaf);
    }
    return s;
}

static void
test_stop_goes_in_reverse_order_and_moves_on_when_one_exits(void **state)
{
    struct services *s = two_services(false, false);
    pid_t p0 = s->svc[0].pid, p1 = s->svc[1].pid;

    (void)state;
    /* The last started goes first; the first waits for its turn. */
    assert_false(services_stop_step(s, 1000, 5000));
    assert_int_equal(s->svc[1].state, SVC_STOPPING);
    assert_int_equal(s->svc[0].state, SVC_UP);
    /* Its share: half of the 4000 ms left, as two are still running. */
    assert_int_equal(s->svc[1].turn_until, 3000);
    assert_int_equal(death_signal(p1), SIGTERM);
    s->svc[1].pid = 0; /* what services_child_exited does */
    assert_false(services_stop_step(s, 1100, 5000));
    assert_int_equal(s->svc[0].state, SVC_STOPPING);
    assert_int_equal(s->svc[0].turn_until, 1100 + 3900);
    assert_int_equal(death_signal(p0), SIGTERM);
    s->svc[0].pid = 0;
    assert_true(services_stop_step(s, 1200, 5000));
    free(s);
}

static void
test_a_deaf_service_gets_its_share_then_the_next_is_signalled(void **state)
{
    struct services *s = two_services(false, true);
    pid_t p0 = s->svc[0].pid, p1 = s->svc[1].pid;

    (void)state;
    assert_false(services_stop_step(s, 0, 4000));
    assert_int_equal(s->svc[1].turn_until, 2000);
    /* Within its turn the next one waits. */
    assert_false(services_stop_step(s, 1999, 4000));
    assert_int_equal(s->svc[0].state, SVC_UP);
    /* After it, the next is signalled although the deaf one still runs. */
    assert_false(services_stop_step(s, 2000, 4000));
    assert_int_equal(s->svc[0].state, SVC_STOPPING);
    assert_int_equal(death_signal(p0), SIGTERM);
    s->svc[0].pid = 0;
    /* The deaf one keeps the stop open until the deadline... */
    assert_false(services_stop_step(s, 2100, 4000));
    assert_int_equal(kill(p1, 0), 0);
    /* ...where services_tick gives it SIGKILL (stopping: it starts
     * nothing, so the context is never used). */
    struct service_ctx ctx;
    sigset_t none;
    sigemptyset(&none);
    memset(&ctx, 0, sizeof(ctx));
    ctx.child_mask = &none;
    (void)services_tick(s, &ctx, 4000, true);
    assert_true(s->svc[1].killed);
    assert_int_equal(death_signal(p1), SIGKILL);
    free(s);
}

static void
test_kill_all_ends_every_service_at_once(void **state)
{
    struct services *s = two_services(true, true);
    pid_t p0 = s->svc[0].pid, p1 = s->svc[1].pid;

    (void)state;
    services_kill_all(s, 9000);
    assert_int_equal(death_signal(p0), SIGKILL);
    assert_int_equal(death_signal(p1), SIGKILL);
    assert_int_equal(s->svc[0].stop_deadline, 9000);
    assert_true(s->svc[1].killed);
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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
