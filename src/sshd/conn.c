/* The connection process: everything between accept() and the end of the
 * TCP connection. It is forked per connection (a crash here costs one
 * connection, never the listener), sheds what it inherited, arms its own
 * login grace timer (libssh's key exchange would otherwise block forever),
 * and grants access only on a verified signature (SSH_PUBLICKEY_STATE_VALID)
 * from a key the listener, the one authority (authority.h), accepts at
 * that moment. It holds no key set of its own and reads no key file. */
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
#include "sshd/authority.h"
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

    /* Its own session, as each of OpenSSH's sshd connections: out of the
     * listener's process group, so a signal meant for the server's group
     * (Ctrl-C on a foreground server, a supervisor's group kill) does not
     * cut every logged-in connection with it; the listener ends them
     * itself on SIGTERM, and a connection ends when the listener's
     * authority socket goes away. With the kernel's autogroup scheduling
     * (sched_autogroup_enabled), a session is also a CPU share of its own:
     * connections in one session would share one share between them.
     * Cannot fail here: a fresh child is never a group leader. */
    (void)setsid();
    for (int s = 1; s < NSIG; s++) {
        if (s != SIGKILL && s != SIGSTOP) {
            (void)signal(s, SIG_DFL);
        }
    }
    (void)signal(SIGPIPE, SIG_IGN);
    /* 0-2 stay: stdout carries the audit trail, stderr the log. */
    keep[0] = p->fd;
    keep[1] = p->auth_fd;
    close_fds_from(3, keep, 2);
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    (void)setrlimit(RLIMIT_CORE, &rl);

    /* SIGCHLD (sessions), SIGTERM (shutdown), SIGUSR1 (key revoked) and
     * SIGUSR2 (key revoked, open sessions kept) are taken through a
     * signalfd in the poll loop. */
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigaddset(&chld, SIGTERM);
    sigaddset(&chld, SIGUSR1);
    sigaddset(&chld, SIGUSR2);
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
static void conn_notify_listener(struct conn *c);
static bool auth_request(struct conn *c, const char *user);

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
    /* "none" is how a client asks which methods there are: counted
     * against the total cap, not as a failure (as in OpenSSH). */
    (void)auth_request(c, user);
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

/* Asks the authority whether key may log in as user (signed: a login,
 * else a PK_OK probe). Returns 0 and fills *ret (the effective entry, to
 * free with keys_entry_free), or -EPERM with *why; any other error means
 * the authority could not answer, and the connection must end. */
static int
auth_lookup(struct conn *c,
            const char *user,
            ssh_key key,
            bool signed_req,
            struct keys_entry *ret,
            char *why_buf,
            size_t why_size,
            const char **why)
{
    const char *type = ssh_key_type_to_char(ssh_key_type(key));
    unsigned char *blob = NULL;
    size_t len = 0;
    int r;

    /* Certificates only reach the authority, which validates them all
     * (keys_authorise_key); libssh checks only the signature over the
     * session, made by the certified key. */
    if (type == NULL ||
        !(keys_type_allowed(type) || keys_cert_type_allowed(type))) {
        *why = "key type not allowed";
        return -EPERM;
    }
    if (c->p->only_user[0] != '\0' && strcmp(user, c->p->only_user) != 0) {
        /* Already running as only_user: no other user can be served. */
        *why = "invalid user";
        return -EPERM;
    }
    if (key_blob(key, &blob, &len) < 0 || !blob_type_is(blob, len, type)) {
        free(blob);
        *why = "malformed key";
        return -EPERM;
    }
    r = authority_ask(c->p->auth_fd,
                      signed_req,
                      user,
                      type,
                      blob,
                      len,
                      ret,
                      why_buf,
                      why_size,
                      why);
    free(blob);
    if (r < 0 && r != -EPERM) {
        log_errno(LOG_LEVEL_ERROR, r, "asking the key authority: %s", *why);
    }
    return r;
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

/* The SHA256 fingerprint of a key libssh parsed, into fp (for the audit
 * of a refusal, when the authority gave none). */
static void
offered_fingerprint(ssh_key key, char *fp, size_t size)
{
    unsigned char *hash = NULL;
    size_t hlen = 0;

    (void)copy_string(fp, size, "?");
    if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) ==
        0) {
        char *f =
            ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
        if (f != NULL) {
            (void)copy_string(fp, size, f);
            ssh_string_free_char(f);
        }
        ssh_clean_pubkey_hash(&hash);
    }
}

