/* Session channels: pty/env/shell/exec/subsystem requests, the child
 * process of each channel, and the data pump between the child and the
 * channel. The pump never blocks on the child and never writes more than
 * the peer's window (ssh_channel_write would otherwise wait inside libssh,
 * re-entering callbacks); ssh_connector is not used because it stalls
 * after a few MB on libssh 0.10.6 (libssh-notes.md section 6). */
#include "sshd/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/groupstop.h"
#include "common/path.h"
#include "common/safeio.h"
#include "common/sigutil.h"
#include "common/spawn.h"
#include "common/timeutil.h"
#include "sshd/audit.h"
#include "sshd/authority.h"
#include "sshd/env.h"
#include "sshd/record.h"
#include "sshd/session.h"

#define PUMP_CHUNK 65536
/* A session's group gets SIGHUP, then SIGKILL this much later. */
#define HUP_GRACE_MS 2000
/* After SIGKILL, how long the connection waits for the kernel to finish
 * the processes off before it exits anyway (one that sleeps
 * uninterruptibly in a hung filesystem cannot be waited for). */
#define KILL_REAP_MS 500

/* Client data on its way to a child's stdin (issue 9, item 6). libssh
 * 0.10 keeps in its own buffer whatever the data callback does not
 * consume, and re-opens the window only while that buffer is small
 * (channels.c: local_window + buffered < 640000, then to 1280000). So
 * the callback consumes only what the pipe takes; the rest is pulled
 * into the staging buffer below once the pipe has drained. The pull
 * (ssh_channel_read) re-opens the window to 1280000 whatever libssh
 * still holds, so a pull must take everything libssh holds, or at
 * least 1280000 bytes: IN_STAGE_MAX is above that, and libssh's buffer
 * never grows from one pull to the next. */
#define IN_STAGE_MAX (2u << 20)
/* A client that respects the window cannot make libssh hold more than
 * 640000 + 1280000 bytes plus one packet (35000): more means it ignores
 * the window, which libssh 0.10 accepts and buffers (libssh-notes.md
 * section 6). The connection is ended then, as OpenSSH does ("peer
 * ignored channel window"). With the staging buffer, one channel holds
 * about 4 MiB of client data at most: the packets of the socket read
 * that crossed the limit still land before the loop ends the
 * connection. */
#define IN_LIBSSH_MAX (2u << 20)

enum chan_kind { KIND_NONE, KIND_SHELL, KIND_EXEC, KIND_SFTP, KIND_FORWARD };

struct chan {
    struct conn *c;
    ssh_channel ch;
    struct ssh_channel_callbacks_struct cb;
    unsigned id;
    enum chan_kind kind;

    bool pty;
    int pty_slave;
    struct winsize ws;
    char term[64];
    char *cenv[ENV_CLIENT_MAX];
    unsigned ncenv;

    bool started;
    pid_t pid;
    bool reaped;
    int wstatus;
    int in_fd, out_fd, err_fd;
    bool out_eof, err_eof;

    unsigned char *inbuf;  /* staging, IN_STAGE_MAX, allocated on use */
    size_t in_off, in_len; /* pending bytes: inbuf[in_off, in_off+len) */
    size_t lib_held;       /* client bytes libssh holds for us */
    bool in_pending;       /* lib_held > 0 */
    bool in_eof;           /* the client sent EOF */
    unsigned env_refused;  /* refused env requests (logged: the first 4) */

    bool client_closed;
    bool finished; /* exit status, EOF and close sent */
    struct group_stop stop;
    uint64_t start_ms;
    uint64_t bytes_in, bytes_out;
    char desc[SANITIZE_MAX + 16];

    struct record rec; /* AIRLOCK_SSH_RECORD_DIR: rec.fd >= 0 */
    bool rec_abort;    /* the recording failed with RECORD_REQUIRED=yes */
};

static struct envv base_env;
static bool base_env_loaded;
static uint64_t chan_stop(struct chan *k, uint64_t now, const char *why);
static unsigned next_chan_id;

int
session_load_base_env(void)
{
    char dir[PATH_MAX];
    struct stat st;
    int r;

    envv_init(&base_env);
    r = root_path(dir, sizeof(dir), CONTAINER_ENV_DIR);
    /* Where /etc is read-only, airlock writes it under the run dir. */
    if (r == 0 && lstat(dir, &st) < 0 && errno == ENOENT) {
        r = run_path(dir, sizeof(dir), CONTAINER_ENV_DIR);
    }
    if (r == 0) {
        r = env_load_container(&base_env, dir);
    }
    base_env_loaded = r == 0;
    return r;
}

static void
set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl >= 0) {
        (void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }
}

static void
close_fd(int *fd)
{
    if (*fd >= 0) {
        (void)close(*fd);
        *fd = -1;
    }
}

static const struct keys_options *
key_opts(const struct chan *k)
{
    return &k->c->matched.entries[0].opts;
}

/* Something happened on a channel: data either way or a request. The
 * idle timeout counts from here; SSH keepalives do not count. */
static void
touch(struct conn *c)
{
    c->activity_ms = now_ms();
}

/* ---- signals -------------------------------------------------------- */

/* RFC 4254 §6.10: the signal names a "signal" request and an
 * "exit-signal" may carry, without "SIG". Names and numbers themselves
 * come from common/sigutil, the one table. */
static const char *const rfc4254_signals[] = {
    "ABRT",
    "ALRM",
    "FPE",
    "HUP",
    "ILL",
    "INT",
    "KILL",
    "PIPE",
    "QUIT",
    "SEGV",
    "TERM",
    "USR1",
    "USR2",
};

const char *
session_signal_name(int sig)
{
    char buf[SIG_NAME_MAX];
    const char *name = sig_to_string(sig, buf, sizeof(buf));

    for (size_t i = 0; i < sizeof(rfc4254_signals) / sizeof(rfc4254_signals[0]);
         i++) {
        if (strcmp(rfc4254_signals[i], name) == 0) {
            return rfc4254_signals[i];
        }
    }
    return NULL;
}

int
session_signal_number(const char *name)
{
    int sig;

    /* A name, never a number: numbers differ between systems. */
    if (name == NULL || (name[0] >= '0' && name[0] <= '9') ||
        sig_from_string(name, &sig) < 0 || session_signal_name(sig) == NULL) {
        return -1;
    }
    return sig;
}

