/* The mode airlock runs in, decided once at start and logged in one line
 * (design.md "Modes"): root; root without some capabilities airlock uses;
 * non-root. Features that cannot work in the mode are skipped, each with
 * one line saying why and what to do, by the code that starts them. */
#ifndef AIRLOCK_INIT_MODE_H
#define AIRLOCK_INIT_MODE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum mode_kind {
    MODE_ROOT,
    MODE_ROOT_REDUCED, /* euid 0, some of MODE_CAPS_USED missing */
    MODE_NONROOT,
};

struct mode {
    enum mode_kind kind;
    uid_t uid;
    gid_t gid;
    uint64_t missing; /* bits of MODE_CAPS_USED not in the effective set */
};

/* Reads euid, egid and the effective capabilities. A capget failure is
 * taken as "no capabilities" (the safe reading: features that need them
 * say so when they fail). */
void mode_detect(struct mode *m);

/* Logs the one "mode: ..." line; run_dir is AIRLOCK_RUN_DIR as used. */
void mode_log(const struct mode *m, const char *run_dir);

/* True when the service NAME cannot run in this mode and must not be
 * started; *why is then a static reason for its one line. Today: cron,
 * which switches to each job's user and writes /var/run/crond.pid, as
 * non-root or as root without CAP_SETUID/CAP_SETGID. */
bool mode_service_unsupported(const struct mode *m,
                              const char *name,
                              const char **why);

#endif
