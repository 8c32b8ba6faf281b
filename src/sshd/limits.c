/* Admission and penalties. The table is a flat array: 4096 slots scanned
 * linearly is a few microseconds per accept, far below a TCP handshake,
 * and it cannot grow without bound. */
#include "sshd/limits.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/strutil.h"
#include "keys/keys.h"

static const struct penalty_conf penalty_defaults = {
    .enabled = true,
    .crash = PENALTY_CRASH,
    .authfail = PENALTY_AUTHFAIL,
    .noauth = PENALTY_NOAUTH,
    .grace = PENALTY_GRACE,
    .min = PENALTY_MIN,
    .max = PENALTY_MAX,
    .exempt = "",
};

void
limits_conf_default(struct limits_conf *lc, unsigned authed_max)
{
    memset(lc, 0, sizeof(*lc));
    lc->startups.start = 10;
    lc->startups.rate = 30;
    lc->startups.full = 100;
    lc->per_source = 0;
    lc->netblock4 = 32;
    lc->netblock6 = 128;
    lc->authed_max = authed_max;
    lc->penalty = penalty_defaults;
}

/* A whole number in [min, max] from the n bytes at s (no NUL needed). */
static int
parse_part(const char *s, size_t n, unsigned min, unsigned max, unsigned *ret)
{
    char buf[16];
    uint64_t v;

    if (n == 0 || n >= sizeof(buf)) {
        return -EINVAL;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (parse_uint(buf, max, &v) < 0 || v < min) {
        return -EINVAL;
    }
    *ret = (unsigned)v;
    return 0;
}

int
limits_parse_max_startups(const char *s,
                          unsigned limit,
                          struct max_startups *ret,
                          const char **reason)
{
    static char why[96];
    const char *c1 = strchr(s, ':'), *c2;
    struct max_startups ms;

    if (c1 == NULL) {
        /* OpenSSH keeps a single number as start = full: a hard cap. */
        if (parse_part(s, strlen(s), 1, limit, &ms.full) < 0) {
            (void)snprintf(why,
                           sizeof(why),
                           "not a number from 1 to %u or start:rate:full",
                           limit);
            *reason = why;
            return -EINVAL;
        }
        ms.start = ms.full;
        ms.rate = 100;
        *ret = ms;
        return 0;
    }
    c2 = strchr(c1 + 1, ':');
    if (c2 == NULL || strchr(c2 + 1, ':') != NULL ||
        parse_part(s, (size_t)(c1 - s), 1, limit, &ms.start) < 0 ||
        parse_part(c1 + 1, (size_t)(c2 - c1 - 1), 1, 100, &ms.rate) < 0 ||
        parse_part(c2 + 1, strlen(c2 + 1), 1, limit, &ms.full) < 0) {
        (void)snprintf(why,
                       sizeof(why),
                       "not start:rate:full with start and full from 1 to %u "
                       "and rate from 1 to 100",
                       limit);
        *reason = why;
        return -EINVAL;
    }
    if (ms.start > ms.full) {
        *reason = "start is above full";
        return -EINVAL;
    }
    *ret = ms;
    return 0;
}

int
limits_parse_per_source(const char *s,
                        unsigned limit,
                        unsigned *ret,
                        const char **reason)
{
    static char why[64];

    if (strcmp(s, "none") == 0) {
        *ret = 0;
        return 0;
    }

    if (parse_part(s, strlen(s), 1, limit, ret) < 0) {
        (void)snprintf(why,
                       sizeof(why),
                       "not a number from 1 to %u or none",
                       limit);
        *reason = why;
        return -EINVAL;
    }
    return 0;
}

int
limits_parse_netblock(const char *s,
                      unsigned *v4,
                      unsigned *v6,
                      const char **reason)
{
    const char *c = strchr(s, ':');
    unsigned a, b = *v6;

    if (parse_part(s, c ? (size_t)(c - s) : strlen(s), 0, 32, &a) < 0 ||
        (c != NULL && parse_part(c + 1, strlen(c + 1), 0, 128, &b) < 0)) {
        *reason = "not V4 or V4:V6 prefix bits (0-32, 0-128)";
        return -EINVAL;
    }
    *v4 = a;
    *v6 = b;
    return 0;
}

/* "90" or "90s": whole seconds, the form the README documents. */
static int
parse_penalty_secs(const char *s, size_t n, unsigned *ret)
{
    if (n > 1 && s[n - 1] == 's') {
        n--;
    }
    return parse_part(s, n, 0, PENALTY_SETTING_MAX, ret);
}

int
limits_parse_penalties(const char *s,
                       struct penalty_conf *pc,
                       const char **reason)
{
    static const struct {
        const char *name;
        size_t off;
    } items[] = {
        {"crash", offsetof(struct penalty_conf, crash)},
        {"authfail", offsetof(struct penalty_conf, authfail)},
        {"noauth", offsetof(struct penalty_conf, noauth)},
        {"grace-exceeded", offsetof(struct penalty_conf, grace)},
        {"min", offsetof(struct penalty_conf, min)},
        {"max", offsetof(struct penalty_conf, max)},
    };
    struct penalty_conf c = *pc;
    bool flag;
    const char *p = s;

    if (parse_bool(s, &flag) == 0) {
        if (flag) {
            c = penalty_defaults;
            memcpy(c.exempt, pc->exempt, sizeof(c.exempt));
        }
        c.enabled = flag;
        *pc = c;
        return 0;
    }
    c.enabled = true;
    while (*p != '\0') {
        size_t n = strcspn(p, ", "), i;
        const char *colon = memchr(p, ':', n);
        unsigned v;

        if (n == 0) {
            p++;
            continue;
        }
        if (colon == NULL) {
            *reason = "not yes, no, or name:seconds items (crash, authfail, "
                      "noauth, grace-exceeded, min, max)";
            return -EINVAL;
        }
        for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
            if (strlen(items[i].name) == (size_t)(colon - p) &&
                memcmp(items[i].name, p, (size_t)(colon - p)) == 0) {
                break;
            }
        }
        if (i == sizeof(items) / sizeof(items[0])) {
            *reason = "unknown penalty (known: crash, authfail, noauth, "
                      "grace-exceeded, min, max)";
            return -EINVAL;
        }
        if (parse_penalty_secs(colon + 1, n - (size_t)(colon + 1 - p), &v) <
            0) {
            *reason = "a penalty is not a whole number of seconds up to 86400";
            return -EINVAL;
        }
        memcpy((char *)&c + items[i].off, &v, sizeof(v));
        p += n;
    }
    if (c.max < c.min) {
        *reason = "max is below min, so no penalty would ever apply";
        return -EINVAL;
    }
    *pc = c;
    return 0;
}

