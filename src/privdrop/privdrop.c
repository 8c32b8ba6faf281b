/* Resolving a user spec and dropping to it. See privdrop.h for the contract;
 * the comments here say why each step is where it is. */
#include "privdrop/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/strutil.h"

/* (uid_t)-1 means "unchanged" to setresuid(), so it is never a target. */
#define ID_MAX ((uint64_t)UINT32_MAX - 1)
/* NSS buffers grow by doubling up to this; a passwd or group entry larger
 * than 1 MiB is treated as an error rather than retried forever. */
#define NSS_BUF_MAX (1024 * 1024)
/* Highest capability number we ever probe; the kernel has 41 today. */
#define CAP_PROBE_MAX 63

static void
set_errstr(const char **ret_errstr, const char *s)
{
    if (ret_errstr != NULL) {
        *ret_errstr = s;
    }
}

static bool
all_digits(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
    }
    return true;
}

/* Fills the passwd-derived fields of t from pw; -ENAMETOOLONG when a field
 * does not fit. An empty home or shell gets the login(1) defaults. */
static int
fill_from_passwd(struct privdrop_target *t, const struct passwd *pw)
{
    int r;

    t->uid = pw->pw_uid;
    t->gid = pw->pw_gid;
    t->has_passwd = true;
    r = copy_string(t->name, sizeof(t->name), pw->pw_name);
    if (r == 0) {
        r = copy_string(t->home,
                        sizeof(t->home),
                        pw->pw_dir[0] != '\0' ? pw->pw_dir : "/");
    }
    if (r == 0) {
        r = copy_string(t->shell,
                        sizeof(t->shell),
                        pw->pw_shell[0] != '\0' ? pw->pw_shell : "/bin/sh");
    }
    return r;
}

/* Looks up a passwd entry by name (name != NULL) or by uid, with the
 * reentrant calls so no static NSS buffer is shared with the caller. Returns
 * 1 and fills t when found, 0 when there is no entry, -errno on a lookup
 * error. */
static int
lookup_passwd(const char *name, uid_t uid, struct privdrop_target *t)
{
    struct passwd pw, *res = NULL;
    size_t size = 4096;
    char *buf = NULL;
    int r;

    for (;;) {
        char *nbuf = realloc(buf, size);
        if (nbuf == NULL) {
            r = -ENOMEM;
            goto out;
        }
        buf = nbuf;
        r = name != NULL ? getpwnam_r(name, &pw, buf, size, &res)
                         : getpwuid_r(uid, &pw, buf, size, &res);
        if (r != ERANGE || size >= NSS_BUF_MAX) {
            break;
        }
        size *= 2;
    }
    /* POSIX says "not found" is 0 with a NULL result, but some NSS modules
     * report it as ENOENT or ESRCH (getpwnam_r(3)). */
    if ((r == 0 && res == NULL) || r == ENOENT || r == ESRCH) {
        r = 0;
    } else if (r != 0) {
        r = -r;
    } else {
        r = fill_from_passwd(t, res);
        if (r == 0) {
            r = 1;
        }
    }
out:
    free(buf);
    return r;
}

/* Group name to gid; 1 found, 0 no such group, -errno on a lookup error. */
static int
lookup_group(const char *name, gid_t *ret_gid)
{
    struct group gr, *res = NULL;
    size_t size = 4096;
    char *buf = NULL;
    int r;

    for (;;) {
        char *nbuf = realloc(buf, size);
        if (nbuf == NULL) {
            r = -ENOMEM;
            goto out;
        }
        buf = nbuf;
        r = getgrnam_r(name, &gr, buf, size, &res);
        if (r != ERANGE || size >= NSS_BUF_MAX) {
            break;
        }
        size *= 2;
    }
    if ((r == 0 && res == NULL) || r == ENOENT || r == ESRCH) {
        r = 0;
    } else if (r != 0) {
        r = -r;
    } else {
        *ret_gid = gr.gr_gid;
        r = 1;
    }
out:
    free(buf);
    return r;
}

/* Resolves the user half of a spec into t. *ret_named says whether the
 * user was given by name (and so gets its supplementary groups). */
static int
resolve_user(const char *user,
             struct privdrop_target *t,
             bool *ret_named,
             const char **ret_errstr)
{
    uint64_t id;
    int r;

    r = lookup_passwd(user, 0, t);
    if (r < 0) {
        set_errstr(ret_errstr, "user lookup failed");
        return r;
    }
    if (r > 0) {
        *ret_named = true;
        return 0;
    }
    if (!all_digits(user)) {
        set_errstr(ret_errstr, "unknown user");
        return -ENOENT;
    }
    r = parse_uint(user, ID_MAX, &id);
    if (r < 0) {
        set_errstr(ret_errstr, "uid out of range");
        return r;
    }
    *ret_named = false;
    r = lookup_passwd(NULL, (uid_t)id, t);
    if (r < 0) {
        set_errstr(ret_errstr, "user lookup failed");
        return r;
    }
    if (r == 0) {
        /* No passwd entry, as with gosu/su-exec: the group defaults to the
         * same number and the session gets neutral defaults. */
        t->uid = (uid_t)id;
        t->gid = (gid_t)id;
        t->has_passwd = false;
        (void)snprintf(t->name, sizeof(t->name), "%u", (unsigned)t->uid);
        (void)copy_string(t->home, sizeof(t->home), "/");
        (void)copy_string(t->shell, sizeof(t->shell), "/bin/sh");
    }
    return 0;
}

