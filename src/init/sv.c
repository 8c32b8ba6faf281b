#include "init/sv.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/strutil.h"
#include "init/control.h"

#define SV_NAME_MAX 128

static const char sv_usage[] =
    "usage: sv [-v] [-w sec] command service ...\n"
    "commands (airlock): status up down restart start stop\n";

int
sv_service_name(const char *arg, char *out, size_t size)
{
    char buf[PATH_MAX];
    size_t len = strlen(arg);
    const char *base;
    char *slash;

    if (len >= sizeof(buf)) {
        return -ENAMETOOLONG;
    }
    memcpy(buf, arg, len + 1);
    while (len > 1 && buf[len - 1] == '/') {
        buf[--len] = '\0';
    }
    slash = strrchr(buf, '/');
    base = slash != NULL ? slash + 1 : buf;
    if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        return -EINVAL;
    }
    /* DIR/NAME/log is NAME's logger, airlock's service "NAME/log". */
    if (strcmp(base, "log") == 0 && slash != NULL && slash != buf) {
        const char *parent;
        *slash = '\0';
        parent = strrchr(buf, '/');
        parent = parent != NULL ? parent + 1 : buf;
        if (snprintf(out, size, "%s/log", parent) >= (int)size) {
            return -ENAMETOOLONG;
        }
        return 0;
    }
    return copy_string(out, size, base) < 0 ? -ENAMETOOLONG : 0;
}

/* The pid in a status line "run: NAME: (pid 12) 3s", or 0. */
static long
status_pid(const char *line)
{
    const char *p = strstr(line, ": (pid ");

    return p != NULL && strncmp(line, "run: ", 5) == 0 ? strtol(p + 7, NULL, 10)
                                                       : 0;
}

/* One status line from PID 1 into line; 0, 1 (the service failed: said
 * on stdout as runit's "fail: ..."), or 3 (PID 1 not reachable). */
static int
ask_status(const char *name, char *line, size_t size)
{
    char req[SV_NAME_MAX + 16];
    int r;

    (void)snprintf(req, sizeof(req), "svstat %s", name);
    r = control_request(req, line, size);
    if (r != 0) {
        return r;
    }
    if (strncmp(line, "error: ", 7) == 0) {
        printf("fail: %s: %s", name, line + 7);
        return 1;
    }
    return 0;
}

/* What a waiting command waits for. */
enum sv_goal {
    SV_GOAL_NONE = 0,
    SV_GOAL_RUN,     /* start, up -v */
    SV_GOAL_DOWN,    /* stop, down -v */
    SV_GOAL_NEW_PID, /* restart: running, with another pid than before */
};

static bool
goal_reached(enum sv_goal goal, const char *line, long old_pid)
{
    switch (goal) {
    case SV_GOAL_RUN:
        return strncmp(line, "run: ", 5) == 0 &&
               strstr(line, ", want down") == NULL;
    case SV_GOAL_DOWN:
        return strncmp(line, "down: ", 6) == 0;
    case SV_GOAL_NEW_PID:
        return status_pid(line) > 0 && status_pid(line) != old_pid;
    case SV_GOAL_NONE:
        break;
    }
    return true;
}

/* Applies the command to one service: 0 done, 1 failed or timed out,
 * 3 PID 1 not reachable. */
static int
sv_one(const char *cmd, const char *name, bool verbose, uint64_t wait_ms)
{
    const struct timespec tick = {0, 100 * 1000 * 1000};
    char req[SV_NAME_MAX + 16], line[CONTROL_REPLY_MAX + 1];
    enum sv_goal goal = SV_GOAL_NONE;
    long old_pid = 0;
    int r;

    if (strcmp(cmd, "status") == 0) {
        r = ask_status(name, line, sizeof(line));
        if (r == 0) {
            fputs(line, stdout);
        }
        return r;
    }
    if (strcmp(cmd, "up") == 0 || strcmp(cmd, "start") == 0) {
        (void)snprintf(req, sizeof(req), "up %s", name);
        goal = verbose || cmd[0] == 's' ? SV_GOAL_RUN : SV_GOAL_NONE;
    } else if (strcmp(cmd, "down") == 0 || strcmp(cmd, "stop") == 0) {
        (void)snprintf(req, sizeof(req), "down %s", name);
        goal = verbose || cmd[0] == 's' ? SV_GOAL_DOWN : SV_GOAL_NONE;
    } else {
        /* restart: runit's up, TERM, CONT; airlock's restart request. */
        r = ask_status(name, line, sizeof(line));
        if (r != 0) {
            return r;
        }
        old_pid = status_pid(line);
        (void)snprintf(req, sizeof(req), "restart %s", name);
        goal = SV_GOAL_NEW_PID;
    }
    r = control_request(req, line, sizeof(line));
    if (r != 0) {
        return r;
    }
    if (strncmp(line, "error: ", 7) == 0) {
        printf("fail: %s: %s", name, line + 7);
        return 1;
    }
    if (goal == SV_GOAL_NONE) {
        return 0;
    }
    /* Bounded by count: every round sleeps 100 ms. */
    for (uint64_t round = 0;; round++) {
        r = ask_status(name, line, sizeof(line));
        if (r != 0) {
            return r;
        }
        if (goal_reached(goal, line, old_pid)) {
            printf("ok: %s", line);
            return 0;
        }
        if (round >= wait_ms / 100) {
            printf("timeout: %s", line);
            return 1;
        }
        (void)nanosleep(&tick, NULL);
    }
}

int
sv_main(int argc, char **argv)
{
    uint64_t wait_ms = (uint64_t)SV_WAIT_DEFAULT_S * 1000;
    const char *env = getenv("SVWAIT");
    bool verbose = false;
    unsigned failed = 0;
    const char *cmd;
    int i = 1;

    if (env != NULL && *env != '\0' &&
        parse_seconds_ms(env, (uint64_t)SV_WAIT_MAX_S * 1000, &wait_ms) < 0) {
        fprintf(stderr, "sv: SVWAIT='%s': expected seconds\n", env);
        return 100;
    }
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = true;
        } else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) {
            if (parse_seconds_ms(argv[++i],
                                 (uint64_t)SV_WAIT_MAX_S * 1000,
                                 &wait_ms) < 0) {
                fprintf(stderr, "sv: -w '%s': expected seconds\n", argv[i]);
                return 100;
            }
        } else {
            fputs(sv_usage, stderr);
            return 100;
        }
    }
    if (argc - i < 2) {
        fputs(sv_usage, stderr);
        return 100;
    }
    cmd = argv[i++];
    if (strcmp(cmd, "status") != 0 && strcmp(cmd, "up") != 0 &&
        strcmp(cmd, "down") != 0 && strcmp(cmd, "restart") != 0 &&
        strcmp(cmd, "start") != 0 && strcmp(cmd, "stop") != 0) {
        fprintf(stderr,
                "sv: '%s': airlock's sv knows status, up, down, restart, "
                "start and stop only\n",
                cmd);
        fputs(sv_usage, stderr);
        return 100;
    }
    for (; i < argc; i++) {
        char name[SV_NAME_MAX];
        int r = sv_service_name(argv[i], name, sizeof(name));

        if (r < 0) {
            printf("fail: %s: not a service name\n", argv[i]);
            failed++;
            continue;
        }
        r = sv_one(cmd, name, verbose, wait_ms);
        if (r == 3) {
            printf("fail: %s: airlock's control socket is not reachable\n",
                   name);
        }
        if (r != 0) {
            failed++;
        }
    }
    (void)fflush(stdout);
    return failed > 99 ? 99 : (int)failed;
}
