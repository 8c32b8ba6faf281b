/* Key sources (AIRLOCK_AUTHORIZED_KEYS, AIRLOCK_AUTHORIZED_KEYS_FILE, the
 * per-user directory), their StrictModes-like checks, and keys_sync, which
 * turns them into the store. This layer logs; the parsers do not. */
#include "keys/keys.h"
#include "keys/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sodium.h>

#include "common/log.h"
#include "common/path.h"
#include "common/safeio.h"
#include "common/strutil.h"

#define KEYS_CA_ENV_SOURCE "AIRLOCK_SSH_TRUSTED_USER_CA_KEYS"

/* Users with a store file considered by one sync. */
#define KEYS_MAX_USERS 4096

/* ---- Configuration ---------------------------------------------------- */

void
keys_config_free(struct keys_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    if (cfg->env_keys != NULL) {
        sodium_memzero(cfg->env_keys, strlen(cfg->env_keys));
    }
    free(cfg->env_keys);
    free(cfg->file);
    free(cfg->dir);
    free(cfg->ca_keys);
    free(cfg->ca_file);
    free(cfg->revoked_file);
    memset(cfg, 0, sizeof(*cfg));
}

int
keys_config_from_env(struct keys_config *cfg, const char **errstr)
{
    struct keys_config c;
    const char *v;

    memset(&c, 0, sizeof(c));
    v = getenv("AIRLOCK_SSH_USER");
    if (v == NULL || *v == '\0') {
        v = "root";
    }
    if (!keys_valid_user(v)) {
        *errstr = "AIRLOCK_SSH_USER is not a valid user name";
        return -EINVAL;
    }
    memcpy(c.user, v, strlen(v) + 1);

    v = getenv("AIRLOCK_SSH_PERMIT_USER_ENV");
    if (v != NULL && *v != '\0' && parse_bool(v, &c.permit_user_env) < 0) {
        *errstr = "AIRLOCK_SSH_PERMIT_USER_ENV must be yes or no";
        return -EINVAL;
    }

    v = getenv("AIRLOCK_AUTHORIZED_KEYS_FILE");
    if (v != NULL && *v != '\0') {
        if (v[0] != '/') {
            *errstr = "AIRLOCK_AUTHORIZED_KEYS_FILE must be an absolute path";
            return -EINVAL;
        }
        c.file = strdup(v);
        if (c.file == NULL) {
            goto oom;
        }
    }

    /* Unset means the default directory; set but empty means none. */
    v = getenv("AIRLOCK_AUTHORIZED_KEYS_DIR");
    if (v == NULL) {
        v = KEYS_DEFAULT_DIR;
        c.dir_is_default = true;
    }
    if (*v != '\0') {
        if (v[0] != '/') {
            keys_config_free(&c);
            *errstr = "AIRLOCK_AUTHORIZED_KEYS_DIR must be an absolute path";
            return -EINVAL;
        }
        c.dir = strdup(v);
        if (c.dir == NULL) {
            goto oom;
        }
        /* "/a/b/" and "/a/b" are the same directory. */
        for (size_t n = strlen(c.dir); n > 1 && c.dir[n - 1] == '/'; n--) {
            c.dir[n - 1] = '\0';
        }
    }

    v = getenv(KEYS_ENV_SOURCE);
    if (v != NULL && *v != '\0') {
        c.env_keys = strdup(v);
        if (c.env_keys == NULL) {
            goto oom;
        }
    }

    v = getenv(KEYS_CA_ENV_SOURCE);
    if (v != NULL && v[strspn(v, " \t\r\n")] != '\0') {
        c.ca_keys = strdup(v);
        if (c.ca_keys == NULL) {
            goto oom;
        }
    }
    {
        static const struct {
            const char *name;
            const char *err;
        } files[] = {
            {"AIRLOCK_SSH_TRUSTED_USER_CA_KEYS_FILE",
             "AIRLOCK_SSH_TRUSTED_USER_CA_KEYS_FILE must be an absolute path"},
            {"AIRLOCK_SSH_REVOKED_KEYS_FILE",
             "AIRLOCK_SSH_REVOKED_KEYS_FILE must be an absolute path"},
        };
        char **dst[] = {&c.ca_file, &c.revoked_file};
        for (size_t i = 0; i < 2; i++) {
            v = getenv(files[i].name);
            if (v == NULL || *v == '\0') {
                continue;
            }
            if (v[0] != '/') {
                keys_config_free(&c);
                *errstr = files[i].err;
                return -EINVAL;
            }
            *dst[i] = strdup(v);
            if (*dst[i] == NULL) {
                goto oom;
            }
        }
    }
    *cfg = c;
    return 0;
oom:
    keys_config_free(&c);
    *errstr = "out of memory";
    return -ENOMEM;
}

bool
keys_config_any_source(const struct keys_config *cfg)
{
    if (cfg->env_keys != NULL &&
        cfg->env_keys[strspn(cfg->env_keys, " \t\r\n")] != '\0') {
        return true;
    }
    if (cfg->file != NULL || cfg->ca_keys != NULL || cfg->ca_file != NULL) {
        return true;
    }
    if (cfg->dir != NULL) {
        char path[PATH_MAX];
        struct stat st;
        if (!cfg->dir_is_default) {
            return true;
        }
        return root_path(path, sizeof(path), cfg->dir) == 0 &&
               stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    }
    return false;
}

