/* Unit tests for the key authority (src/sshd/authority.c) and the one
 * authorisation call (keys_authorise): a connection process and the
 * listener talk over a real socketpair; grants are recorded and re-checked
 * against a changed set and the clock; hostile requests are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "keys/keys.h"
#include "sshd/authority.h"

/* What a keys_set alone trusts: its keys, no CA, no revocation list. */
static const struct keys_set no_cas;
#define TRUST(set) (&(struct keys_trust){(set), &no_cas, NULL})

/* Public keys only (made with ssh-keygen for these tests). */
#define KEY_A                                                               \
    "ssh-ed25519 "                                                          \
    "AAAAC3NzaC1lZDI1NTE5AAAAIGCWXOc0fm7ixe1sAk4JaV/XYC8GiHAPHRByAyw1S7Cc " \
    "unit"
#define KEY_B                                                               \
    "ssh-ed25519 "                                                          \
    "AAAAC3NzaC1lZDI1NTE5AAAAIHTQpbYA8i+ejBe0jg3NmOJ1+vSpRiHdb21gmE54WUB6 " \
    "unit2"

struct fixture {
    int sp[2]; /* [0] listener, [1] connection process */
    struct keys_set set;
    struct keys_entry a, b; /* parsed KEY_A, KEY_B (for their blobs) */
    struct authority_grant grant;
    const char *refuse_login; /* passed to authority_serve by ask() */
};

static void
add(struct keys_set *set, const char *line, const char *user)
{
    struct keys_entry e;
    const char *errstr = NULL;

    assert_int_equal(
        keys_parse_line(line, strlen(line), KEYS_PARSE_PERMIT_ENV, &e, &errstr),
        1);
    strcpy(e.user, user);
    e.source = strdup("unit");
    e.line = 7;
    assert_non_null(e.source);
    assert_int_equal(keys_set_add(set, &e), 0);
    keys_entry_free(&e);
}

static void
parse(const char *line, struct keys_entry *e)
{
    const char *errstr = NULL;

    assert_int_equal(keys_parse_line(line, strlen(line), 0, e, &errstr), 1);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL || sodium_init() < 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, f->sp) < 0) {
        free(f);
        return -1;
    }
    parse(KEY_A, &f->a);
    parse(KEY_B, &f->b);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    close(f->sp[0]);
    close(f->sp[1]);
    keys_set_free(&f->set);
    keys_entry_free(&f->a);
    keys_entry_free(&f->b);
    free(f);
    return 0;
}

/* One question and its answer: the listener side serves the request
 * already queued on the socket before authority_ask polls for it. */
static int
ask(struct fixture *f,
    bool signed_req,
    const char *user,
    const struct keys_entry *key,
    const char *peer,
    struct keys_entry *ret,
    const char **why)
{
    static char why_buf[128];
    bool logged_in = false;
    pid_t pid = fork();
    int r;

    assert_true(pid >= 0);
    if (pid == 0) {
        /* The listener, in a child: serve exactly one request. */
        struct pollfd pfd = {f->sp[0], POLLIN, 0};
        int s = poll(&pfd, 1, 5000) == 1 ? 0 : -1;
        s = s < 0 ? s
                  : authority_serve(f->sp[0],
                                    TRUST(&f->set),
                                    peer,
                                    time(NULL),
                                    f->refuse_login,
                                    &f->grant,
                                    &logged_in);
        /* Report whether a grant was recorded through the exit code. */
        _exit(s < 0 ? 2 : f->grant.active ? 1 : 0);
    }
    r = authority_ask(f->sp[1],
                      signed_req,
                      user,
                      key->type,
                      key->blob,
                      key->blob_len,
                      ret,
                      why_buf,
                      sizeof(why_buf),
                      why);
    {
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        if (r == 0 && signed_req) {
            assert_int_equal(WEXITSTATUS(st), 1);
        } else if (r == -EPERM) {
            /* A refusal records no grant. */
            assert_int_equal(WEXITSTATUS(st), 0);
        }
    }
    return r;
}