/* Counts one authentication request of any method against the total
 * cap and checks the user-name rule. false when it must be refused
 * (c->fatal is then set, or the name changed). */
static bool
auth_request(struct conn *c, const char *user)
{
    if (c->authenticated || c->fatal != 0) {
        c->fatal = c->fatal != 0 ? c->fatal : CONN_EXIT_AUTHFAIL;
        return false;
    }
    if (++c->requests > SSHD_MAX_AUTH_REQUEST) {
        audit("too many authentication requests from %s port %u",
              c->p->peer,
              c->p->peer_port);
        c->fatal = CONN_EXIT_AUTHFAIL;
        return false;
    }
    return auth_check_user(c, user);
}

static int
auth_pubkey(ssh_session session,
            const char *user,
            struct ssh_key_struct *pubkey,
            char state,
            void *userdata)
{
    struct conn *c = userdata;
    struct keys_entry e;
    char why_buf[128];
    const char *why = NULL;
    const char *ktype = ssh_key_type_to_char(ssh_key_type(pubkey));
    bool signed_req = state == SSH_PUBLICKEY_STATE_VALID;
    int r;

    (void)session;
    if (!auth_request(c, user)) {
        return SSH_AUTH_DENIED;
    }
    if (state != SSH_PUBLICKEY_STATE_NONE && !signed_req) {
        char fp[KEYS_FP_MAX];
        offered_fingerprint(pubkey, fp, sizeof(fp));
        audit("Failed publickey for '%s' from %s port %u ssh2: %s %s: bad "
              "signature",
              san(user),
              c->p->peer,
              c->p->peer_port,
              ktype ? ktype : "?",
              fp);
        auth_count_failure(c);
        return SSH_AUTH_DENIED;
    }
    /* Asked at this moment, for this request: a key removed since the
     * connection began, or since its PK_OK probe, is refused here. */
    r = auth_lookup(c,
                    user,
                    pubkey,
                    signed_req,
                    &e,
                    why_buf,
                    sizeof(why_buf),
                    &why);
    if (r == 0 && auth_target(c, user, &why) < 0) {
        keys_entry_free(&e);
        r = -EPERM;
    }
    if (r == -EPERM && strcmp(why, AUTHORITY_LOGINS_FULL) == 0) {
        /* Not the client's fault, and not a failed key: the connection
         * closes without a penalty rather than tell the client its key
         * was denied. */
        audit("login refused for '%s' from %s port %u: %s "
              "(AIRLOCK_SSH_MAX_AUTHENTICATED)",
              san(user),
              c->p->peer,
              c->p->peer_port,
              AUTHORITY_LOGINS_FULL);
        c->fatal = CONN_EXIT_ERROR;
        return SSH_AUTH_DENIED;
    }
    if (r < 0) {
        char fp[KEYS_FP_MAX];
        offered_fingerprint(pubkey, fp, sizeof(fp));
        audit("Failed publickey for '%s' from %s port %u ssh2: %s %s: %s",
              san(user),
              c->p->peer,
              c->p->peer_port,
              ktype ? ktype : "?",
              fp,
              san(why));
        if (r != -EPERM) {
            /* No answer from the authority: nothing can be decided. */
            c->fatal = CONN_EXIT_ERROR;
            return SSH_AUTH_DENIED;
        }
        auth_count_failure(c);
        auth_fail_delay();
        return SSH_AUTH_DENIED;
    }
    if (!signed_req) {
        /* Only "this key would be acceptable" (PK_OK): not a login, and
         * not counted as a failure. */
        keys_entry_free(&e);
        return SSH_AUTH_SUCCESS;
    }
    r = keys_set_add(&c->matched, &e);
    keys_entry_free(&e);
    if (r < 0) {
        c->fatal = CONN_EXIT_ERROR;
        return SSH_AUTH_DENIED;
    }
    /* Drop now, inside the callback: libssh may process the client's
     * channel requests in the same poll round, before conn_main's loop
     * sees the success, and no session may ever start as root by
     * accident. */
    alarm(0);
    conn_drop_privileges(c);
    c->authenticated = true;
    c->auth_ms = now_ms();
    /* At once, not when the poll loop next sees it: until the listener
     * has this notice the connection counts against MaxStartups, and
     * under a burst every millisecond there turns away other clients. */
    conn_notify_listener(c);
    if (c->matched.entries[0].ca_fingerprint[0] != '\0') {
        /* OpenSSH's wording: ID, serial, CA fingerprint. */
        audit("Accepted publickey for '%s' from %s port %u ssh2: %s %s ID "
              "'%s' (serial %llu) CA %s (source %s line %u)",
              san(user),
              c->p->peer,
              c->p->peer_port,
              c->matched.entries[0].type,
              c->matched.entries[0].fingerprint,
              san(c->matched.entries[0].cert_id),
              (unsigned long long)c->matched.entries[0].cert_serial,
              c->matched.entries[0].ca_fingerprint,
              san(c->matched.entries[0].source),
              c->matched.entries[0].line);
    } else {
        audit("Accepted publickey for '%s' from %s port %u ssh2: %s %s "
              "(source %s line %u)",
              san(user),
              c->p->peer,
              c->p->peer_port,
              c->matched.entries[0].type,
              c->matched.entries[0].fingerprint,
              san(c->matched.entries[0].source),
              c->matched.entries[0].line);
    }
    return SSH_AUTH_SUCCESS;
}

