/* Unit tests for src/init/environ: shell quoting round-trip through real
 * shells, JSON escaping, the directory mirror, secrets, reading back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/safeio.h"
#include "init/environ.h"

struct fixture {
    char root[64];
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL) {
        return -1;
    }
    strcpy(f->root, "/tmp/airlock-environ.XXXXXX");
    if (mkdtemp(f->root) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    /* The path is our own mkdtemp result: no quoting issue. */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
    if (system(cmd) != 0) {
        return -1;
    }
    free(f);
    return 0;
}

static void
path_in(const struct fixture *f, char *buf, size_t size, const char *rel)
{
    int n = snprintf(buf, size, "%s%s", f->root, rel);
    assert_true(n > 0 && (size_t)n < size);
}

/* Reads a whole file into a malloc'ed, NUL-terminated buffer. */
static char *
slurp(const char *path, size_t *ret_len)
{
    size_t cap = 8 * 1024 * 1024, len = 0;
    char *buf = malloc(cap + 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    assert_non_null(buf);
    assert_true(fd >= 0);
    assert_int_equal(read_all(fd, buf, cap, &len), 0);
    close(fd);
    buf[len] = '\0';
    if (ret_len != NULL) {
        *ret_len = len;
    }
    return buf;
}

static void
spit(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write_all(fd, data, len), 0);
    close(fd);
}

