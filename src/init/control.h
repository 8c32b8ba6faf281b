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

/* PID 1 side: accepts one pending client and reads its request into req
 * (NUL-terminated). Returns the client fd, or -errno (-EAGAIN: nothing
 * pending). Clients that are not root are refused. */
int control_accept(int listen_fd, char *req, size_t size);

/* PID 1 side: sends the reply and closes the client. */
void control_reply(int client_fd, const char *reply, size_t len);

/* Client side: `airlock status [--json]`, `airlock restart NAME` and
 * `airlock wait-ready [NAME] [--timeout SECONDS]` (polls every 100 ms,
 * default 60 s); returns an exit status (0 ok / ready, 1 error reported
 * by PID 1, failed or timed out, 2 usage, 3 not reachable). */
int control_client_main(int argc, char **argv);

#endif
