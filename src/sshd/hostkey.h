/* The server's ed25519 host key: generated once and kept, or taken from a
 * mounted file. */
#ifndef AIRLOCK_SSHD_HOSTKEY_H
#define AIRLOCK_SSHD_HOSTKEY_H

#include <libssh/libssh.h>
#include <stddef.h>

#include "common/path.h"

/* Where the generated key lives (under AIRLOCK_ROOT). */
#define HOSTKEY_DIR       "/etc/airlock/host_keys"
#define HOSTKEY_GENERATED HOSTKEY_DIR "/ssh_host_ed25519_key"
/* Where it is generated when HOSTKEY_DIR cannot be written (read-only
 * root, non-root airlock without a volume there): under the run dir
 * (AIRLOCK_RUN_DIR), so it changes with every container start. */
#define HOSTKEY_RUN_SUBDIR "/host_keys"
#define HOSTKEY_RUN_NAME   "/ssh_host_ed25519_key"
/* Private copy of a mounted AIRLOCK_SSH_HOST_KEY_FILE, under the run dir;
 * HOSTKEY_COPY is its path with the default run dir. */
#define HOSTKEY_COPY_SUBDIR "/sshd"
#define HOSTKEY_COPY_DIR    RUN_DIR_DEFAULT HOSTKEY_COPY_SUBDIR
#define HOSTKEY_COPY        HOSTKEY_COPY_DIR "/ssh_host_ed25519_key"

/* Loads the host key: from file (when not NULL/empty) via a private 0600
 * copy, else the generated key, creating it on first use in HOSTKEY_DIR,
 * or in the run dir when HOSTKEY_DIR cannot be read or written (logged
 * once, with both paths and the fix). Returns 0 with *ret_key set, or
 * -errno with *ret_errstr naming the step; -EROFS/-EACCES/-EPERM mean a
 * restart cannot help. */
int hostkey_load(const char *file, ssh_key *ret_key, const char **ret_errstr);

/* "SHA256:..." of a key's public half into buf; 0 or -EINVAL. */
int hostkey_fingerprint(const ssh_key key, char *buf, size_t size);

#endif
