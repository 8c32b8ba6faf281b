#!/bin/bash
# The init itself, run as PID 1 of a fresh PID namespace: exit statuses,
# the orphan storm, signal forwarding, graceful stop, grace escalation,
# subreaper mode, bad flags, a clean child, and the terminal.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

export AIRLOCK_ROOT=$T/root AIRLOCK_SYSLOG=off
mkdir -p "$AIRLOCK_ROOT"

# --- exit status propagation -------------------------------------------
for code in 0 1 42 255; do
    pid1 -q -- sh -c "exit $code"
    expect_eq "exit status $code is propagated" "$code" "$?"
done
pid1 -q -- sh -c 'kill -USR1 $$'
expect_eq "death by SIGUSR1 gives 128+10" 138 "$?"
pid1 -q -- sh -c 'kill -KILL $$'
expect_eq "death by SIGKILL gives 128+9" 137 "$?"
pid1 -q -- /nonexistent/program
expect_eq "a missing program gives 127" 127 "$?"
printf '#!/bin/sh\n' >"$T/noexec"
chmod 644 "$T/noexec"
pid1 -q -- "$T/noexec"
expect_eq "a non-executable program gives 126" 126 "$?"

# --- the zombie storm ------------------------------------------------------
out=$(pid1 -q -- "$B/tests/helpers/orphans" 10000 1000)
expect_eq "10,000 orphans exiting at once leave no zombie after 1 s" \
    "zombies=0" "$out"

# --- the app's process is clean --------------------------------------------
out=$(pid1 -q -- sh -c 'grep -E "^Sig(Blk|Ign)" /proc/self/status; ls /proc/self/fd | sort -n | tr "\n" " "')
check "the app starts with no blocked signal" \
    grep -q "SigBlk:	0000000000000000" <<<"$out"
check "the app starts with no ignored signal" \
    grep -q "SigIgn:	0000000000000000" <<<"$out"
# The app gets what airlock inherited (here, whatever this script has
# open) and none of airlock's own fds: the same list as without airlock.
bare=$(unshare --pid --fork --mount-proc sh -c 'ls /proc/self/fd | sort -n | tr "\n" " "')
expect_eq "the app gets airlock's inherited fds and none of its own" \
    "$bare" "$(tail -n 1 <<<"$out")"

out=$(bash -c "trap '' QUIT TERM; exec '$AIRLOCK' -q -- grep SigIgn /proc/self/status")
expect_eq "signals the runtime ignored are reset for the app" \
    "SigIgn:	0000000000000000" "$out"

# --- signal forwarding -----------------------------------------------------
# The app records each signal it gets; SIGTERM last, which also ends it.
CATCHER=$(dirname "$0")/catcher.py

# Starts airlock in the background; sets APID to airlock's pid (outside
# the namespace) once its app has reported ready.
start_bg() {
    local ready=$1
    shift
    unshare --pid --fork --mount-proc --kill-child "$AIRLOCK" "$@" &
    BGPID=$!
    CLEANUP_PIDS+=("$BGPID")
    wait_until 10 test -s "$ready" || return 1
    APID=$(pgrep -P "$BGPID" | head -n 1)
    [ -n "$APID" ]
}

sigs=$T/sigs
start_bg "$sigs.ready" -q -- python3 "$CATCHER" "$sigs" 0
for s in HUP QUIT USR1 USR2 WINCH CONT; do
    kill -s "$s" "$APID"
    wait_until 5 grep -qx "$s" "$sigs"
    check "SIG$s sent to airlock reaches the app" grep -qx "$s" "$sigs"
done
# Job-control stops are not for PID 1: it must keep reaping.
kill -TSTP "$APID"
kill -TTIN "$APID"
sleep 0.2
state=$(awk '{print $3}' "/proc/$APID/stat")
check "SIGTSTP/SIGTTIN to airlock do not stop it (state $state)" test "$state" != T
kill -TERM "$APID"
wait "$BGPID"
rc=$?
check "SIGTERM sent to airlock reaches the app" grep -qx TERM "$sigs"
expect_eq "airlock exits with the app's status after SIGTERM" 0 "$rc"

# SIGINT (Ctrl-C on docker run) is forwarded and, like SIGTERM, stops.
start_bg "$T/int.ready" -q -- python3 "$CATCHER" "$T/int" 5
kill -INT "$APID"
wait "$BGPID"
rc=$?
check "SIGINT sent to airlock reaches the app" grep -qx INT "$T/int"
expect_eq "airlock exits with the app's status after SIGINT" 5 "$rc"

