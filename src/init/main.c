/* airlock: the container init. This file only wires modules together.
 *
 * Two phases (style.md 3.2): before supervisor_run() a bad flag exits 2
 * and a failed setup exits 1; once the loop runs, nothing exits until the
 * stop sequence is complete. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/safeio.h"
#include "common/strutil.h"
#include "init/config.h"
#include "init/control.h"
#include "init/environ.h"
#include "init/inherit.h"
#include "init/startup.h"
#include "init/spawn.h"
#include "init/sshd_finder.h"
#include "init/supervisor.h"
#include "privdrop/setuser.h"
#include "syslogd/syslogd.h"

static const char *
getenv_const(const char *name)
{
    return getenv(name);
}

/* `airlock status`, `airlock syslogd`, ...: argv[1] names a tool. */
static int
dispatch_tool(int argc, char **argv, int *ret_status)
{
    if (argc < 2) {
        return 0;
    }
    if (strcmp(argv[1], "syslogd") == 0) {
        log_setup("airlock-syslogd", STDERR_FILENO);
        *ret_status = syslogd_main(argc - 1, argv + 1);
        return 1;
    }
    if (strcmp(argv[1], "setuser") == 0) {
        *ret_status = setuser_main(argc - 1, argv + 1);
        return 1;
    }
    if (strcmp(argv[1], "status") == 0 || strcmp(argv[1], "restart") == 0 ||
        strcmp(argv[1], "wait-ready") == 0) {
        *ret_status = control_client_main(argc - 1, argv + 1);
        return 1;
    }
    return 0;
}

/* tini's -p: the kernel sends sig when our parent exits. A parent that
 * is already gone (before prctl) would never trigger it, so that case is
 * checked against the parent seen at start and the signal sent here. As
 * PID 1 the parent is in another namespace (getppid() is 0) and only the
 * kernel's notice can tell. */
static void
set_pdeath_signal(int sig, pid_t parent)
{
    if (sig == 0) {
        return;
    }
    if (prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0, 0, 0) < 0) {
        log_errno(LOG_LEVEL_WARN, -errno, "--pdeath-signal: prctl");
        return;
    }
    if (parent != 0 && getppid() != parent) {
        log_info("parent %d already gone, signalling myself", (int)parent);
        (void)kill(getpid(), sig);
    }
}

/* PID 1 binds /dev/log itself, before any service or the app starts, and
 * hands the socket to the collector: what the app logs in its first
 * instant queues in the socket until the collector reads it, so the app
 * need not wait for the collector, and nothing is lost when the collector
 * restarts. Where PID 1 cannot bind it, the collector binds it itself and
 * the app waits (at most 1 s) for it, as before. */
