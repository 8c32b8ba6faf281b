/* Test and bench helper: leaves N orphans that all exit at the same moment.
 *
 *   orphans N SETTLE_MS     waits SETTLE_MS after the release and prints
 *                           "zombies=K", the zombies left in the namespace
 *   orphans N --reap-time   prints "reaped_ms=T", the time from the release
 *                           until PID 1 has reaped the last orphan (a zombie
 *                           still answers kill(pid, 0), a reaped one gives
 *                           ESRCH), or "unreaped=K" after 10 s
 *   orphans N --handoff     hand-off: one parent has N children that all
 *                           exit and stay its zombies; then the parent
 *                           exits and the kernel hands the N zombies to
 *                           PID 1 at once. Prints "reaped_ms=T", from the
 *                           parent's exit until PID 1 has reaped the last
 *                           of them, or "unreaped=K" after 10 s
 *
 * The orphans are made with clone(CLONE_VM) rather than fork(): copying
 * page tables 20,000 times takes minutes on a small VM, and the orphans
 * only block on a pipe, so sharing memory (each on its own stack) is
 * safe and makes the storm quick to set up. */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK_SIZE    (16 * 1024)
#define REAP_LIMIT_NS (10 * 1000000000LL)

static int gate[2];
/* Hand-off: the parent writes a byte to made once it has made all its
 * children, then waits on leave until main lets it exit. */
static int made[2], leave[2];
static char *stacks;
/* Shared with the clones (CLONE_VM): each middle stores its orphan's pid. */
static pid_t *pids;

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
    /* Its child outlives it and is reparented to PID 1 or the subreaper. */
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

/* Hand-off: the parent of the N children. It never waits for them, so
 * they stay its zombies until it exits itself. */
static int
handoff_parent(void *arg)
{
    long n = (long)arg;
    char c;

    close(leave[1]);
    for (long i = 0; i < n; i++) {
        pid_t pid = clone(orphan,
                          stacks + (i + 2) * STACK_SIZE,
                          CLONE_VM | SIGCHLD,
                          NULL);

        if (pid < 0) {
            _exit(1);
        }
        pids[i] = pid;
    }
    close(gate[0]);
    close(gate[1]);
    if (write(made[1], "", 1) != 1 || read(leave[0], &c, 1) < 0) {
        _exit(1);
    }
    _exit(0);
}

static long long
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
count_zombies(void)
{
    struct dirent *de;
    DIR *d = opendir("/proc");
    int zombies = 0;

    if (d == NULL) {
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        char path[300], buf[512];
        FILE *f;
        char *p;

        if (de->d_name[0] < '0' || de->d_name[0] > '9') {
            continue;
        }
        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
        f = fopen(path, "r");
        if (f == NULL) {
            continue;
        }
        if (fgets(buf, sizeof(buf), f) != NULL &&
            (p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] == 'Z') {
            zombies++;
        }
        fclose(f);
    }
    closedir(d);
    return zombies;
}

/* Waits for every orphan to be reaped, in any order; the short nap leaves
 * the CPU to PID 1. */
static void
report_reap_time(long n, long long start)
{
    struct timespec nap = {0, 50000};
    long done = 0;

    while (done < n) {
        if (kill(pids[done], 0) < 0 && errno == ESRCH) {
            done++;
            continue;
        }
        if (now_ns() - start > REAP_LIMIT_NS) {
            printf("unreaped=%ld\n", n - done);
            return;
        }
        nanosleep(&nap, NULL);
    }
    printf("reaped_ms=%.3f\n", (double)(now_ns() - start) / 1e6);
}

/* 1 when /proc/PID/stat shows a zombie (or no process at all). */
static int
is_zombie(pid_t pid)
{
    char path[64], buf[512], *p;
    FILE *f;
    int zombie = 1;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return 1;
    }
    if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL &&
        p[1] == ' ') {
        zombie = p[2] == 'Z';
    }
    fclose(f);
    return zombie;
}

/* The hand-off case: see the header. */
static int
handoff(long n)
{
    pid_t parent;
    char c;
    long long start;
    int status;

    if (pipe(made) < 0 || pipe(leave) < 0) {
        perror("pipe");
        return 1;
    }
    parent = clone(handoff_parent,
                   stacks + STACK_SIZE,
                   CLONE_VM | SIGCHLD,
                   (void *)n);
    if (parent < 0) {
        perror("clone");
        return 1;
    }
    close(leave[0]);
    close(made[1]);
    close(gate[0]);
    /* A byte: the parent made them all; EOF: it died (its children hold
     * copies of made's write end, but they only exist if it made them). */
    if (read(made[0], &c, 1) != 1) {
        fprintf(stderr, "orphans: the hand-off parent failed\n");
        return 1;
    }
    close(gate[1]); /* the last write end: all N children exit now */
    for (long i = 0; i < n; i++) {
        struct timespec nap = {0, 100000};
        long long t0 = now_ns();

        while (!is_zombie(pids[i])) {
            if (now_ns() - t0 > REAP_LIMIT_NS) {
                fprintf(stderr, "orphans: child %ld did not exit\n", i);
                return 1;
            }
            nanosleep(&nap, NULL);
        }
    }
    start = now_ns();
    close(leave[1]); /* the parent exits: its N zombies go to PID 1 */
    report_reap_time(n, start);
    waitpid(parent, &status, 0);
    return 0;
}

static void *
map_shared(size_t size)
{
    return mmap(NULL,
                size,
                PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS,
                -1,
                0);
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    int reap_time = argc > 2 && strcmp(argv[2], "--reap-time") == 0;
    int handing = argc > 2 && strcmp(argv[2], "--handoff") == 0;
    int settle_ms = argc > 2 && !reap_time && !handing ? atoi(argv[2]) : 1000;
    struct timespec ts = {settle_ms / 1000, (settle_ms % 1000) * 1000000L};
    long long start;

    if (n < 1 || n > 100000 || pipe(gate) < 0) {
        fprintf(stderr,
                "usage: orphans N SETTLE_MS | orphans N --reap-time | "
                "orphans N --handoff\n");
        return 2;
    }
    stacks = map_shared((size_t)(2 * n + 2) * STACK_SIZE);
    pids = map_shared((size_t)n * sizeof(*pids));
    if (stacks == MAP_FAILED || pids == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    if (handing) {
        return handoff(n);
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
            fprintf(stderr, "orphans: orphan %ld not made\n", i);
            return 1;
        }
    }
    close(gate[0]);
    start = now_ns();
    close(gate[1]); /* the last write end: all N orphans exit now */
    if (reap_time) {
        report_reap_time(n, start);
        return 0;
    }
    nanosleep(&ts, NULL);
    printf("zombies=%d\n", count_zombies());
    return 0;
}
