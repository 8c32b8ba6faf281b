#include "common/spawn.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/safeio.h"
#include "common/sigutil.h"

int
exit_code_from_status(int wstatus)
{
    if (WIFEXITED(wstatus)) {
        return WEXITSTATUS(wstatus);
    }
    if (WIFSIGNALED(wstatus)) {
        return 128 + WTERMSIG(wstatus);
    }
    return 255;
}

/* getenv("PATH") without getenv, which POSIX does not list as
 * async-signal-safe; glibc's execvp default when it is unset. */
static const char *
env_path(void)
{
    for (char **e = environ; e != NULL && *e != NULL; e++) {
        if (strncmp(*e, "PATH=", 5) == 0) {
            return *e + 5;
        }
    }
    return "/bin:/usr/bin";
}

/* Whether file names something that exists: itself when it has a '/',
 * else a regular file in one of PATH's directories (an empty one is the
 * current directory, as for execvp). Only stat and string calls, so the
 * child of fork may call it. */
static bool
file_found(const char *file)
{
    char buf[PATH_MAX];
    size_t flen = strlen(file);
    struct stat st;

    if (strchr(file, '/') != NULL) {
        return stat(file, &st) == 0;
    }
    for (const char *p = env_path();;) {
        size_t len = strcspn(p, ":"), n = len;

        if (len + 1 + flen < sizeof(buf)) {
            memcpy(buf, p, len);
            if (len > 0) {
                buf[n++] = '/';
            }
            memcpy(buf + n, file, flen + 1);
            if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
                return true;
            }
        }
        if (p[len] == '\0') {
            return false;
        }
        p += len + 1;
    }
}

int
spawn_exec_status(const char *file, int err)
{
    if (err == ENOENT || (err == EACCES && file != NULL && !file_found(file))) {
        return SPAWN_EXIT_NOT_FOUND;
    }
    return SPAWN_EXIT_NOEXEC;
}

/* Copies pointers only: the environment strings can be large, and the
 * copy lives as long as airlock does. */
char **
spawn_env_with(char *const *envp, const char *entry)
{
    size_t name_len = strcspn(entry, "=") + 1, n = 0, out = 0;
    char **copy;

    while (envp != NULL && envp[n] != NULL) {
        n++;
    }
    copy = calloc(n + 2, sizeof(*copy));
    if (copy == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (strncmp(envp[i], entry, name_len) != 0) {
            copy[out++] = envp[i];
        }
    }
    copy[out] = (char *)entry;
    return copy;
}

/* Writes pid in decimal and a NUL at slot; async-signal-safe (no printf
 * after fork). */
static void
write_pid(char *slot, pid_t pid)
{
    char digits[12];
    size_t i = sizeof(digits);
    unsigned long v = (unsigned long)pid;

    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 && i > 0);
    memcpy(slot, digits + i, sizeof(digits) - i);
    slot[sizeof(digits) - i] = '\0';
}

/* Closes every fd above 2 but errpipe and the ones passed on, and clears
 * close-on-exec on those, which PID 1 set so no other child gets them. */
static void
child_close_fds(const struct spawn_opts *o, int errpipe)
{
    int keep[SPAWN_PASS_FDS_MAX + 2];
    size_t n = 0;

    for (size_t i = 0; i < o->npass_fds && n < SPAWN_PASS_FDS_MAX; i++) {
        keep[n++] = o->pass_fds[i];
    }
    if (o->notify_to > STDERR_FILENO) {
        keep[n++] = o->notify_to;
    }
    keep[n++] = errpipe;
    /* close_range() where the kernel has it: one syscall per span
     * between kept fds, however high RLIMIT_NOFILE is. */
    close_fds_from(STDERR_FILENO + 1, keep, n);
    for (size_t i = 0; i + 1 < n; i++) {
        (void)fcntl(keep[i], F_SETFD, 0);
    }
}

/* The child half. Only async-signal-safe calls until exec; never
 * returns. Signals stay blocked (as PID 1 and the SSH connection process
 * block them) until just before exec, so none can act on the child while
 * it is half set up. */
