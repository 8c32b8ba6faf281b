#!/bin/bash
# Service supervision through the state table (issue 12): a finish script
# that hangs is killed after timeout-finish and the service restarts;
# finish runs at container stop within the stop budget; a critical
# service going down stops the container with its status.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
CATCHER=$(dirname "$0")/catcher.py


# --- a finish script that hangs, then a stop while it hangs --------------
R=$T/hang
make_service "$R" hang "date +%s%N >>$T/hang.starts; exec sleep 0.2"
printf '#!/bin/sh\necho "finish $1 $2" >>%s\nexec sleep 1000\n' \
    "$T/hang.finish" >"$R/etc/service/hang/finish"
chmod +x "$R/etc/service/hang/finish"
echo 300 >"$R/etc/service/hang/timeout-finish"
# One more whose finish runs at the container stop, and hangs there.
make_service "$R" fin "exec sleep 1000"
printf '#!/bin/sh\necho "finish $1 $2" >>%s\nexec sleep 1000\n' \
    "$T/fin.finish" >"$R/etc/service/fin/finish"
chmod +x "$R/etc/service/fin/finish"

run_bg "$R" hang --grace 2 -- sleep 60
wait_until 10 test "$(lines "$T/hang.starts")" -ge 3
mapfile -t starts <"$T/hang.starts"
gap=$(((starts[1] - starts[0]) / 1000000))
echo "# hang: gap between the first two starts: $gap ms"
check "a hanging finish does not keep its service down (3 starts)" \
    test "${#starts[@]}" -ge 3
# 200 ms of run, 300 ms of finish until SIGKILL, 100 ms of backoff.
check "...it is restarted after timeout-finish ($gap ms >= 550)" \
    test "$gap" -ge 550 -a "$gap" -lt 3000
check "...and the SIGKILL is logged with the finish's time" \
    grep -q "service 'hang': finish script still running after 3[0-9][0-9] ms (its timeout-finish)" \
    "$T/hang.err"
check "finish gets the exit code and signal of the run" \
    grep -qx "finish 0 0" "$T/hang.finish"

# At the stop, fin's finish hangs: its timeout-finish (5 s by default) is
# cut to the stop's budget (2 s).
t0=$(date +%s%N)
kill -TERM "$AP"
wait_exit "$BG" 10
dt=$(ms_since "$t0")
echo "# stop with a hanging finish: $dt ms, status $RC"
grep -E "service '(fin|hang)'|stop budget" "$T/hang.err" | tail -n 8 | sed 's/^/# /'
expect_eq "airlock exits with the app's status" 143 "$RC"
check "a finish hanging at the stop ends with the budget ($dt ms, 2 s)" \
    test "$dt" -ge 1900 -a "$dt" -lt 3500
check "finish runs at the container stop, with the signal that ended it" \
    grep -qx "finish -1 15" "$T/fin.finish"
check "the stop's exit line says how long the stop took" \
    grep -Eq "service 'fin': killed by signal 15 \(TERM\) [0-9]+ ms after its down signal \(it ran [0-9]+ ms\)" \
    "$T/hang.err"

# --- runit's log/run: every line reaches the logger across restarts ---
# The service writes 40 numbered lines per run, then exits (and is
# restarted), but stays up after its third run; the logger takes 30 lines
# per run, then exits (and is restarted). Lines written while the logger
# is down wait in the pipe.
R=$T/logrun
make_service "$R" talk "n=\$(cat $T/talk.runs 2>/dev/null || echo 0)
echo \$((n + 1)) >$T/talk.runs
i=1; while [ \$i -le 40 ]; do echo \"run \$n line \$i\"; i=\$((i + 1)); done
echo 'to stderr' >&2
[ \$n -ge 2 ] && exec sleep 1000"
mkdir -p "$R/etc/service/talk/log"
# bash's read takes a pipe byte by byte, so it never reads past a line.
printf '#!/bin/bash
echo started >>%s
for _ in $(seq 1 30); do IFS= read -r l || exit 0; echo "$l" >>%s; done
echo "logger took 30"
' \
    "$T/logger.runs" "$T/logged" >"$R/etc/service/talk/log/run"
chmod +x "$R/etc/service/talk/log/run"
run_bg "$R" logrun --grace 3 -- sleep 60
wait_until 20 test "$(lines "$T/logged")" -ge 120
kill -TERM "$AP"
wait_exit "$BG" 10
expected=$(for n in 0 1 2; do for i in $(seq 1 40); do echo "run $n line $i"; done; done)
expect_eq "log/run: every line of 3 service runs reaches the logger, in order" \
    "$expected" "$(head -n 120 "$T/logged")"