/* Methods we never accept still count: each request is audited (method,
 * user, source; never a password), counts against MaxAuthTries and the
 * total cap, and obeys the user-name rule, as in OpenSSH. */
static void
auth_refuse_method(struct conn *c, const char *method, const char *user)
{
    if (!auth_request(c, user)) {
        return;
    }
    audit("Failed %s for '%s' from %s port %u ssh2: method not accepted",
          method,
          san(user),
          c->p->peer,
          c->p->peer_port);
    auth_count_failure(c);
    auth_fail_delay();
}

static int
auth_password(ssh_session session,
              const char *user,
              const char *password,
              void *userdata)
{
    (void)session;
    (void)password; /* never looked at, never logged */
    auth_refuse_method(userdata, "password", user);
    return SSH_AUTH_DENIED;
}

/* Every request no callback took: keyboard-interactive, hostbased,
 * gssapi and unknown methods arrive here as SSH_REQUEST_AUTH; the rest
 * (channel requests) go to the session code. */
static int
conn_message(ssh_session session, ssh_message msg, void *userdata)
{
    struct conn *c = userdata;
    const char *method;

    if (ssh_message_type(msg) != SSH_REQUEST_AUTH) {
        return session_message(session, msg, userdata);
    }
    switch (ssh_message_subtype(msg)) {
    case SSH_AUTH_METHOD_INTERACTIVE:
        method = "keyboard-interactive";
        break;
    case SSH_AUTH_METHOD_HOSTBASED:
        method = "hostbased";
        break;
    case SSH_AUTH_METHOD_PASSWORD:
        method = "password";
        break;
    case SSH_AUTH_METHOD_GSSAPI_MIC:
        method = "gssapi-with-mic";
        break;
    default:
        method = "unknown method";
        break;
    }
    auth_refuse_method(c, method, ssh_message_auth_user(msg));
    /* Replies "failure, publickey can continue". */
    (void)ssh_message_auth_set_methods(msg, SSH_AUTH_METHOD_PUBLICKEY);
    (void)ssh_message_reply_default(msg);
    return 0;
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
    /* Changing uid resets the dumpable flag to fs.suid_dumpable, which
     * may be 1: the process holds the host key and now shares its uid
     * with the sessions (and maybe the app), so same-uid ptrace and
     * /proc/PID/mem must be refused again. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
        log_errno(LOG_LEVEL_ERROR, -errno, "PR_SET_DUMPABLE after the drop");
        _exit(CONN_EXIT_ERROR);
    }
    c->dropped = true;
}

/* All keys belong to one user: drop to it now, so a pre-auth bug in the
 * SSH stack gains nothing an authorized user lacks. Nothing needs root
 * afterwards: keys are checked by the listener (authority.h). */
static void
conn_early_drop(struct conn *c)
{
    const char *why = NULL;

    if (c->p->only_user[0] == '\0') {
        return;
    }
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
    c->server_cb.auth_password_function = auth_password;
    c->server_cb.gssapi_select_oid_function = gssapi_select_none;
    c->server_cb.channel_open_request_session_function = session_open;
    ssh_callbacks_init(&c->server_cb);
    ssh_set_server_callbacks(c->session, &c->server_cb);
    ssh_set_message_callback(c->session, conn_message, c);
}

static void
conn_notify_listener(struct conn *c)
{
    int r = authority_notify_login(c->p->auth_fd);

    if (r < 0) {
        /* The listener could not count this login nor revoke it later:
         * do not go on without it. */
        log_errno(LOG_LEVEL_ERROR, r, "telling the listener of the login");
        conn_exit(c, CONN_EXIT_ERROR);
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
        } else if (si.ssi_signo == SIGUSR2) {
            c->revoked_keep = true;
        } else {
            c->stopping = true;
        }
    }
}