static void
child_exec(char *const argv[], const struct spawn_opts *o, int errpipe)
{
    const char *file = o->path != NULL ? o->path : argv[0];
    sigset_t none;
    int err;

    if (o->group == SPAWN_NEW_SESSION) {
        /* Cannot fail in a fresh child (it leads no group yet). */
        if (setsid() < 0) {
            goto fail;
        }
    } else if (o->group == SPAWN_NEW_GROUP) {
        (void)setpgid(0, 0);
        /* While signals are still blocked: tcsetpgrp from a background
         * group would otherwise stop us with SIGTTOU. */
        if (o->take_tty && isatty(STDIN_FILENO)) {
            (void)tcsetpgrp(STDIN_FILENO, getpid());
        }
    }
    if (o->stdin_fd > 0 && dup2(o->stdin_fd, STDIN_FILENO) < 0) {
        goto fail;
    }
    if (o->stdout_fd >= 0 && dup2(o->stdout_fd, STDOUT_FILENO) < 0) {
        goto fail;
    }
    if (o->stderr_fd >= 0 && dup2(o->stderr_fd, STDERR_FILENO) < 0) {
        goto fail;
    }
    /* A session leader without a controlling terminal acquires the
     * terminal it names (tty_ioctl(4)); without it, no job control and
     * no SIGHUP when the pty is hung up. */
    if (o->set_ctty && ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0) {
        goto fail;
    }
    if (o->cwd != NULL && chdir(o->cwd) < 0 &&
        (!o->cwd_or_root || chdir("/") < 0)) {
        goto fail;
    }
    if (o->notify_to > STDERR_FILENO) {
        /* The error pipe must not be the number the program expects its
         * notification fd at: move it out of the way first. */
        if (errpipe == o->notify_to) {
            errpipe = fcntl(errpipe, F_DUPFD_CLOEXEC, o->notify_to + 1);
        }
        if (o->notify_from != o->notify_to &&
            dup2(o->notify_from, o->notify_to) < 0) {
            goto fail;
        }
    }
    /* Nothing of the parent's but stdio (and, for the app, what airlock
     * inherited) reaches the program: no listening socket, no key. */
    child_close_fds(o, errpipe);
    if (o->pid_slot != NULL) {
        write_pid(o->pid_slot, getpid());
    }
    /* Dispositions and the mask survive exec: the program must not
     * inherit what its parent set for its own signalfd. */
    signals_reset_default();
    (void)sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK,
                      o->child_mask != NULL ? o->child_mask : &none,
                      NULL);
    if (o->path != NULL && o->envp != NULL) {
        execve(o->path, argv, o->envp);
    } else if (o->path != NULL) {
        execv(o->path, argv);
    } else if (o->envp != NULL) {
        execvpe(argv[0], argv, o->envp);
    } else {
        execvp(argv[0], argv);
    }
fail:
    err = errno;
    if (errpipe >= 0) {
        (void)write_all(errpipe, &err, sizeof(err));
    }
    _exit(spawn_exec_status(file, err));
}

/* What the child of clone needs: it runs on its own stack, in our memory. */
struct child_args {
    char *const *argv;
    const struct spawn_opts *opts;
    int rfd, wfd;
};

static int
child_main(void *arg)
{
    const struct child_args *a = arg;

    if (a->rfd >= 0) {
        (void)close(a->rfd);
    }
    child_exec(a->argv, a->opts, a->wfd);
    return 127; /* not reached: child_exec execs or _exits */
}

/* GCC says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer). */
#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWN_ASAN 1
#endif
#endif
#if defined(SPAWN_ASAN)
/* AddressSanitizer keeps per-thread state (its fake stack frames among
 * it) that a child sharing our memory would reuse under our live frames:
 * the sanitized build, which only the tests run, forks instead. */
static pid_t
clone_vfork(char *const argv[], const struct spawn_opts *opts, int rfd, int wfd)
{
    pid_t pid = fork();

    if (pid == 0) {
        struct child_args a = {argv, opts, rfd, wfd};
        (void)child_main(&a);
    }
    return pid;
}
#else
/* The child's stack: what child_exec itself needs, plus what glibc's
 * execvp puts on the stack (a PATH-sized buffer, and for a script without
 * #! a copy of argv), so even a huge argv fits. One guard page below it,
 * as for any thread: an overflow faults instead of writing into our
 * memory, which the child shares until it execs. */
#define CHILD_STACK_BASE (64 * 1024)