check "...across restarts of the logger ($(lines "$T/logger.runs") runs)" \
    test "$(lines "$T/logger.runs")" -ge 4
check "the logger is supervised as 'talk/log', started before 'talk'" \
    test "$(grep -n "service 'talk/log': started" "$T/logrun.err" | head -n 1 | cut -d: -f1)" \
    -lt "$(grep -n "service 'talk': started" "$T/logrun.err" | head -n 1 | cut -d: -f1)"
check "the logger's own output is prefixed with its name" \
    grep -q "^talk/log: logger took 30$" "$T/logrun.out"
check "the service's stderr still goes to the container's output" \
    grep -q "^talk: to stderr$" "$T/logrun.out"
check "its stdout does not" \
    test "$(grep -c "^talk: run" "$T/logrun.out")" -eq 0
check "at the stop the logger is given end of input after its service" \
    grep -q "service 'talk/log': end of input" "$T/logrun.err"

# --- a shutdown hook that hangs is killed once, the loop does not spin ---
R=$T/hook
mkdir -p "$R/etc/airlock/shutdown.d"
printf '#!/bin/sh\ntrap "" TERM\ntouch %s\nwhile :; do sleep 0.1; done\n' \
    "$T/hook.ran" >"$R/etc/airlock/shutdown.d/10-hang"
chmod +x "$R/etc/airlock/shutdown.d/10-hang"
make_service "$R" svc "exec sleep 1000"
run_bg "$R" hook --grace 1 -- sleep 60
wait_until 5 grep -q "service 'svc': started" "$T/hook.err"
t0=$(date +%s%N)
kill -TERM "$AP"
wait_exit "$BG" 10
dt=$(ms_since "$t0")
echo "# a hook hanging past the 1 s budget: exit in $dt ms"
check "a hanging shutdown hook ran, and the stop ended with the budget ($dt ms)" \
    test -e "$T/hook.ran" -a "$dt" -lt 2500
check "...its SIGKILL is one line, not one per pass of the loop" \
    test "$(grep -c "shutdown hook exited with status 137" "$T/hook.err")" -eq 1 -a \
    "$(grep -c "stop budget of 1000 ms used up" "$T/hook.err")" -eq 1
check "...and the log stays short ($(wc -l <"$T/hook.err") lines)" \
    test "$(wc -l <"$T/hook.err")" -lt 20

# --- a critical service exiting 7 ----------------------------------------
R=$T/crit
make_service "$R" crit "sleep 0.5; exit 7"
touch "$R/etc/service/crit/critical"
make_service "$R" other "exec sleep 1000"
run_bg "$R" crit --grace 3 -e 7 -- python3 "$CATCHER" "$T/crit.app" 0
wait_exit "$BG" 15
expect_eq "a critical service exiting 7 stops the container; airlock exits 7" \
    7 "$RC"
check "...the app was stopped gracefully (it got SIGTERM)" \
    grep -qx TERM "$T/crit.app"
check "...and the log says why" \
    grep -q "critical service 'crit' is down for good (last status 7)" \
    "$T/crit.err"

# --- AIRLOCK_CRITICAL, a signal, and restarts allowed --------------------
R=$T/crit2
make_service "$R" sig "date +%s%N >>$T/sig.starts; sleep 0.2; kill -KILL \$\$"
AIRLOCK_CRITICAL=sig,nosuch AIRLOCK_CRITICAL_RESTARTS=2 run_bg "$R" crit2 \
    --grace 3 -- sleep 60
wait_exit "$BG" 15
expect_eq "AIRLOCK_CRITICAL: killed by SIGKILL, airlock exits 128+9" 137 "$RC"
expect_eq "...after AIRLOCK_CRITICAL_RESTARTS=2 restarts (3 runs)" \
    3 "$(lines "$T/sig.starts")"
check "an unknown name in AIRLOCK_CRITICAL is one line naming it" \
    test "$(grep -c "AIRLOCK_CRITICAL: no service named 'nosuch'" "$T/crit2.err")" -eq 1

# --- services only (no CMD): a critical service ends the container -------
R=$T/crit3
make_service "$R" job "exit 0"
AIRLOCK_CRITICAL=job run_bg "$R" crit3 --grace 3 --
wait_exit "$BG" 15
expect_eq "no app: a critical service that finishes ends airlock with 0" \
    0 "$RC"

finish
