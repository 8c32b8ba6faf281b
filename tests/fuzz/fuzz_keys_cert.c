/* libFuzzer target for the certificate parser and verifier
 * (keys_cert_parse, keys_cert_verify) and the decision built on them
 * (keys_authorise_key): the input is a certificate blob. Its own CA key
 * is made trusted, so that every input that parses also reaches the
 * signature check and the checks after it; seeds are made at fuzz time
 * by ssh-keygen -s (tests/fuzz/cert_seeds.sh). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keys/internal.h"
#include "keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_invariants(const struct keys_cert *c, size_t size)
{
    if (c->signed_len == 0 || c->signed_len >= size || c->key_blob_len == 0 ||
        strncmp(c->fingerprint, "SHA256:", 7) != 0 ||
        strncmp(c->ca_fingerprint, "SHA256:", 7) != 0 ||
        c->nprincipals > KEYS_CERT_MAX_PRINC ||
        strlen(c->key_id) >= KEYS_CERT_ID_MAX ||
        !keys_cert_type_allowed(c->type)) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keys_cert c;
    const char *why = NULL;
    struct keys_entry ca, e;
    struct keys_set cas = {0}, none = {0};
    struct keys_revoked rv = {0};
    struct keys_trust t = {&none, &cas, &rv};
    char type[KEYS_TYPE_MAX];

    if (keys_cert_parse(data, size, &c, &why) != 0) {
        if (why == NULL) {
            abort(); /* every refusal has a reason */
        }
        return 0;
    }
    check_invariants(&c, size);
    (void)keys_cert_verify(data, &c, &why);

    /* Trust the certificate's own CA for "root" and decide. */
    memset(&ca, 0, sizeof(ca));
    memcpy(ca.type, c.ca_type, sizeof(ca.type));
    ca.blob = (unsigned char *)c.ca_blob;
    ca.blob_len = c.ca_blob_len;
    memcpy(ca.fingerprint, c.ca_fingerprint, sizeof(ca.fingerprint));
    memcpy(ca.user, "root", 5);
    ca.source = (char *)"fuzz";
    ca.comment = (char *)"";
    memcpy(type, c.type, sizeof(type));
    if (keys_set_add(&cas, &ca) == 0) {
        if (keys_authorise_key(&t,
                               "root",
                               type,
                               data,
                               size,
                               "192.0.2.1",
                               (time_t)1700000000,
                               &e,
                               &why) == 0) {
            /* What was granted must be what the certificate says. */
            if (strcmp(e.fingerprint, c.fingerprint) != 0 ||
                strcmp(e.cert_id, c.key_id) != 0 || e.cert_serial != c.serial ||
                e.opts.no_pty == c.permit_pty ||
                c.cert_type != KEYS_CERT_TYPE_USER) {
                abort();
            }
            keys_entry_free(&e);
        }
    }
    keys_set_free(&cas);
    keys_cert_free(&c);
    return 0;
}
