/* libFuzzer target for airlock-sshd's AIRLOCK_SSH_* parsing
 * (sshd_config_load with a lookup function instead of getenv): the input
 * is split at '\n' into the values of the variables below, in order (an
 * empty field leaves a variable unset). What loads must be within the
 * documented limits; a refusal must name a variable and a reason. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys/keys.h"
#include "sshd/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
    "AIRLOCK_SSH_LISTEN",
    "AIRLOCK_SSH_PORT",
    "AIRLOCK_SSH_MAX_STARTUPS",
    "AIRLOCK_SSH_LOGIN_GRACE",
    "AIRLOCK_SSH_MAX_AUTH_TRIES",
    "AIRLOCK_SSH_USER",
    "AIRLOCK_SSH_PERMIT_ROOT",
    "AIRLOCK_SSH_REVOKE_SESSIONS",
    "AIRLOCK_SSH_TCP_FORWARDING",
    "AIRLOCK_SSH_HOST_KEY_FILE",
    "AIRLOCK_SSH_SFTP_SERVER",
    "AIRLOCK_SSH_BANNER_TIMEOUT",
    "AIRLOCK_SSH_IDLE_TIMEOUT",
    "AIRLOCK_SSH_CLIENT_ALIVE_INTERVAL",
    "AIRLOCK_SSH_CLIENT_ALIVE_COUNT_MAX",
    "AIRLOCK_SSH_PER_SOURCE_MAX_STARTUPS",
    "AIRLOCK_SSH_MAX_AUTHENTICATED",
    "AIRLOCK_SSH_PER_SOURCE_NETBLOCK_SIZE",
    "AIRLOCK_SSH_PER_SOURCE_PENALTIES",
    "AIRLOCK_SSH_PER_SOURCE_PENALTY_EXEMPT",
    "AIRLOCK_SSH_RECORD_DIR",
    "AIRLOCK_SSH_RECORD_INPUT",
    "AIRLOCK_SSH_RECORD_REQUIRED",
    "AIRLOCK_SSH_RECORD_MAX",
};
#define NVARS (sizeof(names) / sizeof(names[0]))

struct env {
    char *value[NVARS];
};

static const char *
lookup(const char *name, void *ud)
{
    const struct env *e = ud;

    for (size_t i = 0; i < NVARS; i++) {
        if (strcmp(name, names[i]) == 0) {
            return e->value[i];
        }
    }
    abort(); /* a variable this target does not know: add it above */
}

static bool
known(const char *var)
{
    for (size_t i = 0; i < NVARS; i++) {
        if (var == names[i] || (var != NULL && strcmp(var, names[i]) == 0)) {
            return true;
        }
    }
    return false;
}

static void
check(const struct sshd_config *c)
{
    unsigned char tmp[16];

    if (c->nlisten < 1 || c->nlisten > SSHD_MAX_LISTEN || c->port < 1 ||
        c->port > 65535 || c->limits.startups.full < 1 ||
        c->limits.startups.full > SSHD_MAX_STARTUPS_LIMIT ||
        c->limits.startups.start > c->limits.startups.full ||
        c->limits.per_source > SSHD_MAX_STARTUPS_LIMIT ||
        c->limits.authed_max < 1 || c->limits.authed_max > SSHD_AUTHED_LIMIT ||
        c->limits.netblock4 > 32 || c->limits.netblock6 > 128 ||
        c->login_grace_s < 1 || c->login_grace_s > 3600 ||
        c->max_auth_tries < 1 || c->max_auth_tries > 100 ||
        !keys_valid_user(c->user) || c->sftp_server[0] != '/' ||
        (c->host_key_file[0] != '\0' && c->host_key_file[0] != '/') ||
        memchr(c->host_key_file, '\0', sizeof(c->host_key_file)) == NULL ||
        memchr(c->sftp_server, '\0', sizeof(c->sftp_server)) == NULL) {
        abort();
    }
    /* Recording: an absolute directory or none; REQUIRED only with one;
     * the cap within its bounds. */
    if ((c->record.dir[0] != '\0' && c->record.dir[0] != '/') ||
        memchr(c->record.dir, '\0', sizeof(c->record.dir)) == NULL ||
        (c->record.required && c->record.dir[0] == '\0') ||
        c->record.max < RECORD_MAX_MIN || c->record.max > RECORD_MAX_LIMIT) {
        abort();
    }
    for (unsigned i = 0; i < c->nlisten; i++) {
        if (memchr(c->listen[i], '\0', SSHD_ADDR_MAX) == NULL ||
            (inet_pton(AF_INET, c->listen[i], tmp) != 1 &&
             inet_pton(AF_INET6, c->listen[i], tmp) != 1)) {
            abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct env e;
    struct sshd_config *cfg = malloc(sizeof(*cfg));
    const char *p = (const char *)data, *end = p + size;
    const char *var = NULL, *reason = NULL;

    if (cfg == NULL) {
        return 0;
    }
    memset(&e, 0, sizeof(e));
    for (size_t i = 0; i < NVARS; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

        if (n > 0) {
            /* An exact-size copy (NUL ends it early, as getenv would). */
            e.value[i] = malloc(n + 1);
            if (e.value[i] == NULL) {
                break;
            }
            memcpy(e.value[i], p, n);
            e.value[i][n] = '\0';
        }
        if (nl == NULL) {
            break;
        }
        p = nl + 1;
    }
    if (sshd_config_load(cfg, lookup, &e, &var, &reason) == 0) {
        check(cfg);
    } else if (!known(var) || reason == NULL || *reason == '\0') {
        abort();
    }
    for (size_t i = 0; i < NVARS; i++) {
        free(e.value[i]);
    }
    free(cfg);
    return 0;
}