/* ---- Users ------------------------------------------------------------ */

/* uid of user from AIRLOCK_ROOT's /etc/passwd (the container's, not the
 * machine's when testing), or (uid_t)-1 when unknown: then only root may
 * own the user's key files. */
static uid_t
lookup_uid(const char *user)
{
    char path[PATH_MAX];
    struct passwd *pw;
    uid_t uid = (uid_t)-1;
    FILE *f;

    if (strcmp(user, "root") == 0) {
        return 0;
    }
    if (root_path(path, sizeof(path), "/etc/passwd") < 0) {
        return uid;
    }
    f = fopen(path, "re");
    if (f == NULL) {
        return uid;
    }
    while ((pw = fgetpwent(f)) != NULL) {
        if (strcmp(pw->pw_name, user) == 0) {
            uid = pw->pw_uid;
            break;
        }
    }
    (void)fclose(f);
    return uid;
}

/* ---- StrictModes ------------------------------------------------------ */

static bool
owner_ok(const struct stat *st, uid_t uid)
{
    return st->st_uid == 0 || (uid != (uid_t)-1 && st->st_uid == uid);
}

/* OpenSSH's StrictModes idea for a key file's directories: each one from
 * the file's directory up to / is owned by root or the user and not
 * writable by group or others, unless sticky (/tmp, and the 1777 tmpfs of
 * a Kubernetes secret volume: there nobody can replace root's entries,
 * and each entry's owner is checked on its own). Returns NULL or why. */
static const char *
check_parents(const char *resolved, uid_t uid)
{
    char buf[PATH_MAX];
    size_t len = strlen(resolved);

    if (len >= sizeof(buf)) {
        return "path too long";
    }
    memcpy(buf, resolved, len + 1);
    for (;;) {
        char *slash = strrchr(buf, '/');
        struct stat st;
        if (slash == NULL) {
            return NULL;
        }
        if (slash == buf) {
            slash[1] = '\0';
        } else {
            *slash = '\0';
        }
        if (stat(buf, &st) < 0) {
            return "cannot check a parent directory";
        }
        if (!owner_ok(&st, uid)) {
            return "bad ownership of a parent directory";
        }
        if ((st.st_mode & 022) != 0 && !(st.st_mode & S_ISVTX)) {
            return "a parent directory is writable by group or others";
        }
        if (slash == buf) {
            return NULL;
        }
    }
}

static const char *
check_file(const struct stat *st, uid_t uid)
{
    if (!owner_ok(st, uid)) {
        return "bad ownership (must be owned by root or the user)";
    }
    if ((st->st_mode & 022) != 0) {
        return "bad modes (writable by group or others)";
    }
    return NULL;
}

/* ---- Reading one source ----------------------------------------------- */

enum src_status {
    SRC_OK,         /* read; its keys (maybe none) count */
    SRC_GONE,       /* does not exist: its keys are gone */
    SRC_UNREADABLE, /* exists but cannot be read: no key from it (retry) */
    SRC_REFUSED,    /* unsafe or over a limit: none of its keys count */
};

/* Remembers, per source, a hash of the content whose rejected lines were
 * already logged, so a watcher's re-syncs report each rejected line once;
 * and whether the start-up listing was done. */
struct memo_item {
    char *source;
    unsigned char hash[crypto_generichash_BYTES];
};

struct keys_sync_memo {
    bool started;
    struct memo_item *items;
    size_t n;
    struct keys_set live; /* the set of the last sync: what grants access */
    struct keys_set cas;  /* the CA keys of the last sync */
    struct keys_revoked revoked;
    unsigned char revoked_hash[crypto_generichash_BYTES];
};

static bool
memo_seen(struct keys_sync_memo *memo,
          const char *source,
          const char *text,
          size_t len)
{
    unsigned char h[crypto_generichash_BYTES];
    struct memo_item *items;

    if (memo == NULL) {
        return false;
    }
    crypto_generichash(h, sizeof(h), (const unsigned char *)text, len, NULL, 0);
    for (size_t i = 0; i < memo->n; i++) {
        if (strcmp(memo->items[i].source, source) == 0) {
            bool same = memcmp(memo->items[i].hash, h, sizeof(h)) == 0;
            memcpy(memo->items[i].hash, h, sizeof(h));
            return same;
        }
    }
    items = realloc(memo->items, (memo->n + 1) * sizeof(*items));
    if (items == NULL) {
        return false;
    }
    memo->items = items;
    items[memo->n].source = strdup(source);
    if (items[memo->n].source == NULL) {
        return false;
    }
    memcpy(items[memo->n].hash, h, sizeof(h));
    memo->n++;
    return false;
}

struct keys_sync_memo *
keys_sync_memo_new(void)
{
    return calloc(1, sizeof(struct keys_sync_memo));
}

