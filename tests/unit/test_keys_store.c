/* Unit tests for the key sources, the StrictModes checks, the store and
 * the watcher, against a temp tree used as AIRLOCK_ROOT. read_all is
 * wrapped (-Wl,--wrap=read_all) to make a source fail with EIO, which root
 * cannot otherwise provoke with file modes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "keys/internal.h"
#include "keys/keys.h"

static char root[] = "/tmp/airlock-keys-store.XXXXXX";
static char pub[4][2048];

/* ---- read_all wrapper --------------------------------------------------- */

int __real_read_all(int fd, void *buf, size_t cap, size_t *ret_len);
int __wrap_read_all(int fd, void *buf, size_t cap, size_t *ret_len);

static int inject_errno;
static const char *inject_suffix;

int
__wrap_read_all(int fd, void *buf, size_t cap, size_t *ret_len)
{
    if (inject_errno != 0) {
        char link[64], target[4096];
        ssize_t n;
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, target, sizeof(target) - 1);
        if (n > 0) {
            size_t sl = strlen(inject_suffix);
            target[n] = '\0';
            if ((size_t)n >= sl &&
                strcmp(target + n - sl, inject_suffix) == 0) {
                return -inject_errno;
            }
        }
    }
    return __real_read_all(fd, buf, cap, ret_len);
}

/* ---- helpers ------------------------------------------------------------ */

static void
rpath(char *buf, size_t size, const char *rel)
{
    snprintf(buf, size, "%s%s", root, rel);
}

static void
write_rel(const char *rel, const char *text, mode_t mode)
{
    char p[4096];
    FILE *f;

    rpath(p, sizeof(p), rel);
    (void)unlink(p);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(p, mode), 0);
}

static void
sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static void
set_env(const char *keys, const char *file, const char *dir)
{
    if (keys) {
        setenv("AIRLOCK_AUTHORIZED_KEYS", keys, 1);
    } else {
        unsetenv("AIRLOCK_AUTHORIZED_KEYS");
    }
    if (file) {
        setenv("AIRLOCK_AUTHORIZED_KEYS_FILE", file, 1);
    } else {
        unsetenv("AIRLOCK_AUTHORIZED_KEYS_FILE");
    }
    if (dir) {
        setenv("AIRLOCK_AUTHORIZED_KEYS_DIR", dir, 1);
    } else {
        unsetenv("AIRLOCK_AUTHORIZED_KEYS_DIR");
    }
}

/* Syncs from the environment; returns the number of stored keys. */
static int
sync_env(void)
{
    struct keys_config cfg;
    const char *err = NULL;
    int r;

    assert_int_equal(keys_config_from_env(&cfg, &err), 0);
    r = keys_sync(&cfg);
    keys_config_free(&cfg);
    return r;
}

static size_t
store_count(const char *user)
{
    struct keys_set s = {NULL, 0, 0};
    size_t n;
    int r = keys_store_load(user, &s);

    if (r == -ENOENT) {
        return 0;
    }
    assert_int_equal(r, 0);
    n = s.count;
    keys_set_free(&s);
    return n;
}

static bool
store_has(const char *user, const char *publine)
{
    struct keys_entry e;
    struct keys_set s = {NULL, 0, 0};
    const char *err;
    bool found;

    assert_int_equal(keys_parse_line(publine, strlen(publine), 0, &e, &err), 1);
    if (keys_store_load(user, &s) < 0) {
        keys_entry_free(&e);
        return false;
    }
    found = keys_set_find(&s, e.type, e.blob, e.blob_len) != NULL;
    keys_set_free(&s);
    keys_entry_free(&e);
    return found;
}

static void
reset_tree(void)
{
    sh("rm -rf %s/etc/airlock %s/run %s/keys", root, root, root);
    sh("mkdir -p %s/etc/airlock/authorized_keys.d %s/keys", root, root);
    sh("chmod 755 %s/etc %s/etc/airlock %s/etc/airlock/authorized_keys.d "
       "%s/keys",
       root,
       root,
       root,
       root);
    set_env(NULL, NULL, NULL);
    unsetenv("AIRLOCK_SSH_USER");
    inject_errno = 0;
}

