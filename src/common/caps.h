/* The process's capabilities, for saying which one is missing and what to
 * add to the container's securityContext. libc only (capget(2) through
 * syscall(2)), so PID 1 may use it. */
#ifndef AIRLOCK_COMMON_CAPS_H
#define AIRLOCK_COMMON_CAPS_H

#include <stddef.h>
#include <stdint.h>

/* Bits of the capabilities airlock itself uses: switching users (setuser,
 * SSH sessions), signalling and reaping other users' processes, managing
 * the files of its run dir. */
#define CAPS_BIT(n) (UINT64_C(1) << (n))

/* Reads the effective set of this process into *ret. Returns 0 or -errno. */
int caps_effective(uint64_t *ret);

/* Writes the names of the bits of mask ("CAP_SETUID, CAP_SETGID") into
 * buf, truncated to fit; "" for an empty mask. Returns buf. */
char *caps_names(uint64_t mask, char *buf, size_t size);

/* Writes the same bits as a Kubernetes capabilities.add list without the
 * CAP_ prefix ("SETUID, SETGID"). Returns buf. */
char *caps_names_k8s(uint64_t mask, char *buf, size_t size);

#endif
