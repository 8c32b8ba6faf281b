#!/bin/bash
# The stop as a whole: one budget (--grace) from the signal to airlock's
# exit, however many processes ignore SIGTERM, and a PID 1 that never
# waits for its own stdout, even when nobody reads it.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

# term_and_time: SIGTERM to airlock ($AP), then waits (bounded) for the
# job $BG; sets rc (its status) and dt (ms from the signal to the exit).
term_and_time() {
    local t0
    t0=$(date +%s%N)
    kill -TERM "$AP"
    wait_exit "$BG" 10
    rc=$RC
    dt=$(ms_since "$t0")
}

# start_bg ROOT GRACE OUT ERR CMD...: airlock as PID 1 in the background
# (syslog off), stdout to OUT and stderr to ERR; sets BG and AP.
start_bg() {
    local root=$1 grace=$2 out=$3 err=$4
    shift 4
    AIRLOCK_ROOT=$root AIRLOCK_SYSLOG=off unshare --pid --fork --mount-proc \
        --kill-child "$AIRLOCK" --grace "$grace" -- "$@" >"$out" 2>"$err" &
    BG=$!
    CLEANUP_PIDS+=("$BG")
    AP=$(airlock_pid "$BG")
}

# --- a flooding service, and a stdout that nobody reads -------------------
R=$T/flood
make_service "$R" flood 'exec yes "flood line from a service that never stops"'
mkfifo "$T/fifo"
# The reader opens the FIFO and never reads from it.
# shellcheck disable=SC2217 # the point: it never reads
sleep 60 <"$T/fifo" &
READER=$!
CLEANUP_PIDS+=("$READER")
start_bg "$R" 2 "$T/fifo" "$T/fifo" sleep 1000
# Long enough for the pipe (64 KiB) and airlock's own buffer to fill.
sleep 1.5
term_and_time
echo "# stalled stdout: SIGTERM to exit in $dt ms, status $rc"
expect_eq "stdout never read: airlock still stops on SIGTERM (app status)" \
    143 "$rc"
check "stdout never read: ...within the 2 s grace plus 1 s" test "$dt" -lt 3000
kill "$READER" 2>/dev/null

# Lines still flow, whole and prefixed, when the reader is slow but reads.
R2=$T/slow
make_service "$R2" flood 'i=0; while [ $i -lt 3000 ]; do echo "line $i of a flood"; i=$((i+1)); done; exec sleep 60'
AIRLOCK_ROOT=$R2 AIRLOCK_SYSLOG=off unshare --pid --fork --mount-proc \
    --kill-child "$AIRLOCK" --grace 2 -- sleep 3 2>/dev/null |
    (sleep 1; cat) >"$T/slow.out"
expect_eq "slow reader: every line arrives" 3000 "$(grep -c '^flood: line [0-9]* of a flood$' "$T/slow.out")"
check "slow reader: no mixed or broken line" \
    bash -c "! grep -v '^flood: line [0-9]* of a flood$' '$T/slow.out' | grep -q ."

# --- the kill-all on a busy host -------------------------------------------
# With KILLALL_BUSY_TASKS (2000) tasks on the host airlock looks at the
# container's /proc before its kill(-1) (killall.c); on a quiet host it
# signals at once. The next two cases run with 2,100 sleeping threads held
# here, so that look, and what makes it trust or distrust the listing, is
# what they test.
/usr/bin/python3 -c '
import threading, time, sys
ev = threading.Event()
for _ in range(2100):
    threading.Thread(target=ev.wait, args=(60,), daemon=True).start()
print("up", flush=True)
time.sleep(60)' >"$T/busy.out" 2>&1 &
BUSY=$!
CLEANUP_PIDS+=("$BUSY")
wait_until 20 grep -q up "$T/busy.out"
tasks=$(cut -d' ' -f4 /proc/loadavg | cut -d/ -f2)
check "busy host: $tasks tasks, at least 2000" test "$tasks" -ge 2000

# --- a process that entered from outside (docker exec) -------------------
# Not a child of PID 1, so only the kill-all reaches it: airlock must not
# conclude from its own empty child list that nothing is left. airlock does
# not wait for such a process (an interactive shell ignores SIGTERM and
# would hold every stop for the whole grace), so the kernel's SIGKILL
# follows at once; but a fatal signal decides the exit status when it is
# sent, so a plain `sleep` (no handler) tells which came first: 143 for
# airlock's SIGTERM, 137 for the kernel's SIGKILL alone. nsenter passes its
# child's death by signal on as its own.
R3=$T/exec
mkdir -p "$R3"
start_bg "$R3" 3 "$T/exec.out" "$T/exec.err" sleep 1000
nsenter --target "$AP" --pid --mount -- sleep 1000 &
NSE=$!
CLEANUP_PIDS+=("$NSE")
wait_until 5 pgrep -f -x 'sleep 1000' -P "$NSE" >/dev/null
term_and_time
wait_exit "$NSE" 5
expect_eq "docker exec'd process: airlock exits with the app's status" 143 "$rc"
expect_eq "docker exec'd process: it got SIGTERM from the stop (143, not 137)" \
    143 "$RC"