static int
setup(void **state)
{
    (void)state;
    if (mkdtemp(root) == NULL) {
        return -1;
    }
    /* Before anything calls root_dir(), which caches it. */
    setenv("AIRLOCK_ROOT", root, 1);
    unsetenv("AIRLOCK_SSH_USER");
    unsetenv("AIRLOCK_SSH_PERMIT_USER_ENV");
    log_setup("test_keys_store", STDERR_FILENO);
    if (chmod(root, 0755) < 0) {
        return -1;
    }
    sh("mkdir -p %s/etc && chmod 755 %s/etc", root, root);
    write_rel("/etc/passwd",
              "root:x:0:0:root:/root:/bin/sh\n"
              "app:x:12345:12345::/home/app:/bin/sh\n",
              0644);
    for (int i = 0; i < 4; i++) {
        char cmd[1024], path[600];
        FILE *f;
        snprintf(cmd,
                 sizeof(cmd),
                 "ssh-keygen -q -t ed25519 -N '' -C 'k%d' -f %s/k%d "
                 "</dev/null >/dev/null 2>&1",
                 i,
                 root,
                 i);
        if (system(cmd) != 0) {
            return -1;
        }
        snprintf(path, sizeof(path), "%s/k%d.pub", root, i);
        f = fopen(path, "r");
        if (f == NULL || fgets(pub[i], sizeof(pub[i]), f) == NULL) {
            return -1;
        }
        fclose(f);
        pub[i][strcspn(pub[i], "\n")] = '\0';
    }
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    sh("rm -rf %s", root);
    return 0;
}

static int
each(void **state)
{
    (void)state;
    reset_tree();
    return 0;
}

/* ---- configuration ------------------------------------------------------ */

static void
test_keys_config_defaults_and_errors(void **state)
{
    struct keys_config cfg;
    const char *err = NULL;

    (void)state;
    set_env(NULL, NULL, NULL);
    assert_int_equal(keys_config_from_env(&cfg, &err), 0);
    assert_string_equal(cfg.user, "root");
    assert_null(cfg.env_keys);
    assert_null(cfg.file);
    assert_string_equal(cfg.dir, "/etc/airlock/authorized_keys.d");
    assert_true(cfg.dir_is_default);
    assert_false(cfg.permit_user_env);
    /* The default directory exists in the test tree: a source. */
    assert_true(keys_config_any_source(&cfg));
    keys_config_free(&cfg);

    /* A default directory that does not exist is "not configured". */
    sh("rmdir %s/etc/airlock/authorized_keys.d", root);
    assert_int_equal(keys_config_from_env(&cfg, &err), 0);
    assert_false(keys_config_any_source(&cfg));
    keys_config_free(&cfg);
    /* ... but an explicit one counts even when missing. */
    set_env(NULL, NULL, "/nonexistent/dir/");
    assert_int_equal(keys_config_from_env(&cfg, &err), 0);
    assert_string_equal(cfg.dir, "/nonexistent/dir");
    assert_true(keys_config_any_source(&cfg));
    keys_config_free(&cfg);
    /* Blank key text is not a source; an empty DIR disables it. */
    set_env(" \n\t", NULL, "");
    assert_int_equal(keys_config_from_env(&cfg, &err), 0);
    assert_null(cfg.dir);
    assert_false(keys_config_any_source(&cfg));
    keys_config_free(&cfg);
    set_env(NULL, "/missing/file", "");
    assert_int_equal(keys_config_from_env(&cfg, &err), 0);
    assert_true(keys_config_any_source(&cfg));
    keys_config_free(&cfg);

    set_env(NULL, "relative/file", NULL);
    assert_int_equal(keys_config_from_env(&cfg, &err), -EINVAL);
    assert_string_equal(
        err,
        "AIRLOCK_AUTHORIZED_KEYS_FILE must be an absolute path");
    set_env(NULL, NULL, "relative");
    assert_int_equal(keys_config_from_env(&cfg, &err), -EINVAL);
    set_env(NULL, NULL, NULL);
    setenv("AIRLOCK_SSH_USER", "bad/user", 1);
    assert_int_equal(keys_config_from_env(&cfg, &err), -EINVAL);
    assert_string_equal(err, "AIRLOCK_SSH_USER is not a valid user name");
    setenv("AIRLOCK_SSH_USER", "app", 1);
    setenv("AIRLOCK_SSH_PERMIT_USER_ENV", "maybe", 1);
    assert_int_equal(keys_config_from_env(&cfg, &err), -EINVAL);
    setenv("AIRLOCK_SSH_PERMIT_USER_ENV", "yes", 1);
    assert_int_equal(keys_config_from_env(&cfg, &err), 0);
    assert_string_equal(cfg.user, "app");
    assert_true(cfg.permit_user_env);
    keys_config_free(&cfg);
    unsetenv("AIRLOCK_SSH_USER");
    unsetenv("AIRLOCK_SSH_PERMIT_USER_ENV");
}

