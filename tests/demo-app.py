#!/usr/bin/env python3
"""The demo's app: a typical program that is not written to be PID 1.

It leaves five orphans behind (double fork) and never reaps anything but
its direct children, starts a background daemon that must flush a file on
SIGTERM, prints the process table, then waits for SIGTERM."""
import os
import signal
import subprocess
import sys
import time

STATE = sys.argv[1] if len(sys.argv) > 1 else "/tmp"


def orphan(seconds):
    pid = os.fork()
    if pid == 0:
        if os.fork() == 0:
            time.sleep(seconds)
            os._exit(0)
        os._exit(0)
    os.waitpid(pid, 0)


def daemon():
    pid = os.fork()
    if pid == 0:
        if os.fork() == 0:
            def flush(*_):
                time.sleep(0.2)
                with open(os.path.join(STATE, "daemon.flushed"), "w") as f:
                    f.write("flushed\n")
                print("daemon: SIGTERM, wrote daemon.flushed", flush=True)
                os._exit(0)
            signal.signal(signal.SIGTERM, flush)
            while True:
                time.sleep(1)
        os._exit(0)
    os.waitpid(pid, 0)


def on_term(*_):
    print("app: SIGTERM, saving state and exiting 0", flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, on_term)
print("app: pid %d, leaving 5 orphans that exit after 0.5 s" % os.getpid(),
      flush=True)
for _ in range(5):
    orphan(0.5)
daemon()
time.sleep(1.5)
print("app: the process table 1 s after the orphans exited:", flush=True)
subprocess.run(["ps", "-eo", "pid,ppid,stat,args"], check=False)
zombies = subprocess.run(["ps", "-eo", "stat="], capture_output=True,
                         text=True).stdout.split().count("Z")
print("app: zombies: %d" % zombies, flush=True)
if os.environ.get("DEMO_EXIT_AFTER_PS"):
    sys.exit(0)
with open(os.path.join(STATE, "app.ready"), "w") as f:
    f.write("ready\n")
while True:
    time.sleep(1)
