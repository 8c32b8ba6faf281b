/* libFuzzer target for session recording (src/sshd/record.c):
 * - the JSON string encoder: the input, escaped whole and cut into up to
 *   four chunks (cut points from its first bytes) with the UTF-8 carry,
 *   must give the same output, within RECORD_JSON_MAX, that is a valid
 *   JSON string body (RFC 8259) of valid UTF-8 (RFC 3629);
 * - the listener's parser of a connection's 'R' request (record_serve),
 *   which a compromised connection process controls: the input is sent
 *   as one message; with no recording directory configured, any answer
 *   is a refusal and nothing is created;
 * - record_parse_size on the input as a string. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/utf8.h"
#include "sshd/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

/* Is out[0..n) a JSON string body of valid UTF-8? */
static void
check_json_body(const char *out, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = (unsigned char)out[i];
        if (c == '\\') {
            assert(i + 1 < n);
            if (out[i + 1] == 'u') {
                assert(i + 5 < n);
                for (size_t k = 2; k < 6; k++) {
                    assert(is_hex(out[i + k]));
                }
                i += 6;
            } else {
                assert(strchr("\"\\/bfnrt", out[i + 1]) != NULL);
                i += 2;
            }
            continue;
        }
        assert(c >= 0x20 && c != '"');
        {
            size_t s = utf8_seq_len((const unsigned char *)out + i, n - i);
            assert(s > 0);
            i += s;
        }
    }
}

static void
fuzz_escape(const uint8_t *data, size_t size)
{
    struct record_utf8 carry = {0};
    size_t cuts[4], ncuts = 0, o = 0, from = 0, whole_len;
    char *whole = malloc(RECORD_JSON_MAX(size));
    char *split = malloc(RECORD_JSON_MAX(size) * 5);

    assert(whole != NULL && split != NULL);
    for (size_t i = 0; i < 4 && i < size; i++) {
        size_t c = size > 0 ? data[i] % (size + 1) : 0;
        if (c >= from) {
            cuts[ncuts++] = c;
            from = c;
        }
    }
    whole_len = record_json_escape(NULL, data, size, true, whole);
    assert(whole_len <= RECORD_JSON_MAX(size));
    check_json_body(whole, whole_len);
    from = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : size;
        size_t n = record_json_escape(&carry,
                                      data + from,
                                      to - from,
                                      i == ncuts,
                                      split + o);
        assert(n <= RECORD_JSON_MAX(to - from));
        o += n;
        from = to;
    }
    assert(carry.len == 0);
    assert(o == whole_len && memcmp(whole, split, o) == 0);
    free(whole);
    free(split);
}

static void
fuzz_request(const uint8_t *data, size_t size)
{
    static const struct record_who who = {
        .user = "fuzz",
        .fingerprint = "SHA256:x",
        .key_id = NULL,
        .peer = "192.0.2.1",
        .port = 1,
        .pid = 1,
    };
    struct record_conf rc;
    char answer[512];
    int sp[2], r;
    ssize_t n;

    if (size == 0 || size > 65536) {
        return;
    }
    memset(&rc, 0, sizeof(rc)); /* no directory: never creates a file */
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
        return;
    }
    if (send(sp[1], data, size, 0) == (ssize_t)size) {
        r = record_serve(sp[0], &rc, &who);
        assert(r == 0 || r == -EPROTO);
        if (r == 0) {
            n = recv(sp[1], answer, sizeof(answer), MSG_DONTWAIT);
            assert(n > 0 && answer[0] == 'N');
        }
    }
    close(sp[0]);
    close(sp[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[64];
    uint64_t v;

    fuzz_escape(data, size);
    fuzz_request(data, size);
    if (size < sizeof(s)) {
        memcpy(s, data, size);
        s[size] = '\0';
        if (record_parse_size(s, &v) == 0) {
            assert(strlen(s) > 0);
        }
    }
    return 0;
}
