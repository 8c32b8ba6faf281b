#include "init/control.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/path.h"
#include "common/safeio.h"
#include "common/strutil.h"

/* airlock wait-ready --timeout: default and upper bound. */
#define WAIT_READY_DEFAULT_MS 60000
#define WAIT_READY_MAX_MS     86400000

static int
control_address(struct sockaddr_un *sa)
{
    char path[PATH_MAX];
    int r = run_path(path, sizeof(path), CONTROL_SOCKET);

    if (r < 0) {
        return r;
    }
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (copy_string(sa->sun_path, sizeof(sa->sun_path), path) < 0) {
        return -ENAMETOOLONG;
    }
    return 0;
}

int
control_listen(void)
{
    struct sockaddr_un sa;
    struct stat st;
    char dir[PATH_MAX];
    mode_t old_umask;
    int fd, r;

    r = control_address(&sa);
    if (r < 0) {
        return r;
    }
    r = run_path(dir, sizeof(dir), "");
    if (r < 0) {
        return r;
    }
    /* One stat in the usual case (the run dir is there from the image or
     * an earlier start); the directories are made only when missing. */
    if (stat(dir, &st) < 0) {
        if (errno != ENOENT || (r = mkdir_parents(dir, 0755)) < 0 ||
            stat(dir, &st) < 0) {
            return r < 0 ? r : -errno;
        }
    }
    /* Only root, or the uid a non-root airlock runs as, may ask PID 1 to
     * restart things: the run dir is theirs alone, whatever mode the
     * image gave it. */
    if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) < 0) {
        return -errno;
    }
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -errno;
    }
    for (int attempt = 0;; attempt++) {
        old_umask = umask(0177);
        r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old_umask);
        /* A socket left by an earlier start is in the way: removed,
         * once. */
        if (r == 0 || errno != EADDRINUSE || attempt > 0 ||
            unlink(sa.sun_path) < 0) {
            break;
        }
    }
    if (r < 0 || listen(fd, 8) < 0) {
        r = -errno;
        (void)close(fd);
        return r;
    }
    return fd;
}

int
control_accept(int listen_fd)
{
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    int fd;

    fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
        return -errno;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
        (cred.uid != 0 && cred.uid != geteuid())) {
        (void)close(fd);
        return -EPERM;
    }
    return fd;
}

int
control_read_request(int client_fd, char *req, size_t size)
{
    ssize_t n;

    do {
        n = recv(client_fd, req, size - 1, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
    if (n == 0) {
        return -EPROTO;
    }
    req[n] = '\0';
    return (int)n;
}

void
control_reply(int client_fd, const char *reply, size_t len)
{
    (void)send(client_fd, reply, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)close(client_fd);
}

int
control_request(const char *req, char *reply, size_t size)
{
    struct sockaddr_un sa;
    ssize_t n;
    int fd, r;

    r = control_address(&sa);
    if (r < 0) {
        fprintf(stderr, "airlock: control socket path: %s\n", strerror(-r));
        return 3;
    }
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        fprintf(stderr,
                "airlock: cannot reach PID 1 at '%s': %s\n",
                sa.sun_path,
                strerror(errno));
        if (fd >= 0) {
            (void)close(fd);
        }
        return 3;
    }
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
        fprintf(stderr, "airlock: send: %s\n", strerror(errno));
        (void)close(fd);
        return 3;
    }
    n = recv(fd, reply, size - 1, 0);
    (void)close(fd);
    if (n <= 0) {
        fprintf(stderr, "airlock: no answer from PID 1\n");
        return 3;
    }
    reply[n] = '\0';
    return 0;
}

/* `airlock wait-ready [NAME] [--timeout SECONDS]`: asks PID 1 every
 * 100 ms until NAME (or every service) is ready: 0; it failed, the name
 * is unknown or the timeout (default 60 s) passed: 1, with PID 1's last
 * answer on stderr; 2 bad usage; 3 PID 1 not reachable. */
static int
wait_ready_main(int argc, char **argv)
{
    const struct timespec tick = {0, 100 * 1000 * 1000};
    char req[256], reply[CONTROL_REPLY_MAX + 1];
    const char *name = NULL;
    uint64_t timeout_ms = WAIT_READY_DEFAULT_MS;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            if (parse_seconds_ms(argv[++i], WAIT_READY_MAX_MS, &timeout_ms) <
                0) {
                fprintf(stderr,
                        "airlock wait-ready: --timeout '%s': expected "
                        "seconds\n",
                        argv[i]);
                return 2;
            }
        } else if (name == NULL && argv[i][0] != '-' && strlen(argv[i]) < 128) {
            name = argv[i];
        } else {
            fprintf(stderr,
                    "usage: airlock wait-ready [NAME] [--timeout SECONDS]\n");
            return 2;
        }
    }
    if (name != NULL) {
        snprintf(req, sizeof(req), "ready %s", name);
    } else {
        snprintf(req, sizeof(req), "ready");
    }
    /* Bounded by count: every round sleeps 100 ms. */
    for (uint64_t round = 0; round <= timeout_ms / 100; round++) {
        int r = control_request(req, reply, sizeof(reply));
        if (r != 0) {
            return r;
        }
        if (strcmp(reply, "ready\n") == 0) {
            return 0;
        }
        if (strncmp(reply, "waiting: ", 9) != 0) {
            break; /* failed, or an error */
        }
        if (round < timeout_ms / 100) {
            (void)nanosleep(&tick, NULL);
        }
    }
    fprintf(stderr,
            "airlock wait-ready: %s",
            strncmp(reply, "error: ", 7) == 0 ? reply + 7 : reply);
    return 1;
}

int
control_client_main(int argc, char **argv)
{
    char req[256], reply[CONTROL_REPLY_MAX + 1];
    int r;

    if (argc >= 1 && strcmp(argv[0], "wait-ready") == 0) {
        return wait_ready_main(argc, argv);
    }
    if (argc == 1 && strcmp(argv[0], "status") == 0) {
        snprintf(req, sizeof(req), "status");
    } else if (argc == 2 && strcmp(argv[0], "status") == 0 &&
               strcmp(argv[1], "--json") == 0) {
        snprintf(req, sizeof(req), "status-json");
    } else if (argc == 2 && strcmp(argv[0], "restart") == 0 &&
               strlen(argv[1]) < 128) {
        snprintf(req, sizeof(req), "restart %s", argv[1]);
    } else {
        fprintf(stderr,
                "usage: airlock status [--json] | airlock restart NAME | "
                "airlock wait-ready [NAME] [--timeout SECONDS]\n");
        return 2;
    }
    r = control_request(req, reply, sizeof(reply));
    if (r != 0) {
        return r;
    }
    /* PID 1 prefixes failures with "error: ". */
    if (strncmp(reply, "error: ", 7) == 0) {
        fprintf(stderr, "airlock: %s", reply + 7);
        return 1;
    }
    fputs(reply, stdout);
    return 0;
}
