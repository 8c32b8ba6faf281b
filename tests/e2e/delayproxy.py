#!/usr/bin/env python3
"""ProxyCommand for ssh that holds back the client's bytes after its
version string for DELAY seconds: the key exchange then outlasts a short
version deadline although the version string came at once.
Usage: delayproxy.py HOST PORT DELAY"""
import os
import select
import socket
import sys
import time

host, port, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection((host, port), timeout=10)
s.settimeout(None)
pending = b""
held_until = None
end = time.monotonic() + 60  # never outlive the test
stdin_open = True
shut = False
while time.monotonic() < end:
    fds = [s] + ([0] if stdin_open else [])
    timeout = 0.05 if pending else 1.0
    r, _, _ = select.select(fds, [], [], timeout)
    if s in r:
        data = s.recv(65536)
        if not data:
            break
        os.write(1, data)
    if 0 in r:
        data = os.read(0, 65536)
        if not data:
            stdin_open = False
        pending += data
    if held_until is None and b"\n" in pending:
        line, _, rest = pending.partition(b"\n")
        s.sendall(line + b"\n")
        pending = rest
        held_until = time.monotonic() + delay
    if held_until is not None and time.monotonic() >= held_until and pending:
        s.sendall(pending)
        pending = b""
    if not stdin_open and not pending and not shut:
        s.shutdown(socket.SHUT_WR)
        shut = True