bool
session_term_valid(const char *term)
{
    size_t n = strlen(term);

    if (n == 0 || n >= 64) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = term[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '+' ||
              ch == '-')) {
            return false;
        }
    }
    return true;
}

const char *
session_pick_shell(const char *shell)
{
    const char *base;

    if (shell == NULL || shell[0] != '/') {
        return "/bin/sh";
    }
    base = strrchr(shell, '/') + 1;
    if (strcmp(base, "nologin") == 0 || strcmp(base, "false") == 0 ||
        access(shell, X_OK) < 0) {
        return "/bin/sh";
    }
    return shell;
}

/* ---- the child ------------------------------------------------------ */

/* Builds the session's environment from scratch: the container's, then
 * the login variables (which win), then what the client may set, then
 * the key's environment= options (stored only when permitted). */
static int
build_env(struct chan *k,
          struct envv *e,
          const char *shell,
          const char *orig_cmd,
          const char *tty)
{
    const struct privdrop_target *t = k->c->target;
    const struct conn_params *p = k->c->p;
    const struct keys_options *o = key_opts(k);
    char buf[256];
    int r = 0;

    envv_init(e);
    if (base_env_loaded) {
        for (size_t i = 0; i < base_env.n && r == 0; i++) {
            r = envv_put(e, base_env.v[i]);
        }
    }
    if (r == 0 && envv_get(e, "PATH") == NULL) {
        r = envv_set(e, "PATH", ENV_DEFAULT_PATH);
    }
    r = r ? r : envv_set(e, "HOME", t->home);
    r = r ? r : envv_set(e, "USER", t->name);
    r = r ? r : envv_set(e, "LOGNAME", t->name);
    r = r ? r : envv_set(e, "SHELL", shell);
    snprintf(buf,
             sizeof(buf),
             "%s %u %s %u",
             p->peer,
             p->peer_port,
             p->local,
             p->local_port);
    r = r ? r : envv_set(e, "SSH_CONNECTION", buf);
    snprintf(buf,
             sizeof(buf),
             "%s %u %u",
             p->peer,
             p->peer_port,
             p->local_port);
    r = r ? r : envv_set(e, "SSH_CLIENT", buf);
    for (unsigned i = 0; i < k->ncenv && r == 0; i++) {
        r = envv_put(e, k->cenv[i]);
    }
    if (r == 0 && k->pty) {
        r = envv_set(e, "TERM", k->term);
    }
    if (r == 0 && tty != NULL) {
        r = envv_set(e, "SSH_TTY", tty);
    }
    if (r == 0 && orig_cmd != NULL) {
        r = envv_set(e, "SSH_ORIGINAL_COMMAND", orig_cmd);
    }
    for (size_t i = 0; i < o->nenvironment && r == 0; i++) {
        r = envv_put(e, o->environment[i]);
    }
    return r;
}

/* ---- recording (record.h) ------------------------------------------ */

/* Asks the listener for the session's recording file and starts it.
 * Returns 0 when recording (or when recording is off, or not required
 * and unavailable: logged), -1 when the session must be refused
 * (AIRLOCK_SSH_RECORD_REQUIRED=yes: logged). */
static int
rec_open(struct chan *k,
         enum chan_kind kind,
         const char *shell,
         const char *run)
{
    const struct record_conf *rc = &k->c->cfg->record;
    struct record_req req = {
        .chan = k->id,
        .width = k->pty ? k->ws.ws_col : 80,
        .height = k->pty ? k->ws.ws_row : 24,
        .kind = kind == KIND_SHELL ? "shell" : "exec",
        .term = k->pty ? k->term : "",
        .shell = shell,
        .command = run != NULL ? run : "",
    };
    char name[RECORD_NAME_MAX], why_buf[128];
    const char *why = NULL;
    int fd = -1, r;

    if (rc->dir[0] == '\0') {
        return 0;
    }
    if (kind == KIND_SFTP) {
        /* SFTP is not recorded: its bytes are a binary protocol, not a
         * terminal (README, "Session recording"). */
        if (rc->required) {
            audit("sftp refused for '%s' from %s port %u: SFTP is not "
                  "recorded and AIRLOCK_SSH_RECORD_REQUIRED=yes",
                  san(k->c->user),
                  k->c->p->peer,
                  k->c->p->peer_port);
            return -1;
        }
        audit("session %u of '%s': SFTP is not recorded",
              k->id,
              san(k->c->user));
        return 0;
    }
    r = record_request(k->c->p->auth_fd,
                       &req,
                       AUTHORITY_TIMEOUT_MS,
                       &fd,
                       name,
                       sizeof(name),
                       why_buf,
                       sizeof(why_buf),
                       &why);
    if (r == 0) {
        r = record_start(&k->rec, fd, name, rc->max);
        why = r == -ENOMEM ? "out of memory" : "not a regular file";
    }
    if (r == 0) {
        return 0;
    }
    if (rc->required) {
        audit("session refused for '%s' from %s port %u: no recording (%s) "
              "and AIRLOCK_SSH_RECORD_REQUIRED=yes",
              san(k->c->user),
              k->c->p->peer,
              k->c->p->peer_port,
              san(why));
        return -1;
    }
    log_warn("session %u of '%s' is not recorded: %s",
             k->id,
             san(k->c->user),
             san(why));
    return 0;
}

/* A recording that failed (record_data's error e, reason why) ends with
 * one log line; with AIRLOCK_SSH_RECORD_REQUIRED=yes the session ends
 * too: no byte moves any more, and its process group is hung up. */
static void
rec_failed(struct chan *k, int e, const char *why)
{
    bool required = k->c->cfg->record.required;

    log_warn("recording '%s' of session %u of '%s' ended: %s (%s)%s",
             k->rec.name,
             k->id,
             san(k->c->user),
             why,
             strerror(-e),
             required ? "; ending the session (AIRLOCK_SSH_RECORD_REQUIRED=yes)"
                      : "; the session goes on unrecorded");
    if (!required) {
        return;
    }
    k->rec_abort = true;
    close_fd(&k->in_fd);
    close_fd(&k->out_fd);
    close_fd(&k->err_fd);
    k->in_len = 0;
    k->out_eof = k->err_eof = k->in_eof = true;
    (void)chan_stop(k, now_ms(), "its recording failed");
}

