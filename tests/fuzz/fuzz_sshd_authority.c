/* libFuzzer target for both ends of the key authority protocol
 * (src/sshd/authority.c). The first byte picks the end:
 *   even: the bytes are a request a (possibly compromised, pre-auth)
 *         connection process sends; the listener serves it against a set
 *         holding one key, which must never grant a key it does not hold;
 *   odd:  the bytes are an answer the connection process receives to a
 *         question about that key; a "yes" must yield a valid entry.
 * Both run over a real SEQPACKET socketpair, as in airlock-sshd. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keys/keys.h"
#include "sshd/authority.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A public key made for these tests; nobody's secret. */
#define KEY        \
    "ssh-ed25519 " \
    "AAAAC3NzaC1lZDI1NTE5AAAAIGCWXOc0fm7ixe1sAk4JaV/XYC8GiHAPHRByAyw1S7Cc fz"

static struct keys_set set;
static struct keys_set cas;
static const struct keys_trust trust = {&set, &cas, NULL};
static struct keys_entry key;
static int sp[2] = {-1, -1};

static void
init_once(void)
{
    const char *errstr = NULL;
    struct keys_entry e;

    if (sp[0] >= 0) {
        return;
    }
    if (sodium_init() < 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ||
        keys_parse_line(KEY, strlen(KEY), 0, &key, &errstr) != 1 ||
        keys_parse_line(KEY, strlen(KEY), 0, &e, &errstr) != 1) {
        abort();
    }
    strcpy(e.user, "root");
    e.source = strdup("fuzz");
    if (e.source == NULL || keys_set_add(&set, &e) < 0) {
        abort();
    }
    keys_entry_free(&e);
}

/* Empties both directions, so one input never sees another's bytes. */
static void
drain(void)
{
    char buf[AUTHORITY_MSG_MAX];

    for (int i = 0; i < 2; i++) {
        while (recv(sp[i], buf, sizeof(buf), MSG_DONTWAIT) > 0) {
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct authority_grant grant;
    bool logged_in = false;

    init_once();
    if (size < 1 || size - 1 > AUTHORITY_MSG_MAX) {
        return 0;
    }
    drain();
    memset(&grant, 0, sizeof(grant));
    if ((data[0] & 1) == 0) {
        if (size > 1 && send(sp[1], data + 1, size - 1, 0) < 0) {
            abort();
        }
        if (size == 1) {
            return 0;
        }
        (void)authority_serve(sp[0],
                              &trust,
                              "127.0.0.1",
                              time(NULL),
                              NULL,
                              &grant,
                              &logged_in);
        /* Only the held key, for its user, can ever be granted. */
        if (grant.active && (strcmp(grant.user, "root") != 0 ||
                             strcmp(grant.fingerprint, key.fingerprint) != 0)) {
            abort();
        }
    } else {
        struct keys_entry e;
        char why_buf[128];
        const char *why = NULL;

        /* The answer is queued before the question is asked. */
        if (size > 1 && send(sp[0], data + 1, size - 1, 0) < 0) {
            abort();
        }
        if (size == 1) {
            return 0;
        }
        if (authority_ask(sp[1],
                          true,
                          "root",
                          key.type,
                          key.blob,
                          key.blob_len,
                          &e,
                          why_buf,
                          sizeof(why_buf),
                          &why) == 0) {
            if (strcmp(e.user, "root") != 0 || e.blob_len != key.blob_len) {
                abort();
            }
            keys_entry_free(&e);
        } else if (why == NULL) {
            abort();
        }
    }
    return 0;
}
