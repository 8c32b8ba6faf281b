/* The collector's settings, from AIRLOCK_SYSLOG* environment variables. */
#ifndef AIRLOCK_SYSLOGD_CONFIG_H
#define AIRLOCK_SYSLOGD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define SYSLOGD_ROTATE_SIZE_DEFAULT (UINT64_C(10) << 20)
#define SYSLOGD_ROTATE_KEEP_DEFAULT 5
/* sun_path of struct sockaddr_un. */
#define SYSLOGD_SOCKET_PATH_MAX 108

struct syslogd_config {
    bool enabled;
    char socket_path[SYSLOGD_SOCKET_PATH_MAX]; /* ROOT/dev/log */
    char file[PATH_MAX];                       /* "" when no file */
    uint64_t rotate_size;                      /* 0: never rotate */
    unsigned rotate_keep;
};

/* Fills cfg from the variables' values (NULL when unset; an empty value
 * counts as unset) with paths under root:
 *   AIRLOCK_SYSLOG              on/off (any parse_bool word); default on
 *   AIRLOCK_SYSLOG_FILE         absolute path inside the container
 *   AIRLOCK_SYSLOG_ROTATE_SIZE  bytes, k/M/G suffixes; 0 never rotates
 *   AIRLOCK_SYSLOG_ROTATE_KEEP  0..LOGFILE_KEEP_MAX
 * Returns 0, or -EINVAL/-ERANGE/-ENAMETOOLONG with *ret_var naming the bad
 * variable and *ret_reason a static explanation. */
int syslogd_config_parse(struct syslogd_config *cfg,
                         const char *root,
                         const char *syslog,
                         const char *file,
                         const char *rotate_size,
                         const char *rotate_keep,
                         const char **ret_var,
                         const char **ret_reason);

#endif
