/* `airlock syslogd`: receives datagrams on ROOT/dev/log and writes one
 * line per message to stdout and, optionally, to a rotated file.
 *
 * It runs in its own process, supervised by PID 1, because it parses
 * input from any local user: a bug here costs a restart, not the
 * container. Throughput comes from receiving in batches (recvmmsg) and
 * buffering output; latency stays low because both buffers are written out
 * as soon as the socket has nothing more queued. */
#include "syslogd/syslogd.h"

#include "common/log.h"
#include "common/path.h"
#include "common/safeio.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "syslogd/config.h"
#include "syslogd/logfile.h"
#include "syslogd/message.h"
#include "syslogd/output.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* A datagram larger than this is cut (MSG_TRUNC tells its real size). */
#define RECV_BUF_SIZE (64 * 1024)
/* Datagrams taken per recvmmsg call: the kernel queues only a few unix
 * datagrams per socket (net.unix.max_dgram_qlen, 10 by default) before
 * senders block, so a larger batch would only cost memory. */
#define RECV_BATCH 16
/* Messages handled before looking at signals again under a steady flood. */
#define DRAIN_MAX 4096
/* Receive buffer asked for; the kernel caps it (rmem_max) unless root. */
#define SOCKET_RCVBUF (8 * 1024 * 1024)
/* --prefix TEXT: at most this long; "syslog" unless given. The prefix
 * tells syslog lines from the app's own output on the container's stdout;
 * a supervisor that adds its own can turn it off with --prefix=. */
#define PREFIX_MAX     64
#define PREFIX_DEFAULT "syslog: "
/* "2026-11-28T00:52:04.123Z " */
#define FILE_STAMP_LEN 25
/* Retry opening a failed log file at most this often. */
#define FILE_RETRY_MS 1000

struct collector {
    struct syslogd_config cfg;
    char prefix[PREFIX_MAX + 3]; /* "TEXT: " or "" */
    size_t prefix_len;
    int sock;
    int sigfd;
    ino_t sock_ino;
    int inherited_fd; /* --socket-fd: PID 1 bound /dev/log; -1 if not */
    struct output out;
    bool out_failing; /* an error was logged; quiet until a write works */
    bool have_file;
    bool file_failing;
    time_t stamp_sec; /* second cached in stamp */
    char stamp[FILE_STAMP_LEN + 1];
    struct logfile file;
};

/* Large buffers live in static storage: they are bounded, allocated once
 * and never on the stack. */
static struct collector collector;
static char recv_bufs[RECV_BATCH][RECV_BUF_SIZE];
static char file_line[FILE_STAMP_LEN + SYSLOG_LINE_MAX];

static void
out_flush(struct collector *c)
{
    bool had = c->out.len > 0;
    int r = output_flush(&c->out);

    if (r < 0 && !c->out_failing) {
        log_errno(LOG_LEVEL_ERROR,
                  r,
                  "writing to stdout, dropping lines until it works");
        c->out_failing = true;
    } else if (r == 0 && had && c->out_failing) {
        log_info("writing to stdout works again");
        c->out_failing = false;
    }
}

static void
file_result(struct collector *c, int r, const char *what)
{
    if (r < 0 && !c->file_failing) {
        log_errno(LOG_LEVEL_ERROR,
                  r,
                  "%s '%s', dropping file lines until it works",
                  what,
                  c->cfg.file);
        c->file_failing = true;
    } else if (r == 0 && c->file_failing && c->file.fd >= 0) {
        log_info("writing '%s' works again", c->cfg.file);
        c->file_failing = false;
    }
}

static void
flush_all(struct collector *c)
{
    out_flush(c);
    if (c->have_file) {
        file_result(c, logfile_flush(&c->file), "writing");
    }
}