int
limits_parse_exempt(const char *s, char *dst, size_t size, const char **reason)
{
    struct keys_options o;
    char opt[LIMITS_EXEMPT_MAX + 16];
    const char *errstr = NULL;
    int n;

    /* The key parser already validates OpenSSH pattern lists for from=;
     * asking it keeps one grammar for both. */
    n = snprintf(opt, sizeof(opt), "from=\"%s\"", s);
    if (n < 0 || (size_t)n >= sizeof(opt) || strlen(s) >= size) {
        *reason = "list too long";
        return -EINVAL;
    }
    memset(&o, 0, sizeof(o));
    if (keys_parse_options(opt, (size_t)n, 0, &o, &errstr) < 0) {
        *reason = "not a comma-separated list of addresses, CIDR ranges "
                  "(host bits zero) or wildcards";
        return -EINVAL;
    }
    keys_options_free(&o);
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

bool
limits_exempt(const struct penalty_conf *pc, const char *peer)
{
    struct keys_options o;

    if (pc == NULL || pc->exempt[0] == '\0') {
        return false;
    }
    memset(&o, 0, sizeof(o));
    o.from = (char *)pc->exempt; /* only read by keys_from_allows */
    return keys_from_allows(&o, peer);
}

bool
max_startups_drop(const struct max_startups *ms,
                  unsigned unauth,
                  limits_uniform_fn uniform)
{
    unsigned p;

    if (unauth < ms->start) {
        return false;
    }
    if (unauth >= ms->full) {
        return true;
    }
    /* Here start <= unauth < full, so full - start > 0. */
    p = ms->rate +
        (100 - ms->rate) * (unauth - ms->start) / (ms->full - ms->start);
    return uniform(100) < p;
}

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

void
src_mask(struct src_addr *s, unsigned bits4, unsigned bits6)
{
    unsigned bits = s->family == AF_INET ? bits4 : bits6;
    unsigned max = s->family == AF_INET ? 32 : 128;

    for (unsigned b = bits; b < max; b++) {
        s->a[b / 8] &= (unsigned char)~(0x80u >> (b % 8));
    }
}

const char *
src_format(const struct src_addr *s, char *buf, size_t size)
{
    if (inet_ntop(s->family, s->a, buf, (socklen_t)size) == NULL) {
        return "?";
    }
    return buf;
}

static const struct penalty_conf *
conf_of(const struct penalty_table *t)
{
    return t->conf != NULL ? t->conf : &penalty_defaults;
}

unsigned
penalty_for(const struct penalty_table *t, enum conn_outcome o)
{
    const struct penalty_conf *c = conf_of(t);

    if (!c->enabled) {
        return 0;
    }
    switch (o) {
    case OUTCOME_AUTHFAIL:
        return c->authfail;
    case OUTCOME_NOAUTH:
        return c->noauth;
    case OUTCOME_GRACE:
        return c->grace;
    case OUTCOME_CRASH:
        return c->crash;
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
    const struct penalty_conf *c = conf_of(t);
    struct penalty_entry *e;
    uint64_t cap = now + (uint64_t)c->max * 1000;

    if (secs == 0 || !c->enabled) {
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
    if (e->expiry_ms > now && e->expiry_ms - now >= (uint64_t)c->min * 1000) {
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
             const struct limits_conf *lc,
             const struct src_addr *src,
             bool exempt,
             uint64_t now,
             const struct admit_counts *n,
             limits_uniform_fn uniform)
{
    if (lc->penalty.enabled && !exempt && penalty_active(t, src, now, NULL)) {
        return ADMIT_PENALTY;
    }
    if (n->authed >= lc->authed_max) {
        return ADMIT_AUTHED_CAP;
    }
    if (lc->per_source != 0 && n->src_unauth >= lc->per_source) {
        return ADMIT_PER_SOURCE;
    }
    /* Last, so a draw is spent only when nothing else decided. */
    if (max_startups_drop(&lc->startups, n->unauth, uniform)) {
        return ADMIT_MAX_STARTUPS;
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
