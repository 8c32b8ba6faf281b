/* airlock: the container init. This file only wires modules together.
 *
 * Two phases (style.md 3.2): before supervisor_run() a bad flag exits 2
 * and a failed setup exits 1; once the loop runs, nothing exits until the
 * stop sequence is complete. */
#include <errno.h>
#include <fcntl.h>
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
#include "init/mode.h"
#include "init/startup.h"
#include "common/spawn.h"
#include "init/sshd_finder.h"
#include "init/supervisor.h"
#include "init/sv.h"
#include "privdrop/setuser.h"
#include "syslogd/syslogd.h"

static const char *
getenv_const(const char *name)
{
    return getenv(name);
}

/* argv[0]'s last component: the name airlock was called by. */
static const char *
called_as(char **argv)
{
    const char *slash;

    if (argv[0] == NULL) {
        return "";
    }
    slash = strrchr(argv[0], '/');
    return slash != NULL ? slash + 1 : argv[0];
}

/* `airlock status`, `airlock syslogd`, ...: argv[1] names a tool; or
 * airlock was called as `sv` (a link to it, runit's command). */
static int
dispatch_tool(int argc, char **argv, int *ret_status)
{
    if (strcmp(called_as(argv), "sv") == 0) {
        *ret_status = sv_main(argc, argv);
        return 1;
    }
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
 * restarts. Where /dev cannot be written (a non-root airlock: /dev belongs
 * to the runtime's root), the socket goes into the run dir instead, said
 * once; where that fails too, no collector is started. On other errors
 * the collector binds /dev/log itself and the app waits (at most 1 s) for
 * it, as before. */
static void
add_syslogd(struct supervisor *sup, const char *exe)
{
    char *path = sup->syslog_socket;
    char arg[32], alt[PATH_MAX];
    struct stat st;
    int fd = -1, r;

    if (root_path(path, sizeof(sup->syslog_socket), "/dev/log") < 0) {
        path[0] = '\0';
        return;
    }
    r = syslogd_bind(path, &fd);
    if (r == -EACCES || r == -EPERM || r == -EROFS) {
        int r2 = run_path(alt, sizeof(alt), "/log");
        if (r2 == 0) {
            r2 = syslogd_bind(alt, &fd);
        }
        if (r2 < 0) {
            log_warn("syslog: not started: cannot bind '%s' (%s) nor '%s' "
                     "(%s) as uid %u; make AIRLOCK_RUN_DIR writable, or set "
                     "AIRLOCK_SYSLOG=off",
                     path,
                     strerror(-r),
                     alt,
                     strerror(-r2),
                     (unsigned)geteuid());
            path[0] = '\0';
            return;
        }
        log_info("syslog: cannot bind '%s' (%s) as uid %u, so the collector "
                 "listens on '%s': log there (logger -u %s), or set "
                 "AIRLOCK_SYSLOG=off",
                 path,
                 strerror(-r),
                 (unsigned)geteuid(),
                 alt,
                 alt);
        r = 0;
    }
    if (services_add_builtin(&sup->services,
                             COLLECTOR_SERVICE,
                             exe,
                             "syslogd") < 0) {
        if (fd >= 0) {
            (void)close(fd);
        }
        path[0] = '\0';
        return;
    }
    if (r == 0) {
        (void)snprintf(arg, sizeof(arg), "--socket-fd=%d", fd);
        if (services_builtin_pass_fd(&sup->services,
                                     COLLECTOR_SERVICE,
                                     fd,
                                     arg) == 0) {
            sup->syslog_fd = fd;
            /* Its socket is bound and queues what is logged: the collector
             * starts at the first datagram (or when the stop begins while
             * anything could still log), so a container that logs nothing
             * never starts it. */
            sup->syslog_on_demand =
                services_set_on_demand(&sup->services, COLLECTOR_SERVICE) == 0;
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
    bool want_sshd;
    ssize_t n;

    if (cfg->syslog_disabled) {
        log_info("syslog collector disabled (AIRLOCK_SYSLOG=off)");
    }
    want_sshd = sshd_wanted(cfg->ssh_disabled);
    if (cfg->syslog_disabled && !want_sshd) {
        return; /* no built-in: no need to know our own path */
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        log_warn("cannot find my own executable: %s; no built-in services",
                 strerror(errno));
        return;
    }
    exe[n] = '\0';
    if (!cfg->syslog_disabled) {
        add_syslogd(sup, exe);
    }
    if (want_sshd && sshd_find(exe, sshd, sizeof(sshd)) == 0) {
        (void)services_add_builtin(&sup->services, "sshd", sshd, "");
    }
}

/* Whether the container environment goes under the run dir: /etc (or the
 * directory in it) cannot be written, as on a read-only root or for a
 * non-root airlock. Decided once, in PID 1, so the variable that points
 * to it (AIRLOCK_ENV_DIR) and the writer agree. *ret_errno says why. */
static bool
environment_in_run_dir(int *ret_errno)
{
    char path[PATH_MAX];

    *ret_errno = 0;
    if (root_path(path, sizeof(path), "/etc/container_environment") < 0) {
        return false;
    }
    if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0) {
        return false;
    }
    if (errno == ENOENT) {
        if (root_path(path, sizeof(path), "/etc") < 0 ||
            faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0) {
            return false;
        }
    }
    *ret_errno = errno;
    return errno == EROFS || errno == EACCES || errno == EPERM;
}

/* Says, once, where the container environment is when /etc could not
 * take it (why: environment_in_run_dir's errno). */
static void
say_environment_in_run_dir(const char *run_root, int why)
{
    log_info("container environment: /etc is not writable (%s) as uid %u, "
             "so it is in '%s/etc/container_environment' (.sh, .json "
             "beside it); SSH sessions read it there, the app and services "
             "find it through AIRLOCK_ENV_DIR, cron jobs source "
             "'%s/etc/container_environment.sh'",
             strerror(why),
             (unsigned)geteuid(),
             run_root,
             run_root);
}

/* Writes the container environment under /etc, or, when in_run_dir (see
 * environment_in_run_dir; why is its errno), under the run dir as
 * RUN_DIR/etc/container_environment{,.sh,.json}: the SSH sessions look
 * there too, the app and services get AIRLOCK_ENV_DIR. Logs the outcome;
 * returns 0 when written under /etc, 1 when under the run dir, or
 * -errno. */
static int
write_environment(bool in_run_dir, int why)
{
    char alt[PATH_MAX];
    int r;

    if (!in_run_dir) {
        r = environ_write(environ);
        if (r < 0) {
            log_errno(LOG_LEVEL_WARN,
                      r,
                      "cannot write the container environment");
        }
        return r;
    }
    r = run_path(alt, sizeof(alt), "");
    if (r == 0) {
        r = environ_write_in(alt, environ);
    }
    if (r < 0) {
        log_warn("container environment: not written: /etc is not writable "
                 "(%s) and neither is '%s' (%s); make AIRLOCK_RUN_DIR "
                 "writable",
                 strerror(why),
                 alt,
                 strerror(-r));
        return r;
    }
    say_environment_in_run_dir(alt, why);
    return 1;
}

/* Checked in PID 1 before a writer is forked: up to this many variables
 * and bytes of "NAME=value" (about 4 syscalls and one small read each; a
 * typical container has 10 to 40 variables). */
#define ENV_CHECK_MAX_VARS  64
#define ENV_CHECK_MAX_BYTES (16 * 1024)

/* Writes the container environment in a child process, so the app does
 * not wait for it: on an overlay filesystem each file costs about
 * 0.25-0.5 ms. Only when no startup script will run: scripts read it, and
 * must see it whole. The readers left (cron jobs, SSH sessions, services
 * that source the .sh) come later than the few milliseconds it takes. The
 * child keeps PID 1's mask, all signals blocked, so a stop right after the
 * start waits for it (the stop reaps every process) rather than leave the
 * directory half written. Without a fork, it is written here, as before. */
static void
write_environment_detached(struct supervisor *sup, bool in_run_dir, int why)
{
    char alt[PATH_MAX];
    const char *root = root_dir();
    pid_t pid;

    /* A restarted container (or any start with the same environment) finds
     * it written already: a few reads here cost less than the fork. Small
     * environments only, so the check stays far below a fork's cost. */
    if (in_run_dir) {
        root = run_path(alt, sizeof(alt), "") == 0 ? alt : NULL;
    }
    if (root != NULL && environ_is_current_in(root,
                                              environ,
                                              ENV_CHECK_MAX_VARS,
                                              ENV_CHECK_MAX_BYTES)) {
        log_debug("container environment: unchanged since the last start");
        if (in_run_dir) {
            say_environment_in_run_dir(alt, why);
        }
        return;
    }
    pid = fork();

    if (pid == 0) {
        _exit(write_environment(in_run_dir, why) < 0 ? 1 : 0);
    }
    if (pid > 0) {
        sup->env_writer = pid;
        return;
    }
    (void)write_environment(in_run_dir, why);
}

/* AIRLOCK_ENV_DIR=RUN_DIR/etc for the app and services, when the container
 * environment is there rather than in /etc. */
static void
point_to_environment(struct supervisor *sup)
{
    static char var[PATH_MAX + sizeof("AIRLOCK_ENV_DIR=")];
    char dir[PATH_MAX];
    char **envp;

    if (run_path(dir, sizeof(dir), "/etc") < 0) {
        return;
    }
    (void)snprintf(var, sizeof(var), "AIRLOCK_ENV_DIR=%s", dir);
    envp = spawn_env_with(sup->envp, var);
    if (envp == NULL) {
        log_warn("out of memory; AIRLOCK_ENV_DIR not set");
        return;
    }
    sup->envp = envp;
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
    char *const *script_envp = environ;
    char env_root[PATH_MAX];
    int why = 0;
    bool in_run_dir = environment_in_run_dir(&why);
    bool env_written;
    int r, status = 0;

    if (cfg->skip_startup || !startup_any(root_dir())) {
        /* No script will read it before the app starts: write it beside
         * the start instead of before it. */
        write_environment_detached(sup, in_run_dir, why);
        if (cfg->skip_startup) {
            log_info("startup scripts skipped (--skip-startup-files)");
        }
        if (in_run_dir) {
            point_to_environment(sup);
        }
        return 0;
    }
    /* Read back after each script from where it was written: /etc, or the
     * run dir (then the scripts, like the app, find it through
     * AIRLOCK_ENV_DIR). */
    r = write_environment(in_run_dir, why);
    env_written = r >= 0;
    if (r == 1 && run_path(env_root, sizeof(env_root), "") == 0) {
        point_to_environment(sup);
        script_envp = sup->envp;
    } else {
        env_root[0] = '\0';
    }
    r = startup_run(env_root[0] != '\0' ? env_root : NULL,
                    &sup->child_mask,
                    script_envp,
                    env_written,
                    &status,
                    &envp);
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
        if (env_root[0] != '\0') {
            point_to_environment(sup); /* as read back: without it */
        }
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
                   cfg->log_level == LOG_LEVEL_DEBUG  ? "debug"
                   : cfg->log_level == LOG_LEVEL_WARN ? "warn"
                                                      : "error");
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

/* Adds the hooks of one directory (under AIRLOCK_ROOT) to the stop's
 * hook list, in name order, as far as SUPERVISOR_HOOKS_MAX goes. */
static void
list_hooks_in(struct supervisor *sup, const char *where)
{
    static char names[SUPERVISOR_HOOKS_MAX][NAME_MAX + 1];
    char dir[PATH_MAX];
    size_t n = 0;

    if (root_path(dir, sizeof(dir), where) < 0 ||
        startup_list(dir, names, SUPERVISOR_HOOKS_MAX - sup->nhooks, &n) < 0) {
        return;
    }
    for (size_t i = 0; i < n && sup->nhooks < SUPERVISOR_HOOKS_MAX; i++) {
        const char *reason = NULL;
        int len =
            snprintf(sup->hooks[sup->nhooks], PATH_MAX, "%s/%s", dir, names[i]);
        if (len < 0 || len >= PATH_MAX) {
            continue;
        }
        if (startup_check(sup->hooks[sup->nhooks], &reason) < 0) {
            log_info("shutdown hook '%s': %s, skipped", names[i], reason);
            continue;
        }
        sup->nhooks++;
    }
}

/* Lists the stop's hooks once at start, so the stop sequence needs no
 * allocation: /etc/my_init.pre_shutdown.d/ (before the app is signalled),
 * /etc/airlock/shutdown.d/ (after the app, before the services) and
 * /etc/my_init.post_shutdown.d/ (after the services). */
static void
list_shutdown_hooks(struct supervisor *sup)
{
    static char paths[SUPERVISOR_HOOKS_MAX][PATH_MAX];

    sup->hooks = paths;
    list_hooks_in(sup, "/etc/my_init.pre_shutdown.d");
    sup->hooks_pre = sup->nhooks;
    list_hooks_in(sup, "/etc/airlock/shutdown.d");
    sup->hooks_mid = sup->nhooks;
    list_hooks_in(sup, "/etc/my_init.post_shutdown.d");
}

/* Registers the services of /etc/service, less what the mode cannot run: such a
 * service is reported once here and never started, rather than restarted every
 * few seconds by the supervisor. */
static void
scan_services(struct supervisor *sup, const struct mode *mode)
{
    static const char *const need_root[] = {"cron"};
    char dir[PATH_MAX];
    const char *why;
    int r = root_path(dir, sizeof(dir), "/etc/service");

    if (r == 0) {
        r = services_scan(&sup->services, dir);
    }
    if (r < 0) {
        log_errno(LOG_LEVEL_ERROR, r, "cannot read '%s', no services", dir);
        return;
    }
    for (size_t i = 0; i < sizeof(need_root) / sizeof(need_root[0]); i++) {
        if (mode_service_unsupported(mode, need_root[i], &why) &&
            services_drop(&sup->services, need_root[i])) {
            log_warn("service '%s' (%s/%s): not started in this mode: %s",
                     need_root[i],
                     dir,
                     need_root[i],
                     why);
        }
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
    struct mode mode;
    pid_t parent = getppid();
    enum config_result cr;
    int status, r;

    if (dispatch_tool(argc, argv, &status)) {
        return status;
    }
    log_setup("airlock", STDERR_FILENO);
    /* Called as /sbin/my_init (a link): phusion/baseimage's flags too. */
    if (strcmp(called_as(argv), "my_init") == 0) {
        cr = config_parse_my_init(argc,
                                  argv,
                                  getenv_const,
                                  &cfg,
                                  err,
                                  sizeof(err));
    } else {
        cr = config_parse(argc, argv, getenv_const, &cfg, err, sizeof(err));
    }
    switch (cr) {
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
    mode_detect(&mode);
    mode_log(&mode, runtime_dir());

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
        scan_services(&sup, &mode);
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
                  "control socket in '%s' unavailable, so 'airlock status' "
                  "and 'airlock restart' will not work (mount a tmpfs or "
                  "emptyDir at /run, or set AIRLOCK_RUN_DIR)",
                  runtime_dir());
    }
    status = supervisor_run(&sup);
    /* -e maps the app's own status only, not airlock's 1 or 126/127,
     * nor a critical service's. */
    return sup.app_started && !sup.exit_from_service
               ? config_exit_status(&cfg, status)
               : status;
}