/* ---- after login ------------------------------------------------------ */

/* Every end after login goes through here: the sessions are stopped
 * (SIGHUP, SIGKILL after 2 s, reaped) before the process exits, whatever
 * the reason. */
static void __attribute__((noreturn))
conn_end(struct conn *c, int status, const char *why)
{
    session_stop_all(c, why);
    ssh_disconnect(c->session);
    _exit(status);
}

/* Ends the connection when a flag or the transport says so; returns
 * otherwise. */
static void
conn_check_end(struct conn *c)
{
    const struct conn_params *p = c->p;

    if (c->fatal != 0) {
        conn_end(c, c->fatal, "protocol violation");
    }
    if (c->violation != NULL) {
        audit("connection of '%s' from %s port %u closed: %s",
              san(c->user),
              p->peer,
              p->peer_port,
              c->violation);
        conn_end(c, CONN_EXIT_OK, c->violation);
    }
    /* AIRLOCK_SSH_REVOKE_SESSIONS=no keeps what was open, nothing more:
     * once the last channel is gone there is nothing left to keep. */
    if (c->revoked || (c->revoked_keep && c->nchans == 0)) {
        audit("key %s of '%s' revoked%s, closing the connection from %s "
              "port %u",
              c->matched.entries[0].fingerprint,
              san(c->user),
              c->revoked ? "" : " and its last session ended",
              p->peer,
              p->peer_port);
        conn_end(c, CONN_EXIT_OK, "key revoked");
    }
    if (c->stopping) {
        conn_end(c, CONN_EXIT_OK, "server stopping");
    }
    if (!ssh_is_connected(c->session)) {
        session_stop_all(c, "client disconnected");
        audit("disconnected '%s' from %s port %u after %llu ms",
              san(c->user),
              p->peer,
              p->peer_port,
              (unsigned long long)(now_ms() - c->auth_ms));
        _exit(CONN_EXIT_OK);
    }
}

/* Client liveness, as OpenSSH's ClientAliveInterval/CountMax. Any packet
 * from the client is a sign of life; libssh counts every packet it
 * decrypts in rx, whichever of its calls read it, which our own poll of
 * the socket would miss. */
static struct {
    struct ssh_counter_struct rx;
    uint64_t seen;    /* rx.in_packets at the last check */
    uint64_t last_ms; /* when the client was last heard */
    unsigned unanswered;
} alive;

/* ssh_send_keepalive() asks for a reply, and in blocking mode waits for it
 * up to the session timeout: a dead client would stall every session for
 * 10 minutes. Non-blocking, libssh sends the request and notes it as
 * pending; a later call first collects the reply and sends nothing
 * (channels.c ssh_global_request). Two calls thus send one request when
 * none is outstanding and none while one is. A reply, or anything else
 * from the client, shows up in alive.rx. */
static void
conn_send_keepalive(ssh_session session)
{
    int blocking = ssh_is_blocking(session);

    ssh_set_blocking(session, 0);
    (void)ssh_send_keepalive(session);
    (void)ssh_send_keepalive(session);
    ssh_set_blocking(session, blocking);
}

/* The idle timeout and the keepalives; ends the connection when one has
 * run out. Returns the next deadline. */
static uint64_t
conn_timers(struct conn *c, uint64_t now)
{
    const struct sshd_config *cfg = c->cfg;
    uint64_t next = DEADLINE_NONE;

    if (cfg->idle_timeout_ms > 0) {
        uint64_t due = c->activity_ms + cfg->idle_timeout_ms;
        if (now >= due) {
            audit("idle timeout (%llu s without channel activity) for '%s' "
                  "from %s port %u, closing",
                  (unsigned long long)(cfg->idle_timeout_ms / 1000),
                  san(c->user),
                  c->p->peer,
                  c->p->peer_port);
            conn_end(c, CONN_EXIT_OK, "idle timeout");
        }
        next = due;
    }
    if (cfg->client_alive_interval_ms > 0) {
        uint64_t due;

        if (alive.rx.in_packets != alive.seen) {
            alive.seen = alive.rx.in_packets;
            alive.last_ms = now;
            alive.unanswered = 0;
        }
        due = alive.last_ms +
              (uint64_t)(alive.unanswered + 1) * cfg->client_alive_interval_ms;
        if (now >= due) {
            if (alive.unanswered >= cfg->client_alive_count_max) {
                audit("client alive timeout: no answer to %u keepalive(s) "
                      "from '%s' at %s port %u, closing",
                      alive.unanswered,
                      san(c->user),
                      c->p->peer,
                      c->p->peer_port);
                conn_end(c, CONN_EXIT_OK, "client not responding");
            }
            conn_send_keepalive(c->session);
            alive.unanswered++;
            due += cfg->client_alive_interval_ms;
        }
        next = deadline_min(next, due);
    }
    return next;
}

