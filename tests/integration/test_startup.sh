#!/bin/bash
# Startup scripts through the real build/airlock as PID 1: order across
# init.d, my_init.d and rc.local, a failing script stops the start (app not
# started, non-zero exit, the log names the script), skipped entries are
# logged, scripts get a clean signal mask, --skip-startup-files.
# Single quotes around $VARS are deliberate: the inner shells expand them.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

# run_airlock NAME ARGS...: airlock as PID 1 with AIRLOCK_ROOT=$T/NAME,
# stderr to $T/NAME.err; sets RC. Bounded by timeout.
run_airlock() {
    local name=$1
    shift
    RC=0
    AIRLOCK_ROOT=$T/$name AIRLOCK_SSH=off AIRLOCK_SYSLOG=off LOG=$T/$name.log \
        timeout -k 2 30 unshare --pid --fork --mount-proc --kill-child \
        "$AIRLOCK" "$@" 2>"$T/$name.err" || RC=$?
}

# script ROOT_NAME PATH BODY [MODE]: an executable that logs its name to
# $LOG, then runs BODY.
script() {
    local f=$T/$1$2
    mkdir -p "$(dirname "$f")"
    printf '#!/bin/sh\necho "$(basename "$0")" >> "$LOG"\n%s\n' "$3" >"$f"
    chmod "${4:-755}" "$f"
}

log_of() { cat "$T/$1.log" 2>/dev/null; }

# --- order: init.d (sorted), then my_init.d, then rc.local, then the app
script order /etc/airlock/init.d/20-b ''
script order /etc/airlock/init.d/10-a ''
script order /etc/airlock/init.d/15-readme '' 644
script order /etc/my_init.d/05-c ''
script order /etc/rc.local ''
run_airlock order -- sh -c 'echo app >> "$LOG"'
expect_eq "startup: scripts run in order, then the app" \
    "$(printf '10-a\n20-b\n05-c\nrc.local\napp')" "$(log_of order)"
expect_eq "startup: airlock exits with the app's status" 0 "$RC"
check "startup: a non-executable entry is skipped with a log line naming it" \
    grep -q "15-readme.*not executable" "$T/order.err"

# --- a failing script stops the start
script fail /etc/airlock/init.d/10-ok ''
script fail /etc/airlock/init.d/20-fail 'exit 7'
script fail /etc/airlock/init.d/30-never ''
script fail /etc/my_init.d/10-never ''
run_airlock fail -- sh -c 'echo app >> "$LOG"'
expect_eq "startup: scripts after a failure do not run, nor the app" \
    "$(printf '10-ok\n20-fail')" "$(log_of fail)"
check "startup: a failing script makes airlock exit non-zero" \
    test "$RC" -ne 0 -a "$RC" -ne 124 -a "$RC" -ne 137
check "startup: the log names the failed script and its status" \
    grep -q "20-fail.*status 7" "$T/fail.err"

# --- a script killed by a signal is a failure too (128+N)
script sig /etc/rc.local 'kill -KILL $$'
run_airlock sig -- sh -c 'echo app >> "$LOG"'
expect_eq "startup: app not started after a script died of a signal" \
    "rc.local" "$(log_of sig)"
check "startup: the log gives the signal and 128+N" \
    grep -q "rc.local.*signal 9.*137" "$T/sig.err"
check "startup: airlock exits non-zero after a signalled script" \
    test "$RC" -ne 0 -a "$RC" -ne 124

# --- a script cannot be executed (bad #! interpreter)
mkdir -p "$T/noexec/etc/airlock/init.d"
printf '#!/nonexistent/interpreter\n' >"$T/noexec/etc/airlock/init.d/10-bad"
chmod 755 "$T/noexec/etc/airlock/init.d/10-bad"
run_airlock noexec -- sh -c 'echo app >> "$LOG"'
expect_eq "startup: app not started when a script cannot be executed" \
    "" "$(log_of noexec)"
check "startup: the log says the script cannot be executed" \
    grep -q "cannot execute.*10-bad" "$T/noexec.err"