/* Records len bytes of stream s when the session is recorded (input
 * only with AIRLOCK_SSH_RECORD_INPUT=yes). Returns false when the bytes
 * must not reach their destination (the session is being ended). */
static bool
rec_data(struct chan *k, enum record_stream s, const void *data, size_t len)
{
    const char *why = NULL;
    int e;

    if (k->rec.fd < 0 || (s == RECORD_INPUT && !k->c->cfg->record.input)) {
        return !k->rec_abort;
    }
    e = record_data(&k->rec, s, data, len, &why);
    if (e < 0) {
        rec_failed(k, e, why);
    }
    return !k->rec_abort;
}

/* A channel whose program never ran ends as if it had exited with
 * code: the pump sends the status once it runs, and the audit's end
 * line says it. */
static void
chan_end_unstarted(struct chan *k, enum chan_kind kind, int code)
{
    k->started = true;
    k->kind = kind;
    k->reaped = true;
    k->wstatus = code << 8; /* as from exit(code) */
    k->out_eof = k->err_eof = k->in_eof = true;
    k->start_ms = now_ms();
}

/* The session's process through the one spawn primitive: a new session
 * with the pty as controlling terminal (or the pipes as stdio), fds 0-2
 * only, cwd at HOME or else "/", default dispositions and an empty mask
 * (the connection process blocks SIGCHLD and friends for its signalfd,
 * and a mask survives exec), then execve of path with the session's
 * environment. execve replaces the whole address space: the host key and
 * every other secret of the connection process is gone before user code
 * runs. */
static int
chan_spawn(struct chan *k,
           const char *path,
           char *const argv[],
           char *const envp[],
           const int in[2],
           const int out[2],
           const int err[2],
           pid_t *ret_pid,
           struct spawn_failure *ret_fail)
{
    struct spawn_opts o = {
        .group = SPAWN_NEW_SESSION,
        .set_ctty = k->pty,
        .stdin_fd = k->pty ? k->pty_slave : in[0],
        .stdout_fd = k->pty ? k->pty_slave : out[1],
        .stderr_fd = k->pty ? k->pty_slave : err[1],
        .path = path,
        .envp = envp,
        .cwd = k->c->target->home,
        .cwd_or_root = true,
    };

    return spawn_process(argv, &o, ret_pid, ret_fail);
}

static int
chan_start(struct chan *k, enum chan_kind kind, const char *cmd)
{
    struct conn *c = k->c;
    const char *force = key_opts(k)->force_command;
    const char *shell;
    const char *run = force != NULL ? force : cmd;
    const char *path = NULL;
    char argv0[PATH_MAX + 2];
    char *argv[4] = {NULL};
    char tty[128];
    struct envv env;
    struct spawn_failure fail;
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    int r;
    pid_t pid;

    if (k->started || !c->dropped || c->target == NULL) {
        return -1;
    }
    if (c->revoked_keep) {
        audit("session refused for '%s' from %s port %u: its key was revoked "
              "(AIRLOCK_SSH_REVOKE_SESSIONS=no keeps only what was open)",
              san(c->user),
              c->p->peer,
              c->p->peer_port);
        return -1;
    }
    shell = session_pick_shell(c->target->shell);
    path = shell;
    if (shell != c->target->shell && strcmp(shell, c->target->shell) != 0) {
        log_info("user '%s' has shell '%s', using /bin/sh",
                 c->target->name,
                 san(c->target->shell));
    }
    if (kind == KIND_SFTP && force == NULL) {
        if (access(c->cfg->sftp_server, X_OK) < 0) {
            /* Accept the request and end the channel with a message and
             * status 1: the client then shows why, instead of a bare
             * "subsystem request failed". */
            static const char msg[] =
                "airlock: SFTP is not available in this container (no "
                "sftp-server; Debian: apt-get install openssh-sftp-server)\n";
            audit("sftp refused for '%s': '%s' not found",
                  san(c->user),
                  c->cfg->sftp_server);
            (void)ssh_channel_write_stderr(k->ch, msg, sizeof(msg) - 1);
            snprintf(k->desc, sizeof(k->desc), "subsystem sftp (missing)");
            chan_end_unstarted(k, kind, 1);
            return 0;
        }
        path = c->cfg->sftp_server;
        argv[0] = (char *)"sftp-server";
    } else if (run != NULL) {
        argv[0] = (char *)shell;
        argv[1] = (char *)"-c";
        argv[2] = (char *)run;
    } else {
        /* A login shell: argv[0] is "-sh". */
        const char *base = strrchr(shell, '/') + 1;
        snprintf(argv0, sizeof(argv0), "-%s", base);
        argv[0] = argv0;
    }
    tty[0] = '\0';
    if (k->pty && ttyname_r(k->pty_slave, tty, sizeof(tty)) != 0) {
        tty[0] = '\0';
    }
    if (build_env(k,
                  &env,
                  shell,
                  force != NULL ? cmd : NULL,
                  tty[0] ? tty : NULL) < 0) {
        envv_free(&env);
        return -1;
    }
    /* Before anything runs: with AIRLOCK_SSH_RECORD_REQUIRED=yes a
     * session that cannot be recorded does not start. A forced command
     * run for an sftp request is recorded as the exec it is. */
    if (rec_open(k,
                 kind == KIND_SFTP && force != NULL ? KIND_EXEC : kind,
                 path,
                 run) < 0) {
        envv_free(&env);
        return -1;
    }
    if (!k->pty) {
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
            pipe2(err, O_CLOEXEC) < 0) {
            r = -errno;
            goto fail;
        }
    }
    snprintf(k->desc,
             sizeof(k->desc),
             "%s",
             kind == KIND_SFTP ? "subsystem sftp"
             : run != NULL     ? san(run)
                               : "login shell");
    r = chan_spawn(k, path, argv, env.v, in, out, err, &pid, &fail);
    if (r < 0 && fail.err == 0) {
        goto fail; /* fork itself failed: the request fails */
    }
    envv_free(&env);
    if (r < 0) {
        /* The shell (or sftp-server) could not be run: the session
         * reports 126 or 127 as a shell would, and the log says why. */
        log_error("session %u of '%s': cannot run '%s': %s (status %d)",
                  k->id,
                  san(c->user),
                  san(path),
                  strerror(fail.err),
                  fail.status);
        for (int i = 0; i < 2; i++) {
            close_fd(&in[i]);
            close_fd(&out[i]);
            close_fd(&err[i]);
        }
        chan_end_unstarted(k, kind, fail.status);
        return 0;
    }
    k->pid = pid;
    k->started = true;
    k->kind = kind;
    k->start_ms = now_ms();
    if (k->pty) {
        close_fd(&k->pty_slave);
        k->in_fd = dup(k->out_fd);
        k->err_eof = true;
        if (k->in_fd < 0) {
            k->in_eof = true;
        } else {
            (void)fd_set_cloexec(k->in_fd);
        }
    } else {
        (void)close(in[0]);
        (void)close(out[1]);
        (void)close(err[1]);
        k->in_fd = in[1];
        k->out_fd = out[0];
        k->err_fd = err[0];
        set_nonblock(k->in_fd);
        set_nonblock(k->out_fd);
        set_nonblock(k->err_fd);
    }
    audit("session %u start for '%s' from %s port %u: %s%s%s, %s%s%s%s",
          k->id,
          san(c->user),
          c->p->peer,
          c->p->peer_port,
          kind == KIND_SHELL  ? "shell"
          : kind == KIND_EXEC ? "exec"
                              : "subsystem",
          force != NULL ? " (forced command)" : "",
          k->pty ? " with pty" : "",
          k->desc,
          k->rec.fd >= 0 ? ", recording '" : "",
          k->rec.fd >= 0 ? k->rec.name : "",
          k->rec.fd >= 0 ? "'" : "");
    return 0;
