/* Test helper: reports the state a process was started with, read by the
 * process itself so that no shell's fork window can show through.
 *
 *   procstate      prints the SigBlk and SigIgn lines of /proc/self/status
 *                  as the kernel writes them, then "fds: 0 1 2 ..." (the
 *                  open descriptors, without the one used to list them)
 *
 * A shell that runs `grep ... /proc/$$/status` reads the shell's status
 * while it may be inside its own fork, where dash blocks every signal;
 * exec'ing this helper instead reports what a program really inherits. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
print_masks(void)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "re");

    if (f == NULL) {
        perror("procstate: /proc/self/status");
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "SigBlk:", 7) == 0 ||
            strncmp(line, "SigIgn:", 7) == 0) {
            fputs(line, stdout);
        }
    }
    fclose(f);
    return 0;
}

static int
print_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    const struct dirent *e;
    int self;

    if (d == NULL) {
        perror("procstate: /proc/self/fd");
        return -1;
    }
    self = dirfd(d);
    fputs("fds:", stdout);
    /* readdir lists in ascending order for /proc/PID/fd. */
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == self) {
            continue;
        }
        printf(" %s", e->d_name);
    }
    putchar('\n');
    closedir(d);
    return 0;
}

int
main(void)
{
    /* Listed before stdio opens anything of its own. */
    if (print_fds() != 0 || print_masks() != 0) {
        return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
