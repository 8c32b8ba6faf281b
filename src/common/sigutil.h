/* Signal dispositions back to the defaults, for PID 1 at start and for
 * children before exec. */
#ifndef AIRLOCK_COMMON_SIGUTIL_H
#define AIRLOCK_COMMON_SIGUTIL_H

/* Sets every signal but SIGKILL and SIGSTOP to SIG_DFL, including the
 * real-time signals glibc reserves for itself (sigaction() refuses those,
 * yet an ignored one is inherited across exec). Async-signal-safe. */
void signals_reset_default(void);

#endif