fail:
    log_errno(LOG_LEVEL_ERROR,
              r,
              "starting a session for '%s'",
              c->target->name);
    envv_free(&env);
    record_close(&k->rec);
    for (int i = 0; i < 2; i++) {
        close_fd(&in[i]);
        close_fd(&out[i]);
        close_fd(&err[i]);
    }
    return -1;
}

/* ---- channel callbacks ---------------------------------------------- */

/* Client data for the child's stdin. Only what the pipe takes now is
 * consumed; libssh keeps the rest (see IN_STAGE_MAX) and does not
 * re-open the window for it. data always starts at the oldest byte
 * libssh holds, so writing it directly is in order only while nothing
 * older waits in the staging buffer. */
static int
cb_data(ssh_session s,
        ssh_channel ch,
        void *data,
        uint32_t len,
        int is_stderr,
        void *ud)
{
    struct chan *k = ud;
    size_t used = 0;

    (void)s;
    (void)ch;
    if (is_stderr || k->client_closed) {
        return (int)len;
    }
    touch(k->c);
    if (k->started && k->in_fd < 0) {
        return (int)len; /* the child closed its stdin: drop */
    }
    if (len > IN_LIBSSH_MAX) {
        if (k->c->violation == NULL) {
            k->c->violation = "client ignored the channel window";
        }
        k->lib_held = len;
        k->in_pending = true;
        return 0;
    }
    if (k->in_fd >= 0 && k->in_len == 0) {
        ssize_t w = write(k->in_fd, data, len);
        if (w > 0) {
            used = (size_t)w;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            close_fd(&k->in_fd);
            return (int)len;
        }
    }
    k->bytes_in += used;
    if (used > 0) {
        (void)rec_data(k, RECORD_INPUT, data, used);
    }
    k->lib_held = len - used;
    k->in_pending = k->lib_held > 0;
    return (int)used;
}

static void
cb_eof(ssh_session s, ssh_channel ch, void *ud)
{
    struct chan *k = ud;

    (void)s;
    (void)ch;
    k->in_eof = true;
}

static void
cb_close(ssh_session s, ssh_channel ch, void *ud)
{
    struct chan *k = ud;

    (void)s;
    (void)ch;
    k->client_closed = true;
}

static void
cb_signal(ssh_session s, ssh_channel ch, const char *signal, void *ud)
{
    struct chan *k = ud;
    int sig = session_signal_number(signal);

    (void)s;
    (void)ch;
    touch(k->c);
    if (sig > 0 && k->started && !k->reaped) {
        (void)kill(-k->pid, sig);
    }
}

static int
cb_pty(ssh_session s,
       ssh_channel ch,
       const char *term,
       int width,
       int height,
       int pxwidth,
       int pxheight,
       void *ud)
{
    struct chan *k = ud;
    int master = -1, slave = -1;

    (void)s;
    (void)ch;
    touch(k->c);
    if (k->started || k->pty) {
        return -1;
    }
    if (key_opts(k)->no_pty) {
        audit("pty refused for '%s': key has no-pty", san(k->c->user));
        return -1;
    }
    if (!session_term_valid(term)) {
        return -1;
    }
    k->ws.ws_col = (unsigned short)(width > 0 && width < 10000 ? width : 80);
    k->ws.ws_row = (unsigned short)(height > 0 && height < 10000 ? height : 24);
    k->ws.ws_xpixel =
        (unsigned short)(pxwidth > 0 && pxwidth < 65536 ? pxwidth : 0);
    k->ws.ws_ypixel =
        (unsigned short)(pxheight > 0 && pxheight < 65536 ? pxheight : 0);
    if (openpty(&master, &slave, NULL, NULL, &k->ws) < 0) {
        log_errno(LOG_LEVEL_WARN, -errno, "openpty");
        return -1;
    }
    (void)fd_set_cloexec(master);
    (void)fd_set_cloexec(slave);
    set_nonblock(master);
    strcpy(k->term, term);
    k->out_fd = master;
    k->pty_slave = slave;
    k->pty = true;
    return 0;
}

