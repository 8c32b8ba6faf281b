/* Admission and penalties. The table is a flat array: 4096 slots scanned
 * linearly is a few microseconds per accept, far below a TCP handshake,
 * and it cannot grow without bound. */
#include "sshd/limits.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

int
src_from_sockaddr(const struct sockaddr *sa,
                  socklen_t len,
                  struct src_addr *ret)
{
    struct src_addr s;

    memset(&s, 0, sizeof(s));
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        s.family = AF_INET;
        memcpy(s.a, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6 &&
               len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            s.family = AF_INET;
            memcpy(s.a, in6->sin6_addr.s6_addr + 12, 4);
        } else {
            s.family = AF_INET6;
            memcpy(s.a, &in6->sin6_addr, 16);
        }
    } else {
        return -EAFNOSUPPORT;
    }
    *ret = s;
    return 0;
}

bool
src_equal(const struct src_addr *a, const struct src_addr *b)
{
    return a->family == b->family && memcmp(a->a, b->a, 16) == 0;
}

const char *
src_format(const struct src_addr *s, char *buf, size_t size)
{
    if (inet_ntop(s->family, s->a, buf, (socklen_t)size) == NULL) {
        return "?";
    }
    return buf;
}

unsigned
penalty_for(enum conn_outcome o)
{
    switch (o) {
    case OUTCOME_AUTHFAIL:
        return PENALTY_AUTHFAIL;
    case OUTCOME_NOAUTH:
        return PENALTY_NOAUTH;
    case OUTCOME_GRACE:
        return PENALTY_GRACE;
    case OUTCOME_CRASH:
        return PENALTY_CRASH;
    case OUTCOME_OK:
        break;
    }
    return 0;
}

static void
penalty_expire(struct penalty_table *t, uint64_t now)
{
    size_t i = 0;

    while (i < t->n) {
        if (t->e[i].expiry_ms <= now) {
            t->e[i] = t->e[--t->n];
        } else {
            i++;
        }
    }
}

static struct penalty_entry *
penalty_find(struct penalty_table *t, const struct src_addr *src)
{
    for (size_t i = 0; i < t->n; i++) {
        if (src_equal(&t->e[i].src, src)) {
            return &t->e[i];
        }
    }
    return NULL;
}

void
penalty_add(struct penalty_table *t,
            const struct src_addr *src,
            unsigned secs,
            uint64_t now)
{
    struct penalty_entry *e;
    uint64_t cap = now + (uint64_t)PENALTY_MAX * 1000;

    if (secs == 0) {
        return;
    }
    penalty_expire(t, now);
    e = penalty_find(t, src);
    if (e == NULL) {
        if (t->n == PENALTY_SLOTS) {
            /* Forget the one closest to lapsing anyway. */
            size_t victim = 0;
            for (size_t i = 1; i < t->n; i++) {
                if (t->e[i].expiry_ms < t->e[victim].expiry_ms) {
                    victim = i;
                }
            }
            e = &t->e[victim];
        } else {
            e = &t->e[t->n++];
        }
        e->src = *src;
        e->expiry_ms = now;
        e->active = false;
    }
    e->expiry_ms += (uint64_t)secs * 1000;
    if (e->expiry_ms > cap) {
        e->expiry_ms = cap;
    }
    if (e->expiry_ms - now >= (uint64_t)PENALTY_MIN * 1000) {
        e->active = true;
    }
}

bool
penalty_active(struct penalty_table *t,
               const struct src_addr *src,
               uint64_t now,
               uint64_t *ret_left_ms)
{
    struct penalty_entry *e;

    penalty_expire(t, now);
    e = penalty_find(t, src);
    if (e == NULL || !e->active) {
        return false;
    }
    if (ret_left_ms != NULL) {
        *ret_left_ms = e->expiry_ms - now;
    }
    return true;
}

enum admit
limits_admit(struct penalty_table *t,
             const struct src_addr *src,
             uint64_t now,
             unsigned unauth,
             unsigned src_unauth,
             unsigned authed,
             unsigned max_startups,
             unsigned per_source,
             unsigned authed_max)
{
    if (penalty_active(t, src, now, NULL)) {
        return ADMIT_PENALTY;
    }
    if (unauth >= max_startups) {
        return ADMIT_MAX_STARTUPS;
    }
    if (src_unauth >= per_source) {
        return ADMIT_PER_SOURCE;
    }
    if (authed >= authed_max) {
        return ADMIT_AUTHED_CAP;
    }
    return ADMIT_OK;
}

const char *
admit_reason(enum admit a)
{
    switch (a) {
    case ADMIT_OK:
        return "ok";
    case ADMIT_MAX_STARTUPS:
        return "too many unauthenticated connections (MaxStartups)";
    case ADMIT_PER_SOURCE:
        return "too many unauthenticated connections from this source";
    case ADMIT_PENALTY:
        return "source penalised";
    case ADMIT_AUTHED_CAP:
        return "too many authenticated connections";
    }
    return "?";
}
