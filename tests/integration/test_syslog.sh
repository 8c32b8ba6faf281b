#!/bin/bash
# The built-in syslog collector (`airlock syslogd`): messages from logger(1)
# and raw datagrams reach stdout and the file, rotation, a 100,000-message
# burst without loss, senders blocking instead of dropping, hostile
# datagrams, signals and bad settings.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

SYSLOGD=("$AIRLOCK" syslogd)
if ! timeout 5 "${SYSLOGD[@]}" --help 2>/dev/null | grep -q 'usage: airlock syslogd'; then
    not_ok "'$AIRLOCK syslogd --help' does not show the collector's usage"
    finish
    exit 1
fi

PID=
ARGS=()
# start ROOT [VAR=VALUE...]: runs a collector for ROOT (with the arguments
# in ARGS) in the background, stdout in ROOT.out, stderr in ROOT.err; waits
# until it listens.
start() {
    local root=$1
    shift
    mkdir -p "$root"
    # Emptied here, not by the background job's redirections: those may
    # run only after the wait below has already seen the previous
    # collector's "listening on" line.
    : >"$root.out"
    : >"$root.err"
    env AIRLOCK_ROOT="$root" "$@" "${SYSLOGD[@]}" "${ARGS[@]}" \
        >>"$root.out" 2>>"$root.err" &
    PID=$!
    CLEANUP_PIDS+=("$PID")
    # Not the socket's existence: a stale one may be there already.
    wait_until 5 has "listening on" "$root.err"
}

# count PATTERN FILE: lines of FILE containing the fixed string PATTERN.
count() {
    local n
    n=$(grep -cF -- "$1" "$2" 2>/dev/null)
    echo "${n:-0}"
}

has() { grep -qF -- "$1" "$2" 2>/dev/null; }

# The distribution's python3 starts fastest (a version manager's shim may
# take seconds).
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3

# send SOCKET PYTHON-BYTES-EXPR...: one raw datagram per expression.
send() {
    local sock=$1
    shift
    "$PYTHON" - "$sock" "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(sys.argv[1])
for expr in sys.argv[2:]:
    s.send(eval(expr))
PY
}

R=$T/main
SOCK=$R/dev/log
check "collector starts and creates its socket" \
    start "$R" AIRLOCK_SYSLOG_FILE=/var/log/syslog
expect_eq "socket is world-writable (0666)" 666 "$(stat -c %a "$SOCK")"
expect_eq "socket is a socket" socket "$(stat -c %F "$SOCK")"

logger --socket "$SOCK" -t demo hello
check "logger line reaches stdout" \
    wait_until 5 has "syslog: user.notice demo: hello" "$R.out"
check "logger line reaches the file with a timestamp" \
    wait_until 5 grep -qE \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z user\.notice demo: hello$' \
    "$R/var/log/syslog"

logger --socket "$SOCK" -i -p daemon.warning -t demo "with pid"
check "facility, severity and pid are shown" \
    wait_until 5 grep -qE '^syslog: daemon\.warning demo\[[0-9]+\]: with pid$' "$R.out"

setpriv --reuid=65534 --regid=65534 --clear-groups \
    logger --socket "$SOCK" -t nobody "from an unprivileged user"
check "a non-root user can log" \
    wait_until 5 has "nobody: from an unprivileged user" "$R.out"

logger --socket "$SOCK" -t demo "$(printf 'first\nsecond\tthird\033[31m')"
check "control characters are escaped, one line per message" \
    wait_until 5 has 'syslog: user.notice demo: first\nsecond\tthird\x1b[31m' "$R.out"

logger --socket "$SOCK" --rfc5424 -p local3.err -t app5 --msgid M1 \
    --sd-id zoo@123 --sd-param 'tiger="hungry"' "rfc five four two four"
check "RFC 5424 from logger --rfc5424" \
    wait_until 5 has "syslog: local3.err app5: rfc five four two four" "$R.out"
