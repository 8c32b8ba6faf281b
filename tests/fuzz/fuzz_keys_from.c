/* libFuzzer target for the from= matcher (keys_from_allows and the
 * wildcard and CIDR matchers under it): the input is "PATTERN-LIST\nPEER".
 * Besides running without a sanitizer report, the matcher must agree with
 * itself: a peer always matches its own canonical address, as a pattern,
 * as a host CIDR and as any wildcard of it, and a negated match denies. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/internal.h"
#include "keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
allows(const char *from, const char *peer)
{
    struct keys_options o;

    memset(&o, 0, sizeof(o));
    o.from = (char *)from;
    return keys_from_allows(&o, peer);
}

/* The canonical text of peer as keys_from_allows sees it (a v4-mapped
 * address as IPv4); false if peer is not an address. */
static bool
canonical(const char *peer, char *text, size_t size, bool *v4)
{
    unsigned char a[16];
    static const unsigned char mapped[12] =
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (inet_pton(AF_INET, peer, a) == 1) {
        *v4 = true;
    } else if (inet_pton(AF_INET6, peer, a) == 1) {
        *v4 = memcmp(a, mapped, 12) == 0;
        if (*v4) {
            memmove(a, a + 12, 4);
        }
    } else {
        return false;
    }
    return inet_ntop(*v4 ? AF_INET : AF_INET6, a, text, (socklen_t)size) !=
           NULL;
}

static void
check_self(const char *from, const char *peer)
{
    char text[INET6_ADDRSTRLEN], pat[INET6_ADDRSTRLEN + 16];
    bool v4;

    if (!canonical(peer, text, sizeof(text), &v4)) {
        if (allows(from, peer)) {
            abort(); /* a peer that is no address never gets in */
        }
        return;
    }
    (void)snprintf(pat, sizeof(pat), "%s/%u", text, v4 ? 32u : 128u);
    if (!allows(text, peer) || !allows(pat, peer) || !allows("*", peer) ||
        allows("!*", peer) || allows(pat + 0, NULL)) {
        abort();
    }
    if (allows(from, peer)) {
        /* Adding a negation of the peer itself must deny. */
        char *neg = malloc(strlen(from) + sizeof(pat) + 3);
        if (neg == NULL) {
            return;
        }
        (void)sprintf(neg, "%s,!%s", from, text);
        if (allows(neg, peer)) {
            abort();
        }
        free(neg);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    size_t alen = nl ? size - plen - 1 : 0;
    char *from = malloc(plen + 1), *peer = malloc(alen + 1);
    unsigned char net[16];
    int family;
    unsigned prefix;

    if (from == NULL || peer == NULL) {
        free(from);
        free(peer);
        return 0;
    }
    memcpy(from, data, plen);
    from[plen] = '\0';
    if (alen > 0) {
        memcpy(peer, nl + 1, alen);
    }
    peer[alen] = '\0';

    (void)allows(from, peer);
    check_self(from, peer);
    /* Every string matches itself as a pattern ('*' and '?' included). */
    if (!keys_wildcard_match(peer, peer) || !keys_wildcard_match(from, from) ||
        !keys_wildcard_match(from, "*")) {
        abort();
    }
    (void)keys_wildcard_match(peer, from);
    if (keys_cidr_parse(from, net, &family, &prefix) &&
        (family == AF_INET ? prefix > 32 : prefix > 128)) {
        abort();
    }
    free(from);
    free(peer);
    return 0;
}