static void
update_stamp(struct collector *c)
{
    struct timespec ts;
    struct tm tm;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != c->stamp_sec || c->stamp[0] == '\0') {
        gmtime_r(&ts.tv_sec, &tm);
        (void)strftime(c->stamp,
                       sizeof(c->stamp),
                       "%Y-%m-%dT%H:%M:%S.000Z ",
                       &tm);
        c->stamp_sec = ts.tv_sec;
    }
    /* Only the milliseconds change within a second. */
    long ms = ts.tv_nsec / 1000000;
    c->stamp[20] = (char)('0' + ms / 100);
    c->stamp[21] = (char)('0' + ms / 10 % 10);
    c->stamp[22] = (char)('0' + ms % 10);
}

static void
handle_datagram(struct collector *c,
                const char *buf,
                size_t got,
                size_t real_len)
{
    static uint64_t last_retry_ms;
    struct syslog_msg m;
    const char *note = NULL;
    char *line;
    size_t n;

    if (syslog_parse(buf, got, &m, &note) < 0) {
        return;
    }
    if (note != NULL) {
        log_debug("datagram of %zu bytes: %s", real_len, note);
    }
    if (sizeof(c->out.buf) - c->out.len < c->prefix_len + SYSLOG_LINE_MAX) {
        out_flush(c);
    }
    memcpy(c->out.buf + c->out.len, c->prefix, c->prefix_len);
    line = c->out.buf + c->out.len + c->prefix_len;
    n = syslog_format(line, SYSLOG_LINE_MAX, &m, got, real_len);
    c->out.len += c->prefix_len + n;

    if (c->have_file) {
        int r;
        if (c->file.fd < 0) {
            /* Closed after an error: retry now and then, not per line. */
            uint64_t now = now_ms();
            if (now - last_retry_ms < FILE_RETRY_MS && last_retry_ms != 0) {
                return;
            }
            last_retry_ms = now;
        }
        update_stamp(c);
        memcpy(file_line, c->stamp, FILE_STAMP_LEN);
        memcpy(file_line + FILE_STAMP_LEN, line, n);
        r = logfile_write(&c->file, file_line, FILE_STAMP_LEN + n);
        file_result(c, r, "writing");
    }
}

/* Receives until the socket is empty (or DRAIN_MAX messages, so signals
 * are seen under a flood), then writes out what was buffered. */
static void
drain_socket(struct collector *c)
{
    struct mmsghdr msgs[RECV_BATCH];
    struct iovec iov[RECV_BATCH];
    unsigned handled = 0;

    while (handled < DRAIN_MAX) {
        int n;

        memset(msgs, 0, sizeof(msgs));
        for (int i = 0; i < RECV_BATCH; i++) {
            iov[i].iov_base = recv_bufs[i];
            iov[i].iov_len = RECV_BUF_SIZE;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        /* MSG_TRUNC makes msg_len the datagram's real size (Linux >= 3.4
         * for unix sockets), so the line can say how much was cut. */
        n = recvmmsg(c->sock, msgs, RECV_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                log_errno(LOG_LEVEL_WARN, -errno, "receiving, continuing");
            }
            break;
        }
        for (int i = 0; i < n; i++) {
            size_t real = msgs[i].msg_len;
            size_t got = real < RECV_BUF_SIZE ? real : RECV_BUF_SIZE;
            handle_datagram(c, recv_bufs[i], got, real);
        }
        handled += (unsigned)n;
    }
    flush_all(c);
}

/* Removes a stale socket at path; refuses when another daemon still
 * listens there or when something that is not a socket is in the way. */
static int
clear_socket_path(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    int fd, r;

    if (lstat(path, &st) < 0) {
        return errno == ENOENT ? 0 : -errno;
    }
    if (S_ISSOCK(st.st_mode)) {
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            return -errno;
        }
        memcpy(sa.sun_path, path, strlen(path) + 1);
        r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
        (void)close(fd);
        if (r == 0) {
            return -EADDRINUSE;
        }
    } else if (!S_ISLNK(st.st_mode)) {
        /* A host-style /dev/log symlink is replaced; anything else is
         * somebody's file. */
        return -EEXIST;
    }
    return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int
