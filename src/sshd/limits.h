/* Connection admission for the listener: MaxStartups, per-source caps and
 * OpenSSH 9.8-style per-source penalties. Pure bookkeeping: times are
 * passed in (milliseconds, CLOCK_MONOTONIC), nothing here does I/O. */
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

struct penalty_table {
    struct penalty_entry e[PENALTY_SLOTS];
    size_t n;
};

/* How a connection process ended, from its exit status (see conn.h). */
enum conn_outcome {
    OUTCOME_OK,       /* authenticated, or nothing to hold against it */
    OUTCOME_AUTHFAIL, /* auth attempted and failed */
    OUTCOME_NOAUTH,   /* closed without trying to authenticate */
    OUTCOME_GRACE,    /* login grace time exceeded */
    OUTCOME_CRASH,    /* killed by a signal we did not send */
};

enum admit {
    ADMIT_OK,
    ADMIT_MAX_STARTUPS,
    ADMIT_PER_SOURCE,
    ADMIT_PENALTY,
    ADMIT_AUTHED_CAP,
};

int src_from_sockaddr(const struct sockaddr *sa,
                      socklen_t len,
                      struct src_addr *ret);
bool src_equal(const struct src_addr *a, const struct src_addr *b);
/* Numeric text form into buf (INET6_ADDRSTRLEN is enough). */
const char *src_format(const struct src_addr *s, char *buf, size_t size);

/* Seconds of penalty an outcome earns (0 for OUTCOME_OK). */
unsigned penalty_for(enum conn_outcome o);

/* Adds secs of penalty to src: the expiry moves secs further (from now if it
 * had lapsed), capped at now + PENALTY_MAX; the source is refused once its
 * pending penalty reaches PENALTY_MIN. A full table forgets the entry that
 * expires first. */
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

/* The admission decision for a new connection from a source that already
 * has src_unauth unauthenticated connections, with unauth/authed totals. */
enum admit limits_admit(struct penalty_table *t,
                        const struct src_addr *src,
                        uint64_t now,
                        unsigned unauth,
                        unsigned src_unauth,
                        unsigned authed,
                        unsigned max_startups,
                        unsigned per_source,
                        unsigned authed_max);

const char *admit_reason(enum admit a);

#endif
