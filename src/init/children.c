#include "init/children.h"

#include <errno.h>

void
children_init(struct children *c)
{
    /* Only the first count slots are ever read; clearing all 512 would
     * make PID 1 touch 6 KiB (two resident pages) it never needs. */
    c->count = 0;
}

int
children_add(struct children *c, pid_t pid, enum child_kind kind, int index)
{
    if (c->count >= CHILDREN_MAX) {
        return -ENOSPC;
    }
    c->slot[c->count].pid = pid;
    c->slot[c->count].kind = kind;
    c->slot[c->count].index = index;
    c->count++;
    return 0;
}

bool
children_take(struct children *c, pid_t pid, struct child *ret)
{
    for (size_t i = 0; i < c->count; i++) {
        if (c->slot[i].pid == pid) {
            *ret = c->slot[i];
            /* Order does not matter: move the last entry into the hole. */
            c->slot[i] = c->slot[--c->count];
            return true;
        }
    }
    return false;
}

size_t
children_count_kind(const struct children *c, enum child_kind kind)
{
    size_t n = 0;

    for (size_t i = 0; i < c->count; i++) {
        if (c->slot[i].kind == kind) {
            n++;
        }
    }
    return n;
}
