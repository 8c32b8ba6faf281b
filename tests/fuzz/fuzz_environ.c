/* libFuzzer target for the container-environment loader: the contents of
 * /etc/container_environment/NAME files (environ_parse_value, the parsing
 * half of environ_load) and the .sh and .json files written from them
 * (environ_format_sh, environ_format_json), which shells of every user
 * source and programs parse.
 *
 * Input: a flags byte, then records "NAME=CONTENT" separated by NUL bytes
 * (flags bit 0: airlock's own environment had each CONTENT as is; bit 1:
 * the last CONTENT also holds a NUL byte). The .sh must give every
 * shell-safe variable back byte for byte when read as a shell reads single
 * quotes, and nothing else; the .json must be one JSON object of valid
 * UTF-8 that gives every variable back under PEP 383's surrogateescape. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "init/environ.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECORDS 64

static int
var_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t
name_len(const char *var)
{
    return (size_t)(strchr(var, '=') - var);
}

/* ---- the .sh, read as `sh` reads "export NAME='...'" ------------------ */

static void
check_sh(const char *buf, size_t len, char *const vars[], size_t n)
{
    const char *p = buf, *end = buf + len;
    char *val = malloc(len + 1);

    if (val == NULL) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        size_t nlen = name_len(vars[i]), vlen = 0;

        if (!environ_name_is_shell_safe(vars[i], nlen)) {
            continue;
        }
        if ((size_t)(end - p) < 7 + nlen + 2 || memcmp(p, "export ", 7) ||
            memcmp(p + 7, vars[i], nlen) || memcmp(p + 7 + nlen, "='", 2)) {
            abort();
        }
        p += 7 + nlen + 2;
        for (;;) {
            if (p == end) {
                abort(); /* an unterminated quote */
            }
            if (*p != '\'') {
                val[vlen++] = *p++;
                continue;
            }
            /* A quote closes; only "'\''" may reopen it. */
            if (end - p >= 4 && memcmp(p, "'\\''", 4) == 0) {
                val[vlen++] = '\'';
                p += 4;
                continue;
            }
            p++;
            break;
        }
        if (p == end || *p != '\n') {
            abort(); /* anything after the quote would be shell code */
        }
        p++;
        if (vlen != strlen(vars[i] + nlen + 1) ||
            memcmp(val, vars[i] + nlen + 1, vlen) != 0) {
            abort();
        }
    }
    if (p != end) {
        abort();
    }
    free(val);
}

/* ---- the .json, decoded strictly -------------------------------------- */

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Length of one strict UTF-8 sequence (RFC 3629) at p, 0 if none;
 * written apart from common/utf8.c so that one is checked, not reused. */
