#!/bin/bash
# A phusion/baseimage-style image run unchanged: airlock as /sbin/my_init
# (with my_init's flags and `-- CMD`), /etc/my_init.d, a run script that
# uses `exec /sbin/setuser nobody ...`, `sv status|down|up|restart|stop|
# start`, and /etc/my_init.pre_shutdown.d and post_shutdown.d run at their
# points of the stop, inside its one budget. /sbin/my_init, /sbin/setuser
# and /sbin/sv are the built binaries, shown in /usr/sbin (/sbin with
# merged /usr) by an overlay mount in the test's own mount namespace.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "# test_phusion.sh needs root (mount and PID namespaces)"
    exit 1
fi

ROOT=$T/root
export AIRLOCK_ROOT=$ROOT
mkdir -p "$ROOT/etc/my_init.d" "$ROOT/etc/service/web" "$ROOT/dev" \
    "$ROOT/etc/my_init.pre_shutdown.d" "$ROOT/etc/my_init.post_shutdown.d" \
    "$ROOT/etc/airlock/shutdown.d" "$T/extra" "$T/bin"
for l in my_init sv; do ln -s "$AIRLOCK" "$T/extra/$l"; done
ln -s "$B/setuser" "$T/extra/setuser"
ln -s "$AIRLOCK" "$T/bin/sv"
SV=$T/bin/sv
ORDER=$T/order

# script PATH BODY: an executable sh script.
script() {
    printf '#!/bin/sh\n%s\n' "$2" >"$1"
    chmod +x "$1"
}

script "$ROOT/etc/my_init.d/10-hello" "echo initd >>$ORDER"
script "$ROOT/etc/service/web/run" "exec 2>&1
exec /sbin/setuser nobody sh -c 'echo \"web runs as \$(id -un)\"; exec sleep 60'"
# A service with runit's log/run, as phusion images have: its stdout goes
# to its logger.
mkdir -p "$ROOT/etc/service/logged/log"
script "$ROOT/etc/service/logged/run" "exec sh -c 'echo logged-line; exec sleep 60'"
script "$ROOT/etc/service/logged/log/run" "exec cat >>$T/logged.log"
# Pre: after the app (as my_init: the main command is stopped first), while
# the services still run; post: the service must be gone.
script "$ROOT/etc/my_init.pre_shutdown.d/10-first" \
    "echo \"pre1 app=\$(pgrep -xf \"/bin/sh $T/app phusion-app\" >/dev/null && echo up || echo gone) web=\$(pgrep -u nobody -x sleep >/dev/null && echo up || echo gone)\" >>$ORDER"
script "$ROOT/etc/my_init.pre_shutdown.d/20-second" "echo pre2 >>$ORDER"
script "$ROOT/etc/airlock/shutdown.d/10-mid" "echo mid >>$ORDER"
script "$ROOT/etc/my_init.post_shutdown.d/10-last" \
    "echo \"post web=\$(pgrep -u nobody -x sleep >/dev/null && echo up || echo gone)\" >>$ORDER"
# The app: records SIGTERM, exits 0.
script "$T/app" "trap 'echo app-term >>$ORDER; exit 0' TERM
: phusion-app
touch $T/app.ready
while :; do sleep 0.05; done"

# in_image CMD...: CMD as PID 1 of new PID and mount namespaces in which
# /sbin/my_init, /sbin/setuser and /sbin/sv exist. Run in a subshell (&
# or $()), which it replaces: PID 1 is then a child of the job's pid.
in_image() {
    exec unshare --mount --propagation private --pid --fork --mount-proc \
        --kill-child sh -c \
        'mount -t overlay overlay -o "lowerdir=$0:/usr/sbin" /usr/sbin &&
         exec "$@"' "$T/extra" "$@"
}

AIRLOCK_GRACE=3 in_image /sbin/my_init --quiet -- "$T/app" phusion-app \
    >"$T/out" 2>"$T/err" &
BGPID=$!
CLEANUP_PIDS+=("$BGPID")
check "my_init --quiet -- CMD: the app runs" wait_until 10 test -e "$T/app.ready"
check "/etc/my_init.d ran before the app" grep -qx initd "$ORDER"
check "a run script's 'exec /sbin/setuser nobody ...' runs as nobody" \
    wait_until 10 grep -q '^web: web runs as nobody$' "$T/out"
check "--quiet: no info lines" test "$(grep -c ': info: ' "$T/err")" -eq 0
check "log/run: the service's output reaches its logger" \
    wait_until 10 grep -qsx logged-line "$T/logged.log"
out=$("$SV" status logged)
check "sv status logged: runit's line with its logger ('$out')" \
    grep -qE '^run: logged: \(pid [0-9]+\) [0-9]+s; run: log: \(pid [0-9]+\) [0-9]+s$' <<<"$out"
APID=$(airlock_pid "$BGPID")

status_re='^run: web: \(pid [0-9]+\) [0-9]+s$'
out=$("$SV" status web)
rc=$?
check "sv status web: runit's format ('$out')" grep -qE "$status_re" <<<"$out"
expect_eq "sv status web: exit 0" 0 "$rc"
pid1=$(sed -E 's/.*\(pid ([0-9]+)\).*/\1/' <<<"$out")
out=$("$SV" status /etc/service/web/)
check "sv status /etc/service/web/ (a directory) names web" grep -qE "$status_re" <<<"$out"
out=$("$SV" status nope)
rc=$?
check "sv status nope: 'fail: nope: ...' ($out)" grep -q '^fail: nope: ' <<<"$out"
expect_eq "sv status nope: exit 1 (one failed)" 1 "$rc"
"$SV" status web nope nope2 >/dev/null
expect_eq "sv status with two unknown: exit 2" 2 "$?"
"$SV" frobnicate web >/dev/null 2>&1
expect_eq "sv with an unknown command: exit 100" 100 "$?"

