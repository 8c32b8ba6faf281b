#!/bin/bash
# Runs every bench/*.sh but this one, report.sh and lib.sh, each with the
# build directory, one after the other (they would disturb each other's
# figures if run at once), goes on past a failing one, then makes the
# run's report: bench/results/DATE.{md,json,svg}, copied to
# bench/results/latest.{md,json,svg} (bench/report.sh).
#
# usage: bench/run.sh [BUILD_DIR]      (make bench does this)
# BENCH_ONLY=init,sshd   runs only these benches (default: all)
# BENCH_TIMEOUT          seconds each bench may take (default 900)
# BENCH_README=1         also puts the table of airlock's ratios into README.md
# BENCH_RESULTS=DIR      writes the report there instead of bench/results
# Benchmarks print figures and ratios; they are not tests and pass nothing.
set -u
B=${1:-build}
LIMIT=${BENCH_TIMEOUT:-900}
here=$(cd "$(dirname "$0")" && pwd)
ONLY=${BENCH_ONLY:-}

if [ "$(id -u)" != 0 ]; then
    echo "bench/run.sh: needs root (namespaces, cgroups)" >&2
    exit 1
fi
sh "$here/../tests/install-deps.sh" jq gnuplot-nox || exit 1

# One BENCH_OUT and one CPU-accounting cgroup for the whole run; the
# benches find both in their environment (bench/lib.sh).
BENCH_OUT=$(mktemp -d /tmp/airlock-bench-run.XXXXXX)
export BENCH_OUT
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bench_cpu_setup
trap 'bench_cpu_teardown; rm -rf "$BENCH_OUT"' EXIT
date -u '+%Y-%m-%d %H:%M:%S UTC' >"$BENCH_OUT/started"
cut -d' ' -f1-3 /proc/loadavg >"$BENCH_OUT/load-start"

summary=""
failed=0
start_all=$(date +%s)
for f in "$here"/*.sh; do
    name=$(basename "$f" .sh)
    case $name in run | report | lib) continue ;; esac
    if [ -n "$ONLY" ] && [[ ",$ONLY," != *",$name,"* ]]; then
        continue
    fi
    echo "=== bench/$name.sh $B"
    start=$(date +%s)
    BENCH_NAME=$name timeout -k 10 "$LIMIT" bash "$f" "$B"
    rc=$?
    took=$(($(date +%s) - start))
    case $rc in
    0) status="ran" ;;
    124 | 137) status="timed out after ${LIMIT} s" ;;
    *) status="failed (exit $rc)" ;;
    esac
    [ "$rc" -ne 0 ] && failed=$((failed + 1))
    summary="$summary$(printf '  %-12s %-28s %5s s' "$name.sh" "$status" "$took")
"
done
echo
echo "=== report"
bash "$here/report.sh" "$BENCH_OUT" ${BENCH_RESULTS:+"$BENCH_RESULTS"} || failed=$((failed + 1))
echo
echo "=== bench summary ($B, $(($(date +%s) - start_all)) s)"
printf '%s' "$summary"
[ "$failed" -eq 0 ]
