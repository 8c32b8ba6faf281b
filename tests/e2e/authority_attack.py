#!/usr/bin/python3
"""Attacks on the SSH server's key authority, with paramiko's raw client
(Debian's python3-paramiko). Every wait is bounded.

  Each connects from SRC (a loopback address), so that the penalties one
  run earns do not refuse the next.

  authority_attack.py race SRC PORT KEY USER READY GO
      Key exchange, then writes READY and waits (at most 30 s) for the
      file GO to exist (the test removes the key from every source in
      between), then sends the signed publickey request, CHANNEL_OPEN and
      exec back to back. Prints "logged-in OUTPUT" or "refused".
  authority_attack.py hold SRC PORT KEY USER READY
      Logs in and opens a session running `sleep 60`, writes READY, then
      prints "closed-after N" (seconds) once the server closes the
      connection, or "still-open" after 30 s.
  authority_attack.py logins SRC PORT KEY USER N
      Opens N connections and completes key exchange on all of them
      first (so the server admits every one while nobody is logged in),
      then signs in on each in turn and holds them; prints the number of
      logins that succeeded.
"""
import os
import socket
import sys
import time

import paramiko


def wait_file(path, limit):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if os.path.exists(path):
            return True
        time.sleep(0.02)
    return False


def transport(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                    source_address=(SRC, 0))
    t = paramiko.Transport(sock)
    t.start_client(timeout=10)
    return t


def race(port, keyfile, user, ready, go):
    key = paramiko.Ed25519Key.from_private_key_file(keyfile)
    t = transport(port)
    open(ready, "w").close()
    if not wait_file(go, 30):
        print("no-go")
        return 2
    try:
        t.auth_publickey(user, key)
    except paramiko.SSHException:
        print("refused")
        return 0
    out = b""
    try:
        ch = t.open_session(timeout=5)
        ch.settimeout(5)
        ch.exec_command("trap '' HUP; id -u")
        out = ch.recv(256)
    except (paramiko.SSHException, OSError, socket.timeout):
        pass
    print("logged-in " + out.decode(errors="replace").strip())
    return 1


def hold(port, keyfile, user, ready):
    key = paramiko.Ed25519Key.from_private_key_file(keyfile)
    t = transport(port)
    t.auth_publickey(user, key)
    ch = t.open_session(timeout=5)
    ch.exec_command("sleep 60")
    t0 = time.monotonic()
    open(ready, "w").close()
    while time.monotonic() - t0 < 30:
        if not t.is_active() or ch.exit_status_ready() or ch.closed:
            print("closed-after %d" % round(time.monotonic() - t0))
            return 0
        time.sleep(0.05)
    print("still-open")
    return 1


def logins(port, keyfile, user, n):
    key = paramiko.Ed25519Key.from_private_key_file(keyfile)
    ts = [transport(port) for _ in range(int(n))]
    good = 0
    for t in ts:
        try:
            t.auth_publickey(user, key)
            good += 1
        except (paramiko.SSHException, OSError):
            pass
    print(good)
    for t in ts:
        t.close()
    return 0


SRC = "127.0.0.1"


def main():
    global SRC
    mode, SRC, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "race":
        return race(port, *sys.argv[4:8])
    if mode == "hold":
        return hold(port, *sys.argv[4:7])
    if mode == "logins":
        return logins(port, *sys.argv[4:8])
    print("unknown mode " + mode, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