/* Resolves the group half of a spec: a group name, else a decimal gid (no
 * group entry needed, as for uids). */
static int
resolve_group(const char *group, gid_t *ret_gid, const char **ret_errstr)
{
    uint64_t id;
    int r;

    r = lookup_group(group, ret_gid);
    if (r < 0) {
        set_errstr(ret_errstr, "group lookup failed");
        return r;
    }
    if (r > 0) {
        return 0;
    }
    if (!all_digits(group)) {
        set_errstr(ret_errstr, "unknown group");
        return -ENOENT;
    }
    r = parse_uint(group, ID_MAX, &id);
    if (r < 0) {
        set_errstr(ret_errstr, "gid out of range");
        return r;
    }
    *ret_gid = (gid_t)id;
    return 0;
}

int
privdrop_resolve(const char *spec,
                 struct privdrop_target *ret,
                 const char **ret_errstr)
{
    char user[PRIVDROP_NAME_MAX], group[PRIVDROP_NAME_MAX];
    struct privdrop_target *t = NULL;
    const char *colon;
    bool named = false;
    size_t ulen;
    int r;

    if (spec == NULL) {
        set_errstr(ret_errstr, "empty user spec");
        return -EINVAL;
    }
    colon = strchr(spec, ':');
    ulen = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
    if (ulen == 0) {
        set_errstr(ret_errstr, "empty user name");
        return -EINVAL;
    }
    if (colon != NULL && colon[1] == '\0') {
        set_errstr(ret_errstr, "empty group name");
        return -EINVAL;
    }
    if (colon != NULL && strchr(colon + 1, ':') != NULL) {
        set_errstr(ret_errstr, "more than one ':' in user spec");
        return -EINVAL;
    }
    if (ulen >= sizeof(user) ||
        (colon != NULL && strlen(colon + 1) >= sizeof(group))) {
        set_errstr(ret_errstr, "name too long");
        return -ENAMETOOLONG;
    }
    memcpy(user, spec, ulen);
    user[ulen] = '\0';

    /* Built on the heap (it is ~9 KiB) so *ret is written only on success. */
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        set_errstr(ret_errstr, "out of memory");
        return -ENOMEM;
    }
    r = resolve_user(user, t, &named, ret_errstr);
    if (r < 0) {
        goto out;
    }
    if (colon != NULL) {
        (void)copy_string(group, sizeof(group), colon + 1);
        r = resolve_group(group, &t->gid, ret_errstr);
        if (r < 0) {
            goto out;
        }
        /* An explicit group means exactly that group, as with gosu. */
        t->groups[0] = t->gid;
        t->ngroups = 1;
    } else if (named) {
        int n = PRIVDROP_MAX_GROUPS;

        /* Same list initgroups() would set; we resolve it now so the drop
         * itself does no NSS lookup. */
        if (getgrouplist(t->name, t->gid, t->groups, &n) < 0) {
            set_errstr(ret_errstr, "too many supplementary groups");
            r = -E2BIG;
            goto out;
        }
        t->ngroups = (size_t)n;
    } else {
        t->groups[0] = t->gid;
        t->ngroups = 1;
    }
    *ret = *t;
    r = 0;
out:
    free(t);
    return r;
}

static int
cap_get(struct __user_cap_data_struct data[2])
{
    struct __user_cap_header_struct hdr = {
        .version = _LINUX_CAPABILITY_VERSION_3,
        .pid = 0,
    };

    return syscall(SYS_capget, &hdr, data) < 0 ? -errno : 0;
}

/* True when the effective set holds both CAP_SETUID and CAP_SETGID; a
 * capget failure reads as false (the drop then fails with a clear line). */
static bool
has_setid_caps(void)
{
    struct __user_cap_data_struct data[2];

    if (cap_get(data) < 0) {
        return false;
    }
    return (data[CAP_TO_INDEX(CAP_SETUID)].effective &
            CAP_TO_MASK(CAP_SETUID)) != 0 &&
           (data[CAP_TO_INDEX(CAP_SETGID)].effective &
            CAP_TO_MASK(CAP_SETGID)) != 0;
}

