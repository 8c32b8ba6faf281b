/* Session recording: every session (shell, with or without a pty, and
 * exec) is written as an asciicast v2 file
 * (https://docs.asciinema.org/manual/asciicast/v2/): one JSON header
 * line, then one JSON array per event, [seconds, "o"|"i"|"r", "data"].
 *
 * Who does what:
 * - The root listener creates the file, on a request over the authority
 *   socket (authority.h) of a connection that has logged in: it checks
 *   the directory, builds the file name itself from what it knows of the
 *   connection (granted user, pid, time) and writes the header with the
 *   identity it granted (user, key fingerprint, certificate key ID,
 *   source address and port), then passes the open fd back with
 *   SCM_RIGHTS. The connection process
 *   (running as the login user) can append to that one file, nothing
 *   else, and cannot forge the header's identity fields.
 * - The connection process appends the events through a bounded buffer
 *   (struct record), never waiting on the peer; a write error, a full
 *   buffer or the size cap ends the recording (and the caller ends the
 *   session when AIRLOCK_SSH_RECORD_REQUIRED=yes).
 *
 * Wire format on the authority socket (one SOCK_SEQPACKET message each):
 *   request 'R' CHAN \0 WIDTH \0 HEIGHT \0 KIND \0 TERM \0 SHELL \0
 *               COMMAND \0
 *           (CHAN, WIDTH, HEIGHT decimal; KIND "shell" or "exec"; TERM
 *           may be empty; everything is untrusted: numbers are bounded,
 *           strings are only JSON-escaped into the header)
 *   answer  'Y' FILENAME \0 with the file's fd as SCM_RIGHTS ancillary
 *           data, or 'N' REASON \0. */
#ifndef AIRLOCK_SSHD_RECORD_H
#define AIRLOCK_SSHD_RECORD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Default of AIRLOCK_SSH_RECORD_MAX: 64 MiB per session. */
#define RECORD_MAX_DEFAULT ((uint64_t)64 << 20)
/* Bounds of AIRLOCK_SSH_RECORD_MAX (bytes). */
#define RECORD_MAX_MIN   ((uint64_t)4096)
#define RECORD_MAX_LIMIT ((uint64_t)1 << 40)
/* Pending bytes a recording may hold before it gives up: the file must
 * take them faster than the session produces them. */
#define RECORD_BUF_MAX ((size_t)1 << 20)
/* Input of one event at most; longer data is split into several events. */
#define RECORD_CHUNK ((size_t)65536)
/* Longest file name the listener builds (time-user-pid-chan.cast). */
#define RECORD_NAME_MAX 128
/* The longest command kept in a request (and the header). */
#define RECORD_CMD_MAX 4096

/* AIRLOCK_SSH_RECORD_* settings. */
struct record_conf {
    char dir[PATH_MAX]; /* as configured, "" = recording off; used under
                         * AIRLOCK_ROOT (root_path) */
    bool input;         /* AIRLOCK_SSH_RECORD_INPUT: "i" events too */
    bool required;      /* AIRLOCK_SSH_RECORD_REQUIRED: no recording, no
                         * session */
    uint64_t max;       /* AIRLOCK_SSH_RECORD_MAX, bytes per file */
};

/* Parses a byte count: decimal digits with an optional suffix k, M or G
 * (powers of 1024, either case for k). Writes *ret (bytes) and returns
 * 0; -EINVAL when s is not of that form, -ERANGE beyond UINT64_MAX. */
int record_parse_size(const char *s, uint64_t *ret);

/* Fills *rc with the defaults, then reads the AIRLOCK_SSH_RECORD_*
 * variables through get (getenv-like, ud passed on). Returns 0, or
 * -EINVAL with *ret_var naming the variable and *ret_reason (static)
 * saying why. A relative directory is refused. */
int record_conf_load(struct record_conf *rc,
                     const char *(*get)(const char *name, void *ud),
                     void *ud,
                     const char **ret_var,
                     const char **ret_reason);

/* ---- JSON string encoder (pure) ---- */

/* The bytes of a UTF-8 sequence cut by the end of one chunk, carried to
 * the next one of the same stream. Zero-initialise. */
struct record_utf8 {
    unsigned char part[4];
    size_t len;
};

/* Output bytes record_json_escape may write for n input bytes. */
#define RECORD_JSON_MAX(n) (6 * (size_t)(n) + 8)

/* Escapes len bytes of in as the inside of a JSON string (RFC 8259,
 * without the quotes) into out, which must hold RECORD_JSON_MAX(len)
 * bytes; returns the count written (no NUL). Valid UTF-8 is copied as
 * it is; '"', '\\' and control characters (< 0x20, and 0x7f) are
 * escaped; a byte that starts no valid sequence (RFC 3629), or a valid
 * start cut short, becomes one U+FFFD (Unicode's "maximal subpart"). A
 * valid but incomplete sequence at the end of in is kept in *carry and
 * completed by the next call, unless final is true: then it becomes
 * U+FFFD. The output does not depend on where the input was cut into
 * calls. carry may be NULL for a one-shot string (as final). */
