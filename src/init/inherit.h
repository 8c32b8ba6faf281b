/* File descriptors airlock inherits, for the app: socket activation
 * (systemd's LISTEN_FDS, podman --preserve-fds) hands the container
 * listening sockets at fd 3 and up, and only the app knows what to do
 * with them. They reach the app unchanged; LISTEN_PID, which names the
 * process the fds are for, follows them from airlock to the app (see
 * sd_listen_fds(3)). Services, hooks and startup scripts get none. */
#ifndef AIRLOCK_INIT_INHERIT_H
#define AIRLOCK_INIT_INHERIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Inherited fds kept for the app, at most; more are closed at start. */
#define INHERIT_FDS_MAX    256
#define INHERIT_LISTEN_PID "LISTEN_PID="

struct inherit {
    int fds[INHERIT_FDS_MAX];
    size_t nfds;
    /* The app's environment when LISTEN_PID names airlock: envp's
     * pointers with that entry replaced by listen_pid, whose digits the
     * child writes between fork and exec (pid_slot). NULL otherwise. */
    char **envp;
    char *pid_slot;
    char listen_pid[sizeof(INHERIT_LISTEN_PID) + 24];
};

/* Records every fd above 2 that is open now, so call it before airlock
 * opens any of its own, and marks each close-on-exec, so only a child
 * that asks for them (the app) gets them. Reads /proc/self/fd, or probes
 * fds 3 to 1023 without /proc. More than INHERIT_FDS_MAX: the rest are
 * closed and *ret_dropped says how many. 0 or -errno. */
int inherit_record(struct inherit *in, size_t *ret_dropped);

/* true when value, a LISTEN_PID, is exactly pid in decimal. */
bool inherit_names_pid(const char *value, pid_t pid);

/* Prepares in->envp and in->pid_slot when envp has LISTEN_PID=self; the
 * array is allocated once (the strings stay envp's). Returns 1 when
 * prepared, 0 when there is nothing to rewrite, -ENOMEM. */
int inherit_prepare_env(struct inherit *in, char *const *envp, pid_t self);

/* Closes the recorded fds: once the app has them, airlock needs none.
 * Closes only what inherit_record found, never an fd airlock opened. */
void inherit_close(struct inherit *in);

#endif
