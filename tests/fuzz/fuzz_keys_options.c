/* libFuzzer target for the options parser (OpenSSH's authopt_fuzz idea):
 * options are parsed alone and glued to a valid key; whatever parses must
 * format to text that parses back to the same options. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/internal.h"
#include "keys/keys.h"

#include <sodium.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* " ssh-ed25519 BASE64 fuzz": a well-formed key with a fixed (not secret,
 * not anyone's) 32-byte public value, built once. */
static char key[128];

static void
make_key(void)
{
    unsigned char blob[51] = {0,
                              0,
                              0,
                              11,
                              's',
                              's',
                              'h',
                              '-',
                              'e',
                              'd',
                              '2',
                              '5',
                              '5',
                              '1',
                              '9',
                              0,
                              0,
                              0,
                              32};
    char b64[80];

    for (size_t i = 0; i < 32; i++) {
        blob[19 + i] = (unsigned char)(i * 7 + 1);
    }
    sodium_bin2base64(b64,
                      sizeof(b64),
                      blob,
                      sizeof(blob),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(key, sizeof(key), " ssh-ed25519 %s fuzz", b64);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keys_options o, o2;
    struct keys_entry e;
    const char *err = NULL;
    char *s1, *s2, *line;
    size_t klen;

    if (key[0] == '\0') {
        make_key();
    }
    klen = strlen(key);

    if (keys_parse_options((const char *)data,
                           size,
                           KEYS_PARSE_PERMIT_ENV,
                           &o,
                           &err) == 0) {
        s1 = keys_options_format(&o);
        /* "" (only no-op options such as "pty") means no options. */
        if (s1 != NULL && *s1 == '\0') {
            free(s1);
        } else if (s1 != NULL) {
            if (keys_parse_options(s1,
                                   strlen(s1),
                                   KEYS_PARSE_PERMIT_ENV,
                                   &o2,
                                   &err) != 0) {
                abort();
            }
            s2 = keys_options_format(&o2);
            if (s2 == NULL || strcmp(s1, s2) != 0) {
                abort();
            }
            (void)keys_from_allows(&o2, "10.1.2.3");
            (void)keys_from_allows(&o2, "::ffff:10.1.2.3");
            free(s2);
            keys_options_free(&o2);
            free(s1);
        }
        keys_options_free(&o);
    }

    line = malloc(size + klen + 1);
    if (line == NULL) {
        return 0;
    }
    memcpy(line, data, size);
    memcpy(line + size, key, klen + 1);
    if (keys_parse_line(line, size + klen, KEYS_PARSE_PERMIT_ENV, &e, &err) ==
        1) {
        keys_entry_free(&e);
    }
    free(line);
    return 0;
}
