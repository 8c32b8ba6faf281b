/* `airlock-sshd keys check|list|sync|watch`: the key provisioning front
 * end. A one-shot tool: it prints results on stdout, logs on stderr, and
 * exits 0 (fine), 1 (rejected lines, or the store could not be written)
 * or 2 (usage, configuration, unreadable input). */
#include "keys/keys_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/safeio.h"
#include "common/timeutil.h"
#include "keys/internal.h"
#include "keys/keys.h"

#define EXIT_REJECTED 1
#define EXIT_USAGE    2

static void
usage(FILE *f)
{
    fputs("usage: airlock-sshd keys check [FILE|-]   validate authorized_keys "
          "lines\n"
          "       airlock-sshd keys list              the effective keys per "
          "user\n"
          "       airlock-sshd keys sync              build the key store "
          "once\n"
          "       airlock-sshd keys watch             sync, then follow "
          "changes until SIGTERM\n",
          f);
}

static void
format_expiry(time_t t, char *buf, size_t size)
{
    struct tm tm;

    if (t == 0) {
        (void)snprintf(buf, size, "never");
    } else if (gmtime_r(&t, &tm) == NULL ||
               strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        (void)snprintf(buf, size, "?");
    }
}

/* One output line per key: what the store would hold. */
static void
fprint_entry(FILE *f, const char *prefix, const struct keys_entry *e)
{
    char *opts = keys_options_format(&e->opts);
    char exp[32];

    format_expiry(e->opts.valid_before, exp, sizeof(exp));
    fprintf(f,
            "%s%s %u %s '%s' options '%s' expiry %s%s\n",
            prefix,
            e->type,
            e->bits,
            e->fingerprint,
            e->comment,
            opts ? keys_sanitize(opts) : "?",
            exp,
            keys_expired(&e->opts, time(NULL)) ? " (expired)" : "");
    free(opts);
}

static void
print_entry(const char *prefix, const struct keys_entry *e)
{
    fprint_entry(stdout, prefix, e);
}

char *
keys_set_listing(const struct keys_set *set, size_t *ret_len)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < set->count; i++) {
        const struct keys_entry *e = &set->entries[i];
        char prefix[4200];
        if (i == 0 || strcmp(set->entries[i - 1].user, e->user) != 0) {
            size_t n = 0;
            for (size_t k = i; k < set->count; k++) {
                n += strcmp(set->entries[k].user, e->user) == 0;
            }
            fprintf(f, "user '%s': %zu key(s)\n", e->user, n);
        }
        (void)snprintf(prefix, sizeof(prefix), "  %s:%u: ", e->source, e->line);
        fprint_entry(f, prefix, e);
    }
    if (set->count == 0) {
        fputs("no keys\n", f);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *ret_len = len;
    return buf;
}

/* What the running server holds, from its listing socket: 1 with the
 * text printed, 0 when no server answered (none runs in this network
 * namespace), -EACCES when one runs but refused us. */
static int
list_from_server(void)
{
    struct sockaddr_un sa;
    socklen_t len = keys_listing_addr(&sa);
    char buf[4096];
    size_t total = 0;
    uint64_t deadline = now_ms() + 2000;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return 0;
    }
    if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
        (void)close(fd);
        return 0;
    }
    /* Anyone in the container could bind the abstract name first (the
     * server then logs that it cannot): only a peer that is root, or we
     * ourselves, is believed. */
    {
        struct ucred cred;
        socklen_t clen = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
            (cred.uid != 0 && cred.uid != getuid())) {
            fprintf(stderr,
                    "airlock-sshd keys: the key listing socket belongs to "
                    "uid %u, not to the server; ignored\n",
                    (unsigned)cred.uid);
            (void)close(fd);
            return 0;
        }
    }
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t n;
        if (poll(&p, 1, deadline_timeout(now_ms(), deadline)) <= 0) {
            break;
        }
        n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
            break;
        }
        if (total == 0) {
            fputs("held by the running airlock-sshd:\n", stdout);
        }
        fwrite(buf, 1, (size_t)n, stdout);
        total += (size_t)n;
    }
    (void)close(fd);
    return total > 0 ? 1 : -EACCES;
}

struct check_state {
    unsigned accepted, rejected;
};

static void
check_line(void *userdata,
           const char *source,
           unsigned line,
           const struct keys_entry *e,
           const char *errstr)
{
    struct check_state *st = userdata;
    char prefix[4200];

    if (e == NULL) {
        st->rejected++;
        printf("%s:%u: rejected: %s\n", source, line, errstr);
        return;
    }
    st->accepted++;
    (void)snprintf(prefix, sizeof(prefix), "%s:%u: accepted: ", source, line);
    print_entry(prefix, e);
}

