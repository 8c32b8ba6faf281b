/* Bench helper: how long PID 1 takes to reap N orphans that exit at once.
 * Usage: reaptime N
 *
 * Makes N orphans as tests/helpers/orphans does (clone(CLONE_VM), each
 * orphan blocked on a pipe, its parent gone so it belongs to PID 1), then
 * closes the last write end of the pipe and times how long it takes until
 * every orphan has left the process table: kill(pid, 0) fails with ESRCH
 * only once PID 1 has reaped it, a zombie still answers. Prints
 * "reaped_ms=T", or "unreaped=K" when some are still there after 10 s
 * (PID 1 that never reaps, as when this program is PID 1 itself).
 *
 * bench/init.sh compiles it on the fly; it is not part of the build. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK_SIZE (16 * 1024)
#define LIMIT_NS   (10 * 1000000000LL)

static int gate[2];
static char *stacks;
/* Shared with the clones (CLONE_VM): each middle stores its orphan's PID. */
static pid_t *pids;

static long long
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
orphan(void *arg)
{
    char c;

    (void)arg;
    /* Without CLONE_FILES each clone has its own copy of the write end;
     * dropping it here leaves main's as the last one. */
    close(gate[1]);
    if (read(gate[0], &c, 1) < 0) {
        _exit(1);
    }
    _exit(0);
}

static int
middle(void *arg)
{
    long i = (long)arg;
    pid_t pid = clone(orphan,
                      stacks + (2 * i + 2) * STACK_SIZE,
                      CLONE_VM | SIGCHLD,
                      NULL);

    if (pid < 0) {
        _exit(1);
    }
    pids[i] = pid;
    _exit(0);
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    struct timespec nap = {0, 50000};
    long long start, deadline;
    long done = 0;

    if (n < 1 || n > 100000 || pipe(gate) < 0) {
        fprintf(stderr, "usage: reaptime N\n");
        return 2;
    }
    stacks = mmap(NULL,
                  (size_t)(2 * n + 2) * STACK_SIZE,
                  PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS,
                  -1,
                  0);
    pids = mmap(NULL,
                (size_t)n * sizeof(*pids),
                PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS,
                -1,
                0);
    if (stacks == MAP_FAILED || pids == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (long i = 0; i < n; i++) {
        int status;
        pid_t pid = clone(middle,
                          stacks + (2 * i + 1) * STACK_SIZE,
                          CLONE_VM | SIGCHLD,
                          (void *)i);

        if (pid < 0) {
            perror("clone");
            return 1;
        }
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0 || pids[i] <= 0) {
            fprintf(stderr, "reaptime: orphan %ld not made\n", i);
            return 1;
        }
    }
    close(gate[0]);
    start = now_ns();
    deadline = start + LIMIT_NS;
    close(gate[1]); /* the last write end: all N orphans exit now */

    /* The orphans may be reaped in any order; waiting for each in turn
     * ends when the last one is gone. The short nap leaves the CPU to
     * PID 1. */
    while (done < n) {
        if (kill(pids[done], 0) < 0 && errno == ESRCH) {
            done++;
            continue;
        }
        if (now_ns() > deadline) {
            printf("unreaped=%ld\n", n - done);
            return 0;
        }
        nanosleep(&nap, NULL);
    }
    printf("reaped_ms=%.3f\n", (double)(now_ns() - start) / 1e6);
    return 0;
}
