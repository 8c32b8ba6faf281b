/* LD_PRELOAD shim for the tests: the first clone() fails with EPERM, as
 * under a seccomp or LSM policy that refuses it; later ones go to libc's.
 * airlock starts every child through clone() (src/common/spawn.c), so the
 * first child it starts never runs while the next ones do; the tests check
 * that nothing counts the one that never ran as a success. */
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/types.h>

typedef int clone_fn(int (*)(void *), void *, int, void *, ...);

int
clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
    static int calls;
    clone_fn *real;
    void *sym;
    va_list ap;
    pid_t *ptid, *ctid;
    void *tls;

    if (calls++ == 0) {
        errno = EPERM;
        return -1;
    }
    /* dlsym returns an object pointer; POSIX guarantees it converts. */
    sym = dlsym(RTLD_NEXT, "clone");
    memcpy(&real, &sym, sizeof(real));
    if (sym == NULL) {
        errno = ENOSYS;
        return -1;
    }
    va_start(ap, arg);
    ptid = va_arg(ap, pid_t *);
    tls = va_arg(ap, void *);
    ctid = va_arg(ap, pid_t *);
    va_end(ap);
    return real(fn, stack, flags, arg, ptid, tls, ctid);
}
