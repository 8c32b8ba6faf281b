/* libFuzzer target for PID 1's flag and AIRLOCK_* parsing (config_parse).
 * Links libc, init and common code only, like airlock itself.
 *
 * Input: a byte whose bits say which of the variables below are set, then
 * NUL-separated fields: the values of the set variables, in order, then
 * argv[1..]. What parses must be within the documented limits, the
 * command must be the tail of argv, and a usage error must come with one
 * NUL-terminated line that fits the buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "init/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
    "AIRLOCK_GRACE",
    "AIRLOCK_LOG_LEVEL",
    "AIRLOCK_SIGNAL_GROUP",
    "AIRLOCK_KILL_ALL_ON_EXIT",
    "AIRLOCK_SKIP_STARTUP_FILES",
    "AIRLOCK_SKIP_SERVICES",
    "AIRLOCK_SSH",
    "AIRLOCK_SYSLOG",
};
#define NVARS    (sizeof(names) / sizeof(names[0]))
#define MAX_ARGS 64

/* config_parse takes a plain function: the values live here. */
static char *values[NVARS];

static const char *
lookup(const char *name)
{
    for (size_t i = 0; i < NVARS; i++) {
        if (strcmp(name, names[i]) == 0) {
            return values[i];
        }
    }
    return NULL; /* any other variable is unset */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[MAX_ARGS + 2];
    char err[CONFIG_ERR_MAX];
    struct config cfg;
    char *buf;
    const char *p, *end;
    unsigned set;
    int argc = 1;
    enum config_result r;

    if (size == 0) {
        return 0;
    }
    set = data[0];
    /* One copy with a NUL after the last field; fields point into it. */
    buf = malloc(size);
    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    p = buf;
    end = buf + size - 1;
    memset(values, 0, sizeof(values));
    argv[0] = "airlock";
    for (size_t i = 0; i < NVARS; i++) {
        if (!(set & (1u << i))) {
            continue;
        }
        values[i] = (char *)(p <= end ? p : "");
        p += p <= end ? strlen(p) + 1 : 0;
    }
    while (p < end && argc < MAX_ARGS) {
        argv[argc++] = (char *)p;
        p += strlen(p) + 1;
    }
    argv[argc] = NULL;

    memset(err, 0x55, sizeof(err));
    r = config_parse(argc, argv, lookup, &cfg, err, sizeof(err));
    if (memchr(err, '\0', sizeof(err)) == NULL) {
        abort();
    }
    switch (r) {
    case CONFIG_RUN:
        if (cfg.grace_ms > CONFIG_GRACE_MAX_MS || err[0] != '\0' ||
            (unsigned)cfg.log_level > LOG_LEVEL_DEBUG) {
            abort();
        }
        if (cfg.cmd != NULL) {
            /* The tail of argv, never a flag's value nor past the end. */
            if (cfg.cmd < &argv[1] || cfg.cmd >= &argv[argc] ||
                cfg.cmd[argc - (cfg.cmd - argv)] != NULL) {
                abort();
            }
        }
        break;
    case CONFIG_USAGE_ERROR:
        if (err[0] == '\0') {
            abort();
        }
        break;
    case CONFIG_HELP:
    case CONFIG_VERSION:
        break;
    default:
        abort();
    }
    free(buf);
    return 0;
}
