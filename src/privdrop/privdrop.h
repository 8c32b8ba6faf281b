/* Dropping root for good: resolve a user spec once, then switch to it.
 *
 * Used by build/setuser and by each SSH session process. The functions here
 * do not log (beyond debug), keep no global state, and touch the system only
 * through the calls they name. */
#ifndef AIRLOCK_PRIVDROP_PRIVDROP_H
#define AIRLOCK_PRIVDROP_PRIVDROP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Supplementary groups kept per target; a user in more groups is refused
 * (-E2BIG) rather than silently given a subset. */
#define PRIVDROP_MAX_GROUPS 1024
/* Login name size including the NUL (LOGIN_NAME_MAX on Linux). */
#define PRIVDROP_NAME_MAX 256

/* Everything privdrop_apply() and privdrop_env_set() need, so that no lookup
 * happens after the fork or between the drop steps. */
struct privdrop_target {
    uid_t uid;
    gid_t gid;                         /* primary group */
    gid_t groups[PRIVDROP_MAX_GROUPS]; /* exact supplementary list */
    size_t ngroups;                    /* includes gid */
    bool has_passwd;                   /* uid has a passwd entry */
    char name[PRIVDROP_NAME_MAX];      /* login name, or decimal uid */
    char home[PATH_MAX];               /* pw_dir, "/" without entry */
    char shell[PATH_MAX];              /* pw_shell, "/bin/sh" default */
};

/* Resolves spec into *ret (written only on success). Forms:
 *   "user"        passwd entry by name; groups = getgrouplist(user, pw_gid)
 *   "uid"         decimal uid; primary group from its passwd entry when there
 *                 is one, else gid = uid; groups = { gid } only
 *   "user:group"  / "uid:group" / "user:gid" / "uid:gid"
 *                 gid from the group name or number; groups = { gid } exactly
 * A name is looked up first; an all-digit spec that is not a name is a number.
 * Numbers are 0..4294967294 ((uid_t)-1 is refused).
 * Returns 0, or -EINVAL (bad form), -ERANGE (number too big), -ENOENT (no
 * such user or group), -E2BIG (more than PRIVDROP_MAX_GROUPS groups),
 * -ENAMETOOLONG, -ENOMEM, or the lookup's -errno; *ret_errstr (may be NULL)
 * is then a static reason such as "unknown user". */
int privdrop_resolve(const char *spec,
                     struct privdrop_target *ret,
                     const char **ret_errstr);

/* Switches the calling process to t, irreversibly, in this order:
 *   1. setgroups(t->groups)  2. setresgid(gid x3)
 *   3. (target not root) drop the capability bounding set and clear the
 *      ambient set while CAP_SETPCAP is still held; PR_SET_KEEPCAPS off
 *   4. setresuid(uid x3)
 *   5. (target not root) PR_SET_NO_NEW_PRIVS, then capset() effective,
 *      permitted and inheritable to empty
 *   6. verify: real/effective/saved uid and gid all equal the target, groups
 *      exact, and (target not root) setuid(0)/setgid(0) fail, all five
 *      capability sets are empty and no_new_privs reads back 1.
 * A root target keeps its capabilities and gets no no_new_privs: "drop to
 * root" only sets groups and gid.
 * When the caller is not root and already runs as t->uid (real, effective
 * and saved), steps 1, 2 and 4 are skipped and its gid and groups are kept:
 * it cannot change them and they grant it nothing new (`docker run --user
 * 1000` runs with gid 0); then only the uid, no_new_privs and capabilities
 * are verified. When the caller lacks CAP_SETPCAP (e.g. a pod with capabilities
 * dropped), the bounding set cannot be cleared and is left as is; no_new_privs
 * still stops execve() from gaining anything through it. Returns 0, or -errno
 * with *ret_errstr (may be NULL) naming the failed step. On failure the process
 * is in an unknown state: the caller must not run anything and should exit.
 * Makes system calls only (no allocation, no NSS, no files), so it may run
 * between fork() and exec(). */
int privdrop_apply(const struct privdrop_target *t, const char **ret_errstr);

/* setenv()s HOME, USER, LOGNAME and SHELL for t (overwriting); PATH and
 * everything else is left alone. Returns 0 or -errno (-ENOMEM). */
int privdrop_env_set(const struct privdrop_target *t);

/* Removes every environment variable except PATH, TERM, LANG and LC_*
 * (setuser --clean-env; call privdrop_env_set() afterwards). Returns 0 or
 * -errno. */
int privdrop_env_clean(void);

#endif
