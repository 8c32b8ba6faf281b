/* Unit tests for src/privdrop: user-spec resolution against a small passwd
 * and group database swapped in with -Wl,--wrap (names it does not know
 * fall through to the real NSS calls, so "root" is the machine's), the
 * session environment, and the drop itself in forked children (as root). */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "privdrop/privdrop.h"

/* ---- fake NSS database ------------------------------------------------ */

struct fake_user {
    const char *name;
    uid_t uid;
    gid_t gid;
    const char *dir;
    const char *shell;
};

struct fake_group {
    const char *name;
    gid_t gid;
    const char *members[2];
};

static char long_home[3001];
static char long_shell[3001];

static const struct fake_user fake_users[] = {
    {"alice", 1000, 1000, "/home/alice", "/bin/bash"},
    {"carol", 1001, 1001, "", ""},
    {"4242", 5000, 5000, "/home/n", "/bin/sh"},
    {"crowd", 1002, 1002, "/", "/bin/sh"},
    {"longentry", 1003, 1003, long_home, long_shell},
};

static const struct fake_group fake_groups[] = {
    {"alice", 1000, {NULL, NULL}},
    {"devs", 2000, {"alice", NULL}},
    {"ops", 2001, {"alice", "carol"}},
    {"3000", 3500, {NULL, NULL}},
};

/* getgrouplist() for "crowd" claims this many groups. */
#define CROWD_GROUPS (PRIVDROP_MAX_GROUPS + 1)

int __real_getpwnam_r(const char *name,
                      struct passwd *pw,
                      char *buf,
                      size_t size,
                      struct passwd **res);
int __real_getpwuid_r(uid_t uid,
                      struct passwd *pw,
                      char *buf,
                      size_t size,
                      struct passwd **res);
int __real_getgrnam_r(const char *name,
                      struct group *gr,
                      char *buf,
                      size_t size,
                      struct group **res);
int __real_getgrouplist(const char *user, gid_t group, gid_t *groups, int *n);
int __wrap_getpwnam_r(const char *name,
                      struct passwd *pw,
                      char *buf,
                      size_t size,
                      struct passwd **res);
int __wrap_getpwuid_r(uid_t uid,
                      struct passwd *pw,
                      char *buf,
                      size_t size,
                      struct passwd **res);
int __wrap_getgrnam_r(const char *name,
                      struct group *gr,
                      char *buf,
                      size_t size,
                      struct group **res);
int __wrap_getgrouplist(const char *user, gid_t group, gid_t *groups, int *n);

/* Copies s into the caller's buffer as NSS does; NULL when it is full. */
static char *
put_string(char **p, size_t *left, const char *s)
{
    size_t len = strlen(s) + 1;
    char *out = *p;

    if (len > *left) {
        return NULL;
    }
    memcpy(out, s, len);
    *p += len;
    *left -= len;
    return out;
}

/* Fills pw from u inside buf, or returns ERANGE like glibc when it does not
 * fit (which exercises the caller's buffer growth). */
static int
fill_pw(const struct fake_user *u,
        struct passwd *pw,
        char *buf,
        size_t size,
        struct passwd **res)
{
    char *p = buf;
    size_t left = size;

    pw->pw_name = put_string(&p, &left, u->name);
    pw->pw_passwd = put_string(&p, &left, "x");
    pw->pw_gecos = put_string(&p, &left, "");
    pw->pw_dir = put_string(&p, &left, u->dir);
    pw->pw_shell = put_string(&p, &left, u->shell);
    if (pw->pw_name == NULL || pw->pw_passwd == NULL || pw->pw_gecos == NULL ||
        pw->pw_dir == NULL || pw->pw_shell == NULL) {
        *res = NULL;
        return ERANGE;
    }
    pw->pw_uid = u->uid;
    pw->pw_gid = u->gid;
    *res = pw;
    return 0;
}

int
__wrap_getpwnam_r(const char *name,
                  struct passwd *pw,
                  char *buf,
                  size_t size,
                  struct passwd **res)
{
    if (strcmp(name, "eio") == 0) {
        *res = NULL;
        return EIO;
    }
    for (size_t i = 0; i < sizeof(fake_users) / sizeof(fake_users[0]); i++) {
        if (strcmp(fake_users[i].name, name) == 0) {
            return fill_pw(&fake_users[i], pw, buf, size, res);
        }
    }
    return __real_getpwnam_r(name, pw, buf, size, res);
}

