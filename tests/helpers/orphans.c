/* Test helper: leaves N orphans that all exit at the same moment, then
 * waits a moment and prints how many zombies the namespace holds.
 * Usage: orphans N SETTLE_MS
 *
 * The orphans are made with clone(CLONE_VM) rather than fork(): copying
 * page tables 20,000 times takes minutes on a small VM, and the orphans
 * only block on a pipe, so sharing memory (each on its own stack) is
 * safe and makes the storm quick to set up. */
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK_SIZE (16 * 1024)

static int gate[2];
static char *stacks;

static int
orphan(void *arg)
{
    char c;
    (void)arg;
    /* Blocks until the gate's last writer closes it: all exit together.
     * CLONE_VM children share the fd table only with CLONE_FILES, which
     * is not set, so each holds its own copy of the write end; it is
     * closed here. */
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
    if (clone(orphan,
              stacks + (2 * i + 2) * STACK_SIZE,
              CLONE_VM | SIGCHLD,
              NULL) < 0) {
        _exit(1);
    }
    _exit(0);
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

int
main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    int settle_ms = argc > 2 ? atoi(argv[2]) : 1000;
    struct timespec ts = {settle_ms / 1000, (settle_ms % 1000) * 1000000L};

    if (n < 1 || n > 100000 || pipe(gate) < 0) {
        fprintf(stderr, "usage: orphans N SETTLE_MS\n");
        return 2;
    }
    stacks = mmap(NULL,
                  (size_t)(2 * n + 2) * STACK_SIZE,
                  PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS,
                  -1,
                  0);
    if (stacks == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (long i = 0; i < n; i++) {
        pid_t pid = clone(middle,
                          stacks + (2 * i + 1) * STACK_SIZE,
                          CLONE_VM | SIGCHLD,
                          (void *)i);
        if (pid < 0) {
            perror("clone");
            return 1;
        }
        (void)waitpid(pid, NULL, 0);
    }
    close(gate[0]);
    close(gate[1]); /* the last write end: all N orphans exit now */
    nanosleep(&ts, NULL);
    printf("zombies=%d\n", count_zombies());
    return 0;
}
