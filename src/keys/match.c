/* from= pattern matching (OpenSSH's addr_match_list/match_pattern
 * semantics, without DNS: only the peer's address is matched), the
 * expiry-time check, and keys_authorise, the one place where a matched
 * key's type, size and options decide a login. */
#include "keys/keys.h"
#include "keys/internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/strutil.h"

bool
keys_cidr_parse(const char *s,
                unsigned char addr[16],
                int *family,
                unsigned *prefix)
{
    char buf[INET6_ADDRSTRLEN + 8];
    const char *slash = strchr(s, '/');
    size_t alen;
    unsigned long n = 0;
    unsigned max;

    if (slash == NULL) {
        return false;
    }
    alen = (size_t)(slash - s);
    if (alen == 0 || alen >= sizeof(buf) || slash[1] == '\0' ||
        strlen(slash + 1) > 3 ||
        strspn(slash + 1, "0123456789") != strlen(slash + 1)) {
        return false;
    }
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, addr) == 1) {
        *family = AF_INET6;
        max = 128;
    } else {
        return false;
    }
    for (const char *d = slash + 1; *d; d++) {
        n = n * 10 + (unsigned long)(*d - '0');
    }
    if (n > max) {
        return false;
    }
    /* Host bits must be zero, as OpenSSH's addr_pton_cidr requires:
     * "10.1.2.3/8" is more likely a typo than a wish. */
    for (unsigned bit = (unsigned)n; bit < max; bit++) {
        if (addr[bit / 8] & (0x80 >> (bit % 8))) {
            return false;
        }
    }
    *prefix = (unsigned)n;
    return true;
}

bool
keys_wildcard_match(const char *s, const char *p)
{
    const char *star = NULL, *resume = NULL;

    /* Iterative matching with one backtrack point: linear memory, and
     * O(len(s) * len(p)) time at worst. */
    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p == '?' || (*p && tolower((unsigned char)*p) ==
                                           tolower((unsigned char)*s))) {
            p++;
            s++;
        } else if (star != NULL) {
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*') {
        p++;
    }
    return *p == '\0';
}

/* An address in binary form: IPv6 (inet_pton), or IPv4 in dotted quad
 * (inet_pton) or, when lenient, in any form inet_aton(3) accepts
 * ("127.1", "0x7f.1"), as getaddrinfo does for a from= pattern; an
 * IPv4-mapped IPv6 address folds to the IPv4 address it carries. Used for
 * the peer (strict: anything else is no address and never gets in) and
 * for patterns alike, so both compare the same way. */
static bool
parse_address(const char *s, unsigned char a[16], int *family, bool lenient)
{
    static const unsigned char mapped[12] =
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    struct in_addr in;

    memset(a, 0, 16);
    if (inet_pton(AF_INET6, s, a) == 1) {
        *family = AF_INET6;
        if (memcmp(a, mapped, 12) == 0) {
            memmove(a, a + 12, 4);
            memset(a + 4, 0, 12);
            *family = AF_INET;
        }
        return true;
    }
    if (lenient ? inet_aton(s, &in) != 0 : inet_pton(AF_INET, s, &in) == 1) {
        memcpy(a, &in.s_addr, 4);
        *family = AF_INET;
        return true;
    }
    return false;
}

/* The peer in canonical text and binary form. */
static bool
parse_peer(const char *peer,
           char *text,
           size_t size,
           unsigned char a[16],
           int *family)
{
    return parse_address(peer, a, family, false) &&
           inet_ntop(*family, a, text, (socklen_t)size) != NULL;
}

static bool
cidr_contains(const unsigned char net[16],
              unsigned prefix,
              const unsigned char a[16])
{
    unsigned full = prefix / 8, rest = prefix % 8;

    if (memcmp(net, a, full) != 0) {
        return false;
    }
    if (rest == 0) {
        return true;
    }
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (net[full] & mask) == (a[full] & mask);
}