int
__wrap_getpwuid_r(uid_t uid,
                  struct passwd *pw,
                  char *buf,
                  size_t size,
                  struct passwd **res)
{
    for (size_t i = 0; i < sizeof(fake_users) / sizeof(fake_users[0]); i++) {
        if (fake_users[i].uid == uid) {
            return fill_pw(&fake_users[i], pw, buf, size, res);
        }
    }
    /* Ids the tests use as "no passwd entry" must not leak in from the
     * machine's database. */
    if (uid >= 10000) {
        *res = NULL;
        return 0;
    }
    return __real_getpwuid_r(uid, pw, buf, size, res);
}

int
__wrap_getgrnam_r(const char *name,
                  struct group *gr,
                  char *buf,
                  size_t size,
                  struct group **res)
{
    for (size_t i = 0; i < sizeof(fake_groups) / sizeof(fake_groups[0]); i++) {
        if (strcmp(fake_groups[i].name, name) == 0) {
            char *p = buf;
            size_t left = size;

            gr->gr_name = put_string(&p, &left, name);
            gr->gr_passwd = put_string(&p, &left, "x");
            if (gr->gr_name == NULL || gr->gr_passwd == NULL) {
                *res = NULL;
                return ERANGE;
            }
            gr->gr_mem = NULL;
            gr->gr_gid = fake_groups[i].gid;
            *res = gr;
            return 0;
        }
    }
    return __real_getgrnam_r(name, gr, buf, size, res);
}

int
__wrap_getgrouplist(const char *user, gid_t group, gid_t *groups, int *n)
{
    gid_t found[8];
    int count = 0;
    bool fake = false;

    for (size_t i = 0; i < sizeof(fake_users) / sizeof(fake_users[0]); i++) {
        fake = fake || strcmp(fake_users[i].name, user) == 0;
    }
    if (!fake) {
        return __real_getgrouplist(user, group, groups, n);
    }
    if (strcmp(user, "crowd") == 0) {
        *n = CROWD_GROUPS;
        return -1;
    }
    found[count++] = group;
    for (size_t i = 0; i < sizeof(fake_groups) / sizeof(fake_groups[0]); i++) {
        for (size_t m = 0; m < 2 && fake_groups[i].members[m] != NULL; m++) {
            if (strcmp(fake_groups[i].members[m], user) == 0 &&
                fake_groups[i].gid != group) {
                found[count++] = fake_groups[i].gid;
            }
        }
    }
    if (count > *n) {
        *n = count;
        return -1;
    }
    memcpy(groups, found, (size_t)count * sizeof(gid_t));
    *n = count;
    return count;
}

/* ---- helpers ------------------------------------------------------------ */

static struct privdrop_target *
new_target(void)
{
    struct privdrop_target *t = malloc(sizeof(*t));

    assert_non_null(t);
    memset(t, 0xA5, sizeof(*t));
    return t;
}

static bool
has_group(const struct privdrop_target *t, gid_t g)
{
    for (size_t i = 0; i < t->ngroups; i++) {
        if (t->groups[i] == g) {
            return true;
        }
    }
    return false;
}

/* Resolving spec must fail with want and leave *ret untouched. */
static void
expect_resolve_error(const char *spec, int want, const char *want_reason)
{
    struct privdrop_target *t = new_target();
    struct privdrop_target *before = new_target();
    const char *errstr = NULL;

    assert_int_equal(privdrop_resolve(spec, t, &errstr), want);
    assert_non_null(errstr);
    if (want_reason != NULL) {
        assert_string_equal(errstr, want_reason);
    }
    assert_memory_equal(t, before, sizeof(*t));
    free(t);
    free(before);
}

/* ---- resolve ------------------------------------------------------------ */

static void
test_resolve_name_gets_passwd_fields_and_all_groups(void **state)
{
    struct privdrop_target *t = new_target();
    const char *errstr = NULL;

    (void)state;
    assert_int_equal(privdrop_resolve("alice", t, &errstr), 0);
    assert_int_equal(t->uid, 1000);
    assert_int_equal(t->gid, 1000);
    assert_true(t->has_passwd);
    assert_string_equal(t->name, "alice");
    assert_string_equal(t->home, "/home/alice");
    assert_string_equal(t->shell, "/bin/bash");
    assert_int_equal(t->ngroups, 3);
    assert_true(has_group(t, 1000));
    assert_true(has_group(t, 2000));
    assert_true(has_group(t, 2001));
    free(t);
}

