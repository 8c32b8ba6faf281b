#include "init/config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/safeio.h"
#include "common/strutil.h"

static const char usage_text[] =
    "Usage: airlock [OPTIONS] [--] CMD [ARGS...]\n"
    "       airlock status [--json] | restart NAME | wait-ready [NAME]\n"
    "       airlock syslogd | setuser USER CMD...\n"
    "       my_init [OPTIONS] [--] CMD...  (a link: phusion's my_init flags)\n"
    "       sv status|up|down|restart|start|stop NAME...  (a link: runit's "
    "sv)\n"
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
    "      --no-syslog           no syslog collector, no /dev/log "
    "(AIRLOCK_SYSLOG=off)\n"
    "      --stop-signal SIG     what CMD gets instead of SIGTERM when the\n"
    "                            container is stopped, always followed by\n"
    "                            SIGCONT (AIRLOCK_STOP_SIGNAL, default TERM)\n"
    "      --rewrite SIG:SIG     forward the first signal as the second; 0 as\n"
    "                            the second drops it (repeatable; e.g. 15:3,\n"
    "                            TERM:QUIT, TSTP:STOP)\n"
    "  -e, --exit-zero CODE      exit 0 when CMD exits with CODE, e.g. 143\n"
    "                            (repeatable)\n"
    "  -p, --pdeath-signal SIG   get SIG when airlock's parent dies\n"
    "                            (PR_SET_PDEATHSIG; for airlock run under\n"
    "                            another process, not as PID 1)\n"
    "  -v, --verbose             log debug messages (AIRLOCK_LOG_LEVEL=debug)\n"
    "  -q, --quiet               log errors only (AIRLOCK_LOG_LEVEL=error)\n"
    "                            -v and -q apply to the built-in services too\n"
    "  -h, --help                show this help\n"
    "  -V, --version             show the version\n"
    "\n"
    "Signals: every one airlock can catch is forwarded to CMD (to its group\n"
    "with -G) but SIGCHLD and SIGTSTP/SIGTTIN/SIGTTOU; SIGTERM and SIGINT\n"
    "also stop the container. A signal is a name (TERM, SIGTERM, RTMIN+2)\n"
    "or a number.\n"
    "\n"
    "Inherited fds above 2 go to CMD only (socket activation); LISTEN_PID\n"
    "naming airlock becomes CMD's pid.\n"
    "\n"
    "Exit status: CMD's status (0 for a CODE given with -e), 128+N if CMD\n"
    "died of signal N, 2 for a bad flag or variable, 1 if the start failed.\n";

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

/* The value setters below return NULL, or a static reason for the usage
 * line (style.md 3.2: the parser gives the reason, the caller the line). */

static const char *
set_grace(struct config *cfg, const char *value)
{
    if (parse_seconds_ms(value, CONFIG_GRACE_MAX_MS, &cfg->grace_ms) < 0) {
        return "expected seconds from 0 to 3600, e.g. 5 or 0.5";
    }
    return NULL;
}

static const char *
set_stop_signal(struct config *cfg, const char *value)
{
    int sig;

    if (sig_from_string(value, &sig) < 0) {
        return "expected a signal name or number, e.g. QUIT or 3";
    }
    if (sig == SIGSTOP) {
        /* It is followed by SIGCONT: the app would never see a stop. */
        return "SIGSTOP cannot stop the app, it only pauses it";
    }
    cfg->stop_signal = sig;
    return NULL;
}

/* SIG:SIG as dumb-init's --rewrite; 0 on the right drops the signal. */
static const char *
set_rewrite(struct config *cfg, const char *value)
{
    char from[SIG_NAME_MAX * 2];
    const char *colon = strchr(value, ':');
    int src, dst;

    if (colon == NULL || (size_t)(colon - value) >= sizeof(from)) {
        return "expected SIG:SIG, e.g. TERM:QUIT or 15:3";
    }
    memcpy(from, value, (size_t)(colon - value));
    from[colon - value] = '\0';
    if (sig_from_string(from, &src) < 0) {
        return "the first signal is not a signal name or number";
    }
    if (src == SIGKILL || src == SIGSTOP || src == SIGCHLD) {
        return "KILL and STOP never reach airlock, and CHLD is its own";
    }
    if (strcmp(colon + 1, "0") == 0) {
        if (src == SIGTERM) {
            return "the app must get a signal when the container stops";
        }
        cfg->rewrite[src] = CONFIG_SIG_DROP;
        return NULL;
    }
    if (sig_from_string(colon + 1, &dst) < 0) {
        return "the second signal is not a signal name or number (or 0)";
    }
    if (src == SIGTERM) {
        /* One setting, two spellings: the stop signal is what SIGTERM is
         * rewritten to. */
        return set_stop_signal(cfg, colon + 1);
    }
    cfg->rewrite[src] = dst;
    return NULL;
}

static const char *
set_exit_zero(struct config *cfg, const char *value)
{
    uint64_t code;

    if (parse_uint(value, 255, &code) < 0) {
        return "expected an exit code from 0 to 255, e.g. 143";
    }
    cfg->exit_zero[code / 8] |= (uint8_t)(1U << (code % 8));
    return NULL;
}

