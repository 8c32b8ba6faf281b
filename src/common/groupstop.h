/* Stopping a process group with a deadline: a polite signal now, SIGKILL
 * when the grace has passed. One primitive for "stop, then escalate"
 * (style.md 3.11), so every caller has the same give-up rule. */
#ifndef AIRLOCK_COMMON_GROUPSTOP_H
#define AIRLOCK_COMMON_GROUPSTOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum group_stop_state {
    GROUP_STOP_IDLE = 0,  /* nothing sent yet */
    GROUP_STOP_SIGNALLED, /* polite signal sent, SIGKILL armed */
    GROUP_STOP_KILLED,    /* SIGKILL sent; only reaping is left */
};

struct group_stop {
    pid_t pgid; /* the group, named by its leader's pid */
    enum group_stop_state state;
    uint64_t kill_at; /* when SIGKILL is due (SIGNALLED only) */
};

/* Sends sig to group pgid and to its leader pgid (which may have left
 * the group with setsid()): how every stop in airlock signals a group,
 * for a caller whose polite signal went another way (the app's, through
 * --rewrite). pgid must be the caller's unreaped child, as below.
 * Returns 0 when either kill(2) reached something, else -errno
 * (-ESRCH: nothing left). */
int group_signal(pid_t pgid, int sig);

/* Sends sig, then SIGCONT (a stopped group could not act on sig), to
 * group pgid, and arms SIGKILL for now + grace_ms. pgid must be a group
 * whose leader is the caller's unreaped child: only then can the number
 * not have been reused. Does nothing when already started. Returns 0, or
 * -errno of kill(2) (-ESRCH: the group is already empty). */
int group_stop_begin(struct group_stop *s,
                     pid_t pgid,
                     int sig,
                     uint64_t now,
                     uint64_t grace_ms);

/* Sends SIGKILL to the group once the deadline has passed. Returns the
 * deadline still pending, for a poll timeout, or DEADLINE_NONE when there
 * is none (idle, or SIGKILL already sent). */
uint64_t group_stop_tick(struct group_stop *s, uint64_t now);

/* SIGKILL to the group now, whatever the deadline (nothing when idle). */
void group_stop_kill_now(struct group_stop *s);

#endif
