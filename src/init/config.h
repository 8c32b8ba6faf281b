/* airlock's flags and AIRLOCK_* environment, parsed before anything runs. */
#ifndef AIRLOCK_INIT_CONFIG_H
#define AIRLOCK_INIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "common/sigutil.h"

#define CONFIG_GRACE_DEFAULT_MS 5000
#define CONFIG_GRACE_MAX_MS     3600000
#define CONFIG_ERR_MAX          256
/* Critical services (service.h): restarts allowed within the window
 * before one stops the container; 0 by default, its first exit does. */
#define CONFIG_CRITICAL_RESTARTS_DEFAULT  0
#define CONFIG_CRITICAL_RESTARTS_MAX      1000
#define CONFIG_CRITICAL_WINDOW_DEFAULT_MS 60000
#define CONFIG_CRITICAL_WINDOW_MAX_MS     86400000
/* How long the app waits for the services to be ready. */
#define CONFIG_READY_TIMEOUT_DEFAULT_MS 10000
#define CONFIG_READY_TIMEOUT_MAX_MS     3600000
/* --rewrite SIG:0: the signal is not forwarded at all. */
#define CONFIG_SIG_DROP (-1)

struct config {
    uint64_t grace_ms;
    bool signal_group;     /* forward signals to the app's process group */
    bool kill_all_on_exit; /* SIGTERM/SIGKILL every process on stop */
    bool skip_startup;     /* --skip-startup-files */
    bool skip_services;    /* --skip-services */
    bool skip_runit;       /* my_init --skip-runit (sets skip_services) */
    bool ssh_disabled;     /* --no-ssh or AIRLOCK_SSH=off */
    bool syslog_disabled;  /* --no-syslog or AIRLOCK_SYSLOG=off */
    enum log_level log_level;
    bool log_level_flag; /* -q or -v given: the built-ins get it too */
    /* What the app gets when the container is stopped (SIGTERM to
     * airlock): AIRLOCK_STOP_SIGNAL, --stop-signal, --rewrite TERM:SIG. */
    int stop_signal;
    int pdeath_signal; /* -p: signal to airlock when its parent dies; 0 */
    /* --rewrite: what the app gets for each signal airlock receives; 0 is
     * "as received", CONFIG_SIG_DROP "not forwarded". */
    int rewrite[SIG_LAST + 1];
    uint8_t exit_zero[256 / 8]; /* -e: app exit codes reported as 0 */
    /* AIRLOCK_CRITICAL: service names, comma separated, or NULL; points
     * into the environment. */
    const char *critical;
    uint64_t ready_timeout_ms;   /* AIRLOCK_READY_TIMEOUT (seconds) */
    bool ready_required;         /* AIRLOCK_READY_REQUIRED */
    unsigned critical_restarts;  /* AIRLOCK_CRITICAL_RESTARTS */
    uint64_t critical_window_ms; /* AIRLOCK_CRITICAL_WINDOW (seconds) */
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

/* The same for airlock run as my_init (phusion/baseimage's name): also
 * accepts my_init's --skip-runit (as --skip-services; a CMD is then
 * required, as my_init requires one) and --quiet (warnings and errors,
 * my_init's level, where airlock's -q is errors only), and refuses
 * --enable-insecure-key with one line why. my_init's --skip-startup-files
 * and --no-kill-all-on-exit are airlock's own flags already. */
enum config_result config_parse_my_init(int argc,
                                        char **argv,
                                        const char *(*getenv_fn)(const char *),
                                        struct config *cfg,
                                        char *err,
                                        size_t errsize);

void config_usage(int fd);

/* The signal the app gets when airlock receives sig, after --rewrite and
 * the stop signal; 0 when it is not forwarded: SIGCHLD (airlock's own);
 * unless rewritten, SIGTSTP/SIGTTIN/SIGTTOU (PID 1 is never stopped, and
 * the app's terminal job control does not go through airlock) and the C
 * library's 32 and 33. */
int config_app_signal(const struct config *cfg, int sig);

/* airlock's exit status for the app's status code: 0 for a code listed
 * with -e, else the code itself. */
int config_exit_status(const struct config *cfg, int code);

#endif
