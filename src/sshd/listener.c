/* Accept loop. The listener never parses SSH bytes: it accepts, decides,
 * forks. Everything it learns from a connection process is one line on a
 * pipe after authentication ("A user fingerprint") and the exit status. */
#include "sshd/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "sshd/audit.h"
#include "sshd/conn.h"
#include "sshd/limits.h"

#define MAX_CHILDREN  128
#define STOP_GRACE_MS 3000

struct child {
    pid_t pid;
    struct src_addr src;
    char peer[INET6_ADDRSTRLEN];
    bool authed;
    bool signalled; /* we sent it a signal: its death is no crash */
    int notify_fd;
    char buf[160];
    size_t blen;
    char user[KEYS_USER_MAX];
    char fp[KEYS_FP_MAX];
};

static struct child children[MAX_CHILDREN];
static struct penalty_table penalties;

/* At most a few refusal lines per second, so a flood cannot fill the log. */
static bool
refusal_log_allowed(uint64_t now)
{
    static uint64_t window;
    static unsigned count, dropped;

    if (now - window >= 1000) {
        if (dropped > 0) {
            audit("%u more refused connections not logged", dropped);
        }
        window = now;
        count = 0;
        dropped = 0;
    }
    if (count < 10) {
        count++;
        return true;
    }
    dropped++;
    return false;
}

int
listener_open(const struct sshd_config *cfg, int *fds, unsigned max)
{
    unsigned n = 0;
    int last_err = -EADDRNOTAVAIL;

    for (unsigned i = 0; i < cfg->nlisten && n < max; i++) {
        struct sockaddr_storage ss;
        socklen_t len;
        int one = 1, fd, family;

        memset(&ss, 0, sizeof(ss));
        if (inet_pton(AF_INET,
                      cfg->listen[i],
                      &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
            struct sockaddr_in *in = (struct sockaddr_in *)&ss;
            family = in->sin_family = AF_INET;
            in->sin_port = htons((uint16_t)cfg->port);
            len = sizeof(*in);
        } else {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
            if (inet_pton(AF_INET6, cfg->listen[i], &in6->sin6_addr) != 1) {
                continue;
            }
            family = in6->sin6_family = AF_INET6;
            in6->sin6_port = htons((uint16_t)cfg->port);
            len = sizeof(*in6);
        }
        fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            last_err = log_errno(LOG_LEVEL_WARN,
                                 -errno,
                                 "socket for '%s'",
                                 cfg->listen[i]);
            continue;
        }
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (family == AF_INET6) {
            /* "::" must not swallow IPv4: 0.0.0.0 has its own socket. */
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        }
        if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
            last_err = log_errno(LOG_LEVEL_WARN,
                                 -errno,
                                 "listen on '%s' port %u, skipping",
                                 cfg->listen[i],
                                 cfg->port);
            (void)close(fd);
            continue;
        }
        log_info("listening on %s port %u", cfg->listen[i], cfg->port);
        fds[n++] = fd;
    }
    return n > 0 ? (int)n : last_err;
}

static void
count_children(const struct src_addr *src,
               unsigned *unauth,
               unsigned *src_unauth,
               unsigned *authed)
{
    *unauth = *src_unauth = *authed = 0;
    for (unsigned i = 0; i < MAX_CHILDREN; i++) {
        if (children[i].pid <= 0) {
            continue;
        }
        if (children[i].authed) {
            (*authed)++;
        } else {
            (*unauth)++;
            if (src_equal(&children[i].src, src)) {
                (*src_unauth)++;
            }
        }
    }
}

static struct child *
free_slot(void)
{
    for (unsigned i = 0; i < MAX_CHILDREN; i++) {
        if (children[i].pid <= 0) {
            return &children[i];
        }
    }
    return NULL;
}

/* When every key in the store belongs to one user, its name (for the
 * drop before key exchange); else "". */
static void
single_key_user(char *buf, size_t size)
{
    char names[2][KEYS_USER_MAX];
    size_t n = 0;

    buf[0] = '\0';
    if (keys_store_users(names, 2, &n) == 0 && n == 1) {
        (void)copy_string(buf, size, names[0]);
    }
}

static void
handle_accept(const struct sshd_config *cfg,
              ssh_bind bind,
              int lfd,
              const int *lfds,
              unsigned nl,
              int sigfd,
              struct keys_watch *w)
{
    struct sockaddr_storage ss, ls;
    socklen_t len = sizeof(ss), llen = sizeof(ls);
    struct conn_params p;
    struct src_addr src;
    unsigned unauth, src_unauth, authed;
    struct admit_counts counts;
    struct child *ch;
    enum admit a;
    uint64_t now = now_ms();
    int fd, one = 1, pipefd[2];
    pid_t pid;

    fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
            log_errno(LOG_LEVEL_WARN, -errno, "accept");
        }
        return;
    }
    memset(&p, 0, sizeof(p));
    if (src_from_sockaddr((struct sockaddr *)&ss, len, &src) < 0) {
        (void)close(fd);
        return;
    }
    src_format(&src, p.peer, sizeof(p.peer));
    p.peer_port = ntohs(ss.ss_family == AF_INET
                            ? ((struct sockaddr_in *)&ss)->sin_port
                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
    /* The table must hold a full MaxStartups plus the authenticated cap;
     * a refusal for want of a slot would be a limit nobody configured. */
    _Static_assert(MAX_CHILDREN >= SSHD_MAX_STARTUPS_LIMIT + SSHD_AUTHED_MAX,
                   "MAX_CHILDREN too small for the configurable limits");
    /* PerSourceNetBlockSize: from here on src names the source's block;
     * p.peer keeps the address itself for logs and the exemption list. */
    src_mask(&src, cfg->limits.netblock4, cfg->limits.netblock6);
    penalties.conf = &cfg->limits.penalty;
    count_children(&src, &unauth, &src_unauth, &authed);
    counts.unauth = unauth;
    counts.src_unauth = src_unauth;
    counts.authed = authed;
    /* randombytes_uniform: unbiased, from the kernel's CSPRNG (sodium_init
     * ran in main), so a client cannot predict which attempt passes. */
    a = limits_admit(&penalties,
                     &cfg->limits,
                     &src,
                     limits_exempt(&cfg->limits.penalty, p.peer),
                     now,
                     &counts,
                     randombytes_uniform);
    ch = free_slot();
    if (a == ADMIT_OK && ch == NULL) {
        a = ADMIT_MAX_STARTUPS;
    }
    if (a != ADMIT_OK) {
        if (refusal_log_allowed(now)) {
            audit("refused connection from %s port %u: %s",
                  p.peer,
                  p.peer_port,
                  admit_reason(a));
        }
        (void)close(fd);
        return;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* A client that vanishes without a FIN (network gone, laptop closed)
     * would hold its connection process, and a slot of the authenticated
     * cap, forever: TCP keepalive finds it within about 90 s. */
    {
        int idle = 60, intvl = 10, cnt = 3;
        (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
        (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
        (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    }
    if (getsockname(fd, (struct sockaddr *)&ls, &llen) == 0) {
        struct src_addr l;
        if (src_from_sockaddr((struct sockaddr *)&ls, llen, &l) == 0) {
            src_format(&l, p.local, sizeof(p.local));
        }
        p.local_port = ntohs(ls.ss_family == AF_INET
                                 ? ((struct sockaddr_in *)&ls)->sin_port
                                 : ((struct sockaddr_in6 *)&ls)->sin6_port);
    }
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        log_errno(LOG_LEVEL_WARN, -errno, "pipe");
        (void)close(fd);
        return;
    }
    single_key_user(p.only_user, sizeof(p.only_user));
    p.cfg = cfg;
    p.bind = bind;
    p.fd = fd;
    p.notify_fd = pipefd[1];
    pid = fork();
    if (pid < 0) {
        log_errno(LOG_LEVEL_WARN, -errno, "fork");
        (void)close(pipefd[0]);
        (void)close(pipefd[1]);
        (void)close(fd);
        return;
    }
    if (pid == 0) {
        /* conn_main closes every other inherited fd; these are named so
         * the intent is plain. */
        for (unsigned i = 0; i < nl; i++) {
            (void)close(lfds[i]);
        }
        (void)close(sigfd);
        (void)close(pipefd[0]);
        (void)w;
        conn_main(&p);
    }
    (void)close(fd);
    (void)close(pipefd[1]);
    memset(ch, 0, sizeof(*ch));
    ch->pid = pid;
    ch->src = src;
    memcpy(ch->peer, p.peer, sizeof(ch->peer));
    ch->notify_fd = pipefd[0];
}

static enum conn_outcome
outcome_of(const struct child *ch, int st)
{
    if (WIFSIGNALED(st)) {
        /* Only a death before authentication hints at an attack on the
         * pre-auth code. After it the process runs as the logged-in user,
         * who can kill it at will: that must not cost the address (and
         * everyone behind the same NAT) a crash penalty. */
        return ch->signalled || ch->authed ? OUTCOME_OK : OUTCOME_CRASH;
    }
    switch (WEXITSTATUS(st)) {
    case CONN_EXIT_GRACE:
        return OUTCOME_GRACE;
    case CONN_EXIT_AUTHFAIL:
        return OUTCOME_AUTHFAIL;
    case CONN_EXIT_NOAUTH:
        return ch->authed ? OUTCOME_OK : OUTCOME_NOAUTH;
    default:
        return OUTCOME_OK;
    }
}

/* The "A user fp" line can still sit in the pipe when the exit is reaped
 * first (both ready in one poll round; signals are handled before the
 * pipes). Read it now so an authenticated connection is judged as one.
 * poll() first: a process the child forked may hold the write end, and
 * the listener must never block here. */
static void
drain_auth_notice(struct child *ch)
{
    struct pollfd pfd = {ch->notify_fd, POLLIN, 0};
    ssize_t r;

    if (ch->authed || ch->notify_fd < 0 || poll(&pfd, 1, 0) != 1 ||
        (pfd.revents & POLLIN) == 0) {
        return;
    }
    r = read(ch->notify_fd, ch->buf + ch->blen, sizeof(ch->buf) - 1 - ch->blen);
    if (r <= 0) {
        return;
    }
    ch->blen += (size_t)r;
    ch->buf[ch->blen] = '\0';
    if (strncmp(ch->buf, "A ", 2) == 0 && strchr(ch->buf, '\n') != NULL) {
        ch->authed = true;
    }
}

static void
reap_children(void)
{
    uint64_t now = now_ms();
    pid_t pid;
    int st;

    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (unsigned i = 0; i < MAX_CHILDREN; i++) {
            struct child *ch = &children[i];
            enum conn_outcome o;
            bool was;

            if (ch->pid != pid) {
                continue;
            }
            drain_auth_notice(ch);
            o = outcome_of(ch, st);
            if (o == OUTCOME_CRASH) {
                log_warn("connection process %d from %s died of signal %d",
                         (int)pid,
                         ch->peer,
                         WTERMSIG(st));
            } else if (WIFSIGNALED(st) && ch->authed && !ch->signalled) {
                log_warn("connection process %d from %s died of signal %d "
                         "after authentication (no penalty)",
                         (int)pid,
                         ch->peer,
                         WTERMSIG(st));
            }
            was = penalty_active(&penalties, &ch->src, now, NULL);
            if (!limits_exempt(penalties.conf, ch->peer)) {
                penalty_add(&penalties,
                            &ch->src,
                            penalty_for(&penalties, o),
                            now);
            }
            if (!was && penalty_active(&penalties, &ch->src, now, NULL)) {
                uint64_t left = 0;
                (void)penalty_active(&penalties, &ch->src, now, &left);
                audit("penalty: refusing connections from %s for %llus",
                      ch->peer,
                      (unsigned long long)(left / 1000));
            }
            if (ch->notify_fd >= 0) {
                (void)close(ch->notify_fd);
            }
            memset(ch, 0, sizeof(*ch));
            ch->notify_fd = -1;
        }
    }
}

/* Is the key (fingerprint) still in user's store? Errors count as "no":
 * an unreadable store must not keep a session alive. */
static bool
key_still_valid(const char *user, const char *fp)
{
    struct keys_set set = {0};
    bool found = false;

    if (keys_store_load(user, &set) < 0) {
        return false;
    }
    for (size_t i = 0; i < set.count; i++) {
        if (strcmp(set.entries[i].fingerprint, fp) == 0 &&
            !keys_expired(&set.entries[i].opts, time(NULL))) {
            found = true;
            break;
        }
    }
    keys_set_free(&set);
    return found;
}

static void
check_revocation(const struct sshd_config *cfg, struct child *ch)
{
    if (!ch->authed || ch->signalled || key_still_valid(ch->user, ch->fp)) {
        return;
    }
    if (!cfg->revoke_sessions) {
        audit("key %s of '%s' revoked; open session from %s kept "
              "(AIRLOCK_SSH_REVOKE_SESSIONS=no)",
              ch->fp,
              ch->user,
              ch->peer);
        ch->signalled = true; /* log once */
        return;
    }
    audit("key %s of '%s' revoked: closing its connection from %s",
          ch->fp,
          ch->user,
          ch->peer);
    if (kill(ch->pid, SIGUSR1) == 0) {
        ch->signalled = true;
    }
}

static void
read_notify(const struct sshd_config *cfg, struct child *ch)
{
    ssize_t r;
    char *nl;

    r = read(ch->notify_fd, ch->buf + ch->blen, sizeof(ch->buf) - 1 - ch->blen);
    if (r <= 0) {
        (void)close(ch->notify_fd);
        ch->notify_fd = -1;
        return;
    }
    ch->blen += (size_t)r;
    ch->buf[ch->blen] = '\0';
    nl = strchr(ch->buf, '\n');
    if (nl == NULL) {
        if (ch->blen == sizeof(ch->buf) - 1) {
            ch->blen = 0; /* garbage: ignore */
        }
        return;
    }
    *nl = '\0';
    if (ch->buf[0] == 'A' &&
        sscanf(ch->buf, "A %63s %63s", ch->user, ch->fp) == 2) {
        ch->authed = true;
        check_revocation(cfg, ch);
    }
    ch->blen = 0;
}

static void
stop_children(int sigfd)
{
    uint64_t deadline = now_ms() + STOP_GRACE_MS;
    unsigned left;

    for (unsigned i = 0; i < MAX_CHILDREN; i++) {
        if (children[i].pid > 0) {
            children[i].signalled = true;
            (void)kill(children[i].pid, SIGTERM);
        }
    }
    for (;;) {
        struct pollfd pfd = {sigfd, POLLIN, 0};
        struct signalfd_siginfo si;

        reap_children();
        left = 0;
        for (unsigned i = 0; i < MAX_CHILDREN; i++) {
            left += children[i].pid > 0;
        }
        if (left == 0 || now_ms() >= deadline) {
            break;
        }
        (void)poll(&pfd, 1, deadline_timeout(now_ms(), deadline));
        while (read(sigfd, &si, sizeof(si)) > 0) {
        }
    }
    for (unsigned i = 0; i < MAX_CHILDREN; i++) {
        if (children[i].pid > 0) {
            (void)kill(children[i].pid, SIGKILL);
        }
    }
}

int
listener_run(const struct sshd_config *cfg,
             ssh_bind bind,
             const int *fds,
             unsigned nfds,
             int sigfd,
             struct keys_watch *watch)
{
    for (unsigned i = 0; i < MAX_CHILDREN; i++) {
        children[i].notify_fd = -1;
    }
    for (;;) {
        struct pollfd pfd[8 + 2 + MAX_CHILDREN];
        struct child *owner[8 + 2 + MAX_CHILDREN];
        unsigned n = 0, first_child;
        int timeout = -1, wfd = -1, prc;
        struct signalfd_siginfo si;

        for (unsigned i = 0; i < nfds; i++) {
            pfd[n].fd = fds[i];
            pfd[n++].events = POLLIN;
        }
        pfd[n].fd = sigfd;
        pfd[n++].events = POLLIN;
        if (watch != NULL) {
            wfd = keys_watch_fd(watch);
            timeout = keys_watch_timeout(watch);
        }
        pfd[n].fd = wfd;
        pfd[n++].events = POLLIN;
        first_child = n;
        for (unsigned i = 0; i < MAX_CHILDREN; i++) {
            if (children[i].pid > 0 && children[i].notify_fd >= 0) {
                owner[n] = &children[i];
                pfd[n].fd = children[i].notify_fd;
                pfd[n++].events = POLLIN;
            }
        }
        prc = poll(pfd, n, timeout);
        if (prc < 0) {
            if (errno != EINTR) {
                log_errno(LOG_LEVEL_WARN, -errno, "poll, retrying");
            }
            continue;
        }
        if (pfd[nfds].revents != 0) {
            while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGCHLD) {
                    reap_children();
                } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                    log_info("stopping on signal %u", si.ssi_signo);
                    stop_children(sigfd);
                    return 0;
                }
            }
        }
        for (unsigned i = first_child; i < n; i++) {
            if (pfd[i].revents != 0 && owner[i]->pid > 0) {
                read_notify(cfg, owner[i]);
            }
        }
        if (watch != NULL &&
            (pfd[nfds + 1].revents != 0 || (prc == 0 && timeout >= 0))) {
            if (keys_watch_handle(watch) == 1) {
                for (unsigned i = 0; i < MAX_CHILDREN; i++) {
                    if (children[i].pid > 0) {
                        check_revocation(cfg, &children[i]);
                    }
                }
            }
        }
        for (unsigned i = 0; i < nfds; i++) {
            if (pfd[i].revents != 0) {
                handle_accept(cfg, bind, fds[i], fds, nfds, sigfd, watch);
            }
        }
    }
}
