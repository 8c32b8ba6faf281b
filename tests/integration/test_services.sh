#!/bin/bash
# Supervised services under airlock as PID 1: start, output prefixing,
# restart with backoff, finish scripts, down files, the control socket,
# stop order with down-signal, and the built-in syslog collector.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

ROOT=$T/root
export AIRLOCK_ROOT=$ROOT
SVC=$ROOT/etc/service
mkdir -p "$SVC" "$ROOT/dev" "$ROOT/var/log"
OUT=$T/out
STOPS=$T/stops

# mksvc NAME BODY: a service whose run script is BODY (bash).
mksvc() {
    mkdir -p "$SVC/$1"
    printf '#!/bin/bash\n%s\n' "$2" >"$SVC/$1/run"
    chmod +x "$SVC/$1/run"
}

# Three services that record the order they are stopped in.
for name in alpha beta gamma; do
    mksvc "$name" "trap 'echo $name >>$STOPS; exit 0' TERM
echo $name started
while :; do sleep 0.05; done"
done
# gamma is stopped with SIGQUIT, as its down-signal file says.
printf 'QUIT\n' >"$SVC/gamma/down-signal"
mksvc gamma "trap 'echo gamma-QUIT >>$STOPS; exit 0' QUIT
trap 'echo gamma-TERM >>$STOPS; exit 0' TERM
while :; do sleep 0.05; done"

# A service that prints a line in two pieces while another one prints.
mksvc chatty 'printf "first-half "; sleep 0.3; printf "second-half\n"
for i in 1 2 3; do echo "line $i"; done
exec sleep 60'
mksvc noisy 'for i in $(seq 1 40); do echo "noise $i"; sleep 0.01; done
exec sleep 60'

# A service that ignores SIGTERM.
mksvc deaf "trap '' TERM; while :; do sleep 0.05; done"

# A service that crashes at once, every time, with a finish script.
mksvc crash "date +%s%N >>$T/crash.times; exit 3"
printf '#!/bin/sh\necho "finish $1 $2" >>%s\n' "$T/finish" >"$SVC/crash/finish"
chmod +x "$SVC/crash/finish"

# A disabled service and a broken one.
mksvc disabled "touch $T/disabled.ran; exec sleep 60"
touch "$SVC/disabled/down"
mkdir -p "$SVC/broken"
printf '#!/bin/sh\n' >"$SVC/broken/run" # not executable

unshare --pid --fork --mount-proc --kill-child "$AIRLOCK" --grace 2 -- \
    python3 "$(dirname "$0")/catcher.py" "$T/app" 0 >"$OUT" 2>"$T/err" &
BGPID=$!
CLEANUP_PIDS+=("$BGPID")
wait_until 10 test -s "$T/app.ready"
APID=$(pgrep -P "$BGPID" | head -n 1)

wait_until 5 grep -q "^alpha: alpha started" "$OUT"
check "a service's output is prefixed with its name" \
    grep -q "^alpha: alpha started$" "$OUT"
wait_until 5 grep -q "^chatty: line 3" "$OUT"
check "a line written in two pieces stays one line" \
    grep -qx "chatty: first-half second-half" "$OUT"
wait_until 5 grep -q "^noisy: noise 40" "$OUT"
check "no line is mixed with another service's line" \
    test "$(grep -cvE '^(alpha|beta|gamma|chatty|noisy|syslog): ' "$OUT")" -eq 0
check "a service with a down file is not started" test ! -e "$T/disabled.ran"
check "a non-executable run file is skipped with a log line naming it" \
    grep -q "service 'broken'.*not an executable" "$T/err"

# Backoff: 0.1 s, doubling. Wait for 5 starts (0.1+0.2+0.4+0.8 = 1.5 s).
wait_until 10 test "$(wc -l <"$T/crash.times" 2>/dev/null || echo 0)" -ge 5
mapfile -t times <"$T/crash.times"
gaps=""
backoff_ok=1
expected=100
for i in 1 2 3 4; do
    gap=$(((times[i] - times[i - 1]) / 1000000))
    gaps="$gaps $gap"
    # At least the backoff, and less than the next step plus slack.
    if [ "$gap" -lt "$expected" ] || [ "$gap" -gt $((expected * 2 + 400)) ]; then
        backoff_ok=0
    fi
    expected=$((expected * 2))