void
keys_sync_memo_free(struct keys_sync_memo *memo)
{
    if (memo == NULL) {
        return;
    }
    for (size_t i = 0; i < memo->n; i++) {
        free(memo->items[i].source);
    }
    free(memo->items);
    keys_set_free(&memo->live);
    keys_set_free(&memo->cas);
    keys_revoked_free(&memo->revoked);
    free(memo);
}

int
keys_parse_text(const char *source,
                const char *user,
                const char *text,
                size_t len,
                unsigned flags,
                bool quiet,
                keys_line_cb cb,
                void *userdata,
                struct keys_set *out)
{
    const char *p = text, *end = text + len;
    unsigned lineno = 0, accepted = 0, rejected = 0;

    /* A UTF-8 byte order mark, as some Windows editors write. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        p += 3;
    }

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *errstr = "invalid line";
        struct keys_entry e;
        int r;

        lineno++;
        if (accepted >= KEYS_MAX_PER_SOURCE &&
            keys_parse_line(p, (size_t)(le - p), flags, &e, &errstr) == 1) {
            keys_entry_free(&e);
            r = -EINVAL;
            errstr = "too many keys in one source (limit 1024)";
        } else {
            r = keys_parse_line(p, (size_t)(le - p), flags, &e, &errstr);
        }
        if (r == -ENOMEM) {
            return r;
        }
        if (r < 0) {
            rejected++;
            if (cb != NULL) {
                cb(userdata, source, lineno, NULL, errstr);
            } else if (!quiet) {
                log_warn("%s:%u: rejected: %s", source, lineno, errstr);
            }
        } else if (r == 1) {
            accepted++;
            (void)copy_string(e.user, sizeof(e.user), user);
            e.line = lineno;
            e.source = strdup(source);
            if (e.source == NULL) {
                keys_entry_free(&e);
                return -ENOMEM;
            }
            if (cb != NULL) {
                cb(userdata, source, lineno, &e, NULL);
            }
            r = out != NULL ? keys_set_add(out, &e) : 0;
            keys_entry_free(&e);
            if (r < 0) {
                return r;
            }
        }
        p = nl ? nl + 1 : end;
    }
    return (int)rejected;
}

/* Reads an open source fd (already checked) into a malloc'ed buffer. */
static int
read_source(int fd, char **ret, size_t *ret_len)
{
    char *buf = malloc(KEYS_MAX_FILE + 1);
    size_t len = 0;
    int r;

    if (buf == NULL) {
        return -ENOMEM;
    }
    r = read_all(fd, buf, KEYS_MAX_FILE, &len);
    if (r < 0) {
        free(buf);
        return r;
    }
    buf[len] = '\0';
    *ret = buf;
    *ret_len = len;
    return 0;
}

/* Everything one sync learns: the new entries and which sources need a
 * retry later. */
struct build {
    const struct keys_config *cfg;
    struct keys_sync_memo *memo;
    const struct keys_set *old;   /* the live set so far (memo), or empty */
    struct keys_set set;          /* the new effective set, in source order */
    char (*users)[KEYS_USER_MAX]; /* users with a store file */
    size_t nusers;
    bool retry;                  /* a source is unreadable or missing */
    bool failed;                 /* ENOMEM */
    struct keys_set cas;         /* trusted user CA keys */
    struct keys_revoked revoked; /* the revocation list */
    unsigned char revoked_hash[crypto_generichash_BYTES]; /* of its state */
    bool ca_quiet; /* this CA source's rejected lines were reported */
};

/* A source that exists but cannot be read right now (a directory where
 * the file was, EIO, a secret mount half-swapped) contributes no key:
 * keeping its last good keys would let a key that was since removed from
 * it log in, and the watcher retries within seconds anyway (fail closed).
 * A prefix ending in '/' names a whole directory. */
static void
source_unreadable(struct build *b, const char *source, bool prefix, int err)
{
    size_t lost = 0, slen = strlen(source);

    for (size_t i = 0; i < b->old->count; i++) {
        const struct keys_entry *e = &b->old->entries[i];
        lost += prefix ? strncmp(e->source, source, slen) == 0
                       : strcmp(e->source, source) == 0;
    }
    if (b->memo != NULL) {
        log_error("%s: cannot read: %s; none of its keys grants access until "
                  "it can be read (%zu key(s) withdrawn), retrying",
                  source,
                  strerror(-err),
                  lost);
    } else {
        log_error("%s: cannot read: %s; none of its keys grants access",
                  source,
                  strerror(-err));
    }
    b->retry = true;
}

static void
add_text(struct build *b,
         const char *source,
         const char *user,
         const char *text,
         size_t len)
{
    unsigned flags = b->cfg->permit_user_env ? KEYS_PARSE_PERMIT_ENV : 0;
    bool quiet = memo_seen(b->memo, source, text, len);

    if (keys_parse_text(source,
                        user,
                        text,
                        len,
                        flags,
                        quiet,
                        NULL,
                        NULL,
                        &b->set) == -ENOMEM) {
        b->failed = true;
    }
}

/* Reads a checked, open source file; closes fd. SRC_OK with the text in
 * *ret_text (malloc'ed, NUL-terminated) and *ret_len; any other status
 * has been logged. */
static enum src_status
read_fd(struct build *b,
        int fd,
        const char *source,
        const char *user,
        char **ret_text,
        size_t *ret_len)
{
    struct stat st;
    const char *why;
    int r;

    if (fstat(fd, &st) < 0) {
        r = -errno;
        (void)close(fd);
        source_unreadable(b, source, false, r);
        return SRC_UNREADABLE;
    }
    if (!S_ISREG(st.st_mode)) {
        /* A directory or FIFO where the file was: likely a deployment in
         * progress; treat as unreadable rather than as deleted. */
        (void)close(fd);
        source_unreadable(b,
                          source,
                          false,
                          S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL);
        return SRC_UNREADABLE;
    }
    why = check_file(&st, lookup_uid(user));
    if (why != NULL) {
        (void)close(fd);
        log_error("%s: refused: %s", source, why);
        return SRC_REFUSED;
    }
    r = read_source(fd, ret_text, ret_len);
    (void)close(fd);
    if (r == -EFBIG) {
        log_error("%s: refused: larger than %d bytes", source, KEYS_MAX_FILE);
        return SRC_REFUSED;
    }
    if (r == -ENOMEM) {
        b->failed = true;
        return SRC_UNREADABLE;
    }
    if (r < 0) {
        source_unreadable(b, source, false, r);
        return SRC_UNREADABLE;
    }
    return SRC_OK;
}

/* Reads a checked, open source file of authorized keys; closes fd. */
static void
add_fd(struct build *b, int fd, const char *source, const char *user)
{
    char *text = NULL;
    size_t len = 0;

    if (read_fd(b, fd, source, user, &text, &len) == SRC_OK) {
        add_text(b, source, user, text, len);
        free(text);
    }
}

/* Opens and checks a *_FILE source (a path as seen in the container,
 * followed if a symlink: a secret mount) and reads it; as read_fd. */
static enum src_status
read_file_source(struct build *b,
                 const char *source,
                 const char *user,
                 char **ret_text,
                 size_t *ret_len)
{
    char path[PATH_MAX], resolved[PATH_MAX];
    const char *why;
    int fd;

    if (root_path(path, sizeof(path), source) < 0) {
        log_error("%s: refused: path too long", source);
        return SRC_REFUSED;
    }
    /* The _FILE may be a symlink (a secret mount): follow it, then check
     * what it resolves to. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int r = -errno;
        if (r == -ENOENT || r == -ENOTDIR) {
            /* Retried every few seconds: say it once per disappearance. */
            /* The path opened: AIRLOCK_ROOT applied. */
            if (!memo_seen(b->memo, source, "\001missing", 8)) {
                log_warn("%s: does not exist; no keys from it", path);
            }
            b->retry = true; /* the watch may need re-arming */
            return SRC_GONE;
        }
        source_unreadable(b, source, false, r);
        return SRC_UNREADABLE;
    }
    if (realpath(path, resolved) == NULL) {
        int r = -errno;
        (void)close(fd);
        source_unreadable(b, source, false, r);
        return SRC_UNREADABLE;
    }
    why = check_parents(resolved, lookup_uid(user));
    if (why != NULL) {
        (void)close(fd);
        log_error("%s: refused: %s", resolved, why);
        return SRC_REFUSED;
    }
    return read_fd(b, fd, source, user, ret_text, ret_len);
}

