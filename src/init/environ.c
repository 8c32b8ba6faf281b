#include "init/environ.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/safeio.h"
#include "common/utf8.h"

#define ENV_DIR  "/etc/container_environment"
#define ENV_SH   "/etc/container_environment.sh"
#define ENV_JSON "/etc/container_environment.json"
/* The same two, relative to the root's /etc. */
#define ENV_SH_NAME   "container_environment.sh"
#define ENV_JSON_NAME "container_environment.json"

/* Largest .sh or .json we format: far above anything an exec'able
 * environment can produce (a value can grow 6x in JSON). */
#define ENVIRON_MAX_OUTPUT (64u * 1024 * 1024)

bool
environ_name_is_secret(const char *name, size_t len)
{
    static const char *const prefixes[] = {
        "AIRLOCK_AUTHORIZED_KEYS",
        "AIRLOCK_SSH_HOST_KEY",
    };

    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t plen = strlen(prefixes[i]);
        if (len >= plen && memcmp(name, prefixes[i], plen) == 0) {
            return true;
        }
    }
    return false;
}

bool
environ_name_is_file_safe(const char *name, size_t len)
{
    /* A leading dot also rules out "." and "..", and keeps the names of
     * replace_at's temp files apart from every variable. */
    if (len == 0 || len > ENVIRON_MAX_NAME || name[0] == '.') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '/' || name[i] == '=' || name[i] == '\0') {
            return false;
        }
    }
    return true;
}

bool
environ_name_is_shell_safe(const char *name, size_t len)
{
    /* Per-user and shell-managed names: a job or session of another user
     * must keep its own; bash refuses to assign its read-only ones, which
     * would make `. container_environment.sh` fail under `set -e`. */
    static const char *const skip[] = {
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "GROUP",
        "UID",
        "GID",
        "PWD",
        "OLDPWD",
        "SHLVL",
        "_",
        "EUID",
        "PPID",
        "BASHOPTS",
        "SHELLOPTS",
        "BASH_VERSINFO",
    };

    if (len == 0 || !((name[0] >= 'A' && name[0] <= 'Z') ||
                      (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_')) {
        return false;
    }
    for (size_t i = 1; i < len; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
        if (strlen(skip[i]) == len && memcmp(name, skip[i], len) == 0) {
            return false;
        }
    }
    return true;
}

/* Output that is counted on the first pass (buf == NULL) and filled on the
 * second, so each format allocates exactly once. */
struct out {
    char *buf;
    size_t len;
};

static void
put(struct out *o, const char *s, size_t n)
{
    if (o->buf != NULL) {
        memcpy(o->buf + o->len, s, n);
    }
    o->len += n;
}

static void
put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static size_t
name_len(const char *var)
{
    const char *eq = strchr(var, '=');
    return eq != NULL ? (size_t)(eq - var) : strlen(var);
}

static void
sh_body(struct out *o, char *const vars[], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t nlen = name_len(vars[i]);
        const char *v;

        if (vars[i][nlen] != '=' ||
            !environ_name_is_shell_safe(vars[i], nlen)) {
            continue;
        }
        put_str(o, "export ");
        put(o, vars[i], nlen);
        put_str(o, "='");
        /* Inside single quotes every byte is literal except the quote
         * itself, which is closed, escaped and reopened. */
        for (v = vars[i] + nlen + 1; *v != '\0'; v++) {
            if (*v == '\'') {
                put_str(o, "'\\''");
            } else {
                put(o, v, 1);
            }
        }
        put_str(o, "'\n");
    }
}

static void
json_string(struct out *o, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + len;

    put_str(o, "\"");
    while (p < end) {
        size_t n = utf8_seq_len(p, (size_t)(end - p));
        char esc[7];

        if (n == 0 || p + n > end) {
            /* Not UTF-8: PEP 383's lone low surrogate U+DC00+byte. */
            esc[0] = '\\';
            esc[1] = 'u';
            esc[2] = 'd';
            esc[3] = 'c';
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 0xF];
            put(o, esc, 6);
            p++;
            continue;
        }
        if (n == 1 && (*p == '"' || *p == '\\')) {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(o, esc, 2);
        } else if (n == 1 && *p < 0x20) {
            const char *named = NULL;
            switch (*p) {
            case '\b':
                named = "\\b";
                break;
            case '\f':
                named = "\\f";
                break;
            case '\n':
                named = "\\n";
                break;
            case '\r':
                named = "\\r";
                break;
            case '\t':
                named = "\\t";
                break;
            default:
                break;
            }
            if (named != NULL) {
                put_str(o, named);
            } else {
                esc[0] = '\\';
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[*p >> 4];
                esc[5] = hex[*p & 0xF];
                put(o, esc, 6);
            }
        } else {
            put(o, (const char *)p, n);
        }
        p += n;
    }
    put_str(o, "\"");
}

