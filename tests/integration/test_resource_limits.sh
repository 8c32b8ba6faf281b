#!/bin/bash
# PID 1 under resource exhaustion: fork failing with EAGAIN under a pids
# limit (a cgroup's pids.max) and EMFILE under a small fd limit. airlock
# must log, retry, keep the app's status, and never crash or hang.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

ROOT=$T/root
SVC=$ROOT/etc/service
mkdir -p "$SVC"
export AIRLOCK_ROOT=$ROOT AIRLOCK_SYSLOG=off

for name in a b; do
    mkdir -p "$SVC/$name"
    printf '#!/bin/sh\nexec sleep 30\n' >"$SVC/$name/run"
    chmod +x "$SVC/$name/run"
done
mkdir -p "$SVC/crash"
printf '#!/bin/sh\nexit 1\n' >"$SVC/crash/run"
chmod +x "$SVC/crash/run"

# --- EAGAIN from fork: a pids cgroup ---------------------------------------
CG=/sys/fs/cgroup/pids
if [ -d "$CG" ] && mkdir "$CG/airlock-test-$$" 2>/dev/null; then
    CGD=$CG/airlock-test-$$
    # The interpreter itself, not a wrapper that would fork on its own.
    PY=$(python3 -c 'import sys; print(sys.executable)')
    # unshare, airlock, 3 services and the app just fit; the app's extra
    # children and the crashing service's restarts will not.
    echo 6 >"$CGD/pids.max"
    start_ns=$(date +%s%N)
    (
        echo "$BASHPID" >"$CGD/cgroup.procs"
        exec unshare --pid --fork --mount-proc --kill-child "$AIRLOCK" --grace 1 -- \
            "$PY" -c '
import os, sys, time
time.sleep(0.5)
failed = 0
for i in range(8):
    try:
        if os.fork() == 0:
            time.sleep(2)
            os._exit(0)
    except OSError:
        failed += 1
print("app: %d forks failed" % failed, flush=True)
time.sleep(1)
sys.exit(3)'
    ) >"$T/pids.out" 2>&1
    rc=$?
    elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
    expect_eq "pids limit: airlock survives and keeps the app's status" 3 "$rc"
    check "pids limit: a failed fork is logged with the reason" \
        grep -q "Resource temporarily unavailable" "$T/pids.out"
    check "pids limit: the app itself met the limit too" \
        grep -Eq "app: [1-8] forks failed" "$T/pids.out"
    grep -E "airlock.*(Resource|fork)" "$T/pids.out" | head -n 3 | sed 's/^/# /'
    check "pids limit: the crashing service is retried, not given up" \
        test "$(grep -c "service 'crash'" "$T/pids.out")" -ge 2
    check "pids limit: no hang (done in ${elapsed_ms} ms)" test "$elapsed_ms" -lt 20000
    # The cgroup is empty once everything exited.
    wait_until 5 bash -c "[ -z \"\$(cat $CGD/cgroup.procs)\" ]"
    rmdir "$CGD" 2>/dev/null
else
    ok "pids limit: no writable pids cgroup here; case not run"
fi

# --- EMFILE: a tiny fd limit ---------------------------------------------
out=$(bash -c "ulimit -n 6; exec unshare --pid --fork --mount-proc --kill-child \
    '$AIRLOCK' --grace 1 -- sh -c 'sleep 0.5; exit 4'" 2>&1)
rc=$?
expect_eq "fd limit: airlock survives and keeps the app's status" 4 "$rc"
check "fd limit: running out of fds is logged with the reason" \
    grep -q "Too many open files" <<<"$out"

finish