static size_t
strict_utf8(const unsigned char *p, size_t avail)
{
    uint32_t cp;
    size_t n;

    if (p[0] < 0x80) {
        return 1;
    } else if ((p[0] & 0xE0) == 0xC0) {
        n = 2;
        cp = p[0] & 0x1F;
    } else if ((p[0] & 0xF0) == 0xE0) {
        n = 3;
        cp = p[0] & 0x0F;
    } else if ((p[0] & 0xF8) == 0xF0) {
        n = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (avail < n) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
        (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return n;
}

/* Decodes the JSON string at *pp into out (bytes, surrogateescape); aborts
 * on anything a strict JSON parser would refuse. */
static size_t
json_string(const char **pp, const char *end, char *out)
{
    const char *p = *pp;
    size_t n = 0;

    if (p == end || *p++ != '"') {
        abort();
    }
    for (;;) {
        unsigned char c;

        if (p == end) {
            abort();
        }
        c = (unsigned char)*p;
        if (c == '"') {
            p++;
            break;
        }
        if (c < 0x20) {
            abort(); /* raw control characters are not JSON */
        }
        if (c != '\\') {
            size_t k = strict_utf8((const unsigned char *)p, (size_t)(end - p));
            if (k == 0) {
                abort();
            }
            memcpy(out + n, p, k);
            n += k;
            p += k;
            continue;
        }
        if (end - p < 2) {
            abort();
        }
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
            out[n++] = p[1];
            p += 2;
            continue;
        case 'b':
            out[n++] = '\b';
            p += 2;
            continue;
        case 'f':
            out[n++] = '\f';
            p += 2;
            continue;
        case 'n':
            out[n++] = '\n';
            p += 2;
            continue;
        case 'r':
            out[n++] = '\r';
            p += 2;
            continue;
        case 't':
            out[n++] = '\t';
            p += 2;
            continue;
        case 'u':
            break;
        default:
            abort();
        }
        if (end - p < 6) {
            abort();
        }
        {
            int h[4];
            unsigned v;
            for (int i = 0; i < 4; i++) {
                h[i] = hexval(p[2 + i]);
                if (h[i] < 0) {
                    abort();
                }
            }
            v = (unsigned)(h[0] << 12 | h[1] << 8 | h[2] << 4 | h[3]);
            if (v < 0x20) {
                out[n++] = (char)v;
            } else if (v >= 0xDC80 && v <= 0xDCFF) {
                out[n++] = (char)(v & 0xFF); /* surrogateescape */
            } else {
                abort(); /* airlock writes no other \u escape */
            }
            p += 6;
        }
    }
    *pp = p;
    return n;
}

static void
check_json(const char *buf, size_t len, char *const vars[], size_t n)
{
    const char *p = buf, *end = buf + len;
    char *out = malloc(len + 1);

    if (out == NULL) {
        abort();
    }
    if (len < 3 || *p++ != '{' || memcmp(end - 2, "}\n", 2) != 0) {
        abort();
    }
    end -= 2;
    for (size_t i = 0; i < n; i++) {
        size_t nlen = name_len(vars[i]), k;
        const char *v = vars[i] + nlen + 1;

        if (i > 0 && (p == end || *p++ != ',')) {
            abort();
        }
        k = json_string(&p, end, out);
        if (k != nlen || memcmp(out, vars[i], nlen) != 0) {
            abort();
        }
        if (p == end || *p++ != ':') {
            abort();
        }
        k = json_string(&p, end, out);
        if (k != strlen(v) || memcmp(out, v, k) != 0) {
            abort();
        }
    }
    if (p != end) {
        abort();
    }
    free(out);
}

/* Does the first NAME= of orig hold exactly value[0..vlen)? (The trailing
 * newline rule keeps those.) rec is the input's "NAME=..." record. */
static bool
first_is(char *const orig[], const char *rec, size_t nlen, size_t vlen)
{
    for (size_t i = 0; orig[i] != NULL; i++) {
        if (strlen(orig[i]) > nlen && memcmp(orig[i], rec, nlen + 1) == 0) {
            return strlen(orig[i] + nlen + 1) == vlen &&
                   memcmp(orig[i] + nlen + 1, rec + nlen + 1, vlen) == 0;
        }
    }
    return false;
}

/* ---- driver ------------------------------------------------------------ */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *orig[MAX_RECORDS + 1];
    char *vars[MAX_RECORDS + 1];
    size_t norig = 0, nvars = 0, nrec = 0;
    unsigned flags;
    const char *p, *end;
    char *buf;
    size_t blen;

    if (size == 0) {
        return 0;
    }
    flags = data[0];
    p = (const char *)data + 1;
    end = (const char *)data + size;
    orig[0] = NULL;
    for (; p < end && nrec < MAX_RECORDS; nrec++) {
        const char *rec_end = memchr(p, '\0', (size_t)(end - p));
        const char *re = rec_end ? rec_end : end;
        const char *eq = memchr(p, '=', (size_t)(re - p));
        size_t nlen, vlen;
        bool last = rec_end == NULL || rec_end + 1 >= end;
        char *s;

        if (eq == NULL) {
            goto next;
        }
        nlen = (size_t)(eq - p);
        vlen = (size_t)(re - eq - 1);
        /* What read_names lets through: a file name, not a secret. */
        if (!environ_name_is_file_safe(p, nlen) ||
            environ_name_is_secret(p, nlen)) {
            goto next;
        }
        if (last && (flags & 2)) {
            vlen++; /* the NUL that ends the input's record */
        }
        /* Exactly the size read_var allocates. */
        s = malloc(nlen + 1 + vlen + 1);
        if (s == NULL) {
            break;
        }
        memcpy(s, p, nlen + 1 + vlen - (last && (flags & 2)));
        if (last && (flags & 2)) {
            s[nlen + vlen] = '\0';
        }
        if (flags & 1) {
            orig[norig] = malloc(nlen + 1 + vlen + 1);
            if (orig[norig] != NULL) {
                memcpy(orig[norig], s, nlen + 1 + vlen);
                orig[norig][nlen + 1 + vlen] = '\0';
                orig[++norig] = NULL;
            }
        }
        if (environ_parse_value(s, nlen, vlen, flags & 1 ? orig : NULL) < 0) {
            if (memchr(s + nlen + 1, '\0', vlen) == NULL) {
                abort();
            }
            free(s);
            goto next;
        }
        {
            size_t got = strlen(s + nlen + 1);
            bool nl = vlen > 0 && p[nlen + vlen] == '\n';
            if (memcmp(s, p, nlen + 1) != 0 ||
                (got != vlen && !(nl && got == vlen - 1)) ||
                (got != vlen) != (nl && !first_is(orig, p, nlen, vlen))) {
                abort();
            }
        }
        vars[nvars++] = s;
    next:
        p = re + 1;
    }
    orig[norig] = NULL;
    vars[nvars] = NULL;

    /* A directory holds each name once; keep the first, sorted, as
     * environ_load hands them on. */
    qsort(vars, nvars, sizeof(vars[0]), var_cmp);
    for (size_t i = 1; i < nvars;) {
        if (name_len(vars[i]) == name_len(vars[i - 1]) &&
            memcmp(vars[i], vars[i - 1], name_len(vars[i])) == 0) {
            free(vars[i]);
            memmove(&vars[i], &vars[i + 1], (nvars - i) * sizeof(vars[0]));
            nvars--;
        } else {
            i++;
        }
    }

    if (environ_format_sh(vars, nvars, &buf, &blen) == 0) {
        if (strlen(buf) != blen) {
            abort();
        }
        check_sh(buf, blen, vars, nvars);
        free(buf);
    }
    if (environ_format_json(vars, nvars, &buf, &blen) == 0) {
        check_json(buf, blen, vars, nvars);
        free(buf);
    }
    for (size_t i = 0; i < nvars; i++) {
        free(vars[i]);
    }
    for (size_t i = 0; i < norig; i++) {
        free(orig[i]);
    }
    return 0;
}