static void
json_body(struct out *o, char *const vars[], size_t n)
{
    bool first = true;

    put_str(o, "{");
    for (size_t i = 0; i < n; i++) {
        size_t nlen = name_len(vars[i]);
        if (vars[i][nlen] != '=') {
            continue;
        }
        if (!first) {
            put_str(o, ",");
        }
        first = false;
        json_string(o, vars[i], nlen);
        put_str(o, ":");
        json_string(o, vars[i] + nlen + 1, strlen(vars[i] + nlen + 1));
    }
    put_str(o, "}\n");
}

/* Both passes of a format: count, allocate, fill. */
static int
format(void (*body)(struct out *, char *const[], size_t),
       char *const vars[],
       size_t n,
       char **ret_buf,
       size_t *ret_len)
{
    struct out o = {NULL, 0};

    body(&o, vars, n);
    if (o.len > ENVIRON_MAX_OUTPUT) {
        return -EOVERFLOW;
    }
    o.buf = malloc(o.len + 1);
    if (o.buf == NULL) {
        return -ENOMEM;
    }
    o.len = 0;
    body(&o, vars, n);
    o.buf[o.len] = '\0';
    *ret_buf = o.buf;
    *ret_len = o.len;
    return 0;
}

int
environ_format_sh(char *const vars[], size_t n, char **ret_buf, size_t *ret_len)
{
    return format(sh_body, vars, n, ret_buf, ret_len);
}

int
environ_format_json(char *const vars[],
                    size_t n,
                    char **ret_buf,
                    size_t *ret_len)
{
    return format(json_body, vars, n, ret_buf, ret_len);
}

/* Compares two names given by pointer and length, bytes as unsigned: the
 * order strcmp gives the same names in the C locale. */
static int
name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c != 0) {
        return c;
    }
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

struct entry {
    const char *var;
    size_t nlen;
    size_t index;
};

static int
entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = name_cmp(x->var, x->nlen, y->var, y->nlen);

    if (c != 0) {
        return c;
    }
    return x->index < y->index ? -1 : x->index > y->index ? 1 : 0;
}

/* The variables of envp that are written: named, not secret, file-safe;
 * sorted by name, first occurrence of a name only. *ret_vars points into
 * envp (free only the array). */
