#include "init/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/safeio.h"
#include "common/strutil.h"

static const char usage_text[] =
    "Usage: airlock [OPTIONS] [--] CMD [ARGS...]\n"
    "       airlock status | restart NAME | syslogd | setuser USER CMD...\n"
    "\n"
    "A container init: runs CMD as its child, reaps zombies, forwards\n"
    "signals, runs startup scripts and services, stops everything gracefully.\n"
    "\n"
    "Options:\n"
    "  -g, --grace SECONDS       time each stop stage waits before SIGKILL\n"
    "                            (AIRLOCK_GRACE, default 5, fractions "
    "allowed)\n"
    "  -G, --group               forward signals to CMD's process group\n"
    "                            (AIRLOCK_SIGNAL_GROUP=1)\n"
    "      --no-kill-all-on-exit do not signal the remaining processes on\n"
    "                            stop (AIRLOCK_KILL_ALL_ON_EXIT=0)\n"
    "      --skip-startup-files  do not run /etc/airlock/init.d, "
    "/etc/my_init.d,\n"
    "                            /etc/rc.local (AIRLOCK_SKIP_STARTUP_FILES=1)\n"
    "      --skip-services       do not start /etc/service/* "
    "(AIRLOCK_SKIP_SERVICES=1)\n"
    "      --no-ssh              never start the SSH server (AIRLOCK_SSH=off)\n"
    "  -v, --verbose             log debug messages (AIRLOCK_LOG_LEVEL=debug)\n"
    "  -q, --quiet               log errors only (AIRLOCK_LOG_LEVEL=error)\n"
    "  -h, --help                show this help\n"
    "  -V, --version             show the version\n"
    "\n"
    "Exit status: CMD's status, 128+N if CMD died of signal N, 2 for a bad\n"
    "flag or variable, 1 if the start failed.\n";

void
config_usage(int fd)
{
    (void)write_all(fd, usage_text, sizeof(usage_text) - 1);
}

static enum config_result
usage_error(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum config_result
usage_error(char *err, size_t errsize, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
    return CONFIG_USAGE_ERROR;
}

static int
set_grace(struct config *cfg, const char *value)
{
    return parse_seconds_ms(value, CONFIG_GRACE_MAX_MS, &cfg->grace_ms);
}

/* Reads one boolean variable into *out when it is set; -EINVAL if bad. */
static int
env_bool(const char *(*getenv_fn)(const char *), const char *name, bool *out)
{
    const char *v = getenv_fn(name);

    if (v == NULL || *v == '\0') {
        return 0;
    }
    return parse_bool(v, out);
}

static enum config_result
parse_env(const char *(*getenv_fn)(const char *),
          struct config *cfg,
          char *err,
          size_t errsize)
{
    static const struct {
        const char *name;
        size_t offset;
        bool invert;
    } bools[] = {
        {"AIRLOCK_SIGNAL_GROUP", offsetof(struct config, signal_group), false},
        {"AIRLOCK_KILL_ALL_ON_EXIT",
         offsetof(struct config, kill_all_on_exit),
         false},
        {"AIRLOCK_SKIP_STARTUP_FILES",
         offsetof(struct config, skip_startup),
         false},
        {"AIRLOCK_SKIP_SERVICES",
         offsetof(struct config, skip_services),
         false},
        {"AIRLOCK_SSH", offsetof(struct config, ssh_disabled), true},
        {"AIRLOCK_SYSLOG", offsetof(struct config, syslog_disabled), true},
    };
    const char *v;

    v = getenv_fn("AIRLOCK_GRACE");
    if (v != NULL && set_grace(cfg, v) < 0) {
        return usage_error(err,
                           errsize,
                           "AIRLOCK_GRACE='%s': %s",
                           v,
                           "expected seconds from 0 to 3600, e.g. 5 or 0.5");
    }
    v = getenv_fn("AIRLOCK_LOG_LEVEL");
    if (v != NULL && *v != '\0' && log_parse_level(v, &cfg->log_level) < 0) {
        return usage_error(err,
                           errsize,
                           "AIRLOCK_LOG_LEVEL='%s': %s",
                           v,
                           "expected error, warn, info or debug");
    }
    for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
        bool *field = (bool *)((char *)cfg + bools[i].offset);
        bool value = bools[i].invert ? !*field : *field;
        if (env_bool(getenv_fn, bools[i].name, &value) < 0) {
            return usage_error(err,
                               errsize,
                               "%s='%s': expected 1/yes/on or 0/no/off",
                               bools[i].name,
                               getenv_fn(bools[i].name));
        }
        *field = bools[i].invert ? !value : value;
    }
    return CONFIG_RUN;
}

enum config_result
config_parse(int argc,
             char **argv,
             const char *(*getenv_fn)(const char *),
             struct config *cfg,
             char *err,
             size_t errsize)
{
    enum config_result r;
    int i;

    memset(cfg, 0, sizeof(*cfg));
    cfg->grace_ms = CONFIG_GRACE_DEFAULT_MS;
    cfg->kill_all_on_exit = true;
    cfg->log_level = LOG_LEVEL_INFO;
    err[0] = '\0';

    r = parse_env(getenv_fn, cfg, err, errsize);
    if (r != CONFIG_RUN) {
        return r;
    }

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = NULL;

        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            break;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            return CONFIG_HELP;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            return CONFIG_VERSION;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            cfg->log_level = LOG_LEVEL_DEBUG;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            cfg->log_level = LOG_LEVEL_ERROR;
        } else if (strcmp(a, "-G") == 0 || strcmp(a, "--group") == 0) {
            cfg->signal_group = true;
        } else if (strcmp(a, "--no-kill-all-on-exit") == 0) {
            cfg->kill_all_on_exit = false;
        } else if (strcmp(a, "--skip-startup-files") == 0) {
            cfg->skip_startup = true;
        } else if (strcmp(a, "--skip-services") == 0) {
            cfg->skip_services = true;
        } else if (strcmp(a, "--no-ssh") == 0) {
            cfg->ssh_disabled = true;
        } else if (strcmp(a, "-g") == 0 || strcmp(a, "--grace") == 0) {
            if (i + 1 >= argc) {
                return usage_error(err,
                                   errsize,
                                   "%s: %s",
                                   a,
                                   "needs a value in seconds");
            }
            value = argv[++i];
        } else if (strncmp(a, "--grace=", 8) == 0) {
            value = a + 8;
        } else {
            return usage_error(err,
                               errsize,
                               "unknown option '%s'%s",
                               a,
                               " (see airlock --help)");
        }
        if (value != NULL && set_grace(cfg, value) < 0) {
            return usage_error(
                err,
                errsize,
                "--grace '%s': %s",
                value,
                "expected seconds from 0 to 3600, e.g. 5 or 0.5");
        }
    }
    cfg->cmd = i < argc ? &argv[i] : NULL;
    return CONFIG_RUN;
}
