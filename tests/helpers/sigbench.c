/* Bench helper: how an init passes signals on and stops a container.
 *
 *   sigbench usr1-app FIFO         the app: a SIGUSR1 handler writes the
 *                                  CLOCK_MONOTONIC time it runs at (8 bytes)
 *                                  to FIFO, opened once the handler is set,
 *                                  after a 0 that says it is ready; then it
 *                                  waits for signals
 *   sigbench usr1-send PID FIFO N  the sender: N times, reads the clock,
 *                                  sends SIGUSR1 to PID (the init) and waits
 *                                  up to 1 s for the app's time, but stops
 *                                  after 3 lost in a row; prints "sent=S
 *                                  got=K min_us=A median_us=B max_us=C"
 *                                  (latency: handler - send)
 *   sigbench term-app DIR          the app: starts a daemon (fork, setsid,
 *                                  fork: an orphan in a session of its own,
 *                                  that handles SIGTERM by creating
 *                                  DIR/daemon-term and exiting), creates
 *                                  DIR/ready once the daemon runs, then
 *                                  waits; SIGTERM ends it (default action)
 *   sigbench term-wait PID MS      sends SIGTERM to PID and prints
 *                                  "exit_ms=T", the time until PID has
 *                                  exited (a pidfd polls readable), or
 *                                  "exit_ms=timeout" after MS ms
 *
 * CLOCK_MONOTONIC is the same clock in every PID namespace, so the sender
 * outside and the app inside read one clock. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int out_fd = -1;
static char term_path[PATH_MAX];

static int64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
on_usr1(int sig)
{
    int64_t t = now_ns();
    int saved = errno;

    (void)sig;
    if (write(out_fd, &t, sizeof(t)) < 0) {
        /* nothing to do: the sender counts it as lost */
    }
    errno = saved;
}

static void
on_term_daemon(int sig)
{
    int fd = open(term_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

    (void)sig;
    if (fd >= 0) {
        close(fd);
    }
    _exit(0);
}

static int
usr1_app(const char *fifo)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) < 0) {
        perror("sigaction");
        return 1;
    }
    out_fd = open(fifo, O_WRONLY | O_CLOEXEC);
    if (out_fd < 0) {
        perror(fifo);
        return 1;
    }
    /* A time of 0 says "ready": a signal that came while open() was still
     * returning would have found no out_fd. */
    if (write(out_fd, &(int64_t){0}, sizeof(int64_t)) < 0) {
        return 1;
    }
    for (;;) {
        pause();
    }
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static int
usr1_send(pid_t pid, const char *fifo, long n)
{
    int64_t *lat = calloc((size_t)n, sizeof(*lat));
    struct timespec gap = {0, 2000000};
    long got = 0, sent, lost_in_a_row = 0;
    int64_t t1;
    int fd;

    if (lat == NULL) {
        return 1;
    }
    /* Blocks until the app has opened its end and said it is ready. */
    alarm(10);
    fd = open(fifo, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, &t1, sizeof(t1)) != (ssize_t)sizeof(t1)) {
        perror(fifo);
        free(lat);
        return 1;
    }
    alarm(0);
    for (sent = 0; sent < n && lost_in_a_row < 3; sent++) {
        struct pollfd p = {fd, POLLIN, 0};
        int64_t t0 = now_ns();

        if (kill(pid, SIGUSR1) < 0) {
            perror("kill");
            break;
        }
        if (poll(&p, 1, 1000) == 1 && (p.revents & POLLIN) &&
            read(fd, &t1, sizeof(t1)) == (ssize_t)sizeof(t1)) {
            lat[got++] = t1 - t0;
            lost_in_a_row = 0;
        } else if (p.revents & POLLHUP) {
            sent++;
            break;
        } else {
            lost_in_a_row++;
        }
        nanosleep(&gap, NULL);
    }
    if (got == 0) {
        printf("sent=%ld got=0 min_us=n/a median_us=n/a max_us=n/a\n", sent);
        free(lat);
        return 0;
    }
    qsort(lat, (size_t)got, sizeof(*lat), cmp_i64);
    printf("sent=%ld got=%ld min_us=%.1f median_us=%.1f max_us=%.1f\n",
           sent,
           got,
           (double)lat[0] / 1e3,
           (double)(got % 2 ? lat[got / 2]
                            : (lat[got / 2 - 1] + lat[got / 2]) / 2) /
               1e3,
           (double)lat[got - 1] / 1e3);
    free(lat);
    return 0;
}

static int
term_app(const char *dir)
{
    char ready[PATH_MAX];
    int sync[2], status, fd;
    pid_t pid;
    char c;

    snprintf(term_path, sizeof(term_path), "%s/daemon-term", dir);
    snprintf(ready, sizeof(ready), "%s/ready", dir);
    if (pipe(sync) < 0) {
        perror("pipe");
        return 1;
    }
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        close(sync[0]);
        setsid();
        pid = fork();
        if (pid != 0) {
            _exit(pid < 0);
        }
        /* The daemon: an orphan once its parent has exited. */
        signal(SIGTERM, on_term_daemon);
        if (write(sync[1], "", 1) != 1) {
            _exit(1);
        }
        close(sync[1]);
        for (;;) {
            pause();
        }
    }
    close(sync[1]);
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || read(sync[0], &c, 1) != 1) {
        fprintf(stderr, "sigbench: the daemon did not start\n");
        return 1;
    }
    close(sync[0]);
    fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        perror(ready);
        return 1;
    }
    close(fd);
    for (;;) {
        pause();
    }
}

static int
term_wait(pid_t pid, int ms)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    struct pollfd p;
    int64_t t0;

    if (fd < 0) {
        perror("pidfd_open");
        return 1;
    }
    p.fd = fd;
    p.events = POLLIN;
    t0 = now_ns();
    if (kill(pid, SIGTERM) < 0) {
        perror("kill");
        return 1;
    }
    if (poll(&p, 1, ms) == 1) {
        printf("exit_ms=%.3f\n", (double)(now_ns() - t0) / 1e6);
    } else {
        printf("exit_ms=timeout\n");
    }
    close(fd);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "usr1-app") == 0) {
        return usr1_app(argv[2]);
    }
    if (argc == 5 && strcmp(argv[1], "usr1-send") == 0) {
        return usr1_send((pid_t)atoi(argv[2]), argv[3], atol(argv[4]));
    }
    if (argc == 3 && strcmp(argv[1], "term-app") == 0) {
        return term_app(argv[2]);
    }
    if (argc == 4 && strcmp(argv[1], "term-wait") == 0) {
        return term_wait((pid_t)atoi(argv[2]), atoi(argv[3]));
    }
    fprintf(stderr,
            "usage: sigbench usr1-app FIFO | usr1-send PID FIFO N | "
            "term-app DIR | term-wait PID MS\n");
    return 2;
}
