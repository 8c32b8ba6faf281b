/* SSH key provisioning: authorized_keys parsing and options, the sources
 * (environment, _FILE, a per-user directory), the root-owned store the SSH
 * server reads, fingerprints, and a watcher that rebuilds the store when a
 * source changes.
 *
 * Parsers never log: they return a static reason string. The sync layer
 * (keys_sync, the watcher) and the CLI log.
 *
 * Who may log in is decided in memory, never from a file: the SSH
 * listener holds the watcher's live set (keys_watch_set) and asks
 * keys_authorise at the moment of each decision. The store files are
 * written for inspection only; a store that cannot be written (read-only
 * root) or a stale one left by an earlier run grants nothing. */
#ifndef AIRLOCK_KEYS_KEYS_H
#define AIRLOCK_KEYS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/path.h"

/* Limits, each with its own rejection message. */
#define KEYS_MAX_LINE       8192      /* bytes in one line, without EOL */
#define KEYS_MAX_FILE       (1 << 20) /* bytes in one source */
#define KEYS_MAX_PER_SOURCE 1024      /* keys accepted from one source */
#define KEYS_MAX_PERMITOPEN 64        /* permitopen= options on one line */
#define KEYS_MAX_ENV        64        /* environment= options on one line */
#define KEYS_USER_MAX       64        /* user name length, with the NUL */
#define KEYS_FP_MAX         64        /* "SHA256:" + 43 chars + NUL fits */
#define KEYS_TYPE_MAX       48
#define KEYS_CERT_MAX       8192 /* bytes in a certificate blob */
#define KEYS_CERT_ID_MAX    256  /* key ID bytes, with the NUL */
#define KEYS_CERT_MAX_PRINC 256  /* principals (OpenSSH's limit) */

/* Where the store lives: KEYS_STORE_SUBDIR of the run dir (AIRLOCK_RUN_DIR,
 * common/path.h), under AIRLOCK_ROOT; KEYS_STORE_DIR with the default. */
#define KEYS_STORE_SUBDIR "/authorized_keys"
#define KEYS_STORE_DIR    RUN_DIR_DEFAULT KEYS_STORE_SUBDIR
#define KEYS_DEFAULT_DIR  "/etc/airlock/authorized_keys.d/"
#define KEYS_ENV_SOURCE   "AIRLOCK_AUTHORIZED_KEYS"

/* The options of one authorized_keys line, modelled on OpenSSH's struct
 * sshauthopt. The no_* flags are the EFFECTIVE result: `restrict` has
 * already been folded in (restrict sets them all, a later `pty`,
 * `port-forwarding`, ... clears one again), so the server checks only
 * the no_* flags; `restricted` is kept for display and re-serialising. */
struct keys_options {
    bool restricted;
    bool no_pty;
    bool no_port_forwarding;
    bool no_agent_forwarding;
    bool no_x11_forwarding;
    bool no_user_rc;
    char *force_command; /* command="...", unescaped; NULL if none */
    char *from;          /* from="..." pattern-list as written; NULL = any */
    char **permitopen;   /* "host:port" strings (port may be "*") */
    size_t npermitopen;
    time_t valid_before; /* expiry-time=, UTC; 0 = no expiry */
    char **environment;  /* "NAME=value" strings (only if permitted) */
    size_t nenvironment;
};

/* One accepted key. All strings are NUL-terminated and owned by the entry.
 * comment is printable: tabs became blanks and other control characters
 * '?' at parse time, so it can go into a log line as is. */
struct keys_entry {
    char type[KEYS_TYPE_MAX]; /* as in the line: "ssh-ed25519", ... */
    unsigned char *blob;      /* decoded key blob */
    size_t blob_len;
    char fingerprint[KEYS_FP_MAX]; /* "SHA256:..." as ssh-keygen -l */
    unsigned bits;                 /* 256, 384, 521, RSA modulus bits */
    char *comment;                 /* "" when none */
    char user[KEYS_USER_MAX];      /* the user it logs in as */
    char *source;                  /* "AIRLOCK_AUTHORIZED_KEYS", a path */
    unsigned line;                 /* 1-based line in source */
    struct keys_options opts;
    /* Set only on the entry keys_authorise_key builds for a certificate
     * (type is then the *-cert-v01 name, blob the certificate, and
     * fingerprint that of the certified key; source and line name the
     * CA key's line). ca_fingerprint "" means a plain key. */
    char ca_fingerprint[KEYS_FP_MAX];
    char *cert_id; /* key ID, NUL-free; NULL for a plain key */
    uint64_t cert_serial;
};