static void
add_file_source(struct build *b)
{
    char *text = NULL;
    size_t len = 0;

    if (read_file_source(b, b->cfg->file, b->cfg->user, &text, &len) ==
        SRC_OK) {
        add_text(b, b->cfg->file, b->cfg->user, text, len);
        free(text);
    }
}

/* openat2 with RESOLVE_BENEATH: Kubernetes' "root -> ..data/root"
 * symlinks are followed, but only inside the directory. */
static int
open_beneath(int dfd, const char *name)
{
    struct open_how how;
    long fd;

    memset(&how, 0, sizeof(how));
    how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    fd = syscall(SYS_openat2, dfd, name, &how, sizeof(how));
    if (fd < 0 && errno == ENOSYS) {
        /* Before Linux 5.6: no symlinks at all in the directory. */
        fd = openat(dfd,
                    name,
                    O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
    }
    return fd < 0 ? -errno : (int)fd;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
add_dir_source(struct build *b)
{
    const char *dir = b->cfg->dir;
    char path[PATH_MAX], resolved[PATH_MAX], prefix[PATH_MAX];
    char **names = NULL;
    size_t n = 0;
    struct stat st;
    struct dirent *de;
    const char *why;
    DIR *d = NULL;
    int dfd;

    if (root_path(path, sizeof(path), dir) < 0 ||
        snprintf(prefix,
                 sizeof(prefix),
                 "%s/",
                 strcmp(dir, "/") == 0 ? "" : dir) >= (int)sizeof(prefix)) {
        log_error("%s: refused: path too long", dir);
        return;
    }
    dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        int r = -errno;
        if (r == -ENOENT) {
            if (!b->cfg->dir_is_default &&
                !memo_seen(b->memo, dir, "\001missing", 8)) {
                log_warn("%s: does not exist; no keys from it", path);
            }
            b->retry = true;
            return;
        }
        source_unreadable(b, prefix, true, r);
        return;
    }
    if (fstat(dfd, &st) < 0 || realpath(path, resolved) == NULL) {
        int r = -errno;
        (void)close(dfd);
        source_unreadable(b, prefix, true, r);
        return;
    }
    why = !owner_ok(&st, (uid_t)-1) ? "bad ownership (must be owned by root)"
          : ((st.st_mode & 022) != 0 && !(st.st_mode & S_ISVTX))
              ? "bad modes (writable by group or others)"
              : check_parents(resolved, (uid_t)-1);
    if (why != NULL) {
        (void)close(dfd);
        log_error("%s: refused: %s", dir, why);
        return;
    }
    d = fdopendir(dup(dfd));
    if (d == NULL) {
        int r = -errno;
        (void)close(dfd);
        source_unreadable(b, prefix, true, r);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        char **nn;
        /* "..data", "..2026_..." and dot files are not users. */
        if (de->d_name[0] == '.') {
            continue;
        }
        nn = realloc(names, (n + 1) * sizeof(*nn));
        if (nn == NULL || (nn[n] = strdup(de->d_name)) == NULL) {
            names = nn ? nn : names;
            b->failed = true;
            break;
        }
        names = nn;
        n++;
    }
    (void)closedir(d);
    if (n > 0) {
        qsort(names, n, sizeof(*names), cmp_str);
    }

    for (size_t i = 0; i < n && !b->failed; i++) {
        char source[PATH_MAX];
        uid_t uid;
        int fd;

        if (snprintf(source, sizeof(source), "%s%s", prefix, names[i]) >=
            (int)sizeof(source)) {
            continue;
        }
        if (!keys_valid_user(names[i])) {
            log_warn("%s: '%s' is not a valid user name, ignoring",
                     source,
                     names[i]);
            continue;
        }
        /* The entry itself (often a symlink) must be root's or the user's:
         * in a sticky 1777 secret volume anybody may add entries. */
        uid = lookup_uid(names[i]);
        if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            continue; /* vanished since readdir */
        }
        if (uid == (uid_t)-1) {
            /* Not fatal (the user may be created later), but the first
             * thing to know when a login fails. Said once per change. */
            char key[PATH_MAX + 16];
            (void)snprintf(key, sizeof(key), "%s#nouser", source);
            if (!memo_seen(b->memo, key, "", 0)) {
                log_warn("%s: user '%s' does not exist in /etc/passwd; its "
                         "keys cannot log in until it does",
                         source,
                         names[i]);
            }
        }
        if (!owner_ok(&st, uid)) {
            log_error("%s: refused: bad ownership (must be owned by root or "
                      "the user)",
                      source);
            continue;
        }
        fd = open_beneath(dfd, names[i]);
        if (fd == -ENOENT) {
            continue; /* a dangling link: no keys */
        }
        if (fd == -EXDEV || fd == -ELOOP) {
            log_error("%s: refused: symlink leads outside the directory",
                      source);
            continue;
        }
        if (fd < 0) {
            source_unreadable(b, source, false, fd);
            continue;
        }
        add_fd(b, fd, source, names[i]);
    }
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    (void)close(dfd);
}