syslogd_bind(const char *path, int *ret_fd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char dir[SYSLOGD_SOCKET_PATH_MAX];
    bool made_dirs = false, cleared = false;
    int size = SOCKET_RCVBUF;
    char *slash;
    int fd, r;

    if (strlen(path) >= sizeof(dir) || strlen(path) >= sizeof(sa.sun_path)) {
        return -ENAMETOOLONG;
    }
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -errno;
    }
    /* Bursts wait in the kernel while the collector writes; as root the
     * cap of net.core.rmem_max does not apply (SO_RCVBUFFORCE). */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0) {
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    /* bind first, repair and retry only when it says why: a fresh
     * container (the usual start) needs no other system call. Each repair
     * is made once, so this ends after three binds at most. */
    for (;;) {
        /* Every user may log, as with any syslog daemon: the socket file
         * is made 0666 by bind itself (0777 less the umask), never wider
         * for a moment. One thread, so the umask change is ours alone. */
        mode_t old = umask(0111);
        r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
        (void)umask(old);
        if (r == 0) {
            *ret_fd = fd;
            return 0;
        }
        if (r == -ENOENT && !made_dirs) {
            made_dirs = true;
            memcpy(dir, path, strlen(path) + 1);
            slash = strrchr(dir, '/');
            if (slash == NULL || slash == dir) {
                break;
            }
            *slash = '\0';
            r = mkdir_parents(dir, 0755);
        } else if (r == -EADDRINUSE && !cleared) {
            /* Something is there: a stale socket or a host-style symlink
             * is replaced; a live daemon or a file is not. */
            cleared = true;
            r = clear_socket_path(path);
        } else {
            break;
        }
        if (r < 0) {
            break;
        }
    }
    (void)close(fd);
    return r;
}

/* The socket PID 1 bound and passed (--socket-fd): checked to be a
 * datagram socket, made non-blocking for us (PID 1 never reads it). */
static int
adopt_socket(struct collector *c)
{
    struct sockaddr_un sa;
    int type = 0, flags;
    socklen_t len = sizeof(type);
    struct stat st;

    if (fstat(c->inherited_fd, &st) < 0 || !S_ISSOCK(st.st_mode) ||
        getsockopt(c->inherited_fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
        type != SOCK_DGRAM) {
        log_error("--socket-fd=%d: not a datagram socket", c->inherited_fd);
        return -EINVAL;
    }
    flags = fcntl(c->inherited_fd, F_GETFL);
    if (flags < 0 || fcntl(c->inherited_fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        fcntl(c->inherited_fd, F_SETFD, FD_CLOEXEC) < 0) {
        return log_errno(LOG_LEVEL_ERROR, -errno, "--socket-fd");
    }
    c->sock = c->inherited_fd;
    /* The path stays PID 1's to remove: no inode, nothing unlinked. */
    c->sock_ino = 0;
    /* Say the path PID 1 actually bound (the run dir's for a non-root
     * airlock), not the configured one. */
    len = sizeof(sa);
    if (getsockname(c->inherited_fd, (struct sockaddr *)&sa, &len) == 0 &&
        len > offsetof(struct sockaddr_un, sun_path) + 1 &&
        sa.sun_path[0] != '\0') {
        size_t n = len - offsetof(struct sockaddr_un, sun_path);
        n = strnlen(sa.sun_path,
                    n < sizeof(sa.sun_path) ? n : sizeof(sa.sun_path));
        if (n < sizeof(c->cfg.socket_path)) {
            memcpy(c->cfg.socket_path, sa.sun_path, n);
            c->cfg.socket_path[n] = '\0';
        }
    }
    return 0;
}

static int
open_socket(struct collector *c)
{
    const char *path = c->cfg.socket_path;
    struct stat st;
    int fd = -1, r;

    if (c->inherited_fd >= 0) {
        return adopt_socket(c);
    }
    r = syslogd_bind(path, &fd);
    if (r == -EADDRINUSE) {
        log_error("another syslog daemon listens on '%s'", path);
        return r;
    }
    if (r < 0) {
        return log_errno(LOG_LEVEL_ERROR, r, "binding '%s'", path);
    }
    if (stat(path, &st) < 0) {
        r = log_errno(LOG_LEVEL_ERROR, -errno, "stat '%s'", path);
        (void)close(fd);
        return r;
    }
    c->sock = fd;
    c->sock_ino = st.st_ino;
    return 0;
}

static int
setup_signals(struct collector *c)
{
    sigset_t mask;

    /* A closed stdout must give EPIPE, not kill the collector. */
    (void)signal(SIGPIPE, SIG_IGN);
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
        return log_errno(LOG_LEVEL_ERROR, -errno, "sigprocmask");
    }
    c->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (c->sigfd < 0) {
        return log_errno(LOG_LEVEL_ERROR, -errno, "signalfd");
    }
    return 0;
}

/* Returns true when the collector should stop. */
static bool
handle_signals(struct collector *c)
{
    struct signalfd_siginfo si;
    bool stop = false;

    for (;;) {
        ssize_t n = read(c->sigfd, &si, sizeof(si));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n != (ssize_t)sizeof(si)) {
            break;
        }
        if (si.ssi_signo == SIGHUP) {
            if (c->have_file) {
                int r = logfile_reopen(&c->file);
                file_result(c, r, "reopening");
                if (r == 0) {
                    log_info("reopened '%s'", c->cfg.file);
                }
            }
        } else {
            stop = true;
        }
    }
    return stop;
}

