/* AIRLOCK_SSH_* parsing. Every variable has a default; a bad value is
 * reported by name and reason and the server exits 2 (design.md). */
#include "sshd/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "keys/keys.h"

static const char *
env_get(const char *name, void *ud)
{
    (void)ud;
    return getenv(name);
}

/* Splits a comma- or space-separated address list into cfg->listen. Each
 * entry must be a numeric IPv4 or IPv6 address. */
static int
parse_listen(struct sshd_config *cfg, const char *s, const char **reason)
{
    const char *p = s;

    cfg->nlisten = 0;
    while (*p != '\0') {
        size_t n = strcspn(p, ", ");
        char addr[SSHD_ADDR_MAX];
        unsigned char tmp[16];

        if (n == 0) {
            p++;
            continue;
        }
        if (n >= sizeof(addr)) {
            *reason = "address too long";
            return -EINVAL;
        }
        memcpy(addr, p, n);
        addr[n] = '\0';
        if (inet_pton(AF_INET, addr, tmp) != 1 &&
            inet_pton(AF_INET6, addr, tmp) != 1) {
            *reason = "not a numeric IPv4 or IPv6 address";
            return -EINVAL;
        }
        if (cfg->nlisten == SSHD_MAX_LISTEN) {
            *reason = "too many addresses (at most 8)";
            return -EINVAL;
        }
        memcpy(cfg->listen[cfg->nlisten++], addr, n + 1);
        p += n;
    }
    if (cfg->nlisten == 0) {
        *reason = "empty address list";
        return -EINVAL;
    }
    return 0;
}

static int
parse_range(const char *s,
            unsigned min,
            unsigned max,
            unsigned *ret,
            const char **reason)
{
    uint64_t v;

    if (parse_uint(s, max, &v) < 0 || v < min) {
        *reason = "not a whole number in the allowed range";
        return -EINVAL;
    }
    *ret = (unsigned)v;
    return 0;
}

/* The same rule as the key store's user names (keys_valid_user), so a
 * value accepted by one is accepted by the other. */