/* ---- Building the set ------------------------------------------------- */

/* Remembers which users have a store file, so that a user with no key
 * left loses it. The files' contents are never read back: what they say
 * may be stale (an earlier run, a read-only root) and grants nothing. */
static void
list_store_users(struct build *b)
{
    size_t n = 0;

    b->users = calloc(KEYS_MAX_USERS, sizeof(*b->users));
    if (b->users == NULL) {
        b->failed = true;
        return;
    }
    if (keys_store_users(b->users, KEYS_MAX_USERS, &n) < 0) {
        return;
    }
    b->nusers = n;
}

/* A key for a user the container does not have can never log in; say so
 * once per user at each sync (the set is sorted by user, so a user's keys
 * are adjacent), and drop it from the set. A numeric name is a uid that
 * needs no passwd entry (as setuser's). */
static void
drop_unknown_users(struct build *b)
{
    struct keys_set *set = &b->set;
    char last[KEYS_USER_MAX] = "";
    bool last_known = false;
    size_t out = 0;

    for (size_t i = 0; i < set->count; i++) {
        struct keys_entry *e = &set->entries[i];

        /* One passwd lookup per user, not per key. */
        if (i == 0 || strcmp(last, e->user) != 0) {
            memcpy(last, e->user, sizeof(last));
            last_known = strspn(e->user, "0123456789") == strlen(e->user) ||
                         lookup_uid(e->user) != (uid_t)-1;
            if (!last_known) {
                size_t n = 0;
                for (size_t k = i; k < set->count; k++) {
                    n += strcmp(set->entries[k].user, e->user) == 0;
                }
                log_error("%s: user '%s' does not exist: its %zu key(s) "
                          "rejected",
                          e->source,
                          e->user,
                          n);
            }
        }
        if (last_known) {
            if (out != i) {
                set->entries[out] = *e;
                memset(e, 0, sizeof(*e));
            }
            out++;
            continue;
        }
        keys_entry_free(e);
        memset(e, 0, sizeof(*e));
    }
    set->count = out;
}