static int
collect(char *const envp[], char ***ret_vars, size_t *ret_n)
{
    struct entry *e = NULL;
    char **vars = NULL;
    size_t total = 0, n = 0, k = 0;

    while (envp[total] != NULL) {
        total++;
    }
    e = calloc(total + 1, sizeof(*e));
    vars = calloc(total + 1, sizeof(*vars));
    if (e == NULL || vars == NULL) {
        free(e);
        free(vars);
        return -ENOMEM;
    }
    for (size_t i = 0; i < total; i++) {
        size_t nlen = name_len(envp[i]);
        if (envp[i][nlen] != '=' || environ_name_is_secret(envp[i], nlen)) {
            continue;
        }
        if (!environ_name_is_file_safe(envp[i], nlen)) {
            log_debug("environ: not writing '%.*s': not a valid file name",
                      (int)(nlen > 64 ? 64 : nlen),
                      envp[i]);
            continue;
        }
        e[n].var = envp[i];
        e[n].nlen = nlen;
        e[n].index = i;
        n++;
    }
    qsort(e, n, sizeof(*e), entry_cmp);
    for (size_t i = 0; i < n; i++) {
        if (k > 0 &&
            name_cmp(vars[k - 1], name_len(vars[k - 1]), e[i].var, e[i].nlen) ==
                0) {
            /* A later duplicate: getenv sees the first one only. */
            continue;
        }
        vars[k++] = (char *)e[i].var;
    }
    free(e);
    *ret_vars = vars;
    *ret_n = k;
    return 0;
}

/* Is name in dfd already a regular file of ours with exactly data, and
 * mode (when mode is not 0)? Reading costs a fraction of a rewrite
 * (create, write, rename), so an unchanged environment, as on every
 * restart of the same container, is left as it is. Any doubt (an error,
 * a symlink, another owner) means "no", and the file is rewritten. */
static bool
same_content_at(int dfd,
                const char *name,
                const void *data,
                size_t len,
                mode_t mode)
{
    char buf[4096];
    struct stat st;
    size_t off = 0;
    bool same = true;
    int fd;

    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (uint64_t)st.st_size != (uint64_t)len ||
        (mode != 0 && (st.st_mode & 07777) != mode)) {
        return false;
    }
    fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return false;
    }
    while (same && off <= len) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 || (n == 0 && off != len) || (size_t)n > len - off) {
            same = false;
            break;
        }
        if (n == 0) {
            break;
        }
        same = memcmp(buf, (const char *)data + off, (size_t)n) == 0;
        off += (size_t)n;
    }
    (void)close(fd);
    return same;
}

/* Replaces dfd/name with data: a temp file in the same directory, written,
 * fchmod'ed and renamed over name, so a reader sees the old or the new
 * value, never a partial one, and a symlink at name is replaced, not
 * followed. Unlike write_file_atomic there is no fsync: these files are
 * rebuilt at every start, so surviving a power cut buys nothing, and two
 * fsyncs per variable cost 5-10 ms each on a plain disk (40 variables took
 * 200-460 ms here), delaying every container start. */
static int
replace_at(int dfd, const char *name, const void *data, size_t len, mode_t mode)
{
    char tmp[NAME_MAX + 1];
    int fd, r, n;

    static long pid;

    if (same_content_at(dfd, name, data, len, mode)) {
        return 0;
    }
    /* One getpid per process: this runs once per variable. */
    if (pid == 0) {
        pid = (long)getpid();
    }
    n = snprintf(tmp, sizeof(tmp), ".%s.tmp.%ld", name, pid);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    for (int attempt = 0;; attempt++) {
        fd = openat(dfd,
                    tmp,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600);
        /* A temp file left by a crash: remove it once, then retry. */
        if (fd >= 0 || errno != EEXIST || attempt > 0) {
            break;
        }
        (void)unlinkat(dfd, tmp, 0);
    }
    if (fd < 0) {
        return -errno;
    }
    r = write_all(fd, data, len);
    if (r == 0 && fchmod(fd, mode) < 0) {
        r = -errno;
    }
    if (close(fd) < 0 && r == 0) {
        r = -errno;
    }
    if (r == 0 && renameat(dfd, tmp, dfd, name) < 0) {
        r = -errno;
    }
    if (r < 0) {
        (void)unlinkat(dfd, tmp, 0);
    }
    return r;
}

/* Rewrites one export file in etc. A file an image made group-readable for
 * a non-root group (phusion's docker_env convention: chgrp + chmod 0640)
 * keeps that group and 0640; otherwise it is 0600. The new file is never
 * wider than 0600 before the chown, so nothing leaks in between. */