done
echo "# restart gaps (ms):$gaps"
check "a crashing service is restarted with doubling backoff" test "$backoff_ok" -eq 1
check "every exit is logged with its status" \
    grep -q "service 'crash': exited with status 3" "$T/err"
check "the finish script runs after each exit with code and signal" \
    grep -qx "finish 3 0" "$T/finish"

# The control socket.
status=$("$AIRLOCK" status 2>&1)
while IFS= read -r l; do echo "# $l"; done <<<"$status"
check "airlock status lists a running service with its pid" \
    grep -Eq "^alpha +ready +yes +[0-9]+ " <<<"$status"
check "airlock status shows the restart count" \
    grep -Eq "^crash +(backoff|ready|finishing) +(yes|no) +[0-9]+ +[^ ]+ +[1-9][0-9]* +3$" <<<"$status"
# Control clients that connect and never send hold no slot for long and
# never PID 1 itself: six of them at once, and `airlock status` still
# answers within half a second.
ctl=$(find "$AIRLOCK_ROOT" -name control.sock -type s 2>/dev/null | head -n 1)
/usr/bin/python3 - "$ctl" >"$T/silent.out" 2>&1 <<'PY' &
import socket, sys, time
held = []
for _ in range(6):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    held.append(s)
print("connected", flush=True)
time.sleep(3)
PY
silent=$!
wait_until 5 grep -q connected "$T/silent.out"
t0=$(date +%s%N)
st=$(timeout 5 "$AIRLOCK" status 2>&1)
dt=$((($(date +%s%N) - t0) / 1000000))
check "six silent control clients: airlock status answers in ${dt} ms (< 500)" \
    bash -c "grep -Eq '^alpha ' <<<'$st' && [ $dt -lt 500 ]"
kill "$silent" 2>/dev/null
wait "$silent" 2>/dev/null
old_pid=$(awk '$1 == "beta" {print $4}' <<<"$status")
"$AIRLOCK" restart beta >/dev/null
wait_until 5 grep -qx beta "$STOPS"
wait_until 5 bash -c "'$AIRLOCK' status | awk '\$1 == \"beta\" && \$2 == \"ready\" && \$4 != \"$old_pid\" {f=1} END {exit !f}'"
new_pid=$("$AIRLOCK" status | awk '$1 == "beta" {print $4}')
check "airlock restart NAME restarts it (pid $old_pid -> $new_pid)" \
    test -n "$new_pid" -a "$new_pid" != "$old_pid" -a "$new_pid" != 0
# A service that ignores its down signal is killed after the grace (2 s).
old_pid=$("$AIRLOCK" status | awk '$1 == "deaf" {print $4}')
"$AIRLOCK" restart deaf >/dev/null
wait_until 8 bash -c "'$AIRLOCK' status | awk '\$1 == \"deaf\" && \$2 == \"ready\" && \$4 != \"$old_pid\" {f=1} END {exit !f}'"
new_pid=$("$AIRLOCK" status | awk '$1 == "deaf" {print $4}')
check "restart of a service ignoring SIGTERM escalates to SIGKILL" \
    test -n "$new_pid" -a "$new_pid" != "$old_pid" -a "$new_pid" != 0
check "...and says so" grep -q "service 'deaf': still running after the grace" "$T/err"
"$AIRLOCK" restart nosuch 2>"$T/restart.err"
rc=$?
expect_eq "airlock restart of an unknown name fails" 1 "$rc"
check "...with a clear message" grep -q "no service named 'nosuch'" "$T/restart.err"
check "the control socket is root-only" \
    test "$(stat -c %a "$ROOT/run/airlock")" = 700
