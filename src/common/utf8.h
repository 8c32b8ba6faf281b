/* UTF-8 validation shared by the writers that must keep text exact. */
#ifndef AIRLOCK_COMMON_UTF8_H
#define AIRLOCK_COMMON_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at p (1 for ASCII, up to 4), reading
 * at most avail bytes; 0 when the bytes there are not one (bad lead byte,
 * missing continuation, overlong form, surrogate, beyond U+10FFFF, as RFC
 * 3629 says). */
size_t utf8_seq_len(const unsigned char *p, size_t avail);

#endif