static int
write_export(int etcfd, const char *name, const char *buf, size_t len)
{
    struct stat st;
    bool keep_group = false;
    gid_t gid = 0;
    int r, fd;

    if (fstatat(etcfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode) && st.st_gid != 0 && (st.st_mode & S_IRGRP) != 0) {
        keep_group = true;
        gid = st.st_gid;
    }
    if (keep_group && same_content_at(etcfd, name, buf, len, 0640)) {
        return 0;
    }
    r = replace_at(etcfd, name, buf, len, 0600);
    if (r < 0 || !keep_group) {
        return r;
    }
    fd = openat(etcfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    if (fchown(fd, (uid_t)-1, gid) < 0 || fchmod(fd, 0640) < 0) {
        r = -errno;
    }
    (void)close(fd);
    return r;
}

/* Writes the .sh and .json of vars (sorted, no secrets). */
static int
export_files(const char *root, char *const vars[], size_t n)
{
    char path[PATH_MAX];
    char *buf = NULL;
    size_t len = 0;
    int etcfd, r;

    r = root_path_in(path, sizeof(path), root, "/etc");
    if (r < 0) {
        return r;
    }
    etcfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (etcfd < 0) {
        return -errno;
    }
    r = environ_format_sh(vars, n, &buf, &len);
    if (r == 0) {
        r = write_export(etcfd, ENV_SH_NAME, buf, len);
        free(buf);
    }
    if (r == 0) {
        r = environ_format_json(vars, n, &buf, &len);
    }
    if (r == 0) {
        r = write_export(etcfd, ENV_JSON_NAME, buf, len);
        free(buf);
    }
    (void)close(etcfd);
    return r;
}

/* Opens the directory, creating it when asked; a symlink is refused. */
static int
open_env_dir(const char *root, bool create, char *path, size_t size)
{
    struct stat st;
    int r, fd;

    r = root_path_in(path, size, root, ENV_DIR);
    if (r < 0) {
        return r;
    }
    if (create) {
        char etc[PATH_MAX];
        r = root_path_in(etc, sizeof(etc), root, "/etc");
        if (r < 0) {
            return r;
        }
        r = mkdir_parents(etc, 0755);
        if (r < 0) {
            return r;
        }
        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
            return -errno;
        }
    }
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    /* An image may ship the directory with a wider mode; values are often
     * secrets (database passwords), so it is always made root-only. */
    if (create && fstat(fd, &st) == 0 && (st.st_mode & 07777) != 0700 &&
        fchmod(fd, 0700) < 0) {
        r = -errno;
        (void)close(fd);
        return r;
    }
    return fd;
}

static bool
vars_contain(char *const vars[], size_t n, const char *name)
{
    size_t nlen = strlen(name);
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(vars[mid], name_len(vars[mid]), name, nlen);
        if (c == 0) {
            return true;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return false;
}

/* Removes every entry of the directory that is not in vars (sorted). */
static int
remove_stale(int dfd, char *const vars[], size_t n)
{
    DIR *d;
    struct dirent *de;
    int fd2, r = 0;

    fd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
    if (fd2 < 0) {
        return -errno;
    }
    d = fdopendir(fd2);
    if (d == NULL) {
        r = -errno;
        (void)close(fd2);
        return r;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            vars_contain(vars, n, de->d_name)) {
            continue;
        }
        if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT) {
            log_warn("environ: cannot remove stale '%s/%s': %s, ignoring",
                     ENV_DIR,
                     de->d_name,
                     strerror(errno));
        }
    }
    (void)closedir(d);
    return 0;
}

