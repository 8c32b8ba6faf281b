#include "init/killall.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/safeio.h"
#include "common/strutil.h"

#define ANCESTRY_MAX_DEPTH 256

int
killall_read_ppid(const char *proc_root, pid_t pid, pid_t *ret_ppid)
{
    char path[64], buf[512];
    const char *p;
    size_t len = 0;
    long ppid;
    int fd, r;

    snprintf(path, sizeof(path), "%s/%d/stat", proc_root, (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    r = read_all(fd, buf, sizeof(buf) - 1, &len);
    (void)close(fd);
    if (r < 0 && r != -EFBIG) {
        return r;
    }
    if (r == -EFBIG) {
        len = sizeof(buf) - 1;
    }
    buf[len] = '\0';
    /* "pid (comm) state ppid ...": comm may hold spaces and parentheses,
     * so parse from the last ')'. */
    p = strrchr(buf, ')');
    if (p == NULL || sscanf(p + 1, " %*c %ld", &ppid) != 1) {
        return -EINVAL;
    }
    *ret_ppid = (pid_t)ppid;
    return 0;
}

bool
killall_descends_from(const char *proc_root, pid_t pid, pid_t ancestor)
{
    for (int depth = 0; depth < ANCESTRY_MAX_DEPTH; depth++) {
        pid_t ppid;
        if (killall_read_ppid(proc_root, pid, &ppid) < 0 || ppid <= 0) {
            return false;
        }
        if (ppid == ancestor) {
            return true;
        }
        pid = ppid;
    }
    return false;
}

/* Whether /proc lists every process to us: its last mount at /proc has no
 * hidepid= but off/noaccess (0/1) (proc(5): with hidepid=invisible or
 * ptraceable, processes we may not ptrace are left out of the listing,
 * and a container without CAP_SYS_PTRACE may not ptrace other users').
 * Read from /proc/self/mountinfo (proc(5), "mountinfo"); any doubt, or a
 * table too big for the buffer, says no. Runs once, at the stop. */
static bool
proc_lists_everyone(void)
{
    static char buf[16 * 1024];
    bool found = false, visible = false;
    size_t len = 0;
    char *line, *save = NULL;
    int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        return false;
    }
    if (read_all(fd, buf, sizeof(buf) - 1, &len) < 0) {
        (void)close(fd);
        return false;
    }
    (void)close(fd);
    buf[len] = '\0';
    for (line = strtok_r(buf, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - TYPE
         * SOURCE SUPER_OPTIONS */
        char point[64], type[16], super[256];
        const char *dash = strstr(line, " - ");
        const char *hp;

        if (dash == NULL || sscanf(line, "%*s %*s %*s %*s %63s", point) != 1 ||
            sscanf(dash + 3, "%15s %*s %255s", type, super) != 2 ||
            strcmp(point, "/proc") != 0 || strcmp(type, "proc") != 0) {
            continue;
        }
        /* The last mount at /proc is the one the path resolves to. */
        found = true;
        hp = strstr(super, "hidepid=");
        /* off/0 and noaccess/1 list every process; invisible/2 and
         * ptraceable/4 do not. */
        visible = hp == NULL || strchr("01", hp[8]) != NULL ||
                  strncmp(hp + 8, "off", 3) == 0 ||
                  strncmp(hp + 8, "noaccess", 8) == 0;
    }
    return found && visible;
}

/* As PID 1: true when /proc is our PID namespace's (its "self" is 1) and
 * lists no process but us. kill(-1) walks every task of the machine, so on
 * a host running thousands of processes it took milliseconds to find
 * nobody; listing the namespace's /proc costs one getdents. Any doubt
 * (no /proc, another namespace's, an error) says false, and kill(-1)
 * decides. */
bool
killall_host_is_busy(const char *loadavg)
{
    const char *slash = loadavg != NULL ? strchr(loadavg, '/') : NULL;
    char *end;
    unsigned long tasks;

    if (slash == NULL || slash[1] < '0' || slash[1] > '9') {
        return false;
    }
    errno = 0;
    tasks = strtoul(slash + 1, &end, 10);
    return errno == 0 && end != slash + 1 && tasks >= KILLALL_BUSY_TASKS;
}

/* killall_host_is_busy on /proc/loadavg; false when it cannot be read. */
static bool
host_is_busy(void)
{
    char buf[128];
    size_t len = 0;
    int r, fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        return false;
    }
    r = read_all(fd, buf, sizeof(buf) - 1, &len);
    (void)close(fd);
    if (r < 0 && r != -EFBIG) {
        return false;
    }
    buf[len] = '\0';
    return killall_host_is_busy(buf);
}

static bool
pid1_alone(void)
{
    char self[16];
    struct dirent *de;
    bool alone = true;
    ssize_t n;
    DIR *d;

    /* On a host with few tasks kill(-1) costs a few microseconds, less
     * than the listing below (a fresh /proc builds its entries on first
     * use): only a busy host is worth the look. */
    if (!host_is_busy()) {
        return false;
    }
    n = readlink("/proc/self", self, sizeof(self) - 1);
    if (n != 1 || self[0] != '1' || !proc_lists_everyone()) {
        return false;
    }
    d = opendir("/proc");
    if (d == NULL) {
        return false;
    }
    while (alone && (de = readdir(d)) != NULL) {
        uint64_t v;
        if (parse_uint(de->d_name, INT32_MAX, &v) == 0 && v != 1) {
            alone = false;
        }
    }
    (void)closedir(d);
    return alone;
}

int
killall_signal(int sig, bool is_pid1)
{
    pid_t self = getpid();
    struct dirent *de;
    DIR *d;
    int n = 0;

    if (is_pid1) {
        if (pid1_alone()) {
            return 0;
        }
        /* ESRCH only means nothing is left. The kernel walks every task
         * of the machine for kill(-1), not only the container's, so the
         * caller skips a second signal when the first found nobody. */
        if (kill(-1, sig) < 0) {
            return errno == ESRCH ? 0 : -errno;
        }
        return 1;
    }
    d = opendir("/proc");
    if (d == NULL) {
        return -errno;
    }
    while ((de = readdir(d)) != NULL) {
        uint64_t v;
        if (parse_uint(de->d_name, INT32_MAX, &v) < 0 || (pid_t)v == self) {
            continue;
        }
        if (killall_descends_from("/proc", (pid_t)v, self) &&
            kill((pid_t)v, sig) == 0) {
            n++;
        }
    }
    (void)closedir(d);
    return n;
}
