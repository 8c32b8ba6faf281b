#!/usr/bin/python3
"""A client that ignores the SSH channel window (RFC 4254 section 5.2):
it logs in with paramiko, runs COMMAND, then sends TOTAL bytes of zeros
as fast as it can, whatever window the server advertised. libssh 0.10
accepts such data and buffers it; airlock-sshd must not. Prints
"sent N" (how many bytes went out before the server cut it off) and
exits 0 either way; every wait is bounded by a 60 s timeout.
Usage: window_flood.py PORT KEYFILE TOTAL COMMAND
(Debian's python3-paramiko: run it with /usr/bin/python3.)"""
import socket
import sys

import paramiko

port, keyfile, total, command = (int(sys.argv[1]), sys.argv[2],
                                 int(sys.argv[3]), sys.argv[4])
sock = socket.create_connection(("127.0.0.1", port), timeout=10)
transport = paramiko.Transport(sock)
transport.banner_timeout = 10
transport.connect(username="root",
                  pkey=paramiko.Ed25519Key.from_private_key_file(keyfile))
chan = transport.open_session(timeout=10)
chan.settimeout(60)
chan.exec_command(command)


def ignore_window(size):
    """Replaces paramiko's wait for window space: always room for one
    packet, so the client never waits for a window adjust."""
    if chan.closed or chan.eof_sent:
        return 0
    return min(size, chan.out_max_packet_size - 64)


chan._wait_for_send_window = ignore_window
block = b"\0" * 32768
sent = 0
try:
    while sent < total and transport.is_active():
        n = chan.send(block)
        if n <= 0:
            break
        sent += n
except (OSError, EOFError, paramiko.SSHException):
    pass
print("sent %d" % sent)
transport.close()
