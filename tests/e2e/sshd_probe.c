/* sshd-probe: a libssh client that drives airlock-sshd through protocol
 * edge cases the OpenSSH client never produces (user name changes between
 * attempts, endless key probes, X11/agent requests, bad env requests).
 * Each mode prints one result word and exits 0 when the server behaved as
 * airlock requires, 1 otherwise. Usage:
 *   sshd-probe PORT MODE ARGS...
 *     user-change KEYFILE          none as root, then publickey as another
 *                                  user: the server must disconnect
 *     password USER                password auth must be denied
 *     kbdint USER                  keyboard-interactive must be denied
 *     probes KEYFILE               unsigned probes of an authorized key:
 *                                  the server must cut the connection
 *                                  before 40
 *     requests KEYFILE             after login: x11-req and env LD_PRELOAD
 *                                  refused, env LANG and exec ok
 *     signal KEYFILE               a `signal INT` request reaches the
 *                                  command, whose exit status comes back
 * Every call is bounded by a 10 s libssh timeout. */
#include <libssh/libssh.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ssh_session
connect_to(const char *port)
{
    ssh_session s = ssh_new();
    long timeout = 10;
    int verbosity = SSH_LOG_NOLOG;

    if (s == NULL) {
        exit(2);
    }
    ssh_options_set(s, SSH_OPTIONS_HOST, "127.0.0.1");
    ssh_options_set(s, SSH_OPTIONS_PORT_STR, port);
    ssh_options_set(s, SSH_OPTIONS_USER, "root");
    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
    ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &(int){0});
    if (ssh_connect(s) != SSH_OK) {
        fprintf(stderr, "connect: %s\n", ssh_get_error(s));
        exit(2);
    }
    return s;
}

static ssh_key
load_key(const char *path)
{
    ssh_key k = NULL;

    if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &k) != SSH_OK) {
        fprintf(stderr, "cannot read key '%s'\n", path);
        exit(2);
    }
    return k;
}

static int
mode_user_change(const char *port, const char *keyfile)
{
    ssh_session s = connect_to(port);
    ssh_key k = load_key(keyfile);
    int rc;

    (void)ssh_userauth_none(s, "root");
    rc = ssh_userauth_publickey(s, "alice", k);
    if (rc == SSH_AUTH_SUCCESS) {
        puts("accepted");
        return 1;
    }
    /* Even the right key for root must not work on this connection. */
    rc = ssh_userauth_publickey(s, "root", k);
    puts(rc == SSH_AUTH_SUCCESS ? "accepted-after-change" : "refused");
    return rc == SSH_AUTH_SUCCESS;
}

static int
mode_password(const char *port, const char *user)
{
    ssh_session s = connect_to(port);
    int rc = ssh_userauth_password(s, user, "secret");

    puts(rc == SSH_AUTH_SUCCESS ? "accepted" : "refused");
    return rc == SSH_AUTH_SUCCESS;
}

/* Up to 100 password requests on one connection, the user name either
 * fixed or alternating with "alice" ("alternate"); prints how many were
 * answered before the server cut the connection. */
static int
mode_passwords(const char *port, const char *user)
{
    ssh_session s = connect_to(port);
    bool alternate = strcmp(user, "alternate") == 0;
    int i;

    for (i = 0; i < 100; i++) {
        const char *u = alternate ? (i % 2 ? "alice" : "root") : user;
        char pw[32];
        int rc;
        snprintf(pw, sizeof(pw), "pw-%d-never-logged", i);
        rc = ssh_userauth_password(s, u, pw);
        if (rc != SSH_AUTH_DENIED && rc != SSH_AUTH_PARTIAL) {
            break;
        }
    }
    printf("cut-after %d\n", i);
    return i >= 100;
}

static int
mode_kbdint(const char *port, const char *user)
{
    ssh_session s = connect_to(port);
    int rc = ssh_userauth_kbdint(s, user, NULL);

    puts(rc == SSH_AUTH_SUCCESS || rc == SSH_AUTH_INFO ? "offered" : "refused");
    return rc == SSH_AUTH_SUCCESS || rc == SSH_AUTH_INFO;
}

static int
mode_probes(const char *port, const char *keyfile)
{
    ssh_session s = connect_to(port);
    ssh_key k = load_key(keyfile);
    ssh_key pub = NULL;
    int i;

    if (ssh_pki_export_privkey_to_pubkey(k, &pub) != SSH_OK) {
        return 2;
    }
    for (i = 0; i < 40; i++) {
        int rc = ssh_userauth_try_publickey(s, "root", pub);
        if (rc != SSH_AUTH_SUCCESS) {
            break;
        }
    }
    printf("cut-after %d\n", i);
    return i >= 40;
}

