/* libFuzzer target for the authorized_keys line parser (OpenSSH's
 * authkeys_fuzz idea): every input is parsed as one line and as a whole
 * source text; an accepted line must survive re-serialising unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys/internal.h"
#include "keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
round_trip(const struct keys_entry *e)
{
    struct keys_entry e2;
    const char *err = NULL;
    char *line = keys_entry_format(e), *o1, *o2;

    if (line == NULL) {
        return;
    }
    if (keys_parse_line(line, strlen(line), KEYS_PARSE_PERMIT_ENV, &e2, &err) !=
        1) {
        abort(); /* what we write, we must read back */
    }
    o1 = keys_options_format(&e->opts);
    o2 = keys_options_format(&e2.opts);
    if (o1 == NULL || o2 == NULL || strcmp(o1, o2) != 0 ||
        strcmp(e->fingerprint, e2.fingerprint) != 0 ||
        strcmp(e->comment, e2.comment) != 0 || e->bits != e2.bits ||
        keys_set_find(&(struct keys_set){&e2, 1, 1},
                      e->type,
                      e->blob,
                      e->blob_len) == NULL) {
        abort();
    }
    (void)keys_from_allows(&e->opts, "192.0.2.1");
    (void)keys_from_allows(&e->opts, "2001:db8::1");
    (void)keys_expired(&e->opts, 1800000000);
    free(o1);
    free(o2);
    free(line);
    keys_entry_free(&e2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keys_entry e;
    struct keys_set set = {NULL, 0, 0};
    const char *err = NULL;
    unsigned flags = size > 0 && (data[0] & 1) ? KEYS_PARSE_PERMIT_ENV : 0;

    if (keys_parse_line((const char *)data, size, flags, &e, &err) == 1) {
        round_trip(&e);
        keys_entry_free(&e);
    }
    (void)keys_parse_text("fuzz",
                          "root",
                          (const char *)data,
                          size,
                          flags,
                          true,
                          NULL,
                          NULL,
                          &set);
    keys_set_free(&set);
    return 0;
}
