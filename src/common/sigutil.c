#include "common/sigutil.h"

#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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