static void
test_resolve_empty_home_and_shell_get_defaults(void **state)
{
    struct privdrop_target *t = new_target();

    (void)state;
    assert_int_equal(privdrop_resolve("carol", t, NULL), 0);
    assert_string_equal(t->home, "/");
    assert_string_equal(t->shell, "/bin/sh");
    /* carol is in ops besides her primary group. */
    assert_int_equal(t->ngroups, 2);
    assert_true(has_group(t, 1001));
    assert_true(has_group(t, 2001));
    free(t);
}

static void
test_resolve_numeric_uid_with_entry_gets_primary_group_only(void **state)
{
    struct privdrop_target *t = new_target();

    (void)state;
    assert_int_equal(privdrop_resolve("1000", t, NULL), 0);
    assert_int_equal(t->uid, 1000);
    assert_int_equal(t->gid, 1000);
    assert_true(t->has_passwd);
    assert_string_equal(t->name, "alice");
    assert_string_equal(t->home, "/home/alice");
    assert_int_equal(t->ngroups, 1);
    assert_int_equal(t->groups[0], 1000);
    free(t);
}

static void
test_resolve_numeric_uid_without_entry_defaults_gid_to_uid(void **state)
{
    struct privdrop_target *t = new_target();

    (void)state;
    assert_int_equal(privdrop_resolve("12345", t, NULL), 0);
    assert_int_equal(t->uid, 12345);
    assert_int_equal(t->gid, 12345);
    assert_false(t->has_passwd);
    assert_string_equal(t->name, "12345");
    assert_string_equal(t->home, "/");
    assert_string_equal(t->shell, "/bin/sh");
    assert_int_equal(t->ngroups, 1);
    assert_int_equal(t->groups[0], 12345);
    free(t);
}

static void
test_resolve_uid_colon_gid_numbers(void **state)
{
    struct privdrop_target *t = new_target();

    (void)state;
    assert_int_equal(privdrop_resolve("12345:54321", t, NULL), 0);
    assert_int_equal(t->uid, 12345);
    assert_int_equal(t->gid, 54321);
    assert_int_equal(t->ngroups, 1);
    assert_int_equal(t->groups[0], 54321);
    free(t);
}

static void
test_resolve_user_colon_group_is_exactly_that_group(void **state)
{
    struct privdrop_target *t = new_target();

    (void)state;
    assert_int_equal(privdrop_resolve("alice:ops", t, NULL), 0);
    assert_int_equal(t->uid, 1000);
    assert_int_equal(t->gid, 2001);
    assert_int_equal(t->ngroups, 1);
    assert_int_equal(t->groups[0], 2001);
    assert_string_equal(t->home, "/home/alice");
    free(t);
}

static void
test_resolve_names_win_over_numbers(void **state)
{
    struct privdrop_target *t = new_target();

    (void)state;
    /* A user and a group whose names are digits are looked up by name. */
    assert_int_equal(privdrop_resolve("4242:3000", t, NULL), 0);
    assert_int_equal(t->uid, 5000);
    assert_int_equal(t->gid, 3500);
    /* A number that names no group is a gid. */
    assert_int_equal(privdrop_resolve("alice:3001", t, NULL), 0);
    assert_int_equal(t->gid, 3001);
    free(t);
}

static void
test_resolve_real_root_by_name_and_number(void **state)
{
    struct privdrop_target *t = new_target();

    (void)state;
    assert_int_equal(privdrop_resolve("root", t, NULL), 0);
    assert_int_equal(t->uid, 0);
    assert_int_equal(t->gid, 0);
    assert_true(t->has_passwd);
    assert_true(has_group(t, 0));
    assert_int_equal(privdrop_resolve("0:0", t, NULL), 0);
    assert_int_equal(t->uid, 0);
    assert_string_equal(t->name, "root");
    assert_int_equal(t->ngroups, 1);
    free(t);
}

static void
test_resolve_grows_the_nss_buffer_for_large_entries(void **state)
{
    struct privdrop_target *t = new_target();

    (void)state;
    assert_int_equal(privdrop_resolve("longentry", t, NULL), 0);
    assert_int_equal(strlen(t->home), 3000);
    assert_int_equal(strlen(t->shell), 3000);
    assert_string_equal(t->home, long_home);
    free(t);
}

static void
test_resolve_rejects_bad_forms(void **state)
{
    (void)state;
    expect_resolve_error("", -EINVAL, "empty user name");
    expect_resolve_error(":", -EINVAL, "empty user name");
    expect_resolve_error(":ops", -EINVAL, "empty user name");
    expect_resolve_error("alice:", -EINVAL, "empty group name");
    expect_resolve_error("a:b:c", -EINVAL, "more than one ':' in user spec");
    expect_resolve_error("alice::ops", -EINVAL, NULL);
    expect_resolve_error(NULL, -EINVAL, NULL);
}

