#include "common/path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
root_dir(void)
{
    static const char *root;

    if (root == NULL) {
        const char *env = getenv("AIRLOCK_ROOT");
        root = (env != NULL && *env != '\0') ? env : "/";
    }
    return root;
}

int
root_path_in(char *buf, size_t size, const char *root, const char *path)
{
    size_t rlen = strlen(root);
    int n;

    /* "/" and "/tmp/r/" must not produce "//etc". */
    while (rlen > 0 && root[rlen - 1] == '/') {
        rlen--;
    }
    if (path[0] != '/') {
        return -EINVAL;
    }
    n = snprintf(buf, size, "%.*s%s", (int)rlen, root, path);
    if (n < 0 || (size_t)n >= size) {
        return -ENAMETOOLONG;
    }
    return 0;
}

int
root_path(char *buf, size_t size, const char *path)
{
    return root_path_in(buf, size, root_dir(), path);
}

const char *
runtime_dir(void)
{
    static const char *dir;

    if (dir == NULL) {
        const char *env = getenv("AIRLOCK_RUN_DIR");
        dir = (env != NULL && env[0] == '/') ? env : RUN_DIR_DEFAULT;
    }
    return dir;
}

int
run_path(char *buf, size_t size, const char *rel)
{
    char path[4096];
    int n;

    if (rel[0] != '\0' && rel[0] != '/') {
        return -EINVAL;
    }
    n = snprintf(path, sizeof(path), "%s%s", runtime_dir(), rel);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        return -ENAMETOOLONG;
    }
    return root_path(buf, size, path);
}
