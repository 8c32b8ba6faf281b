/* Session environments, built from scratch for every session. */
#ifndef AIRLOCK_SSHD_ENV_H
#define AIRLOCK_SSHD_ENV_H

#include <stdbool.h>
#include <stddef.h>

#define ENV_MAX_VARS   512 /* whole session environment */
#define ENV_CLIENT_MAX 32  /* env requests accepted per channel */
/* Bytes in a client-supplied name and value. Locale names and TERM are
 * short; a longer name used to be accepted here and then fail the exec
 * (envv_put keeps names under 256 bytes), so both are refused at the
 * request, where the reason can be logged. */
#define ENV_CLIENT_NAMEMAX 64
#define ENV_CLIENT_VALMAX  255
#define ENV_DEFAULT_PATH \
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CONTAINER_ENV_DIR "/etc/container_environment"

/* A NULL-terminated "NAME=value" vector; later sets replace earlier ones. */
struct envv {
    char *v[ENV_MAX_VARS + 1];
    size_t n;
};

void envv_init(struct envv *e);
void envv_free(struct envv *e);
/* Sets NAME=value (replacing); 0, -E2BIG when full, -ENOMEM, -EINVAL for
 * a bad name. */
int envv_set(struct envv *e, const char *name, const char *value);
/* Sets "NAME=value" given as one string; same returns. */
int envv_put(struct envv *e, const char *assignment);
/* The value of NAME or NULL. */
const char *envv_get(const struct envv *e, const char *name);

/* true for [A-Za-z_][A-Za-z0-9_]*. */
bool env_valid_name(const char *name);

/* May a client set this variable with an env request? LANG, LC_* and TERM
 * only, the name at most ENV_CLIENT_NAMEMAX bytes, the value at most
 * ENV_CLIENT_VALMAX bytes without newline. Returns NULL when allowed, else
 * a static reason for the log. */
const char *env_client_refusal(const char *name, const char *value);
/* env_client_refusal() == NULL. */
bool env_client_allowed(const char *name, const char *value);

/* Adds the container environment: one file per variable in dir (the
 * phusion layout written by the init), value = file content. Files with
 * bad names, AIRLOCK_* secrets, or over 64 KiB are skipped. 0 or -errno
 * (a missing directory is 0). */
int env_load_container(struct envv *e, const char *dir);

#endif
