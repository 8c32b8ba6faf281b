#!/usr/bin/env python3
"""Opens TCP connections to the SSH server and reports, per connection,
whether the server sent its SSH banner ("banner") or closed it ("closed").
Connections are held open until all were tried, then closed.
Usage: conns.py PORT SRC [SRC...]   (one connection per SRC address)"""
import socket
import sys
import time

port = int(sys.argv[1])
socks = []
results = []
for src in sys.argv[2:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    try:
        data = s.recv(256)
    except OSError:
        data = b""
    results.append("banner" if data.startswith(b"SSH-2.0-") else "closed")
    socks.append(s)
    time.sleep(0.05)
print(" ".join(results))
for s in socks:
    s.close()
