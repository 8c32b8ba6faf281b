/* The key watcher: inotify on the key directory and on the directory of
 * the _FILE, a short settle delay so a Kubernetes secret update (several
 * renames) causes one rebuild, and a periodic retry while a source is
 * unreadable or missing. Meant to be embedded in a poll loop. */
#include "keys/keys.h"
#include "keys/internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/timeutil.h"

/* Kubelet's update is a handful of syscalls within a few ms; 50 ms of
 * settling keeps the rebuild well inside the one second we promise. */
#define SETTLE_MS   50
#define RETRY_MS    5000
#define MAX_SUBDIRS 64
#define MAX_FILES   256

#define WATCH_MASK                                                          \
    (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | \
     IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct keys_watch {
    struct keys_config cfg; /* our own copy */
    struct keys_sync_memo *memo;
    int fd;
    uint64_t due;      /* a change was seen: sync at this time */
    uint64_t retry_at; /* a source needs another try at this time */
};

static int
copy_config(struct keys_config *dst, const struct keys_config *src)
{
    *dst = *src;
    dst->env_keys = src->env_keys ? strdup(src->env_keys) : NULL;
    dst->file = src->file ? strdup(src->file) : NULL;
    dst->dir = src->dir ? strdup(src->dir) : NULL;
    dst->ca_keys = src->ca_keys ? strdup(src->ca_keys) : NULL;
    dst->ca_file = src->ca_file ? strdup(src->ca_file) : NULL;
    dst->revoked_file = src->revoked_file ? strdup(src->revoked_file) : NULL;
    if ((src->env_keys && !dst->env_keys) || (src->file && !dst->file) ||
        (src->dir && !dst->dir) || (src->ca_keys && !dst->ca_keys) ||
        (src->ca_file && !dst->ca_file) ||
        (src->revoked_file && !dst->revoked_file)) {
        keys_config_free(dst);
        return -ENOMEM;
    }
    return 0;
}

/* Adds a watch on path (a directory under AIRLOCK_ROOT, followed if a
 * symlink). Watching an inode already watched is harmless: the kernel
 * returns the same descriptor. Returns false when it could not. */
static bool
watch_dir(struct keys_watch *w, const char *rooted)
{
    return w->fd >= 0 && inotify_add_watch(w->fd, rooted, WATCH_MASK) >= 0;
}

/* What changes a file's content or metadata in place. A watch on the file
 * itself is the only one that sees a write made through another mount of
 * the same inode: Docker's `-v host-file:container-file` and compose's
 * secrets bind-mount single files, and the host rewrites them there, which
 * no watch on the container's directory reports. */
#define FILE_MASK \
    (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

/* Adds a watch on a regular file (symlinks followed); false on failure. */
static bool
watch_file(struct keys_watch *w, const char *rooted)
{
    return w->fd >= 0 && inotify_add_watch(w->fd, rooted, FILE_MASK) >= 0;
}

/* Watches each regular file in the key directory too (bounded), for the
 * bind-mounted files watch_file explains. */
static void
watch_files_in(struct keys_watch *w, const char *dir)
{
    struct dirent *de;
    unsigned n = 0;
    DIR *d = opendir(dir);

    if (d == NULL) {
        return;
    }
    while ((de = readdir(d)) != NULL && n < MAX_FILES) {
        char f[PATH_MAX];
        struct stat st;
        if (de->d_name[0] == '.' ||
            snprintf(f, sizeof(f), "%s/%s", dir, de->d_name) >=
                (int)sizeof(f) ||
            stat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        (void)watch_file(w, f);
        n++;
    }
    (void)closedir(d);
}

/* Watches the directories inside the key directory too: a Kubernetes
 * secret keeps its files in "..2026_..." (reached through ..data), and a
 * chmod/chown or in-place edit there is reported only to a watch on that
 * directory. Bounded; a vanished directory's watch goes away by itself. */
static void
watch_subdirs(struct keys_watch *w, const char *dir)
{
    struct dirent *de;
    unsigned n = 0;
    DIR *d = opendir(dir);

    if (d == NULL) {
        return;
    }
    while ((de = readdir(d)) != NULL && n < MAX_SUBDIRS) {
        char sub[PATH_MAX];
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >=
                (int)sizeof(sub) ||
            lstat(sub, &st) < 0 || !S_ISDIR(st.st_mode)) {
            continue;
        }
        (void)watch_dir(w, sub);
        n++;
    }
    (void)closedir(d);
}

/* (Re-)arms the watches after each sync: a directory that was deleted
 * and recreated, or that appeared, is a new inode. */
/* Watches a *_FILE source (NULL: none): the file itself sees a write
 * through another mount of it; its own directory sees rename-over,
 * delete and create; if it is a symlink, the target's directory sees a
 * ..data swap. */
static bool
watch_source_file(struct keys_watch *w, const char *file)
{
    char path[PATH_MAX], resolved[PATH_MAX];
    bool all = true;
    char *slash;

    if (file == NULL || root_path(path, sizeof(path), file) < 0) {
        return true;
    }
    (void)watch_file(w, path);
    if (realpath(path, resolved) != NULL) {
        slash = strrchr(resolved, '/');
        if (slash != NULL && slash != resolved) {
            *slash = '\0';
            all = watch_dir(w, resolved) && all;
        }
    }
    slash = strrchr(path, '/');
    if (slash != NULL && slash != path) {
        *slash = '\0';
        all = watch_dir(w, path) && all;
    }
    return all;
}

static bool
arm(struct keys_watch *w)
{
    char path[PATH_MAX];
    bool all = true;

    if (w->cfg.dir != NULL && root_path(path, sizeof(path), w->cfg.dir) == 0) {
        all = watch_dir(w, path) && all;
        watch_subdirs(w, path);
        watch_files_in(w, path);
    }
    all = watch_source_file(w, w->cfg.file) && all;
    all = watch_source_file(w, w->cfg.ca_file) && all;
    all = watch_source_file(w, w->cfg.revoked_file) && all;
    return all;
}

static int
sync_now(struct keys_watch *w)
{
    bool retry = false, changed = false;
    int r = keys_sync_with(&w->cfg, w->memo, &retry, &changed);

    if (!arm(w) || r < 0) {
        retry = true;
    }
    w->due = DEADLINE_NONE;
    w->retry_at = retry || w->fd < 0 ? now_ms() + RETRY_MS : DEADLINE_NONE;
    return r < 0 ? r : changed ? 1 : 0;
}

struct keys_watch *
keys_watch_new(const struct keys_config *cfg)
{
    struct keys_watch *w = calloc(1, sizeof(*w));
    int saved;

    if (w == NULL) {
        return NULL;
    }
    w->fd = -1;
    if (copy_config(&w->cfg, cfg) < 0) {
        free(w);
        errno = ENOMEM;
        return NULL;
    }
    w->memo = keys_sync_memo_new();
    if (w->memo == NULL) {
        errno = ENOMEM;
        goto fail;
    }
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        /* Out of inotify instances (fs.inotify.max_user_instances is 128
         * per uid, shared with the app): a key change must still reach
         * the live set, so re-read on the retry timer instead. */
        log_errno(LOG_LEVEL_WARN,
                  -errno,
                  "inotify unavailable; re-reading the key sources every "
                  "%d s",
                  RETRY_MS / 1000);
    }
    (void)sync_now(w);
    return w;
fail:
    saved = errno;
    (void)keys_watch_free(w);
    errno = saved;
    return NULL;
}

const struct keys_set *
keys_watch_set(const struct keys_watch *w)
{
    return keys_sync_memo_set(w->memo);
}

struct keys_trust
keys_watch_trust(const struct keys_watch *w)
{
    return keys_sync_memo_trust(w->memo);
}

int
keys_watch_fd(const struct keys_watch *w)
{
    return w->fd;
}

int
keys_watch_timeout(const struct keys_watch *w)
{
    return deadline_timeout(now_ms(), deadline_min(w->due, w->retry_at));
}

int
keys_watch_handle(struct keys_watch *w)
{
    /* Aligned for struct inotify_event, as inotify(7) shows. */
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool seen = false;
    uint64_t now;

    while (w->fd >= 0) {
        ssize_t n = read(w->fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                return log_errno(LOG_LEVEL_ERROR, -errno, "inotify read");
            }
            break;
        }
        if (n == 0) {
            break;
        }
        /* Any event in a watched directory may change the set, and the
         * sync is cheap: no need to look at names. IN_Q_OVERFLOW too. */
        seen = true;
    }
    now = now_ms();
    if (seen && w->due == DEADLINE_NONE) {
        w->due = now + SETTLE_MS;
    }
    if (now >= w->due || now >= w->retry_at) {
        return sync_now(w);
    }
    return 0;
}

struct keys_watch *
keys_watch_free(struct keys_watch *w)
{
    if (w == NULL) {
        return NULL;
    }
    if (w->fd >= 0) {
        (void)close(w->fd);
    }
    keys_sync_memo_free(w->memo);
    keys_config_free(&w->cfg);
    free(w);
    return NULL;
}
