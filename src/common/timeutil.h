/* CLOCK_MONOTONIC in milliseconds, and deadlines folded into poll timeouts. */
#ifndef AIRLOCK_COMMON_TIMEUTIL_H
#define AIRLOCK_COMMON_TIMEUTIL_H

#include <stdint.h>

#define DEADLINE_NONE UINT64_MAX

uint64_t now_ms(void);

/* poll() timeout for the earliest of two deadlines: -1 for none, 0 when
 * already due, else the milliseconds left (capped at INT32_MAX). */
int deadline_timeout(uint64_t now, uint64_t deadline);

/* The earlier of two deadlines. */
uint64_t deadline_min(uint64_t a, uint64_t b);

#endif
