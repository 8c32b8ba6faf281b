/* Audit trail. Client-controlled bytes (user names, commands, TERM, key
 * comments) are escaped so a line can never be forged or split. */
#include "sshd/audit.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/safeio.h"

size_t
sanitize(char *dst, size_t size, const char *src, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, limit;

    if (size == 0) {
        return 0;
    }
    limit = size - 1 < SANITIZE_MAX ? size - 1 : SANITIZE_MAX;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        bool plain = c >= 0x20 && c < 0x7f && c != '\\' && c != '\'';
        size_t need = plain ? 1 : 4;

        if (o + need > limit) {
            /* Cut on a whole escape and say so. */
            while (o + 3 > limit && o > 0) {
                o--;
            }
            if (o + 3 <= size - 1) {
                memcpy(dst + o, "...", 3);
                o += 3;
            }
            break;
        }
        if (plain) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        }
    }
    dst[o] = '\0';
    return o;
}

const char *
san(const char *s)
{
    static char bufs[4][SANITIZE_MAX + 8];
    static unsigned next;
    char *b = bufs[next++ % 4];

    if (s == NULL) {
        s = "";
    }
    sanitize(b, sizeof(bufs[0]), s, strlen(s));
    return b;
}

void
audit(const char *fmt, ...)
{
    char msg[1536];
    char line[1700];
    size_t len;
    va_list ap;
    int n;

    n = snprintf(msg, sizeof(msg), "audit: ");
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    len = log_format(line,
                     sizeof(line),
                     "airlock-sshd",
                     (long)getpid(),
                     LOG_LEVEL_INFO,
                     msg);
    (void)write_all(STDOUT_FILENO, line, len);
}
