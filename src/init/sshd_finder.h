/* Whether and where PID 1 finds the SSH server. PID 1 never parses keys:
 * it only looks whether a key source is configured. */
#ifndef AIRLOCK_INIT_SSHD_FINDER_H
#define AIRLOCK_INIT_SSHD_FINDER_H

#include <stdbool.h>
#include <stddef.h>

/* True when SSH should run: not disabled, and a key source is configured
 * (AIRLOCK_AUTHORIZED_KEYS or _FILE set, or the keys directory exists).
 * Logs one line saying why when it is not. */
bool sshd_wanted(bool disabled);

/* airlock-sshd next to self_exe, else on PATH, else AIRLOCK_SSHD_PATH;
 * 0 with the path in buf, or -ENOENT (logged). */
int sshd_find(const char *self_exe, char *buf, size_t size);

#endif
