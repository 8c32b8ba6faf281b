/* Unit tests for src/sshd/hostkey.c: the generated host key is created
 * once with mode 0600 and reused; a mounted key file (0644, as secret
 * volumes often are) is copied to a private 0600 file; non-ed25519 keys
 * and junk are refused. AIRLOCK_ROOT points at a temp tree. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sshd/hostkey.h"

static char root[64];

static int
setup(void **state)
{
    (void)state;
    strcpy(root, "/tmp/test_sshd_hostkey.XXXXXX");
    if (mkdtemp(root) == NULL) {
        return -1;
    }
    /* root_dir() reads AIRLOCK_ROOT once; set it before any call. */
    setenv("AIRLOCK_ROOT", root, 1);
    return 0;
}

static int
teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void
write_key(const char *path, enum ssh_keytypes_e type, int bits, mode_t mode)
{
    ssh_key k = NULL;
    char *b64 = NULL;
    FILE *f;

    assert_int_equal(ssh_pki_generate(type, bits, &k), SSH_OK);
    assert_int_equal(ssh_pki_export_privkey_base64(k, NULL, NULL, NULL, &b64),
                     SSH_OK);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(b64, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
    ssh_string_free_char(b64);
    ssh_key_free(k);
}

static void
test_generated_key_is_private_and_reused(void **state)
{
    char path[256], fp1[128], fp2[128];
    const char *err = NULL;
    ssh_key k1 = NULL, k2 = NULL;
    struct stat st;

    (void)state;
    assert_int_equal(hostkey_load(NULL, &k1, &err), 0);
    assert_int_equal(ssh_key_type(k1), SSH_KEYTYPE_ED25519);
    snprintf(path, sizeof(path), "%s%s", root, HOSTKEY_GENERATED);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(hostkey_load("", &k2, &err), 0);
    assert_int_equal(hostkey_fingerprint(k1, fp1, sizeof(fp1)), 0);
    assert_int_equal(hostkey_fingerprint(k2, fp2, sizeof(fp2)), 0);
    assert_string_equal(fp1, fp2);
    assert_memory_equal(fp1, "SHA256:", 7);
    ssh_key_free(k1);
    ssh_key_free(k2);
}

static void
test_mounted_key_copied_to_private_file(void **state)
{
    char src[256], copy[256], fp1[128], fp2[128];
    const char *err = NULL;
    ssh_key k = NULL, again = NULL;
    struct stat st;

    (void)state;
    snprintf(src, sizeof(src), "%s/mounted_key", root);
    write_key(src, SSH_KEYTYPE_ED25519, 0, 0644);
    /* The variable names a path under AIRLOCK_ROOT. */
    assert_int_equal(hostkey_load("/mounted_key", &k, &err), 0);
    snprintf(copy, sizeof(copy), "%s%s", root, HOSTKEY_COPY);
    assert_int_equal(stat(copy, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* The copy holds the same key. */
    assert_int_equal(
        ssh_pki_import_privkey_file(copy, NULL, NULL, NULL, &again),
        SSH_OK);
    assert_int_equal(hostkey_fingerprint(k, fp1, sizeof(fp1)), 0);
    assert_int_equal(hostkey_fingerprint(again, fp2, sizeof(fp2)), 0);
    assert_string_equal(fp1, fp2);
    ssh_key_free(k);
    ssh_key_free(again);
}

static void
test_rsa_and_junk_refused(void **state)
{
    char path[256];
    const char *err = NULL;
    ssh_key k = NULL;
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/rsa_key", root);
    write_key(path, SSH_KEYTYPE_RSA, 2048, 0600);
    assert_int_equal(hostkey_load("/rsa_key", &k, &err), -EINVAL);
    assert_string_equal(err, "host key is not ed25519");
    assert_null(k);
    snprintf(path, sizeof(path), "%s/junk", root);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("not a key\n", f);
    fclose(f);
    assert_int_equal(hostkey_load("/junk", &k, &err), -EINVAL);
    assert_null(k);
    assert_int_equal(hostkey_load("/missing", &k, &err), -ENOENT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_key_is_private_and_reused),
        cmocka_unit_test(test_mounted_key_copied_to_private_file),
        cmocka_unit_test(test_rsa_and_junk_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
