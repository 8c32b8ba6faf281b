/* Signalling every process left in the container at stop. */
#ifndef AIRLOCK_INIT_KILLALL_H
#define AIRLOCK_INIT_KILLALL_H

#include <stdbool.h>
#include <sys/types.h>

/* Sends sig to every process in the container but ourselves: as PID 1 with
 * kill(-1) (kill(2): every process we may signal but init itself, in our
 * PID namespace); otherwise (a subreaper) to each descendant found in
 * /proc. Returns how many were signalled as a subreaper; as PID 1, 1 when
 * at least one was (the kernel does not say how many) and 0 when none was
 * left (ESRCH); or -errno. */
int killall_signal(int sig, bool is_pid1);

/* Tasks on the host from which kill(-1), which walks all of them (about
 * 35 ns each here), costs more than listing the container's /proc first. */
#define KILLALL_BUSY_TASKS 2000

/* Whether loadavg (the text of /proc/loadavg, proc(5): "1 5 15 R/T PID",
 * T the number of tasks on the host) names KILLALL_BUSY_TASKS tasks or
 * more; false for text that does not parse. Pure, for the tests. */
bool killall_host_is_busy(const char *loadavg);

/* True when pid descends from ancestor, following PPid in proc_root (a
 * /proc-like directory, for tests) at most 256 levels up. */
bool killall_descends_from(const char *proc_root, pid_t pid, pid_t ancestor);

/* Reads the parent pid of pid from proc_root/PID/stat; -errno on failure. */
int killall_read_ppid(const char *proc_root, pid_t pid, pid_t *ret_ppid);

#endif
