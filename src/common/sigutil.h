/* Signals: the one table of names, dispositions back to the defaults, and
 * blocking everything into a signalfd. The init's flags, service
 * down-signal files and (later) the SSH side all name signals through
 * sig_from_string / sig_to_string. */
#ifndef AIRLOCK_COMMON_SIGUTIL_H
#define AIRLOCK_COMMON_SIGUTIL_H

#include <signal.h>
#include <stddef.h>

/* The highest signal number the kernel delivers (64 on Linux). */
#define SIG_LAST (NSIG - 1)
/* Enough for "RTMIN+30", "VTALRM" or "64", with the NUL. */
#define SIG_NAME_MAX 16

/* Parses a signal: a name with or without "SIG" and in any case ("TERM",
 * "SIGTERM", "term"), a number from 1 to SIG_LAST, or a real-time signal
 * counted from glibc's SIGRTMIN or back from SIGRTMAX ("RTMIN", "RTMIN+2",
 * "SIGRTMAX-1"). RTMIN+N counts from SIGRTMIN (34 under glibc), not from
 * the kernel's 32: 32 and 33 are glibc's own and have no name, only their
 * numbers. 0 and *ret_sig, or -EINVAL. No allocation, no logging. */
int sig_from_string(const char *s, int *ret_sig);

/* Writes sig's canonical name without "SIG" into buf ("TERM", "RTMIN+2",
 * "RTMAX"; the number for one without a name, e.g. "32") and returns buf,
 * so it can sit in a log call. sig_from_string reads it back to sig.
 * Async-signal-safe. */
const char *sig_to_string(int sig, char *buf, size_t size);

/* Sets every signal but SIGKILL and SIGSTOP to SIG_DFL, including the
 * real-time signals glibc reserves for itself (sigaction() refuses those,
 * yet an ignored one is inherited across exec). Async-signal-safe. */
void signals_reset_default(void);

/* Blocks every signal except those in keep[0..nkeep), and returns a
 * signalfd (non-blocking, close-on-exec) that reads them all, or -errno.
 * Unlike sigprocmask() and sigaddset(), this also covers 32 and 33, which
 * glibc keeps for itself: left unblocked, one sent from outside would
 * kill a process that is not a namespace's PID 1. *ret_old gets the mask
 * as it was, for children to restore. */
int signals_block_all(const int *keep, size_t nkeep, sigset_t *ret_old);

#endif
