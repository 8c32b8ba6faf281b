#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal, types Ctrl-C once the command
prints READY, and prints everything the terminal showed. Bounded: 15 s."""
import os
import pty
import select
import sys
import time


def main():
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[1], sys.argv[1:])
    out = b""
    sent = False
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
        if not sent and b"READY" in out:
            time.sleep(0.2)
            os.write(fd, b"\x03")
            sent = True
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace"))
    print("\nexit=%d" % os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