struct keys_set {
    struct keys_entry *entries;
    size_t count;
    size_t cap;
};

/* ---- Parsing -------------------------------------------------------- */

/* Flags for keys_parse_line. */
#define KEYS_PARSE_PERMIT_ENV 0x1u /* accept environment= */
/* Reading the store: lines may exceed KEYS_MAX_LINE a little, because
 * canonical options can be longer than what was written ("20300101" is
 * stored as "20300101000000Z"). */
#define KEYS_PARSE_STORE 0x2u

/* Parses one authorized_keys line (len bytes, no NUL needed; a trailing
 * "\r" or "\n" is ignored). Returns 1 and fills *ret (user, source and
 * line left empty for the caller) for a key, 0 for a blank or comment line, or
 * -EINVAL with *errstr set to a static reason. *ret is only written on 1;
 * free it with keys_entry_free. */
int keys_parse_line(const char *line,
                    size_t len,
                    unsigned flags,
                    struct keys_entry *ret,
                    const char **errstr);

/* Parses an options string (what precedes the key type) into *ret;
 * 0 or -EINVAL with *errstr. Exposed for tests and the fuzzer. */
int keys_parse_options(const char *s,
                       size_t len,
                       unsigned flags,
                       struct keys_options *ret,
                       const char **errstr);

/* Canonical options text ("restrict,command=\"...\",from=\"...\"", "" for
 * none) into a malloc'ed string; NULL on ENOMEM. Parsing it gives back the
 * same options. */
char *keys_options_format(const struct keys_options *o);

void keys_options_free(struct keys_options *o);
void keys_entry_free(struct keys_entry *e);

/* The OpenSSH "SHA256:<unpadded base64>" fingerprint of a blob into buf
 * (at least KEYS_FP_MAX bytes); 0 or -ENOBUFS. */
int
keys_fingerprint(const unsigned char *blob, size_t len, char *buf, size_t size);

/* ---- Sets ----------------------------------------------------------- */

/* Appends a copy of *e (deep); 0 or -ENOMEM. */
int keys_set_add(struct keys_set *set, const struct keys_entry *e);
void keys_set_free(struct keys_set *set);

/* The first entry whose type and blob equal (type, blob, len). Blobs are
 * compared in constant time (sodium_memcmp) for every candidate of the
 * same length. NULL if none. */
const struct keys_entry *keys_set_find(const struct keys_set *set,
                                       const char *type,
                                       const unsigned char *blob,
                                       size_t len);

/* ---- Authorisation --------------------------------------------------- */

/* The smallest RSA modulus accepted, in bits (OpenSSH's
 * SSH_RSA_MINIMUM_MODULUS_SIZE since 8.x is 1024; we follow NIST SP
 * 800-131A and ssh-audit's policy: 2048). */
#define KEYS_RSA_MIN_BITS 2048

/* true when type (an authorized_keys key type name such as "ssh-ed25519")
 * may log in: Ed25519, ECDSA P-256/384/521, RSA, and the two FIDO types.
 * DSA and every certificate type are refused. This table, in parse.c, is
 * the only list of allowed types: the parser and the server both ask it. */
bool keys_type_allowed(const char *type);

/* The one authorisation decision for a matched key, modelled on OpenSSH's
 * auth_authorise_keyopts() (auth2-pubkeyfile.c): may entry e log in from
 * peer_addr (numeric IPv4/IPv6 text) at wall-clock time now? Checks the
 * key type, the RSA minimum, expiry-time= and from=, once, here. Returns
 * 0 when it may, the effective options being e->opts (restrict already
 * folded in by the parser; the session applies only those); -EPERM with
 * *why set to a static reason otherwise. */
int keys_authorise(const struct keys_entry *e,
                   const char *peer_addr,
                   time_t now,
                   const char **why);

/* The entry of user (NULL: any user) whose key is (type, blob, len),
 * blobs compared in constant time; NULL if none. */