static void
usage(FILE *f)
{
    fprintf(
        f,
        "usage: airlock syslogd [--prefix TEXT]\n"
        "Collects syslog datagrams on $AIRLOCK_ROOT/dev/log and prints one\n"
        "line per message to stdout:\n"
        "  TEXT: FACILITY.SEVERITY TAG[PID]: MESSAGE\n"
        "TEXT is 'syslog' by default; --prefix= leaves it out.\n"
        "Environment: AIRLOCK_SYSLOG=on|off, AIRLOCK_SYSLOG_FILE=PATH,\n"
        "AIRLOCK_SYSLOG_ROTATE_SIZE=BYTES[k|M|G] (default 10M),\n"
        "AIRLOCK_SYSLOG_ROTATE_KEEP=N (default 5), AIRLOCK_LOG_LEVEL.\n");
}

static int
load_config(struct collector *c)
{
    const char *var = NULL, *reason = NULL, *lvl;
    enum log_level level;
    int r;

    lvl = getenv("AIRLOCK_LOG_LEVEL");
    if (lvl != NULL && *lvl != '\0') {
        if (log_parse_level(lvl, &level) < 0) {
            log_error("bad AIRLOCK_LOG_LEVEL='%s': expected error, warn, "
                      "info or debug",
                      lvl);
            return -EINVAL;
        }
        log_set_level(level);
    }
    r = syslogd_config_parse(&c->cfg,
                             root_dir(),
                             getenv("AIRLOCK_SYSLOG"),
                             getenv("AIRLOCK_SYSLOG_FILE"),
                             getenv("AIRLOCK_SYSLOG_ROTATE_SIZE"),
                             getenv("AIRLOCK_SYSLOG_ROTATE_KEEP"),
                             &var,
                             &reason);
    if (r < 0) {
        const char *val = getenv(var);
        log_error("bad %s='%s': %s", var, val != NULL ? val : "", reason);
    }
    return r;
}