static void
test_authority_grants_a_held_key_with_its_options(void **state)
{
    struct fixture *f = *state;
    struct keys_entry e;
    const char *why = NULL;

    add(&f->set, "no-pty,command=\"uptime\" " KEY_A, "root");
    assert_int_equal(ask(f, true, "root", &f->a, "127.0.0.1", &e, &why), 0);
    assert_string_equal(e.user, "root");
    assert_string_equal(e.fingerprint, f->set.entries[0].fingerprint);
    assert_string_equal(e.source, "unit");
    assert_int_equal(e.line, 7);
    assert_true(e.opts.no_pty);
    assert_string_equal(e.opts.force_command, "uptime");
    keys_entry_free(&e);
}

static void
test_authority_refuses_other_key_other_user_and_from(void **state)
{
    struct fixture *f = *state;
    struct keys_entry e;
    const char *why = NULL;

    add(&f->set, "from=\"10.0.0.0/8\" " KEY_A, "alice");
    assert_int_equal(ask(f, false, "alice", &f->b, "10.1.2.3", &e, &why),
                     -EPERM);
    assert_string_equal(why, "key not authorized");
    assert_int_equal(ask(f, false, "root", &f->a, "10.1.2.3", &e, &why),
                     -EPERM);
    assert_int_equal(ask(f, false, "alice", &f->a, "127.0.0.1", &e, &why),
                     -EPERM);
    assert_string_equal(why, "source address not allowed by from=");
    assert_int_equal(ask(f, false, "../etc", &f->a, "10.1.2.3", &e, &why),
                     -EPERM);
    assert_string_equal(why, "invalid user");
    assert_int_equal(ask(f, false, "alice", &f->a, "10.1.2.3", &e, &why), 0);
    keys_entry_free(&e);
}

/* The listener's authenticated cap: a login the set would grant is
 * refused with the listener's reason, and no grant is recorded; a PK_OK
 * probe is still answered from the set. */
static void
test_authority_refuse_login_refuses_signed_requests_only(void **state)
{
    struct fixture *f = *state;
    struct keys_entry e;
    const char *why = NULL;

    add(&f->set, KEY_A, "root");
    f->refuse_login = "too many authenticated connections";
    assert_int_equal(ask(f, true, "root", &f->a, "127.0.0.1", &e, &why),
                     -EPERM);
    assert_string_equal(why, "too many authenticated connections");
    assert_int_equal(ask(f, false, "root", &f->a, "127.0.0.1", &e, &why), 0);
    keys_entry_free(&e);
    /* A key the set does not hold keeps its own reason. */
    assert_int_equal(ask(f, true, "root", &f->b, "127.0.0.1", &e, &why),
                     -EPERM);
    assert_string_equal(why, "key not authorized");
    f->refuse_login = NULL;
    assert_int_equal(ask(f, true, "root", &f->a, "127.0.0.1", &e, &why), 0);
    keys_entry_free(&e);
}

static void
test_authority_probe_records_no_grant(void **state)
{
    struct fixture *f = *state;
    struct keys_entry e;
    bool logged_in = false;
    const char *why = NULL;

    add(&f->set, KEY_A, "root");
    assert_int_equal(ask(f, false, "root", &f->a, "127.0.0.1", &e, &why), 0);
    keys_entry_free(&e);
    /* A login notice without a grant is a protocol violation. */
    assert_int_equal(authority_notify_login(f->sp[1]), 0);
    assert_int_equal(authority_serve(f->sp[0],
                                     TRUST(&f->set),
                                     "127.0.0.1",
                                     time(NULL),
                                     NULL,
                                     &f->grant,
                                     &logged_in),
                     -EPROTO);
    assert_false(logged_in);
}

