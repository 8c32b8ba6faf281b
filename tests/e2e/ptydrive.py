#!/usr/bin/env python3
"""Runs a command (normally `ssh -tt ...`) on a pseudo-terminal of a given
size; types $PTYDRIVE_INPUT (if set) after a second; when the output
shows WINCH-NOW, resizes the terminal (so ssh sends a
window-change request) and types a newline. Prints everything read.
Bounded: gives up after 20 s.
Usage: ptydrive.py ROWS COLS NEWROWS NEWCOLS CMD [ARGS...]"""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def setsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    rows, cols, nrows, ncols = (int(x) for x in sys.argv[1:5])
    cmd = sys.argv[5:]
    pid, fd = pty.fork()
    if pid == 0:
        setsize(0, rows, cols)
        os.execvp(cmd[0], cmd)
    out = b""
    resized = False
    typed = "PTYDRIVE_INPUT" not in os.environ
    start = time.monotonic()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
        if not typed and time.monotonic() - start > 1.0:
            typed = True
            os.write(fd, os.environ["PTYDRIVE_INPUT"].encode())
        if not resized and b"WINCH-NOW" in out:
            resized = True
            setsize(fd, nrows, ncols)
            os.kill(pid, signal.SIGWINCH)
            time.sleep(0.5)
            os.write(fd, b"\n")
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    sys.stdout.write(out.decode("utf-8", "replace"))


main()
