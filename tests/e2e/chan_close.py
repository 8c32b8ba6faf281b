#!/usr/bin/python3
"""Closes a session channel while keeping the connection: logs in with
paramiko, runs COMMAND on one channel, waits (at most 10 s) until FILE
is not empty, closes that channel, then holds the connection open for
HOLD seconds before it leaves. Prints "closed" once the channel is
closed. Usage: chan_close.py PORT KEYFILE FILE HOLD COMMAND
(Debian's python3-paramiko: run it with /usr/bin/python3.)"""
import os
import socket
import sys
import time

import paramiko

port, keyfile, path, hold, command = (int(sys.argv[1]), sys.argv[2],
                                      sys.argv[3], float(sys.argv[4]),
                                      sys.argv[5])
sock = socket.create_connection(("127.0.0.1", port), timeout=10)
transport = paramiko.Transport(sock)
transport.banner_timeout = 10
transport.connect(username="root",
                  pkey=paramiko.Ed25519Key.from_private_key_file(keyfile))
chan = transport.open_session(timeout=10)
chan.exec_command(command)
for _ in range(500):
    if os.path.exists(path) and os.path.getsize(path) > 0:
        break
    time.sleep(0.02)
chan.close()
print("closed", flush=True)
time.sleep(hold)
transport.close()
