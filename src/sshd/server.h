/* The SSH server: listener, per-connection processes, sessions. */
#ifndef AIRLOCK_SSHD_SERVER_H
#define AIRLOCK_SSHD_SERVER_H

/* Runs the server until SIGTERM; returns the process exit status. */
int sshd_server_main(int argc, char **argv);

#endif