static void
add_syslogd(struct supervisor *sup, const char *exe)
{
    char *path = sup->syslog_socket;
    char arg[32];
    struct stat st;
    int fd = -1, r;

    if (services_add_builtin(&sup->services, "syslogd", exe, "syslogd") < 0 ||
        root_path(path, sizeof(sup->syslog_socket), "/dev/log") < 0) {
        path[0] = '\0';
        return;
    }
    r = syslogd_bind(path, &fd);
    if (r == 0) {
        (void)snprintf(arg, sizeof(arg), "--socket-fd=%d", fd);
        if (services_builtin_pass_fd(&sup->services, "syslogd", fd, arg) == 0) {
            sup->syslog_fd = fd;
            path[0] = '\0'; /* bound: nothing to wait for */
            return;
        }
        (void)close(fd);
    } else {
        log_errno(LOG_LEVEL_DEBUG,
                  r,
                  "binding '%s' for the collector; it will try itself",
                  path);
    }
    /* A socket left by an earlier run would make the wait pass at once. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        (void)unlink(path);
    }
}

static void
add_builtin_services(struct supervisor *sup, const struct config *cfg)
{
    char exe[PATH_MAX], sshd[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n <= 0) {
        log_warn("cannot find my own executable: %s; no built-in services",
                 strerror(errno));
        return;
    }
    exe[n] = '\0';
    if (cfg->syslog_disabled) {
        log_info("syslog collector disabled (AIRLOCK_SYSLOG=off)");
    } else {
        add_syslogd(sup, exe);
    }
    if (sshd_wanted(cfg->ssh_disabled) &&
        sshd_find(exe, sshd, sizeof(sshd)) == 0) {
        (void)services_add_builtin(&sup->services, "sshd", sshd, "");
    }
}

/* Writes /etc/container_environment (one file per variable, .sh, .json)
 * in a child process, so the app does not wait for it: on an overlay
 * filesystem each file costs about 0.25-0.5 ms. Only when no startup
 * script will run: scripts read it, and must see it whole. The readers
 * left (cron jobs, SSH sessions, services that source the .sh) come later
 * than the few milliseconds it takes. The child keeps PID 1's mask, all
 * signals blocked, so a stop right after the start waits for it (the
 * stop reaps every process) rather than leave the directory half
 * written. Without a fork, it is written here, as before. */
static void
write_environment_detached(void)
{
    pid_t pid = fork();
    int r;

    if (pid == 0) {
        r = environ_write(environ);
        if (r < 0) {
            log_errno(LOG_LEVEL_WARN,
                      r,
                      "cannot write the container environment");
        }
        _exit(r < 0 ? 1 : 0);
    }
    if (pid > 0) {
        return;
    }
    r = environ_write(environ);
    if (r < 0) {
        log_errno(LOG_LEVEL_WARN, r, "cannot write the container environment");
    }
}

/* Writes the container environment, runs the startup scripts and reads the
 * environment back, as phusion's my_init does: scripts may edit
 * /etc/container_environment/ and the services and the app see the result.
 * Returns 0 to go on, or the exit status to stop with. */
static int
prepare_environment_and_startup(struct supervisor *sup,
                                const struct config *cfg)
{
    char **envp = NULL;
    bool env_written;
    int r, status = 0;

    if (cfg->skip_startup || !startup_any(root_dir())) {
        /* No script will read it before the app starts: write it beside
         * the start instead of before it. */
        write_environment_detached();
        if (cfg->skip_startup) {
            log_info("startup scripts skipped (--skip-startup-files)");
        }
        return 0;
    }
    r = environ_write(environ);
    env_written = r == 0;
    if (r < 0) {
        log_errno(LOG_LEVEL_WARN, r, "cannot write the container environment");
    }
    r = startup_run(&sup->child_mask, environ, env_written, &status, &envp);
    if (r < 0) {
        log_errno(LOG_LEVEL_ERROR, r, "startup scripts");
        return 1;
    }
    if (status != 0) {
        return status;
    }
    /* NULL: no script ran, so nothing can have changed the directory. */
    if (envp != NULL) {
        sup->envp = envp;
    }
    return 0;
}

/* The environments are final once the startup scripts ran. The app's:
 * when LISTEN_PID names airlock, the app gets its own pid there. The
 * services' and hooks': with -q or -v, AIRLOCK_LOG_LEVEL says the same,
 * so the built-in collector and SSH server log at airlock's level (the
 * app's environment stays what the runtime passed). */
static void
prepare_environments(struct supervisor *sup,
                     const struct config *cfg,
                     struct inherit *inherited)
{
    static char level[sizeof("AIRLOCK_LOG_LEVEL=") + 8];
    char **envp;
    int r;

    r = inherit_prepare_env(inherited, sup->envp, getpid());
    if (r < 0) {
        log_errno(LOG_LEVEL_WARN, r, "LISTEN_PID left as it is");
    } else if (r > 0) {
        log_debug("LISTEN_PID names airlock; the app gets its own pid");
        sup->app_envp = inherited->envp;
    }
    if (!cfg->log_level_flag) {
        return;
    }
    (void)snprintf(level,
                   sizeof(level),
                   "AIRLOCK_LOG_LEVEL=%s",
                   cfg->log_level == LOG_LEVEL_DEBUG ? "debug" : "error");
    envp = spawn_env_with(sup->envp, level);
    if (envp == NULL) {
        log_warn("out of memory; the built-in services log at their "
                 "default level");
        return;
    }
    if (sup->app_envp == NULL) {
        sup->app_envp = sup->envp;
    }
    sup->envp = envp;
}

/* Lists /etc/airlock/shutdown.d/ once at start, so the stop sequence
 * needs no allocation. */
static void
list_shutdown_hooks(struct supervisor *sup)
{
    static char names[SUPERVISOR_HOOKS_MAX][NAME_MAX + 1];
    static char paths[SUPERVISOR_HOOKS_MAX][PATH_MAX];
    char dir[PATH_MAX];
    size_t n = 0;

    if (root_path(dir, sizeof(dir), "/etc/airlock/shutdown.d") < 0 ||
        startup_list(dir, names, SUPERVISOR_HOOKS_MAX, &n) < 0) {
        return;
    }
    sup->hooks = paths;
    for (size_t i = 0; i < n; i++) {
        const char *reason = NULL;
        int len =
            snprintf(paths[sup->nhooks], PATH_MAX, "%s/%s", dir, names[i]);
        if (len < 0 || len >= PATH_MAX) {
            continue;
        }
        if (startup_check(paths[sup->nhooks], &reason) < 0) {
            log_info("shutdown hook '%s': %s, skipped", names[i], reason);
            continue;
        }
        sup->nhooks++;
    }
}

static void
scan_services(struct supervisor *sup)
{
    char dir[PATH_MAX];
    int r = root_path(dir, sizeof(dir), "/etc/service");

    if (r == 0) {
        r = services_scan(&sup->services, dir);
    }
    if (r < 0) {
        log_errno(LOG_LEVEL_ERROR, r, "cannot read '%s', no services", dir);
    }
}

int
main(int argc, char **argv)
{
    static struct supervisor sup;
    static struct inherit inherited;
    size_t dropped = 0;
    char err[CONFIG_ERR_MAX];
    struct config cfg;
    pid_t parent = getppid();
    int status, r;

    if (dispatch_tool(argc, argv, &status)) {
        return status;
    }
    log_setup("airlock", STDERR_FILENO);
    switch (config_parse(argc, argv, getenv_const, &cfg, err, sizeof(err))) {
    case CONFIG_HELP:
        config_usage(STDOUT_FILENO);
        return 0;
    case CONFIG_VERSION:
        printf("airlock %s\n", AIRLOCK_VERSION);
        return 0;
    case CONFIG_USAGE_ERROR:
        log_error("%s", err);
        return 2;
    case CONFIG_RUN:
        break;
    }
    log_set_level(cfg.log_level);

    /* fds above 2 that the runtime left open may be the app's: socket
     * activation (LISTEN_FDS, podman --preserve-fds) passes listening
     * sockets this way. Record them before airlock opens any of its own;
     * only the app gets them, and airlock closes its copies once the app
     * runs. */
    r = inherit_record(&inherited, &dropped);
    if (r < 0) {
        log_errno(LOG_LEVEL_WARN, r, "cannot list inherited fds");
    } else if (dropped > 0) {
        log_warn("more than %d inherited fds; %zu closed, not passed on",
                 INHERIT_FDS_MAX,
                 dropped);
    }
    sup.inherit = &inherited;

    /* Block signals before anything is forked: what arrives from now on
     * is queued for the loop, never lost. */
    sup.cfg = &cfg;
    sup.control_fd = -1;
    sup.syslog_fd = -1;
    r = supervisor_block_signals(&sup);
    if (r < 0) {
        log_errno(LOG_LEVEL_ERROR, r, "cannot set up signal handling");
        return 1;
    }
    sup.is_pid1 = getpid() == 1;
    if (!sup.is_pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        log_errno(LOG_LEVEL_WARN,
                  -errno,
                  "cannot become a child subreaper; orphans go elsewhere");
    }
    set_pdeath_signal(cfg.pdeath_signal, parent);
    children_init(&sup.children);
    sup.envp = environ;

    r = prepare_environment_and_startup(&sup, &cfg);
    if (r != 0) {
        return r;
    }

    if (!cfg.skip_services) {
        add_builtin_services(&sup, &cfg);
        scan_services(&sup);
        services_set_critical(&sup.services,
                              cfg.critical,
                              cfg.critical_restarts,
                              cfg.critical_window_ms);
        (void)services_resolve_deps(&sup.services);
    } else {
        log_info("services skipped (--skip-services)");
    }
    prepare_environments(&sup, &cfg, &inherited);
    if (cfg.cmd == NULL) {
        inherit_close(&inherited);
    }
    list_shutdown_hooks(&sup);
    sup.control_fd = control_listen();
    if (sup.control_fd < 0) {
        log_errno(LOG_LEVEL_WARN,
                  sup.control_fd,
                  "control socket unavailable; 'airlock status' will not work");
    }
    status = supervisor_run(&sup);
    /* -e maps the app's own status only, not airlock's 1 or 126/127,
     * nor a critical service's. */
    return sup.app_started && !sup.exit_from_service
               ? config_exit_status(&cfg, status)
               : status;
}
