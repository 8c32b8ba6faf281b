/* The root-owned key store: KEYS_STORE_DIR/USER under AIRLOCK_ROOT, one
 * authorized_keys file per user, the only thing the SSH server reads.
 * Written atomically (safeio's temp + fsync + rename); never followed
 * through a symlink. */
#include "keys/keys.h"
#include "keys/internal.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/path.h"
#include "common/safeio.h"
#include "common/strutil.h"

/* The store holds the keys of all sources of one user. */
#define STORE_MAX_FILE (4 * KEYS_MAX_FILE)

bool
keys_valid_user(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len >= KEYS_USER_MAX || name[0] == '.' || name[0] == '-') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
            return false;
        }
    }
    /* write_file_atomic's temp files are "USER.tmp.PID". */
    return strstr(name, ".tmp.") == NULL;
}

static int
store_dir_path(char *buf, size_t size)
{
    return run_path(buf, size, KEYS_STORE_SUBDIR);
}

int
keys_store_path(const char *user, char *buf, size_t size)
{
    char rel[PATH_MAX];

    if (!keys_valid_user(user)) {
        return -EINVAL;
    }
    if (snprintf(rel, sizeof(rel), "%s/%s", KEYS_STORE_SUBDIR, user) >=
        (int)sizeof(rel)) {
        return -ENAMETOOLONG;
    }
    return run_path(buf, size, rel);
}

/* Owned by root or by us (a non-root airlock), no access for others. */
static bool
store_owner_ok(const struct stat *st)
{
    return st->st_uid == 0 || st->st_uid == geteuid();
}

static int
open_store_dir(void)
{
    char dir[PATH_MAX];
    struct stat st;
    int fd, r;

    r = store_dir_path(dir, sizeof(dir));
    if (r < 0) {
        return r;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    if (fstat(fd, &st) < 0) {
        r = -errno;
        (void)close(fd);
        return r;
    }
    if (!store_owner_ok(&st) || (st.st_mode & 022) != 0) {
        (void)close(fd);
        return -EPERM;
    }
    return fd;
}

int
keys_store_prepare(void)
{
    char dir[PATH_MAX], parent[PATH_MAX];
    struct stat st;
    char *slash;
    int r;

    r = store_dir_path(dir, sizeof(dir));
    if (r < 0) {
        return r;
    }
    memcpy(parent, dir, sizeof(parent));
    slash = strrchr(parent, '/');
    if (slash != NULL && slash != parent) {
        *slash = '\0';
        r = mkdir_parents(parent, 0755);
        if (r < 0) {
            return r;
        }
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        return -errno;
    }
    if (lstat(dir, &st) < 0) {
        return -errno;
    }
    if (!S_ISDIR(st.st_mode) || !store_owner_ok(&st)) {
        /* A symlink or someone else's directory: never write through it. */
        return -EPERM;
    }
    if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) < 0) {
        return -errno;
    }
    return 0;
}

/* Reads the store file of user (O_NOFOLLOW, checked) into a malloc'ed
 * NUL-terminated buffer. */
static int
read_store_file(const char *user, char **ret, size_t *ret_len)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int dfd, fd = -1, r;

    if (!keys_valid_user(user)) {
        return -EINVAL;
    }
    dfd = open_store_dir();
    if (dfd < 0) {
        return dfd;
    }
    fd = openat(dfd, user, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        /* ELOOP: a symlink sits where the file should be. */
        r = errno == ELOOP ? -EPERM : -errno;
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || !store_owner_ok(&st) ||
        (st.st_mode & 077) != 0) {
        r = -EPERM;
        goto out;
    }
    buf = malloc(STORE_MAX_FILE + 1);
    if (buf == NULL) {
        r = -ENOMEM;
        goto out;
    }
    r = read_all(fd, buf, STORE_MAX_FILE, &len);
    if (r < 0) {
        goto out;
    }
    buf[len] = '\0';
    *ret = buf;
    *ret_len = len;
    buf = NULL;
out:
    free(buf);
    if (fd >= 0) {
        (void)close(fd);
    }
    (void)close(dfd);
    return r;
}

