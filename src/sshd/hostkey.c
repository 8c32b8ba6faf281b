/* Host key handling. The key never exists on disk with loose permissions:
 * generated keys are written with write_file_atomic(0600), and a mounted
 * key (often 0644 in Docker/Kubernetes secret volumes) is copied into a
 * 0700 directory as 0600 rather than refused. The in-memory text copy is
 * wiped with sodium_memzero once imported. */
#include "sshd/hostkey.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/safeio.h"
#include "common/strutil.h"

#define HOSTKEY_FILE_MAX 16384

/* Reads a key file into buf (NUL-terminated) without following a final
 * symlink unless follow is set (secret mounts are symlink farms). */
static int
read_key_file(const char *path,
              bool follow,
              char *buf,
              size_t size,
              size_t *ret_len)
{
    int fd, r;
    struct stat st;
    size_t len = 0;

    fd = open(path,
              O_RDONLY | O_CLOEXEC | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
    if (fd < 0) {
        return -errno;
    }
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        r = -EINVAL;
        goto out;
    }
    r = read_all(fd, buf, size - 1, &len);
    if (r < 0) {
        goto out;
    }
    buf[len] = '\0';
    *ret_len = len;
out:
    (void)close(fd);
    return r;
}

static int
import_ed25519(const char *text, ssh_key *ret_key, const char **errstr)
{
    ssh_key key = NULL;

    if (ssh_pki_import_privkey_base64(text, NULL, NULL, NULL, &key) != SSH_OK) {
        *errstr = "not an unencrypted OpenSSH private key";
        return -EINVAL;
    }
    if (ssh_key_type(key) != SSH_KEYTYPE_ED25519) {
        ssh_key_free(key);
        *errstr = "host key is not ed25519";
        return -EINVAL;
    }
    *ret_key = key;
    return 0;
}

static int
load_mounted(const char *file, ssh_key *ret_key, const char **errstr)
{
    char dir[PATH_MAX], copy[PATH_MAX], path[PATH_MAX];
    char *buf;
    size_t len = 0;
    int r;

    buf = sodium_malloc(HOSTKEY_FILE_MAX);
    if (buf == NULL) {
        return -ENOMEM;
    }
    /* Under AIRLOCK_ROOT, as every path airlock opens. */
    r = root_path(path, sizeof(path), file);
    if (r < 0) {
        *errstr = "AIRLOCK_SSH_HOST_KEY_FILE: path too long";
        goto out;
    }
    r = read_key_file(path, true, buf, HOSTKEY_FILE_MAX, &len);
    if (r < 0) {
        *errstr = "cannot read AIRLOCK_SSH_HOST_KEY_FILE";
        goto out;
    }
    r = import_ed25519(buf, ret_key, errstr);
    if (r < 0) {
        goto out;
    }
    r = run_path(dir, sizeof(dir), HOSTKEY_COPY_SUBDIR);
    if (r == 0) {
        r = run_path(copy, sizeof(copy), HOSTKEY_COPY_SUBDIR HOSTKEY_RUN_NAME);
    }
    if (r == 0) {
        r = mkdir_parents(dir, 0700);
    }
    if (r == 0 && chmod(dir, 0700) < 0) {
        r = -errno;
    }
    if (r == 0) {
        r = write_file_atomic(copy, buf, len, 0600);
    }
    if (r < 0) {
        *errstr = "cannot write the private copy of the host key";
        ssh_key_free(*ret_key);
        *ret_key = NULL;
    }
out:
    sodium_free(buf); /* zeroes before freeing */
    return r;
}

/* Creates dir 0700, its missing parents 0755: a parent made 0700 (as
 * /etc/airlock was) locks a later non-root run out of its siblings. */