bool
keys_from_allows(const struct keys_options *o, const char *peer_addr)
{
    char text[INET6_ADDRSTRLEN];
    unsigned char a[16];
    int family;
    bool found = false;
    const char *p;

    if (o == NULL || o->from == NULL) {
        return true;
    }
    if (peer_addr == NULL ||
        !parse_peer(peer_addr, text, sizeof(text), a, &family)) {
        return false;
    }
    p = o->from;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char pat[256];
        unsigned char net_of_pat[16];
        int pfam = 0;
        bool negate = false, match = false;

        if (len > 0 && *p == '!') {
            negate = true;
            p++;
            len--;
        }
        if (len > 0 && len < sizeof(pat)) {
            memcpy(pat, p, len);
            pat[len] = '\0';
            if (strchr(pat, '/') != NULL) {
                unsigned char net[16];
                int nfam;
                unsigned prefix;
                if (!keys_cidr_parse(pat, net, &nfam, &prefix)) {
                    /* Fail closed: a broken negation must not let in. */
                    if (negate) {
                        return false;
                    }
                } else {
                    match = nfam == family && cidr_contains(net, prefix, a);
                }
            } else if (strpbrk(pat, "*?") == NULL &&
                       parse_address(pat, net_of_pat, &pfam, true)) {
                /* An address written in any form ("0::1", "127.1")
                 * matches as an address, as OpenSSH's addr_match_list
                 * does, so a negation cannot be dodged by spelling. */
                match = pfam == family &&
                        memcmp(net_of_pat, a, pfam == AF_INET ? 4 : 16) == 0;
            } else {
                match = keys_wildcard_match(text, pat);
            }
        } else if (negate) {
            return false;
        }
        if (match && negate) {
            return false;
        }
        found = found || match;
        if (end == NULL) {
            break;
        }
        p = end + 1;
    }
    return found;
}

bool
keys_expired(const struct keys_options *o, time_t now)
{
    return o != NULL && o->valid_before != 0 && now >= o->valid_before;
}

bool
keys_permitopen_allows(const struct keys_options *o,
                       const char *host,
                       unsigned port)
{
    if (o->npermitopen == 0) {
        return true;
    }
    for (size_t i = 0; i < o->npermitopen; i++) {
        const char *v = o->permitopen[i], *h = v, *colon;
        size_t hlen;
        uint64_t p = 0;

        /* The parser accepted only "host:port" and "[v6]:port". */
        if (v[0] == '[') {
            const char *close = strchr(v, ']');
            if (close == NULL) {
                continue;
            }
            h = v + 1;
            hlen = (size_t)(close - h);
            colon = close + 1;
        } else {
            colon = strrchr(v, ':');
            if (colon == NULL) {
                continue;
            }
            hlen = (size_t)(colon - v);
        }
        if (*colon != ':' || strlen(host) != hlen ||
            memcmp(h, host, hlen) != 0) {
            continue;
        }
        if (strcmp(colon + 1, "*") == 0 ||
            (parse_uint(colon + 1, 65535, &p) == 0 && p == port)) {
            return true;
        }
    }
    return false;
}

int
keys_authorise(const struct keys_entry *e,
               const char *peer_addr,
               time_t now,
               const char **why)
{
    /* Type and size were checked when the line was parsed; checked again
     * so that no path into the live set can skip them. */
    /* A certificate type only on an entry keys_authorise_key built from
     * a validated certificate (ca_fingerprint set). */
    if (e->ca_fingerprint[0] != '\0' ? !keys_cert_type_allowed(e->type)
                                     : !keys_type_allowed(e->type)) {
        *why = "key type not allowed";
        return -EPERM;
    }
    if ((strcmp(e->type, "ssh-rsa") == 0 ||
         strcmp(e->type, "ssh-rsa-cert-v01@openssh.com") == 0) &&
        e->bits < KEYS_RSA_MIN_BITS) {
        *why = "RSA key shorter than 2048 bits";
        return -EPERM;
    }
    if (keys_expired(&e->opts, now)) {
        *why = "key expired (expiry-time)";
        return -EPERM;
    }
    if (!keys_from_allows(&e->opts, peer_addr)) {
        *why = "source address not allowed by from=";
        return -EPERM;
    }
    return 0;
}