/* "# source=SOURCE line=N fingerprint=F": the origin of the next key. */
static bool
parse_origin(const char *s, size_t len, char **ret_source, unsigned *ret_line)
{
    static const char prefix[] = "# source=";
    const char *line_at = NULL, *fp;
    char *src;
    unsigned long n = 0;

    if (len < sizeof(prefix) - 1 || memcmp(s, prefix, sizeof(prefix) - 1)) {
        return false;
    }
    for (const char *p = s; p + 6 <= s + len; p++) {
        if (memcmp(p, " line=", 6) == 0) {
            line_at = p; /* the last one: a source name may contain it */
        }
    }
    if (line_at == NULL) {
        return false;
    }
    for (fp = line_at + 6; fp < s + len && *fp >= '0' && *fp <= '9'; fp++) {
        n = n * 10 + (unsigned long)(*fp - '0');
        if (n > UINT_MAX) {
            return false;
        }
    }
    src = strndup(s + sizeof(prefix) - 1,
                  (size_t)(line_at - s) - (sizeof(prefix) - 1));
    if (src == NULL) {
        return false;
    }
    free(*ret_source);
    *ret_source = src;
    *ret_line = (unsigned)n;
    return true;
}

int
keys_store_parse(const char *user,
                 const char *buf,
                 size_t len,
                 struct keys_set *ret)
{
    struct keys_set set = {NULL, 0, 0};
    char *origin = NULL;
    unsigned origin_line = 0;
    const char *p = buf, *end = buf + len;
    int r;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        struct keys_entry e;
        const char *errstr = NULL;

        if (parse_origin(p, (size_t)(le - p), &origin, &origin_line)) {
            p = nl ? nl + 1 : end;
            continue;
        }
        r = keys_parse_line(p,
                            (size_t)(le - p),
                            KEYS_PARSE_PERMIT_ENV | KEYS_PARSE_STORE,
                            &e,
                            &errstr);
        if (r < 0) {
            r = r == -ENOMEM ? r : -EINVAL;
            goto out;
        }
        if (r == 1) {
            (void)copy_string(e.user, sizeof(e.user), user);
            e.source = origin ? origin : strdup(KEYS_STORE_DIR);
            e.line = origin_line;
            origin = NULL;
            origin_line = 0;
            if (e.source == NULL) {
                keys_entry_free(&e);
                r = -ENOMEM;
                goto out;
            }
            r = keys_set_add(&set, &e);
            keys_entry_free(&e);
            if (r < 0) {
                goto out;
            }
        }
        p = nl ? nl + 1 : end;
    }
    *ret = set;
    memset(&set, 0, sizeof(set));
    r = 0;
out:
    keys_set_free(&set);
    free(origin);
    return r;
}

int
keys_store_load(const char *user, struct keys_set *ret)
{
    char *buf = NULL;
    size_t len = 0;
    int r;

    r = read_store_file(user, &buf, &len);
    if (r < 0) {
        return r;
    }
    r = keys_store_parse(user, buf, len, ret);
    free(buf);
    return r;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

int
keys_store_users(char (*names)[KEYS_USER_MAX], size_t max, size_t *ret_n)
{
    struct dirent *de;
    DIR *d;
    size_t n = 0;
    int fd;

    fd = open_store_dir();
    if (fd == -ENOENT) {
        *ret_n = 0;
        return 0;
    }
    if (fd < 0) {
        return fd;
    }
    d = fdopendir(fd);
    if (d == NULL) {
        int r = -errno;
        (void)close(fd);
        return r;
    }
    while ((de = readdir(d)) != NULL && n < max) {
        struct stat st;
        if (!keys_valid_user(de->d_name) ||
            fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode)) {
            continue;
        }
        memcpy(names[n++], de->d_name, strlen(de->d_name) + 1);
    }
    (void)closedir(d);
    qsort(names, n, sizeof(*names), cmp_names);
    *ret_n = n;
    return 0;
}

/* How append_raw copies: source names are paths chosen by the operator,
 * made printable so the store stays one line per record whatever they
 * contain; key lines keep every byte but a line break. */
enum append_mode {
    APPEND_RAW,
    APPEND_PRINTABLE,
    APPEND_ONE_LINE,
};

static void
append_raw(char **buf,
           size_t *len,
           size_t *cap,
           const char *s,
           bool *oom,
           enum append_mode mode)
{
    size_t n = strlen(s);

