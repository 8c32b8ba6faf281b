#!/usr/bin/python3
"""Reads an asciicast v2 file strictly and prints one part of it.
Exits 1 (with the reason on stderr) when any line is not valid JSON of
the v2 form: a header object with version 2, integer width, height and
timestamp; then [time, code, data] arrays with non-decreasing times.
Usage: castcheck.py FILE header KEY[.KEY]   prints that header field
       castcheck.py FILE events CODE        prints the data of the CODE
                                            events ("o", "i", "r"), joined
       castcheck.py FILE valid              prints nothing
"""
import json
import sys


def fail(why):
    sys.stderr.write("castcheck: %s: %s\n" % (sys.argv[1], why))
    sys.exit(1)


def main():
    path, what = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8", "strict")
    except UnicodeDecodeError as e:
        fail("not UTF-8: %s" % e)
    lines = text.split("\n")
    if lines[-1] != "":
        fail("last line not terminated")
    lines = lines[:-1]
    if not lines:
        fail("empty")
    try:
        header = json.loads(lines[0])
    except ValueError as e:
        fail("header: %s" % e)
    if header.get("version") != 2:
        fail("version is not 2")
    for k in ("width", "height", "timestamp"):
        if not isinstance(header.get(k), int):
            fail("header field %s missing" % k)
    events = []
    last = 0.0
    for n, line in enumerate(lines[1:], 2):
        try:
            ev = json.loads(line)
        except ValueError as e:
            fail("line %d: %s" % (n, e))
        if (not isinstance(ev, list) or len(ev) != 3
                or not isinstance(ev[0], (int, float))
                or ev[1] not in ("o", "i", "r")
                or not isinstance(ev[2], str) or ev[0] < last):
            fail("line %d: not an event: %r" % (n, line))
        last = ev[0]
        events.append(ev)
    if what == "header":
        v = header
        for k in sys.argv[3].split("."):
            v = v.get(k) if isinstance(v, dict) else None
        print("" if v is None else v)
    elif what == "events":
        sys.stdout.write("".join(e[2] for e in events if e[1] == sys.argv[3]))
    elif what == "valid":
        pass
    else:
        fail("unknown request %s" % what)


main()
