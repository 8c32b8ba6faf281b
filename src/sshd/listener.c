/* Accept loop. The listener never parses SSH bytes: it accepts, decides,
 * forks, and is the one authority on logins (authority.h): it holds the
 * live key set and answers each connection process's questions over a
 * socketpair, remembers what it granted, and revokes a grant the moment
 * the set or the clock no longer supports it. */
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
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/groupstop.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "sshd/audit.h"
#include "sshd/authority.h"
#include "sshd/conn.h"
#include "sshd/limits.h"
#include "sshd/record.h"

/* Every unauthenticated connection MaxStartups allows, plus every
 * authenticated one AIRLOCK_SSH_MAX_AUTHENTICATED allows. */
#define MAX_CHILDREN  (SSHD_MAX_STARTUPS_LIMIT + SSHD_AUTHED_LIMIT)
#define STOP_GRACE_MS 3000

struct child {
    pid_t pid;
    struct src_addr src;
    char peer[INET6_ADDRSTRLEN];
    unsigned peer_port;
    bool authed;    /* logged in (its 'A' notice came) */
    bool signalled; /* we sent it a signal: its death is no crash */
    int auth_fd;    /* our end of its authority socketpair, or -1 */
    struct authority_grant grant; /* the key it was granted, if any */
    struct group_stop stop;       /* the listener's own stop */
};

/* Zeroed by the loader; a slot is in use while pid > 0, and only then are
 * its other fields (auth_fd included) meaningful. */
static struct child children[MAX_CHILDREN];
static struct penalty_table penalties;

/* At most REFUSALS_LOGGED refusal lines a second, so a flood cannot fill
 * the log; the refusals past them are counted by reason (reasons are
 * static strings: admit_reason's and the one below) and summed up in one
 * line when the second is over, so every refusal's reason is known. */
#define REFUSALS_LOGGED 10
#define REFUSAL_REASONS 8
static struct {
    uint64_t window; /* start of the current second, ms */
    unsigned logged;
    unsigned nreasons;
    const char *reason[REFUSAL_REASONS];
    unsigned count[REFUSAL_REASONS];
} refusals;

static const char no_key_reason[] = "no key grants access now";

/* Logs the summary of the refusals not logged, once their second is
 * over; called at every refusal and every turn of the loop. */
static void
refusal_log_flush(uint64_t now)
{
    char line[512];
    size_t len = 0;
    unsigned total = 0;

    if (now - refusals.window < 1000) {
        return;
    }
    for (unsigned i = 0; i < refusals.nreasons; i++) {
        int n = snprintf(line + len,
                         sizeof(line) - len,
                         "%s%u %s",
                         i > 0 ? ", " : "",
                         refusals.count[i],
                         refusals.reason[i]);
        total += refusals.count[i];
        if (n > 0 && (size_t)n < sizeof(line) - len) {
            len += (size_t)n;
        }
    }
    if (total > 0) {
        audit("%u more refused connections not logged: %s", total, line);
    }
    refusals.window = now;
    refusals.logged = 0;
    refusals.nreasons = 0;
}

/* Whether this refusal gets a line of its own; if not, it is counted
 * under its reason for the summary. */
static bool
refusal_log_allowed(uint64_t now, const char *reason)
{
    unsigned i;

    refusal_log_flush(now);
    if (refusals.logged < REFUSALS_LOGGED) {
        refusals.logged++;
        return true;
    }
    for (i = 0; i < refusals.nreasons && refusals.reason[i] != reason; i++) {
    }
    if (i == refusals.nreasons && i < REFUSAL_REASONS) {
        refusals.reason[i] = reason;
        refusals.count[i] = 0;
        refusals.nreasons++;
    }
    if (i < refusals.nreasons) {
        refusals.count[i]++;
    }
    return false;
}

