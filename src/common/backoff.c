/* Doubling delays with a floor and a cap (backoff.h). */
#include "common/backoff.h"

uint64_t
backoff_next(uint64_t last_ms, uint64_t min_ms, uint64_t max_ms)
{
    uint64_t next;

    if (last_ms == 0) {
        next = min_ms;
    } else if (last_ms >= max_ms / 2) {
        /* Also keeps last_ms * 2 from overflowing. */
        next = max_ms;
    } else {
        next = last_ms * 2;
    }
    if (next < min_ms) {
        next = min_ms;
    }
    return next < max_ms ? next : max_ms;
}
