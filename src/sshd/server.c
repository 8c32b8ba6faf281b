/* airlock-sshd: wiring. Setup phase: configuration (bad value: one line,
 * exit 2), libssh version check, the key store (no key: exit 3, which the
 * init reads as "do not restart"), the host key, the bind options, the
 * sockets. Then the listener loop runs until SIGTERM. */
#include "sshd/server.h"

#include <errno.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <sodium.h>

#include "common/caps.h"
#include "common/log.h"
#include "common/path.h"
#include "keys/keys.h"
#include "sshd/config.h"
#include "sshd/hostkey.h"
#include "sshd/listener.h"
#include "sshd/record.h"
#include "sshd/server_opts.h"

/* Exit statuses of airlock-sshd (documented in the README). */
#define SSHD_EXIT_SETUP  1 /* host key, sockets, libssh: restart may help */
#define SSHD_EXIT_CONFIG 2 /* bad AIRLOCK_SSH_* value: do not restart */
#define SSHD_EXIT_NOKEYS 3 /* no valid key in the store: do not restart */

/* A non-root server (Kubernetes runAsNonRoot) can serve only its own uid
 * and, without CAP_NET_BIND_SERVICE, bind only ports from 1024: said once
 * here, and a port it can never bind stops it (exit 2) instead of a
 * restart loop. Returns 0 to go on, or the exit status. */
static int
check_nonroot(const struct sshd_config *cfg, const char *ssh_user)
{
    const struct passwd *me, *want;
    uint64_t caps = 0;
    uid_t uid = geteuid();

    if (uid == 0) {
        return 0;
    }
    if (cfg->port < 1024 && (caps_effective(&caps) < 0 ||
                             (caps & CAPS_BIT(CAP_NET_BIND_SERVICE)) == 0)) {
        log_error("AIRLOCK_SSH_PORT=%u: uid %u cannot bind a port below "
                  "1024 without CAP_NET_BIND_SERVICE; use a port from 1024 "
                  "(default 2222) or add NET_BIND_SERVICE to "
                  "securityContext.capabilities.add",
                  (unsigned)cfg->port,
                  (unsigned)uid);
        return SSHD_EXIT_CONFIG;
    }
    me = getpwuid(uid);
    log_info("running as uid %u (%s): only uid %u can log in, and sessions "
             "run as it with nothing to drop (the privilege drop is a no-op)",
             (unsigned)uid,
             me != NULL ? me->pw_name : "no passwd entry",
             (unsigned)uid);
    want = getpwnam(ssh_user);
    if (want == NULL || want->pw_uid != uid) {
        log_warn("AIRLOCK_SSH_USER='%s' is not uid %u, so keys given for it "
                 "cannot log in; set AIRLOCK_SSH_USER=%s",
                 ssh_user,
                 (unsigned)uid,
                 me != NULL ? me->pw_name : "<the name of this uid>");
    }
    return 0;
}

