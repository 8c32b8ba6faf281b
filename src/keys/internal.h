/* Declarations shared by the files of src/keys/ only. */
#ifndef AIRLOCK_KEYS_INTERNAL_H
#define AIRLOCK_KEYS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "keys/keys.h"

/* Parses "ADDR/PREFIX" (IPv4 or IPv6, host bits zero) into a 16-byte
 * address (IPv4 in the first 4 bytes), its family and prefix length. */
bool keys_cidr_parse(const char *s,
                     unsigned char addr[16],
                     int *family,
                     unsigned *prefix);

/* A cursor over SSH wire data (RFC 4251 §5). */
struct keys_reader {
    const unsigned char *p;
    size_t left;
};

/* Reads an SSH "string" (uint32 length + bytes, RFC 4251 §5) from r into
 * (*ret, *ret_len), pointing into r's buffer; false when truncated. */
bool keys_get_string(struct keys_reader *r,
                     const unsigned char **ret,
                     size_t *ret_len);

/* Reads a uint32 / uint64 (big-endian, RFC 4251 §5) from r into *v;
 * false when fewer bytes are left, then r is unchanged. */
bool keys_get_u32(struct keys_reader *r, uint32_t *v);
bool keys_get_u64(struct keys_reader *r, uint64_t *v);

/* Checks a plain public key blob (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709)
 * against its type name, with the same rules as an authorized_keys line
 * (type in the blob equals type, field sizes, RSA 2048..16384 bits, no
 * trailing bytes); sets *bits. NULL when valid, else a static reason. */
const char *keys_check_key_blob(const char *type,
                                const unsigned char *blob,
                                size_t len,
                                unsigned *bits);

/* OpenSSH-style wildcard match ('*', '?'), case-insensitive. */
bool keys_wildcard_match(const char *s, const char *pattern);

/* The entry as one authorized_keys line without EOL: canonical options,
 * type, base64 blob, comment. malloc'ed; NULL on ENOMEM. */
char *keys_entry_format(const struct keys_entry *e);

/* Replaces control characters in s with '?', in place, for log lines:
 * command="..." may hold escape sequences. Returns s. */
char *keys_sanitize(char *s);

/* Store writing, for keys_sync. */
int keys_store_prepare(void);
/* Writes entries [from, to) of set (all of user) as user's store file
 * unless it already holds exactly that; *changed says if it was written. */
int keys_store_write(const char *user,
                     const struct keys_set *set,
                     size_t from,
                     size_t to,
                     bool *changed);
/* Removes user's store file; 0 also when there was none. */
int keys_store_remove(const char *user);

/* Called by keys_parse_text for each key (e != NULL) or rejected line
 * (errstr != NULL). */
typedef void (*keys_line_cb)(void *userdata,
                             const char *source,
                             unsigned line,
                             const struct keys_entry *e,
                             const char *errstr);

/* Parses a whole source text line by line for user, appending accepted
 * keys to out (when not NULL) with their user, source and line set.
 * Rejected lines go to cb, or are logged "SOURCE:LINE: rejected: REASON"
 * unless quiet. Returns the number of rejected lines or -ENOMEM. */
int keys_parse_text(const char *source,
                    const char *user,
                    const char *text,
                    size_t len,
                    unsigned flags,
                    bool quiet,
                    keys_line_cb cb,
                    void *userdata,
                    struct keys_set *out);

/* Watcher state kept between syncs: which rejected lines were already
 * reported, whether the start-up listing was done. */
struct keys_sync_memo;
struct keys_sync_memo *keys_sync_memo_new(void);
void keys_sync_memo_free(struct keys_sync_memo *memo);

/* The live set kept in memo by the last keys_sync_with. */
const struct keys_set *keys_sync_memo_set(const struct keys_sync_memo *memo);

/* The live set, CA keys and revocation list kept in memo. */
struct keys_trust keys_sync_memo_trust(const struct keys_sync_memo *memo);

/* keys_sync with a memo (NULL: log everything); *ret_retry tells whether
 * a source was unreadable or missing, so it should be retried;
 * *ret_changed whether the effective set (keys or options) changed. Both
 * may be NULL. */
int keys_sync_with(const struct keys_config *cfg,
                   struct keys_sync_memo *memo,
                   bool *ret_retry,
                   bool *ret_changed);

#endif