int
environ_write_in(const char *root, char *const envp[])
{
    char dir[PATH_MAX];
    char **vars = NULL;
    size_t n = 0;
    int dfd, r;

    r = collect(envp, &vars, &n);
    if (r < 0) {
        return r;
    }
    dfd = open_env_dir(root, true, dir, sizeof(dir));
    if (dfd < 0) {
        free(vars);
        return dfd;
    }
    r = remove_stale(dfd, vars, n);
    for (size_t i = 0; r == 0 && i < n; i++) {
        char name[ENVIRON_MAX_NAME + 1];
        size_t nlen = name_len(vars[i]);
        const char *value = vars[i] + nlen + 1;

        /* collect() checked nlen <= ENVIRON_MAX_NAME. */
        memcpy(name, vars[i], nlen);
        name[nlen] = '\0';
        r = replace_at(dfd, name, value, strlen(value), 0600);
    }
    (void)close(dfd);
    if (r == 0) {
        r = export_files(root, vars, n);
    }
    free(vars);
    return r;
}

/* Is the export file etc/name exactly buf, as write_export leaves it:
 * 0600, or 0640 for a non-root group the image chose? */
static bool
export_is_current(int etcfd, const char *name, const char *buf, size_t len)
{
    struct stat st;

    if (fstatat(etcfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISREG(st.st_mode)) {
        return false;
    }
    if (st.st_gid != 0 && (st.st_mode & 07777) == 0640) {
        return same_content_at(etcfd, name, buf, len, 0640);
    }
    return same_content_at(etcfd, name, buf, len, 0600);
}

/* The number of entries of dfd but "." and "..", or -1 on an error. */
static long
count_entries(int dfd)
{
    DIR *d;
    struct dirent *de;
    long count = 0;
    int fd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 0);

    if (fd2 < 0) {
        return -1;
    }
    d = fdopendir(fd2);
    if (d == NULL) {
        (void)close(fd2);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            count++;
        }
    }
    (void)closedir(d);
    return count;
}

bool
environ_is_current_in(const char *root,
                      char *const envp[],
                      size_t max_vars,
                      size_t max_bytes)
{
    char path[PATH_MAX];
    char **vars = NULL;
    char *buf = NULL;
    size_t n = 0, len = 0, total = 0;
    struct stat st;
    bool current = false;
    int dfd = -1, etcfd = -1;

    if (collect(envp, &vars, &n) < 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        total += strlen(vars[i]);
    }
    if (n > max_vars || total > max_bytes) {
        goto out;
    }
    dfd = open_env_dir(root, false, path, sizeof(path));
    if (dfd < 0 || fstat(dfd, &st) < 0 || (st.st_mode & 07777) != 0700 ||
        st.st_uid != geteuid() || count_entries(dfd) != (long)n) {
        goto out;
    }
    /* n files, each one of vars: the directory holds nothing else. */
    for (size_t i = 0; i < n; i++) {
        char name[ENVIRON_MAX_NAME + 1];
        size_t nlen = name_len(vars[i]);
        const char *value = vars[i] + nlen + 1;

        memcpy(name, vars[i], nlen);
        name[nlen] = '\0';
        if (!same_content_at(dfd, name, value, strlen(value), 0600)) {
            goto out;
        }
    }
    if (root_path_in(path, sizeof(path), root, "/etc") < 0) {
        goto out;
    }
    etcfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (etcfd < 0 || environ_format_sh(vars, n, &buf, &len) < 0) {
        goto out;
    }
    current = export_is_current(etcfd, ENV_SH_NAME, buf, len);
    free(buf);
    buf = NULL;
    if (current) {
        current = environ_format_json(vars, n, &buf, &len) == 0 &&
                  export_is_current(etcfd, ENV_JSON_NAME, buf, len);
    }
out:
    free(buf);
    free(vars);
    if (dfd >= 0) {
        (void)close(dfd);
    }
    if (etcfd >= 0) {
        (void)close(etcfd);
    }
    return current;
}

int
environ_write(char *const envp[])
{
    return environ_write_in(root_dir(), envp);
}

/* True when the first NAME= of envp (name[0..nlen)) has exactly
 * value[0..vlen). */
