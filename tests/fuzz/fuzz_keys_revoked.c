/* libFuzzer target for the revocation list parser (keys_revoked_parse:
 * the ssh-keygen -k text form and the binary KRL): any input either
 * parses or gives a reason; a parsed list answers queries. Seeds include
 * KRLs made by ssh-keygen -k (tests/fuzz/cert_seeds.sh). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keys_revoked rv;
    struct keys_cert c;
    const char *why = NULL;
    unsigned line = 0;

    if (keys_revoked_parse((const char *)data, size, &rv, &line, &why) != 0) {
        if (why == NULL) {
            abort();
        }
        return 0;
    }
    for (size_t i = 0; i < rv.nserials; i++) {
        if (rv.serials[i].lo > rv.serials[i].hi) {
            abort();
        }
    }
    memset(&c, 0, sizeof(c));
    c.key_id = (char *)"id";
    c.key_blob = (unsigned char *)"\0\0\0\001x";
    c.key_blob_len = 5;
    c.ca_blob = c.key_blob;
    c.ca_blob_len = 5;
    c.serial = 1;
    memcpy(c.fingerprint, "SHA256:x", 9);
    memcpy(c.ca_fingerprint, "SHA256:y", 9);
    (void)keys_revoked_cert(&rv, &c, &why);
    (void)keys_revoked_key(&rv, data, size);
    keys_revoked_free(&rv);
    return 0;
}