static void
test_resolve_unknown_user_and_group(void **state)
{
    (void)state;
    expect_resolve_error("no-such-user-xq", -ENOENT, "unknown user");
    expect_resolve_error("alice:no-such-group-xq", -ENOENT, "unknown group");
    /* Not plain decimal, so these are names, and unknown ones. */
    expect_resolve_error("-1", -ENOENT, "unknown user");
    expect_resolve_error("+5", -ENOENT, "unknown user");
    expect_resolve_error(" 5", -ENOENT, "unknown user");
    expect_resolve_error("0x10", -ENOENT, "unknown user");
}

static void
test_resolve_numbers_out_of_range(void **state)
{
    struct privdrop_target *t = new_target();

    (void)state;
    /* (uid_t)-1 means "unchanged" to setresuid and is refused. */
    expect_resolve_error("4294967295", -ERANGE, "uid out of range");
    expect_resolve_error("99999999999999999999", -ERANGE, "uid out of range");
    expect_resolve_error("alice:4294967295", -ERANGE, "gid out of range");
    assert_int_equal(privdrop_resolve("4294967294", t, NULL), 0);
    assert_int_equal(t->uid, 4294967294U);
    free(t);
}

static void
test_resolve_limits_and_lookup_errors(void **state)
{
    char name[PRIVDROP_NAME_MAX + 10];

    (void)state;
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    expect_resolve_error(name, -ENAMETOOLONG, "name too long");
    expect_resolve_error("crowd", -E2BIG, "too many supplementary groups");
    expect_resolve_error("eio", -EIO, "user lookup failed");
}

/* ---- environment ----------------------------------------------------------
 */

static void
test_env_set_sets_session_variables_and_keeps_path(void **state)
{
    struct privdrop_target *t = new_target();

    (void)state;
    assert_int_equal(privdrop_resolve("alice", t, NULL), 0);
    assert_int_equal(setenv("PATH", "/x:/y", 1), 0);
    assert_int_equal(setenv("USER", "root", 1), 0);
    assert_int_equal(privdrop_env_set(t), 0);
    assert_string_equal(getenv("HOME"), "/home/alice");
    assert_string_equal(getenv("USER"), "alice");
    assert_string_equal(getenv("LOGNAME"), "alice");
    assert_string_equal(getenv("SHELL"), "/bin/bash");
    assert_string_equal(getenv("PATH"), "/x:/y");
    free(t);
}

static void
test_env_clean_keeps_only_path_term_lang_lc(void **state)
{
    size_t n = 0;

    (void)state;
    assert_int_equal(setenv("PATH", "/p", 1), 0);
    assert_int_equal(setenv("TERM", "xterm", 1), 0);
    assert_int_equal(setenv("LANG", "C.UTF-8", 1), 0);
    assert_int_equal(setenv("LC_ALL", "C", 1), 0);
    assert_int_equal(setenv("LC_TIME", "POSIX", 1), 0);
    assert_int_equal(setenv("SECRET", "s3cret", 1), 0);
    assert_int_equal(setenv("LANGUAGE", "de", 1), 0);
    assert_int_equal(setenv("PATHX", "no", 1), 0);
    assert_int_equal(setenv("LD_PRELOAD", "/evil.so", 1), 0);
    assert_int_equal(privdrop_env_clean(), 0);
    assert_string_equal(getenv("PATH"), "/p");
    assert_string_equal(getenv("TERM"), "xterm");
    assert_string_equal(getenv("LANG"), "C.UTF-8");
    assert_string_equal(getenv("LC_ALL"), "C");
    assert_string_equal(getenv("LC_TIME"), "POSIX");
    assert_null(getenv("SECRET"));
    assert_null(getenv("LANGUAGE"));
    assert_null(getenv("PATHX"));
    assert_null(getenv("LD_PRELOAD"));
    for (n = 0; environ[n] != NULL; n++) {
    }
    assert_int_equal(n, 5);
}

/* ---- apply (root only, each in a forked child) ------------------------------
 */

/* Runs fn(arg) in a child and returns its exit status; fn returns 0 when
 * every check passed, else the number of the failed check. */
