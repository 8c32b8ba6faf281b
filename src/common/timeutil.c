#include "common/timeutil.h"

#include <stdint.h>
#include <time.h>

uint64_t
now_ms(void)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC cannot fail with a valid clock id and pointer. */
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int
deadline_timeout(uint64_t now, uint64_t deadline)
{
    if (deadline == DEADLINE_NONE) {
        return -1;
    }
    if (deadline <= now) {
        return 0;
    }
    if (deadline - now > INT32_MAX) {
        return INT32_MAX;
    }
    return (int)(deadline - now);
}

uint64_t
deadline_min(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}
