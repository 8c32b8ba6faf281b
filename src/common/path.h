/* Every path airlock reads or writes lives under AIRLOCK_ROOT (default /). */
#ifndef AIRLOCK_COMMON_PATH_H
#define AIRLOCK_COMMON_PATH_H

#include <stddef.h>

/* Reads AIRLOCK_ROOT once; later calls use the cached value. */
const char *root_dir(void);

/* Writes ROOT + path into buf ("/etc/x" under "/tmp/r" is "/tmp/r/etc/x");
 * returns 0 or -ENAMETOOLONG. path must be absolute. */
int root_path(char *buf, size_t size, const char *path);

/* As root_path with an explicit root, for tests. */
int root_path_in(char *buf, size_t size, const char *root, const char *path);

#endif
