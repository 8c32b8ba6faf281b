#include "init/sshd_finder.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/strutil.h"

#define SSHD_NAME "airlock-sshd"

#ifdef AIRLOCK_NO_SSH
static const bool built_with_ssh = false;
#else
static const bool built_with_ssh = true;
#endif

static bool
env_set(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0';
}

/* A variable holding only blanks provisions nothing. */
static bool
env_has_text(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[strspn(v, " \t\r\n")] != '\0';
}

/* The same rule as keys_config_any_source() in src/keys, which PID 1 does
 * not link: keys in the variable, a key file named, the key directory
 * named explicitly, or the default directory present. An empty
 * AIRLOCK_AUTHORIZED_KEYS_DIR turns the directory source off. */
bool
sshd_wanted(bool disabled)
{
    const char *keys_dir = getenv("AIRLOCK_AUTHORIZED_KEYS_DIR");
    char dir[PATH_MAX];
    struct stat st;

    if (disabled) {
        log_info("SSH disabled (--no-ssh or AIRLOCK_SSH=off): "
                 "no SSH server, no key read");
        return false;
    }
    if (!built_with_ssh) {
        log_info("SSH not available: airlock was built with SSH=no");
        return false;
    }
    if (env_has_text("AIRLOCK_AUTHORIZED_KEYS") ||
        env_has_text("AIRLOCK_SSH_TRUSTED_USER_CA_KEYS") ||
        env_set("AIRLOCK_SSH_TRUSTED_USER_CA_KEYS_FILE") ||
        env_set("AIRLOCK_AUTHORIZED_KEYS_FILE") ||
        env_set("AIRLOCK_AUTHORIZED_KEYS_DIR")) {
        return true;
    }
    if (keys_dir == NULL &&
        root_path(dir, sizeof(dir), "/etc/airlock/authorized_keys.d") == 0 &&
        stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        return true;
    }
    log_debug("SSH not started: no key source configured");
    return false;
}

static bool
is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           access(path, X_OK) == 0;
}

/* Searches PATH for SSHD_NAME. */
static int
find_on_path(char *buf, size_t size)
{
    const char *path = getenv("PATH");
    const char *p = path != NULL ? path
                                 : "/usr/local/sbin:/usr/local/bin:"
                                   "/usr/sbin:/usr/bin:/sbin:/bin";

    while (*p != '\0') {
        size_t len = strcspn(p, ":");
        int n = snprintf(buf, size, "%.*s/%s", (int)len, p, SSHD_NAME);
        if (len > 0 && n > 0 && (size_t)n < size && is_executable(buf)) {
            return 0;
        }
        p += len;
        if (*p == ':') {
            p++;
        }
    }
    return -ENOENT;
}

int
sshd_find(const char *self_exe, char *buf, size_t size)
{
    const char *slash = strrchr(self_exe, '/');
    const char *env = getenv("AIRLOCK_SSHD_PATH");
    int n;

    if (slash != NULL) {
        n = snprintf(buf,
                     size,
                     "%.*s/%s",
                     (int)(slash - self_exe),
                     self_exe,
                     SSHD_NAME);
        if (n > 0 && (size_t)n < size && is_executable(buf)) {
            return 0;
        }
    }
    if (find_on_path(buf, size) == 0) {
        return 0;
    }
    if (env != NULL && is_executable(env) && copy_string(buf, size, env) == 0) {
        return 0;
    }
    log_error("SSH enabled but '%s' was not found next to airlock, on PATH "
              "or at AIRLOCK_SSHD_PATH; the app runs without SSH",
              SSHD_NAME);
    return -ENOENT;
}
