/* The listening process: owns the sockets, admits or refuses connections
 * (limits.h), forks one connection process per client, turns their exits
 * into penalties, and closes sessions whose key was revoked. */
#ifndef AIRLOCK_SSHD_LISTENER_H
#define AIRLOCK_SSHD_LISTENER_H

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "keys/keys.h"
#include "sshd/config.h"

/* Binds every configured address; returns how many sockets are open (>0)
 * or -errno when none could be bound. */
int listener_open(const struct sshd_config *cfg, int *fds, unsigned max);

/* Runs the accept loop until SIGTERM/SIGINT (blocked by the caller and
 * delivered through sigfd). watch may be NULL. Returns the exit status. */
int listener_run(const struct sshd_config *cfg,
                 ssh_bind bind,
                 const int *fds,
                 unsigned nfds,
                 int sigfd,
                 struct keys_watch *watch);

#endif