static const char *
set_pdeath_signal(struct config *cfg, const char *value)
{
    int sig;

    if (sig_from_string(value, &sig) < 0) {
        return "expected a signal name or number, e.g. KILL or TERM";
    }
    cfg->pdeath_signal = sig;
    return NULL;
}

/* Flags that take a value: "-e 143", "--exit-zero 143", "--exit-zero=143". */
static const struct value_flag {
    const char *short_name; /* NULL: long form only */
    const char *long_name;
    const char *(*set)(struct config *cfg, const char *value);
} value_flags[] = {
    {"-g", "--grace", set_grace},
    {NULL, "--stop-signal", set_stop_signal},
    {NULL, "--rewrite", set_rewrite},
    {"-e", "--exit-zero", set_exit_zero},
    {"-p", "--pdeath-signal", set_pdeath_signal},
};

/* Matches argv[*i] against the value flags; returns the flag (and the
 * value in *ret_value, NULL when it is missing), or NULL for none. */
static const struct value_flag *
match_value_flag(int argc, char **argv, int *i, const char **ret_value)
{
    const char *a = argv[*i];

    for (size_t f = 0; f < sizeof(value_flags) / sizeof(value_flags[0]); f++) {
        const struct value_flag *vf = &value_flags[f];
        size_t len = strlen(vf->long_name);

        if (strncmp(a, vf->long_name, len) == 0 && a[len] == '=') {
            *ret_value = a + len + 1;
            return vf;
        }
        if (strcmp(a, vf->long_name) == 0 ||
            (vf->short_name != NULL && strcmp(a, vf->short_name) == 0)) {
            *ret_value = *i + 1 < argc ? argv[++*i] : NULL;
            return vf;
        }
    }
    return NULL;
}

int
config_app_signal(const struct config *cfg, int sig)
{
    int to;

    if (sig <= 0 || sig > SIG_LAST || sig == SIGCHLD) {
        return 0;
    }
    if (sig == SIGTERM) {
        return cfg->stop_signal;
    }
    to = cfg->rewrite[sig];
    if (to == CONFIG_SIG_DROP) {
        return 0;
    }
    if (to > 0) {
        return to;
    }
    if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
        return 0;
    }
    /* 32 and 33 (glibc; musl takes 32 to 34) are the C library's own:
     * the app cannot catch them (bash's trap silently fails) and would
     * die of one, or its libc would take it for an internal event. */
    if (sig >= 32 && sig < SIGRTMIN) {
        return 0;
    }
    return sig;
}

