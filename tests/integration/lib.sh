#!/bin/bash
# Shared helpers for integration tests. A test script sources this, calls
# `check NAME CMD...` or `ok`/`not_ok` per case, and ends with `finish`.
# Every wait is bounded; everything started is killed in the EXIT trap.

set -u
B=${AIRLOCK_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../build" && pwd)}
AIRLOCK=$B/airlock
TESTS_PASSED=0
TESTS_FAILED=0
T=$(mktemp -d /tmp/airlock-it.XXXXXX)
chmod 755 "$T"
CLEANUP_PIDS=()

cleanup() {
    local p
    for p in "${CLEANUP_PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT

ok() {
    echo "ok $*"
    TESTS_PASSED=$((TESTS_PASSED + 1))
}

not_ok() {
    echo "not ok $*"
    TESTS_FAILED=$((TESTS_FAILED + 1))
}

# check NAME CMD...: one case, passed when CMD succeeds.
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
    if [ "$2" = "$3" ]; then
        ok "$1"
    else
        not_ok "$1 (expected '$2', got '$3')"
    fi
}

# wait_until SECONDS CMD...: polls CMD every 20 ms until it succeeds or the
# time runs out; the status says which.
wait_until() {
    local limit=$1 i
    shift
    for ((i = 0; i < limit * 50; i++)); do
        "$@" && return 0
        sleep 0.02
    done
    return 1
}

# Runs airlock as PID 1 of a new PID namespace with a private /proc.
pid1() {
    unshare --pid --fork --mount-proc --kill-child "$AIRLOCK" "$@"
}

# make_service ROOT NAME BODY: ROOT/etc/service/NAME whose run script is
# BODY (sh).
make_service() {
    mkdir -p "$1/etc/service/$2"
    printf '#!/bin/sh\n%s\n' "$3" >"$1/etc/service/$2/run"
    chmod +x "$1/etc/service/$2/run"
}

# ms_since START_NS: milliseconds from START_NS (date +%s%N) to now.
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# airlock_pid BGPID: airlock's pid (the child of unshare), bounded wait.
airlock_pid() {
    local p=""
    for _ in $(seq 1 250); do
        p=$(pgrep -P "$1" | head -n 1)
        [ -n "$p" ] && break
        sleep 0.02
    done
    echo "$p"
}

# wait_exit PID SECONDS: waits (bounded) for a background job of this
# shell; sets RC to its status, or 255 when it still runs after SECONDS.
# shellcheck disable=SC2034 # RC is for the sourcing script
wait_exit() {
    local i
    for ((i = 0; i < $2 * 50; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.02
    done
    if kill -0 "$1" 2>/dev/null; then
        RC=255
        return
    fi
    wait "$1"
    RC=$?
}

finish() {
    echo "# $(basename "$0"): $TESTS_PASSED passed, $TESTS_FAILED failed"
    [ "$TESTS_FAILED" -eq 0 ]
}

# run_bg ROOT NAME ARGS...: airlock as PID 1 in the background, syslog
# off, stdout/stderr to $T/NAME.out/.err; sets BG and AP.
run_bg() {
    local root=$1 name=$2
    shift 2
    AIRLOCK_ROOT=$root AIRLOCK_SYSLOG=off unshare --pid --fork --mount-proc \
        --kill-child "$AIRLOCK" "$@" >"$T/$name.out" 2>"$T/$name.err" &
    BG=$!
    CLEANUP_PIDS+=("$BG")
    AP=$(airlock_pid "$BG")
}

lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# stop_bg: SIGTERM to airlock, bounded wait; sets RC.
stop_bg() {
    kill -TERM "$AP" 2>/dev/null
    wait_exit "$BG" 10
}
