/* Delays that double from a minimum up to a cap: service restarts, and
 * fork() retried under a pids limit (the app, startup scripts). One
 * function, pure, so every caller grows its delay by the same rule. */
#ifndef AIRLOCK_COMMON_BACKOFF_H
#define AIRLOCK_COMMON_BACKOFF_H

#include <stdint.h>

/* The delay after last_ms (milliseconds; 0: there was none, this is the
 * first): min_ms first, then twice the last one, never more than max_ms
 * (the cap wins over min_ms if they cross) and never less than min_ms.
 * No overflow for any input. The rule is ours; it keeps what s6-supervise
 * keeps, a floor between two starts so a crash loop cannot spin
 * (s6-supervise(8): at least a second between two launches of ./run),
 * and doubles it so a service that keeps failing costs less and less.
 * Resetting after a run that lasted (service_next_backoff) is the
 * caller's: pass last_ms 0. */
uint64_t backoff_next(uint64_t last_ms, uint64_t min_ms, uint64_t max_ms);

#endif
