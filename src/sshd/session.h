/* Small pure helpers of the session code, exposed for unit tests. */
#ifndef AIRLOCK_SSHD_SESSION_H
#define AIRLOCK_SSHD_SESSION_H

#include <stdbool.h>

/* RFC 4254 signal name ("TERM") for a signal number; NULL when the
 * number has no standard name. */
const char *session_signal_name(int sig);
/* Signal number for "TERM" or "SIGTERM" from the allow-list; -1 else. */
int session_signal_number(const char *name);
/* TERM values accepted from a pty request: [A-Za-z0-9._+-], 1..63 bytes. */
bool session_term_valid(const char *term);
/* The shell to run for a passwd shell: /bin/sh for nologin, false,
 * a relative path or a missing file. */
const char *session_pick_shell(const char *shell);
/* Reads the container environment (as root, before the drop). */
int session_load_base_env(void);

#endif