static int
cmp_entry_user(const void *a, const void *b)
{
    const struct keys_entry *x = a, *y = b;

    return strcmp(x->user, y->user);
}

/* Folds duplicate keys of a user: the first occurrence wins. */
static void
fold_duplicates(struct keys_set *set)
{
    size_t out = 0;

    for (size_t i = 0; i < set->count; i++) {
        struct keys_entry *e = &set->entries[i];
        const struct keys_entry *first = NULL;
        for (size_t k = 0; k < out; k++) {
            const struct keys_entry *f = &set->entries[k];
            if (strcmp(f->user, e->user) == 0 &&
                strcmp(f->type, e->type) == 0 && f->blob_len == e->blob_len &&
                memcmp(f->blob, e->blob, e->blob_len) == 0) {
                first = f;
                break;
            }
        }
        if (first != NULL) {
            log_info("%s:%u: duplicate of %s:%u (%s), folded",
                     e->source,
                     e->line,
                     first->source,
                     first->line,
                     e->fingerprint);
            keys_entry_free(e);
            continue;
        }
        if (out != i) {
            set->entries[out] = *e;
            memset(e, 0, sizeof(*e));
        }
        out++;
    }
    set->count = out;
}

/* Stable sort by user, so each user's keys keep the source order (env,
 * file, directory; lines in order). qsort is not stable; sets are small. */
static void
sort_by_user(struct keys_set *set)
{
    for (size_t i = 1; i < set->count; i++) {
        struct keys_entry tmp = set->entries[i];
        size_t k = i;
        while (k > 0 && cmp_entry_user(&set->entries[k - 1], &tmp) > 0) {
            set->entries[k] = set->entries[k - 1];
            k--;
        }
        set->entries[k] = tmp;
    }
}

/* ---- CA keys and the revocation list ---------------------------------- */

/* keys_parse_text callback for CA key lines: a plain public key, no
 * options (a CA line's options would have no meaning), not a FIDO key
 * (its signatures are not plain signatures over the data). */
static void
ca_line(void *userdata,
        const char *source,
        unsigned line,
        const struct keys_entry *e,
        const char *errstr)
{
    struct build *b = userdata;
    char *opts = NULL;

    if (e != NULL) {
        opts = keys_options_format(&e->opts);
        if (opts == NULL) {
            b->failed = true;
            return;
        }
        if (opts[0] != '\0') {
            errstr = "options are not allowed on a CA key line";
        } else if (strncmp(e->type, "sk-", 3) == 0) {
            errstr = "security keys cannot be certificate authorities";
        } else if (keys_set_add(&b->cas, e) < 0) {
            b->failed = true;
        }
        free(opts);
    }
    if (errstr != NULL && !b->ca_quiet) {
        log_warn("%s:%u: rejected: %s", source, line, errstr);
    }
}

static void
add_ca_text(struct build *b, const char *source, const char *text, size_t len)
{
    if (len > KEYS_MAX_FILE) {
        log_error("%s: refused: larger than %d bytes", source, KEYS_MAX_FILE);
        return;
    }
    b->ca_quiet = memo_seen(b->memo, source, text, len);
    if (keys_parse_text(source,
                        b->cfg->user,
                        text,
                        len,
                        0,
                        true,
                        ca_line,
                        b,
                        NULL) == -ENOMEM) {
        b->failed = true;
    }
}

static void
add_ca_sources(struct build *b)
{
    if (b->cfg->ca_keys != NULL) {
        add_ca_text(b,
                    KEYS_CA_ENV_SOURCE,
                    b->cfg->ca_keys,
                    strlen(b->cfg->ca_keys));
    }
    if (b->cfg->ca_file != NULL) {
        char *text = NULL;
        size_t len = 0;
        if (read_file_source(b, b->cfg->ca_file, b->cfg->user, &text, &len) ==
            SRC_OK) {
            add_ca_text(b, b->cfg->ca_file, text, len);
            free(text);
        }
    }
    fold_duplicates(&b->cas);
}

/* The revocation list. Fail closed, as sshd does with RevokedKeys: when
 * it is configured but cannot be read, or has a line that does not
 * parse (which may be the line revoking the key at hand), no key and no
 * certificate grants access until it is fixed. */
