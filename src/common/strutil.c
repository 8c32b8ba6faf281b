#include "common/strutil.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

int
parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
    uint64_t v = 0;

    if (s == NULL || *s == '\0') {
        return -EINVAL;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9') {
            return -EINVAL;
        }
        if (v > (max - (uint64_t)(*s - '0')) / 10) {
            return -ERANGE;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *ret = v;
    return 0;
}

int
parse_seconds_ms(const char *s, uint64_t max_ms, uint64_t *ret_ms)
{
    uint64_t whole = 0, frac_ms = 0, scale = 100;
    int digits = 0;

    if (s == NULL || *s == '\0') {
        return -EINVAL;
    }
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        if (whole > (max_ms / 1000) + 1) {
            return -ERANGE;
        }
        whole = whole * 10 + (uint64_t)(*s - '0');
    }
    if (*s == '.') {
        s++;
        for (; *s >= '0' && *s <= '9'; s++, digits++) {
            /* Sub-millisecond digits are accepted and dropped. */
            frac_ms += (uint64_t)(*s - '0') * scale;
            scale /= 10;
        }
    }
    if (*s == 's') {
        s++;
    }
    if (*s != '\0' || digits == 0) {
        return -EINVAL;
    }
    if (whole > max_ms / 1000 || whole * 1000 + frac_ms > max_ms) {
        return -ERANGE;
    }
    *ret_ms = whole * 1000 + frac_ms;
    return 0;
}

int
parse_bool(const char *s, bool *ret)
{
    static const char *const yes[] = {"1", "yes", "true", "on"};
    static const char *const no[] = {"0", "no", "false", "off"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *ret = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *ret = false;
            return 0;
        }
    }
    return -EINVAL;
}

int
copy_string(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);

    if (len >= n) {
        return -ENAMETOOLONG;
    }
    memcpy(dst, src, len + 1);
    return 0;
}
