/* Checked conversions from text; no logging, no allocation. */
#ifndef AIRLOCK_COMMON_STRUTIL_H
#define AIRLOCK_COMMON_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whole-string unsigned decimal in [0, max]; -EINVAL or -ERANGE. */
int parse_uint(const char *s, uint64_t max, uint64_t *ret);

/* Seconds with an optional fraction ("5", "0.25", "1.5s") into milliseconds,
 * at most max_ms; -EINVAL or -ERANGE. */
int parse_seconds_ms(const char *s, uint64_t max_ms, uint64_t *ret_ms);

/* 1/yes/true/on and 0/no/false/off, any case; -EINVAL otherwise. */
int parse_bool(const char *s, bool *ret);

/* Copies src into dst of size n; -ENAMETOOLONG when it does not fit. */
int copy_string(char *dst, size_t n, const char *src);

#endif
