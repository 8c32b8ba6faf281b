/* libFuzzer target for the syslog datagram parser and line formatter: any
 * datagram must give exactly one line, ending in '\n', with no control
 * byte inside. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "syslogd/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char line[SYSLOG_LINE_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct syslog_msg m;
    /* An exact-size heap copy lets ASan catch reads past the datagram. */
    char *copy = malloc(size ? size : 1);

    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    if (syslog_parse(copy, size, &m, NULL) == 0) {
        size_t n = syslog_format(line,
                                 sizeof(line),
                                 &m,
                                 size,
                                 size + (size & 1) * 100);
        if (n == 0 || line[n - 1] != '\n' || memchr(line, '\n', n - 1)) {
            abort();
        }
        for (size_t i = 0; i + 1 < n; i++) {
            if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) {
                abort();
            }
        }
    }
    free(copy);
    return 0;
}