# --group: the signal reaches every process of the app's group.
grp=$T/grp
start_bg "$grp-child.ready" -q --group -- bash -c \
    "python3 '$CATCHER' '$grp-child' 0 & exec python3 '$CATCHER' '$grp-parent' 0"
wait_until 5 test -s "$grp-parent.ready"
kill -USR1 "$APID"
wait_until 5 grep -qx USR1 "$grp-child"
wait_until 5 grep -qx USR1 "$grp-parent"
check "--group: the app gets the signal" grep -qx USR1 "$grp-parent"
check "--group: the app's child gets the signal" grep -qx USR1 "$grp-child"
kill -TERM "$APID"
wait "$BGPID"
check "--group: SIGTERM reaches the whole group" grep -qx TERM "$grp-child"

# Without --group only the app itself gets it.
solo=$T/solo
start_bg "$solo-child.ready" -q -- bash -c \
    "python3 '$CATCHER' '$solo-child' 0 & exec python3 '$CATCHER' '$solo-parent' 0"
wait_until 5 test -s "$solo-parent.ready"
kill -USR1 "$APID"
wait_until 5 grep -qx USR1 "$solo-parent"
sleep 0.2
check "no --group: the app's child is not signalled" \
    test ! -s "$solo-child"
kill -TERM "$APID"
wait "$BGPID"

# --- every catchable signal, --rewrite, the stop signal --------------------
# A bash app that records the signals it traps; a stop signal (QUIT here)
# ends it a little later, so the SIGCONT that follows is recorded too.
cat >"$T/traps.sh" <<'EOF'
#!/bin/bash
out=$1
for s in ALRM PIPE RTMIN+2 CONT USR2 HUP; do
    trap "echo $s >>$out" "$s"
done
trap 'echo TERM >>$out; exit 0' TERM
trap 'echo QUIT >>$out; quit=1' QUIT
echo ready >"$out.ready"
quit=
while [ -z "$quit" ]; do sleep 0.05; done
sleep 0.3
exit 0
EOF
traps=$T/traps
start_bg "$traps.ready" -q -- bash "$T/traps.sh" "$traps"
for s in ALRM PIPE RTMIN+2; do
    kill -s "$s" "$APID"
    wait_until 5 grep -qx "$s" "$traps"
    check "SIG$s sent to airlock reaches the app's trap" grep -qx "$s" "$traps"
done
kill -TERM "$APID"
wait "$BGPID"
check "SIGTERM still stops the app" grep -qx TERM "$traps"

rm -f "$traps" "$traps.ready"
start_bg "$traps.ready" -q --rewrite TERM:QUIT --rewrite USR1:USR2 \
    --rewrite HUP:0 -- bash "$T/traps.sh" "$traps"
kill -USR1 "$APID"
kill -HUP "$APID"
wait_until 5 grep -qx USR2 "$traps"
check "--rewrite USR1:USR2 delivers USR2" grep -qx USR2 "$traps"
kill -TERM "$APID"
wait "$BGPID"
rc=$?
check "--rewrite TERM:QUIT: the app gets QUIT on stop" grep -qx QUIT "$traps"
check "--rewrite TERM:QUIT: the app does not get TERM" \
    test "$(grep -cx TERM "$traps")" = 0
check "--rewrite HUP:0: HUP is dropped" test "$(grep -cx HUP "$traps")" = 0
expect_eq "--rewrite TERM:QUIT: the app's status" 0 "$rc"

rm -f "$traps" "$traps.ready"
AIRLOCK_STOP_SIGNAL=QUIT start_bg "$traps.ready" -q -- \
    bash "$T/traps.sh" "$traps"
kill -TERM "$APID" # what docker stop sends
wait "$BGPID"
rc=$?
check "AIRLOCK_STOP_SIGNAL=QUIT: docker stop's SIGTERM reaches the app as QUIT" \
    grep -qx QUIT "$traps"
check "AIRLOCK_STOP_SIGNAL=QUIT: SIGCONT follows the stop signal" \
    grep -qx CONT "$traps"
check "AIRLOCK_STOP_SIGNAL=QUIT: no TERM" test "$(grep -cx TERM "$traps")" = 0
expect_eq "AIRLOCK_STOP_SIGNAL=QUIT: the app's status" 0 "$rc"