static bool
orig_has_value(char *const envp[],
               const char *name,
               size_t nlen,
               const char *value,
               size_t vlen)
{
    if (envp == NULL) {
        return false;
    }
    for (size_t i = 0; envp[i] != NULL; i++) {
        if (strncmp(envp[i], name, nlen) == 0 && envp[i][nlen] == '=') {
            const char *v = envp[i] + nlen + 1;
            return strlen(v) == vlen && memcmp(v, value, vlen) == 0;
        }
    }
    return false;
}

static int
str_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the names of the directory: valid, not secret, at most
 * ENVIRON_MAX_VARS; sorted. */
static int
read_names(int dfd, char ***ret_names, size_t *ret_n)
{
    DIR *d;
    struct dirent *de;
    char **names;
    size_t n = 0;
    int fd2, r = 0;

    names = calloc(ENVIRON_MAX_VARS, sizeof(*names));
    if (names == NULL) {
        return -ENOMEM;
    }
    fd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
    if (fd2 < 0 || (d = fdopendir(fd2)) == NULL) {
        r = -errno;
        if (fd2 >= 0) {
            (void)close(fd2);
        }
        free(names);
        return r;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        if (!environ_name_is_file_safe(de->d_name, len)) {
            log_warn("environ: ignoring '%s/%s': not a usable variable name",
                     ENV_DIR,
                     de->d_name);
            continue;
        }
        if (environ_name_is_secret(de->d_name, len)) {
            log_warn("environ: ignoring '%s/%s': key variables are taken "
                     "from airlock's own environment only",
                     ENV_DIR,
                     de->d_name);
            continue;
        }
        if (n == ENVIRON_MAX_VARS) {
            log_warn("environ: more than %d variables in '%s', ignoring the "
                     "rest",
                     ENVIRON_MAX_VARS,
                     ENV_DIR);
            break;
        }
        names[n] = strdup(de->d_name);
        if (names[n] == NULL) {
            r = -ENOMEM;
            break;
        }
        n++;
    }
    (void)closedir(d);
    if (r < 0) {
        for (size_t i = 0; i < n; i++) {
            free(names[i]);
        }
        free(names);
        return r;
    }
    qsort(names, n, sizeof(*names), str_ptr_cmp);
    *ret_names = names;
    *ret_n = n;
    return 0;
}

int
environ_parse_value(char *s, size_t nlen, size_t vlen, char *const orig_envp[])
{
    const char *value = s + nlen + 1;

    if (memchr(value, '\0', vlen) != NULL) {
        return -EINVAL;
    }
    /* phusion's rule for files a script wrote: `echo v > NAME` means v. A
     * value airlock wrote itself is kept exactly, trailing newline too. */
    if (vlen > 0 && value[vlen - 1] == '\n' &&
        !orig_has_value(orig_envp, s, nlen, value, vlen)) {
        vlen--;
    }
    s[nlen + 1 + vlen] = '\0';
    return 0;
}

/* Reads one variable file into a new "NAME=value" string; NULL (after a
 * warning) when it is skipped, *ret_err set on a hard error. */
static char *
read_var(int dfd, const char *name, char *const orig_envp[], int *ret_err)
{
    size_t nlen = strlen(name), vlen = 0;
    size_t cap = ENVIRON_MAX_STRING - nlen - 2;
    struct stat st;
    char *s = NULL;
    int fd, r;

    *ret_err = 0;
    fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        log_warn("environ: ignoring '%s/%s': %s",
                 ENV_DIR,
                 name,
                 errno == ELOOP ? "a symlink" : strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        log_warn("environ: ignoring '%s/%s': not a regular file",
                 ENV_DIR,
                 name);
        goto out;
    }
    if ((uint64_t)st.st_size > cap) {
        log_warn("environ: ignoring '%s/%s': value longer than %zu bytes",
                 ENV_DIR,
                 name,
                 cap);
        goto out;
    }
    s = malloc(nlen + 1 + (size_t)st.st_size + 1);
    if (s == NULL) {
        *ret_err = -ENOMEM;
        goto out;
    }
    memcpy(s, name, nlen);
    s[nlen] = '=';
    r = read_all(fd, s + nlen + 1, (size_t)st.st_size, &vlen);
    if (r < 0) {
        log_warn("environ: ignoring '%s/%s': %s", ENV_DIR, name, strerror(-r));
        goto skip;
    }
    if (environ_parse_value(s, nlen, vlen, orig_envp) < 0) {
        log_warn("environ: ignoring '%s/%s': value holds a NUL byte",
                 ENV_DIR,
                 name);
        goto skip;
    }
    (void)close(fd);
    return s;
skip:
    free(s);
    s = NULL;
out:
    (void)close(fd);
    return s;
}