int
config_exit_status(const struct config *cfg, int code)
{
    if (code >= 0 && code <= 255 &&
        (cfg->exit_zero[code / 8] & (1U << (code % 8))) != 0) {
        return 0;
    }
    return code;
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
        {"AIRLOCK_READY_REQUIRED",
         offsetof(struct config, ready_required),
         false},
    };
    const char *v, *why;

    v = getenv_fn("AIRLOCK_GRACE");
    if (v != NULL && (why = set_grace(cfg, v)) != NULL) {
        return usage_error(err, errsize, "AIRLOCK_GRACE='%s': %s", v, why);
    }
    v = getenv_fn("AIRLOCK_LOG_LEVEL");
    if (v != NULL && *v != '\0' && log_parse_level(v, &cfg->log_level) < 0) {
        return usage_error(err,
                           errsize,
                           "AIRLOCK_LOG_LEVEL='%s': %s",
                           v,
                           "expected error, warn, info or debug");
    }
    v = getenv_fn("AIRLOCK_RUN_DIR");
    if (v != NULL && v[0] != '/') {
        return usage_error(err,
                           errsize,
                           "AIRLOCK_RUN_DIR='%s': %s",
                           v,
                           "expected an absolute path, e.g. /run/airlock");
    }
    v = getenv_fn("AIRLOCK_STOP_SIGNAL");
    if (v != NULL && *v != '\0') {
        why = set_stop_signal(cfg, v);
        if (why != NULL) {
            return usage_error(err,
                               errsize,
                               "AIRLOCK_STOP_SIGNAL='%s': %s",
                               v,
                               why);
        }
    }
    cfg->critical = getenv_fn("AIRLOCK_CRITICAL");
    v = getenv_fn("AIRLOCK_CRITICAL_RESTARTS");
    if (v != NULL && *v != '\0') {
        uint64_t n;
        if (parse_uint(v, CONFIG_CRITICAL_RESTARTS_MAX, &n) < 0) {
            return usage_error(err,
                               errsize,
                               "AIRLOCK_CRITICAL_RESTARTS='%s': expected a "
                               "count from 0 to %d",
                               v,
                               CONFIG_CRITICAL_RESTARTS_MAX);
        }
        cfg->critical_restarts = (unsigned)n;
    }
    v = getenv_fn("AIRLOCK_CRITICAL_WINDOW");
    if (v != NULL && *v != '\0' &&
        parse_seconds_ms(v,
                         CONFIG_CRITICAL_WINDOW_MAX_MS,
                         &cfg->critical_window_ms) < 0) {
        return usage_error(err,
                           errsize,
                           "AIRLOCK_CRITICAL_WINDOW='%s': expected seconds, "
                           "at most %d",
                           v,
                           CONFIG_CRITICAL_WINDOW_MAX_MS / 1000);
    }
    v = getenv_fn("AIRLOCK_READY_TIMEOUT");
    if (v != NULL && *v != '\0' &&
        parse_seconds_ms(v,
                         CONFIG_READY_TIMEOUT_MAX_MS,
                         &cfg->ready_timeout_ms) < 0) {
        return usage_error(err,
                           errsize,
                           "AIRLOCK_READY_TIMEOUT='%s': expected seconds, "
                           "at most %d",
                           v,
                           CONFIG_READY_TIMEOUT_MAX_MS / 1000);
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

/* phusion's my_init flags (config_parse_my_init): 1 when argv[i] is one
 * and was applied, 0 when it is not, or CONFIG_USAGE_ERROR's -1. */
static int
my_init_flag(const char *a, struct config *cfg, char *err, size_t errsize)
{
    if (strcmp(a, "--enable-insecure-key") == 0) {
        (void)usage_error(err,
                          errsize,
                          "--enable-insecure-key: refused: phusion's "
                          "insecure key is a published private key, so "
                          "anyone could log in; give your own public key "
                          "in AIRLOCK_AUTHORIZED_KEYS instead");
        return -1;
    }
    if (strcmp(a, "--skip-runit") == 0) {
        cfg->skip_services = true;
        cfg->skip_runit = true;
        return 1;
    }
    if (strcmp(a, "--quiet") == 0) {
        /* my_init's --quiet: warnings and errors. */
        cfg->log_level = LOG_LEVEL_WARN;
        cfg->log_level_flag = true;
        return 1;
    }
    return 0;
}

static enum config_result
parse_args(int argc,
           char **argv,
           const char *(*getenv_fn)(const char *),
           struct config *cfg,
           char *err,
           size_t errsize,
           bool my_init)
{
    enum config_result r;
    int i;

    memset(cfg, 0, sizeof(*cfg));
    cfg->grace_ms = CONFIG_GRACE_DEFAULT_MS;
    cfg->kill_all_on_exit = true;
    cfg->log_level = LOG_LEVEL_INFO;
    cfg->stop_signal = SIGTERM;
    cfg->critical_restarts = CONFIG_CRITICAL_RESTARTS_DEFAULT;
    cfg->critical_window_ms = CONFIG_CRITICAL_WINDOW_DEFAULT_MS;
    cfg->ready_timeout_ms = CONFIG_READY_TIMEOUT_DEFAULT_MS;
    err[0] = '\0';

    r = parse_env(getenv_fn, cfg, err, errsize);
    if (r != CONFIG_RUN) {
        return r;
    }

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const struct value_flag *vf;
        const char *value = NULL, *why;

        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            break;
        }
        if (my_init) {
            int m = my_init_flag(a, cfg, err, errsize);
            if (m < 0) {
                return CONFIG_USAGE_ERROR;
            }
            if (m > 0) {
                continue;
            }
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            return CONFIG_HELP;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            return CONFIG_VERSION;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            cfg->log_level = LOG_LEVEL_DEBUG;
            cfg->log_level_flag = true;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            cfg->log_level = LOG_LEVEL_ERROR;
            cfg->log_level_flag = true;
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
        } else if (strcmp(a, "--no-syslog") == 0) {
            cfg->syslog_disabled = true;
        } else if ((vf = match_value_flag(argc, argv, &i, &value)) != NULL) {
            if (value == NULL) {
                return usage_error(err,
                                   errsize,
                                   "%s: needs a value (see airlock --help)",
                                   vf->long_name);
            }
            why = vf->set(cfg, value);
            if (why != NULL) {
                return usage_error(err,
                                   errsize,
                                   "%s '%s': %s",
                                   vf->long_name,
                                   value,
                                   why);
            }
        } else {
            return usage_error(err,
                               errsize,
                               "unknown option '%s'%s",
                               a,
                               " (see airlock --help)");
        }
    }
    cfg->cmd = i < argc ? &argv[i] : NULL;
    if (cfg->skip_runit && cfg->cmd == NULL) {
        /* As my_init: with no services and no command there is nothing
         * to run. */
        return usage_error(err,
                           errsize,
                           "--skip-runit: needs a command, e.g. my_init "
                           "--skip-runit -- CMD");
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
    return parse_args(argc, argv, getenv_fn, cfg, err, errsize, false);
}

enum config_result
config_parse_my_init(int argc,
                     char **argv,
                     const char *(*getenv_fn)(const char *),
                     struct config *cfg,
                     char *err,
                     size_t errsize)
{
    return parse_args(argc, argv, getenv_fn, cfg, err, errsize, true);
}
