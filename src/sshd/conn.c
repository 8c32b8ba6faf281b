/* The connection process: everything between accept() and the end of the
 * TCP connection. It is forked per connection (a crash here costs one
 * connection, never the listener), sheds what it inherited, arms its own
 * login grace timer (libssh's key exchange would otherwise block forever),
 * and grants access only on a verified signature (SSH_PUBLICKEY_STATE_VALID)
 * from a key in the root-owned store. */
#include "sshd/conn.h"

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/safeio.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "sshd/audit.h"
#include "sshd/session.h"

/* Preformatted at start so the SIGALRM handler only calls write(2). */
static char grace_line[512];
static size_t grace_len;

static void
on_grace_alarm(int sig)
{
    (void)sig;
    if (grace_len > 0) {
        ssize_t w = write(STDOUT_FILENO, grace_line, grace_len);
        (void)w;
    }
    _exit(CONN_EXIT_GRACE);
}

static void
arm_grace(const struct conn_params *p)
{
    struct sigaction sa;
    char msg[400];

    snprintf(msg,
             sizeof(msg),
             "audit: login grace time (%us) exceeded for %s port %u, closing",
             p->cfg->login_grace_s,
             p->peer,
             p->peer_port);
    grace_len = log_format(grace_line,
                           sizeof(grace_line),
                           "airlock-sshd",
                           (long)getpid(),
                           LOG_LEVEL_INFO,
                           msg);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_grace_alarm;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGALRM, &sa, NULL);
    alarm(p->cfg->login_grace_s);
}

/* Inherited state from the listener is dropped first: dispositions, the
 * signal mask, every fd but the socket and the notify pipe. Core dumps are
 * off and the process is not ptrace-able by same-uid processes (the app,
 * other sessions), because it holds the host key. */