static mode_t
mode_of(const char *path)
{
    struct stat st;

    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

static bool
exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Runs argv with stdout into a pipe; returns the bytes it printed (malloc'ed)
 * and asserts it exited 0. */
static char *
run_capture(char *const argv[], size_t *ret_len)
{
    int p[2];
    pid_t pid;
    int st = 0;
    size_t len = 0, cap = 4 * 1024 * 1024;
    char *buf = malloc(cap + 1);

    assert_non_null(buf);
    assert_int_equal(pipe(p), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        close(p[0]);
        close(p[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    assert_int_equal(read_all(p[0], buf, cap, &len), 0);
    close(p[0]);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    buf[len] = '\0';
    *ret_len = len;
    return buf;
}

/* Sources the .sh with the given shell and prints NAME's value exactly. */
static char *
value_seen_by_shell(const char *shell,
                    const char *sh_file,
                    const char *name,
                    size_t *ret_len)
{
    char script[128];
    char *argv[] = {(char *)shell, "-c", script, "sh", (char *)sh_file, NULL};

    snprintf(script,
             sizeof(script),
             "set -e; . \"$1\"; printf %%s \"${%s?unset}\"",
             name);
    return run_capture(argv, ret_len);
}

static char *
make_long_value(size_t len)
{
    static const char alphabet[] = "ab'c\"d$e`f\\g\nh\xff";
    char *v = malloc(len + 1);

    assert_non_null(v);
    for (size_t i = 0; i < len; i++) {
        v[i] = alphabet[i % (sizeof(alphabet) - 1)];
    }
    v[len] = '\0';
    return v;
}

static void
test_sh_round_trips_nasty_values_through_sh_and_bash(void **state)
{
    struct fixture *f = *state;
    char *long_value = make_long_value(100 * 1024);
    char *long_var = malloc(strlen(long_value) + 16);
    static const char *const nasty[] = {
        "A_EMPTY=",
        "B_NEWLINES=line1\nline2\n\n",
        "C_QUOTES=it's \"quoted\" '' '\\''",
        "D_DOLLAR=$HOME ${PATH} $(id) `id` $((1+1))",
        "E_BACKSLASH=back\\slash\\n\\\\ \\",
        "F_BYTES=\xff\xfe\x80 caf\xc3\xa9 \xed\xa0\x80",
        "G_CTRL=\t\r\x01\x1b[0m !bang *glob? ~tilde #hash ;semi &amp |pipe",
        "H_LEADING_DASH=-n -e",
    };
    char *vars[sizeof(nasty) / sizeof(nasty[0]) + 2];
    const char *shells[] = {"/bin/sh", "/bin/bash"};
    char sh_file[PATH_MAX];
    char *buf = NULL;
    size_t n = 0, len = 0;

    assert_non_null(long_var);
    for (; n < sizeof(nasty) / sizeof(nasty[0]); n++) {
        vars[n] = (char *)nasty[n];
    }
    sprintf(long_var, "I_LONG=%s", long_value);
    vars[n++] = long_var;
    vars[n] = NULL;

    assert_int_equal(environ_format_sh(vars, n, &buf, &len), 0);
    path_in(f, sh_file, sizeof(sh_file), "/env.sh");
    spit(sh_file, buf, len);
    free(buf);

    for (size_t s = 0; s < 2; s++) {
        if (access(shells[s], X_OK) != 0) {
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            char name[32];
            const char *eq = strchr(vars[i], '=');
            size_t got_len = 0;
            char *got;

            snprintf(name, sizeof(name), "%.*s", (int)(eq - vars[i]), vars[i]);
            got = value_seen_by_shell(shells[s], sh_file, name, &got_len);
            if (got_len != strlen(eq + 1) ||
                memcmp(got, eq + 1, got_len) != 0) {
                fail_msg("%s: %s differs (%zu bytes, expected %zu)",
                         shells[s],
                         name,
                         got_len,
                         strlen(eq + 1));
            }
            free(got);
        }
    }
    free(long_var);
    free(long_value);
}

static void
test_sh_quotes_single_quote_as_close_escape_reopen(void **state)
{
    char *vars[] = {"Q=a'b", NULL};
    char *buf = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(environ_format_sh(vars, 1, &buf, &len), 0);
    assert_string_equal(buf, "export Q='a'\\''b'\n");
    assert_int_equal(len, strlen(buf));
    free(buf);
}

static void
test_sh_skips_non_identifiers_and_per_user_names(void **state)
{
    char *vars[] = {"1ABC=x",
                    "FOO.BAR=x",
                    "HOME=/root",
                    "SHELL=/bin/bash",
                    "UID=0",
                    "OK_1=y",
                    "WITH-DASH=x",
                    "_LEADING=z",
                    NULL};
    char *buf = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(environ_format_sh(vars, 8, &buf, &len), 0);
    assert_string_equal(buf, "export OK_1='y'\nexport _LEADING='z'\n");
    free(buf);
}

static char *
json_of(char *const vars[], size_t n)
{
    char *buf = NULL;
    size_t len = 0;

    assert_int_equal(environ_format_json(vars, n, &buf, &len), 0);
    assert_int_equal(len, strlen(buf));
    return buf;
}

static void
test_json_escapes_quotes_backslashes_and_controls(void **state)
{
    char *vars[] = {"A=q\"b\\s\n\t\r\b\f\x01\x1f\x7f/", "B=", NULL};
    char *buf = json_of(vars, 2);

    (void)state;
    assert_string_equal(buf,
                        "{\"A\":\"q\\\"b\\\\s\\n\\t\\r\\b\\f\\u0001\\u001f"
                        "\x7f/\",\"B\":\"\"}\n");
    free(buf);
}

static void
test_json_keeps_utf8_and_maps_invalid_bytes_to_dcxx(void **state)
{
    char *vars[] = {/* é, €, 😀 (2, 3, 4 bytes) */
                    "U=\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
                    /* stray 0xff, overlong '/', UTF-16 surrogate, above
                     * U+10FFFF, truncated 3-byte sequence at the end */
                    "X=\xff\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82",
                    NULL};
    char *buf = json_of(vars, 2);

    (void)state;
    assert_string_equal(buf,
                        "{\"U\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
                        "\"X\":\"\\udcff\\udcc0\\udcaf\\udced\\udca0\\udc80"
                        "\\udcf4\\udc90\\udc80\\udc80\\udce2\\udc82\"}\n");
    free(buf);
}

/* The documented way back to bytes: Python's json + surrogateescape. */
static void
test_json_round_trips_bytes_through_python(void **state)
{
    struct fixture *f = *state;
    char *vars[] = {"K\xff=v\xff\xfe\"\n\xc3\xa9\xed\xa0\x80\x01 end", NULL};
    char json_file[PATH_MAX];
    char *argv[] = {
        "/usr/bin/python3",
        "-c",
        "import json,sys\n"
        "d=json.load(open(sys.argv[1]))\n"
        "for k,v in d.items():\n"
        "  sys.stdout.buffer.write(k.encode('utf-8','surrogateescape')"
        "+b'='+v.encode('utf-8','surrogateescape'))\n",
        json_file,
        NULL};
    char *buf, *got;
    size_t len = 0;

    if (access(argv[0], X_OK) != 0) {
        skip();
    }
    buf = json_of(vars, 1);
    path_in(f, json_file, sizeof(json_file), "/env.json");
    spit(json_file, buf, strlen(buf));
    free(buf);
    got = run_capture(argv, &len);
    assert_int_equal(len, strlen(vars[0]));
    assert_memory_equal(got, vars[0], len);
    free(got);
}

static void
test_names_secret_and_file_safe(void **state)
{
    (void)state;
    assert_true(environ_name_is_secret("AIRLOCK_AUTHORIZED_KEYS", 23));
    assert_true(environ_name_is_secret("AIRLOCK_AUTHORIZED_KEYS_FILE", 28));
    assert_true(environ_name_is_secret("AIRLOCK_SSH_HOST_KEY", 20));
    assert_false(environ_name_is_secret("AIRLOCK_SSH_PORT", 16));
    assert_false(environ_name_is_secret("AIRLOCK_AUTHORIZED", 18));
    assert_false(environ_name_is_file_safe("", 0));
    assert_false(environ_name_is_file_safe(".", 1));
    assert_false(environ_name_is_file_safe("..", 2));
    assert_false(environ_name_is_file_safe("a/b", 3));
    assert_false(environ_name_is_file_safe("...", 3));
    assert_false(environ_name_is_file_safe(".hidden", 7));
    assert_true(environ_name_is_file_safe("a.b", 3));
}

static void
test_write_mirrors_env_with_modes_and_removes_stale(void **state)
{
    struct fixture *f = *state;
    char *first[] = {"A=1", "B=two\n", "FOO.BAR=dotted", NULL};
    char *second[] = {"A=3", NULL};
    char dir[PATH_MAX], a[PATH_MAX], b[PATH_MAX], dotted[PATH_MAX];
    char sh[PATH_MAX], json[PATH_MAX], stray[PATH_MAX];
    char *buf;
    size_t len = 0;

    path_in(f, dir, sizeof(dir), "/etc/container_environment");
    path_in(f, a, sizeof(a), "/etc/container_environment/A");
    path_in(f, b, sizeof(b), "/etc/container_environment/B");
    path_in(f, dotted, sizeof(dotted), "/etc/container_environment/FOO.BAR");
    path_in(f, stray, sizeof(stray), "/etc/container_environment/STRAY");
    path_in(f, sh, sizeof(sh), "/etc/container_environment.sh");
    path_in(f, json, sizeof(json), "/etc/container_environment.json");

    /* An image that shipped the directory world-readable, with a stale
     * variable from an earlier run. */
    assert_int_equal(mkdir_parents(dir, 0755), 0);
    spit(stray, "old", 3);

    assert_int_equal(environ_write_in(f->root, first), 0);
    assert_int_equal(mode_of(dir), 0700);
    assert_int_equal(mode_of(a), 0600);
    assert_int_equal(mode_of(sh), 0600);
    assert_int_equal(mode_of(json), 0600);
    assert_false(exists(stray));
    buf = slurp(b, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "two\n", 4);
    free(buf);
    buf = slurp(dotted, NULL);
    assert_string_equal(buf, "dotted");
    free(buf);
    buf = slurp(sh, NULL);
    assert_string_equal(buf, "export A='1'\nexport B='two\n'\n");
    free(buf);
    buf = slurp(json, NULL);
    assert_string_equal(
        buf,
        "{\"A\":\"1\",\"B\":\"two\\n\",\"FOO.BAR\":\"dotted\"}\n");
    free(buf);

    assert_int_equal(environ_write_in(f->root, second), 0);
    assert_false(exists(b));
    assert_false(exists(dotted));
    buf = slurp(a, NULL);
    assert_string_equal(buf, "3");
    free(buf);
    buf = slurp(sh, NULL);
    assert_string_equal(buf, "export A='3'\n");
    free(buf);
}

static void
test_write_leaves_out_secrets(void **state)
{
    struct fixture *f = *state;
    char *env[] = {"AIRLOCK_AUTHORIZED_KEYS=ssh-ed25519 AAAAsecret1 me",
                   "AIRLOCK_AUTHORIZED_KEYS_FILE=/run/secrets/keys",
                   "AIRLOCK_SSH_HOST_KEY=-----BEGIN secret2",
                   "AIRLOCK_SSH_PORT=2222",
                   NULL};
    char p[PATH_MAX];
    char *buf;

    assert_int_equal(environ_write_in(f->root, env), 0);
    path_in(f,
            p,
            sizeof(p),
            "/etc/container_environment/AIRLOCK_AUTHORIZED_KEYS");
    assert_false(exists(p));
    path_in(f,
            p,
            sizeof(p),
            "/etc/container_environment/AIRLOCK_AUTHORIZED_KEYS_FILE");
    assert_false(exists(p));
    path_in(f, p, sizeof(p), "/etc/container_environment/AIRLOCK_SSH_HOST_KEY");
    assert_false(exists(p));
    path_in(f, p, sizeof(p), "/etc/container_environment/AIRLOCK_SSH_PORT");
    assert_true(exists(p));
    path_in(f, p, sizeof(p), "/etc/container_environment.sh");
    buf = slurp(p, NULL);
    assert_null(strstr(buf, "secret"));
    assert_null(strstr(buf, "AUTHORIZED"));
    assert_non_null(strstr(buf, "AIRLOCK_SSH_PORT"));
    free(buf);
    path_in(f, p, sizeof(p), "/etc/container_environment.json");
    buf = slurp(p, NULL);
    assert_null(strstr(buf, "secret"));
    assert_null(strstr(buf, "AUTHORIZED"));
    free(buf);
}

static void
test_write_takes_first_of_duplicate_names(void **state)
{
    struct fixture *f = *state;
    char *env[] = {"DUP=first", "Z=z", "DUP=second", "NOEQUALS", NULL};
    char p[PATH_MAX];
    char *buf;

    assert_int_equal(environ_write_in(f->root, env), 0);
    path_in(f, p, sizeof(p), "/etc/container_environment/DUP");
    buf = slurp(p, NULL);
    assert_string_equal(buf, "first");
    free(buf);
    path_in(f, p, sizeof(p), "/etc/container_environment/NOEQUALS");
    assert_false(exists(p));
}

static void
test_write_refuses_symlinked_directory(void **state)
{
    struct fixture *f = *state;
    char *env[] = {"A=1", NULL};
    char etc[PATH_MAX], link[PATH_MAX], target[PATH_MAX];

    path_in(f, etc, sizeof(etc), "/etc");
    path_in(f, link, sizeof(link), "/etc/container_environment");
    path_in(f, target, sizeof(target), "/elsewhere");
    assert_int_equal(mkdir(etc, 0755), 0);
    assert_int_equal(mkdir(target, 0755), 0);
    assert_int_equal(symlink(target, link), 0);
    assert_true(environ_write_in(f->root, env) < 0);
}

static void
test_write_keeps_group_of_shared_export_file(void **state)
{
    struct fixture *f = *state;
    char *env[] = {"A=1", NULL};
    char etc[PATH_MAX], sh[PATH_MAX];
    struct stat st;

    if (geteuid() != 0) {
        skip();
    }
    path_in(f, etc, sizeof(etc), "/etc");
    path_in(f, sh, sizeof(sh), "/etc/container_environment.sh");
    assert_int_equal(mkdir(etc, 0755), 0);
    spit(sh, "", 0);
    assert_int_equal(chown(sh, 0, 4321), 0);
    assert_int_equal(chmod(sh, 0640), 0);
    assert_int_equal(environ_write_in(f->root, env), 0);
    assert_int_equal(lstat(sh, &st), 0);
    assert_int_equal(st.st_gid, 4321);
    assert_int_equal(st.st_mode & 07777, 0640);
}

static const char *
find_var(char **envp, const char *name)
{
    size_t nlen = strlen(name);

    for (size_t i = 0; envp[i] != NULL; i++) {
        if (strncmp(envp[i], name, nlen) == 0 && envp[i][nlen] == '=') {
            return envp[i] + nlen + 1;
        }
    }
    return NULL;
}

static void
test_load_sees_changes_made_by_startup_scripts(void **state)
{
    struct fixture *f = *state;
    char *orig[] = {"KEEP=exact\n",
                    "CHANGED=old",
                    "GONE=bye",
                    "AIRLOCK_AUTHORIZED_KEYS=ssh-ed25519 AAAA k",
                    "PATH=/usr/bin:/bin",
                    NULL};
    char p[PATH_MAX];
    char **envp = NULL;
    char *buf;
    int n;

    assert_int_equal(environ_write_in(f->root, orig), 0);
    /* What an init.d script does. */
    path_in(f, p, sizeof(p), "/etc/container_environment/CHANGED");
    spit(p, "new\n", 4);
    path_in(f, p, sizeof(p), "/etc/container_environment/NEWVAR");
    spit(p, "it's new\n\n", 10);
    path_in(f, p, sizeof(p), "/etc/container_environment/GONE");
    assert_int_equal(unlink(p), 0);

    n = environ_load_in(f->root, orig, &envp);
    assert_int_equal(n, 5);
    assert_non_null(envp);
    assert_null(envp[n]);
    assert_string_equal(find_var(envp, "KEEP"), "exact\n");
    assert_string_equal(find_var(envp, "CHANGED"), "new");
    /* Only one trailing newline goes, as in phusion's my_init. */
    assert_string_equal(find_var(envp, "NEWVAR"), "it's new\n");
    assert_null(find_var(envp, "GONE"));
    assert_string_equal(find_var(envp, "PATH"), "/usr/bin:/bin");
    assert_string_equal(find_var(envp, "AIRLOCK_AUTHORIZED_KEYS"),
                        "ssh-ed25519 AAAA k");

    path_in(f, p, sizeof(p), "/etc/container_environment.sh");
    buf = slurp(p, NULL);
    assert_string_equal(buf,
                        "export CHANGED='new'\n"
                        "export KEEP='exact\n'\n"
                        "export NEWVAR='it'\\''s new\n'\n"
                        "export PATH='/usr/bin:/bin'\n");
    free(buf);
    path_in(f, p, sizeof(p), "/etc/container_environment.json");
    buf = slurp(p, NULL);
    assert_null(strstr(buf, "AUTHORIZED"));
    assert_non_null(strstr(buf, "\"NEWVAR\":\"it's new\\n\""));
    free(buf);
    envp = environ_free(envp);
    assert_null(envp);
}

static void
test_load_skips_unusable_entries(void **state)
{
    struct fixture *f = *state;
    char *orig[] = {"A=1", NULL};
    char p[PATH_MAX], big[PATH_MAX];
    char **envp = NULL;
    char *huge;
    int n;

    assert_int_equal(environ_write_in(f->root, orig), 0);
    path_in(f, p, sizeof(p), "/etc/container_environment/SUBDIR");
    assert_int_equal(mkdir(p, 0700), 0);
    path_in(f, p, sizeof(p), "/etc/container_environment/LINK");
    assert_int_equal(symlink("/etc/passwd", p), 0);
    path_in(f, p, sizeof(p), "/etc/container_environment/NUL");
    spit(p, "a\0b", 3);
    path_in(f, p, sizeof(p), "/etc/container_environment/X=Y");
    spit(p, "eq", 2);
    path_in(f, p, sizeof(p), "/etc/container_environment/AIRLOCK_SSH_HOST_KEY");
    spit(p, "planted", 7);
    huge = make_long_value(ENVIRON_MAX_STRING);
    path_in(f, big, sizeof(big), "/etc/container_environment/HUGE");
    spit(big, huge, strlen(huge));
    free(huge);

    n = environ_load_in(f->root, orig, &envp);
    assert_int_equal(n, 1);
    assert_string_equal(envp[0], "A=1");
    assert_null(envp[1]);
    environ_free(envp);
}

static void
test_load_without_directory_fails_cleanly(void **state)
{
    struct fixture *f = *state;
    char **envp = NULL;

    assert_int_equal(environ_load_in(f->root, NULL, &envp), -ENOENT);
    assert_null(envp);
    assert_null(environ_free(NULL));
}

/* environ_is_current_in answers "would a write change nothing?": true
 * right after a write of the same environment, false for every kind of
 * difference a write would repair, and false without reading past the
 * limits. */
static void
test_is_current_only_when_a_write_would_change_nothing(void **state)
{
    struct fixture *f = *state;
    char *env[] = {"A=1", "B=two", "AIRLOCK_SSH_HOST_KEY=secret", NULL};
    char *other[] = {"A=1", "B=three", NULL};
    char *more[] = {"A=1", "B=two", "C=3", NULL};
    char a[PATH_MAX], stray[PATH_MAX], sh[PATH_MAX], json[PATH_MAX];
    char dir[PATH_MAX];

    path_in(f, dir, sizeof(dir), "/etc/container_environment");
    path_in(f, a, sizeof(a), "/etc/container_environment/A");
    path_in(f, stray, sizeof(stray), "/etc/container_environment/STRAY");
    path_in(f, sh, sizeof(sh), "/etc/container_environment.sh");
    path_in(f, json, sizeof(json), "/etc/container_environment.json");

    /* Nothing written yet. */
    assert_false(environ_is_current_in(f->root, env, 64, 16384));
    assert_int_equal(environ_write_in(f->root, env), 0);
    assert_true(environ_is_current_in(f->root, env, 64, 16384));
    /* Another value, one variable more: a write would change files. */
    assert_false(environ_is_current_in(f->root, other, 64, 16384));
    assert_false(environ_is_current_in(f->root, more, 64, 16384));
    /* Beyond the limits it does not look at all. */
    assert_false(environ_is_current_in(f->root, env, 1, 16384));
    assert_false(environ_is_current_in(f->root, env, 64, 4));

    /* A value edited in place (same size), a stale file, a wider mode,
     * an edited export file: each is repaired by the next write. */
    spit(a, "9", 1);
    assert_false(environ_is_current_in(f->root, env, 64, 16384));
    assert_int_equal(environ_write_in(f->root, env), 0);
    spit(stray, "x", 1);
    assert_false(environ_is_current_in(f->root, env, 64, 16384));
    assert_int_equal(environ_write_in(f->root, env), 0);
    assert_int_equal(chmod(a, 0644), 0);
    assert_false(environ_is_current_in(f->root, env, 64, 16384));
    assert_int_equal(environ_write_in(f->root, env), 0);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_false(environ_is_current_in(f->root, env, 64, 16384));
    assert_int_equal(environ_write_in(f->root, env), 0);
    spit(sh, "export A='1'\n", 13);
    assert_false(environ_is_current_in(f->root, env, 64, 16384));
    assert_int_equal(environ_write_in(f->root, env), 0);
    assert_int_equal(unlink(json), 0);
    assert_false(environ_is_current_in(f->root, env, 64, 16384));
    assert_int_equal(environ_write_in(f->root, env), 0);
    assert_true(environ_is_current_in(f->root, env, 64, 16384));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_sh_round_trips_nasty_values_through_sh_and_bash,
            setup,
            teardown),
        cmocka_unit_test(test_sh_quotes_single_quote_as_close_escape_reopen),
        cmocka_unit_test(test_sh_skips_non_identifiers_and_per_user_names),
        cmocka_unit_test(test_json_escapes_quotes_backslashes_and_controls),
        cmocka_unit_test(test_json_keeps_utf8_and_maps_invalid_bytes_to_dcxx),
        cmocka_unit_test_setup_teardown(
            test_json_round_trips_bytes_through_python,
            setup,
            teardown),
        cmocka_unit_test(test_names_secret_and_file_safe),
        cmocka_unit_test_setup_teardown(
            test_write_mirrors_env_with_modes_and_removes_stale,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_is_current_only_when_a_write_would_change_nothing,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_write_leaves_out_secrets,
                                        setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_write_takes_first_of_duplicate_names,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_write_refuses_symlinked_directory,
                                        setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_write_keeps_group_of_shared_export_file,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_load_sees_changes_made_by_startup_scripts,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_load_skips_unusable_entries,
                                        setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_load_without_directory_fails_cleanly,
            setup,
            teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