const struct keys_entry *keys_set_find_user(const struct keys_set *set,
                                            const char *user,
                                            const char *type,
                                            const unsigned char *blob,
                                            size_t len);

/* Number of distinct users in set, which must be sorted by user (as the
 * live set of keys_sync and keys_collect is; the listener asks at every
 * accept, so this is one pass); when it is exactly one, that user's name
 * is copied to one (size bytes), else one is set to "". */
size_t keys_set_users(const struct keys_set *set, char *one, size_t size);

/* ---- Certificates (OpenSSH PROTOCOL.certkeys) ------------------------ */

/* A parsed *-cert-v01@openssh.com blob. Strings are NUL-terminated and
 * free of embedded NULs (a certificate with one is rejected). */
struct keys_cert {
    char type[KEYS_TYPE_MAX];     /* "ssh-ed25519-cert-v01@openssh.com" */
    char key_type[KEYS_TYPE_MAX]; /* the certified key's: "ssh-ed25519" */
    unsigned char *key_blob;      /* certified key as a plain blob */
    size_t key_blob_len;
    unsigned bits;
    char fingerprint[KEYS_FP_MAX]; /* of key_blob, as ssh-keygen -l */
    uint64_t serial;
    uint32_t cert_type; /* 1 user, 2 host (SSH2_CERT_TYPE_*) */
    char *key_id;
    char **principals;
    size_t nprincipals;
    uint64_t valid_after;  /* seconds since the epoch, inclusive */
    uint64_t valid_before; /* exclusive; UINT64_MAX = forever */
    char *force_command;   /* critical option, or NULL */
    char *source_address;  /* critical option, canonical "a/n,b/m", or NULL */
    bool permit_pty;
    bool permit_port_forwarding;
    bool permit_user_rc;
    bool permit_agent_forwarding;
    bool permit_x11_forwarding;
    char ca_type[KEYS_TYPE_MAX];
    const unsigned char *ca_blob; /* points into the parsed blob */
    size_t ca_blob_len;
    char ca_fingerprint[KEYS_FP_MAX];
    size_t signed_len;        /* bytes of the blob the CA signature covers */
    const unsigned char *sig; /* the signature blob (alg + bytes) */
    size_t sig_len;
};

#define KEYS_CERT_TYPE_USER 1u
#define KEYS_CERT_TYPE_HOST 2u

/* true for the certificate types airlock can validate: ssh-ed25519,
 * ecdsa-sha2-nistp256/384/521 and ssh-rsa "-cert-v01@openssh.com". */
bool keys_cert_type_allowed(const char *type);

/* Parses a certificate blob (len bytes, the RFC 4253 §6.6 public key
 * blob of a *-cert-v01@openssh.com key, PROTOCOL.certkeys) without
 * checking its signature: known type; nonce of at least 16 bytes; a
 * certified key that passes the authorized_keys checks; principals
 * (at most KEYS_CERT_MAX_PRINC, no NUL); critical options
 * only force-command and source-address (valid CIDR list), each once and
 * with no trailing data; known extensions with empty data (unknown ones
 * ignored, as sshd does); a plain Ed25519, ECDSA or RSA (>= 2048 bits) CA
 * key; nothing after the signature. The blob must outlive *ret (ca_blob
 * and sig point into it). 0 with *ret filled (free with keys_cert_free),
 * -EINVAL with *errstr set to a static reason, -ENOMEM. */
int keys_cert_parse(const unsigned char *blob,
                    size_t len,
                    struct keys_cert *ret,
                    const char **errstr);

/* Verifies the CA signature of a certificate parsed from blob: Ed25519
 * (RFC 8709, libsodium), ECDSA with the curve's hash (RFC 5656 §3.1.2,
 * libcrypto), RSA with rsa-sha2-256/512 (RFC 8332, libcrypto); SHA-1
 * "ssh-rsa" signatures are refused. 0 when valid, -EPERM with *errstr
 * otherwise, -ENOMEM. */
int keys_cert_verify(const unsigned char *blob,
                     const struct keys_cert *c,
                     const char **errstr);

void keys_cert_free(struct keys_cert *c);

