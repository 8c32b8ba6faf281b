/* Connection admission for the listener: MaxStartups with random early
 * drop, a per-source cap, and OpenSSH 9.8-style per-source penalties, each
 * with OpenSSH's semantics (sshd_config(5): MaxStartups,
 * PerSourceMaxStartups, PerSourceNetBlockSize, PerSourcePenalties,
 * PerSourcePenaltyExemptList). Pure bookkeeping: times are passed in
 * (milliseconds, CLOCK_MONOTONIC), randomness through a function pointer,
 * and nothing here does I/O, so every rule is unit-testable. */
#ifndef AIRLOCK_SSHD_LIMITS_H
#define AIRLOCK_SSHD_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* OpenSSH 9.8 PerSourcePenalties defaults, in seconds. */
#define PENALTY_CRASH    90
#define PENALTY_AUTHFAIL 5
#define PENALTY_NOAUTH   1
#define PENALTY_GRACE    20
#define PENALTY_MIN      15
#define PENALTY_MAX      600
#define PENALTY_SLOTS    4096
/* Upper bound of any single penalty setting: one day. */
#define PENALTY_SETTING_MAX 86400

/* Bytes of the exemption list, with the NUL. */
#define LIMITS_EXEMPT_MAX 1024

/* MaxStartups start:rate:full (sshd_config(5)): from `start`
 * unauthenticated connections on, a new one is refused with probability
 * rate/100, rising linearly to 100 % at `full`. A single number N is
 * stored as OpenSSH stores it, start = full = N, so it is a hard cap (the
 * rate never applies). */
struct max_startups {
    unsigned start; /* 1..full */
    unsigned rate;  /* percent, 1..100 */
    unsigned full;  /* start..the caller's limit */
};

/* PerSourcePenalties and PerSourcePenaltyExemptList. Durations in
 * seconds. */
struct penalty_conf {
    bool enabled; /* "no" turns penalties off entirely */
    unsigned crash;
    unsigned authfail;
    unsigned noauth;
    unsigned grace; /* grace-exceeded */
    unsigned min;   /* pending penalty before a source is refused */
    unsigned max;   /* most penalty a source can accrue */
    /* OpenSSH address pattern list (addresses, CIDR, '*'/'?' wildcards,
     * '!' negation) matched by keys_from_allows; "" = nobody exempt. */
    char exempt[LIMITS_EXEMPT_MAX];
};

/* Every admission setting. */
struct limits_conf {
    struct max_startups startups;
    unsigned per_source; /* PerSourceMaxStartups; 0 = none (no cap) */
    unsigned netblock4;  /* PerSourceNetBlockSize, IPv4 bits 0..32 */
    unsigned netblock6;  /* IPv6 bits 0..128 */
    unsigned authed_max; /* authenticated connections at once */
    struct penalty_conf penalty;
};

/* A peer address, IPv4-mapped IPv6 folded to IPv4. */
struct src_addr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char a[16];
};

struct penalty_entry {
    struct src_addr src;
    uint64_t expiry_ms;
    bool active;
};

/* conf NULL means the OpenSSH defaults (limits_conf_default). */
struct penalty_table {
    const struct penalty_conf *conf;
    struct penalty_entry e[PENALTY_SLOTS];
    size_t n;
};

/* How a connection process ended, from its exit status (see conn.h). */
enum conn_outcome {
    OUTCOME_OK,       /* authenticated, or nothing to hold against it */
    OUTCOME_AUTHFAIL, /* auth attempted and failed */
    OUTCOME_NOAUTH,   /* closed without trying to authenticate */
    OUTCOME_GRACE,    /* login grace time (or version deadline) exceeded */
    OUTCOME_CRASH,    /* killed, before authentication, by a signal we did
                         not send */
};

enum admit {
    ADMIT_OK,
    ADMIT_MAX_STARTUPS,
    ADMIT_PER_SOURCE,
    ADMIT_PENALTY,
    ADMIT_AUTHED_CAP,
};

/* Unauthenticated and authenticated connections at the time of an accept. */
struct admit_counts {
    unsigned unauth;     /* all unauthenticated connections */
    unsigned src_unauth; /* unauthenticated ones from the new one's source */
    unsigned authed;     /* authenticated connections */
};

/* A uniform random number in [0, upper_bound); randombytes_uniform has
 * this shape. Tests pass a fixed sequence. */
typedef uint32_t (*limits_uniform_fn)(uint32_t upper_bound);