static void
test_authority_grant_holds_until_the_set_or_clock_changes(void **state)
{
    struct fixture *f = *state;
    struct authority_grant g;
    struct keys_set other = {0};
    bool logged_in = false;
    char line[512];

    snprintf(line, sizeof(line), "expiry-time=\"20300101\" %s", KEY_A);
    add(&f->set, line, "root");
    /* Serve a signed request in-process to fill the grant. */
    {
        char why_buf[64];
        const char *why = NULL;
        struct keys_entry e;
        memset(&g, 0, sizeof(g));
        /* Queue the request first, then serve it, then read the answer. */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            int r = authority_ask(f->sp[1],
                                  true,
                                  "root",
                                  f->a.type,
                                  f->a.blob,
                                  f->a.blob_len,
                                  &e,
                                  why_buf,
                                  sizeof(why_buf),
                                  &why);
            if (r == 0) {
                keys_entry_free(&e);
            }
            _exit(r == 0 ? 0 : 1);
        }
        for (int i = 0; i < 100 && !g.active; i++) {
            struct pollfd pfd = {f->sp[0], POLLIN, 0};
            assert_int_equal(poll(&pfd, 1, 5000), 1);
            assert_int_equal(authority_serve(f->sp[0],
                                             TRUST(&f->set),
                                             "127.0.0.1",
                                             time(NULL),
                                             NULL,
                                             &g,
                                             &logged_in),
                             0);
        }
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    assert_true(
        authority_grant_holds(&g, TRUST(&f->set), "127.0.0.1", time(NULL)));
    /* The clock passes expiry-time. */
    assert_false(
        authority_grant_holds(&g, TRUST(&f->set), "127.0.0.1", 1900000000));
    /* The key is gone from the set. */
    add(&other, KEY_B, "root");
    assert_false(
        authority_grant_holds(&g, TRUST(&other), "127.0.0.1", time(NULL)));
    keys_set_free(&other);
    /* The same key with other options is a change too. */
    add(&other, "no-pty " KEY_A, "root");
    assert_false(
        authority_grant_holds(&g, TRUST(&other), "127.0.0.1", time(NULL)));
    keys_set_free(&other);
    /* The same key for another user is not the grant. */
    add(&other, line, "alice");
    assert_false(
        authority_grant_holds(&g, TRUST(&other), "127.0.0.1", time(NULL)));
    keys_set_free(&other);
    /* A question after the grant (another key, another user) is a
     * protocol violation, and the grant stays what it was. */
    {
        char req[512];
        size_t len = 0;
        req[len++] = 'S';
        memcpy(req + len, "alice", 6);
        len += 6;
        memcpy(req + len, f->b.type, strlen(f->b.type) + 1);
        len += strlen(f->b.type) + 1;
        memcpy(req + len, f->b.blob, f->b.blob_len);
        len += f->b.blob_len;
        add(&f->set, KEY_B, "alice");
        assert_int_equal(send(f->sp[1], req, len, 0), (ssize_t)len);
        assert_int_equal(authority_serve(f->sp[0],
                                         TRUST(&f->set),
                                         "127.0.0.1",
                                         time(NULL),
                                         NULL,
                                         &g,
                                         &logged_in),
                         -EPROTO);
        assert_string_equal(g.user, "root");
    }
    /* Login notice after a grant. */
    assert_int_equal(authority_notify_login(f->sp[1]), 0);
    assert_int_equal(authority_serve(f->sp[0],
                                     TRUST(&f->set),
                                     "127.0.0.1",
                                     time(NULL),
                                     NULL,
                                     &g,
                                     &logged_in),
                     0);
    assert_true(logged_in);
}

static void
test_authority_rejects_malformed_requests(void **state)
{
    struct fixture *f = *state;
    static const char *bad[] = {"X", "Qroot", "Sroot\0ssh-ed25519", "\0"};
    static const size_t len[] = {1, 5, 17, 1};
    bool logged_in = false;

    add(&f->set, KEY_A, "root");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(send(f->sp[1], bad[i], len[i], 0), (ssize_t)len[i]);
        assert_int_equal(authority_serve(f->sp[0],
                                         TRUST(&f->set),
                                         "127.0.0.1",
                                         time(NULL),
                                         NULL,
                                         &f->grant,
                                         &logged_in),
                         -EPROTO);
    }
    assert_false(f->grant.active);
    /* EOF from the connection process. */
    close(f->sp[1]);
    f->sp[1] = open("/dev/null", O_RDONLY);
    assert_int_equal(authority_serve(f->sp[0],
                                     TRUST(&f->set),
                                     "127.0.0.1",
                                     time(NULL),
                                     NULL,
                                     &f->grant,
                                     &logged_in),
                     -EPIPE);
}