/* ---- Revocation (ssh-keygen -k text input, ssh-keygen(1) "KEY
 * REVOCATION LISTS"; OpenSSH's binary KRL, PROTOCOL.krl) -------------- */

/* Serials (inclusive range) or a key ID revoked for the certificates of
 * one CA (ca: its SHA256 fingerprint), or of every CA (ca ""). */
struct keys_revoked_serials {
    uint64_t lo, hi;
    char ca[KEYS_FP_MAX];
};

struct keys_revoked_id {
    char *id;
    char ca[KEYS_FP_MAX];
};

struct keys_revoked {
    bool broken; /* configured but unreadable or invalid: refuse all */
    struct keys_revoked_serials *serials;
    size_t nserials;
    struct keys_revoked_id *ids;
    size_t nids;
    char (*fps)[KEYS_FP_MAX]; /* SHA256 fingerprints of plain keys */
    size_t nfps;
    unsigned char (*sha1)[20]; /* SHA1 hashes of plain key blobs (KRL) */
    size_t nsha1;
};

/* Parses a revocation list: OpenSSH's binary KRL when buf starts with its
 * magic ("SSHKRL\n\0", PROTOCOL.krl: certificate sections with serial
 * lists, ranges, bitmaps and key IDs scoped to their CA or to every CA,
 * explicit keys, SHA1 and SHA256 key hashes; a critical extension or a
 * signature section is refused, as OpenSSH >= 9.4 does), else the text
 * form: "serial: N", "serial: A-B" (decimal, 0x hex or 0 octal, never
 * 0), "id: KEYID", "key: PUBKEY", "sha256: PUBKEY", "hash: SHA256:FP",
 * or a plain public key line ("TYPE BASE64 [COMMENT]"; a certificate
 * there revokes its certified key); blank lines and '#' comments are
 * skipped. Text serial: and id: lines apply to certificates of every
 * trusted CA (the file names no CA). 0 with *ret filled, or -EINVAL with
 * *errstr and *ret_line (1-based; 0 in a binary KRL) naming the first
 * bad line, -ENOMEM. */
int keys_revoked_parse(const char *buf,
                       size_t len,
                       struct keys_revoked *ret,
                       unsigned *ret_line,
                       const char **errstr);

void keys_revoked_free(struct keys_revoked *r);

/* Is the plain key blob (RFC 4253 §6.6) revoked, by SHA256 fingerprint
 * or SHA1 hash? */
bool keys_revoked_key(const struct keys_revoked *r,
                      const unsigned char *blob,
                      size_t len);

/* Is certificate c revoked: its certified key, its CA key, its serial or
 * its key ID (for its CA or every CA)? Sets *why when it is. */
bool keys_revoked_cert(const struct keys_revoked *r,
                       const struct keys_cert *c,
                       const char **why);

/* ---- The one authorisation call --------------------------------------- */

/* What the listener trusts at one moment: the live key set, the CA keys
 * (entries whose user is the one user they certify for) and the
 * revocation list. */
struct keys_trust {
    const struct keys_set *keys;
    const struct keys_set *cas;
    const struct keys_revoked *revoked;
};

/* May (type, blob, len) log in as user from peer_addr at now? For a plain
 * key: found in t->keys for user, not revoked, keys_authorise. For a
 * certificate: keys_cert_parse; type user; its CA in t->cas for user and
 * not revoked; certificate not revoked; CA signature verified; now in
 * [valid_after, valid_before); user among the principals (none: refused);
 * then the entry built from it (force-command, source-address as from=,
 * valid_before as expiry-time=, extensions as the only permissions) goes
 * through keys_authorise. Returns 0 with *ret filled (a deep copy: free
 * with keys_entry_free), -EPERM with *why a static reason, -ENOMEM. A
 * broken revocation list refuses everything, as sshd does with an
 * unreadable RevokedKeys. */
int keys_authorise_key(const struct keys_trust *t,
                       const char *user,
                       const char *type,
                       const unsigned char *blob,
                       size_t len,
                       const char *peer_addr,
                       time_t now,
                       struct keys_entry *ret,
                       const char **why);

/* ---- Option checks for the server ------------------------------------ */