static int
setup_bind(const struct sshd_config *cfg, ssh_key hostkey, ssh_bind *ret)
{
    ssh_bind b = ssh_bind_new();
    bool no = false;
    int min_rsa = SSHD_RSA_MIN_BITS;
    int r = 0;

    if (b == NULL) {
        return -ENOMEM;
    }
    (void)cfg;
    /* PROCESS_CONFIG first: otherwise /etc/ssh/libssh_server_config is
     * parsed at accept and overrides everything set below. */
#define SET(opt, val)                                                       \
    do {                                                                    \
        if (r == 0 && ssh_bind_options_set(b, (opt), (val)) < 0) {          \
            log_error("libssh bind option " #opt ": %s", ssh_get_error(b)); \
            r = -EINVAL;                                                    \
        }                                                                   \
    } while (0)
    SET(SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
    SET(SSH_BIND_OPTIONS_IMPORT_KEY, hostkey);
    SET(SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, SSHD_HOSTKEY_ALGOS);
    SET(SSH_BIND_OPTIONS_KEY_EXCHANGE, SSHD_KEX);
    SET(SSH_BIND_OPTIONS_CIPHERS_C_S, SSHD_CIPHERS);
    SET(SSH_BIND_OPTIONS_CIPHERS_S_C, SSHD_CIPHERS);
    SET(SSH_BIND_OPTIONS_HMAC_C_S, SSHD_MACS);
    SET(SSH_BIND_OPTIONS_HMAC_S_C, SSHD_MACS);
    SET(SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES, SSHD_PUBKEY_TYPES);
    SET(SSH_BIND_OPTIONS_RSA_MIN_SIZE, &min_rsa);
#undef SET
    if (r < 0) {
        ssh_bind_free(b);
        return r;
    }
    *ret = b;
    return 0;
}

int
sshd_server_main(int argc, char **argv)
{
    struct sshd_config cfg;
    struct keys_config kcfg;
    struct keys_watch *watch = NULL;
    struct rlimit rl = {0, 0};
    char names[1][KEYS_USER_MAX];
    char fp[128];
    const char *var = NULL, *reason = NULL, *lv;
    ssh_key hostkey = NULL;
    ssh_bind bind = NULL;
    sigset_t mask;
    int fds[SSHD_MAX_LISTEN];
    size_t nusers = 0, ncas = 0;
    int nfds, sigfd, r;

    (void)argv;
    log_setup("airlock-sshd", STDERR_FILENO);
    lv = getenv("AIRLOCK_LOG_LEVEL");
    if (lv != NULL && *lv != '\0') {
        enum log_level level;
        if (log_parse_level(lv, &level) < 0) {
            log_error("AIRLOCK_LOG_LEVEL='%s': not error, warn, info or debug",
                      lv);
            return SSHD_EXIT_CONFIG;
        }
        log_set_level(level);
    }
    if (argc > 1) {
        log_error("unexpected argument '%s' (configuration comes from "
                  "AIRLOCK_SSH_* variables)",
                  argv[1]);
        return SSHD_EXIT_CONFIG;
    }
    if (sshd_config_from_env(&cfg, &var, &reason) < 0) {
        log_error("%s='%s': %s", var, getenv(var), reason);
        return SSHD_EXIT_CONFIG;
    }
    if (keys_config_from_env(&kcfg, &reason) < 0) {
        log_error("key configuration: %s", reason ? reason : "invalid");
        return SSHD_EXIT_CONFIG;
    }
    /* The key text is copied into kcfg; sessions must not see it. */
    (void)unsetenv(KEYS_ENV_SOURCE);
    r = check_nonroot(&cfg, kcfg.user);
    if (r != 0) {
        return r;
    }
    record_check_at_start(&cfg.record);

    if (sodium_init() < 0) {
        log_error("libsodium cannot be initialised");
        return SSHD_EXIT_SETUP;
    }
    log_info("airlock-sshd %s with libssh %s", AIRLOCK_VERSION, ssh_version(0));
    if (ssh_version(SSH_VERSION_INT(0, 10, 6)) == NULL) {
        log_error("libssh %s is older than 0.10.6 (known CVEs): not starting",
                  ssh_version(0));
        return SSHD_EXIT_SETUP;
    }

    /* The listener holds the host key: no core dumps, no same-uid ptrace. */
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    (void)setrlimit(RLIMIT_CORE, &rl);

    /* Block first, so no signal is lost between here and the loop. */
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
        (sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        log_errno(LOG_LEVEL_ERROR, -errno, "signalfd");
        return SSHD_EXIT_SETUP;
    }
    (void)signal(SIGPIPE, SIG_IGN);

    /* Read the sources into the live set, then watch them. The listener
     * holds that set and decides every login from it (authority.h). */
    watch = keys_watch_new(&kcfg);
    if (watch == NULL) {
        log_errno(LOG_LEVEL_ERROR, -errno, "cannot hold the key set");
        return SSHD_EXIT_SETUP;
    }
    nusers = keys_set_users(keys_watch_set(watch), names[0], sizeof(names[0]));
    ncas = keys_watch_trust(watch).cas->count;
    /* Trusted user CA keys alone enable the server, as keys do. */
    if (nusers == 0 && ncas == 0) {
        log_error("no valid authorized key or CA key (%s): SSH server not "
                  "started",
                  keys_config_any_source(&kcfg)
                      ? "every configured key was rejected or the sources "
                        "are empty"
                      : "no key source configured");
        return SSHD_EXIT_NOKEYS;
    }

    r = hostkey_load(cfg.host_key_file, &hostkey, &reason);
    if (r < 0) {
        log_errno(LOG_LEVEL_ERROR, r, "host key: %s", reason);
        /* A read-only or foreign directory stays so: a restart every few
         * seconds would only repeat this line. */
        if (r == -EROFS || r == -EACCES || r == -EPERM) {
            log_error("SSH server not started: set AIRLOCK_SSH_HOST_KEY_FILE "
                      "or make AIRLOCK_RUN_DIR (%s) writable",
                      runtime_dir());
            return SSHD_EXIT_CONFIG;
        }
        return SSHD_EXIT_SETUP;
    }
    if (hostkey_fingerprint(hostkey, fp, sizeof(fp)) == 0) {
        log_info("host key ED25519 %s", fp);
    }
    if (ssh_init() < 0 || setup_bind(&cfg, hostkey, &bind) < 0) {
        return SSHD_EXIT_SETUP;
    }
    /* IMPORT_KEY took ownership of hostkey: the bind frees it. */
    hostkey = NULL;
    if (log_get_level() >= LOG_LEVEL_DEBUG) {
        (void)ssh_set_log_level(SSH_LOG_PROTOCOL);
    }

    nfds = listener_open(&cfg, fds, SSHD_MAX_LISTEN);
    if (nfds < 0) {
        log_errno(LOG_LEVEL_ERROR, nfds, "no address could be bound");
        return SSHD_EXIT_SETUP;
    }
    log_info("ready: %zu user(s) with keys, %zu CA key(s), max startups "
             "%u:%u:%u, login grace %us, max auth tries %u",
             nusers,
             ncas,
             cfg.limits.startups.start,
             cfg.limits.startups.rate,
             cfg.limits.startups.full,
             cfg.login_grace_s,
             cfg.max_auth_tries);
    r = listener_run(&cfg, bind, fds, (unsigned)nfds, sigfd, watch);
    keys_watch_free(watch);
    keys_config_free(&kcfg);
    ssh_bind_free(bind);
    ssh_finalize();
    return r;
}