int
environ_load_in(const char *root, char *const orig_envp[], char ***ret_envp)
{
    char dir[PATH_MAX];
    char **names = NULL, **vars = NULL;
    size_t nnames = 0, nsecret = 0, n = 0, total = 0, norig = 0;
    int dfd, r;

    dfd = open_env_dir(root, false, dir, sizeof(dir));
    if (dfd < 0) {
        return dfd;
    }
    r = read_names(dfd, &names, &nnames);
    if (r < 0) {
        (void)close(dfd);
        return r;
    }
    while (orig_envp != NULL && orig_envp[norig] != NULL) {
        if (environ_name_is_secret(orig_envp[norig],
                                   name_len(orig_envp[norig]))) {
            nsecret++;
        }
        norig++;
    }
    vars = calloc(nnames + nsecret + 1, sizeof(*vars));
    if (vars == NULL) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nnames; i++) {
        char *s = read_var(dfd, names[i], orig_envp, &r);
        if (r < 0) {
            goto out;
        }
        if (s == NULL) {
            continue;
        }
        if (total + strlen(s) + 1 > ENVIRON_MAX_TOTAL) {
            log_warn("environ: ignoring '%s/%s': the environment would pass "
                     "%d bytes",
                     ENV_DIR,
                     names[i],
                     ENVIRON_MAX_TOTAL);
            free(s);
            continue;
        }
        total += strlen(s) + 1;
        vars[n++] = s;
    }
    r = export_files(root, vars, n);
    if (r < 0) {
        log_warn("environ: cannot rewrite '%s' and '%s': %s, ignoring",
                 ENV_SH,
                 ENV_JSON,
                 strerror(-r));
    }
    /* Secrets never went to disk; hand them on as airlock got them, first
     * occurrence of each name. */
    for (size_t i = 0; i < norig; i++) {
        size_t nlen = name_len(orig_envp[i]);
        bool seen = false;
        if (orig_envp[i][nlen] != '=' ||
            !environ_name_is_secret(orig_envp[i], nlen)) {
            continue;
        }
        for (size_t j = 0; j < i && !seen; j++) {
            seen = strncmp(orig_envp[j], orig_envp[i], nlen + 1) == 0;
        }
        if (seen) {
            continue;
        }
        vars[n] = strdup(orig_envp[i]);
        if (vars[n] == NULL) {
            r = -ENOMEM;
            goto out;
        }
        n++;
    }
    vars[n] = NULL;
    *ret_envp = vars;
    vars = NULL;
    r = (int)n;
out:
    for (size_t i = 0; i < nnames; i++) {
        free(names[i]);
    }
    free(names);
    (void)environ_free(vars);
    (void)close(dfd);
    return r;
}

int
environ_load(char *const orig_envp[], char ***ret_envp)
{
    return environ_load_in(root_dir(), orig_envp, ret_envp);
}

char **
environ_free(char **envp)
{
    if (envp == NULL) {
        return NULL;
    }
    for (size_t i = 0; envp[i] != NULL; i++) {
        free(envp[i]);
    }
    free(envp);
    return NULL;
}
