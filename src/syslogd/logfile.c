#include "syslogd/logfile.h"

#include "common/safeio.h"
#include "common/strutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIZE_MAX_BYTES (UINT64_C(1) << 40)

int
logfile_init(struct logfile *lf,
             const char *path,
             uint64_t rotate_size,
             unsigned keep)
{
    memset(lf, 0, offsetof(struct logfile, buf));
    lf->fd = -1;
    lf->rotate_size = rotate_size;
    lf->keep = keep > LOGFILE_KEEP_MAX ? LOGFILE_KEEP_MAX : keep;
    return copy_string(lf->path, sizeof(lf->path), path);
}

int
logfile_open(struct logfile *lf)
{
    char dir[PATH_MAX];
    char *slash;
    struct stat st;
    int fd, r;

    if (lf->fd >= 0) {
        return 0;
    }
    r = copy_string(dir, sizeof(dir), lf->path);
    if (r < 0) {
        return r;
    }
    slash = strrchr(dir, '/');
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        r = mkdir_parents(dir, 0755);
        if (r < 0) {
            return r;
        }
    }
    fd = open(lf->path,
              O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
              0640);
    if (fd < 0) {
        return -errno;
    }
    if (fstat(fd, &st) < 0) {
        r = -errno;
        (void)close(fd);
        return r;
    }
    if (!S_ISREG(st.st_mode)) {
        (void)close(fd);
        return -EINVAL;
    }
    lf->fd = fd;
    lf->size = (uint64_t)st.st_size + lf->len;
    return 0;
}

int
logfile_flush(struct logfile *lf)
{
    struct stat st;
    int r;

    if (lf->len == 0) {
        return 0;
    }
    if (lf->fd < 0) {
        r = logfile_open(lf);
        if (r < 0) {
            lf->size -= lf->len < lf->size ? lf->len : lf->size;
            lf->len = 0;
            return r;
        }
    }
    r = write_all(lf->fd, lf->buf, lf->len);
    lf->len = 0;
    if (r < 0 && fstat(lf->fd, &st) == 0) {
        /* Part of the buffer may have been written. */
        lf->size = (uint64_t)st.st_size;
    }
    return r;
}

static int
rotated_name(char *buf, size_t size, const char *path, unsigned n)
{
    int w = snprintf(buf, size, "%s.%u", path, n);
    return (w < 0 || (size_t)w >= size) ? -ENAMETOOLONG : 0;
}

int
logfile_rotate(struct logfile *lf)
{
    char from[PATH_MAX + 16], to[PATH_MAX + 16];
    int r, first_err;

    first_err = logfile_flush(lf);
    if (lf->fd >= 0) {
        (void)close(lf->fd);
        lf->fd = -1;
    }
    if (lf->keep == 0) {
        if (truncate(lf->path, 0) < 0 && errno != ENOENT && first_err == 0) {
            first_err = -errno;
        }
    } else {
        /* Oldest first, so each rename lands on a name already moved away
         * (file.keep is overwritten, which is the one dropped). */
        for (unsigned i = lf->keep; i >= 1; i--) {
            if (i == 1) {
                r = copy_string(from, sizeof(from), lf->path);
            } else {
                r = rotated_name(from, sizeof(from), lf->path, i - 1);
            }
            if (r == 0) {
                r = rotated_name(to, sizeof(to), lf->path, i);
            }
            if (r == 0 && rename(from, to) < 0 && errno != ENOENT) {
                r = -errno;
            }
            if (r < 0 && first_err == 0) {
                first_err = r;
            }
        }
    }
    lf->size = 0;
    r = logfile_open(lf);
    return first_err != 0 ? first_err : r;
}

int
logfile_reopen(struct logfile *lf)
{
    int r = logfile_flush(lf);

    if (lf->fd >= 0) {
        (void)close(lf->fd);
        lf->fd = -1;
    }
    int o = logfile_open(lf);
    return r != 0 ? r : o;
}

int
logfile_write(struct logfile *lf, const char *line, size_t len)
{
    int r = 0;

    if (lf->fd < 0) {
        r = logfile_open(lf);
        if (r < 0) {
            return r;
        }
    }
    if (lf->rotate_size > 0 && lf->size > 0 &&
        lf->size + len > lf->rotate_size) {
        r = logfile_rotate(lf);
        if (lf->fd < 0) {
            return r;
        }
    }
    if (len > sizeof(lf->buf) - lf->len) {
        int f = logfile_flush(lf);
        if (f < 0 && r == 0) {
            r = f;
        }
    }
    if (len > sizeof(lf->buf)) {
        int w = write_all(lf->fd, line, len);
        if (w < 0) {
            return r != 0 ? r : w;
        }
    } else {
        memcpy(lf->buf + lf->len, line, len);
        lf->len += len;
    }
    lf->size += len;
    return r;
}

void
logfile_close(struct logfile *lf)
{
    (void)logfile_flush(lf);
    if (lf->fd >= 0) {
        (void)close(lf->fd);
        lf->fd = -1;
    }
}

int
logfile_parse_size(const char *s, uint64_t *ret)
{
    char digits[32];
    size_t n;
    uint64_t v, mult = 1;
    int r;

    if (s == NULL) {
        return -EINVAL;
    }
    n = strlen(s);
    if (n == 0 || n >= sizeof(digits)) {
        return n == 0 ? -EINVAL : -ERANGE;
    }
    memcpy(digits, s, n + 1);
    switch (digits[n - 1]) {
    case 'k':
    case 'K':
        mult = UINT64_C(1) << 10;
        break;
    case 'm':
    case 'M':
        mult = UINT64_C(1) << 20;
        break;
    case 'g':
    case 'G':
        mult = UINT64_C(1) << 30;
        break;
    default:
        break;
    }
    if (mult != 1) {
        digits[--n] = '\0';
    }
    r = parse_uint(digits, SIZE_MAX_BYTES, &v);
    if (r < 0) {
        return r;
    }
    if (v > SIZE_MAX_BYTES / mult) {
        return -ERANGE;
    }
    *ret = v * mult;
    return 0;
}