out=$("$SV" down web)
rc=$?
expect_eq "sv down web: no output, exit 0" "0:" "$rc:$out"
down_re='^down: web: [0-9]+s, normally up$'
check "sv down web: down (runit's format)" \
    wait_until 5 bash -c "'$SV' status web | grep -qE '$down_re'"
sleep 1.5
out=$("$SV" status web)
check "sv down web: still down 1.5 s later, not restarted ($out)" \
    grep -qE "$down_re" <<<"$out"
check "sv down web: its process is gone" bash -c "! pgrep --ns $APID -u nobody -x sleep >/dev/null"

"$SV" up web
expect_eq "sv up web: exit 0" 0 "$?"
check "sv up web: running again" wait_until 5 bash -c "'$SV' status web | grep -qE '$status_re'"
pid2=$("$SV" status web | sed -E 's/.*\(pid ([0-9]+)\).*/\1/')
check "sv up web: a new pid ($pid1 -> $pid2)" test "$pid1" != "$pid2"

out=$("$SV" restart web)
rc=$?
check "sv restart web: 'ok: run: web: (pid N) ...' with a new pid ($out)" \
    bash -c "grep -qE '^ok: run: web: \(pid [0-9]+\) [0-9]+s$' <<<'$out' && ! grep -q '(pid $pid2)' <<<'$out'"
expect_eq "sv restart web: exit 0" 0 "$rc"
out=$("$SV" stop web)
rc=$?
check "sv stop web: 'ok: down: web: ...' ($out)" grep -qE '^ok: down: web: [0-9]+s, normally up$' <<<"$out"
expect_eq "sv stop web: exit 0" 0 "$rc"
out=$("$SV" start web)
rc=$?
check "sv start web: 'ok: run: web: ...' ($out)" grep -qE '^ok: run: web: ' <<<"$out"
expect_eq "sv start web: exit 0" 0 "$rc"

# The stop, in my_init's order: the app, the pre-shutdown hooks (the
# service still up), airlock's shutdown.d, the services, the post-shutdown
# hooks (the service gone), all within the 3 s budget.
start=$(date +%s%N)
kill -TERM "$APID"
wait_exit "$BGPID" 10
took=$(ms_since "$start")
expect_eq "the stop: my_init exits with the app's status" 0 "$RC"
expect_eq "the stop: hooks in order around the app and the services" \
    "initd app-term pre1 app=gone web=up pre2 mid post web=gone" "$(xargs <"$ORDER")"
check "the stop: within the 3 s budget (${took} ms)" test "$took" -lt 3000

# A pre-shutdown hook that hangs is bounded by the same budget: SIGKILL at
# its end; the app had already stopped, and its status stands.
: >"$ORDER"
script "$ROOT/etc/my_init.pre_shutdown.d/20-second" "echo pre2 >>$ORDER; exec sleep 30"
rm -f "$T/app.ready"
AIRLOCK_GRACE=1 in_image /sbin/my_init --quiet -- "$T/app" phusion-app \
    >"$T/out2" 2>"$T/err2" &
BGPID=$!
CLEANUP_PIDS+=("$BGPID")
wait_until 10 test -e "$T/app.ready"
APID=$(airlock_pid "$BGPID")
start=$(date +%s%N)
kill -TERM "$APID"
wait_exit "$BGPID" 10
took=$(ms_since "$start")
check "a hanging pre-shutdown hook: the stop still ends in 1 s + 2 s of reaping (${took} ms)" \
    test "$took" -lt 3500
check "a hanging pre-shutdown hook: the budget's end is said" \
    grep -q 'stop budget of 1000 ms used up' "$T/err2"
expect_eq "a hanging pre-shutdown hook: the app's own status (0)" 0 "$RC"
check "a hanging pre-shutdown hook: the app had its SIGTERM first" grep -qx app-term "$ORDER"

# my_init's flags.
out=$(in_image /sbin/my_init --enable-insecure-key 2>&1)
rc=$?
expect_eq "my_init --enable-insecure-key: refused, exit 2" 2 "$rc"
expect_eq "my_init --enable-insecure-key: one line" 1 "$(wc -l <<<"$out")"
check "my_init --enable-insecure-key: saying why ($out)" \
    grep -q 'published private key' <<<"$out"
out=$(in_image /sbin/my_init --skip-runit 2>&1)
expect_eq "my_init --skip-runit without a command: exit 2" 2 "$?"
: >"$ORDER"
out=$(in_image /sbin/my_init --skip-startup-files --skip-runit --no-kill-all-on-exit \
    -- sh -c 'echo "app $0"; exit 7' arg 2>&1)
rc=$?
expect_eq "my_init --skip-startup-files --skip-runit -- CMD: the app's status" 7 "$rc"
check "--skip-startup-files: /etc/my_init.d not run" bash -c "! grep -q initd '$ORDER'"
check "--skip-runit: no service started" bash -c "! grep -q '^web:' <<<'$out'"
check "my_init -- CMD ARGS: the app gets its arguments" grep -qx 'app arg' <<<"$out"
"$AIRLOCK" --enable-insecure-key -- true 2>/dev/null
expect_eq "as airlock, --enable-insecure-key is an unknown option (exit 2)" 2 "$?"

finish
