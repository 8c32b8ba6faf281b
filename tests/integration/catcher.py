#!/usr/bin/env python3
"""Test app: appends the name of every signal it receives to OUT, writes
OUT.ready once its handlers are set, and exits with EXIT_CODE on SIGTERM or
SIGINT. Bounded: exits 99 after 60 s."""
import signal
import sys
import time

out, exit_code = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
NAMES = ["HUP", "INT", "QUIT", "USR1", "USR2", "WINCH", "CONT", "TERM"]


def handler(signum, _frame):
    name = signal.Signals(signum).name[3:]
    with open(out, "a") as f:
        f.write(name + "\n")
    if name in ("TERM", "INT"):
        sys.exit(exit_code)


for n in NAMES:
    signal.signal(getattr(signal, "SIG" + n), handler)
with open(out + ".ready", "w") as f:
    f.write("ready\n")
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    time.sleep(0.05)
sys.exit(99)