# --- scripts get a clean signal state although PID 1 blocks everything
# (read with builtins: a forked grep would see the shell inside its fork,
# where dash blocks every signal)
script mask /etc/airlock/init.d/10-mask \
    'while IFS= read -r l; do case $l in SigBlk:* | SigIgn:*)
        printf "%s\n" "$l" >> "$LOG";; esac; done < /proc/$$/status'
run_airlock mask -- true
expect_eq "startup: scripts run with no signal blocked or ignored" \
    "$(printf '10-mask\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000')" \
    "$(log_of mask)"

# --- --skip-startup-files
script skip /etc/airlock/init.d/10-a ''
script skip /etc/rc.local 'exit 1'
run_airlock skip --skip-startup-files -- sh -c 'echo app >> "$LOG"'
expect_eq "startup: --skip-startup-files runs the app only" "app" "$(log_of skip)"
expect_eq "startup: --skip-startup-files exit status is the app's" 0 "$RC"

# --- the app's exit status is not masked by the startup phase
script status /etc/airlock/init.d/10-a ''
run_airlock status -- sh -c 'exit 42'
expect_eq "startup: after scripts, airlock exits with the app's status" 42 "$RC"

# --- docker stop while a startup script runs: the script gets the SIGTERM,
# the start stops at once (not at Docker's SIGKILL 10 s later)
script stop /etc/airlock/init.d/10-slow \
    'trap '"'"'kill $pid; echo got-term >> "$LOG"; exit 0'"'"' TERM
sleep 30 & pid=$!
echo started >> "$LOG"
wait $pid'
script stop /etc/airlock/init.d/20-never ''
AIRLOCK_ROOT=$T/stop AIRLOCK_SSH=off AIRLOCK_SYSLOG=off LOG=$T/stop.log \
    unshare --pid --fork --mount-proc --kill-child \
    "$AIRLOCK" -- sh -c 'echo app >> "$LOG"' 2>"$T/stop.err" &
upid=$!
CLEANUP_PIDS+=("$upid")
if wait_until 10 grep -qs started "$T/stop.log"; then
    start=$(date +%s%N)
    kill -TERM "$(pgrep -P "$upid")"
    wait_until 10 eval '! kill -0 "$upid" 2>/dev/null'
    ms=$((($(date +%s%N) - start) / 1000000))
    RC=0
    wait "$upid" || RC=$?
    echo "# startup: airlock exited ${ms} ms after SIGTERM during a startup script"
    expect_eq "startup: SIGTERM during a script reaches it; nothing more starts" \
        "$(printf '10-slow\nstarted\ngot-term')" "$(log_of stop)"
    expect_eq "startup: SIGTERM during a script: exit status 128+15" 143 "$RC"
    check "startup: SIGTERM during a script: airlock gone within 2 s" \
        test "$ms" -lt 2000
    check "startup: SIGTERM during a script is logged with the script's name" \
        grep -q "signal 15.*10-slow" "$T/stop.err"
else
    not_ok "startup: SIGTERM during a script (the script never started)"
fi

# --- a script that could not be started at all --------------------------
# clone() refused (a seccomp or LSM policy; here an LD_PRELOAD shim): the
# script never ran, which must stop the start like a failure, never count
# as its success.
mkdir -p "$T/noclone/etc/my_init.d"
printf '#!/bin/sh\nexit 0\n' >"$T/noclone/etc/my_init.d/10-must-run"
chmod 755 "$T/noclone/etc/my_init.d/10-must-run"
RC=0
AIRLOCK_ROOT=$T/noclone AIRLOCK_SSH=off AIRLOCK_SYSLOG=off \
    timeout -k 2 30 unshare --pid --fork --mount-proc --kill-child \
    env LD_PRELOAD="$B/tests/helpers/failclone.so" "$AIRLOCK" -- \
    sh -c 'echo APP-RAN' >"$T/noclone.out" 2>"$T/noclone.err" || RC=$?
expect_eq "startup: a script that could not start stops the start (126)" 126 "$RC"
check "startup: ...the app never ran" test ! -s "$T/noclone.out"
check "startup: ...and the log says why" \
    grep -q "cannot execute '.*10-must-run': Operation not permitted" "$T/noclone.err"

finish