send "$SOCK" "b'<165>1 2003-10-11T22:14:15.003Z h evntslog 42 ID47 - \\xef\\xbb\\xbfBOM text'"
check "RFC 5424 with PROCID and BOM" \
    wait_until 5 has "syslog: local4.notice evntslog[42]: BOM text" "$R.out"

send "$SOCK" "b'<13>' + b'x' * 100000" "b'<13>bin \\x00\\x01\\xff\\xfe end'" \
    "b''" "b'<999>bad pri'" "b'<14>after the bad ones'"
check "next message after oversized/binary/empty datagrams arrives" \
    wait_until 5 has "syslog: user.info -: after the bad ones" "$R.out"
check "oversized datagram is cut with a marker" \
    has "[truncated, datagram was 100004 bytes]" "$R.out"
big_len=$(grep -F 'truncated, datagram was 100004' "$R.out" | awk '{print length($0)}')
check "cut line is bounded (8 KiB of text)" test "${big_len:-0}" -lt 8400
check "binary bytes are escaped as \\xNN" \
    has 'syslog: user.notice -: bin \x00\x01\xff\xfe end' "$R.out"
check "datagram without PRI kept as user.notice" \
    has "syslog: user.notice -: <999>bad pri" "$R.out"
check "collector survived" kill -0 "$PID"

# Senders block while the collector cannot keep up (datagram socket): stop
# it, let logger fill the queue, and nothing is lost once it resumes.
kill -STOP "$PID"
seq 1 300 | logger --socket "$SOCK" -t blocked &
LOGGER=$!
CLEANUP_PIDS+=("$LOGGER")
sleep 1
check "logger blocks while the collector is stopped" kill -0 "$LOGGER"
kill -CONT "$PID"
wait "$LOGGER"
expect_eq "blocked logger exits 0 once resumed" 0 "$?"
wait_until 10 test "$(count 'blocked: ' "$R.out")" -ge 300
expect_eq "all 300 blocked messages arrive" 300 "$(count 'blocked: ' "$R.out")"

start_ns=$(date +%s%N)
seq 1 100000 | logger --socket "$SOCK" -t burst
wait_until 60 test "$(count 'burst: ' "$R.out")" -ge 100000
end_ns=$(date +%s%N)
got=$(count 'burst: ' "$R.out")
expect_eq "100,000-message burst: none lost on stdout" 100000 "$got"
expect_eq "burst: every number exactly once" 100000 \
    "$(grep -F 'burst: ' "$R.out" | sed 's/.*burst: //' | sort -un | wc -l)"
wait_until 10 test "$(count 'burst: ' "$R/var/log/syslog")" -ge 100000
expect_eq "burst: none lost in the file" 100000 \
    "$(count 'burst: ' "$R/var/log/syslog")"
ms=$(((end_ns - start_ns) / 1000000))
echo "# burst: 100000 messages in ${ms} ms ($((100000 * 1000 / (ms > 0 ? ms : 1))) msg/s)"

# SIGHUP reopens the file (logrotate moves it away first).
mv "$R/var/log/syslog" "$R/var/log/syslog.moved"
kill -HUP "$PID"
wait_until 5 has "reopened" "$R.err"
logger --socket "$SOCK" -t demo "after reopen"
check "SIGHUP: lines go to a new file" \
    wait_until 5 has "demo: after reopen" "$R/var/log/syslog"
check "SIGHUP: the moved file keeps the old lines" \
    has "demo: hello" "$R/var/log/syslog.moved"

# A second collector must not steal a live socket.
env AIRLOCK_ROOT="$R" "${SYSLOGD[@]}" >/dev/null 2>"$T/second.err"
expect_eq "second collector on a live socket exits 1" 1 "$?"
check "second collector says why" has "another syslog daemon" "$T/second.err"

logger --socket "$SOCK" -t demo "last before TERM"
kill -TERM "$PID"
wait "$PID"
expect_eq "SIGTERM: exit status 0" 0 "$?"
check "SIGTERM: pending line written" has "demo: last before TERM" "$R.out"
check "SIGTERM: socket removed" test ! -e "$SOCK"
expect_eq "no warnings or errors from the collector" "" \
    "$(grep -vF ': info: ' "$R.err")"