static int
make_key_dir(const char *dir)
{
    char parent[PATH_MAX];
    char *slash;
    int r;

    if (copy_string(parent, sizeof(parent), dir) < 0) {
        return -ENAMETOOLONG;
    }
    slash = strrchr(parent, '/');
    if (slash != NULL && slash != parent) {
        *slash = '\0';
        r = mkdir_parents(parent, 0755);
        if (r < 0) {
            return r;
        }
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

/* The generated key in dir/path: read it, or make it and keep it. */
static int
load_generated_in(const char *dir,
                  const char *path,
                  ssh_key *ret_key,
                  const char **errstr)
{
    char *buf = NULL, *b64 = NULL;
    ssh_key key = NULL;
    size_t len = 0;
    int r;

    buf = sodium_malloc(HOSTKEY_FILE_MAX);
    if (buf == NULL) {
        return -ENOMEM;
    }
    r = read_key_file(path, false, buf, HOSTKEY_FILE_MAX, &len);
    if (r == 0) {
        r = import_ed25519(buf, ret_key, errstr);
        goto out;
    }
    if (r != -ENOENT) {
        *errstr = "cannot read the generated host key";
        goto out;
    }
    /* First start: make one and keep it. */
    if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
        ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &b64) != SSH_OK) {
        *errstr = "cannot generate an ed25519 host key";
        r = -EIO;
        goto out;
    }
    r = make_key_dir(dir);
    if (r == 0) {
        r = write_file_atomic(path, b64, strlen(b64), 0600);
    }
    if (r < 0) {
        *errstr = "cannot store the generated host key";
        goto out;
    }
    *ret_key = key;
    key = NULL;
out:
    if (b64 != NULL) {
        sodium_memzero(b64, strlen(b64));
        ssh_string_free_char(b64);
    }
    ssh_key_free(key);
    sodium_free(buf);
    return r;
}

static bool
is_not_writable(int r)
{
    return r == -EROFS || r == -EACCES || r == -EPERM;
}

/* HOSTKEY_DIR first (a volume keeps the key across restarts); where it
 * cannot be read or written (a read-only root, or a root-owned directory
 * left by an earlier root run under a non-root airlock), the run dir. */
static int
load_generated(ssh_key *ret_key, const char **errstr)
{
    char dir[PATH_MAX], path[PATH_MAX], rdir[PATH_MAX], rpath[PATH_MAX];
    int r;

    r = root_path(dir, sizeof(dir), HOSTKEY_DIR);
    if (r == 0) {
        r = root_path(path, sizeof(path), HOSTKEY_GENERATED);
    }
    if (r == 0) {
        r = run_path(rdir, sizeof(rdir), HOSTKEY_RUN_SUBDIR);
    }
    if (r == 0) {
        r = run_path(rpath, sizeof(rpath), HOSTKEY_RUN_SUBDIR HOSTKEY_RUN_NAME);
    }
    if (r < 0) {
        *errstr = "host key path too long";
        return r;
    }
    r = load_generated_in(dir, path, ret_key, errstr);
    if (!is_not_writable(r)) {
        return r;
    }
    log_warn("host key: '%s': %s (uid %u); using '%s' instead, which "
             "changes with every container start: mount a volume at '%s' "
             "or set AIRLOCK_SSH_HOST_KEY_FILE to keep one",
             path,
             strerror(-r),
             (unsigned)geteuid(),
             rpath,
             dir);
    return load_generated_in(rdir, rpath, ret_key, errstr);
}

int
hostkey_load(const char *file, ssh_key *ret_key, const char **ret_errstr)
{
    const char *errstr = "host key";
    int r;

    /* sodium_malloc() aborts before sodium_init(); it is idempotent. */
    if (sodium_init() < 0) {
        *ret_errstr = "libsodium cannot be initialised";
        return -EIO;
    }

    if (file != NULL && file[0] != '\0') {
        r = load_mounted(file, ret_key, &errstr);
    } else {
        r = load_generated(ret_key, &errstr);
    }
    if (r < 0) {
        *ret_errstr = errstr;
    }
    return r;
}

int
hostkey_fingerprint(const ssh_key key, char *buf, size_t size)
{
    unsigned char *hash = NULL;
    size_t hlen = 0;
    char *fp;
    int r = 0;

    if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) <
        0) {
        return -EINVAL;
    }
    fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
    ssh_clean_pubkey_hash(&hash);
    if (fp == NULL) {
        return -EINVAL;
    }
    if (copy_string(buf, size, fp) < 0) {
        r = -EINVAL;
    }
    ssh_string_free_char(fp);
    return r;
}