/* The session loop: one poll over the SSH socket, the signalfd and the
 * channels' pipes, with a timeout from the next deadline (a session's
 * SIGKILL, the idle timeout, the next keepalive), at most a second so a
 * missed wake-up (a failed allocation to retry) costs no more. */
static void __attribute__((noreturn)) conn_session_loop(struct conn *c)
{
    const struct conn_params *p = c->p;

    c->activity_ms = c->auth_ms;
    alive.last_ms = c->auth_ms;
    ssh_set_counters(c->session, NULL, &alive.rx);
    for (;;) {
        struct pollfd pfd[3 + 3 * SSHD_MAX_CHANNELS];
        unsigned n = 0, ns;
        uint64_t next, now;
        bool unsent;

        conn_check_end(c);
        now = now_ms();
        next = deadline_min(session_progress(c), now + 1000);
        next = deadline_min(next, conn_timers(c, now));
        /* Non-blocking libssh calls (the window adjust sent by
         * session_pull's read, keepalives) may leave a packet queued
         * when the socket is full; nothing else would send it while the
         * client waits for it, so it goes out here or on POLLOUT. */
        unsent = ssh_blocking_flush(c->session, 0) == SSH_AGAIN;
        pfd[n].fd = ssh_get_fd(c->session);
        pfd[n].events = (short)(POLLIN | (unsent ? POLLOUT : 0));
        n++;
        pfd[n].fd = c->sigfd;
        pfd[n].events = POLLIN;
        n++;
        /* The authority: it sends nothing after the login, so any event
         * is its end (a listener that died or was restarted). Without it
         * nobody could revoke this connection: it ends (fail closed). */
        pfd[n].fd = p->auth_fd;
        pfd[n].events = POLLIN;
        n++;
        ns = session_pollfds(c,
                             pfd + n,
                             (unsigned)(sizeof(pfd) / sizeof(pfd[0])) - n);
        if (poll(pfd, n + ns, deadline_timeout(now_ms(), next)) < 0) {
            if (errno != EINTR) {
                log_errno(LOG_LEVEL_ERROR, -errno, "poll");
                conn_end(c, CONN_EXIT_ERROR, "internal error");
            }
            continue;
        }
        if (pfd[1].revents != 0) {
            conn_drain_signals(c);
        }
        if (pfd[2].revents != 0) {
            audit("key authority of '%s' from %s port %u gone (listener "
                  "ended): closing the connection",
                  san(c->user),
                  p->peer,
                  p->peer_port);
            session_stop_all(c, "listener gone");
            conn_exit(c, CONN_EXIT_OK);
        }
        session_handle(c, pfd + n, ns);
        if ((pfd[0].revents & ~POLLOUT) != 0 &&
            ssh_event_dopoll(c->event, 0) == SSH_ERROR) {
            audit("connection of '%s' from %s port %u ended: %s",
                  san(c->user),
                  p->peer,
                  p->peer_port,
                  san(ssh_get_error(c->session)));
            session_stop_all(c, "connection error");
            _exit(CONN_EXIT_OK);
        }
        session_pull(c);
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
        if (c->revoked) {
            audit("key of '%s' revoked during authentication from %s port "
                  "%u, closing",
                  san(c->user),
                  p->peer,
                  p->peer_port);
            conn_exit(c, CONN_EXIT_OK);
        }
    }
    alarm(0);
    (void)signal(SIGALRM, SIG_DFL);
    {
        /* Blocking writes wait on a slow client; bound them generously. */
        long t = 600;
        (void)ssh_options_set(c->session, SSH_OPTIONS_TIMEOUT, &t);
    }

    conn_session_loop(c);
}
