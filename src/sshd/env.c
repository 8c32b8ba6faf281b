/* Session environment vectors. Nothing from the connection process's own
 * environment leaks into a session: it starts empty and gets the container
 * environment, then the login variables, then what the client may set. */
#include "sshd/env.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/safeio.h"

/* One container variable's file; a bigger one is skipped rather than cut,
 * since a truncated value is a wrong value. */
#define CONTAINER_VALUE_MAX 65536

void
envv_init(struct envv *e)
{
    memset(e, 0, sizeof(*e));
}

void
envv_free(struct envv *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i]);
    }
    envv_init(e);
}

/* POSIX portable names only: a name with '=' or a newline would forge a
 * second variable in the vector, and shells ignore other names anyway. */
bool
env_valid_name(const char *name)
{
    if (name == NULL || !((*name >= 'A' && *name <= 'Z') ||
                          (*name >= 'a' && *name <= 'z') || *name == '_')) {
        return false;
    }
    for (const char *p = name + 1; *p != '\0'; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (*p >= '0' && *p <= '9') || *p == '_')) {
            return false;
        }
    }
    return true;
}

/* Index of NAME (nlen bytes, not NUL-terminated in "NAME=value" form) or
 * -1; a linear scan, the vector holds at most ENV_MAX_VARS entries. */
static int
envv_find(const struct envv *e, const char *name, size_t nlen)
{
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i], name, nlen) == 0 && e->v[i][nlen] == '=') {
            return (int)i;
        }
    }
    return -1;
}

/* Takes ownership of s ("NAME=value"): it replaces an earlier NAME, so the
 * last source to set a variable wins (build_env's order is the policy);
 * s is freed on failure. */
static int
envv_store(struct envv *e, char *s, size_t nlen)
{
    int i = envv_find(e, s, nlen);

    if (i >= 0) {
        free(e->v[i]);
        e->v[i] = s;
        return 0;
    }
    if (e->n == ENV_MAX_VARS) {
        free(s);
        return -E2BIG;
    }
    e->v[e->n++] = s;
    e->v[e->n] = NULL;
    return 0;
}

int
envv_set(struct envv *e, const char *name, const char *value)
{
    char *s;

    if (!env_valid_name(name)) {
        return -EINVAL;
    }
    if (asprintf(&s, "%s=%s", name, value) < 0) {
        return -ENOMEM;
    }
    return envv_store(e, s, strlen(name));
}

/* Names are copied into a fixed buffer: longer ones are -EINVAL, which
 * is why env_client_refusal() caps client names far below it. */
int
envv_put(struct envv *e, const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    char name[256];
    char *s;

    if (eq == NULL || (size_t)(eq - assignment) >= sizeof(name)) {
        return -EINVAL;
    }
    memcpy(name, assignment, (size_t)(eq - assignment));
    name[eq - assignment] = '\0';
    if (!env_valid_name(name)) {
        return -EINVAL;
    }
    s = strdup(assignment);
    if (s == NULL) {
        return -ENOMEM;
    }
    return envv_store(e, s, strlen(name));
}

const char *
envv_get(const struct envv *e, const char *name)
{
    int i = envv_find(e, name, strlen(name));

    return i < 0 ? NULL : e->v[i] + strlen(name) + 1;
}

const char *
env_client_refusal(const char *name, const char *value)
{
    if (name == NULL || value == NULL) {
        return "no name or value";
    }
    /* Length first: the other checks then never walk a huge string. */
    if (strnlen(name, ENV_CLIENT_NAMEMAX + 1) > ENV_CLIENT_NAMEMAX) {
        return "name longer than 64 bytes";
    }
    if (strnlen(value, ENV_CLIENT_VALMAX + 1) > ENV_CLIENT_VALMAX) {
        return "value longer than 255 bytes";
    }
    if (!env_valid_name(name)) {
        return "not a valid variable name";
    }
    if (strchr(value, '\n') != NULL) {
        return "newline in the value";
    }
    if (strcmp(name, "LANG") != 0 && strcmp(name, "TERM") != 0 &&
        strncmp(name, "LC_", 3) != 0) {
        return "only LANG, LC_* and TERM may be set";
    }
    return NULL;
}

bool
env_client_allowed(const char *name, const char *value)
{
    return env_client_refusal(name, value) == NULL;
}

int
env_load_container(struct envv *e, const char *dir)
{
    DIR *d;
    struct dirent *de;
    char *buf;
    int dfd, r = 0;

    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        return errno == ENOENT ? 0 : -errno;
    }
    d = fdopendir(dfd);
    if (d == NULL) {
        r = -errno;
        (void)close(dfd);
        return r;
    }
    buf = malloc(CONTAINER_VALUE_MAX + 1);
    if (buf == NULL) {
        closedir(d);
        return -ENOMEM;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = 0;
        int fd;

        /* Key material never reaches a session, whatever wrote the dir. */
        if (!env_valid_name(de->d_name) ||
            strncmp(de->d_name, "AIRLOCK_AUTHORIZED_KEYS", 23) == 0 ||
            strcmp(de->d_name, "AIRLOCK_SSH_HOST_KEY") == 0) {
            continue;
        }
        fd = openat(dfd,
                    de->d_name,
                    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
            continue;
        }
        if (read_all(fd, buf, CONTAINER_VALUE_MAX, &len) == 0 &&
            memchr(buf, '\0', len) == NULL) {
            buf[len] = '\0';
            r = envv_set(e, de->d_name, buf);
        }
        (void)close(fd);
        if (r == -E2BIG || r == -ENOMEM) {
            break;
        }
        r = 0;
    }
    free(buf);
    closedir(d);
    return r;
}