# A stale socket left by a killed collector is replaced.
start "$T/stale"
kill -KILL "$PID"
wait "$PID" 2>/dev/null
check "killed collector leaves its socket" test -S "$T/stale/dev/log"
ARGS=(--prefix=)
check "new collector replaces a stale socket" start "$T/stale"
ARGS=()
logger --socket "$T/stale/dev/log" -t demo "after stale"
check "replaced socket works" wait_until 5 has "demo: after stale" "$T/stale.out"
check "with --prefix= a line starts with facility.severity" \
    grep -qx "user.notice demo: after stale" "$T/stale.out"
kill -TERM "$PID"
wait "$PID"

# Rotation at the size, keeping the configured number of files.
start "$T/rot" AIRLOCK_SYSLOG_FILE=/var/log/syslog \
    AIRLOCK_SYSLOG_ROTATE_SIZE=1k AIRLOCK_SYSLOG_ROTATE_KEEP=2
for i in $(seq 1 60); do
    logger --socket "$T/rot/dev/log" -t rot "message number $i padded to be longer"
done
check "rotation: last message in the current file" \
    wait_until 5 has "rot: message number 60 padded" "$T/rot/var/log/syslog"
check "rotation: syslog.1 exists" test -f "$T/rot/var/log/syslog.1"
check "rotation: syslog.2 exists" test -f "$T/rot/var/log/syslog.2"
check "rotation: keep 2 honoured (no syslog.3)" test ! -e "$T/rot/var/log/syslog.3"
big=0
for f in "$T"/rot/var/log/syslog*; do
    [ "$(stat -c %s "$f")" -gt 1024 ] && big=1
done
expect_eq "rotation: no file passes 1k" 0 "$big"
# The three files hold the newest messages, in order, without gaps.
seqs=$(cat "$T/rot/var/log/syslog.2" "$T/rot/var/log/syslog.1" "$T/rot/var/log/syslog" |
    sed -n 's/.*message number \([0-9]*\) .*/\1/p')
first=$(echo "$seqs" | head -n 1)
expect_eq "rotation: kept lines are contiguous up to the last" \
    "$(seq "$first" 60 | tr '\n' ' ')" "$(echo "$seqs" | tr '\n' ' ')"
kill -TERM "$PID"
wait "$PID"

# Write errors on stdout: logged once, the file still gets every line.
mkdir -p "$T/full"
env AIRLOCK_ROOT="$T/full" AIRLOCK_SYSLOG_FILE=/log/syslog \
    "${SYSLOGD[@]}" >/dev/full 2>"$T/full.err" &
PID=$!
CLEANUP_PIDS+=("$PID")
wait_until 5 test -S "$T/full/dev/log"
for i in 1 2 3; do
    logger --socket "$T/full/dev/log" -t full "line $i"
done
check "stdout errors: file still written" \
    wait_until 5 has "full: line 3" "$T/full/log/syslog"
expect_eq "stdout errors: logged once" 1 "$(count 'writing to stdout' "$T/full.err")"
check "stdout errors: collector keeps running" kill -0 "$PID"
kill -TERM "$PID"
wait "$PID"

# A log file that cannot be opened (here a symlink, refused) costs the file
# only: stdout still works, the error is said once.
mkdir -p "$T/link/var/log"
ln -s /etc/passwd "$T/link/var/log/syslog"
start "$T/link" AIRLOCK_SYSLOG_FILE=/var/log/syslog
for i in 1 2 3; do
    logger --socket "$T/link/dev/log" -t link "line $i"
done
check "unopenable file: stdout still gets lines" \
    wait_until 5 has "link: line 3" "$T/link.out"
expect_eq "unopenable file: error logged once" 1 "$(count "opening" "$T/link.err")"
check "unopenable file: symlink not followed" \
    test "$(grep -c 'link: line' /etc/passwd)" -eq 0
