/* The control socket: `airlock status`, `restart NAME`, `wait-ready` talk to
 * PID 1 over a root-only unix socket, /run/airlock/control.sock. */
#ifndef AIRLOCK_INIT_CONTROL_H
#define AIRLOCK_INIT_CONTROL_H

#include <stddef.h>

/* Under the run dir (AIRLOCK_RUN_DIR, common/path.h). */
#define CONTROL_SOCKET    "/control.sock"
#define CONTROL_REPLY_MAX 16384

/* PID 1 side: creates the listening socket (dir 0700, socket 0600) under
 * AIRLOCK_ROOT; returns the fd or -errno. */
int control_listen(void);

/* How many accepted clients PID 1 holds at once while their requests
 * arrive, and how long each may take to send it (ms). */
#define CONTROL_PENDING_MAX 4
#define CONTROL_REQUEST_MS  1000

/* PID 1 side: accepts one pending client, non-blocking, and checks that
 * it runs as root or as PID 1's own uid (SO_PEERCRED). Returns the client
 * fd, or -errno (-EAGAIN: nothing pending; -EPERM: refused, closed). Its
 * request is read with control_read_request once the fd is readable:
 * PID 1 never waits for a client. */
int control_accept(int listen_fd);

/* PID 1 side: reads the client's request into req (NUL-terminated) without
 * waiting. Returns its length, -EAGAIN when it has not arrived yet, or
 * another -errno (-EPROTO for an empty one). */
int control_read_request(int client_fd, char *req, size_t size);

/* PID 1 side: sends the reply without waiting (one SEQPACKET message; a
 * client that does not read loses it) and closes the client. */
void control_reply(int client_fd, const char *reply, size_t len);

/* Client side: sends one request to PID 1 and reads its answer into
 * reply (NUL-terminated). Returns 0, or 3 when PID 1 cannot be reached
 * (said on stderr). Answers to failed requests start with "error: ". */
int control_request(const char *req, char *reply, size_t size);

/* Client side: `airlock status [--json]`, `airlock restart NAME` and
 * `airlock wait-ready [NAME] [--timeout SECONDS]` (polls every 100 ms,
 * default 60 s); returns an exit status (0 ok / ready, 1 error reported
 * by PID 1, failed or timed out, 2 usage, 3 not reachable). */
int control_client_main(int argc, char **argv);

#endif
