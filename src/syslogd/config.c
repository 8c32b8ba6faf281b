#include "syslogd/config.h"

#include "common/path.h"
#include "common/strutil.h"
#include "syslogd/logfile.h"

#include <errno.h>
#include <string.h>

static bool
set(const char *v)
{
    return v != NULL && *v != '\0';
}

int
syslogd_config_parse(struct syslogd_config *cfg,
                     const char *root,
                     const char *syslog,
                     const char *file,
                     const char *rotate_size,
                     const char *rotate_keep,
                     const char **ret_var,
                     const char **ret_reason)
{
    uint64_t v;
    int r;

    memset(cfg, 0, sizeof(*cfg));
    cfg->enabled = true;
    cfg->rotate_size = SYSLOGD_ROTATE_SIZE_DEFAULT;
    cfg->rotate_keep = SYSLOGD_ROTATE_KEEP_DEFAULT;

    if (set(syslog) && parse_bool(syslog, &cfg->enabled) < 0) {
        *ret_var = "AIRLOCK_SYSLOG";
        *ret_reason = "expected on or off";
        return -EINVAL;
    }
    r = root_path_in(cfg->socket_path,
                     sizeof(cfg->socket_path),
                     root,
                     "/dev/log");
    if (r < 0) {
        *ret_var = "AIRLOCK_ROOT";
        *ret_reason = "too long for a unix socket path under it";
        return r;
    }
    if (set(file)) {
        if (file[0] != '/') {
            *ret_var = "AIRLOCK_SYSLOG_FILE";
            *ret_reason = "must be an absolute path";
            return -EINVAL;
        }
        if (file[strlen(file) - 1] == '/') {
            *ret_var = "AIRLOCK_SYSLOG_FILE";
            *ret_reason = "must name a file, not a directory";
            return -EINVAL;
        }
        /* Room for the ".NNN" of rotated names. */
        r = root_path_in(cfg->file, sizeof(cfg->file) - 8, root, file);
        if (r < 0) {
            *ret_var = "AIRLOCK_SYSLOG_FILE";
            *ret_reason = "path too long";
            return r;
        }
    }
    if (set(rotate_size)) {
        r = logfile_parse_size(rotate_size, &cfg->rotate_size);
        if (r < 0) {
            *ret_var = "AIRLOCK_SYSLOG_ROTATE_SIZE";
            *ret_reason = "expected bytes, optionally with a k, M or G "
                          "suffix, at most 1T (0: never rotate)";
            return r;
        }
    }
    if (set(rotate_keep)) {
        r = parse_uint(rotate_keep, LOGFILE_KEEP_MAX, &v);
        if (r < 0) {
            *ret_var = "AIRLOCK_SYSLOG_ROTATE_KEEP";
            *ret_reason = "expected a number of files from 0 to 999";
            return r;
        }
        cfg->rotate_keep = (unsigned)v;
    }
    return 0;
}