    if (*oom) {
        return;
    }
    if (*len + n + 1 > *cap) {
        size_t ncap = (*len + n + 1) * 2;
        char *nb = realloc(*buf, ncap);
        if (nb == NULL) {
            *oom = true;
            return;
        }
        *buf = nb;
        *cap = ncap;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool bad = mode == APPEND_PRINTABLE  ? c < 0x20 || c == 0x7f
                   : mode == APPEND_ONE_LINE ? c == '\n' || c == '\r'
                                             : false;
        (*buf)[(*len)++] = bad ? '?' : (char)c;
    }
    (*buf)[*len] = '\0';
}

static void
append_sanitised(char **buf, size_t *len, size_t *cap, const char *s, bool *oom)
{
    append_raw(buf, len, cap, s, oom, APPEND_PRINTABLE);
}

/* A key line as keys_entry_format gives it, byte for byte: a tab or an
 * escape inside a quoted option (command="...") is part of what was
 * authorized and must reach the server unchanged. The parser lets no line
 * break into options and makes the comment printable, so APPEND_ONE_LINE
 * changes nothing; it only keeps the record one line if that ever broke. */
static void
append_key_line(char **buf, size_t *len, size_t *cap, const char *s, bool *oom)
{
    append_raw(buf, len, cap, s, oom, APPEND_ONE_LINE);
}

static void
append_newline(char **buf, size_t *len, size_t *cap, bool *oom)
{
    append_raw(buf, len, cap, "\n", oom, APPEND_RAW);
}

int
keys_store_write(const char *user,
                 const struct keys_set *set,
                 size_t from,
                 size_t to,
                 bool *changed)
{
    char path[PATH_MAX];
    char *buf = NULL, *old = NULL;
    size_t len = 0, cap = 0, old_len = 0;
    bool oom = false;
    int r;

    *changed = false;
    r = keys_store_path(user, path, sizeof(path));
    if (r < 0) {
        return r;
    }
    append_sanitised(&buf, &len, &cap, "# airlock key store for '", &oom);
    append_sanitised(&buf, &len, &cap, user, &oom);
    append_sanitised(&buf,
                     &len,
                     &cap,
                     "', written by 'airlock-sshd keys sync'; do not edit",
                     &oom);
    append_newline(&buf, &len, &cap, &oom);
    for (size_t i = from; i < to && !oom; i++) {
        const struct keys_entry *e = &set->entries[i];
        char num[32];
        char *line = keys_entry_format(e);
        if (line == NULL) {
            oom = true;
            break;
        }
        (void)snprintf(num, sizeof(num), " line=%u", e->line);
        append_sanitised(&buf, &len, &cap, "# source=", &oom);
        append_sanitised(&buf, &len, &cap, e->source ? e->source : "?", &oom);
        append_sanitised(&buf, &len, &cap, num, &oom);
        append_sanitised(&buf, &len, &cap, " fingerprint=", &oom);
        append_sanitised(&buf, &len, &cap, e->fingerprint, &oom);
        append_newline(&buf, &len, &cap, &oom);
        append_key_line(&buf, &len, &cap, line, &oom);
        append_newline(&buf, &len, &cap, &oom);
        free(line);
    }
    if (oom) {
        free(buf);
        return -ENOMEM;
    }
    /* Rewrite only on change: the store's mtime then says when the
     * effective set last changed. */
    if (read_store_file(user, &old, &old_len) == 0 && old_len == len &&
        memcmp(old, buf, len) == 0) {
        free(old);
        free(buf);
        return 0;
    }
    free(old);
    r = write_file_atomic(path, buf, len, 0600);
    free(buf);
    if (r == 0) {
        *changed = true;
    }
    return r;
}

int
keys_store_remove(const char *user)
{
    int dfd = open_store_dir(), r = 0;

    if (dfd == -ENOENT) {
        return 0;
    }
    if (dfd < 0) {
        return dfd;
    }
    if (!keys_valid_user(user)) {
        r = -EINVAL;
    } else if (unlinkat(dfd, user, 0) < 0 && errno != ENOENT) {
        r = -errno;
    } else if (fsync(dfd) < 0) {
        r = -errno;
    }
    (void)close(dfd);
    return r;
}

unsigned
keys_listing_addr(struct sockaddr_un *sa)
{
    static const char name[] = "airlock-sshd/keys";

    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    /* sun_path[0] = '\0': the abstract namespace. */
    memcpy(sa->sun_path + 1, name, sizeof(name) - 1);
    return (unsigned)(offsetof(struct sockaddr_un, sun_path) + sizeof(name));
}