static int
in_child(int (*fn)(void *), void *arg)
{
    int status = 0;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        _exit(fn(arg));
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int
caps_all_zero(void)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];

    if (syscall(SYS_capget, &hdr, d) < 0) {
        return 0;
    }
    for (int i = 0; i < 2; i++) {
        if (d[i].effective || d[i].permitted || d[i].inheritable) {
            return 0;
        }
    }
    for (unsigned long c = 0; c <= 63; c++) {
        int r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
        if (r < 0) {
            break;
        }
        if (r != 0) {
            return 0;
        }
    }
    return 1;
}

static struct privdrop_target *
numeric_target(uid_t uid, gid_t gid)
{
    struct privdrop_target *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    t->uid = uid;
    t->gid = gid;
    t->groups[0] = gid;
    t->groups[1] = 777;
    t->ngroups = 2;
    return t;
}

/* Runs fn in a child process (assertions made there would be lost) with a
 * target of uid:gid; skipped unless we are root. */
static void
expect_child_passes_as_root(int (*fn)(void *), uid_t uid, gid_t gid)
{
    struct privdrop_target *t;

    if (geteuid() != 0) {
        skip();
        return;
    }
    t = numeric_target(uid, gid);
    assert_int_equal(in_child(fn, t), 0);
    free(t);
}

static int
child_drop_to_user(void *arg)
{
    const struct privdrop_target *t = arg;
    const char *errstr = NULL;
    uid_t ru, eu, su;
    gid_t rg, eg, sg, groups[8];
    int n;

    if (privdrop_apply(t, &errstr) != 0) {
        return 1;
    }
    if (getresuid(&ru, &eu, &su) < 0 || ru != 12345 || eu != 12345 ||
        su != 12345) {
        return 2;
    }
    if (getresgid(&rg, &eg, &sg) < 0 || rg != 54321 || eg != 54321 ||
        sg != 54321) {
        return 3;
    }
    n = getgroups(8, groups);
    if (n != 2 || !((groups[0] == 777 && groups[1] == 54321) ||
                    (groups[0] == 54321 && groups[1] == 777))) {
        return 4;
    }
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
        return 5;
    }
    if (!caps_all_zero()) {
        return 6;
    }
    if (setuid(0) == 0 || errno != EPERM) {
        return 7;
    }
    /* Dropping to where we already are is allowed without privileges. */
    if (privdrop_apply(t, &errstr) != 0) {
        return 8;
    }
    return 0;
}

static void
test_apply_drops_ids_groups_caps_and_sets_nnp(void **state)
{
    (void)state;
    expect_child_passes_as_root(child_drop_to_user, 12345, 54321);
}

static int
child_drop_to_root_keeps_caps(void *arg)
{
    const struct privdrop_target *t = arg;
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    gid_t groups[8];

    if (privdrop_apply(t, NULL) != 0) {
        return 1;
    }
    if (getgroups(8, groups) != 2) {
        return 2;
    }
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0) {
        return 3;
    }
    if (syscall(SYS_capget, &hdr, d) < 0 ||
        (d[0].effective & CAP_TO_MASK(CAP_SETUID)) == 0) {
        return 4;
    }
    return 0;
}

static void
test_apply_to_root_sets_groups_but_keeps_capabilities(void **state)
{
    (void)state;
    expect_child_passes_as_root(child_drop_to_root_keeps_caps, 0, 0);
}

static int
child_unprivileged_cannot_switch(void *arg)
{
    const struct privdrop_target *t = arg;
    struct privdrop_target *other = numeric_target(23456, 23456);
    const char *errstr = NULL;
    int r;

    if (privdrop_apply(t, NULL) != 0) {
        return 1;
    }
    r = privdrop_apply(other, &errstr);
    free(other);
    /* The line names what is missing, not "setgroups failed". */
    if (r != -EPERM || errstr == NULL ||
        strstr(errstr, "CAP_SETUID and CAP_SETGID") == NULL) {
        return 2;
    }
    return 0;
}

/* Root with CAP_SETUID/CAP_SETGID dropped (Kubernetes "drop: [ALL]"): a
 * drop to uid 0 still works, one to another uid fails naming them. */
