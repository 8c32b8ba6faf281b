#include "init/mode.h"

#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/caps.h"
#include "common/log.h"

/* What airlock does with capabilities as root: switch users for setuser
 * and SSH sessions (SETUID, SETGID, SETPCAP to drop the bounding set),
 * signal every process at stop (KILL), own and read files of other users
 * in its run dir and key store (CHOWN, DAC_OVERRIDE, FOWNER). Docker's
 * default set has all of them; Kubernetes' "drop: [ALL]" none. */
#define MODE_CAPS_USED                                                     \
    (CAPS_BIT(0) | CAPS_BIT(1) | CAPS_BIT(3) | CAPS_BIT(5) | CAPS_BIT(6) | \
     CAPS_BIT(7) | CAPS_BIT(8))

void
mode_detect(struct mode *m)
{
    uint64_t eff = 0;

    memset(m, 0, sizeof(*m));
    m->uid = geteuid();
    m->gid = getegid();
    if (caps_effective(&eff) < 0) {
        eff = 0;
    }
    m->missing = MODE_CAPS_USED & ~eff;
    if (m->uid != 0) {
        m->kind = MODE_NONROOT;
    } else if (m->missing != 0) {
        m->kind = MODE_ROOT_REDUCED;
    } else {
        m->kind = MODE_ROOT;
    }
}

void
mode_log(const struct mode *m, const char *run_dir)
{
    char names[256], add[256];

    switch (m->kind) {
    case MODE_ROOT:
        log_info("mode: root, with every capability airlock uses; run dir "
                 "'%s'",
                 run_dir);
        break;
    case MODE_ROOT_REDUCED:
        log_info("mode: root without %s, so what needs them is skipped or "
                 "fails with a line naming them (switching users needs "
                 "CAP_SETUID and CAP_SETGID; logins as root still work); add "
                 "[%s] to securityContext.capabilities.add to allow it; run "
                 "dir '%s'",
                 caps_names(m->missing, names, sizeof(names)),
                 caps_names_k8s(m->missing, add, sizeof(add)),
                 run_dir);
        break;
    case MODE_NONROOT:
        log_info("mode: non-root (uid %u, gid %u), so the app, services and "
                 "SSH sessions run as uid %u, only uid %u can log in over "
                 "SSH, services that need root are not started; run dir "
                 "'%s'",
                 (unsigned)m->uid,
                 (unsigned)m->gid,
                 (unsigned)m->uid,
                 (unsigned)m->uid,
                 run_dir);
        break;
    }
}

bool
mode_service_unsupported(const struct mode *m,
                         const char *name,
                         const char **why)
{
    const uint64_t setid = CAPS_BIT(CAP_SETGID) | CAPS_BIT(CAP_SETUID);

    if (strcmp(name, "cron") != 0) {
        return false;
    }
    if (m->kind == MODE_NONROOT) {
        *why = "cron needs root (it runs each job as the crontab's user and "
               "writes /var/run/crond.pid); run the job from the app or a "
               "service of your own, or run the container as root";
        return true;
    }
    if ((m->missing & setid) != 0) {
        *why = "cron runs each job as the crontab's user, which needs "
               "CAP_SETUID and CAP_SETGID; add SETUID and SETGID to "
               "securityContext.capabilities.add";
        return true;
    }
    return false;
}
