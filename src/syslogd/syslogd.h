/* The /dev/log collector, run as `airlock syslogd` in its own process. */
#ifndef AIRLOCK_SYSLOGD_SYSLOGD_H
#define AIRLOCK_SYSLOGD_SYSLOGD_H

/* Entry point for `airlock syslogd [ARGS]`; argv[0] is "syslogd".
 * Returns the process exit status. */
int syslogd_main(int argc, char **argv);

#endif