# -e: Java exits 143 on SIGTERM; the container should report success.
pid1 -q -e 143 -- sh -c 'kill -TERM $$'
expect_eq "-e 143 maps an app killed by SIGTERM to 0" 0 "$?"
pid1 -q --exit-zero 3 -e 143 -- sh -c 'exit 4'
expect_eq "-e leaves other codes alone" 4 "$?"
pid1 -q -e 127 -- /nonexistent/program
expect_eq "-e maps the app's status only, not airlock's 127" 127 "$?"

# glibc's 32 and 33 cannot be trapped by the app; they must not kill
# airlock either when it is not PID 1 (a default disposition would).
"$AIRLOCK" -q -- sleep 0.5 &
spid=$!
CLEANUP_PIDS+=("$spid")
sleep 0.2
kill -s 32 "$spid"
kill -s 33 "$spid"
wait "$spid"
expect_eq "signals 32/33 neither kill airlock nor reach the app" 0 "$?"

# airlock's own SIGPIPE (a log line to a closed stderr) is not the app's,
# and dropping it must not log (that write would raise the next one).
rm -f "$T/ownpipe"
start_ns=$(date +%s%N)
timeout 10 unshare --pid --fork --mount-proc --kill-child "$AIRLOCK" -v -- \
    sh -c "trap 'echo PIPE >>$T/ownpipe' PIPE; sleep 0.5; echo done >>$T/ownpipe" \
    2>&1 | true
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
expect_eq "airlock's own SIGPIPE does not reach the app" "done" \
    "$(cat "$T/ownpipe" 2>/dev/null)"
check "a closed stderr does not make airlock spin (${elapsed_ms} ms)" \
    test "$elapsed_ms" -lt 5000

# -p KILL: airlock (not PID 1) dies with its parent, as with tini -p.
bash -c "'$AIRLOCK' -q -p KILL -- sleep 30 & echo \$! >'$T/pd.pid'
         sleep 0.3; pgrep -P \$! >'$T/pd.app'; exit 0"
