#include "common/caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* capability(7) numbers 0..40; an unknown bit prints as its number. */
static const char *const cap_names[] = {
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
};

int
caps_effective(uint64_t *ret)
{
    struct __user_cap_header_struct hdr = {
        .version = _LINUX_CAPABILITY_VERSION_3,
        .pid = 0,
    };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &hdr, data) < 0) {
        return -errno;
    }
    *ret = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
    return 0;
}

static char *
format_names(uint64_t mask, const char *prefix, char *buf, size_t size)
{
    size_t len = 0;

    if (size == 0) {
        return buf;
    }
    buf[0] = '\0';
    for (unsigned i = 0; i < 64; i++) {
        int n;

        if ((mask & CAPS_BIT(i)) == 0) {
            continue;
        }
        if (i < sizeof(cap_names) / sizeof(cap_names[0])) {
            n = snprintf(buf + len,
                         size - len,
                         "%s%s%s",
                         len > 0 ? ", " : "",
                         prefix,
                         cap_names[i]);
        } else {
            n = snprintf(buf + len,
                         size - len,
                         "%s%s%u",
                         len > 0 ? ", " : "",
                         prefix,
                         i);
        }
        if (n < 0 || (size_t)n >= size - len) {
            buf[len] = '\0'; /* whole names only */
            break;
        }
        len += (size_t)n;
    }
    return buf;
}

char *
caps_names(uint64_t mask, char *buf, size_t size)
{
    return format_names(mask, "CAP_", buf, size);
}

char *
caps_names_k8s(uint64_t mask, char *buf, size_t size)
{
    return format_names(mask, "", buf, size);
}