static int
mode_requests(const char *port, const char *keyfile)
{
    ssh_session s = connect_to(port);
    ssh_key k = load_key(keyfile);
    ssh_channel ch;
    char buf[64];
    int bad = 0, n;

    if (ssh_userauth_publickey(s, "root", k) != SSH_AUTH_SUCCESS) {
        puts("login-failed");
        return 1;
    }
    ch = ssh_channel_new(s);
    if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK) {
        puts("no-channel");
        return 1;
    }
    if (ssh_channel_request_x11(ch, 0, NULL, NULL, 0) == SSH_OK) {
        puts("x11-granted");
        bad = 1;
    }
    /* auth-agent-req is sent without want-reply by libssh, so its answer
     * cannot be observed here; the server registers no agent callback and
     * never opens an agent channel. */
    if (ssh_channel_request_env(ch, "LD_PRELOAD", "/tmp/x.so") == SSH_OK) {
        puts("ld-preload-granted");
        bad = 1;
    }
    if (ssh_channel_request_env(ch, "LANG", "C.UTF-8") != SSH_OK) {
        puts("lang-refused");
        bad = 1;
    }
    if (ssh_channel_request_exec(ch, "echo \"$LANG ${LD_PRELOAD-none}\"") !=
        SSH_OK) {
        puts("exec-refused");
        return 1;
    }
    n = ssh_channel_read_timeout(ch, buf, sizeof(buf) - 1, 0, 10000);
    buf[n > 0 ? n : 0] = '\0';
    if (strcmp(buf, "C.UTF-8 none\n") != 0) {
        printf("output '%s'\n", buf);
        bad = 1;
    }
    puts(bad ? "bad" : "refused-as-expected");
    ssh_channel_close(ch);
    ssh_disconnect(s);
    return bad;
}

static int
mode_signal(const char *port, const char *keyfile)
{
    ssh_session s = connect_to(port);
    ssh_key k = load_key(keyfile);
    ssh_channel ch;
    char buf[256];
    size_t len = 0;
    int n, st;

    if (ssh_userauth_publickey(s, "root", k) != SSH_AUTH_SUCCESS) {
        puts("login-failed");
        return 1;
    }
    ch = ssh_channel_new(s);
    if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK ||
        ssh_channel_request_exec(
            ch,
            "trap 'echo got-int; exit 5' INT; echo ready; "
            "i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done") !=
            SSH_OK) {
        puts("exec-failed");
        return 1;
    }
    while (len < sizeof(buf) - 1 && strstr(buf, "ready") == NULL) {
        n = ssh_channel_read_timeout(ch, buf + len, 1, 0, 10000);
        if (n <= 0) {
            puts("no-ready");
            return 1;
        }
        len += (size_t)n;
        buf[len] = '\0';
    }
    if (ssh_channel_request_send_signal(ch, "INT") != SSH_OK) {
        puts("signal-not-sent");
        return 1;
    }
    for (;;) {
        n = ssh_channel_read_timeout(ch,
                                     buf + len,
                                     (uint32_t)(sizeof(buf) - 1 - len),
                                     0,
                                     10000);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        buf[len] = '\0';
    }
    st = ssh_channel_get_exit_status(ch);
    printf("%s exit %d\n", strstr(buf, "got-int") ? "got-int" : "no-int", st);
    return !(strstr(buf, "got-int") != NULL && st == 5);
}

int
main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: sshd-probe PORT MODE ARG\n");
        return 2;
    }
    ssh_init();
    if (strcmp(argv[2], "user-change") == 0) {
        return mode_user_change(argv[1], argv[3]);
    }
    if (strcmp(argv[2], "password") == 0) {
        return mode_password(argv[1], argv[3]);
    }
    if (strcmp(argv[2], "passwords") == 0) {
        return mode_passwords(argv[1], argv[3]);
    }
    if (strcmp(argv[2], "kbdint") == 0) {
        return mode_kbdint(argv[1], argv[3]);
    }
    if (strcmp(argv[2], "probes") == 0) {
        return mode_probes(argv[1], argv[3]);
    }
    if (strcmp(argv[2], "signal") == 0) {
        return mode_signal(argv[1], argv[3]);
    }
    if (strcmp(argv[2], "requests") == 0) {
        return mode_requests(argv[1], argv[3]);
    }
    fprintf(stderr, "unknown mode '%s'\n", argv[2]);
    return 2;
}