static int
child_root_without_setid_caps(void *arg)
{
    struct privdrop_target *other = arg;
    struct privdrop_target *self = numeric_target(0, 0);
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    const char *errstr = NULL;
    uid_t ru, eu, su;
    int r;

    if (syscall(SYS_capget, &hdr, d) < 0) {
        free(self);
        return 1;
    }
    d[0].effective &= ~(CAP_TO_MASK(CAP_SETUID) | CAP_TO_MASK(CAP_SETGID));
    if (syscall(SYS_capset, &hdr, d) < 0) {
        free(self);
        return 2;
    }
    r = privdrop_apply(self, NULL);
    free(self);
    if (r != 0 || getresuid(&ru, &eu, &su) < 0 || ru != 0 || eu != 0 ||
        su != 0) {
        return 3;
    }
    r = privdrop_apply(other, &errstr);
    if (r != -EPERM || errstr == NULL ||
        strstr(errstr, "securityContext.capabilities.add") == NULL) {
        return 4;
    }
    return 0;
}

static void
test_apply_as_root_without_setid_caps_names_them(void **state)
{
    (void)state;
    expect_child_passes_as_root(child_root_without_setid_caps, 12345, 54321);
}

static void
test_apply_as_non_root_to_another_user_fails(void **state)
{
    (void)state;
    expect_child_passes_as_root(child_unprivileged_cannot_switch, 12345, 54321);
}

static int
child_without_setpcap_keeps_bounding_set(void *arg)
{
    const struct privdrop_target *t = arg;
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];

    /* Like a container started without CAP_SETPCAP. */
    if (syscall(SYS_capget, &hdr, d) < 0) {
        return 1;
    }
    d[CAP_TO_INDEX(CAP_SETPCAP)].effective &= ~CAP_TO_MASK(CAP_SETPCAP);
    if (syscall(SYS_capset, &hdr, d) < 0) {
        return 2;
    }
    if (privdrop_apply(t, NULL) != 0) {
        return 3;
    }
    /* The bounding set could not be touched, but no_new_privs is on and
     * every other set is empty. */
    if (prctl(PR_CAPBSET_READ, CAP_SETUID, 0, 0, 0) != 1) {
        return 4;
    }
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
        return 5;
    }
    if (syscall(SYS_capget, &hdr, d) < 0 || d[0].effective || d[1].effective ||
        d[0].permitted || d[1].permitted || d[0].inheritable ||
        d[1].inheritable) {
        return 6;
    }
    return 0;
}

static void
test_apply_without_setpcap_still_drops_and_sets_nnp(void **state)
{
    (void)state;
    expect_child_passes_as_root(child_without_setpcap_keeps_bounding_set,
                                12345,
                                54321);
}

static void
test_apply_rejects_empty_group_list(void **state)
{
    struct privdrop_target *t = numeric_target(12345, 54321);
    const char *errstr = NULL;

    (void)state;
    t->ngroups = 0;
    /* Refused before any system call, so safe in the test process. */
    assert_int_equal(privdrop_apply(t, &errstr), -EINVAL);
    assert_string_equal(errstr, "bad group count");
    free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_name_gets_passwd_fields_and_all_groups),
        cmocka_unit_test(test_resolve_empty_home_and_shell_get_defaults),
        cmocka_unit_test(
            test_resolve_numeric_uid_with_entry_gets_primary_group_only),
        cmocka_unit_test(
            test_resolve_numeric_uid_without_entry_defaults_gid_to_uid),
        cmocka_unit_test(test_resolve_uid_colon_gid_numbers),
        cmocka_unit_test(test_resolve_user_colon_group_is_exactly_that_group),
        cmocka_unit_test(test_resolve_names_win_over_numbers),
        cmocka_unit_test(test_resolve_real_root_by_name_and_number),
        cmocka_unit_test(test_resolve_grows_the_nss_buffer_for_large_entries),
        cmocka_unit_test(test_resolve_rejects_bad_forms),
        cmocka_unit_test(test_resolve_unknown_user_and_group),
        cmocka_unit_test(test_resolve_numbers_out_of_range),
        cmocka_unit_test(test_resolve_limits_and_lookup_errors),
        cmocka_unit_test(test_env_set_sets_session_variables_and_keeps_path),
        cmocka_unit_test(test_env_clean_keeps_only_path_term_lang_lc),
        cmocka_unit_test(test_apply_drops_ids_groups_caps_and_sets_nnp),
        cmocka_unit_test(test_apply_to_root_sets_groups_but_keeps_capabilities),
        cmocka_unit_test(test_apply_as_non_root_to_another_user_fails),
        cmocka_unit_test(test_apply_as_root_without_setid_caps_names_them),
        cmocka_unit_test(test_apply_without_setpcap_still_drops_and_sets_nnp),
        cmocka_unit_test(test_apply_rejects_empty_group_list),
    };

    memset(long_home, 'h', sizeof(long_home) - 1);
    memset(long_shell, 's', sizeof(long_shell) - 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
