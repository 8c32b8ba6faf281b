/* airlock's flags and AIRLOCK_* environment, parsed before anything runs. */
#ifndef AIRLOCK_INIT_CONFIG_H
#define AIRLOCK_INIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"

#define CONFIG_GRACE_DEFAULT_MS 5000
#define CONFIG_GRACE_MAX_MS     3600000
#define CONFIG_ERR_MAX          256

struct config {
    uint64_t grace_ms;
    bool signal_group;     /* forward signals to the app's process group */
    bool kill_all_on_exit; /* SIGTERM/SIGKILL every process on stop */
    bool skip_startup;     /* --skip-startup-files */
    bool skip_services;    /* --skip-services */
    bool ssh_disabled;     /* --no-ssh or AIRLOCK_SSH=off */
    bool syslog_disabled;  /* AIRLOCK_SYSLOG=off */
    enum log_level log_level;
    char **cmd; /* the app's argv, NULL-terminated; NULL if none */
};

enum config_result {
    CONFIG_RUN = 0,
    CONFIG_HELP,
    CONFIG_VERSION,
    CONFIG_USAGE_ERROR,
};

/* Parses argv (argv[0] is the program) and the AIRLOCK_* variables read
 * through getenv_fn (getenv in production; tests pass their own). Flags
 * override the environment. On CONFIG_USAGE_ERROR, err holds one line
 * naming the flag or variable and the reason. cfg->cmd points into argv. */
enum config_result config_parse(int argc,
                                char **argv,
                                const char *(*getenv_fn)(const char *),
                                struct config *cfg,
                                char *err,
                                size_t errsize);

void config_usage(int fd);

#endif