/* from= check with OpenSSH semantics (match_hostname/addr_match_list):
 * the peer address (IPv4 or IPv6 text, no port) is checked against each
 * comma-separated pattern: an address, a CIDR "10.0.0.0/8", "fe80::/10",
 * or a wildcard with '*' and '?'; a pattern prefixed with '!' that
 * matches denies at once; otherwise at least one positive pattern must
 * match. from == NULL allows everything; a malformed CIDR never matches a
 * positive and always denies as a negative (fail closed). */
bool keys_from_allows(const struct keys_options *o, const char *peer_addr);

/* permitopen= check (sshd(8) AUTHORIZED_KEYS FILE FORMAT): may a
 * direct-tcpip channel go to host (as the client sent it: a name, an
 * IPv4 address, or an IPv6 address without brackets) and port? Each entry
 * is "host:port" or "[v6addr]:port", port may be "*"; hosts compare
 * exactly, without DNS, brackets removed. No permitopen= allows every
 * destination. */
bool keys_permitopen_allows(const struct keys_options *o,
                            const char *host,
                            unsigned port);

/* true when the key has an expiry-time and now is at or after it. */
bool keys_expired(const struct keys_options *o, time_t now);

/* ---- Store ---------------------------------------------------------- */

/* Store file format (KEYS_STORE_DIR/USER, 0600, root-owned):
 *   # airlock key store for 'USER' ...           (header, ignored)
 *   # source=SOURCE line=N fingerprint=SHA256:...
 *   OPTIONS TYPE BASE64 COMMENT                  (canonical options)
 * The "# source=" line gives the next key its original source and line so
 * the server can audit-log them. */

/* Loads the store file of user into *ret. Opens with O_NOFOLLOW, requires
 * a regular file owned by root (or the effective uid) and not accessible
 * by group/others; environment= options are kept (they were allowed at
 * sync time). 0, -ENOENT when the user has no keys, -EPERM on bad
 * ownership or mode, -EINVAL for a corrupt store, other -errno. */
int keys_store_load(const char *user, struct keys_set *ret);

/* The parsing half of keys_store_load, without file I/O (for the fuzzer):
 * buf holds len bytes of a store file (no NUL needed), user is copied into
 * each entry. 0 with *ret filled, -EINVAL for a line that does not parse
 * (a corrupt store), -ENOMEM. */
int keys_store_parse(const char *user,
                     const char *buf,
                     size_t len,
                     struct keys_set *ret);

/* Names of the users that have a store file, sorted, at most max; 0 (with
 * *ret_n = 0 when the store does not exist) or -errno. */
int keys_store_users(char (*names)[KEYS_USER_MAX], size_t max, size_t *ret_n);

/* Path of the store file of user into buf; 0 or -ENAMETOOLONG/-EINVAL
 * (user not a valid name). */
int keys_store_path(const char *user, char *buf, size_t size);

/* true for a name usable as a user and a file name:
 * [A-Za-z0-9_][A-Za-z0-9_.-]*, shorter than KEYS_USER_MAX, not starting with
 * '.' or '-'. */
bool keys_valid_user(const char *name);

/* ---- Sources and configuration --------------------------------------- */

struct keys_config {
    char user[KEYS_USER_MAX]; /* AIRLOCK_SSH_USER, default "root" */
    char *env_keys;           /* copy of AIRLOCK_AUTHORIZED_KEYS or NULL */
    char *file;               /* AIRLOCK_AUTHORIZED_KEYS_FILE or NULL */
    char *dir;                /* AIRLOCK_AUTHORIZED_KEYS_DIR or default */
    bool dir_is_default;      /* AIRLOCK_AUTHORIZED_KEYS_DIR was unset */
    bool permit_user_env;     /* AIRLOCK_SSH_PERMIT_USER_ENV=yes */
    char *ca_keys;      /* copy of AIRLOCK_SSH_TRUSTED_USER_CA_KEYS or NULL */
    char *ca_file;      /* AIRLOCK_SSH_TRUSTED_USER_CA_KEYS_FILE or NULL */
    char *revoked_file; /* AIRLOCK_SSH_REVOKED_KEYS_FILE or NULL */
};

/* Fills *cfg from the environment. Paths are as seen inside the container
 * (AIRLOCK_ROOT is prefixed when opening). The key text is copied, so the
 * caller may unsetenv() it afterwards. 0 or -EINVAL with *errstr (bad
 * user name, relative path, bad boolean) or -ENOMEM. Free with
 * keys_config_free. */
