/* libFuzzer target for the key store reader (keys_store_parse, the parsing
 * half of keys_store_load): any bytes are read as a store file; a store
 * that loads must, written back the way keys_store_write writes it, load
 * again to the same keys, origins and options. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/internal.h"
#include "keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Appends s to *buf (realloc'ed), control bytes as '?' when sanitise is
 * set, as keys_store_write does for source names. */
static void
append(char **buf, size_t *len, const char *s, int sanitise)
{
    size_t n = strlen(s);
    char *nb = realloc(*buf, *len + n + 1);

    if (nb == NULL) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        nb[(*len)++] = (sanitise && (c < 0x20 || c == 0x7f)) ? '?' : (char)c;
    }
    nb[*len] = '\0';
    *buf = nb;
}

static void
sanitise(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            *s = '?';
        }
    }
}

static void
same_entry(const struct keys_entry *a, const struct keys_entry *b)
{
    char *src = strdup(a->source);
    char *o1 = keys_options_format(&a->opts);
    char *o2 = keys_options_format(&b->opts);

    if (src == NULL || o1 == NULL || o2 == NULL) {
        abort();
    }
    sanitise(src);
    if (strcmp(src, b->source) != 0 || a->line != b->line ||
        strcmp(a->user, b->user) != 0 || strcmp(a->type, b->type) != 0 ||
        a->blob_len != b->blob_len ||
        memcmp(a->blob, b->blob, a->blob_len) != 0 ||
        strcmp(a->fingerprint, b->fingerprint) != 0 ||
        strcmp(a->comment, b->comment) != 0 || strcmp(o1, o2) != 0) {
        abort();
    }
    free(src);
    free(o1);
    free(o2);
}

static void
round_trip(const struct keys_set *set)
{
    struct keys_set again = {NULL, 0, 0};
    char *buf = NULL;
    size_t len = 0;

    append(&buf, &len, "# airlock key store for 'fuzz'\n", 0);
    for (size_t i = 0; i < set->count; i++) {
        const struct keys_entry *e = &set->entries[i];
        char num[32];
        char *line = keys_entry_format(e);

        if (line == NULL) {
            abort();
        }
        if (strlen(line) > 4 * KEYS_MAX_LINE) {
            /* Canonical options grew a hand-made line past the store's
             * limit; keys_sync never writes such a line. */
            free(line);
            free(buf);
            return;
        }
        (void)snprintf(num, sizeof(num), " line=%u", e->line);
        append(&buf, &len, "# source=", 0);
        append(&buf, &len, e->source, 1);
        append(&buf, &len, num, 0);
        append(&buf, &len, " fingerprint=", 0);
        append(&buf, &len, e->fingerprint, 0);
        append(&buf, &len, "\n", 0);
        append(&buf, &len, line, 0);
        append(&buf, &len, "\n", 0);
        free(line);
    }
    if (keys_store_parse("fuzz", buf, len, &again) != 0 ||
        again.count != set->count) {
        abort();
    }
    for (size_t i = 0; i < set->count; i++) {
        same_entry(&set->entries[i], &again.entries[i]);
    }
    keys_set_free(&again);
    free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keys_set set = {NULL, 0, 0};
    /* An exact-size heap copy lets ASan catch reads past the file. */
    char *copy = malloc(size ? size : 1);

    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    if (keys_store_parse("fuzz", copy, size, &set) == 0) {
        for (size_t i = 0; i < set.count; i++) {
            if (set.entries[i].source == NULL ||
                strcmp(set.entries[i].user, "fuzz") != 0) {
                abort();
            }
        }
        round_trip(&set);
        keys_set_free(&set);
    }
    free(copy);
    return 0;
}