/* Empties the bounding set. Needs CAP_SETPCAP, so it runs before setresuid
 * takes our capabilities away. Without CAP_SETPCAP (a container started
 * with it dropped) it does nothing: no_new_privs, set later, already stops
 * execve() from gaining capabilities, which is all the bounding set limits.
 * The last capability is found by probing PR_CAPBSET_READ until EINVAL, the
 * same answer as /proc/sys/kernel/cap_last_cap without needing /proc. */
static int
drop_bounding_set(bool *ret_dropped)
{
    struct __user_cap_data_struct data[2];
    int r;

    *ret_dropped = false;
    r = cap_get(data);
    if (r < 0) {
        return r;
    }
    if ((data[CAP_TO_INDEX(CAP_SETPCAP)].effective &
         CAP_TO_MASK(CAP_SETPCAP)) == 0) {
        return 0;
    }
    for (unsigned long cap = 0; cap <= CAP_PROBE_MAX; cap++) {
        r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (r < 0) {
            if (errno == EINVAL) {
                break;
            }
            return -errno;
        }
        if (r == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            return -errno;
        }
    }
    *ret_dropped = true;
    return 0;
}

/* True when the current supplementary groups are exactly t's, as sets (the
 * kernel sorts the list, so order is not kept). */
static bool
groups_match(const struct privdrop_target *t)
{
    gid_t cur[PRIVDROP_MAX_GROUPS];
    int n = getgroups(PRIVDROP_MAX_GROUPS, cur);

    if (n < 0) {
        return false;
    }
    for (int i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < t->ngroups && !found; j++) {
            found = cur[i] == t->groups[j];
        }
        if (!found) {
            return false;
        }
    }
    for (size_t j = 0; j < t->ngroups; j++) {
        bool found = false;
        for (int i = 0; i < n && !found; i++) {
            found = cur[i] == t->groups[j];
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

static bool
uids_are(uid_t uid)
{
    uid_t ru, eu, su;

    return getresuid(&ru, &eu, &su) == 0 && ru == uid && eu == uid && su == uid;
}

static bool
gids_are(gid_t gid)
{
    gid_t rg, eg, sg;

    return getresgid(&rg, &eg, &sg) == 0 && rg == gid && eg == gid && sg == gid;
}

/* After the drop to a non-root user: nothing may be left in any capability
 * set, and no_new_privs must be on. */
static int
verify_no_caps(bool bounding_dropped, const char **ret_errstr)
{
    struct __user_cap_data_struct data[2];
    int r = cap_get(data);

    if (r < 0) {
        set_errstr(ret_errstr, "capget failed");
        return r;
    }
    for (int i = 0; i < 2; i++) {
        if (data[i].effective != 0 || data[i].permitted != 0 ||
            data[i].inheritable != 0) {
            set_errstr(ret_errstr, "capabilities left after drop");
            return -EPERM;
        }
    }
    for (unsigned long cap = 0; bounding_dropped && cap <= CAP_PROBE_MAX;
         cap++) {
        r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (r < 0) {
            break;
        }
        if (r == 1) {
            set_errstr(ret_errstr, "bounding set not empty after drop");
            return -EPERM;
        }
    }
    /* Ambient is a subset of permitted, so it is empty too; ask anyway in
     * case a kernel ever breaks that. EINVAL: no ambient support. */
    for (unsigned long cap = 0; cap <= CAP_PROBE_MAX; cap++) {
        r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);
        if (r < 0) {
            break;
        }
        if (r == 1) {
            set_errstr(ret_errstr, "ambient set not empty after drop");
            return -EPERM;
        }
    }
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
        set_errstr(ret_errstr, "no_new_privs not set");
        return -EPERM;
    }
    return 0;
}

