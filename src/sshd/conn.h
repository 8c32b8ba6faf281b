/* One client connection, in its own process forked by the listener:
 * key exchange, authentication, then the session channels. */
#ifndef AIRLOCK_SSHD_CONN_H
#define AIRLOCK_SSHD_CONN_H

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <libssh/callbacks.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "keys/keys.h"
#include "privdrop/privdrop.h"
#include "sshd/config.h"

/* Exit statuses of a connection process; the listener turns them into
 * penalties (limits.h). */
#define CONN_EXIT_OK       0
#define CONN_EXIT_ERROR    1 /* our own failure: no penalty */
#define CONN_EXIT_GRACE    3
#define CONN_EXIT_AUTHFAIL 5
#define CONN_EXIT_NOAUTH   6

struct chan;

/* What the listener hands to the connection process. */
struct conn_params {
    const struct sshd_config *cfg;
    ssh_bind bind;
    int fd;      /* accepted socket */
    int auth_fd; /* socketpair to the listener, the key authority */
    char peer[INET6_ADDRSTRLEN];
    unsigned peer_port;
    char local[INET6_ADDRSTRLEN];
    unsigned local_port;
    /* Non-empty when every key in the live set belongs to this one user:
     * the process drops to it before key exchange. */
    char only_user[KEYS_USER_MAX];
};

struct conn {
    const struct sshd_config *cfg;
    const struct conn_params *p;
    ssh_session session;
    ssh_event event;
    struct ssh_server_callbacks_struct server_cb;
    int sigfd;

    /* authentication */
    char user[KEYS_USER_MAX]; /* first user name asked for */
    bool have_user;
    unsigned failures;
    unsigned requests;
    bool authenticated;
    int fatal;    /* exit status to leave with, 0 = none */
    bool dropped; /* already running as the session user */
    struct privdrop_target *target;
    struct keys_set matched; /* one entry: the key that logged in, with
                              * the effective options the authority
                              * returned (the session applies only these) */
    uint64_t auth_ms;

    /* sessions */
    struct chan *chans[8];
    unsigned nchans;
    bool revoked;
    bool revoked_keep; /* revoked with AIRLOCK_SSH_REVOKE_SESSIONS=no: the
                        * open sessions stay, nothing new starts */
    bool stopping;
    uint64_t activity_ms;  /* last channel data or request (idle timeout) */
    const char *violation; /* set by a callback: end the connection */
};

/* Runs the connection to its end; never returns (exits with CONN_EXIT_*). */
void conn_main(const struct conn_params *p) __attribute__((noreturn));

/* session.c: channel handling, called by conn.c */
ssh_channel session_open(ssh_session session, void *userdata);
/* Message callback for what no other callback handles (ssh -L). */
int session_message(ssh_session session, ssh_message msg, void *userdata);
/* Adds the pollfds of every channel to pfd (at most max); returns count. */
unsigned session_pollfds(struct conn *c, struct pollfd *pfd, unsigned max);
/* Handles poll results for the fds added by session_pollfds. */
void session_handle(struct conn *c, struct pollfd *pfd, unsigned n);
/* Reaps children (SIGCHLD) and finishes channels that are done. */
void session_reap(struct conn *c);
/* Finishes channels that are done and escalates the stop of channels the
 * client closed; returns the next deadline (DEADLINE_NONE for none). */
uint64_t session_progress(struct conn *c);
/* Stops every session (SIGHUP, SIGKILL after 2 s) and waits, bounded,
 * until they are reaped; audits each with why. For every end of a
 * connection. */
void session_stop_all(struct conn *c, const char *why);
/* Lets the session read the client data libssh still holds. */
void session_pull(struct conn *c);

#endif