static int
parse_user(const char *s, char *dst, size_t size, const char **reason)
{
    if (!keys_valid_user(s) || strlen(s) >= size) {
        *reason = "not a valid user name ([A-Za-z0-9_][A-Za-z0-9_.-]*)";
        return -EINVAL;
    }
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static int
parse_path(const char *s, char *dst, size_t size, const char **reason)
{
    if (s[0] != '/') {
        *reason = "not an absolute path";
        return -EINVAL;
    }
    if (copy_string(dst, size, s) < 0) {
        *reason = "path too long";
        return -EINVAL;
    }
    return 0;
}

/* A timer in seconds (fractions allowed): 0 switches it off, otherwise
 * 1 s at least, so a typo cannot turn it into a busy loop. */
static int
parse_timer(const char *s,
            unsigned max_s,
            uint64_t *ret_ms,
            const char **reason)
{
    uint64_t ms;

    if (parse_seconds_ms(s, (uint64_t)max_s * 1000, &ms) < 0 ||
        (ms != 0 && ms < 1000)) {
        *reason = "not 0 (off) or a number of seconds from 1 to the maximum";
        return -EINVAL;
    }
    *ret_ms = ms;
    return 0;
}

int
sshd_config_load(struct sshd_config *cfg,
                 const char *(*get)(const char *name, void *ud),
                 void *ud,
                 const char **ret_var,
                 const char **ret_reason)
{
    const char *var = NULL, *reason = NULL, *v;
    int r = 0;

    memset(cfg, 0, sizeof(*cfg));
    strcpy(cfg->listen[0], "0.0.0.0");
    strcpy(cfg->listen[1], "::");
    cfg->nlisten = 2;
    cfg->port = 2222;
    limits_conf_default(&cfg->limits, SSHD_AUTHED_MAX);
    cfg->banner_timeout_s = SSHD_BANNER_TIMEOUT;
    cfg->login_grace_s = 30;
    cfg->max_auth_tries = 6;
    strcpy(cfg->user, "root");
    cfg->permit_root = true;
    cfg->revoke_sessions = true;
    cfg->tcp_forwarding = false;
    strcpy(cfg->sftp_server, "/usr/lib/openssh/sftp-server");
    cfg->idle_timeout_ms = 0;
    /* libssh-notes 7.3: 30 s x 3 finds a vanished client within 2 min
     * without waiting for TCP's own timeouts (libssh sets no
     * SO_KEEPALIVE), so its authenticated slot is freed. */
    cfg->client_alive_interval_ms = 30000;
    cfg->client_alive_count_max = 3;

#define VAR(name) (var = (name), v = get(name, ud), v != NULL && *v != '\0')
    if (VAR("AIRLOCK_SSH_LISTEN")) {
        r = parse_listen(cfg, v, &reason);
    }
    if (r == 0 && VAR("AIRLOCK_SSH_PORT")) {
        r = parse_range(v, 1, 65535, &cfg->port, &reason);
    }
    if (r == 0 && VAR("AIRLOCK_SSH_MAX_STARTUPS")) {
        r = limits_parse_max_startups(v,
                                      SSHD_MAX_STARTUPS_LIMIT,
                                      &cfg->limits.startups,
                                      &reason);
    }
    if (r == 0 && VAR("AIRLOCK_SSH_MAX_AUTHENTICATED")) {
        r = parse_range(v,
                        1,
                        SSHD_AUTHED_LIMIT,
                        &cfg->limits.authed_max,
                        &reason);
    }
    if (r == 0 && VAR("AIRLOCK_SSH_PER_SOURCE_MAX_STARTUPS")) {
        r = limits_parse_per_source(v,
                                    SSHD_MAX_STARTUPS_LIMIT,
                                    &cfg->limits.per_source,
                                    &reason);
    }
    if (r == 0 && VAR("AIRLOCK_SSH_PER_SOURCE_NETBLOCK_SIZE")) {
        r = limits_parse_netblock(v,
                                  &cfg->limits.netblock4,
                                  &cfg->limits.netblock6,
                                  &reason);
    }
    if (r == 0 && VAR("AIRLOCK_SSH_PER_SOURCE_PENALTIES")) {
        r = limits_parse_penalties(v, &cfg->limits.penalty, &reason);
    }
    if (r == 0 && VAR("AIRLOCK_SSH_PER_SOURCE_PENALTY_EXEMPT")) {
        r = limits_parse_exempt(v,
                                cfg->limits.penalty.exempt,
                                sizeof(cfg->limits.penalty.exempt),
                                &reason);
    }
    if (r == 0 && VAR("AIRLOCK_SSH_BANNER_TIMEOUT")) {
        uint64_t ms;
        if (parse_seconds_ms(v, 3600 * 1000, &ms) < 0 || ms < 1000) {
            reason = "not a number of seconds between 1 and 3600";
            r = -EINVAL;
        } else {
            cfg->banner_timeout_s = (unsigned)(ms / 1000);
        }
    }
    if (r == 0 && VAR("AIRLOCK_SSH_LOGIN_GRACE")) {
        uint64_t ms;
        if (parse_seconds_ms(v, 3600 * 1000, &ms) < 0 || ms < 1000) {
            reason = "not a number of seconds between 1 and 3600";
            r = -EINVAL;
        } else {
            cfg->login_grace_s = (unsigned)(ms / 1000);
        }
    }
    if (r == 0 && VAR("AIRLOCK_SSH_MAX_AUTH_TRIES")) {
        r = parse_range(v, 1, 100, &cfg->max_auth_tries, &reason);
    }
    if (r == 0 && VAR("AIRLOCK_SSH_USER")) {
        r = parse_user(v, cfg->user, sizeof(cfg->user), &reason);
    }
    if (r == 0 && VAR("AIRLOCK_SSH_PERMIT_ROOT")) {
        r = parse_bool(v, &cfg->permit_root);
        reason = "not yes or no";
    }
    if (r == 0 && VAR("AIRLOCK_SSH_REVOKE_SESSIONS")) {
        r = parse_bool(v, &cfg->revoke_sessions);
        reason = "not yes or no";
    }
    if (r == 0 && VAR("AIRLOCK_SSH_TCP_FORWARDING")) {
        r = parse_bool(v, &cfg->tcp_forwarding);
        reason = "not yes or no";
    }
    if (r == 0 && VAR("AIRLOCK_SSH_HOST_KEY_FILE")) {
        r = parse_path(v,
                       cfg->host_key_file,
                       sizeof(cfg->host_key_file),
                       &reason);
    }
    if (r == 0 && VAR("AIRLOCK_SSH_SFTP_SERVER")) {
        r = parse_path(v, cfg->sftp_server, sizeof(cfg->sftp_server), &reason);
    }
    if (r == 0 && VAR("AIRLOCK_SSH_IDLE_TIMEOUT")) {
        r = parse_timer(v, 7 * 86400, &cfg->idle_timeout_ms, &reason);
    }
    if (r == 0 && VAR("AIRLOCK_SSH_CLIENT_ALIVE_INTERVAL")) {
        r = parse_timer(v, 3600, &cfg->client_alive_interval_ms, &reason);
    }
    if (r == 0 && VAR("AIRLOCK_SSH_CLIENT_ALIVE_COUNT_MAX")) {
        r = parse_range(v, 1, 100, &cfg->client_alive_count_max, &reason);
    }
#undef VAR
    if (r == 0) {
        r = record_conf_load(&cfg->record, get, ud, &var, &reason);
    }
    if (r < 0) {
        *ret_var = var;
        *ret_reason = reason;
        return -EINVAL;
    }
    return 0;
}

int
sshd_config_from_env(struct sshd_config *cfg,
                     const char **ret_var,
                     const char **ret_reason)
{
    return sshd_config_load(cfg, env_get, NULL, ret_var, ret_reason);
}
