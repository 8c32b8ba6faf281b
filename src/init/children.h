/* The table of children PID 1 started itself (the app, services, hooks),
 * so a reaped pid can be told from an adopted orphan. Fixed capacity:
 * nothing is allocated once the loop runs. */
#ifndef AIRLOCK_INIT_CHILDREN_H
#define AIRLOCK_INIT_CHILDREN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CHILDREN_MAX 512

enum child_kind {
    CHILD_APP = 1,
    CHILD_SERVICE,
    CHILD_FINISH, /* a service's finish script */
    CHILD_HOOK,   /* a shutdown hook */
    CHILD_CHECK,  /* a service's check script (readiness) */
};

struct child {
    pid_t pid;
    enum child_kind kind;
    int index; /* service index, or 0 */
};

struct children {
    struct child slot[CHILDREN_MAX];
    size_t count;
};

void children_init(struct children *c);

/* Records a started child; -ENOSPC when the table is full. */
int
children_add(struct children *c, pid_t pid, enum child_kind kind, int index);

/* Removes pid and copies its entry to *ret; false for an unknown pid (an
 * orphan the kernel reparented to us). */
bool children_take(struct children *c, pid_t pid, struct child *ret);

/* Number of children of the given kind still running. */
size_t children_count_kind(const struct children *c, enum child_kind kind);

#endif