static int
conn_sanitise_process(const struct conn_params *p)
{
    struct rlimit rl = {0, 0};
    sigset_t chld;
    int keep[2];
    int fd;

    for (int s = 1; s < NSIG; s++) {
        if (s != SIGKILL && s != SIGSTOP) {
            (void)signal(s, SIG_DFL);
        }
    }
    (void)signal(SIGPIPE, SIG_IGN);
    /* 0-2 stay: stdout carries the audit trail, stderr the log. */
    keep[0] = p->fd;
    keep[1] = p->notify_fd;
    close_fds_from(3, keep, 2);
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    (void)setrlimit(RLIMIT_CORE, &rl);

    /* SIGCHLD (sessions), SIGTERM (shutdown) and SIGUSR1 (key revoked) are
     * taken through a signalfd in the poll loop. */
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigaddset(&chld, SIGTERM);
    sigaddset(&chld, SIGUSR1);
    sigaddset(&chld, SIGHUP);
    if (sigprocmask(SIG_SETMASK, &chld, NULL) < 0 ||
        (fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        /* Without it no session would ever be reaped. */
        log_errno(LOG_LEVEL_ERROR, -errno, "signalfd");
        _exit(CONN_EXIT_ERROR);
    }
    return fd;
}

static void
conn_exit(struct conn *c, int status)
{
    if (c->session != NULL) {
        ssh_disconnect(c->session);
    }
    _exit(status);
}

/* ---- authentication ------------------------------------------------- */

static void conn_drop_privileges(struct conn *c);

static void
auth_fail_delay(void)
{
    /* 100..300 ms, like dropbear: slows guessing without a shared clock. */
    struct timespec ts = {0, (long)(100 + randombytes_uniform(200)) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static void
auth_count_failure(struct conn *c)
{
    c->failures++;
    if (c->failures >= c->cfg->max_auth_tries) {
        audit("maximum authentication attempts (%u) exceeded for '%s' from "
              "%s port %u",
              c->cfg->max_auth_tries,
              san(c->user),
              c->p->peer,
              c->p->peer_port);
        c->fatal = CONN_EXIT_AUTHFAIL;
    }
}

/* The user name is fixed by the first request; a change disconnects, as in
 * OpenSSH. Returns false when the request must be refused. */
static bool
auth_check_user(struct conn *c, const char *user)
{
    if (user == NULL) {
        user = "";
    }
    if (!c->have_user) {
        if (copy_string(c->user, sizeof(c->user), user) < 0) {
            copy_string(c->user, sizeof(c->user), "(too long)");
        }
        c->have_user = true;
        return true;
    }
    if (strcmp(c->user, user) != 0) {
        audit("user name changed from '%s' to '%s' from %s port %u, "
              "disconnecting",
              san(c->user),
              san(user),
              c->p->peer,
              c->p->peer_port);
        c->fatal = CONN_EXIT_AUTHFAIL;
        return false;
    }
    return true;
}

static int
auth_none(ssh_session session, const char *user, void *userdata)
{
    struct conn *c = userdata;

    (void)session;
    if (++c->requests > SSHD_MAX_AUTH_REQUEST) {
        c->fatal = CONN_EXIT_AUTHFAIL;
        return SSH_AUTH_DENIED;
    }
    (void)auth_check_user(c, user);
    return SSH_AUTH_DENIED;
}

/* The key blob libssh received, and its embedded type name. */
static int
key_blob(ssh_key key, unsigned char **ret_blob, size_t *ret_len)
{
    char *b64 = NULL;
    unsigned char *blob;
    size_t cap, len = 0;

    if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
        return -EINVAL;
    }
    cap = strlen(b64);
    blob = malloc(cap + 1);
    if (blob == NULL ||
        sodium_base642bin(blob,
                          cap,
                          b64,
                          cap,
                          NULL,
                          &len,
                          NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(blob);
        ssh_string_free_char(b64);
        return -EINVAL;
    }
    ssh_string_free_char(b64);
    *ret_blob = blob;
    *ret_len = len;
    return 0;
}

/* The key types a user key may have: no certificates (libssh 0.10 cannot
 * check a CA, principals or validity), no DSA. */
static bool
key_type_allowed(enum ssh_keytypes_e t)
{
    switch (t) {
    case SSH_KEYTYPE_ED25519:
    case SSH_KEYTYPE_RSA:
    case SSH_KEYTYPE_ECDSA_P256:
    case SSH_KEYTYPE_ECDSA_P384:
    case SSH_KEYTYPE_ECDSA_P521:
    case SSH_KEYTYPE_SK_ED25519:
    case SSH_KEYTYPE_SK_ECDSA:
        return true;
    default:
        return false;
    }
}

/* The blob's own type string must be the name libssh derived: a line
 * "ssh-ed25519 <rsa blob>" never matches. */
static bool
blob_type_is(const unsigned char *blob, size_t len, const char *type)
{
    size_t tl = strlen(type);
    uint32_t n;

    if (len < 4) {
        return false;
    }
    n = ((uint32_t)blob[0] << 24) | ((uint32_t)blob[1] << 16) |
        ((uint32_t)blob[2] << 8) | blob[3];
    return n == tl && len >= 4 + tl && memcmp(blob + 4, type, tl) == 0;
}

/* Finds the store entry for (user, key). Returns NULL with *why set when
 * the key may not log in as user; the entry belongs to *set. */
static const struct keys_entry *
auth_lookup(struct conn *c,
            const char *user,
            ssh_key key,
            struct keys_set *set,
            const char **why)
{
    enum ssh_keytypes_e t = ssh_key_type(key);
    const char *type = ssh_key_type_to_char(t);
    const struct keys_entry *e = NULL;
    unsigned char *blob = NULL;
    size_t len = 0;
    int r;

    if (!key_type_allowed(t) || type == NULL) {
        *why = "key type not allowed";
        return NULL;
    }
    if (c->have_preloaded) {
        if (strcmp(user, c->p->only_user) != 0) {
            *why = "invalid user";
            return NULL;
        }
        *set = c->preloaded;
    } else {
        if (!keys_valid_user(user)) {
            *why = "invalid user";
            return NULL;
        }
        /* Read fresh at every attempt: a revoked key fails at once. */
        r = keys_store_load(user, set);
        if (r == -ENOENT) {
            *why = "invalid user";
            return NULL;
        }
        if (r < 0) {
            *why = "key store unreadable";
            return NULL;
        }
    }
    if (key_blob(key, &blob, &len) < 0 || !blob_type_is(blob, len, type)) {
        *why = "malformed key";
        goto out;
    }
    e = keys_set_find(set, type, blob, len);
    if (log_get_level() >= LOG_LEVEL_DEBUG) {
        char fp[KEYS_FP_MAX];
        if (keys_fingerprint(blob, len, fp, sizeof(fp)) == 0) {
            log_debug("offered %s %s; %zu key(s) for '%s'",
                      type,
                      fp,
                      set->count,
                      san(user));
        }
    }
    if (e == NULL) {
        *why = "key not authorized";
    } else if (t == SSH_KEYTYPE_RSA && e->bits < 2048) {
        *why = "RSA key shorter than 2048 bits";
        e = NULL;
    } else if (keys_expired(&e->opts, time(NULL))) {
        *why = "key expired (expiry-time)";
        e = NULL;
    } else if (!keys_from_allows(&e->opts, c->p->peer)) {
        *why = "source address not allowed by from=";
        e = NULL;
    }
out:
    free(blob);
    return e;
}

/* Resolves the target user once; refuses root when not permitted. */
static int
auth_target(struct conn *c, const char *user, const char **why)
{
    struct privdrop_target *t;
    const char *errstr = NULL;

    if (c->target != NULL) {
        return 0;
    }
    t = malloc(sizeof(*t));
    if (t == NULL) {
        *why = "out of memory";
        return -ENOMEM;
    }
    if (privdrop_resolve(user, t, &errstr) < 0) {
        free(t);
        *why = "invalid user (no such account)";
        return -ENOENT;
    }
    if (t->uid == 0 && !c->cfg->permit_root) {
        free(t);
        *why = "root login refused (AIRLOCK_SSH_PERMIT_ROOT=no)";
        return -EPERM;
    }
    if (getuid() != 0 && t->uid != getuid()) {
        free(t);
        *why = "server not running as root cannot serve this user";
        return -EPERM;
    }
    c->target = t;
    return 0;
}

static int
auth_pubkey(ssh_session session,
            const char *user,
            struct ssh_key_struct *pubkey,
            char state,
            void *userdata)
{
    struct conn *c = userdata;
    struct keys_set set = {0};
    const struct keys_entry *e;
    const char *why = NULL;
    const char *ktype = ssh_key_type_to_char(ssh_key_type(pubkey));
    int rc = SSH_AUTH_DENIED;

    (void)session;
    if (c->authenticated || c->fatal != 0) {
        c->fatal = c->fatal != 0 ? c->fatal : CONN_EXIT_AUTHFAIL;
        return SSH_AUTH_DENIED;
    }
    if (++c->requests > SSHD_MAX_AUTH_REQUEST) {
        audit("too many authentication requests from %s port %u",
              c->p->peer,
              c->p->peer_port);
        c->fatal = CONN_EXIT_AUTHFAIL;
        return SSH_AUTH_DENIED;
    }
    if (!auth_check_user(c, user)) {
        return SSH_AUTH_DENIED;
    }
    e = auth_lookup(c, user, pubkey, &set, &why);
    if (e != NULL && auth_target(c, user, &why) < 0) {
        e = NULL;
    }
    if (e == NULL) {
        char fp[KEYS_FP_MAX] = "?";
        unsigned char *hash = NULL;
        size_t hlen = 0;
        if (ssh_get_publickey_hash(pubkey,
                                   SSH_PUBLICKEY_HASH_SHA256,
                                   &hash,
                                   &hlen) == 0) {
            char *f =
                ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
            if (f != NULL) {
                (void)copy_string(fp, sizeof(fp), f);
                ssh_string_free_char(f);
            }
            ssh_clean_pubkey_hash(&hash);
        }
        audit("Failed publickey for '%s' from %s port %u ssh2: %s %s: %s",
              san(user),
              c->p->peer,
              c->p->peer_port,
              ktype ? ktype : "?",
              fp,
              why);
        auth_count_failure(c);
        auth_fail_delay();
        goto out;
    }
    if (state == SSH_PUBLICKEY_STATE_NONE) {
        /* Only "this key would be acceptable" (PK_OK): not a login, and
         * not counted as a failure. */
        rc = SSH_AUTH_SUCCESS;
        goto out;
    }
    if (state != SSH_PUBLICKEY_STATE_VALID) {
        audit("Failed publickey for '%s' from %s port %u ssh2: %s %s: bad "
              "signature",
              san(user),
              c->p->peer,
              c->p->peer_port,
              e->type,
              e->fingerprint);
        auth_count_failure(c);
        goto out;
    }
    if (keys_set_add(&c->matched, e) < 0) {
        goto out;
    }
    /* Drop now, inside the callback: libssh may process the client's
     * channel requests in the same poll round, before conn_main's loop
     * sees the success, and no session may ever start as root by
     * accident. */
    alarm(0);
    conn_drop_privileges(c);
    c->authenticated = true;
    c->auth_ms = now_ms();
    audit("Accepted publickey for '%s' from %s port %u ssh2: %s %s "
          "(source %s line %u)",
          san(user),
          c->p->peer,
          c->p->peer_port,
          e->type,
          e->fingerprint,
          san(e->source),
          e->line);
    rc = SSH_AUTH_SUCCESS;
out:
    if (set.entries != NULL && set.entries != c->preloaded.entries) {
        keys_set_free(&set);
    }
    return rc;
}

/* GSSAPI code runs pre-auth whatever methods are advertised; refusing
 * every mechanism here keeps it out. */
static ssh_string
gssapi_select_none(ssh_session session,
                   const char *user,
                   int n_oid,
                   ssh_string *oids,
                   void *userdata)
{
    (void)session;
    (void)user;
    (void)n_oid;
    (void)oids;
    (void)userdata;
    return NULL;
}

/* ---- setup ---------------------------------------------------------- */

static void
conn_drop_privileges(struct conn *c)
{
    const char *errstr = NULL;
    int r;

    if (c->dropped) {
        return;
    }
    r = privdrop_apply(c->target, &errstr);
    if (r < 0) {
        log_errno(LOG_LEVEL_ERROR,
                  r,
                  "privilege drop to '%s' failed at %s",
                  c->target->name,
                  errstr ? errstr : "?");
        _exit(CONN_EXIT_ERROR);
    }
    c->dropped = true;
}

/* All keys belong to one user: drop to it now, so a pre-auth bug in the
 * SSH stack gains nothing an authorized user lacks. The store is read
 * before the drop (it is root-only); the listener re-checks revocation. */
static void
conn_early_drop(struct conn *c)
{
    const char *why = NULL;
    int r;

    if (c->p->only_user[0] == '\0') {
        return;
    }
    r = keys_store_load(c->p->only_user, &c->preloaded);
    if (r < 0) {
        log_errno(LOG_LEVEL_ERROR, r, "key store of '%s'", c->p->only_user);
        _exit(CONN_EXIT_ERROR);
    }
    c->have_preloaded = true;
    if (auth_target(c, c->p->only_user, &why) < 0) {
        audit("connection from %s port %u refused: user '%s': %s",
              c->p->peer,
              c->p->peer_port,
              c->p->only_user,
              why);
        _exit(CONN_EXIT_ERROR);
    }
    conn_drop_privileges(c);
}

static void
conn_setup_session(struct conn *c)
{
    long timeout = (long)c->cfg->login_grace_s;

    c->session = ssh_new();
    if (c->session == NULL ||
        ssh_bind_accept_fd(c->p->bind, c->session, c->p->fd) != SSH_OK) {
        log_error("ssh_bind_accept_fd: %s",
                  c->session ? ssh_get_error(c->p->bind) : "out of memory");
        _exit(CONN_EXIT_ERROR);
    }
    /* The listener's bind object (and its copy of the host key) is no
     * longer needed here; the session holds its own duplicate. */
    ssh_bind_free(c->p->bind);
    if (ssh_options_set(c->session, SSH_OPTIONS_TIMEOUT, &timeout) < 0 ||
        ssh_options_set(c->session, SSH_OPTIONS_COMPRESSION_C_S, "none") < 0 ||
        ssh_options_set(c->session, SSH_OPTIONS_COMPRESSION_S_C, "none") < 0) {
        log_error("session options: %s", ssh_get_error(c->session));
        _exit(CONN_EXIT_ERROR);
    }
    ssh_set_auth_methods(c->session, SSH_AUTH_METHOD_PUBLICKEY);
    memset(&c->server_cb, 0, sizeof(c->server_cb));
    c->server_cb.userdata = c;
    c->server_cb.auth_none_function = auth_none;
    c->server_cb.auth_pubkey_function = auth_pubkey;
    c->server_cb.gssapi_select_oid_function = gssapi_select_none;
    c->server_cb.channel_open_request_session_function = session_open;
    ssh_callbacks_init(&c->server_cb);
    ssh_set_server_callbacks(c->session, &c->server_cb);
    ssh_set_message_callback(c->session, session_message, c);
}

static void
conn_notify_listener(struct conn *c)
{
    char line[256];
    int n;

    n = snprintf(line,
                 sizeof(line),
                 "A %s %s\n",
                 c->user,
                 c->matched.entries[0].fingerprint);
    if (n > 0 && (size_t)n < sizeof(line)) {
        (void)write_all(c->p->notify_fd, line, (size_t)n);
    }
}

static void
conn_drain_signals(struct conn *c)
{
    struct signalfd_siginfo si;

    while (read(c->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGCHLD) {
            session_reap(c);
        } else if (si.ssi_signo == SIGUSR1) {
            c->revoked = true;
        } else {
            c->stopping = true;
        }
    }
}

void
conn_main(const struct conn_params *p)
{
    static struct conn conn;
    struct conn *c = &conn;
    int r;

    c->cfg = p->cfg;
    c->p = p;
    c->sigfd = conn_sanitise_process(p);
    arm_grace(p);
    audit("connection from %s port %u to %s port %u",
          p->peer,
          p->peer_port,
          p->local,
          p->local_port);
    /* The container environment may be root-only: read it before any
     * drop. */
    (void)session_load_base_env();
    conn_early_drop(c);
    conn_setup_session(c);

    /* Version string deadline (AIRLOCK_SSH_BANNER_TIMEOUT). A connection
     * that sends nothing would otherwise hold a MaxStartups slot for the
     * whole login grace time. libssh sends our version string first, so
     * clients that wait for it (banner grabbers, check_ssh) still work;
     * its key exchange returns SSH_AGAIN when the session timeout passes
     * and resumes where it stopped when called again (libssh 0.10.6
     * src/server.c, "goto pending"). */
    if (p->cfg->banner_timeout_s < p->cfg->login_grace_s) {
        long t = (long)p->cfg->banner_timeout_s;
        r = ssh_options_set(c->session, SSH_OPTIONS_TIMEOUT, &t) < 0
                ? SSH_ERROR
                : ssh_handle_key_exchange(c->session);
        if (r == SSH_AGAIN && ssh_get_clientbanner(c->session) == NULL) {
            audit("no SSH version string from %s port %u within %us, closing",
                  p->peer,
                  p->peer_port,
                  p->cfg->banner_timeout_s);
            _exit(CONN_EXIT_GRACE);
        }
        /* Back to the login grace for the rest (blocking sends use it). */
        t = (long)p->cfg->login_grace_s;
        if (ssh_options_set(c->session, SSH_OPTIONS_TIMEOUT, &t) < 0) {
            _exit(CONN_EXIT_ERROR);
        }
    } else {
        r = SSH_AGAIN;
    }
    if (r == SSH_AGAIN) {
        r = ssh_handle_key_exchange(c->session);
    }
    if (r != SSH_OK) {
        log_info("key exchange with %s port %u failed: %s",
                 p->peer,
                 p->peer_port,
                 san(ssh_get_error(c->session)));
        _exit(CONN_EXIT_NOAUTH);
    }
    c->event = ssh_event_new();
    if (c->event == NULL ||
        ssh_event_add_session(c->event, c->session) != SSH_OK) {
        _exit(CONN_EXIT_ERROR);
    }
    /* Until authenticated: the grace alarm bounds this loop. */
    while (!c->authenticated) {
        r = ssh_event_dopoll(c->event, 1000);
        if (c->fatal != 0) {
            conn_exit(c, c->fatal);
        }
        if (r == SSH_ERROR || !ssh_is_connected(c->session)) {
            audit("connection from %s port %u closed before authentication",
                  p->peer,
                  p->peer_port);
            conn_exit(c,
                      c->failures > 0 ? CONN_EXIT_AUTHFAIL : CONN_EXIT_NOAUTH);
        }
        conn_drain_signals(c);
        if (c->stopping) {
            conn_exit(c, CONN_EXIT_OK);
        }
    }
    alarm(0);
    (void)signal(SIGALRM, SIG_DFL);
    conn_notify_listener(c);
    {
        /* Blocking writes wait on a slow client; bound them generously. */
        long t = 600;
        (void)ssh_options_set(c->session, SSH_OPTIONS_TIMEOUT, &t);
    }

    for (;;) {
        struct pollfd pfd[1 + 3 * 8 + 1];
        unsigned n = 0, ns;
        int timeout = 1000;

        if (c->fatal != 0) {
            session_hangup_all(c, "protocol violation");
            conn_exit(c, c->fatal);
        }
        if (c->revoked) {
            audit("key %s of '%s' revoked, closing the connection from %s "
                  "port %u",
                  c->matched.entries[0].fingerprint,
                  san(c->user),
                  p->peer,
                  p->peer_port);
            session_hangup_all(c, "key revoked");
            conn_exit(c, CONN_EXIT_OK);
        }
        if (c->stopping) {
            session_hangup_all(c, "server stopping");
            conn_exit(c, CONN_EXIT_OK);
        }
        if (!ssh_is_connected(c->session)) {
            session_hangup_all(c, "client disconnected");
            audit("disconnected '%s' from %s port %u after %llu ms",
                  san(c->user),
                  p->peer,
                  p->peer_port,
                  (unsigned long long)(now_ms() - c->auth_ms));
            _exit(CONN_EXIT_OK);
        }
        session_progress(c);
        pfd[n].fd = ssh_get_fd(c->session);
        pfd[n].events = POLLIN;
        n++;
        pfd[n].fd = c->sigfd;
        pfd[n].events = POLLIN;
        n++;
        ns = session_pollfds(c,
                             pfd + n,
                             (unsigned)(sizeof(pfd) / sizeof(pfd[0])) - n);
        if (poll(pfd, n + ns, timeout) < 0 && errno != EINTR) {
            log_errno(LOG_LEVEL_ERROR, -errno, "poll");
            conn_exit(c, CONN_EXIT_ERROR);
        }
        if (pfd[1].revents != 0) {
            conn_drain_signals(c);
        }
        session_handle(c, pfd + n, ns);
        if (pfd[0].revents != 0) {
            if (ssh_event_dopoll(c->event, 0) == SSH_ERROR) {
                session_hangup_all(c, "connection error");
                audit("connection of '%s' from %s port %u ended: %s",
                      san(c->user),
                      p->peer,
                      p->peer_port,
                      san(ssh_get_error(c->session)));
                _exit(CONN_EXIT_OK);
            }
        }
        session_pull(c);
    }
}