static int
cb_window_change(ssh_session s,
                 ssh_channel ch,
                 int width,
                 int height,
                 int pxwidth,
                 int pxheight,
                 void *ud)
{
    struct chan *k = ud;
    struct winsize ws = {
        .ws_col = (unsigned short)(width > 0 && width < 10000 ? width : 80),
        .ws_row = (unsigned short)(height > 0 && height < 10000 ? height : 24),
        .ws_xpixel =
            (unsigned short)(pxwidth > 0 && pxwidth < 65536 ? pxwidth : 0),
        .ws_ypixel =
            (unsigned short)(pxheight > 0 && pxheight < 65536 ? pxheight : 0),
    };

    (void)s;
    (void)ch;
    touch(k->c);
    if (!k->pty || k->out_fd < 0) {
        return -1;
    }
    if (k->rec.fd >= 0) {
        const char *why = NULL;
        int e = record_resize(&k->rec, ws.ws_col, ws.ws_row, &why);
        if (e < 0) {
            rec_failed(k, e, why);
            return -1;
        }
    }
    return ioctl(k->out_fd, TIOCSWINSZ, &ws) < 0 ? -1 : 0;
}

static int
cb_env(ssh_session s,
       ssh_channel ch,
       const char *name,
       const char *value,
       void *ud)
{
    struct chan *k = ud;
    const char *why;
    char *a;

    (void)s;
    (void)ch;
    touch(k->c);
    why = k->started                   ? "the command has started"
          : k->ncenv >= ENV_CLIENT_MAX ? "too many variables"
                                       : env_client_refusal(name, value);
    if (why != NULL) {
        /* Only a failure goes back (SSH has no reason field there), so
         * the reason is logged; a client looping on refused requests
         * gets four lines per channel, not a flood. */
        if (k->env_refused++ < 4) {
            log_info("env request '%s' refused for '%s': %s",
                     san(name),
                     san(k->c->user),
                     why);
        }
        return -1;
    }
    if (asprintf(&a, "%s=%s", name, value) < 0) {
        return -1;
    }
    k->cenv[k->ncenv++] = a;
    return 0;
}

static int
cb_shell(ssh_session s, ssh_channel ch, void *ud)
{
    (void)s;
    (void)ch;
    touch(((struct chan *)ud)->c);
    return chan_start(ud, KIND_SHELL, NULL) == 0 ? 0 : -1;
}

static int
cb_exec(ssh_session s, ssh_channel ch, const char *command, void *ud)
{
    (void)s;
    (void)ch;
    touch(((struct chan *)ud)->c);
    return chan_start(ud, KIND_EXEC, command) == 0 ? 0 : -1;
}

static int
cb_subsystem(ssh_session s, ssh_channel ch, const char *name, void *ud)
{
    struct chan *k = ud;

    (void)s;
    (void)ch;
    touch(k->c);
    if (strcmp(name, "sftp") != 0) {
        audit("subsystem '%s' refused for '%s'", san(name), san(k->c->user));
        return -1;
    }
    return chan_start(k, KIND_SFTP, NULL) == 0 ? 0 : -1;
}

/* A channel slot with its callbacks set; NULL when all slots are taken
 * (logged) or on allocation failure. ch is freed on failure. */
static struct chan *
chan_new(struct conn *c, ssh_channel ch, bool session_kind)
{
    struct chan *k;
    unsigned slot;

    for (slot = 0; slot < SSHD_MAX_CHANNELS; slot++) {
        if (c->chans[slot] == NULL) {
            break;
        }
    }
    if (slot == SSHD_MAX_CHANNELS) {
        audit("%s channel refused for '%s': already %u open",
              session_kind ? "session" : "forwarding",
              san(c->user),
              SSHD_MAX_CHANNELS);
        ssh_channel_free(ch);
        return NULL;
    }
    k = calloc(1, sizeof(*k));
    if (k == NULL) {
        ssh_channel_free(ch);
        return NULL;
    }
    k->ch = ch;
    k->c = c;
    k->id = next_chan_id++;
    k->pty_slave = k->in_fd = k->out_fd = k->err_fd = -1;
    k->rec.fd = -1;
    k->cb.userdata = k;
    k->cb.channel_data_function = cb_data;
    k->cb.channel_eof_function = cb_eof;
    k->cb.channel_close_function = cb_close;
    if (session_kind) {
        k->cb.channel_signal_function = cb_signal;
        k->cb.channel_pty_request_function = cb_pty;
        k->cb.channel_shell_request_function = cb_shell;
        k->cb.channel_pty_window_change_function = cb_window_change;
        k->cb.channel_exec_request_function = cb_exec;
        k->cb.channel_env_request_function = cb_env;
        k->cb.channel_subsystem_request_function = cb_subsystem;
    }
    ssh_callbacks_init(&k->cb);
    if (ssh_set_channel_callbacks(k->ch, &k->cb) != SSH_OK) {
        ssh_channel_free(k->ch);
        free(k);
        return NULL;
    }
    c->chans[slot] = k;
    c->nchans++;
    touch(c);
    return k;
}

ssh_channel
session_open(ssh_session session, void *userdata)
{
    struct conn *c = userdata;
    ssh_channel ch;
    struct chan *k;

    if (!c->authenticated || !c->dropped) {
        return NULL;
    }
    /* A revoked key keeps at most what was open (revoked_keep). */
    if (c->revoked_keep) {
        audit("channel refused for '%s' from %s port %u: its key was revoked "
              "(AIRLOCK_SSH_REVOKE_SESSIONS=no keeps only what was open)",
              san(c->user),
              c->p->peer,
              c->p->peer_port);
        return NULL;
    }
    ch = ssh_channel_new(session);
    if (ch == NULL) {
        return NULL;
    }
    k = chan_new(c, ch, true);
    return k != NULL ? k->ch : NULL;
}

/* ---- local port forwarding (ssh -L) ---------------------------------- */

/* Connects to host:port with a bounded wait; a socket fd or -errno. */
static int
forward_connect(const char *host, unsigned port)
{
    struct addrinfo hints, *res = NULL, *ai;
    char serv[16];
    int fd = -1, r = -EHOSTUNREACH;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    snprintf(serv, sizeof(serv), "%u", port);
    if (getaddrinfo(host, serv, &hints, &res) != 0) {
        return -EHOSTUNREACH;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        struct pollfd q;
        int err = 0;
        socklen_t len = sizeof(err);

        fd = socket(ai->ai_family,
                    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
            errno != EINPROGRESS) {
            r = -errno;
            close_fd(&fd);
            continue;
        }
        q.fd = fd;
        q.events = POLLOUT;
        if (poll(&q, 1, 5000) == 1 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
            break;
        }
        r = err != 0 ? -err : -ETIMEDOUT;
        close_fd(&fd);
    }
    freeaddrinfo(res);
    return fd >= 0 ? fd : r;
}

