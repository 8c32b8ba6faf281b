/* The one authority on who may log in. The listener holds the live key
 * set (keys_watch_set) and answers, over a socketpair made at fork, every
 * question a connection process has at the moment it has it: "may this
 * key log in as this user now?" — the connection process keeps no key
 * set of its own and reads no file. A "yes" to a signed request is a
 * grant the listener remembers (user, fingerprint, options), so that a
 * later change of the set or the clock (expiry-time) revokes it.
 *
 * Wire format: one SOCK_SEQPACKET message per request or answer, at most
 * AUTHORITY_MSG_MAX bytes. Every string is NUL-terminated.
 *   request  'Q' (PK_OK probe) or 'S' (signed: a login), then
 *            USER \0 TYPE \0, then the key blob (RFC 4253 §6.6 encoding)
 *   answer   'Y' FINGERPRINT \0 SOURCE \0 LINE \0 BITS \0 OPTIONS \0
 *                CA_FINGERPRINT \0 KEY_ID \0 SERIAL \0
 *                (OPTIONS in the canonical authorized_keys form of
 *                keys_options_format; the last three are "", "", "0"
 *                for a plain key, and describe the certificate
 *                otherwise: FINGERPRINT is then the certified key's,
 *                SOURCE and LINE the CA key's)
 *            'N' REASON \0
 *   notice   'A' — the connection completed its login with the key of
 *            the last 'Y' to an 'S' (from then on it counts as
 *            authenticated for the limits).
 * The listener trusts nothing in a request: the user name and key are
 * only looked up, never used as paths; every decision is
 * keys_authorise_key's. */
#ifndef AIRLOCK_SSHD_AUTHORITY_H
#define AIRLOCK_SSHD_AUTHORITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "keys/keys.h"

#define AUTHORITY_MSG_MAX 16384
/* The reason of an 'N' to a signed request when the listener's
 * AIRLOCK_SSH_MAX_AUTHENTICATED is full (authority_serve's refuse_login). */
#define AUTHORITY_LOGINS_FULL "too many authenticated connections"
/* How long a connection process waits for an answer before it denies. */
#define AUTHORITY_TIMEOUT_MS 5000

/* The framing of every message on the connection's socketpair (this
 * protocol's and the recording requests of record.h): NUL-terminated
 * fields, one after the other. */

/* Appends s and its NUL to buf (size bytes) at *len, advancing *len;
 * false, buf unchanged, when it does not fit. */
bool authority_put_field(char *buf, size_t size, size_t *len, const char *s);

/* The next NUL-terminated field of [*p, end), advancing *p past it; NULL
 * when no NUL is left (a truncated or hostile message). */
const char *authority_next_field(const char **p, const char *end);

/* What the listener remembers of a grant to re-check it later. */
struct authority_grant {
    bool active;
    char user[KEYS_USER_MAX];
    char type[KEYS_TYPE_MAX];
    char fingerprint[KEYS_FP_MAX];
    unsigned char opts_hash[32];       /* of the canonical options */
    unsigned char blob[KEYS_CERT_MAX]; /* the key (or certificate) as */
    size_t blob_len;                   /* presented, for the re-check */
};

/* ---- Connection process side ---- */

/* Asks the listener on fd whether (user, type, blob) may log in; signed is
 * false for a PK_OK probe, true for a signed request (which the listener
 * records as a grant). On "yes" fills *ret (free with keys_entry_free):
 * type, blob, fingerprint, bits, source, line, user and the effective
 * options, and returns 0. Returns -EPERM with *why set (a static string,
 * or the listener's reason copied into why_buf of why_size bytes) on
 * "no"; -ETIMEDOUT, -EPROTO or another -errno when no valid answer came
 * within AUTHORITY_TIMEOUT_MS, with *why set: the caller denies. */
int authority_ask(int fd,
                  bool signed_req,
                  const char *user,
                  const char *type,
                  const unsigned char *blob,
                  size_t blob_len,
                  struct keys_entry *ret,
                  char *why_buf,
                  size_t why_size,
                  const char **why);

/* Waits until the listener's answer can be read on fd, at most until
 * deadline (now_ms() time). 0, or -ETIMEDOUT / -errno with *why set (a
 * static string). */
int authority_wait_answer(int fd, uint64_t deadline, const char **why);

/* Tells the listener the login completed. 0 or -errno. */
int authority_notify_login(int fd);

/* ---- Listener side ---- */

/* Reads one message from a connection's fd and answers it from what t
 * trusts (keys_authorise_key) for a peer at peer_addr, at wall-clock time now.
 * When refuse_login is not NULL, a signed request the set would grant is
 * answered 'N' with it as the reason (the listener's
 * AIRLOCK_SSH_MAX_AUTHENTICATED is full); a PK_OK probe is answered as usual. A
 * granted signed request fills *grant; an 'A' notice sets *logged_in. Any
 * question once a grant is held is refused with -EPROTO (a grant is never
 * replaced). Returns 0 when the fd stays usable, -errno (EOF is -EPIPE) when
 * the caller should close it; -EPROTO means the process broke the protocol. */
int authority_serve(int fd,
                    const struct keys_trust *t,
                    const char *peer_addr,
                    time_t now,
                    const char *refuse_login,
                    struct authority_grant *grant,
                    bool *logged_in);

/* Does grant still hold against t for peer_addr at now: the key as
 * presented, for the same user, still authorised by keys_authorise_key
 * (still in the set or signed by a still-trusted CA, not revoked, not
 * expired), with the same fingerprint and options? */
bool authority_grant_holds(const struct authority_grant *grant,
                           const struct keys_trust *t,
                           const char *peer_addr,
                           time_t now);

#endif
