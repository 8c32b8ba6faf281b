/* airlock-sshd settings, read once from AIRLOCK_SSH_* at start. */
#ifndef AIRLOCK_SSHD_CONFIG_H
#define AIRLOCK_SSHD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "sshd/limits.h"
#include "sshd/record.h"

#define SSHD_MAX_LISTEN 8
#define SSHD_ADDR_MAX   64

/* Fixed limits (not configurable: the defaults OpenSSH and the issue use). */
#define SSHD_AUTHED_MAX 16 /* authenticated connections, default */
/* Upper bound of AIRLOCK_SSH_MAX_AUTHENTICATED. */
#define SSHD_AUTHED_LIMIT     1000
#define SSHD_MAX_CHANNELS     4  /* session channels per connection */
#define SSHD_MAX_AUTH_REQUEST 32 /* every auth request, probes included */
/* Upper bound of every number in AIRLOCK_SSH_MAX_STARTUPS and of
 * AIRLOCK_SSH_PER_SOURCE_MAX_STARTUPS: the listener's child table holds
 * this many unauthenticated plus SSHD_AUTHED_LIMIT authenticated ones.
 * OpenSSH sets none; each connection is a process of a few MB, so the
 * bound is what a container could hold, not what it should. */
#define SSHD_MAX_STARTUPS_LIMIT 1000
/* Default deadline for the client's SSH version string (RFC 4253 4.2). */
#define SSHD_BANNER_TIMEOUT 10

struct sshd_config {
    char listen[SSHD_MAX_LISTEN][SSHD_ADDR_MAX]; /* numeric addresses */
    unsigned nlisten;
    unsigned port;
    struct limits_conf limits; /* MaxStartups, per source, penalties */
    unsigned banner_timeout_s; /* until the client's version string */
    unsigned login_grace_s;
    unsigned max_auth_tries;
    char user[256];               /* login user for keys from the environment */
    bool permit_root;             /* root logins allowed */
    bool revoke_sessions;         /* close open sessions of a revoked key */
    bool tcp_forwarding;          /* ssh -L, off by default */
    char host_key_file[PATH_MAX]; /* "" = generate under /etc/airlock */
    char sftp_server[PATH_MAX];
    /* After login: no channel data or request for this long ends the
     * connection (0 = never). */
    uint64_t idle_timeout_ms;
    /* ClientAliveInterval/CountMax: nothing received from the client for
     * an interval sends a keepalive; count_max unanswered ones end the
     * connection (interval 0 = no keepalives). */
    uint64_t client_alive_interval_ms;
    unsigned client_alive_count_max;
    struct record_conf record; /* AIRLOCK_SSH_RECORD_* (record.h) */
};

/* Fills *cfg from the environment (getenv). Returns 0, or -EINVAL with
 * *ret_var naming the variable and *ret_reason (static) saying why, for
 * the caller's one-line error. */
int sshd_config_from_env(struct sshd_config *cfg,
                         const char **ret_var,
                         const char **ret_reason);

/* As sshd_config_from_env, with a lookup function instead of getenv (for
 * tests). */
int sshd_config_load(struct sshd_config *cfg,
                     const char *(*get)(const char *name, void *ud),
                     void *ud,
                     const char **ret_var,
                     const char **ret_reason);

#endif
