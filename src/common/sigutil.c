#include "common/sigutil.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/strutil.h"

/* Canonical names first: sig_to_string takes the first match, so the
 * aliases at the end are only ever parsed. */
static const struct {
    const char *name;
    int sig;
} sig_names[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},
    {"ILL", SIGILL},       {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},
    {"BUS", SIGBUS},       {"FPE", SIGFPE},   {"KILL", SIGKILL},
    {"USR1", SIGUSR1},     {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},     {"ALRM", SIGALRM}, {"TERM", SIGTERM},
#ifdef SIGSTKFLT
    {"STKFLT", SIGSTKFLT},
#endif
    {"CHLD", SIGCHLD},     {"CONT", SIGCONT}, {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},
#ifdef SIGPWR
    {"PWR", SIGPWR},
#endif
    {"SYS", SIGSYS},       {"IOT", SIGABRT},  {"CLD", SIGCHLD},
    {"POLL", SIGIO},
};

/* "RTMIN+2" / "RTMAX-1" / "RTMIN" after the "SIG" prefix is gone. */
static int
parse_realtime(const char *s, int *ret_sig)
{
    int base, dir;
    uint64_t n = 0;

    if (strncasecmp(s, "RTMIN", 5) == 0) {
        base = SIGRTMIN;
        dir = 1;
    } else if (strncasecmp(s, "RTMAX", 5) == 0) {
        base = SIGRTMAX;
        dir = -1;
    } else {
        return -EINVAL;
    }
    s += 5;
    if (*s != '\0') {
        if (*s != (dir > 0 ? '+' : '-') ||
            parse_uint(s + 1, (uint64_t)(SIGRTMAX - SIGRTMIN), &n) < 0) {
            return -EINVAL;
        }
    }
    *ret_sig = base + dir * (int)n;
    return 0;
}

int
sig_from_string(const char *s, int *ret_sig)
{
    uint64_t n;

    if (s == NULL || *s == '\0') {
        return -EINVAL;
    }
    /* Numbers first: whatever the kernel numbers, 32 and 33 included, is
     * reachable even where no name exists. */
    if (parse_uint(s, SIG_LAST, &n) == 0) {
        if (n == 0) {
            return -EINVAL;
        }
        *ret_sig = (int)n;
        return 0;
    }
    /* Any case and an optional "SIG": names come from hand-written files
     * (down-signal), Dockerfiles' STOPSIGNAL habits and kill -l alike. */
    if (strncasecmp(s, "SIG", 3) == 0) {
        s += 3;
    }
    for (size_t i = 0; i < sizeof(sig_names) / sizeof(sig_names[0]); i++) {
        if (strcasecmp(s, sig_names[i].name) == 0) {
            *ret_sig = sig_names[i].sig;
            return 0;
        }
    }
    return parse_realtime(s, ret_sig);
}

/* Appends src to buf[*len..size-1), always leaving a NUL; no libc
 * formatting, so the formatter stays async-signal-safe. */
static void
append(char *buf, size_t size, size_t *len, const char *src)
{
    while (*src != '\0' && *len + 1 < size) {
        buf[(*len)++] = *src++;
    }
    buf[*len] = '\0';
}

static void
append_uint(char *buf, size_t size, size_t *len, unsigned v)
{
    char digits[12];
    size_t i = sizeof(digits) - 1;

    digits[i] = '\0';
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 && i > 0);
    append(buf, size, len, digits + i);
}

const char *
sig_to_string(int sig, char *buf, size_t size)
{
    size_t len = 0;

    if (size == 0) {
        return buf;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(sig_names) / sizeof(sig_names[0]); i++) {
        if (sig_names[i].sig == sig) {
            append(buf, size, &len, sig_names[i].name);
            return buf;
        }
    }
    /* bash's (and kill -l's) split: the lower half counts up from RTMIN,
     * the upper half down from RTMAX, so a name in a log line can be
     * pasted into `kill -s` or a trap. SIGRTMIN is glibc's (34), read at
     * run time: it is a function call, not a constant. */
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
        int up = sig - SIGRTMIN, down = SIGRTMAX - sig;
        if (up <= down) {
            append(buf, size, &len, "RTMIN");
            if (up > 0) {
                append(buf, size, &len, "+");
                append_uint(buf, size, &len, (unsigned)up);
            }
        } else {
            append(buf, size, &len, "RTMAX");
            if (down > 0) {
                append(buf, size, &len, "-");
                append_uint(buf, size, &len, (unsigned)down);
            }
        }
        return buf;
    }
    if (sig < 0) {
        append(buf, size, &len, "-");
        sig = -sig;
    }
    append_uint(buf, size, &len, (unsigned)sig);
    return buf;
}

/* The kernel's struct sigaction: all zero is SIG_DFL, no flags, no mask. */
struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
};

void
signals_reset_default(void)
{
    struct kernel_sigaction ksa;

    memset(&ksa, 0, sizeof(ksa));
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) {
            continue;
        }
        (void)syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask));
    }
}

/* The kernel's sigset: one bit per signal, bit sig-1, in longs. glibc's
 * sigset_t cannot hold 32 and 33 (sigaddset refuses them), hence the raw
 * system calls below. */
#define KSIG_BITS (8 * sizeof(unsigned long))
struct kernel_sigset {
    unsigned long bits[SIG_LAST / KSIG_BITS];
};

static void
ksig_set(struct kernel_sigset *k, int sig, int on)
{
    unsigned long bit = 1UL << ((unsigned)(sig - 1) % KSIG_BITS);
    size_t word = (size_t)(sig - 1) / KSIG_BITS;

    if (on) {
        k->bits[word] |= bit;
    } else {
        k->bits[word] &= ~bit;
    }
}

int
signals_block_all(const int *keep, size_t nkeep, sigset_t *ret_old)
{
    struct kernel_sigset all, old;
    int fd;

    memset(&all, 0xff, sizeof(all));
    for (size_t i = 0; i < nkeep; i++) {
        if (keep[i] > 0 && keep[i] <= SIG_LAST) {
            ksig_set(&all, keep[i], 0);
        }
    }
    /* The kernel never blocks these; leaving them out keeps the mask
     * honest in /proc/PID/status. */
    ksig_set(&all, SIGKILL, 0);
    ksig_set(&all, SIGSTOP, 0);
    memset(&old, 0, sizeof(old));
    /* glibc's sigprocmask() would quietly take 32 and 33 out again. */
    if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof(all)) < 0) {
        return -errno;
    }
    sigemptyset(ret_old);
    for (int sig = 1; sig <= SIG_LAST; sig++) {
        size_t word = (size_t)(sig - 1) / KSIG_BITS;
        if ((old.bits[word] >> ((unsigned)(sig - 1) % KSIG_BITS)) & 1UL) {
            /* Fails for 32 and 33 only; a child cannot get those back
             * through glibc anyway. */
            (void)sigaddset(ret_old, sig);
        }
    }
    /* glibc's signalfd() would pass the set through unchanged, but a
     * sigset_t cannot hold 32 and 33 in the first place. */
    fd = (int)syscall(SYS_signalfd4,
                      -1,
                      &all,
                      sizeof(all),
                      SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    return fd;
}