/* Milliseconds until a pending summary is due, -1 when none is. */
static int
refusal_log_timeout(uint64_t now)
{
    if (refusals.nreasons == 0) {
        return -1;
    }
    return now - refusals.window >= 1000
               ? 0
               : (int)(1000 - (now - refusals.window));
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

/* The one user every key and CA key of w belongs to, into one (size
 * bytes), or "" when there are several (CA keys all certify for one
 * user, AIRLOCK_SSH_USER: keys_authorise_key looks them up by it). */
static void
only_user(struct keys_watch *w, char *one, size_t size)
{
    const struct keys_set *cas = keys_watch_trust(w).cas;
    char ca_user[KEYS_USER_MAX];

    if (keys_watch_set(w)->count == 0) {
        (void)keys_set_users(cas, one, size);
        return;
    }
    (void)keys_set_users(keys_watch_set(w), one, size);
    if (one[0] != '\0' && cas->count > 0 &&
        (keys_set_users(cas, ca_user, sizeof(ca_user)) != 1 ||
         strcmp(ca_user, one) != 0)) {
        one[0] = '\0';
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
    int fd, one = 1, sp[2];
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
    _Static_assert(MAX_CHILDREN >= SSHD_MAX_STARTUPS_LIMIT + SSHD_AUTHED_LIMIT,
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
        if (refusal_log_allowed(now, admit_reason(a))) {
            audit("refused connection from %s port %u: %s",
                  p.peer,
                  p.peer_port,
                  admit_reason(a));
        }
        (void)close(fd);
        return;
    }
    /* With no key and no CA key at all (every key removed, or the sources
     * unreadable) nobody can log in, and there is no user to drop to
     * before key exchange: a connection would only run libssh as root
     * for nothing. */
    if (keys_watch_set(w)->count == 0 && keys_watch_trust(w).cas->count == 0) {
        if (refusal_log_allowed(now, no_key_reason)) {
            audit("refused connection from %s port %u: %s",
                  p.peer,
                  p.peer_port,
                  no_key_reason);
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
    /* SEQPACKET: one request, one answer, message boundaries kept. */
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
        log_errno(LOG_LEVEL_WARN, -errno, "socketpair");
        (void)close(fd);
        return;
    }
    /* When every key and every CA key belongs to one user, the
     * connection drops to it before key exchange. */
    only_user(w, p.only_user, sizeof(p.only_user));
    p.cfg = cfg;
    p.bind = bind;
    p.fd = fd;
    p.auth_fd = sp[1];
    pid = fork();
    if (pid < 0) {
        log_errno(LOG_LEVEL_WARN, -errno, "fork");
        (void)close(sp[0]);
        (void)close(sp[1]);
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
        (void)close(sp[0]);
        conn_main(&p);
    }
    (void)close(fd);
    (void)close(sp[1]);
    memset(ch, 0, sizeof(*ch));
    ch->pid = pid;
    ch->src = src;
    memcpy(ch->peer, p.peer, sizeof(ch->peer));
    ch->peer_port = p.peer_port;
    ch->auth_fd = sp[0];
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

/* The login notice ('A', authority.h) can still sit in the socket when
 * the exit is reaped first (both ready in one poll round; signals are
 * handled before the sockets). Read it now so an authenticated connection
 * is judged as one. Bounded and non-blocking; a question from the dead
 * process is answered "no" from an empty set. */
static void
drain_auth_notice(struct child *ch)
{
    static const struct keys_set none;
    static const struct keys_trust nothing = {&none, &none, NULL};

    for (int i = 0; i < 8 && !ch->authed && ch->auth_fd >= 0; i++) {
        struct pollfd pfd = {ch->auth_fd, POLLIN, 0};
        bool logged_in = false;

        if (poll(&pfd, 1, 0) != 1 || (pfd.revents & POLLIN) == 0 ||
            authority_serve(ch->auth_fd,
                            &nothing,
                            ch->peer,
                            time(NULL),
                            NULL,
                            &ch->grant,
                            &logged_in) < 0) {
            return;
        }
        ch->authed = logged_in;
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
            if (ch->auth_fd >= 0) {
                (void)close(ch->auth_fd);
            }
            memset(ch, 0, sizeof(*ch));
            ch->auth_fd = -1;
        }
    }
}

/* Re-checks a connection's grant against the live set and the clock;
 * one that no longer holds is revoked: the connection process gets
 * SIGUSR1 and ends itself and its sessions. A grant not yet used for a
 * login is always revoked; AIRLOCK_SSH_REVOKE_SESSIONS=no keeps only
 * sessions already open (SIGUSR2: nothing new starts on the connection). */
static void
check_revocation(const struct sshd_config *cfg,
                 const struct keys_trust *t,
                 struct child *ch)
{
    if (!ch->grant.active || ch->signalled ||
        authority_grant_holds(&ch->grant, t, ch->peer, time(NULL))) {
        return;
    }
    if (ch->authed && !cfg->revoke_sessions) {
        /* SIGUSR2: the connection keeps its open sessions, starts nothing
         * new and ends with its last session (conn.h, revoked_keep). */
        audit("key %s of '%s' revoked; open sessions from %s kept, no new "
              "ones (AIRLOCK_SSH_REVOKE_SESSIONS=no)",
              ch->grant.fingerprint,
              ch->grant.user,
              ch->peer);
        if (kill(ch->pid, SIGUSR2) == 0) {
            ch->grant.active = false; /* once */
        }
        return;
    }
    audit("key %s of '%s' revoked or expired: closing its connection from "
          "%s",
          ch->grant.fingerprint,
          ch->grant.user,
          ch->peer);
    if (kill(ch->pid, SIGUSR1) == 0) {
        ch->signalled = true;
    }
}

static void
check_all_grants(const struct sshd_config *cfg, struct keys_watch *w)
{
    struct keys_trust t = keys_watch_trust(w);

    for (unsigned i = 0; i < MAX_CHILDREN; i++) {
        if (children[i].pid > 0) {
            check_revocation(cfg, &t, &children[i]);
        }
    }
}

/* A recording request ('R', record.h) of a logged-in connection: the
 * listener creates the file for it. Only the identity the listener
 * granted goes into the file's name and header: for a certificate, its
 * key ID too, parsed again from the certificate the grant keeps (it was
 * verified when granted). Returns as record_serve; -EPROTO for a request
 * before the login. */
static int
serve_record(const struct sshd_config *cfg, struct child *ch)
{
    struct record_who who = {
        .user = ch->grant.user,
        .fingerprint = ch->grant.fingerprint,
        .key_id = NULL,
        .peer = ch->peer,
        .port = ch->peer_port,
        .pid = ch->pid,
    };
    struct keys_cert cert;
    const char *errstr = NULL;
    bool is_cert = strstr(ch->grant.type, "-cert-v01@openssh.com") != NULL;
    int r;

    if (!ch->authed) {
        return -EPROTO;
    }
    memset(&cert, 0, sizeof(cert));
    if (ch->grant.active && is_cert) {
        r = keys_cert_parse(ch->grant.blob, ch->grant.blob_len, &cert, &errstr);
        if (r < 0) {
            /* Cannot happen for a certificate granted moments ago; the
             * recording then says nothing it cannot back. */
            log_warn("recording: the certificate of '%s' no longer parses "
                     "(%s): no key ID in the recording",
                     ch->grant.user,
                     errstr != NULL ? errstr : strerror(-r));
            is_cert = false;
        } else {
            who.key_id = cert.key_id;
        }
    }
    /* A revoked grant (AIRLOCK_SSH_REVOKE_SESSIONS=no) gets no file. */
    r = record_serve(ch->auth_fd, &cfg->record, ch->grant.active ? &who : NULL);
    if (ch->grant.active && is_cert) {
        keys_cert_free(&cert);
    }
    return r;
}

/* Answers what the connection process asks (authority.h). A process that
 * breaks the protocol is no longer trusted to end itself: it is killed. */
static void
serve_authority(const struct sshd_config *cfg,
                struct keys_watch *w,
                struct child *ch)
{
    struct keys_trust t = keys_watch_trust(w);
    bool logged_in = false;
    unsigned logins = 0;
    char type = 0;
    int r;

    /* Recording requests are answered by record.c; a peek at the type
     * byte leaves the message for whichever reads it. */
    if (recv(ch->auth_fd, &type, 1, MSG_PEEK | MSG_DONTWAIT) == 1 &&
        type == 'R') {
        r = serve_record(cfg, ch);
        goto done;
    }

    /* AIRLOCK_SSH_MAX_AUTHENTICATED holds at the login itself, not only at
     * accept: every connection admitted while the cap had room could
     * otherwise log in. A grant not yet followed by its 'A' counts. */
    for (unsigned i = 0; i < MAX_CHILDREN; i++) {
        logins += children[i].pid > 0 &&
                  (children[i].authed || children[i].grant.active);
    }
    r = authority_serve(ch->auth_fd,
                        &t,
                        ch->peer,
                        time(NULL),
                        logins >= cfg->limits.authed_max ? AUTHORITY_LOGINS_FULL
                                                         : NULL,
                        &ch->grant,
                        &logged_in);

    if (logged_in) {
        ch->authed = true;
        check_revocation(cfg, &t, ch);
    }
done:
    if (r < 0) {
        if (r != -EPIPE && r != -ECONNRESET) {
            log_errno(LOG_LEVEL_WARN,
                      r,
                      "connection process %d from %s: bad authority request, "
                      "killing it",
                      (int)ch->pid,
                      ch->peer);
            ch->signalled = true;
            (void)kill(ch->pid, SIGKILL);
        }
        (void)close(ch->auth_fd);
        ch->auth_fd = -1;
    }
}

/* Some grant may expire (expiry-time=) while its session runs: look at
 * least once a second while any grant is held. */
static bool
any_grant(void)
{
    for (unsigned i = 0; i < MAX_CHILDREN; i++) {
        if (children[i].pid > 0 && children[i].grant.active &&
            !children[i].signalled) {
            return true;
        }
    }
    return false;
}

/* The listing socket for `airlock-sshd keys list` (keys.h): what the
 * authority holds, for root and the server's own user. -1 when it cannot
 * be had (another server in this network namespace has it): logged, and
 * `keys list` then falls back to reading the sources. */
static int
listing_open(void)
{
    struct sockaddr_un sa;
    unsigned len = keys_listing_addr(&sa);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0 ||
        listen(fd, 4) < 0) {
        log_errno(LOG_LEVEL_WARN,
                  -errno,
                  "key listing socket unavailable; `keys list` will read the "
                  "sources instead");
        if (fd >= 0) {
            (void)close(fd);
        }
        return -1;
    }
    return fd;
}

/* Answers one `keys list`: the text is sent in one non-blocking write
 * (a client that does not read gets what fits in the socket buffer,
 * never a stalled listener), then the connection is closed. */
static void
listing_serve(int lfd, struct keys_watch *w)
{
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    char *text;
    size_t len = 0;
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (fd < 0) {
        return;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
        (cred.uid != 0 && cred.uid != geteuid())) {
        (void)close(fd);
        return;
    }
    text = keys_set_listing(keys_watch_set(w), &len);
    if (text != NULL) {
        ssize_t n = send(fd, text, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)n;
        free(text);
    }
    (void)close(fd);
}

/* The listener's stop: every connection process gets SIGTERM (with
 * SIGCONT) now and SIGKILL STOP_GRACE_MS later, through the one
 * stop-and-escalate primitive. Returns once all are reaped, or once the
 * last SIGKILL is out: PID 1 reaps what is left. A connection process
 * leads a session of its own (conn.c), and its sessions lead theirs: its
 * group holds itself alone. */
static void
stop_children(int sigfd)
{
    uint64_t start = now_ms();

    for (unsigned i = 0; i < MAX_CHILDREN; i++) {
        if (children[i].pid > 0) {
            children[i].signalled = true;
            memset(&children[i].stop, 0, sizeof(children[i].stop));
            (void)group_stop_begin(&children[i].stop,
                                   children[i].pid,
                                   SIGTERM,
                                   start,
                                   STOP_GRACE_MS);
        }
    }
    for (;;) {
        struct pollfd pfd = {sigfd, POLLIN, 0};
        struct signalfd_siginfo si;
        uint64_t now, next = DEADLINE_NONE;
        unsigned left = 0;

        reap_children();
        now = now_ms();
        for (unsigned i = 0; i < MAX_CHILDREN; i++) {
            if (children[i].pid > 0) {
                left++;
                next =
                    deadline_min(next, group_stop_tick(&children[i].stop, now));
            }
        }
        if (left == 0 || next == DEADLINE_NONE) {
            break;
        }
        (void)poll(&pfd, 1, deadline_timeout(now, next));
        while (read(sigfd, &si, sizeof(si)) > 0) {
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
    int listfd = listing_open();

    uint64_t grants_checked_ms = 0;

    /* children[] is left as the loader zeroed it: a slot counts only
     * while its pid is set, and auth_fd is set with it (spawn_conn). Writing
     * -1 into every slot's auth_fd here dirtied every page of the 17 MB
     * table, 8 MB of resident memory for an idle server. */
    for (;;) {
        struct pollfd pfd[8 + 3 + MAX_CHILDREN];
        struct child *owner[8 + 3 + MAX_CHILDREN];
        unsigned n = 0, first_child;
        int timeout = -1, wfd = -1, prc;
        struct signalfd_siginfo si;

        for (unsigned i = 0; i < nfds; i++) {
            pfd[n].fd = fds[i];
            pfd[n++].events = POLLIN;
        }
        pfd[n].fd = sigfd;
        pfd[n++].events = POLLIN;
        wfd = keys_watch_fd(watch);
        timeout = keys_watch_timeout(watch);
        if (any_grant() && (timeout < 0 || timeout > 1000)) {
            timeout = 1000;
        }
        {
            int t = refusal_log_timeout(now_ms());
            if (t >= 0 && (timeout < 0 || t < timeout)) {
                timeout = t;
            }
        }
        pfd[n].fd = wfd;
        pfd[n++].events = POLLIN;
        pfd[n].fd = listfd;
        pfd[n++].events = POLLIN;
        first_child = n;
        for (unsigned i = 0; i < MAX_CHILDREN; i++) {
            if (children[i].pid > 0 && children[i].auth_fd >= 0) {
                owner[n] = &children[i];
                pfd[n].fd = children[i].auth_fd;
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
                    if (listfd >= 0) {
                        (void)close(listfd);
                    }
                    return 0;
                }
            }
        }
        for (unsigned i = first_child; i < n; i++) {
            if (pfd[i].revents != 0 && owner[i]->pid > 0 &&
                owner[i]->auth_fd >= 0) {
                serve_authority(cfg, watch, owner[i]);
            }
        }
        if (pfd[nfds + 2].revents != 0) {
            listing_serve(listfd, watch);
        }
        if ((pfd[nfds + 1].revents != 0 || keys_watch_timeout(watch) == 0) &&
            keys_watch_handle(watch) != 0) {
            /* Changed, or could not be applied (then the set is empty). */
            grants_checked_ms = 0;
        }
        refusal_log_flush(now_ms());
        /* When the set changed, and once a second for expiry-time=. */
        if (now_ms() - grants_checked_ms >= 1000) {
            check_all_grants(cfg, watch);
            grants_checked_ms = now_ms();
        }
        for (unsigned i = 0; i < nfds; i++) {
            if (pfd[i].revents != 0) {
                handle_accept(cfg, bind, fds[i], fds, nfds, sigfd, watch);
            }
        }
    }
}