pd=$(cat "$T/pd.pid")
CLEANUP_PIDS+=("$(cat "$T/pd.app")")
gone() { ! [ -d "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat")" = Z ]; }
check "-p KILL: airlock gets SIGKILL when its parent dies" wait_until 5 gone "$pd"
kill -KILL "$(cat "$T/pd.app")" 2>/dev/null

# -p TERM: the parent's death is a graceful stop; the app gets SIGTERM.
rm -f "$T/pdterm"
bash -c "'$AIRLOCK' -q -p TERM -- bash -c 'trap \"echo TERM >$T/pdterm; exit 0\" TERM
             while :; do sleep 0.05; done' & echo \$! >'$T/pd.pid'
         sleep 0.3; exit 0"
pd=$(cat "$T/pd.pid")
check "-p TERM: the app gets SIGTERM when airlock's parent dies" \
    wait_until 5 test -s "$T/pdterm"
check "-p TERM: airlock then exits" wait_until 5 gone "$pd"

# --- inherited fds reach the app (socket activation), LISTEN_PID follows --
# A root with a service and a startup script that record their fds, so
# the one-time checks below also show what they inherit.
FDROOT=$T/fdroot
mkdir -p "$FDROOT/etc/service/fdcheck" "$FDROOT/etc/airlock/init.d"
cat >"$FDROOT/etc/service/fdcheck/run" <<EOF
#!/bin/sh
ls /proc/self/fd | sort -n | tr '\n' ' ' >"$T/svc.fds.tmp"
mv "$T/svc.fds.tmp" "$T/svc.fds"
exec sleep 30
EOF
cat >"$FDROOT/etc/airlock/init.d/10-fds" <<EOF
#!/bin/sh
ls /proc/self/fd | sort -n | tr '\n' ' ' >"$T/startup.fds"
EOF
chmod +x "$FDROOT/etc/service/fdcheck/run" "$FDROOT/etc/airlock/init.d/10-fds"
# What a child sees with no inherited fd of its own: 0 1 2 and ls's 3.
only_stdio="0 1 2 3 "

# The app: waits (bounded) for the service's record, then reports the
# target of fd 5, LISTEN_PID against its own pid, and whether PID 1 still
# holds the marker file open.
cat >"$T/fdapp.sh" <<'EOF'
#!/bin/sh
i=0
while [ ! -s "$1/svc.fds" ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
echo "fd5=$(readlink /proc/self/fd/5)"
echo "listen_pid=$LISTEN_PID self=$$"
n=0
for f in /proc/1/fd/*; do
    [ "$(readlink "$f")" = "$1/marker" ] && n=$((n + 1))
done
echo "pid1_holds_marker=$n"
EOF
: >"$T/marker"
rm -f "$T/svc.fds" "$T/startup.fds"
out=$(LISTEN_PID=1 LISTEN_FDS=3 AIRLOCK_ROOT=$FDROOT pid1 -q -- \
    sh "$T/fdapp.sh" "$T" 5<"$T/marker")
app_pid=$(sed -n 's/^listen_pid=.* self=//p' <<<"$out")
expect_eq "an inherited fd 5 reaches the app" "fd5=$T/marker" \
    "$(grep '^fd5=' <<<"$out")"
expect_eq "LISTEN_PID=1 (airlock) becomes the app's pid" \
    "listen_pid=$app_pid self=$app_pid" "$(grep '^listen_pid=' <<<"$out")"
expect_eq "airlock closes its copy once the app has it" \
    "pid1_holds_marker=0" "$(grep '^pid1_holds_marker=' <<<"$out")"
expect_eq "a service gets only fds 0-2" "$only_stdio" "$(cat "$T/svc.fds" 2>/dev/null)"
expect_eq "a startup script gets only fds 0-2" "$only_stdio" \
    "$(cat "$T/startup.fds" 2>/dev/null)"

# LISTEN_PID for another process is left alone (the fds were not ours).
out=$(LISTEN_PID=12345 pid1 -q -- sh -c 'echo "$LISTEN_PID"')
expect_eq "LISTEN_PID naming another process is not rewritten" 12345 "$out"

# systemd's own activator: it listens, then execs airlock (not PID 1
# here, a subreaper) with the socket at fd 3 and LISTEN_PID=airlock's pid.
# The app serves one connection on that socket and reports what it got.
cat >"$T/sa-app.py" <<'EOF'
import os, socket, sys
s = socket.socket(fileno=3)
c, _ = s.accept()
fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))
c.sendall(("pid=%d listen_pid=%s listen_fds=%s fd3_listening=%d\n" % (
    os.getpid(), os.environ.get("LISTEN_PID"), os.environ.get("LISTEN_FDS"),
    s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))).encode())
c.close()
EOF
cat >"$T/sa.sh" <<'EOF'
T=$1 AIRLOCK=$2
ip link set lo up || exit 1
rm -f "$T/svc.fds" "$T/startup.fds"
systemd-socket-activate -l 127.0.0.1:8123 -E AIRLOCK_ROOT -E AIRLOCK_SYSLOG \
    "$AIRLOCK" -q -- python3 "$T/sa-app.py" 2>/dev/null &
for _ in $(seq 250); do
    { exec 3<>/dev/tcp/127.0.0.1/8123; } 2>/dev/null && break
    sleep 0.02
done
timeout 10 cat <&3
wait
EOF
if command -v systemd-socket-activate >/dev/null; then
    out=$(AIRLOCK_ROOT=$FDROOT timeout 30 unshare --net --pid --fork \
        --mount-proc bash "$T/sa.sh" "$T" "$AIRLOCK")
    sa_pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' <<<"$out")
    check "systemd-socket-activate: the app serves on the activated fd 3 ($out)" \
        grep -q "fd3_listening=1" <<<"$out"
    check "systemd-socket-activate: LISTEN_PID is the app's pid" \
        grep -q "^pid=$sa_pid listen_pid=$sa_pid listen_fds=1 " <<<"$out"
    expect_eq "systemd-socket-activate: a service gets only fds 0-2" \
        "$only_stdio" "$(cat "$T/svc.fds" 2>/dev/null)"
    expect_eq "systemd-socket-activate: a startup script gets only fds 0-2" \
        "$only_stdio" "$(cat "$T/startup.fds" 2>/dev/null)"
else
    not_ok "systemd-socket-activate is not installed (make deps)"
fi

# --- -q and -v reach the built-in services -----------------------------
mkdir -p "$T/qroot"
# The collector starts at the first message (on demand): wake.sh logs one
# and waits (bounded) until the collector runs, then prints its
# AIRLOCK_LOG_LEVEL.
cat >"$T/wake.sh" <<'EOF'
#!/bin/sh
logger --socket "$AIRLOCK_ROOT/dev/log" wake
i=0
while [ $i -lt 100 ]; do
    for p in /proc/[0-9]*; do
        case "$(tr "\0" " " <$p/cmdline 2>/dev/null)" in
        *" syslogd "*) tr "\0" "\n" <$p/environ | grep "^AIRLOCK_LOG_LEVEL="; exit 0 ;;
        esac
    done
    sleep 0.05
    i=$((i + 1))
done
echo "collector not found"
EOF
chmod 755 "$T/wake.sh"
out=$(AIRLOCK_ROOT=$T/qroot AIRLOCK_SYSLOG=on pid1 -q -- sh -c '"$0"; sleep 0.3' "$T/wake.sh" 2>&1)
check "-q: the collector started at the first message" \
    grep -qx "AIRLOCK_LOG_LEVEL=error" <<<"$out"
check "-q: the syslog collector logs no info line" \
    test "$(grep -c 'airlock-syslogd.*: info:' <<<"$out")" = 0
out=$(AIRLOCK_ROOT=$T/qroot AIRLOCK_SYSLOG=on pid1 -v -- \
    sh -c '"$0"; echo app:${AIRLOCK_LOG_LEVEL:-unset}' "$T/wake.sh" 2>&1)
check "-v: the syslog collector runs at debug" grep -qx "AIRLOCK_LOG_LEVEL=debug" <<<"$out"
check "-v: the app's environment is left as it was" grep -qx "app:unset" <<<"$out"

# --- graceful stop: the app and an orphaned daemon both flush --------------
cat >"$T/daemon.sh" <<'EOF'
#!/bin/bash
# Leaves an orphaned daemon that flushes a marker file on SIGTERM.
dir=$1
bash -c "trap 'sleep 0.3; echo flushed >$dir/daemon.out; exit 0' TERM
         echo up >$dir/daemon.up
         while :; do sleep 0.05; done" &
disown
trap "sleep 0.2; echo flushed >$dir/app.out; exit 0" TERM
while [ ! -s "$dir/daemon.up" ]; do sleep 0.02; done
echo ready >"$dir/ready"
while :; do sleep 0.05; done
EOF
chmod +x "$T/daemon.sh"
mkdir -p "$T/stop"
start_bg "$T/stop/ready" -q --grace 10 -- bash -c "bash $T/daemon.sh $T/stop & wait"
start_ns=$(date +%s%N)
kill -TERM "$APID"
wait "$BGPID"
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
check "SIGTERM: the app flushed its marker" grep -qx flushed "$T/stop/app.out"
check "SIGTERM: the orphaned daemon flushed its marker" \
    grep -qx flushed "$T/stop/daemon.out"
echo "# graceful stop took $elapsed_ms ms with a 10 s grace"
check "SIGTERM: airlock exits as soon as all are gone, not after the grace" \
    test "$elapsed_ms" -lt 5000

# --- grace escalation ---------------------------------------------------------
start_bg "$T/stubborn.ready" -q --grace 0.5 -- \
    bash -c "trap '' TERM; echo ready >$T/stubborn.ready; sleep 30 & wait; exit 0"
start_ns=$(date +%s%N)
kill -TERM "$APID"
wait "$BGPID"
rc=$?
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
expect_eq "an app ignoring SIGTERM is SIGKILLed (status 137)" 137 "$rc"
check "SIGKILL comes after the grace, not before" test "$elapsed_ms" -ge 500
check "SIGKILL comes soon after the grace" test "$elapsed_ms" -lt 5000

# Kill-all after the app exits: a leftover process ignoring SIGTERM.
start_ns=$(date +%s%N)
pid1 -q --grace 0.5 -- bash -c 'bash -c "trap \"\" TERM; sleep 30" & sleep 0.2; exit 7'
rc=$?
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
expect_eq "a stubborn leftover is killed and the app's status kept" 7 "$rc"
check "the leftover got the grace period first" test "$elapsed_ms" -ge 600

# --no-kill-all-on-exit: airlock exits as soon as the app does.
start_ns=$(date +%s%N)
pid1 -q --grace 5 --no-kill-all-on-exit -- bash -c 'bash -c "trap \"\" TERM; sleep 30" & exit 3'
rc=$?
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
expect_eq "--no-kill-all-on-exit keeps the status" 3 "$rc"
check "--no-kill-all-on-exit does not wait for leftovers" test "$elapsed_ms" -lt 3000

# --- subreaper mode, not PID 1 ---------------------------------------------
cat >"$T/sub.sh" <<'EOF'
#!/bin/bash
dir=$1
bash -c "sleep 30 & echo \$! >$dir/orphan"
sleep 0.2
awk '/^PPid:/ {print $2}' "/proc/$(cat "$dir/orphan")/status" >"$dir/ppid"
EOF
mkdir -p "$T/sub"
"$AIRLOCK" -q -- bash "$T/sub.sh" "$T/sub" &
spid=$!
CLEANUP_PIDS+=("$spid")
wait "$spid"
rc=$?
expect_eq "subreaper mode: exit status" 0 "$rc"
expect_eq "subreaper mode: the orphan is reparented to airlock" \
    "$spid" "$(cat "$T/sub/ppid" 2>/dev/null)"
check "subreaper mode: the orphan was stopped before airlock exited" \
    test ! -d "/proc/$(cat "$T/sub/orphan" 2>/dev/null)"

# --- bad flags and variables --------------------------------------------
bad_case() {
    local name=$1
    shift
    rm -f "$T/started"
    "$@" -- touch "$T/started" 2>"$T/err"
    local rc=$?
    if [ "$rc" -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && [ ! -e "$T/started" ]; then
        ok "$name: exit 2, one line, nothing started ($(cat "$T/err"))"
    else
        not_ok "$name: rc=$rc, stderr: $(cat "$T/err")"
    fi
}
bad_case "unknown flag" "$AIRLOCK" --bogus
bad_case "bad --grace" "$AIRLOCK" --grace soon
bad_case "negative --grace" "$AIRLOCK" --grace=-1
bad_case "bad AIRLOCK_GRACE" env AIRLOCK_GRACE=5x "$AIRLOCK"
bad_case "bad AIRLOCK_LOG_LEVEL" env AIRLOCK_LOG_LEVEL=loud "$AIRLOCK"
bad_case "bad AIRLOCK_SIGNAL_GROUP" env AIRLOCK_SIGNAL_GROUP=maybe "$AIRLOCK"
bad_case "bad AIRLOCK_STOP_SIGNAL" env AIRLOCK_STOP_SIGNAL=SIGNOPE "$AIRLOCK"
bad_case "bad --rewrite" "$AIRLOCK" --rewrite TERM
bad_case "--rewrite of SIGKILL" "$AIRLOCK" --rewrite KILL:TERM
bad_case "bad -e" "$AIRLOCK" -e 300
bad_case "bad -p" "$AIRLOCK" -p NOPE
check "--help exits 0 and shows usage" bash -c "'$AIRLOCK' --help | grep -q Usage"
check "--version exits 0" bash -c "'$AIRLOCK' --version | grep -q '^airlock '"

# --- the terminal: Ctrl-C reaches an interactive child ---------------------
out=$(timeout 20 python3 "$(dirname "$0")/pty_ctrl_c.py" \
    unshare --pid --fork --mount-proc "$AIRLOCK" -q -- \
    python3 -c '
import os, signal, sys, time
signal.signal(signal.SIGINT, lambda *a: (print("GOT-SIGINT fg=%d" % (os.tcgetpgrp(0) == os.getpgrp()), flush=True), sys.exit(0)))
print("READY", flush=True)
time.sleep(10)
print("NO-SIGINT", flush=True)
' 2>&1)
check "a TTY: the app owns the foreground group and Ctrl-C reaches it" \
    grep -q "GOT-SIGINT fg=1" <<<"$out"

# --- a run dir left by an earlier start, or shipped wide by an image -----
# The control socket replaces a stale one, and the run dir is made 0700
# whatever mode it had.
R=$T/stale_run
mkdir -p "$R/run/airlock"
chmod 755 "$R/run/airlock"
/usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])' "$R/run/airlock/control.sock"
out=$(AIRLOCK_ROOT=$R AIRLOCK_SYSLOG=off AIRLOCK_SSH=off timeout 20 \
    unshare --pid --fork --mount-proc --kill-child "$AIRLOCK" -- sh -c \
    'stat -c %a "$AIRLOCK_ROOT/run/airlock"; "$0" status >/dev/null && echo status-ok' \
    "$AIRLOCK" 2>"$T/stale_run.err")
expect_eq "stale run dir: made 0700, and airlock status answers through a new socket" \
    "700 status-ok" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"

finish
