/* setuser [--clean-env] [--login] USER[:GROUP] CMD [ARGS...]
 *
 * Resolves USER, drops to it through privdrop, and execs CMD in its place,
 * so no parent is left behind: signals, the TTY and the exit status belong
 * to CMD. Exit statuses of its own: 2 usage, lookup or permission error,
 * 1 the drop itself failed, 126 CMD not executable, 127 CMD (or the #!
 * interpreter it names) not found: spawn_exec_status(), the rule of
 * airlock's app and services too. */
#include "privdrop/setuser.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/spawn.h"
#include "privdrop/privdrop.h"

#define SETUSER_EXIT_DROP  1
#define SETUSER_EXIT_USAGE 2

static void
usage(FILE *f)
{
    (void)fputs(
        "usage: setuser [--clean-env] [--login] USER[:GROUP] CMD [ARGS...]\n"
        "Runs CMD as USER (name or uid; GROUP name or gid), in place of\n"
        "this process, with no_new_privs set and all capabilities dropped.\n"
        "  --clean-env  keep only PATH, TERM, LANG and LC_* from the\n"
        "               environment (HOME, USER, LOGNAME, SHELL are set)\n"
        "  --login      change to the user's home directory first\n"
        "  --version    show the version\n",
        f);
}

/* The caller may switch only when it is root or already has the target uid
 * (then privdrop keeps its gid and groups and only sheds privileges). */
static bool
may_switch(const struct privdrop_target *t)
{
    return geteuid() == 0 || (getuid() == t->uid && geteuid() == t->uid);
}

int
setuser_main(int argc, char **argv)
{
    struct privdrop_target t;
    bool clean_env = false, login = false;
    const char *errstr = NULL;
    int i, r, status;

    log_setup("setuser", STDERR_FILENO);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        /* Options only before USER: everything after it belongs to CMD. */
        if (a[0] != '-' || a[1] == '\0') {
            break;
        }
        if (strcmp(a, "--clean-env") == 0) {
            clean_env = true;
        } else if (strcmp(a, "--login") == 0 || strcmp(a, "-l") == 0) {
            login = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
            printf("setuser %s\n", AIRLOCK_VERSION);
            return 0;
        } else {
            log_error("unknown option '%s' (see --help)", a);
            return SETUSER_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        log_error("missing USER[:GROUP] and CMD (see --help)");
        return SETUSER_EXIT_USAGE;
    }
    if (i + 1 >= argc) {
        log_error("missing CMD to run as '%s' (see --help)", argv[i]);
        return SETUSER_EXIT_USAGE;
    }

    r = privdrop_resolve(argv[i], &t, &errstr);
    if (r < 0) {
        log_error("'%s': %s", argv[i], errstr);
        return SETUSER_EXIT_USAGE;
    }
    if (!may_switch(&t)) {
        log_error("running as uid %u, which cannot become '%s' (uid %u): "
                  "that needs root with CAP_SETUID and CAP_SETGID",
                  (unsigned)geteuid(),
                  t.name,
                  (unsigned)t.uid);
        return SETUSER_EXIT_USAGE;
    }
    r = clean_env ? privdrop_env_clean() : 0;
    if (r >= 0) {
        r = privdrop_env_set(&t);
    }
    if (r < 0) {
        log_error("cannot set the environment: %s", strerror(-r));
        return SETUSER_EXIT_DROP;
    }
    r = privdrop_apply(&t, &errstr);
    if (r < 0) {
        log_error("cannot drop to '%s': %s: %s", t.name, errstr, strerror(-r));
        return SETUSER_EXIT_DROP;
    }
    /* After the drop, so the directory is entered with the user's rights.
     * A missing home is not fatal, as with login(1). */
    if (login && chdir(t.home) < 0) {
        log_warn("cannot enter home '%s': %s, using '/'",
                 t.home,
                 strerror(errno));
        if (chdir("/") < 0) {
            log_error("cannot enter '/': %s", strerror(errno));
            return SETUSER_EXIT_DROP;
        }
    }
    (void)fflush(stdout);
    execvp(argv[i + 1], argv + i + 1);
    r = errno;
    /* As a shell reports it, and as airlock reports its app and
     * services: 127 not found, 126 found but not runnable. execvp's
     * EACCES for a command in no PATH directory (one of them could not
     * be searched) is "not found" too. */
    status = spawn_exec_status(argv[i + 1], r);
    if (status == SPAWN_EXIT_NOT_FOUND && r != ENOENT) {
        log_error("cannot run '%s': command not found", argv[i + 1]);
    } else {
        log_error("cannot run '%s': %s", argv[i + 1], strerror(r));
    }
    return status;
}