static void
test_keys_authorise_checks_expiry_from_and_type(void **state)
{
    struct fixture *f = *state;
    const char *why = NULL;
    struct keys_entry *e;

    add(&f->set, "expiry-time=\"20300101\",from=\"127.0.0.0/8\" " KEY_A, "x");
    e = &f->set.entries[0];
    assert_int_equal(keys_authorise(e, "127.0.0.5", 1800000000, &why), 0);
    assert_int_equal(keys_authorise(e, "127.0.0.5", 1900000000, &why), -EPERM);
    assert_string_equal(why, "key expired (expiry-time)");
    assert_int_equal(keys_authorise(e, "10.0.0.1", 1800000000, &why), -EPERM);
    assert_string_equal(why, "source address not allowed by from=");
    strcpy(e->type, "ssh-dss");
    assert_int_equal(keys_authorise(e, "127.0.0.5", 1800000000, &why), -EPERM);
    assert_string_equal(why, "key type not allowed");
    assert_false(keys_type_allowed("ssh-ed25519-cert-v01@openssh.com"));
    assert_true(keys_type_allowed("sk-ssh-ed25519@openssh.com"));
}

static void
test_keys_permitopen_matches_ipv6_names_and_wildcards(void **state)
{
    struct fixture *f = *state;
    const struct keys_options *o;

    add(&f->set,
        "permitopen=\"[::1]:8097\",permitopen=\"db:*\","
        "permitopen=\"127.0.0.1:80\" " KEY_A,
        "x");
    o = &f->set.entries[0].opts;
    assert_true(keys_permitopen_allows(o, "::1", 8097));
    assert_false(keys_permitopen_allows(o, "::1", 8098));
    assert_false(keys_permitopen_allows(o, "[::1]", 8097));
    assert_true(keys_permitopen_allows(o, "db", 5432));
    assert_false(keys_permitopen_allows(o, "db2", 5432));
    assert_true(keys_permitopen_allows(o, "127.0.0.1", 80));
    assert_false(keys_permitopen_allows(o, "127.0.0.1", 8080));
    assert_false(keys_permitopen_allows(o, "127.0.0", 80));
    /* No permitopen= at all: everything. */
    add(&f->set, KEY_B, "x");
    assert_true(keys_permitopen_allows(&f->set.entries[1].opts, "any", 1));
}

static void
test_from_negation_cannot_be_dodged_by_spelling(void **state)
{
    static const char *const deny_v6[] = {"!0::1,*", "!0:0:0:0:0:0:0:1,*"};
    struct keys_options o;

    (void)state;
    memset(&o, 0, sizeof(o));
    for (size_t i = 0; i < 2; i++) {
        o.from = (char *)deny_v6[i];
        assert_false(keys_from_allows(&o, "::1"));
        assert_true(keys_from_allows(&o, "::2"));
    }
    o.from = (char *)"!127.1,*";
    assert_false(keys_from_allows(&o, "127.0.0.1"));
    assert_true(keys_from_allows(&o, "127.0.0.2"));
    o.from = (char *)"!::ffff:10.0.0.1,*";
    assert_false(keys_from_allows(&o, "10.0.0.1"));
    /* Positive forms match the same way; names stay wildcard text. */
    o.from = (char *)"0:0::1";
    assert_true(keys_from_allows(&o, "::1"));
    o.from = (char *)"127.0.0.*";
    assert_true(keys_from_allows(&o, "127.0.0.9"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_authority_grants_a_held_key_with_its_options,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_authority_refuses_other_key_other_user_and_from,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_authority_refuse_login_refuses_signed_requests_only,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_authority_probe_records_no_grant,
                                        setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_authority_grant_holds_until_the_set_or_clock_changes,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_authority_rejects_malformed_requests,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_keys_authorise_checks_expiry_from_and_type,
            setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_keys_permitopen_matches_ipv6_names_and_wildcards,
            setup,
            teardown),
        cmocka_unit_test(test_from_negation_cannot_be_dodged_by_spelling),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
