/* The stop-and-escalate primitive. It keeps no table of its own: the
 * caller embeds one struct group_stop per process group, folds
 * group_stop_tick()'s deadline into its poll timeout and reaps the
 * processes itself (it alone knows which pids are its children). */
#include "common/groupstop.h"

#include <errno.h>
#include <signal.h>

#include "common/timeutil.h"

/* kill(-pgid) reaches every member still in the group. A leader that
 * left it could only do so with setsid() (a session leader may not
 * change its group), so the leader is signalled directly as well. */
int
group_signal(pid_t pgid, int sig)
{
    int r = 0;

    if (kill(-pgid, sig) < 0) {
        r = -errno;
    }
    if (kill(pgid, sig) == 0) {
        r = 0;
    }
    return r;
}

int
group_stop_begin(struct group_stop *s,
                 pid_t pgid,
                 int sig,
                 uint64_t now,
                 uint64_t grace_ms)
{
    int r;

    if (s->state != GROUP_STOP_IDLE || pgid <= 0) {
        return 0;
    }
    s->pgid = pgid;
    s->state = GROUP_STOP_SIGNALLED;
    s->kill_at = now + grace_ms;
    r = group_signal(pgid, sig);
    /* A group that ignores sig still must not stay stopped: SIGKILL
     * works on a stopped process, but the grace would then be lost on a
     * group that could have exited cleanly. */
    (void)group_signal(pgid, SIGCONT);
    return r;
}

void
group_stop_kill_now(struct group_stop *s)
{
    if (s->state == GROUP_STOP_IDLE || s->state == GROUP_STOP_KILLED) {
        return;
    }
    /* ESRCH means the group is gone already: nothing left to do. */
    (void)group_signal(s->pgid, SIGKILL);
    s->state = GROUP_STOP_KILLED;
}

uint64_t
group_stop_tick(struct group_stop *s, uint64_t now)
{
    if (s->state != GROUP_STOP_SIGNALLED) {
        return DEADLINE_NONE;
    }
    if (now >= s->kill_at) {
        group_stop_kill_now(s);
        return DEADLINE_NONE;
    }
    return s->kill_at;
}