static void
add_revoked(struct build *b)
{
    const char *source = b->cfg->revoked_file;
    char *text = NULL;
    size_t len = 0;
    const char *errstr = NULL;
    unsigned line = 0;
    enum src_status st;
    bool seen;
    int r;

    if (source == NULL) {
        return;
    }
    st = read_file_source(b, source, b->cfg->user, &text, &len);
    if (st != SRC_OK) {
        b->revoked.broken = true;
        crypto_generichash(b->revoked_hash,
                           sizeof(b->revoked_hash),
                           (const unsigned char *)"\001broken",
                           7,
                           NULL,
                           0);
        if (!memo_seen(b->memo, source, "\001broken", 7)) {
            log_error("%s: revocation list unavailable; no key grants access "
                      "until it can be read",
                      source);
        }
        b->retry = true;
        return;
    }
    crypto_generichash(b->revoked_hash,
                       sizeof(b->revoked_hash),
                       (const unsigned char *)text,
                       len,
                       NULL,
                       0);
    r = keys_revoked_parse(text, len, &b->revoked, &line, &errstr);
    seen = memo_seen(b->memo, source, text, len);
    if (r == -ENOMEM) {
        b->failed = true;
    } else if (r < 0) {
        b->revoked.broken = true;
        if (!seen && line > 0) {
            log_error("%s:%u: rejected: %s; the revocation list is invalid: "
                      "no key grants access until it is fixed",
                      source,
                      line,
                      errstr);
        } else if (!seen) {
            /* a binary KRL has no lines */
            log_error("%s: rejected: %s; the revocation list is invalid: no "
                      "key grants access until it is fixed",
                      source,
                      errstr);
        }
    } else if (!seen) {
        log_info("%s: revocation list: %zu serial range(s), %zu key ID(s), "
                 "%zu key(s)",
                 source,
                 b->revoked.nserials,
                 b->revoked.nids,
                 b->revoked.nfps + b->revoked.nsha1);
    }
    free(text);
}

static int
build_set(struct build *b)
{
    static const struct keys_set empty;

    if (b->old == NULL) {
        b->old = b->memo != NULL ? &b->memo->live : &empty;
    }
    list_store_users(b);
    if (b->cfg->env_keys != NULL) {
        size_t len = strlen(b->cfg->env_keys);
        if (len > KEYS_MAX_FILE) {
            log_error("%s: refused: larger than %d bytes",
                      KEYS_ENV_SOURCE,
                      KEYS_MAX_FILE);
        } else {
            add_text(b, KEYS_ENV_SOURCE, b->cfg->user, b->cfg->env_keys, len);
        }
    }
    if (b->cfg->file != NULL) {
        add_file_source(b);
    }
    if (b->cfg->dir != NULL) {
        add_dir_source(b);
    }
    if (b->failed) {
        return -ENOMEM;
    }
    add_ca_sources(b);
    add_revoked(b);
    if (b->failed) {
        return -ENOMEM;
    }
    sort_by_user(&b->set);
    fold_duplicates(&b->set);
    drop_unknown_users(b);
    return 0;
}

int
keys_collect(const struct keys_config *cfg, struct keys_set *ret)
{
    struct build b;
    int r;

    memset(&b, 0, sizeof(b));
    b.cfg = cfg;
    r = build_set(&b);
    free(b.users);
    keys_set_free(&b.cas);
    keys_revoked_free(&b.revoked);
    if (r < 0) {
        keys_set_free(&b.set);
        return r;
    }
    *ret = b.set;
    return 0;
}

/* ---- Sync ------------------------------------------------------------- */

static bool
same_entry(const struct keys_entry *a, const struct keys_entry *b)
{
    bool same;
    char *fa, *fb;

    if (strcmp(a->user, b->user) != 0 ||
        strcmp(a->fingerprint, b->fingerprint) != 0) {
        return false;
    }
    fa = keys_options_format(&a->opts);
    fb = keys_options_format(&b->opts);
    same = fa != NULL && fb != NULL && strcmp(fa, fb) == 0;
    free(fa);
    free(fb);
    return same;
}

static bool
set_has(const struct keys_set *s, const struct keys_entry *e)
{
    for (size_t i = 0; i < s->count; i++) {
        if (same_entry(&s->entries[i], e)) {
            return true;
        }
    }
    return false;
}

static void
log_entry(const char *what, const struct keys_entry *e)
{
    char *opts = keys_options_format(&e->opts);

    log_info("%s key for '%s': %s %u %s '%s' from %s:%u options '%s'",
             what,
             e->user,
             e->type,
             e->bits,
             e->fingerprint,
             e->comment,
             e->source,
             e->line,
             opts ? keys_sanitize(opts) : "?");
    free(opts);
}

/* Writes the store files for inspection: one per user with keys, and
 * removes those of users with none. Returns 0 or the first -errno
 * (logged); *changed says whether a file was written or removed. */