int keys_config_from_env(struct keys_config *cfg, const char **errstr);
void keys_config_free(struct keys_config *cfg);

/* Is at least one source configured? True when AIRLOCK_AUTHORIZED_KEYS has
 * a non-blank value, when AIRLOCK_AUTHORIZED_KEYS_FILE is set (even if the
 * file is missing: the user asked for SSH), or when the key directory
 * exists; an explicitly set AIRLOCK_AUTHORIZED_KEYS_DIR counts even when
 * missing, the DEFAULT directory only when it exists. The init applies the
 * same rule without linking this module. */
bool keys_config_any_source(const struct keys_config *cfg);

/* Builds the set once from the sources: reads and validates each, folds
 * duplicates, drops the keys of users that do not exist (one line per
 * source and user), then writes one store file per user with keys for
 * inspection and removes the others. A source that exists but cannot be
 * read contributes no key (fail closed; logged, and retried by the
 * watcher). Logs accepted/removed keys and every rejected line
 * ("SOURCE:LINE: rejected: REASON"). Returns the number of keys in the
 * set (>= 0), or -errno when the set cannot be built (ENOMEM) or the
 * store cannot be written (for the `keys sync` command, which exists to
 * write it). */
int keys_sync(const struct keys_config *cfg);

/* Reads every source into *ret: the effective set of all users (entry
 * ->user), sorted by user, duplicates folded, as keys_sync would store
 * it; rejected lines are logged as by keys_sync. For `keys list`.
 * 0 or -errno. */
int keys_collect(const struct keys_config *cfg, struct keys_set *ret);

/* ---- Listing --------------------------------------------------------- */

/* The `airlock-sshd keys list` text of set: per user a line
 * "user 'U': N key(s)", then "  SOURCE:LINE: TYPE BITS FP 'COMMENT'
 * options 'OPTS' expiry WHEN" per key; "no keys" for an empty set.
 * malloc'ed, *ret_len bytes (NUL-terminated too); NULL on ENOMEM. */
char *keys_set_listing(const struct keys_set *set, size_t *ret_len);

/* The running server lists the set it holds on an abstract unix socket
 * (unix(7): no file, so it works on a read-only root; scoped to the
 * network namespace, i.e. the container). Fills *sa and returns the
 * address length to pass to bind/connect. */
struct sockaddr_un;
unsigned keys_listing_addr(struct sockaddr_un *sa);

/* ---- Watcher (embeddable in a poll loop) ----------------------------- */

struct keys_watch;

/* Syncs once, then sets up inotify watches on the sources. Without
 * inotify (EMFILE, ENOSYS) it logs one line and re-reads the sources
 * every few seconds instead. NULL with errno on ENOMEM. */
struct keys_watch *keys_watch_new(const struct keys_config *cfg);

/* The live set: the keys of the last sync, the only thing that grants
 * access. Empty (never stale) when the last sync could not be built.
 * Valid until the next keys_watch_handle. */
const struct keys_set *keys_watch_set(const struct keys_watch *w);

/* The live set, CA keys and revocation list of the last sync, for
 * keys_authorise_key; valid until the next keys_watch_handle. */
struct keys_trust keys_watch_trust(const struct keys_watch *w);

/* The inotify fd to poll for POLLIN (non-blocking, close-on-exec), or -1
 * when polling by timeout only. */
int keys_watch_fd(const struct keys_watch *w);

/* poll() timeout in ms until keys_watch_handle must run even without
 * input (settling after a burst of events, retrying unreadable or missing
 * sources); -1 when nothing is pending. */
int keys_watch_timeout(const struct keys_watch *w);

/* Drains the inotify fd and, when due, re-syncs the store (within one
 * second of a change). Call when the fd is readable or the timeout
 * expired. Returns 1 when the effective key set changed (a key added or
 * removed, options changed: time to re-check live sessions), 0 when not,
 * -errno on a failure (logged; the watcher keeps going). */
int keys_watch_handle(struct keys_watch *w);

/* Frees w and closes its fd; NULL is fine. Returns NULL. */
struct keys_watch *keys_watch_free(struct keys_watch *w);

#endif
