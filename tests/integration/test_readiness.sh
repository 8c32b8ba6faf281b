#!/bin/bash
# Readiness and start order (issue 12): s6's notification-fd and runit's
# check script delay the app until the service is ready; a dependencies chain starts in
# order; cycles and unknown names are rejected with one line each; the
# app's wait is bounded by AIRLOCK_READY_TIMEOUT (and fails the start
# with AIRLOCK_READY_REQUIRED=yes).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

# --- notification-fd, and a dependency chain in order ---------------------
# Names sort against the order: a-third needs m-second, which needs
# z-first. Each records its start, and says it is ready 0.3 s later.
R=$T/chain
for pair in "z-first:" "m-second:z-first" "a-third:m-second"; do
    name=${pair%%:*}
    dep=${pair#*:}
    make_service "$R" "$name" "echo $name >>$T/order
sleep 0.3
date +%s%N >$T/$name.ready
echo >&3
exec sleep 1000"
    echo 3 >"$R/etc/service/$name/notification-fd"
    if [ -n "$dep" ]; then
        printf '# needs\n%s\n' "$dep" >"$R/etc/service/$name/dependencies"
    fi
done
run_bg "$R" chain --grace 2 -- sh -c "date +%s%N >$T/app.start; exec sleep 60"
wait_until 10 test -s "$T/app.start"
expect_eq "a dependency chain starts in order, each once the one before is ready" \
    "z-first m-second a-third " "$(tr '\n' ' ' <"$T/order")"
app=$(cat "$T/app.start")
last=$(cat "$T/a-third.ready" 2>/dev/null || echo 0)
echo "# app started $(((app - last) / 1000000)) ms after the last service was ready"
check "the app starts only once every service is ready (notification-fd)" \
    test "$last" -gt 0 -a "$app" -ge "$last"
check "readiness is logged" grep -q "service 'z-first': ready" "$T/chain.err"
status=$(AIRLOCK_ROOT=$R "$AIRLOCK" status 2>&1)
while IFS= read -r l; do echo "# $l"; done <<<"$status"
check "airlock status shows them ready" \
    grep -Eq "^a-third +ready +yes +[0-9]+ " <<<"$status"
json=$(AIRLOCK_ROOT=$R "$AIRLOCK" status --json 2>&1)
echo "# $json"
check "airlock status --json is JSON with every service's fields" \
    python3 -c '
import json, sys
d = json.loads(sys.argv[1])
s = {x["name"]: x for x in d["services"]}
assert d["all_ready"] is True, d
x = s["a-third"]
assert x["state"] == "ready" and x["ready"] is True and x["pid"] > 0, x
assert x["uptime_ms"] >= 0 and x["restarts"] == 0 and x["last_exit"] is None, x
assert x["critical"] is False, x
' "$json"
AIRLOCK_ROOT=$R "$AIRLOCK" wait-ready m-second --timeout 2
expect_eq "airlock wait-ready NAME: 0 for a ready service" 0 "$?"
AIRLOCK_ROOT=$R "$AIRLOCK" wait-ready --timeout 2
expect_eq "airlock wait-ready: 0 when every service is ready" 0 "$?"
AIRLOCK_ROOT=$R "$AIRLOCK" wait-ready nosuch 2>"$T/wr.err"
expect_eq "airlock wait-ready of an unknown name: 1" 1 "$?"
check "...saying so" grep -q "no service named 'nosuch'" "$T/wr.err"
stop_bg
expect_eq "...and the container stops as usual" 143 "$RC"

# --- runit's check script delays the app ---------------------------------
R=$T/check
make_service "$R" web "sleep 1; date +%s%N >$T/web.up; exec sleep 1000"
printf '#!/bin/sh\necho checked >>%s\ntest -s %s\n' "$T/web.checks" "$T/web.up" \
    >"$R/etc/service/web/check"
chmod +x "$R/etc/service/web/check"
run_bg "$R" check --grace 2 -- sh -c "date +%s%N >$T/check.app; exec sleep 60"
wait_until 10 test -s "$T/check.app"
up=$(cat "$T/web.up" 2>/dev/null || echo 0)
app=$(cat "$T/check.app" 2>/dev/null || echo 0)
stop_bg
echo "# check: $(lines "$T/web.checks") runs; the app started $(((app - up) / 1000000)) ms after the service was up"
check "readiness by check: the app waits until check exits 0" \
    test "$up" -gt 0 -a "$app" -ge "$up"
check "...check ran more than once before that" \
    test "$(lines "$T/web.checks")" -ge 2
check "...and readiness is logged" grep -q "service 'web': ready" "$T/check.err"

# --- cycles and unknown names: one line each, the rest runs --------------
R=$T/bad
make_service "$R" x1 "exec sleep 1000"
echo x2 >"$R/etc/service/x1/dependencies"
make_service "$R" x2 "exec sleep 1000"
echo x1 >"$R/etc/service/x2/dependencies"
make_service "$R" lost "exec sleep 1000"
echo nosuch >"$R/etc/service/lost/dependencies"
make_service "$R" fine "touch $T/fine.ran; exec sleep 1000"
AIRLOCK_READY_TIMEOUT=0.5 run_bg "$R" bad --grace 2 -- sleep 60
wait_until 5 test -e "$T/fine.ran"
wait_until 5 grep -q "starting the app anyway" "$T/bad.err"
stop_bg
check "a service in a dependency cycle is rejected with one line (x1)" \
    test "$(grep -c "service 'x1': its dependencies lead back to it" "$T/bad.err")" -eq 1
check "...and so is the other one (x2)" \
    test "$(grep -c "service 'x2': its dependencies lead back to it" "$T/bad.err")" -eq 1
check "an unknown dependency is rejected with one line naming it" \
    test "$(grep -c "service 'lost': dependency 'nosuch' is not a service" "$T/bad.err")" -eq 1
check "the valid services still run" test -e "$T/fine.ran"
check "rejected services are never started" \
    test "$(grep -cE "service '(x1|x2|lost)': started" "$T/bad.err")" -eq 0

# --- a service that is never ready: AIRLOCK_READY_TIMEOUT ----------------
R=$T/slow
make_service "$R" slow "exec sleep 1000"
echo 3 >"$R/etc/service/slow/notification-fd"
t0=$(date +%s%N)
AIRLOCK_READY_TIMEOUT=0.5 run_bg "$R" slow --grace 2 -- \
    sh -c "date +%s%N >$T/slow.app; exec sleep 60"
wait_until 5 test -s "$T/slow.app"
waited=$((($(cat "$T/slow.app" 2>/dev/null || echo "$t0") - t0) / 1000000))
t1=$(date +%s%N)
AIRLOCK_ROOT=$R "$AIRLOCK" wait-ready slow --timeout 0.5 2>"$T/wr.err"
rc=$?
wr_ms=$(ms_since "$t1")
stop_bg
expect_eq "airlock wait-ready NAME --timeout: 1 for one never ready" 1 "$rc"
check "...after the timeout ($wr_ms ms), naming its state" \
    test "$wr_ms" -ge 450 -a "$wr_ms" -lt 3000 -a \
    "$(cat "$T/wr.err")" = "airlock wait-ready: waiting: slow (up)"
check "AIRLOCK_READY_TIMEOUT: the app starts anyway after it ($waited ms)" \
    test "$waited" -ge 450 -a "$waited" -lt 4000
check "...with one line naming the laggard" \
    grep -q "services not ready after 500 ms: slow (up); starting the app anyway" \
    "$T/slow.err"

AIRLOCK_READY_TIMEOUT=0.3 AIRLOCK_READY_REQUIRED=yes run_bg "$R" required \
    --grace 2 -- sh -c "touch $T/required.app; exec sleep 60"
wait_exit "$BG" 10
expect_eq "AIRLOCK_READY_REQUIRED=yes: the start fails (status 1)" 1 "$RC"
check "...the app never ran" test ! -e "$T/required.app"
check "...and the line says why" \
    grep -q "services not ready after 300 ms: slow (up); not starting the app" \
    "$T/required.err"

finish