/* 1: run; 0: exit 0 (help shown); -2: usage error (exit 2). */
static int
parse_args(struct collector *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *text = NULL;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strncmp(a, "--socket-fd=", 12) == 0) {
            uint64_t fd = 0;
            if (parse_uint(a + 12, INT32_MAX, &fd) < 0 || fd < 3) {
                log_error("bad --socket-fd '%s': expected an fd above 2",
                          a + 12);
                return -2;
            }
            c->inherited_fd = (int)fd;
            continue;
        }
        if (strncmp(a, "--prefix=", 9) == 0) {
            text = a + 9;
        } else if (strcmp(a, "--prefix") == 0 && i + 1 < argc) {
            text = argv[++i];
        } else {
            log_error("unknown argument '%s'", a);
            usage(stderr);
            return -2;
        }
        size_t len = strlen(text);
        bool printable = true;
        for (size_t k = 0; k < len; k++) {
            printable = printable && text[k] > 0x20 && text[k] < 0x7f;
        }
        if (len > PREFIX_MAX || !printable) {
            log_error("bad --prefix '%s': expected at most %d printable "
                      "characters without spaces",
                      text,
                      PREFIX_MAX);
            return -2;
        }
        c->prefix_len = 0;
        if (len > 0) {
            memcpy(c->prefix, text, len);
            memcpy(c->prefix + len, ": ", 2);
            c->prefix_len = len + 2;
        }
    }
    return 1;
}

int
syslogd_main(int argc, char **argv)
{
    struct collector *c = &collector;
    struct stat st;
    int r;

    log_setup("airlock-syslogd", STDERR_FILENO);
    memcpy(c->prefix, PREFIX_DEFAULT, sizeof(PREFIX_DEFAULT) - 1);
    c->prefix_len = sizeof(PREFIX_DEFAULT) - 1;
    c->inherited_fd = -1;
    r = parse_args(c, argc, argv);
    if (r <= 0) {
        return -r;
    }
    c->sock = c->sigfd = -1;
    c->out.fd = STDOUT_FILENO;
    if (load_config(c) < 0) {
        return 2;
    }
    if (!c->cfg.enabled) {
        /* PID 1 does not start us then; run by hand it is a no-op. */
        log_info("disabled by AIRLOCK_SYSLOG, exiting");
        return 0;
    }

    /* Setup phase: failures exit 1 and the supervisor retries. */
    if (setup_signals(c) < 0) {
        return 1;
    }
    if (c->cfg.file[0] != '\0') {
        (void)logfile_init(&c->file,
                           c->cfg.file,
                           c->cfg.rotate_size,
                           c->cfg.rotate_keep);
        /* A file that cannot be opened (a symlink, a read-only /var/log)
         * must not cost stdout logging: say so once and retry later. */
        c->have_file = true;
        file_result(c, logfile_open(&c->file), "opening");
    }
    if (open_socket(c) < 0) {
        return 1;
    }
    if (c->have_file) {
        log_info("listening on '%s', writing to '%s'",
                 c->cfg.socket_path,
                 c->cfg.file);
    } else {
        log_info("listening on '%s'", c->cfg.socket_path);
    }

    /* Run phase: errors are logged and the loop goes on; only SIGTERM or
     * SIGINT end it. */
    for (;;) {
        struct pollfd pfd[2] = {
            {.fd = c->sock, .events = POLLIN},
            {.fd = c->sigfd, .events = POLLIN},
        };
        if (poll(pfd, 2, -1) < 0) {
            if (errno != EINTR) {
                log_errno(LOG_LEVEL_WARN, -errno, "poll, retrying");
            }
            continue;
        }
        if (pfd[0].revents != 0) {
            drain_socket(c);
        }
        if (pfd[1].revents != 0 && handle_signals(c)) {
            break;
        }
    }

    /* What is already queued was accepted from senders: write it. */
    drain_socket(c);
    flush_all(c);
    if (c->have_file) {
        logfile_close(&c->file);
    }
    /* Remove our socket, but not one a newer collector put in its place,
     * nor PID 1's (it outlives us: a restarted collector gets it back). */
    if (c->sock_ino != 0 && stat(c->cfg.socket_path, &st) == 0 &&
        st.st_ino == c->sock_ino) {
        (void)unlink(c->cfg.socket_path);
    }
    (void)close(c->sock);
    (void)close(c->sigfd);
    return 0;
}