/* In bytes, whole pages of page bytes, the guard page included. */
static size_t
child_stack_size(char *const argv[], size_t page)
{
    const char *path = env_path();
    size_t argc = 0, size;

    while (argv[argc] != NULL) {
        argc++;
    }
    size = CHILD_STACK_BASE + (argc + 3) * sizeof(char *) + strlen(path) +
           NAME_MAX + 1;
    return (size + page - 1) / page * page + page;
}

/* fork's semantics at vfork's price: CLONE_VM shares our memory with the
 * child until it execs (no page tables copied, no copy-on-write faults
 * afterwards: PID 1's start-up took 208 page faults instead of 244), and
 * CLONE_VFORK suspends us until then (we would wait for the error pipe
 * anyway). glibc's posix_spawn does the same; it cannot be used here only
 * because it has no room for the steps child_exec takes (the terminal, the
 * notification fd, LISTEN_PID). Safe because the child runs no handler
 * (every signal is blocked around the clone, and the child resets every
 * disposition before it unblocks any), writes only its own stack, its
 * own fd table and dispositions (no CLONE_FILES, no CLONE_SIGHAND) and
 * opts->pid_slot, calls only async-signal-safe functions, and the caller
 * has one thread. Returns the pid, or -1 with errno. */
static pid_t
clone_vfork(char *const argv[], const struct spawn_opts *opts, int rfd, int wfd)
{
    struct child_args a = {argv, opts, rfd, wfd};
    long sc = sysconf(_SC_PAGESIZE);
    size_t page = sc > 0 ? (size_t)sc : 4096;
    size_t size = child_stack_size(argv, page);
    /* The kernel's mask, raw: glibc's sigprocmask would drop 32 and 33
     * (its own) from what it restores, and PID 1 keeps those blocked. */
    unsigned long all = ~0UL, old = 0;
    char save[SPAWN_PID_SLOT_LEN];
    char *stack;
    pid_t pid;
    int err;

    stack = mmap(NULL,
                 size,
                 PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                 -1,
                 0);
    if (stack == MAP_FAILED) {
        return -1;
    }
    if (mprotect(stack, page, PROT_NONE) < 0) {
        err = errno;
        (void)munmap(stack, size);
        errno = err;
        return -1;
    }
    /* The child writes its pid into the slot, in our memory: keep ours as
     * it was, as fork would. */
    if (opts->pid_slot != NULL) {
        memcpy(save, opts->pid_slot, sizeof(save));
    }
    (void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof(all));
    pid = clone(child_main, stack + size, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
    err = errno;
    (void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof(old));
    if (opts->pid_slot != NULL) {
        memcpy(opts->pid_slot, save, sizeof(save));
    }
    (void)munmap(stack, size);
    errno = err;
    return pid;
}
#endif

static void
close_pipe(const int p[2])
{
    if (p[0] >= 0) {
        (void)close(p[0]);
        (void)close(p[1]);
    }
}

int
spawn_process(char *const argv[],
              const struct spawn_opts *opts,
              pid_t *ret_pid,
              struct spawn_failure *ret_fail)
{
    int pipefd[2];
    int child_errno = 0, wstatus = 0;
    size_t got = 0;
    pid_t pid;

    ret_fail->err = 0;
    ret_fail->status = 0;
    /* CLOEXEC pipe: it closes empty on a successful exec, or carries
     * exec's errno, so the caller learns "not found" with a clear line. */
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        /* Out of fds: still start the program; an exec failure then only
         * shows as status 126/127. */
        if (errno != EMFILE && errno != ENFILE) {
            return -errno;
        }
        pipefd[0] = pipefd[1] = -1;
    }
    pid = clone_vfork(argv, opts, pipefd[0], pipefd[1]);
    if (pid < 0) {
        int r = -errno;
        close_pipe(pipefd);
        return r;
    }
    if (pipefd[0] >= 0) {
        (void)close(pipefd[1]);
        (void)read_all(pipefd[0], &child_errno, sizeof(child_errno), &got);
        (void)close(pipefd[0]);
    }
    if (got == sizeof(child_errno)) {
        /* Exec failed: the child exits at once; collect it here so the
         * caller never sees a pid for a process that never ran. */
        while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
        }
        ret_fail->err = child_errno;
        ret_fail->status = exit_code_from_status(wstatus);
        return -child_errno;
    }
    *ret_pid = pid;
    return 0;
}
