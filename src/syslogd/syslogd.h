/* The /dev/log collector, run as `airlock syslogd` in its own process. */
#ifndef AIRLOCK_SYSLOGD_SYSLOGD_H
#define AIRLOCK_SYSLOGD_SYSLOGD_H

/* Entry point for `airlock syslogd [ARGS]`; argv[0] is "syslogd".
 * Returns the process exit status. */
int syslogd_main(int argc, char **argv);

/* Binds the collector's datagram socket at path (unix(7); mode 0666, as
 * any syslog daemon's /dev/log; parent directories created; a stale
 * socket or a host-style symlink replaced): non-blocking, close-on-exec,
 * with a large receive buffer. PID 1 calls it before the app starts, so
 * that messages logged in the app's first instant queue in the socket
 * until the collector (given the fd with --socket-fd=N) reads them.
 * Returns 0 and *ret_fd, -EADDRINUSE when another daemon listens there,
 * -EEXIST when a file that is no socket is in the way, or -errno. */
int syslogd_bind(const char *path, int *ret_fd);

#endif