int
privdrop_apply(const struct privdrop_target *t, const char **ret_errstr)
{
    struct __user_cap_header_struct hdr = {
        .version = _LINUX_CAPABILITY_VERSION_3,
        .pid = 0,
    };
    struct __user_cap_data_struct zero[2];
    bool drop_caps = t->uid != 0;
    bool bounding_dropped = false;
    bool switch_ids;
    int r;

    if (t->ngroups == 0 || t->ngroups > PRIVDROP_MAX_GROUPS) {
        set_errstr(ret_errstr, "bad group count");
        return -EINVAL;
    }
    /* A non-root caller that already has the target uid cannot change its
     * gid or groups and need not (they grant it nothing new): it only sheds
     * capabilities below. This is `docker run --user 1000`, where the gid
     * is 0 and no passwd entry says otherwise. */
    switch_ids = geteuid() == 0 || !uids_are(t->uid);
    /* Root without CAP_SETUID/CAP_SETGID (Kubernetes "drop: [ALL]") cannot
     * switch ids at all: a login or setuser as the uid it already has goes
     * on as above, keeping its groups; to another uid it fails here, with
     * the capability named, instead of "setgroups: Operation not
     * permitted". */
    if (switch_ids && !has_setid_caps()) {
        if (uids_are(t->uid)) {
            switch_ids = false;
        } else {
            set_errstr(ret_errstr,
                       "switching users needs CAP_SETUID and CAP_SETGID, "
                       "which this container lacks; add SETUID and SETGID "
                       "(and SETPCAP) to securityContext.capabilities.add, "
                       "or run as the target uid");
            return -EPERM;
        }
    }

    if (switch_ids) {
        /* Groups and gid first: both need CAP_SETGID, gone after setuid. */
        if (setgroups(t->ngroups, t->groups) < 0) {
            set_errstr(ret_errstr, "setgroups failed");
            return -errno;
        }
        if (setresgid(t->gid, t->gid, t->gid) < 0) {
            set_errstr(ret_errstr, "setresgid failed");
            return -errno;
        }
    }
    if (drop_caps) {
        r = drop_bounding_set(&bounding_dropped);
        if (r < 0) {
            set_errstr(ret_errstr, "dropping the bounding set failed");
            return r;
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
            errno != EINVAL) {
            set_errstr(ret_errstr, "clearing ambient capabilities failed");
            return -errno;
        }
        /* With keep-caps set (by whoever ran us) setresuid would leave the
         * permitted set in place; make sure it is off. */
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) {
            set_errstr(ret_errstr, "PR_SET_KEEPCAPS failed");
            return -errno;
        }
    }
    if (switch_ids && setresuid(t->uid, t->uid, t->uid) < 0) {
        set_errstr(ret_errstr, "setresuid failed");
        return -errno;
    }
    if (drop_caps) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
            set_errstr(ret_errstr, "PR_SET_NO_NEW_PRIVS failed");
            return -errno;
        }
        /* setresuid already cleared effective and permitted (no keep-caps,
         * no SECBIT_NO_SETUID_FIXUP assumed); inheritable survives it, and
         * lowering every set is always allowed, so clear all three. */
        memset(zero, 0, sizeof(zero));
        if (syscall(SYS_capset, &hdr, zero) < 0) {
            set_errstr(ret_errstr, "capset failed");
            return -errno;
        }
    }

    /* Verify, as OpenSSH's permanently_set_uid() does, rather than trust
     * the return values above. */
    if (!uids_are(t->uid) || (switch_ids && !gids_are(t->gid))) {
        set_errstr(ret_errstr, "ids differ from the target after drop");
        return -EPERM;
    }
    if (switch_ids && !groups_match(t)) {
        set_errstr(ret_errstr, "groups differ from the target after drop");
        return -EPERM;
    }
    if (drop_caps) {
        if (setuid(0) == 0 || seteuid(0) == 0) {
            set_errstr(ret_errstr, "could regain uid 0 after drop");
            return -EPERM;
        }
        if (switch_ids && t->gid != 0 && (setgid(0) == 0 || setegid(0) == 0)) {
            set_errstr(ret_errstr, "could regain gid 0 after drop");
            return -EPERM;
        }
        r = verify_no_caps(bounding_dropped, ret_errstr);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

int
privdrop_env_set(const struct privdrop_target *t)
{
    if (setenv("HOME", t->home, 1) < 0 || setenv("USER", t->name, 1) < 0 ||
        setenv("LOGNAME", t->name, 1) < 0 || setenv("SHELL", t->shell, 1) < 0) {
        return -errno;
    }
    return 0;
}

static bool
env_keep(const char *entry)
{
    static const char *const keep[] = {"PATH=", "TERM=", "LANG="};

    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        if (strncmp(entry, keep[i], strlen(keep[i])) == 0) {
            return true;
        }
    }
    return strncmp(entry, "LC_", 3) == 0 && strchr(entry, '=') != NULL;
}

int
privdrop_env_clean(void)
{
    char **saved = NULL;
    size_t n = 0, nkeep = 0;
    int r = 0;

    for (n = 0; environ != NULL && environ[n] != NULL; n++) {
    }
    saved = calloc(n + 1, sizeof(*saved));
    if (saved == NULL) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (env_keep(environ[i])) {
            saved[nkeep] = strdup(environ[i]);
            if (saved[nkeep] == NULL) {
                r = -ENOMEM;
                goto out;
            }
            nkeep++;
        }
    }
    /* clearenv + setenv instead of unsetenv while walking environ: entries
     * without '=' (possible via execve) cannot be unset by name. */
    if (clearenv() != 0) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nkeep; i++) {
        char *eq = strchr(saved[i], '=');
        *eq = '\0';
        if (setenv(saved[i], eq + 1, 1) < 0) {
            r = -errno;
            goto out;
        }
    }
out:
    for (size_t i = 0; i < nkeep; i++) {
        free(saved[i]);
    }
    free(saved);
    return r;
}