static int
write_store(struct build *b, bool *changed)
{
    char dir[PATH_MAX];
    int r = keys_store_prepare();

    if (r < 0) {
        /* The path actually used: AIRLOCK_ROOT and AIRLOCK_RUN_DIR applied. */
        if (run_path(dir, sizeof(dir), KEYS_STORE_SUBDIR) < 0) {
            (void)copy_string(dir, sizeof(dir), KEYS_STORE_DIR);
        }
        return log_errno(LOG_LEVEL_WARN,
                         r,
                         "key store '%s' (for inspection only) not written",
                         dir);
    }
    for (size_t i = 0; i < b->set.count;) {
        const char *user = b->set.entries[i].user;
        bool written = false;
        size_t k = i;
        while (k < b->set.count && strcmp(b->set.entries[k].user, user) == 0) {
            k++;
        }
        r = keys_store_write(user, &b->set, i, k, &written);
        *changed = *changed || written;
        if (r < 0) {
            return log_errno(LOG_LEVEL_WARN,
                             r,
                             "key store of '%s' (for inspection only) not "
                             "written",
                             user);
        }
        i = k;
    }
    /* Users with no key left lose their store file. */
    for (size_t i = 0; i < b->nusers; i++) {
        const char *user = b->users[i];
        bool still = false;
        for (size_t k = 0; k < b->set.count && !still; k++) {
            still = strcmp(b->set.entries[k].user, user) == 0;
        }
        if (!still) {
            r = keys_store_remove(user);
            if (r < 0) {
                return log_errno(LOG_LEVEL_WARN,
                                 r,
                                 "stale key store of '%s' not removed (it "
                                 "grants nothing)",
                                 user);
            }
            *changed = true;
        }
    }
    return 0;
}

int
keys_sync_with(const struct keys_config *cfg,
               struct keys_sync_memo *memo,
               bool *ret_retry,
               bool *ret_changed)
{
    struct build b;
    bool first = memo == NULL || !memo->started;
    bool changed = false;
    size_t added = 0, removed = 0;
    int r, w;

    memset(&b, 0, sizeof(b));
    b.cfg = cfg;
    b.memo = memo;
    r = build_set(&b);
    if (r < 0) {
        /* Nothing current can be vouched for: grant nothing (fail closed)
         * rather than keep a set that may hold removed keys. */
        log_errno(LOG_LEVEL_ERROR,
                  r,
                  "key sources could not be applied; no key grants access "
                  "until they can");
        b.retry = true;
        if (memo != NULL && (memo->live.count > 0 || memo->cas.count > 0)) {
            keys_set_free(&memo->live);
            keys_set_free(&memo->cas);
            changed = true;
        }
        goto out;
    }

    for (size_t i = 0; i < b.set.count; i++) {
        bool is_new = !set_has(b.old, &b.set.entries[i]);
        added += is_new;
        if (first || is_new) {
            log_entry("accepted", &b.set.entries[i]);
        }
    }
    for (size_t i = 0; i < b.old->count; i++) {
        if (!set_has(&b.set, &b.old->entries[i])) {
            removed++;
            log_entry("removed", &b.old->entries[i]);
        }
    }
    if (first || added > 0 || removed > 0) {
        log_info("key set: %zu key(s) (%zu added, %zu removed)",
                 b.set.count,
                 added,
                 removed);
    }
    {
        static const struct keys_set none;
        const struct keys_set *old_cas = memo != NULL ? &memo->cas : &none;
        size_t ca_added = 0, ca_removed = 0;
        for (size_t i = 0; i < b.cas.count; i++) {
            bool is_new = !set_has(old_cas, &b.cas.entries[i]);
            ca_added += is_new;
            if (first || is_new) {
                log_entry("accepted CA", &b.cas.entries[i]);
            }
        }
        for (size_t i = 0; i < old_cas->count; i++) {
            if (!set_has(&b.cas, &old_cas->entries[i])) {
                ca_removed++;
                log_entry("removed CA", &old_cas->entries[i]);
            }
        }
        changed = changed || ca_added > 0 || ca_removed > 0;
        if (memo != NULL && sodium_memcmp(memo->revoked_hash,
                                          b.revoked_hash,
                                          sizeof(b.revoked_hash)) != 0) {
            changed = true;
        }
    }
    /* The store is a view of the set; failing to write it (read-only
     * root) changes nothing about who may log in. */
    w = write_store(&b, &changed);
    r = memo == NULL && w < 0 ? w : (int)b.set.count;
    if (memo != NULL) {
        memo->started = true;
        keys_set_free(&memo->live);
        memo->live = b.set;
        memset(&b.set, 0, sizeof(b.set));
        keys_set_free(&memo->cas);
        memo->cas = b.cas;
        memset(&b.cas, 0, sizeof(b.cas));
        keys_revoked_free(&memo->revoked);
        memo->revoked = b.revoked;
        memset(&b.revoked, 0, sizeof(b.revoked));
        memcpy(memo->revoked_hash, b.revoked_hash, sizeof(b.revoked_hash));
    }
out:
    if (ret_retry != NULL) {
        *ret_retry = b.retry;
    }
    if (ret_changed != NULL) {
        *ret_changed = changed || added > 0 || removed > 0;
    }
    free(b.users);
    keys_set_free(&b.set);
    keys_set_free(&b.cas);
    keys_revoked_free(&b.revoked);
    return r;
}

const struct keys_set *
keys_sync_memo_set(const struct keys_sync_memo *memo)
{
    return &memo->live;
}

struct keys_trust
keys_sync_memo_trust(const struct keys_sync_memo *memo)
{
    struct keys_trust t = {&memo->live, &memo->cas, &memo->revoked};
    return t;
}

int
keys_sync(const struct keys_config *cfg)
{
    return keys_sync_with(cfg, NULL, NULL, NULL);
}
