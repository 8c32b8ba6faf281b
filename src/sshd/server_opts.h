/* The algorithm lists of the hardened libssh setup (issue 6, libssh-notes
 * section 7.3). One place, so the ssh-audit policy in tests/e2e matches. */
#ifndef AIRLOCK_SSHD_SERVER_OPTS_H
#define AIRLOCK_SSHD_SERVER_OPTS_H

/* curve25519 only: cheapest KEX (less DHEat exposure), no moduli file.
 * libssh 0.10.6 adds the strict-KEX marker (Terrapin) itself. */
#define SSHD_KEX           "curve25519-sha256,curve25519-sha256@libssh.org"
#define SSHD_HOSTKEY_ALGOS "ssh-ed25519"
/* AES-GCM needs libssh-4 >= 0.10.6-0+deb12u3 (CVE-2026-59847). */
#define SSHD_CIPHERS                                        \
    "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com," \
    "aes128-gcm@openssh.com,aes256-ctr,aes128-ctr"
#define SSHD_MACS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com"
/* User signature algorithms: never SHA-1 ssh-rsa. */
#define SSHD_PUBKEY_TYPES                                               \
    "ssh-ed25519,sk-ssh-ed25519@openssh.com,rsa-sha2-512,rsa-sha2-256," \
    "ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"      \
    "sk-ecdsa-sha2-nistp256@openssh.com"
#define SSHD_RSA_MIN_BITS 2048

#endif
