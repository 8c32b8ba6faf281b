/* Every path airlock reads or writes lives under AIRLOCK_ROOT (default /). */
#ifndef AIRLOCK_COMMON_PATH_H
#define AIRLOCK_COMMON_PATH_H

#include <stddef.h>

/* Reads AIRLOCK_ROOT once; later calls use the cached value. */
const char *root_dir(void);

/* Writes ROOT + path into buf ("/etc/x" under "/tmp/r" is "/tmp/r/etc/x");
 * returns 0 or -ENAMETOOLONG. path must be absolute. */
int root_path(char *buf, size_t size, const char *path);

/* The one directory airlock writes to at run time (control socket, key
 * store, host key copies, the syslog socket of a non-root airlock, the
 * container environment when /etc is read-only): AIRLOCK_RUN_DIR, an
 * absolute path, default RUN_DIR_DEFAULT, itself under AIRLOCK_ROOT. A
 * tmpfs or emptyDir at /run makes a read-only root work. */
#define RUN_DIR_DEFAULT "/run/airlock"

/* Reads AIRLOCK_RUN_DIR once; a value that is not an absolute path gives
 * the default (airlock's config rejects it at start with a usage line). */
const char *runtime_dir(void);

/* Writes ROOT + runtime_dir() + rel into buf; rel is "" or starts with '/'.
 * Returns 0 or -ENAMETOOLONG/-EINVAL. */
int run_path(char *buf, size_t size, const char *rel);

/* As root_path with an explicit root, for tests. */
int root_path_in(char *buf, size_t size, const char *root, const char *path);

#endif