# --- /proc mounted hidepid=ptraceable, PID 1 without CAP_SYS_PTRACE -----
# /proc then hides another user's processes from airlock: an empty listing
# must not make it skip the kill-all. The app leaves a daemon running as
# nobody that writes a file on SIGTERM; the stop must reach it at once.
R4=$T/hidepid
mkdir -p "$R4"
chmod 777 "$R4"
t0=$(date +%s%N)
AIRLOCK_ROOT=$R4 AIRLOCK_SYSLOG=off AIRLOCK_SSH=off AIRLOCK=$AIRLOCK \
    timeout -k 2 30 unshare --pid --fork --mount --kill-child sh -c '
    mount -t proc -o hidepid=4 proc /proc || exit 99
    exec setpriv --bounding-set=-sys_ptrace "$AIRLOCK" --grace 5 -- sh -c "
        setpriv --reuid 65534 --regid 65534 --clear-groups setsid sh -c \"
            trap \\\"echo term >$0/hid.term; exit 0\\\" TERM
            echo up >$0/hid.up
            while :; do sleep 0.1; done\" &
        i=0; while [ ! -s $0/hid.up ] && [ \$i -lt 250 ]; do sleep 0.02; i=\$((i+1)); done"
    ' "$R4" >"$T/hid.out" 2>"$T/hid.err"
rc=$?
dt=$(ms_since "$t0")
echo "# hidepid=4: airlock exited $rc after $dt ms"
check "hidepid=4, no CAP_SYS_PTRACE: the hidden daemon got SIGTERM" \
    grep -q term "$R4/hid.term"
check "hidepid=4, no CAP_SYS_PTRACE: ...and the stop did not wait out the grace" \
    test "$dt" -lt 4000

kill "$BUSY" 2>/dev/null
wait "$BUSY" 2>/dev/null

# --- one budget: the app and two services ignore SIGTERM ------------------
R3=$T/stubborn
make_service "$R3" one "trap '' TERM; while :; do sleep 0.1; done"
make_service "$R3" two "trap '' TERM; while :; do sleep 0.1; done"
start_bg "$R3" 2 "$T/stubborn.out" "$T/stubborn.err" \
    sh -c "trap '' TERM; touch '$T/app.ready'; while :; do sleep 0.1; done"
wait_until 5 test -e "$T/app.ready"
sleep 0.3
term_and_time
echo "# app + 2 services ignoring SIGTERM, --grace 2: exit in $dt ms, status $rc"
expect_eq "stubborn app: killed at the end of the budget (137)" 137 "$rc"
check "app + 2 stubborn services: exit within the 2 s budget plus 0.5 s" \
    test "$dt" -lt 2500
check "the budget's end is logged once" \
    test "$(grep -c 'stop budget of 2000 ms used up' "$T/stubborn.err")" -eq 1

# A stopped app (SIGSTOP, or Ctrl-Z in an app that is no shell) gets
# SIGCONT with its stop signal, so it acts on it at once (tini: 143).
start_bg "$T/stopped" 5 /dev/null /dev/null \
    sh -c "touch '$T/stopped.ready'; kill -STOP \$\$; sleep 100"
wait_until 5 test -e "$T/stopped.ready"
app_stopped() { ps -o stat= -p "$(pgrep -P "$AP" | head -n 1)" 2>/dev/null | grep -q '^T'; }
check "the app stopped itself (state T)" wait_until 5 app_stopped
term_and_time
echo "# stopped app: SIGTERM to exit in $dt ms, status $rc"
expect_eq "stopped app: it gets SIGCONT with SIGTERM and exits 143" 143 "$rc"
check "stopped app: at once, not after the 5 s grace" test "$dt" -lt 1000

# A service ignoring its signal does not starve the next of its turn.
R4=$T/turns
make_service "$R4" a-polite "trap 'echo polite-term >>$T/turns.log; exit 0' TERM; while :; do sleep 0.1; done"
make_service "$R4" b-deaf "trap '' TERM; while :; do sleep 0.1; done"
AIRLOCK_ROOT=$R4 AIRLOCK_SYSLOG=off unshare --pid --fork --mount-proc \
    --kill-child "$AIRLOCK" --grace 2 -- sleep 0.5 >/dev/null 2>&1
expect_eq "after a deaf service, the next still gets its down signal" \
    polite-term "$(cat "$T/turns.log" 2>/dev/null)"

finish