/* Messages no callback took: direct-tcpip opens when forwarding is on;
 * everything else (global requests such as tcpip-forward, other channel
 * types, other auth methods) gets libssh's default refusal. */
int
session_message(ssh_session session, ssh_message msg, void *userdata)
{
    struct conn *c = userdata;
    const struct keys_options *o;
    const char *host;
    unsigned port;
    ssh_channel ch;
    struct chan *k;
    int fd;

    (void)session;
    if (ssh_message_type(msg) != SSH_REQUEST_CHANNEL_OPEN ||
        ssh_message_subtype(msg) != SSH_CHANNEL_DIRECT_TCPIP ||
        !c->authenticated || !c->dropped || c->revoked_keep) {
        return 1;
    }
    o = &c->matched.entries[0].opts;
    host = ssh_message_channel_request_open_destination(msg);
    port = (unsigned)ssh_message_channel_request_open_destination_port(msg);
    if (host == NULL) {
        return 1;
    }
    if (!c->cfg->tcp_forwarding || o->no_port_forwarding ||
        !keys_permitopen_allows(o, host, port)) {
        audit("port forwarding to %s port %u refused for '%s': %s",
              san(host),
              port,
              san(c->user),
              !c->cfg->tcp_forwarding ? "AIRLOCK_SSH_TCP_FORWARDING is off"
              : o->no_port_forwarding ? "key has no-port-forwarding"
                                      : "not in permitopen");
        return 1;
    }
    fd = forward_connect(host, port);
    if (fd < 0) {
        log_errno(LOG_LEVEL_INFO,
                  fd,
                  "forwarding to '%s' port %u",
                  san(host),
                  port);
        return 1;
    }
    ch = ssh_message_channel_request_open_reply_accept(msg);
    if (ch == NULL) {
        (void)close(fd);
        return 1;
    }
    k = chan_new(c, ch, false);
    if (k == NULL) {
        (void)close(fd);
        return 0;
    }
    k->kind = KIND_FORWARD;
    k->started = true;
    k->reaped = true; /* no process behind it */
    k->out_fd = fd;
    k->in_fd = dup(fd);
    k->err_eof = true;
    if (k->in_fd < 0) {
        k->in_eof = true;
    } else {
        (void)fd_set_cloexec(k->in_fd);
    }
    k->start_ms = now_ms();
    snprintf(k->desc, sizeof(k->desc), "%s port %u", san(host), port);
    audit("forwarding %u for '%s' from %s port %u to %s",
          k->id,
          san(c->user),
          c->p->peer,
          c->p->peer_port,
          k->desc);
    return 0;
}

/* ---- the pump ------------------------------------------------------- */

/* Which fd of which channel each pollfd entry stands for. */
static struct {
    struct chan *k;
    int which; /* 0 stdin (POLLOUT), 1 stdout, 2 stderr */
} poll_map[3 * SSHD_MAX_CHANNELS];

unsigned
session_pollfds(struct conn *c, struct pollfd *pfd, unsigned max)
{
    unsigned n = 0;

    for (unsigned i = 0; i < SSHD_MAX_CHANNELS; i++) {
        struct chan *k = c->chans[i];
        uint32_t win;

        if (k == NULL || !k->started || k->finished || k->client_closed) {
            continue;
        }
        win = ssh_channel_window_size(k->ch);
        /* Client data waits in the staging buffer: its drain on POLLOUT
         * is what lets session_pull take more from libssh. */
        if (k->in_fd >= 0 && k->in_len > 0 && n < max) {
            poll_map[n].k = k;
            poll_map[n].which = 0;
            pfd[n].fd = k->in_fd;
            pfd[n++].events = POLLOUT;
        }
        /* A closed window means no reading: the child blocks on its full
         * pipe, which is the back-pressure we want. The window adjust
         * wakes the poll on the SSH socket. */
        if (win > 0 && k->out_fd >= 0 && !k->out_eof && n < max) {
            poll_map[n].k = k;
            poll_map[n].which = 1;
            pfd[n].fd = k->out_fd;
            pfd[n++].events = POLLIN;
        }
        if (win > 0 && k->err_fd >= 0 && !k->err_eof && n < max) {
            poll_map[n].k = k;
            poll_map[n].which = 2;
            pfd[n].fd = k->err_fd;
            pfd[n++].events = POLLIN;
        }
    }
    return n;
}

/* Writes what the pipe takes from the staging buffer. */
static void
flush_stdin(struct chan *k)
{
    ssize_t w;

    if (k->in_fd < 0 || k->in_len == 0) {
        return;
    }
    w = write(k->in_fd, k->inbuf + k->in_off, k->in_len);
    if (w > 0) {
        k->in_off += (size_t)w;
        k->in_len -= (size_t)w;
    } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        close_fd(&k->in_fd);
        k->in_len = 0;
    }
    if (k->in_len == 0) {
        k->in_off = 0;
    }
}

/* Moves at most one window's worth from a child fd to the channel.
 * Returns false at EOF. */
static bool
pump_out(struct chan *k, int which)
{
    static unsigned char buf[PUMP_CHUNK];
    int fd = which == 1 ? k->out_fd : k->err_fd;
    uint32_t win = ssh_channel_window_size(k->ch);
    size_t want = win < sizeof(buf) ? win : sizeof(buf);
    ssize_t r;

    if (want == 0 || fd < 0) {
        return true;
    }
    r = read(fd, buf, want);
    if (r > 0) {
        int w;
        /* Recorded before it is sent: with RECORD_REQUIRED=yes nothing
         * unrecorded reaches the client. */
        if (!rec_data(k,
                      which == 1 ? RECORD_STDOUT : RECORD_STDERR,
                      buf,
                      (size_t)r)) {
            return true;
        }
        w = which == 1 ? ssh_channel_write(k->ch, buf, (uint32_t)r)
                       : ssh_channel_write_stderr(k->ch, buf, (uint32_t)r);
        if (w < 0) {
            k->client_closed = true;
        } else {
            k->bytes_out += (uint64_t)r;
            touch(k->c);
        }
        return true;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
        return true;
    }
    /* 0 is EOF on a pipe; a pty master reports EIO once the slave side is
     * closed by every process. */
    return false;
}

