#!/bin/sh
# Runs every bench/*.sh but this one, each with the build directory, one
# after the other (they would disturb each other's figures if run at once),
# goes on past a failing one and ends with a summary of which ran.
#
# usage: bench/run.sh [BUILD_DIR]      (make bench does this)
# BENCH_TIMEOUT: seconds each bench may take (default 900), then it is killed.
# Benchmarks print figures and ratios; they are not tests and pass nothing.
set -u
B=${1:-build}
LIMIT=${BENCH_TIMEOUT:-900}
here=$(cd "$(dirname "$0")" && pwd)
summary=""
failed=0
for f in "$here"/*.sh; do
    name=$(basename "$f")
    [ "$name" = run.sh ] && continue
    [ -f "$f" ] || continue
    echo "=== bench/$name $B"
    start=$(date +%s)
    timeout -k 10 "$LIMIT" bash "$f" "$B"
    rc=$?
    took=$(($(date +%s) - start))
    case $rc in
    0) status="ran" ;;
    124 | 137) status="timed out after ${LIMIT} s" ;;
    *) status="failed (exit $rc)" ;;
    esac
    [ "$rc" -ne 0 ] && failed=$((failed + 1))
    summary="$summary$(printf '  %-12s %-28s %5s s' "$name" "$status" "$took")
"
done
echo
echo "=== bench summary ($B)"
printf '%s' "$summary"
[ "$failed" -eq 0 ]
