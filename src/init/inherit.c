#include "init/inherit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/safeio.h"
#include "common/strutil.h"
#include "common/spawn.h"

/* Without /proc (a bare chroot), fds are probed one by one up to here:
 * socket activation starts at 3 and passes a handful. */
#define PROBE_FD_MAX 1023

/* Keeps fd for the app. Close-on-exec, because a listening socket that
 * a service or a script also held would stay open after the app closed
 * it, and anything else calling accept() on it would take the app's
 * connections. spawn closes it anyway; this covers any other exec. */
static void
keep(struct inherit *in, int fd, size_t *dropped)
{
    if (in->nfds < INHERIT_FDS_MAX) {
        in->fds[in->nfds++] = fd;
        (void)fd_set_cloexec(fd);
        return;
    }
    (*dropped)++;
    (void)close(fd);
}

int
inherit_record(struct inherit *in, size_t *ret_dropped)
{
    struct dirent *de;
    size_t dropped = 0;
    DIR *d;

    in->nfds = 0;
    *ret_dropped = 0;
    d = opendir("/proc/self/fd");
    if (d == NULL) {
        for (int fd = STDERR_FILENO + 1; fd <= PROBE_FD_MAX; fd++) {
            if (fcntl(fd, F_GETFD) >= 0) {
                keep(in, fd, &dropped);
            }
        }
        *ret_dropped = dropped;
        return 0;
    }
    for (;;) {
        uint64_t n;

        /* readdir() returns NULL both at the end and on error; only errno
         * tells them apart. */
        errno = 0;
        de = readdir(d);
        if (de == NULL) {
            break;
        }
        /* The directory's own fd is listed too; it is not inherited. */
        if (parse_uint(de->d_name, INT32_MAX, &n) < 0 || n <= STDERR_FILENO ||
            (int)n == dirfd(d)) {
            continue;
        }
        keep(in, (int)n, &dropped);
    }
    if (errno != 0) {
        int r = -errno;
        (void)closedir(d);
        return r;
    }
    (void)closedir(d);
    *ret_dropped = dropped;
    return 0;
}

bool
inherit_names_pid(const char *value, pid_t pid)
{
    uint64_t n;

    return value != NULL && pid > 0 && parse_uint(value, INT32_MAX, &n) == 0 &&
           (pid_t)n == pid;
}

int
inherit_prepare_env(struct inherit *in, char *const *envp, pid_t self)
{
    const size_t plen = strlen(INHERIT_LISTEN_PID);
    bool found = false;

    in->envp = NULL;
    in->pid_slot = NULL;
    for (size_t i = 0; envp != NULL && envp[i] != NULL; i++) {
        if (strncmp(envp[i], INHERIT_LISTEN_PID, plen) == 0) {
            found = inherit_names_pid(envp[i] + plen, self);
        }
    }
    if (!found) {
        /* Absent, or for another process: the fds were not handed to
         * airlock, so the app must not claim them either. */
        return 0;
    }
    memcpy(in->listen_pid, INHERIT_LISTEN_PID, plen + 1);
    in->envp = spawn_env_with(envp, in->listen_pid);
    if (in->envp == NULL) {
        return -ENOMEM;
    }
    in->pid_slot = in->listen_pid + plen;
    return 1;
}

/* Only the numbers recorded at start: every one of them stayed open
 * since, so none can have been reused for an fd of airlock's own. */
void
inherit_close(struct inherit *in)
{
    for (size_t i = 0; i < in->nfds; i++) {
        (void)close(in->fds[i]);
    }
    in->nfds = 0;
}