/* ---- sources into the store ------------------------------------------------
 */

static void
test_keys_sync_env_file_and_dir_together(void **state)
{
    char env[8192], text[4096], p[4096], users[8][KEYS_USER_MAX];
    struct keys_set s = {NULL, 0, 0};
    struct stat st;
    size_t n = 0;

    (void)state;
    snprintf(env, sizeof(env), "# from env\n%s\nssh-dss AAAA\n", pub[0]);
    snprintf(text, sizeof(text), "%s\n", pub[1]);
    write_rel("/keys/file", text, 0644);
    snprintf(text, sizeof(text), "restrict %s\n", pub[2]);
    write_rel("/etc/airlock/authorized_keys.d/root", text, 0444);
    snprintf(text, sizeof(text), "%s", pub[3]); /* no final newline */
    write_rel("/etc/airlock/authorized_keys.d/app", text, 0644);
    set_env(env, "/keys/file", NULL);

    assert_int_equal(sync_env(), 4);

    assert_int_equal(keys_store_users(users, 8, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(users[0], "app");
    assert_string_equal(users[1], "root");

    assert_int_equal(keys_store_load("root", &s), 0);
    assert_int_equal(s.count, 3);
    assert_string_equal(s.entries[0].source, "AIRLOCK_AUTHORIZED_KEYS");
    assert_int_equal(s.entries[0].line, 2);
    assert_string_equal(s.entries[0].comment, "k0");
    assert_string_equal(s.entries[1].source, "/keys/file");
    assert_int_equal(s.entries[1].line, 1);
    assert_string_equal(s.entries[2].source,
                        "/etc/airlock/authorized_keys.d/root");
    assert_true(s.entries[2].opts.restricted);
    assert_string_equal(s.entries[2].user, "root");
    keys_set_free(&s);
    assert_true(store_has("app", pub[3]));
    assert_false(store_has("app", pub[0]));

    rpath(p, sizeof(p), KEYS_STORE_DIR);
    assert_int_equal(lstat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    rpath(p, sizeof(p), KEYS_STORE_DIR "/root");
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_uid, 0);

    /* A second sync with nothing changed leaves the file alone. */
    {
        struct stat st2;
        ino_t ino = st.st_ino;
        assert_int_equal(sync_env(), 4);
        assert_int_equal(lstat(p, &st2), 0);
        assert_int_equal(st2.st_ino, ino);
    }
}

static void
test_keys_sync_custom_user_and_duplicates_fold(void **state)
{
    char env[8192], text[4096];
    struct keys_set s = {NULL, 0, 0};

    (void)state;
    setenv("AIRLOCK_SSH_USER", "app", 1);
    snprintf(env, sizeof(env), "%s\n%s\nno-pty %s\n", pub[0], pub[1], pub[0]);
    snprintf(text, sizeof(text), "%s\n", pub[1]);
    write_rel("/etc/airlock/authorized_keys.d/app", text, 0644);
    set_env(env, NULL, NULL);
    assert_int_equal(sync_env(), 2);
    assert_int_equal(keys_store_load("app", &s), 0);
    assert_int_equal(s.count, 2);
    /* The first occurrence wins, options and all. */
    assert_int_equal(s.entries[0].line, 1);
    assert_false(s.entries[0].opts.no_pty);
    keys_set_free(&s);
    assert_int_equal(store_count("root"), 0);
    unsetenv("AIRLOCK_SSH_USER");
}

static void
test_keys_store_load_refuses_symlinks_and_bad_modes(void **state)
{
    char env[4096], p[4096], q[4096];
    struct keys_set s = {NULL, 0, 0};

    (void)state;
    snprintf(env, sizeof(env), "%s\n", pub[0]);
    set_env(env, NULL, NULL);
    assert_int_equal(sync_env(), 1);
    assert_int_equal(store_count("root"), 1);
    assert_int_equal(keys_store_load("nobody", &s), -ENOENT);
    assert_int_equal(keys_store_load("../etc/passwd", &s), -EINVAL);

    rpath(p, sizeof(p), KEYS_STORE_DIR "/root");
    assert_int_equal(chmod(p, 0644), 0);
    assert_int_equal(keys_store_load("root", &s), -EPERM);
    assert_int_equal(chmod(p, 0600), 0);

    rpath(q, sizeof(q), KEYS_STORE_DIR "/root.real");
    assert_int_equal(rename(p, q), 0);
    assert_int_equal(symlink("root.real", p), 0);
    assert_int_equal(keys_store_load("root", &s), -EPERM);
    /* The next sync replaces the symlink, never writes through it. */
    assert_int_equal(sync_env(), 1);
    {
        struct stat st;
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISREG(st.st_mode));
    }
    assert_int_equal(store_count("root"), 1);
}

static void
test_keys_removed_key_leaves_the_store(void **state)
{
    char text[8192], p[4096];

    (void)state;
    snprintf(text, sizeof(text), "%s\n%s\n", pub[0], pub[1]);
    write_rel("/etc/airlock/authorized_keys.d/root", text, 0644);
    snprintf(text, sizeof(text), "%s\n", pub[2]);
    write_rel("/etc/airlock/authorized_keys.d/app", text, 0644);
    assert_int_equal(sync_env(), 3);
    assert_true(store_has("root", pub[1]));

    snprintf(text, sizeof(text), "%s\n", pub[0]);
    write_rel("/etc/airlock/authorized_keys.d/root", text, 0644);
    assert_int_equal(sync_env(), 2);
    assert_true(store_has("root", pub[0]));
    assert_false(store_has("root", pub[1]));

    /* A deleted source takes its keys, and the user's store file. */
    rpath(p, sizeof(p), "/etc/airlock/authorized_keys.d/app");
    assert_int_equal(unlink(p), 0);
    assert_int_equal(sync_env(), 1);
    assert_int_equal(store_count("app"), 0);
    rpath(p, sizeof(p), KEYS_STORE_DIR "/app");
    assert_int_equal(access(p, F_OK), -1);
}

static void
test_keys_unreadable_source_grants_nothing(void **state)
{
    char text[8192];

    (void)state;
    snprintf(text, sizeof(text), "%s\n", pub[0]);
    write_rel("/keys/file", text, 0644);
    snprintf(text, sizeof(text), "%s\n", pub[1]);
    write_rel("/etc/airlock/authorized_keys.d/root", text, 0644);
    set_env(NULL, "/keys/file", NULL);
    assert_int_equal(sync_env(), 2);

    /* EIO on the file: its key is withdrawn (fail closed), the directory
     * is still read. */
    inject_errno = EIO;
    inject_suffix = "/keys/file";
    snprintf(text, sizeof(text), "%s\n", pub[2]);
    write_rel("/etc/airlock/authorized_keys.d/root", text, 0644);
    assert_int_equal(sync_env(), 1);
    assert_false(store_has("root", pub[0]));
    assert_true(store_has("root", pub[2]));
    assert_false(store_has("root", pub[1]));

    /* EACCES on a directory entry: same. */
    inject_errno = EACCES;
    inject_suffix = "/authorized_keys.d/root";
    assert_int_equal(sync_env(), 1);
    assert_true(store_has("root", pub[0]));
    assert_false(store_has("root", pub[2]));
    inject_errno = 0;

    /* A file replaced by a directory counts as unreadable too. */
    sh("rm %s/keys/file && mkdir %s/keys/file", root, root);
    assert_int_equal(sync_env(), 1);
    assert_false(store_has("root", pub[0]));
    assert_true(store_has("root", pub[2]));
    sh("rmdir %s/keys/file", root);
    assert_int_equal(sync_env(), 1);
}

static void
test_keys_strict_modes_refuse_unsafe_sources(void **state)
{
    char text[8192];

    (void)state;
    snprintf(text, sizeof(text), "%s\n", pub[0]);
    write_rel("/keys/file", text, 0644);
    set_env(NULL, "/keys/file", "");
    assert_int_equal(sync_env(), 1);

    /* Owned by someone else than root or the user (root here). */
    sh("chown 12345 %s/keys/file", root);
    assert_int_equal(sync_env(), 0);
    assert_int_equal(store_count("root"), 0);
    sh("chown 0 %s/keys/file", root);
    assert_int_equal(sync_env(), 1);
    /* Group- or world-writable. */
    sh("chmod 0664 %s/keys/file", root);
    assert_int_equal(sync_env(), 0);
    sh("chmod 0646 %s/keys/file", root);
    assert_int_equal(sync_env(), 0);
    sh("chmod 0444 %s/keys/file", root);
    assert_int_equal(sync_env(), 1);
    /* A writable parent directory (not sticky). */
    sh("chmod 0777 %s/keys", root);
    assert_int_equal(sync_env(), 0);
    sh("chmod 1777 %s/keys", root);
    assert_int_equal(sync_env(), 1);
    sh("chmod 0755 %s/keys", root);

    /* In the directory: app's file may be owned by app (uid 12345 in the
     * tree's /etc/passwd), root's may not. */
    set_env(NULL, NULL, NULL);
    write_rel("/etc/airlock/authorized_keys.d/app", text, 0644);
    write_rel("/etc/airlock/authorized_keys.d/root", text, 0644);
    sh("chown 12345 %s/etc/airlock/authorized_keys.d/app "
       "%s/etc/airlock/authorized_keys.d/root",
       root,
       root);
    assert_int_equal(sync_env(), 1);
    assert_int_equal(store_count("app"), 1);
    assert_int_equal(store_count("root"), 0);
    /* A group-writable key directory is refused as a whole. */
    sh("chmod 0775 %s/etc/airlock/authorized_keys.d", root);
    assert_int_equal(sync_env(), 0);
}

static void
test_keys_dir_follows_kubernetes_links_only_inside(void **state)
{
    char text[8192];
    const char *d = "/etc/airlock/authorized_keys.d";

    (void)state;
    sh("mkdir %s%s/..2026_01_01_00_00_00.1", root, d);
    snprintf(text, sizeof(text), "%s\n", pub[0]);
    write_rel("/etc/airlock/authorized_keys.d/..2026_01_01_00_00_00.1/root",
              text,
              0644);
    sh("cd %s%s && ln -s ..2026_01_01_00_00_00.1 ..data && "
       "ln -s ..data/root root",
       root,
       d);
    /* A link out of the directory is refused. */
    snprintf(text, sizeof(text), "%s\n", pub[1]);
    write_rel("/keys/outside", text, 0644);
    sh("ln -s %s/keys/outside %s%s/app", root, root, d);
    assert_int_equal(sync_env(), 1);
    assert_true(store_has("root", pub[0]));
    assert_int_equal(store_count("app"), 0);
    /* Names that are not users are skipped. */
    write_rel("/etc/airlock/authorized_keys.d/bad name", text, 0644);
    assert_int_equal(sync_env(), 1);
}

static void
test_keys_oversized_source_is_refused(void **state)
{
    size_t len = KEYS_MAX_FILE + 10;
    char *big = malloc(len + 1);
    char p[4096];
    FILE *f;

    (void)state;
    assert_non_null(big);
    memset(big, '#', len);
    big[len] = '\0';
    big[0] = '#';
    rpath(p, sizeof(p), "/keys/big");
    f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", pub[0]);
    fwrite(big, 1, len, f);
    fclose(f);
    set_env(NULL, "/keys/big", "");
    assert_int_equal(sync_env(), 0);
    free(big);
}

static void
test_keys_collect_gives_the_effective_set(void **state)
{
    char env[8192];
    struct keys_config cfg;
    struct keys_set s = {NULL, 0, 0};
    const char *err;

    (void)state;
    snprintf(env, sizeof(env), "%s\n%s\n", pub[1], pub[1]);
    write_rel("/etc/airlock/authorized_keys.d/app", env, 0644);
    set_env(env, NULL, NULL);
    assert_int_equal(keys_config_from_env(&cfg, &err), 0);
    assert_int_equal(keys_collect(&cfg, &s), 0);
    assert_int_equal(s.count, 2);
    assert_string_equal(s.entries[0].user, "app");
    assert_string_equal(s.entries[1].user, "root");
    keys_set_free(&s);
    keys_config_free(&cfg);
    /* collect writes nothing. */
    assert_int_equal(store_count("root"), 0);
}

static void
test_keys_sync_removes_stale_store_files(void **state)
{
    char env[4096], p[4096];

    (void)state;
    snprintf(env, sizeof(env), "%s\n", pub[0]);
    set_env(env, NULL, NULL);
    assert_int_equal(sync_env(), 1);
    /* A store file that no longer parses, of a user without keys. */
    write_rel(KEYS_STORE_DIR "/ghost", "garbage\n", 0600);
    assert_int_equal(sync_env(), 1);
    rpath(p, sizeof(p), KEYS_STORE_DIR "/ghost");
    assert_int_equal(access(p, F_OK), -1);
    assert_int_equal(store_count("root"), 1);
}

static void
test_keys_longest_line_still_loads_from_the_store(void **state)
{
    char *line = malloc(KEYS_MAX_LINE + 2);
    int n;

    (void)state;
    assert_non_null(line);
    /* Exactly at the limit; its canonical options are 7 bytes longer. */
    n = snprintf(line,
                 KEYS_MAX_LINE + 2,
                 "expiry-time=\"20300101\" %s ",
                 pub[0]);
    memset(line + n, 'c', KEYS_MAX_LINE - (size_t)n);
    line[KEYS_MAX_LINE] = '\n';
    line[KEYS_MAX_LINE + 1] = '\0';
    set_env(line, NULL, NULL);
    assert_int_equal(sync_env(), 1);
    assert_int_equal(store_count("root"), 1);
    free(line);
}

/* A tab or an escape byte is legal inside a quoted option; the store must
 * keep it byte for byte, or the server would force another command than
 * the one authorized (found by fuzz_keys_store: the writer turned every
 * control byte of the key line into '?'). */
static void
test_keys_store_keeps_control_bytes_in_options(void **state)
{
    static const char cmd[] = "printf 'a\tb\033[0m\001'";
    char env[4096];
    struct keys_set s = {NULL, 0, 0};

    (void)state;
    snprintf(env, sizeof(env), "command=\"%s\" %s\n", cmd, pub[0]);
    set_env(env, NULL, NULL);
    assert_int_equal(sync_env(), 1);
    assert_int_equal(keys_store_load("root", &s), 0);
    assert_int_equal(s.count, 1);
    assert_non_null(s.entries[0].opts.force_command);
    assert_string_equal(s.entries[0].opts.force_command, cmd);
    keys_set_free(&s);
}

/* ---- watcher --------------------------------------------------------------
 */

/* Polls the watcher like a server loop would until cond holds or ms pass;
 * returns the elapsed milliseconds or -1. */
static long
watch_until(struct keys_watch *w, bool (*cond)(void), long ms)
{
    uint64_t start = now_ms();

    for (;;) {
        uint64_t t = now_ms();
        int timeout = keys_watch_timeout(w);
        struct pollfd p = {keys_watch_fd(w), POLLIN, 0};
        if (cond()) {
            return (long)(t - start);
        }
        if ((long)(t - start) > ms) {
            return -1;
        }
        if (timeout < 0 || timeout > 50) {
            timeout = 50;
        }
        (void)poll(&p, 1, timeout);
        (void)keys_watch_handle(w);
    }
}

static bool
has_key2(void)
{
    return store_has("root", pub[2]);
}

static bool
lost_key0(void)
{
    return !store_has("root", pub[0]);
}

static bool
file_has_key3(void)
{
    return store_has("root", pub[3]);
}

static void
test_keys_watch_rebuilds_within_one_second(void **state)
{
    char text[8192], p[4096], q[4096];
    struct keys_config cfg;
    struct keys_watch *w;
    const char *err;
    long ms;

    (void)state;
    snprintf(text, sizeof(text), "%s\n", pub[0]);
    write_rel("/etc/airlock/authorized_keys.d/root", text, 0644);
    set_env(NULL, "/keys/file", NULL);
    assert_int_equal(keys_config_from_env(&cfg, &err), 0);
    w = keys_watch_new(&cfg);
    assert_non_null(w);
    assert_true(keys_watch_fd(w) >= 0);
    assert_true(store_has("root", pub[0]));
    /* No event, nothing due: nothing changes. */
    assert_int_equal(keys_watch_handle(w), 0);

    /* A new file in the directory. */
    snprintf(text, sizeof(text), "%s\n", pub[2]);
    write_rel("/etc/airlock/authorized_keys.d/root.new", text, 0644);
    rpath(p, sizeof(p), "/etc/airlock/authorized_keys.d/root.new");
    rpath(q, sizeof(q), "/etc/airlock/authorized_keys.d/root");
    assert_int_equal(rename(p, q), 0);
    ms = watch_until(w, has_key2, 1000);
    assert_true(ms >= 0);
    assert_true(lost_key0());

    /* The _FILE appears (its directory is watched). */
    snprintf(text, sizeof(text), "%s\n", pub[3]);
    write_rel("/keys/file", text, 0644);
    ms = watch_until(w, file_has_key3, 1000);
    assert_true(ms >= 0);

    /* Nothing pending: no timeout unless a retry is due. */
    (void)keys_watch_free(w);
    keys_config_free(&cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_keys_config_defaults_and_errors, each),
        cmocka_unit_test_setup(test_keys_sync_env_file_and_dir_together, each),
        cmocka_unit_test_setup(test_keys_sync_custom_user_and_duplicates_fold,
                               each),
        cmocka_unit_test_setup(
            test_keys_store_load_refuses_symlinks_and_bad_modes,
            each),
        cmocka_unit_test_setup(test_keys_removed_key_leaves_the_store, each),
        cmocka_unit_test_setup(test_keys_unreadable_source_grants_nothing,
                               each),
        cmocka_unit_test_setup(test_keys_strict_modes_refuse_unsafe_sources,
                               each),
        cmocka_unit_test_setup(
            test_keys_dir_follows_kubernetes_links_only_inside,
            each),
        cmocka_unit_test_setup(test_keys_oversized_source_is_refused, each),
        cmocka_unit_test_setup(test_keys_collect_gives_the_effective_set, each),
        cmocka_unit_test_setup(test_keys_sync_removes_stale_store_files, each),
        cmocka_unit_test_setup(
            test_keys_longest_line_still_loads_from_the_store,
            each),
        cmocka_unit_test_setup(test_keys_store_keeps_control_bytes_in_options,
                               each),
        cmocka_unit_test_setup(test_keys_watch_rebuilds_within_one_second,
                               each),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