static int
cmd_check(const struct keys_config *cfg, const char *file)
{
    struct check_state st = {0, 0};
    const char *source = file;
    char *buf;
    size_t len = 0;
    int fd = STDIN_FILENO, r;

    if (file == NULL || strcmp(file, "-") == 0) {
        source = "stdin";
    } else {
        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            fprintf(stderr,
                    "keys check: cannot open '%s': %s\n",
                    file,
                    strerror(errno));
            return EXIT_USAGE;
        }
    }
    buf = malloc(KEYS_MAX_FILE + 1);
    if (buf == NULL) {
        r = -ENOMEM;
    } else {
        r = read_all(fd, buf, KEYS_MAX_FILE, &len);
    }
    if (fd != STDIN_FILENO) {
        (void)close(fd);
    }
    if (r == -EFBIG) {
        printf("%s: rejected: larger than %d bytes\n", source, KEYS_MAX_FILE);
        free(buf);
        return EXIT_REJECTED;
    }
    if (r < 0) {
        fprintf(stderr,
                "keys check: cannot read '%s': %s\n",
                source,
                strerror(-r));
        free(buf);
        return EXIT_USAGE;
    }
    r = keys_parse_text(source,
                        cfg->user,
                        buf,
                        len,
                        cfg->permit_user_env ? KEYS_PARSE_PERMIT_ENV : 0,
                        false,
                        check_line,
                        &st,
                        NULL);
    free(buf);
    if (r < 0) {
        fprintf(stderr, "keys check: out of memory\n");
        return EXIT_USAGE;
    }
    fprintf(stderr,
            "keys check: %u key(s) accepted, %u line(s) rejected\n",
            st.accepted,
            st.rejected);
    return st.rejected > 0 ? EXIT_REJECTED : 0;
}

static int
cmd_list(const struct keys_config *cfg)
{
    struct keys_set set = {NULL, 0, 0};
    char *text;
    size_t len = 0;
    int r = list_from_server();

    /* The server's set is what decides logins; the sources as this
     * environment configures them are only a fallback (a session has no
     * AIRLOCK_AUTHORIZED_KEYS, for one). */
    if (r > 0) {
        return 0;
    }
    if (r == -EACCES) {
        fputs("the running airlock-sshd lists its keys to root (or its own "
              "user) only; keys from the sources configured here:\n",
              stdout);
    }
    r = keys_collect(cfg, &set);
    if (r < 0) {
        fprintf(stderr, "keys list: %s\n", strerror(-r));
        return EXIT_REJECTED;
    }
    text = keys_set_listing(&set, &len);
    keys_set_free(&set);
    if (text == NULL) {
        fprintf(stderr, "keys list: %s\n", strerror(ENOMEM));
        return EXIT_REJECTED;
    }
    fwrite(text, 1, len, stdout);
    free(text);
    return 0;
}

static int
cmd_watch(const struct keys_config *cfg)
{
    struct keys_watch *w;
    sigset_t mask;
    int sfd, status = 0;

    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
        return EXIT_USAGE;
    }
    sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        log_errno(LOG_LEVEL_ERROR, -errno, "signalfd");
        return EXIT_USAGE;
    }
    w = keys_watch_new(cfg);
    if (w == NULL) {
        log_errno(LOG_LEVEL_ERROR, -errno, "cannot watch the key sources");
        (void)close(sfd);
        return EXIT_REJECTED;
    }
    log_info("watching the key sources");
    for (;;) {
        struct pollfd p[2] = {{sfd, POLLIN, 0}, {keys_watch_fd(w), POLLIN, 0}};
        int n = poll(p, 2, keys_watch_timeout(w));
        if (n < 0 && errno != EINTR) {
            status = EXIT_REJECTED;
            break;
        }
        if (n > 0 && (p[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGHUP) {
                    /* SIGHUP: re-read everything now, like sshd. */
                    (void)keys_sync(cfg);
                    continue;
                }
                log_info("signal %u, stopping", si.ssi_signo);
                break;
            }
        }
        (void)keys_watch_handle(w);
    }
    (void)keys_watch_free(w);
    (void)close(sfd);
    return status;
}

int
keys_cli_main(int argc, char **argv)
{
    struct keys_config cfg;
    const char *errstr = NULL, *cmd;
    int r, status;

    log_setup("airlock-sshd", STDERR_FILENO);
    if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    cmd = argv[1];
    if ((strcmp(cmd, "check") == 0 && argc > 3) ||
        (strcmp(cmd, "check") != 0 && argc > 2)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    r = keys_config_from_env(&cfg, &errstr);
    if (r < 0) {
        fprintf(stderr, "airlock-sshd keys: %s\n", errstr);
        return EXIT_USAGE;
    }
    if (strcmp(cmd, "check") == 0) {
        status = cmd_check(&cfg, argc > 2 ? argv[2] : NULL);
    } else if (strcmp(cmd, "list") == 0) {
        status = cmd_list(&cfg);
    } else if (strcmp(cmd, "sync") == 0) {
        if (!keys_config_any_source(&cfg)) {
            log_warn("no key source is configured");
        }
        status = keys_sync(&cfg) < 0 ? EXIT_REJECTED : 0;
    } else if (strcmp(cmd, "watch") == 0) {
        status = cmd_watch(&cfg);
    } else {
        fprintf(stderr, "airlock-sshd keys: unknown command '%s'\n", cmd);
        usage(stderr);
        status = EXIT_USAGE;
    }
    keys_config_free(&cfg);
    return status;
}