kill -TERM "$PID"
wait "$PID"

# Bad settings: one clear line, exit 2; AIRLOCK_SYSLOG=off: nothing runs.
bad() {
    local rc
    env AIRLOCK_ROOT="$T/bad" "$@" "${SYSLOGD[@]}" >/dev/null 2>"$T/bad.err"
    rc=$?
    [ "$rc" -eq 2 ] && [ "$(wc -l <"$T/bad.err")" -eq 1 ] &&
        grep -qF "${1%%=*}" "$T/bad.err"
}
check "bad AIRLOCK_SYSLOG_ROTATE_SIZE exits 2 with one line" \
    bad AIRLOCK_SYSLOG_ROTATE_SIZE=10X
check "bad AIRLOCK_SYSLOG_ROTATE_KEEP exits 2 with one line" \
    bad AIRLOCK_SYSLOG_ROTATE_KEEP=many
check "relative AIRLOCK_SYSLOG_FILE exits 2 with one line" \
    bad AIRLOCK_SYSLOG_FILE=var/log/syslog
check "bad AIRLOCK_SYSLOG exits 2 with one line" bad AIRLOCK_SYSLOG=perhaps
env AIRLOCK_ROOT="$T/off" AIRLOCK_SYSLOG=off "${SYSLOGD[@]}" >/dev/null 2>&1
expect_eq "AIRLOCK_SYSLOG=off exits 0" 0 "$?"
check "AIRLOCK_SYSLOG=off creates no socket" test ! -e "$T/off/dev/log"
"${SYSLOGD[@]}" --bogus >/dev/null 2>&1
expect_eq "unknown argument exits 2" 2 "$?"
"${SYSLOGD[@]}" --prefix "two words" >/dev/null 2>&1
expect_eq "bad --prefix exits 2" 2 "$?"


# --- the collector under PID 1 starts on demand ---------------------------
# PID 1 binds /dev/log itself; the collector starts at the first datagram,
# or at the stop while anything could still log.
OD=$T/ondemand
mkdir -p "$OD/dev"
out=$(AIRLOCK_ROOT=$OD AIRLOCK_SYSLOG=on AIRLOCK_SSH=off timeout -k 2 20 unshare --pid --fork --mount-proc --kill-child "$AIRLOCK" -- true 2>&1)
check "on demand: a container that logs nothing never starts the collector" \
    bash -c "! grep -q \"service 'syslogd': started\" <<<'$out'"
check "on demand: ... and /dev/log was there for it" \
    grep -q "app exited with status 0" <<<"$out"
out=$(AIRLOCK_ROOT=$OD AIRLOCK_SYSLOG=on AIRLOCK_SSH=off timeout -k 2 20 unshare --pid --fork --mount-proc --kill-child "$AIRLOCK" -- \
    sh -c 'sleep 0.2; logger --socket "$AIRLOCK_ROOT/dev/log" -t od "first line"; sleep 0.5' 2>&1)
check "on demand: the first message starts the collector and reaches stdout" \
    grep -q "od.*first line" <<<"$out"
# A service that logs only while it stops: nothing was logged before, so
# the collector starts at the stop (a process is left that could log) and
# is stopped after the service, having read its line.
rm -rf "$OD/etc/service"
make_service "$OD" quiet 'trap "logger --socket \"\$AIRLOCK_ROOT/dev/log\" -t quiet \"stopping now\"; exit 0" TERM
while :; do sleep 0.1; done'
out=$(AIRLOCK_ROOT=$OD AIRLOCK_SYSLOG=on AIRLOCK_SSH=off timeout -k 2 20 unshare --pid --fork --mount-proc --kill-child "$AIRLOCK" -- sleep 0.5 2>&1)
check "on demand: a line a service logs while it stops reaches stdout" \
    grep -q "quiet.*stopping now" <<<"$out"
rm -rf "$OD/etc/service"

finish
