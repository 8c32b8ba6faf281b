/* `sv`: runit's sv(8) command line over airlock's control socket, for
 * images built around phusion/baseimage's runit (installed as a link
 * named sv). */
#ifndef AIRLOCK_INIT_SV_H
#define AIRLOCK_INIT_SV_H

#include <stddef.h>

/* The longest wait of start/stop/restart (and -v), in seconds. */
#define SV_WAIT_DEFAULT_S 7
#define SV_WAIT_MAX_S     3600

/* `sv [-v] [-w SEC] status|up|down|restart|start|stop NAME...`, argv[0]
 * being sv. NAME is a service name or its directory (/etc/service/NAME,
 * NAME/log for its logger). status prints one line a service in runit's
 * format; up and down print nothing (with -v they wait and print as
 * start and stop do); start, stop and restart wait up to -w SEC (or
 * $SVWAIT, default 7) seconds for the service to run (a new pid, for
 * restart) or be down, and print "ok: " or "timeout: " and its status.
 * Returns runit's exit status: the number of services that failed (at
 * most 99), 100 for bad usage. */
int sv_main(int argc, char **argv);

/* The service name sv asks PID 1 about for a command-line argument:
 * "/etc/service/web/" -> "web", "/etc/service/web/log" -> "web/log",
 * "web" -> "web". Writes it into out; -ENAMETOOLONG or -EINVAL (empty). */
int sv_service_name(const char *arg, char *out, size_t size);

#endif