setpriv --reuid 65534 --regid 65534 --clear-groups "$AIRLOCK" status \
    >/dev/null 2>"$T/nonroot.err"
rc=$?
expect_eq "a non-root user cannot reach the control socket (exit 3)" 3 "$rc"

# With the directory opened up, PID 1 itself still refuses a non-root peer
# (SO_PEERCRED): the request gets no answer.
chmod 755 "$ROOT/run/airlock"
chmod 666 "$ROOT/run/airlock/control.sock"
setpriv --reuid 65534 --regid 65534 --clear-groups "$AIRLOCK" status \
    >"$T/peercred.out" 2>"$T/peercred.err"
rc=$?
chmod 700 "$ROOT/run/airlock"
expect_eq "PID 1 refuses a non-root peer on the socket (exit 3)" 3 "$rc"
# Depending on timing the client sees no answer or a reset connection.
check "...without answering it ($(cat "$T/peercred.err"))" test ! -s "$T/peercred.out"

# A root client that connects and stays silent holds PID 1 for at most
# 200 ms; the next request is answered long before the client gives up.
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
time.sleep(5)' "$ROOT/run/airlock/control.sock" &
silent=$!
CLEANUP_PIDS+=("$silent")
sleep 0.3
start_ns=$(date +%s%N)
"$AIRLOCK" status >/dev/null
rc=$?
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
kill "$silent" 2>/dev/null
expect_eq "a silent control client does not block the next request" 0 "$rc"
check "...which is answered in ${elapsed_ms} ms, not after the 5 s silence" \
    test "$elapsed_ms" -lt 2500

# The built-in syslog collector, supervised like the others.
wait_until 5 test -S "$ROOT/dev/log"
logger --socket "$ROOT/dev/log" -t demo "hello from logger"
wait_until 5 grep -q "demo.*hello from logger" "$OUT"
check "logger output reaches airlock's stdout through the collector" \
    grep -q "demo.*hello from logger" "$OUT"
sys_pid=$("$AIRLOCK" status | awk '$1 == "syslogd" {print $4}')
kill -KILL "$sys_pid" 2>/dev/null || kill -KILL "$(pgrep -f 'airlock syslogd' | head -n 1)"
wait_until 5 bash -c "'$AIRLOCK' status | awk '\$1 == \"syslogd\" && \$2 == \"ready\" && \$4 != \"$sys_pid\" {f=1} END {exit !f}'"
logger --socket "$ROOT/dev/log" -t demo "after restart"
wait_until 5 grep -q "demo.*after restart" "$OUT"
check "a killed collector is restarted and collects again" \
    grep -q "demo.*after restart" "$OUT"
# PID 1 holds /dev/log: what is logged while the collector is down waits
# in the socket for the next one, instead of failing.
sys_pid=$("$AIRLOCK" status | awk '$1 == "syslogd" {print $4}')
kill -KILL "$sys_pid"
logger --socket "$ROOT/dev/log" -t demo "while it was down"
expect_eq "a message logged while the collector is down is accepted" 0 "$?"
wait_until 5 grep -q "demo.*while it was down" "$OUT"
check "...and reaches stdout once the collector is back" \
    grep -q "demo.*while it was down" "$OUT"

# Stop: services in reverse start order, each with its down signal.
: >"$STOPS"
kill -TERM "$APID"
wait "$BGPID"
rc=$?
expect_eq "airlock exits with the app's status" 0 "$rc"
order=$(tr '\n' ' ' <"$STOPS")
expect_eq "services stop in reverse start order with their down-signal" \
    "gamma-QUIT beta alpha " "$order"
check "the app was stopped before the services" grep -qx TERM "$T/app"

# An app that logs in its first instant: the collector is already there.
mkdir -p "$T/early/dev"
out=$(AIRLOCK_ROOT=$T/early pid1 -q --skip-startup-files -- \
    logger --socket "$T/early/dev/log" -t early "logged at once" 2>&1)
check "a message logged the moment the app starts is not lost" \
    grep -q "early: logged at once" <<<"$out"

finish