/* Fills *lc with the defaults: MaxStartups 10:30:100 and per-source none
 * (both OpenSSH's defaults), netblocks 32:128, authed_max, and penalties
 * on with the OpenSSH 9.8 durations above, nobody exempt. */
void limits_conf_default(struct limits_conf *lc, unsigned authed_max);

/* Parses "N" or "start:rate:full" (sshd_config(5) MaxStartups) with every
 * number at most limit. 0, or -EINVAL with *reason (static). */
int limits_parse_max_startups(const char *s,
                              unsigned limit,
                              struct max_startups *ret,
                              const char **reason);

/* Parses PerSourceMaxStartups: a number 1..limit or "none" (*ret = 0). */
int limits_parse_per_source(const char *s,
                            unsigned limit,
                            unsigned *ret,
                            const char **reason);

/* Parses PerSourceNetBlockSize "V4" or "V4:V6" (bits, 0..32 and 0..128;
 * a missing V6 keeps *v6). 0, or -EINVAL with *reason. */
int limits_parse_netblock(const char *s,
                          unsigned *v4,
                          unsigned *v6,
                          const char **reason);

/* Parses PerSourcePenalties into *pc: "yes" (the defaults), "no" (off),
 * or items name:seconds separated by commas or blanks, names crash,
 * authfail, noauth, grace-exceeded, min, max (OpenSSH's names; others
 * such as max-sources4 are refused); items not given keep their value.
 * Seconds are whole, with an optional 's', at most PENALTY_SETTING_MAX.
 * 0, or -EINVAL with *reason. pc->exempt is not touched. */
int limits_parse_penalties(const char *s,
                           struct penalty_conf *pc,
                           const char **reason);

/* Checks an exemption pattern list with the key parser's from= rules and
 * copies it into dst (size bytes). 0, or -EINVAL with *reason. */
int
limits_parse_exempt(const char *s, char *dst, size_t size, const char **reason);

/* True when peer (numeric text) matches pc's exemption list. */
bool limits_exempt(const struct penalty_conf *pc, const char *peer);

/* Random early drop: true when a new connection must be refused with
 * unauth unauthenticated connections open. Below start never, from full
 * on always, in between with probability rate + (100 - rate) *
 * (unauth - start) / (full - start) percent (integer division, as OpenSSH
 * computes it), drawing one number from uniform(100). */
bool max_startups_drop(const struct max_startups *ms,
                       unsigned unauth,
                       limits_uniform_fn uniform);

int src_from_sockaddr(const struct sockaddr *sa,
                      socklen_t len,
                      struct src_addr *ret);
bool src_equal(const struct src_addr *a, const struct src_addr *b);
/* Clears all but the first bits4 (IPv4) or bits6 (IPv6) bits, so that
 * sources in one netblock compare equal (PerSourceNetBlockSize). */
void src_mask(struct src_addr *s, unsigned bits4, unsigned bits6);
/* Numeric text form into buf (INET6_ADDRSTRLEN is enough). */
const char *src_format(const struct src_addr *s, char *buf, size_t size);

/* Seconds of penalty an outcome earns under t->conf (0 for OUTCOME_OK and
 * when penalties are off). */
unsigned penalty_for(const struct penalty_table *t, enum conn_outcome o);

/* Adds secs of penalty to src: the expiry moves secs further (from now if it
 * had lapsed), capped at now + max; the source is refused once its
 * pending penalty reaches min (t->conf). A full table forgets the entry
 * that expires first. */
void penalty_add(struct penalty_table *t,
                 const struct src_addr *src,
                 unsigned secs,
                 uint64_t now);

/* True when src is being refused; *ret_left_ms (may be NULL) says for how
 * much longer. Expired entries are dropped on the way. */
bool penalty_active(struct penalty_table *t,
                    const struct src_addr *src,
                    uint64_t now,
                    uint64_t *ret_left_ms);

/* The admission decision for a new connection from src (already masked
 * to its netblock) given the counts n, in this order: a penalty (unless
 * exempt or penalties are off), the authenticated cap, the per-source cap,
 * then random early drop with one draw from uniform. */
enum admit limits_admit(struct penalty_table *t,
                        const struct limits_conf *lc,
                        const struct src_addr *src,
                        bool exempt,
                        uint64_t now,
                        const struct admit_counts *n,
                        limits_uniform_fn uniform);

const char *admit_reason(enum admit a);

#endif