void
session_handle(struct conn *c, struct pollfd *pfd, unsigned n)
{
    (void)c;
    for (unsigned i = 0; i < n; i++) {
        struct chan *k = poll_map[i].k;

        if (pfd[i].revents == 0 || k->finished || k->client_closed) {
            continue;
        }
        if (poll_map[i].which == 0) {
            flush_stdin(k);
        } else if (!pump_out(k, poll_map[i].which)) {
            if (poll_map[i].which == 1) {
                k->out_eof = true;
                if (k->pty) {
                    close_fd(&k->in_fd);
                }
                close_fd(&k->out_fd);
            } else {
                k->err_eof = true;
                close_fd(&k->err_fd);
            }
        }
    }
}

/* Moves client data libssh still holds into the staging buffer once the
 * buffer is empty, all of it or IN_STAGE_MAX at a time (see
 * IN_STAGE_MAX for why never less). libssh holds bytes only when the
 * data callback saw them, so lib_held is exact and the read below never
 * waits for packets (it returns at once when libssh holds data). */
void
session_pull(struct conn *c)
{
    for (unsigned i = 0; i < SSHD_MAX_CHANNELS; i++) {
        struct chan *k = c->chans[i];
        int r;

        if (k == NULL || !k->in_pending || k->client_closed ||
            k->lib_held > IN_LIBSSH_MAX) {
            continue;
        }
        if (k->started && k->in_fd < 0) {
            /* The child closed its stdin: drop what libssh still holds,
             * so the window reopens and the client is never stuck. */
            unsigned char scratch[4096];
            int guard = 16;
            while (guard-- > 0 && ssh_channel_read_nonblocking(k->ch,
                                                               scratch,
                                                               sizeof(scratch),
                                                               0) > 0) {
            }
            k->in_pending = guard < 0;
            k->lib_held = 0;
            continue;
        }
        if (!k->started) {
            continue; /* kept by libssh until the command runs */
        }
        flush_stdin(k);
        if (k->in_len > 0) {
            continue;
        }
        if (k->inbuf == NULL) {
            k->inbuf = malloc(IN_STAGE_MAX);
            if (k->inbuf == NULL) {
                continue; /* libssh keeps it; tried again next round */
            }
        }
        r = ssh_channel_read_nonblocking(k->ch, k->inbuf, IN_STAGE_MAX, 0);
        if (r > 0) {
            k->in_off = 0;
            k->in_len = (size_t)r;
            k->bytes_in += (uint64_t)r;
            if (!rec_data(k, RECORD_INPUT, k->inbuf, (size_t)r)) {
                continue; /* the session is being ended */
            }
            k->lib_held = (size_t)r < k->lib_held && r == (int)IN_STAGE_MAX
                              ? k->lib_held - (size_t)r
                              : 0;
            flush_stdin(k);
        } else {
            k->lib_held = 0; /* nothing (0), EOF or an error */
        }
        k->in_pending = k->lib_held > 0;
    }
}

void
session_reap(struct conn *c)
{
    int st;
    pid_t pid;

    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (unsigned i = 0; i < SSHD_MAX_CHANNELS; i++) {
            struct chan *k = c->chans[i];
            if (k != NULL && k->started && !k->reaped && k->pid == pid) {
                k->reaped = true;
                k->wstatus = st;
            }
        }
    }
}

static void
chan_send_exit(struct chan *k)
{
    int st = k->wstatus;
    char result[64];

    if (k->kind == KIND_FORWARD) {
        (void)ssh_channel_send_eof(k->ch);
        (void)ssh_channel_close(k->ch);
        audit("forwarding %u of '%s' to %s closed, %llu bytes in, %llu bytes "
              "out",
              k->id,
              san(k->c->user),
              k->desc,
              (unsigned long long)k->bytes_in,
              (unsigned long long)k->bytes_out);
        return;
    }

    if (WIFSIGNALED(st)) {
        const char *name = session_signal_name(WTERMSIG(st));
        if (name != NULL) {
            (void)ssh_channel_request_send_exit_signal(k->ch,
                                                       name,
                                                       WCOREDUMP(st) ? 1 : 0,
                                                       "",
                                                       "");
        } else {
            (void)ssh_channel_request_send_exit_status(k->ch,
                                                       128 + WTERMSIG(st));
        }
        snprintf(result, sizeof(result), "signal %d", WTERMSIG(st));
    } else {
        (void)ssh_channel_request_send_exit_status(k->ch, WEXITSTATUS(st));
        snprintf(result, sizeof(result), "exit status %d", WEXITSTATUS(st));
    }
    (void)ssh_channel_send_eof(k->ch);
    (void)ssh_channel_close(k->ch);
    audit("session %u end for '%s' from %s port %u: %s, %llu ms, %llu bytes "
          "in, %llu bytes out",
          k->id,
          san(k->c->user),
          k->c->p->peer,
          k->c->p->peer_port,
          result,
          (unsigned long long)(now_ms() - k->start_ms),
          (unsigned long long)k->bytes_in,
          (unsigned long long)k->bytes_out);
}

static void
chan_free(struct conn *c, unsigned slot)
{
    struct chan *k = c->chans[slot];

    /* Callbacks first: libssh must never call into freed userdata. */
    ssh_remove_channel_callbacks(k->ch, &k->cb);
    if (!k->finished && ssh_channel_is_open(k->ch)) {
        (void)ssh_channel_close(k->ch);
    }
    ssh_channel_free(k->ch);
    close_fd(&k->in_fd);
    close_fd(&k->out_fd);
    close_fd(&k->err_fd);
    close_fd(&k->pty_slave);
    for (unsigned i = 0; i < k->ncenv; i++) {
        free(k->cenv[i]);
    }
    free(k->inbuf);
    record_close(&k->rec);
    free(k);
    c->chans[slot] = NULL;
    c->nchans--;
}

