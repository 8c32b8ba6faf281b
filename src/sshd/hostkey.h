/* The server's ed25519 host key: generated once and kept, or taken from a
 * mounted file. */
#ifndef AIRLOCK_SSHD_HOSTKEY_H
#define AIRLOCK_SSHD_HOSTKEY_H

#include <libssh/libssh.h>
#include <stddef.h>

/* Where the generated key lives (under AIRLOCK_ROOT). */
#define HOSTKEY_DIR       "/etc/airlock/host_keys"
#define HOSTKEY_GENERATED HOSTKEY_DIR "/ssh_host_ed25519_key"
/* Private copy of a mounted AIRLOCK_SSH_HOST_KEY_FILE. */
#define HOSTKEY_COPY_DIR "/run/airlock/sshd"
#define HOSTKEY_COPY     HOSTKEY_COPY_DIR "/ssh_host_ed25519_key"

/* Loads the host key: from file (when not NULL/empty) via a private 0600
 * copy, else the generated key, creating it on first use. Returns 0 with
 * *ret_key set, or -errno with *ret_errstr naming the step. */
int hostkey_load(const char *file, ssh_key *ret_key, const char **ret_errstr);

/* "SHA256:..." of a key's public half into buf; 0 or -EINVAL. */
int hostkey_fingerprint(const ssh_key key, char *buf, size_t size);

#endif