size_t record_json_escape(struct record_utf8 *carry,
                          const unsigned char *in,
                          size_t len,
                          bool final,
                          char *out);

/* ---- connection process side ---- */

enum record_stream {
    RECORD_STDOUT = 0, /* "o" */
    RECORD_STDERR,     /* "o" as well: asciicast has one output stream */
    RECORD_INPUT,      /* "i" */
    RECORD_NSTREAMS
};

/* One session's recording. fd < 0: not recording. */
struct record {
    int fd;
    uint64_t start_us; /* CLOCK_MONOTONIC at record_start */
    uint64_t written;  /* bytes in the file and pending, header included */
    uint64_t max;      /* the cap */
    char *buf;         /* RECORD_BUF_MAX, pending bytes */
    size_t len;        /* pending bytes in buf */
    struct record_utf8 carry[RECORD_NSTREAMS];
    char name[RECORD_NAME_MAX];
};

/* What the connection process tells the listener about a session. */
struct record_req {
    unsigned chan;    /* the session number of the audit lines */
    unsigned width;   /* columns, 80 without a pty */
    unsigned height;  /* rows, 24 without a pty */
    const char *kind; /* "shell" or "exec" */
    const char *term; /* "" without a pty */
    const char *shell;
    const char *command; /* "" for a login shell */
};

/* Asks the listener on auth_fd (the authority socket) for a recording
 * file; waits at most timeout_ms for the answer. On success the file's
 * fd (close-on-exec, a regular file, positioned after the header) is in
 * *ret_fd, its name in name (name_size bytes), and 0 is returned. On
 * failure returns -errno with *why (static, or copied into why_buf of
 * why_size bytes from the listener's 'N'): -EPERM refused by the
 * listener, -ETIMEDOUT no answer, -EPROTO a malformed answer. */
int record_request(int auth_fd,
                   const struct record_req *req,
                   int timeout_ms,
                   int *ret_fd,
                   char *name,
                   size_t name_size,
                   char *why_buf,
                   size_t why_size,
                   const char **why);

/* Sets r up to record into fd (taken over: record_close closes it) with
 * a cap of max bytes for the whole file. The header already in the file
 * counts against the cap. Returns 0 or -errno (-ENOMEM: fd is closed). */
int record_start(struct record *r, int fd, const char *name, uint64_t max);

/* Appends an event with len bytes of data from stream s, written as
 * [seconds since record_start, "o" or "i", "escaped data"] — in events of
 * at most RECORD_CHUNK input bytes — and writes what the file takes now.
 * Returns 0, or (the recording is then closed, r->fd is -1) -EFBIG when
 * the cap would be passed (nothing of the event is kept), -ENOBUFS when
 * the pending buffer is full, or the write(2) error (-ENOSPC, -EIO, ...);
 * *why is a static reason for the caller's one log line. Does nothing
 * and returns 0 when r is not recording. */
int record_data(struct record *r,
                enum record_stream s,
                const void *data,
                size_t len,
                const char **why);

/* Appends a window change event [seconds, "r", "COLSxROWS"]; returns as
 * record_data. */
int
record_resize(struct record *r, unsigned cols, unsigned rows, const char **why);

/* Ends the recording: the sequences still carried are written as U+FFFD
 * events, the pending bytes are written (a bounded number of attempts)
 * and the fd is closed. r may be not recording. */
void record_close(struct record *r);

/* ---- listener side ---- */

/* What the listener knows and trusts of a connection asking for a
 * recording. */
struct record_who {
    const char *user;        /* the granted login user */
    const char *fingerprint; /* the granted key's SHA256 fingerprint */
    /* Certificate logins: the certificate's key ID (the header then
     * carries "key_id"); NULL for plain keys. */
    const char *key_id;
    const char *peer; /* source address */
    unsigned port;    /* source port */
    pid_t pid;        /* the connection process */
};

/* Reads one 'R' request from fd and answers it: creates the recording
 * file in rc->dir (under AIRLOCK_ROOT) for the connection who describes,
 * writes its header, and sends its fd, or sends 'N' with the reason.
 * who is NULL for a connection without an active grant: it gets 'N'.
 * Logs one line for every refusal that is not the connection's fault
 * (directory unsafe or unusable, file not created) and one audit line
 * per file created. Returns 0 when the socket stays usable; -EPROTO for
 * a malformed request (the caller kills the process), another -errno
 * when the socket failed. */
int record_serve(int fd,
                 const struct record_conf *rc,
                 const struct record_who *who);

/* Checks the recording directory (opened O_DIRECTORY|O_NOFOLLOW): a
 * directory owned by root or by us, not group/world-writable. Returns
 * its fd (close-on-exec) or -errno with *why (static). For the listener
 * and for the start-up check. */
int record_dir_open(const char *path, const char **why);

/* At start: logs the recording settings, or one warning when the
 * directory is unusable now (it is checked again at every session, so
 * a directory mounted later works; until then sessions are refused with
 * AIRLOCK_SSH_RECORD_REQUIRED=yes, or run unrecorded). Does nothing when
 * recording is off. */
void record_check_at_start(const struct record_conf *rc);

#endif