/* Stops the session's process group: SIGHUP and SIGCONT now, SIGKILL
 * after HUP_GRACE_MS (group_stop_tick). Only while the leader is our
 * unreaped child: then its pid, which names the group, cannot have been
 * reused. Returns the next deadline. */
static uint64_t
chan_stop(struct chan *k, uint64_t now, const char *why)
{
    if (!k->started || k->reaped || k->pid <= 0) {
        return DEADLINE_NONE;
    }
    if (k->stop.state == GROUP_STOP_IDLE) {
        (void)group_stop_begin(&k->stop, k->pid, SIGHUP, now, HUP_GRACE_MS);
        audit("session %u of '%s' hung up: %s", k->id, san(k->c->user), why);
    } else if (k->stop.state == GROUP_STOP_SIGNALLED &&
               now >= k->stop.kill_at) {
        audit("session %u of '%s' still running %u ms after SIGHUP, "
              "sending SIGKILL",
              k->id,
              san(k->c->user),
              HUP_GRACE_MS);
    }
    return group_stop_tick(&k->stop, now);
}

uint64_t
session_progress(struct conn *c)
{
    uint64_t now = now_ms();
    uint64_t next = DEADLINE_NONE;

    for (unsigned i = 0; i < SSHD_MAX_CHANNELS; i++) {
        struct chan *k = c->chans[i];

        if (k == NULL) {
            continue;
        }
        /* Client EOF reaches the child once what we hold is written; a
         * pty cannot be half-closed, so there EOF is left to the shell. */
        if (k->in_eof && !k->pty && k->in_len == 0 && !k->in_pending &&
            k->in_fd >= 0) {
            if (k->kind == KIND_FORWARD) {
                (void)shutdown(k->in_fd, SHUT_WR);
            }
            close_fd(&k->in_fd);
        }
        /* With a pty the shell's exit does not always close the slave
         * (background jobs may hold it): drain what is there, then stop. */
        if (k->pty && k->reaped && !k->out_eof && !k->client_closed &&
            ssh_channel_window_size(k->ch) > 0) {
            int guard = 64;
            while (guard-- > 0 && k->out_fd >= 0) {
                struct pollfd q = {k->out_fd, POLLIN, 0};
                if (poll(&q, 1, 0) <= 0 || !(q.revents & POLLIN) ||
                    !pump_out(k, 1)) {
                    break;
                }
            }
            k->out_eof = true;
            close_fd(&k->in_fd);
            close_fd(&k->out_fd);
        }
        if (k->started && k->reaped && k->out_eof && k->err_eof &&
            !k->finished && !k->client_closed) {
            chan_send_exit(k);
            k->finished = true;
        }
        if (k->client_closed) {
            next =
                deadline_min(next,
                             chan_stop(k, now, "channel closed by the client"));
        } else if (k->rec_abort) {
            next =
                deadline_min(next, chan_stop(k, now, "its recording failed"));
        }
        if ((k->finished || k->client_closed) && (!k->started || k->reaped)) {
            if (!k->finished && k->started) {
                audit("session %u of '%s' closed by the client after %llu ms",
                      k->id,
                      san(c->user),
                      (unsigned long long)(now - k->start_ms));
            }
            chan_free(c, i);
        }
    }
    return next;
}

/* The one way a connection's sessions end when the connection does:
 * every running session's group gets SIGHUP (and SIGCONT), SIGKILL
 * after HUP_GRACE_MS, and the connection waits, bounded, until each
 * leader is reaped. Our ends of the pipes and ptys are closed first, so
 * a session blocked on one wakes up (EOF, EPIPE, or the pty hang-up).
 *
 * What this cannot reach: a process that left its session's group
 * (setsid, setpgid) or outlived its leader (nohup cmd &, after the
 * shell exited). Such a process keeps running as the session user,
 * with that user's rights and nothing more, reparented to airlock
 * (PID 1), until it exits or the container stops. SECURITY.md says so. */
void
session_stop_all(struct conn *c, const char *why)
{
    uint64_t start = now_ms();
    uint64_t end = start + HUP_GRACE_MS + KILL_REAP_MS;
    unsigned left, killed = 0;

    for (unsigned i = 0; i < SSHD_MAX_CHANNELS; i++) {
        struct chan *k = c->chans[i];

        if (k == NULL) {
            continue;
        }
        close_fd(&k->in_fd);
        close_fd(&k->out_fd);
        close_fd(&k->err_fd);
        close_fd(&k->pty_slave);
        (void)chan_stop(k, start, why);
    }
    for (;;) {
        struct pollfd pfd = {c->sigfd, POLLIN, 0};
        struct signalfd_siginfo si;
        uint64_t now, next = end;

        /* SIGCHLD is blocked and read from the signalfd; whatever else
         * arrives now (SIGTERM, SIGUSR1) asks for what is under way. */
        while (read(c->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        }
        session_reap(c);
        now = now_ms();
        left = 0;
        for (unsigned i = 0; i < SSHD_MAX_CHANNELS; i++) {
            struct chan *k = c->chans[i];

            if (k != NULL && k->started && !k->reaped && k->pid > 0) {
                left++;
                next = deadline_min(next, chan_stop(k, now, why));
            }
        }
        if (left == 0 || now >= end) {
            break;
        }
        if (poll(&pfd, 1, deadline_timeout(now, next)) < 0 && errno != EINTR) {
            /* Cannot wait for SIGCHLD: fall back to short sleeps, still
             * bounded by end. */
            struct timespec ts = {0, 20 * 1000000L};
            (void)nanosleep(&ts, NULL);
        }
    }
    for (unsigned i = 0; i < SSHD_MAX_CHANNELS; i++) {
        killed +=
            c->chans[i] != NULL && c->chans[i]->stop.state == GROUP_STOP_KILLED;
    }
    if (left > 0) {
        log_warn("%u session process(es) of '%s' not reaped %u ms after "
                 "SIGKILL; leaving them to PID 1",
                 left,
                 san(c->user),
                 KILL_REAP_MS);
    } else if (killed > 0 || now_ms() - start > 100) {
        log_info("sessions of '%s' stopped in %llu ms",
                 san(c->user),
                 (unsigned long long)(now_ms() - start));
    }
}
